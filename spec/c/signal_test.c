/* signal_test.c — calls interrupted by a signal (issue 9, defect 4): under a
 * timer signal every PERIOD seconds, caught without SA_RESTART (as a Lua
 * signal handler is), a blocking recv/recvfrom/send/sendto/accept returns
 * -EINTR at the first signal, and so do the message calls (recvdgram,
 * recvfd, recvmany, sendfd, sendv, sendmany); a SO_RCVTIMEO/SO_SNDTIMEO
 * shorter than the period still expires on time: no call outlives its
 * timeout by more than one period. A blocking connect is waited for across
 * signals, never longer than SO_SNDTIMEO from its start, and reports how
 * the attempt ended (a refusal too); a unix one, which the kernel abandons
 * at a signal, returns -EINTR. sendfile returns at the first signal or at
 * SO_SNDTIMEO with what it sent. A call still blocked at the MAX_TICKS-th
 * signal ends the program with a failure (a library that restarts calls
 * with a fresh timeout would hang there instead). */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <signal.h>
#include <sys/time.h>

#include "check.h"
#include "util.h"

#define PERIOD 0.3
#define SLACK 0.25 /* scheduling on a loaded machine */
#define MAX_TICKS 20

static volatile sig_atomic_t ticks;
/* At tick act_on_tick (0: never) the handler also sends one byte on feed_fd,
 * empties the receive queue of empty_fd, empties the accept queue of
 * accept_fd and closes close_fd (each when >= 0): what a call restarted
 * after the first signal would then complete with, so a restart fails a
 * CHECK instead of running to MAX_TICKS. */
static volatile sig_atomic_t act_on_tick;
static int feed_fd = -1, empty_fd = -1, accept_fd = -1, close_fd = -1;

static void set_timer(double first, double period)
{
    struct itimerval it = {
        .it_interval = {(time_t)period, (suseconds_t)((period - (time_t)period) * 1e6)},
        .it_value = {(time_t)first, (suseconds_t)((first - (time_t)first) * 1e6)},
    };
    setitimer(ITIMER_REAL, &it, NULL);
}

static void on_tick(int sig)
{
    (void)sig;
    int saved = errno;
    ticks++;
    if (ticks >= MAX_TICKS) { /* a call that outlived MAX_TICKS signals */
        static const char msg[] = "signal_test: a call went on across "
                                  "20 signals (restarted on EINTR?)\n";
        if (write(2, msg, sizeof msg - 1) < 0)
            _exit(1);
        _exit(1);
    }
    if (act_on_tick && ticks == act_on_tick) { /* all async-signal-safe */
        char junk[64];
        int fd;
        if (feed_fd >= 0 && send(feed_fd, "!", 1, MSG_DONTWAIT) < 0)
            _exit(3);
        if (empty_fd >= 0)
            while (recv(empty_fd, junk, sizeof junk, MSG_DONTWAIT) >= 0)
                ;
        if (accept_fd >= 0)
            while ((fd = accept4(accept_fd, NULL, NULL, SOCK_NONBLOCK)) >= 0)
                close(fd);
        if (close_fd >= 0)
            close(close_fd);
    }
    errno = saved;
}

/* Signals every PERIOD seconds from now on, counted from 0. */
static void ticking(void)
{
    ticks = 0;
    set_timer(PERIOD, PERIOD);
}

static void quiet(void)
{
    set_timer(0, 0);
}

/* A blocking fd whose send buffer is full: its peer never reads. */
static void fill(int fd)
{
    static char junk[65536];
    SETUP(net_sock_nonblock(fd, 1));
    while (net_sock_send(fd, junk, sizeof junk, 0) > 0)
        ;
    SETUP(net_sock_nonblock(fd, 0));
}

/* Reads all that is queued on fd without waiting: the bytes it read. */
static long long drain(int fd)
{
    static char sink[65536];
    long long total = 0;
    int64_t n;
    while ((n = net_sock_recv(fd, sink, sizeof sink, MSG_DONTWAIT)) > 0)
        total += n;
    return total;
}

