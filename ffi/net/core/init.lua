-- net.core: the primitive table of doc/internals.md, from the backend that
-- fits the interpreter: the FFI binding under LuaJIT, the C-API module
-- (net.capi) under PUC Lua. NET_BACKEND=ffi|capi forces one.
local has_ffi = type(jit) == 'table' and pcall(require, 'ffi')

local backend = os.getenv('NET_BACKEND')
if backend == nil or backend == '' then
    backend = has_ffi and 'ffi' or 'capi'
end

local modules = {ffi = 'net.core.ffi', capi = 'net.capi'}
local name = modules[backend]
if not name then
    error(("NET_BACKEND must be 'ffi' or 'capi', not '%s'"):format(backend), 2)
elseif backend == 'ffi' and not has_ffi then
    error("NET_BACKEND=ffi needs LuaJIT's ffi module; this is " .. _VERSION, 2)
end

-- net/capi.so needs lua-net's libnet.so.1; Debian's unrelated packet
-- library libnet1 has the same file name. When the system loader finds
-- that one first, dlopen's message ("undefined symbol: net_sock_cloexec,
-- version NET_1", or "version `NET_1' not found") is made to say so in words.
local ok, core = pcall(require, name)
if not ok then
    local msg = tostring(core)
    -- Any missing version node or net_ symbol: which node the loader names
    -- first (NET_1 or a later one) follows the link order, not the cause.
    if backend == 'capi' and (msg:find('NET_1', 1, true) or msg:find('symbol: net_', 1, true)) then
        error('net.capi: the libnet.so.1 the system loader found is not this lua-net\'s'
            .. ' (Debian\'s packet library libnet1 has the same name, or it is an older'
            .. ' lua-net\'s; one this process loaded already, for another of its modules,'
            .. ' is taken whatever the paths say). net/capi.so reaches its own copy by its'
            .. ' rpath (meson install puts it in <libdir>/lua-net/, the rock beside'
            .. ' net/capi.so): remove the'
            .. ' directory of the other libnet.so.1 from LD_LIBRARY_PATH (or LD_PRELOAD),'
            .. ' or reinstall lua-net with its layout intact. NET_LIBRARY applies to the'
            .. ' FFI backend only. The loader said: ' .. msg, 2)
    end
    error(msg, 0)
end
core.backend = backend
return core
