/* test_tls: netproc TLS clients (`:tls-parameters`, issue 13) through the C API against real
 * servers nobody here wrote: openssl s_server and gnutls-serv. Opening (:nowait and
 * blocking), data both ways, the negotiated protocol and ALPN; certificate failures with
 * Emacs's messages; client certificates. Refused, closing, resetting and silent peers are
 * test_tls_faults.c; a netproc TLS server against real clients is test_tls_server.c. */
#include "check.h"
#include "pump.h"
#include "tls_peers.h"

/* ---- servers ------------------------------------------------------------------------ */

/* gnutls-serv --echo on a free port (it cannot say which port the kernel gave it), ready
 * once it says it listens on IPv4. */
static long long start_gnutls_serv(struct peer_proc *p) {
    long long port = free_port();
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%lld", port);
    char *argv[] = {(char *)need_tool("gnutls-serv", "gnutls-bin"), (char *)"--echo", (char *)"-p", port_text,
                    (char *)"--x509certfile", (char *)tls_cert("server.pem"), (char *)"--x509keyfile",
                    (char *)tls_cert("server.key"), NULL};
    peer_start(p, argv);
    char ready[96];
    snprintf(ready, sizeof ready, "listening on IPv4 0.0.0.0 port %lld...done", port);
    PEER_EXPECT(NULL, p, ready, TLS_WAIT_MS);
    return port;
}

/* ---- clients ------------------------------------------------------------------------ */

/* A :nowait client is `connect` when the create returns, then gets exactly one sentinel,
 * "open\n", and is open. */
static netproc_process *open_nowait(netproc_context *ctx, long long port, struct tls_params *tp,
                                    struct recorder *rec) {
    netproc_process *c = NULL;
    CHECK_OK(ctx, tls_client(ctx, "tls", port, true, tp_value(tp), rec, &c));
    CHECK_NOT_NULL(c);
    CHECK_STR_EQ(netproc_process_status(c), "connect");
    CHECK(PUMP_UNTIL(ctx, rec_count(rec, REC_SENTINEL, c) > 0, TLS_WAIT_MS));
    pump_for(ctx, 50);
    char seen[512];
    CHECK_STR_EQ(sentinels_of(rec, c, seen, sizeof seen), "open\n");
    CHECK_STR_EQ(netproc_process_status(c), "open");
    return c;
}

/* A blocking client: open when the create returns. Unlike a plain blocking connection it
 * then gets one "open\n" sentinel, as Emacs's finish_after_tls_connection runs it after a
 * blocking connection's TLS handshake (process.c, Emacs 28.2). */
static netproc_process *open_blocking(netproc_context *ctx, long long port, struct tls_params *tp,
                                      struct recorder *rec) {
    netproc_process *c = NULL;
    CHECK_OK(ctx, tls_client(ctx, "tls", port, false, tp_value(tp), rec, &c));
    CHECK_NOT_NULL(c);
    CHECK_STR_EQ(netproc_process_status(c), "open");
    CHECK(PUMP_UNTIL(ctx, rec_count(rec, REC_SENTINEL, c) > 0, TLS_WAIT_MS));
    pump_for(ctx, 50);
    char seen[512];
    CHECK_STR_EQ(sentinels_of(rec, c, seen, sizeof seen), "open\n");
    CHECK_STR_EQ(netproc_process_status(c), "open");
    return c;
}

/* Sends `line` and waits until the filter has received exactly `reply`. */
static void exchange(netproc_context *ctx, netproc_process *c, struct recorder *rec, const char *line,
                     const char *reply) {
    char got[4096];
    size_t before = rec_output(rec, c, got, sizeof got);
    CHECK_EQ(before, 0);
    CHECK_OK(ctx, netproc_process_send(c, (const uint8_t *)line, strlen(line)));
    CHECK(PUMP_UNTIL(ctx, rec_output(rec, c, got, sizeof got) >= strlen(reply), TLS_WAIT_MS));
    pump_for(ctx, 30);
    CHECK_STR_EQ(got, reply);
}

/* A blocking create fails with `message` (the error netproc_last_error reports). */
static void expect_create_fails(netproc_context *ctx, long long port, struct tls_params *tp, const char *message) {
    struct recorder rec = {0};
    netproc_process *c = NULL;
    size_t listed = listed_processes(ctx);
    int rc = tls_client(ctx, "tls", port, false, tp_value(tp), &rec, &c);
    CHECK_ERROR(ctx, rc, NETPROC_E_ERROR, "error", message);
    CHECK_NULL(c);
    pump_for(ctx, 50);
    CHECK_EQ(rec.count, 0);
    CHECK_EQ(listed_processes(ctx), listed);
    rec_free(&rec);
}

