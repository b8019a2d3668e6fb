-- net.loop: coroutines over net.poll, on real loopback sockets.
local net = require('net')
local stream = require('net.stream')
local inet = require('net.stream.inet')
local loop = require('net.loop')
local h = require('spec.lua.helper')

describe('net.loop', function()
  it('runs spawned coroutines with their arguments until none is left', function()
    local got = {}
    loop.spawn(function(a, b) got[#got + 1] = a + b end, 1, 2)
    loop.spawn(function(...) got[#got + 1] = select('#', ...) end, nil, nil)
    loop.run()
    assert.same({ 3, 2 }, got)
  end)

  it('sleep orders coroutines by time', function()
    local order = {}
    for _, d in ipairs({ 0.06, 0.02, 0.04 }) do
      loop.spawn(function() loop.sleep(d); order[#order + 1] = d end)
    end
    local t0 = net.now()
    loop.run()
    assert.same({ 0.02, 0.04, 0.06 }, order)
    assert.is_true(net.now() - t0 >= 0.055)
  end)

  it('a non-blocking socket that would block waits for its peer in another coroutine', function()
    local p = assert(stream.pair { nonblock = true })
    local got
    loop.spawn(function() got = p[2]:recv() end)
    loop.spawn(function() loop.sleep(0.02); assert.equals(5, p[1]:send('hello')) end)
    loop.run()
    assert.equals('hello', got)
    p[1]:close(); p[2]:close()
  end)

  it('a deadline in a loop coroutine ends the wait with again', function()
    local p = assert(stream.pair { nonblock = true })
    assert.is_true(p[2]:settimeout(0.05))
    local r
    loop.spawn(function() r = h.pack(p[2]:recv()) end)
    local t0 = net.now()
    loop.run()
    assert.same({ n = 3, nil, nil, true }, r)
    assert.is_true(net.now() - t0 >= 0.045)
    p[1]:close(); p[2]:close()
  end)

  -- The second recv waits first (the first one drained the socket), and
  -- begins its wait inside the round that resumed the first one, after that
  -- round's look at the sockets: its deadline (now) has passed at the next
  -- round, and the bytes queued meanwhile must still be read.
  it('a deadline that has passed does not hide bytes already queued', function()
    local p = assert(stream.pair { nonblock = true })
    local got = {}
    loop.spawn(function()
      assert.is_true(p[1]:settimeout(5))
      got[1] = h.pack(p[1]:recv(100)) -- woken by the peer below
      assert.is_true(p[1]:settimeout(0))
      assert.are.equal(5, p[2]:send('world'))
      got[2] = h.pack(p[1]:recv(100))
      got[3] = h.pack(p[1]:recv(100)) -- nothing queued now: the deadline
    end)
    loop.spawn(function() loop.sleep(0.01); p[2]:send('hello') end)
    loop.run()
    assert.are.same({h.pack('hello'), h.pack('world'), h.pack(nil, nil, true)}, got)
    p[1]:close(); p[2]:close()
  end)

  it('a socket closed by another coroutine wakes the coroutines waiting on it', function()
    local a = assert(stream.pair { nonblock = true }) -- a[2] waits to read
    local b = assert(stream.pair { nonblock = true }) -- b[1] waits to write
    -- (deadlines only so that a missed wake-up fails instead of hanging)
    assert.is_true(a[2]:settimeout(3))
    assert.is_true(b[1]:settimeout(3))
    local r, w
    loop.spawn(function() r = h.pack(a[2]:recv()) end)
    -- more than the pair's buffers hold, never read: the send waits
    loop.spawn(function() w = h.pack(b[1]:send(('x'):rep(8 * 1024 * 1024))) end)
    loop.spawn(function()
      loop.sleep(0.05)
      a[2]:close()
      b[1]:close()
    end)
    local t0 = net.now()
    loop.run()
    assert.is_true(net.now() - t0 < 2)
    assert.same({ n = 2, nil, 'Bad file descriptor' }, r)
    assert.same({ n = 2, nil, 'Bad file descriptor' }, w)
    a[1]:close(); b[2]:close()
  end)


  it('a client closed while its connect() waits: the wait ends, the client stays closed', function()
    -- a listener whose backlog is full drops the SYNs: the connect waits
    local server = assert(inet.server.new { host = '127.0.0.1', port = 0 })
    assert.is_nil(server:listen(0))
    local port = server:getsockname():port()
    local c = assert(inet.client.new { host = '127.0.0.1', port = port, nonblock = true, timeout = 3 })
    local fill = {}
    for i = 1, 4 do fill[i] = inet.client.new { host = '127.0.0.1', port = port, nonblock = true } end
    local before = h.fd_count()
    local err, closed
    loop.spawn(function() err = c:connect() end)
    loop.spawn(function()
      loop.sleep(0.05)
      closed = h.pack(c:close())
    end)
    local t0 = net.now()
    loop.run()
    assert.is_true(net.now() - t0 < 2)
    assert.same({ n = 0 }, closed)
    assert.are.equal('Bad file descriptor', err)
    assert.are.equal('net.stream.inet.Client: closed', tostring(c))
    assert.same({ n = 2, nil, 'Bad file descriptor' }, h.pack(c:fd()))
    assert.are.equal(before - 1, h.fd_count()) -- the old connection and the new one closed
    for _, f in pairs(fill) do f:close() end
    server:close()
  end)

  it('a reader woken in a round may close a socket reported later in the same round', function()
    -- both become readable before the loop waits, so one wait reports both,
    -- a[2] first; its reader runs at once and closes b[2], whose reader
    -- must wake from the close (a second wake, for the stale event, would
    -- resume a finished coroutine: run() would raise)
    local a = assert(stream.pair { nonblock = true })
    local b = assert(stream.pair { nonblock = true })
    assert.is_true(a[2]:settimeout(3))
    assert.is_true(b[2]:settimeout(3))
    local ra, rb
    loop.spawn(function()
      ra = h.pack(a[2]:recv())
      b[2]:close()
    end)
    loop.spawn(function()
      rb = h.pack(b[2]:recv())
    end)
    loop.spawn(function()
      assert.equals(1, a[1]:send('a'))
      assert.equals(1, b[1]:send('b'))
    end)
    local t0 = net.now()
    loop.run()
    assert.is_true(net.now() - t0 < 2)
    assert.same({ n = 1, 'a' }, ra)
    assert.same({ n = 2, nil, 'Bad file descriptor' }, rb)
    a[1]:close(); a[2]:close(); b[1]:close()
  end)
  it('serves 200 concurrent TCP clients with straight-line code', function()
    local srv, port = h.tcp_server('127.0.0.1', { nonblock = true })
    local CLIENTS, ROUNDS = 200, 5
    local served, checked = 0, 0
    loop.spawn(function()
      for _ = 1, CLIENTS do
        local conn = assert(srv:accept())
        assert.is_true(conn:nonblock(true))
        loop.spawn(function()
          while true do
            local msg = conn:recv()
            if not msg then break end
            assert.equals(#msg, conn:send(msg))
          end
          conn:close()
          served = served + 1
        end)
      end
    end)
    for i = 1, CLIENTS do
      loop.spawn(function()
        local c = assert(inet.client.new { host = '127.0.0.1', port = port, nonblock = true })
        for r = 1, ROUNDS do
          local msg = ('client %d round %d'):format(i, r)
          assert.equals(#msg, c:send(msg))
          assert.equals(msg, c:recv())
        end
        c:close()
        checked = checked + 1
      end)
    end
    loop.run()
    assert.equals(CLIENTS, checked)
    assert.equals(CLIENTS, served)
    srv:close()
  end)

  it('raises the error of a coroutine that failed, and can run again after', function()
    local function fails() error('boom') end
    loop.spawn(function() fails() end)
    local ok, err = pcall(loop.run)
    assert.is_false(ok)
    assert.matches('^net.loop: a coroutine failed: .*boom\nstack traceback:\n', err)
    -- the failed coroutine's stack, from where it failed
    assert.matches("in %a* ?%a* ?'?fails'?", err)
    -- a value that is no string: its tostring
    loop.spawn(function() error(setmetatable({}, {__tostring = function() return 'an object' end})) end)
    ok, err = pcall(loop.run)
    assert.is_false(ok)
    assert.matches('^net.loop: a coroutine failed: an object\n', err)
    local ran = false
    loop.spawn(function() ran = true end)
    loop.run()
    assert.is_true(ran)
  end)

  -- run(onerror): on Lua 5.1 no pcall can span a wait, so a handler of the
  -- run is the only way a server outlives one connection's error.
  it('run(onerror) hands a coroutine\'s error to onerror, and the others go on', function()
    local p = assert(stream.pair { nonblock = true })
    local errs, cos, traces, results = {}, {}, {}, {}
    local thrown, line = {}, nil
    local function fails_after_a_wait()
      assert.equal('x', p[1]:recv(1)) -- waits in the loop first
      line = debug.getinfo(1, 'l').currentline + 1
      error(thrown)
    end
    local failing = loop.spawn(fails_after_a_wait)
    loop.spawn(function()
      loop.sleep(0.01)
      assert(p[2]:send('x'))
      assert.equal('y', p[2]:recv(1)) -- the other side's answer, after the failure
      results[#results + 1] = 'reader'
    end)
    loop.spawn(function()
      loop.sleep(0.05)
      assert(p[1]:send('y'))
      results[#results + 1] = 'writer'
    end)
    loop.run(function(err, co)
      errs[#errs + 1], cos[#cos + 1] = err, co
      traces[#traces + 1] = debug.traceback(co, 'trace')
      loop.spawn(function() results[#results + 1] = 'spawned by the handler' end)
    end)
    assert.equal(1, #errs)
    assert.equal(thrown, errs[1]) -- the value raised, as it was
    assert.equal(failing, cos[1])
    assert.equal('dead', coroutine.status(cos[1]))
    assert.matches('loop_spec.lua:' .. line .. ':', traces[1]) -- where it failed
    table.sort(results)
    assert.same({'reader', 'spawned by the handler', 'writer'}, results)
    p[1]:close(); p[2]:close()
  end)

  it('run(onerror): an error of the handler ends the run, and the next starts afresh', function()
    local slept = false
    loop.spawn(function() error('first') end)
    loop.spawn(function() loop.sleep(0.02); slept = true end)
    local ok, err = pcall(loop.run, function(e) error('handler saw ' .. tostring(e), 0) end)
    assert.is_false(ok)
    assert.matches('^handler saw .*first$', err)
    assert.is_false(slept) -- the run was dropped
    local ran = false
    loop.spawn(function() ran = true end)
    loop.run()
    assert.is_true(ran)
    assert.has_error(function() loop.run(42) end,
      "bad argument #1 to 'run' (function expected, got number)")
  end)

  it('run(onerror) closes the failed coroutine\'s to-be-closed variables after the handler (Lua 5.4)', function()
    if not coroutine.close then return pending('Lua 5.4: to-be-closed variables') end
    local p = assert(stream.pair { nonblock = true })
    local fd_in_handler
    local run = assert(load([[
      local loop, sock, onerror = ...
      loop.spawn(function() local s <close> = sock; loop.sleep(0.01); error('boom') end)
      loop.run(onerror)
    ]]))
    run(loop, p[1], function() fd_in_handler = p[1]:getfd() end)
    assert.is_true(fd_in_handler >= 0) -- open while the handler reads the stack
    assert.equal(-1, p[1]:getfd())
    p[2]:close()
  end)

  it("closes the to-be-closed variables of the coroutines a failed run leaves (Lua 5.4)", function()
    if not coroutine.close then return pending('Lua 5.4: to-be-closed variables') end
    -- the chunk is compiled on 5.4 only: `<close>` is no syntax before it
    local run_failing = assert(load([[
      local loop, pairs = ...
      loop.spawn(function() local s <close> = pairs[1][1]; loop.sleep(0.01); error('boom') end)
      loop.spawn(function() local s <close> = pairs[2][1]; s:recv() end) -- waiting
      loop.spawn(function() local s <close> = pairs[3][1]; loop.sleep(60) end) -- sleeping
      loop.spawn(function() local s <close> = pairs[4][1]; while true do coroutine.yield() end end)
      return pcall(loop.run)
    ]]))
    local pairs_ = {}
    for i = 1, 4 do pairs_[i] = assert(stream.pair { nonblock = true }) end
    local ok, err = run_failing(loop, pairs_)
    assert.is_false(ok)
    assert.matches('boom', err)
    for i = 1, 4 do
      assert.equals(-1, pairs_[i][1]:getfd(), 'socket of coroutine ' .. i)
      pairs_[i][2]:close()
    end
    -- the next run starts afresh
    local ran = false
    loop.spawn(function() ran = true end)
    loop.run()
    assert.is_true(ran)
  end)

  it('a coroutine that keeps yielding does not hold off the readiness of sockets', function()
    local p = assert(stream.pair { nonblock = true })
    assert.is_true(p[2]:settimeout(0.5))
    local got, took, busy_until
    local t0 = net.now()
    loop.spawn(function()
      local s, err, again = p[2]:recv()
      got, took = {s, err, again}, net.now() - t0
    end)
    loop.spawn(function()
      loop.sleep(0.01)
      assert.equals(5, p[1]:send('hello'))
      busy_until = net.now() + 1 -- busy, yielding to the others at each step
      while net.now() < busy_until and not got do coroutine.yield() end
    end)
    loop.run()
    assert.same({'hello', nil, nil}, got) -- not the deadline's nil, nil, true
    assert.is_true(took < 0.4, 'took ' .. took)
    p[1]:close(); p[2]:close()
  end)

  it('a sendto that polls ready yet cannot go on waits in pauses, not in a spin', function()
    -- another coroutine makes room later
    local tx, rx, to = h.stuck_sender()
    local sent, took
    loop.spawn(function()
      local t0 = net.now()
      sent = h.pack(tx:sendto('y', to))
      took = net.now() - t0
    end)
    local sockets_before, sockets_during = h.fd_count(), nil
    loop.spawn(function()
      loop.sleep(0.15)
      sockets_during = h.fd_count() -- a pause in the loop is a sleep: no socket
      loop.sleep(0.15)
      assert.equals('z', rx:recv())
    end)
    local cpu0 = os.clock()
    loop.run()
    local cpu = os.clock() - cpu0
    assert.equals(1, sent[1])
    assert.is_nil(sent[2])
    assert.is_nil(sent[3])
    assert.is_true(took >= 0.28 and took < 3, 'took ' .. took)
    -- a spin used the whole 0.3 s of processor time
    assert.is_true(cpu < 0.15, ('%.3f s of processor time'):format(cpu))
    assert.equals(sockets_before, sockets_during)
  end)

  it('a socket closed during a pause ends every paused call on it at once', function()
    local tx, _, to = h.stuck_sender()
    local PAUSERS = 3
    local sent, seen = {}, nil
    for i = 1, PAUSERS do
      loop.spawn(function()
        -- one after the other: a second wait to write on a socket is an
        -- error in the loop, a second pause is not
        loop.sleep(0.02 * i)
        sent[i] = h.pack(tx:sendto('y', to))
      end)
    end
    loop.spawn(function()
      loop.sleep(0.15) -- the sendtos pause between their tries by now
      tx:close()
      coroutine.yield() -- one round: the paused calls have run meanwhile
      seen = {}
      for i = 1, PAUSERS do seen[i] = sent[i] or 'still paused' end
    end)
    loop.run()
    for i = 1, PAUSERS do assert.are.same(h.pack(nil, h.EBADF_MSG), seen[i]) end
  end)

  -- A registration stays after its wait (the next wait of a connection
  -- finds it in place); one nobody waits on goes after two sweeps, so a
  -- socket dropped without close() is collected, and its fd closed, while
  -- the loop runs.
  -- Coroutines that each make a socket, wait on it once and drop it
  -- without close(), over and over, in a child under a descriptor limit:
  -- the sweeps let them go at the pace they are dropped (the registrations
  -- they leave must not stretch the rounds between sweeps), so the run
  -- ends without running out of descriptors (they grew without bound: a
  -- socket dropped a round each lengthened the next interval).
  for _, case in ipairs({ { coroutines = 3, limit = 4096 } }) do
    it(('lets go the sockets %d coroutine(s) keep dropping, under %d descriptors'):format(
        case.coroutines, case.limit), function()
      local out, rc = h.run_limited(case.limit, ([[
        local loop, dunix = require('net.loop'), require('net.dgram.unix')
        local failed
        for _ = 1, %d do
          loop.spawn(function()
            for i = 1, 4000 do
              -- (the collector closes what the sweeps let go: a collection
              -- now and then, as its pace differs between runtimes)
              if i %% 200 == 0 then collectgarbage() end
              local s, err = dunix.new {}
              if not s then failed = err; return end
              assert(s:settimeout(1e-5))
              assert(select(3, s:recv()) == true) -- waited in the loop, timed out
            end -- s dropped, still registered in the loop's set
          end)
        end
        loop.run()
        print(failed or 'done')
      ]]):format(case.coroutines))
      assert.equals('done\n', out)
      assert.equals(0, rc)
    end)
  end

  it('lets a socket dropped without close() go while the loop runs', function()
    local DROPPED = 20
    local peers = {}
    local before = h.fd_count()
    local during
    for i = 1, DROPPED do
      loop.spawn(function()
        local p = assert(stream.pair { nonblock = true })
        peers[i] = p[2] -- kept, and idle: no event ever trims the registration
        assert.is_true(p[1]:settimeout(0.01))
        assert.are.same(h.pack(nil, nil, true), h.pack(p[1]:recv()))
      end) -- p[1] dropped, still registered
    end
    loop.spawn(function()
      loop.sleep(0.05) -- every wait above is over
      for _ = 1, 3000 do coroutine.yield() end -- a round each: two sweeps or more
      -- LuaJIT: a compiled trace may hold a closure (and what it reaches) as
      -- a constant until it is flushed (reference.md); the loop's sweep is
      -- what this checks, not that
      if jit then jit.flush() end
      -- a stale slot of the loop's own frames (LuaJIT) may still reach the
      -- last socket it handled until a round overwrites it: a few rounds
      for _ = 1, 10 do
        collectgarbage(); collectgarbage()
        during = h.fd_count()
        if during == before + DROPPED then break end
        coroutine.yield()
      end
    end)
    loop.run()
    assert.are.equal(before + DROPPED, during, 'only the kept peers are open')
    for i = 1, DROPPED do peers[i]:close() end
  end)

  it('a wait that ends before its deadline leaves nothing held by its timer', function()
    -- A coroutine that waited with a long deadline and finished must be
    -- free for the collector (its timer must not keep it till the deadline)
    local p = assert(stream.pair { nonblock = true })
    assert.is_true(p[1]:settimeout(3600))
    assert.is_true(p[2]:settimeout(3600))
    local gone = setmetatable({}, {__mode = 'k'})
    local left
    loop.spawn(function()
      for _ = 1, 100 do
        gone[loop.spawn(function() assert.equals('x', p[2]:recv(1)) end)] = true
        loop.sleep(0.001) -- the reader waits, with its deadline
        assert.equals(1, p[1]:send('x'))
        loop.sleep(0.001) -- the reader reads and ends
      end
      collectgarbage(); collectgarbage()
      left = 0
      for _ in pairs(gone) do left = left + 1 end
    end)
    loop.run()
    assert.is_true(left < 10, left .. ' of 100 finished coroutines still held')
    p[1]:close(); p[2]:close()
  end)

  it('run inside a coroutine of a running loop raises, and the loop goes on', function()
    local err, ran
    loop.spawn(function()
      local co = coroutine.create(function() return pcall(loop.run) end)
      local _, ok, e = coroutine.resume(co) -- a plain coroutine inside a loop coroutine
      assert.is_false(ok)
      err = e
      loop.sleep(0.01)
      ran = true
    end)
    loop.run()
    assert.matches('already inside the loop', err)
    assert.is_true(ran)
  end)

  it('lets go of a failed run: its coroutines, and the sockets they waited on, are collected', function()
    local before = h.fd_count()
    for _ = 1, 20 do
      local pair = assert(stream.pair())
      assert.is_true(pair[2]:nonblock(true))
      loop.spawn(function() pair[2]:recv() end) -- waits when the run fails
      loop.spawn(function() loop.sleep(0.001); error('boom', 0) end)
      assert.is_false((pcall(loop.run)))
    end -- the pairs dropped: only the abandoned coroutines could hold them
    local after
    for _ = 1, 10 do -- (LuaJIT: a stale slot may hold the last one a while)
      collectgarbage(); collectgarbage()
      after = h.fd_count()
      if after == before then break end
      loop.spawn(function() end); loop.run()
    end
    assert.equals(before, after)
  end)

  it('where runs overlap (nginx), one still under way holds nothing of a later one that failed', function()
    -- A host that never blocks (net.openresty) has a run's set wait
    -- through its waiter, which here yields to this test: run A waits,
    -- suspended, while run B, begun after it, fails. What only B's
    -- abandoned coroutines held is then garbage, A under way or not: a
    -- collection closes B's socket. (A run used to keep the state of the
    -- run begun after it in a local: an exiting nginx worker's collection
    -- missed that run's sockets, and a request waiting on them held the
    -- worker past its quit.)
    local _, yielded = pcall(coroutine.wrap(function() return pcall(coroutine.yield, 'out') end))
    if yielded ~= 'out' then
      return pending('Lua 5.1: a run cannot yield out of its pcall, so runs never overlap')
    end
    local wait = require('net.util.wait')
    local default, always = wait.default, wait.always_nonblocking
    h.cleanup(function() wait.install(default, always) end)
    local HOST_WAIT = {}
    local function host_waiter() return coroutine.yield(HOST_WAIT) end
    wait.install(host_waiter, true)
    local a = assert(stream.pair())
    h.cleanup(function() a[1]:close(); a[2]:close() end)
    assert.is_true(a[2]:nonblock(true))
    local got
    local run_a = coroutine.create(function()
      loop.spawn(function() got = a[2]:recv() end)
      return pcall(loop.run)
    end)
    local ok, what = coroutine.resume(run_a)
    local peer_b, b_failed
    if ok and what == HOST_WAIT then
      local function start_b() -- (B's socket: held by its coroutine only)
        local b = assert(stream.pair())
        assert.is_true(b[2]:nonblock(true))
        loop.spawn(function() b[2]:recv() end)
        loop.spawn(function() error('boom', 0) end)
        return b[1], pcall(loop.run)
      end
      local _, b1, b_ok, b_err = coroutine.resume(coroutine.create(start_b))
      peer_b, b_failed = b1, not b_ok and b_err
    end
    collectgarbage(); collectgarbage() -- A still waits
    wait.install(default, always)
    local data, err, again
    if peer_b then
      assert.is_true(peer_b:settimeout(0))
      data, err, again = peer_b:recv()
      peer_b:close()
    end
    -- A ends: its reader gets its line
    wait.install(host_waiter, true)
    assert.equal(2, a[1]:send('hi'))
    local a_ok, a_run_ok
    if ok and what == HOST_WAIT then a_ok, a_run_ok = coroutine.resume(run_a, true) end
    assert.equal(HOST_WAIT, what, 'run A waits through the host')
    assert.equal('net.loop: a coroutine failed: boom', (tostring(b_failed):match('^[^\n]*')))
    assert.same({}, {data, err, again}, "B's socket closed")
    assert.is_true(a_ok and a_run_ok)
    assert.equal('hi', got)
  end)

  it('where the host is going away, closes at once the sockets only a failed run held', function()
    -- inside an exiting nginx worker (wait.host_exiting: net.openresty's
    -- ngx.worker.exiting) nothing would collect the abandoned coroutines,
    -- and a peer in the same worker would wait on their sockets for good
    local wait = require('net.util.wait')
    local host_exiting = wait.host_exiting
    local peers = {}
    local function serve(sock) loop.spawn(function() sock:recv() end) end -- (the only holder)
    for i = 1, 3 do
      local pair = assert(stream.pair())
      assert.is_true(pair[2]:nonblock(true))
      peers[i] = pair[1]
      serve(pair[2])
    end
    loop.spawn(function() loop.sleep(0.01); error('boom', 0) end)
    -- garbage whose finalizer raises (5.1-5.3 and LuaJIT: out of the
    -- collection that meets it), which must neither end the collection nor
    -- replace the run's error
    h.garbage_with_finalizer(function() error('unrelated __gc failed', 0) end)
    -- the host's collect_soon is asked once, with what collects
    local collect_soon, asked = wait.collect_soon, 0
    wait.collect_soon = function(collect) asked = asked + 1; collect_soon(collect) end
    wait.host_exiting = function() return true end
    local ok, err = pcall(loop.run)
    wait.host_exiting, wait.collect_soon = host_exiting, collect_soon
    assert.is_false(ok)
    assert.matches('a coroutine failed: boom', err)
    assert.equal(1, asked)
    for i = 1, 3 do -- the end at once (an open peer: nil, nil, true)
      assert.is_true(peers[i]:settimeout(0))
      local data, rerr, again = peers[i]:recv()
      assert.same({}, {data, rerr, again}, 'peer ' .. i)
      peers[i]:close()
    end
  end)

  it('is free for the next run after an error raised by its own code', function()
    -- the loop's own code (not a coroutine's) can raise: a memory error, or
    -- on 5.2/5.3 a __gc finalizer's error that one of its allocations ran;
    -- here its set's wait raises once
    local Poll = require('net.poll').Poll
    local wait = Poll.wait
    Poll.wait = function() Poll.wait = wait; error('raised in the loop', 0) end
    loop.spawn(function() loop.sleep(0.01) end)
    local ok, err = pcall(loop.run)
    Poll.wait = wait
    assert.is_false(ok)
    assert.equal('raised in the loop', err)
    local ran = false
    loop.spawn(function() loop.sleep(0.001); ran = true end)
    loop.run()
    assert.is_true(ran)
  end)

  it("raises its own system failures: no set at the descriptor limit, a failed wait", function()
    -- a child under `ulimit -n 32` takes every descriptor, then runs the loop
    local script = [[
      local loop, dunix = require('net.loop'), require('net.dgram.unix')
      local held = {}
      while true do
        local s = dunix.new()
        if not s then break end
        held[#held + 1] = s
      end
      local ran = false
      loop.spawn(function() ran = true end)
      print(pcall(loop.run))
      for _, s in ipairs(held) do s:close() end
      loop.run() -- the coroutine waited for this run
      print(ran)
    ]]
    local out, rc = h.run_limited(32, script)
    assert.equal(0, rc, out)
    assert.equal('false\tnet.loop.run: Too many open files\ntrue\n', out)
    -- its set's wait fails once: raised, and the loop is free again
    local Poll = require('net.poll').Poll
    local wait = Poll.wait
    Poll.wait = function() Poll.wait = wait; return nil, 'Bad file descriptor' end
    loop.spawn(function() loop.sleep(0.01) end)
    local ok, err = pcall(loop.run)
    Poll.wait = wait
    assert.same({ false, 'net.loop.run: Bad file descriptor' }, { ok, err })
    local ran = false
    loop.spawn(function() ran = true end)
    loop.run()
    assert.is_true(ran)
  end)

  -- Guards the refusal of a second reader (reference.md): its recv returns
  -- nil, "another coroutine already waits to read on ..." at once, and its
  -- coroutine goes on (here: it wakes the first reader). Without that
  -- answer the second coroutine is never resumed and the run never ends: a
  -- watchdog coroutine raises after 1.5 s, so that run() returns (raising)
  -- and the missing result fails an assertion instead of hanging.
  it('a second coroutine reading the same socket gets nil and an error, and goes on', function()
    local p = assert(stream.pair { nonblock = true })
    assert.is_true(p[1]:settimeout(1)) -- the first reader's wait is bounded too
    local first, second
    loop.spawn(function() first = h.pack(p[1]:recv()) end)
    loop.spawn(function()
      second = h.pack(p[1]:recv())
      p[2]:send('hi')
    end)
    loop.spawn(function() -- the watchdog
      local t0 = net.now()
      while not (first and second) do
        if net.now() - t0 > 1.5 then error('the second reader was never resumed') end
        loop.sleep(0.01)
      end
    end)
    local ok, err = pcall(loop.run)
    assert.is_table(second, 'the second reader got no answer')
    assert.equal(2, second.n)
    assert.is_nil(second[1])
    assert.is_truthy(tostring(second[2]):find('^another coroutine already waits to read on '), second[2])
    assert.same(h.pack('hi'), first)
    assert.is_true(ok, err)
    p[1]:close(); p[2]:close()
  end)

  -- Guards loop.sleep(NaN) (reference.md: "0, negative or NaN: it goes on
  -- in the next round"): it must not reach the loop's timers as a NaN time
  -- (that made run() fail with "Invalid argument"), and it wakes before a
  -- real sleep does.
  it('sleep(NaN) goes on in the next round, like sleep(0)', function()
    local order = {}
    loop.spawn(function() loop.sleep(0.05); order[#order + 1] = 'slept' end)
    loop.spawn(function() loop.sleep(0 / 0); order[#order + 1] = 'nan' end)
    assert.same({ true }, { pcall(loop.run) })
    assert.same({ 'nan', 'slept' }, order)
  end)

  -- Guards "a socket that is ready when its deadline passes is ready"
  -- (reference.md) inside the loop: A's send fills the pair and waits for
  -- room under a 0.05 s deadline; B drains the peer, then keeps the loop
  -- busy past that deadline, so A's timer fires before the loop looks at
  -- the sockets. The timer must look once more: A finds the room and sends
  -- into it before it gives up, so its count exceeds what B drained (all
  -- A had sent before it waited). Told "not ready", A would give up with
  -- exactly that.
  it('a socket ready when its deadline fires is ready: the send goes on into the room', function()
    local p = assert(stream.pair { nonblock = true })
    local a, b = p[1], p[2]
    local data = ('x'):rep(4 * 1024 * 1024) -- more than the pair's buffers hold
    local r, drained
    loop.spawn(function()
      assert.is_true(a:settimeout(0.05))
      r = h.pack(a:send(data))
    end)
    loop.spawn(function()
      local got = 0
      while true do
        local s = b:recv(1048576, net.MSG_DONTWAIT)
        if not s then break end
        got = got + #s
      end
      drained = got
      local t = net.now()
      while net.now() - t < 0.1 do end -- busy past A's deadline
    end)
    loop.run()
    assert.is_true(drained > 0)
    assert.equal(3, r.n)
    assert.is_nil(r[2])
    assert.is_true(r[3]) -- the deadline ended it, data was not all sent
    assert.is_true(r[1] > drained, ('sent %d, drained %d'):format(r[1], drained))
    a:close(); b:close()
  end)

  -- Guards "a deadline's timer goes with the wait it bounds" (reference.md):
  -- the timers of waits that ended early are compacted away, so memory stays
  -- bounded. 40,000 waits under settimeout(3600), ending at once (a ping-
  -- pong over a pair): some 200 KiB more in use at most, against some 7 MiB
  -- when the stale timers stay. Measured inside the run (its end drops them).
  it('timers of waits that ended early are dropped: memory stays bounded', function()
    local p = assert(stream.pair { nonblock = true })
    assert.is_true(p[1]:settimeout(3600))
    assert.is_true(p[2]:settimeout(3600))
    local N = 20000
    collectgarbage(); collectgarbage()
    local before = collectgarbage('count')
    local grew
    loop.spawn(function() for _ = 1, N do p[1]:send('x'); p[1]:recv(1) end end)
    loop.spawn(function()
      for _ = 1, N do p[2]:recv(1); p[2]:send('y') end
      collectgarbage(); collectgarbage()
      grew = collectgarbage('count') - before
    end)
    loop.run()
    assert.is_number(grew)
    assert.is_true(grew < 2048, ('%.0f KiB more in use after %d waits'):format(grew, 2 * N))
    p[1]:close(); p[2]:close()
  end)

  -- Guards "a run reuses its timers": every wait of a socket with
  -- settimeout has a timer, and a server's waits are many. A ping-pong
  -- under settimeout(5), the collector stopped: after a warm-up, 4,000
  -- round trips (8,000 deadline waits) add nothing in use (the strings are
  -- interned, the timers come back from the heap); a new timer per wait
  -- added 350 to 510 bytes a round trip, 1.4 MiB and more in all. The
  -- bound, 32 bytes a round trip, leaves room for what LuaJIT's compiler
  -- allocates once.
  -- (Not on the FFI backend: its cdata are boxed wherever its calls run
  -- interpreted, which depends on the JIT's state; the timers are the
  -- loop's, the same on both backends.)
  it('waits with a deadline make no garbage: their timers are reused', function()
    if require('net.core').backend ~= 'capi' then
      return pending('the FFI boxes its cdata where a call runs interpreted (NET_BACKEND=ffi)')
    end
    local p = assert(stream.pair { nonblock = true })
    assert.is_true(p[1]:settimeout(5))
    assert.is_true(p[2]:settimeout(5))
    local WARM, N = 1000, 4000
    local before, grew
    loop.spawn(function()
      for i = 1, WARM + N do
        if i == WARM + 1 then
          collectgarbage(); collectgarbage('stop')
          before = collectgarbage('count')
        end
        assert(p[1]:send('ping')); assert(p[1]:recv(4))
      end
      grew = (collectgarbage('count') - before) * 1024
      collectgarbage('restart')
    end)
    loop.spawn(function()
      for _ = 1, WARM + N do assert(p[2]:send(assert(p[2]:recv(4)))) end
    end)
    local ok, err = pcall(loop.run)
    collectgarbage('restart')
    assert(ok, err)
    assert.is_true(grew < 32 * N, ('%.0f bytes more in use after %d round trips'):format(grew, N))
    p[1]:close(); p[2]:close()
  end)

  -- Guards against Lua 5.2's collector running full cycles back to back:
  -- a coroutine waiting without a deadline is reached only through the
  -- loop's table of waits, and 5.2 leaves what only the values of a
  -- weak-keyed table reach out of its estimate of the live heap (so that
  -- table is a plain one). Four coroutines wait in sends of 4 MiB, with a
  -- deadline and then without, while a fifth makes garbage; a finalizer
  -- that arms the next counts the collector's cycles meanwhile. Without a
  -- deadline there may not be many more (5.2 with a weak-keyed table: from
  -- dozens to hundreds, against 2 or 3).
  it('waits without a deadline do not make the collector cycle back to back', function()
    local cycles, counting = 0, true
    local function arm()
      h.garbage_with_finalizer(function()
        cycles = cycles + 1
        if counting then arm() end
      end)
    end
    local function cycles_while_sends_wait(timeout)
      local senders, counted = {}, nil
      for k = 1, 4 do
        local p = assert(stream.pair { nonblock = true })
        senders[k] = p
        if timeout then assert.is_true(p[1]:settimeout(timeout)) end
        loop.spawn(function() p[1]:send(string.rep(string.char(64 + k), 4 * 1024 * 1024)) end)
      end
      loop.spawn(function()
        loop.sleep(0.02) -- the sends wait
        local c0, kept = cycles, {}
        for i = 1, 1000000 do kept[i % 1000 + 1] = { i } end -- 1,000 live at a time
        counted = cycles - c0
        assert.equals(1000000, kept[1][1])
        for _, p in ipairs(senders) do p[1]:close(); p[2]:close() end -- the sends end
      end)
      loop.run()
      return counted
    end
    arm()
    local with_deadline = cycles_while_sends_wait(60)
    local without = cycles_while_sends_wait(nil)
    counting = false
    assert.is_true(without <= 2 * with_deadline + 4,
                   ('%d cycles of the collector while sends waited, %d with a deadline'):format(without, with_deadline))
  end)

  -- A pause leaves no entry behind in the loop's table of waits (a plain
  -- table, which would hold the socket until two sweeps): a sender that
  -- paused between its tries to a full queue until its deadline, then was
  -- dropped without close(), is collected (its fd closed) by the next full
  -- collection, while the loop runs on.
  it('a socket dropped after a pause in the loop is not held by it', function()
    local dunix = require('net.dgram.unix')
    local dir = h.tmpdir()
    local rx = assert(dunix.new { path = dir .. '/rx', nonblock = true })
    h.cleanup(function() h.rmdir(dir) end)
    h.close_at_end(rx)
    local to = rx:getsockname()
    local dropped = setmetatable({}, { __mode = 'v' })
    local sent, held
    do
      local tx = assert(dunix.new { nonblock = true })
      while tx:sendto('z', to) == 1 do end -- the queue is full (no loop yet: no wait)
      assert.is_true(tx:settimeout(0.05))
      dropped[1] = tx
      loop.spawn(function(sender)
        sent = h.pack(sender:sendto('y', to)) -- pauses between tries until its deadline
      end, tx)
    end
    loop.spawn(function()
      loop.sleep(0.2) -- the sender's coroutine has ended
      collectgarbage(); collectgarbage()
      held = dropped[1] ~= nil
    end)
    loop.run()
    assert.same(h.pack(0, nil, true), sent)
    assert.is_false(held)
  end)

  it('checks its arguments', function()
    h.raises("bad argument #1 to 'spawn' (function expected, got number)", loop.spawn, 1)
    assert.has_error(function() loop.sleep(1) end, 'net.loop.sleep: not inside a coroutine of the loop')
  end)
end)

describe('net.loop with the fast paths of PUC Lua', function()
  it('lets send and recv wait in a coroutine, and run in C on the main thread', function()
    local p = assert(stream.pair { nonblock = true })
    local got
    loop.spawn(function() got = p[2]:recv() end) -- waits: yields from recv
    loop.spawn(function() assert.equals(2, p[1]:send('ok')) end)
    loop.run()
    assert.equals('ok', got)
    assert.equals(3, p[1]:send('now')) -- the main thread: the fast path
    assert.equals('now', p[2]:recv())
    if type(jit) ~= 'table' then -- (LuaJIT keeps the Lua methods: no fast paths)
      local fast = require('net.util.fast')
      assert.are_not.equal(p[1].send, fast.lua_method(p[1].send))
      assert.are_not.equal(p[2].recv, fast.lua_method(p[2].recv))
    end
    p[1]:close(); p[2]:close()
  end)
end)