/* recv and recvfrom on an empty stream, send and sendto into a full one
 * (fds[1]: its peer never sends nor reads), with no timeout and with a
 * timeout longer than the period: -EINTR at the first signal. With a timeout
 * shorter than the period: -EAGAIN on time. */
static void io_calls(void)
{
    int fds[2];
    char buf[16] = "0123456789abcdef";
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC, fds));
    fill(fds[1]);

    for (int pass = 0; pass < 3; pass++) {
        double timeo = pass == 0 ? 0 : pass == 1 ? 1.0 : 0.1;
        long long want = pass == 2 ? -EAGAIN : -EINTR;
        double most = pass == 2 ? timeo + SLACK : PERIOD + SLACK;
        SETUP(net_sock_rcvtimeo(fds[1], timeo));
        SETUP(net_sock_sndtimeo(fds[1], timeo));
        for (int call = 0; call < 4; call++) {
            net_addr_t from;
            int64_t rc = 0;
            ticking();
            double t0 = net_now();
            switch (call) {
            case 0: rc = net_sock_recv(fds[1], buf, sizeof buf, 0); break;
            case 1: rc = net_sock_recvfrom(fds[1], buf, sizeof buf, 0, &from); break;
            case 2: rc = net_sock_send(fds[1], buf, sizeof buf, 0); break;
            case 3: rc = net_sock_sendto(fds[1], buf, sizeof buf, 0, NULL); break;
            }
            double took = net_now() - t0;
            int seen = ticks;
            quiet();
            CHECK_(rc == want, "pass %d call %d: expected %lld, got %lld (%s) after %.2fs",
                   pass, call, want, (long long)rc, net_strerror((int)rc), took);
            CHECK_(took <= most, "pass %d call %d: took %.2fs, at most %.2fs (timeout %.2f)",
                   pass, call, took, most, timeo);
            if (want == -EINTR)
                CHECK_EQ(1, seen); /* returned at the first signal */
            else
                CHECK_EQ(0, seen); /* the timeout came first */
        }
    }
    /* Nothing was lost: the stream still works after the interruptions,
     * each way (once what fill() queued is read). */
    char got[4];
    CHECK(drain(fds[0]) > 0);
    CHECK_EQ(1, net_sock_send(fds[1], "a", 1, 0));
    CHECK_EQ(1, net_sock_recv(fds[0], got, sizeof got, 0));
    CHECK_EQ(1, net_sock_send(fds[0], "b", 1, 0));
    CHECK_EQ(1, net_sock_recv(fds[1], got, sizeof got, 0));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}

/* accept with no connection pending: the same three cases (SO_RCVTIMEO is
 * accept's timeout). */
static void accept_calls(void)
{
    net_addr_t addr;
    int lfd = tcp_listener("127.0.0.1", &addr);
    for (int pass = 0; pass < 3; pass++) {
        double timeo = pass == 0 ? 0 : pass == 1 ? 1.0 : 0.1;
        long long want = pass == 2 ? -EAGAIN : -EINTR;
        double most = pass == 2 ? timeo + SLACK : PERIOD + SLACK;
        SETUP(net_sock_rcvtimeo(lfd, timeo));
        ticking();
        double t0 = net_now();
        int rc = net_sock_accept(lfd, NET_CLOEXEC, NULL);
        double took = net_now() - t0;
        quiet();
        CHECK_(rc == want, "accept pass %d: expected %lld, got %d (%s)", pass, want, rc,
               net_strerror(rc));
        CHECK_(took <= most, "accept pass %d: took %.2fs, at most %.2fs", pass, took, most);
    }
    /* A connection made after the interruptions is still accepted. */
    int c = net_sock_open(AF_INET, SOCK_STREAM, 0, NET_CLOEXEC);
    SETUP(c);
    SETUP(net_sock_connect(c, &addr));
    int a = net_sock_accept(lfd, NET_CLOEXEC, NULL);
    CHECK(a >= 0);
    net_sock_close(a);
    net_sock_close(c);
    net_sock_close(lfd);
}

