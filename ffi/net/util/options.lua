-- Socket option methods, made from one list per class: {name, kind[,
-- primitive]}. 'bool' methods take and return booleans, 'int' ones whole
-- numbers, 'seconds' ones fractional numbers. Each returns the value the
-- kernel holds afterwards.
local core = require('net.core')
local args = require('net.util.args')
local result = require('net.util.result')

local type = type
local check, fail, EINVAL = args.check, result.fail, result.EINVAL
local INT_MAX = 2147483647

local ACCESSORS = {
    bool = function(prim, name)
        return function(self, on)
            local rc
            if on == nil then
                rc = prim(self._fd, -1)
            else
                check(name, 1, on, 'boolean')
                rc = prim(self._fd, on and 1 or 0)
            end
            if rc < 0 then return fail(rc) end
            return rc == 1
        end
    end,
    int = function(prim, name)
        return function(self, val)
            if val == nil then
                val = -1
            else
                check(name, 1, val, 'number')
                if val % 1 ~= 0 then
                    args.error(name, 1, 'number has no integer representation')
                elseif val < 0 or val > INT_MAX then
                    return nil, EINVAL
                end
            end
            local rc = prim(self._fd, val)
            if rc < 0 then return fail(rc) end
            return rc
        end
    end,
    seconds = function(prim, name)
        return function(self, sec)
            if sec == nil then
                sec = -1
            elseif check(name, 1, sec, 'number') < 0 then
                return nil, EINVAL
            end
            local rc = prim(self._fd, sec)
            if rc < 0 then return fail(rc) end
            return rc
        end
    end,
}

-- Adds the option methods of list to cls.
return function(cls, list)
    for _, opt in ipairs(list) do
        local name, kind = opt[1], opt[2]
        local prim = assert(core['sock_' .. (opt[3] or name)], name)
        assert(type(ACCESSORS[kind]) == 'function', kind)
        cls[name] = ACCESSORS[kind](prim, name)
    end
end
