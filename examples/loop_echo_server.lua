-- net.loop: an echo server and many clients in one process, each connection
-- written as straight-line code in a coroutine of its own. The sockets are
-- non-blocking: a call that would block yields to the loop, which resumes
-- it when the socket is ready. A deadline (client.new's timeout) bounds each
-- call of each client.
--
-- Run from the checkout (LuaJIT uses the FFI, Lua 5.1-5.4 the C module):
--   meson devenv -C build -w . luajit examples/loop_echo_server.lua [clients]
local inet = require('net.stream.inet')
local loop = require('net.loop')
local net = require('net')

local CLIENTS = tonumber(arg and arg[1]) or 500
local ROUNDS = 10

local server = assert(inet.server.new { host = '127.0.0.1', port = 0, nonblock = true })
assert(server:listen() == nil)
local port = assert(server:getsockname()):port()
print(('echo server on 127.0.0.1:%d, %d clients'):format(port, CLIENTS))

-- One coroutine per connection: read a message, send it back, until the
-- client closes.
local function serve(conn)
    assert(conn:nonblock(true))
    while true do
        local msg = conn:recv()
        if not msg then break end -- the end (or the stream cut off)
        assert(conn:send(msg) == #msg)
    end
    conn:close()
end

-- The acceptor: one coroutine that spawns a server coroutine per client.
loop.spawn(function()
    for _ = 1, CLIENTS do
        loop.spawn(serve, assert(server:accept()))
    end
    server:close()
end)

-- The clients: each sends ROUNDS messages and checks every echo, with a
-- deadline of 5 seconds per call.
local echoed = 0
for i = 1, CLIENTS do
    loop.spawn(function()
        local c = assert(inet.client.new { host = '127.0.0.1', port = port,
                                           nonblock = true, timeout = 5 })
        for r = 1, ROUNDS do
            local msg = ('client %d says %d'):format(i, r)
            assert(c:send(msg) == #msg)
            local back, err, again = c:recv()
            assert(back == msg, tostring(err or (again and 'timed out')))
            echoed = echoed + 1
        end
        c:close()
    end)
end

-- An error in a coroutine ends that coroutine only: the handler reports it,
-- with the coroutine's stack, and the others go on (without a handler, the
-- first error would end loop.run, every connection with it).
local failed = 0
local function report(err, co)
    failed = failed + 1
    io.stderr:write(debug.traceback(co, 'a coroutine failed: ' .. tostring(err)), '\n')
end

local t0 = net.now()
loop.run(report)
print(('%d echoes checked in %.3f s'):format(echoed, net.now() - t0))
assert(failed == 0 and echoed == CLIENTS * ROUNDS)
