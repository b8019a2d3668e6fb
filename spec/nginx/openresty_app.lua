-- The nginx side of spec/nginx/openresty_check.lua (template openresty.conf.in):
-- handlers that wait through lua-net inside one nginx worker, and a slow
-- unix backend served by a timer of that same worker. A frozen worker could
-- therefore not even serve its own backend: every wait would end only at
-- its deadline.
--
-- The backend reads one line "DELAY_MS TEXT\n", sleeps DELAY_MS
-- milliseconds (ngx.sleep), answers "TEXT\n" and closes.
--
-- Template openresty_edge.conf.in (check mode edge) uses the handlers of the
-- second part: waits whose poller timer nginx drops, waits whose coroutine
-- is killed, the pool switched off while a wait is pending.
local unix = require('net.stream.unix')
local inet = require('net.stream.inet')
local stream = require('net.stream')
local net = require('net')
local openresty = require('net.openresty')
local core = require('net.core')

local M = {}
local backend_path
-- The app's own sockets that live as long as the worker, by name (for
-- /held): the backend's listener, the silent listener. Weak keys.
local fixtures = setmetatable({}, {__mode = 'k'})

-- The first line of sock (without its "\n"), or nil, err / nil, nil, true.
local function read_line(sock)
    local got = ''
    while true do
        local data, err, again = sock:recv()
        if not data then return nil, err, again end
        got = got .. data
        local line = got:match('^(.-)\n')
        if line then return line end
    end
end

local function serve(conn)
    local line = read_line(conn)
    if line then
        local delay, text = line:match('^(%d+) (.*)$')
        if delay and tonumber(delay) > 0 then ngx.sleep(tonumber(delay) / 1000) end
        conn:send((text or '?') .. '\n')
    end
    conn:close()
end

-- The backend's accept loop: one timer; a light thread per connection. It
-- ends when the worker exits (the waiter then fails the accept).
local function backend(premature, server)
    if premature then return server:close() end
    while true do
        local conn, err = server:accept()
        if not conn then
            ngx.log(ngx.INFO, 'backend stops: ', tostring(err))
            break
        end
        ngx.thread.spawn(serve, conn)
    end
    server:close()
end

-- What a recv returned, as the specs read it: data:DATA, error:MESSAGE,
-- timeout or closed.
local function recv_outcome(data, err, again)
    return data and ('data:' .. data) or err and ('error:' .. err) or again and 'timeout' or 'closed'
end

-- A recv on sock, described: "<outcome> <seconds it took>".
local function timed_recv(sock)
    local t0 = net.now()
    local outcome = recv_outcome(sock:recv())
    return ('%s %.3f'):format(outcome, net.now() - t0)
end

-- A recv on a stream pair in the current phase, with timeout (seconds or
-- nil) as its deadline; "x" comes from the peer after delay seconds, or
-- nothing comes (delay nil). A timer writes it, or, with by_thread, a light
-- thread of the caller (the edge worker may have no slot for a timer).
-- Returns timed_recv's description.
local function pair_wait(timeout, delay, by_thread)
    local pair = assert(stream.pair())
    if timeout then pair[2]:settimeout(timeout) end
    local writer
    if delay and by_thread then
        writer = ngx.thread.spawn(function()
            ngx.sleep(delay)
            pair[1]:send('x')
        end)
    elseif delay then
        assert(ngx.timer.at(delay, function() pair[1]:send('x') end))
    end
    local result = timed_recv(pair[2])
    if writer then ngx.thread.wait(writer) end
    pair[1]:close()
    pair[2]:close()
    return result
end

-- A wait that nothing ends: its result is recorded under name in the
-- shared dict.
local function stuck_wait(name, timeout)
    ngx.shared.results:set(name, pair_wait(timeout))
end

-- A poll set's wait (timeout: seconds, or nil for none) on a socket nothing
-- writes to: "<n> <seconds>" under name. In a phase that cannot yield it
-- ends at block_cap with 0, on either backend (the poll(2) one's handle
-- cannot be waited for: it looks after pauses, which the cap ends too).
local function stuck_set_wait(name, timeout)
    local pair = assert(stream.pair())
    local set = assert(require('net.poll').new())
    assert(set:add(pair[2], 'r'))
    local t0 = net.now()
    local n, err = set:wait(timeout)
    ngx.shared.results:set(name, ('%s %.3f'):format(tostring(n or err), net.now() - t0))
    set:close()
    pair[1]:close()
    pair[2]:close()
end

-- init_worker_by_lua: the non-yieldable waits, then the backend.
function M.init_worker(path)
    backend_path = path
    stuck_wait('init_worker_cap')
    stuck_wait('init_worker_deadline', 0.05)
    os.remove(path)
    local server = assert(unix.server.new { path = path })
    assert(server:listen() == nil)
    fixtures[server] = 'backend'
    assert(ngx.timer.at(0, backend, server))
end

