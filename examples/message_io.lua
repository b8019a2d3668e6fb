-- Message I/O: a gather write (a list of strings in one system call, no
-- concatenation in Lua), sendfile (a file's bytes straight from the kernel
-- to the socket, never through Lua), the peer's credentials on a unix
-- socket, and datagrams in batches (sendmany, recvmany: one system call for
-- many). Bounded, in one process: a unix stream pair, a temporary file and
-- two UDP sockets on 127.0.0.1. (Descriptor passing: examples/fd_passing.lua.)
--
-- Run from the checkout (LuaJIT uses the FFI, Lua 5.1-5.4 the C module):
--   meson devenv -C build -w . luajit examples/message_io.lua
--   meson devenv -C build -w . lua5.4 examples/message_io.lua
local stream = require('net.stream')
local dgram = require('net.dgram')
local udp = require('net.dgram.inet')

local pair = assert(stream.pair())
local a, b = pair[1], pair[2]

-- Reads exactly n bytes from sock.
local function read_exactly(sock, n)
    local parts, got = {}, 0
    while got < n do
        local s = assert(sock:recv(n - got))
        parts[#parts + 1] = s
        got = got + #s
    end
    return table.concat(parts)
end

-- 1. A gather write: the pieces go out in order, in one writev.
local pieces = { 'HTTP/1.0 200 OK\r\n', 'Content-Length: 5\r\n', '\r\n', 'hello' }
local n = assert(a:send(pieces))
print(('gather write: %d pieces, %d bytes'):format(#pieces, n))
assert(read_exactly(b, n) == table.concat(pieces))

-- 2. sendfile: a file by its path (opened and closed by the library), all of
-- it, then 4 bytes of it from offset 8, then from a file Lua has open.
local text = 'lua-net sendfile example\n'
local path = os.tmpname()
local f = assert(io.open(path, 'wb'))
f:write(text)
f:close()
local sent = assert(a:sendfile(path))
local bytes = read_exactly(b, sent)
print('sendfile sent', sent, 'bytes:', (bytes:gsub('\n', '')))
assert(bytes == text)
sent = assert(a:sendfile(path, 4, 8))
bytes = read_exactly(b, sent)
print('sendfile of 4 bytes from offset 8:', bytes)
assert(bytes == 'send')
f = assert(io.open(path, 'rb'))
sent = assert(a:sendfile(f, 7)) -- from the file's descriptor, at its position
f:close()
bytes = read_exactly(b, sent)
print('sendfile of an open Lua file, 7 bytes:', bytes)
assert(bytes == 'lua-net')
os.remove(path)

-- 3. Who is at the other end of a unix socket: here, this very process.
local pid, uid, gid = assert(b:peercred())
print('peer credentials: pid', pid, 'uid', uid, 'gid', gid)
-- Linux's /proc says who this process is (the second Uid and Gid numbers
-- are the effective ids, the ones peercred gives). Elsewhere pid may be -1
-- (see sock:peercred() in doc/reference.md), and this check is left out.
local status = io.open('/proc/self/status')
if status then
    local me = status:read('*a')
    status:close()
    assert(pid == tonumber(me:match('\nPid:%s*(%d+)')))
    assert(uid == tonumber(me:match('\nUid:%s*%d+%s+(%d+)')))
    assert(gid == tonumber(me:match('\nGid:%s*%d+%s+(%d+)')))
end

a:close()
b:close()

-- 4. Datagrams in batches: ten datagrams in one sendmmsg, then at most 32 in
-- one recvmmsg, each with its sender's address.
local receiver = assert(udp.new { host = '127.0.0.1' })
local sender = assert(udp.new { host = '127.0.0.1' })
local to = assert(receiver:getsockname())
local list = {}
for i = 1, 10 do list[i] = { 'datagram ' .. i, to } end
local count = assert(sender:sendmany(list))
print('sendmany sent', count, 'datagrams')
assert(count == #list)

assert(receiver:settimeout(1)) -- recvmany waits for the first, then takes what is queued
local got = {}
while #got < #list do
    local batch = assert(receiver:recvmany(32))
    for _, entry in ipairs(batch) do got[#got + 1] = entry end
end
print(('recvmany: %d datagrams, the first "%s" from %s'):format(#got, got[1][1], tostring(got[1][2])))
local from = tostring(assert(sender:getsockname()))
for i = 1, #list do assert(got[i][1] == list[i][1] and tostring(got[i][2]) == from) end
print('max per batch:', dgram.BATCH_MAX)
sender:close()
receiver:close()
print('done')
