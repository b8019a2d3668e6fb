/* dgram_test.c — datagrams with their full length (net_sock_recvdgram),
 * dissolving a peer, and the multicast options read back, over 127.0.0.1,
 * ::1 and a unix pair; the datagram calls refusing stream sockets; an
 * IPv6 multicast interface read back after it is deleted (in a private
 * network namespace: the host's interfaces are never touched); a datagram
 * arriving within a batch receive that met the reading end shut. */
#define _GNU_SOURCE 1
#include "check.h"
#include "interpose.h"
#include "util.h"

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "userns.h"

/* A datagram socket bound to host, any port; its address into *addr. */
static int udp_bound(const char *host, net_addr_t *addr)
{
    net_addr_t any;
    SETUP(net_addr_inet(&any, host, 0));
    int fd = net_sock_open(any.family, SOCK_DGRAM, 0, NET_CLOEXEC);
    SETUP(fd);
    SETUP(net_sock_bind(fd, &any));
    SETUP(net_sock_getsockname(fd, addr));
    return fd;
}

static void test_recvdgram(const char *host)
{
    static char big[65000], in[65536];
    net_addr_t a_addr, b_addr, from;
    int64_t full = -7;
    int a = udp_bound(host, &a_addr), b = udp_bound(host, &b_addr);
    size_t i;
    for (i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7 + 3);

    /* whole, with the sender */
    CHECK_EQ(65000, net_sock_sendto(b, big, sizeof big, 0, &a_addr));
    CHECK_EQ(65000, net_sock_recvdgram(a, in, sizeof in, 0, &from, &full));
    CHECK_EQ(65000, full);
    CHECK(memcmp(big, in, sizeof big) == 0);
    CHECK(addr_same(&b_addr, &from));
    /* 0 bytes is a datagram */
    CHECK_EQ(0, net_sock_sendto(b, "", 0, 0, &a_addr));
    CHECK_EQ(0, net_sock_recvdgram(a, in, sizeof in, 0, NULL, &full));
    CHECK_EQ(0, full);
    /* cut: the count is the room, full the datagram's length */
    CHECK_EQ(1000, net_sock_sendto(b, big, 1000, 0, &a_addr));
    CHECK_EQ(10, net_sock_recvdgram(a, in, 10, 0, NULL, &full));
    CHECK_EQ(1000, full);
    CHECK(memcmp(big, in, 10) == 0);
    /* MSG_TRUNC is the function's own */
    CHECK_EQ(-EOPNOTSUPP, net_sock_recvdgram(a, in, 10, MSG_TRUNC, NULL, NULL));
    CHECK_EQ(-EAGAIN, net_sock_recvdgram(a, in, 10, MSG_DONTWAIT, NULL, NULL));

    /* connect, then dissolve: the port stays */
    CHECK_EQ(0, net_sock_connect(b, &a_addr));
    CHECK_EQ(3, net_sock_send(b, "abc", 3, 0));
    CHECK_EQ(3, net_sock_recvdgram(a, in, sizeof in, 0, NULL, NULL));
    CHECK_EQ(0, net_sock_disconnect(b));
    CHECK_EQ(-EDESTADDRREQ, net_sock_send(b, "x", 1, 0));
    CHECK_EQ(0, net_sock_disconnect(a)); /* never connected: still fine */
    net_addr_t after;
    CHECK_EQ(0, net_sock_getsockname(b, &after));
    CHECK(addr_same(&b_addr, &after));
    CHECK_EQ(0, net_sock_getsockname(a, &after));
    CHECK(addr_same(&a_addr, &after));
    CHECK_EQ(2, net_sock_sendto(b, "hi", 2, 0, &a_addr));
    CHECK_EQ(2, net_sock_recvdgram(a, in, sizeof in, 0, &from, NULL));
    CHECK(addr_same(&b_addr, &from)); /* sent from the port b kept */

    net_sock_close(a);
    net_sock_close(b);
}

/* A socket bound to the wildcard address (port 0), connected to host and
 * disconnected again: bound to the wildcard with the same port, never
 * narrowed to the local address of the connection. The IPv6 wildcard
 * (dual-stack) then also takes a datagram to 127.0.0.1, which ::1 would
 * not. */
