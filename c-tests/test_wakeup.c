/*
 * test_wakeup: netproc_wakeup from other threads, how netproc_poll waits (0: not at all,
 * negative: until activity), and that an idle context costs no CPU. netproc_wakeup is the one
 * context function marked "Thread: any" (README, API conventions, "Threads"; uv_async_send in
 * libuv's docs/src/async.rst, mio's Waker).
 */
#include "check.h"
#include "pump.h"

#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

/* ---- helpers ---------------------------------------------------------------- */

static int next_timeout(netproc_context *ctx) {
    int ms = -2;
    CHECK_OK(ctx, netproc_next_timeout(ctx, &ms));
    return ms;
}

/* Poll with timeout 0 until nothing is due (bounded), so the context is idle. */
static void settle(netproc_context *ctx) {
    for (int i = 0; i < 1000 && next_timeout(ctx) != -1; i++) CHECK(netproc_poll(ctx, 0) >= 0);
    CHECK_EQ(next_timeout(ctx), -1);
}

/* A thread that sleeps, then calls netproc_wakeup `count` times. */
struct waker {
    pthread_t thread;
    netproc_context *ctx;
    unsigned delay_ms;
    unsigned count;
    atomic_bool started_waking;  /* set just before the first wakeup */
    atomic_uint done;            /* wakeups that returned */
    atomic_uint failures;        /* wakeups that did not return NETPROC_OK */
};

static void *waker_main(void *arg) {
    struct waker *w = (struct waker *)arg;
    if (w->delay_ms) sleep_ms(w->delay_ms);
    atomic_store(&w->started_waking, true);
    for (unsigned i = 0; i < w->count; i++) {
        if (netproc_wakeup(w->ctx) != NETPROC_OK) atomic_fetch_add(&w->failures, 1);
        atomic_fetch_add(&w->done, 1);
    }
    return NULL;
}

static void waker_start(struct waker *w, netproc_context *ctx, unsigned delay_ms, unsigned count) {
    w->ctx = ctx;
    w->delay_ms = delay_ms;
    w->count = count;
    atomic_init(&w->started_waking, false);
    atomic_init(&w->done, 0);
    atomic_init(&w->failures, 0);
    CHECK_EQ(pthread_create(&w->thread, NULL, waker_main, w), 0);
}

static void waker_join(struct waker *w) {
    CHECK_EQ(pthread_join(w->thread, NULL), 0);
    CHECK_EQ(atomic_load(&w->done), w->count);
    CHECK_EQ(atomic_load(&w->failures), 0);
}

/* ---- wakeup ------------------------------------------------------------------ */

/* A poll with no time limit on an empty context returns (with 0 callbacks) when another
 * thread wakes it, and not before. */
