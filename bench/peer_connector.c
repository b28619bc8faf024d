/*
 * bench/peer_connector.c — W3 peer: open COUNT connections to 127.0.0.1:PORT, at most
 * INFLIGHT at a time. Each connection, once established, shuts down its sending side
 * (the server reads EOF: its sentinel runs) and is closed when the server has closed it
 * in turn, which frees its slot. Prints "PEER connections=… wall=…" on stderr.
 *
 *     peer_connector PORT COUNT INFLIGHT
 */
#include <sys/epoll.h>

#include "common.h"

#define PROG "peer_connector"
#define MAX_INFLIGHT 1024

static int start_one(int ep, int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) bench_die(PROG, "socket");
    struct sockaddr_in a = bench_addr(INADDR_LOOPBACK, port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) bench_die(PROG, "connect");
    struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) bench_die(PROG, "epoll_ctl");
    return fd;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s PORT COUNT INFLIGHT\n", PROG);
        return 2;
    }
    int port = atoi(argv[1]);
    long count = atol(argv[2]), inflight = atol(argv[3]);
    if (port <= 0 || count <= 0 || inflight <= 0 || inflight > MAX_INFLIGHT) {
        fprintf(stderr, "%s: bad arguments\n", PROG);
        return 2;
    }
    alarm(900);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) bench_die(PROG, "epoll_create1");
    long started = 0, done = 0, failed = 0, active = 0;
    double t0 = bench_now();
    while (done < count && bench_now() - t0 < 600) {
        while (active < inflight && started < count) start_one(ep, port), started++, active++;
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, 1000);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (evs[i].events & EPOLLOUT) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0) {
                    failed++, done++, active--;
                    close(fd);
                    continue;
                }
                shutdown(fd, SHUT_WR);
                struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
                epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
            } else {
                char buf[256];
                ssize_t r = recv(fd, buf, sizeof buf, 0);
                if (r > 0 || (r < 0 && errno == EAGAIN)) continue;
                close(fd);
                done++, active--;
            }
        }
    }
    fprintf(stderr, "PEER connections=%ld failed=%ld wall=%.6f\n", done, failed, bench_now() - t0);
    return done == count && failed == 0 ? 0 : 1;
}
