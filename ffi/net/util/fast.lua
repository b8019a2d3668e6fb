-- The C fast paths of net.capi (core.fast_method, src/lua/methods.c), where
-- they pay: on PUC Lua, where a method written in Lua costs more than the
-- system call it makes. Under LuaJIT (NET_BACKEND=capi) the Lua methods
-- compile into the trace and cost less than a C function called through the
-- classic API (bench/RESULTS.md), so there the Lua method stays.
local core = require('net.core')
local args = require('net.util.args')

local setmetatable, running = setmetatable, coroutine.running
local fast_method = type(jit) ~= 'table' and core.fast_method

-- Lua 5.1 cannot yield across a C function, and a waiter may yield (net.loop,
-- net.waiters.coroutine): there the C function runs on the main thread only,
-- where nothing can yield, and a coroutine calls the Lua method. (5.2+ gives
-- the C functions continuations: src/lua/methods.c.) Behind that wrapper an
-- argument error names the caller one level further up: where = 2 for the
-- C function's, and the wrapper is one net.util.args passes over for the
-- Lua method's.
local YIELD_ACROSS_C = _VERSION ~= 'Lua 5.1'
local WHERE = YIELD_ACROSS_C and 1 or 2

-- All of a call's results (the Lua method's call is then no tail call, which
-- would leave its argument errors no caller's position).
local function results(...) return ... end

-- (Three arguments after self: all that send, recv, an option, sendto and
-- recvfrom take; the C functions read a nil the same as an absent argument.
-- A vararg function would cost 5.1 a copy of the arguments on every call.)
local function main_thread_only(c_fn, method)
    local function wrapper(self, a, b, c)
        if running() then return results(method(self, a, b, c)) end
        return c_fn(self, a, b, c)
    end
    args.pass_through(wrapper)
    return wrapper
end

-- fast C function -> the Lua method it stands for (weak: classes may go).
local lua_methods = setmetatable({}, {__mode = 'k'})

local M = {}

-- The function to install as the method name: its C fast path, or method.
-- other is the function method hands every outcome but the plain success
-- to (waiting where a deadline or waiter applies, then net.util.result's
-- rules); the C function calls it for those too.
-- extra: recv's and recvfrom's default size, sendto's class net.addrinfo;
-- finish: recvfrom's maker of its results (core.fast_method).
function M.method(name, method, other, extra, finish)
    local fn = fast_method and fast_method(name, method, other, extra or 0, WHERE, finish)
    if not fn then return method end
    if not YIELD_ACROSS_C then fn = main_thread_only(fn, method) end
    lua_methods[fn] = method
    return fn
end

-- The Lua method a fast function stands for; fn itself for any other.
function M.lua_method(fn)
    return lua_methods[fn] or fn
end

return M
