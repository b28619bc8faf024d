/* test_tcp_client: TCP stream clients against Emacs 28.2's semantics: status and sentinels,
 * default filter and sentinel, unique names and the process list, delete, :nowait, stop and
 * continue, filter t, host forms, network options (Emacs's
 * Fmake_network_process, make_process, status_notify, Fprocess_contact, read_process_output,
 * Fstop_process, Fdelete_process, connect_network_socket). */
#include "check.h"
#include "pump.h"

/* Bounded waits; scaled like the case timeouts, so valgrind runs get the same slack. */
#define WAIT_MS (3000u * check_timeout_scale_())

/* ---- helpers --------------------------------------------------------------- */

/* A plain peer: listen, let a netproc client connect, then accept it (connect has
 * completed at the kernel level, so accept does not wait). */
struct peer {
    int listener;
    long long port;
};

static struct peer peer_listen(void) {
    struct peer p;
    p.listener = raw_listen(&p.port);
    return p;
}

static int peer_accept(struct peer *p) {
    int fd = accept(p->listener, NULL, NULL);
    CHECK(fd >= 0);
    return fd;
}

/* The value of `key` in a plist value, or NULL; *index gets its position if not NULL. */
static const netproc_value *plist_lookup(const netproc_value *plist, const char *key, size_t *index) {
    if (plist->kind != NETPROC_VALUE_LIST) return NULL;
    for (size_t i = 0; i + 1 < plist->count; i += 2)
        if (value_is_symbol(&plist->items[i], key)) {
            if (index) *index = i;
            return &plist->items[i + 1];
        }
    return NULL;
}

static size_t plist_key_count(const netproc_value *plist, const char *key) {
    size_t n = 0;
    for (size_t i = 0; plist->kind == NETPROC_VALUE_LIST && i + 1 < plist->count; i += 2)
        if (value_is_symbol(&plist->items[i], key)) n++;
    return n;
}

static void check_remote_loopback(netproc_process *p, long long port) {
    netproc_value v;
    const long long expected[] = {127, 0, 0, 1, port};
    CHECK_EQ(netproc_process_contact(p, ":remote", false, &v), NETPROC_OK);
    bool ok = value_is_int_vector(&v, expected, 5);
    netproc_value_free(&v);
    CHECK(ok);
}

static long long exit_status_int(netproc_process *p) {
    netproc_value v;
    CHECK_EQ(netproc_process_exit_status(p, &v), NETPROC_OK);
    CHECK_EQ(v.kind, NETPROC_VALUE_INTEGER);
    long long n = v.integer;
    netproc_value_free(&v);
    return n;
}

/* A TCP server named `name` with no callbacks of its own. */
static netproc_process *plain_server(netproc_context *ctx, const char *name) {
    netproc_arg args[] = {
        ARG(":name", STR(name)),
        ARG(":server", netproc_t()),
        ARG(":service", netproc_t()),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    CHECK_NOT_NULL(server);
    return server;
}

/* ---- blocking clients ------------------------------------------------------------ */

/* Fmake_network_process, Fprocess_contact: a blocking client returns open, with no sentinel
 * call, and its contact gets :remote and :local; (process-contact C) is the raw
 * (HOST SERVICE). */
static void blocking_client_open_without_sentinel(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct peer peer = peer_listen();
    netproc_process *client = start_client(ctx, "cli", peer.port, &rec);
    CHECK_STR_EQ(netproc_process_status(client), "open");
    CHECK(netproc_process_live_p(client));
    CHECK_EQ(exit_status_int(client), 0);
    int fd = peer_accept(&peer);
    pump_for(ctx, 100);
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, client), 0);

    check_remote_loopback(client, peer.port);
    long long lport = contact_port(client, ":local");
    struct sockaddr_in peer_addr;
    socklen_t len = sizeof peer_addr;
    CHECK_EQ(getpeername(fd, (struct sockaddr *)&peer_addr, &len), 0);
    CHECK_EQ(lport, ntohs(peer_addr.sin_port));

    netproc_value hs;
    CHECK_OK(ctx, netproc_process_contact(client, NULL, false, &hs));
    CHECK_EQ(hs.kind, NETPROC_VALUE_LIST);
    CHECK_EQ(hs.count, 2);
    CHECK_EQ(hs.items[0].kind, NETPROC_VALUE_NIL);
    CHECK_EQ(hs.items[1].kind, NETPROC_VALUE_INTEGER);
    CHECK_EQ(hs.items[1].integer, peer.port);
    netproc_value_free(&hs);

    close(fd);
    close(peer.listener);
    netproc_process_free(client);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* ---- default filter and sentinel (Finternal_default_process_filter, -sentinel) ----- */

/* A process with no filter or sentinel uses the context's defaults, and reports the
 * default symbols as its filter and sentinel. */
