-- Issue 9's defects 2, 3, 5, 8, 9, 10 and 11, each as it showed: NULs in
-- host names and services, numeric services above 65535, literals and the
-- resolver, "Too many open files" from the resolver, IPv6 zones, strerror's
-- and addrinfo's bad input, send(''). The bad-input matrix over the whole
-- API is spec/lua/matrix_spec.lua.
local net = require('net')
local core = require('net.core')
local stream = require('net.stream')
local inet = require('net.stream.inet')
local h = require('spec.lua.helper')

local K = core.constants
local PORT_RANGE = "option 'port' must be an integer from 0 to 65535"
-- The getaddrinfo message for a service that names no port, as the system
-- says it (a code the C library gives, read through net.strerror).
local function eai_message(name)
  return net.strerror(K[name])
end

describe('a NUL byte in a host or a service (defect 2)', function()
  local NUL_HOST = "option 'host' must not contain a NUL byte"
  local NUL_PORT = "option 'port' must not contain a NUL byte"

  it('raises before anything is resolved, on every resolving entry point', function()
    for _, getaddrinfoin in ipairs({stream.getaddrinfoin, require('net.dgram').getaddrinfoin}) do
      h.raises("bad argument #1 to 'getaddrinfoin' (" .. NUL_HOST .. ')',
        getaddrinfoin, {host = '127.0.0.1\0.example.com', port = 80})
      h.raises("bad argument #1 to 'getaddrinfoin' (" .. NUL_PORT .. ')',
        getaddrinfoin, {host = '127.0.0.1', port = '80\0x'})
    end
    local before = h.fd_count()
    for _, new in ipairs({inet.server.new, inet.client.new, require('net.dgram.inet').new}) do
      h.raises("bad argument #1 to 'new' (" .. NUL_HOST .. ')',
        new, {host = '127.0.0.1\0.example.com', port = 80})
      h.raises("bad argument #1 to 'new' (" .. NUL_HOST .. ')', new, {host = '\0', port = 80})
      h.raises("bad argument #1 to 'new' (" .. NUL_PORT .. ')', new, {host = '127.0.0.1', port = '80\0x'})
    end
    assert.are.equal(before, h.fd_count())
  end)

  it('a client never connects to the part before the NUL', function()
    local srv, port = h.tcp_server('127.0.0.1', {nonblock = true})
    local ok = pcall(inet.client.new, {host = '127.0.0.1\0.example.com', port = port})
    assert.is_false(ok)
    local s, err, again = srv:accept()
    assert.are.same({nil, nil, true}, {s, err, again})
    srv:close()
  end)

  it('the primitive refuses it too (-EINVAL), on both backends', function()
    local SS = K.SOCK_STREAM
    assert.are.equal(-K.EINVAL, core.getaddrinfo('127.0.0.1\0.example.com', '80', 0, SS, 0, 0))
    assert.are.equal(-K.EINVAL, core.getaddrinfo('127.0.0.1', '80\0', 0, SS, 0, 0))
    assert.are.equal(-K.EINVAL, core.getaddrinfo('\0', nil, 0, SS, 0, 0))
    -- the same strings without the NUL resolve
    assert.are.equal('table', type(core.getaddrinfo('127.0.0.1', '80', 0, SS, 0, 0)))
  end)
end)

