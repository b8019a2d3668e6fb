/* io_test.c — send, recv, sendto, recvfrom: flags (peek, dontwait, waitall,
 * oob), the bytes queued (inq), the sender's address, EPIPE without SIGPIPE, and that no receive
 * flag makes a count larger than the room given or hands back bytes that
 * were never received. */
#define _GNU_SOURCE 1
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "util.h"

static void test_flags(void)
{
    int fds[2];
    char buf[16];
    SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, 0, fds));

    /* Nothing to read: MSG_DONTWAIT answers at once on a blocking socket. */
    CHECK_EQ(-EAGAIN, net_sock_recv(fds[1], buf, sizeof buf, MSG_DONTWAIT));
    CHECK_EQ(-EAGAIN, net_sock_recvfrom(fds[1], buf, sizeof buf, MSG_DONTWAIT, NULL));

    /* MSG_PEEK leaves the bytes in place. */
    CHECK_EQ(5, net_sock_send(fds[0], "hello", 5, 0));
    CHECK_EQ(5, net_sock_recv(fds[1], buf, sizeof buf, MSG_PEEK));
    CHECK_EQ(5, net_sock_recv(fds[1], buf, sizeof buf, 0));
    CHECK(memcmp(buf, "hello", 5) == 0);

    /* MSG_WAITALL gathers two writes into one read: it waits for the second,
     * which a child sends 50 ms into the read (two writes already queued
     * would fill a plain read as well). */
    CHECK_EQ(3, net_sock_send(fds[0], "abc", 3, 0));
    int status;
    pid_t pid = fork();
    SETUP(pid);
    if (pid == 0) {
        usleep(50000);
        _exit(net_sock_send(fds[0], "def", 3, 0) == 3 ? 0 : 1);
    }
    double t0 = net_now();
    CHECK_EQ(6, net_sock_recv(fds[1], buf, 6, MSG_WAITALL));
    CHECK(net_now() - t0 >= 0.04);
    CHECK(memcmp(buf, "abcdef", 6) == 0);
    SETUP(waitpid(pid, &status, 0));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* The peer is gone: EPIPE is returned and SIGPIPE, left at its default
     * action (which would end this process), is never raised. */
    signal(SIGPIPE, SIG_DFL);
    net_sock_close(fds[1]);
    CHECK_EQ(-EPIPE, net_sock_send(fds[0], "x", 1, 0));
    CHECK_EQ(-EPIPE, net_sock_sendto(fds[0], "x", 1, 0, NULL));
    CHECK_EQ(0, net_sock_recv(fds[0], buf, sizeof buf, 0)); /* end of stream */
    net_sock_close(fds[0]);
    CHECK_EQ(-EBADF, net_sock_send(fds[0], "x", 1, 0));
    CHECK_EQ(-EBADF, net_sock_recv(fds[0], buf, sizeof buf, 0));
}

static void test_oob(void)
{
    int fds[2];
    char c;
    int lfd = tcp_trio("127.0.0.1", fds);
    CHECK_EQ(1, net_sock_send(fds[0], "a", 1, 0));
    CHECK_EQ(1, net_sock_send(fds[0], "!", 1, MSG_OOB));
    /* Wait until the urgent byte has arrived. */
    CHECK(net_poll_fd(fds[1], POLLPRI, 5) & POLLPRI);
    CHECK_EQ(0, net_sock_atmark(fds[1]));
    CHECK_EQ(1, net_sock_recv(fds[1], &c, 1, 0));
    CHECK_EQ('a', c);
    CHECK_EQ(1, net_sock_atmark(fds[1]));
    CHECK_EQ(1, net_sock_recv(fds[1], &c, 1, MSG_OOB));
    CHECK_EQ('!', c);
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
    net_sock_close(lfd);
    CHECK_EQ(-EBADF, net_sock_atmark(lfd));
}

