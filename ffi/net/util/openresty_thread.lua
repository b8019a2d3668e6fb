-- net.util.openresty_thread: what net.openresty runs in an nginx thread-pool
-- thread through ngx.run_worker_thread. That thread has a Lua VM of its own,
-- so only plain values cross: numbers, strings, tables of them. It requires
-- net.core alone, never net (which would load net.openresty again there).
local core = require('net.core')

local type = type

local M = {}

-- Waits up to timeout seconds on the poll set pfd (net_poll_wait) for at
-- most max records. Returns n and a flat list {fd1, events1, data1, fd2,
-- ...} of the n records (n 0: the time ran out), or a negative code.
function M.wait(pfd, timeout, max)
    local n = core.poll_wait(pfd, max, timeout)
    if n <= 0 then return n end
    local out, k = {}, 0
    for i = 1, n do
        local fd, events, data = core.poll_event(i)
        out[k + 1], out[k + 2], out[k + 3] = fd, events, data
        k = k + 3
    end
    return n, out
end

-- getaddrinfo (it may block in libc for as long as DNS takes) with the
-- arguments of core.getaddrinfo. Returns 0 and a list of records
-- {family, socktype, protocol, host, port, canonname} with the address as
-- numeric text (an address object cannot leave this VM), or a negative code.
function M.getaddrinfo(host, service, family, socktype, protocol, flags)
    local records = core.getaddrinfo(host, service, family, socktype, protocol, flags)
    if type(records) == 'number' then return records end
    local out = {}
    for i = 1, #records do
        local r = records[i]
        local text = core.addr_host(r.addr)
        local port = core.addr_port(r.addr)
        if type(text) ~= 'string' or port < 0 then
            return type(text) == 'number' and text or port
        end
        out[i] = {
            family = r.family, socktype = r.socktype, protocol = r.protocol,
            host = text, port = port, canonname = r.canonname,
        }
    end
    return 0, out
end

return M
