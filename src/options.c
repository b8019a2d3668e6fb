/* options.c — every socket option, listed once and expanded into the
 * exported net_sock_<name>() getters/setters. */
#include "internal.h"

#include <math.h>
#include <netinet/tcp.h>
#include <sys/time.h>

/* ---- platform differences: the only #ifdefs of this file ---------------- */
#define NET_OPT_MISSING (-1) /* the platform has no such option */
#ifndef SO_REUSEPORT
#define SO_REUSEPORT NET_OPT_MISSING
#endif
#ifndef SO_TIMESTAMP
#define SO_TIMESTAMP NET_OPT_MISSING
#endif
#if !defined(TCP_KEEPIDLE) && defined(TCP_KEEPALIVE) /* macOS spelling */
#define TCP_KEEPIDLE TCP_KEEPALIVE
#endif
#ifndef TCP_KEEPIDLE
#define TCP_KEEPIDLE NET_OPT_MISSING
#endif
#ifndef TCP_KEEPINTVL
#define TCP_KEEPINTVL NET_OPT_MISSING
#endif
#ifndef TCP_KEEPCNT
#define TCP_KEEPCNT NET_OPT_MISSING
#endif
#if !defined(TCP_CORK) && defined(TCP_NOPUSH) /* the BSD equivalent */
#define TCP_CORK TCP_NOPUSH
#endif
#ifndef TCP_CORK
#define TCP_CORK NET_OPT_MISSING
#endif

/* ---- the option table ----------------------------------------------------
 * X(name, level, optname, kind); kind: BOOL reads back 0/1, INT as is,
 * RDONLY_BOOL cannot be set. */
#define NET_INT_OPTIONS(X)                                                    \
    X(reuseport, SOL_SOCKET, SO_REUSEPORT, BOOL)                              \
    X(reuseaddr, SOL_SOCKET, SO_REUSEADDR, BOOL)                              \
    X(debug, SOL_SOCKET, SO_DEBUG, BOOL)                                      \
    X(dontroute, SOL_SOCKET, SO_DONTROUTE, BOOL)                              \
    X(timestamp, SOL_SOCKET, SO_TIMESTAMP, BOOL)                              \
    X(broadcast, SOL_SOCKET, SO_BROADCAST, BOOL)                              \
    X(rcvbuf, SOL_SOCKET, SO_RCVBUF, INT)                                     \
    X(rcvlowat, SOL_SOCKET, SO_RCVLOWAT, INT)                                 \
    X(sndbuf, SOL_SOCKET, SO_SNDBUF, INT)                                     \
    X(sndlowat, SOL_SOCKET, SO_SNDLOWAT, INT)                                 \
    X(acceptconn, SOL_SOCKET, SO_ACCEPTCONN, RDONLY_BOOL)                     \
    X(oobinline, SOL_SOCKET, SO_OOBINLINE, BOOL)                              \
    X(keepalive, SOL_SOCKET, SO_KEEPALIVE, BOOL)                              \
    X(ipv6only, IPPROTO_IPV6, IPV6_V6ONLY, BOOL)                              \
    X(tcpnodelay, IPPROTO_TCP, TCP_NODELAY, BOOL)                             \
    X(tcpcork, IPPROTO_TCP, TCP_CORK, BOOL)                                   \
    X(tcpkeepalive, IPPROTO_TCP, TCP_KEEPIDLE, INT)                           \
    X(tcpkeepintvl, IPPROTO_TCP, TCP_KEEPINTVL, INT)                          \
    X(tcpkeepcnt, IPPROTO_TCP, TCP_KEEPCNT, INT)

enum option_kind { BOOL, INT, RDONLY_BOOL };

struct int_option {
    int level;
    int name;
    enum option_kind kind;
};

static int int_option(int fd, int val, const struct int_option *o)
{
    int v;
    socklen_t len = sizeof v;

    if (o->name == NET_OPT_MISSING)
        return -ENOPROTOOPT;
    if (val >= 0) {
        if (o->kind == RDONLY_BOOL)
            return -EINVAL;
        v = (o->kind == BOOL) ? (val != 0) : val;
        if (setsockopt(fd, o->level, o->name, &v, sizeof v) < 0)
            return NET_ERR();
    }
    if (getsockopt(fd, o->level, o->name, &v, &len) < 0)
        return NET_ERR();
    return (o->kind == INT) ? v : (v != 0);
}

#define DEFINE_INT_OPTION(opt, level, optname, kind)                          \
    int net_sock_##opt(int fd, int val)                                       \
    {                                                                         \
        static const struct int_option o = {level, optname, kind};           \
        return int_option(fd, val, &o);                                       \
    }
NET_INT_OPTIONS(DEFINE_INT_OPTION)

/* ---- seconds-valued options (struct timeval) ------------------------------ */

/* A timeout longer than this is surely a mistake (about 31 years). */
#define NET_TIMEO_MAX 1e9

static double timeval_option(int fd, double val, int name)
{
    struct timeval tv;
    socklen_t len = sizeof tv;

    if (val >= 0 || isnan(val)) {
        if (!(val <= NET_TIMEO_MAX))
            return -EINVAL;
        tv.tv_sec = (time_t)val;
        tv.tv_usec = (suseconds_t)lround((val - (double)tv.tv_sec) * 1e6);
        if (tv.tv_usec >= 1000000) { /* 0.9999999 rounds up to a second */
            tv.tv_sec += 1;
            tv.tv_usec = 0;
        }
        /* A positive timeout below half a microsecond must not round to
         * {0, 0}, which the kernel reads as "no timeout at all". */
        if (val > 0 && tv.tv_sec == 0 && tv.tv_usec == 0)
            tv.tv_usec = 1;
        if (setsockopt(fd, SOL_SOCKET, name, &tv, sizeof tv) < 0)
            return NET_ERR();
    }
    if (getsockopt(fd, SOL_SOCKET, name, &tv, &len) < 0)
        return NET_ERR();
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

double net_sock_rcvtimeo(int fd, double val)
{
    return timeval_option(fd, val, SO_RCVTIMEO);
}

double net_sock_sndtimeo(int fd, double val)
{
    return timeval_option(fd, val, SO_SNDTIMEO);
}

/* ---- SO_LINGER ------------------------------------------------------------ */

int net_sock_linger(int fd, const net_linger_t *set, net_linger_t *out)
{
    struct linger l;
    socklen_t len = sizeof l;

    if (set) {
        if (set->seconds < 0)
            return -EINVAL;
        l.l_onoff = set->on != 0;
        l.l_linger = set->seconds;
        if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) < 0)
            return NET_ERR();
    }
    if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &len) < 0)
        return NET_ERR();
    if (out) {
        out->on = l.l_onoff != 0;
        out->seconds = l.l_linger;
    }
    return 0;
}
