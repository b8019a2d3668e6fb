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
-- Not a framework: one loop per thread of Lua, no I/O of its own.
local poll = require('net.poll')
local wait = require('net.util.wait')
local core = require('net.core')
local args = require('net.util.args')

local type, error, select, tostring = type, error, select, tostring
local create, resume, yield, running, status =
    coroutine.create, coroutine.resume, coroutine.yield, coroutine.running, coroutine.status
local unpack = table.unpack or unpack -- luacheck: ignore 143
local now, floor = core.now, math.floor

local M = {}

-- What a coroutine of the loop yields to it (anything else it yields is a
-- plain "let the others run").
local WAIT, SLEEP = {}, {}

-- ---- the loop's state --------------------------------------------------------
local ready_queue = {}    -- coroutines to resume, in order, with their values
local live = 0            -- coroutines spawned and not finished
local set                 -- the net.poll set, made by run()
-- sock -> {r = co, w = co, ev = registered events}: who waits for what.
-- Weak keys: a socket's entry outlives its waits (see "Registrations stay"
-- below) but must not keep a closed socket alive.
local WEAK_KEYS = {__mode = 'k'}
local waiting = setmetatable({}, WEAK_KEYS)
local timers = {}         -- a binary heap of {at =, co =, rec =, value =}, earliest first
-- co -> the record of its current wait ({sock =, mode =}, or {} for a
-- sleep): a timer or an event for an older wait finds another record.
local current = setmetatable({}, {__mode = 'k'})

local function push_ready(co, a, b)
    ready_queue[#ready_queue + 1] = {co, a, b}
end

-- ---- timers: a binary heap on .at ---------------------------------------------
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

-- Registers co as the one waiting for sock to be ready for mode.
local function watch(sock, mode, co)
    local w = waiting[sock]
    if not w then
        w = {}
        waiting[sock] = w
    elseif w[mode] and w[mode] ~= co then
        return nil, 'another coroutine already waits to ' .. (mode == 'r' and 'read' or 'write')
            .. ' on ' .. tostring(sock)
    end
    w[mode] = co
    local ev = w.ev
    if ev == nil then
        local ok, err = set:add(sock, mode)
        if ok then w.ev = mode end
        return ok, err
    end
    if ev == mode or ev == 'rw' then return true end -- registered already
    local ok, err = set:mod(sock, 'rw')
    if ok then w.ev = 'rw' end
    return ok, err
end

local function unwatch(sock, mode)
    local w = waiting[sock]
    if w then w[mode] = nil end -- the registration stays (see above)
end

-- An event on sock that no coroutine waits for (a registration left by a
-- wait that ended): narrows the registration to the waits left, or drops it.
local function trim(sock, w)
    local ev = events_of(w)
    if ev == '' then
        waiting[sock] = nil
        set:del(sock) -- cleans up after a closed socket too
    elseif ev ~= w.ev then
        if set:mod(sock, ev) then w.ev = ev end
    end
end

-- The loop's waiter: yields to the loop, which resumes with true when sock
-- is ready, false when the deadline passed, or nil, err.
local function loop_waiter(sock, mode, deadline)
    return yield(WAIT, sock, mode, deadline)
end

-- ---- public ----------------------------------------------------------------------

-- spawn(fn, ...): runs fn(...) in a new coroutine of the loop (from the next
-- round of run). Returns the coroutine.
function M.spawn(fn, ...)
    if type(fn) ~= 'function' then
        args.error('spawn', 1, 'function expected, got ' .. type(fn))
    end
    -- (Lua 5.1 cannot make a coroutine of a C function itself.)
    local co = create(function(...) return fn(...) end)
    wait.loop_waiters[co] = loop_waiter
    live = live + 1
    local n, a = select('#', ...), {...}
    ready_queue[#ready_queue + 1] = {co, n, a, start = true}
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

-- Forgets everything of the last run.
local function reset()
    if set then set:close() end
    set, ready_queue, waiting, timers, live = nil, {}, setmetatable({}, WEAK_KEYS), {}, 0
end

-- Resumes co with the given values and handles what it yields next.
local function step(co, ...)
    local ok, what, sock, mode, deadline = resume(co, ...)
    if not ok then
        reset()
        error('net.loop: a coroutine failed: ' .. tostring(what), 0)
    end
    if status(co) == 'dead' then
        live = live - 1
        wait.loop_waiters[co] = nil
        return
    end
    if what == WAIT then
        local added, err = watch(sock, mode, co)
        if not added then
            push_ready(co, nil, err)
            return
        end
        local rec = {sock = sock, mode = mode}
        current[co] = rec
        if deadline then heap_push({at = deadline, co = co, rec = rec, value = false}) end
    elseif what == SLEEP then
        local rec = {}
        current[co] = rec
        heap_push({at = now() + sock, co = co, rec = rec})
    else -- a plain yield: the others run first
        push_ready(co)
    end
end

-- Ends co's current wait (readiness, a deadline, the end of a sleep) and
-- queues it to be resumed with value.
local function wake(co, value)
    local rec = current[co]
    if not rec then return end
    current[co] = nil
    if rec.sock then unwatch(rec.sock, rec.mode) end
    push_ready(co, value)
end

-- run(): runs the spawned coroutines until none is left. An error in one
-- of them stops the loop and is raised here.
function M.run()
    if running() and wait.loop_waiters[running()] then
        error('net.loop.run: already inside the loop', 2)
    end
    local err
    set, err = poll.new()
    if not set then error('net.loop.run: ' .. tostring(err), 2) end
    while live > 0 do
        -- everything ready runs, in order
        local queue = ready_queue
        ready_queue = {}
        for i = 1, #queue do
            local item = queue[i]
            if item.start then
                step(item[1], unpack(item[3], 1, item[2]))
            else
                step(item[1], item[2], item[3])
            end
        end
        if live == 0 then break end
        -- expired timers
        local t = now()
        while timers[1] and timers[1].at <= t do
            local timer = heap_pop()
            if current[timer.co] == timer.rec then wake(timer.co, timer.value) end
        end
        if #ready_queue == 0 then
            local timeout -- nil: until a socket is ready
            if timers[1] then
                timeout = timers[1].at - now()
                if timeout < 0 then timeout = 0 end
            end
            local n, werr = set:wait(timeout)
            if not n and werr then
                reset()
                error('net.loop.run: ' .. tostring(werr), 2)
            end
            for sock, ev in set:ready() do
                local w = waiting[sock]
                if w then
                    local r, wr = ev ~= 'w', ev ~= 'r' -- ev is 'r', 'w' or 'rw'
                    if (r and not w.r) or (wr and not w.w) then trim(sock, w) end
                    if r and w.r then wake(w.r, true) end
                    if wr and w.w then wake(w.w, true) end
                end
            end
        end
    end
    reset()
end

return M
