/*
 * test_unix: unix-domain stream sockets (`:family local`). Servers keep their path as
 * :service, accepted connections are named "SERVER <N>" from one session-wide counter and
 * announced with "-" as the host, contacts look as in Emacs 28.2 (Fmake_network_process,
 * server_accept_connection, Fprocess_contact, Fdelete_process), and failures give Emacs's
 * errors — except the :nowait failure, which runs a sentinel (docs/DIFFERENCES.md).
 *
 * Every socket lives in a fresh make_temp_dir() directory that the case removes again.
 */
#include "check.h"
#include "pump.h"

/* A private directory and a socket path inside it. */
struct sock_dir {
    char dir[64];
    char path[256];
};

static void sock_dir_open(struct sock_dir *d, const char *file) {
    CHECK_NOT_NULL(make_temp_dir(d->dir, sizeof d->dir));
    int n = snprintf(d->path, sizeof d->path, "%s/%s", d->dir, file);
    CHECK(n > 0 && (size_t)n < sizeof d->path);
}

/* Another path in the same directory. */
static void sock_dir_path(const struct sock_dir *d, const char *file, char *out, size_t cap) {
    int n = snprintf(out, cap, "%s/%s", d->dir, file);
    CHECK(n > 0 && (size_t)n < cap);
}

static void sock_dir_close(struct sock_dir *d) {
    CHECK_EQ(remove_temp_dir(d->dir), 0);
}

