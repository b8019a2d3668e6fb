/* W2 in plain C: accepts bulk_sender's connection on 127.0.0.1 and receives
 * with 64 KiB reads until the end of the stream, counting every byte. The
 * content is checked (outside the timed loop) for the first and the last
 * chunk, plus the first byte of every chunk, exactly as the Lua
 * implementations do: checking every byte would weigh on the slow ones. */
#include "bench.h"

static unsigned char buf[CHUNK], first[CHUNK];

static double bulk(long long expect, long long *count)
{
    int port;
    int lfd = bench_listen(&port);
    bench_connect_line(port, expect);
    int fd = (int)bench_check(accept4(lfd, NULL, NULL, SOCK_CLOEXEC), "accept4");
    double t0 = bench_now();
    long long total = 0;
    size_t first_len = 0, last_len = 0;
    for (;;) {
        ssize_t r = recv(fd, buf, CHUNK, 0);
        if (r == 0)
            break;
        bench_check(r, "recv");
        if (buf[0] != total % PATTERN_PERIOD)
            bench_fail("chunk at %lld starts with %u", total, buf[0]);
        if (total == 0) {
            memcpy(first, buf, (size_t)r);
            first_len = (size_t)r;
        }
        last_len = (size_t)r;
        total += r;
    }
    double t = bench_now() - t0;
    close(fd);
    close(lfd);
    bench_check_pattern(first, first_len, 0, "first");
    bench_check_pattern(buf, last_len, total - (long long)last_len, "last");
    *count = total;
    return t;
}

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    for (long long i = 0; i <= a.runs; i++) {
        long long count;
        double t = bulk(bench_size(&a, i), &count);
        bench_result(t, count);
    }
    return 0;
}
