-- The garbage collector closes what the program forgot, exactly once: never
-- a descriptor that close() already gave back and the kernel handed out again.
local net = require('net')
local stream = require('net.stream')
local inet = require('net.stream.inet')
local unix = require('net.stream.unix')
local h = require('spec.lua.helper')

-- Two full cycles: the first runs finalizers, the second frees what they
-- released (5.1/LuaJIT userdata and ffi.gc cdata both finish in one, but a
-- second pass costs nothing and removes any doubt).
local function collect()
  collectgarbage('collect')
  collectgarbage('collect')
end

-- How many sockets may exist at once without nearing the descriptor limit
-- (ulimit -n is often 1024): an even number, at most 1000.
local function batch_size()
  local room = h.fd_limit() - h.fd_count() - 64
  assert(room >= 64, 'too few free descriptors to run the GC spec')
  room = math.min(1000, room)
  return room - room % 2
end

-- Makes n sockets (n/2 pairs) and drops them; returns their fd numbers. The
-- sockets live only in this function's frame, so nothing on the caller's
-- stack still refers to them when it collects.
local function make_and_drop(n, before)
  local batch = {}
  for i = 1, n, 2 do
    local pair = assert(stream.pair())
    batch[i], batch[i + 1] = pair[1], pair[2]
  end
  assert(h.fd_count() == before + n, 'the batch did not open ' .. n .. ' descriptors')
  local fds = {}
  for i, s in ipairs(batch) do fds[i] = s:fd() end
  return fds
end

