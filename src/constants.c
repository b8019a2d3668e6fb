/* constants.c — the platform's constants by name, for bindings that cannot
 * read C headers (the LuaJIT FFI layer, the C-API module). */
#include "internal.h"

#include <netdb.h>
#include <poll.h>

#include "resolve_codes.h"

#define CONST(name) {#name, (int64_t)(name)}
/* getaddrinfo failures appear as libnet result codes, not as raw EAI values. */
#define EAI_CODE(name) {#name, -(NET_EAI_BASE + (name) * NET_EAI_SIGN)}

static const net_constant_t constants[] = {
    /* families, types, protocols */
    CONST(AF_UNSPEC), CONST(AF_INET), CONST(AF_INET6), CONST(AF_UNIX),
    CONST(SOCK_STREAM), CONST(SOCK_DGRAM), CONST(SOCK_SEQPACKET),
    CONST(SOCK_RAW), CONST(IPPROTO_IP), CONST(IPPROTO_IPV6),
    CONST(IPPROTO_TCP), CONST(IPPROTO_UDP),
    /* I/O flags, shutdown, listen */
    CONST(MSG_PEEK), CONST(MSG_OOB), CONST(MSG_WAITALL), CONST(MSG_DONTWAIT),
    CONST(MSG_TRUNC), CONST(SHUT_RD), CONST(SHUT_WR), CONST(SHUT_RDWR),
    CONST(SOMAXCONN),
    /* readiness */
    CONST(POLLIN), CONST(POLLPRI), CONST(POLLOUT), CONST(POLLERR),
    CONST(POLLHUP), CONST(POLLNVAL),
#ifdef POLLRDHUP /* Linux's: the reading end shut (a peer's FIN, SHUT_RD) */
    CONST(POLLRDHUP),
#endif
    {"POLL_WAITABLE", NET_POLLSET_EPOLL}, /* a poll set's handle (internal.h) */
    /* errno values (results are their negations) */
    CONST(EPERM), CONST(ENOENT), CONST(EEXIST), CONST(EINTR), CONST(EBADF),
    CONST(EAGAIN),
    CONST(EWOULDBLOCK), CONST(ENOMEM), CONST(EACCES), CONST(EFAULT),
    CONST(EINVAL), CONST(ENFILE), CONST(EMFILE), CONST(ENOSPC),
    CONST(EPIPE), CONST(ENAMETOOLONG), CONST(ENOTSOCK), CONST(EDESTADDRREQ),
    CONST(EMSGSIZE), CONST(EPROTOTYPE), CONST(ENOPROTOOPT),
    CONST(EPROTONOSUPPORT), CONST(EOPNOTSUPP), CONST(EAFNOSUPPORT),
    CONST(EADDRINUSE), CONST(EADDRNOTAVAIL), CONST(ENETDOWN),
    CONST(ENETUNREACH), CONST(ECONNABORTED), CONST(ECONNRESET),
    CONST(ENOBUFS), CONST(EISCONN), CONST(ENOTCONN), CONST(ETIMEDOUT),
    CONST(ECONNREFUSED), CONST(EHOSTUNREACH), CONST(EALREADY),
    CONST(EINPROGRESS), CONST(ENODEV), CONST(ENOSYS), CONST(ENOTTY),
    CONST(ESPIPE), CONST(EIO), CONST(EOVERFLOW), CONST(ESHUTDOWN),
    /* getaddrinfo failures, as result codes */
    EAI_CODE(EAI_AGAIN), EAI_CODE(EAI_BADFLAGS), EAI_CODE(EAI_FAIL),
    EAI_CODE(EAI_FAMILY), EAI_CODE(EAI_MEMORY), EAI_CODE(EAI_NONAME),
    EAI_CODE(EAI_SERVICE), EAI_CODE(EAI_SOCKTYPE),
#ifdef EAI_ADDRFAMILY /* glibc's: a name with no address of the family asked */
    EAI_CODE(EAI_ADDRFAMILY),
#endif
#ifdef EAI_NODATA /* glibc's: a name with no address at all */
    EAI_CODE(EAI_NODATA),
#endif
    {NULL, 0},
};

const net_constant_t *net_constants(void) { return constants; }
