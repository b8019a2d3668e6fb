-- net.poll: readiness of many sockets at once, over libnet's poll sets
-- (net_poll_*: epoll on Linux, poll(2) elsewhere). Written once over
-- net.core; the same on both backends.
--
--   local p = assert(require('net.poll').new())
--   p:add(sock, 'r')                 -- 'r', 'w' or 'rw'
--   local n, err = p:wait(timeout)   -- seconds; nil: no limit
--   for sock, ev in p:ready() do ... end
--
-- Stale events. The fd number of a closed socket is soon reused by the
-- kernel, so an event must never be taken for whatever holds the number
-- now. Three things see to it:
--  * each registration gets a new generation number, given to libnet as
--    its data word; wait keeps an event only when its data is the
--    generation of the current registration of that fd in this set;
--  * an event for a socket object whose fd is no longer the registered one
--    (closed: [1] is -1) is dropped, at wait and again when ready() reaches
--    it (a handler may close a later socket of the same round);
--  * forget(sock), which net.Socket:close() calls before it closes the fd,
--    removes the socket from every set it is in (a weak registry socket ->
--    sets), so epoll never keeps a registration for a closed fd (epoll(7):
--    a closed fd leaves the set by itself only when no dup of it exists).
-- A registered socket is held by the set (it cannot be collected, and its
-- fd closed by the collector, while registered).
local core = require('net.core')
local class = require('net.util.class').new
local args = require('net.util.args')
local result = require('net.util.result')
local collector = require('net.util.collect')
local wait = require('net.util.wait')
local socket = require('net.util.socket')

local type, setmetatable, pairs, next = type, setmetatable, pairs, next
local K = core.constants
local HANDLE_WAITABLE = K.POLL_WAITABLE == 1 -- (Poll:wait inside nginx)
local fail = result.fail
local argerror, check_self = args.error, args.self
local INT_MAX, NOT_INTEGER = args.INT_MAX, args.NOT_INTEGER
local POLLIN, POLLOUT = K.POLLIN, K.POLLOUT
local POLL_ADD, POLL_MOD, POLL_DEL = K.POLL_ADD, K.POLL_MOD, K.POLL_DEL
local poll_ctl, poll_wait, poll_event = core.poll_ctl, core.poll_wait, core.poll_event
local EBADF, ENOENT = -K.EBADF, -K.ENOENT

local Poll = class('net.poll')

-- What each events string asks for.
local MASKS = {r = POLLIN, w = POLLOUT, rw = POLLIN + POLLOUT}

-- An event's string, from the ready bits: 'r' when readable, and also on a
-- hang-up or error (the read reports what happened); 'w' when writable, and
-- also on a hang-up or error of a socket registered for writing (so a
-- writer waiting on it wakes and its send reports it). Indexed
-- [readable][writable] with 1/2 for no/yes.
local STRINGS = {{false, 'w'}, {'r', 'rw'}}

-- Each bit tested by division: the same on every Lua (no bit library in
-- 5.1, no operators before 5.3).
local function has(bits, bit)
    return bits % (bit + bit) >= bit
end
local POLLERR, POLLHUP, POLLPRI = K.POLLERR, K.POLLHUP, K.POLLPRI

local function compute_event_string(bits, mask)
    local trouble = has(bits, POLLERR) or has(bits, POLLHUP)
    local r = (has(bits, POLLIN) or has(bits, POLLPRI) or trouble) and 2 or 1
    local w = (has(bits, POLLOUT) or (trouble and has(mask, POLLOUT))) and 2 or 1
    return STRINGS[r][w]
end

-- The strings by key = bits * MASK_SPAN + mask, as they are met: a wait's
-- events are a few combinations, worked out once each instead of six
-- divisions per event. mask is POLLIN, POLLOUT or both: below MASK_SPAN.
-- collect reads the cache inline (a call per event costs PUC Lua 5% of a
-- W5 echo) and calls new_event_string on a miss.
local EVENT_STRINGS = {}
local MASK_SPAN = POLLIN + POLLOUT + 1
local function new_event_string(key, bits, mask)
    local str = compute_event_string(bits, mask)
    EVENT_STRINGS[key] = str
    return str
end

-- The generation of the next registration, in every set: whole numbers far
-- below 2^53 for as long as a process lives.
local generation = 0

