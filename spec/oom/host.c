/*
 * oom_host — runs spec/oom/ops.lua under an allocator that fails, and
 * checks that lua-net loses no descriptor to a memory error (PUC Lua raises
 * one from any allocation: after a descriptor was made and before an object
 * owns it, it would be lost).
 *
 * For every operation the script names and every N from 0 up, a fresh Lua
 * state runs the script with OP set; the script sets up, then calls arm()
 * and runs the operation in pcall: from then on allocation N fails ("one"
 * mode: that one only; "all" mode: it and every later one, which defeats
 * 5.4's emergency collection). Once the operation runs through without a
 * failed allocation, the next one follows. After lua_close (which runs
 * every finalizer), the process must hold the descriptors it held before.
 * Nor memory: the heap in use after lua_close must be what it was before
 * the run (mallinfo2; C code of lua-net mallocs beside the Lua allocator).
 * The script may also check, disarmed, that what the failed operation left
 * is whole, and call broken(message) when it is not. Exit status 1 on any
 * descriptor or memory left over or anything broken.
 *
 * Usage: oom_host ops.lua, with the package paths the busted suite has.
 */
#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#define N_MAX 2000 /* allocations an operation may make before it is cut off */

static long armed = -1; /* the failing allocation, -1 when unarmed */
static long made;       /* allocations since arm() */
static int fail_all;    /* "all" mode */
static int failed;      /* an allocation failed since arm() */
static int ended_armed; /* the last run ended before disarm(): raised while armed */

static void *allocate(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    if (armed >= 0 && (ptr == NULL || nsize > osize)) {
        long i = made++;
        if (i == armed || (fail_all && i > armed)) {
            failed = 1;
            return NULL;
        }
    }
    return realloc(ptr, nsize);
}

static int l_arm(lua_State *L)
{
    (void)L;
    made = 0;
    failed = 0;
    armed = (long)lua_tonumber(L, lua_upvalueindex(1));
    return 0;
}

static int l_disarm(lua_State *L)
{
    armed = -1;
    lua_pushboolean(L, failed);
    return 1;
}

static int broken; /* broken() calls: objects a memory error left unusable */

static int l_broken(lua_State *L)
{
    printf("BROKEN %s\n", luaL_checkstring(L, 1));
    broken++;
    return 0;
}

static int open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own */
}

/* glibc keeps freed chunks in per-thread caches and fast bins, which
 * mallinfo2 counts as in use: the heap would grow for a while with nothing
 * leaked. The host runs without them (the tunables are read at start: it
 * runs itself again with them set). */
#define TUNED "glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0"

static void run_tuned(char **argv)
{
    const char *set = getenv("GLIBC_TUNABLES");
    if (set != NULL && strstr(set, TUNED) != NULL)
        return;
    size_t size = (set ? strlen(set) + 1 : 0) + sizeof TUNED;
    char *all = malloc(size);
    if (all == NULL) {
        perror("oom_host");
        exit(2);
    }
    snprintf(all, size, "%s%s%s", set ? set : "", set ? ":" : "", TUNED);
    setenv("GLIBC_TUNABLES", all, 1);
    execv("/proc/self/exe", argv);
    perror("oom_host: execv /proc/self/exe");
    exit(2);
}

/* Bytes malloc holds for the program: small chunks and mmapped ones (a
 * block of 128 KiB or more) */
static size_t heap_in_use(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

/* A new state that ran script with OP = op (NULL: nil), arm() arming
 * allocation n; *ok tells whether the script ran through (its result, or
 * its error, on the stack). The caller closes it. */
static lua_State *run(const char *script, const char *op, long n, int *ok)
{
    lua_State *L;
    failed = 0;
    L = lua_newstate(allocate, NULL);
    if (L == NULL)
        return NULL;
    luaL_openlibs(L);
    lua_pushnumber(L, (lua_Number)n);
    lua_pushcclosure(L, l_arm, 1);
    lua_setglobal(L, "arm");
    lua_pushcfunction(L, l_disarm);
    lua_setglobal(L, "disarm");
    lua_pushcfunction(L, l_broken);
    lua_setglobal(L, "broken");
    if (op != NULL) {
        lua_pushstring(L, op);
        lua_setglobal(L, "OP");
    }
    *ok = luaL_dofile(L, script) == 0;
    ended_armed = armed >= 0;
    armed = -1;
    return L;
}

int main(int argc, char **argv)
{
    int ok, leaks = 0, runs = 0;
    lua_State *L;
    char ops[32][32];
    int nops = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s ops.lua\n", argv[0]);
        return 2;
    }
    run_tuned(argv);
    static char out[BUFSIZ]; /* stdout's buffer, not one malloc'd mid-run */
    setvbuf(stdout, out, _IOLBF, sizeof out);
    /* the operations: what the script returns without OP */
    L = run(argv[1], NULL, -1, &ok);
    if (L == NULL || !ok || !lua_istable(L, -1)) {
        fprintf(stderr, "%s: %s\n", argv[1], L && !ok ? lua_tostring(L, -1) : "no list of operations");
        return 2;
    }
    for (int i = 1; nops < 32; i++) {
        lua_rawgeti(L, -1, i);
        if (!lua_isstring(L, -1))
            break;
        snprintf(ops[nops++], sizeof ops[0], "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    lua_close(L);
    /* what a process allocates once (the C library's own state for loading
     * modules) is allocated here, before any run is measured */
    L = run(argv[1], ops[0], -1, &ok);
    if (L == NULL || !ok) {
        fprintf(stderr, "%s %s: %s\n", argv[1], ops[0], L ? lua_tostring(L, -1) : "no state");
        return 2;
    }
    lua_close(L);

    for (int mode = 0; mode < 2; mode++) {
        fail_all = mode;
        for (int k = 0; k < nops; k++) {
            long n;
            for (n = 0; n < N_MAX; n++) {
                int before = open_fds(), after, done;
                size_t heap = heap_in_use(), heap_after;
                L = run(argv[1], ops[k], n, &ok);
                if (L == NULL)
                    return 2;
                done = ok && lua_toboolean(L, -1); /* true: ran through unfailed */
                /* An error raised while armed, after an allocation failed, is
                 * the memory error escaping; one raised once disarmed is the
                 * script's own (its checks of what the operation left). */
                if (!ok && !(failed && ended_armed)) {
                    fprintf(stderr, "%s %s: %s\n", ops[k], fail_all ? "all" : "one",
                            lua_tostring(L, -1));
                    return 2;
                }
                lua_close(L);
                runs++;
                after = open_fds();
                if (after != before) {
                    printf("LEAK %s, allocation %ld failing (%s): %d descriptors before, %d after\n",
                           ops[k], n, fail_all ? "and all later" : "alone", before, after);
                    leaks++;
                }
                heap_after = heap_in_use();
                if (heap_after != heap) {
                    printf("LEAK %s, allocation %ld failing (%s): %zu bytes in use before, %zu after\n",
                           ops[k], n, fail_all ? "and all later" : "alone", heap, heap_after);
                    leaks++;
                }
                if (done)
                    break;
            }
            if (n == N_MAX) {
                fprintf(stderr, "%s: not through after %d allocations\n", ops[k], N_MAX);
                return 2;
            }
        }
    }
    printf("%d runs of %d operations, %d with a descriptor or memory left over, %d broken\n", runs, nops,
           leaks, broken);
    return leaks || broken ? 1 : 0;
}
