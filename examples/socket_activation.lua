-- A server whose listening socket is handed over by its starter (systemd's
-- socket activation): net.wrap of a listening descriptor gives a
-- net.stream.Server, which accepts as one made by net.stream.inet does.
-- Started without one, it listens on 127.0.0.1:8081 itself. Each client gets
-- one line back, then the connection closes; it serves until killed.
--
-- Run from the checkout (LuaJIT uses the FFI, Lua 5.1-5.4 the C module),
-- handed a socket by systemd-socket-activate (Debian's systemd package; it
-- passes on only the environment named with -E), or on its own:
--   meson devenv -C build -w . sh -c 'systemd-socket-activate -l 127.0.0.1:8081 \
--     -E LUA_PATH -E LUA_CPATH_5_4 -E LD_LIBRARY_PATH lua5.4 examples/socket_activation.lua'
--   meson devenv -C build -w . luajit examples/socket_activation.lua
-- then: nc 127.0.0.1 8081 (netcat), or bash -c 'cat </dev/tcp/127.0.0.1/8081'
local net = require('net')
local inet = require('net.stream.inet')

-- systemd's protocol (sd_listen_fds(3)): LISTEN_FDS descriptors from fd 3
-- on, meant for the process LISTEN_PID names.
local function own_pid()
    local f = assert(io.open('/proc/self/stat'))
    local pid = f:read('*l'):match('^%d+')
    f:close()
    return pid
end

local function handed_over()
    local count = tonumber(os.getenv('LISTEN_FDS') or '')
    if not count or count < 1 or os.getenv('LISTEN_PID') ~= own_pid() then return nil end
    local srv = assert(net.wrap(3)) -- ours from now on: closed by close() or the collector
    assert(srv:cloexec(true)) -- as sd_listen_fds does: not inherited by programs we run
    return srv
end

local srv = handed_over()
if srv then
    assert(getmetatable(srv) == require('net.stream').Server, 'fd 3 is not a listening stream socket')
else
    srv = assert(inet.server.new { host = '127.0.0.1', port = 8081, reuseaddr = true })
    assert(srv:listen() == nil)
end
print('serving on ' .. tostring(srv:getsockname()))
io.stdout:flush()

while true do
    local conn, err = srv:accept()
    if conn then
        conn:send(('hello %s, from %s\n'):format(tostring(conn:getpeername()), tostring(conn:getsockname())))
        conn:close()
    elseif err then
        io.stderr:write('accept: ', err, '\n')
    end
end
