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

describe('net.openresty.YIELDABLE', function()
  it('holds neither ssl_client_hello nor, without a patched OpenSSL, ssl_session_fetch', function()
    assert.are.equal('nil\tnil\ttrue\n', h.run_preloaded(nil, PRINT_PHASES))
  end)

  it('holds ssl_session_fetch where the process has OpenResty\'s OpenSSL (LuaJIT, which nginx runs)', function()
    local shim = os.getenv('NET_PENDING_SESSION_SHIM')
    if not shim then
      pending('needs NET_PENDING_SESSION_SHIM (spec/c/pending_session_shim.c; meson test sets it)')
      return
    end
    -- PUC Lua has no FFI to look with: there the phase never yields
    local expected = type(jit) == 'table' and 'true\tnil\ttrue\n' or 'nil\tnil\ttrue\n'
    assert.are.equal(expected, h.run_preloaded(shim, PRINT_PHASES))
  end)
end)
