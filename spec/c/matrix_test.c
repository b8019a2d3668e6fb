/* matrix_test.c — every function of net.h called with what a careless or
 * hostile caller passes: NULL pointers, negative, huge and closed fds, a
 * descriptor that is no socket, zero and huge sizes, unknown families and
 * flags, NaN and infinite seconds. Each call must fail with a code (or, where
 * the value is meaningful, succeed with a sane result), never crash, never
 * write outside what it was given (run under ASan/UBSan in the sanitized
 * build), and leave no descriptor behind. Closing the closed numbers and the
 * non-socket is never part of it: that would close something real.
 *
 * The count of cases is printed at the end ("matrix: N cases"). */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>

#include "check.h"
#include "util.h"

static int cases;

/* One case: the call's result is want. */
#define CASE_EQ(want, expr)                                                   \
    do {                                                                      \
        cases++;                                                              \
        CHECK_EQ(want, expr);                                                 \
    } while (0)
/* A result that is a value (>= 0) or a code with a message of its own. */
static int sane(double r)
{
    return r >= 0 || (r == (int)r && strcmp(net_strerror((int)r), "Unknown error") != 0);
}

/* One case: the call failed with some code (which net_strerror names). */
#define CASE_FAILS(expr)                                                      \
    do {                                                                      \
        long long r_ = (long long)(expr);                                     \
        cases++;                                                              \
        CHECK_(r_ < 0 && sane((double)r_),                                    \
               "%s: expected a failure code, got %lld", #expr, r_);            \
    } while (0)

/* Descriptors no call may use: negative, beyond any table, a number closed
 * just now (kept free: nothing is opened while it is in use here). */
enum { CLOSED_FD = 900 };
static const int bad_fds[] = {-1, -2, INT_MIN, INT_MAX, CLOSED_FD, 1 << 20};
#define N_BAD_FDS (int)(sizeof bad_fds / sizeof *bad_fds)

static void test_library(void)
{
    static const int codes[] = {0, 1, -1, INT_MIN, INT_MAX, INT_MIN + 1,
                                -NET_EAI_BASE, -NET_EAI_BASE - 1,
                                -NET_EAI_BASE - 100000, -(2 * NET_EAI_BASE) - 1,
                                NET_EAI_BASE, 4095, -4096};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        const char *m = net_strerror(codes[i]);
        cases++;
        CHECK_(m != NULL && m[0] != '\0' && strlen(m) < 256, "net_strerror(%d)", codes[i]);
    }
    CASE_EQ(NET_VERSION_NUMBER, net_version());
    cases++;
    CHECK(net_constants() != NULL && net_constants()[0].name != NULL);
    cases++;
    CHECK(net_options() != NULL && net_options()[0].name != NULL);
    cases++;
    CHECK(net_now() > 0 && isfinite(net_now()));
}

static void test_making(void)
{
    int fds[2] = {-7, -7};
    static const int families[] = {-1, INT_MIN, INT_MAX, 12345, AF_UNSPEC};
    static const int types[] = {-1, INT_MIN, INT_MAX, 0x7fff};
    static const int flags[] = {-1, INT_MIN, INT_MAX, 4, 1 << 30};

    for (size_t i = 0; i < sizeof families / sizeof *families; i++) {
        CASE_FAILS(net_sock_open(families[i], SOCK_STREAM, 0, 0));
        CASE_FAILS(net_sock_pair(families[i], SOCK_STREAM, 0, 0, fds));
    }
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        CASE_FAILS(net_sock_open(AF_INET, types[i], 0, 0));
        CASE_FAILS(net_sock_pair(AF_UNIX, types[i], 0, 0, fds));
    }
    CASE_FAILS(net_sock_open(AF_INET, SOCK_STREAM, -1, 0));
    CASE_FAILS(net_sock_open(AF_INET, SOCK_STREAM, INT_MAX, 0));
    CASE_FAILS(net_sock_open(AF_INET, SOCK_STREAM, IPPROTO_UDP, 0));
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
        CASE_EQ(-EINVAL, net_sock_open(AF_INET, SOCK_STREAM, 0, flags[i]));
        CASE_EQ(-EINVAL, net_sock_pair(AF_UNIX, SOCK_STREAM, 0, flags[i], fds));
    }
    CASE_EQ(-EINVAL, net_sock_pair(AF_UNIX, SOCK_STREAM, 0, 0, NULL));
    cases++;
    CHECK(fds[0] == -7 && fds[1] == -7); /* nothing written on failure */
}

