-- W6 with luaposix (Debian lua-posix): posix.sys.socket's socket, bind,
-- sendto(fd, data, addr) and recvfrom(fd, size) (the sender as a table
-- {family, addr, port}); SO_RCVTIMEO bounds a receive.
local S = require 'posix.sys.socket'
local c = require 'w6.common'

local M = {}

-- The local port of fd. luaposix 33.4's getsockname returns {family = 0}
-- here, so the port is looked up by the socket's inode in /proc/net/udp.
local function port_of(h, fd)
  local st = require('posix.sys.stat').stat('/proc/self/fd/' .. fd)
  local inode = st and tostring(st.st_ino)
  for line in io.lines('/proc/net/udp') do
    local port, ino = line:match('^%s*%d+: %x+:(%x+) %x+:%x+ %x+ %x+:%x+ %x+:%x+ %x+%s+%d+%s+%d+ (%d+)')
    if ino and ino == inode then return tonumber(port, 16) end
  end
  h.fail('no port found for fd %d (inode %s)', fd, tostring(inode))
end

local function udp(h)
  local fd, err = S.socket(S.AF_INET, S.SOCK_DGRAM, 0)
  if not fd then h.fail('socket: %s', err) end
  local ok
  ok, err = S.bind(fd, { family = S.AF_INET, addr = c.HOST, port = 0 })
  if not ok then h.fail('bind: %s', err) end
  ok, err = S.setsockopt(fd, S.SOL_SOCKET, S.SO_RCVTIMEO, c.LOSS_TIMEOUT, 0)
  if not ok then h.fail('SO_RCVTIMEO: %s', err) end
  return fd, { family = S.AF_INET, addr = c.HOST, port = port_of(h, fd) }
end

-- The error of a failed recvfrom: EAGAIN is a lost datagram.
local function lost(err, code) return code ~= 11 and err or nil end

function M.w6echo(h, rounds)
  local a = udp(h)
  local b, bname = udp(h)
  local msg, other = c.datagram(0, 0), c.datagram(1, 0)
  local DGRAM = c.DGRAM
  local unistd = require 'posix.unistd'
  local t0 = h.now()
  for i = 1, rounds do
    if S.sendto(a, msg, bname) ~= DGRAM then h.fail('round %d: sendto failed', i) end
    local s, from, code = S.recvfrom(b, 65536)
    if not s then c.check(h, s, msg, 2 * i - 1, lost(from, code)) end
    if S.sendto(b, s, from) ~= #s then h.fail('round %d: echo failed', i) end
    local r
    r, from, code = S.recvfrom(a, 65536)
    if r ~= msg then c.check(h, r, msg, 2 * i, lost(from, code)) end
    if from.port ~= bname.port then c.check_port(h, from.port, bname.port, 2 * i) end
    msg, other = other, msg
  end
  local t = h.now() - t0
  unistd.close(a)
  unistd.close(b)
  return t, rounds
end

function M.w6stream(h, count)
  c.check_count(h, count)
  local s, sname = udp(h)
  local r, rname = udp(h)
  local sets, BURST, DGRAM = c.sets(), c.BURST, c.DGRAM
  local t, done = 0, 0
  while done < count do
    local want = sets[done / BURST % 2 + 1]
    for k = 1, BURST do
      if S.sendto(s, want[k], rname) ~= DGRAM then h.fail('sendto failed') end
    end
    local t0 = h.now()
    for k = 1, BURST do
      local d, from, code = S.recvfrom(r, 65536)
      if d ~= want[k] then c.check(h, d, want[k], done + k, lost(from, code)) end
      if k == 1 then c.check_port(h, from.port, sname.port, done + 1) end
    end
    t = t + (h.now() - t0)
    done = done + BURST
  end
  local unistd = require 'posix.unistd'
  unistd.close(s)
  unistd.close(r)
  return t, done
end

return M
