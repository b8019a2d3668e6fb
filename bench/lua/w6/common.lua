-- What W6's Lua implementations share (bench/c/w6.h is the same for C):
-- 64-byte datagrams over 127.0.0.1; the stream in bursts of BURST, sent
-- (not timed) and then received and checked (timed), so the sender never
-- outruns the receiver's buffer (256 such datagrams fit Linux's default);
-- a datagram that has not come after LOSS_TIMEOUT seconds is reported lost.
local c = {}

c.DGRAM = 64
c.BURST = 128
c.LOSS_TIMEOUT = 1
c.HOST = '127.0.0.1'
-- BENCH_BATCH=n: receive in batches of up to n (recvmany), else one by one.
c.BATCH = tonumber(os.getenv('BENCH_BATCH') or '')

-- Datagram k (0-based) of set s (0 or 1): "a000....", ..., "b127....".
function c.datagram(s, k)
  return ('%c%03d'):format(97 + s, k) .. ('.'):rep(c.DGRAM - 4)
end

-- The two sets of a burst, sets[s + 1][k + 1]; bursts take turns with them
-- so a stale buffer cannot pass.
function c.sets()
  local sets = {}
  for s = 0, 1 do
    sets[s + 1] = {}
    for k = 0, c.BURST - 1 do sets[s + 1][k + 1] = c.datagram(s, k) end
  end
  return sets
end

-- Fails unless the received datagram d is want; n is its number in the run.
-- d nil: lost (the receive timed out) or failed with err.
function c.check(h, d, want, n, err)
  if d == want then return end
  if d == nil then
    if err then h.fail('receive of datagram %d: %s', n, tostring(err)) end
    h.fail('datagram %d lost (none came within %d s)', n, c.LOSS_TIMEOUT)
  end
  h.fail('datagram %d (%d bytes) differs from the one sent', n, #d)
end

function c.check_port(h, got, want, n)
  if got ~= want then h.fail('datagram %d from port %s, expected %d', n, tostring(got), want) end
end

function c.check_count(h, count)
  if count % c.BURST ~= 0 then h.fail('the count %d is not a multiple of %d', count, c.BURST) end
end

return c
