/*
 * capi.c — `net.capi`, the primitive table (doc/internals.md) for PUC Lua
 * 5.1–5.4 (LuaJIT loads the 5.1 build).
 *
 * Thin shims only: each function converts Lua arguments, calls the net.h
 * function of the same name and pushes its result. A failure is the negative
 * net.h result code, pushed as an integer; nothing here builds error strings
 * or raises for system failures. Wrong argument types still raise (luaL_check*)
 * so that no misuse can crash the interpreter.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "capi.h"
#include "net.h"

/* ---- userdata: addresses and fd guards ------------------------------------ */

#define ADDR_MT NET_CAPI_ADDR_MT
#define GUARD_MT "net.guard"

static net_addr_t *check_addr(lua_State *L, int idx)
{
    return (net_addr_t *)luaL_checkudata(L, idx, ADDR_MT);
}

/* A new address userdata holding a copy of *addr. */
static int push_addr(lua_State *L, const net_addr_t *addr)
{
    net_addr_t *ud = (net_addr_t *)new_userdata(L, sizeof *ud);
    memcpy(ud, addr, sizeof *ud);
    luaL_setmetatable(L, ADDR_MT);
    return 1;
}

/* An address result: the address, or the code when rc < 0. */
static int push_addr_or_code(lua_State *L, int rc, const net_addr_t *addr)
{
    return rc < 0 ? push_int(L, rc) : push_addr(L, addr);
}

/* A guard owns one fd until closed or released; -1 once it owns none. */
typedef net_capi_guard_t guard_t;

static guard_t *check_guard(lua_State *L, int idx)
{
    return (guard_t *)luaL_checkudata(L, idx, GUARD_MT);
}

static int l_guard(lua_State *L)
{
    int fd = arg_int(L, 1);
    guard_t *g = (guard_t *)new_guard_userdata(L, sizeof *g);
    g->fd = fd;
    g->owned = 0;
    luaL_setmetatable(L, GUARD_MT);
    return 1;
}

/* Makes the socket object owner the guard's owner: when the collector closes
 * the guard's fd, it marks the owner closed first ([1] = -1). Another
 * finalizer of the same collection, or an object it brings back, may still
 * reach the owner (the guard's userdata is finalized along with the objects
 * that hold it, in an order of the collector's); it then finds a closed
 * socket, never a number the kernel may have given to another one. */
