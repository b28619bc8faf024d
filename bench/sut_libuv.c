/*
 * bench/sut_libuv.c — libuv (Debian libuv1-dev) used as an ordinary libuv user would:
 * uv_tcp_connect / uv_listen / uv_udp_recv_start, one static 64 KiB buffer from alloc_cb,
 * uv_write with a malloc'd request holding a copy of the data, uv_close on EOF, uv_run with
 * UV_RUN_ONCE. Same workloads, arguments and result line as sut_epoll.
 *
 *     sut_libuv recv PORT BYTES CODING | pingpong PORT ROUNDS | accept COUNT | scale N ROUNDS | udp COUNT
 */
#include <uv.h>

#include "common.h"

#define PROG "sut_libuv"
#define SYSTEM "libuv"
#define DEADLINE 600.0
#define READ_SIZE 65536

static uv_loop_t *loop;
static char rbuf[READ_SIZE];
static uint8_t dbuf[2 * READ_SIZE + 8];

static void die_uv(const char *what, int rc) {
    fprintf(stderr, "%s: %s: %s\n", PROG, what, uv_strerror(rc));
    exit(1);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)h, (void)suggested;
    *buf = uv_buf_init(rbuf, sizeof rbuf);
}

static void free_close_cb(uv_handle_t *h) { free(h); }

struct write_req {
    uv_write_t req;
    uv_buf_t buf;
    char data[];
};

static void write_cb(uv_write_t *req, int status) {
    (void)status;
    free(req);
}

static int send_copy(uv_stream_t *s, const void *data, size_t len) {
    struct write_req *w = malloc(sizeof *w + len);
    if (w == NULL) return UV_ENOMEM;
    memcpy(w->data, data, len);
    w->buf = uv_buf_init(w->data, (unsigned)len);
    return uv_write(&w->req, s, &w->buf, 1, write_cb);
}

static void run_until(const bool *done, double t0) {
    while (!*done && bench_now() - t0 < DEADLINE) uv_run(loop, UV_RUN_ONCE);
}

static uv_tcp_t client;
static uv_connect_t connect_req;
static bool connected;

static void connect_cb(uv_connect_t *req, int status) {
    (void)req;
    if (status < 0) die_uv("connect", status);
    connected = true;
}

static void connect_to(int port) {
    uv_tcp_init(loop, &client);
    struct sockaddr_in a = bench_addr(INADDR_LOOPBACK, port);
    int rc = uv_tcp_connect(&connect_req, &client, (const struct sockaddr *)&a, connect_cb);
    if (rc < 0) die_uv("uv_tcp_connect", rc);
    run_until(&connected, bench_now());
    uv_tcp_nodelay(&client, 1);
}

/* ---- W1/W6 ---- */
static unsigned long long r_bytes, r_chars;
static bool r_closed, r_utf8;
static struct bench_utf8 r_dec;

static void recv_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    if (n < 0) {
        r_closed = true;
        uv_close((uv_handle_t *)s, NULL);
        return;
    }
    const uint8_t *d = (const uint8_t *)buf->base;
    if (r_utf8) {
        size_t m = bench_utf8_decode(&r_dec, d, (size_t)n, dbuf);
        r_bytes += m, r_chars += bench_count_chars(dbuf, m);
    } else {
        r_bytes += (size_t)n, r_chars += bench_count_chars(d, (size_t)n);
    }
}

static int do_recv(int port, unsigned long long total, bool utf8) {
    struct bench_cpu c0 = bench_cpu();
    double t0 = bench_now();
    r_utf8 = utf8;
    connect_to(port);
    uv_read_start((uv_stream_t *)&client, alloc_cb, recv_read_cb);
    run_until(&r_closed, t0);
    double wall = bench_now() - t0;
    struct bench_cpu c1 = bench_cpu();
    bench_result("recv", SYSTEM, wall, c0, "coding=%s bytes=%llu chars=%llu mb_s=%.1f cpu_per_gib=%.4f",
                 utf8 ? "utf-8" : "binary", r_bytes, r_chars, (double)r_bytes / 1e6 / wall,
                 (c1.user + c1.sys - c0.user - c0.sys) / ((double)r_bytes / (1024.0 * BENCH_MIB)));
    return r_closed && r_bytes == total ? 0 : 1;
}

/* ---- W2 ---- */
static long pp_rounds, pp_done;
static size_t pp_got;
static bool pp_finished;
static const char ping[BENCH_MSG] = {'p'};

static void pp_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    (void)buf;
    if (n < 0) {
        pp_finished = true;
        return;
    }
    pp_got += (size_t)n;
    while (pp_got >= BENCH_MSG && pp_done < pp_rounds) {
        pp_got -= BENCH_MSG, pp_done++;
        if (pp_done < pp_rounds) send_copy(s, ping, sizeof ping);
    }
    if (pp_done >= pp_rounds) pp_finished = true;
}

static int do_pingpong(int port, long rounds) {
    struct bench_cpu c0 = bench_cpu();
    pp_rounds = rounds;
    connect_to(port);
    uv_read_start((uv_stream_t *)&client, alloc_cb, pp_read_cb);
    double t0 = bench_now();
    send_copy((uv_stream_t *)&client, ping, sizeof ping);
    run_until(&pp_finished, t0);
    double wall = bench_now() - t0;
    bench_result("pingpong", SYSTEM, wall, c0, "rounds=%ld rate=%.0f", pp_done, (double)pp_done / wall);
    return pp_done == rounds ? 0 : 1;
}

