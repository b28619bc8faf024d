/*
 * bench/peer_udp.c — W5 peer: send COUNT 64-byte datagrams to 127.0.0.1:PORT, each
 * carrying its sequence number (little-endian uint32 in bytes 0–3), paced at RATE per
 * second (0: as fast as sendmmsg goes). Then, after 200 ms, 20 end markers (sequence
 * 0xFFFFFFFF) 10 ms apart. Prints "PEER sent=… wall=…" on stderr.
 *
 *     peer_udp PORT COUNT RATE
 */
#include "common.h"

#define PROG "peer_udp"
#define BATCH 32

static void put_seq(uint8_t *d, uint32_t seq) {
    d[0] = (uint8_t)seq, d[1] = (uint8_t)(seq >> 8), d[2] = (uint8_t)(seq >> 16), d[3] = (uint8_t)(seq >> 24);
}

static void sleep_s(double s) {
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s PORT COUNT RATE\n", PROG);
        return 2;
    }
    int port = atoi(argv[1]);
    long count = atol(argv[2]);
    double rate = atof(argv[3]);
    if (port <= 0 || count <= 0 || count >= (long)BENCH_UDP_END || rate < 0) {
        fprintf(stderr, "%s: bad arguments\n", PROG);
        return 2;
    }
    alarm(900);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) bench_die(PROG, "socket");
    struct sockaddr_in a = bench_addr(INADDR_LOOPBACK, port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) bench_die(PROG, "connect");
    static uint8_t data[BATCH][BENCH_MSG];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    memset(data, 'u', sizeof data);
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = data[i], iov[i].iov_len = BENCH_MSG;
        msgs[i].msg_hdr.msg_iov = &iov[i], msgs[i].msg_hdr.msg_iovlen = 1;
    }
    double t0 = bench_now();
    long sent = 0, errors = 0;
    while (sent < count) {
        if (rate > 0) {
            /* Datagram `sent` is due at t0 + sent/rate: sleep when ahead, spin when close. */
            double due = t0 + (double)sent / rate, ahead = due - bench_now();
            if (ahead > 0.0002) sleep_s(ahead - 0.0001);
            while (bench_now() < due) {
            }
            put_seq(data[0], (uint32_t)sent);
            if (send(fd, data[0], BENCH_MSG, 0) == BENCH_MSG) sent++;
            else if (errno != EINTR) errors++, sent++;
        } else {
            int batch = count - sent < BATCH ? (int)(count - sent) : BATCH;
            for (int i = 0; i < batch; i++) put_seq(data[i], (uint32_t)(sent + i));
            int k = sendmmsg(fd, msgs, (unsigned)batch, 0);
            if (k > 0) sent += k;
            else if (errno != EINTR && errno != ENOBUFS && errno != EAGAIN) errors++, sent++;
        }
    }
    double wall = bench_now() - t0;
    sleep_s(0.2);
    put_seq(data[0], BENCH_UDP_END);
    for (int i = 0; i < 20; i++) {
        send(fd, data[0], BENCH_MSG, 0);
        sleep_s(0.01);
    }
    fprintf(stderr, "PEER sent=%ld errors=%ld wall=%.6f rate=%.0f\n", sent, errors, wall, (double)sent / wall);
    close(fd);
    return 0;
}
