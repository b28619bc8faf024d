/*
 * bench/sut_epoll.c — the practical limit: plain C sockets in a hand-written epoll loop
 * (level-triggered, nonblocking, one static 64 KiB read buffer, accept4 until EAGAIN,
 * recvmmsg for datagrams). Same workloads, arguments and result line as sut_netproc.
 *
 *     sut_epoll recv PORT BYTES CODING   W1/W6: count BYTES from peer_sender (binary|utf-8)
 *     sut_epoll pingpong PORT ROUNDS     W2: 64-byte ping-pong with peer_echo
 *     sut_epoll accept COUNT             W3: listen; see COUNT accepts and closes
 *     sut_epoll scale N ROUNDS           W4: listen; hold N idle connections, echo on one
 *     sut_epoll udp COUNT                W5: receive COUNT sequenced datagrams
 */
#include <sys/epoll.h>

#include "common.h"

#define PROG "sut_epoll"
#define SYSTEM "epoll"
#define DEADLINE 600.0
#define READ_SIZE 65536

static uint8_t rbuf[READ_SIZE];
static uint8_t dbuf[2 * READ_SIZE + 8];

static int ep_add(int ep, int fd, uint32_t events) {
    struct epoll_event ev = {.events = events, .data.fd = fd};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int do_recv(int port, unsigned long long total, bool utf8) {
    struct bench_cpu c0 = bench_cpu();
    double t0 = bench_now();
    int fd = bench_connect(PROG, port, 0);
    bench_set_nonblock(fd);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    ep_add(ep, fd, EPOLLIN);
    unsigned long long bytes = 0, chars = 0;
    struct bench_utf8 dec = {{0}, 0};
    bool closed = false;
    while (!closed && bench_now() - t0 < DEADLINE) {
        struct epoll_event ev;
        if (epoll_wait(ep, &ev, 1, 1000) <= 0) continue;
        for (;;) {
            ssize_t n = recv(fd, rbuf, sizeof rbuf, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) break;
            if (n <= 0) {
                closed = true;
                break;
            }
            /* The "filter": count bytes and characters of what the coding gives. */
            if (utf8) {
                size_t m = bench_utf8_decode(&dec, rbuf, (size_t)n, dbuf);
                bytes += m, chars += bench_count_chars(dbuf, m);
            } else {
                bytes += (size_t)n, chars += bench_count_chars(rbuf, (size_t)n);
            }
        }
    }
    close(fd);
    close(ep);
    double wall = bench_now() - t0;
    bench_result("recv", SYSTEM, wall, c0, "coding=%s bytes=%llu chars=%llu mb_s=%.1f cpu_per_gib=%.4f",
                 utf8 ? "utf-8" : "binary", bytes, chars, (double)bytes / 1e6 / wall,
                 (bench_cpu().user + bench_cpu().sys - c0.user - c0.sys) / ((double)bytes / (1024.0 * BENCH_MIB)));
    return closed && bytes == total ? 0 : 1;
}

static int do_pingpong(int port, long rounds) {
    struct bench_cpu c0 = bench_cpu();
    int fd = bench_connect(PROG, port, 0);
    bench_set_nonblock(fd);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    ep_add(ep, fd, EPOLLIN);
    uint8_t msg[BENCH_MSG];
    memset(msg, 'p', sizeof msg);
    double t0 = bench_now();
    long done = 0;
    size_t got = 0;
    bool broken = false;
    if (send(fd, msg, sizeof msg, MSG_NOSIGNAL) != (ssize_t)sizeof msg) bench_die(PROG, "send");
    while (done < rounds && !broken && bench_now() - t0 < DEADLINE) {
        struct epoll_event ev;
        if (epoll_wait(ep, &ev, 1, 1000) <= 0) continue;
        ssize_t n = recv(fd, rbuf, sizeof rbuf, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) {
            broken = true;
            break;
        }
        got += (size_t)n;
        while (got >= BENCH_MSG && done < rounds) {
            got -= BENCH_MSG, done++;
            if (done < rounds && send(fd, msg, sizeof msg, MSG_NOSIGNAL) != (ssize_t)sizeof msg) broken = true;
        }
    }
    double wall = bench_now() - t0;
    close(fd);
    close(ep);
    bench_result("pingpong", SYSTEM, wall, c0, "rounds=%ld rate=%.0f", done, (double)done / wall);
    return done == rounds ? 0 : 1;
}

/* W3 and W4: a listening socket; accepted sockets are read (W4: echoed) until EOF. */
static int do_server(bool echo, long count, long n_idle, long rounds) {
    long nofile = bench_raise_nofile();
    struct bench_cpu c0 = bench_cpu();
    int port;
    int lfd = bench_listen(PROG, SOCK_STREAM | SOCK_NONBLOCK, 1024, &port);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    ep_add(ep, lfd, EPOLLIN);
    long rss0 = bench_rss_kb(), rss_n = rss0;
    long accepted = 0, closed = 0, accept_failed = 0;
    unsigned long long echoed = 0, want_echo = (unsigned long long)rounds * BENCH_MSG;
    double t0 = 0, pp_t0 = 0, pp_wall = 0, start = bench_now();
    struct bench_cpu pp_c0 = {0, 0};
    bool done = false;
    static struct epoll_event evs[256];
    while (!done && bench_now() - start < DEADLINE) {
        int n = epoll_wait(ep, evs, 256, 1000);
        for (int i = 0; i < n && !done; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                for (;;) {
                    int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (c < 0) {
                        if (errno != EAGAIN && errno != EINTR) accept_failed++;
                        break;
                    }
                    if (accepted++ == 0) t0 = bench_now();
                    ep_add(ep, c, EPOLLIN);
                    if (echo && accepted == n_idle) rss_n = bench_rss_kb();
                }
                continue;
            }
            ssize_t r = recv(fd, rbuf, sizeof rbuf, 0);
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (r <= 0) {
                close(fd); /* the "sentinel" */
                closed++;
                if (!echo && closed == count) done = true;
                continue;
            }
            if (echo) {
                if (echoed == 0) pp_t0 = bench_now(), pp_c0 = bench_cpu();
                if (send(fd, rbuf, (size_t)r, MSG_NOSIGNAL) != r) bench_die(PROG, "echo");
                echoed += (unsigned long long)r;
                if (echoed >= want_echo) {
                    pp_wall = bench_now() - pp_t0;
                    done = true;
                }
            }
        }
    }
    double wall = bench_now() - t0;
    if (echo) {
        struct bench_cpu c1 = bench_cpu();
        bench_scale_report(SYSTEM, n_idle, accepted, rss0, rss_n, pp_wall, c1.user + c1.sys - pp_c0.user - pp_c0.sys,
                           (long)(echoed / BENCH_MSG), wall, c0, nofile);
        return done ? 0 : 1;
    }
    bench_result("accept", SYSTEM, wall, c0, "count=%ld accepted=%ld closed=%ld accept_failed=%ld rate=%.0f", count,
                 accepted, closed, accept_failed, (double)closed / wall);
    return done ? 0 : 1;
}

