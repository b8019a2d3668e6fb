-- How the classes turn net.core result codes into Lua results: the error
-- messages they return most, and which codes mean "try again" or "the peer
-- is gone" (recv/send/accept report those as flags, not as errors).
local core = require('net.core')

local strerror = core.strerror
local K = core.constants

local M = {
    EBADF = strerror(-K.EBADF),
    EINVAL = strerror(-K.EINVAL),
    AGAIN = {[-K.EAGAIN] = true, [-K.EWOULDBLOCK] = true, [-K.EINTR] = true},
    PEER_GONE = {[-K.EPIPE] = true, [-K.ECONNRESET] = true},
}

-- nil, message: the result of a failed call that produces a value.
function M.fail(code)
    return nil, strerror(code)
end

-- message: the result of a failed call that only acts (close, listen, ...);
-- nil on success (code >= 0).
function M.acted(code)
    if code < 0 then return strerror(code) end
end

return M
