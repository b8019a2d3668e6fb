-- W6 with LuaSocket (Debian lua-socket): socket.udp(), sendto(data, ip,
-- port) and receivefrom() (data, ip, port; its default room is 8 KiB).
-- LuaSocket keeps the socket non-blocking and polls when a receive would
-- block, up to the timeout.
local socket = require 'socket'
local c = require 'w6.common'

local M = {}

local function udp(h)
  local u = socket.udp()
  local ok, err = u:setsockname(c.HOST, 0)
  if not ok then h.fail('setsockname: %s', tostring(err)) end
  u:settimeout(c.LOSS_TIMEOUT)
  local _, port = u:getsockname()
  return u, tonumber(port)
end

-- LuaSocket says 'timeout' where the others return nil.
local function lost(err) return err ~= 'timeout' and err or nil end

function M.w6echo(h, rounds)
  local a = udp(h)
  local b, pb = udp(h)
  local msg, other = c.datagram(0, 0), c.datagram(1, 0)
  local DGRAM, HOST = c.DGRAM, c.HOST
  local t0 = h.now()
  for i = 1, rounds do
    if a:sendto(msg, HOST, pb) ~= DGRAM then h.fail('round %d: sendto failed', i) end
    local s, ip, port = b:receivefrom()
    if not s then c.check(h, s, msg, 2 * i - 1, lost(ip)) end
    if b:sendto(s, ip, port) ~= #s then h.fail('round %d: echo failed', i) end
    local r
    r, ip, port = a:receivefrom()
    if r ~= msg then c.check(h, r, msg, 2 * i, lost(ip)) end
    if port ~= pb then c.check_port(h, port, pb, 2 * i) end
    msg, other = other, msg
  end
  local t = h.now() - t0
  a:close()
  b:close()
  return t, rounds
end

function M.w6stream(h, count)
  c.check_count(h, count)
  local s, ps = udp(h)
  local r, pr = udp(h)
  local sets, BURST, DGRAM, HOST = c.sets(), c.BURST, c.DGRAM, c.HOST
  local t, done = 0, 0
  while done < count do
    local want = sets[done / BURST % 2 + 1]
    for k = 1, BURST do
      if s:sendto(want[k], HOST, pr) ~= DGRAM then h.fail('sendto failed') end
    end
    local t0 = h.now()
    for k = 1, BURST do
      local d, ip, port = r:receivefrom()
      if d ~= want[k] then c.check(h, d, want[k], done + k, lost(ip)) end
      if k == 1 then c.check_port(h, port, ps, done + 1) end
    end
    t = t + (h.now() - t0)
    done = done + BURST
  end
  s:close()
  r:close()
  return t, done
end

return M
