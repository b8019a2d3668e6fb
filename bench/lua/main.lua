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
-- A workload whose name goes on after its number (w6echo, w6stream) lives in
-- a folder of its own: bench/lua/w6/<impl>.lua.
local family = workload:match('^(w%d+)%a')
local impl = require((family and family .. '.' or 'impl.') .. impl_name)
local run = impl[workload]
-- A workload with a folder of its own (bench/lua/<workload>/<impl>.lua, one
-- function); an implementation without a file there cannot do it.
local folder = io.open(dir .. '/' .. workload .. '/net.lua')
if folder then folder:close() end
if not run and folder then
  local file = io.open(dir .. '/' .. workload .. '/' .. impl_name .. '.lua')
  if file then
    file:close()
    run = require(workload .. '.' .. impl_name)
  else
    impl.unsupported = impl.unsupported or {}
    impl.unsupported[workload] = impl.unsupported[workload]
      or ('no %s server written for %s'):format(workload, impl_name)
  end
end
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
