/* addr_fuzz.c — libFuzzer target over address parsing and formatting:
 * net_addr_inet (arbitrary host bytes, any port), net_addr_unix (arbitrary
 * path bytes and lengths), and net_addr_host / net_addr_port / net_addr_path
 * on what they built and on raw net_addr_t bytes, each writing into a buffer
 * of exactly the size it is given (so ASan sees any byte past it).
 *
 * Input: op (1 byte), size (1 byte), port (4 bytes), then the text. Besides
 * "no crash, no overflow", each call is held to its contract: a text result
 * fits the buffer with its NUL and has the length returned; a built address
 * formats back to text that builds the same address. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net.h"

#define REQUIRE(c)                                                            \
    do {                                                                      \
        if (!(c))                                                             \
            abort();                                                          \
    } while (0)

/* Formats addr into a buffer of exactly size bytes with fn; checks it. */
static void format(int (*fn)(const net_addr_t *, char *, size_t), const net_addr_t *addr,
                   size_t size, int binary)
{
    char *buf = malloc(size ? size : 1);
    int rc = fn(addr, buf, size);
    if (rc >= 0) {
        REQUIRE((size_t)rc < size && buf[rc] == '\0');
        if (!binary) /* text: no NUL before the end */
            REQUIRE(strlen(buf) == (size_t)rc);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 6)
        return 0;
    uint8_t op = data[0];
    size_t bufsize = data[1];
    int32_t port;
    memcpy(&port, data + 2, sizeof port);
    size_t len = size - 6;
    /* Exactly len bytes (net_addr_unix), and a NUL-terminated copy. */
    char *bytes = malloc(len ? len : 1);
    char *text = malloc(len + 1);
    memcpy(bytes, data + 6, len);
    memcpy(text, data + 6, len);
    text[len] = '\0';

    net_addr_t a, b;
    char host[NET_HOST_MAX + 64], again[NET_HOST_MAX + 64];
    switch (op % 3) {
    case 0: { /* inet from text */
        int rc = net_addr_inet(&a, text, port);
        if (port < 0 || port > 65535)
            REQUIRE(rc == -EINVAL);
        if (rc == 0) {
            REQUIRE(a.family == AF_INET || a.family == AF_INET6);
            REQUIRE(net_addr_port(&a) == port);
            int n = net_addr_host(&a, host, sizeof host);
            REQUIRE(n > 0 && (size_t)n == strlen(host));
            REQUIRE(net_addr_inet(&b, host, port) == 0);
            REQUIRE(b.family == a.family && net_addr_port(&b) == port);
            REQUIRE(net_addr_host(&b, again, sizeof again) == n);
            REQUIRE(strcmp(host, again) == 0);
            format(net_addr_host, &a, bufsize, 0);
            REQUIRE(net_addr_path(&a, host, sizeof host) == -EAFNOSUPPORT);
        }
        break;
    }
    case 1: { /* unix from bytes of len */
        int rc = net_addr_unix(&a, bytes, len);
        if (rc == 0) {
            REQUIRE(a.family == AF_UNIX);
            char path[NET_ADDR_STORAGE + 1];
            int n = net_addr_path(&a, path, sizeof path);
            REQUIRE(n == (int)len && memcmp(path, bytes, len) == 0);
            format(net_addr_path, &a, bufsize, 1);
            REQUIRE(net_addr_port(&a) == -EAFNOSUPPORT);
            REQUIRE(net_addr_host(&a, host, sizeof host) == -EAFNOSUPPORT);
        }
        break;
    }
    default: { /* raw bytes as a net_addr_t: whatever a caller could pass */
        memset(&a, 0, sizeof a);
        memcpy(&a, bytes, len < sizeof a ? len : sizeof a);
        format(net_addr_host, &a, bufsize, 0);
        format(net_addr_path, &a, bufsize, 1);
        (void)net_addr_port(&a);
        break;
    }
    }
    free(bytes);
    free(text);
    return 0;
}