static void default_filter_and_sentinel_used_when_nil(void) {
    netproc_context *ctx = new_context();
    struct recorder dflt = {0};
    CHECK_OK(ctx, netproc_context_set_default_filter(ctx, rec_filter, &dflt));
    CHECK_OK(ctx, netproc_context_set_default_sentinel(ctx, rec_sentinel, &dflt));
    struct peer peer = peer_listen();
    netproc_arg args[] = {ARG(":name", STR("plain")), ARG(":service", INT(peer.port))};
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));
    int fd = peer_accept(&peer);

    netproc_value v;
    CHECK_OK(ctx, netproc_process_filter(client, &v));
    CHECK(value_is_symbol(&v, "internal-default-process-filter"));
    netproc_value_free(&v);
    CHECK_OK(ctx, netproc_process_sentinel(client, &v));
    CHECK(value_is_symbol(&v, "internal-default-process-sentinel"));
    netproc_value_free(&v);

    raw_send(fd, "data");
    CHECK(PUMP_UNTIL(ctx, rec_find(&dflt, 0, REC_FILTER, client, "data") >= 0, WAIT_MS));
    close(fd);
    CHECK(PUMP_UNTIL(ctx, rec_find(&dflt, 0, REC_SENTINEL, client, "connection broken by remote peer\n") >= 0,
                     WAIT_MS));

    close(peer.listener);
    netproc_process_free(client);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&dflt);
}

/* set_process_filter with NIL: the contact records internal-default-process-filter and the
 * context's default filter takes over from the function. */
static void set_filter_nil_records_default_symbol(void) {
    netproc_context *ctx = new_context();
    struct recorder dflt = {0}, own = {0};
    CHECK_OK(ctx, netproc_context_set_default_filter(ctx, rec_filter, &dflt));
    struct peer peer = peer_listen();
    netproc_process *client = start_client(ctx, "cli", peer.port, &own);
    int fd = peer_accept(&peer);

    raw_send(fd, "first");
    CHECK(PUMP_UNTIL(ctx, rec_find(&own, 0, REC_FILTER, client, "first") >= 0, WAIT_MS));
    CHECK_EQ(dflt.count, 0);

    netproc_value nil = netproc_nil();
    CHECK_OK(ctx, netproc_set_process_filter(client, &nil));
    netproc_value v;
    CHECK_OK(ctx, netproc_process_contact(client, ":filter", false, &v));
    CHECK(value_is_symbol(&v, "internal-default-process-filter"));
    netproc_value_free(&v);
    CHECK_OK(ctx, netproc_process_filter(client, &v));
    CHECK(value_is_symbol(&v, "internal-default-process-filter"));
    netproc_value_free(&v);

    raw_send(fd, "second");
    CHECK(PUMP_UNTIL(ctx, rec_find(&dflt, 0, REC_FILTER, client, "second") >= 0, WAIT_MS));
    CHECK_EQ(rec_count(&own, REC_FILTER, client), 1);

    close(fd);
    close(peer.listener);
    netproc_process_free(client);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&dflt);
    rec_free(&own);
}

/* ---- names and the process list (make_process, Fget_process) ----------------------- */

