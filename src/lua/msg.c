/*
 * msg.c — the primitives of net.dgram and message I/O in net.capi
 * (doc/internals.md, "datagrams and messages"): thin shims over src/msg.c
 * and src/mcast.c of libnet, the same table shape as the end of
 * ffi/net/core/ffi.lua.
 */
#include <stdio.h>
#include <string.h>

#include <lualib.h> /* LUA_FILEHANDLE (5.1 has it there) */

#include "capi.h"
#include "net.h"

static net_addr_t *check_addr(lua_State *L, int idx)
{
    return (net_addr_t *)luaL_checkudata(L, idx, NET_CAPI_ADDR_MT);
}

static void push_addr(lua_State *L, const net_addr_t *addr)
{
    net_addr_t *ud = (net_addr_t *)new_userdata(L, sizeof *ud);
    memcpy(ud, addr, sizeof *ud);
    luaL_setmetatable(L, NET_CAPI_ADDR_MT);
}

int net__capi_same_addr(const net_addr_t *a, const net_addr_t *b)
{
    return a->family == b->family && a->len == b->len && a->len <= sizeof a->storage &&
           memcmp(a->storage.bytes, b->storage.bytes, a->len) == 0;
}

net_addr_t *net__capi_test_addr(lua_State *L, int idx, int mt)
{
    void *p = lua_touserdata(L, idx);
    int same;
    if (p == NULL || !lua_getmetatable(L, idx))
        return NULL;
    same = lua_rawequal(L, -1, mt);
    lua_pop(L, 1);
    return same ? (net_addr_t *)p : NULL;
}

void net__capi_push_sender(lua_State *L, int like_idx, const net_addr_t *like,
                           const net_addr_t *from)
{
    if (like != NULL && net__capi_same_addr(like, from))
        lua_pushvalue(L, like_idx);
    else
        push_addr(L, from);
}

/* A receive size at idx: 0..RECV_MAX (capi.h; the class checks it). */
static size_t arg_size(lua_State *L, int idx)
{
    int size = arg_int(L, idx);
    luaL_argcheck(L, size >= 0, idx, "size must not be negative");
    return size > RECV_MAX ? (size_t)RECV_MAX : (size_t)size;
}

/* A 64-bit count or offset (numbers are doubles on 5.1/5.2): -1 for any
 * negative, clamped to 2^53 above. */
static int64_t arg_int64(lua_State *L, int idx)
{
    lua_Number v = luaL_checknumber(L, idx);
    if (!(v >= 0))
        return -1;
    if (v > 9007199254740992.0)
        return INT64_C(9007199254740992);
    return (int64_t)v;
}

/* The stack buffer of a receive: aligned for the records of a batch. */
typedef union {
    char bytes[RECV_STACK_SIZE];
    net_msg_t align;
} stack_buf_t;

/* (fd, size, flags[, like]): str, addr, full | code. addr is like itself
 * (an address) when the sender is the address it holds, else a new one. */
static int l_sock_recvdgram(lua_State *L)
{
    stack_buf_t stack;
    int fd = arg_int(L, 1);
    size_t size = arg_size(L, 2);
    int flags = arg_int(L, 3);
    const net_addr_t *like = lua_isnoneornil(L, 4) ? NULL : check_addr(L, 4);
    char *buf = net__capi_recv_buffer(L, lua_upvalueindex(1), stack.bytes, size);
    net_addr_t from;
    int64_t full = 0;
    int64_t n = buf == NULL ? -ENOMEM
                            : recv_count(net_sock_recvdgram(fd, buf, size, flags, &from, &full), size);
    if (n >= 0)
        lua_pushlstring(L, buf, (size_t)n);
    net__capi_recv_release(buf, size);
    if (n < 0)
        return push_int(L, (lua_Integer)n);
    net__capi_push_sender(L, 4, like, &from);
    lua_pushinteger(L, (lua_Integer)full);
    return 3;
}

