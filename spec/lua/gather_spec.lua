-- sock:send(list): a list of strings in one gather write, on real sockets.
local net = require('net')
local stream = require('net.stream')
local h = require('spec.lua.helper')

describe('sock:send(list of strings)', function()
  local a, b
  h.each(h.pair, function(x, y) a, b = x, y end)

  it('sends 1,000 pieces in order, in one call', function()
    local list, total = {}, 0
    for i = 1, 1000 do
      list[i] = ('<%d>'):format(i)
      total = total + #list[i]
    end
    assert.equals(total, a:send(list))
    assert.equals(table.concat(list), h.recv_exact(b, total))
  end)

  it('sends an empty list and empty pieces as nothing', function()
    assert.equals(0, a:send({}))
    assert.equals(3, a:send({ '', 'abc', '' }))
    assert.equals('abc', b:recv())
  end)

  it('reports a partial send across the pieces, and the rest follows', function()
    assert.is_true(a:nonblock(true))
    local piece = h.blob(64 * 1024)
    local list = { piece, piece, piece, piece, piece, piece, piece, piece, piece, piece }
    local total = #piece * #list
    local n, err, again = a:send(list)
    assert.is_nil(err)
    assert.is_true(again)
    assert.is_true(n > 0 and n < total, 'sent ' .. tostring(n))
    -- what it reports as sent is exactly what arrives, nothing more; the
    -- rest, sent next as a list from the piece and byte where it stopped,
    -- follows
    local all = table.concat(list)
    assert.equals(all:sub(1, n), h.recv_exact(b, n))
    h.nothing_queued(b)
    local first = math.floor(n / #piece) + 1
    local rest = { list[first]:sub(n % #piece + 1) }
    for i = first + 1, #list do rest[#rest + 1] = list[i] end
    assert.is_true(a:settimeout(10))
    local got = {}
    assert.is_true(a:setwaiter(h.draining_waiter(b, got)))
    assert.equals(total - n, a:send(rest))
    assert.equals(all:sub(n + 1), h.drain_rest(b, got))
  end)

  it('with a deadline and a reader that keeps up, sends the whole list', function()
    assert.is_true(a:sndbuf(4096) > 0)
    assert.is_true(a:settimeout(10))
    local piece = h.blob(10000)
    local list = {}
    for i = 1, 30 do list[i] = piece:sub(i, -1) end
    local want = table.concat(list)
    local got = {}
    assert.is_true(a:setwaiter(h.draining_waiter(b, got)))
    assert.equals(#want, a:send(list))
    assert.equals(want, h.drain_rest(b, got))
  end)

  it('with a deadline, sends a list of 5,000 pieces (empty ones among them) through partial sends', function()
    -- each retry goes on from the piece where the last one stopped (and
    -- takes at most 1,024 pieces, the system's limit): the bytes arrive
    -- whole and in order
    assert.is_true(a:sndbuf(4096) > 0)
    assert.is_true(a:settimeout(10))
    local list = {}
    for i = 1, 5000 do
      list[i] = i % 7 == 0 and '' or ('<%d:%s>'):format(i, ('x'):rep(i % 97))
    end
    local want = table.concat(list)
    local got, waits = {}, 0
    local drain = h.draining_waiter(b, got)
    assert.is_true(a:setwaiter(function(...) waits = waits + 1; return drain(...) end))
    assert.equals(#want, a:send(list))
    assert.equals(want, h.drain_rest(b, got))
    assert.is_true(waits > 5, 'only ' .. waits .. ' partial sends')
  end)

  -- A list changed during a wait (by the waiter here, another coroutine in
  -- a program) changes nothing: before, a piece taken out left nothing to
  -- send and the call spinning past its deadline; one put in went out
  -- uncounted.
  for _, change in ipairs({
    { 'a piece taken out', function(list) list[#list] = nil end },
    { 'a piece put in', function(list) list[#list + 1] = 'more' end },
  }) do
    it('sends the list as it was given when the caller changes it during a wait: ' .. change[1], function()
      assert.is_true(a:sndbuf(4096) > 0)
      assert.is_true(a:settimeout(10))
      local piece = h.blob(50000)
      local list = { piece, piece, piece }
      local want = table.concat(list)
      local got, waits = {}, 0
      local drain = h.draining_waiter(b, got)
      assert.is_true(a:setwaiter(function(...)
        waits = waits + 1
        if waits == 1 then change[2](list) end
        return drain(...)
      end))
      assert.equals(#want, a:send(list))
      assert.is_true(waits > 1)
      assert.is_true(want == h.drain_rest(b, got), 'the bytes differ')
    end)
  end

  it('raises for a piece that is not a string, sending nothing', function()
    h.raises("bad argument #1 to 'send' (list of strings expected, got number at [2])",
             a.send, a, { 'x', 2 })
    assert.is_true(b:nonblock(true))
    assert.same({ n = 3, nil, nil, true }, h.pack(b:recv()))
  end)

  it('sends one datagram on a datagram socket', function()
    local fd1, fd2 = require('net.core').sock_pair(net.AF_UNIX, net.SOCK_DGRAM, 0, 0)
    local x, y = assert(net.wrap(fd1)), assert(net.wrap(fd2))
    assert.equals(6, x:send({ 'ab', 'cd', 'ef' }))
    assert.equals('abcdef', (y:recv()))
    x:close(); y:close()
  end)

  it('on a stream pair whose peer closed: nil, nil, nil and why', function()
    local p = assert(stream.pair())
    p[2]:close()
    local r = h.pack(p[1]:send({ 'a', 'b' }))
    assert.same({ n = 4, nil, nil, nil, net.strerror(-net.EPIPE) }, r)
    p[1]:close()
  end)
end)
