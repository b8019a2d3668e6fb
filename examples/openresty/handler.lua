-- The Lua side of examples/openresty/nginx.conf: a unix-socket backend run
-- by a timer of the worker, and the /echo handler that asks it. Both are
-- written with lua-net's ordinary blocking-style calls: inside nginx every
-- socket is non-blocking underneath and waits through net.openresty, so
-- each call yields to nginx instead of blocking the worker.
local unix = require('net.stream.unix')

local M = {}

-- One line "TEXT\n" in, "backend says: TEXT\n" out, then close. A client
-- gets 5 s for its line (see the timers below).
local function serve(conn)
    conn:settimeout(5)
    local line = ''
    while not line:find('\n', 1, true) do
        local data = conn:recv()
        if not data then return conn:close() end
        line = line .. data
    end
    conn:send('backend says: ' .. line:match('^(.-)\n') .. '\n')
    conn:close()
end

-- ngx_lua keeps every light thread a timer spawns, finished or not, until
-- the timer ends (and a record for each coroutine it creates): an accept
-- loop that never ended would grow by about 1.4 KB for each connection it
-- served. So a timer accepts a batch of connections, hands the server to a
-- new timer and ends; it is freed once the last of its batch is served,
-- and counts among lua_max_running_timers until then (hence the clients'
-- deadline: a timer that finds no slot free is dropped with only an alert
-- in the log, and the backend with it).
local CONNECTIONS_PER_TIMER = 100

local accept_loop
local function next_timer(server)
    local ok, err = ngx.timer.at(0, accept_loop, server)
    if not ok then
        local exiting = ngx.worker.exiting()
        ngx.log(exiting and ngx.INFO or ngx.ERR, 'backend stops: ', err)
        server:close()
    end
end

function accept_loop(premature, server)
    if premature then return server:close() end
    for _ = 1, CONNECTIONS_PER_TIMER do
        local conn, err = server:accept() -- waits without blocking the worker
        if not conn then
            ngx.log(ngx.INFO, 'backend stops: ', tostring(err)) -- the worker is exiting
            return server:close()
        end
        ngx.thread.spawn(serve, conn)
    end
    next_timer(server)
end

-- init_worker_by_lua: listen on path and serve from a timer (the accept
-- loop must run where it may wait, and init_worker may not). The socket is
-- bound to a name of its own, then renamed to path, which replaces the old
-- worker's at once at a reload: removing path and binding it again would
-- leave a moment with no path, and the old worker's last requests would
-- find none ("No such file or directory"). One moment is left: an exiting
-- worker's accept loop ends at once (doc/openresty.md), so a request of
-- that worker that connects before the new worker has renamed its socket
-- is refused; a backend outside nginx has no such moment.
function M.start_backend(path)
    local own = path .. '.' .. ngx.worker.pid()
    os.remove(own)
    local server = assert(unix.server.new { path = own })
    assert(server:listen() == nil)
    assert(os.rename(own, path))
    assert(ngx.timer.at(0, accept_loop, server))
end

-- GET /echo?text=TEXT: the backend's answer, or 502 and why.
function M.echo(path)
    local c, err = unix.client.new { path = path, timeout = 5 }
    if not c then
        ngx.status = 502
        return ngx.say('backend unreachable: ', err)
    end
    c:send((ngx.var.arg_text and ngx.unescape_uri(ngx.var.arg_text) or '') .. '\n')
    local reply, line = ''
    repeat
        local data, rerr, timed_out = c:recv()
        if not data then
            c:close()
            ngx.status = 502
            return ngx.say('backend failed: ', rerr or (timed_out and 'timeout') or 'closed')
        end
        reply = reply .. data
        line = reply:match('^(.-)\n')
    until line
    c:close()
    ngx.say(line)
end

return M
