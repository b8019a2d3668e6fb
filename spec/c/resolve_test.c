/* resolve_test.c — net_getaddrinfo (numeric hosts, service names, passive,
 * canonical names, counting, failures) and net_getaddrinfo_unix, each record
 * then used on a real socket. */
#define _GNU_SOURCE 1
#include <netdb.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "util.h"
#include "userns.h"

/* Connects to a loopback listener through the record getaddrinfo gives for
 * its host and port: the record is a usable address, not just text. */
static void test_numeric(const char *host, int family)
{
    net_addrinfo_t out[4];
    net_addr_t addr;
    char port[8], text[NET_HOST_MAX];
    int lfd = tcp_listener(host, &addr);
    snprintf(port, sizeof port, "%d", net_addr_port(&addr));

    int n = net_getaddrinfo(host, port, AF_UNSPEC, SOCK_STREAM, 0,
                            NET_AI_NUMERICHOST | NET_AI_NUMERICSERV, out, 4);
    CHECK_EQ(1, n);
    CHECK_EQ(family, out[0].family);
    CHECK_EQ(family, out[0].addr.family);
    CHECK_EQ(SOCK_STREAM, out[0].socktype);
    CHECK_EQ(IPPROTO_TCP, out[0].protocol);
    CHECK_EQ(0, out[0].reserved);
    CHECK_STR("", out[0].canonname);
    CHECK(net_addr_host(&out[0].addr, text, sizeof text) > 0);
    CHECK_STR(host, text);
    CHECK(addr_same(&addr, &out[0].addr));

    int c = net_sock_open(out[0].family, out[0].socktype, out[0].protocol, 0);
    CHECK_EQ(0, net_sock_connect(c, &out[0].addr));
    int s = net_sock_accept(lfd, 0, NULL);
    CHECK(s >= 0);
    net_sock_close(s);
    net_sock_close(c);
    net_sock_close(lfd);
}

static void test_names(void)
{
    net_addrinfo_t out[8];
    char text[NET_HOST_MAX];

    /* A service name from /etc/services, which Debian's netbase provides:
     * checked only where the system itself knows the name. */
    if (getservbyname("http", "tcp")) {
        CHECK_EQ(1, net_getaddrinfo("::1", "http", AF_INET6, SOCK_STREAM, 0, 0, out, 8));
        CHECK_EQ(80, net_addr_port(&out[0].addr));
    } else {
        SKIPPED("services by name (no \"http\" in /etc/services: netbase missing)");
    }
    endservent();

    /* No host, passive: the any address, to bind. No service: port 0. */
    CHECK_EQ(1, net_getaddrinfo(NULL, "0", AF_INET, SOCK_STREAM, 0, NET_AI_PASSIVE, out, 8));
    net_addr_host(&out[0].addr, text, sizeof text);
    CHECK_STR("0.0.0.0", text);
    CHECK_EQ(1, net_getaddrinfo(NULL, NULL, AF_INET6, SOCK_STREAM, 0, NET_AI_PASSIVE, out, 8));
    net_addr_host(&out[0].addr, text, sizeof text);
    CHECK_STR("::", text);
    CHECK_EQ(0, net_addr_port(&out[0].addr));
    /* No host, not passive: loopback. */
    CHECK_EQ(1, net_getaddrinfo(NULL, "7", AF_INET, SOCK_STREAM, 0, 0, out, 8));
    net_addr_host(&out[0].addr, text, sizeof text);
    CHECK_STR("127.0.0.1", text);

    /* The canonical name of localhost (from /etc/hosts), in the first record. */
    int n = net_getaddrinfo("localhost", NULL, AF_INET, SOCK_STREAM, 0,
                            NET_AI_CANONNAME, out, 8);
    CHECK(n >= 1);
    CHECK_STR("localhost", out[0].canonname);
    net_addr_host(&out[0].addr, text, sizeof text);
    CHECK_STR("127.0.0.1", text);

    /* A literal's canonical name is the literal as given: a zone by name
     * too (the C library is asked with its number) */
    CHECK_EQ(1, net_getaddrinfo("fe80::1%lo", NULL, AF_INET6, SOCK_STREAM, 0,
                                NET_AI_CANONNAME, out, 8));
    CHECK_STR("fe80::1%lo", out[0].canonname);
    CHECK_EQ(1, net_getaddrinfo("127.0.0.1", NULL, AF_INET, SOCK_STREAM, 0,
                                NET_AI_CANONNAME, out, 8));
    CHECK_STR("127.0.0.1", out[0].canonname);
}

