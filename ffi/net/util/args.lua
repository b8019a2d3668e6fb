-- Argument checks shared by every class: wrong types are programming errors
-- and raise with the messages of Lua's auxlib ("bad argument #1 to 'rcvbuf'
-- (number expected, got string)"), counting arguments after self.
--
-- Every check raises at the level of the caller of the public function, so
-- the error position names the user's line: call the checks directly from
-- the public function; a helper it calls uses error() with its depth.
local type, error, pairs, next, tostring, tonumber, getmetatable =
    type, error, pairs, next, tostring, tonumber, getmetatable

local M = {}

-- The largest value of a C int: every integer that crosses into libnet is
-- one. Checking the range here keeps both backends alike (the FFI would wrap
-- 2^32 + 2 around to 2, the C API clamps it).
M.INT_MAX = 2147483647

-- What Lua 5.3's auxlib says for 1.5 where an integer is expected; said on
-- every runtime, so 5.1 and LuaJIT never truncate where 5.3 would raise.
M.NOT_INTEGER = 'number has no integer representation'

-- Functions that only pass a call on to a public function (net.util.fast's
-- wrappers on Lua 5.1): never the caller an argument error names.
local pass_through = setmetatable({}, {__mode = 'k'})
function M.pass_through(fn)
    pass_through[fn] = true
end

-- Level 4: error's caller (1) is argerror, then the exported check (2), the
-- public function (3), and its caller (4); depth adds the frames of helpers
-- between the public function and the check. (getinfo counts levels as
-- error does.) Only a failing call pays for the look at its caller.
local function argerror(fname, n, msg, depth)
    local level = 4 + (depth or 0)
    local caller = debug.getinfo(level, 'f')
    if caller and pass_through[caller.func] then level = level + 1 end
    -- (built by concatenation: the %s of 5.1 and 5.2 stops at a NUL byte)
    error("bad argument #" .. n .. " to '" .. fname .. "' (" .. msg .. ")", level)
end

-- Raises "bad argument #n to 'fname' (msg)" for the caller of fname; depth
-- is how many helper calls deep below fname this is called (default 0).
function M.error(fname, n, msg, depth)
    argerror(fname, n, msg, depth)
end

-- Raises "bad argument #0 to 'fname' (<class> expected, got table)" unless
-- self is an object of cls (its metatable): the first thing every method of
-- a class that checks its self does (p.wait() for p:wait(), a stray table).
function M.self(fname, self, cls)
    if getmetatable(self) ~= cls then
        argerror(fname, 0, cls._NAME .. ' expected, got ' .. type(self))
    end
end

-- value, or a raise "bad argument #1 to 'fname' (option 'key' is required)"
-- when it is nil: an option without which the call has nothing to act on
-- (a client's port or path), never a default that connects somewhere.
function M.required(fname, value, key)
    if value == nil then argerror(fname, 1, "option '" .. key .. "' is required") end
    return value
end

-- A whole number (NaN and infinities are not). depth as M.error's.
function M.integer(fname, n, value, depth)
    if type(value) ~= 'number' then
        argerror(fname, n, 'number expected, got ' .. type(value), depth)
    elseif value % 1 ~= 0 then
        argerror(fname, n, M.NOT_INTEGER, depth)
    end
    return value
end

-- An options table checked against a schema {key = spec}. A spec is a type
-- name ('string'), or a list of type names with an optional `check`
-- function that returns a complaint about an ill-formed value, or nil.
-- Unknown keys raise: a typo must never silently connect somewhere else.
local function complaint(key, value, spec)
    local vt = type(value)
    if type(spec) == 'string' then
        if vt ~= spec then
            return "option '" .. key .. "' must be " .. spec .. ", got " .. vt
        end
        return nil
    end
    local matched = false
    for i = 1, #spec do
        if vt == spec[i] then matched = true end
    end
    if not matched then
        return "option '" .. key .. "' must be " .. table.concat(spec, ' or ') .. ", got " .. vt
    end
    return spec.check and spec.check(value)
end

-- schema -> its keys, sorted (weak keys: schemas are module constants).
local sorted_keys = setmetatable({}, {__mode = 'k'})
local function keys_of(schema)
    local keys = sorted_keys[schema]
    if not keys then
        keys = {}
        for key in pairs(schema) do keys[#keys + 1] = key end
        table.sort(keys)
        sorted_keys[schema] = keys
    end
    return keys
end

-- An unknown key's name, the same on every runtime and run: a number in one
-- format (tostring's differs: 2^53 is 9.007199254741e+15 on LuaJIT and
-- 5.1, 9007199254740992 on 5.3), a key that is no string, number or boolean
-- by its type (tostring's has its address).
local function key_name(key)
    local kt = type(key)
    if kt == 'string' then return key end
    if kt == 'number' then return ('%.14g'):format(key == 0 and 0 or key) end -- (-0 as 0: 5.3+ keys hold no -0)
    if kt == 'boolean' then return tostring(key) end
    return '<' .. kt .. '>'
end

-- A table with several faults raises for the same one on every runtime and
-- every run, whatever order pairs() visits it in: an unknown key first (the
-- least by name), then the known keys in the order of their names. The keys
-- are the table's own (a __pairs is not asked), the values are read as the
-- caller reads them (an __index is). n: the table's argument position
-- (default 1).
function M.options(fname, opts, schema, optional_table, n)
    if opts == nil and optional_table then
        return {}
    end
    if type(opts) ~= 'table' then
        argerror(fname, n or 1, 'table expected, got ' .. type(opts))
    end
    local unknown
    for key in next, opts do -- raw keys: pairs() honours __pairs on 5.2+ only
        if schema[key] == nil then
            local name = key_name(key)
            if unknown == nil or name < unknown then unknown = name end
        end
    end
    if unknown then argerror(fname, n or 1, "unknown option '" .. unknown .. "'") end
    local keys = keys_of(schema)
    for i = 1, #keys do
        local key = keys[i]
        local value = opts[key]
        if value ~= nil then
            local msg = complaint(key, value, schema[key])
            if msg then argerror(fname, n or 1, msg) end
        end
    end
    return opts
end

-- A host or a service goes to the resolver as a C string, where a NUL byte
-- would end it early ("127.0.0.1\0.example.com" would be 127.0.0.1): no
-- name has one, so a string with one is refused like a port out of range,
-- before anything is resolved.
local function has_nul(str)
    return str:find('\0', 1, true) ~= nil
end

-- The spec of a host option: a name or an address literal.
M.HOST = {'string', check = function(host)
    if has_nul(host) then return "option 'host' must not contain a NUL byte" end
end}

-- The spec of a port option: a number from 0 to 65535, or a service name.
-- A string of digits is a number to the resolver, which would keep only its
-- low 16 bits ('65537' is port 1): it is held to the same range.
local PORT_RANGE = "option 'port' must be an integer from 0 to 65535"
M.PORT = {'number', 'string', check = function(port)
    if type(port) == 'number' then
        if not (port % 1 == 0 and port >= 0 and port <= 65535) then return PORT_RANGE end
    elseif has_nul(port) then
        return "option 'port' must not contain a NUL byte"
    elseif port:find('^%d+$') and tonumber(port) > 65535 then
        return PORT_RANGE
    end
end}

-- The schema of stream.pair's and dgram.pair's options.
M.PAIR = {nonblock = 'boolean'}

-- The spec of a duration option (timeout =): a number of seconds, 0 or more.
M.SECONDS = {'number', check = function(sec)
    if not (sec >= 0 and sec < math.huge) then
        return "option 'timeout' must be a number of seconds, 0 or more"
    end
end}

return M
