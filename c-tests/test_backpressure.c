/* test_backpressure: netproc's `:high-water` and `:drain` (src/core/backpressure.rs): a send
 * to a process with a mark returns NETPROC_HIGH_WATER once its queue is above it, and the
 * drain function (a sentinel-shaped callback, told "drain\n") runs once when the queue is
 * back below half of it. */
#include "check.h"
#include "pump.h"

#define WAIT_MS (5000u * check_timeout_scale_())

struct drains {
    int count;
    netproc_event event;
    enum netproc_status event_status;
    char message[16];
};

static void on_drain(void *ud, netproc_process *p, const char *msg, size_t len) {
    struct drains *d = ud;
    d->count++;
    snprintf(d->message, sizeof d->message, "%.*s", (int)len, msg);
    d->event_status = netproc_sentinel_event(p, &d->event);
}

/* Fill the queue of a client whose peer does not read yet; returns bytes sent. */
static size_t send_until_high_water(netproc_process *p, size_t chunk_size, size_t mark) {
    static uint8_t chunk[16384];
    CHECK(chunk_size <= sizeof chunk);
    size_t sent = 0;
    for (int i = 0; i < 100000; i++) {
        enum netproc_status rc = netproc_process_send(p, chunk, chunk_size);
        CHECK(rc >= 0);
        sent += chunk_size;
        size_t queued = netproc_process_output_pending(p);
        CHECK(queued <= mark + chunk_size);
        if (rc == NETPROC_HIGH_WATER) {
            CHECK(queued > mark);
            return sent;
        }
        CHECK_EQ(rc, NETPROC_OK);
    }
    CHECK(!"the queue never passed the mark");
    return sent;
}

static void drain_after_high_water(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    struct drains drains = {0};
    netproc_arg args[] = {
        ARG(":name", STR("c")), ARG(":host", STR("127.0.0.1")), ARG(":service", INT(port)),
        ARG(":high-water", INT(65536)), ARG(":drain", netproc_sentinel(on_drain, &drains)),
    };
    netproc_process *c = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &c));
    int peer = raw_accept(ctx, listener, WAIT_MS);
    size_t sent = send_until_high_water(c, 16384, 65536);
    CHECK_EQ(drains.count, 0);
    /* The peer reads everything; the queue drains and the drain function runs once. */
    uint8_t sink[65536];
    size_t got = 0;
    uint64_t deadline = monotonic_ms() + WAIT_MS;
    while (drains.count == 0 && monotonic_ms() < deadline) {
        ssize_t n = recv(peer, sink, sizeof sink, MSG_DONTWAIT);
        if (n > 0) got += (size_t)n;
        CHECK(netproc_poll(ctx, 5) >= 0);
    }
    CHECK_EQ(drains.count, 1);
    CHECK(got > 0);
    CHECK_STR_EQ(drains.message, "drain\n");
    CHECK_EQ(drains.event_status, NETPROC_OK);
    CHECK_EQ(drains.event.kind, NETPROC_EVENT_DRAIN);
    pump_for(ctx, 50);
    CHECK_EQ(drains.count, 1);
    CHECK(sent > 65536);

    /* The mark changes later; a bad mark is refused. */
    netproc_value mark = INT(1 << 20);
    bool applied = false;
    CHECK_OK(ctx, netproc_set_network_process_option(c, ":high-water", &mark, false, &applied));
    CHECK(applied);
    CHECK_EQ(contact_int(c, ":high-water"), 1 << 20);
    netproc_value bad = INT(0);
    CHECK_ERROR(ctx, netproc_set_network_process_option(c, ":high-water", &bad, false, &applied), NETPROC_E_ERROR,
                "error", "Bad option value for :high-water");
    close(peer);
    close(listener);
    netproc_process_free(c);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* Without a mark, sends return NETPROC_OK however much is queued, as before. */
static void no_mark_no_high_water(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    netproc_arg args[] = {ARG(":name", STR("c")), ARG(":host", STR("127.0.0.1")), ARG(":service", INT(port))};
    netproc_process *c = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &c));
    static uint8_t block[1 << 20];
    for (int i = 0; i < 8; i++) CHECK_EQ(netproc_process_send(c, block, sizeof block), NETPROC_OK);
    size_t queued = netproc_process_output_pending(c);
    CHECK(queued > 65536);
    /* A mark set later applies from the next send. */
    netproc_value mark = INT(65536);
    CHECK_OK(ctx, netproc_set_network_process_option(c, ":high-water", &mark, false, NULL));
    CHECK_EQ(netproc_process_send(c, block, 1), NETPROC_HIGH_WATER);
    close(listener);
    netproc_process_free(c);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* A C host's :drain is a sentinel-shaped callback; a filter there is refused. */
static void drain_must_be_a_sentinel(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    struct recorder rec = {0};
    netproc_arg args[] = {
        ARG(":name", STR("c")), ARG(":host", STR("127.0.0.1")), ARG(":service", INT(port)),
        ARG(":drain", REC_FILTER_V(&rec)),
    };
    netproc_process *c = NULL;
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, args, NARGS(args), &c), NETPROC_E_WRONG_TYPE,
                "wrong-type-argument", NULL);
    netproc_arg bad_mark[] = {
        ARG(":name", STR("c")), ARG(":host", STR("127.0.0.1")), ARG(":service", INT(port)),
        ARG(":high-water", STR("64k")),
    };
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, bad_mark, NARGS(bad_mark), &c), NETPROC_E_ERROR, "error",
                "Bad option value for :high-water");
    CHECK_STR_EQ(netproc_status_name(NETPROC_HIGH_WATER), "NETPROC_HIGH_WATER");
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

int main(void) {
    static const struct test_case cases[] = {
        {"drain_after_high_water", drain_after_high_water, 20},
        {"no_mark_no_high_water", no_mark_no_high_water, 20},
        {"drain_must_be_a_sentinel", drain_must_be_a_sentinel, 10},
    };
    return run_tests(cases, NARGS(cases));
}
