-- net.dgram: datagram sockets (net.dgram.Socket), connected pairs, and the
-- resolvers for inet and unix datagram addresses. A datagram is a message:
-- 0 bytes is an empty datagram (""); the end is a receive that finds the
-- reading end shut (closer(); net.Socket's MESSAGE rules). A datagram is
-- never cut silently: recv and recvfrom take the whole of any datagram up
-- to 65,536 bytes when no size is given, and report the datagram's full
-- length whenever it did not fit (the "cut" result).
local core = require('net.core')
local class = require('net.util.class').new
local args = require('net.util.args')
local result = require('net.util.result')
local socket = require('net.util.socket')
local make = require('net.util.make')
local wait = require('net.util.wait')
local fast = require('net.util.fast')
local addrinfo = require('net.addrinfo')
local Base = require('net.socket')

local type, getmetatable, setmetatable, pairs, rawequal = type, getmetatable, setmetatable, pairs, rawequal
local floor = math.floor
local K = core.constants
local AddrInfo = addrinfo.AddrInfo
local acted, fail, nothing, retry, AGAIN = result.acted, result.fail, result.nothing, wait.retry, result.AGAIN
local gave_up = wait.gave_up
local received, sent = result.MESSAGE.received, result.MESSAGE.sent
local argerror = args.error
local INT_MAX, NOT_INTEGER, EINVAL_MSG, EBADF_MSG = args.INT_MAX, args.NOT_INTEGER, result.EINVAL, result.EBADF
local sock_recvdgram, sock_sendto = core.sock_recvdgram, core.sock_sendto
local sock_recvmany, addr_copy = core.sock_recvmany, core.addr_copy
local SOCK_DGRAM, DONTWAIT = K.SOCK_DGRAM, K.MSG_DONTWAIT
-- The room a core keeps for a receive from call to call (4 MiB): recvmany
-- takes its room in windows of this much (fill, below).
local KEEP_SIZE = core.keep_size

-- The room a receive without a size gives: every UDP datagram (65,507 bytes
-- of payload at most) fits whole. A larger unix datagram is reported cut.
local DGRAM_ROOM = 65536

local dgram = {DGRAM_ROOM = DGRAM_ROOM}

local Socket = class('net.dgram.Socket', Base)
dgram.Socket = Socket
socket.register(SOCK_DGRAM, Socket)

-- A whole number argument n of fname within lo..hi: raises for another type
-- or a fraction, nil when outside. depth: helper frames between the method
-- and this (default 0).
local function whole_in(fname, n, v, lo, hi, depth)
    depth = (depth or 0) + 1
    if type(v) ~= 'number' then
        argerror(fname, n, 'number expected, got ' .. type(v), depth)
    elseif v % 1 ~= 0 then
        argerror(fname, n, NOT_INTEGER, depth)
    end
    if v >= lo and v <= hi then return v end
end

local function check_ai(fname, n, ai)
    if getmetatable(ai) ~= AddrInfo then
        argerror(fname, n, 'net.addrinfo expected, got ' .. type(ai), 1)
    end
end

-- The sender of a datagram as a net.addrinfo (an unnamed unix sender is a
-- unix address with path "": libnet gives it so).
local sender = addrinfo.sender

-- The sender of the datagram before. A socket mostly hears from the same
-- peers again and again, so recvfrom gives the last datagram's net.addrinfo
-- (immutable) again when the sender is the same: the primitive is handed
-- its address (like) and returns it, not a new one, when the sender's
-- address equals it. No address and no object per datagram then: most of
-- recvfrom's cost on LuaJIT (bench/RESULTS.md, W6). self._from is the
-- cache (net.capi's fast recvfrom reads it too: doc/internals.md).
local function last_sender_addr(self)
    local last = self._from
    return last and last._addr
end

-- The net.addrinfo of addr, the sender of the datagram just received
-- (sock_recvdgram given last_sender_addr(self)): the cached one when addr
-- is its address, else a new one, cached.
local function remember(self, addr)
    local from = self._from
    if not (from and rawequal(from._addr, addr)) then
        from = sender(addr)
        self._from = from
    end
    return from
end

-- What recvfrom, recv and a batch report of a datagram str whose full
-- length was full: nil when it is whole, else full (the rest is lost).
local function cut_of(str, full)
    return full > #str and full or nil
end

-- The address and full length of the last attempt of a retried receive
-- (retry passes on one result only; nothing runs between the last attempt
-- and the read of these).
local last_addr, last_full
local function recvdgram_attempt(fd, size, flags, like)
    local str, addr, full = sock_recvdgram(fd, size, flags, like)
    last_addr, last_full = addr, full
    return str
end

-- size, flags of recv/recvfrom (defaults: DGRAM_ROOM, 0), or nil when out of
-- range.
local function recv_args(fname, size, flags)
    if size == nil then
        size = DGRAM_ROOM
    else
        size = whole_in(fname, 1, size, 1, INT_MAX, 1)
        if not size then return nil end
    end
    if flags == nil then return size, 0 end
    -- MSG_TRUNC is libnet's to refuse, as every receive's ("Operation not
    -- supported"): the cut result is the method's own
    return size, whole_in(fname, 2, flags, 0, INT_MAX, 1)
end

-- The rest of a receive whose first attempt gave r, a code: str, addr,
-- full | nil, err, again (the MESSAGE rules; with a deadline or a waiter,
-- waited for). like: as sock_recvdgram's.
local function receive_rest(self, r, size, flags, like)
    if wait.dontwait(flags) then return received(r, self[1]) end
    local str, err = retry(self, 'r', r, recvdgram_attempt, size, flags, like)
    if str == nil then return gave_up(err) end
    if type(str) ~= 'string' then return received(str, self[1]) end
    return str, last_addr, last_full
end

-- What recvfrom of self returns for a datagram str from addr (a backend
-- address: the cached sender's own when the sender is the same) whose full
-- length was full. net.capi's fast recvfrom (PUC Lua) calls it for each
-- datagram it receives but one whole from the cached sender, whose results
-- (str, nil, nil, self._from, nil) it makes itself (doc/internals.md).
local function recvfrom_result(self, str, addr, full)
    return str, nil, nil, remember(self, addr), cut_of(str, full)
end

-- r: a code from recvfrom(self, size, flags) (flags nil: the fast path's
-- call, none).
local function recvfrom_other(self, r, size, flags)
    local str, addr, full = receive_rest(self, r, size, flags or 0, last_sender_addr(self))
    if not str then return nothing(addr, full) end -- (then addr, full are err, again)
    return recvfrom_result(self, str, addr, full)
end

-- str, nil, nil, ai, cut | nil, nil, true (try again, or the deadline
-- passed) | nil, err. ai is the sender (a net.addrinfo: the last datagram's
-- again when the sender is the same, see last_sender_addr); cut is nil when
-- the whole datagram is in str, else the datagram's full length in bytes
-- (#str < cut: the rest is lost, as the kernel drops it).
function Socket:recvfrom(size, flags)
    size, flags = recv_args('recvfrom', size, flags)
    if not flags then return nil, EINVAL_MSG end
    local str, addr, full = sock_recvdgram(self[1], size, flags, last_sender_addr(self))
    if type(str) == 'string' then return recvfrom_result(self, str, addr, full) end
    return recvfrom_other(self, str, size, flags)
end

-- recv([size[, flags]]): str, nil, nil, cut | nil, nil, true | nil, err; on
-- a connected socket (or any: the sender is not reported). cut as in
-- recvfrom.
function Socket:recv(size, flags)
    size, flags = recv_args('recv', size, flags)
    if not flags then return nil, EINVAL_MSG end
    -- the sender is not reported, but kept as recvfrom keeps it: a
    -- connected socket then makes no address per datagram
    local like = last_sender_addr(self)
    local str, addr, full = sock_recvdgram(self[1], size, flags, like)
    if type(str) ~= 'string' then
        str, addr, full = receive_rest(self, str, size, flags, like)
        if not str then return nothing(addr, full) end -- (err, again)
    end
    remember(self, addr)
    return str, nil, nil, cut_of(str, full)
end

-- n: a count below #str, or a code, from sendto(self, str, ai, flags)
-- (flags nil: the fast path's call, none).
local function sendto_other(self, n, str, ai, flags)
    flags = flags or 0
    if AGAIN[n] and not wait.dontwait(flags) then
        local err, timed_out
        n, err, timed_out = retry(self, 'w', n, sock_sendto, str, flags, ai._addr)
        if n == nil then
            if timed_out then return 0, nil, true end
            return nil, err
        end
    end
    return sent(n, #str)
end

-- len | 0, nil, true (try again, or the deadline passed) | nil, err. One
-- datagram of the bytes of str to ai (a net.addrinfo).
function Socket:sendto(str, ai, flags)
    if type(str) ~= 'string' then
        argerror('sendto', 1, 'string expected, got ' .. type(str))
    end
    check_ai('sendto', 2, ai)
    if flags == nil then
        flags = 0
    else
        flags = whole_in('sendto', 3, flags, 0, INT_MAX)
        if not flags then return nil, EINVAL_MSG end
    end
    local n = sock_sendto(self[1], str, flags, ai._addr)
    if n == #str then return n end
    return sendto_other(self, n, str, ai, flags)
end

-- On PUC Lua, sendto and recvfrom run their common call in C (net.util.fast:
-- no flags; recvfrom's results still made by recvfrom_result).
Socket.sendto = fast.method('sendto', Socket.sendto, sendto_other, AddrInfo)
Socket.recvfrom = fast.method('recvfrom', Socket.recvfrom, recvfrom_other, DGRAM_ROOM, recvfrom_result)

-- connect(ai): ai becomes the default peer (send, recv; datagrams from
-- others are dropped). connect(): dissolves it. err | nil.
function Socket:connect(ai)
    if ai == nil then return acted(core.sock_disconnect(self[1])) end
    check_ai('connect', 1, ai)
    return acted(core.sock_connect(self[1], ai._addr))
end

-- bind(ai): names an unbound socket. err | nil.
function Socket:bind(ai)
    check_ai('bind', 1, ai)
    return acted(core.sock_bind(self[1], ai._addr))
end

-- ---- multicast (inet and inet6; the level follows the socket's family) ----

-- mcastloop([bool]): whether the socket's own multicast comes back to it.
function Socket:mcastloop(on)
    local rc
    if on == nil then
        rc = core.sock_mcastloop(self[1], -1)
    elseif type(on) ~= 'boolean' then
        argerror('mcastloop', 1, 'boolean expected, got ' .. type(on))
    else
        rc = core.sock_mcastloop(self[1], on and 1 or 0)
    end
    if rc < 0 then return fail(rc) end
    return rc == 1
end

-- mcastttl([n]): the TTL (IPv6: hop limit) of outgoing multicast, 0..255.
function Socket:mcastttl(n)
    if n == nil then
        n = -1
    else
        n = whole_in('mcastttl', 1, n, 0, 255)
        if not n then return nil, EINVAL_MSG end
    end
    local rc = core.sock_mcastttl(self[1], n)
    if rc < 0 then return fail(rc) end
    return rc
end

-- A string argument that C reads up to a NUL: one with a NUL inside would
-- be read as another value.
local function text(fname, n, v, optional)
    if v == nil and optional then return true end
    if type(v) ~= 'string' then
        argerror(fname, n, 'string expected, got ' .. type(v), 1)
    end
    return not v:find('\0', 1, true)
end

-- mcastif([ifname]): the interface multicast goes out of, by name ("": the
-- routing table chooses). Returns the name in effect afterwards.
function Socket:mcastif(ifname)
    if not text('mcastif', 1, ifname, true) then return nil, EINVAL_MSG end
    local name = core.sock_mcastif(self[1], ifname)
    if type(name) == 'number' then return fail(name) end
    return name
end

-- Group membership, each err | nil: mcastjoin(group[, ifname]),
-- mcastleave(group[, ifname]) and the source-specific
-- mcastjoinsrc/mcastleavesrc/mcastblocksrc/mcastunblocksrc(group, source
-- [, ifname]). group and source are address literals of the socket's
-- family; without ifname the routing table chooses the interface.
local GROUP_OPS = {
    mcastjoin = K.MCAST_JOIN, mcastleave = K.MCAST_LEAVE,
    mcastjoinsrc = K.MCAST_JOINSRC, mcastleavesrc = K.MCAST_LEAVESRC,
    mcastblocksrc = K.MCAST_BLOCKSRC, mcastunblocksrc = K.MCAST_UNBLOCKSRC,
}
for name, op in pairs(GROUP_OPS) do
    local with_source = op ~= K.MCAST_JOIN and op ~= K.MCAST_LEAVE
    Socket[name] = function(self, group, a, b)
        local source, ifname = nil, a
        if with_source then source, ifname = a, b end
        local ok = text(name, 1, group)
        ok = (not with_source or text(name, 2, source)) and ok
        ok = text(name, with_source and 3 or 2, ifname, true) and ok
        if not ok then return EINVAL_MSG end
        return acted(core.sock_mcastgroup(self[1], op, group, source, ifname))
    end
end

-- ---- batches ------------------------------------------------------------------

-- At most this many datagrams per call (recvmmsg/sendmmsg take them in
-- system calls of 64 each).
local BATCH_MAX = 1024
-- The most room a batch asks for (max * size bytes, taken in windows: see
-- fill): that of the largest batch of the default size. A larger request
-- takes fewer datagrams (recvmany returns up to max anyway).
local MAX_AREA = BATCH_MAX * DGRAM_ROOM
dgram.BATCH_MAX = BATCH_MAX

-- A batch that recvmany fills, again and again: batch[i] is the bytes of
-- datagram i; the senders (backend addresses, overwritten by each call)
-- and full lengths are kept aside, and a sender becomes a net.addrinfo only
-- when asked (sender(i)). So a loop over batches makes no table and no
-- address per datagram.
local Batch = class('net.dgram.Batch')
dgram.Batch = Batch

-- batch() -> an empty net.dgram.Batch, for recvmany(max, size, batch).
local function new_batch()
    return setmetatable({_n = 0, _addrs = {}, _fulls = {}}, Batch)
end
dgram.batch = new_batch

-- The index i of datagram i of a batch, checked (self too) for fname.
local function entry(self, fname, i)
    if getmetatable(self) ~= Batch then
        argerror(fname, 0, 'net.dgram.Batch expected, got ' .. type(self), 1)
    end
    if not whole_in(fname, 1, i, 1, self._n, 1) then
        argerror(fname, 1, 'index out of range (1..' .. self._n .. ')', 1)
    end
    return i
end

-- sender(i): the sender of datagram i, a new net.addrinfo on each call
-- (of a copy: the next recvmany overwrites the batch's addresses).
function Batch:sender(i)
    i = entry(self, 'sender', i) -- self checked before it is indexed
    return sender(addr_copy(self._addrs[i]))
end

-- cut(i): nil when datagram i is whole, else its full length (as recvfrom).
function Batch:cut(i)
    i = entry(self, 'cut', i)
    return cut_of(self[i], self._fulls[i])
end

local function recvmany_attempt(fd, max, size, b)
    return sock_recvmany(fd, max, size, 0, b, b._addrs, b._fulls)
end

-- Fills b with up to max datagrams of at most size bytes: n | nil, err,
-- again (b unchanged). Entries past n of an earlier batch are cleared, so
-- #b is n; its addresses stay, to be overwritten by the next call.
-- The room is taken in windows of w datagrams, at most KEEP_SIZE bytes
-- (one datagram at least), the room a core keeps from call to call: a
-- larger area is mapped and freed by each call (one of max * size bytes
-- was 64 MiB for recvmany(1024)). The first window waits as the socket
-- does; each later one takes only what is queued (MSG_DONTWAIT, as
-- libnet's recvmmsg calls after its first do), into b from n + 1 on. The
-- batch ends at a window that comes back short or fails: a failure ends
-- it with what came, as libnet's own loop does (EAGAIN: nothing more is
-- queued), and one that lasts (a socket error, the reading end shut) is
-- the next call's result.
-- libnet checks the first datagram of each of its calls, so of a later
-- window's too: a unix sender's makes it read the socket type again; the
-- reading end shut says EAGAIN to MSG_DONTWAIT (UDP, unix datagrams): the
-- batch ends, and the next call, which may wait, says the end; a lone
-- empty datagram of an unbound unix sender, the last queued after
-- closer(), reads as the end, as it does for any receive; what
-- shut_before_more drops is never a datagram (a UDP one has a sender).
local function fill(self, b, max, size)
    local w = floor(KEEP_SIZE / size)
    if w < 1 then w = 1 end
    local ask = w < max and w or max
    local n = recvmany_attempt(self[1], ask, size, b)
    if n < 0 then
        local err
        n, err = retry(self, 'r', n, recvmany_attempt, ask, size, b)
        if n == nil then return gave_up(err) end
        if n < 0 then return received(n, self[1]) end
    end
    local got = n
    while got == ask and n < max do
        ask = max - n < w and max - n or w
        got = sock_recvmany(self[1], ask, size, DONTWAIT, b, b._addrs, b._fulls, n + 1)
        if got < 0 then break end
        n = n + got
    end
    for i = n + 1, b._n do b[i] = nil end
    b._n = n
    return n
end

-- recvmany(max[, size[, batch]]). Up to max (1..1024) datagrams already
-- queued, waiting (as the socket does) for the first only, in recvmmsg
-- calls of 64 where the platform has it; at most size bytes each (default
-- 65,536). Without batch: list | nil, nil, true (nothing waiting, or the
-- deadline passed) | nil, err; each entry is {data, ai, cut}: the bytes,
-- the sender (net.addrinfo), and nil or the full length of a datagram that
-- did not fit. With batch (a net.dgram.Batch, reused): n | nil, nil, true |
-- nil, err, and batch holds the n datagrams.
function Socket:recvmany(max, size, batch)
    max = whole_in('recvmany', 1, max, 1, BATCH_MAX)
    if size == nil then
        size = DGRAM_ROOM
    else
        size = whole_in('recvmany', 2, size, 1, 16 * 1024 * 1024)
    end
    if batch ~= nil and getmetatable(batch) ~= Batch then
        argerror('recvmany', 3, 'net.dgram.Batch expected, got ' .. type(batch))
    end
    if not (max and size) then return nil, EINVAL_MSG end
    if max * size > MAX_AREA then max = floor(MAX_AREA / size) end
    if batch then return fill(self, batch, max, size) end
    local b = new_batch()
    local n, err, again = fill(self, b, max, size)
    if not n then return nothing(err, again) end
    local list, addrs, fulls = {}, b._addrs, b._fulls
    for i = 1, n do
        list[i] = {b[i], sender(addrs[i]), cut_of(b[i], fulls[i])}
    end
    return list
end

-- The lists of strings and addresses that sendmany hands to the backend,
-- reused by the next call (taken while a call waits: a call meanwhile, in
-- another coroutine, makes its own), so a batch makes no table.
local spare_datas, spare_addrs = {}, {}
-- Gives the lists back, emptied of their n entries: kept full, they would
-- hold the strings and addresses.
local function give_back(datas, addrs, n)
    for i = 1, n do datas[i], addrs[i] = nil, nil end
    spare_datas, spare_addrs = datas, addrs
end

-- sendmany(list): n | n, nil, true (fewer went, or try again) | nil, err.
-- Each entry is a string (to the connected peer) or {data, ai}; at most
-- 1,024, in sendmmsg calls of 64 where the platform has it.
function Socket:sendmany(list)
    -- a plain table, as send's list: an object (a buffer, a batch, an
    -- addrinfo) is no list of datagrams, though # and [i] may read it as one
    if type(list) ~= 'table' then
        argerror('sendmany', 1, 'table expected, got ' .. type(list))
    elseif getmetatable(list) ~= nil then
        argerror('sendmany', 1, 'plain table expected, got one with a metatable')
    end
    local n = #list
    if n > BATCH_MAX then return nil, EINVAL_MSG end
    local datas, addrs = spare_datas or {}, spare_addrs or {}
    spare_datas, spare_addrs = nil, nil
    for i = 1, n do
        local m = list[i]
        if type(m) == 'string' then
            datas[i], addrs[i] = m, false
        elseif type(m) == 'table' and type(m[1]) == 'string'
            and getmetatable(m[2]) == AddrInfo then
            datas[i], addrs[i] = m[1], m[2]._addr
        else
            argerror('sendmany', 1, 'entry ' .. i .. ' is not a string or {string, net.addrinfo}')
        end
    end
    if self[1] < 0 or n == 0 then -- (a closed socket fails also for an empty list)
        give_back(datas, addrs, n)
        if self[1] < 0 then return nil, EBADF_MSG end
        return 0
    end
    local done = core.sock_sendmany(self[1], datas, addrs, n, 0)
    local err, timed_out
    if AGAIN[done] then
        done, err, timed_out = retry(self, 'w', done, core.sock_sendmany, datas, addrs, n, 0)
    end
    give_back(datas, addrs, n)
    if done == n then return n end
    if done == nil then
        if timed_out then return 0, nil, true end
        return nil, err
    end
    return sent(done, n)
end

-- pair([{nonblock = bool}]) -> {sock1, sock2}: two connected unix datagram
-- sockets (net.dgram.unix.Socket).
function dgram.pair(opts)
    opts = args.options('pair', opts, args.PAIR, true)
    -- a pair is always unix: its class has the unix methods (sendfd, ...);
    -- required here, as net.dgram.unix requires this module first
    return make.pair(require('net.dgram.unix').Socket, SOCK_DGRAM, opts.nonblock)
end

dgram.getaddrinfoin = make.getaddrinfoin(SOCK_DGRAM)
dgram.getaddrinfoun = make.getaddrinfoun(SOCK_DGRAM)

return dgram
