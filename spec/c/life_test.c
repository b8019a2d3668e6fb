/* life_test.c — open, pair, bind, listen, accept, connect, shutdown, close,
 * over socketpair, TCP on 127.0.0.1 and ::1, and unix paths in a temporary
 * folder. */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"
#include "interpose.h"
#include "util.h"

static int fd_has(int fd, int get, int bit) { return (fcntl(fd, get) & bit) != 0; }

static void test_open_and_close(void)
{
    int fd = net_sock_open(AF_INET, SOCK_STREAM, 0, NET_NONBLOCK | NET_CLOEXEC);
    CHECK(fd >= 0);
    CHECK(fd_has(fd, F_GETFL, O_NONBLOCK));
    CHECK(fd_has(fd, F_GETFD, FD_CLOEXEC));
    CHECK_EQ(0, net_sock_close(fd));
    CHECK_EQ(-EBADF, net_sock_close(fd));

    fd = net_sock_open(AF_INET, SOCK_STREAM, 0, 0);
    SETUP(fd);
    CHECK(!fd_has(fd, F_GETFL, O_NONBLOCK));
    CHECK(!fd_has(fd, F_GETFD, FD_CLOEXEC));
    net_sock_close(fd);

    CHECK_EQ(-EINVAL, net_sock_open(AF_INET, SOCK_STREAM, 0, 64));
    CHECK_EQ(-EAFNOSUPPORT, net_sock_open(12345, SOCK_STREAM, 0, 0));
}

static void test_pair(void)
{
    int fds[2] = {-1, -1};
    CHECK_EQ(0, net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC, fds));
    CHECK(fds[0] >= 0 && fds[1] >= 0 && fds[0] != fds[1]);
    CHECK(fd_has(fds[1], F_GETFD, FD_CLOEXEC));
    CHECK_EQ(3, net_sock_send(fds[0], "abc", 3, 0));
    char buf[4];
    CHECK_EQ(3, net_sock_recv(fds[1], buf, sizeof buf, 0));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);

    CHECK_EQ(-EOPNOTSUPP, net_sock_pair(AF_INET, SOCK_STREAM, 0, 0, fds));
    CHECK_EQ(-EINVAL, net_sock_pair(AF_UNIX, SOCK_STREAM, 0, 64, fds));
    CHECK_EQ(-EINVAL, net_sock_pair(AF_UNIX, SOCK_STREAM, 0, 0, NULL));
}

/* bind, listen, connect, accept over one inet host. */
static void test_tcp(const char *host)
{
    net_addr_t addr, peer, client_name;
    int lfd = tcp_listener(host, &addr);
    CHECK(net_addr_port(&addr) > 0);

    /* A second bind to the same port fails. */
    int other = net_sock_open(addr.family, SOCK_STREAM, 0, 0);
    CHECK_EQ(-EADDRINUSE, net_sock_bind(other, &addr));
    net_sock_close(other);

    int c = net_sock_open(addr.family, SOCK_STREAM, 0, NET_CLOEXEC);
    CHECK_EQ(0, net_sock_connect(c, &addr));
    int s = net_sock_accept(lfd, NET_NONBLOCK | NET_CLOEXEC, &peer);
    CHECK(s >= 0);
    CHECK(fd_has(s, F_GETFL, O_NONBLOCK));
    CHECK(fd_has(s, F_GETFD, FD_CLOEXEC));
    CHECK_EQ(0, net_sock_getsockname(c, &client_name));
    CHECK(addr_same(&client_name, &peer)); /* host and port */
    char text[NET_HOST_MAX];
    CHECK(net_addr_host(&peer, text, sizeof text) > 0);
    CHECK_STR(host, text);

    /* Nothing waiting on a non-blocking listener. */
    CHECK_EQ(1, net_sock_nonblock(lfd, 1));
    CHECK_EQ(-EAGAIN, net_sock_accept(lfd, 0, NULL));
    CHECK_EQ(-EINVAL, net_sock_accept(lfd, 64, NULL));

    /* shutdown: the peer reads end-of-stream; a bad `how` is refused. */
    CHECK_EQ(0, net_sock_shutdown(c, SHUT_WR));
    char buf[8];
    CHECK_EQ(0, net_sock_recv(s, buf, sizeof buf, 0));
    CHECK_EQ(-EINVAL, net_sock_shutdown(c, 99));
    net_sock_close(s);
    net_sock_close(c);

    /* Refused: the port of a listener that is gone. */
    net_sock_close(lfd);
    c = net_sock_open(addr.family, SOCK_STREAM, 0, 0);
    CHECK_EQ(-ECONNREFUSED, net_sock_connect(c, &addr));
    net_sock_close(c);

    /* The same refusal reported through a non-blocking connect. */
    c = net_sock_open(addr.family, SOCK_STREAM, 0, NET_NONBLOCK);
    int rc = net_sock_connect(c, &addr);
    CHECK(rc == -EINPROGRESS || rc == -ECONNREFUSED);
    if (rc == -EINPROGRESS) {
        CHECK(net_poll_fd(c, POLLOUT, 5) > 0);
        CHECK_EQ(ECONNREFUSED, net_sock_error(c));
        CHECK_EQ(0, net_sock_error(c)); /* reading it cleared it */
    }
    net_sock_close(c);
}

