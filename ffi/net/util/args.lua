-- Argument checks shared by every class: wrong types are programming errors
-- and raise with the messages of Lua's auxlib ("bad argument #1 to 'rcvbuf'
-- (number expected, got string)"), counting arguments after self.
local type, error, pairs = type, error, pairs

local M = {}

-- Raises at the level of the public function's caller (3: this helper, the
-- check that called it, the public function).
local function argerror(fname, n, msg)
    error(("bad argument #%d to '%s' (%s)"):format(n, fname, msg), 4)
end

-- Raises "bad argument #n to 'fname' (msg)" for the caller of fname.
function M.error(fname, n, msg)
    argerror(fname, n, msg)
end

function M.check(fname, n, value, expected)
    if type(value) ~= expected then
        argerror(fname, n, expected .. ' expected, got ' .. type(value))
    end
    return value
end

-- An optional argument: nil passes.
function M.optional(fname, n, value, expected)
    if value ~= nil and type(value) ~= expected then
        argerror(fname, n, expected .. ' expected, got ' .. type(value))
    end
    return value
end

-- An options table checked against a schema {key = 'type' | {'type', ...}}.
-- Unknown keys raise: a typo must never silently connect somewhere else.
function M.options(fname, opts, schema, optional_table)
    if opts == nil and optional_table then
        return {}
    end
    if type(opts) ~= 'table' then
        argerror(fname, 1, 'table expected, got ' .. type(opts))
    end
    for key, value in pairs(opts) do
        local want = schema[key]
        if want == nil then
            argerror(fname, 1, ("unknown option '%s'"):format(tostring(key)))
        end
        local vt = type(value)
        if type(want) == 'string' then
            if vt ~= want then
                argerror(fname, 1, ("option '%s' must be %s, got %s"):format(key, want, vt))
            end
        elseif vt ~= want[1] and vt ~= want[2] then
            argerror(fname, 1, ("option '%s' must be %s or %s, got %s")
                :format(key, want[1], want[2], vt))
        end
    end
    return opts
end

return M
