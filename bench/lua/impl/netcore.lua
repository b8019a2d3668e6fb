-- lua-net's primitive table (net.core, doc/internals.md) called directly:
-- fds instead of socket objects, no method dispatch, no argument checks. Not
-- an API for users; it shows what the methods of the public API add on top of
-- the C-API module (the "bare C-API module" of issue 4's W1 target).
local core = require 'net.core'

local M = { unsupported = {
  w2 = 'bare primitives: W2 makes one call per 64 KiB, the methods cost nothing there',
  w4 = 'bare primitives: W4 makes one call per connection, the methods cost nothing there',
} }

local function must(h, what, v, err)
  if type(v) ~= 'number' or v < 0 then h.fail('%s: %s', what, core.strerror(v or err)) end
  return v
end

function M.w1(h, rounds)
  local K = core.constants
  local a, b = core.sock_pair(K.AF_UNIX, K.SOCK_STREAM, 0, 0)
  must(h, 'sock_pair', a, b)
  local send, recv = core.sock_send, core.sock_recv
  local msg, other = h.messages()
  local MSG = h.MSG
  local t0 = h.now()
  for i = 1, rounds do
    if send(a, msg, 0) ~= MSG then h.fail('round %d: send failed', i) end
    local s = recv(b, MSG, 0)
    if send(b, s, 0) ~= #s then h.fail('round %d: echo failed', i) end
    local r = recv(a, MSG, 0)
    if r ~= msg then h.check_echo(r, msg, i) end
    msg, other = other, msg
  end
  local t = h.now() - t0
  core.sock_close(a)
  core.sock_close(b)
  return t, rounds
end

function M.w3(h, calls)
  local K = core.constants
  local srv = must(h, 'sock_open', core.sock_open(K.AF_INET, K.SOCK_STREAM, 0, 0))
  local numeric = K.AI_NUMERICHOST + K.AI_NUMERICSERV
  local function addr(port) -- through the resolver, numeric: no DNS
    return core.getaddrinfo('127.0.0.1', tostring(port), K.AF_INET, K.SOCK_STREAM, 0, numeric)[1].addr
  end
  must(h, 'bind', core.sock_bind(srv, addr(0)))
  must(h, 'listen', core.sock_listen(srv, -1))
  local port = core.addr_port(core.sock_getsockname(srv))
  local cli = must(h, 'sock_open', core.sock_open(K.AF_INET, K.SOCK_STREAM, 0, 0))
  must(h, 'connect', core.sock_connect(cli, addr(port)))
  local conn = must(h, 'accept', core.sock_accept(srv, 0))
  h.expect(core.sock_tcpnodelay(cli, 1), 1, 'sock_tcpnodelay(1)')
  local get = core.sock_tcpnodelay
  local t0 = h.now()
  for i = 1, calls do
    local v = get(cli, -1)
    if v ~= 1 then h.expect(v, 1, 'sock_tcpnodelay() #' .. i) end
  end
  local t = h.now() - t0
  core.sock_close(conn)
  core.sock_close(cli)
  core.sock_close(srv)
  return t, calls
end

return M
