-- lua-net through its public API (doc/reference.md). The backend is
-- whatever net.core picks: FFI on LuaJIT unless NET_BACKEND=capi, the C-API
-- module net.capi on PUC Lua.
local stream = require 'net.stream'
local inet = require 'net.stream.inet'
local buffer = require 'net.buffer'

local M = {}

local function must(h, what, v, err)
  if v == nil then h.fail('%s: %s', what, tostring(err)) end
  return v
end

-- A listening server on 127.0.0.1 and its port.
local function listen_loopback(h)
  local srv = must(h, 'inet.server.new', inet.server.new { host = '127.0.0.1', port = 0 })
  local _, err = srv:listen()
  if err then h.fail('listen: %s', err) end
  local port = must(h, 'getsockname', srv:getsockname()):port()
  return srv, port
end

function M.w1(h, rounds)
  local pair = must(h, 'stream.pair', stream.pair())
  local a, b = pair[1], pair[2]
  local msg, other = h.messages()
  local MSG = h.MSG
  local t0 = h.now()
  for i = 1, rounds do
    if a:send(msg) ~= MSG then h.fail('round %d: send failed', i) end
    local s = b:recv(MSG)
    if not s or b:send(s) ~= #s then h.fail('round %d: echo failed', i) end
    local r = a:recv(MSG)
    if r ~= msg then h.check_echo(r, msg, i) end
    msg, other = other, msg
  end
  local t = h.now() - t0
  a:close()
  b:close()
  return t, rounds
end

-- W2 receives into a net.buffer (sock:recvinto), the API for bulk reads:
-- no Lua string per chunk. Two buffers take turns so that the last chunk is
-- still there to check when the sender's close ends the loop.
function M.w2(h, bytes)
  local srv, port = listen_loopback(h)
  h.connect(port, bytes)
  local conn = must(h, 'accept', srv:accept())
  local CHUNK, PERIOD = h.CHUNK, h.PERIOD
  local buf, spare = buffer.new(CHUNK), buffer.new(CHUNK)
  local total, first = 0, nil
  local t0 = h.now()
  while true do
    buf:clear()
    local n, err = conn:recvinto(buf)
    if not n then
      if err then h.fail('recvinto: %s', err) end
      break -- the sender closed
    end
    if buf:byte(1) ~= total % PERIOD then h.check_chunk_start(buf:tostring(), total) end
    if total == 0 then first = buf:tostring() end
    total = total + n
    buf, spare = spare, buf
  end
  local t = h.now() - t0
  conn:close()
  srv:close()
  h.check_stream(first, spare:tostring(), total)
  return t, total
end

function M.w3(h, calls)
  local srv, port = listen_loopback(h)
  local cli = must(h, 'inet.client.new', inet.client.new { host = '127.0.0.1', port = port })
  local conn = must(h, 'accept', srv:accept())
  h.expect(cli:tcpnodelay(true), true, 'tcpnodelay(true)')
  local t0 = h.now()
  for i = 1, calls do
    local v = cli:tcpnodelay()
    if v ~= true then h.expect(v, true, 'tcpnodelay() #' .. i) end
  end
  local t = h.now() - t0
  conn:close()
  cli:close()
  srv:close()
  return t, calls
end

function M.w4(h, conns)
  local srv, port = listen_loopback(h)
  h.connect(port, conns)
  local t0
  for i = 1, conns do
    local conn, err = srv:accept()
    if not conn then h.fail('accept #%d: %s', i, tostring(err)) end
    if i == 1 then t0 = h.now() end
    local _, cerr = conn:close()
    if cerr then h.fail('close #%d: %s', i, cerr) end
  end
  local t = h.now() - t0
  srv:close()
  return t, conns
end

return M
