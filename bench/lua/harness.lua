-- What the Lua implementations of bench/ share: the clock, failing loudly,
-- the line that asks bench/run for the C helper, and the data checks.
local h = {}

h.CHUNK = 65536     -- W2 read size
h.PERIOD = 251      -- W2 stream content: byte i is i % PERIOD (bench/c/bench.h)
h.MSG = 64          -- W1 message size

if jit then
  local ffi = require 'ffi'
  ffi.cdef [[
    struct bench_timespec { long tv_sec; long tv_nsec; };
    int clock_gettime(int clk, struct bench_timespec *ts);
  ]]
  -- CLOCK_MONOTONIC, or CLOCK_PROCESS_CPUTIME_ID with BENCH_CLOCK=cpu (bench/c/bench.h)
  local ts = ffi.new('struct bench_timespec')
  local clock_id = os.getenv('BENCH_CLOCK') == 'cpu' and 2 or 1
  function h.now()
    ffi.C.clock_gettime(clock_id, ts)
    return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
  end
else
  -- PUC Lua has no clock finer than a second: bench/run builds bench/c/clock.c
  -- for each version into $BENCH_BUILD/lua<version>/benchclock.so.
  local build = assert(os.getenv('BENCH_BUILD'), 'BENCH_BUILD not set')
  package.cpath = build .. '/lua' .. _VERSION:match('%d+%.%d+') .. '/?.so;' .. package.cpath
  h.now = require('benchclock').now
end

function h.fail(fmt, ...)
  io.stderr:write('bench: ', fmt:format(...), '\n')
  os.exit(1)
end

-- Asks bench/run to start the workload's C helper against port.
function h.connect(port, amount)
  io.write(('connect %d %.0f\n'):format(port, amount))
  io.stdout:flush()
end

-- A private directory for unix socket paths, made and removed by bench/run.
function h.tmpdir()
  return assert(os.getenv('BENCH_TMPDIR'), 'BENCH_TMPDIR not set')
end

-- W1's two messages, sent alternately so a stale buffer cannot pass.
function h.messages()
  return ('a'):rep(h.MSG), ('b'):rep(h.MSG)
end

-- W1: fails unless the echo r is the message sent.
function h.check_echo(r, msg, round)
  if r ~= msg then
    h.fail('round %d: echo %s differs from the %d-byte message sent',
      round, r == nil and 'nil' or ('of %d bytes'):format(#r), #msg)
  end
end

-- W2: fails unless chunk s (a string) starts at stream offset `offset`.
function h.check_chunk_start(s, offset)
  local want = offset % h.PERIOD
  if s:byte(1) ~= want then
    h.fail('chunk at byte %.0f starts with %d, expected %d', offset, s:byte(1), want)
  end
end

-- W2: fails unless every byte of s is the stream's byte at offset + k.
function h.check_pattern(s, offset, which)
  if not s then h.fail('%s chunk: nothing received', which) end
  local period = h.PERIOD
  for k = 1, #s do
    local want = (offset + k - 1) % period
    if s:byte(k) ~= want then
      h.fail('%s chunk: byte %.0f is %d, expected %d', which, offset + k - 1, s:byte(k), want)
    end
  end
end

-- W2: the content checks every implementation runs once the clock stopped.
function h.check_stream(first, last, total)
  h.check_pattern(first, 0, 'first')
  h.check_pattern(last, total - #last, 'last')
end

-- Fails unless got == want (W3's value read, W4's count...).
function h.expect(got, want, what)
  if got ~= want then
    h.fail('%s: got %s, expected %s', what, tostring(got), tostring(want))
  end
end

return h