describe('garbage collection', function()
  before_each(collect)

  it('closes 10,000 sockets dropped without close', function()
    local before = h.fd_count()
    local total, per_batch = 10000, batch_size()
    local made, fds = 0, nil
    while made < total do
      fds = make_and_drop(math.min(per_batch, total - made), before)
      made = made + #fds
      collect()
      assert.are.equal(before, h.fd_count())
    end
    assert.are.equal(total, made)
    for _, fd in ipairs(fds) do
      assert(not h.fd_is_open(fd), 'fd ' .. fd .. ' is still open')
    end
  end)

  it('closes dropped servers, clients and accepted sockets of every class', function()
    local dir = h.tmpdir()
    h.cleanup(function() h.rmdir(dir) end)
    local before = h.fd_count()
    local function make_all()
      local srv, port = h.tcp_server('127.0.0.1')
      local c = assert(inet.client.new { host = '127.0.0.1', port = port })
      local s = assert(srv:accept())
      local path = dir .. '/gc.sock'
      local usrv = assert(unix.server.new { path = path })
      assert.is_nil(usrv:listen())
      local uc = assert(unix.client.new { path = path })
      local us = assert(usrv:accept())
      assert.is_nil(c:connect()) -- the reconnected client's new fd, too
      local s2 = assert(srv:accept())
      local fds = {}
      for _, sock in ipairs { srv, c, s, s2, usrv, uc, us } do fds[#fds + 1] = sock:fd() end
      os.remove(path)
      return fds
    end
    for _ = 1, 20 do
      local fds = make_all()
      collect()
      for _, fd in ipairs(fds) do
        assert(not h.fd_is_open(fd), 'fd ' .. fd .. ' is still open')
      end
    end
    assert.are.equal(before, h.fd_count())
  end)

  it('never closes a reused fd number after close()', function()
    local pair = assert(stream.pair())
    local fd = pair[1]:fd()
    assert.is_nil(pair[1]:close())
    -- The kernel hands out the lowest free number: the new pair gets fd.
    local fresh = assert(stream.pair())
    assert.are.equal(fd, fresh[1]:fd())
    -- A weak table proves the closed socket really was collected.
    local probe = setmetatable({ [pair[1]] = true }, { __mode = 'k' })
    pair = nil -- luacheck: ignore 311 (the closed socket becomes garbage)
    collect()
    assert.is_nil(next(probe))
    assert.is_true(h.fd_is_open(fd))
    assert.are.equal(fd, fresh[1]:fd())
    assert.are.equal(net.SOCK_STREAM, fresh[1]:socktype())
    assert.are.equal(5, fresh[1]:send('alive'))
    assert.are.equal('alive', fresh[2]:recv())
    assert.are.equal(4, fresh[2]:send('back'))
    assert.are.equal('back', fresh[1]:recv())
    fresh[1]:close()
    fresh[2]:close()
  end)

  it('never closes a reused fd number after many close() calls', function()
    -- Many closed sockets become garbage while their numbers are in use by
    -- live ones; every live socket must survive the collection.
    local probe = setmetatable({}, { __mode = 'k' })
    local live = {}
    local n = math.floor(batch_size() / 2) -- live pairs: two descriptors each
    for i = 1, n do
      local pair = assert(stream.pair())
      pair[1]:close()
      pair[2]:close()
      probe[pair[1]], probe[pair[2]] = true, true
      live[i] = assert(stream.pair()) -- takes the numbers just closed
    end
    collect()
    assert.is_nil(next(probe)) -- every closed socket was collected
    for i, pair in ipairs(live) do
      assert(pair[1]:send('x') == 1, 'live pair ' .. i .. ' lost its fd')
      assert.are.equal('x', pair[2]:recv())
      pair[1]:close()
      pair[2]:close()
    end
  end)

  it('the reconnected client\'s old fd is not closed again by the collector', function()
    local srv, c, s1 = h.tcp_trio('127.0.0.1')
    local old = c:fd()
    assert.is_nil(c:connect())
    local s2 = assert(srv:accept()) -- may take the old number
    local fresh = assert(stream.pair()) -- or this does
    collect()
    for _, sock in ipairs { s2, fresh[1], fresh[2] } do
      assert.is_true(h.fd_is_open(sock:fd()))
    end
    assert.are.equal(2, c:send('ok'))
    assert.are.equal('ok', h.recv_exact(s2, 2))
    assert.are.equal(1, fresh[1]:send('y'))
    assert.are.equal('y', fresh[2]:recv())
    assert.is_false(old == c:fd())
    for _, sock in ipairs { srv, c, s1, s2, fresh[1], fresh[2] } do sock:close() end
  end)

  -- An object with a finalizer (made first, so finalized after the socket's
  -- guard where the collector goes newest first) says goodbye on its
  -- socket; a finalizer run between the two opens sockets, which may take
  -- the number the guard gave back. The goodbye must reach its own peer or
  -- find the socket closed: never another socket.
  local finalizable = require('net.util.collect').on_collect

  it('a finalizer made before require("net") may close its socket at exit: no crash', function()
    -- at exit the collector goes newest first on 5.1 and LuaJIT: the
    -- handles of net.capi and libnet come before such a finalizer (which
    -- jumped into an unloaded library before they stayed loaded)
    local script = [[
      local holder = {}
      holder.hook = require('net.util.collect').on_collect(function()
        local pair = holder.stream.pair() -- lua-net's code, called at exit
        io.write('closing: ', tostring((holder.sock:close())), ' ', tostring((pair[1]:close())), '\n')
      end)
      holder.stream = require('net.stream')
      holder.sock = assert(require('net.stream.inet').server.new { host = '127.0.0.1', port = 0 })
      KEEP = holder
    ]]
    -- the end of the script; an exit that closes the state (5.1's os.exit never does)
    local endings = { '' }
    if _VERSION ~= 'Lua 5.1' or type(jit) == 'table' then endings[2] = 'os.exit(0, true)' end
    -- on LuaJIT, also a program that declared libc's dladdr its own way
    -- before lua-net (whose declaration then stands), and calls it after
    local starts = { '' }
    if type(jit) == 'table' then
      starts[2] = [[
        local ffi = require('ffi')
        ffi.cdef('typedef struct { const char *f; void *b; const char *s; void *a; } Dl_info;'
          .. 'int dladdr(const void *addr, Dl_info *info);')
        local mine = ffi.new('Dl_info')
        AFTER = function() assert(ffi.C.dladdr(ffi.cast('void *', ffi.C.dladdr), mine) ~= 0) end
      ]]
    end
    for _, start in ipairs(starts) do
      for _, ending in ipairs(endings) do
        local out, rc = h.sh(h.shell_quote(h.interpreter()) .. ' -e '
          .. h.shell_quote(start .. script .. (start ~= '' and 'AFTER()\n' or '') .. ending))
        assert.equal(0, rc, out)
        assert.matches('^closing: [%a ]+ nil\n$', out)
      end
    end
  end)

  it('a finalizer may load lua-net modules (LuaJIT ran a compiled copy loop for ever)', function()
    local script = [[
      require('net.stream')
      local hook = require('net.util.collect').on_collect(function()
        for _, m in ipairs { 'net.dgram', 'net.dgram.unix', 'net.stream.unix', 'net.reader' } do require(m) end
        io.write('loaded\n')
      end)
      hook = nil -- luacheck: ignore 311
      collectgarbage()
      io.write('end\n')
    ]]
    local out, rc = h.sh('timeout 20 ' .. h.shell_quote(h.interpreter()) .. ' -e ' .. h.shell_quote(script))
    assert.are.same({ 0, 'loaded\nend\n' }, { rc, out })
  end)

  it('closes dropped poll sets and the sockets in them in one collection', function()
    local poll = require('net.poll')
    collect()
    local before = h.fd_count() -- sockets only: the sets' own handles are counted below
    local handles = {}
    for i = 1, 50 do
      local set, pair = assert(poll.new()), assert(stream.pair())
      handles[i] = tonumber(tostring(set):match('fd (%d+)$'))
      assert.is_true(set:add(pair[1], 'r'))
      assert.is_true(set:add(pair[2], 'r'))
    end
    assert.are.equal(before + 100, h.fd_count())
    collectgarbage('collect') -- one (the guard of a set must not keep its sockets for another)
    for i = 1, 50 do
      assert.is_false(h.fd_is_open(handles[i]), 'the handle of set ' .. i .. ' is open')
    end
    assert.are.equal(before, h.fd_count())
  end)

  it("a finalizer reaching a poll set the collector closed finds it closed, never another's", function()
    local poll = require('net.poll')
    local said, fresh, pair
    do
      local holder = {}
      -- made before the set: run after the set's guard, in the same collection
      holder.hook = finalizable(function()
        fresh = assert(poll.new()) -- may take the number the old set's handle had
        pair = assert(stream.pair())
        said = h.pack(holder.set:add(pair[1], 'r'))
      end)
      holder.set = assert(poll.new())
    end
    collect()
    assert.are.same(h.pack(nil, net.strerror(-net.EBADF)), said)
    assert.is_true(fresh:add(pair[1], 'r')) -- the fresh set never had it
    assert.is_true(pair[2]:send('x') == 1)
    assert.are.equal(1, fresh:wait(1))
    fresh:close(); pair[1]:close(); pair[2]:close()
  end)

  it("a finalizer reaching a socket the collector closed finds it closed, never another's", function()
    for _, reconnected in ipairs { false, true } do
      local said, fresh, peer
      local function conn()
        local c = {}
        c.hook = finalizable(function() said = h.pack(c.sock:send('bye')) end)
        c.other = finalizable(function() fresh = { assert(stream.pair()), assert(stream.pair()) } end)
        if reconnected then -- the guard came from connect(): the client's new fd
          local srv, client, s1 = h.tcp_trio('127.0.0.1')
          assert.is_nil(client:connect())
          peer = assert(srv:accept())
          srv:close(); s1:close()
          c.sock = client
        else
          local pair = assert(stream.pair())
          c.sock, peer = pair[1], pair[2]
        end
      end
      conn()
      collect()
      assert.is_table(fresh)
      for _, pair in ipairs(fresh) do
        for _, sock in ipairs(pair) do
          assert.is_true(sock:settimeout(0))
          assert.same({ n = 3, nil, nil, true }, h.pack(sock:recv(10)), 'a goodbye on a new socket')
        end
      end
      if said[1] == 3 then -- still open (LuaJIT's FFI finalizes the guard later)
        assert.equal('bye', peer:recv(10))
      else
        assert.same({ n = 2, nil, h.EBADF_MSG }, said)
      end
      peer:close()
      for _, pair in ipairs(fresh) do pair[1]:close(); pair[2]:close() end
    end
  end)
end)
