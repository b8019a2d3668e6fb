/* resolve.c — getaddrinfo into fixed net_addrinfo_t records. */
#include "internal.h"

#include <netdb.h>
#include <string.h>

#include "resolve_codes.h"

static int ai_flags(int flags)
{
    return ((flags & NET_AI_PASSIVE) ? AI_PASSIVE : 0) |
           ((flags & NET_AI_CANONNAME) ? AI_CANONNAME : 0) |
           ((flags & NET_AI_NUMERICHOST) ? AI_NUMERICHOST : 0) |
           ((flags & NET_AI_NUMERICSERV) ? AI_NUMERICSERV : 0);
}

static void copy_record(net_addrinfo_t *out, const struct addrinfo *ai)
{
    memset(out, 0, sizeof *out);
    out->family = ai->ai_family;
    out->socktype = ai->ai_socktype;
    out->protocol = ai->ai_protocol;
    net__addr_from_sockaddr(&out->addr, ai->ai_addr, ai->ai_addrlen);
    if (ai->ai_canonname) {
        strncpy(out->canonname, ai->ai_canonname, NET_CANONNAME_MAX - 1);
        out->canonname[NET_CANONNAME_MAX - 1] = '\0';
    }
}

int net_getaddrinfo(const char *host, const char *service, int family,
                    int socktype, int protocol, int flags,
                    net_addrinfo_t *out, int max)
{
    const int known = NET_AI_PASSIVE | NET_AI_CANONNAME | NET_AI_NUMERICHOST |
                      NET_AI_NUMERICSERV;
    struct addrinfo hints, *res = NULL;
    int count = 0;

    if ((flags & ~known) || max < 0 || (max > 0 && out == NULL))
        return -EINVAL;
    if (host == NULL && service == NULL)
        service = "0"; /* getaddrinfo wants one of them: port 0, any address */
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_socktype = socktype;
    hints.ai_protocol = protocol;
    hints.ai_flags = ai_flags(flags);

    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc == EAI_SYSTEM)
        return errno ? NET_ERR() : -EIO;
    if (rc != 0)
        return net__code_from_eai(rc);
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next, count++) {
        if (count < max)
            copy_record(&out[count], ai);
    }
    freeaddrinfo(res);
    return count;
}

int net_getaddrinfo_unix(const char *path, size_t len, int socktype,
                         net_addrinfo_t *out)
{
    if (out == NULL)
        return -EINVAL;
    net_addrinfo_t rec;
    memset(&rec, 0, sizeof rec);
    int rc = net_addr_unix(&rec.addr, path, len);
    if (rc < 0)
        return rc;
    rec.family = AF_UNIX;
    rec.socktype = socktype;
    *out = rec;
    return 1;
}
