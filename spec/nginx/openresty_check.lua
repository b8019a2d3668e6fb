-- The checking side of spec/nginx/run's openresty-* cases: HTTP/1.0
-- requests to the nginx of openresty.conf.in or openresty_edge.conf.in (one
-- worker; handlers in openresty_app.lua), made with lua-net itself under
-- net.loop, each timed on net.now().
--
--   luajit spec/nginx/openresty_check.lua PORT pool|sleep|badpool|edge
--
-- pool: a thread pool configured and named; sleep: none named; badpool: a
-- name without its thread_pool directive, so the first pool call fails and
-- every wait goes on by sleeping; edge (openresty_edge.conf.in): the
-- poller's timer dropped by nginx, waits whose coroutine is killed, the
-- pool switched off during a wait.
--
-- Prints each check; exits 1 when any failed.
local inet = require('net.stream.inet')
local loop = require('net.loop')
local net = require('net')

local PORT = assert(tonumber(arg[1]), 'usage: openresty_check.lua PORT pool|sleep|badpool|edge')
local MODE = arg[2]
assert(MODE == 'pool' or MODE == 'sleep' or MODE == 'badpool' or MODE == 'edge',
       'mode must be pool, sleep, badpool or edge')

local failures = 0
-- A body for a message, on one line.
local function show(s)
    return (tostring(s):gsub('\n', '\\n'))
end

local function check(ok, what, ...)
    local text = what:format(...)
    print((ok and 'ok   ' or 'FAIL ') .. text)
    if not ok then failures = failures + 1 end
    return ok
end