static void wakeup_ends_blocking_poll(void) {
    netproc_context *ctx = new_context();
    CHECK_EQ(netproc_poll(ctx, 0), 0); /* this thread owns the context */
    struct waker w;
    waker_start(&w, ctx, 150, 1);
    uint64_t t0 = monotonic_ms();
    CHECK_EQ(netproc_poll(ctx, -1), 0);
    CHECK(atomic_load(&w.started_waking)); /* it waited for the wakeup */
    CHECK(monotonic_ms() - t0 >= 100);
    waker_join(&w);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* A wakeup that comes before the poll is kept for it ("now or next"); several coalesce
 * into one: the first poll returns at once, the next one waits its full timeout. */
static void wakeups_before_poll_coalesce(void) {
    netproc_context *ctx = new_context();
    CHECK_EQ(netproc_poll(ctx, 0), 0);
    struct waker w;
    waker_start(&w, ctx, 0, 5);
    waker_join(&w);
    CHECK_EQ(netproc_wakeup(ctx), NETPROC_OK); /* the owning thread may wake too */

    uint64_t t0 = monotonic_ms();
    CHECK_EQ(netproc_poll(ctx, -1), 0);
    CHECK(monotonic_ms() - t0 < scaled_ms(1000));

    t0 = monotonic_ms();
    CHECK_EQ(netproc_poll(ctx, 300), 0);
    uint64_t waited = monotonic_ms() - t0;
    CHECK(waited >= 250); /* not five more early returns */
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

static void wakeup_null(void) {
    CHECK_EQ(netproc_wakeup(NULL), NETPROC_E_NULL);
    CHECK_EQ(netproc_last_error(NULL, NULL, NULL, NULL), NETPROC_E_NULL);
}

/* For a host with its own loop: a wakeup from another thread makes the backend fd
 * readable; netproc_poll(ctx, 0) consumes it, after which the fd is quiet again (or the
 * host would spin). */
static void wakeup_makes_backend_fd_readable(void) {
    netproc_context *ctx = new_context();
    settle(ctx);
    int fd = netproc_backend_fd(ctx);
    CHECK(fd >= 0);
    struct pollfd pfd = {fd, POLLIN, 0};
    CHECK_EQ(poll(&pfd, 1, 0), 0);

    struct waker w;
    waker_start(&w, ctx, 100, 1);
    uint64_t t0 = monotonic_ms();
    CHECK_EQ(poll(&pfd, 1, (int)scaled_ms(5000)), 1);
    CHECK(pfd.revents & POLLIN);
    CHECK(atomic_load(&w.started_waking));
    CHECK(monotonic_ms() - t0 < scaled_ms(5000));
    waker_join(&w);

    CHECK_EQ(netproc_poll(ctx, 0), 0);
    CHECK_EQ(next_timeout(ctx), -1);
    pfd.revents = 0;
    CHECK_EQ(poll(&pfd, 1, 200), 0);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- a wakeup storm during a real exchange -------------------------------------- */

struct echo {
    struct recorder rec;
    size_t echoed; /* bytes the client got back */
};

static void echo_back(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    (void)ud;
    CHECK_EQ(netproc_process_send(p, data, len), NETPROC_OK);
}

static void echo_count(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct echo *e = (struct echo *)ud;
    rec_filter(&e->rec, p, data, len);
    e->echoed += len;
}

static void wakeup_storm_during_exchange(void) {
    enum { WAKEUPS = 100000, MIN_LINES = 20, MAX_LINES = 100000 };
    netproc_context *ctx = new_context();
    struct echo e;
    memset(&e, 0, sizeof e);
    netproc_arg sargs[] = {
        ARG(":name", STR("echo")),        ARG(":server", netproc_t()),
        ARG(":host", STR("127.0.0.1")),   ARG(":service", netproc_t()),
        ARG(":filter", netproc_filter(echo_back, &e)),
        ARG(":log", REC_LOG_V(&e.rec)),   ARG(":sentinel", REC_SENTINEL_V(&e.rec)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, sargs, NARGS(sargs), &server));
    netproc_arg cargs[] = {
        ARG(":name", STR("client")),      ARG(":host", STR("127.0.0.1")),
        ARG(":service", INT(contact_int(server, ":service"))),
        ARG(":filter", netproc_filter(echo_count, &e)), ARG(":sentinel", REC_SENTINEL_V(&e.rec)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, cargs, NARGS(cargs), &client));

    struct waker w;
    waker_start(&w, ctx, 0, WAKEUPS);
    /* Keep exchanging lines while the storm lasts, and at least MIN_LINES. */
    size_t sent = 0;
    unsigned lines = 0, during = 0;
    uint64_t deadline = monotonic_ms() + scaled_ms(20000);
    while ((lines < MIN_LINES || atomic_load(&w.done) < WAKEUPS) && lines < MAX_LINES) {
        char line[48];
        int n = snprintf(line, sizeof line, "line %u\n", lines);
        CHECK_EQ(netproc_process_send(client, (const uint8_t *)line, (size_t)n), NETPROC_OK);
        sent += (size_t)n;
        CHECK(PUMP_UNTIL(ctx, e.echoed == sent, scaled_ms(5000)));
        if (atomic_load(&w.done) < WAKEUPS) during++;
        lines++;
        CHECK(monotonic_ms() < deadline);
    }
    waker_join(&w);
    printf("# %u lines echoed, %u of them during %d wakeups\n", lines, during, WAKEUPS);
    CHECK(during > 0);

    /* Every byte came back, in order. */
    char *got = malloc(sent + 1), *want = malloc(sent + 1);
    CHECK_NOT_NULL(got);
    CHECK_NOT_NULL(want);
    CHECK_EQ(rec_output(&e.rec, client, got, sent + 1), sent);
    size_t at = 0;
    for (unsigned i = 0; i < lines; i++) at += (size_t)sprintf(want + at, "line %u\n", i);
    CHECK_MEM_EQ(got, sent, want, at);
    free(got);
    free(want);
    CHECK_EQ(rec_count(&e.rec, REC_LOG, server), 1);

    /* The storm left no work behind: the next poll ends (after at most the one coalesced
     * wakeup) and then the context is idle. */
    CHECK(netproc_poll(ctx, 0) >= 0);
    CHECK(netproc_poll(ctx, 0) >= 0);
    CHECK_EQ(next_timeout(ctx), -1);

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&e.rec);
}

/* ---- how netproc_poll waits ----------------------------------------------------- */

static void poll_zero_returns_at_once(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    settle(ctx);
    uint64_t t0 = monotonic_ms();
    for (int i = 0; i < 10; i++) CHECK_EQ(netproc_poll(ctx, 0), 0);
    CHECK(monotonic_ms() - t0 < scaled_ms(200));
    CHECK_EQ(rec.count, 0u);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* A peer that connects from another thread after a delay. */
struct dialer {
    pthread_t thread;
    long long port;
    unsigned delay_ms;
    atomic_bool connecting;
    int fd;
};

static void *dialer_main(void *arg) {
    struct dialer *d = (struct dialer *)arg;
    struct sockaddr_in addr;
    sleep_ms(d->delay_ms);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((uint16_t)d->port);
    d->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    atomic_store(&d->connecting, true);
    if (d->fd >= 0 && connect(d->fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(d->fd);
        d->fd = -1;
    }
    return NULL;
}

/* A negative timeout waits for activity, however long: here a connection that comes
 * from another thread after 200 ms. */
static void poll_negative_waits_for_connection(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    settle(ctx);

    struct dialer d;
    memset(&d, 0, sizeof d);
    d.port = contact_int(server, ":service");
    d.delay_ms = 200;
    d.fd = -1;
    atomic_init(&d.connecting, false);
    CHECK_EQ(pthread_create(&d.thread, NULL, dialer_main, &d), 0);

    uint64_t t0 = monotonic_ms();
    int rc = netproc_poll(ctx, -1);
    CHECK(rc >= 0);
    CHECK(atomic_load(&d.connecting)); /* the first return was not before the activity */
    CHECK(monotonic_ms() - t0 >= 150);
    for (int i = 0; i < 10 && rec_find(&rec, 0, REC_SENTINEL, NULL, "open from 127.0.0.1\n") < 0; i++)
        CHECK(netproc_poll(ctx, -1) >= 0);
    CHECK(rec_find(&rec, 0, REC_LOG, server, "accept from 127.0.0.1\n") >= 0);
    CHECK(rec_find(&rec, 0, REC_SENTINEL, NULL, "open from 127.0.0.1\n") >= 0);

    CHECK_EQ(pthread_join(d.thread, NULL), 0);
    CHECK(d.fd >= 0);
    CHECK(close(d.fd) == 0);
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, NULL, "connection broken by remote peer\n") >= 0, 5000));
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* ---- idle costs no CPU -------------------------------------------------------------- */

/* Calls netproc_poll(ctx, 300) for about 900 ms of wall time (at most 20 calls: more
 * would mean it returns early without cause) and checks the CPU time it took is far below
 * the wall time. Returns the number of polls. */
static unsigned idle_polls_cost_no_cpu(netproc_context *ctx, const char *what) {
    uint64_t wall0 = monotonic_ms(), cpu0 = process_cpu_us();
    unsigned polls = 0;
    while (monotonic_ms() - wall0 < 900 && polls < 20) {
        CHECK_EQ(netproc_poll(ctx, 300), 0);
        polls++;
    }
    uint64_t wall_ms = monotonic_ms() - wall0, cpu = process_cpu_us() - cpu0;
    printf("# %s: %u polls, %llu ms wall, %llu us cpu\n", what, polls, (unsigned long long)wall_ms,
           (unsigned long long)cpu);
    CHECK(wall_ms >= 850);
    CHECK(polls <= 10);
    CHECK(cpu < wall_ms * 1000 / 10);
    return polls;
}

static void idle_poll_uses_no_cpu(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &rec);
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, NULL, "open from 127.0.0.1\n") >= 0, 5000));
    settle(ctx);
    size_t events = rec.count;

    idle_polls_cost_no_cpu(ctx, "idle server and client");
    CHECK_EQ(rec.count, events);
    CHECK_STR_EQ(netproc_process_status(client), "open");

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* Unread input of a stopped process, and a :nowait client whose lookup answer came and
 * went, are no reason to spin. */
