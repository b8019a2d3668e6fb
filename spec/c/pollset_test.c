/* pollset_test.c — poll sets (net_poll_create/ctl/wait/close) on real
 * sockets. Built twice (spec/c/meson.build): against libnet as it is (epoll
 * on Linux), and with src/pollset.c compiled into the program with
 * NET_POLLSET_FORCE_POLL, so the poll(2) backend of other platforms runs
 * here too (the program's own definitions take precedence over libnet's).
 * Each build checks that it runs the backend it names. */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include "util.h"

#ifdef NET_POLLSET_FORCE_POLL
#define BACKEND "poll"
#else
#define BACKEND "epoll"
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pair(int fds[2])
{
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC, fds));
}

/* The backend behind a handle: epoll's is an "anon_inode:[eventpoll]", the
 * fallback's a pipe. */
static void test_backend(void)
{
    char link[64], target[128];
    struct stat st;
    int pfd = net_poll_create(NET_CLOEXEC);
    ssize_t len;
    SETUP(pfd);
    snprintf(link, sizeof link, "/proc/self/fd/%d", pfd);
    len = readlink(link, target, sizeof target - 1);
    SETUP(len);
    target[len] = '\0';
    SETUP(fstat(pfd, &st));
#ifdef NET_POLLSET_FORCE_POLL
    CHECK(S_ISFIFO(st.st_mode));
#else
    CHECK_STR("anon_inode:[eventpoll]", target);
#endif
    CHECK_EQ(FD_CLOEXEC, fcntl(pfd, F_GETFD) & FD_CLOEXEC);
    CHECK_EQ(0, net_poll_close(pfd));
    CHECK_EQ(-EBADF, net_poll_close(pfd)); /* closed once only */

    pfd = net_poll_create(0);
    SETUP(pfd);
    CHECK_EQ(0, fcntl(pfd, F_GETFD) & FD_CLOEXEC);
    CHECK_EQ(0, net_poll_close(pfd));
    CHECK_EQ(-EINVAL, net_poll_create(NET_NONBLOCK));
    CHECK_EQ(-EINVAL, net_poll_create(-1));
}

static void test_readiness(void)
{
    int fds[2];
    net_poll_event_t ev[4];
    const uint64_t word = 0xfedcba9876543210ull; /* all 64 bits come back */
    int pfd = net_poll_create(NET_CLOEXEC);
    SETUP(pfd);
    pair(fds);

    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_ADD, fds[1], POLLIN, word));
    CHECK_EQ(0, net_poll_wait(pfd, ev, 4, 0)); /* nothing to read */

    double t0 = now();
    CHECK_EQ(0, net_poll_wait(pfd, ev, 4, 0.05));
    double waited = now() - t0;
    CHECK_(waited >= 0.05 && waited < 2, "timed out after %.3f s, not 0.05", waited);

    CHECK_EQ(1, net_sock_send(fds[0], "x", 1, 0));
    CHECK_EQ(1, net_poll_wait(pfd, ev, 4, -1));
    CHECK_EQ(fds[1], ev[0].fd);
    CHECK_EQ(POLLIN, ev[0].events);
    CHECK(ev[0].data == word);
    /* level-triggered: still there until read */
    CHECK_EQ(1, net_poll_wait(pfd, ev, 4, 0));

    /* MOD: now writability, with another word */
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_MOD, fds[1], POLLIN | POLLOUT, 7));
    CHECK_EQ(1, net_poll_wait(pfd, ev, 4, 0));
    CHECK_EQ(POLLIN | POLLOUT, ev[0].events);
    CHECK(ev[0].data == 7);
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_MOD, fds[1], POLLOUT, 8));
    CHECK_EQ(1, net_poll_wait(pfd, ev, 4, 0));
    CHECK_EQ(POLLOUT, ev[0].events);

    /* two descriptors, and max smaller than the ready count */
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_ADD, fds[0], POLLOUT, 9));
    CHECK_EQ(2, net_poll_wait(pfd, ev, 4, 0));
    CHECK((ev[0].fd == fds[0] && ev[1].fd == fds[1]) ||
          (ev[0].fd == fds[1] && ev[1].fd == fds[0]));
    CHECK_EQ(1, net_poll_wait(pfd, ev, 1, 0));

    /* DEL: nothing more from it */
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_DEL, fds[0], 0, 0));
    CHECK_EQ(1, net_poll_wait(pfd, ev, 4, 0));
    CHECK_EQ(fds[1], ev[0].fd);

    /* hang-up: the peer gone is readable and POLLHUP, even unasked */
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_MOD, fds[1], 0, 10));
    CHECK_EQ(0, net_poll_wait(pfd, ev, 4, 0));
    net_sock_close(fds[0]);
    CHECK_EQ(1, net_poll_wait(pfd, ev, 4, 1));
    CHECK(ev[0].events & POLLHUP);
    CHECK_EQ(0, ev[0].events & POLLIN); /* not asked for */
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_MOD, fds[1], POLLIN, 11));
    CHECK_EQ(1, net_poll_wait(pfd, ev, 4, 1));
    CHECK((ev[0].events & (POLLIN | POLLHUP)) == (POLLIN | POLLHUP));

    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_DEL, fds[1], 0, 0));
    net_sock_close(fds[1]);
    CHECK_EQ(0, net_poll_close(pfd));
}

