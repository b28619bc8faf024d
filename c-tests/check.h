/*
 * check.h — netproc's C test harness: CHECK macros, a forking runner, helpers.
 *
 * Header-only; every function is `static inline` so a test that leaves one
 * unused still builds under -Werror. Include it first (it needs POSIX).
 *
 * A test binary is a list of cases:
 *
 *     static void connect_refused(void) { ... CHECK_EQ(rc, NETPROC_E_...); }
 *     int main(void) {
 *         static const struct test_case cases[] = {
 *             {"connect_refused", connect_refused, 5},
 *         };
 *         return run_tests(cases, sizeof cases / sizeof cases[0]);
 *     }
 *
 * Each case runs in its own forked child under an alarm() watchdog, so a crash,
 * a hang or a failed CHECK ends only that case. A failed CHECK prints
 * file:line and the expression to stderr and exits the child with status 1;
 * SKIP_TEST() exits with 77. The parent prints TAP lines:
 *
 *     1..N
 *     ok 1 - name
 *     ok 2 - name # SKIP
 *     not ok 3 - name (reason: exit code 1 | signal 11 (Segmentation fault) | timeout after 5 s)
 *     # 2 passed, 1 failed, 1 skipped
 *
 * Environment: CHECK_FILTER=substring runs only the matching cases;
 * CHECK_TIMEOUT_SCALE=n multiplies every timeout (valgrind is slow).
 *
 * Model: libuv's test/task.h and test/runner.c (CONTRIBUTING.md, "Tests").
 */
#ifndef NETPROC_CHECK_H
#define NETPROC_CHECK_H

#ifndef _GNU_SOURCE
#define _XOPEN_SOURCE 700 /* fork, mkdtemp, nftw, clock_gettime under -std=c11 */
#endif

#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Exit status that means "skipped", as in automake and libuv. */
#define CHECK_SKIP_EXIT 77

/* ---- failure reporting ---------------------------------------------------- */

__attribute__((noreturn, format(printf, 3, 4)))
static inline void check_fail_(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1); /* we are in the forked child: this ends one case, not the run */
}

/* Prints up to 48 bytes of a buffer, escaping what is not printable ASCII. */
static inline void check_print_bytes_(const char *label, const void *p, size_t len) {
    const unsigned char *s = (const unsigned char *)p;
    size_t i, shown = len < 48 ? len : 48;
    fprintf(stderr, "  %s (%zu bytes): \"", label, len);
    for (i = 0; s != NULL && i < shown; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
            fputc(s[i], stderr);
        else
            fprintf(stderr, "\\x%02x", s[i]);
    }
    fprintf(stderr, "\"%s\n", shown < len ? "..." : "");
}

__attribute__((noreturn))
static inline void check_str_fail_(const char *file, int line, const char *a_expr,
                                   const char *b_expr, const char *a, const char *b) {
    check_fail_(file, line, "CHECK_STR_EQ(%s, %s) failed: %s%s%s != %s%s%s", a_expr, b_expr,
                a ? "\"" : "", a ? a : "NULL", a ? "\"" : "",
                b ? "\"" : "", b ? b : "NULL", b ? "\"" : "");
}

/* ---- checks ------------------------------------------------------------- */

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond))                                                             \
            check_fail_(__FILE__, __LINE__, "CHECK(%s) failed", #cond);          \
    } while (0)

