/* mcast.c — multicast options of inet and inet6 sockets. Each is one option
 * at two levels (IPPROTO_IP or IPPROTO_IPV6, by the socket's family), so they
 * cannot be rows of NET_SOCK_OPTIONS (one level and name per row). */
#include "internal.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>

/* AF_INET or AF_INET6 of fd, or a code (-EAFNOSUPPORT for other families). */
static int inet_family(int fd)
{
    int family = net_sock_family(fd);
    if (family < 0)
        return family;
    if (family != AF_INET && family != AF_INET6)
        return -EAFNOSUPPORT;
    return family;
}

/* Linux reads and writes the IPv4 options as int; the BSDs want u_char. */
#ifdef __linux__
typedef int ip_opt_t;
#else
typedef unsigned char ip_opt_t;
#endif

/* Sets (val >= 0) then reads an integer option whose IPv4 form is ip_opt_t
 * and IPv6 form int; the value in effect, or a code. */
static int int_option(int fd, int val, int ip_name, int ip6_name, int max)
{
    int family = inet_family(fd);
    if (family < 0)
        return family;
    if (val > max)
        return -EINVAL;
    if (family == AF_INET) {
        ip_opt_t v = (ip_opt_t)val;
        socklen_t len = sizeof v;
        if (val >= 0 && setsockopt(fd, IPPROTO_IP, ip_name, &v, sizeof v) < 0)
            return NET_ERR();
        v = 0;
        if (getsockopt(fd, IPPROTO_IP, ip_name, &v, &len) < 0)
            return NET_ERR();
        return (int)v;
    } else {
        int v = val;
        socklen_t len = sizeof v;
        if (val >= 0 && setsockopt(fd, IPPROTO_IPV6, ip6_name, &v, sizeof v) < 0)
            return NET_ERR();
        if (getsockopt(fd, IPPROTO_IPV6, ip6_name, &v, &len) < 0)
            return NET_ERR();
        return v;
    }
}

int net_sock_mcastloop(int fd, int val)
{
    return int_option(fd, val > 1 ? 1 : val, IP_MULTICAST_LOOP, IPV6_MULTICAST_LOOP, 1);
}

int net_sock_mcastttl(int fd, int val)
{
    return int_option(fd, val, IP_MULTICAST_TTL, IPV6_MULTICAST_HOPS, 255);
}

/* The IPv4 address of interface name (INADDR_ANY when it has none), or the
 * name of the interface with address addr into out; 0 or a code. */
static int ifaddr4(const char *name, struct in_addr *addr, char *out, size_t size)
{
    struct ifaddrs *list, *i;
    int rc = -ENODEV;
    if (getifaddrs(&list) < 0)
        return NET_ERR();
    if (name)
        addr->s_addr = htonl(INADDR_ANY);
    for (i = list; i; i = i->ifa_next) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(void *)i->ifa_addr;
        if (!sin || sin->sin_family != AF_INET)
            continue;
        if (name && strcmp(i->ifa_name, name) == 0) {
            *addr = sin->sin_addr;
            rc = 0;
            break;
        }
        if (!name && sin->sin_addr.s_addr == addr->s_addr) {
            rc = strlen(i->ifa_name) < size ? 0 : -ENOSPC;
            if (rc == 0)
                strcpy(out, i->ifa_name);
            break;
        }
    }
    freeifaddrs(list);
    return name ? 0 : rc;
}

static int put_name(char *out, size_t size, const char *name)
{
    size_t n = strlen(name);
    if (n >= size)
        return -ENOSPC;
    memcpy(out, name, n + 1);
    return (int)n;
}

