/*
 * bench/peer_scale.c — W4 peer: open N idle connections to 127.0.0.1:PORT (from source
 * addresses 127.0.0.2–127.0.0.5 in turn, so that ports do not run out), then one active
 * connection that does ROUNDS ping-pongs of 64 bytes (the server echoes). Then it waits
 * for the server to close the active connection (it exits), so that TIME_WAIT stays on the
 * server's side. Prints "PEER idle=… rounds=… pingpong_wall=…" on stderr.
 *
 *     peer_scale PORT N ROUNDS
 */
#include "common.h"

#define PROG "peer_scale"

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s PORT N ROUNDS\n", PROG);
        return 2;
    }
    int port = atoi(argv[1]);
    long n = atol(argv[2]), rounds = atol(argv[3]);
    if (port <= 0 || n < 0 || rounds <= 0) {
        fprintf(stderr, "%s: bad arguments\n", PROG);
        return 2;
    }
    alarm(900);
    bench_raise_nofile();
    int *idle = calloc((size_t)n + 1, sizeof *idle);
    if (idle == NULL) bench_die(PROG, "out of memory");
    double t0 = bench_now();
    long opened = 0;
    for (; opened < n; opened++)
        if ((idle[opened] = bench_try_connect(port, 0x7f000002u + (uint32_t)(opened % 4), 10)) < 0) break;
    double t_idle = bench_now() - t0;
    int fd = opened == n ? bench_try_connect(port, 0, 10) : -1;
    if (fd < 0) {
        /* A server that cannot hold them all (Emacs's built-in stops near FD_SETSIZE). */
        fprintf(stderr, "PEER idle=%ld opened=%ld connect_failed=1\n", n, opened);
        for (long i = 0; i < opened; i++) close(idle[i]);
        return 1;
    }
    uint8_t msg[BENCH_MSG], back[BENCH_MSG];
    memset(msg, 'p', sizeof msg);
    double t1 = bench_now();
    long r = 0;
    for (; r < rounds; r++) {
        if (!bench_write_all(fd, msg, sizeof msg)) break;
        size_t got = 0;
        while (got < sizeof back) {
            ssize_t k = recv(fd, back + got, sizeof back - got, 0);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) break;
            got += (size_t)k;
        }
        if (got < sizeof back) break;
    }
    double pp = bench_now() - t1;
    fprintf(stderr, "PEER idle=%ld opened=%ld connect_wall=%.3f rounds=%ld pingpong_wall=%.6f\n", n, opened, t_idle, r, pp);
    /* Wait (bounded) for the server to close first. */
    struct timeval tv = {.tv_sec = 30};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    while (recv(fd, &c, 1, 0) > 0) {
    }
    close(fd);
    for (long i = 0; i < n; i++) close(idle[i]);
    free(idle);
    return r == rounds ? 0 : 1;
}
