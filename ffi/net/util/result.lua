-- How the classes turn net.core result codes into Lua results: the messages
-- they return most, which codes mean "try again" or "the peer is gone", and
-- the result rules of the I/O methods (net.util.io) for each kind of socket.
-- Every such rule lives here; net.capi's fast paths call these functions for
-- every outcome but the plain success (src/lua/methods.c).
local core = require('net.core')

local strerror, poll_fd = core.strerror, core.poll_fd
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

-- Whether fd's reading end is shut: its own closer() (shutdown SHUT_RD),
-- or on a seqpacket socket the peer gone. A message socket's receive then
-- returns what is still queued and, once nothing is, 0 bytes from no
-- sender at once where it would wait (the kernel's: libnet's datagram
-- receives tell it apart from an empty datagram and return ESHUTDOWN), or
-- "try again" where it would not (retry_until tells it apart from a wait
-- for nothing). Where the platform has no POLLRDHUP, never.
local RDHUP = K.POLLRDHUP
local function read_end_shut(fd)
    if not RDHUP then return false end
    local revents = poll_fd(fd, RDHUP, 0)
    return revents > 0 and revents % (RDHUP + RDHUP) >= RDHUP
end
M.read_end_shut = read_end_shut
M.SHUT = -K.ESHUTDOWN
local SHUT = M.SHUT

-- Any other socket (datagrams, and a wrapped socket of an unknown type):
-- 0 bytes is an empty message, "" (recvinto: 0). The end, nil, nil, nil as
-- a stream's, is a receive that found the reading end shut (SHUT, or 0
-- bytes where read_end_shut(fd) says so: an empty datagram that recvinto,
-- or net.Socket's recv, reads after closer() reads as the end too, as
-- those bring no sender; net.dgram's receives get SHUT from libnet).
local function message_ended(code, fd)
    return code == SHUT or code == 0 and read_end_shut(fd)
end
M.MESSAGE = {
    received = function(code, fd)
        if message_ended(code, fd) then return nil, nil, nil end
        if code == 0 then return '' end
        return again_or_fail(code)
    end,
    appended = function(code, fd)
        if message_ended(code, fd) then return nil, nil, nil end
        if code == 0 then return 0 end
        return again_or_fail(code)
    end,
    sent = sent(false),
}

return M