describe('numeric services (defect 3)', function()
  it('a string of digits above 65535 raises like the number would', function()
    for _, port in ipairs({'65536', '65537', '99999', '4294967376', '000000065536',
                           ('9'):rep(400)}) do
      h.raises("bad argument #1 to 'getaddrinfoin' (" .. PORT_RANGE .. ')',
        stream.getaddrinfoin, {host = '127.0.0.1', port = port})
      assert.is_false(pcall(inet.server.new, {host = '127.0.0.1', port = port}))
      assert.is_false(pcall(inet.client.new, {host = '127.0.0.1', port = port}))
    end
  end)

  it('digit strings in range are those ports', function()
    for port, want in pairs({['0'] = 0, ['80'] = 80, ['0080'] = 80, ['65535'] = 65535}) do
      local ais = assert(stream.getaddrinfoin {host = '127.0.0.1', port = port})
      assert.are.equal(want, ais[1]:port())
    end
  end)

  it('a server on port "65535" binds 65535 or fails, never another port', function()
    local srv = inet.server.new {host = '127.0.0.1', port = '65535'}
    if srv then
      assert.are.equal(65535, assert(srv:getsockname()):port())
      srv:close()
    end
  end)

  it('a service the resolver reads as a number but is no plain port is refused by libnet', function()
    for _, port in ipairs({'-1', '+80', ' 80'}) do
      local ais, err = stream.getaddrinfoin {host = '127.0.0.1', port = port}
      assert.is_nil(ais)
      assert.are.equal(eai_message('EAI_SERVICE'), err)
    end
    -- below the Lua layer too: the primitive gets libnet's code
    for _, service in ipairs({'65536', '99999', '4294967376'}) do
      assert.are.equal(K.EAI_SERVICE,
        core.getaddrinfo('127.0.0.1', service, 0, K.SOCK_STREAM, 0, 0))
    end
  end)
end)

-- A snippet in a child under a lowered descriptor limit (helper.lua).
local run_limited = h.run_limited

