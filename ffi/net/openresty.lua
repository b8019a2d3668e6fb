-- net.openresty: how lua-net waits inside nginx (ngx_lua / OpenResty),
-- where a blocked call would freeze the whole worker and every request on it.
-- net.util.wait loads this module by itself when it finds `ngx.get_phase`;
-- loading it installs its waiter as the default of net.util.wait, with every
-- socket made from then on non-blocking underneath (a socket its user asked
-- to be blocking waits through this waiter). doc/openresty.md is the guide;
-- bench/RESULTS.md ("OpenResty wake latency") holds the waiters' figures.
--
-- The waiter picks by ngx.get_phase(), before anything else: in ngx_lua,
-- coroutine.yield in a handler's entry thread returns at once, so generic
-- coroutine logic would spin.
--  * yieldable phases (YIELDABLE below), with a thread pool configured: the
--    fd goes into one epoll set per worker (made lazily, after fork) and the
--    caller sleeps on an ngx.semaphore; one ngx.timer loop keeps one
--    ngx.run_worker_thread call blocked in epoll_wait (at most
--    poll_interval seconds) and posts the semaphores of the ready fds; the
--    waits make that loop again when nginx drops its timer, and the loop
--    drops the waits of coroutines killed while waiting; a pending timer
--    ends that call at a graceful quit;
--  * yieldable phases without a pool, or once a pool call failed: poll(fd, 0)
--    and ngx.sleep with a backoff of 1, 2, 4, 8, 16 ms (never ngx.sleep(0),
--    which stock nginx warns about and which would spin);
--  * every other phase (init, init_worker, set, filters, log, balancer ...):
--    a blocking poll bounded by min(deadline, block_cap); the cap reached
--    reads as the deadline passed.
local M = {}
-- net.util.wait requires this module as it loads (inside nginx), and this
-- one requires net.util.wait: entered here first, M is what that inner
-- require returns when this module is the first one loaded. Without it the
-- inner require fails ("loop or previous error") and poisons every later
-- require of lua-net in that Lua VM.
package.loaded['net.openresty'] = M

local core = require('net.core')
local wait = require('net.util.wait')
local socket = require('net.util.socket')
local result = require('net.util.result')
local args = require('net.util.args')
local collect = require('net.util.collect')

-- Outside nginx there is no ngx: the module then loads, installs nothing
-- and changes nothing, and its waiter acts as in a phase that cannot yield.
local ngx = type(ngx) == 'table' and ngx or {} -- luacheck: ignore 113 (the global of ngx_lua)
local THREAD = 'net.util.openresty_thread' -- what pool threads run

local type, pairs, tostring, min, max = type, pairs, tostring, math.min, math.max
local get_phase = ngx.get_phase or function() return nil end
local ngx_sleep, ngx_log = ngx.sleep, ngx.log
local now, poll_fd, poll_ctl, strerror = core.now, core.poll_fd, core.poll_ctl, core.strerror
local K = core.constants
local POLLIN, POLLOUT, POLLPRI, POLLERR, POLLHUP = K.POLLIN, K.POLLOUT, K.POLLPRI, K.POLLERR, K.POLLHUP
local POLL_ADD, POLL_MOD, POLL_DEL = K.POLL_ADD, K.POLL_MOD, K.POLL_DEL
local EVENTS = {r = POLLIN, w = POLLOUT}
local AGAIN = result.AGAIN

-- The phases whose code may yield (ngx.sleep, ngx.semaphore,
-- ngx.run_worker_thread): NGX_HTTP_LUA_CONTEXT_YIELDABLE of ngx_lua
-- (src/ngx_http_lua_util.h), 0.10.23 and later releases together, but two
-- that ngx_lua counts yieldable where a yield fails on Debian 12's nginx
-- 1.22 and OpenSSL, so a wait there blocks, bounded, as in the phases that
-- cannot yield:
--  * ssl_client_hello: a yield (ngx.sleep itself) aborts the TLS handshake;
--  * ssl_session_fetch, unless the process has OpenResty's patched OpenSSL
--    (below): without it ngx_lua logs "cannot yield in sess get cb" and
--    drops the handler, whose coroutine is never resumed (a wait there
--    would never end).
M.YIELDABLE = {
    rewrite = true, server_rewrite = true, access = true, precontent = true,
    content = true, timer = true, ssl_cert = true,
    proxy_ssl_cert = true, proxy_ssl_verify = true,
}
local YIELDABLE = M.YIELDABLE

