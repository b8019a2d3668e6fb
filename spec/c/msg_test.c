/* msg_test.c — gather writes, descriptor passing, peer credentials,
 * sendfile, batches of datagrams, over unix pairs and 127.0.0.1. */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include "util.h"
#include "userns.h"

static void test_sendv(void)
{
    static net_iovec_t iov[1500];
    static char pieces[1500][8], in[16000];
    int fds[2], i;
    size_t total = 0;
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC, fds));
    for (i = 0; i < 1500; i++) { /* more than IOV_MAX: several sendmsg */
        snprintf(pieces[i], sizeof pieces[i], "%d,", i);
        iov[i].base = pieces[i];
        iov[i].len = strlen(pieces[i]);
        total += iov[i].len;
    }
    CHECK_EQ((long long)total, net_sock_sendv(fds[0], iov, 1500, 0));
    size_t got = 0;
    while (got < total) {
        int64_t n = net_sock_recv(fds[1], in + got, sizeof in - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    CHECK_EQ((long long)total, (long long)got);
    char *p = in;
    int in_order = 1;
    for (i = 0; i < 1500; i++) {
        size_t n = strlen(pieces[i]);
        in_order &= memcmp(p, pieces[i], n) == 0;
        p += n;
    }
    CHECK(in_order);
    CHECK_EQ(-EINVAL, net_sock_sendv(fds[0], NULL, 1, 0));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);

    SETUP(net_sock_pair(AF_UNIX, SOCK_DGRAM, 0, NET_CLOEXEC, fds));
    CHECK_EQ(-EMSGSIZE, net_sock_sendv(fds[0], iov, 1500, 0)); /* one datagram */
    CHECK_EQ(2, net_sock_sendv(fds[0], iov, 1, 0));
    CHECK_EQ(2, net_sock_recv(fds[1], in, sizeof in, 0));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);

    /* More pieces than one sendmsg takes ask what the socket is: a
     * descriptor that is none is that lookup's own code, ENOTSOCK (or
     * EBADF when closed), never EMSGSIZE, which says "a datagram". */
    SETUP(pipe(fds));
    CHECK_EQ(-ENOTSOCK, net_sock_sendv(fds[1], iov, 1500, 0));
    close(fds[0]);
    close(fds[1]);
    CHECK_EQ(-EBADF, net_sock_sendv(fds[1], iov, 1500, 0));
}

/* sendv of more pieces than one sendmsg takes (2048 of 256 bytes: two
 * calls) on a blocking unix stream whose SO_SNDTIMEO (150 ms) cuts the
 * first call short; a reader starts draining at 250 ms. The call stops at
 * that partial batch ("stopping at a partial one", c-api.md): going on with
 * the second batch would leave a gap in the stream, the rest of the first
 * batch never sent. The peer must receive exactly the first n bytes. */
enum { PARTIAL_PIECES = 2048, PARTIAL_PIECE = 256 };
static unsigned char partial_data[PARTIAL_PIECES * PARTIAL_PIECE];
static unsigned char partial_got[PARTIAL_PIECES * PARTIAL_PIECE];
static size_t partial_ngot;
static int partial_rx;

static void *partial_reader(void *unused)
{
    struct timespec pause = {0, 250 * 1000 * 1000};
    (void)unused;
    nanosleep(&pause, NULL);
    for (;;) { /* until EOF (the writer shuts down), or 2 s of nothing */
        int64_t n = net_sock_recv(partial_rx, partial_got + partial_ngot,
                                  sizeof partial_got - partial_ngot, 0);
        if (n <= 0)
            break;
        partial_ngot += (size_t)n;
    }
    return NULL;
}

static void test_sendv_stops_at_a_partial_batch(void)
{
    static net_iovec_t iov[PARTIAL_PIECES];
    unsigned int x = 12345;
    int fds[2], i;
    int64_t n;
    pthread_t thread;
    for (i = 0; i < (int)sizeof partial_data; i++) { /* no two pieces alike */
        x = x * 1103515245u + 12345u;
        partial_data[i] = (unsigned char)(x >> 16);
    }
    for (i = 0; i < PARTIAL_PIECES; i++) {
        iov[i].base = partial_data + (size_t)i * PARTIAL_PIECE;
        iov[i].len = PARTIAL_PIECE;
    }
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC, fds));
    SETUP(net_sock_sndtimeo(fds[0], 0.15));
    SETUP(net_sock_rcvtimeo(fds[1], 2.0));
    partial_rx = fds[1];
    partial_ngot = 0;
    SETUP(pthread_create(&thread, NULL, partial_reader, NULL) == 0 ? 0 : -1);
    n = net_sock_sendv(fds[0], iov, PARTIAL_PIECES, 0);
    SETUP(shutdown(fds[0], SHUT_WR));
    pthread_join(thread, NULL);
    CHECK(n > 0 && n < (int64_t)sizeof partial_data); /* the first call was cut */
    CHECK_EQ(n, (long long)partial_ngot);
    CHECK(memcmp(partial_got, partial_data, partial_ngot) == 0);
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}

/* sendv of 2048 one-byte pieces (two sendmsg calls) on a non-blocking unix
 * stream with room for the first call only: the second finds no room. The
 * result is the count sent (1024, now in the peer's queue), not -EAGAIN,
 * which would say nothing went. */
