/* test_tls_api: the TLS functions of the C API at the boundary (src/ffi/tls.rs,
 * netproc_context_set_tls_handshake_timeout in src/ffi/context.rs). NULLs, stale handles
 * and the wrong thread; what a plain process, a server and a closed connection give;
 * refusals that leave the connection as it was; STARTTLS over a small line protocol
 * between two netproc processes (the server side upgraded from inside its filter, the
 * client sending before its handshake is done); peer status after the handshake, with
 * Emacs's keys (Fgnutls_peer_status, emacs_gnutls_certificate_details in src/gnutls.c);
 * warnings kept with :verify-error nil; a failed and a timed-out handshake.
 *
 * Certificates: examples/test-certs.rs writes them into a temporary directory before the
 * cases fork (NETPROC_TEST_CERTS names the program; the Makefile passes its path). */
#include "check.h"
#include "pump.h"

#include <pthread.h>
#include <sys/wait.h>

#define WAIT_MS scaled_ms(5000)

/* ---- certificates -------------------------------------------------------------- */

#ifndef NETPROC_TEST_CERTS
#define NETPROC_TEST_CERTS "target/release/examples/test-certs"
#endif

static char cert_dir[64];
static char cert_error[512];

/* Runs examples/test-certs into a fresh directory; a failure is reported by every case. */
static void certs_setup(void) {
    const char *program = getenv("NETPROC_TEST_CERTS");
    if (program == NULL || *program == '\0') program = NETPROC_TEST_CERTS;
    if (access(program, X_OK) != 0) {
        snprintf(cert_error, sizeof cert_error, "%s: %s (make test-certs builds it)", program, strerror(errno));
        return;
    }
    if (make_temp_dir(cert_dir, sizeof cert_dir) == NULL) {
        snprintf(cert_error, sizeof cert_error, "mkdtemp: %s", strerror(errno));
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execl(program, program, cert_dir, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        snprintf(cert_error, sizeof cert_error, "%s %s failed (wait status %d)", program, cert_dir, status);
}

/* The path of certificate file `name`, in a static buffer of its own per call site slot. */
static const char *cert(const char *name) {
    static char paths[8][160];
    static unsigned next;
    if (cert_error[0]) check_fail_(__FILE__, __LINE__, "no test certificates: %s", cert_error);
    char *slot = paths[next++ % 8];
    snprintf(slot, sizeof paths[0], "%s/%s", cert_dir, name);
    return slot;
}

/* ---- :tls-parameters values -------------------------------------------------------- */

/* (gnutls-x509pki KEY VALUE ...) with up to three pairs, built in `store` (which must
 * outlive the value's use). */
struct params {
    netproc_value items[7];
    netproc_value inner[3][2];
    netproc_value list[3];
};

/* A client trusting `ca` (a file), with `verify_error_nil` for (:verify-error nil). */
static netproc_value client_params(struct params *p, const char *ca, bool verify_error_nil) {
    size_t n = 0;
    p->items[n++] = SYM("gnutls-x509pki");
    p->list[0] = STR(ca);
    p->items[n++] = SYM(":trustfiles");
    p->items[n++] = netproc_list(p->list, 1);
    p->items[n++] = SYM(":hostname");
    p->items[n++] = STR("localhost");
    if (verify_error_nil) {
        p->items[n++] = SYM(":verify-error");
        p->items[n++] = netproc_nil();
    }
    return netproc_list(p->items, n);
}

/* A server side with `key` and `certificate` files: (:keylist ((KEY CERT))). */
static netproc_value server_params(struct params *p, const char *key, const char *certificate) {
    p->inner[0][0] = STR(key);
    p->inner[0][1] = STR(certificate);
    p->list[0] = netproc_list(p->inner[0], 2);
    p->items[0] = SYM("gnutls-x509pki");
    p->items[1] = SYM(":keylist");
    p->items[2] = netproc_list(p->list, 1);
    return netproc_list(p->items, 3);
}

/* ---- plists ---------------------------------------------------------------------- */

static const netproc_value *plist_get(const netproc_value *plist, const char *key) {
    if (plist->kind != NETPROC_VALUE_LIST) return NULL;
    for (size_t i = 0; i + 1 < plist->count; i += 2)
        if (value_is_symbol(&plist->items[i], key)) return &plist->items[i + 1];
    return NULL;
}

/* The keys of a plist joined by spaces, into buf. */
static const char *plist_keys(const netproc_value *plist, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; plist->kind == NETPROC_VALUE_LIST && i + 1 < plist->count; i += 2) {
        const netproc_value *key = &plist->items[i];
        int w = snprintf(buf + n, cap - n, "%s%.*s", n ? " " : "", (int)key->length, (const char *)key->bytes);
        if (w > 0) n += (size_t)w < cap - n ? (size_t)w : cap - n - 1;
    }
    return buf;
}

static bool peer_status_nil(netproc_process *p) {
    netproc_value out = INT(7);
    CHECK_EQ(netproc_gnutls_peer_status(p, &out), NETPROC_OK);
    bool nil = out.kind == NETPROC_VALUE_NIL;
    netproc_value_free(&out);
    return nil;
}

/* ---- the boundary ------------------------------------------------------------------ */

/* Deletes every listed process and frees the handles given. */
static void finish(netproc_context *ctx, netproc_process **handles, size_t n) {
    netproc_process *list[16];
    size_t count = 0;
    CHECK_OK(ctx, netproc_process_list(ctx, list, 16, &count));
    for (size_t i = 0; i < count && i < 16; i++) CHECK_OK(ctx, netproc_delete_process(list[i]));
    for (size_t i = 0; i < n; i++) netproc_process_free(handles[i]);
}


/* NULL and forged handles, NULL out-pointers and params: refused with the function's name,
 * nothing written. */
static void null_and_stale_arguments(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &rec);
    struct params store;
    netproc_value params = client_params(&store, "/nonexistent-ca.pem", false);
    netproc_value out = INT(7);

    CHECK_ERROR(NULL, netproc_gnutls_negotiate(NULL, &params), NETPROC_E_NULL, "error",
                "netproc_gnutls_negotiate: process is NULL");
    CHECK_ERROR(ctx, netproc_gnutls_negotiate(client, NULL), NETPROC_E_NULL, "error",
                "netproc_gnutls_negotiate: params is NULL");
    CHECK_ERROR(NULL, netproc_gnutls_peer_status(NULL, &out), NETPROC_E_NULL, "error",
                "netproc_gnutls_peer_status: process is NULL");
    CHECK_ERROR(ctx, netproc_gnutls_peer_status(client, NULL), NETPROC_E_NULL, "error",
                "netproc_gnutls_peer_status: out is NULL");
    CHECK_ERROR(NULL, netproc_gnutls_available_p(NULL), NETPROC_E_NULL, "error",
                "netproc_gnutls_available_p: out is NULL");
    CHECK_ERROR(NULL, netproc_context_set_tls_handshake_timeout(NULL, 1000), NETPROC_E_NULL, "error",
                "netproc_context_set_tls_handshake_timeout: ctx is NULL");
    CHECK_ERROR(ctx, netproc_context_set_tls_handshake_timeout(ctx, 0), NETPROC_E_INVALID, "error",
                "netproc_context_set_tls_handshake_timeout: a timeout of 0 ms leaves no time for a handshake");
    CHECK_EQ(out.kind, NETPROC_VALUE_INTEGER);
    CHECK_EQ(out.integer, 7);

    /* A forged handle: not a live process handle. */
    netproc_process *forged = (netproc_process *)&out;
    CHECK_ERROR(NULL, netproc_gnutls_negotiate(forged, &params), NETPROC_E_BAD_HANDLE, "error",
                "netproc_gnutls_negotiate: not a live process handle");
    CHECK_ERROR(NULL, netproc_gnutls_peer_status(forged, &out), NETPROC_E_BAD_HANDLE, "error",
                "netproc_gnutls_peer_status: not a live process handle");
    CHECK_EQ(out.integer, 7);
    /* (A handle freed for good is test_hostile's: every process call, these included.) */

    netproc_process *handles[] = {client, server};
    finish(ctx, handles, 2);
    CHECK(PUMP_UNTIL(ctx, listed_processes(ctx) == 0, WAIT_MS));
    rec_free(&rec);
    CHECK_NO_LEAK(ctx, baseline);
}