/* (fd, size, flags[, guard]): passfd (-1: none), str | code. The guard
 * owns passfd from its arrival: the string's allocation may raise. */
static int l_sock_recvfd(lua_State *L)
{
    stack_buf_t stack;
    int fd = arg_int(L, 1);
    size_t size = arg_size(L, 2);
    int flags = arg_int(L, 3);
    net_capi_guard_t *g = net__capi_opt_guard(L, 4);
    char *buf = net__capi_recv_buffer(L, lua_upvalueindex(1), stack.bytes, size);
    int passfd = -1;
    int64_t n = buf == NULL ? -ENOMEM
                            : recv_count(net_sock_recvfd(fd, buf, size, flags, &passfd), size);
    if (passfd >= 0 && g != NULL)
        g->fd = passfd;
    if (n < 0) {
        net__capi_recv_release(buf, size);
        return push_int(L, (lua_Integer)n);
    }
    lua_pushinteger(L, passfd);
    lua_pushlstring(L, buf, (size_t)n);
    net__capi_recv_release(buf, size);
    return 2;
}

/* addrs[i] (the table at idx) holding a copy of *addr: the address already
 * there is overwritten, a new one made only when there is none. mt: the
 * index of the addresses' metatable (looked up once per batch). */
static void set_addr(lua_State *L, int idx, lua_Integer i, const net_addr_t *addr,
                     int mt)
{
    net_addr_t *ud;
    lua_rawgeti(L, idx, i);
    ud = net__capi_test_addr(L, -1, mt);
    lua_pop(L, 1);
    if (ud != NULL) {
        memcpy(ud, addr, sizeof *ud);
        return;
    }
    ud = (net_addr_t *)new_userdata(L, sizeof *ud);
    memcpy(ud, addr, sizeof *ud);
    lua_pushvalue(L, mt);
    lua_setmetatable(L, -2);
    lua_rawseti(L, idx, i);
}

/* A new address holding a copy of addr (sock_recvmany overwrites the
 * addresses it is given). */
static int l_addr_copy(lua_State *L)
{
    push_addr(L, check_addr(L, 1));
    return 1;
}

/* Argument 8 of sock_recvmany, first (default 1): the index datagram 1
 * goes to, a whole number from 1 with the last index, first + max - 1, an
 * int (lua_rawseti's index on 5.1). Checked in this order and with these
 * messages as net.core.ffi's first_arg. */
static int arg_first(lua_State *L, int max)
{
    lua_Number v;
    if (lua_isnoneornil(L, 8))
        return 1;
    if (lua_type(L, 8) != LUA_TNUMBER)
        return luaL_argerror(L, 8, lua_pushfstring(L, "number expected, got %s",
                                                   luaL_typename(L, 8)));
    v = lua_tonumber(L, 8);
    luaL_argcheck(L, v >= 1 && v <= (lua_Number)INT_MAX - max + 1, 8, "index out of range");
    luaL_argcheck(L, v == (lua_Number)(int)v, 8, "number has no integer representation");
    return (int)v;
}

/* (fd, max, size, flags, datas, addrs, fulls[, first]): how many datagrams
 * came (n), each i of them into datas[j] (the bytes), addrs[j] (the
 * sender, see set_addr) and fulls[j] (the full length), j = first + i - 1
 * | code. The lists are the caller's, reused between calls: no table is
 * made here. The area of max * size bytes and the records each have a
 * receive buffer of their own (upvalues 1 and 2), so the area alone is
 * measured against RECV_KEEP_MAX, as in net.core.ffi (net.dgram's windows
 * of core.keep_size bytes are then kept from call to call). */