-- One backend round trip (a fresh connection): the reply line, or nil, err,
-- again. timeout: the client socket's deadline.
local function ask(delay, text, timeout, own_blocking)
    local c, err = unix.client.new { path = backend_path, timeout = timeout }
    if not c then return nil, err end
    if timeout then c:settimeout(timeout) end
    -- the program's own nonblock(false): still blocking for it only
    if own_blocking then assert(c:nonblock(false) ~= nil) end
    local n, serr = c:send(('%d %s\n'):format(delay, text))
    if n == nil then
        c:close()
        return nil, serr
    end
    local line, rerr, again = read_line(c)
    c:close()
    return line, rerr, again
end

-- GET /slow?delay=MS&msg=TEXT[&own=blocking]: "TEXT" after the backend's
-- delay (own=blocking: the socket made blocking by nonblock(false) first).
function M.slow()
    local line, err = ask(tonumber(ngx.var.arg_delay) or 0, ngx.var.arg_msg or '', nil,
                          ngx.var.arg_own == 'blocking')
    if not line then return ngx.say('error ', tostring(err)) end
    ngx.say(line)
end

-- GET /deadline?delay=MS&timeout=S: "timeout SECONDS" when the deadline
-- passed first, else what came.
function M.deadline()
    local t0 = net.now()
    local line, err, again = ask(tonumber(ngx.var.arg_delay) or 0, 'late', tonumber(ngx.var.arg_timeout))
    local took = net.now() - t0
    if again then return ngx.say(('timeout %.3f'):format(took)) end
    ngx.say(tostring(line or err), (' %.3f'):format(took))
end

-- A socket pair made outside lua-net (socketpair(2) through the FFI):
-- blocking descriptors, as another library or a parent process hands over.
local function foreign_pair()
    local ffi = require('ffi')
    pcall(ffi.cdef, 'int socketpair(int domain, int type, int protocol, int sv[2]);')
    local sv = ffi.new('int[2]')
    assert(ffi.C.socketpair(net.AF_UNIX, net.SOCK_STREAM, 0, sv) == 0)
    return assert(net.wrap(sv[0])), assert(net.wrap(sv[1]))
end

-- GET /kerneltimeo?kind=rcv|snd|wrap: "<result> <seconds>". rcv and snd: a
-- socket blocking for its user with a SO_RCVTIMEO / SO_SNDTIMEO of 0.2 s and
-- no deadline of its own, reading what nothing writes, or writing 8 MiB to
-- a peer that does not read (the kernel would end both at 0.2 s; inside
-- nginx the fd is non-blocking, and the library ends them). wrap: a recv on
-- a blocking descriptor made elsewhere and wrapped, which a timer of this
-- worker answers after 0.1 s (its rcvtimeo of 2 s bounds a frozen worker).
function M.kerneltimeo()
    local kind = ngx.var.arg_kind
    local a, b
    if kind == 'wrap' then a, b = foreign_pair() else a, b = unpack(assert(stream.pair())) end
    local data = kind == 'snd' and ('x'):rep(8 * 1024 * 1024) -- (made before the clock starts)
    local t0 = net.now()
    local what
    if kind == 'snd' then
        assert(a:sndtimeo(0.2) > 0)
        local sent, err, again = a:send(data)
        what = again and ('timeout sent=' .. sent) or ('sent=' .. tostring(sent) .. ' ' .. tostring(err))
    else
        assert(a:rcvtimeo(kind == 'wrap' and 2 or 0.2) > 0)
        if kind == 'wrap' then assert(ngx.timer.at(0.1, function() b:send('x') end)) end
        what = recv_outcome(a:recv())
    end
    local took = net.now() - t0
    a:close()
    b:close()
    ngx.say(('%s %.3f'):format(what, took))
end

-- GET /untimeout: a send of 8 MiB with a 5 s deadline (settimeout) on a
-- socket blocking for its user, to a peer that reads nothing until a light
-- thread takes the deadline away after 0.1 s, then reads what is queued:
-- the send goes on into that room, then ends at its next wait, "<sent> nil
-- true <seconds>"
-- (reference.md, "A deadline or waiter taken away while a call of the
-- socket waits"). Such a socket blocks for its user only: inside nginx its
-- fd is non-blocking, and no SO_SNDTIMEO is set (else the library could not
-- tell the two deadlines apart).
function M.untimeout()
    local a, b = unpack(assert(stream.pair()))
    assert(a:settimeout(5))
    local data = ('x'):rep(8 * 1024 * 1024)
    local th = ngx.thread.spawn(function()
        ngx.sleep(0.1)
        assert(a:settimeout(nil))
        repeat until not b:recv(65536, net.MSG_DONTWAIT)
    end)
    local t0 = net.now()
    local sent, err, again = a:send(data)
    local took = net.now() - t0
    assert(ngx.thread.wait(th))
    a:close()
    b:close()
    ngx.say(('%s %s %s %.3f'):format(tostring(sent), tostring(err), tostring(again), took))
end

-- GET /dgramcloser: a UDP socket blocking for its user, with a 5 s
-- deadline, waits in recv for a datagram that never comes; a light thread
-- calls closer() on it after 0.1 s. The recv ends then with the end of a
-- datagram socket's reading, "nil nil nil <seconds>" (reference.md,
-- net.dgram), not at its deadline.
function M.dgramcloser()
    local s = assert(require('net.dgram.inet').new { host = '127.0.0.1' })
    assert(s:settimeout(5))
    local th = ngx.thread.spawn(function()
        ngx.sleep(0.1)
        s:closer() -- (unconnected: "Transport endpoint is not connected", yet applied)
    end)
    local t0 = net.now()
    local data, err, again = s:recv()
    local took = net.now() - t0
    assert(ngx.thread.wait(th))
    s:close()
    ngx.say(('%s %s %s %.3f'):format(tostring(data), tostring(err), tostring(again), took))
