/*
 * capi.h — what the C files of net.capi share: the Lua 5.1 shims that let
 * the code be written in the 5.2+ API, the argument/result helpers of the
 * primitive table (doc/internals.md), and the parts of the module that live
 * in files of their own.
 */
#ifndef NET_CAPI_H
#define NET_CAPI_H

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <lauxlib.h>
#include <lua.h>

/* ---- compat: the code below is written in the Lua 5.2+ API ------------- */

#if LUA_VERSION_NUM < 502
#define lua_rawlen(L, idx) lua_objlen(L, idx)
#define luaL_newlib(L, l) (lua_newtable(L), luaL_setfuncs(L, l, 0))
#define luaL_setmetatable(L, tname) \
    (luaL_getmetatable(L, tname), lua_setmetatable(L, -2))

/* Lua 5.2's luaL_setfuncs: the functions of l into the table below the nup
 * upvalues on the stack top, each closing over its own copy of them. */
static inline void luaL_setfuncs(lua_State *L, const luaL_Reg *l, int nup)
{
    luaL_checkstack(L, nup, "too many upvalues");
    for (; l->name != NULL; l++) {
        int i;
        for (i = 0; i < nup; i++)
            lua_pushvalue(L, -nup);
        lua_pushcclosure(L, l->func, nup);
        lua_setfield(L, -(nup + 2), l->name);
    }
    lua_pop(L, nup);
}
#endif

/* Userdata without user values: 5.4's lua_newuserdata reserves one, which
 * nothing here uses (16 bytes more per guard and address). */
#if LUA_VERSION_NUM >= 504
#define new_userdata(L, size) lua_newuserdatauv(L, size, 0)
#else
#define new_userdata(L, size) lua_newuserdata(L, size)
#endif

/* A guard (net.core's guard(fd)): owns one fd for the collector, -1 once it
 * owns none; owned: it has an owner, the socket object whose [1] is the fd,
 * held as its user value (capi.c). */
typedef struct net_capi_guard {
    int fd;
    int owned;
} net_capi_guard_t;

/* A guard's owner, its one user value (5.1 and LuaJIT: its environment,
 * which is some table from its birth: hence `owned`). */
#if LUA_VERSION_NUM >= 504
#define new_guard_userdata(L, size) lua_newuserdatauv(L, size, 1)
#define set_owner(L, idx) lua_setiuservalue(L, idx, 1)
#define push_owner(L, idx) lua_getiuservalue(L, idx, 1)
#elif LUA_VERSION_NUM >= 502
#define new_guard_userdata(L, size) lua_newuserdata(L, size)
#define set_owner(L, idx) lua_setuservalue(L, idx)
#define push_owner(L, idx) lua_getuservalue(L, idx)
#else
#define new_guard_userdata(L, size) lua_newuserdata(L, size)
#define set_owner(L, idx) lua_setfenv(L, idx)
#define push_owner(L, idx) lua_getfenv(L, idx)
#endif

/* The guard at idx, or NULL when the argument is none or nil; raises for
 * anything else. Check it before the call that makes the descriptor: a
 * raise after it would lose the descriptor. */
net_capi_guard_t *net__capi_opt_guard(lua_State *L, int idx);

/* An int argument (fd, flag, option value), clamped to int's range so that a
 * huge number can never wrap around to a valid fd or a different value.
 * 5.3+ has integers (and raises for 1.5, like every 5.3 library function);
 * on 5.1/5.2 the number is a double, truncated as luaL_checkinteger would,
 * but range-checked first: casting an out-of-range double is undefined. */
static inline int arg_int(lua_State *L, int idx)
{
    /* A number, never a string that reads as one ("5", "-1"): the FFI
     * backend converts no string to an int, and both must agree. */
    if (lua_type(L, idx) != LUA_TNUMBER)
        luaL_argerror(L, idx, lua_pushfstring(L, "number expected, got %s",
                                              luaL_typename(L, idx)));
#if LUA_VERSION_NUM >= 503
    lua_Integer v = luaL_checkinteger(L, idx);
#else
    lua_Number v = luaL_checknumber(L, idx);
    if (!(v >= INT_MIN)) /* also catches NaN */
        return INT_MIN;
#endif
    if (v < INT_MIN)
        return INT_MIN;
    if (v > INT_MAX)
        return INT_MAX;
    return (int)v;
}

/* An integer result: a value, a byte count, an fd, or a negative code. */
static inline int push_int(lua_State *L, lua_Integer v)
{
    lua_pushinteger(L, v);
    return 1;
}

/* A 64-bit result (a sendfile's or a gather write's count, a poll set's
 * data word; at most 2^53) or a negative code: an integer where
 * lua_Integer holds it, else a number. (lua_Integer is 32 bits on ILP32's
 * Lua 5.1 and 5.2, where a count past 2 GiB would come out cut.) */
