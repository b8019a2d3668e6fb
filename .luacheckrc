-- luacheck configuration: run by `meson test` (suite lint) over ffi/, spec/,
-- examples/, bench/ and tools/.
std = 'max'          -- code runs on Lua 5.1-5.4 and LuaJIT
max_line_length = 120
globals = {}
read_globals = {'jit'}

files['spec'] = {std = '+busted'}
-- Code that runs inside nginx (ngx_lua): the ngx global is there.
files['spec/nginx'] = {std = 'max+ngx_lua'}
files['examples/openresty'] = {std = 'max+ngx_lua'}
files['bench/openresty'] = {std = 'max+ngx_lua'}
-- The operations spec/oom/host.c runs: the host sets OP, arm, disarm and broken.
files['spec/oom'] = {read_globals = {'OP', 'arm', 'disarm', 'broken'}}
