/*
 * test_lifecycle: deleting and freeing processes, callbacks that call back into netproc
 * (README, API conventions, "Reentrancy"; Emacs's status_notify, Fdelete_process), handle
 * reference counting and userdata, freeing a context with live processes, and the send queue:
 * sends never block, nothing is lost silently, order is kept, queued output survives delete, a
 * dying peer is reported with the lost byte count, SIGPIPE is never raised (Emacs's
 * send_process; docs/DIFFERENCES.md).
 *
 * Environment: NETPROC_TEST_CYCLES sets the number of connect/delete cycles of
 * no_descriptor_leak_after_many_cycles (default 10000; e.g. 1000 under valgrind).
 */
#include "check.h"
#include "pump.h"

#include <sys/un.h>

#define MIB ((size_t)1 << 20)
#define BROKEN "connection broken by remote peer\n"

/* ---- shared helpers ---------------------------------------------------------- */

/* A blocking (or :nowait) TCP client to 127.0.0.1:port with the given callbacks. */
static netproc_process *client_with(netproc_context *ctx, const char *name, long long port,
                                    netproc_value filter, netproc_value sentinel, bool nowait) {
    netproc_arg args[] = {
        ARG(":name", STR(name)),       ARG(":service", INT(port)),
        ARG(":filter", filter),        ARG(":sentinel", sentinel),
        ARG(":nowait", nowait ? netproc_t() : netproc_nil()),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));
    CHECK_NOT_NULL(client);
    return client;
}

/* A TCP server on a random loopback port with the given callbacks. */
static netproc_process *server_with(netproc_context *ctx, const char *name, netproc_value filter,
                                    netproc_value sentinel, netproc_value log) {
    netproc_arg args[] = {
        ARG(":name", STR(name)),   ARG(":server", netproc_t()), ARG(":service", netproc_t()),
        ARG(":filter", filter),    ARG(":sentinel", sentinel),  ARG(":log", log),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    CHECK_NOT_NULL(server);
    return server;
}

/* The connection `server` accepted in a log event at or after `from`, with a reference of
 * the caller's own (the log's handle is only borrowed). */
static netproc_process *take_accepted(netproc_context *ctx, struct recorder *rec, netproc_process *server,
                                      size_t from) {
    long at = -1;
    CHECK(PUMP_UNTIL(ctx, (at = rec_find(rec, from, REC_LOG, server, NULL)) >= 0, 3000));
    CHECK_NOT_NULL(rec->events[at].client);
    return netproc_process_ref(rec->events[at].client);
}

/* Sentinel events of `p` at or after `from`. */
static size_t sentinels_since(const struct recorder *rec, size_t from, netproc_process *p) {
    size_t n = 0;
    for (size_t i = from; i < rec->count; i++)
        if (rec->events[i].kind == REC_SENTINEL && rec->events[i].process == p) n++;
    return n;
}

static size_t listed_count(netproc_context *ctx) {
    size_t count = 0;
    CHECK_OK(ctx, netproc_process_list(ctx, NULL, 0, &count));
    return count;
}

/* SIGPIPE at its default disposition (fatal), as a host that never touched it has. */
static void sigpipe_default(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    CHECK_EQ(sigaction(SIGPIPE, &sa, NULL), 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    CHECK_EQ(sigprocmask(SIG_UNBLOCK, &set, NULL), 0);
}

/* ---- reentrancy: deleting from callbacks ------------------------------------- */

struct self_delete {
    int filter_calls, sentinel_calls;
    bool in_delete, sentinel_ran_inside_delete;
    int delete_rc;
    const char *status_after_delete;
    char first_data[64], sentinel_message[64];
};

static void sd_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct self_delete *st = (struct self_delete *)ud;
    if (++st->filter_calls == 1) {
        snprintf(st->first_data, sizeof st->first_data, "%.*s", (int)len, (const char *)data);
        st->in_delete = true;
        st->delete_rc = netproc_delete_process(p);
        st->in_delete = false;
        st->status_after_delete = netproc_process_status(p);
    }
}

static void sd_sentinel(void *ud, netproc_process *p, const char *msg, size_t len) {
    struct self_delete *st = (struct self_delete *)ud;
    (void)p;
    st->sentinel_calls++;
    st->sentinel_ran_inside_delete = st->in_delete;
    snprintf(st->sentinel_message, sizeof st->sentinel_message, "%.*s", (int)len, msg);
}

/* A filter deletes its own process on the first call: "deleted\n" runs inside that delete,
 * and the filter is not called again, not even for input already read in the same poll
 * (read_max 4 cuts the 16 bytes into four reads). */
static void delete_in_own_filter(void) {
    netproc_context *ctx = new_context();
    CHECK_OK(ctx, netproc_context_set_read_max(ctx, 4));
    struct recorder rec = {0};
    struct self_delete st = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    netproc_process *client = client_with(ctx, "cli", contact_int(server, ":service"),
                                          netproc_filter(sd_filter, &st), netproc_sentinel(sd_sentinel, &st), false);
    netproc_process *acc = take_accepted(ctx, &rec, server, 0);

    CHECK_OK(ctx, netproc_process_send(acc, (const uint8_t *)"abcdefghijklmnop", 16));
    CHECK(PUMP_UNTIL(ctx, st.filter_calls > 0, 3000));
    CHECK_STR_EQ(st.first_data, "abcd");
    CHECK_EQ(st.delete_rc, NETPROC_OK);
    CHECK_EQ(st.sentinel_calls, 1);
    CHECK(st.sentinel_ran_inside_delete);
    CHECK_STR_EQ(st.sentinel_message, "deleted\n");
    CHECK_STR_EQ(st.status_after_delete, "closed");

    /* More input for it, and time for anything still queued to show up. */
    netproc_process_send(acc, (const uint8_t *)"more", 4); /* may fail: the peer is gone */
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, acc, BROKEN) >= 0, 3000));
    pump_for(ctx, 200);
    CHECK_EQ(st.filter_calls, 1);
    CHECK_EQ(st.sentinel_calls, 1);
    CHECK_STR_EQ(netproc_process_status(client), "closed");

    netproc_process_free(acc);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

struct sentinel_delete {
    int calls, depth, max_depth, bad_rc;
    char messages[4][64];
    int depth_of[4];
};

static void sdel_sentinel(void *ud, netproc_process *p, const char *msg, size_t len) {
    struct sentinel_delete *st = (struct sentinel_delete *)ud;
    int i = st->calls++;
    st->depth++;
    if (i < 4) {
        snprintf(st->messages[i], sizeof st->messages[i], "%.*s", (int)len, msg);
        st->depth_of[i] = st->depth;
    }
    /* Every call deletes, including the "deleted\n" call itself (a no-op by then). */
    if (netproc_delete_process(p) != NETPROC_OK) st->bad_rc++;
    st->depth--;
}

/* A :nowait client deletes itself from its "open\n" sentinel: "deleted\n" runs nested
 * inside it, deleting again from there does nothing, and nothing follows. */
static void delete_in_own_sentinel(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct sentinel_delete st = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    netproc_process *client = client_with(ctx, "cli", contact_int(server, ":service"), REC_FILTER_V(&rec),
                                          netproc_sentinel(sdel_sentinel, &st), true);
    CHECK(PUMP_UNTIL(ctx, st.calls > 0, 3000));
    CHECK_EQ(st.calls, 2);
    CHECK_STR_EQ(st.messages[0], "open\n");
    CHECK_EQ(st.depth_of[0], 1);
    CHECK_STR_EQ(st.messages[1], "deleted\n");
    CHECK_EQ(st.depth_of[1], 2);
    CHECK_EQ(st.bad_rc, 0);
    CHECK_STR_EQ(netproc_process_status(client), "closed");

    netproc_process *acc = take_accepted(ctx, &rec, server, 0);
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, acc, BROKEN) >= 0, 3000));
    pump_for(ctx, 200);
    CHECK_EQ(st.calls, 2);

    netproc_process_free(acc);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

