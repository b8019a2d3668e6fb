/* state_test.c — names, close-on-exec, non-blocking, type/family/protocol
 * and the pending error of fresh sockets (none; a refused connect's is
 * life_test's). */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include "check.h"
#include "util.h"

static void test_names(void)
{
    int fds[2];
    net_addr_t a, b, c;
    int lfd = tcp_trio("::1", fds);
    CHECK_EQ(0, net_sock_getsockname(fds[0], &a));
    CHECK_EQ(0, net_sock_getpeername(fds[1], &b));
    CHECK_EQ(AF_INET6, a.family);
    CHECK(addr_same(&a, &b)); /* client's name == server's peer */
    CHECK_EQ(0, net_sock_getpeername(fds[0], &c));
    CHECK_EQ(0, net_sock_getsockname(lfd, &b));
    CHECK(addr_same(&b, &c)); /* client's peer == listener's name */
    CHECK(!addr_same(&a, &c));

    CHECK_EQ(-ENOTCONN, net_sock_getpeername(lfd, &c));
    CHECK_EQ(-EINVAL, net_sock_getsockname(lfd, NULL));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
    net_sock_close(lfd);
    CHECK_EQ(-EBADF, net_sock_getsockname(lfd, &c));
    CHECK_EQ(-EBADF, net_sock_getpeername(lfd, &c));
}

/* cloexec and nonblock: set, read back, and agree with fcntl. */
static void test_fd_flags(void)
{
    static const struct {
        const char *name;
        int (*fn)(int, int);
        int get, bit;
    } flags[] = {
        {"cloexec", net_sock_cloexec, F_GETFD, FD_CLOEXEC},
        {"nonblock", net_sock_nonblock, F_GETFL, O_NONBLOCK},
    };
    int fd = net_sock_open(AF_INET, SOCK_STREAM, 0, 0);
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        fprintf(stderr, "# %s\n", flags[i].name);
        CHECK_EQ(0, flags[i].fn(fd, -1));
        CHECK_EQ(1, flags[i].fn(fd, 1));
        CHECK((fcntl(fd, flags[i].get) & flags[i].bit) != 0);
        CHECK_EQ(1, flags[i].fn(fd, -1));
        CHECK_EQ(0, flags[i].fn(fd, 0));
        CHECK((fcntl(fd, flags[i].get) & flags[i].bit) == 0);
    }
    net_sock_close(fd);
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        CHECK_EQ(-EBADF, flags[i].fn(fd, -1));
}

static void test_kind(void)
{
    static const struct {
        int family, type, protocol;
    } kinds[] = {
        {AF_INET, SOCK_STREAM, IPPROTO_TCP},
        {AF_INET6, SOCK_DGRAM, IPPROTO_UDP},
        {AF_UNIX, SOCK_SEQPACKET, 0},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        int fd = net_sock_open(kinds[i].family, kinds[i].type, 0, 0);
        CHECK_EQ(kinds[i].type, net_sock_type(fd));
        CHECK_EQ(kinds[i].family, net_sock_family(fd));
        CHECK_EQ(kinds[i].protocol, net_sock_protocol(fd));
        CHECK_EQ(0, net_sock_error(fd));
        net_sock_close(fd);
        CHECK_EQ(-EBADF, net_sock_type(fd));
        CHECK_EQ(-EBADF, net_sock_family(fd));
        CHECK_EQ(-EBADF, net_sock_protocol(fd));
        CHECK_EQ(-EBADF, net_sock_error(fd));
    }
    /* A descriptor that is no socket: a pipe. */
    int p[2];
    if (pipe(p) == 0) {
        CHECK_EQ(-ENOTSOCK, net_sock_type(p[0]));
        CHECK_EQ(-ENOTSOCK, net_sock_getsockname(p[0], &(net_addr_t){0}));
        close(p[0]);
        close(p[1]);
    }
}

int main(void)
{
    const int fds_at_start = fd_count();
    test_names();
    test_fd_flags();
    test_kind();
    CHECK_EQ(fds_at_start, fd_count()); /* nothing leaked */
    return check_done("state");
}
