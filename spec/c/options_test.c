/* options_test.c — every socket option: set, then the kernel's read-back,
 * compared with getsockopt(2) called directly; bad values; read-only and
 * missing options; EBADF. */
#define _GNU_SOURCE 1
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/time.h>
#include <unistd.h>

#include "check.h"
#include "util.h"

/* What getsockopt says, independently of libnet. */
static int raw_int(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    return getsockopt(fd, level, name, &v, &len) < 0 ? -errno : v;
}

typedef int (*int_option_fn)(int, int);

/* `expect` for buffer sizes: Linux doubles the request (room for its
 * bookkeeping; requests here are under net.core.[rw]mem_max, which would cap
 * them). 32768 reads back as 65536, which is neither default (tcp_rmem's
 * 131072, tcp_wmem's 16384): a setter that did nothing shows. */
#define DOUBLED (-1)

/* One row per option: set `value` on a TCP socket of `family`, read back
 * `expect`. Booleans are set with 7 (any non-zero means on: reads back 1)
 * and, as their second step, turned off again. */
static const struct option_case {
    int_option_fn fn;
    const char *name;
    int value, expect;
    int boolean;
    int family;
    int level, optname; /* for the cross-check with getsockopt(2) */
} cases[] = {
    {net_sock_reuseport, "reuseport", 7, 1, 1, AF_INET, SOL_SOCKET, SO_REUSEPORT},
    {net_sock_reuseaddr, "reuseaddr", 7, 1, 1, AF_INET, SOL_SOCKET, SO_REUSEADDR},
    {net_sock_dontroute, "dontroute", 7, 1, 1, AF_INET, SOL_SOCKET, SO_DONTROUTE},
    {net_sock_timestamp, "timestamp", 7, 1, 1, AF_INET, SOL_SOCKET, SO_TIMESTAMP},
    {net_sock_broadcast, "broadcast", 7, 1, 1, AF_INET, SOL_SOCKET, SO_BROADCAST},
    {net_sock_oobinline, "oobinline", 7, 1, 1, AF_INET, SOL_SOCKET, SO_OOBINLINE},
    {net_sock_keepalive, "keepalive", 7, 1, 1, AF_INET, SOL_SOCKET, SO_KEEPALIVE},
    {net_sock_ipv6only, "ipv6only", 7, 1, 1, AF_INET6, IPPROTO_IPV6, IPV6_V6ONLY},
    {net_sock_tcpnodelay, "tcpnodelay", 7, 1, 1, AF_INET, IPPROTO_TCP, TCP_NODELAY},
    {net_sock_tcpcork, "tcpcork", 7, 1, 1, AF_INET, IPPROTO_TCP, TCP_CORK},
    {net_sock_rcvbuf, "rcvbuf", 32768, DOUBLED, 0, AF_INET, SOL_SOCKET, SO_RCVBUF},
    {net_sock_sndbuf, "sndbuf", 32768, DOUBLED, 0, AF_INET, SOL_SOCKET, SO_SNDBUF},
    {net_sock_rcvlowat, "rcvlowat", 10, 10, 0, AF_INET, SOL_SOCKET, SO_RCVLOWAT},
    {net_sock_tcpkeepalive, "tcpkeepalive", 30, 30, 0, AF_INET, IPPROTO_TCP, TCP_KEEPIDLE},
    {net_sock_tcpkeepintvl, "tcpkeepintvl", 5, 5, 0, AF_INET, IPPROTO_TCP, TCP_KEEPINTVL},
    {net_sock_tcpkeepcnt, "tcpkeepcnt", 4, 4, 0, AF_INET, IPPROTO_TCP, TCP_KEEPCNT},
    /* debug (needs CAP_NET_ADMIN), sndlowat (fixed on Linux) and acceptconn
     * (read only) have tests of their own. */
};

/* Sets c->value, checks the kernel's read-back, and agrees with getsockopt. */
static void test_read_back(const struct option_case *c)
{
    int fd = net_sock_open(c->family, SOCK_STREAM, 0, 0);
    SETUP(fd);
    fprintf(stderr, "# %s\n", c->name);
    int before = c->fn(fd, -1);
    CHECK_EQ(raw_int(fd, c->level, c->optname), before);
    int expect = c->expect == DOUBLED ? 2 * c->value : c->expect;
    CHECK(before != expect); /* the set below changes something */

    int after = c->fn(fd, c->value);
    CHECK_EQ(raw_int(fd, c->level, c->optname), after);
    CHECK_EQ(expect, after);
    CHECK_EQ(after, c->fn(fd, -1)); /* a read does not change it */

    if (c->boolean) {
        CHECK_EQ(0, c->fn(fd, 0));
        CHECK_EQ(0, raw_int(fd, c->level, c->optname));
    }
    net_sock_close(fd);
    CHECK_EQ(-EBADF, c->fn(fd, -1));
    CHECK_EQ(-EBADF, c->fn(fd, c->value));
}

