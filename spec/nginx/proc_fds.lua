-- proc_fds.lua: how many of a process's descriptors are of one kind, read
-- from a /proc/<pid>/fd directory (Linux): `count(dir, '[eventpoll]')`
-- counts its epoll sets, `count(dir)` all its descriptors. Shared by the
-- nginx worker's handlers (openresty_app.lua) and the checking client
-- (openresty_check.lua).
return function(dir, kind)
    local p = assert(io.popen('ls -l ' .. dir))
    local n = 0
    for line in p:lines() do
        -- each descriptor is a symbolic link (ls -l's first line is a total)
        if line:sub(1, 1) == 'l' and (not kind or line:find(kind, 1, true)) then n = n + 1 end
    end
    p:close()
    return n
end