int net_sock_mcastif(int fd, const char *ifname, char *out, size_t size)
{
    int family = inet_family(fd);
    unsigned index = 0;
    if (family < 0)
        return family;
    if (out == NULL)
        return -EINVAL;
    if (size == 0) /* no room even for "" (as net_addr_host's) */
        return -ENOSPC;
    /* The name read back after a change must fit out, or the interface
     * would change and the call still fail. Which name that is, is known
     * only afterwards (IPv4 finds it by the interface's address, and the
     * name getifaddrs gives may be an address label), but no name is
     * longer than IF_NAMESIZE - 1: with that much room nothing can fail for
     * want of it. "" restores the default, which reads back as "". A read
     * changes nothing, so a short out is -ENOSPC after it, as before. */
    if (ifname && *ifname && size < IF_NAMESIZE)
        return -ENOSPC;
    int found = net__if_index(ifname); /* 0: none named */
    if (found < 0)
        return found;
    index = (unsigned)found;
    if (family == AF_INET) {
        struct in_addr a;
        socklen_t len = sizeof a;
        int rc;
        if (ifname) {
#ifdef __linux__
            struct ip_mreqn mr;
            memset(&mr, 0, sizeof mr);
            mr.imr_ifindex = (int)index;
            if (index && (rc = ifaddr4(ifname, &mr.imr_address, NULL, 0)) < 0)
                return rc;
            if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof mr) < 0)
                return NET_ERR();
#else
            a.s_addr = htonl(INADDR_ANY);
            if (index && (rc = ifaddr4(ifname, &a, NULL, 0)) < 0)
                return rc;
            if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &a, sizeof a) < 0)
                return NET_ERR();
#endif
        }
        if (getsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &a, &len) < 0)
            return NET_ERR();
        if (a.s_addr == htonl(INADDR_ANY))
            return put_name(out, size, "");
        rc = ifaddr4(NULL, &a, out, size);
        return rc < 0 ? (rc == -ENODEV ? put_name(out, size, "") : rc)
                      : (int)strlen(out);
    } else {
        int v = (int)index;
        socklen_t len = sizeof v;
        char name[IF_NAMESIZE];
        if (ifname && setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &v, sizeof v) < 0)
            return NET_ERR();
        if (getsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &v, &len) < 0)
            return NET_ERR();
        if (v == 0)
            return put_name(out, size, "");
        if ((v = net__if_name((unsigned)v, name)) < 0)
            return v;
        return put_name(out, size, name);
    }
}

/* An address literal of family into *ss (port 0); 0 or -EINVAL. */
static int literal(int family, const char *text, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (text == NULL)
        return -EINVAL;
    if (family == AF_INET) {
        struct sockaddr_in *in4 = (struct sockaddr_in *)(void *)ss;
        in4->sin_family = AF_INET;
        return inet_pton(AF_INET, text, &in4->sin_addr) == 1 ? 0 : -EINVAL;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)ss;
        in6->sin6_family = AF_INET6;
        return inet_pton(AF_INET6, text, &in6->sin6_addr) == 1 ? 0 : -EINVAL;
    }
}

int net_sock_mcastgroup(int fd, int op, const char *group, const char *source,
                        const char *ifname)
{
#ifdef MCAST_JOIN_GROUP
    static const int names[] = {0, MCAST_JOIN_GROUP, MCAST_LEAVE_GROUP,
                                MCAST_JOIN_SOURCE_GROUP, MCAST_LEAVE_SOURCE_GROUP,
                                MCAST_BLOCK_SOURCE, MCAST_UNBLOCK_SOURCE};
    int family = inet_family(fd);
    int level, rc;
    unsigned index = 0;
    if (family < 0)
        return family;
    if (op < NET_MCAST_JOIN || op > NET_MCAST_UNBLOCKSRC)
        return -EINVAL;
    int found = net__if_index(ifname); /* 0: none named */
    if (found < 0)
        return found;
    index = (unsigned)found;
    level = family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
    if (op <= NET_MCAST_LEAVE) {
        struct group_req gr;
        memset(&gr, 0, sizeof gr);
        gr.gr_interface = index;
        if ((rc = literal(family, group, &gr.gr_group)) < 0)
            return rc;
        if (setsockopt(fd, level, names[op], &gr, sizeof gr) < 0)
            return NET_ERR();
    } else {
        struct group_source_req gs;
        memset(&gs, 0, sizeof gs);
        gs.gsr_interface = index;
        if ((rc = literal(family, group, &gs.gsr_group)) < 0 ||
            (rc = literal(family, source, &gs.gsr_source)) < 0)
            return rc;
        if (setsockopt(fd, level, names[op], &gs, sizeof gs) < 0)
            return NET_ERR();
    }
    return 0;
#else
    (void)fd, (void)op, (void)group, (void)source, (void)ifname;
    return -ENOPROTOOPT;
#endif
}
