-- net.buffer: a byte buffer of fixed capacity that sockets receive into
-- (sock:recvinto) and send from (sock:send(buf)) without a Lua string per
-- call. Written once over net.core: the memory is a backend handle (an FFI
-- array, or a userdata of net.capi) that only the buffer_* and
-- sock_recvinto/sock_sendfrom primitives look inside.
--
-- Fields (internal, read by net.Socket's recvinto and send): _mem the
-- memory, _head where the bytes held begin, _len how many (_head ..
-- _head+_len-1), _cap its size. consume() only moves _head on; an append
-- moves the content to the front when the room after it is short
-- (net.util.io's append_at), so a program that takes items one by one off
-- a full buffer moves each byte once, not once per item.
local core = require('net.core')
local class = require('net.util.class').new
local args = require('net.util.args')
local result = require('net.util.result')

local type, setmetatable, floor, unpack = type, setmetatable, math.floor, table.unpack or unpack -- luacheck: ignore 143
local buffer_new, buffer_string = core.buffer_new, core.buffer_string
local buffer_byte, buffer_find = core.buffer_byte, core.buffer_find
local integer, argerror, check_self = args.integer, args.error, args.self
local NOT_INTEGER = args.NOT_INTEGER
local EINVAL_MSG = result.EINVAL

local Buffer = class('net.buffer')

local M = {Buffer = Buffer}

-- The largest capacity: LuaJIT's largest userdata (net.capi's memory) and
-- string (buf:tostring() of a full buffer), 2^31 - 256: the backend's
-- max_size. PUC Lua and the FFI could go further; one limit keeps every
-- runtime alike.
local MAX_CAPACITY = core.max_size

-- A new, empty buffer of capacity bytes (1 .. MAX_CAPACITY).
function M.new(capacity)
    integer('new', 1, capacity)
    if capacity < 1 or capacity > MAX_CAPACITY then return nil, EINVAL_MSG end
    capacity = floor(capacity) -- an integer on 5.3+ even when given 16.0
    return setmetatable({_mem = buffer_new(capacity), _head = 0, _len = 0, _cap = capacity}, Buffer)
end

function Buffer:__tostring()
    return self._NAME .. ': ' .. self._len .. '/' .. self._cap
end

-- Every method checks its self first (net.util.args): buf.len() for
-- buf:len() raises a bad argument instead of reading another table.
function Buffer:len() check_self('len', self, Buffer); return self._len end
function Buffer:capacity() check_self('capacity', self, Buffer); return self._cap end
function Buffer:room() check_self('room', self, Buffer); return self._cap - self._len end
function Buffer:clear() check_self('clear', self, Buffer); self._head, self._len = 0, 0 end

-- Drops the first n bytes (0 .. len), moving nothing; the new length.
function Buffer:consume(n)
    check_self('consume', self, Buffer)
    integer('consume', 1, n)
    local len = self._len
    if n < 0 or n > len then return nil, EINVAL_MSG end
    n = floor(n)
    len = len - n
    self._len = len
    self._head = len > 0 and self._head + n or 0
    return len
end

-- A position argument: a whole number (raised for the caller of fname,
-- which calls range, which calls this: depth 2).
local function position(fname, n, v)
    if type(v) ~= 'number' then
        argerror(fname, n, 'number expected, got ' .. type(v), 2)
    elseif v % 1 ~= 0 then
        argerror(fname, n, NOT_INTEGER, 2)
    end
    return floor(v) -- an integer on 5.3+ even when given 2.0
end

-- string.sub's positions over len bytes: 1-based i..j, clamped (i > j when
-- empty). Negative positions count from the end.
local function range(fname, len, i, j)
    i = position(fname, 1, i)
    if i < 0 then
        i = len + i + 1
        if i < 1 then i = 1 end
    elseif i == 0 then
        i = 1
    end
    j = position(fname, 2, j)
    if j < 0 then
        j = len + j + 1
    elseif j > len then
        j = len
    end
    return i, j
end

-- A copy of the content as a string, like string.sub(content, i, j).
function Buffer:tostring(i, j)
    check_self('tostring', self, Buffer)
    if i == nil and j == nil then
        return buffer_string(self._mem, self._head, self._len)
    end
    if i == nil then i = 1 end -- (not `i or 1`: false is a bad position, not an absent one)
    if j == nil then j = -1 end
    i, j = range('tostring', self._len, i, j)
    if i > j then return '' end
    return buffer_string(self._mem, self._head + i - 1, j - i + 1)
end

-- The most bytes one byte() returns: each is a result on the Lua stack,
-- whose room differs from runtime to runtime (LuaJIT and 5.1 give about
-- 8,000, 5.2-5.4 about 1,000,000); one limit under all keeps every runtime
-- alike.
local BYTES_MAX = 4096
M.BYTES_MAX = BYTES_MAX

-- The bytes i..j of the content as integers, like string.byte (default
-- i = 1, j = i); nothing when the range is empty.
function Buffer:byte(i, j)
    check_self('byte', self, Buffer)
    if i == nil then i = 1 end
    if j == nil then j = i end
    i, j = range('byte', self._len, i, j)
    local mem, at = self._mem, self._head - 1 -- position k is at + k
    if i == j then return buffer_byte(mem, at + i) end
    if i > j then return end
    if j - i >= BYTES_MAX then
        argerror('byte', 2, 'range of more than ' .. BYTES_MAX .. ' bytes (use tostring)')
    end
    local out = {}
    for k = i, j do
        out[k - i + 1] = buffer_byte(mem, at + k)
    end
    return unpack(out, 1, j - i + 1)
end

-- The first copy of str in the content at or after position init (default
-- 1; negative counts from the end): its first and last positions, like
-- string.find(content, str, init, true); nil when there is none or when init
-- is past the end + 1 (as Lua 5.2+ says on every runtime; 5.1's string.find
-- would clamp it).
function Buffer:find(str, init)
    check_self('find', self, Buffer)
    if type(str) ~= 'string' then
        argerror('find', 1, 'string expected, got ' .. type(str))
    end
    local len = self._len
    if init == nil then
        init = 1
    else
        integer('find', 2, init)
        init = floor(init)
        if init < 0 then
            init = len + init + 1
            if init < 1 then init = 1 end
        elseif init == 0 then
            init = 1
        elseif init > len + 1 then
            return nil
        end
    end
    local head = self._head
    local at = buffer_find(self._mem, head + init - 1, len - init + 1, str)
    if at < 0 then return nil end
    at = at - head
    return at + 1, at + #str
end

return M
