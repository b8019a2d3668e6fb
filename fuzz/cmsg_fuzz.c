/* cmsg_fuzz.c — libFuzzer target over the control-message walk of
 * net_sock_recvfd (net__cmsg_take_fd, src/msg.c) without a kernel: the
 * control buffer is a malloc of exactly its length (ASan sees any byte read
 * past it), and the close function is this file's recorder, so no
 * descriptor is ever really closed, whatever numbers the bytes hold.
 *
 * Input: a mode byte, then
 * - raw (mode even): the rest is the control buffer, as is. Checked: the
 *   result is -1 or a descriptor number >= 0; it and every number closed
 *   were read from the buffer's int slots: a number is taken and closed,
 *   together, no more often than it occurs there.
 * - built (mode odd): cut, base, then records of 3 bytes (kind, count,
 *   aux) built into a chain the way the kernel writes one (CMSG_LEN /
 *   CMSG_SPACE): SCM_RIGHTS with count % 21 descriptors (distinct numbers
 *   from base on, a negative one first when aux says, aux % 4 stray bytes
 *   after them), or SCM_PIDFD with as many (where the platform has it, when
 *   aux says: descriptors too, never handed on), other SOL_SOCKET types and
 *   SCM_RIGHTS's number at other levels (their payload full of numbers that
 *   must never be taken or closed), and damaged SCM_RIGHTS headers
 *   (cmsg_len 0, shorter than a header, past the end, huge). The last
 *   cut % 256 bytes are cut off. What the walk must do follows from how the
 *   chain was built, not from parsing it: records are taken in order up to
 *   the first one that is damaged, does not fit the length or whose header
 *   does not; the first descriptor of their SCM_RIGHTS is the result and
 *   every other descriptor they hold is closed exactly once; nothing else
 *   is closed. */
#include "internal.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c)                                                            \
    do {                                                                      \
        if (!(c))                                                             \
            abort();                                                          \
    } while (0)

enum {
    RECORDS_MAX = 64,
    FDS_PER_RECORD = 21, /* more than recvfd's room (16): the walk has no limit */
    PAYLOAD_MAX = 40,    /* bytes of a record that is not SCM_RIGHTS */
    POISON = 0x40000000  /* numbers in payloads that are not descriptors */
};

/* The close recorder: every number closed, in order. */
static int *closed;
static size_t nclosed, room;

static int record_close(int fd)
{
    if (nclosed == room) {
        room = room ? 2 * room : 1024;
        closed = realloc(closed, room * sizeof *closed);
        REQUIRE(closed != NULL);
    }
    closed[nclosed++] = fd;
    return 0;
}

/* Walks len bytes copied into a buffer of exactly that size. */
static int walk(const void *bytes, size_t len)
{
    void *buf = malloc(len ? len : 1);
    int got;
    memcpy(buf, bytes, len);
    nclosed = 0;
    got = net__cmsg_take_fd(buf, len, record_close);
    free(buf);
    return got;
}

/* How often v occurs in the int slots of buf (offsets a multiple of
 * sizeof(int): every header is aligned and its data starts CMSG_LEN(0) on). */
static size_t occurrences(const unsigned char *buf, size_t len, int v)
{
    size_t off, n = 0;
    for (off = 0; off + sizeof(int) <= len; off += sizeof(int)) {
        int one;
        memcpy(&one, buf + off, sizeof one);
        n += one == v;
    }
    return n;
}

static void raw(const unsigned char *data, size_t len)
{
    size_t i, j;
    int got = walk(data, len);
    REQUIRE(got >= -1);
    if (got >= 0)
        REQUIRE(occurrences(data, len, got) >= 1);
    for (i = 0; i < nclosed; i++) {
        size_t times = 0;
        REQUIRE(closed[i] >= 0);
        for (j = 0; j < nclosed; j++)
            times += closed[j] == closed[i];
        REQUIRE(times + (closed[i] == got) <= occurrences(data, len, closed[i]));
    }
}

/* One record of a built chain, as the oracle needs it. */
struct record {
    size_t off;      /* where its header starts */
    size_t len;      /* its cmsg_len as a kernel would write it */
    int damaged;     /* its cmsg_len is replaced by an invalid one */
    unsigned aux;    /* its input byte: which invalid one */
    int first, nfds; /* its descriptor numbers: first .. first + nfds - 1 */
    int passed;      /* SCM_RIGHTS (else SCM_PIDFD: closed, never handed on) */
};

static void put_header(unsigned char *at, size_t len, int level, int type)
{
    struct cmsghdr c;
    memset(&c, 0, sizeof c);
    c.cmsg_len = len;
    c.cmsg_level = level;
    c.cmsg_type = type;
    memcpy(at, &c, sizeof c);
}

