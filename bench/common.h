/*
 * bench/common.h — helpers shared by the benchmark peers and systems under test (SUTs).
 *
 * Every program here is plain C (-std=c11 -D_GNU_SOURCE), loopback only, and bounded: each
 * wait has a deadline. A SUT prints exactly one line starting with "RESULT " made of
 * key=value pairs (see result_line()); bench/run.py parses it. A program that listens
 * prints "PORT n" first, so that the other side (started by run.py) can connect.
 */
#ifndef NETPROC_BENCH_COMMON_H
#define NETPROC_BENCH_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BENCH_MIB (1024u * 1024u)
#define BENCH_BLOCK BENCH_MIB
#define BENCH_MSG 64               /* W2/W4 message size and W5 datagram size */
#define BENCH_UDP_END 0xFFFFFFFFu  /* W5: the sequence number of the end marker */

static inline void bench_die(const char *prog, const char *what) {
    fprintf(stderr, "%s: %s%s%s\n", prog, what, errno ? ": " : "", errno ? strerror(errno) : "");
    exit(1);
}

static inline double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct bench_cpu {
    double user, sys;
};

static inline struct bench_cpu bench_cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (struct bench_cpu){(double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
                              (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6};
}

static inline long bench_maxrss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Current resident set in KiB, from /proc/self/statm (user-space memory: heap, stacks,
 * mapped code and data touched so far; socket buffers live in the kernel and are not in it). */
static inline long bench_rss_kb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (f == NULL) return -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Raise the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit. */
static inline long bench_raise_nofile(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    return (long)rl.rlim_cur;
}

/* "RESULT workload=W system=S wall=… user=… sys=… cpu=… maxrss_kb=… <extra>" on stdout. */
static inline void bench_result(const char *workload, const char *system, double wall, struct bench_cpu c0,
                                const char *fmt, ...) {
    struct bench_cpu c1 = bench_cpu();
    double user = c1.user - c0.user, sys = c1.sys - c0.sys;
    printf("RESULT workload=%s system=%s wall=%.6f user=%.6f sys=%.6f cpu=%.6f maxrss_kb=%ld", workload, system,
           wall, user, sys, user + sys, bench_maxrss_kb());
    if (fmt != NULL && *fmt) {
        va_list ap;
        va_start(ap, fmt);
        putchar(' ');
        vprintf(fmt, ap);
        va_end(ap);
    }
    putchar('\n');
    fflush(stdout);
}

static inline struct sockaddr_in bench_addr(uint32_t host, int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(host);
    a.sin_port = htons((uint16_t)port);
    return a;
}

/* A socket of `type` bound to 127.0.0.1 on a free port (listening if TCP); prints "PORT n". */
static inline int bench_listen(const char *prog, int type, int backlog, int *port_out) {
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0) bench_die(prog, "socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = bench_addr(INADDR_LOOPBACK, 0);
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) bench_die(prog, "bind 127.0.0.1");
    if ((type & 0xf) == SOCK_STREAM && listen(fd, backlog) != 0) bench_die(prog, "listen");
    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0) bench_die(prog, "getsockname");
    *port_out = ntohs(a.sin_port);
    printf("PORT %d\n", *port_out);
    fflush(stdout);
    return fd;
}

/* A blocking TCP connection to 127.0.0.1:port, optionally from source address `src` (host
 * order, 0 for any), with TCP_NODELAY; connect and later sends and receives time out after
 * `timeout_s` seconds (0: never). Returns -1 on failure. */
