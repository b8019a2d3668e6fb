-- lua-net as a rock: `luarocks make` in a checkout (Debian's luarocks
-- package; nothing is downloaded). meson builds, as for `meson install`; the
-- rock's layout, under the tree's Lua folders:
--   <LUADIR>/net/**.lua        the Lua layer and the FFI backend
--   <LIBDIR>/net/capi.so       the C-API backend for this rock's Lua (no liblua
--                              linked; reaches libnet by its $ORIGIN rpath)
--   <LIBDIR>/net/libnet.so.1   libnet, out of the system linker's folders;
--                              the FFI backend finds it through package.cpath
-- There is no source to fetch: the project has no public address yet, and
-- `luarocks make` builds the checkout it is run in.
rockspec_format = '3.0'
package = 'lua-net'
version = 'scm-1'
source = {
   url = 'git+file:///lua-net',
}
description = {
   summary = 'BSD sockets for Lua: one ABI-stable C library, one pure-Lua class hierarchy',
   detailed = [[
Flat, ABI-stable socket functions on file descriptors in C (libnet), and one
class hierarchy in pure Lua over them, reached through the LuaJIT FFI or a
classic C-API module (PUC Lua 5.1 to 5.4): same require('net'), same
behaviour.]],
   license = 'MIT',
}
dependencies = {
   'lua >= 5.1, < 5.5',
}
build_dependencies = {}
build = {
   type = 'command',
   -- One build folder per Lua version, so rocks for several versions can be
   -- made from one checkout. meson builds net/capi.so for every PUC Lua whose
   -- headers it finds; the rock takes the one of its own Lua ($(LUA); LuaJIT
   -- uses the 5.1 module, same C ABI).
   build_command = [[
      v=$("$(LUA)" -e 'io.write((_VERSION:gsub("^Lua ", "")))') &&
      if [ -d "build-rock-$v" ]; then
         meson setup --reconfigure "build-rock-$v" --buildtype=release
      else
         meson setup "build-rock-$v" --buildtype=release
      fi &&
      ninja -C "build-rock-$v" &&
      test -f "build-rock-$v/$v/net/capi.so" || {
         echo "lua-net: meson found no Lua $v headers (pkg-config lua$v): no net/capi.so" >&2; exit 1; }
   ]],
   install_command = [[
      v=$("$(LUA)" -e 'io.write((_VERSION:gsub("^Lua ", "")))') &&
      mkdir -p "$(LUADIR)" "$(LIBDIR)/net" &&
      cp -R ffi/net "$(LUADIR)/" &&
      rm -f "$(LUADIR)/net/core/libpath.lua.in" &&
      cp "build-rock-$v/$v/net/capi.so" "$(LIBDIR)/net/capi.so" &&
      cp -L "build-rock-$v/libnet.so.1" "$(LIBDIR)/net/libnet.so.1"
   ]],
}
