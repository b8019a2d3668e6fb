-- How the classes turn net.core result codes into Lua results: the messages
-- they return most, which codes mean "try again" or "the peer is gone", and
-- the result rules of the I/O methods (net.util.io) for each kind of socket.
-- Every such rule lives here; net.capi's fast paths call these functions for
-- every outcome but the plain success (src/lua/methods.c).
local core = require('net.core')

local strerror, sock_readshut = core.strerror, core.sock_readshut
local K = core.constants

local M = {
    EBADF = strerror(-K.EBADF),
    EINVAL = strerror(-K.EINVAL),
    AGAIN = {[-K.EAGAIN] = true, [-K.EWOULDBLOCK] = true, [-K.EINTR] = true},
    PEER_GONE = {[-K.EPIPE] = true, [-K.ECONNRESET] = true},
}
local AGAIN, PEER_GONE = M.AGAIN, M.PEER_GONE

-- nil, message: the result of a failed call that produces a value.
local function fail(code)
    return nil, strerror(code)
end
M.fail = fail

-- A receive's outcome that brought nothing, passed on with as many values
-- as it has: nil, err (a failure), or nil, nil, again (true: try again, or
-- the deadline passed; nil: the end). What a method returns for the err and
-- again of a retry (net.util.wait's gave_up) or of a rule it called.
function M.nothing(err, again)
    if err then return nil, err end
    return nil, nil, again
end

-- message: the result of a failed call that only acts (close, listen, ...);
-- nil on success (code >= 0).
function M.acted(code)
    if code < 0 then return strerror(code) end
end

-- nil, nil, true (try again: EAGAIN, EINTR, a SO_RCVTIMEO expiry) or
-- nil, message.
local function again_or_fail(code)
    if AGAIN[code] then return nil, nil, true end
    return fail(code)
end
M.again_or_fail = again_or_fail

-- A rule set gives, for the I/O methods of one kind of socket:
--   received(code, fd)  recv's result for code <= 0 (0: no bytes, else a
--                       code) of a receive of fd
--   appended(code, fd)  recvinto's result for the same
--   sent(n, len)    send's result for n ~= len (a partial count, or a code)

-- Streams: 0 bytes is the end of the stream, and a peer gone (EPIPE,
-- ECONNRESET) reads the same: nil, nil, nil; a stream cut off says why in a
-- fourth value (the message: "Connection reset by peer"), which a clean end
-- does not have.
local function stream_received(code)
    if code == 0 then return nil, nil, nil end
    if PEER_GONE[code] then return nil, nil, nil, strerror(code) end
    return again_or_fail(code)
end

local function sent(peer_gone_ends)
    return function(n, len)
        if n >= 0 then return n, nil, n < len or nil end
        if AGAIN[n] then return 0, nil, true end
        if peer_gone_ends and PEER_GONE[n] then return nil, nil, nil, strerror(n) end
        return fail(n)
    end
end

-- drains: a read that returns less than it asked for has emptied the
-- socket's queue (a byte stream; not so for datagrams), which lets a
-- waiting reader skip its next try (net.util.io).
M.STREAM = {received = stream_received, appended = stream_received, sent = sent(true), drains = true}

-- ESHUTDOWN: a message socket's receive that met its reading end shut
-- with nothing queued (its own closer(), a seqpacket socket's peer gone),
-- which libnet's datagram receives return, and retry_until for a read that
-- polls ready only for that.
local SHUT = -K.ESHUTDOWN

-- net_sock_readshut in a code: SHUT when fd's reading end is shut with
-- nothing queued, 0 when it is not (a receive of 0 bytes and no sender's
-- name was an empty message), or a code.
local function readshut(fd)
    local shut = sock_readshut(fd)
    if shut == 1 then return SHUT end
    return shut
end
M.readshut = readshut

-- Any other socket (datagrams, and a wrapped socket of an unknown type):
-- 0 bytes is an empty message, "" (recvinto: 0). The end, nil, nil, nil as
-- a stream's, is a receive that met the reading end shut (SHUT; or 0 bytes
-- where readshut says so: recvinto, recvfd and net.Socket's recv learn no
-- sender, so an empty datagram from any sender, the last one queued after
-- closer(), reads as the end too).
local function message_rule(empty)
    return function(code, fd)
        if code == 0 then code = readshut(fd) end
        if code == SHUT then return nil, nil, nil end
        if code == 0 then return empty end
        return again_or_fail(code)
    end
end
M.MESSAGE = {
    received = message_rule(''),
    appended = message_rule(0),
    sent = sent(false),
}

return M
