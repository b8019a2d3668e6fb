-- Making sockets of any type and family: resolving inet and unix
-- addresses for a socket type, opening, binding the first address that
-- binds, connecting the first that connects, connected pairs. The type and
-- family modules (net.stream.inet, net.stream.unix, ...) are thin users.
local core = require('net.core')
local args = require('net.util.args')
local result = require('net.util.result')
local socket = require('net.util.socket')
local addrinfo = require('net.addrinfo')
local wait = require('net.util.wait')

local type, ipairs, getmetatable = type, ipairs, getmetatable
local K = core.constants
local fail, adopt = result.fail, socket.adopt

local M = {}

local creation_flags, made = wait.creation_flags, wait.made

-- {sock1, sock2}: two connected unix sockets of socktype, of class cls.
function M.pair(cls, socktype, nonblock)
    local fd1, fd2 = core.sock_pair(K.AF_UNIX, socktype, 0, creation_flags(nonblock))
    if fd1 < 0 then return fail(fd1) end
    return {made(adopt(cls, fd1), nonblock), made(adopt(cls, fd2), nonblock)}
end

-- ---- resolving ---------------------------------------------------------------
M.INET_SCHEMA = {
    host = args.HOST, port = args.PORT,
    passive = 'boolean', canonname = 'boolean', numeric = 'boolean',
}

-- Resolves checked {host, port, passive, canonname, numeric} options to
-- addresses for socktype: a list of addrinfo, or nil, err.
function M.resolve_inet(opts, socktype)
    local port = opts.port
    local numeric_port = type(port) == 'number'
    local flags = (opts.passive and K.AI_PASSIVE or 0)
        + (opts.canonname and K.AI_CANONNAME or 0)
        + (opts.numeric and K.AI_NUMERICHOST or 0)
        + (numeric_port and K.AI_NUMERICSERV or 0)
    local service = numeric_port and ('%d'):format(port) or port
    local records = core.getaddrinfo(opts.host, service, K.AF_UNSPEC, socktype, 0, flags)
    if type(records) == 'number' then return fail(records) end
    return addrinfo.from_records(records)
end

-- The one-record list for a unix path and socktype, or nil, err.
function M.resolve_unix(path, socktype)
    local records = core.getaddrinfo_unix(path, socktype)
    if type(records) == 'number' then return fail(records) end
    return addrinfo.from_records(records)
end

-- The public resolvers of a type's module (getaddrinfoin, getaddrinfoun).
function M.getaddrinfoin(socktype)
    return function(opts)
        return M.resolve_inet(args.options('getaddrinfoin', opts, M.INET_SCHEMA), socktype)
    end
end

-- {path, passive}: passive changes nothing for a unix path; it is accepted
-- for symmetry with getaddrinfoin.
local UNIX_SCHEMA = {path = 'string', passive = 'boolean'}
function M.getaddrinfoun(socktype)
    return function(opts)
        opts = args.options('getaddrinfoun', opts, UNIX_SCHEMA)
        if opts.path == nil then
            args.error('getaddrinfoun', 1, "option 'path' is required")
        end
        return M.resolve_unix(opts.path, socktype)
    end
end

-- ---- opening, binding, connecting --------------------------------------------

-- Opens a socket for ai (its family, type and protocol), lets prepare(fd)
-- set options, then runs step(fd, addr). Returns the fd, or the code (the
-- fd closed).
local function open_and(ai, flags, prepare, step)
    local fd = core.sock_open(ai._family, ai._socktype, ai._protocol, flags)
    if fd < 0 then return fd end
    local rc = prepare and prepare(fd) or 0
    if rc >= 0 then rc = step(fd, ai._addr) end
    if rc < 0 and rc ~= -K.EINPROGRESS then
        core.sock_close(fd)
        return rc
    end
    return fd
end

-- A new unbound socket of family and socktype, as an instance of cls (an
-- unnamed unix datagram socket, for one).
function M.open(cls, family, socktype, nonblock)
    local fd = core.sock_open(family, socktype, 0, creation_flags(nonblock))
    if fd < 0 then return fail(fd) end
    return adopt(cls, fd)
