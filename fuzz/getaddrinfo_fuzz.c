/* getaddrinfo_fuzz.c — libFuzzer target over net_getaddrinfo's argument
 * handling with arbitrary host and service bytes, family, socktype,
 * protocol, flags and record count. NET_AI_NUMERICHOST | NET_AI_NUMERICSERV
 * are always set, so no name is ever looked up: no network, no resolver
 * configuration, a fast and repeatable run.
 *
 * Input: family, socktype, protocol, flags, max (1 byte each), then host and
 * service split at the first 0xff byte (a missing part is NULL when the
 * flags byte says so). Checked: the result is a count or a negative code
 * that net_strerror names; no more than max records are written; every
 * written record is an inet/inet6 address whose port is the service. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net.h"

#define REQUIRE(c)                                                            \
    do {                                                                      \
        if (!(c))                                                             \
            abort();                                                          \
    } while (0)

static const int families[] = {AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX, -1, 12345};
static const int socktypes[] = {0, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, -1};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    int family = families[data[0] % (sizeof families / sizeof *families)];
    int socktype = socktypes[data[1] % (sizeof socktypes / sizeof *socktypes)];
    int protocol = data[2] % 4 == 3 ? -1 : (data[2] % 4 == 1 ? IPPROTO_TCP : 0);
    int flags = (data[3] & 0x1f) | NET_AI_NUMERICHOST | NET_AI_NUMERICSERV;
    int max = data[4] % 5;
    const char *rest = (const char *)data + 5;
    size_t len = size - 5;
    const char *cut = memchr(rest, 0xff, len);
    size_t hlen = cut ? (size_t)(cut - rest) : len;
    size_t slen = cut ? len - hlen - 1 : 0;
    char *host = malloc(hlen + 1), *service = malloc(slen + 1);
    memcpy(host, rest, hlen);
    host[hlen] = '\0';
    memcpy(service, cut ? cut + 1 : "", slen);
    service[slen] = '\0';

    /* One record more than asked for: it must stay untouched. */
    net_addrinfo_t *out = malloc(sizeof *out * (size_t)(max + 1));
    memset(out, 0xa5, sizeof *out * (size_t)(max + 1));
    int rc = net_getaddrinfo((data[3] & 0x40) ? NULL : host,
                             (data[3] & 0x80) ? NULL : service, family, socktype,
                             protocol, flags, max ? out : NULL, max);
    if (flags & ~0x0f)
        REQUIRE(rc == -EINVAL); /* unknown flag bits */
    if (rc < 0) {
        REQUIRE(net_strerror(rc) != NULL && net_strerror(rc)[0] != '\0');
    } else {
        for (int i = 0; i < rc && i < max; i++) {
            REQUIRE(out[i].family == AF_INET || out[i].family == AF_INET6);
            REQUIRE(out[i].addr.family == out[i].family);
            REQUIRE(net_addr_port(&out[i].addr) >= 0);
            REQUIRE(out[i].canonname[NET_CANONNAME_MAX - 1] == '\0');
        }
        const unsigned char *spare = (const unsigned char *)&out[max];
        for (size_t i = 0; i < sizeof *out; i++)
            REQUIRE(spare[i] == 0xa5);
    }
    free(out);
    free(host);
    free(service);
    return 0;
}
