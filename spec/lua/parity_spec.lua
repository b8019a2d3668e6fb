-- Parity of the C fast paths, in one process: every method whose installed
-- function is a C fast path of net.capi (src/lua/methods.c, installed by
-- net.util.fast where it pays: PUC Lua) is called, and so is the Lua method it stands
-- for (net.util.fast.lua_method), with the same arguments on two equivalent
-- sockets; every result, the count of results, 5.3+'s integer/float
-- subtype and every raised message must be the same. The methods, the
-- sockets, their states and the arguments come from spec/parity/cases.lua,
-- which finds the methods on the classes at run time. The same calls
-- across runtimes are compared by the meson test 'parity'
-- (spec/parity/calls.lua).
local core = require('net.core')
local fast = require('net.util.fast')
local cases = require('spec.parity.cases')

local classes = cases.classes()

-- {class =, name =, fn = installed C function, lua = the Lua method}
local fast_methods = {}
for _, c in ipairs(classes) do
  for _, name in ipairs(c.methods) do
    local fn = c.class[name]
    local lua = fast.lua_method(fn)
    if lua ~= fn then
      fast_methods[#fast_methods + 1] = { class = c.class, cname = c.name, name = name, fn = fn, lua = lua }
    end
  end
end

if #fast_methods == 0 then
  -- net.util.fast decides where the C fast paths pay (not under LuaJIT, whose
  -- trace compiles the Lua methods; see there for the others)
  pending('no C fast method is installed on ' .. (type(jit) == 'table' and jit.version or _VERSION)
    .. ' (backend ' .. core.backend .. '): the methods are the Lua ones, held to the'
    .. ' other runtimes by the meson test parity (spec/parity/calls.lua)')
  return
end

describe('C fast methods', function()
  it('each stand for a Lua method (net.util.fast.lua_method)', function()
    -- (on Lua 5.1 the C function sits behind a Lua check of the thread:
    -- net.util.fast)
    local what = _VERSION == 'Lua 5.1' and 'Lua' or 'C'
    for _, f in ipairs(fast_methods) do
      assert.equals(what, debug.getinfo(f.fn, 'S').what)
      assert.equals('Lua', debug.getinfo(f.lua, 'S').what)
      assert.are_not.equal(f.fn, f.lua)
    end
  end)
end)

-- Calls f and its Lua method on two fresh, equivalent fixtures for every
-- argument list; returns the differences as text.
local function compare_on(m, s, list)
  local diffs = {}
  for _, f in ipairs(list) do
    for _, a in ipairs(cases.ARGS) do
      if s == 1 or a.short then
        local fx1 = cases.fixture(m, s)
        local got = cases.call(f.fn, fx1.sock, a[2](fx1), fx1, true, a.partial)
        cases.release(fx1)
        local fx2 = cases.fixture(m, s)
        local want = cases.call(f.lua, fx2.sock, a[2](fx2), fx2, true, a.partial)
        cases.release(fx2)
        if got ~= want then
          diffs[#diffs + 1] = ('%s:%s%s\n    C:   %s\n    Lua: %s'):format(f.cname, f.name, a[1], got, want)
        end
      end
    end
  end
  return diffs
end

local function no_diffs(diffs)
  assert(#diffs == 0, #diffs .. ' calls differ:\n' .. table.concat(diffs, '\n', 1, math.min(#diffs, 20)))
end

describe('a C fast method and its Lua method', function()
  teardown(cases.cleanup)

  for m, maker in ipairs(cases.MAKERS) do
    for s, state in ipairs(cases.STATES) do
      it('return the same on a ' .. maker[1] .. ' (' .. state[1] .. ')', function()
        local fx = cases.fixture(m, s)
        if not fx then return end -- the state does not apply to this socket
        local class = fx.class
        cases.release(fx)
        local list = {}
        for _, f in ipairs(fast_methods) do
          if f.class == class then list[#list + 1] = f end
        end
        no_diffs(compare_on(m, s, list))
      end)
    end
  end

  it('return the same for a self that is not a socket', function()
    local diffs, done = {}, {}
    for _, f in ipairs(fast_methods) do
      if not done[f.fn] then
        done[f.fn] = true
        for _, self in ipairs(cases.SELVES) do
          for _, a in ipairs(cases.ARGS) do
            if a.short and not a.partial then
              local got = cases.call(f.fn, self[2], a[2](), nil, true)
              local want = cases.call(f.lua, self[2], a[2](), nil, true)
              if got ~= want then
                diffs[#diffs + 1] = ('self %s: %s:%s%s\n    C:   %s\n    Lua: %s'):format(
                  self[1], f.cname, f.name, a[1], got, want)
              end
            end
          end
        end
      end
    end
    no_diffs(diffs)
  end)
end)