static void test_datagrams(const char *host)
{
    net_addr_t any, a_addr, b_addr, from;
    char buf[32], text[NET_HOST_MAX];
    SETUP(net_addr_inet(&any, host, 0));
    int a = net_sock_open(any.family, SOCK_DGRAM, 0, 0);
    int b = net_sock_open(any.family, SOCK_DGRAM, 0, 0);
    SETUP(net_sock_bind(a, &any));
    SETUP(net_sock_bind(b, &any));
    SETUP(net_sock_getsockname(a, &a_addr));
    SETUP(net_sock_getsockname(b, &b_addr));

    CHECK_EQ(4, net_sock_sendto(a, "ping", 4, 0, &b_addr));
    CHECK_EQ(4, net_sock_recvfrom(b, buf, sizeof buf, 0, &from));
    CHECK(memcmp(buf, "ping", 4) == 0);
    CHECK(addr_same(&a_addr, &from)); /* the sender: host and port */
    CHECK(net_addr_host(&from, text, sizeof text) > 0);
    CHECK_STR(host, text);

    /* A datagram larger than the buffer is cut; the rest is lost. */
    CHECK_EQ(10, net_sock_sendto(a, "0123456789", 10, 0, &b_addr));
    CHECK_EQ(3, net_sock_recvfrom(b, buf, 3, 0, NULL));
    CHECK_EQ(-EAGAIN, net_sock_recvfrom(b, buf, sizeof buf, MSG_DONTWAIT, NULL));

    /* No destination on an unconnected datagram socket. */
    CHECK_EQ(-EDESTADDRREQ, net_sock_sendto(a, "x", 1, 0, NULL));
    /* A malformed address (c-api.md: len below a family's size or beyond
     * storage, a family that is not storage's) is refused and nothing goes:
     * the kernel alone would send to b with the family mismatched. */
    for (int how = 0; how < 4; how++) {
        net_addr_t broken = b_addr;
        switch (how) {
        case 0: broken.len = 0; break;
        case 1: broken.len = 1; break;
        case 2: broken.len = NET_ADDR_STORAGE + 1; break;
        case 3: broken.family = b_addr.family == AF_INET ? AF_INET6 : AF_INET; break;
        }
        CHECK_(net_sock_sendto(a, "x", 1, 0, &broken) == -EINVAL, "malformed address %d", how);
        CHECK_(net_sock_recvfrom(b, buf, sizeof buf, MSG_DONTWAIT, NULL) == -EAGAIN,
               "malformed address %d: a datagram went", how);
    }
    net_sock_close(a);
    net_sock_close(b);
    CHECK_EQ(-EBADF, net_sock_recvfrom(a, buf, sizeof buf, 0, &from));
}

/* recvfrom on a stream that brings no sender's name (TCP; a unix stream
 * whose peer is unnamed) sets from's family to 0 (net.h), even when *from
 * held an address from an earlier use: the caller must never read a stale
 * sender as this receive's. Guards io.c filling *from on every receive,
 * also when the kernel gave a name of length 0. */
static void test_recvfrom_stream_no_sender(void)
{
    static const char *const stale[2] = {"::1", "127.0.0.1"}; /* earlier use */
    for (int unix_pair = 0; unix_pair < 2; unix_pair++) {
        int fds[2], lfd = -1;
        char buf[4];
        net_addr_t from;
        if (unix_pair)
            SETUP(net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC, fds));
        else
            lfd = tcp_trio("127.0.0.1", fds);
        SETUP(net_addr_inet(&from, stale[unix_pair], 80));
        CHECK_EQ(1, net_sock_send(fds[0], "x", 1, 0));
        CHECK_EQ(1, net_sock_recvfrom(fds[1], buf, sizeof buf, 0, &from));
        CHECK_EQ(0, from.family);
        net_sock_close(fds[0]);
        net_sock_close(fds[1]);
        if (lfd >= 0)
            net_sock_close(lfd);
    }
}

/* ---- no flag may make a receive report bytes it did not place ---------- */

enum { ROOM = 8, CANARY = 64, FILL = 0xAA };
enum kind { UDP, UNIX_DGRAM, TCP };
static const char *const kind_name[] = {"udp 127.0.0.1", "unix dgram", "tcp 127.0.0.1"};

/* The largest datagram the loopback carries (UDP over IPv4: 65535 - 28);
 * every byte is a letter, so none equals FILL. */
enum { BIG = 65507 };
static char payload[BIG];

/* A receiver (fds[1]) holding a BIG-byte datagram, or BIG bytes of stream
 * data, from fds[0]; *lfd is a listener to close, or -1. */
