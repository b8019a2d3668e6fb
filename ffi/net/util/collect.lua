-- net.util.collect: a descriptor given back when its owner is dropped
-- without closing it. net.poll's sets and net.openresty's per-worker epoll
-- set hold one each (net_poll_close also frees libnet's memory of a set).
local setmetatable, getmetatable, next = setmetatable, getmetatable, next
local newproxy = newproxy -- luacheck: ignore 113 (5.1 and LuaJIT)

local M = {}

-- An object whose collection calls fn: newproxy on 5.1/LuaJIT, a table
-- __gc on 5.2+.
local function on_collect(fn)
    if newproxy then
        local proxy = newproxy(true)
        getmetatable(proxy).__gc = fn
        return proxy
    end
    return setmetatable({}, {__gc = fn})
end
M.on_collect = on_collect

-- box, guard: box = {fd}; when guard is collected (its owner holds it),
-- close(box[1]) runs unless box[1] < 0: the fd was closed by M.close, and
-- the number may be another descriptor's by the time the collector runs.
-- owner (a net.poll set, holding the fd at [1] too): its [1] is made -1
-- then, so that a finalizer of the same collection that still reaches it
-- finds it closed, never acting on the number's next holder. The guard
-- holds it by a weak key, which keeps such a resurrected owner for the
-- collection while an owner nothing reaches is gone: a strong reference
-- would revive it, and what it holds (its sockets), for one more cycle.
local WEAK_KEYS = {__mode = 'k'}
function M.guard(fd, close, owner)
    local box = {fd}
    local owners = owner and setmetatable({[owner] = true}, WEAK_KEYS)
    return box, on_collect(function()
        if box[1] >= 0 then
            close(box[1])
            box[1] = -1
            local o = owners and next(owners)
            if o then o[1] = -1 end
        end
    end)
end

-- Closes box's fd now (close's result), so that the guard has nothing to
-- close later.
function M.close(box, close)
    local fd = box[1]
    box[1] = -1
    return close(fd)
end

return M
