/* util.h — set-ups shared by the C tests: loopback listeners and connected
 * TCP/unix trios, a temporary folder. Each helper fails the test loudly
 * (exit 2) when its own set-up fails, so checks never run on garbage. */
#ifndef NET_SPEC_UTIL_H
#define NET_SPEC_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "net.h"

#define SETUP(expr)                                                           \
    do {                                                                      \
        long long r_ = (long long)(expr);                                     \
        if (r_ < 0) {                                                         \
            fprintf(stderr, "%s:%d: set-up failed: %s -> %lld (%s)\n",        \
                    __FILE__, __LINE__, #expr, r_, net_strerror((int)r_));    \
            exit(2);                                                          \
        }                                                                     \
    } while (0)

/* A listening TCP socket on host ("127.0.0.1" or "::1"), any free port;
 * its address into *addr. */
static inline int tcp_listener(const char *host, net_addr_t *addr)
{
    net_addr_t any;
    SETUP(net_addr_inet(&any, host, 0));
    int fd = net_sock_open(any.family, SOCK_STREAM, 0, NET_CLOEXEC);
    SETUP(fd);
    SETUP(net_sock_bind(fd, &any));
    SETUP(net_sock_listen(fd, -1));
    SETUP(net_sock_getsockname(fd, addr));
    return fd;
}

/* A connected TCP client/server pair over host: fds[0] client, fds[1] the
 * accepted end. Returns the listener (still open). */
static inline int tcp_trio(const char *host, int fds[2])
{
    net_addr_t addr;
    int lfd = tcp_listener(host, &addr);
    fds[0] = net_sock_open(addr.family, SOCK_STREAM, 0, NET_CLOEXEC);
    SETUP(fds[0]);
    SETUP(net_sock_connect(fds[0], &addr));
    fds[1] = net_sock_accept(lfd, NET_CLOEXEC, NULL);
    SETUP(fds[1]);
    return lfd;
}

#endif
