/* W5's load generator, the C helper every W5 server is measured with.
 *
 *   w5_loadgen <port> <echoes> <conns> [-t]
 *     conns non-blocking TCP connections to 127.0.0.1:port, one epoll set;
 *     each connection sends a 64-byte message, waits for its whole echo
 *     (checking every byte), and sends the next, until echoes echoes in all
 *     have come back; then closes every connection. Prints "ok <echoes>"
 *     (what bench/run checks); with -t also its own timing, from the first
 *     send to the last echo: "seconds <s> echoes/s <rate>".
 *
 *   w5_loadgen --idle <port> <conns> <wakeups> <server pid>
 *     the idle measurement (bench/lua/w5/idle.lua): reads the server's
 *     VmRSS, opens conns connections one after another, each echoing one
 *     message (so the server has accepted it and waits on it), reads VmRSS
 *     again, then sends wakeups messages, each to a connection picked at
 *     random, timing each until its whole echo is back. Prints
 *     "ok <conns + wakeups>", "idle <conns> <rss before KiB> <rss after KiB>"
 *     and "wake <wakeups> <p50 us> <p90 us> <p99 us>".
 *
 * Message j of connection i: byte k is (i * 31 + j * 7 + k) % 251, so an
 * echo from another connection or an older message cannot pass. */
#include "bench.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#define MSG 64
#define MAX_EVENTS 256

static unsigned char msg_byte(long long conn, long long seq, int k)
{
    return (unsigned char)((conn * 31 + seq * 7 + k) % PATTERN_PERIOD);
}

static void fill(unsigned char *buf, long long conn, long long seq)
{
    for (int k = 0; k < MSG; k++)
        buf[k] = msg_byte(conn, seq, k);
}

static void check(const unsigned char *buf, int from, int len, long long conn, long long seq)
{
    for (int k = from; k < from + len; k++)
        if (buf[k - from] != msg_byte(conn, seq, k))
            bench_fail("connection %lld, message %lld: echo byte %d is %u, expected %u",
                       conn, seq, k, buf[k - from], msg_byte(conn, seq, k));
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* ---- throughput ---------------------------------------------------------- */

struct conn {
    int fd;
    int connected;
    int got;           /* bytes of the current message's echo received */
    long long seq;     /* the current message's number */
};

static long long sent_total;

/* Sends conn's next message if any is left to send. */
static void send_next(struct conn *c, long long i, long long echoes)
{
    if (sent_total >= echoes)
        return;
    unsigned char buf[MSG];
    fill(buf, i, c->seq);
    if (bench_check(send(c->fd, buf, MSG, MSG_NOSIGNAL), "send") != MSG)
        bench_fail("send: short write");
    sent_total++;
    c->got = 0;
}

static void throughput(int port, long long echoes, long long conns, int timing)
{
    struct sockaddr_in sin = bench_loopback(port);
    int ep = (int)bench_check(epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
    struct conn *cs = calloc((size_t)conns, sizeof *cs);
    if (cs == NULL)
        bench_fail("out of memory");
    double t0 = bench_now();
    for (long long i = 0; i < conns; i++) {
        struct conn *c = &cs[i];
        c->fd = (int)bench_check(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket");
        int r = connect(c->fd, (struct sockaddr *)&sin, sizeof sin);
        if (r < 0 && errno != EINPROGRESS)
            bench_fail("connect: %s", strerror(errno));
        c->connected = r == 0;
        struct epoll_event ev = {.events = c->connected ? EPOLLIN : EPOLLOUT, .data.u64 = (uint64_t)i};
        bench_check(epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev), "epoll_ctl");
        if (c->connected)
            send_next(c, i, echoes);
    }
    long long received = 0;
    unsigned char buf[MSG];
    struct epoll_event events[MAX_EVENTS];
    while (received < echoes) {
        int n = (int)bench_check(epoll_wait(ep, events, MAX_EVENTS, -1), "epoll_wait");
        for (int e = 0; e < n; e++) {
            long long i = (long long)events[e].data.u64;
            struct conn *c = &cs[i];
            if (!c->connected) {
                int err = 0;
                socklen_t len = sizeof err;
                bench_check(getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len), "getsockopt");
                if (err)
                    bench_fail("connect: %s", strerror(err));
                c->connected = 1;
                struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
                bench_check(epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev), "epoll_ctl");
                send_next(c, i, echoes);
                continue;
            }
            ssize_t r = recv(c->fd, buf, (size_t)(MSG - c->got), 0);
            if (r < 0 && errno == EAGAIN)
                continue;
            if (r == 0)
                bench_fail("connection %lld: the server closed it", i);
            bench_check(r, "recv");
            check(buf, c->got, (int)r, i, c->seq);
            c->got += (int)r;
            if (c->got == MSG) {
                received++;
                c->seq++;
                send_next(c, i, echoes);
            }
        }
    }
    double t = bench_now() - t0;
    for (long long i = 0; i < conns; i++)
        close(cs[i].fd);
    close(ep);
    free(cs);
    printf("ok %lld\n", echoes);
    if (timing)
        printf("seconds %.6f echoes/s %.0f\n", t, (double)echoes / t);
}

