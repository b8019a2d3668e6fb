/* hardening_test.c — issue 9's defects in the C ABI: numeric services above
 * 65535 (they wrapped around), address literals and the resolver (a literal
 * must never reach one), "Too many open files" from the resolver (it said
 * "Name or service not known"), IPv6 zones in text addresses (they were
 * dropped), net_strerror at INT_MIN (undefined negation).
 *
 * This program defines getaddrinfo itself: libnet's calls reach this one
 * first (an executable's symbol comes before libc's), which notes the hints
 * it was given and calls the C library's (interpose.h). So the test sees
 * whether libnet asked for a resolver-free lookup. */
#define _GNU_SOURCE 1
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "check.h"
#include "interpose.h"
#include "util.h"

static int seen_calls, seen_flags;

int getaddrinfo(const char *node, const char *service,
                const struct addrinfo *hints, struct addrinfo **res)
{
    seen_calls++;
    seen_flags = hints ? hints->ai_flags : 0;
    return REAL(getaddrinfo)(node, service, hints, res);
}

/* The flags libnet handed getaddrinfo for host, or -1 when it never called
 * it. */
static int flags_for(const char *host, int net_flags)
{
    net_addrinfo_t out[4];
    seen_calls = 0;
    seen_flags = 0;
    net_getaddrinfo(host, "80", AF_UNSPEC, SOCK_STREAM, 0, net_flags, out, 4);
    return seen_calls ? seen_flags : -1;
}

static void test_literals_skip_the_resolver(void)
{
    static const char *const literals[] = {"127.0.0.1", "::1", "0.0.0.0", "::",
                                           "fe80::1%lo", "fe80::1%1",
                                           "::ffff:127.0.0.1"};
    for (size_t i = 0; i < sizeof literals / sizeof *literals; i++) {
        int flags = flags_for(literals[i], 0);
        CHECK_(flags >= 0 && (flags & AI_NUMERICHOST), "%s: flags %d without AI_NUMERICHOST",
               literals[i], flags);
    }
    /* Names (and what only inet_aton reads, "127.1") are the resolver's;
     * only ones /etc/hosts or the C library answer, so no DNS query leaves. */
    static const char *const names[] = {"localhost", "127.1"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        int flags = flags_for(names[i], 0);
        CHECK_(flags >= 0 && !(flags & AI_NUMERICHOST), "%s: flags %d", names[i], flags);
    }
    /* Asked for by the caller, it stays (and the C library is asked). */
    int asked = flags_for("localhost", NET_AI_NUMERICHOST);
    CHECK_(asked >= 0 && (asked & AI_NUMERICHOST), "localhost: flags %d", asked);
}

static void test_numeric_services(void)
{
    net_addrinfo_t out[4];
    static const char *const wrapping[] = {"65536", "65537", "99999", "4294967296",
                                           "4294967376", "18446744073709551696",
                                           "-1", "+80", " 80", "000000065536",
                                           "" /* no port at all: never port 0 */};
    for (size_t i = 0; i < sizeof wrapping / sizeof *wrapping; i++) {
        seen_calls = 0;
        int rc = net_getaddrinfo("127.0.0.1", wrapping[i], AF_INET, SOCK_STREAM, 0, 0, out, 4);
        CHECK_(rc == EAI_RESULT(EAI_SERVICE), "service \"%s\": %d (%s)", wrapping[i], rc,
               net_strerror(rc));
        CHECK_EQ(0, seen_calls); /* refused before the C library saw it */
    }
    static const struct { const char *service; int port; } fine[] = {
        {"0", 0}, {"80", 80}, {"0080", 80}, {"65535", 65535}, {"http", 80}};
    for (size_t i = 0; i < sizeof fine / sizeof *fine; i++) {
        if (fine[i].service[0] == 'h' && !getservbyname(fine[i].service, "tcp"))
            continue; /* no /etc/services entry (netbase missing) */
        int rc = net_getaddrinfo("127.0.0.1", fine[i].service, AF_INET, SOCK_STREAM, 0, 0, out, 4);
        CHECK_EQ(1, rc);
        CHECK_EQ(fine[i].port, net_addr_port(&out[0].addr));
    }
    endservent();
    /* With NET_AI_NUMERICSERV alike. */
    CHECK_EQ(EAI_RESULT(EAI_SERVICE), net_getaddrinfo("::1", "70000", AF_INET6, SOCK_STREAM, 0,
                                                      NET_AI_NUMERICSERV, out, 4));
}

