-- MSG_WAITALL under a deadline or a waiter, also inside net.loop, on
-- real loopback sockets.
-- Times are checked with generous bounds (a loaded machine is slow, never
-- fast): a deadline must expire, not early, and not much later.
local net = require('net')
local stream = require('net.stream')
local h = require('spec.lua.helper')

local now = net.now
local timed = h.timed

describe('MSG_WAITALL with a deadline or a waiter', function()
  local loop = require('net.loop')
  local buffer = require('net.buffer')

  -- recv(10, MSG_WAITALL) (or recvinto) on a pair whose peer sends "abc",
  -- then "defghij" after 0.1 s (or never), in a loop: the result and seconds
  local function waitall(into, timeout, rest)
    local p = assert(stream.pair())
    assert.is_true(p[1]:settimeout(timeout))
    local got, took
    loop.spawn(function()
      local t0 = now()
      if into then
        local buf = buffer.new(64)
        local n = p[1]:recvinto(buf, 10, net.MSG_WAITALL)
        got = { n, buf:tostring() }
      else
        got = { p[1]:recv(10, net.MSG_WAITALL) }
      end
      took = now() - t0
    end)
    loop.spawn(function()
      assert.are.equal(3, p[2]:send('abc'))
      loop.sleep(0.1)
      if rest then assert.are.equal(#rest, p[2]:send(rest)) end
    end)
    loop.run()
    p[1]:close(); p[2]:close()
    return got, took
  end

  it('waits for the whole size, as it does on a blocking socket', function()
    local got, took = waitall(false, 2, 'defghijk')
    assert.are.same({ 'abcdefghij' }, got)
    assert.is_true(took >= 0.09 and took < 1.5, took)
    got = waitall(true, 2, 'defghijk')
    assert.are.same({ 10, 'abcdefghij' }, got)
  end)

  it('returns what came when the deadline passes first', function()
    local got, took = waitall(false, 0.3)
    assert.are.same({ 'abc' }, got)
    assert.is_true(took >= 0.29 and took < 1.5, took)
    got = waitall(true, 0.3)
    assert.are.same({ 3, 'abc' }, got)
  end)

  it('returns what came when the stream ends first; the next call says the end', function()
    local p = assert(stream.pair())
    assert.is_true(p[1]:settimeout(2))
    assert.are.equal(3, p[2]:send('abc'))
    p[2]:close()
    assert.are.same({ 'abc' }, { p[1]:recv(10, net.MSG_WAITALL) })
    assert.are.same(h.pack(nil, nil, nil), h.pack(p[1]:recv(10, net.MSG_WAITALL)))
    p[1]:close()
  end)

  -- The read of the rest finds the socket readable with nothing queued:
  -- that is the end of the stream (the next call's to report), not a
  -- wake-up for nothing to wait again after; the bytes that came are
  -- returned at once, not at the deadline (as the kernel's own MSG_WAITALL
  -- returns at the end).
  it('returns at once what came when the peer closed, not at the deadline', function()
    local p = assert(stream.pair())
    h.close_at_end(p[1], p[2])
    assert.is_true(p[1]:settimeout(2))
    assert.are.equal(3, p[2]:send('abc'))
    p[2]:close()
    local t, r = timed(p[1].recv, p[1], 10, net.MSG_WAITALL)
    assert.are.same(h.pack('abc'), r)
    assert.is_true(t < 1, 'took ' .. t)
  end)

  it('in net.loop returns at once what came when the peer closed', function()
    local p = assert(stream.pair { nonblock = true })
    h.close_at_end(p[1], p[2])
    -- the deadline only bounds a wait that did not see the end
    assert.is_true(p[1]:settimeout(2))
    assert.are.equal(3, p[2]:send('xyz'))
    p[2]:close()
    local got, took
    loop.spawn(function()
      took, got = timed(p[1].recv, p[1], 10, net.MSG_WAITALL)
    end)
    loop.run()
    assert.are.same(h.pack('xyz'), got)
    assert.is_true(took < 1, 'took ' .. took)
  end)

  -- A client whose recv(10, MSG_WAITALL) (recvinto: into) under a deadline
  -- got "abc" when the peer reset the connection mid-wait; its results.
  local function reset_mid_wait(into)
    local srv, client, peer = h.tcp_trio('127.0.0.1')
    srv:close()
    assert.is_true(client:settimeout(2))
    assert.are.equal(3, peer:send('abc'))
    local got
    loop.spawn(function()
      if into then
        local buf = buffer.new(64)
        got = h.pack(client:recvinto(buf, 10, net.MSG_WAITALL), buf:tostring())
      else
        got = h.pack(client:recv(10, net.MSG_WAITALL))
      end
    end)
    loop.spawn(function()
      loop.sleep(0.1)
      assert.is_true(peer:linger(0) ~= nil)
      peer:close() -- a reset
    end)
    loop.run()
    return client, got
  end
  local RESET = net.strerror(-net.ECONNRESET)

  it('a reset after some bytes: those bytes, then the reset (as the kernel keeps it)', function()
    local client, got = reset_mid_wait(false)
    assert.are.same(h.pack('abc'), got)
    assert.are.same(h.pack(nil, nil, nil, RESET), h.pack(client:recv(10, net.MSG_WAITALL)))
    client:close()
    client, got = reset_mid_wait(true)
    assert.are.same(h.pack(3, 'abc'), got)
    assert.are.same(h.pack(nil, nil, nil, RESET), h.pack(client:recvinto(buffer.new(8))))
    client:close()
  end)

  it('a reset after some bytes stays the socket\'s pending error, for any call to take', function()
    local client = reset_mid_wait(false)
    assert.are.equal(net.ECONNRESET, client:error()) -- no read took it
    client:close()
    -- closed, the socket has no reset to report: its calls say it is closed
    for _, into in ipairs({ false, true }) do
      client = reset_mid_wait(into)
      assert.is_nil(client:close())
      assert.are.same(h.pack(nil, net.strerror(-net.EBADF)), h.pack(client:recv(10)))
      assert.are.same(h.pack(nil, net.strerror(-net.EBADF)), h.pack(client:recvinto(buffer.new(8))))
    end
  end)

  it('at the deadline takes the bytes below SO_RCVLOWAT, which never make it readable', function()
    local srv, client, peer = h.tcp_trio('127.0.0.1') -- (unix streams ignore SO_RCVLOWAT)
    srv:close()
    assert.are.equal(5, client:rcvlowat(5))
    assert.is_true(client:settimeout(0.4))
    assert.are.equal(8, peer:send('abcdefgh'))
    local got
    loop.spawn(function() got = h.pack(client:recv(10, net.MSG_WAITALL)) end)
    loop.spawn(function()
      loop.sleep(0.1)
      assert.are.equal(2, peer:send('ij'))
    end)
    loop.run()
    assert.are.same(h.pack('abcdefghij'), got)
    client:close(); peer:close()
  end)

  -- A TCP client with SO_RCVLOWAT 100 and a deadline of 0.4 s reading 10
  -- bytes (recv or recvinto: into, with flags) while its peer sends them
  -- in two parts: in net.loop, or through the default waiter (both parts
  -- sent as the wait begins). What the read returned.
  local function below_rcvlowat(in_loop, into, flags)
    local srv, client, peer = h.tcp_trio('127.0.0.1')
    srv:close()
    assert.are.equal(100, client:rcvlowat(100))
    assert.is_true(client:settimeout(0.4))
    local got
    local function read()
      if into then
        local buf = buffer.new(64)
        got = h.pack(client:recvinto(buf, 10, flags), buf:tostring())
      else
        got = h.pack(client:recv(10, flags))
      end
    end
    if in_loop then
      loop.spawn(read)
      loop.spawn(function()
        loop.sleep(0.1)
        assert.are.equal(5, peer:send('12345'))
        loop.sleep(0.1)
        assert.are.equal(5, peer:send('67890'))
      end)
      loop.run()
    else
      local sent = false
      assert.is_true(client:setwaiter(function(sock, mode, deadline)
        if not sent then
          sent = true
          assert.are.equal(5, peer:send('12345'))
          assert.are.equal(5, peer:send('67890'))
        end
        return net.waiters.poll(sock, mode, deadline)
      end))
      read()
    end
    client:close(); peer:close()
    return got
  end

  it('every read at its deadline takes the bytes below SO_RCVLOWAT, as the kernel\'s own', function()
    for _, in_loop in ipairs({ true, false }) do
      for _, flags in ipairs({ 0, net.MSG_WAITALL }) do
        assert.are.same(h.pack('1234567890'), below_rcvlowat(in_loop, false, flags))
        assert.are.same(h.pack(10, '1234567890'), below_rcvlowat(in_loop, true, flags))
      end
    end
  end)

  it('stops at the urgent mark, as the kernel\'s own, leaving the urgent byte', function()
    local p = assert(stream.pair())
    local sent = p[2]:send('abc')
    local oob = h.pack(p[2]:send('Z', net.MSG_OOB))
    if oob[1] ~= 1 then -- a kernel without unix streams' MSG_OOB (Linux < 5.15)
      p[1]:close(); p[2]:close()
      pending('unix streams have no MSG_OOB here: ' .. tostring(oob[2]))
      return
    end
    assert.are.equal(3, sent)
    assert.is_true(p[1]:settimeout(2))
    local got
    loop.spawn(function()
      local t0 = now()
      got = h.pack(p[1]:recv(10, net.MSG_WAITALL), now() - t0)
    end)
    loop.spawn(function()
      loop.sleep(0.1)
      assert.are.equal(7, p[2]:send('defghij'))
    end)
    loop.run()
    assert.are.equal('abc', got[1]) -- at the mark
    assert.is_true(got[2] < 1, got[2])
    assert.are.equal('Z', p[1]:recv(1, net.MSG_OOB)) -- not passed over, not lost
    assert.are.equal('defghij', p[1]:recv(10))
    p[1]:close(); p[2]:close()
  end)

  -- A TCP client whose peer sent "abc" and then an urgent byte, both
  -- queued before the client reads (inq counts up to the mark).
  local function urgent_queued()
    local srv, client, peer = h.tcp_trio('127.0.0.1')
    srv:close()
    assert.are.equal(3, peer:send('abc'))
    assert.are.equal(1, peer:send('U', net.MSG_OOB))
    local t0 = now()
    repeat until client:atmark() == false and client:inq() == 3 or now() - t0 > 2
    return client, peer
  end

  it('on TCP stops at once at an urgent byte queued before the call', function()
    local client, peer = urgent_queued()
    assert.is_true(client:settimeout(2))
    local t0 = now()
    assert.are.equal('abc', client:recv(10, net.MSG_WAITALL))
    assert.is_true(now() - t0 < 1, now() - t0)
    assert.are.equal('U', client:recv(1, net.MSG_OOB))
    -- the urgent byte taken first: the mark stays, and the read stops there
    assert.are.equal(3, peer:send('def'))
    assert.are.equal(1, peer:send('V', net.MSG_OOB))
    t0 = now()
    repeat until client:inq() == 3 or now() - t0 > 2
    local oob
    repeat oob = client:recv(1, net.MSG_OOB) until oob or now() - t0 > 2
    assert.are.equal('V', oob)
    t0 = now()
    assert.are.equal('def', client:recv(10, net.MSG_WAITALL))
    assert.is_true(now() - t0 < 1, now() - t0)
    client:close(); peer:close()
  end)

  it('in net.loop without a deadline, stops at an urgent byte queued before the call', function()
    local client, peer = urgent_queued()
    assert.is_true(client:nonblock(true))
    local got, took
    loop.spawn(function()
      local t0 = now()
      got = h.pack(client:recv(10, net.MSG_WAITALL))
      took = now() - t0
    end)
    loop.spawn(function()
      loop.sleep(1.5) -- (ends a wait that did not stop at the mark)
      assert.are.equal(7, peer:send('1234567'))
    end)
    loop.run()
    assert.are.same(h.pack('abc'), got)
    assert.is_true(took < 1, took)
    client:close(); peer:close()
  end)

  it('with MSG_OOB returns the urgent byte at once', function()
    local srv, client, peer = h.tcp_trio('127.0.0.1')
    srv:close()
    assert.is_true(client:settimeout(2))
    assert.are.equal(1, peer:send('!', net.MSG_OOB))
    local t0 = now()
    local str
    repeat str = client:recv(10, net.MSG_OOB + net.MSG_WAITALL) until str or now() - t0 > 1
    assert.are.equal('!', str)
    assert.is_true(now() - t0 < 0.5)
    client:close(); peer:close()
  end)

  it('with MSG_OOB in net.loop returns the urgent byte at once after a short read', function()
    local srv, client, peer = h.tcp_trio('127.0.0.1')
    srv:close()
    assert.is_true(client:settimeout(2))
    local got
    loop.spawn(function()
      assert.are.equal('abc', client:recv(10)) -- waited, came back short
      local t0 = now()
      repeat until client:atmark() or now() - t0 > 2 -- the urgent byte came
      got = h.pack(client:recv(1, net.MSG_OOB), now() - t0)
    end)
    loop.spawn(function()
      loop.sleep(0.1)
      assert.are.equal(3, peer:send('abc'))
      assert.are.equal(1, peer:send('U', net.MSG_OOB))
    end)
    loop.run()
    assert.are.equal('U', got[1])
    assert.is_true(got[2] < 1, got[2])
    client:close(); peer:close()
  end)

  it('with MSG_PEEK or MSG_DONTWAIT returns what is queued, without waiting for the rest', function()
    local p = assert(stream.pair())
    assert.is_true(p[1]:settimeout(2))
    assert.are.equal(3, p[2]:send('abc'))
    for _, flag in ipairs({ net.MSG_PEEK, net.MSG_DONTWAIT }) do
      local t, r = timed(p[1].recv, p[1], 10, net.MSG_WAITALL + flag)
      assert.are.equal('abc', r[1])
      assert.is_true(t < 1, 'took ' .. t) -- not the deadline's 2 s
    end
    p[1]:close(); p[2]:close()
  end)
end)