static void test_sendv_counts_before_eagain(void)
{
    static net_iovec_t iov[2048];
    static char data[2048], in[4096];
    int fds[2], i;
    long filled = 0, queued = 0;
    int64_t n, r;
    char byte = 'x';
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC | NET_NONBLOCK, fds));
    while (net_sock_send(fds[0], &byte, 1, 0) == 1)
        filled++; /* full */
    SETUP(net_sock_recv(fds[1], in, 1, 0)); /* room for one buffer's worth */
    filled--;
    memset(data, 'y', sizeof data);
    for (i = 0; i < 2048; i++) {
        iov[i].base = data + i;
        iov[i].len = 1;
    }
    n = net_sock_sendv(fds[0], iov, 2048, 0);
    while ((r = net_sock_recv(fds[1], in, sizeof in, 0)) > 0)
        queued += r;
    CHECK(n > 0);
    CHECK_EQ(queued - filled, n);
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}

static void test_fds(void)
{
    int fds[2], other[2], got = -2;
    char buf[8];
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC, fds));
    SETUP(net_sock_pair(AF_UNIX, SOCK_DGRAM, 0, NET_CLOEXEC, other));
    CHECK_EQ(-EINVAL, net_sock_sendfd(fds[0], other[0], "", 0, 0));
    CHECK_EQ(-EBADF, net_sock_sendfd(fds[0], -1, "x", 1, 0));
    CHECK_EQ(1, net_sock_sendfd(fds[0], other[0], "x", 1, 0));
    CHECK_EQ(1, net_sock_recvfd(fds[1], buf, sizeof buf, 0, &got));
    CHECK(got >= 0 && got != other[0]);
    CHECK_EQ(FD_CLOEXEC, fcntl(got, F_GETFD) & FD_CLOEXEC);
    CHECK_EQ(3, net_sock_send(got, "via", 3, 0));
    CHECK_EQ(3, net_sock_recv(other[1], buf, sizeof buf, 0));
    net_sock_close(got);
    CHECK_EQ(5, net_sock_send(fds[0], "plain", 5, 0));
    /* MSG_TRUNC is refused as by every receive, before anything is read */
    got = 12345;
    CHECK_EQ(-EOPNOTSUPP, net_sock_recvfd(fds[1], buf, sizeof buf, MSG_TRUNC, &got));
    CHECK_EQ(-1, got); /* -1 on every failure, as for -EAFNOSUPPORT */
    CHECK_EQ(5, net_sock_recvfd(fds[1], buf, sizeof buf, 0, &got));
    CHECK_EQ(-1, got);
    CHECK_EQ(-EINVAL, net_sock_recvfd(fds[1], buf, sizeof buf, 0, NULL));

    net_cred_t cred;
    CHECK_EQ(0, net_sock_peercred(fds[0], &cred));
    CHECK_EQ(getpid(), cred.pid);
    CHECK_EQ(getuid(), cred.uid);
    CHECK_EQ(getgid(), cred.gid);
    CHECK_EQ(-EINVAL, net_sock_peercred(fds[0], NULL));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
    net_sock_close(other[0]);
    net_sock_close(other[1]);
}

/* sendfd and recvfd over inet sockets, which cannot carry SCM_RIGHTS:
 * refused, and nothing is sent or read (the kernel would send the bytes and
 * drop the descriptor, and the call would report success; a receive would
 * take the bytes and report no descriptor). */
static void test_fds_not_unix(void)
{
    int fds[2], got = -2;
    char buf[8];
    int lfd = tcp_trio("127.0.0.1", fds);
    CHECK_EQ(-EAFNOSUPPORT, net_sock_sendfd(fds[0], 0, "x", 1, 0));
    CHECK_EQ(-EAGAIN, net_sock_recv(fds[1], buf, sizeof buf, MSG_DONTWAIT));
    CHECK_EQ(2, net_sock_send(fds[0], "ab", 2, 0));
    CHECK_EQ(-EAFNOSUPPORT, net_sock_recvfd(fds[1], buf, sizeof buf, 0, &got));
    CHECK_EQ(-1, got);
    {
        net_cred_t cred;
        CHECK_EQ(-EAFNOSUPPORT, net_sock_peercred(fds[1], &cred));
    }
    CHECK_EQ(2, net_sock_recv(fds[1], buf, sizeof buf, 0));
    CHECK(memcmp(buf, "ab", 2) == 0);
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
    net_sock_close(lfd);

    net_addr_t any, self;
    SETUP(net_addr_inet(&any, "127.0.0.1", 0));
    int u = net_sock_open(AF_INET, SOCK_DGRAM, 0, NET_CLOEXEC);
    SETUP(u);
    SETUP(net_sock_bind(u, &any));
    SETUP(net_sock_getsockname(u, &self));
    SETUP(net_sock_connect(u, &self));
    CHECK_EQ(-EAFNOSUPPORT, net_sock_sendfd(u, 0, "x", 1, 0));
    CHECK_EQ(-EAGAIN, net_sock_recv(u, buf, sizeof buf, MSG_DONTWAIT));
    net_sock_close(u);
}

/* The most descriptors one SCM_RIGHTS message may carry (Linux's
 * SCM_MAX_FD). */
enum { FDS_SENT_MAX = 253 };

/* Sends count fresh descriptors in one SCM_RIGHTS message (not through
 * net_sock_sendfd, which sends one), the first /dev/zero and the others
 * /dev/null, and closes them here: from then on only the message holds
 * them. */