-- ngx_lua lets ssl_session_fetch yield only when built with OpenResty's
-- patched OpenSSL (SSL_ERROR_PENDING_SESSION), whose libssl has the
-- function it then calls, SSL_magic_pending_session_ptr: looked for among
-- the process's symbols (OpenResty builds the two together).
local function session_fetch_yields()
    local has_ffi, ffi = pcall(require, 'ffi')
    if not has_ffi then return false end
    pcall(ffi.cdef, 'void *SSL_magic_pending_session_ptr(void);')
    return (pcall(function() return ffi.C.SSL_magic_pending_session_ptr end))
end
YIELDABLE.ssl_session_fetch = session_fetch_yields() or nil

local EXITING = 'nginx worker is exiting'

-- Once the worker is exiting (a reload, `nginx -s quit`), waits in timers
-- fail with EXITING, so a loop there (an accept loop, say) ends and the
-- worker can go; waits of requests go on (by ngx.sleep: the poller is a
-- timer, and its loop ends), so a request in flight finishes, as one on a
-- cosocket does. nginx waits for it (up to worker_shutdown_timeout).
local function must_end()
    return ngx.worker.exiting() and get_phase() == 'timer'
end

-- configure{}'s settings; the thread pool may also come from the
-- environment (nginx.conf: `env NET_OPENRESTY_THREAD_POOL=name;`).
local settings = {
    thread_pool = os.getenv('NET_OPENRESTY_THREAD_POOL'),
    block_cap = 1,          -- seconds a non-yieldable phase may block per wait
    poll_interval = 0.2,    -- seconds one pool thread call waits at most
    backoff_max = 0.016,    -- the sleep waiter's longest step, seconds
}
if settings.thread_pool == '' then settings.thread_pool = nil end
local BACKOFF_MIN = 0.001
local SEMA_CHUNK = 3600 -- seconds: ngx.semaphore takes an int of milliseconds
local MAX_EVENTS = 1024 -- records per thread call; the rest come with the next

-- Counters for stats(): which way the waits went.
local counts = {pool = 0, sleep = 0, block = 0, thread_calls = 0, resolved_in_pool = 0, busy_spells = 0,
                refused_spells = 0, timerless_spells = 0}

local pool_error -- the message of the pool call that failed; then sleep waits
local poller -- this worker's epoll set and its loop (below), made on first use

-- ---- configuration -------------------------------------------------------------
local positive = function(name)
    return {'number', check = function(v)
        if not (v > 0 and v < math.huge) then
            return ("option '%s' must be a number of seconds above 0"):format(name)
        end
    end}
end
local SCHEMA = {
    thread_pool = {'string', 'boolean', check = function(v)
        if v == true or v == '' then return "option 'thread_pool' must be a pool's name or false" end
    end},
    block_cap = positive('block_cap'),
    poll_interval = positive('poll_interval'),
    backoff_max = {'number', check = function(v)
        if not (v >= BACKOFF_MIN and v < math.huge) then
            return "option 'backoff_max' must be a number of seconds, 0.001 or more"
        end
    end},
}

-- configure{thread_pool = name | false, block_cap =, poll_interval =,
-- backoff_max =}: changes the given settings (the rest stay). A bad option
-- raises and changes nothing. Returns true.
function M.configure(opts)
    args.options('configure', opts, SCHEMA)
    for key in pairs(SCHEMA) do -- (read as the check read them: __index too)
        local value = opts[key] -- (nil: not given, stays)
        if key == 'thread_pool' and value ~= nil then
            settings.thread_pool = value or nil
            pool_error = nil -- a new pool gets its chance
        elseif value ~= nil then
            settings[key] = value
        end
    end
    return true
end

-- A copy of the settings in effect, and why the pool is not used (nil when
-- it is, or none is configured).
function M.settings()
    local out = {}
    for k, v in pairs(settings) do out[k] = v end
    out.pool_error = pool_error
    return out
end

-- A copy of the counters: waits done by each waiter (pool, sleep, block),
-- thread-pool calls made by the poller (thread_calls), names resolved in
-- the pool (resolved_in_pool), the spells warned of once each (busy_spells,
-- refused_spells, timerless_spells); and registered, the fds in this
-- worker's epoll set now (each has a wait pending).
function M.stats()
    local out = {}
    for k, v in pairs(counts) do out[k] = v end
    out.registered = poller and poller.count or 0
    return out
end

-- ---- non-yieldable phases: a bounded blocking poll -------------------------------
local function block_wait(sock, mode, deadline)
    counts.block = counts.block + 1
    local limit = settings.block_cap
    if deadline then limit = min(limit, max(0, deadline - now())) end
    local rc = poll_fd(sock[1], EVENTS[mode], limit)
    if rc > 0 then return true end
    if rc == 0 then return false end -- the deadline, or the cap: both end the call
    if rc == -K.EBADF then return true end -- closed meanwhile: the retry says so
    return nil, strerror(rc)
end

