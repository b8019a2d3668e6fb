/*
 * methods.c — C fast paths of the hottest socket methods (send, recv, the
 * option getters, and net.dgram's sendto and recvfrom), for the C-API
 * backend.
 *
 * On PUC Lua a method written in Lua costs more than the system call it
 * makes: the Lua call, type() per argument, the lookup of the fd, then the C
 * primitive (bench/RESULTS.md). So net.capi offers
 *
 *     core.fast_method(name, lua_method, other[, extra[, where[, finish]]])
 *         -> C function | nil
 *
 * which returns a C function doing the common case of that method: the
 * well-formed call with the arguments of the hot loop, and only its plain
 * success (all bytes sent, some bytes received, an option's value). Every
 * other call (argument errors, flags, buffers, setters, a self that is not a
 * socket) is handed to lua_method, the method's one full definition in
 * ffi/net; every other outcome (a failure code, 0 bytes, a partial send) to
 * other(self, outcome[, size or string]), the Lua function the Lua method
 * itself hands that outcome to (net.util.io: waiting, then the result rules
 * of net.util.result). So no rule of the Lua layer is restated here: C knows the argument
 * shapes of the common call, the object layout (doc/internals.md) and the
 * option kinds of net.h's one list, nothing else.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "capi.h"
#include "net.h"

/* The upvalues of every fast method. */
enum {
    UV_LUA_METHOD = 1, /* the full method, for every call not handled here */
    UV_OTHER,       /* the Lua method's handler of every other outcome */
    UV_EXTRA,       /* per method: the option index, the default size of
                     * recv and recvfrom, or sendto's address class */
    UV_SCRATCH,     /* recv, recvfrom: its receive buffer (net__capi_recv_buffer) */
    UV_WHERE,       /* the level of the caller whose position an argument
                     * error gets: 1, or 2 behind a Lua wrapper (Lua 5.1) */
    UV_FINISH,      /* recvfrom: the Lua function making its results */
    UV_ADDR_MT,     /* the metatable of net.core's addresses (sendto,
                     * recvfrom): no registry lookup per call */
};

/* ---- calling Lua code that may yield ---------------------------------------
 * The Lua code these functions call (the Lua method, a result rule) may wait
 * through a waiter that yields (net.loop, net.waiters.coroutine). Lua 5.2+
 * allows that to a C function that gives a continuation, the code after the
 * call: here always "return the called function's results", the values above
 * base. Lua 5.1 cannot yield across a C function at all: there net.util.fast
 * calls these functions on the main thread only, where nothing yields. */
static int raise_as_caller(lua_State *L);

#if LUA_VERSION_NUM >= 503
/* CALL_K's continuation (lua_callk's: after a yield, never on an error). */
static int results_since(lua_State *L, int status, lua_KContext base)
{
    (void)status;
    return lua_gettop(L) - (int)base;
}
/* PCALL_K's continuation. In a coroutine that can yield, an error inside
 * lua_pcallk does not return to its call: the coroutine's resume catches it
 * and calls this with the error's status (before or after a yield alike). */
static int delegated(lua_State *L, int status, lua_KContext base)
{
    if (status != LUA_OK && status != LUA_YIELD)
        return raise_as_caller(L);
    return results_since(L, status, base);
}
#define CALL_K(L, nargs, base)                                               \
    (lua_callk(L, nargs, LUA_MULTRET, base, results_since),                  \
     results_since(L, LUA_OK, base))
#define PCALL_K(L, nargs, base)                                              \
    lua_pcallk(L, nargs, LUA_MULTRET, 0, base, delegated)
#elif LUA_VERSION_NUM == 502
static int results_since(lua_State *L) /* as 5.3's, above */
{
    int base = 0;
    lua_getctx(L, &base);
    return lua_gettop(L) - base;
}
static int delegated(lua_State *L) /* as 5.3's, above */
{
    int base = 0;
    int status = lua_getctx(L, &base);
    if (status != LUA_OK && status != LUA_YIELD)
        return raise_as_caller(L);
    return lua_gettop(L) - base;
}
#define CALL_K(L, nargs, base)                                               \
    (lua_callk(L, nargs, LUA_MULTRET, base, results_since),                  \
     lua_gettop(L) - (base))
#define PCALL_K(L, nargs, base)                                              \
    lua_pcallk(L, nargs, LUA_MULTRET, 0, base, delegated)
#else
#define CALL_K(L, nargs, base)                                               \
    (lua_call(L, nargs, LUA_MULTRET), lua_gettop(L) - (base))
#define PCALL_K(L, nargs, base) lua_pcall(L, nargs, LUA_MULTRET, 0)
#endif

/* ---- handing a call to the Lua method ----------------------------------- */

