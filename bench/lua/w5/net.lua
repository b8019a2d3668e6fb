-- W5 on lua-net: an echo server written on net.poll + net.loop, each
-- connection straight-line code in a coroutine of its own (as
-- examples/loop_echo_server.lua). The sockets are non-blocking, so a recv
-- or send that would block yields to the loop. The backend is whatever
-- net.core picks (FFI on LuaJIT unless NET_BACKEND=capi, net.capi on PUC Lua).
local inet = require 'net.stream.inet'
local loop = require 'net.loop'

local CONNS = assert(tonumber(os.getenv('BENCH_CONNS')), 'BENCH_CONNS not set')
local READ_SIZE = 4096 -- as the C server (bench/c/w5_server.c)

local function must(h, what, v, err)
  if v == nil then h.fail('%s: %s', what, tostring(err)) end
  return v
end

return function(h, echoes)
  local srv = must(h, 'inet.server.new', inet.server.new { host = '127.0.0.1', port = 0, nonblock = true })
  local _, err = srv:listen()
  if err then h.fail('listen: %s', err) end
  h.connect(must(h, 'getsockname', srv:getsockname()):port(), echoes)
  local want = echoes * h.MSG
  local bytes, t0, t = 0, nil, nil

  local function serve(conn)
    must(h, 'nonblock', conn:nonblock(true))
    while true do
      local s, rerr = conn:recv(READ_SIZE)
      if not s then
        if rerr then h.fail('recv: %s', rerr) end
        break -- the client closed (or cut the stream off: the count tells)
      end
      local n = #s
      if conn:send(s) ~= n then h.fail('send: short or failed') end
      bytes = bytes + n
      if bytes == want then t = h.now() - t0 end
    end
    conn:close()
  end

  loop.spawn(function()
    for i = 1, CONNS do
      local conn, aerr = srv:accept()
      if not conn then h.fail('accept #%d: %s', i, tostring(aerr)) end
      if i == 1 then t0 = h.now() end
      loop.spawn(serve, conn)
    end
    srv:close()
  end)
  loop.run()
  if bytes ~= want then h.fail('echoed %d bytes, expected %d', bytes, want) end
  return t, bytes / h.MSG
end