struct accept_delete {
    struct recorder *rec;
    int bad_rc;
};

static void adel_sentinel(void *ud, netproc_process *p, const char *msg, size_t len) {
    struct accept_delete *st = (struct accept_delete *)ud;
    rec_sentinel(st->rec, p, msg, len);
    if (strncmp(msg, "open from ", 10) == 0 && netproc_delete_process(p) != NETPROC_OK) st->bad_rc++;
}

/* An accepted connection deletes itself from its "open from" sentinel (inherited from the
 * server): "deleted\n" follows at once, input that was already waiting never reaches its
 * filter, and the client sees the connection break. */
static void delete_accepted_in_open_from_sentinel(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct accept_delete st = {&rec, 0};
    netproc_process *server = server_with(ctx, "srv", REC_FILTER_V(&rec), netproc_sentinel(adel_sentinel, &st),
                                          REC_LOG_V(&rec));
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &rec);
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"early", 5));
    netproc_process *acc = take_accepted(ctx, &rec, server, 0);
    long open_at = rec_find(&rec, 0, REC_SENTINEL, acc, "open from 127.0.0.1\n");
    CHECK(open_at >= 0);
    CHECK_EQ(rec_find(&rec, 0, REC_SENTINEL, acc, "deleted\n"), open_at + 1);
    CHECK_EQ(st.bad_rc, 0);
    CHECK_STR_EQ(netproc_process_status(acc), "closed");

    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, client, BROKEN) >= 0, 3000));
    pump_for(ctx, 200);
    CHECK_EQ(rec_count(&rec, REC_FILTER, acc), 0);
    CHECK_EQ(sentinels_since(&rec, 0, acc), 2);

    netproc_process_free(acc);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

struct log_delete {
    struct recorder *rec;
    int delete_rc;
    size_t server_sentinels_inside;
};

static void ldel_log(void *ud, netproc_process *server, netproc_process *client, const char *msg, size_t len) {
    struct log_delete *st = (struct log_delete *)ud;
    rec_log(st->rec, server, client, msg, len);
    st->delete_rc = netproc_delete_process(server);
    st->server_sentinels_inside = rec_count(st->rec, REC_SENTINEL, server);
}

/* The server deletes itself from its log function: its "deleted\n" runs inside, the
 * connection being accepted still gets "open from" and works both ways, and the port
 * no longer accepts. */
static void delete_server_in_log(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct log_delete st = {&rec, -1, 0};
    netproc_process *server = server_with(ctx, "srv", REC_FILTER_V(&rec), REC_SENTINEL_V(&rec),
                                          netproc_log(ldel_log, &st));
    long long port = contact_int(server, ":service");
    netproc_process *client = start_client(ctx, "cli", port, &rec);
    netproc_process *acc = take_accepted(ctx, &rec, server, 0);
    CHECK_EQ(st.delete_rc, NETPROC_OK);
    CHECK_EQ(st.server_sentinels_inside, 1);
    CHECK(rec_find(&rec, 0, REC_SENTINEL, server, "deleted\n") >= 0);
    CHECK_STR_EQ(netproc_process_status(server), "closed");
    CHECK(rec_find(&rec, 0, REC_SENTINEL, acc, "open from 127.0.0.1\n") >= 0);
    CHECK_STR_EQ(netproc_process_status(acc), "open");

    char buf[32];
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"hello", 5));
    CHECK(PUMP_UNTIL(ctx, rec_output(&rec, acc, buf, sizeof buf) == 5, 3000));
    CHECK_STR_EQ(buf, "hello");
    CHECK_OK(ctx, netproc_process_send(acc, (const uint8_t *)"back", 4));
    CHECK(PUMP_UNTIL(ctx, rec_output(&rec, client, buf, sizeof buf) == 4, 3000));
    CHECK_STR_EQ(buf, "back");

    netproc_arg args[] = {ARG(":name", STR("late")), ARG(":service", INT(port))};
    netproc_process *late = NULL;
    CHECK_EQ(netproc_make_network_process(ctx, args, NARGS(args), &late), NETPROC_E_FILE);
    CHECK_EQ(last_error_errno(ctx), ECONNREFUSED);
    CHECK_EQ(rec_count(&rec, REC_LOG, server), 1);

    netproc_process_free(acc);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

struct delete_all {
    struct recorder *rec;
    netproc_context *ctx;
    int filter_calls, bad_rc;
    size_t deleted_count;
};

static void dall_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct delete_all *st = (struct delete_all *)ud;
    rec_filter(st->rec, p, data, len);
    if (++st->filter_calls != 1) return;
    netproc_process *all[32];
    size_t count = 0;
    if (netproc_process_list(st->ctx, all, 32, &count) != NETPROC_OK || count > 32) {
        st->bad_rc++;
        return;
    }
    /* The handles are borrowed until a delete: take references first. */
    for (size_t i = 0; i < count; i++) all[i] = netproc_process_ref(all[i]);
    for (size_t i = 0; i < count; i++)
        if (netproc_delete_process(all[i]) != NETPROC_OK) st->bad_rc++;
    for (size_t i = 0; i < count; i++) netproc_process_free(all[i]);
    st->deleted_count = count;
}

static void dall_sentinel(void *ud, netproc_process *p, const char *msg, size_t len) {
    rec_sentinel(((struct delete_all *)ud)->rec, p, msg, len);
}

static void dall_log(void *ud, netproc_process *s, netproc_process *c, const char *msg, size_t len) {
    rec_log(((struct delete_all *)ud)->rec, s, c, msg, len);
}

/* One filter call deletes every process: each gets exactly one "deleted\n", the other
 * filter calls already due in the same poll never run, and nothing is heard afterwards. */
static void delete_everything_from_one_callback(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct delete_all st = {&rec, ctx, 0, 0, 0};
    netproc_process *server = server_with(ctx, "srv", netproc_filter(dall_filter, &st),
                                          netproc_sentinel(dall_sentinel, &st), netproc_log(dall_log, &st));
    long long port = contact_int(server, ":service");
    netproc_process *mine[7];
    mine[0] = server;
    for (int i = 0; i < 3; i++) {
        char name[8];
        snprintf(name, sizeof name, "c%d", i);
        size_t mark = rec.count;
        mine[1 + i] = client_with(ctx, name, port, netproc_filter(dall_filter, &st),
                                  netproc_sentinel(dall_sentinel, &st), false);
        mine[4 + i] = take_accepted(ctx, &rec, server, mark);
    }
    CHECK_EQ(listed_count(ctx), 7);
    size_t mark = rec.count;
    for (int i = 1; i <= 3; i++) CHECK_OK(ctx, netproc_process_send(mine[i], (const uint8_t *)"x", 1));
    CHECK(PUMP_UNTIL(ctx, st.filter_calls > 0, 3000));
    CHECK_EQ(st.bad_rc, 0);
    CHECK_EQ(st.deleted_count, 7);
    CHECK_EQ(listed_count(ctx), 0);
    pump_for(ctx, 300);
    CHECK_EQ(st.filter_calls, 1);
    for (int i = 0; i < 7; i++) {
        CHECK_EQ(sentinels_since(&rec, mark, mine[i]), 1);
        CHECK(rec_find(&rec, mark, REC_SENTINEL, mine[i], "deleted\n") >= 0);
        CHECK_STR_EQ(netproc_process_status(mine[i]), "closed");
    }
    CHECK_EQ(rec.count - mark, 1 + 7); /* the one filter call and seven sentinels */

    for (int i = 0; i < 7; i++) netproc_process_free(mine[i]);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

struct close_window {
    netproc_context *ctx;
    netproc_process *b;
    struct recorder *rec;
    int filter_calls, delete_rc;
    size_t b_sentinels_before, b_sentinels_after;
    bool b_listed;
};

static void cw_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct close_window *st = (struct close_window *)ud;
    rec_filter(st->rec, p, data, len);
    if (++st->filter_calls != 1) return;
    netproc_process *found = NULL;
    st->b_listed = netproc_get_process(st->ctx, "B", &found) == NETPROC_OK && found == st->b;
    st->b_sentinels_before = rec_count(st->rec, REC_SENTINEL, st->b);
    st->delete_rc = netproc_delete_process(st->b);
    st->b_sentinels_after = rec_count(st->rec, REC_SENTINEL, st->b);
}

