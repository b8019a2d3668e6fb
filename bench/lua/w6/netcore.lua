-- bare net.core measures what the stream methods add (W1, W3); W6 goes
-- through the classes only (bench/lua/w6/net.lua).
return { unsupported = {
  w6echo = 'W6 is measured through the classes (lua-net rows)',
  w6stream = 'W6 is measured through the classes (lua-net rows)',
} }