end

-- The prepare(fd) of bind_first for the reuseaddr / reuseport options of a
-- server's opts: sets them on the new fd before bind (0 or a code); nil
-- when neither is asked for.
function M.reuse_options(opts)
    if not (opts.reuseaddr or opts.reuseport) then return nil end
    return function(fd)
        local rc = 0
        if opts.reuseaddr then rc = core.sock_reuseaddr(fd, 1) end
        if rc >= 0 and opts.reuseport then rc = core.sock_reuseport(fd, 1) end
        return rc
    end
end

-- The first address of ais that binds, as an instance of cls (not listening).
-- prepare(fd), if given, sets options before bind (0 or a code).
function M.bind_first(cls, ais, nonblock, prepare)
    local code = -K.EADDRNOTAVAIL -- what an empty list reports
    for _, ai in ipairs(ais) do
        local fd = open_and(ai, creation_flags(nonblock), prepare, core.sock_bind)
        if fd >= 0 then return made(adopt(cls, fd), nonblock) end
        code = fd
    end
    return fail(code)
end

local ETIMEDOUT_MSG = core.strerror(-K.ETIMEDOUT)

-- A socket of class cls connected to ai, or (non-blocking, without a
-- waiter) connecting; nil, err when it failed (the socket closed). With a
-- timeout, or a waiter that applies (net.loop, net.setwaiter), a connect
-- that goes on is waited for until deadline and its outcome read (SO_ERROR).
local function connect_one(cls, ai, nonblock, timeout, deadline)
    local fd = core.sock_open(ai._family, ai._socktype, ai._protocol,
                              creation_flags(nonblock or timeout ~= nil))
    if fd < 0 then return fail(fd) end
    local sock = made(adopt(cls, fd), nonblock)
    sock._timeout = timeout
    sock._flipped = (timeout ~= nil and not nonblock and not sock._blocking) or nil
    local rc = core.sock_connect(fd, ai._addr)
    if rc == -K.EINPROGRESS then
        local w = wait.waiter_for(sock)
        if w then
            local ready, err = w(sock, 'w', deadline)
            if ready then
                rc = -core.sock_error(fd) -- SO_ERROR: a positive errno, or 0
            else
                sock:close()
                return nil, err or ETIMEDOUT_MSG
            end
        end
    end
    if rc < 0 and rc ~= -K.EINPROGRESS then
        sock:close()
        return fail(rc)
    end
    return sock
end

-- A socket of class cls connected to the first address of ais that
-- connects, or nil, err with the last address's error. A timeout bounds
-- the whole: each address is tried under the one deadline.
local function connect_first(cls, ais, nonblock, timeout)
    local deadline = timeout and core.now() + timeout
    local err = core.strerror(-K.EADDRNOTAVAIL) -- what an empty list reports
    for _, ai in ipairs(ais) do
        local sock
        sock, err = connect_one(cls, ai, nonblock, timeout, deadline)
        if sock then return sock end
        if err == ETIMEDOUT_MSG then break end
    end
    return nil, err
end

-- A client of class cls connected to the first reachable address of ais.
function M.connect_new(cls, ais, nonblock, timeout)
    local sock, err = connect_first(cls, ais, nonblock, timeout)
    if not sock then return nil, err end
    sock._ais, sock._nonblock = ais, nonblock
    return sock
end

-- client:connect(): a new connection to the same destination, under the
-- client's timeout; the old one is closed only once the new one is made (or,
-- non-blocking, under way). A closed client stays closed, like every closed
-- socket.
function M.reconnect(self)
    if self[1] < 0 then return result.EBADF end
    local new, err = connect_first(getmetatable(self), self._ais, self._nonblock, self._timeout)
    if not new then return err end
    local old = self._guard
    socket.before_close(self) -- the old fd leaves poll sets while it is open
    self[1], self._guard, self._flipped, self._blocking = new[1], new._guard, new._flipped, new._blocking
    new[1] = -1 -- its fd and guard are self's now
    core.guard_close(old)
end

return M
