/* test_tcp_server: TCP stream servers and the connections they accept, against Emacs 28.2's
 * semantics (Emacs's connect_network_socket, server_accept_connection, status_notify,
 * Fprocess_contact, Fstop_process, Fdelete_process; docs/DIFFERENCES.md). */
#include "check.h"
#include "pump.h"

/* Bounded waits; scaled like the case timeouts, so valgrind runs get the same slack. */
#define WAIT_MS (3000u * check_timeout_scale_())

/* ---- helpers --------------------------------------------------------------- */

/* A log function that records, and keeps a reference to each accepted connection so the
 * case can still ask about it after it leaves the process list. */
struct keeper {
    struct recorder *rec;
    netproc_process *clients[8];
    size_t n;
};

static void keep_log(void *ud, netproc_process *server, netproc_process *client, const char *msg,
                     size_t len) {
    struct keeper *k = (struct keeper *)ud;
    rec_log(k->rec, server, client, msg, len);
    if (client != NULL && k->n < 8) k->clients[k->n++] = netproc_process_ref(client);
}

static void keeper_free(struct keeper *k) {
    for (size_t i = 0; i < k->n; i++) netproc_process_free(k->clients[i]);
    k->n = 0;
}

/* Pump until the keeper holds `n` accepted connections; returns the last one. */
static netproc_process *wait_accepts(netproc_context *ctx, struct keeper *k, size_t n) {
    CHECK(PUMP_UNTIL(ctx, k->n >= n, WAIT_MS));
    return k->clients[n - 1];
}

/* A server with a recording filter and sentinel and a keeper log. */
static netproc_process *server_with_keeper(netproc_context *ctx, const char *name, struct recorder *rec,
                                           struct keeper *k) {
    k->rec = rec;
    netproc_arg args[] = {
        ARG(":name", STR(name)),
        ARG(":server", netproc_t()),
        ARG(":service", netproc_t()),
        ARG(":filter", REC_FILTER_V(rec)),
        ARG(":sentinel", REC_SENTINEL_V(rec)),
        ARG(":log", netproc_log(keep_log, k)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    CHECK_NOT_NULL(server);
    return server;
}

/* The value of `key` in a plist value, or NULL. */
static const netproc_value *plist_lookup(const netproc_value *plist, const char *key) {
    if (plist->kind != NETPROC_VALUE_LIST) return NULL;
    for (size_t i = 0; i + 1 < plist->count; i += 2)
        if (value_is_symbol(&plist->items[i], key)) return &plist->items[i + 1];
    return NULL;
}

static void check_contact_string(netproc_process *p, const char *key, const char *text) {
    netproc_value v;
    CHECK_EQ(netproc_process_contact(p, key, false, &v), NETPROC_OK);
    if (!value_is_string(&v, text)) {
        fprintf(stderr, "contact %s: kind %u, expected STRING \"%s\"\n", key, v.kind, text);
        netproc_value_free(&v);
        CHECK(!"contact value");
    }
    netproc_value_free(&v);
}

static void check_contact_vector(netproc_process *p, const char *key, const long long *expected, size_t n) {
    netproc_value v;
    CHECK_EQ(netproc_process_contact(p, key, false, &v), NETPROC_OK);
    bool ok = value_is_int_vector(&v, expected, n);
    if (!ok) {
        fprintf(stderr, "contact %s: kind %u count %zu:", key, v.kind, v.count);
        for (size_t i = 0; v.kind == NETPROC_VALUE_VECTOR && i < v.count; i++)
            fprintf(stderr, " %lld", (long long)v.items[i].integer);
        fprintf(stderr, "\n");
    }
    netproc_value_free(&v);
    CHECK(ok);
}

static void check_name(netproc_process *p, const char *expected) {
    CHECK_STR_EQ(netproc_process_name(p, NULL), expected);
}

/* ---- the server itself --------------------------------------------------------- */

/* connect_network_socket, Fprocess_contact: status listen; :service t becomes the real port;
 * :local is the bound address. */
static void server_status_listen_and_real_port(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);

    CHECK_STR_EQ(netproc_process_status(server), "listen");
    CHECK(netproc_process_live_p(server));
    netproc_value service;
    CHECK_OK(ctx, netproc_process_contact(server, ":service", false, &service));
    CHECK_EQ(service.kind, NETPROC_VALUE_INTEGER);
    long long port = service.integer;
    netproc_value_free(&service);
    CHECK(port > 0 && port < 65536);
    const long long local[] = {127, 0, 0, 1, port};
    check_contact_vector(server, ":local", local, 5);

    /* The port really listens: a plain client connects and is accepted. */
    int fd = raw_connect(AF_INET, port);
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_LOG, server, "accept from 127.0.0.1\n") >= 0, WAIT_MS));
    close(fd);

    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* Fprocess_contact: (process-contact S) of a server made without :host is (nil PORT), and the
 * contact plist has no :host key at all. */
