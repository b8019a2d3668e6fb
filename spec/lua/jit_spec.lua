-- The hot paths compile under LuaJIT: W1's loop (64-byte send and recv
-- ping-pong over a stream pair) plus recvinto, send(buf) and option
-- getters, run a few thousand times with the FFI backend, must cause no
-- trace abort located inside ffi/net. The loop runs in a fresh process
-- (spec/parity/jit_w1.lua), started with this interpreter, so nothing
-- compiled or blacklisted by earlier specs hides an abort; it records the
-- trace events through jit.attach(fn, 'trace'), as jit.v does.
local core = require('net.core')

if type(jit) ~= 'table' then
  pending('the trace compiler is LuaJIT\'s; this is ' .. _VERSION)
  return
elseif core.backend ~= 'ffi' then
  pending('the hot paths are meant to compile with the FFI backend (NET_BACKEND=' .. core.backend
    .. '); with net.capi they call C through the classic API, which the JIT cannot compile')
  return
end

local interpreter = require('spec.lua.helper').interpreter

-- Which traces form first depends on timing inside the JIT (a hot
-- function may start a trace of its own before the loop does), so the
-- loop runs in RUNS fresh processes and every abort seen is reported.
local RUNS, ROUNDS = 3, 3000

local function in_net(loc)
  return loc:find('/ffi/net/', 1, true) ~= nil
end

-- Aborts of trace selection, not of compilation: a hot function called from
-- the loop (sock_send, a method) gets a root trace of its own, which then
-- runs back into the caller's loop and is given up ("leaving loop in root
-- trace", "loop unroll limit reached"); the loop's trace, which inlines the
-- same code, compiles (checked below). They came and went with the order
-- the JIT met the functions in, before this spec and after (the seed's tree
-- showed them too). So is "symbol not in cache": a trace that meets a C
-- function of libnet not looked up yet (ffi.clib's __index) stops, the
-- interpreter looks it up, and the next trace compiles the call (it came
-- and went with which function grew hot first, in 1 run of 6 of the tree
-- before this line too). Anything else (NYI, a blacklisted function, a
-- failed guard that cannot be handled) is a real abort and fails.
local SELECTION = { ['loop unroll limit reached'] = true, ['leaving loop in root trace'] = true,
                    ['symbol not in cache'] = true }

describe('under the LuaJIT JIT with the FFI backend', function()
  it('W1\'s loop, recvinto, send(buf) and option getters compile without aborts in ffi/net', function()
    local root = assert(os.getenv('NET_SOURCE_ROOT'), 'NET_SOURCE_ROOT (meson environment)')
    local aborts, seen, loops = {}, {}, 0
    for _ = 1, RUNS do
      local p = assert(io.popen(("NET_BACKEND=ffi '%s' '%s/spec/parity/jit_w1.lua' %d 2>&1")
        :format(interpreter(), root, ROUNDS)))
      local out = p:read('*a')
      p:close()
      local done = false
      for line in out:gmatch('[^\n]+') do
        local what, loc, why, start = line:match('^(%a+)\t([^\t]*)\t?([^\t]*)\t?(.*)$')
        if what == 'abort' and (in_net(loc) or (loc:match('^builtin') and in_net(start)))
            and not SELECTION[why] then
          local text = ('%s: %s (trace started at %s)'):format(loc, why, start)
          if not seen[text] then
            seen[text] = true
            aborts[#aborts + 1] = text
          end
        elseif what == 'stop' and loc:find('jit_w1%.lua') and why == 'loop' then
          loops = loops + 1
        elseif what == 'done' then
          done = tonumber(loc) == ROUNDS
        end
      end
      assert(done, 'the loop did not finish:\n' .. out)
    end
    -- the check sees the JIT at work: the loop itself was compiled, into a
    -- trace that loops to its own start
    assert(loops > 0, 'no trace of the loop was compiled as a loop')
    table.sort(aborts)
    assert(#aborts == 0, #aborts .. ' different trace aborts inside ffi/net:\n' .. table.concat(aborts, '\n'))
  end)
end)
