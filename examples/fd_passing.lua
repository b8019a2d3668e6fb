-- Descriptor passing between two processes: this script starts a copy of
-- itself as a child, gives it one end of a datagram pair over a unix
-- datagram socket (sendfd), and reads what the child writes through that
-- descriptor: the child holds a working copy of the parent's socket.
--
-- Run from the checkout (LuaJIT uses the FFI, Lua 5.1-5.4 the C module):
--   meson devenv -C build -w . luajit examples/fd_passing.lua
--   meson devenv -C build -w . lua5.4 examples/fd_passing.lua
local net = require('net')
local dgram = require('net.dgram')
local unix = require('net.dgram.unix')

local role, dir = ...

if role == 'child' then
    local me = assert(unix.new { path = dir .. '/child.sock' })
    local parent = assert(dgram.getaddrinfoun { path = dir .. '/parent.sock' })[1]
    assert(me:settimeout(5))
    assert(me:sendto('ready', parent))
    local fd, err, _, note = me:recvfd()
    assert(fd, err)
    local sock = assert(net.wrap(fd)) -- ours now: close-on-exec, closed by the collector
    local f = assert(io.open('/proc/self/stat'))
    local pid = f:read('*l'):match('^%d+')
    f:close()
    assert(sock:send(('process %s got "%s" and wrote this through it'):format(pid, note)))
    os.exit(0)
end

local function run(cmd)
    local p = assert(io.popen(cmd))
    local out = p:read('*l')
    p:close()
    return out
end

-- The parent: a bound socket the child can reach, and the pair to hand out.
dir = run('mktemp -d')
local me = assert(unix.new { path = dir .. '/parent.sock' })
assert(me:settimeout(5))
local pair = assert(dgram.pair())
assert(pair[2]:settimeout(5))

local f = assert(io.open('/proc/self/stat'))
local pid = f:read('*l'):match('^%d+')
f:close()
local exe = run('readlink /proc/' .. pid .. '/exe')
local script = debug.getinfo(1, 'S').source:sub(2)
local child = assert(io.popen(('%q %q child %q'):format(exe, script, dir)))

local ready, err, _, from = me:recvfrom()
assert(ready == 'ready', err)
assert(me:connect(from) == nil) -- sendfd goes to the connected peer
assert(me:sendfd(pair[1], 'one end of a pair'))
pair[1]:close() -- the child's copy is the only one left
print('process ' .. pid .. ' passed a descriptor to ' .. from:addr())
local said = assert(pair[2]:recv())
print('and read: ' .. said)
-- written by the child, another process, through the descriptor passed
local writer = said:match('^process (%d+) got "one end of a pair" and wrote this through it$')
assert(writer and writer ~= pid)
child:close()
me:close()
os.remove(dir .. '/parent.sock')
os.remove(dir .. '/child.sock')
os.remove(dir)
