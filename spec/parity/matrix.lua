-- The calls of the bad-input matrix: every public function and method of
-- the Lua API with what a careless or hostile caller passes (nil, wrong
-- types, negative, huge, NaN, infinities, fractions, empty strings, strings
-- with a NUL), on open and closed sockets, and with a wrong self.
--
-- Shared by spec/lua/matrix_spec.lua, which asserts the shape of each
-- outcome, and spec/parity/matrix_calls.lua, which prints each outcome as
-- text for the meson test 'parity-matrix' to compare across runtimes.
--
-- Nothing is listed by name: the modules, their functions (also inside
-- plain tables: inet.server.new), the classes and their methods are found
-- at run time, as spec/lua/docs_spec.lua finds them; sockets come from the
-- parity fixtures (spec/parity/cases.lua), which cover every socket class.
-- What is listed: how to make an object of each class that is no socket,
-- the values, and the option keys to poison.
local cases = require('spec.parity.cases')
local net = require('net')

local unpack = table.unpack or unpack -- luacheck: ignore 143
local pack = cases.pack

local M = {}

-- The values every argument position gets.
M.VALUES = {
  {'nil', nil}, {'true', true}, {'false', false}, {'{}', {}}, {'"x"', 'x'}, {'""', ''},
  {'"a\\0b"', 'a\0b'}, {'"\\0"', '\0'}, {'-1', -1}, {'-2^31', -2 ^ 31}, {'2^31', 2 ^ 31},
  {'2^53', 2 ^ 53}, {'2^63', 2 ^ 63}, {'-2^63', -2 ^ 63}, {'nan', 0 / 0}, {'inf', 1 / 0},
  {'-inf', -1 / 0}, {'1.5', 1.5}, {'-0.5', -0.5}, {'print', print},
}

-- Keys of option tables, each given every value (a key a function does not
-- know must raise "unknown option", a bad argument too).
M.OPTION_KEYS = {'host', 'port', 'path', 'nonblock', 'passive', 'canonname',
                 'numeric', 'reuseaddr', 'reuseport'}

