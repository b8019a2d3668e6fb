-- net.dgram.inet: UDP sockets over IPv4 and IPv6.
local dgram = require('net.dgram')
local core = require('net.core')
local class = require('net.util.class').new
local args = require('net.util.args')
local make = require('net.util.make')

local SOCK_DGRAM = core.constants.SOCK_DGRAM

local inet = {}

inet.Socket = class('net.dgram.inet.Socket', dgram.Socket)


local SCHEMA = make.with_bind_options {host = args.HOST, port = args.PORT, nonblock = 'boolean'}

-- new{host, port, nonblock, reuseaddr, reuseport, ipv6only}: bound to the first
-- passive address of host:port that binds (no host: any address; no port:
-- a free one).
function inet.new(opts)
    opts = args.options('new', opts, SCHEMA, true)
    local ais, err = make.resolve_inet({host = opts.host, port = opts.port or 0, passive = true},
                                       SOCK_DGRAM)
    if not ais then return nil, err end
    return make.bind_first(inet.Socket, ais, opts.nonblock, make.bind_options(opts))
end

return inet