end

-- A unix connect, with no deadline, to a listener whose queue is full and
-- which nobody drains: the result ("<result> <seconds>") under name. The
-- connect waits in short steps of its own (net.util.make): in a phase that
-- cannot yield, block_cap bounds them together.
local function full_backlog_connect(name)
    local path = backend_path .. '.full'
    os.remove(path)
    local server = assert(unix.server.new { path = path })
    assert(server:listen(1) == nil)
    local fillers = {}
    repeat -- non-blocking connects, until the queue takes no more
        local c = unix.client.new { path = path, nonblock = true }
        fillers[#fillers + 1] = c
    until not c or #fillers > 16
    local t0 = net.now()
    local c, err = unix.client.new { path = path }
    ngx.shared.results:set(name, ('%s %.3f'):format(c and 'connected' or err, net.now() - t0))
    if c then c:close() end
    for _, f in ipairs(fillers) do f:close() end
    server:close()
    os.remove(path)
end

-- A named (so blocking for its user) unix datagram socket's unconnected
-- sendto to a queue that is full: poll says writable, each try says "try
-- again" (reference.md, net.dgram.unix). The result of the first sendto
-- that did not go ("<sent> <again> <seconds>") under name, or returned.
local function full_queue_sendto(name, timeout)
    local dunix = require('net.dgram.unix')
    local rx_path, tx_path = backend_path .. '.rx', backend_path .. '.tx'
    os.remove(rx_path); os.remove(tx_path)
    local rx = assert(dunix.new { path = rx_path })
    local tx = assert(dunix.new { path = tx_path })
    if timeout then tx:settimeout(timeout) end
    local to, out = rx:getsockname(), nil
    for _ = 1, 64 do
        local t0 = net.now()
        local n, _, again = tx:sendto('x', to)
        if n ~= 1 then
            out = ('%s %s %.3f'):format(tostring(n), tostring(again), net.now() - t0)
            break
        end
    end
    rx:close(); tx:close(); os.remove(rx_path); os.remove(tx_path)
    if name then ngx.shared.results:set(name, out) end
    return out
end

-- log_by_lua: the non-yieldable waits of a request's log phase.
function M.log_phase()
    stuck_wait('log_cap')
    stuck_wait('log_deadline', 0.05)
    full_backlog_connect('log_backlog')
    full_queue_sendto('log_sendto')
    stuck_set_wait('log_setwait', 2)
    stuck_set_wait('log_setwait_nil')
end

-- GET /fullqueue?timeout=S: full_queue_sendto's result in a handler (the
-- worker must go on serving others while it tries).
function M.fullqueue()
    ngx.say(full_queue_sendto(nil, tonumber(ngx.var.arg_timeout)))
end

-- GET /unnamed: an unnamed unix datagram socket, blocking for its user and
-- connected to a queue a light thread drains after 0.2 s: the send that
-- finds the queue full waits for room, as a named one's does. Says
-- "<datagrams sent of 16> <seconds>".
function M.unnamed()
    local dunix = require('net.dgram.unix')
    local rx_path = backend_path .. '.urx'
    os.remove(rx_path)
    local rx = assert(dunix.new { path = rx_path })
    local tx = assert(dunix.new {})
    assert(tx:connect(rx:getsockname()) == nil)
    local drain = ngx.thread.spawn(function()
        ngx.sleep(0.2)
        rx:settimeout(0.05)
        while rx:recv() do end
    end)
    local t0, sent = net.now(), 0
    for _ = 1, 16 do
        if tx:send('x') ~= 1 then break end
        sent = sent + 1
    end
    ngx.say(('%d %.3f'):format(sent, net.now() - t0))
    ngx.thread.wait(drain)
    rx:close(); tx:close(); os.remove(rx_path)
end

-- ssl_client_hello_by_lua: a 0.1 s wait that nothing ends, recorded as
-- client_hello.
function M.client_hello()
    stuck_wait('client_hello', 0.1)
end

