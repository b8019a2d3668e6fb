-- Loading a libnet.so.1 that is not lua-net's (Debian's packet library
-- libnet1 has the same file name), or is lua-net's of another version, says
-- so in words, on both backends (the version: on the FFI backend, which
-- picks its file). A
-- child process of this same interpreter loads net with a fake libnet.so.1
-- found first: a tiny library built here with the C compiler, exporting
-- nothing of lua-net's (LD_LIBRARY_PATH comes before net/capi.so's runpath;
-- NET_LIBRARY names the FFI backend's file).
local h = require('spec.lua.helper')
local sh = h.sh

local self_exe = h.interpreter

if not h.LINUX then
  pending('the child finds its interpreter through /proc (Linux)')
  return
end
-- reference.md (Environment): NET_BACKEND "forces the backend under LuaJIT
-- ... Any other value raises when `net` loads (`NET_BACKEND must be 'ffi' or
-- 'capi', not 'FFI'`), on PUC Lua too, where `ffi` raises as well
-- (`NET_BACKEND=ffi needs LuaJIT's ffi module`); empty is as unset". No test
-- set it to anything but ffi or capi: net/core/init.lua's two raises never
-- ran. A child of this interpreter loads net with each value.
describe('NET_BACKEND', function()
  local function load_with(value)
    return sh('NET_BACKEND=' .. value .. ' ' .. h.shell_quote(self_exe())
      .. [[ -e "require('net'); io.write(require('net.core').backend)"]])
  end

  it("raises when net loads for any value but 'ffi' or 'capi', naming it", function()
    local out, rc = load_with('FFI')
    assert.is_true(rc ~= 0, out)
    assert.truthy(out:find("NET_BACKEND must be 'ffi' or 'capi', not 'FFI'", 1, true), out)
  end)

  it("'ffi' is the FFI backend under LuaJIT and raises on PUC Lua, which has no ffi", function()
    local out, rc = load_with('ffi')
    if type(jit) == 'table' then
      assert.are.same({ 'ffi', 0 }, { out, rc })
    else
      assert.is_true(rc ~= 0, out)
      assert.truthy(out:find("NET_BACKEND=ffi needs LuaJIT's ffi module; this is " .. _VERSION, 1, true), out)
    end
  end)

  it('empty is as unset', function()
    assert.are.same({ type(jit) == 'table' and 'ffi' or 'capi', 0 }, { load_with("''") })
  end)
end)

local _, has_cc = sh('command -v cc')
if has_cc ~= 0 then
  pending('no C compiler (cc) to build the fake libnet.so.1 with')
  return
end

describe('a libnet.so.1 that is not lua-net\'s', function()
  local dir, exe
  setup(function()
    dir = h.tmpdir()
    exe = self_exe()
    local f = assert(io.open(dir .. '/fake.c', 'w'))
    f:write('int libnet_init(void) { return 0; }\n')
    f:close()
    -- a lua-net libnet of the previous major version, and one of this
    -- major's first minor (1.0.0: older than the 1.1 functions the Lua
    -- files call), both only as old as their net_version says
    local version = require('net').version()
    local major = math.floor(version / 10000)
    for name, v in pairs({ older_major = (major - 1) * 10000 + 9999, older_minor = major * 10000 }) do
      assert(select(2, sh('mkdir ' .. dir .. '/' .. name)) == 0)
      f = assert(io.open(dir .. '/' .. name .. '.c', 'w'))
      f:write('int net_version(void) { return ' .. v .. '; }\n')
      f:close()
      local out, rc = sh('cc -shared -fPIC -o ' .. dir .. '/' .. name .. '/libnet.so.1 ' .. dir .. '/' .. name .. '.c')
      assert(rc == 0, out)
    end
    f = assert(io.open(dir .. '/fake.map', 'w'))
    f:write('LIBNET_1.1 { global: libnet_init; local: *; };\n')
    f:close()
    for _, v in ipairs({ { 'plain', '' }, { 'versioned', ' -Wl,--version-script=' .. dir .. '/fake.map' } }) do
      assert(select(2, sh('mkdir ' .. dir .. '/' .. v[1])) == 0)
      local out, rc = sh('cc -shared -fPIC -Wl,-soname,libnet.so.1 -o ' .. dir .. '/' .. v[1]
        .. '/libnet.so.1 ' .. dir .. '/fake.c' .. v[2])
      assert(rc == 0, out)
    end
  end)
  teardown(function() h.rmdir(dir) end)

  -- Runs this interpreter on code with the environment prefix env.
  local function child(env, code)
    return sh(env .. ' ' .. exe .. " -e \"" .. code .. "\"")
  end

  it('is out of the way of the checks below: the child loads net without it on the path', function()
    local out, rc = child('NET_BACKEND=capi', "io.write(require('net').version())")
    assert.equals(0, rc, out)
    assert.equals(tostring(require('net').version()), out)
  end)

  for _, kind in ipairs({ 'plain', 'versioned' }) do
    it('found first by net.capi (' .. kind .. ' symbols): the error says so, and what to do', function()
      local out, rc = child('LD_LIBRARY_PATH=' .. dir .. '/' .. kind .. ':"$LD_LIBRARY_PATH" NET_BACKEND=capi',
        "require('net')")
      assert.is_true(rc ~= 0, out)
      assert.truthy(out:find("net.capi: the libnet.so.1 the system loader found is not this lua-net's", 1, true), out)
      assert.truthy(out:find('NET_LIBRARY applies to the FFI backend only', 1, true), out)
      -- the loader's own words are kept
      assert.truthy(out:find('The loader said: ', 1, true), out)
      -- (the loader names the first missing node, NET_1 or NET_1.1, by link order)
      local original = kind == 'plain' and 'undefined symbol: net_' or "version `NET_1"
      assert.truthy(out:find(original, 1, true), out)
      assert.truthy(out:find(dir, 1, true) or out:find('capi.so', 1, true), out)
    end)
  end

  it('named by NET_LIBRARY to the FFI backend: the error says so', function()
    if type(jit) ~= 'table' then
      pending('the FFI backend needs LuaJIT; this is ' .. _VERSION)
      return
    end
    local out, rc = child('NET_BACKEND=ffi NET_LIBRARY=' .. dir .. '/plain/libnet.so.1', "require('net')")
    assert.is_true(rc ~= 0, out)
    assert.truthy(out:find("not lua-net's libnet (it has no net_version)", 1, true), out)
  end)

  for _, kind in ipairs({ 'older_major', 'older_minor' }) do
    it('of another version (' .. kind .. '), named by NET_LIBRARY to the FFI backend: the error says which', function()
      if type(jit) ~= 'table' then
        pending('the FFI backend needs LuaJIT; this is ' .. _VERSION)
        return
      end
      local out, rc = child('NET_BACKEND=ffi NET_LIBRARY=' .. dir .. '/' .. kind .. '/libnet.so.1', "require('net')")
      assert.is_true(rc ~= 0, out)
      assert.truthy(out:find('these Lua files need', 1, true), out)
      assert.truthy(out:find(kind == 'older_minor' and 'libnet 1.0.0' or 'libnet 0.99.99', 1, true), out)
    end)
  end
end)