static void unique_names_and_get_process(void) {
    netproc_context *ctx = new_context();
    netproc_process *a = plain_server(ctx, "dup");
    netproc_process *b = plain_server(ctx, "dup");
    netproc_process *c = plain_server(ctx, "dup");
    netproc_process *d = plain_server(ctx, "dup<1>");
    CHECK_STR_EQ(netproc_process_name(a, NULL), "dup");
    CHECK_STR_EQ(netproc_process_name(b, NULL), "dup<1>");
    CHECK_STR_EQ(netproc_process_name(c, NULL), "dup<2>");
    CHECK_STR_EQ(netproc_process_name(d, NULL), "dup<1><1>");

    netproc_process *found = NULL;
    CHECK_OK(ctx, netproc_get_process(ctx, "dup<1>", &found));
    CHECK(found == b);
    CHECK_OK(ctx, netproc_get_process(ctx, "dup<1><1>", &found));
    CHECK(found == d);
    CHECK_OK(ctx, netproc_get_process(ctx, "dup", &found));
    CHECK(found == a);
    CHECK_OK(ctx, netproc_get_process(ctx, "DUP", &found)); /* exact, case matters */
    CHECK_NULL(found);
    CHECK_OK(ctx, netproc_get_process(ctx, "dup<3>", &found));
    CHECK_NULL(found);

    /* Newest first. */
    netproc_process *list[8];
    size_t count = 0;
    CHECK_OK(ctx, netproc_process_list(ctx, list, 8, &count));
    CHECK_EQ(count, 4);
    CHECK(list[0] == d && list[1] == c && list[2] == b && list[3] == a);

    /* Deleting dup<1> frees its name: the next "dup" gets it again. */
    CHECK_OK(ctx, netproc_delete_process(b));
    CHECK_OK(ctx, netproc_get_process(ctx, "dup<1>", &found));
    CHECK_NULL(found);
    netproc_process *e = plain_server(ctx, "dup");
    CHECK_STR_EQ(netproc_process_name(e, NULL), "dup<1>");
    CHECK_OK(ctx, netproc_get_process(ctx, "dup<1>", &found));
    CHECK(found == e);
    CHECK_OK(ctx, netproc_process_list(ctx, list, 8, &count));
    CHECK_EQ(count, 4);
    CHECK(list[0] == e && list[1] == d && list[2] == c && list[3] == a);
    /* The deleted handle keeps its name. */
    CHECK_STR_EQ(netproc_process_name(b, NULL), "dup<1>");

    netproc_process_free(a);
    netproc_process_free(b);
    netproc_process_free(c);
    netproc_process_free(d);
    netproc_process_free(e);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- closing ---------------------------------------------------------------------- */

/* A sentinel that also looks the process up, by name and in the list, while it runs. */
struct probe {
    struct recorder rec;
    netproc_context *ctx;
    int calls;
    bool found_by_name;
    bool listed;
};

static void probe_sentinel(void *ud, netproc_process *p, const char *msg, size_t len) {
    struct probe *pr = (struct probe *)ud;
    rec_sentinel(&pr->rec, p, msg, len);
    netproc_process *found = NULL;
    CHECK_EQ(netproc_get_process(pr->ctx, netproc_process_name(p, NULL), &found), NETPROC_OK);
    pr->found_by_name = found != NULL;
    pr->listed = in_process_list(pr->ctx, p);
    pr->calls++;
}

/* status_notify, read_process_output: the peer sends "bye" and closes: the filter gets "bye"
 * before the sentinel; the process is closed with exit 256, and is out of the process list
 * already inside its sentinel. */
static void data_before_close_then_closed_and_unlisted(void) {
    netproc_context *ctx = new_context();
    struct probe pr = {.ctx = ctx};
    struct peer peer = peer_listen();
    netproc_arg args[] = {
        ARG(":name", STR("cli")),
        ARG(":service", INT(peer.port)),
        ARG(":filter", REC_FILTER_V(&pr.rec)),
        ARG(":sentinel", netproc_sentinel(probe_sentinel, &pr)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));
    CHECK(in_process_list(ctx, client));
    int fd = peer_accept(&peer);
    raw_send(fd, "bye");
    close(fd);
    CHECK(PUMP_UNTIL(ctx, pr.calls > 0, WAIT_MS));

    long data = rec_find(&pr.rec, 0, REC_FILTER, client, "bye");
    long broken = rec_find(&pr.rec, 0, REC_SENTINEL, client, "connection broken by remote peer\n");
    CHECK(data >= 0);
    CHECK(broken > data);
    CHECK_EQ(pr.calls, 1);
    CHECK(!pr.found_by_name);
    CHECK(!pr.listed);
    CHECK_STR_EQ(netproc_process_status(client), "closed");
    CHECK(!netproc_process_live_p(client));
    CHECK_EQ(exit_status_int(client), 256);
    CHECK(!in_process_list(ctx, client));
    /* Nothing more comes, and a delete now calls no sentinel. */
    CHECK_OK(ctx, netproc_delete_process(client));
    pump_for(ctx, 100);
    CHECK_EQ(pr.calls, 1);

    close(peer.listener);
    netproc_process_free(client);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&pr.rec);
}

/* Fdelete_process: the "deleted\n" sentinel runs inside delete_process, once; the process is
 * closed with exit 0 and gone from the list (already inside the sentinel); a second delete does
 * nothing. */
static void delete_runs_sentinel_synchronously_once(void) {
    netproc_context *ctx = new_context();
    struct probe pr = {.ctx = ctx};
    struct peer peer = peer_listen();
    netproc_arg args[] = {
        ARG(":name", STR("cli")),
        ARG(":service", INT(peer.port)),
        ARG(":filter", REC_FILTER_V(&pr.rec)),
        ARG(":sentinel", netproc_sentinel(probe_sentinel, &pr)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));
    int fd = peer_accept(&peer);

    CHECK_OK(ctx, netproc_delete_process(client));
    CHECK_EQ(pr.calls, 1); /* no poll in between */
    CHECK(rec_find(&pr.rec, 0, REC_SENTINEL, client, "deleted\n") >= 0);
    CHECK(!pr.found_by_name);
    CHECK(!pr.listed);
    CHECK_STR_EQ(netproc_process_status(client), "closed");
    CHECK_EQ(exit_status_int(client), 0);
    CHECK(!in_process_list(ctx, client));

    CHECK_OK(ctx, netproc_delete_process(client));
    CHECK_EQ(pr.calls, 1);
    /* The peer sees the close; no further sentinel (e.g. "connection broken") follows. */
    char byte;
    CHECK_EQ(recv(fd, &byte, 1, 0), 0);
    pump_for(ctx, 100);
    CHECK_EQ(pr.calls, 1);
    CHECK_EQ(exit_status_int(client), 0);

    close(fd);
    close(peer.listener);
    netproc_process_free(client);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&pr.rec);
}

