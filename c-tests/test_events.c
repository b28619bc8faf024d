/* test_events: what a C host learns of a process beside Emacs's strings (src/ffi/events.rs):
 * the status as an enum, each sentinel call's event (an orderly close and a reset told
 * apart, a failure's errno), the process's context, its peer's address; and the opt-in
 * strict keyword mode (netproc_context_set_strict_keywords). */
#include "check.h"
#include "pump.h"

#define WAIT_MS (3000u * check_timeout_scale_())

/* Each sentinel call: its message and the event netproc_sentinel_event gave inside it. */
struct seen {
    int count;
    char message[8][64];
    netproc_event event[8];
    enum netproc_status status[8];
};

static void record_event(void *ud, netproc_process *p, const char *msg, size_t len) {
    struct seen *seen = ud;
    if (seen->count >= 8) return;
    int i = seen->count++;
    snprintf(seen->message[i], sizeof seen->message[i], "%.*s", (int)len, msg);
    seen->status[i] = netproc_sentinel_event(p, &seen->event[i]);
}

static netproc_process *client_to(netproc_context *ctx, const char *name, long long port, bool nowait,
                                  struct seen *seen) {
    netproc_arg args[] = {
        ARG(":name", STR(name)),
        ARG(":host", STR("127.0.0.1")),
        ARG(":service", INT(port)),
        ARG(":nowait", nowait ? netproc_t() : netproc_nil()),
        ARG(":sentinel", netproc_sentinel(record_event, seen)),
    };
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));
    return p;
}

static void check_event(const struct seen *seen, int i, const char *message, enum netproc_event_kind kind,
                        int error_number) {
    CHECK(seen->count > i);
    CHECK_STR_EQ(seen->message[i], message);
    CHECK_EQ(seen->status[i], NETPROC_OK);
    CHECK_EQ(seen->event[i].kind, kind);
    CHECK_EQ(seen->event[i].error_number, error_number);
}