static void test_nonblocking_connect(void)
{
    net_addr_t addr;
    int lfd = tcp_listener("127.0.0.1", &addr);
    int c = net_sock_open(AF_INET, SOCK_STREAM, 0, NET_NONBLOCK);
    int rc = net_sock_connect(c, &addr);
    CHECK(rc == 0 || rc == -EINPROGRESS);
    CHECK(net_poll_fd(c, POLLOUT, 5) & POLLOUT);
    CHECK_EQ(0, net_sock_error(c));
    int s = net_sock_accept(lfd, 0, NULL);
    CHECK(s >= 0);
    net_sock_close(s);
    net_sock_close(c);
    net_sock_close(lfd);
}

/* listen(2) as libnet calls it (this program's definition comes first):
 * the backlog of the last call is kept, then the real listen runs. */
static int listen_backlog_seen = -2;

int listen(int fd, int backlog)
{
    listen_backlog_seen = backlog;
    return REAL(listen)(fd, backlog);
}

/* net_sock_listen(fd, -1) is SOMAXCONN (net.h): that is the backlog libnet
 * asks of listen(2) (Linux would read a negative one as its own maximum,
 * other systems need not). And it works: three non-blocking connects to
 * such a listener all complete before any accept, and all three are then
 * waiting in its queue. (A backlog of 0 would hold one on Linux and drop
 * the other SYNs: those clients would still be connecting.) */
static void test_listen_default_backlog(void)
{
    net_addr_t addr;
    int c[3];
    int lfd = tcp_listener("127.0.0.1", &addr);
    CHECK_EQ(0, net_sock_listen(lfd, -1));
    CHECK_EQ(SOMAXCONN, listen_backlog_seen);
    CHECK_EQ(0, net_sock_listen(lfd, 5)); /* a backlog given goes as it is */
    CHECK_EQ(5, listen_backlog_seen);
    CHECK_EQ(0, net_sock_listen(lfd, -1));
    for (int i = 0; i < 3; i++) {
        c[i] = net_sock_open(AF_INET, SOCK_STREAM, 0, NET_NONBLOCK | NET_CLOEXEC);
        SETUP(c[i]);
        int rc = net_sock_connect(c[i], &addr);
        CHECK(rc == 0 || rc == -EINPROGRESS);
    }
    for (int i = 0; i < 3; i++) {
        CHECK_(net_poll_fd(c[i], POLLOUT, 0.5) & POLLOUT,
               "connect %d to a listen(-1) listener still under way", i);
        CHECK_EQ(0, net_sock_error(c[i]));
    }
    SETUP(net_sock_nonblock(lfd, 1));
    int queued = 0, s;
    while ((s = net_sock_accept(lfd, NET_CLOEXEC, NULL)) >= 0) {
        queued++;
        net_sock_close(s);
    }
    CHECK_EQ(-EAGAIN, s);
    CHECK_EQ(3, queued);
    for (int i = 0; i < 3; i++)
        net_sock_close(c[i]);
    net_sock_close(lfd);
}

static void test_failures_on_closed_fd(void)
{
    net_addr_t addr;
    int fd = net_sock_open(AF_INET, SOCK_STREAM, 0, 0);
    net_sock_close(fd);
    SETUP(net_addr_inet(&addr, "127.0.0.1", 0));
    CHECK_EQ(-EBADF, net_sock_bind(fd, &addr));
    CHECK_EQ(-EBADF, net_sock_listen(fd, 1));
    CHECK_EQ(-EBADF, net_sock_accept(fd, 0, NULL));
    CHECK_EQ(-EBADF, net_sock_connect(fd, &addr));
    CHECK_EQ(-EBADF, net_sock_shutdown(fd, SHUT_RDWR));
    /* An address whose family does not match its sockaddr is refused. */
    net_addr_t bad = addr;
    bad.family = AF_INET6;
    CHECK_EQ(-EINVAL, net_sock_bind(fd, &bad));
    CHECK_EQ(-EINVAL, net_sock_connect(fd, NULL));
}