/* ---- W3/W4 ---- */
static struct {
    bool echo, done;
    long count, n_idle, rounds, accepted, closed, accept_failed, rss_n;
    unsigned long long echoed;
    double t0, pp_t0, pp_wall;
    struct bench_cpu pp_c0;
} S;

static void srv_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    if (n < 0) {
        uv_close((uv_handle_t *)s, free_close_cb); /* the "sentinel" */
        if (++S.closed == S.count && !S.echo) S.done = true;
        return;
    }
    if (!S.echo || n == 0) return;
    if (S.echoed == 0) S.pp_t0 = bench_now(), S.pp_c0 = bench_cpu();
    send_copy(s, buf->base, (size_t)n);
    S.echoed += (unsigned long long)n;
    if (S.echoed >= (unsigned long long)S.rounds * BENCH_MSG && !S.done) S.pp_wall = bench_now() - S.pp_t0, S.done = true;
}

static void connection_cb(uv_stream_t *server, int status) {
    if (status < 0) {
        S.accept_failed++;
        return;
    }
    uv_tcp_t *c = malloc(sizeof *c);
    uv_tcp_init(loop, c);
    if (uv_accept(server, (uv_stream_t *)c) != 0) {
        S.accept_failed++;
        uv_close((uv_handle_t *)c, free_close_cb);
        return;
    }
    if (S.accepted++ == 0) S.t0 = bench_now(); /* the "log" */
    if (S.echo && S.accepted == S.n_idle) S.rss_n = bench_rss_kb();
    uv_read_start((uv_stream_t *)c, alloc_cb, srv_read_cb);
}

static int do_server(bool echo, long count, long n_idle, long rounds) {
    long nofile = bench_raise_nofile();
    struct bench_cpu c0 = bench_cpu();
    S.echo = echo, S.count = count, S.n_idle = n_idle, S.rounds = rounds;
    static uv_tcp_t server;
    uv_tcp_init(loop, &server);
    struct sockaddr_in a = bench_addr(INADDR_LOOPBACK, 0);
    int rc = uv_tcp_bind(&server, (const struct sockaddr *)&a, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&server, 1024, connection_cb);
    if (rc < 0) die_uv("listen", rc);
    int len = sizeof a;
    uv_tcp_getsockname(&server, (struct sockaddr *)&a, &len);
    long rss0 = bench_rss_kb();
    S.rss_n = rss0;
    printf("PORT %d\n", ntohs(a.sin_port));
    fflush(stdout);
    run_until(&S.done, bench_now());
    double wall = bench_now() - S.t0;
    if (echo) {
        struct bench_cpu c1 = bench_cpu();
        bench_scale_report(SYSTEM, n_idle, S.accepted, rss0, S.rss_n, S.pp_wall,
                           c1.user + c1.sys - S.pp_c0.user - S.pp_c0.sys, (long)(S.echoed / BENCH_MSG), wall, c0, nofile);
    } else {
        bench_result("accept", SYSTEM, wall, c0, "count=%ld accepted=%ld closed=%ld accept_failed=%ld rate=%.0f", count,
                     S.accepted, S.closed, S.accept_failed, (double)S.closed / wall);
    }
    fflush(stdout);
    _exit(S.done ? 0 : 1);
}

/* ---- W5 ---- */
static struct bench_udp U;
static double U_last;

static void udp_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)h, (void)suggested;
    *buf = uv_buf_init(rbuf, sizeof rbuf);
}

static void udp_recv_cb(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr, unsigned flags) {
    (void)h, (void)flags;
    if (n < 0 || addr == NULL) return;
    bench_udp_datagram(&U, (const uint8_t *)buf->base, (size_t)n);
    U_last = bench_now();
}

static void tick_cb(uv_timer_t *t) { (void)t; }

static int do_udp(long count) {
    struct bench_cpu c0 = bench_cpu();
    bench_udp_init(&U, count);
    static uv_udp_t udp;
    uv_udp_init(loop, &udp);
    struct sockaddr_in a = bench_addr(INADDR_LOOPBACK, 0);
    int rc = uv_udp_bind(&udp, (const struct sockaddr *)&a, 0);
    if (rc < 0) die_uv("uv_udp_bind", rc);
    int len = sizeof a;
    uv_udp_getsockname(&udp, (struct sockaddr *)&a, &len);
    printf("PORT %d\n", ntohs(a.sin_port));
    fflush(stdout);
    uv_udp_recv_start(&udp, udp_alloc_cb, udp_recv_cb);
    double start = bench_now();
    U_last = start;
    /* uv_run(UV_RUN_ONCE) blocks with no timer: a 1 s repeating timer bounds each wait. */
    static uv_timer_t tick;
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, tick_cb, 1000, 1000);
    while (!U.ended && bench_now() - start < DEADLINE && (U.datagrams == 0 || bench_now() - U_last < 10))
        uv_run(loop, UV_RUN_ONCE);
    bench_udp_report(SYSTEM, &U, bench_now() - start, c0);
    return 0;
}

int main(int argc, char **argv) {
    alarm(900);
    loop = uv_default_loop();
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
