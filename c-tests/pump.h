/*
 * pump.h — netproc-specific test helpers: an event recorder for filters,
 * sentinels and log functions, bounded pumping, and argument shorthands.
 * Include after check.h.
 */
#ifndef NETPROC_PUMP_H
#define NETPROC_PUMP_H

#include "netproc.h"

#undef CHECK_OK_DETAIL
/* On a failed CHECK_OK, show the Emacs error netproc recorded. */
#define CHECK_OK_DETAIL(ctx, rc) pump_print_last_error_((ctx))

static inline void pump_print_last_error_(netproc_context *ctx) {
    const char *symbol = NULL, *message = NULL;
    int err = 0;
    netproc_last_error(ctx, &symbol, &message, &err);
    fprintf(stderr, "  last error: (%s) %s [errno %d]\n", symbol ? symbol : "?", message ? message : "?", err);
}

/* ---- argument shorthands ---------------------------------------------- */

#define ARG(key, value) ((netproc_arg){(key), (value)})
#define NARGS(array) (sizeof(array) / sizeof((array)[0]))
#define STR(text) netproc_string(text)
#define SYM(name) netproc_symbol(name)
#define INT(n) netproc_integer(n)

/* ---- event recorder ---------------------------------------------------- */

enum rec_kind { REC_FILTER, REC_SENTINEL, REC_LOG };

struct rec_event {
    enum rec_kind kind;
    netproc_process *process; /* borrowed: compare only, never dereference later */
    netproc_process *client;  /* log events: the accepted process (NULL on failure) */
    char name[256];           /* the process's name at the time */
    char *data;               /* filter bytes or message, NUL-terminated copy */
    size_t length;
};

struct recorder {
    struct rec_event *events;
    size_t count, capacity;
    size_t filter_bytes; /* total bytes seen by filters */
};

static inline void rec_push_(struct recorder *rec, enum rec_kind kind, netproc_process *p,
                             netproc_process *client, const void *data, size_t length) {
    if (rec->count == rec->capacity) {
        rec->capacity = rec->capacity ? rec->capacity * 2 : 64;
        rec->events = (struct rec_event *)realloc(rec->events, rec->capacity * sizeof *rec->events);
        CHECK_NOT_NULL(rec->events);
    }
    struct rec_event *e = &rec->events[rec->count++];
    e->kind = kind;
    e->process = p;
    e->client = client;
    const char *name = netproc_process_name(p, NULL);
    snprintf(e->name, sizeof e->name, "%s", name ? name : "?");
    e->data = (char *)malloc(length + 1);
    CHECK_NOT_NULL(e->data);
    if (length) memcpy(e->data, data, length);
    e->data[length] = '\0';
    e->length = length;
}

static inline void rec_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct recorder *rec = (struct recorder *)ud;
    rec->filter_bytes += len;
    rec_push_(rec, REC_FILTER, p, NULL, data, len);
}

static inline void rec_sentinel(void *ud, netproc_process *p, const char *msg, size_t len) {
    rec_push_((struct recorder *)ud, REC_SENTINEL, p, NULL, msg, len);
}

static inline void rec_log(void *ud, netproc_process *server, netproc_process *client, const char *msg,
                           size_t len) {
    rec_push_((struct recorder *)ud, REC_LOG, server, client, msg, len);
}

static inline void rec_free(struct recorder *rec) {
    for (size_t i = 0; i < rec->count; i++) free(rec->events[i].data);
    free(rec->events);
    memset(rec, 0, sizeof *rec);
}

/* Index of the first event of `kind` for process `p` (NULL: any) whose data equals
 * `data` (NULL: any), at or after `from`; -1 if none. */
static inline long rec_find(const struct recorder *rec, size_t from, enum rec_kind kind, netproc_process *p,
                            const char *data) {
    for (size_t i = from; i < rec->count; i++) {
        const struct rec_event *e = &rec->events[i];
        if (e->kind != kind) continue;
        if (p && e->process != p) continue;
        if (data && strcmp(e->data, data) != 0) continue;
        return (long)i;
    }
    return -1;
}

/* How many events of `kind` for `p` (NULL: any). */
static inline size_t rec_count(const struct recorder *rec, enum rec_kind kind, netproc_process *p) {
    size_t n = 0;
    for (size_t i = 0; i < rec->count; i++)
        if (rec->events[i].kind == kind && (!p || rec->events[i].process == p)) n++;
    return n;
}