local function public_modules()
  local src = debug.getinfo(net.wrap, 'S').source
  local root = assert(src:match('^@(.*)/net/init%.lua$'))
  local p = assert(io.popen("find '" .. root .. "/net' -name '*.lua' | LC_ALL=C sort"))
  local names = {}
  for path in p:lines() do
    local name = path:sub(#root + 2, -5):gsub('/init$', ''):gsub('/', '.')
    if not (name:match('^net%.core') or name:match('^net%.util') or name == 'net.cdef') then
      names[#names + 1] = name
    end
  end
  p:close()
  return names
end

local function is_class(t)
  return type(t) == 'table' and rawget(t, '__index') == t and type(rawget(t, '_NAME')) == 'string'
end

local function base_of(cls)
  local mt = getmetatable(cls)
  local base = mt and rawget(mt, '__index')
  return is_class(base) and base or nil
end

-- The public module functions, sorted by name ({name =, fn =}), and every
-- class found, by _NAME.
function M.api()
  local funcs, classes, seen = {}, {}, {}
  local function walk(t, prefix)
    seen[t] = true
    local keys = {}
    for k in pairs(t) do
      if type(k) == 'string' and k:sub(1, 1) ~= '_' then keys[#keys + 1] = k end
    end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local v = t[k]
      if is_class(v) then
        local c = v
        while c do
          classes[c._NAME] = c
          c = base_of(c)
        end
      elseif type(v) == 'function' then
        funcs[#funcs + 1] = {name = prefix .. k, fn = v}
      elseif type(v) == 'table' and not seen[v] then
        walk(v, prefix .. k .. '.')
      end
    end
  end
  M.unloadable = {}
  for _, name in ipairs(public_modules()) do
    local loaded, mod = pcall(require, name)
    if not loaded then
      -- a module that needs its host to load (none does now: net.openresty
      -- loads outside nginx too): said, not walked
      M.unloadable[#M.unloadable + 1] = name .. ': ' .. tostring(mod)
    elseif is_class(mod) then
      classes[mod._NAME] = mod
    elseif type(mod) == 'table' then
      walk(mod, name .. '.')
    end
  end
  return funcs, classes
end

-- The public methods of a class, inherited ones included, sorted.
function M.methods_of(cls)
  local names, seen = {}, {}
  local c = cls
  while type(c) == 'table' do
    for k, v in pairs(c) do
      if type(k) == 'string' and k:sub(1, 1) ~= '_' and type(v) == 'function' and not seen[k] then
        seen[k] = true
        names[#names + 1] = k
      end
    end
    local mt = getmetatable(c)
    c = mt and rawget(mt, '__index')
  end
  table.sort(names)
  return names
end

function M.is_socket_class(cls)
  local c = cls
  while c do
    if c == net.Socket then return true end
    c = base_of(c)
  end
  return false
end

-- Calls fn(...); the pcall's flag and the packed results (or the error).
function M.call(fn, ...)
  local r = pack(pcall(fn, ...))
  local out = {n = r.n - 1}
  for i = 2, r.n do out[i - 1] = r[i] end
  return r[1], out
end

local function close_socket(v)
  if type(v) == 'table' and M.is_socket_class(getmetatable(v)) then pcall(v.close, v) end
end

-- Closes the sockets among results (and in plain lists among them), so
-- none waits for the collector.
function M.close_results(r)
  for i = 1, r.n do
    local v = r[i]
    close_socket(v)
    if type(v) == 'table' and getmetatable(v) == nil then
      for _, s in ipairs(v) do close_socket(s) end
    end
  end
end

-- Argument lists: every value at position 1, then at position 2 (and on)
-- after nils, so each position's check is reached.
function M.arg_lists(max)
  local lists = {}
  for pos = 1, max do
    for _, v in ipairs(M.VALUES) do
      local a = {n = pos}
      a[pos] = v[2]
      lists[#lists + 1] = {label = ('#%d=%s'):format(pos, v[1]), args = a}
    end
  end
  return lists
end

-- How to make an object of each class that is no socket. keep collects
-- what to close afterwards.
M.MAKE = {
  ['net.buffer'] = function()
    return assert(require('net.buffer').new(16))
  end,
  ['net.addrinfo'] = function()
    return assert(require('net.stream').getaddrinfoin {host = '127.0.0.1', port = 80})[1]
  end,
  ['net.reader'] = function(keep)
    -- over a non-blocking pair with nothing sent: no read can wait
    local pair = assert(require('net.stream').pair {nonblock = true})
    keep[#keep + 1] = pair[1]
    keep[#keep + 1] = pair[2]
    return assert(require('net.reader').new(pair[1]))
  end,
  ['net.dgram.Batch'] = function(keep)
    -- holding one datagram, so that index 1 is in range
    local inet = require('net.dgram.inet')
    local rx = assert(inet.new {host = '127.0.0.1'})
    local tx = assert(inet.new {host = '127.0.0.1'})
    keep[#keep + 1] = rx
    keep[#keep + 1] = tx
    assert(rx:settimeout(5)) -- loopback queues it at once: never waited for
    assert(tx:sendto('one', assert(rx:getsockname())) == 3)
    local batch = require('net.dgram').batch()
    assert(rx:recvmany(1, nil, batch) == 1)
    return batch
  end,
  ['net.poll'] = function(keep)
    -- one writable socket registered: no wait can block
    local pair = assert(require('net.stream').pair {nonblock = true})
    local p = assert(require('net.poll').new())
    assert(p:add(pair[1], 'w'))
    keep[#keep + 1] = pair[1]
    keep[#keep + 1] = pair[2]
    keep[#keep + 1] = p
    return p
  end,
}

-- Findings outside the fixes of issue 9, each with why it is left: spec/lua/matrix_spec.lua
-- shows them as pending (busted lists them), not failed, and the parity
-- script prints only their outcome's kind, until their owners fix them.
-- Remove an entry once its function passes.
M.KNOWN = {
  -- (net.openresty loads outside nginx too, installing nothing: its other
  -- functions are held to the matrix like any module's)
  ['net.openresty.waiter'] = "net.util.wait's waiter inside nginx, which the library calls with"
    .. ' a socket, a mode and a deadline; it does not check them, and given anything else it'
    .. ' raises Lua errors (indexing a sock that is no table)',
  ['net.loop.sleep'] = 'outside a loop coroutine it raises a usage error'
    .. ' (net.loop.sleep: not inside a coroutine of the loop)',
}

-- The reason what ("name" or "Class:method") is a known finding, or nil.
-- A key ending in "*" covers every name it begins ("net.openresty.*" would
-- cover the module's every function).
function M.known(what)
  if M.KNOWN[what] then return M.KNOWN[what] end
  for key, why in pairs(M.KNOWN) do
    if key:sub(-1) == '*' and what:sub(1, #key - 1) == key:sub(1, -2) then
      return why
    end
  end
end

-- ---------------------------------------------------------------- runs --
-- Each run calls report(what, label, ok, r, base) once per call: what names
-- the function or Class:method, label the arguments, ok and r the outcome,
-- base the outcome of the plain call (no arguments) when that returned,
-- then whether self is a closed socket, whether the results vary from
-- call to call, and the parity fixture self belongs to (socket methods:
-- cases.value names its fds and ports by it).

-- A 'path' option's value as the call gets it: a file name goes into the
-- fixtures' temporary folder, never the working directory (a bound unix
-- socket leaves its file, which the next runtime would find taken); a
-- value that names no file (empty, with a NUL, not a string) as it is.
local function in_tmp(key, v)
  if key == 'path' and type(v) == 'string' and v ~= '' and not v:find('\0', 1, true) then
    return cases.tmp() .. '/' .. v
  end
  return v
end

-- A function whose plain call gives another number or string each time
-- (net.now) is volatile: report is told, so its values are not compared.
function M.functions(funcs, report)
  for _, f in ipairs(funcs) do
    local base_ok, base = M.call(f.fn)
    if base_ok then M.close_results(base) end
    local again_ok, again = M.call(f.fn)
    if again_ok then M.close_results(again) end
    local volatile = base_ok and again_ok and base[1] ~= again[1]
      and (type(base[1]) == 'number' or type(base[1]) == 'string')
    local lists = M.arg_lists(2)
    for _, key in ipairs(M.OPTION_KEYS) do
      for _, v in ipairs(M.VALUES) do
        if v[2] ~= nil then
          local value = in_tmp(key, v[2])
          lists[#lists + 1] = {label = ('{%s=%s}'):format(key, v[1]), args = {n = 1, {[key] = value}},
                               file = value ~= v[2] and value or nil}
        end
      end
    end
    for _, l in ipairs(lists) do
      local ok, r = M.call(f.fn, unpack(l.args, 1, l.args.n))
      report(f.name, l.label, ok, r, base_ok and base or nil, false, volatile)
      if ok then M.close_results(r) end
      if l.file then os.remove(l.file) end
    end
    collectgarbage('collect')
  end
end

-- Every socket method on every fixture, idle and closed: a fresh fixture
-- for each call, so no call sees what another one changed.
function M.socket_methods(report)
  local lists = M.arg_lists(3)
  for m, maker in ipairs(cases.MAKERS) do
    for _, s in ipairs({2, #cases.STATES}) do -- idle, closed
      local probe = cases.fixture(m, s)
      local names, cname = M.methods_of(probe.class), probe.class._NAME
      cases.release(probe)
      local where = ('(%s, %s) '):format(maker[1], cases.STATES[s][1])
      for _, name in ipairs(names) do
        local twin = cases.fixture(m, s)
        local base_ok, base = M.call(twin.sock[name], twin.sock)
        if base_ok then M.close_results(base) end
        cases.release(twin)
        for _, l in ipairs(lists) do
          local fx = cases.fixture(m, s)
          local ok, r = M.call(fx.sock[name], fx.sock, unpack(l.args, 1, l.args.n))
          report(cname .. ':' .. name, where .. l.label, ok, r, base_ok and base or nil, s ~= 2, false, fx)
          if ok then M.close_results(r) end
          cases.release(fx)
        end
      end
    end
  end
end

-- Every method of the classes that are no sockets; returns the names of
-- classes with no maker in M.MAKE.
function M.other_methods(classes, report)
  local missing, names = {}, {}
  for cname in pairs(classes) do names[#names + 1] = cname end
  table.sort(names)
  local lists = M.arg_lists(3)
  for _, cname in ipairs(names) do
    local cls = classes[cname]
    if not M.is_socket_class(cls) then
      local make = M.MAKE[cname]
      if not make then
        missing[#missing + 1] = cname
      else
        for _, name in ipairs(M.methods_of(cls)) do
          local keep = {}
          local base_ok, base = M.call(cls[name], make(keep))
          for _, l in ipairs(lists) do
            local ok, r = M.call(cls[name], make(keep), unpack(l.args, 1, l.args.n))
            report(cname .. ':' .. name, l.label, ok, r, base_ok and base or nil)
            if ok then M.close_results(r) end
          end
          for _, k in ipairs(keep) do k:close() end
        end
      end
    end
  end
  return missing
end

-- Every method of every class with a self that is not of its class: the
-- parity selves (nil, numbers, strings, plain tables) and an object of
-- another class.
function M.wrong_selves(classes, report)
  local selves = {}
  for _, v in ipairs(cases.SELVES) do selves[#selves + 1] = v end
  selves[#selves + 1] = {'a buffer', M.MAKE['net.buffer']()}
  selves[#selves + 1] = {'an addrinfo', M.MAKE['net.addrinfo']()}
  local names = {}
  for cname in pairs(classes) do names[#names + 1] = cname end
  table.sort(names)
  for _, cname in ipairs(names) do
    local cls = classes[cname]
    for _, name in ipairs(M.methods_of(cls)) do
      for _, self in ipairs(selves) do
        if not (type(self[2]) == 'table' and getmetatable(self[2]) == cls) then
          local ok, r = M.call(cls[name], self[2])
          report(cname .. ':' .. name, 'self=' .. self[1], ok, r)
          if ok then M.close_results(r) end
        end
      end
    end
  end
end

return M