struct thread_call {
    netproc_process *process;
    int negotiate, peer_status, timeout, available;
    netproc_context *ctx;
    const netproc_value *params;
};

static void *call_from_other_thread(void *arg) {
    struct thread_call *call = (struct thread_call *)arg;
    netproc_value out;
    call->negotiate = netproc_gnutls_negotiate(call->process, call->params);
    call->peer_status = netproc_gnutls_peer_status(call->process, &out);
    call->timeout = netproc_context_set_tls_handshake_timeout(call->ctx, 1000);
    call->available = netproc_gnutls_available_p(&out);
    if (call->available == NETPROC_OK) netproc_value_free(&out);
    return NULL;
}

/* Only the thread that owns the context may negotiate or ask; gnutls_available_p needs no
 * context and answers anywhere. */
static void wrong_thread_is_refused(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &rec);
    struct params store;
    netproc_value params = client_params(&store, cert("ca.pem"), false);
    struct thread_call call = {client, 0, 0, 0, 0, ctx, &params};
    pthread_t thread;
    CHECK_EQ(pthread_create(&thread, NULL, call_from_other_thread, &call), 0);
    CHECK_EQ(pthread_join(thread, NULL), 0);
    CHECK_EQ(call.negotiate, NETPROC_E_WRONG_THREAD);
    CHECK_EQ(call.peer_status, NETPROC_E_WRONG_THREAD);
    CHECK_EQ(call.timeout, NETPROC_E_WRONG_THREAD);
    CHECK_EQ(call.available, NETPROC_OK);
    /* Nothing happened to the connection. */
    CHECK(peer_status_nil(client));
    CHECK_STR_EQ(netproc_process_status(client), "open");
    CHECK_OK(ctx, netproc_delete_process(client));
    CHECK_OK(ctx, netproc_delete_process(server));
    netproc_process_free(client);
    netproc_process_free(server);
    rec_free(&rec);
    CHECK_NO_LEAK(ctx, baseline);
}