/* The message calls of msg.c on a blocking unix datagram pair, no timeout:
 * recvdgram, recvfd and recvmany on an empty queue, sendfd, sendv and
 * sendmany (its first datagram, sent alone once the batch finds no room)
 * into a full one (fds[1] never reads). Each returns -EINTR at the first
 * signal: c-api.md, EINTR is returned, never retried inside libnet. A
 * restarted call would find, at the second signal, a datagram to receive
 * (fed by the handler) or room to send (the handler empties fds[1]) and
 * return a count instead. */
static void fill_dgram(int fd)
{
    while (net_sock_send(fd, "x", 1, MSG_DONTWAIT) == 1)
        ;
}

static void msg_calls(void)
{
    static const char *const name[] = {"recvdgram", "recvfd", "recvmany",
                                       "sendfd",    "sendv",  "sendmany"};
    int fds[2];
    char buf[16], x = 'x';
    SETUP(net_sock_pair(AF_UNIX, SOCK_DGRAM, 0, NET_CLOEXEC, fds));
    for (int call = 0; call < 6; call++) {
        int sending = call >= 3;
        net_addr_t from;
        int64_t full, rc = 0;
        int passfd = -2;
        net_msg_t m;
        net_iovec_t v = {&x, 1};
        memset(&m, 0, sizeof m);
        m.buf = sending ? (void *)&x : buf;
        m.size = sizeof buf;
        m.len = 1;
        if (sending) {
            fill_dgram(fds[0]);
            empty_fd = fds[1];
        } else {
            while (net_sock_recv(fds[1], buf, sizeof buf, MSG_DONTWAIT) >= 0)
                ;
            feed_fd = fds[0];
        }
        act_on_tick = 2;
        ticking();
        double t0 = net_now();
        switch (call) {
        case 0: rc = net_sock_recvdgram(fds[1], buf, sizeof buf, 0, &from, &full); break;
        case 1: rc = net_sock_recvfd(fds[1], buf, sizeof buf, 0, &passfd); break;
        case 2: rc = net_sock_recvmany(fds[1], &m, 1, 0); break;
        case 3: rc = net_sock_sendfd(fds[0], fds[0], &x, 1, 0); break;
        case 4: rc = net_sock_sendv(fds[0], &v, 1, 0); break;
        case 5: rc = net_sock_sendmany(fds[0], &m, 1, 0); break;
        }
        double took = net_now() - t0;
        int seen = ticks;
        quiet();
        act_on_tick = 0;
        feed_fd = empty_fd = -1;
        CHECK_(rc == -EINTR, "%s: expected -EINTR, got %lld (%s) after %.2fs (%d signals)",
               name[call], (long long)rc, rc < 0 ? net_strerror((int)rc) : "a count",
               took, seen);
        CHECK_(took <= PERIOD + SLACK, "%s: took %.2fs", name[call], took);
        CHECK_EQ(1, seen); /* returned at the first signal */
        if (call == 1)
            CHECK_EQ(-1, passfd); /* nothing received, nothing to close */
        if (passfd >= 0)
            close(passfd);
    }
    /* Nothing was lost: the pair still carries a datagram each way. */
    drain(fds[0]);
    drain(fds[1]);
    CHECK_EQ(2, net_sock_send(fds[0], "hi", 2, 0));
    CHECK_EQ(2, net_sock_recv(fds[1], buf, sizeof buf, 0));
    CHECK_EQ(2, net_sock_send(fds[1], "ho", 2, 0));
    CHECK_EQ(2, net_sock_recv(fds[0], buf, sizeof buf, 0));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}

/* A connect of c to addr under ticking signals: its result, how long it
 * took and how many signals came meanwhile. */
static int connect_ticking(int c, const net_addr_t *addr, double *took, int *seen)
{
    ticking();
    double t0 = net_now();
    int rc = net_sock_connect(c, addr);
    *took = net_now() - t0;
    *seen = ticks;
    quiet();
    return rc;
}

/* A blocking connect that cannot finish at once: a listener with backlog 0
 * holding one unaccepted connection drops further SYNs (Linux), so the next
 * connect waits for a SYN retransmission (1 s on). */
