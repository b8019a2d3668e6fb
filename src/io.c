/* io.c — send, recv, sendto, recvfrom. SIGPIPE is never raised; a call
 * interrupted by a signal before moving any byte is restarted (nothing was
 * transferred, so the retry is safe). */
#include "internal.h"

/* Runs one I/O expression until it is not an EINTR failure; yields -errno. */
#define RETRY_IO(expr)                                                        \
    do {                                                                      \
        ssize_t n_;                                                           \
        do {                                                                  \
            n_ = (expr);                                                      \
        } while (n_ < 0 && errno == EINTR);                                   \
        return n_ < 0 ? (int64_t)NET_ERR() : (int64_t)n_;                     \
    } while (0)

int64_t net_sock_send(int fd, const void *buf, size_t len, int flags)
{
    RETRY_IO(send(fd, buf, len, flags | NET_MSG_NOSIGPIPE));
}

int64_t net_sock_recv(int fd, void *buf, size_t len, int flags)
{
    RETRY_IO(recv(fd, buf, len, flags));
}

int64_t net_sock_sendto(int fd, const void *buf, size_t len, int flags,
                        const net_addr_t *to)
{
    if (to) {
        int rc = net__addr_validate(to);
        if (rc < 0)
            return rc;
    }
    RETRY_IO(sendto(fd, buf, len, flags | NET_MSG_NOSIGPIPE,
                    to ? NET_CSA(to) : NULL, to ? (socklen_t)to->len : 0));
}

int64_t net_sock_recvfrom(int fd, void *buf, size_t len, int flags,
                          net_addr_t *from)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof ss;
    ssize_t n;

    do {
        sslen = sizeof ss;
        n = recvfrom(fd, buf, len, flags, (struct sockaddr *)&ss, &sslen);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return NET_ERR();
    if (from)
        net__addr_from_sockaddr(from, (struct sockaddr *)&ss, sslen);
    return n;
}