static netproc_process *unix_server(netproc_context *ctx, const char *name, const char *path,
                                    struct recorder *rec) {
    netproc_arg args[] = {
        ARG(":name", STR(name)),          ARG(":family", SYM("local")),
        ARG(":service", STR(path)),       ARG(":server", netproc_t()),
        ARG(":filter", REC_FILTER_V(rec)), ARG(":sentinel", REC_SENTINEL_V(rec)),
        ARG(":log", REC_LOG_V(rec)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    CHECK_NOT_NULL(server);
    return server;
}

static netproc_process *unix_client(netproc_context *ctx, const char *name, const char *path,
                                    struct recorder *rec) {
    netproc_arg args[] = {
        ARG(":name", STR(name)),           ARG(":family", SYM("local")),
        ARG(":service", STR(path)),        ARG(":filter", REC_FILTER_V(rec)),
        ARG(":sentinel", REC_SENTINEL_V(rec)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));
    CHECK_NOT_NULL(client);
    return client;
}

/* Whether a value is the STRING `text`. */
static bool is_string(const netproc_value *v, const char *text) {
    size_t n = strlen(text);
    return v->kind == NETPROC_VALUE_STRING && v->length == n && (n == 0 || memcmp(v->bytes, text, n) == 0);
}

/* (process-contact P KEY) must be the STRING `text`. */
#define CHECK_CONTACT_STRING(p, key, text)                                        \
    do {                                                                          \
        netproc_value check_v_;                                                   \
        CHECK_EQ(netproc_process_contact((p), (key), false, &check_v_), NETPROC_OK); \
        if (!is_string(&check_v_, (text))) {                                      \
            fprintf(stderr, "  contact %s: kind %u\n", (key), (unsigned)check_v_.kind); \
            if (check_v_.kind == NETPROC_VALUE_STRING)                            \
                check_print_bytes_("got", check_v_.bytes, check_v_.length);       \
        }                                                                         \
        CHECK(is_string(&check_v_, (text)));                                      \
        netproc_value_free(&check_v_);                                            \
    } while (0)

/* The N of a "PREFIX <N>" name, or -1. */
static long client_number(const char *name, const char *prefix) {
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0 || strncmp(name + n, " <", 2) != 0) return -1;
    char *end = NULL;
    long number = strtol(name + n + 2, &end, 10);
    if (end == name + n + 2 || strcmp(end, ">") != 0) return -1;
    return number;
}

/* Wait for `server`'s next accept (at or after event `from`); returns the new process. */
static netproc_process *await_accept(netproc_context *ctx, struct recorder *rec, netproc_process *server,
                                     size_t from) {
    long at = -1;
    CHECK(PUMP_UNTIL(ctx, (at = rec_find(rec, from, REC_LOG, server, NULL)) >= 0, 3000));
    CHECK_NOT_NULL(rec->events[at].client);
    return rec->events[at].client;
}

/* ---- cases ----------------------------------------------------------------- */

/* A unix server listens and keeps its path (a string) as :service and :local; TCP servers
 * would have an integer port there (Emacs's connect_network_socket). */
static void server_listens_on_path(void) {
    struct sock_dir d;
    sock_dir_open(&d, "srv.sock");
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = unix_server(ctx, "usrv", d.path, &rec);

    CHECK_STR_EQ(netproc_process_status(server), "listen");
    CHECK(netproc_process_live_p(server));
    CHECK_CONTACT_STRING(server, ":service", d.path);
    CHECK_CONTACT_STRING(server, ":local", d.path);
    netproc_value hs;
    CHECK_EQ(netproc_process_contact(server, NULL, false, &hs), NETPROC_OK);
    CHECK_EQ(hs.kind, NETPROC_VALUE_LIST);
    CHECK_EQ(hs.count, 2);
    CHECK_EQ(hs.items[0].kind, NETPROC_VALUE_NIL);
    CHECK(is_string(&hs.items[1], d.path));
    netproc_value_free(&hs);

    struct stat st;
    CHECK_EQ(lstat(d.path, &st), 0);
    CHECK(S_ISSOCK(st.st_mode));

    CHECK_OK(ctx, netproc_delete_process(server));
    CHECK(rec_find(&rec, 0, REC_SENTINEL, server, "deleted\n") >= 0);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    sock_dir_close(&d);
}

/* A client connects; data flows both ways; the accept is logged with "-" as the host, the
 * accepted connection's sentinel gets "open from -\n" right after, and it is named
 * "usrv <N>". Closing the client breaks the accepted connection. */
static void echo_both_ways(void) {
    struct sock_dir d;
    sock_dir_open(&d, "echo.sock");
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = unix_server(ctx, "usrv", d.path, &rec);
    netproc_process *client = unix_client(ctx, "ucli", d.path, &rec);
    CHECK_STR_EQ(netproc_process_status(client), "open");

    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"ping", 4));
    /* Borrowed from the log call; keep it past its closing. */
    netproc_process *acc = netproc_process_ref(await_accept(ctx, &rec, server, 0));
    long log_at = rec_find(&rec, 0, REC_LOG, server, NULL);
    CHECK_STR_EQ(rec.events[log_at].data, "accept from -\n");
    long open_at = rec_find(&rec, 0, REC_SENTINEL, acc, NULL);
    CHECK(open_at > log_at);
    CHECK_STR_EQ(rec.events[open_at].data, "open from -\n");
    CHECK(client_number(netproc_process_name(acc, NULL), "usrv") >= 1);
    CHECK_STR_EQ(netproc_process_status(acc), "open");

    char buf[64];
    CHECK(PUMP_UNTIL(ctx, rec_output(&rec, acc, buf, sizeof buf) == 4, 3000));
    CHECK_STR_EQ(buf, "ping");
    /* "open from" came before the data. */
    CHECK(rec_find(&rec, 0, REC_FILTER, acc, NULL) > open_at);

    CHECK_OK(ctx, netproc_process_send(acc, (const uint8_t *)"pong", 4));
    CHECK(PUMP_UNTIL(ctx, rec_output(&rec, client, buf, sizeof buf) == 4, 3000));
    CHECK_STR_EQ(buf, "pong");

    CHECK_OK(ctx, netproc_delete_process(client));
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, acc, "connection broken by remote peer\n") >= 0, 3000));
    CHECK_STR_EQ(netproc_process_status(acc), "closed");

    CHECK_OK(ctx, netproc_delete_process(server));
    netproc_process_free(acc);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    sock_dir_close(&d);
}

/* The <N> of accepted unix connections is one session-wide count of accepts: it goes up by one
 * per accept, across servers, and TCP accepts count too (Emacs's server_accept_connection). */
