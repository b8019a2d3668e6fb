-- A TCP echo server on 127.0.0.1: accepts COUNT connections one after the
-- other (default 1), sends each client back every byte it sends until it
-- closes, then exits. PORT 0, the default, lets the kernel pick a free port;
-- the server prints the address it listens on.
--
-- Run from the checkout (LuaJIT uses the FFI, Lua 5.1-5.4 the C module), then
-- start examples/stream_inet_client.lua with the printed port:
--   meson devenv -C build -w . luajit examples/stream_inet_server.lua [PORT [COUNT]]
--   meson devenv -C build -w . lua5.4 examples/stream_inet_server.lua [PORT [COUNT]]
local inet = require('net.stream.inet')

local port = tonumber(arg[1] or 0)
local count = tonumber(arg[2] or 1)
assert(port and count, 'usage: stream_inet_server.lua [PORT [COUNT]]')

local server = assert(inet.server.new{host = '127.0.0.1', port = port, reuseaddr = true})
local err = server:listen() -- acting methods return nil, or the error message
if err then
    error(err)
end
print('listening on ' .. tostring(assert(server:getsockname())))
io.stdout:flush() -- a script may be waiting for this line to learn the port

for _ = 1, count do
    local conn = assert(server:accept())
    local peer = tostring(assert(conn:getpeername()))
    local total = 0
    local data
    data, err = conn:recv()
    while data do
        assert(conn:send(data)) -- blocking: returns once all of data is sent
        total = total + #data
        data, err = conn:recv()
    end
    -- recv returns nil, nil, nil when the client closed, nil, err on failure.
    print(('%s: echoed %d bytes, then %s'):format(peer, total, err or 'the client closed'))
    conn:close()
end
server:close()