-- One look at sock without waiting: true when ready for events (or closed:
-- the call's retry reports it), false when not, or nil, err.
local function look(sock, events)
    local rc = poll_fd(sock[1], events, 0)
    if rc > 0 or rc == -K.EBADF then return true end
    if rc < 0 and not AGAIN[rc] then return nil, strerror(rc) end
    return false
end

-- ---- yieldable phases without a pool: poll(fd, 0) + ngx.sleep backoff ----------
-- A socket that polls ready yet whose call says "try again" (an unconnected
-- unix datagram sender to a full queue) does not come back here at once:
-- net.util.wait's retry_until pauses between such tries (an ngx.sleep, see
-- the waiter's pauser below).
local function sleep_wait(sock, mode, deadline)
    counts.sleep = counts.sleep + 1
    local events, step = EVENTS[mode], BACKOFF_MIN
    while true do
        local ready, err = look(sock, events)
        if ready ~= false then return ready, err end
        if must_end() then return nil, EXITING end
        local left = deadline and deadline - now()
        if left and left <= 0 then return false end
        ngx_sleep(left and max(BACKOFF_MIN, min(step, left)) or step)
        step = min(step * 2, settings.backoff_max)
    end
end

-- ---- yieldable phases with a pool: the per-worker epoll set --------------------
-- poller: {pfd, pid, wake = the wake pair (below) or nil, reg = fd ->
-- registration, count = registrations,
-- loop = the token of the timer loop that serves the set (nil: none),
-- started = when that loop's timer was made, live = the token of the loop
-- that last ran (loop == live: the current loop is known to run), swept =
-- when dead waits were last looked for}. A registration is {sock, gen,
-- mask, r = {waits}, w = {waits}}; a wait is {sema, done, ready, err}. gen
-- is the registration's data word in the set: an event whose data is not
-- the current gen of its fd is old news (the fd was closed, or
-- re-registered, since) and dropped. The wake pair's end in the set has
-- data 0, which no registration has (p.reg never holds its fd).
local generation = 0
local semaphore -- ngx.semaphore, loaded on first use

-- ngx_lua drops a timer's callback when the worker already runs
-- lua_max_running_timers timers (an [alert] in the log, nothing to the code
-- that made the timer), so a loop's timer is trusted only once its callback
-- has run. A timer of delay 0 runs on the worker's next event-loop cycle:
-- one not run after START_GRACE seconds is taken as dropped and made again.
-- Should the first one run after all, it finds a newer token and ends.
local START_GRACE = 0.25

local function has(bits, bit) return bits % (bit + bit) >= bit end

local function mask_of(reg)
    return (reg.r[1] and POLLIN or 0) + (reg.w[1] and POLLOUT or 0)
end

-- Ends each wait of list: done, with ready or err, and wakes it.
local function finish(list, ready, err)
    for i = #list, 1, -1 do
        local w = list[i]
        list[i] = nil
        w.done, w.ready, w.err = true, ready, err
        w.sema:post(1)
    end
end

-- Drops reg from the set (kernel included) and the poller's table.
local function unregister(p, fd, reg)
    if p.reg[fd] ~= reg then return end
    p.reg[fd] = nil
    p.count = p.count - 1
    poll_ctl(p.pfd, POLL_DEL, fd, 0, 0)
end

-- The kernel's registration of fd after reg's waits changed: MOD to what is
-- still asked for, DEL when nothing is. Returns 0 or a code.
local function update(p, fd, reg)
    if p.reg[fd] ~= reg then return 0 end -- gone already, or a newer one holds fd
    local mask = mask_of(reg)
    if mask == 0 then
        unregister(p, fd, reg)
        return 0
    end
    if mask == reg.mask then return 0 end
    local rc = poll_ctl(p.pfd, POLL_MOD, fd, mask, reg.gen)
    if rc == 0 then reg.mask = mask end -- (a failed MOD changed nothing)
    return rc
end

-- Drops reg and ends its waits, ready or with err.
local function drop(p, fd, reg, ready, err)
    unregister(p, fd, reg)
    finish(reg.r, ready, err)
    finish(reg.w, ready, err)
end

-- Every pending wait ends: with err, or ready (the caller's retry decides),
-- and the set forgets them all.
local function end_all(p, ready, err)
    for fd, reg in pairs(p.reg) do drop(p, fd, reg, ready, err) end
end

-- One thread-pool call's records: each current one wakes the waits its
-- events satisfy (hang-ups and errors wake both directions: the retry
-- reports them).
local function dispatch(p, n, list)
    for i = 0, n - 1 do
        local fd, bits, data = list[3 * i + 1], list[3 * i + 2], list[3 * i + 3]
        local reg = p.reg[fd]
        if reg and reg.gen == data then
            local trouble = has(bits, POLLERR) or has(bits, POLLHUP)
            if has(bits, POLLIN) or has(bits, POLLPRI) or trouble then finish(reg.r, true) end
            if has(bits, POLLOUT) or trouble then finish(reg.w, true) end
            update(p, fd, reg) -- level-triggered: a woken direction leaves the set now
        end
    end
end

-- Removes from list the waits whose coroutine is gone; true if any was.
local function prune(list)
    local dropped = false
    for i = #list, 1, -1 do
        if list[i].sema:count() >= 0 then
            table.remove(list, i)
            dropped = true
        end
    end
    return dropped
end

-- Drops the waits nobody waits for any more. A coroutine killed while it
-- waits (ngx.exit ending light threads, a client abort under
-- lua_check_client_abort) never removes its own wait, which would keep its
-- socket (and fd) alive and this loop running for the worker's life. ngx_lua
-- takes a killed coroutine off its semaphore, so such a wait's semaphore has
-- no waiter (count() >= 0: nothing posted it, its wait is not done). A live
-- wait's has one (count() < 0): a waiter does not yield between registering
-- and semaphore:wait, and this loop runs only while others yield.
local function sweep(p)
    p.swept = now()
    for fd, reg in pairs(p.reg) do
        local r, w = prune(reg.r), prune(reg.w)
        if r or w then update(p, fd, reg) end
    end
end

-- ---- a graceful quit ends the pool call at once --------------------------------
-- At a graceful quit (nginx -s quit, a reload) ngx_lua runs each pending
-- timer at once, premature. The sentinel is such a timer, kept pending while
-- the poller's loop runs: run premature, it writes a byte to the wake pair,
-- whose other end is in the set, so the pool call returns from epoll_wait
-- at once and the rounds end every wait (the worker is exiting), where they
-- would wait out the rest of the call's poll_interval, and so would nginx.
-- Run in time (after poll_interval), it makes the next one while the loop
-- runs; the rounds make one before each call when none is pending, or when
-- nginx dropped it (lua_max_running_timers: one not run START_GRACE after
-- its time). Its period is short because a pending timer keeps its Lua VM
-- alive (with lua_code_cache off, a request's): poll_interval after the
-- loop, as the loop's last call does. Best effort: without a pair or a
-- timer, a quit waits for the call as before.

-- The pair's ends (guards, closed with p) and the writing end's fd; nil
-- when none could be made (logged).
local function wake_pair(pfd)
    local r_guard, w_guard = core.guard(-1), core.guard(-1)
    local r, w = core.sock_pair(K.AF_UNIX, K.SOCK_STREAM, 0, K.CLOEXEC + K.NONBLOCK, r_guard, w_guard)
    local rc = r < 0 and r or poll_ctl(pfd, POLL_ADD, r, POLLIN, 0)
    if rc == 0 then return {r_guard, w_guard, fd = w} end
    core.guard_close(r_guard)
    core.guard_close(w_guard)
    ngx_log(ngx.WARN, 'net.openresty: no wake pair for the poller (', strerror(rc),
            '): a graceful quit waits for its pool call')
end

local function close_wake(p)
    local wake = p.wake
    p.wake = nil
    if wake then
        core.guard_close(wake[1])
        core.guard_close(wake[2])
    end
end

-- p.sentinel is the token of the sentinel that counts (one taken as
-- dropped is replaced: should it run after all, late, it finds another
-- token and ends, so that one sentinel is pending at a time); sentinel_due
-- is when it should run.
local arm_sentinel
local function sentinel(premature, p, token)
    if premature then
        if p.wake then core.sock_send(p.wake.fd, 'q', 0) end
        return
    end
    if p.sentinel ~= token then return end
    p.sentinel, p.sentinel_due = nil, nil
    if poller == p and p.loop then arm_sentinel(p) end
end

function arm_sentinel(p)
    local t = now()
    if not p.wake or (p.sentinel and t < p.sentinel_due + START_GRACE) then return end
    local token, period = {}, settings.poll_interval
    if ngx.timer.at(period, sentinel, p, token) then
        p.sentinel, p.sentinel_due = token, t + period
    end
end

-- The pool failed (its call, or this module's loop): the set is closed and
-- every wait goes on by sleeping, as do the waits to come.
local function pool_failed(p, pool, why)
    pool_error = why
    ngx_log(ngx.WARN, 'net.openresty: thread pool "', tostring(pool),
            '" failed (', why, '); waiting by ngx.sleep from now on')
    if poller == p then poller = nil end
    p.loop = nil
    end_all(p, nil, nil) -- neither ready nor failed: each goes on by sleeping
    collect.close(p.box, core.poll_close)
    close_wake(p)
end

-- What ngx.run_worker_thread says when the pool is busy for now, not broken:
-- each of its Lua VMs runs a call (lua_worker_thread_vm_pool_size), or its
-- queue is full (thread_pool max_queue; before 0.10.32 the module crashes
-- the worker there instead: doc/openresty.md). One busy moment must not send the
-- worker's waits to ngx.sleep for its whole life: meanwhile the poller
-- looks at the set itself, without waiting (what the thread runs, with no
-- time to wait), between pauses of the sleeping waiter's backoff, and tries
-- the pool again after each.
local POOL_BUSY = {['no available Lua vm'] = true, ['ngx_thread_task_post failed'] = true}
local look_at_set = require(THREAD).wait

-- The rounds of the loop token over p: one ngx.run_worker_thread call at a
-- time in pool, for as long as anything waits. They stop when nothing does,
-- when the worker is exiting (each wait goes on by sleeping, or fails in a
-- timer: must_end), when a newer loop took over,
-- when the pool setting changed (each wait's retry waits again as the
-- settings now say, with no pool failure reported) and when a call fails
-- (the waits go on by sleeping); a busy pool makes them pause, with the
-- sleeping waiter's backoff.
local function rounds(p, token, pool)
    local pause = nil -- while the pool is busy: the next pause
    while true do
        -- each wait goes on by sleeping, or fails there if in a timer
        if ngx.worker.exiting() then return end_all(p, nil, nil) end
        if poller ~= p or p.loop ~= token then return end
        if now() - p.swept >= settings.poll_interval then sweep(p) end
        if p.count == 0 then return end
        if settings.thread_pool ~= pool then return end_all(p, true) end
        arm_sentinel(p)
        counts.thread_calls = counts.thread_calls + 1
        local ok, n, list = ngx.run_worker_thread(pool, THREAD, 'wait', p.pfd,
                                                  settings.poll_interval, MAX_EVENTS)
        if not ok and POOL_BUSY[n] then
            -- once per busy spell of this pool: a spell may outlast this
            -- loop (which ends when nothing waits), and the next loop's
            -- first call finds the pool still busy
            if p.pool_busy ~= pool then
                p.pool_busy = pool
                counts.busy_spells = counts.busy_spells + 1
                ngx_log(ngx.WARN, 'net.openresty: thread pool "', tostring(pool), '" busy (', n,
                        '): the poller looks from the worker until it is not')
            end
            n, list = look_at_set(p.pfd, 0, MAX_EVENTS)
            if n > 0 then dispatch(p, n, list) end
            pause = (pause and n <= 0) and min(pause * 2, settings.backoff_max) or BACKOFF_MIN
            ngx_sleep(pause)
        elseif not ok or (n < 0 and not AGAIN[n]) then
            return pool_failed(p, pool, ok and strerror(n) or tostring(n))
        else
            pause, p.pool_busy = nil, nil
            if n > 0 then dispatch(p, n, list) end
        end
    end
end

-- The timer callback (premature: the worker is exiting, which rounds sees).
-- A loop made obsolete before it ran (START_GRACE) does nothing. A Lua error
-- in the rounds counts as a pool failure, so no wait is left unserved.
local function poll_loop(_, p, token)
    if p.loop ~= token then return end
    p.live = token
    local pool = settings.thread_pool
    local ok, err = pcall(rounds, p, token, pool)
    if not ok then pool_failed(p, pool, 'poller error: ' .. tostring(err)) end
    if p.loop == token then p.loop = nil end
end

-- Whether p's loop runs, or was started too recently to tell.
local function loop_alive(p)
    return p.loop ~= nil and (p.live == p.loop or now() - p.started < START_GRACE)
end

-- Makes a timer for a new loop over p (an older timer that never ran does
-- nothing should it run after all).
-- true, or nil, err when nginx makes no timer (lua_max_pending_timers): the
-- wait then goes on by sleeping, warned of once a spell of such waits,
-- which the next timer made ends (as the pool's busy spells).
local function start_loop(p)
    local token = {}
    local ok, err = ngx.timer.at(0, poll_loop, p, token)
    if not ok then
        if not p.timerless then
            p.timerless = true
            counts.timerless_spells = counts.timerless_spells + 1
            ngx_log(ngx.WARN, 'net.openresty: no timer for the poller (', err,
                    '); waiting by ngx.sleep, and the waits after it, unwarned, until one is made')
        end
        return nil, err
    end
    p.loop, p.started, p.timerless = token, now(), nil
    return true
end

-- The worker's poller, made on first use in the worker itself (an epoll set
-- made before fork would be shared by every worker); nil, err when none can
-- be made. Its set goes with the Lua VM (net.util.collect): with
-- lua_code_cache off every request has a VM of its own, and the poller of
-- each would stay open for the worker's life. (A VM is closed only once its
-- timers ended, the poller's loop among them: no thread call waits on the
-- set then.)
local function get_poller()
    local pid = ngx.worker.pid()
    if poller and poller.pid == pid then return poller end
    -- the guard first (as net.poll.new): storing into it allocates nothing
    local box, hook = collect.guard(-1, core.poll_close)
    local pfd = core.poll_create(K.CLOEXEC)
    if pfd < 0 then return nil, strerror(pfd) end
    box[1] = pfd
    semaphore = semaphore or require('ngx.semaphore')
    poller = {pfd = pfd, box = box, hook = hook, pid = pid, wake = wake_pair(pfd), reg = {}, count = 0,
              started = 0, swept = now()}
    return poller
end

-- Closing a socket takes its fd out of the set while the number is still
-- its own, and wakes its waits (the retry then reports the closed socket).
-- Registered with socket.on_close when the waiter is installed.
local function on_close(sock)
    local p = poller
    local fd = sock[1]
    local reg = p and fd >= 0 and p.reg[fd]
    if reg and reg.sock == sock then drop(p, fd, reg, true) end
end

local function remove(list, w)
    for i = #list, 1, -1 do
        if list[i] == w then table.remove(list, i) end
    end
end

-- true (ready), false (deadline), nil, err; or nil, nil, true: the pool is
-- not usable, wait some other way.
local function pool_wait(sock, mode, deadline)
    local fd = sock[1]
    if fd < 0 then return true end -- closed: the retry reports it
    local p = get_poller()
    if not p then return nil, nil, true end
    local reg = p.reg[fd]
    if reg and reg.sock ~= sock then
        -- a registration made under another object with this number (a
        -- second owner against net.wrap's rule, a look-alike table): its
        -- number may have been closed (the close hook drops only its own
        -- object's) and reused since, so it is dropped and its waits woken.
        -- A socket used as documented never leaves one: its registration
        -- holds it, so the collector cannot close it while registered.
        drop(p, fd, reg, true)
        reg = nil
    end
    local w = {sema = semaphore.new(0)}
    if not reg then
        generation = generation + 1
        -- Recorded and counted, its wait listed, before the ADD: an error
        -- raised on the way (out of memory) leaves neither a registration
        -- in the set that p.reg does not know, nor one no wait ever ends
        -- (the sweep drops waits), nor a count p.reg does not match.
        reg = {sock = sock, gen = generation, mask = EVENTS[mode], r = {}, w = {}}
        reg[mode][1] = w
        p.reg[fd] = reg
        p.count = p.count + 1
        local rc = poll_ctl(p.pfd, POLL_ADD, fd, reg.mask, reg.gen)
        if rc < 0 then
            unregister(p, fd, reg) -- (its DEL finds nothing to remove)
            if rc == -K.EBADF then return true end
            return nil, strerror(rc)
        end
    else
        local list = reg[mode]
        list[#list + 1] = w
        local rc = update(p, fd, reg)
        if rc < 0 then
            remove(list, w)
            return nil, strerror(rc)
        end
    end
    counts.pool = counts.pool + 1
    -- Nothing between here and sema:wait yields (see sweep). Each round
    -- checks that a loop serves the set; while none is known to run, the
    -- wait wakes every START_GRACE to make one again if its timer was dropped.
    while not w.done do
        if not loop_alive(p) and not start_loop(p) then
            remove(reg[mode], w)
            update(p, fd, reg)
            return nil, nil, true -- no timer: go on by sleeping
        end
        local chunk = p.live == p.loop and SEMA_CHUNK or START_GRACE
        if deadline then
            local left = deadline - now()
            if left <= 0 then break end
            -- the semaphore counts whole milliseconds: less than one would
            -- return at once, and this loop would spin to the deadline
            chunk = min(chunk, max(left, 0.001))
        end
        local ok, err = w.sema:wait(chunk)
        if not ok and err ~= 'timeout' then
            remove(reg[mode], w)
            update(p, fd, reg)
            return nil, err
        end
    end
    if not w.done then -- the deadline passed
        remove(reg[mode], w)
        update(p, fd, reg)
        -- ready all the same (the poller's news not in yet): ready, as
        -- every waiter reports a socket that is ready at its deadline (the
        -- default waiter, its deadline passed, looks once without waiting)
        return look(sock, EVENTS[mode])
    end
    if w.ready == nil and w.err == nil then return nil, nil, true end -- the pool failed
    return w.ready, w.err
end

-- ---- the waiter ---------------------------------------------------------------------
-- fn(sock, mode, deadline) of net.util.wait: true when sock is ready for mode
-- ('r' or 'w'), false when the deadline (absolute net.now() seconds, or nil)
-- passed, nil, err when waiting failed.
function M.waiter(sock, mode, deadline)
    wait.check_waiter_args('waiter', sock, mode, deadline)
    -- a deadline passed already (settimeout(0)): one look, as at the end of
    -- a wait, in any phase; no wait (nothing registered in the poller's
    -- set, no sleep, none counted in stats)
    if deadline and deadline <= now() then return look(sock, EVENTS[mode]) end
    if not YIELDABLE[get_phase()] then return block_wait(sock, mode, deadline) end
    if must_end() then return nil, EXITING end
    if settings.thread_pool and not pool_error and not ngx.worker.exiting() then
        local ready, err, other = pool_wait(sock, mode, deadline)
        if not other then return ready, err end
    end
    return sleep_wait(sock, mode, deadline)
end

-- In a phase that cannot yield one wait blocks the worker for block_cap at
-- most, also a wait made of short steps (net.util.wait.capped).
wait.wait_caps[M.waiter] = function()
    if not YIELDABLE[get_phase()] then return settings.block_cap end
end

-- A pause (net.util.wait's pauses) in a yieldable phase is an ngx.sleep, no
-- descriptor; in a phase that cannot yield, a blocking wait on a quiet
-- socket (false: the caller makes one).
wait.pausers[M.waiter] = function(until_t)
    if not YIELDABLE[get_phase()] then return false end
    if must_end() then return nil, EXITING end
    ngx_sleep(max(BACKOFF_MIN, until_t - now()))
    return true
end

-- ---- name resolution in the pool ---------------------------------------------------
-- core.getaddrinfo as loaded; getaddrinfo blocks in libc (DNS), so where
-- the caller may yield and a pool is configured it runs in a pool thread.
-- A numeric host is tried first here (it never blocks), and the records the
-- thread sends back as text are made addresses again the same way.
local getaddrinfo = core.getaddrinfo
local NUMERIC = K.AI_NUMERICHOST
local EAI_NONAME = K.EAI_NONAME
local NUMERIC_BOTH = K.AI_NUMERICHOST + K.AI_NUMERICSERV

local function in_pool(host, flags)
    return host ~= nil and not has(flags, NUMERIC) and settings.thread_pool ~= nil
        and not pool_error and YIELDABLE[get_phase()]
end

-- Whether the running coroutine is one of ngx_lua's threads: a handler's or
-- timer's entry thread, or a light thread (ngx.thread.spawn); not one a
-- program made in such a thread (coroutine.wrap, coroutine.create, a
-- net.loop's). ngx.thread.kill tells a light thread: it refuses the caller
-- itself as "killer not parent", any other coroutine as "not user thread".
-- The entry thread is the one whose ngx_lua coroutine context
-- (thread.exdata2 of OpenResty's LuaJIT) has no parent: that struct,
-- ngx_http_lua_co_ctx_t, begins {data, co, parent_co_ctx} (from 0.10.0 to
-- 0.10.32 at least). Its co is checked against the running coroutine's
-- address first: a context of another shape, or none, reads as no thread.
local coroutine_running = coroutine.running
local entry_thread = function() return false end
do
    local has_ffi, ffi = pcall(require, 'ffi')
    local has_exdata2, exdata2 = pcall(require, 'thread.exdata2')
    if has_ffi and has_exdata2 then
        local pointers, address = ffi.typeof('void **'), ffi.typeof('uintptr_t')
        entry_thread = function(co)
            local co_ctx, hex = exdata2(), tostring(co):match('^thread: 0x(%x+)$')
            if co_ctx == nil or not hex then return false end
            local fields = ffi.cast(pointers, co_ctx)
            return tonumber(ffi.cast(address, fields[1])) == tonumber(hex, 16) and fields[2] == nil
        end
    end
end
local function in_ngx_thread()
    local co = coroutine_running()
    local _, _, err = pcall(ngx.thread.kill, co)
    return err == 'killer not parent' or entry_thread(co)
end

-- ngx.run_worker_thread sets no nginx timer: a worker that begins to exit
-- while a request has nothing pending but a pool call finds nothing to wait
-- for and goes, aborting the request ("open socket ... left in connection"
-- alerts). A light thread asleep meanwhile keeps the worker (nginx waits for
-- an ngx.sleep); killed once the call returned. It sleeps in steps and ends
-- by itself once the resolving thread is dead: ngx.thread.kill of that one
-- ends its call but leaves its children, and a keeper asleep on would hold
-- the request (and an exiting worker) for as long.
-- The keeper is spawned only from one of ngx_lua's threads (in_ngx_thread).
-- ngx_lua 0.10.23 ends only a killed light thread's own call: a coroutine
-- of its own that was resolving stays "running", and when its call returns
-- ngx_lua resumes it, then the killed thread, whose end it counts twice
-- (ctx->uthreads goes to -1: a request whose handler has returned never
-- ends). A keeper spawned from that coroutine kept the request until then,
-- and an exiting worker, which crashed when the call returned; without one
-- the request ends with the kill. So a name resolved in such a coroutine is
-- not kept: a graceful exit aborts its request, as with a plain
-- ngx.run_worker_thread call. nil where there is no keeper.
local KEEPER_STEP = 0.5
local coroutine_status = coroutine.status
local function keep_while(co)
    while coroutine_status(co) ~= 'dead' do ngx_sleep(KEEPER_STEP) end
end
local function keep_worker()
    if not in_ngx_thread() then return nil end
    local ok, keeper = pcall(ngx.thread.spawn, keep_while, coroutine_running())
    return ok and keeper or nil
end

-- The pool and the reason of the last refusal of a resolution (nil: the
-- last one asked of a pool went through): refusals come in spells (a burst
-- of names past the pool's Lua VMs), each warned of once, as the poller's
-- busy spells; a name resolved in the pool ends one, and another pool or
-- reason is another spell.
local refusing = nil

local function resolve(host, service, family, socktype, protocol, flags)
    if not in_pool(host, flags) then
        return getaddrinfo(host, service, family, socktype, protocol, flags)
    end
    local records = getaddrinfo(host, service, family, socktype, protocol, flags + NUMERIC)
    if records ~= EAI_NONAME then return records end
    local keeper = keep_worker()
    -- protected: the keeper must go whatever happens (a light thread left
    -- asleep would hold its request until the next step)
    local done, ok, code, list = pcall(ngx.run_worker_thread, settings.thread_pool, THREAD, 'getaddrinfo',
                                       host, service, family, socktype, protocol, flags)
    if keeper then ngx.thread.kill(keeper) end
    if not done then error(ok, 0) end
    if not ok then
        -- the pool refused the call (no such pool, no Lua VM free): resolve
        -- here, blocking the worker as without a pool, and say so, once a spell
        local spell = tostring(settings.thread_pool) .. ': ' .. tostring(code)
        if refusing ~= spell then
            refusing = spell
            counts.refused_spells = counts.refused_spells + 1
            ngx_log(ngx.WARN, 'net.openresty: resolving "', host, '" in the worker, blocking it: thread pool "',
                    tostring(settings.thread_pool), '" failed (', tostring(code),
                    '); the names after it go the same way, unwarned, until the pool resolves one')
        end
        return getaddrinfo(host, service, family, socktype, protocol, flags)
    end
    refusing = nil
    if code < 0 then return code end
    counts.resolved_in_pool = counts.resolved_in_pool + 1
    local out = {}
    for i = 1, #list do
        local r = list[i]
        local one = getaddrinfo(r.host, tostring(r.port), r.family, r.socktype, r.protocol, NUMERIC_BOTH)
        if type(one) == 'number' then return one end
        one[1].canonname = r.canonname
        out[i] = one[1]
    end
    return out
end

-- What a failed net.loop run leaves in an exiting worker is collected from a
-- timer (wait.collect_soon), once the threads of the runs that failed in
-- this round of the event loop have ended: at an exit every timer's loop
-- fails, and one collection serves them all, where one per run made as
-- many full collections in a row (0.2 s each for a heap of 130 MB).
-- ngx_lua takes a timer of delay 0 from an exiting worker; where it
-- refuses one (lua_max_pending_timers), the run collects at once: that
-- leaves out only what the runs still under way hold, and each of them
-- collects when it fails in turn.
local collection_due = false
local function collect_due(_, collect_all)
    collection_due = false
    collect_all()
end
local function collect_soon(collect_all)
    if collection_due then return end
    if ngx.timer.at(0, collect_due, collect_all) then
        collection_due = true
    else
        collect_all()
    end
end

-- Every socket made from now on is non-blocking underneath and waits here;
-- the primitive table resolves through the pool where it can. Not in the
-- Lua VM of a thread-pool thread (code run by ngx.run_worker_thread): its
-- ngx has get_phase (always 'init') but no sleep, timers or workers, and
-- blocking is what a pool thread is for, so sockets there keep the plain
-- behaviour.
M.installed = ngx.get_phase ~= nil and ngx.worker ~= nil and ngx.sleep ~= nil
if M.installed then
    wait.install(M.waiter, true)
    wait.host_exiting = ngx.worker.exiting
    wait.collect_soon = collect_soon
    socket.on_close(on_close)
    core.getaddrinfo = resolve
end

return M
