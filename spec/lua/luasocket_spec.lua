-- LuaSocket interop: sock:getfd() and sock:dirty() let socket.select (and
-- the copas-style schedulers built on it) take lua-net sockets, and a
-- net.reader with bytes buffered. LuaSocket is Debian's lua-socket, for
-- every runtime here (LuaJIT shares 5.1's); where it does not load the spec
-- says why.
local net = require('net')
local reader = require('net.reader')
local h = require('spec.lua.helper')

describe('sock:getfd and sock:dirty', function()
  local a, b
  h.each(h.pair, function(x, y) a, b = x, y end)

  it('give the fd, -1 once closed, and false: a socket buffers nothing', function()
    assert.equals(a:fd(), a:getfd())
    assert.is_false(a:dirty())
    assert.equals(3, b:send('abc'))
    assert.is_false(a:dirty()) -- data waits in the kernel, where select sees it
    a:close()
    assert.equals(-1, a:getfd())
    assert.is_false(a:dirty())
  end)
end)

local ok, socket = pcall(require, 'socket')
if not ok or type(socket) ~= 'table' or type(socket.select) ~= 'function' then
  pending('LuaSocket (Debian lua-socket) does not load on ' .. _VERSION .. ': '
    .. tostring(socket):gsub('\n.*', ''))
  return
end

describe('socket.select of LuaSocket', function()
  local a, b, c, d
  h.each(function()
    local p, q = h.pair()
    local r, s = h.pair()
    return p, q, r, s
  end, function(w, x, y, z) a, b, c, d = w, x, y, z end)

  it('reports a lua-net socket with data waiting, and not one without', function()
    assert.equals(5, a:send('hello'))
    local readable, writable, err = socket.select({ b, d }, nil, 1)
    assert.is_nil(err)
    assert.same({}, writable)
    assert.equals(1, #readable)
    assert.equals(b, readable[1])
    assert.equals(b, readable[b] and b) -- LuaSocket also keys the list by the object
    assert.equals('hello', b:recv())
  end)

  it('times out when no socket has data', function()
    local t0 = net.now()
    local readable, _, err = socket.select({ b, d }, nil, 0.05)
    assert.equals('timeout', err)
    assert.same({}, readable)
    assert.is_true(net.now() - t0 >= 0.04)
  end)

  it('reports a writable socket, and skips a closed one (getfd -1)', function()
    local _, writable = socket.select(nil, { a }, 1)
    assert.same({ a }, { writable[1] })
    c:send('x')
    d:close()
    local readable, _, err = socket.select({ d }, nil, 0)
    assert.same({}, readable)
    assert.equals('timeout', err)
  end)

  it('reports a net.reader holding bytes its socket no longer has (dirty)', function()
    local r = reader.new(b)
    assert.equals(4, a:send('x\ny\n'))
    assert.equals('x', r:line()) -- "y\n" now waits in the reader, not the kernel
    assert.is_true(r:dirty())
    assert.is_false(h.readable(b, 0))
    local readable = socket.select({ r }, nil, 1)
    assert.equals(r, readable[1])
    assert.equals('y', r:line())
    local _, _, err = socket.select({ r }, nil, 0)
    assert.equals('timeout', err)
  end)
end)
