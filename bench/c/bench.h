/*
 * bench.h: what the C programs of bench/ share (header-only, each program is
 * one translation unit).
 *
 * The protocol every implementation speaks to bench/run on stdout:
 *   connect <port> <amount>   bench/run now runs the workload's C helper
 *                             (bulk_sender / conn_client) against the port
 *   result <seconds> <count>  one line per iteration; the first is the warm-up
 * Any failure goes to stderr and exits non-zero.
 */
#ifndef BENCH_H
#define BENCH_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* W2's stream content: byte i of the stream is i % PATTERN_PERIOD. The period
 * is prime so a chunk of 65536 bytes never lines up with it. */
#define PATTERN_PERIOD 251
#define CHUNK (64 * 1024)

/* The clock: CLOCK_MONOTONIC, or with BENCH_CLOCK=cpu this process's CPU
 * time (bench/run --paired runs two programs on one CPU at once, where only
 * the time each one ran counts). */
static inline double bench_now(void)
{
    static clockid_t clock_id = (clockid_t)-1;
    struct timespec ts;
    if (clock_id == (clockid_t)-1) {
        const char *which = getenv("BENCH_CLOCK");
        clock_id = which != NULL && strcmp(which, "cpu") == 0
                       ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC;
    }
    clock_gettime(clock_id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

__attribute__((noreturn, format(printf, 1, 2)))
static void bench_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* Dies with the call's name and errno's message when r < 0. */
static inline long long bench_check(long long r, const char *what)
{
    if (r < 0)
        bench_fail("%s: %s", what, strerror(errno));
    return r;
}

static inline long long bench_parse(const char *s, const char *what)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < 0)
        bench_fail("bad %s: '%s'", what, s);
    return v;
}

/* The iteration sizes given by bench/run: <warm-up size> <size> <runs>. */
struct bench_args {
    long long warm, size, runs;
};

static inline struct bench_args bench_args(int argc, char **argv)
{
    if (argc != 4)
        bench_fail("usage: %s <warm-up size> <size> <runs>", argv[0]);
    struct bench_args a = {bench_parse(argv[1], "warm-up size"),
                           bench_parse(argv[2], "size"),
                           bench_parse(argv[3], "runs")};
    return a;
}

/* The size of iteration i: 0 is the warm-up. */
static inline long long bench_size(const struct bench_args *a, long long i)
{
    return i == 0 ? a->warm : a->size;
}

static inline void bench_result(double seconds, long long count)
{
    printf("result %.9f %lld\n", seconds, count);
    fflush(stdout);
}

static inline void bench_connect_line(int port, long long amount)
{
    printf("connect %d %lld\n", port, amount);
    fflush(stdout);
}

static inline struct sockaddr_in bench_loopback(int port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sin;
}

/* A listening TCP socket on 127.0.0.1 and a free port; *port gets the port. */
static inline int bench_listen(int *port)
{
    struct sockaddr_in sin = bench_loopback(0);
    socklen_t len = sizeof sin;
    int fd = (int)bench_check(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
    bench_check(bind(fd, (struct sockaddr *)&sin, sizeof sin), "bind");
    bench_check(listen(fd, SOMAXCONN), "listen");
    bench_check(getsockname(fd, (struct sockaddr *)&sin, &len), "getsockname");
    *port = ntohs(sin.sin_port);
    return fd;
}

static inline int bench_dial(int port)
{
    struct sockaddr_in sin = bench_loopback(port);
    int fd = (int)bench_check(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
    bench_check(connect(fd, (struct sockaddr *)&sin, sizeof sin), "connect");
    return fd;
}

/* Checks that buf holds the stream's bytes [offset, offset + len). */
static inline void bench_check_pattern(const unsigned char *buf, size_t len,
                                       long long offset, const char *which)
{
    for (size_t k = 0; k < len; k++)
        if (buf[k] != (unsigned char)((offset + (long long)k) % PATTERN_PERIOD))
            bench_fail("%s chunk: byte %lld is %u, expected %lld", which,
                       offset + (long long)k, buf[k],
                       (offset + (long long)k) % PATTERN_PERIOD);
}

#endif
