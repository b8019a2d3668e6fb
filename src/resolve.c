/* resolve.c — getaddrinfo into fixed net_addrinfo_t records. */
#include "internal.h"

#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "resolve_codes.h"

static int ai_flags(int flags)
{
    return ((flags & NET_AI_PASSIVE) ? AI_PASSIVE : 0) |
           ((flags & NET_AI_CANONNAME) ? AI_CANONNAME : 0) |
           ((flags & NET_AI_NUMERICHOST) ? AI_NUMERICHOST : 0) |
           ((flags & NET_AI_NUMERICSERV) ? AI_NUMERICSERV : 0);
}

/* 0, or the code for a numeric service that is no port (or an empty one,
 * which would silently be port 0: an unset setting). getaddrinfo reads
 * a service strtoul takes whole as a number and keeps its low 16 bits
 * ("65537" is port 1, "-1" port 65535), so such a service must be a plain
 * decimal number from 0 to 65535; it fails like a service the resolver does
 * not know (EAI_SERVICE). A name ("http") is left to the resolver. */
static int check_service(const char *service)
{
    char *end;
    if (service == NULL)
        return 0;
    if (service[0] == '\0')
        return net__code_from_eai(EAI_SERVICE); /* getaddrinfo reads port 0 */
    errno = 0;
    unsigned long port = strtoul(service, &end, 10);
    if (*end != '\0')
        return 0; /* a name */
    if (strspn(service, "0123456789") != strlen(service) || errno == ERANGE ||
        port > 65535)
        return net__code_from_eai(EAI_SERVICE);
    return 0;
}

/* canon: the canonical name for out (NULL: none), shorter than
 * NET_CANONNAME_MAX (the caller checked). */
static void copy_record(net_addrinfo_t *out, const struct addrinfo *ai, const char *canon)
{
    memset(out, 0, sizeof *out);
    out->family = ai->ai_family;
    out->socktype = ai->ai_socktype;
    out->protocol = ai->ai_protocol;
    net__addr_from_sockaddr(&out->addr, ai->ai_addr, ai->ai_addrlen);
    if (canon)
        memcpy(out->canonname, canon, strlen(canon) + 1);
}

int net_getaddrinfo(const char *host, const char *service, int family,
                    int socktype, int protocol, int flags,
                    net_addrinfo_t *out, int max)
{
    const int known = NET_AI_PASSIVE | NET_AI_CANONNAME | NET_AI_NUMERICHOST |
                      NET_AI_NUMERICSERV;
    struct addrinfo hints, *res = NULL;
    char numeric_zone[INET6_ADDRSTRLEN + 16];
    const char *asked = host; /* before a zone's rewriting */
    int count = 0;

    if ((flags & ~known) || max < 0 || (max > 0 && out == NULL))
        return -EINVAL;
    int rc = check_service(service);
    if (rc < 0)
        return rc;
    if (host == NULL && service == NULL)
        service = "0"; /* getaddrinfo wants one of them: port 0, any address */
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_socktype = socktype;
    hints.ai_protocol = protocol;
    hints.ai_flags = ai_flags(flags);
    /* An address literal never goes near a resolver (DNS, NSS modules), so
     * reading one cannot block, whatever the C library would otherwise do;
     * its zone is read as net_addr_inet reads it. */
    if (net__addr_is_literal(host)) {
        hints.ai_flags |= AI_NUMERICHOST;
        if ((rc = net__addr_numeric_zone(&host, numeric_zone, sizeof numeric_zone)) < 0)
            return rc;
    }

    errno = 0;
    rc = getaddrinfo(host, service, &hints, &res);
    if (rc == EAI_SYSTEM)
        return errno ? NET_ERR() : -EIO;
    /* glibc reports a lookup that could not open /etc/hosts or a socket to
     * the DNS server (no descriptor left) as EAI_NONAME, "Name or service
     * not known", with errno saying why: a name may well exist, so say why. */
    if (rc != 0 && (errno == EMFILE || errno == ENFILE))
        return NET_ERR();
    if (rc != 0)
        return net__code_from_eai(rc);
    /* The canonical name (in the first record only), when asked for (musl
     * writes one always): a literal's is what the caller gave (the C
     * library would say the zone's rewritten form) */
    const char *canon = !(flags & NET_AI_CANONNAME) ? NULL
                      : res->ai_canonname && host != asked ? asked : res->ai_canonname;
    if (canon && strlen(canon) >= NET_CANONNAME_MAX) {
        freeaddrinfo(res);
        return -ENAMETOOLONG;
    }
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next, count++) {
        if (count < max)
            copy_record(&out[count], ai, ai == res ? canon : NULL);
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
