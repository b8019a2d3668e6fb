-- net.openresty's collection for failed net.loop runs in an exiting worker
-- (wait.collect_soon), outside nginx: a child interpreter gives it a
-- stand-in ngx whose timers the script runs itself, and which refuses them
-- when told to (lua_max_pending_timers reached). The real exit is checked in
-- nginx (spec/nginx/run, quit_ends_loops).
local h = require('spec.lua.helper')

local SCRIPT = [[
  local timers, refuse, collected = {}, false, 0
  ngx = { -- luacheck: ignore 111
    get_phase = function() return 'timer' end, sleep = function() end,
    worker = {exiting = function() return true end},
    log = function() end, WARN = 5,
    timer = {at = function(delay, fn, arg)
      if refuse then return nil, 'too many pending timers' end
      timers[#timers + 1] = {delay = delay, fn = fn, arg = arg}
      return true
    end},
  }
  local wait = require('net.util.wait')
  assert(require('net.openresty').installed)
  local function collect() collected = collected + 1 end
  wait.collect_soon(collect)
  wait.collect_soon(collect) -- the same round: the timer due serves both
  print(#timers, timers[1].delay, collected)
  timers[1].fn(false, timers[1].arg)
  print(collected)
  wait.collect_soon(collect) -- after it ran: a timer of its own
  timers[2].fn(true, timers[2].arg) -- premature (at the exit's start) too
  print(#timers, collected)
  refuse = true
  wait.collect_soon(collect) -- no timer: at once
  print(#timers, collected)
]]

describe('net.openresty in an exiting worker', function()
  it('collects for failed loop runs from one timer of delay 0 a round, at once where refused', function()
    assert.are.equal('1\t0\t0\n1\n2\t2\n2\t3\n', h.run_preloaded(nil, SCRIPT))
  end)
end)
