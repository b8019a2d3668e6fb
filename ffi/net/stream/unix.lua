-- net.stream.unix: unix-domain stream servers and clients. A path starting
-- with "\0" is a Linux abstract name. The server never removes its path: a
-- leftover file makes the next bind fail with "Address already in use".
local stream = require('net.stream')
local core = require('net.core')
local class = require('net.util.class').new
local args = require('net.util.args')
local make = require('net.util.make')

local SOCK_STREAM = core.constants.SOCK_STREAM

local unix = {}

unix.Server = class('net.stream.unix.Server', stream.Server)
unix.Client = class('net.stream.unix.Client', stream.Socket)
unix.Client.connect = make.reconnect

local SERVER_SCHEMA = {path = 'string', nonblock = 'boolean'}
-- host= is accepted for path= (the seed's examples spell it so).
local CLIENT_SCHEMA = {path = 'string', host = 'string', nonblock = 'boolean',
                       timeout = args.SECONDS}

-- server.new{path, nonblock}: bound to path, not listening yet.
unix.server = {}
function unix.server.new(opts)
    opts = args.options('new', opts, SERVER_SCHEMA)
    local ais, err = make.resolve_unix(args.required('new', opts.path, 'path'), SOCK_STREAM)
    if not ais then return nil, err end
    return make.bind_first(unix.Server, ais, opts.nonblock)
end

-- client.new{path, nonblock}: connected to path.
unix.client = {}
function unix.client.new(opts)
    opts = args.options('new', opts, CLIENT_SCHEMA)
    if opts.path and opts.host then
        args.error('new', 1, "options 'path' and 'host' name the same thing: give one")
    end
    local path = args.required('new', opts.path or opts.host, 'path')
    local ais, err = make.resolve_unix(path, SOCK_STREAM)
    if not ais then return nil, err end
    return make.connect_new(unix.Client, ais, opts.nonblock, opts.timeout)
end

return unix
