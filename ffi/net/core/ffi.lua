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
--   2. the paths `meson install` recorded in net/core/libpath.lua beside this
--      file (only an installed tree has one), so installed Lua files load the
--      library installed with them, from its own folder (<libdir>/lua-net):
--      first relative to this file's folder (a moved tree), then absolute;
--   3. net/libnet.so.1 under a package.cpath root (an entry ending in ?.so):
--      where the rock puts it, beside net/capi.so (or a copy where
--      OpenResty's lua_package_cpath points): before the loader's search, so
--      a libnet of another version on LD_LIBRARY_PATH does not shadow it;
--   4. ffi.load('net'): the loader's own search (LD_LIBRARY_PATH; meson
--      devenv; the build tree).
-- A library is taken only when it is lua-net's (it has net_version) and of
-- the version these Lua files are written for: the major of the cdef's
-- header (NET_CDEF_VERSION, tools/gencdef) and at least its minor.
-- (A version number is major * 10000 + minor * 100 + patch, net.h's
-- NET_VERSION_NUMBER.)
local function major_of(v) return math.floor(v / 10000) end
local function version_text(v)
    return ('%d.%d.%d'):format(major_of(v), math.floor(v / 100) % 100, v % 100)
end

local function load_library()
    local ok_want, want = pcall(function() return ffi.C.NET_CDEF_VERSION end)
    want = ok_want and tonumber(want) or nil -- nil: a cdef older than the check
    local least = want and want - want % 100 -- its major.minor.0
    local function ours(name)
        local ok, lib = pcall(ffi.load, name)
        if not ok then
            return nil, name .. ': ' .. tostring(lib)
        elseif not pcall(function() return lib.net_version end) then
            return nil, name .. ': not lua-net\'s libnet (it has no net_version)'
        end
        local got = tonumber(lib.net_version())
        if want and (major_of(got) ~= major_of(want) or got < least) then
            return nil, name .. ': libnet ' .. version_text(got) .. ', these Lua files need '
                .. version_text(least) .. ' or a later ' .. major_of(want) .. '.x'
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
    if record then
        local absolute, relative = record()
        if relative and relative ~= '' then candidates[#candidates + 1] = here .. relative end
        candidates[#candidates + 1] = absolute
    end
    for root in (package.cpath .. ';'):gmatch('([^;]*)%?%.so;') do
        local file = root .. 'net/libnet.so.1'
        local f = io.open(file, 'rb')
        if f then
            f:close()
            candidates[#candidates + 1] = file
            break
        end
    end
    candidates[#candidates + 1] = 'net'
    local tried = {}
    for i = 1, #candidates do
        local lib, err = ours(candidates[i])
        if lib then return lib end
        tried[#tried + 1] = err
    end
    error('net.core.ffi: cannot load libnet; tried ' .. table.concat(tried, '; ')
        .. ' (set NET_LIBRARY to the full path of lua-net\'s libnet.so.1;'
        .. ' in nginx, list it with an env directive in nginx.conf)', 2)
end

local C = load_library()

-- libnet stays loaded for the life of the process. The FFI unloads a
-- library when its handle is collected, and at exit (lua_close) LuaJIT
-- collects that handle before any object made earlier than require('net'),
-- whose finalizer may still close a socket through it: the call would jump
-- into unmapped memory. One more reference of the dynamic loader's, never
-- dropped, keeps it mapped (as net.capi does for itself, src/lua/resident.c),
-- and every function of the cdef is looked up now: an unloaded handle finds
-- no new symbol, but keeps those it found. Where the loader's calls are
-- missing, the library is merely not pinned.
local function resolve_all(lib)
    local path = package.searchpath and package.searchpath('net.cdef', package.path)
    local f = path and io.open(path, 'rb')
    if not f then return end
    local text = f:read('*a')
    f:close()
    for name in text:gmatch('[%w_%*]%s*%**(net_[%w_]+)%(') do
        pcall(function() return lib[name] end)
    end
end

local function stay_loaded(lib)
    -- libc's functions, declared in the one C namespace every program
    -- shares: where a program declared them first, its declarations stand
    -- (LuaJIT keeps the first), so the arguments given here are void
    -- pointers, which convert to its types, and the types declared here
    -- are void pointers, to which a program declaring later converts its own.
    for _, decl in ipairs {
        'struct net_dl_info { const char *fname; void *fbase; const char *sname; void *saddr; };',
        'int dladdr(const void *addr, void *info);',
        'void *dlopen(const char *file, int mode);',
    } do
        pcall(ffi.cdef, decl)
    end
    local RTLD_NOW = 2 -- the same on Linux, the BSDs and macOS
    local info = ffi.new('struct net_dl_info')
    pcall(function()
        local addr = ffi.cast('void *', lib.net_version)
        if ffi.C.dladdr(addr, ffi.cast('void *', info)) ~= 0 and info.fname ~= nil then
            ffi.C.dlopen(info.fname, RTLD_NOW)
        end
    end)
end
stay_loaded(C)
resolve_all(C)

local M = {backend = 'ffi'}

-- Raw FFI access for LuaJIT programs (doc/reference.md, "Raw FFI"): the
-- library loaded above, every net_* function of net.h callable on it (the
-- cdef is declared). The one field no primitive of net.capi matches
-- (spec/lua/primitives_spec.lua lists it as an exception).
M.C = C

local addr_t = ffi.typeof('net_addr_t')
local addrinfo_array_t = ffi.typeof('net_addrinfo_t[?]')
local linger_t = ffi.typeof('net_linger_t')
local int2_t = ffi.typeof('int[2]')
local guard_t = ffi.typeof('struct { int fd; }')
local buffer_t = ffi.typeof('char[?]')
local const_char_p = ffi.typeof('const char *')
local ADDR_SIZE = ffi.sizeof(addr_t)

-- The arguments the primitives check as net.capi's do, with their messages:
-- what the classes pass is right, but an object's fields are plain ones a
-- program can change, and no value of them may make the C library read or
-- write outside an object (the FFI turns any userdata or pointer into the
-- pointer a function wants). Raised at the primitive's caller, as
-- luaL_argerror does (level 4: argerror, the check, the primitive, its
-- caller), so every check is called from the primitive itself.
local function argerror(fname, n, msg)
    error("bad argument #" .. n .. " to '" .. fname .. "' (" .. msg .. ")", 4)
end
-- An address: a net_addr_t (nil only where nil_ok: a NULL net.h takes).
local function addr_arg(fname, n, addr, nil_ok)
    if not ffi.istype(addr_t, addr) and not (nil_ok and addr == nil) then
        argerror(fname, n, 'net.addr expected, got ' .. type(addr))
    end
end

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

-- The fd the guard owned (-1: none), now the caller's: the collector will
-- not close it.
function M.guard_release(g)
    local fd = g.fd
    g.fd = -1
    return fd
end

-- The socket object owning g (net.capi's marks it closed when the collector
-- closes g's fd). Nothing to do here: a guard that is cdata is never
-- finalized in the collection that finalizes an object reaching its owner
-- (LuaJIT marks what a userdata to be finalized reaches, then sweeps the
-- cdata), so no finalizer can find the owner with its fd closed under it.
function M.guard_own(g, owner) -- luacheck: ignore 212
end

-- ---- a socket's life ----------------------------------------------------
-- The primitives that make a descriptor arm the guards they are given
-- (optional) before they return, as net.capi's do (src/lua/capi.c).
function M.sock_open(family, socktype, protocol, flags, g)
    local fd = C.net_sock_open(family, socktype, protocol, flags)
    if g and fd >= 0 then g.fd = fd end
    return fd
end

function M.sock_pair(family, socktype, protocol, flags, g1, g2)
    local fds = int2_t()
    local rc = C.net_sock_pair(family, socktype, protocol, flags, fds)
    if rc < 0 then return rc end
    local fd1, fd2 = fds[0], fds[1]
    if g1 then g1.fd = fd1 end
    if g2 then g2.fd = fd2 end
    return fd1, fd2
end

function M.sock_bind(fd, addr)
    addr_arg('sock_bind', 2, addr)
    return C.net_sock_bind(fd, addr)
end
function M.sock_connect(fd, addr)
    addr_arg('sock_connect', 2, addr)
    return C.net_sock_connect(fd, addr)
end
function M.sock_listen(fd, backlog) return C.net_sock_listen(fd, backlog) end
function M.sock_accept(fd, flags, g)
    local new = C.net_sock_accept(fd, flags, nil)
    if g and new >= 0 then g.fd = new end
    return new
end
function M.sock_shutdown(fd, how) return C.net_sock_shutdown(fd, how) end
function M.sock_close(fd) return C.net_sock_close(fd) end

-- ---- I/O ------------------------------------------------------------------
-- recv reads into one buffer reused by every call (ffi.string copies out of
-- it before anything else can run), grown to the largest size asked up to
-- RECV_KEEP_MAX. A larger read gets a one-off buffer from malloc, freed as
-- soon as its string is made, so one huge read does not pin its memory (as
-- in net.capi); not ffi.new, which would zero every byte first (seconds and
-- gigabytes of touched pages for a recv(2^31 - 1) that gets 5 bytes).
-- A read asks for at most RECV_MAX bytes, LuaJIT's largest string (2^31 -
-- 256), so every size up to 2^31 - 1 is valid: a read may return fewer bytes
-- than asked, and Linux never reads more than 2^31 - 4096 at once anyway.
-- net.capi has the same two numbers (RECV_MAX in src/lua/capi.h,
-- RECV_KEEP_MAX in src/lua/capi.c); the classes read RECV_MAX as
-- core.max_size and RECV_KEEP_MAX as core.keep_size (net.dgram's recvmany
-- takes its room in windows of that much).
local RECV_KEEP_MAX = 4 * 1024 * 1024
local RECV_MAX = 0x7fffff00
M.max_size = RECV_MAX
M.keep_size = RECV_KEEP_MAX
local ENOMEM, EMSGSIZE = -constants.ENOMEM, -constants.EMSGSIZE
local recv_size = 65536
local recv_buf = buffer_t(recv_size)
pcall(ffi.cdef, 'void *malloc(size_t size);')
pcall(ffi.cdef, 'void free(void *ptr);')
pcall(ffi.cdef, 'int memcmp(const void *a, const void *b, size_t n);')
local char_p = ffi.typeof('char *')
local libc_io = ffi.C

-- A buffer of size bytes, or nil when malloc has none.
local function buffer_for(size)
    -- the classes never pass a negative size (or NaN); a direct caller of
    -- net.core gets net.capi's answer, not a write past the buffer
    if size < 0 or size ~= size then error('bad argument #2 (size must not be negative)', 3) end
    if size <= recv_size then return recv_buf end
    if size > RECV_KEEP_MAX then
        local p = libc_io.malloc(size)
        if p == nil then return nil end
        return C_gc(ffi.cast(char_p, p), libc_io.free)
    end
    recv_buf, recv_size = buffer_t(size), size
    return recv_buf
end

-- The string of the n bytes a read of at most size bytes put in buf, or the
-- code n. A count above size is never data: libnet clamps it, and this holds
-- even against a libnet.so.1 that did not (buf past size is memory nothing
-- received into). A one-off buffer is freed now, not at a later collection.
local function received(buf, size, n)
    local str = n
    if n > size then
        str = EMSGSIZE
    elseif n >= 0 then
        str = C_string(buf, n)
    end
    if size > RECV_KEEP_MAX then libc_io.free(C_gc(buf, nil)) end
    return str
end

function M.sock_send(fd, str, flags, i, j)
    if i then
        local p = ffi.cast(const_char_p, str) + (i - 1)
        return tonumber(C.net_sock_send(fd, p, j - i + 1, flags))
    end
    return tonumber(C.net_sock_send(fd, str, #str, flags))
end

function M.sock_recv(fd, size, flags)
    if size > RECV_MAX then size = RECV_MAX end
    local buf = buffer_for(size)
    if buf == nil then return ENOMEM end
    return received(buf, size, tonumber(C.net_sock_recv(fd, buf, size, flags)))
end

function M.sock_sendto(fd, str, flags, addr)
    addr_arg('sock_sendto', 4, addr, true)
    return tonumber(C.net_sock_sendto(fd, str, #str, flags, addr))
end

-- ---- buffers ----------------------------------------------------------------
-- The memory of net.buffer (ffi/net/buffer.lua): a zeroed uint8_t array.
local mem_t = ffi.typeof('uint8_t[?]')
-- consume() moves bytes inside one array: memmove, not ffi.copy (memcpy).
-- An identical declaration elsewhere is accepted by ffi.cdef; a different
-- one raises, and then the symbol is already declared anyway.
pcall(ffi.cdef, 'void *memmove(void *dst, const void *src, size_t len);')
pcall(ffi.cdef, 'void *memmem(const void *hay, size_t hay_len, const void *needle, size_t len);')
local const_u8_p = ffi.typeof('const uint8_t *')
local libc = ffi.C -- the namespace, not the function: the JIT's advice

-- Each primitive checks its memory and range as net.capi's (src/lua/buffer.c)
-- do (argerror, above): fname's argument n is a memory buffer_new made (its
-- size returned), an offset up to limit, a length up to room. The sizes are
-- kept by memory (weak keys): a lookup the JIT compiles, where ffi.sizeof of
-- a VLA is not.
local mem_sizes = setmetatable({}, {__mode = 'k'})
local function mem_size(fname, n, mem)
    local size = mem_sizes[mem]
    if not size then argerror(fname, n, 'net.buffer.mem expected, got ' .. type(mem)) end
    return size
end
local function offset_arg(fname, n, offset, limit)
    if type(offset) ~= 'number' or offset < 0 or offset > limit then
        argerror(fname, n, 'offset out of range')
    end
end
local function length_arg(fname, n, len, room)
    if type(len) ~= 'number' or len < 0 or len > room then
        argerror(fname, n, 'length out of range')
    end
end

function M.buffer_new(size)
    local mem = mem_t(size)
    mem_sizes[mem] = size
    return mem
end
function M.buffer_string(mem, offset, len)
    local size = mem_size('buffer_string', 1, mem)
    offset_arg('buffer_string', 2, offset, size)
    length_arg('buffer_string', 3, len, size - offset)
    return C_string(mem + offset, len)
end
function M.buffer_byte(mem, offset)
    local size = mem_size('buffer_byte', 1, mem)
    offset_arg('buffer_byte', 2, offset, size - 1)
    return mem[offset]
end
function M.buffer_move(mem, dst, src, len)
    local size = mem_size('buffer_move', 1, mem)
    offset_arg('buffer_move', 2, dst, size)
    offset_arg('buffer_move', 3, src, size)
    length_arg('buffer_move', 4, len, size - (dst > src and dst or src))
    libc.memmove(mem + dst, mem + src, len)
end

function M.buffer_find(mem, offset, len, str)
    local size = mem_size('buffer_find', 1, mem)
    offset_arg('buffer_find', 2, offset, size)
    length_arg('buffer_find', 3, len, size - offset)
    if #str == 0 then return offset end
    local hit = libc.memmem(mem + offset, len, str, #str)
    if hit == nil then return -1 end
    return tonumber(ffi.cast(const_u8_p, hit) - mem)
end

-- Never a count above size (see received): the class would take it as the
-- buffer's new length.
function M.sock_recvinto(fd, mem, offset, size, flags)
    local room = mem_size('sock_recvinto', 2, mem)
    offset_arg('sock_recvinto', 3, offset, room)
    length_arg('sock_recvinto', 4, size, room - offset)
    local n = tonumber(C.net_sock_recv(fd, mem + offset, size, flags))
    if n > size then return EMSGSIZE end
    return n
end

function M.sock_sendfrom(fd, mem, offset, len, flags)
    local size = mem_size('sock_sendfrom', 2, mem)
    offset_arg('sock_sendfrom', 3, offset, size)
    length_arg('sock_sendfrom', 4, len, size - offset)
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
for _, name in ipairs({'atmark', 'type', 'family', 'protocol', 'error', 'inq', 'readshut'}) do
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

function M.addr_family(addr)
    addr_arg('addr_family', 1, addr)
    return addr.family
end

local function text_of(fname, read)
    return function(addr)
        addr_arg(fname, 1, addr)
        local n = read(addr, text_buf, C.NET_ADDR_STORAGE)
        if n < 0 then return n end
        return C_string(text_buf, n)
    end
end
M.addr_host = text_of('addr_host', C.net_addr_host)
M.addr_path = text_of('addr_path', C.net_addr_path)
function M.addr_port(addr)
    addr_arg('addr_port', 1, addr)
    return C.net_addr_port(addr)
end

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

-- net_getaddrinfo reads C strings: an embedded NUL would cut a name short
-- ("127.0.0.1\0.example.com" is 127.0.0.1), so it is refused, as in net.capi.
local EINVAL = -constants.EINVAL
local find = string.find

function M.getaddrinfo(host, service, family, socktype, protocol, flags)
    if (host and find(host, '\0', 1, true)) or (service and find(service, '\0', 1, true)) then
        return EINVAL
    end
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

function M.now() return C.net_now() end

function M.poll_fd(fd, events, timeout)
    return C.net_poll_fd(fd, events, timeout)
end

-- ---- datagrams, multicast, messages (net.dgram, message I/O) ---------------
-- src/msg.c and src/mcast.c. Receives use the buffer of sock_recv above.
constants.MCAST_JOIN, constants.MCAST_LEAVE = C.NET_MCAST_JOIN, C.NET_MCAST_LEAVE
constants.MCAST_JOINSRC, constants.MCAST_LEAVESRC = C.NET_MCAST_JOINSRC, C.NET_MCAST_LEAVESRC
constants.MCAST_BLOCKSRC, constants.MCAST_UNBLOCKSRC = C.NET_MCAST_BLOCKSRC, C.NET_MCAST_UNBLOCKSRC

local int64_1_t = ffi.typeof('int64_t[1]')
local int_1_t = ffi.typeof('int[1]')
local full_box = int64_1_t()

-- str, addr, full (the datagram's whole length: > #str when it was cut), or
-- a code.
-- The sender lands in one scratch address, and becomes a new address only
-- when it differs from like (an address, or nil): the same sender as like's
-- returns like itself (net.dgram's cache of the last sender). Same: the
-- family, the length and the bytes in use (net_addr_t's first 8 bytes are
-- family and len).
local sender_scratch = addr_t()
local ADDR_HEAD = ffi.offsetof('net_addr_t', 'storage')

-- A new address holding a copy of addr (sock_recvmany overwrites the
-- addresses it is given).
local function addr_copy(addr)
    addr_arg('addr_copy', 1, addr)
    local copy = addr_t()
    C_copy(copy, addr, ADDR_SIZE)
    return copy
end
M.addr_copy = addr_copy

function M.sock_recvdgram(fd, size, flags, like)
    addr_arg('sock_recvdgram', 4, like, true)
    if size > RECV_MAX then size = RECV_MAX end
    local buf = buffer_for(size)
    if buf == nil then return ENOMEM end
    -- The sender's scratch is this call's until it returns, and the full
    -- length is read before anything is allocated: an allocation may run a
    -- finalizer that receives too (the bytes are safe: they are copied out
    -- before the collector can run).
    local from = sender_scratch or addr_t()
    sender_scratch = nil
    local n = tonumber(C.net_sock_recvdgram(fd, buf, size, flags, from, full_box))
    local full = tonumber(full_box[0])
    local str = received(buf, size, n)
    if type(str) == 'string' then
        local len = from.len
        if like == nil or like.len ~= len or libc_io.memcmp(like, from, ADDR_HEAD + len) ~= 0 then
            like = addr_copy(from)
        end
        sender_scratch = from
        return str, like, full
    end
    sender_scratch = from
    return str
end

function M.sock_disconnect(fd) return C.net_sock_disconnect(fd) end
function M.sock_mcastloop(fd, val) return C.net_sock_mcastloop(fd, val) end
function M.sock_mcastttl(fd, val) return C.net_sock_mcastttl(fd, val) end

local ifname_buf = buffer_t(64)
-- The interface name in effect after setting ifname (nil: only read), or a
-- code.
function M.sock_mcastif(fd, ifname)
    local n = C.net_sock_mcastif(fd, ifname, ifname_buf, 64)
    if n < 0 then return n end
    return C_string(ifname_buf, n)
end

function M.sock_mcastgroup(fd, op, group, source, ifname)
    return C.net_sock_mcastgroup(fd, op, group, source, ifname)
end

local iovec_array_t = ffi.typeof('net_iovec_t[?]')
-- The strings list[i..j] (default: all of it) in one gather write, the
-- first skip bytes of list[i] left out (clamped to its length, as
-- net.capi's). The array keeps no reference to the strings: list does, for
-- the length of the call.
function M.sock_sendv(fd, list, flags, i, j, skip)
    i, j = i or 1, j or #list
    local n = j >= i and j - i + 1 or 0
    local iov = iovec_array_t(n > 0 and n or 1)
    for k = 0, n - 1 do
        local s = list[i + k]
        iov[k].base, iov[k].len = s, #s
    end
    if n > 0 and skip and skip > 0 then
        local first = list[i]
        if skip > #first then skip = #first end
        iov[0].base, iov[0].len = ffi.cast(const_char_p, first) + skip, #first - skip
    end
    return tonumber(C.net_sock_sendv(fd, iov, n, flags))
end

-- The descriptor of a Lua file (io.open's), or -EBADF once it is closed:
-- LuaJIT converts a file to its FILE * (NULL once closed).
pcall(ffi.cdef, 'typedef struct FILE FILE;')
pcall(ffi.cdef, 'int fileno(FILE *stream);')
local file_p = ffi.typeof('FILE *')
function M.file_fd(f)
    if not (io and io.type(f)) then error("bad argument #1 to 'file_fd' (FILE* expected, got " .. type(f) .. ')', 2) end
    local fp = ffi.cast(file_p, f)
    if fp == nil then return -constants.EBADF end
    return libc_io.fileno(fp)
end

function M.sock_sendfd(fd, passfd, str, flags)
    return tonumber(C.net_sock_sendfd(fd, passfd, str, #str, flags))
end

local passfd_box = int_1_t()
-- passfd (-1: the message carried none), str; or a code.
function M.sock_recvfd(fd, size, flags, g)
    if size > RECV_MAX then size = RECV_MAX end
    local buf = buffer_for(size)
    if buf == nil then return ENOMEM end
    local n = tonumber(C.net_sock_recvfd(fd, buf, size, flags, passfd_box))
    local passfd = passfd_box[0] -- before the string's allocation (see sock_recvdgram)
    if g and passfd >= 0 then g.fd = passfd end -- g owns it from its arrival
    local str = received(buf, size, n)
    if type(str) ~= 'string' then return str end
    return passfd, str
end

local cred_t = ffi.typeof('net_cred_t')
function M.sock_peercred(fd)
    local cred = cred_t()
    local rc = C.net_sock_peercred(fd, cred)
    if rc < 0 then return rc end
    return tonumber(cred.pid), tonumber(cred.uid), tonumber(cred.gid)
end

function M.sock_sendfile(fd, filefd, offset, count)
    return tonumber(C.net_sock_sendfile(fd, filefd, offset, count))
end
function M.sock_sendfilepath(fd, path, offset, count)
    return tonumber(C.net_sock_sendfilepath(fd, path, offset, count))
end

-- Batches: one array of records and one area of max * size bytes, kept
-- between calls up to RECV_KEEP_MAX bytes (a larger area is a one-off).
-- A call takes them while it uses them and gives them back at its end: the
-- allocations of its loop may run a finalizer, a finalizer may make a batch
-- call too, and that one must find none to overwrite (it makes its own). A
-- call that raises between never gives them back: the next makes new ones.
local msg_array_t = ffi.typeof('net_msg_t[?]')
local void_p = ffi.typeof('void *')
local batch_msgs, batch_room = msg_array_t(32), 32
local batch_buf, batch_size = nil, 0

local function take_records(n)
    local msgs, room = batch_msgs, batch_room
    batch_msgs, batch_room = nil, 0
    if n > room then msgs, room = msg_array_t(n), n end
    return msgs, room
end

local function give_back(msgs, room, area, size)
    if room > batch_room then batch_msgs, batch_room = msgs, room end
    if area and size > batch_size and size <= RECV_KEEP_MAX then batch_buf, batch_size = area, size end
end

-- The counts of sock_recvmany, checked with net.capi's messages: max (1 to
-- 1,024), size (0 to 16 MiB), and first (argument 8, default 1): the
-- index datagram 1 goes to, a whole number from 1 with the last index,
-- first + max - 1, an int, checked in this order as net.capi's arg_first.
-- Returns first.
local INT_MAX = 0x7fffffff
local function recvmany_args(max, size, first)
    if not (max >= 1 and max <= 1024) then argerror('sock_recvmany', 2, 'count out of range') end
    if size < 0 then argerror('sock_recvmany', 3, 'size must not be negative') end
    if size ~= size or size > 16 * 1024 * 1024 then argerror('sock_recvmany', 3, 'size out of range') end
    if first == nil then return 1 end
    if type(first) ~= 'number' then
        argerror('sock_recvmany', 8, 'number expected, got ' .. type(first))
    elseif not (first >= 1 and first <= INT_MAX - max + 1) then
        argerror('sock_recvmany', 8, 'index out of range')
    elseif first % 1 ~= 0 then
        argerror('sock_recvmany', 8, 'number has no integer representation')
    end
    return first
end

-- How many datagrams came (n), each i of them into datas[j] (the bytes),
-- addrs[j] (the sender: an address already there is overwritten, none is
-- made then) and fulls[j] (the full length, as in sock_recvdgram), j =
-- first + i - 1; or a code. The lists are the caller's, reused between
-- calls: no table is made here.
function M.sock_recvmany(fd, max, size, flags, datas, addrs, fulls, first)
    first = recvmany_args(max, size, first)
    local total = max * size
    local area, area_size = batch_buf, batch_size
    local one_off
    batch_buf, batch_size = nil, 0
    if total > RECV_KEEP_MAX then
        -- a one-off area from malloc, as buffer_for's: ffi.new would zero
        -- all of it (64 MiB for recvmany(1024)) on every call
        one_off = libc_io.malloc(total)
        if one_off == nil then
            give_back(nil, 0, area, area_size)
            return ENOMEM
        end
        one_off = C_gc(ffi.cast(char_p, one_off), libc_io.free)
    elseif total > area_size then
        area, area_size = buffer_t(total), total
    end
    local msgs, room = take_records(max)
    local into = one_off or area
    for i = 0, max - 1 do
        msgs[i].buf, msgs[i].size = into + i * size, size
    end
    local n = C.net_sock_recvmany(fd, msgs, max, flags)
    if n > max then n = max end -- never, by net.h's contract: trust nothing past max
    for i = 0, n - 1 do
        local m, j = msgs[i], first + i -- msgs[i]: datagram i + 1
        local addr = addrs[j]
        if not ffi.istype(addr_t, addr) then addr = addr_t() end
        C_copy(addr, m.addr, ADDR_SIZE)
        local len = tonumber(m.len)
        datas[j] = C_string(m.buf, len > size and size or len)
        addrs[j], fulls[j] = addr, tonumber(m.full)
    end
    if one_off then libc_io.free(C_gc(one_off, nil)) end
    give_back(msgs, room, area, area_size)
    return n
end

-- The n datagrams datas[i] to addrs[i] (false: the connected peer); how
-- many were sent, or a code.
function M.sock_sendmany(fd, datas, addrs, n, flags)
    local msgs, room = take_records(n)
    for i = 1, n do
        local m, s, a = msgs[i - 1], datas[i], addrs[i]
        if type(s) ~= 'string' then
            error("bad argument #2 to 'sock_sendmany' (list of strings expected)", 2)
        end
        m.buf, m.len = ffi.cast(void_p, s), #s
        if a then
            if not ffi.istype(addr_t, a) then -- what the copy reads must be an address
                error("bad argument #3 to 'sock_sendmany' (list of net.addr or false expected)", 2)
            end
            C_copy(m.addr, a, ADDR_SIZE)
        else
            m.addr.family = 0
        end
    end
    local sent = C.net_sock_sendmany(fd, msgs, n, flags)
    give_back(msgs, room)
    return sent
end


-- ---- poll sets (net.poll) -----------------------------------------------
-- poll_wait writes into one result area shared by every set, read with
-- poll_event(i) (1-based) until the next poll_wait: nothing is allocated per
-- wait. The area grows to the largest max asked, up to POLL_MAX records (a
-- wait may always report fewer than are ready; the rest come next time).
-- net.capi uses the same number.
local POLL_MAX = 65536
local poll_events_t = ffi.typeof('net_poll_event_t[?]')
local poll_room = 64
local poll_area = poll_events_t(poll_room)
constants.POLL_ADD, constants.POLL_MOD, constants.POLL_DEL =
    C.NET_POLL_ADD, C.NET_POLL_MOD, C.NET_POLL_DEL

function M.poll_create(flags) return C.net_poll_create(flags) end
function M.poll_close(pfd) return C.net_poll_close(pfd) end

-- data: a Lua number, a whole number from 0 to 2^53 (the class's
-- generation numbers), exact as a double and as a uint64_t.
function M.poll_ctl(pfd, op, fd, events, data)
    return C.net_poll_ctl(pfd, op, fd, events, data)
end

function M.poll_wait(pfd, max, timeout)
    if max > POLL_MAX then max = POLL_MAX end
    if max > poll_room then
        -- Grown by doubling: a set that gains a socket between two waits
        -- (a server accepting) made a new area per wait, each left to the
        -- collector: 15 KiB of garbage per connection at 10,000 (W5 idle,
        -- bench/RESULTS.md).
        local room = poll_room * 2
        while room < max do room = room * 2 end
        if room > POLL_MAX then room = POLL_MAX end
        poll_area, poll_room = poll_events_t(room), room
    end
    return C.net_poll_wait(pfd, poll_area, max, timeout)
end

-- fd, events, data of the i-th record of the last poll_wait.
function M.poll_event(i)
    local e = poll_area[i - 1]
    return e.fd, e.events, tonumber(e.data)
end

return M
