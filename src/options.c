/* options.c — the exported net_sock_<name>() getters/setters of every option
 * of net.h's NET_SOCK_OPTIONS, each joined to its platform row here. */
#include "internal.h"

#include <fcntl.h>
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

/* ---- the platform row of each option of net.h's NET_SOCK_OPTIONS ----------
 * ROW_<name> is (level, optname) for getsockopt/setsockopt, or (FD_FLAGS,
 * bit) / (FL_FLAGS, bit) for a bit of the descriptor's fcntl flags. A header
 * row without its platform row does not compile. */
#define FD_FLAGS (-100) /* F_GETFD / F_SETFD */
#define FL_FLAGS (-101) /* F_GETFL / F_SETFL */

#define ROW_cloexec FD_FLAGS, FD_CLOEXEC
#define ROW_nonblock FL_FLAGS, O_NONBLOCK
#define ROW_reuseport SOL_SOCKET, SO_REUSEPORT
#define ROW_reuseaddr SOL_SOCKET, SO_REUSEADDR
#define ROW_debug SOL_SOCKET, SO_DEBUG
#define ROW_dontroute SOL_SOCKET, SO_DONTROUTE
#define ROW_timestamp SOL_SOCKET, SO_TIMESTAMP
#define ROW_broadcast SOL_SOCKET, SO_BROADCAST
#define ROW_rcvbuf SOL_SOCKET, SO_RCVBUF
#define ROW_rcvlowat SOL_SOCKET, SO_RCVLOWAT
#define ROW_sndbuf SOL_SOCKET, SO_SNDBUF
#define ROW_sndlowat SOL_SOCKET, SO_SNDLOWAT
#define ROW_rcvtimeo SOL_SOCKET, SO_RCVTIMEO
#define ROW_sndtimeo SOL_SOCKET, SO_SNDTIMEO
#define ROW_ipv6only IPPROTO_IPV6, IPV6_V6ONLY
#define ROW_acceptconn SOL_SOCKET, SO_ACCEPTCONN
#define ROW_oobinline SOL_SOCKET, SO_OOBINLINE
#define ROW_keepalive SOL_SOCKET, SO_KEEPALIVE
#define ROW_tcpnodelay IPPROTO_TCP, TCP_NODELAY
#define ROW_tcpcork IPPROTO_TCP, TCP_CORK
#define ROW_tcpkeepalive IPPROTO_TCP, TCP_KEEPIDLE
#define ROW_tcpkeepintvl IPPROTO_TCP, TCP_KEEPINTVL
#define ROW_tcpkeepcnt IPPROTO_TCP, TCP_KEEPCNT

enum option_kind { KIND_bool, KIND_readonly_bool, KIND_int, KIND_seconds };

struct option_row {
    int level;
    int name;
    enum option_kind kind;
};

/* Reads, and when val >= 0 sets, one bit of a descriptor's fcntl flags. */
static int fd_flag(int fd, int val, int get, int set, int bit)
{
    int cur = fcntl(fd, get);
    if (cur < 0)
        return NET_ERR();
    if (val >= 0) {
        int want = val ? (cur | bit) : (cur & ~bit);
        if (want != cur && fcntl(fd, set, want) < 0)
            return NET_ERR();
        cur = fcntl(fd, get);
        if (cur < 0)
            return NET_ERR();
    }
    return (cur & bit) ? 1 : 0;
}

static int int_option(int fd, int val, const struct option_row *o)
{
    int v;
    socklen_t len = sizeof v;

    if (o->level == FD_FLAGS)
        return fd_flag(fd, val, F_GETFD, F_SETFD, o->name);
    if (o->level == FL_FLAGS)
        return fd_flag(fd, val, F_GETFL, F_SETFL, o->name);
    if (o->name == NET_OPT_MISSING)
        return -ENOPROTOOPT;
    if (val >= 0) {
        if (o->kind == KIND_readonly_bool)
            return -EINVAL;
        v = (o->kind == KIND_int) ? val : (val != 0);
        if (setsockopt(fd, o->level, o->name, &v, sizeof v) < 0)
            return NET_ERR();
    }
    if (getsockopt(fd, o->level, o->name, &v, &len) < 0)
        return NET_ERR();
    return (o->kind == KIND_int) ? v : (v != 0);
}

/* ---- seconds-valued options (struct timeval) ------------------------------ */

/* A timeout longer than this is surely a mistake (about 31 years). */
#define NET_TIMEO_MAX 1e9

static double timeval_option(int fd, double val, const struct option_row *o)
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
        if (setsockopt(fd, o->level, o->name, &tv, sizeof tv) < 0)
            return NET_ERR();
    }
    if (getsockopt(fd, o->level, o->name, &tv, &len) < 0)
        return NET_ERR();
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* ---- the exported functions and the table, from the one list --------------- */

#define OPTION_IMPL_bool int_option
#define OPTION_IMPL_readonly_bool int_option
#define OPTION_IMPL_int int_option
#define OPTION_IMPL_seconds timeval_option

#define DEFINE_OPTION(name, kind, scope, alias)                               \
    NET_OPTION_TYPE_##kind net_sock_##name(int fd, NET_OPTION_TYPE_##kind val) \
    {                                                                         \
        static const struct option_row row = {ROW_##name, KIND_##kind};      \
        return OPTION_IMPL_##kind(fd, val, &row);                             \
    }
NET_SOCK_OPTIONS(DEFINE_OPTION)

#define OPTION_RECORD(name, kind, scope, alias) {#name, #kind, #scope, alias},
static const net_option_t options[] = {
    NET_SOCK_OPTIONS(OPTION_RECORD)
    {NULL, NULL, NULL, NULL},
};

const net_option_t *net_options(void) { return options; }

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
