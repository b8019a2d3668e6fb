-- Deadlines of reads and writes (sock:settimeout): the clock, expiry,
-- readiness that turns out false, cut streams, MSG_DONTWAIT, kernel
-- timeouts under a waiter, a deadline or waiter taken away mid-wait, on
-- real loopback sockets. Their neighbours: connect_deadline_spec (accept,
-- connect), waiter_spec (waiters), waitall_spec (MSG_WAITALL).
-- Times are checked with generous bounds (a loaded machine is slow, never
-- fast): a deadline must expire, not early, and not much later.
local net = require('net')
local stream = require('net.stream')
local inet = require('net.stream.inet')
local h = require('spec.lua.helper')

local now = net.now
local timed = h.timed

describe('net.now', function()
  it('is a monotonic clock in seconds', function()
    local a = now()
    local b = now()
    assert.is_number(a)
    assert.is_true(b >= a)
    local p = assert(stream.pair())
    h.wait(p[1], net.POLLIN, 0.05) -- 50 ms of nothing
    assert.is_true(now() - a >= 0.04)
    p[1]:close(); p[2]:close()
  end)
end)

describe('sock:settimeout', function()
  local a, b
  h.each(h.pair, function(x, y) a, b = x, y end)

  it('takes seconds or nil, returns true; other values are refused', function()
    assert.is_true(a:settimeout(0.5))
    assert.equals(0.5, a:gettimeout())
    assert.is_true(a:settimeout(nil))
    assert.is_nil(a:gettimeout())
    assert.same({ n = 2, nil, net.strerror(-net.EINVAL) }, h.pack(a:settimeout(-1)))
    assert.same({ n = 2, nil, net.strerror(-net.EINVAL) }, h.pack(a:settimeout(0 / 0)))
    assert.same({ n = 2, nil, net.strerror(-net.EINVAL) }, h.pack(a:settimeout(math.huge)))
    h.raises("bad argument #1 to 'settimeout' (number expected, got string)", a.settimeout, a, '1')
  end)

  it('bounds a recv on a blocking socket: nil, nil, true after the timeout', function()
    assert.is_false(b:nonblock())
    assert.is_true(b:settimeout(0.2))
    local t, r = timed(b.recv, b)
    assert.same({ n = 3, nil, nil, true }, r)
    assert.is_true(t >= 0.18 and t < 2, 'took ' .. t)
    -- the socket still works, and data that arrives in time is returned
    assert.equals(3, a:send('abc'))
    assert.equals('abc', b:recv())
  end)

  it('makes the fd non-blocking underneath, and restores it with nil', function()
    assert.is_true(b:settimeout(1))
    assert.is_true(b:nonblock())
    assert.is_true(b:settimeout(nil))
    assert.is_false(b:nonblock())
  end)

  -- What takes a deadline or waiter away restores only the fd's mode that
  -- their coming changed; a program's own nonblock(on) stays.
  local WAYS = {
    settimeout = { function(s) return s:settimeout(5) end, function(s) return s:settimeout(nil) end },
    setwaiter = { function(s) return s:setwaiter(net.waiters.poll) end,
                  function(s) return s:setwaiter(nil) end },
  }
  for _, how in ipairs({ 'settimeout', 'setwaiter' }) do
    local give, take = WAYS[how][1], WAYS[how][2]
    it(('%s(nil) leaves a nonblock(true) set after %s in place'):format(how, how), function()
      assert.is_true(give(b)) -- non-blocking underneath
      assert.is_true(b:nonblock(true)) -- the program's own, as net.loop's docs ask of accepted sockets
      assert.is_true(take(b))
      assert.is_true(b:nonblock())
      local t, r = timed(b.recv, b)
      assert.same({ n = 3, nil, nil, true }, r) -- again, at once
      assert.is_true(t < 1, 'took ' .. t)
    end)
  end

  it('a deadline set after a nonblock(false) makes the fd non-blocking underneath again', function()
    assert.is_true(b:settimeout(5))
    assert.is_false(b:nonblock(false)) -- the program's own: blocking
    assert.is_true(b:settimeout(0.1))
    assert.is_true(b:nonblock())
    local t, r = timed(b.recv, b)
    assert.same({ n = 3, nil, nil, true }, r)
    assert.is_true(t >= 0.08 and t < 2, 'took ' .. t)
    assert.is_true(b:settimeout(nil))
    assert.is_false(b:nonblock()) -- back to the program's own
  end)

  -- The fd is non-blocking underneath while the socket has a deadline OR a
  -- waiter: taking the deadline away leaves the waiter's need, so the fd
  -- stays non-blocking and a recv still goes through the waiter (a blocking
  -- fd would sleep in the kernel, never asking it).
  it('settimeout(nil) keeps the fd non-blocking underneath for a waiter of the socket', function()
    local asked = 0
    assert.is_true(b:setwaiter(function(sock, mode)
      asked = asked + 1
      assert.equals(b, sock)
      assert.equals('r', mode)
      return false -- gives up: nothing waits
    end))
    assert.is_true(b:settimeout(1))
    assert.is_true(b:settimeout(nil))
    assert.is_true(b:nonblock()) -- checked first: a blocking fd's recv would block here
    local t, r = timed(b.recv, b)
    assert.same({ n = 3, nil, nil, true }, r)
    assert.equals(1, asked)
    assert.is_true(t < 1, 'took ' .. t)
  end)

  it('a nonblock(false) while a deadline is set keeps the deadline', function()
    assert.is_true(b:settimeout(0.1))
    assert.is_false(b:nonblock(false)) -- blocking for the program: waits, up to the deadline
    local t, r = timed(b.recv, b)
    assert.same({ n = 3, nil, nil, true }, r)
    assert.is_true(t >= 0.08 and t < 2, 'took ' .. t)
    assert.is_true(b:settimeout(nil))
    assert.is_false(b:nonblock()) -- the program's own again
  end)

  it('bounds recvinto the same way', function()
    local buf = require('net.buffer').new(16)
    assert.is_true(b:settimeout(0.1))
    local t, r = timed(b.recvinto, b, buf)
    assert.same({ n = 3, nil, nil, true }, r)
    assert.is_true(t >= 0.08 and t < 2, 'took ' .. t)
    assert.equals(0, buf:len())
  end)

  it('bounds a send to a full buffer: the count that went out, nil, true', function()
    assert.is_true(a:sndbuf(4096) > 0)
    assert.is_true(a:settimeout(0.2))
    local data = h.blob(4 * 1024 * 1024)
    local t, r = timed(a.send, a, data)
    assert.is_true(t >= 0.18 and t < 3, 'took ' .. t)
    assert.equals(3, r.n)
    assert.is_true(r[1] > 0 and r[1] < #data, 'sent ' .. tostring(r[1]))
    assert.is_nil(r[2])
    assert.is_true(r[3])
    -- what it reports as sent is exactly what arrives, and nothing more
    local got = h.recv_exact(b, r[1])
    assert.equals(data:sub(1, r[1]), got)
    h.nothing_queued(b)
  end)

  it('sends the whole string when the reader keeps up before the deadline', function()
    assert.is_true(a:sndbuf(4096) > 0)
    assert.is_true(a:settimeout(10))
    local data = h.blob(256 * 1024)
    -- the reader is the spec itself, through a waiter that drains b
    local got, deadlines = {}, {}
    assert.is_true(a:setwaiter(h.draining_waiter(b, got, function(sock, mode, deadline)
      assert.equals(a, sock)
      assert.equals('w', mode)
      assert.is_number(deadline)
      deadlines[deadline] = true
    end)))
    assert.equals(#data, a:send(data))
    assert.equals(data, h.drain_rest(b, got))
    -- one deadline for the whole string, not one per piece
    local count = 0
    for _ in pairs(deadlines) do count = count + 1 end
    assert.equals(1, count)
  end)
end)

describe('a deadline where poll says ready and the call says again', function()
  -- An unconnected unix datagram socket whose destination's queue is full:
  -- poll(2) reports POLLOUT (its own send buffer has room), sendto says
  -- EAGAIN. The deadline must still end the call, not spin past it.
  it('ends sendto at the deadline: 0, nil, true', function()
    local tx, rx, to, queued = h.stuck_sender()
    assert.is_true(queued > 0)
    assert.is_true(tx:nonblock(false) == false)
    assert.is_true(tx:settimeout(0.05))
    local t, r = timed(tx.sendto, tx, 'z', to)
    assert.same({ n = 3, 0, nil, true }, r)
    assert.is_true(t >= 0.04 and t < 2, 'took ' .. t)
    assert.equals('z', rx:recv())
  end)

  it('tries again after pauses, not at once: the waiter is not asked to spin', function()
    local tx, rx, to = h.stuck_sender()
    -- the default waiter, counted: on tx itself, and on anything else (the
    -- pauses wait through the socket's waiter too)
    local on_tx, other = 0, 0
    assert.is_true(tx:setwaiter(function(s, mode, deadline)
      if s == tx then on_tx = on_tx + 1 else other = other + 1 end
      return net.waiters.poll(s, mode, deadline)
    end))
    assert.is_true(tx:settimeout(0.3))
    local t, r = timed(tx.sendto, tx, 'z', to)
    assert.same({ n = 3, 0, nil, true }, r)
    assert.is_true(t >= 0.28 and t < 3, 'took ' .. t)
    -- pauses of 1 ms doubling to 16 ms: about 23 in 0.3 s (thousands when
    -- each try went back to the waiter, which found tx ready at once)
    assert.is_true(on_tx <= 2, on_tx .. ' waits on the socket')
    assert.is_true(other >= 5 and other <= 40, other .. ' pauses')
    -- the pauses' quiet socket is closed: the next sendto goes on as before
    assert.equals('z', rx:recv())
    assert.equals(1, tx:sendto('z', to))
  end)

  it("takes a pause's end from a coarse timer as its end, and giving up at once as giving up", function()
    local tx, _, to = h.stuck_sender()
    -- a waiter whose timer fires half a millisecond early (as libuv's loop
    -- clock, whole milliseconds, does), then one that gives up at once
    local waits = 0
    local function early(s, mode, deadline)
      waits = waits + 1
      -- poll(2) counts whole milliseconds: it sleeps to 3 ms before, then
      -- the clock is watched to half a millisecond before
      if deadline - net.now() > 0.003 and net.waiters.poll(s, mode, deadline - 0.003) then
        return true
      end
      repeat until net.now() >= deadline - 0.0005
      return false
    end
    assert.is_true(tx:setwaiter(early))
    assert.is_true(tx:settimeout(0.3))
    local t, r = timed(tx.sendto, tx, 'z', to)
    assert.same({ n = 3, 0, nil, true }, r)
    assert.is_true(t >= 0.28 and t < 3, 'took ' .. t) -- the waiter's early false does not end it: on to the deadline
    assert.is_true(waits >= 5, waits .. ' waits')
    waits = 0
    assert.is_true(tx:setwaiter(function() waits = waits + 1; return false end))
    t, r = timed(tx.sendto, tx, 'z', to)
    assert.same({ n = 3, 0, nil, true }, r)
    assert.is_true(t < 0.25, 'took ' .. t)
    assert.is_true(waits <= 3, waits .. ' waits')
  end)
end)
describe('a stream cut off', function()
  it('reads like a close in the first three values, with the reason as a fourth', function()
    local srv, c, s = h.tcp_trio('127.0.0.1')
    assert.equals(0, s:linger(0)) -- close() now resets the connection
    assert.equals(3, c:send('abc'))
    s:close()
    assert.is_true(h.readable(c))
    local r = h.pack(c:recv())
    assert.equals(4, r.n)
    assert.is_nil(r[1]); assert.is_nil(r[2]); assert.is_nil(r[3])
    assert.equals(net.strerror(-net.ECONNRESET), r[4])
    c:close(); srv:close()
  end)

  it('a clean end has no fourth value', function()
    local p = assert(stream.pair())
    p[1]:close()
    assert.same({ n = 3, nil, nil, nil }, h.pack(p[2]:recv()))
    p[2]:close()
  end)
end)

describe('MSG_DONTWAIT', function()
  local DONTWAIT = net.MSG_DONTWAIT
  local AGAIN = { n = 3, nil, nil, true }

  it('returns "try again" at once under a deadline or a waiter, as without them', function()
    local p = assert(stream.pair())
    h.close_at_end(p[1], p[2])
    assert.is_true(p[1]:settimeout(2))
    local t, r = timed(p[1].recv, p[1], 16, DONTWAIT)
    assert.same(AGAIN, r)
    assert.is_true(t < 1, 'recv took ' .. t)
    t, r = timed(p[1].recvinto, p[1], require('net.buffer').new(16), nil, DONTWAIT + net.MSG_PEEK)
    assert.same(AGAIN, r)
    assert.is_true(t < 1, 'recvinto took ' .. t)
    -- a full socket, and a waiter that would make room: never asked
    assert.is_true(p[2]:settimeout(2))
    local asked = 0
    assert.is_true(p[2]:setwaiter(function() asked = asked + 1; return true end))
    local chunk = ('z'):rep(65536)
    repeat local n = p[2]:send(chunk, DONTWAIT) until n < #chunk
    t, r = timed(p[2].send, p[2], chunk, DONTWAIT)
    assert.same({ n = 3, 0, nil, true }, r)
    assert.is_true(t < 1, 'send took ' .. t)
    assert.equals(0, asked)
    -- without the flag the deadline and the waiter still apply
    assert.is_true(p[1]:settimeout(0.1))
    assert.equals('z', p[1]:recv(1, net.MSG_PEEK))
    assert.is_true(p[2]:setwaiter(nil))
    assert.is_true(p[2]:settimeout(0.1))
    t, r = timed(p[2].send, p[2], chunk)
    assert.same({ n = 3, 0, nil, true }, r)
    assert.is_true(t >= 0.09, 'send took ' .. t)
  end)

  it('returns "try again" at once for datagrams under a deadline', function()
    local tx, rx, to = h.stuck_sender()
    assert.is_true(tx:settimeout(2))
    assert.is_true(rx:settimeout(2))
    local t, r = timed(tx.sendto, tx, 'z', to, DONTWAIT)
    assert.same({ n = 3, 0, nil, true }, r)
    assert.is_true(t < 1, 'sendto took ' .. t)
    while rx:recv(16, DONTWAIT) do end -- empties the queue
    t, r = timed(rx.recvfrom, rx, 16, DONTWAIT)
    assert.same(AGAIN, r)
    assert.is_true(t < 1, 'recvfrom took ' .. t)
    t, r = timed(rx.recv, rx, 16, DONTWAIT)
    assert.same(AGAIN, r)
    assert.is_true(t < 1, 'recv took ' .. t)
  end)

  it('does not wait inside net.loop, a drained stream neither', function()
    local loop = require('net.loop')
    local p = assert(stream.pair { nonblock = true })
    h.close_at_end(p[1], p[2])
    local first, r, t
    loop.spawn(function()
      first = p[2]:recv(16) -- waits for 'x': a short read after a wait drains the stream
      t, r = timed(p[2].recv, p[2], 16, DONTWAIT)
    end)
    loop.spawn(function()
      loop.sleep(0.05)
      p[1]:send('x')
      loop.sleep(0.3)
      p[1]:send('late')
    end)
    loop.run()
    assert.equals('x', first)
    assert.same(AGAIN, r)
    assert.is_true(t < 0.2, 'took ' .. t)
    assert.equals('late', p[2]:recv(16))
  end)
end)

-- A blocking fd says "try again" only when its SO_RCVTIMEO or SO_SNDTIMEO
-- ran out: a result, which a waiter that applies (the global one, net.loop's)
-- must not wait past (it would wait for the peer, maybe for good).
describe("a blocking socket's kernel timeouts under a waiter that applies", function()
  local AGAIN = { n = 3, nil, nil, true }
  local asked
  before_each(function()
    asked = 0
    assert.is_true(net.setwaiter(function()
      asked = asked + 1
      return false -- (a waiter that waited would wait for the peer)
    end))
  end)
  after_each(function() net.setwaiter(nil) end)

  local function bounded(t, what)
    assert.is_true(t >= 0.15 and t < 1.5, what .. ' took ' .. t)
  end

  it('end recv, recvinto and accept as without the waiter', function()
    local p = assert(stream.pair())
    h.close_at_end(p[1], p[2])
    assert.is_true(p[1]:rcvtimeo(0.2) > 0)
    local t, r = timed(p[1].recv, p[1], 16)
    assert.same(AGAIN, r)
    bounded(t, 'recv')
    t, r = timed(p[1].recvinto, p[1], require('net.buffer').new(16))
    assert.same(AGAIN, r)
    bounded(t, 'recvinto')
    local srv = assert(inet.server.new { host = '127.0.0.1', port = 0 })
    assert.is_nil(srv:listen())
    assert.is_true(srv:rcvtimeo(0.2) > 0)
    t, r = timed(srv.accept, srv)
    srv:close()
    assert.same(AGAIN, r)
    bounded(t, 'accept')
    assert.equals(0, asked)
    -- the socket is still blocking, and reads what comes
    assert.equals(1, p[2]:send('x'))
    assert.equals('x', p[1]:recv(16))
    assert.is_false(p[1]:nonblock())
  end)

  it('end send and sendfile with the count that went out', function()
    local p = assert(stream.pair())
    h.close_at_end(p[1], p[2])
    assert.is_true(p[1]:sndtimeo(0.2) > 0)
    local t, r = timed(p[1].send, p[1], ('x'):rep(4 * 1024 * 1024))
    bounded(t, 'send')
    assert.is_true(r[1] > 0 and r[1] < 4 * 1024 * 1024, 'sent ' .. tostring(r[1]))
    assert.same({ n = 3, r[1], nil, true }, r)
    t, r = timed(p[1].sendfile, p[1], '/dev/zero', 4 * 1024 * 1024)
    bounded(t, 'sendfile')
    assert.same({ n = 3, 0, nil, true }, r)
    assert.equals(0, asked)
  end)

  it('end a recv of a blocking socket inside net.loop', function()
    local loop = require('net.loop')
    local p = assert(stream.pair())
    h.close_at_end(p[1], p[2])
    assert.is_true(p[1]:rcvtimeo(0.2) > 0)
    local t, r
    loop.spawn(function() t, r = timed(p[1].recv, p[1], 16) end)
    loop.spawn(function() -- (what a wait past the timeout would read)
      loop.sleep(1.2)
      p[2]:send('late')
    end)
    loop.run()
    assert.same(AGAIN, r)
    bounded(t, 'recv')
  end)
end)

-- A program may take a socket's deadline or waiter away while one of its
-- calls waits (another coroutine, the scheduler): the call then ends at its
-- next wait, with what it did, and never blocks its thread.
describe('a deadline or waiter taken away while a call waits', function()
  local function drain(s) -- (never waits, in a loop coroutine too)
    local n = 0
    while true do
      local got = s:recv(65536, net.MSG_DONTWAIT)
      if not got then return n end
      n = n + #got
    end
  end

  it('settimeout(nil): a send or sendfile in a loop ends with the count the peer got', function()
    local loop = require('net.loop')
    for _, call in ipairs { 'send', 'sendfile' } do
      local p = assert(stream.pair()) -- blocking for its user
      assert.is_true(p[2]:nonblock(true))
      assert.is_true(p[1]:settimeout(1))
      assert.is_true(p[1]:sndtimeo(2) > 0) -- (bounds a send that blocked the thread)
      local r, t, got, done = nil, nil, 0, false
      loop.spawn(function()
        local t0 = now()
        if call == 'send' then
          r = h.pack(p[1]:send(('x'):rep(8 * 1024 * 1024)))
        else
          r = h.pack(p[1]:sendfile('/dev/zero', 8 * 1024 * 1024))
        end
        t, done = now() - t0, true
      end)
      loop.spawn(function()
        loop.sleep(0.05)
        assert.is_true(p[1]:settimeout(nil)) -- the fd blocks again
      end)
      loop.spawn(function() -- a slow reader (a send that blocked would stop it)
        local t0 = now()
        while not done and now() - t0 < 3 do
          got = got + drain(p[2])
          loop.sleep(0.01)
        end
      end)
      loop.run()
      got = got + drain(p[2])
      p[1]:close(); p[2]:close()
      assert.is_true(t < 1, call .. ' took ' .. tostring(t))
      assert.same({ n = 3, got, nil, true }, r)
      assert.is_true(got > 0 and got < 8 * 1024 * 1024, call .. ': ' .. got)
    end
  end)

  it('settimeout(nil): a drained recv whose bytes another reader took does not block the loop', function()
    local loop = require('net.loop')
    local p = assert(stream.pair()) -- p[1] blocking for its user
    local q = assert(stream.pair { nonblock = true })
    h.close_at_end(p[1], p[2], q[1], q[2])
    local a = p[1]
    assert.is_true(a:settimeout(5))
    assert.is_true(a:rcvtimeo(1.5) > 0) -- (bounds a read that blocked the thread)
    local r, t
    local ticks = {}
    loop.spawn(function()
      assert.equals('x', a:recv(16)) -- waited, then short: drained
      local t0 = now()
      r = h.pack(a:recv(16)) -- waits first, through the loop
      t = now() - t0
    end)
    loop.spawn(function() -- reported first in the round, takes a's bytes
      assert.equals('ping', q[1]:recv(16))
      assert.equals('y', a:recv(16, net.MSG_DONTWAIT))
    end)
    loop.spawn(function()
      loop.sleep(0.05)
      p[2]:send('x')
      loop.sleep(0.05)
      assert.is_true(a:settimeout(nil)) -- the fd blocks again
      q[2]:send('ping')
      p[2]:send('y')
    end)
    loop.spawn(function() -- shows whether the loop ran meanwhile
      local t0 = now()
      repeat loop.sleep(0.01); ticks[#ticks + 1] = now() until now() - t0 > 0.5
    end)
    loop.run()
    assert.same({ n = 3, nil, nil, true }, r)
    assert.is_true(t < 1, 'recv took ' .. t)
    local gap = 0
    for i = 2, #ticks do gap = math.max(gap, ticks[i] - ticks[i - 1]) end
    assert.is_true(gap < 0.5, 'the loop stood still for ' .. gap .. ' s')
  end)

  it('setwaiter(nil): a recv ends at its next wait, not waiting through the old waiter', function()
    local p = assert(stream.pair { nonblock = true })
    h.close_at_end(p[1], p[2])
    assert.is_true(p[1]:setwaiter(net.waiters.coroutine))
    local co = coroutine.create(function() return p[1]:recv(16) end)
    local ok, s, mode = coroutine.resume(co)
    assert.is_true(ok and s == p[1] and mode == 'r')
    assert.is_true(p[1]:setwaiter(nil))
    -- said ready, yet nothing came: the socket no longer waits
    assert.same({ n = 4, true, nil, nil, true }, h.pack(coroutine.resume(co, true)))
    assert.equals('dead', coroutine.status(co))
  end)

  -- the socket keeps its own waiter, so its fd stays non-blocking: only the
  -- deadline says the call should end
  it('settimeout(nil) under its own waiter: a recv, or a send between two tries, ends at its next wait', function()
    local p = assert(stream.pair { nonblock = true })
    h.close_at_end(p[1], p[2])
    for _, call in ipairs { 'recv', 'send' } do
      assert.is_true(p[1]:setwaiter(net.waiters.coroutine))
      assert.is_true(p[1]:settimeout(5))
      local co = coroutine.create(function()
        if call == 'recv' then return p[1]:recv(16) end
        return p[1]:send(('x'):rep(8 * 1024 * 1024))
      end)
      local ok, s, mode, deadline = coroutine.resume(co)
      assert.is_true(ok and s == p[1] and mode == (call == 'recv' and 'r' or 'w'))
      assert.is_true(deadline > now() + 4)
      local got = call == 'send' and drain(p[2]) or 0 -- room: the send's next try goes on
      assert.is_true(p[1]:settimeout(nil))
      -- the send fills that room, then ends before it waits again
      local r = h.pack(coroutine.resume(co, true))
      if call == 'send' then
        got = got + drain(p[2])
        assert.same({ n = 4, true, got, nil, true }, r)
      else
        assert.same({ n = 4, true, nil, nil, true }, r)
      end
      assert.equals('dead', coroutine.status(co))
      assert.is_true(p[1]:setwaiter(nil))
    end
  end)

  it('setwaiter(nil): a blocking socket a short read drained blocks again, as the seed', function()
    local p = assert(stream.pair()) -- blocking
    h.close_at_end(p[1], p[2])
    -- a wait that the peer's bytes end, then a short read: drained
    assert.is_true(p[1]:setwaiter(function() p[2]:send('x'); return true end))
    assert.equals('x', p[1]:recv(16))
    assert.is_true(p[1]:setwaiter(nil))
    assert.is_false(p[1]:nonblock())
    assert.is_true(p[1]:rcvtimeo(0.3) > 0)
    for _, call in ipairs { 'recv', 'recvinto' } do
      if call == 'recvinto' then -- drained again
        assert.is_true(p[1]:setwaiter(function() p[2]:send('y'); return true end))
        assert.equals(1, p[1]:recv(16) and 1)
        assert.is_true(p[1]:setwaiter(nil))
      end
      local t0 = now()
      local r
      if call == 'recv' then
        r = h.pack(p[1]:recv(16))
      else
        r = h.pack(p[1]:recvinto(require('net.buffer').new(16)))
      end
      local t = now() - t0
      assert.same({ n = 3, nil, nil, true }, r)
      assert.is_true(t >= 0.25, call .. ' returned after ' .. t .. ' s, not blocking')
    end
  end)

  it('settimeout(nil): a drained blocking socket in a loop ends its recv at its rcvtimeo', function()
    local loop = require('net.loop')
    local p = assert(stream.pair()) -- blocking
    h.close_at_end(p[1], p[2])
    assert.is_true(p[1]:rcvtimeo(0.3) > 0)
    local r, t
    loop.spawn(function()
      assert.is_true(p[1]:settimeout(5))
      assert.equals('x', p[1]:recv(16)) -- waited, then short: drained
      assert.is_true(p[1]:settimeout(nil)) -- blocking again
      local t0 = now()
      r = h.pack(p[1]:recv(16))
      t = now() - t0
    end)
    loop.spawn(function()
      loop.sleep(0.05)
      p[2]:send('x')
      loop.sleep(2) -- (what a wait past the rcvtimeo would read)
      p[2]:send('late')
    end)
    loop.run()
    assert.same({ n = 3, nil, nil, true }, r)
    assert.is_true(t >= 0.25 and t < 1.5, 'recv took ' .. t)
  end)

  it('setwaiter(nil): a send reports the bytes that went before it', function()
    local p = assert(stream.pair { nonblock = true })
    h.close_at_end(p[1], p[2])
    assert.is_true(p[1]:setwaiter(net.waiters.coroutine))
    local co = coroutine.create(function() return p[1]:send(('x'):rep(4 * 1024 * 1024)) end)
    local ok, s, mode = coroutine.resume(co)
    assert.is_true(ok)
    assert.equals(p[1], s)
    assert.equals('w', mode)
    local got = drain(p[2]) -- room: the send goes on, and waits again
    ok, s = coroutine.resume(co, true)
    assert.is_true(ok)
    assert.equals(p[1], s)
    got = got + drain(p[2])
    assert.is_true(p[1]:setwaiter(nil))
    local r = h.pack(coroutine.resume(co, true))
    got = got + drain(p[2])
    assert.same({ n = 4, true, got, nil, true }, r)
    assert.is_true(got > 0)
  end)

  it('a try after a wait that raises leaves a blocking fd blocking', function()
    -- (wait.without_blocking: O_NONBLOCK for one try of an fd that blocks
    -- again, as after another coroutine's settimeout(nil); the raise stands
    -- for a memory error on PUC Lua)
    local wait = require('net.util.wait')
    local p = assert(stream.pair())
    local during
    local ok, err = pcall(wait.without_blocking, p[1]:getfd(), function()
      during = p[1]:nonblock()
      error('not enough memory', 0)
    end)
    assert.are.same({ false, 'not enough memory' }, { ok, err })
    assert.is_true(during)
    assert.is_false(p[1]:nonblock()) -- blocking again
    p[1]:close(); p[2]:close()
  end)
end)
