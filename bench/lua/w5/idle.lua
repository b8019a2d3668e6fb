-- W5's idle row: what a server pays for connections that do nothing.
--
--   lua5.4 bench/lua/w5/idle.lua [--build DIR] [--conns N] [--wakeups N] [--runs N]
--
-- For each server (the W5 servers: bench/c/w5_server.c and
-- bench/lua/w5/<impl>.lua, the same programs bench/run times), one process
-- per run: bench/c/w5_loadgen --idle reads the server's VmRSS, opens --conns
-- connections (10,000) one after another, each echoing one 64-byte message
-- (so the server has accepted it and waits on it), reads VmRSS again, then
-- sends --wakeups messages (300), each to a connection picked at random,
-- timing each until its whole echo is back. Memory per connection: the RSS
-- delta / conns (user space only: the kernel's socket memory is not in it).
-- Wake-up cost: the median (and p90, p99) of those round trips. The
-- server's soft RLIMIT_NOFILE is raised to the hard limit before it starts
-- (ulimit -n), the load generator raises its own. Both run pinned to one CPU,
-- as bench/run pins (a wake-up across CPUs costs ~25 us on this VM).
-- Prints a markdown table of the medians over the runs (3 by default).
local function q(s) return "'" .. tostring(s):gsub("'", [['\'']]) .. "'" end

local ROOT = io.popen('cd "$(dirname ' .. q(arg[0]) .. ')/../../.." && pwd'):read('l')
local BENCH = ROOT .. '/bench'

local opts = { build = ROOT .. '/build', conns = 10000, wakeups = 300, runs = 3 }
do
  local i = 1
  while i <= #arg do
    local a, v = arg[i], arg[i + 1]
    local key = a:match('^%-%-(%a+)$')
    if not key or opts[key] == nil or v == nil then
      io.stderr:write('usage: lua5.4 bench/lua/w5/idle.lua [--build DIR] [--conns N] [--wakeups N] [--runs N]\n')
      os.exit(2)
    end
    opts[key] = key == 'build' and v or assert(math.tointeger(tonumber(v)), a .. ' needs a whole number')
    i = i + 2
  end
end

-- The servers: label, interpreter (nil: the C server), impl file, environment.
local ROWS = {
  { label = 'C' },
  { label = 'lua-net FFI (LuaJIT)', lua = 'luajit', impl = 'net', net = true, env = 'NET_BACKEND=ffi' },
  { label = 'lua-net (Lua 5.4)', lua = 'lua5.4', impl = 'net', net = true, env = 'NET_BACKEND=capi' },
  { label = 'luv (LuaJIT)', lua = 'luajit', impl = 'luv', module = 'luv' },
  { label = 'cqueues (LuaJIT)', lua = 'luajit', impl = 'cqueues', module = 'cqueues' },
}

local function sh(cmd)
  local p = io.popen(cmd .. ' 2>&1')
  local out = p:read('a')
  return p:close() == true, out
end

local function die(fmt, ...)
  io.stderr:write('idle: ', fmt:format(...), '\n')
  os.exit(1)
end

local TMP = io.popen('mktemp -d /tmp/lua-net-idle.XXXXXX'):read('l')
local function build(cmd)
  local ok, out = sh(cmd)
  if not ok then os.execute('rm -rf ' .. q(TMP)); die('%s failed:\n%s', cmd, out) end
end
for _, prog in ipairs { 'w5_server', 'w5_loadgen' } do
  build(('cc -O2 -Wall -Wextra -Werror -o %s %s'):format(q(TMP .. '/' .. prog), q(BENCH .. '/c/' .. prog .. '.c')))
end
os.execute('mkdir -p ' .. q(TMP .. '/lua5.4'))
build(('cc -O2 -shared -fPIC -I/usr/include/lua5.4 -o %s %s'):format(q(TMP .. '/lua5.4/benchclock.so'),
  q(BENCH .. '/c/clock.c')))
build('ninja -C ' .. q(opts.build))
local _, dump = sh('meson devenv -C ' .. q(opts.build) .. ' --dump')
local net_env = {}
for name, value in dump:gmatch('([%w_]+)="([^\n]*)"\n') do net_env[#net_env + 1] = name .. '=' .. q(value) end
net_env = table.concat(net_env, ' ')

-- Pinned to the last CPU this process may use, as bench/run does.
local cpu = io.open('/proc/self/status'):read('a'):match('Cpus_allowed_list:%s*[%d,-]-(%d+)\n')
local PIN = cpu and ('taskset -c %s '):format(cpu) or ''

-- One run of row: { before = KiB, after = KiB, p50 =, p90 =, p99 = } or nil, why.
local function run(row)
  local amount = opts.conns + opts.wakeups
  local env = ('BENCH_CONNS=%d BENCH_BUILD=%s BENCH_TMPDIR=%s %s %s'):format(opts.conns, q(TMP), q(TMP),
    row.net and net_env or '', row.env or '')
  local prog = row.lua and ('%s %s %s w5'):format(row.lua, q(BENCH .. '/lua/main.lua'), row.impl)
    or q(TMP .. '/w5_server')
  -- The shell prints its pid, raises the fd limit and becomes the server.
  local p = io.popen(('sh -c %s 2>%s'):format(q(('echo $$; ulimit -n "$(ulimit -Hn)"; exec %senv %s %s %d %d 0')
    :format(PIN, env, prog, amount, amount)), q(TMP .. '/stderr')))
  local pid = p:read('l')
  local line = p:read('l') or ''
  local port = line:match('^connect (%d+) ')
  if not port then
    p:close()
    return nil, line .. ' ' .. io.open(TMP .. '/stderr'):read('a')
  end
  local ok, out = sh(('%stimeout 120 %s --idle %s %d %d %s'):format(PIN, q(TMP .. '/w5_loadgen'), port,
    opts.conns, opts.wakeups, pid))
  local result = p:read('l') or ''
  p:close()
  if not ok or not out:match('^ok ' .. amount .. '\n') then return nil, out end
  if not result:match('^result %S+ ' .. amount .. '$') then
    return nil, 'server: ' .. result .. ' ' .. io.open(TMP .. '/stderr'):read('a')
  end
  local before, after = out:match('\nidle %d+ (%d+) (%d+)\n')
  local p50, p90, p99 = out:match('\nwake %d+ (%S+) (%S+) (%S+)\n')
  return { before = tonumber(before), after = tonumber(after), p50 = tonumber(p50), p90 = tonumber(p90),
    p99 = tonumber(p99) }
end

local function median(t)
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) / 2] or (t[n / 2] + t[n / 2 + 1]) / 2
end

