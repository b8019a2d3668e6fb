-- UDP echo: a server and a client in one bounded script over 127.0.0.1.
-- The server runs as a coroutine stepped by the client's loop; each
-- datagram goes out with sendto and comes back from the address recvfrom
-- reports, whole (a datagram is never cut silently: see the fifth result).
--
-- Run from the checkout (LuaJIT uses the FFI, Lua 5.1-5.4 the C module):
--   meson devenv -C build -w . luajit examples/udp_echo.lua
--   meson devenv -C build -w . lua5.4 examples/udp_echo.lua
local inet = require('net.dgram.inet')

local server = assert(inet.new { host = '127.0.0.1', nonblock = true })
local client = assert(inet.new { host = '127.0.0.1' })
local server_ai = assert(server:getsockname())
print('server at', server_ai, 'client at', client:getsockname())

-- Echoes every datagram waiting, then yields; stops at "quit".
local serve = coroutine.wrap(function()
    while true do
        local data, err, again, from, cut = server:recvfrom()
        if data then
            assert(not cut, 'a datagram larger than 65,536 bytes was cut')
            assert(server:sendto(data, from) == #data)
            if data == 'quit' then return 'done' end
        elseif again then
            coroutine.yield()
        else
            error(err)
        end
    end
end)

assert(client:settimeout(2)) -- bounded: a lost datagram cannot hang the script
for _, msg in ipairs({'hello', '', ('x'):rep(60000), 'quit'}) do
    assert(client:sendto(msg, server_ai) == #msg)
    serve()
    local back, err, again, from = client:recvfrom()
    assert(back, err or (again and 'timed out'))
    print(('echoed %d bytes from %s: %s'):format(#back, tostring(from),
        back == msg and 'same' or 'DIFFERENT'))
    assert(back == msg and tostring(from) == tostring(server_ai))
end
server:close()
client:close()