/* Fewer places than results: the count is returned, only max written. */
static void test_counting(void)
{
    net_addrinfo_t out[8];
    int all = net_getaddrinfo("127.0.0.1", "1", AF_INET, 0, 0, NET_AI_NUMERICHOST, out, 8);
    CHECK(all >= 2); /* one record per socket type */
    memset(out, 0x5a, sizeof out);
    CHECK_EQ(all, net_getaddrinfo("127.0.0.1", "1", AF_INET, 0, 0, NET_AI_NUMERICHOST, out, 1));
    CHECK_EQ(AF_INET, out[0].family);
    CHECK_EQ(0x5a5a5a5a, (uint32_t)out[1].family); /* untouched */
    CHECK_EQ(all, net_getaddrinfo("127.0.0.1", "1", AF_INET, 0, 0, NET_AI_NUMERICHOST, NULL, 0));
}

static void test_failures(void)
{
    net_addrinfo_t out[8];
    /* An unknown host with numeric-host set: no DNS query, EAI_NONAME. */
    int rc = net_getaddrinfo("unknown.invalid", "80", AF_UNSPEC, SOCK_STREAM, 0,
                             NET_AI_NUMERICHOST, out, 8);
    CHECK(rc <= -NET_EAI_BASE);
    CHECK_EQ(EAI_RESULT(EAI_NONAME), rc);
    CHECK_STR(gai_strerror(EAI_NONAME), net_strerror(rc));
    /* A literal's canonical name is the host as given: an IPv6 literal with
     * a numeric zone (its leading zeros make it long) of exactly
     * NET_CANONNAME_MAX - 1 bytes comes whole, one byte more fails the call,
     * and nothing is written past the record either way. */
    for (size_t len = NET_CANONNAME_MAX - 1; len <= NET_CANONNAME_MAX; len++) {
        char host[NET_CANONNAME_MAX + 1] = "fe80::1%";
        size_t n = strlen(host);
        while (n < len - 1)
            host[n++] = '0';
        host[n++] = '1';
        host[n] = '\0';
        struct { net_addrinfo_t rec; unsigned char guard[8]; } one;
        memset(one.guard, 0xAA, sizeof one.guard);
        rc = net_getaddrinfo(host, "80", AF_INET6, SOCK_STREAM, 0,
                             NET_AI_CANONNAME | NET_AI_NUMERICHOST, &one.rec, 1);
        if (len < NET_CANONNAME_MAX) {
            CHECK_EQ(1, rc);
            CHECK_STR(host, one.rec.canonname);
        } else {
            CHECK_EQ(-ENAMETOOLONG, rc);
        }
        CHECK_EQ(0xAA, one.guard[0]);
    }
    /* An unknown service name; a name where a port number is required. */
    rc = net_getaddrinfo("127.0.0.1", "no-such-service", AF_UNSPEC, SOCK_STREAM, 0, 0, out, 8);
    CHECK_EQ(EAI_RESULT(EAI_SERVICE), rc);
    CHECK_STR(gai_strerror(EAI_SERVICE), net_strerror(rc));
    rc = net_getaddrinfo("127.0.0.1", "http", AF_INET, SOCK_STREAM, 0,
                         NET_AI_NUMERICSERV, out, 8);
    CHECK_EQ(EAI_RESULT(EAI_NONAME), rc);
    /* An IPv6 literal asked for as IPv4. */
    rc = net_getaddrinfo("::1", "1", AF_INET, SOCK_STREAM, 0, NET_AI_NUMERICHOST, out, 8);
    CHECK(rc <= -NET_EAI_BASE);
    /* libnet's own argument checks. */
    CHECK_EQ(-EINVAL, net_getaddrinfo("127.0.0.1", "1", 0, 0, 0, 1 << 20, out, 8));
    CHECK_EQ(-EINVAL, net_getaddrinfo("127.0.0.1", "1", 0, 0, 0, 0, NULL, 8));
    CHECK_EQ(-EINVAL, net_getaddrinfo("127.0.0.1", "1", 0, 0, 0, 0, out, -1));
}