static void built(const unsigned char *data, size_t size)
{
    static unsigned char buf[RECORDS_MAX * CMSG_SPACE(PAYLOAD_MAX + FDS_PER_RECORD * sizeof(int))];
    struct record rec[RECORDS_MAX];
    size_t cut, total = 0, len, nrec = 0, i, k, taken = 0;
    int base, next_fd, poison = POISON, want = -1;

    if (size < 2)
        return;
    cut = data[0];
    base = next_fd = data[1];
    data += 2, size -= 2;
    memset(buf, 0xab, sizeof buf);
    for (; size >= 3 && nrec < RECORDS_MAX; data += 3, size -= 3, nrec++) {
        unsigned kind = data[0] % 4, count = data[1], aux = data[2];
        struct record *r = &rec[nrec];
        unsigned char *at = buf + total;
        size_t payload;
        memset(r, 0, sizeof *r);
        r->off = total;
        if (kind == 0) { /* descriptors */
            int negative = (aux & 0x80) != 0;
            size_t n = count % FDS_PER_RECORD, stray = aux % 4;
            payload = n * sizeof(int) + stray;
            r->passed = 1;
#ifdef SCM_PIDFD
            r->passed = (aux & 0x40) == 0;
#endif
            put_header(at, CMSG_LEN(payload), SOL_SOCKET, r->passed ? SCM_RIGHTS : SCM_PIDFD);
            for (k = 0; k < n; k++) {
                int fd = k == 0 && negative ? -1 - next_fd : next_fd + (int)k - negative;
                memcpy(at + CMSG_LEN(0) + k * sizeof(int), &fd, sizeof fd);
            }
            r->first = next_fd;
            r->nfds = (int)n - (n > 0 && negative);
            next_fd += r->nfds;
        } else { /* numbers that are no descriptors, or a damaged header */
            payload = kind == 3 ? 0 : (count % (PAYLOAD_MAX + 1));
            if (kind == 1) /* another type at SOL_SOCKET: SCM_CREDENTIALS, SCM_SECURITY */
                put_header(at, CMSG_LEN(payload), SOL_SOCKET, SCM_RIGHTS + 1 + (int)(aux % 2));
            else /* SCM_RIGHTS's number at another level; a damaged one is patched below */
                put_header(at, CMSG_LEN(payload), aux & 1 ? IPPROTO_IP : IPPROTO_IPV6,
                           SCM_RIGHTS);
            for (k = 0; k + sizeof(int) <= payload; k += sizeof(int))
                memcpy(at + CMSG_LEN(0) + k, &poison, sizeof poison), poison++;
            r->damaged = kind == 3;
            r->aux = aux;
        }
        r->len = CMSG_LEN(payload);
        total += CMSG_SPACE(payload);
    }
    len = cut > total ? 0 : total - cut;

    /* Damaged lengths are relative to the length the walk is given. */
    for (i = 0; i < nrec; i++) {
        size_t left = len > rec[i].off ? len - rec[i].off : 0, bad;
        if (!rec[i].damaged)
            continue;
        switch (rec[i].aux % 4) {
        case 0: bad = 0; break;
        case 1: bad = CMSG_LEN(0) - 1; break;
        case 2: bad = left + 1 + rec[i].aux / 4; break;
        default: bad = (size_t)-1; break;
        }
        put_header(buf + rec[i].off, bad, SOL_SOCKET, SCM_RIGHTS);
        /* as cmsg_len holds it (socklen_t on some systems): still invalid */
        {
            struct cmsghdr c;
            memcpy(&c, buf + rec[i].off, sizeof c);
            REQUIRE((size_t)c.cmsg_len < CMSG_LEN(0) || (size_t)c.cmsg_len > left);
        }
    }

    /* The oracle: which descriptors the walk reaches. */
    for (i = 0; i < nrec; i++) {
        const struct record *r = &rec[i];
        if (r->damaged || r->off > len || len - r->off < sizeof(struct cmsghdr) ||
            len - r->off < r->len)
            break;
        taken += (size_t)r->nfds;
        if (want < 0 && r->passed && r->nfds > 0)
            want = r->first;
    }

    REQUIRE(walk(buf, len) == want);
    REQUIRE(nclosed == taken - (want >= 0));
    /* the numbers were given out in order from base, so every one but want
     * is closed once when the closes are base, base + 1, ... in order,
     * skipping want */
    for (i = 0; i < nclosed; i++)
        REQUIRE(closed[i] == base + (int)i + (want >= 0 && base + (int)i >= want));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        built(data + 1, size - 1);
    else
        raw(data + 1, size - 1);
    return 0;
}
