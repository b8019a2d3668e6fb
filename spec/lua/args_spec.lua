-- Programming errors raise, with the auxlib's wording; system failures never
-- do. A raise happens before any socket is made: no descriptor leaks.
local net = require('net')
local stream = require('net.stream')
local inet = require('net.stream.inet')
local unix = require('net.stream.unix')
local h = require('spec.lua.helper')

-- Checks that fn(...) raises `expected` and leaves no descriptor behind.
local function raises(expected, fn, ...)
  local before = h.fd_count()
  h.raises(expected, fn, ...)
  assert.are.equal(before, h.fd_count())
end

describe('method arguments', function()
  local a, b

  h.each(h.pair, function(x, y) a, b = x, y end)

  local booleans = {
    'cloexec', 'nonblock', 'reuseport', 'reuseaddr', 'debug', 'dontroute',
    'timestamp', 'broadcast', 'oobinline', 'keepalive', 'tcpnodelay', 'tcpcork',
  }
  local numbers = {
    'rcvbuf', 'rcvlowat', 'sndbuf', 'sndlowat', 'rcvtimeo', 'sndtimeo',
    'tcpkeepalive', 'tcpkeepintvl', 'tcpintvl', 'tcpkeepcnt',
  }

  for _, name in ipairs(booleans) do
    it(name .. ' takes a boolean', function()
      raises("bad argument #1 to '" .. name .. "' (boolean expected, got number)",
        a[name], a, 1)
      raises("bad argument #1 to '" .. name .. "' (boolean expected, got string)",
        a[name], a, 'true')
    end)
  end

  for _, name in ipairs(numbers) do
    it(name .. ' takes a number', function()
      raises("bad argument #1 to '" .. name .. "' (number expected, got string)",
        a[name], a, 'x')
      raises("bad argument #1 to '" .. name .. "' (number expected, got boolean)",
        a[name], a, true)
    end)
  end

  it('rcvbuf("x") raises the auxlib message exactly', function()
    raises("bad argument #1 to 'rcvbuf' (number expected, got string)", a.rcvbuf, a, 'x')
  end)

  it('a wrong argument leaves the option unchanged', function()
    local before = a:rcvbuf()
    pcall(a.rcvbuf, a, 'x')
    assert.are.equal(before, a:rcvbuf())
    assert.is_false(a:nonblock())
    pcall(a.nonblock, a, 1)
    assert.is_false(a:nonblock())
  end)

  it('recv takes a number size and number flags', function()
    raises("bad argument #1 to 'recv' (number expected, got string)", a.recv, a, 'big')
    raises("bad argument #2 to 'recv' (number expected, got string)", a.recv, a, 10, 'peek')
  end)

  it('send takes a string and number flags', function()
    raises("bad argument #1 to 'send' (string, list of strings or net.buffer expected, got table)",
           a.send, a, setmetatable({}, {}))
    raises("bad argument #1 to 'send' (string, list of strings or net.buffer expected, got nil)", a.send, a, nil)
    raises("bad argument #2 to 'send' (number expected, got string)", a.send, a, 'x', 'oob')
    -- Nothing was sent by the failed calls.
    assert.is_true(b:nonblock(true))
    local r = h.pack(b:recv())
    assert.is_nil(r[1]); assert.is_nil(r[2]); assert.is_true(r[3])
  end)

  it('linger takes seconds or false', function()
    local ok, msg = pcall(a.linger, a, 'x')
    assert.is_false(ok)
    assert.is_truthy(tostring(msg):find("bad argument #1 to 'linger' (", 1, true), msg)
    assert.is_false(a:linger())
  end)

  it('listen takes a number backlog', function()
    local srv = assert(inet.server.new { host = '127.0.0.1', port = 0 })
    raises("bad argument #1 to 'listen' (number expected, got string)", srv.listen, srv, 'x')
    assert.is_false(srv:acceptconn())
    srv:close()
  end)

  it('net.wrap takes a number', function()
    raises("bad argument #1 to 'wrap' (number expected, got string)", net.wrap, '3')
  end)

  local NOT_INTEGER = 'number has no integer representation'

  it('a fraction raises the same message on every runtime', function()
    raises("bad argument #1 to 'recv' (" .. NOT_INTEGER .. ')', a.recv, a, 1.5)
    raises("bad argument #2 to 'send' (" .. NOT_INTEGER .. ')', a.send, a, 'x', 0.5)
    raises("bad argument #1 to 'linger' (" .. NOT_INTEGER .. ')', a.linger, a, 1.5)
    raises("bad argument #1 to 'rcvbuf' (" .. NOT_INTEGER .. ')', a.rcvbuf, a, 4096.5)
    raises("bad argument #1 to 'wrap' (" .. NOT_INTEGER .. ')', net.wrap, 1.5)
  end)

  it('a whole number outside a C int is "Invalid argument", never wrapped around', function()
    -- 2^32 + 2 would wrap to MSG_PEEK if truncated to 32 bits.
    local r = h.pack(a:send('x', 2 ^ 32 + 2))
    assert.is_nil(r[1])
    assert.are.equal('Invalid argument', r[2])
    for _, seconds in ipairs { -1, 2 ^ 32 + 5 } do
      r = h.pack(a:linger(seconds))
      assert.is_nil(r[1])
      assert.are.equal('Invalid argument', r[2])
    end
    assert.is_false(a:linger()) -- neither was set
    r = h.pack(a:rcvbuf(2 ^ 40))
    assert.is_nil(r[1])
    assert.are.equal('Invalid argument', r[2])
    -- Nothing was sent by the rejected call: the peer has nothing to read.
    assert.is_true(b:nonblock(true))
    r = h.pack(b:recv())
    assert.is_nil(r[1]); assert.is_nil(r[2]); assert.is_true(r[3])
  end)

  it('listen takes any negative backlog as SOMAXCONN, also one beyond a 64-bit integer', function()
    for _, v in ipairs { -1, -2 ^ 31 - 1, -2 ^ 63, -2 ^ 64, -1e300 } do
      local srv = assert(inet.server.new { host = '127.0.0.1', port = 0 })
      local r = h.pack(pcall(srv.listen, srv, v))
      assert.is_true(r[1], tostring(r[2]))
      assert.is_nil(r[2])
      assert.is_true(srv:acceptconn())
      -- the backlog in effect (ss's Send-Q of a listener): SOMAXCONN, as
      -- the kernel caps it
      local out = h.sh('ss -ltnH "sport = :' .. srv:getsockname():port() .. '"')
      assert.are.equal(math.min(net.SOMAXCONN, h.sysctl('net/core/somaxconn')),
        tonumber(out:match('^%S+%s+%d+%s+(%d+)')), out)
      srv:close()
    end
  end)

  it('a wrong self holding a number beyond a C int never acts on the fd of its low bits', function()
    -- {2^32 + fd} must not read or write fd (the C fast paths of PUC Lua
    -- took its low 32 bits)
    assert.is_true(b:nonblock(true))
    local fake = { 2 ^ 32 + a:fd() }
    assert.are.equal(6, b:send('secret'))
    local r = h.pack(pcall(a.recv, fake))
    assert.is_true(r[1])
    assert.is_nil(r[2])
    assert.are.equal('Bad file descriptor', r[3])
    assert.are.equal('secret', a:recv())
    r = h.pack(pcall(a.send, fake, 'injected'))
    assert.is_true(r[1])
    assert.is_nil(r[2])
    r = h.pack(b:recv())
    assert.is_nil(r[1]); assert.is_nil(r[2]); assert.is_true(r[3]) -- nothing arrived
    r = h.pack(pcall(a.rcvbuf, fake))
    assert.is_true(r[1])
    assert.is_nil(r[2])
    assert.are.equal('Bad file descriptor', r[3])
  end)

  it('close of a table built like a socket raises, changes nothing and closes no fd', function()
    for _, fake in ipairs({ { a:fd() }, { 2 ^ 32 + a:fd() } }) do
      local held = fake[1]
      raises("bad argument #0 to 'close' (net.Socket expected, got table)", a.close, fake)
      assert.are.equal(held, fake[1])
    end
    assert.are.equal(2, a:send('ok')) -- a's fd is open
    assert.are.equal('ok', b:recv())
  end)

  it('net.wrap of a whole float gives a socket whose fd is an integer', function()
    assert.are.equal(1, a:sendfd(a))
    assert(h.readable(b, 5))
    local fd = assert(b:recvfd())
    local s = assert(net.wrap(fd * 1.0))
    assert.are.equal(tostring(fd), tostring(s:fd()))
    assert.are.equal('net.stream.Socket: fd ' .. fd, tostring(s))
    s:close()
  end)

  it('unix.client.new refuses path and host together', function()
    raises("bad argument #1 to 'new' (options 'path' and 'host' name the same thing: give one)",
      unix.client.new, { path = '/nonexistent/a', host = '/nonexistent/b' })
  end)
end)

-- Every constructor that takes an options table, with one valid table each.
local constructors = {
  { 'inet.server.new', inet.server.new, { host = '127.0.0.1', port = 0 } },
  { 'inet.client.new', inet.client.new, { host = '127.0.0.1', port = 1 } },
  { 'unix.server.new', unix.server.new, { path = '/nonexistent/dir/s' } },
  { 'unix.client.new', unix.client.new, { path = '/nonexistent/dir/s' } },
  { 'stream.getaddrinfoin', stream.getaddrinfoin, { host = '127.0.0.1' } },
  { 'stream.getaddrinfoun', stream.getaddrinfoun, { path = '/tmp/x' } },
  { 'stream.pair', stream.pair, {} },
}

local function short_name(full)
  return full:match('([^.]+)$')
end

local function with(base, key, value)
  local t = {}
  for k, v in pairs(base) do t[k] = v end
  t[key] = value
  return t
end

describe('options tables', function()
  for _, c in ipairs(constructors) do
    local label, fn, valid = c[1], c[2], c[3]
    local name = short_name(label)

    it(label .. ' raises on an unknown key (a typo never goes unnoticed)', function()
      raises("bad argument #1 to '" .. name .. "' (unknown option 'hots')",
        fn, with(valid, 'hots', 'x'))
      raises("bad argument #1 to '" .. name .. "' (unknown option 'nonblocking')",
        fn, with(valid, 'nonblocking', true))
    end)

    if label ~= 'stream.pair' then
      it(label .. ' raises when the argument is not a table', function()
        raises("bad argument #1 to '" .. name .. "' (table expected, got nil)", fn, nil)
        raises("bad argument #1 to '" .. name .. "' (table expected, got string)", fn, '127.0.0.1')
      end)
    end
  end

  -- pairs() visits a table's keys in an order that depends on how it was
  -- built (and on LuaJIT and 5.2+ on the run): the fault reported must not.
  it('a table with several faults raises for the same one, however it was built', function()
    local function built(entries, order, filler)
      local t = {}
      for i = 1, filler do t['filler' .. i] = true end -- another hash layout
      for i = 1, filler do t['filler' .. i] = nil end
      for _, i in ipairs(order) do t[entries[i][1]] = entries[i][2] end
      return t
    end
    local cases = {
      { stream.getaddrinfoin, 'getaddrinfoin', { { 'passive', 1 }, { 'host', 1 }, { 'port', 1.5 } },
        "option 'host' must be string, got number" },
      { inet.server.new, 'new', { { 'port', 1.5 }, { 'zzz', 1 }, { 'host', '127.0.0.1' }, { 'bogus', 'rw' } },
        "unknown option 'bogus'" },
    }
    local orders = { { 1, 2, 3, 4 }, { 4, 3, 2, 1 }, { 2, 4, 1, 3 }, { 3, 1, 4, 2 } }
    for _, c in ipairs(cases) do
      local fn, name, entries, expected = c[1], c[2], c[3], c[4]
      for _, order in ipairs(orders) do
        local present = {}
        for _, i in ipairs(order) do
          if entries[i] then present[#present + 1] = i end
        end
        for filler = 0, 12, 3 do
          raises("bad argument #1 to '" .. name .. "' (" .. expected .. ")", fn, built(entries, present, filler))
        end
      end
    end
  end)

  it('stream.pair takes no argument or a table', function()
    local pair = assert(stream.pair())
    pair[1]:close(); pair[2]:close()
    raises("bad argument #1 to 'pair' (table expected, got string)", stream.pair, 'x')
    raises("bad argument #1 to 'pair' (option 'nonblock' must be boolean, got string)",
      stream.pair, { nonblock = 'yes' })
  end)

  it('a typo in a client\'s options never connects', function()
    local srv, port = h.tcp_server('127.0.0.1')
    assert.is_true(srv:nonblock(true))
    raises("bad argument #1 to 'new' (unknown option 'prot')",
      inet.client.new, { host = '127.0.0.1', prot = port })
    local r = h.pack(srv:accept())
    assert.is_nil(r[1]); assert.is_true(r[3]) -- nothing arrived
    srv:close()
  end)

  it('a client without a port raises and connects nowhere', function()
    raises("bad argument #1 to 'new' (option 'port' is required)",
      inet.client.new, { host = '127.0.0.1' })
    raises("bad argument #1 to 'new' (option 'port' is required)",
      inet.client.new, { host = '127.0.0.1', nonblock = true, timeout = 1 })
    raises("bad argument #1 to 'new' (option 'path' is required)", unix.client.new, {})
  end)

  it('port must be a number or a string', function()
    for _, fn in ipairs { inet.server.new, inet.client.new } do
      raises("bad argument #1 to 'new' (option 'port' must be number or string, got table)",
        fn, { host = '127.0.0.1', port = {} })
      raises("bad argument #1 to 'new' (option 'port' must be number or string, got boolean)",
        fn, { host = '127.0.0.1', port = true })
    end
    raises("bad argument #1 to 'getaddrinfoin' (option 'port' must be number or string, got table)",
      stream.getaddrinfoin, { host = '127.0.0.1', port = {} })
  end)

  it('host and path must be strings', function()
    raises("bad argument #1 to 'new' (option 'host' must be string, got table)",
      inet.client.new, { host = {}, port = 1 })
    raises("bad argument #1 to 'new' (option 'host' must be string, got boolean)",
      inet.server.new, { host = true, port = 0 })
    raises("bad argument #1 to 'new' (option 'path' must be string, got number)",
      unix.server.new, { path = 5 })
    raises("bad argument #1 to 'new' (option 'path' must be string, got table)",
      unix.client.new, { path = {} })
    raises("bad argument #1 to 'getaddrinfoun' (option 'path' must be string, got boolean)",
      stream.getaddrinfoun, { path = true })
  end)

  it('boolean options must be booleans', function()
    local cases = {
      { inet.server.new, { host = '127.0.0.1', port = 0 }, { 'nonblock', 'reuseaddr', 'reuseport' } },
      { inet.client.new, { host = '127.0.0.1', port = 1 }, { 'nonblock' } },
      { unix.server.new, { path = '/nonexistent/s' }, { 'nonblock' } },
      { unix.client.new, { path = '/nonexistent/s' }, { 'nonblock' } },
    }
    for _, case in ipairs(cases) do
      for _, key in ipairs(case[3]) do
        raises("bad argument #1 to 'new' (option '" .. key .. "' must be boolean, got string)",
          case[1], with(case[2], key, 'yes'))
        raises("bad argument #1 to 'new' (option '" .. key .. "' must be boolean, got number)",
          case[1], with(case[2], key, 1))
      end
    end
    for _, key in ipairs { 'passive', 'canonname', 'numeric' } do
      raises("bad argument #1 to 'getaddrinfoin' (option '" .. key .. "' must be boolean, got number)",
        stream.getaddrinfoin, { host = '127.0.0.1', [key] = 1 })
    end
    raises("bad argument #1 to 'getaddrinfoun' (option 'passive' must be boolean, got string)",
      stream.getaddrinfoun, { path = '/tmp/x', passive = 'yes' })
  end)

  it('an option given through __index is checked and applied alike', function()
    local openresty = require('net.openresty') -- (its configure runs outside nginx too)
    local cap = openresty.settings().block_cap
    h.cleanup(function() openresty.configure { block_cap = cap } end)
    assert.is_true(openresty.configure(setmetatable({}, { __index = { block_cap = cap + 1 } })))
    assert.are.equal(cap + 1, openresty.settings().block_cap)
    raises("bad argument #1 to 'configure' (option 'block_cap' must be a number of seconds above 0)",
      openresty.configure, setmetatable({}, { __index = { block_cap = -1 } }))
    assert.are.equal(cap + 1, openresty.settings().block_cap)
  end)

  it('the keys of an options table are its own: a __pairs that hides one is not asked', function()
    local opts = setmetatable({ host = '127.0.0.1', prot = 80 }, { __pairs = function(t)
      return function(_, k) if k == nil then return 'host', t.host end end, t, nil
    end })
    raises("bad argument #1 to 'new' (unknown option 'prot')", inet.server.new, opts)
  end)

  it('an unknown key that is no string is named alike on every runtime and run', function()
    raises("bad argument #1 to 'new' (unknown option '9.007199254741e+15')",
      inet.server.new, { host = '127.0.0.1', [2 ^ 53] = 1, ['9.1'] = 1 })
    raises("bad argument #1 to 'new' (unknown option '<table>')",
      inet.server.new, { host = '127.0.0.1', [{}] = 1 })
    raises("bad argument #1 to 'new' (unknown option 'true')",
      inet.server.new, { host = '127.0.0.1', [true] = 1 })
    -- (-0 stays a key of its own on 5.1 and 5.2; 5.3 and LuaJIT store 0)
    raises("bad argument #1 to 'new' (unknown option '0')",
      inet.server.new, { host = '127.0.0.1', [-0.0] = 1 })
  end)

  it('a message quotes a key with a NUL byte whole (5.1 and 5.2 too)', function()
    raises("bad argument #1 to 'new' (unknown option 'port\0x')",
      inet.server.new, { host = '127.0.0.1', ['port\0x'] = 1 })
  end)

  it('host= is an alias for the unix client only', function()
    raises("bad argument #1 to 'new' (unknown option 'host')",
      unix.server.new, { host = '/nonexistent/s' })
  end)

  it('system failures are returned, not raised', function()
    local ok, v, err = pcall(unix.client.new, { path = '/nonexistent/dir/s' })
    assert.is_true(ok)
    assert.is_nil(v)
    assert.are.equal('No such file or directory', err)
  end)
end)
