/*
 * methods.c — C fast paths of the hottest socket methods (send, recv and the
 * option getters), for the C-API backend.
 *
 * On PUC Lua a method written in Lua costs more than the system call it
 * makes: the Lua call, type() per argument, the lookup of the fd, then the C
 * primitive (bench/RESULTS.md). So net.capi offers
 *
 *     core.fast_method(name, lua_method[, extra]) -> C function | nil
 *
 * which returns a C function doing the common case of that method: the
 * well-formed call with the arguments of the hot loop. Every other case
 * (argument errors, flags, buffers, setters, a self that is not a socket) is
 * handed to lua_method, the method's one full definition in ffi/net, so that
 * the two cannot disagree about anything but speed. Results follow
 * doc/lua-api-contract.md exactly; the busted suite runs on both backends.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "capi.h"
#include "net.h"

/* The upvalues of every fast method. */
enum {
    UV_LUA_METHOD = 1, /* the full method, for every case not handled here */
    UV_EXTRA,       /* per method: the option index, or recv's default size */
    UV_SCRATCH,     /* recv: its receive buffer (net__capi_recv_buffer) */
};

/* ---- handing a call to the Lua method ----------------------------------- */

/*
 * Calls the Lua method with this call's nargs arguments and returns its
 * results.
 * Its argument errors are raised at the level of its caller, which is this C
 * function and has no line: the position of our own caller is added, so
 * the message reads as if the Lua method had been called directly.
 */