/*
 * Raises the error on top of the stack, an error of the Lua method this C
 * function called. Its argument errors are raised at the level of its
 * caller, which is this C function and has no line: the position of our own
 * caller is added, so the message reads as if the Lua method had been
 * called directly.
 */
static int raise_as_caller(lua_State *L)
{
    /* lua_tostring would turn a number raised as the error into a string
     * in place: only a string can be an argument error */
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if (msg != NULL && strncmp(msg, "bad argument", 12) == 0) {
        luaL_where(L, (int)lua_tointeger(L, lua_upvalueindex(UV_WHERE)));
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

/* Calls the Lua method with this call's nargs arguments and returns its
 * results (its errors: raise_as_caller, here or in PCALL_K's continuation). */
static int delegate(lua_State *L, int nargs)
{
    lua_settop(L, nargs); /* drops what the fast path pushed */
    lua_pushvalue(L, lua_upvalueindex(UV_LUA_METHOD));
    lua_insert(L, 1);
    if (PCALL_K(L, nargs, 0) != 0)
        return raise_as_caller(L);
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
    if (!lua_istable(L, 1))
        return 0;
    lua_rawgeti(L, 1, 1);
    /* not a string that reads as a number ({"-1"}): the Lua method, and
     * the FFI backend under it, take none; and only a whole number in
     * int's range (a wrong self {2^32 + 5} must not act on fd 5): anything
     * else goes to the Lua method, which fails on it */
    return whole_int_arg(L, -1, fd);
}

/* ---- results ------------------------------------------------------------------ */

/* Returns what other(self, outcome[, arg]) returns, the Lua method's own
 * handling of an outcome that is not the plain success (waiting included);
 * its nargs arguments are on the stack top. */
static int other_outcome(lua_State *L, int nargs)
{
    int base = lua_gettop(L) - nargs;
    lua_pushvalue(L, lua_upvalueindex(UV_OTHER));
    lua_insert(L, base + 1);
    return CALL_K(L, nargs, base);
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
    if (top < 2 || !lua_isnoneornil(L, 3) || lua_type(L, 2) != LUA_TSTRING ||
        !self_fd(L, &fd))
        return delegate(L, top);
    str = lua_tolstring(L, 2, &len);
    n = net_sock_send(fd, str, len, 0);
    if (n >= 0 && (size_t)n == len) {
        lua_pushinteger(L, (lua_Integer)n);
        return 1;
    }
    lua_pushvalue(L, 1); /* partial or failed: other(self, n, str) */
    lua_pushinteger(L, (lua_Integer)n);
    lua_pushvalue(L, 2);
    return other_outcome(L, 3);
}

/* Whether self (index 1) is marked _drained: a stream a short read emptied,
 * whose next recv waits first when its waiter allows (ffi/net/util/io.lua
 * decides: other(self, nil, size) is a call not tried). Its own field only,
 * no __index: the mark is set on the object. */
static int is_drained(lua_State *L)
{
    int drained;
    lua_pushliteral(L, "_drained");
    lua_rawget(L, 1);
    drained = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return drained;
}

/* The call recv and recvfrom do in C, sock:recv([size]) with no flags: 1
 * with self's fd and the size (the default when absent), 0 for any other
 * call (the Lua method's). */
static int plain_recv_call(lua_State *L, int *fd, int *size)
{
    if (!lua_isnoneornil(L, 3)) /* flags, even after a nil size */
        return 0;
    if (lua_gettop(L) < 2 || lua_isnil(L, 2))
        *size = (int)lua_tointeger(L, lua_upvalueindex(UV_EXTRA));
    else if (!whole_int_arg(L, 2, size) || *size < 1)
        return 0;
    return self_fd(L, fd);
}

/* other(self, n, size) of a receive that did not simply succeed: n the
 * count or code it got, or NULL when it was not tried (nil). */
static int recv_other(lua_State *L, const int64_t *n, int size)
{
    lua_pushvalue(L, 1);
    if (n != NULL)
        lua_pushinteger(L, (lua_Integer)*n);
    else
        lua_pushnil(L);
    lua_pushinteger(L, size);
    return other_outcome(L, 3);
}

/* sock:recv([size]): no flags. */
static int fast_recv(lua_State *L)
{
    char stack_buf[RECV_STACK_SIZE];
    char *buf;
    int fd, size;
    int64_t n;
    int top = lua_gettop(L);
    if (!plain_recv_call(L, &fd, &size))
        return delegate(L, top);
    if (is_drained(L))
        return recv_other(L, NULL, size);
    if (size > RECV_MAX)
        size = RECV_MAX; /* as the primitive: a read may return fewer bytes */
    buf = net__capi_recv_buffer(L, lua_upvalueindex(UV_SCRATCH), stack_buf,
                               (size_t)size);
    n = buf == NULL ? -ENOMEM : recv_count(net_sock_recv(fd, buf, (size_t)size, 0), (size_t)size);
    if (n > 0)
        lua_pushlstring(L, buf, (size_t)n);
    net__capi_recv_release(buf, (size_t)size);
    if (n > 0)
        return 1;
    return recv_other(L, &n, size); /* 0 bytes or a code */
}

/* ---- datagrams: sendto and recvfrom (net.dgram.Socket) ------------------------ */

/* The net_addr_t of the address userdata at idx (net.core's addresses,
 * NET_CAPI_ADDR_MT), or NULL for any other value. */
static const net_addr_t *addr_at(lua_State *L, int idx)
{
    return net__capi_test_addr(L, idx, lua_upvalueindex(UV_ADDR_MT));
}

/* sock:sendto(str, ai): no flags. ai is a net.addrinfo: a table whose
 * metatable is that class (UV_EXTRA) and whose field _addr holds its
 * address (doc/internals.md, "net.addrinfo"); anything else goes to the
 * Lua method. */
static int fast_sendto(lua_State *L)
{
    size_t len;
    const char *str;
    const net_addr_t *addr;
    int fd, same;
    int64_t n;
    int top = lua_gettop(L);
    if (top < 3 || !lua_isnoneornil(L, 4) || lua_type(L, 2) != LUA_TSTRING ||
        !lua_istable(L, 3) || !lua_getmetatable(L, 3))
        return delegate(L, top);
    same = lua_rawequal(L, -1, lua_upvalueindex(UV_EXTRA));
    lua_pop(L, 1);
    if (!same)
        return delegate(L, top);
    lua_pushliteral(L, "_addr");
    lua_rawget(L, 3); /* stays on the stack: it holds the address */
    addr = addr_at(L, -1);
    if (addr == NULL || !self_fd(L, &fd))
        return delegate(L, top);
    str = lua_tolstring(L, 2, &len);
    n = net_sock_sendto(fd, str, len, 0, addr);
    if (n >= 0 && (size_t)n == len) {
        lua_pushinteger(L, (lua_Integer)n);
        return 1;
    }
    lua_pushvalue(L, 1); /* partial or failed: other(self, n, str, ai) */
    lua_pushinteger(L, (lua_Integer)n);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 3);
    return other_outcome(L, 4);
}

/* sock:recvfrom([size]): no flags. A datagram (0 bytes too: an empty
 * datagram is one) goes to finish(self, str, addr, full) (UV_FINISH), the
 * Lua method's own making of its results (the sender's net.addrinfo, the
 * cut); a code to other(self, code, size). One case skips finish, for its
 * call would cost PUC Lua more than the rest of recvfrom (bench/RESULTS.md,
 * W6): a whole datagram from the sender recvfrom returned last, whose
 * results are the string and that sender again, self._from, as finish gives
 * them (ffi/net/dgram/init.lua keeps that cache; doc/internals.md). */
static int fast_recvfrom(lua_State *L)
{
    char stack_buf[RECV_STACK_SIZE];
    char *buf;
    int fd, size, last, base;
    const net_addr_t *like = NULL;
    net_addr_t from;
    int64_t n, full = 0;
    int top = lua_gettop(L);
    if (!plain_recv_call(L, &fd, &size))
        return delegate(L, top);
    if (size > RECV_MAX)
        size = RECV_MAX; /* as the primitive */
    buf = net__capi_recv_buffer(L, lua_upvalueindex(UV_SCRATCH), stack_buf,
                               (size_t)size);
    n = buf == NULL ? -ENOMEM
                    : recv_count(net_sock_recvdgram(fd, buf, (size_t)size, 0, &from, &full),
                                 (size_t)size);
    if (n < 0) {
        net__capi_recv_release(buf, (size_t)size);
        return recv_other(L, &n, size);
    }
    lua_pushliteral(L, "_from"); /* own fields only, as the Lua layer writes them */
    lua_rawget(L, 1);
    last = lua_gettop(L); /* the last sender's net.addrinfo, or nil */
    if (lua_istable(L, last)) {
        lua_pushliteral(L, "_addr");
        lua_rawget(L, last);
        like = addr_at(L, -1);
    } else {
        lua_pushnil(L);
    } /* last + 1: its address, or not one */
    if (full <= n && like != NULL && net__capi_same_addr(like, &from)) {
        lua_pushlstring(L, buf, (size_t)n); /* str, nil, nil, self._from, nil */
        net__capi_recv_release(buf, (size_t)size);
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushvalue(L, last);
        lua_pushnil(L);
        return 5;
    }
    base = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(UV_FINISH)); /* finish(self, str, addr, full) */
    lua_pushvalue(L, 1);
    lua_pushlstring(L, buf, (size_t)n);
    net__capi_recv_release(buf, (size_t)size);
    net__capi_push_sender(L, last + 1, like, &from);
    lua_pushinteger(L, (lua_Integer)full);
    return CALL_K(L, 4, base);
}