/* A filter deletes another process B whose close was read in the same poll but not yet
 * announced (A's data and B's EOF arrive together, A's first). As in Emacs (Fdelete_process:
 * the status is overwritten, only "deleted\n" is sent), B is still listed, the delete runs B's
 * "deleted\n" sentinel before returning, and no "connection broken" follows — so a host may
 * forget B once delete returns. Where B's close was announced before A's filter ran, the delete
 * is a no-op; either way B hears exactly one final sentinel and nothing after the delete
 * returned. */
static void delete_other_process_with_close_pending(void) {
    int unannounced = 0;
    for (int attempt = 0; attempt < 5; attempt++) {
        netproc_context *ctx = new_context();
        struct recorder rec = {0};
        struct close_window st = {ctx, NULL, &rec, 0, -1, 0, 0, false};
        netproc_process *server = start_server(ctx, "srv", &rec);
        long long port = contact_int(server, ":service");
        netproc_process *a = client_with(ctx, "A", port, netproc_filter(cw_filter, &st), REC_SENTINEL_V(&rec), false);
        netproc_process *a_peer = take_accepted(ctx, &rec, server, 0);
        size_t mark = rec.count;
        st.b = start_client(ctx, "B", port, &rec);
        netproc_process *b_peer = take_accepted(ctx, &rec, server, mark);
        pump_for(ctx, 50);

        /* A's data first, then B's end, both before the next poll. */
        CHECK_OK(ctx, netproc_process_send(a_peer, (const uint8_t *)"hello", 5));
        CHECK_OK(ctx, netproc_delete_process(b_peer));
        CHECK(PUMP_UNTIL(ctx, st.filter_calls > 0, 3000));
        CHECK_EQ(st.delete_rc, NETPROC_OK);
        pump_for(ctx, 100);
        size_t b_total = rec_count(&rec, REC_SENTINEL, st.b);
        CHECK_EQ(b_total, 1);                      /* exactly one final sentinel */
        CHECK_EQ(st.b_sentinels_after, b_total);   /* and none after delete returned */
        if (st.b_sentinels_before == 0) {
            unannounced++;
            CHECK(st.b_listed);
            CHECK(rec_find(&rec, 0, REC_SENTINEL, st.b, "deleted\n") >= 0);
            netproc_value exit_status;
            CHECK_OK(ctx, netproc_process_exit_status(st.b, &exit_status));
            CHECK_EQ(exit_status.integer, 0);
            netproc_value_free(&exit_status);
        }
        CHECK_STR_EQ(netproc_process_status(st.b), "closed");

        netproc_process_free(b_peer);
        netproc_process_free(a_peer);
        netproc_process_free(st.b);
        netproc_process_free(a);
        netproc_process_free(server);
        CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
        rec_free(&rec);
    }
    printf("# %d of 5 attempts hit the unannounced window\n", unannounced);
}

/* ---- reentrancy: creating and sending from callbacks --------------------------- */

struct spawner {
    struct recorder *rec;
    netproc_context *ctx;
    long long port;
    netproc_process *child;
    int make_rc, send_rc;
};

static void spawn_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct spawner *st = (struct spawner *)ud;
    rec_filter(st->rec, p, data, len);
    if (len == 5 && memcmp(data, "spawn", 5) == 0 && st->child == NULL) {
        netproc_arg args[] = {
            ARG(":name", STR("child")), ARG(":service", INT(st->port)),
            ARG(":filter", REC_FILTER_V(st->rec)), ARG(":sentinel", REC_SENTINEL_V(st->rec)),
        };
        st->make_rc = netproc_make_network_process(st->ctx, args, NARGS(args), &st->child);
        if (st->make_rc == NETPROC_OK)
            st->send_rc = netproc_process_send(st->child, (const uint8_t *)"child says hi", 13);
    }
}

/* A filter makes a new client (to its own server) and sends through it: both work, and
 * the server accepts the new connection and hears from it. */
static void new_client_from_filter(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct spawner sc = {&rec, ctx, 0, NULL, -1, -1};
    netproc_process *server = server_with(ctx, "srv", netproc_filter(spawn_filter, &sc),
                                          REC_SENTINEL_V(&rec), REC_LOG_V(&rec));
    sc.port = contact_int(server, ":service");
    netproc_process *client = start_client(ctx, "cli", sc.port, &rec);
    netproc_process *acc1 = take_accepted(ctx, &rec, server, 0);
    size_t mark = rec.count;
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"spawn", 5));
    CHECK(PUMP_UNTIL(ctx, sc.child != NULL || sc.make_rc != -1, 3000));
    CHECK_EQ(sc.make_rc, NETPROC_OK);
    CHECK_EQ(sc.send_rc, NETPROC_OK);
    CHECK_STR_EQ(netproc_process_name(sc.child, NULL), "child");
    CHECK_STR_EQ(netproc_process_status(sc.child), "open");

    netproc_process *acc2 = take_accepted(ctx, &rec, server, mark);
    CHECK(acc2 != acc1);
    char buf[64];
    CHECK(PUMP_UNTIL(ctx, rec_output(&rec, acc2, buf, sizeof buf) == 13, 3000));
    CHECK_STR_EQ(buf, "child says hi");

    netproc_process_free(sc.child);
    netproc_process_free(acc2);
    netproc_process_free(acc1);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

struct echo_server {
    int bad_rc;
};

static void echo_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct echo_server *st = (struct echo_server *)ud;
    if (netproc_process_send(p, data, len) != NETPROC_OK) st->bad_rc++;
}

static void echo_sentinel(void *ud, netproc_process *p, const char *msg, size_t len) {
    struct echo_server *st = (struct echo_server *)ud;
    (void)len;
    if (strncmp(msg, "open from ", 10) == 0 && netproc_process_send(p, (const uint8_t *)"hello\n", 6) != NETPROC_OK)
        st->bad_rc++;
}

/* An echo server written entirely in callbacks: the accepted connection greets from its
 * "open from" sentinel and echoes from its filter; the client gets it all, in order. */
static void echo_server_in_callbacks(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct echo_server es = {0};
    netproc_process *server = server_with(ctx, "echo", netproc_filter(echo_filter, &es),
                                          netproc_sentinel(echo_sentinel, &es), netproc_nil());
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &rec);
    const char *parts[] = {"one ", "two ", "three ", "four"};
    for (size_t i = 0; i < NARGS(parts); i++)
        CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)parts[i], strlen(parts[i])));
    const char *want = "hello\none two three four";
    char buf[128];
    CHECK(PUMP_UNTIL(ctx, rec_output(&rec, client, buf, sizeof buf) >= strlen(want), 3000));
    CHECK_STR_EQ(buf, want);
    CHECK_EQ(es.bad_rc, 0);

    /* Several rounds more, each sent only after the previous echo came back. */
    for (int round = 0; round < 20; round++) {
        char msg[16];
        int n = snprintf(msg, sizeof msg, "<%d>", round);
        size_t before = rec_output(&rec, client, buf, sizeof buf);
        CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)msg, (size_t)n));
        CHECK(PUMP_UNTIL(ctx, rec_output(&rec, client, buf, sizeof buf) == before + (size_t)n, 3000));
        CHECK_EQ(memcmp(buf + before, msg, (size_t)n), 0);
    }
    CHECK_EQ(es.bad_rc, 0);

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

