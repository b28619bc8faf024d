/*
 * stress_common.h — helpers shared by the load-with-integrity programs (c-tests/stress_*.c,
 * run by `make test-stress`, not by `make test`): seeded byte streams generated a word at a
 * time, a running digest, the open-file limit, descriptor/memory/process-list figures, and
 * a watchdog. Include after check.h and pump.h.
 *
 * A stress program is not a list of forked cases: it runs once, prints its figures as
 * "# name: value" lines, and exits 0 only if every byte and every digest checked out and
 * the descriptors and the process list came back to where they started.
 */
#ifndef NETPROC_STRESS_COMMON_H
#define NETPROC_STRESS_COMMON_H

#include <malloc.h>
#include <sys/resource.h>

/* ---- seeded byte streams --------------------------------------------------- */

/* Word `k` of the stream for `seed`; byte i of the stream is byte (i % 8) of word i / 8,
 * the same stream as pump.h's pattern_byte(), made eight bytes at a time. */
static inline uint64_t stress_word(uint64_t seed, uint64_t k) {
    uint64_t z = seed + (k + 1) * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Bytes [offset, offset + n) of the stream for `seed`, into buf. */
static inline void stress_fill(uint8_t *buf, size_t n, uint64_t seed, uint64_t offset) {
    size_t i = 0;
    while (i < n && (offset + i) % 8 != 0) {
        buf[i] = (uint8_t)(stress_word(seed, (offset + i) / 8) >> (8 * ((offset + i) % 8)));
        i++;
    }
    for (; i + 8 <= n; i += 8) {
        uint64_t w = stress_word(seed, (offset + i) / 8);
        for (unsigned b = 0; b < 8; b++) buf[i + b] = (uint8_t)(w >> (8 * b));
    }
    for (; i < n; i++) buf[i] = (uint8_t)(stress_word(seed, (offset + i) / 8) >> (8 * ((offset + i) % 8)));
}

/* Index of the first byte of data[0..n) that differs from the stream for `seed` at
 * `offset`, or n if all match. Uses a scratch block so no allocation is needed. */
static inline size_t stress_mismatch(const uint8_t *data, size_t n, uint64_t seed, uint64_t offset) {
    uint8_t expect[4096];
    for (size_t done = 0; done < n;) {
        size_t chunk = n - done < sizeof expect ? n - done : sizeof expect;
        stress_fill(expect, chunk, seed, offset + done);
        if (memcmp(expect, data + done, chunk) != 0) {
            for (size_t i = 0; i < chunk; i++)
                if (expect[i] != data[done + i]) return done + i;
        }
        done += chunk;
    }
    return n;
}

/* ---- digests ----------------------------------------------------------------- */

#define STRESS_DIGEST_INIT 0xcbf29ce484222325ull

/* FNV-1a, 64 bits: a digest of every byte, in order. */
static inline uint64_t stress_digest(uint64_t h, const uint8_t *data, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h ^= data[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The digest of bytes [0, n) of the stream for `seed`, computed independently of any
 * connection. */
static inline uint64_t stress_stream_digest(uint64_t seed, uint64_t n) {
    uint8_t block[4096];
    uint64_t h = STRESS_DIGEST_INIT;
    for (uint64_t done = 0; done < n;) {
        size_t chunk = n - done < sizeof block ? (size_t)(n - done) : sizeof block;
        stress_fill(block, chunk, seed, done);
        h = stress_digest(h, block, chunk);
        done += chunk;
    }
    return h;
}

/* ---- limits and figures -------------------------------------------------------- */

/* Raise the soft open-file limit to `want` (or the hard limit, if lower); returns the
 * new soft limit. */
static inline rlim_t stress_raise_nofile(rlim_t want) {
    struct rlimit limit;
    CHECK(getrlimit(RLIMIT_NOFILE, &limit) == 0);
    if (limit.rlim_max != RLIM_INFINITY && want > limit.rlim_max) want = limit.rlim_max;
    if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur < want) {
        limit.rlim_cur = want;
        CHECK(setrlimit(RLIMIT_NOFILE, &limit) == 0);
    }
    CHECK(getrlimit(RLIMIT_NOFILE, &limit) == 0);
    return limit.rlim_cur;
}

/* A "Key:   N kB" line of /proc/self/status, in kB; -1 if absent. */
static inline long stress_status_kb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return -1;
    char line[256];
    long kb = -1;
    size_t keylen = strlen(key);
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, key, keylen) == 0 && line[keylen] == ':') {
            kb = strtol(line + keylen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

/* How many processes are in the context's process list. */
static inline size_t stress_process_count(netproc_context *ctx) {
    size_t count = 0;
    CHECK_EQ(netproc_process_list(ctx, NULL, 0, &count), NETPROC_OK);
    return count;
}

/* Threads of this process (the resolver pool is netproc's), from /proc/self/status. */
static inline long stress_threads(void) {
    return stress_status_kb("Threads");
}

/* The start of a program: a watchdog, stdout unbuffered by line, figures of the idle state. */
struct stress_baseline {
    uint64_t start_ms;
    int fds;
    long rss_kb;
    long threads;
};

static inline struct stress_baseline stress_begin(const char *name, unsigned watchdog_s) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    alarm(watchdog_s);
    struct stress_baseline b;
    b.start_ms = monotonic_ms();
    b.fds = count_open_fds();
    b.rss_kb = stress_status_kb("VmRSS");
    b.threads = stress_threads();
    printf("# %s: watchdog %u s, open-file limit %llu\n", name, watchdog_s,
           (unsigned long long)stress_raise_nofile(0));
    return b;
}

/* Print the closing figures and check that descriptors came back to the baseline. Returns
 * the number of failed checks (0 or 1). */
static inline int stress_end(const char *name, const struct stress_baseline *b) {
    int fds = count_open_fds();
    malloc_trim(0); /* give freed heap back, so "after" shows what is still in use */
    long rss = stress_status_kb("VmRSS");
    long hwm = stress_status_kb("VmHWM");
    printf("# %s: wall time %.2f s\n", name, (double)(monotonic_ms() - b->start_ms) / 1000.0);
    printf("# %s: descriptors before %d, after %d\n", name, b->fds, fds);
#if defined(__SANITIZE_ADDRESS__)
    const char *note = " (ASan holds freed memory in quarantine; LSan checks leaks at exit)";
#else
    const char *note = "";
#endif
    printf("# %s: memory (VmRSS) before %ld kB, after %ld kB (after malloc_trim), peak %ld kB%s\n", name, b->rss_kb,
           rss, hwm, note);
    if (fds != b->fds) {
        printf("not ok - %s: %d descriptors leaked\n", name, fds - b->fds);
        return 1;
    }
    return 0;
}

/* Wait (bounded) for a forked child; returns its exit code, or 128 + signal. */
static inline int stress_wait_child(pid_t pid, unsigned max_ms) {
    uint64_t deadline = monotonic_ms() + max_ms;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) return 127;
        if (monotonic_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return 137;
        }
        sleep_ms(5);
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* Whether a forked child has exited, without waiting; *code gets its exit code. */
static inline bool stress_child_done(pid_t pid, int *code) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r != pid) return false;
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return true;
}

#endif /* NETPROC_STRESS_COMMON_H */
