-- The parity script: a fixed sequence of calls on every public method of
-- every socket class, one normalised line per call (results and raised
-- messages; fds, ports and temporary paths replaced by names). The meson
-- test 'parity' (spec/parity/compare) runs it on every runtime and backend
-- and fails when any output differs from the first runtime's (LuaJIT with
-- the FFI backend when there is one). On PUC Lua the methods installed are
-- the C fast paths of net.capi where there is one, so their output is held
-- to the Lua methods' output under LuaJIT.
--
-- Usage: lua spec/parity/calls.lua (from the source root, with the meson
-- environment: LUA_PATH, LUA_CPATH, NET_BACKEND).
package.path = './?.lua;' .. package.path
local cases = require('spec.parity.cases')

local classes = cases.classes()
local missing = cases.check_coverage(classes)
if #missing > 0 then
    error('no fixture makes a socket for: ' .. table.concat(missing, ', ')
          .. ' (add a maker to spec/parity/cases.lua)')
end

local by_class = {}
for _, c in ipairs(classes) do by_class[c.class] = c end

local out = io.stdout
for _, c in ipairs(classes) do
    out:write('class ', c.name, ': ', table.concat(c.methods, ' '), '\n')
end

for m, maker in ipairs(cases.MAKERS) do
    for s, state in ipairs(cases.STATES) do
        local probe = cases.fixture(m, s)
        if probe then
            local c = by_class[probe.class]
            cases.release(probe)
            for _, name in ipairs(c.methods) do
                for _, a in ipairs(cases.ARGS) do
                    if s == 1 or a.short then
                        local fx = cases.fixture(m, s)
                        local line = cases.call(fx.sock[name], fx.sock, a[2](fx), fx, false, a.partial)
                        cases.release(fx)
                        out:write(maker[1], ' / ', state[1], ' / ', c.name, ':', name, a[1], ' ', line, '\n')
                    end
                end
            end
        end
    end
end

-- Methods called with a self that is not a socket, once per distinct function.
local done = {}
for _, c in ipairs(classes) do
    for _, name in ipairs(c.methods) do
        local fn = c.class[name]
        if not done[fn] then
            done[fn] = true
            for _, self in ipairs(cases.SELVES) do
                for _, a in ipairs(cases.ARGS) do
                    if a.short and not a.partial then
                        out:write('self ', self[1], ' / ', c.name, ':', name, a[1], ' ',
                                  cases.call(fn, self[2], a[2]()), '\n')
                    end
                end
            end
        end
    end
end

cases.cleanup()
