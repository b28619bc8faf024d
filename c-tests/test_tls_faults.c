/* test_tls_faults: netproc TLS clients (`:tls-parameters`, issue 13) through the C API
 * against peers that do not complete a handshake: nothing listening, a server that closes
 * or resets the connection mid-handshake, one that answers in plain text, one that stays
 * silent; and a server that dies while the client sends. Each fails once, with a message
 * that names what happened, and never raises SIGPIPE. Working TLS servers are test_tls.c. */
#include "check.h"
#include "pump.h"
#include "tls_peers.h"

/* Nothing listens: the :nowait client gets one "failed with code 111\n" and exit status 111;
 * the blocking one fails with ECONNREFUSED. No SIGPIPE (it would end the case). */
static void refused_port(void) {
    int fds = fd_baseline();
    signal(SIGPIPE, SIG_DFL);
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_trusting(&tp, "ca.pem");
    long long port = closed_port();
    netproc_process *c = NULL;
    CHECK_OK(ctx, tls_client(ctx, "tls", port, true, tp_value(&tp), &rec, &c));
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_SENTINEL, c) > 0, TLS_WAIT_MS));
    pump_for(ctx, 100);
    char seen[256], status[64];
    CHECK_STR_EQ(sentinels_of(&rec, c, seen, sizeof seen), "failed with code 111\n");
    CHECK_STR_EQ(netproc_process_status(c), "failed");
    CHECK_STR_EQ(exit_status_text(c, status, sizeof status), "111");
    netproc_process *b = NULL;
    int rc = tls_client(ctx, "tls", port, false, tp_value(&tp), &rec, &b);
    CHECK_EQ(rc, NETPROC_E_FILE);
    CHECK_EQ(last_error_errno(ctx), ECONNREFUSED);
    CHECK_NULL(b);
    finish_client(ctx, c, &rec, NULL, fds);
}

/* Reads from a raw accepted socket (pumping ctx) until a TLS handshake record has begun:
 * the ClientHello, so that what follows happens mid-handshake. */
static void read_client_hello(netproc_context *ctx, int fd) {
    uint8_t hello[4096];
    size_t got = 0;
    peer_read(ctx, fd, hello, sizeof hello, &got, 5, false, TLS_WAIT_MS);
    CHECK(got >= 5);
    CHECK_EQ(hello[0], 0x16); /* handshake record */
}

/* A server that accepts, reads the ClientHello and closes (FIN): failed, with a message
 * that names it; the same with a reset. */
static void peer_closes_mid_handshake(void) {
    int fds = fd_baseline();
    signal(SIGPIPE, SIG_DFL);
    netproc_context *ctx = new_context();
    for (int reset = 0; reset < 2; reset++) {
        struct recorder rec = {0};
        struct tls_params tp;
        tp_trusting(&tp, "ca.pem");
        long long port;
        int listener = raw_tcp_listener(&port, 0);
        netproc_process *c = NULL;
        CHECK_OK(ctx, tls_client(ctx, "tls", port, true, tp_value(&tp), &rec, &c));
        int peer = raw_accept(ctx, listener, TLS_WAIT_MS);
        read_client_hello(ctx, peer);
        CHECK_STR_EQ(netproc_process_status(c), "connect");
        if (reset) raw_reset(peer);
        else close(peer);
        EXPECT_FAILED(ctx, c, &rec,
                      reset ? "TLS handshake failed: Connection reset by peer"
                            : "TLS handshake failed: the peer closed the connection",
                      false);
        close(listener);
        CHECK_OK(ctx, netproc_delete_process(c));
        netproc_process_free(c);
        rec_free(&rec);
    }
    CHECK_NO_LEAK(ctx, fds);
}

/* A blocking create against a server (a forked child) that accepts, reads the ClientHello
 * and closes: the create fails with the message. */
static void peer_closes_mid_handshake_blocking(void) {
    int fds = fd_baseline();
    signal(SIGPIPE, SIG_DFL);
    long long port;
    int listener = raw_tcp_listener(&port, 0);
    fflush(stdout);
    fflush(stderr);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        alarm(10);
        int fl = fcntl(listener, F_GETFL);
        fcntl(listener, F_SETFL, fl & ~O_NONBLOCK);
        int peer = accept(listener, NULL, NULL);
        uint8_t hello[4096];
        ssize_t n = peer >= 0 ? recv(peer, hello, sizeof hello, 0) : -1;
        _exit(n >= 5 && hello[0] == 0x16 && close(peer) == 0 ? 0 : 1);
    }
    close(listener);
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_trusting(&tp, "ca.pem");
    netproc_process *c = NULL;
    int rc = tls_client(ctx, "tls", port, false, tp_value(&tp), &rec, &c);
    CHECK_ERROR(ctx, rc, NETPROC_E_ERROR, "error", "TLS handshake failed: the peer closed the connection");
    CHECK_NULL(c);
    int status = 0;
    CHECK_EQ(waitpid(child, &status, 0), child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    finish_client(ctx, NULL, &rec, NULL, fds);
}

