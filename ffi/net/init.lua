-- net: the base socket class (net.Socket), the platform constants, and
-- wrapping an existing descriptor. Written once over net.core; runs the same
-- on LuaJIT (FFI) and PUC Lua 5.1-5.4 (C API).
local core = require('net.core')
local class = require('net.util.class')
local args = require('net.util.args')
local result = require('net.util.result')
local socket = require('net.util.socket')
local define_options = require('net.util.options')
local fast = require('net.util.fast')
local addrinfo = require('net.addrinfo')
local Buffer = require('net.buffer').Buffer

local type, pairs, getmetatable = type, pairs, getmetatable
local strerror = core.strerror
local K = core.constants
local fail, acted = result.fail, result.acted
local AGAIN, PEER_GONE = result.AGAIN, result.PEER_GONE
local EBADF_MSG, EINVAL_MSG = result.EBADF, result.EINVAL
local ENOBUFS_MSG = strerror(-K.ENOBUFS)
local INT_MAX, NOT_INTEGER = args.INT_MAX, args.NOT_INTEGER
local argerror = args.error

local DEFAULT_RECV_SIZE = 8192

local net = {}
for name, value in pairs(K) do
    net[name] = value
end

local Socket = class('net.Socket')
net.Socket = Socket

function Socket:__tostring()
    local fd = self[1]
    return self._NAME .. (fd >= 0 and (': fd ' .. fd) or ': closed')
end

function Socket:fd()
    local fd = self[1]
    if fd < 0 then return nil, EBADF_MSG end
    return fd
end

function Socket:close()
    if self[1] < 0 then return EBADF_MSG end
    self[1] = -1 -- never touch this number again: the kernel may reuse it
    return acted(core.guard_close(self._guard))
end

function Socket:closer() return acted(core.sock_shutdown(self[1], K.SHUT_RD)) end
function Socket:closew() return acted(core.sock_shutdown(self[1], K.SHUT_WR)) end

-- The socket's own family/type/protocol describe its addresses.
local function name_info(self, addr)
    if type(addr) == 'number' then return fail(addr) end
    local fd = self[1]
    return addrinfo.new(core.addr_family(addr), core.sock_type(fd),
                        core.sock_protocol(fd), addr)
end
function Socket:getsockname() return name_info(self, core.sock_getsockname(self[1])) end
function Socket:getpeername() return name_info(self, core.sock_getpeername(self[1])) end

-- Read-only integers of the socket, one method per primitive.
for method, prim in pairs({socktype = core.sock_type, family = core.sock_family,
                           protocol = core.sock_protocol, error = core.sock_error}) do
    Socket[method] = function(self)
        local v = prim(self[1])
        if v < 0 then return fail(v) end
        return v
    end
end

function Socket:atmark()
    local v = core.sock_atmark(self[1])
    if v < 0 then return fail(v) end
    return v == 1
end

define_options(Socket, {
    {'cloexec', 'bool'}, {'nonblock', 'bool'},
    {'reuseport', 'bool'}, {'reuseaddr', 'bool'}, {'debug', 'bool'},
    {'dontroute', 'bool'}, {'timestamp', 'bool'}, {'broadcast', 'bool'},
    {'rcvbuf', 'int'}, {'rcvlowat', 'int'}, {'sndbuf', 'int'}, {'sndlowat', 'int'},
    {'rcvtimeo', 'seconds'}, {'sndtimeo', 'seconds'},
})

-- linger(): seconds when close waits, false when it does not.
-- linger(false) turns it off; linger(sec) turns it on for sec whole seconds.
function Socket:linger(sec)
    local on, seconds
    if sec == nil then
        on, seconds = core.sock_linger(self[1], -1, 0)
    elseif sec == false then
        on, seconds = core.sock_linger(self[1], 0, 0)
    elseif type(sec) ~= 'number' then
        argerror('linger', 1, 'number or false expected, got ' .. type(sec))
    elseif sec % 1 ~= 0 then
        argerror('linger', 1, NOT_INTEGER)
    elseif sec < 0 or sec > INT_MAX then
        return nil, EINVAL_MSG
    else
        on, seconds = core.sock_linger(self[1], 1, sec)
    end
    if on < 0 then return fail(on) end
    return on == 1 and seconds
end

-- A whole-number argument n of fname (a size or MSG_* flags), checked only
-- when given: raises for another type or a fraction; nil when outside lo..hi.
local function whole_in(fname, n, v, lo, hi)
    if type(v) ~= 'number' then
        argerror(fname, n, 'number expected, got ' .. type(v), 1)
    elseif v % 1 ~= 0 then
        argerror(fname, n, NOT_INTEGER, 1)
    end
    if v >= lo and v <= hi then return v end
