/* dgram_test.c — datagrams with their full length (net_sock_recvdgram),
 * dissolving a peer, and the multicast options read back, over 127.0.0.1,
 * ::1 and a unix pair. */
#define _GNU_SOURCE 1
#include "check.h"
#include "util.h"

/* A datagram socket bound to host, any port; its address into *addr. */
static int udp_bound(const char *host, net_addr_t *addr)
{
    net_addr_t any;
    SETUP(net_addr_inet(&any, host, 0));
    int fd = net_sock_open(any.family, SOCK_DGRAM, 0, NET_CLOEXEC);
    SETUP(fd);
    SETUP(net_sock_bind(fd, &any));
    SETUP(net_sock_getsockname(fd, addr));
    return fd;
}

static void test_recvdgram(const char *host)
{
    static char big[65000], in[65536];
    net_addr_t a_addr, b_addr, from;
    int64_t full = -7;
    int a = udp_bound(host, &a_addr), b = udp_bound(host, &b_addr);
    size_t i;
    for (i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7 + 3);

    /* whole, with the sender */
    CHECK_EQ(65000, net_sock_sendto(b, big, sizeof big, 0, &a_addr));
    CHECK_EQ(65000, net_sock_recvdgram(a, in, sizeof in, 0, &from, &full));
    CHECK_EQ(65000, full);
    CHECK(memcmp(big, in, sizeof big) == 0);
    CHECK(addr_same(&b_addr, &from));
    /* 0 bytes is a datagram */
    CHECK_EQ(0, net_sock_sendto(b, "", 0, 0, &a_addr));
    CHECK_EQ(0, net_sock_recvdgram(a, in, sizeof in, 0, NULL, &full));
    CHECK_EQ(0, full);
    /* cut: the count is the room, full the datagram's length */
    CHECK_EQ(1000, net_sock_sendto(b, big, 1000, 0, &a_addr));
    CHECK_EQ(10, net_sock_recvdgram(a, in, 10, 0, NULL, &full));
    CHECK_EQ(1000, full);
    CHECK(memcmp(big, in, 10) == 0);
    /* MSG_TRUNC is the function's own */
    CHECK_EQ(-EOPNOTSUPP, net_sock_recvdgram(a, in, 10, MSG_TRUNC, NULL, NULL));
    CHECK_EQ(-EAGAIN, net_sock_recvdgram(a, in, 10, MSG_DONTWAIT, NULL, NULL));

    /* connect, then dissolve: the port stays */
    CHECK_EQ(0, net_sock_connect(b, &a_addr));
    CHECK_EQ(3, net_sock_send(b, "abc", 3, 0));
    CHECK_EQ(3, net_sock_recvdgram(a, in, sizeof in, 0, NULL, NULL));
    CHECK_EQ(0, net_sock_disconnect(b));
    CHECK_EQ(-EDESTADDRREQ, net_sock_send(b, "x", 1, 0));
    CHECK_EQ(0, net_sock_disconnect(a)); /* never connected: still fine */
    net_addr_t after;
    CHECK_EQ(0, net_sock_getsockname(a, &after));
    CHECK(addr_same(&a_addr, &after));
    CHECK_EQ(2, net_sock_sendto(b, "hi", 2, 0, &a_addr));
    CHECK_EQ(2, net_sock_recvdgram(a, in, sizeof in, 0, NULL, NULL));

    net_sock_close(a);
    net_sock_close(b);
}

static void test_unnamed_sender(void)
{
    int fds[2];
    char in[8];
    net_addr_t from;
    SETUP(net_sock_pair(AF_UNIX, SOCK_DGRAM, 0, NET_CLOEXEC, fds));
    CHECK_EQ(2, net_sock_send(fds[0], "hi", 2, 0));
    CHECK_EQ(2, net_sock_recvdgram(fds[1], in, sizeof in, 0, &from, NULL));
    CHECK_EQ(AF_UNIX, from.family);
    CHECK_EQ(0, net_addr_path(&from, in, sizeof in));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}

static void test_mcast_options(const char *host)
{
    net_addr_t addr;
    char name[64];
    int fd = udp_bound(host, &addr);
    CHECK_EQ(0, net_sock_mcastloop(fd, 0));
    CHECK_EQ(0, net_sock_mcastloop(fd, -1));
    CHECK_EQ(1, net_sock_mcastloop(fd, 1));
    CHECK_EQ(9, net_sock_mcastttl(fd, 9));
    CHECK_EQ(9, net_sock_mcastttl(fd, -1));
    CHECK_EQ(-EINVAL, net_sock_mcastttl(fd, 256));
    CHECK_EQ(2, net_sock_mcastif(fd, "lo", name, sizeof name));
    CHECK_STR("lo", name);
    CHECK_EQ(2, net_sock_mcastif(fd, NULL, name, sizeof name));
    CHECK_EQ(0, net_sock_mcastif(fd, "", name, sizeof name));
    CHECK_STR("", name);
    CHECK_EQ(-ENODEV, net_sock_mcastif(fd, "no-such-if0", name, sizeof name));
    CHECK_EQ(-EINVAL, net_sock_mcastgroup(fd, NET_MCAST_JOIN, "not an address", NULL, NULL));
    CHECK_EQ(-EINVAL, net_sock_mcastgroup(fd, 99, "239.1.1.1", NULL, NULL));
    CHECK_EQ(-EINVAL, net_sock_mcastgroup(fd, NET_MCAST_JOINSRC, addr.family == AF_INET
                                          ? "232.1.1.1" : "ff35::1", NULL, NULL));
    net_sock_close(fd);

    int fds[2];
    SETUP(net_sock_pair(AF_UNIX, SOCK_DGRAM, 0, NET_CLOEXEC, fds));
    CHECK_EQ(-EAFNOSUPPORT, net_sock_mcastttl(fds[0], -1));
    CHECK_EQ(-EAFNOSUPPORT, net_sock_mcastif(fds[0], NULL, name, sizeof name));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}

/* Whether host can be bound here (::1 may be missing in a container). */
static int have(const char *host)
{
    net_addr_t a;
    int fd, ok;
    SETUP(net_addr_inet(&a, host, 0));
    fd = net_sock_open(a.family, SOCK_DGRAM, 0, NET_CLOEXEC);
    ok = fd >= 0 && net_sock_bind(fd, &a) == 0;
    if (fd >= 0)
        net_sock_close(fd);
    if (!ok)
        printf("dgram: %s not usable here: skipped\n", host);
    return ok;
}

int main(void)
{
    const int fds_at_start = fd_count();
    test_recvdgram("127.0.0.1");
    test_mcast_options("127.0.0.1");
    if (have("::1")) {
        test_recvdgram("::1");
        test_mcast_options("::1");
    }
    test_unnamed_sender();
    CHECK_EQ(fds_at_start, fd_count());
    return check_done("dgram");
}
