-- Deadlines and waiters in a plain script (no loop): a connect bounded by
-- client.new's timeout, a recv that gives up when a silent server never
-- answers, a send that reports how much went out when the peer stops
-- reading, and a waiter of one's own that watches each wait and hands it to
-- the default one. Every call measures its deadline from its own start, on
-- net.now()'s clock. Bounded: about a second in all, on 127.0.0.1 only.
--
-- Run from the checkout (LuaJIT uses the FFI, Lua 5.1-5.4 the C module):
--   meson devenv -C build -w . luajit examples/deadlines.lua
--   meson devenv -C build -w . lua5.4 examples/deadlines.lua
local net = require('net')
local inet = require('net.stream.inet')

-- A server that accepts and then says nothing.
local server = assert(inet.server.new { host = '127.0.0.1', port = 0 })
assert(server:listen() == nil)
local port = assert(server:getsockname()):port()

-- 1. The connect: at most 2 s (the kernel answers at once on loopback). The
-- client keeps the timeout for each of its later calls.
local client = assert(inet.client.new { host = '127.0.0.1', port = port, timeout = 2 })
local conn = assert(server:accept())
print('connected, timeout', client:gettimeout())
assert(client:gettimeout() == 2)

-- 2. A recv with nothing coming: nil, nil, true once 0.3 s have passed (the
-- same "try again" as a SO_RCVTIMEO expiry; a closed peer is nil, nil, nil).
assert(client:settimeout(0.3))
local t0 = net.now()
local data, err, again = client:recv()
print(('recv gave up after %.2f s:'):format(net.now() - t0), data, err, again)
assert(data == nil and err == nil and again == true)

-- 3. A send larger than both socket buffers while the peer reads nothing:
-- the deadline passes with part of it sent, and the count says how much.
assert(conn:rcvbuf(4096))
assert(client:sndbuf(4096))
local big = ('x'):rep(8 * 1024 * 1024)
t0 = net.now()
local sent, serr, sagain = client:send(big)
print(('send stopped after %.2f s: %d of %d bytes went out'):format(net.now() - t0, sent, #big), serr, sagain)
assert(sagain == true and sent > 0 and sent < #big)

-- The peer reads what went out; the rest is the program's to send again.
assert(conn:settimeout(1))
local got = 0
while got < sent do
    local s = assert(conn:recv(65536))
    got = got + #s
end
print('the peer read', got, 'bytes')
assert(got == sent)

-- 4. A waiter of one's own for this socket: fn(sock, mode, deadline)
-- returns true (ready), false (deadline passed) or nil, err. This one counts
-- the waits and asks the default waiter (poll(2) on the one fd) to wait.
local waits = 0
assert(client:setwaiter(function(sock, mode, deadline)
    waits = waits + 1
    print(('  waiter: %s waits for %s, %.2f s left'):format(tostring(sock), mode == 'r' and 'reading' or 'writing',
                                                     deadline and deadline - net.now() or math.huge))
    return net.waiters.poll(sock, mode, deadline)
end))
assert(conn:send('late answer'))
data = client:recv() -- there already: no wait
print('recv:', data)
assert(data == 'late answer')
data, err, again = client:recv() -- nothing more: one wait, to the deadline
print('then:', data, err, again, 'waits:', waits)
assert(data == nil and again == true and waits == 1)

client:close()
conn:close()
server:close()
print('done')
