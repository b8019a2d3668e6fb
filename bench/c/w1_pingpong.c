/* W1 in plain C: 64-byte ping-pong over a unix socketpair, one process,
 * blocking: A sends, B receives and echoes, A receives and compares. */
#include "bench.h"

#define MSG 64

/* Receives exactly len bytes (a stream may split a message, rarely). */
static void recv_all(int fd, char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = recv(fd, buf + got, len - got, 0);
        if (r == 0)
            bench_fail("recv: unexpected end of stream");
        got += (size_t)bench_check(r, "recv");
    }
}

static void send_all(int fd, const char *buf, size_t len)
{
    if (bench_check(send(fd, buf, len, MSG_NOSIGNAL), "send") != (long long)len)
        bench_fail("send: short write");
}

static double pingpong(long long rounds)
{
    /* Two messages sent alternately, so a stale buffer is caught. */
    char msgs[2][MSG], in[MSG];
    memset(msgs[0], 'a', MSG);
    memset(msgs[1], 'b', MSG);
    int sv[2];
    bench_check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "socketpair");
    double t0 = bench_now();
    for (long long i = 0; i < rounds; i++) {
        const char *msg = msgs[i & 1];
        send_all(sv[0], msg, MSG);
        recv_all(sv[1], in, MSG);
        send_all(sv[1], in, MSG);
        recv_all(sv[0], in, MSG);
        if (memcmp(in, msg, MSG) != 0)
            bench_fail("round %lld: echo differs from the message sent", i);
    }
    double t = bench_now() - t0;
    close(sv[0]);
    close(sv[1]);
    return t;
}

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    for (long long i = 0; i <= a.runs; i++) {
        long long n = bench_size(&a, i);
        bench_result(pingpong(n), n);
    }
    return 0;
}