static int l_guard_own(lua_State *L)
{
    guard_t *g = check_guard(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    set_owner(L, 1);
    g->owned = 1;
    return 0;
}

/* Disarms the guard first: whatever close reports, the fd is not the
 * guard's any more (Linux frees it even on EINTR), so the collector never
 * closes a number the process may have reused. */
static int l_guard_close(lua_State *L)
{
    guard_t *g = check_guard(L, 1);
    int fd = g->fd;
    if (fd < 0)
        return push_int(L, -EBADF);
    g->fd = -1;
    return push_int(L, net_sock_close(fd));
}

/* The fd the guard owned (-1: none), now the caller's: the collector will
 * not close it. */
static int l_guard_release(lua_State *L)
{
    guard_t *g = check_guard(L, 1);
    int fd = g->fd;
    g->fd = -1;
    return push_int(L, fd);
}

static int guard_gc(lua_State *L)
{
    guard_t *g = check_guard(L, 1);
    if (g->fd >= 0) {
        if (g->owned) { /* the owner is closed first: its [1] exists, so this allocates nothing */
            push_owner(L, 1);
            lua_pushinteger(L, -1);
            lua_rawseti(L, -2, 1);
            lua_pop(L, 1);
        }
        net_sock_close(g->fd);
        g->fd = -1;
    }
    return 0;
}

/* ---- the library ---------------------------------------------------------- */

static int l_version(lua_State *L) { return push_int(L, net_version()); }

static int l_strerror(lua_State *L)
{
    lua_pushstring(L, net_strerror(arg_int(L, 1)));
    return 1;
}

/* net.h's enums, which net_constants() leaves out (they are not the
 * platform's). */
static const net_constant_t net_flags[] = {
    {"NONBLOCK", NET_NONBLOCK},
    {"CLOEXEC", NET_CLOEXEC},
    {"AI_PASSIVE", NET_AI_PASSIVE},
    {"AI_CANONNAME", NET_AI_CANONNAME},
    {"AI_NUMERICHOST", NET_AI_NUMERICHOST},
    {"AI_NUMERICSERV", NET_AI_NUMERICSERV},
    {NULL, 0},
};

static void set_constants(lua_State *L, const net_constant_t *c)
{
    for (; c->name != NULL; c++) {
        lua_pushinteger(L, (lua_Integer)c->value);
        lua_setfield(L, -2, c->name);
    }
}

static void push_constants(lua_State *L)
{
    lua_newtable(L);
    set_constants(L, net_constants());
    set_constants(L, net_flags);
}

/* ---- a socket's life -------------------------------------------------------- */

/*
 * The primitives that make a descriptor take guards made beforehand
 * (optional arguments) and arm them before they return: a descriptor has an
 * owner the collector closes from its birth, so a memory error raised by
 * any allocation after it (PUC Lua raises them anywhere) cannot lose it.
 * Arming and pushing an integer allocate nothing.
 */
guard_t *net__capi_opt_guard(lua_State *L, int idx)
{
    return lua_isnoneornil(L, idx) ? NULL : check_guard(L, idx);
}

/* fd, or the code when it is one; g (if any) owns the fd from now on. */
static int push_made(lua_State *L, int fd, guard_t *g)
{
    if (fd >= 0 && g != NULL)
        g->fd = fd;
    return push_int(L, fd);
}

static int l_sock_open(lua_State *L)
{
    int family = arg_int(L, 1), type = arg_int(L, 2), protocol = arg_int(L, 3);
    int flags = arg_int(L, 4);
    guard_t *g = net__capi_opt_guard(L, 5);
    return push_made(L, net_sock_open(family, type, protocol, flags), g);
}

static int l_sock_pair(lua_State *L)
{
    int fds[2];
    int family = arg_int(L, 1), type = arg_int(L, 2), protocol = arg_int(L, 3);
    int flags = arg_int(L, 4);
    guard_t *g1 = net__capi_opt_guard(L, 5), *g2 = net__capi_opt_guard(L, 6);
    int rc = net_sock_pair(family, type, protocol, flags, fds);
    if (rc < 0)
        return push_int(L, rc);
    push_made(L, fds[0], g1);
    push_made(L, fds[1], g2);
    return 2;
}

static int l_sock_bind(lua_State *L)
{
    return push_int(L, net_sock_bind(arg_int(L, 1), check_addr(L, 2)));
}

static int l_sock_connect(lua_State *L)
{
    return push_int(L, net_sock_connect(arg_int(L, 1), check_addr(L, 2)));
}

static int l_sock_accept(lua_State *L)
{
    int fd = arg_int(L, 1), flags = arg_int(L, 2);
    guard_t *g = net__capi_opt_guard(L, 3);
    return push_made(L, net_sock_accept(fd, flags, NULL), g);
}

/*
 * The net.h functions whose Lua shape is "integers in, one integer out" are
 * listed once, by C signature, and each list expands to one shim per name:
 * l_sock_<name> calling net_sock_<name>.
 */

#define DEFINE_FD_CALL(name)                                                 \
    static int l_sock_##name(lua_State *L)                                   \
    {                                                                        \
        return push_int(L, net_sock_##name(arg_int(L, 1)));                  \
    }
#define DEFINE_FD_ARG_CALL(name)                                             \
    static int l_sock_##name(lua_State *L)                                   \
    {                                                                        \
        return push_int(L, net_sock_##name(arg_int(L, 1), arg_int(L, 2)));   \
    }
#define DEFINE_SECONDS_OPTION(name)                                          \
    static int l_sock_##name(lua_State *L)                                   \
    {                                                                        \
        return push_seconds(L, net_sock_##name(arg_int(L, 1),                \
                                               luaL_checknumber(L, 2)));     \
    }
#define REGISTER_SOCK(name) {"sock_" #name, l_sock_##name},

/* Seconds, or a code: a code is an integer on every Lua (on 5.3+ a float
 * -9.0 would print and compare as a float, unlike every other code). */
static int push_seconds(lua_State *L, double sec)
{
    if (sec < 0)
        return push_int(L, (lua_Integer)sec);
    push_seconds_value(L, sec);
    return 1;
}

NET_FD_CALLS(DEFINE_FD_CALL)
NET_FD_ARG_CALLS(DEFINE_FD_ARG_CALL)

/* An option's shim, by the kind of its net.h row. */
#define DEFINE_OPTION_bool DEFINE_FD_ARG_CALL
#define DEFINE_OPTION_readonly_bool DEFINE_FD_ARG_CALL
#define DEFINE_OPTION_int DEFINE_FD_ARG_CALL
#define DEFINE_OPTION_seconds DEFINE_SECONDS_OPTION
#define DEFINE_OPTION(name, kind, scope, alias) DEFINE_OPTION_##kind(name)
#define REGISTER_OPTION(name, kind, scope, alias) REGISTER_SOCK(name)
NET_SOCK_OPTIONS(DEFINE_OPTION)

/* net_options() as a list of {name =, kind =, scope =, alias =} (alias nil
 * when the row has none): the rows the classes build their methods from. */
static void push_options(lua_State *L)
{
    const net_option_t *o;
    int i = 0;
    lua_newtable(L);
    for (o = net_options(); o->name != NULL; o++) {
        lua_createtable(L, 0, 4);
        lua_pushstring(L, o->name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, o->kind);
        lua_setfield(L, -2, "kind");
        lua_pushstring(L, o->scope);
        lua_setfield(L, -2, "scope");
        if (o->alias[0] != '\0') {
            lua_pushstring(L, o->alias);
            lua_setfield(L, -2, "alias");
        }
        lua_rawseti(L, -2, ++i);
    }
}

static int l_sock_linger(lua_State *L)
{
    int fd = arg_int(L, 1);
    int on = arg_int(L, 2);
    net_linger_t set, out;
    int rc;
    if (on >= 0) {
        set.on = on;
        set.seconds = arg_int(L, 3);
    }
    rc = net_sock_linger(fd, on >= 0 ? &set : NULL, &out);
    if (rc < 0)
        return push_int(L, rc);
    lua_pushinteger(L, out.on);
    lua_pushinteger(L, out.seconds);
    return 2;
}

static int l_sock_getsockname(lua_State *L)
{
    net_addr_t addr;
    int rc = net_sock_getsockname(arg_int(L, 1), &addr);
    return push_addr_or_code(L, rc, &addr);
}

static int l_sock_getpeername(lua_State *L)
{
    net_addr_t addr;
    int rc = net_sock_getpeername(arg_int(L, 1), &addr);
    return push_addr_or_code(L, rc, &addr);
}

/* ---- I/O ---------------------------------------------------------------------- */

/* The bytes str:sub(i, j) of the string at index 2 (i, j at 4, 5; default
 * the whole string). The caller clamps already; clamping again here, the
 * string.sub way, keeps any i, j from reading outside the string. */
static const char *arg_send_range(lua_State *L, size_t *len)
{
    size_t size;
    const char *s = luaL_checklstring(L, 2, &size);
    lua_Integer n = (lua_Integer)size;
    lua_Integer i = luaL_optinteger(L, 4, 1);
    lua_Integer j = luaL_optinteger(L, 5, -1);
    if (i < 0)
        i += n + 1;
    if (i < 1)
        i = 1;
    if (j < 0)
        j += n + 1;
    if (j > n)
        j = n;
    *len = i > j ? 0 : (size_t)(j - i + 1);
    return s + (i > j ? 0 : i - 1);
}

static int l_sock_send(lua_State *L)
{
    int fd = arg_int(L, 1);
    size_t len;
    const char *s = arg_send_range(L, &len);
    return push_int(L, (lua_Integer)net_sock_send(fd, s, len, arg_int(L, 3)));
}

static int l_sock_sendto(lua_State *L)
{
    int fd = arg_int(L, 1);
    size_t len;
    const char *s = luaL_checklstring(L, 2, &len);
    int flags = arg_int(L, 3);
    const net_addr_t *to = lua_isnoneornil(L, 4) ? NULL : check_addr(L, 4);
    return push_int(L, (lua_Integer)net_sock_sendto(fd, s, len, flags, to));
}

/*
 * Receive buffers. The received bytes must end up in a new Lua string, and
 * no Lua API builds a string in place, so the one copy (buffer -> string) is
 * the minimum; the aim is that nothing else is allocated per call:
 *  - up to RECV_STACK_SIZE bytes (the Lua API's default recv size) the
 *    buffer is a C array on the stack: no allocation at all;
 *  - larger reads use a scratch userdata held in an upvalue (scratch),
 *    replaced by a bigger one only when a larger size is first asked for, so
 *    a loop of 64 KiB reads allocates its result strings and nothing else.
 *    A call holds its buffer on the stack and marks it busy until it has
 *    copied the bytes out (net__capi_recv_release): the copy allocates, an
 *    allocation may run a finalizer, and a finalizer may receive too, on
 *    the same function. It then gets a buffer of its own (a busy one is
 *    never shared) and cannot free the caller's (held on the stack). A call
 *    that raises before its release leaves the mark: the next large
 *    receive replaces that buffer;
 *  - above RECV_KEEP_MAX a one-off buffer is used, so one huge read does
 *    not pin its buffer forever: malloc'd memory, freed by the call's
 *    release. Not a userdata left to the collector: Lua 5.1's collector
 *    does a fixed amount of work per step whatever an allocation's size, so
 *    a few huge reads in a row could hold many gigabytes until its cycle
 *    ends. A small userdata on the stack owns the memory until then: a
 *    call that raises before its release leaves it to the collector.
 * luaL_Buffer would not do better: on 5.2+ luaL_buffinitsize allocates a
 * box for any size over LUAL_BUFFERSIZE (1 KiB on 64-bit 5.4) on every
 * call, and 5.1 has no way to ask for more than LUAL_BUFFERSIZE at once.
 */
enum { RECV_KEEP_MAX = 4 * 1024 * 1024 };

/* The head of a scratch buffer; the bytes follow it, aligned as a
 * userdata's own (sock_recvmany puts its records there). */
typedef union {
    int busy;
    int64_t align_int;
    double align_double;
    void *align_pointer;
} scratch_head_t;

/* A one-off buffer's owner (a userdata), and the head of its memory, which
 * points back at the owner; the bytes follow, aligned as malloc's. */
typedef struct {
    void *mem;
} oneoff_owner_t;
typedef union {
    oneoff_owner_t *owner;
    int64_t align_int;
    double align_double;
    void *align_pointer;
} oneoff_head_t;

#define ONEOFF_MT "net.recv_oneoff"

static int oneoff_gc(lua_State *L)
{
    oneoff_owner_t *owner = (oneoff_owner_t *)lua_touserdata(L, 1);
    free(owner->mem);
    owner->mem = NULL;
    return 0;
}

/* Never shared, so never busy; its owner stays on the stack until return.
 * NULL when there is no memory for it. */
static char *oneoff_buffer(lua_State *L, size_t size)
{
    oneoff_owner_t *owner = (oneoff_owner_t *)new_userdata(L, sizeof *owner);
    oneoff_head_t *head;
    owner->mem = NULL;
    luaL_setmetatable(L, ONEOFF_MT);
    head = (oneoff_head_t *)malloc(sizeof *head + size);
    if (head == NULL)
        return NULL; /* the call says -ENOMEM, as the FFI backend's */
    head->owner = owner;
    owner->mem = head;
    return (char *)(head + 1);
}

char *net__capi_recv_buffer(lua_State *L, int scratch, char *stack_buf,
                           size_t size)
{
    scratch_head_t *head;
    if (size <= RECV_STACK_SIZE)
        return stack_buf;
    if (size > RECV_KEEP_MAX)
        return oneoff_buffer(L, size);
    if (lua_rawlen(L, scratch) >= sizeof *head + size) {
        head = (scratch_head_t *)lua_touserdata(L, scratch);
        if (!head->busy) {
            head->busy = 1;
            lua_pushvalue(L, scratch); /* held until return, whatever replaces it */
            return (char *)(head + 1);
        }
    }
    head = (scratch_head_t *)new_userdata(L, sizeof *head + size); /* on the stack till return */
    head->busy = 1;
    lua_pushvalue(L, -1);
    lua_replace(L, scratch);
    return (char *)(head + 1);
}

/* size: the size the buffer was asked for, which tells its kind. */
void net__capi_recv_release(char *buf, size_t size)
{
    if (buf == NULL)
        return;
    if (size > RECV_KEEP_MAX) {
        oneoff_head_t *head = (oneoff_head_t *)(void *)buf - 1;
        head->owner->mem = NULL;
        free(head);
    } else if (size > RECV_STACK_SIZE) {
        ((scratch_head_t *)(void *)buf - 1)->busy = 0;
    }
}

static size_t arg_recv_size(lua_State *L)
{
    int size = arg_int(L, 2);
    luaL_argcheck(L, size >= 0, 2, "size must not be negative");
    return size > RECV_MAX ? (size_t)RECV_MAX : (size_t)size;
}

static int l_sock_recv(lua_State *L)
{
    char stack_buf[RECV_STACK_SIZE];
    int fd = arg_int(L, 1);
    size_t size = arg_recv_size(L);
    int flags = arg_int(L, 3);
    char *buf = net__capi_recv_buffer(L, lua_upvalueindex(1), stack_buf, size);
    int64_t n = buf == NULL ? -ENOMEM : recv_count(net_sock_recv(fd, buf, size, flags), size);
    if (n >= 0)
        lua_pushlstring(L, buf, (size_t)n);
    net__capi_recv_release(buf, size);
    return n < 0 ? push_int(L, (lua_Integer)n) : 1;
}

/* ---- addresses ------------------------------------------------------------------ */

static int l_addr_family(lua_State *L)
{
    return push_int(L, check_addr(L, 1)->family);
}

static int l_addr_port(lua_State *L)
{
    return push_int(L, net_addr_port(check_addr(L, 1)));
}

/* A text result of net_addr_host / net_addr_path: its length, or a code. */
static int push_text_or_code(lua_State *L, int rc, const char *text)
{
    if (rc < 0)
        return push_int(L, rc);
    lua_pushlstring(L, text, (size_t)rc);
    return 1;
}

static int l_addr_host(lua_State *L)
{
    char host[NET_HOST_MAX];
    int rc = net_addr_host(check_addr(L, 1), host, sizeof host);
    return push_text_or_code(L, rc, host);
}

static int l_addr_path(lua_State *L)
{
    char path[NET_ADDR_STORAGE + 1]; /* a path never outgrows the storage */
    int rc = net_addr_path(check_addr(L, 1), path, sizeof path);
    return push_text_or_code(L, rc, path);
}

/* The list of records {family=, socktype=, protocol=, addr=, canonname=}. */
static void push_addrinfos(lua_State *L, const net_addrinfo_t *ai, int n)
{
    int i;
    lua_createtable(L, n, 0);
    for (i = 0; i < n; i++) {
        lua_createtable(L, 0, 5);
        lua_pushinteger(L, ai[i].family);
        lua_setfield(L, -2, "family");
        lua_pushinteger(L, ai[i].socktype);
        lua_setfield(L, -2, "socktype");
        lua_pushinteger(L, ai[i].protocol);
        lua_setfield(L, -2, "protocol");
        push_addr(L, &ai[i].addr);
        lua_setfield(L, -2, "addr");
        if (ai[i].canonname[0] != '\0') {
            /* NUL-terminated by net.h's contract; bounded all the same */
            lua_pushlstring(L, ai[i].canonname,
                            strnlen(ai[i].canonname, NET_CANONNAME_MAX));
            lua_setfield(L, -2, "canonname");
        }
        lua_rawseti(L, -2, i + 1);
    }
}

/* Records on the C stack cover every ordinary lookup; when the resolver
 * finds more, one userdata of the reported size takes a second call. */
enum { ADDRINFO_STACK_MAX = 8 };

static int l_getaddrinfo(lua_State *L)
{
    net_addrinfo_t stack_ai[ADDRINFO_STACK_MAX];
    net_addrinfo_t *ai = stack_ai;
    size_t host_len = 0, service_len = 0;
    const char *host = luaL_optlstring(L, 1, NULL, &host_len);
    const char *service = luaL_optlstring(L, 2, NULL, &service_len);
    int family = arg_int(L, 3), socktype = arg_int(L, 4);
    int protocol = arg_int(L, 5), flags = arg_int(L, 6);
    /* net_getaddrinfo reads C strings: an embedded NUL would cut the name
     * short ("127.0.0.1\0.example.com" is 127.0.0.1), so it is refused. */
    if ((host && strlen(host) != host_len) ||
        (service && strlen(service) != service_len))
        return push_int(L, -EINVAL);
    int n = net_getaddrinfo(host, service, family, socktype, protocol, flags,
                            ai, ADDRINFO_STACK_MAX);
    if (n > ADDRINFO_STACK_MAX) {
        int max = n;
        ai = (net_addrinfo_t *)new_userdata(L, (size_t)max * sizeof *ai);
        n = net_getaddrinfo(host, service, family, socktype, protocol, flags,
                            ai, max);
        if (n > max) /* the answer grew between the calls: keep what fits */
            n = max;
    }
    if (n < 0)
        return push_int(L, n);
    push_addrinfos(L, ai, n);
    return 1;
}

static int l_getaddrinfo_unix(lua_State *L)
{
    net_addrinfo_t ai;
    size_t len;
    const char *path = luaL_checklstring(L, 1, &len);
    int n = net_getaddrinfo_unix(path, len, arg_int(L, 2), &ai);
    if (n < 0)
        return push_int(L, n);
    push_addrinfos(L, &ai, n > 1 ? 1 : n);
    return 1;
}

/* ---- readiness --------------------------------------------------------------------- */

static int l_poll_fd(lua_State *L)
{
    return push_int(L, net_poll_fd(arg_int(L, 1), arg_int(L, 2),
                                   luaL_checknumber(L, 3)));
}

static int l_now(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)net_now());
    return 1;
}

