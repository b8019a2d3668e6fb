-- spec/soak/soak.lua — a bounded soak (meson suite 'soak'): 100,000 TCP
-- connections over 127.0.0.1 opened, accepted and closed, then 1 GiB through
-- 100 concurrent non-blocking connections driven by a readiness loop. The
-- process's open descriptors must be the same before and after, and its
-- resident memory (VmRSS) must not grow by more than RSS_SLACK: a leak of one
-- descriptor, one socket object or 100 bytes per connection shows. Stops by
-- itself: every wait is bounded and the whole run has a deadline.
local net = require('net')
local core = require('net.core')
local inet = require('net.stream.inet')

local CONNECTIONS = tonumber(os.getenv('SOAK_CONNECTIONS')) or 100000
local STREAMS = 100
local TOTAL = 1024 * 1024 * 1024
local CHUNK = 256 * 1024
-- RSS may move by what the allocator keeps cached between rounds; a leak of
-- 100 bytes per connection would be ~10 MiB.
local RSS_SLACK = 8 * 1024 * 1024
local DEADLINE = core.now() + 110

local function check_time(what)
  assert(core.now() < DEADLINE, what .. ': the soak ran out of time')
end

local function pid()
  local f = assert(io.open('/proc/self/stat'))
  local n = assert(f:read('*n'))
  f:close()
  return n
end

-- Descriptors open in this process (listed by a child: /proc/<pid>/fd).
local count_fds = dofile((arg[0]:match('^(.*/)') or './') .. '../proc_fds.lua')
local function fd_count()
  return count_fds('/proc/' .. pid() .. '/fd')
end

local function rss()
  local f = assert(io.open('/proc/self/status'))
  local kb = f:read('*a'):match('VmRSS:%s*(%d+) kB')
  f:close()
  return assert(tonumber(kb)) * 1024
end

-- On LuaJIT a compiled trace may hold a closure as a constant, and so the
-- sockets among its upvalues, until the trace goes (doc/reference.md):
-- flushed first, a dropped socket is as collectable as on PUC Lua. (Without
-- it a warm-up socket held so through the baseline's collections closed
-- later, and the count fell: 6 -> 5.)
local function settle()
  if jit then jit.flush() end
  collectgarbage('collect')
  collectgarbage('collect')
end

local server = assert(inet.server.new{host = '127.0.0.1'})
assert(server:listen() == nil)
local port = assert(server:getsockname()):port()

-- Opens, accepts and closes n connections, one at a time. The client sends
-- RST on close (linger 0): 100,000 TIME_WAIT entries would use up the
-- ephemeral ports, which says nothing about this library.
local function connections(n)
  for i = 1, n do
    local c = assert(inet.client.new{host = '127.0.0.1', port = port})
    local a = assert(server:accept())
    assert(c:linger(0) == 0)
    if i % 2 == 0 then -- half closed explicitly, half left to the collector
      assert(c:close() == nil)
      assert(a:close() == nil)
    end
    if i % 10000 == 0 then check_time('connections') end
  end
end

-- Moves TOTAL bytes through STREAMS connections at once: every sender is
-- fed while the kernel takes bytes, every receiver drained; when a round
-- moves nothing, waits (bounded) for the first unfinished receiver.
local function bulk()
  local payload = string.rep('0123456789abcdef', CHUNK / 16)
  local per = math.floor(TOTAL / STREAMS)
  local streams = {}
  for i = 1, STREAMS do
    local c = assert(inet.client.new{host = '127.0.0.1', port = port})
    local a = assert(server:accept())
    assert(c:nonblock(true) == true and a:nonblock(true) == true)
    streams[i] = {src = c, dst = a, left = per + (i <= TOTAL - per * STREAMS and 1 or 0),
                  owed = 0, pending = nil}
  end
  local moved, open = 0, STREAMS
  while open > 0 do
    local progress = false
    for _, s in ipairs(streams) do
      if s.left > 0 then
        local piece = s.pending or (s.left >= CHUNK and payload or payload:sub(1, s.left))
        local n, err = s.src:send(piece)
        assert(n, err)
        if n > 0 then
          progress = true
          s.left, s.owed = s.left - n, s.owed + n
          s.pending = n < #piece and piece:sub(n + 1) or nil
        end
      end
      if s.owed > 0 then
        local got, err, again = s.dst:recv(CHUNK)
        if got then
          progress = true
          s.owed, moved = s.owed - #got, moved + #got
          if s.left == 0 and s.owed == 0 then open = open - 1 end
        else
          assert(again, err or 'a connection ended early')
        end
      end
    end
    if not progress then
      for _, s in ipairs(streams) do
        if s.owed > 0 then
          assert(core.poll_fd(s.dst:fd(), net.POLLIN, 5) > 0, 'no data for 5 s')
          break
        end
      end
      check_time('bulk')
    end
  end
  for _, s in ipairs(streams) do
    assert(s.dst:recv(1) == nil) -- nothing more than was sent
    s.src:close(); s.dst:close()
  end
  return moved
end

-- A warm-up round first, so the baseline includes what any run allocates
-- once (the interpreter's tables, the library's buffers, the allocator's
-- arenas).
connections(1000)
bulk()
settle()
-- The baseline holds once two counts agree: a warm-up socket dropped a
-- moment ago may outlive one settle (see below) and close later, which
-- would read as a count that fell.
local fds0 = fd_count()
for _ = 1, 3 do
  settle()
  local n = fd_count()
  if n == fds0 then break end
  fds0 = n
end
local rss0 = rss()
local t0 = core.now()
connections(CONNECTIONS)
local t1 = core.now()
local moved = bulk()
local t2 = core.now()
settle()
local fds1, rss1 = fd_count(), rss()
-- A socket dropped a moment ago may still sit in a dead stack slot of the
-- JIT, out of reach of one collection: settle again (a leak stays open
-- through any number of them).
for _ = 1, 3 do
  if fds1 == fds0 then break end
  settle()
  fds1 = fd_count()
end
server:close()
print(('soak: %d connections in %.1f s; %d bytes through %d connections in %.1f s')
  :format(CONNECTIONS, t1 - t0, moved, STREAMS, t2 - t1))
print(('soak: fds %d -> %d; RSS %.1f -> %.1f MiB (slack %.1f MiB)')
  :format(fds0, fds1, rss0 / 2^20, rss1 / 2^20, RSS_SLACK / 2^20))
assert(moved == TOTAL, 'moved ' .. moved)
assert(fds1 == fds0, 'descriptors leaked: ' .. fds0 .. ' -> ' .. fds1)
assert(rss1 - rss0 <= RSS_SLACK, 'RSS grew by ' .. (rss1 - rss0) .. ' bytes')
print('soak: ok')
