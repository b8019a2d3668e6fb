/* benchclock: the benchmarks' clock on PUC Lua, which has no wall clock
 * finer than a second. Built once per Lua version by bench/run. */
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CLOCK_MONOTONIC, or this process's CPU time with BENCH_CLOCK=cpu (see
 * bench_now in bench.h). */
static clockid_t clock_id = CLOCK_MONOTONIC;

static int now(lua_State *L)
{
    struct timespec ts;
    clock_gettime(clock_id, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
    return 1;
}

int luaopen_benchclock(lua_State *L)
{
    const char *which = getenv("BENCH_CLOCK");
    if (which != NULL && strcmp(which, "cpu") == 0)
        clock_id = CLOCK_PROCESS_CPUTIME_ID;
    lua_newtable(L);
    lua_pushcfunction(L, now);
    lua_setfield(L, -2, "now");
    return 1;
}
