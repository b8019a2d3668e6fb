-- net.stream.inet: servers and clients over 127.0.0.1 and ::1, accept,
-- refused connects, reconnect semantics, non-blocking connects, TCP options.
local net = require('net')
local stream = require('net.stream')
local inet = require('net.stream.inet')
local h = require('spec.lua.helper')

local function close_all(...)
  for i = 1, select('#', ...) do
    local s = select(i, ...)
    if s then s:close() end
  end
end

local function assert_closed_result(...)
  local r = h.pack(...)
  assert(r[1] == nil and r[2] == nil and r[3] == nil,
    'expected nil, nil, nil (peer closed), got ' .. tostring(r[1]) .. ', '
      .. tostring(r[2]) .. ', ' .. tostring(r[3]))
end

local loopbacks = {
  { host = '127.0.0.1', family = 'AF_INET', text = '127.0.0.1:%d' },
  { host = '::1', family = 'AF_INET6', text = '[::1]:%d' },
}

for _, lo in ipairs(loopbacks) do
  describe('TCP on ' .. lo.host, function()
    local ipv6_missing = lo.host == '::1' and not h.has_ipv6()
    local test = ipv6_missing and pending or it

    test('server.new binds (not listening yet), listen() makes it accept', function()
      local srv = assert(inet.server.new { host = lo.host, port = 0 })
      assert.are.equal(inet.Server, getmetatable(srv))
      assert.is_true(h.is_a(srv, stream.Server))
      assert.are.equal('net.stream.inet.Server', inet.Server._NAME)
      assert.are.equal(net[lo.family], srv:family())
      assert.is_false(srv:acceptconn())
      local ai = assert(srv:getsockname())
      assert.are.equal(lo.host, ai:addr())
      assert.is_true(ai:port() > 0)
      assert.are.equal(lo.text:format(ai:port()), tostring(ai))
      local r = h.pack(srv:listen())
      assert.is_nil(r[1])
      assert.is_nil(r[2])
      assert.is_true(srv:acceptconn())
      srv:close()
    end)

    test('accept\'s getpeername equals the client\'s getsockname', function()
      local srv, port = h.tcp_server(lo.host)
      local c = assert(inet.client.new { host = lo.host, port = port })
      assert.are.equal(inet.Client, getmetatable(c))
      assert.are.equal('net.stream.inet.Client', inet.Client._NAME)
      assert.is_true(h.is_a(c, stream.Socket))
      local s = assert(srv:accept())
      assert.is_true(h.is_a(s, stream.Socket))
      assert.are.equal(net[lo.family], s:family())
      local peer, mine = assert(s:getpeername()), assert(c:getsockname())
      assert.are.equal(tostring(mine), tostring(peer))
      assert.are.equal(mine:addr(), peer:addr())
      assert.are.equal(mine:port(), peer:port())
      assert.are.equal(lo.host, peer:addr())
      assert.are.equal(port, assert(c:getpeername()):port())
      assert.are.equal(port, assert(s:getsockname()):port())
      close_all(srv, c, s)
    end)

    test('carries 1 MiB of binary data byte-exact both ways', function()
      local srv, c, s = h.tcp_trio(lo.host)
      local data = h.blob(1024 * 1024)
      for _, dir in ipairs { { c, s }, { s, c } } do
        local got = h.transfer(dir[1], dir[2], data)
        assert(got == data, 'data differs at byte ' .. tostring(h.first_diff(got, data)))
      end
      close_all(srv, c, s)
    end)

    test('a refused connect returns nil, "Connection refused"', function()
      local holder, port = h.refusing_port(lo.host)
      local c, err = inet.client.new { host = lo.host, port = port }
      assert.is_nil(c)
      assert.are.equal('Connection refused', err)
      assert.are.equal(net.strerror(-net.ECONNREFUSED), err)
      holder:close()
    end)

    test('port may be given as a string', function()
      local srv, port = h.tcp_server(lo.host)
      local c = assert(inet.client.new { host = lo.host, port = tostring(port) })
      local s = assert(srv:accept())
      assert.are.equal(port, assert(c:getpeername()):port())
      close_all(srv, c, s)
    end)
  end)