/* ---- 1. opening, data both ways, the protocol ----------------------------------------- */

/* A :nowait client trusting ca.pem opens on openssl s_server (connect, then one "open\n"),
 * talks both ways through -rev (each line comes back reversed) and says TLS1.3, as the
 * server does. */
static void nowait_client_to_openssl(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port = start_s_server(&srv, "server.pem", "server.key", (const char *const[]){"-rev", NULL});
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_trusting(&tp, "ca.pem");
    netproc_process *c = open_nowait(ctx, port, &tp, &rec);
    char text[64];
    CHECK_STR_EQ(contact_text(c, ":tls-protocol", text, sizeof text), "TLS1.3");
    CHECK_STR_EQ(contact_text(c, ":alpn", text, sizeof text), "<absent>");
    exchange(ctx, c, &rec, "hello through TLS\n", "SLT hguorht olleh\n");
    PEER_EXPECT(ctx, &srv, "Protocol version: TLSv1.3", TLS_WAIT_MS);
    finish_client(ctx, c, &rec, &srv, fds);
}

/* The same with a blocking create: open when it returns, no sentinel. Without :hostname
 * the name checked is the :host, 127.0.0.1, which server.pem carries as an IP address. */
static void blocking_client_to_openssl(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port = start_s_server(&srv, "server.pem", "server.key", (const char *const[]){"-rev", NULL});
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_init(&tp);
    tp_trust(&tp, "ca.pem");
    netproc_process *c = open_blocking(ctx, port, &tp, &rec);
    char text[64];
    CHECK_STR_EQ(contact_text(c, ":tls-protocol", text, sizeof text), "TLS1.3");
    exchange(ctx, c, &rec, "abc 123\n", "321 cba\n");
    finish_client(ctx, c, &rec, &srv, fds);
}

/* Sent while the handshake runs (status connect): queued, and sent once it is done. */
static void nowait_send_before_the_handshake(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port = start_s_server(&srv, "server.pem", "server.key", (const char *const[]){"-rev", NULL});
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_trusting(&tp, "ca.pem");
    netproc_process *c = NULL;
    CHECK_OK(ctx, tls_client(ctx, "tls", port, true, tp_value(&tp), &rec, &c));
    CHECK_STR_EQ(netproc_process_status(c), "connect");
    CHECK_OK(ctx, netproc_process_send(c, (const uint8_t *)"early\n", 6));
    CHECK(PUMP_UNTIL(ctx, rec.filter_bytes >= 6, TLS_WAIT_MS));
    pump_for(ctx, 30);
    long opened = rec_find(&rec, 0, REC_SENTINEL, c, "open\n");
    long data = rec_find(&rec, 0, REC_FILTER, c, NULL);
    CHECK(opened >= 0 && data > opened);
    char got[64];
    rec_output(&rec, c, got, sizeof got);
    CHECK_STR_EQ(got, "ylrae\n");
    finish_client(ctx, c, &rec, &srv, fds);
}

/* gnutls-serv --echo, :nowait and then blocking: data comes back as sent. */
static void clients_to_gnutls_serv(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port = start_gnutls_serv(&srv);
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_trusting(&tp, "ca.pem");
    netproc_process *c = open_nowait(ctx, port, &tp, &rec);
    char text[64];
    CHECK_STR_EQ(contact_text(c, ":tls-protocol", text, sizeof text), "TLS1.3");
    exchange(ctx, c, &rec, "hello gnutls\n", "hello gnutls\n");
    CHECK_OK(ctx, netproc_delete_process(c));
    netproc_process_free(c);
    rec_free(&rec);

    c = open_blocking(ctx, port, &tp, &rec);
    CHECK_STR_EQ(contact_text(c, ":tls-protocol", text, sizeof text), "TLS1.3");
    exchange(ctx, c, &rec, "and blocking\n", "and blocking\n");
    PEER_EXPECT(ctx, &srv, "Version: TLS1.3", TLS_WAIT_MS);
    finish_client(ctx, c, &rec, &srv, fds);
}

