/*
 * pollset.c — poll sets: readiness of many descriptors at once (net.h,
 * "readiness of many descriptors").
 *
 * Two backends behind one API:
 *  - epoll where the platform has it (NET_HAVE_EPOLL, internal.h): the set's
 *    handle is the epoll descriptor;
 *  - poll(2) everywhere else, or when built with NET_POLLSET_FORCE_POLL (the
 *    C tests build it that way on Linux too, so it is compiled and tested):
 *    the handle is a descriptor that reserves a number (a dup of the read
 *    end of the set's own pipe, which a change during a wait writes a byte
 *    to: the read end is in every wait's poll, so the wait takes the change
 *    in at once, as epoll does), and the registrations live in memory.
 * Never select(2): no FD_SETSIZE limit, descriptors above 1024 work.
 *
 * Both keep, per set, a table indexed by descriptor of what the caller
 * registered: the caller's 64-bit word and a registration number (seq). The
 * caller's word needs all 64 bits, and epoll hands back only the one word
 * it was given, so the kernel gets (seq << 32 | fd) and the table gives back
 * the caller's word. The seq is what keeps a stale kernel registration (an
 * fd closed without DEL while a dup of it lives on, see epoll(7)) from being
 * reported as the descriptor that now has its number: its events carry a seq
 * the table no longer holds and are dropped. The table is also the one
 * notion of "registered" both backends share: ADD of a number it holds is
 * -EEXIST until that number is DELeted, whether or not it was closed.
 *
 * Sets are found by their handle in a process-wide registry; each set has its
 * own lock, never held while waiting, and a reference count so a set closed
 * by one thread while another still uses it is freed by the last user.
 *
 * A set belongs to the process that made it. An epoll set is a kernel
 * object that fork() shares: a child's DEL (a child closing its copy of a
 * registered socket, as a fork-per-connection server does with its
 * listener) would remove the parent's registration, and a child's ADD would
 * wake the parent's waits. So in a child a set made before the fork is no
 * set (-EBADF) for ctl and wait; net_poll_close closes the child's copy of
 * its handle. The poll(2) backend, whose sets fork copies, does the same:
 * nothing depends on the platform.
 */
#include "internal.h"

#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if NET_POLLSET_EPOLL
#define USE_EPOLL 1
#include <sys/epoll.h>
#endif

/* One registered descriptor. seq 0: the number is not registered. */
typedef struct slot {
    uint64_t data;   /* the caller's word */
    uint32_t seq;    /* this registration's number within the set */
    uint32_t events; /* POLL* bits asked for */
#ifndef USE_EPOLL
    int index;       /* its entry in the set's pollfd array */
#endif
} slot_t;

typedef struct set {
    pthread_mutex_t lock; /* guards everything below */
    int refs;             /* the registry's reference + one per call in progress */
    unsigned born;        /* the value of forks when it was made */
    slot_t *slots;        /* indexed by fd */
    int nslots;
    uint32_t next_seq;
    int handle;           /* -1, or the handle net_poll_close left for the
                           * last reference to close (epoll: see there) */
#ifndef USE_EPOLL
    struct pollfd *pfds;  /* the registered descriptors, packed */
    int npfds, cap;
    int start;            /* where the next wait's scan of results begins:
                           * when more are ready than max, each gets its
                           * turn (as epoll's ready list rotates) */
    int wake[2];          /* the set's own pipe (-1: none): the waits poll
                           * [0], a change writes to [1]; never the handle,
                           * whose number a close frees during a wait */
    int waiting;          /* waits in poll(2) now */
#endif
} set_t;

/* ---- the registry: handle -> set -------------------------------------- */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static set_t **registry;
static int registry_size;
static int registry_count; /* sets in it: the array is freed at 0, so a
                            * process that closed its sets holds nothing of
                            * this library (and unloading it leaks nothing) */

static void set_free(set_t *s)
{
    pthread_mutex_destroy(&s->lock);
    free(s->slots);
#ifndef USE_EPOLL
    free(s->pfds);
    for (int i = 0; i < 2; i++)
        if (s->wake[i] >= 0)
            close(s->wake[i]);
#endif
    free(s);
}

/* ---- fork: a set is its maker's ---------------------------------------- */

