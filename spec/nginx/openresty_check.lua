-- The checking side of spec/nginx/run's openresty-pool and openresty-sleep
-- cases: HTTP/1.0 requests to the nginx of openresty.conf.in (one worker;
-- handlers in openresty_app.lua), made with lua-net itself under net.loop,
-- each timed on net.now().
--
--   luajit spec/nginx/openresty_check.lua PORT pool|sleep|badpool
--
-- pool: a thread pool configured and named; sleep: none named; badpool: a
-- name without its thread_pool directive, so the first pool call fails and
-- every wait goes on by sleeping.
--
-- Prints each check; exits 1 at the first that fails.
local inet = require('net.stream.inet')
local loop = require('net.loop')
local net = require('net')

local PORT = assert(tonumber(arg[1]), 'usage: openresty_check.lua PORT pool|sleep|badpool')
local MODE = arg[2]
assert(MODE == 'pool' or MODE == 'sleep' or MODE == 'badpool', 'mode must be pool, sleep or badpool')

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

local function parse_lines(body)
    local out = {}
    for k, v in (body or ''):gmatch('([^ \n]+) ([^\n]*)') do out[k] = v end
    return out
end

-- 0. The worker's init_worker phase blocks for its bounded waits (check 4):
-- the timed checks start once the worker answers.
run(function()
    local status, err = get('/fast', 5)
    if not check(status == 200, 'the worker is up (%s)', tostring(status or err)) then os.exit(1) end
end)

-- 1. Request A waits 1 s on the slow backend; request B, sent 0.1 s later to
-- the same (single) worker, waits on the backend with no delay, and a plain
-- request C too: both answered in well under 100 ms while A still waits.
run(function()
    local a_status, a_body, a_took
    loop.spawn(function()
        a_status, a_body, a_took = get('/slow?delay=1000&msg=A')
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
    check(a_took and a_took >= 1.0 and a_took < 1.5, 'A took %.3f s (1 s backend delay)', a_took or -1)
end)

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

-- 3. A deadline inside a handler: the socket's timeout (0.2 s) passes
-- before the backend's 1 s delay, and the handler gets the timeout result.
run(function()
    local status, body = get('/deadline?delay=1000&timeout=0.2')
    local took = tonumber((body or ''):match('^timeout (%S+)'))
    check(status == 200 and took ~= nil, 'deadline: the handler saw the timeout result (%s)', show(body))
    check(took and took >= 0.19 and took < 0.5, 'deadline: the wait ended after %.3f s (0.2 s deadline)', took or -1)
    local s2, b2 = get('/deadline?delay=10&timeout=2')
    check(s2 == 200 and (b2 or ''):match('^late '), 'deadline: a reply within the deadline arrives (%s)', show(b2))
end)

-- 4. Phases that cannot yield: init_worker (at start) and log (now) each
-- waited on a socket nothing writes to, with no deadline (bounded by
-- block_cap = 0.3 s) and with a 0.05 s deadline: the timeout result, after
-- the bound and not much later; the worker lives on.
run(function()
    local s1 = get('/logphase')
    check(s1 == 200, 'log phase request answered')
    loop.sleep(0.6) -- the log phase runs after the response: give it its 0.35 s
    local _, body = get('/results')
    local r = parse_lines(body)
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
    local s2, b2 = get('/fast')
    check(s2 == 200 and b2 == 'fast\n', 'the worker still answers after the blocking phases')
end)

-- 5. Name resolution: a name (not a numeric address) resolves inside a
-- handler; with a pool it went through the pool thread.
run(function()
    local _, body = get('/resolve?host=localhost')
    check((body or ''):find('127.0.0.1\n', 1, true) ~= nil, 'localhost resolved in a handler (%s)', show(body))
    local count = tonumber((body or ''):match('resolved_in_pool (%d+)'))
    if MODE == 'pool' then
        check(count and count >= 1, 'the name was resolved in the thread pool (%s)', tostring(count))
    else
        check(count == 0, 'no pool: the name was resolved in the worker (%s)', tostring(count))
    end
end)

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

if failures > 0 then
    print(('%d check(s) failed'):format(failures))
    os.exit(1)
end
print('all checks passed (' .. MODE .. ')')
