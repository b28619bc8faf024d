/*
 * bench/tls_client.c — TLS client CPU through netproc's C API (issue 13's measurements).
 *
 *     tls_client handshake PORT CAFILE COUNT   COUNT :nowait TLS 1.3 connects, each waited
 *                                              to "open\n" and deleted; one warm-up first
 *                                              (it builds the configuration, done once)
 *     tls_client recv PORT CAFILE BYTES        one TLS connection; the filter counts bytes
 *                                              until the server closes after BYTES
 *
 * Prints one RESULT line (bench/common.h): wall, user and system CPU, and per-handshake
 * CPU in microseconds or bytes received.
 */
#include <netproc.h>

#include "common.h"

#define PROG "tls_client"

struct state {
    bool open, failed, closed;
    unsigned long long bytes;
};

static void on_data(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    (void)p;
    (void)data;
    ((struct state *)ud)->bytes += len;
}

static void on_status(void *ud, netproc_process *p, const char *msg, size_t len) {
    (void)p;
    (void)len;
    struct state *s = ud;
    if (strncmp(msg, "open", 4) == 0) s->open = true;
    else if (strncmp(msg, "failed", 6) == 0) s->failed = true;
    else s->closed = true;
}

static netproc_process *connect_tls(netproc_context *ctx, long port, const char *cafile, struct state *s) {
    netproc_value trust[] = {netproc_string(cafile)};
    netproc_value tls[] = {netproc_symbol("gnutls-x509pki"), netproc_symbol(":hostname"), netproc_string("localhost"),
                           netproc_symbol(":trustfiles"), netproc_list(trust, 1)};
    netproc_arg args[] = {
        {":name", netproc_string("tls")},
        {":host", netproc_string("127.0.0.1")},
        {":service", netproc_integer(port)},
        {":nowait", netproc_t()},
        {":tls-parameters", netproc_list(tls, 5)},
        {":filter", netproc_filter(on_data, s)},
        {":sentinel", netproc_sentinel(on_status, s)},
    };
    netproc_process *p = NULL;
    if (netproc_make_network_process(ctx, args, sizeof args / sizeof args[0], &p) != NETPROC_OK) {
        const char *message = NULL;
        netproc_last_error(ctx, NULL, &message, NULL);
        fprintf(stderr, "%s: make-network-process failed: %s\n", PROG, message ? message : "?");
        exit(1);
    }
    return p;
}

static void pump_until(netproc_context *ctx, const bool *flag, const struct state *s) {
    double deadline = bench_now() + 30;
    while (!*flag) {
        if (s->failed) {
            fprintf(stderr, "%s: the TLS connection failed\n", PROG);
            exit(1);
        }
        if (bench_now() > deadline) {
            fprintf(stderr, "%s: timed out\n", PROG);
            exit(1);
        }
        if (netproc_poll(ctx, 1000) < 0) {
            fprintf(stderr, "%s: netproc_poll failed\n", PROG);
            exit(1);
        }
    }
}

static void one_handshake(netproc_context *ctx, long port, const char *cafile) {
    struct state s = {0};
    netproc_process *p = connect_tls(ctx, port, cafile, &s);
    pump_until(ctx, &s.open, &s);
    netproc_delete_process(p);
    netproc_process_free(p);
}

int main(int argc, char **argv) {
    alarm(600);
    if (argc != 5) {
        fprintf(stderr, "usage: %s handshake|recv PORT CAFILE COUNT|BYTES\n", PROG);
        return 2;
    }
    long port = strtol(argv[2], NULL, 10);
    const char *cafile = argv[3];
    unsigned long long n = strtoull(argv[4], NULL, 10);
    netproc_context *ctx = NULL;
    if (netproc_context_new(&ctx) != NETPROC_OK) bench_die(PROG, "netproc_context_new");
    if (strcmp(argv[1], "handshake") == 0) {
        one_handshake(ctx, port, cafile); /* warm-up: the configuration is built here */
        double t0 = bench_now();
        struct bench_cpu c0 = bench_cpu();
        for (unsigned long long i = 0; i < n; i++) one_handshake(ctx, port, cafile);
        struct bench_cpu c1 = bench_cpu();
        double cpu = (c1.user - c0.user) + (c1.sys - c0.sys);
        printf("RESULT wall=%.3f user=%.3f sys=%.3f handshakes=%llu cpu_us_per_handshake=%.1f\n", bench_now() - t0,
               c1.user - c0.user, c1.sys - c0.sys, n, cpu * 1e6 / (double)n);
    } else if (strcmp(argv[1], "recv") == 0) {
        struct state s = {0};
        double t0 = bench_now();
        struct bench_cpu c0 = bench_cpu();
        netproc_process *p = connect_tls(ctx, port, cafile, &s);
        pump_until(ctx, &s.closed, &s);
        struct bench_cpu c1 = bench_cpu();
        if (s.bytes != n) {
            fprintf(stderr, "%s: received %llu bytes, expected %llu\n", PROG, s.bytes, n);
            return 1;
        }
        printf("RESULT wall=%.3f user=%.3f sys=%.3f bytes=%llu\n", bench_now() - t0, c1.user - c0.user,
               c1.sys - c0.sys, s.bytes);
        netproc_process_free(p);
    } else {
        fprintf(stderr, "%s: unknown mode %s\n", PROG, argv[1]);
        return 2;
    }
    netproc_context_free(ctx);
    return 0;
}
