/* W2's sender: connects to 127.0.0.1:<port> and writes <bytes> of the
 * pattern (byte i is i % PATTERN_PERIOD) in 64 KiB chunks, then closes.
 * Prints "ok <bytes>" when all was written. */
#include "bench.h"

int main(int argc, char **argv)
{
    if (argc != 3)
        bench_fail("usage: %s <port> <bytes>", argv[0]);
    int port = (int)bench_parse(argv[1], "port");
    long long total = bench_parse(argv[2], "bytes");
    /* One period longer than a chunk: any chunk is a slice of it. */
    static unsigned char pattern[CHUNK + PATTERN_PERIOD];
    for (size_t k = 0; k < sizeof pattern; k++)
        pattern[k] = (unsigned char)(k % PATTERN_PERIOD);
    int fd = bench_dial(port);
    long long sent = 0;
    while (sent < total) {
        size_t want = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;
        ssize_t r = send(fd, pattern + sent % PATTERN_PERIOD, want, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        sent += bench_check(r, "send");
    }
    bench_check(close(fd), "close");
    printf("ok %lld\n", sent);
    return 0;
}