static void test_disconnect_wildcard(const char *wildcard, const char *host)
{
    net_addr_t any, peer_addr, connected, after, there;
    char name[NET_HOST_MAX], in[8];
    int peer = udp_bound(host, &peer_addr);
    SETUP(net_addr_inet(&any, wildcard, 0));
    int fd = net_sock_open(any.family, SOCK_DGRAM, 0, NET_CLOEXEC);
    SETUP(fd);
    if (any.family == AF_INET6)
        SETUP(net_sock_ipv6only(fd, 0));
    SETUP(net_sock_bind(fd, &any));
    CHECK_EQ(0, net_sock_connect(fd, &peer_addr));
    CHECK_EQ(0, net_sock_getsockname(fd, &connected));
    CHECK_EQ(0, net_sock_disconnect(fd));
    CHECK_EQ(0, net_sock_getsockname(fd, &after));
    CHECK(net_addr_host(&after, name, sizeof name) > 0);
    CHECK_STR(wildcard, name);
    CHECK_EQ(net_addr_port(&connected), net_addr_port(&after));
    if (any.family == AF_INET6) {
        int tx = net_sock_open(AF_INET, SOCK_DGRAM, 0, NET_CLOEXEC);
        SETUP(tx);
        SETUP(net_addr_inet(&there, "127.0.0.1", net_addr_port(&after)));
        CHECK_EQ(2, net_sock_sendto(tx, "hi", 2, 0, &there));
        SETUP(net_sock_rcvtimeo(fd, 2.0)); /* a failure does not hang */
        CHECK_EQ(2, net_sock_recvdgram(fd, in, sizeof in, 0, NULL, NULL));
        net_sock_close(tx);
    }
    net_sock_close(fd);
    net_sock_close(peer);
}

/* While the socket is disconnected, Linux drops the port the kernel chose
 * for it; another socket may take that port on another address meanwhile
 * (here: an IPv4 socket on 127.0.0.1, which the dual-stack IPv6 wildcard
 * covers, after the IPv6 socket connected from ::1). The socket keeps its
 * port all the same, on the address the connection had. */
static void test_disconnect_port_taken(void)
{
    net_addr_t peer_addr, connected, after, taken;
    char name[NET_HOST_MAX];
    int peer = udp_bound("::1", &peer_addr);
    int fd = net_sock_open(AF_INET6, SOCK_DGRAM, 0, NET_CLOEXEC), other;
    SETUP(fd);
    SETUP(net_sock_ipv6only(fd, 0));
    CHECK_EQ(0, net_sock_connect(fd, &peer_addr)); /* the kernel picks the port */
    CHECK_EQ(0, net_sock_getsockname(fd, &connected));
    SETUP(net_addr_inet(&taken, "127.0.0.1", net_addr_port(&connected)));
    other = net_sock_open(AF_INET, SOCK_DGRAM, 0, NET_CLOEXEC);
    SETUP(other);
    SETUP(net_sock_bind(other, &taken));
    CHECK_EQ(0, net_sock_disconnect(fd));
    CHECK_EQ(0, net_sock_getsockname(fd, &after));
    CHECK(net_addr_host(&after, name, sizeof name) > 0);
    CHECK_STR("::1", name);
    CHECK_EQ(net_addr_port(&connected), net_addr_port(&after));
    CHECK_EQ(-ENOTCONN, net_sock_getpeername(fd, &after));
    net_sock_close(other);
    net_sock_close(fd);
    net_sock_close(peer);
}

/* A unix stream connection made through a listener at a path in dir:
 * fds[0] is the accepted end, which has the listener's name (so a receive
 * at fds[1] brings a sender's name, as a datagram's does), fds[1] the
 * client. Returns the listener. */
static int unix_trio(const char *dir, int fds[2])
{
    char path[128];
    net_addr_t addr;
    int lfd;
    snprintf(path, sizeof path, "%s/listener", dir);
    SETUP(net_addr_unix(&addr, path, strlen(path)));
    SETUP(lfd = net_sock_open(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC));
    SETUP(net_sock_bind(lfd, &addr));
    SETUP(net_sock_listen(lfd, 4));
    SETUP(fds[1] = net_sock_open(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC));
    SETUP(net_sock_connect(fds[1], &addr));
    SETUP(fds[0] = net_sock_accept(lfd, NET_CLOEXEC, NULL));
    return lfd;
}

/* The datagram calls on stream sockets: refused. recvdgram and recvmany
 * find out after their receive (a check before would cost every datagram a
 * system call, src/msg.c): the bytes of that receive are gone (TCP discards
 * them under MSG_TRUNC), but no count of bytes nobody wrote is reported.
 * disconnect is refused before it acts (it would reset a TCP connection):
 * the connection works both ways afterwards. Streams: TCP, a unix pair
 * (no sender's name) and a unix connection to a named listener (the
 * listener's name comes with each receive). */