static void server_contact_without_key_is_nil_and_port(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    long long port = contact_int(server, ":service");

    netproc_value hs;
    CHECK_OK(ctx, netproc_process_contact(server, NULL, false, &hs));
    CHECK_EQ(hs.kind, NETPROC_VALUE_LIST);
    CHECK_EQ(hs.count, 2);
    CHECK_EQ(hs.items[0].kind, NETPROC_VALUE_NIL);
    CHECK_EQ(hs.items[1].kind, NETPROC_VALUE_INTEGER);
    CHECK_EQ(hs.items[1].integer, port);
    netproc_value_free(&hs);

    netproc_value all;
    CHECK_OK(ctx, netproc_process_contact(server, "t", false, &all));
    CHECK_EQ(all.kind, NETPROC_VALUE_LIST);
    CHECK_NULL(plist_lookup(&all, ":host"));
    CHECK_NOT_NULL(plist_lookup(&all, ":server"));
    netproc_value_free(&all);

    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* connect_network_socket: servers get SO_REUSEADDR unless :reuseaddr is given. The port is held
 * by a TIME_WAIT connection (the server side closed first); without SO_REUSEADDR the bind
 * fails, which the :reuseaddr nil control shows; by default it succeeds at once. */
static void server_reuseaddr_allows_immediate_rebind(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct keeper k = {0};
    netproc_process *first = server_with_keeper(ctx, "first", &rec, &k);
    long long port = contact_int(first, ":service");
    int fd = raw_connect(AF_INET, port);
    netproc_process *acc = wait_accepts(ctx, &k, 1);
    /* The server side closes first, so its end (on PORT) goes to TIME_WAIT. */
    CHECK_OK(ctx, netproc_delete_process(acc));
    char byte;
    CHECK_EQ(recv(fd, &byte, 1, 0), 0);
    close(fd);
    CHECK_OK(ctx, netproc_delete_process(first));

    netproc_arg control[] = {
        ARG(":name", STR("control")),
        ARG(":server", netproc_t()),
        ARG(":service", INT(port)),
        ARG(":reuseaddr", netproc_nil()),
    };
    netproc_process *second = NULL;
    int rc = netproc_make_network_process(ctx, control, NARGS(control), &second);
    CHECK_EQ(rc, NETPROC_E_FILE);
    int err = 0;
    const char *message = NULL;
    netproc_last_error(ctx, NULL, &message, &err);
    CHECK_EQ(err, EADDRINUSE);
    CHECK_NOT_NULL(message);
    CHECK(strstr(message, "Cannot bind server socket") != NULL);

    netproc_arg again[] = {
        ARG(":name", STR("second")),
        ARG(":server", netproc_t()),
        ARG(":service", INT(port)),
    };
    CHECK_OK(ctx, netproc_make_network_process(ctx, again, NARGS(again), &second));
    CHECK_STR_EQ(netproc_process_status(second), "listen");
    CHECK_EQ(contact_int(second, ":service"), port);

    netproc_process_free(second);
    netproc_process_free(first);
    keeper_free(&k);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* ---- accepting ------------------------------------------------------------------ */

/* server_accept_connection: the log function gets "accept from 127.0.0.1\n" with the new
 * client, then the client's sentinel "open from 127.0.0.1\n", and only then data the peer sent
 * before the accept happened. */
static void accept_log_then_open_from_then_data(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct keeper k = {0};
    netproc_process *server = server_with_keeper(ctx, "srv", &rec, &k);
    long long port = contact_int(server, ":service");

    int fd = raw_connect(AF_INET, port);
    raw_send(fd, "early");
    netproc_process *acc = wait_accepts(ctx, &k, 1);
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_FILTER, acc, "early") >= 0, WAIT_MS));

    long logged = rec_find(&rec, 0, REC_LOG, server, "accept from 127.0.0.1\n");
    long opened = rec_find(&rec, 0, REC_SENTINEL, acc, "open from 127.0.0.1\n");
    long data = rec_find(&rec, 0, REC_FILTER, acc, NULL);
    CHECK_EQ(logged, 0);
    CHECK(rec.events[logged].client == acc);
    CHECK_EQ(opened, logged + 1);
    CHECK(data > opened);
    CHECK_EQ(rec_count(&rec, REC_LOG, NULL), 1);
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, acc), 1);
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, server), 0); /* a server's sentinel only hears "deleted" */
    CHECK_STR_EQ(netproc_process_status(acc), "open");

    close(fd);
    netproc_process_free(server);
    keeper_free(&k);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* server_accept_connection: "SRV <127.0.0.1:PORT>", PORT being the client's own local port. */
