/* poll.c — waiting for one descriptor's readiness. */
#include "internal.h"

#include <math.h>
#include <poll.h>
#include <time.h>

double net_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


int net_poll_fd(int fd, int events, double timeout)
{
    struct pollfd p = {.fd = fd, .events = (short)events, .revents = 0};
    const int forever = timeout < 0;
    double deadline = forever ? 0 : net_now() + timeout;

    if (isnan(timeout) || fd < 0)
        return fd < 0 ? -EBADF : -EINVAL;
    for (;;) {
        int rc = poll(&p, 1, forever ? -1 : net__remaining_ms(deadline));
        if (rc > 0)
            return (p.revents & POLLNVAL) ? -EBADF : p.revents;
        /* 0 before the deadline: a timeout longer than poll's cap */
        if (rc == 0 && net_now() >= deadline)
            return 0;
        if (rc < 0 && errno != EINTR) /* a signal: wait out the rest of the time */
            return NET_ERR();
    }
}