/* Integers only; both sides are shown as long long. */
#define CHECK_EQ(a, b)                                                           \
    do {                                                                         \
        long long check_a_ = (long long)(a);                                     \
        long long check_b_ = (long long)(b);                                     \
        if (check_a_ != check_b_)                                                \
            check_fail_(__FILE__, __LINE__, "CHECK_EQ(%s, %s) failed: %lld != %lld", \
                        #a, #b, check_a_, check_b_);                             \
    } while (0)

/* NUL-terminated strings; NULL equals only NULL. */
#define CHECK_STR_EQ(a, b)                                                       \
    do {                                                                         \
        const char *check_a_ = (a);                                              \
        const char *check_b_ = (b);                                              \
        if ((check_a_ == NULL || check_b_ == NULL)                               \
                ? check_a_ != check_b_ : strcmp(check_a_, check_b_) != 0)        \
            check_str_fail_(__FILE__, __LINE__, #a, #b, check_a_, check_b_);     \
    } while (0)

/* Byte buffers with lengths, e.g. what a filter received vs. what was sent. */
#define CHECK_MEM_EQ(a, alen, b, blen)                                           \
    do {                                                                         \
        const void *check_a_ = (a);                                              \
        const void *check_b_ = (b);                                              \
        size_t check_alen_ = (size_t)(alen);                                     \
        size_t check_blen_ = (size_t)(blen);                                     \
        if (check_alen_ != check_blen_                                           \
                || (check_alen_ > 0 && memcmp(check_a_, check_b_, check_alen_) != 0)) { \
            check_print_bytes_(#a, check_a_, check_alen_);                       \
            check_print_bytes_(#b, check_b_, check_blen_);                       \
            check_fail_(__FILE__, __LINE__, "CHECK_MEM_EQ(%s, %s, %s, %s) failed", \
                        #a, #alen, #b, #blen);                                   \
        }                                                                        \
    } while (0)

#define CHECK_NULL(p)                                                            \
    do {                                                                         \
        const void *check_p_ = (p);                                              \
        if (check_p_ != NULL)                                                    \
            check_fail_(__FILE__, __LINE__, "CHECK_NULL(%s) failed: %p", #p, check_p_); \
    } while (0)

#define CHECK_NOT_NULL(p)                                                        \
    do {                                                                         \
        if ((p) == NULL)                                                         \
            check_fail_(__FILE__, __LINE__, "CHECK_NOT_NULL(%s) failed", #p);    \
    } while (0)

/*
 * CHECK_OK(ctx, rc): rc must be 0 (NETPROC_OK). On failure it prints rc, then
 * calls CHECK_OK_DETAIL(ctx, rc) to print more, then exits. The default hook
 * prints nothing; to show netproc_status_name(rc) and netproc_last_error(ctx),
 * define CHECK_OK_DETAIL(ctx, rc) (as statements writing to stderr) before
 * including check.h, or #undef and redefine it before the first CHECK_OK use.
 */
#ifndef CHECK_OK_DETAIL
#define CHECK_OK_DETAIL(ctx, rc) ((void)(ctx), (void)(rc))
#endif

#define CHECK_OK(ctx, rc)                                                        \
    do {                                                                         \
        long long check_rc_ = (long long)(rc);                                   \
        if (check_rc_ != 0) {                                                    \
            fprintf(stderr, "%s:%d: CHECK_OK(%s) failed: rc = %lld\n",           \
                    __FILE__, __LINE__, #rc, check_rc_);                         \
            CHECK_OK_DETAIL(ctx, check_rc_);                                     \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

/* Ends the current case as skipped; the reason is printed as a TAP comment. */
#define SKIP_TEST(reason)                                                        \
    do {                                                                         \
        printf("# skip: %s\n", (reason));                                        \
        exit(CHECK_SKIP_EXIT);                                                   \
    } while (0)

/*
 * Pumping: cases wait for netproc events only through a bounded pump, never
 * `while (!done)`. It needs the netproc API, so it lives in c-tests/pump.h:
 *
 *     PUMP_UNTIL(ctx, cond, max_iters, max_ms)
 *
 * polls ctx until `cond` is true, at most max_iters times and max_ms
 * milliseconds (measure with monotonic_ms()), and fails the case with
 * file:line, #cond and the bound that was hit otherwise.
 */

/* ---- helpers ------------------------------------------------------------ */

static inline uint64_t monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Creates a fresh private directory under /tmp (short paths, for unix sockets);
 * returns buf, or NULL with errno set. */
static inline char *make_temp_dir(char *buf, size_t n) {
    static const char template_[] = "/tmp/netproc-test-XXXXXX";
    if (n < sizeof template_) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    memcpy(buf, template_, sizeof template_);
    return mkdtemp(buf);
}

static inline int check_remove_entry_(const char *path, const struct stat *sb,
                                      int type, struct FTW *ftw) {
    (void)sb, (void)type, (void)ftw;
    return remove(path);
}

/* rm -rf path; returns 0, or -1 with errno set. Does not follow symlinks. */
static inline int remove_temp_dir(const char *path) {
    return nftw(path, check_remove_entry_, 16, FTW_DEPTH | FTW_PHYS);
}

/* Whether ::1 can be bound here; IPv6 cases SKIP_TEST() without it. */
static inline bool can_ipv6(void) {
    struct sockaddr_in6 addr;
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    bool ok;
    if (fd < 0)
        return false;
    memset(&addr, 0, sizeof addr);
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_loopback;
    addr.sin6_port = 0;
    ok = bind(fd, (const struct sockaddr *)&addr, sizeof addr) == 0;
    close(fd);
    return ok;
}

/* ---- runner ------------------------------------------------------------- */

typedef void (*test_fn)(void);

struct test_case {
    const char *name;
    test_fn fn;
    unsigned timeout_s; /* 0 means CHECK_DEFAULT_TIMEOUT_S */
};

#ifndef CHECK_DEFAULT_TIMEOUT_S
#define CHECK_DEFAULT_TIMEOUT_S 10u
#endif

static inline unsigned check_timeout_scale_(void) {
    const char *s = getenv("CHECK_TIMEOUT_SCALE");
    long v = s ? strtol(s, NULL, 10) : 1;
    return v >= 1 && v <= 1000 ? (unsigned)v : 1u;
}

/* Runs one case in a child; returns its wait status, or -1 if it timed out
 * (or could not be started: then *reason says so). */
static inline int check_run_child_(const struct test_case *tc, unsigned timeout_s,
                                   char *reason, size_t reason_len) {
    uint64_t deadline;
    int status = 0;
    pid_t pid;

    /* Otherwise buffered output would be printed by both processes. */
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        snprintf(reason, reason_len, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        alarm(timeout_s);
        tc->fn();
        exit(0);
    }

    /* The child's alarm() can be blocked or caught; this is the backstop. */
    deadline = monotonic_ms() + (uint64_t)timeout_s * 1000u + 2000u;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            snprintf(reason, reason_len, "waitpid: %s", strerror(errno));
            return -1;
        }
        if (monotonic_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(reason, reason_len, "timeout after %u s", timeout_s);
            return -1;
        }
        {
            struct timespec pause_ = {0, 5 * 1000 * 1000};
            nanosleep(&pause_, NULL);
        }
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
        snprintf(reason, reason_len, "timeout after %u s", timeout_s);
        return -1;
    }
    return status;
}

/* Runs the cases in order; returns 1 if any failed, else 0 (for main's return). */
static inline int run_tests(const struct test_case *cases, size_t n) {
    const char *filter = getenv("CHECK_FILTER");
    unsigned scale = check_timeout_scale_();
    size_t i, passed = 0, failed = 0, skipped = 0;

    printf("1..%zu\n", n);
    for (i = 0; i < n; i++) {
        const struct test_case *tc = &cases[i];
        unsigned timeout_s = (tc->timeout_s ? tc->timeout_s : CHECK_DEFAULT_TIMEOUT_S) * scale;
        char reason[96] = "";
        int status;

        if (filter != NULL && strstr(tc->name, filter) == NULL) {
            printf("ok %zu - %s # SKIP filtered out\n", i + 1, tc->name);
            skipped++;
            continue;
        }
        status = check_run_child_(tc, timeout_s, reason, sizeof reason);
        if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            printf("ok %zu - %s\n", i + 1, tc->name);
            passed++;
            continue;
        }
        if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == CHECK_SKIP_EXIT) {
            printf("ok %zu - %s # SKIP\n", i + 1, tc->name);
            skipped++;
            continue;
        }
        if (status >= 0 && WIFEXITED(status))
            snprintf(reason, sizeof reason, "exit code %d", WEXITSTATUS(status));
        else if (status >= 0 && WIFSIGNALED(status))
            snprintf(reason, sizeof reason, "signal %d (%s)", WTERMSIG(status),
                     strsignal(WTERMSIG(status)));
        printf("not ok %zu - %s (reason: %s)\n", i + 1, tc->name, reason);
        failed++;
    }
    printf("# %zu passed, %zu failed", passed, failed);
    if (skipped > 0)
        printf(", %zu skipped", skipped);
    printf("\n");
    fflush(stdout);
    return failed > 0 ? 1 : 0;
}

#endif /* NETPROC_CHECK_H */