/* ---- :nowait (check_for_dns, connect_network_socket) ------------------------------- */

/* A log function that greets each new connection at once, so its data is in flight as
 * early as possible. */
static void greet_log(void *ud, netproc_process *server, netproc_process *client, const char *msg, size_t len) {
    rec_log((struct recorder *)ud, server, client, msg, len);
    if (client != NULL) CHECK_EQ(netproc_process_send(client, (const uint8_t *)"hello", 5), NETPROC_OK);
}

static void nowait_connect_then_open_before_data(void) {
    netproc_context *ctx = new_context();
    struct recorder srec = {0}, rec = {0};
    netproc_arg sargs[] = {
        ARG(":name", STR("srv")),
        ARG(":server", netproc_t()),
        ARG(":service", netproc_t()),
        ARG(":filter", REC_FILTER_V(&srec)),
        ARG(":log", netproc_log(greet_log, &srec)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, sargs, NARGS(sargs), &server));
    netproc_arg args[] = {
        ARG(":name", STR("nw")),
        ARG(":service", INT(contact_int(server, ":service"))),
        ARG(":nowait", netproc_t()),
        ARG(":filter", REC_FILTER_V(&rec)),
        ARG(":sentinel", REC_SENTINEL_V(&rec)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));
    CHECK_STR_EQ(netproc_process_status(client), "connect");
    CHECK(netproc_process_live_p(client));

    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_FILTER, client, NULL) >= 0, WAIT_MS));
    long opened = rec_find(&rec, 0, REC_SENTINEL, client, "open\n");
    long data = rec_find(&rec, 0, REC_FILTER, client, NULL);
    CHECK(opened >= 0);
    CHECK(data > opened);
    CHECK(PUMP_UNTIL(ctx, rec.filter_bytes >= 5, WAIT_MS));
    char out[16];
    size_t n = rec_output(&rec, client, out, sizeof out);
    CHECK_MEM_EQ(out, n, "hello", 5);
    CHECK_STR_EQ(netproc_process_status(client), "open");
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, client), 1);

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&srec);
    rec_free(&rec);
}

static void nowait_refused_fails_with_111(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_arg args[] = {
        ARG(":name", STR("nw")),
        ARG(":service", INT(closed_port())),
        ARG(":nowait", netproc_t()),
        ARG(":filter", REC_FILTER_V(&rec)),
        ARG(":sentinel", REC_SENTINEL_V(&rec)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));
    CHECK_STR_EQ(netproc_process_status(client), "connect");
    CHECK_EQ(exit_status_int(client), 0); /* docs/DIFFERENCES.md */

    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_SENTINEL, client) > 0, WAIT_MS));
    CHECK_STR_EQ(rec.events[rec_find(&rec, 0, REC_SENTINEL, client, NULL)].data, "failed with code 111\n");
    CHECK_STR_EQ(netproc_process_status(client), "failed");
    CHECK(!netproc_process_live_p(client));
    CHECK_EQ(exit_status_int(client), 111);
    pump_for(ctx, 100);
    CHECK_EQ(rec.count, 1); /* exactly one sentinel, never "open" */

    netproc_process_free(client);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

static void nowait_send_while_connecting_is_delivered(void) {
    netproc_context *ctx = new_context();
    struct recorder srec = {0}, rec = {0};
    netproc_process *server = start_server(ctx, "srv", &srec);
    netproc_arg args[] = {
        ARG(":name", STR("nw")),
        ARG(":service", INT(contact_int(server, ":service"))),
        ARG(":nowait", netproc_t()),
        ARG(":filter", REC_FILTER_V(&rec)),
        ARG(":sentinel", REC_SENTINEL_V(&rec)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));
    CHECK_STR_EQ(netproc_process_status(client), "connect");
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"early", 5));
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"+more", 5));

    CHECK(PUMP_UNTIL(ctx, srec.filter_bytes >= 10, WAIT_MS));
    char out[32];
    size_t n = rec_output(&srec, NULL, out, sizeof out);
    CHECK_MEM_EQ(out, n, "early+more", 10);
    CHECK(rec_find(&rec, 0, REC_SENTINEL, client, "open\n") >= 0);
    CHECK_EQ(netproc_process_output_pending(client), 0);

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&srec);
    rec_free(&rec);
}

/* Fstop_process: a :nowait client made with :stop t shows "stop" from the start, still gets
 * "open\n" (status still "stop"), and reads nothing until continued. */
