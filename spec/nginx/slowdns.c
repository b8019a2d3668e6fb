/* slowdns.c — preloaded into the test nginx (spec/nginx/run): a name lookup
 * of "slow.invalid" takes 2 s, then answers as "127.0.0.1" would, standing
 * in for a slow DNS server (the tests reach no network); one of
 * "nosuch.invalid" fails at once with EAI_NONAME, as an unknown name would.
 * Every other call is the C library's own. */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    static int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    if (real == NULL)
        real = (int (*)(const char *, const char *, const struct addrinfo *,
                        struct addrinfo **))dlsym(RTLD_NEXT, "getaddrinfo");
    if (node != NULL && strcmp(node, "nosuch.invalid") == 0 &&
        !(hints != NULL && (hints->ai_flags & AI_NUMERICHOST)))
        return EAI_NONAME;
    if (node != NULL && strcmp(node, "slow.invalid") == 0 &&
        !(hints != NULL && (hints->ai_flags & AI_NUMERICHOST))) {
        sleep(2);
        node = "127.0.0.1";
    }
    return real(node, service, hints, res);
}