static int full_listener(net_addr_t *addr, int *queued)
{
    int lfd = tcp_listener("127.0.0.1", addr);
    SETUP(net_sock_listen(lfd, 0));
    *queued = net_sock_open(AF_INET, SOCK_STREAM, 0, NET_CLOEXEC);
    SETUP(*queued);
    SETUP(net_sock_connect(*queued, addr));
    return lfd;
}

static void connect_calls(void)
{
    net_addr_t addr;
    int queued, lfd;

    /* With SO_SNDTIMEO and no signal: what the kernel does on expiry. */
    lfd = full_listener(&addr, &queued);
    int c = net_sock_open(AF_INET, SOCK_STREAM, 0, NET_CLOEXEC);
    SETUP(c);
    CHECK_DBL(0.7, net_sock_sndtimeo(c, 0.7));
    double t0 = net_now();
    int plain = net_sock_connect(c, &addr);
    double plain_took = net_now() - t0;
    CHECK_(plain == -EINPROGRESS, "connect, no signal: got %d (%s)", plain, net_strerror(plain));
    CHECK_(plain_took >= 0.6 && plain_took <= 0.7 + SLACK, "connect, no signal: took %.2fs",
           plain_took);
    net_sock_close(c);

    /* The same under signals: the same result, SO_SNDTIMEO from the start
     * (not from the last signal), at most one period late. */
    c = net_sock_open(AF_INET, SOCK_STREAM, 0, NET_CLOEXEC);
    SETUP(c);
    CHECK_DBL(1.0, net_sock_sndtimeo(c, 1.0));
    double took;
    int seen;
    int rc = connect_ticking(c, &addr, &took, &seen);
    CHECK_(rc == -EINPROGRESS, "connect, signals, sndtimeo: got %d (%s)", rc, net_strerror(rc));
    CHECK_(took >= 0.9 && took <= 1.0 + PERIOD, "connect, signals, sndtimeo: took %.2fs", took);
    CHECK(seen >= 2);
    net_sock_close(c);
    net_sock_close(queued);
    net_sock_close(lfd);

    /* No SO_SNDTIMEO: signals do not end the wait; the handler empties the
     * queue at the second signal and the retransmitted SYN gets through. */
    lfd = full_listener(&addr, &queued);
    c = net_sock_open(AF_INET, SOCK_STREAM, 0, NET_CLOEXEC);
    SETUP(c);
    SETUP(net_sock_nonblock(lfd, 1)); /* the handler must not block */
    accept_fd = lfd;
    act_on_tick = 2;
    rc = connect_ticking(c, &addr, &took, &seen);
    act_on_tick = 0;
    accept_fd = -1;
    CHECK_(rc == 0, "connect, signals, no timeout: got %d (%s) after %.2fs", rc,
           net_strerror(rc), took);
    CHECK(seen >= 2);
    net_addr_t peer;
    CHECK_EQ(0, net_sock_getpeername(c, &peer));
    CHECK(addr_same(&addr, &peer));
    net_sock_close(c);
    net_sock_close(queued);
    net_sock_close(lfd);

    /* No SO_SNDTIMEO, and the wait ends in a failure: the handler closes
     * the listener at the second signal, the retransmitted SYN (1 s on)
     * meets a RST. The connect reports the refusal (the socket's pending
     * error), never 0 for a socket that is not connected. */
    lfd = full_listener(&addr, &queued);
    c = net_sock_open(AF_INET, SOCK_STREAM, 0, NET_CLOEXEC);
    SETUP(c);
    close_fd = lfd;
    act_on_tick = 2;
    rc = connect_ticking(c, &addr, &took, &seen);
    act_on_tick = 0;
    close_fd = -1;
    CHECK_(rc == -ECONNREFUSED, "connect, signals, listener gone: got %d (%s) after %.2fs",
           rc, net_strerror(rc), took);
    CHECK(seen >= 2);
    CHECK_EQ(-ENOTCONN, net_sock_getpeername(c, &peer));
    net_sock_close(c);
    net_sock_close(queued); /* lfd: closed by the handler */
}