/* Every fd-taking function on fd, which is no usable socket: each fails
 * (with want when want is not 0). */
static void calls_on(int fd, int want)
{
    char buf[16] = {0};
    net_addr_t addr, out;
    net_linger_t lg = {1, 1}, lout;
    int64_t r;

    net_addr_inet(&addr, "127.0.0.1", 9);
#define ON_FD(expr)                                                           \
    do {                                                                      \
        r = (int64_t)(expr);                                                  \
        cases++;                                                              \
        if (want)                                                             \
            CHECK_(r == want, "%s on fd %d: %lld, expected %d", #expr, fd,    \
                   (long long)r, want);                                       \
        else                                                                  \
            CHECK_(r < 0, "%s on fd %d: %lld, expected a failure", #expr, fd, \
                   (long long)r);                                             \
    } while (0)
    ON_FD(net_sock_bind(fd, &addr));
    ON_FD(net_sock_listen(fd, -1));
    ON_FD(net_sock_listen(fd, INT_MAX));
    ON_FD(net_sock_accept(fd, 0, &out));
    ON_FD(net_sock_accept(fd, NET_NONBLOCK, NULL));
    ON_FD(net_sock_connect(fd, &addr));
    ON_FD(net_sock_shutdown(fd, SHUT_RDWR));
    ON_FD(net_sock_send(fd, buf, sizeof buf, 0));
    ON_FD(net_sock_send(fd, buf, 0, MSG_DONTWAIT));
    ON_FD(net_sock_recv(fd, buf, sizeof buf, MSG_DONTWAIT));
    ON_FD(net_sock_recv(fd, buf, 0, MSG_DONTWAIT));
    ON_FD(net_sock_sendto(fd, buf, sizeof buf, 0, &addr));
    ON_FD(net_sock_sendto(fd, buf, sizeof buf, 0, NULL));
    ON_FD(net_sock_recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, &out));
    ON_FD(net_sock_recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, NULL));
    ON_FD(net_sock_getsockname(fd, &out));
    ON_FD(net_sock_getpeername(fd, &out));
    ON_FD(net_sock_atmark(fd));
    ON_FD(net_sock_type(fd));
    ON_FD(net_sock_family(fd));
    ON_FD(net_sock_protocol(fd));
    ON_FD(net_sock_error(fd));
    ON_FD(net_sock_inq(fd));
    ON_FD(net_sock_linger(fd, NULL, &lout));
    ON_FD(net_sock_linger(fd, &lg, NULL));
    /* Every option, read (want) and set (a failure: a read-only option is
     * refused before the fd is looked at). A non-socket has the
     * descriptor's own flags (cloexec, nonblock): not socket calls, they
     * work there. */