end

describe('inet.server.new options', function()
  it('reuseaddr and reuseport are set before bind and read back', function()
    local srv = assert(inet.server.new { host = '127.0.0.1', port = 0, reuseaddr = true, reuseport = true })
    assert.is_true(srv:reuseaddr())
    assert.is_true(srv:reuseport())
    srv:close()
    -- reuseport, set before bind, lets a second socket bind the very address
    -- a listening one holds; reuseaddr alone does not (Linux lets a twin
    -- bind beside a socket that does not listen yet with reuseaddr alone)
    srv = assert(inet.server.new { host = '127.0.0.1', port = 0, reuseport = true })
    assert.is_nil(srv:listen())
    local port = assert(srv:getsockname()):port()
    local twin = assert(inet.server.new { host = '127.0.0.1', port = port, reuseport = true })
    assert.are.equal(port, assert(twin:getsockname()):port())
    local other, err = inet.server.new { host = '127.0.0.1', port = port, reuseaddr = true }
    assert.is_nil(other)
    assert.are.equal(net.strerror(-net.EADDRINUSE), err)
    close_all(srv, twin)
  end)

  it('without reuseport, a taken port is "Address already in use"', function()
    local srv, port = h.tcp_server('127.0.0.1')
    local other, err = inet.server.new { host = '127.0.0.1', port = port }
    assert.is_nil(other)
    assert.are.equal(net.strerror(-net.EADDRINUSE), err)
    srv:close()
  end)

  -- The socket a failed bind opened is closed by server.new itself, not
  -- left to the collector (stopped here, so a leak shows as descriptors
  -- that stay open): a server retrying a busy port must not run out of them.
  it('a failed bind leaves no descriptor open, with the collector stopped', function()
    local srv, port = h.tcp_server('127.0.0.1')
    collectgarbage('stop')
    local before = h.fd_count()
    local results = {}
    for i = 1, 20 do results[i] = h.pack(inet.server.new { host = '127.0.0.1', port = port }) end
    local after = h.fd_count()
    collectgarbage('restart')
    srv:close()
    for i = 1, 20 do
      assert.are.same({ n = 2, nil, net.strerror(-net.EADDRINUSE) }, results[i])
    end
    assert.are.equal(before, after)
  end)

  it('ipv6only is set before bind, either way; an IPv4 address ignores it', function()
    if not h.has_ipv6() then return pending('no ::1 here') end
    -- off: an IPv6 socket bound to an IPv4 address (v4-mapped) takes an IPv4
    -- client; on, Linux refuses that bind. (A bind to ::1 turns it on by
    -- itself: such a socket can have no IPv4 peer.)
    local srv = assert(inet.server.new { host = '::ffff:127.0.0.1', port = 0, ipv6only = false })
    assert.is_false(srv:ipv6only())
    assert.is_nil(srv:listen())
    local c = assert(inet.client.new { host = '127.0.0.1', port = srv:getsockname():port() })
    local conn = assert(srv:accept())
    assert.are.equal('::ffff:127.0.0.1', conn:getpeername():addr())
    for _, s in ipairs { c, conn, srv } do s:close() end
    assert.are.same(h.pack(nil, net.strerror(-net.EINVAL)),
      h.pack(inet.server.new { host = '::ffff:127.0.0.1', port = 0, ipv6only = true }))
    local v4 = assert(inet.server.new { host = '127.0.0.1', port = 0, ipv6only = true })
    v4:close()
    assert.has_error(function() inet.server.new { host = '::1', ipv6only = 1 } end)
  end)

  it('nonblock = true: accept with nothing pending says again', function()
    local srv = assert(inet.server.new { host = '127.0.0.1', port = 0, nonblock = true })
    assert.is_true(srv:nonblock())
    assert.is_nil(srv:listen(4))
    local r = h.pack(srv:accept())
    assert.is_nil(r[1]); assert.is_nil(r[2]); assert.is_true(r[3])
    srv:close()
  end)

  it('no host binds the any address (without listening)', function()
    local srv = assert(inet.server.new { port = 0 })
    local ai = assert(srv:getsockname())
    assert.is_truthy(ai:addr() == '0.0.0.0' or ai:addr() == '::', ai:addr())
    assert.is_true(ai:port() > 0)
    srv:close()
  end)

  it('accept on a socket that does not listen is EINVAL', function()
    local srv = assert(inet.server.new { host = '127.0.0.1', port = 0 })
    local s, err = srv:accept()
    assert.is_nil(s)
    assert.are.equal(net.strerror(-net.EINVAL), err)
    srv:close()
  end)
end)

