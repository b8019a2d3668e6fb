-- net.stream.inet: TCP servers and clients over IPv4 and IPv6.
local stream = require('net.stream')
local core = require('net.core')
local class = require('net.util.class').new
local args = require('net.util.args')
local make = require('net.util.make')

local SOCK_STREAM = core.constants.SOCK_STREAM

local inet = {}

inet.Server = class('net.stream.inet.Server', stream.Server)
inet.Client = class('net.stream.inet.Client', stream.Socket)
inet.Client.connect = make.reconnect


local SERVER_SCHEMA = make.with_bind_options {host = args.HOST, port = args.PORT, nonblock = 'boolean'}
local CLIENT_SCHEMA = {host = args.HOST, port = args.PORT, nonblock = 'boolean',
                       timeout = args.SECONDS}

-- server.new{host, port, nonblock, reuseaddr, reuseport, ipv6only}: bound to the
-- first passive address that binds (no host: any address; no port: any free
-- one), not listening.
inet.server = {}
function inet.server.new(opts)
    opts = args.options('new', opts, SERVER_SCHEMA)
    local ais, err = make.resolve_inet({host = opts.host, port = opts.port or 0, passive = true},
                                       SOCK_STREAM)
    if not ais then return nil, err end
    return make.bind_first(inet.Server, ais, opts.nonblock, make.bind_options(opts))
end

-- client.new{host, port, nonblock, timeout}: connected to the first address that
-- accepts; non-blocking, returned while the connect is under way (wait for
-- writability, then sock:error() is 0 on success or the errno).
inet.client = {}
function inet.client.new(opts)
    opts = args.options('new', opts, CLIENT_SCHEMA)
    local port = args.required('new', opts.port, 'port')
    local ais, err = make.resolve_inet({host = opts.host, port = port}, SOCK_STREAM)
    if not ais then return nil, err end
    return make.connect_new(inet.Client, ais, opts.nonblock, opts.timeout)
end

return inet