static void loaded(enum kind kind, int fds[2], int *lfd)
{
    net_addr_t any, addr;
    *lfd = -1;
    if (kind == UNIX_DGRAM) {
        SETUP(net_sock_pair(AF_UNIX, SOCK_DGRAM, 0, 0, fds));
        SETUP(net_sock_sndbuf(fds[0], 4 * BIG)); /* room for one BIG datagram */
        SETUP(net_sock_send(fds[0], payload, BIG, 0));
    } else if (kind == UDP) {
        SETUP(net_addr_inet(&any, "127.0.0.1", 0));
        SETUP(fds[0] = net_sock_open(AF_INET, SOCK_DGRAM, 0, 0));
        SETUP(fds[1] = net_sock_open(AF_INET, SOCK_DGRAM, 0, 0));
        SETUP(net_sock_bind(fds[1], &any));
        SETUP(net_sock_getsockname(fds[1], &addr));
        SETUP(net_sock_sendto(fds[0], payload, BIG, 0, &addr));
    } else {
        *lfd = tcp_trio("127.0.0.1", fds);
        int64_t n = net_sock_send(fds[0], payload, BIG, 0);
        SETUP(n);
        if (n != BIG) { /* a loopback socket buffer takes 64 KiB at once */
            fprintf(stderr, "set-up failed: sent %lld of %d\n", (long long)n, BIG);
            exit(2);
        }
    }
    /* A receive that should have data but blocks fails the test in 5 s. */
    SETUP(net_sock_rcvtimeo(fds[1], 5));
    if (!(net_poll_fd(fds[1], POLLIN, 5) & POLLIN)) {
        fprintf(stderr, "set-up failed: no data arrived\n");
        exit(2);
    }
}

static void unload(int fds[2], int lfd)
{
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);
    if (lfd >= 0)
        net_sock_close(lfd);
}

/* One receive of ROOM bytes with flags, by recv or recvfrom, into a buffer
 * with CANARY bytes of FILL after the room: the count is at most ROOM, every
 * byte counted is the payload's, and nothing past the room is written. */
static int64_t recv_checked(int fd, int flags, int use_from, const char *what)
{
    char buf[ROOM + CANARY];
    net_addr_t from;
    int64_t n;
    memset(buf, FILL, sizeof buf);
    n = use_from ? net_sock_recvfrom(fd, buf, ROOM, flags, &from)
                 : net_sock_recv(fd, buf, ROOM, flags);
    CHECK_(n <= ROOM, "%s: count %lld exceeds the room (%d)", what, (long long)n, ROOM);
    if (n > 0)
        CHECK_(memcmp(buf, payload, (size_t)(n < ROOM ? n : ROOM)) == 0,
               "%s: count %lld but the buffer does not hold received bytes",
               what, (long long)n);
    for (size_t i = ROOM; i < sizeof buf; i++)
        if ((unsigned char)buf[i] != FILL) {
            CHECK_(0, "%s: byte %zu past the room was written", what, i);
            break;
        }
    return n;
}

/* For every MSG_* flag net_constants() exports, alone and with MSG_TRUNC,
 * on each socket kind, through recv and recvfrom. MSG_TRUNC is refused
 * (-EOPNOTSUPP) before anything is read: the data is still there after. */
static void test_recv_flags_bounded(void)
{
    int msg_trunc = 0, seen = 0;
    const net_constant_t *c;
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (char)('a' + i % 26);
    for (c = net_constants(); c->name; c++)
        if (strcmp(c->name, "MSG_TRUNC") == 0)
            msg_trunc = (int)c->value;
    CHECK(msg_trunc != 0); /* exported, so it is tested */

    for (c = net_constants(); c->name; c++) {
        if (strncmp(c->name, "MSG_", 4) != 0)
            continue;
        seen++;
        for (int with_trunc = 0; with_trunc < 2; with_trunc++)
            for (int kind = UDP; kind <= TCP; kind++)
                for (int use_from = 0; use_from < 2; use_from++) {
                    int fds[2], lfd;
                    int flags = (int)c->value | (with_trunc ? msg_trunc : 0);
                    char what[128];
                    snprintf(what, sizeof what, "%s(%s%s) on %s",
                             use_from ? "recvfrom" : "recv", c->name,
                             with_trunc ? "|MSG_TRUNC" : "", kind_name[kind]);
                    loaded((enum kind)kind, fds, &lfd);
                    int64_t n = recv_checked(fds[1], flags, use_from, what);
                    if (flags & msg_trunc) {
                        CHECK_(n == -EOPNOTSUPP, "%s: expected -EOPNOTSUPP, got %lld",
                               what, (long long)n);
                        /* Refused before reading: the data is all there
                         * (MSG_DONTWAIT: a failure here must not wait). */
                        strcat(what, ", then a plain read");
                        CHECK_EQ(ROOM, recv_checked(fds[1], MSG_DONTWAIT, use_from, what));
                    }
                    unload(fds, lfd);
                }
    }
    CHECK(seen >= 5); /* PEEK, OOB, WAITALL, DONTWAIT, TRUNC at least */
}

