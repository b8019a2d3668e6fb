/* userns.h — unshare(2) of a namespace for a test's child, also where the
 * process is not root: when the plain call is refused (EPERM, no
 * CAP_SYS_ADMIN), the same namespace inside a new user namespace, in which
 * this user is mapped to root (what `unshare -r` does, and what
 * spec/lua/dgram_spec.lua's namespaces use), so a child that runs ip(8)
 * keeps its capabilities across exec. Linux only; include after <sched.h>
 * with _GNU_SOURCE. Returns 0, or -1 with errno (the caller skips). */
#ifndef NET_SPEC_USERNS_H
#define NET_SPEC_USERNS_H

#ifdef __linux__
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static inline int userns_write(const char *file, const char *text)
{
    int fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    int saved = errno;
    close(fd);
    errno = saved;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static inline int unshare_as_user(int flags)
{
    if (unshare(flags) == 0)
        return 0;
    if (errno != EPERM)
        return -1;
    char map[64];
    unsigned uid = (unsigned)getuid(), gid = (unsigned)getgid();
    if (unshare(CLONE_NEWUSER | flags) != 0)
        return -1;
    snprintf(map, sizeof map, "0 %u 1\n", uid);
    if (userns_write("/proc/self/uid_map", map) != 0)
        return -1;
    /* (absent before Linux 3.19, where gid_map needs no such step) */
    if (userns_write("/proc/self/setgroups", "deny") != 0 && errno != ENOENT)
        return -1;
    snprintf(map, sizeof map, "0 %u 1\n", gid);
    return userns_write("/proc/self/gid_map", map);
}
#endif

#endif
