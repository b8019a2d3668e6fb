-- The parity cases shared by spec/parity/calls.lua (the same calls on every
-- runtime, compared as text) and spec/lua/parity_spec.lua (a C fast method
-- against the Lua method it stands for, in one process).
--
-- Nothing here lists method names: the classes are found by loading every
-- public module of ffi/net and keeping the tables that are net.Socket or
-- inherit from it, and a class's methods are its public function fields.
-- What is listed is how to make sockets (fixtures), the states to call them
-- in, and the arguments to call every method with; check_coverage() fails
-- when a method of some class is reached by no fixture.
--
-- Only loopback is used: socketpairs, TCP on 127.0.0.1, unix paths in a
-- fresh temporary directory. Every socket is non-blocking before the call,
-- so no call in the battery can wait.
local net = require('net')
local core = require('net.core')

local K = core.constants
local unpack = table.unpack or unpack -- luacheck: ignore 143

local M = {}

local function pack(...) return {n = select('#', ...), ...} end
M.pack = pack

-- ---------------------------------------------------------------- classes --

-- The directory holding net/init.lua: where the public modules are.
local function ffi_root()
    local src = debug.getinfo(net.wrap, 'S').source
    return assert(src:match('^@(.*)/net/init%.lua$'), 'cannot place net/init.lua: ' .. src)
end

