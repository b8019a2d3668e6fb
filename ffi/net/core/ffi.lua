-- net.core.ffi: the primitive table (doc/internals.md) over libnet through
-- the LuaJIT FFI. Each function is a thin adapter of the net.h function of
-- the same name. Hot paths (send, recv, option calls) allocate nothing and
-- compile under the JIT: one reusable receive buffer, result codes instead of
-- ffi.errno().
local ffi = require('net.cdef')
local C_string, C_gc, C_copy = ffi.string, ffi.gc, ffi.copy
local tonumber = tonumber

-- libnet, found by an absolute path where one is known, and checked to be
-- ours: Debian's unrelated packet library libnet1 also has a libnet.so.1 and
-- a libnet.so. In order:
--   1. NET_LIBRARY, when set: that file and nothing else (a wrong value is an
--      error, never a silent fallback to another library);
--   2. the path `meson install` recorded in net/core/libpath.lua beside this
--      file (only an installed tree has one), so installed Lua files load the
--      library installed with them, from its own folder (<libdir>/lua-net);
--   3. ffi.load('net'): the loader's own search (LD_LIBRARY_PATH; meson
--      devenv; the build tree);
--   4. net/libnet.so under a package.cpath root (a rock, or a copy where
--      OpenResty's lua_package_cpath points).
local function load_library()
    local function ours(name)
        local ok, lib = pcall(ffi.load, name)
        if not ok then
            return nil, name .. ': ' .. tostring(lib)
        elseif not pcall(function() return lib.net_version end) then
            return nil, name .. ': not lua-net\'s libnet (it has no net_version)'
        end
        return lib
    end
    local env = os.getenv('NET_LIBRARY')
    if env and env ~= '' then
        local lib, err = ours(env)
        if not lib then
            error('net.core.ffi: cannot load NET_LIBRARY=' .. err, 2)
        end
        return lib
    end
    local candidates = {}
    local here = debug.getinfo(1, 'S').source:match('^@(.*[/\\])')
    local record = here and loadfile(here .. 'libpath.lua')
    if record then candidates[#candidates + 1] = record() end
    candidates[#candidates + 1] = 'net'
    local in_cpath = package.searchpath and package.searchpath('net.libnet', package.cpath)
    if in_cpath then candidates[#candidates + 1] = in_cpath end
    local tried = {}
    for i = 1, #candidates do
        local lib, err = ours(candidates[i])
        if lib then return lib end
        tried[#tried + 1] = err
    end
    error('net.core.ffi: cannot load libnet; tried ' .. table.concat(tried, '; ')
        .. ' (set NET_LIBRARY to the full path of lua-net\'s libnet.so.1)', 2)
end

local C = load_library()
local M = {backend = 'ffi'}

local addr_t = ffi.typeof('net_addr_t')
local addrinfo_array_t = ffi.typeof('net_addrinfo_t[?]')
local linger_t = ffi.typeof('net_linger_t')
local int2_t = ffi.typeof('int[2]')
local guard_t = ffi.typeof('struct { int fd; }')
local buffer_t = ffi.typeof('char[?]')
local const_char_p = ffi.typeof('const char *')
local ADDR_SIZE = ffi.sizeof(addr_t)

function M.version() return C.net_version() end
function M.strerror(code) return C_string(C.net_strerror(code)) end

-- ---- constants --------------------------------------------------------
local constants = {
    NONBLOCK = C.NET_NONBLOCK, CLOEXEC = C.NET_CLOEXEC,
    AI_PASSIVE = C.NET_AI_PASSIVE, AI_CANONNAME = C.NET_AI_CANONNAME,
    AI_NUMERICHOST = C.NET_AI_NUMERICHOST, AI_NUMERICSERV = C.NET_AI_NUMERICSERV,
}
do
    local list = C.net_constants()
    local i = 0
    while list[i].name ~= nil do
        constants[C_string(list[i].name)] = tonumber(list[i].value)
        i = i + 1
    end
end
M.constants = constants
local EBADF = -constants.EBADF

-- ---- guards: the collector closes an fd nobody closed -----------------
local function collect_guard(g)
    if g.fd >= 0 then
        C.net_sock_close(g.fd)
        g.fd = -1
    end
end

function M.guard(fd)
    return C_gc(guard_t(fd), collect_guard)
end

function M.guard_close(g)
    local fd = g.fd
    if fd < 0 then return EBADF end
    g.fd = -1 -- disarmed before close: the fd is gone whatever close says
    C_gc(g, nil)
    return C.net_sock_close(fd)
end

-- ---- a socket's life ----------------------------------------------------
function M.sock_open(family, socktype, protocol, flags)
    return C.net_sock_open(family, socktype, protocol, flags)
end

function M.sock_pair(family, socktype, protocol, flags)
    local fds = int2_t()
    local rc = C.net_sock_pair(family, socktype, protocol, flags, fds)
    if rc < 0 then return rc end
    return fds[0], fds[1]
end

function M.sock_bind(fd, addr) return C.net_sock_bind(fd, addr) end
function M.sock_connect(fd, addr) return C.net_sock_connect(fd, addr) end
function M.sock_listen(fd, backlog) return C.net_sock_listen(fd, backlog) end
function M.sock_accept(fd, flags) return C.net_sock_accept(fd, flags, nil) end
function M.sock_shutdown(fd, how) return C.net_sock_shutdown(fd, how) end
function M.sock_close(fd) return C.net_sock_close(fd) end

-- ---- I/O ------------------------------------------------------------------
-- recv reads into one buffer reused by every call (ffi.string copies out of
-- it before anything else can run), grown to the largest size asked up to
-- RECV_KEEP_MAX. A larger read gets a buffer of its own that the collector
-- takes back, so one huge read does not pin its memory (as in net.capi).
local RECV_KEEP_MAX = 4 * 1024 * 1024
local recv_size = 65536
local recv_buf = buffer_t(recv_size)

local function buffer_for(size)
    if size <= recv_size then return recv_buf end
    if size > RECV_KEEP_MAX then return buffer_t(size) end
    recv_buf, recv_size = buffer_t(size), size
    return recv_buf
end

function M.sock_send(fd, str, flags, i, j)
    if i then
        local p = ffi.cast(const_char_p, str) + (i - 1)
        return tonumber(C.net_sock_send(fd, p, j - i + 1, flags))
    end
    return tonumber(C.net_sock_send(fd, str, #str, flags))
end

function M.sock_recv(fd, size, flags)
    local buf = buffer_for(size)
    local n = tonumber(C.net_sock_recv(fd, buf, size, flags))
    if n < 0 then return n end
    return C_string(buf, n)
end

function M.sock_sendto(fd, str, flags, addr)
    return tonumber(C.net_sock_sendto(fd, str, #str, flags, addr))
end

function M.sock_recvfrom(fd, size, flags)
    local buf = buffer_for(size)
    local from = addr_t()
    local n = tonumber(C.net_sock_recvfrom(fd, buf, size, flags, from))
    if n < 0 then return n end
    return C_string(buf, n), from
end

-- ---- buffers ----------------------------------------------------------------
-- The memory of net.buffer (ffi/net/buffer.lua): a zeroed uint8_t array. The
-- class keeps offsets and lengths in range, so these do not check them (the
-- C API backend does, for misuse of the primitive table).
local mem_t = ffi.typeof('uint8_t[?]')
-- consume() moves bytes inside one array: memmove, not ffi.copy (memcpy).
-- An identical declaration elsewhere is accepted by ffi.cdef; a different
-- one raises, and then the symbol is already declared anyway.
pcall(ffi.cdef, 'void *memmove(void *dst, const void *src, size_t len);')
pcall(ffi.cdef, 'void *memmem(const void *hay, size_t hay_len, const void *needle, size_t len);')
local const_u8_p = ffi.typeof('const uint8_t *')
local libc = ffi.C -- the namespace, not the function: the JIT's advice

function M.buffer_new(size) return mem_t(size) end
function M.buffer_string(mem, offset, len) return C_string(mem + offset, len) end
function M.buffer_byte(mem, offset) return mem[offset] end
function M.buffer_move(mem, dst, src, len) libc.memmove(mem + dst, mem + src, len) end

function M.buffer_find(mem, offset, len, str)
    if #str == 0 then return offset end
    local hit = libc.memmem(mem + offset, len, str, #str)
    if hit == nil then return -1 end
    return tonumber(ffi.cast(const_u8_p, hit) - mem)
end

function M.sock_recvinto(fd, mem, offset, size, flags)
    return tonumber(C.net_sock_recv(fd, mem + offset, size, flags))
end

function M.sock_sendfrom(fd, mem, offset, len, flags)
    return tonumber(C.net_sock_send(fd, mem + offset, len, flags))
end

-- ---- state ------------------------------------------------------------------
local function name_of(getname)
    return function(fd)
        local addr = addr_t()
        local rc = getname(fd, addr)
        if rc < 0 then return rc end
        return addr
    end
end
M.sock_getsockname = name_of(C.net_sock_getsockname)
M.sock_getpeername = name_of(C.net_sock_getpeername)

-- The int-valued state functions map one to one onto net.h: (fd).
for _, name in ipairs({'atmark', 'type', 'family', 'protocol', 'error'}) do
    M['sock_' .. name] = C['net_sock_' .. name]
end

-- The options: net_options() as {name, kind, scope, alias} rows, and a
-- primitive sock_<name>(fd, val) for each, one to one onto net.h.
do
    local options, list = {}, C.net_options()
    local i = 0
    while list[i].name ~= nil do
        local o = list[i]
        local alias = C_string(o.alias)
        options[i + 1] = {
            name = C_string(o.name), kind = C_string(o.kind),
            scope = C_string(o.scope), alias = alias ~= '' and alias or nil,
        }
        M['sock_' .. options[i + 1].name] = C['net_sock_' .. options[i + 1].name]
        i = i + 1
    end
    M.options = options
end

function M.sock_linger(fd, on, seconds)
    local out = linger_t()
    local rc = C.net_sock_linger(fd, on >= 0 and linger_t(on, seconds) or nil, out)
    if rc < 0 then return rc end
    return out.on, out.seconds
end

-- ---- addresses --------------------------------------------------------------
local text_buf = buffer_t(C.NET_ADDR_STORAGE)

function M.addr_family(addr) return addr.family end

local function text_of(read)
    return function(addr)
        local n = read(addr, text_buf, C.NET_ADDR_STORAGE)
        if n < 0 then return n end
        return C_string(text_buf, n)
    end
end
M.addr_host = text_of(C.net_addr_host)
M.addr_path = text_of(C.net_addr_path)
function M.addr_port(addr) return C.net_addr_port(addr) end

-- ---- resolving ----------------------------------------------------------------
local function records(list, count)
    local out = {}
    for i = 0, count - 1 do
        local r = list[i]
        local addr = addr_t()
        C_copy(addr, r.addr, ADDR_SIZE)
        local canon = C_string(r.canonname)
        out[i + 1] = {
            family = r.family, socktype = r.socktype, protocol = r.protocol,
            addr = addr, canonname = canon ~= '' and canon or nil,
        }
    end
    return out
end

function M.getaddrinfo(host, service, family, socktype, protocol, flags)
    local room = 16
    while true do
        local list = addrinfo_array_t(room)
        local n = C.net_getaddrinfo(host, service, family, socktype, protocol,
                                    flags, list, room)
        if n < 0 then return n end
        if n <= room then return records(list, n) end
        room = n -- more results than room: ask again with enough
    end
end

function M.getaddrinfo_unix(path, socktype)
    local list = addrinfo_array_t(1)
    local n = C.net_getaddrinfo_unix(path, #path, socktype, list)
    if n < 0 then return n end
    return records(list, n)
end

function M.poll_fd(fd, events, timeout)
    return C.net_poll_fd(fd, events, timeout)
end

return M