static void test_listener(const char *host)
{
    net_addr_t addr;
    net_poll_event_t ev[2];
    int lfd = tcp_listener(host, &addr);
    int pfd = net_poll_create(NET_CLOEXEC);
    SETUP(pfd);
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_ADD, lfd, POLLIN, 1));
    CHECK_EQ(0, net_poll_wait(pfd, ev, 2, 0));
    int c = net_sock_open(addr.family, SOCK_STREAM, 0, NET_CLOEXEC);
    SETUP(net_sock_connect(c, &addr));
    CHECK_EQ(1, net_poll_wait(pfd, ev, 2, 5));
    CHECK_EQ(lfd, ev[0].fd);
    CHECK_EQ(POLLIN, ev[0].events);
    int s = net_sock_accept(lfd, NET_CLOEXEC, NULL);
    CHECK(s >= 0);
    CHECK_EQ(0, net_poll_wait(pfd, ev, 2, 0));
    net_sock_close(s);
    net_sock_close(c);
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_DEL, lfd, 0, 0));
    net_sock_close(lfd);
    CHECK_EQ(0, net_poll_close(pfd));
}

/* This process's resident memory in KiB. */
static long resident_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_bad(void)
{
    int fds[2];
    net_poll_event_t ev[1];
    int pfd = net_poll_create(NET_CLOEXEC);
    SETUP(pfd);
    pair(fds);
    CHECK_EQ(-EINVAL, net_poll_ctl(pfd, 0, fds[0], POLLIN, 0));
    CHECK_EQ(-EINVAL, net_poll_ctl(pfd, 4, fds[0], POLLIN, 0));
    CHECK_EQ(-EINVAL, net_poll_ctl(pfd, NET_POLL_ADD, fds[0], 0x8000, 0));
    CHECK_EQ(-EINVAL, net_poll_ctl(pfd, NET_POLL_ADD, pfd, POLLIN, 0));
    CHECK_EQ(-EBADF, net_poll_ctl(pfd, NET_POLL_ADD, -1, POLLIN, 0));
    CHECK_EQ(-EBADF, net_poll_ctl(fds[0], NET_POLL_ADD, fds[1], POLLIN, 0)); /* not a set */
    CHECK_EQ(-EBADF, net_poll_ctl(-1, NET_POLL_ADD, fds[1], POLLIN, 0));
    CHECK_EQ(-ENOENT, net_poll_ctl(pfd, NET_POLL_MOD, fds[0], POLLIN, 0));
    CHECK_EQ(-ENOENT, net_poll_ctl(pfd, NET_POLL_DEL, fds[0], 0, 0));
    CHECK_EQ(-ENOENT, net_poll_ctl(pfd, NET_POLL_DEL, 100000, 0, 0));
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_ADD, fds[0], POLLIN | POLLERR | POLLHUP, 0));
    CHECK_EQ(-EEXIST, net_poll_ctl(pfd, NET_POLL_ADD, fds[0], POLLIN, 0));
    CHECK_EQ(-EBADF, net_poll_ctl(pfd, NET_POLL_ADD, 100000, POLLIN, 0)); /* not open */
    {
        /* a large number that is not open: the slots do not grow to it */
        long before = resident_kib();
        CHECK_EQ(-EBADF, net_poll_ctl(pfd, NET_POLL_ADD, 100000000, POLLIN, 0));
        CHECK(resident_kib() - before < 1024);
        CHECK_EQ(-EBADF, net_poll_ctl(pfd, NET_POLL_ADD, INT_MAX, POLLIN, 0)); /* was a hang */
    }
    CHECK_EQ(-EINVAL, net_poll_wait(pfd, ev, 0, 0));
    CHECK_EQ(-EINVAL, net_poll_wait(pfd, NULL, 1, 0));
    CHECK_EQ(-EINVAL, net_poll_wait(pfd, ev, 1, NAN));
    CHECK_EQ(-EBADF, net_poll_wait(fds[1], ev, 1, 0));
    CHECK_EQ(-EBADF, net_poll_wait(-1, ev, 1, 0));
    CHECK_EQ(-EBADF, net_poll_close(fds[1])); /* a socket is no set: left open */
    CHECK_EQ(1, net_sock_send(fds[0], "y", 1, 0));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
    CHECK_EQ(0, net_poll_close(pfd));
}