/* ---- option getters ------------------------------------------------------------ */

/* How the Lua method presents an option's value, by its kind in net.h
 * (AS_SECONDS: push_seconds_value's whole number or fraction). */
enum presentation { AS_BOOLEAN, AS_INTEGER, AS_SECONDS };

typedef struct option {
    const char *name;
    enum presentation as;
    int (*get_int)(int fd, int val);              /* int-valued options */
    double (*get_seconds)(int fd, double seconds); /* seconds-valued ones */
} option_t;

#define FAST_OPTION_bool(name) {#name, AS_BOOLEAN, net_sock_##name, NULL},
#define FAST_OPTION_readonly_bool(name) FAST_OPTION_bool(name)
#define FAST_OPTION_int(name) {#name, AS_INTEGER, net_sock_##name, NULL},
#define FAST_OPTION_seconds(name) {#name, AS_SECONDS, NULL, net_sock_##name},
#define FAST_OPTION(name, kind, scope, alias) FAST_OPTION_##kind(name)
static const option_t options[] = {NET_SOCK_OPTIONS(FAST_OPTION)};
#define OPTION_COUNT (int)(sizeof options / sizeof options[0])

static int option_index(const char *name)
{
    int i;
    for (i = 0; i < OPTION_COUNT; i++)
        if (strcmp(options[i].name, name) == 0)
            return i;
    return -1;
}