/* gnutls-available-p's shape: symbols, `gnutls` last, none of Emacs's crypto entries. */
static void available_lists_gnutls_last(void) {
    netproc_value out;
    CHECK_EQ(netproc_gnutls_available_p(&out), NETPROC_OK);
    CHECK_EQ(out.kind, NETPROC_VALUE_LIST);
    CHECK(out.count >= 2);
    CHECK(value_is_symbol(&out.items[out.count - 1], "gnutls"));
    bool alpn = false;
    for (size_t i = 0; i < out.count; i++) {
        CHECK_EQ(out.items[i].kind, NETPROC_VALUE_SYMBOL);
        alpn = alpn || value_is_symbol(&out.items[i], "ALPN");
        CHECK(!value_is_symbol(&out.items[i], "gnutls3") && !value_is_symbol(&out.items[i], "ciphers"));
    }
    CHECK(alpn);
    netproc_value_free(&out);
}

/* A listening server, a plain client and an accepted plain connection have no peer status;
 * a refused negotiation leaves a connection plain, open and usable. */
static void plain_processes_and_refusals(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &rec);
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_LOG, server) == 1, WAIT_MS));
    netproc_process *accepted = rec.events[rec_find(&rec, 0, REC_LOG, server, NULL)].client;
    CHECK(peer_status_nil(server));
    CHECK(peer_status_nil(client));
    CHECK(peer_status_nil(accepted));

    struct params store;
    netproc_value good = client_params(&store, cert("ca.pem"), false);
    CHECK_ERROR(ctx, netproc_gnutls_negotiate(server, &good), NETPROC_E_ERROR, "error",
                "Process srv is not a stream connection: it cannot start TLS");
    netproc_value nil = netproc_nil();
    CHECK_ERROR(ctx, netproc_gnutls_negotiate(client, &nil), NETPROC_E_WRONG_TYPE, "wrong-type-argument",
                "Wrong type argument: consp, nil");
    netproc_value five = INT(5);
    CHECK_ERROR(ctx, netproc_gnutls_negotiate(client, &five), NETPROC_E_WRONG_TYPE, "wrong-type-argument",
                "Wrong type argument: listp, 5");
    netproc_value anon_items[] = {SYM("gnutls-anon")};
    netproc_value anon = netproc_list(anon_items, 1);
    CHECK_ERROR_PREFIX(ctx, netproc_gnutls_negotiate(client, &anon), NETPROC_E_ERROR, "error",
                       "TLS type gnutls-anon is not supported");
    struct params missing_store;
    netproc_value missing = client_params(&missing_store, "/nonexistent/ca.pem", false);
    CHECK_ERROR_PREFIX(ctx, netproc_gnutls_negotiate(client, &missing), NETPROC_E_FILE, "file-missing",
                       "Opening TLS file: No such file or directory");
    /* An accepted connection becomes the TLS server: it needs a certificate. */
    CHECK_ERROR_PREFIX(ctx, netproc_gnutls_negotiate(accepted, &good), NETPROC_E_ERROR, "error",
                       "A TLS server needs a certificate and key");

    /* Still plain and talking. */
    CHECK(peer_status_nil(client));
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"plain\n", 6));
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_FILTER, accepted, "plain\n") >= 0, WAIT_MS));

    /* A connection deleted is not running. */
    CHECK_OK(ctx, netproc_delete_process(client));
    CHECK_ERROR(ctx, netproc_gnutls_negotiate(client, &good), NETPROC_E_ERROR, "error", "Process cli not running");
    CHECK(peer_status_nil(client));

    netproc_process *handles[] = {client, server};
    finish(ctx, handles, 2);
    CHECK(PUMP_UNTIL(ctx, listed_processes(ctx) == 0, WAIT_MS));
    rec_free(&rec);
    CHECK_NO_LEAK(ctx, baseline);
}

