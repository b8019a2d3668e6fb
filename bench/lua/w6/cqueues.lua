-- W6 with cqueues (Debian lua-cqueues). Its sockets have no sendto or
-- recvfrom: a datagram socket is connected (cs.connect{type = SOCK_DGRAM})
-- or only receives (cs.listen), reading a datagram with read(-65536) and
-- writing one with write (mode "bn": no output buffering). So the echo's two
-- sockets are connected to each other, and the stream cannot check the
-- sender. Outside a controller a read that would block polls, up to the
-- socket's timeout.
local cs = require 'cqueues.socket'
local c = require 'w6.common'

local M = {}

local function must(h, what, v, err)
  if v == nil then h.fail('%s: %s', what, tostring(err)) end
  return v
end

local function setup(sock)
  sock:setmode('bn', 'bn')
  sock:settimeout(c.LOSS_TIMEOUT)
  return sock
end

-- A bound, unconnected datagram socket on 127.0.0.1 and its port.
local function bound(h)
  local sock = setup(must(h, 'listen', cs.listen { host = c.HOST, port = 0, type = cs.SOCK_DGRAM }))
  must(h, 'listen', sock:listen())
  local _, _, port = sock:localname()
  return sock, port
end

-- A datagram socket connected to port, bound to bindport (nil: any).
local function connected(h, port, bindport)
  local sock = setup(must(h, 'connect', cs.connect { host = c.HOST, port = port, type = cs.SOCK_DGRAM,
    bind = bindport and { address = c.HOST, port = bindport } or nil }))
  must(h, 'connect', sock:connect())
  return sock, select(3, sock:localname())
end

-- nil, err of a read cqueues gave up on: a timeout is a lost datagram.
local function lost(err) return err ~= 110 and err or nil end -- ETIMEDOUT

function M.w6echo(h, rounds)
  local b0, pb = bound(h)
  local a, pa = connected(h, pb)
  b0:close() -- its port goes to b, connected back to a
  local b = connected(h, pa, pb)
  local msg, other = c.datagram(0, 0), c.datagram(1, 0)
  local t0 = h.now()
  for i = 1, rounds do
    if not a:write(msg) then h.fail('round %d: send failed', i) end
    local s, err = b:read(-65536)
    if not s then c.check(h, s, msg, 2 * i - 1, lost(err)) end
    if not b:write(s) then h.fail('round %d: echo failed', i) end
    local r
    r, err = a:read(-65536)
    if r ~= msg then c.check(h, r, msg, 2 * i, lost(err)) end
    msg, other = other, msg
  end
  local t = h.now() - t0
  a:close()
  b:close()
  return t, rounds
end

function M.w6stream(h, count)
  c.check_count(h, count)
  local r, pr = bound(h)
  local s = connected(h, pr)
  local sets, BURST = c.sets(), c.BURST
  local t, done = 0, 0
  while done < count do
    local want = sets[done / BURST % 2 + 1]
    for k = 1, BURST do
      if not s:write(want[k]) then h.fail('send failed') end
    end
    local t0 = h.now()
    for k = 1, BURST do
      local d, err = r:read(-65536)
      if d ~= want[k] then c.check(h, d, want[k], done + k, lost(err)) end
    end
    t = t + (h.now() - t0)
    done = done + BURST
  end
  s:close()
  r:close()
  return t, done
end

return M
