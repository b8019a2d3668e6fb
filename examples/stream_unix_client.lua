-- A unix-domain echo client for examples/stream_unix_server.lua: connects to
-- PATH, sends each MESSAGE (three by default), checks that the same bytes come
-- back, and closes. While PATH does not exist yet or nobody listens there,
-- connecting is retried for up to 5 s, so client and server may be started
-- at the same time.
--
-- Run from the checkout (LuaJIT uses the FFI, Lua 5.1-5.4 the C module):
--   meson devenv -C build -w . luajit examples/stream_unix_client.lua PATH [MESSAGE...]
--   meson devenv -C build -w . lua5.4 examples/stream_unix_client.lua PATH [MESSAGE...]
local unix = require('net.stream.unix')
local stream = require('net.stream')

local path = assert(arg[1], 'usage: stream_unix_client.lua PATH [MESSAGE...]')
local messages = {}
for i = 2, #arg do
    messages[#messages + 1] = arg[i]
end
if #messages == 0 then
    messages = {'hello', 'echo', 'bye'}
end

-- Waits sec seconds: a receive timeout on a socket pair nobody writes to.
local function pause(sec)
    local idle = assert(stream.pair())
    assert(idle[1]:rcvtimeo(sec))
    idle[1]:recv() -- nil, nil, true once the timeout expires
    idle[1]:close()
    idle[2]:close()
end

local sock, err
for _ = 1, 50 do
    sock, err = unix.client.new{path = path}
    if sock then
        break
    end
    pause(0.1)
end
assert(sock, err)
print('connected to ' .. tostring(sock:getpeername()))

for _, msg in ipairs(messages) do
    assert(sock:send(msg))
    -- A stream has no message boundaries: the echo may come back in parts.
    local echo = ''
    while #echo < #msg do
        local part
        part, err = sock:recv(#msg - #echo)
        if not part then
            error(err or 'the server closed the connection')
        end
        echo = echo .. part
    end
    print(('sent %q, received %q'):format(msg, echo))
    assert(echo == msg)
end
sock:close()
