-- Deadlines of accept and connect (sock:settimeout, client.new{timeout},
-- client:connect()), and the pauses of a unix connect to a full backlog,
-- on real loopback sockets.
-- Times are checked with generous bounds (a loaded machine is slow, never
-- fast): a deadline must expire, not early, and not much later.
local net = require('net')
local stream = require('net.stream')
local inet = require('net.stream.inet')
local h = require('spec.lua.helper')

local ETIMEDOUT = net.strerror(-net.ETIMEDOUT)
local timed = h.timed

-- A unix connect to a listener whose backlog is full says "try again" while
-- poll says writable: under a deadline it goes on in pauses (net.util.wait
-- Pauses), each a wait through the waiter on a quiet socket of the call's.
describe('the pauses of a unix connect to a full backlog', function()
  local unix = require('net.stream.unix')

  -- The quiet socket is the call's: closed when the call ends, not left to
  -- the collector (stopped here, so a leak shows as descriptors that stay).
  it('close their quiet socket when the call ends', function()
    local _, _, path = h.full_unix_backlog()
    collectgarbage('stop')
    local before = h.fd_count()
    local results = {}
    for i = 1, 20 do results[i] = h.pack(unix.client.new { path = path, timeout = 0.02 }) end
    local after = h.fd_count()
    collectgarbage('restart')
    for i = 1, 20 do
      if results[i][1] then results[i][1]:close() end
      assert.same({ n = 2, nil, ETIMEDOUT }, results[i])
    end
    assert.equals(before, after)
  end)

  -- A pause ends at the deadline at the latest, not a whole step (up to
  -- 16 ms) after it. Load only lengthens a call, so the shortest of a few
  -- tells. The pauses (1, 2, 4, 8, then 16 ms) end at 1, 3, 7, 15, 31, 47 ms: at
  -- a deadline of 32 ms a pause not cut to it would end at 47 ms. The
  -- shortest of ten calls (load only makes a call longer) leaves 10 ms for
  -- a late wake-up.
  it('never run past the deadline', function()
    local _, _, path = h.full_unix_backlog()
    local shortest = math.huge
    for _ = 1, 10 do
      local t, r = timed(unix.client.new, { path = path, timeout = 0.032 })
      if r[1] then r[1]:close() end
      assert.same({ n = 2, nil, ETIMEDOUT }, r)
      if t < shortest then shortest = t end
    end
    assert.is_true(shortest >= 0.027 and shortest < 0.042, 'took at least ' .. shortest)
  end)
end)

