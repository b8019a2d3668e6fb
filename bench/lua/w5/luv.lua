-- W5 on luv: libuv's loop, callbacks (uv.new_tcp, listen, accept,
-- read_start with libuv's 64 KiB buffer, try_write: a direct write, the
-- fastest luv offers; one message in flight per connection, so it always
-- goes out whole).
local uv = require 'luv'

local CONNS = assert(tonumber(os.getenv('BENCH_CONNS')), 'BENCH_CONNS not set')

local function must(h, what, v, err)
  if v == nil then h.fail('%s: %s', what, tostring(err)) end
  return v
end

return function(h, echoes)
  local want = echoes * h.MSG
  local bytes, accepted, t0, t = 0, 0, nil, nil
  local srv = uv.new_tcp()
  must(h, 'bind', srv:bind('127.0.0.1', 0))
  must(h, 'listen', srv:listen(4096, function(err)
    if err then h.fail('listen callback: %s', err) end
    local conn = uv.new_tcp()
    must(h, 'accept', srv:accept(conn))
    accepted = accepted + 1
    if accepted == 1 then t0 = h.now() end
    if accepted == CONNS then srv:close() end
    conn:read_start(function(rerr, s)
      if rerr then h.fail('read: %s', rerr) end
      if not s then -- the client closed
        conn:close()
        return
      end
      local n = #s
      if conn:try_write(s) ~= n then h.fail('try_write: short or failed') end
      bytes = bytes + n
      if bytes == want then t = h.now() - t0 end
    end)
  end))
  h.connect(srv:getsockname().port, echoes)
  uv.run()
  if bytes ~= want then h.fail('echoed %d bytes, expected %d', bytes, want) end
  return t, bytes / h.MSG
end
