/* fault_test.c — libnet when a call that seldom fails does, made to fail
 * once by fault_shim.c (linked in): a datagram socket's dissolve whose
 * getsockname fails keeps its port or changes nothing; a datagram received
 * before a failed SO_TYPE read is kept, not lost; a poll-set ADD that clears
 * a stale kernel entry reports the ADD's own failure. */
#define _GNU_SOURCE 1
#include "check.h"
#include "util.h"

#include <poll.h>

/* The n-th call of fn from now on fails with err (fault_shim.c). */
static void fault(const char *fn, int n, int err)
{
    char spec[64];
    snprintf(spec, sizeof spec, "NET_FAULT %s %d %d", fn, n, err);
    if (getenv(spec) == NULL) {
        fprintf(stderr, "fault_shim.c is not linked in\n");
        exit(2);
    }
}

static int fault_fired(void)
{
    return strcmp(getenv("NET_FAULT_FIRED"), "1") == 0;
}

/* A UDP socket bound to 127.0.0.1 with a port the kernel chose (which
 * dissolving a connection gives up unless libnet binds it again),
 * connected to peer; its port. */
static int udp_connected(const net_addr_t *peer, int *port)
{
    net_addr_t any, name;
    SETUP(net_addr_inet(&any, "127.0.0.1", 0));
    int fd = net_sock_open(AF_INET, SOCK_DGRAM, 0, NET_CLOEXEC);
    SETUP(fd);
    SETUP(net_sock_bind(fd, &any));
    SETUP(net_sock_connect(fd, peer));
    SETUP(net_sock_getsockname(fd, &name));
    *port = net_addr_port(&name);
    return fd;
}

static void test_disconnect(void)
{
    net_addr_t peer_addr, name;
    int port;
    SETUP(net_addr_inet(&peer_addr, "127.0.0.1", 0));
    int peer = net_sock_open(AF_INET, SOCK_DGRAM, 0, NET_CLOEXEC);
    SETUP(peer);
    SETUP(net_sock_bind(peer, &peer_addr));
    SETUP(net_sock_getsockname(peer, &peer_addr));

    /* the name read first fails: the call fails, nothing changed */
    int fd = udp_connected(&peer_addr, &port);
    fault("getsockname", 1, ENOBUFS);
    CHECK_EQ(-ENOBUFS, net_sock_disconnect(fd));
    CHECK(fault_fired());
    CHECK_EQ(0, net_sock_getpeername(fd, &name)); /* still connected */
    CHECK_EQ(0, net_sock_getsockname(fd, &name));
    CHECK_EQ(port, net_addr_port(&name));
    net_sock_close(fd);

    /* the name read after dissolving fails: the port is kept anyway
     * (it was lost, reported as success) */
    fd = udp_connected(&peer_addr, &port);
    fault("getsockname", 2, EACCES);
    CHECK_EQ(0, net_sock_disconnect(fd));
    CHECK(fault_fired());
    CHECK_EQ(-ENOTCONN, net_sock_getpeername(fd, &name));
    CHECK_EQ(0, net_sock_getsockname(fd, &name));
    CHECK_EQ(port, net_addr_port(&name));
    net_sock_close(fd);
    net_sock_close(peer);
}

static void test_type_unreadable(void)
{
    int fds[2];
    char buf[16];
    net_addr_t from;
    int64_t full;
    SETUP(net_sock_pair(AF_UNIX, SOCK_DGRAM, 0, NET_CLOEXEC, fds));
    SETUP(net_sock_send(fds[1], "one", 3, 0));
    SETUP(net_sock_send(fds[1], "two", 3, 0));
    SETUP(net_sock_send(fds[1], "three", 5, 0));

    /* an unnamed sender (no name: maybe a stream) asks SO_TYPE, refused:
     * the datagram was a unix socket's, kept (it was lost) */
    fault("getsockopt", 1, EACCES);
    CHECK_EQ(3, net_sock_recvdgram(fds[0], buf, sizeof buf, 0, &from, &full));
    CHECK(fault_fired());
    CHECK(memcmp(buf, "one", 3) == 0);

    char a[8], b[8];
    net_msg_t msgs[2] = {{a, sizeof a, 0, 0, {0}}, {b, sizeof b, 0, 0, {0}}};
    fault("getsockopt", 1, EACCES);
    CHECK_EQ(2, net_sock_recvmany(fds[0], msgs, 2, MSG_DONTWAIT));
    CHECK(fault_fired());
    CHECK_EQ(3, msgs[0].len);
    CHECK(memcmp(a, "two", 3) == 0);
    CHECK_EQ(5, msgs[1].len);
    CHECK(memcmp(b, "three", 5) == 0);
    fault("getsockopt", 0, 0);
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);

    /* on TCP (where MSG_TRUNC discards) the failure stands: no count of
     * bytes the kernel never wrote */
    int lfd = tcp_trio("127.0.0.1", fds);
    SETUP(net_sock_send(fds[1], "x", 1, 0));
    SETUP(net_poll_fd(fds[0], POLLIN, 2));
    fault("getsockopt", 1, EACCES);
    CHECK_EQ(-EACCES, net_sock_recvdgram(fds[0], buf, sizeof buf, 0, &from, &full));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
    net_sock_close(lfd);
}

/* epoll only: the poll(2) backend keeps no kernel entry to go stale */
#if defined(__linux__) && !defined(NET_POLLSET_FORCE_POLL)
static void test_stale_readd(void)
{
    int fds[2];
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC, fds));
    int pfd = net_poll_create(NET_CLOEXEC);
    SETUP(pfd);
    int keep = dup(fds[0]);
    SETUP(keep);
    SETUP(net_poll_ctl(pfd, NET_POLL_ADD, fds[0], POLLIN, 1));
    /* closed before its DEL while a dup keeps the file: the kernel's entry
     * stays (libnet's goes with the DEL); the same file back under the
     * number */
    close(fds[0]);
    SETUP(net_poll_ctl(pfd, NET_POLL_DEL, fds[0], 0, 0));
    SETUP(dup2(keep, fds[0]));
    /* ADD (EEXIST, the stale entry), DEL, ADD again: that one fails */
    fault("epoll_ctl", 3, ENOSPC);
    CHECK_EQ(-ENOSPC, net_poll_ctl(pfd, NET_POLL_ADD, fds[0], POLLIN, 2));
    CHECK(fault_fired());
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_ADD, fds[0], POLLIN, 3)); /* not registered */
    net_poll_close(pfd);
    close(keep);
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}
#endif

int main(void)
{
    const int fds_at_start = fd_count();
    test_disconnect();
    test_type_unreadable();
#if defined(__linux__) && !defined(NET_POLLSET_FORCE_POLL)
    test_stale_readd();
#endif
    CHECK_EQ(fds_at_start, fd_count());
    return check_done("fault");
}