/* ---- STARTTLS between two netproc processes ---------------------------------------- */

/* The server's side of the line protocol: on "STARTTLS\n" it answers "OK\n" in the clear
 * and upgrades from inside its filter; on anything after, it answers "got " and the line,
 * encrypted. */
struct line_server {
    struct recorder rec; /* the server's own events */
    netproc_process *connection;
    int negotiated;      /* the status netproc_gnutls_negotiate gave in the filter */
    bool upgraded;
    char received[256];
    size_t length;
};

static void line_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct line_server *s = (struct line_server *)ud;
    rec_filter(&s->rec, p, data, len);
    if (len >= sizeof s->received - s->length) return;
    memcpy(s->received + s->length, data, len);
    s->length += len;
    s->received[s->length] = '\0';
    if (!s->upgraded && strcmp(s->received, "STARTTLS\n") == 0) {
        s->upgraded = true;
        s->connection = p;
        CHECK_EQ(netproc_process_send(p, (const uint8_t *)"OK\n", 3), NETPROC_OK);
        struct params store;
        netproc_value params = server_params(&store, cert("server.key"), cert("server.pem"));
        s->negotiated = netproc_gnutls_negotiate(p, &params);
        s->length = 0;
    } else if (s->upgraded && s->length > 0 && s->received[s->length - 1] == '\n') {
        char reply[300];
        int n = snprintf(reply, sizeof reply, "got %s", s->received);
        CHECK_EQ(netproc_process_send(p, (const uint8_t *)reply, (size_t)n), NETPROC_OK);
        s->length = 0;
    }
}

