-- W5's floor on lua-net: what a coroutine-per-connection server costs with
-- nothing between net.poll and the coroutines, net.loop's measure (its row
-- "bare net.poll" beside "lua-net"). The least such a server does per
-- echo: one wait reports the ready sockets, each one's coroutine is resumed,
-- reads, answers, and yields when its read came up short (the same
-- "drained" rule net.util.io applies, written here by hand). No deadlines,
-- no waiters, no queue, no timers: not a design to copy (examples/ has the
-- one to copy), a yardstick.
local inet = require 'net.stream.inet'
local npoll = require 'net.poll'

local CONNS = assert(tonumber(os.getenv('BENCH_CONNS')), 'BENCH_CONNS not set')
local READ_SIZE = 4096 -- as the C server (bench/c/w5_server.c)
local create, resume, yield = coroutine.create, coroutine.resume, coroutine.yield

local function must(h, what, v, err)
  if v == nil then h.fail('%s: %s', what, tostring(err)) end
  return v
end

return function(h, echoes)
  local srv = must(h, 'inet.server.new', inet.server.new { host = '127.0.0.1', port = 0 })
  local _, err = srv:listen()
  if err then h.fail('listen: %s', err) end
  h.connect(must(h, 'getsockname', srv:getsockname()):port(), echoes)
  local set = must(h, 'net.poll.new', npoll.new())
  local want = echoes * h.MSG
  local bytes, t0, t = 0, nil, nil

  -- resumed when conn is readable; returns true when the client closed
  local function serve(conn)
    while true do
      local s, rerr = conn:recv(READ_SIZE)
      if not s then
        if rerr then h.fail('recv: %s', rerr) end
        break
      end
      local n = #s
      if conn:send(s) ~= n then h.fail('send: short or failed') end
      bytes = bytes + n
      if bytes == want then t = h.now() - t0 end
      if n < READ_SIZE then yield() end -- drained: wait before reading again
    end
    conn:close()
    return true
  end

  local serving, live = {}, 0 -- socket -> its coroutine
  for i = 1, CONNS do
    local conn, aerr = srv:accept() -- blocking: the clients connect first
    if not conn then h.fail('accept #%d: %s', i, tostring(aerr)) end
    if i == 1 then t0 = h.now() end
    must(h, 'nonblock', conn:nonblock(true))
    must(h, 'add', set:add(conn, 'r'))
    serving[conn], live = create(serve), live + 1
  end
  srv:close()
  while live > 0 do
    must(h, 'wait', set:wait())
    for sock in set:ready() do
      local co = serving[sock]
      local ok, done = resume(co, sock) -- the first resume passes serve its socket
      if not ok then h.fail('serve: %s', tostring(done)) end
      if done then serving[sock], live = nil, live - 1 end
    end
  end
  set:close()
  if bytes ~= want then h.fail('echoed %d bytes, expected %d', bytes, want) end
  return t, bytes / h.MSG
end
