-- The C fast paths of net.capi (core.fast_method, src/lua/methods.c), where
-- they pay and can wait: on PUC Lua 5.2-5.4, where a method written in Lua
-- costs more than the system call it makes. Under LuaJIT (NET_BACKEND=capi)
-- the Lua methods compile into the trace and cost less than a C function
-- called through the classic API (bench/RESULTS.md); on Lua 5.1 a C function
-- cannot let a waiter yield (net.loop, net.waiters.coroutine). There the Lua
-- method stays.
local core = require('net.core')

local setmetatable = setmetatable
local fast_method = type(jit) ~= 'table' and _VERSION ~= 'Lua 5.1' and core.fast_method

-- fast C function -> the Lua method it stands for (weak: classes may go).
local lua_methods = setmetatable({}, {__mode = 'k'})

local M = {}

-- The function to install as the method name: its C fast path, or method.
-- other is the result rule of net.util.result that method applies to every
-- outcome but the plain success; the C function calls it for those too.
-- extra: recv's default size.
function M.method(name, method, other, extra)
    local fn = fast_method and fast_method(name, method, other, extra)
    if not fn then return method end
    lua_methods[fn] = method
    return fn
end

-- The Lua method a fast C function stands for; fn itself for any other.
function M.lua_method(fn)
    return lua_methods[fn] or fn
end

return M
