/* msg.c — message I/O over sendmsg/recvmsg: datagrams with their full
 * length, dissolving a datagram peer, gather writes, descriptor passing,
 * peer credentials, sendfile, batches of datagrams. The platform's struct
 * msghdr, iovec and cmsghdr stay in here: callers see net.h's records. A
 * call cut short by a signal returns -EINTR, never retried (doc/c-api.md). */
#include "internal.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/sendfile.h>
/* (spec/c builds the loop of recvmsg/sendmsg used where recvmmsg and
 * sendmmsg are missing with NET_MSG_FORCE_LOOP, to test it on Linux too) */
#ifndef NET_MSG_FORCE_LOOP
#define NET_HAVE_MMSG 1
#endif
#endif

/* Asking for MSG_TRUNC makes Linux report a datagram's full length even
 * when it was cut. Only datagram sockets may get it (on TCP it discards
 * bytes): every caller here is documented as datagram-only. */
#ifdef __linux__
#define NET_FULL_LENGTH MSG_TRUNC
#else
#define NET_FULL_LENGTH 0
#endif

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

/* Completes *out, whose storage the kernel has just filled with a sender's
 * name of len bytes (the name is received in place: no copy, and only the
 * bytes after it are cleared). A sender with no name (a unix socket never
 * bound) leaves the name empty: it is given as an AF_UNIX address without a
 * path, as getsockname shows such a socket. */
static void sender(net_addr_t *out, socklen_t len)
{
    if (len < sizeof(sa_family_t)) {
        ((struct sockaddr *)out->storage.bytes)->sa_family = AF_UNIX;
        len = sizeof(sa_family_t);
    }
    net__addr_filled(out, len);
}

/* 0 when fd is a socket whose receives keep message boundaries (datagram,
 * seqpacket, raw), else -EOPNOTSUPP (or the code of a descriptor that is no
 * socket). The receives below ask for MSG_TRUNC (a datagram's full length),
 * which on a TCP socket means "discard": the bytes are gone uncopied while
 * the count says they are in the buffer. Asking SO_TYPE before every receive
 * would cost a system call per datagram (W6: -31% on a UDP stream), so it is
 * asked only when the receive could have been a stream's (stream_like): a
 * UDP datagram never pays it, a unix one always. A stream socket is then
 * refused; on TCP its discarded bytes are lost, the price of a call net.h
 * documents for message sockets only, but no memory the kernel did not
 * write is ever reported as data.
 *   When SO_TYPE cannot be read (a security module may refuse getsockopt
 * where it allows receives), the family decides: a unix socket's bytes were
 * copied whatever its type (a unix stream ignores MSG_TRUNC), so they are
 * kept, not lost; on another family the failure stands. */
static int message_socket(int fd)
{
    int type = net_sock_type(fd);
    if (type < 0) {
        net_addr_t self;
        return net_sock_getsockname(fd, &self) == 0 && self.family == AF_UNIX ? 0 : type;
    }
    if (type != SOCK_DGRAM && type != SOCK_SEQPACKET && type != SOCK_RAW)
        return -EOPNOTSUPP;
    return 0;
}

/* Whether a length of the ABI's records (uint64_t) is one this platform's
 * calls take (size_t): on ILP32 a larger one would be cut to its low bits,
 * and a piece sent short without a word. */
static int fits_size_t(uint64_t len)
{
    return (uint64_t)(size_t)len == len;
}

/* Whether a receive whose sender came back as namelen bytes at name may have
 * been a stream socket's: one without a sender's name (every TCP receive,
 * and a unix stream whose peer is unnamed), or with a unix one (a unix
 * stream peer has the name it is bound to, as a datagram sender has). */
static int stream_like(const unsigned char *name, socklen_t namelen)
{
    return namelen < sizeof(sa_family_t) ||
           ((const struct sockaddr *)(const void *)name)->sa_family == AF_UNIX;
}

