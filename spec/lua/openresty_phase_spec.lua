-- net.openresty's phase table outside nginx: which ngx.get_phase() names
-- it lets a wait yield in (doc/openresty.md). ssl_client_hello never, and
-- ssl_session_fetch only in a process that has OpenResty's patched OpenSSL,
-- told by the function its libssl adds: a child interpreter with
-- spec/c/pending_session_shim.c preloaded (NET_PENDING_SESSION_SHIM, set by
-- the meson tests) has it.
local h = require('spec.lua.helper')

local PRINT_PHASES = [[
  local Y = require('net.openresty').YIELDABLE
  print(tostring(Y.ssl_session_fetch), tostring(Y.ssl_client_hello), tostring(Y.content))
]]

-- What PRINT_PHASES prints in a child interpreter, with preload (a module
-- path) added to LD_PRELOAD when given.
local function phases_in_child(preload)
  local env = ''
  if preload then
    local was = os.getenv('LD_PRELOAD')
    env = 'LD_PRELOAD=' .. h.shell_quote((was and was ~= '') and (was .. ':' .. preload) or preload) .. ' '
  end
  local p = assert(io.popen(env .. 'exec ' .. h.shell_quote(h.interpreter()) .. ' -e '
    .. h.shell_quote(PRINT_PHASES) .. ' 2>&1'))
  local out = p:read('*a')
  p:close()
  return out
end

describe('net.openresty.YIELDABLE', function()
  it('holds neither ssl_client_hello nor, without a patched OpenSSL, ssl_session_fetch', function()
    assert.are.equal('nil\tnil\ttrue\n', phases_in_child())
  end)

  it('holds ssl_session_fetch where the process has OpenResty\'s OpenSSL (LuaJIT, which nginx runs)', function()
    local shim = os.getenv('NET_PENDING_SESSION_SHIM')
    if not shim then
      pending('needs NET_PENDING_SESSION_SHIM (spec/c/pending_session_shim.c; meson test sets it)')
      return
    end
    -- PUC Lua has no FFI to look with: there the phase never yields
    local expected = type(jit) == 'table' and 'true\tnil\ttrue\n' or 'nil\tnil\ttrue\n'
    assert.are.equal(expected, phases_in_child(shim))
  end)
end)
