/* methods.c — placeholder, filled in by the next commits. */
#include "capi.h"

void net_capi_open_methods(lua_State *L) { (void)L; }