/* More descriptors ready than a wait takes: each gets its turn. */
static void test_turns(void)
{
    net_poll_event_t ev[1];
    int a[2], b[2], seen_a = 0, seen_b = 0, i;
    int pfd = net_poll_create(NET_CLOEXEC);
    SETUP(pfd);
    pair(a);
    pair(b);
    SETUP(net_poll_ctl(pfd, NET_POLL_ADD, a[0], POLLIN, 1));
    SETUP(net_poll_ctl(pfd, NET_POLL_ADD, b[0], POLLIN, 2));
    CHECK_EQ(1, net_sock_send(a[1], "a", 1, 0));
    CHECK_EQ(1, net_sock_send(b[1], "b", 1, 0));
    for (i = 0; i < 4; i++) {
        CHECK_EQ(1, net_poll_wait(pfd, ev, 1, 0));
        seen_a += ev[0].data == 1;
        seen_b += ev[0].data == 2;
    }
    CHECK_EQ(2, seen_a);
    CHECK_EQ(2, seen_b);
    net_sock_close(a[0]);
    net_sock_close(a[1]);
    net_sock_close(b[0]);
    net_sock_close(b[1]);
    CHECK_EQ(0, net_poll_close(pfd));
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

/* A signal ends the wait with -EINTR, even with SA_RESTART: it is never
 * waited out again with a fresh timeout. */
static void test_signal(void)
{
    struct sigaction sa, old;
    net_poll_event_t ev[1];
    int fds[2];
    int pfd = net_poll_create(NET_CLOEXEC);
    SETUP(pfd);
    pair(fds);
    SETUP(net_poll_ctl(pfd, NET_POLL_ADD, fds[1], POLLIN, 0));
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    SETUP(sigaction(SIGALRM, &sa, &old));
    struct itimerval once = {.it_value = {.tv_sec = 0, .tv_usec = 20000}};
    double t0 = now();
    SETUP(setitimer(ITIMER_REAL, &once, NULL));
    CHECK_EQ(-EINTR, net_poll_wait(pfd, ev, 1, 5));
    double waited = now() - t0;
    CHECK_EQ(1, alarms);
    CHECK_(waited < 2, "waited %.3f s: the signal did not end the wait", waited);
    sigaction(SIGALRM, &old, NULL);
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
    CHECK_EQ(0, net_poll_close(pfd));
}

/* A descriptor closed without DEL (and no dup of it left) reports nothing,
 * and its number stays registered until DEL, on both backends. With a dup
 * alive, epoll keeps the old registration in the kernel (epoll(7)): once the
 * number is DELeted and added again for a new descriptor, the old
 * registration's events must not be taken for the new one's. */
static void test_closed(void)
{
    net_poll_event_t ev[4];
    int a[2], b[2], c[2];
    int pfd = net_poll_create(NET_CLOEXEC);
    SETUP(pfd);

    pair(a);
    SETUP(net_poll_ctl(pfd, NET_POLL_ADD, a[1], POLLIN, 1));
    int number = a[1];
    net_sock_close(a[1]); /* no DEL */
    CHECK_EQ(0, net_poll_wait(pfd, ev, 4, 0));
    CHECK_EQ(0, net_poll_wait(pfd, ev, 4, 0.02)); /* waits its time: nothing */
    CHECK_EQ(-EEXIST, net_poll_ctl(pfd, NET_POLL_ADD, number, POLLIN, 1));
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_DEL, number, 0, 0));
    net_sock_close(a[0]);

    pair(c);
    SETUP(net_poll_ctl(pfd, NET_POLL_ADD, c[1], POLLIN, 1));
    int dup_fd = fcntl(c[1], F_DUPFD_CLOEXEC, 0);
    SETUP(dup_fd);
    number = c[1];
    net_sock_close(c[1]); /* no DEL, and the file lives on in dup_fd */
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC, b));
    /* socketpair takes the lowest free numbers: one of them is the old one */
    int reused = b[0] == number ? b[0] : b[1];
    int other = reused == b[0] ? b[1] : b[0];
    CHECK_EQ(number, reused);
    CHECK_EQ(-EEXIST, net_poll_ctl(pfd, NET_POLL_ADD, reused, POLLIN, 2));
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_DEL, reused, 0, 0));
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_ADD, reused, POLLIN, 2));
    CHECK_EQ(1, net_sock_send(c[0], "z", 1, 0)); /* the old file is readable */
    CHECK_EQ(0, net_poll_wait(pfd, ev, 4, 0));    /* but it is not ours */
    CHECK_EQ(0, net_poll_wait(pfd, ev, 4, 0.02));
    CHECK_EQ(1, net_sock_send(other, "w", 1, 0));
    CHECK_EQ(1, net_poll_wait(pfd, ev, 4, 1));
    CHECK_EQ(reused, ev[0].fd);
    CHECK(ev[0].data == 2);

    CHECK_EQ(0, net_poll_close(pfd));
    close(dup_fd);
    net_sock_close(c[0]);
    net_sock_close(b[0]);
    net_sock_close(b[1]);
}

/* The same file back under its old number (dup2) after a close without DEL:
 * epoll kept its old entry, which an ADD replaces (it was -EEXIST for ever,
 * the number lost to the set); the events are the new registration's. */