static void accepted_name_has_client_port(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0}, crec = {0};
    struct keeper k = {0};
    netproc_process *server = server_with_keeper(ctx, "SRV", &rec, &k);
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &crec);
    netproc_process *acc = wait_accepts(ctx, &k, 1);

    long long cport = contact_port(client, ":local");
    CHECK(cport > 0);
    char expected[64];
    snprintf(expected, sizeof expected, "SRV <127.0.0.1:%lld>", cport);
    check_name(acc, expected);
    netproc_process *found = NULL;
    CHECK_OK(ctx, netproc_get_process(ctx, expected, &found));
    CHECK(found == acc);

    netproc_process_free(client);
    netproc_process_free(server);
    keeper_free(&k);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    rec_free(&crec);
}

/* server_accept_connection: the accepted contact is the server's, with :server nil, :host the
 * peer's text, :service the peer port (an integer), and real :remote/:local vectors; other
 * keys, such as :name (the server's name) and :noquery, are copied. */
static void accepted_contact_copied_from_server(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0}, crec = {0};
    struct keeper k = {0};
    k.rec = &rec;
    netproc_arg args[] = {
        ARG(":name", STR("SRV")),          ARG(":server", netproc_t()),
        ARG(":service", netproc_t()),      ARG(":noquery", netproc_t()),
        ARG(":filter", REC_FILTER_V(&rec)), ARG(":log", netproc_log(keep_log, &k)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    long long sport = contact_int(server, ":service");
    netproc_process *client = start_client(ctx, "cli", sport, &crec);
    netproc_process *acc = wait_accepts(ctx, &k, 1);
    long long cport = contact_port(client, ":local");

    netproc_value all;
    CHECK_OK(ctx, netproc_process_contact(acc, "t", false, &all));
    const netproc_value *v;
    CHECK_NOT_NULL(v = plist_lookup(&all, ":server"));
    CHECK_EQ(v->kind, NETPROC_VALUE_NIL);
    CHECK_NOT_NULL(v = plist_lookup(&all, ":host"));
    CHECK(value_is_string(v, "127.0.0.1"));
    CHECK_NOT_NULL(v = plist_lookup(&all, ":service"));
    CHECK_EQ(v->kind, NETPROC_VALUE_INTEGER);
    CHECK_EQ(v->integer, cport);
    CHECK_NOT_NULL(v = plist_lookup(&all, ":name"));
    CHECK(value_is_string(v, "SRV"));
    CHECK_NOT_NULL(v = plist_lookup(&all, ":noquery"));
    CHECK_EQ(v->kind, NETPROC_VALUE_T);
    CHECK_NOT_NULL(v = plist_lookup(&all, ":filter"));
    CHECK_EQ(v->kind, NETPROC_VALUE_FILTER);
    CHECK_NOT_NULL(v = plist_lookup(&all, ":log"));
    CHECK_EQ(v->kind, NETPROC_VALUE_LOG);
    netproc_value_free(&all);

    const long long remote[] = {127, 0, 0, 1, cport};
    const long long local[] = {127, 0, 0, 1, sport};
    check_contact_vector(acc, ":remote", remote, 5);
    check_contact_vector(acc, ":local", local, 5);

    netproc_value hs;
    CHECK_OK(ctx, netproc_process_contact(acc, NULL, false, &hs));
    CHECK_EQ(hs.kind, NETPROC_VALUE_LIST);
    CHECK_EQ(hs.count, 2);
    CHECK(value_is_string(&hs.items[0], "127.0.0.1"));
    CHECK_EQ(hs.items[1].kind, NETPROC_VALUE_INTEGER);
    CHECK_EQ(hs.items[1].integer, cport);
    netproc_value_free(&hs);

    /* The server's own contact is untouched by the copy. */
    CHECK_EQ(contact_int(server, ":service"), sport);

    netproc_process_free(client);
    netproc_process_free(server);
    keeper_free(&k);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    rec_free(&crec);
}

/* server_accept_connection: filter, sentinel and a copy of the plist are inherited; the
 * query-on-exit flag is always true even when the server has :noquery; the connection is not
 * stopped. */
static void accepted_inherits_filter_sentinel_plist_not_noquery(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0}, crec = {0};
    struct keeper k = {0};
    k.rec = &rec;
    const char a[] = "a";
    netproc_value plist_items[] = {SYM(a), INT(1)};
    netproc_arg args[] = {
        ARG(":name", STR("srv")),
        ARG(":server", netproc_t()),
        ARG(":service", netproc_t()),
        ARG(":noquery", netproc_t()),
        ARG(":plist", netproc_list(plist_items, 2)),
        ARG(":filter", REC_FILTER_V(&rec)),
        ARG(":sentinel", REC_SENTINEL_V(&rec)),
        ARG(":log", netproc_log(keep_log, &k)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    CHECK(!netproc_process_query_on_exit_flag(server));
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &crec);
    netproc_process *acc = wait_accepts(ctx, &k, 1);

    netproc_value f;
    CHECK_OK(ctx, netproc_process_filter(acc, &f));
    CHECK_EQ(f.kind, NETPROC_VALUE_FILTER);
    CHECK(f.filter == rec_filter);
    CHECK(f.pointer == (void *)&rec);
    netproc_value_free(&f);
    netproc_value s;
    CHECK_OK(ctx, netproc_process_sentinel(acc, &s));
    CHECK_EQ(s.kind, NETPROC_VALUE_SENTINEL);
    CHECK(s.sentinel == rec_sentinel);
    CHECK(s.pointer == (void *)&rec);
    netproc_value_free(&s);

    CHECK(netproc_process_query_on_exit_flag(acc));
    CHECK_STR_EQ(netproc_process_status(acc), "open");

    /* The plist is a copy: changing the server's later leaves the client's alone. */
    const char b[] = "b";
    netproc_value newer_items[] = {SYM(b), INT(2)};
    netproc_value newer = netproc_list(newer_items, 2);
    CHECK_OK(ctx, netproc_set_process_plist(server, &newer));
    netproc_value pl;
    CHECK_OK(ctx, netproc_process_plist(server, &pl));
    CHECK(pl.kind == NETPROC_VALUE_LIST && pl.count == 2 && value_is_symbol(&pl.items[0], "b"));
    netproc_value_free(&pl);
    CHECK_OK(ctx, netproc_process_plist(acc, &pl));
    CHECK_EQ(pl.kind, NETPROC_VALUE_LIST);
    CHECK_EQ(pl.count, 2);
    CHECK(value_is_symbol(&pl.items[0], "a"));
    CHECK_EQ(pl.items[1].kind, NETPROC_VALUE_INTEGER);
    CHECK_EQ(pl.items[1].integer, 1);
    netproc_value_free(&pl);

    /* The inherited filter and sentinel really run for the connection. */
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"x", 1));
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_FILTER, acc, "x") >= 0, WAIT_MS));
    CHECK(rec_find(&rec, 0, REC_SENTINEL, acc, "open from 127.0.0.1\n") >= 0);

    netproc_process_free(client);
    netproc_process_free(server);
    keeper_free(&k);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    rec_free(&crec);
}

