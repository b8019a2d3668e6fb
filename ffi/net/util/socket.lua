-- Where socket objects are made: an instance of a class owning one fd,
-- which close() or the garbage collector closes, exactly once. Kept out of
-- the classes so that no method on a socket can make another one.
local core = require('net.core')

local setmetatable, guard = setmetatable, core.guard

local M = {}

function M.adopt(cls, fd)
    return setmetatable({_fd = fd, _guard = guard(fd)}, cls)
end

return M
