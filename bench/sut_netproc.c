/*
 * bench/sut_netproc.c — netproc through its C API, as an editor host uses it: processes
 * made by netproc_make_network_process with a filter, sentinel and log; the host waits in
 * netproc_poll(ctx, 1000). Same workloads, arguments and result line as sut_epoll.
 *
 *     sut_netproc recv PORT BYTES CODING   W1/W6: client; filter counts bytes and characters
 *     sut_netproc pingpong PORT ROUNDS     W2: client; the filter sends the next 64 bytes
 *     sut_netproc accept COUNT             W3: server (:server 1024); log counts accepts,
 *                                          sentinel counts "connection broken by remote peer"
 *     sut_netproc scale N ROUNDS           W4: server holding N idle connections; filter echoes
 *     sut_netproc udp COUNT                W5: datagram server; filter checks sequence numbers
 */
#include "common.h"
#include "netproc.h"

#define PROG "sut_netproc"
#define SYSTEM "netproc"
#define DEADLINE 600.0
#define BROKEN "connection broken by remote peer\n"

static netproc_context *ctx;

static void fail_make(void) {
    const char *message = NULL;
    netproc_last_error(ctx, NULL, &message, NULL);
    fprintf(stderr, "%s: make-network-process: %s\n", PROG, message ? message : "?");
    exit(1);
}

static void poll_once(void) {
    if (netproc_poll(ctx, 1000) < 0) {
        fprintf(stderr, "%s: netproc_poll failed\n", PROG);
        exit(1);
    }
}

static int server_port(netproc_process *server) {
    netproc_value port;
    if (netproc_process_contact(server, ":service", false, &port) != NETPROC_OK) bench_die(PROG, "contact");
    int n = (int)port.integer;
    netproc_value_free(&port);
    printf("PORT %d\n", n);
    fflush(stdout);
    return n;
}

/* ---- W1/W6 ---- */
struct recv_state {
    unsigned long long bytes, chars;
    bool closed;
};

static void recv_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    (void)p;
    struct recv_state *s = ud;
    s->bytes += len, s->chars += bench_count_chars(data, len);
}

static void closed_sentinel(void *ud, netproc_process *p, const char *msg, size_t len) {
    (void)p, (void)len;
    if (strcmp(msg, BROKEN) == 0) *(bool *)ud = true;
}

static int do_recv(int port, unsigned long long total, const char *coding) {
    struct bench_cpu c0 = bench_cpu();
    double t0 = bench_now();
    struct recv_state s = {0, 0, false};
    netproc_arg args[] = {
        {":name", netproc_string("recv")},       {":host", netproc_string("127.0.0.1")},
        {":service", netproc_integer(port)},     {":coding", netproc_symbol(coding)},
        {":filter", netproc_filter(recv_filter, &s)}, {":sentinel", netproc_sentinel(closed_sentinel, &s.closed)},
    };
    netproc_process *p = NULL;
    if (netproc_make_network_process(ctx, args, sizeof args / sizeof args[0], &p) != NETPROC_OK) fail_make();
    while (!s.closed && bench_now() - t0 < DEADLINE) poll_once();
    double wall = bench_now() - t0;
    struct bench_cpu c1 = bench_cpu();
    bench_result("recv", SYSTEM, wall, c0, "coding=%s bytes=%llu chars=%llu mb_s=%.1f cpu_per_gib=%.4f", coding,
                 s.bytes, s.chars, (double)s.bytes / 1e6 / wall,
                 (c1.user + c1.sys - c0.user - c0.sys) / ((double)s.bytes / (1024.0 * BENCH_MIB)));
    netproc_process_free(p);
    return s.closed && s.bytes == total ? 0 : 1;
}

/* ---- W2 ---- */
struct pp_state {
    long rounds, done;
    size_t got;
    bool broken;
};

static const uint8_t ping[BENCH_MSG] = {'p'};

static void pp_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    (void)data;
    struct pp_state *s = ud;
    s->got += len;
    while (s->got >= BENCH_MSG && s->done < s->rounds) {
        s->got -= BENCH_MSG, s->done++;
        if (s->done < s->rounds && netproc_process_send(p, ping, sizeof ping) != NETPROC_OK) s->broken = true;
    }
}

static int do_pingpong(int port, long rounds) {
    struct bench_cpu c0 = bench_cpu();
    struct pp_state s = {rounds, 0, 0, false};
    bool closed = false;
    netproc_arg args[] = {
        {":name", netproc_string("pingpong")},  {":host", netproc_string("127.0.0.1")},
        {":service", netproc_integer(port)},    {":coding", netproc_symbol("binary")},
        {":nodelay", netproc_t()},
        {":filter", netproc_filter(pp_filter, &s)}, {":sentinel", netproc_sentinel(closed_sentinel, &closed)},
    };
    netproc_process *p = NULL;
    if (netproc_make_network_process(ctx, args, sizeof args / sizeof args[0], &p) != NETPROC_OK) fail_make();
    double t0 = bench_now();
    if (netproc_process_send(p, ping, sizeof ping) != NETPROC_OK) bench_die(PROG, "send");
    while (s.done < rounds && !s.broken && !closed && bench_now() - t0 < DEADLINE) poll_once();
    double wall = bench_now() - t0;
    bench_result("pingpong", SYSTEM, wall, c0, "rounds=%ld rate=%.0f", s.done, (double)s.done / wall);
    netproc_delete_process(p);
    netproc_process_free(p);
    return s.done == rounds ? 0 : 1;
}

/* ---- W3/W4 ---- */
struct srv_state {
    bool echo;
    long count, n_idle, rounds;
    long accepted, closed, accept_failed;
    long rss_n;
    unsigned long long echoed;
    double t0, pp_t0, pp_wall;
    struct bench_cpu pp_c0;
    bool done;
};

