-- Both backends expose the same primitive table (doc/internals.md): the same
-- names, the same arity for every function, the same data (constants,
-- options). Under LuaJIT both load in one process: net.core.ffi directly,
-- net.capi through LUA_CPATH (set by the meson environment), whatever
-- NET_BACKEND says. PUC Lua has no FFI, so there is nothing to compare.
--
-- Arity, the number of arguments a function takes:
--  * FFI, a Lua function: debug.getinfo(f, 'u').nparams (none is vararg).
--  * FFI, a C function bound directly (a cdata): the FFI checks the count
--    of arguments against the prototype, so the arity is the one count of
--    harmless arguments (fd -1, then -1s) it accepts without "wrong number
--    of arguments".
--  * net.capi, C functions: debug.getinfo cannot tell. The arity is the
--    highest argument index the function checks, found by asking it: a
--    boolean (which no primitive takes) in a position, or an argument left
--    out, raises "bad argument #k (<type> expected, got boolean|no value)"
--    when the function checks k; the message names the type to give in
--    k from then on. With every checked position filled, one more boolean
--    at the end raises nothing: the arity is the highest k seen. The
--    values given are harmless: fd -1 (every call fails
--    with EBADF), an empty string, family -1 (getaddrinfo fails at once,
--    no lookup), a unix address, guard and buffer made by net.capi
--    itself. A function may read an argument only for some values of
--    another (sock_linger reads the seconds only when `on` >= 0), so the
--    probe runs twice, with -1 and with 1 in every number but the first,
--    and keeps the larger count.
local EXCEPTIONS = {
  -- name -> the backend that alone has it, and why
  fast_method = { only = 'capi', why = 'C fast paths of the classes for PUC Lua, '
    .. 'documented in doc/internals.md as existing only in net.capi' },
  C = { only = 'ffi', why = 'the loaded library for raw FFI calls of LuaJIT programs, '
    .. 'documented in doc/reference.md ("Raw FFI") and doc/internals.md' },
}

-- Fields that are not primitives: net.core labels the table it loads with
-- the backend's name (the FFI module also labels itself).
local LABELS = { backend = true }

if type(jit) ~= 'table' then
  pending('both backends load in one process only under LuaJIT (this is '
    .. _VERSION .. ', which has no FFI)')
  return
end

local ffi_core = require('net.core.ffi')
local capi = require('net.capi')

local function is_function(v)
  return type(v) == 'function' or (type(v) == 'cdata' and tostring(require('ffi').typeof(v)):match('%(%)>$'))
end

local function ffi_arity(f)
  if type(f) == 'function' then
    local info = debug.getinfo(f, 'u')
    assert(not info.isvararg, 'a vararg primitive')
    return info.nparams
  end
  for n = 0, 8 do
    local args = {}
    for i = 1, n do args[i] = -1 end
    local ok, err = pcall(f, unpack(args, 1, n))
    if ok or not tostring(err):find('wrong number of arguments', 1, true) then return n end
  end
  error('no argument count accepted')
end

-- A harmless value of each type net.capi asks for.
local MAKE = {
  number = function(k, other) return k == 1 and -1 or other end,
  string = function() return '' end,
  ['net.addr'] = function() -- a unix address, made without touching a file
    return capi.getaddrinfo_unix('/nonexistent', capi.constants.SOCK_STREAM)[1].addr
  end,
  ['net.guard'] = function() return capi.guard(-1) end,
  ['net.buffer.mem'] = function() return capi.buffer_new(16) end,
  ['function'] = function() return function() end end,
  table = function() return {} end, -- the lists sock_recvmany fills
  ['FILE*'] = function() return io.stdout end, -- file_fd only reads its descriptor
}

local PLACEHOLDER = true -- a boolean: no primitive takes one (sock_recvmany takes tables)

local function capi_arity_with(f, other)
  local args, top = {}, 0 -- top: the highest argument index seen checked
  for _ = 1, 64 do
    args[top + 1] = PLACEHOLDER
    local ok, err = pcall(f, unpack(args, 1, top + 1))
    local j, wanted, got
    if not ok then
      j, wanted, got = tostring(err):match("^bad argument #(%d+) to '[^']*' %(([%w%.%*]+) expected, got (%a[%a ]*)%)$")
    end
    j = tonumber(j)
    if not j or not (got == 'boolean' or got == 'no value') then return top end
    -- C evaluates a call's arguments in any order: a function may check #2
    -- before #1, so a "no value" can name any index above top
    for i = top + 2, j - 1 do args[i] = PLACEHOLDER end
    args[j] = assert(MAKE[wanted], 'no harmless value of type ' .. wanted)(j, other)
    if j > top then top = j end
  end
  error('the probe did not settle')
end

local function capi_arity(f)
  return math.max(capi_arity_with(f, -1), capi_arity_with(f, 1))
end