static void accept_counter_is_session_wide(void) {
    struct sock_dir d;
    sock_dir_open(&d, "a.sock");
    char path_b[256];
    sock_dir_path(&d, "b.sock", path_b, sizeof path_b);
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *a = unix_server(ctx, "ua", d.path, &rec);
    netproc_process *b = unix_server(ctx, "ub", path_b, &rec);
    netproc_process *tcp = start_server(ctx, "tsrv", &rec);

    netproc_process *c1 = unix_client(ctx, "c1", d.path, &rec);
    netproc_process *acc1 = await_accept(ctx, &rec, a, 0);
    long n1 = client_number(netproc_process_name(acc1, NULL), "ua");
    CHECK(n1 >= 1);

    size_t mark = rec.count;
    netproc_process *c2 = unix_client(ctx, "c2", path_b, &rec);
    netproc_process *acc2 = await_accept(ctx, &rec, b, mark);
    CHECK_EQ(client_number(netproc_process_name(acc2, NULL), "ub"), n1 + 1);

    /* A TCP accept in between takes a number too, though its name shows the address. */
    mark = rec.count;
    netproc_process *c3 = start_client(ctx, "c3", contact_int(tcp, ":service"), &rec);
    netproc_process *acc3 = await_accept(ctx, &rec, tcp, mark);
    CHECK_EQ(strncmp(netproc_process_name(acc3, NULL), "tsrv <127.0.0.1:", 16), 0);

    mark = rec.count;
    netproc_process *c4 = unix_client(ctx, "c4", d.path, &rec);
    netproc_process *acc4 = await_accept(ctx, &rec, a, mark);
    CHECK_EQ(client_number(netproc_process_name(acc4, NULL), "ua"), n1 + 3);

    mark = rec.count;
    netproc_process *c5 = unix_client(ctx, "c5", path_b, &rec);
    netproc_process *acc5 = await_accept(ctx, &rec, b, mark);
    CHECK_EQ(client_number(netproc_process_name(acc5, NULL), "ub"), n1 + 4);

    netproc_process *mine[] = {c1, c2, c3, c4, c5, a, b, tcp};
    for (size_t i = 0; i < NARGS(mine); i++) netproc_process_free(mine[i]);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    sock_dir_close(&d);
}

/* Contacts as in Emacs: the accepted connection has :host t, keeps the server's path as
 * :service, so (process-contact ACC) is (t "/path"), and its :remote is "" (an unbound peer);
 * the client has :remote "/path" and :local "" (server_accept_connection, Fprocess_contact). */
static void contacts_of_client_and_accepted(void) {
    struct sock_dir d;
    sock_dir_open(&d, "contact.sock");
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = unix_server(ctx, "usrv", d.path, &rec);
    netproc_process *client = unix_client(ctx, "ucli", d.path, &rec);
    netproc_process *acc = await_accept(ctx, &rec, server, 0);

    netproc_value v;
    CHECK_EQ(netproc_process_contact(acc, ":host", false, &v), NETPROC_OK);
    CHECK_EQ(v.kind, NETPROC_VALUE_T);
    netproc_value_free(&v);
    CHECK_EQ(netproc_process_contact(acc, NULL, false, &v), NETPROC_OK);
    CHECK_EQ(v.kind, NETPROC_VALUE_LIST);
    CHECK_EQ(v.count, 2);
    CHECK_EQ(v.items[0].kind, NETPROC_VALUE_T);
    CHECK(is_string(&v.items[1], d.path));
    netproc_value_free(&v);
    CHECK_CONTACT_STRING(acc, ":service", d.path);
    CHECK_CONTACT_STRING(acc, ":remote", "");
    CHECK_CONTACT_STRING(acc, ":local", d.path);
    CHECK_EQ(netproc_process_contact(acc, ":server", false, &v), NETPROC_OK);
    CHECK_EQ(v.kind, NETPROC_VALUE_NIL);
    netproc_value_free(&v);

    CHECK_CONTACT_STRING(client, ":service", d.path);
    CHECK_CONTACT_STRING(client, ":remote", d.path);
    CHECK_CONTACT_STRING(client, ":local", "");
    CHECK_EQ(netproc_process_contact(client, NULL, false, &v), NETPROC_OK);
    CHECK_EQ(v.kind, NETPROC_VALUE_LIST);
    CHECK_EQ(v.count, 2);
    CHECK_EQ(v.items[0].kind, NETPROC_VALUE_NIL);
    CHECK(is_string(&v.items[1], d.path));
    netproc_value_free(&v);

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    sock_dir_close(&d);
}

/* 108 bytes do not fit sun_path with its NUL: (error "Service name too long"), for servers
 * and clients alike; 107 bytes work (Emacs's Fmake_network_process). */
