-- Stopping a datagram reader: one net.loop coroutine reads a UDP socket
-- until its end; another sends it three datagrams, then calls closer() on
-- it. The reader gets the datagrams still queued, then the end
-- (nil, nil, nil) at once, although it was waiting. Bounded: the reader's
-- deadline ends the script should the end never come.
--
-- Run from the checkout (LuaJIT uses the FFI, Lua 5.1-5.4 the C module):
--   meson devenv -C build -w . luajit examples/udp_reader_stop.lua
--   meson devenv -C build -w . lua5.4 examples/udp_reader_stop.lua
local loop = require('net.loop')
local udp = require('net.dgram.inet')

local reader = assert(udp.new { host = '127.0.0.1', nonblock = true })
local sender = assert(udp.new { host = '127.0.0.1', nonblock = true })
assert(reader:settimeout(2))
local to = assert(reader:getsockname())

loop.spawn(function()
    local count = 0
    while true do
        local data, err, timed_out, from = reader:recvfrom()
        if data then
            count = count + 1
            print(('got "%s" from %s'):format(data, tostring(from)))
        elseif timed_out then
            error('no datagram and no end within 2 s')
        elseif err then
            error(err)
        else
            print(('reader ended after %d datagrams'):format(count))
            return
        end
    end
end)

loop.spawn(function()
    for i = 1, 3 do
        assert(sender:sendto('datagram ' .. i, to))
        loop.sleep(0.01)
    end
    -- An unconnected UDP socket: Linux answers "Transport endpoint is not
    -- connected", and shuts the reading end all the same.
    reader:closer()
end)

loop.run()
reader:close()
sender:close()