static void test_unix(void)
{
    char dir[32], path[64], buf[8];
    net_addr_t addr, name;
    temp_dir_make(dir);
    snprintf(path, sizeof path, "%s/s", dir);
    SETUP(net_addr_unix(&addr, path, strlen(path)));
    int lfd = net_sock_open(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC);
    CHECK_EQ(0, net_sock_bind(lfd, &addr));
    CHECK_EQ(0, net_sock_listen(lfd, 4));
    int c = net_sock_open(AF_UNIX, SOCK_STREAM, 0, 0);
    CHECK_EQ(0, net_sock_connect(c, &addr));
    CHECK_EQ(0, net_sock_getpeername(c, &name));
    CHECK(addr_same(&addr, &name));
    int s = net_sock_accept(lfd, NET_NONBLOCK, &name);
    CHECK(s >= 0);
    CHECK(fd_has(s, F_GETFL, O_NONBLOCK));
    CHECK_EQ(AF_UNIX, name.family);
    CHECK_EQ(0, net_addr_path(&name, buf, sizeof buf)); /* the client is unnamed */
    CHECK_EQ(2, net_sock_send(c, "hi", 2, 0));
    CHECK_EQ(2, net_sock_recv(s, buf, sizeof buf, 0));
    CHECK(memcmp(buf, "hi", 2) == 0);
    net_sock_close(s);
    net_sock_close(c);
    net_sock_close(lfd);

    /* The path stays until removed: a second bind is refused, and nobody
     * accepts there any more. */
    lfd = net_sock_open(AF_UNIX, SOCK_STREAM, 0, 0);
    CHECK_EQ(-EADDRINUSE, net_sock_bind(lfd, &addr));
    net_sock_close(lfd);
    c = net_sock_open(AF_UNIX, SOCK_STREAM, 0, 0);
    CHECK_EQ(-ECONNREFUSED, net_sock_connect(c, &addr));
    net_sock_close(c);
    /* Once removed, there is no such file. */
    CHECK_EQ(0, unlink(path));
    c = net_sock_open(AF_UNIX, SOCK_STREAM, 0, 0);
    CHECK_EQ(-ENOENT, net_sock_connect(c, &addr));
    net_sock_close(c);
    CHECK_EQ(0, temp_dir_remove(dir, NULL));
}

/* listen and accept on sockets that cannot do them. */
static void test_wrong_kind(void)
{
    int u = net_sock_open(AF_INET, SOCK_DGRAM, 0, 0);
    CHECK_EQ(-EOPNOTSUPP, net_sock_listen(u, 1));
    CHECK_EQ(-EOPNOTSUPP, net_sock_accept(u, 0, NULL));
    net_sock_close(u);
    int t = net_sock_open(AF_INET, SOCK_STREAM, 0, 0);
    CHECK_EQ(-EINVAL, net_sock_accept(t, 0, NULL)); /* not listening */
    CHECK_EQ(-ENOTCONN, net_sock_shutdown(t, SHUT_WR));
    net_sock_close(t);
}

/* Each `how` on end a of a unix stream pair, seen from both ends: what a
 * and b can still send (1 byte, or -EPIPE: the kernel tells a unix peer
 * about SHUT_RD too) and what they then read without waiting (the byte, 0
 * for end of stream). SIGPIPE stays at its default: a raise would kill us. */
static void test_shutdown_each_way(void)
{
    static const struct {
        const char *name;
        int how;
        int a_sends, b_reads, b_sends, a_reads;
    } ways[] = {
        {"SHUT_RD", SHUT_RD, 1, 1, -EPIPE, 0},
        {"SHUT_WR", SHUT_WR, -EPIPE, 0, 1, 1},
        {"SHUT_RDWR", SHUT_RDWR, -EPIPE, 0, -EPIPE, 0},
    };
    signal(SIGPIPE, SIG_DFL);
    for (size_t i = 0; i < sizeof ways / sizeof ways[0]; i++) {
        int fds[2];
        char c;
        SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, 0, fds));
        fprintf(stderr, "# %s\n", ways[i].name);
        CHECK_EQ(0, net_sock_shutdown(fds[0], ways[i].how));
        CHECK_EQ(ways[i].a_sends, net_sock_send(fds[0], "a", 1, 0));
        CHECK_EQ(ways[i].b_reads, net_sock_recv(fds[1], &c, 1, MSG_DONTWAIT));
        CHECK_EQ(ways[i].b_sends, net_sock_send(fds[1], "b", 1, 0));
        CHECK_EQ(ways[i].a_reads, net_sock_recv(fds[0], &c, 1, MSG_DONTWAIT));
        net_sock_close(fds[0]);
        net_sock_close(fds[1]);
    }
}

int main(void)
{
    const int fds_at_start = fd_count();
    test_open_and_close();
    test_pair();
    test_tcp("127.0.0.1");
    test_tcp("::1");
    test_nonblocking_connect();
    test_listen_default_backlog();
    test_failures_on_closed_fd();
    test_unix();
    test_wrong_kind();
    test_shutdown_each_way();
    CHECK_EQ(fds_at_start, fd_count()); /* nothing leaked */
    return check_done("life");
}
