-- Receive flags never disclose memory (issue 9, defect 1): for every MSG_*
-- flag net exports, alone and with MSG_TRUNC, recv / recvinto (stream
-- sockets: unix pairs and TCP over 127.0.0.1) and the recv / recvfrom /
-- recvinto primitives (UDP on 127.0.0.1 and unix datagrams, sockets made with
-- net.core and owned by net.wrap) never return more bytes than asked, never
-- bytes that were not received, and never leave a buffer longer than its
-- capacity. MSG_TRUNC is refused ("Operation not supported": it would make
-- the count a datagram's full length, or discard TCP bytes uncopied) before
-- anything is read, so the data is still there afterwards.
local net = require('net')
local core = require('net.core')
local buffer = require('net.buffer')
local h = require('spec.lua.helper')

local K = core.constants
local EOPNOTSUPP = net.strerror(-K.EOPNOTSUPP)
local MSG_TRUNC = K.MSG_TRUNC

-- Every receive flag net exports (derived from the constants, so a flag added
-- later is tested too), each alone and with MSG_TRUNC added.
local cases = {}
do
  local names = {}
  for name in pairs(K) do
    if name:match('^MSG_') then names[#names + 1] = name end
  end
  table.sort(names)
  for _, name in ipairs(names) do
    cases[#cases + 1] = { name = name, flags = K[name] }
    if K[name] ~= MSG_TRUNC then
      cases[#cases + 1] = { name = name .. '+MSG_TRUNC', flags = K[name] + MSG_TRUNC }
    end
  end
end

local function has(flags, bit)
  return flags % (2 * bit) >= bit
end

-- Data no earlier case sent: a stale buffer can never pass for it.
local serial = 0
local function fresh(n)
  serial = serial + 1
  return (('<%d>'):format(serial) .. h.blob(n)):sub(1, n)
end

-- What a read of at most `size` bytes with `flags` must give when data (at
-- least size bytes) is waiting: MSG_TRUNC is refused; MSG_OOB finds no urgent
-- byte on a stream or a unix datagram socket (an error whose text the
-- protocol decides) and is ignored by UDP (oob_ignored: the first size bytes);
-- any other flag gives the first size bytes. `got` is the string read or
-- nil, `err` the message.
local function check_read(flags, size, data, got, err, what, oob_ignored)
  if got ~= nil then
    assert(#got <= size, what .. ': ' .. #got .. ' bytes from a read of ' .. size)
    assert(got == data:sub(1, #got), what .. ': bytes that were never received')
  end
  if has(flags, MSG_TRUNC) then
    assert(got == nil and err == EOPNOTSUPP,
      what .. ': expected nil, "' .. EOPNOTSUPP .. '", got ' .. tostring(got) .. ', ' .. tostring(err))
  elseif has(flags, K.MSG_OOB) and not oob_ignored then
    assert(got == nil and type(err) == 'string',
      what .. ': expected an error, got ' .. tostring(got) .. ', ' .. tostring(err))
  else
    assert(got == data:sub(1, size), what .. ': expected the first ' .. size .. ' bytes')
  end
end

-- ------------------------------------------------------ stream sockets --

local function unix_pair()
  local a, b = h.pair()
  return a, b, function() a:close(); b:close() end
end

local function tcp_pair()
  local srv, c, a = h.tcp_trio('127.0.0.1')
  return c, a, function() c:close(); a:close(); srv:close() end
end

local SIZE = 5 -- the issue's recv(5, MSG_TRUNC)
local STREAM_DATA = 4096

for _, kind in ipairs { { 'unix stream pair', unix_pair }, { 'TCP on 127.0.0.1', tcp_pair } } do
  local kind_name, make = kind[1], kind[2]

  -- A connected pair whose receiving end holds STREAM_DATA fresh bytes.
  local function loaded()
    local src, dst, done = make()
    assert(dst:rcvtimeo(5)) -- a read that should not wait fails in 5 s
    local data = fresh(STREAM_DATA)
    h.send_all(src, data)
    assert(h.readable(dst, 5), 'no data for 5 seconds')
    return dst, data, done
  end

  describe('stream recv flags on a ' .. kind_name, function()
    for _, case in ipairs(cases) do
      it('recv(' .. SIZE .. ', ' .. case.name .. ') returns only received bytes, at most ' .. SIZE, function()
        local dst, data, done = loaded()
        local got, err = dst:recv(SIZE, case.flags)
        check_read(case.flags, SIZE, data, got, err, 'recv')
        if has(case.flags, MSG_TRUNC) then -- refused: nothing was read
          assert.are.equal(data:sub(1, SIZE), dst:recv(SIZE))
        end
        done()
      end)

      it('recvinto(buf, ' .. SIZE .. ', ' .. case.name .. ') appends only received bytes', function()
        local dst, data, done = loaded()
        local buf = assert(buffer.new(2 * SIZE))
        local n, err = dst:recvinto(buf, SIZE, case.flags)
        assert.is_true(buf:len() <= buf:capacity())
        assert.are.equal(n or 0, buf:len())
        check_read(case.flags, SIZE, data, n and buf:tostring(), err, 'recvinto')
        if has(case.flags, MSG_TRUNC) then
          assert.are.equal(SIZE, dst:recvinto(buf, SIZE))
          assert.are.equal(data:sub(1, SIZE), buf:tostring())
        end
        done()
      end)

      it('recvinto(buf, nil, ' .. case.name .. ') never fills past the capacity', function()
        local dst, data, done = loaded()
        local buf = assert(buffer.new(SIZE)) -- all the room: SIZE bytes
        local n, err = dst:recvinto(buf, nil, case.flags)
        assert.is_true(buf:len() <= buf:capacity())
        assert.are.equal(n or 0, buf:len())
        check_read(case.flags, SIZE, data, n and buf:tostring(), err, 'recvinto')
        done()
      end)
    end
  end)
end

-- ------------------------------------------------ datagram primitives --

-- The largest datagram the loopback carries: UDP over IPv4, 65535 - 28.
local BIG = 65507

-- Two datagram sockets (made with net.core, owned by net.wrap) with a BIG
-- fresh datagram waiting at the second: UDP on 127.0.0.1 or a unix pair.
local function udp()
  local any = core.getaddrinfo('127.0.0.1', '0', K.AF_INET, K.SOCK_DGRAM, 0,
                               K.AI_NUMERICHOST + K.AI_NUMERICSERV)[1].addr
  local s = assert(net.wrap(core.sock_open(K.AF_INET, K.SOCK_DGRAM, 0, 0)))
  local r = assert(net.wrap(core.sock_open(K.AF_INET, K.SOCK_DGRAM, 0, 0)))
  assert.are.equal(0, core.sock_bind(r:fd(), any))
  return s, r, core.sock_getsockname(r:fd())
end

local function unix_dgram()
  local a, b = core.sock_pair(K.AF_UNIX, K.SOCK_DGRAM, 0, 0)
  return assert(net.wrap(a)), assert(net.wrap(b)), nil
end

for _, kind in ipairs { { 'UDP on 127.0.0.1', udp }, { 'unix datagram pair', unix_dgram } } do
  local kind_name, make = kind[1], kind[2]

  local function loaded()
    local s, r, to = make()
    assert(r:rcvtimeo(5))
    local data = fresh(BIG)
    assert.are.equal(BIG, core.sock_sendto(s:fd(), data, 0, to))
    assert(h.readable(r, 5), 'no datagram for 5 seconds')
    return r:fd(), data, function() s:close(); r:close() end
  end

  -- A primitive's result as (string or nil, message or nil).
  local function as_read(v)
    if type(v) == 'string' then return v end
    return nil, net.strerror(v)
  end

  local primitives = {
    sock_recvdgram = function(fd, size, flags)
      local v, from = core.sock_recvdgram(fd, size, flags)
      if type(v) == 'string' then assert(from ~= nil, 'recvfrom gave no address') end
      return as_read(v)
    end,
    sock_recv = function(fd, size, flags)
      return as_read(core.sock_recv(fd, size, flags))
    end,
    -- Into buffer memory with room to spare after the range: nothing past
    -- it may be written.
    sock_recvinto = function(fd, size, flags)
      local SPARE = 64
      local mem = core.buffer_new(size + SPARE)
      local n = core.sock_recvinto(fd, mem, 0, size, flags)
      assert(n < 0 or n <= size, 'recvinto counted ' .. n .. ' bytes into ' .. size)
      assert.are.equal(('\0'):rep(SPARE), core.buffer_string(mem, size, SPARE))
      if n < 0 then return nil, net.strerror(n) end
      return core.buffer_string(mem, 0, n)
    end,
  }

  describe('datagram primitives on a ' .. kind_name, function()
    for _, fname in ipairs { 'sock_recvdgram', 'sock_recv', 'sock_recvinto' } do
      local read = primitives[fname]
      for _, size in ipairs { 8, 8192 } do
        for _, case in ipairs(cases) do
          it(('%s(%d, %s) of a %d-byte datagram returns only received bytes'):format(
            fname, size, case.name, BIG), function()
            local fd, data, done = loaded()
            local got, err = read(fd, size, case.flags)
            check_read(case.flags, size, data, got, err, fname, kind_name:match('^UDP') ~= nil)
            if has(case.flags, MSG_TRUNC) then -- refused: the datagram is still queued
              assert.are.equal(data:sub(1, size), (read(fd, size, 0)))
            end
            done()
          end)
        end
      end
    end
  end)
end
