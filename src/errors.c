/* errors.c — result codes to messages; the library's version. */
#include "internal.h"

#include <netdb.h>
#include <string.h>

#include "resolve_codes.h"

int net_version(void) { return NET_VERSION_NUMBER; }

/* strerror(3) may write a shared buffer; glibc's strerrordesc_np returns a
 * static string and is reentrant. Elsewhere, fall back to strerror, whose
 * text for a known errno is static on musl, the BSDs and macOS; for a
 * number that names none each has a text of its own ("No error
 * information": musl; "Unknown error: N", in a shared buffer: the BSDs,
 * macOS), which is net.h's one "Unknown error" here. */
static const char *errno_message(int errnum)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
    const char *msg = strerrordesc_np(errnum);
    return msg ? msg : "Unknown error";
#else
    const char *msg = strerror(errnum);
    if (errnum != 0 && (strncmp(msg, "Unknown error", 13) == 0 ||
                        strcmp(msg, "No error information") == 0))
        return "Unknown error";
    return msg;
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
