-- Parity of the C fast paths, in one process: every method whose installed
-- function is a C fast path of net.capi (src/lua/methods.c, installed by
-- net.util.fast where it pays: PUC Lua) is called, and so is the Lua method it stands
-- for (net.util.fast.lua_method), with the same arguments on two equivalent
-- sockets; every result, the count of results, 5.3+'s integer/float
-- subtype and every raised message must be the same. The methods, the
-- sockets, their states and the arguments come from spec/parity/cases.lua,
-- which finds the methods on the classes at run time; recv and recvfrom
-- are also called twice on one socket (SEQUENCES), for the paths a second
-- call takes. The same calls across runtimes are compared by the meson
-- test 'parity' (spec/parity/calls.lua).
local core = require('net.core')
local fast = require('net.util.fast')
local wait = require('net.util.wait')
local cases = require('spec.parity.cases')

local K = core.constants

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

-- The class of maker m's socket in state s and whether it has a peer, or
-- nil when the state does not apply; asked when the tests are defined.
local function probe(m, s)
  local fx = cases.fixture(m, s)
  if not fx then return nil end
  cases.release(fx)
  return fx.class, fx.peer ~= nil
end

local IDLE = 2
assert(cases.STATES[IDLE][1] == 'idle')

local function readable(sock)
  return core.poll_fd(sock[1], K.POLLIN, 5) > 0
end

-- Calls in turn on one idle fixture, each meeting what the one before left:
-- paths of the fast methods that a call on a fresh fixture never takes.
-- Each returns the outcomes as text.
local SEQUENCES = {
  -- A stream read that waited and got less than it asked for marks the
  -- socket _drained (net.util.io); the next recv takes fast_recv's drained
  -- branch to the Lua method, which waits first through a waiter of
  -- net.util.wait.waits_first (net.loop's), before it reads: the count of
  -- waits tells. The first wait has the peer send what the read gets.
  recv = function(fx, fn)
    local waits = 0
    local function waiter()
      waits = waits + 1
      if waits == 1 then assert(fx.peer:send('hello') == 5) end
      return readable(fx.sock)
    end
    wait.waits_first[waiter] = true
    assert(fx.sock:setwaiter(waiter))
    local first = cases.call(fn, fx.sock, cases.pack(64), fx, true)
    assert(fx.peer:send('world') == 5)
    local second = cases.call(fn, fx.sock, cases.pack(64), fx, true)
    return ('%s\nthen %s\nwaits %d'):format(first, second, waits)
  end,
  -- Two datagrams from one sender: the second recvfrom finds that sender
  -- kept (self._from) and fast_recvfrom makes the results itself, without
  -- finish.
  recvfrom = function(fx, fn)
    assert(fx.peer:send('hello') == 5 and fx.peer:send('hello') == 5)
    assert(readable(fx.sock), 'fixture: nothing arrived')
    local first = cases.call(fn, fx.sock, cases.pack(), fx, true)
    return ('%s\nthen %s'):format(first, cases.call(fn, fx.sock, cases.pack(), fx, true))
  end,
}

local function no_diffs(diffs)
  assert(#diffs == 0, #diffs .. ' calls differ:\n' .. table.concat(diffs, '\n', 1, math.min(#diffs, 20)))
end

describe('a C fast method and its Lua method', function()
  teardown(cases.cleanup)

  -- A test for each maker and state whose socket has C fast methods: none
  -- for a state that does not apply (a peer's for a server), which would
  -- compare nothing.
  for m, maker in ipairs(cases.MAKERS) do
    for s, state in ipairs(cases.STATES) do
      local class = probe(m, s)
      local list = {}
      for _, f in ipairs(fast_methods) do
        if f.class == class then list[#list + 1] = f end
      end
      if #list > 0 then
        it('return the same on a ' .. maker[1] .. ' (' .. state[1] .. ')', function()
          no_diffs(compare_on(m, s, list))
        end)
      end
    end
  end

  for m, maker in ipairs(cases.MAKERS) do
    local class, has_peer = probe(m, IDLE)
    for _, f in ipairs(fast_methods) do
      local sequence = SEQUENCES[f.name]
      if sequence and f.class == class and has_peer then
        it(('return the same over two calls of %s:%s on one %s'):format(f.cname, f.name, maker[1]), function()
          local fx1 = cases.fixture(m, IDLE)
          local got = sequence(fx1, f.fn)
          cases.release(fx1)
          local fx2 = cases.fixture(m, IDLE)
          local want = sequence(fx2, f.lua)
          cases.release(fx2)
          assert.are.equal(want, got)
        end)
      end
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
