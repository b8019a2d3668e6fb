-- The parity script of the bad-input matrix (spec/parity/matrix.lua): one
-- normalised line per call of the module functions, every socket method on
-- every fixture with every value (its good self: the values the 'parity'
-- test's cases.ARGS do not hold, such as 2^63, -0.5 and "a\0b", in the
-- positions after the first too), the methods of the classes that are no
-- sockets, and every method with a wrong self. The meson test
-- 'parity-matrix' runs it on every runtime and backend through
-- spec/parity/compare and fails when an output differs from the first.
--
-- Usage: lua spec/parity/matrix_calls.lua (from the source root, with the
-- meson environment: LUA_PATH, LUA_CPATH, NET_BACKEND).
package.path = './?.lua;' .. package.path
local cases = require('spec.parity.cases')
local matrix = require('spec.parity.matrix')

local out = io.stdout

-- A call's outcome as text: cases.value for each result (fds, ports,
-- numbers alike on every Lua; fx: a socket method's fixture, which names
-- them), cases.message for what it raised.
local function report(what, label, ok, r, _, _, volatile, fx)
  local text
  if matrix.known(what) then
    text = 'a known finding (spec/parity/matrix.lua: KNOWN)'
  elseif ok then
    local parts = {}
    for i = 1, r.n do
      local t = type(r[i])
      -- an address in the text (thread: 0x...) differs from run to run
      local opaque = t == 'function' or t == 'thread' or t == 'userdata' or t == 'cdata'
      -- (peercred's first result is this process's id: '<pid>')
      parts[i] = (volatile or opaque) and ('<' .. t .. '>')
        or cases.value(r[i], fx, false, nil, i == 1 and what:match(':peercred$') ~= nil)
    end
    text = 'returns ' .. r.n .. ': ' .. table.concat(parts, ', ')
  elseif type(r[1]) == 'string' and r[1]:find('bad argument', 1, true) then
    text = 'raises ' .. cases.message(r[1])
  else
    -- Lua's own runtime errors word the same fault differently on each
    -- version; only the library's messages are compared as text
    text = 'raises a ' .. type(r[1]) .. ' that is no argument error'
  end
  out:write(what, ' ', label, ' ', text, '\n')
end

local funcs, classes = matrix.api()
matrix.functions(funcs, report)
matrix.socket_methods(report)
local missing = matrix.other_methods(classes, report)
if #missing > 0 then
  error('no maker for: ' .. table.concat(missing, ', ') .. ' (add one to spec/parity/matrix.lua)')
end
-- A socket method with a wrong self raises in the backend's own words
-- (doc/reference.md, "A wrong self"): here, as in the 'parity' test (its
-- SELVES), only whether it raised is compared.
matrix.wrong_selves(classes, function(what, label, ok, r)
  if matrix.is_socket_class(classes[what:match('^(.-):')]) then
    out:write(what, ' ', label, ' ', ok and 'returns' or 'raises', '\n')
  else
    report(what, label, ok, r)
  end
end)
cases.cleanup()
