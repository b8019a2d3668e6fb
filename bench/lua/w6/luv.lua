-- W6 with luv (Debian lua-luv): libuv's loop, so receiving runs as the
-- callbacks of udp:recv_start inside uv.run() (libuv's 64 KiB buffer, the
-- sender as a table {ip, port, family}); sends use udp:try_send. A timer
-- fails the run when a second passes without a datagram (a lost one).
local uv = require 'luv'
local c = require 'w6.common'

local M = {}

local function udp(h)
  local u = uv.new_udp()
  local ok, err = u:bind(c.HOST, 0)
  if not ok then h.fail('bind: %s', tostring(err)) end
  return u, u:getsockname().port
end

-- A repeating timer that fails when progress() has not moved for a period.
local function watchdog(h, progress)
  local last = -1
  local t = uv.new_timer()
  t:start(c.LOSS_TIMEOUT * 1000, c.LOSS_TIMEOUT * 1000, function()
    local now = progress()
    if now == last then c.check(h, nil, '', now + 1) end
    last = now
  end)
  return t
end

function M.w6echo(h, rounds)
  local a = udp(h)
  local b, pb = udp(h)
  local msg, other = c.datagram(0, 0), c.datagram(1, 0)
  local DGRAM, HOST = c.DGRAM, c.HOST
  local done = 0
  local dog = watchdog(h, function() return 2 * done end)
  b:recv_start(function(err, s, addr)
    if err then h.fail('recv: %s', err) end
    if not s then return end -- libuv's call for "nothing more to read"
    if b:try_send(s, addr.ip, addr.port) ~= #s then h.fail('round %d: echo failed', done + 1) end
  end)
  a:recv_start(function(err, r, addr)
    if not err and not r then return end
    done = done + 1
    if r ~= msg then c.check(h, r, msg, 2 * done, err) end
    if addr.port ~= pb then c.check_port(h, addr.port, pb, 2 * done) end
    if done < rounds then
      msg, other = other, msg
      if a:try_send(msg, HOST, pb) ~= DGRAM then h.fail('round %d: sendto failed', done + 1) end
    else
      a:recv_stop()
      b:recv_stop()
      dog:close()
    end
  end)
  local t0 = h.now()
  if a:try_send(msg, HOST, pb) ~= DGRAM then h.fail('round 1: sendto failed') end
  uv.run()
  local t = h.now() - t0
  h.expect(done, rounds, 'round trips')
  a:close()
  b:close()
  uv.run()
  return t, rounds
end

function M.w6stream(h, count)
  c.check_count(h, count)
  local s, ps = udp(h)
  local r, pr = udp(h)
  local sets, BURST, DGRAM, HOST = c.sets(), c.BURST, c.DGRAM, c.HOST
  local done, got, want = 0, 0, nil
  local dog = watchdog(h, function() return done + got end)
  r:recv_start(function(err, d, addr)
    if not err and not d then return end
    got = got + 1
    if d ~= want[got] then c.check(h, d, want[got], done + got, err) end
    if got == 1 then c.check_port(h, addr.port, ps, done + 1) end
    if got == BURST then uv.stop() end
  end)
  local t = 0
  while done < count do
    want, got = sets[done / BURST % 2 + 1], 0
    for k = 1, BURST do
      if s:try_send(want[k], HOST, pr) ~= DGRAM then h.fail('sendto failed') end
    end
    local t0 = h.now()
    uv.run()
    t = t + (h.now() - t0)
    h.expect(got, BURST, 'datagrams of the burst')
    done = done + BURST
  end
  r:recv_stop()
  dog:close()
  s:close()
  r:close()
  uv.run()
  return t, done
end

return M
