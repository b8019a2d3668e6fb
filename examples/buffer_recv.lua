-- net.buffer: receive into one reusable buffer instead of a new string per
-- read. recvinto appends what arrived at the end of the buffer's content and
-- returns the count; the program takes complete lines from the front with
-- find/tostring/consume, and sends from a buffer without making a string either.
--
-- Run from the checkout (LuaJIT uses the FFI, Lua 5.1-5.4 the C module):
--   meson devenv -C build -w . luajit examples/buffer_recv.lua
--   meson devenv -C build -w . lua5.4 examples/buffer_recv.lua
local stream = require('net.stream')
local buffer = require('net.buffer')

local socks = assert(stream.pair())
local a, b = socks[1], socks[2]

-- Three messages, sent in pieces that do not match the lines.
assert(a:send('first line\nsec'))
assert(a:send('ond line\nthird'))
assert(a:send(' line\n'))
a:closew() -- end of stream after them

local buf = assert(buffer.new(16)) -- small on purpose: lines span reads
print('buffer:', buf)
local lines = {}
while true do
    local n, err = b:recvinto(buf)
    if n then
        print(('read %2d bytes -> %s'):format(n, tostring(buf)))
    elseif err then
        error(err)
    end
    -- Every complete line at the front of the buffer.
    while true do
        local nl = buf:find('\n') -- searches the memory, makes no string
        if not nl then break end
        lines[#lines + 1] = buf:tostring(1, nl - 1)
        buf:consume(nl)
    end
    if not n then break end -- nil, nil, nil: the peer closed
end
for i, line in ipairs(lines) do print(i, line) end
assert(table.concat(lines, '|') == 'first line|second line|third line', 'unexpected lines')

-- Sending from a buffer: its whole content goes out and stays in the buffer
-- until consumed.
assert(b:recvinto(buf) == nil) -- still end of stream
local pair2 = assert(stream.pair())
local c, d = pair2[1], pair2[2]
assert(c:send('ping'))
assert(d:recvinto(buf) == 4)
local sent = assert(d:send(buf))
buf:consume(sent)
local echo = c:recv()
print('echoed', sent, 'bytes:', echo, '; buffer now', buf)
assert(echo == 'ping' and buf:len() == 0)

a:close(); b:close(); c:close(); d:close()