static void test_stream_refused(void)
{
    int fds[2], pfd[2];
    char in[16], dir[64];
    int64_t full = -7;
    net_addr_t from;
    net_msg_t m;

    temp_dir_make(dir);
    for (int kind = 0; kind < 3; kind++) {
        int lfd = -1;
        if (kind == 0)
            lfd = tcp_trio("127.0.0.1", fds);
        else if (kind == 1)
            SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC, fds));
        else
            lfd = unix_trio(dir, fds);
        CHECK_EQ(5, net_sock_send(fds[0], "HELLO", 5, 0));
        SETUP(net_sock_rcvtimeo(fds[1], 2.0)); /* a failure does not hang */
        memset(in, '.', sizeof in);
        CHECK_EQ(-EOPNOTSUPP, net_sock_recvdgram(fds[1], in, sizeof in, 0, &from, &full));
        CHECK_EQ(-7, full);
        /* without a sender asked for, the same */
        CHECK_EQ(5, net_sock_send(fds[0], "HELLO", 5, 0));
        CHECK_EQ(-EOPNOTSUPP, net_sock_recvdgram(fds[1], in, sizeof in, 0, NULL, NULL));
        CHECK_EQ(5, net_sock_send(fds[0], "HELLO", 5, 0));
        memset(&m, 0, sizeof m);
        m.buf = in;
        m.size = sizeof in;
        CHECK_EQ(-EOPNOTSUPP, net_sock_recvmany(fds[1], &m, 1, 0));
        CHECK_EQ(0, m.len);
        CHECK_EQ(-EOPNOTSUPP, net_sock_disconnect(fds[0]));
        /* the connection, both ways */
        CHECK_EQ(2, net_sock_send(fds[0], "ok", 2, 0));
        CHECK_EQ(2, net_sock_recv(fds[1], in, sizeof in, 0));
        CHECK_EQ(2, net_sock_send(fds[1], "ok", 2, 0));
        CHECK_EQ(2, net_sock_recv(fds[0], in, sizeof in, 0));
        net_sock_close(fds[0]);
        net_sock_close(fds[1]);
        if (lfd >= 0)
            net_sock_close(lfd);
    }
    CHECK_EQ(0, temp_dir_remove(dir, "listener"));

    /* a seqpacket socket keeps message boundaries: recvdgram serves it */
    SETUP(net_sock_pair(AF_UNIX, SOCK_SEQPACKET, 0, NET_CLOEXEC, fds));
    CHECK_EQ(10, net_sock_send(fds[0], "0123456789", 10, 0));
    CHECK_EQ(4, net_sock_recvdgram(fds[1], in, 4, 0, NULL, &full));
    CHECK_EQ(10, full);
    CHECK(memcmp(in, "0123", 4) == 0);
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);

    /* a descriptor that is no socket */
    SETUP(pipe(pfd));
    CHECK_EQ(-ENOTSOCK, net_sock_recvdgram(pfd[0], in, sizeof in, 0, NULL, NULL));
    CHECK_EQ(-ENOTSOCK, net_sock_disconnect(pfd[0]));
    close(pfd[0]);
    close(pfd[1]);
}

static void test_unnamed_sender(void)
{
    int fds[2];
    char in[8];
    net_addr_t from;
    SETUP(net_sock_pair(AF_UNIX, SOCK_DGRAM, 0, NET_CLOEXEC, fds));
    CHECK_EQ(2, net_sock_send(fds[0], "hi", 2, 0));
    CHECK_EQ(2, net_sock_recvdgram(fds[1], in, sizeof in, 0, &from, NULL));
    CHECK_EQ(AF_UNIX, from.family);
    CHECK_EQ(0, net_addr_path(&from, in, sizeof in));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}

/* A sender bound to all 108 bytes of sun_path, no NUL (Linux takes it), is
 * reported one byte longer than struct sockaddr_un (unix(7), BUGS): the
 * name recvdgram, recvfrom and getsockname give must be one that sendto and
 * connect take back. */
