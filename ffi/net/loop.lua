-- net.loop: a small coroutine scheduler over net.poll, so that a server with
-- thousands of connections can be written in straight-line code.
--
--   local loop = require('net.loop')
--   loop.spawn(function(sock) ... sock:recv() ... end, sock)
--   loop.run()        -- until no coroutine is left
--
-- Inside a coroutine the loop runs, a socket that would block (a
-- non-blocking one, or one with a deadline) waits cooperatively: its call
-- yields to the loop, which resumes it when the socket is ready or the
-- deadline passed (net.util.wait gives the loop's waiter precedence over the
-- global one there). Blocking sockets still block the whole loop: make the
-- loop's sockets with nonblock = true (accepted connections: nonblock(true)).
-- Not a framework: no I/O of its own. Several runs may be under way in one
-- Lua state at once where other code runs while one waits (nginx: each
-- request's or timer's run is its own, see "runs" below); elsewhere a run
-- blocks its thread, one at a time.
local poll = require('net.poll')
local wait = require('net.util.wait')
local core = require('net.core')
local args = require('net.util.args')

local type, error, select, tostring = type, error, select, tostring
local create, resume, yield, running =
    coroutine.create, coroutine.resume, coroutine.yield, coroutine.running
local unpack = table.unpack or unpack -- luacheck: ignore 143
local now, floor = core.now, math.floor
local traceback = debug.traceback

local M = {}

-- What a coroutine of the loop yields to it (anything else it yields is a
-- plain "let the others run"), and what its body returns when it ends.
local WAIT, SLEEP, PAUSE, DONE = {}, {}, {}, {}

-- The loop's per-echo path (a coroutine waits, its socket is reported, it
-- is resumed) is what W5 measures (bench/RESULTS.md). So nothing on it
-- makes a table or a closure: each coroutine has one record for its life,
-- the queue is three reused arrays, and the events of a wait are read from
-- net.poll's own round lists in a plain loop, which LuaJIT compiles (no
-- trace crosses the coroutine switch itself) and which resumes a woken
-- reader itself (wake_ready). bench/lua/w5/netpoll.lua is the floor this
-- path is measured against: the same server with no loop at all.

-- A coroutine's record: {co = the coroutine, start = {n, args...} until it
-- first runs, sock/mode = what it waits for (nil: not waiting on a socket;
-- mode 'c': a pause that sock's close ends), sleeping = true while in a
-- sleep, timer = the timer of its deadline or sleep while it waits}.

-- ---- the loop's state --------------------------------------------------------
-- The state of the run whose code runs now (or of the spawns made outside
-- any run), in upvalues: the per-echo path reads them, not a table's fields.
-- The queue of records to resume with a value (one or two: true, false, or
-- nil, err), filled while the current queue runs; the two sets of arrays
-- take turns.
local q_rec, q_a, q_b, q_n
local spare_rec, spare_a, spare_b
local live                -- coroutines spawned and not finished
local set                 -- the net.poll set, made by run() (false before)
-- sock -> {r = record, w = record, c = {record = true} of the coroutines
-- pausing on sock (mode 'c'), ev = registered events}: who waits for what.
-- A socket's entry outlives its waits while the socket is in the set (see
-- "Registrations stay" below): closing the socket removes it, the sweep
-- one nobody waits on, and an entry that only pauses made goes with the
-- last of them. Not a weak table: a waiting coroutine is reached only
-- through this table (and the timer heap, when its wait has a deadline),
-- and Lua 5.2's collector leaves what only the values of a weak-keyed
-- table reach out of its estimate of the live heap, so that with many such
-- waits it began a full cycle as soon as one ended.
local waiting
local timers              -- a binary heap of {at =, rec =, value =}, earliest first
local stale               -- timers in the heap whose wait ended first (rec = nil)
local spare_timers        -- timers out of the heap, for the next waits to reuse
local rounds, sweep_at    -- rounds of this run; when the next sweep is due
local WEAK_KEYS = {__mode = 'k'}
local SWEEP_ROUNDS = 256 -- (see sweep below)
local EINTR_MSG = core.strerror(-core.constants.EINTR)

