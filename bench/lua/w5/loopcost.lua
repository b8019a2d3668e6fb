-- The instructions net.loop and net.util.io spend per echo, without the
-- scheduler's say: CONNS stream pairs in one process, on each a server
-- coroutine (W5's serve: recv, send, recv again) and a client coroutine
-- (send a message, wait for its echo, ROUNDS times), all in one net.loop.
-- The order of events is the same in every run, so callgrind's count is
-- too (on PUC Lua; LuaJIT's varies by ±10% with its traces). Each echo
-- pays the loop twice (client and server), so it measures the loop's
-- per-echo path, not W5's figure. Not a bench/run workload: run it under
-- callgrind at two sizes and divide the difference (bench/RESULTS.md, W5):
--   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
--     lua5.4 bench/lua/w5/loopcost.lua 200 50    # then 200 250
local loop = require 'net.loop'
local stream = require 'net.stream'

local CONNS, ROUNDS = tonumber(arg[1]) or 200, tonumber(arg[2]) or 100
local MSG = ('x'):rep(64)
local echoed = 0

local function serve(conn)
  while true do
    local s, err = conn:recv(4096)
    if not s then
      assert(not err, err)
      break
    end
    assert(conn:send(s) == #s)
    echoed = echoed + 1
  end
  conn:close()
end

local function client(c)
  for _ = 1, ROUNDS do
    assert(c:send(MSG) == #MSG)
    assert(assert(c:recv(4096)) == MSG)
  end
  c:close()
end

for _ = 1, CONNS do
  local pair = assert(stream.pair { nonblock = true })
  loop.spawn(serve, pair[1])
  loop.spawn(client, pair[2])
end
loop.run()
assert(echoed == CONNS * ROUNDS, ('echoed %d, expected %d'):format(echoed, CONNS * ROUNDS))
