-- net.Socket: every method on real sockets, options read back from the
-- kernel, closed-socket behaviour, net.wrap.
local net = require('net')
local stream = require('net.stream')
local inet = require('net.stream.inet')
local unix = require('net.stream.unix')
local core = require('net.core')
local h = require('spec.lua.helper')

local EBADF = h.EBADF_MSG

describe('net module', function()
  it('exports the constants of the platform', function()
    assert.are.equal(2, net.AF_INET)
    assert.are.equal(1, net.AF_UNIX)
    assert.are.equal(1, net.SOCK_STREAM)
    assert.are.equal(6, net.IPPROTO_TCP)
    assert.are.equal(2, net.MSG_PEEK)
    assert.are.equal(1, net.SHUT_WR)
    assert.are.equal(9, net.EBADF)
  end)

  it('names result codes with strerror', function()
    assert.are.equal('Bad file descriptor', net.strerror(-net.EBADF))
    assert.are.equal('Connection refused', net.strerror(-net.ECONNREFUSED))
    assert.are.equal('Name or service not known', net.strerror(net.EAI_NONAME))
  end)

  it('reports the version of the loaded library: major 1', function()
    local v = net.version() -- major * 10000 + minor * 100 + patch
    assert.are.equal(1, math.floor(v / 10000))
  end)
end)

