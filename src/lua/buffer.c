/* buffer.c — placeholder, filled in by the next commits. */
#include "capi.h"

void net_capi_open_buffer(lua_State *L) { (void)L; }