describe('inet client resolution', function()
  -- With both families for "localhost", one of the two servers below is
  -- reached only by trying the second address after the first is refused.
  local ais = stream.getaddrinfoin { host = 'localhost', port = 1 }
  local families = {}
  for _, ai in ipairs(ais or {}) do families[ai:family()] = ai:addr() end
  local both = families[net.AF_INET] == '127.0.0.1' and families[net.AF_INET6] == '::1'
    and h.has_ipv6()

  ;(both and it or pending)('tries each address of "localhost" in order', function()
    for _, host in ipairs { '127.0.0.1', '::1' } do
      local srv, port = h.tcp_server(host)
      local c = assert(inet.client.new { host = 'localhost', port = port })
      local s = assert(srv:accept())
      assert.are.equal(host, assert(c:getpeername()):addr())
      close_all(srv, c, s)
    end
  end)
end)

describe('inet Client:connect()', function()
  it('opens a new connection, then closes the old one', function()
    local srv, c, s1 = h.tcp_trio('127.0.0.1')
    local old = c:fd()
    local r = h.pack(c:connect())
    assert.is_nil(r[1])
    assert.is_nil(r[2])
    assert.are_not.equal(old, c:fd())
    assert.is_false(h.fd_is_open(old))
    assert_closed_result(s1:recv()) -- the first connection ended
    local s2 = assert(srv:accept())
    assert.are.equal(tostring(assert(c:getsockname())), tostring(assert(s2:getpeername())))
    assert.are.equal(4, c:send('ping'))
    assert.are.equal('ping', h.recv_exact(s2, 4))
    close_all(srv, c, s1, s2)
  end)

  it('keeps the old connection when the new one fails', function()
    local srv, c, s = h.tcp_trio('127.0.0.1')
    srv:close() -- nothing listens on the port any more
    local fd = c:fd()
    -- Acting methods return the error itself: local err = c:connect()
    local r = h.pack(c:connect())
    assert.are.equal('Connection refused', r[1])
    assert.are.equal(1, r.n)
    assert.are.equal(fd, c:fd())
    assert.are.equal(5, c:send('still'))
    assert.are.equal('still', h.recv_exact(s, 5))
    close_all(c, s)
  end)
end)

