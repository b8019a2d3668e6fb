-- The C fast paths of net.capi (src/lua/methods.c): core.fast_method(name,
-- lua_method, other[, default_size]) returns a C function that does the
-- common case of a method itself, hands every other call to lua_method and
-- every outcome but the plain success to other (a rule of
-- net.util.result). The public
-- methods' behaviour is covered by the other specs on every backend; this
-- file checks what is particular to the fast paths: that they are in use,
-- which calls they keep and which they hand over, and that argument errors
-- keep the caller's position on every backend.
local core = require('net.core')
local net = require('net')
local stream = require('net.stream')
local result = require('net.util.result')
local fast = require('net.util.fast')
local h = require('spec.lua.helper')

-- "<this file>:<line>: bad argument ...": the position is the caller's.
-- fn must not make its call a tail call: a tail call leaves no caller line.
local function raised_here(fn)
  local ok, msg = pcall(fn)
  assert.is_false(ok)
  assert.matches('fast_method_spec%.lua:%d+: bad argument', msg)
  return msg
end

describe('socket methods', function()
  local a
  h.each(h.pair, function(x) a = x end)

  it('raise argument errors at the caller on every backend', function()
    raised_here(function() local r = a:recv('x'); return r end)
    raised_here(function() local r = a:recv(1.5); return r end)
    raised_here(function() local r = a:send(42); return r end)
    raised_here(function() local r = a:rcvbuf('big'); return r end)
    raised_here(function() local r = a:nonblock(1); return r end)
  end)

  -- in a coroutine the C functions hand the call over differently (5.2+:
  -- a continuation catches the error; 5.1: a wrapper calls the Lua method)
  it('raise argument errors at the caller inside a coroutine too', function()
    local ok, err = coroutine.resume(coroutine.create(function()
      raised_here(function() local r = a:recv('x'); return r end)
      raised_here(function() local r = a:recv(1.5); return r end)
      raised_here(function() local r = a:send(42); return r end)
      raised_here(function() local r = a:rcvbuf('big'); return r end)
      raised_here(function() local r = a:nonblock(1); return r end)
    end))
    assert(ok, err)
  end)

  it('an error that is no string leaves the call as it was raised', function()
    -- a waiter may raise any value (a scheduler's number or table); the
    -- call handed to the Lua method raises that very value, on every backend
    local p = assert(stream.pair { nonblock = true })
    local t = {}
    for _, value in ipairs { 42, t } do
      assert(p[1]:setwaiter(function() error(value, 0) end))
      local ok, err = pcall(p[1].recv, p[1], 10, 0) -- flags: the Lua method's call
      assert.is_false(ok)
      assert.are.equal(value, err)
      ok, err = pcall(p[1].send, p[1], ('x'):rep(1024 * 1024), 0)
      assert.is_false(ok)
      assert.are.equal(value, err)
    end
    p[1]:close(); p[2]:close()
  end)

  it('set options through the full method and read them back', function()
    assert.is_true(a:nonblock(true))
    assert.is_true(a:nonblock())
    assert.is_false(a:nonblock(false))
    assert.is_true(a:rcvbuf(65536) >= 65536)
    assert.equals(core.sock_rcvbuf(a:fd(), -1), a:rcvbuf())
    assert.equals(2, a:rcvtimeo(2)) -- whole seconds: the kernel keeps them exactly
    assert.equals(2, a:rcvtimeo())
  end)
end)

if core.backend ~= 'capi' then
  pending('core.fast_method exists only in net.capi (backend: ' .. core.backend .. ')')
  return
end

describe('core.fast_method (net.capi)', function()
  local a, b, calls, outcomes
  local function lua_method(...)
    calls[#calls + 1] = h.pack(...)
    return 'lua'
  end
  -- The fast paths call other(self, outcome[, size | string]); these adapt
  -- the pure result rules of net.util.result to that, recording what they
  -- were given (the outcome, and the string's length for send).
  local function on_recv(rule)
    return function(self, code)
      outcomes[#outcomes + 1] = { n = 1, code }
      return rule(code, self[1])
    end
  end
  local function on_send(rule)
    return function(_, n, str)
      outcomes[#outcomes + 1] = { n = 2, n, #str }
      return rule(n, #str)
    end
  end
  local function on_option(_, code)
    outcomes[#outcomes + 1] = { n = 1, code }
    return result.fail(code)
  end

  h.each(h.pair, function(x, y) a, b, calls, outcomes = x, y, {}, {} end)

  it('socket objects carry send and recv on PUC Lua only (net.util.socket)', function()
    local inet = require('net.stream.inet')
    local puc = type(jit) ~= 'table'
    for _, sock in ipairs({ a, b }) do
      local cls = getmetatable(sock)
      assert.equals(puc and cls.send or nil, rawget(sock, 'send'))
      assert.equals(puc and cls.recv or nil, rawget(sock, 'recv'))
    end
    local srv, c, s = h.tcp_trio('127.0.0.1')
    for _, sock in ipairs({ srv, c, s }) do -- each from its own class
      assert.equals(puc and getmetatable(sock).recv or nil, rawget(sock, 'recv'))
    end
    assert.equals(inet.Client, getmetatable(c))
    srv:close(); c:close(); s:close()
  end)

  -- Under LuaJIT the Lua methods stay (net.util.fast): they compile. On Lua
  -- 5.1 the C function is behind a Lua check of the thread (a C function
  -- cannot let a waiter yield there), so the method itself is Lua.
  local classes_use = type(jit) ~= 'table'
  local what = _VERSION == 'Lua 5.1' and 'Lua' or 'C'
  it('is what the classes use for send, recv and option reads '
     .. (classes_use and '(PUC Lua)' or '(not under LuaJIT)'), function()
    local inet = require('net.stream.inet')
    for _, m in ipairs({ net.Socket.send, net.Socket.recv, net.Socket.rcvbuf,
                         net.Socket.nonblock, net.Socket.rcvtimeo,
                         stream.Socket.tcpnodelay, inet.Client.recv }) do
      assert.equals(classes_use and what or 'Lua', debug.getinfo(m, 'S').what)
      -- net.util.fast knows the Lua method each fast function stands for.
      assert.equals(classes_use, fast.lua_method(m) ~= m)
      assert.equals('Lua', debug.getinfo(fast.lua_method(m), 'S').what)
    end
  end)

  it('has no fast path for other names, aliases included', function()
    assert.is_nil(core.fast_method('accept', lua_method, on_option))
    assert.is_nil(core.fast_method('tcpintvl', lua_method, on_option))
  end)

  it('send: a whole string itself, anything else through the Lua method', function()
    local send = core.fast_method('send', lua_method, on_send(result.STREAM.sent))
    assert.equals(5, send(a, 'hello'))
    assert.equals('hello', b:recv(100))
    assert.equals(0, #calls)
    assert.equals('lua', send(a, 'x', 0))
    assert.equals('lua', send(a, {}))
    assert.equals('lua', send('not a socket', 'x'))
    assert.equals(3, #calls)
    assert.same({ n = 3, a, 'x', 0 }, calls[1])
    assert.equals(nil, b:nonblock(true) and b:recv(1)) -- nothing else was sent
  end)

  it('recv: sizes that are whole numbers itself, the default when none', function()
    local recv = core.fast_method('recv', lua_method, on_recv(result.STREAM.received), 4)
    assert.equals(12, a:send('abcdefghijkl'))
    assert.equals('abcd', recv(b))
    assert.equals('efg', recv(b, 3))
    assert.equals('hi', recv(b, 2.0))
    assert.equals(0, #calls)
    for _, args in ipairs({ { 1.5 }, { 0 }, { -1 }, { 2 ^ 40 }, { 'x' }, { 4, 0 }, { nil, 0 } }) do
      assert.equals('lua', recv(b, args[1], args[2]))
    end
    assert.equals(7, #calls)
    assert.same({ n = 3, b, nil, 0 }, calls[7]) -- flags after a nil size are not dropped
    assert.equals('jkl', recv(b))
  end)

  it('recv and send hand every outcome but the plain success to the rule', function()
    local recv = core.fast_method('recv', lua_method, on_recv(result.STREAM.received), 64)
    local send = core.fast_method('send', lua_method, on_send(result.STREAM.sent))
    local K = core.constants
    assert.is_true(b:nonblock(true))
    assert.same({ n = 3, nil, nil, true }, h.pack(recv(b)))
    a:close()
    assert.same({ n = 3, nil, nil, nil }, h.pack(recv(b)))
    assert.same({ n = 4, nil, nil, nil, net.strerror(-K.EPIPE) }, h.pack(send(b, 'x')))
    b:close()
    assert.same({ n = 2, nil, h.EBADF_MSG }, h.pack(recv(b)))
    assert.same({ n = 2, nil, h.EBADF_MSG }, h.pack(send(b, 'x')))
    assert.equals(0, #calls)
    assert.same({ { n = 1, -K.EAGAIN }, { n = 1, 0 }, { n = 2, -K.EPIPE, 1 },
                  { n = 1, -K.EBADF }, { n = 2, -K.EBADF, 1 } }, outcomes)
  end)

  it('recv: the rule, not C, says what 0 bytes means', function()
    local p = assert(require('net.dgram').pair())
    h.close_at_end(p[1], p[2])
    for rule, outcome in pairs({ MESSAGE = { n = 1, '' }, STREAM = { n = 3, nil, nil, nil } }) do
      local recv = core.fast_method('recv', lua_method, on_recv(result[rule].received), 64)
      assert.equals(0, p[1]:send(''))
      assert.same(outcome, h.pack(recv(p[2])), rule) -- an empty datagram, or an end
    end
  end)

  it('option reads: the kernel value in the kind asked for; setters go to Lua', function()
    local nonblock = core.fast_method('nonblock', lua_method, on_option)
    local rcvbuf = core.fast_method('rcvbuf', lua_method, on_option)
    local rcvtimeo = core.fast_method('rcvtimeo', lua_method, on_option)
    assert.is_false(nonblock(a))
    assert.is_true(a:nonblock(true))
    assert.is_true(nonblock(a, nil))
    assert.equals(core.sock_rcvbuf(a:fd(), -1), rcvbuf(a))
    assert.equals(0, rcvtimeo(a))
    assert.equals(0, #calls)
    assert.equals('lua', nonblock(a, false))
    assert.equals('lua', rcvbuf(a, 4096))
    assert.equals(2, #calls)
    a:close()
    assert.same({ n = 2, nil, h.EBADF_MSG }, h.pack(rcvbuf(a)))
    assert.same({ { n = 1, -core.constants.EBADF } }, outcomes)
  end)

  describe('on datagram sockets', function()
    local inet = require('net.dgram.inet')
    local dgram = require('net.dgram')
    local AddrInfo = require('net.addrinfo').AddrInfo
    local rx, tx, to
    before_each(function()
      rx = assert(inet.new { host = '127.0.0.1', nonblock = true })
      tx = assert(inet.new { host = '127.0.0.1' })
      to = assert(rx:getsockname())
    end)
    after_each(function() rx:close(); tx:close() end)

    it('are what net.dgram.Socket uses for sendto and recvfrom '
       .. (classes_use and '(PUC Lua)' or '(not under LuaJIT)'), function()
      for _, m in ipairs({ dgram.Socket.sendto, dgram.Socket.recvfrom, inet.Socket.recvfrom }) do
        assert.equals(classes_use and what or 'Lua', debug.getinfo(m, 'S').what)
        assert.equals(classes_use, fast.lua_method(m) ~= m)
      end
    end)

    it('sendto: a string to a net.addrinfo itself, anything else through the Lua method', function()
      local sendto = core.fast_method('sendto', lua_method, function(_, n, str, ai)
        outcomes[#outcomes + 1] = { n = 3, n, str, ai }
        return result.MESSAGE.sent(n, #str)
      end, AddrInfo)
      assert.equals(5, sendto(tx, 'hello', to))
      assert.equals(0, sendto(tx, '', to))
      assert.equals(0, #calls)
      local fake = setmetatable({ _addr = 'not an address' }, AddrInfo)
      for _, args in ipairs({ { 'x', to, 0 }, { 'x', {} }, { 'x', fake }, { {}, to }, { 'x' } }) do
        assert.equals('lua', sendto(tx, args[1], args[2], args[3]))
      end
      assert.equals('lua', sendto({ '3' }, 'x', to))
      assert.equals(6, #calls)
      assert.same({ n = 4, tx, 'x', to, 0 }, calls[1])
      tx:close()
      assert.same({ n = 2, nil, h.EBADF_MSG }, h.pack(sendto(tx, 'x', to)))
      assert.same({ { n = 3, -core.constants.EBADF, 'x', to } }, outcomes)
      local got = { rx:recvfrom() }
      assert.equals('hello', got[1])
      assert.equals('', (rx:recvfrom()))
    end)

    it('recvfrom: a datagram to finish, a code to the rule, anything else to the Lua method', function()
      local finished = {}
      local recvfrom = core.fast_method('recvfrom', lua_method, function(_, code, size)
        outcomes[#outcomes + 1] = { n = 2, code, size }
        return result.MESSAGE.received(code)
      end, 64, nil, function(_, str, addr, full)
        finished[#finished + 1] = { n = 3, str, core.addr_port(addr), full }
        return 'finished'
      end)
      assert.same({ n = 3, nil, nil, true }, h.pack(recvfrom(rx)))
      assert.equals(10, tx:sendto(('d'):rep(10), to))
      assert.equals(0, tx:sendto('', to))
      assert.equals(100, tx:sendto(('L'):rep(100), to))
      assert.equals('finished', recvfrom(rx, 4))
      assert.equals('finished', recvfrom(rx))
      assert.equals('finished', recvfrom(rx))
      local port = tx:getsockname():port()
      assert.same({ { n = 3, 'dddd', port, 10 }, { n = 3, '', port, 0 }, { n = 3, ('L'):rep(64), port, 100 } },
                  finished)
      assert.equals(0, #calls)
      for _, args in ipairs({ { 1.5 }, { 0 }, { 'x' }, { 4, 0 }, { nil, 0 } }) do
        assert.equals('lua', recvfrom(rx, args[1], args[2]))
      end
      assert.equals(5, #calls)
      rx:close()
      assert.same({ n = 2, nil, h.EBADF_MSG }, h.pack(recvfrom(rx, 8)))
      assert.same({ { n = 2, -core.constants.EAGAIN, 64 }, { n = 2, -core.constants.EBADF, 8 } }, outcomes)
      -- a recvfrom without a finish is refused where it is made
      assert.has_error(function() core.fast_method('recvfrom', lua_method, lua_method, 64) end)
    end)

    it('recvfrom: a whole datagram from the last sender gives self._from without finish', function()
      local finished = 0
      local recvfrom = core.fast_method('recvfrom', lua_method, lua_method, 64, nil, function(_, str)
        finished = finished + 1
        return str
      end)
      local other = assert(inet.new { host = '127.0.0.1' })
      assert.equals(3, tx:sendto('one', to))
      local _, _, _, from = rx:recvfrom() -- the class's method: caches the sender
      assert.equals(from, rx._from)
      assert.equals(3, tx:sendto('two', to))
      assert.same({ n = 5, 'two', nil, nil, from, nil }, h.pack(recvfrom(rx)))
      assert.equals(0, finished)
      assert.equals(0, tx:sendto('', to))
      assert.same({ n = 5, '', nil, nil, from, nil }, h.pack(recvfrom(rx)))
      assert.equals(0, finished)
      assert.equals(9, tx:sendto('cut short', to)) -- cut: finish reports it
      assert.equals('cut', recvfrom(rx, 3))
      assert.equals(9, other:sendto('elsewhere', to)) -- another sender: finish makes it
      assert.equals('elsewhere', recvfrom(rx))
      assert.equals(2, finished)
      other:close()
    end)
  end)

  it('adds the caller\'s position to an argument error of the Lua method', function()
    local send = core.fast_method('send', function()
      error("bad argument #1 to 'send' (test)", 2) -- level 2: the C function
    end, on_send(result.STREAM.sent))
    local msg = raised_here(function() local r = send(a, {}); return r end)
    assert.matches("bad argument #1 to 'send' %(test%)$", msg)
    local other = core.fast_method('send', function() error('plain failure', 0) end,
                                   on_send(result.STREAM.sent))
    local ok, err = pcall(other, a, {})
    assert.is_false(ok)
    assert.equals('plain failure', err) -- other errors are passed on unchanged
  end)
end)
