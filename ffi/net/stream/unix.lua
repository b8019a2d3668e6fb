-- net.stream.unix: unix-domain stream servers and clients. A path starting
-- with "\0" is a Linux abstract name. The server never removes its path: a
-- leftover file makes the next bind fail with "Address already in use".
local stream = require('net.stream')
local class = require('net.util.class')
local args = require('net.util.args')

local unix = {}

unix.Server = class('net.stream.unix.Server', stream.Server)
unix.Client = class('net.stream.unix.Client', stream.Socket)
unix.Client.connect = stream.reconnect

local function required_path(path)
    if path == nil then args.error('new', 1, "option 'path' is required") end
    return path
end

-- server.new{path, nonblock}: bound to path, not listening yet.
unix.server = {}
function unix.server.new(opts)
    opts = args.options('new', opts, {path = 'string', nonblock = 'boolean'})
    local ais, err = stream.resolve_unix(required_path(opts.path))
    if not ais then return nil, err end
    return stream.bind_first(unix.Server, ais, opts.nonblock)
end

-- client.new{path, nonblock}; host= is accepted for path= (the seed's
-- examples spell it so).
unix.client = {}
function unix.client.new(opts)
    opts = args.options('new', opts, {path = 'string', host = 'string', nonblock = 'boolean'})
    local ais, err = stream.resolve_unix(required_path(opts.path or opts.host))
    if not ais then return nil, err end
    return stream.connect_new(unix.Client, ais, opts.nonblock)
end

return unix