describe('accept and connect with deadlines', function()
  it('accept on a server with a timeout: nil, nil, true when nobody comes', function()
    local srv = h.tcp_server('127.0.0.1')
    assert.is_true(srv:settimeout(0.15))
    local t, r = timed(srv.accept, srv)
    assert.same({ n = 3, nil, nil, true }, r)
    assert.is_true(t >= 0.13 and t < 2, 'took ' .. t)
    srv:close()
  end)

  it('accept waits for a client that comes in time', function()
    local srv, port = h.tcp_server('127.0.0.1')
    local client
    h.cleanup(function()
      srv:close()
      if client then client:close() end
    end)
    assert.is_true(srv:settimeout(5))
    client = h.late_client(port, 0.2) -- comes while accept waits
    local t, r = timed(srv.accept, srv)
    local s = assert(r[1], r[2])
    assert.is_true(h.is_a(s, stream.Socket))
    assert.is_true(t >= 0.15 and t < 5, 'took ' .. t)
    assert.equals(1, s:send('x'))
    assert.equals('', client:read('*a'))
    s:close()
  end)

  it('client.new{timeout} connects and keeps the timeout', function()
    local srv, port = h.tcp_server('127.0.0.1')
    local c = assert(inet.client.new { host = '127.0.0.1', port = port, timeout = 2 })
    assert.equals(2, c:gettimeout())
    local s = assert(srv:accept())
    assert.equals(2, c:send('hi'))
    assert.equals('hi', s:recv())
    local t, r = timed(c.recv, c) -- nothing comes: the kept timeout
    assert.same({ n = 3, nil, nil, true }, r)
    assert.is_true(t >= 1.9 and t < 5, 'took ' .. t)
    s:close(); c:close(); srv:close()
  end)

  it('client.new{timeout} reports a refusal as the refusal', function()
    local holder, port = h.refusing_port('127.0.0.1')
    local c, err = inet.client.new { host = '127.0.0.1', port = port, timeout = 2 }
    assert.is_nil(c)
    assert.equals(net.strerror(-net.ECONNREFUSED), err)
    holder:close()
  end)

  -- A listener with a full accept queue drops further SYNs (Linux,
  -- tcp_abort_on_overflow = 0): a connect to it goes on until its deadline.
  -- The port of such a listener on host (default 127.0.0.1), closed with
  -- its queued clients when the test ends.
  local function full_backlog_port(host)
    host = host or '127.0.0.1'
    local srv, port = h.tcp_server(host)
    assert.is_nil(srv:listen(0))
    local queued = {}
    for i = 1, 8 do
      queued[i] = inet.client.new { host = host, port = port, nonblock = true }
    end
    h.cleanup(function()
      for _, q in pairs(queued) do q:close() end
      srv:close()
    end)
    return port
  end

  -- A client.new{timeout} result r that took t: ETIMEDOUT within the
  -- deadline's bounds (pending on a kernel that let it in).
  local function timed_out(t, r, timeout)
    if r[1] then
      r[1]:close()
      return pending('this kernel completed the handshake with a full accept queue')
    end
    assert.same({ n = 2, nil, ETIMEDOUT }, r)
    assert.is_true(t >= timeout - 0.02 and t < timeout + 2, 'took ' .. t)
  end

  it('client.new{timeout} gives up with ETIMEDOUT when the handshake never completes', function()
    local port = full_backlog_port()
    local t, r = timed(inet.client.new, { host = '127.0.0.1', port = port, timeout = 0.3 })
    timed_out(t, r, 0.3)
  end)

  -- Two addresses of one client (the list client.new resolves), for the
  -- rules of trying the next one: 127.0.0.1 at port, then at port2 (nil:
  -- port again).
  local make = require('net.util.make')
  local function two_addresses(port, port2)
    local function at(p) return assert(stream.getaddrinfoin { host = '127.0.0.1', port = p })[1] end
    return { at(port), at(port2 or port) }
  end

  -- Counts the connect primitive's calls until the test ends: returns a
  -- function that gives the count so far. fail_first: the first call
  -- returns this error code (negative) instead of connecting.
  local function count_connects(fail_first)
    local core = require('net.core')
    local real, calls = core.sock_connect, 0
    core.sock_connect = function(fd, addr)
      calls = calls + 1
      if calls == 1 and fail_first then return fail_first end
      return real(fd, addr)
    end
    h.cleanup(function() core.sock_connect = real end)
    return function() return calls end
  end

  it('the deadline passing ends the tries: no address after it gets a wait of its own', function()
    local port = full_backlog_port()
    local connects = count_connects()
    local t, r = timed(make.connect_new, inet.Client, two_addresses(port), nil, 0.3)
    timed_out(t, r, 0.3)
    assert.equals(1, connects()) -- the second address is not tried
  end)

  -- The same with a second address that would connect at once: the first
  -- (::1, its accept queue full) used the whole deadline, so the tries end
  -- there with ETIMEDOUT; 127.0.0.1, listening, is never tried.
  it('the deadline passing ends the tries: a listening address after it is not tried', function()
    if not h.has_ipv6() then return pending('no usable ::1 here') end
    local srv4, port4 = h.tcp_server('127.0.0.1')
    h.close_at_end(srv4)
    local ais = {
      assert(stream.getaddrinfoin { host = '::1', port = full_backlog_port('::1') })[1],
      assert(stream.getaddrinfoin { host = '127.0.0.1', port = port4 })[1],
    }
    local t, r = timed(make.connect_new, inet.Client, ais, nil, 0.3)
    if r[1] then
      local peer = assert(r[1]:getpeername()):addr()
      r[1]:close()
      assert.are.equal('::1', peer, 'the address after the deadline was tried')
      return pending('this kernel completed the handshake with a full accept queue')
    end
    assert.same({ n = 2, nil, ETIMEDOUT }, r)
    assert.is_true(t >= 0.28 and t < 2.3, 'took ' .. t)
  end)

  -- A kernel's own ETIMEDOUT (SYNs unanswered for minutes) is one address's
  -- failure, like a refusal; only the deadline's expiry ends the tries. The
  -- first connect's result stands in for the kernel's here (the real one
  -- takes tcp_syn_retries, over a minute).
  for _, timeout in ipairs({ false, 5 }) do
    it(('a kernel ETIMEDOUT of one address moves on to the next (%s)'):format(
        timeout and 'a deadline not yet passed' or 'no deadline'), function()
      local srv, port = h.tcp_server('127.0.0.1')
      h.close_at_end(srv)
      local connects = count_connects(-net.ETIMEDOUT)
      local c = assert(make.connect_new(inet.Client, two_addresses(port), nil, timeout or nil))
      assert.equals(2, connects())
      local s = assert(srv:accept())
      assert.equals(2, c:send('hi'))
      assert.equals('hi', h.recv_exact(s, 2))
      s:close(); c:close()
    end)
  end

  it('client.new{timeout} tries the next address after a failure', function()
    -- the list client.new resolves: a port that refuses, then one that
    -- listens (a name that resolves to both is not certain on every host)
    local holder, refusing = h.refusing_port('127.0.0.1')
    local srv, port = h.tcp_server('127.0.0.1')
    h.close_at_end(holder, srv)
    local c = assert(make.connect_new(inet.Client, two_addresses(refusing, port), nil, 2))
    local s = assert(srv:accept())
    assert.equals(2, c:send('hi'))
    assert.equals('hi', h.recv_exact(s, 2))
    s:close(); c:close()
  end)

  it('timeout must be a number of seconds, 0 or more', function()
    h.raises("bad argument #1 to 'new' (option 'timeout' must be a number of seconds, 0 or more)",
             inet.client.new, { host = '127.0.0.1', port = 1, timeout = -1 })
    h.raises("bad argument #1 to 'new' (option 'timeout' must be number, got string)",
             inet.client.new, { host = '127.0.0.1', port = 1, timeout = '1' })
  end)
end)

