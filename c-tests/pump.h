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

#endif /* NETPROC_PUMP_H */