/* All filter bytes for `p`, concatenated into buf (NUL-terminated); returns the length. */
static inline size_t rec_output(const struct recorder *rec, netproc_process *p, char *buf, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < rec->count; i++) {
        const struct rec_event *e = &rec->events[i];
        if (e->kind != REC_FILTER || (p && e->process != p)) continue;
        for (size_t j = 0; j < e->length && n + 1 < cap; j++) buf[n++] = e->data[j];
    }
    if (cap) buf[n] = '\0';
    return n;
}

/* The sentinel messages `p` got, in order, joined by "|", into `buf`. */
static inline const char *sentinels_of(const struct recorder *rec, netproc_process *p, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < rec->count; i++) {
        if (rec->events[i].kind != REC_SENTINEL || rec->events[i].process != p) continue;
        int w = snprintf(buf + n, cap - n, "%s%s", n ? "|" : "", rec->events[i].data);
        if (w > 0) n += (size_t)w < cap - n ? (size_t)w : cap - n - 1;
    }
    return buf;
}

/* Values for :filter, :sentinel and :log that record into `rec`. */
#define REC_FILTER_V(rec) netproc_filter(rec_filter, (rec))
#define REC_SENTINEL_V(rec) netproc_sentinel(rec_sentinel, (rec))
#define REC_LOG_V(rec) netproc_log(rec_log, (rec))

/* ---- pumping ------------------------------------------------------------ */

/* Pump until `cond` holds, at most `max_ms` milliseconds (and a bounded number of polls).
 * Evaluates to true if the condition held. */
#define PUMP_UNTIL(ctx, cond, max_ms)                                                   \
    __extension__({                                                                     \
        uint64_t pump_deadline_ = monotonic_ms() + (uint64_t)(max_ms);                  \
        unsigned pump_iters_ = 0;                                                       \
        bool pump_ok_ = (cond);                                                         \
        while (!pump_ok_ && monotonic_ms() < pump_deadline_ && pump_iters_++ < 100000) { \
            int pump_rc_ = netproc_poll((ctx), 10);                                     \
            CHECK(pump_rc_ >= 0);                                                       \
            pump_ok_ = (cond);                                                          \
        }                                                                               \
        pump_ok_;                                                                       \
    })

/* Pump for about `ms` milliseconds regardless, to let things that should NOT happen show. */
static inline void pump_for(netproc_context *ctx, unsigned ms) {
    uint64_t deadline = monotonic_ms() + ms;
    while (monotonic_ms() < deadline) CHECK(netproc_poll(ctx, 5) >= 0);
}

/* ---- common setups ------------------------------------------------------ */

static inline netproc_context *new_context(void) {
    netproc_context *ctx = NULL;
    CHECK_EQ(netproc_context_new(&ctx), NETPROC_OK);
    CHECK_NOT_NULL(ctx);
    return ctx;
}

/* The integer value of a contact key (e.g. ":service"), or -1. */
static inline long long contact_int(netproc_process *p, const char *key) {
    netproc_value v;
    CHECK_EQ(netproc_process_contact(p, key, false, &v), NETPROC_OK);
    long long n = v.kind == NETPROC_VALUE_INTEGER ? v.integer : -1;
    netproc_value_free(&v);
    return n;
}

/* A TCP server on 127.0.0.1 with a random port, recording everything into `rec`. */
static inline netproc_process *start_server(netproc_context *ctx, const char *name, struct recorder *rec) {
    netproc_arg args[] = {
        ARG(":name", STR(name)),        ARG(":server", netproc_t()),
        ARG(":service", netproc_t()),   ARG(":filter", REC_FILTER_V(rec)),
        ARG(":sentinel", REC_SENTINEL_V(rec)), ARG(":log", REC_LOG_V(rec)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    CHECK_NOT_NULL(server);
    return server;
}

/* A blocking TCP client to 127.0.0.1:port recording into `rec`. */
static inline netproc_process *start_client(netproc_context *ctx, const char *name, long long port,
                                            struct recorder *rec) {
    netproc_arg args[] = {
        ARG(":name", STR(name)),
        ARG(":service", INT(port)),
        ARG(":filter", REC_FILTER_V(rec)),
        ARG(":sentinel", REC_SENTINEL_V(rec)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));
    CHECK_NOT_NULL(client);
    return client;
}

/* ---- raw peers, errors, descriptors, byte patterns ------------------------ */

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <arpa/inet.h>

/* The last error's message (ctx NULL: this thread's last error); "" if none. */
static inline const char *last_error_message(netproc_context *ctx) {
    const char *message = NULL;
    netproc_last_error(ctx, NULL, &message, NULL);
    return message ? message : "";
}

/* The last error's Emacs symbol ("error", "file-error", …); "" if none. */
static inline const char *last_error_symbol(netproc_context *ctx) {
    const char *symbol = NULL;
    netproc_last_error(ctx, &symbol, NULL, NULL);
    return symbol ? symbol : "";
}

/* The last error's errno. */
static inline int last_error_errno(netproc_context *ctx) {
    int err = 0;
    netproc_last_error(ctx, NULL, NULL, &err);
    return err;
}

/* How many descriptors this process has open (entries of /proc/self/fd, not counting the
 * one used to list them), or -1 if /proc is unavailable. */
static inline int count_open_fds(void) {
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) return -1;
    int n = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL)
        if (entry->d_name[0] != '.') n++;
    closedir(dir);
    return n - 1;
}