-- GET path inside a loop coroutine: status, body, seconds (nil, err on a
-- failure of the client itself).
local function get(path, timeout)
    local t0 = net.now()
    local c, err = inet.client.new { host = '127.0.0.1', port = PORT, nonblock = true,
                                     timeout = timeout or 10 }
    if not c then return nil, err end
    local req = ('GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n'):format(path)
    local n, serr = c:send(req)
    if n ~= #req then
        c:close()
        return nil, 'send: ' .. tostring(serr)
    end
    local parts = {}
    while true do
        local data, rerr, again = c:recv()
        if not data then
            if rerr or again then
                c:close()
                return nil, 'recv: ' .. tostring(rerr or 'timed out')
            end
            break -- nginx closed: the response is whole
        end
        parts[#parts + 1] = data
    end
    c:close()
    local took = net.now() - t0
    local raw = table.concat(parts)
    local status = tonumber(raw:match('^HTTP/1%.%d (%d+)'))
    local body = raw:match('\r\n\r\n(.*)$')
    return status, body, took
end

-- Runs fn in a loop coroutine to its end.
local function run(fn)
    loop.spawn(fn)
    loop.run()
end

-- The descriptors of what pollers make that the process pid holds: its poll
-- sets' (epoll sets, one descriptor each, or with the poll(2) backend,
-- net.POLL_WAITABLE 0, its pipes: three descriptors a set, the set's pipe
-- and a dup of its read end) and its sockets (a poller's wake pair is two;
-- the worker's others, its listeners and channel, stay the same).
-- POLLER_FDS: the descriptors of one poller.
local count_fds = dofile((arg[0]:match('^(.*/)') or './') .. '../proc_fds.lua')
local SET_KIND = net.POLL_WAITABLE == 1 and '[eventpoll]' or 'pipe:'
local POLLER_FDS = (net.POLL_WAITABLE == 1 and 1 or 3) + 2
local POLLER_KINDS = SET_KIND .. ' and sockets'
local function poller_fds(pid)
    return count_fds('/proc/' .. pid .. '/fd', function(line)
        return line:find(SET_KIND, 1, true) ~= nil or line:find('socket:', 1, true) ~= nil
    end)
end

-- Whether a /resolve body lists 127.0.0.1 among its addresses.
local function resolved_loopback(body)
    local addrs = (body or ''):match('^(%S*) canon=')
    return addrs ~= nil and (',' .. addrs .. ','):find(',127.0.0.1,', 1, true) ~= nil
end

local function parse_lines(body)
    local out = {}
    for k, v in (body or ''):gmatch('([^ \n]+) ([^\n]*)') do out[k] = v end
    return out
end

-- Last of a mode's checks: every request, timer and loop is over, so the
-- worker's Lua holds no lua-net socket or poll set but the app's fixtures,
-- named (/held walks what it reaches; a socket held for good by a table or
-- a frame would be listed with its path). Asked again for up to 2 s while
-- more are held: timers of the last checks may still run.
local function held_check(number, fixtures)
    run(function()
        local body, count, others
        for _ = 1, 20 do
            body = select(2, get('/held', 10))
            count, others = tonumber((body or ''):match('^(%d+) held')), 0
            for name in (body or ''):gmatch('\n(%S+)') do
                if not fixtures[name] then others = others + 1 end
            end
            if count == nil or others == 0 then break end
            loop.sleep(0.1)
        end
        local names = {}
        for name in pairs(fixtures) do names[#names + 1] = name end
        check(count ~= nil and others == 0, '%d. the worker holds no lua-net socket but the app\'s (%s) ' ..
              'once the checks are over (%s)', number, table.concat(names, ', '), show(body))
    end)
end

-- The handlers of openresty.conf.in (modes pool, sleep, badpool).
local function main_checks()
    -- 0. The worker's init_worker phase blocks for its bounded waits (check 4):
    -- the timed checks start once the worker answers.
    run(function()
        local status, err = get('/fast', 5)
        if not check(status == 200, 'the worker is up (%s)', tostring(status or err)) then os.exit(1) end
    end)

    -- 1. Request A waits 1 s on the slow backend; request B, sent 0.1 s later to
    -- the same (single) worker, waits on the backend with no delay, and a plain
    -- request C too: both answered in well under 100 ms while A still waits.
    -- Again with A's socket made blocking by the handler (nonblock(false)).
    for _, own in ipairs({'', '&own=blocking'}) do run(function()
        local a_status, a_body, a_took
        loop.spawn(function()
            a_status, a_body, a_took = get('/slow?delay=1000&msg=A' .. own)
        end)
        loop.sleep(0.1)
        local b_status, b_body, b_took = get('/slow?delay=0&msg=B')
        local c_status, c_body, c_took = get('/fast')
        check(b_status == 200 and b_body == 'B\n', 'B answered "B" (%s %s)', tostring(b_status), show(b_body))
        check(b_took and b_took < 0.1, 'B took %.1f ms while A waited (< 100 ms)', (b_took or -1) * 1000)
        check(c_status == 200 and c_body == 'fast\n' and c_took < 0.1,
              'C (/fast) took %.1f ms (< 100 ms)', (c_took or -1) * 1000)
        while a_took == nil and a_status == nil do loop.sleep(0.01) end
        check(a_status == 200 and a_body == 'A\n', 'A answered "A" (%s %s)', tostring(a_status), show(a_body))
        check(a_took and a_took >= 1.0 and a_took < 1.5, 'A%s took %.3f s (1 s backend delay)', own, a_took or -1)
    end) end

    -- 2. 200 requests at once, each waiting 0.3 s on the backend: every body
    -- right, all done together (one after the other would take 60 s).
    run(function()
        local N, done, right = 200, 0, 0
        local t0 = net.now()
        for i = 1, N do
            loop.spawn(function()
                local status, body = get(('/slow?delay=300&msg=m%d'):format(i), 20)
                if status == 200 and body == ('m%d\n'):format(i) then right = right + 1 end
                done = done + 1
            end)
        end
        while done < N do loop.sleep(0.01) end
        local took = net.now() - t0
        check(right == N, '%d of %d concurrent waiting requests got their own body', right, N)
        check(took < 3, '%d concurrent 0.3 s waits took %.3f s together (< 3 s)', N, took)
    end)

    -- 2b. net.loop and net.poll inside a handler wait through the OpenResty
    -- waiter too: while request A's loop (then its set) waits 0.5 s for a
    -- timer's byte, request B is answered in well under 100 ms; a deadline
    -- (0.2 s) ends both waits with the timeout results.
    run(function()
        local a_body
        loop.spawn(function() a_body = select(2, get('/loopwait?delay=0.5', 5)) end)
        loop.sleep(0.1)
        local b_status, b_body, b_took = get('/fast')
        check(b_status == 200 and b_body == 'fast\n' and b_took < 0.1,
              'B (/fast) took %.1f ms while a net.loop waited (< 100 ms)', (b_took or -1) * 1000)
        while a_body == nil do loop.sleep(0.01) end
        local what, took, n, set_took = a_body:match('^(%S+) (%S+) (%S+) (%S+)')
        check(what == 'data:x' and tonumber(took) >= 0.45 and tonumber(took) < 1,
              'net.loop in a handler: %s after %s s (0.5 s)', tostring(what), tostring(took))
        check(n == '1' and tonumber(set_took) >= 0.45 and tonumber(set_took) < 1,
              'net.poll wait in a handler: %s after %s s (0.5 s)', tostring(n), tostring(set_took))
        local _, body = get('/loopwait?timeout=0.2', 5)
        what, took, n, set_took = (body or ''):match('^(%S+) (%S+) (%S+) (%S+)')
        check(what == 'timeout' and tonumber(took) >= 0.19 and tonumber(took) < 0.5
              and n == '0' and tonumber(set_took) >= 0.19 and tonumber(set_took) < 0.5,
              'net.loop and net.poll deadlines in a handler: %s', show(body))
    end)

    -- 3. A deadline inside a handler: the socket's timeout (0.2 s) passes
    -- before the backend's 1 s delay, and the handler gets the timeout result.
    run(function()
        local status, body = get('/deadline?delay=1000&timeout=0.2')
        local took = tonumber((body or ''):match('^timeout (%S+)'))
        check(status == 200 and took ~= nil, 'deadline: the handler saw the timeout result (%s)', show(body))
        check(took and took >= 0.19 and took < 0.5, 'deadline: the wait ended after %.3f s (0.2 s deadline)',
              took or -1)
        local s2, b2 = get('/deadline?delay=10&timeout=2')
        check(s2 == 200 and (b2 or ''):match('^late '), 'deadline: a reply within the deadline arrives (%s)', show(b2))
    end)

    -- 3b. SO_RCVTIMEO / SO_SNDTIMEO of a socket blocking for its user, which
    -- inside nginx is non-blocking underneath: the library ends its calls
    -- at them, as the kernel would (a send with its count: some of the
    -- 8 MiB, not none nor all); and a blocking
    -- descriptor made elsewhere and wrapped waits without freezing the
    -- worker (a timer of the worker answers it). Each timeout is made three
    -- times, and the best ends within 0.1 s of the 0.2 s (a loaded machine
    -- delays one now and then). Then calls that end before their deadline:
    -- settimeout(nil) mid-send, closer() on a datagram socket mid-recv.
    run(function()
        for _, kind in ipairs { 'rcv', 'snd' } do
            local best, right, bodies = math.huge, 0, {}
            for i = 1, 3 do
                local status, body = get('/kerneltimeo?kind=' .. kind, 5)
                bodies[i] = show(body)
                local ok, took -- ok: a timeout (for snd: sent some, not all)
                if kind == 'snd' then
                    local sent
                    sent, took = (body or ''):match('^timeout sent=(%d+) ([%d.]+)\n$')
                    ok = sent and tonumber(sent) > 0 and tonumber(sent) < 8 * 1024 * 1024
                else
                    took = (body or ''):match('^timeout ([%d.]+)\n$')
                    ok = took ~= nil
                end
                took = tonumber(took)
                if status == 200 and ok and took >= 0.19 then
                    right = right + 1
                    best = math.min(best, took)
                end
            end
            check(right == 3 and best < 0.3, '%stimeo of 0.2 s ended the call at it%s, best of 3 under 0.3 s (%s)',
                  kind, kind == 'snd' and ', with part of 8 MiB sent' or '', table.concat(bodies, ', '))
        end
        local status, body = get('/kerneltimeo?kind=wrap', 5)
        local took = tonumber((body or ''):match('^data:x ([%d.]+)%s*$'))
        check(status == 200 and took and took < 0.6,
              'a wrapped blocking descriptor waited without freezing the worker (%s)', show(body))
        -- the deadline (5 s) taken away mid-send: the send ends at its next
        -- wait with part of the 8 MiB
        status, body = get('/untimeout', 10)
        local sent
        sent, took = (body or ''):match('^(%d+) nil true ([%d.]+)\n$')
        sent, took = tonumber(sent), tonumber(took)
        check(status == 200 and sent and sent > 0 and sent < 8 * 1024 * 1024 and took < 1,
              'settimeout(nil) while a send waits: it ends at its next wait, with its count (%s)', show(body))
        -- closer() on a datagram socket whose recv waits (5 s deadline):
        -- the recv ends at once with the end, not at the deadline
        status, body = get('/dgramcloser', 10)
        took = tonumber((body or ''):match('^nil nil nil ([%d.]+)\n$'))
        check(status == 200 and took and took < 1,
              'closer() while a datagram recv waits: it ends with nil, nil, nil (%s)', show(body))
        -- a deadline that has passed before the wait (settimeout(0)): one
        -- look, no registration in the poller's set, no sleep; the waiter
        -- says what the look saw (a closed socket: ready, for the retry)
        status, body = get('/pastdeadline', 5)
        check(status == 200 and body == '20 waits+0\nquiet false queued true closed true\n',
              'settimeout(0): 20 receives say again after one look each, no wait (%s)', show(body))
    end)

    -- 4. Phases that cannot yield: init_worker (at start) and log (now) each
    -- waited on a socket nothing writes to, with no deadline (bounded by
    -- block_cap = 0.3 s) and with a 0.05 s deadline: the timeout result, after
    -- the bound and not much later; the worker lives on.
    run(function()
        local s1 = get('/logphase')
        check(s1 == 200, 'log phase request answered')
        -- the log phase runs after the response, for about 1.3 s: its last
        -- result is the sign it ended
        local r
        local t0 = net.now()
        repeat
            loop.sleep(0.2)
            local _, body = get('/results')
            r = parse_lines(body)
        until r.log_setwait_nil or net.now() - t0 > 5
        for _, name in ipairs({'init_worker', 'log'}) do
            local cap = r[name .. '_cap'] or ''
            local what, took = cap:match('^(%S+) (%S+)$')
            took = tonumber(took)
            check(what == 'timeout' and took and took >= 0.29 and took < 0.6,
                  '%s: a wait without deadline blocked %s s (cap 0.3 s), then timed out', name, tostring(took))
            local dl = r[name .. '_deadline'] or ''
            what, took = dl:match('^(%S+) (%S+)$')
            took = tonumber(took)
            check(what == 'timeout' and took and took >= 0.049 and took < 0.25,
                  '%s: a 0.05 s deadline ended the wait after %s s', name, tostring(took))
        end
        local backlog = r.log_backlog or ''
        local took = tonumber(backlog:match('^Connection timed out (%S+)$'))
        check(took and took >= 0.29 and took < 0.6,
              'log: a unix connect to a full queue, no deadline, timed out at the cap (%s)', backlog)
        local sendto = r.log_sendto or ''
        took = tonumber(sendto:match('^0 true (%S+)$'))
        check(took and took >= 0.29 and took < 0.6,
              'log: an unconnected unix datagram sendto a full queue, no deadline, gave up at the cap (%s)', sendto)
        for name, timeout in pairs { log_setwait = '2 s', log_setwait_nil = 'no' } do
            local n
            n, took = (r[name] or ''):match('^(%S+) (%S+)$')
            took = tonumber(took)
            check(n == '0' and took and took >= 0.29 and took < 0.6,
                  'log: a poll set\'s wait, %s timeout, ended at the cap with 0 (%s)', timeout, tostring(r[name]))
        end
        local s2, b2 = get('/fast')
        check(s2 == 200 and b2 == 'fast\n', 'the worker still answers after the blocking phases')
    end)

    -- 4a. net.loop runs of several requests at once: each is its own (a
    -- second one neither raises nor takes the first's coroutines); a light
    -- thread's run killed mid-wait leaves the next run free; in a phase that
    -- cannot yield, a loop coroutine's wait ends at block_cap.
    run(function()
        local a, b
        loop.spawn(function() local _; _, a = get('/oneloop?timeout=0.5', 5) end)
        loop.sleep(0.1)
        local _, body = get('/oneloop?timeout=0.1', 5)
        b = body
        while not a do loop.sleep(0.05) end
        local took_a = tonumber(a:match('^timeout (%S+)\n$'))
        local took_b = tonumber((b or ''):match('^timeout (%S+)\n$'))
        check(took_b and took_b >= 0.09 and took_b < 0.4,
              'a net.loop run while another request\'s waits: its own deadline (%s)', show(b))
        check(took_a and took_a >= 0.49 and took_a < 0.9,
              'the first request\'s run went on to its own deadline (%s)', show(a))
        _, body = get('/killloop', 5)
        local took = tonumber((body or ''):match('\nkilled 1 timeout (%S+)\n$'))
        check(took and took < 0.4, 'a run after a light thread\'s run was killed mid-wait (%s)', show(body))
        local fds_before, fds_after = (body or ''):match('^fds (%d+) (%d+)\n')
        check(fds_before and fds_before == fds_after,
              'five killed runs left no descriptor open, before any other run (%s)', show(body))
        local s1, b1, t1 = get('/hfloop', 5)
        check(s1 == 200 and b1 == 'filtered\n' and t1 < 0.9,
              'header_filter: a net.loop answered in %.3f s (cap 0.3 s)', t1 or -1)
        local r = parse_lines(select(2, get('/results')))
        took = tonumber((r.hfloop or ''):match('^timeout (%S+)$'))
        check(took and took >= 0.29 and took < 0.6,
              'header_filter: a loop coroutine\'s wait without deadline ended at the cap (%s)', tostring(r.hfloop))
    end)

    -- 4b. Datagrams in a handler: an unconnected unix sendto to a full queue
    -- (ready, yet "try again") tries until its 1 s deadline while the worker
    -- serves others; an unnamed blocking sender waits for room as a named one.
    run(function()
        local body, took
        loop.spawn(function() local _; _, body = get('/fullqueue?timeout=1', 5) end)
        loop.sleep(0.3)
        local s2, b2, t2 = get('/fast', 5)
        check(s2 == 200 and b2 == 'fast\n' and t2 < 0.3,
              'a request answered in %.3f s while a handler tried a full queue', t2 or -1)
        while not body do loop.sleep(0.05) end
        took = tonumber(body:match('^0 true (%S+)'))
        check(took and took >= 0.99 and took < 1.3, 'full queue: the sendto gave up at its deadline (%s)', show(body))
        local _, u = get('/unnamed', 5)
        local sent, secs = (u or ''):match('^(%d+) (%S+)')
        check(sent == '16' and tonumber(secs) >= 0.19,
              'an unnamed blocking datagram sender waited for room (%s)', show(u))
    end)

    -- 4c. The sleeping waiter's backoff, as openresty.md says:
    -- "ngx.sleep with a backoff of 1, 2, 4, 8, 16, 16, ... ms" and "never
    -- ngx.sleep(0)" (ngx_lua truncates to whole ms: below 1 ms is a
    -- sleep(0)). A 0.5 s recv wait that nothing ends makes about 35 calls
    -- (1+2+4+8 ms, then 16 ms each: its first five arguments are checked;
    -- at most 70 calls here), none below 1 ms, also
    -- at the deadline's end (and 20 short waits, whose last steps are cut
    -- to fractions of a millisecond left); the pauses of a sender to a full unix datagram
    -- queue (0.2 s deadline) are never below 1 ms either. Counted by the
    -- ngx.sleep wrapper of openresty.conf.in, for the request's own calls.
    run(function()
        if MODE ~= 'pool' then
            local _, body = get('/sleeptrace?what=recv&timeout=0.5', 5)
            local what, n, smallest, first = (body or ''):match('^(%S+) %S+ / (%d+) (%S+) first (%S+)')
            n, smallest = tonumber(n), tonumber(smallest)
            check(what == 'timeout' and first == '0.001,0.002,0.004,0.008,0.016' and n and n >= 5 and n <= 70,
                  'a 0.5 s wait slept with a doubling backoff: first steps %s s (1, 2, 4, 8, 16 ms), ' ..
                  '%s ngx.sleep calls (about 35) (%s)', tostring(first), tostring(n), show(body))
            check(smallest and smallest >= 0.001,
                  'no ngx.sleep below 1 ms in a 0.5 s wait (smallest %s)', tostring(smallest))
            _, body = get('/sleeptrace?what=short', 5)
            local timeouts
            timeouts, smallest = (body or ''):match('^timeouts (%d+) / %d+ (%S+)')
            smallest = tonumber(smallest)
            check(timeouts == '20' and smallest and smallest >= 0.001,
                  'no ngx.sleep below 1 ms at the end of 20 waits of 21 to 34 ms (%s)', show(body))
        end
        local _, body = get('/sleeptrace?what=sendto&timeout=0.2', 5)
        local sent, n, smallest = (body or ''):match('^(%S+) true %S+ / (%d+) (%S+)')
        n, smallest = tonumber(n), tonumber(smallest)
        check(sent == '0' and n and n >= 1 and smallest and smallest >= 0.001,
              'the pauses of a sendto to a full queue: none below 1 ms (%s)', show(body))
    end)

    -- 5. Name resolution: a name (not a numeric address) resolves inside a
    -- handler; with a pool it went through the pool thread.
    run(function()
        local _, body = get('/resolve?host=localhost')
        check(resolved_loopback(body), 'localhost resolved in a handler (%s)', show(body))
        local count = tonumber((body or ''):match(' in_pool%+(%d+)\n$'))
        if MODE == 'pool' then
            check(count == 1, 'the name was resolved in the thread pool (%s)', show(body))
        else
            check(count == 0, 'no pool: the name was resolved in the worker (%s)', show(body))
        end
        -- the same from a coroutine of the handler (which has no keeper)
        for _, how in ipairs({'wrap', 'loop'}) do
            local _, got = get('/resolve?host=localhost&in=' .. how)
            local in_pool = (got or ''):match(' in_pool%+(%d+)\n$')
            check(resolved_loopback(got) and in_pool == (MODE == 'pool' and '1' or '0'),
                  'localhost resolved in a %s coroutine of a handler (%s)', how, show(got))
        end
    end)

    -- 5b. Resolution with a pool, reference.md getaddrinfoin and
    -- openresty.md: "A numeric address never leaves the worker (it needs no
    -- lookup)": 127.0.0.1 is resolved with no resolution in the pool; a
    -- name resolved in the pool keeps `canonname`, "the canonical name (in
    -- the first record)"; a name that fails in the pool (nosuch.invalid,
    -- answered EAI_NONAME by slowdns.c) is "nil, err", not an empty list.
    if MODE == 'pool' then run(function()
        local _, body = get('/resolve?host=127.0.0.1')
        check(body == '127.0.0.1 canon=nil in_pool+0\n',
              'a numeric address was not sent to the pool (%s)', show(body))
        _, body = get('/resolve?host=localhost&canon=1')
        check((body or ''):match('^[^ ]*127%.0%.0%.1[^ ]* canon=localhost%S* in_pool%+1\n$') ~= nil,
              'a name resolved in the pool kept its canonical name (%s)', show(body))
        if (os.getenv('NET_TEST_SLOWDNS') or '') ~= '' then
            _, body = get('/resolve?host=nosuch.invalid')
            check((body or ''):match('^error %a[^\n]* in_pool%+0\n$') ~= nil,
                  'a name that failed in the pool is nil, err (%s)', show(body))
        end
    end) end

    -- 5c. openresty.md: "Closing a socket takes it out of the set
    -- first ... and wakes its waiters, whose calls then report the closed
    -- socket": a light thread waiting in recv (no deadline) on a socket the
    -- handler closes 0.2 s on gets "Bad file descriptor" then, not never
    -- (the close hook wakes the waiters). Then a recv (1 s deadline) on a
    -- connected UDP socket whose send brings an ICMP error 0.1 s on ends
    -- with that error at once, and the poller did not spin meanwhile (an
    -- error without data wakes the wait like readable data does).
    if MODE == 'pool' then run(function()
        local _, body = get('/closewake', 5)
        local took = tonumber((body or ''):match('^error:Bad file descriptor (%S+)\n$'))
        check(took and took >= 0.19 and took < 0.7,
              'a recv waiting on a socket closed 0.2 s on reported the closed socket (%s)', show(body))
        _, body = get('/udperr', 5)
        local calls
        took, calls = (body or ''):match('^error:Connection refused (%S+) calls%+(%d+)\n$')
        took, calls = tonumber(took), tonumber(calls)
        check(took and took >= 0.09 and took < 0.5 and calls < 50,
              'a UDP recv got the pending ICMP error when it came (%s)', show(body))
    end) end

    -- 5g. reference.md, Deadlines and waiters: "A socket that is ready
    -- when its deadline passes is ready: the shipped waiters look once more
    -- before they say false". A call with a 0.05 s deadline whose socket
    -- the handler makes ready at once, in a worker then kept busy for
    -- 0.2 s, so the deadline has passed by the time the waiter runs again;
    -- the call goes on all the same: a send of 1000 bytes sends them, a
    -- recv reads the byte (the read also looks once more itself). Without
    -- a pool this is the sleeping waiter's look before its deadline test;
    -- with one, the poller here usually reports the socket first (the slow
    -- backend's accept keeps a call of its under way): the pool waiter's
    -- own last look is edge check 7's.
    run(function()
        local _, body = get('/readyatdeadline?dir=send', 5)
        check(body == 'sent 1000 nil nil\n', 'a socket writable when its deadline passed was written (%s)', show(body))
        _, body = get('/readyatdeadline?dir=recv', 5)
        check((body or ''):match('^data:x %S+\n$') ~= nil,
              'a socket readable when its deadline passed was read, not timed out (%s)', show(body))
    end)

    -- 5d. The poller's epoll set is made close-on-exec: a child
    -- process of the worker (io.popen) inherits fewer epoll sets than the
    -- worker has, the poller's not among them (with nginx's own, which is
    -- not close-on-exec, it would be all of them). On the poll(2) backend
    -- (build-poll) a set is no epoll set: there the C tests check that
    -- every descriptor a set opens is close-on-exec (pollset_test).
    if MODE == 'pool' then run(function()
        local _, body = get('/cloexec', 5)
        local worker, child, epoll = (body or ''):match('^worker (%d+) child (%d+) epoll (%d)\n$')
        check(worker and (epoll == '0' or tonumber(child) < tonumber(worker)),
              'a child of the worker did not inherit the poller\'s epoll set (%s)', show(body))
    end) end

    -- 5e. openresty.md: the access phase yields: a wait there
    -- (0.5 s for a timer's byte, no deadline) gets its data while another
    -- request is answered in well under 100 ms (taken for a phase that
    -- cannot yield, the wait would block the worker and end at block_cap
    -- with the timeout).
    run(function()
        local a_body
        loop.spawn(function() a_body = select(2, get('/accesswait', 5)) or 'no body' end)
        loop.sleep(0.1)
        local b_status, b_body, b_took = get('/fast')
        while a_body == nil do loop.sleep(0.01) end
        local took = tonumber(a_body:match('^access: data:x (%S+)\n$'))
        check(took and took >= 0.45 and took < 1, 'a wait in the access phase got its data (%s)', show(a_body))
        check(b_status == 200 and b_body == 'fast\n' and b_took < 0.1,
              'B (/fast) took %.1f ms while the access phase waited (< 100 ms)', (b_took or -1) * 1000)
    end)

    -- 5f. openresty.md: a deadline "is honoured (to the resolution
    -- of nginx timers)": a recv with a 0.05 s deadline, nothing written,
    -- times out after 0.05 s, not 0.1 s later (the best of three tries, so
    -- a loaded machine does not fail it), with the sleeping waiter and
    -- the pool's.
    run(function()
        local best, bodies = math.huge, {}
        for i = 1, 3 do
            local _, body = get('/pairwait?timeout=0.05', 5)
            bodies[i] = show(body)
            local took = tonumber((body or ''):match('^timeout (%S+)\n$'))
            best = math.min(best, took or math.huge)
        end
        check(best >= 0.049 and best < 0.12, 'a 0.05 s deadline ended the wait at it (%s)',
              table.concat(bodies, ', '))
    end)

    -- 6a. lua_code_cache off (/nocache): each request runs in a Lua VM of its
    -- own, which makes a poller of its own for its wait (with a pool); the
    -- poller's set and wake pair are closed with the VM, not left open
    -- (poller_fds).
    if MODE == 'pool' then run(function()
        local _, body = get('/stats')
        local pid = parse_lines(body).pid
        local before, right = poller_fds(pid), 0
        for _ = 1, 30 do
            local _, b = get('/nocache?delay=0.01&timeout=3')
            if (b or ''):match('^data:x ') then right = right + 1 end
        end
        -- each VM goes once its timers ended: the writer, the poller (its
        -- last call, poll_interval) and the poller's sentinel (pending for
        -- up to poll_interval after that call began)
        loop.sleep(0.8)
        local after = poller_fds(pid)
        check(right == 30, '%d of 30 waits without the code cache got their data', right)
        check(after <= before + POLLER_FDS,
              'descriptors (%s) of the worker: %d, %d before 30 requests without the code cache',
              POLLER_KINDS, after, before)
    end) end

    -- 6. Which waiter did the waiting.
    run(function()
        local _, body = get('/stats')
        local s = parse_lines(body)
        local pool, sleep, block = tonumber(s.pool), tonumber(s.sleep), tonumber(s.block)
        if MODE == 'pool' then
            check(pool and pool >= 200 and sleep == 0 and s['setting.pool_error'] == nil,
                  'every yieldable wait went through the pool (pool %s, sleep %s, error %s)',
                  tostring(pool), tostring(sleep), tostring(s['setting.pool_error']))
            check(s['setting.thread_pool'] == 'netpool', 'the pool was named by NET_OPENRESTY_THREAD_POOL')
        elseif MODE == 'sleep' then
            check(pool == 0 and sleep and sleep >= 200, 'every yieldable wait slept (pool %s, sleep %s)',
                  tostring(pool), tostring(sleep))
        else
            local err = s['setting.pool_error'] or ''
            check(err:find('not found', 1, true) ~= nil, 'the failed pool call is reported (%s)', err)
            check(sleep and sleep >= 200, 'the waits went on by sleeping (pool %s, sleep %s)',
                  tostring(pool), tostring(sleep))
        end
        check(block and block >= 4, 'the non-yieldable waits blocked, bounded (%s)', tostring(block))
    end)

    held_check(7, {backend = true})