/* sock:<option>(): reads it. Setting goes to the Lua method. */
static int fast_option(lua_State *L)
{
    const option_t *opt =
        &options[lua_tointeger(L, lua_upvalueindex(UV_EXTRA))];
    int fd, top = lua_gettop(L);
    if ((top > 1 && !lua_isnil(L, 2)) || !self_fd(L, &fd))
        return delegate(L, top);
    if (opt->get_seconds != NULL) {
        double sec = opt->get_seconds(fd, -1);
        if (sec < 0) {
            lua_pushvalue(L, 1); /* other(self, code) */
            lua_pushinteger(L, (lua_Integer)sec);
            return other_outcome(L, 2);
        }
        push_seconds_value(L, sec);
    } else {
        int rc = opt->get_int(fd, -1);
        if (rc < 0) {
            lua_pushvalue(L, 1); /* other(self, code) */
            lua_pushinteger(L, rc);
            return other_outcome(L, 2);
        }
        if (opt->as == AS_BOOLEAN)
            lua_pushboolean(L, rc == 1);
        else
            lua_pushinteger(L, rc);
    }
    return 1;
}

/* ---- the factory ------------------------------------------------------------------ */

/* fast_method(name, lua_method, other[, extra[, where[, finish]]]):
 * extra is recv's and recvfrom's default size, sendto's class net.addrinfo;
 * where (default 1) the level of the caller an argument error names; finish
 * recvfrom's maker of its results. nil when name has no fast path here. */
static int l_fast_method(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    lua_CFunction fn;
    luaL_checktype(L, 2, LUA_TFUNCTION);
    int where = (int)luaL_optinteger(L, 5, 1);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    luaL_argcheck(L, where >= 1, 5, "level must be positive");
    lua_settop(L, 6);
    if (strcmp(name, "send") == 0) {
        fn = fast_send;
    } else if (strcmp(name, "recv") == 0 || strcmp(name, "recvfrom") == 0) {
        int size = (int)luaL_checkinteger(L, 4);
        luaL_argcheck(L, size >= 1, 4, "default size must be positive");
        fn = fast_recv;
        if (strcmp(name, "recvfrom") == 0) {
            luaL_checktype(L, 6, LUA_TFUNCTION); /* finish */
            fn = fast_recvfrom;
        }
    } else if (strcmp(name, "sendto") == 0) {
        luaL_checktype(L, 4, LUA_TTABLE);
        fn = fast_sendto;
    } else {
        int index = option_index(name);
        if (index < 0) {
            lua_pushnil(L);
            return 1;
        }
        lua_pushinteger(L, index);
        lua_replace(L, 4);
        fn = fast_option;
    }
    /* upvalues: UV_LUA_METHOD, UV_OTHER, UV_EXTRA, UV_SCRATCH, UV_WHERE,
     * UV_FINISH, UV_ADDR_MT */
    new_userdata(L, 0); /* recv's and recvfrom's first scratch buffer; unused by the others */
    lua_pushinteger(L, where);
    lua_pushvalue(L, 6);
    luaL_getmetatable(L, NET_CAPI_ADDR_MT);
    lua_remove(L, 5); /* the arguments where and finish: their values are */
    lua_remove(L, 5); /* above them */
    lua_pushcclosure(L, fn, 7);
    return 1;
}

void net__capi_open_methods(lua_State *L)
{
    lua_pushcfunction(L, l_fast_method);
    lua_setfield(L, -2, "fast_method");
}
