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

local core = require(name)
core.backend = backend
return core
