-- net.addrinfo: one resolved address with the socket type and protocol it
-- is for; what getaddrinfoin/getaddrinfoun and getsockname/getpeername
-- return, and what the stream classes bind and connect to.
local core = require('net.core')
local class = require('net.util.class')

local setmetatable = setmetatable
local AF_UNIX = core.constants.AF_UNIX
local AF_INET6 = core.constants.AF_INET6

local AddrInfo = class('net.addrinfo')

local M = {AddrInfo = AddrInfo}

-- addr is a backend address (net.core); canonname may be nil.
function M.new(family, socktype, protocol, addr, canonname)
    return setmetatable({
        _family = family, _socktype = socktype, _protocol = protocol,
        _addr = addr, _canonname = canonname,
    }, AddrInfo)
end

-- A net.core getaddrinfo record list as a list of addrinfo.
function M.from_records(records)
    local list = {}
    for i, r in ipairs(records) do
        list[i] = M.new(r.family, r.socktype, r.protocol, r.addr, r.canonname)
    end
    return list
end

function AddrInfo:family() return self._family end
function AddrInfo:socktype() return self._socktype end
function AddrInfo:protocol() return self._protocol end
function AddrInfo:canonname() return self._canonname end

-- The host text ("127.0.0.1", "::1"), or the path of a unix address
-- (an abstract name starts with "\0"; an unnamed socket gives "").
function AddrInfo:addr()
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
    if self._family == AF_UNIX then return nil end
    local port = core.addr_port(self._addr)
    if port < 0 then return nil, core.strerror(port) end
    return port
end

function AddrInfo:__tostring()
    local host = self:addr() or '?'
    if self._family == AF_UNIX then return host end
    if self._family == AF_INET6 then host = '[' .. host .. ']' end
    return host .. ':' .. tostring(self:port())
end

return M