-- socket object -> {set = true}: the sets it is registered in. Weak both
-- ways: neither the sockets nor the sets are kept alive by it.
local registry = setmetatable({}, {__mode = 'k'})
local WEAK_KEYS = {__mode = 'k'}
-- The sockets of a round (its list is read by ready() and net.loop): weak,
-- so a socket deleted (del) after the wait that reported it is not held
-- until the next wait. One still registered is held by _obj; an entry
-- that went is skipped as the registration it was (current()).
local WEAK_VALUES = {__mode = 'v'}

-- The fd of a socket object or raw fd argument; -1 when closed or not a
-- valid number. Raises for anything else.
local function fd_of(fname, sock)
    local t = type(sock)
    if t == 'table' then
        -- a socket object's number: whole, -1 once closed; a table holding
        -- anything else is no socket (C would take 4.5 as 4, and events of
        -- fd 4 would find no registration under 4.5)
        local fd = sock[1]
        if type(fd) ~= 'number' or fd % 1 ~= 0 or fd < -1 or fd > INT_MAX then
            argerror(fname, 1, 'socket or fd expected, got table', 1)
        end
        return fd
    elseif t == 'number' then
        if sock % 1 ~= 0 then argerror(fname, 1, NOT_INTEGER, 1) end
        if sock < 0 or sock > INT_MAX then return -1 end
        return sock
    end
    argerror(fname, 1, 'socket or fd expected, got ' .. t, 1)
end

local function mask_of(fname, events)
    local mask = MASKS[events]
    if mask == nil then
        if type(events) ~= 'string' then
            argerror(fname, 2, 'string expected, got ' .. type(events), 1)
        end
        argerror(fname, 2, "events must be 'r', 'w' or 'rw'", 1)
    end
    return mask
end

-- Whether obj, the registration of fd, still holds that fd: a raw fd is its
-- own number (compared first: a number cannot be indexed), a socket object
-- holds it at [1] until it is closed.
local function holds(obj, fd)
    return obj == fd or obj[1] == fd
end

-- Whether the registration of generation gen (a round's entry for obj)
-- is still fd's in set, and obj still holds fd: a registration removed and
-- made again since (del and add, a reused number) has another generation.
local function current(set, obj, fd, gen)
    return set._gen[fd] == gen and holds(obj, fd)
end

-- Records whether obj is in set (in_set: true, or nil for no) in the
-- registry, dropping obj's entry once no set is left in it.
local function set_membership(obj, set, in_set)
    local sets = registry[obj]
    if sets then
        sets[set] = in_set
        if next(sets) == nil then registry[obj] = nil end
    end
end

-- Drops obj's registration in set (the kernel's too, while the set is open
-- and obj's number is still obj's registration there).
local function unregister(set, obj)
    local fd = set._fd[obj]
    if fd == nil then return end
    set._fd[obj] = nil
    if set._obj[fd] == obj then
        if set[1] >= 0 then poll_ctl(set[1], POLL_DEL, fd, 0, 0) end
        set._obj[fd], set._gen[fd], set._mask[fd] = nil, nil, nil
        set._count = set._count - 1
    end
    set_membership(obj, set, nil)
end

-- Every method checks its self first (net.util.args): p.wait() for
-- p:wait() raises a bad argument instead of indexing nil.

function Poll:__tostring()
    local pfd = self[1]
    return 'net.poll' .. (pfd >= 0 and (': fd ' .. pfd) or ': closed')
end

function Poll:add(sock, events)
    check_self('add', self, Poll)
    local fd = fd_of('add', sock)
    local mask = mask_of('add', events)
    local pfd = self[1]
    if fd < 0 or pfd < 0 then return fail(EBADF) end
    local old = self._obj[fd]
    -- a closed socket still holding the number: its registration is stale
    if old ~= nil and old ~= sock and not holds(old, fd) then
        unregister(self, old)
    end
    generation = generation + 1
    -- The records first, the kernel's registration last: PUC Lua raises a
    -- memory error from any allocation, and a registration the records do
    -- not know could be neither deleted nor added again (and a wait would
    -- spin on its events). A failed ADD puts back what was there, which
    -- allocates nothing.
    local obj, gen, msk, was_fd = self._obj[fd], self._gen[fd], self._mask[fd], self._fd[sock]
    self._obj[fd], self._gen[fd], self._mask[fd] = sock, generation, mask
    self._fd[sock] = fd
    local sets, was_in
    if type(sock) == 'table' then
        sets = registry[sock]
        if not sets then
            sets = setmetatable({}, WEAK_KEYS)
            registry[sock] = sets
        end
        was_in = sets[self]
        sets[self] = true
    end
    local rc = poll_ctl(pfd, POLL_ADD, fd, mask, generation)
    if rc < 0 then
        self._obj[fd], self._gen[fd], self._mask[fd] = obj, gen, msk
        self._fd[sock] = was_fd
        if sets then set_membership(sock, self, was_in) end
        return fail(rc)
    end
    self._count = self._count + 1
    return true
