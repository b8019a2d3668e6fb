/* addr.c — net_addr_t: building addresses from text and reading them back.
 * The struct sockaddr inside is the platform's; only this file (and the
 * kernel) looks into it. */
#include "internal.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

_Static_assert(sizeof(struct sockaddr_storage) <= NET_ADDR_STORAGE,
               "net_addr_t cannot hold the platform's sockaddr_storage");

void net__addr_filled(net_addr_t *out, socklen_t len)
{
    if (len > NET_ADDR_STORAGE)
        len = NET_ADDR_STORAGE; /* a name cut to the room it had */
    out->family = len >= sizeof(sa_family_t) ? NET_CSA(out)->sa_family : 0;
    /* Linux reports a unix name filling all of sun_path (no NUL) one byte
     * longer than struct sockaddr_un (unix(7), BUGS), a length connect and
     * sendto refuse: it is counted without that byte, so a sender's name
     * can be answered. */
    if (out->family == AF_UNIX && len > sizeof(struct sockaddr_un))
        len = sizeof(struct sockaddr_un);
    memset(out->storage.bytes + len, 0, NET_ADDR_STORAGE - len);
    out->len = len;
}

void net__addr_from_sockaddr(net_addr_t *out, const struct sockaddr *sa,
                            socklen_t len)
{
    memcpy(out->storage.bytes, sa, len > NET_ADDR_STORAGE ? NET_ADDR_STORAGE : len);
    net__addr_filled(out, len);
}

/* The shortest name of family that Linux takes (any other family: its
 * family alone). A shorter inet name is refused here, before the kernel
 * sees it: the kernel refuses it too, but only after a UDP connect or
 * sendto bound the socket to a port of its choosing. IPv6's is RFC 2133's
 * sockaddr_in6, without the scope id, as Linux takes it. */
static size_t shortest_name(int family)
{
    switch (family) {
    case AF_INET:
        return sizeof(struct sockaddr_in);
    case AF_INET6:
        return offsetof(struct sockaddr_in6, sin6_scope_id);
    default:
        return sizeof(sa_family_t);
    }
}

int net__addr_validate(const net_addr_t *addr)
{
    if (addr == NULL || addr->len > NET_ADDR_STORAGE ||
        addr->len < sizeof(sa_family_t) ||
        NET_CSA(addr)->sa_family != addr->family ||
        addr->len < shortest_name(addr->family))
        return -EINVAL;
    return 0;
}

/* Why an interface lookup (if_nametoindex, if_indextoname) found nothing:
 * 0 when no interface matched, else the code that kept it from asking. It
 * opens a socket of its own to ask, and its errno after failing to is no
 * guide (ENOENT with glibc when no descriptor is free): opening one tells. */
static int lookup_failure(void)
{
    int fd;
    if (errno == ENODEV || errno == ENXIO)
        return 0;
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NET_ERR();
    close(fd);
    return 0;
}

int net__if_index(const char *name)
{
    unsigned index;
    int rc;
    if (name == NULL || *name == '\0')
        return 0;
    errno = 0;
    index = if_nametoindex(name);
    if (index != 0)
        return index > INT_MAX ? -EOVERFLOW : (int)index;
    rc = lookup_failure();
    return rc < 0 ? rc : -ENODEV;
}

int net__if_name(unsigned index, char *name)
{
    int rc;
    errno = 0;
    if (if_indextoname(index, name) != NULL)
        return 0;
    if ((rc = lookup_failure()) < 0)
        return rc;
    /* At most 10 digits: fits IF_NAMESIZE (16) with its NUL. */
    snprintf(name, IF_NAMESIZE, "%u", index);
    return 0;
}

/* The IPv6 literal of host into *in6 and its zone (the part after '%': an
 * interface name or a number, as getaddrinfo reads "fe80::1%eth0") into
 * *scope; resolve_zone 0 leaves a named zone unresolved (*scope 0), which is
 * enough to tell a literal from a name. 1 when host is such a literal, 0
 * when it is not (a zone that names no interface too), or the code of a
 * failed lookup of the zone's name (net__if_index: -EMFILE, say). */