static void idle_with_stopped_input_uses_no_cpu(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    long long port = contact_int(server, ":service");
    netproc_process *client = start_client(ctx, "cli", port, &rec);
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, NULL, "open from 127.0.0.1\n") >= 0, 5000));
    long accepted = rec_find(&rec, 0, REC_LOG, server, NULL);
    CHECK(accepted >= 0);
    netproc_process *conn = rec.events[accepted].client;

    netproc_arg nargs[] = {
        ARG(":name", STR("nowait")),      ARG(":host", STR("127.0.0.1")),
        ARG(":service", INT(port)),       ARG(":nowait", netproc_t()),
        ARG(":filter", REC_FILTER_V(&rec)), ARG(":sentinel", REC_SENTINEL_V(&rec)),
    };
    netproc_process *nowait = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, nargs, NARGS(nargs), &nowait));
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, nowait, "open\n") >= 0, 5000));

    CHECK_OK(ctx, netproc_stop_process(client));
    CHECK_EQ(netproc_process_send(conn, (const uint8_t *)"waiting", 7), NETPROC_OK);
    pump_for(ctx, 100);
    settle(ctx);
    CHECK_EQ(rec_count(&rec, REC_FILTER, client), 0);

    idle_polls_cost_no_cpu(ctx, "stopped client with input");
    CHECK_EQ(rec_count(&rec, REC_FILTER, client), 0);

    CHECK_OK(ctx, netproc_continue_process(client));
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_FILTER, client, "waiting") >= 0, 5000));

    netproc_process_free(nowait);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

int main(void) {
    static const struct test_case cases[] = {
        {"wakeup_ends_blocking_poll", wakeup_ends_blocking_poll, 10},
        {"wakeups_before_poll_coalesce", wakeups_before_poll_coalesce, 10},
        {"wakeup_null", wakeup_null, 5},
        {"wakeup_makes_backend_fd_readable", wakeup_makes_backend_fd_readable, 10},
        {"wakeup_storm_during_exchange", wakeup_storm_during_exchange, 30},
        {"poll_zero_returns_at_once", poll_zero_returns_at_once, 10},
        {"poll_negative_waits_for_connection", poll_negative_waits_for_connection, 10},
        {"idle_poll_uses_no_cpu", idle_poll_uses_no_cpu, 15},
        {"idle_with_stopped_input_uses_no_cpu", idle_with_stopped_input_uses_no_cpu, 15},
    };
    return run_tests(cases, NARGS(cases));
}
