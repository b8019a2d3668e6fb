/* io.c — send, recv, sendto, recvfrom. SIGPIPE is never raised. A call
 * interrupted by a signal before moving any byte returns -EINTR and is never
 * restarted here: a restart would begin SO_RCVTIMEO/SO_SNDTIMEO afresh (a
 * timeout could then never expire under a steady signal), and the caller's
 * signal handler (a Lua one runs only between calls) would wait for data. */
#include "internal.h"

/* Runs one I/O expression once; yields its count or -errno (-EINTR too). */
#define IO_RESULT(expr)                                                       \
    do {                                                                      \
        ssize_t n_ = (expr);                                                  \
        return n_ < 0 ? (int64_t)NET_ERR() : (int64_t)n_;                     \
    } while (0)

int64_t net_sock_send(int fd, const void *buf, size_t len, int flags)
{
    IO_RESULT(send(fd, buf, len, flags | NET_MSG_NOSIGPIPE));
}

/* A receive's result given len bytes of room: -errno, or a count that is
 * never more than len, whatever a platform's flags made of it. */
static int64_t received(ssize_t n, size_t len)
{
    if (n < 0)
        return NET_ERR();
    return (size_t)n > len ? (int64_t)len : (int64_t)n;
}

int64_t net_sock_recv(int fd, void *buf, size_t len, int flags)
{
    ssize_t n;
    if (flags & NET_RECV_REFUSED)
        return -EOPNOTSUPP;
    n = recv(fd, buf, len, flags); /* EINTR included: see the top */
    return received(n, len);
}

int64_t net_sock_sendto(int fd, const void *buf, size_t len, int flags,
                        const net_addr_t *to)
{
    if (to) {
        int rc = net__addr_validate(to);
        if (rc < 0)
            return rc;
    }
    IO_RESULT(sendto(fd, buf, len, flags | NET_MSG_NOSIGPIPE,
                    to ? NET_CSA(to) : NULL, to ? (socklen_t)to->len : 0));
}

int64_t net_sock_recvfrom(int fd, void *buf, size_t len, int flags,
                          net_addr_t *from)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof ss;
    ssize_t n;

    if (flags & NET_RECV_REFUSED)
        return -EOPNOTSUPP;
    n = recvfrom(fd, buf, len, flags, (struct sockaddr *)&ss, &sslen);
    if (n < 0)
        return NET_ERR();
    if (from)
        net__addr_from_sockaddr(from, (struct sockaddr *)&ss, sslen);
    return received(n, len);
}