static void test_same_file_again(void)
{
    net_poll_event_t ev[4];
    int a[2], keep;
    int pfd = net_poll_create(NET_CLOEXEC);
    SETUP(pfd);
    pair(a);
    SETUP(net_poll_ctl(pfd, NET_POLL_ADD, a[1], POLLIN, 1));
    keep = fcntl(a[1], F_DUPFD_CLOEXEC, 0);
    SETUP(keep);
    net_sock_close(a[1]); /* no DEL, and the file lives on in keep */
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_DEL, a[1], 0, 0));
    SETUP(dup2(keep, a[1]) == a[1] ? 0 : -1);
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_ADD, a[1], POLLIN, 2));
    CHECK_EQ(1, net_sock_send(a[0], "x", 1, 0));
    CHECK_EQ(1, net_poll_wait(pfd, ev, 4, 1));
    CHECK_EQ(a[1], ev[0].fd);
    CHECK(ev[0].data == 2);
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_MOD, a[1], POLLIN, 3));
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_DEL, a[1], 0, 0));
    CHECK_EQ(0, net_poll_wait(pfd, ev, 4, 0)); /* nothing of it left */
    CHECK_EQ(0, net_poll_close(pfd));
    close(keep);
    net_sock_close(a[0]);
    net_sock_close(a[1]);
}

/* MOD of a number closed without DEL that now names another file: the
 * number is still registered (ADD says -EEXIST), so MOD watches that file,
 * on both backends (epoll, which forgot the closed file, said -ENOENT). The
 * old file lives on in a dup and is readable: its stale entry's events are
 * not the new registration's. */
static void test_mod_reused_number(void)
{
    net_poll_event_t ev[4];
    int a[2], b[2], keep, number;
    int pfd = net_poll_create(NET_CLOEXEC);
    SETUP(pfd);
    pair(a);
    pair(b);
    SETUP(net_poll_ctl(pfd, NET_POLL_ADD, a[0], POLLIN, 1));
    keep = fcntl(a[0], F_DUPFD_CLOEXEC, 0);
    SETUP(keep);
    number = a[0];
    SETUP(dup2(b[0], number) == number ? 0 : -1); /* closes a[0]'s, no DEL */
    net_sock_close(b[0]);
    SETUP(net_sock_send(a[1], "a", 1, 0)); /* the old file is readable */
    SETUP(net_sock_send(b[1], "b", 1, 0)); /* and so is the new one */
    CHECK_EQ(-EEXIST, net_poll_ctl(pfd, NET_POLL_ADD, number, POLLIN, 2));
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_MOD, number, POLLIN, 2));
    CHECK_EQ(1, net_poll_wait(pfd, ev, 4, 1));
    CHECK_EQ(number, ev[0].fd);
    CHECK(ev[0].data == 2);
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_DEL, number, 0, 0));
    CHECK_EQ(0, net_poll_wait(pfd, ev, 4, 0));
    CHECK_EQ(0, net_poll_close(pfd));
    close(keep);
    net_sock_close(number);
    net_sock_close(a[1]);
    net_sock_close(b[1]);
}

/* Numbers above FD_SETSIZE (1024) work: many registrations, and the last
 * one made readable is found. */
static void test_high(void)
{
    enum { MANY = 1100 };
    static int fds[MANY][2];
    net_poll_event_t ev[8];
    struct rlimit rl;
    int i, pfd, made = 0;
    SETUP(getrlimit(RLIMIT_NOFILE, &rl));
    if (rl.rlim_cur < 2 * MANY + 64 && rl.rlim_max >= 2 * MANY + 64) {
        rl.rlim_cur = 2 * MANY + 64;
        SETUP(setrlimit(RLIMIT_NOFILE, &rl));
    }
    if (rl.rlim_cur < 2 * MANY + 64) {
        SKIPPED("pollset(%s): fds above 1024 (RLIMIT_NOFILE hard limit %llu)", BACKEND,
                (unsigned long long)rl.rlim_max);
        return;
    }
    pfd = net_poll_create(NET_CLOEXEC);
    SETUP(pfd);
    for (i = 0; i < MANY; i++, made++) {
        pair(fds[i]);
        SETUP(net_poll_ctl(pfd, NET_POLL_ADD, fds[i][1], POLLIN, (uint64_t)i));
    }
    CHECK(fds[MANY - 1][1] > 1024);
    CHECK_EQ(0, net_poll_wait(pfd, ev, 8, 0));
    CHECK_EQ(1, net_sock_send(fds[MANY - 1][0], "h", 1, 0));
    CHECK_EQ(1, net_poll_wait(pfd, ev, 8, 1));
    CHECK_EQ(fds[MANY - 1][1], ev[0].fd);
    CHECK(ev[0].data == MANY - 1);
    CHECK_EQ(0, net_poll_close(pfd));
    for (i = 0; i < made; i++) {
        net_sock_close(fds[i][0]);
        net_sock_close(fds[i][1]);
    }
}

/* A set belongs to the process that made it: in a child of fork() it is
 * -EBADF for ctl and wait, so a child's DEL or ADD never changes the
 * parent's set (epoll's is one kernel object for both). */