-- ssl_session_fetch_by_lua: a 0.1 s wait that nothing ends, recorded as
-- session_fetch.
function M.session_fetch()
    stuck_wait('session_fetch', 0.1)
end

-- GET /pastdeadline: 20 receives on a quiet socket with settimeout(0):
-- each says "try again" after one look, without a wait in the poller's set
-- (the thread-pool waiter), a sleep or a block: "<agains of 20> waits+<n>";
-- then the waiter itself, given a deadline that has passed, on the quiet
-- socket, on one with a byte queued, and on a closed one (the call's retry
-- reports it): "quiet <r> queued <r> closed <r>".
function M.pastdeadline()
    local pair = assert(stream.pair())
    pair[2]:settimeout(0)
    local function waits()
        local s = openresty.stats()
        return s.pool + s.sleep + s.block
    end
    local before, again = waits(), 0
    for _ = 1, 20 do
        local data, err, try_again = pair[2]:recv()
        if data == nil and err == nil and try_again then again = again + 1 end
    end
    ngx.say(('%d waits+%d'):format(again, waits() - before))
    local past = net.now() - 1
    local quiet = openresty.waiter(pair[2], 'r', past)
    assert(pair[1]:send('x') == 1)
    local queued = openresty.waiter(pair[2], 'r', past)
    pair[1]:close()
    pair[2]:close()
    ngx.say(('quiet %s queued %s closed %s'):format(tostring(quiet), tostring(queued),
        tostring(openresty.waiter(pair[2], 'r', past))))
end

-- GET /results: the shared dict, "name value" per line, sorted.
function M.results()
    local keys = ngx.shared.results:get_keys(0)
    table.sort(keys)
    for _, k in ipairs(keys) do ngx.say(k, ' ', ngx.shared.results:get(k)) end
end

-- Runs fn where how says: in the running thread itself (nil), in a
-- coroutine.wrap of its own (wrap), or in a coroutine of a net.loop run in
-- it (loop); fn's results (none for loop).
local in_coroutine = {
    wrap = function(fn) return coroutine.wrap(fn)() end,
    loop = function(fn)
        local loop = require('net.loop')
        loop.spawn(fn)
        loop.run()
    end,
}
local function called_in(how, fn)
    return (in_coroutine[how] or function(f) return f() end)(fn)
end

-- GET /killres?host=NAME[&in=wrap|loop][&after=S]: a light thread resolving
-- NAME (in the pool), itself or in a coroutine of its own (called_in), is
-- killed S s on (0.3 by default): "killed 1", answered at once (the request
-- must not wait for the resolution or its keeper, net.openresty's light
-- thread).
function M.killres()
    local th = ngx.thread.spawn(called_in, ngx.var.arg_in, function()
        return stream.getaddrinfoin { host = ngx.var.arg_host, port = 80 }
    end)
    ngx.sleep(tonumber(ngx.var.arg_after) or 0.3)
    ngx.say('killed ', tostring(ngx.thread.kill(th)))
end

-- A net.loop run whose one coroutine makes a timed_recv on sock: its
-- description, or "raised <message>" when the run raised.
local function loop_recv(sock)
    local loop = require('net.loop')
    local result
    loop.spawn(function() result = timed_recv(sock) end)
    local ok, err = pcall(loop.run)
    return ok and result or ('raised ' .. tostring(err))
end

-- GET /loopwait?timeout=S&delay=S: a net.loop in the handler, whose one
-- coroutine receives on a stream pair with timeout (or none) as its
-- deadline while a timer writes "x" after delay seconds (or nothing does);
-- then a net.poll set waiting on that pair: "<loop result> <seconds>
-- <poll count> <seconds>". The loop's and the set's waits go through the
-- OpenResty waiter: the worker serves others meanwhile.
function M.loopwait()
    local poll = require('net.poll')
    local timeout, delay = tonumber(ngx.var.arg_timeout), tonumber(ngx.var.arg_delay)
    local pair = assert(stream.pair())
    pair[2]:nonblock(true)
    if timeout then pair[2]:settimeout(timeout) end
    if delay then assert(ngx.timer.at(delay, function() pair[1]:send('x') end)) end
    local loop_result = loop_recv(pair[2])
    local set = assert(poll.new())
    assert(set:add(pair[2], 'r'))
    if delay then assert(ngx.timer.at(delay, function() pair[1]:send('y') end)) end
    local t0 = net.now()
    local n = set:wait(timeout)
    local set_took = net.now() - t0
    set:close()
    pair[1]:close()
    pair[2]:close()
    ngx.say(('%s %s %.3f'):format(loop_result, tostring(n), set_took))
end

-- A net.loop whose one coroutine receives on a quiet stream pair with
-- timeout as its deadline (nil: none): loop_recv's result. Every request's
-- or timer's run is its own, also while another one waits.
local function one_loop(timeout)
    local pair = assert(stream.pair())
    pair[2]:nonblock(true)
    if timeout then pair[2]:settimeout(timeout) end
    local result = loop_recv(pair[2])
    pair[1]:close()
    pair[2]:close()
    return result
