/* W6 stream in plain C: a one-way stream of 64-byte datagrams over
 * 127.0.0.1, in bursts of BURST: S sends a burst to R (not timed; the burst
 * fits R's receive buffer, so the sender never outruns the receiver), then R
 * receives and checks it, timed. Only the receiving is timed: the rate is of
 * datagrams received and verified. BENCH_BATCH=n receives with recvmmsg in
 * batches of up to n, else one recvfrom per datagram. Every datagram is
 * compared with the one sent; the sender's port is checked on the first of
 * each burst; a datagram missing after LOSS_TIMEOUT fails the run as lost. */
#include "w6.h"

#define BATCH_MAX 64

static int batch; /* 0: recvfrom loop */

static double stream(long long count)
{
    static char msgs[2][BURST][DGRAM];
    static char room[BATCH_MAX][ROOM];
    struct mmsghdr mm[BATCH_MAX];
    struct iovec iov[BATCH_MAX];
    struct sockaddr_in froms[BATCH_MAX];
    int ps, pr;
    int s = w6_udp(&ps), r = w6_udp(&pr);
    struct sockaddr_in to_r = bench_loopback(pr);
    double t = 0;
    long long done = 0;

    for (int set = 0; set < 2; set++)
        for (int k = 0; k < BURST; k++)
            w6_datagram(msgs[set][k], set, k);
    if (count % BURST)
        bench_fail("the count %lld is not a multiple of %d", count, BURST);
    for (long long burst = 0; done < count; burst++) {
        char (*want)[DGRAM] = msgs[burst & 1];
        for (int k = 0; k < BURST; k++)
            if (sendto(s, want[k], DGRAM, 0, (struct sockaddr *)&to_r, sizeof to_r) != DGRAM)
                bench_fail("sendto: %s", strerror(errno));
        double t0 = bench_now();
        int got = 0;
        while (got < BURST) {
            if (batch == 0) {
                socklen_t flen = sizeof froms[0];
                ssize_t n = recvfrom(r, room[0], ROOM, 0, (struct sockaddr *)&froms[0], &flen);
                if (n != DGRAM)
                    w6_recv_failed(n, "recvfrom", done + got + 1);
                if (memcmp(room[0], want[got], DGRAM) != 0)
                    bench_fail("datagram %lld differs from the one sent", done + got + 1);
                if (got == 0 && ntohs(froms[0].sin_port) != ps)
                    bench_fail("datagram %lld from port %d, expected %d", done + 1,
                               ntohs(froms[0].sin_port), ps);
                got++;
            } else {
                int k = BURST - got < batch ? BURST - got : batch;
                memset(mm, 0, sizeof mm[0] * (size_t)k);
                for (int i = 0; i < k; i++) {
                    iov[i].iov_base = room[i];
                    iov[i].iov_len = ROOM;
                    mm[i].msg_hdr.msg_iov = &iov[i];
                    mm[i].msg_hdr.msg_iovlen = 1;
                    mm[i].msg_hdr.msg_name = &froms[i];
                    mm[i].msg_hdr.msg_namelen = sizeof froms[i];
                }
                int n = recvmmsg(r, mm, (unsigned)k, MSG_WAITFORONE, NULL);
                if (n <= 0)
                    w6_recv_failed(n, "recvmmsg", done + got + 1);
                for (int i = 0; i < n; i++) {
                    if (mm[i].msg_len != DGRAM)
                        w6_recv_failed(mm[i].msg_len, "recvmmsg", done + got + i + 1);
                    if (memcmp(room[i], want[got + i], DGRAM) != 0)
                        bench_fail("datagram %lld differs from the one sent", done + got + i + 1);
                }
                if (got == 0 && ntohs(froms[0].sin_port) != ps)
                    bench_fail("datagram %lld from port %d, expected %d", done + 1,
                               ntohs(froms[0].sin_port), ps);
                got += n;
            }
        }
        t += bench_now() - t0;
        done += got;
    }
    close(s);
    close(r);
    return t;
}

int main(int argc, char **argv)
{
    struct bench_args a = bench_args(argc, argv);
    const char *b = getenv("BENCH_BATCH");
    batch = b ? (int)bench_parse(b, "BENCH_BATCH") : 0;
    if (batch > BATCH_MAX)
        bench_fail("BENCH_BATCH %d is more than %d", batch, BATCH_MAX);
    for (long long i = 0; i <= a.runs; i++) {
        long long n = bench_size(&a, i);
        bench_result(stream(n), n);
    }
    return 0;
}
