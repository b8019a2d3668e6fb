-- heap_paths.lua: what still holds an object, for checks that want none
-- held. held(pred, root) walks everything reachable from root (tables:
-- their metatable and their keys and values, as strong as the metatable's
-- __mode leaves them; functions: upvalues and environment; coroutines: the
-- functions and the named locals of their frames; full userdata: metatable
-- and environment, or first user value) and returns, for each object pred
-- accepts, a record {obj = it, path = "how it was reached"}: the first path
-- found, breadth first. Only what Lua's debug library shows is seen: a stale slot of a
-- frame, a C reference outside the registry, a LuaJIT trace's constant
-- are not. open_lua_net_object(v) is the predicate both users give it:
-- whether v is an open lua-net socket (of net.Socket or a class derived
-- from it) or poll set. Used at the end of the busted suite
-- (spec/lua/helper.lua) and by the nginx worker's handlers
-- (spec/nginx/openresty_app.lua).
local type, next, tostring = type, next, tostring
local getmetatable, getupvalue, getinfo, getlocal =
    debug.getmetatable, debug.getupvalue, debug.getinfo, debug.getlocal
local getfenv = debug.getfenv or function() return nil end -- (5.1/LuaJIT only)
local getuservalue = debug.getuservalue or getfenv -- (5.2+: a userdata's first user value)

local WALKED = {table = true, ['function'] = true, thread = true, userdata = true}

local function label(v)
    if type(v) == 'string' then return ('[%q]'):format(v:sub(1, 60)) end
    return '[' .. tostring(v) .. ']'
end

local function held(pred, root)
    local parent, how, queue, head = {}, {}, {}, 1
    local function reach(v, from, step)
        if WALKED[type(v)] and parent[v] == nil then
            parent[v], how[v] = from, step
            queue[#queue + 1] = v
        end
    end
    -- the walk's own tables are not paths (the running coroutine's frames
    -- hold them)
    parent[parent], parent[how], parent[queue] = false, false, false
    reach(root, false, 'root')
    while head <= #queue do
        local v = queue[head]
        head = head + 1
        local t = type(v)
        if t == 'table' or t == 'userdata' then
            local mt = getmetatable(v)
            reach(mt, v, '<metatable>')
            if t == 'userdata' then
                reach(getuservalue(v), v, '<user value>')
            else
                local mode = mt and type(mt.__mode) == 'string' and mt.__mode or ''
                local weak_k, weak_v = mode:find('k', 1, true), mode:find('v', 1, true)
                for k, x in next, v do
                    if not weak_k then reach(k, v, '<key of ' .. label(x) .. '>') end
                    if not weak_v then reach(x, v, label(k)) end
                end
            end
        elseif t == 'function' then
            local i = 1
            while true do
                local name, x = getupvalue(v, i)
                if not name then break end
                reach(x, v, '<upvalue ' .. name .. '>')
                i = i + 1
            end
            reach(getfenv(v), v, '<environment>')
        else -- a coroutine
            local level = 0
            while true do
                local info = getinfo(v, level, 'fSl')
                if not info then break end
                local at = info.short_src .. ':' .. tostring(info.currentline)
                reach(info.func, v, '<frame ' .. at .. '>')
                local i = 1
                while true do
                    local name, x = getlocal(v, level, i)
                    if not name then break end
                    reach(x, v, '<local ' .. name .. ' at ' .. at .. '>')
                    i = i + 1
                end
                level = level + 1
            end
        end
    end
    local found = {}
    for i = 1, #queue do
        local v = queue[i]
        if pred(v) then
            local steps, at = {}, v
            while at do
                steps[#steps + 1] = how[at]
                at = parent[at]
            end
            local path = {}
            for j = #steps, 1, -1 do path[#path + 1] = steps[j] end
            found[#found + 1] = {obj = v, path = table.concat(path, ' ')}
        end
    end
    return found
end

-- The classes are taken when this module loads (the busted helper loads it
-- before any spec file): busted unloads the modules a spec file loaded when
-- the file ends, and a net.poll loaded again later would have a Poll class
-- of its own, not the one of the sets the file made.
local Socket, Poll = require('net').Socket, require('net.poll').Poll
local is_a = require('net.util.class').is_a
local function open_lua_net_object(v)
    if type(v) ~= 'table' then return false end
    local fd = rawget(v, 1)
    if type(fd) ~= 'number' or fd < 0 then return false end
    return is_a(v, Socket) or getmetatable(v) == Poll
end

return {held = held, open_lua_net_object = open_lua_net_object}
