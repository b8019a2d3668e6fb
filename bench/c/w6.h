/*
 * w6.h: what W6's C programs share (64-byte UDP datagrams over 127.0.0.1).
 * bench/lua/w6/common.lua is the same for the Lua implementations.
 */
#ifndef W6_H
#define W6_H

#include "bench.h"
#include <sys/time.h>

#define DGRAM 64          /* the datagram size */
#define ROOM 65536        /* the receive room: any UDP datagram fits whole */
#define BURST 128         /* W6 stream: datagrams queued, then received */
#define LOSS_TIMEOUT 1    /* seconds without a datagram that count as a loss */

/* Datagram k (0-based) of set s (0 or 1) of a burst: "a000....", "a001....",
 * ..., "b127....". Two sets take turns from burst to burst (W6 echo: from
 * round to round), so a stale buffer cannot pass. */
static inline void w6_datagram(char *out, int s, int k)
{
    char head[8];
    snprintf(head, sizeof head, "%c%03d", 'a' + s, k);
    memset(out, '.', DGRAM);
    memcpy(out, head, 4);
}

/* A UDP socket bound to 127.0.0.1 and a free port (*port gets it), blocking;
 * a receive that waits LOSS_TIMEOUT seconds fails with EAGAIN, reported as a
 * lost datagram (the sockets of one process on loopback never wait: a
 * datagram sent is queued before sendto returns). */
static inline int w6_udp(int *port)
{
    struct sockaddr_in sin = bench_loopback(0);
    socklen_t len = sizeof sin;
    struct timeval tv = {LOSS_TIMEOUT, 0};
    int fd = (int)bench_check(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket");
    bench_check(bind(fd, (struct sockaddr *)&sin, sizeof sin), "bind");
    bench_check(getsockname(fd, (struct sockaddr *)&sin, &len), "getsockname");
    bench_check(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), "SO_RCVTIMEO");
    *port = ntohs(sin.sin_port);
    return fd;
}

/* Fails with the reason a receive returned r. */
__attribute__((noreturn))
static inline void w6_recv_failed(long long r, const char *what, long long at)
{
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        bench_fail("%s: datagram %lld lost (none came within %d s)", what, at, LOSS_TIMEOUT);
    if (r < 0)
        bench_fail("%s: %s", what, strerror(errno));
    bench_fail("%s: datagram %lld has %lld bytes, expected %d", what, at, r, DGRAM);
}

#endif
