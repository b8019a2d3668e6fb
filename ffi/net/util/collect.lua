-- net.util.collect: a descriptor given back when its owner is dropped
-- without closing it. net.poll's sets and net.openresty's per-worker epoll
-- set hold one each (net_poll_close also frees libnet's memory of a set).
local setmetatable, getmetatable = setmetatable, getmetatable
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

-- box, guard: box = {fd}, or the table box given with box[1] = fd; when
-- guard is collected (its owner holds it), close(box[1]) runs unless
-- box[1] < 0: the fd was closed by M.close, and the number may be another
-- descriptor's by the time the collector runs. The guard leaves box[1] -1:
-- an owner that is its own box (a net.poll set) reads closed from then on,
-- also to a finalizer of the same collection that still reaches it.
function M.guard(fd, close, box)
    box = box or {}
    box[1] = fd
    return box, on_collect(function()
        if box[1] >= 0 then
            close(box[1])
            box[1] = -1
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
