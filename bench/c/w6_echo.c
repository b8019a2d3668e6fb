/* W6 echo in plain C: 64-byte datagrams between two UDP sockets on
 * 127.0.0.1 in one process, blocking: A sends to B, B receives with the
 * sender's address (recvfrom) and sends the datagram back to it, A receives
 * and compares. One round trip: two sendto and two recvfrom. */
#include "w6.h"

static double echo(long long rounds)
{
    char msgs[2][DGRAM];
    static char in[ROOM];
    int pa, pb;
    int a = w6_udp(&pa), b = w6_udp(&pb);
    struct sockaddr_in to_b = bench_loopback(pb), from;
    socklen_t flen;
    w6_datagram(msgs[0], 0, 0);
    w6_datagram(msgs[1], 1, 0);
    double t0 = bench_now();
    for (long long i = 0; i < rounds; i++) {
        const char *msg = msgs[i & 1];
        ssize_t n;
        if (sendto(a, msg, DGRAM, 0, (struct sockaddr *)&to_b, sizeof to_b) != DGRAM)
            bench_fail("sendto: %s", strerror(errno));
        flen = sizeof from;
        n = recvfrom(b, in, ROOM, 0, (struct sockaddr *)&from, &flen);
        if (n != DGRAM)
            w6_recv_failed(n, "recvfrom", 2 * i + 1);
        if (sendto(b, in, (size_t)n, 0, (struct sockaddr *)&from, flen) != DGRAM)
            bench_fail("sendto: %s", strerror(errno));
        flen = sizeof from;
        n = recvfrom(a, in, ROOM, 0, (struct sockaddr *)&from, &flen);
        if (n != DGRAM)
            w6_recv_failed(n, "recvfrom", 2 * i + 2);
        if (memcmp(in, msg, DGRAM) != 0)
            bench_fail("round %lld: echo differs from the datagram sent", i + 1);
        if (ntohs(from.sin_port) != pb)
            bench_fail("round %lld: echo from port %d, expected %d", i + 1, ntohs(from.sin_port), pb);
    }
    double t = bench_now() - t0;
    close(a);
    close(b);
    return t;
}

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    for (long long i = 0; i <= a.runs; i++) {
        long long n = bench_size(&a, i);
        bench_result(echo(n), n);
    }
    return 0;
}
