/*
 * bench/coding.c — filter throughput of `:coding utf-8` against `:coding binary`.
 *
 *     bench/bin/coding [MIB [RUNS]]      (default: 1024 MiB per run, 3 runs per coding)
 *
 * A forked sender writes MIB MiB of valid UTF-8 text (ASCII mixed with 2-, 3- and 4-byte
 * characters and newlines, no CR) over loopback TCP to a netproc client, whose filter counts
 * the bytes and the characters it gets (the same counting for both codings: bytes that do not
 * continue a UTF-8 sequence). A run ends at the "connection broken by remote peer" sentinel.
 * Reported per coding: MB/s (10^6 bytes per wall-clock second) and CPU seconds per GiB of
 * the receiving process (getrusage: netproc and the filter; the sender is another process),
 * as the median of RUNS runs with min–max, then the utf-8/binary ratios. The runs of the two
 * codings alternate. The only checks are sanity: every byte and character arrived.
 *
 * Issue 4's targets: utf-8 decoding of valid input above 1 GB/s, and at most 1.5× the CPU
 * of binary per GiB.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "netproc.h"

#define MIB (1024u * 1024u)
#define BLOCK_SIZE MIB
#define MAX_RUNS 15
#define RUN_DEADLINE_S 600.0

static void die(const char *what) {
    fprintf(stderr, "bench/coding: %s\n", what);
    exit(1);
}

static void die_errno(const char *what) {
    fprintf(stderr, "bench/coding: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) die_errno("getrusage");
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec
        + (double)ru.ru_stime.tv_usec / 1e6;
}

/* The text block and the character count are the suite's (bench/common.h), so that this
 * benchmark and W6 of `make bench` send the same data. */
static uint64_t count_chars(const uint8_t *data, size_t len) { return bench_count_chars(data, len); }

static uint8_t *make_block(uint64_t *chars, uint64_t *non_ascii_bytes) {
    uint8_t *block = bench_make_block(chars);
    if (block == NULL) die("out of memory");
    *non_ascii_bytes = 0;
    for (size_t i = 0; i < BLOCK_SIZE; i++) *non_ascii_bytes += block[i] >= 0x80;
    return block;
}

struct counts {
    uint64_t bytes, chars, calls, multibyte_calls;
    bool closed;
};

static void count_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct counts *c = ud;
    c->bytes += len;
    c->chars += count_chars(data, len);
    c->calls++;
    c->multibyte_calls += netproc_process_filter_multibyte_p(p);
}

static void count_sentinel(void *ud, netproc_process *p, const char *msg, size_t len) {
    (void)p, (void)len;
    if (strcmp(msg, "connection broken by remote peer\n") == 0) ((struct counts *)ud)->closed = true;
}

/* The sender: accept one connection and write `blocks` copies of `block`, then close. */
static void send_blocks(int listener, const uint8_t *block, uint64_t blocks) {
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) _exit(2);
    for (uint64_t b = 0; b < blocks; b++) {
        size_t off = 0;
        while (off < BLOCK_SIZE) {
            ssize_t n = send(fd, block + off, BLOCK_SIZE - off, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) _exit(3);
            off += (size_t)n;
        }
    }
    close(fd);
    _exit(0);
}

struct result {
    double mb_per_s, cpu_per_gib;
};

