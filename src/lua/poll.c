/*
 * poll.c — the poll-set primitives of net.capi (doc/internals.md, "poll
 * sets"): thin shims over net_poll_create/ctl/wait/close.
 *
 * poll_wait writes into one result area shared by every set (a userdata
 * that poll_wait and poll_event both close over), read with poll_event(i)
 * until the next poll_wait: nothing is allocated per wait. The area grows to
 * the largest max asked, up to POLL_MAX records (a wait may report fewer
 * than are ready; the rest come next time). The FFI backend uses the same
 * number.
 */
#include <stdlib.h>
#include <string.h>

#include "capi.h"
#include "net.h"

#define AREA_MT "net.poll.area"

enum { POLL_MAX = 65536, POLL_ROOM = 64 };

typedef struct area {
    net_poll_event_t *events; /* room records, malloc'd */
    int room;
    int count; /* records the last poll_wait wrote */
} area_t;

static int area_gc(lua_State *L)
{
    area_t *a = (area_t *)lua_touserdata(L, 1);
    free(a->events);
    a->events = NULL;
    a->room = a->count = 0;
    return 0;
}

static int l_poll_create(lua_State *L)
{
    return push_int(L, net_poll_create(arg_int(L, 1)));
}

static int l_poll_close(lua_State *L)
{
    return push_int(L, net_poll_close(arg_int(L, 1)));
}

/* The data word: a whole number from 0 to 2^53, exact in a double on every
 * Lua (the class's generation numbers). */
static uint64_t arg_data(lua_State *L, int idx)
{
#if LUA_VERSION_NUM >= 503
    lua_Integer v = luaL_checkinteger(L, idx);
    luaL_argcheck(L, v >= 0 && v <= ((lua_Integer)1 << 53), idx, "data out of range");
#else
    lua_Number v = luaL_checknumber(L, idx);
    luaL_argcheck(L, v >= 0 && v <= 9007199254740992.0 && v == (lua_Number)(uint64_t)v,
                  idx, "data out of range");
#endif
    return (uint64_t)v;
}

static int l_poll_ctl(lua_State *L)
{
    int pfd = arg_int(L, 1), op = arg_int(L, 2), fd = arg_int(L, 3);
    int events = arg_int(L, 4);
    uint64_t data = arg_data(L, 5);
    /* a negative events value is no set of POLL* bits: libnet says EINVAL */
    return push_int(L, net_poll_ctl(pfd, op, fd, events < 0 ? UINT32_MAX : (uint32_t)events,
                                    data));
}

static int l_poll_wait(lua_State *L)
{
    area_t *a = (area_t *)lua_touserdata(L, lua_upvalueindex(1));
    int pfd = arg_int(L, 1), max = arg_int(L, 2);
    double timeout = (double)luaL_checknumber(L, 3);
    int n;
    if (max > POLL_MAX)
        max = POLL_MAX;
    if (max > a->room) {
        net_poll_event_t *grown = realloc(a->events, (size_t)max * sizeof *grown);
        if (grown == NULL)
            return push_int(L, -ENOMEM);
        a->events = grown;
        a->room = max;
    }
    a->count = 0;
    n = net_poll_wait(pfd, a->events, max, timeout); /* max < 1: EINVAL */
    if (n > 0)
        a->count = n;
    return push_int(L, n);
}

/* fd, events, data of the i-th record (1-based) of the last poll_wait; an
 * index outside it raises (the FFI backend trusts the class instead). */
static int l_poll_event(lua_State *L)
{
    const area_t *a = (const area_t *)lua_touserdata(L, lua_upvalueindex(1));
    int i = arg_int(L, 1);
    const net_poll_event_t *e;
    luaL_argcheck(L, i >= 1 && i <= a->count, 1, "index out of range");
    e = &a->events[i - 1];
    lua_pushinteger(L, e->fd);
    lua_pushinteger(L, (lua_Integer)e->events);
    if (e->data <= ((uint64_t)1 << 53))
        push_int64(L, (int64_t)e->data);
    else /* not the class's: a word some C code registered */
        lua_pushnumber(L, (lua_Number)e->data);
    return 3;
}

static const luaL_Reg plain[] = {
    {"poll_create", l_poll_create},
    {"poll_ctl", l_poll_ctl},
    {"poll_close", l_poll_close},
    {NULL, NULL},
};

/* Share the result area (an upvalue). */
static const luaL_Reg with_area[] = {
    {"poll_wait", l_poll_wait},
    {"poll_event", l_poll_event},
    {NULL, NULL},
};

static const net_constant_t poll_ops[] = {
    {"POLL_ADD", NET_POLL_ADD},
    {"POLL_MOD", NET_POLL_MOD},
    {"POLL_DEL", NET_POLL_DEL},
    {NULL, 0},
};

void net__capi_open_poll(lua_State *L)
{
    const net_constant_t *c;
    area_t *a;
    luaL_setfuncs(L, plain, 0);
    a = (area_t *)new_userdata(L, sizeof *a);
    memset(a, 0, sizeof *a);
    /* its __gc first: a memory error of the metatable's making (the module's
     * require fails) then leaves nothing malloc'd behind */
    if (luaL_newmetatable(L, AREA_MT)) {
        lua_pushcfunction(L, area_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    a->events = malloc(POLL_ROOM * sizeof *a->events);
    a->room = a->events ? POLL_ROOM : 0;
    luaL_setfuncs(L, with_area, 1);
    /* net.h's operations, beside its other flags in the constants table */
    lua_getfield(L, -1, "constants");
    for (c = poll_ops; c->name != NULL; c++) {
        lua_pushinteger(L, (lua_Integer)c->value);
        lua_setfield(L, -2, c->name);
    }
    lua_pop(L, 1);
}
