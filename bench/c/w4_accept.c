/* W4 in plain C: accepts conn_client's connections on 127.0.0.1 one after
 * another and closes each. Timed from the first accept's return to the last
 * close (count connections, count - 1 intervals: a 1/count bias, ignored). */
#include "bench.h"

static double accept_loop(long long conns)
{
    int port;
    int lfd = bench_listen(&port);
    bench_connect_line(port, conns);
    double t0 = 0;
    for (long long i = 0; i < conns; i++) {
        int fd = (int)bench_check(accept4(lfd, NULL, NULL, SOCK_CLOEXEC), "accept4");
        if (i == 0)
            t0 = bench_now();
        bench_check(close(fd), "close");
    }
    double t = bench_now() - t0;
    close(lfd);
    return t;
}

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    for (long long i = 0; i <= a.runs; i++) {
        long long n = bench_size(&a, i);
        bench_result(accept_loop(n), n);
    }
    return 0;
}