describe('net.Socket', function()
  local a, b

  h.each(h.pair, function(x, y) a, b = x, y end)

  describe('identity', function()
    it('fd() is the open descriptor the kernel knows', function()
      local fa, fb = a:fd(), b:fd()
      assert.are.equal('number', type(fa))
      assert.are.equal(math.floor(fa), fa)
      assert.is_true(fa >= 0 and fb >= 0 and fa ~= fb)
      assert.is_true(h.fd_is_open(fa))
      assert.is_true(h.fd_is_open(fb))
    end)

    it('is an instance of its class through plain metatables', function()
      assert.are.equal(stream.Socket, getmetatable(a))
      assert.is_true(h.is_a(a, net.Socket))
      assert.are.equal('net.stream.Socket', stream.Socket._NAME)
      assert.are.equal('net.Socket', net.Socket._NAME)
    end)

    it('tostring names the class and the fd, then "closed"', function()
      assert.are.equal('net.stream.Socket: fd ' .. a:fd(), tostring(a))
      local pair = assert(stream.pair())
      pair[1]:close()
      pair[2]:close()
      local s = tostring(pair[1])
      assert.are.equal('net.stream.Socket: ', s:sub(1, 19))
      assert.is_truthy(s:find('closed', 1, true))
      assert.is_falsy(s:find('fd %d'))
    end)

    it('socktype, family and protocol read the kernel', function()
      assert.are.equal(net.SOCK_STREAM, a:socktype())
      assert.are.equal(net.AF_UNIX, a:family())
      assert.are.equal(0, a:protocol())
      local _, c, s = h.tcp_trio('127.0.0.1')
      assert.are.equal(net.SOCK_STREAM, c:socktype())
      assert.are.equal(net.AF_INET, c:family())
      assert.are.equal(net.IPPROTO_TCP, c:protocol())
      assert.are.equal(net.IPPROTO_TCP, s:protocol())
    end)

    it('error() is 0 when nothing is pending', function()
      assert.are.equal(0, a:error())
    end)
  end)

  describe('flags', function()
    it('cloexec sets, reads back and clears FD_CLOEXEC', function()
      assert.is_true(a:cloexec(true))
      assert.is_true(a:cloexec())
      assert.is_false(a:cloexec(false))
      assert.is_false(a:cloexec())
    end)

    it('nonblock sets O_NONBLOCK, and recv then says again', function()
      assert.is_false(a:nonblock())
      assert.is_true(a:nonblock(true))
      assert.is_true(a:nonblock())
      local r = h.pack(a:recv())
      assert.is_nil(r[1])
      assert.is_nil(r[2])
      assert.is_true(r[3])
      assert.is_false(a:nonblock(false))
      assert.is_false(a:nonblock())
    end)
  end)

  describe('options', function()
    local c -- the client of a TCP trio; the fixture closes all three

    h.each(function() return h.tcp_trio('127.0.0.1') end,
      function(_, client) c = client end)

    -- Every boolean option of net.Socket, set and read back on TCP.
    for _, opt in ipairs { 'reuseport', 'reuseaddr', 'dontroute', 'timestamp', 'broadcast' } do
      it(opt .. '(true) then ' .. opt .. '() is true; false clears it', function()
        assert.is_false(c[opt](c))
        assert.is_true(c[opt](c, true))
        assert.is_true(c[opt](c))
        assert.is_false(c[opt](c, false))
        assert.is_false(c[opt](c))
      end)
    end

    it('debug() reads SO_DEBUG; setting it needs CAP_NET_ADMIN', function()
      assert.is_false(c:debug())
      local v, err = c:debug(true)
      if v == nil then
        assert.are.equal(net.strerror(-net.EACCES), err)
        assert.is_false(c:debug())
      else
        assert.is_true(v)
        assert.is_true(c:debug())
        assert.is_false(c:debug(false))
      end
    end)

    it('rcvbuf(65536) returns the kernel\'s value (Linux doubles it)', function()
      local v = c:rcvbuf(65536)
      assert.are.equal(c:rcvbuf(), v)
      if h.LINUX then
        assert.are.equal(2 * math.min(65536, h.sysctl('net/core/rmem_max')), v)
      else
        assert.is_true(v >= 65536)
      end
    end)

    it('sndbuf(65536) returns the kernel\'s value (Linux doubles it)', function()
      local v = c:sndbuf(65536)
      assert.are.equal(c:sndbuf(), v)
      if h.LINUX then
        assert.are.equal(2 * math.min(65536, h.sysctl('net/core/wmem_max')), v)
      else
        assert.is_true(v >= 65536)
      end
    end)

    it('rcvlowat(100) reads back 100', function()
      assert.are.equal(1, c:rcvlowat())
      assert.are.equal(100, c:rcvlowat(100))
      assert.are.equal(100, c:rcvlowat())
    end)

    it('sndlowat reads 1; Linux refuses to set it (ENOPROTOOPT)', function()
      assert.are.equal(1, c:sndlowat())
      if h.LINUX then
        local v, err = c:sndlowat(2048)
        assert.is_nil(v)
        assert.are.equal(net.strerror(-net.ENOPROTOOPT), err)
        assert.are.equal('Protocol not available', err)
      end
    end)

    for _, opt in ipairs { 'rcvtimeo', 'sndtimeo' } do
      it(opt .. ' takes fractional seconds and reads back the kernel value', function()
        assert.are.equal(0, c[opt](c))
        -- 1.5 s is a whole number of ticks at every HZ (100, 250, 300, 1000).
        assert.are.equal(1.5, c[opt](c, 1.5))
        assert.are.equal(1.5, c[opt](c))
        -- 0.25 s may be rounded up to the next tick: the value in effect.
        local v = c[opt](c, 0.25)
        assert.is_true(v >= 0.25 and v < 0.26, 'got ' .. tostring(v))
        assert.are.equal(v, c[opt](c))
        assert.are.equal(0, c[opt](c, 0))
      end)

      it(opt .. ': a whole number of seconds reads back as it prints on every Lua', function()
        assert.are.equal('0', tostring(c[opt](c)))
        assert.are.equal('2', tostring(c[opt](c, 2)))
        assert.are.equal('2', tostring(c[opt](c)))
        assert.are.equal('2', tostring(c[opt](c, 2.0)))
        assert.are.equal('1.5', tostring(c[opt](c, 1.5)))
        assert.are.equal('1000000000', tostring(c[opt](c, 1e9))) -- the largest
        assert.are.equal(0, c[opt](c, 0))
      end)
    end

    it('a SO_RCVTIMEO timeout makes recv say again', function()
      assert.is_true(c:rcvtimeo(0.02) > 0)
      local r = h.pack(c:recv())
      assert.is_nil(r[1])
      assert.is_nil(r[2])
      assert.is_true(r[3])
    end)

    it('linger is false when off, seconds when on', function()
      assert.is_false(c:linger())
      assert.are.equal(5, c:linger(5))
      assert.are.equal(5, c:linger())
      assert.are.equal(0, c:linger(0))
      assert.are.equal(0, c:linger())
      assert.is_false(c:linger(false))
      assert.is_false(c:linger())
    end)
  end)

  describe('addresses', function()
    it('getsockname and getpeername of a TCP connection mirror each other', function()
      local srv, c, s, port = h.tcp_trio('127.0.0.1')
      local cs, cp = assert(c:getsockname()), assert(c:getpeername())
      local ss, sp = assert(s:getsockname()), assert(s:getpeername())
      assert.are.equal('127.0.0.1', cp:addr())
      assert.are.equal(port, cp:port())
      assert.are.equal(tostring(cs), tostring(sp))
      assert.are.equal(tostring(cp), tostring(ss))
      assert.is_true(cs:port() > 0 and cs:port() ~= port)
      srv:close(); c:close(); s:close()
    end)

    it('getpeername of an unconnected socket is ENOTCONN', function()
      local srv = assert(inet.server.new { host = '127.0.0.1', port = 0 })
      local ai, err = srv:getpeername()
      assert.is_nil(ai)
      assert.are.equal(net.strerror(-net.ENOTCONN), err)
      assert.are.equal('Transport endpoint is not connected', err)
      srv:close()
    end)
  end)

  describe('shutdown', function()
    it('closew: the peer reads EOF, and can still send back', function()
      local r = h.pack(a:closew())
      assert.is_nil(r[1])
      assert.is_nil(r[2])
      r = h.pack(b:recv())
      assert.is_nil(r[1]); assert.is_nil(r[2]); assert.is_nil(r[3])
      assert.are.equal(4, b:send('back'))
      assert.are.equal('back', a:recv())
      -- Sending after our own SHUT_WR is EPIPE: reported as closed, no SIGPIPE.
      r = h.pack(a:send('more'))
      assert.is_nil(r[1]); assert.is_nil(r[2]); assert.is_nil(r[3])
    end)

    it('closer: reads end, and the unix peer\'s send is EPIPE', function()
      local r = h.pack(a:closer())
      assert.is_nil(r[1])
      assert.is_nil(r[2])
      r = h.pack(a:recv())
      assert.is_nil(r[1]); assert.is_nil(r[2]); assert.is_nil(r[3])
      r = h.pack(b:send('x'))
      assert.is_nil(r[1]); assert.is_nil(r[2]); assert.is_nil(r[3])
      assert.are.equal(2, a:send('ok'))
      assert.are.equal('ok', b:recv())
    end)
  end)

  describe('recv and send', function()
    it('recv(bufsize) returns at most bufsize bytes, the rest stays queued', function()
      assert.are.equal(6, a:send('abcdef'))
      assert.are.equal('abcd', b:recv(4))
      assert.are.equal('ef', b:recv())
    end)

    it('MSG_PEEK leaves the data in the queue', function()
      assert.are.equal(5, a:send('hello'))
      assert.are.equal('hello', b:recv(100, net.MSG_PEEK))
      assert.are.equal('hello', b:recv(100))
    end)

    it('send("") sends nothing and reports 0 without again', function()
      local r = h.pack(a:send(''))
      assert.are.equal(0, r[1])
      assert.is_nil(r[2])
      assert.is_nil(r[3])
    end)

    it('carries NUL and every byte value unchanged', function()
      local all = h.blob(256 * 4)
      assert.are.equal(#all, a:send(all))
      assert.are.equal(all, h.recv_exact(b, #all))
    end)
  end)

  describe('atmark', function()
    it('is false in normal data and true at the out-of-band mark', function()
      local srv, c, s = h.tcp_trio('127.0.0.1')
      assert.is_false(s:atmark())
      assert.are.equal(2, c:send('ab'))
      assert.are.equal(1, c:send('!', net.MSG_OOB))
      -- POLLPRI: the urgent byte has arrived, so the mark is known.
      assert.is_true(h.wait(s, net.POLLPRI, 5) ~= 0)
      assert.is_false(s:atmark())
      assert.are.equal('ab', s:recv(10)) -- a read stops at the mark
      assert.is_true(s:atmark())
      assert.are.equal('!', s:recv(1, net.MSG_OOB))
      srv:close(); c:close(); s:close()
    end)
  end)

  describe('inq', function()
    it('counts the bytes queued without taking them or a reset', function()
      local srv, c, s = h.tcp_trio('127.0.0.1')
      assert.are.equal(0, s:inq())
      assert.are.same({ nil, net.strerror(-net.EINVAL) }, { srv:inq() }) -- listening
      assert.are.equal(5, c:send('hello'))
      assert.is_true(c:linger(0) ~= nil)
      c:close() -- a reset, after the bytes
      assert.is_true(h.wait(s, net.POLLIN, 5) ~= 0)
      assert.are.equal(5, s:inq())
      assert.are.equal('hello', s:recv(10))
      assert.are.equal(0, s:inq())
      assert.are.same(h.pack(nil, nil, nil, net.strerror(-net.ECONNRESET)), h.pack(s:recv(10)))
      srv:close(); s:close()
    end)

    it('on a datagram socket is the size of the next datagram', function()
      local dinet = require('net.dgram.inet')
      local tx = assert(dinet.new{ host = '127.0.0.1' })
      local rx = assert(dinet.new{ host = '127.0.0.1' })
      assert.are.equal(0, rx:inq())
      assert.are.equal(5, tx:sendto('hello', assert(rx:getsockname())))
      assert.are.equal(2, tx:sendto('hi', assert(rx:getsockname())))
      assert.is_true(h.wait(rx, net.POLLIN, 5) ~= 0)
      assert.are.equal(5, rx:inq())
      tx:close(); rx:close()
    end)
  end)
end)

describe('a closed socket', function()
  -- Every method, in its read and its write form where it has both.
  local calls = {
    { 'fd' }, { 'getsockname' }, { 'getpeername' }, { 'closer' }, { 'closew' },
    { 'atmark' }, { 'cloexec' }, { 'cloexec', true }, { 'nonblock' },
    { 'nonblock', true }, { 'socktype' }, { 'family' }, { 'protocol' }, { 'error' },
    { 'reuseport' }, { 'reuseport', true }, { 'reuseaddr' }, { 'reuseaddr', true },
    { 'debug' }, { 'debug', false }, { 'dontroute' }, { 'dontroute', true },
    { 'timestamp' }, { 'timestamp', true }, { 'broadcast' }, { 'broadcast', true },
    { 'rcvbuf' }, { 'rcvbuf', 4096 }, { 'rcvlowat' }, { 'rcvlowat', 2 },
    { 'sndbuf' }, { 'sndbuf', 4096 }, { 'sndlowat' }, { 'sndlowat', 2 },
    { 'rcvtimeo' }, { 'rcvtimeo', 1 }, { 'sndtimeo' }, { 'sndtimeo', 1 },
    { 'linger' }, { 'linger', 1 }, { 'linger', false },
    { 'recv' }, { 'recv', 10 }, { 'send', 'x' },
    { 'acceptconn' }, { 'oobinline' }, { 'oobinline', true },
    { 'keepalive' }, { 'keepalive', true }, { 'tcpnodelay' }, { 'tcpnodelay', true },
    { 'tcpcork' }, { 'tcpcork', true }, { 'tcpkeepalive' }, { 'tcpkeepalive', 10 },
    { 'tcpkeepintvl' }, { 'tcpkeepintvl', 10 }, { 'tcpintvl' }, { 'tcpintvl', 10 },
    { 'tcpkeepcnt' }, { 'tcpkeepcnt', 3 },
  }
  local unpack = table.unpack or unpack -- luacheck: ignore 143

  local ACTING = { closer = true, closew = true, listen = true, connect = true }

  local function check_all(sock, extra)
    local list = {}
    for _, call in ipairs(calls) do list[#list + 1] = call end
    for _, call in ipairs(extra or {}) do list[#list + 1] = call end
    for _, call in ipairs(list) do
      local name = call[1]
      local r = h.pack(sock[name](sock, unpack(call, 2)))
      -- Methods that only act (err = sock:closer()) return the error
      -- itself; the others return nil, err.
      local err = ACTING[name] and r[1] or r[2]
      assert((ACTING[name] or r[1] == nil) and err == EBADF,
        name .. '(' .. tostring(call[2] or '') .. ') on a closed socket returned '
          .. tostring(r[1]) .. ', ' .. tostring(r[2]))
    end
    -- Closing again is an error too, never a second close(2).
    local r = h.pack(sock:close())
    assert.are.equal(EBADF, r[1])
    assert.are.equal(1, r.n)
  end

  it('returns nil, "Bad file descriptor" from every stream method', function()
    local pair = assert(stream.pair())
    local r = h.pack(pair[1]:close())
    assert.is_nil(r[1])
    assert.is_nil(r[2])
    check_all(pair[1])
    pair[2]:close()
  end)

  it('returns it from listen and accept of a closed server', function()
    local srv = assert(inet.server.new { host = '127.0.0.1', port = 0 })
    assert.is_nil(srv:close())
    check_all(srv, { { 'listen' }, { 'listen', 5 }, { 'accept' } })
  end)

  it('returns it from connect of a closed inet client', function()
    local srv, port = h.tcp_server('127.0.0.1')
    local c = assert(inet.client.new { host = '127.0.0.1', port = port })
    assert.is_nil(c:close())
    check_all(c, { { 'connect' } })
    srv:close()
  end)

  it('returns it from connect of a closed unix client', function()
    local dir = h.tmpdir()
    h.cleanup(function() h.rmdir(dir) end)
    local path = dir .. '/s'
    local srv = assert(unix.server.new { path = path })
    assert.is_nil(srv:listen())
    local c = assert(unix.client.new { path = path })
    assert.is_nil(c:close())
    check_all(c, { { 'connect' } })
    srv:close()
  end)

  it('gives its fd back to the kernel once', function()
    local pair = assert(stream.pair())
    local fd = pair[1]:fd()
    assert.is_true(h.fd_is_open(fd))
    pair[1]:close()
    assert.is_false(h.fd_is_open(fd))
    -- a new socket takes the number (the lowest free): a second close of
    -- the old object must leave it alone
    local new = assert(stream.pair())
    assert.is_true(new[1]:fd() == fd or new[2]:fd() == fd, 'the number was not reused')
    assert.are.equal(EBADF, pair[1]:close())
    assert.is_true(h.fd_is_open(fd))
    assert.are.equal(2, new[1]:send('ok'))
    assert.are.equal('ok', new[2]:recv())
    new[1]:close(); new[2]:close(); pair[2]:close()
  end)
end)

describe('net.wrap', function()
  it('wraps a stream fd as a net.stream.Socket that owns it', function()
    local fd1, fd2 = core.sock_pair(net.AF_UNIX, net.SOCK_STREAM, 0, 0)
    assert.is_true(fd1 >= 0, 'sock_pair: ' .. net.strerror(fd1))
    local w1, w2 = assert(net.wrap(fd1)), assert(net.wrap(fd2))
    assert.are.equal(stream.Socket, getmetatable(w1))
    assert.are.equal(fd1, w1:fd())
    assert.are.equal(net.SOCK_STREAM, w1:socktype())
    assert.are.equal(net.AF_UNIX, w1:family())
    assert.are.equal(3, w1:send('abc'))
    assert.are.equal('abc', w2:recv())
    assert.is_nil(w1:close())
    assert.is_false(h.fd_is_open(fd1))
    local r = h.pack(w2:recv())
    assert.is_nil(r[1]); assert.is_nil(r[2]); assert.is_nil(r[3])
    w2:close()
    assert.is_false(h.fd_is_open(fd2))
  end)

  it('wraps a TCP fd with its options and addresses', function()
    local fd = core.sock_open(net.AF_INET, net.SOCK_STREAM, 0, 0)
    assert.is_true(fd >= 0, 'sock_open: ' .. net.strerror(fd))
    local w = assert(net.wrap(fd))
    assert.is_true(h.is_a(w, stream.Socket))
    assert.are.equal(net.IPPROTO_TCP, w:protocol())
    assert.is_true(w:tcpnodelay(true))
    assert.is_true(w:tcpnodelay())
    w:close()
    assert.is_false(h.fd_is_open(fd))
  end)

  it('wraps a listening stream fd as a net.stream.Server that accepts', function()
    -- a listener made elsewhere (systemd's socket activation hands one over)
    local fd = core.sock_open(net.AF_INET, net.SOCK_STREAM, 0, 0)
    assert.is_true(fd >= 0, 'sock_open: ' .. net.strerror(fd))
    local ai = assert(stream.getaddrinfoin { host = '127.0.0.1', port = 0 })[1]
    assert.are.equal(0, core.sock_bind(fd, ai._addr))
    assert.are.equal(0, core.sock_listen(fd, 8))
    local srv = assert(net.wrap(fd))
    assert.are.equal(stream.Server, getmetatable(srv))
    local c = assert(inet.client.new { host = '127.0.0.1', port = assert(srv:getsockname()):port() })
    local conn = assert(srv:accept())
    assert.are.equal(stream.Socket, getmetatable(conn))
    assert.are.equal(2, c:send('hi'))
    assert.are.equal('hi', (conn:recv()))
    for _, s in ipairs({conn, c, srv}) do s:close() end
    assert.is_false(h.fd_is_open(fd))
  end)

  it('wraps a datagram fd as a net.Socket of that type', function()
    local fd = core.sock_open(net.AF_INET, net.SOCK_DGRAM, 0, 0)
    assert.is_true(fd >= 0, 'sock_open: ' .. net.strerror(fd))
    local w = assert(net.wrap(fd))
    assert.is_true(h.is_a(w, net.Socket))
    assert.is_false(h.is_a(w, stream.Socket))
    assert.are.equal(net.SOCK_DGRAM, w:socktype())
    assert.is_true(w:broadcast(true))
    w:close()
    assert.is_false(h.fd_is_open(fd))
  end)

  it('gives a wrapped datagram socket messages: 0 bytes is an empty datagram, never a close', function()
    local fd1, fd2 = core.sock_pair(net.AF_UNIX, net.SOCK_DGRAM, 0, 0)
    assert.is_true(fd1 >= 0, 'sock_pair: ' .. net.strerror(fd1))
    local a, b = assert(net.wrap(fd1)), assert(net.wrap(fd2))
    assert.is_true(h.is_a(a, net.Socket))
    assert.is_false(h.is_a(a, stream.Socket))
    assert.are.equal(0, a:send(''))
    assert.are.equal(5, a:send('after'))
    assert.are.equal('', (b:recv()))
    assert.are.equal('after', (b:recv()))
    local buf = require('net.buffer').new(16)
    assert.are.equal(0, a:send(''))
    assert.are.equal(0, (b:recvinto(buf)))
    assert.are.equal(0, buf:len())
    assert.is_true(b:nonblock(true))
    assert.same({ n = 3, nil, nil, true }, h.pack(b:recv())) -- nothing queued
    a:close(); b:close()
  end)

  it('reads 0 bytes as the end on a stream socket, the same call as on a datagram one', function()
    local pair = assert(stream.pair())
    pair[1]:close()
    assert.same({ n = 3, nil, nil, nil }, h.pack(pair[2]:recv()))
    pair[2]:close()
  end)

  it('fails with EBADF on a descriptor that is not open', function()
    local pair = assert(stream.pair())
    local fd = pair[1]:fd()
    pair[1]:close()
    pair[2]:close()
    local w, err = net.wrap(fd)
    assert.is_nil(w)
    assert.are.equal(EBADF, err)
  end)
end)

describe('to-be-closed values (Lua 5.4)', function()
  it('a socket and a poll set are closed at the end of their scope, an error included', function()
    if _VERSION ~= 'Lua 5.4' then
      return pending('to-be-closed variables are Lua 5.4\'s')
    end
    local scope = assert(load([[
      local stream, poll, fail = ...
      local pair = assert(stream.pair())
      local a <close> = pair[1]
      local b <close> = pair[2]
      local p <close> = assert(poll.new())
      assert(p:add(a, 'r'))
      _G.TBC = { a = a, b = b, p = p }
      if fail then error('in the scope', 0) end
    ]]))
    local poll = require('net.poll')
    for _, fail in ipairs { false, true } do
      local ok, err = pcall(scope, stream, poll, fail)
      assert.same(fail and { false, 'in the scope' } or { true }, fail and { ok, err } or { ok })
      local t = _G.TBC
      _G.TBC = nil
      assert.equal('net.stream.Socket: closed', tostring(t.a))
      assert.equal('net.stream.Socket: closed', tostring(t.b))
      assert.equal('net.poll: closed', tostring(t.p))
    end
  end)
end)
