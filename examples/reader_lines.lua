-- net.reader: lines, counted bytes and everything until the end from a
-- stream socket, with the socket's buffer doing the work (no string per
-- read; each item is the one string made). A small line protocol over TCP
-- on 127.0.0.1: a header of CRLF lines, a blank line, a body whose length
-- the header gives, then free text until the peer closes.
--
-- Run from the checkout (LuaJIT uses the FFI, Lua 5.1-5.4 the C module):
--   meson devenv -C build -w . luajit examples/reader_lines.lua
--   meson devenv -C build -w . lua5.4 examples/reader_lines.lua
local inet = require('net.stream.inet')
local reader = require('net.reader')

local server = assert(inet.server.new{host = '127.0.0.1', port = 0})
assert(server:listen() == nil)
local port = server:getsockname():port()
local client = assert(inet.client.new{host = '127.0.0.1', port = port})
local conn = assert(server:accept())

-- The peer: sent in pieces that cut the lines anywhere, even between CR
-- and LF (the reader does not care where reads end).
local message = 'HELLO 1\r\nLength: 11\r\nName: reader\r\n\r\nhello world'
    .. 'and the rest,\nas it comes,\nuntil the close'
for i = 1, #message, 7 do
    assert(client:send(message:sub(i, i + 6)))
end
client:close() -- the end of the stream after it

local r = assert(reader.new(conn, {max = 4096})) -- no line may be longer
conn:settimeout(5) -- each wait for more bytes: 5 seconds at most

local header = {}
local first = assert(r:line())
print('first line:', first)
while true do
    local line, err, again, partial = r:line()
    if not line then
        error('header: ' .. tostring(err or (again and 'timeout') or ('closed after ' .. tostring(partial))))
    end
    if line == '' then break end -- the blank line ends the header
    local name, value = line:match('^([^:]+):%s*(.*)$')
    header[name] = value
    print(('header %s = %q'):format(name, value))
end

local body = assert(r:read(tonumber(header.Length)))
print(('body (%d bytes): %q'):format(#body, body))

print('buffered now:', r:buffered())
local rest = assert(r:all()) -- until the peer closed
print(('the rest: %q'):format(rest))

-- Past the end, a line is the plain end: nil, nil, nil.
assert(select('#', r:line()) == 3 and r:line() == nil)
assert(first == 'HELLO 1' and header.Length == '11' and header.Name == 'reader')
assert(body == 'hello world' and rest == 'and the rest,\nas it comes,\nuntil the close')
conn:close()
server:close()
