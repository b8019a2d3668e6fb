/* resolve_codes.h — getaddrinfo's EAI_* codes <-> libnet result codes.
 * EAI values are negative on glibc and positive on the BSDs; the result code
 * is -(NET_EAI_BASE + |EAI|) on every platform, far from any -errno. */
#ifndef NET_RESOLVE_CODES_H
#define NET_RESOLVE_CODES_H

#include <netdb.h>

#if EAI_NONAME < 0
#define NET_EAI_SIGN (-1)
#else
#define NET_EAI_SIGN 1
#endif

static inline int net__code_from_eai(int eai)
{
    return -(NET_EAI_BASE + eai * NET_EAI_SIGN);
}

static inline int net__eai_from_code(int code)
{
    return (-code - NET_EAI_BASE) * NET_EAI_SIGN;
}

#endif