/* openssl s_server -tls1_2: both clients negotiate TLS 1.2 and say so. */
static void tls12_forced_by_the_server(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port =
        start_s_server(&srv, "server.pem", "server.key", (const char *const[]){"-rev", "-tls1_2", NULL});
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_trusting(&tp, "ca.pem");
    netproc_process *c = open_nowait(ctx, port, &tp, &rec);
    char text[64];
    CHECK_STR_EQ(contact_text(c, ":tls-protocol", text, sizeof text), "TLS1.2");
    exchange(ctx, c, &rec, "twelve\n", "evlewt\n");
    PEER_EXPECT(ctx, &srv, "Protocol version: TLSv1.2", TLS_WAIT_MS);
    CHECK_OK(ctx, netproc_delete_process(c));
    netproc_process_free(c);
    rec_free(&rec);

    c = open_blocking(ctx, port, &tp, &rec);
    CHECK_STR_EQ(contact_text(c, ":tls-protocol", text, sizeof text), "TLS1.2");
    exchange(ctx, c, &rec, "again\n", "niaga\n");
    finish_client(ctx, c, &rec, &srv, fds);
}

/* :priority "NORMAL:-VERS-TLS1.3" on the client limits it to TLS 1.2 against a server that
 * would do 1.3; and :alpn ("h2" "http/1.1") against s_server -alpn http/1.1 agrees on
 * "http/1.1" (the server's choice, not the client's first). */
static void client_priority_and_alpn(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port =
        start_s_server(&srv, "server.pem", "server.key", (const char *const[]){"-rev", "-alpn", "http/1.1", NULL});
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_trusting(&tp, "ca.pem");
    tp_put(&tp, ":priority", STR("NORMAL:-VERS-TLS1.3"));
    tp_alpn(&tp, "h2", "http/1.1");
    netproc_process *c = open_nowait(ctx, port, &tp, &rec);
    char text[64];
    CHECK_STR_EQ(contact_text(c, ":tls-protocol", text, sizeof text), "TLS1.2");
    CHECK_STR_EQ(contact_text(c, ":alpn", text, sizeof text), "http/1.1");
    exchange(ctx, c, &rec, "alpn\n", "npla\n");
    PEER_EXPECT(ctx, &srv, "Protocol version: TLSv1.2", TLS_WAIT_MS);
    finish_client(ctx, c, &rec, &srv, fds);
}

/* :host "localhost" (looked up, in the background for :nowait; ::1 may come first and be
 * refused, as s_server listens on 127.0.0.1 only) and no :hostname: the name checked is
 * "localhost"; both clients open and talk. */
static void clients_by_host_name(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port = start_s_server(&srv, "server.pem", "server.key", (const char *const[]){"-rev", NULL});
    netproc_context *ctx = new_context();
    struct tls_params tp;
    tp_init(&tp);
    tp_trust(&tp, "ca.pem");
    for (int nowait = 1; nowait >= 0; nowait--) {
        struct recorder rec = {0};
        netproc_arg args[] = {
            ARG(":name", STR("tls")),
            ARG(":host", STR("localhost")),
            ARG(":service", INT(port)),
            ARG(":nowait", nowait ? netproc_t() : netproc_nil()),
            ARG(":filter", REC_FILTER_V(&rec)),
            ARG(":sentinel", REC_SENTINEL_V(&rec)),
            ARG(":tls-parameters", tp_value(&tp)),
        };
        netproc_process *c = NULL;
        CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &c));
        CHECK_STR_EQ(netproc_process_status(c), nowait ? "connect" : "open");
        CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_SENTINEL, c) > 0, TLS_WAIT_MS));
        pump_for(ctx, 30);
        char seen[256];
        CHECK_STR_EQ(sentinels_of(&rec, c, seen, sizeof seen), "open\n");
        exchange(ctx, c, &rec, "by name\n", "eman yb\n");
        CHECK_OK(ctx, netproc_delete_process(c));
        netproc_process_free(c);
        rec_free(&rec);
    }
    finish_client(ctx, NULL, NULL, &srv, fds);
}

/* ---- 2. certificate failures ------------------------------------------------------------ */

/* s_server with cert/key; a :nowait client trusting `ca` fails with one sentinel
 * "failed with code MESSAGE\n"; a blocking one fails its create with MESSAGE. */
