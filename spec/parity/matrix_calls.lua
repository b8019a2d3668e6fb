-- The parity script of the bad-input matrix (spec/parity/matrix.lua): one
-- normalised line per call of the module functions, the methods of the
-- classes that are no sockets, and every method with a wrong self (the
-- socket methods' calls with good selves are the 'parity' test's). The
-- meson test 'parity-matrix' runs it on every runtime and backend through
-- spec/parity/compare and fails when an output differs from the first.
--
-- Usage: lua spec/parity/matrix_calls.lua (from the source root, with the
-- meson environment: LUA_PATH, LUA_CPATH, NET_BACKEND).
package.path = './?.lua;' .. package.path
local cases = require('spec.parity.cases')
local matrix = require('spec.parity.matrix')

local out = io.stdout

-- A call's outcome as text: cases.value for each result (fds, ports,
-- numbers alike on every Lua), cases.message for what it raised.
local function report(what, label, ok, r, _, _, volatile)
  local text
  if matrix.known(what) then
    text = 'a known finding (spec/parity/matrix.lua: KNOWN)'
  elseif ok then
    local parts = {}
    for i = 1, r.n do
      local t = type(r[i])
      -- an address in the text (thread: 0x...) differs from run to run
      local opaque = t == 'function' or t == 'thread' or t == 'userdata' or t == 'cdata'
      parts[i] = (volatile or opaque) and ('<' .. t .. '>') or cases.value(r[i])
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
local missing = matrix.other_methods(classes, report)
if #missing > 0 then
  error('no maker for: ' .. table.concat(missing, ', ') .. ' (add one to spec/parity/matrix.lua)')
end
-- A socket method's text with a wrong self is the 'parity' test's to
-- compare (its SELVES): here only whether it raised.
matrix.wrong_selves(classes, function(what, label, ok, r)
  if matrix.is_socket_class(classes[what:match('^(.-):')]) then
    out:write(what, ' ', label, ' ', ok and 'returns' or 'raises', '\n')
  else
    report(what, label, ok, r)
  end
end)
cases.cleanup()