describe('with every descriptor in use (defects 8 and 5)', function()
  it('a name is "Too many open files", a literal still resolves', function()
    local out = run_limited(16, [[
      local stream = require('net.stream')
      local held = {}
      while true do
        local s = stream.pair()
        if not s then break end
        held[#held + 1] = s
      end
      -- a pair takes two: the last free descriptor, if any, one by one
      local files = {}
      while true do
        local f = io.open('/dev/null', 'r')
        if not f then break end
        files[#files + 1] = f
      end
      local function show(host)
        local ais, err = stream.getaddrinfoin {host = host, port = 80}
        io.write(host, '=', ais and ais[1]:addr() or ('nil ' .. tostring(err)), '\n')
      end
      show('localhost')
      show('127.0.0.1')
      show('::1')
      for _, pair in ipairs(held) do pair[1]:close() pair[2]:close() end
      for _, f in ipairs(files) do f:close() end
      show('localhost')
    ]])
    local lines = {}
    for line in out:gmatch('[^\n]+') do lines[#lines + 1] = line end
    assert.are.same({
      'localhost=nil Too many open files',
      '127.0.0.1=127.0.0.1',
      '::1=::1',
      lines[4]:match('^localhost=[%x:.]+$') and lines[4] or 'localhost=an address',
    }, lines)
  end)

  it('a sendto that must pause still keeps its deadline (no "Too many open files")', function()
    -- an unconnected unix datagram sender to a full queue polls ready yet
    -- cannot send: the tries pause between them, and a pause of the default
    -- waiter wants a quiet descriptor, of which none is left
    local dir = h.tmpdir()
    h.cleanup(function() h.rmdir(dir) end)
    local out = run_limited(16, ([[
      local stream = require('net.stream')
      local dunix = require('net.dgram.unix')
      local now = require('net.core').now -- (no descriptor is left to load it later)
      local rx = assert(dunix.new{path = %q})
      local to = rx:getsockname()
      local tx = assert(dunix.new{nonblock = true})
      while tx:sendto('z', to) == 1 do end
      local held, files = {}, {}
      while true do
        local s = stream.pair()
        if not s then break end
        held[#held + 1] = s
      end
      while true do
        local f = io.open('/dev/null', 'r')
        if not f then break end
        files[#files + 1] = f
      end
      assert(tx:nonblock(false) == false and tx:settimeout(0.1))
      local t0 = now()
      local n, err, again = tx:sendto('z', to)
      local took = now() - t0
      io.write(tostring(n), ' ', tostring(err), ' ', tostring(again), ' ',
               tostring(took >= 0.09 and took < 1 or took), '\n')
    ]]):format(dir .. '/rx'))
    assert.are.equal('0 nil true true\n', out) -- its deadline's 0.1 s, not given up at once
  end)
end)

describe('IPv6 zones (defect 9)', function()
  local function lo_index()
    local f = io.open('/sys/class/net/lo/ifindex', 'r')
    if not f then return nil end
    local n = f:read('*n')
    f:close()
    return n
  end

  it('a zone is kept in the text of an address', function()
    local ai = assert(stream.getaddrinfoin {host = 'fe80::1%lo', port = 80})[1]
    assert.are.equal(K.AF_INET6, ai:family())
    assert.are.equal('fe80::1%lo', ai:addr())
    assert.are.equal('[fe80::1%lo]:80', tostring(ai))
  end)

  it('a numeric zone reads back as the interface name', function()
    local n = lo_index()
    if not n then return pending('no /sys/class/net/lo/ifindex') end
    local ai = assert(stream.getaddrinfoin {host = 'fe80::1%' .. n, port = 80, numeric = true})[1]
    assert.are.equal('fe80::1%lo', ai:addr())
  end)

  it('what addr() writes for any scope is read back, and reaches the address', function()
    -- the C library reads an interface name in a zone for link-local
    -- addresses only; lua-net writes one for every scope
    for _, host in ipairs({'::1%lo', '::ffff:127.0.0.1%lo', '2001:db8::1%lo'}) do
      local ai = assert(stream.getaddrinfoin {host = host, port = 80})[1]
      assert.are.equal(host, ai:addr())
      assert.are.equal(host, assert(stream.getaddrinfoin {host = ai:addr(), port = 80})[1]:addr())
    end
    if not h.has_ipv6() then return pending('no usable ::1 here') end
    local srv = assert(inet.server.new {host = '::1', port = 0})
    assert.is_nil(srv:listen())
    local client = assert(inet.client.new {host = '::1%lo', port = srv:getsockname():port()})
    local conn = assert(srv:accept())
    assert.are.equal(client:getsockname():port(), conn:getpeername():port())
    client:close(); conn:close(); srv:close()
  end)

  it('an address without a zone has none', function()
    assert.are.equal('fe80::1', assert(stream.getaddrinfoin {host = 'fe80::1', port = 80})[1]:addr())
    assert.are.equal('::1', assert(stream.getaddrinfoin {host = '::1', port = 80})[1]:addr())
  end)
end)

describe('strerror and addrinfo on bad input (defect 10)', function()
  it('net.strerror raises for anything but a whole number', function()
    h.raises("bad argument #1 to 'strerror' (number has no integer representation)", net.strerror, 1.5)
    h.raises("bad argument #1 to 'strerror' (number has no integer representation)", net.strerror, 0 / 0)
    h.raises("bad argument #1 to 'strerror' (number has no integer representation)", net.strerror, math.huge)
    h.raises("bad argument #1 to 'strerror' (number expected, got string)", net.strerror, '5')
    h.raises("bad argument #1 to 'strerror' (number expected, got nil)", net.strerror)
  end)

  it('net.strerror names codes, and beyond a C int nothing', function()
    assert.are.equal('Connection refused', net.strerror(-K.ECONNREFUSED))
    assert.are.equal('Connection refused', net.strerror(K.ECONNREFUSED))
    assert.are.equal(eai_message('EAI_NONAME'), net.strerror(K.EAI_NONAME))
    for _, code in ipairs({2 ^ 31, 2 ^ 53, 2 ^ 63, -2 ^ 31 - 1, -2 ^ 53, -2 ^ 63,
                           2147483647, -2147483648}) do
      assert.are.equal('Unknown error', net.strerror(code))
    end
  end)

  it('an addrinfo method on something else raises on both backends', function()
    local ai = assert(stream.getaddrinfoin {host = '127.0.0.1', port = 80})[1]
    for _, name in ipairs({'addr', 'port', 'family', 'socktype', 'protocol', 'canonname'}) do
      h.raises("bad argument #0 to '" .. name .. "' (net.addrinfo expected, got table)", ai[name], {})
      h.raises("bad argument #0 to '" .. name .. "' (net.addrinfo expected, got nil)", ai[name])
    end
  end)
end)

describe("send('') (defect 11)", function()
  it('returns 0 and sends nothing on a stream', function()
    local pair = assert(stream.pair {nonblock = true})
    local a, b = pair[1], pair[2]
    assert.are.same({n = 1, 0}, h.pack(a:send('')))
    assert.are.same({n = 3, nil, nil, true}, h.pack(b:recv()))
    assert.are.equal(1, a:send('x'))
    assert.are.equal('x', b:recv())
    a:close()
    b:close()
  end)
end)
