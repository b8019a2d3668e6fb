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
    /* EINTR (nothing taken) is returned, not retried: a retry would start
     * SO_RCVTIMEO afresh and keep the caller's signal handler waiting. */
#ifdef NET_HAVE_ACCEPT4
    nfd = accept4(fd, sa, lenp, net__platform_sock_flags(flags));
#else
    nfd = accept(fd, sa, lenp);
#endif
    if (nfd < 0)
        return NET_ERR();
    nfd = finish_fd(nfd, flags, FLAGS_AT_CREATION);
    if (nfd >= 0 && peer)
        net__addr_from_sockaddr(peer, sa, len);
    return nfd;
}

/* A blocking inet connect(2) cut short by a signal goes on in the kernel (calling
 * connect again would be EALREADY on most systems), so it is waited for, as
 * the kernel itself would have waited: until it ends, or until SO_SNDTIMEO
 * (read now; 0 = none) has passed since the call began. Then the result is
 * what the kernel gives when SO_SNDTIMEO expires in connect: -EINPROGRESS,
 * the attempt still under way. Further signals do not extend the wait
 * (net_poll_fd keeps its deadline). */
static int wait_connected(int fd, double began)
{
    double timeout = net_sock_sndtimeo(fd, -1);
    if (timeout < 0)
        return (int)timeout;
    if (timeout > 0) {
        timeout -= net_now() - began;
        if (timeout < 0)
            timeout = 0;
    } else {
        timeout = -1; /* no SO_SNDTIMEO: no limit, as connect(2) has none */
    }
    int rc = net_poll_fd(fd, POLLOUT, timeout);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return -EINPROGRESS;
    rc = net_sock_error(fd);
    return rc < 0 ? rc : -rc;
}

int net_sock_connect(int fd, const net_addr_t *addr)
{
    int rc = net__addr_validate(addr);
    if (rc < 0)
        return rc;
    double began = net_now();
    if (connect(fd, NET_CSA(addr), (socklen_t)addr->len) == 0)
        return 0;
    /* Only TCP (inet) goes on connecting after a signal. A unix socket's
     * connect gives up when the signal comes (it was waiting for room in
     * the listener's queue) and leaves the socket unconnected: polling it
     * would see POLLOUT|POLLHUP with no pending error and report success.
     * There it is -EINTR, as for the other calls, and connect may be called
     * again. The address's family is the socket's (connect refuses another
     * family before it can be interrupted). */
    if (errno == EINTR && (addr->family == AF_INET || addr->family == AF_INET6))
        return wait_connected(fd, began);
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