/* 1 when a receive of fd that got n bytes from a sender whose name took
 * namelen bytes met the socket's reading end shut with nothing queued, 0
 * when it got a message, else a code. After shutdown(SHUT_RD), and on a
 * seqpacket socket whose peer is gone, a receive that would wait returns 0
 * bytes and no sender at once, each time. Only that result is looked at
 * again, so no UDP datagram pays for it (each has a sender): on a socket of
 * another family than unix it is always the shut end; a unix one may have
 * got an empty datagram from an unbound sender, which net_sock_readshut
 * tells by what is still queued (the last one queued reads as the end). */
static int shut_for_reading(int fd, int64_t n, socklen_t namelen)
{
    int family;
    if (n != 0 || namelen >= sizeof(sa_family_t))
        return 0;
    if ((family = net_sock_family(fd)) < 0)
        return family;
    return family == AF_UNIX ? net_sock_readshut(fd) : 1;
}

/* 0 when fd is a unix socket, else -EAFNOSUPPORT (or the code of a
 * descriptor that is no socket). Only unix sockets carry descriptors
 * (SCM_RIGHTS): an inet socket would send the bytes, drop the control
 * message and report success, and a receive would take the bytes and report
 * that none came. So sendfd and recvfd refuse another family before
 * sending or reading anything. */
static int unix_socket(int fd)
{
    int family = net_sock_family(fd);
    if (family < 0)
        return family;
    return family == AF_UNIX ? 0 : -EAFNOSUPPORT;
}

#if !defined(__linux__) || defined(NET_HAVE_MMSG) /* its callers' systems */
/* The full length of a datagram that recvmsg returned n for with room for
 * len bytes and msg_flags mflags. */
static int64_t full_length(ssize_t n, size_t len, int mflags)
{
    if (NET_FULL_LENGTH)
        return (int64_t)n;
    return (mflags & MSG_TRUNC) ? (int64_t)len + 1 : (int64_t)n;
}
#endif

int64_t net_sock_recvdgram(int fd, void *buf, size_t len, int flags,
                           net_addr_t *from, int64_t *full)
{
    ssize_t n;
    int rc;
    net_addr_t name; /* the sender, when the caller does not want it */
#ifdef __linux__
    socklen_t namelen = NET_ADDR_STORAGE;
#else
    struct iovec iov;
    struct msghdr mh;
#endif

    if (flags & NET_RECV_REFUSED)
        return -EOPNOTSUPP;
    if (from == NULL)
        from = &name; /* it tells a stream socket (stream_like) */
#ifdef __linux__
    /* Linux's recvfrom takes MSG_TRUNC on datagram sockets too (it returns
     * the full length) and costs less than recvmsg: about 17% less CPU time
     * per 64-byte datagram (bench/RESULTS.md, W6). */
    n = recvfrom(fd, buf, len, flags | NET_FULL_LENGTH,
                 (struct sockaddr *)from->storage.bytes, &namelen);
    if (n < 0)
        return NET_ERR();
    if (stream_like(from->storage.bytes, namelen) && (rc = message_socket(fd)) < 0)
        return rc;
    if ((rc = shut_for_reading(fd, n, namelen)) != 0)
        return rc < 0 ? rc : -ESHUTDOWN;
    sender(from, namelen);
    if (full)
        *full = (int64_t)n;
#else
    iov.iov_base = buf;
    iov.iov_len = len;
    memset(&mh, 0, sizeof mh);
    mh.msg_name = from->storage.bytes;
    mh.msg_namelen = NET_ADDR_STORAGE;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    n = recvmsg(fd, &mh, flags | NET_FULL_LENGTH);
    if (n < 0)
        return NET_ERR();
    if (stream_like(from->storage.bytes, mh.msg_namelen) && (rc = message_socket(fd)) < 0)
        return rc;
    if ((rc = shut_for_reading(fd, n, mh.msg_namelen)) != 0)
        return rc < 0 ? rc : -ESHUTDOWN;
    sender(from, mh.msg_namelen);
    if (full)
        *full = full_length(n, len, mh.msg_flags);
#endif
    return (size_t)n > len ? (int64_t)len : (int64_t)n;
}

