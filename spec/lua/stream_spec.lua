-- net.stream: pair{}, byte-exact bulk transfer, end-of-stream and peer-closed
-- results, non-blocking "again", and the stream options on a unix pair.
local net = require('net')
local stream = require('net.stream')
local h = require('spec.lua.helper')

local MiB = 1024 * 1024

local function assert_closed_result(...)
  local r = h.pack(...)
  assert(r[1] == nil and r[2] == nil and r[3] == nil,
    'expected nil, nil, nil (peer closed), got ' .. tostring(r[1]) .. ', '
      .. tostring(r[2]) .. ', ' .. tostring(r[3]))
end

local function assert_again(expect_first, ...)
  local r = h.pack(...)
  assert(r[1] == expect_first and r[2] == nil and r[3] == true,
    'expected ' .. tostring(expect_first) .. ', nil, true (again), got '
      .. tostring(r[1]) .. ', ' .. tostring(r[2]) .. ', ' .. tostring(r[3]))
end

local function close_all(list)
  for _, s in ipairs(list) do s:close() end
end

describe('net.stream.pair', function()
  it('returns a list of two connected net.stream.Socket', function()
    local pair = assert(stream.pair())
    assert.are.equal(2, #pair)
    for _, s in ipairs(pair) do
      assert.are.equal(stream.Socket, getmetatable(s))
      assert.are.equal(net.SOCK_STREAM, s:socktype())
      assert.are.equal(net.AF_UNIX, s:family())
      assert.is_false(s:nonblock())
    end
    assert.are.equal(2, pair[1]:send('hi'))
    assert.are.equal('hi', pair[2]:recv())
    assert.are.equal(3, pair[2]:send('yes'))
    assert.are.equal('yes', pair[1]:recv())
    close_all(pair)
  end)

  it('accepts an empty options table', function()
    local pair = assert(stream.pair {})
    assert.is_false(pair[1]:nonblock())
    close_all(pair)
  end)

  it('nonblock = true makes both ends non-blocking', function()
    local pair = assert(stream.pair { nonblock = true })
    assert.is_true(pair[1]:nonblock())
    assert.is_true(pair[2]:nonblock())
    close_all(pair)
  end)

  it('nonblock = false leaves both ends blocking', function()
    local pair = assert(stream.pair { nonblock = false })
    assert.is_false(pair[1]:nonblock())
    assert.is_false(pair[2]:nonblock())
    close_all(pair)
  end)
end)

describe('a stream pair', function()
  local a, b

  before_each(function()
    local pair = assert(stream.pair())
    a, b = pair[1], pair[2]
  end)

  after_each(function()
    a:close()
    b:close()
  end)

  describe('carries 1 MiB of binary data byte-exact', function()
    local data = h.blob(MiB)

    local function check(src, dst)
      local got, sends = h.transfer(src, dst, data)
      assert.are.equal(#data, #got)
      assert(got == data, 'data differs at byte ' .. tostring(h.first_diff(got, data)))
      -- 1 MiB does not fit the socket buffer: the first send is partial.
      assert.is_true(sends[1].n < sends[1].asked)
      for i, s in ipairs(sends) do
        if s.n < s.asked then
          assert(s.again == true, 'send #' .. i .. ' was partial without again')
        else
          assert(s.again == nil, 'send #' .. i .. ' sent all but said again')
        end
      end
    end

    it('from the first end to the second', function()
      check(a, b)
    end)

    it('from the second end to the first', function()
      check(b, a)
    end)
  end)

  describe('when the peer closes', function()
    it('recv drains what was sent, then returns nil, nil, nil', function()
      assert.are.equal(3, a:send('bye'))
      a:close()
      assert.are.equal('bye', b:recv())
      assert_closed_result(b:recv())
      assert_closed_result(b:recv()) -- and stays so
    end)

    it('send returns nil, nil, nil (EPIPE) and no SIGPIPE kills us', function()
      a:close()
      -- the fourth value tells the cut-off stream from a clean end
      local EPIPE = net.strerror(-net.EPIPE)
      assert.same(h.pack(nil, nil, nil, EPIPE), h.pack(b:send('into the void')))
      assert.same(h.pack(nil, nil, nil, EPIPE), h.pack(b:send('again')))
      -- Still alive and working: a new pair talks.
      local pair = assert(stream.pair())
      assert.are.equal(2, pair[1]:send('ok'))
      assert.are.equal('ok', pair[2]:recv())
      close_all(pair)
    end)
  end)

  describe('non-blocking', function()
    it('recv with nothing queued returns nil, nil, true', function()
      assert.is_true(b:nonblock(true))
      assert_again(nil, b:recv())
      assert.are.equal(1, a:send('x'))
      assert.is_true(h.readable(b, 5))
      assert.are.equal('x', b:recv())
      assert_again(nil, b:recv())
    end)

    it('send into a full buffer returns 0, nil, true', function()
      assert.is_true(a:nonblock(true))
      local chunk = h.blob(64 * 1024)
      local sent, last, went = 0, nil, {}
      for _ = 1, 1000 do -- a unix buffer holds far less than 64 MiB
        last = h.pack(a:send(chunk))
        assert(type(last[1]) == 'number', 'send failed: ' .. tostring(last[2]))
        if last[1] == 0 then break end
        sent = sent + last[1]
        went[#went + 1] = chunk:sub(1, last[1]) -- a partial send's part
      end
      assert_again(0, last[1], last[2], last[3])
      assert.is_true(sent > 0)
      assert.is_false(h.writable(a, 0))
      -- Draining the peer makes room again; the bytes are the ones sent,
      -- and no more.
      assert.is_true(table.concat(went) == h.recv_exact(b, sent), 'other bytes arrived')
      h.nothing_queued(b)
      assert.is_true(h.writable(a, 5))
      assert.is_true(a:send('z') == 1)
    end)
  end)

  describe('net.stream.Socket options', function()
    it('acceptconn() is false on a connected socket', function()
      assert.is_false(a:acceptconn())
    end)

    for _, opt in ipairs { 'oobinline', 'keepalive' } do
      it(opt .. '(true) reads back true, false clears it', function()
        assert.is_false(a[opt](a))
        assert.is_true(a[opt](a, true))
        assert.is_true(a[opt](a))
        assert.is_false(a[opt](a, false))
        assert.is_false(a[opt](a))
      end)
    end

    it('TCP options on a unix socket fail with the kernel\'s error', function()
      for _, opt in ipairs { 'tcpnodelay', 'tcpcork', 'tcpkeepalive', 'tcpkeepintvl', 'tcpkeepcnt' } do
        local v, err = a[opt](a)
        assert(v == nil and err == net.strerror(-net.EOPNOTSUPP),
          opt .. '() returned ' .. tostring(v) .. ', ' .. tostring(err))
      end
    end)
  end)
end)