-- Deep equality of plain data (constants, option rows).
local function same_data(a, b)
  if type(a) ~= 'table' or type(b) ~= 'table' then return a == b end
  for k, v in pairs(a) do
    if not same_data(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

describe('the primitive tables of net.core.ffi and net.capi', function()
  local function names(t)
    local list = {}
    for k in pairs(t) do
      if not LABELS[k] then list[#list + 1] = k end
    end
    table.sort(list)
    return list
  end

  it('have the same names, but for the documented exceptions', function()
    local tables = { ffi = ffi_core, capi = capi }
    local problems = {}
    for side, t in pairs(tables) do
      local other = side == 'ffi' and capi or ffi_core
      for _, name in ipairs(names(t)) do
        local ex = EXCEPTIONS[name]
        if other[name] == nil and not (ex and ex.only == side) then
          problems[#problems + 1] = name .. ' only in ' .. side
        elseif ex and other[name] ~= nil then
          problems[#problems + 1] = name .. ' is listed as ' .. ex.only .. ' only, but both have it'
        end
      end
    end
    for name, ex in pairs(EXCEPTIONS) do
      if tables[ex.only][name] == nil then
        problems[#problems + 1] = 'exception ' .. name .. ' is in neither: drop it from the list'
      end
    end
    table.sort(problems)
    assert(#problems == 0, table.concat(problems, '\n'))
  end)

  it('are each documented in doc/internals.md, the exceptions too', function()
    local root = assert(os.getenv('NET_SOURCE_ROOT'), 'NET_SOURCE_ROOT (meson environment)')
    local f = assert(io.open(root .. '/doc/internals.md'))
    local doc = f:read('*a')
    f:close()
    -- one entry covers the option functions: `sock_<name>(fd, val)`
    local option_function = {}
    for _, row in ipairs(capi.options) do option_function['sock_' .. row.name] = true end
    local missing = {}
    for _, t in ipairs({ ffi_core, capi }) do
      for _, name in ipairs(names(t)) do
        -- a function is named with its call (`sock_inq(`), data bare
        local entry = '`' .. name .. (is_function(t[name]) and '(' or '`')
        if not option_function[name] and not doc:find(entry, 1, true) and not missing[name] then
          missing[name] = true
          missing[#missing + 1] = name
        end
      end
    end
    assert(#missing == 0, 'not in doc/internals.md: ' .. table.concat(missing, ', '))
  end)

  it('give LuaJIT programs the loaded library as net.core.ffi.C, its cdef declared', function()
    local ffi = require('ffi')
    local C = ffi_core.C
    assert.equals(ffi_core.version(), C.net_version())
    -- a flat call with net.h's types: a pair, a message through it, closed
    local fds = ffi.new('int[2]')
    local K = ffi_core.constants
    assert.equals(0, C.net_sock_pair(K.AF_UNIX, K.SOCK_STREAM, 0, C.NET_CLOEXEC, fds))
    assert.equals(2, tonumber(C.net_sock_send(fds[0], 'hi', 2, 0)))
    local buf = ffi.new('char[8]')
    assert.equals(2, tonumber(C.net_sock_recv(fds[1], buf, 8, 0)))
    assert.equals('hi', ffi.string(buf, 2))
    assert.equals(0, C.net_sock_close(fds[0]))
    assert.equals(0, C.net_sock_close(fds[1]))
    assert.equals(-K.EBADF, C.net_sock_close(fds[1]))
  end)

  it('have functions of the same arity', function()
    local problems, count = {}, 0
    for _, name in ipairs(names(ffi_core)) do
      local a, b = ffi_core[name], capi[name]
      if b ~= nil and is_function(a) then
        count = count + 1
        if type(b) ~= 'function' then
          problems[#problems + 1] = name .. ': a function in ffi, a ' .. type(b) .. ' in capi'
        else
          local na, nb = ffi_arity(a), capi_arity(b)
          if na ~= nb then
            problems[#problems + 1] = ('%s: %d arguments in ffi, %d in capi'):format(name, na, nb)
          end
        end
      end
    end
    assert(count > 40, 'only ' .. count .. ' functions compared')
    assert(#problems == 0, table.concat(problems, '\n'))
  end)

  it('have the same data', function()
    local count = 0
    for _, name in ipairs(names(ffi_core)) do
      local a, b = ffi_core[name], capi[name]
      if b ~= nil and not is_function(a) then
        count = count + 1
        assert(same_data(a, b), name .. ' differs between the backends')
      end
    end
    assert(count >= 1, 'no data field compared') -- constants at least
  end)

  it('probe arity in a way that can tell a difference', function()
    -- the probe itself, on functions of known shape
    assert.equals(2, ffi_arity(ffi_core.sock_rcvbuf))
    assert.equals(2, ffi_arity(ffi_core.sock_bind))
    assert.equals(3, capi_arity(capi.sock_linger)) -- reads seconds only when on >= 0
    assert.equals(5, capi_arity(capi.sock_send))   -- i, j optional
    assert.equals(1, capi_arity(capi.sock_close))
    assert.equals(0, capi_arity(capi.version))
    assert.equals(2, capi_arity(capi.sock_bind))      -- a net.addr learnt from the message
  end)
end)