#define ON_FD_OPTION(name, kind, scope, alias)                                \
    if (want || (strcmp(#name, "cloexec") && strcmp(#name, "nonblock"))) {   \
        ON_FD(net_sock_##name(fd, -1));                                       \
        double set_ = (double)net_sock_##name(fd, 1);                         \
        cases++;                                                              \
        CHECK_(set_ < 0 && sane(set_), "net_sock_%s(%d, 1) = %g", #name, fd, set_); \
    }
    NET_SOCK_OPTIONS(ON_FD_OPTION)
#undef ON_FD_OPTION
#undef ON_FD
}

static void test_bad_fds(void)
{
    for (int i = 0; i < N_BAD_FDS; i++) {
        calls_on(bad_fds[i], -EBADF);
        CASE_EQ(-EBADF, net_poll_fd(bad_fds[i], POLLIN, 0));
        /* close is fine on a number nobody holds */
        CASE_EQ(-EBADF, net_sock_close(bad_fds[i]));
    }
    /* A descriptor that is no socket: every socket call fails, the
     * descriptor stays open and unchanged. */
    int file = open("/dev/null", O_RDONLY | O_CLOEXEC);
    SETUP(file >= 0);
    int fd_flags = fcntl(file, F_GETFD), fl_flags = fcntl(file, F_GETFL);
    calls_on(file, 0);
    cases += 2;
    CHECK_EQ(fd_flags, fcntl(file, F_GETFD));
    CHECK_EQ(fl_flags, fcntl(file, F_GETFL));
    CASE_EQ(0, net_sock_close(file));
}

/* Sizes and pointers on a real, connected, non-blocking pair. */
static void test_sizes_and_pointers(void)
{
    int fds[2];
    /* Static, not on the stack: the kernel clamps a huge length to about
     * 2 GiB and then checks that buf + length stays below the top of user
     * memory; a stack buffer that ASLR puts within 2 GiB of the top gets
     * EFAULT instead of EAGAIN (this test failed so now and then). */
    static char buf[8];
    net_addr_t addr;
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_NONBLOCK, fds) == 0);

    /* Nothing queued: a huge size reads nothing and writes nothing. */
    CASE_EQ(-EAGAIN, net_sock_recv(fds[0], buf, SIZE_MAX, 0));
    CASE_EQ(-EAGAIN, net_sock_recv(fds[0], buf, (size_t)INT_MAX + 1, 0));
    CASE_EQ(-EAGAIN, net_sock_recvfrom(fds[0], buf, SIZE_MAX, 0, &addr));
    /* NULL with a length: the kernel refuses the pointer (no signal). */
    CASE_EQ(-EFAULT, net_sock_send(fds[0], NULL, 10, 0));
    CASE_EQ(-EFAULT, net_sock_sendto(fds[0], NULL, 10, 0, NULL));
    /* NULL with length 0: a send of nothing is 0 bytes. */
    CASE_EQ(0, net_sock_send(fds[0], NULL, 0, 0));
    CASE_EQ(-EAGAIN, net_sock_recv(fds[1], buf, sizeof buf, 0));
    /* One byte queued, read into NULL: refused, the byte stays. */
    CASE_EQ(1, net_sock_send(fds[0], "x", 1, 0));
    CASE_EQ(-EFAULT, net_sock_recv(fds[1], NULL, 1, 0));
    CASE_EQ(1, net_sock_recv(fds[1], buf, sizeof buf, 0));
    CASE_EQ('x', buf[0]);
    /* Unknown flag bits: refused by the kernel, never a silent read. */
    CASE_FAILS(net_sock_recv(fds[1], buf, sizeof buf, INT_MIN));
    /* send ignores bits it does not know (Linux): it sends, never more than
     * asked. */
    CASE_EQ(1, net_sock_send(fds[0], "y", 1, INT_MIN));
    CASE_EQ(1, net_sock_recv(fds[1], buf, sizeof buf, 0));
    /* Bad "how", bad backlog on a non-listening unix stream. */
    CASE_EQ(-EINVAL, net_sock_shutdown(fds[0], -1));
    CASE_EQ(-EINVAL, net_sock_shutdown(fds[0], INT_MAX));
    /* NULL addresses where one is needed. */
    CASE_EQ(-EINVAL, net_sock_bind(fds[0], NULL));
    CASE_EQ(-EINVAL, net_sock_connect(fds[0], NULL));
    CASE_EQ(-EINVAL, net_sock_getsockname(fds[0], NULL));
    CASE_EQ(-EINVAL, net_sock_getpeername(fds[0], NULL));
    /* An address whose len or family lies. */
    net_addr_inet(&addr, "127.0.0.1", 9);
    addr.len = UINT32_MAX;
    CASE_EQ(-EINVAL, net_sock_bind(fds[0], &addr));
    CASE_EQ(-EINVAL, net_sock_connect(fds[0], &addr));
    CASE_EQ(-EINVAL, net_sock_sendto(fds[0], "z", 1, 0, &addr));
    addr.len = 0;
    CASE_EQ(-EINVAL, net_sock_connect(fds[0], &addr));
    net_addr_inet(&addr, "127.0.0.1", 9);
    addr.family = AF_INET6;
    CASE_EQ(-EINVAL, net_sock_connect(fds[0], &addr));
    /* linger: a negative time; both pointers NULL only reads. */
    net_linger_t lg = {1, -1};
    CASE_EQ(-EINVAL, net_sock_linger(fds[0], &lg, NULL));
    lg.seconds = INT_MIN;
    CASE_EQ(-EINVAL, net_sock_linger(fds[0], &lg, NULL));
    CASE_EQ(0, net_sock_linger(fds[0], NULL, NULL));
    /* Seconds options: NaN, infinities, beyond 31 years; negative reads. */
    static const double bad_seconds[] = {NAN, INFINITY, 1e300, 1e10};
    for (size_t i = 0; i < sizeof bad_seconds / sizeof *bad_seconds; i++) {
        CASE_EQ(-EINVAL, net_sock_rcvtimeo(fds[0], bad_seconds[i]));
        CASE_EQ(-EINVAL, net_sock_sndtimeo(fds[0], bad_seconds[i]));
    }
    /* (set first: a negative that set 0 would read as it) */
    cases += 4;
    CHECK_DBL(1.5, net_sock_rcvtimeo(fds[0], 1.5));
    CHECK_DBL(2.5, net_sock_sndtimeo(fds[0], 2.5));
    CHECK_DBL(1.5, net_sock_rcvtimeo(fds[0], -INFINITY));
    CHECK_DBL(2.5, net_sock_sndtimeo(fds[0], -1e300));
    /* Int options at the ends of int: INT_MIN reads (what -1 reads, and
     * changes nothing); INT_MAX sets or fails. */
#define EXTREMES(name, kind, scope, alias)                                    \
    do {                                                                      \
        cases += 2;                                                           \
        double r0_ = (double)net_sock_##name(fds[0], (NET_OPTION_TYPE_##kind)-1); \
        double r1_ = (double)net_sock_##name(fds[0], (NET_OPTION_TYPE_##kind)INT_MIN); \
        double r1b_ = (double)net_sock_##name(fds[0], (NET_OPTION_TYPE_##kind)-1); \
        double r2_ = (double)net_sock_##name(fds[0], (NET_OPTION_TYPE_##kind)INT_MAX); \
        CHECK_(sane(r1_) && r1_ == r0_ && r1b_ == r0_,                        \
               "%s(fd, INT_MIN) = %g, -1 before %g, after %g", #name, r1_, r0_, r1b_); \
        CHECK_(sane(r2_), "%s(fd, INT_MAX) = %g", #name, r2_);                \
    } while (0);
    NET_SOCK_OPTIONS(EXTREMES)
#undef EXTREMES
    /* poll: NaN is refused, unknown events wait out a zero timeout. */
    CASE_EQ(-EINVAL, net_poll_fd(fds[0], POLLIN, NAN));
    CASE_EQ(0, net_poll_fd(fds[1], 0, 0));
    CASE_EQ(0, net_poll_fd(fds[1], POLLPRI, 0.0));
    cases++;
    CHECK(net_poll_fd(fds[0], -1, -INFINITY) > 0); /* writable: at once */
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}

static void test_addresses(void)
{
    net_addr_t a, b;
    char buf[NET_ADDR_STORAGE + 1];
    char big[300];
    memset(big, '1', sizeof big);
    big[sizeof big - 1] = '\0';

    CASE_EQ(-EINVAL, net_addr_inet(NULL, "127.0.0.1", 1));
    CASE_EQ(-EINVAL, net_addr_inet(&a, NULL, 1));
    CASE_EQ(-EINVAL, net_addr_inet(&a, "127.0.0.1", -1));
    CASE_EQ(-EINVAL, net_addr_inet(&a, "127.0.0.1", 65536));
    CASE_EQ(-EINVAL, net_addr_inet(&a, "127.0.0.1", INT_MAX));
    CASE_EQ(-EINVAL, net_addr_inet(&a, "127.0.0.1", INT_MIN));
    CASE_EQ(-EINVAL, net_addr_inet(&a, "", 1));
    CASE_EQ(-EINVAL, net_addr_inet(&a, big, 1));
    CASE_EQ(-EINVAL, net_addr_inet(&a, "localhost", 1));
    CASE_EQ(-EINVAL, net_addr_inet(&a, "1.2.3.4.5", 1));
    CASE_EQ(-EINVAL, net_addr_inet(&a, "%lo", 1));
    CASE_EQ(-EINVAL, net_addr_inet(&a, "::1%%", 1));

    CASE_EQ(-EINVAL, net_addr_unix(NULL, "x", 1));
    CASE_EQ(-EINVAL, net_addr_unix(&a, NULL, 1));
    CASE_EQ(-EINVAL, net_addr_unix(&a, "x", 0));
    CASE_EQ(-ENAMETOOLONG, net_addr_unix(&a, big, sizeof big));
    CASE_EQ(-ENAMETOOLONG, net_addr_unix(&a, big, SIZE_MAX));
    CASE_EQ(-EINVAL, net_addr_unix(&a, "a\0b", 3));

    /* Reading: NULLs, short buffers, the wrong family, an empty address. */
    SETUP(net_addr_inet(&a, "::1", 80) == 0);
    CASE_EQ(-EINVAL, net_addr_host(NULL, buf, sizeof buf));
    CASE_EQ(-EINVAL, net_addr_host(&a, NULL, sizeof buf));
    CASE_EQ(-ENOSPC, net_addr_host(&a, buf, 0));
    CASE_EQ(-ENOSPC, net_addr_host(&a, buf, 3));
    CASE_EQ(3, net_addr_host(&a, buf, 4));
    CASE_EQ(-EINVAL, net_addr_port(NULL));
    CASE_EQ(-EINVAL, net_addr_path(NULL, buf, sizeof buf));
    CASE_EQ(-EAFNOSUPPORT, net_addr_path(&a, buf, sizeof buf));
    SETUP(net_addr_unix(&b, "/tmp/x", 6) == 0);
    CASE_EQ(-EAFNOSUPPORT, net_addr_host(&b, buf, sizeof buf));
    CASE_EQ(-EAFNOSUPPORT, net_addr_port(&b));
    CASE_EQ(-EINVAL, net_addr_path(&b, NULL, sizeof buf));
    CASE_EQ(-ENOSPC, net_addr_path(&b, buf, 6));
    CASE_EQ(6, net_addr_path(&b, buf, 7));
    /* An address whose fields lie (a caller's struct): family says unix,
     * len says more than the storage. */
    memset(&b, 0xff, sizeof b);
    b.family = AF_UNIX;
    cases++;
    CHECK(net_addr_path(&b, buf, sizeof buf) <= NET_ADDR_STORAGE);
    memset(&b, 0, sizeof b);
    CASE_EQ(-EAFNOSUPPORT, net_addr_host(&b, buf, sizeof buf));
    CASE_EQ(-EAFNOSUPPORT, net_addr_port(&b));
    b.family = INT32_MIN;
    CASE_EQ(-EAFNOSUPPORT, net_addr_host(&b, buf, sizeof buf));
}

static void test_resolving(void)
{
    net_addrinfo_t out[2];
    char big[2000];
    memset(big, '9', sizeof big);
    big[sizeof big - 1] = '\0';

    CASE_EQ(-EINVAL, net_getaddrinfo("127.0.0.1", "1", 0, 0, 0, -1, out, 2));
    CASE_EQ(-EINVAL, net_getaddrinfo("127.0.0.1", "1", 0, 0, 0, INT_MIN, out, 2));
    CASE_EQ(-EINVAL, net_getaddrinfo("127.0.0.1", "1", 0, 0, 0, 16, out, 2));
    CASE_EQ(-EINVAL, net_getaddrinfo("127.0.0.1", "1", 0, 0, 0, 0, NULL, 1));
    CASE_EQ(-EINVAL, net_getaddrinfo("127.0.0.1", "1", 0, 0, 0, 0, out, -1));
    CASE_EQ(-EINVAL, net_getaddrinfo("127.0.0.1", "1", 0, 0, 0, 0, out, INT_MIN));
    /* max 0 with no room: only the count. */
    CASE_EQ(1, net_getaddrinfo("127.0.0.1", "1", AF_INET, SOCK_STREAM, 0, 0, NULL, 0));
    /* Unknown families, types, protocols: getaddrinfo's own codes. */
    CASE_FAILS(net_getaddrinfo("127.0.0.1", "1", -1, 0, 0, 0, out, 2));
    CASE_FAILS(net_getaddrinfo("127.0.0.1", "1", INT_MAX, 0, 0, 0, out, 2));
    CASE_FAILS(net_getaddrinfo("127.0.0.1", "1", AF_UNIX, 0, 0, 0, out, 2));
    CASE_FAILS(net_getaddrinfo("127.0.0.1", "1", AF_INET, -1, 0, 0, out, 2));
    CASE_FAILS(net_getaddrinfo("127.0.0.1", "1", AF_INET, SOCK_STREAM, IPPROTO_UDP, 0, out, 2));
    /* Huge or empty strings, numeric-only flags on names. */
    CASE_EQ(EAI_RESULT(EAI_SERVICE), net_getaddrinfo("127.0.0.1", big, AF_INET, 0, 0, 0, out, 2));
    CASE_FAILS(net_getaddrinfo(big, "1", AF_INET, 0, 0, NET_AI_NUMERICHOST, out, 2));
    CASE_FAILS(net_getaddrinfo("", "1", AF_INET, 0, 0, NET_AI_NUMERICHOST, out, 2));
    /* An empty service names no port: refused, never port 0 (net.h). */
    CASE_EQ(EAI_RESULT(EAI_SERVICE),
            net_getaddrinfo("127.0.0.1", "", AF_INET, SOCK_STREAM, 0, NET_AI_NUMERICSERV, out, 2));
    CASE_FAILS(net_getaddrinfo("localhost", "1", AF_INET, 0, 0, NET_AI_NUMERICHOST, out, 2));

    CASE_EQ(-EINVAL, net_getaddrinfo_unix("x", 1, SOCK_STREAM, NULL));
    CASE_EQ(-EINVAL, net_getaddrinfo_unix(NULL, 1, SOCK_STREAM, out));
    CASE_EQ(-EINVAL, net_getaddrinfo_unix("x", 0, SOCK_STREAM, out));
    CASE_EQ(-ENAMETOOLONG, net_getaddrinfo_unix(big, sizeof big, SOCK_STREAM, out));
    CASE_EQ(-ENAMETOOLONG, net_getaddrinfo_unix("x", SIZE_MAX, SOCK_STREAM, out));
}

int main(void)
{
    const int fds_at_start = fd_count();
    test_library();
    test_making();
    test_bad_fds();
    test_sizes_and_pointers();
    test_addresses();
    test_resolving();
    CHECK_EQ(fds_at_start, fd_count());
    printf("matrix: %d cases\n", cases);
    return check_done("matrix");
}