/* ---- the module ------------------------------------------------------------------------ */

static const luaL_Reg functions[] = {
    {"version", l_version},
    {"strerror", l_strerror},
    {"guard", l_guard},
    {"guard_close", l_guard_close},
    {"guard_release", l_guard_release},
    {"guard_own", l_guard_own},
    {"sock_open", l_sock_open},
    {"sock_pair", l_sock_pair},
    {"sock_bind", l_sock_bind},
    {"sock_connect", l_sock_connect},
    {"sock_accept", l_sock_accept},
    {"sock_send", l_sock_send},
    {"sock_sendto", l_sock_sendto},
    {"sock_linger", l_sock_linger},
    {"sock_getsockname", l_sock_getsockname},
    {"sock_getpeername", l_sock_getpeername},
    NET_FD_CALLS(REGISTER_SOCK)
    NET_FD_ARG_CALLS(REGISTER_SOCK)
    NET_SOCK_OPTIONS(REGISTER_OPTION)
    {"addr_family", l_addr_family},
    {"addr_host", l_addr_host},
    {"addr_port", l_addr_port},
    {"addr_path", l_addr_path},
    {"getaddrinfo", l_getaddrinfo},
    {"getaddrinfo_unix", l_getaddrinfo_unix},
    {"poll_fd", l_poll_fd},
    {"now", l_now},
    {NULL, NULL},
};