static void test_full_length_sender(void)
{
    char dir[32], path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1], in[8];
    net_addr_t raddr, from, own;
    temp_dir_make(dir);
    snprintf(path, sizeof path, "%s/r", dir);
    SETUP(net_addr_unix(&raddr, path, strlen(path)));
    int r = net_sock_open(AF_UNIX, SOCK_DGRAM, 0, NET_CLOEXEC);
    SETUP(r);
    SETUP(net_sock_bind(r, &raddr));

    /* a zero byte after the name: checkers that read sun_path as a C
     * string (valgrind) stop there, the kernel is given sizeof full.un */
    struct {
        struct sockaddr_un un;
        char nul;
    } full = {.un = {.sun_family = AF_UNIX}, .nul = 0};
    const size_t room = sizeof full.un.sun_path;
    int n = snprintf(path, sizeof path, "%s/", dir);
    memset(path + n, 'q', room - (size_t)n);
    path[room] = '\0';
    memcpy(full.un.sun_path, path, room); /* no NUL */
    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    SETUP(s);
    SETUP(bind(s, (struct sockaddr *)&full.un, sizeof full.un));

    CHECK_EQ(2, net_sock_sendto(s, "hi", 2, 0, &raddr));
    CHECK_EQ(2, net_sock_recvdgram(r, in, sizeof in, 0, &from, NULL));
    char name[sizeof path];
    CHECK_EQ((int)room, net_addr_path(&from, name, sizeof name));
    CHECK_STR(path, name);
    CHECK_EQ(4, net_sock_sendto(r, "back", 4, 0, &from));
    CHECK_EQ(2, net_sock_sendto(s, "hi", 2, 0, &raddr));
    CHECK_EQ(2, net_sock_recvfrom(r, in, sizeof in, 0, &from));
    CHECK_EQ(4, net_sock_sendto(r, "more", 4, 0, &from));
    CHECK_EQ(0, net_sock_getsockname(s, &own));
    CHECK_EQ(0, net_sock_connect(r, &own));
    CHECK_EQ(3, net_sock_send(r, "end", 3, 0));
    /* a unix datagram is queued by the send itself: nothing to wait for */
    CHECK_EQ(4, net_sock_recv(s, in, sizeof in, MSG_DONTWAIT));
    CHECK_EQ(4, net_sock_recv(s, in, sizeof in, MSG_DONTWAIT));
    CHECK_EQ(3, net_sock_recv(s, in, sizeof in, MSG_DONTWAIT));
    net_sock_close(s);
    net_sock_close(r);
    unlink(path);
    CHECK_EQ(0, temp_dir_remove(dir, "r"));
}