struct switcher {
    int a_calls, b_calls, bad;
    char a_last[64], b_last[64];
    netproc_sentinel_fn b;
};

static void sw_sentinel_b(void *ud, netproc_process *p, const char *msg, size_t len) {
    struct switcher *st = (struct switcher *)ud;
    (void)p;
    st->b_calls++;
    snprintf(st->b_last, sizeof st->b_last, "%.*s", (int)len, msg);
}

static void sw_sentinel_a(void *ud, netproc_process *p, const char *msg, size_t len) {
    struct switcher *st = (struct switcher *)ud;
    st->a_calls++;
    snprintf(st->a_last, sizeof st->a_last, "%.*s", (int)len, msg);
    /* A running sentinel is not disabled: process-sentinel still gives it. */
    netproc_value current;
    if (netproc_process_sentinel(p, &current) != NETPROC_OK) {
        st->bad++;
        return;
    }
    if (current.kind != NETPROC_VALUE_SENTINEL || current.sentinel != sw_sentinel_a || current.pointer != ud)
        st->bad++;
    netproc_value_free(&current);
    netproc_value b = netproc_sentinel(sw_sentinel_b, ud);
    if (netproc_set_process_sentinel(p, &b) != NETPROC_OK) st->bad++;
}

/* set-process-sentinel from inside the running sentinel takes effect for later events:
 * the accepted connection's "open from" goes to A, which installs B; the later close goes
 * to B only. */
static void set_sentinel_inside_sentinel(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct switcher st = {0};
    netproc_process *server = server_with(ctx, "srv", REC_FILTER_V(&rec), netproc_sentinel(sw_sentinel_a, &st),
                                          REC_LOG_V(&rec));
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &rec);
    netproc_process *acc = take_accepted(ctx, &rec, server, 0);
    CHECK_EQ(st.a_calls, 1);
    CHECK_STR_EQ(st.a_last, "open from 127.0.0.1\n");
    CHECK_EQ(st.b_calls, 0);
    CHECK_EQ(st.bad, 0);

    CHECK_OK(ctx, netproc_delete_process(client));
    CHECK(PUMP_UNTIL(ctx, st.b_calls > 0, 3000));
    CHECK_STR_EQ(st.b_last, BROKEN);
    pump_for(ctx, 100);
    CHECK_EQ(st.a_calls, 1);
    CHECK_EQ(st.b_calls, 1);
    /* The server itself keeps A. */
    CHECK_OK(ctx, netproc_delete_process(server));
    CHECK_EQ(st.a_calls, 2);
    CHECK_STR_EQ(st.a_last, "deleted\n");

    netproc_process_free(acc);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

struct reentry {
    netproc_context *ctx;
    struct recorder *rec;
    int poll_rc[3], free_rc[3]; /* by kind: filter, sentinel, log */
    bool seen[3];
};

static void reenter(struct reentry *st, int kind) {
    if (st->seen[kind]) return;
    st->seen[kind] = true;
    st->poll_rc[kind] = netproc_poll(st->ctx, 0);
    st->free_rc[kind] = netproc_context_free(st->ctx);
}

static void re_filter(void *ud, netproc_process *p, const uint8_t *d, size_t n) {
    rec_filter(((struct reentry *)ud)->rec, p, d, n);
    reenter((struct reentry *)ud, 0);
}

static void re_sentinel(void *ud, netproc_process *p, const char *m, size_t n) {
    rec_sentinel(((struct reentry *)ud)->rec, p, m, n);
    reenter((struct reentry *)ud, 1);
}

static void re_log(void *ud, netproc_process *s, netproc_process *c, const char *m, size_t n) {
    rec_log(((struct reentry *)ud)->rec, s, c, m, n);
    reenter((struct reentry *)ud, 2);
}

/* netproc_poll and netproc_context_free are refused from filters, sentinels and log
 * functions with NETPROC_E_REENTRANT, and the context goes on working. */
static void poll_and_free_refused_in_callbacks(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct reentry st = {ctx, &rec, {1, 1, 1}, {1, 1, 1}, {false, false, false}};
    netproc_process *server = server_with(ctx, "srv", netproc_filter(re_filter, &st),
                                          netproc_sentinel(re_sentinel, &st), netproc_log(re_log, &st));
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &rec);
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"data", 4));
    CHECK(PUMP_UNTIL(ctx, st.seen[0] && st.seen[1] && st.seen[2], 3000));
    for (int kind = 0; kind < 3; kind++) {
        CHECK_EQ(st.poll_rc[kind], NETPROC_E_REENTRANT);
        CHECK_EQ(st.free_rc[kind], NETPROC_E_REENTRANT);
    }
    CHECK_EQ(netproc_last_error(ctx, NULL, NULL, NULL), NETPROC_E_REENTRANT);

    /* Still usable: the accepted connection answers. */
    long at = rec_find(&rec, 0, REC_LOG, server, NULL);
    CHECK(at >= 0);
    netproc_process *acc = rec.events[at].client;
    CHECK_OK(ctx, netproc_process_send(acc, (const uint8_t *)"reply", 5));
    char buf[16];
    CHECK(PUMP_UNTIL(ctx, rec_output(&rec, client, buf, sizeof buf) == 5, 3000));
    CHECK_STR_EQ(buf, "reply");

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* ---- handles ------------------------------------------------------------------ */

struct counter_client {
    struct recorder *rec;
    int bad_rc;
};

/* Answers "k" with "k+1" until 5, through the handle the filter is given. */
static void count_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct counter_client *st = (struct counter_client *)ud;
    rec_filter(st->rec, p, data, len);
    if (len == 1 && data[0] >= '1' && data[0] < '5') {
        uint8_t next = (uint8_t)(data[0] + 1);
        if (netproc_process_send(p, &next, 1) != NETPROC_OK) st->bad_rc++;
    }
}

/* netproc_process_free is not delete-process: with the host's handles gone, the context
 * keeps the listed client and server running, and the client keeps talking to the echo
 * server until it is deleted through a borrowed handle. */
static void free_before_close_keeps_running(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct echo_server es = {0};
    struct counter_client cc = {&rec, 0};
    netproc_process *server = server_with(ctx, "srv", netproc_filter(echo_filter, &es), netproc_nil(),
                                          netproc_nil());
    long long port = contact_int(server, ":service");
    netproc_process_free(server);
    netproc_process *client = client_with(ctx, "cli", port, netproc_filter(count_filter, &cc),
                                          REC_SENTINEL_V(&rec), false);
    netproc_process *key = client; /* for comparisons only, once freed */
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"1", 1));
    netproc_process_free(client);

    char buf[16];
    CHECK(PUMP_UNTIL(ctx, rec_output(&rec, key, buf, sizeof buf) == 5, 3000));
    CHECK_STR_EQ(buf, "12345");
    CHECK_EQ(cc.bad_rc, 0);
    CHECK_EQ(es.bad_rc, 0);

    netproc_process *found = NULL;
    CHECK_OK(ctx, netproc_get_process(ctx, "cli", &found));
    CHECK(found == key);
    CHECK_STR_EQ(netproc_process_status(found), "open");
    CHECK_OK(ctx, netproc_get_process(ctx, "srv", &found));
    CHECK_NOT_NULL(found);
    CHECK_STR_EQ(netproc_process_status(found), "listen");

    CHECK_OK(ctx, netproc_get_process(ctx, "cli", &found));
    CHECK_OK(ctx, netproc_delete_process(found));
    CHECK(rec_find(&rec, 0, REC_SENTINEL, key, "deleted\n") >= 0);
    CHECK_OK(ctx, netproc_get_process(ctx, "cli", &found));
    CHECK_NULL(found);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

