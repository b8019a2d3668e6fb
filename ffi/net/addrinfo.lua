-- net.addrinfo: one resolved address with the socket type and protocol it
-- is for; what getaddrinfoin/getaddrinfoun and getsockname/getpeername
-- return, and what the stream classes bind and connect to.
local core = require('net.core')
local class = require('net.util.class').new
local args = require('net.util.args')

local setmetatable, type = setmetatable, type
local AF_UNIX = core.constants.AF_UNIX
local AF_INET = core.constants.AF_INET
local AF_INET6 = core.constants.AF_INET6

local AddrInfo = class('net.addrinfo')

local M = {AddrInfo = AddrInfo}

-- addr is a backend address (net.core); canonname may be nil. Internal,
-- but reachable: what it is given is checked for type (a few type() calls),
-- so no method of the object can hand the backend a nil (the FFI would read
-- it as a NULL address where net.capi raises); a userdata or cdata that is
-- no address, here or put in _addr later, the backends' primitives refuse
-- (net.addr expected).
local ADDR_TYPE = {cdata = true, userdata = true}
local function check_new(n, value, want)
    if type(value) ~= want then
        args.error('new', n, want .. ' expected, got ' .. type(value), 1)
    end
end
function M.new(family, socktype, protocol, addr, canonname)
    check_new(1, family, 'number')
    check_new(2, socktype, 'number')
    check_new(3, protocol, 'number')
    if not ADDR_TYPE[type(addr)] then
        args.error('new', 4, 'address expected, got ' .. type(addr))
    end
    if canonname ~= nil then check_new(5, canonname, 'string') end
    return setmetatable({
        _family = family, _socktype = socktype, _protocol = protocol,
        _addr = addr, _canonname = canonname,
    }, AddrInfo)
end

-- The sender of a received datagram, as new(family of addr, SOCK_DGRAM, 0,
-- addr) makes it: what recvfrom and recvmany give once per datagram, so
-- with one type check instead of new's five (430 ns of new's per datagram
-- on Lua 5.4: bench/RESULTS.md, W6) and the family read from addr.
local SOCK_DGRAM, addr_family = core.constants.SOCK_DGRAM, core.addr_family
function M.sender(addr)
    if not ADDR_TYPE[type(addr)] then
        args.error('sender', 1, 'address expected, got ' .. type(addr))
    end
    return setmetatable({
        _family = addr_family(addr), _socktype = SOCK_DGRAM, _protocol = 0, _addr = addr,
    }, AddrInfo)
end

-- A net.core getaddrinfo record list as a list of addrinfo.
function M.from_records(records)
    if type(records) ~= 'table' then
        args.error('from_records', 1, 'table expected, got ' .. type(records))
    end
    local list = {}
    for i, r in ipairs(records) do
        list[i] = M.new(r.family, r.socktype, r.protocol, r.addr, r.canonname)
    end
    return list
end

-- Every method checks its self: the address inside is handed to the
-- backend, and a stray table must raise the same error on both (the FFI
-- would read nil as a NULL address, net.capi would raise its own message).
local check_self = args.self

function AddrInfo:family() check_self('family', self, AddrInfo); return self._family end
function AddrInfo:socktype() check_self('socktype', self, AddrInfo); return self._socktype end
function AddrInfo:protocol() check_self('protocol', self, AddrInfo); return self._protocol end
function AddrInfo:canonname() check_self('canonname', self, AddrInfo); return self._canonname end

-- The host text ("127.0.0.1", "::1"), or the path of a unix address
-- (an abstract name starts with "\0"; an unnamed socket gives "").
function AddrInfo:addr()
    check_self('addr', self, AddrInfo)
    local text
    if self._family == AF_UNIX then
        text = core.addr_path(self._addr)
    else
        text = core.addr_host(self._addr)
    end
    if type(text) == 'number' then return nil, core.strerror(text) end
    return text
end

-- The port number; nil for a unix address.
function AddrInfo:port()
    check_self('port', self, AddrInfo)
    if self._family == AF_UNIX then return nil end
    local port = core.addr_port(self._addr)
    if port < 0 then return nil, core.strerror(port) end
    return port
end

function AddrInfo:__tostring()
    check_self('__tostring', self, AddrInfo)
    local family = self._family
    if family ~= AF_INET and family ~= AF_INET6 and family ~= AF_UNIX then
        return ('<family %d>'):format(family) -- (no text for its address)
    end
    local host = self:addr() or '?'
    if family == AF_UNIX then return host end
    if family == AF_INET6 then host = '[' .. host .. ']' end
    return host .. ':' .. tostring(self:port())
end

return M
