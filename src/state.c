/* state.c — what a socket is and how its descriptor behaves: names, OOB
 * mark, type/family/protocol, pending error, bytes queued (close-on-exec and
 * non-blocking are options: src/options.c). */
#include "internal.h"

#include <poll.h>

#include <sys/ioctl.h>

static int get_name(int fd, net_addr_t *out,
                    int (*getname)(int, struct sockaddr *, socklen_t *))
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (out == NULL)
        return -EINVAL;
    if (getname(fd, (struct sockaddr *)&ss, &len) < 0)
        return NET_ERR();
    net__addr_from_sockaddr(out, (struct sockaddr *)&ss, len);
    return 0;
}

int net_sock_getsockname(int fd, net_addr_t *out)
{
    return get_name(fd, out, getsockname);
}

int net_sock_getpeername(int fd, net_addr_t *out)
{
    return get_name(fd, out, getpeername);
}

int net_sock_atmark(int fd)
{
    int rc = sockatmark(fd);
    return rc < 0 ? NET_ERR() : rc;
}

static int int_sockopt(int fd, int level, int name)
{
    int v = 0;
    socklen_t len = sizeof v;
    return getsockopt(fd, level, name, &v, &len) < 0 ? NET_ERR() : v;
}

int net_sock_type(int fd) { return int_sockopt(fd, SOL_SOCKET, SO_TYPE); }

int net_sock_error(int fd) { return int_sockopt(fd, SOL_SOCKET, SO_ERROR); }

int net_sock_inq(int fd)
{
    int n = 0;
    int type = int_sockopt(fd, SOL_SOCKET, SO_TYPE); /* FIONREAD reads files too */
    if (type < 0)
        return type;
    return ioctl(fd, FIONREAD, &n) < 0 ? NET_ERR() : n;
}

int net_sock_readshut(int fd)
{
    /* a socket (a pipe is -ENOTSOCK), and no listener, first: what is
     * asked below says nothing of those */
    int type = net_sock_type(fd), listening;
    if (type < 0)
        return type;
    if ((listening = int_sockopt(fd, SOL_SOCKET, SO_ACCEPTCONN)) != 0)
        return listening < 0 ? listening : -EINVAL;
#ifdef POLLRDHUP
    int revents = net_poll_fd(fd, POLLRDHUP, 0), queued;
    char byte;
    if (revents <= 0 || !(revents & POLLRDHUP))
        return revents < 0 ? revents : 0;
    if (type == SOCK_DGRAM || type == SOCK_RAW) {
        /* the next datagram may be empty (SIOCINQ says 0 for it); shut,
         * a receive that does not wait says EAGAIN only when none is */
        if (recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) >= 0)
            return 0;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : NET_ERR();
    }
    queued = net_sock_inq(fd);
    return queued < 0 ? queued : queued == 0;
#else
    return 0;
#endif
}

int net_sock_family(int fd)
{
#ifdef SO_DOMAIN
    return int_sockopt(fd, SOL_SOCKET, SO_DOMAIN);
#else
    net_addr_t a;
    int rc = net_sock_getsockname(fd, &a);
    return rc < 0 ? rc : a.family;
#endif
}

int net_sock_protocol(int fd)
{
#ifdef SO_PROTOCOL
    return int_sockopt(fd, SOL_SOCKET, SO_PROTOCOL);
#else
    (void)fd;
    return -ENOPROTOOPT;
#endif
}
