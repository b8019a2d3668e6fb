-- net.reader: buffered reading of a stream socket (a line, exactly n bytes,
-- everything until the end, up to a delimiter), as LuaSocket's receive('*l'),
-- receive(n) and receive('*a') give it. The socket receives into one
-- net.buffer (sock:recvinto: the kernel writes into the buffer's memory),
-- items are found there without a string (buf:find, a memmem) and leave it
-- as the one string returned: no copy but that one.
--
-- Unread bytes: those of the buffer from position _pos on (bytes before
-- _pos were taken but not moved yet: moving waits until room is needed), and
-- before them, in _pieces, whatever did not fit in the buffer while an item
-- longer than the buffer was being read ("spilled" strings, _plen bytes in
-- all, after the first _poff bytes of the first piece, which were taken:
-- an item taken from the pieces moves _poff, it copies only itself, so
-- many short items from a large spill cost their own length, not the
-- spill's each). Positions in the unread bytes ("absolute", 1-based) run through the
-- pieces first, then the buffer. Reading more never makes the unread bytes
-- exceed _max: a peer cannot make the reader hold more than that.
local core = require('net.core')
local classes = require('net.util.class')
local class, is_a = classes.new, classes.is_a
local args = require('net.util.args')
local result = require('net.util.result')
local buffer = require('net.buffer')
local stream = require('net.stream')

local type, getmetatable, setmetatable, tostring = type, getmetatable, setmetatable, tostring
local now, running = core.now, coroutine.running
local concat, min, floor = table.concat, math.min, math.floor
local argerror, NOT_INTEGER, check_self = args.error, args.NOT_INTEGER, args.self
local EINVAL_MSG = result.EINVAL
local MSG_PEEK = core.constants.MSG_PEEK
local StreamSocket = stream.Socket

local Reader = class('net.reader')

local M = {
    Reader = Reader,
    -- What an item longer than max returns as its error: the message of
    -- EMSGSIZE, so it reads like every other error of lua-net.
    TOO_LONG = core.strerror(-core.constants.EMSGSIZE),
}
local TOO_LONG = M.TOO_LONG

local DEFAULT_SIZE = 8192
local DEFAULT_MAX = 1048576
-- net.buffer's largest capacity, LuaJIT's largest string (the backend's
-- max_size): no item can be longer.
local LIMIT = core.max_size

-- new's options: whole numbers.
local function whole(key)
    return {'number', check = function(v)
        if v % 1 ~= 0 then return "option '" .. key .. "': " .. NOT_INTEGER end
    end}
end
local OPTIONS = {size = whole('size'), max = whole('max')}

-- new(sock[, {size = bytes, max = bytes}]): a reader of sock (a
-- net.stream.Socket or subclass). size: the buffer's capacity (default
-- 8192; cut to max when larger); max: the most unread bytes the reader
-- holds (default 1 MiB). Both from 1 to 2^31 - 256, else nil, EINVAL.
function M.new(sock, opts)
    if not is_a(sock, StreamSocket) then
        local what = type(sock) == 'table' and (getmetatable(sock) or {})._NAME or type(sock)
        argerror('new', 1, 'net.stream.Socket expected, got ' .. tostring(what))
    end
    opts = args.options('new', opts, OPTIONS, true, 2)
    local size, max = opts.size, opts.max
    size = size and floor(size) or DEFAULT_SIZE
    max = max and floor(max) or DEFAULT_MAX
    if size < 1 or size > LIMIT or max < 1 or max > LIMIT then return nil, EINVAL_MSG end
    local buf, err = buffer.new(min(size, max))
    if not buf then return nil, err end
    return setmetatable({_sock = sock, _buf = buf, _pos = 1, _pieces = {}, _plen = 0,
                         _poff = 0, _max = max}, Reader)
end

-- The count of unread bytes.
local function held(self)
    local buf = self._buf
    return self._plen + buf._len - self._pos + 1
end

-- The piece holding absolute position x (1 .. _plen): its index, and the
-- position of x in that string. Looked for from the last piece: a search
-- goes on near the end of what is held.
local function piece_at(self, x)
    local pieces = self._pieces
    local start, i = self._plen + 1, #pieces
    while true do
        start = start - #pieces[i] + (i == 1 and self._poff or 0)
        if start <= x then break end
        i = i - 1
    end
    return i, x - start + 1 + (i == 1 and self._poff or 0)
end

-- The unread bytes of the pieces from absolute position from (<= _plen)
-- on, as a string and the position of from in it: the last piece itself
-- when from is in it (no copy), else the pieces from the one holding from
-- joined (only those that reach back to from).
local function pieces_from(self, from)
    local pieces = self._pieces
    local i, at = piece_at(self, from)
    if i == #pieces then return pieces[i], at end
    return concat(pieces, '', i), at
end

-- The deadline all the reads of one reader call share, from its first
-- read: the socket's settimeout applies to the item, not to each read, so
-- a peer sending a byte at a time cannot hold a call longer than it. false
-- without a settimeout (each read waits as the socket says).
local function item_deadline(self)
    local timeout = self._sock._timeout
    return timeout ~= nil and now() + timeout
end

-- sock[method](sock, a, b) with the deadline by (false: the socket's own).
-- The socket's deadline_of (net.util.wait) takes by for this coroutine's
-- read only: another coroutine's call of the same socket meanwhile keeps
-- its own. (A read that needs no deadline leaves it: cleared here.)
local function read_by(sock, by, method, a, b)
    if not by then return sock[method](sock, a, b) end
    sock._call_at, sock._call_co = by, running()
    local r1, r2, r3, r4 = sock[method](sock, a, b)
    sock._call_at, sock._call_co = nil, nil
    return r1, r2, r3, r4
end

-- Reads more into the buffer, by the deadline by (item_deadline's): the
-- count, or recvinto's other results (nil,
-- err | nil, nil, true | nil, nil, nil[, reason]), or nil, TOO_LONG when
-- the reader holds max bytes and the stream has more (a peek tells: a
-- stream that ends right there is an end, not a failure).
local function fill(self, by)
    local buf, pos = self._buf, self._pos
    local len, cap = buf._len, buf._cap
    local unread = len - pos + 1
    local want = self._max - self._plen - unread
    if want <= 0 then
        local s, err, again, reason = read_by(self._sock, by, 'recv', 1, MSG_PEEK)
        if s then return nil, TOO_LONG end
        return nil, err, again, reason
    end
    if unread == 0 then
        buf:clear()
        self._pos = 1
    elseif pos > 1 and cap - len < cap / 2 then
        -- room is short: move the unread bytes to the front (what they
        -- moved over was taken already)
        buf:consume(pos - 1)
        self._pos = 1
    end
    if buf._len == cap then
        -- the unread bytes fill the buffer: an item longer than it. They
        -- move out to a string ("spill"), the buffer takes what follows.
        local pieces = self._pieces
        pieces[#pieces + 1] = buf:tostring(self._pos, cap)
        self._plen = self._plen + cap - self._pos + 1
        buf:clear()
        self._pos = 1
    end
    local room = cap - buf._len
    if want > room then want = room end
    return read_by(self._sock, by, 'recvinto', buf, want)
end

-- The absolute position of the first delim starting at or after absolute
-- position from, or nil and the position to search from once more bytes
-- came (starts before it are decided: no delimiter begins there).
local function search(self, delim, from)
    local d = #delim
    local buf, pos, plen = self._buf, self._pos, self._plen
    local unread = buf._len - pos + 1
    if from <= plen then
        -- a delimiter that begins in the pieces: search them, with the
        -- first bytes of the buffer a delimiter may reach into
        local head = min(d - 1, unread)
        local s, at = pieces_from(self, from)
        local k = s:find(delim, at, true)
        if k then return from + k - at end
        if head > 0 then
            -- one that reaches into the buffer begins in the last d - 1
            -- bytes of the pieces (after every one inside them)
            local edge_at = #s - d + 2
            if edge_at < at then edge_at = at end
            k = (s:sub(edge_at) .. buf:tostring(pos, pos + head - 1)):find(delim, 1, true)
            if k then return from + edge_at - at + k - 1 end
        end
        if head < d - 1 then -- too few bytes after the pieces to decide
            local next_from = plen + head - d + 2
            return nil, next_from > from and next_from or from
        end
        from = plen + 1
    end
    local p = buf:find(delim, pos + from - plen - 1)
    if p then return plen + p - pos + 1 end
    local next_from = plen + unread - d + 2
    return nil, next_from > from and next_from or from
end

-- The byte at absolute position x (1 .. held).
local function byte_at(self, x)
    local plen = self._plen
    if x > plen then return self._buf:byte(self._pos + x - plen - 1) end
    local i, at = piece_at(self, x)
    return self._pieces[i]:byte(at)
end

-- The first e unread bytes as a string, and the first upto (>= e) dropped.
local function take(self, e, upto)
    local buf, pos, plen = self._buf, self._pos, self._plen
    self._sdelim = nil
    local s
    if plen == 0 then
        s = e > 0 and buf:tostring(pos, pos + e - 1) or ''
        pos = pos + upto
    else
        -- the pieces as one string (joined once: later items are taken
        -- from it in place), whose first poff bytes were taken
        local pieces, poff = self._pieces, self._poff
        local all = #pieces == 1 and pieces[1] or concat(pieces)
        if e <= plen then
            s = all:sub(poff + 1, poff + e)
        else
            s = all:sub(poff + 1) .. buf:tostring(pos, pos + e - plen - 1)
        end
        -- the pieces' table is kept, its entries replaced: no table per item
        for i = #pieces, 1, -1 do pieces[i] = nil end
        if upto >= plen then
            self._plen, self._poff = 0, 0
            pos = pos + upto - plen
        else
            poff, plen = poff + upto, plen - upto
            -- once more of it is taken than left, the rest is copied out
            -- (each byte copied a bounded number of times in all), so a
            -- large string does not stay for a short rest
            if poff > plen then all, poff = all:sub(poff + 1), 0 end
            pieces[1], self._plen, self._poff = all, plen, poff
        end
    end
    if pos > buf._len then -- nothing left in the buffer: start it afresh
        buf:clear()
        pos = 1
    end
    self._pos = pos
    return s
end

-- What a call returns when fill gave no bytes: err (a failure, or
-- TOO_LONG) and again (try again: no bytes, or the deadline passed) keep
-- the unread bytes for the next call; the end of the stream returns them
-- all as the partial item (4th value; none when the reader held nothing)
-- with the reason of a stream cut off (5th).
local function ended(self, err, again, reason)
    if err then return nil, err end
    if again then return nil, nil, true end
    local n = held(self)
    if reason then
        return nil, nil, nil, n > 0 and take(self, n, n) or nil, reason
    elseif n > 0 then
        return nil, nil, nil, take(self, n, n)
    end
    return nil, nil, nil
end

local function keep_flag(fname, n, keep)
    if keep ~= nil and type(keep) ~= 'boolean' then
        argerror(fname, n, 'boolean expected, got ' .. type(keep), 1)
    end
    return keep
end

-- Up to and including the first delim; without it unless keep. crlf: the
-- delimiter is "\n" and a "\r" before it belongs to the end of the line.
local function delimited(self, delim, keep, crlf)
    local by
    while true do
        -- where the last search for delim stopped: the unread bytes before
        -- it hold no delim, so a retry (or this call once more bytes came)
        -- does not scan, and join the pieces of, everything held again.
        -- take() forgets it: bytes taken since (by another call of the
        -- reader while this one waited, too) move every position.
        local from = self._sdelim == delim and self._sfrom or 1
        local at
        at, from = search(self, delim, from)
        if at then
            local stop = at + #delim - 1
            local e = at - 1
            if keep then
                e = stop
            elseif crlf and e >= 1 and byte_at(self, e) == 13 then
                e = e - 1
            end
            return take(self, e, stop)
        end
        self._sdelim, self._sfrom = delim, from
        if by == nil then by = item_deadline(self) end
        local n, err, again, reason = fill(self, by)
        if not n then return ended(self, err, again, reason) end
    end
end

-- r:line([keep]): a line ended by LF or CRLF, without its end (with it
-- when keep is true).
function Reader:line(keep)
    check_self('line', self, Reader)
    return delimited(self, '\n', keep_flag('line', 1, keep), true)
end

-- r:upto(delim[, keep]): the bytes up to the first delim (a non-empty
-- string), without it (with it when keep is true).
function Reader:upto(delim, keep)
    check_self('upto', self, Reader)
    if type(delim) ~= 'string' then
        argerror('upto', 1, 'string expected, got ' .. type(delim))
    end
    keep_flag('upto', 2, keep)
    if delim == '' then return nil, EINVAL_MSG end
    return delimited(self, delim, keep, false)
end

-- r:read(n): exactly n bytes (0 .. max).
function Reader:read(n)
    check_self('read', self, Reader)
    args.integer('read', 1, n)
    if n < 0 then return nil, EINVAL_MSG end
    n = floor(n) -- an integer on 5.3+ even when given 2.0: buffered() stays one
    if n > self._max then return nil, TOO_LONG end
    local by
    while held(self) < n do
        if by == nil then by = item_deadline(self) end
        local got, err, again, reason = fill(self, by)
        if not got then return ended(self, err, again, reason) end
    end
    return take(self, n, n)
end

-- r:all(): every byte until the stream ends ("" when it has ended and
-- nothing is left). A stream cut off is not an end: its bytes are partial.
function Reader:all()
    check_self('all', self, Reader)
    local by = item_deadline(self)
    while true do
        local got, err, again, reason = fill(self, by)
        if not got then
            if err or again or reason then return ended(self, err, again, reason) end
            local n = held(self)
            return take(self, n, n)
        end
    end
end

-- The count of bytes read from the socket and not taken yet.
function Reader:buffered()
    check_self('buffered', self, Reader)
    return held(self)
end

-- LuaSocket's dirty(): true when bytes wait in the reader, which a
-- readiness check on the fd (socket.select, poll) would not see.
function Reader:dirty()
    check_self('dirty', self, Reader)
    return held(self) > 0
end

-- LuaSocket's getfd(): the socket's fd, -1 once it is closed; with dirty()
-- it lets socket.select take the reader itself.
function Reader:getfd()
    check_self('getfd', self, Reader)
    return self._sock:getfd()
end

function Reader:__tostring()
    return self._NAME .. ': ' .. held(self) .. ' buffered'
end

return M
