/* errors.c — result codes to messages; the library's version. */
#include "internal.h"

#include <netdb.h>
#include <string.h>

#include "resolve_codes.h"

int net_version(void) { return NET_VERSION_NUMBER; }

/* strerror(3) may write a shared buffer; glibc's strerrordesc_np returns a
 * static string and is reentrant. Elsewhere, fall back to strerror, whose
 * text for a known errno is static on the BSDs and macOS. */
static const char *errno_message(int errnum)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
    const char *msg = strerrordesc_np(errnum);
    return msg ? msg : "Unknown error";
#else
    return strerror(errnum);
#endif
}

const char *net_strerror(int code)
{
    /* Far below every getaddrinfo code (and INT_MIN, whose negation is
     * undefined): no message of either kind. */
    if (code < -2 * NET_EAI_BASE)
        return "Unknown error";
    if (code <= -NET_EAI_BASE)
        return gai_strerror(net__eai_from_code(code));
    return errno_message(code < 0 ? -code : code);
}
