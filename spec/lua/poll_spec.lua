-- net.poll: readiness of many sockets over real loopback sockets and unix
-- pairs: 'r', 'w', 'rw', timeouts, hang-ups, mod and del, raw fds, closed
-- sockets and reused fd numbers (never a stale event), forget(), argument
-- errors, fds above 1024 and 10,000 registered sockets (under a raised
-- RLIMIT_NOFILE, in a child process when this one's limit is too low).
local net = require('net')
local poll = require('net.poll')
local h = require('spec.lua.helper')

local EBADF_MSG = h.EBADF_MSG
local ENOENT_MSG = net.strerror(-net.ENOENT)
local EEXIST_MSG = net.strerror(-net.EEXIST)

-- The round of the last wait as {sock = ev, ...} and its length.
local function round(p)
  local got, n = {}, 0
  for sock, ev in p:ready() do
    assert(got[sock] == nil, 'a socket twice in one round')
    got[sock], n = ev, n + 1
  end
  return got, n
end

-- Waits (at most 5 s) and returns the round.
local function wait_round(p, timeout)
  local n, err = p:wait(timeout or 5)
  assert(n, err)
  local got, count = round(p)
  assert.are.equal(n, count)
  return got, n
end

describe('net.poll', function()
  local p, a, b
  before_each(function()
    p = assert(poll.new())
    a, b = h.pair()
  end)
  after_each(function()
    p:close()
    a:close()
    b:close()
  end)

  it('makes sets that close once', function()
    assert.are.equal('table', type(p))
    assert.are.equal(poll.Poll, getmetatable(p))
    assert.truthy(tostring(p):match('^net%.poll: fd %d+$'))
    local q = assert(poll.new())
    assert.is_true(q:close())
    assert.are.equal('net.poll: closed', tostring(q))
    assert.same({nil, EBADF_MSG}, {q:close()})
    assert.same({nil, EBADF_MSG}, {q:add(a, 'r')})
    assert.same({nil, EBADF_MSG}, {q:mod(a, 'r')})
    assert.same({nil, EBADF_MSG}, {q:del(a)})
    assert.same({nil, EBADF_MSG}, {q:wait(0)})
  end)

  it('POLL_WAITABLE says whether a set\'s handle is readable while a registration is ready', function()
    local function handle_readable() return require('net.core').poll_fd(p[1], net.POLLIN, 0) == 1 end
    assert.is_false(handle_readable())
    assert.is_true(p:add(b, 'r'))
    assert.are.equal(1, a:send('x'))
    assert.is_true(h.readable(b, 2))
    assert.are.equal(net.POLL_WAITABLE == 1, handle_readable())
  end)

  it('reports a readable socket, once per wait while data waits (level-triggered)', function()
    assert.is_true(p:add(b, 'r'))
    assert.are.equal(0, p:wait(0))
    assert.are.equal(0, select(2, round(p)))
    assert.are.equal(2, a:send('hi'))
    local got, n = wait_round(p)
    assert.are.equal(1, n)
    assert.are.equal('r', got[b])
    assert.same({[b] = 'r'}, (wait_round(p, 0)))
    assert.are.equal('hi', b:recv())
    assert.are.equal(0, p:wait(0))
  end)

  it('waits its timeout, returns 0 at once for 0 and for a negative timeout', function()
    assert.is_true(p:add(b, 'r'))
    local t0 = net.now()
    assert.are.equal(0, p:wait(0.05))
    local waited = net.now() - t0
    assert.is_true(waited >= 0.05 and waited < 2, 'waited ' .. waited .. ' s, not 0.05')
    t0 = net.now()
    assert.are.equal(0, p:wait(0))
    assert.are.equal(0, p:wait(-1))
    assert.is_true(net.now() - t0 < 0.5)
  end)

  it('waits without limit for nil, until a socket is ready', function()
    -- a child connects after 0.2 s: wait(nil) returns then, with the
    -- listener ready, not at once (as a look would) nor never
    local srv, port = h.tcp_server('127.0.0.1')
    local client
    h.cleanup(function()
      srv:close() -- a connection not accepted yet is reset: the child ends
      if client then client:close() end
    end)
    assert.is_true(p:add(srv, 'r'))
    client = h.late_client(port, 0.2)
    local took, r = h.timed(p.wait, p, nil)
    assert.same({[srv] = 'r'}, (round(p)))
    assert.same(h.pack(1), r)
    assert.is_true(took >= 0.15, took)
    local conn = assert(srv:accept())
    assert.are.equal(1, conn:send('x'))
    assert.are.equal('', client:read('*a'))
    conn:close()
  end)

  it("reports 'w', and 'rw' when both hold", function()
    assert.is_true(p:add(b, 'rw'))
    assert.same({[b] = 'w'}, (wait_round(p, 0)))
    assert.are.equal(1, a:send('x'))
    assert.same({[b] = 'rw'}, (wait_round(p)))
  end)

  it("reports a hang-up as 'r' (the read then sees the end)", function()
    assert.is_true(p:add(b, 'r'))
    a:close()
    assert.same({[b] = 'r'}, (wait_round(p)))
    assert.same({n = 3}, h.pack(b:recv()))
  end)

  it('reports a TCP peer gone on loopback as r, and a listener with a connection as r', function()
    local hosts = {'127.0.0.1'}
    if h.has_ipv6() then hosts[2] = '::1' end
    for _, host in ipairs(hosts) do
      local srv, port = h.tcp_server(host)
      assert.is_true(p:add(srv, 'r'))
      assert.are.equal(0, p:wait(0))
      local c = assert(require('net.stream.inet').client.new{host = host, port = port})
      assert.same({[srv] = 'r'}, (wait_round(p)))
      local s = assert(srv:accept())
      assert.is_true(p:del(srv))
      assert.is_true(p:add(c, 'r'))
      assert.is_true(p:add(s, 'w'))
      assert.same({[s] = 'w'}, (wait_round(p)))
      assert.is_true(p:mod(s, 'r'))
      assert.are.equal(3, s:send('abc'))
      assert.same({[c] = 'r'}, (wait_round(p)))
      assert.are.equal('abc', c:recv())
      s:close()
      assert.same({[c] = 'r'}, (wait_round(p)))
      assert.same({n = 3}, h.pack(c:recv()))
      assert.is_true(p:del(c))
      c:close()
      srv:close()
    end
  end)

  it('stops reporting a socket after del; del and mod of one not in the set fail', function()
    assert.is_true(p:add(b, 'r'))
    assert.are.equal(1, a:send('x'))
    assert.is_true(p:del(b))
    assert.are.equal(0, p:wait(0))
    assert.same({nil, ENOENT_MSG}, {p:del(b)})
    assert.same({nil, ENOENT_MSG}, {p:mod(b, 'r')})
    assert.is_true(p:add(b, 'r')) -- and back
    assert.same({[b] = 'r'}, (wait_round(p)))
  end)

  it('changes the events with mod', function()
    assert.is_true(p:add(b, 'r'))
    assert.are.equal(0, p:wait(0))
    assert.is_true(p:mod(b, 'w'))
    assert.same({[b] = 'w'}, (wait_round(p, 0)))
    assert.is_true(p:mod(b, 'r'))
    assert.are.equal(0, p:wait(0))
  end)

  it('refuses a second add of the same socket', function()
    assert.is_true(p:add(b, 'r'))
    assert.same({nil, EEXIST_MSG}, {p:add(b, 'w')})
  end)

  it('takes raw fd numbers of foreign descriptors and reports them as numbers', function()
    local fd = assert(b:fd())
    assert.is_true(p:add(fd, 'r'))
    assert.are.equal(1, a:send('x'))
    assert.same({[fd] = 'r'}, (wait_round(p)))
    assert.is_true(p:mod(fd, 'w'))
    assert.same({[fd] = 'w'}, (wait_round(p, 0)))
    assert.is_true(p:del(fd))
    assert.same({nil, EBADF_MSG}, {p:add(-1, 'r')})
    assert.same({nil, EBADF_MSG}, {p:add(2 ^ 31, 'r')})
  end)

  it('never yields a closed socket', function()
    assert.is_true(p:add(b, 'r'))
    assert.are.equal(1, a:send('x'))
    b:close()
    assert.are.equal(0, p:wait(0))
    assert.are.equal(0, p:wait(0.02))
    assert.same({nil, EBADF_MSG}, {p:del(b)})
    assert.same({nil, EBADF_MSG}, {p:add(b, 'r')})
  end)

  it('skips a socket of the round that a handler closed', function()
    local c, d = h.pair()
    assert.is_true(p:add(b, 'r'))
    assert.is_true(p:add(d, 'r'))
    assert.are.equal(1, a:send('x'))
    assert.are.equal(1, c:send('y'))
    assert.are.equal(2, p:wait(5))
    local seen = {}
    for sock in p:ready() do
      seen[#seen + 1] = sock
      if sock == b then d:close() else b:close() end
    end
    assert.are.equal(1, #seen)
    c:close()
    d:close()
  end)

  it('reports a reused fd number as the new socket only', function()
    assert.is_true(p:add(b, 'r'))
    local number = b:fd()
    assert.are.equal(1, a:send('x'))
    b:close()
    a:close()
    -- new sockets take the lowest free numbers: one of the first few takes
    -- b's (lower ones may be free too, left by earlier tests' sockets)
    local made, reused, other = {}, nil, nil
    for _ = 1, 16 do
      local c, d = h.pair()
      made[#made + 1], made[#made + 2] = c, d
      if c:fd() == number then reused, other = c, d end
      if d:fd() == number then reused, other = d, c end
      if reused then break end
    end
    assert.is_truthy(reused, 'no new socket took the number ' .. number)
    assert.are.equal(0, p:wait(0)) -- not registered: nothing
    assert.are.equal(1, other:send('z'))
    assert.are.equal(0, p:wait(0))
    assert.is_true(p:add(reused, 'r'))
    assert.same({[reused] = 'r'}, (wait_round(p)))
    for _, s in ipairs(made) do s:close() end
  end)

  it('skips a socket of the round removed and added again since the wait', function()
    assert.is_true(p:add(b, 'r'))
    assert.are.equal(1, a:send('x'))
    assert.are.equal(1, p:wait(5))
    assert.is_true(p:del(b))
    assert.is_true(p:add(b, 'w')) -- a new registration: the round's 'r' is not its event
    assert.are.same({{}, 0}, {round(p)})
  end)

  it('skips a raw fd of the round whose number was removed, reused and added since', function()
    local number = b:fd()
    assert.is_true(p:add(number, 'r'))
    assert.are.equal(1, a:send('x'))
    assert.are.equal(1, p:wait(5))
    assert.is_true(p:del(number))
    b:close()
    a:close()
    local c, d = h.pair() -- the lowest free numbers: the old one among them
    assert.are.equal(number, c:fd() == number and c:fd() or d:fd())
    assert.is_true(p:add(number, 'r')) -- the new, idle descriptor
    assert.are.same({{}, 0}, {round(p)})
    c:close()
    d:close()
  end)

  it('forget(sock) removes a socket from every set it is in', function()
    local q = assert(poll.new())
    assert.is_true(p:add(b, 'r'))
    assert.is_true(q:add(b, 'rw'))
    assert.is_nil(poll.forget(b))
    assert.are.equal(1, a:send('x'))
    assert.are.equal(0, p:wait(0))
    assert.are.equal(0, q:wait(0))
    assert.same({nil, ENOENT_MSG}, {p:del(b)})
    assert.same({nil, ENOENT_MSG}, {q:del(b)})
    assert.is_nil(poll.forget(b)) -- in no set: nothing to do
    assert.is_nil(poll.forget(a))
    assert.is_true(q:close())
  end)

  it('leaves sockets open when the set closes', function()
    assert.is_true(p:add(b, 'r'))
    assert.is_true(p:close())
    assert.are.equal(1, a:send('x'))
    assert.are.equal('x', b:recv())
    p = assert(poll.new()) -- for after_each
  end)

  it('gives its handle back when collected without close', function()
    local q = assert(poll.new())
    local pfd = q[1] -- the handle (internal field, the set's fd)
    assert.is_true(q:add(b, 'r'))
    q = nil -- luacheck: ignore 311
    for _ = 1, 4 do collectgarbage() end
    assert.is_false(h.fd_is_open(pfd))
  end)

  it('holds a socket no more once it is deleted, even one its last wait reported', function()
    local q = assert(poll.new())
    local fd
    do
      local pair = assert(require('net.stream').pair { nonblock = true })
      fd = pair[1]:fd()
      assert.is_true(q:add(pair[1], 'r'))
      assert.are.equal(1, pair[2]:send('x'))
      assert.are.equal(1, q:wait(0))
      for sock in q:ready() do assert.is_true(q:del(sock)) end
    end
    -- dropped: the collector closes it, with no wait of the set in between
    for _ = 1, 4 do collectgarbage() end
    assert.is_false(h.fd_is_open(fd))
    assert.are.equal(0, q:wait(0))
    assert.is_true(q:close())
  end)

  it('raises for arguments of the wrong type', function()
    h.raises("bad argument #1 to 'add' (socket or fd expected, got string)", p.add, p, 'x', 'r')
    h.raises("bad argument #1 to 'add' (socket or fd expected, got nil)", p.add, p, nil, 'r')
    h.raises("bad argument #1 to 'add' (number has no integer representation)", p.add, p, 1.5, 'r')
    -- a table is a socket object only when [1] holds a descriptor number
    for _, t in ipairs({{b:fd() + 0.5}, {2 ^ 32 + b:fd()}, {0 / 0}, {-2}, {'3'}}) do
      h.raises("bad argument #1 to 'add' (socket or fd expected, got table)", p.add, p, t, 'r')
    end
    h.raises("bad argument #2 to 'add' (string expected, got number)", p.add, p, b, 1)
    h.raises("bad argument #2 to 'add' (events must be 'r', 'w' or 'rw')", p.add, p, b, 'x')
    h.raises("bad argument #2 to 'mod' (events must be 'r', 'w' or 'rw')", p.mod, p, b, 'wr')
    h.raises("bad argument #1 to 'del' (socket or fd expected, got boolean)", p.del, p, true)
    h.raises("bad argument #1 to 'wait' (number expected, got string)", p.wait, p, '1')
    assert.are.equal(0, p:wait(0)) -- nothing was registered meanwhile
  end)
end)

-- Many registrations. The body runs in this process when its fd limit is
-- enough, else in a child started with `ulimit -n` raised to what it needs
-- (within the hard limit), else the test is pending with the reason.
local MANY = [==[
local count, expect_high = ...
local poll = require('net.poll')
local stream = require('net.stream')
local p = assert(poll.new())
local socks, top = {}, 0
for i = 1, count / 2 do
  local pair = assert(stream.pair())
  socks[2 * i - 1], socks[2 * i] = pair[1], pair[2]
end
for i = 1, count do
  assert(p:add(socks[i], 'r') == true)
  if socks[i]:fd() > top then top = socks[i]:fd() end
end
assert(not expect_high or top > 1024, 'no fd above 1024: the highest is ' .. top)
assert(p:wait(0) == 0, 'something is ready before any data')
-- three sockets made readable: the first, one in the middle, the last
local chosen = {1, count / 2 + 1, count}
for _, i in ipairs(chosen) do
  local peer = socks[i % 2 == 1 and i + 1 or i - 1]
  assert(peer:send('x') == 1)
end
local n = assert(p:wait(5))
assert(n == 3, 'expected 3 ready, got ' .. n)
local got = {}
for sock, ev in p:ready() do
  assert(ev == 'r')
  got[sock] = true
end
for _, i in ipairs(chosen) do assert(got[socks[i]], 'socket ' .. i .. ' not reported') end
assert(p:close() == true)
for i = 1, count do socks[i]:close() end
return top
]==]

local function limits()
  local f = assert(io.open('/proc/self/limits', 'r'))
  local text = f:read('*a')
  f:close()
  local soft, hard = text:match('Max open files%s+(%S+)%s+(%S+)')
  return tonumber(soft) or math.huge, tonumber(hard) or math.huge
end

local interpreter = h.interpreter

-- Runs MANY for count sockets with at least need descriptors allowed.
local function run_many(count, need, expect_high)
  local soft, hard = limits()
  if soft >= need then
    local fn = assert((loadstring or load)(MANY)) -- luacheck: ignore 113
    return fn(count, expect_high)
  end
  if hard < need then
    return nil, ('RLIMIT_NOFILE hard limit %s is below the %d descriptors needed'):format(tostring(hard), need)
  end
  local dir = h.tmpdir()
  local script = dir .. '/many.lua'
  local f = assert(io.open(script, 'w'))
  f:write('local top = (function(...)\n', MANY, '\nend)(', count, ', ', tostring(expect_high),
          ')\nio.write("top ", top, "\\n")\n')
  f:close()
  local cmd = ("sh -c 'ulimit -n %d && exec \"$0\" \"$1\"' '%s' '%s' 2>&1"):format(need, interpreter(), script)
  local p = assert(io.popen(cmd))
  local out = p:read('*a')
  p:close()
  h.rmdir(dir)
  local top = tonumber(out:match('^top (%d+)\n$'))
  assert(top, 'the child failed: ' .. out)
  return top
end

describe('net.poll across fork()', function()
  it("leaves the parent's set alone: a child's add, wait and close do not reach it", function()
    if type(jit) ~= 'table' then
      -- libnet's own check, on every build: spec/c/pollset_test.c (test_fork)
      return pending('fork() from Lua: LuaJIT FFI only (PUC Lua has no fork)')
    end
    local ffi = require('ffi')
    pcall(ffi.cdef, 'int fork(void); void _exit(int); int waitpid(int, int *, int);')
    local p = assert(poll.new())
    local a, b = h.pair()
    assert.is_true(p:add(a, 'r'))
    local pid = ffi.C.fork()
    if pid == 0 then -- the child: nothing here may raise, it must reach _exit
      local ok = pcall(function()
        local c = h.pair()
        local r1 = h.pack(p:add(c, 'r'))
        local r2 = h.pack(p:wait(0))
        a:close() -- a fork-per-connection server's child closes the listener
        assert(r1[1] == nil and r1[2] == EBADF_MSG and r2[1] == nil and r2[2] == EBADF_MSG)
        assert(p:close())
      end)
      ffi.C._exit(ok and 0 or 1)
    end
    assert.is_true(pid > 0)
    local status = ffi.new('int[1]')
    assert.equal(pid, ffi.C.waitpid(pid, status, 0))
    assert.equal(0, status[0])
    assert.equal(1, b:send('x'))
    local got, n = wait_round(p, 2)
    assert.equal(1, n)
    assert.equal('r', got[a])
    p:close(); a:close(); b:close()
  end)
end)

describe('net.poll with many sockets', function()
  if not h.LINUX then
    pending('the descriptor limits are read from /proc: Linux only')
    return
  end

  it('works with fds above 1024 (no select, no FD_SETSIZE)', function()
    local top, why = run_many(1200, 1400, true)
    if not top then return pending(why) end
    assert.is_true(top > 1024)
  end)

  it('works with 10,000 registered sockets', function()
    local top, why = run_many(10000, 10300, true)
    if not top then return pending(why) end
    assert.is_true(top >= 10000)
  end)
end)
