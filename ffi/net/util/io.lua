-- The I/O methods every socket class has (recv, recvinto, send), written
-- once and given to a class together with the result rules of its kind of
-- socket (net.util.result: STREAM or MESSAGE). Only the rules differ between
-- a stream, where 0 bytes is the end, and a datagram, where it is a message.
local core = require('net.core')
local args = require('net.util.args')
local result = require('net.util.result')
local fast = require('net.util.fast')
local wait = require('net.util.wait')
local Buffer = require('net.buffer').Buffer

local type, getmetatable = type, getmetatable
local argerror = args.error
local INT_MAX, NOT_INTEGER = args.INT_MAX, args.NOT_INTEGER
local EINVAL_MSG = result.EINVAL
local ENOBUFS_MSG = core.strerror(-core.constants.ENOBUFS)
local sock_send, sock_recv = core.sock_send, core.sock_recv
local sock_recvinto, sock_sendfrom = core.sock_recvinto, core.sock_sendfrom
local sock_sendv, sock_inq, sock_atmark, poll_fd = core.sock_sendv, core.sock_inq, core.sock_atmark, core.poll_fd

local EAGAIN, EINTR = -core.constants.EAGAIN, -core.constants.EINTR
local ENOBUFS = -core.constants.ENOBUFS
local DEFAULT_RECV_SIZE = 8192

local M = {DEFAULT_RECV_SIZE = DEFAULT_RECV_SIZE}

local retry_until, gave_up, AGAIN = wait.retry_until, wait.gave_up, result.AGAIN
local waiter_for, deadline_of, waits_first = wait.waiter_for, wait.deadline_of, wait.waits_first
local dontwait, try_after_wait, blocks_in_kernel = wait.dontwait, wait.try_after_wait, wait.blocks_in_kernel
local deadline_after = wait.deadline_after
local has_flag, concat = wait.has_flag, table.concat
local WAITALL, PEEK, OOB = core.constants.MSG_WAITALL, core.constants.MSG_PEEK, core.constants.MSG_OOB
local POLLIN = core.constants.POLLIN

-- A whole-number argument n of fname (a size or MSG_* flags), checked only
-- when given: raises for another type or a fraction; nil when outside lo..hi.
local function whole_in(fname, n, v, lo, hi)
    if type(v) ~= 'number' then
        argerror(fname, n, 'number expected, got ' .. type(v), 1)
    elseif v % 1 ~= 0 then
        argerror(fname, n, NOT_INTEGER, 1)
    end
    if v >= lo and v <= hi then return v end
end

