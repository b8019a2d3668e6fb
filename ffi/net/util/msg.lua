-- Message I/O methods that belong to more than one class, each written once
-- and given to the classes that have them:
--   msg.unix(cls, messages)  sendfd, recvfd, peercred: every stream socket
--       (net.stream.Socket: pairs, accepted and wrapped fds too; another
--       family fails with EAFNOSUPPORT) and net.dgram.unix.Socket
--       (messages: a cut message is reported);
--   msg.stream(cls)  sendfile: stream sockets (net.stream.Socket).
-- Datagram batches (recvmany, sendmany) are net.dgram.Socket's own.
local core = require('net.core')
local args = require('net.util.args')
local result = require('net.util.result')
local wait = require('net.util.wait')
local io_methods = require('net.util.io')

local type, getmetatable, select, floor = type, getmetatable, select, math.floor
-- whether a value is a Lua file, open or closed (no io library: none is)
local io_type = io and io.type or function() end
local K = core.constants
local argerror = args.error
local fail, retry, gave_up, AGAIN = result.fail, wait.retry, wait.gave_up, result.AGAIN
local retry_until, deadline_of = wait.retry_until, wait.deadline_of
local new_guard, release = require('net.util.socket').new_guard, core.guard_release
local INT_MAX, NOT_INTEGER, EINVAL_MSG, EBADF_MSG = args.INT_MAX, args.NOT_INTEGER,
    result.EINVAL, result.EBADF

local M = {}

-- What recvfd returns (as err) for a message that carried no descriptor.
M.NO_FD = 'no file descriptor in the message'

-- A descriptor argument: a number, a socket object (its fd) or a Lua file
-- (its fd); nil when the socket or file is closed or the number is out of
-- range. expected: what the argument may be, for the error.
local function descriptor(fname, n, v, expected)
    if type(v) == 'table' and getmetatable(v) and type(v[1]) == 'number' then
        v = v[1]
    elseif io_type(v) then -- a Lua file: its descriptor (closed: -EBADF)
        v = core.file_fd(v)
    elseif type(v) ~= 'number' then
        argerror(fname, n, expected .. ' expected, got ' .. type(v), 1)
    elseif v % 1 ~= 0 then
        argerror(fname, n, NOT_INTEGER, 1)
    end
    if v >= 0 and v <= INT_MAX then return v end
end

-- The descriptor that v, a descriptor argument, stands for now (fd: what
-- descriptor() made of it): a socket object's is read again at each attempt
-- of a call, since a call that waits can outlive the object's close, and by
-- then its old number may be another socket's (-1 once closed: -EBADF).
local EBADF = -K.EBADF
local function current(v, fd)
    if type(v) == 'table' then
        fd = v[1]
        if fd < 0 then return nil end
    elseif io_type(v) then -- a Lua file, closed meanwhile or not
        fd = core.file_fd(v)
        if fd < 0 then return nil end
    end
    return fd
end

local function sendfd_attempt(fd, v, passfd, str)
    passfd = current(v, passfd)
    if not passfd then return EBADF end
    return core.sock_sendfd(fd, passfd, str, 0)
end

