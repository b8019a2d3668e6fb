-- net.stream.unix: servers and clients on paths inside a private temporary
-- directory, the host= alias, long paths, reconnect.
local net = require('net')
local stream = require('net.stream')
local unix = require('net.stream.unix')
local h = require('spec.lua.helper')


local function close_all(...)
  for i = 1, select('#', ...) do
    local s = select(i, ...)
    if s then s:close() end
  end
end

describe('unix stream sockets', function()
  local dir, path

  before_each(function()
    dir = h.tmpdir()
    path = dir .. '/server.sock'
  end)

  after_each(function()
    h.rmdir(dir)
  end)

  local function listening()
    local srv = assert(unix.server.new { path = path })
    assert.is_nil(srv:listen())
    return srv
  end

  it('server.new binds the path (a socket file appears), not listening yet', function()
    local srv = assert(unix.server.new { path = path })
    assert.are.equal(unix.Server, getmetatable(srv))
    assert.are.equal('net.stream.unix.Server', unix.Server._NAME)
    assert.is_true(h.is_a(srv, stream.Server))
    assert.is_true(h.exists(path))
    assert.are.equal(net.AF_UNIX, srv:family())
    assert.are.equal(net.SOCK_STREAM, srv:socktype())
    assert.is_false(srv:acceptconn())
    local ai = assert(srv:getsockname())
    assert.are.equal(path, ai:addr())
    assert.are.equal(path, tostring(ai))
    assert.is_nil(ai:port())
    assert.is_nil(srv:listen())
    assert.is_true(srv:acceptconn())
    srv:close()
  end)

  it('client.new connects; accept returns the connection; data flows both ways', function()
    local srv = listening()
    local c = assert(unix.client.new { path = path })
    assert.are.equal(unix.Client, getmetatable(c))
    assert.are.equal('net.stream.unix.Client', unix.Client._NAME)
    local s = assert(srv:accept())
    assert.are.equal(stream.Socket, getmetatable(s))
    assert.are.equal(net.AF_UNIX, s:family())
    assert.are.equal(path, assert(c:getpeername()):addr())
    assert.are.equal(path, assert(s:getsockname()):addr())
    -- The client is not bound: both ends see an unnamed address.
    assert.are.equal('', assert(c:getsockname()):addr())
    assert.are.equal('', assert(s:getpeername()):addr())
    local data = h.blob(256 * 1024)
    for _, dir_ in ipairs { { c, s }, { s, c } } do
      local got = h.transfer(dir_[1], dir_[2], data)
      assert(got == data, 'data differs at byte ' .. tostring(h.first_diff(got, data)))
    end
    close_all(srv, c, s)
  end)

  it('client.new accepts host= as an alias of path=', function()
    local srv = listening()
    local c = assert(unix.client.new { host = path })
    local s = assert(srv:accept())
    assert.are.equal(path, assert(c:getpeername()):addr())
    assert.are.equal(3, c:send('via'))
    assert.are.equal('via', h.recv_exact(s, 3))
    close_all(srv, c, s)
  end)

  it('a path too long for sun_path is "File name too long", never truncated', function()
    local long = dir .. '/' .. string.rep('x', 200)
    local srv, err = unix.server.new { path = long }
    assert.is_nil(srv)
    assert.are.equal('File name too long', err)
    assert.are.equal(net.strerror(-net.ENAMETOOLONG), err)
    local c, err2 = unix.client.new { path = long }
    assert.is_nil(c)
    assert.are.equal('File name too long', err2)
    -- Nothing was created under a truncated name either.
    assert.is_false(h.exists(long:sub(1, 107)))
    assert.is_false(h.exists(long:sub(1, 108)))
  end)

  it('a path where nothing listens is "No such file or directory"', function()
    local c, err = unix.client.new { path = dir .. '/nobody' }
    assert.is_nil(c)
    assert.are.equal(net.strerror(-net.ENOENT), err)
    assert.are.equal('No such file or directory', err)
  end)

  it('a closed server refuses connections', function()
    local srv = listening()
    srv:close()
    local c, err = unix.client.new { path = path }
    assert.is_nil(c)
    -- The socket file outlives the socket unless the library removed it.
    if h.exists(path) then
      assert.are.equal('Connection refused', err)
    else
      assert.are.equal('No such file or directory', err)
    end
  end)

  -- Linux's blocking accept on a unix listener whose reading end is shut
  -- says "Invalid argument" at once; a non-blocking one says "try again"
  -- and polls readable. A waiting accept ends as the blocking one does,
  -- not at its deadline (nil, nil, true after 5 s before).
  it('closer() on a listener ends a waiting accept as a blocking one ends', function()
    local srv = listening()
    h.close_at_end(srv)
    assert.is_nil(srv:closer())
    local blocking = h.pack(srv:accept())
    assert.same(h.pack(nil, 'Invalid argument'), blocking)
    local loop = require('net.loop')
    local waiting = assert(unix.server.new { path = dir .. '/waiting.sock', nonblock = true })
    h.close_at_end(waiting)
    assert.is_nil(waiting:listen())
    assert.is_true(waiting:settimeout(5))
    local got
    loop.spawn(function() got = h.pack(waiting:accept()) end)
    loop.spawn(function() loop.sleep(0.05); waiting:closer() end)
    loop.run()
    assert.same(blocking, got)
  end)

  it('binding an existing path is "Address already in use"', function()
    local srv = listening()
    local other, err = unix.server.new { path = path }
    assert.is_nil(other)
    assert.are.equal(net.strerror(-net.EADDRINUSE), err)
    srv:close()
  end)

  it('nonblock = true for server and client', function()
    local srv = assert(unix.server.new { path = path, nonblock = true })
    assert.is_true(srv:nonblock())
    assert.is_nil(srv:listen())
    local r = h.pack(srv:accept())
    assert.is_nil(r[1]); assert.is_nil(r[2]); assert.is_true(r[3])
    local c = assert(unix.client.new { path = path, nonblock = true })
    assert.is_true(c:nonblock())
    assert.is_true(h.readable(srv, 5))
    local s = assert(srv:accept())
    assert.are.equal(2, c:send('nb'))
    assert.are.equal('nb', h.recv_exact(s, 2))
    close_all(srv, c, s)
  end)

  local function full_backlog() return h.full_unix_backlog(path) end

  it('client.new{timeout} on a full backlog waits, then gives up with ETIMEDOUT', function()
    full_backlog()
    local t0 = net.now()
    local c, err = unix.client.new { path = path, timeout = 0.3 }
    local t = net.now() - t0
    assert.is_nil(c)
    assert.are.equal(net.strerror(-net.ETIMEDOUT), err)
    assert.is_true(t >= 0.28 and t < 3, 'took ' .. t)
  end)

  it('client.new{timeout} on a full backlog gets in once the server accepts, without stopping net.loop', function()
    local loop = require('net.loop')
    local srv, queued = full_backlog()
    local c, err, took, ticks, done
    loop.spawn(function() -- the server accepts one queued client 0.1 s from now
      loop.sleep(0.1)
      queued[#queued + 1] = assert(srv:accept())
    end)
    loop.spawn(function() -- counts the loop's turns while the client waits
      ticks = 0
      while not done do
        loop.sleep(0.01)
        ticks = ticks + 1
      end
    end)
    loop.spawn(function()
      local t0 = net.now()
      c, err = unix.client.new { path = path, timeout = 3 }
      took, done = net.now() - t0, true
    end)
    loop.run()
    assert.is_nil(err)
    assert.is_true(took >= 0.09 and took < 2, 'took ' .. took)
    assert.is_true(ticks >= 5, 'the loop ran ' .. ticks .. ' times meanwhile')
    -- the client is the next in the queue
    local s = assert(srv:accept())
    assert.are.equal(3, c:send('got'))
    assert.are.equal('got', h.recv_exact(s, 3))
    queued[#queued + 1], queued[#queued + 2] = c, s
  end)

  it('connect() opens a new connection, then closes the old one', function()
    local srv = listening()
    local c = assert(unix.client.new { path = path })
    local s1 = assert(srv:accept())
    local old = c:fd()
    local r = h.pack(c:connect())
    assert.is_nil(r[1])
    assert.is_nil(r[2])
    assert.are_not.equal(old, c:fd())
    assert.is_false(h.fd_is_open(old))
    r = h.pack(s1:recv())
    assert.is_nil(r[1]); assert.is_nil(r[2]); assert.is_nil(r[3])
    local s2 = assert(srv:accept())
    assert.are.equal(4, c:send('next'))
    assert.are.equal('next', h.recv_exact(s2, 4))
    close_all(srv, c, s1, s2)
  end)

  it('connect() keeps the old connection when the path is gone', function()
    local srv = listening()
    local c = assert(unix.client.new { path = path })
    local s = assert(srv:accept())
    srv:close()
    if h.exists(path) then assert.is_true(os.remove(path)) end
    assert.is_false(h.exists(path))
    local fd = c:fd()
    -- Acting methods return the error itself: local err = c:connect()
    local r = h.pack(c:connect())
    assert.are.equal('No such file or directory', r[1])
    assert.are.equal(1, r.n)
    assert.are.equal(fd, c:fd())
    assert.are.equal(4, c:send('same'))
    assert.are.equal('same', h.recv_exact(s, 4))
    close_all(c, s)
  end)
end)
