-- The examples run as shipped, each in a child process of this runtime
-- (the same interpreter, NET_BACKEND and package paths): each one checks
-- its own results with assert, so a run that exits 0 and prints its last
-- line is a pass. Bounded: every child is killed after 60 s.
-- Not run here: examples/socket_activation.lua (it serves on a fixed port
-- until killed) and examples/openresty/ (spec/nginx/run, case example).
local helper = require('spec.lua.helper')

local ROOT = os.getenv('NET_SOURCE_ROOT') or '.'
local q = helper.shell_quote

local run = helper.sh

local function example(name, args)
  return ('timeout 60 %s %s %s'):format(q(helper.interpreter()), q(ROOT .. '/examples/' .. name .. '.lua'),
                                        args or '')
end

-- Each self-contained example, with what its last line says when it ran
-- through (a Lua pattern).
local SELF_CONTAINED = {
  { 'buffer_recv', nil, 'echoed\t4\tbytes:\tping' },
  { 'deadlines', nil, '^done$' },
  { 'fd_passing', nil, 'got "one end of a pair" and wrote this through it' },
  { 'loop_echo_server', '50', '^500 echoes checked in' },
  { 'message_io', nil, '^done$' },
  -- delivered over lo, or the machine's lack of a route explained
  { 'multicast', nil, 'receiver got "datagram 3"' },
  { 'poll_echo_server', nil, '^8 clients served, 5 lines each, all echoed$' },
  { 'reader_lines', nil, 'until the close"$' },
  { 'stream_pair', nil, '^peer closed:\tnil\tnil\tnil$' },
  { 'udp_echo', nil, '^echoed 4 bytes from 127%.0%.0%.1:%d+: same$' },
  { 'udp_reader_stop', nil, '^reader ended after 3 datagrams$' },
}
local NO_ROUTE = 'try the unshare command at the top of this file$'

local function last_line(out)
  return out:match('([^\n]*)\n$') or ''
end

describe('examples', function()
  for _, case in ipairs(SELF_CONTAINED) do
    local name, args, done = case[1], case[2], case[3]
    it(name .. '.lua runs through', function()
      local out, status = run(example(name, args))
      assert.are.equal(0, status, out)
      local last = last_line(out)
      if not (name == 'multicast' and last:find(NO_ROUTE)) then
        assert.is_truthy(last:find(done), out)
      end
    end)
  end

  it('ffi_version.lua runs through on LuaJIT', function()
    if not rawget(_G, 'jit') then
      pending('LuaJIT only')
      return
    end
    local out, status = run(example('ffi_version'))
    assert.are.equal(0, status, out)
    assert.is_truthy(last_line(out):find('^send after the peer closed: %-32 %(Broken pipe%)$'), out)
  end)

  it('stream_inet_server.lua and stream_inet_client.lua talk', function()
    -- the server picks a free port and prints it; the client gets it
    -- the server's exit status is its last line: popen's close does not give
    -- it on Lua 5.1 and LuaJIT
    local server = assert(io.popen(example('stream_inet_server') .. ' 2>&1; echo "rc=$?"'))
    local first = server:read('*l') or ''
    local port = first:match('^listening on 127%.0%.0%.1:(%d+)$')
    assert.is_truthy(port, first)
    local out, status = run(example('stream_inet_client', port .. ' one "two words"'))
    local rest = server:read('*a')
    server:close()
    assert.are.equal(0, status, out)
    assert.is_truthy(out:find('sent "two words", received "two words"', 1, true), out)
    assert.is_truthy(rest:find('echoed 12 bytes', 1, true), rest)
    assert.are.equal('rc=0', last_line(rest), rest)
  end)

  it('stream_unix_server.lua and stream_unix_client.lua talk', function()
    local dir = helper.tmpdir()
    local path = q(dir .. '/echo.sock')
    -- started together: the client retries until the server listens. The
    -- status is the client's; the server's is the last line.
    local out, status = run(example('stream_unix_server', path) .. ' > ' .. q(dir .. '/server.out') .. ' 2>&1 & S=$!; '
                            .. example('stream_unix_client', path .. ' hello')
                            .. '; C=$?; wait $S; echo "server=$?"; exit $C')
    local f = assert(io.open(dir .. '/server.out'))
    local server_out = f:read('*a')
    f:close()
    helper.rmdir(dir)
    assert.are.equal(0, status, out)
    assert.is_truthy(out:find('sent "hello", received "hello"', 1, true), out)
    assert.are.equal('server=0', last_line(out), out .. server_out)
    assert.is_truthy(server_out:find('echoed 5 bytes', 1, true), server_out)
  end)
end)