/* The unix record: bound and connected to in a private folder. */
static void test_unix(void)
{
    net_addrinfo_t rec;
    net_addr_t name;
    char dir[32], path[64], buf[128], long_path[300];
    temp_dir_make(dir);
    int len = snprintf(path, sizeof path, "%s/s", dir);

    CHECK_EQ(1, net_getaddrinfo_unix(path, (size_t)len, SOCK_STREAM, &rec));
    CHECK_EQ(AF_UNIX, rec.family);
    CHECK_EQ(SOCK_STREAM, rec.socktype);
    CHECK_EQ(0, rec.protocol);
    CHECK_STR("", rec.canonname);
    CHECK_EQ(len, net_addr_path(&rec.addr, buf, sizeof buf));
    CHECK_STR(path, buf);

    int lfd = net_sock_open(rec.family, rec.socktype, rec.protocol, 0);
    CHECK_EQ(0, net_sock_bind(lfd, &rec.addr));
    CHECK_EQ(0, net_sock_listen(lfd, 1));
    CHECK_EQ(0, net_sock_getsockname(lfd, &name));
    CHECK(addr_same(&rec.addr, &name));
    int c = net_sock_open(rec.family, rec.socktype, rec.protocol, 0);
    CHECK_EQ(0, net_sock_connect(c, &rec.addr));
    CHECK_EQ(0, net_sock_getpeername(c, &name));
    CHECK(addr_same(&rec.addr, &name));
    net_sock_close(c);
    net_sock_close(lfd);
    CHECK_EQ(0, temp_dir_remove(dir, "s"));

    memset(long_path, 'y', sizeof long_path);
    CHECK_EQ(-ENAMETOOLONG, net_getaddrinfo_unix(long_path, sizeof long_path, SOCK_STREAM, &rec));
    CHECK_EQ(-EINVAL, net_getaddrinfo_unix(path, (size_t)len, SOCK_STREAM, NULL));
    CHECK_EQ(-EINVAL, net_getaddrinfo_unix("", 0, SOCK_STREAM, &rec));
}

/* Canonical names at the record's limit, from an /etc/hosts of the test's
 * own (a temporary file bound over it in a mount namespace of a child): one
 * of NET_CANONNAME_MAX - 1 bytes comes whole, a longer one fails the call
 * (never cut). Skipped where this process may not make a mount namespace,
 * not even in a user namespace of its own (unshare_as_user). */
static void test_long_canonical_names(void)
{
    char hosts[] = "/tmp/net-resolve-hosts-XXXXXX", fit[NET_CANONNAME_MAX], over[NET_CANONNAME_MAX + 40];
    int fd = mkstemp(hosts);
    SETUP(fd < 0 ? -errno : fd);
    memset(fit, 'a', sizeof fit - 1);
    fit[sizeof fit - 1] = '\0';
    memset(over, 'b', sizeof over - 1);
    over[sizeof over - 1] = '\0';
    FILE *f = fdopen(fd, "w");
    SETUP(f ? 0 : -errno);
    fprintf(f, "127.0.0.1 %s\n127.0.0.1 %s\n", fit, over);
    fclose(f);
    pid_t pid = fork();
    if (pid == 0) {
        net_addrinfo_t out[4];
        int bad = 0;
        /* ("none": the type and source these mounts ignore, never NULL,
         * which valgrind reports) */
        if (unshare_as_user(CLONE_NEWNS) != 0 ||
            mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
            mount(hosts, "/etc/hosts", "none", MS_BIND, NULL) != 0)
            _exit(77);
        /* musl takes host names of at most 254 bytes: there no canonical
         * name can reach the limit */
        struct addrinfo hints = {.ai_family = AF_INET}, *res;
        if (getaddrinfo(fit, NULL, &hints, &res) != 0)
            _exit(78);
        freeaddrinfo(res);
        if (net_getaddrinfo(fit, NULL, AF_INET, SOCK_STREAM, 0, NET_AI_CANONNAME, out, 4) != 1 ||
            strcmp(fit, out[0].canonname) != 0)
            bad |= 1;
        if (net_getaddrinfo(over, NULL, AF_INET, SOCK_STREAM, 0, NET_AI_CANONNAME, out, 4) != -ENAMETOOLONG)
            bad |= 2;
        if (net_getaddrinfo(over, NULL, AF_INET, SOCK_STREAM, 0, 0, out, 4) != 1) /* not asked */
            bad |= 4;
        _exit(bad);
    }
    int status = -1;
    CHECK(pid > 0);
    CHECK_EQ(pid, waitpid(pid, &status, 0));
    unlink(hosts);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        SKIPPED("long canonical names (no mount namespace here)");
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 78) {
        SKIPPED("long canonical names (this libc resolves no host name of %d bytes)",
                NET_CANONNAME_MAX - 1);
        return;
    }
    CHECK(WIFEXITED(status));
    CHECK_EQ(0, WEXITSTATUS(status));
}

int main(void)
{
    const int fds_at_start = fd_count();
    test_numeric("127.0.0.1", AF_INET);
    test_numeric("::1", AF_INET6);
    test_names();
    test_counting();
    test_failures();
    test_unix();
    test_long_canonical_names();
    CHECK_EQ(fds_at_start, fd_count()); /* nothing leaked */
    return check_done("resolve");
}
