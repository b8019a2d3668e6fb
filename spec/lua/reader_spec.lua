-- net.reader: buffered reading of stream sockets (lines, exact counts, all
-- until the end, up to a delimiter) on real sockets: unix pairs and TCP on
-- 127.0.0.1. A read that needs bytes not sent yet is made to happen by a
-- non-blocking socket (the call returns again, keeping what it read) or by a
-- waiter that sends the next piece when the reader waits: one thread, no
-- timing luck.
local net = require('net')
local reader = require('net.reader')
local buffer = require('net.buffer')
local h = require('spec.lua.helper')

local EINVAL = net.strerror(-net.EINVAL)
local TOO_LONG = net.strerror(-net.EMSGSIZE)
local pack = h.pack

-- Results as the reader returns them: exactly these values, trailing nils
-- counted.
local function same(expected, got)
  assert.same(expected, got)
end

describe('net.reader.new', function()
  local b
  h.each(h.pair, function(_, y) b = y end)

  it('makes a reader of a stream socket', function()
    local r = assert(reader.new(b))
    assert.equals(reader.Reader, getmetatable(r))
    assert.equals(0, r:buffered())
    assert.equals('net.reader: 0 buffered', tostring(r))
  end)

  it('raises for what is not a stream socket, or a bad options table', function()
    h.raises("bad argument #1 to 'new' (net.stream.Socket expected, got nil)", reader.new)
    h.raises("bad argument #1 to 'new' (net.stream.Socket expected, got table)", reader.new, {})
    h.raises("bad argument #1 to 'new' (net.stream.Socket expected, got net.buffer)",
      reader.new, buffer.new(4))
    local d = assert(require('net.dgram').pair())
    h.raises("bad argument #1 to 'new' (net.stream.Socket expected, got net.dgram.unix.Socket)",
      reader.new, d[1])
    d[1]:close(); d[2]:close()
    h.raises("bad argument #2 to 'new' (table expected, got number)", reader.new, b, 5)
    h.raises("bad argument #2 to 'new' (unknown option 'sise')", reader.new, b, { sise = 5 })
    -- the least unknown key by name, however the table was built
    h.raises("bad argument #2 to 'new' (unknown option 'bogus')", reader.new, b,
      { size = 16, maxx = 10, bogus = 1, zzz = 2 })
    h.raises("bad argument #2 to 'new' (unknown option '_cap')", reader.new, b, buffer.new(8))
    h.raises("bad argument #2 to 'new' (option 'max' must be number, got string)",
      reader.new, b, { max = '5' })
    h.raises("bad argument #2 to 'new' (option 'size': number has no integer representation)",
      reader.new, b, { size = 1.5 })
  end)

  it('refuses sizes out of range: nil, "Invalid argument"', function()
    same({ n = 2, nil, EINVAL }, pack(reader.new(b, { size = 0 })))
    same({ n = 2, nil, EINVAL }, pack(reader.new(b, { max = -1 })))
    same({ n = 2, nil, EINVAL }, pack(reader.new(b, { max = 2 ^ 31 })))
    same({ n = 2, nil, EINVAL }, pack(reader.new(b, { size = 2 ^ 31, max = 100 })))
    same({ n = 2, nil, EINVAL }, pack(reader.new(b, { size = 2 ^ 31 - 255 })))
  end)

  it('cuts the buffer to max when size is larger', function()
    local r = assert(reader.new(b, { max = 10 }))
    assert.equals(10, r._buf:capacity())
  end)
end)

