/*
 * buffer.c — the memory of net.buffer (ffi/net/buffer.lua) in net.capi: a
 * full userdata of the buffer's capacity, and the primitives that read,
 * move, receive into and send from it (doc/internals.md, "buffers").
 *
 * The Lua class keeps the content length and never passes a bad range; the
 * checks here are for misuse of the primitive table itself: every offset
 * and length is checked against the userdata's size, so no call can read or
 * write outside the memory (a bad range raises, like a wrong type).
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "capi.h"
#include "net.h"

#define MEM_MT "net.buffer.mem"

/* The memory at idx and its size in bytes. */
static unsigned char *check_mem(lua_State *L, int idx, size_t *size)
{
    unsigned char *mem = (unsigned char *)luaL_checkudata(L, idx, MEM_MT);
    *size = lua_rawlen(L, idx);
    return mem;
}

/* An offset at idx into memory of size bytes: 0..size (size itself is the
 * end, valid for an empty range). */
static size_t arg_offset(lua_State *L, int idx, size_t size)
{
    int off = arg_int(L, idx);
    luaL_argcheck(L, off >= 0 && (size_t)off <= size, idx, "offset out of range");
    return (size_t)off;
}

/* A length at idx of a range starting at off: 0..size - off. */
static size_t arg_length(lua_State *L, int idx, size_t off, size_t size)
{
    int len = arg_int(L, idx);
    luaL_argcheck(L, len >= 0 && (size_t)len <= size - off, idx, "length out of range");
    return (size_t)len;
}

/* buffer_new(size): zeroed memory of size bytes. */
static int l_buffer_new(lua_State *L)
{
    int size = arg_int(L, 1);
    void *mem;
    luaL_argcheck(L, size >= 0, 1, "size must not be negative");
    mem = new_userdata(L, (size_t)size);
    memset(mem, 0, (size_t)size);
    luaL_setmetatable(L, MEM_MT);
    return 1;
}

/* buffer_string(mem, offset, len): the len bytes at offset, as a string. */
static int l_buffer_string(lua_State *L)
{
    size_t size;
    unsigned char *mem = check_mem(L, 1, &size);
    size_t off = arg_offset(L, 2, size);
    size_t len = arg_length(L, 3, off, size);
    lua_pushlstring(L, (const char *)mem + off, len);
    return 1;
}

/* buffer_byte(mem, offset): the byte at offset, 0..255. */
static int l_buffer_byte(lua_State *L)
{
    size_t size;
    unsigned char *mem = check_mem(L, 1, &size);
    int off = arg_int(L, 2);
    luaL_argcheck(L, off >= 0 && (size_t)off < size, 2, "offset out of range");
    return push_int(L, mem[off]);
}

/* buffer_move(mem, dst, src, len): memmove inside mem. */
static int l_buffer_move(lua_State *L)
{
    size_t size;
    unsigned char *mem = check_mem(L, 1, &size);
    size_t dst = arg_offset(L, 2, size);
    size_t src = arg_offset(L, 3, size);
    size_t len = arg_length(L, 4, dst > src ? dst : src, size);
    memmove(mem + dst, mem + src, len);
    return 0;
}

/* buffer_find(mem, offset, len, str): the 0-based position in mem of the
 * first copy of str inside the len bytes at offset, or -1. */
static int l_buffer_find(lua_State *L)
{
    size_t size, n;
    unsigned char *mem = check_mem(L, 1, &size);
    size_t off = arg_offset(L, 2, size);
    size_t len = arg_length(L, 3, off, size);
    const char *str = luaL_checklstring(L, 4, &n);
    const unsigned char *hit = n == 0 ? mem + off : memmem(mem + off, len, str, n);
    return push_int(L, hit != NULL ? (lua_Integer)(hit - mem) : -1);
}

/* The arguments (fd, mem, offset, len, flags) of sock_recvinto and
 * sock_sendfrom: len bytes of mem from offset. */
typedef struct io_args {
    int fd;
    unsigned char *at;
    size_t len;
    int flags;
} io_args_t;

static io_args_t check_io_args(lua_State *L)
{
    io_args_t a;
    size_t size, off;
    unsigned char *mem;
    a.fd = arg_int(L, 1);
    mem = check_mem(L, 2, &size);
    off = arg_offset(L, 3, size);
    a.len = arg_length(L, 4, off, size);
    a.flags = arg_int(L, 5);
    a.at = mem + off;
    return a;
}

/* sock_recvinto(fd, mem, offset, size, flags): bytes read (0 at EOF) or a
 * code; the bytes land at mem + offset. Never a count above size: the class
 * would take it as the buffer's new length. */
static int l_sock_recvinto(lua_State *L)
{
    io_args_t a = check_io_args(L);
    return push_int(L, (lua_Integer)recv_count(net_sock_recv(a.fd, a.at, a.len, a.flags), a.len));
}

/* sock_sendfrom(fd, mem, offset, len, flags): bytes sent or a code. */
static int l_sock_sendfrom(lua_State *L)
{
    io_args_t a = check_io_args(L);
    return push_int(L, (lua_Integer)net_sock_send(a.fd, a.at, a.len, a.flags));
}

static const luaL_Reg buffer_functions[] = {
    {"buffer_new", l_buffer_new},
    {"buffer_string", l_buffer_string},
    {"buffer_byte", l_buffer_byte},
    {"buffer_move", l_buffer_move},
    {"buffer_find", l_buffer_find},
    {"sock_recvinto", l_sock_recvinto},
    {"sock_sendfrom", l_sock_sendfrom},
    {NULL, NULL},
};

void net__capi_open_buffer(lua_State *L)
{
    luaL_newmetatable(L, MEM_MT);
    lua_pop(L, 1);
    luaL_setfuncs(L, buffer_functions, 0);
}
