/* poll_test.c — net_poll_fd: readiness of streams and listeners, timeouts
 * that last their full time even across a signal or past poll(2)'s cap,
 * and bad descriptors. */
#define _GNU_SOURCE 1
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/time.h>
#include <time.h>

#include "check.h"
#include "interpose.h"
#include "util.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_stream(void)
{
    int fds[2];
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, 0, fds));
    /* Writable at once, nothing to read. */
    CHECK_EQ(POLLOUT, net_poll_fd(fds[0], POLLIN | POLLOUT, 0));

    double t0 = now();
    CHECK_EQ(0, net_poll_fd(fds[1], POLLIN, 0.05)); /* times out */
    double waited = now() - t0;
    CHECK_(waited >= 0.05 && waited < 2, "timed out after %.3f s, not 0.05", waited);

    CHECK_EQ(1, net_sock_send(fds[0], "x", 1, 0));
    CHECK_EQ(POLLIN, net_poll_fd(fds[1], POLLIN, -1));
    /* The peer gone: end of stream is readable, and the hang-up reported. */
    net_sock_close(fds[0]);
    int ev = net_poll_fd(fds[1], POLLIN, 1);
    CHECK(ev & POLLIN);
    CHECK(ev & POLLHUP);
    net_sock_close(fds[1]);
}

/* A listener is readable when a connection waits to be accepted. */
static void test_listener(const char *host)
{
    net_addr_t addr;
    int lfd = tcp_listener(host, &addr);
    CHECK_EQ(0, net_poll_fd(lfd, POLLIN, 0));
    int c = net_sock_open(addr.family, SOCK_STREAM, 0, 0);
    SETUP(net_sock_connect(c, &addr));
    CHECK_EQ(POLLIN, net_poll_fd(lfd, POLLIN, 5));
    int s = net_sock_accept(lfd, 0, NULL);
    CHECK(s >= 0);
    CHECK_EQ(0, net_poll_fd(lfd, POLLIN, 0));
    net_sock_close(s);
    net_sock_close(c);
    net_sock_close(lfd);
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

/* A signal arriving mid-wait (handler installed without SA_RESTART, so the
 * kernel's poll fails with EINTR) does not end the wait early. */
static void test_signal(void)
{
    int fds[2];
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    SETUP(sigaction(SIGALRM, &sa, &old));
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, 0, fds));

    struct itimerval once = {.it_value = {.tv_sec = 0, .tv_usec = 20000}};
    double t0 = now();
    SETUP(setitimer(ITIMER_REAL, &once, NULL));
    CHECK_EQ(0, net_poll_fd(fds[1], POLLIN, 0.2));
    double waited = now() - t0;
    CHECK_EQ(1, alarms);
    CHECK_(waited >= 0.2 && waited < 5, "waited %.3f s of 0.2 across a signal", waited);

    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
    sigaction(SIGALRM, &old, NULL);
}

/* poll(2) as libnet calls it (this program's definition comes first): while
 * capped_left > 0, a wait of INT_MAX ms (the cap: about 24.8 days) returns 0
 * at once, as the kernel's would when those days are over; the last such
 * wait makes capped_peer's socket readable first. Other waits are the real
 * poll's. */
static int capped_left, capped_seen, capped_peer = -1;

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (timeout == INT_MAX && capped_left > 0) {
        capped_seen++;
        if (--capped_left == 0)
            net_sock_send(capped_peer, "x", 1, 0);
        return 0;
    }
    return REAL(poll)(fds, n, timeout);
}

/* A timeout longer than poll's cap (100 days, or none as infinity) is not
 * cut short at the cap: the wait goes on until the data comes. */
static void test_past_cap(void)
{
    const double timeouts[] = {100.0 * 86400, INFINITY};
    for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++) {
        int fds[2];
        char c;
        SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, 0, fds));
        capped_left = 2, capped_seen = 0, capped_peer = fds[0];
        CHECK_EQ(POLLIN, net_poll_fd(fds[1], POLLIN, timeouts[i]));
        CHECK_EQ(2, capped_seen);
        capped_left = 0;
        CHECK_EQ(1, net_sock_recv(fds[1], &c, 1, MSG_DONTWAIT)); /* the data came */
        net_sock_close(fds[0]);
        net_sock_close(fds[1]);
    }
}

static void test_bad(void)
{
    int fds[2];
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, 0, fds));
    CHECK_EQ(-EINVAL, net_poll_fd(fds[0], POLLOUT, NAN));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
    CHECK_EQ(-EBADF, net_poll_fd(fds[1], POLLIN, 0)); /* closed */
    CHECK_EQ(-EBADF, net_poll_fd(-1, POLLIN, 0));     /* poll would ignore it */
}

/* poll(2) failing for another reason than a signal ends the call with its
 * code: in a child whose RLIMIT_NOFILE is 0, poll of one descriptor is
 * EINVAL at once. Only EINTR is waited out (the loop ends at a result or
 * at the deadline poll itself reports): treating every failure so would
 * spin, which alarm ends. Skipped where the limit cannot be lowered to 0 (under valgrind). */
static void test_poll_fails(void)
{
    int fds[2];
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, 0, fds));
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {0, 0};
        alarm(3);
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            _exit(3);
        _exit(net_poll_fd(fds[0], POLLIN, 1) == -EINVAL ? 0 : 1);
    }
    int status = -1;
    CHECK(pid > 0);
    CHECK_EQ(pid, waitpid(pid, &status, 0));
    CHECK(WIFEXITED(status));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
        SKIPPED("failing poll(2) (RLIMIT_NOFILE 0 refused here)");
    else
        CHECK_EQ(0, WEXITSTATUS(status));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}

int main(void)
{
    const int fds_at_start = fd_count();
    test_stream();
    test_listener("127.0.0.1");
    test_listener("::1");
    test_signal();
    test_past_cap();
    test_bad();
    test_poll_fails();
    CHECK_EQ(fds_at_start, fd_count()); /* nothing leaked */
    return check_done("poll");
}
