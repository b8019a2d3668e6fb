-- The I/O methods every socket class has (recv, recvinto, send), written
-- once and given to a class together with the result rules of its kind of
-- socket (net.util.result: STREAM or MESSAGE). Only the rules differ between
-- a stream, where 0 bytes is the end, and a datagram, where it is a message.
local core = require('net.core')
local args = require('net.util.args')
local result = require('net.util.result')
local fast = require('net.util.fast')
local Buffer = require('net.buffer').Buffer

local type, getmetatable = type, getmetatable
local argerror = args.error
local INT_MAX, NOT_INTEGER = args.INT_MAX, args.NOT_INTEGER
local EINVAL_MSG = result.EINVAL
local ENOBUFS_MSG = core.strerror(-core.constants.ENOBUFS)
local sock_send, sock_recv = core.sock_send, core.sock_recv
local sock_recvinto, sock_sendfrom = core.sock_recvinto, core.sock_sendfrom

local DEFAULT_RECV_SIZE = 8192

local M = {DEFAULT_RECV_SIZE = DEFAULT_RECV_SIZE}

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

-- Defines cls.recv, cls.recvinto and cls.send with the result rules of
-- rules. The methods take the common case (no flags, recv with or without a
-- size) without a helper call or a type() for an absent argument: on PUC Lua
-- those cost more than the system call (bench/RESULTS.md). There net.capi
-- runs the common calls in C altogether (net.util.fast, at the end); under
-- LuaJIT the small helpers compile into the trace.
function M.define(cls, rules)
    local received, appended, sent = rules.received, rules.appended, rules.sent

    -- str | nil, nil, true (try again) | what rules.received says of 0 bytes
    -- or a failure.
    function cls:recv(size, flags)
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
            return received(0)
        end
        return received(str)
    end

    -- n (bytes appended to buf) | nil, nil, true | what rules.appended says.
    -- One recv(2) into buf's room, at most size bytes (default: all the
    -- room). The same inline checks as recv.
    function cls:recvinto(buf, size, flags)
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
        return appended(n)
    end

    -- len | len, nil, true (partial or try again) | what rules.sent says.
    -- data is a string, or a net.buffer whose whole content is sent and
    -- stays in the buffer (the caller consumes what went out).
    function cls:send(data, flags)
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
        local len, n
        if buf then
            len = buf._len
            n = sock_sendfrom(self[1], buf._mem, 0, len, flags)
        else
            len = #data
            n = sock_send(self[1], data, flags)
        end
        if n == len then return n end
        return sent(n, len)
    end

    -- On PUC Lua net.capi does the common calls of recv and send in C,
    -- handing every other call to the methods above and every other outcome
    -- to the rules.
    cls.recv = fast.method('recv', cls.recv, received, DEFAULT_RECV_SIZE)
    cls.send = fast.method('send', cls.send, sent)
end

return M
