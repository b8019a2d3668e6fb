-- The floor for any Lua binding: LuaJIT calling libc through the FFI with
-- declarations of its own, no library in between. Reads go into one reusable
-- buffer and no Lua string is made per call. Linux x86-64 constants.
local ffi = require 'ffi'
local bit = require 'bit'
local C = ffi.C

ffi.cdef [[
  struct bench_sockaddr_in { uint16_t family; uint16_t port; uint32_t addr; uint8_t zero[8]; };
  int socket(int domain, int type, int protocol);
  int socketpair(int domain, int type, int protocol, int sv[2]);
  int bind(int fd, const void *addr, uint32_t len);
  int listen(int fd, int backlog);
  int accept4(int fd, void *addr, uint32_t *len, int flags);
  int connect(int fd, const void *addr, uint32_t len);
  int getsockname(int fd, void *addr, uint32_t *len);
  int getsockopt(int fd, int level, int name, void *val, uint32_t *len);
  int setsockopt(int fd, int level, int name, const void *val, uint32_t len);
  long send(int fd, const void *buf, size_t len, int flags);
  long recv(int fd, void *buf, size_t len, int flags);
  int close(int fd);
  int memcmp(const void *a, const void *b, size_t n);
  char *strerror(int errnum);
]]

local AF_UNIX, AF_INET, SOCK_STREAM, SOCK_CLOEXEC = 1, 2, 1, 0x80000
local IPPROTO_TCP, TCP_NODELAY, MSG_NOSIGNAL, SOMAXCONN = 6, 1, 0x4000, 4096
local LOOPBACK = 0x0100007f -- 127.0.0.1 in network byte order, little-endian host

local M = {}
local h -- the harness, set by each workload

local function check(r, what)
  if r < 0 then h.fail('%s: %s', what, ffi.string(C.strerror(ffi.errno()))) end
  return r
end

local function swap16(x)
  return bit.bor(bit.rshift(x, 8), bit.lshift(bit.band(x, 0xff), 8))
end

local sin_t = ffi.typeof('struct bench_sockaddr_in')
local SIN_LEN = ffi.sizeof(sin_t)

local function loopback(port)
  return sin_t(AF_INET, swap16(port), LOOPBACK)
end

-- A listening socket on 127.0.0.1 and its port.
local function listen_loopback()
  local fd = check(C.socket(AF_INET, SOCK_STREAM + SOCK_CLOEXEC, 0), 'socket')
  local sin = loopback(0)
  check(C.bind(fd, sin, SIN_LEN), 'bind')
  check(C.listen(fd, SOMAXCONN), 'listen')
  local len = ffi.new('uint32_t[1]', SIN_LEN)
  check(C.getsockname(fd, sin, len), 'getsockname')
  return fd, swap16(sin.port)
end

local function accept(fd)
  return check(C.accept4(fd, nil, nil, SOCK_CLOEXEC), 'accept4')
end

function M.w1(harness, rounds)
  h = harness
  local sv = ffi.new('int[2]')
  check(C.socketpair(AF_UNIX, SOCK_STREAM + SOCK_CLOEXEC, 0, sv), 'socketpair')
  local a, b = sv[0], sv[1]
  local msg, other = h.messages()
  local MSG = h.MSG
  local buf = ffi.new('char[?]', MSG)
  local t0 = h.now()
  for i = 1, rounds do
    if C.send(a, msg, MSG, MSG_NOSIGNAL) ~= MSG then check(-1, 'send') end
    if C.recv(b, buf, MSG, 0) ~= MSG then h.fail('round %d: short recv', i) end
    if C.send(b, buf, MSG, MSG_NOSIGNAL) ~= MSG then check(-1, 'send') end
    if C.recv(a, buf, MSG, 0) ~= MSG then h.fail('round %d: short recv', i) end
    if C.memcmp(buf, msg, MSG) ~= 0 then h.check_echo(ffi.string(buf, MSG), msg, i) end
    msg, other = other, msg
  end
  local t = h.now() - t0
  C.close(a)
  C.close(b)
  return t, rounds
end

function M.w2(harness, bytes)
  h = harness
  local lfd, port = listen_loopback()
  h.connect(port, bytes)
  local fd = accept(lfd)
  local CHUNK, PERIOD = h.CHUNK, h.PERIOD
  local buf = ffi.new('uint8_t[?]', CHUNK)
  local total, first, last = 0, nil, 0
  local t0 = h.now()
  while true do
    local n = tonumber(C.recv(fd, buf, CHUNK, 0))
    if n <= 0 then check(n, 'recv'); break end
    if buf[0] ~= total % PERIOD then h.check_chunk_start(ffi.string(buf, 1), total) end
    if total == 0 then first = ffi.string(buf, n) end
    last = n
    total = total + n
  end
  local t = h.now() - t0
  C.close(fd)
  C.close(lfd)
  h.check_stream(first, ffi.string(buf, last), total)
  return t, total
end

function M.w3(harness, calls)
  h = harness
  local lfd, port = listen_loopback()
  local cfd = check(C.socket(AF_INET, SOCK_STREAM + SOCK_CLOEXEC, 0), 'socket')
  check(C.connect(cfd, loopback(port), SIN_LEN), 'connect')
  local sfd = accept(lfd)
  local val, len = ffi.new('int[1]', 1), ffi.new('uint32_t[1]')
  check(C.setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, val, 4), 'setsockopt')
  local t0 = h.now()
  for i = 1, calls do
    val[0], len[0] = 0, 4
    check(C.getsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, val, len), 'getsockopt')
    if val[0] ~= 1 then h.expect(val[0], 1, 'TCP_NODELAY read #' .. i) end
  end
  local t = h.now() - t0
  C.close(sfd)
  C.close(cfd)
  C.close(lfd)
  return t, calls
end

function M.w4(harness, conns)
  h = harness
  local lfd, port = listen_loopback()
  h.connect(port, conns)
  local t0
  for i = 1, conns do
    local fd = accept(lfd)
    if i == 1 then t0 = h.now() end
    check(C.close(fd), 'close')
  end
  local t = h.now() - t0
  C.close(lfd)
  return t, conns
end

return M