static int l_sock_recvmany(lua_State *L)
{
    stack_buf_t stack, stack_msgs;
    int fd = arg_int(L, 1);
    int max = arg_int(L, 2);
    size_t size = arg_size(L, 3);
    int flags = arg_int(L, 4);
    int first, i, n, mt;
    size_t head, total;
    net_msg_t *msgs;
    char *area;
    luaL_argcheck(L, max >= 1 && max <= 1024, 2, "count out of range");
    luaL_argcheck(L, size <= 16 * 1024 * 1024, 3, "size out of range");
    luaL_checktype(L, 5, LUA_TTABLE);
    luaL_checktype(L, 6, LUA_TTABLE);
    luaL_checktype(L, 7, LUA_TTABLE);
    first = arg_first(L, max);
    head = (size_t)max * sizeof(net_msg_t);
    total = (size_t)max * size;
    msgs = (net_msg_t *)(void *)net__capi_recv_buffer(L, lua_upvalueindex(2),
                                                      stack_msgs.bytes, head);
    area = net__capi_recv_buffer(L, lua_upvalueindex(1), stack.bytes, total);
    if (msgs == NULL || area == NULL) {
        net__capi_recv_release((char *)msgs, head);
        net__capi_recv_release(area, total);
        return push_int(L, -ENOMEM);
    }
    for (i = 0; i < max; i++) {
        msgs[i].buf = area + (size_t)i * size;
        msgs[i].size = size;
    }
    n = net_sock_recvmany(fd, msgs, max, flags);
    if (n > max) /* never, by net.h's contract: trust nothing past max */
        n = max;
    if (n > 0) {
        luaL_getmetatable(L, NET_CAPI_ADDR_MT);
        mt = lua_gettop(L);
        for (i = 0; i < n; i++) {
            size_t len = msgs[i].len > size ? size : (size_t)msgs[i].len;
            lua_pushlstring(L, (const char *)msgs[i].buf, len);
            lua_rawseti(L, 5, first + i);
            set_addr(L, 6, first + i, &msgs[i].addr, mt);
            lua_pushinteger(L, (lua_Integer)msgs[i].full);
            lua_rawseti(L, 7, first + i);
        }
    }
    net__capi_recv_release((char *)msgs, head);
    net__capi_recv_release(area, total);
    return push_int(L, n);
}

/* (fd, datas, addrs, n, flags): datas[i] to addrs[i] (false or nil: the
 * connected peer). How many were sent | code. The records of up to one
 * sendmmsg call (64) are on the stack: a batch makes no garbage. */
enum { MSG_STACK = 64 };
static int l_sock_sendmany(lua_State *L)
{
    net_msg_t stack[MSG_STACK];
    int fd = arg_int(L, 1);
    int n = arg_int(L, 4);
    int flags = arg_int(L, 5);
    net_msg_t *msgs = stack;
    int i, addr_mt;
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TTABLE);
    luaL_argcheck(L, n >= 0 && n <= 1024, 4, "count out of range");
    luaL_getmetatable(L, NET_CAPI_ADDR_MT);
    addr_mt = lua_gettop(L);
    if (n > MSG_STACK)
        msgs = (net_msg_t *)new_userdata(L, (size_t)n * sizeof *msgs);
    for (i = 0; i < n; i++) {
        size_t len;
        const char *s;
        lua_rawgeti(L, 2, i + 1);
        /* the type first: lua_tolstring would turn a number into a string
         * that only this stack slot holds */
        if (lua_type(L, -1) != LUA_TSTRING)
            return luaL_argerror(L, 2, "list of strings expected");
        s = lua_tolstring(L, -1, &len);
        lua_pop(L, 1); /* the table keeps the string alive */
        msgs[i].buf = (void *)s;
        msgs[i].len = len;
        lua_rawgeti(L, 3, i + 1);
        if (lua_toboolean(L, -1)) {
            const net_addr_t *addr = net__capi_test_addr(L, -1, addr_mt);
            if (addr == NULL)
                return luaL_argerror(L, 3, "list of net.addr or false expected");
            memcpy(&msgs[i].addr, addr, sizeof msgs[i].addr);
        } else {
            memset(&msgs[i].addr, 0, sizeof msgs[i].addr);
        }
        lua_pop(L, 1);
    }
    return push_int(L, net_sock_sendmany(fd, msgs, n, flags));
}

