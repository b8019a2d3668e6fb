-- libnet straight from LuaJIT's FFI, without the Lua classes: take the
-- library lua-net loaded (require('net.core.ffi').C, its cdef declared),
-- print net_version(), and send a message through a unix socketpair with the
-- flat net_sock_* functions. Every result < 0 is -errno; net_strerror()
-- names it.
--
-- LuaJIT only. Run from the checkout:
--   meson devenv -C build -w . luajit examples/ffi_version.lua
-- or against an installed tree, with the package paths of its prefix:
--   LUA_PATH='<prefix>/share/lua/5.1/?.lua;<prefix>/share/lua/5.1/?/init.lua;;' \
--     luajit examples/ffi_version.lua
-- net.core.ffi finds the library itself: NET_LIBRARY, the path recorded at
-- install, net/libnet.so.1 under a package.cpath root, or the loader's
-- search (the build tree).
local ffi = require('ffi')
local lib = require('net.core.ffi').C

local function check(rc)
    if rc < 0 then
        error(ffi.string(lib.net_strerror(rc)), 2)
    end
    return rc
end

local version = lib.net_version()
print(('net_version() = %d (%d.%d.%d)'):format(version,
    math.floor(version / 10000), math.floor(version / 100) % 100, version % 100))

-- The platform's constants by name; the list ends with a NULL name.
local const = {}
local list = lib.net_constants()
local i = 0
while list[i].name ~= nil do
    const[ffi.string(list[i].name)] = tonumber(list[i].value)
    i = i + 1
end

local fds = ffi.new('int[2]')
check(lib.net_sock_pair(const.AF_UNIX, const.SOCK_STREAM, 0, lib.NET_CLOEXEC, fds))

local msg = 'hello through net_sock_send'
local sent = check(tonumber(lib.net_sock_send(fds[0], msg, #msg, 0)))
local buf = ffi.new('char[?]', 64)
local got = check(tonumber(lib.net_sock_recv(fds[1], buf, 64, 0)))
print(('fd %d sent %d bytes, fd %d received %q'):format(fds[0], sent, fds[1],
    ffi.string(buf, got)))
assert(ffi.string(buf, got) == msg)

-- Once the peer is gone, send fails with -EPIPE: a result, and no SIGPIPE
-- kills the process.
check(lib.net_sock_close(fds[1]))
local rc = tonumber(lib.net_sock_send(fds[0], msg, #msg, 0))
print(('send after the peer closed: %d (%s)'):format(rc, ffi.string(lib.net_strerror(rc))))
assert(rc == -const.EPIPE)
check(lib.net_sock_close(fds[0]))
