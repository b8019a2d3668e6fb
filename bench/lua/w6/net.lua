-- W6 through lua-net's public API (net.dgram.inet; doc/reference.md).
-- Echo: sendto and recvfrom (the sender as a net.addrinfo), the echo going
-- back to the address recvfrom gave. Stream: recvfrom per datagram, or
-- recvmany(BENCH_BATCH, nil, batch) (one recvmmsg per batch, into one
-- reused net.dgram.Batch; the sender made only for the first of a burst).
local inet = require 'net.dgram.inet'
local dgram = require 'net.dgram'
local c = require 'w6.common'

local M = {}

local function udp(h)
  local sock, err = inet.new { host = c.HOST }
  if not sock then h.fail('inet.new: %s', tostring(err)) end
  sock:settimeout(c.LOSS_TIMEOUT) -- only a receive that would block waits
  return sock, sock:getsockname()
end

function M.w6echo(h, rounds)
  local a = udp(h)
  local b, bai = udp(h)
  local msg, other = c.datagram(0, 0), c.datagram(1, 0)
  local DGRAM = c.DGRAM
  local t0 = h.now()
  for i = 1, rounds do
    if a:sendto(msg, bai) ~= DGRAM then h.fail('round %d: sendto failed', i) end
    local s, err, _, from = b:recvfrom()
    if not s then c.check(h, s, msg, 2 * i - 1, err) end
    if b:sendto(s, from) ~= #s then h.fail('round %d: echo failed', i) end
    local r
    r, err, _, from = a:recvfrom()
    if r ~= msg then c.check(h, r, msg, 2 * i, err) end
    msg, other = other, msg
    if i == 1 then c.check_port(h, from:port(), bai:port(), 2) end
  end
  local t = h.now() - t0
  a:close()
  b:close()
  return t, rounds
end

function M.w6stream(h, count)
  c.check_count(h, count)
  local s, sai = udp(h)
  local r, rai = udp(h)
  local sport, sets, BURST, BATCH = sai:port(), c.sets(), c.BURST, c.BATCH
  local batch = dgram.batch() -- refilled by every recvmany: no table per datagram
  local t, done = 0, 0
  while done < count do
    local want = sets[done / BURST % 2 + 1]
    for k = 1, BURST do
      if s:sendto(want[k], rai) ~= c.DGRAM then h.fail('sendto failed') end
    end
    local t0 = h.now()
    if not BATCH then
      for k = 1, BURST do
        local d, err, _, from = r:recvfrom()
        if d ~= want[k] then c.check(h, d, want[k], done + k, err) end
        if k == 1 then c.check_port(h, from:port(), sport, done + 1) end
      end
    else
      local got = 0
      while got < BURST do
        local n, err = r:recvmany(BURST - got < BATCH and BURST - got or BATCH, nil, batch)
        if not n then c.check(h, nil, want[got + 1], done + got + 1, err) end
        for i = 1, n do -- a datagram cut short differs too: no cut(i) needed, as with recvfrom
          if batch[i] ~= want[got + i] then c.check(h, batch[i], want[got + i], done + got + i) end
        end
        if got == 0 then c.check_port(h, batch:sender(1):port(), sport, done + 1) end
        got = got + n
      end
    end
    t = t + (h.now() - t0)
    done = done + BURST
  end
  s:close()
  r:close()
  return t, done
end

return M