end

-- GET /oneloop?timeout=S: one_loop's result.
function M.oneloop()
    ngx.say(one_loop(tonumber(ngx.var.arg_timeout)))
end

-- The worker's open descriptors, after a full collection.
local count_fds = require('proc_fds')
local function worker_fds()
    collectgarbage(); collectgarbage()
    return count_fds('/proc/' .. ngx.worker.pid() .. '/fd')
end

-- GET /killloop: light threads' net.loop runs, each killed 0.1 s into its
-- 5 s wait, then the worker's descriptors before and after "fds <n> <n>"
-- (the killed runs' sets and sockets are let go, with no other run in the
-- worker to take the loop's state out of the module's hands), then a run
-- of this request's own: "killed <kill's result> <its result>".
function M.killloop()
    local before = worker_fds()
    local killed
    for _ = 1, 5 do
        local th = ngx.thread.spawn(one_loop, 5)
        ngx.sleep(0.1)
        killed = ngx.thread.kill(th)
    end
    -- (with a pool, the poller lets go of a killed wait once its next
    -- call returns: poll_interval, 0.2 s)
    ngx.sleep(0.5)
    -- A killed run's set and sockets close in their collectors' finalizers;
    -- what only a pending finalizer still reaches is freed, and its own
    -- finalizer run, a cycle later, so a chain of them outlasts two
    -- collections: collected again (up to 1 s) while more are open than
    -- before. A descriptor still held stays open, and is counted.
    local after = worker_fds()
    for _ = 1, 10 do
        if after <= before then break end
        ngx.sleep(0.1)
        after = worker_fds()
    end
    ngx.say('fds ', before, ' ', after)
    ngx.say('killed ', tostring(killed), ' ', one_loop(0.05))
end

-- header_filter_by_lua (a phase that cannot yield): a net.loop whose
-- coroutine waits with no deadline; block_cap ends it. Under hfloop.
function M.header_filter_loop()
    ngx.shared.results:set('hfloop', one_loop(nil))
end

-- ---- openresty_edge.conf.in: the poller's own troubles ----------------------

-- GET /pairwait?timeout=S&delay=S[&writer=thread]: pair_wait's result
-- (writer=thread: a light thread writes, not a timer).
function M.pairwait()
    ngx.say(pair_wait(tonumber(ngx.var.arg_timeout), tonumber(ngx.var.arg_delay), ngx.var.arg_writer == 'thread'))
end

-- GET /timers?n=N&secs=S: N timers that each sleep S seconds, holding N of
-- the worker's lua_max_running_timers meanwhile.
function M.timers()
    local secs = tonumber(ngx.var.arg_secs)
    for _ = 1, tonumber(ngx.var.arg_n) do
        assert(ngx.timer.at(0, function() ngx.sleep(secs) end))
    end
    ngx.say('started')
end

-- GET /notimer?n=N: every pending timer the worker may have taken for 0.3 s
-- (no-op timers, up to lua_max_pending_timers), then N recvs with a 0.02 s
-- deadline on a stream pair, one after the other, none of which gets a
-- timer for the poller: "<timers taken> <the recvs' outcomes>".
function M.notimer()
    local taken = 0
    while taken < 100000 and ngx.timer.at(0.3, function() end) do taken = taken + 1 end
    local pair = assert(stream.pair())
    pair[2]:settimeout(0.02)
    local outcomes = {}
    for i = 1, tonumber(ngx.var.arg_n) do outcomes[i] = recv_outcome(pair[2]:recv()) end
    pair[1]:close()
    pair[2]:close()
    ngx.say(taken, ' ', table.concat(outcomes, ','))
end

-- A listening socket that never accepts: a connection to it is a peer that
-- never writes (the kernel completes up to the backlog). Made on first use.
local silent
-- The sockets connected to it, weakly: what is left after a collection was
-- leaked by something still holding it.
local tracked = setmetatable({}, {__mode = 'k'})

-- A connection to the silent listener, waiting in recv for as long as its
-- coroutine lives.
local function recv_forever()
    if not silent then
        silent = assert(inet.server.new { host = '127.0.0.1' })
        assert(silent:listen(256) == nil)
        fixtures[silent] = 'silent'
    end
    local c = assert(inet.client.new { host = '127.0.0.1', port = silent:getsockname():port() })
    tracked[c] = true
    c:recv()
    c:close()
end

-- GET /hold (lua_check_client_abort on): waits in recv until the client goes away.
M.hold = recv_forever

-- GET /spawnexit: a light thread waits in recv; the request ends with
-- ngx.exit, which kills it.
function M.spawnexit()
    ngx.thread.spawn(recv_forever)
    ngx.sleep(0.05)
    ngx.say('exiting')
    ngx.exit(200)
end