static void test_fork(void)
{
    int fds[2], mine[2], pfd, child, status = -1;
    net_poll_event_t ev[4];
    pid_t pid;
    pair(fds);
    pfd = net_poll_create(NET_CLOEXEC);
    SETUP(pfd);
    SETUP(net_poll_ctl(pfd, NET_POLL_ADD, fds[0], POLLIN, 7));
    pid = fork();
    SETUP(pid);
    if (pid == 0) {
        pair(mine);
        CHECK_EQ(-EBADF, net_poll_ctl(pfd, NET_POLL_DEL, fds[0], 0, 0));
        CHECK_EQ(-EBADF, net_poll_ctl(pfd, NET_POLL_ADD, mine[0], POLLIN, 8));
        CHECK_EQ(-EBADF, net_poll_wait(pfd, ev, 4, 0));
        CHECK_EQ(0, net_poll_close(pfd)); /* the child's copy */
        /* a set of its own works */
        child = net_poll_create(NET_CLOEXEC);
        CHECK(child >= 0);
        CHECK_EQ(0, net_poll_ctl(child, NET_POLL_ADD, mine[0], POLLIN, 9));
        CHECK_EQ(1, net_sock_send(mine[1], "c", 1, 0));
        CHECK_EQ(1, net_poll_wait(child, ev, 4, 1));
        CHECK_EQ(9, ev[0].data);
        _exit(check_failed ? 1 : 0);
    }
    CHECK_EQ(pid, waitpid(pid, &status, 0));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* the parent's registration is whole */
    CHECK_EQ(1, net_sock_send(fds[1], "p", 1, 0));
    CHECK_EQ(1, net_poll_wait(pfd, ev, 4, 1));
    CHECK_EQ(7, ev[0].data);
    CHECK_EQ(0, net_poll_close(pfd));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}

/* A wait of a thread of its own: the set, then what the wait gave. */
typedef struct waited {
    int pfd, n;
    net_poll_event_t ev[4];
    double took;
} waited_t;

static void *wait_two_seconds(void *arg)
{
    waited_t *w = arg;
    double t0 = net_now();
    w->n = net_poll_wait(w->pfd, w->ev, 4, 2);
    w->took = net_now() - t0;
    return NULL;
}

/* A registration made while another thread waits counts for that wait
 * (epoll's does; the poll(2) backend's wait wakes to take it in: it went
 * on with its old copy until its timeout). */
static void test_change_during_wait(void)
{
    int fds[2];
    waited_t w;
    pthread_t waiter;
    pair(fds);
    SETUP(net_sock_send(fds[1], "x", 1, 0)); /* readable from the start */
    w.pfd = net_poll_create(NET_CLOEXEC);
    SETUP(w.pfd);
    SETUP(-pthread_create(&waiter, NULL, wait_two_seconds, &w));
    usleep(100 * 1000); /* the waiter is in net_poll_wait by now */
    SETUP(net_poll_ctl(w.pfd, NET_POLL_ADD, fds[0], POLLIN, 5));
    SETUP(-pthread_join(waiter, NULL));
    CHECK_EQ(1, w.n);
    CHECK_EQ(5, w.ev[0].data);
    CHECK(w.took < 1);
    CHECK_EQ(0, net_poll_close(w.pfd));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}

/* The close-on-exec tests look at the descriptors below this: the test's
 * own, its runner's and the sets it makes are all well below it. */
enum { FD_SCAN = 256 };

/* Every descriptor net_poll_create(NET_CLOEXEC) opens is close-on-exec:
 * the handle, and on the poll(2) backend the set's wake-up pipe too, or a
 * child that execs would hold the pipe's ends. The numbers that were not
 * open before the call are the set's. */
static void test_cloexec_all(void)
{
    char was_open[FD_SCAN];
    int fd, pfd, added = 0, inheritable = 0;
    for (fd = 0; fd < FD_SCAN; fd++)
        was_open[fd] = fcntl(fd, F_GETFD) >= 0;
    pfd = net_poll_create(NET_CLOEXEC);
    SETUP(pfd);
    for (fd = 0; fd < FD_SCAN; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags < 0 || was_open[fd])
            continue;
        added++;
        inheritable += !(flags & FD_CLOEXEC);
    }
#ifdef NET_POLLSET_FORCE_POLL
    CHECK_EQ(3, added); /* the handle and the pipe's two ends */
#else
    CHECK_EQ(1, added);
#endif
    CHECK_EQ(0, inheritable);
    CHECK_EQ(0, net_poll_close(pfd));
}

/* ...and close-on-exec from the moment it exists: a program that another
 * thread forks and execs while a set is being made must never get one of
 * the set's descriptors. One thread makes and closes sets; this one forks
 * and execs this test as INHERITED_CHECK, which exits 1 when it holds a
 * descriptor above 2 (every one open before is made close-on-exec first).
 * The poll(2) backend's pipe made by pipe() and then fcntl() was caught in
 * about 1 child in 3 here; pipe2 makes it close-on-exec at once. Bounded:
 * 2000 children or 2 s, but 20 at least; the sets stop after 3 s (valgrind
 * runs one thread at a time and lets this busy one starve the forks until
 * then). The child runs natively under valgrind, which traces no exec. */