-- Where size more bytes (at most buf:room()) go in a net.buffer's memory:
-- after the content, which moves to the front first when the room after it
-- is short (the fields are net.buffer's: ffi/net/buffer.lua). For recvinto,
-- which then adds what came to _len.
local buffer_move = core.buffer_move
local function append_at(buf, size)
    local head, len = buf._head, buf._len
    if head > 0 and head + len + size > buf._cap then
        buffer_move(buf._mem, 0, head, len)
        buf._head, head = 0, 0
    end
    return head + len
end

-- The total length of a list of strings (a gather write), or raises naming
-- the first piece that is not a string.
local function list_length(list)
    local len = 0
    for i = 1, #list do
        local piece = list[i]
        if type(piece) ~= 'string' then
            argerror('send', 1, ('list of strings expected, got %s at [%d]'):format(type(piece), i), 1)
        end
        len = len + #piece
    end
    return len
end

-- What a gather write that went out in part has left to send: the pieces
-- i..j of the list and the bytes skip of piece i that went already (for
-- core.sock_sendv), from byte from+1 of the list on. They are found from a
-- cursor {list =, i = the piece holding byte from+1, skipped = the bytes
-- before it} that moves on with from, and nothing is copied, so that each
-- retry of a long list costs what it sends, not the whole list (or the rest
-- of a long piece) again. On a stream (window) at most WINDOW pieces go
-- into one retry, the most one sendmsg of net_sock_sendv takes; a datagram
-- is the whole list or nothing.
local WINDOW = 1024
local function list_rest(cursor, from, window)
    local list, i, skipped = cursor.list, cursor.i, cursor.skipped
    local last = #list
    while i <= last and skipped + #list[i] <= from do
        skipped = skipped + #list[i]
        i = i + 1
    end
    cursor.i, cursor.skipped = i, skipped
    if window and last - i >= WINDOW then last = i + WINDOW - 1 end
    return i, last, from - skipped
end

-- The length of data: a string, a net.buffer or a list of strings (one
-- that send has checked already).
local function length_of(data)
    if type(data) == 'string' then return #data end
    if getmetatable(data) == Buffer then return data._len end
    return list_length(data)
end

-- Defines cls.recv, cls.recvinto and cls.send with the result rules of
-- rules. The methods take the common case (no flags, recv with or without a
-- size) without a helper call or a type() for an absent argument: on PUC Lua
-- those cost more than the system call (bench/RESULTS.md). There net.capi
-- runs the common calls in C altogether (net.util.fast, at the end); under
-- LuaJIT the small helpers compile into the trace.
function M.define(cls, rules)
    local received, appended, sent = rules.received, rules.appended, rules.sent

    -- Every outcome of a call but its plain success goes through one of
    -- these: "try again" waits and retries where a deadline or a waiter
    -- applies (net.util.wait), the rest is the rules' to report. net.capi's
    -- fast paths call them too (a count of 0 for the Lua method's "", no
    -- flags).

    -- Drained sockets. A server written in straight-line code reads,
    -- answers, and reads again at once: that read finds nothing (the peer
    -- has not answered yet) and costs a system call before the coroutine
    -- waits (0.9 of them per echo in W5, bench/RESULTS.md). A stream read
    -- that got less than it asked for has emptied the queue; when it came
    -- after a wait, or was the read of a socket marked already, the socket
    -- is marked _drained (again), and its next recv or recvinto waits first
    -- when its waiter is one that waits cheaply (wait.waits_first:
    -- net.loop's). Waiting first is always right, only later: readiness is
    -- level-triggered, so data that came meanwhile ends the wait at once.
    local drains = rules.drains

    -- For a socket marked _drained: clears the mark, and waits for it to be
    -- readable when its waiter waits cheaply (not for a call that must not
    -- wait, MSG_DONTWAIT, nor for urgent data, MSG_OOB, which never makes
    -- the socket readable). true, the deadline of the call (or nil), and
    -- whether it waited (ready, or the deadline passed: the read that
    -- follows looks anyway, and a "try again" goes to retry_until, which
    -- reports the deadline); false, err when the waiter failed.
    local function wait_first(self, flags)
        self._drained = nil
        local deadline = deadline_of(self, 'r')
        local w = waiter_for(self)
        -- (flags 0, every wait of a server's echo, skips the call; a fd
        -- that blocks now reads as it blocks, up to its SO_RCVTIMEO)
        if w and waits_first[w] and (flags == 0 or not (dontwait(flags) or has_flag(flags, OOB)))
                and not blocks_in_kernel(self) then
            local ready, err = w(self, 'r', deadline)
            if ready == nil then return false, err end
            return true, deadline, true
        end
        return true, deadline, false
    end

    -- MSG_WAITALL on a stream whose fd is non-blocking underneath (a
    -- deadline, a waiter: the kernel then returns what is queued) is done
    -- here: a read that came back short (got bytes of size, got > 0) is
    -- followed by waits and reads of the rest (read(fd, want, flags) appends
    -- what one read gets and returns its count, or a code), until size bytes
    -- came, the stream ended or failed, or the deadline passed; then the
    -- bytes that came are the result, as the kernel's own MSG_WAITALL
    -- returns them at a signal or its timeout. Not with MSG_PEEK (each read
    -- would see the same bytes again), MSG_OOB (urgent data never makes the
    -- socket readable, and the kernel returns it at once) nor MSG_DONTWAIT;
    -- a blocking fd's MSG_WAITALL is the kernel's (retry_until returns its
    -- "try again").
    local function waits_for_all(flags)
        return drains and has_flag(flags, WAITALL) and not has_flag(flags, PEEK)
            and not has_flag(flags, OOB) and not dontwait(flags)
    end

    -- One read of the rest: at most the bytes queued, as a read that finds
    -- the queue empty takes the socket's pending error (a reset), which the
    -- kernel's own MSG_WAITALL leaves for the next call, and a read that gets
    -- bytes never does. Ready with nothing queued: the stream ended or
    -- failed, which is the next call's to report (0); not ready: a wake-up
    -- for nothing, wait again. At the urgent mark it stops too (0), as the
    -- kernel's own does once it has bytes: a read there would pass the mark
    -- (on a unix stream, dropping the urgent byte).
    local function read_queued(fd, read, want, flags)
        local queued = sock_inq(fd)
        if queued > 0 then
            if sock_atmark(fd) == 1 then return 0 end
            return read(fd, queued < want and queued or want, flags)
        end
        if queued < 0 then return queued end
        return poll_fd(fd, POLLIN, 0) ~= 0 and 0 or EAGAIN
    end
    -- The rest of a MSG_WAITALL read that got bytes of size: waited is true
    -- when those bytes were read after a wait, without blocking. (At its
    -- deadline, retry_until's last look takes bytes below SO_RCVLOWAT.)
    local function rest_of_all(self, got, deadline, size, flags, read, waited)
        -- Already at the urgent mark (an urgent byte queued before the
        -- call): TCP never says readable there; the kernel's own stops.
        if sock_atmark(self[1]) == 1 then return end
        -- On a blocking fd only the rest of a call that a signal ended
        -- waits (through the waiter, by the deadline set at the signal:
        -- retry_until's EINTR); a read that blocked came back short at its
        -- timeout or a signal, as the kernel's own.
        local again = EAGAIN
        if blocks_in_kernel(self) then
            if not waited then return end
            again = EINTR
        end
        flags = flags - WAITALL -- (each read takes at most what is queued)
        while got < size do
            local n = retry_until(self, 'r', again, deadline, read_queued, read, size - got, flags)
            if type(n) ~= 'number' or n <= 0 then return end -- the deadline, the waiter, the end
            got = got + n
        end
    end

    -- recv's: the pieces read after str, joined to it.
    local function recv_all(self, str, deadline, size, flags, waited)
        local pieces = {str}
        rest_of_all(self, #str, deadline or deadline_of(self, 'r'), size, flags,
            function(fd, want, f)
                local r = sock_recv(fd, want, f)
                if type(r) ~= 'string' then return r end
                pieces[#pieces + 1] = r
                return #r
            end, waited)
        return concat(pieces)
    end

    -- The rest of a recv whose first try gave r: waits and retries until
    -- deadline where a waiter applies, and reports.
    -- A string needs no retry (most often recv_drained's read after its
    -- wait): it skips retry_until and its type() check.
    local function recv_rest(self, r, deadline, size, flags, waited)
        if type(r) ~= 'string' then
            waited = true
            -- (a blocking fd's signal: a MSG_WAITALL's rest ends by the same)
            deadline = deadline_after(self, 'r', r, deadline)
            if not dontwait(flags) then
                local err
                r, err = retry_until(self, 'r', r, deadline, sock_recv, size, flags)
                if r == nil then return gave_up(err) end
            end
            if type(r) ~= 'string' then return received(r, self[1]) end
        end
        if r == '' then return received(0, self[1]) end
        if drains and #r < size then
            if flags ~= 0 and waits_for_all(flags) then
                return recv_all(self, r, deadline, size, flags, waited)
            end
            self._drained = true
        end
        return r
    end

    -- (A read after that wait never waits in the kernel; one without it is
    -- the plain read, which a blocking socket waits in.)
    local function recv_drained(self, size, flags)
        local ok, deadline, waited = wait_first(self, flags)
        if not ok then return gave_up(deadline) end
        local r
        if waited then
            r = try_after_wait(self, sock_recv, size, flags)
        else
            r = sock_recv(self[1], size, flags)
        end
        return recv_rest(self, r, deadline, size, flags, waited)
    end

    -- r: "" or a code from the Lua recv, 0 or a code from net.capi's fast
    -- path; nil: not tried, the socket is marked _drained (no flags: the
    -- fast path's calls).
    local function recv_other(self, r, size, flags)
        flags = flags or 0
        if r == nil then return recv_drained(self, size, flags) end
        if type(r) ~= 'number' or not AGAIN[r] then return recv_rest(self, r, nil, size, flags) end
        return recv_rest(self, r, deadline_of(self, 'r'), size, flags)
    end

    -- A read after a wait: the room is measured again, as other code (another
    -- coroutine, the waiter itself) may have appended to buf meanwhile; the
    -- size the call measured before the wait would write past the buffer.
    local function recvinto_attempt(fd, buf, size, flags)
        local len = buf._len
        local room = buf._cap - len
        if size > room then
            if room == 0 then return ENOBUFS end
            size = room
        end
        return sock_recvinto(fd, buf._mem, append_at(buf, size), size, flags)
    end

    -- recvinto's: the reads after the first n bytes, appended to buf; the
    -- count of them all.
    local function recvinto_all(self, n, deadline, buf, size, flags, waited)
        local total = n
        rest_of_all(self, n, deadline or deadline_of(self, 'r'), size, flags,
            function(fd, want, f)
                local r = recvinto_attempt(fd, buf, want, f)
                if r == ENOBUFS then return 0 end -- buf filled meanwhile: no failure
                if r > 0 then
                    buf._len = buf._len + r
                    total = total + r
                end
                return r
            end, waited)
        return total
    end

    -- The rest of a recvinto whose first try gave n, as recv_rest.
    local function recvinto_rest(self, n, deadline, buf, size, flags, waited)
        if AGAIN[n] and not dontwait(flags) then
            waited = true
            deadline = deadline_after(self, 'r', n, deadline) -- (as recv_rest)
            local err
            n, err = retry_until(self, 'r', n, deadline, recvinto_attempt, buf, size, flags)
            if n == nil then return gave_up(err) end
        end
        if n > 0 then
            buf._len = buf._len + n
            if drains and n < size then
                if flags ~= 0 and waits_for_all(flags) then
                    return recvinto_all(self, n, deadline, buf, size, flags, waited)
                end
                self._drained = true
            end
            return n
        end
        return appended(n, self[1])
    end

    local function recvinto_drained(self, buf, size, flags)
        local ok, deadline, waited = wait_first(self, flags)
        if not ok then return gave_up(deadline) end
        local n
        if waited then
            n = try_after_wait(self, recvinto_attempt, buf, size, flags)
        else
            n = recvinto_attempt(self[1], buf, size, flags)
        end
        return recvinto_rest(self, n, deadline, buf, size, flags, waited)
    end

    -- n: 0 or a code, from recvinto(self, buf, size, flags).
    local function recvinto_other(self, n, buf, size, flags)
        return recvinto_rest(self, n, AGAIN[n] and deadline_of(self, 'r') or nil, buf, size, flags)
    end

    -- Sends the bytes from+1 .. len of data (a string, a buffer's memory,
    -- or a list's cursor: list_rest).
    local function send_rest(fd, data, from, len, flags)
        if type(data) == 'string' then
            return sock_send(fd, data, flags, from + 1, len)
        elseif getmetatable(data) == Buffer then
            return sock_sendfrom(fd, data._mem, from, len - from, flags)
        end
        local i, j, skip = list_rest(data, from, drains)
        return sock_sendv(fd, data.list, flags, i, j, skip)
    end

    -- n: a count below #data, or a code, from send(self, data, flags). With
    -- a deadline or a waiter, the whole of data is sent, or the count of
    -- what went out is reported with again = true when the deadline passes.
    -- (A blocking fd's short count, a signal's or its SO_SNDTIMEO's, is
    -- reported as without a waiter: retry_until returns its "try again".)
    local function send_other(self, n, data, flags)
        flags = flags or 0
        local len = length_of(data)
        if (n >= 0 or AGAIN[n]) and not dontwait(flags) and wait.waiter_for(self) then
            local done = n > 0 and n or 0
            local deadline = deadline_of(self, 'w') -- one for the whole string
            local rest = data
            -- a buffer's bytes are from+1 .. len of its memory after base,
            -- where they began as the call began (see net.buffer)
            local base = 0
            if getmetatable(data) == Buffer then
                base = data._head
            elseif type(data) == 'table' then
                -- the list as the call got it, whatever another coroutine
                -- does to the table during a wait (a piece taken out would
                -- leave nothing to send and the loop spinning; one put in
                -- would go out uncounted); its strings cannot change
                local copy = {}
                for i = 1, #data do copy[i] = data[i] end
                rest = {list = copy, i = 1, skipped = 0}
            end
            local err
            -- nothing went: an empty message (a datagram of 0 bytes) is
            -- tried again too, or it would read as sent
            local pending = AGAIN[n]
            local code = n < 0 and n or EAGAIN -- what the last try said
            while done < len or pending do
                pending = false
                n, err = retry_until(self, 'w', code, deadline, send_rest, rest, base + done, base + len,
                                     flags)
                code = EAGAIN
                if n == nil then
                    if err then return nil, err end
                    return done, nil, true -- the deadline passed
                end
                if AGAIN[n] then return done, nil, true end -- a blocking fd's (retry_until)
                if n < 0 then return sent(n, len) end
                done = done + n
            end
            return len
        end
        return sent(n, len)
    end

    -- str | nil, nil, true (try again, or the deadline passed) | what
    -- rules.received says of 0 bytes or a failure.
    function cls:recv(size, flags)
        if size == nil then
            size = DEFAULT_RECV_SIZE
        else
            size = whole_in('recv', 1, size, 1, INT_MAX)
            if not size then return nil, EINVAL_MSG end
        end
        if flags == nil then
            flags = 0
        else
            flags = whole_in('recv', 2, flags, 0, INT_MAX)
            if not flags then return nil, EINVAL_MSG end
        end
        if self._drained then return recv_drained(self, size, flags) end
        local str = sock_recv(self[1], size, flags)
        if type(str) == 'string' and str ~= '' then
            if flags ~= 0 and #str < size and waits_for_all(flags) then
                return recv_all(self, str, nil, size, flags)
            end
            return str
        end
        return recv_other(self, str, size, flags)
    end

    -- n (bytes appended to buf) | nil, nil, true | what rules.appended says.
    -- One recv(2) into buf's room, at most size bytes (default: all the
    -- room). The same inline checks as recv.
    function cls:recvinto(buf, size, flags)
        if getmetatable(buf) ~= Buffer then
            argerror('recvinto', 1, 'net.buffer expected, got ' .. type(buf))
        end
        local len = buf._len
        local room = buf._cap - len
        if size == nil then
            if room == 0 then return nil, ENOBUFS_MSG end
            size = room
        else
            size = whole_in('recvinto', 2, size, 1, room)
            if not size then return nil, EINVAL_MSG end
        end
        if flags == nil then
            flags = 0
        else
            flags = whole_in('recvinto', 3, flags, 0, INT_MAX)
            if not flags then return nil, EINVAL_MSG end
        end
        if self._drained then return recvinto_drained(self, buf, size, flags) end
        local n = sock_recvinto(self[1], buf._mem, append_at(buf, size), size, flags)
        if n > 0 then
            buf._len = len + n
            if flags ~= 0 and n < size and waits_for_all(flags) then
                return recvinto_all(self, n, nil, buf, size, flags)
            end
            return n
        end
        return recvinto_other(self, n, buf, size, flags)
    end

    -- len | len, nil, true (partial or try again) | what rules.sent says.
    -- data is a string; a net.buffer whose whole content is sent and stays
    -- in the buffer (the caller consumes what went out); or a list of
    -- strings, sent in one gather write (no concatenation).
    function cls:send(data, flags)
        local buf, list
        if type(data) ~= 'string' then
            if getmetatable(data) == Buffer then
                buf = data
            elseif type(data) == 'table' and getmetatable(data) == nil then
                list = data
            else
                argerror('send', 1, 'string, list of strings or net.buffer expected, got '
                         .. type(data))
            end
        end
        if flags == nil then
            flags = 0
        else
            flags = whole_in('send', 2, flags, 0, INT_MAX)
            if not flags then return nil, EINVAL_MSG end
        end
        local len, n
        if buf then
            len = buf._len
            n = sock_sendfrom(self[1], buf._mem, buf._head, len, flags)
        elseif list then
            len = list_length(list)
            n = sock_sendv(self[1], list, flags)
        else
            len = #data
            n = sock_send(self[1], data, flags)
        end
        if n == len then return n end
        return send_other(self, n, data, flags)
    end

    -- On PUC Lua net.capi does the common calls of recv and send in C,
    -- handing every other call to the methods above and every other outcome
    -- to the rules.
    cls.recv = fast.method('recv', cls.recv, recv_other, DEFAULT_RECV_SIZE)
    cls.send = fast.method('send', cls.send, send_other)
end

return M