/* server_accept_connection: a connection gets the server's filter as it is at accept time. */
static void accepted_gets_server_filter_at_accept_time(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0}, later = {0}, crec = {0};
    struct keeper k = {0};
    netproc_process *server = server_with_keeper(ctx, "srv", &rec, &k);
    long long port = contact_int(server, ":service");

    netproc_process *c1 = start_client(ctx, "c1", port, &crec);
    netproc_process *a1 = wait_accepts(ctx, &k, 1);
    netproc_value f2 = REC_FILTER_V(&later);
    CHECK_OK(ctx, netproc_set_process_filter(server, &f2));
    netproc_process *c2 = start_client(ctx, "c2", port, &crec);
    netproc_process *a2 = wait_accepts(ctx, &k, 2);
    CHECK(a1 != a2);

    CHECK_OK(ctx, netproc_process_send(c1, (const uint8_t *)"one", 3));
    CHECK_OK(ctx, netproc_process_send(c2, (const uint8_t *)"two", 3));
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_FILTER, a1, "one") >= 0
                              && rec_find(&later, 0, REC_FILTER, a2, "two") >= 0, WAIT_MS));
    CHECK_EQ(rec_count(&rec, REC_FILTER, a2), 0);
    CHECK_EQ(rec_count(&later, REC_FILTER, a1), 0);

    netproc_process_free(c1);
    netproc_process_free(c2);
    netproc_process_free(server);
    keeper_free(&k);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    rec_free(&later);
    rec_free(&crec);
}

/* ---- buffers of accepted connections (server_accept_connection) -------------------- */

struct fake_buffer {
    char name[128];
    bool dead;
};