static inline int bench_try_connect(int port, uint32_t src, int timeout_s) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    if (timeout_s > 0) {
        struct timeval tv = {.tv_sec = timeout_s};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    if (src != 0) {
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        struct sockaddr_in s = bench_addr(src, 0);
        if (bind(fd, (struct sockaddr *)&s, sizeof s) != 0) {
            close(fd);
            return -1;
        }
    }
    struct sockaddr_in a = bench_addr(INADDR_LOOPBACK, port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static inline int bench_connect(const char *prog, int port, uint32_t src) {
    int fd = bench_try_connect(port, src, 0);
    if (fd < 0) bench_die(prog, "connect");
    return fd;
}

static inline void bench_set_nonblock(int fd) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Write all of buf (blocking socket); false on error. */
static inline bool bench_write_all(int fd, const void *buf, size_t len) {
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n, len -= (size_t)n;
    }
    return true;
}

/* Characters in UTF-8 data: the bytes that do not continue a sequence (0x80–0xBF). Eight
 * bytes at a time, so the filter's own work stays small next to the system's. */
static inline uint64_t bench_count_chars(const uint8_t *data, size_t len) {
    const uint64_t high = 0x8080808080808080ull;
    uint64_t continuations = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t word;
        memcpy(&word, data + i, 8);
        uint64_t marks = (word & ~(word << 1) & high) >> 7;
        continuations += (marks * 0x0101010101010101ull) >> 56;
    }
    for (; i < len; i++) continuations += (data[i] & 0xC0) == 0x80;
    return len - continuations;
}

/* One MiB of valid UTF-8 text (W1 and W6 send copies of it): words of ASCII and 2-, 3- and
 * 4-byte characters, a newline every ~70 bytes, padded with spaces to the exact size. The
 * same block as bench/coding.c's. */
static inline uint8_t *bench_make_block(uint64_t *chars) {
    static const char *const pieces[] = {
        "the ", "quick ", "brown ", "fox ", "caf\xc3\xa9 ", "gr\xc3\xb6\xc3\x9f" "e ",
        "\xce\xa9\xce\xbc\xce\xb5\xce\xb3\xce\xb1 ",
        "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 ",
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e ",
        "\xe3\x81\x82\xe3\x82\x8a\xe3\x81\x8c\xe3\x81\xa8\xe3\x81\x86 ",
        "\xe2\x82\xac" "42 ",
        "\xf0\x9f\x98\x80 ",
        "\xf0\x9f\x8c\x8d\xf0\x9f\x8c\x8f ",
    };
    uint8_t *block = malloc(BENCH_BLOCK);
    if (block == NULL) return NULL;
    size_t len = 0, line = 0;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (;;) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        const char *piece = pieces[seed % (sizeof pieces / sizeof pieces[0])];
        size_t n = strlen(piece);
        if (len + n + 1 > BENCH_BLOCK) break;
        memcpy(block + len, piece, n);
        len += n, line += n;
        if (line >= 70) block[len++] = '\n', line = 0;
    }
    memset(block + len, ' ', BENCH_BLOCK - len);
    if (chars) *chars = bench_count_chars(block, BENCH_BLOCK);
    return block;
}

/* A streaming UTF-8 decoder for the plain-C systems' W6 (what a C program that wants text
 * does): validates, carries a character split across reads, and writes Emacs's internal
 * form into `out` (valid UTF-8 unchanged; an invalid byte B becomes C0|B>>6&1, 80|B&3F).
 * `out` must hold 2*len + 4 bytes. Returns the bytes written. */
struct bench_utf8 {
    uint8_t pending[4];
    size_t npending;
};

static inline size_t bench_utf8_need(uint8_t b) {
    return b < 0x80 ? 1 : b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
}

/* Whether the n bytes at s (n at most the length its lead byte announces) can start a
 * character: continuation bytes, and no overlong, surrogate or above-U+10FFFF form. */
static inline bool bench_utf8_valid_seq(const uint8_t *s, size_t n) {
    for (size_t k = 1; k < n; k++)
        if ((s[k] & 0xC0) != 0x80) return false;
    if (n >= 2) {
        if (s[0] == 0xE0 && s[1] < 0xA0) return false;
        if (s[0] == 0xED && s[1] > 0x9F) return false;
        if (s[0] == 0xF0 && s[1] < 0x90) return false;
        if (s[0] == 0xF4 && s[1] > 0x8F) return false;
    }
    return true;
}

static inline size_t bench_utf8_raw(uint8_t *out, uint8_t b) {
    out[0] = (uint8_t)(0xC0 | ((b >> 6) & 1));
    out[1] = (uint8_t)(0x80 | (b & 0x3F));
    return 2;
}

