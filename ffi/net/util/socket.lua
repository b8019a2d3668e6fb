-- Where socket objects are made: an instance of a class owning one fd,
-- which close() or the garbage collector closes, exactly once. Kept out of
-- the classes so that no method on a socket can make another one.
--
-- A socket object is a table: [1] the fd (-1 once closed), _guard its
-- collector guard, and whatever its class adds. The fd sits in the array
-- part, not in a named field, because the C fast paths of net.capi read it
-- on every send and recv (src/lua/methods.c): an integer key is the cheapest
-- lookup the Lua C API has (lua_rawgeti), a string key costs about 250 more
-- instructions per W1 round trip on Lua 5.4.
local core = require('net.core')

local setmetatable, guard, guard_own = setmetatable, core.guard, core.guard_own

-- On PUC Lua a socket also carries its class's send and recv itself: a
-- method found in the object skips the __index step through the class,
-- about 120 instructions per call on Lua 5.4 and a sixth of a W1 round trip
-- (bench/RESULTS.md). Under LuaJIT the trace does the lookup once.
local carries_io = type(jit) ~= 'table'

local M = {}

-- The class of each socket type that has one (net.wrap), and of such a
-- socket that listens (a stream server handed over, e.g. by systemd's
-- socket activation): the type's module registers them when loaded.
local classes, listening_classes = {}, {}
-- socktype -> {family -> class}: a class for one family of a type, before
-- the type's (a unix datagram socket has the message I/O methods).
local family_classes = {}

function M.register(socktype, cls, listening_cls)
    classes[socktype], listening_classes[socktype] = cls, listening_cls
end

function M.register_family(socktype, family, cls)
    local by_family = family_classes[socktype] or {}
    by_family[family] = cls
    family_classes[socktype] = by_family
end

-- The class for fd, a socket of type socktype: the listening class of its
-- type when it has one and fd listens (SO_ACCEPTCONN), else the class of
-- its type and family, else the type's class; default when none is
-- registered. nil, code when what decides cannot be read.
function M.class_for(fd, socktype, default)
    local listening = listening_classes[socktype]
    if listening then
        local on = core.sock_acceptconn(fd, -1)
        if on < 0 then return nil, on end
        if on == 1 then return listening end
    end
    local by_family = family_classes[socktype]
    if by_family then
        local family = core.sock_family(fd)
        if family < 0 then return nil, family end
        if by_family[family] then return by_family[family] end
    end
    return classes[socktype] or default
end

-- What must happen before any socket's fd is closed, while the number is
-- still its own (net.poll removes it from its sets): fn(sock), registered
-- by the module that needs it when it loads.
local close_hooks = {}

function M.on_close(fn)
    close_hooks[#close_hooks + 1] = fn
end

function M.before_close(sock)
    for i = 1, #close_hooks do close_hooks[i](sock) end
end

-- client -> the socket of its connect() under way (net.util.make): closing
-- the client closes it, which ends that connect's wait. Weak both ways: a
-- connect that a raising waiter left behind leaves its socket to the
-- collector, as every socket a program drops.
M.connecting = setmetatable({}, {__mode = 'kv'})

-- A collector guard owning nothing yet, for a primitive that makes a
-- descriptor to arm: net.core's sock_open, sock_pair and sock_accept take
-- one made beforehand, so no memory error between the descriptor's birth
-- and its owner can lose it. adopt() then gives it to the socket.
function M.new_guard() return guard(-1) end

-- A new socket of class cls owning fd, through g, the guard (new_guard)
-- the primitive that made fd armed; or else, for a descriptor made
-- elsewhere (net.wrap), through a guard made last of all, after
-- prepare(sock) when given: until then fd is the caller's, so a memory
-- error on the way leaves it the caller's, never half owned (nothing
-- after that guard allocates: its field is there already, and guard_own
-- sets the guard's owner in place).
function M.adopt(cls, fd, g, prepare)
    local sock = {fd, _guard = g or false}
    if carries_io then
        sock.send, sock.recv = cls.send, cls.recv
    end
    setmetatable(sock, cls)
    if prepare then prepare(sock) end
    if not g then
        g = guard(fd)
        sock._guard = g
    end
    guard_own(g, sock) -- closed by the collector, it reads as closed
    return sock
end

return M
