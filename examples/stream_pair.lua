-- stream.pair: two connected stream sockets in one process (socketpair), and
-- the three ways recv can come back: data, "try again" on a non-blocking
-- socket with nothing to read, and nil, nil, nil once the peer has closed.
--
-- Run from the checkout (LuaJIT uses the FFI, Lua 5.1-5.4 the C module):
--   meson devenv -C build -w . luajit examples/stream_pair.lua
--   meson devenv -C build -w . lua5.4 examples/stream_pair.lua
local stream = require('net.stream')

local socks = assert(stream.pair())
local a, b = socks[1], socks[2]
print('pair:', a, b)

-- Both ends send and receive.
assert(a:send('ping'))
local data = b:recv()
print('b received', data)
assert(data == 'ping')
assert(b:send('pong'))
data = a:recv()
print('a received', data)
assert(data == 'pong')

-- Non-blocking, an empty socket answers "again" instead of waiting.
assert(a:nonblock(true))
local err, again
data, err, again = a:recv()
print('nothing to read:', data, err, again)
assert(data == nil and err == nil and again == true)

-- After the peer closed: end of stream, all three results nil.
b:close()
data, err, again = a:recv()
print('peer closed:', data, err, again)
assert(data == nil and err == nil and again == nil)
a:close()
