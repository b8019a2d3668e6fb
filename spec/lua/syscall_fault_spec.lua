-- Calls that seldom fail, made to fail once: a child interpreter runs each
-- script with spec/c/fault_shim.c preloaded (NET_FAULT_SHIM, set by the
-- meson tests), which makes the n-th call of getsockopt fail with EACCES,
-- as a security module refusing it would. A value the library reads along
-- the way that cannot be read is the call's failure, never taken for a
-- value. Loopback and socketpairs only.
local h = require('spec.lua.helper')

local shim = os.getenv('NET_FAULT_SHIM')

-- The output of script (with `fault(n)`: the n-th getsockopt from then on
-- fails; `fired()`: whether it did) in a child with the shim preloaded.
local function run(script)
  local prelude = [[
    local net = require('net')
    local function fault(n) assert(os.getenv('NET_FAULT getsockopt ' .. n .. ' 13')) end
    local function fired() return os.getenv('NET_FAULT_FIRED') == '1' end
  ]]
  return h.run_preloaded(shim, prelude .. script)
end

describe('a getsockopt that fails', function()
  if not shim then
    pending('needs NET_FAULT_SHIM (spec/c/fault_shim.c, built as net_fault_shim.so; meson test sets it)')
    return
  end

  it('fails a connect under a deadline whose SO_ERROR cannot be read', function()
    -- (it was taken for a connection: the refused client came back)
    local out = run([[
      local inet = require('net.stream.inet')
      local s = assert(inet.server.new{host = '127.0.0.1'})
      local port = s:getsockname():port()
      s:close() -- nobody listens there now
      fault(1)
      local c, err = inet.client.new{host = '127.0.0.1', port = port, timeout = 2}
      print(fired(), c, err)
    ]])
    assert.are.equal('true\tnil\tPermission denied\n', out)
  end)

  it('fails getsockname and getpeername when the type or protocol cannot be read', function()
    local out = run([[
      local inet = require('net.stream.inet')
      local s = assert(inet.server.new{host = '127.0.0.1'})
      assert(s:listen() == nil)
      local c = assert(inet.client.new{host = '127.0.0.1', port = s:getsockname():port()})
      for _, call in ipairs({ function() return s:getsockname() end, function() return c:getpeername() end }) do
        for n = 1, 2 do
          fault(n)
          print(fired(), call())
          print(fired())
        end
      end
      c:close(); s:close()
    ]])
    assert.are.equal(('false\tnil\tPermission denied\ntrue\n'):rep(4), out)
  end)

  it('fails net.wrap when what decides the class cannot be read; the fd stays the caller\'s', function()
    -- (a listening socket wrapped as a plain stream socket, without accept;
    -- a unix datagram socket without sendfd)
    local out = run([[
      local core = require('net.core')
      local s = assert(require('net.stream.inet').server.new{host = '127.0.0.1'})
      assert(s:listen() == nil)
      local u = assert(require('net.dgram.unix').new())
      for _, fd in ipairs({ s:fd(), u:fd() }) do
        fault(2) -- the first reads the type, the second decides
        local w, err = net.wrap(fd)
        print(fired(), w, err, core.sock_type(fd) > 0)
      end
      s:close(); u:close()
    ]])
    assert.are.equal(('true\tnil\tPermission denied\ttrue\n'):rep(2), out)
  end)

  it('tells the end of a stream at recvfd without reading its type', function()
    -- (recvfd read the type, where a failed read once said "no file
    -- descriptor in the message"; a stream socket's class knows it)
    local out = run([[
      local p = assert(require('net.stream').pair())
      p[2]:close()
      fault(2) -- the first is libnet's, refusing a socket of another family
      local function pack(...) return { n = select('#', ...), ... } end
      local r = pack(p[1]:recvfd())
      print(r.n, r[1], r[2], r[3])
      print(fired())
      p[1]:close()
    ]])
    assert.are.equal('3\tnil\tnil\tnil\nfalse\n', out)
  end)

  it('keeps the datagrams of a later window of recvmany whose socket type cannot be read', function()
    -- recvmany takes 2 MiB datagrams in windows of two (4 MiB): libnet
    -- reads the type (SO_TYPE) at each window's first datagram from a unix
    -- sender; refused at the second window's, the family (unix) decides, as
    -- at a first receive, and no datagram is lost
    local out = run([[
      local p = assert(require('net.dgram').pair())
      for _, m in ipairs({'a', 'b', 'c', 'd', 'e'}) do assert(p[1]:send(m) == 1) end
      fault(2)
      local list = assert(p[2]:recvmany(10, 2 * 1024 * 1024))
      local got = {}
      for i, m in ipairs(list) do got[i] = m[1] end
      print(fired(), table.concat(got, ' '))
      p[1]:close(); p[2]:close()
    ]])
    assert.are.equal('true\ta b c d e\n', out)
  end)
end)