/* Linux's udp_disconnect unhashes a socket whose port the kernel chose (an
 * ephemeral bind, or the automatic bind of connect): it would stop receiving
 * at the port it had. It also forgets an address it chose (the one connect
 * picked for a wildcard bind), so the socket is bound again to the address
 * getsockname now reports (the wildcard, or an address the caller bound)
 * with its old port, not to the address it had while connected: that
 * would narrow a wildcard bind to one local address. Only when another
 * socket took the port on another address in the meantime (the wildcard
 * would cover it) does the socket keep its port on the connected address.
 *
 * Datagram sockets only: connecting a TCP socket to AF_UNSPEC resets its
 * connection, which is not what this call promises. */
int net_sock_disconnect(int fd)
{
    struct sockaddr sa;
    net_addr_t before, after;
    int type = net_sock_type(fd), named, port = 0, rc;
    if (type < 0)
        return type;
    if (type != SOCK_DGRAM && type != SOCK_RAW)
        return -EOPNOTSUPP;
    /* (a name that cannot be read fails the call before anything changes:
     * without it the port could not be kept) */
    if ((rc = net_sock_getsockname(fd, &before)) < 0)
        return rc;
    named = (before.family == AF_INET || before.family == AF_INET6) &&
            (port = net_addr_port(&before)) > 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_family = AF_UNSPEC;
    if (connect(fd, &sa, sizeof sa) < 0)
        return NET_ERR();
    if (!named)
        return 0;
    /* Dissolved; the name read again tells whether the port went. If it
     * cannot be read, the port is put back on the connected address (a
     * socket that kept its port refuses that bind: EINVAL, nothing lost). */
    if (net_sock_getsockname(fd, &after) < 0) {
        rc = net_sock_bind(fd, &before);
        return rc == -EINVAL ? 0 : rc;
    }
    if (after.family == before.family && net_addr_port(&after) == 0 &&
        net__addr_set_port(&after, port) == 0) {
        rc = net_sock_bind(fd, &after);
        /* The port was free for a moment: another socket may have taken it
         * on another address, which the wildcard would cover. The address
         * the connection had is free unless a socket sharing ports (or one
         * quicker still) took it too: then the error, the socket unbound. */
        if (rc == -EADDRINUSE)
            rc = net_sock_bind(fd, &before);
        return rc;
    }
    return 0;
}

/* ---- gather writes ------------------------------------------------------- */

int64_t net_sock_sendv(int fd, const net_iovec_t *iov, int count, int flags)
{
    struct iovec v[IOV_MAX > 1024 ? 1024 : IOV_MAX];
    const int room = (int)(sizeof v / sizeof v[0]);
    int64_t total = 0;
    int done = 0;

    if (count < 0 || (count > 0 && iov == NULL))
        return -EINVAL;
    for (int i = 0; i < count; i++)
        if (!fits_size_t(iov[i].len))
            return -EINVAL;
    if (count > room) {
        int type = net_sock_type(fd);
        if (type < 0)
            return type;
        if (type != SOCK_STREAM)
            return -EMSGSIZE; /* one datagram cannot be split */
    }
    do {
        struct msghdr mh;
        int k = count - done > room ? room : count - done, i;
        uint64_t want = 0; /* (saturating: on ILP32 the pieces may pass 4 GiB) */
        ssize_t n;
        for (i = 0; i < k; i++) {
            v[i].iov_base = (void *)(uintptr_t)iov[done + i].base;
            v[i].iov_len = (size_t)iov[done + i].len;
            want = UINT64_MAX - want < v[i].iov_len ? UINT64_MAX : want + v[i].iov_len;
        }
        memset(&mh, 0, sizeof mh);
        mh.msg_iov = v;
        mh.msg_iovlen = (size_t)k;
        n = sendmsg(fd, &mh, flags | NET_MSG_NOSIGPIPE);
        if (n < 0)
            return total > 0 ? total : NET_ERR();
        total += n;
        if ((uint64_t)n < want)
            break;
        done += k;
    } while (done < count);
    return total;
}