static int do_udp(long count) {
    struct bench_cpu c0 = bench_cpu();
    int port;
    int fd = bench_listen(PROG, SOCK_DGRAM | SOCK_NONBLOCK, 0, &port);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    ep_add(ep, fd, EPOLLIN);
    struct bench_udp u;
    bench_udp_init(&u, count);
    enum { BATCH = 64 };
    static uint8_t bufs[BATCH][2048];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    double start = bench_now(), last = start;
    while (!u.ended && bench_now() - start < DEADLINE && (u.datagrams == 0 || bench_now() - last < 10)) {
        struct epoll_event ev;
        if (epoll_wait(ep, &ev, 1, 1000) <= 0) continue;
        for (;;) {
            for (int i = 0; i < BATCH; i++) {
                iov[i].iov_base = bufs[i], iov[i].iov_len = sizeof bufs[i];
                memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
                msgs[i].msg_hdr.msg_iov = &iov[i], msgs[i].msg_hdr.msg_iovlen = 1;
            }
            int k = recvmmsg(fd, msgs, BATCH, 0, NULL);
            if (k <= 0) break;
            for (int i = 0; i < k; i++) bench_udp_datagram(&u, bufs[i], msgs[i].msg_len);
            last = bench_now();
        }
    }
    bench_udp_report(SYSTEM, &u, bench_now() - start, c0);
    close(fd);
    close(ep);
    return 0;
}

int main(int argc, char **argv) {
    alarm(900);
    const char *w = argc > 1 ? argv[1] : "";
    if (strcmp(w, "recv") == 0 && argc == 5) return do_recv(atoi(argv[2]), strtoull(argv[3], NULL, 10), strcmp(argv[4], "utf-8") == 0);
    if (strcmp(w, "pingpong") == 0 && argc == 4) return do_pingpong(atoi(argv[2]), atol(argv[3]));
    if (strcmp(w, "accept") == 0 && argc == 3) return do_server(false, atol(argv[2]), 0, 0);
    if (strcmp(w, "scale") == 0 && argc == 4) return do_server(true, 0, atol(argv[2]), atol(argv[3]));
    if (strcmp(w, "udp") == 0 && argc == 3) return do_udp(atol(argv[2]));
    fprintf(stderr, "usage: %s recv PORT BYTES CODING | pingpong PORT ROUNDS | accept COUNT | scale N ROUNDS | udp COUNT\n",
            PROG);
    return 2;
}
