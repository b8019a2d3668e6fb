/* W3 in plain C: reads TCP_NODELAY on a connected TCP socket, after setting
 * it to 1, and checks every value read. */
#include "bench.h"
#include <netinet/tcp.h>

static double nodelay(long long calls)
{
    int port;
    int lfd = bench_listen(&port);
    int cfd = bench_dial(port);
    int sfd = (int)bench_check(accept4(lfd, NULL, NULL, SOCK_CLOEXEC), "accept4");
    int one = 1;
    bench_check(setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), "setsockopt");
    double t0 = bench_now();
    for (long long i = 0; i < calls; i++) {
        int v = 0;
        socklen_t len = sizeof v;
        bench_check(getsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &v, &len), "getsockopt");
        if (v != 1)
            bench_fail("call %lld: TCP_NODELAY read %d, expected 1", i, v);
    }
    double t = bench_now() - t0;
    close(sfd);
    close(cfd);
    close(lfd);
    return t;
}

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    for (long long i = 0; i <= a.runs; i++) {
        long long n = bench_size(&a, i);
        bench_result(nodelay(n), n);
    }
    return 0;
}
