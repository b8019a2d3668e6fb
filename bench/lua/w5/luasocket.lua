-- W5 on LuaSocket: the classic socket.select server (LuaSocket has no other
-- way to wait for many sockets). Every socket has timeout 0; receive(n)
-- with timeout 0 returns what it read so far as the partial result. Where
-- it cannot go: socket.select is select(2), so no fd at or above
-- FD_SETSIZE (1024): no 10,000-connection row; and each call hands the
-- whole set to the kernel and back, O(connections) per wake-up.
local socket = require 'socket'

local CONNS = assert(tonumber(os.getenv('BENCH_CONNS')), 'BENCH_CONNS not set')

local function must(h, what, v, err)
  if v == nil then h.fail('%s: %s', what, tostring(err)) end
  return v
end

return function(h, echoes)
  local srv = must(h, 'tcp', socket.tcp())
  must(h, 'bind', srv:bind('127.0.0.1', 0))
  must(h, 'listen', srv:listen(4096))
  srv:settimeout(0)
  local _, port = srv:getsockname()
  h.connect(tonumber(port), echoes)
  local MSG, want = h.MSG, echoes * h.MSG
  local bytes, accepted, closed, t0, t = 0, 0, 0, nil, nil
  local set, index = { srv }, { [srv] = 1 } -- the select list and each socket's place

  local function remove(sock)
    local i, n = index[sock], #set
    set[i], index[set[n]] = set[n], i
    set[n], index[sock] = nil, nil
  end

  while closed < CONNS do
    local readable, _, err = socket.select(set, nil)
    if err then h.fail('select: %s', err) end
    for _, sock in ipairs(readable) do
      if sock == srv then
        local conn = srv:accept()
        if conn then
          accepted = accepted + 1
          if accepted == 1 then t0 = h.now() end
          conn:settimeout(0)
          set[#set + 1] = conn
          index[conn] = #set
          if accepted == CONNS then remove(srv); srv:close() end
        end
      else
        local s, rerr, partial = sock:receive(MSG)
        s = s or partial
        if s and #s > 0 then
          local n = #s
          if sock:send(s) ~= n then h.fail('send: short or failed') end
          bytes = bytes + n
          if bytes == want then t = h.now() - t0 end
        end
        if rerr == 'closed' then
          remove(sock)
          sock:close()
          closed = closed + 1
        elseif rerr and rerr ~= 'timeout' then
          h.fail('receive: %s', rerr)
        end
      end
    end
  end
  if bytes ~= want then h.fail('echoed %d bytes, expected %d', bytes, want) end
  return t, bytes / MSG
end