static void send_fds(int fd, int count)
{
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(FDS_SENT_MAX * sizeof(int))];
    } control;
    int nul[FDS_SENT_MAX], i;
    struct iovec iov = {.iov_base = "m", .iov_len = 1};
    struct msghdr mh;
    struct cmsghdr *c;
    SETUP(count <= FDS_SENT_MAX ? 0 : -1);
    for (i = 0; i < count; i++)
        SETUP(nul[i] = open(i == 0 ? "/dev/zero" : "/dev/null", O_RDONLY | O_CLOEXEC));
    memset(&control, 0, sizeof control);
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control.bytes;
    mh.msg_controllen = CMSG_SPACE((size_t)count * sizeof(int));
    c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN((size_t)count * sizeof(int));
    memcpy(CMSG_DATA(c), nul, (size_t)count * sizeof(int));
    /* the system call itself: musl's sendmsg copies control data through a
     * buffer of 1,024 bytes and refuses more (253 descriptors take 1,032) */
    SETUP(syscall(SYS_sendmsg, fd, &mh, 0) == 1 ? 0 : -1);
    for (i = 0; i < count; i++)
        close(nul[i]);
}

/* A receiver with SO_PASSPIDFD (Linux 6.5 on) gets a pidfd of the sender
 * with each message: recvfd closes it (it is no passed descriptor), or every
 * receive would leak one. Skipped where the kernel lacks the option. */
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
static void test_fds_pidfd(void)
{
    int fds[2], one = 1, got = -2, before, i;
    char buf[8];
    SETUP(net_sock_pair(AF_UNIX, SOCK_DGRAM, 0, NET_CLOEXEC, fds));
    if (setsockopt(fds[1], SOL_SOCKET, SO_PASSPIDFD, &one, sizeof one) < 0) {
        SKIPPED("SO_PASSPIDFD: %s", strerror(errno));
    } else {
        before = fd_count();
        for (i = 0; i < 4; i++) {
            CHECK_EQ(1, net_sock_send(fds[0], "x", 1, 0));
            CHECK_EQ(1, net_sock_recvfd(fds[1], buf, sizeof buf, 0, &got));
            CHECK_EQ(-1, got); /* a pidfd is not a passed descriptor */
        }
        CHECK_EQ(1, net_sock_sendfd(fds[0], fds[0], "y", 1, 0));
        CHECK_EQ(1, net_sock_recvfd(fds[1], buf, sizeof buf, 0, &got));
        CHECK(got >= 0); /* the passed one is handed on, the pidfd closed */
        net_sock_close(got);
        CHECK_EQ(before, fd_count());
    }
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}

/* A receiver that asked for other control messages too (credentials,
 * timestamps, a pidfd where the kernel has it), on a datagram and a
 * seqpacket pair: they come before SCM_RIGHTS, and the passed descriptor
 * still arrives (it was dropped for lack of room and reported as "Too many
 * open files"); a message without one says none came. */
static void test_fds_with_other_control(void)
{
    static const int types[] = {SOCK_DGRAM, SOCK_SEQPACKET};
    int fds[2], one = 1, got, before, t;
    char buf[8];
    for (t = 0; t < 2; t++) {
        SETUP(net_sock_pair(AF_UNIX, types[t], 0, NET_CLOEXEC, fds));
        SETUP(setsockopt(fds[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one));
        SETUP(net_sock_timestamp(fds[1], 1));
        (void)setsockopt(fds[1], SOL_SOCKET, SO_PASSPIDFD, &one, sizeof one); /* Linux 6.5 on */
        before = fd_count();
        CHECK_EQ(1, net_sock_sendfd(fds[0], fds[0], "y", 1, 0));
        got = -2;
        CHECK_EQ(1, net_sock_recvfd(fds[1], buf, sizeof buf, 0, &got));
        CHECK(got >= 0);
        if (got >= 0)
            net_sock_close(got);
        CHECK_EQ(1, net_sock_send(fds[0], "z", 1, 0));
        got = -2;
        CHECK_EQ(1, net_sock_recvfd(fds[1], buf, sizeof buf, 0, &got));
        CHECK_EQ(-1, got);
        CHECK_EQ(before, fd_count());
        net_sock_close(fds[0]);
        net_sock_close(fds[1]);
    }
}

/* A peer whose pid namespace this process cannot see has credentials all
 * the same: its uid and gid, and pid -1 (SO_PEERCRED says 0 for it, as for
 * "none recorded", whose ids are -1). A grandchild in a new pid namespace
 * asks about the pair this process made. Needs CAP_SYS_ADMIN, or a user
 * namespace of its own (unshare_as_user): skipped without either. */
static void test_peercred_other_namespace(void)
{
    int fds[2], status = -1;
    pid_t child;
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC, fds));
    child = fork();
    SETUP(child);
    if (child == 0) {
        pid_t inner;
        int inner_status = -1;
        if (unshare_as_user(CLONE_NEWPID) < 0)
            _exit(77);
        inner = fork(); /* the first process of the new namespace */
        if (inner < 0)
            _exit(3);
        if (inner == 0) {
            net_cred_t cred;
            int ok = net_sock_peercred(fds[1], &cred) == 0 && cred.pid == -1 &&
                     cred.uid == (int64_t)getuid() && cred.gid == (int64_t)getgid();
            _exit(ok ? 0 : 1);
        }
        waitpid(inner, &inner_status, 0);
        _exit(WIFEXITED(inner_status) ? WEXITSTATUS(inner_status) : 2);
    }
    SETUP(waitpid(child, &status, 0));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
        SKIPPED("peercred across pid namespaces (unshare(CLONE_NEWPID) not permitted, nor in a user namespace)");
    else
        CHECK_EQ(0, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}

/* Whether fd is /dev/zero (the first descriptor send_fds sends). */
static int is_dev_zero(int fd)
{
    struct stat zero, st;
    return stat("/dev/zero", &zero) == 0 && fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
           st.st_rdev == zero.st_rdev;
}

