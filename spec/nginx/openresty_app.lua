-- The nginx side of spec/nginx/openresty_check.lua (template openresty.conf.in):
-- handlers that wait through lua-net inside one nginx worker, and a slow
-- unix backend served by a timer of that same worker. A frozen worker could
-- therefore not even serve its own backend: every wait would end only at
-- its deadline.
--
-- The backend reads one line "DELAY_MS TEXT\n", sleeps DELAY_MS
-- milliseconds (ngx.sleep), answers "TEXT\n" and closes.
local unix = require('net.stream.unix')
local stream = require('net.stream')
local net = require('net')
local openresty = require('net.openresty')

local M = {}
local backend_path

-- The first line of sock (without its "\n"), or nil, err / nil, nil, true.
local function read_line(sock)
    local got = ''
    while true do
        local data, err, again = sock:recv()
        if not data then return nil, err, again end
        got = got .. data
        local line = got:match('^(.-)\n')
        if line then return line end
    end
end

local function serve(conn)
    local line = read_line(conn)
    if line then
        local delay, text = line:match('^(%d+) (.*)$')
        if delay and tonumber(delay) > 0 then ngx.sleep(tonumber(delay) / 1000) end
        conn:send((text or '?') .. '\n')
    end
    conn:close()
end

-- The backend's accept loop: one timer; a light thread per connection. It
-- ends when the worker exits (the waiter then fails the accept).
local function backend(premature, server)
    if premature then return server:close() end
    while true do
        local conn, err = server:accept()
        if not conn then
            ngx.log(ngx.INFO, 'backend stops: ', tostring(err))
            break
        end
        ngx.thread.spawn(serve, conn)
    end
    server:close()
end

-- A wait that nothing ends, in the current phase: a stream pair whose peer
-- never writes. Records "<result> <seconds>" under name in the shared dict.
local function stuck_wait(name, timeout)
    local pair = assert(stream.pair())
    if timeout then pair[2]:settimeout(timeout) end
    local t0 = net.now()
    local data, err, again = pair[2]:recv()
    local took = net.now() - t0
    local what = data and ('data:' .. data) or err and ('error:' .. err) or again and 'timeout' or 'closed'
    ngx.shared.results:set(name, ('%s %.3f'):format(what, took))
    pair[1]:close()
    pair[2]:close()
end

-- init_worker_by_lua: the non-yieldable waits, then the backend.
function M.init_worker(path)
    backend_path = path
    stuck_wait('init_worker_cap')
    stuck_wait('init_worker_deadline', 0.05)
    os.remove(path)
    local server = assert(unix.server.new { path = path })
    assert(server:listen() == nil)
    assert(ngx.timer.at(0, backend, server))
end

-- One backend round trip (a fresh connection): the reply line, or nil, err,
-- again. timeout: the client socket's deadline.
local function ask(delay, text, timeout)
    local c, err = unix.client.new { path = backend_path, timeout = timeout }
    if not c then return nil, err end
    if timeout then c:settimeout(timeout) end
    local n, serr = c:send(('%d %s\n'):format(delay, text))
    if n == nil then
        c:close()
        return nil, serr
    end
    local line, rerr, again = read_line(c)
    c:close()
    return line, rerr, again
end

-- GET /slow?delay=MS&msg=TEXT: "TEXT" after the backend's delay.
function M.slow()
    local line, err = ask(tonumber(ngx.var.arg_delay) or 0, ngx.var.arg_msg or '')
    if not line then return ngx.say('error ', tostring(err)) end
    ngx.say(line)
end

-- GET /deadline?delay=MS&timeout=S: "timeout SECONDS" when the deadline
-- passed first, else what came.
function M.deadline()
    local t0 = net.now()
    local line, err, again = ask(tonumber(ngx.var.arg_delay) or 0, 'late', tonumber(ngx.var.arg_timeout))
    local took = net.now() - t0
    if again then return ngx.say(('timeout %.3f'):format(took)) end
    ngx.say(tostring(line or err), (' %.3f'):format(took))
end

-- log_by_lua: the non-yieldable waits of a request's log phase.
function M.log_phase()
    stuck_wait('log_cap')
    stuck_wait('log_deadline', 0.05)
end

-- GET /results: the shared dict, "name value" per line, sorted.
function M.results()
    local keys = ngx.shared.results:get_keys(0)
    table.sort(keys)
    for _, k in ipairs(keys) do ngx.say(k, ' ', ngx.shared.results:get(k)) end
end

-- GET /resolve?host=NAME: the addresses of NAME (inet stream), one per line,
-- sorted, then "resolved_in_pool N".
function M.resolve()
    local ais, err = stream.getaddrinfoin { host = ngx.var.arg_host, port = 80 }
    if not ais then return ngx.say('error ', tostring(err)) end
    local hosts = {}
    for i, ai in ipairs(ais) do hosts[i] = ai:addr() end
    table.sort(hosts)
    for _, h in ipairs(hosts) do ngx.say(h) end
    ngx.say('resolved_in_pool ', openresty.stats().resolved_in_pool)
end

-- GET /stats: the waiter's counters and settings, "name value" per line.
function M.stats()
    local out = {}
    for k, v in pairs(openresty.stats()) do out[#out + 1] = k .. ' ' .. tostring(v) end
    for k, v in pairs(openresty.settings()) do out[#out + 1] = 'setting.' .. k .. ' ' .. tostring(v) end
    table.sort(out)
    ngx.say(table.concat(out, '\n'))
end

return M
