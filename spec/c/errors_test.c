/* errors_test.c — the library calls: net_version, net_strerror for errno
 * values, getaddrinfo codes and unknown codes, and the net_constants list. */
#define _GNU_SOURCE 1
#include <limits.h>
#include <netdb.h>
#include <poll.h>

#include "check.h"
#include "util.h"

static void test_version(void)
{
    CHECK_EQ(NET_VERSION_NUMBER, net_version());
    CHECK_EQ(10100, NET_VERSION_NUMBER); /* 1.1.0, as net.h says */
}

static void test_strerror(void)
{
    /* errno values, given negated (as results) or plain. */
    CHECK_STR("Bad file descriptor", net_strerror(-EBADF));
    CHECK_STR("Connection refused", net_strerror(-ECONNREFUSED));
    CHECK_STR("Bad file descriptor", net_strerror(EBADF));

    /* getaddrinfo codes: libc's own text, and they never collide with an
     * errno result. */
    CHECK_STR(gai_strerror(EAI_NONAME), net_strerror(EAI_RESULT(EAI_NONAME)));
    CHECK_STR(gai_strerror(EAI_AGAIN), net_strerror(EAI_RESULT(EAI_AGAIN)));
    CHECK_STR(gai_strerror(EAI_SERVICE), net_strerror(EAI_RESULT(EAI_SERVICE)));
    /* Every getaddrinfo code the library lists is below every errno result
     * (errno values stay under 4096, Linux's MAX_ERRNO). */
    CHECK(NET_EAI_BASE >= 4096);
    int eai_listed = 0;
    for (const net_constant_t *c = net_constants(); c->name != NULL; c++) {
        if (strncmp(c->name, "EAI_", 4) != 0)
            continue;
        eai_listed++;
        CHECK_(c->value <= -NET_EAI_BASE, "%s is %lld", c->name, (long long)c->value);
    }
    CHECK(eai_listed >= 8);

    /* Unknown codes of either kind and the extremes: net.h's "Unknown
     * error", never NULL. */
    static const int unknown[] = {-4000, 4000, -NET_EAI_BASE - 999, INT_MIN,
                                  INT_MAX, -NET_EAI_BASE};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *msg = net_strerror(unknown[i]);
        CHECK_(msg != NULL && strcmp(msg, "Unknown error") == 0,
               "net_strerror(%d) gave \"%s\"", unknown[i], msg ? msg : "(null)");
    }
}

/* Looks name up in the list; 1 and its value in *value when found. */
static int find_constant(const net_constant_t *list, const char *name,
                         int64_t *value)
{
    int found = 0;
    for (const net_constant_t *c = list; c->name; c++) {
        if (strcmp(c->name, name) == 0) {
            found++;
            *value = c->value;
        }
    }
    return found;
}

static void test_constants(void)
{
    static const struct {
        const char *name;
        int64_t value;
    } expected[] = {
        {"AF_INET", AF_INET}, {"AF_INET6", AF_INET6}, {"AF_UNIX", AF_UNIX},
        {"SOCK_STREAM", SOCK_STREAM}, {"SOCK_DGRAM", SOCK_DGRAM},
        {"IPPROTO_TCP", IPPROTO_TCP}, {"MSG_PEEK", MSG_PEEK},
        {"MSG_DONTWAIT", MSG_DONTWAIT}, {"SHUT_WR", SHUT_WR},
        {"SOMAXCONN", SOMAXCONN}, {"POLLIN", POLLIN}, {"POLLOUT", POLLOUT},
        {"EAGAIN", EAGAIN}, {"EPIPE", EPIPE}, {"EINPROGRESS", EINPROGRESS},
        /* getaddrinfo failures are listed as libnet result codes */
        {"EAI_NONAME", EAI_RESULT(EAI_NONAME)},
        {"EAI_SERVICE", EAI_RESULT(EAI_SERVICE)},
    };
    const net_constant_t *list = net_constants();
    CHECK(list != NULL);
    CHECK(list == net_constants()); /* one static table */
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        int64_t value = -1;
        int found = find_constant(list, expected[i].name, &value);
        CHECK_(found == 1, "%s listed once (found %d times)", expected[i].name,
               found);
        CHECK_EQ(expected[i].value, value);
    }

    /* Every entry is a plausible C name, and the list ends with {NULL, 0}. */
    size_t n = 0;
    while (n < 1000 && list[n].name)
        n++;
    CHECK(n > 20 && n < 1000);
    CHECK_EQ(0, list[n].value);
    for (size_t i = 0; i < n; i++) {
        int64_t ignored;
        CHECK_(find_constant(list, list[i].name, &ignored) == 1,
               "%s is listed once", list[i].name);
        CHECK_(strspn(list[i].name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
                   strlen(list[i].name),
               "%s is an upper-case C name", list[i].name);
    }
}

int main(void)
{
    const int fds_at_start = fd_count();
    test_version();
    test_strerror();
    test_constants();
    CHECK_EQ(fds_at_start, fd_count()); /* nothing leaked */
    return check_done("errors");
}
