/* util.h — what the C tests share: loopback listeners and connected TCP
 * trios, a temporary folder for unix paths, address comparison, an open-fd
 * count, libnet's code for a getaddrinfo failure. Each helper fails the test
 * loudly (exit 2) when its own set-up fails, so checks never run on garbage. */
#ifndef NET_SPEC_UTIL_H
#define NET_SPEC_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

/* libnet's result code for a getaddrinfo EAI_* value (negative on glibc,
 * positive on the BSDs): -(NET_EAI_BASE + |EAI_*|). */
#define EAI_RESULT(eai) (-(NET_EAI_BASE + ((eai) < 0 ? -(eai) : (eai))))

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

/* How many descriptors this process has open: equal at the start and the
 * end of a test program, or something leaked. */
static inline int fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d) {
        perror("/proc/self/fd");
        exit(2);
    }
    while (readdir(d))
        n++;
    closedir(d);
    return n - 3; /* ".", ".." and the directory's own descriptor */
}

/* A fresh private folder for unix socket paths: "/tmp/lua-net-ctest.XXXXXX"
 * into dir (at least 32 bytes). Remove it with temp_dir_remove. */
static inline void temp_dir_make(char *dir)
{
    strcpy(dir, "/tmp/lua-net-ctest.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(2);
    }
}

/* Removes the socket file name (if any) in dir, then dir itself; 0 when
 * dir is gone (the caller checks it: a leftover file is a test's bug). */
static inline int temp_dir_remove(const char *dir, const char *name)
{
    if (name) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        unlink(path);
    }
    return rmdir(dir) < 0 ? -errno : 0;
}

/* The same host and port (inet/inet6), or the same path (unix). */
static inline int addr_same(const net_addr_t *a, const net_addr_t *b)
{
    char ta[NET_CANONNAME_MAX], tb[NET_CANONNAME_MAX];
    if (a->family != b->family)
        return 0;
    if (a->family == AF_UNIX) {
        int la = net_addr_path(a, ta, sizeof ta), lb = net_addr_path(b, tb, sizeof tb);
        return la >= 0 && la == lb && memcmp(ta, tb, (size_t)la) == 0;
    }
    return net_addr_host(a, ta, sizeof ta) > 0 && net_addr_host(b, tb, sizeof tb) > 0 &&
           strcmp(ta, tb) == 0 && net_addr_port(a) == net_addr_port(b);
}

#endif