static inline int push_int64(lua_State *L, int64_t v)
{
    if ((int64_t)(lua_Integer)v == v)
        lua_pushinteger(L, (lua_Integer)v);
    else
        lua_pushnumber(L, (lua_Number)v);
    return 1;
}

/* Seconds (a SO_*TIMEO option's, >= 0): on 5.3+ a whole number as an
 * integer, so that it prints as it does on LuaJIT ("2": a float 2.0 prints
 * "2.0"), a fraction as a number. (Before 5.3 both are the same number.) */
static inline void push_seconds_value(lua_State *L, double sec)
{
#if LUA_VERSION_NUM >= 503
    /* below -LUA_MININTEGER (2^63, or 2^31 on LUA_32BITS), exact as a
     * double: the cast is defined */
    if (sec >= 0 && sec < -(double)LUA_MININTEGER && sec == (double)(lua_Integer)sec) {
        lua_pushinteger(L, (lua_Integer)sec);
        return;
    }
#endif
    lua_pushnumber(L, (lua_Number)sec);
}

/* ---- the net.h functions of "integers in, one integer out" shape --------- */

/*
 * Listed once, by C signature; capi.c expands each list to one shim per name
 * (l_sock_<name> calling net_sock_<name>).
 */

/* int net_sock_<name>(int fd) */
#define NET_FD_CALLS(X) \
    X(close) X(atmark) X(type) X(family) X(protocol) X(error) X(inq) \
    X(readshut)

/* int net_sock_<name>(int fd, int arg) */
#define NET_FD_ARG_CALLS(X) X(listen) X(shutdown)

/* The options are net.h's NET_SOCK_OPTIONS. */

/* ---- receive buffers (capi.c) ------------------------------------------------ */

/* The most one read (or one buffer) takes: LuaJIT's largest userdata and
 * string (LJ_MAX_UDATA = LJ_MAX_STR = 2^31 - 256), so every size up to
 * 2^31 - 1 is valid on every runtime: a read may always return fewer bytes
 * than asked, and Linux never reads more than 2^31 - 4096 at once. The
 * module hands it to the Lua layer as max_size; the FFI backend defines its
 * own copy (ffi/net/core/ffi.lua) and the primitives spec holds the two
 * equal. */
enum { RECV_MAX = 0x7fffff00 };

/* Reads up to this size go into a buffer on the C stack: no allocation. */
enum { RECV_STACK_SIZE = 8192 };

/* A buffer of size bytes for one receive: stack_buf (RECV_STACK_SIZE bytes)
 * when it is large enough, else the scratch userdata at the stack index
 * scratch (an upvalue), replaced there by a larger one when needed; above
 * 4 MiB a one-off buffer of its own, or NULL when no memory is left for it
 * (the call then says -ENOMEM, as the FFI backend's). Each is the call's
 * until net__capi_recv_release: release it once the bytes are copied out
 * (see capi.c). */
char *net__capi_recv_buffer(lua_State *L, int scratch, char *stack_buf,
                           size_t size);
void net__capi_recv_release(char *buf, size_t size);

/* A receive's result n given size bytes of room: a count above size is never
 * data (libnet clamps it; this holds even against a libnet.so.1 that did not,
 * whose bytes past size would be memory nothing received into). */
static inline int64_t recv_count(int64_t n, size_t size)
{
    return n > 0 && (uint64_t)n > size ? -EMSGSIZE : n;
}

/* ---- the parts of the module ----------------------------------------------- */

/* Each adds its functions to the module table on the stack top. */
void net__capi_stay_loaded(void);          /* resident.c: never unloaded */
void net__capi_open_buffer(lua_State *L);  /* buffer.c: net.buffer's memory */
void net__capi_open_methods(lua_State *L); /* methods.c: C fast paths */
void net__capi_open_poll(lua_State *L);    /* poll.c: poll sets */
void net__capi_open_msg(lua_State *L);     /* msg.c: datagrams, message I/O */

struct net_addr; /* net.h's net_addr_t */

/* msg.c: the address (net.core's, a net_addr_t userdata) at idx when its
 * metatable is the value at mt (an absolute or pseudo-index), else NULL. */
struct net_addr *net__capi_test_addr(lua_State *L, int idx, int mt);

/* msg.c: whether a and b are the same address: family, length, and the
 * bytes in use (the rest of storage is not part of it). */
int net__capi_same_addr(const struct net_addr *a, const struct net_addr *b);

/* msg.c: pushes the sender *from of a datagram: the value at index like_idx
 * when like (the address there, or NULL) holds the same address, else a new
 * address. */
void net__capi_push_sender(lua_State *L, int like_idx, const struct net_addr *like,
                           const struct net_addr *from);

/* The metatable of address userdata (a net_addr_t each): capi.c makes it,
 * msg.c's batches read and push addresses too. */
#define NET_CAPI_ADDR_MT "net.addr"

#endif