/* A server that answers in plain text: the handshake fails with a TLS message. */
static void plaintext_peer_fails(void) {
    int fds = fd_baseline();
    signal(SIGPIPE, SIG_DFL);
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_trusting(&tp, "ca.pem");
    long long port;
    int listener = raw_tcp_listener(&port, 0);
    netproc_process *c = NULL;
    CHECK_OK(ctx, tls_client(ctx, "tls", port, true, tp_value(&tp), &rec, &c));
    int peer = raw_accept(ctx, listener, TLS_WAIT_MS);
    read_client_hello(ctx, peer);
    raw_send(peer, "HTTP/1.0 400 Bad Request\r\n\r\n");
    EXPECT_FAILED(ctx, c, &rec, "TLS handshake failed: ", true);
    close(peer);
    close(listener);
    finish_client(ctx, c, &rec, NULL, fds);
}

/* A server that accepts and says nothing: the client stays `connect` with no sentinel (the
 * handshake time-out itself, Settings::tls_handshake_timeout, 30 s, has no C setter, so it
 * is not waited for here); deleting it then is clean. */
static void silent_peer_stays_connecting(void) {
    int fds = fd_baseline();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_trusting(&tp, "ca.pem");
    long long port;
    int listener = raw_tcp_listener(&port, 0);
    netproc_process *c = NULL;
    CHECK_OK(ctx, tls_client(ctx, "tls", port, true, tp_value(&tp), &rec, &c));
    int peer = raw_accept(ctx, listener, TLS_WAIT_MS);
    read_client_hello(ctx, peer);
    pump_for(ctx, 300);
    CHECK_STR_EQ(netproc_process_status(c), "connect");
    CHECK_EQ(rec.count, 0);
    close(peer);
    close(listener);
    finish_client(ctx, c, &rec, NULL, fds);
}

/* openssl s_server dies while the open client keeps sending: the sends that the socket
 * refuses (EPIPE, reset) raise no SIGPIPE; the client ends with one sentinel that says the
 * connection broke, and sends after that fail with "Process tls not running". */
static void server_dies_while_client_sends(void) {
    int fds = fd_baseline();
    signal(SIGPIPE, SIG_DFL);
    struct peer_proc srv;
    long long port = start_s_server(&srv, "server.pem", "server.key", (const char *const[]){"-rev", NULL});
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct tls_params tp;
    tp_trusting(&tp, "ca.pem");
    netproc_process *c = NULL;
    CHECK_OK(ctx, tls_client(ctx, "tls", port, true, tp_value(&tp), &rec, &c));
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, c, "open\n") >= 0, TLS_WAIT_MS));
    kill(srv.pid, SIGKILL);
    CHECK(peer_wait_exit(NULL, &srv, TLS_WAIT_MS));
    static uint8_t block[64 * 1024];
    memset(block, 'x', sizeof block);
    int rc = NETPROC_OK;
    uint64_t deadline = monotonic_ms() + TLS_WAIT_MS;
    for (unsigned i = 0; i < 10000 && rc == NETPROC_OK && monotonic_ms() < deadline; i++) {
        if (netproc_process_output_pending(c) < (1u << 20)) rc = netproc_process_send(c, block, sizeof block);
        CHECK(netproc_poll(ctx, 1) >= 0);
    }
    CHECK(PUMP_UNTIL(ctx, !netproc_process_live_p(c) && rec_count(&rec, REC_SENTINEL, c) >= 2, TLS_WAIT_MS));
    pump_for(ctx, 50);
    char seen[512];
    sentinels_of(&rec, c, seen, sizeof seen);
    if (strcmp(seen, "open\n|connection broken by remote peer\n") != 0)
        check_fail_(__FILE__, __LINE__, "sentinels \"%s\"", seen);
    rc = netproc_process_send(c, block, 16);
    CHECK_ERROR(ctx, rc, NETPROC_E_ERROR, "error", "Process tls not running");
    finish_client(ctx, c, &rec, &srv, fds);
}

int main(void) {
    static const struct test_case cases[] = {
        {"refused_port", refused_port, 15},
        {"peer_closes_mid_handshake", peer_closes_mid_handshake, 15},
        {"peer_closes_mid_handshake_blocking", peer_closes_mid_handshake_blocking, 15},
        {"plaintext_peer_fails", plaintext_peer_fails, 15},
        {"silent_peer_stays_connecting", silent_peer_stays_connecting, 15},
        {"server_dies_while_client_sends", server_dies_while_client_sends, 15},
    };
    tls_certs_setup();
    int failed = run_tests(cases, sizeof cases / sizeof cases[0]);
    tls_certs_teardown();
    return failed;
}