static void test_mcast_options(const char *host)
{
    net_addr_t addr;
    char name[64];
    int fd = udp_bound(host, &addr);
    CHECK_EQ(0, net_sock_mcastloop(fd, 0));
    CHECK_EQ(0, net_sock_mcastloop(fd, -1));
    CHECK_EQ(1, net_sock_mcastloop(fd, 1));
    CHECK_EQ(9, net_sock_mcastttl(fd, 9));
    CHECK_EQ(9, net_sock_mcastttl(fd, -1));
    CHECK_EQ(-EINVAL, net_sock_mcastttl(fd, 256));
    CHECK_EQ(2, net_sock_mcastif(fd, "lo", name, sizeof name));
    CHECK_STR("lo", name);
    CHECK_EQ(2, net_sock_mcastif(fd, NULL, name, sizeof name));
    CHECK_EQ(0, net_sock_mcastif(fd, "", name, sizeof name));
    CHECK_STR("", name);
    CHECK_EQ(-ENODEV, net_sock_mcastif(fd, "no-such-if0", name, sizeof name));
    /* out too short for an interface's name: -ENOSPC, and nothing changed
     * (the check comes before the option is set) */
    char small[2];
    CHECK_EQ(-ENOSPC, net_sock_mcastif(fd, "lo", small, sizeof small));
    CHECK_EQ(0, net_sock_mcastif(fd, NULL, name, sizeof name));
    CHECK_STR("", name);
    CHECK_EQ(0, net_sock_mcastif(fd, "", small, 1)); /* "" fits in 1 byte */
    CHECK_EQ(2, net_sock_mcastif(fd, "lo", name, sizeof name));
    CHECK_EQ(-ENOSPC, net_sock_mcastif(fd, NULL, small, 1)); /* a read: nothing to undo */
    /* a read into exactly strlen("lo") bytes: no room for the NUL, and no
     * byte written past out */
    struct { char out[2]; unsigned char guard[6]; } exact;
    memset(&exact, 0xAA, sizeof exact);
    CHECK_EQ(-ENOSPC, net_sock_mcastif(fd, NULL, exact.out, sizeof exact.out));
    CHECK_EQ(0xAA, exact.guard[0]);
    CHECK_EQ(-ENOSPC, net_sock_mcastif(fd, "", small, 0)); /* no room, "lo" kept */
    CHECK_EQ(-EINVAL, net_sock_mcastif(fd, "", NULL, sizeof name));
    CHECK_EQ(2, net_sock_mcastif(fd, NULL, name, sizeof name));
    CHECK_STR("lo", name);
    CHECK_EQ(0, net_sock_mcastif(fd, "", name, sizeof name));
    CHECK_EQ(-EINVAL, net_sock_mcastgroup(fd, NET_MCAST_JOIN, "not an address", NULL, NULL));
    CHECK_EQ(-EINVAL, net_sock_mcastgroup(fd, 99, "239.1.1.1", NULL, NULL));
    CHECK_EQ(-EINVAL, net_sock_mcastgroup(fd, NET_MCAST_JOINSRC, addr.family == AF_INET
                                          ? "232.1.1.1" : "ff35::1", NULL, NULL));
    /* Well-formed requests the kernel refuses come back as its code, never
     * a silent 0 (mcast.c's two setsockopt failures): leaving a group never joined is EADDRNOTAVAIL, a unicast
     * address as the group of a source-specific join is EINVAL. */
    CHECK_EQ(-EADDRNOTAVAIL, net_sock_mcastgroup(fd, NET_MCAST_LEAVE, addr.family == AF_INET
                                                 ? "239.1.1.1" : "ff05::1:3", NULL, NULL));
    CHECK_EQ(-EINVAL, net_sock_mcastgroup(fd, NET_MCAST_JOINSRC, host, host, NULL));
    net_sock_close(fd);

    int fds[2];
    SETUP(net_sock_pair(AF_UNIX, SOCK_DGRAM, 0, NET_CLOEXEC, fds));
    CHECK_EQ(-EAFNOSUPPORT, net_sock_mcastttl(fds[0], -1));
    CHECK_EQ(-EAFNOSUPPORT, net_sock_mcastif(fds[0], NULL, name, sizeof name));
    /* mcastgroup too refuses another family before it acts (the option's
     * level comes from the family) */
    CHECK_EQ(-EAFNOSUPPORT, net_sock_mcastgroup(fds[0], NET_MCAST_JOIN, "239.1.1.1", NULL, NULL));
    CHECK_EQ(-EAFNOSUPPORT, net_sock_mcastgroup(fds[0], NET_MCAST_JOIN, "ff05::1:3", NULL, NULL));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
}

/* Whether host can be bound here (::1 may be missing in a container). */
static int have(const char *host)
{
    net_addr_t a;
    int fd, ok;
    SETUP(net_addr_inet(&a, host, 0));
    fd = net_sock_open(a.family, SOCK_DGRAM, 0, NET_CLOEXEC);
    ok = fd >= 0 && net_sock_bind(fd, &a) == 0;
    if (fd >= 0)
        net_sock_close(fd);
    if (!ok)
        SKIPPED("%s not usable here", host);
    return ok;
}

/* The child of test_mcastif_deleted, alone in a network namespace of its
 * own: its exit status is 0 when every check passed, 77 when it may not
 * make the namespace or the interface (no network namespace even inside a
 * user namespace of its own, no ip(8)). */
static int mcastif_deleted_child(void)
{
#ifdef __linux__
    char name[IF_NAMESIZE];
    if (unshare_as_user(CLONE_NEWNET) != 0 ||
        system("ip link add lnt0 type veth peer name lnt1 2>/dev/null") != 0)
        return 77;
    unsigned index = if_nametoindex("lnt0");
    int fd = net_sock_open(AF_INET6, SOCK_DGRAM, 0, NET_CLOEXEC);
    SETUP(fd);
    CHECK_EQ(4, net_sock_mcastif(fd, "lnt0", name, sizeof name));
    CHECK_STR("lnt0", name);
    if (system("ip link del lnt0") != 0)
        return 77;
    /* The kernel keeps the index; it reads back as its number, as an
     * address's zone is written when no interface has it (was -ENXIO). */
    char want[IF_NAMESIZE];
    snprintf(want, sizeof want, "%u", index);
    CHECK_EQ((long long)strlen(want), net_sock_mcastif(fd, NULL, name, sizeof name));
    CHECK_STR(want, name);
    CHECK_EQ(0, net_sock_mcastif(fd, "", name, sizeof name));
    net_sock_close(fd);
    return check_failed ? 1 : 0;
#else
    return 77; /* network namespaces and veth pairs are Linux's */
#endif
}

