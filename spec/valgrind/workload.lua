-- spec/valgrind/workload.lua — a short run over the public classes for
-- valgrind (meson suite 'valgrind', Lua 5.4 with the C-API backend): stream
-- pairs, TCP over 127.0.0.1 and ::1, a unix server in a temporary folder,
-- net.buffer with recvinto and send, options, addresses and the resolver,
-- closes and the collector. Every result is checked, so a wrong byte fails
-- the run as surely as valgrind's report does.
local stream = require('net.stream')
local inet = require('net.stream.inet')
local unix = require('net.stream.unix')
local buffer = require('net.buffer')

local function echo(a, b, text)
  assert(a:send(text) == #text)
  local got = {}
  while #table.concat(got) < #text do got[#got + 1] = assert(b:recv(#text)) end
  assert(table.concat(got) == text)
end

-- A stream pair, each way, then an end of stream.
local pair = assert(stream.pair())
echo(pair[1], pair[2], 'hello')
-- The kept receive buffer (C API; these are the run's first reads above
-- 8 KiB): a read a little larger than the one before must get room of its
-- own, not the old buffer, whose header takes part of its block.
assert(pair[1]:send(string.rep('a', 10000) .. string.rep('b', 10008)) == 20008)
assert(pair[2]:recv(10000) == string.rep('a', 10000))
assert(pair[2]:recv(10008) == string.rep('b', 10008))
echo(pair[2], pair[1], string.rep('x', 100000))
assert(pair[1]:close() == nil)
local r1, r2, r3 = pair[2]:recv(10)
assert(r1 == nil and r2 == nil and r3 == nil)
pair[2]:close()

-- TCP on both loopbacks, with options and names.
for _, host in ipairs({'127.0.0.1', '::1'}) do
  local server = assert(inet.server.new{host = host, reuseaddr = true})
  assert(server:listen() == nil)
  local port = assert(server:getsockname()):port()
  local client = assert(inet.client.new{host = host, port = port})
  local conn = assert(server:accept())
  assert(conn:getpeername():port() == client:getsockname():port())
  assert(client:tcpnodelay(true) == true)
  echo(client, conn, 'over tcp ' .. host)
  client:close(); conn:close(); server:close()
end

-- A unix server in a fresh folder.
local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute('mkdir -m 700 ' .. tmp))
local path = tmp .. '/s'
local userver = assert(unix.server.new{path = path})
assert(userver:listen() == nil)
local uclient = assert(unix.client.new{path = path})
local uconn = assert(userver:accept())
echo(uclient, uconn, 'over unix')
uclient:close(); uconn:close(); userver:close()
os.remove(path)
os.remove(tmp)

-- net.buffer: receive into, send from, consume.
local bp = assert(stream.pair())
local buf = buffer.new(4096)
assert(bp[1]:send('0123456789') == 10)
assert(bp[2]:recvinto(buf) == 10)
assert(buf:tostring() == '0123456789')
buf:consume(4)
assert(bp[2]:send(buf) == 6)
assert(bp[1]:recv(6) == '456789')
bp[1]:close(); bp[2]:close()

-- The resolver, numeric only (no network).
local ais = assert(stream.getaddrinfoin{host = '127.0.0.1', port = 80})
assert(#ais >= 1 and ais[1]:port() == 80)

-- net.poll and net.loop: a set that reports, one closed, one left to the
-- collector, and a loop round trip (libnet's process-wide registry of sets
-- is freed once no set is left: nothing of it may outlive the sets; a
-- registry kept would only be still reachable, from a static, so this
-- test fails on reachable blocks too: spec/meson.build).
local poll = require('net.poll')
local loop = require('net.loop')
local pp = assert(stream.pair { nonblock = true })
local set = assert(poll.new())
assert(set:add(pp[2], 'r'))
assert(pp[1]:send('x') == 1)
assert(set:wait(1) == 1)
-- Counted: a ready() that yields nothing would skip the assert inside.
local seen = 0
for sock, ev in set:ready() do
  assert(sock == pp[2] and ev == 'r')
  seen = seen + 1
end
assert(seen == 1)
assert(set:close())
assert(pp[2]:recv() == 'x') -- drained: the loop's recv below must wait
assert(poll.new():add(pp[1], 'w'))
-- The 'y' comes only after a sleep, so the reader's recv finds nothing and
-- its coroutine waits in the loop's set (and the sleeper on its timer).
local got
loop.spawn(function() got = pp[2]:recv() end)
loop.spawn(function() loop.sleep(0.01); assert(pp[1]:send('y') == 1) end)
loop.run()
assert(got == 'y')
pp[1]:close(); pp[2]:close()

-- Sockets left to the collector.
for _ = 1, 100 do stream.pair() end
collectgarbage('collect')
collectgarbage('collect')
print('workload: ok')
