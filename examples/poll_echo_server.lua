-- net.poll: an echo server for many clients in one thread. It listens on
-- 127.0.0.1 (a free port), starts its own clients in the same process, and
-- serves them all from one poll set: each client sends a few lines and
-- checks that every one comes back; the server echoes whatever arrives,
-- keeps what a full socket did not take, and closes each connection when its
-- client leaves. Everything is non-blocking; the run is bounded (5 s).
--
-- Run from the checkout (LuaJIT uses the FFI, Lua 5.1-5.4 the C module):
--   meson devenv -C build -w . luajit examples/poll_echo_server.lua
--   meson devenv -C build -w . lua5.4 examples/poll_echo_server.lua
local net = require('net')
local inet = require('net.stream.inet')
local poll = require('net.poll')

local CLIENTS, LINES, LIMIT = 8, 5, 5.0

local p = assert(poll.new())
local server = assert(inet.server.new { host = '127.0.0.1', port = 0, nonblock = true })
assert(server:listen() == nil)
local port = assert(server:getsockname()):port()
assert(p:add(server, 'r'))
print(('echo server on 127.0.0.1:%d, %d clients'):format(port, CLIENTS))

-- The server's connections: socket -> bytes received but not yet sent back.
local conns = {}
-- The clients: socket -> {id, sent = lines sent, got = text received}.
local clients = {}
local finished = 0

local function line(c, n)
  return ('client %d line %d\n'):format(c.id, n)
end

-- A client sends its next line (a few bytes: a loopback socket takes them).
local function client_next(sock, c)
  c.sent = c.sent + 1
  local text = line(c, c.sent)
  assert(sock:send(text) == #text, 'a short line did not go out at once')
end

for id = 1, CLIENTS do
  local sock = assert(inet.client.new { host = '127.0.0.1', port = port })
  assert(sock:nonblock(true))
  local c = { id = id, sent = 0, got = '' }
  clients[sock] = c
  assert(p:add(sock, 'r'))
  client_next(sock, c)
end

-- The server side of one connection: echo what arrives; when the socket
-- cannot take it all, wait for 'w' too until the rest went out.
local function serve(sock, ev)
  if ev:find('r') then
    local data, _, again = sock:recv(4096)
    if data then
      conns[sock] = conns[sock] .. data
    elseif not again then -- the client left (nil, nil, nil) or it failed
      assert(p:del(sock))
      sock:close()
      conns[sock] = nil
      return
    end
  end
  local out = conns[sock]
  if #out > 0 then
    local n = assert(sock:send(out))
    conns[sock] = out:sub(n + 1)
    assert(p:mod(sock, #conns[sock] > 0 and 'rw' or 'r'))
  end
end

-- A client: collect the echo; the next line once a whole line is back,
-- and leave after the last.
local function client_read(sock, c)
  local data = sock:recv(4096)
  if not data then return end -- nothing yet
  c.got = c.got .. data
  local want = ''
  for n = 1, c.sent do want = want .. line(c, n) end
  if c.got == want then
    if c.sent < LINES then
      client_next(sock, c)
    else
      assert(p:del(sock))
      sock:close()
      clients[sock] = nil
      finished = finished + 1
    end
  else
    assert(want:sub(1, #c.got) == c.got, 'client ' .. c.id .. ' got a wrong echo')
  end
end

local deadline = net.now() + LIMIT
while finished < CLIENTS do
  local left = deadline - net.now()
  assert(left > 0, 'not done within ' .. LIMIT .. ' s')
  assert(p:wait(left))
  for sock, ev in p:ready() do
    if sock == server then
      local conn = server:accept()
      if conn then
        assert(conn:nonblock(true))
        conns[conn] = ''
        assert(p:add(conn, 'r'))
      end
    elseif conns[sock] then
      serve(sock, ev)
    elseif clients[sock] then
      client_read(sock, clients[sock])
    end
  end
end

-- The server notices the last goodbyes, then stops.
while next(conns) and net.now() < deadline do
  assert(p:wait(deadline - net.now()))
  for sock, ev in p:ready() do
    if conns[sock] then serve(sock, ev) end
  end
end
assert(next(conns) == nil, 'connections left open')
assert(p:close())
server:close()
print(('%d clients served, %d lines each, all echoed'):format(CLIENTS, LINES))
