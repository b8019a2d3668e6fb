-- proc_fds.lua: how many of a process's descriptors are of one kind, read
-- from its /proc/<pid>/fd directory (Linux) in one listing, by a child
-- (`ls -l`): count(dir) counts all of them, count(dir, '[eventpoll]') those
-- whose link names that kind, count(dir, fn) those whose `ls -l` line fn
-- accepts. The one descriptor counter of the suites: the busted helper
-- (spec/lua/helper.lua), the soak (spec/soak/soak.lua), the nginx worker's
-- handlers (spec/nginx/openresty_app.lua) and their checking client
-- (spec/nginx/openresty_check.lua). A listing of this process's own
-- directory holds the read end of the pipe from `ls` while it runs.
return function(dir, kind)
    local p = assert(io.popen('ls -l ' .. dir))
    local n = 0
    for line in p:lines() do
        -- each descriptor is a symbolic link (ls -l's first line is a total)
        if line:sub(1, 1) == 'l' then
            if kind == nil or (type(kind) == 'function' and kind(line))
                or (type(kind) == 'string' and line:find(kind, 1, true)) then
                n = n + 1
            end
        end
    end
    p:close()
    return n
end