struct status_probe {
    struct recorder rec;
    char status_in_sentinel[16];
};

static void status_probe_sentinel(void *ud, netproc_process *p, const char *msg, size_t len) {
    struct status_probe *sp = (struct status_probe *)ud;
    rec_sentinel(&sp->rec, p, msg, len);
    const char *status = netproc_process_status(p);
    snprintf(sp->status_in_sentinel, sizeof sp->status_in_sentinel, "%s", status ? status : "NULL");
}

static void nowait_stopped_gets_open_then_reads_after_continue(void) {
    netproc_context *ctx = new_context();
    struct recorder srec = {0};
    struct status_probe sp = {0};
    netproc_arg sargs[] = {
        ARG(":name", STR("srv")),
        ARG(":server", netproc_t()),
        ARG(":service", netproc_t()),
        ARG(":log", netproc_log(greet_log, &srec)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, sargs, NARGS(sargs), &server));
    netproc_arg args[] = {
        ARG(":name", STR("nw")),
        ARG(":service", INT(contact_int(server, ":service"))),
        ARG(":nowait", netproc_t()),
        ARG(":stop", netproc_t()),
        ARG(":filter", REC_FILTER_V(&sp.rec)),
        ARG(":sentinel", netproc_sentinel(status_probe_sentinel, &sp)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));
    CHECK_STR_EQ(netproc_process_status(client), "stop");

    CHECK(PUMP_UNTIL(ctx, rec_find(&sp.rec, 0, REC_SENTINEL, client, "open\n") >= 0, WAIT_MS));
    CHECK_STR_EQ(sp.status_in_sentinel, "stop");
    /* The server greets at once; nothing is read while stopped. */
    CHECK(PUMP_UNTIL(ctx, rec_count(&srec, REC_LOG, server) == 1, WAIT_MS));
    pump_for(ctx, 200);
    CHECK_EQ(rec_count(&sp.rec, REC_FILTER, client), 0);
    CHECK_STR_EQ(netproc_process_status(client), "stop");

    CHECK_OK(ctx, netproc_continue_process(client));
    CHECK_STR_EQ(netproc_process_status(client), "open");
    CHECK(PUMP_UNTIL(ctx, sp.rec.filter_bytes >= 5, WAIT_MS));
    char out[16];
    size_t n = rec_output(&sp.rec, client, out, sizeof out);
    CHECK_MEM_EQ(out, n, "hello", 5);
    CHECK_EQ(rec_count(&sp.rec, REC_SENTINEL, client), 1);

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&srec);
    rec_free(&sp.rec);
}

/* ---- stop, continue, filter t (Fstop_process, Fset_process_filter) ----------------- */

/* While stopped, data and EOF wait in the kernel and the status stays "stop"; continue
 * delivers the data, then the close. Neither call runs the sentinel. */
static void stopped_client_holds_data_and_eof_until_continue(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct peer peer = peer_listen();
    netproc_process *client = start_client(ctx, "cli", peer.port, &rec);
    int fd = peer_accept(&peer);

    CHECK_OK(ctx, netproc_stop_process(client));
    CHECK_STR_EQ(netproc_process_status(client), "stop");
    CHECK(netproc_process_live_p(client));
    raw_send(fd, "data");
    close(fd);
    pump_for(ctx, 200);
    CHECK_EQ(rec.count, 0);
    CHECK_STR_EQ(netproc_process_status(client), "stop");
    CHECK(in_process_list(ctx, client));

    CHECK_OK(ctx, netproc_continue_process(client));
    CHECK_EQ(rec.count, 0); /* continue itself calls nothing */
    CHECK_STR_EQ(netproc_process_status(client), "open");
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, client, "connection broken by remote peer\n") >= 0,
                     WAIT_MS));
    long data = rec_find(&rec, 0, REC_FILTER, client, "data");
    CHECK(data >= 0);
    CHECK(data < rec_find(&rec, 0, REC_SENTINEL, client, NULL));
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, client), 1);
    CHECK_STR_EQ(netproc_process_status(client), "closed");

    close(peer.listener);
    netproc_process_free(client);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* A stopped client can still send (Fstop_process). */
static void stopped_client_still_sends(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct peer peer = peer_listen();
    netproc_process *client = start_client(ctx, "cli", peer.port, &rec);
    int fd = peer_accept(&peer);
    CHECK_OK(ctx, netproc_stop_process(client));
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"out", 3));
    char buf[8] = {0};
    CHECK_EQ(recv(fd, buf, sizeof buf, 0), 3);
    CHECK_STR_EQ(buf, "out");
    CHECK_EQ(rec.count, 0);

    close(fd);
    close(peer.listener);
    netproc_process_free(client);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* With filter t nothing is read, so not even EOF is seen; setting a filter delivers what
 * waited, then the close. */