describe('client:connect() with a waiter, a deadline or a mode of the client', function()
  local srv, port, c, ends
  before_each(function()
    srv, port = h.tcp_server('127.0.0.1')
    c, ends = nil, {}
  end)
  after_each(function()
    if c then c:close() end
    for _, s in ipairs(ends) do s:close() end
    srv:close()
  end)

  -- Accepts c's connection and checks that bytes flow on it; its server
  -- end stays open until the test ends.
  local function connected()
    local s = assert(srv:accept())
    ends[#ends + 1] = s
    assert.equals(2, c:send('ok'))
    assert.equals('ok', h.recv_exact(s, 2))
  end

  it("waits through the client's own waiter, and stays non-blocking underneath", function()
    c = assert(inet.client.new { host = '127.0.0.1', port = port })
    assert(srv:accept()):close()
    local modes = {}
    assert.is_true(c:setwaiter(function(sock, mode, deadline)
      -- the connect waits on the socket it makes (a client of c's class), c's fd once made
      assert.equals(inet.Client, getmetatable(sock))
      modes[#modes + 1] = mode
      if mode == 'w' then return net.waiters.poll(sock, mode, deadline) end
      return false -- a read gives up at once
    end))
    assert.is_true(c:nonblock())
    assert.is_nil(c:connect())
    for _, mode in ipairs(modes) do assert.equals('w', mode) end -- the connect's, if it had to wait
    assert.is_true(c:nonblock())
    connected()
    -- a read that would block asks the waiter, never blocks the thread
    local t, r = timed(c.recv, c)
    assert.same({ n = 3, nil, nil, true }, r)
    assert.equals('r', modes[#modes])
    assert.is_true(t < 1, 'took ' .. t)
    -- the new fd is non-blocking for the waiter only
    assert.is_true(c:setwaiter(nil))
    assert.is_false(c:nonblock())
  end)

  it('leaves its pending connection to the collector when the waiter raises', function()
    c = assert(inet.client.new { host = '127.0.0.1', port = port })
    local first = assert(srv:accept())
    ends[#ends + 1] = first
    assert.is_true(c:setwaiter(function() error('cancelled') end))
    local ok, err = pcall(c.connect, c)
    assert.is_false(ok)
    assert.truthy(tostring(err):find('cancelled', 1, true))
    collectgarbage()
    collectgarbage()
    assert.is_true(srv:settimeout(1))
    local second = assert(srv:accept())
    ends[#ends + 1] = second
    assert.is_true(second:settimeout(1))
    -- the half-made connection was closed by the collector: its end of stream
    assert.same({ n = 3, nil, nil, nil }, h.pack(second:recv(16)))
    -- and the client kept its first connection
    assert.equals(1, c:send('k'))
    assert.equals('k', first:recv(16))
  end)

  it('keeps the deadline: non-blocking underneath for it only', function()
    c = assert(inet.client.new { host = '127.0.0.1', port = port, timeout = 2 })
    assert(srv:accept()):close()
    assert.is_true(c:settimeout(0.1))
    assert.is_nil(c:connect())
    assert.is_true(c:nonblock())
    connected()
    local t, r = timed(c.recv, c)
    assert.same({ n = 3, nil, nil, true }, r)
    assert.is_true(t >= 0.08 and t < 2, 'took ' .. t)
    assert.is_true(c:settimeout(nil))
    assert.is_false(c:nonblock())
  end)

  for _, made_nonblock in ipairs({ false, true }) do
    it(("keeps the program's own nonblock(%s) of a client made with nonblock = %s"):format(
        tostring(not made_nonblock), tostring(made_nonblock)), function()
      c = assert(inet.client.new { host = '127.0.0.1', port = port, nonblock = made_nonblock })
      assert(srv:accept()):close()
      assert.equals(not made_nonblock, c:nonblock(not made_nonblock))
      assert.is_nil(c:connect())
      assert.equals(not made_nonblock, c:nonblock())
      if not made_nonblock then assert.is_true(h.writable(c, 5)) end -- under way
      connected()
    end)
  end
end)
