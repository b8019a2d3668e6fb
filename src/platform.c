/* platform.c — the one place where descriptor set-up differs by platform. */
#include "internal.h"

#include <fcntl.h>

int net__platform_sock_flags(int flags)
{
#ifdef NET_HAVE_SOCK_FLAGS
    return ((flags & NET_NONBLOCK) ? SOCK_NONBLOCK : 0) |
           ((flags & NET_CLOEXEC) ? SOCK_CLOEXEC : 0);
#else
    (void)flags;
    return 0;
#endif
}

static int set_fd_flag(int fd, int get, int set, int bit)
{
    int cur = fcntl(fd, get);
    if (cur < 0 || fcntl(fd, set, cur | bit) < 0)
        return NET_ERR();
    return 0;
}

int net__set_fd_flags(int fd, int flags)
{
    int rc = 0;
    if (flags & NET_NONBLOCK)
        rc = set_fd_flag(fd, F_GETFL, F_SETFL, O_NONBLOCK);
    if (rc == 0 && (flags & NET_CLOEXEC))
        rc = set_fd_flag(fd, F_GETFD, F_SETFD, FD_CLOEXEC);
    return rc;
}

int net__platform_prepare_fd(int fd, int flags, int done_at_creation)
{
#ifdef SO_NOSIGPIPE
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on) < 0)
        return NET_ERR();
#endif
    if (done_at_creation)
        return 0;
    return net__set_fd_flags(fd, flags);
}