static void filter_t_reads_nothing_until_filter_set(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct peer peer = peer_listen();
    netproc_arg args[] = {
        ARG(":name", STR("cli")),
        ARG(":service", INT(peer.port)),
        ARG(":filter", netproc_t()),
        ARG(":sentinel", REC_SENTINEL_V(&rec)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));
    netproc_value v;
    CHECK_OK(ctx, netproc_process_filter(client, &v));
    CHECK_EQ(v.kind, NETPROC_VALUE_T);
    netproc_value_free(&v);
    int fd = peer_accept(&peer);
    raw_send(fd, "queued");
    close(fd);
    pump_for(ctx, 200);
    CHECK_EQ(rec.count, 0);
    CHECK_STR_EQ(netproc_process_status(client), "open");

    netproc_value f = REC_FILTER_V(&rec);
    CHECK_OK(ctx, netproc_set_process_filter(client, &f));
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, client, "connection broken by remote peer\n") >= 0,
                     WAIT_MS));
    char out[16];
    size_t n = rec_output(&rec, client, out, sizeof out);
    CHECK_MEM_EQ(out, n, "queued", 6);
    CHECK(rec_find(&rec, 0, REC_FILTER, client, NULL) < rec_find(&rec, 0, REC_SENTINEL, client, NULL));

    close(peer.listener);
    netproc_process_free(client);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* ---- host forms (Fmake_network_process, Fprocess_contact) -------------------------- */

/* A server and a client both made with `:host`/`:family` as given; both are on 127.0.0.1,
 * and the contacts keep the raw argument. */
static void host_form_case(const char *key, netproc_value value) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0}, crec = {0};
    netproc_arg sargs[] = {
        ARG(":name", STR("srv")),
        ARG(":server", netproc_t()),
        ARG(":service", netproc_t()),
        ARG(key, value),
        ARG(":log", REC_LOG_V(&rec)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, sargs, NARGS(sargs), &server));
    long long port = contact_int(server, ":service");
    const long long local[] = {127, 0, 0, 1, port};
    netproc_value v;
    CHECK_OK(ctx, netproc_process_contact(server, ":local", false, &v));
    CHECK(value_is_int_vector(&v, local, 5));
    netproc_value_free(&v);

    netproc_arg cargs[] = {
        ARG(":name", STR("cli")),
        ARG(":service", INT(port)),
        ARG(key, value),
        ARG(":sentinel", REC_SENTINEL_V(&crec)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, cargs, NARGS(cargs), &client));
    CHECK_STR_EQ(netproc_process_status(client), "open");
    check_remote_loopback(client, port);
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_LOG, server, "accept from 127.0.0.1\n") >= 0, WAIT_MS));

    /* The contact keeps the argument exactly: symbol stays symbol, string stays string. */
    for (int i = 0; i < 2; i++) {
        CHECK_OK(ctx, netproc_process_contact(i ? client : server, key, false, &v));
        CHECK_EQ(v.kind, value.kind);
        if (value.kind == NETPROC_VALUE_STRING || value.kind == NETPROC_VALUE_SYMBOL)
            CHECK_MEM_EQ(v.bytes, v.length, value.bytes, value.length);
        netproc_value_free(&v);
    }

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    rec_free(&crec);
}

static void host_symbol_local(void) {
    host_form_case(":host", SYM("local"));
}

static void host_string_loopback(void) {
    host_form_case(":host", STR("127.0.0.1"));
}

static void family_ipv4(void) {
    host_form_case(":family", SYM("ipv4"));
}

/* Fmake_network_process: :remote replaces :host/:service for a client (the service here is a
 * closed port), yet (process-contact C) still shows the unused (HOST SERVICE). */
static void remote_vector_overrides_host_and_service(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    long long port = contact_int(server, ":service");
    long long unused = closed_port();
    netproc_value addr[] = {INT(127), INT(0), INT(0), INT(1), INT(port)};
    netproc_arg args[] = {
        ARG(":name", STR("cli")),
        ARG(":remote", netproc_vector(addr, 5)),
        ARG(":host", STR("127.0.0.1")),
        ARG(":service", INT(unused)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));
    CHECK_STR_EQ(netproc_process_status(client), "open");
    check_remote_loopback(client, port);
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_LOG, server, "accept from 127.0.0.1\n") >= 0, WAIT_MS));

    netproc_value hs;
    CHECK_OK(ctx, netproc_process_contact(client, NULL, false, &hs));
    CHECK_EQ(hs.kind, NETPROC_VALUE_LIST);
    CHECK_EQ(hs.count, 2);
    CHECK(value_is_string(&hs.items[0], "127.0.0.1"));
    CHECK_EQ(hs.items[1].kind, NETPROC_VALUE_INTEGER);
    CHECK_EQ(hs.items[1].integer, unused);
    netproc_value_free(&hs);

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* ---- network options (set_socket_option) ------------------------------------------- */