/* In a child with every descriptor taken: a name fails with EMFILE, a
 * literal still resolves, and an interface looked up by name or number (a
 * zone, a multicast interface: the C library opens a socket to ask) is
 * EMFILE, not "no such interface". The child's exit status carries the
 * verdict; the test runner's own limit is never lowered. */
static void test_no_descriptor_left(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {16, 16};
        net_addrinfo_t out[4];
        int bad = 0;
        net_addr_t scoped, a;
        char text[NET_HOST_MAX];
        int udp = net_sock_open(AF_INET6, SOCK_DGRAM, 0, 0);
        /* an IPv4 socket whose multicast interface is lo: reading it back
         * looks the interface's name up by its address (getifaddrs, which
         * opens a socket) */
        int udp4 = net_sock_open(AF_INET, SOCK_DGRAM, 0, 0);
        if (udp4 < 0 || net_sock_mcastif(udp4, "lo", text, sizeof text) != 2)
            _exit(2);
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || udp < 0 ||
            net_addr_inet(&scoped, "fe80::1%1", 80) != 0)
            _exit(2);
        while (net_sock_open(AF_INET, SOCK_STREAM, 0, 0) >= 0) {
        }
        if (net_addr_inet(&a, "fe80::1%lo", 80) != -EMFILE)
            bad |= 16;
        if (net_getaddrinfo("fe80::1%lo", "80", AF_INET6, SOCK_STREAM, 0, 0, out, 4) != -EMFILE)
            bad |= 32;
        if (net_addr_host(&scoped, text, sizeof text) != -EMFILE)
            bad |= 64;
        if (net_sock_mcastif(udp, "lo", text, sizeof text) != -EMFILE ||
            net_sock_mcastgroup(udp, NET_MCAST_JOIN, "ff02::1:3", NULL, "lo") != -EMFILE)
            bad |= 128;
        /* the read-back's lookup failing is EMFILE too, not "" (which says
         * the default interface: mcast.c's getifaddrs failure) */
        if (net_sock_mcastif(udp4, NULL, text, sizeof text) != -EMFILE)
            bad |= 1;
        int rc = net_getaddrinfo("localhost", "80", AF_UNSPEC, SOCK_STREAM, 0, 0, out, 4);
        if (rc != -EMFILE) {
            fprintf(stderr, "localhost with no fd left: %d (%s)\n", rc, net_strerror(rc));
            bad |= 4;
        }
        if (net_getaddrinfo("127.0.0.1", "80", AF_UNSPEC, SOCK_STREAM, 0, 0, out, 4) != 1 ||
            net_getaddrinfo("::1", "80", AF_UNSPEC, SOCK_STREAM, 0, 0, out, 4) != 1)
            bad |= 8;
        _exit(bad);
    }
    int status = -1;
    CHECK(pid > 0);
    CHECK_EQ(pid, waitpid(pid, &status, 0));
    CHECK(WIFEXITED(status));
    CHECK_EQ(0, WEXITSTATUS(status));
}

