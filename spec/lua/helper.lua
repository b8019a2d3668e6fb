-- Shared test utilities for the busted suite (loaded by busted --helper).
--
-- Specs reach it with `require('spec.lua.helper')`: busted's --helper runs
-- this file first and registers it under that name; without --helper the same
-- require finds it from the project root, but cleanup() then refuses to run.
-- Only loopback addresses and unix paths inside a fresh temporary directory
-- are ever used. Tests clean up with cleanup(fn), not busted's `finally`
-- (see cleanup for why).
local net = require('net')
local core = require('net.core')

local M = {}

local unpack = table.unpack or unpack -- luacheck: ignore 143

M.LINUX = io.open('/proc/self/stat', 'r') ~= nil and true or false

-- garbage_with_finalizer(fn) leaves garbage whose collection calls fn: a
-- newproxy on Lua 5.1 and LuaJIT (no __gc on tables there), a table
-- elsewhere. Its source is a chunk that returns it, for a child
-- interpreter's script too.
M.GARBAGE_WITH_FINALIZER = [[
local newproxy = rawget(_G, 'newproxy')
return function(fn)
  if newproxy then
    getmetatable(newproxy(true)).__gc = fn
  else
    setmetatable({}, { __gc = fn })
  end
end
]]
M.garbage_with_finalizer = assert((rawget(_G, 'loadstring') or load)(M.GARBAGE_WITH_FINALIZER))()

-- Every result of a call, trailing nils included: {n = count, ...}.
function M.pack(...)
  return { n = select('#', ...), ... }
end

-- ---------------------------------------------------------------- errors --

-- Runs fn, returns the seconds it took (net.now) and its results (packed).
function M.timed(fn, ...)
  local t0 = net.now()
  local r = M.pack(fn(...))
  return net.now() - t0, r
end