static void test_mcastif_deleted(void)
{
    int status;
    pid_t pid = fork();
    SETUP(pid);
    if (pid == 0)
        _exit(mcastif_deleted_child());
    SETUP(waitpid(pid, &status, 0));
    CHECK(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77)
        SKIPPED("mcastif of a deleted interface (no network namespace or veth "
                "pair here)");
    else
        CHECK_EQ(0, WEXITSTATUS(status));
}

/* glibc's prototype of recvmmsg (musl's flags are unsigned; a 32-bit
 * glibc with 64-bit time calls another name, which this would miss) */
#if defined(__GLIBC__) && !(defined(__USE_TIME_BITS64) && __TIMESIZE == 32)
/* The datagram that late.fd sends to late.to within the next recvmmsg of
 * two or more, between its first receive and the rest: the kernel's loop
 * (the first as flags say, the rest without waiting), with that arrival in
 * between, which is otherwise a race of microseconds. Unarmed (late.fd <
 * 0), the C library's. */
static struct {
    int fd;
    net_addr_t to;
} late = {.fd = -1};

/* Whether something is queued on fd within ms milliseconds: a loopback
 * datagram is delivered by a softirq, which may run after sendto returns
 * (poll cannot tell: a shut socket is always readable). */
static int queued_within(int fd, int ms)
{
    int i, n = 0;
    for (i = 0; i <= ms; i++) {
        if (ioctl(fd, FIONREAD, &n) == 0 && n > 0)
            return 1;
        usleep(1000);
    }
    return 0;
}

int recvmmsg(int fd, struct mmsghdr *mm, unsigned vlen, int flags, struct timespec *timeout)
{
    int rest, sent;
    if (late.fd < 0 || vlen < 2)
        return REAL(recvmmsg)(fd, mm, vlen, flags, timeout);
    if (REAL(recvmmsg)(fd, mm, 1, flags, timeout) != 1)
        return -1;
    sent = (int)net_sock_sendto(late.fd, "late", 4, 0, &late.to);
    late.fd = sent == 4 && queued_within(fd, 1000) ? -1 : -2;
    rest = REAL(recvmmsg)(fd, mm + 1, vlen - 1, flags | MSG_DONTWAIT, timeout);
    return rest < 0 ? 1 : 1 + rest;
}

/* A receive that meets a UDP socket's reading end shut with nothing
 * queued takes 0 bytes from no sender; in a recvmmsg, a datagram arriving
 * just after it is taken too. recvmany returns that datagram alone, in the
 * first slot (cut to that slot's room, with its full length), and the end
 * at the next call; it reported an empty datagram before it. */
static void test_late_datagram_after_shut(void)
{
    net_addr_t rx_addr, tx_addr;
    char area[3][16];
    net_msg_t msgs[3];
    int rx = udp_bound("127.0.0.1", &rx_addr), tx = udp_bound("127.0.0.1", &tx_addr), i;
    memset(msgs, 0, sizeof msgs);
    for (i = 0; i < 3; i++) {
        msgs[i].buf = area[i];
        msgs[i].size = i == 0 ? 3 : sizeof area[i];
    }
    net_sock_shutdown(rx, SHUT_RD); /* -ENOTCONN, yet applied (Linux) */
    late.fd = tx;
    late.to = rx_addr;
    CHECK_EQ(1, net_sock_recvmany(rx, msgs, 3, 0));
    CHECK_EQ(-1, late.fd); /* sent, within that call */
    CHECK(msgs[0].len == 3 && msgs[0].full == 4 && memcmp(area[0], "lat", 3) == 0);
    CHECK(addr_same(&msgs[0].addr, &tx_addr));
    CHECK_EQ(-ESHUTDOWN, net_sock_recvmany(rx, msgs, 3, 0));
    late.fd = -1;
    net_sock_close(rx);
    net_sock_close(tx);
}
#else
static void test_late_datagram_after_shut(void) {}
#endif

int main(void)
{
    const int fds_at_start = fd_count();
    test_recvdgram("127.0.0.1");
    test_mcast_options("127.0.0.1");
    test_disconnect_wildcard("0.0.0.0", "127.0.0.1");
    if (have("::1")) {
        test_recvdgram("::1");
        test_mcast_options("::1");
        test_disconnect_wildcard("::", "::1");
        test_disconnect_port_taken();
        test_mcastif_deleted();
    }
    test_stream_refused();
    test_unnamed_sender();
    test_full_length_sender();
    test_late_datagram_after_shut();
    CHECK_EQ(fds_at_start, fd_count());
    return check_done("dgram");
}