/* ---- descriptors ------------------------------------------------------------ */

int64_t net_sock_sendfd(int fd, int passfd, const void *buf, size_t len,
                        int flags)
{
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(int))];
    } control;
    struct iovec iov;
    struct msghdr mh;
    struct cmsghdr *c;
    ssize_t n;
    int rc;

    if (passfd < 0)
        return -EBADF;
    if ((rc = unix_socket(fd)) < 0)
        return rc;
    if (len == 0 && net_sock_type(fd) == SOCK_STREAM)
        return -EINVAL;
    memset(&control, 0, sizeof control);
    memset(&mh, 0, sizeof mh);
    iov.iov_base = (void *)(uintptr_t)buf;
    iov.iov_len = len;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control.bytes;
    mh.msg_controllen = sizeof control.bytes;
    c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &passfd, sizeof(int));
    n = sendmsg(fd, &mh, flags | NET_MSG_NOSIGPIPE);
    return n < 0 ? (int64_t)NET_ERR() : (int64_t)n;
}

#ifdef MSG_CMSG_CLOEXEC
#define NET_RECV_CLOEXEC MSG_CMSG_CLOEXEC
#else
#define NET_RECV_CLOEXEC 0
#endif

enum { FDS_MAX = 16 }; /* descriptors one message may bring (extras closed) */
/* Room for the other control messages the receiving socket may have asked
 * for, which the kernel writes before SCM_RIGHTS: credentials (SO_PASSCRED,
 * 32 bytes), a timestamp (SO_TIMESTAMP* and the `timestamp` option: up to 3
 * timespecs, 64), a pidfd (SO_PASSPIDFD, 24), a security label (SO_PASSSEC,
 * a context string). Without it the descriptors find no room: the kernel
 * drops them and says MSG_CTRUNC, which recvfd reads as "no free
 * descriptor". */
enum { OTHER_CMSG_ROOM = 1024 };

/* Control messages that install descriptors in the receiver: SCM_RIGHTS
 * (the ones passed) and, on Linux 6.5 on, SCM_PIDFD (a pidfd of the sender,
 * when the receiver set SO_PASSPIDFD). Each must be handed on or closed, or
 * it leaks: the first of SCM_RIGHTS is handed on, every other closed. */
static int carries_fds(const struct cmsghdr *c)
{
    if (c->cmsg_level != SOL_SOCKET)
        return 0;
#ifdef SCM_PIDFD
    if (c->cmsg_type == SCM_PIDFD)
        return 1;
#endif
    return c->cmsg_type == SCM_RIGHTS;
}

/* Offsets, not CMSG_FIRSTHDR/CMSG_NXTHDR: those trust the first header's
 * length and may step a pointer past the buffer on a bad one, and this walk
 * must hold on any bytes (fuzz/cmsg_fuzz.c). A header's data starts
 * CMSG_LEN(0) bytes into it, and the next header CMSG_SPACE(data) on. */
int net__cmsg_take_fd(const void *control, size_t len, int (*close_fd)(int))
{
    const unsigned char *p = control;
    size_t off = 0;
    int got = -1;

    while (off <= len && len - off >= sizeof(struct cmsghdr)) {
        struct cmsghdr c;
        size_t size, i, k;
        memcpy(&c, p + off, sizeof c);
        size = (size_t)c.cmsg_len;
        if (size < CMSG_LEN(0) || size > len - off)
            break; /* no kernel writes it: where the next one starts is unknown */
        if (carries_fds(&c)) {
            int passed = c.cmsg_type == SCM_RIGHTS;
            k = (size - CMSG_LEN(0)) / sizeof(int);
            for (i = 0; i < k; i++) {
                int one;
                memcpy(&one, p + off + CMSG_LEN(0) + i * sizeof(int), sizeof one);
                if (one < 0)
                    continue;
                if (passed && got < 0)
                    got = one;
                else
                    close_fd(one); /* only the first passed one is handed on */
            }
        }
        off += CMSG_SPACE(size - CMSG_LEN(0));
    }
    return got;
}

