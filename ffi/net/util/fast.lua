-- The C fast paths of net.capi (core.fast_method, src/lua/methods.c), where
-- they pay: on PUC Lua, where a method written in Lua costs more than the
-- system call it makes. Under LuaJIT (NET_BACKEND=capi) the Lua methods
-- compile into the trace and cost less than a C function called through the
-- classic API (bench/RESULTS.md), so there the Lua method stays.
local core = require('net.core')

local fast_method = type(jit) ~= 'table' and core.fast_method

-- The method to install for name: the C fast path of method, or method.
return function(name, method, extra)
    return fast_method and fast_method(name, method, extra) or method
end