/* How many fork()s made this process from the one that loaded libnet: each
 * child's is one more than its parent's. Written only by fork's child
 * handler, while the child has one thread. */
static unsigned forks;

/* The registry's lock is taken across fork(), so that the child never
 * inherits it held by a thread that is not there. */
static void fork_prepare(void) { pthread_mutex_lock(&registry_lock); }
static void fork_parent(void) { pthread_mutex_unlock(&registry_lock); }
/* In the child only the forking thread lives on: the references other
 * threads held (waits under way) and the set locks they may have held went
 * with them. Each set keeps the registry's reference alone, and a lock
 * made anew, so that net_poll_close frees it (the sets were made before
 * the fork: nothing else in the child can use them). */
static void fork_child(void)
{
    int i;
    forks++;
    for (i = 0; i < registry_size; i++) {
        if (registry[i] != NULL) {
            registry[i]->refs = 1;
            pthread_mutex_init(&registry[i]->lock, NULL);
        }
    }
    pthread_mutex_unlock(&registry_lock);
}

static pthread_once_t fork_handlers_once = PTHREAD_ONCE_INIT;
static int fork_handlers_rc; /* pthread_atfork's result, for every create */
static void install_fork_handlers(void)
{
    fork_handlers_rc = pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static void release(set_t *s)
{
    int last;
    pthread_mutex_lock(&registry_lock);
    last = --s->refs == 0;
    pthread_mutex_unlock(&registry_lock);
    if (last) {
        if (s->handle >= 0)
            close(s->handle); /* never retried: see net_sock_close */
        set_free(s);
    }
}

/* The set whose handle is pfd, with a reference the caller releases; NULL
 * when pfd is no set of this library, or one made before a fork. */
static set_t *acquire(int pfd)
{
    set_t *s = NULL;
    pthread_mutex_lock(&registry_lock);
    if (pfd >= 0 && pfd < registry_size && registry[pfd] != NULL &&
        registry[pfd]->born == forks) {
        s = registry[pfd];
        s->refs++;
    }
    pthread_mutex_unlock(&registry_lock);
    return s;
}

/* Enters s under the handle pfd. A set still recorded there had its handle
 * closed by plain close(2) (not net_poll_close): the kernel reused the
 * number, so that record is dropped now. */
static int registry_put(int pfd, set_t *s)
{
    set_t *old = NULL;
    pthread_mutex_lock(&registry_lock);
    if (pfd >= registry_size) {
        int size = registry_size ? registry_size : 16;
        set_t **grown;
        while (size <= pfd)
            size *= 2;
        grown = realloc(registry, (size_t)size * sizeof *grown);
        if (grown == NULL) {
            pthread_mutex_unlock(&registry_lock);
            return -ENOMEM;
        }
        memset(grown + registry_size, 0, (size_t)(size - registry_size) * sizeof *grown);
        registry = grown;
        registry_size = size;
    }
    old = registry[pfd];
    registry[pfd] = s;
    if (old == NULL)
        registry_count++;
    pthread_mutex_unlock(&registry_lock);
    if (old)
        release(old);
    return 0;
}

/* Removes pfd's set from the registry; the caller owns the reference the
 * registry held. */
static set_t *registry_take(int pfd)
{
    set_t *s = NULL;
    pthread_mutex_lock(&registry_lock);
    if (pfd >= 0 && pfd < registry_size && registry[pfd] != NULL) {
        s = registry[pfd];
        registry[pfd] = NULL;
        if (--registry_count == 0) {
            free(registry);
            registry = NULL;
            registry_size = 0;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    return s;
}

/* ---- slots -------------------------------------------------------------- */

/* The slot of fd, grown into when grow is set; NULL when fd has none (or
 * memory ran out: *err says which). Called with s->lock held. */
static slot_t *slot_of(set_t *s, int fd, int grow, int *err)
{
    *err = -ENOENT;
    if (fd < s->nslots)
        return &s->slots[fd];
    if (!grow)
        return NULL;
    /* Growing is for a number that is open: a bad one must not leave
     * gigabytes of slots behind. No descriptor is INT_MAX (the kernel's
     * limit stays below it), so size below ends above fd. */
    if (fd == INT_MAX || fcntl(fd, F_GETFD) < 0) {
        *err = fd == INT_MAX ? -EBADF : NET_ERR();
        return NULL;
    }
    {
        int size = s->nslots ? s->nslots : 64;
        slot_t *grown;
        while (size <= fd)
            size = size > INT_MAX / 2 ? INT_MAX : size * 2;
        grown = realloc(s->slots, (size_t)size * sizeof *grown);
        if (grown == NULL) {
            *err = -ENOMEM;
            return NULL;
        }
        memset(grown + s->nslots, 0, (size_t)(size - s->nslots) * sizeof *grown);
        s->slots = grown;
        s->nslots = size;
    }
    return &s->slots[fd];
}

static uint32_t new_seq(set_t *s)
{
    if (++s->next_seq == 0) /* 0 means "not registered" */
        s->next_seq = 1;
    return s->next_seq;
}

/* The events a caller may ask for; POLLERR and POLLHUP are always reported
 * and may be given (they change nothing). */
#define ASKABLE (POLLIN | POLLOUT | POLLPRI)
#define ALWAYS (POLLERR | POLLHUP)

#ifdef USE_EPOLL
/* ======================= epoll ============================================ */

static uint32_t to_epoll(uint32_t ev)
{
    return ((ev & POLLIN) ? EPOLLIN : 0) | ((ev & POLLOUT) ? EPOLLOUT : 0) |
           ((ev & POLLPRI) ? EPOLLPRI : 0);
}

static uint32_t from_epoll(uint32_t ev)
{
    return ((ev & EPOLLIN) ? POLLIN : 0) | ((ev & EPOLLOUT) ? POLLOUT : 0) |
           ((ev & EPOLLPRI) ? POLLPRI : 0) | ((ev & EPOLLERR) ? POLLERR : 0) |
           ((ev & EPOLLHUP) ? POLLHUP : 0);
}

static int backend_open(set_t *s, int flags)
{
    int fd = epoll_create1((flags & NET_CLOEXEC) ? EPOLL_CLOEXEC : 0);
    (void)s;
    return fd < 0 ? NET_ERR() : fd;
}

static int backend_ctl(int pfd, set_t *s, int op, int fd, slot_t *slot,
                       uint32_t events, uint32_t seq)
{
    struct epoll_event ev;
    int kop = op == NET_POLL_ADD ? EPOLL_CTL_ADD
            : op == NET_POLL_MOD ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
    memset(&ev, 0, sizeof ev);
    ev.events = to_epoll(events);
    ev.data.u64 = ((uint64_t)seq << 32) | (uint32_t)fd;
    (void)s;
    (void)slot;
    if (epoll_ctl(pfd, kop, fd, &ev) < 0) {
        int err = NET_ERR();
        /* ADD of a number libnet has no registration for (net_poll_ctl
         * checked) that the kernel has: a descriptor closed without DEL while
         * a dup kept its file open, and that file is back under the same
         * number (dup2, the same file passed again). Its old entry, stale,
         * makes way for this one. */
        if (op == NET_POLL_ADD && err == -EEXIST &&
            epoll_ctl(pfd, EPOLL_CTL_DEL, fd, &ev) == 0)
            /* the stale entry is gone: the new ADD's result is the call's
             * (-ENOSPC past max_user_watches, say), not the -EEXIST */
            return epoll_ctl(pfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : NET_ERR();
        /* MOD of a number libnet has a registration for that the kernel
         * has not: it was closed without DEL (the kernel forgot its file)
         * and now names another file. Registered is libnet's notion (ADD
         * says -EEXIST), so MOD watches that file, as poll(2) does; its
         * registration number is a new one (net_poll_ctl), so a stale entry
         * of the old file cannot pass for it. */
        if (op == NET_POLL_MOD && err == -ENOENT)
            return epoll_ctl(pfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : NET_ERR();
        /* DEL of a number that was closed without DEL: the kernel dropped
         * the registration by itself (or keeps a stale one for a dup, whose
         * events the seq check drops); either way the number is free now. */
        if (op == NET_POLL_DEL && (err == -ENOENT || err == -EBADF))
            return 0;
        return err;
    }
    return 0;
}

/*
 * The kernel writes its records straight into out: a struct epoll_event is
 * no larger than a net_poll_event_t, so n of them fit in n records. They are
 * then rewritten in place from the last to the first: record i covers bytes
 * from i * sizeof(net_poll_event_t) on, at or after the epoll records not
 * yet read (those below i), so nothing is overwritten before it is read.
 */
_Static_assert(sizeof(struct epoll_event) <= sizeof(net_poll_event_t),
               "epoll records are written into the caller's records");

static int backend_wait(int pfd, set_t *s, net_poll_event_t *out, int max, int ms)
{
    int n = epoll_wait(pfd, (struct epoll_event *)(void *)out, max, ms);
    int i, kept = 0;
    if (n < 0)
        return NET_ERR();
    pthread_mutex_lock(&s->lock);
    for (i = n - 1; i >= 0; i--) {
        struct epoll_event ev;
        net_poll_event_t rec;
        int fd;
        uint32_t seq;
        memcpy(&ev, (char *)out + (size_t)i * sizeof ev, sizeof ev);
        fd = (int)(uint32_t)ev.data.u64;
        seq = (uint32_t)(ev.data.u64 >> 32);
        rec.fd = -1; /* dropped unless the registration is the current one */
        rec.events = 0;
        rec.data = 0;
        if (fd >= 0 && fd < s->nslots && s->slots[fd].seq == seq) {
            rec.fd = fd;
            rec.events = from_epoll(ev.events);
            rec.data = s->slots[fd].data;
        }
        memcpy(&out[i], &rec, sizeof rec);
    }
    pthread_mutex_unlock(&s->lock);
    for (i = 0; i < n; i++)
        if (out[i].fd >= 0)
            out[kept++] = out[i];
    return kept;
}

#else
/* ======================= poll(2) ========================================== */

/* The set's pipe (s->wake: non-blocking, so a wake-up never blocks ctl and
 * a drain never blocks a wait; close-on-exec, as the set's own) and the
 * handle, a dup of its read end (close-on-exec as flags say). The pipe is
 * born close-on-exec where the platform can (pipe2): a fork and exec in
 * another thread between pipe() and fcntl() would hand both ends to the
 * new program. Elsewhere (macOS) that moment remains, as for its sockets,
 * which are made close-on-exec after creation too. */
static int backend_open(set_t *s, int flags)
{
    int handle;
#ifdef NET_HAVE_PIPE2
    if (pipe2(s->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
        s->wake[0] = s->wake[1] = -1;
        return NET_ERR();
    }
#else
    int i;
    if (pipe(s->wake) < 0) {
        s->wake[0] = s->wake[1] = -1;
        return NET_ERR();
    }
    for (i = 0; i < 2; i++) {
        int rc = net__set_fd_flags(s->wake[i], NET_NONBLOCK | NET_CLOEXEC);
        if (rc < 0)
            return rc; /* (set_free closes the pipe) */
    }
#endif
    handle = fcntl(s->wake[0], (flags & NET_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
    return handle < 0 ? NET_ERR() : handle;
}

/* With s->lock held: a change wakes the waits in progress (a byte in the
 * pipe; a full pipe has one waiting already). */
static void wake_waits(set_t *s)
{
    if (s->waiting > 0) {
        char byte = 0;
        ssize_t rc = write(s->wake[1], &byte, 1);
        (void)rc;
    }
}

/* With s->lock held. */
static int backend_ctl(int pfd, set_t *s, int op, int fd, slot_t *slot,
                       uint32_t events, uint32_t seq)
{
    (void)pfd;
    (void)seq;
    if (op == NET_POLL_ADD) {
        if (s->npfds == s->cap) {
            int cap = s->cap ? s->cap * 2 : 64;
            struct pollfd *grown = realloc(s->pfds, (size_t)cap * sizeof *grown);
            if (grown == NULL)
                return -ENOMEM;
            s->pfds = grown;
            s->cap = cap;
        }
        slot->index = s->npfds++;
        s->pfds[slot->index].fd = fd;
    } else if (op == NET_POLL_DEL) {
        int last = --s->npfds;
        if (slot->index != last) { /* the last entry takes its place */
            s->pfds[slot->index] = s->pfds[last];
            s->slots[s->pfds[slot->index].fd < 0 ? -s->pfds[slot->index].fd - 1
                                                 : s->pfds[slot->index].fd]
                .index = slot->index;
        }
        wake_waits(s);
        return 0;
    }
    /* ADD and MOD; a number poll(2) ignored after POLLNVAL is watched again */
    s->pfds[slot->index].fd = fd;
    s->pfds[slot->index].events = (short)events;
    s->pfds[slot->index].revents = 0;
    wake_waits(s);
    return 0;
}

/* The registrations are copied out under the lock and polled without it, so
 * a wait never holds up net_poll_ctl from another thread; the set's pipe is
 * polled with them, and a change during the wait (wake_waits) ends it with
 * 0, for net_poll_wait to wait again on a fresh copy with the time left.
 * (With several threads waiting in one set, the first to drain the byte
 * takes the change in; the others may go on with their copies.) Each copy
 * remembers the seq of its registration: a result for a registration
 * changed meanwhile is dropped. */
static int backend_wait(int pfd, set_t *s, net_poll_event_t *out, int max, int ms)
{
    struct pollfd *copy;
    uint32_t *seqs;
    int n, i, j, first, count, kept = 0, err;
    (void)pfd;
    pthread_mutex_lock(&s->lock);
    count = s->npfds;
    copy = malloc((size_t)(count + 1) * (sizeof *copy + sizeof *seqs));
    if (copy == NULL) {
        pthread_mutex_unlock(&s->lock);
        return -ENOMEM;
    }
    seqs = (uint32_t *)(void *)(copy + count + 1);
    for (i = 0; i < count; i++) {
        int fd = s->pfds[i].fd < 0 ? -s->pfds[i].fd - 1 : s->pfds[i].fd;
        copy[i] = s->pfds[i];
        seqs[i] = s->slots[fd].seq;
    }
    copy[count].fd = s->wake[0]; /* the wake-up (the last: results scan the rest) */
    copy[count].events = POLLIN;
    copy[count].revents = 0;
    s->waiting++;
    pthread_mutex_unlock(&s->lock);

    n = poll(copy, (nfds_t)count + 1, ms);
    err = n < 0 ? NET_ERR() : 0;
    pthread_mutex_lock(&s->lock);
    s->waiting--;
    if (n < 0) {
        pthread_mutex_unlock(&s->lock);
        free(copy);
        return err;
    }
    if (copy[count].revents) {
        char drain[64];
        while (read(s->wake[0], drain, sizeof drain) > 0)
            ;
        n--;
    }
    first = count ? s->start % count : 0;
    for (j = 0; j < count && n > 0 && kept < max; j++) {
        int fd;
        slot_t *slot;
        i = (first + j) % count;
        fd = copy[i].fd;
        if (copy[i].revents == 0)
            continue;
        n--;
        s->start = i + 1;
        if (fd < 0 || fd >= s->nslots || s->slots[fd].seq != seqs[i])
            continue; /* changed or removed during the wait */
        slot = &s->slots[fd];
        if (copy[i].revents & POLLNVAL) {
            /* Closed without DEL. epoll forgets such a descriptor by itself;
             * here poll(2) is told to skip it (a negative fd), so it is never
             * reported and never wakes a wait; the number stays registered
             * until DEL, as with epoll. */
            s->pfds[slot->index].fd = -fd - 1;
            continue;
        }
        out[kept].fd = fd;
        out[kept].events = (uint32_t)copy[i].revents & (ASKABLE | ALWAYS);
        out[kept].data = slot->data;
        kept++;
    }
    pthread_mutex_unlock(&s->lock);
    free(copy);
    return kept;
}
#endif

/* ======================= the API ========================================== */

int net_poll_create(int flags)
{
    set_t *s;
    int pfd, rc;
    if (flags & ~NET_CLOEXEC)
        return -EINVAL;
    if (pthread_once(&fork_handlers_once, install_fork_handlers) != 0 || fork_handlers_rc != 0)
        return -ENOMEM; /* without its handlers a child could act on the parent's sets */
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->born = forks;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        return -ENOMEM;
    }
    s->refs = 1; /* the registry's */
    s->handle = -1;
#ifndef USE_EPOLL
    s->wake[0] = s->wake[1] = -1;
#endif
    pfd = backend_open(s, flags);
    if (pfd < 0) {
        set_free(s);
        return pfd;
    }
    rc = registry_put(pfd, s);
    if (rc < 0) {
        close(pfd);
        set_free(s);
        return rc;
    }
    return pfd;
}

int net_poll_ctl(int pfd, int op, int fd, uint32_t events, uint64_t data)
{
    set_t *s;
    slot_t *slot;
    int rc, err;
    if (op != NET_POLL_ADD && op != NET_POLL_MOD && op != NET_POLL_DEL)
        return -EINVAL;
    if (events & ~(uint32_t)(ASKABLE | ALWAYS))
        return -EINVAL;
    s = acquire(pfd);
    if (s == NULL)
        return -EBADF;
    if (fd < 0 || fd == pfd) {
        release(s);
        return fd < 0 ? -EBADF : -EINVAL;
    }
    events &= ASKABLE;
    pthread_mutex_lock(&s->lock);
    slot = slot_of(s, fd, op == NET_POLL_ADD, &err);
    if (slot == NULL) {
        rc = err;
    } else if (op == NET_POLL_ADD) {
        if (slot->seq != 0) {
            rc = -EEXIST;
        } else {
            uint32_t seq = new_seq(s);
#ifndef USE_EPOLL
            /* poll(2) would only report POLLNVAL later: say it now */
            rc = fcntl(fd, F_GETFD) < 0 ? NET_ERR() : 0;
            if (rc == 0)
#endif
                rc = backend_ctl(pfd, s, op, fd, slot, events, seq);
            if (rc == 0) {
                slot->seq = seq;
                slot->events = events;
                slot->data = data;
            }
        }
    } else if (slot->seq == 0) {
        rc = -ENOENT;
    } else if (op == NET_POLL_MOD) {
        /* a new registration number: events of the old one still on their
         * way are dropped (the wait looks again, level-triggered), and an
         * epoll MOD that must ADD (see backend_ctl) is told from the file
         * that had the number */
        uint32_t seq = new_seq(s);
        rc = backend_ctl(pfd, s, op, fd, slot, events, seq);
        if (rc == 0) {
            slot->seq = seq;
            slot->events = events;
            slot->data = data;
        }
    } else {
        rc = backend_ctl(pfd, s, op, fd, slot, events, slot->seq);
        if (rc == 0)
            slot->seq = 0;
    }
    pthread_mutex_unlock(&s->lock);
    release(s);
    return rc;
}

int net_poll_wait(int pfd, net_poll_event_t *out, int max, double timeout)
{
    set_t *s;
    const int forever = timeout < 0;
    double deadline;
    int n;
    if (isnan(timeout) || max <= 0 || out == NULL)
        return -EINVAL;
    s = acquire(pfd);
    if (s == NULL)
        return -EBADF;
    deadline = forever ? 0 : net_now() + timeout;
    /* Once more when every event was dropped (a stale registration), or
     * the wait returned at net__remaining_ms's cap: with the time that is
     * left, never a fresh timeout. */
    for (;;) {
        n = backend_wait(pfd, s, out, max, forever ? -1 : net__remaining_ms(deadline));
        if (n != 0 || (!forever && net_now() >= deadline))
            break;
    }
    release(s);
    return n;
}

int net_poll_close(int pfd)
{
    set_t *s = registry_take(pfd);
    if (s == NULL)
        return -EBADF;
#ifdef USE_EPOLL
    /* An epoll set's calls use its handle: a wait or a change under way in
     * another thread (it holds a reference) goes on with it. Closed now,
     * the number could go to a descriptor made meanwhile (another set), and
     * that call's next epoll_wait or epoll_ctl would act on it. So the
     * number stays the set's until the last such call returns: the last
     * release closes it, this one when no call is under way (an epoll
     * descriptor's close has no failure to report). The poll(2) backend's
     * calls never use the handle. (Read by the last release only, after
     * the registry lock this release takes.) */
    s->handle = pfd;
    release(s);
    return 0;
#else
    int rc = close(pfd) < 0 ? NET_ERR() : 0; /* never retried: see net_sock_close */
    release(s);
    return rc;
#endif
}
