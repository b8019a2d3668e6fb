/* check.h — the C tests' assertions: each failed check prints where and what
 * it saw, the run goes on, and check_done() prints the closing line
 * "N passed, M failed, K skipped" and gives the exit status. A check that
 * cannot run here (no privilege, a limit, a missing facility) is SKIPPED
 * with its reason, on a line "# skipped: ..." that scripts/test gathers. */
#ifndef NET_SPEC_CHECK_H
#define NET_SPEC_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed, check_skipped;

#define CHECK_(ok, fmt, ...)                                                  \
    do {                                                                      \
        if (ok) {                                                             \
            check_passed++;                                                   \
        } else {                                                              \
            check_failed++;                                                   \
            fprintf(stderr, "%s:%d: " fmt "\n", __FILE__, __LINE__,           \
                    __VA_ARGS__);                                             \
        }                                                                     \
    } while (0)

/* Integers (any width): expected first, as in "CHECK_EQ(0, rc)". */
#define CHECK_EQ(want, got)                                                   \
    do {                                                                      \
        long long w_ = (long long)(want), g_ = (long long)(got);              \
        CHECK_(w_ == g_, "%s == %s: expected %lld, got %lld", #want, #got,    \
               w_, g_);                                                       \
    } while (0)

/* Floating-point values, compared exactly: expected first. */
#define CHECK_DBL(want, got)                                                  \
    do {                                                                      \
        double w_ = (double)(want), g_ = (double)(got);                       \
        CHECK_(w_ == g_, "%s == %s: expected %.9g, got %.9g", #want, #got,    \
               w_, g_);                                                       \
    } while (0)

#define CHECK(cond) CHECK_((cond), "expected %s", #cond)

#define CHECK_STR(want, got)                                                  \
    do {                                                                      \
        const char *w_ = (want), *g_ = (got);                                 \
        CHECK_(g_ && strcmp(w_, g_) == 0, "%s: expected \"%s\", got \"%s\"",  \
               #got, w_, g_ ? g_ : "(null)");                                 \
    } while (0)

/* A check (or a group of them) that cannot run here, and why. */
#define SKIPPED(...)                                                          \
    do {                                                                      \
        check_skipped++;                                                      \
        printf("# skipped: " __VA_ARGS__);                                    \
        printf("\n");                                                         \
    } while (0)

static inline int check_done(const char *name)
{
    printf("%s: %d passed, %d failed, %d skipped\n", name, check_passed, check_failed,
           check_skipped);
    return check_failed ? 1 : 0;
}

#endif
