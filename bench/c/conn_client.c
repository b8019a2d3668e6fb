/* W4's client: <count> connections to 127.0.0.1:<port>, strictly one after
 * another: connect, wait for the server's close (read returns 0), close.
 * Waiting keeps the accept queue short: an overflowing queue drops SYNs and
 * the retransmit timer (1 s) would be measured instead of the server.
 * Prints "ok <count>" when every connection was accepted and closed. */
#include "bench.h"

int main(int argc, char **argv)
{
    if (argc != 3)
        bench_fail("usage: %s <port> <count>", argv[0]);
    int port = (int)bench_parse(argv[1], "port");
    long long count = bench_parse(argv[2], "count");
    for (long long i = 0; i < count; i++) {
        int fd = bench_dial(port);
        char c;
        ssize_t r;
        do
            r = read(fd, &c, 1);
        while (r < 0 && errno == EINTR);
        if (bench_check(r, "read") != 0)
            bench_fail("connection %lld: data instead of the server's close", i);
        bench_check(close(fd), "close");
    }
    printf("ok %lld\n", count);
    return 0;
}