static inline size_t bench_utf8_decode(struct bench_utf8 *st, const uint8_t *in, size_t len, uint8_t *out) {
    size_t o = 0, i = 0;
    /* Finish a character left over from the previous read. */
    while (st->npending > 0 && i < len) {
        size_t need = bench_utf8_need(st->pending[0]);
        st->pending[st->npending++] = in[i++];
        if (!bench_utf8_valid_seq(st->pending, st->npending)) {
            /* Not a character after all: the held bytes are raw, and in[i] is scanned anew. */
            for (size_t k = 0; k + 1 < st->npending; k++) o += bench_utf8_raw(out + o, st->pending[k]);
            st->npending = 0, i--;
            break;
        }
        if (st->npending == need) {
            memcpy(out + o, st->pending, need);
            o += need, st->npending = 0;
        }
    }
    while (i < len) {
        /* ASCII eight bytes at a time. */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, in + i, 8);
            if (w & 0x8080808080808080ull) break;
            memcpy(out + o, in + i, 8);
            o += 8, i += 8;
        }
        if (i >= len) break;
        uint8_t b = in[i];
        size_t need = bench_utf8_need(b);
        if (need == 1) {
            out[o++] = b, i++;
        } else if (need == 0) {
            o += bench_utf8_raw(out + o, b), i++;
        } else if (i + need > len) {
            /* Split character: keep what we have if it is a valid prefix. */
            if (bench_utf8_valid_seq(in + i, len - i)) {
                memcpy(st->pending, in + i, len - i);
                st->npending = len - i;
                i = len;
            } else {
                o += bench_utf8_raw(out + o, b), i++;
            }
        } else if (bench_utf8_valid_seq(in + i, need)) {
            memcpy(out + o, in + i, need);
            o += need, i += need;
        } else {
            o += bench_utf8_raw(out + o, b), i++;
        }
    }
    return o;
}

/* ---- what every system under test does the same way ------------------------------------ */

/* W5: which sequence numbers arrived (duplicates count once). */
struct bench_udp {
    uint8_t *seen;
    long count, distinct, datagrams, bad;
    bool ended;
    double t_first, t_last;
};

static inline void bench_udp_init(struct bench_udp *u, long count) {
    memset(u, 0, sizeof *u);
    u->count = count;
    u->seen = calloc((size_t)count / 8 + 1, 1);
}

/* One datagram arrived; returns true when it was the end marker. */
static inline bool bench_udp_datagram(struct bench_udp *u, const uint8_t *d, size_t len) {
    if (len != BENCH_MSG) {
        u->bad++;
        return false;
    }
    uint32_t seq = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
    if (seq == BENCH_UDP_END) return u->ended = true;
    if ((long)seq >= u->count) {
        u->bad++;
        return false;
    }
    double t = bench_now();
    if (u->datagrams == 0) u->t_first = t;
    u->t_last = t;
    u->datagrams++;
    if (!(u->seen[seq / 8] & (1u << (seq % 8)))) u->seen[seq / 8] |= (uint8_t)(1u << (seq % 8)), u->distinct++;
    return false;
}

static inline void bench_udp_report(const char *system, struct bench_udp *u, double wall, struct bench_cpu c0) {
    double span = u->t_last - u->t_first;
    bench_result("udp", system, wall, c0, "count=%ld received=%ld distinct=%ld bad=%ld ended=%d loss_pct=%.4f rate=%.0f",
                 u->count, u->datagrams, u->distinct, u->bad, (int)u->ended,
                 100.0 * (double)(u->count - u->distinct) / (double)u->count,
                 span > 0 ? (double)u->distinct / span : 0.0);
    free(u->seen);
}

/* W4: the memory figure. */
static inline void bench_scale_report(const char *system, long n, long accepted, long rss0, long rss_n, double pp_wall,
                                      double pp_cpu, long rounds, double wall, struct bench_cpu c0, long nofile) {
    bench_result("scale", system, wall, c0,
                 "n=%ld accepted=%ld nofile=%ld rss0_kb=%ld rssn_kb=%ld mem_per_conn=%.1f rounds=%ld pp_wall=%.6f "
                 "pp_cpu=%.6f rate=%.0f",
                 n, accepted, nofile, rss0, rss_n, n > 0 ? (double)(rss_n - rss0) * 1024.0 / (double)n : 0.0, rounds,
                 pp_wall, pp_cpu, pp_wall > 0 ? (double)rounds / pp_wall : 0.0);
}

#endif
