/* addr.c — net_addr_t: building addresses from text and reading them back.
 * The struct sockaddr inside is the platform's; only this file (and the
 * kernel) looks into it. */
#include "internal.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>

_Static_assert(sizeof(struct sockaddr_storage) <= NET_ADDR_STORAGE,
               "net_addr_t cannot hold the platform's sockaddr_storage");

void net__addr_from_sockaddr(net_addr_t *out, const struct sockaddr *sa,
                            socklen_t len)
{
    memset(out, 0, sizeof *out);
    if (len > NET_ADDR_STORAGE)
        len = NET_ADDR_STORAGE;
    memcpy(out->storage.bytes, sa, len);
    out->family = len >= sizeof(sa_family_t) ? sa->sa_family : 0;
    out->len = len;
}

int net__addr_validate(const net_addr_t *addr)
{
    if (addr == NULL || addr->len > NET_ADDR_STORAGE ||
        addr->len < sizeof(sa_family_t) ||
        NET_CSA(addr)->sa_family != addr->family)
        return -EINVAL;
    return 0;
}

int net_addr_inet(net_addr_t *out, const char *host, int port)
{
    if (out == NULL || host == NULL || port < 0 || port > 65535)
        return -EINVAL;
    memset(out, 0, sizeof *out);

    struct sockaddr_in *in4 = (struct sockaddr_in *)(void *)out->storage.bytes;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        out->family = AF_INET;
        out->len = sizeof *in4;
        return 0;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)out->storage.bytes;
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        out->family = AF_INET6;
        out->len = sizeof *in6;
        return 0;
    }
    return -EINVAL;
}

int net_addr_unix(net_addr_t *out, const char *path, size_t len)
{
    if (out == NULL || path == NULL || len == 0)
        return -EINVAL;
    struct sockaddr_un *un = (struct sockaddr_un *)(void *)out->storage.bytes;
    /* A filesystem path keeps its terminating NUL inside sun_path; an
     * abstract name (leading NUL) is counted by length and needs none, but
     * is held to the same limit so both kinds fit alike. Never truncate. */
    if (len >= sizeof un->sun_path)
        return -ENAMETOOLONG;
    if (path[0] != '\0' && memchr(path, '\0', len) != NULL)
        return -EINVAL; /* an embedded NUL would silently cut the path */
    memset(out, 0, sizeof *out);
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, len);
    out->family = AF_UNIX;
    out->len = (uint32_t)(offsetof(struct sockaddr_un, sun_path) + len +
                          (path[0] != '\0'));
    return 0;
}

int net_addr_host(const net_addr_t *addr, char *buf, size_t size)
{
    const void *src;
    if (addr == NULL || buf == NULL)
        return -EINVAL;
    if (addr->family == AF_INET)
        src = &((const struct sockaddr_in *)(const void *)addr->storage.bytes)->sin_addr;
    else if (addr->family == AF_INET6)
        src = &((const struct sockaddr_in6 *)(const void *)addr->storage.bytes)->sin6_addr;
    else
        return -EAFNOSUPPORT;
    if (inet_ntop(addr->family, src, buf, (socklen_t)(size > 65535 ? 65535 : size)) == NULL)
        return NET_ERR(); /* ENOSPC when buf is too small */
    return (int)strlen(buf);
}

int net_addr_port(const net_addr_t *addr)
{
    if (addr == NULL)
        return -EINVAL;
    if (addr->family == AF_INET)
        return ntohs(((const struct sockaddr_in *)(const void *)addr->storage.bytes)->sin_port);
    if (addr->family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)(const void *)addr->storage.bytes)->sin6_port);
    return -EAFNOSUPPORT;
}

int net_addr_path(const net_addr_t *addr, char *buf, size_t size)
{
    const size_t base = offsetof(struct sockaddr_un, sun_path);

    if (addr == NULL || buf == NULL)
        return -EINVAL;
    if (addr->family != AF_UNIX)
        return -EAFNOSUPPORT;
    const struct sockaddr_un *un =
        (const struct sockaddr_un *)(const void *)addr->storage.bytes;
    size_t len = addr->len > base ? addr->len - base : 0;
    if (len > sizeof un->sun_path)
        len = sizeof un->sun_path;
    /* A filesystem path ends at its NUL; an abstract name runs to len. */
    if (len > 0 && un->sun_path[0] != '\0')
        len = strnlen(un->sun_path, len);
    if (len + 1 > size)
        return -ENOSPC;
    memcpy(buf, un->sun_path, len);
    buf[len] = '\0';
    return (int)len;
}