/* A plain (non-netproc), non-blocking TCP listener on 127.0.0.1 with a kernel-chosen
 * port, written to *port. rcvbuf > 0 sets SO_RCVBUF, which accepted sockets inherit (a
 * small one makes a peer that does not read fill up sooner). */
static inline int raw_tcp_listener(long long *port, int rcvbuf) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    if (rcvbuf > 0) CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) == 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    CHECK(listen(fd, 16) == 0);
    socklen_t len = sizeof addr;
    CHECK(getsockname(fd, (struct sockaddr *)&addr, &len) == 0);
    *port = ntohs(addr.sin_port);
    return fd;
}

/* Accept one connection on a raw listener, pumping ctx while waiting (bounded); the
 * accepted socket is non-blocking. */
static inline int raw_accept(netproc_context *ctx, int listener, unsigned max_ms) {
    int peer = -1;
    bool ok = PUMP_UNTIL(ctx, (peer = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0, max_ms);
    CHECK(ok);
    return peer;
}

/* Close a raw socket abortively: SO_LINGER 0 makes close() send a reset. */
static inline void raw_reset(int fd) {
    struct linger lg = {1, 0};
    CHECK(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    CHECK(close(fd) == 0);
}

/* Byte `index` of a deterministic pseudo-random stream chosen by `seed`: compare what a
 * peer received against what was sent, position by position. */
static inline uint8_t pattern_byte(uint64_t seed, uint64_t index) {
    uint64_t z = seed + (index / 8 + 1) * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (uint8_t)(z >> (8 * (index % 8)));
}

/* Fill buf with bytes [offset, offset + n) of the stream for `seed`. */
static inline void fill_pattern(uint8_t *buf, size_t n, uint64_t seed, uint64_t offset) {
    for (size_t i = 0; i < n; i++) buf[i] = pattern_byte(seed, offset + i);
}

/* Read a raw non-blocking peer into sink[*got..cap) while pumping ctx (netproc_poll(ctx, 0)
 * between reads, so netproc flushes its queue as the peer drains it), until `want` bytes
 * are in or, with until_eof, the peer has also read EOF. Bounded by max_ms. Fails the
 * case if more than cap bytes arrive or the read fails. Returns whether EOF was read. */
static inline bool peer_read(netproc_context *ctx, int fd, uint8_t *sink, size_t cap, size_t *got,
                             size_t want, bool until_eof, unsigned max_ms) {
    uint64_t deadline = monotonic_ms() + max_ms;
    bool eof = false;
    while (monotonic_ms() < deadline) {
        bool progress = false;
        for (;;) {
            uint8_t spill[1];
            uint8_t *into = *got < cap ? sink + *got : spill;
            size_t room = *got < cap ? cap - *got : sizeof spill;
            ssize_t n = recv(fd, into, room, MSG_DONTWAIT);
            if (n > 0) {
                CHECK(*got < cap); /* more than cap bytes arrived */
                *got += (size_t)n;
                progress = true;
                continue;
            }
            if (n == 0) eof = true;
            else CHECK(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
            break;
        }
        if (*got >= want && (!until_eof || eof)) return eof;
        if (eof) return eof;
        CHECK(netproc_poll(ctx, progress ? 0 : 1) >= 0);
    }
    return eof;
}

/* ---- values, contacts, plain sockets ------------------------------------ */

#include <arpa/inet.h>

/* Whether `v` is a STRING with exactly the bytes of `text`. */
static inline bool value_is_string(const netproc_value *v, const char *text) {
    return v->kind == NETPROC_VALUE_STRING && v->length == strlen(text)
        && memcmp(v->bytes, text, v->length) == 0;
}

static inline bool value_is_symbol(const netproc_value *v, const char *name) {
    return v->kind == NETPROC_VALUE_SYMBOL && v->length == strlen(name)
        && memcmp(v->bytes, name, v->length) == 0;
}

/* Whether `v` is a VECTOR of `n` INTEGERs equal to `expected`, e.g. [127 0 0 1 PORT]. */
static inline bool value_is_int_vector(const netproc_value *v, const long long *expected, size_t n) {
    if (v->kind != NETPROC_VALUE_VECTOR || v->count != n) return false;
    for (size_t i = 0; i < n; i++)
        if (v->items[i].kind != NETPROC_VALUE_INTEGER || v->items[i].integer != expected[i]) return false;
    return true;
}

/* The port of an address vector held in a contact key (":local", ":remote"): its last
 * element; -1 if the key is not an integer vector. */
static inline long long contact_port(netproc_process *p, const char *key) {
    netproc_value v;
    CHECK_EQ(netproc_process_contact(p, key, false, &v), NETPROC_OK);
    long long port = -1;
    if (v.kind == NETPROC_VALUE_VECTOR && v.count > 0 && v.items[v.count - 1].kind == NETPROC_VALUE_INTEGER)
        port = v.items[v.count - 1].integer;
    netproc_value_free(&v);
    return port;
}

/* Whether `p` is in the context's process list now. */
static inline bool in_process_list(netproc_context *ctx, netproc_process *p) {
    netproc_process *list[256];
    size_t count = 0;
    CHECK_EQ(netproc_process_list(ctx, list, 256, &count), NETPROC_OK);
    for (size_t i = 0; i < count && i < 256; i++)
        if (list[i] == p) return true;
    return false;
}

/* A plain blocking TCP socket connected to the loopback address of `family` (AF_INET or
 * AF_INET6) at `port`; fails the case if it cannot connect. */
static inline int raw_connect(int family, long long port) {
    int fd = socket(family, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    int rc;
    if (family == AF_INET6) {
        struct sockaddr_in6 a;
        memset(&a, 0, sizeof a);
        a.sin6_family = AF_INET6;
        a.sin6_addr = in6addr_loopback;
        a.sin6_port = htons((uint16_t)port);
        rc = connect(fd, (const struct sockaddr *)&a, sizeof a);
    } else {
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons((uint16_t)port);
        rc = connect(fd, (const struct sockaddr *)&a, sizeof a);
    }
    CHECK_EQ(rc, 0);
    return fd;
}

/* A plain TCP listener on 127.0.0.1 with a random port, stored in *port. */
static inline int raw_listen(long long *port) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(bind(fd, (const struct sockaddr *)&a, sizeof a), 0);
    CHECK_EQ(listen(fd, 8), 0);
    CHECK_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A 127.0.0.1 port that nothing listens on (bound, then closed, so it is free again). */
static inline long long closed_port(void) {
    long long port = 0;
    close(raw_listen(&port));
    return port;
}

/* send() all of `text` on a plain socket, or fail the case. */
static inline void raw_send(int fd, const char *text) {
    size_t len = strlen(text);
    CHECK_EQ(send(fd, text, len, MSG_NOSIGNAL), (long long)len);
}

/* ---- expected errors ------------------------------------------------------ */

/* CHECK_ERROR(ctx, rc, status, symbol, message): the call returned `status`, and
 * netproc_last_error(ctx, …) (ctx NULL: this thread's last error) reports that same status,
 * the Emacs error `symbol` and exactly `message` (NULL: any message). CHECK_ERROR_PREFIX
 * compares only the start of the message, for texts that vary (strerror, gai_strerror). */
#define CHECK_ERROR(ctx, rc, status, symbol, message) \
    check_error_(__FILE__, __LINE__, #rc, (ctx), (long long)(rc), (status), (symbol), (message), false)
#define CHECK_ERROR_PREFIX(ctx, rc, status, symbol, prefix) \
    check_error_(__FILE__, __LINE__, #rc, (ctx), (long long)(rc), (status), (symbol), (prefix), true)

static inline void check_error_(const char *file, int line, const char *expr, netproc_context *ctx,
                                long long rc, int status, const char *symbol, const char *message,
                                bool prefix) {
    const char *got_symbol = NULL, *got_message = NULL;
    int err = 0;
    int last = (int)netproc_last_error(ctx, &got_symbol, &got_message, &err);
    bool ok = rc == status && last == status && got_symbol != NULL && got_message != NULL
        && (symbol == NULL || strcmp(got_symbol, symbol) == 0)
        && (message == NULL
            || (prefix ? strncmp(got_message, message, strlen(message)) == 0 : strcmp(got_message, message) == 0));
    if (!ok)
        check_fail_(file, line,
                    "CHECK_ERROR(%s) failed\n  want: %s (%s) %s\"%s\"\n  got:  rc %s, last_error %s (%s) \"%s\" [errno %d]",
                    expr, netproc_status_name(status), symbol ? symbol : "any", prefix ? "starting with " : "",
                    message ? message : "any", netproc_status_name((int32_t)rc), netproc_status_name(last),
                    got_symbol ? got_symbol : "NULL", got_message ? got_message : "NULL", err);
}

/* ---- time: bounds, sleeping, CPU ------------------------------------------------ */

/* A wait bound in milliseconds, stretched by CHECK_TIMEOUT_SCALE like the case timeouts
 * (valgrind is slow). For upper bounds only: never scale a "waited at least" check. */
static inline uint64_t scaled_ms(unsigned ms) {
    return (uint64_t)ms * check_timeout_scale_();
}

/* Sleep about `ms` milliseconds (resumed after signals). */
static inline void sleep_ms(unsigned ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* CPU time used so far by the whole process (all threads, user + system), in µs: compare
 * it with monotonic_ms() around an idle wait to catch busy loops. */
static inline uint64_t process_cpu_us(void) {
    struct timespec ts;
    CHECK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- coding systems ---------------------------------------------------------- */

/* send() all of `len` bytes (NULs allowed) on a plain socket, or fail the case. */
static inline void raw_send_bytes(int fd, const void *data, size_t len) {
    CHECK_EQ(send(fd, data, len, MSG_NOSIGNAL), (long long)len);
}

/* process-coding-system as Lisp prints it, "(utf-8 . utf-8-unix)", "(nil . raw-text-unix)",
 * into buf; returns buf. Anything else than a CONS of SYMBOLs/NILs prints as "?". */
static inline const char *coding_system_text(netproc_process *p, char *buf, size_t n) {
    netproc_value v;
    CHECK_EQ(netproc_process_coding_system(p, &v), NETPROC_OK);
    char half[2][128] = {"", ""};
    bool ok = v.kind == NETPROC_VALUE_CONS && v.count == 2;
    for (size_t i = 0; ok && i < 2; i++) {
        const netproc_value *item = &v.items[i];
        if (item->kind == NETPROC_VALUE_NIL) snprintf(half[i], sizeof half[i], "nil");
        else if (item->kind == NETPROC_VALUE_SYMBOL)
            snprintf(half[i], sizeof half[i], "%.*s", (int)item->length, (const char *)item->bytes);
        else ok = false;
    }
    if (ok) snprintf(buf, n, "(%s . %s)", half[0], half[1]);
    else snprintf(buf, n, "?");
    netproc_value_free(&v);
    return buf;
}

/* ---- leak checks: nothing listed, no descriptor left ------------------------------ */

/* How many processes `ctx` lists. */
static inline size_t listed_processes(netproc_context *ctx) {
    size_t count = 0;
    CHECK_EQ(netproc_process_list(ctx, NULL, 0, &count), NETPROC_OK);
    return count;
}

/* The descriptor count a case starts from (skips the case without /proc/self/fd). */
static inline int fd_baseline(void) {
    int fds = count_open_fds();
    if (fds < 0) SKIP_TEST("/proc/self/fd is not available");
    return fds;
}

/* CHECK_NO_LEAK(ctx, baseline): `ctx` (NULL: none) lists no process and frees cleanly, and
 * exactly `baseline` descriptors are open afterwards. Memory is LeakSanitizer's and
 * valgrind's part (make test-asan, make test-valgrind). */
#define CHECK_NO_LEAK(ctx, baseline) check_no_leak_(__FILE__, __LINE__, (ctx), (baseline))

static inline void check_no_leak_(const char *file, int line, netproc_context *ctx, int baseline) {
    if (ctx != NULL) {
        size_t listed = listed_processes(ctx);
        if (listed != 0) check_fail_(file, line, "CHECK_NO_LEAK: %zu processes still listed", listed);
        int rc = netproc_context_free(ctx);
        if (rc != NETPROC_OK) check_fail_(file, line, "CHECK_NO_LEAK: netproc_context_free gave %d", rc);
    }
    int fds = count_open_fds();
    if (fds != baseline) check_fail_(file, line, "CHECK_NO_LEAK: %d descriptors open, %d at the start", fds, baseline);
}

#endif /* NETPROC_PUMP_H */