-- sendfd(fd_or_socket[, str]): len | len, nil, true (try again) | nil, err
-- | on a stream, nil, nil, nil, reason (the peer gone, as send: rules, the
-- socket kind's result rules of net.util.result). Passes a descriptor (a
-- number, or a socket's) with the bytes of str, by default one NUL byte: a
-- stream carries a descriptor only with at least one byte (an empty str on
-- a stream socket is EINVAL). The sender keeps its own descriptor open; the
-- receiver gets a new one to the same file.
local function sendfd_by(rules)
    return function(self, fd, str)
        local passfd = descriptor('sendfd', 1, fd, 'number, socket or file')
        if str == nil then
            str = '\0'
        elseif type(str) ~= 'string' then
            argerror('sendfd', 2, 'string expected, got ' .. type(str))
        end
        if not passfd then return nil, EBADF_MSG end
        local n = core.sock_sendfd(self[1], passfd, str, 0)
        if n == #str then return n end
        if AGAIN[n] then
            local err, timed_out
            n, err, timed_out = retry(self, 'w', n, sendfd_attempt, fd, passfd, str)
            if n == nil then
                if timed_out then return 0, nil, true end
                return nil, err
            end
        end
        return rules.sent(n, #str)
    end
end

local sendfd_stream, sendfd_message = sendfd_by(result.STREAM), sendfd_by(result.MESSAGE)

-- The bytes of the last attempt of a retried recvfd (retry passes on one
-- result only: the descriptor, or a code).
local last_str
local function recvfd_attempt(fd, size, flags, g)
    local passfd, str = core.sock_recvfd(fd, size, flags, g)
    last_str = str
    return passfd
end

-- recvfd's size: the default, or a whole number from 1; nil when out of
-- range.
local function recvfd_size(size)
    if size == nil then return io_methods.DEFAULT_RECV_SIZE end
    args.integer('recvfd', 1, size, 1)
    if size >= 1 and size <= INT_MAX then return floor(size) end -- (3.0: the integer 3 on 5.3+)
end

-- recvfd's results for no bytes and no descriptor, from what the rules say
-- a receive of 0 bytes is: a stream's end, a message socket's end after
-- closer(), or an empty message ('').
local function without_bytes(...)
    if ... == '' then return nil, M.NO_FD, nil, '' end
    return ...
end

-- recvfd([size]): fd, nil, nil, str | nil, nil, true (try again) |
-- nil, err[, nil, str] | nil, nil, nil[, reason] (the end of a stream, or
-- of a datagram socket's reading after closer(); a stream's peer gone: the
-- rules say, as for sendfd). One message of at most size bytes (default
-- 8192) and the descriptor it carries, a plain number, close-on-exec
-- (net.wrap(fd) makes a socket of it; for any other file the caller closes
-- it). A message without a descriptor returns nil, msg.NO_FD, nil, str; one
-- whose descriptor the system dropped (no free fd) nil, err, nil, str.
-- receive_fd reads up to size bytes; g, a guard, owns the descriptor from
-- its arrival (handed_over gives it to the caller once the results are
-- made).
local NONE = -1 -- net_sock_recvfd's passfd for a message that carried none
local function receive_fd(self, size, g, rules)
    local passfd, str = core.sock_recvfd(self[1], size, 0, g)
    if str == nil then -- passfd is a code (-1 is EPERM there, not "none")
        local err
        last_str = nil
        passfd, err = retry(self, 'r', passfd, recvfd_attempt, size, 0, g)
        if passfd == nil then return gave_up(err) end
        if last_str == nil then return rules.received(passfd, self[1]) end
        str = last_str
    end
    if passfd >= 0 then return passfd, nil, nil, str end
    if passfd ~= NONE then -- it carried one the system dropped (no free fd)
        return nil, core.strerror(passfd), nil, str
    end
    if str == '' then return without_bytes(rules.received(0, self[1])) end
    return nil, M.NO_FD, nil, str
end

-- The results of a receive (as many as it gave), once g, the guard that
-- owned the descriptor received while they were made, has handed it over:
-- from here on it is the caller's. Every allocation between the descriptor's
-- arrival and here (the string, a cut, the waits of a retry) may raise a
-- memory error on PUC Lua; the guard then closes the descriptor.
local function handed_over(g, ...)
    release(g)
    return ...
end

local function recvfd(self, size)
    size = recvfd_size(size)
    if not size then return nil, EINVAL_MSG end
    local g = new_guard()
    return handed_over(g, receive_fd(self, size, g, result.STREAM))
end

-- receive_fd's results (as many as it gave), a message longer than size
-- cut to it.
local function cut_message(size, ...)
    local str = select(4, ...)
    if str and #str > size then
        local passfd, err, again = ...
        return passfd, err, again, str:sub(1, size), size + 1
    end
    return ...
end

-- recvfd of a socket that keeps message boundaries (net.dgram.unix): the
-- same, and a message longer than size is never cut silently: it asks for
-- one byte more, and a message that filled it is cut to size and reported
-- with a fifth value, cut = size + 1 (longer than size: how much longer,
-- recvmsg does not say; the rest is lost, as for recv's cut).
local function recvfd_message(self, size)
    size = recvfd_size(size)
    if not size then return nil, EINVAL_MSG end
    local g = new_guard()
    return handed_over(g, cut_message(size, receive_fd(self, size < INT_MAX and size + 1 or size, g, result.MESSAGE)))
end

-- peercred(): pid, uid, gid of the peer as of connect/socketpair
-- (SO_PEERCRED on Linux; getpeereid on the BSDs and macOS, where pid is -1
-- unless LOCAL_PEERPID tells it) | nil, err.
local function peercred(self)
    local pid, uid, gid = core.sock_peercred(self[1])
    if uid == nil then return fail(pid) end
    return pid, uid, gid
end

-- messages: cls's sockets keep message boundaries (datagram sockets).
function M.unix(cls, messages)
    cls.peercred = peercred
    cls.sendfd = messages and sendfd_message or sendfd_stream
    cls.recvfd = messages and recvfd_message or recvfd
end

-- ---- sendfile --------------------------------------------------------------

-- A count or offset: a whole number from 0, or nil (absent).
local function count_arg(n, v)
    if v == nil then return true end
    if type(v) ~= 'number' then
        argerror('sendfile', n, 'number expected, got ' .. type(v), 1)
    elseif v % 1 ~= 0 then
        argerror('sendfile', n, NOT_INTEGER, 1)
    end
    return v >= 0 and v < 2 ^ 53
end

-- The next sendfile(2) call of want bytes after a short one on a blocking
-- socket (attempt: one call). The kernel came back short because the file
-- ended (calling again returns 0 at once) or because a signal or SO_SNDTIMEO
-- ended its wait for room: calling again would then wait afresh, the
-- signal's handler kept waiting and the timeout started over. A socket with
-- room now goes on; a full one is tried once without waiting (O_NONBLOCK
-- for that call): 0 is the file's end, "try again" the stop.
local POLLOUT = K.POLLOUT
local function next_after_short(fd, attempt, want)
    if core.poll_fd(fd, POLLOUT, 0) > 0 then return attempt(fd, want) end
    return wait.without_blocking(fd, attempt, want)
end

-- sendfile(fd_or_path, [count[, offset]]): sent | sent, nil, true (try
-- again, or the deadline passed, after sent bytes) | nil, err | nil, nil,
-- nil (the peer closed). Sends count bytes (nil: up to the end of the file)
-- of a file, given by its descriptor or its path (opened and closed by the
-- library), from offset (nil: a descriptor's current position, which then
-- advances; 0 for a path), with sendfile(2): the bytes never enter Lua. A
-- file shorter than count sends what it has.
local function sendfile(self, file, count, offset)
    local by_path = type(file) == 'string'
    local filefd
    if not by_path then
        filefd = descriptor('sendfile', 1, file, 'path, number, socket or file')
    end
    local ok = count_arg(2, count)
    ok = count_arg(3, offset) and ok
    if not ok then return nil, EINVAL_MSG end
    if not by_path and not filefd then return nil, EBADF_MSG end
    if by_path and file:find('\0', 1, true) then return nil, EINVAL_MSG end
    -- a closed socket says so, also when nothing is to be sent (count 0,
    -- an empty file), which never reaches the system
    if self[1] < 0 then return nil, EBADF_MSG end
    local done = 0
    -- one sendfile(2) call of want bytes (-1: to the end) from done on
    local function attempt(fd, want)
        if by_path then return core.sock_sendfilepath(fd, file, (offset or 0) + done, want) end
        local from = current(file, filefd)
        if not from then return EBADF end
        return core.sock_sendfile(fd, from, offset and offset + done or -1, want)
    end
    -- one deadline for the whole call, as send's for the whole string
    local deadline = deadline_of(self, 'w')
    -- a call begun with a deadline or a waiter never waits in the kernel,
    -- also when another coroutine makes the fd blocking meanwhile
    local waits = deadline or wait.waiter_for(self)
    while count == nil or done < count do
        local want = count and count - done or -1
        local fd = self[1]
        local n
        if done > 0 and wait.blocks_in_kernel(self) then
            if waits then
                n = wait.without_blocking(fd, attempt, want)
            else
                n = next_after_short(fd, attempt, want)
            end
        else
            n = attempt(fd, want)
        end
        if AGAIN[n] then
            local err, timed_out
            n, err, timed_out = retry_until(self, 'w', n, deadline, attempt, want)
            if n == nil then
                if timed_out then return done, nil, true end
                return nil, err
            end
            if AGAIN[n] then return done, nil, true end
        end
        -- a failure ends the call as it ends send's, after bytes too: a
        -- count alone would read as the whole file (count nil) sent
        if n < 0 then return result.STREAM.sent(n, want) end
        if n == 0 then break end -- the file ended
        done = done + n
    end
    return done
end

function M.stream(cls)
    cls.sendfile = sendfile
end

return M
