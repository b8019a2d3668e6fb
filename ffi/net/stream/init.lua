-- net.stream: stream sockets (net.stream.Socket), listening sockets
-- (net.stream.Server), connected pairs, and the resolvers for inet and unix
-- stream addresses. Also the bind/connect loops shared by net.stream.inet
-- and net.stream.unix.
local net = require('net')
local core = require('net.core')
local class = require('net.util.class')
local args = require('net.util.args')
local result = require('net.util.result')
local socket = require('net.util.socket')
local define_options = require('net.util.options')
local addrinfo = require('net.addrinfo')

local type, ipairs = type, ipairs
local K = core.constants
local fail, acted, adopt = result.fail, result.acted, socket.adopt
local INT_MAX = args.INT_MAX

local stream = {}

local Socket = class('net.stream.Socket', net.Socket)
stream.Socket = Socket
define_options(Socket, {
    {'acceptconn', 'bool'}, {'oobinline', 'bool'}, {'keepalive', 'bool'},
    {'tcpnodelay', 'bool'}, {'tcpcork', 'bool'},
    {'tcpkeepalive', 'int'}, {'tcpkeepintvl', 'int'}, {'tcpkeepcnt', 'int'},
    {'tcpintvl', 'int', 'tcpkeepintvl'}, -- the seed README's name
})

local Server = class('net.stream.Server', Socket)
stream.Server = Server

-- listen([backlog]): backlog defaults to SOMAXCONN; like the kernel, a
-- negative or larger one means SOMAXCONN too.
function Server:listen(backlog)
    if backlog == nil or args.integer('listen', 1, backlog) > INT_MAX then
        backlog = -1
    end
    return acted(core.sock_listen(self[1], backlog))
end

-- sock | nil, nil, true (no connection waiting) | nil, err.
-- The connection is a blocking net.stream.Socket with close-on-exec.
function Server:accept()
    local fd = core.sock_accept(self[1], K.CLOEXEC)
    if fd >= 0 then return adopt(Socket, fd) end
    if result.AGAIN[fd] then return nil, nil, true end
    return fail(fd)
end

local function creation_flags(nonblock)
    return nonblock and (K.CLOEXEC + K.NONBLOCK) or K.CLOEXEC
end

-- pair([{nonblock = bool}]) -> {sock1, sock2}: two connected stream sockets.
function stream.pair(opts)
    opts = args.options('pair', opts, {nonblock = 'boolean'}, true)
    local fd1, fd2 = core.sock_pair(K.AF_UNIX, K.SOCK_STREAM, 0,
                                    creation_flags(opts.nonblock))
    if fd1 < 0 then return fail(fd1) end
    return {adopt(Socket, fd1), adopt(Socket, fd2)}
end

-- ---- resolving ---------------------------------------------------------------
local INET_SCHEMA = {
    host = 'string', port = args.PORT,
    passive = 'boolean', canonname = 'boolean', numeric = 'boolean',
}

-- Resolves checked {host, port, passive, canonname, numeric} options to
-- stream addresses: a list of addrinfo, or nil, err.
local function resolve_inet(opts)
    local port = opts.port
    local numeric_port = type(port) == 'number'
    local flags = (opts.passive and K.AI_PASSIVE or 0)
        + (opts.canonname and K.AI_CANONNAME or 0)
        + (opts.numeric and K.AI_NUMERICHOST or 0)
        + (numeric_port and K.AI_NUMERICSERV or 0)
    local service = numeric_port and ('%d'):format(port) or port
    local records = core.getaddrinfo(opts.host, service, K.AF_UNSPEC,
                                     K.SOCK_STREAM, 0, flags)
    if type(records) == 'number' then return fail(records) end
    return addrinfo.from_records(records)
end

function stream.getaddrinfoin(opts)
    return resolve_inet(args.options('getaddrinfoin', opts, INET_SCHEMA))
end

-- The one-record list for a unix path, or nil, err.
local function resolve_unix(path)
    local records = core.getaddrinfo_unix(path, K.SOCK_STREAM)
    if type(records) == 'number' then return fail(records) end
    return addrinfo.from_records(records)
end

-- {path, passive}: passive changes nothing for a unix path; it is accepted
-- for symmetry with getaddrinfoin.
function stream.getaddrinfoun(opts)
    opts = args.options('getaddrinfoun', opts, {path = 'string', passive = 'boolean'})
    if opts.path == nil then
        args.error('getaddrinfoun', 1, "option 'path' is required")
    end
    return resolve_unix(opts.path)
end

stream.resolve_inet, stream.resolve_unix = resolve_inet, resolve_unix

-- ---- the loops behind the inet/unix constructors --------------------------

-- Opens a stream socket for ai, lets prepare(fd) set options, then runs
-- step(fd, addr). Returns the fd, or the code (the fd closed).
local function open_and(ai, flags, prepare, step)
    local fd = core.sock_open(ai._family, K.SOCK_STREAM, ai._protocol, flags)
    if fd < 0 then return fd end
    local rc = prepare and prepare(fd) or 0
    if rc >= 0 then rc = step(fd, ai._addr) end
    if rc < 0 and rc ~= -K.EINPROGRESS then
        core.sock_close(fd)
        return rc
    end
    return fd
end

-- The first address of ais that binds, as an instance of cls (not listening).
-- prepare(fd), if given, sets options before bind (0 or a code).
function stream.bind_first(cls, ais, nonblock, prepare)
    local code = -K.EADDRNOTAVAIL -- what an empty list reports
    for _, ai in ipairs(ais) do
        local fd = open_and(ai, creation_flags(nonblock), prepare, core.sock_bind)
        if fd >= 0 then return adopt(cls, fd) end
        code = fd
    end
    return fail(code)
end

-- The fd of the first address of ais that connects (or, non-blocking, is
-- connecting), or nil, err with the last address's error.
local function connect_first(ais, nonblock)
    local code = -K.EADDRNOTAVAIL
    for _, ai in ipairs(ais) do
        local fd = open_and(ai, creation_flags(nonblock), nil, core.sock_connect)
        if fd >= 0 then return fd end
        code = fd
    end
    return fail(code)
end

-- A client of class cls connected to the first reachable address of ais.
function stream.connect_new(cls, ais, nonblock)
    local fd, err = connect_first(ais, nonblock)
    if not fd then return nil, err end
    local sock = adopt(cls, fd)
    sock._ais, sock._nonblock = ais, nonblock
    return sock
end

-- client:connect(): a new connection to the same destination; the old one is
-- closed only once the new one is made (or, non-blocking, under way). A
-- closed client stays closed, like every closed socket.
function stream.reconnect(self)
    if self[1] < 0 then return result.EBADF end
    local fd, err = connect_first(self._ais, self._nonblock)
    if not fd then return err end
    local old = self._guard
    self[1], self._guard = fd, core.guard(fd)
    core.guard_close(old)
end

return stream
