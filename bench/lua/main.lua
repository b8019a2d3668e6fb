-- Runs one workload of one Lua implementation for bench/run.
--   <lua> bench/lua/main.lua <impl> <workload> <warm-up size> <size> <runs>
-- Prints one "result <seconds> <count>" line per iteration (the first is the
-- warm-up), "connect <port> <amount>" when bench/run must start the C helper,
-- or "unsupported <reason>" when the implementation cannot do the workload.
local dir = assert(arg[0]:match('^(.*)/main%.lua$'), 'run me by my path')
package.path = dir .. '/?.lua;' .. package.path

local impl_name, workload, warm, size, runs = ...
warm, size, runs = tonumber(warm), tonumber(size), tonumber(runs)
assert(impl_name and workload and warm and size and runs,
  'usage: main.lua <impl> <workload> <warm-up size> <size> <runs>')

local h = require 'harness'
local impl = require('impl.' .. impl_name)
local run = impl[workload]
if not run then
  local why = impl.unsupported and impl.unsupported[workload]
  if not why then h.fail('%s has no workload %s', impl_name, workload) end
  io.write('unsupported ', why, '\n')
  return
end
for i = 0, runs do
  local seconds, count = run(h, i == 0 and warm or size)
  io.write(('result %.9f %.0f\n'):format(seconds, count))
  io.stdout:flush()
end