local results = {} -- label -> { runs }
for _, row in ipairs(ROWS) do
  results[row.label] = {}
  if row.lua and not sh('command -v ' .. row.lua) then row.missing = row.lua .. ' not installed' end
  if row.module and not row.missing and not sh(('%s -e %s'):format(row.lua, q(('require(%q)'):format(row.module))))
  then row.missing = row.module .. ' not installed' end
end
local failed = false
for _ = 1, opts.runs do -- the rows take turns, as in bench/run
  for _, row in ipairs(ROWS) do
    if not row.missing and not row.failed then
      local r, why = run(row)
      if r then table.insert(results[row.label], r) else row.failed = why; failed = true end
    end
  end
end
os.execute('rm -rf ' .. q(TMP))

print(('W5 idle: %d idle connections, %d wake-ups each to a random one; medians of %d runs; %s'):format(
  opts.conns, opts.wakeups, opts.runs, PIN == '' and 'not pinned' or 'pinned: ' .. PIN:gsub('%s+$', '')))
print()
print('| server | RSS before (KiB) | RSS with the connections (KiB) | memory per connection | '
  .. 'wake-up p50 | p90 | p99 | p50 × C |')
print('|---|---:|---:|---:|---:|---:|---:|---:|')
local c_p50
for _, row in ipairs(ROWS) do
  local rs = results[row.label]
  if row.missing or row.failed then
    print(('| %s | %s | | | | | | |'):format(row.label, row.missing and 'n/a: ' .. row.missing
      or '**FAILED**: ' .. row.failed:gsub('\n', ' ')))
  else
    local function m(f)
      local t = {}
      for i, r in ipairs(rs) do t[i] = f(r) end
      return median(t)
    end
    local per = m(function(r) return (r.after - r.before) * 1024 / opts.conns end)
    local p50 = m(function(r) return r.p50 end)
    c_p50 = c_p50 or (row.label == 'C' and p50)
    print(('| %s | %.0f | %.0f | %.0f bytes | %.1f µs | %.1f µs | %.1f µs | %s |'):format(row.label,
      m(function(r) return r.before end), m(function(r) return r.after end), per, p50,
      m(function(r) return r.p90 end), m(function(r) return r.p99 end),
      c_p50 and ('%.2f'):format(p50 / c_p50) or '—'))
  end
end
os.exit(failed and 1 or 0)