struct keeper {
    netproc_process *kept;
    int calls;
};

static void keep_sentinel(void *ud, netproc_process *p, const char *msg, size_t len) {
    struct keeper *st = (struct keeper *)ud;
    (void)len;
    st->calls++;
    if (strcmp(msg, BROKEN) == 0 && st->kept == NULL) st->kept = netproc_process_ref(p);
}

/* netproc_process_ref on the handle a sentinel is given keeps the process object alive
 * after its final sentinel, when netproc lets go of it: its status ("closed"), name and
 * exit status stay readable until the host frees it. */
static void ref_in_callback_outlives_final_sentinel(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct keeper st = {NULL, 0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    netproc_process *client = client_with(ctx, "cli", contact_int(server, ":service"), REC_FILTER_V(&rec),
                                          netproc_sentinel(keep_sentinel, &st), false);
    netproc_process *key = client;
    netproc_process_free(client); /* only the context holds it now */
    netproc_process *acc = take_accepted(ctx, &rec, server, 0);
    CHECK_OK(ctx, netproc_delete_process(acc));
    CHECK(PUMP_UNTIL(ctx, st.kept != NULL, 3000));
    CHECK(st.kept == key);
    pump_for(ctx, 200); /* netproc drops its own references meanwhile */

    netproc_process *found = key;
    CHECK_OK(ctx, netproc_get_process(ctx, "cli", &found));
    CHECK_NULL(found);
    CHECK_STR_EQ(netproc_process_status(st.kept), "closed");
    CHECK_STR_EQ(netproc_process_name(st.kept, NULL), "cli");
    netproc_value exit_status;
    CHECK_OK(ctx, netproc_process_exit_status(st.kept, &exit_status));
    CHECK_EQ(exit_status.kind, NETPROC_VALUE_INTEGER);
    CHECK_EQ(exit_status.integer, 256);
    netproc_value_free(&exit_status);
    CHECK_EQ(netproc_process_send(st.kept, (const uint8_t *)"x", 1), NETPROC_E_ERROR);
    CHECK_STR_EQ(last_error_message(ctx), "Process cli not running");
    CHECK_EQ(st.calls, 1);

    netproc_process_free(st.kept);
    netproc_process_free(acc);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* Userdata with a destructor that counts, and that calls into netproc to prove no netproc
 * lock is held while it runs (it would deadlock otherwise). */
struct userdata {
    int destroyed;
    netproc_context *ctx;
    int list_rc;
};

static void ud_destroy(void *p) {
    struct userdata *u = (struct userdata *)p;
    u->destroyed++;
    if (u->ctx) {
        size_t count = 0;
        u->list_rc = netproc_process_list(u->ctx, NULL, 0, &count);
    }
}

/* The per-process userdata destructor runs exactly once: when the userdata is replaced,
 * and when the last reference goes — not when the host frees a handle the context still
 * holds, nor at delete while the host holds one. */
static void userdata_destructor_runs_once(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    long long port = contact_int(server, ":service");

    /* Replaced, then released by the context after the host let go first. */
    struct userdata a = {0, ctx, -1}, b = {0, ctx, -1};
    netproc_process *c1 = start_client(ctx, "c1", port, &rec);
    CHECK_OK(ctx, netproc_process_set_userdata(c1, &a, ud_destroy));
    CHECK(netproc_process_userdata(c1) == &a);
    CHECK_OK(ctx, netproc_process_set_userdata(c1, &b, ud_destroy));
    CHECK_EQ(a.destroyed, 1);
    CHECK_EQ(a.list_rc, NETPROC_OK);
    CHECK_EQ(b.destroyed, 0);
    CHECK(netproc_process_userdata(c1) == &b);
    netproc_process *key = c1;
    netproc_process_free(c1);
    pump_for(ctx, 200);
    CHECK_EQ(b.destroyed, 0); /* still listed and open */
    netproc_process *found = NULL;
    CHECK_OK(ctx, netproc_get_process(ctx, "c1", &found));
    CHECK(found == key);
    CHECK(netproc_process_userdata(found) == &b);
    CHECK_OK(ctx, netproc_delete_process(found));
    CHECK(PUMP_UNTIL(ctx, b.destroyed > 0, 3000));
    pump_for(ctx, 200);
    CHECK_EQ(a.destroyed, 1);
    CHECK_EQ(b.destroyed, 1);
    CHECK_EQ(b.list_rc, NETPROC_OK);

    /* Deleted while the host holds it: only the host's free releases it. */
    struct userdata c = {0, ctx, -1};
    netproc_process *c2 = start_client(ctx, "c2", port, &rec);
    CHECK_OK(ctx, netproc_process_set_userdata(c2, &c, ud_destroy));
    CHECK_OK(ctx, netproc_delete_process(c2));
    pump_for(ctx, 200);
    CHECK_EQ(c.destroyed, 0);
    CHECK(netproc_process_userdata(c2) == &c);
    netproc_process_free(c2);
    CHECK_EQ(c.destroyed, 1);
    CHECK_EQ(c.list_rc, NETPROC_OK);

    /* A reference taken and dropped again does not end it either. */
    struct userdata d = {0, NULL, -1};
    netproc_process *c3 = start_client(ctx, "c3", port, &rec);
    CHECK_OK(ctx, netproc_process_set_userdata(c3, &d, ud_destroy));
    netproc_process *extra = netproc_process_ref(c3);
    CHECK(extra == c3);
    netproc_process_free(extra);
    CHECK_EQ(d.destroyed, 0);
    CHECK_OK(ctx, netproc_process_set_userdata(c3, NULL, NULL));
    CHECK_EQ(d.destroyed, 1);
    CHECK_NULL(netproc_process_userdata(c3));
    netproc_process_free(c3);
    CHECK_EQ(d.destroyed, 1);

    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    CHECK_EQ(a.destroyed + b.destroyed + c.destroyed + d.destroyed, 4);
    rec_free(&rec);
}

/* netproc_context_free with live processes runs "deleted\n" for each listed one, newest
 * first. Handles the host still holds stay valid: status "closed", and a send fails with
 * NETPROC_E_CLOSED ("The process's context was freed."); the userdata destructor runs
 * when the host finally frees its handle. */
static void context_free_with_live_processes(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &rec);
    netproc_process *acc = take_accepted(ctx, &rec, server, 0);
    struct userdata u = {0, NULL, -1};
    CHECK_OK(ctx, netproc_process_set_userdata(acc, &u, ud_destroy));
    size_t mark = rec.count;

    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    CHECK_EQ(rec.count - mark, 3);
    netproc_process *order[] = {acc, client, server};
    for (size_t i = 0; i < 3; i++) {
        const struct rec_event *e = &rec.events[mark + i];
        CHECK_EQ(e->kind, REC_SENTINEL);
        CHECK(e->process == order[i]);
        CHECK_STR_EQ(e->data, "deleted\n");
    }
    for (size_t i = 0; i < 3; i++) {
        CHECK_STR_EQ(netproc_process_status(order[i]), "closed");
        CHECK(!netproc_process_live_p(order[i]));
    }
    CHECK_STR_EQ(netproc_process_name(client, NULL), "cli");
    CHECK_EQ(netproc_process_send(client, (const uint8_t *)"x", 1), NETPROC_E_CLOSED);
    CHECK(strstr(last_error_message(NULL), "context was freed") != NULL);
    CHECK_EQ(netproc_process_send_eof(acc), NETPROC_E_CLOSED);
    netproc_delete_process(client); /* nothing left to delete: no sentinel */
    CHECK_EQ(rec.count - mark, 3);
    CHECK_EQ(u.destroyed, 0);

    netproc_process_free(acc);
    CHECK_EQ(u.destroyed, 1);
    netproc_process_free(client);
    netproc_process_free(server);
    rec_free(&rec);
}

/* A send that met EPIPE closed the process, whose sentinel waits for the next poll; the
 * host frees the context first. The process is still listed (as in Emacs until the
 * notify pass), so it gets its "deleted\n" like the others: no process is left without
 * a final sentinel. */
static void context_free_with_close_unannounced(void) {
    sigpipe_default();
    char dir[64], path[128];
    CHECK_NOT_NULL(make_temp_dir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/s", dir);
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_arg server_args[] = {
        ARG(":name", STR("usrv")), ARG(":family", SYM("local")), ARG(":service", STR(path)),
        ARG(":server", netproc_t()), ARG(":log", REC_LOG_V(&rec)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, server_args, NARGS(server_args), &server));
    netproc_arg client_args[] = {
        ARG(":name", STR("ucli")), ARG(":family", SYM("local")), ARG(":service", STR(path)),
        ARG(":sentinel", REC_SENTINEL_V(&rec)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, client_args, NARGS(client_args), &client));
    netproc_process *acc = take_accepted(ctx, &rec, server, 0);
    CHECK_OK(ctx, netproc_delete_process(acc));
    CHECK_EQ(netproc_process_send(client, (const uint8_t *)"x", 1), NETPROC_E_ERROR);
    CHECK_STR_EQ(netproc_process_status(client), "closed");
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, client), 0);

    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, client), 1);
    CHECK(rec_find(&rec, 0, REC_SENTINEL, client, "deleted\n") >= 0);

    netproc_process_free(acc);
    netproc_process_free(client);
    netproc_process_free(server);
    rec_free(&rec);
    CHECK_EQ(remove_temp_dir(dir), 0);
}