/* A message bringing several descriptors: the first is handed on, every
 * other one is closed, and nothing is left open but the one. 3 and 24 all
 * arrive; so do 253 (the kernel's most) on a plain receiver, and to one that
 * asked for credentials, a timestamp and a pidfd the kernel cannot give them
 * all (recvfd's room holds 272 descriptors beside 1,024 bytes of other
 * messages): it installs what fits, drops the rest and says MSG_CTRUNC; the
 * first is handed on all the same. */
static void test_fds_many(void)
{
    static const struct {
        int count, other_control;
    } cases[] = {{3, 0}, {24, 0}, {FDS_SENT_MAX, 0}, {FDS_SENT_MAX, 1}};
    int fds[2], got, one = 1;
    char buf[8];
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        SETUP(net_sock_pair(AF_UNIX, SOCK_DGRAM, 0, NET_CLOEXEC, fds));
        if (cases[k].other_control) {
            SETUP(setsockopt(fds[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one));
            SETUP(net_sock_timestamp(fds[1], 1));
            if (setsockopt(fds[1], SOL_SOCKET, SO_PASSPIDFD, &one, sizeof one) < 0)
                printf("# SO_PASSPIDFD: %s, the message may not be cut\n", strerror(errno));
        }
        const int before = fd_count();
        send_fds(fds[0], cases[k].count);
        CHECK_EQ(before, fd_count());
        got = -2;
        CHECK_EQ(1, net_sock_recvfd(fds[1], buf, sizeof buf, 0, &got));
        CHECK_(got >= 0 && is_dev_zero(got), "%d descriptors (other control %d): got %d",
               cases[k].count, cases[k].other_control, got);
        if (got >= 0) {
            CHECK_EQ(FD_CLOEXEC, fcntl(got, F_GETFD) & FD_CLOEXEC);
            CHECK_EQ(before + 1, fd_count());
            close(got);
        }
        net_sock_close(fds[0]);
        net_sock_close(fds[1]);
    }
}

static void test_sendfile(void)
{
    char dir[64], path[128], in[64];
    int fds[2], f;
    temp_dir_make(dir);
    snprintf(path, sizeof path, "%s/file", dir);
    f = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    SETUP(f);
    SETUP(write(f, "0123456789", 10) == 10 ? 0 : -1);
    close(f);
    f = open(path, O_RDONLY | O_CLOEXEC);
    SETUP(f);
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC, fds));
    CHECK_EQ(4, net_sock_sendfile(fds[0], f, 2, 4)); /* offset: position unmoved */
    CHECK_EQ(4, net_sock_recv(fds[1], in, sizeof in, 0));
    CHECK(memcmp(in, "2345", 4) == 0);
    CHECK_EQ(3, net_sock_sendfile(fds[0], f, -1, 3)); /* from the position */
    CHECK_EQ(7, net_sock_sendfile(fds[0], f, -1, -1)); /* the rest */
    CHECK_EQ(0, net_sock_sendfile(fds[0], f, -1, -1)); /* at the end */
    CHECK_EQ(10, net_sock_recv(fds[1], in, 10, MSG_WAITALL));
    CHECK(memcmp(in, "0123456789", 10) == 0);
    CHECK_EQ(10, net_sock_sendfilepath(fds[0], path, -1, 100)); /* short file */
    CHECK_EQ(10, net_sock_recv(fds[1], in, 10, MSG_WAITALL));
    CHECK_EQ(-ENOENT, net_sock_sendfilepath(fds[0], "/nonexistent/x", 0, 1));
    /* to a stream socket only: not to a file, not as datagrams */
    int dg[2];
    CHECK_EQ(-ENOTSOCK, net_sock_sendfile(f, f, 0, 1));
    CHECK_EQ(0, net_sock_pair(AF_UNIX, SOCK_DGRAM, 0, 0, dg));
    CHECK_EQ(-EOPNOTSUPP, net_sock_sendfile(dg[0], f, 0, 1));
    CHECK_EQ(-EAGAIN, net_sock_recv(dg[1], in, sizeof in, MSG_DONTWAIT)); /* nothing went */
    net_sock_close(dg[0]);
    net_sock_close(dg[1]);
    /* to the end of a file whose size the system reports as 0 (/proc) */
    CHECK_EQ(6, net_sock_sendfilepath(fds[0], "/proc/sys/kernel/ostype", 0, -1));
    CHECK_EQ(6, net_sock_recv(fds[1], in, sizeof in, MSG_DONTWAIT));
    CHECK(memcmp(in, "Linux\n", 6) == 0);
    close(f);
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
    unlink(path);
    rmdir(dir);
}

/* 1 when SIGPIPE is pending for this thread or the process. */
static int sigpipe_pending(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigpending(&set);
    return sigismember(&set, SIGPIPE);
}

/* sendfile to a socket whose peer is gone, with SIGPIPE's default action
 * (which ends the process): -EPIPE, and the process lives. sendfile(2) has
 * no MSG_NOSIGNAL; the library blocks SIGPIPE around it and takes back the
 * one it raised. A caller's own mask comes back unchanged, and a SIGPIPE
 * the caller had pending (blocked) before the call is still pending. */