/* ---- idle connections ------------------------------------------------------ */

static long long rss_kib(long long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%lld/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        bench_fail("%s: %s", path, strerror(errno));
    long long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %lld kB", &kib) == 1)
            break;
    fclose(f);
    if (kib < 0)
        bench_fail("%s: no VmRSS", path);
    return kib;
}

/* One message on connection i (blocking), its whole echo checked. */
static void echo_once(int fd, long long i, long long seq)
{
    unsigned char buf[MSG];
    fill(buf, i, seq);
    if (bench_check(send(fd, buf, MSG, MSG_NOSIGNAL), "send") != MSG)
        bench_fail("send: short write");
    int got = 0;
    while (got < MSG) {
        ssize_t r = recv(fd, buf, (size_t)(MSG - got), 0);
        if (r == 0)
            bench_fail("connection %lld: the server closed it", i);
        bench_check(r, "recv");
        check(buf, got, (int)r, i, seq);
        got += (int)r;
    }
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void idle(int port, long long conns, long long wakeups, long long pid)
{
    raise_nofile();
    int *fds = calloc((size_t)conns, sizeof *fds);
    long long *seqs = calloc((size_t)conns, sizeof *seqs);
    double *lat = calloc((size_t)(wakeups > 0 ? wakeups : 1), sizeof *lat);
    if (fds == NULL || seqs == NULL || lat == NULL)
        bench_fail("out of memory");
    long long before = rss_kib(pid);
    for (long long i = 0; i < conns; i++) {
        fds[i] = bench_dial(port);
        echo_once(fds[i], i, seqs[i]++);
    }
    long long after = rss_kib(pid);
    srand(20261201);
    for (long long j = 0; j < wakeups; j++) {
        long long i = (long long)(((unsigned long long)rand() << 16 ^ (unsigned long long)rand()) % (unsigned long long)conns);
        double t0 = bench_now();
        echo_once(fds[i], i, seqs[i]++);
        lat[j] = bench_now() - t0;
    }
    for (long long i = 0; i < conns; i++)
        close(fds[i]);
    qsort(lat, (size_t)wakeups, sizeof *lat, by_value);
    printf("ok %lld\n", conns + wakeups);
    printf("idle %lld %lld %lld\n", conns, before, after);
    if (wakeups > 0)
        printf("wake %lld %.1f %.1f %.1f\n", wakeups, lat[wakeups / 2] * 1e6,
               lat[wakeups * 9 / 10] * 1e6, lat[wakeups * 99 / 100] * 1e6);
    free(fds);
    free(seqs);
    free(lat);
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "--idle") == 0) {
        idle((int)bench_parse(argv[2], "port"), bench_parse(argv[3], "conns"),
             bench_parse(argv[4], "wakeups"), bench_parse(argv[5], "pid"));
        return 0;
    }
    if (argc != 4 && !(argc == 5 && strcmp(argv[4], "-t") == 0))
        bench_fail("usage: %s <port> <echoes> <conns> [-t] | --idle <port> <conns> <wakeups> <pid>", argv[0]);
    long long conns = bench_parse(argv[3], "conns");
    if (conns < 1)
        bench_fail("conns must be at least 1");
    throughput((int)bench_parse(argv[1], "port"), bench_parse(argv[2], "echoes"), conns, argc == 5);
    return 0;
}
