/* addr_test.c — net_addr_*: inet/inet6 and unix addresses built, read back
 * and bound, and their errors. */
#define _GNU_SOURCE 1
#include <sys/un.h>

#include "check.h"
#include "util.h"

static void test_inet_round_trip(void)
{
    static const struct {
        const char *host;
        int family, port;
    } cases[] = {{"127.0.0.1", AF_INET, 8080}, {"::1", AF_INET6, 65535},
                 {"0.0.0.0", AF_INET, 0}, {"fe80::1:2", AF_INET6, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        net_addr_t a;
        char text[NET_HOST_MAX];
        CHECK_EQ(0, net_addr_inet(&a, cases[i].host, cases[i].port));
        CHECK_EQ(cases[i].family, a.family);
        CHECK_EQ((int)strlen(cases[i].host), net_addr_host(&a, text, sizeof text));
        CHECK_STR(cases[i].host, text);
        CHECK_EQ(cases[i].port, net_addr_port(&a));
        char path[8];
        CHECK_EQ(-EAFNOSUPPORT, net_addr_path(&a, path, sizeof path));
    }
    net_addr_t a;
    char small[4];
    CHECK_EQ(-EINVAL, net_addr_inet(&a, "not-an-ip", 80));
    CHECK_EQ(-EINVAL, net_addr_inet(&a, "localhost", 80)); /* literals only */
    CHECK_EQ(-EINVAL, net_addr_inet(&a, "127.0.0.1", 70000));
    CHECK_EQ(-EINVAL, net_addr_inet(&a, "127.0.0.1", -1));
    CHECK_EQ(-EINVAL, net_addr_inet(&a, NULL, 1));
    SETUP(net_addr_inet(&a, "127.0.0.1", 1));
    CHECK_EQ(-ENOSPC, net_addr_host(&a, small, sizeof small));
    CHECK_EQ(-EINVAL, net_addr_port(NULL));
}

static void test_unix_addresses(void)
{
    net_addr_t a;
    char buf[128];
    const size_t max = sizeof(((struct sockaddr_un *)0)->sun_path);
    char long_path[200];
    memset(long_path, 'x', sizeof long_path);

    CHECK_EQ(0, net_addr_unix(&a, "/tmp/x.sock", 11));
    CHECK_EQ(AF_UNIX, a.family);
    CHECK_EQ(11, net_addr_path(&a, buf, sizeof buf));
    CHECK_STR("/tmp/x.sock", buf);
    CHECK_EQ(-ENOSPC, net_addr_path(&a, buf, 5));
    CHECK_EQ(-EAFNOSUPPORT, net_addr_host(&a, buf, sizeof buf));
    CHECK_EQ(-EAFNOSUPPORT, net_addr_port(&a));

    /* The longest path that fits with its NUL, and one byte more. */
    CHECK_EQ(0, net_addr_unix(&a, long_path, max - 1));
    CHECK_EQ((int)max - 1, net_addr_path(&a, buf, sizeof buf));
    CHECK_EQ(-ENAMETOOLONG, net_addr_unix(&a, long_path, max));
    CHECK_EQ(-ENAMETOOLONG, net_addr_unix(&a, long_path, sizeof long_path));
    CHECK_EQ(-EINVAL, net_addr_unix(&a, "", 0));
    CHECK_EQ(-EINVAL, net_addr_unix(&a, "a\0b", 3)); /* would be cut short */

    /* A Linux abstract name: leading NUL, counted by length (the pid keeps
     * concurrent runs apart). Bound, connected to, and read back. */
    char name[64];
    const size_t name_len =
        (size_t)snprintf(name, sizeof name, "%clua-net-ctest-%ld", 0, (long)getpid());
    CHECK_EQ(0, net_addr_unix(&a, name, name_len));
    int fd = net_sock_open(AF_UNIX, SOCK_STREAM, 0, 0);
    CHECK_EQ(0, net_sock_bind(fd, &a));
    CHECK_EQ(0, net_sock_listen(fd, 1));
    net_addr_t back;
    CHECK_EQ(0, net_sock_getsockname(fd, &back));
    CHECK_EQ((int)name_len, net_addr_path(&back, buf, sizeof buf));
    CHECK(memcmp(buf, name, name_len) == 0);
    int c = net_sock_open(AF_UNIX, SOCK_STREAM, 0, 0);
    CHECK_EQ(0, net_sock_connect(c, &a));
    CHECK_EQ(0, net_sock_getpeername(c, &back));
    CHECK_EQ((int)name_len, net_addr_path(&back, buf, sizeof buf));
    CHECK(memcmp(buf, name, name_len) == 0);
    net_sock_close(c);
    net_sock_close(fd);
    /* No file stays behind: the name is gone with its socket. */
    c = net_sock_open(AF_UNIX, SOCK_STREAM, 0, 0);
    CHECK_EQ(-ECONNREFUSED, net_sock_connect(c, &a));
    net_sock_close(c);

    /* An unnamed socket (one end of a pair) has the empty path. */
    int fds[2];
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, 0, fds));
    CHECK_EQ(0, net_sock_getsockname(fds[0], &back));
    CHECK_EQ(0, net_addr_path(&back, buf, sizeof buf));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}

int main(void)
{
    const int fds_at_start = fd_count();
    test_inet_round_trip();
    test_unix_addresses();
    CHECK_EQ(fds_at_start, fd_count()); /* nothing leaked */
    return check_done("addr");
}
