-- Message I/O: descriptor passing to a second process, peer credentials,
-- gather writes, sendfile of a 16 MiB file, batches of datagrams. Real
-- sockets only: unix paths in a private temporary folder, 127.0.0.1.
local net = require('net')
local core = require('net.core')
local dgram = require('net.dgram')
local dinet = require('net.dgram.inet')
local dunix = require('net.dgram.unix')
local stream = require('net.stream')
local sunix = require('net.stream.unix')
local loop = require('net.loop')
local msg = require('net.util.msg')
local h = require('spec.lua.helper')

local self_pid, interpreter = h.pid, h.interpreter

local function shell(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read('*a')
  p:close()
  return out
end

local function write_file(path, data)
  local f = assert(io.open(path, 'wb'))
  f:write(data)
  f:close()
end

local function close_all(list)
  for _, s in ipairs(list) do s:close() end
end

-- A deadline (settimeout) that passes before anything had room: the call
-- on a full non-blocking pair from make_pair returns 0 sent (so nothing
-- went, no descriptor either), no error, and again, at the deadline.
local function nothing_sent_at_deadline(make_pair, call)
  local p = assert(make_pair { nonblock = true })
  while (p[1]:send(h.blob(65536))) == 65536 do end -- until it takes less
  while (p[1]:send('x')) == 1 do end -- full
  assert.is_true(p[1]:settimeout(0.1))
  local t0 = net.now()
  assert.are.same(h.pack(0, nil, true), h.pack(call(p[1], p[2])))
  local t = net.now() - t0
  assert.is_true(t >= 0.09, 'took ' .. t)
  close_all(p)
end

describe('message I/O', function()
  local dir
  before_each(function() dir = h.tmpdir() end)

  -- The finalizer tests run in a child process: a small heap, so the
  -- collector runs finalizers inside a receive's copy often (in this
  -- process's large heap, on PUC Lua 5.3 and 5.4, it may not at all). The
  -- child's script gets finalizers(n, fn), n objects whose collection calls
  -- fn, and prints "ran R wrong W"; this returns R and W.
  local FINALIZER_PRELUDE = 'local garbage_with_finalizer = (function() '
    .. h.GARBAGE_WITH_FINALIZER .. ' end)()\n' .. [[
local function finalizers(n, fn)
  for _ = 1, n do garbage_with_finalizer(fn) end
end
collectgarbage('setpause', 0)
collectgarbage('setstepmul', 400)
]]
  local function finalizer_child(name, body)
    local child = dir .. '/' .. name
    write_file(child, FINALIZER_PRELUDE .. body)
    local proc = assert(io.popen(interpreter() .. ' ' .. child .. ' 2>&1'))
    local out = proc:read('*a')
    proc:close()
    local ran, wrong = out:match('^ran (%d+) wrong (%d+)\n$')
    assert(ran, out)
    return tonumber(ran), tonumber(wrong)
  end
  after_each(function() h.rmdir(dir) end)

  describe('sendfd/recvfd', function()
    it('passes a descriptor in-process (datagram pair): the copy works, close-on-exec', function()
      local p = assert(dgram.pair())
      local q = assert(dgram.pair())
      assert.are.equal(5, p[1]:sendfd(q[1], 'hello'))
      local fd, err, again, str = p[2]:recvfd()
      assert.is_nil(err)
      assert.is_nil(again)
      assert.are.equal('hello', str)
      assert.are_not.equal(q[1]:fd(), fd)
      local copy = assert(net.wrap(fd))
      assert.is_true(copy:cloexec())
      assert.are.equal(3, copy:send('via'))
      assert.are.equal('via', (q[2]:recv()))
      copy:close()
      close_all(p)
      close_all(q)
    end)

    it('a passed descriptor shares its file status flags with the sender\'s, as reference.md warns', function()
      local carrier = assert(stream.pair())
      local q = assert(stream.pair())
      h.close_at_end(carrier[1], carrier[2], q[1], q[2])
      assert.are.equal(1, carrier[1]:sendfd(q[1], 'x'))
      local copy = assert(net.wrap((carrier[2]:recvfd())))
      h.close_at_end(copy)
      assert.is_true(copy:settimeout(1)) -- non-blocking underneath
      assert.is_true(q[1]:nonblock())
      assert.same({ n = 3, nil, nil, true }, h.pack(q[1]:recv())) -- "try again", not a block
      assert.is_true(copy:settimeout(nil))
      assert.is_false(q[1]:nonblock())
    end)

    it('hands the descriptor over: the collector never closes it (stream, datagram, after a wait)', function()
      local function check(pair, size, deferred)
        local p = assert(pair())
        local q = assert(stream.pair())
        if deferred then -- recvfd waits for the message (a deadline: the retry's path)
          assert.is_true(p[2]:settimeout(2))
          loop.spawn(function() loop.sleep(0.02); p[1]:sendfd(q[1], 'abcdefgh') end)
        else
          assert.are.equal(8, p[1]:sendfd(q[1], 'abcdefgh'))
        end
        local fd
        loop.spawn(function() fd = p[2]:recvfd(size) end)
        loop.run()
        assert.is_number(fd)
        collectgarbage()
        collectgarbage()
        assert.is_true(h.fd_is_open(fd))
        local copy = net.wrap(fd)
        assert.are.equal(2, copy:send('ok'))
        assert.are.equal('ok', (q[2]:recv()))
        copy:close()
        close_all(p)
        close_all(q)
      end
      check(stream.pair, 8)
      check(dgram.pair, 8)
      check(dgram.pair, 3) -- cut
      check(stream.pair, 8, true)
      check(dgram.pair, 3, true)
    end)

    it('passes what the socket holds when it goes: not a number its close gave to another', function()
      local p = assert(stream.pair())
      assert.is_true(p[1]:nonblock(true))
      assert.is_true(p[2]:nonblock(true))
      repeat local n, _, again = p[1]:send(('x'):rep(65536)) until again and n == 0 -- sendfd must wait
      local x = assert(dinet.new { host = '127.0.0.1', port = 0 })
      local reused
      -- another task closes x while sendfd waits, and its number is taken
      assert.is_true(p[1]:setwaiter(function()
        x:close()
        reused = assert(stream.pair())
        repeat until not p[2]:recv(65536) -- room again (p[2] is non-blocking)
        return true
      end))
      assert.same({ n = 2, nil, h.EBADF_MSG }, h.pack(p[1]:sendfd(x)))
      assert.is_table(reused)
      close_all(p)
      close_all(reused)
    end)

    -- reference.md (Deadlines and waiters): a call the kernel answers with
    -- "try again" waits through the waiter, "then tries again, until it
    -- succeeds". sendfd's try after a wait (msg.lua's sendfd_attempt) was
    -- run by no test but the one above, where it fails: here it succeeds,
    -- for a descriptor given as a number and as a socket object.
    it('a sendfd that waited for room goes once there is room, a number or a socket', function()
      local p = assert(stream.pair())
      local q = assert(dgram.pair())
      assert.is_true(p[1]:nonblock(true))
      assert.is_true(p[2]:nonblock(true))
      local waits = 0
      local function waiter()
        waits = waits + 1
        repeat until not p[2]:recv(65536) -- room again
        return true
      end
      for _, fd in ipairs { q[1]:fd(), q[1] } do
        -- full, without a waiter (with one, send would wait for room)
        assert.is_true(p[1]:setwaiter(nil))
        repeat local n, _, again = p[1]:send(('x'):rep(65536)) until again and n == 0
        assert.is_true(p[1]:setwaiter(waiter))
        local before = waits
        assert.are.equal(5, p[1]:sendfd(fd, 'hello'))
        assert.is_true(waits > before, 'sendfd did not wait')
        assert.is_true(h.readable(p[2], 5))
        local got, err, again, str = p[2]:recvfd()
        assert.are.same({ nil, nil, 'hello' }, { err, again, str })
        local copy = assert(net.wrap(got))
        assert.are.equal(3, copy:send('via'))
        assert.are.equal('via', (q[2]:recv()))
        copy:close()
      end
      close_all(p)
      close_all(q)
    end)

    it('never cuts a datagram silently: a fifth value says it was longer than size', function()
      local p = assert(dgram.pair())
      local q = assert(dgram.pair())
      assert.are.equal(8, p[1]:sendfd(q[1], 'abcdefgh'))
      local r = h.pack(p[2]:recvfd(3))
      assert.are.same(h.pack(r[1], nil, nil, 'abc', 4), r) -- longer than 3: cut
      net.wrap(r[1]):close()
      assert.are.equal(8, p[1]:sendfd(q[1], 'abcdefgh'))
      r = h.pack(p[2]:recvfd(3.0))
      if math.type then assert.are.equal('integer', math.type(r[5])) end -- (as recv's)
      net.wrap(r[1]):close()
      assert.are.equal(8, p[1]:sendfd(q[1], 'abcdefgh'))
      r = h.pack(p[2]:recvfd(8))
      assert.are.same(h.pack(r[1], nil, nil, 'abcdefgh'), r) -- it fit: no cut
      net.wrap(r[1]):close()
      p[1]:send('plain')
      assert.are.same(h.pack(nil, msg.NO_FD, nil, 'pl', 3), h.pack(p[2]:recvfd(2)))
      close_all(p)
      close_all(q)
    end)

    it('says when a message carries no descriptor; the end of a stream is nil, nil, nil', function()
      local p = assert(dgram.pair())
      p[1]:send('plain')
      assert.are.same({nil, msg.NO_FD, nil, 'plain'}, {p[2]:recvfd()})
      close_all(p)
      local srv = assert(sunix.server.new { path = dir .. '/s' })
      assert.is_nil(srv:listen())
      local c = assert(sunix.client.new { path = dir .. '/s' })
      local a = assert(srv:accept())
      a:close()
      assert.are.same(h.pack(nil, nil, nil), h.pack(c:recvfd()))
      c:close()
      srv:close()
    end)

    -- reference.md: a stream reports a peer gone as recv and send do,
    -- nil, nil, nil, reason; a datagram socket's is a failure, nil, err
    it('a peer gone: on a stream nil, nil, nil, reason (as recv, send); on a datagram pair nil, err', function()
      local p = assert(stream.pair())
      h.close_at_end(p[1], p[2])
      assert.are.equal(6, p[2]:send('unread'))
      p[1]:close() -- with bytes unread: the kernel resets the stream
      assert.are.same(h.pack(nil, nil, nil, 'Connection reset by peer'), h.pack(p[2]:recvfd()))
      assert.are.same(h.pack(nil, nil, nil, 'Broken pipe'), h.pack(p[2]:sendfd(p[2])))
      local d = assert(dgram.pair())
      h.close_at_end(d[1], d[2])
      d[1]:close()
      assert.are.same(h.pack(nil, 'Connection refused'), h.pack(d[2]:sendfd(d[2])))
    end)

    it('at its deadline with nothing sent: 0, nil, true', function()
      nothing_sent_at_deadline(dgram.pair, function(s, peer) return s:sendfd(peer) end)
    end)

    it('refuses bad input: no stream message without a byte, closed sockets, wrong types', function()
      local srv = assert(sunix.server.new { path = dir .. '/s' })
      assert.is_nil(srv:listen())
      local c = assert(sunix.client.new { path = dir .. '/s' })
      local p = assert(dgram.pair())
      assert.are.same({nil, 'Invalid argument'}, {c:sendfd(p[1], '')})
      assert.are.equal(0, p[1]:sendfd(p[1], ''), 'a datagram may be empty')
      local fd = assert(p[2]:recvfd())
      net.wrap(fd):close()
      local closed = assert(dgram.pair())
      close_all(closed)
      assert.are.same({nil, h.EBADF_MSG}, {p[1]:sendfd(closed[1])})
      h.raises("bad argument #1 to 'sendfd' (number, socket or file expected, got string)",
        p[1].sendfd, p[1], 'x')
      h.raises("bad argument #2 to 'sendfd' (string expected, got number)", p[1].sendfd, p[1], 0, 1)
      h.raises("bad argument #1 to 'recvfd' (number expected, got string)", p[1].recvfd, p[1], 'x')
      h.raises("bad argument #1 to 'recvfd' (number has no integer representation)",
        c.recvfd, c, 1.5)
      assert.are.same({nil, 'Invalid argument'}, {p[1]:recvfd(0)})
      close_all(p)
      c:close()
      srv:close()
    end)

    it('passes a Lua file\'s descriptor; a closed file is "Bad file descriptor"', function()
      local path = dir .. '/passed-file'
      write_file(path, 'file bytes')
      local p = assert(dgram.pair())
      local f = assert(io.open(path, 'rb'))
      assert.are.equal(1, p[1]:sendfd(f))
      f:close() -- the receiver's descriptor is its own
      local fd = assert(p[2]:recvfd())
      assert.is_true(fd >= 0)
      -- what the passed descriptor reads: the file's bytes, sent from it
      local s = assert(stream.pair())
      assert.are.equal(10, s[1]:sendfile(fd, 10, 0))
      assert.are.equal('file bytes', h.recv_exact(s[2], 10))
      assert.are.same({nil, h.EBADF_MSG}, {p[1]:sendfd(f)})
      assert.are.equal(0, core.sock_close(fd)) -- a file's: net.wrap takes sockets only
      close_all(p)
      close_all(s)
    end)

    it('a passed descriptor is usable in a second process', function()
      -- The child binds a unix datagram socket, says so, receives a
      -- descriptor of one end of our pair and writes through it.
      local child = dir .. '/child.lua'
      write_file(child, ([[
local unix = require('net.dgram.unix')
local net = require('net')
local dgram = require('net.dgram')
local me = assert(unix.new { path = %q })
local parent = assert(dgram.getaddrinfoun { path = %q })[1]
assert(me:settimeout(5))
assert(me:sendto('ready', parent))
local fd, err, _, str = me:recvfd()
assert(fd, err)
local s = assert(net.wrap(fd))
assert(s:send('child got ' .. str) > 0)
print('done')
]]):format(dir .. '/child.sock', dir .. '/parent.sock'))
      local me = assert(dunix.new { path = dir .. '/parent.sock' })
      assert.is_true(me:settimeout(5))
      local p = assert(dgram.pair())
      assert.is_true(p[2]:settimeout(5))
      local proc = assert(io.popen(interpreter() .. ' ' .. child))
      local ready, err, _, from = me:recvfrom()
      assert.are.equal('ready', ready, err)
      assert.are.equal(dir .. '/child.sock', from:addr())
      assert.is_nil(me:connect(from)) -- sendfd goes to the connected peer
      assert.are.equal(1, me:sendfd(p[1], 'x'))
      p[1]:close() -- the child's copy is what remains
      assert.are.equal('child got x', (p[2]:recv()))
      assert.are.equal('done\n', proc:read('*a'))
      proc:close()
      me:close()
      p[2]:close()
    end)
  end)

  describe('a received descriptor that is no socket', function()
    it('net.wrap refuses it, net.close closes it', function()
      -- a child started with /dev/null as its descriptor 3 passes that
      local child = dir .. '/child.lua'
      write_file(child, ([[
local unix = require('net.dgram.unix')
local dgram = require('net.dgram')
local me = assert(unix.new {})
local parent = assert(dgram.getaddrinfoun { path = %q })[1]
assert(me:connect(parent) == nil)
assert(me:sendfd(3, 'file') == 4)
print('done')
]]):format(dir .. '/parent.sock'))
      local me = assert(dunix.new { path = dir .. '/parent.sock' })
      assert.is_true(me:settimeout(5))
      local proc = assert(io.popen(interpreter() .. ' ' .. child .. ' 3</dev/null'))
      local fd, err, _, str = me:recvfd()
      assert.are.equal('file', str, err)
      assert.are.equal('done\n', proc:read('*a'))
      proc:close()
      assert.is_true(h.fd_is_open(fd))
      assert.are.same({nil, 'Socket operation on non-socket'}, {net.wrap(fd)})
      assert.is_nil(net.close(fd))
      assert.is_false(h.fd_is_open(fd))
      assert.are.equal(h.EBADF_MSG, net.close(fd))
      me:close()
    end)

    it('net.close checks its argument', function()
      assert.are.equal(h.EBADF_MSG, net.close(-1))
      assert.are.equal(h.EBADF_MSG, net.close(2 ^ 31))
      h.raises("bad argument #1 to 'close' (number expected, got string)", net.close, '3')
      h.raises("bad argument #1 to 'close' (number has no integer representation)", net.close, 1.5)
    end)
  end)

  describe('peercred', function()
    local function id(flag) return assert(tonumber(shell('id ' .. flag))) end

    it('a pair: this process', function()
      local p = assert(dgram.pair())
      assert.are.same({self_pid(), id('-u'), id('-g')}, {p[1]:peercred()})
      close_all(p)
    end)

    it('a stream client of a server in another process: that process', function()
      local child = dir .. '/server.lua'
      write_file(child, ([[
local unix = require('net.stream.unix')
local srv = assert(unix.server.new { path = %q })
assert(srv:listen() == nil)
local f = assert(io.open('/proc/self/stat'))
print(f:read('*l'):match('^(%%d+)'))
io.stdout:flush()
local c = assert(srv:accept())
c:recv()
]]):format(dir .. '/srv.sock'))
      local proc = assert(io.popen(interpreter() .. ' ' .. child))
      local pid = assert(tonumber(proc:read('*l')))
      local c = assert(sunix.client.new { path = dir .. '/srv.sock' })
      assert.are.same({pid, id('-u'), id('-g')}, {c:peercred()})
      assert.are_not.equal(self_pid(), pid)
      c:close()
      proc:close()
    end)

    it('a datagram socket that is not one of a pair has none', function()
      local a = assert(dunix.new { path = dir .. '/a' })
      local b = assert(dunix.new { path = dir .. '/b' })
      assert.is_nil(b:connect(assert(a:getsockname())))
      assert.are.same({nil, 'Transport endpoint is not connected'}, {b:peercred()})
      close_all({a, b})
    end)

    it('belongs to unix datagram sockets and every stream socket, where other families fail', function()
      assert.is_nil(dinet.Socket.peercred)
      assert.is_function(dunix.Socket.peercred)
      assert.is_function(stream.Socket.peercred) -- pairs, accepted connections
      assert.is_function(sunix.Client.peercred)
      local srv, c, s = h.tcp_trio('127.0.0.1')
      local AFNO = 'Address family not supported by protocol'
      assert.are.same({nil, AFNO}, {c:peercred()})
      assert.are.same({nil, AFNO}, {s:peercred()})
      close_all({srv, c, s})
    end)

    it('sendfd and recvfd on TCP: refused, and the stream keeps its bytes', function()
      local srv, c, s = h.tcp_trio('127.0.0.1')
      local p = assert(stream.pair())
      local AFNO = 'Address family not supported by protocol'
      assert.are.same({nil, AFNO}, {c:sendfd(p[1], 'x')})
      assert.are.equal(5, c:send('hello'))
      assert.is_true(s:settimeout(5))
      -- recvfd read the bytes and reported "no descriptor": now it takes none
      assert.are.same({nil, AFNO}, {s:recvfd()})
      assert.are.equal('hello', (s:recv()))
      close_all({srv, c, s, p[1], p[2]})
    end)

    it('on a stream pair and an accepted unix connection: this process', function()
      local p = assert(stream.pair())
      local pid = p[1]:peercred()
      assert.is_number(pid)
      assert.is_true(pid > 0)
      local path = dir .. '/cred.sock'
      local srv = assert(sunix.server.new { path = path })
      assert.is_nil(srv:listen())
      local c = assert(sunix.client.new { path = path })
      local conn = assert(srv:accept())
      assert.are.equal(pid, (conn:peercred()))
      assert.are.equal(pid, (c:peercred()))
      close_all({p[1], p[2], srv, c, conn})
      os.remove(path)
    end)
  end)

  it('a gather write of 1,000 pieces arrives in order (core.sock_sendv)', function()
    local p = assert(stream.pair())
    local pieces, n = {}, 0
    for i = 1, 1000 do
      pieces[i] = ('<%d:%s>'):format(i, ('x'):rep(i % 17))
      n = n + #pieces[i]
    end
    assert.are.equal(n, core.sock_sendv(p[1]:fd(), pieces, 0))
    assert.are.equal(table.concat(pieces), h.recv_exact(p[2], n))
    -- one datagram of many pieces
    local d = assert(dgram.pair())
    assert.are.equal(6, core.sock_sendv(d[1]:fd(), {'ab', '', 'cd', 'ef'}, 0))
    assert.are.equal('abcdef', (d[2]:recv()))
    assert.are.equal(0, core.sock_sendv(d[1]:fd(), {}, 0))
    assert.are.equal('', (d[2]:recv()))
    -- a window of the list, the first piece from its skip on
    local list = {'abc', 'def', 'ghi', 'jkl'}
    assert.are.equal(4, core.sock_sendv(d[1]:fd(), list, 0, 2, 3, 2))
    assert.are.equal('fghi', (d[2]:recv()))
    assert.are.equal(3, core.sock_sendv(d[1]:fd(), list, 0, 4, 4, 0))
    assert.are.equal('jkl', (d[2]:recv()))
    assert.are.equal(3, core.sock_sendv(d[1]:fd(), list, 0, 3, 4, 3)) -- all of 'ghi' skipped
    assert.are.equal('jkl', (d[2]:recv()))
    assert.are.equal(0, core.sock_sendv(d[1]:fd(), list, 0, 3, 2, 0))
    assert.are.equal('', (d[2]:recv()))
    close_all(p)
    close_all(d)
  end)

  -- A long piece that goes out in many partial sends: each retry sends from
  -- where the last stopped (before, each copied the rest of the piece: a
  -- 64 MiB piece took seconds). What arrives is checked byte for byte.
  it('send(list) of a long piece goes on where a partial send stopped', function()
    local p = assert(stream.pair())
    h.close_at_end(p[1], p[2])
    assert.is_true(p[1]:settimeout(10))
    local head, body = 'HEAD', ('0123456789abcdef'):rep(256 * 1024) -- 4 MiB
    local list, total, parts = {head, body, 'TAIL'}, #head + #body + 4, {}
    assert.is_true(p[2]:settimeout(10))
    loop.spawn(function()
      local have = 0
      while have < total do
        local s = assert(p[2]:recv(65536))
        parts[#parts + 1], have = s, have + #s
      end
    end)
    local sent
    loop.spawn(function() sent = p[1]:send(list) end)
    loop.run()
    assert.are.equal(total, sent)
    assert.is_true(table.concat(parts) == head .. body .. 'TAIL', 'the bytes differ')
  end)

  describe('sendfile', function()
    local SIZE = 16 * 1024 * 1024

    local function receive_all(sock, n)
      local parts, got = {}, 0
      while got < n do
        local s = assert(sock:recv(1024 * 1024))
        parts[#parts + 1] = s
        got = got + #s
      end
      return table.concat(parts)
    end

    it('sends a whole 16 MiB file by path, byte-exact (TCP over 127.0.0.1)', function()
      local data = h.blob(65536):rep(SIZE / 65536)
      local path = dir .. '/big'
      write_file(path, data)
      local srv, c, a = h.tcp_trio('127.0.0.1')
      -- the reader runs in this process too: a reader coroutine would need a
      -- loop, so the file goes out while another socket drains it in chunks
      assert.is_true(c:nonblock(true))
      local got, sent = {}, 0
      local received = 0
      while sent < SIZE do
        local n, err, again = c:sendfile(path, SIZE - sent, sent)
        assert.is_nil(err)
        sent = sent + n
        assert.is_true(n > 0 or again == true)
        local s = a:recv(4 * 1024 * 1024, net.MSG_DONTWAIT)
        if s then got[#got + 1] = s; received = received + #s end
      end
      got[#got + 1] = receive_all(a, SIZE - received)
      local all = table.concat(got)
      assert.are.equal(SIZE, #all)
      assert.is_nil(h.first_diff(data, all))
      close_all({srv, c, a})
    end)

    it('sends count bytes from offset; nil count: to the end of the file', function()
      local path = dir .. '/small'
      write_file(path, '0123456789')
      local p = assert(stream.pair())
      assert.are.equal(4, p[1]:sendfile(path, 4, 3))
      assert.are.equal('3456', h.recv_exact(p[2], 4))
      assert.are.equal(10, p[1]:sendfile(path))
      assert.are.equal('0123456789', h.recv_exact(p[2], 10))
      assert.are.equal(2, p[1]:sendfile(path, 100, 8), 'a shorter file sends what it has')
      assert.are.equal('89', h.recv_exact(p[2], 2))
      assert.are.same({nil, 'No such file or directory'}, {p[1]:sendfile(dir .. '/none', 1)})
      assert.are.same({nil, 'Invalid argument'}, {p[1]:sendfile(path, -1)})
      close_all(p)
    end)

    it('takes a Lua file: its descriptor, from its position; a closed one is "Bad file descriptor"', function()
      local path = dir .. '/lua-file'
      write_file(path, '0123456789')
      local p = assert(stream.pair())
      local f = assert(io.open(path, 'rb'))
      assert.are.equal(10, p[1]:sendfile(f)) -- from the descriptor's position, which advances
      assert.are.equal('0123456789', h.recv_exact(p[2], 10))
      assert.are.equal(0, p[1]:sendfile(f), 'the position is at the end now')
      assert.are.equal(3, p[1]:sendfile(f, 3, 2))
      assert.are.equal('234', h.recv_exact(p[2], 3))
      f:close()
      assert.are.same({nil, h.EBADF_MSG}, {p[1]:sendfile(f, 1, 0)})
      close_all(p)
    end)

    -- reference.md: wrong argument types raise: a count or an offset that is
    -- no number, or no whole one (msg.lua's count_arg; a string would
    -- otherwise be taken in arithmetic), and nothing is sent.
    it('raises for a file, count or offset of a wrong type; refuses one out of range', function()
      local path = dir .. '/small'
      write_file(path, '0123456789')
      local p = assert(stream.pair())
      h.raises("bad argument #2 to 'sendfile' (number expected, got string)", p[1].sendfile, p[1], path, '4')
      h.raises("bad argument #3 to 'sendfile' (number expected, got boolean)", p[1].sendfile, p[1], path, 4, true)
      h.raises("bad argument #2 to 'sendfile' (number has no integer representation)",
        p[1].sendfile, p[1], path, 1.5)
      h.raises("bad argument #3 to 'sendfile' (number has no integer representation)",
        p[1].sendfile, p[1], path, 1, 0.5)
      h.raises("bad argument #1 to 'sendfile' (path, number, socket or file expected, got nil)",
        p[1].sendfile, p[1], nil)
      -- whole numbers from 0 below 2^53 (every runtime holds them exactly)
      for _, bad in ipairs({{2 ^ 53}, {1, 2 ^ 53}, {-1}, {1, -1}}) do
        assert.are.same(h.pack(nil, 'Invalid argument'), h.pack(p[1]:sendfile(path, bad[1], bad[2])))
      end
      assert.are.equal(4, p[1]:sendfile(path, 2 ^ 53 - 1, 6)) -- a count past the end: what the file has
      assert.are.equal('6789', p[2]:recv())
      assert.is_true(p[2]:nonblock(true))
      assert.are.same({ n = 3, nil, nil, true }, h.pack(p[2]:recv())) -- nothing went
      close_all(p)
    end)

    -- reference.md: a file "given by its descriptor or its path ... from
    -- offset (nil: a descriptor's current position, which advances)". Every
    -- other sendfile test names a path; a Lua program has no fd of a file of
    -- its own, so a child gets one from its shell (fd 7) and sends from it.
    it('sends from a descriptor: from offset, or from its position, which advances', function()
      local path = dir .. '/small'
      write_file(path, '0123456789')
      local script = [[
local p = assert(require('net.stream').pair())
local out = {}
local function go(...)
  local n, err = p[1]:sendfile(...)
  out[#out + 1] = tostring(n) .. ',' .. tostring(err) .. ':'
    .. (type(n) == 'number' and n > 0 and p[2]:recv(n) or '')
end
go(7, 4, 3)   -- offset 3: the position stays at 0
go(7, 3)      -- from the position: 0..2, which then is 3
go(7)         -- from 3 to the end
go(7)         -- at the end: nothing
go(9)         -- no such descriptor
io.write(table.concat(out, ' '))
]]
      local out = shell('exec 7<' .. h.shell_quote(path) .. '; exec 9<&-; exec '
        .. h.shell_quote(interpreter()) .. ' -e ' .. h.shell_quote(script) .. ' 2>&1')
      assert.are.equal('4,nil:3456 3,nil:012 7,nil:3456789 0,nil: nil,Bad file descriptor:', out)
    end)

    it('sends a file whose size the system reports as 0 to its end (/proc)', function()
      local f = assert(io.open('/proc/self/mountinfo'))
      local before = #f:read('*a') -- (its size: the text, read as any program reads it)
      f:close()
      assert.is_true(before > 0)
      local p = assert(stream.pair())
      local n = p[1]:sendfile('/proc/self/mountinfo')
      -- the text is this process's mounts, which a test does not change
      assert.are.equal(before, n)
      assert.are.equal(n, #h.recv_exact(p[2], n))
      close_all(p)
    end)

    it('does not wait for a writer of a FIFO to open it (sendfile cannot read one)', function()
      -- in a child under `timeout`: opening a FIFO for reading used to wait
      -- for a writer, past any deadline
      local fifo = dir .. '/fifo'
      assert.are.equal('', shell('mkfifo ' .. fifo .. ' 2>&1'))
      local script = ([[
local p = assert(require('net.stream').pair())
assert(p[1]:settimeout(0.5))
local t0 = require('net').now()
local n, err, again = p[1]:sendfile(%q, 5)
io.write(tostring(n), '|', tostring(err), '|', tostring(again), '|',
         tostring(require('net').now() - t0 < 0.4))
]]):format(fifo)
      local out = shell('timeout 10 ' .. h.shell_quote(interpreter()) .. ' -e '
        .. h.shell_quote(script) .. ' 2>&1')
      assert.are.equal('nil|Illegal seek|nil|true', out)
    end)

    it('has one deadline for the whole call, however many waits it takes', function()
      local size = 4 * 1024 * 1024 -- many times what a unix stream queues
      local path = dir .. '/deadline'
      write_file(path, h.blob(65536):rep(size / 65536))
      local p = assert(stream.pair { nonblock = true })
      assert.is_true(p[1]:settimeout(60))
      local deadlines = {}
      -- a waiter that makes room each time: it drains the peer
      assert.is_true(p[1]:setwaiter(function(_, mode, deadline)
        assert.are.equal('w', mode)
        deadlines[#deadlines + 1] = deadline
        while p[2]:recv(1024 * 1024) do end -- until "try again"
        return true
      end))
      assert.are.equal(size, p[1]:sendfile(path))
      assert.is_true(#deadlines > 1, 'it waited more than once')
      for i = 2, #deadlines do
        assert.are.equal(deadlines[1], deadlines[i], 'wait ' .. i .. "'s deadline")
      end
      close_all(p)
    end)

    -- A blocking call that SO_SNDTIMEO ended after some bytes returns them,
    -- as send does: calling sendfile(2) again would wait a timeout afresh.
    it('on a blocking socket ends at the first SO_SNDTIMEO expiry, as send', function()
      local size = 4 * 1024 * 1024
      local path = dir .. '/sndtimeo'
      write_file(path, h.blob(65536):rep(size / 65536))
      local p = assert(stream.pair())
      assert.is_true(math.abs(p[1]:sndtimeo(1) - 1) < 0.01)
      local t0 = net.now()
      local r = h.pack(p[1]:sendfile(path))
      local took = net.now() - t0
      assert.are.equal(3, r.n)
      assert.is_true(r[1] > 0 and r[1] < size, 'sent ' .. tostring(r[1]))
      assert.is_nil(r[2])
      assert.is_true(r[3])
      assert.is_true(took >= 0.9 and took < 1.8, 'took ' .. took) -- twice the timeout before
      -- the peer holds what was reported, nothing more
      assert.are.equal(r[1], #receive_all(p[2], r[1]))
      h.nothing_queued(p[2])
      -- and a file that ends as the socket fills is the whole file, not "again"
      local q = assert(stream.pair())
      local fits = r[1] -- what the pair took before it was full
      write_file(path, h.blob(65536):rep(math.ceil(fits / 65536)):sub(1, fits))
      assert.are.same(h.pack(fits), h.pack(q[1]:sendfile(path)))
      assert.are.equal(fits, #receive_all(q[2], fits))
      close_all(p)
      close_all(q)
    end)

    it('at its deadline with nothing sent: 0, nil, true', function()
      local path = dir .. '/full'
      write_file(path, h.blob(100000))
      nothing_sent_at_deadline(stream.pair, function(s) return s:sendfile(path) end)
    end)

    -- Some bytes went, then the call failed: it reports the failure, as
    -- send does, never the count alone (which reads as the whole file sent).
    it('reports a peer gone, or its socket closed, after some bytes went', function()
      local size = 4 * 1024 * 1024
      local path = dir .. '/cut'
      write_file(path, h.blob(65536):rep(size / 65536))
      for _, case in ipairs { 'peer gone', 'closed' } do
        local p = assert(stream.pair { nonblock = true })
        assert.is_true(p[1]:settimeout(60))
        local waits = 0
        assert.is_true(p[1]:setwaiter(function()
          waits = waits + 1
          if case == 'peer gone' then p[2]:close() else p[1]:close() end
          return true
        end))
        local r = h.pack(p[1]:sendfile(path))
        assert.are.equal(1, waits, 'the socket was full once, after some bytes')
        if case == 'peer gone' then
          assert.are.same(h.pack(nil, nil, nil, 'Broken pipe'), r)
        else
          assert.are.same(h.pack(nil, 'Bad file descriptor'), r)
        end
        close_all(p)
      end
    end)
  end)

  describe('recvmany/sendmany', function()
    it('a batch of 32 datagrams with their sources', function()
      local rx = assert(dinet.new { host = '127.0.0.1' })
      local to = assert(rx:getsockname())
      local senders = {}
      for i = 1, 4 do senders[i] = assert(dinet.new { host = '127.0.0.1' }) end
      for i = 1, 32 do
        local s = senders[(i - 1) % 4 + 1]
        assert.are.equal(#tostring(i) + 4, s:sendto('dgm' .. i .. '!', to))
      end
      local list = assert(rx:recvmany(32))
      assert.are.equal(32, #list)
      for i, m in ipairs(list) do
        assert.are.equal('dgm' .. i .. '!', m[1])
        assert.are.equal(tostring(senders[(i - 1) % 4 + 1]:getsockname()), tostring(m[2]))
        assert.is_nil(m[3])
      end
      close_all(senders)
      rx:close()
    end)

    it('takes only what is queued after the first; cuts are reported per datagram', function()
      local rx = assert(dinet.new { host = '127.0.0.1', nonblock = true })
      local tx = assert(dinet.new { host = '127.0.0.1' })
      local to = assert(rx:getsockname())
      assert.are.same(h.pack(nil, nil, true), h.pack(rx:recvmany(8)))
      tx:sendto('short', to)
      tx:sendto(('L'):rep(100), to)
      local list = assert(rx:recvmany(8, 10))
      assert.are.equal(2, #list)
      assert.are.same({'short', nil}, {list[1][1], list[1][3]})
      assert.are.same({('L'):rep(10), 100}, {list[2][1], list[2][3]})
      assert.are.same({nil, 'Invalid argument'}, {rx:recvmany(0)})
      assert.are.same({nil, 'Invalid argument'}, {rx:recvmany(1025)})
      close_all({rx, tx})
    end)

    -- Two receivers and their senders of one family: IPv4, IPv6, unix paths.
    local function batch_families()
      local list = {
        {'127.0.0.1', function() return assert(dinet.new { host = '127.0.0.1' }) end},
      }
      if h.has_ipv6() then
        list[#list + 1] = {'::1', function() return assert(dinet.new { host = '::1' }) end}
      end
      local serial = 0
      list[#list + 1] = {'unix paths', function()
        serial = serial + 1
        return assert(dunix.new { path = dir .. '/b' .. serial })
      end}
      return list
    end

    it('into a reused batch: the data, the senders (equal to getsockname) and no cut; '
      .. 'IPv4, IPv6 and unix', function()
      for _, fam in ipairs(batch_families()) do
        local make = fam[2]
        local rx = make()
        local to = assert(rx:getsockname())
        local senders = { make(), make(), make() }
        local batch = dgram.batch()
        assert.is_true(h.is_a(batch, dgram.Batch))
        -- 9 datagrams, then 4 into the same batch: what the first left
        -- behind is cleared (a unix socket queues 10 datagrams by default:
        -- net.unix.max_dgram_qlen; then a sender blocks)
        for _, count in ipairs { 9, 4 } do
          for i = 1, count do
            local data = i == 2 and '' or (fam[1] .. ' dgm ' .. count .. '/' .. i)
            assert.are.equal(#data, senders[i % 3 + 1]:sendto(data, to))
          end
          assert.are.equal(count, rx:recvmany(32, nil, batch))
          assert.are.equal(count, #batch, fam[1])
          assert.is_nil(rawget(batch, count + 1))
          for i = 1, count do
            local want = i == 2 and '' or (fam[1] .. ' dgm ' .. count .. '/' .. i)
            assert.are.equal(want, batch[i])
            local ai = batch:sender(i)
            assert.are.equal(tostring(senders[i % 3 + 1]:getsockname()), tostring(ai))
            assert.are.equal(senders[i % 3 + 1]:getsockname():port(), ai:port())
            assert.are_not.equal(ai, batch:sender(i)) -- a new one per call: a caller may keep it
            assert.is_nil(batch:cut(i))
          end
        end
        close_all(senders)
        rx:close()
      end
    end)

    it('into a batch: cuts per datagram; a failed call leaves the batch as it was', function()
      local rx = assert(dinet.new { host = '127.0.0.1', nonblock = true })
      local tx = assert(dinet.new { host = '127.0.0.1' })
      local to = assert(rx:getsockname())
      local batch = dgram.batch()
      assert.are.same(h.pack(nil, nil, true), h.pack(rx:recvmany(8, nil, batch)))
      assert.are.equal(0, #batch)
      tx:sendto('short', to)
      tx:sendto(('L'):rep(100), to)
      assert.are.equal(2, rx:recvmany(8, 10, batch))
      assert.are.same({'short', nil}, {batch[1], batch:cut(1)})
      assert.are.same({('L'):rep(10), 100}, {batch[2], batch:cut(2)})
      assert.are.same(h.pack(nil, nil, true), h.pack(rx:recvmany(8, nil, batch)))
      assert.are.same({2, 'short', ('L'):rep(10)}, {#batch, batch[1], batch[2]})
      assert.are.equal(tx:getsockname():port(), batch:sender(2):port())
      local closed = assert(dinet.new { host = '127.0.0.1' })
      closed:close()
      assert.are.same({nil, h.EBADF_MSG}, {closed:recvmany(8, nil, batch)})
      assert.are.equal('short', batch[1])
      close_all({rx, tx})
    end)

    it('a bad batch, index or self raises and changes nothing', function()
      local rx = assert(dinet.new { host = '127.0.0.1' })
      local tx = assert(dinet.new { host = '127.0.0.1' })
      local batch = dgram.batch()
      assert.are.equal(3, tx:sendto('one', assert(rx:getsockname())))
      h.raises("bad argument #3 to 'recvmany' (net.dgram.Batch expected, got table)",
        rx.recvmany, rx, 8, nil, {})
      h.raises("bad argument #1 to 'sender' (index out of range (1..0))", batch.sender, batch, 1)
      assert.are.equal(1, rx:recvmany(8, nil, batch)) -- the datagram waited
      assert.are.equal('one', batch[1])
      h.raises("bad argument #1 to 'cut' (index out of range (1..1))", batch.cut, batch, 2)
      h.raises("bad argument #1 to 'sender' (index out of range (1..1))", batch.sender, batch, 0)
      h.raises("bad argument #1 to 'sender' (number expected, got string)", batch.sender, batch, '1')
      h.raises("bad argument #1 to 'cut' (number has no integer representation)", batch.cut, batch, 1.5)
      h.raises("bad argument #0 to 'sender' (net.dgram.Batch expected, got table)", batch.sender, {}, 1)
      close_all({rx, tx})
    end)

    it('a batch whose room would pass 64 MiB takes fewer datagrams, on every runtime', function()
      local rx = assert(dinet.new { host = '127.0.0.1', nonblock = true })
      local tx = assert(dinet.new { host = '127.0.0.1' })
      local to = assert(rx:getsockname())
      for i = 1, 6 do assert.are.equal(2, tx:sendto('d' .. i, to)) end
      -- 1,024 datagrams of room 16 MiB: a 16 GiB area, which LuaJIT cannot
      -- make; the room of the default batch (1,024 x 64 KiB) holds four
      local list = assert(rx:recvmany(1024, 16 * 1024 * 1024))
      assert.are.same({'d1', 'd2', 'd3', 'd4'}, {list[1][1], list[2][1], list[3][1], list[4][1]})
      assert.are.equal(4, #list)
      list = assert(rx:recvmany(1024, 65536))
      assert.are.same({'d5', 'd6'}, {list[1][1], list[2][1]})
      assert.are.equal(2, #list)
      close_all({rx, tx})
    end)

    -- recvmany takes its room in windows of at most core.keep_size (4 MiB)
    -- bytes: recvmany(1024) of the default size in windows of 64, the
    -- first waiting as the socket does, each later one taking only what is
    -- queued into the batch after the last.
    local function dgm(i) return ('%d:'):format(i) .. ('x'):rep(i % 37) end

    it('recvmany(1024) takes 100 queued datagrams across its windows of 64: all, in order, '
      .. 'with their senders; into a batch too', function()
      local hosts = {'127.0.0.1'}
      if h.has_ipv6() then hosts[2] = '::1' end
      for _, host in ipairs(hosts) do
        local rx = assert(dinet.new { host = host, nonblock = true })
        local senders = {assert(dinet.new { host = host }), assert(dinet.new { host = host })}
        local to = assert(rx:getsockname())
        local function queue(count)
          for i = 1, count do assert.are.equal(#dgm(i), senders[i % 2 + 1]:sendto(dgm(i), to)) end
        end
        local function sender_of(i) return tostring(senders[i % 2 + 1]:getsockname()) end
        queue(100)
        local list = assert(rx:recvmany(1024))
        assert.are.equal(100, #list, host)
        for i = 1, 100 do
          assert.are.same({dgm(i), sender_of(i)}, {list[i][1], tostring(list[i][2])})
          assert.is_nil(list[i][3])
        end
        local batch = dgram.batch()
        for _, count in ipairs({100, 70}) do -- 70 after 100: what is past 70 is cleared
          queue(count)
          assert.are.equal(count, rx:recvmany(1024, nil, batch), host)
          assert.are.equal(count, #batch)
          assert.is_nil(rawget(batch, count + 1))
          for i = 1, count do
            assert.are.same({dgm(i), sender_of(i)}, {batch[i], tostring(batch:sender(i))})
          end
        end
        assert.are.same(h.pack(nil, nil, true), h.pack(rx:recvmany(1024, nil, batch)))
        assert.are.equal(70, #batch) -- a failed call leaves the batch as it was
        close_all(senders)
        rx:close()
      end
    end)

    it('datagrams across windows of three (size 4 MiB / 3), two (2 MiB) and one (8 MiB): '
      .. 'the later windows take what is queued without waiting, and max ends the batch', function()
      local rx = assert(dinet.new { host = '127.0.0.1' }) -- blocking: a later window must not wait
      local tx = assert(dinet.new { host = '127.0.0.1' })
      local to = assert(rx:getsockname())
      assert.is_true(rx:rcvtimeo(2) > 0) -- (bounds a wrong wait)
      local W3, W2, W1 = math.floor(4 * 1024 * 1024 / 3), 2 * 1024 * 1024, 8 * 1024 * 1024
      assert.are.equal(4 * 1024 * 1024, core.keep_size)
      local function datas(list)
        local out = {}
        for i, m in ipairs(list) do out[i] = m[1] end
        return out
      end
      local function expect(from, to_)
        local out = {}
        for i = from, to_ do out[#out + 1] = dgm(i) end
        return out
      end
      local cases = {
        -- {queued, max, size, taken}
        {7, 10, W3, 7}, -- windows 3, 3, 1 (short: the end)
        {6, 10, W3, 6}, -- 3, 3, then one that finds nothing
        {7, 5, W3, 5},  -- 3, 2: max; the next call takes the 2 left
        {5, 10, W2, 5}, -- 2, 2, 1
        {3, 4, W1, 3},  -- 1, 1, 1, then nothing
      }
      for _, c in ipairs(cases) do
        local queued, max, size, taken = c[1], c[2], c[3], c[4]
        for i = 1, queued do assert.are.equal(#dgm(i), tx:sendto(dgm(i), to)) end
        local t0 = net.now()
        local list = assert(rx:recvmany(max, size))
        assert.is_true(net.now() - t0 < 1, 'a later window waited')
        assert.are.same(expect(1, taken), datas(list))
        assert.are.equal(tostring(tx:getsockname()), tostring(list[taken][2]))
        if taken < queued then
          assert.are.same(expect(taken + 1, queued), datas(assert(rx:recvmany(max, size))))
        end
        -- a batch: the same, from an earlier longer batch
        local batch = dgram.batch()
        for i = 1, 9 do assert.are.equal(#dgm(i), tx:sendto(dgm(i), to)) end
        assert.are.equal(9, rx:recvmany(9, 2048, batch))
        for i = 1, queued do assert.are.equal(#dgm(i), tx:sendto(dgm(i), to)) end
        assert.are.equal(taken, rx:recvmany(max, size, batch))
        assert.are.equal(taken, #batch)
        for i = 1, taken do assert.are.equal(dgm(i), batch[i]) end
        assert.is_nil(rawget(batch, taken + 1))
        if taken < queued then assert.are.equal(queued - taken, rx:recvmany(max, size, batch)) end
        assert.are.same(h.pack(nil, nil, true), h.pack(rx:recv(nil, net.MSG_DONTWAIT))) -- all taken
      end
      close_all({rx, tx})
    end)

    it('net.core.sock_recvmany puts datagram i at index first + i - 1 (first: default 1); '
      .. 'a bad first raises and takes nothing', function()
      local rx = assert(dinet.new { host = '127.0.0.1', nonblock = true })
      local tx = assert(dinet.new { host = '127.0.0.1' })
      local to = assert(rx:getsockname())
      local port = tx:getsockname():port()
      local datas, addrs, fulls = {'kept'}, {}, {}
      assert.are.equal(1, tx:sendto('a', to))
      assert.are.equal(3, tx:sendto('bcd', to))
      assert.are.equal(2, core.sock_recvmany(rx:fd(), 4, 16, 0, datas, addrs, fulls, 2))
      assert.are.same({'kept', 'a', 'bcd'}, datas)
      assert.are.same({[2] = 1, [3] = 3}, fulls)
      assert.is_nil(addrs[1])
      assert.are.same({port, port}, {core.addr_port(addrs[2]), core.addr_port(addrs[3])})
      assert.are.equal(1, tx:sendto('e', to))
      assert.are.equal(1, core.sock_recvmany(rx:fd(), 4, 16, 0, datas, addrs, fulls))
      assert.are.same({'e', 'a', 'bcd'}, datas)
      assert.are.equal(1, tx:sendto('f', to))
      local bad = {
        {0, 'index out of range'}, {-1, 'index out of range'}, {0 / 0, 'index out of range'},
        {math.huge, 'index out of range'},
        {2 ^ 31 - 3, 'index out of range'}, -- the last index, first + max - 1, past an int
        {1.5, 'number has no integer representation'},
        {'2', 'number expected, got string'}, {true, 'number expected, got boolean'},
      }
      for _, b in ipairs(bad) do
        -- (the function's name in net.capi's message is the auxlib's guess)
        local ok, err = pcall(core.sock_recvmany, rx:fd(), 4, 16, 0, datas, addrs, fulls, b[1])
        assert.is_false(ok)
        assert.truthy(tostring(err):find("bad argument #8 to '", 1, true), err)
        assert.truthy(tostring(err):find("' (" .. b[2] .. ')', 1, true), err)
      end
      -- the count and the room, as net.capi checks them (the FFI did not:
      -- only the classes kept them in range)
      for _, b in ipairs({{2, 0, 16, 'count out of range'}, {2, 1025, 16, 'count out of range'},
                          {3, 4, -1, 'size must not be negative'},
                          {3, 4, 16 * 2 ^ 20 + 1, 'size out of range'}}) do
        local ok, err = pcall(core.sock_recvmany, rx:fd(), b[2], b[3], 0, datas, addrs, fulls)
        assert.is_false(ok)
        assert.truthy(tostring(err):find("bad argument #" .. b[1] .. " to '", 1, true), err)
        assert.truthy(tostring(err):find("' (" .. b[4] .. ')', 1, true), err)
      end
      assert.are.same({'e', 'a', 'bcd'}, datas)
      assert.are.equal(1, core.sock_recvmany(rx:fd(), 4, 16, 0, datas, addrs, fulls, 2 ^ 31 - 4))
      assert.are.equal('f', datas[2 ^ 31 - 4])
      close_all({rx, tx})
    end)

    it('a finalizer that receives a batch while recvmany copies one out leaves it intact', function()
      -- The copy allocates, an allocation may run a finalizer, and this one
      -- calls recvmany with a larger room: it must get room of its own, not
      -- overwrite (or free) what the outer call still reads.
      local ran, wrong = finalizer_child('batch.lua', [[
local dinet = require('net.dgram.inet')
local rx = assert(dinet.new { host = '127.0.0.1', nonblock = true })
local tx = assert(dinet.new { host = '127.0.0.1' })
local idle = assert(dinet.new { host = '127.0.0.1', nonblock = true })
local to = assert(rx:getsockname())
local inside, size, ran, wrong = false, 2000, 0, 0
local function on_gc()
  if not inside then return end
  ran, size = ran + 1, size + 64
  assert(select(3, idle:recvmany(64, size * 2))) -- nothing queued: try again
end
for round = 1, 100 do
  local sent = {}
  for i = 1, 64 do
    sent[i] = string.char(65 + (i + round) % 26):rep(100)
    tx:sendto(sent[i], to)
  end
  finalizers(20, on_gc)
  inside = true
  local list = assert(rx:recvmany(64, size))
  inside = false
  for i = 1, 64 do if not list[i] or list[i][1] ~= sent[i] then wrong = wrong + 1 end end
end
print(('ran %d wrong %d'):format(ran, wrong))
]])
      assert.are.equal(0, wrong)
      assert.is_true(ran > 0) -- finalizers did run inside recvmany
    end)

    it('a finalizer that receives while recvfrom copies out leaves it its own sender', function()
      -- recvfrom's sender and full length live in scratch memory until they
      -- are copied out; a finalizer run by an allocation meanwhile, which
      -- receives on another socket, must not change them.
      local ran, wrong = finalizer_child('sender.lua', [[
if jit then jit.off() end -- interpreted, the collector runs inside recvfrom more often
local dinet = require('net.dgram.inet')
local rx = assert(dinet.new { host = '127.0.0.1', nonblock = true })
local other = assert(dinet.new { host = '127.0.0.1', nonblock = true })
local A = assert(dinet.new { host = '127.0.0.1' })
local B = assert(dinet.new { host = '127.0.0.1' })
local to_rx, to_other = assert(rx:getsockname()), assert(other:getsockname())
local want = tostring(A:getsockname())
local inside, ran, wrong = false, 0, 0
local function on_gc()
  if not inside then return end
  ran = ran + 1
  other:recvfrom() -- another sender's datagram, into the same scratch
end
for _ = 1, 1000 do
  A:sendto(('a'):rep(100), to_rx)
  for _ = 1, 3 do B:sendto('b', to_other) end
  finalizers(50, on_gc)
  inside = true
  local d, _, _, ai = rx:recvfrom(2000)
  inside = false
  if d and tostring(ai) ~= want then wrong = wrong + 1 end
  while other:recvfrom() do end
end
print(('ran %d wrong %d'):format(ran, wrong))
]])
      assert.are.equal(0, wrong)
      -- the FFI backend's scratch is what this guards (net.capi keeps the
      -- sender on the C stack); PUC Lua 5.2 may run no finalizer inside
      if jit then assert.is_true(ran > 0) end
    end)

    it('net.core.sock_sendmany refuses a datagram that is not a string, an address '
      .. 'that is not one, and sends nothing', function()
      local rx = assert(dinet.new { host = '127.0.0.1', nonblock = true })
      local tx = assert(dinet.new { host = '127.0.0.1' })
      local to = assert(rx:getsockname())._addr
      local cases = {
        {{'a', 12345}, {to, to}, 'list of strings expected'},
        {{'a', 'b'}, {to, 'not an address'}, 'list of net.addr or false expected'},
      }
      for _, c in ipairs(cases) do
        local ok, err = pcall(core.sock_sendmany, tx:fd(), c[1], c[2], 2, 0)
        assert.is_false(ok)
        assert.truthy(tostring(err):find(c[3], 1, true), err)
      end
      assert.are.same(h.pack(nil, nil, true), h.pack(rx:recv()))
      close_all({rx, tx})
    end)

    it('a closed socket says so also when nothing is to be sent', function()
      local tx = assert(dinet.new { host = '127.0.0.1' })
      local s = assert(stream.pair())
      local path = dir .. '/empty'
      write_file(path, '')
      tx:close()
      s[1]:close()
      local BADF = net.strerror(-net.EBADF)
      assert.are.same(h.pack(nil, BADF), h.pack(tx:sendmany({})))
      assert.are.same(h.pack(nil, BADF), h.pack(s[1]:sendfile(path, 0)))
      assert.are.same(h.pack(nil, BADF), h.pack(s[1]:sendfile(path)))
      s[2]:close()
    end)

    it('sendmany sends each entry as one datagram, to its address or the peer', function()
      local rx = assert(dinet.new { host = '127.0.0.1' })
      local tx = assert(dinet.new { host = '127.0.0.1' })
      local to = assert(rx:getsockname())
      assert.are.equal(3, tx:sendmany({{'one', to}, {'', to}, {'three', to}}))
      assert.is_nil(tx:connect(to))
      assert.are.equal(2, tx:sendmany({'four', 'five'}))
      local got = {}
      for i = 1, 5 do got[i] = (rx:recv()) end
      assert.are.same({'one', '', 'three', 'four', 'five'}, got)
      assert.are.equal(0, tx:sendmany({}))
      h.raises("bad argument #1 to 'sendmany' (entry 2 is not a string or {string, net.addrinfo})",
        tx.sendmany, tx, {'ok', {'x', 'not an ai'}})
      -- an object is no list, though # and [i] may read it as one (a
      -- batch's strings went out, a buffer sent nothing and said 0)
      local batch = dgram.batch()
      assert.are.equal(1, tx:sendmany({'six'}))
      assert.are.equal(1, rx:recvmany(1, nil, batch))
      for _, object in ipairs({batch, require('net.buffer').new(8), to}) do
        h.raises("bad argument #1 to 'sendmany' (plain table expected, got one with a metatable)",
          tx.sendmany, tx, object)
      end
      assert.same({ n = 3, nil, nil, true }, h.pack(rx:recv(nil, net.MSG_DONTWAIT)))
      close_all({rx, tx})
    end)

    it('a blocking sendmany waits for room for the first datagram only', function()
      local p = assert(dgram.pair())
      h.close_at_end(p[1], p[2])
      local queued = 0
      while p[1]:send('q', net.MSG_DONTWAIT) == 1 do queued = queued + 1 end
      assert.is_true(queued >= 3, 'queued ' .. queued)
      for _ = 1, 3 do assert.are.equal('q', p[2]:recv()) end -- room for three
      assert.is_true(p[1]:sndtimeo(2) > 0) -- (bounds a wait for the fourth)
      local t0 = net.now()
      assert.are.same(h.pack(3, nil, true), h.pack(p[1]:sendmany({'1', '2', '3', '4', '5'})))
      local t = net.now() - t0
      assert.is_true(t < 1, 'took ' .. t)
      -- full: the first waits as the socket says (here its sndtimeo)
      assert.is_true(p[1]:sndtimeo(0.2) > 0)
      t0 = net.now()
      assert.are.same(h.pack(0, nil, true), h.pack(p[1]:sendmany({'6', '7'})))
      t = net.now() - t0
      assert.is_true(t >= 0.15, 'took ' .. t)
    end)

    -- The first datagram had no room before the deadline: the count of
    -- none, and again, as at SO_SNDTIMEO above.
    it('sendmany at its deadline with nothing sent: 0, nil, true', function()
      nothing_sent_at_deadline(dgram.pair, function(s) return s:sendmany({'y', 'z'}) end)
    end)

    -- sendmany reuses the lists it hands to the backend: one that waits
    -- keeps its own while another coroutine's sendmany runs meanwhile.
    it('a sendmany that waits sends its own datagrams while another coroutine sends', function()
      local full, other = assert(dgram.pair { nonblock = true }), assert(dgram.pair())
      h.close_at_end(full[1], full[2], other[1], other[2])
      while full[1]:send('q') == 1 do end
      assert.is_true(full[1]:settimeout(5))
      local r
      loop.spawn(function() r = h.pack(full[1]:sendmany({'a1', 'a2'})) end)
      loop.spawn(function()
        assert.are.equal(2, other[1]:sendmany({'b1', 'b2'})) -- while the first waits
        assert.are.equal('b1', other[2]:recv())
        assert.are.equal('b2', other[2]:recv())
        local s -- drain the queue up to what the waiting sendmany sent
        repeat s = full[2]:recv() until s ~= 'q'
        assert.are.equal('a1', s)
        assert.are.equal('a2', full[2]:recv())
      end)
      loop.run()
      assert.are.same(h.pack(2), r)
    end)

    -- The records (net.capi) and the lists of a batch are reused: a batch
    -- makes no garbage (it made about 200 bytes a datagram on net.capi, 18
    -- on the FFI). The datagrams' strings are short, so interned. Measured
    -- on net.capi: the FFI backend's own cdata (pointers, lengths) are
    -- boxed wherever its calls run interpreted, which depends on the JIT's
    -- state (6 bytes a datagram in a full suite run, 0 alone); the lists
    -- are the class's, the same on both backends.
    it('a sendmany and recvmany batch make no garbage (net.capi)', function()
      if core.backend ~= 'capi' then
        return pending('the FFI boxes its cdata where a call runs interpreted (NET_BACKEND=ffi)')
      end
      local p = assert(dgram.pair())
      h.close_at_end(p[1], p[2])
      local list, batch = {}, dgram.batch()
      for i = 1, 64 do list[i] = 'datagram ' .. i end
      local function round() assert(p[1]:sendmany(list) == 64); assert(p[2]:recvmany(64, 64, batch) == 64) end
      for _ = 1, 100 do round() end
      collectgarbage(); collectgarbage('stop')
      local before = collectgarbage('count')
      for _ = 1, 1000 do round() end
      local grew = (collectgarbage('count') - before) * 1024
      collectgarbage('restart')
      assert.is_true(grew < 2 * 1000 * 64, ('%.0f bytes more in use after 64,000 datagrams'):format(grew))
      assert.are.equal('datagram 64', batch[64])
    end)
  end)
end)