int64_t net_sock_recvfd(int fd, void *buf, size_t len, int flags, int *passfd)
{
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(FDS_MAX * sizeof(int)) + OTHER_CMSG_ROOM];
    } control;
    struct iovec iov;
    struct msghdr mh;
    ssize_t n;
    int got;

    if (passfd == NULL)
        return -EINVAL;
    *passfd = -1; /* on every failure too, as before any other check */
    if (flags & NET_RECV_REFUSED)
        return -EOPNOTSUPP;
    if ((got = unix_socket(fd)) < 0)
        return got; /* nothing read: the data stays queued */
    iov.iov_base = buf;
    iov.iov_len = len;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control.bytes;
    mh.msg_controllen = sizeof control.bytes;
    n = recvmsg(fd, &mh, flags | NET_RECV_CLOEXEC);
    if (n < 0)
        return NET_ERR();
    got = net__cmsg_take_fd(control.bytes, (size_t)mh.msg_controllen, close);
    if (got >= 0 && !NET_RECV_CLOEXEC)
        fcntl(got, F_SETFD, FD_CLOEXEC);
    else if (got < 0 && (mh.msg_flags & MSG_CTRUNC))
        got = -EMFILE; /* the kernel dropped what it could not install (no
                        * free descriptor, mostly): not "none was sent" */
    *passfd = got;
    return (size_t)n > len ? (int64_t)len : (int64_t)n;
}

int net_sock_peercred(int fd, net_cred_t *out)
{
    int rc;
    if (out == NULL)
        return -EINVAL;
    /* other families: Linux reports no error, only ids of -1 (no one's) */
    if ((rc = unix_socket(fd)) < 0)
        return rc;
#if defined(SO_PEERCRED) && defined(__linux__)
    struct ucred uc;
    socklen_t len = sizeof uc;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
        return NET_ERR();
    /* No credentials were recorded (a datagram socket that is not one of a
     * pair): Linux reports the ids as -1, which are no one's. A pid of 0 with
     * real ids is a peer in a pid namespace this process cannot see into (a
     * container's client of a daemon outside): its pid is unknown, not its
     * credentials. */
    if (uc.uid == (uid_t)-1 && uc.gid == (gid_t)-1)
        return -ENOTCONN;
    out->pid = uc.pid > 0 ? uc.pid : -1;
    out->uid = uc.uid;
    out->gid = uc.gid;
    return 0;
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || \
    defined(__NetBSD__)
    uid_t uid;
    gid_t gid;
    if (getpeereid(fd, &uid, &gid) < 0)
        return NET_ERR();
    out->pid = -1;
#ifdef LOCAL_PEERPID
    {
        pid_t pid;
        socklen_t len = sizeof pid;
        if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERPID, &pid, &len) == 0)
            out->pid = pid;
    }
#endif
    out->uid = uid;
    out->gid = gid;
    return 0;
#else
    (void)fd;
    return -ENOPROTOOPT;
#endif
}

/* ---- sendfile ------------------------------------------------------------------ */

#ifdef __linux__
/* sendfile(2) has no MSG_NOSIGNAL: writing to a socket whose peer is gone
 * raises SIGPIPE (its default action ends the process), and net.h promises
 * that no call raises it. So SIGPIPE is blocked in the calling thread for
 * the call (the kernel directs that SIGPIPE at this thread, so it stays
 * pending instead of being delivered), and a SIGPIPE the call raised is
 * taken off the pending set before the mask is restored. The call may have
 * raised it and still report bytes: a transfer that moved some before the
 * peer went returns their count, not -EPIPE; so any result short of count
 * looks at the pending set. One that was already pending before (the caller
 * blocks SIGPIPE and one came earlier) is left for the caller: standard
 * signals do not queue, so this call cannot have added a second one, and
 * consuming it would lose the caller's. */
