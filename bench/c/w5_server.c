/* W5 in plain C, the baseline: an epoll echo server on 127.0.0.1 for the
 * load generator (w5_loadgen). Per run: listen, ask bench/run for the
 * helper ("connect <port> <echoes>"), accept BENCH_CONNS connections
 * (non-blocking, accept4), echo whatever each one sends until every
 * connection has closed. Counts the bytes echoed (a count of 64-byte
 * echoes); timed from the first accept to the last echo sent.
 * Usage as every bench program: w5_server <warm-up echoes> <echoes> <runs>,
 * with BENCH_CONNS in the environment (bench/run sets it from W5's entry). */
#include "bench.h"

#include <sys/epoll.h>
#include <sys/resource.h>

#define MSG 64
#define READ_SIZE 4096 /* what the Lua servers ask recv for, too */
#define MAX_EVENTS 256

/* Raises the soft RLIMIT_NOFILE to the hard one: the idle measurement
 * (bench/lua/w5/idle.lua) holds 10,000 connections. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static double serve(long long echoes, long long conns)
{
    int port;
    int lfd = bench_listen(&port);
    int ep = (int)bench_check(epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    bench_check(epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev), "epoll_ctl");
    bench_connect_line(port, echoes);

    long long accepted = 0, closed = 0, bytes = 0, want = echoes * MSG;
    double t0 = 0, t = -1;
    char buf[READ_SIZE];
    struct epoll_event events[MAX_EVENTS];
    while (closed < conns) {
        int n = (int)bench_check(epoll_wait(ep, events, MAX_EVENTS, -1), "epoll_wait");
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == lfd) {
                int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (c < 0) {
                    if (errno == EAGAIN)
                        continue;
                    bench_fail("accept4: %s", strerror(errno));
                }
                if (accepted++ == 0)
                    t0 = bench_now();
                struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
                bench_check(epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev), "epoll_ctl");
                if (accepted == conns) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, lfd, NULL);
                    close(lfd);
                    lfd = -1;
                }
                continue;
            }
            ssize_t r = recv(fd, buf, sizeof buf, 0);
            if (r < 0 && errno == EAGAIN)
                continue;
            if (r <= 0) { /* the client closed (or reset: ends it too) */
                close(fd); /* leaves the epoll set by itself */
                closed++;
                continue;
            }
            /* One message in flight per connection: the send buffer
             * always has room, a short send would be a failure. */
            if (bench_check(send(fd, buf, (size_t)r, MSG_NOSIGNAL), "send") != r)
                bench_fail("send: short write");
            bytes += r;
            if (bytes == want)
                t = bench_now() - t0;
        }
    }
    close(ep);
    if (bytes != want)
        bench_fail("echoed %lld bytes, expected %lld", bytes, want);
    return t;
}

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    const char *conns_env = getenv("BENCH_CONNS");
    if (conns_env == NULL)
        bench_fail("BENCH_CONNS not set");
    long long conns = bench_parse(conns_env, "BENCH_CONNS");
    raise_nofile();
    for (long long i = 0; i <= a.runs; i++) {
        long long n = bench_size(&a, i);
        bench_result(serve(n, conns), n);
    }
    return 0;
}
