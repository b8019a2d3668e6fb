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
local fail, adopt, AGAIN = result.fail, socket.adopt, result.AGAIN

local M = {}

local creation_flags, made = wait.creation_flags, wait.made
local new_guard = socket.new_guard

-- {sock1, sock2}: two connected unix sockets of socktype, of class cls.
function M.pair(cls, socktype, nonblock)
    local g1, g2 = new_guard(), new_guard()
    local fd1, fd2 = core.sock_pair(K.AF_UNIX, socktype, 0, creation_flags(nonblock), g1, g2)
    if fd1 < 0 then return fail(fd1) end
    return {made(adopt(cls, fd1, g1), nonblock), made(adopt(cls, fd2, g2), nonblock)}
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
        return M.resolve_unix(args.required('getaddrinfoun', opts.path, 'path'), socktype)
    end
end

-- ---- opening, binding, connecting --------------------------------------------

-- Opens a socket for ai (its family, type and protocol), lets
-- prepare(fd, family) set options, then runs step(fd, addr). Returns the fd and its guard, or
-- the code (the fd closed).
local function open_and(ai, flags, prepare, step)
    local g = new_guard()
    local fd = core.sock_open(ai._family, ai._socktype, ai._protocol, flags, g)
    if fd < 0 then return fd end
    local rc = prepare and prepare(fd, ai._family) or 0
    if rc >= 0 then rc = step(fd, ai._addr) end
    if rc < 0 and rc ~= -K.EINPROGRESS then
        core.guard_close(g)
        return rc
    end
    return fd, g
end

-- A new unbound socket of family and socktype, as an instance of cls (an
-- unnamed unix datagram socket, for one).
function M.open(cls, family, socktype, nonblock)
    local g = new_guard()
    local fd = core.sock_open(family, socktype, 0, creation_flags(nonblock), g)
    if fd < 0 then return fail(fd) end
    return made(adopt(cls, fd, g), nonblock)
end

-- The options an inet server or datagram socket sets on its new fd before
-- bind, each a boolean: the schema's entries (with_bind_options) and
-- bind_options' prepare come from this one list. ipv6only applies to an
-- IPv6 address only (IPV6_V6ONLY, which Linux fixes at bind).
local BIND_OPTIONS = {
    {name = 'reuseaddr', set = core.sock_reuseaddr},
    {name = 'reuseport', set = core.sock_reuseport},
    {name = 'ipv6only', set = core.sock_ipv6only, family = K.AF_INET6},
}

-- schema (an args.options schema) with the options of BIND_OPTIONS added.
function M.with_bind_options(schema)
    for _, o in ipairs(BIND_OPTIONS) do schema[o.name] = 'boolean' end
    return schema
end