end

-- The handlers of openresty_edge.conf.in (mode edge): the poller's own
-- troubles. Every step is bounded: a wait that hangs fails by the client's
-- timeout.
local function edge_checks()
    local function stats()
        local _, body = get('/stats')
        return parse_lines(body)
    end
    -- The fds the worker has open now.
    local function fds(pid)
        return count_fds('/proc/' .. pid .. '/fd')
    end
    -- The body of GET path; never nil (the loops below wait for it).
    local function body_of(path, timeout)
        local status, body = get(path, timeout)
        if not status then return 'client error: ' .. tostring(body) end
        return body or ''
    end
    -- "data:x SECONDS" of a /pairwait body: its seconds, or nil.
    local function got_x(body)
        return tonumber((body or ''):match('^data:x (%S+)'))
    end
    -- After a spell of the pool's trouble (s0: the stats before), a wait of
    -- delay seconds goes through the pool again, not by sleeping (what: the
    -- check's words).
    local function next_wait_in_pool(s0, delay, what)
        local _, again = get('/pairwait?delay=' .. delay .. '&timeout=3')
        local s1 = stats()
        check(got_x(again) and tonumber(s1.pool) == s0.pool + 1 and s1.sleep == s0.sleep,
              what .. ' (%s; pool %s -> %s, sleep %s -> %s)', show(again), s0.pool, s1.pool, s0.sleep,
              s1.sleep)
    end

    -- 0. init_by_lua required net.openresty before any other lua-net module
    -- and named the pool there: nginx started, and the pool is the one named.
    run(function()
        local status, err = get('/fast', 5)
        if not check(status == 200, 'the worker is up (%s)', tostring(status or err)) then os.exit(1) end
        local s = stats()
        check(s['setting.thread_pool'] == 'netpool', 'configure{} in init_by_lua named the pool (%s)',
              tostring(s['setting.thread_pool']))
    end)

    -- 1. Two timers hold both of the worker's lua_max_running_timers for 1 s,
    -- so nginx drops the poller's timer of the waits that start meanwhile.
    -- A wait without deadline must still end when its data comes (1.5 s),
    -- and a wait after the timers must be served by a poller again: it
    -- counts as a pool wait, the poller makes thread calls meanwhile, no
    -- wait of the check went on by sleeping, and no pool failure.
    run(function()
        local before = stats()
        local status = get('/timers?n=2&secs=1')
        check(status == 200, 'two timers sleep 1 s (%s)', tostring(status))
        local t0 = net.now()
        local short_body, long_body
        loop.spawn(function() short_body = body_of('/pairwait?timeout=0.3', 5) end)
        loop.spawn(function() long_body = body_of('/pairwait?delay=1.5', 5) end)
        loop.sleep(1.2 - (net.now() - t0))
        local s0 = stats()
        local _, body = get('/pairwait?delay=0.1&timeout=3', 5)
        local s1 = stats()
        local took = got_x(body)
        check(took and took < 0.5, 'a wait after the dropped timer got its data (%s, 0.1 s delay)', show(body))
        check(tonumber(s1.pool) == s0.pool + 1 and tonumber(s1.thread_calls) > tonumber(s0.thread_calls)
              and s1['setting.pool_error'] == nil,
              'the wait after the dropped timer went through the pool (pool %s -> %s, thread calls %s -> %s, ' ..
              'pool_error %s)', s0.pool, s1.pool, s0.thread_calls, s1.thread_calls,
              tostring(s1['setting.pool_error']))
        while not long_body do loop.sleep(0.02) end
        check((short_body or ''):match('^timeout 0%.[34]'), 'a 0.3 s wait meanwhile timed out (%s)', show(short_body))
        took = got_x(long_body)
        check(took and took >= 1.45 and took < 2.3,
              'a wait without deadline, its poller timer dropped, got its data (%s, 1.5 s)', show(long_body))
        local after = stats()
        check(after.sleep == before.sleep and after['setting.pool_error'] == nil,
              'no wait of the dropped timers went on by sleeping (sleep %s -> %s, pool_error %s)',
              before.sleep, after.sleep, tostring(after['setting.pool_error']))
    end)

    -- 2. Waits whose coroutine is killed: 20 requests whose light thread
    -- waits in recv when ngx.exit ends them, and 10 clients that go away
    -- from /hold (lua_check_client_abort). Their waits are dropped, their
    -- sockets collected (fds closed) and the poller stops, while a live
    -- wait across the same sweeps is served.
    run(function()
        local before = stats()
        local pid = before.pid
        local fds0 = fds(pid)
        local live_body
        loop.spawn(function() live_body = body_of('/pairwait?delay=1.2', 5) end)
        for _ = 1, 20 do
            local status, body = get('/spawnexit')
            if status ~= 200 or body ~= 'exiting\n' then
                check(false, '/spawnexit answered (%s %s)', tostring(status), show(body))
                break
            end
        end
        local left = 10
        for _ = 1, 10 do
            loop.spawn(function()
                local c = assert(inet.client.new { host = '127.0.0.1', port = PORT, nonblock = true, timeout = 5 })
                c:send('GET /hold HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n')
                loop.sleep(0.3)
                c:close()
                left = left - 1
            end)
        end
        while left > 0 or not live_body do loop.sleep(0.02) end
        local took = got_x(live_body)
        check(took and took >= 1.15 and took < 1.6, 'a live wait across the sweeps got its data (%s, 1.2 s)',
              show(live_body))
        loop.sleep(0.6) -- the poller sweeps every poll_interval (0.2 s)
        local _, gc = get('/gc')
        check(gc == 'tracked 0\n', 'the sockets of the 30 killed waits were collected (%s)', show(gc))
        local s1 = stats()
        check(s1.registered == '0', 'no fd left in the epoll set (%s)', tostring(s1.registered))
        loop.sleep(0.5)
        local s2 = stats()
        check(tonumber(s1.thread_calls) > tonumber(before.thread_calls) and s1.sleep == before.sleep
              and s2['setting.pool_error'] == nil,
              'the waits went through the poller: thread calls %s -> %s, sleep %s -> %s, pool_error %s',
              before.thread_calls, s1.thread_calls, before.sleep, s1.sleep, tostring(s2['setting.pool_error']))
        check(s1.thread_calls == s2.thread_calls, 'the poller stopped: thread calls %s, 0.5 s later %s',
              tostring(s1.thread_calls), tostring(s2.thread_calls))
        local fds1 = fds(pid)
        check(fds1 <= fds0 + 1, 'the worker has %d fds open, %d before (+1: the silent listener)', fds1, fds0)
    end)

    -- 3. configure{thread_pool = false} while a wait is pending: the wait
    -- goes on by sleeping and gets its data, with no pool failure reported;
    -- a pool that cannot run a resolution says so in the log (run checks);
    -- naming the pool again serves the waits through it.
    -- reference.md: "Changing thread_pool while waits are pending
    -- ends the poller after its current call; those waits go on as the new
    -- setting says": the pending wait then sleeps (stats().sleep rises) and
    -- the poller makes no thread call after the one in flight.
    -- "Naming a pool again clears a pool failure": 20 waits, each after
    -- nosuchpool is named again, each failing the pool (a poller and its
    -- poll set and wake pair each); the worker's descriptors of them
    -- (poller_fds) do not grow with them (a failed pool's set and pair are
    -- closed); netpool named again: no pool_error, and its waits go through
    -- the pool.
    run(function()
        local body
        local sleep0 = tonumber(stats().sleep)
        loop.spawn(function() body = body_of('/pairwait?delay=0.6', 5) end)
        loop.sleep(0.2)
        get('/configure?pool=off')
        local calls1 = stats().thread_calls
        loop.sleep(0.3)
        local calls2 = stats().thread_calls
        while not body do loop.sleep(0.02) end
        local s = stats()
        check(got_x(body) and s['setting.pool_error'] == nil and s['setting.thread_pool'] == nil,
              'pool switched off during a wait: %s, pool_error %s', show(body), tostring(s['setting.pool_error']))
        check(calls1 == calls2 and tonumber(s.sleep) > sleep0,
              'the pending wait went on by sleeping (sleep %s -> %s), no thread call after the switch (%s, %s)',
              tostring(sleep0), tostring(s.sleep), tostring(calls1), tostring(calls2))
        get('/configure?pool=nosuchpool')
        local _, resolved = get('/resolve?host=localhost')
        check(resolved_loopback(resolved), 'a name resolved without a working pool (%s)', show(resolved))
        local pid = s.pid
        local sets0, right = poller_fds(pid), 0
        for _ = 1, 20 do
            get('/configure?pool=nosuchpool')
            if got_x(body_of('/pairwait?delay=0.01&timeout=3')) then right = right + 1 end
        end
        local sets1 = poller_fds(pid)
        local failed = stats()['setting.pool_error']
        check(right == 20 and failed ~= nil, '%d of 20 waits with a failing pool got their data (pool_error %s)',
              right, tostring(failed))
        check(sets1 <= sets0 + POLLER_FDS, 'descriptors (%s) of the worker: %d, %d before 20 failed pools',
              POLLER_KINDS, sets1, sets0)
        get('/configure?pool=netpool')
        check(stats()['setting.pool_error'] == nil, 'naming the pool again cleared its failure (%s)',
              tostring(stats()['setting.pool_error']))
        next_wait_in_pool(stats(), 0.1, 'the pool named again serves a wait')
    end)

    -- 4. Every Lua VM of the pool busy for 0.6 s (lua_worker_thread_vm_pool_size
    -- 2, both held by /hogs): the poller's calls are refused meanwhile. The
    -- pool is not given up: a wait started then gets its data in time (the
    -- poller looks at the set from the worker meanwhile), and the next wait
    -- goes through the pool again. Two more waits in the same spell, each
    -- served by a poller loop of its own, are not warned of again: one
    -- busy spell counted (openresty.md: "once per busy spell").
    run(function()
        local hogs
        local spells = tonumber(stats().busy_spells)
        loop.spawn(function() hogs = body_of('/hogs?n=2&secs=0.6', 5) end)
        loop.sleep(0.1)
        local _, body = get('/pairwait?delay=0.1&timeout=3', 5)
        local more = {}
        for i = 1, 2 do more[i] = got_x(select(2, get('/pairwait?delay=0.02&timeout=3', 5))) end
        local counted = tonumber(stats().busy_spells) - spells
        -- names resolved meanwhile: the pool refuses them, the worker
        -- resolves them, one refusal spell warned of (openresty.md)
        local refused = tonumber(stats().refused_spells)
        local names = {}
        for i = 1, 2 do names[i] = resolved_loopback(select(2, get('/resolve?host=localhost', 5))) end
        local refused_spells = tonumber(stats().refused_spells) - refused
        while not hogs do loop.sleep(0.02) end
        check(more[1] and more[2] and counted == 1,
              'three waits in one busy spell: one spell counted, warned of once (%d; %s, %s)',
              counted, tostring(more[1]), tostring(more[2]))
        check(hogs == 'held 2\n', 'two thread calls held the pool\'s two Lua VMs (%s)', show(hogs))
        check(names[1] and names[2] and refused_spells == 1,
              'two names while the pool was busy: resolved in the worker (%s, %s), one refusal spell (%d)',
              tostring(names[1]), tostring(names[2]), refused_spells)
        local in_pool = tonumber(stats().resolved_in_pool)
        local _, after = get('/resolve?host=localhost')
        check(resolved_loopback(after) and tonumber(stats().resolved_in_pool) == in_pool + 1,
              'the pool free again, the next name was resolved in it (%s)', show(after))
        local took = got_x(body)
        check(took and took >= 0.09 and took < 0.3,
              'a wait while the pool was busy got its data, the poller looking from the worker (%s, 0.1 s)',
              show(body))
        local s = stats()
        check(s['setting.pool_error'] == nil, 'a busy pool is no failure (pool_error %s)',
              tostring(s['setting.pool_error']))
        next_wait_in_pool(s, 0.05, 'the next wait went through the pool')
    end)

    -- After the poller of the check before ended (its last call:
    -- poll_interval, 0.2 s), two timers hold both of the worker's slots for
    -- 1 s (/timers), so a poller timer made meanwhile is dropped: the
    -- stats before, and whether all went so.
    local function hold_timer_slots()
        loop.sleep(0.5)
        local s0 = stats()
        local status = get('/timers?n=2&secs=1')
        return s0, s0.registered == '0' and status == 200
    end

    -- 5. openresty.md, a dropped timer: "until then its waits
    -- wake every 0.25 s, and one whose timer has not run by then makes it
    -- again, until a slot is free". Nothing else waits (the poller has
    -- ended); two timers hold both slots for 1 s, so the poller's timer of
    -- a lone wait (3 s deadline; its data comes at 1.5 s, from a light
    -- thread) is dropped: the wait makes it again once a slot is free and
    -- gets its data at 1.5 s, not at its deadline, through the pool: the
    -- poller made thread calls, and the wait never went on by sleeping.
    run(function()
        local s0, held = hold_timer_slots()
        local _, body = get('/pairwait?timeout=3&delay=1.5&writer=thread', 8)
        local s1 = stats()
        local took = got_x(body)
        check(held and took and took >= 1.45 and took < 2.3 and s1.sleep == s0.sleep
              and tonumber(s1.thread_calls) > tonumber(s0.thread_calls),
              'a lone wait whose poller timer was dropped made it again, and got its data through the pool ' ..
              '(%s, 1.5 s; sleep %s -> %s, thread calls %s -> %s)',
              show(body), s0.sleep, s1.sleep, s0.thread_calls, s1.thread_calls)
    end)

    -- 6. One thread call of the poller at a time: a new wait
    -- while the loop runs joins its set ("one ngx.timer loop keeps one
    -- ngx.run_worker_thread call blocked in epoll_wait", openresty.lua); a
    -- loop that has run is trusted, not made again. One of the pool's two
    -- Lua VMs is held (/hogs) while a 2 s wait and five short ones (one
    -- every 0.3 s) go through the poller: its one call at a time finds the
    -- other VM free, about 13 calls in all (0.2 s each, and one per short
    -- wait's data; 8 at least, as the 2 s wait alone keeps it calling every
    -- 0.2 s: waits that went on by sleeping make none); a second loop's
    -- call at once would find no VM, and its
    -- busy pauses make many more (over 30).
    run(function()
        loop.sleep(0.5) -- the poller of check 5 ended
        local hogs
        loop.spawn(function() hogs = body_of('/hogs?n=1&secs=2.5', 8) end)
        loop.sleep(0.1)
        local _, body = get('/manywaits', 8)
        while not hogs do loop.sleep(0.02) end
        local took, short, calls = (body or ''):match('^data:x (%S+); (%d+) short; thread_calls %+(%d+)')
        check(hogs == 'held 1\n' and tonumber(took) and tonumber(took) < 2.5 and short == '5'
              and tonumber(calls) >= 8 and tonumber(calls) <= 24,
              'waits through a poller with one VM free: one call at a time, %s calls (8 to 24, about 13) (%s)',
              tostring(calls), show(body))
    end)

    -- 7. As main check 5g, a socket ready when its deadline passes is
    -- ready, here with no poller to report it: the poller's timer is
    -- dropped (hold_timer_slots, as in check 5; no thread call is made),
    -- and a send of 1000 bytes whose buffer was emptied at once (0.05 s
    -- deadline) sees its deadline pass with no news of the socket; the pool
    -- waiter's last look finds it writable and the send goes on. (In the
    -- first worker the poller learns of the socket first: the slow
    -- backend's accept keeps its calls going.)
    run(function()
        local s0, held = hold_timer_slots()
        local _, body = get('/readyatdeadline?dir=send', 5)
        local s1 = stats()
        check(held and s1.thread_calls == s0.thread_calls and body == 'sent 1000 nil nil\n',
              'a socket writable when its deadline passed, its poller\'s timer dropped, was written ' ..
              '(%s, thread calls %s -> %s)', show(body), tostring(s0.thread_calls), tostring(s1.thread_calls))
    end)

    -- 8. openresty.md, "No timer for the poller": with every pending timer
    -- of the worker taken (lua_max_pending_timers), three waits in a row go
    -- on by sleeping, one spell warned of (run counts the warnings in the
    -- log); once the timers have run, a wait goes through the pool again.
    run(function()
        loop.sleep(0.5) -- the timers of check 7 ended
        local s0 = stats()
        local _, body = get('/notimer?n=3', 5)
        local s1 = stats()
        local taken = tonumber((body or ''):match('^(%d+) timeout,timeout,timeout\n$'))
        local spells = (tonumber(s1.timerless_spells) or 0) - (tonumber(s0.timerless_spells) or 0)
        check(taken and taken > 0 and tonumber(s1.sleep) == s0.sleep + 3 and spells == 1,
              'three waits with no timer for the poller: by sleeping (%s; sleep %s -> %s), one spell counted (%d)',
              show(body), s0.sleep, s1.sleep, spells)
        loop.sleep(0.5)
        next_wait_in_pool(s1, 0.05, 'the timers gone, the next wait went through the pool')
    end)

    held_check(9, {silent = true})
end

if MODE == 'edge' then edge_checks() else main_checks() end
if failures > 0 then
    print(('%d check(s) failed'):format(failures))
    os.exit(1)
end
print('all checks passed (' .. MODE .. ')')