#define INHERITED_CHECK "--inherited-check"
static const char *self_path;
static atomic_int churn_stop;
static void *churn_sets(void *arg)
{
    double t0 = net_now();
    (void)arg;
    while (!atomic_load(&churn_stop) && net_now() - t0 < 3) {
        int pfd = net_poll_create(NET_CLOEXEC);
        if (pfd >= 0)
            net_poll_close(pfd);
    }
    return NULL;
}

/* The exec'd child: 1 when a descriptor above 2 came through the exec. */
static int inherited_check(void)
{
    int fd;
    for (fd = 3; fd < FD_SCAN; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            return 1;
    return 0;
}

static void test_cloexec_from_birth(void)
{
    int fd, children = 0, caught = 0;
    double t0 = net_now();
    pthread_t churn;
    for (fd = 3; fd < FD_SCAN; fd++) { /* the test's own, and its runner's */
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0)
            SETUP(fcntl(fd, F_SETFD, flags | FD_CLOEXEC));
    }
    atomic_store(&churn_stop, 0);
    SETUP(-pthread_create(&churn, NULL, churn_sets, NULL));
    while (children < 2000 && (children < 20 || net_now() - t0 < 2)) {
        int status = -1;
        pid_t pid = fork();
        SETUP(pid);
        if (pid == 0) {
            execl(self_path, self_path, INHERITED_CHECK, (char *)NULL);
            _exit(127);
        }
        SETUP(waitpid(pid, &status, 0));
        children++;
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 127);
        caught += WIFEXITED(status) && WEXITSTATUS(status) == 1;
    }
    atomic_store(&churn_stop, 1);
    SETUP(-pthread_join(churn, NULL));
    CHECK_EQ(0, caught);
}

/* ADD of a number that is not open, below the size the set's slots have
 * grown to (a registered number above it): -EBADF, as epoll says, and the
 * number is not registered (poll(2) would only report POLLNVAL later). */
static void test_add_closed(void)
{
    int a[2], b[2], closed;
    int pfd = net_poll_create(NET_CLOEXEC);
    SETUP(pfd);
    pair(a);
    pair(b);
    SETUP(net_poll_ctl(pfd, NET_POLL_ADD, b[1], POLLIN, 1)); /* the highest */
    closed = a[1];
    net_sock_close(a[1]);
    CHECK(closed < b[1]);
    CHECK_EQ(-EBADF, net_poll_ctl(pfd, NET_POLL_ADD, closed, POLLIN, 2));
    CHECK_EQ(-ENOENT, net_poll_ctl(pfd, NET_POLL_DEL, closed, 0, 0));
    CHECK_EQ(0, net_poll_close(pfd));
    net_sock_close(a[0]);
    net_sock_close(b[0]);
    net_sock_close(b[1]);
}

/* A DEL made while another thread waits counts for that wait: a socket
 * DELeted and then closed is gone at once, its peer reading EOF (the
 * poll(2) backend's wait, polling a copy that still names it, would hold
 * the socket open until its timeout). A byte to another registration then
 * ends the wait. */
static void test_del_during_wait(void)
{
    int gone[2], other[2], ready;
    char byte;
    waited_t w;
    pthread_t waiter;
    pair(gone);
    pair(other);
    w.pfd = net_poll_create(NET_CLOEXEC);
    SETUP(w.pfd);
    SETUP(net_poll_ctl(w.pfd, NET_POLL_ADD, gone[0], POLLIN, 1));
    SETUP(net_poll_ctl(w.pfd, NET_POLL_ADD, other[0], POLLIN, 2));
    SETUP(-pthread_create(&waiter, NULL, wait_two_seconds, &w));
    usleep(100 * 1000); /* the waiter is in net_poll_wait by now */
    SETUP(net_poll_ctl(w.pfd, NET_POLL_DEL, gone[0], 0, 0));
    net_sock_close(gone[0]);
    ready = net_poll_fd(gone[1], POLLIN, 0.5);
    CHECK(ready > 0 && (ready & POLLIN)); /* (with POLLHUP) */
    CHECK_EQ(0, ready > 0 ? net_sock_recv(gone[1], &byte, 1, MSG_DONTWAIT) : -1); /* EOF */
    SETUP(net_sock_send(other[1], "o", 1, 0));
    SETUP(-pthread_join(waiter, NULL));
    CHECK_EQ(1, w.n);
    CHECK_EQ(2, w.ev[0].data);
    CHECK_EQ(0, net_poll_close(w.pfd));
    net_sock_close(gone[1]);
    net_sock_close(other[0]);
    net_sock_close(other[1]);
}

/* A number closed without DEL never wakes a wait: a 0.3 s wait takes its
 * time and next to no CPU time (a wait told of it again and again by
 * poll(2), as POLLNVAL, would spin for all of it). */