static void check_certificate_failure(const char *cert, const char *key, const char *ca, const char *message) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port = start_s_server(&srv, cert, key, NULL);
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_trusting(&tp, ca);
    netproc_process *c = NULL;
    CHECK_OK(ctx, tls_client(ctx, "tls", port, true, tp_value(&tp), &rec, &c));
    CHECK_STR_EQ(netproc_process_status(c), "connect");
    EXPECT_FAILED(ctx, c, &rec, message, false);
    expect_create_fails(ctx, port, &tp, message);
    finish_client(ctx, c, &rec, &srv, fds);
}

static void unknown_ca_fails(void) {
    check_certificate_failure("server.pem", "server.key", "other-ca.pem",
                              "Certificate validation failed localhost: the certificate was signed by an unknown "
                              "and therefore untrusted authority");
}

static void expired_certificate_fails(void) {
    check_certificate_failure("expired.pem", "expired.key", "ca.pem",
                              "Certificate validation failed localhost: certificate has expired");
}

static void wrong_host_fails(void) {
    check_certificate_failure("wrong-name.pem", "wrong-name.key", "ca.pem",
                              "The x509 certificate does not match \"localhost\"");
}

/* A self-signed certificate (its own issuer, not ca.pem). */
static void self_signed_fails(void) {
    check_certificate_failure("self-signed.pem", "self-signed.key", "ca.pem",
                              "Certificate validation failed localhost: the certificate was signed by an unknown "
                              "and therefore untrusted authority");
}

/* The server whose certificate is refused is told why: the client sends the fatal alert
 * rustls prepared (unknown_ca) before it closes, as RFC 8446 section 6.2 says it should,
 * rather than closing silently (s_server would report only an unexpected EOF). */
static void refused_server_hears_the_alert(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port = start_s_server(&srv, "server.pem", "server.key", NULL);
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_trusting(&tp, "other-ca.pem");
    netproc_process *c = NULL;
    CHECK_OK(ctx, tls_client(ctx, "tls", port, true, tp_value(&tp), &rec, &c));
    EXPECT_FAILED(ctx, c, &rec, "Certificate validation failed localhost: ", true);
    PEER_EXPECT(ctx, &srv, "alert unknown ca", TLS_WAIT_MS);
    finish_client(ctx, c, &rec, &srv, fds);
}

/* Without :trustfiles the system's trust store (ca-certificates) is used, which does not
 * know the test CA: the same unknown-CA failure, both ways. */
static void system_trust_store_does_not_know_the_test_ca(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port = start_s_server(&srv, "server.pem", "server.key", NULL);
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_init(&tp);
    tp_put(&tp, ":hostname", STR("localhost"));
    netproc_process *c = NULL;
    CHECK_OK(ctx, tls_client(ctx, "tls", port, true, tp_value(&tp), &rec, &c));
    const char *message = "Certificate validation failed localhost: the certificate was signed by an unknown "
                          "and therefore untrusted authority";
    EXPECT_FAILED(ctx, c, &rec, message, false);
    expect_create_fails(ctx, port, &tp, message);
    finish_client(ctx, c, &rec, &srv, fds);
}

/* :priority "NORMAL:-VERS-TLS1.2" against s_server -tls1_2: no version in common, so the
 * handshake fails, naming the server's alert. */
static void priority_excludes_the_servers_version(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port = start_s_server(&srv, "server.pem", "server.key", (const char *const[]){"-tls1_2", NULL});
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_trusting(&tp, "ca.pem");
    tp_put(&tp, ":priority", STR("NORMAL:-VERS-TLS1.2"));
    netproc_process *c = NULL;
    CHECK_OK(ctx, tls_client(ctx, "tls", port, true, tp_value(&tp), &rec, &c));
    EXPECT_FAILED(ctx, c, &rec, "TLS handshake failed: the peer sent the alert ", true);
    finish_client(ctx, c, &rec, &srv, fds);
}

/* :verify-error nil: the unknown CA is a warning only, so both clients open and talk. */
static void verify_error_nil_opens_on_unknown_ca(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port = start_s_server(&srv, "server.pem", "server.key", (const char *const[]){"-rev", NULL});
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_trusting(&tp, "other-ca.pem");
    tp_put(&tp, ":verify-error", netproc_nil());
    netproc_process *c = open_nowait(ctx, port, &tp, &rec);
    exchange(ctx, c, &rec, "lenient\n", "tneinel\n");
    CHECK_OK(ctx, netproc_delete_process(c));
    netproc_process_free(c);
    rec_free(&rec);
    c = open_blocking(ctx, port, &tp, &rec);
    exchange(ctx, c, &rec, "blocking\n", "gnikcolb\n");
    finish_client(ctx, c, &rec, &srv, fds);
}