static void test_bad_values(void)
{
    int fd = net_sock_open(AF_INET, SOCK_STREAM, 0, 0);
    CHECK_EQ(-EINVAL, net_sock_tcpkeepcnt(fd, 0));
    CHECK_EQ(-EINVAL, net_sock_tcpkeepalive(fd, 0));
    CHECK_EQ(-EINVAL, net_sock_tcpkeepintvl(fd, 0));
    /* Linux cannot change SO_SNDLOWAT: reported, not faked. */
    CHECK_EQ(-ENOPROTOOPT, net_sock_sndlowat(fd, 2));
    CHECK_EQ(1, net_sock_sndlowat(fd, -1));
    /* acceptconn is read only, and follows listen(). */
    CHECK_EQ(0, net_sock_acceptconn(fd, -1));
    CHECK_EQ(-EINVAL, net_sock_acceptconn(fd, 1));
    net_addr_t any;
    SETUP(net_addr_inet(&any, "127.0.0.1", 0));
    SETUP(net_sock_bind(fd, &any));
    SETUP(net_sock_listen(fd, 1));
    CHECK_EQ(1, net_sock_acceptconn(fd, -1));
    net_sock_close(fd);
    /* TCP options on a unix socket. */
    int fds[2];
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, 0, fds));
    CHECK_EQ(-EOPNOTSUPP, net_sock_tcpnodelay(fds[0], 1));
    CHECK_EQ(-EOPNOTSUPP, net_sock_tcpnodelay(fds[0], -1));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}

static void test_debug(void)
{
    int fd = net_sock_open(AF_INET, SOCK_STREAM, 0, 0);
    CHECK_EQ(0, net_sock_debug(fd, -1));
    int rc = net_sock_debug(fd, 1);
    if (geteuid() == 0)
        CHECK_EQ(1, rc);
    else
        CHECK(rc == 1 || rc == -EACCES); /* without CAP_NET_ADMIN */
    CHECK_EQ(rc == 1, raw_int(fd, SOL_SOCKET, SO_DEBUG) != 0);
    net_sock_close(fd);
    CHECK_EQ(-EBADF, net_sock_debug(fd, -1));
}

/* rcvtimeo and sndtimeo: fractional seconds, as the kernel's timeval. */
static void test_timeouts(void)
{
    static const struct {
        double (*fn)(int, double);
        const char *name;
        int optname;
    } timeouts[] = {
        {net_sock_rcvtimeo, "rcvtimeo", SO_RCVTIMEO},
        {net_sock_sndtimeo, "sndtimeo", SO_SNDTIMEO},
    };
    for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++) {
        double (*fn)(int, double) = timeouts[i].fn;
        struct timeval tv = {-1, -1};
        socklen_t len = sizeof tv;
        int fd = net_sock_open(AF_INET, SOCK_STREAM, 0, 0);
        SETUP(fd);
        fprintf(stderr, "# %s\n", timeouts[i].name);
        CHECK_DBL(0.0, fn(fd, -1)); /* none */
        CHECK_DBL(1.5, fn(fd, 1.5));
        CHECK_EQ(0, getsockopt(fd, SOL_SOCKET, timeouts[i].optname, &tv, &len));
        CHECK_EQ(1, tv.tv_sec);
        CHECK_EQ(500000, tv.tv_usec);
        CHECK_DBL(1.5, fn(fd, -1));
        /* A fraction that rounds up to a whole second carries into it */
        CHECK_DBL(1.0, fn(fd, 0.9999999));
        CHECK_DBL(3.0, fn(fd, 2.9999999));
        /* A positive timeout, however short, never becomes "none". */
        double tiny = fn(fd, 1e-7);
        CHECK_(tiny > 0 && tiny < 0.1, "%s: 1e-7 s read back as %g", timeouts[i].name,
               tiny);
        CHECK_DBL(1.5, fn(fd, 1.5));
        CHECK_DBL(-EINVAL, fn(fd, NAN));
        CHECK_DBL(-EINVAL, fn(fd, 1e18));
        CHECK_DBL(1.5, fn(fd, -1)); /* the failures changed nothing */
        CHECK_DBL(0.0, fn(fd, 0));
        CHECK_DBL(0.0, fn(fd, -1));
        net_sock_close(fd);
        CHECK_DBL(-EBADF, fn(fd, -1));
        CHECK_DBL(-EBADF, fn(fd, 2.0));
    }
}

/* A receive timeout makes a blocking recv give up with EAGAIN. */
static void test_timeout_effect(void)
{
    int fds[2];
    char c;
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, 0, fds));
    CHECK(net_sock_rcvtimeo(fds[1], 0.05) > 0);
    CHECK_EQ(-EAGAIN, net_sock_recv(fds[1], &c, 1, 0));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}

static void test_linger(void)
{
    int fd = net_sock_open(AF_INET, SOCK_STREAM, 0, 0);
    net_linger_t out = {-1, -1};
    CHECK_EQ(0, net_sock_linger(fd, NULL, &out));
    CHECK_EQ(0, out.on);
    CHECK_EQ(0, net_sock_linger(fd, &(net_linger_t){1, 7}, &out));
    CHECK_EQ(1, out.on);
    CHECK_EQ(7, out.seconds);
    struct linger l;
    socklen_t len = sizeof l;
    getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &len);
    CHECK_EQ(1, l.l_onoff);
    CHECK_EQ(7, l.l_linger);
    CHECK_EQ(0, net_sock_linger(fd, &(net_linger_t){0, 0}, &out));
    CHECK_EQ(0, out.on);
    CHECK_EQ(-EINVAL, net_sock_linger(fd, &(net_linger_t){1, -1}, &out));
    CHECK_EQ(0, net_sock_linger(fd, NULL, NULL));
    net_sock_close(fd);
    CHECK_EQ(-EBADF, net_sock_linger(fd, NULL, &out));
}

int main(void)
{
    const int fds_at_start = fd_count();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        test_read_back(&cases[i]);
    test_bad_values();
    test_debug();
    test_timeouts();
    test_timeout_effect();
    test_linger();
    CHECK_EQ(fds_at_start, fd_count()); /* nothing leaked */
    return check_done("options");
}
