-- A unix-domain echo server: binds PATH (default: a new name under /tmp),
-- accepts COUNT connections one after the other (default 1), sends each
-- client back every byte it sends until it closes, then removes PATH and
-- exits. The server prints the path it listens on.
--
-- Run from the checkout (LuaJIT uses the FFI, Lua 5.1-5.4 the C module), then
-- start examples/stream_unix_client.lua with the printed path:
--   meson devenv -C build -w . luajit examples/stream_unix_server.lua [PATH [COUNT]]
--   meson devenv -C build -w . lua5.4 examples/stream_unix_server.lua [PATH [COUNT]]
local unix = require('net.stream.unix')

local path, reserved = arg[1], nil
if not path then
    -- os.tmpname creates an empty file with a unique name; the socket takes
    -- that name plus '.sock', so no other program picks the same one.
    reserved = os.tmpname()
    path = reserved .. '.sock'
end
local count = tonumber(arg[2] or 1)
assert(count, 'usage: stream_unix_server.lua [PATH [COUNT]]')

local server = assert(unix.server.new{path = path})
local err = server:listen() -- acting methods return nil, or the error message
if err then
    error(err)
end
print('listening on ' .. path)
io.stdout:flush() -- a script may be waiting for this line

for _ = 1, count do
    local conn = assert(server:accept())
    local total = 0
    local data
    data, err = conn:recv()
    while data do
        assert(conn:send(data)) -- blocking: returns once all of data is sent
        total = total + #data
        data, err = conn:recv()
    end
    -- recv returns nil, nil, nil when the client closed, nil, err on failure.
    print(('echoed %d bytes, then %s'):format(total, err or 'the client closed'))
    conn:close()
end
server:close()
-- Closing does not remove a unix socket's file: the server does it.
os.remove(path)
if reserved then
    os.remove(reserved)
end