static void test_sendfile_sigpipe(void)
{
    char dir[64], path[128];
    int fds[2], f;
    sigset_t pipe_set, mask;
    signal(SIGPIPE, SIG_DFL);
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    temp_dir_make(dir);
    snprintf(path, sizeof path, "%s/file", dir);
    f = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    SETUP(f);
    SETUP(write(f, "0123456789", 10) == 10 ? 0 : -1);

    /* a unix pair, and a TCP connection, each with its peer closed */
    for (int kind = 0; kind < 2; kind++) {
        int lfd = -1;
        if (kind == 0) {
            SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC, fds));
        } else {
            lfd = tcp_trio("127.0.0.1", fds);
            net_sock_close(lfd);
        }
        net_sock_close(fds[1]);
        if (kind == 1) { /* a write draws the peer's RST; from then on EPIPE */
            struct timespec pause = {0, 20 * 1000 * 1000};
            for (int i = 0; i < 100 && net_sock_send(fds[0], "x", 1, 0) != -EPIPE; i++)
                nanosleep(&pause, NULL);
        }
        CHECK_EQ(-EPIPE, net_sock_sendfile(fds[0], f, 0, 10));
        CHECK_EQ(-EPIPE, net_sock_sendfilepath(fds[0], path, 0, 10));
        CHECK(!sigpipe_pending());
        SETUP(pthread_sigmask(SIG_SETMASK, NULL, &mask) == 0 ? 0 : -1);
        CHECK(!sigismember(&mask, SIGPIPE)); /* the mask is the caller's again */

        /* the caller blocks SIGPIPE itself: still blocked afterwards, and
         * no SIGPIPE is left pending by the call */
        SETUP(pthread_sigmask(SIG_BLOCK, &pipe_set, NULL) == 0 ? 0 : -1);
        CHECK_EQ(-EPIPE, net_sock_sendfile(fds[0], f, 0, 10));
        CHECK(!sigpipe_pending());
        /* one the caller already had pending stays pending: it is not ours */
        raise(SIGPIPE);
        CHECK(sigpipe_pending());
        CHECK_EQ(-EPIPE, net_sock_sendfile(fds[0], f, 0, 10));
        CHECK(sigpipe_pending());
        static const struct timespec zero = {0, 0};
        CHECK_EQ(SIGPIPE, sigtimedwait(&pipe_set, NULL, &zero));
        SETUP(pthread_sigmask(SIG_SETMASK, NULL, &mask) == 0 ? 0 : -1);
        CHECK(sigismember(&mask, SIGPIPE));
        SETUP(pthread_sigmask(SIG_UNBLOCK, &pipe_set, NULL) == 0 ? 0 : -1);
        net_sock_close(fds[0]);
    }
    close(f);
    unlink(path);
    rmdir(dir);
}

/* The peer resets the connection 0.3 s into a blocking sendfile: the call
 * has moved bytes, then meets EPIPE (the peer had shut its side down, so
 * the reset is EPIPE, not ECONNRESET). sendfile(2) then raises SIGPIPE and
 * still returns the count it moved: the process must live, and nothing may
 * be left pending. */
static int reset_peer;
static void *reset_later(void *unused)
{
    struct timespec pause = {0, 300 * 1000 * 1000};
    (void)unused;
    nanosleep(&pause, NULL);
    net_sock_close(reset_peer); /* unread bytes queued: a reset */
    return NULL;
}

static void test_sendfile_sigpipe_midway(void)
{
    char dir[64], path[128];
    int fds[2], f, lfd;
    int64_t n;
    pthread_t thread;
    signal(SIGPIPE, SIG_DFL);
    temp_dir_make(dir);
    snprintf(path, sizeof path, "%s/file", dir);
    f = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    SETUP(f);
    SETUP(ftruncate(f, 64 << 20)); /* far more than the sockets hold */
    lfd = tcp_trio("127.0.0.1", fds);
    net_sock_close(lfd);
    net_sock_rcvbuf(fds[1], 4096);
    net_sock_sndbuf(fds[0], 4096);
    net_sock_sndtimeo(fds[0], 5.0); /* bounds the test if no reset came */
    SETUP(shutdown(fds[1], SHUT_WR));
    reset_peer = fds[1];
    SETUP(pthread_create(&thread, NULL, reset_later, NULL) == 0 ? 0 : -1);
    n = net_sock_sendfile(fds[0], f, 0, 64 << 20);
    pthread_join(thread, NULL);
    CHECK(n > 0 && n < (64 << 20)); /* some went, then the peer was gone */
    CHECK(!sigpipe_pending());
    net_sock_close(fds[0]);
    close(f);
    unlink(path);
    rmdir(dir);
}

/* A UDP socket bound to 127.0.0.1 on a free port, its name into *name. */
static int bound_udp(net_addr_t *name)
{
    net_addr_t any;
    int fd;
    SETUP(net_addr_inet(&any, "127.0.0.1", 0));
    fd = net_sock_open(AF_INET, SOCK_DGRAM, 0, NET_CLOEXEC);
    SETUP(fd);
    SETUP(net_sock_bind(fd, &any));
    SETUP(net_sock_getsockname(fd, name));
    return fd;
}