static struct result run_once(const char *coding, const uint8_t *block, uint64_t blocks, uint64_t block_chars) {
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0) die_errno("socket");
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t addr_len = sizeof addr;
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listener, 1) != 0
        || getsockname(listener, (struct sockaddr *)&addr, &addr_len) != 0)
        die_errno("listen on 127.0.0.1");

    fflush(stdout);
    pid_t child = fork();
    if (child < 0) die_errno("fork");
    if (child == 0) send_blocks(listener, block, blocks);
    close(listener);

    netproc_context *ctx = NULL;
    if (netproc_context_new(&ctx) != NETPROC_OK) die("netproc_context_new failed");
    struct counts counts = {0};
    netproc_arg args[] = {
        {":name", netproc_string("bench")},
        {":host", netproc_string("127.0.0.1")},
        {":service", netproc_integer(ntohs(addr.sin_port))},
        {":coding", netproc_symbol(coding)},
        {":filter", netproc_filter(count_filter, &counts)},
        {":sentinel", netproc_sentinel(count_sentinel, &counts)},
    };
    double wall0 = now_s(), cpu0 = cpu_s();
    netproc_process *client = NULL;
    if (netproc_make_network_process(ctx, args, sizeof args / sizeof args[0], &client) != NETPROC_OK) {
        const char *message = NULL;
        netproc_last_error(ctx, NULL, &message, NULL);
        fprintf(stderr, "bench/coding: make-network-process: %s\n", message ? message : "?");
        exit(1);
    }
    while (!counts.closed && now_s() - wall0 < RUN_DEADLINE_S)
        if (netproc_poll(ctx, 1000) < 0) die("netproc_poll failed");
    double wall = now_s() - wall0, cpu = cpu_s() - cpu0;

    int status = 0;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("the sender failed");
    uint64_t total = blocks * BLOCK_SIZE;
    bool multibyte = strcmp(coding, "binary") != 0;
    if (!counts.closed || counts.bytes != total || counts.chars != blocks * block_chars
        || counts.multibyte_calls != (multibyte ? counts.calls : 0)) {
        fprintf(stderr,
                "bench/coding: %s: got %llu bytes, %llu chars (%llu of %llu calls multibyte), closed %d; "
                "want %llu bytes, %llu chars\n",
                coding, (unsigned long long)counts.bytes, (unsigned long long)counts.chars,
                (unsigned long long)counts.multibyte_calls, (unsigned long long)counts.calls, counts.closed,
                (unsigned long long)total, (unsigned long long)(blocks * block_chars));
        exit(1);
    }
    netproc_process_free(client);
    if (netproc_context_free(ctx) != NETPROC_OK) die("netproc_context_free failed");
    return (struct result){(double)total / 1e6 / wall, cpu / ((double)total / (1024.0 * MIB))};
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct summary {
    double median, min, max;
};

static struct summary summarize(const double *values, int n) {
    double sorted[MAX_RUNS];
    memcpy(sorted, values, (size_t)n * sizeof *values);
    qsort(sorted, (size_t)n, sizeof *sorted, compare_doubles);
    double median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    return (struct summary){median, sorted[0], sorted[n - 1]};
}

int main(int argc, char **argv) {
    long mib = argc > 1 ? strtol(argv[1], NULL, 10) : 1024;
    long runs = argc > 2 ? strtol(argv[2], NULL, 10) : 3;
    if (argc > 3 || mib < 1 || mib > 1024L * 1024 || runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "usage: %s [MIB (1-1048576, default 1024) [RUNS (1-%d, default 3)]]\n", argv[0], MAX_RUNS);
        return 2;
    }
    uint64_t block_chars = 0, non_ascii = 0;
    uint8_t *block = make_block(&block_chars, &non_ascii);
    static const char *const codings[2] = {"binary", "utf-8"};
    double mb[2][MAX_RUNS], cpu[2][MAX_RUNS];

    printf("netproc coding benchmark: %ld MiB of UTF-8 text per run (%.0f%% of bytes non-ASCII, "
           "%.2f bytes per character), loopback TCP, forked sender, read_max 65536 (default)\n",
           mib, 100.0 * (double)non_ascii / BLOCK_SIZE, (double)BLOCK_SIZE / (double)block_chars);
    for (long r = 0; r < runs; r++)
        for (int c = 0; c < 2; c++) {
            struct result res = run_once(codings[c], block, (uint64_t)mib, block_chars);
            mb[c][r] = res.mb_per_s;
            cpu[c][r] = res.cpu_per_gib;
            printf("  run %ld %-6s %8.0f MB/s %7.3f CPU s/GiB\n", r + 1, codings[c], res.mb_per_s, res.cpu_per_gib);
            fflush(stdout);
        }
    free(block);

    struct summary s_mb[2], s_cpu[2];
    printf("\nmedian of %ld runs (min-max)\n", runs);
    printf("%-8s %-26s %s\n", "coding", "MB/s (wall)", "CPU s/GiB (receiving process)");
    for (int c = 0; c < 2; c++) {
        s_mb[c] = summarize(mb[c], (int)runs);
        s_cpu[c] = summarize(cpu[c], (int)runs);
        char wall[64];
        snprintf(wall, sizeof wall, "%.0f (%.0f-%.0f)", s_mb[c].median, s_mb[c].min, s_mb[c].max);
        printf("%-8s %-26s %.3f (%.3f-%.3f)\n", codings[c], wall, s_cpu[c].median, s_cpu[c].min, s_cpu[c].max);
    }
    printf("utf-8/binary: throughput %.2fx, CPU per GiB %.2fx\n", s_mb[1].median / s_mb[0].median,
           s_cpu[1].median / s_cpu[0].median);
    printf("issue 4 targets: utf-8 above 1000 MB/s (%s), CPU ratio at most 1.5 (%s)\n",
           s_mb[1].median > 1000 ? "met" : "not met", s_cpu[1].median / s_cpu[0].median <= 1.5 ? "met" : "not met");
    return 0;
}