/* ---- the send queue ------------------------------------------------------------ */

/* A netproc client connected to a raw peer socket that the test drives by hand. */
struct raw_link {
    int listener, peer;
    netproc_process *client;
};

static struct raw_link raw_link_open(netproc_context *ctx, struct recorder *rec, int rcvbuf) {
    struct raw_link link;
    long long port = 0;
    link.listener = raw_tcp_listener(&port, rcvbuf);
    link.client = start_client(ctx, "cli", port, rec);
    link.peer = raw_accept(ctx, link.listener, 3000);
    return link;
}

static void raw_link_close(struct raw_link *link) {
    if (link->peer >= 0) close(link->peer);
    close(link->listener);
    netproc_process_free(link->client);
}

static uint8_t *pattern_buffer(size_t n, uint64_t seed) {
    uint8_t *buf = (uint8_t *)malloc(n);
    CHECK_NOT_NULL(buf);
    fill_pattern(buf, n, seed, 0);
    return buf;
}

/* 16 MiB to a peer that does not read yet: the send returns at once with the rest queued,
 * polls keep returning while the queue waits, and once the peer reads, every byte arrives
 * in order and the queue empties. */
static void large_send_to_slow_reader(void) {
    sigpipe_default();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct raw_link link = raw_link_open(ctx, &rec, 256 * 1024);
    const size_t total = 16 * MIB;
    uint8_t *data = pattern_buffer(total, 16);

    CHECK_OK(ctx, netproc_process_send(link.client, data, total));
    size_t pending = netproc_process_output_pending(link.client);
    CHECK(pending > 0);
    CHECK(pending <= total);
    for (int i = 0; i < 10; i++) CHECK(netproc_poll(ctx, 20) >= 0);
    CHECK(netproc_process_output_pending(link.client) > 0); /* the peer still does not read */
    CHECK_STR_EQ(netproc_process_status(link.client), "open");

    uint8_t *sink = (uint8_t *)malloc(total);
    CHECK_NOT_NULL(sink);
    size_t got = 0;
    peer_read(ctx, link.peer, sink, total, &got, total, false, 20000);
    CHECK_EQ(got, total);
    CHECK(memcmp(sink, data, total) == 0);
    CHECK(PUMP_UNTIL(ctx, netproc_process_output_pending(link.client) == 0, 3000));
    CHECK_EQ(netproc_process_output_lost(link.client), 0);
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, NULL), 0);

    free(sink);
    free(data);
    raw_link_close(&link);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* Many sends of varied sizes, some while the queue is non-empty, some with polls and peer
 * reads in between: the peer receives exactly the concatenation, in order. */
static void order_kept_across_sends(void) {
    sigpipe_default();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct raw_link link = raw_link_open(ctx, &rec, 128 * 1024);
    const size_t total = 8 * MIB;
    uint8_t *data = pattern_buffer(total, 77);
    uint8_t *sink = (uint8_t *)malloc(total);
    CHECK_NOT_NULL(sink);
    size_t sent = 0, got = 0, sends = 0;
    uint64_t lcg = 12345;
    while (sent < total) {
        lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
        size_t size = 1 + (size_t)((lcg >> 33) % (sends % 5 == 0 ? 300000 : 3000));
        if (size > total - sent) size = total - sent;
        CHECK_OK(ctx, netproc_process_send(link.client, data + sent, size));
        sent += size;
        sends++;
        if (sends % 7 == 0) CHECK(netproc_poll(ctx, 0) >= 0);
        if (sends % 50 == 0) peer_read(ctx, link.peer, sink, total, &got, 0, false, 100);
    }
    CHECK(sends > 100);
    peer_read(ctx, link.peer, sink, total, &got, total, false, 20000);
    CHECK_EQ(got, total);
    CHECK(memcmp(sink, data, total) == 0);
    CHECK(PUMP_UNTIL(ctx, netproc_process_output_pending(link.client) == 0, 3000));

    free(sink);
    free(data);
    raw_link_close(&link);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* delete-process with output still queued: "deleted\n" at once, the process leaves the
 * list, and netproc still writes every queued byte in the background before closing, so
 * the peer reads all of it and then EOF. */
static void delete_with_queued_output_delivers_all(void) {
    sigpipe_default();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct raw_link link = raw_link_open(ctx, &rec, 256 * 1024);
    const size_t total = 8 * MIB;
    uint8_t *data = pattern_buffer(total, 8);
    CHECK_OK(ctx, netproc_process_send(link.client, data, total));
    CHECK(netproc_process_output_pending(link.client) > 0);

    CHECK_OK(ctx, netproc_delete_process(link.client));
    CHECK(rec_find(&rec, 0, REC_SENTINEL, link.client, "deleted\n") >= 0);
    CHECK_STR_EQ(netproc_process_status(link.client), "closed");
    CHECK_EQ(listed_count(ctx), 0);
    CHECK(netproc_process_output_pending(link.client) > 0); /* still to be written */

    uint8_t *sink = (uint8_t *)malloc(total);
    CHECK_NOT_NULL(sink);
    size_t got = 0;
    bool eof = peer_read(ctx, link.peer, sink, total, &got, total, true, 20000);
    CHECK_EQ(got, total);
    CHECK(eof);
    CHECK(memcmp(sink, data, total) == 0);
    CHECK_EQ(netproc_process_output_pending(link.client), 0);
    CHECK_EQ(netproc_process_output_lost(link.client), 0);
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, link.client), 1); /* only "deleted\n" */

    free(sink);
    free(data);
    raw_link_close(&link);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* A netproc unix client connected to a raw unix peer in a fresh directory (dir). */