/* The strings list[i..j] of the list at 2 (i, j at 4, 5; default the whole
 * list), the first skip bytes of list[i] left out (skip at 6, default 0), in
 * one gather write: bytes sent | code. A retry of a partial send names where
 * it goes on, so no piece is copied. Out-of-range i, j, skip are clamped,
 * as string.sub does, so none reads outside the list's strings. */
enum { IOV_STACK = 64 };
static int l_sock_sendv(lua_State *L)
{
    net_iovec_t stack[IOV_STACK];
    net_iovec_t *iov = stack;
    int fd = arg_int(L, 1);
    int flags = arg_int(L, 3);
    lua_Integer first, last, skip;
    int n, i;
    luaL_checktype(L, 2, LUA_TTABLE);
    first = luaL_optinteger(L, 4, 1);
    last = luaL_optinteger(L, 5, (lua_Integer)lua_rawlen(L, 2));
    skip = luaL_optinteger(L, 6, 0);
    if (first < 1)
        first = 1;
    if (last > (lua_Integer)lua_rawlen(L, 2))
        last = (lua_Integer)lua_rawlen(L, 2);
    n = first > last ? 0 : (int)(last - first + 1);
    if (n > IOV_STACK)
        iov = (net_iovec_t *)new_userdata(L, (size_t)n * sizeof *iov);
    for (i = 0; i < n; i++) {
        size_t len;
        const char *s;
        lua_rawgeti(L, 2, (lua_Integer)first + i);
        if (lua_type(L, -1) != LUA_TSTRING)
            return luaL_argerror(L, 2, "list of strings expected");
        s = lua_tolstring(L, -1, &len);
        lua_pop(L, 1); /* the list keeps it alive */
        if (i == 0 && skip > 0) {
            size_t cut = skip < (lua_Integer)len ? (size_t)skip : len;
            s += cut;
            len -= cut;
        }
        iov[i].base = s;
        iov[i].len = len;
    }
    return push_int64(L, net_sock_sendv(fd, iov, n, flags));
}

static int l_sock_sendfd(lua_State *L)
{
    int fd = arg_int(L, 1);
    int passfd = arg_int(L, 2);
    size_t len;
    const char *s = luaL_checklstring(L, 3, &len);
    return push_int(L, (lua_Integer)net_sock_sendfd(fd, passfd, s, len, arg_int(L, 4)));
}

static int l_sock_peercred(lua_State *L)
{
    net_cred_t cred;
    int rc = net_sock_peercred(arg_int(L, 1), &cred);
    if (rc < 0)
        return push_int(L, rc);
    lua_pushinteger(L, (lua_Integer)cred.pid);
    lua_pushinteger(L, (lua_Integer)cred.uid);
    lua_pushinteger(L, (lua_Integer)cred.gid);
    return 3;
}

static int l_sock_sendfile(lua_State *L)
{
    return push_int64(L, net_sock_sendfile(
        arg_int(L, 1), arg_int(L, 2), arg_int64(L, 3), arg_int64(L, 4)));
}

static int l_sock_sendfilepath(lua_State *L)
{
    return push_int64(L, net_sock_sendfilepath(
        arg_int(L, 1), luaL_checkstring(L, 2), arg_int64(L, 3), arg_int64(L, 4)));
}

static int l_sock_disconnect(lua_State *L)
{
    return push_int(L, net_sock_disconnect(arg_int(L, 1)));
}

static int l_sock_mcastloop(lua_State *L)
{
    return push_int(L, net_sock_mcastloop(arg_int(L, 1), arg_int(L, 2)));
}

static int l_sock_mcastttl(lua_State *L)
{
    return push_int(L, net_sock_mcastttl(arg_int(L, 1), arg_int(L, 2)));
}