/* The receivers, each closing over its own scratch buffer (see net__capi_recv_buffer). */
static const luaL_Reg receivers[] = {
    {"sock_recv", l_sock_recv},
    {NULL, NULL},
};

static void register_metatables(lua_State *L)
{
    luaL_newmetatable(L, ADDR_MT);
    lua_pop(L, 1);
    luaL_newmetatable(L, GUARD_MT);
    lua_pushcfunction(L, guard_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newmetatable(L, ONEOFF_MT);
    lua_pushcfunction(L, oneoff_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
}

#if defined(__GNUC__)
__attribute__((visibility("default")))
#endif
int luaopen_net_capi(lua_State *L)
{
    net__capi_stay_loaded();
    register_metatables(L);
    luaL_newlib(L, functions);
    new_userdata(L, 0); /* the empty first scratch buffer */
    luaL_setfuncs(L, receivers, 1);
    push_constants(L);
    lua_setfield(L, -2, "constants");
    push_options(L);
    lua_setfield(L, -2, "options");
    lua_pushinteger(L, RECV_MAX);
    lua_setfield(L, -2, "max_size");
    lua_pushinteger(L, RECV_KEEP_MAX); /* net.dgram's recvmany windows */
    lua_setfield(L, -2, "keep_size");
    net__capi_open_buffer(L);
    net__capi_open_methods(L);
    net__capi_open_msg(L);
    net__capi_open_poll(L);
    return 1;
}