static void test_closed_does_not_spin(void)
{
    net_poll_event_t ev[4];
    struct timespec cpu0, cpu1;
    int fds[2], number;
    double t0, took, cpu;
    int pfd = net_poll_create(NET_CLOEXEC);
    SETUP(pfd);
    pair(fds);
    SETUP(net_poll_ctl(pfd, NET_POLL_ADD, fds[0], POLLIN, 1));
    number = fds[0];
    net_sock_close(fds[0]); /* no DEL */
    t0 = now();
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
    CHECK_EQ(0, net_poll_wait(pfd, ev, 4, 0.3));
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
    took = now() - t0;
    cpu = (double)(cpu1.tv_sec - cpu0.tv_sec) + (double)(cpu1.tv_nsec - cpu0.tv_nsec) / 1e9;
    CHECK(took >= 0.25);
    CHECK_(cpu < 0.1, "a %.3f s wait took %.3f s of CPU time", took, cpu);
    CHECK_EQ(0, net_poll_ctl(pfd, NET_POLL_DEL, number, 0, 0));
    CHECK_EQ(0, net_poll_close(pfd));
    net_sock_close(fds[1]);
}

#ifdef NET_POLLSET_FORCE_POLL
/* The poll(2) backend, compiled into this program, calls this poll: while
 * delay_after_poll is set, a poll that returned is held 200 ms before the
 * caller goes on, as a thread the scheduler left waiting. */
#include "interpose.h"
static atomic_int delay_after_poll; /* set by one thread, read by another */
int poll(struct pollfd *fds, nfds_t n, int ms)
{
    int rc = REAL(poll)(fds, n, ms);
    if (delay_after_poll)
        usleep(200 * 1000);
    return rc;
}

/* A set closed by another thread during a wait: the wait, woken, must
 * neither poll the handle's number (free, then another file's) nor drain
 * it. Here the number goes to a pipe holding a byte while the woken wait is
 * held: the byte stays, and the wait ends at its timeout without spinning
 * (it drained that byte, or spun on POLLNVAL, when it polled the handle). */
static void test_close_during_wait(void)
{
    int fds[2], reuse[2];
    waited_t w;
    pthread_t waiter;
    char byte;
    struct timespec cpu0, cpu1;
    pair(fds);
    w.pfd = net_poll_create(NET_CLOEXEC);
    SETUP(w.pfd);
    SETUP(net_poll_ctl(w.pfd, NET_POLL_ADD, fds[0], POLLIN, 1));
    SETUP(-pthread_create(&waiter, NULL, wait_two_seconds, &w));
    usleep(100 * 1000); /* the waiter is in net_poll_wait by now */
    delay_after_poll = 1;
    SETUP(net_poll_ctl(w.pfd, NET_POLL_MOD, fds[0], POLLIN, 2)); /* wakes it */
    usleep(50 * 1000); /* its poll returned; it is held */
    delay_after_poll = 0;
    SETUP(net_poll_close(w.pfd));
    SETUP(pipe(reuse)); /* reuse[0] takes the handle's number */
    SETUP(fcntl(reuse[0], F_SETFL, O_NONBLOCK)); /* (a drained pipe ends the read) */
    CHECK_EQ(w.pfd, reuse[0]);
    CHECK_EQ(1, write(reuse[1], "!", 1));
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
    SETUP(-pthread_join(waiter, NULL));
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
    CHECK_EQ(0, w.n);
    CHECK((cpu1.tv_sec - cpu0.tv_sec) + (cpu1.tv_nsec - cpu0.tv_nsec) / 1e9 < 0.5);
    CHECK_EQ(1, read(reuse[0], &byte, 1)); /* still there */
    close(reuse[0]);
    close(reuse[1]);
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}
#endif

static void *wait_half_a_second(void *pfd)
{
    net_poll_event_t ev[4];
    return (void *)(long)net_poll_wait(*(int *)pfd, ev, 4, 0.5);
}

/* A set closed by another thread while a wait in it looks again and again
 * (a stale entry's events, dropped: see test_same_file_again): the wait
 * goes on in its own set until its time, and never reports a set made
 * meanwhile, whatever number that one got (epoll's looks used the handle's
 * number, which the new set could have taken: its events came back with
 * the old set's data). */