describe('a non-blocking inet client', function()
  it('returns while connecting; writability and error() == 0 tell success', function()
    local srv, port = h.tcp_server('127.0.0.1')
    local c = assert(inet.client.new { host = '127.0.0.1', port = port, nonblock = true })
    assert.is_true(c:nonblock())
    assert.is_true(h.writable(c, 5))
    assert.are.equal(0, c:error())
    local s = assert(srv:accept())
    assert.are.equal(tostring(assert(c:getsockname())), tostring(assert(s:getpeername())))
    assert.are.equal(2, c:send('nb'))
    assert.are.equal('nb', h.recv_exact(s, 2))
    close_all(srv, c, s)
  end)

  it('reports a refusal through error() == ECONNREFUSED', function()
    local holder, port = h.refusing_port('127.0.0.1')
    local c, err = inet.client.new { host = '127.0.0.1', port = port, nonblock = true }
    if c then -- in progress: the outcome arrives as SO_ERROR
      assert.is_true(h.writable(c, 5))
      assert.are.equal(net.ECONNREFUSED, c:error())
      assert.are.equal(0, c:error()) -- reading SO_ERROR cleared it
      c:close()
    else -- the kernel may refuse at once
      assert.are.equal('Connection refused', err)
    end
    holder:close()
  end)

  it('connect() returns nil with the new connection in progress', function()
    local srv, port = h.tcp_server('127.0.0.1')
    local c = assert(inet.client.new { host = '127.0.0.1', port = port, nonblock = true })
    assert.is_true(h.writable(c, 5))
    local s1 = assert(srv:accept())
    local r = h.pack(c:connect())
    assert.is_nil(r[1])
    assert.is_nil(r[2])
    assert.is_true(c:nonblock())
    assert.is_true(h.writable(c, 5))
    assert.are.equal(0, c:error())
    local s2 = assert(srv:accept())
    assert.are.equal(tostring(assert(c:getsockname())), tostring(assert(s2:getpeername())))
    close_all(srv, c, s1, s2)
  end)
end)

describe('a TCP peer that closed', function()
  it('recv gives nil, nil, nil; send soon gives nil, nil, nil without SIGPIPE', function()
    local srv, c, s = h.tcp_trio('127.0.0.1')
    s:close()
    assert_closed_result(c:recv())
    -- The first send may still be accepted; the peer answers with RST, after
    -- which the kernel reports EPIPE or ECONNRESET.
    local r
    for _ = 1, 50 do
      r = h.pack(c:send('data'))
      if r[1] == nil then break end
      h.wait(c, net.POLLERR + net.POLLHUP, 0.1)
    end
    assert(r[1] == nil and r[2] == nil and r[3] == nil,
      'send to a closed TCP peer returned ' .. tostring(r[1]) .. ', ' .. tostring(r[2]))
    close_all(srv, c)
  end)
end)

describe('TCP options', function()
  local srv, c, s

  h.each(function() return h.tcp_trio('127.0.0.1') end,
    function(x, y, z) srv, c, s = x, y, z end)

  for _, opt in ipairs { 'tcpnodelay', 'tcpcork', 'keepalive', 'oobinline' } do
    it(opt .. '(true) then ' .. opt .. '() == true; false clears it', function()
      assert.is_false(c[opt](c))
      assert.is_true(c[opt](c, true))
      assert.is_true(c[opt](c))
      assert.is_false(c[opt](c, false))
      assert.is_false(c[opt](c))
    end)
  end

  it('tcpkeepalive, tcpkeepintvl (alias tcpintvl), tcpkeepcnt read back', function()
    assert.are.equal(30, c:tcpkeepalive(30))
    assert.are.equal(30, c:tcpkeepalive())
    assert.are.equal(7, c:tcpkeepintvl(7))
    assert.are.equal(7, c:tcpkeepintvl())
    assert.are.equal(7, c:tcpintvl())
    assert.are.equal(9, c:tcpintvl(9))
    assert.are.equal(9, c:tcpkeepintvl())
    assert.are.equal(4, c:tcpkeepcnt(4))
    assert.are.equal(4, c:tcpkeepcnt())
  end)

  it('an out-of-range value is refused by the kernel with EINVAL', function()
    local v, err = c:tcpkeepcnt(1000) -- Linux allows at most 127 probes
    assert.is_nil(v)
    assert.are.equal(net.strerror(-net.EINVAL), err)
    assert.are.equal('Invalid argument', err)
  end)

  it('acceptconn is true on the listening server only', function()
    assert.is_true(srv:acceptconn())
    assert.is_false(c:acceptconn())
    assert.is_false(s:acceptconn())
  end)

  it('the accepted socket is a net.stream.Socket of the server\'s family', function()
    assert.are.equal(stream.Socket, getmetatable(s))
    assert.are.equal(net.AF_INET, s:family())
    assert.are.equal(net.IPPROTO_TCP, s:protocol())
  end)
end)