/* The interface name in effect after setting the one at 2 (nil: read). */
static int l_sock_mcastif(lua_State *L)
{
    char name[64];
    int n = net_sock_mcastif(arg_int(L, 1), luaL_optstring(L, 2, NULL),
                             name, sizeof name);
    if (n < 0)
        return push_int(L, n);
    lua_pushlstring(L, name, (size_t)n);
    return 1;
}

static int l_sock_mcastgroup(lua_State *L)
{
    return push_int(L, net_sock_mcastgroup(arg_int(L, 1), arg_int(L, 2),
                                           luaL_checkstring(L, 3),
                                           luaL_optstring(L, 4, NULL),
                                           luaL_optstring(L, 5, NULL)));
}

/* The descriptor of a Lua file (io.open's, io.stdout), or -EBADF once it
 * is closed. A FILE * comes first in every runtime's file userdata: a
 * FILE ** on 5.1 and LuaJIT (NULL once closed), a luaL_Stream on 5.2+
 * (closef NULL once closed). */
static int l_file_fd(lua_State *L)
{
#if LUA_VERSION_NUM >= 502
    const luaL_Stream *p = (const luaL_Stream *)luaL_checkudata(L, 1, LUA_FILEHANDLE);
    FILE *f = p->closef == NULL ? NULL : p->f;
#else
    FILE *f = *(FILE **)luaL_checkudata(L, 1, LUA_FILEHANDLE);
#endif
    return push_int(L, f == NULL ? -EBADF : fileno(f));
}

static const luaL_Reg functions[] = {
    {"addr_copy", l_addr_copy},
    {"file_fd", l_file_fd},
    {"sock_sendmany", l_sock_sendmany},
    {"sock_sendv", l_sock_sendv},
    {"sock_sendfd", l_sock_sendfd},
    {"sock_peercred", l_sock_peercred},
    {"sock_sendfile", l_sock_sendfile},
    {"sock_sendfilepath", l_sock_sendfilepath},
    {"sock_disconnect", l_sock_disconnect},
    {"sock_mcastloop", l_sock_mcastloop},
    {"sock_mcastttl", l_sock_mcastttl},
    {"sock_mcastif", l_sock_mcastif},
    {"sock_mcastgroup", l_sock_mcastgroup},
    {NULL, NULL},
};

/* Each receiver closes over its own scratch buffer (an empty one at first;
 * see net__capi_recv_buffer in capi.c); sock_recvmany over two. */
static const luaL_Reg receivers[] = {
    {"sock_recvdgram", l_sock_recvdgram},
    {"sock_recvfd", l_sock_recvfd},
    {NULL, NULL},
};

static const net_constant_t mcast_ops[] = {
    {"MCAST_JOIN", NET_MCAST_JOIN},
    {"MCAST_LEAVE", NET_MCAST_LEAVE},
    {"MCAST_JOINSRC", NET_MCAST_JOINSRC},
    {"MCAST_LEAVESRC", NET_MCAST_LEAVESRC},
    {"MCAST_BLOCKSRC", NET_MCAST_BLOCKSRC},
    {"MCAST_UNBLOCKSRC", NET_MCAST_UNBLOCKSRC},
    {NULL, 0},
};

void net__capi_open_msg(lua_State *L)
{
    const net_constant_t *c;
    luaL_setfuncs(L, functions, 0);
    new_userdata(L, 0);
    luaL_setfuncs(L, receivers, 1);
    new_userdata(L, 0); /* the area's scratch buffer */
    new_userdata(L, 0); /* the records' */
    lua_pushcclosure(L, l_sock_recvmany, 2);
    lua_setfield(L, -2, "sock_recvmany");
    lua_getfield(L, -1, "constants");
    for (c = mcast_ops; c->name != NULL; c++) {
        lua_pushinteger(L, (lua_Integer)c->value);
        lua_setfield(L, -2, c->name);
    }
    lua_pop(L, 1);
}
