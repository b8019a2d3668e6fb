-- Multicast sender and receiver: a receiver joins a group (239.255.0.1, or
-- the IPv6 group given as the first argument, e.g. ff05::1:3) on the
-- loopback interface, a sender sends to the group with the loopback
-- interface chosen and looping on, and the receiver reports what arrived and
-- from whom. When the machine has no multicast route for the group (lo is
-- not flagged multicast, or nothing routes the group), nothing arrives:
-- the script says so and how to try it in a private network namespace.
--
-- Run from the checkout (LuaJIT uses the FFI, Lua 5.1-5.4 the C module):
--   meson devenv -C build -w . luajit examples/multicast.lua
-- In a namespace of its own, where lo can carry multicast:
--   meson devenv -C build -w . unshare -rn sh -c 'ip link set lo up multicast on &&
--     ip route add 239.0.0.0/8 dev lo && exec luajit examples/multicast.lua'
-- and for IPv6 (Linux makes any other IPv6 route through lo a reject route,
-- so the route for the groups is of type local):
--   meson devenv -C build -w . unshare -rn sh -c 'ip link set lo up multicast on &&
--     ip -6 route add local ff00::/8 dev lo table local &&
--     exec luajit examples/multicast.lua ff05::1:3'
local dgram = require('net.dgram')
local inet = require('net.dgram.inet')

local GROUP = arg[1] or '239.255.0.1'
local SENDER = GROUP:find(':', 1, true) and '::1' or '127.0.0.1'

-- The receiver: bound to the group's address (it hears only the group), a
-- free port, member of the group on lo.
local rx = assert(inet.new { host = GROUP })
local port = rx:getsockname():port()
local err = rx:mcastjoin(GROUP, 'lo')
if err then
    print('cannot join ' .. GROUP .. ' on lo: ' .. err)
    os.exit(0)
end

-- The sender: out by lo, its own datagrams looped back, one hop.
local tx = assert(inet.new { host = SENDER })
-- each setter returns the value read back
local ifname, loop, ttl = tx:mcastif('lo'), tx:mcastloop(true), tx:mcastttl(1)
print('outgoing interface:', ifname, 'loop:', loop, 'ttl:', ttl)
assert(ifname == 'lo' and loop == true and ttl == 1)
local me = tostring(assert(tx:getsockname()))
local to = assert(dgram.getaddrinfoin { host = GROUP, port = port })[1]

assert(rx:settimeout(1))
for i = 1, 3 do
    local sent, serr = tx:sendto('datagram ' .. i, to)
    if not sent then
        print('sendto ' .. tostring(to) .. ' failed: ' .. serr)
        print('no multicast route here: try the unshare command at the top of this file')
        os.exit(0)
    end
    local data, rerr, again, from = rx:recvfrom()
    if not data then
        print('nothing arrived (' .. (rerr or (again and 'timed out')) .. '): this machine has no')
        print('multicast route over lo for ' .. GROUP .. '; try the unshare command at the top of this file')
        os.exit(0)
    end
    print(('receiver got "%s" from %s'):format(data, tostring(from)))
    assert(data == 'datagram ' .. i and tostring(from) == me)
end
assert(rx:mcastleave(GROUP, 'lo') == nil)
rx:close()
tx:close()