static void srv_log(void *ud, netproc_process *server, netproc_process *client, const char *msg, size_t len) {
    (void)server, (void)msg, (void)len;
    struct srv_state *s = ud;
    if (client == NULL) {
        s->accept_failed++;
        return;
    }
    if (s->accepted++ == 0) s->t0 = bench_now();
    if (s->echo && s->accepted == s->n_idle) s->rss_n = bench_rss_kb();
}

static void srv_sentinel(void *ud, netproc_process *p, const char *msg, size_t len) {
    (void)p, (void)len;
    struct srv_state *s = ud;
    if (strcmp(msg, BROKEN) == 0 && ++s->closed == s->count && !s->echo) s->done = true;
}

static void srv_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct srv_state *s = ud;
    if (!s->echo) return;
    if (s->echoed == 0) s->pp_t0 = bench_now(), s->pp_c0 = bench_cpu();
    netproc_process_send(p, data, len);
    s->echoed += len;
    if (s->echoed >= (unsigned long long)s->rounds * BENCH_MSG && !s->done) {
        s->pp_wall = bench_now() - s->pp_t0;
        s->done = true;
    }
}

static int do_server(bool echo, long count, long n_idle, long rounds) {
    long nofile = bench_raise_nofile();
    struct bench_cpu c0 = bench_cpu();
    struct srv_state s;
    memset(&s, 0, sizeof s);
    s.echo = echo, s.count = count, s.n_idle = n_idle, s.rounds = rounds;
    netproc_arg args[] = {
        {":name", netproc_string("server")},  {":server", netproc_integer(1024)},
        {":host", netproc_string("127.0.0.1")}, {":service", netproc_t()},
        {":family", netproc_symbol("ipv4")},  {":coding", netproc_symbol("binary")},
        {":filter", netproc_filter(srv_filter, &s)}, {":sentinel", netproc_sentinel(srv_sentinel, &s)},
        {":log", netproc_log(srv_log, &s)},
    };
    netproc_process *server = NULL;
    if (netproc_make_network_process(ctx, args, sizeof args / sizeof args[0], &server) != NETPROC_OK) fail_make();
    long rss0 = bench_rss_kb();
    s.rss_n = rss0;
    server_port(server);
    double start = bench_now();
    while (!s.done && bench_now() - start < DEADLINE) poll_once();
    double wall = bench_now() - s.t0;
    if (echo) {
        struct bench_cpu c1 = bench_cpu();
        bench_scale_report(SYSTEM, n_idle, s.accepted, rss0, s.rss_n, s.pp_wall,
                           c1.user + c1.sys - s.pp_c0.user - s.pp_c0.sys, (long)(s.echoed / BENCH_MSG), wall, c0,
                           nofile);
    } else {
        bench_result("accept", SYSTEM, wall, c0, "count=%ld accepted=%ld closed=%ld accept_failed=%ld rate=%.0f", count,
                     s.accepted, s.closed, s.accept_failed, (double)s.closed / wall);
    }
    fflush(stdout);
    /* Exit without tearing down thousands of processes one by one: the measurement is over. */
    _exit(s.done ? 0 : 1);
}

/* ---- W5 ---- */
static void udp_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    (void)p;
    bench_udp_datagram(ud, data, len);
}

static int do_udp(long count) {
    struct bench_cpu c0 = bench_cpu();
    struct bench_udp u;
    bench_udp_init(&u, count);
    netproc_arg args[] = {
        {":name", netproc_string("udp")},       {":type", netproc_symbol("datagram")},
        {":server", netproc_t()},               {":host", netproc_string("127.0.0.1")},
        {":service", netproc_t()},              {":family", netproc_symbol("ipv4")},
        {":coding", netproc_symbol("binary")},  {":filter", netproc_filter(udp_filter, &u)},
    };
    netproc_process *server = NULL;
    if (netproc_make_network_process(ctx, args, sizeof args / sizeof args[0], &server) != NETPROC_OK) fail_make();
    server_port(server);
    double start = bench_now();
    long seen = 0;
    double last = start;
    while (!u.ended && bench_now() - start < DEADLINE && (u.datagrams == 0 || bench_now() - last < 10)) {
        poll_once();
        if (u.datagrams != seen) seen = u.datagrams, last = bench_now();
    }
    bench_udp_report(SYSTEM, &u, bench_now() - start, c0);
    netproc_delete_process(server);
    netproc_process_free(server);
    return 0;
}

int main(int argc, char **argv) {
    alarm(900);
    if (netproc_context_new(&ctx) != NETPROC_OK) bench_die(PROG, "netproc_context_new");
    const char *w = argc > 1 ? argv[1] : "";
    int rc = 2;
    if (strcmp(w, "recv") == 0 && argc == 5) rc = do_recv(atoi(argv[2]), strtoull(argv[3], NULL, 10), argv[4]);
    else if (strcmp(w, "pingpong") == 0 && argc == 4) rc = do_pingpong(atoi(argv[2]), atol(argv[3]));
    else if (strcmp(w, "accept") == 0 && argc == 3) rc = do_server(false, atol(argv[2]), 0, 0);
    else if (strcmp(w, "scale") == 0 && argc == 4) rc = do_server(true, 0, atol(argv[2]), atol(argv[3]));
    else if (strcmp(w, "udp") == 0 && argc == 3) rc = do_udp(atol(argv[2]));
    else
        fprintf(stderr, "usage: %s recv PORT BYTES CODING | pingpong PORT ROUNDS | accept COUNT | scale N ROUNDS | udp COUNT\n",
                PROG);
    netproc_context_free(ctx);
    return rc;
}
