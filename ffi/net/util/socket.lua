-- Where socket objects are made: an instance of a class owning one fd,
-- which close() or the garbage collector closes, exactly once. Kept out of
-- the classes so that no method on a socket can make another one.
--
-- A socket object is a table: [1] the fd (-1 once closed), _guard its
-- collector guard, and whatever its class adds. The fd sits in the array
-- part, not in a named field, because the C fast paths of net.capi read it
-- on every send and recv (src/lua/methods.c): an integer key is the cheapest
-- lookup the Lua C API has (lua_rawgeti), a string key costs 280 more
-- instructions per W1 round trip on Lua 5.4.
local core = require('net.core')

local setmetatable, guard = setmetatable, core.guard

local M = {}

function M.adopt(cls, fd)
    return setmetatable({fd, _guard = guard(fd)}, cls)
end

return M