/* A blocking connect to a unix listener whose queue is full (backlog 0,
 * one connection queued): Linux gives up at the signal and leaves the socket
 * unconnected (unlike TCP, nothing goes on in the kernel), so the result is
 * -EINTR at the first signal, never a success while not connected. Once
 * the queue has room, connect works on the same socket. */
static void unix_connect_calls(void)
{
    char dir[32];
    net_addr_t addr, peer;
    temp_dir_make(dir);
    char path[64];
    snprintf(path, sizeof path, "%s/l", dir);
    SETUP(net_addr_unix(&addr, path, strlen(path)));
    int lfd = net_sock_open(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC);
    SETUP(lfd);
    SETUP(net_sock_bind(lfd, &addr));
    SETUP(net_sock_listen(lfd, 0));
    int queued = net_sock_open(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC);
    SETUP(queued);
    SETUP(net_sock_connect(queued, &addr));

    int c = net_sock_open(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC);
    SETUP(c);
    double took;
    int seen;
    int rc = connect_ticking(c, &addr, &took, &seen);
    CHECK_(rc == -EINTR, "unix connect, signal: got %d (%s) after %.2fs", rc,
           net_strerror(rc), took);
    CHECK_EQ(1, seen);
    CHECK_EQ(-ENOTCONN, net_sock_getpeername(c, &peer));

    int a = net_sock_accept(lfd, NET_CLOEXEC, NULL); /* room in the queue */
    CHECK(a >= 0);
    CHECK_EQ(0, net_sock_connect(c, &addr));
    CHECK_EQ(0, net_sock_getpeername(c, &peer));
    int b = net_sock_accept(lfd, NET_CLOEXEC, NULL);
    CHECK(b >= 0);
    CHECK_EQ(2, net_sock_send(c, "hi", 2, 0));
    char in[4];
    CHECK_EQ(2, net_sock_recv(b, in, sizeof in, 0));
    net_sock_close(a);
    net_sock_close(b);
    net_sock_close(c);
    net_sock_close(queued);
    net_sock_close(lfd);
    CHECK_EQ(0, temp_dir_remove(dir, "l"));
}

/* sendfile of a big (sparse) file into a unix stream whose peer never
 * reads: a blocking call ends at SO_SNDTIMEO, or at the first signal, with
 * the bytes it sent; it is not called again with a fresh timeout (nor made
 * to wait again after the signal). */
static void sendfile_calls(void)
{
    char dir[32], path[64];
    int fds[2];
    temp_dir_make(dir);
    snprintf(path, sizeof path, "%s/big", dir);
    int f = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    SETUP(f);
    SETUP(ftruncate(f, 64 << 20));

    /* SO_SNDTIMEO, no signal */
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC, fds));
    CHECK_DBL(0.5, net_sock_sndtimeo(fds[0], 0.5));
    double t0 = net_now();
    int64_t n = net_sock_sendfile(fds[0], f, 0, -1);
    double took = net_now() - t0;
    CHECK_(n > 0 && n < (64 << 20), "sendfile, sndtimeo: got %lld", (long long)n);
    CHECK_(took <= 0.5 + SLACK, "sendfile, sndtimeo 0.5: took %.2fs", took);
    CHECK_EQ(n, drain(fds[1])); /* the count is what went */
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);

    /* signals, no timeout: back at the first */
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC, fds));
    ticking();
    t0 = net_now();
    n = net_sock_sendfile(fds[0], f, 0, -1);
    took = net_now() - t0;
    int seen = ticks;
    quiet();
    CHECK_(n > 0 && n < (64 << 20), "sendfile, signals: got %lld", (long long)n);
    CHECK_(seen == 1, "sendfile, signals: %d signals, %.2fs", seen, took);
    CHECK_EQ(n, drain(fds[1]));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
    close(f);
    CHECK_EQ(0, temp_dir_remove(dir, "big"));
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tick;
    sa.sa_flags = 0; /* no SA_RESTART: the kernel reports EINTR to libnet */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);

    int fds_before = fd_count();
    io_calls();
    accept_calls();
    msg_calls();
    connect_calls();
    unix_connect_calls();
    sendfile_calls();
    CHECK_EQ(fds_before, fd_count());
    return check_done("signal_test");
}
