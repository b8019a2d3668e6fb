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

enum kind { BOOL, INT };

static const struct option_case {
    const char *name;
    int_option_fn fn;
    int level, optname;
    enum kind kind;
    int value; /* set this, expect it back (INT: at least it) */
    int family; /* the socket to try it on: AF_INET or AF_INET6 (TCP) */
} cases[] = {
    {"reuseport", net_sock_reuseport, SOL_SOCKET, SO_REUSEPORT, BOOL, 1, AF_INET},
    {"reuseaddr", net_sock_reuseaddr, SOL_SOCKET, SO_REUSEADDR, BOOL, 1, AF_INET},
    {"dontroute", net_sock_dontroute, SOL_SOCKET, SO_DONTROUTE, BOOL, 1, AF_INET},
    {"timestamp", net_sock_timestamp, SOL_SOCKET, SO_TIMESTAMP, BOOL, 1, AF_INET},
    {"broadcast", net_sock_broadcast, SOL_SOCKET, SO_BROADCAST, BOOL, 1, AF_INET},
    {"oobinline", net_sock_oobinline, SOL_SOCKET, SO_OOBINLINE, BOOL, 1, AF_INET},
    {"keepalive", net_sock_keepalive, SOL_SOCKET, SO_KEEPALIVE, BOOL, 1, AF_INET},
    {"ipv6only", net_sock_ipv6only, IPPROTO_IPV6, IPV6_V6ONLY, BOOL, 1, AF_INET6},
    {"tcpnodelay", net_sock_tcpnodelay, IPPROTO_TCP, TCP_NODELAY, BOOL, 1, AF_INET},
    {"tcpcork", net_sock_tcpcork, IPPROTO_TCP, TCP_CORK, BOOL, 1, AF_INET},
    {"rcvbuf", net_sock_rcvbuf, SOL_SOCKET, SO_RCVBUF, INT, 65536, AF_INET},
    {"sndbuf", net_sock_sndbuf, SOL_SOCKET, SO_SNDBUF, INT, 65536, AF_INET},
    {"rcvlowat", net_sock_rcvlowat, SOL_SOCKET, SO_RCVLOWAT, INT, 10, AF_INET},
    {"tcpkeepalive", net_sock_tcpkeepalive, IPPROTO_TCP, TCP_KEEPIDLE, INT, 30, AF_INET},
    {"tcpkeepintvl", net_sock_tcpkeepintvl, IPPROTO_TCP, TCP_KEEPINTVL, INT, 5, AF_INET},
    {"tcpkeepcnt", net_sock_tcpkeepcnt, IPPROTO_TCP, TCP_KEEPCNT, INT, 4, AF_INET},
    /* SO_DEBUG needs CAP_NET_ADMIN to set: see test_debug. */
};

static void test_read_back(const struct option_case *c)
{
    int fd = net_sock_open(c->family, SOCK_STREAM, 0, 0);
    fprintf(stderr, "# %s\n", c->name);
    int before = c->fn(fd, -1);
    CHECK(before >= 0);
    int raw = raw_int(fd, c->level, c->optname);
    CHECK_EQ(c->kind == BOOL ? (raw != 0) : raw, before);
    int after = c->fn(fd, c->value);
    CHECK_EQ(raw_int(fd, c->level, c->optname), after);
    if (c->kind == BOOL) {
        CHECK_EQ(1, after);
        CHECK_EQ(1, c->fn(fd, 7)); /* any non-zero means on; reads back 1 */
        CHECK_EQ(0, c->fn(fd, 0));
        CHECK_EQ(0, raw_int(fd, c->level, c->optname));
    } else {
        /* Linux doubles buffer sizes for its bookkeeping. */
        CHECK(after >= c->value);
        CHECK_EQ(after, c->fn(fd, -1));
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

static void test_timeouts(void)
{
    static double (*const fns[])(int, double) = {net_sock_rcvtimeo, net_sock_sndtimeo};
    static const int names[] = {SO_RCVTIMEO, SO_SNDTIMEO};
    for (int i = 0; i < 2; i++) {
        int fd = net_sock_open(AF_INET, SOCK_STREAM, 0, 0);
        struct timeval tv;
        socklen_t len = sizeof tv;
        CHECK(fns[i](fd, -1) == 0.0);
        CHECK(fns[i](fd, 1.5) == 1.5);
        getsockopt(fd, SOL_SOCKET, names[i], &tv, &len);
        CHECK_EQ(1, tv.tv_sec);
        CHECK_EQ(500000, tv.tv_usec);
        CHECK(fns[i](fd, -1) == 1.5);
        CHECK(fns[i](fd, 0) == 0.0);
        CHECK(fns[i](fd, NAN) == -EINVAL);
        CHECK(fns[i](fd, 1e18) == -EINVAL);
        net_sock_close(fd);
        CHECK(fns[i](fd, -1) == -EBADF);
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
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        test_read_back(&cases[i]);
    test_bad_values();
    test_debug();
    test_timeouts();
    test_timeout_effect();
    test_linger();
    return check_done("options");
}