static ssize_t sendfile_nosigpipe(int fd, int filefd, off_t *off, size_t count)
{
    sigset_t pipe_set, old, pending;
    ssize_t n;
    int err, was_pending;

    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    if ((err = pthread_sigmask(SIG_BLOCK, &pipe_set, &old)) != 0) {
        errno = err; /* cannot happen with these arguments */
        return -1;
    }
    was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
    n = sendfile(fd, filefd, off, count);
    err = errno;
    if (!was_pending && (n < 0 ? err == EPIPE : (size_t)n < count)) {
        static const struct timespec zero = {0, 0};
        /* a zero timeout: nothing pending is -EAGAIN at once, never a wait */
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = err;
    return n;
}
#endif

/* One sendfile call per 0x7ffff000 bytes (Linux's most per call). A short
 * count that is not the file's end means the socket took no more: full (non-
 * blocking), or a blocking call ended by SO_SNDTIMEO or a signal. The loop
 * stops there: another call would wait again with a fresh SO_SNDTIMEO (or
 * hold off the caller's signal handler), against net.h's rule that calls are
 * never restarted. */
int64_t net_sock_sendfile(int fd, int filefd, int64_t offset, int64_t count)
{
    /* to a stream socket only: sendfile(2) would write a file as well, and
     * send a datagram socket datagrams */
    int type = net_sock_type(fd);
    if (type < 0)
        return type;
    if (type != SOCK_STREAM)
        return -EOPNOTSUPP;
#ifdef __linux__
    off_t off = (off_t)offset;
    int64_t total = 0;
    /* count < 0, to the end: chunks until one comes back short. The file's
     * size is not asked: files of /proc and /sys say 0 and have bytes. */
    while (count < 0 || total < count) {
        size_t chunk = count < 0 || count - total > 0x7ffff000 ? 0x7ffff000
                                                               : (size_t)(count - total);
        ssize_t n = sendfile_nosigpipe(fd, filefd, offset >= 0 ? &off : NULL, chunk);
        if (n < 0)
            return total > 0 ? total : NET_ERR();
        total += n;
        if ((size_t)n < chunk)
            break; /* the file ended (0 at its end), or the socket is full */
    }
    return total;
#else
    (void)fd, (void)filefd, (void)offset, (void)count;
    return -ENOSYS;
#endif
}

int64_t net_sock_sendfilepath(int fd, const char *path, int64_t offset,
                              int64_t count)
{
    int64_t n;
    int filefd;
    if (path == NULL)
        return -EINVAL;
    /* O_NONBLOCK: opening a FIFO for reading would wait for a writer, past
     * any deadline (it changes nothing for a regular file) */
    filefd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (filefd < 0)
        return NET_ERR();
    n = net_sock_sendfile(fd, filefd, offset < 0 ? 0 : offset, count);
    close(filefd);
    return n;
}

/* ---- batches of datagrams ------------------------------------------------------- */

enum { BATCH = 64 }; /* datagrams per system call */

/* Every destination record is checked before the first datagram goes: a
 * malformed one (net__addr_validate) sends nothing. A well-formed address
 * the kernel refuses (another family) fails at its datagram, as sendto. */
static int check_destinations(const net_msg_t *msgs, int count)
{
    int i;
    if (count < 0 || (count > 0 && msgs == NULL))
        return -EINVAL;
    for (i = 0; i < count; i++)
        if ((msgs[i].addr.family != 0 && net__addr_validate(&msgs[i].addr) < 0) ||
            !fits_size_t(msgs[i].len))
            return -EINVAL;
    return 0;
}

/* How many datagrams a recvmany of count may take, or a code: a peek
 * (MSG_PEEK) takes one at most, as each slot would peek the same datagram,
 * the one at the head of the queue. A room this platform's calls cannot
 * take (ILP32) is -EINVAL, nothing read. */
static int recvmany_count(const net_msg_t *msgs, int count, int flags)
{
    int i;
    if (count < 0 || (count > 0 && msgs == NULL))
        return -EINVAL;
    for (i = 0; i < count; i++)
        if (!fits_size_t(msgs[i].size))
            return -EINVAL;
    if (flags & NET_RECV_REFUSED)
        return -EOPNOTSUPP;
    return (flags & MSG_PEEK) && count > 1 ? 1 : count;
}

#ifdef NET_HAVE_MMSG
/* Whether the first of several datagrams one recvmmsg took is no datagram
 * but the reading end met shut with nothing queued, and the rest arrived
 * after it, while the kernel's loop went on (MSG_DONTWAIT): 0 bytes from no
 * sender on a socket of another family than unix, where every datagram has
 * a sender. A unix socket refuses datagrams once shut, so there a first
 * followed by more is an empty datagram of a sender never bound. A family
 * that cannot be read keeps the first as a datagram: an error would lose
 * the datagrams the call took. */
static int shut_before_more(int fd, const struct mmsghdr *first)
{
    int family;
    if (first->msg_len != 0 || first->msg_hdr.msg_namelen >= sizeof(sa_family_t))
        return 0;
    family = net_sock_family(fd);
    return family >= 0 && family != AF_UNIX;
}

int net_sock_recvmany(int fd, net_msg_t *msgs, int count, int flags)
{
    struct mmsghdr mm[BATCH];
    struct iovec iov[BATCH];
    int done = 0, rc, skip;
    int empties = 0; /* empty messages from no sender at the end of msgs[0..done) */

    if ((count = recvmany_count(msgs, count, flags)) < 0)
        return count;
    while (done < count) {
        int k = count - done > BATCH ? BATCH : count - done, i, n;
        /* the first datagram waits as the socket and flags say; once one
         * is here, the rest only take what is queued */
        int f = flags | NET_FULL_LENGTH | (done ? MSG_DONTWAIT : MSG_WAITFORONE);
        memset(mm, 0, sizeof mm[0] * (size_t)k);
        for (i = 0; i < k; i++) {
            iov[i].iov_base = msgs[done + i].buf;
            iov[i].iov_len = (size_t)msgs[done + i].size;
            mm[i].msg_hdr.msg_iov = &iov[i];
            mm[i].msg_hdr.msg_iovlen = 1;
            mm[i].msg_hdr.msg_name = msgs[done + i].addr.storage.bytes;
            mm[i].msg_hdr.msg_namelen = NET_ADDR_STORAGE;
        }
        n = recvmmsg(fd, mm, (unsigned)k, f, NULL);
        if (n < 0)
            return done > 0 ? done : NET_ERR();
        /* maybe a stream socket (message_socket), checked once */
        if (done == 0 && n > 0 &&
            stream_like(msgs[done].addr.storage.bytes, mm[0].msg_hdr.msg_namelen) &&
            (rc = message_socket(fd)) < 0)
            return rc;
        /* only a first can be the reading end shut: the rest do not wait,
         * and a shut socket with nothing queued says EAGAIN to them */
        if (done == 0 && n == 1 &&
            (rc = shut_for_reading(fd, mm[0].msg_len, mm[0].msg_hdr.msg_namelen)) != 0)
            return rc < 0 ? rc : -ESHUTDOWN;
        skip = done == 0 && n > 1 && shut_before_more(fd, &mm[0]);
        for (i = skip; i < n; i++) {
            net_msg_t *m = &msgs[done + i - skip], *slot = &msgs[done + i];
            size_t got = mm[i].msg_len, room = (size_t)slot->size;
            if (m != slot) { /* one slot down, in the room of both */
                size_t moved;
                room = room < (size_t)m->size ? room : (size_t)m->size;
                moved = got < room ? got : room;
                if (moved > 0)
                    memmove(m->buf, slot->buf, moved);
                m->addr = slot->addr;
            }
            empties = got == 0 && mm[i].msg_hdr.msg_namelen < sizeof(sa_family_t) ? empties + 1 : 0;
            sender(&m->addr, mm[i].msg_hdr.msg_namelen);
            m->full = full_length((ssize_t)got, room, mm[i].msg_hdr.msg_flags);
            m->len = got > room ? room : got;
        }
        done += n - skip;
        /* Empty messages from no sender that end what came may be the
         * reading end met again and again: on a seqpacket socket whose peer
         * is gone, every slot after the end gets 0 bytes (recvmmsg counts
         * each), and a batch of them would come back for good. When the
         * socket reads shut with nothing queued, they are the end (as for
         * one receive, the last message queued, if empty, reads as the end):
         * cut, and the end is this call's when nothing came before them. */
        if (empties > 0 && net_sock_readshut(fd) == 1) {
            done -= empties;
            return done > 0 ? done : -ESHUTDOWN;
        }
        if (n < k)
            break;
    }
    return done;
}

int net_sock_sendmany(int fd, net_msg_t *msgs, int count, int flags)
{
    struct mmsghdr mm[BATCH];
    struct iovec iov[BATCH];
    int done = 0, rc;

    if ((rc = check_destinations(msgs, count)) < 0)
        return rc;
    while (done < count) {
        int k = count - done > BATCH ? BATCH : count - done, i, n;
        memset(mm, 0, sizeof mm[0] * (size_t)k);
        for (i = 0; i < k; i++) {
            const net_msg_t *m = &msgs[done + i];
            iov[i].iov_base = m->buf;
            iov[i].iov_len = (size_t)m->len;
            mm[i].msg_hdr.msg_iov = &iov[i];
            mm[i].msg_hdr.msg_iovlen = 1;
            if (m->addr.family != 0) {
                mm[i].msg_hdr.msg_name = (void *)(uintptr_t)m->addr.storage.bytes;
                mm[i].msg_hdr.msg_namelen = m->addr.len;
            }
        }
        /* Only the first datagram may wait for room, as the socket says: the
         * rest go while there is room (flags apply to every datagram of a
         * sendmmsg, so a blocking socket would wait for each). A first try
         * without waiting sends what fits; finding no room, the first alone
         * is sent as the socket says. */
        int alone = 0; /* the first datagram, sent by itself */
        n = sendmmsg(fd, mm, (unsigned)k, flags | NET_MSG_NOSIGPIPE | MSG_DONTWAIT);
        if (n < 0 && done == 0 && !(flags & MSG_DONTWAIT) &&
            (errno == EAGAIN || errno == EWOULDBLOCK)) {
            n = sendmmsg(fd, mm, 1, flags | NET_MSG_NOSIGPIPE);
            alone = 1;
        }
        if (n < 0)
            return done > 0 ? done : NET_ERR();
        done += n;
        if (n < k && !alone)
            break;
    }
    return done;
}
#else
/* A loop of recvmsg/sendmsg where the batch calls are missing. */
int net_sock_recvmany(int fd, net_msg_t *msgs, int count, int flags)
{
    int done = 0;
    if ((count = recvmany_count(msgs, count, flags)) < 0)
        return count;
    while (done < count) {
        net_msg_t *m = &msgs[done];
        int64_t full;
        int64_t n = net_sock_recvdgram(fd, m->buf, (size_t)m->size,
                                       flags | (done ? MSG_DONTWAIT : 0),
                                       &m->addr, &full);
        if (n < 0)
            return done > 0 ? done : (int)n;
        m->len = (uint64_t)n;
        m->full = full;
        done++;
    }
    return done;
}

int net_sock_sendmany(int fd, net_msg_t *msgs, int count, int flags)
{
    int done = 0, rc;
    if ((rc = check_destinations(msgs, count)) < 0)
        return rc;
    while (done < count) {
        const net_msg_t *m = &msgs[done];
        /* the first datagram waits for room as the socket says, the rest
         * go while there is room */
        int64_t n = net_sock_sendto(fd, m->buf, (size_t)m->len,
                                    flags | (done ? MSG_DONTWAIT : 0),
                                    m->addr.family ? &m->addr : NULL);
        if (n < 0)
            return done > 0 ? done : (int)n;
        done++;
    }
    return done;
}
#endif
