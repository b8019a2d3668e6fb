-- bench/openresty: the nginx side of the wake-latency benchmark (run). GET
-- /wake?after=MS makes a stream pair; a timer of the same worker writes
-- net.now() into one end after MS milliseconds; the handler waits on the
-- other end through lua-net (the OpenResty waiter in effect) and answers
-- how long after the write it was resumed, in microseconds.
local stream = require('net.stream')
local net = require('net')

local M = {}

local function write_later(premature, sock)
    if not premature then sock:send(('%.9f'):format(net.now())) end
    sock:close()
end

function M.wake()
    local pair = assert(stream.pair())
    local after = (tonumber(ngx.var.arg_after) or 5) / 1000
    assert(ngx.timer.at(after, write_later, pair[1]))
    local data, err = pair[2]:recv()
    local woke = net.now()
    pair[2]:close()
    if not data then
        ngx.status = 500
        return ngx.say('error ', tostring(err))
    end
    ngx.say(('%.1f'):format((woke - tonumber(data)) * 1e6))
end

-- GET /stats: net.openresty's counters, "name=value" on one line.
function M.stats()
    local out = {}
    for k, v in pairs(require('net.openresty').stats()) do out[#out + 1] = k .. '=' .. v end
    table.sort(out)
    ngx.say(table.concat(out, ' '))
end

return M