static void path_length_limit(void) {
    struct sock_dir d;
    sock_dir_open(&d, "x");
    char path[128];
    size_t dir_len = strlen(d.dir);
    CHECK(dir_len + 2 < 107);
    memcpy(path, d.dir, dir_len);
    path[dir_len] = '/';
    memset(path + dir_len + 1, 'p', 108 - dir_len - 1);
    path[108] = '\0';
    CHECK_EQ(strlen(path), 108);

    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_arg server_args[] = {
        ARG(":name", STR("long")), ARG(":family", SYM("local")),
        ARG(":service", STR(path)), ARG(":server", netproc_t()),
    };
    netproc_process *p = NULL;
    CHECK_EQ(netproc_make_network_process(ctx, server_args, NARGS(server_args), &p), NETPROC_E_ERROR);
    CHECK_NULL(p);
    CHECK_STR_EQ(last_error_symbol(ctx), "error");
    CHECK_STR_EQ(last_error_message(ctx), "Service name too long");

    netproc_arg client_args[] = {
        ARG(":name", STR("long")), ARG(":family", SYM("local")), ARG(":service", STR(path)),
    };
    CHECK_EQ(netproc_make_network_process(ctx, client_args, NARGS(client_args), &p), NETPROC_E_ERROR);
    CHECK_STR_EQ(last_error_message(ctx), "Service name too long");
    size_t count = 99;
    CHECK_OK(ctx, netproc_process_list(ctx, NULL, 0, &count));
    CHECK_EQ(count, 0);

    /* One byte shorter binds, and a client reaches it. */
    path[107] = '\0';
    netproc_process *server = unix_server(ctx, "fits", path, &rec);
    CHECK_STR_EQ(netproc_process_status(server), "listen");
    CHECK_CONTACT_STRING(server, ":service", path);
    netproc_process *client = unix_client(ctx, "fitc", path, &rec);
    CHECK_STR_EQ(netproc_process_status(client), "open");
    await_accept(ctx, &rec, server, 0);

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    sock_dir_close(&d);
}

/* Deleting a unix server leaves its socket file, as in Emacs, so binding the path again
 * fails with (file-error "Cannot bind server socket" "Address already in use") until the
 * file is removed (Emacs's Fdelete_process leaves it). */
static void rebind_existing_socket_file(void) {
    struct sock_dir d;
    sock_dir_open(&d, "again.sock");
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = unix_server(ctx, "usrv", d.path, &rec);
    CHECK_OK(ctx, netproc_delete_process(server));
    CHECK_STR_EQ(netproc_process_status(server), "closed");

    struct stat st;
    CHECK_EQ(lstat(d.path, &st), 0);
    CHECK(S_ISSOCK(st.st_mode));

    netproc_arg args[] = {
        ARG(":name", STR("again")), ARG(":family", SYM("local")),
        ARG(":service", STR(d.path)), ARG(":server", netproc_t()),
    };
    netproc_process *again = NULL;
    CHECK_EQ(netproc_make_network_process(ctx, args, NARGS(args), &again), NETPROC_E_FILE);
    CHECK_NULL(again);
    CHECK_STR_EQ(last_error_symbol(ctx), "file-error");
    CHECK_STR_EQ(last_error_message(ctx), "Cannot bind server socket: Address already in use");
    CHECK_EQ(last_error_errno(ctx), EADDRINUSE);
    netproc_process *found = NULL;
    CHECK_OK(ctx, netproc_get_process(ctx, "again", &found));
    CHECK_NULL(found);

    /* It is the stale file that is in the way: without it the same call works. */
    CHECK_EQ(unlink(d.path), 0);
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &again));
    CHECK_STR_EQ(netproc_process_status(again), "listen");

    netproc_process_free(again);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    sock_dir_close(&d);
}

/* A blocking client to a path that does not exist: (file-missing "make client process
 * failed" "No such file or directory" :name ... ), and no process is made. */
static void client_to_missing_path(void) {
    struct sock_dir d;
    sock_dir_open(&d, "nope.sock");
    netproc_context *ctx = new_context();
    netproc_arg args[] = {
        ARG(":name", STR("miss")), ARG(":family", SYM("local")), ARG(":service", STR(d.path)),
    };
    netproc_process *p = NULL;
    CHECK_EQ(netproc_make_network_process(ctx, args, NARGS(args), &p), NETPROC_E_FILE);
    CHECK_NULL(p);
    CHECK_STR_EQ(last_error_symbol(ctx), "file-missing");
    CHECK_EQ(last_error_errno(ctx), ENOENT);
    char want[512];
    snprintf(want, sizeof want,
             "make client process failed: No such file or directory, :name, miss, :family, local, :service, %s",
             d.path);
    CHECK_STR_EQ(last_error_message(ctx), want);
    size_t count = 99;
    CHECK_OK(ctx, netproc_process_list(ctx, NULL, 0, &count));
    CHECK_EQ(count, 0);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    sock_dir_close(&d);
}

