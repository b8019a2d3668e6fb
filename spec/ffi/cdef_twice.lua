-- The generated cdef is safe to load twice, next to another FFI library's
-- declarations, and ffi.load('net') then answers net_version().
-- Run by meson under LuaJIT: luajit spec/ffi/cdef_twice.lua
local ffi = require('ffi')

-- Another library declared its own types first (as lua-resty-core does).
ffi.cdef('typedef struct other_lib_buf { char *data; size_t len; } other_lib_buf;')

local function load_fresh()
    package.loaded['net.cdef'] = nil
    return require('net.cdef')
end

local first = load_fresh()
local second = load_fresh() -- a second ffi.cdef of the same names would raise
assert(first == ffi and second == ffi, 'net.cdef must return the ffi module')

-- Loading the file by path (not through require) is guarded as well.
local path = assert(package.searchpath('net.cdef', package.path))
dofile(path)

local lib = ffi.load('net')
local version = lib.net_version()
assert(type(version) == 'number' and version >= 10000,
       'net_version() returned ' .. tostring(version))
assert(ffi.sizeof('net_addr_t') == 136, 'net_addr_t must be 136 bytes')
assert(ffi.string(lib.net_strerror(-9)) ~= '', 'net_strerror gives text')
print(('1 passed, 0 failed (net_version %d)'):format(version))
