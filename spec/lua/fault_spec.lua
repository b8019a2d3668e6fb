-- Faults the library must survive (issue 9): a signal during a blocking call
-- (EINTR is `again`, a timeout still holds, the Lua handler runs), a peer
-- that resets the connection during recv and during send, running out of
-- descriptors (EMFILE) and recovering, full send buffers, and 256 MiB through
-- a non-blocking pair with every byte checked. Loopback and socketpairs only;
-- every wait is bounded.
local net = require('net')
local core = require('net.core')
local stream = require('net.stream')
local inet = require('net.stream.inet')
local h = require('spec.lua.helper')

local KiB, MiB = 1024, 1024 * 1024

local pid, interpreter, shell_quote = h.pid, h.interpreter, h.shell_quote

-- Starts `script` in a child of the same interpreter (through sh, after the
-- shell commands `prefix`, e.g. a ulimit); returns a reader of its output.
local function child(script, prefix)
  local cmd = (prefix or '') .. ' exec ' .. shell_quote(interpreter()) .. ' -e '
    .. shell_quote(script) .. ' 2>&1'
  return assert(io.popen(cmd, 'r'))
end

local function bounded_transfer_done(p)
  local out = p:read('*a')
  p:close()
  return out
end

-- ------------------------------------------------------------- signals --

-- luaposix installs Lua signal handlers without SA_RESTART, so the kernel
-- interrupts a blocking call with EINTR. (A blocking connect is waited for
-- across signals: spec/c/signal_test.c shows it, with a listener whose
-- queue is full, which a Lua handler cannot empty while connect waits.) Debian's lua-posix has no module
-- for every runtime: where it does not load, these specs are pending.
local has_posix, psignal = pcall(require, 'posix.signal')

