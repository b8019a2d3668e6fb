-- net.stream.getaddrinfoin / getaddrinfoun and the addrinfo methods. Only
-- literals, the empty host and "localhost" (from /etc/hosts) are resolved:
-- no test depends on DNS.
local net = require('net')
local stream = require('net.stream')
local unix = require('net.stream.unix')
local h = require('spec.lua.helper')

describe('stream.getaddrinfoin', function()
  it('resolves 127.0.0.1 to one stream record', function()
    local ais = assert(stream.getaddrinfoin { host = '127.0.0.1', port = 8080 })
    assert.are.equal(1, #ais)
    local ai = ais[1]
    assert.are.equal(net.AF_INET, ai:family())
    assert.are.equal(net.SOCK_STREAM, ai:socktype())
    assert.are.equal(net.IPPROTO_TCP, ai:protocol())
    assert.are.equal('127.0.0.1', ai:addr())
    assert.are.equal(8080, ai:port())
    assert.are.equal('127.0.0.1:8080', tostring(ai))
    assert.is_nil(ai:canonname())
  end)

  it('resolves ::1 and prints it in brackets', function()
    local ais = assert(stream.getaddrinfoin { host = '::1', port = 443 })
    assert.are.equal(1, #ais)
    assert.are.equal(net.AF_INET6, ais[1]:family())
    assert.are.equal(net.SOCK_STREAM, ais[1]:socktype())
    assert.are.equal('::1', ais[1]:addr())
    assert.are.equal(443, ais[1]:port())
    assert.are.equal('[::1]:443', tostring(ais[1]))
  end)

  it('takes the port as a string and as a number alike', function()
    local ais = assert(stream.getaddrinfoin { host = '127.0.0.1', port = '65535' })
    assert.are.equal(65535, ais[1]:port())
    assert.are.equal('127.0.0.1:65535', tostring(ais[1]))
  end)

  it('no port means port 0', function()
    local ais = assert(stream.getaddrinfoin { host = '127.0.0.1' })
    assert.are.equal(0, ais[1]:port())
  end)

  it('an empty port is no port: the resolver would read it as 0', function()
    -- an unset setting must not bind a random port without a word
    local ais, err = stream.getaddrinfoin { host = '127.0.0.1', port = '' }
    assert.is_nil(ais)
    assert.are.equal(net.strerror(net.EAI_SERVICE), err)
    local srv, serr = require('net.stream.inet').server.new { host = '127.0.0.1', port = '' }
    assert.is_nil(srv)
    assert.are.equal(net.strerror(net.EAI_SERVICE), serr)
    local sock, derr = require('net.dgram.inet').new { host = '127.0.0.1', port = '' }
    assert.is_nil(sock)
    assert.are.equal(net.strerror(net.EAI_SERVICE), derr)
  end)

  it('passive without host gives the any addresses', function()
    local ais = assert(stream.getaddrinfoin { passive = true, port = 9 })
    assert.is_true(#ais >= 1)
    for _, ai in ipairs(ais) do
      local any = ai:family() == net.AF_INET and '0.0.0.0' or '::'
      assert.are.equal(any, ai:addr())
      assert.are.equal(9, ai:port())
      assert.are.equal(net.SOCK_STREAM, ai:socktype())
    end
  end)

  it('not passive and without host gives the loopback addresses', function()
    local ais = assert(stream.getaddrinfoin { port = 9 })
    assert.is_true(#ais >= 1)
    for _, ai in ipairs(ais) do
      local lo = ai:family() == net.AF_INET and '127.0.0.1' or '::1'
      assert.are.equal(lo, ai:addr())
    end
  end)

  it('canonname = true fills the first record\'s canonical name', function()
    local ais = assert(stream.getaddrinfoin { host = 'localhost', port = 80, canonname = true })
    assert.are.equal('localhost', ais[1]:canonname())
    for i = 2, #ais do assert.is_nil(ais[i]:canonname()) end
    -- the first only, also where there are several for certain: without a
    -- socket type the system gives one record per type ('localhost' may be
    -- one address, as in a hosts file with 127.0.0.1 alone)
    local core = require('net.core')
    local records = core.getaddrinfo('localhost', nil, 0, 0, 0, core.constants.AI_CANONNAME)
    assert.is_true(type(records) == 'table' and #records >= 2, 'records: ' .. tostring(records))
    local all = require('net.addrinfo').from_records(records)
    assert.are.equal('localhost', all[1]:canonname())
    for i = 2, #all do assert.is_nil(all[i]:canonname()) end
  end)

  it("a literal's canonical name is the literal as given, its zone's name too", function()
    if not h.has_ipv6() then return pending('no ::1 here') end
    for _, host in ipairs { '127.0.0.1', '::1', 'fe80::1%lo' } do
      local ais = assert(stream.getaddrinfoin { host = host, port = 80, canonname = true })
      assert.are.equal(host, ais[1]:canonname())
    end
  end)

  it('resolves "localhost" to loopback addresses only', function()
    local ais = assert(stream.getaddrinfoin { host = 'localhost', port = 80 })
    assert.is_true(#ais >= 1)
    for _, ai in ipairs(ais) do
      assert.is_truthy(ai:addr() == '127.0.0.1' or ai:addr() == '::1', ai:addr())
      assert.are.equal(80, ai:port())
    end
  end)

  it('numeric = true refuses a name with the resolver\'s message', function()
    local ais, err = stream.getaddrinfoin { host = 'localhost', port = 80, numeric = true }
    assert.is_nil(ais)
    assert.are.equal(net.strerror(net.EAI_NONAME), err)
    assert.are.equal('Name or service not known', err)
  end)

  it('numeric = true still takes a literal', function()
    local ais = assert(stream.getaddrinfoin { host = '127.0.0.1', port = 80, numeric = true })
    assert.are.equal('127.0.0.1', ais[1]:addr())
  end)

  it('an unknown service name is the resolver\'s EAI_SERVICE', function()
    local ais, err = stream.getaddrinfoin { host = '127.0.0.1', port = 'no-such-service-x' }
    assert.is_nil(ais)
    assert.are.equal(net.strerror(net.EAI_SERVICE), err)
  end)
end)

describe('stream.getaddrinfoun', function()
  it('gives one unix record for a path', function()
    local ais = assert(stream.getaddrinfoun { path = '/tmp/some.sock' })
    assert.are.equal(1, #ais)
    local ai = ais[1]
    assert.are.equal(net.AF_UNIX, ai:family())
    assert.are.equal(net.SOCK_STREAM, ai:socktype())
    assert.are.equal(0, ai:protocol())
    assert.are.equal('/tmp/some.sock', ai:addr())
    assert.are.equal('/tmp/some.sock', tostring(ai))
    assert.is_nil(ai:port())
    assert.is_nil(ai:canonname())
  end)

  it('passive = true gives the same record', function()
    local ais = assert(stream.getaddrinfoun { path = '/tmp/p.sock', passive = true })
    assert.are.equal(1, #ais)
    assert.are.equal('/tmp/p.sock', ais[1]:addr())
  end)

  it('a path too long for sun_path is "File name too long"', function()
    local ais, err = stream.getaddrinfoun { path = '/tmp/' .. string.rep('y', 120) }
    assert.is_nil(ais)
    assert.are.equal('File name too long', err)
  end)

  it('a path of 107 bytes (the longest with its NUL) fits', function()
    local p = '/tmp/' .. string.rep('z', 102)
    assert.are.equal(107, #p)
    local ais = assert(stream.getaddrinfoun { path = p })
    assert.are.equal(p, ais[1]:addr())
  end)
end)

describe('addresses from sockets', function()
  it('getsockname of a unix server matches getaddrinfoun of its path', function()
    local dir = h.tmpdir()
    h.cleanup(function() h.rmdir(dir) end)
    local path = dir .. '/a.sock'
    local srv = assert(unix.server.new { path = path })
    local mine = assert(srv:getsockname())
    local ref = assert(stream.getaddrinfoun { path = path })[1]
    assert.are.equal(ref:family(), mine:family())
    assert.are.equal(ref:addr(), mine:addr())
    assert.are.equal(tostring(ref), tostring(mine))
    srv:close()
  end)

  it('getsockname of a TCP server prints like getaddrinfoin of its address', function()
    local srv, port = h.tcp_server('127.0.0.1')
    local mine = assert(srv:getsockname())
    local ref = assert(stream.getaddrinfoin { host = '127.0.0.1', port = port })[1]
    assert.are.equal(ref:family(), mine:family())
    assert.are.equal(tostring(ref), tostring(mine))
    assert.are.equal('127.0.0.1:' .. port, tostring(mine))
    srv:close()
  end)
end)

describe('an address of another family', function()
  it('has its family number, no host or port, and says so in tostring', function()
    -- a netlink socket (Linux's AF_NETLINK 16, NETLINK_ROUTE; nothing is sent)
    local fd = require('net.core').sock_open(16, net.SOCK_RAW, 0, 0)
    if fd < 0 then return pending('no netlink socket here: ' .. net.strerror(fd)) end
    local sock = assert(net.wrap(fd))
    local ai = assert(sock:getsockname())
    local EAFNOSUPPORT = net.strerror(-net.EAFNOSUPPORT)
    assert.are.same({ 16, nil, EAFNOSUPPORT, nil, EAFNOSUPPORT, '<family 16>' },
      { ai:family(), select(1, ai:addr()), select(2, ai:addr()), select(1, ai:port()),
        select(2, ai:port()), tostring(ai) })
    sock:close()
  end)
end)

-- addrinfo.new is internal but reachable, and an object's fields are plain:
-- an address that is no net.addr (a file handle, any userdata) raises at
-- its first use, on both backends ("got userdata"; 5.3+ name a FILE*), rather than have the C library read an
-- object of another size as an address.
describe('an addrinfo whose address is no net.addr', function()
  it('raises net.addr expected, reading nothing', function()
    local addrinfo = require('net.addrinfo')
    local function fails(fn, ...)
      local ok, err = pcall(fn, ...)
      assert.is_false(ok)
      assert.is_truthy(tostring(err):find('net.addr expected, got ', 1, true), err)
    end
    local ai = addrinfo.new(net.AF_UNIX, net.SOCK_STREAM, 0, io.stdout)
    fails(ai.addr, ai)
    fails(addrinfo.sender, io.stdout)
    local good = assert(stream.getaddrinfoin { host = '127.0.0.1', port = 9 })[1]
    good._addr = io.stderr
    local sock = assert(require('net.dgram.inet').new { host = '127.0.0.1' })
    fails(sock.connect, sock, good)
    fails(sock.sendto, sock, 'x', good)
    sock:close()
  end)
end)