struct buffers {
    struct fake_buffer bufs[8];
    size_t n;
    int creates;
    char last_created[128];
    size_t events_at_create; /* how many recorder events existed when the hook ran */
    struct recorder *rec;
};

static void *fake_get_buffer_create(void *ud, const char *name, size_t length) {
    struct buffers *b = (struct buffers *)ud;
    CHECK_EQ(strlen(name), length);
    b->creates++;
    snprintf(b->last_created, sizeof b->last_created, "%s", name);
    b->events_at_create = b->rec ? b->rec->count : 0;
    for (size_t i = 0; i < b->n; i++)
        if (!b->bufs[i].dead && strcmp(b->bufs[i].name, name) == 0) return &b->bufs[i];
    CHECK(b->n < 8);
    struct fake_buffer *fb = &b->bufs[b->n++];
    snprintf(fb->name, sizeof fb->name, "%s", name);
    fb->dead = false;
    return fb;
}

static const char *fake_buffer_name(void *ud, void *buffer, size_t *length) {
    (void)ud;
    struct fake_buffer *fb = (struct fake_buffer *)buffer;
    if (fb->dead) return NULL;
    *length = strlen(fb->name);
    return fb->name;
}

static void install_buffer_hooks(netproc_context *ctx, struct buffers *b) {
    netproc_buffer_hooks hooks = {b, fake_get_buffer_create, fake_buffer_name};
    CHECK_OK(ctx, netproc_context_set_buffer_hooks(ctx, &hooks));
}

/* A server with log and sentinel but (unless `with_filter`) the default filter. */
static netproc_process *buffer_server(netproc_context *ctx, const char *name, const netproc_value *buffer,
                                      bool with_filter, struct recorder *rec, struct keeper *k) {
    k->rec = rec;
    netproc_arg args[7];
    size_t n = 0;
    args[n++] = ARG(":name", STR(name));
    args[n++] = ARG(":server", netproc_t());
    args[n++] = ARG(":service", netproc_t());
    args[n++] = ARG(":sentinel", REC_SENTINEL_V(rec));
    args[n++] = ARG(":log", netproc_log(keep_log, k));
    if (buffer) args[n++] = ARG(":buffer", *buffer);
    if (with_filter) args[n++] = ARG(":filter", REC_FILTER_V(rec));
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, n, &server));
    return server;
}

/* The buffer of `p` must be the POINTER `want`, or NIL when `want` is NULL. */
static void check_buffer(netproc_context *ctx, netproc_process *p, const void *want) {
    netproc_value v;
    CHECK_OK(ctx, netproc_process_buffer(p, &v));
    if (want) {
        CHECK_EQ(v.kind, NETPROC_VALUE_POINTER);
        CHECK(v.pointer == want);
    } else {
        CHECK_EQ(v.kind, NETPROC_VALUE_NIL);
    }
    netproc_value_free(&v);
}

/* Default filter and a live buffer: the connection gets get_buffer_create("BUFNAME <ID>"),
 * made before the log function runs. */
static void buffer_for_default_filter_server_named_after_buffer(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0}, crec = {0};
    struct keeper k = {0};
    struct buffers b = {0};
    b.rec = &rec;
    install_buffer_hooks(ctx, &b);
    snprintf(b.bufs[0].name, sizeof b.bufs[0].name, "BUFNAME");
    b.n = 1;
    netproc_value buf = netproc_pointer(&b.bufs[0]);
    netproc_process *server = buffer_server(ctx, "srv", &buf, false, &rec, &k);
    CHECK_EQ(b.creates, 0); /* a POINTER buffer is used as it is */
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &crec);
    netproc_process *acc = wait_accepts(ctx, &k, 1);

    char expected[96];
    snprintf(expected, sizeof expected, "BUFNAME <127.0.0.1:%lld>", contact_port(client, ":local"));
    CHECK_EQ(b.creates, 1);
    CHECK_STR_EQ(b.last_created, expected);
    long logged = rec_find(&rec, 0, REC_LOG, server, NULL);
    CHECK(logged >= 0);
    CHECK((size_t)logged >= b.events_at_create); /* buffer first, then the log call */

    check_buffer(ctx, acc, &b.bufs[1]);
    check_buffer(ctx, server, &b.bufs[0]);

    netproc_process_free(client);
    netproc_process_free(server);
    keeper_free(&k);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    rec_free(&crec);
}