-- Calls fn and checks that it raised a message ending in `expected`. A raise
-- from Lua code may carry a "file:line: " position prefix; a C function's
-- luaL_argerror carries none. Either is accepted, nothing else is.
function M.raises(expected, fn, ...)
  local ok, msg = pcall(fn, ...)
  assert(not ok, 'expected an error "' .. expected .. '", but the call returned')
  assert(type(msg) == 'string', 'error value is a ' .. type(msg) .. ', not a string')
  local prefix = msg:sub(1, #msg - #expected)
  local tail = msg:sub(#msg - #expected + 1)
  assert(tail == expected and (prefix == '' or prefix:match('^[^\n]*:%d+: $')),
    'expected error "' .. expected .. '", got "' .. msg .. '"')
end

-- The message a closed socket returns for every method.
M.EBADF_MSG = 'Bad file descriptor'

-- --------------------------------------------------------- descriptors --

local function pid()
  local f = assert(io.open('/proc/self/stat', 'r'))
  local line = f:read('*l')
  f:close()
  return assert(tonumber(line:match('^(%d+)')))
end
M.pid = pid

-- Runs a shell command line (grouped, so `a & b; wait` works): its output,
-- stdout and stderr together, and its exit status, the same way on every
-- Lua version (os.execute's results differ between 5.1 and 5.2+).
function M.sh(cmd)
  local p = assert(io.popen('( ' .. cmd .. ' ) 2>&1; echo "rc=$?"'))
  local out = p:read('*a')
  p:close()
  local body, rc = out:match('^(.*)rc=(%d+)\n?$')
  return body, tonumber(rc)
end

-- The interpreter running this spec, so that a child process runs the same
-- runtime and backend (NET_BACKEND, LUA_PATH and LUA_CPATH are inherited).
function M.interpreter()
  local p = assert(io.popen('readlink /proc/' .. pid() .. '/exe'))
  local exe = p:read('*l')
  p:close()
  return assert(exe, 'no interpreter path')
end

-- Runs code (a chunk, as with -e) in a child interpreter (this one: same
-- backend and paths, from the environment) with the shared module preload
-- added to LD_PRELOAD, after what is there (an ASan build's sanitizer
-- runtimes come first), or with LD_PRELOAD as it is when preload is nil:
-- its output (stdout and stderr).
function M.run_preloaded(preload, code)
  local env = ''
  if preload then
    local was = os.getenv('LD_PRELOAD')
    env = 'LD_PRELOAD=' .. M.shell_quote((was and was ~= '') and (was .. ':' .. preload) or preload) .. ' '
  end
  local p = assert(io.popen(env .. 'exec ' .. M.shell_quote(M.interpreter()) .. ' -e '
    .. M.shell_quote(code) .. ' 2>&1'))
  local out = p:read('*a')
  p:close()
  return out
end

-- Runs code in a child interpreter (this one: same backend and paths, from
-- the environment) with RLIMIT_NOFILE lowered to limit, a limit this
-- process must never take on: its output (stdout and stderr) and exit status.
function M.run_limited(limit, code)
  local file = os.tmpname()
  local f = assert(io.open(file, 'w'))
  f:write(code)
  f:close()
  local out, rc = M.sh(('ulimit -n %d && exec %s %s'):format(limit, M.interpreter(), file))
  os.remove(file)
  return out, rc
end

-- How many descriptors this process has open of a kind: a text its
-- `ls -l` line holds, or a function of that line (spec/proc_fds.lua).
-- (found beside this file's folder: tools/check-install runs the helper
-- from another folder, with no NET_SOURCE_ROOT)
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './' -- spec/lua/
local heap_paths = dofile(here .. '../heap_paths.lua')
local proc_fds = dofile(here .. '../proc_fds.lua')
local function count_fds(kind)
  return proc_fds('/proc/' .. pid() .. '/fd', kind)
end

-- How many sockets this process has open. Only socket entries are counted,
-- because the popen pipe's own descriptors are there or not depending on
-- timing.
function M.fd_count()
  return count_fds('socket:')
end

-- How many descriptors of any kind but pipes (the popen's) this process
-- has open: sockets, poll sets' epoll descriptors, files.
function M.fd_count_all()
  return count_fds(function(line) return not line:find('pipe:', 1, true) end)
end

-- Whether descriptor n is open in this process. Opening /proc/self/fd/<n>
-- fails with ENOENT when it is not; a socket fails with ENXIO instead; other
-- kinds open (and are closed again at once).
function M.fd_is_open(n)
  local f, _, code = io.open('/proc/self/fd/' .. n, 'rb')
  if f then
    f:close()
    return true
  end
  return code ~= net.ENOENT
end

-- The soft limit on open descriptors (RLIMIT_NOFILE).
function M.fd_limit()
  local f = assert(io.open('/proc/self/limits', 'r'))
  local text = f:read('*a')
  f:close()
  local soft = text:match('Max open files%s+(%S+)')
  return tonumber(soft) or math.huge -- "unlimited"
end

-- A value from /proc/sys (e.g. 'net/core/rmem_max'), as a number.
function M.sysctl(name)
  local f = assert(io.open('/proc/sys/' .. name, 'r'))
  local v = f:read('*n')
  f:close()
  return v
end

-- ------------------------------------------------------------ readiness --

-- Waits until sock is ready for `events` (net.POLLIN, net.POLLOUT, ...) or
-- `timeout` seconds pass; returns the ready events (0 on timeout). Uses the
-- primitive table because readiness is not part of the socket classes.
function M.wait(sock, events, timeout)
  local r = core.poll_fd(assert(sock:fd()), events, timeout or 5)
  assert(r >= 0, 'poll failed: ' .. net.strerror(r))
  return r
end

function M.readable(sock, timeout)
  return M.wait(sock, net.POLLIN, timeout) ~= 0
end

function M.writable(sock, timeout)
  return M.wait(sock, net.POLLOUT, timeout) ~= 0
end

-- ---------------------------------------------------------------- data --

-- n bytes of deterministic, binary data: every byte value, NULs included, in
-- an order that does not repeat within 64 KiB (a small LCG; its products stay
-- far below 2^53, so integers and doubles give the same bytes on every Lua).
local blob_cache = {}
function M.blob(n)
  if blob_cache[n] then return blob_cache[n] end
  local parts, chunk, x = {}, {}, 1
  for i = 1, n do
    x = (x * 75 + 74) % 65537
    chunk[#chunk + 1] = x % 256
    if #chunk == 4096 or i == n then
      parts[#parts + 1] = string.char(unpack(chunk))
      chunk = {}
    end
  end
  blob_cache[n] = table.concat(parts)
  return blob_cache[n]
end

-- The first offset where two strings differ (nil when equal): a readable
-- failure message instead of two megabytes of bytes.
function M.first_diff(a, b)
  if a == b then return nil end
  local n = math.min(#a, #b)
  local step = 4096
  for i = 1, n, step do
    if a:sub(i, i + step - 1) ~= b:sub(i, i + step - 1) then
      for j = i, math.min(i + step - 1, n) do
        if a:byte(j) ~= b:byte(j) then return j end
      end
    end
  end
  return n + 1
end

-- Moves `data` from src to dst in one thread: src is made non-blocking and
-- sends what the kernel takes (the whole rest each time, so partial sends are
-- exercised), dst receives whatever is ready in between. Returns the bytes
-- received and the list of send results seen. Bounded: fails when no
-- progress happens for 5 seconds.
function M.transfer(src, dst, data, bufsize)
  assert(src:nonblock(true) == true)
  local got, pos, sends = {}, 1, {}
  local received = 0
  for _ = 1, 1000000 do
    if received >= #data then break end
    if pos <= #data then
      local n, err, again = src:send(pos == 1 and data or data:sub(pos))
      assert(n, 'send failed: ' .. tostring(err))
      sends[#sends + 1] = { n = n, again = again, asked = #data - pos + 1 }
      pos = pos + n
    end
    local ready = M.wait(dst, net.POLLIN, pos <= #data and 0 or 5)
    assert(pos <= #data or ready ~= 0, 'no data for 5 seconds')
    if ready ~= 0 then
      local s, err, again = dst:recv(bufsize or 65536)
      assert(s or again, 'recv failed: ' .. tostring(err) .. ' (EOF if nil)')
      if s then
        got[#got + 1] = s
        received = received + #s
      end
    elseif pos <= #data then
      M.wait(src, net.POLLOUT, 5)
    end
  end
  assert(received == #data, 'transfer did not finish')
  assert(src:nonblock(false) == false)
  return table.concat(got), sends
end

-- Sends all of data on a blocking socket (bounded by the number of calls).
function M.send_all(sock, data)
  local pos = 1
  for _ = 1, 10000 do
    if pos > #data then return end
    local n, err = sock:send(data:sub(pos))
    assert(n, 'send failed: ' .. tostring(err))
    pos = pos + n
  end
  error('send_all made no progress')
end

-- Receives exactly n bytes on a socket (waits up to 5 s for each piece).
function M.recv_exact(sock, n)
  local got, have = {}, 0
  while have < n do
    assert(M.readable(sock, 5), 'timed out waiting for data')
    local s, err, again = sock:recv(n - have)
    assert(s or again, 'recv failed or EOF: ' .. tostring(err))
    if s then
      got[#got + 1] = s
      have = have + #s
    end
  end
  return table.concat(got)
end

-- Checks that nothing is queued for reading on sock now: a recv that does
-- not wait says "try again" (not a byte, not the peer's close).
function M.nothing_queued(sock)
  require('luassert').same(M.pack(nil, nil, true), M.pack(sock:recv(1, net.MSG_DONTWAIT)))
end

-- ------------------------------------------------------------ fixtures --

-- Work to do when the current test ends, passed or failed: cleanup(fn).
-- busted's own `finally` keeps one function per test, and a second call
-- (the test's after a helper's, or two helpers') silently drops the first;
-- this list keeps them all. They run after every after_each, the last
-- added first (sockets before the folder they live in); an error in one
-- does not stop the others, and the first is raised. The list runs from an
-- after_each at busted's root, registered when --helper loads this file
-- (with dofile: no module name in `...`). Required by a spec instead, it
-- would land in that one file: cleanup() raises rather than leave work
-- undone.
local cleanups = {}
local loaded_as_helper = select('#', ...) == 0

function M.cleanup(fn)
  assert(loaded_as_helper, 'cleanup() needs busted --helper=spec/lua/helper.lua')
  cleanups[#cleanups + 1] = fn
end

local function run_cleanups()
  local first_error
  while #cleanups > 0 do
    local fn = table.remove(cleanups)
    local ok, err = pcall(fn)
    if not ok and first_error == nil then first_error = err end
  end
  if first_error ~= nil then error(first_error, 0) end
end
if loaded_as_helper then require('busted').after_each(run_cleanups) end

-- This process's descriptors but pipes (the popen's), as a set of their
-- /proc listing's "<number> -> <what it names>": a socket or an epoll set
-- names its own inode, so a descriptor closed and its number reused reads
-- as another.
local function fd_names()
  local names = {}
  count_fds(function(line)
    local name = not line:find('pipe:', 1, true) and line:match('%d+ %-> .*$')
    if name then names[name] = true end
    return false
  end)
  return names
end

-- When the suite ends, nothing its specs made is left: after a full
-- collection no open lua-net socket or poll set is reachable (a walk from
-- the registry, spec/heap_paths.lua, which names what holds each one
-- found), and no descriptor is open that was not when the suite began
-- (the walk cannot see one that no object owns; compared by name, not by
-- count, so that one busted closed meanwhile cannot hide one left open).
-- A failure is written after busted's own summary and ends the run with
-- status 1.
if loaded_as_helper then
  local fds_at_start = fd_names()
  require('busted').subscribe({ 'suite', 'end' }, function()
    collectgarbage()
    collectgarbage()
    local held, opened = heap_paths.held(heap_paths.open_lua_net_object, debug.getregistry()), {}
    for name in pairs(fd_names()) do
      if not fds_at_start[name] then opened[#opened + 1] = name end
    end
    table.sort(opened)
    if #held > 0 or #opened > 0 then
      io.stderr:write(('the suite left lua-net objects open and reachable: %d; descriptors open that ' ..
                       'were not when it began: %d\n'):format(#held, #opened))
      for _, f in ipairs(held) do io.stderr:write('  ', tostring(f.obj), ': ', f.path, '\n') end
      for _, name in ipairs(opened) do io.stderr:write('  descriptor ', name, '\n') end
      os.exit(1)
    end
    return nil, true
  end)
end

-- Closes every socket given when the current test ends (values that are
-- no socket, nils too, skipped; closing twice is harmless):
-- close_at_end(p[1], p[2]).
function M.close_at_end(...)
  local socks = M.pack(...)
  M.cleanup(function()
    for i = 1, socks.n do
      local s = socks[i]
      if type(s) == 'table' and s.close then s:close() end
    end
  end)
end

-- For every test of the enclosing describe: before it, make() opens sockets
-- and set(...) receives them (to store in the describe's locals); when it
-- ends, every socket make() returned is closed (close_at_end).
function M.each(make, set)
  require('busted').before_each(function() -- this module's environment has no busted globals
    local opened = M.pack(make())
    M.close_at_end(unpack(opened, 1, opened.n))
    set(unpack(opened, 1, opened.n))
  end)
end

-- A waiter for a sender whose peer is this process: each wait drains what
-- reader has (into the list got) and says "ready"; check(sock, mode,
-- deadline), if given, sees every call. Then rest(reader, got) takes what
-- is left once the send returned.
function M.draining_waiter(reader, got, check)
  return function(sock, mode, deadline)
    if check then check(sock, mode, deadline) end
    local s = reader:recv(65536)
    if s then got[#got + 1] = s end
    return true
  end
end

function M.drain_rest(reader, got)
  assert(reader:nonblock(true))
  while true do
    local s = reader:recv(65536)
    if not s then break end
    got[#got + 1] = s
  end
  return table.concat(got)
end

-- A connected pair of unix stream sockets.
function M.pair()
  local p = assert(require('net.stream').pair())
  return p[1], p[2]
end

-- ---------------------------------------------------------- loopback TCP --

-- A listening TCP server on host (a loopback literal) and an ephemeral port.
function M.tcp_server(host, opts)
  local inet = require('net.stream.inet')
  local o = { host = host, port = 0 }
  for k, v in pairs(opts or {}) do o[k] = v end
  local srv = assert(inet.server.new(o))
  assert(srv:listen() == nil)
  local port = assert(srv:getsockname()):port()
  return srv, port
end

-- A client that connects to 127.0.0.1:port from a child process after
-- `delay` seconds, so that the connection comes while this process waits in
-- one call; the child waits (5 s at most) for a byte or the end, then ends.
-- Returns the child's output reader: read('*a') waits for its end. Close
-- the server first where a test may fail: a connection not accepted is
-- reset, and the child ends.
function M.late_client(port, delay)
  local script = ("os.execute('sleep %s'); local c = require('net.stream.inet').client.new{"
    .. "host = '127.0.0.1', port = %d, timeout = 5}; assert(c:recv()) c:close()"):format(delay, port)
  return assert(io.popen(('exec %s -e %s 2>&1'):format(M.shell_quote(M.interpreter()), M.shell_quote(script))))
end

-- A connected TCP trio on host: server, client, and the accepted socket.
function M.tcp_trio(host)
  local inet = require('net.stream.inet')
  local srv, port = M.tcp_server(host)
  local c = assert(inet.client.new { host = host, port = port })
  local a = assert(srv:accept())
  return srv, c, a, port
end

-- A host/port where nothing listens but the port is held: a bound TCP socket
-- that never listens answers a connect with RST (ECONNREFUSED), and no other
-- program can take the port meanwhile. Close the returned holder when done.
function M.refusing_port(host)
  local inet = require('net.stream.inet')
  local holder = assert(inet.server.new { host = host, port = 0 })
  return holder, assert(holder:getsockname()):port()
end

-- Whether this machine has a usable ::1 (IPv6 may be disabled in containers).
function M.has_ipv6()
  local inet = require('net.stream.inet')
  local s = inet.server.new { host = '::1', port = 0 }
  if not s then return false end
  s:close()
  return true
end

-- ----------------------------------------------------------- unix paths --

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end
M.shell_quote = shell_quote

-- A fresh, private temporary directory (mktemp -d); remove with rmdir().
function M.tmpdir()
  local p = assert(io.popen('mktemp -d /tmp/lua-net-spec.XXXXXXXX'))
  local dir = p:read('*l')
  p:close()
  assert(dir and dir:match('^/tmp/lua%-net%-spec%.'), 'mktemp -d failed')
  return dir
end

-- Removes a directory made by tmpdir() and everything in it.
function M.rmdir(dir)
  assert(dir:match('^/tmp/lua%-net%-spec%.[%w]+$'), 'refusing to remove ' .. dir)
  os.execute('rm -rf ' .. shell_quote(dir))
end

-- An unconnected unix datagram sender (non-blocking) to a full queue, its
-- receiver, the receiver's address and how many datagrams filled it: the
-- system says the sender is writable, each sendto "try again". All closed
-- and removed when the test ends.
function M.stuck_sender()
  local dunix = require('net.dgram.unix')
  local dir = M.tmpdir()
  local rx = assert(dunix.new{path = dir .. '/rx', nonblock = true})
  local to = rx:getsockname()
  local tx = assert(dunix.new{nonblock = true})
  M.cleanup(function() M.rmdir(dir) end)
  M.close_at_end(tx, rx)
  local queued = 0
  while tx:sendto('z', to) == 1 do queued = queued + 1 end
  return tx, rx, to, queued
end

-- A unix listener on path whose backlog is full: listen(0), and
-- non-blocking clients queued until the kernel refuses one with EAGAIN
-- (Linux queues one; a blocking connect would sleep until the listener
-- accepts). path: the listener's (nil: one in a temporary folder of its
-- own). Returns the server, the list of queued clients and the path; all
-- closed (and the folder removed) when the test ends. Add to the list what
-- the test accepts, to be closed with them.
function M.full_unix_backlog(path)
  local unix = require('net.stream.unix')
  local dir = not path and M.tmpdir()
  path = path or dir .. '/listener'
  local srv = assert(unix.server.new { path = path })
  assert(srv:listen(0) == nil)
  local queued = {}
  local c, err
  repeat
    c, err = unix.client.new { path = path, nonblock = true }
    queued[#queued + 1] = c
  until not c or #queued > 16
  M.cleanup(function()
    srv:close()
    for _, s in pairs(queued) do s:close() end
    if dir then M.rmdir(dir) end
  end)
  assert(err == net.strerror(-net.EAGAIN), 'the backlog did not fill: ' .. tostring(err))
  return srv, queued, path
end

function M.exists(path)
  local p = assert(io.popen('test -e ' .. shell_quote(path) .. ' && echo yes'))
  local out = p:read('*l')
  p:close()
  return out == 'yes'
end

-- ------------------------------------------------------------- classes --

-- Whether obj is an instance of class or of a subclass (the library's own
-- rule, beside the one that makes classes).
M.is_a = require('net.util.class').is_a

package.loaded['spec.lua.helper'] = M
return M
