-- LuaSocket (Debian lua-socket). It has no socketpair: W1 uses a connected
-- pair of unix stream sockets (socket.unix: bind, listen, connect, accept in
-- a private directory), the same kind of kernel object. LuaSocket keeps its
-- sockets non-blocking and waits with poll when a call would block; receive
-- reads through its own 8 KiB buffer.
local socket = require 'socket'
local unix = require 'socket.unix'

local M = {}

local function must(h, what, v, err)
  if v == nil then h.fail('%s: %s', what, tostring(err)) end
  return v
end

local function listen_loopback(h)
  local srv = must(h, 'tcp', socket.tcp())
  must(h, 'bind', srv:bind('127.0.0.1', 0))
  must(h, 'listen', srv:listen(4096))
  local _, port = srv:getsockname()
  return srv, tonumber(port)
end

function M.w1(h, rounds)
  local path = h.tmpdir() .. '/w1.sock'
  local srv = must(h, 'unix', unix())
  must(h, 'bind', srv:bind(path))
  must(h, 'listen', srv:listen(1))
  local a = must(h, 'unix', unix())
  must(h, 'connect', a:connect(path))
  local b = must(h, 'accept', srv:accept())
  srv:close()
  os.remove(path)
  local msg, other = h.messages()
  local MSG = h.MSG
  local t0 = h.now()
  for i = 1, rounds do
    if a:send(msg) ~= MSG then h.fail('round %d: send failed', i) end
    local s = b:receive(MSG)
    if not s or b:send(s) ~= #s then h.fail('round %d: echo failed', i) end
    local r = a:receive(MSG)
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
  local CHUNK, PERIOD = h.CHUNK, h.PERIOD
  local total, first, last = 0, nil, nil
  local t0 = h.now()
  while true do
    local s, err, partial = conn:receive(CHUNK)
    if not s then
      if err ~= 'closed' then h.fail('receive: %s', err) end
      s = partial -- what arrived before the sender closed
    end
    if #s > 0 then
      if s:byte(1) ~= total % PERIOD then h.check_chunk_start(s, total) end
      if total == 0 then first = s end
      last = s
      total = total + #s
    end
    if err then break end
  end
  local t = h.now() - t0
  conn:close()
  srv:close()
  h.check_stream(first, last, total)
  return t, total
end

function M.w3(h, calls)
  local srv, port = listen_loopback(h)
  local cli = must(h, 'connect', socket.connect('127.0.0.1', port))
  local conn = must(h, 'accept', srv:accept())
  must(h, 'setoption', cli:setoption('tcp-nodelay', true))
  local t0 = h.now()
  for i = 1, calls do
    local v = cli:getoption('tcp-nodelay')
    if v ~= true then h.expect(v, true, "getoption('tcp-nodelay') #" .. i) end
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
    conn:close()
  end
  local t = h.now() - t0
  srv:close()
  return t, conns
end

return M