/* :verify-error as a list names the fatal checks: (:trustfiles) lets a wrong name through
 * and (:hostname) an unknown CA, while (:hostname) still refuses the wrong name. */
static void verify_error_list_picks_the_fatal_checks(void) {
    int fds = fd_baseline();
    struct peer_proc wrong, unknown;
    long long wrong_port =
        start_s_server(&wrong, "wrong-name.pem", "wrong-name.key", (const char *const[]){"-rev", NULL});
    long long unknown_port = start_s_server(&unknown, "self-signed.pem", "self-signed.key",
                                            (const char *const[]){"-rev", NULL});
    netproc_context *ctx = new_context();
    struct {
        long long port;
        const char *fatal;
        const char *failure; /* NULL: opens */
    } tries[] = {
        {wrong_port, ":trustfiles", NULL},
        {unknown_port, ":hostname", NULL},
        {wrong_port, ":hostname", "The x509 certificate does not match \"localhost\""},
    };
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        struct recorder rec = {0};
        struct tls_params tp;
        tp_trusting(&tp, "ca.pem");
        netproc_value fatal = SYM(tries[i].fatal);
        tp_put(&tp, ":verify-error", netproc_list(&fatal, 1));
        netproc_process *c = NULL;
        if (tries[i].failure != NULL) {
            CHECK_OK(ctx, tls_client(ctx, "tls", tries[i].port, true, tp_value(&tp), &rec, &c));
            EXPECT_FAILED(ctx, c, &rec, tries[i].failure, false);
        } else {
            c = open_nowait(ctx, tries[i].port, &tp, &rec);
            exchange(ctx, c, &rec, "warned\n", "denraw\n");
        }
        CHECK_OK(ctx, netproc_delete_process(c));
        netproc_process_free(c);
        rec_free(&rec);
    }
    peer_stop(&unknown);
    finish_client(ctx, NULL, NULL, &wrong, fds);
}

/* :verify-flags 64 (GNUTLS_VERIFY_DISABLE_TIME_CHECKS): the expired certificate opens. */
static void verify_flags_64_accepts_expired(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port = start_s_server(&srv, "expired.pem", "expired.key", (const char *const[]){"-rev", NULL});
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_trusting(&tp, "ca.pem");
    tp_put(&tp, ":verify-flags", INT(64));
    netproc_process *c = open_nowait(ctx, port, &tp, &rec);
    exchange(ctx, c, &rec, "old\n", "dlo\n");
    finish_client(ctx, c, &rec, &srv, fds);
}

/* ---- 3. client certificates ------------------------------------------------------------- */

/* s_server -Verify 1 -CAfile ca.pem -tls1_2 requires a client certificate. In TLS 1.2 the
 * server refuses before its Finished, so a client without one fails its handshake: one
 * "failed with code ..." sentinel naming the alert; a blocking create fails the same way. */
static void client_certificate_missing_tls12(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port = start_s_server(&srv, "server.pem", "server.key",
                                    (const char *const[]){"-Verify", "1", "-CAfile", tls_cert("ca.pem"),
                                                          "-tls1_2", NULL});
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_trusting(&tp, "ca.pem");
    netproc_process *c = NULL;
    CHECK_OK(ctx, tls_client(ctx, "tls", port, true, tp_value(&tp), &rec, &c));
    EXPECT_FAILED(ctx, c, &rec, "TLS handshake failed: the peer sent the alert ", true);
    struct recorder rec2 = {0};
    netproc_process *b = NULL;
    int rc = tls_client(ctx, "tls", port, false, tp_value(&tp), &rec2, &b);
    CHECK_ERROR_PREFIX(ctx, rc, NETPROC_E_ERROR, "error", "TLS handshake failed: the peer sent the alert ");
    CHECK_NULL(b);
    rec_free(&rec2);
    finish_client(ctx, c, &rec, &srv, fds);
}

/* The same server in TLS 1.3: the client's handshake ends before the server has seen its
 * (empty) certificate, so the refusal comes after "open\n" — as with GnuTLS in Emacs. The
 * connection must not survive it: no data, and a last sentinel that says it broke. */
