/* io_test.c — send, recv, sendto, recvfrom: flags (peek, dontwait, waitall,
 * oob), the sender's address, EPIPE without SIGPIPE. */
#define _GNU_SOURCE 1
#include <poll.h>
#include <signal.h>

#include "check.h"
#include "util.h"

static void test_flags(void)
{
    int fds[2];
    char buf[16];
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, 0, fds));

    /* Nothing to read: MSG_DONTWAIT answers at once on a blocking socket. */
    CHECK_EQ(-EAGAIN, net_sock_recv(fds[1], buf, sizeof buf, MSG_DONTWAIT));
    CHECK_EQ(-EAGAIN, net_sock_recvfrom(fds[1], buf, sizeof buf, MSG_DONTWAIT, NULL));

    /* MSG_PEEK leaves the bytes in place. */
    CHECK_EQ(5, net_sock_send(fds[0], "hello", 5, 0));
    CHECK_EQ(5, net_sock_recv(fds[1], buf, sizeof buf, MSG_PEEK));
    CHECK_EQ(5, net_sock_recv(fds[1], buf, sizeof buf, 0));
    CHECK(memcmp(buf, "hello", 5) == 0);

    /* MSG_WAITALL gathers two writes into one read. */
    CHECK_EQ(3, net_sock_send(fds[0], "abc", 3, 0));
    CHECK_EQ(3, net_sock_send(fds[0], "def", 3, 0));
    CHECK_EQ(6, net_sock_recv(fds[1], buf, 6, MSG_WAITALL));
    CHECK(memcmp(buf, "abcdef", 6) == 0);

    /* The peer is gone: EPIPE is returned and SIGPIPE, left at its default
     * action (which would end this process), is never raised. */
    signal(SIGPIPE, SIG_DFL);
    net_sock_close(fds[1]);
    CHECK_EQ(-EPIPE, net_sock_send(fds[0], "x", 1, 0));
    CHECK_EQ(-EPIPE, net_sock_sendto(fds[0], "x", 1, 0, NULL));
    CHECK_EQ(0, net_sock_recv(fds[0], buf, sizeof buf, 0)); /* end of stream */
    net_sock_close(fds[0]);
    CHECK_EQ(-EBADF, net_sock_send(fds[0], "x", 1, 0));
    CHECK_EQ(-EBADF, net_sock_recv(fds[0], buf, sizeof buf, 0));
}

static void test_oob(void)
{
    int fds[2];
    char c;
    int lfd = tcp_trio("127.0.0.1", fds);
    CHECK_EQ(1, net_sock_send(fds[0], "a", 1, 0));
    CHECK_EQ(1, net_sock_send(fds[0], "!", 1, MSG_OOB));
    /* Wait until the urgent byte has arrived. */
    CHECK(net_poll_fd(fds[1], POLLPRI, 5) & POLLPRI);
    CHECK_EQ(0, net_sock_atmark(fds[1]));
    CHECK_EQ(1, net_sock_recv(fds[1], &c, 1, 0));
    CHECK_EQ('a', c);
    CHECK_EQ(1, net_sock_atmark(fds[1]));
    CHECK_EQ(1, net_sock_recv(fds[1], &c, 1, MSG_OOB));
    CHECK_EQ('!', c);
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
    net_sock_close(lfd);
    CHECK_EQ(-EBADF, net_sock_atmark(lfd));
}

static void test_datagrams(const char *host)
{
    net_addr_t any, a_addr, b_addr, from;
    char buf[32], text[NET_HOST_MAX];
    SETUP(net_addr_inet(&any, host, 0));
    int a = net_sock_open(any.family, SOCK_DGRAM, 0, 0);
    int b = net_sock_open(any.family, SOCK_DGRAM, 0, 0);
    SETUP(net_sock_bind(a, &any));
    SETUP(net_sock_bind(b, &any));
    SETUP(net_sock_getsockname(a, &a_addr));
    SETUP(net_sock_getsockname(b, &b_addr));

    CHECK_EQ(4, net_sock_sendto(a, "ping", 4, 0, &b_addr));
    CHECK_EQ(4, net_sock_recvfrom(b, buf, sizeof buf, 0, &from));
    CHECK(memcmp(buf, "ping", 4) == 0);
    CHECK(addr_same(&a_addr, &from)); /* the sender: host and port */
    CHECK(net_addr_host(&from, text, sizeof text) > 0);
    CHECK_STR(host, text);

    /* A datagram larger than the buffer is cut; the rest is lost. */
    CHECK_EQ(10, net_sock_sendto(a, "0123456789", 10, 0, &b_addr));
    CHECK_EQ(3, net_sock_recvfrom(b, buf, 3, 0, NULL));
    CHECK_EQ(-EAGAIN, net_sock_recvfrom(b, buf, sizeof buf, MSG_DONTWAIT, NULL));

    /* No destination on an unconnected datagram socket. */
    CHECK_EQ(-EDESTADDRREQ, net_sock_sendto(a, "x", 1, 0, NULL));
    net_addr_t broken = b_addr;
    broken.len = 0;
    CHECK_EQ(-EINVAL, net_sock_sendto(a, "x", 1, 0, &broken));
    net_sock_close(a);
    net_sock_close(b);
    CHECK_EQ(-EBADF, net_sock_recvfrom(a, buf, sizeof buf, 0, &from));
}

int main(void)
{
    const int fds_at_start = fd_count();
    test_flags();
    test_oob();
    test_datagrams("127.0.0.1");
    test_datagrams("::1");
    CHECK_EQ(fds_at_start, fd_count()); /* nothing leaked */
    return check_done("io");
}