/* A server with a filter function gives its connections no buffer. */
static void buffer_nil_when_server_has_filter(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0}, crec = {0};
    struct keeper k = {0};
    struct buffers b = {0};
    install_buffer_hooks(ctx, &b);
    snprintf(b.bufs[0].name, sizeof b.bufs[0].name, "BUFNAME");
    b.n = 1;
    netproc_value buf = netproc_pointer(&b.bufs[0]);
    netproc_process *server = buffer_server(ctx, "srv", &buf, true, &rec, &k);
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &crec);
    netproc_process *acc = wait_accepts(ctx, &k, 1);

    CHECK_EQ(b.creates, 0);
    check_buffer(ctx, acc, NULL);

    netproc_process_free(client);
    netproc_process_free(server);
    keeper_free(&k);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    rec_free(&crec);
}

/* No server buffer: the base of the buffer name is the server's process name. */
static void buffer_named_after_server_without_buffer(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0}, crec = {0};
    struct keeper k = {0};
    struct buffers b = {0};
    install_buffer_hooks(ctx, &b);
    netproc_process *server = buffer_server(ctx, "SRVNAME", NULL, false, &rec, &k);
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &crec);
    netproc_process *acc = wait_accepts(ctx, &k, 1);

    char expected[96];
    snprintf(expected, sizeof expected, "SRVNAME <127.0.0.1:%lld>", contact_port(client, ":local"));
    CHECK_EQ(b.creates, 1);
    CHECK_STR_EQ(b.last_created, expected);
    check_buffer(ctx, acc, &b.bufs[0]);

    netproc_process_free(client);
    netproc_process_free(server);
    keeper_free(&k);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    rec_free(&crec);
}

/* A server whose buffer is dead (buffer_name says NULL) gives no buffer at all. */
static void buffer_none_when_server_buffer_dead(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0}, crec = {0};
    struct keeper k = {0};
    struct buffers b = {0};
    install_buffer_hooks(ctx, &b);
    snprintf(b.bufs[0].name, sizeof b.bufs[0].name, "BUFNAME");
    b.n = 1;
    netproc_value buf = netproc_pointer(&b.bufs[0]);
    netproc_process *server = buffer_server(ctx, "srv", &buf, false, &rec, &k);
    b.bufs[0].dead = true; /* killed after the server was made */
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &crec);
    netproc_process *acc = wait_accepts(ctx, &k, 1);

    CHECK_EQ(b.creates, 0);
    check_buffer(ctx, acc, NULL);
    /* The accept itself went through as usual. */
    CHECK(rec_find(&rec, 0, REC_SENTINEL, acc, "open from 127.0.0.1\n") >= 0);

    netproc_process_free(client);
    netproc_process_free(server);
    keeper_free(&k);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    rec_free(&crec);
}

/* Without hooks a buffer given by name stays a STRING (and names the client's buffer);
 * with a get_buffer_create hook the same argument becomes the hook's buffer. */
static void buffer_name_stays_string_without_hooks(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0}, crec = {0};
    struct keeper k = {0};
    netproc_value name = STR("name");
    netproc_process *server = buffer_server(ctx, "srv", &name, false, &rec, &k);
    netproc_value v;
    CHECK_OK(ctx, netproc_process_buffer(server, &v));
    CHECK(value_is_string(&v, "name"));
    netproc_value_free(&v);
    check_contact_string(server, ":buffer", "name");

    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &crec);
    netproc_process *acc = wait_accepts(ctx, &k, 1);
    char expected[96];
    snprintf(expected, sizeof expected, "name <127.0.0.1:%lld>", contact_port(client, ":local"));
    CHECK_OK(ctx, netproc_process_buffer(acc, &v));
    CHECK(value_is_string(&v, expected));
    netproc_value_free(&v);

    /* Contrast: with hooks, the name goes through get_buffer_create. */
    struct buffers b = {0};
    install_buffer_hooks(ctx, &b);
    struct keeper k2 = {0};
    netproc_process *hooked = buffer_server(ctx, "srv2", &name, false, &rec, &k2);
    CHECK_EQ(b.creates, 1);
    CHECK_STR_EQ(b.last_created, "name");
    check_buffer(ctx, hooked, &b.bufs[0]);
    check_contact_string(hooked, ":buffer", "name"); /* the contact keeps the argument */

    netproc_process_free(hooked);
    netproc_process_free(client);
    netproc_process_free(server);
    keeper_free(&k);
    keeper_free(&k2);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    rec_free(&crec);
}

/* ---- life of accepted connections ------------------------------------------------ */

/* read_process_output, status_notify: a peer that sends "bye" and closes at once: open from,
 * "bye", then the broken sentinel; the connection ends closed with exit status 256, out of the
 * process list. */