/* open, then an orderly close by the peer; a second connection the peer resets. */
static void events_tell_close_from_reset(void) {
    netproc_context *ctx = new_context();
    struct peer_side {
        int listener;
        long long port;
    } peer;
    peer.listener = raw_listen(&peer.port);

    struct seen closed = {0}, reset = {0};
    netproc_process *a = client_to(ctx, "a", peer.port, true, &closed);
    CHECK_EQ(netproc_process_state_of(a), NETPROC_STATE_CONNECT);
    CHECK(PUMP_UNTIL(ctx, closed.count == 1, WAIT_MS));
    check_event(&closed, 0, "open\n", NETPROC_EVENT_OPEN, 0);
    CHECK_EQ(netproc_process_state_of(a), NETPROC_STATE_OPEN);
    int fd = raw_accept(ctx, peer.listener, WAIT_MS);
    CHECK_EQ(close(fd), 0);
    CHECK(PUMP_UNTIL(ctx, closed.count == 2, WAIT_MS));
    check_event(&closed, 1, "connection broken by remote peer\n", NETPROC_EVENT_PEER_CLOSED, 0);
    CHECK_EQ(netproc_process_state_of(a), NETPROC_STATE_CLOSED);

    netproc_process *b = client_to(ctx, "b", peer.port, false, &reset);
    fd = raw_accept(ctx, peer.listener, WAIT_MS);
    raw_reset(fd);
    CHECK(PUMP_UNTIL(ctx, reset.count == 1, WAIT_MS));
    check_event(&reset, 0, "connection broken by remote peer\n", NETPROC_EVENT_PEER_RESET, 0);

    /* Outside a sentinel call there is no event. */
    netproc_event outside;
    CHECK_ERROR(ctx, netproc_sentinel_event(a, &outside), NETPROC_E_ERROR, "error",
                "netproc_sentinel_event: not inside a sentinel call of this process");
    CHECK_ERROR(ctx, netproc_sentinel_event(a, NULL), NETPROC_E_NULL, "error",
                "netproc_sentinel_event: out is NULL");
    close(peer.listener);
    netproc_process_free(a);
    netproc_process_free(b);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* A refused :nowait connect: failed, errno 111; a delete: deleted. */
static void events_tell_failure_errno_and_delete(void) {
    netproc_context *ctx = new_context();
    struct seen refused = {0}, deleted = {0};
    netproc_process *r = client_to(ctx, "r", closed_port(), true, &refused);
    CHECK(PUMP_UNTIL(ctx, refused.count == 1, WAIT_MS));
    check_event(&refused, 0, "failed with code 111\n", NETPROC_EVENT_FAILED, ECONNREFUSED);
    CHECK_EQ(netproc_process_state_of(r), NETPROC_STATE_FAILED);

    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    CHECK_EQ(netproc_process_state_of(server), NETPROC_STATE_LISTEN);
    netproc_process *d = client_to(ctx, "d", contact_int(server, ":service"), false, &deleted);
    CHECK_OK(ctx, netproc_delete_process(d));
    check_event(&deleted, 0, "deleted\n", NETPROC_EVENT_DELETED, 0);
    CHECK_OK(ctx, netproc_stop_process(server));
    CHECK_EQ(netproc_process_state_of(server), NETPROC_STATE_STOP);
    CHECK_EQ(netproc_process_state_of(NULL), NETPROC_STATE_INVALID);

    netproc_process_free(r);
    netproc_process_free(d);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* An accepted connection's sentinel hears "open from …" as NETPROC_EVENT_OPEN_FROM. */
static struct seen accepted_seen;
static void accepted_sentinel(void *ud, netproc_process *p, const char *msg, size_t len) {
    (void)ud;
    record_event(&accepted_seen, p, msg, len);
}

static void events_tell_open_from(void) {
    netproc_context *ctx = new_context();
    memset(&accepted_seen, 0, sizeof accepted_seen);
    netproc_arg args[] = {
        ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
        ARG(":host", STR("127.0.0.1")), ARG(":sentinel", netproc_sentinel(accepted_sentinel, NULL)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    int fd = raw_connect(AF_INET, contact_int(server, ":service"));
    CHECK(PUMP_UNTIL(ctx, accepted_seen.count == 1, WAIT_MS));
    check_event(&accepted_seen, 0, "open from 127.0.0.1\n", NETPROC_EVENT_OPEN_FROM, 0);
    close(fd);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* The context a process belongs to, and its peer's address without the contact plist. */
static void context_and_peer_address(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    long long port = contact_int(server, ":service");
    netproc_process *client = start_client(ctx, "cli", port, &rec);
    CHECK(netproc_process_context(client) == ctx);
    CHECK(netproc_process_context(server) == ctx);
    CHECK(netproc_process_context(NULL) == NULL);

    netproc_value peer;
    CHECK_OK(ctx, netproc_process_peer_address(client, &peer));
    long long expected[] = {127, 0, 0, 1, port};
    CHECK(value_is_int_vector(&peer, expected, 5));
    netproc_value_free(&peer);
    CHECK_OK(ctx, netproc_process_peer_address(server, &peer));
    CHECK_EQ(peer.kind, NETPROC_VALUE_NIL);
    /* The accepted side's peer is the client's own address. */
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_LOG, server) == 1, WAIT_MS));
    netproc_process *accepted = NULL;
    for (long i = 0; i < (long)rec.count && !accepted; i++)
        if (rec.events[i].kind == REC_LOG) accepted = rec.events[i].client;
    CHECK_NOT_NULL(accepted);
    CHECK_OK(ctx, netproc_process_peer_address(accepted, &peer));
    long long client_local = contact_port(client, ":local");
    long long back[] = {127, 0, 0, 1, client_local};
    CHECK(value_is_int_vector(&peer, back, 5));
    netproc_value_free(&peer);
    CHECK_ERROR(ctx, netproc_process_peer_address(client, NULL), NETPROC_E_NULL, "error",
                "netproc_process_peer_address: out is NULL");

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    /* Once the context is freed, a handle still held has none. */
    rec_free(&rec);
}

static void context_is_null_once_freed(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    CHECK(netproc_process_context(server) == ctx);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    CHECK(netproc_process_context(server) == NULL);
    netproc_process_free(server);
    rec_free(&rec);
}

/* Strict keywords: a misspelt keyword is an error and makes nothing; by default it is kept
 * in the contact, as Emacs keeps it. */
static void strict_keywords_refuse_a_misspelling(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_arg args[] = {
        ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
        ARG(":filtre", REC_FILTER_V(&rec)),
    };
    netproc_process *lenient = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &lenient));
    netproc_value kept;
    CHECK_OK(ctx, netproc_process_contact(lenient, ":filtre", false, &kept));
    CHECK_EQ(kept.kind, NETPROC_VALUE_FILTER);
    netproc_value_free(&kept);

    CHECK_OK(ctx, netproc_context_set_strict_keywords(ctx, true));
    netproc_process *strict = NULL;
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, args, NARGS(args), &strict), NETPROC_E_ERROR, "error",
                "Unknown keyword :filtre");
    CHECK_NULL(strict);
    CHECK_EQ(listed_processes(ctx), 1);
    /* Every keyword the README lists still works, netproc's own included. */
    netproc_arg good[] = {
        ARG(":name", STR("srv2")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
        ARG(":host", STR("127.0.0.1")), ARG(":family", SYM("ipv4")), ARG(":nodelay", netproc_t()),
        ARG(":noquery", netproc_t()), ARG(":coding", SYM("binary")), ARG(":plist", netproc_nil()),
        ARG(":log", REC_LOG_V(&rec)), ARG(":filter", REC_FILTER_V(&rec)),
    };
    CHECK_OK(ctx, netproc_make_network_process(ctx, good, NARGS(good), &strict));
    CHECK_OK(ctx, netproc_context_set_strict_keywords(ctx, false));
    CHECK_ERROR(NULL, netproc_context_set_strict_keywords(NULL, true), NETPROC_E_NULL, "error", NULL);

    netproc_process_free(lenient);
    netproc_process_free(strict);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

int main(void) {
    static const struct test_case cases[] = {
        {"events_tell_close_from_reset", events_tell_close_from_reset, 10},
        {"events_tell_failure_errno_and_delete", events_tell_failure_errno_and_delete, 10},
        {"events_tell_open_from", events_tell_open_from, 10},
        {"context_and_peer_address", context_and_peer_address, 10},
        {"context_is_null_once_freed", context_is_null_once_freed, 10},
        {"strict_keywords_refuse_a_misspelling", strict_keywords_refuse_a_misspelling, 10},
    };
    return run_tests(cases, NARGS(cases));
}