static void test_zones(void)
{
    net_addr_t a;
    net_addrinfo_t out[4];
    char text[NET_HOST_MAX], lo[IF_NAMESIZE];
    unsigned lo_index = if_nametoindex("lo");

    CHECK_EQ(0, net_addr_inet(&a, "fe80::1%lo", 443));
    CHECK_EQ(10, net_addr_host(&a, text, sizeof text));
    CHECK_STR("fe80::1%lo", text);
    CHECK_EQ(443, net_addr_port(&a));
    if (lo_index != 0 && if_indextoname(lo_index, lo)) {
        char numeric[32];
        snprintf(numeric, sizeof numeric, "fe80::1%%%u", lo_index);
        CHECK_EQ(0, net_addr_inet(&a, numeric, 1));
        CHECK(net_addr_host(&a, text, sizeof text) > 0);
        CHECK_STR("fe80::1%lo", text);
    }
    /* A scope no interface has reads back as its number. */
    CHECK_EQ(0, net_addr_inet(&a, "fe80::1%4000000000", 1));
    CHECK_EQ(18, net_addr_host(&a, text, sizeof text));
    CHECK_STR("fe80::1%4000000000", text);
    /* Through getaddrinfo, as the Lua layer reads it. */
    CHECK_EQ(1, net_getaddrinfo("fe80::1%lo", "80", AF_INET6, SOCK_STREAM, 0, 0, out, 4));
    CHECK(net_addr_host(&out[0].addr, text, sizeof text) > 0);
    CHECK_STR("fe80::1%lo", text);
    /* The room check counts the zone: "fe80::1%lo" needs 11 bytes. */
    CHECK_EQ(-ENOSPC, net_addr_host(&out[0].addr, text, 10));
    CHECK_EQ(10, net_addr_host(&out[0].addr, text, 11));
    /* getaddrinfo itself reads a zone name for link-local addresses only;
     * libnet writes one for every scope, and reads back what it wrote. */
    static const char *const zoned[] = {"::1%lo", "::ffff:127.0.0.1%lo", "2001:db8::1%lo"};
    for (size_t i = 0; i < sizeof zoned / sizeof *zoned; i++) {
        int rc = net_getaddrinfo(zoned[i], "80", AF_INET6, SOCK_STREAM, 0, 0, out, 4);
        CHECK_(rc == 1, "%s: %d (%s)", zoned[i], rc, net_strerror(rc));
        CHECK(net_addr_host(&out[0].addr, text, sizeof text) > 0);
        CHECK_STR(zoned[i], text);
    }
    CHECK_EQ(EAI_RESULT(EAI_NONAME),
             net_getaddrinfo("::1%no-such-if0", "80", AF_INET6, SOCK_STREAM, 0, 0, out, 4));
    /* Not addresses: an empty zone, an unknown interface, a zone beyond 32
     * bits, a zone on IPv4. Each leaves the record all zero, nothing half
     * made (the IPv6 part before the zone is read first). */
    static const char *const refused[] = {"fe80::1%", "fe80::1%no-such-if0", "fe80::1%4294967296",
                                          "127.0.0.1%lo"};
    net_addr_t zero;
    memset(&zero, 0, sizeof zero);
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        memset(&a, 0xa5, sizeof a);
        CHECK_EQ(-EINVAL, net_addr_inet(&a, refused[i], 1));
        CHECK_(memcmp(&a, &zero, sizeof a) == 0, "%s: the record is not all zero", refused[i]);
    }
    /* Text before the '%' longer than any IPv6 literal is no address, and
     * is never copied into the INET6_ADDRSTRLEN bytes that hold the
     * literal's part while it is read: a host string comes from anyone
     * (a Lua program's host option), and getaddrinfo asks first whether a
     * name is a literal. Without that length check this copy overruns
     * the stack. */
    static char long_head[4100];
    memset(long_head, 'f', 4000);
    strcpy(long_head + 4000, "%lo");
    CHECK_EQ(-EINVAL, net_addr_inet(&a, long_head, 1));
    CHECK_EQ(EAI_RESULT(EAI_NONAME), net_getaddrinfo(long_head, "80", AF_INET6, SOCK_STREAM, 0,
                                                     NET_AI_NUMERICHOST, out, 4));
}

static void test_strerror_extremes(void)
{
    CHECK_STR("Unknown error", net_strerror(-2147483647 - 1));
    CHECK_STR("Unknown error", net_strerror(2147483647));
    CHECK_STR("Unknown error", net_strerror(-2147483647));
    CHECK_STR(gai_strerror(EAI_NONAME), net_strerror(EAI_RESULT(EAI_NONAME)));
    CHECK_STR("Connection refused", net_strerror(-ECONNREFUSED));
}

int main(void)
{
    const int fds_at_start = fd_count();
    /* First: the child must be the process's first name lookup (glibc
     * then fails to load its NSS module, the case that read "Name or
     * service not known"; later lookups fail to open /etc/hosts instead). */
    test_no_descriptor_left();
    test_literals_skip_the_resolver();
    test_numeric_services();
    test_zones();
    test_strerror_extremes();
    CHECK_EQ(fds_at_start, fd_count());
    return check_done("hardening");
}
