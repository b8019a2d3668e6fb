/*
 * net.h — the public, ABI-stable interface of libnet (soname libnet.so.1).
 *
 * Conventions (see doc/c-api.md):
 *  - Every function works on plain file descriptors and fixed-width values.
 *  - A result >= 0 is success (a value, a byte count, an fd); a result < 0 is
 *    a negated error code: -errno, or a getaddrinfo failure mapped below
 *    NET_EAI_BASE so it never collides with an errno. net_strerror() names it.
 *  - Nothing here reads or depends on the caller's errno, prints, aborts or
 *    raises SIGPIPE (sendfile, which has no MSG_NOSIGNAL, blocks it in the
 *    calling thread for the call: see net_sock_sendfile).
 *  - A call interrupted by a signal returns -EINTR, never restarted with a
 *    fresh timeout: accept, send, recv, sendto, recvfrom, a unix connect.
 *    Exceptions: a blocking inet connect (see net_sock_connect), net_poll_fd
 *    and net_sock_close. (libnet never restarts a call; the kernel itself
 *    does for a handler installed with SA_RESTART, as glibc's signal(3)
 *    installs them, on a socket without SO_RCVTIMEO/SO_SNDTIMEO: a caller
 *    that wants -EINTR installs its handlers without SA_RESTART.)
 *  - Constants that are the platform's own (AF_*, SOCK_*, IPPROTO_*, MSG_*,
 *    SHUT_*, POLL*, E*) are passed through unchanged; net_constants() lists
 *    them by name for bindings that cannot read C headers.
 *  - An out-parameter holds a result only when the call succeeded; after a
 *    failure it may be unwritten or partly written, unless the function says
 *    otherwise (net_sock_recvfd's passfd).
 *
 * This header is also the source of the LuaJIT cdef (tools/gencdef): when
 * NET_CDEF is defined it includes nothing and defines no macro the FFI needs.
 */
#ifndef NET_H
#define NET_H

#define NET_VERSION_MAJOR 1
#define NET_VERSION_MINOR 1
#define NET_VERSION_PATCH 0
/* net_version() returns this number: major * 10000 + minor * 100 + patch.
 * Defined with NET_CDEF too: tools/gencdef reads it for the cdef. */
#define NET_VERSION_NUMBER \
    (NET_VERSION_MAJOR * 10000 + NET_VERSION_MINOR * 100 + NET_VERSION_PATCH)

#ifndef NET_CDEF
#include <stddef.h>
#include <stdint.h>

#if defined(NET_BUILDING_LIBRARY) && defined(__GNUC__)
#define NET_API __attribute__((visibility("default")))
#else
#define NET_API
#endif

/* Errors from getaddrinfo are -(NET_EAI_BASE + |EAI_*|): far below any errno. */
#define NET_EAI_BASE 20000
#else
#define NET_API
#endif /* NET_CDEF */

