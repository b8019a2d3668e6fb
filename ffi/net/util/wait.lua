-- How a socket waits when the kernel says "try again" (EAGAIN, EINTR):
-- deadlines (sock:settimeout) and waiters (sock:setwaiter, net.setwaiter,
-- net.loop). A waiter is fn(sock, mode, deadline): mode 'r' or 'w',
-- deadline an absolute net.now() time or nil; it returns true when sock is
-- ready, false when the deadline passed, or nil, err. A call asks whether
-- to wait only after a "try again", except the next read of a stream that
-- a short read drained (net.util.io's wait_first), which asks first: in
-- net.loop, once per echo.
local core = require('net.core')
local result = require('net.util.result')
local args = require('net.util.args')

local setmetatable, type, running, yield = setmetatable, type, coroutine.running, coroutine.yield
local now, poll_fd, strerror = core.now, core.poll_fd, core.strerror
local AGAIN = result.AGAIN
local K = core.constants
local EVENTS = {r = K.POLLIN, w = K.POLLOUT}
local EINTR = -K.EINTR

local M = {}

-- A socket's fd: a whole number a C int holds (NaN fails every test).
local function is_fd(v)
    return type(v) == 'number' and v % 1 == 0
        and v >= -args.INT_MAX - 1 and v <= args.INT_MAX
end

-- The arguments of a waiter called by a program (the library passes them
-- right): a socket object, 'r' or 'w', a number or nil. Raises at the
-- program's line (called by the waiter itself: every shipped waiter).
local function check_waiter_args(fname, sock, mode, deadline)
    if type(sock) ~= 'table' or not is_fd(sock[1]) then
        args.error(fname, 1, 'socket expected, got ' .. type(sock), 1)
    elseif not EVENTS[mode] then
        args.error(fname, 2, "'r' or 'w' expected, got " .. (type(mode) == 'string'
            and ("'" .. mode .. "'") or type(mode)), 1)
    elseif deadline ~= nil and type(deadline) ~= 'number' then
        args.error(fname, 3, 'number expected, got ' .. type(deadline), 1)
    end
end
M.check_waiter_args = check_waiter_args

-- The default waiter: poll(2) on the socket's one fd. A signal (EINTR) does
-- not end the wait: net_poll_fd waits on with the time left, in C, so a Lua
-- signal handler runs once the call returns (reference.md says so).
function M.poll(sock, mode, deadline)
    local events = EVENTS[mode]
    if not events or type(sock) ~= 'table' or not is_fd(sock[1])
            or (deadline ~= nil and type(deadline) ~= 'number') then
        check_waiter_args('poll', sock, mode, deadline)
    end
    while true do
        local timeout = -1
        if deadline then
            timeout = deadline - now()
            if timeout < 0 then timeout = 0 end
        end
        local rc = poll_fd(sock[1], events, timeout)
        if rc > 0 then return true end -- hangup and errors too: the retry reports them
        if rc == 0 then return false end
        if not AGAIN[rc] then return nil, strerror(rc) end
    end
end

-- The coroutine waiter: yields sock, mode, deadline to whatever resumed the
-- running coroutine; that scheduler resumes it with true (ready), false
-- (deadline passed) or nil, err.
function M.coroutine(sock, mode, deadline)
    check_waiter_args('coroutine', sock, mode, deadline)
    return yield(sock, mode, deadline)
end

local global -- net.setwaiter's, or nil

-- The waiter of a socket that has a deadline but no waiter, or that is
-- blocking for its user but non-blocking underneath (_blocking: every socket
-- inside nginx). install() replaces both settings for a host that must
-- never block its thread (net.openresty inside nginx).
M.default = M.poll
M.always_nonblocking = false
-- fn(): true when the host is going away and will not collect garbage
-- by itself any more (an exiting nginx worker, net.openresty's answer):
-- net.loop then has what a failed run leaves collected.
M.host_exiting = function() return false end
-- fn(collect): has collect() run (it collects all garbage) for a failed run;
-- here at once, inside the run. net.openresty runs it from a timer, after
-- the run's thread has ended, one for the runs that fail together (every
-- timer's loop at an exit).
M.collect_soon = function(collect) collect() end

-- default: the waiter; always_nonblocking: every socket made from now on is
-- non-blocking underneath, and waits through the default when its user
-- asked for a blocking one.
function M.install(default, always_nonblocking)
    M.default = default
    M.always_nonblocking = always_nonblocking and true or false
end
-- Waiters for which waiting costs less than a read that finds nothing
-- (net.loop's: the wait is one entry in an epoll set the loop waits on
-- anyway). A stream socket that a short read has drained waits first
-- through them, and reads once ready (net.util.io). Weak keys.
M.waits_first = setmetatable({}, {__mode = 'k'})
-- waiter -> fn(): the most seconds one wait through that waiter may last
-- now, or nil (as long as its deadline says). A call that waits for one
-- thing in several steps (retry_until's tries of a call that polls ready
-- yet says "try again", such as a unix connect to a full backlog; net.poll's
-- looks at a set whose handle cannot be waited for) bounds the steps
-- together by it (capped), as the waiter bounds one wait. Weak keys.
M.wait_caps = setmetatable({}, {__mode = 'k'})

-- deadline, or sooner the end of the cap of w's one wait from now.
function M.capped(w, deadline)
    local cap = M.wait_caps[w]
    cap = cap and cap()
    if not cap then return deadline end
    local at = now() + cap
    if deadline and deadline < at then return deadline end
    return at
end

-- coroutine -> the waiter of the net.loop running it (weak keys).
M.loop_waiters = setmetatable({}, {__mode = 'k'})
local loop_waiters = M.loop_waiters

function M.set_global(fn)
    global = fn
end

-- The waiter that applies to sock, or nil when it does not wait (the seed's
-- behaviour: a blocking fd blocks, a non-blocking one reports "again").
-- Precedence: its own, the loop's in a loop coroutine, the global one, and
-- the default (poll(2)) for a socket that has only a deadline, or is blocking
-- for its user only (inside nginx).
function M.waiter_for(sock)
    local w = sock._waiter
    if w then return w end
    local co = running()
    w = co and loop_waiters[co]
    if w then return w end
    if global then return global end
    if sock._timeout or sock._blocking then return M.default end
end

-- Whether flags (a call's MSG_* flags, a whole number >= 0) hold bit (one
-- MSG_* flag).
local function has_flag(flags, bit)
    return flags >= bit and flags % (bit + bit) >= bit
end
M.has_flag = has_flag

-- Whether flags hold MSG_DONTWAIT: that one call does not wait, deadline
-- and waiter or not; its "try again" is returned at once, as on a
-- non-blocking socket without either.
local DONTWAIT = K.MSG_DONTWAIT
function M.dontwait(flags)
    return has_flag(flags, DONTWAIT)
end

-- Whether sock's fd blocks in the kernel, which then says "try again"
-- (EAGAIN) only when the socket's SO_RCVTIMEO or SO_SNDTIMEO ran out: a
-- result, which no waiter (net.loop's, the global one) waits past. A signal
-- (EINTR) is waited out through them. A deadline or a waiter of the socket's
-- own makes its fd non-blocking underneath, and so does nginx (_blocking);
-- _nonblock is the program's own non-blocking setting (made, own_nonblock).
-- So the fd is asked (one fcntl) only after a "try again" of a socket the
-- library did not make non-blocking: a wrapped or accepted one.
function M.blocks_in_kernel(sock)
    if sock._nonblock or sock._timeout or sock._waiter or sock._blocking then return false end
    return core.sock_nonblock(sock[1], -1) == 0
end

-- attempt(fd, a, b, c, d), one call, on an fd that blocks made to not
-- wait in the kernel (O_NONBLOCK for that call only, taken back also when
-- the call raises: a memory error on PUC Lua, which the caller then gets).
function M.without_blocking(fd, attempt, a, b, c, d)
    core.sock_nonblock(fd, 1)
    local ok, r = pcall(attempt, fd, a, b, c, d)
    core.sock_nonblock(fd, 0)
    if not ok then error(r, 0) end
    return r
end

-- attempt(sock[1], a, b, c, d) after a wait: never waiting in the kernel,
-- also when the fd blocks now (another coroutine's settimeout(nil) during
-- the wait).
function M.try_after_wait(sock, attempt, a, b, c, d)
    if M.blocks_in_kernel(sock) then return M.without_blocking(sock[1], attempt, a, b, c, d) end
    return attempt(sock[1], a, b, c, d)
end

-- now + sock's SO_RCVTIMEO (mode 'r') or SO_SNDTIMEO ('w'), or nil when it
-- has none: the deadline of a call the kernel would have ended then, where
-- the library waits instead (one getsockopt, on a call that has to wait).
local KERNEL_TIMEOUT = {r = core.sock_rcvtimeo, w = core.sock_sndtimeo}
local function kernel_deadline(sock, mode)
    local t = KERNEL_TIMEOUT[mode](sock[1], -1)
    if t > 0 then return now() + t end
end

-- The deadline of the tries after a primitive's "try again" r on sock
-- (mode 'r' or 'w'), the call's being deadline (nil: none): a signal
-- (EINTR) on a fd that blocks in the kernel, which the tries then wait out
-- through the waiter, not in the kernel, ends them by its SO_RCVTIMEO or
-- SO_SNDTIMEO from now (retry_until; the rest of a MSG_WAITALL read too).
function M.deadline_after(sock, mode, r, deadline)
    if r == EINTR and not deadline and M.blocks_in_kernel(sock) then
        return kernel_deadline(sock, mode)
    end
    return deadline
end

-- The absolute deadline of a call of sock starting now that waits for mode
-- ('r' or 'w'), or nil: its settimeout's. A socket blocking for its user
-- only (_blocking: inside nginx) is non-blocking underneath, where the
-- kernel never applies its SO_RCVTIMEO or SO_SNDTIMEO: without a timeout of
-- its own, the one of mode is its deadline.
function M.deadline_of(sock, mode)
    local timeout = sock._timeout
    if timeout then
        -- a call of a net.reader (an item) has one deadline for its reads,
        -- handed to each read (net.reader's read_by) and taken here, so a
        -- read that raises (its waiter's error) leaves none behind
        local at = sock._call_at
        if at and sock._call_co == running() then
            sock._call_at = nil
            return at
        end
        return now() + timeout
    end
    if sock._blocking then return kernel_deadline(sock, mode) end
end

-- What a call reports when its wait ended without the socket ready: nil,
-- err when the waiter failed, nil, nil, true when the deadline passed.
function M.gave_up(err)
    return result.nothing(err, true)
end

-- ---- pauses: for a call whose socket cannot tell when to try again ---------
-- A unix connect to a full backlog, a sendto from an unconnected unix
-- datagram socket to a full queue: nothing on the socket says when the call
-- can go on (it even polls ready at once). retry_until tries such a call again after
-- pauses of 1, 2, 4, 8, then 16 ms, each in the manner of w, the waiter that
-- applies to the call's socket: it yields where w yields (net.loop, nginx)
-- and blocks where w blocks, and nothing spins.
--   A waiter that can sleep without a descriptor has a pauser: pausers[w] =
-- fn(until_t, sock) that sleeps until then (net.loop's ends at once when
-- sock, the call's socket, is closed; nginx's ngx.sleep goes on) and
-- returns true, nil, err when it failed, or false
-- when it cannot sleep now (net.openresty in a phase that cannot yield).
-- Otherwise a pause is a wait through w on a quiet socket of the call's
-- own (an unnamed unix datagram socket, which nothing can make readable)
-- until the pause's end; when no descriptor is left for it, w is
-- asked about the call's socket, which says ready at once (the tries then
-- go on without a pause, as far as the deadline). Weak keys.
M.pausers = setmetatable({}, {__mode = 'k'})
local PAUSE_FIRST, PAUSE_MAX = 0.001, 0.016
-- A waiter's false this close to a pause's end is that end, not the waiter
-- giving up: the timers of other loops are coarse to the millisecond
-- (libuv's loop clock), and a pause is only milliseconds long, so such a
-- timer comes back a little before it, where giving up ends the whole call.
local TIMER_SLACK = 0.001
local Pauses = {}
Pauses.__index = Pauses

-- The pauses of one call of sock waiting for mode through w (sock: a
-- socket, or a net.poll set whose handle cannot be waited for).
local function new_pauses(w, sock, mode)
    return setmetatable({w = w, sock = sock, mode = mode, step = PAUSE_FIRST}, Pauses)
end
M.new_pauses = new_pauses

-- The quiet socket of these pauses, made at the first need, or nil when no
-- descriptor can be made now.
function Pauses:quiet_socket()
    local quiet = self.quiet
    if quiet then return quiet end
    local socket = require('net.util.socket')
    local g = socket.new_guard()
    local fd = core.sock_open(K.AF_UNIX, K.SOCK_DGRAM, 0, M.creation_flags(true), g)
    if fd < 0 then return nil end
    -- of the base class: a waiter (net.loop's) registers it, and close()
    -- takes it out of poll sets again
    quiet = socket.adopt(require('net.socket'), fd, g)
    self.quiet = quiet
    return quiet
end

-- Pauses for the next step, ending by deadline (nil: none): true when it
-- paused (a try follows, the last one at the deadline); false when the
-- deadline had passed, or the waiter gave up early; nil, err when the
-- waiter failed.
function Pauses:pause(deadline)
    local t = now()
    if deadline and t >= deadline then return false end
    local step = self.step
    self.step = step * 2 < PAUSE_MAX and step * 2 or PAUSE_MAX
    local until_t = t + step
    if deadline and until_t > deadline then until_t = deadline end
    local w, pauser = self.w, M.pausers[self.w]
    local ready, err
    if pauser then ready, err = pauser(until_t, self.sock) end
    if ready == false or not pauser then
        local quiet = self:quiet_socket()
        if quiet then
            ready, err = w(quiet, 'r', until_t)
        else
            ready, err = w(self.sock, self.mode, until_t)
        end
        if ready == false and now() < until_t - TIMER_SLACK then return false end -- gave up early
    end
    if ready == nil then return nil, err end
    return true
end

-- Closes the quiet socket, if one was made.
function Pauses:close()
    if self.quiet then self.quiet:close() end
end

-- Whether the deadline of a call of sock (mode 'r' or 'w'), which
-- retry_until is given, was settimeout's and settimeout(nil) took it away
-- meanwhile. A deadline comes otherwise from the socket's SO_RCVTIMEO or
-- SO_SNDTIMEO, and stays: on a blocking fd after a signal (blocking: the fd
-- blocked in the kernel when the retries began), and on a socket blocking
-- for its user where the host never blocks (_blocking, inside nginx). There
-- a socket without such a timeout had settimeout's; one with both cannot
-- tell, and waits on (reference.md says so).
local function deadline_taken_away(sock, mode, deadline, blocking)
    return deadline ~= nil and sock._timeout == nil and not blocking
        and not (sock._blocking and kernel_deadline(sock, mode))
end

-- Retries attempt(sock[1], a, b, c, d) while r, the raw result of the last
-- primitive call, is a "try again" code and a waiter applies to sock: waits
-- for mode until deadline, then calls again. Returns the last raw result;
-- nil, err when the waiter failed; nil, nil, true when the deadline passed
-- (gave_up) and, for a read, one more try then found nothing.
local function retry_until(sock, mode, r, deadline, attempt, a, b, c, d)
    if type(r) ~= 'number' or not AGAIN[r] then return r end
    local w = M.waiter_for(sock)
    if not w then return r end
    local blocking = M.blocks_in_kernel(sock)
    if blocking then
        if r ~= EINTR then return r end -- its SO_*TIMEO ran out
        deadline = M.deadline_after(sock, mode, r, deadline) -- a signal
    end
    -- (taken away between two retries of one call, as send's rest)
    if deadline_taken_away(sock, mode, deadline, blocking) then return r end
    -- A read whose deadline had passed when a try found nothing
    -- (settimeout(0): the polling idiom of LuaSocket's users) reports it at
    -- once where the waiter is poll(2): that waiter's look and the read
    -- after it would find what the try found a moment ago. (Not a write: a
    -- connect under way on loopback is often done by the look.)
    if mode == 'r' and w == M.poll and deadline and now() >= deadline then return M.gave_up() end
    local limit -- once ready yet "try again": deadline, or sooner w's cap on one wait
    local stuck, pauses = false, nil -- polls ready, yet "try again" (new_pauses)
    local ready, err
    local waited = false
    repeat
        -- A socket that no longer waits as the call began (its waiter or
        -- its deadline taken away, or its fd blocking again: setwaiter(nil)
        -- or settimeout(nil) meanwhile) ends the call at its next wait, "try
        -- again" as without them. (A blocking one from the start, retried
        -- after a signal, goes on.)
        if waited and (M.waiter_for(sock) ~= w or deadline_taken_away(sock, mode, deadline, blocking)
            or not blocking and M.blocks_in_kernel(sock)) then
            break
        end
        waited = true
        if stuck then
            ready, err = pauses:pause(limit)
        else
            ready, err = w(sock, mode, deadline)
        end
        if not ready then break end
        r = M.try_after_wait(sock, attempt, a, b, c, d)
        -- Ready, yet "try again": another caller may have taken what was
        -- ready (then the socket polls not ready, and the next wait is w's),
        -- or poll says ready where the call cannot go on, and would say so
        -- at once each time (then the next try comes after a pause). Such
        -- tries make one wait: a cap on one wait (net.openresty's in a phase
        -- that cannot yield) bounds them all, as a deadline does.
        -- A read ready only because its socket's reading end is shut, with
        -- nothing queued (a datagram socket after closer()), ends as the
        -- kernel's own blocking read would have: nothing will come.
        -- net_sock_readshut says so (or gives a code: a shut unix
        -- listener's EINVAL, what a blocking accept says there).
        if type(r) == 'number' and AGAIN[r] then
            limit = limit or M.capped(w, deadline)
            if limit and now() >= limit then ready = false; break end
            stuck = poll_fd(sock[1], EVENTS[mode], 0) > 0
            local shut = stuck and mode == 'r' and result.readshut(sock[1])
            if shut and shut ~= 0 then
                r = shut
            elseif stuck and not pauses then
                pauses = new_pauses(w, sock, mode)
            end
        end
    until type(r) ~= 'number' or not AGAIN[r]
    if pauses then pauses:close() end
    if ready == false and mode == 'r' then
        -- The deadline passed: a read looks once more, as the kernel's own
        -- timeout returns what is queued then (bytes below SO_RCVLOWAT,
        -- which never make the socket readable).
        r = M.try_after_wait(sock, attempt, a, b, c, d)
        if type(r) ~= 'number' or not AGAIN[r] then return r end
    end
    if not ready then return M.gave_up(err) end
    return r
end
M.retry_until = retry_until

-- retry_until with the deadline of a call of sock that starts now: what a
-- call that makes one system call at a time uses.
function M.retry(sock, mode, r, attempt, a, b, c, d)
    if type(r) ~= 'number' or not AGAIN[r] then return r end
    return retry_until(sock, mode, r, M.deadline_of(sock, mode), attempt, a, b, c, d)
end

-- The NET_* creation flags of a new socket: close-on-exec always,
-- non-blocking on request, and always where the host must never block
-- (then made() marks the sockets whose user asked for blocking ones).
function M.creation_flags(nonblock)
    if nonblock or M.always_nonblocking then return K.CLOEXEC + K.NONBLOCK end
    return K.CLOEXEC
end

-- Marks a socket made with creation_flags(nonblock): blocking for its user
-- but not underneath, it waits through the default waiter. Returns sock.
function M.made(sock, nonblock)
    if nonblock then
        sock._nonblock = true
    elseif M.always_nonblocking then
        sock._blocking = true
    end
    return sock
end

-- Marks a socket adopted from a descriptor made elsewhere (net.wrap): where
-- the host must never block, a blocking one becomes blocking for its user
-- only, non-blocking underneath as every socket made there (the flag is the
-- open file's: a process that passed the descriptor sees it too). Returns
-- sock.
function M.adopted(sock)
    if not M.always_nonblocking then return sock end
    local fd = sock[1]
    local nonblock = core.sock_nonblock(fd, -1) == 1
    if not nonblock then core.sock_nonblock(fd, 1) end
    return M.made(sock, nonblock)
end

-- Makes sock's fd non-blocking underneath while it may wait (a deadline or
-- a waiter of its own), so that no call blocks past a deadline or stops a
-- cooperative scheduler; restores a blocking fd when neither is left.
-- true, or nil, err.
function M.underneath(sock, waits)
    local fd = sock[1]
    if waits then
        if sock._flipped then return true end
        local cur = core.sock_nonblock(fd, -1)
        if cur == 0 then
            cur = core.sock_nonblock(fd, 1)
            sock._flipped = cur >= 0 or nil
        end
        if cur < 0 then return result.fail(cur) end
    elseif sock._flipped then
        local rc = core.sock_nonblock(fd, 0)
        if rc < 0 then return result.fail(rc) end
        sock._flipped = nil
    end
    return true
end

-- Called after a program set sock:nonblock(on) (net.Socket hands it to its
-- option method): on is now the socket's own setting, not a flip of
-- underneath(). So a later settimeout(nil) or setwaiter(nil) never undoes a
-- nonblock(true) (what net.loop's docs ask of accepted connections), and a
-- deadline set after a nonblock(false) flips the fd again.
function M.own_nonblock(sock, on)
    sock._flipped, sock._nonblock = nil, on or nil
    if M.always_nonblocking then
        -- inside nginx no fd blocks: nonblock(false) makes the socket
        -- blocking for its user only, waiting through the host's waiter
        sock._blocking = not on or nil
        if not on then core.sock_nonblock(sock[1], 1) end
    elseif sock._timeout or sock._waiter then
        -- a socket blocking for its user that has a deadline or a waiter of
        -- its own waits through them: its fd stays non-blocking underneath
        -- (else a nonblock(false) after settimeout would block past it)
        M.underneath(sock, true)
    end
end

-- Inside nginx every socket waits through the OpenResty waiter, whichever
-- of the library's modules a program loads first: net.openresty installs
-- it (M.install) as it loads, and needs this module, hence the early entry.
if type(ngx) == 'table' and ngx.get_phase then -- luacheck: ignore 113
    package.loaded['net.util.wait'] = M
    require('net.openresty')
end

return M
