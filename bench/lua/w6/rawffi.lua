-- W6 with LuaJIT calling libc through the FFI (declarations of its own):
-- sendto/recvfrom into one reused buffer, compared with memcmp, no Lua
-- string per datagram. Linux x86-64 constants.
local ffi = require 'ffi'
local bit = require 'bit'
local c = require 'w6.common'
local C = ffi.C

ffi.cdef [[
  struct w6_sockaddr_in { uint16_t family; uint16_t port; uint32_t addr; uint8_t zero[8]; };
  struct w6_timeval { long tv_sec; long tv_usec; };
  int socket(int domain, int type, int protocol);
  int bind(int fd, const void *addr, uint32_t len);
  int getsockname(int fd, void *addr, uint32_t *len);
  int setsockopt(int fd, int level, int name, const void *val, uint32_t len);
  long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t alen);
  long recvfrom(int fd, void *buf, size_t len, int flags, void *addr, uint32_t *alen);
  int close(int fd);
  int memcmp(const void *a, const void *b, size_t n);
  char *strerror(int errnum);
]]

local AF_INET, SOCK_DGRAM, SOCK_CLOEXEC = 2, 2, 0x80000
local SOL_SOCKET, SO_RCVTIMEO, EAGAIN = 1, 20, 11
local LOOPBACK = 0x0100007f -- 127.0.0.1 in network byte order, little-endian host
local ROOM = 65536

local M = {}

local function swap16(x)
  return bit.bor(bit.rshift(x, 8), bit.lshift(bit.band(x, 0xff), 8))
end

local sin_t = ffi.typeof('struct w6_sockaddr_in')
local SIN_LEN = ffi.sizeof(sin_t)

local function udp(h)
  local fd = C.socket(AF_INET, SOCK_DGRAM + SOCK_CLOEXEC, 0)
  local sin, len = sin_t(AF_INET, 0, LOOPBACK), ffi.new('uint32_t[1]', SIN_LEN)
  local tv = ffi.new('struct w6_timeval', c.LOSS_TIMEOUT, 0)
  if fd < 0 or C.bind(fd, sin, SIN_LEN) < 0 or C.getsockname(fd, sin, len) < 0
    or C.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, ffi.sizeof(tv)) < 0 then
    h.fail('udp socket: %s', ffi.string(C.strerror(ffi.errno())))
  end
  return fd, sin
end

-- Fails with why a receive returned n for datagram number at.
local function recv_failed(h, n, at)
  if n < 0 and ffi.errno() == EAGAIN then c.check(h, nil, '', at) end
  if n < 0 then h.fail('recvfrom: %s', ffi.string(C.strerror(ffi.errno()))) end
  h.fail('datagram %d has %d bytes, expected %d', at, tonumber(n), c.DGRAM)
end

function M.w6echo(h, rounds)
  local a = udp(h)
  local b, bsin = udp(h)
  local msg, other = c.datagram(0, 0), c.datagram(1, 0)
  local DGRAM = c.DGRAM
  local buf, from, flen = ffi.new('char[?]', ROOM), sin_t(), ffi.new('uint32_t[1]')
  local t0 = h.now()
  for i = 1, rounds do
    if C.sendto(a, msg, DGRAM, 0, bsin, SIN_LEN) ~= DGRAM then h.fail('round %d: sendto failed', i) end
    flen[0] = SIN_LEN
    local n = C.recvfrom(b, buf, ROOM, 0, from, flen)
    if n ~= DGRAM then recv_failed(h, n, 2 * i - 1) end
    if C.sendto(b, buf, n, 0, from, flen[0]) ~= DGRAM then h.fail('round %d: echo failed', i) end
    flen[0] = SIN_LEN
    n = C.recvfrom(a, buf, ROOM, 0, from, flen)
    if n ~= DGRAM then recv_failed(h, n, 2 * i) end
    if C.memcmp(buf, msg, DGRAM) ~= 0 then c.check(h, ffi.string(buf, DGRAM), msg, 2 * i) end
    if from.port ~= bsin.port then c.check_port(h, swap16(from.port), swap16(bsin.port), 2 * i) end
    msg, other = other, msg
  end
  local t = h.now() - t0
  C.close(a)
  C.close(b)
  return t, rounds
end

function M.w6stream(h, count)
  c.check_count(h, count)
  local s, ssin = udp(h)
  local r, rsin = udp(h)
  local sets, BURST, DGRAM = c.sets(), c.BURST, c.DGRAM
  local buf, from, flen = ffi.new('char[?]', ROOM), sin_t(), ffi.new('uint32_t[1]')
  local t, done = 0, 0
  while done < count do
    local want = sets[done / BURST % 2 + 1]
    for k = 1, BURST do
      if C.sendto(s, want[k], DGRAM, 0, rsin, SIN_LEN) ~= DGRAM then h.fail('sendto failed') end
    end
    local t0 = h.now()
    for k = 1, BURST do
      flen[0] = SIN_LEN
      local n = C.recvfrom(r, buf, ROOM, 0, from, flen)
      if n ~= DGRAM then recv_failed(h, n, done + k) end
      if C.memcmp(buf, want[k], DGRAM) ~= 0 then c.check(h, ffi.string(buf, DGRAM), want[k], done + k) end
      if k == 1 and from.port ~= ssin.port then
        c.check_port(h, swap16(from.port), swap16(ssin.port), done + 1)
      end
    end
    t = t + (h.now() - t0)
    done = done + BURST
  end
  C.close(s)
  C.close(r)
  return t, done
end

return M
