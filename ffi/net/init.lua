-- net: the base socket class (net.Socket), the platform constants, and
-- wrapping an existing descriptor. Written once over net.core; runs the same
-- on LuaJIT (FFI) and PUC Lua 5.1-5.4 (C API).
local core = require('net.core')
local args = require('net.util.args')
local result = require('net.util.result')
local socket = require('net.util.socket')
local wait = require('net.util.wait')
local Socket = require('net.socket')
-- Loaded for their classes: each registers its socket type for net.wrap.
require('net.stream')
require('net.dgram')
require('net.dgram.unix')

local pairs, type, floor = pairs, type, math.floor
local strerror = core.strerror
local INT_MAX = args.INT_MAX

local net = {}
for name, value in pairs(core.constants) do
    net[name] = value
end

net.Socket = Socket

-- A socket object that owns fd from now on (close() or the collector closes
-- it), of the class registered for its type (net.stream.Socket for a stream
-- socket, net.stream.Server for one that listens, net.dgram.unix.Socket for
-- a unix datagram or seqpacket socket, net.dgram.Socket for another
-- datagram socket),
-- net.Socket for any other type.
function net.wrap(fd)
    args.integer('wrap', 1, fd)
    if fd < 0 or fd > INT_MAX then return nil, result.EBADF end
    fd = floor(fd) -- an integer on 5.3+ even when given 5.0 (sock:fd() is an int)
    local socktype = core.sock_type(fd)
    if socktype < 0 then return result.fail(socktype) end
    local cls, code = socket.class_for(fd, socktype, Socket)
    if not cls then return result.fail(code) end
    -- (all or nothing: a memory error on the way leaves fd the caller's)
    return socket.adopt(cls, fd, nil, wait.adopted)
end

-- close(fd): closes a descriptor number the program owns and no socket
-- object holds (recvfd's descriptor when it is no socket: net.wrap refuses
-- it). nil, or err. Through a guard, the one closing primitive of both
-- backends.
function net.close(fd)
    args.integer('close', 1, fd)
    if fd < 0 or fd > INT_MAX then return result.EBADF end
    return result.acted(core.guard_close(core.guard(floor(fd))))
end

-- The monotonic clock deadlines are measured on, in seconds.
net.now = core.now

-- The shipped waiters (net.setwaiter, sock:setwaiter): poll(2) on the one
-- fd (the default for a socket with a deadline), and a coroutine yield to
-- the scheduler that resumed the caller.
net.waiters = {poll = wait.poll, coroutine = wait.coroutine}

-- setwaiter(fn | nil): the waiter of every socket without one of its own,
-- outside net.loop; nil restores the default. true.
function net.setwaiter(fn)
    if fn ~= nil and type(fn) ~= 'function' then
        args.error('setwaiter', 1, 'function expected, got ' .. type(fn))
    end
    wait.set_global(fn)
    return true
end

-- A code is a whole number (anything else raises, on every runtime); one
-- beyond a C int is clamped as net.capi clamps every int, so it names no
-- error ("Unknown error") on both backends alike.
function net.strerror(code)
    args.integer('strerror', 1, code)
    if code > INT_MAX then
        code = INT_MAX
    elseif code < -INT_MAX - 1 then
        code = -INT_MAX - 1
    end
    return strerror(code)
end
function net.version() return core.version() end

return net