static void accepted_data_before_close(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct keeper k = {0};
    netproc_process *server = server_with_keeper(ctx, "srv", &rec, &k);
    int fd = raw_connect(AF_INET, contact_int(server, ":service"));
    raw_send(fd, "bye");
    close(fd);
    netproc_process *acc = wait_accepts(ctx, &k, 1);
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, acc, "connection broken by remote peer\n") >= 0,
                     WAIT_MS));

    long opened = rec_find(&rec, 0, REC_SENTINEL, acc, "open from 127.0.0.1\n");
    long data = rec_find(&rec, 0, REC_FILTER, acc, "bye");
    long broken = rec_find(&rec, 0, REC_SENTINEL, acc, "connection broken by remote peer\n");
    CHECK(opened >= 0);
    CHECK(data > opened);
    CHECK(broken > data);
    CHECK_STR_EQ(netproc_process_status(acc), "closed");
    netproc_value es;
    CHECK_OK(ctx, netproc_process_exit_status(acc, &es));
    CHECK_EQ(es.kind, NETPROC_VALUE_INTEGER);
    CHECK_EQ(es.integer, 256);
    netproc_value_free(&es);
    CHECK(!in_process_list(ctx, acc));
    CHECK(in_process_list(ctx, server));
    CHECK_STR_EQ(netproc_process_status(server), "listen");

    netproc_process_free(server);
    keeper_free(&k);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* Fdelete_process: deleting a server leaves its accepted connections working both ways. */
static void delete_server_keeps_connections(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0}, crec = {0};
    struct keeper k = {0};
    netproc_process *server = server_with_keeper(ctx, "srv", &rec, &k);
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &crec);
    netproc_process *acc = wait_accepts(ctx, &k, 1);

    CHECK_OK(ctx, netproc_delete_process(server));
    CHECK(rec_find(&rec, 0, REC_SENTINEL, server, "deleted\n") >= 0);
    CHECK_STR_EQ(netproc_process_status(server), "closed");
    CHECK_STR_EQ(netproc_process_status(acc), "open");
    CHECK(in_process_list(ctx, acc));

    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"ping", 4));
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_FILTER, acc, "ping") >= 0, WAIT_MS));
    CHECK_OK(ctx, netproc_process_send(acc, (const uint8_t *)"pong", 4));
    CHECK(PUMP_UNTIL(ctx, rec_find(&crec, 0, REC_FILTER, client, "pong") >= 0, WAIT_MS));
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, acc), 1); /* only its "open from" */

    netproc_process_free(client);
    netproc_process_free(server);
    keeper_free(&k);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    rec_free(&crec);
}

/* Fstop_process: a server made with :stop t does not accept; the kernel still completes a plain
 * client's connect; continue accepts it (log, open from), its data arrives, and the
 * connection is not stopped even though :stop t is in the contact it copied. Neither stop
 * nor continue calls a sentinel. */
static void stopped_server_accepts_after_continue(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct keeper k = {0};
    k.rec = &rec;
    netproc_arg args[] = {
        ARG(":name", STR("srv")),
        ARG(":server", netproc_t()),
        ARG(":service", netproc_t()),
        ARG(":stop", netproc_t()),
        ARG(":filter", REC_FILTER_V(&rec)),
        ARG(":sentinel", REC_SENTINEL_V(&rec)),
        ARG(":log", netproc_log(keep_log, &k)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    CHECK_STR_EQ(netproc_process_status(server), "stop");
    CHECK(netproc_process_live_p(server));

    int fd = raw_connect(AF_INET, contact_int(server, ":service")); /* blocking: succeeds */
    raw_send(fd, "queued");
    pump_for(ctx, 200);
    CHECK_EQ(rec.count, 0); /* no accept, no sentinel, no data */
    CHECK_STR_EQ(netproc_process_status(server), "stop");

    CHECK_OK(ctx, netproc_continue_process(server));
    CHECK_STR_EQ(netproc_process_status(server), "listen");
    netproc_process *acc = wait_accepts(ctx, &k, 1);
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_FILTER, acc, "queued") >= 0, WAIT_MS));
    long logged = rec_find(&rec, 0, REC_LOG, server, "accept from 127.0.0.1\n");
    long opened = rec_find(&rec, 0, REC_SENTINEL, acc, "open from 127.0.0.1\n");
    CHECK(logged >= 0);
    CHECK(opened > logged);
    CHECK(rec_find(&rec, 0, REC_FILTER, acc, "queued") > opened);
    CHECK_STR_EQ(netproc_process_status(acc), "open");
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, server), 0);

    /* Stopping again: no sentinel, and a new connection waits. */
    CHECK_OK(ctx, netproc_stop_process(server));
    CHECK_STR_EQ(netproc_process_status(server), "stop");
    int fd2 = raw_connect(AF_INET, contact_int(server, ":service"));
    pump_for(ctx, 200);
    CHECK_EQ(k.n, 1);
    CHECK_OK(ctx, netproc_continue_process(server));
    wait_accepts(ctx, &k, 2);
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, server), 0);

    close(fd);
    close(fd2);
    netproc_process_free(server);
    keeper_free(&k);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* server_accept_connection, docs/DIFFERENCES.md: an IPv6 server on ::1; ids use network byte
 * order. */