static int delegate(lua_State *L, int nargs)
{
    lua_settop(L, nargs); /* drops what the fast path pushed */
    lua_pushvalue(L, lua_upvalueindex(UV_LUA_METHOD));
    lua_insert(L, 1);
    if (lua_pcall(L, nargs, LUA_MULTRET, 0) != 0) {
        const char *msg = lua_tostring(L, -1);
        if (msg != NULL && strncmp(msg, "bad argument", 12) == 0) {
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        return lua_error(L);
    }
    return lua_gettop(L);
}

/* ---- arguments -------------------------------------------------------------- */

/* The number at idx when it is a whole number in int's range (what the Lua
 * methods accept without a second look); 0 for anything else. Integers are
 * tested first: they are what the hot loops pass. */
static int whole_int_arg(lua_State *L, int idx, int *out)
{
    lua_Number v;
#if LUA_VERSION_NUM >= 503
    if (lua_isinteger(L, idx)) {
        lua_Integer i = lua_tointeger(L, idx);
        if (i < INT_MIN || i > INT_MAX)
            return 0;
        *out = (int)i;
        return 1;
    }
#endif
    if (lua_type(L, idx) != LUA_TNUMBER)
        return 0;
    v = lua_tonumber(L, idx);
    if (!(v >= INT_MIN && v <= INT_MAX) || v != floor(v))
        return 0;
    *out = (int)v;
    return 1;
}

/* self[1], the fd of a socket object (ffi/net/util/socket.lua), when self
 * (index 1) is a table with a number there. The Lua layer alone writes it,
 * always a whole number, so it is read without the checks of an argument;
 * the value stays on the stack (the results are pushed after it, and a C
 * function returns the top ones), which saves a pop on the hottest path. */
static int self_fd(lua_State *L, int *fd)
{
    int isnum;
    if (!lua_istable(L, 1))
        return 0;
    lua_rawgeti(L, 1, 1);
#if LUA_VERSION_NUM >= 502
    *fd = (int)lua_tointegerx(L, -1, &isnum);
#else
    isnum = lua_isnumber(L, -1);
    *fd = (int)lua_tointeger(L, -1);
#endif
    return isnum;
}

/* ---- results ------------------------------------------------------------------ */

/* nil, message: a failed call. */
static int push_failure(lua_State *L, int64_t code)
{
    lua_pushnil(L);
    lua_pushstring(L, net_strerror((int)code));
    return 2;
}

static int is_again(int64_t code)
{
    return code == -EAGAIN || code == -EWOULDBLOCK || code == -EINTR;
}

static int is_peer_gone(int64_t code)
{
    return code == -EPIPE || code == -ECONNRESET;
}

/* nil, nil, nil: the peer closed or is gone. */
static int push_peer_gone(lua_State *L)
{
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushnil(L);
    return 3;
}

/* The failure results of recv and send: nil, nil, true to try again (send
 * says 0, nil, true: again_count), nil, nil, nil when the peer is gone,
 * nil, message otherwise. */
static int push_io_failure(lua_State *L, int64_t code, int again_count)
{
    if (is_again(code)) {
        if (again_count)
            lua_pushinteger(L, 0);
        else
            lua_pushnil(L);
        lua_pushnil(L);
        lua_pushboolean(L, 1);
        return 3;
    }
    if (is_peer_gone(code))
        return push_peer_gone(L);
    return push_failure(L, code);
}

/* ---- send and recv --------------------------------------------------------------- */

/* sock:send(str): the whole string, no flags. */
static int fast_send(lua_State *L)
{
    size_t len;
    const char *str;
    int fd;
    int64_t n;
    int top = lua_gettop(L);
    if (top != 2 || lua_type(L, 2) != LUA_TSTRING || !self_fd(L, &fd))
        return delegate(L, top);
    str = lua_tolstring(L, 2, &len);
    n = net_sock_send(fd, str, len, 0);
    if (n < 0)
        return push_io_failure(L, n, 1);
    lua_pushinteger(L, (lua_Integer)n);
    if ((size_t)n == len)
        return 1;
    lua_pushnil(L); /* partial: len, nil, true */
    lua_pushboolean(L, 1);
    return 3;
}

/* sock:recv([size]): no flags. */
static int fast_recv(lua_State *L)
{
    char stack_buf[RECV_STACK_SIZE];
    char *buf;
    int fd, size;
    int64_t n;
    int top = lua_gettop(L);
    if (top > 2) /* flags, even after a nil size */
        return delegate(L, top);
    if (top < 2 || lua_isnil(L, 2))
        size = (int)lua_tointeger(L, lua_upvalueindex(UV_EXTRA));
    else if (!whole_int_arg(L, 2, &size) || size < 1)
        return delegate(L, top);
    if (!self_fd(L, &fd))
        return delegate(L, top);
    buf = net__capi_recv_buffer(L, lua_upvalueindex(UV_SCRATCH), stack_buf,
                               (size_t)size);
    n = net_sock_recv(fd, buf, (size_t)size, 0);
    if (n < 0)
        return push_io_failure(L, n, 0);
    if (n == 0) /* the peer closed */
        return push_peer_gone(L);
    lua_pushlstring(L, buf, (size_t)n);
    return 1;
}

/* ---- option getters ------------------------------------------------------------ */

/* How the Lua method presents the value (ffi/net/util/options.lua). */
enum option_kind { KIND_BOOL, KIND_INT, KIND_SECONDS };

typedef struct option {
    const char *name;
    int (*get_int)(int fd, int val);              /* int-valued options */
    double (*get_seconds)(int fd, double seconds); /* seconds-valued ones */
} option_t;

#define INT_OPTION(name) {#name, net_sock_##name, NULL},
#define SECONDS_OPTION(name) {#name, NULL, net_sock_##name},
static const option_t options[] = {
    INT_OPTION(cloexec) INT_OPTION(nonblock)
    NET_INT_OPTIONS(INT_OPTION)
    NET_SECONDS_OPTIONS(SECONDS_OPTION)
};
#define OPTION_COUNT (int)(sizeof options / sizeof options[0])

static int option_index(const char *name)
{
    int i;
    for (i = 0; i < OPTION_COUNT; i++)
        if (strcmp(options[i].name, name) == 0)
            return i;
    return -1;
}

/* sock:<option>(): reads it. Setting goes to the Lua method. The kind and
 * the option are packed in UV_EXTRA as index * 4 + kind. */
static int fast_option(lua_State *L)
{
    lua_Integer extra = lua_tointeger(L, lua_upvalueindex(UV_EXTRA));
    const option_t *opt = &options[extra / 4];
    int kind = (int)(extra % 4);
    int fd, top = lua_gettop(L);
    if ((top > 1 && !lua_isnil(L, 2)) || !self_fd(L, &fd))
        return delegate(L, top);
    if (opt->get_seconds != NULL) {
        double sec = opt->get_seconds(fd, -1);
        if (sec < 0)
            return push_failure(L, (int64_t)sec);
        lua_pushnumber(L, (lua_Number)sec);
        return 1;
    } else {
        int rc = opt->get_int(fd, -1);
        if (rc < 0)
            return push_failure(L, rc);
        if (kind == KIND_BOOL)
            lua_pushboolean(L, rc == 1);
        else
            lua_pushinteger(L, rc);
        return 1;
    }
}

/* ---- the factory ------------------------------------------------------------------ */

/* fast_method(name, lua_method[, extra]): extra is recv's default size, or
 * an option's kind ('bool', 'int', 'seconds'). nil when name has no fast
 * path here, or when an option's kind does not match its C type. */
static int l_fast_method(lua_State *L)
{
    static const char *const kinds[] = {"bool", "int", "seconds", NULL};
    const char *name = luaL_checkstring(L, 1);
    lua_CFunction fn;
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 3);
    if (strcmp(name, "send") == 0) {
        fn = fast_send;
    } else if (strcmp(name, "recv") == 0) {
        int size = (int)luaL_checkinteger(L, 3);
        luaL_argcheck(L, size >= 1, 3, "default size must be positive");
        fn = fast_recv;
    } else {
        int index = option_index(name), kind;
        if (index < 0) {
            lua_pushnil(L);
            return 1;
        }
        kind = luaL_checkoption(L, 3, NULL, kinds);
        if ((kind == KIND_SECONDS) != (options[index].get_seconds != NULL)) {
            lua_pushnil(L);
            return 1;
        }
        lua_pushinteger(L, (lua_Integer)index * 4 + kind);
        lua_replace(L, 3);
        fn = fast_option;
    }
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 3);
    new_userdata(L, 0); /* recv's first scratch buffer; unused by the others */
    lua_pushcclosure(L, fn, 3);
    return 1;
}

void net__capi_open_methods(lua_State *L)
{
    lua_pushcfunction(L, l_fast_method);
    lua_setfield(L, -2, "fast_method");
}
