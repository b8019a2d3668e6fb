-- net.stream: stream sockets (net.stream.Socket), listening sockets
-- (net.stream.Server), connected pairs, and the resolvers for inet and unix
-- stream addresses. The end-of-stream rule (0 bytes: the peer closed) lives
-- here, in the result rules given to the I/O methods.
local core = require('net.core')
local class = require('net.util.class').new
local args = require('net.util.args')
local result = require('net.util.result')
local socket = require('net.util.socket')
local make = require('net.util.make')
local io_methods = require('net.util.io')
local define_options = require('net.util.options')
local wait = require('net.util.wait')
local Base = require('net.socket')

local K = core.constants
local acted, adopt = result.acted, socket.adopt
local INT_MAX = args.INT_MAX

local stream = {}

local Socket = class('net.stream.Socket', Base)
stream.Socket = Socket
define_options(Socket, 'stream')
io_methods.define(Socket, result.STREAM)
-- sendfile; and the unix socket calls (sendfd, recvfd, peercred) here too,
-- so that pairs, accepted connections and wrapped fds have them: on a stream
-- socket of another family sendfd, recvfd and peercred fail with
-- EAFNOSUPPORT, before anything is sent or read.
require('net.util.msg').stream(Socket)
require('net.util.msg').unix(Socket)

local Server = class('net.stream.Server', Socket)
stream.Server = Server
socket.register(K.SOCK_STREAM, Socket, Server)

-- listen([backlog]): backlog defaults to SOMAXCONN; like the kernel, a
-- negative or larger one means SOMAXCONN too.
function Server:listen(backlog)
    if backlog == nil then
        backlog = -1
    else
        args.integer('listen', 1, backlog)
        -- any negative one too: below INT_MIN it would not reach C as an int
        if backlog < 0 or backlog > INT_MAX then backlog = -1 end
    end
    return acted(core.sock_listen(self[1], backlog))
end

-- sock | nil, nil, true (no connection waiting, or the deadline passed) |
-- nil, err.
-- The connection is a blocking net.stream.Socket with close-on-exec.
function Server:accept()
    local flags = wait.creation_flags(false)
    local g = socket.new_guard() -- the accepted fd's owner from its birth
    local fd = core.sock_accept(self[1], flags, g)
    if fd < 0 then
        local err
        fd, err = wait.retry(self, 'r', fd, core.sock_accept, flags, g)
        if fd == nil then return wait.gave_up(err) end
        if fd < 0 then return result.again_or_fail(fd) end
    end
    return wait.made(adopt(Socket, fd, g), false)
end

-- pair([{nonblock = bool}]) -> {sock1, sock2}: two connected stream sockets.
function stream.pair(opts)
    opts = args.options('pair', opts, args.PAIR, true)
    return make.pair(Socket, K.SOCK_STREAM, opts.nonblock)
end

stream.getaddrinfoin = make.getaddrinfoin(K.SOCK_STREAM)
stream.getaddrinfoun = make.getaddrinfoun(K.SOCK_STREAM)

return stream
