-- net.core: the primitive table itself (doc/internals.md), on real sockets.
-- Runs on every runtime: the FFI backend under LuaJIT, net.capi elsewhere
-- and under LuaJIT with NET_BACKEND=capi. Results are net.h's: a value, or a
-- negative integer code compared here with -core.constants.E*.
local core = require('net.core')
local h = require('spec.lua.helper')

local K = core.constants
local BACKEND = core.backend -- 'ffi' or 'capi', set by net.core

-- Whether bit (a power of two) is set in a poll result; no bit operators on
-- Lua 5.1 and LuaJIT.
local function has(events, bit)
  return math.floor(events / bit) % 2 == 1
end

-- An integer on every Lua: on 5.3+ of the integer subtype (== would also
-- accept the float 9.0); before 5.3, a whole number.
local function is_int(v)
  if math.type then return math.type(v) == 'integer' end
  return type(v) == 'number' and math.floor(v) == v
end

-- An address from a literal host and a port, through the resolver (no
-- DNS: numeric host and service), or the code.
local function inet_addr(host, port)
  local list = core.getaddrinfo(host, ('%d'):format(port), K.AF_UNSPEC, K.SOCK_STREAM, 0,
                                K.AI_NUMERICHOST + K.AI_NUMERICSERV)
  if type(list) == 'number' then return list end
  return list[1].addr
end

-- The address of a unix path, or the code.
local function unix_addr(path)
  local list = core.getaddrinfo_unix(path, K.SOCK_STREAM)
  if type(list) == 'number' then return list end
  return list[1].addr
end