-- Runs. Each run() has a state of its own, a table holding the values above
-- while another state is in the upvalues: inside nginx a run's wait yields
-- to nginx (as do its coroutines' calls of nginx's own API), and another
-- request's or timer's run, or its spawns, go on meanwhile. use(st) puts
-- st's values in the upvalues (keeping the others' in their table); a run
-- takes its own back wherever it gets control again (after its set's wait,
-- after each resume). Spawns made outside any run go into `pending`, which
-- the next run() takes as its own.
local function new_state()
    return {q_rec = {}, q_a = {}, q_b = {}, q_n = 0, spare_rec = {}, spare_a = {}, spare_b = {},
            live = 0, set = false, waiting = {}, timers = {}, stale = 0, spare_timers = {},
            rounds = 0, sweep_at = SWEEP_ROUNDS}
end
-- (save and load name the same values, the upvalues above)
local function save(st)
    st.q_rec, st.q_a, st.q_b, st.q_n = q_rec, q_a, q_b, q_n
    st.spare_rec, st.spare_a, st.spare_b = spare_rec, spare_a, spare_b
    st.live, st.set, st.waiting, st.timers, st.stale = live, set, waiting, timers, stale
    st.spare_timers = spare_timers
    st.rounds, st.sweep_at = rounds, sweep_at
end
local function load(st)
    q_rec, q_a, q_b, q_n = st.q_rec, st.q_a, st.q_b, st.q_n
    spare_rec, spare_a, spare_b = st.spare_rec, st.spare_a, st.spare_b
    live, set, waiting, timers, stale = st.live, st.set, st.waiting, st.timers, st.stale
    spare_timers = st.spare_timers
    rounds, sweep_at = st.rounds, st.sweep_at
end
local pending = new_state()
local loaded = pending    -- the state whose values the upvalues hold
load(pending)
local function use(st)
    if loaded ~= st then
        save(loaded)
        load(st)
        loaded = st
    end
end
-- The states of the runs under way (a run killed with its nginx request
-- never ends: weak keys), for a socket's close, which may come from any.
local runs = setmetatable({}, WEAK_KEYS)
-- coroutine -> the state of the run it belongs to. Weak values too: a
-- state reaches its coroutines (its queue, waits and timers hold their
-- records), and LuaJIT and Lua 5.1 have no ephemerons, so a strong value
-- would keep an abandoned run (a failed one, one killed with its nginx
-- request) and every socket it waited on for good. A run under way holds
-- its own state (run()'s local, and `pending` the next one's).
local run_of = setmetatable({}, {__mode = 'kv'})
-- The run under way, where nothing else runs while it does: where a spawn
-- from a plain coroutine that a loop coroutine resumes goes, and what makes
-- a run() there raise. Not kept inside nginx (wait.always_nonblocking, set
-- by net.openresty): there other code (another request) may run while a
-- loop coroutine is suspended by nginx's own API, so a run cannot tell its
-- code from others'.
local inside_run
-- The run whose error handler is being called (see failed): a spawn from
-- the handler joins that run, inside nginx too.
local handling

local function push(rec, a, b)
    local n = q_n + 1
    q_rec[n], q_a[n], q_b[n], q_n = rec, a, b, n
end

