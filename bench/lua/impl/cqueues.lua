-- cqueues (Debian lua-cqueues). Its sockets are non-blocking and buffered;
-- outside a controller a call that would block polls on the socket, so the
-- workloads run as plain blocking code. Sockets are set to binary mode with
-- no output buffering, and the input buffer to 64 KiB for W2's reads. It can
-- set TCP_NODELAY (the nodelay option of connect/listen) but not read it
-- back, so it cannot do W3.
local cs = require 'cqueues.socket'

local M = { unsupported = { w3 = 'cqueues cannot read TCP_NODELAY (only a creation option)' } }

local function must(h, what, v, err)
  if v == nil then h.fail('%s: %s', what, tostring(err)) end
  return v
end

local function listen_loopback(h)
  local srv = must(h, 'listen', cs.listen { host = '127.0.0.1', port = 0 })
  must(h, 'listen', srv:listen())
  local _, _, port = srv:localname()
  return srv, port
end

function M.w1(h, rounds)
  local a, b = cs.pair()
  must(h, 'pair', a, b)
  a:setmode('bn', 'bn')
  b:setmode('bn', 'bn')
  local msg, other = h.messages()
  local MSG = h.MSG
  local t0 = h.now()
  for i = 1, rounds do
    if not a:write(msg) then h.fail('round %d: send failed', i) end
    local s = b:read(MSG)
    if not s or not b:write(s) then h.fail('round %d: echo failed', i) end
    local r = a:read(MSG)
    if r ~= msg then h.check_echo(r, msg, i) end
    msg, other = other, msg
  end
  local t = h.now() - t0
  a:close()
  b:close()
  return t, rounds
end

function M.w2(h, bytes)
  local srv, port = listen_loopback(h)
  h.connect(port, bytes)
  local conn = must(h, 'accept', srv:accept())
  conn:setmode('bn', 'bn')
  conn:setbufsiz(h.CHUNK, h.CHUNK)
  local CHUNK, PERIOD = -h.CHUNK, h.PERIOD -- read(-n): up to n bytes
  local total, first, last = 0, nil, nil
  local t0 = h.now()
  while true do
    local s, err = conn:read(CHUNK)
    if not s then
      if err then h.fail('read: %s', tostring(err)) end
      break -- the sender closed
    end
    if s:byte(1) ~= total % PERIOD then h.check_chunk_start(s, total) end
    if total == 0 then first = s end
    last = s
    total = total + #s
  end
  local t = h.now() - t0
  conn:close()
  srv:close()
  h.check_stream(first, last, total)
  return t, total
end

function M.w4(h, conns)
  local srv, port = listen_loopback(h)
  h.connect(port, conns)
  local t0
  for i = 1, conns do
    local conn, err = srv:accept()
    if not conn then h.fail('accept #%d: %s', i, tostring(err)) end
    if i == 1 then t0 = h.now() end
    conn:close()
  end
  local t = h.now() - t0
  srv:close()
  return t, conns
end

return M