#ifdef __cplusplus /* C linkage for C++ callers (the cdef's cpp defines none) */
extern "C" {
#endif

/* Flags for net_sock_open, net_sock_pair and net_sock_accept. */
enum {
    NET_NONBLOCK = 1, /* O_NONBLOCK on the new descriptor(s) */
    NET_CLOEXEC = 2   /* FD_CLOEXEC on the new descriptor(s) */
};

/* Flags for net_getaddrinfo. */
enum {
    NET_AI_PASSIVE = 1,     /* an address to bind: any address when host is NULL */
    NET_AI_CANONNAME = 2,   /* fill canonname in the first record */
    NET_AI_NUMERICHOST = 4, /* host must be an address literal: no DNS lookup */
    NET_AI_NUMERICSERV = 8  /* service must be a port number */
};

/* Sizes of the fixed records below. They are part of the ABI. */
enum {
    NET_ADDR_STORAGE = 128,   /* bytes for any struct sockaddr of the platform */
    NET_CANONNAME_MAX = 256,  /* canonical name, NUL included */
    NET_HOST_MAX = 64         /* longest inet/inet6 text address, NUL included */
};

/*
 * A socket address of any family. `storage` holds the platform's struct
 * sockaddr (opaque: use the net_addr_* functions); `len` is its length.
 */
typedef struct net_addr {
    int32_t family;  /* AF_INET, AF_INET6, AF_UNIX, or 0 when empty */
    uint32_t len;    /* bytes of storage in use */
    union {
        uint8_t bytes[NET_ADDR_STORAGE];
        uint64_t align; /* keeps the sockaddr inside suitably aligned */
    } storage;
} net_addr_t;

/* One result of net_getaddrinfo. */
typedef struct net_addrinfo {
    int32_t family;
    int32_t socktype;
    int32_t protocol;
    int32_t reserved; /* 0; room to grow */
    net_addr_t addr;
    char canonname[NET_CANONNAME_MAX]; /* "" when not asked for or unknown */
} net_addrinfo_t;

/* SO_LINGER. */
typedef struct net_linger {
    int32_t on;      /* 0: close returns at once; 1: close waits */
    int32_t seconds; /* how long close waits when on */
} net_linger_t;

/* A named platform constant, for bindings (see net_constants). */
typedef struct net_constant {
    const char *name;
    int64_t value;
} net_constant_t;

/* ---- the library ------------------------------------------------------ */

/* NET_VERSION_NUMBER of the library actually loaded. */
NET_API int net_version(void);
/* The message for a result code (-errno or a getaddrinfo code); never NULL,
 * "Unknown error" for any int that names none (INT_MIN included). The text
 * is static: do not free it. */
NET_API const char *net_strerror(int code);
/* The platform constants, ending with {NULL, 0}. Names are the C names
 * (AF_INET, SOCK_STREAM, MSG_PEEK, EAGAIN, EAI_NONAME as a result code, ...):
 * the errno and getaddrinfo codes the functions here name or return of their
 * own (the kernel may give others, which net_strerror names all the same). */
NET_API const net_constant_t *net_constants(void);

/* ---- a socket's life -------------------------------------------------- */

/* A new socket; flags are NET_NONBLOCK | NET_CLOEXEC. Returns the fd. */
NET_API int net_sock_open(int family, int type, int protocol, int flags);
/* A connected pair in fds[0], fds[1]. Returns 0. */
NET_API int net_sock_pair(int family, int type, int protocol, int flags,
                          int fds[2]);
NET_API int net_sock_bind(int fd, const net_addr_t *addr);
/* backlog < 0 means SOMAXCONN. */
NET_API int net_sock_listen(int fd, int backlog);
/* The accepted fd; the peer's address into *peer unless peer is NULL.
 * -EINTR when a signal arrived before a connection was taken. */
NET_API int net_sock_accept(int fd, int flags, net_addr_t *peer);
/* 0 when connected, -EINPROGRESS while a non-blocking connect goes on (wait
 * for writability, then read net_sock_error). A blocking inet (TCP) connect
 * interrupted by a signal is waited for, not restarted, and never longer
 * than SO_SNDTIMEO (when set) from the call's start: then -EINPROGRESS, the
 * attempt still under way, as the kernel returns when SO_SNDTIMEO expires in
 * connect. A blocking connect of another family (unix: waiting for room in
 * a full listener's queue) is abandoned by the kernel at a signal: -EINTR,
 * the socket unconnected, and connect may be called again. */
NET_API int net_sock_connect(int fd, const net_addr_t *addr);
/* how is SHUT_RD, SHUT_WR or SHUT_RDWR. */
NET_API int net_sock_shutdown(int fd, int how);
/* Closes fd exactly once: EINTR is not retried (the fd is gone on Linux). */
NET_API int net_sock_close(int fd);

/* ---- I/O; flags are MSG_* (MSG_NOSIGNAL is always added) ------------------ */

/* Bytes sent or received; 0 from recv means the peer closed (stream);
 * -EINTR when a signal arrived before any byte moved (a signal after some
 * bytes gives their count), so SO_RCVTIMEO/SO_SNDTIMEO hold under signals. A
 * receive's count is never more than len: MSG_TRUNC, which would make it a
 * datagram's full length (or, on TCP, discard the bytes uncopied), is refused
 * with -EOPNOTSUPP before anything is read. */
NET_API int64_t net_sock_send(int fd, const void *buf, size_t len, int flags);
NET_API int64_t net_sock_recv(int fd, void *buf, size_t len, int flags);
/* to may be NULL on a connected socket. */
NET_API int64_t net_sock_sendto(int fd, const void *buf, size_t len, int flags,
                                const net_addr_t *to);
/* The sender's address into *from unless from is NULL: family 0 when the
 * receive brought no sender's name (a TCP socket, a unix stream whose peer
 * is unnamed, or a unix sender never bound; net_sock_recvdgram tells them
 * apart). A unix stream peer bound to a name brings it, as a datagram
 * sender does. */
NET_API int64_t net_sock_recvfrom(int fd, void *buf, size_t len, int flags,
                                  net_addr_t *from);

/* ---- state ------------------------------------------------------------ */

NET_API int net_sock_getsockname(int fd, net_addr_t *out);
NET_API int net_sock_getpeername(int fd, net_addr_t *out);
/* 1 at the out-of-band mark, 0 elsewhere. */
NET_API int net_sock_atmark(int fd);
/* SOCK_*, AF_*, IPPROTO_* of the socket. */
NET_API int net_sock_type(int fd);
NET_API int net_sock_family(int fd);
NET_API int net_sock_protocol(int fd);
/* The pending error (SO_ERROR) as a positive errno, 0 when none; reading
 * clears it. */
NET_API int net_sock_error(int fd);
/* The bytes queued to read (SIOCINQ), without reading them or the pending
 * error: on a stream all of them (TCP: up to the urgent mark, without an
 * urgent byte that is not inline; a unix stream counts its urgent byte), on
 * a datagram socket the size of the next datagram (0 when none), on a
 * SOCK_SEQPACKET socket the bytes of all its messages. A listening socket is
 * -EINVAL; a descriptor that is not a socket is -ENOTSOCK. (1.1) */
NET_API int net_sock_inq(int fd);
/* 1 when fd's reading end is shut (shutdown SHUT_RD, a stream's or a
 * seqpacket socket's peer gone: POLLRDHUP) and nothing is queued, 0 when
 * it is not shut or something is still queued, else a code (a listening
 * socket: -EINVAL, what a blocking accept of a shut unix listener says).
 * What a receive that got 0 bytes and no sender's name asks, to tell the
 * end of a message socket's reading from an empty message: a datagram
 * socket's queue is looked at with a peek that does not wait (a pending
 * error, which that peek takes, is its code), a seqpacket socket's by its
 * bytes (SIOCINQ: an empty message still queued counts none). Where the
 * platform has no POLLRDHUP, 0. (1.1) */
NET_API int net_sock_readshut(int fd);

/* ---- options --------------------------------------------------------------
 * Every option of a socket or its descriptor, listed once:
 *
 *     X(name, kind, scope, alias)
 *
 * name   the function is net_sock_<name>;
 * kind   bool           int net_sock_<name>(int fd, int val), reads back 0 or 1
 *        readonly_bool  the same, and setting it is -EINVAL
 *        int            int net_sock_<name>(int fd, int val), a whole number
 *        seconds        double net_sock_<name>(int fd, double val), fractional
 *                       seconds, 0 means no timeout, at most 1e9 (more, or
 *                       NaN, is -EINVAL);
 * scope  socket: a socket of any type may have it, as far as its family
 *        does (IPV6_V6ONLY: AF_INET6 sockets); stream: stream sockets, and
 *        the TCP_* options TCP sockets only. Elsewhere the kernel's code
 *        (-ENOPROTOOPT, -EOPNOTSUPP). Lua's classes net.Socket and
 *        net.stream.Socket follow this column;
 * alias  another name for the same option ("" for none), as Lua methods.
 *
 * val < 0 reads; val >= 0 sets. The result is the value in effect afterwards,
 * read back from the kernel (Linux caps a SO_RCVBUF/SO_SNDBUF request at
 * rmem_max/wmem_max, then doubles it; it keeps SO_RCVTIMEO/SO_SNDTIMEO in
 * its clock's ticks, rounded up: 1.25 reads back 1.252 at 250 ticks a
 * second).
 * An option the platform lacks is -ENOPROTOOPT. net_options() lists the same
 * rows at run time, for bindings (the Lua layer builds its methods from it).
 * Adding an option: one row here, its platform row in src/options.c.
 */
#define NET_SOCK_OPTIONS(X)                                                   \
    X(cloexec, bool, socket, "")       /* FD_CLOEXEC of the descriptor */     \
    X(nonblock, bool, socket, "")      /* O_NONBLOCK of the descriptor */     \
    X(reuseport, bool, socket, "")     /* SO_REUSEPORT */                     \
    X(reuseaddr, bool, socket, "")     /* SO_REUSEADDR */                     \
    X(debug, bool, socket, "")         /* SO_DEBUG */                         \
    X(dontroute, bool, socket, "")     /* SO_DONTROUTE */                     \
    X(timestamp, bool, socket, "")     /* SO_TIMESTAMP */                     \
    X(broadcast, bool, socket, "")     /* SO_BROADCAST */                     \
    X(rcvbuf, int, socket, "")         /* SO_RCVBUF */                        \
    X(rcvlowat, int, socket, "")       /* SO_RCVLOWAT */                      \
    X(sndbuf, int, socket, "")         /* SO_SNDBUF */                        \
    X(sndlowat, int, socket, "")       /* SO_SNDLOWAT */                      \
    X(rcvtimeo, seconds, socket, "")   /* SO_RCVTIMEO */                      \
    X(sndtimeo, seconds, socket, "")   /* SO_SNDTIMEO */                      \
    X(ipv6only, bool, socket, "")      /* IPV6_V6ONLY */                      \
    X(acceptconn, readonly_bool, stream, "") /* SO_ACCEPTCONN */              \
    X(oobinline, bool, stream, "")     /* SO_OOBINLINE */                     \
    X(keepalive, bool, stream, "")     /* SO_KEEPALIVE */                     \
    X(tcpnodelay, bool, stream, "")    /* TCP_NODELAY */                      \
    X(tcpcork, bool, stream, "")       /* TCP_CORK (TCP_NOPUSH on BSD) */     \
    X(tcpkeepalive, int, stream, "")   /* TCP_KEEPIDLE: idle s before probes */ \
    X(tcpkeepintvl, int, stream, "tcpintvl") /* TCP_KEEPINTVL; the seed's name */ \
    X(tcpkeepcnt, int, stream, "")     /* TCP_KEEPCNT */

/* The C type of an option's value, by kind. */
#define NET_OPTION_TYPE_bool int
#define NET_OPTION_TYPE_readonly_bool int
#define NET_OPTION_TYPE_int int
#define NET_OPTION_TYPE_seconds double

#define NET_DECLARE_OPTION(name, kind, scope, alias)                          \
    NET_API NET_OPTION_TYPE_##kind net_sock_##name(int fd,                    \
                                                   NET_OPTION_TYPE_##kind val);
NET_SOCK_OPTIONS(NET_DECLARE_OPTION)

/* One row of NET_SOCK_OPTIONS, as text. */
typedef struct net_option {
    const char *name;  /* "rcvbuf": the function net_sock_rcvbuf */
    const char *kind;  /* "bool", "readonly_bool", "int" or "seconds" */
    const char *scope; /* "socket" or "stream" */
    const char *alias; /* another name, or "" */
} net_option_t;

/* Every option, in NET_SOCK_OPTIONS order, ending with a NULL name. (1.1) */
NET_API const net_option_t *net_options(void);

/* SO_LINGER, the one option of another shape. */
/* set NULL reads; the state afterwards into *out unless out is NULL. */
NET_API int net_sock_linger(int fd, const net_linger_t *set, net_linger_t *out);

/* ---- addresses ---------------------------------------------------------- */

/* An interface named or numbered here (an IPv6 zone, a multicast interface)
 * is looked up through a socket the C library opens to ask: with no
 * descriptor free, a call that needs the lookup is -EMFILE (or -ENFILE),
 * never "no such interface". */

/* An inet or inet6 address from a literal ("127.0.0.1", "::1", with a zone
 * "fe80::1%eth0" or "fe80::1%2") and a port (0..65535). -EINVAL when host is
 * not a literal address (or names no interface; *out is then all zero, never
 * part of an address) or port is out of range (*out is left alone). */
NET_API int net_addr_inet(net_addr_t *out, const char *host, int port);
/* A unix address of len bytes. A leading NUL makes a Linux abstract name. A
 * path that does not fit sun_path (with its NUL) is -ENAMETOOLONG, and so is
 * an abstract name of more than sizeof sun_path - 1 bytes (107 on Linux)
 * with its leading NUL, though Linux takes one byte more. len 0, and a path
 * with a NUL inside or at its end (len counts the bytes of the path, not a
 * terminating NUL: strlen, not sizeof) are -EINVAL. */
NET_API int net_addr_unix(net_addr_t *out, const char *path, size_t len);
/* The text form of an inet/inet6 address into buf (NUL-terminated); returns
 * its length. An IPv6 zone is kept ("fe80::1%eth0"; the number when no
 * interface has it); NET_HOST_MAX always suffices. -EAFNOSUPPORT for other
 * families, -ENOSPC when buf is short. */
NET_API int net_addr_host(const net_addr_t *addr, char *buf, size_t size);
/* The port of an inet/inet6 address; -EAFNOSUPPORT for other families. */
NET_API int net_addr_port(const net_addr_t *addr);
/* The path of a unix address into buf (NUL-terminated; an abstract name
 * starts with NUL); returns its length, 0 for an unnamed socket.
 * -EAFNOSUPPORT for other families, -ENOSPC when buf is short. */
NET_API int net_addr_path(const net_addr_t *addr, char *buf, size_t size);

/* Resolves host (NULL: any/loopback) and service (a port number or a service
 * name; NULL: port 0). A literal host never reaches a resolver (it is passed
 * with AI_NUMERICHOST); a name blocks while the C library resolves it. A
 * service getaddrinfo would read as a number must be a plain decimal 0..65535,
 * else the EAI_SERVICE code (never the C library's wrap to 16 bits); so is an
 * empty one (never port 0). A literal's IPv6 zone is read as net_addr_inet
 * reads it (an interface name for every scope). A lookup
 * that failed for want of a descriptor is -EMFILE / -ENFILE. With
 * NET_AI_CANONNAME, a literal's canonical name is host as given, and one
 * longer than NET_CANONNAME_MAX - 1 bytes fails the call with -ENAMETOOLONG
 * (never cut). family is AF_INET, AF_INET6 or AF_UNSPEC; socktype and
 * protocol 0 mean any; flags are NET_AI_*. Writes at most max records to out
 * and returns how many the resolver found (call again with more room when the
 * result exceeds max). Failures are getaddrinfo codes (net_strerror names
 * them) or -errno. */
NET_API int net_getaddrinfo(const char *host, const char *service, int family,
                            int socktype, int protocol, int flags,
                            net_addrinfo_t *out, int max);
/* The one record for a unix path of len bytes (see net_addr_unix); returns 1. */
NET_API int net_getaddrinfo_unix(const char *path, size_t len, int socktype,
                                 net_addrinfo_t *out);

/* ---- readiness -------------------------------------------------------------- */

/* Waits until fd is ready for events (POLLIN, POLLOUT, ...) or timeout
 * seconds pass (< 0: no limit). Returns the ready events, 0 on timeout. A
 * signal does not cut the wait short. */
NET_API int net_poll_fd(int fd, int events, double timeout);
/* Seconds on the monotonic clock (CLOCK_MONOTONIC): what deadlines are
 * measured on. Only differences mean anything. (1.1) */
NET_API double net_now(void);

/* ---- readiness of many descriptors: poll sets (1.1) ------------------------
 * A set of registered descriptors, waited on together: epoll on Linux, poll(2)
 * elsewhere; never select(2), so any descriptor number works. The set's
 * handle is a descriptor: close it with net_poll_close, not close(2) (the
 * set also has memory). Events are the platform's POLL* bits: ask for
 * POLLIN, POLLOUT, POLLPRI; POLLERR and POLLHUP are always reported.
 * Registrations are level-triggered. DEL a descriptor before closing it: a
 * number closed without DEL stays registered (ADD says -EEXIST) until its
 * DEL. Meanwhile epoll reports nothing unless a dup of it lives on, which
 * epoll goes on reporting (epoll(7)) even after the DEL, until the dup
 * closes: those reports are dropped, but each wakes the wait, which then
 * waits again (a busy loop while the dup lives); once that file is back
 * under the number (dup2), an ADD after the DEL replaces epoll's old entry.
 * poll(2) reports a new descriptor that took the number under the old
 * registration. A set belongs to the process that made it: in a child of
 * fork(), a set made before the fork is -EBADF for net_poll_ctl and
 * net_poll_wait (an epoll set is shared with the parent, which a child's
 * DEL or ADD would change); net_poll_close closes the child's copy. */

/* One ready descriptor, as net_poll_wait reports it. */
typedef struct net_poll_event {
    int32_t fd;      /* the registered descriptor */
    uint32_t events; /* the POLL* bits that are ready */
    uint64_t data;   /* the caller's word of its registration */
} net_poll_event_t;

/* Operations of net_poll_ctl. */
enum {
    NET_POLL_ADD = 1, /* register fd: -EEXIST when it is registered */
    NET_POLL_MOD = 2, /* new events and data for fd: -ENOENT when not registered */
    NET_POLL_DEL = 3  /* unregister fd (events and data ignored): -ENOENT when not */
};

/* A new, empty set; flags: NET_CLOEXEC (others are -EINVAL). Returns its
 * handle. (1.1) */
NET_API int net_poll_create(int flags);
/* Adds, changes or removes fd's registration in the set pfd: events to
 * watch, and a word handed back with each of its events. (1.1) */
NET_API int net_poll_ctl(int pfd, int op, int fd, uint32_t events,
                         uint64_t data);
/* Waits until a registered descriptor is ready or timeout seconds pass (< 0:
 * no limit) and writes at most max records to out. Returns their count, 0 on
 * timeout. A signal ends the wait: -EINTR (a new call starts a new timeout).
 * (1.1) */
NET_API int net_poll_wait(int pfd, net_poll_event_t *out, int max,
                          double timeout);
/* Closes the set and frees it; its descriptors stay open. (1.1) */
NET_API int net_poll_close(int pfd);

/* ---- datagrams, multicast, messages (1.1) ------------------------------------
 * src/msg.c and src/mcast.c. Every field of the records here is
 * fixed-width but the pointers, whose width is the platform's (the records
 * holding one differ in size between ILP32 and LP64). */

/* One datagram: at most len bytes of it into buf, the sender into *from
 * unless from is NULL, the datagram's full length into *full unless full is
 * NULL (more than the result when the datagram was cut to len; where the
 * platform only says that it was cut, len + 1). flags are MSG_* (MSG_TRUNC is
 * refused with -EOPNOTSUPP; the function asks for it itself). Returns the
 * bytes placed in buf, never more than len. A sender without a name (a unix
 * socket never bound) is an AF_UNIX address without a path. Sockets that
 * keep message boundaries only (SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW): any
 * other (a stream) is -EOPNOTSUPP, found out after the receive (a receive
 * that brings no sender's name, or a unix one, asks SO_TYPE; checking before
 * would cost every UDP datagram a system call): the bytes of that receive
 * are lost (TCP discards them under MSG_TRUNC), never reported as data.
 * A receive that would wait on a socket whose reading end is shut
 * (shutdown SHUT_RD; a seqpacket socket's peer gone) with nothing queued is
 * -ESHUTDOWN: Linux returns 0 bytes from no sender there, which libnet
 * tells from an empty datagram by net_sock_readshut (an empty datagram of
 * an unbound unix sender, the last one queued, reads as the end). One that
 * does not wait gets -EAGAIN. A UDP socket still queues datagrams that
 * arrive after the shutdown: later receives return them. (1.1) */
NET_API int64_t net_sock_recvdgram(int fd, void *buf, size_t len, int flags,
                                   net_addr_t *from, int64_t *full);
/* Dissolves a datagram socket's default peer (connect to AF_UNSPEC). The
 * socket keeps its name: where the kernel drops a port it chose (Linux), the
 * socket is bound to it again, on the address it had before it connected (a
 * wildcard bind stays a wildcard; when another socket took the port on
 * another address meanwhile, on the address it had while connected; when
 * even that is taken, the bind's error, the socket unconnected and without
 * its port). SOCK_DGRAM and SOCK_RAW only: other
 * sockets (a stream, which would be reset) are -EOPNOTSUPP, unchanged. (1.1) */
NET_API int net_sock_disconnect(int fd);

/* Multicast on an AF_INET or AF_INET6 socket (the level follows the socket's
 * family; other families are -EAFNOSUPPORT). val < 0 reads, val >= 0 sets;
 * the result is the value read back. mcastttl is IP_MULTICAST_TTL, or the
 * hop limit IPV6_MULTICAST_HOPS. (1.1) */
NET_API int net_sock_mcastloop(int fd, int val);
NET_API int net_sock_mcastttl(int fd, int val);
/* The interface multicast goes out of: ifname NULL reads, "" restores the
 * default (the routing table decides), a name sets it. The name in effect
 * afterwards into out (size bytes, NUL-terminated; "" for the default);
 * returns its length. IPv4 records the interface by its address: an
 * interface without an IPv4 address reads back as "". On IPv6 an
 * interface deleted after it was set reads back as its index in decimal
 * ("7"), as an address's zone is written. Setting a name needs
 * size >= IF_NAMESIZE (16, room for any interface's name), else -ENOSPC
 * before anything changes; a read or "" needs room for the name or "" only
 * (size 0 is -ENOSPC, nothing changed; out NULL is -EINVAL).
 * (1.1) */
NET_API int net_sock_mcastif(int fd, const char *ifname, char *out,
                             size_t size);
/* Group membership (RFC 3678 MCAST_* options). group and source are address
 * literals of the socket's family; ifname NULL or "" lets the routing table
 * choose the interface. op is one of NET_MCAST_*. (1.1) */
enum {
    NET_MCAST_JOIN = 1,     /* join group (any source) */
    NET_MCAST_LEAVE = 2,    /* leave group */
    NET_MCAST_JOINSRC = 3,  /* join group for source only */
    NET_MCAST_LEAVESRC = 4, /* leave group for source */
    NET_MCAST_BLOCKSRC = 5, /* in an any-source membership, drop source */
    NET_MCAST_UNBLOCKSRC = 6 /* stop dropping source */
};
NET_API int net_sock_mcastgroup(int fd, int op, const char *group,
                                const char *source, const char *ifname);

/* A piece of a gather write. */
typedef struct net_iovec {
    const void *base;
    uint64_t len;
} net_iovec_t;
/* The pieces in order, in one sendmsg (more than the platform's IOV_MAX go
 * in several on a stream socket; a datagram of more is -EMSGSIZE). Returns
 * the bytes sent (a partial count when the socket took fewer). A len the
 * platform's size_t cannot hold (ILP32) is -EINVAL, nothing sent; so is a
 * sendmany record's. (1.1) */
NET_API int64_t net_sock_sendv(int fd, const net_iovec_t *iov, int count,
                               int flags);

/* Passes the descriptor passfd over a unix socket (SCM_RIGHTS) with the len
 * bytes of buf; len 0 on a stream socket is -EINVAL (a stream carries a
 * descriptor only with a byte); a socket of another family is -EAFNOSUPPORT
 * and nothing is sent. Returns the bytes sent. (1.1) */
NET_API int64_t net_sock_sendfd(int fd, int passfd, const void *buf,
                                size_t len, int flags);
/* Receives at most len bytes into buf and the descriptor they carry into
 * *passfd (close-on-exec), -1 when the message carried none, -EMFILE when
 * the system dropped what it carried (MSG_CTRUNC: this process had no free
 * descriptor for it; the bytes are received all the same). Descriptors
 * beyond the first are closed; a socket of another family than unix is
 * -EAFNOSUPPORT and nothing is read, and so is MSG_TRUNC -EOPNOTSUPP, as
 * for every receive. Returns the bytes received. (1.1) */
NET_API int64_t net_sock_recvfd(int fd, void *buf, size_t len, int flags,
                                int *passfd);

/* The credentials of a unix socket's peer, as of connect/socketpair. */
typedef struct net_cred {
    int64_t pid; /* -1 where the platform does not tell, or the peer's pid
                  * namespace is out of this process's sight */
    int64_t uid;
    int64_t gid;
} net_cred_t;
/* SO_PEERCRED on Linux; getpeereid (and LOCAL_PEERPID) on the BSDs and
 * macOS; -ENOPROTOOPT elsewhere. -ENOTCONN when the kernel recorded none (a
 * unix datagram socket that is not one of a pair); -EAFNOSUPPORT for a socket
 * of another family. (1.1) */
NET_API int net_sock_peercred(int fd, net_cred_t *out);

/* sendfile(2): count bytes (count < 0: up to the end of the file) of the
 * file filefd from offset (offset < 0: from its current position, which
 * then advances) to the stream socket fd. Repeats (Linux moves at most
 * 0x7ffff000 bytes a call) until count is sent, the file ends or the socket
 * takes no more: a short send ends it, so a blocking call ended by
 * SO_SNDTIMEO or a signal returns the bytes sent so far, never waiting again
 * (-EAGAIN / -EINTR when none went). Returns the bytes sent (0 at the end of
 * the file); a failure after some bytes returns their count. The peer gone
 * is -EPIPE with no SIGPIPE: SIGPIPE is blocked in the calling thread during
 * the call, and the one the call raised is taken back (one already pending
 * before the call is left pending). fd not a socket is -ENOTSOCK, a socket
 * of another type -EOPNOTSUPP, and nothing is sent. (1.1) */
NET_API int64_t net_sock_sendfile(int fd, int filefd, int64_t offset,
                                  int64_t count);
/* The same for the file at path, opened read-only and closed again
 * (offset < 0 is 0). (1.1) */
NET_API int64_t net_sock_sendfilepath(int fd, const char *path, int64_t offset,
                                      int64_t count);

/* One datagram of a batch. recvmany: buf/size is the room, and len, full
 * (as net_sock_recvdgram's) and addr (the sender) are filled in. sendmany:
 * the len bytes of buf go to addr (family 0: the connected peer). */
typedef struct net_msg {
    void *buf;
    uint64_t size;
    uint64_t len;
    int64_t full;
    net_addr_t addr;
} net_msg_t;
/* Receives up to count datagrams into msgs (recvmmsg with MSG_WAITFORONE:
 * waits, as flags and the socket's mode say, for the first only; a loop of
 * recvmsg where recvmmsg is missing). Returns how many were received. The
 * sockets of net_sock_recvdgram only (a stream is -EOPNOTSUPP), and
 * -ESHUTDOWN as there when the first receive meets the reading end shut
 * (nothing taken; datagrams of another family than unix, UDP's, that
 * arrive within the call after that first receive are returned, from the
 * first slot on, each cut to the room of its own slot and the one it lands
 * in). Empty messages from no sender that end a batch when the socket then
 * reads shut with nothing queued are the end met again (a seqpacket peer
 * gone: recvmmsg gives each further slot 0 bytes): not returned, and
 * -ESHUTDOWN when nothing came before them. MSG_TRUNC is -EOPNOTSUPP,
 * nothing read, as for every receive; so is
 * a room above SIZE_MAX (ILP32), as -EINVAL. MSG_PEEK peeks at one
 * datagram at most (the next slot would see the same one). (1.1) */
NET_API int net_sock_recvmany(int fd, net_msg_t *msgs, int count, int flags);
/* Sends the count datagrams of msgs (sendmmsg, or a loop), waiting, as flags
 * and the socket's mode say, for room for the first only; the rest go while
 * there is room. Returns how many were sent; a failure on the first is its
 * code. (1.1) */
NET_API int net_sock_sendmany(int fd, net_msg_t *msgs, int count, int flags);

#ifdef __cplusplus
}
#endif

#endif /* NET_H */
