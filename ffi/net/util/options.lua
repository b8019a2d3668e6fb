-- Socket option methods, generated from a list: {name, kind[, primitive]}.
-- kind 'bool' takes and returns booleans, 'int' whole numbers, 'seconds'
-- (fractional) numbers. Without an argument a method reads the option; with
-- one it sets it and returns the value the kernel reports afterwards.
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
    bool = function(prim, name)
        return function(self, on)
            local rc
            if on == nil then
                rc = prim(self[1], -1)
            elseif type(on) ~= 'boolean' then
                argerror(name, 1, 'boolean expected, got ' .. type(on))
            else
                rc = prim(self[1], on and 1 or 0)
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

-- Adds the methods of list to cls. On PUC Lua, net.capi reads options in C
-- (net.util.fast), handing setters and bad arguments to the Lua method made
-- here.

return function(cls, list)
    for _, opt in ipairs(list) do
        local name, kind = opt[1], opt[2]
        local prim_name = opt[3] or name
        local prim = assert(core['sock_' .. prim_name], name)
        local method = assert(MAKE[kind], kind)(prim, name)
        cls[name] = fast(prim_name, method, kind)
    end
end