end

-- recv and send take the common case (no flags, recv with or without a size)
-- without a helper call or a type() for an absent argument: on PUC Lua those
-- cost more than the system call (bench/RESULTS.md). There net.capi runs the
-- common calls in C altogether (net.util.fast, at the end); under LuaJIT the
-- small helpers compile into the trace.
local sock_send, sock_recv = core.sock_send, core.sock_recv
local sock_recvinto, sock_sendfrom = core.sock_recvinto, core.sock_sendfrom

-- What recv and recvinto report for a failure code.
local function recv_failed(code)
    if AGAIN[code] then return nil, nil, true end
    if PEER_GONE[code] then return nil, nil, nil end
    return fail(code)
end

-- str | nil, nil, true (try again) | nil, nil, nil (peer closed) | nil, err
function Socket:recv(size, flags)
    if size == nil then
        size = DEFAULT_RECV_SIZE
    else
        size = whole_in('recv', 1, size, 1, INT_MAX)
        if not size then return nil, EINVAL_MSG end
    end
    if flags == nil then
        flags = 0
    else
        flags = whole_in('recv', 2, flags, 0, INT_MAX)
        if not flags then return nil, EINVAL_MSG end
    end
    local str = sock_recv(self[1], size, flags)
    if type(str) == 'string' then
        if str ~= '' then return str end
        return nil, nil, nil
    end
    return recv_failed(str)
end

-- n (> 0, bytes appended to buf) | nil, nil, true (try again) |
-- nil, nil, nil (peer closed) | nil, err. One recv(2) into buf's room, at
-- most size bytes (default: all the room). The same inline checks as recv.
function Socket:recvinto(buf, size, flags)
    if getmetatable(buf) ~= Buffer then
        argerror('recvinto', 1, 'net.buffer expected, got ' .. type(buf))
    end
    local len = buf._len
    local room = buf._cap - len
    if size == nil then
        if room == 0 then return nil, ENOBUFS_MSG end
        size = room
    else
        size = whole_in('recvinto', 2, size, 1, room)
        if not size then return nil, EINVAL_MSG end
    end
    if flags == nil then
        flags = 0
    else
        flags = whole_in('recvinto', 3, flags, 0, INT_MAX)
        if not flags then return nil, EINVAL_MSG end
    end
    local n = sock_recvinto(self[1], buf._mem, len, size, flags)
    if n > 0 then
        buf._len = len + n
        return n
    end
    if n == 0 then return nil, nil, nil end
    return recv_failed(n)
end

-- What send reports for n, the result of sending len bytes.
local function sent(n, len)
    if n >= 0 then
        if n < len then return n, nil, true end
        return n
    end
    if AGAIN[n] then return 0, nil, true end
    if PEER_GONE[n] then return nil, nil, nil end
    return fail(n)
end

-- len | len, nil, true (partial or try again) | nil, nil, nil (peer closed).
-- data is a string, or a net.buffer whose whole content is sent and stays in
-- the buffer (the caller consumes what went out).
function Socket:send(data, flags)
    local buf
    if type(data) ~= 'string' then
        if getmetatable(data) ~= Buffer then
            argerror('send', 1, 'string or net.buffer expected, got ' .. type(data))
        end
        buf = data
    end
    if flags == nil then
        flags = 0
    else
        flags = whole_in('send', 2, flags, 0, INT_MAX)
        if not flags then return nil, EINVAL_MSG end
    end
    if buf then
        local len = buf._len
        return sent(sock_sendfrom(self[1], buf._mem, 0, len, flags), len)
    end
    return sent(sock_send(self[1], data, flags), #data)
end

-- On PUC Lua net.capi does the common calls of recv and send in C, handing
-- every other call to the methods above (net.util.fast).
Socket.recv = fast('recv', Socket.recv, DEFAULT_RECV_SIZE)
Socket.send = fast('send', Socket.send)

-- A socket object that owns fd from now on (close() or the collector closes
-- it): net.stream.Socket for a stream socket, net.Socket otherwise.
function net.wrap(fd)
    args.integer('wrap', 1, fd)
    if fd < 0 or fd > INT_MAX then return nil, EBADF_MSG end
    local socktype = core.sock_type(fd)
    if socktype < 0 then return fail(socktype) end
    local cls = socktype == K.SOCK_STREAM and require('net.stream').Socket or Socket
    return socket.adopt(cls, fd)
end

function net.strerror(code) return strerror(code) end
function net.version() return core.version() end

return net
