-- luv (Debian lua-luv): libuv's event loop, so every workload runs as
-- callbacks inside uv.run() rather than as blocking calls. Writes use
-- try_write (a direct write, the fastest luv offers); reads arrive through
-- read_start with libuv's 64 KiB buffer. luv can set TCP_NODELAY
-- (tcp:nodelay) but has no way to read it back, so it cannot do W3.
local uv = require 'luv'

local M = { unsupported = { w3 = 'luv cannot read TCP_NODELAY (tcp:nodelay only sets it)' } }

local function must(h, what, v, err)
  if v == nil then h.fail('%s: %s', what, tostring(err)) end
  return v
end

-- A listening TCP handle on 127.0.0.1 calling on_conn(conn) per connection.
local function listen_loopback(h, on_conn)
  local srv = uv.new_tcp()
  must(h, 'bind', srv:bind('127.0.0.1', 0))
  must(h, 'listen', srv:listen(4096, function(err)
    if err then h.fail('listen callback: %s', err) end
    local conn = uv.new_tcp()
    must(h, 'accept', srv:accept(conn))
    on_conn(conn)
  end))
  return srv, srv:getsockname().port
end

function M.w1(h, rounds)
  local fds = must(h, 'socketpair', uv.socketpair('stream', 0, { nonblock = true }, { nonblock = true }))
  local a, b = uv.new_pipe(false), uv.new_pipe(false)
  must(h, 'pipe open', a:open(fds[1]))
  must(h, 'pipe open', b:open(fds[2]))
  local msg, other = h.messages()
  local MSG = h.MSG
  local done = 0
  b:read_start(function(err, s)
    if err or not s then h.fail('echo side read: %s', tostring(err or 'end of stream')) end
    if b:try_write(s) ~= #s then h.fail('round %d: echo failed', done + 1) end
  end)
  a:read_start(function(err, r)
    done = done + 1
    if err or r ~= msg then h.check_echo(r, msg, done) end
    if done < rounds then
      msg, other = other, msg
      if a:try_write(msg) ~= MSG then h.fail('round %d: send failed', done + 1) end
    else
      a:read_stop()
      b:read_stop()
    end
  end)
  local t0 = h.now()
  if a:try_write(msg) ~= MSG then h.fail('round 1: send failed') end
  uv.run()
  local t = h.now() - t0
  h.expect(done, rounds, 'round trips')
  a:close()
  b:close()
  uv.run()
  return t, rounds
end

function M.w2(h, bytes)
  local PERIOD = h.PERIOD
  local total, first, last, t0, t = 0, nil, nil, nil, nil
  local srv, port
  srv, port = listen_loopback(h, function(conn)
    t0 = h.now()
    conn:read_start(function(err, s)
      if err then h.fail('read: %s', err) end
      if s then
        if s:byte(1) ~= total % PERIOD then h.check_chunk_start(s, total) end
        if total == 0 then first = s end
        last = s
        total = total + #s
      else -- the sender closed
        t = h.now() - t0
        conn:close()
        srv:close()
      end
    end)
  end)
  h.connect(port, bytes)
  uv.run()
  h.check_stream(first, last, total)
  return t, total
end

function M.w4(h, conns)
  local count, t0 = 0, nil
  local srv, port
  srv, port = listen_loopback(h, function(conn)
    count = count + 1
    if count == 1 then t0 = h.now() end
    conn:close()
    if count == conns then srv:close() end
  end)
  h.connect(port, conns)
  uv.run()
  local t = h.now() - t0
  h.expect(count, conns, 'connections accepted')
  return t, conns
end

return M
