-- W1's loop (bench/lua/impl/net.lua) under LuaJIT with the FFI backend, with
-- the trace events recorded: run by spec/lua/jit_spec.lua in a process of
-- its own, so that no earlier spec has compiled (or blacklisted) the hot
-- paths already. Prints one line per trace event of interest:
--   stop <tab> file:line <tab> link       a trace compiled, where it
--                                          started, and how it ends
--                                          ('loop': it loops to its start)
--   abort <tab> file:line <tab> reason <tab> start file:line
--                                          a trace aborted: where, why, and
--                                          where the trace had started
-- then "done <tab> rounds".
local jutil = require('jit.util')
local vmdef = require('jit.vmdef')
local stream = require('net.stream')
local Buffer = require('net.buffer')
assert(require('net.core').backend == 'ffi', 'run with NET_BACKEND=ffi')

local ROUNDS = tonumber(arg and arg[1]) or 5000

-- file:line of a bytecode position; a builtin (a fast function such as
-- tonumber) has none: "builtin <name>", as jit.v says it.
local function where(func, pc)
    local info = jutil.funcinfo(func, pc)
    if info.source then
        return info.source:gsub('^@', '') .. ':' .. tostring(info.currentline or info.linedefined)
    elseif info.ffid then
        return 'builtin ' .. tostring(vmdef.ffnames[info.ffid])
    end
    return '?'
end

-- The reason as jit.v words it: traceerr's format with its argument.
local function reason(code, info)
    local text = vmdef.traceerr[code] or ('trace error ' .. tostring(code))
    if type(info) == 'number' then
        if text:find('bytecode') then
            local name = vmdef.bcnames:sub(info * 6 + 1, info * 6 + 6):gsub(' +$', '')
            return (text:gsub('%%d', name))
        end
        return (text:gsub('%%d', tostring(info)))
    elseif type(info) == 'function' then
        return (text:gsub('%%s', where(info, 0)))
    end
    return text
end

local events, started = {}, {}
local function on_trace(what, tr, func, pc, code, info)
    if what == 'start' then
        started[tr] = where(func, pc)
    elseif what == 'stop' then
        events[#events + 1] = 'stop\t' .. tostring(started[tr]) .. '\t' .. tostring(jutil.traceinfo(tr).linktype)
    elseif what == 'abort' then
        events[#events + 1] = 'abort\t' .. where(func, pc) .. '\t' .. reason(code, info)
            .. '\t' .. tostring(started[tr])
    end
end

jit.on()
jit.flush()
jit.attach(on_trace, 'trace')

local pair = assert(stream.pair())
local a, b = pair[1], pair[2]
local msg, other = ('a'):rep(64), ('b'):rep(64)
local buf = assert(Buffer.new(64))
for i = 1, ROUNDS do
    -- W1: 64 bytes there and back
    assert(a:send(msg) == 64)
    local s = b:recv(64)
    assert(s and b:send(s) == 64)
    assert(a:recv(64) == msg, i)
    -- the same through a buffer: recvinto and send(buf)
    assert(a:send(msg) == 64)
    buf:clear()
    assert(b:recvinto(buf) == 64)
    assert(b:send(buf) == 64)
    assert(a:recv(64) == msg)
    -- option getters
    assert(a:rcvbuf() > 0 and a:sndbuf() > 0)
    assert(a:nonblock() == false and a:rcvtimeo() == 0 and a:keepalive() == false)
    msg, other = other, msg
end

jit.attach(on_trace)
a:close()
b:close()
for _, e in ipairs(events) do print(e) end
print('done\t' .. ROUNDS)