-- GET /hogs?n=N&secs=S: N light threads that each hold a Lua VM of the
-- pool for S seconds (a thread call that waits S seconds on an empty poll
-- set of its own); answered when they are done. No timer: the edge
-- worker runs two at most (the poller's and a /pairwait writer's).
function M.hogs()
    local n, secs = tonumber(ngx.var.arg_n), tonumber(ngx.var.arg_secs)
    local threads = {}
    for i = 1, n do
        threads[i] = ngx.thread.spawn(function()
            local pfd = core.poll_create(core.constants.CLOEXEC)
            -- luacheck: ignore 143 (ngx_lua 0.10.21+; luacheck's ngx_lua std predates it)
            local ok = ngx.run_worker_thread('netpool', 'net.util.openresty_thread', 'wait', pfd, secs, 1)
            core.poll_close(pfd)
            return ok
        end)
    end
    local held = 0
    for i = 1, n do
        local _, ok = ngx.thread.wait(threads[i])
        if ok then held = held + 1 end
    end
    ngx.say('held ', held)
end

-- GET /gc: two full collections, then "tracked N": the connections of
-- /hold and /spawnexit still alive.
function M.gc()
    collectgarbage()
    collectgarbage()
    local n = 0
    for _ in pairs(tracked) do n = n + 1 end
    ngx.say('tracked ', n)
end

-- GET /configure?pool=NAME|off: names the thread pool, or none.
-- GET /configure?poll_interval=S: sets poll_interval.
function M.configure()
    local pool, interval = ngx.var.arg_pool, tonumber(ngx.var.arg_poll_interval)
    if interval then
        openresty.configure { poll_interval = interval }
        return ngx.say('poll_interval ', interval)
    end
    openresty.configure { thread_pool = pool ~= 'off' and pool }
    ngx.say('pool ', pool)
end

-- GET /held: the open lua-net sockets and poll sets that the worker's Lua
-- still reaches after a full collection, one per line: "<object> <path>"
-- (spec/heap_paths.lua; the app's fixtures by name instead: "backend",
-- "silent"). Once every request, timer and loop is over, they alone are
-- left.
local heap_paths = require('heap_paths')
function M.held()
    collectgarbage(); collectgarbage()
    local found, lines = heap_paths.held(heap_paths.open_lua_net_object, debug.getregistry()), {}
    for i, f in ipairs(found) do
        lines[i] = (fixtures[f.obj] or tostring(f.obj)) .. ' ' .. f.path
    end
    ngx.say(#found, ' held')
    if #lines > 0 then ngx.say(table.concat(lines, '\n')) end
end

-- GET /stats: the waiter's counters and settings, "name value" per line,
-- the worker's pid and net.POLL_WAITABLE (1: the poller can wait on a set).
function M.stats()
    local out = {'pid ' .. ngx.worker.pid(), 'poll_waitable ' .. net.POLL_WAITABLE}
    for k, v in pairs(openresty.stats()) do out[#out + 1] = k .. ' ' .. tostring(v) end
    for k, v in pairs(openresty.settings()) do out[#out + 1] = 'setting.' .. k .. ' ' .. tostring(v) end
    table.sort(out)
    ngx.say(table.concat(out, '\n'))
end


-- ---- resolution in the pool, wakes on close and errors, phases ----------

-- GET /resolve?host=NAME[&canon=1][&in=wrap|loop]: stream.getaddrinfoin of
-- NAME (canon: with canonname; in: called_in): "<addresses,
-- comma-separated> canon=<first record's canonname> in_pool+<resolutions
-- done in the pool meanwhile>", or "error <message> in_pool+<n>".
function M.resolve()
    local before = openresty.stats().resolved_in_pool
    local ais, err
    called_in(ngx.var.arg_in, function()
        ais, err = stream.getaddrinfoin { host = ngx.var.arg_host, port = 80,
                                          canonname = ngx.var.arg_canon == '1' }
    end)
    local out
    if ais then
        local hosts = {}
        for i, ai in ipairs(ais) do hosts[i] = ai:addr() end
        out = ('%s canon=%s'):format(table.concat(hosts, ','), tostring(ais[1] and ais[1]:canonname()))
    else
        out = 'error ' .. tostring(err)
    end
    ngx.say(out, ' in_pool+', openresty.stats().resolved_in_pool - before)
end

-- GET /closewake: a light thread waits in recv on a stream pair, no
-- deadline; the handler closes that socket 0.2 s on and waits up to 1.5 s
-- for the thread's result: "<recv outcome> <seconds>", or "still waiting"
-- (the thread is then killed: the request never hangs).
function M.closewake()
    local pair = assert(stream.pair())
    local res
    local th = ngx.thread.spawn(function() res = timed_recv(pair[2]) end)
    ngx.sleep(0.2)
    pair[2]:close()
    local t0 = net.now()
    while not res and net.now() - t0 < 1.5 do ngx.sleep(0.01) end
    if not res then ngx.thread.kill(th) end
    pair[1]:close()
    ngx.say(res or 'still waiting')
end

-- GET /udperr: a UDP socket connected to a loopback port nobody listens
-- on; a light thread waits in recv (1 s deadline) while, 0.1 s on, the
-- handler sends a datagram whose ICMP port-unreachable leaves an error
-- pending on the socket (POLLERR without POLLIN): "<recv outcome>
-- <seconds> calls+<the poller's thread calls meanwhile>".
function M.udperr()
    local dinet = require('net.dgram.inet')
    local dead = assert(dinet.new { host = '127.0.0.1' })
    local port = dead:getsockname():port()
    dead:close()
    local s = assert(dinet.new { host = '127.0.0.1' })
    local ai = assert(require('net.dgram').getaddrinfoin { host = '127.0.0.1', port = port })[1]
    assert(s:connect(ai) == nil)
    s:settimeout(1)
    local calls0 = openresty.stats().thread_calls
    local res
    local th = ngx.thread.spawn(function() res = timed_recv(s) end)
    ngx.sleep(0.1)
    s:send('x')
    ngx.thread.wait(th)
    s:close()
    ngx.say(res, ' calls+', openresty.stats().thread_calls - calls0)
end


-- The eventpoll descriptors of the process whose /proc/<pid>/fd is dir.
local function epoll_sets(dir)
    return count_fds(dir, '[eventpoll]')
end

-- GET /cloexec: after a wait (through the poller, with a pool), "worker
-- <the worker's epoll sets> child <the ones a child process inherited>
-- epoll <net.POLL_WAITABLE: 1 when poll sets are epoll sets>".
function M.cloexec()
    pair_wait(1, 0.01)
    ngx.say('worker ', epoll_sets('/proc/' .. ngx.worker.pid() .. '/fd'), ' child ', epoll_sets('/proc/self/fd'),
            ' epoll ', net.POLL_WAITABLE)
end

-- access_by_lua of /accesswait: a wait of 0.5 s for a timer's byte, no
-- deadline; the content phase says its result ("access: <pair_wait's>").
function M.access_wait()
    ngx.ctx.access = pair_wait(nil, 0.5)
end
function M.access_content()
    ngx.say('access: ', tostring(ngx.ctx.access))
end

-- ---- the sleep backoff's calls -----------------------------------------------

-- GET /sleeptrace?what=recv|short|sendto&timeout=S: a wait of S seconds
-- that nothing ends (recv: on a quiet stream pair; short: 20 such waits of
-- about 30 ms; sendto: full_queue_sendto, the pauses of a sender to a full
-- queue), traced by openresty.conf.in's
-- ngx.sleep wrapper: "<its result> / <ngx.sleep calls> <smallest argument>
-- first <the first five arguments, comma-separated>".
function M.sleeptrace()
    local timeout = tonumber(ngx.var.arg_timeout)
    local trace = {co = coroutine.running(), n = 0, min = math.huge, first = {}}
    rawset(_G, 'SLEEP_TRACE', trace)
    local result
    if ngx.var.arg_what == 'sendto' then
        result = full_queue_sendto(nil, timeout)
    elseif ngx.var.arg_what == 'short' then
        -- 20 waits of 20.7 to 34 ms: each one's last step is cut to what is
        -- left of it, some fraction of a millisecond after ngx.sleep's
        -- whole ones
        local timeouts = 0
        for i = 1, 20 do
            if pair_wait(0.02 + i * 0.0007):match('^timeout ') then timeouts = timeouts + 1 end
        end
        result = ('timeouts %d'):format(timeouts)
    else
        result = pair_wait(timeout)
    end
    rawset(_G, 'SLEEP_TRACE', nil)
    ngx.say(('%s / %d %.6f first %s'):format(tostring(result), trace.n, trace.min,
                                              table.concat(trace.first, ',')))
end

-- GET /queuetimer: a timer (ngx.timer.at(0)) whose unconnected unix
-- datagram sendto to a full queue, with no deadline, pauses between tries
-- for as long as the worker lives; once the worker is exiting, its pause
-- fails with "nginx worker is exiting" and the timer ends (run's QUIT).
function M.queuetimer()
    assert(ngx.timer.at(0, function() full_queue_sendto('queuetimer') end))
    ngx.say('started')
end

-- GET /stall?secs=S: holds the worker S seconds (a busy loop, as a CPU-heavy
-- handler or a long collection would), then answers "pending N": the
-- worker's pending timers (ngx.timer.pending_count). GET /stall alone: only
-- the count.
function M.stall()
    local secs = tonumber(ngx.var.arg_secs) or 0
    local t0 = core.now()
    while core.now() - t0 < secs do end
    ngx.say('pending ', ngx.timer.pending_count())
end

-- GET /loopserver?name=N: a timer runs a net.loop server on a unix path of
-- its own (beside the backend's), each connection's coroutine waiting, with
-- no deadline, for a line that never comes. GET /loopask?names=N,M,...: a
-- connection to each, waiting in turn, with no deadline, for an answer that
-- never comes either. At a graceful quit every loop's run fails ("nginx
-- worker is exiting") and leaves its coroutines; the exiting worker would
-- never collect them, so the connections' server sides stayed open and
-- /loopask held the worker. They are collected: /loopask answers "end" for
-- each, then "cycles N", the collector's full cycles meanwhile (one for all
-- the loops that failed together; a collection per loop made as many).
local function loop_path(name) return backend_path .. '.loop' .. name end

function M.loopserver()
    local path = loop_path(ngx.var.arg_name or '')
    os.remove(path)
    local server = assert(unix.server.new { path = path })
    assert(server:listen() == nil)
    assert(ngx.timer.at(0, function()
        local loop = require('net.loop')
        loop.spawn(function()
            while true do
                local conn = server:accept()
                if not conn then break end
                loop.spawn(function() conn:recv() end)
            end
        end)
        local ok, err = pcall(loop.run)
        ngx.log(ngx.INFO, 'loopserver: ', tostring(ok), ' ', tostring(err))
    end))
    ngx.say('started')
end

-- The collector's full cycles in this VM since the first call: a proxy
-- whose finalizer counts and makes the next one.
local gc_cycles
local function count_gc_cycles()
    if gc_cycles then return end
    gc_cycles = 0
    local function arm()
        getmetatable(newproxy(true)).__gc = function() gc_cycles = gc_cycles + 1; arm() end
    end
    arm()
end

function M.loopask()
    count_gc_cycles()
    local conns, said = {}, {}
    for name in (ngx.var.arg_names or ''):gmatch('[^,]+') do
        conns[#conns + 1] = assert(unix.client.new { path = loop_path(name) })
    end
    local cycles0 = gc_cycles
    for i, c in ipairs(conns) do
        local data, err, again = c:recv()
        c:close()
        said[i] = (data == nil and err == nil and not again) and 'end'
            or table.concat({tostring(data), tostring(err), tostring(again)}, ' ')
    end
    ngx.say(table.concat(said, ', '), '; cycles ', gc_cycles - cycles0)
end

-- GET /manywaits (openresty_edge.conf.in): a light thread's wait for data
-- that comes at 2 s, and meanwhile a short wait (data at 0.01 s) every
-- 0.3 s, five of them, all through the poller: "<the long wait's result>;
-- <short waits that got their data> short; thread_calls +<the poller's
-- thread calls meanwhile>".
function M.manywaits()
    local calls0 = openresty.stats().thread_calls
    local long = ngx.thread.spawn(pair_wait, nil, 2, true)
    local right = 0
    for _ = 1, 5 do
        ngx.sleep(0.3)
        if pair_wait(3, 0.01, true):match('^data:x ') then right = right + 1 end
    end
    local _, result = ngx.thread.wait(long)
    ngx.say(('%s; %d short; thread_calls +%d'):format(result, right, openresty.stats().thread_calls - calls0))
end


-- ---- a socket ready when its deadline passes ----------------------------------

-- GET /readyatdeadline?dir=recv|send: a light thread's call with a 0.05 s
-- deadline on a stream pair that is not ready for it (recv: nothing sent;
-- send of 1000 bytes: the socket's buffer full); the handler then makes it
-- ready (writes "x" to the peer; reads the peer's queue empty) and keeps
-- the worker busy for 0.2 s without yielding, so the call's deadline passes
-- before nginx handles any event (with a pool, the poller learns of it
-- only later, unless a call of its was under way: one that another wait
-- keeps going): recv: "<recv outcome> <seconds>"; send: "sent <count>
-- <err> <again>"; "raised <message>" if the thread raised. In
-- openresty.conf.in and openresty_edge.conf.in.
function M.readyatdeadline()
    local pair = assert(stream.pair())
    local call, make_ready
    if ngx.var.arg_dir == 'send' then
        assert(pair[1]:nonblock(true))
        local chunk = ('z'):rep(65536)
        repeat until assert(pair[1]:send(chunk)) < #chunk -- the buffer is full
        assert(pair[1]:settimeout(0.05))
        call = function()
            local n, err, again = pair[1]:send(('y'):rep(1000))
            return ('sent %s %s %s'):format(tostring(n), tostring(err), tostring(again))
        end
        make_ready = function()
            assert(pair[2]:nonblock(true))
            repeat
                local data, err = pair[2]:recv()
                assert(data or not err, err)
            until not data -- the queue is empty
        end
    else
        assert(pair[2]:settimeout(0.05))
        call = function() return timed_recv(pair[2]) end
        make_ready = function() assert(pair[1]:send('x') == 1) end
    end
    local th = ngx.thread.spawn(call)
    make_ready()
    local t0 = net.now()
    repeat until net.now() - t0 >= 0.2
    local ok, res = ngx.thread.wait(th)
    pair[1]:close()
    pair[2]:close()
    ngx.say(ok and res or ('raised ' .. tostring(res)))
end

return M