static struct raw_link raw_unix_link_open(netproc_context *ctx, struct recorder *rec, char *dir, size_t dir_cap) {
    struct raw_link link;
    struct sockaddr_un addr;
    CHECK_NOT_NULL(make_temp_dir(dir, dir_cap));
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s/peer.sock", dir);
    link.listener = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(link.listener >= 0);
    CHECK_EQ(bind(link.listener, (struct sockaddr *)&addr, sizeof addr), 0);
    CHECK_EQ(listen(link.listener, 4), 0);
    netproc_arg args[] = {
        ARG(":name", STR("cli")), ARG(":family", SYM("local")), ARG(":service", STR(addr.sun_path)),
        ARG(":filter", REC_FILTER_V(rec)), ARG(":sentinel", REC_SENTINEL_V(rec)),
    };
    link.client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &link.client));
    link.peer = raw_accept(ctx, link.listener, 3000);
    return link;
}

enum peer_exit { PEER_CLOSE, PEER_RESET, PEER_UNIX_CLOSE };

/* The peer goes away (close with unread data, a reset, or a unix peer's close, which
 * makes writes fail with EPIPE) while output is queued: the process ends with
 * "connection broken by remote peer\n" and output_lost counts the bytes that never left
 * the queue. SIGPIPE stays at its default: the background flush must not raise it. */
static void peer_gone_with_queued_output(enum peer_exit how) {
    sigpipe_default();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    char dir[64] = "";
    struct raw_link link = how == PEER_UNIX_CLOSE ? raw_unix_link_open(ctx, &rec, dir, sizeof dir)
                                                  : raw_link_open(ctx, &rec, 128 * 1024);
    const size_t total = 16 * MIB;
    uint8_t *data = pattern_buffer(total, 3);
    CHECK_OK(ctx, netproc_process_send(link.client, data, total));
    CHECK(netproc_process_output_pending(link.client) > 0);
    CHECK(netproc_poll(ctx, 0) >= 0);
    CHECK_EQ(netproc_process_output_lost(link.client), 0);

    if (how == PEER_RESET)
        raw_reset(link.peer);
    else
        close(link.peer);
    link.peer = -1;
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, link.client, BROKEN) >= 0, 5000));
    CHECK_STR_EQ(netproc_process_status(link.client), "closed");
    uint64_t lost = netproc_process_output_lost(link.client);
    CHECK(lost > 0);
    CHECK(lost <= total);
    CHECK_EQ(netproc_process_output_pending(link.client), 0);
    netproc_value exit_status;
    CHECK_OK(ctx, netproc_process_exit_status(link.client, &exit_status));
    CHECK_EQ(exit_status.integer, 256);
    netproc_value_free(&exit_status);
    pump_for(ctx, 100);
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, link.client), 1);

    free(data);
    raw_link_close(&link);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    if (dir[0]) CHECK_EQ(remove_temp_dir(dir), 0);
}

static void peer_closes_with_queued_output(void) { peer_gone_with_queued_output(PEER_CLOSE); }
static void peer_resets_with_queued_output(void) { peer_gone_with_queued_output(PEER_RESET); }
static void unix_peer_closes_with_queued_output(void) { peer_gone_with_queued_output(PEER_UNIX_CLOSE); }

/* With SIGPIPE at its default (fatal) disposition, sending again and again to a TCP
 * connection the peer has reset never raises it: the sends fail — the one that meets
 * EPIPE with Emacs's "process NAME no longer connected to pipe; closed it" — and the
 * process closes with one "connection broken by remote peer\n". */
static void no_sigpipe_after_tcp_reset(void) {
    sigpipe_default();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct raw_link link = raw_link_open(ctx, &rec, 0);
    raw_reset(link.peer);
    link.peer = -1;

    static uint8_t chunk[65536];
    int failures = 0, epipe = 0, other = 0;
    for (int i = 0; i < 50; i++) {
        int rc = netproc_process_send(link.client, chunk, sizeof chunk);
        if (rc == NETPROC_OK) continue;
        failures++;
        const char *message = last_error_message(ctx);
        if (strcmp(message, "process cli no longer connected to pipe; closed it") == 0) {
            CHECK_EQ(rc, NETPROC_E_ERROR);
            CHECK_STR_EQ(netproc_process_status(link.client), "closed");
            epipe++;
        } else if (strcmp(message, "Process cli not running") == 0) {
            CHECK(epipe > 0); /* only after the EPIPE closed it */
        } else {
            /* ECONNRESET, before EPIPE: "Writing to process: Connection reset by peer, cli" */
            if (rc != NETPROC_E_FILE || strncmp(message, "Writing to process: ", 20) != 0)
                fprintf(stderr, "  send %d: %s (%s) %s\n", i, netproc_status_name(rc), last_error_symbol(ctx),
                        message);
            CHECK_EQ(rc, NETPROC_E_FILE);
            CHECK(strncmp(message, "Writing to process: ", 20) == 0);
            other++;
        }
    }
    CHECK(failures > 0);
    CHECK_EQ(epipe, 1);
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, link.client, BROKEN) >= 0, 3000));
    pump_for(ctx, 100);
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, link.client), 1);
    CHECK(other <= 1);

    raw_link_close(&link);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* The same over a unix socket whose other end netproc closed: the very first send meets
 * EPIPE (no SIGPIPE), gives the Emacs error, and closes the process at once; the sentinel
 * comes from the next poll. */
static void no_sigpipe_after_unix_peer_close(void) {
    sigpipe_default();
    char dir[64], path[128];
    CHECK_NOT_NULL(make_temp_dir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/pipe.sock", dir);
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_arg server_args[] = {
        ARG(":name", STR("usrv")), ARG(":family", SYM("local")), ARG(":service", STR(path)),
        ARG(":server", netproc_t()), ARG(":log", REC_LOG_V(&rec)), ARG(":sentinel", REC_SENTINEL_V(&rec)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, server_args, NARGS(server_args), &server));
    netproc_arg client_args[] = {
        ARG(":name", STR("ucli")), ARG(":family", SYM("local")), ARG(":service", STR(path)),
        ARG(":sentinel", REC_SENTINEL_V(&rec)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, client_args, NARGS(client_args), &client));
    netproc_process *acc = take_accepted(ctx, &rec, server, 0);
    CHECK_OK(ctx, netproc_delete_process(acc));
    size_t mark = rec.count;

    static uint8_t chunk[4096];
    CHECK_EQ(netproc_process_send(client, chunk, sizeof chunk), NETPROC_E_ERROR);
    CHECK_STR_EQ(last_error_symbol(ctx), "error");
    CHECK_STR_EQ(last_error_message(ctx), "process ucli no longer connected to pipe; closed it");
    CHECK_STR_EQ(netproc_process_status(client), "closed");
    CHECK_EQ(rec.count, mark); /* the sentinel waits for a poll */
    netproc_process *found = NULL;
    CHECK_OK(ctx, netproc_get_process(ctx, "ucli", &found));
    CHECK(found == client); /* listed until its sentinel is announced, as in Emacs */
    for (int i = 0; i < 20; i++) {
        CHECK_EQ(netproc_process_send(client, chunk, sizeof chunk), NETPROC_E_ERROR);
        CHECK_STR_EQ(last_error_message(ctx), "Process ucli not running");
    }
    CHECK(netproc_poll(ctx, 0) >= 1);
    CHECK_EQ(sentinels_since(&rec, mark, client), 1);
    CHECK(rec_find(&rec, mark, REC_SENTINEL, client, BROKEN) >= 0);
    pump_for(ctx, 100);
    CHECK_EQ(sentinels_since(&rec, mark, client), 1);
    CHECK_OK(ctx, netproc_get_process(ctx, "ucli", &found));
    CHECK_NULL(found);

    netproc_process_free(acc);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    CHECK_EQ(remove_temp_dir(dir), 0);
}

/* process-send-eof: the peer reads the data, then EOF; the process stays open and what
 * the peer sends afterwards still reaches the filter; sending more is an error
 * (docs/DIFFERENCES.md); the process ends when the peer closes. */
static void send_eof_half_close(void) {
    sigpipe_default();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct raw_link link = raw_link_open(ctx, &rec, 0);
    CHECK_OK(ctx, netproc_process_send(link.client, (const uint8_t *)"request", 7));
    CHECK_OK(ctx, netproc_process_send_eof(link.client));

    uint8_t sink[64];
    size_t got = 0;
    bool eof = peer_read(ctx, link.peer, sink, sizeof sink, &got, 7, true, 3000);
    CHECK(eof);
    CHECK_MEM_EQ(sink, got, "request", 7);
    CHECK_STR_EQ(netproc_process_status(link.client), "open");

    CHECK_EQ(netproc_process_send(link.client, (const uint8_t *)"more", 4), NETPROC_E_ERROR);
    CHECK_STR_EQ(last_error_symbol(ctx), "error");
    CHECK_STR_EQ(last_error_message(ctx), "Output file descriptor of cli is closed");

    CHECK_EQ(send(link.peer, "response", 8, MSG_NOSIGNAL), 8);
    char buf[64];
    CHECK(PUMP_UNTIL(ctx, rec_output(&rec, link.client, buf, sizeof buf) == 8, 3000));
    CHECK_STR_EQ(buf, "response");
    CHECK_STR_EQ(netproc_process_status(link.client), "open");
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, link.client), 0);

    close(link.peer);
    link.peer = -1;
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, link.client, BROKEN) >= 0, 3000));
    CHECK_STR_EQ(netproc_process_status(link.client), "closed");
    CHECK_EQ(netproc_process_output_lost(link.client), 0);

    raw_link_close(&link);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* process-send-eof with megabytes still queued: the shutdown waits for the queue, so the
 * peer reads every byte before EOF. */
