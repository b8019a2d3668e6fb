-- Socket option methods, made from the rows of net.h's NET_SOCK_OPTIONS
-- (core.options: {name, kind, scope, alias}). kind 'bool' (and
-- 'readonly_bool') takes and returns booleans, 'int' whole numbers,
-- 'seconds' (fractional) numbers. Without an argument a method reads the
-- option; with one it sets it and returns the value the kernel reports
-- afterwards.
local core = require('net.core')
local args = require('net.util.args')
local result = require('net.util.result')
local fast = require('net.util.fast')

local type, assert, ipairs = type, assert, ipairs
local argerror, fail = args.error, result.fail
local INT_MAX, NOT_INTEGER, EINVAL_MSG = args.INT_MAX, args.NOT_INTEGER, result.EINVAL

-- The checks are inline, not helper calls: on PUC Lua a helper call per
-- option call costs as much as the option call itself (bench/RESULTS.md).
local MAKE = {
    bool = function(prim, name, after_set)
        return function(self, on)
            local rc
            if on == nil then
                rc = prim(self[1], -1)
            elseif type(on) ~= 'boolean' then
                argerror(name, 1, 'boolean expected, got ' .. type(on))
            else
                rc = prim(self[1], on and 1 or 0)
                if after_set and rc >= 0 then after_set(self, on) end
            end
            if rc < 0 then return fail(rc) end
            return rc == 1
        end
    end,
    int = function(prim, name)
        return function(self, val)
            if val == nil then
                val = -1
            elseif type(val) ~= 'number' then
                argerror(name, 1, 'number expected, got ' .. type(val))
            elseif val % 1 ~= 0 then
                argerror(name, 1, NOT_INTEGER)
            elseif val < 0 or val > INT_MAX then
                return nil, EINVAL_MSG
            end
            local rc = prim(self[1], val)
            if rc < 0 then return fail(rc) end
            return rc
        end
    end,
    seconds = function(prim, name)
        return function(self, sec)
            if sec == nil then
                sec = -1
            elseif type(sec) ~= 'number' then
                argerror(name, 1, 'number expected, got ' .. type(sec))
            elseif sec < 0 then -- NaN and too long are libnet's EINVAL
                return nil, EINVAL_MSG
            end
            local rc = prim(self[1], sec)
            if rc < 0 then return fail(rc) end
            return rc
        end
    end,
}
-- libnet refuses to set a read-only option (EINVAL): the method is a bool's.
MAKE.readonly_bool = MAKE.bool

-- What an option read that failed reports, for net.capi's fast paths,
-- which call it as other(self, code).
local function failed(_, code) return fail(code) end

-- Adds to cls a method for every option of scope ('socket', 'stream'), and
-- one under its alias. On PUC Lua, net.capi reads options in C
-- (net.util.fast), handing setters and bad arguments to the Lua method.
-- after_set: {name = fn(self, on)} of bool options whose setting the class keeps
-- track of (net.Socket: nonblock), called once a set succeeded.
return function(cls, scope, after_set)
    for _, opt in ipairs(core.options) do
        if opt.scope == scope then
            local name, make = opt.name, assert(MAKE[opt.kind], opt.kind)
            local prim = assert(core['sock_' .. name], name)
            local hook = after_set and after_set[name]
            assert(hook == nil or make == MAKE.bool, name)
            -- An alias's method names itself in argument errors.
            for _, method_name in ipairs({name, opt.alias}) do
                cls[method_name] = fast.method(name, make(prim, method_name, hook), failed)
            end
        end
    end
end