end

function Poll:mod(sock, events)
    check_self('mod', self, Poll)
    local fd = fd_of('mod', sock)
    local mask = mask_of('mod', events)
    local pfd = self[1]
    if fd < 0 or pfd < 0 then return fail(EBADF) end
    if self._obj[fd] ~= sock then return fail(ENOENT) end
    local rc = poll_ctl(pfd, POLL_MOD, fd, mask, self._gen[fd])
    if rc < 0 then return fail(rc) end
    self._mask[fd] = mask
    return true
end

-- A closed socket is EBADF, like every call on a closed socket; what it
-- left in the set (closed without forget) goes all the same.
function Poll:del(sock)
    check_self('del', self, Poll)
    local fd = fd_of('del', sock)
    if self[1] < 0 then return fail(EBADF) end
    local registered = self._fd[sock] ~= nil
    if registered then unregister(self, sock) end
    if fd < 0 then return fail(EBADF) end
    if not registered then return fail(ENOENT) end
    return true
end

-- Forgets the sockets of the last round from position from + 1 on: a set
-- holds no socket past its round.
local function clear_round(self, from)
    local rsock, rev, rfd, rgen = self._rsock, self._rev, self._rfd, self._rgen
    for i = from + 1, self._n do
        rsock[i], rfd[i], rev[i], rgen[i] = nil, nil, nil, nil
    end
    self._n, self._pos = from, 0
end

-- One poll_wait's events that are current into the round lists; a socket
-- found closed is unregistered on sight (its stale registration must not
-- wake later waits). Returns how many were kept.
local function collect(self, n)
    local objs, gens, masks = self._obj, self._gen, self._mask
    local rsock, rev, rfd, rgen = self._rsock, self._rev, self._rfd, self._rgen
    local kept = 0
    for i = 1, n do
        local fd, bits, data = poll_event(i)
        local obj = objs[fd]
        if obj ~= nil and gens[fd] == data then
            if obj == fd or obj[1] == fd then -- holds(obj, fd), inline as the cache read
                kept = kept + 1
                rsock[kept], rfd[kept], rgen[kept] = obj, fd, data
                local mask = masks[fd]
                local key = bits * MASK_SPAN + mask
                rev[kept] = EVENT_STRINGS[key] or new_event_string(key, bits, mask)
            else
                unregister(self, obj)
            end
        end
    end
    return kept
end