/* net_sock_inq counts what is queued and reads neither the bytes nor the
 * pending error: after a reset, the queued bytes and then the reset are
 * still the reads' to take. */
static void test_inq(void)
{
    int fds[2], pipefd[2];
    char buf[16];
    net_linger_t abort_on_close = {1, 0};
    int lfd = tcp_trio("127.0.0.1", fds);

    CHECK_EQ(0, net_sock_inq(fds[1]));
    CHECK_EQ(-EINVAL, net_sock_inq(lfd)); /* listening */
    CHECK_EQ(3, net_sock_send(fds[0], "abc", 3, 0));
    SETUP(net_sock_linger(fds[0], &abort_on_close, NULL));
    net_sock_close(fds[0]); /* a reset, after the bytes */
    CHECK(net_poll_fd(fds[1], POLLIN, 5) & POLLERR);
    CHECK_EQ(3, net_sock_inq(fds[1]));
    CHECK_EQ(3, net_sock_inq(fds[1])); /* nothing taken */
    CHECK_EQ(3, net_sock_recv(fds[1], buf, sizeof buf, MSG_DONTWAIT));
    CHECK_EQ(0, net_sock_inq(fds[1]));
    CHECK_EQ(-ECONNRESET, net_sock_recv(fds[1], buf, sizeof buf, MSG_DONTWAIT));
    net_sock_close(fds[1]);
    net_sock_close(lfd);
    CHECK_EQ(-EBADF, net_sock_inq(lfd));

    /* A datagram socket: the size of the next datagram. */
    SETUP(net_sock_pair(AF_UNIX, SOCK_DGRAM, 0, 0, fds));
    CHECK_EQ(0, net_sock_inq(fds[1]));
    CHECK_EQ(5, net_sock_send(fds[0], "hello", 5, 0));
    CHECK_EQ(2, net_sock_send(fds[0], "hi", 2, 0));
    CHECK_EQ(5, net_sock_inq(fds[1]));
    net_sock_close(fds[0]);
    net_sock_close(fds[1]);

    /* Not a socket (FIONREAD alone would count a pipe's bytes). */
    SETUP(pipe(pipefd));
    CHECK_EQ(1, (int)write(pipefd[1], "x", 1));
    CHECK_EQ(-ENOTSOCK, net_sock_inq(pipefd[0]));
    close(pipefd[0]);
    close(pipefd[1]);
}

/* An inet address whose len is below its family's (an IPv4 name of 4
 * bytes) is refused by libnet before the kernel sees it: the kernel
 * refuses it too, but a UDP connect or sendto first binds the socket to a
 * port of its choosing (c-api.md: "nothing is done"). IPv6's shortest is
 * RFC 2133's 24 bytes, without the scope id, which Linux takes. */
static void test_short_inet_name(const char *host)
{
    net_addr_t to, self;
    SETUP(net_addr_inet(&to, host, 9));
    int fd = net_sock_open(to.family, SOCK_DGRAM, 0, NET_CLOEXEC);
    SETUP(fd);
    net_addr_t short_name = to;
    short_name.len = to.family == AF_INET ? 15 : 23;
    CHECK_EQ(-EINVAL, net_sock_connect(fd, &short_name));
    CHECK_EQ(-EINVAL, net_sock_sendto(fd, "x", 1, 0, &short_name));
    SETUP(net_sock_getsockname(fd, &self));
    CHECK_EQ(0, net_addr_port(&self)); /* still unbound */
    if (to.family == AF_INET6) {
        short_name.len = 24;
        CHECK_EQ(0, net_sock_connect(fd, &short_name));
    }
    net_sock_close(fd);
}

int main(void)
{
    const int fds_at_start = fd_count();
    test_flags();
    test_oob();
    test_inq();
    test_datagrams("127.0.0.1");
    test_datagrams("::1");
    test_recvfrom_stream_no_sender();
    test_recv_flags_bounded();
    test_short_inet_name("127.0.0.1");
    test_short_inet_name("::1");
    CHECK_EQ(fds_at_start, fd_count()); /* nothing leaked */
    return check_done("io");
}