static void send_eof_after_queued_output(void) {
    sigpipe_default();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct raw_link link = raw_link_open(ctx, &rec, 128 * 1024);
    const size_t total = 4 * MIB;
    uint8_t *data = pattern_buffer(total, 44);
    CHECK_OK(ctx, netproc_process_send(link.client, data, total));
    CHECK(netproc_process_output_pending(link.client) > 0);
    CHECK_OK(ctx, netproc_process_send_eof(link.client));

    uint8_t *sink = (uint8_t *)malloc(total);
    CHECK_NOT_NULL(sink);
    size_t got = 0;
    bool eof = peer_read(ctx, link.peer, sink, total, &got, total, true, 20000);
    CHECK_EQ(got, total);
    CHECK(eof);
    CHECK(memcmp(sink, data, total) == 0);
    CHECK_STR_EQ(netproc_process_status(link.client), "open");

    free(sink);
    free(data);
    raw_link_close(&link);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* ---- no leaks ------------------------------------------------------------------- */

struct cycle_counts {
    size_t accepted, opened, broken, other;
};

static void cyc_log(void *ud, netproc_process *s, netproc_process *c, const char *m, size_t n) {
    (void)s, (void)c, (void)m, (void)n;
    ((struct cycle_counts *)ud)->accepted++;
}

static void cyc_sentinel(void *ud, netproc_process *p, const char *m, size_t n) {
    struct cycle_counts *cc = (struct cycle_counts *)ud;
    (void)p, (void)n;
    if (strncmp(m, "open from ", 10) == 0)
        cc->opened++;
    else if (strcmp(m, BROKEN) == 0)
        cc->broken++;
    else
        cc->other++;
}

static size_t cycles_wanted(void) {
    const char *s = getenv("NETPROC_TEST_CYCLES");
    long n = s ? strtol(s, NULL, 10) : 10000;
    return n >= 1 && n <= 1000000 ? (size_t)n : 10000;
}

/* Connect and delete a client many times against one netproc server, pumping so the
 * server side closes each accepted connection too: afterwards exactly as many descriptors
 * are open as before. */
static void no_descriptor_leak_after_many_cycles(void) {
    const size_t cycles = cycles_wanted();
    netproc_context *ctx = new_context();
    struct cycle_counts cc = {0, 0, 0, 0};
    netproc_arg server_args[] = {
        ARG(":name", STR("srv")), ARG(":server", INT(128)), ARG(":service", netproc_t()),
        ARG(":sentinel", netproc_sentinel(cyc_sentinel, &cc)), ARG(":log", netproc_log(cyc_log, &cc)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, server_args, NARGS(server_args), &server));
    long long port = contact_int(server, ":service");
    int before = count_open_fds();
    if (before < 0) SKIP_TEST("/proc/self/fd is not available");

    netproc_arg client_args[] = {ARG(":name", STR("c")), ARG(":service", INT(port))};
    for (size_t i = 0; i < cycles; i++) {
        netproc_process *client = NULL;
        CHECK_OK(ctx, netproc_make_network_process(ctx, client_args, NARGS(client_args), &client));
        CHECK_OK(ctx, netproc_delete_process(client));
        netproc_process_free(client);
        CHECK(netproc_poll(ctx, 0) >= 0);
        if (i % 32 == 31) CHECK(PUMP_UNTIL(ctx, cc.broken == i + 1, 5000));
    }
    CHECK(PUMP_UNTIL(ctx, cc.broken == cycles, 5000));
    CHECK(PUMP_UNTIL(ctx, listed_count(ctx) == 1, 3000));
    CHECK_EQ(cc.accepted, cycles);
    CHECK_EQ(cc.opened, cycles);
    CHECK_EQ(cc.other, 0);
    int after = count_open_fds();
    CHECK_EQ(after, before);

    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

int main(void) {
    static const struct test_case cases[] = {
        {"delete_in_own_filter", delete_in_own_filter, 10},
        {"delete_in_own_sentinel", delete_in_own_sentinel, 10},
        {"delete_accepted_in_open_from_sentinel", delete_accepted_in_open_from_sentinel, 10},
        {"delete_server_in_log", delete_server_in_log, 10},
        {"delete_everything_from_one_callback", delete_everything_from_one_callback, 10},
        {"delete_other_process_with_close_pending", delete_other_process_with_close_pending, 20},
        {"new_client_from_filter", new_client_from_filter, 10},
        {"echo_server_in_callbacks", echo_server_in_callbacks, 10},
        {"set_sentinel_inside_sentinel", set_sentinel_inside_sentinel, 10},
        {"poll_and_free_refused_in_callbacks", poll_and_free_refused_in_callbacks, 10},
        {"free_before_close_keeps_running", free_before_close_keeps_running, 10},
        {"ref_in_callback_outlives_final_sentinel", ref_in_callback_outlives_final_sentinel, 10},
        {"userdata_destructor_runs_once", userdata_destructor_runs_once, 10},
        {"context_free_with_live_processes", context_free_with_live_processes, 10},
        {"context_free_with_close_unannounced", context_free_with_close_unannounced, 10},
        {"large_send_to_slow_reader", large_send_to_slow_reader, 30},
        {"order_kept_across_sends", order_kept_across_sends, 30},
        {"delete_with_queued_output_delivers_all", delete_with_queued_output_delivers_all, 30},
        {"peer_closes_with_queued_output", peer_closes_with_queued_output, 30},
        {"peer_resets_with_queued_output", peer_resets_with_queued_output, 30},
        {"unix_peer_closes_with_queued_output", unix_peer_closes_with_queued_output, 30},
        {"no_sigpipe_after_tcp_reset", no_sigpipe_after_tcp_reset, 10},
        {"no_sigpipe_after_unix_peer_close", no_sigpipe_after_unix_peer_close, 10},
        {"send_eof_half_close", send_eof_half_close, 10},
        {"send_eof_after_queued_output", send_eof_after_queued_output, 30},
        {"no_descriptor_leak_after_many_cycles", no_descriptor_leak_after_many_cycles, 40},
    };
    return run_tests(cases, NARGS(cases));
}
