-- net.dgram.unix: unix-domain datagram sockets. A path starting with "\0"
-- is a Linux abstract name. A bound socket never removes its path: a
-- leftover file makes the next bind fail with "Address already in use".
local dgram = require('net.dgram')
local core = require('net.core')
local class = require('net.util.class').new
local args = require('net.util.args')
local make = require('net.util.make')
local msg = require('net.util.msg')

local K = core.constants

local unix = {}

unix.Socket = class('net.dgram.unix.Socket', dgram.Socket)
msg.unix(unix.Socket, true)
-- net.wrap of a unix datagram fd (one recvfd received, systemd's
-- ListenDatagram=) gives this class, with its message I/O; so does a unix
-- SOCK_SEQPACKET one, whose messages net.Socket's recv would cut silently
-- (libnet's receives take both: a message socket's end is the same)
local register_family = require('net.util.socket').register_family
register_family(K.SOCK_DGRAM, K.AF_UNIX, unix.Socket)
register_family(K.SOCK_SEQPACKET, K.AF_UNIX, unix.Socket)

local SCHEMA = {path = 'string', nonblock = 'boolean'}

-- new{path, nonblock}: bound to path; without one, unnamed (it can send,
-- and receive on a connected pair or once bound).
function unix.new(opts)
    opts = args.options('new', opts, SCHEMA, true)
    if opts.path == nil then
        return make.open(unix.Socket, K.AF_UNIX, K.SOCK_DGRAM, opts.nonblock)
    end
    local ais, err = make.resolve_unix(opts.path, K.SOCK_DGRAM)
    if not ais then return nil, err end
    return make.bind_first(unix.Socket, ais, opts.nonblock)
end

return unix