describe('a signal during a blocking call', function()
  if not has_posix then
    pending('needs luaposix (posix.signal), which does not load on ' .. _VERSION
      .. ' here (Debian packages lua-posix for fewer runtimes than lua-net supports)')
    return
  end

  local caught
  local function arm(delay)
    caught = 0
    assert(psignal.signal(psignal.SIGUSR1, function() caught = caught + 1 end))
    -- A sibling process sends the signal after delay seconds.
    assert(os.execute(('(sleep %.2f; kill -s USR1 %d) &'):format(delay, pid())))
  end
  local function disarm()
    psignal.signal(psignal.SIGUSR1, psignal.SIG_DFL)
  end
  -- Runs fn, returns its results packed and the seconds it took.
  local function timed(fn, ...)
    local t0 = core.now()
    local r = h.pack(fn(...))
    return r, core.now() - t0
  end
  -- Lets a pending Lua handler run (luaposix runs it from a hook).
  local function settle()
    for _ = 1, 1000 do if caught > 0 then break end end
  end

  local pair
  before_each(function() pair = assert(stream.pair()) end)
  after_each(function()
    disarm()
    net.setwaiter(nil) -- a test's waiter
    pair[1]:close(); pair[2]:close()
  end)

  it('ends a recv without a timeout with again, and the handler runs', function()
    arm(0.3)
    local r, took = timed(pair[1].recv, pair[1], 16)
    settle()
    assert.are.same({n = 3, nil, nil, true}, r)
    assert.is_true(took >= 0.2 and took < 3, 'took ' .. took)
    assert.are.equal(1, caught)
    -- Nothing was lost: the stream still carries data.
    assert.are.equal(2, pair[2]:send('ok'))
    assert.are.equal('ok', pair[1]:recv(16))
  end)

  it('ends a recv under a longer rcvtimeo at the signal, not after the timeout', function()
    assert.are.equal(3, pair[1]:rcvtimeo(3))
    arm(0.3)
    local r, took = timed(pair[1].recv, pair[1], 16)
    settle()
    assert.are.same({n = 3, nil, nil, true}, r)
    -- A restart with a fresh timeout would take 3.3 s.
    assert.is_true(took < 2, 'took ' .. took)
    assert.are.equal(1, caught)
  end)

  it('keeps a rcvtimeo shorter than the time to the signal', function()
    assert.is_true(math.abs(pair[1]:rcvtimeo(0.2) - 0.2) < 0.01)
    arm(1.5)
    local r, took = timed(pair[1].recv, pair[1], 16)
    assert.are.same({n = 3, nil, nil, true}, r)
    assert.is_true(took >= 0.15 and took < 1.2, 'took ' .. took)
    assert.are.equal(0, caught)
    -- The signal comes later: wait for it under the handler, not the default
    -- action (which would end the process).
    assert.is_true(core.poll_fd(pair[1]:fd(), net.POLLIN, 2.5) == 0)
    settle()
    assert.are.equal(1, caught)
  end)

  it('ends a blocking sendfile at the signal once bytes went, as send', function()
    local dir = h.tmpdir()
    h.cleanup(function() h.rmdir(dir) end)
    local path = dir .. '/file'
    local f = assert(io.open(path, 'wb'))
    assert(f:write(h.blob(65536):rep(256))) -- 16 MiB: far more than a pair holds
    f:close()
    -- a safety net: a call that slept on past the signal ends after 3 s
    assert.is_true(math.abs(pair[1]:sndtimeo(3) - 3) < 0.01)
    arm(0.3)
    local r, took = timed(pair[1].sendfile, pair[1], path)
    settle()
    assert.are.equal(3, r.n)
    assert.is_true(r[1] > 0 and r[1] < 16 * MiB, 'sent ' .. tostring(r[1]))
    assert.is_nil(r[2])
    assert.is_true(r[3])
    assert.is_true(took >= 0.2 and took < 2, 'took ' .. took)
    assert.are.equal(1, caught)
  end)

  -- A blocking unix connect to a full backlog that a signal interrupts at
  -- 0.3 s, under a global waiter that accepts one queued client (making
  -- room) at its call number room_at: the connect gets in. Returns how many
  -- times the waiter was asked.
  local function connect_after_signal(room_at)
    local unix = require('net.stream.unix')
    local srv, queued, path = h.full_unix_backlog()
    local asked = 0
    net.setwaiter(function(sock, mode, deadline)
      asked = asked + 1
      if asked == room_at then queued[#queued + 1] = assert(srv:accept()) end
      return net.waiters.poll(sock, mode, deadline)
    end)
    arm(0.3)
    local r, took = timed(unix.client.new, { path = path })
    settle()
    assert.is_truthy(r[1], tostring(r[2]))
    queued[#queued + 1] = r[1]
    assert.are.equal(1, caught)
    assert.is_true(took >= 0.2 and took < 3, 'took ' .. took)
    return asked
  end

  it('tries a blocking unix connect again after a signal when a waiter applies', function()
    assert.are.equal(1, connect_after_signal(1)) -- room at the wait: one try
  end)

  it('tries it again after pauses while the backlog stays full after the wait', function()
    local asked = connect_after_signal(2) -- room only at the first pause
    assert.is_true(asked >= 2, 'asked ' .. asked)
  end)

  it('keeps a blocking socket\'s rcvtimeo when a waiter applies: its tries end by it', function()
    assert.is_true(pair[1]:rcvtimeo(0.5) > 0)
    local deadlines = {}
    net.setwaiter(function(sock, mode, deadline)
      deadlines[#deadlines + 1] = deadline or false
      -- (3 s bounds a wait that had no deadline)
      return net.waiters.poll(sock, mode, deadline or core.now() + 3)
    end)
    arm(0.1)
    local r, took = timed(pair[1].recv, pair[1], 16)
    settle()
    assert.are.same(h.pack(nil, nil, true), r)
    assert.are.equal(1, caught)
    assert.is_true(deadlines[1] ~= false, 'the waiter was given no deadline')
    assert.is_true(took >= 0.4 and took < 1.5, 'took ' .. took)
  end)

  -- recv(10, MSG_WAITALL) on a blocking unix stream with rcvtimeo seconds,
  -- under the global waiter, a signal coming at 0.2 s (before any byte),
  -- while a child connected to it runs `writes` (Lua; c is its client):
  -- the results packed and the seconds the call took.
  local function waitall_after_signal(rcvtimeo, writes)
    local unix = require('net.stream.unix')
    local dir = h.tmpdir()
    h.cleanup(function() h.rmdir(dir) end)
    local path = dir .. '/s'
    local srv = assert(unix.server.new{path = path})
    assert.is_nil(srv:listen())
    local writer = child(("local c = assert(require('net.stream.unix').client.new{path = %q}) ")
      :format(path) .. writes)
    local s = assert(srv:accept())
    assert.is_true(math.abs(s:rcvtimeo(rcvtimeo) - rcvtimeo) < 0.01)
    assert.is_true(net.setwaiter(net.waiters.poll))
    arm(0.2) -- the tries after it wait through the waiter
    local r, took = timed(s.recv, s, 10, net.MSG_WAITALL)
    settle()
    assert.are.equal(1, caught)
    s:close(); srv:close()
    bounded_transfer_done(writer)
    return r, took
  end

  it('keeps MSG_WAITALL on a blocking socket that a waiter retries after a signal', function()
    local r = waitall_after_signal(3, [[
      os.execute('sleep 0.8'); c:send('12345')
      os.execute('sleep 0.3'); c:send('67890')
      os.execute('sleep 1'); c:close()]])
    assert.are.same(h.pack('1234567890'), r)
  end)

  it('ends the rest of that MSG_WAITALL by the rcvtimeo from the signal on', function()
    local r, took = waitall_after_signal(2, [[
      os.execute('sleep 1.5'); c:send('12345')
      os.execute('sleep 2.5'); c:close()]])
    assert.are.same(h.pack('12345'), r)
    -- by 2.2 s; a fresh rcvtimeo for the rest would end it at 3.5 s
    assert.is_true(took >= 2 and took < 3, 'took ' .. took)
  end)

  it('leaves a reset during the rest of that MSG_WAITALL to the next call', function()
    local server = assert(inet.server.new{host = '127.0.0.1'})
    assert.is_nil(server:listen())
    local writer = child(([[
      local c = assert(require('net.stream.inet').client.new{host = '127.0.0.1', port = %d})
      os.execute('sleep 0.6'); c:send('12345')
      os.execute('sleep 0.4'); c:linger(0); c:close()]]):format(server:getsockname():port()))
    local s = assert(server:accept())
    assert.is_true(math.abs(s:rcvtimeo(3) - 3) < 0.01)
    assert.is_true(net.setwaiter(net.waiters.poll))
    arm(0.2)
    local r = timed(s.recv, s, 10, net.MSG_WAITALL)
    settle()
    assert.are.same(h.pack('12345'), r)
    assert.are.same(h.pack(nil, nil, nil, net.strerror(-net.ECONNRESET)), h.pack(s:recv(10)))
    s:close(); server:close()
    bounded_transfer_done(writer)
  end)

  it('does not stop net.loop: the wait goes on, its coroutines finish', function()
    local loop = require('net.loop')
    local p = assert(stream.pair { nonblock = true })
    local got
    arm(0.1) -- comes while the loop waits in net.poll
    loop.spawn(function() loop.sleep(0.4); assert.are.equal(1, p[1]:send('x')) end)
    loop.spawn(function() got = p[2]:recv() end)
    local r, took = timed(pcall, loop.run)
    settle()
    assert.are.same({n = 1, true}, r)
    assert.are.equal('x', got)
    assert.is_true(took >= 0.35 and took < 3, 'took ' .. took)
    assert.are.equal(1, caught)
    p[1]:close(); p[2]:close()
  end)

  it('ends an accept with again, with and without a timeout', function()
    local server = assert(inet.server.new{host = '127.0.0.1'})
    assert.is_nil(server:listen())
    for _, timeo in ipairs({0, 3}) do
      assert.are.equal(timeo, server:rcvtimeo(timeo))
      arm(0.3)
      local r, took = timed(server.accept, server)
      settle()
      assert.are.same({n = 3, nil, nil, true}, r)
      assert.is_true(took < 2, 'took ' .. took)
      assert.are.equal(1, caught)
    end
    server:close()
  end)
end)

-- --------------------------------------------------------- peer resets --

-- A child that connects to port, sends 'hello', waits `wait` seconds, then
-- closes with linger(0): the kernel sends RST instead of FIN.
local RESETTER = [[
local inet = require('net.stream.inet')
local core = require('net.core')
local c = assert(inet.client.new{host = '127.0.0.1', port = %d})
assert(c:send('hello') == 5)
core.poll_fd(c:fd(), 0, %f)
assert(c:linger(0) == 0)
c:close()
print('reset')
]]

describe('a peer that resets the connection', function()
  local server, port
  before_each(function()
    server = assert(inet.server.new{host = '127.0.0.1'})
    assert.is_nil(server:listen())
    port = assert(server:getsockname()):port()
  end)
  after_each(function() server:close() end)

  it('during a blocking recv ends it like the end of the stream', function()
    local p = child(RESETTER:format(port, 0.3))
    assert.are.equal(5, server:rcvtimeo(5))
    local a = assert(server:accept())
    assert.are.equal('hello', h.recv_exact(a, 5))
    assert.are.equal(5, a:rcvtimeo(5))
    local t0 = core.now()
    local r = h.pack(a:recv(16))
    local took = core.now() - t0
    assert.are.equal('reset\n', bounded_transfer_done(p))
    -- The seed's nil, nil, nil, and the reason a cut-off stream ended.
    assert.are.same({n = 4, nil, nil, nil, net.strerror(-net.ECONNRESET)}, r)
    assert.is_true(took < 4, 'took ' .. took)
    -- Once reset, the socket stays at the end (the reset was reported).
    assert.are.same({n = 3}, h.pack(a:recv(16)))
    a:close()
  end)

  it('during a blocking send ends it like the end of the stream, no SIGPIPE', function()
    local p = child(RESETTER:format(port, 0.3))
    assert.are.equal(5, server:rcvtimeo(5))
    local a = assert(server:accept())
    assert.are.equal(5, a:sndtimeo(5))
    local chunk = h.blob(256 * KiB)
    local sent, last = 0, nil
    local t0 = core.now()
    for _ = 1, 100000 do
      last = h.pack(a:send(chunk))
      if last[1] == nil or core.now() - t0 > 10 then break end
      sent = sent + last[1]
    end
    assert.are.equal('reset\n', bounded_transfer_done(p))
    local gone = {[net.strerror(-net.ECONNRESET)] = true, [net.strerror(-net.EPIPE)] = true}
    assert.are.same({n = 4, nil, nil, nil, last[4]}, last)
    assert.is_true(gone[last[4]], tostring(last[4]))
    assert.is_true(sent > 0)
    assert.is_true(core.now() - t0 < 6)
    a:close()
  end)
end)

-- --------------------------------------------------------------- EMFILE --

-- In a child limited to 64 descriptors: sockets until the limit, then
-- "Too many open files" from socket creation and from accept, then both work
-- again once descriptors are freed.
local EMFILE = [[
local net = require('net')
local stream = require('net.stream')
local inet = require('net.stream.inet')
local server = assert(inet.server.new{host = '127.0.0.1'})
assert(server:listen() == nil)
local port = assert(server:getsockname()):port()
local held, err = {}, nil
for _ = 1, 200 do
  local p, e = stream.pair()
  if not p then err = e break end
  held[#held + 1] = p[1]; held[#held + 1] = p[2]
end
io.write('pairs-err=', tostring(err), '\n')
-- A pair needs two descriptors: take any single one left too.
for _ = 1, 2 do
  local s = inet.server.new{host = '127.0.0.1'}
  if s then held[#held + 1] = s end
end
assert(server:rcvtimeo(2) == 2) -- accept never waits for long
-- One free descriptor: a client connects (the kernel queues the connection),
-- then accept has none left.
table.remove(held):close()
local c = assert(inet.client.new{host = '127.0.0.1', port = port})
local a, aerr = server:accept()
io.write('accept-err=', tostring(a == nil and aerr), '\n')
table.remove(held):close()
a = assert(server:accept())
assert(c:send('x') == 1 and a:recv(1) == 'x')
for _ = 1, 4 do table.remove(held):close() end
local again = assert(stream.pair())
io.write('recovered=', tostring(#held > 20), '\n')
for _, s in ipairs(held) do s:close() end
again[1]:close(); again[2]:close(); a:close(); c:close(); server:close()
io.write('done\n')
]]

-- A descriptor passed to a process that has no free number for it: the
-- kernel drops it (MSG_CTRUNC); recvfd must say so, not "none was sent".
local RECVFD_EMFILE = [[
local stream = require('net.stream')
local dgram_unix = require('net.dgram.unix') -- loaded while files can be opened
local p = assert(stream.pair())
local passed = assert(stream.pair())
assert(p[1]:sendfd(passed[1], 'hello') == 5)
assert(p[1]:sendfd(passed[1], 'again') == 5)
local spare = assert(dgram_unix.new()) -- closed to free a number
local held = {}
while true do -- every number taken: pairs, then a single one left
  local s = stream.pair() or dgram_unix.new()
  if not s then break end
  held[#held + 1] = s
end
local fd, err, again, str = p[2]:recvfd()
io.write(('full: %s|%s|%s|%s\n'):format(tostring(fd), tostring(err), tostring(again), tostring(str)))
spare:close()
fd, err, again, str = p[2]:recvfd() -- with a number free again
io.write(('free: %s|%s|%s|%s\n'):format(tostring(fd ~= nil), tostring(err), tostring(again), tostring(str)))
]]

describe('running out of descriptors', function()
  it('reports EMFILE from socket creation and accept, and recovers', function()
    local p = child(EMFILE, 'ulimit -n 64 &&')
    local out = bounded_transfer_done(p)
    local emfile = net.strerror(-net.EMFILE)
    assert.are.equal(table.concat({
      'pairs-err=' .. emfile, 'accept-err=' .. emfile, 'recovered=true', 'done', ''}, '\n'), out)
  end)

  it('reports a descriptor recvfd had no number for, with the bytes it came with', function()
    local out = bounded_transfer_done(child(RECVFD_EMFILE, 'ulimit -n 64 &&'))
    local emfile = net.strerror(-net.EMFILE)
    assert.are.equal('full: nil|' .. emfile .. '|nil|hello\nfree: true|nil|nil|again\n', out)
  end)
end)

-- ---------------------------------------------------------------- bulk --

-- Sends everything of data over src (non-blocking) to dst: sends until the
-- kernel takes nothing more, then receives all that is ready, and again.
-- Returns what arrived and how many sends were partial (some bytes, again)
-- and how many found the buffer full (0, again). Bounded by a 20 s deadline.
local function pump(src, dst, data)
  local got, pos, received, partial, full = {}, 1, 0, 0, 0
  local t0 = core.now()
  while received < #data do
    while pos <= #data do
      local n, err, again = src:send(pos == 1 and data or data:sub(pos))
      assert(n, err)
      pos = pos + n
      if again and n > 0 then partial = partial + 1 end
      if again and n == 0 then full = full + 1 break end
    end
    h.readable(dst, 1)
    while true do
      local s, err, again = dst:recv(64 * KiB)
      if not s then assert(again, err or 'end of stream') break end
      got[#got + 1] = s
      received = received + #s
    end
    assert(core.now() - t0 < 20, 'transfer stalled')
  end
  return table.concat(got), partial, full
end

describe('a full send buffer', function()
  it('with a tiny sndbuf reports partial sends, and every byte arrives', function()
    local pair = assert(stream.pair{nonblock = true})
    local small = pair[1]:sndbuf(4096)
    assert.is_true(small <= 16 * KiB, 'sndbuf ' .. small)
    local data = h.blob(MiB)
    local got, partial, full = pump(pair[1], pair[2], data)
    assert.is_nil(h.first_diff(data, got))
    assert.is_true(partial > 0, 'no partial send')
    assert.is_true(full > 0, 'the buffer never filled')
    pair[1]:close(); pair[2]:close()
  end)
end)

describe('256 MiB through a non-blocking pair', function()
  it('arrives whole and in order', function()
    -- The stream repeats a block of PERIOD bytes (not a power of two, so
    -- no chunk boundary lines up with it); each received piece is compared
    -- with its expected bytes by one string comparison (memcmp in C).
    local PERIOD = MiB + 7
    local block = h.blob(PERIOD)
    local twice = block .. block
    local total = 256 * MiB
    local pair = assert(stream.pair{nonblock = true})
    local src, dst = pair[1], pair[2]
    local sent, received, bad = 0, 0, nil
    local pending_s = nil
    local t0 = core.now()
    while received < total do
      if sent < total then
        if not pending_s then
          local o = sent % PERIOD
          pending_s = twice:sub(o + 1, o + math.min(PERIOD, total - sent))
        end
        local n, err = src:send(pending_s)
        assert(n, err)
        sent = sent + n
        pending_s = n < #pending_s and pending_s:sub(n + 1) or nil
      end
      local s, err, again = dst:recv(MiB)
      if s then
        local o = received % PERIOD
        if not bad and s ~= twice:sub(o + 1, o + #s) then bad = received end
        received = received + #s
      else
        assert(again, err or 'end of stream')
        if sent >= total then h.readable(dst, 1) end
      end
      assert(core.now() - t0 < 60, 'transfer stalled')
    end
    assert.is_nil(bad, 'first bad piece at offset ' .. tostring(bad))
    assert.are.equal(total, received)
    assert.are.equal(total, sent)
    assert.are.same({n = 3, nil, nil, true}, h.pack(dst:recv(16)))
    src:close(); dst:close()
  end)
end)