-- n ready sockets (0 when the time ran out), or nil, err (EINTR: a signal
-- came). The sockets and their event strings are kept in the set for
-- ready(), in lists reused by every wait. When every event of a wakeup was
-- stale, the wait goes on for the time that is left.
function Poll:wait(timeout)
    check_self('wait', self, Poll)
    local t = timeout
    if t == nil then
        t = -1
    elseif type(t) ~= 'number' then
        argerror('wait', 1, 'number expected, got ' .. type(t))
    elseif t < 0 then
        t = 0 -- a deadline already passed: look, do not wait
    end
    local pfd = self[1]
    if pfd < 0 then return fail(EBADF) end
    local deadline = t > 0 and core.now() + t
    -- Where the thread must never block (inside nginx: net.openresty set
    -- wait.always_nonblocking), the set waits as a socket does, through the
    -- host's waiter, for its handle to be readable (an epoll set's is while
    -- one of its registrations is ready), then looks without waiting. The
    -- poll(2) backend's handle cannot be waited for (K.POLL_WAITABLE 0):
    -- the looks come after pauses in the host's manner (net.util.wait's,
    -- 1 to 16 ms), never in a spin, and end by the deadline or sooner the
    -- host's cap on one wait (block_cap where nginx cannot yield), as a
    -- wait on the handle would.
    local host = t ~= 0 and wait.always_nonblocking and wait.default
    local pauses, limit
    while true do
        local count = self._count
        local n = poll_wait(pfd, count > 0 and count or 1, host and 0 or t)
        if n < 0 then
            if pauses then pauses:close() end
            clear_round(self, 0)
            return fail(n)
        end
        local kept = collect(self, n)
        if kept > 0 or t == 0 or (n == 0 and not host) then
            if pauses then pauses:close() end
            clear_round(self, kept)
            return kept
        end
        if host and n == 0 then
            local ready, err
            if HANDLE_WAITABLE then
                ready, err = host(self, 'r', deadline or nil)
            else
                if not pauses then
                    pauses = wait.new_pauses(host, self, 'r')
                    limit = wait.capped(host, deadline or nil)
                end
                ready, err = pauses:pause(limit)
            end
            if ready == nil then
                if pauses then pauses:close() end
                clear_round(self, 0)
                return nil, err
            end
            pfd = self[1] -- closed meanwhile: the next look says so
            if not ready then t = 0 end -- the deadline: one last look
        elseif deadline then
            t = deadline - core.now()
            if t <= 0 then t = 0 end
        end
    end
end

-- The iterator of ready(): the next socket of the last wait that is still
-- registered as it was (a handler may have closed or removed one since).
local function ready_next(self)
    local i = self._pos
    local n, rsock = self._n, self._rsock
    while i < n do
        i = i + 1
        local obj, fd = rsock[i], self._rfd[i]
        if current(self, obj, fd, self._rgen[i]) then
            self._pos = i
            return obj, self._rev[i]
        end
    end
    self._pos = n
    return nil
end

-- for sock, ev in p:ready() do ... end, over the last wait's sockets. No
-- closure or table is made per call; one loop at a time per set.
function Poll:ready()
    check_self('ready', self, Poll)
    self._pos = 0
    return ready_next, self
end

-- Lua 5.4's to-be-closed variables: `local p <close> = poll.new()`.
function Poll:__close() self:close() end

-- Closes the set (the sockets stay open, and leave it). true, or nil, err.
function Poll:close()
    check_self('close', self, Poll)
    local pfd = self[1]
    if pfd < 0 then return fail(EBADF) end
    socket.before_close(self) -- a wait on the set through the host's waiter ends now
    self[1] = -1
    for obj in pairs(self._fd) do set_membership(obj, self, nil) end
    self._obj, self._gen, self._mask, self._fd = {}, {}, {}, {}
    self._count = 0
    clear_round(self, 0)
    local rc = collector.close(self._box, core.poll_close)
    if rc < 0 then return fail(rc) end
    return true
end

local M = {Poll = Poll}

-- A new, empty set, or nil, err. A set dropped without close() still gives
-- its handle back (net.util.collect).
function M.new()
    -- the set and its guard first, holding no handle yet: a memory error
    -- raised by any allocation after poll_create would otherwise lose the
    -- handle (and libnet's memory of the set); storing into box[1] and
    -- set[1] allocates nothing. The guard makes set[1] -1 when it closes the
    -- handle: a set the collector closed reads closed, never as the set
    -- that reuses its number.
    local set = setmetatable({
        -1,
        _obj = {}, _gen = {}, _mask = {}, _fd = {}, _count = 0,
        _rsock = setmetatable({}, WEAK_VALUES), _rev = {}, _rfd = {}, _rgen = {}, _n = 0, _pos = 0,
    }, Poll)
    local box, hook = collector.guard(-1, core.poll_close, set)
    set._box, set._hook = box, hook
    local pfd = core.poll_create(K.CLOEXEC)
    if pfd < 0 then return fail(pfd) end
    box[1], set[1] = pfd, pfd
    return set
end

-- Removes sock from every set it is registered in. net.Socket:close() calls
-- it before closing the fd (the DEL needs the fd open to reach epoll's
-- registration). Nothing for a socket in no set.
function M.forget(sock)
    local sets = registry[sock]
    if not sets then return end
    for set in pairs(sets) do
        unregister(set, sock)
    end
    registry[sock] = nil
end
require('net.util.socket').on_close(M.forget)

return M
