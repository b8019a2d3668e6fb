/* benchclock: CLOCK_MONOTONIC for the benchmarks on PUC Lua, which has no
 * wall clock finer than a second. Built once per Lua version by bench/run. */
#include <lauxlib.h>
#include <lua.h>
#include <time.h>

static int now(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
    return 1;
}

int luaopen_benchclock(lua_State *L)
{
    lua_newtable(L);
    lua_pushcfunction(L, now);
    lua_setfield(L, -2, "now");
    return 1;
}
