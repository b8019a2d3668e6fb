-- luaposix (Debian lua-posix; packaged for Lua 5.1-5.3): thin wrappers over
-- the system calls. It has setsockopt but no getsockopt, so it cannot do W3.
local S = require 'posix.sys.socket'
local unistd = require 'posix.unistd'

local M = { unsupported = { w3 = 'luaposix has no getsockopt' } }

local function must(h, what, v, err)
  if v == nil then h.fail('%s: %s', what, tostring(err)) end
  return v
end

local function listen_loopback(h)
  local fd = must(h, 'socket', S.socket(S.AF_INET, S.SOCK_STREAM, 0))
  must(h, 'bind', S.bind(fd, { family = S.AF_INET, addr = '127.0.0.1', port = 0 }))
  must(h, 'listen', S.listen(fd, 4096))
  return fd, must(h, 'getsockname', S.getsockname(fd)).port
end

function M.w1(h, rounds)
  local a, b = S.socketpair(S.AF_UNIX, S.SOCK_STREAM, 0)
  must(h, 'socketpair', a, b)
  local send, recv = S.send, S.recv
  local msg, other = h.messages()
  local MSG = h.MSG
  local t0 = h.now()
  for i = 1, rounds do
    if send(a, msg) ~= MSG then h.fail('round %d: send failed', i) end
    local s = recv(b, MSG)
    if not s or send(b, s) ~= #s then h.fail('round %d: echo failed', i) end
    local r = recv(a, MSG)
    if r ~= msg then h.check_echo(r, msg, i) end
    msg, other = other, msg
  end
  local t = h.now() - t0
  unistd.close(a)
  unistd.close(b)
  return t, rounds
end

function M.w2(h, bytes)
  local lfd, port = listen_loopback(h)
  h.connect(port, bytes)
  local fd = must(h, 'accept', S.accept(lfd))
  local recv = S.recv
  local CHUNK, PERIOD = h.CHUNK, h.PERIOD
  local total, first, last = 0, nil, nil
  local t0 = h.now()
  while true do
    local s, err = recv(fd, CHUNK)
    if not s then h.fail('recv: %s', err) end
    if #s == 0 then break end -- the sender closed
    if s:byte(1) ~= total % PERIOD then h.check_chunk_start(s, total) end
    if total == 0 then first = s end
    last = s
    total = total + #s
  end
  local t = h.now() - t0
  unistd.close(fd)
  unistd.close(lfd)
  h.check_stream(first, last, total)
  return t, total
end

function M.w4(h, conns)
  local lfd, port = listen_loopback(h)
  h.connect(port, conns)
  local accept, close = S.accept, unistd.close
  local t0
  for i = 1, conns do
    local fd, err = accept(lfd)
    if not fd then h.fail('accept #%d: %s', i, tostring(err)) end
    if i == 1 then t0 = h.now() end
    if close(fd) ~= 0 then h.fail('close #%d failed', i) end
  end
  local t = h.now() - t0
  unistd.close(lfd)
  return t, conns
end

return M
