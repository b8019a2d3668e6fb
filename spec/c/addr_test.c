/* addr_test.c — addresses, name resolution, and the library calls
 * (net_version, net_strerror, net_constants). */
#define _GNU_SOURCE 1
#include <netdb.h>
#include <poll.h>
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

    /* A Linux abstract name: leading NUL, bound and read back by length. */
    static const char name[] = "\0lua-net-ctest-abstract";
    const size_t name_len = sizeof name - 1;
    CHECK_EQ(0, net_addr_unix(&a, name, name_len));
    int fd = net_sock_open(AF_UNIX, SOCK_STREAM, 0, 0);
    CHECK_EQ(0, net_sock_bind(fd, &a));
    net_addr_t back;
    CHECK_EQ(0, net_sock_getsockname(fd, &back));
    CHECK_EQ((int)name_len, net_addr_path(&back, buf, sizeof buf));
    CHECK(memcmp(buf, name, name_len) == 0);
    net_sock_close(fd);

    /* An unnamed socket (one end of a pair) has the empty path. */
    int fds[2];
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, 0, fds));
    CHECK_EQ(0, net_sock_getsockname(fds[0], &back));
    CHECK_EQ(0, net_addr_path(&back, buf, sizeof buf));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}

static void test_getaddrinfo(void)
{
    net_addrinfo_t out[8];
    char text[NET_HOST_MAX];

    int n = net_getaddrinfo("127.0.0.1", "8080", AF_UNSPEC, SOCK_STREAM, 0,
                            NET_AI_NUMERICHOST | NET_AI_NUMERICSERV, out, 8);
    CHECK_EQ(1, n);
    CHECK_EQ(AF_INET, out[0].family);
    CHECK_EQ(SOCK_STREAM, out[0].socktype);
    CHECK_EQ(IPPROTO_TCP, out[0].protocol);
    CHECK_EQ(8080, net_addr_port(&out[0].addr));
    net_addr_host(&out[0].addr, text, sizeof text);
    CHECK_STR("127.0.0.1", text);
    CHECK_STR("", out[0].canonname);

    /* A service name from /etc/services (Debian's netbase). */
    n = net_getaddrinfo("::1", "http", AF_INET6, SOCK_STREAM, 0, 0, out, 8);
    CHECK_EQ(1, n);
    CHECK_EQ(80, net_addr_port(&out[0].addr));

    /* Any address to bind: passive, no host. */
    n = net_getaddrinfo(NULL, "0", AF_INET, SOCK_STREAM, 0, NET_AI_PASSIVE, out, 8);
    CHECK_EQ(1, n);
    net_addr_host(&out[0].addr, text, sizeof text);
    CHECK_STR("0.0.0.0", text);

    /* The canonical name of localhost. */
    n = net_getaddrinfo("localhost", NULL, AF_INET, SOCK_STREAM, 0, NET_AI_CANONNAME, out, 8);
    CHECK(n >= 1);
    CHECK_STR("localhost", out[0].canonname);

    /* Fewer places than results: the count is returned, max are written. */
    int all = net_getaddrinfo("127.0.0.1", "1", AF_INET, 0, 0, NET_AI_NUMERICHOST, out, 8);
    CHECK(all >= 2); /* one record per socket type */
    memset(out, 0x5a, sizeof out);
    CHECK_EQ(all, net_getaddrinfo("127.0.0.1", "1", AF_INET, 0, 0, NET_AI_NUMERICHOST, out, 1));
    CHECK_EQ(AF_INET, out[0].family);
    CHECK_EQ(0x5a5a5a5a, (uint32_t)out[1].family); /* untouched */
    CHECK_EQ(all, net_getaddrinfo("127.0.0.1", "1", AF_INET, 0, 0, NET_AI_NUMERICHOST, NULL, 0));

    /* Failures: an unknown host with numeric-host set, a bad service, bad flags. */
    int rc = net_getaddrinfo("unknown.invalid", "80", AF_UNSPEC, SOCK_STREAM, 0,
                             NET_AI_NUMERICHOST, out, 8);
    CHECK(rc <= -NET_EAI_BASE);
    CHECK_EQ(-(NET_EAI_BASE + (EAI_NONAME < 0 ? -EAI_NONAME : EAI_NONAME)), rc);
    CHECK_STR(gai_strerror(EAI_NONAME), net_strerror(rc));
    rc = net_getaddrinfo("127.0.0.1", "no-such-service", AF_UNSPEC, SOCK_STREAM, 0, 0, out, 8);
    CHECK(rc <= -NET_EAI_BASE);
    CHECK_STR(gai_strerror(EAI_SERVICE), net_strerror(rc));
    CHECK_EQ(-EINVAL, net_getaddrinfo("127.0.0.1", "1", 0, 0, 0, 1 << 20, out, 8));
    CHECK_EQ(-EINVAL, net_getaddrinfo("127.0.0.1", "1", 0, 0, 0, 0, NULL, 8));
}

static void test_getaddrinfo_unix(void)
{
    net_addrinfo_t rec;
    char buf[128], long_path[300];
    CHECK_EQ(1, net_getaddrinfo_unix("/tmp/s", 6, SOCK_STREAM, &rec));
    CHECK_EQ(AF_UNIX, rec.family);
    CHECK_EQ(SOCK_STREAM, rec.socktype);
    CHECK_EQ(6, net_addr_path(&rec.addr, buf, sizeof buf));
    CHECK_STR("/tmp/s", buf);
    memset(long_path, 'y', sizeof long_path);
    CHECK_EQ(-ENAMETOOLONG, net_getaddrinfo_unix(long_path, sizeof long_path, SOCK_STREAM, &rec));
    CHECK_EQ(-EINVAL, net_getaddrinfo_unix("/tmp/s", 6, SOCK_STREAM, NULL));
}

static void test_library(void)
{
    CHECK_EQ(NET_VERSION_NUMBER, net_version());
    CHECK_STR("Bad file descriptor", net_strerror(-EBADF));
    CHECK_STR("Connection refused", net_strerror(-ECONNREFUSED));
    CHECK_STR(gai_strerror(EAI_AGAIN),
              net_strerror(-(NET_EAI_BASE + (EAI_AGAIN < 0 ? -EAI_AGAIN : EAI_AGAIN))));
    CHECK(net_strerror(-4000) != NULL && net_strerror(-4000)[0] != '\0');
    CHECK(net_strerror(-NET_EAI_BASE - 999) != NULL);

    static const struct {
        const char *name;
        int64_t value;
    } expected[] = {{"AF_INET", AF_INET}, {"AF_INET6", AF_INET6}, {"AF_UNIX", AF_UNIX},
                    {"SOCK_STREAM", SOCK_STREAM}, {"SOCK_DGRAM", SOCK_DGRAM},
                    {"MSG_PEEK", MSG_PEEK}, {"SHUT_WR", SHUT_WR}, {"POLLIN", POLLIN},
                    {"EAGAIN", EAGAIN}, {"EPIPE", EPIPE}, {"SOMAXCONN", SOMAXCONN}};
    const net_constant_t *list = net_constants();
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        int found = 0;
        for (const net_constant_t *c = list; c->name; c++) {
            if (strcmp(c->name, expected[i].name) == 0) {
                found = 1;
                CHECK_EQ(expected[i].value, c->value);
            }
        }
        CHECK_(found, "constant %s listed", expected[i].name);
    }
}

int main(void)
{
    test_inet_round_trip();
    test_unix_addresses();
    test_getaddrinfo();
    test_getaddrinfo_unix();
    test_library();
    return check_done("addr");
}