static void test_close_during_wait_keeps_its_set(void)
{
    int a[2], b[2], keep, pfd, other;
    pthread_t waiter;
    void *n;
    pair(a);
    pair(b);
    pfd = net_poll_create(NET_CLOEXEC);
    SETUP(pfd);
    SETUP(net_poll_ctl(pfd, NET_POLL_ADD, a[0], POLLIN, 1));
    keep = fcntl(a[0], F_DUPFD_CLOEXEC, 0);
    SETUP(keep);
    net_sock_close(a[0]); /* no DEL before it: the kernel's entry stays */
    SETUP(net_poll_ctl(pfd, NET_POLL_DEL, a[0], 0, 0));
    SETUP(net_sock_send(a[1], "a", 1, 0)); /* the stale entry reports */
    SETUP(-pthread_create(&waiter, NULL, wait_half_a_second, &pfd));
    usleep(100 * 1000); /* the waiter is in net_poll_wait by now */
    CHECK_EQ(0, net_poll_close(pfd));
    other = net_poll_create(NET_CLOEXEC);
    SETUP(other);
    SETUP(net_poll_ctl(other, NET_POLL_ADD, b[0], POLLIN, 2));
    SETUP(net_sock_send(b[1], "b", 1, 0));
    SETUP(-pthread_join(waiter, &n));
    CHECK_EQ(0, (int)(long)n);
    CHECK_EQ(0, net_poll_close(other));
    close(keep);
    net_sock_close(a[1]);
    net_sock_close(b[0]);
    net_sock_close(b[1]);
}

/* A fork while another thread waits in the set: that thread is not in the
 * child, nor its reference, so the child's close frees the set (the
 * reference it left kept the set's memory for good). The leak check of the
 * sanitizer build (scripts/test) sees it: the child ends by exit(), which
 * runs that check. */
static void test_fork_while_waiting(void)
{
    int pfd, status = -1;
    pthread_t waiter;
    void *rc;
    pid_t pid;
    pfd = net_poll_create(NET_CLOEXEC);
    SETUP(pfd);
    SETUP(-pthread_create(&waiter, NULL, wait_half_a_second, &pfd));
    usleep(100 * 1000); /* the waiter is in net_poll_wait by now */
    pid = fork();
    SETUP(pid);
    if (pid == 0) {
        CHECK_EQ(0, net_poll_close(pfd));
#ifdef NET_POLLSET_FORCE_POLL
        /* (the poll(2) backend's wait holds a copy of its records, which
         * went with its thread: the leak check would report that one) */
        _exit(check_failed ? 1 : 0);
#else
        exit(check_failed ? 1 : 0);
#endif
    }
    CHECK_EQ(pid, waitpid(pid, &status, 0));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    SETUP(-pthread_join(waiter, &rc));
    CHECK_EQ(0, (long)rc);
    CHECK_EQ(0, net_poll_close(pfd));
}

/* How many sockets can be opened now (each kept open: the caller's child
 * exits after). */
static int free_fds(void)
{
    int n = 0;
    while (net_sock_open(AF_UNIX, SOCK_DGRAM, 0, 0) >= 0)
        n++;
    return n;
}

/* A set made with k descriptors free (0 to 3, in a child with every other
 * taken): -EMFILE or a set, and a failure keeps none of the descriptors it
 * took (the poll(2) backend takes three: its pipe, then the handle, a dup
 * of the pipe's read end; epoll one). Skipped where the limit cannot be
 * lowered (valgrind). */
static void test_no_descriptor_left(void)
{
    for (int k = 0; k <= 3; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            struct rlimit rl = {32, 32};
            if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
                _exit(3);
            int taken[32], n = 0, pfd;
            while (n < 32 && (taken[n] = net_sock_open(AF_UNIX, SOCK_DGRAM, 0, 0)) >= 0)
                n++;
            if (n < k)
                _exit(4);
            for (int i = 0; i < k; i++)
                net_sock_close(taken[--n]);
            pfd = net_poll_create(NET_CLOEXEC);
            if (k == 0 && pfd != -EMFILE)
                _exit(5);
            if (pfd >= 0 && net_poll_close(pfd) != 0)
                _exit(6);
            if (pfd < 0 && pfd != -EMFILE)
                _exit(7);
            _exit(free_fds() == k ? 0 : 8); /* nothing kept */
        }
        int status = -1;
        CHECK(pid > 0);
        CHECK_EQ(pid, waitpid(pid, &status, 0));
        CHECK(WIFEXITED(status));
        if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
            SKIPPED("pollset: the no-descriptor case (RLIMIT_NOFILE cannot be lowered here)");
            return;
        }
        CHECK_(WIFEXITED(status) && WEXITSTATUS(status) == 0,
               "%d free descriptors: child exit %d", k, WEXITSTATUS(status));
    }
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], INHERITED_CHECK) == 0)
        return inherited_check();
    self_path = argv[0];
    const int fds_at_start = fd_count();
    test_backend();
    test_readiness();
    test_listener("127.0.0.1");
    test_listener("::1");
    test_bad();
    test_turns();
    test_signal();
    test_closed();
    test_same_file_again();
    test_mod_reused_number();
    test_high();
    test_fork();
    test_fork_while_waiting();
    test_close_during_wait_keeps_its_set();
    test_change_during_wait();
    test_cloexec_all();
    test_cloexec_from_birth();
    test_add_closed();
    test_del_during_wait();
    test_closed_does_not_spin();
    test_no_descriptor_left();
#ifdef NET_POLLSET_FORCE_POLL
    test_close_during_wait();
#endif
    CHECK_EQ(fds_at_start, fd_count()); /* nothing leaked */
    return check_done("pollset (" BACKEND ")");
}
