-- net.Socket, the base class: what every socket has, whatever its type
-- and family: the fd, its names, close, state, options, and plain I/O
-- where 0 bytes is an empty message (net.stream.Socket gives 0 bytes its
-- stream meaning). Public as net.Socket (module net); this module exists so
-- that the family and type modules can inherit from it without loading net.
local core = require('net.core')
local class = require('net.util.class').new
local args = require('net.util.args')
local result = require('net.util.result')
local io_methods = require('net.util.io')
local define_options = require('net.util.options')
local wait = require('net.util.wait')
local socket = require('net.util.socket')
local addrinfo = require('net.addrinfo')

local type, pairs = type, pairs
local K = core.constants
local fail, acted = result.fail, result.acted
local EBADF_MSG, EINVAL_MSG = result.EBADF, result.EINVAL
local connecting = socket.connecting
local INT_MAX, NOT_INTEGER = args.INT_MAX, args.NOT_INTEGER
local argerror = args.error

local Socket = class('net.Socket')

function Socket:__tostring()
    local fd = self[1]
    return self._NAME .. (fd >= 0 and (': fd ' .. fd) or ': closed')
end

function Socket:fd()
    local fd = self[1]
    if fd < 0 then return nil, EBADF_MSG end
    return fd
end

-- ---- LuaSocket interop (socket.select, copas-style schedulers) ----------
-- getfd(): the fd, -1 once closed (LuaSocket's convention, which select
-- reads as "no descriptor"). dirty(): whether data waits in the library
-- that a readiness check on the fd would not see; a socket buffers nothing
-- (net.reader has its own dirty()).
function Socket:getfd()
    local fd = type(self) == 'table' and self[1]
    if type(fd) ~= 'number' then argerror('getfd', 0, 'net.Socket expected, got ' .. type(self)) end
    return fd
end

function Socket:dirty() -- luacheck: ignore 212 (self: the method's shape)
    return false
end
-- ---- end of LuaSocket interop ---------------------------------------------

function Socket:close()
    if self[1] < 0 then return EBADF_MSG end
    -- only a socket the library made owns its fd (a guard): a table built to
    -- look like one ({5}) never closes a descriptor, nor is it changed
    if not self._guard then argerror('close', 0, 'net.Socket expected, got table') end
    -- a client's connect() waiting for a new connection: it ends now
    local pending = connecting[self]
    if pending then
        connecting[self] = nil
        pending:close()
    end
    socket.before_close(self)
    self[1] = -1 -- never touch this number again: the kernel may reuse it
    return acted(core.guard_close(self._guard))
end
-- Lua 5.4's to-be-closed variables: `local s <close> = sock` closes it when
-- s goes out of scope (the error, if any, is not close's business).
function Socket:__close() self:close() end

function Socket:closer() return acted(core.sock_shutdown(self[1], K.SHUT_RD)) end
function Socket:closew() return acted(core.sock_shutdown(self[1], K.SHUT_WR)) end

-- The socket's own family/type/protocol describe its addresses.
local function name_info(self, addr)
    if type(addr) == 'number' then return fail(addr) end
    local fd = self[1]
    local socktype, protocol = core.sock_type(fd), core.sock_protocol(fd)
    if socktype < 0 then return fail(socktype) end
    if protocol < 0 then return fail(protocol) end
    return addrinfo.new(core.addr_family(addr), socktype, protocol, addr)
end
function Socket:getsockname() return name_info(self, core.sock_getsockname(self[1])) end
function Socket:getpeername() return name_info(self, core.sock_getpeername(self[1])) end

-- Read-only integers of the socket, one method per primitive.
for method, prim in pairs({socktype = core.sock_type, family = core.sock_family,
                           protocol = core.sock_protocol, error = core.sock_error,
                           inq = core.sock_inq}) do
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

-- A program's nonblock(on) is the socket's own setting from then on, which
-- settimeout and setwaiter leave alone (net.util.wait.own_nonblock).
define_options(Socket, 'socket', {nonblock = wait.own_nonblock})

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

-- settimeout(seconds | nil): from now on, each call of this socket that can
-- wait (connect, accept, recv, recvinto, send, and the datagram and message
-- calls) gets at most seconds from its own start; nil: no limit. The fd is non-blocking underneath while the
-- socket has a deadline or a waiter (nonblock() reads true).
function Socket:settimeout(sec)
    if sec ~= nil then
        if type(sec) ~= 'number' then
            argerror('settimeout', 1, 'number expected, got ' .. type(sec))
        elseif not (sec >= 0 and sec < math.huge) then -- NaN, negative, inf
            return nil, EINVAL_MSG
        end
    end
    if self[1] < 0 then return nil, EBADF_MSG end
    local ok, err = wait.underneath(self, sec ~= nil or self._waiter ~= nil)
    if not ok then return nil, err end
    self._timeout = sec
    return true
end

-- The timeout settimeout set, or nil.
function Socket:gettimeout()
    if self[1] < 0 then return nil, EBADF_MSG end
    return self._timeout
end

-- setwaiter(fn | nil): how this socket waits when a call would block:
-- fn(sock, 'r' | 'w', deadline) returns true when ready, false when the
-- deadline passed (nil, err on failure). nil: the other waiters apply.
function Socket:setwaiter(fn)
    if fn ~= nil and type(fn) ~= 'function' then
        argerror('setwaiter', 1, 'function expected, got ' .. type(fn))
    end
    if self[1] < 0 then return nil, EBADF_MSG end
    local ok, err = wait.underneath(self, fn ~= nil or self._timeout ~= nil)
    if not ok then return nil, err end
    self._waiter = fn
    return true
end

io_methods.define(Socket, result.MESSAGE)

return Socket