static void client_certificate_missing_tls13(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port = start_s_server(
        &srv, "server.pem", "server.key",
        (const char *const[]){"-rev", "-Verify", "1", "-CAfile", tls_cert("ca.pem"), NULL});
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_trusting(&tp, "ca.pem");
    netproc_process *c = NULL;
    CHECK_OK(ctx, tls_client(ctx, "tls", port, true, tp_value(&tp), &rec, &c));
    CHECK_OK(ctx, netproc_process_send(c, (const uint8_t *)"refused\n", 8));
    CHECK(PUMP_UNTIL(ctx, !netproc_process_live_p(c), TLS_WAIT_MS));
    pump_for(ctx, 100);
    char seen[512];
    sentinels_of(&rec, c, seen, sizeof seen);
    const char *last = strrchr(seen, '|') ? strrchr(seen, '|') + 1 : seen;
    if (strcmp(last, "connection broken by remote peer\n") != 0 && strncmp(last, "failed with code ", 17) != 0)
        check_fail_(__FILE__, __LINE__, "sentinels \"%s\": the last one does not say the connection failed", seen);
    CHECK_EQ(rec_count(&rec, REC_FILTER, c), 0);
    PEER_EXPECT(ctx, &srv, "peer did not return a certificate", TLS_WAIT_MS);
    finish_client(ctx, c, &rec, &srv, fds);
}

/* With the client certificate, by :keylist files or by :key-pem/:cert-pem text, the
 * same server (TLS 1.3) opens the connection and sees the client's name. */
static void client_certificate_given(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port = start_s_server(
        &srv, "server.pem", "server.key",
        (const char *const[]){"-rev", "-Verify", "1", "-CAfile", tls_cert("ca.pem"), NULL});
    netproc_context *ctx = new_context();
    for (int pem = 0; pem < 2; pem++) {
        struct recorder rec = {0};
        struct tls_params tp;
        tp_trusting(&tp, "ca.pem");
        if (pem) tp_pem_identity(&tp, "client.key", "client.pem");
        else tp_keylist(&tp, "client.key", "client.pem");
        netproc_process *c = open_nowait(ctx, port, &tp, &rec);
        exchange(ctx, c, &rec, pem ? "by pem\n" : "by keylist\n", pem ? "mep yb\n" : "tsilyek yb\n");
        CHECK_STR_EQ(netproc_process_status(c), "open");
        CHECK_OK(ctx, netproc_delete_process(c));
        netproc_process_free(c);
        rec_free(&rec);
        tp_free(&tp);
    }
    PEER_EXPECT(ctx, &srv, "netproc test client", TLS_WAIT_MS);
    PEER_CHECK(&srv, strstr(srv.buf, "peer did not return a certificate") == NULL);
    finish_client(ctx, NULL, NULL, &srv, fds);
}

int main(void) {
    static const struct test_case cases[] = {
        {"nowait_client_to_openssl", nowait_client_to_openssl, 15},
        {"blocking_client_to_openssl", blocking_client_to_openssl, 15},
        {"nowait_send_before_the_handshake", nowait_send_before_the_handshake, 15},
        {"clients_to_gnutls_serv", clients_to_gnutls_serv, 15},
        {"tls12_forced_by_the_server", tls12_forced_by_the_server, 15},
        {"client_priority_and_alpn", client_priority_and_alpn, 15},
        {"clients_by_host_name", clients_by_host_name, 15},
        {"unknown_ca_fails", unknown_ca_fails, 15},
        {"expired_certificate_fails", expired_certificate_fails, 15},
        {"wrong_host_fails", wrong_host_fails, 15},
        {"self_signed_fails", self_signed_fails, 15},
        {"refused_server_hears_the_alert", refused_server_hears_the_alert, 15},
        {"system_trust_store_does_not_know_the_test_ca", system_trust_store_does_not_know_the_test_ca, 15},
        {"priority_excludes_the_servers_version", priority_excludes_the_servers_version, 15},
        {"verify_error_nil_opens_on_unknown_ca", verify_error_nil_opens_on_unknown_ca, 15},
        {"verify_error_list_picks_the_fatal_checks", verify_error_list_picks_the_fatal_checks, 15},
        {"verify_flags_64_accepts_expired", verify_flags_64_accepts_expired, 15},
        {"client_certificate_missing_tls12", client_certificate_missing_tls12, 15},
        {"client_certificate_missing_tls13", client_certificate_missing_tls13, 15},
        {"client_certificate_given", client_certificate_given, 15},
    };
    tls_certs_setup();
    int failed = run_tests(cases, sizeof cases / sizeof cases[0]);
    tls_certs_teardown();
    return failed;
}
