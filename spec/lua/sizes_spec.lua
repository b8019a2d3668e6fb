-- The largest sizes the reference documents hold on every runtime (issue 9,
-- defect 7: LuaJIT with net.capi raised "userdata length overflow" for
-- recv(2^31-1) and buffer.new(2^31-1)). recv accepts any bufsize up to
-- 2^31-1 and costs no more than the bytes that arrive; a buffer's capacity
-- goes up to 2^31-256 (LuaJIT's largest userdata and string), and above it
-- new() returns nil, "Invalid argument" instead of raising.
local net = require('net')
local core = require('net.core')
local buffer = require('net.buffer')
local h = require('spec.lua.helper')

local K = core.constants
local EINVAL = net.strerror(-K.EINVAL)
local INT_MAX = 0x7fffffff -- 2^31 - 1, an integer on 5.3+
local MAX_CAPACITY = 0x7fffff00 -- 2^31 - 256, doc/reference.md

describe('recv with the largest bufsize', function()
  it('recv(2^31-1) returns the bytes that are there', function()
    local a, b = h.pair()
    assert.are.equal(5, a:send('hello'))
    assert(h.readable(b, 5))
    local r = h.pack(pcall(b.recv, b, INT_MAX))
    assert(r[1], 'recv(2^31-1) raised: ' .. tostring(r[2]))
    assert.are.equal('hello', r[2])
    -- and with flags given (the full Lua method on every backend)
    assert.are.equal(3, a:send('abc'))
    assert(h.readable(b, 5))
    assert.are.equal('abc', b:recv(INT_MAX, net.MSG_PEEK))
    assert.are.equal('abc', b:recv(INT_MAX, 0))
    a:close()
    b:close()
  end)

  it('the recvfrom primitive takes 2^31-1 on a UDP socket', function()
    local ai = core.getaddrinfo('127.0.0.1', '0', K.AF_INET, K.SOCK_DGRAM, 0,
                                K.AI_NUMERICHOST + K.AI_NUMERICSERV)[1]
    local s = assert(net.wrap(core.sock_open(K.AF_INET, K.SOCK_DGRAM, 0, 0)))
    local r = assert(net.wrap(core.sock_open(K.AF_INET, K.SOCK_DGRAM, 0, 0)))
    assert.are.equal(0, core.sock_bind(r:fd(), ai.addr))
    assert.are.equal(4, core.sock_sendto(s:fd(), 'ping', 0, core.sock_getsockname(r:fd())))
    assert(h.readable(r, 5))
    local ok, data, from = pcall(core.sock_recvdgram, r:fd(), INT_MAX, 0)
    assert(ok, 'sock_recvdgram(2^31-1) raised: ' .. tostring(data))
    assert.are.equal('ping', data)
    assert.are.equal(core.addr_port(core.sock_getsockname(s:fd())), core.addr_port(from))
    s:close()
    r:close()
  end)

  it('every receiving method takes the sizes just below 2^31 (no header on a one-off buffer)', function()
    local dgram = require('net.dgram')
    local a, b = h.pair()
    for _, size in ipairs({MAX_CAPACITY - 8, MAX_CAPACITY - 7, MAX_CAPACITY, INT_MAX}) do
      assert.are.equal(3, a:send('big'))
      assert(h.readable(b, 5))
      assert.are.same({'big'}, {b:recv(size)})
    end
    assert.are.equal(2, a:sendfd(a, 'fd'))
    assert(h.readable(b, 5))
    local fd, err, _, str = b:recvfd(INT_MAX)
    assert.are.same({'number', 'fd'}, {type(fd), str}, err)
    assert(net.wrap(fd)):close()
    local d = assert(dgram.pair())
    assert.are.equal(2, d[1]:send('dg'))
    assert.are.equal('dg', (d[2]:recv(INT_MAX)))
    assert.are.equal(2, d[1]:send('dg'))
    assert.are.equal('dg', (d[2]:recvfrom(INT_MAX)))
    for _, s in ipairs({a, b, d[1], d[2]}) do s:close() end
  end)

  it('a huge receive gives its buffer back when it returns, not to the collector', function()
    -- Lua 5.1's collector does a fixed amount of work per step, whatever an
    -- allocation's size: buffers left to it piled up by gigabytes
    local function vm_kib()
      local f = assert(io.open('/proc/self/status', 'r'))
      local kib = tonumber(f:read('*a'):match('VmSize:%s*(%d+)'))
      f:close()
      return kib
    end
    local a, b = h.pair()
    collectgarbage('stop')
    local before = vm_kib()
    for _ = 1, 6 do
      assert.are.equal(3, a:send('big'))
      assert(h.readable(b, 5))
      assert.are.equal('big', b:recv(INT_MAX))
    end
    local grown = vm_kib() - before
    collectgarbage('restart')
    a:close()
    b:close()
    assert.is_true(grown < 1024 * 1024, ('%d KiB more address space'):format(grown))
  end)

  it('without the memory for a huge receive: nil, "Cannot allocate memory", nothing lost', function()
    if (os.getenv('LD_PRELOAD') or ''):find('libasan', 1, true) then
      return pending('AddressSanitizer needs an address space of its own: not limited here')
    end
    -- a child whose address space (ulimit -v, 1.5 GiB) has no room for 2 GiB
    local file = os.tmpname()
    local f = assert(io.open(file, 'w'))
    f:write([[
      local h = require('spec.lua.helper')
      local dgram = require('net.dgram')
      local BIG = 2^31 - 1
      local function show(...)
        local t = {}
        for i = 1, select('#', ...) do t[i] = tostring((select(i, ...))) end
        io.write(table.concat(t, ','), '\n')
      end
      local a, b = h.pair()
      a:send('x')
      show(b:recv(BIG))
      show(b:recv(BIG, 0))
      show(b:recv(10))
      local d = assert(dgram.pair())
      d[1]:send('y')
      show(d[2]:recv(BIG))
      show(d[2]:recvfrom(BIG))
      show(d[2]:recvfd(BIG))
      show(d[2]:recv())
    ]])
    f:close()
    local p = assert(io.popen('ulimit -v 1500000 && exec ' .. h.interpreter() .. ' ' .. file .. ' 2>&1'))
    local out = p:read('*a')
    p:close()
    os.remove(file)
    local ENOMEM = net.strerror(-K.ENOMEM)
    assert.are.equal(table.concat({
      'nil,' .. ENOMEM, 'nil,' .. ENOMEM, 'x', -- the byte is still there
      'nil,' .. ENOMEM, 'nil,' .. ENOMEM, 'nil,' .. ENOMEM, -- as a stream's: nil, err
      'y,nil,nil,nil', -- and so is the datagram
    }, '\n') .. '\n', out)
  end)

  it('above 2^31-1 is still nil, "Invalid argument"', function()
    local a, b = h.pair()
    local r = h.pack(b:recv(INT_MAX + 1))
    assert.are.equal(2, r.n)
    assert.is_nil(r[1])
    assert.are.equal(EINVAL, r[2])
    a:close()
    b:close()
  end)
end)

describe('buffer.new at the largest capacity', function()
  it('above 2^31-256 returns nil, "Invalid argument" and never raises', function()
    for _, size in ipairs { MAX_CAPACITY + 1, INT_MAX } do
      local r = h.pack(pcall(buffer.new, size))
      assert(r[1], 'buffer.new(' .. size .. ') raised: ' .. tostring(r[2]))
      assert.are.equal(3, r.n)
      assert.is_nil(r[2])
      assert.are.equal(EINVAL, r[3])
    end
  end)

  it('2^31-256 itself is a buffer of that capacity', function()
    -- 2 GiB of zeroed memory for a moment: released before the next test.
    local buf = assert(buffer.new(MAX_CAPACITY))
    assert.are.equal(MAX_CAPACITY, buf:capacity())
    assert.are.equal(0, buf:len())
    assert.are.equal(MAX_CAPACITY, buf:room())
    buf = nil -- luacheck: ignore 311
    collectgarbage()
    collectgarbage()
  end)
end)
