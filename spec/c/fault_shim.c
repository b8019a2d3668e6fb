/* fault_shim.c — makes one call of getsockopt, getsockname or epoll_ctl
 * fail, for the specs of what libnet and the Lua layer do when a call that
 * seldom fails does: a security module refusing getsockopt or getsockname
 * (EACCES), getsockname's ENOBUFS, epoll_ctl past max_user_watches (ENOSPC).
 * Linked into a test program (spec/c/fault_test.c) or preloaded into an
 * interpreter (LD_PRELOAD; spec/lua/syscall_fault_spec.lua), its functions
 * come before the C library's. It is driven through getenv, which every Lua
 * has as os.getenv:
 *   getenv("NET_FAULT <fn> <n> <errno>")  the n-th call of fn from now on
 *                                         fails with errno (one at a time;
 *                                         n 0 disarms); returns "armed"
 *   getenv("NET_FAULT_FIRED")             "1" once that call failed, else "0"
 * Every other name is the C library's getenv. One thread only. */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#ifdef __linux__
#include <sys/epoll.h>
#endif

static char target[32];
static unsigned long countdown; /* calls of target left until the failing one */
static int target_errno, fired;

/* Whether this call of fn is the one to fail (errno set then). */
static int fails(const char *fn)
{
    if (countdown == 0 || strcmp(fn, target) != 0 || --countdown != 0)
        return 0;
    fired = 1;
    errno = target_errno;
    return 1;
}

/* The next definition of name after this one: the C library's (or a
 * sanitizer's, which calls the C library's). */
static void *next(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

char *getenv(const char *name)
{
    static char *(*real)(const char *);
    if (strncmp(name, "NET_FAULT ", 10) == 0) {
        char fn[32];
        unsigned long n;
        int e;
        if (sscanf(name + 10, "%31s %lu %d", fn, &n, &e) != 3)
            return NULL;
        memcpy(target, fn, sizeof target);
        countdown = n;
        target_errno = e;
        fired = 0;
        return "armed";
    }
    if (strcmp(name, "NET_FAULT_FIRED") == 0)
        return fired ? "1" : "0";
    if (real == NULL)
        real = (char *(*)(const char *))next("getenv");
    return real(name);
}

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    static int (*real)(int, int, int, void *, socklen_t *);
    if (fails("getsockopt"))
        return -1;
    if (real == NULL)
        real = (int (*)(int, int, int, void *, socklen_t *))next("getsockopt");
    return real(fd, level, name, val, len);
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
    static int (*real)(int, struct sockaddr *, socklen_t *);
    if (fails("getsockname"))
        return -1;
    if (real == NULL)
        real = (int (*)(int, struct sockaddr *, socklen_t *))next("getsockname");
    return real(fd, addr, len);
}

#ifdef __linux__
int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    static int (*real)(int, int, int, struct epoll_event *);
    if (fails("epoll_ctl"))
        return -1;
    if (real == NULL)
        real = (int (*)(int, int, int, struct epoll_event *))next("epoll_ctl");
    return real(epfd, op, fd, ev);
}
#endif
