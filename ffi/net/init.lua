-- net: the base socket class (net.Socket), the platform constants, and
-- wrapping an existing descriptor. Written once over net.core; runs the same
-- on LuaJIT (FFI) and PUC Lua 5.1-5.4 (C API).
local core = require('net.core')
local args = require('net.util.args')
local result = require('net.util.result')
local socket = require('net.util.socket')
local Socket = require('net.socket')
-- Loaded for their classes: each registers its socket type for net.wrap.
require('net.stream')

local pairs = pairs
local strerror = core.strerror
local INT_MAX = args.INT_MAX

local net = {}
for name, value in pairs(core.constants) do
    net[name] = value
end

net.Socket = Socket

-- A socket object that owns fd from now on (close() or the collector closes
-- it), of the class registered for its type (net.stream.Socket for a stream
-- socket), net.Socket for any other.
function net.wrap(fd)
    args.integer('wrap', 1, fd)
    if fd < 0 or fd > INT_MAX then return nil, result.EBADF end
    local socktype = core.sock_type(fd)
    if socktype < 0 then return result.fail(socktype) end
    return socket.adopt(socket.class_for(socktype, Socket), fd)
end

function net.strerror(code) return strerror(code) end
function net.version() return core.version() end

return net