static void test_batches(void)
{
    net_addr_t rx_addr, tx_addr;
    static char area[32][64];
    net_msg_t out[32], in[40];
    char text[32][16];
    int rx = bound_udp(&rx_addr), tx = bound_udp(&tx_addr), i, ok = 1;
    memset(out, 0, sizeof out);
    for (i = 0; i < 32; i++) {
        snprintf(text[i], sizeof text[i], "dgram %d", i);
        out[i].buf = text[i];
        out[i].len = strlen(text[i]);
        out[i].addr = rx_addr;
    }
    CHECK_EQ(32, net_sock_sendmany(tx, out, 32, 0));
    memset(in, 0, sizeof in);
    for (i = 0; i < 40; i++) {
        in[i].buf = i < 32 ? area[i] : area[0];
        in[i].size = i == 31 ? 4 : 64; /* the last is cut */
    }
    CHECK_EQ(-EOPNOTSUPP, net_sock_recvmany(rx, in, 32, MSG_TRUNC)); /* nothing read */
    /* a peek sees the head of the queue once, and leaves it there */
    CHECK_EQ(1, net_sock_recvmany(rx, in, 32, MSG_PEEK));
    CHECK(in[0].len == strlen(text[0]) && memcmp(area[0], text[0], in[0].len) == 0);
    CHECK_EQ(32, net_sock_recvmany(rx, in, 32, 0));
    for (i = 0; i < 31; i++) {
        ok &= in[i].len == strlen(text[i]) && in[i].full == (int64_t)in[i].len &&
              memcmp(area[i], text[i], in[i].len) == 0 && addr_same(&tx_addr, &in[i].addr);
    }
    CHECK(ok);
    CHECK_EQ(4, in[31].len);
    CHECK_EQ((long long)strlen(text[31]), in[31].full);
    CHECK_EQ(-EAGAIN, net_sock_recvmany(rx, in, 8, MSG_DONTWAIT));
    out[0].addr.len = 9999; /* a bad destination: nothing is sent */
    CHECK_EQ(-EINVAL, net_sock_sendmany(tx, out, 2, 0));
    CHECK_EQ(-EAGAIN, net_sock_recvmany(rx, in, 8, MSG_DONTWAIT));
    net_sock_close(rx);
    net_sock_close(tx);
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A blocking socket waits for room for the first datagram of a batch only:
 * the rest go while there is room (sendmmsg's flags apply to each). */
static void test_sendmany_waits_for_the_first(void)
{
    int sv[2], queued = 0, i;
    char byte = 'q';
    net_msg_t out[5];
    struct timeval limit = {2, 0}; /* bounds a wait for the second */
    double t0;
    SETUP(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
    while (send(sv[0], &byte, 1, MSG_DONTWAIT) == 1)
        queued++; /* the receiver's queue is full */
    CHECK(queued >= 3);
    for (i = 0; i < 3; i++)
        SETUP(recv(sv[1], &byte, 1, 0)); /* room for three */
    SETUP(setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit));
    memset(out, 0, sizeof out);
    for (i = 0; i < 5; i++) {
        out[i].buf = &byte;
        out[i].len = 1;
    }
    t0 = seconds_now();
    CHECK_EQ(3, net_sock_sendmany(sv[0], out, 5, 0));
    CHECK(seconds_now() - t0 < 1);
    /* full: the first waits as the socket says (SO_SNDTIMEO here) */
    limit.tv_sec = 0;
    limit.tv_usec = 200000;
    SETUP(setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit));
    t0 = seconds_now();
    CHECK_EQ(-EAGAIN, net_sock_sendmany(sv[0], out, 5, 0));
    CHECK(seconds_now() - t0 >= 0.15);
    close(sv[0]);
    close(sv[1]);
}

/* A blocking unix datagram pair whose receiver's queue is full: the first
 * datagram of a batch waits for room (a reader empties the queue after
 * 100 ms), and then the rest go while there is room, as for a first
 * datagram that did not have to wait: all three, not the first alone. */
static int drain_rx;
static void *drain_later(void *unused)
{
    struct timespec pause = {0, 100 * 1000 * 1000};
    char byte;
    (void)unused;
    nanosleep(&pause, NULL);
    while (recv(drain_rx, &byte, 1, MSG_DONTWAIT) >= 0)
        ;
    return NULL;
}

static void test_sendmany_goes_on_after_a_wait(void)
{
    int sv[2], queued = 0, i;
    char byte = 'w';
    net_msg_t out[3];
    struct timeval limit = {2, 0}; /* bounds the wait for room */
    pthread_t thread;
    SETUP(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
    while (send(sv[0], &byte, 1, MSG_DONTWAIT) == 1)
        queued++; /* the receiver's queue is full */
    CHECK(queued >= 3);
    SETUP(setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit));
    memset(out, 0, sizeof out);
    for (i = 0; i < 3; i++) {
        out[i].buf = &byte;
        out[i].len = 1;
    }
    drain_rx = sv[1];
    SETUP(pthread_create(&thread, NULL, drain_later, NULL) == 0 ? 0 : -1);
    CHECK_EQ(3, net_sock_sendmany(sv[0], out, 3, 0));
    pthread_join(thread, NULL);
    close(sv[0]);
    close(sv[1]);
}

/* sendmany checks every record's address before the first datagram goes
 * (c-api.md): its len within its storage (NET_ADDR_STORAGE + 1 is one too
 * many), and the family byte of the sockaddr equal to its family (AF_INET6
 * over a sockaddr_in). A malformed second record: -EINVAL, and not even
 * the first datagram, well-addressed, is sent. */
static void test_sendmany_checks_every_address(void)
{
    net_addr_t any, rx_addr;
    net_msg_t out[2];
    char in[16];
    int rx, tx, c, i;
    SETUP(net_addr_inet(&any, "127.0.0.1", 0));
    rx = net_sock_open(AF_INET, SOCK_DGRAM, 0, NET_CLOEXEC | NET_NONBLOCK);
    SETUP(rx);
    tx = net_sock_open(AF_INET, SOCK_DGRAM, 0, NET_CLOEXEC);
    SETUP(tx);
    SETUP(net_sock_bind(rx, &any));
    SETUP(net_sock_getsockname(rx, &rx_addr));
    for (c = 0; c < 2; c++) {
        memset(out, 0, sizeof out);
        for (i = 0; i < 2; i++) {
            out[i].buf = i ? "two" : "one";
            out[i].len = 3;
            out[i].addr = rx_addr;
        }
        if (c == 0)
            out[1].addr.len = NET_ADDR_STORAGE + 1;
        else
            out[1].addr.family = AF_INET6;
        CHECK_EQ(-EINVAL, net_sock_sendmany(tx, out, 2, 0));
        CHECK_EQ(-EAGAIN, net_sock_recv(rx, in, sizeof in, 0)); /* nothing went */
    }
    net_sock_close(rx);
    net_sock_close(tx);
}

/* recvmany on a blocking socket waits for the first datagram only: with one
 * queued and room for four, it returns that one at once, not after waiting
 * for more (SO_RCVTIMEO, 1 s, would end such a wait). */
static void test_recvmany_waits_for_the_first(void)
{
    net_addr_t rx_addr, tx_addr;
    static char area[4][16];
    net_msg_t in[4];
    int rx = bound_udp(&rx_addr), tx = bound_udp(&tx_addr), i;
    double t0;
    SETUP(net_sock_rcvtimeo(rx, 1.0));
    CHECK_EQ(2, net_sock_sendto(tx, "hi", 2, 0, &rx_addr));
    memset(in, 0, sizeof in);
    for (i = 0; i < 4; i++) {
        in[i].buf = area[i];
        in[i].size = sizeof area[i];
    }
    t0 = seconds_now();
    CHECK_EQ(1, net_sock_recvmany(rx, in, 4, 0));
    CHECK(seconds_now() - t0 < 0.5);
    CHECK(in[0].len == 2 && memcmp(area[0], "hi", 2) == 0);
    net_sock_close(rx);
    net_sock_close(tx);
}

/* A receive that would wait on a socket whose reading end is shut returns
 * 0 bytes from no sender at once, each time (Linux): recvdgram and
 * recvmany say -ESHUTDOWN then, after the datagrams still queued, and
 * tell it apart from an empty datagram, which has a sender. A socket that
 * does not wait gets -EAGAIN, as the kernel says. */
static void check_shut(int fd, const char *what)
{
    char in[16], area[16];
    net_msg_t msgs[2];
    net_addr_t from;
    int64_t full;
    memset(msgs, 0, sizeof msgs);
    msgs[0].buf = area;
    msgs[0].size = sizeof area;
    msgs[1] = msgs[0];
    if (net_sock_recvdgram(fd, in, sizeof in, 0, &from, &full) != -ESHUTDOWN ||
        net_sock_recvdgram(fd, in, sizeof in, 0, NULL, NULL) != -ESHUTDOWN ||
        net_sock_recvmany(fd, msgs, 2, 0) != -ESHUTDOWN ||
        net_sock_recvdgram(fd, in, sizeof in, MSG_DONTWAIT, NULL, NULL) != -EAGAIN ||
        net_sock_recvmany(fd, msgs, 2, MSG_DONTWAIT) != -EAGAIN)
        CHECK_(0, "%s: not the reading end shut", what);
}

static void test_receive_after_shutdown(void)
{
    net_addr_t rx_addr, tx_addr, from;
    char in[16];
    int rx = bound_udp(&rx_addr), tx = bound_udp(&tx_addr), fds[2];
    CHECK_EQ(2, net_sock_sendto(tx, "hi", 2, 0, &rx_addr));
    CHECK_EQ(0, net_sock_sendto(tx, "", 0, 0, &rx_addr));
    net_sock_shutdown(rx, SHUT_RD); /* -ENOTCONN, yet applied (Linux) */
    CHECK_EQ(2, net_sock_recvdgram(rx, in, sizeof in, 0, &from, NULL));
    CHECK_EQ(0, net_sock_recvdgram(rx, in, sizeof in, 0, &from, NULL)); /* the empty one */
    CHECK(addr_same(&tx_addr, &from));
    CHECK_EQ(1, net_sock_readshut(rx));
    check_shut(rx, "UDP");
    net_sock_close(rx);
    net_sock_close(tx);

    SETUP(net_sock_pair(AF_UNIX, SOCK_DGRAM, 0, NET_CLOEXEC, fds));
    CHECK_EQ(2, net_sock_send(fds[0], "hi", 2, 0));
    CHECK_EQ(0, net_sock_shutdown(fds[1], SHUT_RD));
    CHECK_EQ(2, net_sock_recvdgram(fds[1], in, sizeof in, 0, NULL, NULL));
    check_shut(fds[1], "unix datagram");
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);

    /* empty datagrams of an unbound sender queued before the shutdown are
     * datagrams; the end comes after them (the last one queued reads as
     * it). recvmany takes a batch that starts with one whole. */
    SETUP(net_sock_pair(AF_UNIX, SOCK_DGRAM, 0, NET_CLOEXEC, fds));
    CHECK_EQ(0, net_sock_readshut(fds[1]));
    CHECK_EQ(0, net_sock_send(fds[0], "", 0, 0));
    CHECK_EQ(1, net_sock_send(fds[0], "x", 1, 0));
    CHECK_EQ(0, net_sock_send(fds[0], "", 0, 0));
    CHECK_EQ(1, net_sock_send(fds[0], "y", 1, 0));
    CHECK_EQ(0, net_sock_shutdown(fds[1], SHUT_RD));
    CHECK_EQ(0, net_sock_readshut(fds[1])); /* shut, but datagrams queued */
    CHECK_EQ(0, net_sock_recvdgram(fds[1], in, sizeof in, 0, NULL, NULL));
    CHECK_EQ(1, net_sock_recvdgram(fds[1], in, sizeof in, 0, NULL, NULL));
    {
        char area[2][4];
        net_msg_t two[2];
        memset(two, 0, sizeof two);
        two[0].buf = area[0], two[0].size = sizeof area[0];
        two[1].buf = area[1], two[1].size = sizeof area[1];
        CHECK_EQ(2, net_sock_recvmany(fds[1], two, 2, 0));
        CHECK(two[0].len == 0 && two[1].len == 1 && area[1][0] == 'y');
    }
    CHECK_EQ(1, net_sock_readshut(fds[1]));
    check_shut(fds[1], "unix datagram, after its queue");
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);

    /* a seqpacket socket whose peer is gone: its end */
    SETUP(net_sock_pair(AF_UNIX, SOCK_SEQPACKET, 0, NET_CLOEXEC, fds));
    CHECK_EQ(2, net_sock_send(fds[0], "hi", 2, 0));
    net_sock_close(fds[0]);
    CHECK_EQ(2, net_sock_recvdgram(fds[1], in, sizeof in, 0, NULL, NULL));
    CHECK_EQ(-ESHUTDOWN, net_sock_recvdgram(fds[1], in, sizeof in, 0, NULL, NULL));
    CHECK_EQ(1, net_sock_readshut(fds[1]));
    net_sock_close(fds[1]);
    CHECK_EQ(-EBADF, net_sock_readshut(fds[1]));

    /* recvmany meets the end behind messages: recvmmsg gives every slot
     * after a seqpacket peer's end 0 bytes, and a datagram socket's last
     * empty datagram after closer() reads as the end: the messages, then
     * the end (not a batch of empty ones, again and again) */
    {
        char area[10][4];
        net_msg_t ten[10];
        int kind;
        for (kind = 0; kind < 2; kind++) {
            int j;
            SETUP(net_sock_pair(AF_UNIX, kind ? SOCK_DGRAM : SOCK_SEQPACKET, 0,
                                NET_CLOEXEC, fds));
            for (j = 0; j < 4; j++)
                CHECK_EQ(2, net_sock_send(fds[0], j % 2 ? "m1" : "m0", 2, 0));
            if (kind) { /* a last empty datagram, then closer() */
                CHECK_EQ(0, net_sock_send(fds[0], "", 0, 0));
                CHECK_EQ(0, net_sock_shutdown(fds[1], SHUT_RD));
            } else {
                net_sock_close(fds[0]);
            }
            memset(ten, 0, sizeof ten);
            for (j = 0; j < 10; j++)
                ten[j].buf = area[j], ten[j].size = sizeof area[j];
            CHECK_EQ(4, net_sock_recvmany(fds[1], ten, 10, 0));
            CHECK(ten[3].len == 2 && memcmp(area[3], "m1", 2) == 0);
            CHECK_EQ(-ESHUTDOWN, net_sock_recvmany(fds[1], ten, 10, 0));
            if (kind)
                net_sock_close(fds[0]);
            net_sock_close(fds[1]);
        }
    }

    /* a stream: shut when its peer is gone and nothing is queued */
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC, fds));
    CHECK_EQ(0, net_sock_readshut(fds[1]));
    net_sock_close(fds[0]);
    CHECK_EQ(1, net_sock_readshut(fds[1])); /* a stream at its end */
    net_sock_close(fds[1]);

    /* no socket, and a listener (TCP's, and a unix one not shut: what was
     * asked of them said 0) */
    SETUP(pipe2(fds, O_CLOEXEC));
    CHECK_EQ(-ENOTSOCK, net_sock_readshut(fds[0]));
    close(fds[0]);
    close(fds[1]);
    {
        net_addr_t any;
        int tcp = net_sock_open(AF_INET, SOCK_STREAM, 0, NET_CLOEXEC);
        int un = net_sock_open(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC);
        SETUP(tcp);
        SETUP(un);
        SETUP(net_addr_inet(&any, "127.0.0.1", 0));
        SETUP(net_sock_bind(tcp, &any));
        SETUP(net_sock_listen(tcp, 1));
        char name[64]; /* abstract, this process's own */
        int len = snprintf(name, sizeof name, "%clua-net-readshut-%ld", 0, (long)getpid());
        SETUP(net_addr_unix(&any, name, (size_t)len));
        SETUP(net_sock_bind(un, &any));
        SETUP(net_sock_listen(un, 1));
        CHECK_EQ(-EINVAL, net_sock_readshut(tcp));
        CHECK_EQ(-EINVAL, net_sock_readshut(un));
        net_sock_close(tcp);
        net_sock_close(un);
    }
}

int main(void)
{
    const int fds_at_start = fd_count();
    test_sendv();
    test_sendv_stops_at_a_partial_batch();
    test_sendv_counts_before_eagain();
    test_fds();
    test_fds_not_unix();
    test_fds_many();
    test_fds_pidfd();
    test_fds_with_other_control();
    test_peercred_other_namespace();
    test_sendfile();
    test_sendfile_sigpipe();
    test_sendfile_sigpipe_midway();
    test_batches();
    test_sendmany_waits_for_the_first();
    test_sendmany_goes_on_after_a_wait();
    test_sendmany_checks_every_address();
    test_recvmany_waits_for_the_first();
    test_receive_after_shutdown();
    CHECK_EQ(fds_at_start, fd_count());
    return check_done("msg");
}