-- ---- timers: a binary heap on .at ---------------------------------------------
-- A wait with a deadline (every wait of a socket with settimeout) has a
-- timer, so timers are reused: one that leaves the heap (popped, or dropped
-- stale by compact) is kept in spare_timers for the next. A run makes as
-- many as it once had in its heap at the same time, and no garbage per wait.
local function release(t)
    t.rec = nil
    spare_timers[#spare_timers + 1] = t
end

local function heap_push(t)
    local i = #timers + 1
    timers[i] = t
    while i > 1 do
        local parent = floor(i / 2)
        if timers[parent].at <= t.at then break end
        timers[i], timers[parent] = timers[parent], t
        i = parent
    end
end

-- The heap without its stale timers. A wait that ends before its deadline
-- leaves its timer in the heap (removing it from the middle would need
-- each timer's position kept through every swap): it is marked stale, and
-- once stale timers are more than 64 and more than half the heap they go,
-- all at once (fewer leave as they are popped). A sorted array is a heap.
local function by_time(a, b) return a.at < b.at end
local function compact()
    local n = 0
    for i = 1, #timers do
        local t = timers[i]
        timers[i] = nil
        if t.rec then
            n = n + 1
            timers[n] = t
        else
            release(t)
        end
    end
    table.sort(timers, by_time)
    stale = 0
end

-- rec's wait ended before its timer: the timer no longer holds rec.
local function drop_timer(rec)
    local t = rec.timer
    rec.timer, t.rec = nil, nil
    stale = stale + 1
    if stale > 64 and stale * 2 > #timers then compact() end
end

local function add_timer(at, rec, value)
    local n = #spare_timers
    local t = spare_timers[n]
    if t then
        spare_timers[n] = nil
        t.at, t.rec, t.value = at, rec, value
    else
        t = {at = at, rec = rec, value = value}
    end
    rec.timer = t
    heap_push(t)
end

local function heap_pop()
    local top, n = timers[1], #timers
    local last = timers[n]
    timers[n] = nil
    n = n - 1
    if n == 0 then return top end
    timers[1] = last
    local i = 1
    while true do
        local l, r, m = 2 * i, 2 * i + 1, i
        if l <= n and timers[l].at < timers[m].at then m = l end
        if r <= n and timers[r].at < timers[m].at then m = r end
        if m == i then break end
        timers[i], timers[m] = timers[m], timers[i]
        i = m
    end
    return top
end

-- ---- registering a wait ---------------------------------------------------------
local function events_of(w)
    return (w.r and 'r' or '') .. (w.w and 'w' or '')
end

-- Registrations stay. A connection waits again and again for the same
-- thing (a server reads, answers, reads again): removing its fd from the
-- set after each wake and adding it back at the next wait cost two
-- epoll_ctl calls per wait, most of the loop's price over a C epoll server
-- (bench/RESULTS.md, W5). So a wait that ends leaves the registration in
-- place, and it is trimmed lazily: an event nobody waits for narrows it to
-- the waits left (or removes it), once. Closing a socket removes it from
-- the set (net.poll.forget).

-- Registrations that stay must not keep a socket its program dropped
-- without close(): the set holds its sockets, so a dropped one would stay
-- open (and registered) for as long as the loop runs. Every SWEEP_ROUNDS
-- rounds or more, a sweep removes the registrations nobody waited on at
-- this sweep and the last one: a socket a coroutine still uses and waits
-- on again only pays an epoll_ctl to come back. The rounds between sweeps
-- grow with the waits in progress, so a sweep costs at most a look per
-- round, and two per registration let go. (Not with all registrations:
-- those are mostly the dropped ones when a program drops sockets faster
-- than one a round, and each interval would be longer than the last.)
local function sweep()
    local waited = 0
    for sock, w in pairs(waiting) do
        if w.r or w.w or w.c then
            w.idle = nil
            waited = waited + 1
        elseif w.idle then
            waiting[sock] = nil
            set:del(sock)
        else
            w.idle = true
        end
    end
    sweep_at = rounds + (waited > SWEEP_ROUNDS and waited or SWEEP_ROUNDS)
end

-- An entry that no longer registers, waits or pauses leaves the table of
-- waits: kept, it would hold its socket (maybe dropped without close())
-- until two sweeps.
local function forget_if_unused(sock, w)
    if not (w.ev or w.r or w.w or w.c) then waiting[sock] = nil end
end

-- Registers rec as the one waiting for sock to be ready for mode (step
-- takes the common case, a registration in place, without calling it).
local function watch(sock, mode, rec)
    local w = waiting[sock]
    if not w then
        w = {}
        waiting[sock] = w
    elseif w[mode] and w[mode] ~= rec then
        return nil, 'another coroutine already waits to ' .. (mode == 'r' and 'read' or 'write')
            .. ' on ' .. tostring(sock)
    end
    local ev = w.ev
    if ev ~= mode and ev ~= 'rw' then -- not registered for mode yet
        local ok, err
        if ev == nil then
            ok, err = set:add(sock, mode)
            if ok then w.ev = mode end
        else
            ok, err = set:mod(sock, 'rw')
            if ok then w.ev = 'rw' end
        end
        if not ok then -- rec does not wait: nothing recorded, nor an entry of its own
            forget_if_unused(sock, w)
            return nil, err
        end
    end
    w[mode] = rec
    return true
end

-- An event on sock that no coroutine waits for (a registration left by a
-- wait that ended): narrows the registration to the waits left, or drops it.
local function trim(sock, w)
    local ev = events_of(w)
    if ev == '' then
        -- out of the set; a pause on sock keeps the entry (its close ends the pause)
        w.ev = nil
        forget_if_unused(sock, w)
        set:del(sock) -- cleans up after a closed socket too
    elseif ev ~= w.ev then
        if set:mod(sock, ev) then w.ev = ev end
    end
end

-- Whether the socket rec waits for is ready now, looked at without waiting:
-- a deadline that has passed ends the wait as ready when it is (bytes that
-- are there beat the deadline: settimeout(0) reads what is queued). The
-- last wait for readiness may be older than the deadline: a wait begun by a
-- coroutine the round resumed after it, or a round longer than a deadline.
-- (The default waiter with a deadline passed looks once, without waiting.)
local function ready_now(rec)
    return wait.poll(rec.sock, rec.mode, 0) == true
end

-- Ends rec's current wait (readiness, a deadline, the end of a sleep) and
-- queues it to be resumed with value. The registration stays (see above).
local function wake(rec, value)
    if rec.timer then drop_timer(rec) end
    local sock = rec.sock
    if sock then
        rec.sock = nil
        local w = waiting[sock]
        if w then
            local mode = rec.mode
            if mode ~= 'c' then
                w[mode] = nil
            else -- one of the coroutines pausing on sock
                local c = w.c
                if c then
                    c[rec] = nil
                    if next(c) == nil then
                        w.c = nil
                        forget_if_unused(sock, w) -- a pause alone made it
                    end
                end
            end
        end
    elseif rec.sleeping then
        rec.sleeping = nil
    else
        return -- not waiting: nothing to end
    end
    push(rec, value)
end

-- A socket closed while coroutines wait on it (closed by another
-- coroutine): they wake now, and their call reports the closed socket
-- ("Bad file descriptor"), instead of at their deadline or never. net.poll
-- has removed its registration already (its hook comes first).
-- Any run may have waits on sock (inside nginx another request's may).
local function wake_on_close(sock)
    local w = waiting[sock]
    if not w then return end
    waiting[sock] = nil
    if w.r then wake(w.r, true) end
    if w.w then wake(w.w, true) end
    local c = w.c
    if c then
        for rec in pairs(c) do wake(rec, true) end
    end
end
require('net.util.socket').on_close(function(sock)
    local back = loaded
    for st in pairs(runs) do
        use(st)
        wake_on_close(sock)
    end
    use(back)
end)

-- The loop's waiter: yields to the loop, which resumes with true when sock
-- is ready, false when the deadline passed, or nil, err.
-- Where the host's one wait has a cap (net.openresty in a phase of nginx
-- that cannot yield: block_cap), so has the coroutine's: the loop's own
-- wait there blocks, and would go on past it for as long as the peer stays
-- silent. (Only inside nginx: a call of capped() on every wait elsewhere
-- costs the per-echo path 3% on Lua 5.4.)
local function loop_waiter(sock, mode, deadline)
    if wait.always_nonblocking then deadline = wait.capped(wait.default, deadline) end
    return yield(WAIT, sock, mode, deadline)
end
wait.waits_first[loop_waiter] = true
-- A pause (net.util.wait's pauses) of a call of sock: a sleep of the
-- coroutine until until_t that sock's close ends at once, as it ends a wait
-- (no descriptor; sock is not added to the set).
wait.pausers[loop_waiter] = function(until_t, sock)
    yield(PAUSE, sock, until_t)
    return true
end

-- ---- public ----------------------------------------------------------------------

local function body(fn, ...)
    fn(...)
    return DONE
end

-- The run a spawn goes into: the caller's own (a coroutine of a run, or one
-- such a coroutine resumes), else the next run().
local function spawn_target()
    local caller = running()
    local run = caller and run_of[caller]
    if run then return run end
    if handling then return handling end
    if inside_run and not wait.always_nonblocking then return inside_run end
    return pending
end

-- spawn(fn, ...): runs fn(...) in a new coroutine of the loop (from the next
-- round of run). Returns the coroutine.
function M.spawn(fn, ...)
    if type(fn) ~= 'function' then
        args.error('spawn', 1, 'function expected, got ' .. type(fn))
    end
    local co = create(body)
    local run = spawn_target()
    use(run)
    wait.loop_waiters[co] = loop_waiter
    run_of[co] = run
    live = live + 1
    push({co = co, run = run, start = {select('#', ...) + 2, fn, ...}}) -- [1]: the last index
    return co
end

-- sleep(sec): suspends the calling loop coroutine for sec seconds.
function M.sleep(sec)
    if type(sec) ~= 'number' then
        args.error('sleep', 1, 'number expected, got ' .. type(sec))
    end
    local co = running()
    if not co or wait.loop_waiters[co] ~= loop_waiter then
        error('net.loop.sleep: not inside a coroutine of the loop', 2)
    end
    yield(SLEEP, sec > 0 and sec or 0)
end

-- Forgets run st: the spawns outside any run are in the upvalues again.
-- Nothing here allocates: a memory error cannot leave st half-dropped (its
-- set, if close fails, goes to its collector guard).
local function drop(st)
    use(pending)
    runs[st] = nil
    local old = st.set
    st.set = false
    if old then old:close() end
end

-- All garbage, collected for a failed run in a host going away (see run).
-- A finalizer's error (any object's) stops a collection but on 5.4, and
-- would be raised in the run's place: the collection is tried again.
local COLLECT_TRIES = 8
local function collect_all()
    for _ = 1, COLLECT_TRIES do
        if pcall(collectgarbage) then return end
    end
end

-- Lua 5.4: closes the coroutines a failed run leaves (the one that failed,
-- and those queued, waiting or sleeping), so that their to-be-closed
-- variables close (`local s <close> = sock`), as an error out of a plain
-- call closes them. The other runtimes have no such variables. A loop
-- coroutine is suspended or dead here (run() is never inside one).
local close_coroutine = coroutine.close
local function close_abandoned(st)
    if not close_coroutine then return end
    local loop_waiters, abandoned = wait.loop_waiters, {}
    for co, run in pairs(run_of) do
        if run == st then abandoned[#abandoned + 1] = co end
    end
    for i = 1, #abandoned do
        local co = abandoned[i]
        loop_waiters[co], run_of[co] = nil, nil
        close_coroutine(co) -- an error of a __close is the coroutine's: dropped
    end
end

-- A coroutine of the loop ended (returned, or failed and handled): the
-- loop lets go of it.
local function ended(co)
    live = live - 1
    wait.loop_waiters[co], run_of[co] = nil, nil
end

-- A coroutine of run failed with err, and run has an error handler
-- (run(onerror)): the handler gets the error and the dead coroutine, whose
-- stack is still there to read (debug.traceback(co)), and the loop goes on
-- without it. On Lua 5.4 the coroutine is closed after the handler, so its
-- to-be-closed variables close. An error of the handler ends the run (run()
-- resets `handling`).
local function failed(run, co, err)
    handling = run
    run.onerror(err, co)
    handling = nil
    if loaded ~= run then use(run) end
    ended(co)
    if close_coroutine then close_coroutine(co) end -- an error of a __close is dropped
end

-- Resumes rec's coroutine with a, b (or its arguments, the first time) and
-- handles what it yields next.
local function step(rec, a, b)
    local co, start, run = rec.co, rec.start, rec.run
    local ok, what, sock, mode, deadline
    if start then
        rec.start = nil
        ok, what, sock, mode, deadline = resume(co, unpack(start, 2, start[1]))
    else
        ok, what, sock, mode, deadline = resume(co, a, b)
    end
    if loaded ~= run then use(run) end -- another run went on meanwhile (nginx)
    if not ok then
        if run.onerror then return failed(run, co, what) end
        -- run() drops the loop's state and raises it, with the failed
        -- coroutine's stack, which the error left in place
        error(traceback(co, 'net.loop: a coroutine failed: ' .. tostring(what)), 0)
    end
    if what == WAIT then
        -- watch(sock, mode, rec), its common case inline: the socket's
        -- registration is in place and nobody else waits for mode
        local w = waiting[sock]
        local ev = w and w.ev
        if (ev == mode or ev == 'rw') and w[mode] == nil then
            w[mode] = rec
        else
            local added, err = watch(sock, mode, rec)
            if not added then return push(rec, nil, err) end
        end
        rec.sock, rec.mode = sock, mode
        if deadline then add_timer(deadline, rec, false) end
    elseif what == DONE then -- body's return: the coroutine is dead
        ended(co)
    elseif what == SLEEP then
        rec.sleeping = true
        add_timer(now() + sock, rec, true)
    elseif what == PAUSE then -- until mode (the pause's end), or sock's close
        local w = waiting[sock]
        if not w then
            w = {}
            waiting[sock] = w
        end
        local c = w.c -- the coroutines pausing on sock (a set)
        if not c then
            c = {}
            w.c = c
        end
        c[rec] = true
        rec.sock, rec.mode = sock, 'c'
        add_timer(mode, rec, true)
    else -- a plain yield: the others run first
        push(rec)
    end
end

-- Runs the queue as it is now; what it queues runs in the next round.
local function run_queue()
    local recs, as, bs, n = q_rec, q_a, q_b, q_n
    q_rec, q_a, q_b, q_n = spare_rec, spare_a, spare_b, 0
    spare_rec, spare_a, spare_b = recs, as, bs
    for i = 1, n do
        local rec, a, b = recs[i], as[i], bs[i]
        recs[i], as[i], bs[i] = nil, nil, nil -- hold nothing past its turn
        step(rec, a, b)
    end
end

-- Wakes the coroutines whose sockets the last wait reported: net.poll's
-- round lists, read in place (p:ready() does the same with a call per
-- socket). A reader, the common case (once per echo in a server), is
-- resumed at once instead of through the queue: readers run in the order
-- the wait reported them, ahead of the coroutines queued already (the loop
-- looks without waiting while some are), and writers go to the end of the
-- queue, after those. What a reader does meanwhile is safe for the
-- rest of the round: a socket it closes has left `waiting` (its waiters
-- are queued by the close), and a wait it begins on a socket reported
-- later in the round ends at once, as readiness is level-triggered (a wake
-- that finds nothing to read waits again: every read retries).
local function wake_ready(n)
    local socks, events = set._rsock, set._rev
    for i = 1, n do
        local sock, ev = socks[i], events[i]
        local w = waiting[sock]
        if w then
            local r, wr = w.r, w.w
            if ev == 'r' then
                if r then -- wake(r, true), and its turn at once (below)
                    w.r, r.sock = nil, nil
                    if r.timer then drop_timer(r) end
                    step(r, true)
                else
                    trim(sock, w)
                end
            elseif ev == 'w' then
                if wr then wake(wr, true) else trim(sock, w) end
            elseif ev == 'rw' then
                if not (r and wr) then trim(sock, w) end
                if r then wake(r, true) end
                if wr then wake(wr, true) end
            end
        end
    end
end

-- Queues the coroutines whose timers have expired: sleeps that ended, and
-- waits whose deadline passed (with true when the socket turns out ready).
local function expire_timers()
    local t = now()
    while timers[1] and timers[1].at <= t do
        local timer = heap_pop()
        local rec, value = timer.rec, timer.value
        release(timer)
        if rec then -- not stale: the wait it bounds goes on till now
            rec.timer = nil
            wake(rec, value or ready_now(rec))
        else
            stale = stale - 1
        end
    end
end

-- The rounds of one run(), until no coroutine is left: returns the set's
-- error when a wait failed; a coroutine's error is raised. A round runs
-- the queue, then waits (for the first socket or timer), then queues the
-- timers that expired and wakes the sockets reported. Timers come after
-- the wait, not before it: a timer that ended the wait is queued at once,
-- and the next round runs it, with no second look at the sockets (a look
-- without waiting, as a round with coroutines queued takes) between them.
local function rounds_until_done(st)
    rounds, sweep_at = 0, SWEEP_ROUNDS
    while live > 0 do
        run_queue() -- everything ready runs, in order
        if live == 0 then break end
        -- The sockets are looked at every round, also when coroutines are
        -- queued (then without waiting): coroutines that keep yielding or
        -- sleeping 0 must not hold off the readiness of the others.
        local timeout = 0
        if q_n == 0 then
            timeout = nil -- until a socket is ready
            if timers[1] then
                timeout = timers[1].at - now()
                if timeout < 0 then timeout = 0 end
            end
        end
        -- Inside nginx the wait may yield to nginx, which may kill the run's
        -- light thread or request there: `pending` goes into the upvalues
        -- first, so that they do not keep a run that never comes back (its
        -- set, and the sockets its coroutines hold, open until another run
        -- or spawn of the worker took its state out of them). Not where a
        -- loop coroutine itself calls nginx's API (ngx.sleep, say): a
        -- thread killed there leaves its run's state in the upvalues until
        -- then, but no test can make that case here, as it kills the worker
        -- on ngx_lua releases without #2514 (doc/openresty.md, Limits).
        local waiting_set = set
        if wait.always_nonblocking then use(pending) end
        local n, werr = waiting_set:wait(timeout)
        if loaded ~= st then use(st) end -- the wait yielded (nginx), or pending went in
        if timers[1] then expire_timers() end
        if n then
            wake_ready(n)
        elseif werr ~= EINTR_MSG then -- a signal only ends this wait
            return werr
        end
        rounds = rounds + 1
        if rounds >= sweep_at then sweep() end
    end
end

-- run([onerror]): runs the spawned coroutines until none is left. An error
-- in one of them stops the loop and is raised here; with onerror, it is
-- handed to onerror(err, co) instead, and the others go on.
-- A run inside a coroutine of a run, or inside any coroutine such a one
-- resumes (where that can be told: not inside nginx), raises.
-- An error raised by the loop's own code (a memory error; on 5.2/5.3 an
-- error of a __gc finalizer that one of its allocations ran) ends the run
-- too, and the loop is left free for the next one.
function M.run(onerror)
    if onerror ~= nil and type(onerror) ~= 'function' then
        args.error('run', 1, 'function expected, got ' .. type(onerror))
    end
    local caller = running()
    if (caller and run_of[caller]) or (inside_run and not wait.always_nonblocking) then
        error('net.loop.run: already inside the loop', 2)
    end
    local st = pending
    use(st)
    local newset, err = poll.new()
    if not newset then error('net.loop.run: ' .. tostring(err), 2) end -- the spawns stay pending
    -- The next run's state, in no local of this run: where runs overlap
    -- (nginx), this one would hold it, and what that run's coroutines
    -- hold, for as long as it lasts, past that run's failure: the
    -- collection after a failed run in an exiting nginx worker missed it.
    set, pending = newset, new_state()
    st.onerror = onerror
    runs[st] = true
    if not wait.always_nonblocking then inside_run = st end
    local ok, werr = pcall(rounds_until_done, st)
    inside_run, handling = nil, nil
    drop(st)
    if not ok or werr then
        close_abandoned(st)
        if wait.host_exiting() then
            -- nothing else will collect the coroutines this run leaves, nor
            -- close the sockets that only they held (their peers, maybe
            -- requests of this worker, would wait on them)
            st = nil -- luacheck: ignore 311 (run's last reference to them)
            wait.collect_soon(collect_all)
        end
    end
    if not ok then error(werr, 0) end
    if werr then error('net.loop.run: ' .. tostring(werr), 2) end
end

return M
