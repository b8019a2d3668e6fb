/*
 * internal.h — shared by the libnet sources; never installed.
 * Platform differences live here and nowhere else.
 */
#ifndef NET_INTERNAL_H
#define NET_INTERNAL_H

#define _GNU_SOURCE 1
#include "net.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

/* The negated errno of the call that just failed: libnet's error result. */
#define NET_ERR() (-errno)

/* Platform switches. */
#if defined(__linux__)
#define NET_HAVE_ACCEPT4 1
#define NET_HAVE_SOCK_FLAGS 1 /* SOCK_NONBLOCK / SOCK_CLOEXEC in socket(2) */
#define NET_HAVE_EPOLL 1      /* poll sets are epoll sets (src/pollset.c) */
#define NET_HAVE_PIPE2 1      /* pipe2(2): a pipe born close-on-exec */
#endif

/* Whether poll sets are epoll sets in this build (the C tests force the
 * poll(2) backend with NET_POLLSET_FORCE_POLL). An epoll set's handle polls
 * readable while one of its registrations is ready, so it can be waited for
 * as a descriptor; the poll(2) backend's cannot (net_constants:
 * POLL_WAITABLE, which net.poll reads). */
#if defined(NET_HAVE_EPOLL) && !defined(NET_POLLSET_FORCE_POLL)
#define NET_POLLSET_EPOLL 1
#else
#define NET_POLLSET_EPOLL 0
#endif

/* Suppresses SIGPIPE per call where the platform can; elsewhere (macOS) the
 * socket gets SO_NOSIGPIPE at creation (see net__platform_prepare_fd). */
#ifdef MSG_NOSIGNAL
#define NET_MSG_NOSIGPIPE MSG_NOSIGNAL
#else
#define NET_MSG_NOSIGPIPE 0
#endif

/* SCM_PIDFD (Linux 6.5 on: a pidfd of the sender, when the receiver set
 * SO_PASSPIDFD), for C libraries older than the kernel. */
#if defined(__linux__) && !defined(SCM_PIDFD)
#define SCM_PIDFD 0x04
#endif

/* Receive flags that change what the count means. MSG_TRUNC makes it the
 * datagram's full length (more than was copied into buf) and, on TCP, makes
 * the kernel discard the bytes instead of copying them: either way the count
 * would no longer be "bytes placed in buf", so every receive refuses it with
 * -EOPNOTSUPP before anything is read (the data stays queued). */
#ifdef MSG_TRUNC
#define NET_RECV_REFUSED MSG_TRUNC
#else
#define NET_RECV_REFUSED 0
#endif

/* Applies what the platform cannot do at creation: NET_NONBLOCK/NET_CLOEXEC
 * when socket(2) lacks the flags, SO_NOSIGPIPE where MSG_NOSIGNAL is missing.
 * Returns 0 or -errno. */
int net__platform_prepare_fd(int fd, int flags, int done_at_creation);
/* O_NONBLOCK and FD_CLOEXEC on any descriptor, as flags' NET_NONBLOCK and
 * NET_CLOEXEC ask: 0 or the code of the failed fcntl. */
int net__set_fd_flags(int fd, int flags);

/* Socket-type flags for socket(2)/socketpair(2)/accept4(2) from NET_* flags;
 * 0 where the platform has none (then net__platform_prepare_fd applies them). */
int net__platform_sock_flags(int flags);

/* Completes *out, whose storage holds a kernel sockaddr of len bytes (one
 * the kernel wrote there, as a receive's sender): its family and length,
 * the bytes after the name cleared. */
void net__addr_filled(net_addr_t *out, socklen_t len);

/* Copies a kernel sockaddr of len bytes into a net_addr_t. */
void net__addr_from_sockaddr(net_addr_t *out, const struct sockaddr *sa,
                            socklen_t len);

/* Sets the port of an AF_INET or AF_INET6 address (net_addr_port's
 * counterpart); -EAFNOSUPPORT for another family. */
int net__addr_set_port(net_addr_t *addr, int port);

#define NET_SA(addr) ((struct sockaddr *)(void *)(addr)->storage.bytes)
#define NET_CSA(addr) ((const struct sockaddr *)(const void *)(addr)->storage.bytes)

/* An address handed in by a caller is trusted for family and len only after
 * this check. */
int net__addr_validate(const net_addr_t *addr);

/* Milliseconds left until deadline (a net_now() time), rounded up so a
 * wait never ends early, and capped at INT_MAX (about 24.8 days), what
 * poll(2) and epoll_wait take: a wait that returns 0 before its deadline
 * has passed must wait again (src/poll.c, src/pollset.c). Inline: the
 * test of pollset.c's poll(2) backend builds that file with platform.c
 * only, outside libnet, whose net__ symbols are hidden. */
static inline int net__remaining_ms(double deadline)
{
    double left = deadline - net_now();
    double ms;
    if (left <= 0)
        return 0;
    ms = ceil(left * 1000.0);
    return ms > (double)INT_MAX ? INT_MAX : (int)ms;
}

/* 1 when host is an inet or inet6 address literal ("127.0.0.1", "::1",
 * "fe80::1%eth0"), 0 for anything else: a name only a resolver can read. */
int net__addr_is_literal(const char *host);

/* *host, an address literal, with an IPv6 zone that names an interface
 * written as its index ("::1%lo" -> "::1%1") into buf, and *host set to buf;
 * *host unchanged when it has no such zone. getaddrinfo reads a zone name
 * only for link-local and multicast addresses, net_addr_inet and
 * net_addr_host for every scope. 0, or the code of a failed lookup of the
 * zone's name (-EMFILE when no descriptor is free for it). */
int net__addr_numeric_zone(const char **host, char *buf, size_t size);

/* The index of the interface named name (if_nametoindex), or -ENODEV when
 * there is none, or the lookup's own failure (it opens a socket: -EMFILE);
 * 0 for NULL or "" (no interface named). */
int net__if_index(const char *name);
/* The name of the interface of index into name (if_indextoname), or the
 * index in decimal when no interface has it (as getnameinfo writes a zone;
 * a deleted interface's index stays set on a socket): 0, or the lookup's
 * own failure (-EMFILE). */
int net__if_name(unsigned index, char *name); /* name: IF_NAMESIZE bytes */

/* The control data of a received message (msg_control as recvmsg left it,
 * len its msg_controllen): returns the first descriptor an SCM_RIGHTS
 * message brought, or -1 when none did, and passes every other descriptor
 * to close_fd (close(2) in libnet; fuzz/cmsg_fuzz.c records them instead).
 * Other control messages are skipped. Every length is checked against len,
 * so any bytes are safe: the walk stops at the first header that does not
 * fit or whose cmsg_len is shorter than a header or runs past len, and a
 * negative descriptor number is neither taken nor closed (the kernel writes
 * neither). */
int net__cmsg_take_fd(const void *control, size_t len, int (*close_fd)(int));

#endif /* NET_INTERNAL_H */