/* :nowait to a missing path: the call succeeds, the status is "failed" at once (Emacs 28.2
 * shows the symbol file-missing), and the next poll runs the sentinel once with
 * "failed with code 2\n" (Emacs 28.2 runs none: docs/DIFFERENCES.md). The process stays
 * listed until deleted. */
static void nowait_to_missing_path_fails_with_sentinel(void) {
    struct sock_dir d;
    sock_dir_open(&d, "nope.sock");
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_arg args[] = {
        ARG(":name", STR("nw")),          ARG(":family", SYM("local")),
        ARG(":service", STR(d.path)),     ARG(":nowait", netproc_t()),
        ARG(":filter", REC_FILTER_V(&rec)), ARG(":sentinel", REC_SENTINEL_V(&rec)),
    };
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));
    CHECK_NOT_NULL(p);
    CHECK_STR_EQ(netproc_process_status(p), "failed");
    CHECK(!netproc_process_live_p(p));
    CHECK_EQ(rec.count, 0); /* not from inside make-network-process */

    CHECK(netproc_poll(ctx, 0) >= 1);
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, p), 1);
    CHECK_STR_EQ(rec.events[0].data, "failed with code 2\n");
    netproc_value status;
    CHECK_OK(ctx, netproc_process_exit_status(p, &status));
    CHECK_EQ(status.kind, NETPROC_VALUE_INTEGER);
    CHECK_EQ(status.integer, ENOENT);
    netproc_value_free(&status);

    pump_for(ctx, 200);
    CHECK_EQ(rec.count, 1); /* exactly once */
    CHECK_EQ(netproc_process_send(p, (const uint8_t *)"x", 1), NETPROC_E_ERROR);
    CHECK_STR_EQ(last_error_message(ctx), "Process nw not running");
    netproc_process *found = NULL;
    CHECK_OK(ctx, netproc_get_process(ctx, "nw", &found));
    CHECK(found == p);

    CHECK_OK(ctx, netproc_delete_process(p));
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, p), 2);
    CHECK_STR_EQ(rec.events[1].data, "deleted\n");
    netproc_process_free(p);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    sock_dir_close(&d);
}

/* :nowait to a listening path connects at once: "open\n" from the next poll (never from
 * inside the call), then data flows. */
static void nowait_to_existing_path_opens(void) {
    struct sock_dir d;
    sock_dir_open(&d, "nw.sock");
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = unix_server(ctx, "usrv", d.path, &rec);
    netproc_arg args[] = {
        ARG(":name", STR("nw")),          ARG(":family", SYM("local")),
        ARG(":service", STR(d.path)),     ARG(":nowait", netproc_t()),
        ARG(":filter", REC_FILTER_V(&rec)), ARG(":sentinel", REC_SENTINEL_V(&rec)),
    };
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, p), 0);
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, p, "open\n") >= 0, 3000));
    CHECK_STR_EQ(netproc_process_status(p), "open");
    CHECK_OK(ctx, netproc_process_send(p, (const uint8_t *)"hi", 2));
    netproc_process *acc = await_accept(ctx, &rec, server, 0);
    char buf[16];
    CHECK(PUMP_UNTIL(ctx, rec_output(&rec, acc, buf, sizeof buf) == 2, 3000));
    CHECK_STR_EQ(buf, "hi");
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, p), 1);

    netproc_process_free(p);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    sock_dir_close(&d);
}

int main(void) {
    static const struct test_case cases[] = {
        {"server_listens_on_path", server_listens_on_path, 10},
        {"echo_both_ways", echo_both_ways, 10},
        {"accept_counter_is_session_wide", accept_counter_is_session_wide, 10},
        {"contacts_of_client_and_accepted", contacts_of_client_and_accepted, 10},
        {"path_length_limit", path_length_limit, 10},
        {"rebind_existing_socket_file", rebind_existing_socket_file, 10},
        {"client_to_missing_path", client_to_missing_path, 10},
        {"nowait_to_missing_path_fails_with_sentinel", nowait_to_missing_path_fails_with_sentinel, 10},
        {"nowait_to_existing_path_opens", nowait_to_existing_path_opens, 10},
    };
    return run_tests(cases, NARGS(cases));
}