static void ipv6_server_local_and_client_id(void) {
    if (!can_ipv6()) SKIP_TEST("::1 is not available");
    netproc_context *ctx = new_context();
    struct recorder rec = {0}, crec = {0};
    struct keeper k = {0};
    k.rec = &rec;
    netproc_arg args[] = {
        ARG(":name", STR("S")),
        ARG(":server", netproc_t()),
        ARG(":service", netproc_t()),
        ARG(":family", SYM("ipv6")),
        ARG(":host", STR("::1")),
        ARG(":filter", REC_FILTER_V(&rec)),
        ARG(":sentinel", REC_SENTINEL_V(&rec)),
        ARG(":log", netproc_log(keep_log, &k)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    long long port = contact_int(server, ":service");
    CHECK(port > 0);
    const long long local[] = {0, 0, 0, 0, 0, 0, 0, 1, port};
    check_contact_vector(server, ":local", local, 9);

    netproc_arg cargs[] = {
        ARG(":name", STR("c6")),
        ARG(":family", SYM("ipv6")),
        ARG(":host", STR("::1")),
        ARG(":service", INT(port)),
        ARG(":filter", REC_FILTER_V(&crec)),
        ARG(":sentinel", REC_SENTINEL_V(&crec)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, cargs, NARGS(cargs), &client));
    netproc_process *acc = wait_accepts(ctx, &k, 1);
    long long cport = contact_port(client, ":local");
    CHECK(cport > 0);

    char expected[96];
    snprintf(expected, sizeof expected, "S <[0:0:0:0:0:0:0:1]:%lld>", cport);
    check_name(acc, expected);
    CHECK(rec_find(&rec, 0, REC_LOG, server, "accept from 0:0:0:0:0:0:0:1\n") >= 0);
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, acc, "open from 0:0:0:0:0:0:0:1\n") >= 0, WAIT_MS));
    check_contact_string(acc, ":host", "0:0:0:0:0:0:0:1");
    CHECK_EQ(contact_int(acc, ":service"), cport);
    const long long remote[] = {0, 0, 0, 0, 0, 0, 0, 1, cport};
    check_contact_vector(acc, ":remote", remote, 9);

    netproc_process_free(client);
    netproc_process_free(server);
    keeper_free(&k);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    rec_free(&crec);
}

int main(void) {
    static const struct test_case cases[] = {
        {"server_status_listen_and_real_port", server_status_listen_and_real_port, 10},
        {"server_contact_without_key_is_nil_and_port", server_contact_without_key_is_nil_and_port, 10},
        {"server_reuseaddr_allows_immediate_rebind", server_reuseaddr_allows_immediate_rebind, 10},
        {"accept_log_then_open_from_then_data", accept_log_then_open_from_then_data, 10},
        {"accepted_name_has_client_port", accepted_name_has_client_port, 10},
        {"accepted_contact_copied_from_server", accepted_contact_copied_from_server, 10},
        {"accepted_inherits_filter_sentinel_plist_not_noquery",
         accepted_inherits_filter_sentinel_plist_not_noquery, 10},
        {"accepted_gets_server_filter_at_accept_time", accepted_gets_server_filter_at_accept_time, 10},
        {"buffer_for_default_filter_server_named_after_buffer",
         buffer_for_default_filter_server_named_after_buffer, 10},
        {"buffer_nil_when_server_has_filter", buffer_nil_when_server_has_filter, 10},
        {"buffer_named_after_server_without_buffer", buffer_named_after_server_without_buffer, 10},
        {"buffer_none_when_server_buffer_dead", buffer_none_when_server_buffer_dead, 10},
        {"buffer_name_stays_string_without_hooks", buffer_name_stays_string_without_hooks, 10},
        {"accepted_data_before_close", accepted_data_before_close, 10},
        {"delete_server_keeps_connections", delete_server_keeps_connections, 10},
        {"stopped_server_accepts_after_continue", stopped_server_accepts_after_continue, 10},
        {"ipv6_server_local_and_client_id", ipv6_server_local_and_client_id, 10},
    };
    return run_tests(cases, NARGS(cases));
}
