/* life.c — a socket's life: open, pair, bind, listen, accept, connect,
 * shutdown, close. */
#include "internal.h"

#include <poll.h>
#include <unistd.h>

#ifdef NET_HAVE_SOCK_FLAGS
#define FLAGS_AT_CREATION 1
#else
#define FLAGS_AT_CREATION 0
#endif

static int valid_open_flags(int flags)
{
    return (flags & ~(NET_NONBLOCK | NET_CLOEXEC)) == 0;
}

/* Finishes a new fd; on failure closes it so nothing leaks. */
static int finish_fd(int fd, int flags, int done_at_creation)
{
    int rc = net__platform_prepare_fd(fd, flags, done_at_creation);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

int net_sock_open(int family, int type, int protocol, int flags)
{
    if (!valid_open_flags(flags))
        return -EINVAL;
    int fd = socket(family, type | net__platform_sock_flags(flags), protocol);
    if (fd < 0)
        return NET_ERR();
    return finish_fd(fd, flags, FLAGS_AT_CREATION);
}

int net_sock_pair(int family, int type, int protocol, int flags, int fds[2])
{
    int pair[2];
    if (!valid_open_flags(flags) || fds == NULL)
        return -EINVAL;
    if (socketpair(family, type | net__platform_sock_flags(flags), protocol,
                   pair) < 0)
        return NET_ERR();
    int rc = finish_fd(pair[0], flags, FLAGS_AT_CREATION);
    if (rc < 0) {
        close(pair[1]);
        return rc;
    }
    rc = finish_fd(pair[1], flags, FLAGS_AT_CREATION);
    if (rc < 0) {
        close(pair[0]);
        return rc;
    }
    fds[0] = pair[0];
    fds[1] = pair[1];
    return 0;
}

int net_sock_bind(int fd, const net_addr_t *addr)
{
    int rc = net__addr_validate(addr);
    if (rc < 0)
        return rc;
    return bind(fd, NET_CSA(addr), (socklen_t)addr->len) < 0 ? NET_ERR() : 0;
}

int net_sock_listen(int fd, int backlog)
{
    return listen(fd, backlog < 0 ? SOMAXCONN : backlog) < 0 ? NET_ERR() : 0;
}

int net_sock_accept(int fd, int flags, net_addr_t *peer)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    struct sockaddr *sa = peer ? (struct sockaddr *)&ss : NULL;
    socklen_t *lenp = peer ? &len : NULL;
    int nfd;

    if (!valid_open_flags(flags))
        return -EINVAL;
    /* EINTR before a connection was taken: nothing was consumed, retry. */
    do {
#ifdef NET_HAVE_ACCEPT4
        nfd = accept4(fd, sa, lenp, net__platform_sock_flags(flags));
#else
        nfd = accept(fd, sa, lenp);
#endif
    } while (nfd < 0 && errno == EINTR);
    if (nfd < 0)
        return NET_ERR();
    nfd = finish_fd(nfd, flags, FLAGS_AT_CREATION);
    if (nfd >= 0 && peer)
        net__addr_from_sockaddr(peer, sa, len);
    return nfd;
}

/* A blocking connect(2) cut short by a signal goes on in the kernel; calling
 * connect again would fail with EALREADY, so wait for it instead. */
static int wait_connected(int fd)
{
    int rc = net_poll_fd(fd, POLLOUT, -1);
    if (rc < 0)
        return rc;
    rc = net_sock_error(fd);
    return rc < 0 ? rc : -rc;
}

int net_sock_connect(int fd, const net_addr_t *addr)
{
    int rc = net__addr_validate(addr);
    if (rc < 0)
        return rc;
    if (connect(fd, NET_CSA(addr), (socklen_t)addr->len) == 0)
        return 0;
    if (errno == EINTR)
        return wait_connected(fd);
    return NET_ERR();
}

int net_sock_shutdown(int fd, int how)
{
    return shutdown(fd, how) < 0 ? NET_ERR() : 0;
}

int net_sock_close(int fd)
{
    /* Never retry: on Linux the fd is released even when close reports
     * EINTR, and a retry could close a descriptor another thread just got. */
    if (close(fd) < 0 && errno != EINTR)
        return NET_ERR();
    return 0;
}