-- The prepare(fd, family) of bind_first for the BIND_OPTIONS of opts:
-- sets each one given (true or false) on the new fd before bind (0 or a
-- code); nil when none is given.
function M.bind_options(opts)
    local given = {}
    for _, o in ipairs(BIND_OPTIONS) do
        if opts[o.name] ~= nil then given[#given + 1] = o end
    end
    if #given == 0 then return nil end
    return function(fd, family)
        for _, o in ipairs(given) do
            if not o.family or o.family == family then
                local rc = o.set(fd, opts[o.name] and 1 or 0)
                if rc < 0 then return rc end
            end
        end
        return 0
    end
end

-- The first address of ais that binds, as an instance of cls (not listening).
-- prepare(fd, family), if given, sets options before bind (0 or a code;
-- family: the address's, for options of one family only).
function M.bind_first(cls, ais, nonblock, prepare)
    local code = -K.EADDRNOTAVAIL -- what an empty list reports
    for _, ai in ipairs(ais) do
        local fd, g = open_and(ai, creation_flags(nonblock), prepare, core.sock_bind)
        if fd >= 0 then return made(adopt(cls, fd, g), nonblock) end
        code = fd
    end
    return fail(code)
end

local ETIMEDOUT_MSG = core.strerror(-K.ETIMEDOUT)

-- Waits through w for sock's connect to ai that goes on (rc: its code so
-- far): the code it ends with, still EINPROGRESS when the socket became
-- writable (SO_ERROR then tells the outcome), or nil, err when a wait ended
-- without it (err nil: the deadline passed, or the waiter gave up early).
-- The caller checks once after it whether its socket was closed meanwhile.
--   A unix stream connect to a listener whose backlog is full fails at once
-- with EAGAIN on a non-blocking socket (Linux), where a blocking one sleeps
-- in the kernel until the listener accepts. Nothing on the connecting
-- socket tells when to try again (unconnected, it polls ready at once,
-- POLLOUT|POLLHUP): it is a call that polls ready yet says "try again", which
-- net.util.wait's retry_until tries again after pauses, within the
-- deadline; a listener that accepts is joined within 16 ms. A blocking
-- one that a signal ended (EINTR) is tried again alike.
local function wait_connect(sock, ai, w, rc, deadline)
    if AGAIN[rc] and ai._family == K.AF_UNIX then
        local err
        rc, err = wait.retry_until(sock, 'w', rc, deadline, core.sock_connect, ai._addr)
        if not rc then return nil, err end
    end
    if rc == -K.EINPROGRESS then
        local ready, err = w(sock, 'w', deadline)
        if not ready then return nil, err end
    end
    return rc
end

-- A socket of class cls connected to ai, or (non-blocking, without a
-- waiter) connecting; nil, err when it failed (the socket closed), and a
-- third value, true, when it was a wait that ended without the socket
-- ready (the deadline passed, or the waiter failed or gave up). With a
-- timeout, or a waiter that applies (its own, net.loop, net.setwaiter), a
-- connect that goes on is waited for until deadline and its outcome read
-- (SO_ERROR). waiter: the socket's own (a client's connect()).
local function connect_one(cls, ai, nonblock, timeout, waiter, deadline, owner)
    local waits = timeout ~= nil or waiter ~= nil
    local g = new_guard()
    local fd = core.sock_open(ai._family, ai._socktype, ai._protocol,
                              creation_flags(nonblock or waits), g)
    if fd < 0 then return fail(fd) end
    local sock = made(adopt(cls, fd, g), nonblock)
    -- non-blocking underneath for the deadline or the waiter only, as
    -- settimeout and setwaiter would have made it (net.util.wait.underneath)
    sock._timeout, sock._waiter = timeout, waiter
    sock._flipped = (waits and not nonblock and not sock._blocking) or nil
    local rc = core.sock_connect(fd, ai._addr)
    -- the socket a client's connect() waits on: closing the client closes
    -- it (net.Socket:close), which ends the wait (net.loop wakes its waiter)
    if owner then socket.connecting[owner] = sock end
    -- a unix connect is tried again (a signal, EINTR, ended a blocking one
    -- before its listener took it); an inet one goes on in the kernel
    local w = (rc == -K.EINPROGRESS or AGAIN[rc]) and wait.waiter_for(sock)
    if w then
        local err
        rc, err = wait_connect(sock, ai, w, rc, deadline)
        if sock[1] < 0 then return nil, result.EBADF, true end -- closed meanwhile
        if not rc then
            sock:close()
            return nil, err or ETIMEDOUT_MSG, true
        end
        if rc == -K.EINPROGRESS then
            -- SO_ERROR: a positive errno, or 0; a code when it cannot be read
            local e = core.sock_error(fd)
            rc = e < 0 and e or -e
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
-- the whole: each address is tried under the one deadline, and a wait that
-- ended without the socket ready (the deadline passed) ends the tries. Any
-- other failure, a kernel's ETIMEDOUT too (SYNs unanswered), moves on to
-- the next address.
local function connect_first(cls, ais, nonblock, timeout, waiter, owner)
    local deadline = timeout and core.now() + timeout
    local err = core.strerror(-K.EADDRNOTAVAIL) -- what an empty list reports
    for _, ai in ipairs(ais) do
        local sock, waited_out
        sock, err, waited_out = connect_one(cls, ai, nonblock, timeout, waiter, deadline, owner)
        if sock then return sock end
        if waited_out then break end
    end
    return nil, err
end

-- A client of class cls connected to the first reachable address of ais.
function M.connect_new(cls, ais, nonblock, timeout)
    local sock, err = connect_first(cls, ais, nonblock, timeout)
    if not sock then return nil, err end
    sock._ais = ais
    return sock
end

-- client:connect(): a new connection to the same destination, made as
-- client.new makes one under the client's own timeout and waiter, and in
-- the client's own mode: its fd's O_NONBLOCK unless that is only a flip
-- for a deadline or waiter (_flipped) or the host's (_blocking), so the
-- program's own nonblock(on) holds too. The old connection is closed only
-- once the new one is made (or, non-blocking, under way); the client keeps
-- its fields and takes the new fd's flags. The connect waits on the new
-- socket object, which the waiter gets (the fd of self is the old one until
-- the new is made). A closed client stays closed, like every closed socket.
function M.reconnect(self)
    local fd = self[1]
    if fd < 0 then return result.EBADF end
    local nonblock = not (self._flipped or self._blocking) and core.sock_nonblock(fd, -1) == 1
    local new, err = connect_first(getmetatable(self), self._ais, nonblock, self._timeout,
                                   self._waiter, self)
    socket.connecting[self] = nil
    if self[1] < 0 then -- closed while the connect waited: it stays closed
        if new then new:close() end
        return result.EBADF
    end
    if not new then return err end
    local old = self._guard
    socket.before_close(self) -- the old fd leaves poll sets while it is open
    -- and so does the new one's registration under new, the object the
    -- waiter waited for its connect on (net.loop's stays): it is self's now
    socket.before_close(new)
    self[1], self._guard, self._flipped, self._blocking, self._nonblock =
        new[1], new._guard, new._flipped, new._blocking, new._nonblock
    new[1] = -1 -- its fd and guard are self's now
    core.guard_own(self._guard, self)
    core.guard_close(old)
end

return M