-- Descriptors a test opened and has not closed yet; after_each closes them.
-- Closing goes through close() so that no number is closed twice: a number
-- freed once may belong to someone else (busted's own files) a moment later.
local open = {}

local function track(fd, ...)
  assert(is_int(fd) and fd >= 0, 'expected an fd, got ' .. tostring(fd))
  open[fd] = true
  if select('#', ...) > 0 then
    return fd, track(...)
  end
  return fd
end

local function close(fd)
  assert(open[fd], 'closing an fd this spec does not own: ' .. tostring(fd))
  open[fd] = nil
  return core.sock_close(fd)
end

-- A unix pair. Blocking ones get a 5 s receive timeout, so that a test whose
-- expected data never comes fails (with -EAGAIN) instead of hanging.
local function pair(type_, flags)
  local a, b = track(core.sock_pair(K.AF_UNIX, type_ or K.SOCK_STREAM, 0, flags or 0))
  if not has(flags or 0, K.NONBLOCK) then
    core.sock_rcvtimeo(a, 5)
    core.sock_rcvtimeo(b, 5)
  end
  return a, b
end

-- A listening TCP socket on host (a loopback literal), an ephemeral port.
local function tcp_listener(host)
  local addr = inet_addr(host, 0)
  local fd = track(core.sock_open(core.addr_family(addr), K.SOCK_STREAM, 0, K.CLOEXEC))
  assert.are.equal(0, core.sock_bind(fd, addr))
  assert.are.equal(0, core.sock_listen(fd, -1))
  return fd, core.addr_port(core.sock_getsockname(fd))
end

-- listener, client, accepted: a connected TCP trio on host.
local function tcp_trio(host)
  local srv, port = tcp_listener(host)
  local addr = inet_addr(host, port)
  local c = track(core.sock_open(core.addr_family(addr), K.SOCK_STREAM, 0, 0))
  assert.are.equal(0, core.sock_connect(c, addr))
  local a = track(core.sock_accept(srv, 0))
  return srv, c, a
end

-- Receives exactly n bytes (blocking socket; bounded by the call count).
local function recv_exact(fd, n)
  local got, have = {}, 0
  for _ = 1, n + 1 do
    if have == n then break end
    assert(core.poll_fd(fd, K.POLLIN, 5) > 0, 'no data for 5 seconds')
    local s = core.sock_recv(fd, n - have, 0)
    assert(type(s) == 'string' and s ~= '', 'recv gave ' .. tostring(s))
    got[#got + 1] = s
    have = have + #s
  end
  return table.concat(got)
end

after_each(function()
  for fd in pairs(open) do close(fd) end
end)

describe('net.core library', function()
  it('reports version 1.x of libnet', function()
    local v = core.version()
    assert.is_true(is_int(v))
    assert.are.equal(1, math.floor(v / 10000))
  end)

  it('names errno codes with strerror', function()
    assert.are.equal('Bad file descriptor', core.strerror(-K.EBADF))
    assert.are.equal('Broken pipe', core.strerror(-K.EPIPE))
  end)

  it('has the platform constants and net.h flags', function()
    assert.are.equal(2, K.AF_INET)
    assert.are.equal(1, K.SOCK_STREAM)
    assert.are.equal(9, K.EBADF)
    assert.are.equal(1, K.NONBLOCK)
    assert.are.equal(2, K.CLOEXEC)
    assert.are.equal(1, K.AI_PASSIVE)
    assert.are.equal(2, K.AI_CANONNAME)
    assert.are.equal(4, K.AI_NUMERICHOST)
    assert.are.equal(8, K.AI_NUMERICSERV)
    -- getaddrinfo codes are result codes far below any -errno
    assert.is_true(K.EAI_NONAME < -1000)
  end)

  it('names the codes the library itself returns', function()
    -- (an interface that is not there, sendfile off Linux, atmark on a
    -- file, sendfile from a pipe, a resolver's system failure without an
    -- errno, an interface index past INT_MAX; glibc's getaddrinfo codes for
    -- a name without addresses of the family asked, or without any)
    local errnos = { ENODEV = 'No such device', ENOSYS = 'Function not implemented',
                     ENOTTY = 'Inappropriate ioctl for device', ESPIPE = 'Illegal seek',
                     EIO = 'Input/output error',
                     EOVERFLOW = 'Value too large for defined data type' }
    for name, message in pairs(errnos) do
      assert.are.equal(message, core.strerror(-K[name]), name)
    end
    assert.are.equal('Address family for hostname not supported', core.strerror(K.EAI_ADDRFAMILY))
    assert.are.equal('No address associated with hostname', core.strerror(K.EAI_NODATA))
  end)
end)

describe('net.core stream I/O', function()
  it('moves every byte value both ways, byte-exact', function()
    local a, b = pair()
    local bytes = {}
    for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
    local data = table.concat(bytes):rep(4)
    assert.are.equal(#data, core.sock_send(a, data, 0))
    assert.are.equal(data, recv_exact(b, #data))
    local back = data:reverse()
    assert.are.equal(#back, core.sock_send(b, back, 0))
    assert.are.equal(back, recv_exact(a, #back))
  end)

  it('sends str:sub(i, j) when given i and j', function()
    local a, b = pair()
    assert.are.equal(3, core.sock_send(a, 'abcdef', 0, 2, 4))
    assert.are.equal('bcd', core.sock_recv(b, 100, 0))
    assert.are.equal(1, core.sock_send(a, 'abcdef', 0, 6, 6))
    assert.are.equal(0, core.sock_send(a, 'abcdef', 0, 4, 3)) -- empty range
    assert.are.equal(6, core.sock_send(a, 'abcdef', 0, 1, 6))
    assert.are.equal('fabcdef', core.sock_recv(b, 100, 0))
  end)

  it('recv gives "" once the peer closed, and send gives -EPIPE', function()
    local a, b = pair()
    assert.are.equal(2, core.sock_send(a, 'hi', 0))
    assert.are.equal(0, close(a))
    assert.are.equal('hi', core.sock_recv(b, 10, 0))
    assert.are.equal('', core.sock_recv(b, 10, 0))
    assert.are.equal(-K.EPIPE, core.sock_send(b, 'x', 0)) -- and no SIGPIPE
  end)

  it('recv gives "" after the peer shut down writing', function()
    local a, b = pair()
    assert.are.equal(0, core.sock_shutdown(a, K.SHUT_WR))
    assert.are.equal('', core.sock_recv(b, 10, 0))
    assert.are.equal(-K.EPIPE, core.sock_send(a, 'x', 0))
  end)

  it('peeks without consuming', function()
    local a, b = pair()
    core.sock_send(a, 'peek', 0)
    assert.are.equal('pe', core.sock_recv(b, 2, K.MSG_PEEK))
    assert.are.equal('peek', core.sock_recv(b, 10, 0))
  end)

  it('returns -EAGAIN on an empty non-blocking socket', function()
    local _, b = pair(K.SOCK_STREAM, K.NONBLOCK)
    assert.are.equal(1, core.sock_nonblock(b, -1))
    assert.are.equal(-K.EAGAIN, core.sock_recv(b, 10, 0))
  end)

  -- Sizes below, at and above the 8 KiB stack buffer of net.capi, and a
  -- scratch buffer that must grow: 1 MiB in, unchanged, in order.
  it('receives 1 MiB byte-exact with recv sizes from 1 to 200000', function()
    local a, b = pair(K.SOCK_STREAM, K.NONBLOCK)
    local data = h.blob(1024 * 1024)
    local sizes = { 1, 100, 8192, 8193, 65536, 200000, 4096, 70000 }
    local got, have, sent = {}, 0, 0
    for step = 1, 100000 do
      if have == #data then break end
      if sent < #data then
        local n = core.sock_send(a, data, 0, sent + 1, #data)
        assert(n >= 0 or n == -K.EAGAIN, core.strerror(n))
        if n > 0 then sent = sent + n end
      end
      local s = core.sock_recv(b, sizes[step % #sizes + 1], 0)
      if type(s) == 'string' then
        assert(s ~= '', 'unexpected EOF')
        got[#got + 1] = s
        have = have + #s
      else
        assert.are.equal(-K.EAGAIN, s)
        assert.is_true(core.poll_fd(b, K.POLLIN, 5) > 0)
      end
    end
    local all = table.concat(got)
    assert.are.equal(#data, #all)
    assert.is_nil(h.first_diff(data, all))
  end)

  it('returns -EBADF on a closed descriptor', function()
    local a = pair()
    assert.are.equal(0, close(a))
    assert.are.equal(-K.EBADF, core.sock_close(a))
    assert.are.equal(-K.EBADF, core.sock_recv(a, 10, 0))
    assert.are.equal(-K.EBADF, core.sock_send(a, 'x', 0))
    assert.are.equal(-K.EBADF, core.sock_tcpnodelay(a, -1))
    assert.are.equal(-K.EBADF, core.sock_type(a))
    local code = core.sock_rcvtimeo(a, -1)
    assert.is_true(is_int(code))
    assert.are.equal(-K.EBADF, code)
  end)

  it('reports the state of a unix pair', function()
    local a = pair(K.SOCK_STREAM, K.CLOEXEC)
    assert.are.equal(K.SOCK_STREAM, core.sock_type(a))
    assert.are.equal(K.AF_UNIX, core.sock_family(a))
    assert.are.equal(0, core.sock_error(a))
    assert.are.equal(0, core.sock_atmark(a))
    assert.are.equal(1, core.sock_cloexec(a, -1))
    assert.are.equal(0, core.sock_cloexec(a, 0))
    assert.are.equal(0, core.sock_nonblock(a, -1))
    assert.are.equal(1, core.sock_nonblock(a, 1))
  end)
end)

describe('net.core buffers', function()
  it('receive into, read, move inside and send from buffer memory', function()
    local a, b = pair()
    local mem = core.buffer_new(16)
    assert.are.equal(('\0'):rep(16), core.buffer_string(mem, 0, 16)) -- new memory is zeroed
    assert.are.equal(5, core.sock_send(a, 'a\0cde', 0))
    assert.are.equal(3, core.sock_recvinto(b, mem, 2, 3, 0)) -- at most size
    assert.are.equal(2, core.sock_recvinto(b, mem, 5, 11, 0))
    assert.are.equal('a\0cde', core.buffer_string(mem, 2, 5))
    assert.are.equal(97, core.buffer_byte(mem, 2))
    assert.are.equal(0, core.buffer_byte(mem, 3))
    assert.is_true(is_int(core.buffer_byte(mem, 6)))
    core.buffer_move(mem, 0, 3, 4) -- overlapping, to the front
    assert.are.equal('\0cde', core.buffer_string(mem, 0, 4))
    assert.are.equal('', core.buffer_string(mem, 16, 0))
    assert.are.equal(3, core.sock_sendfrom(b, mem, 1, 3, 0))
    assert.are.equal('cde', core.sock_recv(a, 10, 0))
    assert.are.equal(0, close(a))
    assert.are.equal(0, core.sock_recvinto(b, mem, 0, 16, 0)) -- EOF
    assert.are.equal(-K.EPIPE, core.sock_sendfrom(b, mem, 0, 1, 0))
    close(b)
    assert.are.equal(-K.EBADF, core.sock_recvinto(b, mem, 0, 16, 0))
  end)
end)

describe('net.core guards', function()
  -- Creates a guard in a frame of its own, so that no dead stack slot of
  -- the caller keeps it alive through collectgarbage().
  local function drop_guard(fd)
    core.guard(fd)
  end

  -- The peers are non-blocking: a recv on a still-open pair gives -EAGAIN
  -- at once, where a blocking one would hang the suite.
  it('guard_close closes once; the second call is -EBADF', function()
    local a, b = core.sock_pair(K.AF_UNIX, K.SOCK_STREAM, 0, K.NONBLOCK)
    track(b)
    local g = core.guard(a)
    assert.are.equal(0, core.guard_close(g))
    assert.are.equal(-K.EBADF, core.guard_close(g))
    assert.are.equal('', core.sock_recv(b, 10, 0)) -- a is really closed
  end)

  it('a collected guard closes its fd', function()
    local a, b = core.sock_pair(K.AF_UNIX, K.SOCK_STREAM, 0, K.NONBLOCK)
    track(b)
    drop_guard(a)
    collectgarbage()
    collectgarbage()
    assert.are.equal('', core.sock_recv(b, 10, 0))
    assert.are.equal(-K.EPIPE, core.sock_send(b, 'x', 0))
  end)

  it('guard_release hands the fd over: the guard closes nothing after it', function()
    local a, b = core.sock_pair(K.AF_UNIX, K.SOCK_STREAM, 0, K.NONBLOCK)
    track(a); track(b)
    local g = core.guard(a)
    assert.are.equal(a, core.guard_release(g))
    assert.are.equal(-1, core.guard_release(g))
    assert.are.equal(-K.EBADF, core.guard_close(g))
    g = nil -- luacheck: ignore 311
    collectgarbage()
    collectgarbage()
    assert.are.equal(1, core.sock_send(b, 'x', 0)) -- a still open
    assert.are.equal('x', core.sock_recv(a, 10, 0))
  end)

  it('sock_recvfd arms the guard it is given with the descriptor that came', function()
    local a, b = core.sock_pair(K.AF_UNIX, K.SOCK_STREAM, 0, K.NONBLOCK)
    local c, d = core.sock_pair(K.AF_UNIX, K.SOCK_STREAM, 0, K.NONBLOCK)
    track(a); track(b); track(c); track(d)
    assert.are.equal(1, core.sock_sendfd(a, c, 'm', 0))
    local g = core.guard(-1)
    local passfd, str = core.sock_recvfd(b, 10, 0, g)
    assert.are.equal('m', str)
    assert.is_true(passfd >= 0 and passfd ~= c)
    assert.are.equal(0, core.guard_close(g)) -- the guard owned it
    assert.is_false(h.fd_is_open(passfd))
    -- nothing came: the guard stays empty
    g = core.guard(-1)
    assert.are.equal(-K.EAGAIN, core.sock_recvfd(b, 10, 0, g))
    assert.are.equal(-1, core.guard_release(g))
  end)

  it('200 collected guards close all their fds', function()
    local peers = {}
    for i = 1, 200 do
      local a, b = core.sock_pair(K.AF_UNIX, K.SOCK_STREAM, 0, K.NONBLOCK)
      peers[i] = track(b)
      drop_guard(a)
    end
    collectgarbage()
    collectgarbage()
    for i = 1, #peers do
      assert.are.equal('', core.sock_recv(peers[i], 10, 0))
    end
  end)
end)

describe('net.core addresses', function()
  local function round_trip(host, port, family)
    local addr = inet_addr(host, port)
    assert.are.equal(family, core.addr_family(addr))
    assert.are.equal(host, core.addr_host(addr))
    assert.are.equal(port, core.addr_port(addr))
  end

  it('round-trips 127.0.0.1 and ::1 with their ports', function()
    round_trip('127.0.0.1', 8080, K.AF_INET)
    round_trip('127.0.0.1', 0, K.AF_INET)
    round_trip('::1', 65535, K.AF_INET6)
  end)

  it('holds unix paths, abstract names and refuses long paths', function()
    local path = '/tmp/' .. ('p'):rep(90)
    local addr = unix_addr(path)
    assert.are.equal(K.AF_UNIX, core.addr_family(addr))
    assert.are.equal(path, core.addr_path(addr))
    assert.are.equal('\0abstract', core.addr_path(unix_addr('\0abstract')))
    assert.are.equal(-K.ENAMETOOLONG, unix_addr('/tmp/' .. ('x'):rep(200))) -- never cut
    assert.are.equal(-K.EAFNOSUPPORT, core.addr_host(addr))
    assert.are.equal(-K.EAFNOSUPPORT, core.addr_port(addr))
  end)

  it('resolves a numeric 127.0.0.1 with getaddrinfo', function()
    local list = core.getaddrinfo('127.0.0.1', '8080', K.AF_UNSPEC, K.SOCK_STREAM, 0,
      K.AI_NUMERICHOST)
    assert.are.equal('table', type(list))
    assert.are.equal(1, #list)
    local r = list[1]
    assert.are.equal(K.AF_INET, r.family)
    assert.are.equal(K.SOCK_STREAM, r.socktype)
    assert.are.equal(K.IPPROTO_TCP, r.protocol)
    assert.are.equal('127.0.0.1', core.addr_host(r.addr))
    assert.are.equal(8080, core.addr_port(r.addr))
    assert.is_nil(r.canonname)
  end)

  it('resolves ::1 and a nil service to port 0', function()
    local list = core.getaddrinfo('::1', nil, K.AF_INET6, K.SOCK_DGRAM, 0, K.AI_NUMERICHOST)
    assert.are.equal(1, #list)
    assert.are.equal(K.AF_INET6, list[1].family)
    assert.are.equal(K.IPPROTO_UDP, list[1].protocol)
    assert.are.equal('::1', core.addr_host(list[1].addr))
    assert.are.equal(0, core.addr_port(list[1].addr))
  end)

  it('fails a non-numeric host under AI_NUMERICHOST with a getaddrinfo code', function()
    local code = core.getaddrinfo('not-a-host', nil, K.AF_UNSPEC, K.SOCK_STREAM, 0,
      K.AI_NUMERICHOST)
    assert.are.equal(K.EAI_NONAME, code)
    -- gai_strerror(EAI_NONAME) of glibc, musl, and the BSDs/macOS
    local texts = {
      ['Name or service not known'] = true,
      ['Name does not resolve'] = true,
      ['nodename nor servname provided, or not known'] = true,
    }
    assert.is_true(texts[core.strerror(code)] ~= nil, core.strerror(code))
  end)

  -- doc/internals.md: a host or service holding a NUL byte, which would end
  -- the C string early ("127.0.0.1\0.example.com" is 127.0.0.1), is
  -- -EINVAL on both backends without calling net.h. The classes raise
  -- before that, so no test reached the FFI backend's refusal.
  it('refuses a host or a service holding a NUL byte with -EINVAL', function()
    local EINVAL = -K.EINVAL
    assert.are.equal(EINVAL, core.getaddrinfo('127.0.0.1\0.example.com', '80', K.AF_UNSPEC,
      K.SOCK_STREAM, 0, K.AI_NUMERICHOST))
    assert.are.equal(EINVAL, core.getaddrinfo('127.0.0.1', '80\0', K.AF_UNSPEC,
      K.SOCK_STREAM, 0, K.AI_NUMERICHOST))
    assert.are.equal(EINVAL, core.getaddrinfo(nil, '\0', K.AF_UNSPEC, K.SOCK_STREAM, 0, 0))
    -- the same strings without the NUL resolve
    assert.is_table(core.getaddrinfo('127.0.0.1', '80', K.AF_UNSPEC, K.SOCK_STREAM, 0,
      K.AI_NUMERICHOST))
  end)

  it('gives one record for a unix path', function()
    local list = core.getaddrinfo_unix('/tmp/some.sock', K.SOCK_STREAM)
    assert.are.equal(1, #list)
    assert.are.equal(K.AF_UNIX, list[1].family)
    assert.are.equal(K.SOCK_STREAM, list[1].socktype)
    assert.are.equal('/tmp/some.sock', core.addr_path(list[1].addr))
    assert.are.equal(-K.ENAMETOOLONG, core.getaddrinfo_unix(('x'):rep(200), K.SOCK_STREAM))
  end)
end)

describe('net.core TCP over loopback', function()
  for _, host in ipairs { '127.0.0.1', '::1' } do
    it('connects and accepts on ' .. host .. ': peer and local names match', function()
      local srv, c, a = tcp_trio(host)
      assert.are.equal(1, core.sock_acceptconn(srv, -1))
      assert.are.equal(0, core.sock_acceptconn(a, -1))
      local cname, apeer = core.sock_getsockname(c), core.sock_getpeername(a)
      assert.are.equal(host, core.addr_host(cname))
      assert.are.equal(core.addr_host(cname), core.addr_host(apeer))
      assert.are.equal(core.addr_port(cname), core.addr_port(apeer))
      assert.are.equal(core.addr_port(core.sock_getsockname(srv)),
        core.addr_port(core.sock_getpeername(c)))
      assert.are.equal(K.SOCK_STREAM, core.sock_type(a))
      assert.are.equal(core.addr_family(cname), core.sock_family(a))
      assert.are.equal(K.IPPROTO_TCP, core.sock_protocol(a))
      assert.are.equal(5, core.sock_send(c, 'hello', 0))
      assert.are.equal('hello', recv_exact(a, 5))
    end)
  end

  it('reads tcpnodelay back from the kernel', function()
    local _, c = tcp_trio('127.0.0.1')
    assert.are.equal(0, core.sock_tcpnodelay(c, -1))
    assert.are.equal(1, core.sock_tcpnodelay(c, 1))
    assert.are.equal(1, core.sock_tcpnodelay(c, -1))
    assert.are.equal(0, core.sock_tcpnodelay(c, 0))
    assert.are.equal(0, core.sock_tcpnodelay(c, -1))
  end)

  it('has every int option, each reading a non-negative integer on TCP/IPv6', function()
    local fd = tcp_listener('::1')
    local names = { 'reuseport', 'reuseaddr', 'debug', 'dontroute', 'timestamp',
      'broadcast', 'rcvbuf', 'rcvlowat', 'sndbuf', 'sndlowat', 'acceptconn',
      'oobinline', 'keepalive', 'ipv6only', 'tcpnodelay', 'tcpcork',
      'tcpkeepalive', 'tcpkeepintvl', 'tcpkeepcnt' }
    for _, name in ipairs(names) do
      local v = core['sock_' .. name](fd, -1)
      assert(is_int(v) and v >= 0, name .. ' read ' .. tostring(v))
    end
  end)

  it('sets and reads back int options', function()
    local _, c = tcp_trio('127.0.0.1')
    assert.are.equal(1, core.sock_keepalive(c, 1))
    assert.are.equal(1, core.sock_keepalive(c, -1))
    assert.are.equal(5, core.sock_tcpkeepcnt(c, 5))
    assert.are.equal(30, core.sock_tcpkeepalive(c, 30))
    assert.are.equal(1, core.sock_reuseaddr(c, 1))
    local requested = 65536 -- Linux doubles it; the result is what it keeps
    local got = core.sock_rcvbuf(c, requested)
    assert.is_true(got >= requested)
    assert.are.equal(got, core.sock_rcvbuf(c, -1))
    -- a TCP option on a unix socket is refused with a code, not faked
    local u = pair()
    local code = core.sock_tcpnodelay(u, -1)
    assert.is_true(code == -K.EOPNOTSUPP or code == -K.ENOPROTOOPT, core.strerror(code))
  end)

  it('reads fractional receive and send timeouts back', function()
    local _, c = tcp_trio('127.0.0.1')
    assert.are.equal(0, core.sock_rcvtimeo(c, -1))
    assert.is_true(math.abs(core.sock_rcvtimeo(c, 0.5) - 0.5) < 0.01)
    assert.is_true(math.abs(core.sock_rcvtimeo(c, -1) - 0.5) < 0.01)
    assert.is_true(math.abs(core.sock_sndtimeo(c, 1.5) - 1.5) < 0.01)
    assert.are.equal(0, core.sock_rcvtimeo(c, 0))
  end)

  it('switches linger on and off', function()
    local _, c = tcp_trio('127.0.0.1')
    local on, sec = core.sock_linger(c, -1)
    assert.are.equal(0, on)
    assert.is_true(is_int(sec))
    on, sec = core.sock_linger(c, 1, 5)
    assert.are.equal(1, on)
    assert.are.equal(5, sec)
    on, sec = core.sock_linger(c, -1)
    assert.are.same({ 1, 5 }, { on, sec })
    on = core.sock_linger(c, 0, 0)
    assert.are.equal(0, on)
    assert.are.equal(0, (core.sock_linger(c, -1)))
  end)

  it('refuses a connect to a port bound without listening', function()
    local addr = inet_addr('127.0.0.1', 0)
    local holder = track(core.sock_open(K.AF_INET, K.SOCK_STREAM, 0, 0))
    assert.are.equal(0, core.sock_bind(holder, addr))
    local port = core.addr_port(core.sock_getsockname(holder))
    local c = track(core.sock_open(K.AF_INET, K.SOCK_STREAM, 0, 0))
    assert.are.equal(-K.ECONNREFUSED, core.sock_connect(c, inet_addr('127.0.0.1', port)))
  end)

  it('completes a non-blocking connect, seen through poll_fd and sock_error', function()
    local _, port = tcp_listener('127.0.0.1')
    local c = track(core.sock_open(K.AF_INET, K.SOCK_STREAM, 0, K.NONBLOCK))
    assert.are.equal(1, core.sock_nonblock(c, -1))
    local rc = core.sock_connect(c, inet_addr('127.0.0.1', port))
    assert.is_true(rc == 0 or rc == -K.EINPROGRESS, core.strerror(rc))
    if h.LINUX then assert.are.equal(-K.EINPROGRESS, rc) end -- (so the poll below waits)
    assert.is_true(has(core.poll_fd(c, K.POLLOUT, 5), K.POLLOUT))
    assert.are.equal(0, core.sock_error(c))
  end)
end)

describe('net.core datagrams', function()
  it('sendto / recvfrom over UDP on 127.0.0.1 name the sender', function()
    local function udp()
      local fd = track(core.sock_open(K.AF_INET, K.SOCK_DGRAM, 0, 0))
      assert.are.equal(0, core.sock_bind(fd, inet_addr('127.0.0.1', 0)))
      return fd, core.sock_getsockname(fd)
    end
    local s, sname = udp()
    local r, rname = udp()
    local msg = 'dgram\0with\255bytes'
    assert.are.equal(#msg, core.sock_sendto(s, msg, 0, rname))
    local data, from = core.sock_recvdgram(r, 100000, 0)
    assert.are.equal(msg, data)
    assert.are.equal(K.AF_INET, core.addr_family(from))
    assert.are.equal('127.0.0.1', core.addr_host(from))
    assert.are.equal(core.addr_port(sname), core.addr_port(from))
  end)

  it('recvdgram from an unnamed unix sender gives the data and an unnamed unix address', function()
    local a, b = pair(K.SOCK_DGRAM)
    assert.are.equal(3, core.sock_sendto(a, 'abc', 0, nil))
    local data, from, full = core.sock_recvdgram(b, 10, 0)
    assert.are.equal('abc', data)
    assert.are.equal(3, full)
    assert.are.equal(K.AF_UNIX, core.addr_family(from)) -- the kernel names no one:
    assert.are.equal('', core.addr_path(from))          -- libnet says unix, no path
  end)

  it('names a bound unix sender in a temporary directory', function()
    local dir = h.tmpdir()
    local ok, err = pcall(function()
      local function bound(name)
        local fd = track(core.sock_open(K.AF_UNIX, K.SOCK_DGRAM, 0, 0))
        assert.are.equal(0, core.sock_bind(fd, unix_addr(dir .. '/' .. name)))
        assert.are.equal(dir .. '/' .. name, core.addr_path(core.sock_getsockname(fd)))
        return fd
      end
      local r, s = bound('r.sock'), bound('s.sock')
      assert.are.equal(2, core.sock_sendto(s, 'to', 0, unix_addr(dir .. '/r.sock')))
      local data, from = core.sock_recvdgram(r, 10, 0)
      assert.are.equal('to', data)
      assert.are.equal(K.AF_UNIX, core.addr_family(from))
      assert.are.equal(dir .. '/s.sock', core.addr_path(from))
    end)
    h.rmdir(dir)
    assert(ok, err)
  end)
end)

describe('net.core poll_fd', function()
  it('reports readiness: none, writable, readable, hang-up', function()
    local a, b = pair()
    assert.are.equal(0, core.poll_fd(b, K.POLLIN, 0))
    assert.is_true(has(core.poll_fd(b, K.POLLOUT, 0), K.POLLOUT))
    core.sock_send(a, 'x', 0)
    assert.is_true(has(core.poll_fd(b, K.POLLIN, 5), K.POLLIN))
    assert.are.equal('x', core.sock_recv(b, 1, 0))
    close(a)
    local ev = core.poll_fd(b, K.POLLIN, 5)
    assert.is_true(has(ev, K.POLLIN) or has(ev, K.POLLHUP))
    if h.LINUX then assert.is_true(has(ev, K.POLLHUP), 'events ' .. ev) end -- (POLLIN comes at any end of file)
  end)

  it('returns -EBADF for a closed descriptor (POLLNVAL)', function()
    local a = pair()
    close(a)
    assert.are.equal(-K.EBADF, core.poll_fd(a, K.POLLIN, 0))
  end)
end)

-- The C module's own guarantees: a wrong argument raises instead of
-- crashing, and a number beyond int's range never wraps to another fd.
if BACKEND == 'capi' then
  describe('net.capi arguments', function()
    it('raises for wrong types instead of crashing', function()
      assert.is_false(pcall(core.addr_host, 'not an address'))
      assert.is_false(pcall(core.guard_close, inet_addr('127.0.0.1', 1)))
      assert.is_false(pcall(core.sock_send, 0, {}, 0))
      assert.is_false(pcall(core.sock_recv, 0, -1, 0))
    end)

    it('buffer primitives raise for ranges outside the memory', function()
      local a, b = pair()
      local mem = core.buffer_new(8)
      local function refused(fn, ...)
        local ok, msg = pcall(fn, ...)
        assert.is_false(ok)
        assert.is_truthy(tostring(msg):find('out of range', 1, true), msg)
      end
      refused(core.buffer_string, mem, 0, 9)
      refused(core.buffer_string, mem, 9, 0)
      refused(core.buffer_string, mem, -1, 1)
      refused(core.buffer_string, mem, 4, 5)
      refused(core.buffer_string, mem, 0, -1)
      refused(core.buffer_string, mem, 2 ^ 40, 1)
      refused(core.buffer_string, mem, 1, 2 ^ 32 + 1) -- never wraps to 1
      refused(core.buffer_byte, mem, 8)
      refused(core.buffer_byte, mem, -1)
      refused(core.buffer_move, mem, 0, 4, 5)
      refused(core.buffer_move, mem, 4, 0, 5)
      refused(core.buffer_move, mem, 9, 0, 0)
      refused(core.sock_recvinto, b, mem, 4, 5, 0)
      refused(core.sock_recvinto, b, mem, 9, 0, 0)
      refused(core.sock_sendfrom, a, mem, 0, 9, 0)
      refused(core.sock_sendfrom, a, mem, 8, 1, 0)
      -- only buffer memory is accepted
      assert.is_false(pcall(core.buffer_string, 'not memory', 0, 1))
      assert.is_false(pcall(core.sock_recvinto, b, inet_addr('127.0.0.1', 1), 0, 1, 0))
      assert.is_false(pcall(core.buffer_new, -1))
      -- the edges themselves are in range; nothing was sent by a refused call
      assert.are.equal(8, #core.buffer_string(mem, 0, 8))
      assert.are.equal(1, core.sock_sendfrom(a, mem, 7, 1, 0))
      assert.are.equal('\0', core.sock_recv(b, 100, 0))
    end)

    it('clamps out-of-range descriptors: 2^32 is not fd 0', function()
      assert.are.equal(-K.EBADF, core.sock_type(2 ^ 32))
      assert.are.equal(-K.EBADF, core.sock_type(-2 ^ 32))
    end)
  end)
end
