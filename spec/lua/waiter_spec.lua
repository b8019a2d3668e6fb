-- Waiters (sock:setwaiter, net.setwaiter, net.waiters): which one applies,
-- what it is given and what its results mean, on real loopback sockets.
-- Times are checked with generous bounds (a loaded machine is slow, never
-- fast): a deadline must expire, not early, and not much later.
local net = require('net')
local h = require('spec.lua.helper')

local now = net.now
local ETIMEDOUT = net.strerror(-net.ETIMEDOUT)
local timed = h.timed

describe('waiters', function()
  local a, b
  h.each(h.pair, function(x, y) a, b = x, y end)
  after_each(function() net.setwaiter(nil) end)

  it('a socket without a deadline or a waiter behaves as the seed: again', function()
    assert.is_true(b:nonblock(true))
    assert.same({ n = 3, nil, nil, true }, h.pack(b:recv()))
  end)

  it('sock:setwaiter is called with the socket, the mode and the deadline', function()
    assert.is_true(b:nonblock(true))
    local calls = {}
    assert.is_true(b:setwaiter(function(sock, mode, deadline)
      calls[#calls + 1] = { sock, mode, deadline }
      if #calls == 1 then
        assert.equals(2, a:send('ok'))
        return true
      end
      return false
    end))
    assert.equals('ok', b:recv())
    assert.same({ { b, 'r', nil } }, calls)
    -- false: the deadline passed, reported as again
    assert.same({ n = 3, nil, nil, true }, h.pack(b:recv()))
    assert.equals(2, #calls)
  end)

  -- After a short read that followed a wait, the stream is known to be
  -- empty: a waiter that waits cheaply (net.loop's, marked in
  -- net.util.wait.waits_first) is asked first, before any read, even when
  -- data came meanwhile; any other waiter is asked only after a read found
  -- nothing. (What it saves, a read that finds nothing per echo, is W5's.)
  local buffer = require('net.buffer')
  -- recv, and recvinto a fresh buffer: the string read
  local READS = {
    recv = function(sock, size) return sock:recv(size) end,
    recvinto = function(sock, size)
      local buf = assert(buffer.new(100))
      assert.equals(size > 3 and 3 or size, sock:recvinto(buf, size))
      return buf:tostring()
    end,
  }
  for _, how in ipairs({ 'recv', 'recvinto' }) do
    for _, cheap in ipairs({ true, false }) do
      it(('a drained stream waits first in %s only through a waiter that waits cheaply (%s)'):format(
          how, cheap and 'one that does' or 'one that does not'), function()
        local read = READS[how]
        local waits_first = require('net.util.wait').waits_first
        assert.is_true(b:nonblock(true))
        local calls = 0
        local function waiter()
          calls = calls + 1
          if calls == 1 then assert.equals(3, a:send('one')) end
          return true
        end
        waits_first[waiter] = cheap or nil
        assert.is_true(b:setwaiter(waiter))
        assert.equals('one', read(b, 100)) -- waited once: a short read after a wait
        assert.equals(1, calls)
        assert.equals(3, a:send('two')) -- data waits before the next read
        assert.equals('two', read(b, 100))
        assert.equals(cheap and 2 or 1, calls)
        assert.equals(6, a:send('threes'))
        assert.equals('thr', read(b, 3)) -- waits first (marked by 'two'), reads all it asked:
        assert.equals(cheap and 3 or 1, calls)
        assert.equals('ees', read(b, 3)) -- ... which proves nothing, so no wait here
        assert.equals(cheap and 3 or 1, calls)
        waits_first[waiter] = nil
      end)
    end
  end

  it('a waiter gets the absolute deadline of the call', function()
    assert.is_true(b:settimeout(3))
    local seen
    assert.is_true(b:setwaiter(function(_, _, deadline)
      seen = deadline
      return false
    end))
    local t0 = now()
    assert.same({ n = 3, nil, nil, true }, h.pack(b:recv()))
    assert.is_true(seen >= t0 + 2.9 and seen <= now() + 3)
  end)

  -- A waiter returns false when the deadline passed or it gives up: during
  -- the pauses of a call (a unix connect to a full backlog) a false long
  -- before the pause's end is giving up, and ends the call at once, not
  -- asked again and again until the deadline.
  it('a waiter that gives up during pauses ends the call at once', function()
    local _, _, path = h.full_unix_backlog()
    local calls = 0
    assert.is_true(net.setwaiter(function()
      calls = calls + 1
      return calls == 1 -- ready once, then gives up
    end))
    local t, r = timed(require('net.stream.unix').client.new, { path = path, timeout = 1 })
    assert.is_true(net.setwaiter(nil))
    if r[1] then r[1]:close() end
    assert.same({ n = 2, nil, ETIMEDOUT }, r)
    assert.is_true(calls <= 5, calls .. ' waits')
    assert.is_true(t < 0.5, 'took ' .. t)
  end)

  it('a waiter\'s results read as conditions: any true value is ready, nothing is the deadline', function()
    assert.is_true(b:nonblock(true))
    assert.is_true(b:setwaiter(function()
      assert.equals(2, a:send('ok'))
      return 'ready'
    end))
    assert.equals('ok', b:recv())
    assert.is_true(b:setwaiter(function() end))
    assert.same({ n = 3, nil, nil, true }, h.pack(b:recv()))
  end)

  it('a waiter\'s error is the call\'s error', function()
    assert.is_true(b:setwaiter(function() return nil, 'waiter broke' end))
    assert.same({ n = 2, nil, 'waiter broke' }, h.pack(b:recv()))
  end)

  -- The same two values from every receive: recvfd and the datagram
  -- receives retry their own tries, and passed on a third value, nil.
  it("a waiter's error is every receive's error, nil and it", function()
    local d = assert(require('net.dgram').pair())
    h.close_at_end(d[1], d[2])
    for _, sock in ipairs({ b, d[2] }) do
      assert.is_true(sock:setwaiter(function() return nil, 'waiter broke' end))
    end
    assert.same({ n = 2, nil, 'waiter broke' }, h.pack(b:recvfd()))
    local batch = require('net.dgram').batch()
    local calls = { { 'recv' }, { 'recvfrom' }, { 'recvfd' }, { 'recvmany', 4 }, { 'recvmany', 4, 64, batch } }
    for _, call in ipairs(calls) do
      assert.same({ n = 2, nil, 'waiter broke' }, h.pack(d[2][call[1]](d[2], call[2], call[3], call[4])), call[1])
    end
  end)

  -- reference.md (Deadlines and waiters): the waiter "returns ... `nil,
  -- err`, which the call returns". The datagram sends have their own retry
  -- code (dgram/init.lua's sendto_other and sendmany), which no test made
  -- fail: a sendto to a full queue waits through pauses on the socket's
  -- waiter, and that waiter's error must be the call's, not "try again".
  it("a waiter's error is the error of sendto and sendmany", function()
    local tx, rx, to = h.stuck_sender()
    assert.is_true(tx:nonblock(false) == false)
    assert.is_true(tx:setwaiter(function() return nil, 'waiter broke' end))
    assert.same({ n = 2, nil, 'waiter broke' }, h.pack(tx:sendto('z', to)))
    assert.same({ n = 2, nil, 'waiter broke' }, h.pack(tx:sendmany({ { 'z', to } })))
    -- nothing went: the queue holds only what filled it
    assert.is_true(tx:setwaiter(nil))
    assert.equals('z', rx:recv())
    assert.equals(1, tx:sendto('z', to))
  end)

  -- The same for the message calls of a stream (msg.lua's sendfd and
  -- sendfile retry their own tries): on a full pair each waits, and the
  -- waiter's error must come back, not "try again" or a count.
  it("a waiter's error is the error of sendfd and sendfile", function()
    assert.is_true(a:nonblock(true))
    repeat local n, _, again = a:send(('x'):rep(65536)) until again and n == 0 -- full
    assert.is_true(a:setwaiter(function() return nil, 'waiter broke' end))
    assert.same({ n = 2, nil, 'waiter broke' }, h.pack(a:sendfd(b, 'x')))
    assert.same({ n = 2, nil, 'waiter broke' }, h.pack(a:sendfile('/dev/zero', 10)))
  end)

  -- A waiter that raises raises through the call with the very value it
  -- raised. On PUC Lua a call with flags runs the Lua method under the C
  -- fast path's pcall, which re-raises its error (and puts the caller's
  -- position before an argument error's message): a number must stay a
  -- number there, not become a string in place, and a table stay that
  -- table (methods.c's re-raise of a value that is no string).
  it('a waiter that raises: the call raises that very value, of any type', function()
    local tag = {}
    for _, raised in ipairs { 42, tag } do
      assert.is_true(b:setwaiter(function() error(raised, 0) end))
      for _, flags in ipairs { false, 0 } do -- the fast path, the Lua method
        local ok, err
        if flags then ok, err = pcall(b.recv, b, 10, flags) else ok, err = pcall(b.recv, b) end
        assert.is_false(ok)
        assert.equals(type(raised), type(err))
        assert.is_true(rawequal(raised, err), tostring(err))
      end
    end
  end)

  it('setwaiter takes a function or nil', function()
    h.raises("bad argument #1 to 'setwaiter' (function expected, got number)", b.setwaiter, b, 1)
    h.raises("bad argument #1 to 'setwaiter' (function expected, got number)", net.setwaiter, 1)
    assert.is_true(b:setwaiter(nil))
  end)

  it('net.setwaiter applies to sockets without their own; nil restores the default', function()
    assert.is_true(b:nonblock(true))
    local used = 0
    assert.is_true(net.setwaiter(function()
      used = used + 1
      assert.equals(1, a:send('g'))
      return true
    end))
    assert.equals('g', b:recv())
    assert.equals(1, used)
    -- the socket's own waiter comes first
    assert.is_true(b:setwaiter(function() return false end))
    assert.same({ n = 3, nil, nil, true }, h.pack(b:recv()))
    assert.equals(1, used)
    assert.is_true(b:setwaiter(nil))
    assert.is_true(net.setwaiter(nil))
    assert.same({ n = 3, nil, nil, true }, h.pack(b:recv()))
    assert.equals(1, used)
  end)

  it('net.waiters.coroutine yields to the scheduler that resumed the caller', function()
    assert.is_true(b:nonblock(true))
    assert.is_true(b:setwaiter(net.waiters.coroutine))
    local co = coroutine.create(function() return b:recv() end)
    local ok, sock, mode, deadline = coroutine.resume(co)
    assert.is_true(ok)
    assert.equals(b, sock)
    assert.equals('r', mode)
    assert.is_nil(deadline)
    assert.equals('suspended', coroutine.status(co))
    assert.equals(4, a:send('data'))
    local ok2, str = coroutine.resume(co, true)
    assert.is_true(ok2)
    assert.equals('data', str)
  end)

  it('net.waiters.poll honours the deadline', function()
    assert.is_true(b:nonblock(true))
    local t, r = timed(net.waiters.poll, b, 'r', now() + 0.1)
    assert.same({ n = 1, false }, r)
    assert.is_true(t >= 0.08 and t < 2, 'took ' .. t)
    assert.equals(1, a:send('x'))
    assert.same({ n = 1, true }, h.pack(net.waiters.poll(b, 'r', nil)))
  end)

  it('net.waiters.poll raises at the caller for a table that is not a socket', function()
    local msg = "bad argument #1 to 'poll' (socket expected, got table)"
    h.raises(msg, net.waiters.poll, {}, 'r', now())
    h.raises(msg, net.waiters.poll, { b[1] + 0.5 }, 'r', now()) -- never a truncated fd
    h.raises(msg, net.waiters.poll, { 2 ^ 32 + b[1] }, 'r', now())
    h.raises("bad argument #2 to 'poll' ('r' or 'w' expected, got 'r\0w')", net.waiters.poll, b, 'r\0w')
    -- the deadline: a number or nil (a string would fail in wait.lua's
    -- arithmetic)
    h.raises("bad argument #3 to 'poll' (number expected, got string)", net.waiters.poll, b, 'r', '1')
    h.raises("bad argument #3 to 'poll' (number expected, got boolean)", net.waiters.poll, b, 'w', false)
  end)

  -- Each shipped waiter checks what a program passes it in the same words
  -- (net.openresty's loads outside nginx too).
  it('every shipped waiter raises at the caller for arguments that are not a waiter\'s', function()
    local waiters = { poll = net.waiters.poll, coroutine = net.waiters.coroutine,
                      waiter = require('net.openresty').waiter }
    for name, waiter in pairs(waiters) do
      h.raises(("bad argument #1 to '%s' (socket expected, got table)"):format(name), waiter, {}, 'r')
      h.raises(("bad argument #2 to '%s' ('r' or 'w' expected, got 'x')"):format(name), waiter, b, 'x')
      h.raises(("bad argument #2 to '%s' ('r' or 'w' expected, got nil)"):format(name), waiter, b)
      h.raises(("bad argument #3 to '%s' (number expected, got string)"):format(name), waiter, b, 'r', '1')
    end
  end)
end)