static netproc_process *line_server_start(netproc_context *ctx, struct line_server *s) {
    memset(s, 0, sizeof *s);
    s->negotiated = 1;
    netproc_arg args[] = {
        ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
        ARG(":filter", netproc_filter(line_filter, s)), ARG(":sentinel", REC_SENTINEL_V(&s->rec)),
        ARG(":log", REC_LOG_V(&s->rec)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    return server;
}

/* The client asks, gets "OK" in the clear, upgrades and at once sends a line, which waits
 * for the handshake and goes out encrypted; the answer comes back encrypted. Then both
 * sides have peer status: the client the server's certificate in Emacs's terms, the
 * server none (the client showed none). */
static void starttls_line_protocol(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct line_server s;
    netproc_process *server = line_server_start(ctx, &s);
    struct recorder rec = {0};
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &rec);
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"STARTTLS\n", 9));
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_FILTER, client, "OK\n") >= 0, WAIT_MS));
    CHECK_EQ(s.negotiated, NETPROC_OK);

    struct params store;
    netproc_value params = client_params(&store, cert("ca.pem"), false);
    CHECK_OK(ctx, netproc_gnutls_negotiate(client, &params));
    CHECK(peer_status_nil(client)); /* the handshake has not even begun to be answered */
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"secret\n", 7));
    char got[256];
    CHECK(PUMP_UNTIL(ctx, (rec_output(&rec, client, got, sizeof got), strcmp(got, "OK\ngot secret\n") == 0),
                     WAIT_MS));
    CHECK_STR_EQ(netproc_process_status(client), "open");

    /* A second upgrade is refused. */
    CHECK_ERROR(ctx, netproc_gnutls_negotiate(client, &params), NETPROC_E_ERROR, "error",
                "Process cli already uses TLS");

    netproc_value status;
    CHECK_OK(ctx, netproc_gnutls_peer_status(client, &status));
    char keys[512];
    CHECK_STR_EQ(plist_keys(&status, keys, sizeof keys),
                 ":certificates :certificate :key-exchange :protocol :cipher :mac :encrypt-then-mac");
    CHECK(value_is_string(plist_get(&status, ":protocol"), "TLS1.3"));
    CHECK(value_is_string(plist_get(&status, ":key-exchange"), "ECDHE-RSA"));
    CHECK(value_is_string(plist_get(&status, ":mac"), "AEAD"));
    CHECK_EQ(plist_get(&status, ":encrypt-then-mac")->kind, NETPROC_VALUE_NIL);
    const netproc_value *chain = plist_get(&status, ":certificates");
    CHECK_EQ(chain->kind, NETPROC_VALUE_LIST);
    CHECK_EQ(chain->count, 1);
    const netproc_value *host = plist_get(&status, ":certificate");
    CHECK_STR_EQ(plist_keys(host, keys, sizeof keys),
                 ":version :serial-number :issuer :valid-from :valid-to :subject :public-key-algorithm "
                 ":certificate-security-level :signature-algorithm :public-key-id :certificate-id :pem");
    CHECK(value_is_string(plist_get(host, ":subject"), "CN=localhost"));
    CHECK(value_is_string(plist_get(host, ":issuer"), "CN=netproc test CA"));
    CHECK_EQ(plist_get(host, ":version")->integer, 3);
    CHECK(value_is_string(plist_get(host, ":valid-from"), "1975-01-01"));
    CHECK(value_is_string(plist_get(host, ":public-key-algorithm"), "EC/ECDSA"));
    const netproc_value *id = plist_get(host, ":public-key-id");
    CHECK(id->kind == NETPROC_VALUE_STRING && id->length == 64 && memcmp(id->bytes, "sha1:", 5) == 0);
    netproc_value_free(&status);

    /* The server's connection: a session, no client certificate. */
    CHECK_NOT_NULL(s.connection);
    netproc_value served;
    CHECK_OK(ctx, netproc_gnutls_peer_status(s.connection, &served));
    CHECK_STR_EQ(plist_keys(&served, keys, sizeof keys), ":key-exchange :protocol :cipher :mac :encrypt-then-mac");
    netproc_value_free(&served);

    /* Closed: no peer status any more. */
    CHECK_OK(ctx, netproc_delete_process(client));
    CHECK(peer_status_nil(client));
    netproc_process *handles[] = {client, server};
    finish(ctx, handles, 2);
    CHECK(PUMP_UNTIL(ctx, listed_processes(ctx) == 0, WAIT_MS));
    rec_free(&rec);
    rec_free(&s.rec);
    CHECK_NO_LEAK(ctx, baseline);
}

/* A certificate nobody trusts: the upgrade fails in the handshake; the connection closes
 * with status "failed", one sentinel naming the reason, the message as exit status, and
 * no peer status. */
static void failed_upgrade_closes_once(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct line_server s;
    netproc_process *server = line_server_start(ctx, &s);
    struct recorder rec = {0};
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &rec);
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"STARTTLS\n", 9));
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_FILTER, client, "OK\n") >= 0, WAIT_MS));
    struct params store;
    netproc_value params = client_params(&store, cert("other-ca.pem"), false);
    CHECK_OK(ctx, netproc_gnutls_negotiate(client, &params));
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_SENTINEL, client) == 1, WAIT_MS));
    pump_for(ctx, 50);
    const char *reason = "Certificate validation failed localhost: the certificate was signed by an unknown "
                         "and therefore untrusted authority";
    char want[256], sentinels[512];
    snprintf(want, sizeof want, "failed with code %s\n", reason);
    CHECK_STR_EQ(sentinels_of(&rec, client, sentinels, sizeof sentinels), want);
    CHECK_STR_EQ(netproc_process_status(client), "failed");
    netproc_value exit_status;
    CHECK_OK(ctx, netproc_process_exit_status(client, &exit_status));
    CHECK(value_is_string(&exit_status, reason));
    netproc_value_free(&exit_status);
    CHECK(peer_status_nil(client));
    CHECK_EQ(rec_count(&rec, REC_FILTER, client), 1); /* "OK\n" only */
    netproc_process *handles[] = {client, server};
    finish(ctx, handles, 2);
    CHECK(PUMP_UNTIL(ctx, listed_processes(ctx) == 0, WAIT_MS));
    rec_free(&rec);
    rec_free(&s.rec);
    CHECK_NO_LEAK(ctx, baseline);
}