static void check_options_in_contact(netproc_process *p) {
    netproc_value all;
    CHECK_EQ(netproc_process_contact(p, "t", false, &all), NETPROC_OK);
    const netproc_value *v;
    CHECK_NOT_NULL(v = plist_lookup(&all, ":keepalive", NULL));
    CHECK_EQ(v->kind, NETPROC_VALUE_T);
    CHECK_NOT_NULL(v = plist_lookup(&all, ":linger", NULL));
    CHECK(v->kind == NETPROC_VALUE_INTEGER && v->integer == 5);
    CHECK_NOT_NULL(v = plist_lookup(&all, ":reuseaddr", NULL));
    CHECK_EQ(v->kind, NETPROC_VALUE_T);
    CHECK_NOT_NULL(v = plist_lookup(&all, ":priority", NULL));
    CHECK(v->kind == NETPROC_VALUE_INTEGER && v->integer == 1);
    CHECK_NOT_NULL(v = plist_lookup(&all, ":nodelay", NULL)); /* netproc's own (README) */
    CHECK_EQ(v->kind, NETPROC_VALUE_T);
    netproc_value_free(&all);
}

static void options_at_creation_succeed_and_are_in_contact(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_arg sargs[] = {
        ARG(":name", STR("srv")),         ARG(":server", netproc_t()),
        ARG(":service", netproc_t()),     ARG(":keepalive", netproc_t()),
        ARG(":linger", INT(5)),           ARG(":reuseaddr", netproc_t()),
        ARG(":priority", INT(1)),         ARG(":log", REC_LOG_V(&rec)),
        ARG(":nodelay", netproc_t()),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, sargs, NARGS(sargs), &server));
    CHECK_STR_EQ(netproc_process_status(server), "listen");
    check_options_in_contact(server);

    netproc_arg cargs[] = {
        ARG(":name", STR("cli")),
        ARG(":service", INT(contact_int(server, ":service"))),
        ARG(":keepalive", netproc_t()),
        ARG(":linger", INT(5)),
        ARG(":reuseaddr", netproc_t()),
        ARG(":priority", INT(1)),
        ARG(":nodelay", netproc_t()),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, cargs, NARGS(cargs), &client));
    CHECK_STR_EQ(netproc_process_status(client), "open");
    check_options_in_contact(client);
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_LOG, server) == 1, WAIT_MS));

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* set_network_process_option replaces an existing key in place and appends a new one. */
static void set_option_updates_contact_in_place(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    netproc_arg args[] = {
        ARG(":name", STR("cli")),
        ARG(":service", INT(contact_int(server, ":service"))),
        ARG(":keepalive", netproc_t()),
        ARG(":linger", INT(5)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));

    netproc_value before;
    CHECK_OK(ctx, netproc_process_contact(client, "t", false, &before));
    size_t keepalive_at = 0;
    CHECK_NOT_NULL(plist_lookup(&before, ":keepalive", &keepalive_at));
    CHECK_NULL(plist_lookup(&before, ":priority", NULL));
    size_t length_before = before.count;
    netproc_value_free(&before);

    bool applied = false;
    netproc_value nil = netproc_nil();
    CHECK_OK(ctx, netproc_set_network_process_option(client, ":keepalive", &nil, false, &applied));
    CHECK(applied);
    netproc_value one = INT(1);
    applied = false;
    CHECK_OK(ctx, netproc_set_network_process_option(client, ":priority", &one, false, &applied));
    CHECK(applied);

    netproc_value after;
    CHECK_OK(ctx, netproc_process_contact(client, "t", false, &after));
    size_t index = 0;
    const netproc_value *v = plist_lookup(&after, ":keepalive", &index);
    CHECK_NOT_NULL(v);
    CHECK_EQ(v->kind, NETPROC_VALUE_NIL);
    CHECK_EQ(index, keepalive_at);
    CHECK_EQ(plist_key_count(&after, ":keepalive"), 1);
    CHECK_EQ(after.count, length_before + 2);
    CHECK(value_is_symbol(&after.items[after.count - 2], ":priority"));
    CHECK(after.items[after.count - 1].kind == NETPROC_VALUE_INTEGER && after.items[after.count - 1].integer == 1);
    netproc_value_free(&after);

    /* Unknown options (":name" counts as one) give applied=false with no_error. */
    applied = true;
    netproc_value x = STR("x");
    CHECK_OK(ctx, netproc_set_network_process_option(client, ":name", &x, true, &applied));
    CHECK(!applied);
    CHECK_EQ(netproc_set_network_process_option(client, ":name", &x, false, &applied), NETPROC_E_ERROR);

    /* The connection still works. */
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"ok", 2));
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_FILTER, NULL, "ok") >= 0, WAIT_MS));

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* ---- query-on-exit flag (Fset_process_query_on_exit_flag) -------------------------- */