describe('a reader on a unix pair', function()
  local a, b
  h.each(h.pair, function(x, y) a, b = x, y end)

  it('reads lines ended by LF or CRLF, without their end or with it', function()
    local r = reader.new(b)
    assert.equals(18, a:send('one\ntwo\r\nthree\r\rx\n'))
    assert.equals('one', r:line())
    assert.equals(14, r:buffered())
    assert.equals('two\r\n', r:line(true))
    -- only the CR right before the LF is part of the end
    assert.equals('three\r\rx', r:line())
    assert.equals(0, r:buffered())
    h.raises("bad argument #1 to 'line' (boolean expected, got number)", r.line, r, 1)
  end)

  it('keeps what it read when the call returns again: a CRLF split across reads', function()
    assert.is_true(b:nonblock(true))
    local r = reader.new(b)
    a:send('abc\r')
    same({ n = 3, nil, nil, true }, pack(r:line()))
    assert.equals(4, r:buffered())
    assert.is_true(r:dirty())
    a:send('\ndef\n')
    assert.equals('abc', r:line())
    assert.equals('def', r:line())
    same({ n = 3, nil, nil, true }, pack(r:line()))
    assert.is_false(r:dirty())
  end)

  it('goes on where a call that returned again stopped: no byte is searched twice', function()
    -- a long line trickling in to a non-blocking reader: each retry must
    -- not scan (and join) everything held again, or a peer sending 1 MiB in
    -- small pieces costs time quadratic in the line's length
    assert.is_true(b:nonblock(true))
    local r = reader.new(b, { size = 64 })
    local inits = {}
    local buf = r._buf
    buf.find = function(self, delim, init)
      inits[#inits + 1] = init
      return buffer.Buffer.find(self, delim, init)
    end
    a:send('abcdef')
    same({ n = 3, nil, nil, true }, pack(r:upto('--X')))
    inits = {}
    a:send('gh--X')
    assert.equals('abcdefgh', r:upto('--X'))
    -- the first search of the retry starts at the last two bytes that could
    -- begin the delimiter, not at the first byte held
    assert.equals(5, inits[1]) -- 'abcdef': 'e' is the first that could begin it
    for _, init in ipairs(inits) do assert.is_true(init > 1, 'searched from ' .. init) end
    a:send('ijk')
    same({ n = 3, nil, nil, true }, pack(r:line()))
    assert.equals('ijk', r:read(3)) -- taking bytes forgets where the search was
    a:send('lm\n')
    assert.equals('lm', r:line())
  end)

  it('keeps buffered() an integer after read(2.0) on every runtime', function()
    local r = reader.new(b, { size = 4.0, max = 16.0 })
    a:send('abcdef')
    assert.equals('ab', r:read(2.0))
    assert.equals('2', tostring(r:buffered()))
    assert.equals('net.reader: 2 buffered', tostring(r))
  end)

  it('finds a delimiter split across reads', function()
    assert.is_true(b:nonblock(true))
    local r = reader.new(b)
    a:send('head--bo')
    same({ n = 3, nil, nil, true }, pack(r:upto('--boundary--')))
    a:send('undary--tail')
    assert.equals('head', r:upto('--boundary--'))
    a:send('@')
    assert.equals('tail@', r:upto('@', true))
    same({ n = 2, nil, EINVAL }, pack(r:upto('')))
    h.raises("bad argument #1 to 'upto' (string expected, got nil)", r.upto, r)
    h.raises("bad argument #2 to 'upto' (boolean expected, got string)", r.upto, r, 'x', 'y')
  end)

  it('reads exactly n bytes, and what it holds without a read', function()
    local r = reader.new(b, { size = 4 })
    a:send('0123456789')
    assert.equals('012', r:read(3))
    assert.equals('', r:read(0))
    assert.equals('3456789', r:read(7)) -- longer than the buffer
    a:send('xy')
    assert.equals('x', r:read(1))
    assert.equals('y', r:read(r:buffered()))
    same({ n = 2, nil, EINVAL }, pack(r:read(-1)))
    h.raises("bad argument #1 to 'read' (number expected, got string)", r.read, r, '1')
    h.raises("bad argument #1 to 'read' (number has no integer representation)", r.read, r, 0.5)
  end)

  it('returns the partial item with the end when the peer closes early', function()
    local r = reader.new(b)
    a:send('last line without end')
    a:closew()
    same({ n = 4, nil, nil, nil, 'last line without end' }, pack(r:line()))
    -- then a plain end, as recv says it: nothing is left
    same({ n = 3, nil, nil, nil }, pack(r:line()))
    same({ n = 3, nil, nil, nil }, pack(r:read(1)))
    assert.equals('', r:all())
  end)

  it('returns partial bytes of read(n) and upto at the end', function()
    local r = reader.new(b)
    a:send('12345')
    a:closew()
    same({ n = 4, nil, nil, nil, '12345' }, pack(r:read(10)))
    local p = assert(require('net.stream').pair())
    local r2 = reader.new(p[2])
    p[1]:send('a-b-')
    p[1]:close()
    assert.equals('a', r2:upto('-'))
    assert.equals('b', r2:upto('-'))
    same({ n = 3, nil, nil, nil }, pack(r2:upto('-')))
    p[2]:close()
  end)

  it('reads all until the end', function()
    local r = reader.new(b, { size = 3 })
    a:send('first\n')
    assert.equals('first', r:line())
    a:send('and the rest, longer than the buffer')
    a:closew()
    assert.equals('and the rest, longer than the buffer', r:all())
    assert.equals('', r:all())
  end)

  it('stops at max: a line longer than max is "Message too long", its bytes kept', function()
    local r = reader.new(b, { size = 4, max = 8 })
    a:send('123456789\nok\n')
    same({ n = 2, nil, TOO_LONG }, pack(r:line()))
    assert.equals(8, r:buffered())
    -- again: the reader holds max bytes and the line still has no end
    same({ n = 2, nil, TOO_LONG }, pack(r:line()))
    -- the caller decides: here it takes the bytes and goes on
    assert.equals('12345678', r:read(r:buffered()))
    assert.equals('9', r:line())
    assert.equals('ok', r:line())
    same({ n = 2, nil, TOO_LONG }, pack(r:read(9)))
    assert.equals(0, r:buffered())
  end)

  it('takes an item of exactly max bytes, and all() of max bytes that end', function()
    local r = reader.new(b, { size = 3, max = 6 })
    a:send('12345\n')
    assert.equals('12345', r:line()) -- 6 bytes with its end
    a:send('abcdef')
    a:closew()
    assert.equals('abcdef', r:all()) -- max bytes, then the end: a peek tells
  end)

  it('fails all() beyond max, keeping max bytes', function()
    local r = reader.new(b, { max = 5 })
    a:send('abcdefg')
    same({ n = 2, nil, TOO_LONG }, pack(r:all()))
    assert.equals(5, r:buffered())
    assert.equals('abcde', r:read(5))
    a:closew()
    assert.equals('fg', r:all())
  end)

  it('reports a failure of the socket with its data kept', function()
    local r = reader.new(b)
    a:send('abc')
    assert.is_true(b:nonblock(true))
    same({ n = 3, nil, nil, true }, pack(r:line()))
    b:close()
    same({ n = 2, nil, h.EBADF_MSG }, pack(r:line()))
    assert.equals(3, r:buffered())
    assert.equals('abc', r:read(3))
  end)

  it('waits through the socket\'s waiter, which sees the reader wait for more', function()
    local r = reader.new(b, { size = 2 })
    local parts, waits = { 'ab', 'c\r', '\nde', 'f' }, 0
    assert.is_true(b:setwaiter(function(sock, mode)
      assert.equals(b, sock)
      assert.equals('r', mode)
      waits = waits + 1
      local part = parts[waits]
      if not part then return nil, 'no more parts' end
      assert.equals(#part, a:send(part))
      return true
    end))
    assert.equals('abc', r:line())
    assert.equals(3, waits)
    assert.equals('def', r:read(3))
    assert.equals(4, waits)
    same({ n = 2, nil, 'no more parts' }, pack(r:line()))
  end)

  it('ends a deadline mid-line with again, and finishes the line next call', function()
    local r = reader.new(b)
    assert.is_true(b:settimeout(0.1))
    a:send('partial')
    local t0 = net.now()
    same({ n = 3, nil, nil, true }, pack(r:line()))
    local t = net.now() - t0
    assert.is_true(t >= 0.08 and t < 3, 'took ' .. t)
    assert.equals(7, r:buffered())
    a:send(' line\r\n')
    assert.equals('partial line', r:line())
  end)

  -- The socket's settimeout bounds a reader call, not each of its reads: a
  -- peer that sends a byte every 20 ms (a slow-drip client) must not hold a
  -- line() under settimeout(0.2) until it stops. The dripper goes on for
  -- 2 s (100 bytes, no LF); line(), read(n) and all() each return again
  -- while it still drips, with the bytes kept, and a last LF ends the line.
  for _, call in ipairs({'line', 'read', 'all'}) do
    it('bounds a whole ' .. call .. '() by the socket\'s settimeout, not each read', function()
      local loop = require('net.loop')
      local DRIPS = 100
      assert.is_true(a:nonblock(true))
      assert.is_true(b:settimeout(0.2))
      local r = reader.new(b)
      local dripped, got, dripped_then = 0, nil, nil
      loop.spawn(function()
        for _ = 1, DRIPS do
          assert(a:send('x'))
          dripped = dripped + 1
          loop.sleep(0.02)
        end
      end)
      loop.spawn(function()
        if call == 'read' then got = pack(r:read(DRIPS + 1)) else got = pack(r[call](r)) end
        dripped_then = dripped
      end)
      loop.run()
      same({ n = 3, nil, nil, true }, got)
      assert.is_true(dripped_then < DRIPS, ('returned after %d of %d bytes'):format(dripped_then, DRIPS))
      -- every byte is kept, and the next call goes on with the rest
      assert.equals(DRIPS, r:buffered() + #(b:recv(DRIPS, net.MSG_DONTWAIT) or ''))
    end)
  end

  it('leaves no deadline behind when a read of a reader call raises', function()
    -- a waiter's error is the call's (raised); the socket's next call in
    -- the same coroutine still gets its settimeout from its own start
    assert.is_true(b:settimeout(0.2))
    local r = reader.new(b)
    assert.is_true(b:setwaiter(function() error('waiter failed', 0) end))
    assert.are.same({false, 'waiter failed'}, {pcall(r.line, r)})
    assert.is_true(b:setwaiter(nil))
    local t0 = net.now()
    while net.now() - t0 < 0.25 do end -- past the deadline the reader call had
    t0 = net.now()
    same({ n = 3, nil, nil, true }, pack(b:recv()))
    local t = net.now() - t0
    assert.is_true(t >= 0.15, 'the recv gave up after ' .. t .. ' s')
  end)

  it('gives the reader call\'s deadline to its own reads only', function()
    -- another coroutine's send on the socket meanwhile (to a peer that
    -- reads nothing) has a deadline of its own
    local loop = require('net.loop')
    assert.is_true(b:settimeout(0.3))
    local r = reader.new(b)
    local line_t, send_t, sent
    loop.spawn(function()
      local t0 = net.now()
      same({ n = 3, nil, nil, true }, pack(r:line()))
      line_t = net.now() - t0
    end)
    loop.spawn(function()
      loop.sleep(0.2)
      local t0 = net.now()
      sent = pack(b:send(('x'):rep(8 * 1024 * 1024)))
      send_t = net.now() - t0
    end)
    loop.run()
    assert.is_true(line_t >= 0.25, 'line took ' .. line_t)
    assert.equals(3, sent.n)
    assert.is_true(sent[3])
    assert.is_true(send_t >= 0.25, 'send took ' .. send_t) -- its own 0.3 s, not what the line had left
  end)

  it('gives LuaSocket\'s getfd and dirty', function()
    local r = reader.new(b)
    assert.equals(b:fd(), r:getfd())
    assert.is_false(r:dirty())
    a:send('x\ny')
    assert.equals('x', r:line())
    assert.is_true(r:dirty())
    b:close()
    assert.equals(-1, r:getfd())
  end)
end)

-- Many lines through buffers of every small size: each line, delimiter and
-- CRLF end falls across reads and across the pieces a long line spills
-- into. Sent in chunks of sizes that do not match the lines.
describe('a reader with tiny buffers', function()
  local lines = {}
  for i = 1, 60 do
    lines[i] = ('%d:'):format(i) .. ('abcdefghij'):rep(i % 7) .. ('x'):rep(i % 5)
  end
  local function text(crlf)
    local out = {}
    for i, line in ipairs(lines) do
      out[i] = line .. ((crlf or i % 3 == 0) and '\r\n' or '\n')
    end
    return table.concat(out)
  end

  -- A reader on b whose waiter sends data to a in chunks of 1..13 bytes.
  local function feeding(a, b, data, opts)
    local pos, k = 1, 0
    assert.is_true(b:setwaiter(function()
      if pos > #data then
        a:closew()
        return true
      end
      k = k % 13 + 1
      local n = assert(a:send(data:sub(pos, pos + k - 1)))
      pos = pos + n
      return true
    end))
    return reader.new(b, opts)
  end

  for size = 1, 6 do
    it('reads lines with a buffer of ' .. size .. ' bytes', function()
      local a, b = h.pair()
      local r = feeding(a, b, text(false), { size = size })
      for i = 1, #lines do
        local line = r:line(i % 2 == 0)
        local want = lines[i] .. (i % 2 == 0 and (i % 3 == 0 and '\r\n' or '\n') or '')
        assert.equals(want, line)
      end
      same({ n = 3, nil, nil, nil }, pack(r:line()))
      a:close(); b:close()
    end)

    it('finds a 4-byte delimiter with a buffer of ' .. size .. ' bytes', function()
      local a, b = h.pair()
      local data = table.concat(lines, '\r\n--')
      local r = feeding(a, b, data, { size = size })
      for i = 1, #lines - 1 do
        assert.equals(lines[i], r:upto('\r\n--'))
      end
      same({ n = 4, nil, nil, nil, lines[#lines] }, pack(r:upto('\r\n--')))
      a:close(); b:close()
    end)
  end

  it('mixes line, upto, read and all on one stream', function()
    local a, b = h.pair()
    local r = feeding(a, b, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n12345--end--tail of it', { size = 3 })
    assert.equals('GET / HTTP/1.1', r:line())
    assert.equals('Host: x', r:line())
    assert.equals('', r:line())
    assert.equals('12', r:read(2))
    assert.equals('345', r:upto('--end--'))
    assert.equals('tail of it', r:all())
    a:close(); b:close()
  end)
end)

-- A few MiB of lines: the receiver's waiter sends the next chunk (the sender
-- is non-blocking), so one thread moves them all; every line is checked.
describe('a reader over a large transfer', function()
  local N = 26000
  local function line_of(i)
    return string.char(97 + i % 26):rep((i * 7919) % 251) .. i
  end
  local data
  do
    local out = {}
    for i = 1, N do
      out[i] = line_of(i) .. (i % 3 == 0 and '\r\n' or '\n')
    end
    data = table.concat(out)
  end

  local function run(a, b)
    assert.is_true(#data > 3 * 1024 * 1024, 'only ' .. #data .. ' bytes')
    assert.is_true(a:nonblock(true))
    local pos, closed = 1, false
    assert.is_true(b:setwaiter(function()
      if pos <= #data then
        local n, err = a:send(data:sub(pos, pos + 65535))
        assert(n, err)
        pos = pos + n
      elseif not closed then
        closed = true
        a:closew()
      end
      return h.readable(b, 5)
    end))
    local r = reader.new(b, { size = 4096 })
    for i = 1, N do
      local line = r:line()
      if line ~= line_of(i) then
        error(('line %d: %q'):format(i, tostring(line)))
      end
    end
    same({ n = 3, nil, nil, nil }, pack(r:line()))
    assert.equals(#data + 1, pos)
  end

  it('moves them through a unix pair', function()
    local a, b = h.pair()
    run(a, b)
    a:close(); b:close()
  end)

  it('moves them over TCP on 127.0.0.1', function()
    local srv, c, s = h.tcp_trio('127.0.0.1')
    run(c, s)
    srv:close(); c:close(); s:close()
  end)

  -- A stream cut off is not an end: line() and all() alike give the bytes
  -- as partial, with the reason, never as a complete item.
  for _, method in ipairs({ 'line', 'all' }) do
    it('keeps the reason of a stream cut off with the partial item (' .. method .. ')', function()
      local srv, c, s = h.tcp_trio('127.0.0.1')
      assert.is_true(s:nonblock(true))
      local r = reader.new(s)
      c:send('abc')
      assert.is_true(h.readable(s))
      same({ n = 3, nil, nil, true }, pack(r[method](r)))
      assert.equals(0, c:linger(0))
      c:close() -- linger 0: a reset
      assert.is_true(h.readable(s))
      same({ n = 5, nil, nil, nil, 'abc', net.strerror(-net.ECONNRESET) }, pack(r[method](r)))
      srv:close(); s:close()
    end)
  end
end)

describe('net.reader shared by coroutines', function()
  it('a line waited for is found after another call took bytes meanwhile', function()
    local loop = require('net.loop')
    local a, b = h.pair()
    assert.is_true(b:nonblock(true))
    local r = assert(reader.new(b))
    assert.equal(3, a:send('abc'))
    local line, two
    loop.spawn(function() line = h.pack(r:line()) end) -- reads "abc", waits for the end
    loop.spawn(function()
      loop.sleep(0.05)
      two = r:read(2) -- held: no wait
      a:send('d\nefg\n')
    end)
    loop.run()
    assert.equal('ab', two)
    assert.same({ n = 1, 'cd' }, line)
    assert.same({ n = 1, 'efg' }, h.pack(r:line()))
    a:close(); b:close()
  end)
end)

-- Bytes held in spilled pieces (an item longer than the buffer, or a read
-- that returned again before its bytes came) are taken by later items from
-- where the last one stopped: a model of the stream (the bytes sent and not
-- taken) says what each call returns, with a buffer of a few bytes so that
-- most items come from pieces, and delimiters straddle pieces and buffer.
describe('net.reader against a model of the stream', function()
  local ALPHABET = { 'a', 'b', '\n', '\r', '-', 'x', '-', 'a' }
  local DELIMS = { '--', '\r\n', 'ab-', 'x', '-x-a' }

  for _, size in ipairs({ 2, 7, 64 }) do
    it('returns what the model says, buffer of ' .. size .. ' bytes', function()
      local a, b = h.pair()
      assert.is_true(b:nonblock(true))
      local r = assert(reader.new(b, { size = size, max = 1048576 }))
      local seed = 1000 + size
      local function random(n) -- a small LCG: the same sequence on every runtime
        seed = (seed * 1103515245 + 12345) % 2147483648
        return seed % n + 1
      end
      local rest = '' -- sent and not taken
      local function expect(what, item, taken)
        local got = pack(what())
        if item then
          same({ n = 1, item }, got)
          rest = rest:sub(taken + 1)
        else
          same({ n = 3, nil, nil, true }, got)
        end
      end
      for _ = 1, 2500 do
        if random(3) == 1 then
          local t = {}
          for i = 1, random(120) do t[i] = ALPHABET[random(#ALPHABET)] end
          local chunk = table.concat(t)
          assert.equals(#chunk, a:send(chunk))
          rest = rest .. chunk
        end
        local op = random(4)
        if op == 1 then
          local keep = random(2) == 1
          local k = rest:find('\n', 1, true)
          local item = k and rest:sub(1, keep and k or k - 1)
          if item and not keep and item:sub(-1) == '\r' then item = item:sub(1, -2) end
          expect(function() return r:line(keep) end, item, k)
        elseif op == 2 then
          local delim, keep = DELIMS[random(#DELIMS)], random(2) == 1
          local k = rest:find(delim, 1, true)
          local item = k and rest:sub(1, keep and k + #delim - 1 or k - 1)
          expect(function() return r:upto(delim, keep) end, item, k and k + #delim - 1)
        elseif op == 3 then
          local n = random(301) - 1
          expect(function() return r:read(n) end, #rest >= n and rest:sub(1, n) or nil, n)
        else -- a read that cannot be met yet: its bytes are read and held (spilled)
          expect(function() return r:read(#rest + random(50)) end, nil)
        end
        assert.is_true(r:buffered() <= #rest) -- (the rest may still be in the socket)
      end
      a:close(); b:close()
    end)
  end
end)
