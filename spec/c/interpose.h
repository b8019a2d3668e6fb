/* interpose.h — for a C test that defines a C library function itself, to
 * see or steer how libnet calls it (an executable's definition comes before
 * libc's): REAL(fn) is the C library's fn, the next definition after the
 * test's, looked up on first use. A test that includes this header defines
 * _GNU_SOURCE before any system header (RTLD_NEXT needs it). */
#ifndef NET_SPEC_INTERPOSE_H
#define NET_SPEC_INTERPOSE_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static inline void *next_definition(const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);
    if (fn == NULL) {
        fprintf(stderr, "set-up failed: no definition of %s after this program's\n", name);
        exit(2);
    }
    return fn;
}

#define REAL(fn)                                                              \
    (__extension__({                                                          \
        static __typeof__(&fn) real_;                                         \
        if (real_ == NULL)                                                    \
            real_ = (__typeof__(&fn))next_definition(#fn);                    \
        real_;                                                                \
    }))

#endif