static int parse_inet6(const char *host, struct in6_addr *in6, uint32_t *scope,
                       int resolve_zone)
{
    char head[INET6_ADDRSTRLEN];
    const char *pct = strchr(host, '%');

    *scope = 0;
    if (pct == NULL)
        return inet_pton(AF_INET6, host, in6) == 1;
    if ((size_t)(pct - host) >= sizeof head || pct[1] == '\0')
        return 0;
    memcpy(head, host, (size_t)(pct - host));
    head[pct - host] = '\0';
    if (inet_pton(AF_INET6, head, in6) != 1)
        return 0;
    const char *zone = pct + 1;
    if (strspn(zone, "0123456789") == strlen(zone)) {
        /* a numeric zone: the scope id itself, at most 32 bits */
        char *end;
        errno = 0;
        unsigned long long id = strtoull(zone, &end, 10);
        if (errno != 0 || id > UINT32_MAX)
            return 0;
        *scope = (uint32_t)id;
        return 1;
    }
    if (strlen(zone) >= IF_NAMESIZE)
        return 0;
    if (resolve_zone) {
        int index = net__if_index(zone);
        if (index == -ENODEV)
            return 0; /* no such interface: not an address */
        if (index < 0)
            return index;
        *scope = (uint32_t)index;
    }
    return 1;
}

int net__addr_numeric_zone(const char **host, char *buf, size_t size)
{
    struct in6_addr in6;
    uint32_t scope;
    const char *pct = strchr(*host, '%');
    int rc;
    if (pct == NULL || (rc = parse_inet6(*host, &in6, &scope, 1)) == 0)
        return 0;
    if (rc < 0)
        return rc;
    int n = snprintf(buf, size, "%.*s%%%lu", (int)(pct - *host), *host,
                     (unsigned long)scope);
    if (n > 0 && (size_t)n < size)
        *host = buf;
    return 0;
}

int net__addr_is_literal(const char *host)
{
    struct in_addr in4;
    struct in6_addr in6;
    uint32_t scope;
    return host != NULL && (inet_pton(AF_INET, host, &in4) == 1 ||
                            parse_inet6(host, &in6, &scope, 0) > 0);
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
    uint32_t scope;
    int rc = parse_inet6(host, &in6->sin6_addr, &scope, 1);
    if (rc > 0) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        in6->sin6_scope_id = scope;
        out->family = AF_INET6;
        out->len = sizeof *in6;
        return 0;
    }
    memset(out, 0, sizeof *out);
    return rc < 0 ? rc : -EINVAL;
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
    uint32_t scope = 0;
    char text[INET6_ADDRSTRLEN + 1 + IF_NAMESIZE + 10];
    if (addr == NULL || buf == NULL)
        return -EINVAL;
    if (addr->family == AF_INET) {
        src = &((const struct sockaddr_in *)(const void *)addr->storage.bytes)->sin_addr;
    } else if (addr->family == AF_INET6) {
        const struct sockaddr_in6 *in6 =
            (const struct sockaddr_in6 *)(const void *)addr->storage.bytes;
        src = &in6->sin6_addr;
        scope = in6->sin6_scope_id;
    } else {
        return -EAFNOSUPPORT;
    }
    if (inet_ntop(addr->family, src, text, sizeof text) == NULL)
        return NET_ERR();
    /* The zone: the interface's name for every scope (getnameinfo names it
     * for link-local and multicast addresses only, so "::1%lo" reads back
     * as given), or the number when no interface has it. Without it a
     * link-local address names no particular link. */
    if (scope != 0) {
        size_t n = strlen(text);
        char name[IF_NAMESIZE];
        int rc = net__if_name(scope, name);
        if (rc < 0)
            return rc; /* the lookup's own failure: EMFILE, say */
        snprintf(text + n, sizeof text - n, "%%%s", name);
    }
    size_t len = strlen(text);
    if (len + 1 > size)
        return -ENOSPC;
    memcpy(buf, text, len + 1);
    return (int)len;
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

int net__addr_set_port(net_addr_t *addr, int port)
{
    if (addr->family == AF_INET)
        ((struct sockaddr_in *)(void *)addr->storage.bytes)->sin_port = htons((uint16_t)port);
    else if (addr->family == AF_INET6)
        ((struct sockaddr_in6 *)(void *)addr->storage.bytes)->sin6_port = htons((uint16_t)port);
    else
        return -EAFNOSUPPORT;
    return 0;
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