static void query_on_exit_flag(void) {
    netproc_context *ctx = new_context();
    struct peer peer = peer_listen();
    netproc_arg quiet_args[] = {
        ARG(":name", STR("quiet")),
        ARG(":service", INT(peer.port)),
        ARG(":noquery", netproc_t()),
    };
    netproc_process *quiet = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, quiet_args, NARGS(quiet_args), &quiet));
    netproc_arg plain_args[] = {ARG(":name", STR("plain")), ARG(":service", INT(peer.port))};
    netproc_process *plain = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, plain_args, NARGS(plain_args), &plain));

    CHECK(!netproc_process_query_on_exit_flag(quiet));
    CHECK(netproc_process_query_on_exit_flag(plain));
    CHECK_OK(ctx, netproc_set_process_query_on_exit_flag(quiet, true));
    CHECK(netproc_process_query_on_exit_flag(quiet));
    CHECK_OK(ctx, netproc_set_process_query_on_exit_flag(plain, false));
    CHECK(!netproc_process_query_on_exit_flag(plain));

    close(peer.listener);
    netproc_process_free(quiet);
    netproc_process_free(plain);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* :coding and :filter-multibyte are accepted and kept in the contact as given. */
static void coding_and_filter_multibyte_kept_in_contact(void) {
    netproc_context *ctx = new_context();
    struct peer peer = peer_listen();
    netproc_value pair[] = {SYM("utf-8"), SYM("binary")};
    netproc_arg args[] = {
        ARG(":name", STR("coded")),
        ARG(":service", INT(peer.port)),
        ARG(":coding", netproc_cons(pair)),
        ARG(":filter-multibyte", netproc_nil()),
    };
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));
    netproc_value coding;
    CHECK_OK(ctx, netproc_process_contact(p, ":coding", false, &coding));
    CHECK_EQ(coding.kind, NETPROC_VALUE_CONS);
    CHECK(value_is_symbol(&coding.items[0], "utf-8"));
    CHECK(value_is_symbol(&coding.items[1], "binary"));
    netproc_value_free(&coding);
    netproc_value all;
    CHECK_OK(ctx, netproc_process_contact(p, "t", false, &all));
    bool found = false;
    for (size_t i = 0; i + 1 < all.count; i += 2)
        if (value_is_symbol(&all.items[i], ":filter-multibyte")) found = all.items[i + 1].kind == NETPROC_VALUE_NIL;
    CHECK(found);
    netproc_value_free(&all);
    close(peer.listener);
    netproc_process_free(p);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

int main(void) {
    static const struct test_case cases[] = {
        {"blocking_client_open_without_sentinel", blocking_client_open_without_sentinel, 10},
        {"default_filter_and_sentinel_used_when_nil", default_filter_and_sentinel_used_when_nil, 10},
        {"set_filter_nil_records_default_symbol", set_filter_nil_records_default_symbol, 10},
        {"unique_names_and_get_process", unique_names_and_get_process, 10},
        {"data_before_close_then_closed_and_unlisted", data_before_close_then_closed_and_unlisted, 10},
        {"delete_runs_sentinel_synchronously_once", delete_runs_sentinel_synchronously_once, 10},
        {"nowait_connect_then_open_before_data", nowait_connect_then_open_before_data, 10},
        {"nowait_refused_fails_with_111", nowait_refused_fails_with_111, 10},
        {"nowait_send_while_connecting_is_delivered", nowait_send_while_connecting_is_delivered, 10},
        {"nowait_stopped_gets_open_then_reads_after_continue",
         nowait_stopped_gets_open_then_reads_after_continue, 10},
        {"stopped_client_holds_data_and_eof_until_continue", stopped_client_holds_data_and_eof_until_continue, 10},
        {"stopped_client_still_sends", stopped_client_still_sends, 10},
        {"filter_t_reads_nothing_until_filter_set", filter_t_reads_nothing_until_filter_set, 10},
        {"host_symbol_local", host_symbol_local, 10},
        {"host_string_loopback", host_string_loopback, 10},
        {"family_ipv4", family_ipv4, 10},
        {"remote_vector_overrides_host_and_service", remote_vector_overrides_host_and_service, 10},
        {"options_at_creation_succeed_and_are_in_contact", options_at_creation_succeed_and_are_in_contact, 10},
        {"set_option_updates_contact_in_place", set_option_updates_contact_in_place, 10},
        {"query_on_exit_flag", query_on_exit_flag, 10},
        {"coding_and_filter_multibyte_kept_in_contact", coding_and_filter_multibyte_kept_in_contact, 10},
    };
    return run_tests(cases, NARGS(cases));
}