/* A peer that never answers the handshake: it fails after the context's timeout. */
static void handshake_timeout_is_the_contexts(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    CHECK_OK(ctx, netproc_context_set_tls_handshake_timeout(ctx, 300));
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec); /* plain: never answers TLS */
    netproc_process *client = start_client(ctx, "cli", contact_int(server, ":service"), &rec);
    struct params store;
    netproc_value params = client_params(&store, cert("ca.pem"), false);
    uint64_t started = monotonic_ms();
    CHECK_OK(ctx, netproc_gnutls_negotiate(client, &params));
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_SENTINEL, client) == 1, WAIT_MS));
    CHECK(monotonic_ms() - started >= 300);
    char sentinels[256];
    CHECK_STR_EQ(sentinels_of(&rec, client, sentinels, sizeof sentinels),
                 "failed with code TLS handshake timed out after 0.3 seconds\n");
    netproc_process *handles[] = {client, server};
    finish(ctx, handles, 2);
    CHECK(PUMP_UNTIL(ctx, listed_processes(ctx) == 0, WAIT_MS));
    rec_free(&rec);
    CHECK_NO_LEAK(ctx, baseline);
}

/* With (:verify-error nil), Emacs's default, an expired certificate does not stop the
 * connection: its problems are peer status warnings, as gnutls-peer-status lists them, for
 * the Network Security Manager to judge. */
static void warnings_with_verify_error_nil(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct params server_store;
    netproc_value tls_server = server_params(&server_store, cert("expired.key"), cert("expired.pem"));
    netproc_arg server_args[] = {
        ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
        ARG(":sentinel", REC_SENTINEL_V(&rec)), ARG(":tls-parameters", tls_server),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, server_args, NARGS(server_args), &server));
    struct params store;
    netproc_value lenient = client_params(&store, cert("ca.pem"), true);
    netproc_arg client_args[] = {
        ARG(":name", STR("cli")), ARG(":host", STR("127.0.0.1")), ARG(":service", INT(contact_int(server, ":service"))),
        ARG(":nowait", netproc_t()), ARG(":sentinel", REC_SENTINEL_V(&rec)), ARG(":tls-parameters", lenient),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, client_args, NARGS(client_args), &client));
    CHECK(peer_status_nil(client));
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_SENTINEL, client) == 1, WAIT_MS));
    CHECK_STR_EQ(netproc_process_status(client), "open");
    netproc_value status;
    CHECK_OK(ctx, netproc_gnutls_peer_status(client, &status));
    const netproc_value *warnings = plist_get(&status, ":warnings");
    CHECK_NOT_NULL(warnings);
    CHECK_EQ(warnings->kind, NETPROC_VALUE_LIST);
    CHECK_EQ(warnings->count, 2);
    CHECK(value_is_symbol(&warnings->items[0], ":expired"));
    CHECK(value_is_symbol(&warnings->items[1], ":invalid"));
    CHECK(value_is_symbol(&status.items[0], ":warnings")); /* first, as in Emacs */
    CHECK(value_is_string(plist_get(plist_get(&status, ":certificate"), ":valid-to"), "2021-01-01"));
    netproc_value_free(&status);
    netproc_process *handles[] = {client, server};
    finish(ctx, handles, 2);
    CHECK(PUMP_UNTIL(ctx, listed_processes(ctx) == 0, WAIT_MS));
    rec_free(&rec);
    CHECK_NO_LEAK(ctx, baseline);
}

int main(void) {
    certs_setup();
    static const struct test_case cases[] = {
        {"null_and_stale_arguments", null_and_stale_arguments, 10},
        {"wrong_thread_is_refused", wrong_thread_is_refused, 10},
        {"available_lists_gnutls_last", available_lists_gnutls_last, 10},
        {"plain_processes_and_refusals", plain_processes_and_refusals, 10},
        {"starttls_line_protocol", starttls_line_protocol, 10},
        {"failed_upgrade_closes_once", failed_upgrade_closes_once, 10},
        {"handshake_timeout_is_the_contexts", handshake_timeout_is_the_contexts, 10},
        {"warnings_with_verify_error_nil", warnings_with_verify_error_nil, 10},
    };
    int rc = run_tests(cases, NARGS(cases));
    if (cert_dir[0]) remove_temp_dir(cert_dir);
    return rc;
}