-- Public modules: every file under ffi/net except the internal folders and
-- the cdef (net.core picks the backend, net.util holds helpers of the
-- classes; requiring net.core.ffi would load a second backend).
local function public_modules()
    local root = ffi_root()
    local p = assert(io.popen("find '" .. root .. "/net' -name '*.lua' | LC_ALL=C sort"))
    local names = {}
    for path in p:lines() do
        local name = path:sub(#root + 2, -5):gsub('/init$', ''):gsub('/', '.')
        -- net.openresty runs only inside nginx (spec/nginx covers it)
        if not (name:match('^net%.core') or name:match('^net%.util') or name == 'net.cdef'
                or name:match('^net%.openresty')) then
            names[#names + 1] = name
        end
    end
    p:close()
    return names
end

-- Whether t is a class (its own __index) that is net.Socket or inherits it.
local function is_socket_class(t)
    if type(t) ~= 'table' or rawget(t, '__index') ~= t then return false end
    local c = t
    for _ = 1, 16 do
        if c == net.Socket then return true end
        local mt = getmetatable(c)
        c = mt and mt.__index
        if type(c) ~= 'table' then return false end
    end
    return false
end

-- Every socket class, sorted by name: {name =, class =, methods = {sorted}}.
-- A method is a public (no leading '_') function found on the class,
-- inherited ones included.
function M.classes()
    local found, list = {}, {}
    for _, modname in ipairs(public_modules()) do
        local mod = require(modname)
        if type(mod) == 'table' then
            for _, v in pairs(mod) do
                if is_socket_class(v) and not found[v] then
                    found[v] = true
                    list[#list + 1] = v
                end
            end
        end
    end
    local out = {}
    for _, cls in ipairs(list) do
        local names, seen = {}, {}
        local c = cls
        while type(c) == 'table' do
            for k, v in pairs(c) do
                if type(k) == 'string' and type(v) == 'function' and k:sub(1, 1) ~= '_' and not seen[k] then
                    seen[k] = true
                    names[#names + 1] = k
                end
            end
            local mt = getmetatable(c)
            c = mt and mt.__index
        end
        table.sort(names)
        out[#out + 1] = {name = cls._NAME, class = cls, methods = names}
    end
    table.sort(out, function(a, b) return a.name < b.name end)
    return out
end

-- ------------------------------------------------------------- fixtures --

local tmpdir
local function tmp()
    if not tmpdir then
        local p = assert(io.popen('mktemp -d /tmp/lua-net-parity.XXXXXXXX'))
        tmpdir = p:read('*l')
        p:close()
        assert(tmpdir and tmpdir:match('^/tmp/lua%-net%-parity%.%w+$'), 'mktemp -d failed')
    end
    return tmpdir
end
M.tmp = tmp

-- fd() returns a number that differs from run to run; it is shown as
-- "<fd of sock>". So that no other result (an option value, a count) can be
-- taken for an fd, the fixtures' fds are pushed above 100 by holding the
-- numbers below: no value the calls here return lies between 100 and the
-- few fds a fixture adds on top.
local reserved = {}
local function reserve_low_fds()
    while #reserved == 0 or reserved[#reserved] < 100 do
        local a, b = core.sock_pair(K.AF_UNIX, K.SOCK_STREAM, 0, K.CLOEXEC)
        assert(a >= 0, 'socketpair failed')
        reserved[#reserved + 1], reserved[#reserved + 2] = a, b
    end
end

-- Removes the temporary directory (each fixture removes its own path) and
-- frees the reserved fds.
function M.cleanup()
    if tmpdir then
        os.execute("rm -rf '" .. tmpdir .. "'")
        tmpdir = nil
    end
    for i = #reserved, 1, -1 do
        core.sock_close(reserved[i])
        reserved[i] = nil
    end
end

local serial = 0
local function fresh_path()
    serial = serial + 1
    return tmp() .. '/s' .. serial
end

local function readable(sock)
    return core.poll_fd(sock[1], K.POLLIN, 5) > 0
end

-- Each maker returns {sock =, peer =, port =, path =, owned = {sockets}}:
-- sock is the socket the calls go to; peer (if any) is the other end.
local function tcp_server()
    local srv = assert(require('net.stream.inet').server.new {host = '127.0.0.1', port = 0})
    assert(srv:listen() == nil)
    return srv, assert(srv:getsockname()):port()
end

local function unix_server()
    local path = fresh_path()
    local srv = assert(require('net.stream.unix').server.new {path = path})
    assert(srv:listen() == nil)
    return srv, path
end

local MAKERS = {
    {'dgram pair', function()
        local a, b = core.sock_pair(K.AF_UNIX, K.SOCK_DGRAM, 0, K.CLOEXEC)
        assert(a >= 0, 'socketpair failed')
        local sa, sb = assert(net.wrap(a)), assert(net.wrap(b))
        return {sock = sa, peer = sb, owned = {sa, sb}, dgram = true}
    end},
    {'seqpacket pair (wrapped)', function()
        -- a message socket: net.wrap gives net.dgram.unix.Socket
        local a, b = core.sock_pair(K.AF_UNIX, K.SOCK_SEQPACKET, 0, K.CLOEXEC)
        assert(a >= 0, 'socketpair failed')
        local sa, sb = assert(net.wrap(a)), assert(net.wrap(b))
        return {sock = sa, peer = sb, owned = {sa, sb}, dgram = true}
    end},
    {'seqpacket pair (base class)', function()
        -- net.Socket's own methods: net.wrap gives that class to a type no
        -- class is registered for (a SOCK_RAW socket, which only root may
        -- make); a seqpacket pair adopted as net.wrap adopts stands in
        local adopt, adopted = require('net.util.socket').adopt, require('net.util.wait').adopted
        local a, b = core.sock_pair(K.AF_UNIX, K.SOCK_SEQPACKET, 0, K.CLOEXEC)
        assert(a >= 0, 'socketpair failed')
        local sa, sb = adopt(net.Socket, a, nil, adopted), adopt(net.Socket, b, nil, adopted)
        return {sock = sa, peer = sb, owned = {sa, sb}, dgram = true}
    end},
    {'udp socket', function()
        local inet = require('net.dgram.inet')
        local a = assert(inet.new {host = '127.0.0.1', port = 0})
        local b = assert(inet.new {host = '127.0.0.1', port = 0})
        assert(a:connect(assert(b:getsockname())) == nil)
        assert(b:connect(assert(a:getsockname())) == nil)
        return {sock = a, peer = b, port = assert(b:getsockname()):port(), owned = {a, b}, dgram = true}
    end},
    {'unix dgram socket', function()
        local unix = require('net.dgram.unix')
        local pa, pb = fresh_path(), fresh_path()
        local a = assert(unix.new {path = pa})
        local b = assert(unix.new {path = pb})
        assert(a:connect(assert(b:getsockname())) == nil)
        assert(b:connect(assert(a:getsockname())) == nil)
        return {sock = a, peer = b, owned = {a, b}, dgram = true, paths = {pa, pb}}
    end},
    {'stream pair', function()
        local p = assert(require('net.stream').pair())
        return {sock = p[1], peer = p[2], owned = {p[1], p[2]}}
    end},
    {'tcp server', function()
        local srv, port = tcp_server()
        return {sock = srv, port = port, owned = {srv}, listening = true}
    end},
    {'tcp client', function()
        local srv, port = tcp_server()
        local c = assert(require('net.stream.inet').client.new {host = '127.0.0.1', port = port})
        local a = assert(srv:accept())
        return {sock = c, peer = a, port = port, owned = {c, a, srv}}
    end},
    {'tcp accepted', function()
        local srv, port = tcp_server()
        local c = assert(require('net.stream.inet').client.new {host = '127.0.0.1', port = port})
        local a = assert(srv:accept())
        return {sock = a, peer = c, port = port, owned = {a, c, srv}}
    end},
    {'unix server', function()
        local srv, path = unix_server()
        return {sock = srv, path = path, owned = {srv}, listening = true}
    end},
    {'unix client', function()
        local srv, path = unix_server()
        local c = assert(require('net.stream.unix').client.new {path = path})
        local a = assert(srv:accept())
        return {sock = c, peer = a, path = path, owned = {c, a, srv}}
    end},
}

-- The states a socket is called in. A state that does not apply to a
-- fixture (a peer for a listening socket) returns false.
local STATES = {
    -- data (or a connection) is waiting
    {'ready', function(fx)
        if fx.listening then
            local mod = fx.path and require('net.stream.unix') or require('net.stream.inet')
            local c = assert(mod.client.new(fx.path and {path = fx.path}
                                            or {host = '127.0.0.1', port = fx.port}))
            fx.owned[#fx.owned + 1] = c
        else
            assert(fx.peer:send('hello parity') == 12)
        end
        assert(readable(fx.sock), 'fixture: nothing arrived')
    end},
    -- nothing waiting: recv and accept would block (EAGAIN)
    {'idle', function() end},
    -- the other end is closed
    {'peer closed', function(fx)
        if not fx.peer then return false end
        fx.peer:close()
        -- a datagram socket is not told of its peer's close
        assert(fx.dgram or readable(fx.sock), 'fixture: the close did not arrive')
    end},
    -- the other end sent data and closed
    {'peer sent and closed', function(fx)
        if not fx.peer then return false end
        assert(fx.peer:send('last words') == 10)
        fx.peer:close()
        assert(readable(fx.sock), 'fixture: nothing arrived')
    end},
    -- the socket itself is closed
    {'closed', function(fx) fx.sock:close() end},
}

M.MAKERS, M.STATES = MAKERS, STATES

-- A fixture of maker m in state s: fx, or false when s does not apply.
function M.fixture(m, s)
    reserve_low_fds()
    local fx = MAKERS[m][2]()
    fx.class = getmetatable(fx.sock)
    fx.fds = {}
    local labels = {sock = fx.sock, peer = fx.peer}
    for label, sock in pairs(labels) do
        fx.fds[sock[1]] = label
    end
    -- non-blocking through the primitive, so no method is called before the
    -- one under test
    for _, sock in ipairs(fx.owned) do
        assert(core.sock_nonblock(sock[1], 1) == 1)
    end
    if STATES[s][2](fx) == false then
        M.release(fx)
        return false
    end
    return fx
end

-- Closes every socket of fx at once (SO_LINGER 0: a TCP close resets and
-- leaves no TIME_WAIT behind, so thousands of fixtures stay cheap) and
-- removes its unix path.
function M.release(fx)
    for _, sock in ipairs(fx.owned) do
        if sock[1] >= 0 then core.sock_linger(sock[1], 1, 0) end
        sock:close()
    end
    if fx.path then os.remove(fx.path) end
    for _, path in ipairs(fx.paths or {}) do os.remove(path) end
end

-- ------------------------------------------------------------ arguments --

local BIG = 8 * 1024 * 1024 -- more than any socket buffer: a partial send
local big_string

local function buffer_with(cap, content)
    local buf = assert(require('net.buffer').new(cap))
    if content then
        -- fill through the public API: a stream pair carries the bytes
        local p = assert(require('net.stream').pair())
        assert(p[1]:send(content) == #content)
        assert(p[2]:recvinto(buf) == #content)
        p[1]:close(); p[2]:close()
    end
    return buf
end

-- The argument lists every method is called with (after self). Each is
-- {label, make(fx) -> packed args}; `partial` marks a send larger than any
-- socket buffer, whose byte count depends on the kernel's buffer sizes.
local function args(label, ...)
    local list = pack(...)
    return {label, function() return list end}
end

-- The short ones are used in every state, the others in 'ready' only.
local function short(...)
    local a = args(...)
    a.short = true
    return a
end

M.ARGS = {
    short('()'), short('(nil)', nil), args('(nil, nil)', nil, nil), args('(nil, 0)', nil, 0),
    short('(true)', true), short('(false)', false), args('(true, 0)', true, 0),
    short('(0)', 0), args('(1)', 1), args('(-1)', -1), args('(1.5)', 1.5), short('(64)', 64),
    args('(4096)', 4096),
    -- not 2^31-1: recv(2^31-1) is valid and makes the FFI backend zero a
    -- 2 GiB one-off buffer, a second per call
    args('(2^31)', 2 ^ 31), args('(2^53)', 2 ^ 53),
    args('(-2^31)', -2 ^ 31), args('(inf)', 1 / 0), args('(-inf)', -1 / 0), args('(nan)', 0 / 0),
    args('("")', ''), short('("data")', 'data'), args('("12")', '12'), args('({})', {}),
    args('(64, 0)', 64, 0), args('(64, 1.5)', 64, 1.5), args('(64, -1)', 64, -1),
    args('(64, 2^31)', 64, 2 ^ 31), args('(64, "x")', 64, 'x'), args('(64, true)', 64, true),
    args('(nil, MSG_PEEK)', nil, K.MSG_PEEK), args('(4, MSG_PEEK)', 4, K.MSG_PEEK),
    args('("data", 0)', 'data', 0), args('("data", -1)', 'data', -1),
    args('("data", 0.5)', 'data', 0.5), args('("data", {})', 'data', {}),
    args('(1, 0, 0)', 1, 0, 0),
    args('({"one", "two"})', {'one', 'two'}),
    -- recvmany's batch form: a fresh net.dgram.Batch each call
    {'(2, 64, batch)', function() return pack(2, 64, require('net.dgram').batch()) end},
    -- an address: the peer's (fx.peer), or a unix path where nothing is
    {'(address)', function(fx) return pack(M.address(fx)) end},
    {'("data", address)', function(fx) return pack('data', M.address(fx)) end},
    {'("", address)', function(fx) return pack('', M.address(fx)) end, short = true},
    {'("data", address, 0)', function(fx) return pack('data', M.address(fx), 0) end},
    {'({{"data", address}})', function(fx) return pack({{'data', M.address(fx)}}) end},
    {'(big string)', function()
        big_string = big_string or ('x'):rep(BIG)
        return pack(big_string)
    end, partial = BIG, short = true},
    {'(empty buffer/16)', function() return pack(buffer_with(16)) end, short = true},
    {'(buffer "buffered")', function() return pack(buffer_with(16, 'buffered')) end, short = true},
    {'(full buffer/4)', function() return pack(buffer_with(4, 'full')) end},
    {'(empty buffer/16, 4)', function() return pack(buffer_with(16), 4) end},
    {'(empty buffer/16, 17)', function() return pack(buffer_with(16), 17) end},
    {'(empty buffer/16, 0)', function() return pack(buffer_with(16), 0) end},
    {'(empty buffer/16, nil, MSG_PEEK)', function() return pack(buffer_with(16), nil, K.MSG_PEEK) end},
    {'(empty buffer/16, 2.5)', function() return pack(buffer_with(16), 2.5) end},
    {'(buffer "buffered", 0)', function() return pack(buffer_with(16, 'buffered'), 0) end},
    {'(buffer "buffered", "x")', function() return pack(buffer_with(16, 'buffered'), 'x') end},
}

-- An address to give methods that take one: the peer's name when fx has
-- a peer, else a unix path in the temporary directory where nothing is.
function M.address(fx)
    if fx and fx.peer and fx.peer[1] >= 0 then
        local ai = fx.peer:getsockname()
        if ai then return ai end
    end
    return assert(require('net.stream').getaddrinfoun {path = tmp() .. '/nowhere'})[1]
end

-- Values that are not a socket, called as self (no fixture).
M.SELVES = {
    {'nil', nil}, {'42', 42}, {'"str"', 'str'}, {'{}', {}}, {'{"x"}', {'x'}},
    {'{-1}', {-1}}, {'{"-1"}', {'-1'}}, {'true', true},
}

-- -------------------------------------------------------------- results --

-- Numbers as text alike on every Lua: integral values without ".0" (LuaJIT
-- and 5.1 have no integer subtype), NaN without a sign. With exact (one
-- runtime against itself), 5.3+'s subtype is shown too.
local function number(v, exact)
    local s
    if v ~= v then
        s = 'nan'
    elseif v == 1 / 0 then
        s = 'inf'
    elseif v == -1 / 0 then
        s = '-inf'
    elseif v % 1 == 0 and v > -2 ^ 63 and v < 2 ^ 63 then
        s = ('%.0f'):format(v)
    else
        s = ('%.17g'):format(v)
    end
    if exact and math.type then s = s .. ':' .. math.type(v) end
    return s
end

-- A string in quotes, every byte that is not printable ASCII (and the
-- quote and backslash) as \ddd: %q writes control bytes differently on
-- 5.1 and 5.4.
local function quote(s)
    if #s > 64 then return ('<string of %d bytes>'):format(#s) end
    return '"' .. s:gsub('.', function(c)
        local b = c:byte()
        if b < 32 or b > 126 or c == '"' or c == '\\' then return ('\\%03d'):format(b) end
    end) .. '"'
end

-- A Lua error message in one form on every runtime: paths cut to the file
-- name, and the wording PUC 5.2+ and 5.1/LuaJIT use for the same runtime
-- error brought together (names of variables dropped).
function M.message(msg)
    if type(msg) ~= 'string' then return '<' .. type(msg) .. ' error value>' end
    msg = msg:gsub('[^%s:]*/([%w_]+%.lua):(%d+):', '%1:%2:')
    msg = msg:gsub(" %((%a+) '[^']*'%)", ''):gsub("(attempt to %a+) %a+ '[^']*' (%(a %a+ value%))", '%1 %2')
    msg = msg:gsub('%(a (%a+) value%)', 'a %1 value')
    if tmpdir then msg = msg:gsub(tmpdir:gsub('%p', '%%%0'), '<tmp>') end
    return msg
end

local value

-- This process's id: peercred() reports it (its first result, which value()
-- is told of: any other number may equal it), and it differs from run to run.
local PID = (function()
    local f = assert(io.open('/proc/self/stat'))
    local pid = tonumber(f:read('*l'):match('^(%d+)'))
    f:close()
    return pid
end)()

local function addrinfo_text(ai, fx, exact)
    local port = ai:port()
    if port and port ~= 0 then
        port = (fx and port == fx.port) and '<server port>' or '<port>'
    else
        port = value(port, fx, exact)
    end
    local addr = M.message(quote(ai:addr() or '?'))
    -- a fixture's own unix path (each fixture makes fresh ones) by its place
    for i, path in ipairs(fx and fx.paths or {}) do
        if ai:addr() == path then addr = '<fixture path ' .. i .. '>' end
    end
    return ('addrinfo(%s, %s, %s, %s, %s)'):format(number(ai:family()), number(ai:socktype()),
        number(ai:protocol()), addr, port)
end

function value(v, fx, exact, partial, a_pid)
    local t = type(v)
    if t == 'number' then
        if fx and fx.fds[v] and v >= 100 then return '<fd of ' .. fx.fds[v] .. '>' end
        if partial and v > 0 and v < partial then return '<partial>' end
        if a_pid and v == PID then return '<pid>' end
        return number(v, exact)
    elseif t == 'string' then
        return M.message(quote(v))
    elseif t == 'table' then
        local mt = getmetatable(v)
        if mt == require('net.addrinfo').AddrInfo then return addrinfo_text(v, fx, exact) end
        if mt == require('net.buffer').Buffer then
            return ('buffer(%d/%d %s)'):format(v:len(), v:capacity(), quote(v:tostring()))
        end
        if mt == require('net.dgram').Batch then
            local parts = {}
            for i = 1, #v do
                parts[i] = ('%s from %s cut %s'):format(quote(v[i]), addrinfo_text(v:sender(i), fx, exact),
                    value(v:cut(i), fx, exact))
            end
            return ('batch(%d: %s)'):format(#v, table.concat(parts, '; '))
        end
        if is_socket_class(mt) then
            return mt._NAME .. (v[1] >= 0 and '(open)' or '(closed)')
        end
        return 'table'
    end
    return tostring(v)
end
M.value = value

-- Calls method(self, ...) from one fixed line, so that an argument error's
-- position is the same for every path; returns the packed pcall results.
local function invoke(method, self, a)
    return pack(pcall(function() local r = pack(method(self, unpack(a, 1, a.n))); return r end))
end

-- One line of text for a call: its results (all of them, trailing nils
-- counted) or the message it raised, then what the buffer arguments hold
-- and whether self is still open.
function M.call(method, self, a, fx, exact, partial)
    local r = invoke(method, self, a)
    local out
    if r[1] then
        local parts, res = {}, r[2]
        local pid_first = type(self) == 'table' and method == self.peercred -- pid, uid, gid
        for i = 1, res.n do parts[i] = value(res[i], fx, exact, partial, pid_first and i == 1) end
        out = 'returns ' .. res.n .. ': ' .. table.concat(parts, ', ')
    elseif not fx and not exact then
        -- A self that is not a socket is a programming error: it raises on
        -- every runtime, with the backend's own wording (doc/reference.md,
        -- "A wrong self"): across runtimes, that it raises is compared;
        -- within one process (exact), the message too.
        out = 'raises (self is not a socket)'
    else
        out = 'raises ' .. M.message(r[2])
    end
    for i = 1, a.n do
        local mt = getmetatable(a[i])
        if mt == require('net.buffer').Buffer or mt == require('net.dgram').Batch then
            out = out .. ' | arg ' .. i .. ' ' .. value(a[i], fx, exact)
        end
    end
    if fx then out = out .. ' | self ' .. value(fx.sock) end
    -- sockets a call returned are closed now, not by the collector later
    if r[1] then
        for i = 1, r[2].n do
            local v = r[2][i]
            if type(v) == 'table' and is_socket_class(getmetatable(v)) then v:close() end
        end
    end
    return out
end

-- Fails, naming them, when some method function of some class is called on
-- no fixture (a new class or method with no way to make its socket here).
function M.check_coverage(classes)
    local reached = {}
    for m = 1, #MAKERS do
        local fx = M.fixture(m, 2)
        for _, c in ipairs(classes) do
            if c.class == fx.class then
                for _, name in ipairs(c.methods) do reached[c.class[name]] = true end
            end
        end
        M.release(fx)
    end
    local missing = {}
    for _, c in ipairs(classes) do
        for _, name in ipairs(c.methods) do
            if not reached[c.class[name]] then missing[#missing + 1] = c.name .. ':' .. name end
        end
    end
    return missing
end

return M
