/*
 * bench/peer_echo.c — W2 peer: listen on 127.0.0.1, print "PORT n", accept one
 * connection and echo everything it reads until the other side closes.
 *
 *     peer_echo
 */
#include "common.h"

#define PROG "peer_echo"

int main(int argc, char **argv) {
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: %s\n", PROG);
        return 2;
    }
    alarm(900);
    int port;
    int listener = bench_listen(PROG, SOCK_STREAM, 16, &port);
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) bench_die(PROG, "accept");
    close(listener);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    static uint8_t buf[65536];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (!bench_write_all(fd, buf, (size_t)n)) break;
    }
    close(fd);
    return 0;
}
