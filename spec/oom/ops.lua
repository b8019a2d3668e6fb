-- The operations spec/oom/host.c runs with an allocation failing: each makes
-- descriptors (or a poll set, or receives one) and objects to own them, or
-- (require) loads the library, whose C module mallocs. Run without OP, the
-- script returns their names; with OP, it sets up (unarmed), then runs that
-- operation with the allocator armed and returns true when it went through
-- without a failed allocation.
local ops = {
  'require', 'stream.pair', 'dgram.pair', 'inet.server', 'inet.client', 'unix.client',
  'dgram.inet', 'dgram.unix', 'accept', 'poll.new', 'loop.run',
  'stream.recvfd', 'dgram.recvfd', 'poll.add', 'net.wrap',
}
if OP == nil then return ops end

if OP == 'require' then -- the backend, in a state that has loaded none
  arm()
  pcall(require, 'net.core')
  return not disarm()
end

local stream = require('net.stream')
local inet = require('net.stream.inet')
local unix = require('net.stream.unix')
local dgram = require('net.dgram')
local dinet = require('net.dgram.inet')
local poll = require('net.poll')
local loop = require('net.loop')

-- a listener with one connection waiting, for the client and accept
local srv = assert(inet.server.new { host = '127.0.0.1', port = 0 })
assert(srv:listen() == nil)
local port = assert(srv:getsockname()):port()
-- a connection queued for accept (its client end held: see arm() below)
local queued = assert(inet.client.new { host = '127.0.0.1', port = port })
local name = os.tmpname() -- a name of its own, as an abstract one: no file
os.remove(name)
name = '\0' .. name
local usrv = assert(unix.server.new { path = name })
assert(usrv:listen() == nil)

-- a message carrying a descriptor, waiting on a unix pair of each type, for
-- recvfd (the datagram's is cut: recvfd reads less than it)
local function carrying_fd(pair)
  local p = assert(pair())
  local q = assert(stream.pair())
  assert(p[1]:sendfd(q[1], string.rep('m', 100)) == 100)
  q[1]:close(); q[2]:close()
  return p
end
local spair, dpair = carrying_fd(stream.pair), carrying_fd(dgram.pair)

-- a set and a socket for it to take (a peer makes it readable)
local set, member = assert(poll.new()), assert(stream.pair())

-- a descriptor of no object, for net.wrap to take
local net = require('net')
local raw = OP == 'net.wrap' and require('net.core').sock_open(net.AF_UNIX, net.SOCK_STREAM, 0, net.CLOEXEC)
assert(raw ~= -1)

local run = {
  ['stream.pair'] = function() return stream.pair() end,
  ['dgram.pair'] = function() return dgram.pair() end,
  ['inet.server'] = function() return inet.server.new { host = '127.0.0.1', port = 0 } end,
  ['inet.client'] = function() return inet.client.new { host = '127.0.0.1', port = port } end,
  ['unix.client'] = function() return unix.client.new { path = name } end,
  ['dgram.inet'] = function() return dinet.new { host = '127.0.0.1', port = 0 } end,
  ['dgram.unix'] = function() return require('net.dgram.unix').new() end,
  accept = function() return srv:accept() end,
  ['poll.new'] = function() return poll.new() end,
  -- a descriptor received is a plain number, the caller's to close
  ['stream.recvfd'] = function() return spair[2]:recvfd(200) end,
  ['dgram.recvfd'] = function() return dpair[2]:recvfd(50) end,
  ['poll.add'] = function() return set:add(member[1], 'r') end,
  ['net.wrap'] = function() return net.wrap(raw) end,
  ['loop.run'] = function()
    loop.spawn(function() loop.sleep(0) end)
    loop.run()
  end,
}

-- Nothing of the setup is left for the collector: a finalizer that runs
-- while every allocation fails (PUC Lua runs them in its collection steps)
-- fails itself, and Lua never runs it again, so a socket dropped without
-- close() would lose its descriptor there. That is the operation's
-- surroundings, not the operation: it is the operation that must lose none.
collectgarbage()
arm()
local _, received = pcall(run[OP])
local failed = disarm()
queued:close()
if type(received) == 'number' then net.close(received) end

-- A wrap is all or nothing: after a failed one the descriptor is the
-- caller's, which the collector never closes.
if OP == 'net.wrap' then
  if type(received) == 'table' then
    received:close()
  else
    collectgarbage(); collectgarbage()
    if net.close(raw) ~= nil then broken('net.wrap: a failed wrap left its descriptor to the collector') end
  end
end

-- What the failed operation left must be whole: the socket in the set or
-- not, never half (the kernel's registration without the set's records).
if OP == 'poll.add' then
  local ok, err = set:del(member[1])
  if not ok and err ~= 'No such file or directory' then broken('poll.add: del ' .. tostring(err)) end
  ok, err = set:add(member[1], 'r')
  if not ok then broken('poll.add: add again ' .. tostring(err)) end
  member[2]:send('x')
  if set:wait(0) ~= 1 or set:ready()(set) ~= member[1] then broken('poll.add: not reported') end
end
return not failed
