/* test_tls_server: a netproc TLS server (`:server t` with `:tls-parameters`, issue 13)
 * through the C API against real clients nobody here wrote: openssl s_client, gnutls-cli
 * and python3's ssl module. Bytes both ways, the negotiated protocol and ALPN in the
 * accepted connection's contact, client certificates required by :trustfiles, clients that
 * fail their handshake (the host hears nothing of them), and 64 MiB each way checked by
 * SHA-256 on both sides. The client side is test_tls.c. */
#include "check.h"
#include "pump.h"
#include "tls_peers.h"

/* ---- the server ------------------------------------------------------------------------ */

/* A netproc TLS server and what it saw. The log function keeps a reference to each accepted
 * connection, so the case may send on it. */
struct tls_server {
    struct recorder rec;
    netproc_process *server;
    netproc_process *accepted[8];
    size_t naccepted;
    long long port;
};

static void server_log(void *ud, netproc_process *server, netproc_process *client, const char *msg, size_t len) {
    struct tls_server *s = (struct tls_server *)ud;
    rec_log(&s->rec, server, client, msg, len);
    if (client != NULL && s->naccepted < 8) s->accepted[s->naccepted++] = netproc_process_ref(client);
}

/* Starts a server on 127.0.0.1 (a port the kernel picks) with `tls` as :tls-parameters and
 * `filter` for its connections (NULL: the recorder's). */
static void start_tls_server(netproc_context *ctx, struct tls_server *s, netproc_value tls, netproc_value *filter) {
    memset(s, 0, sizeof *s);
    netproc_arg args[] = {
        ARG(":name", STR("tls-srv")),
        ARG(":server", netproc_t()),
        ARG(":host", STR("127.0.0.1")),
        ARG(":service", netproc_t()),
        ARG(":filter", filter ? *filter : REC_FILTER_V(&s->rec)),
        ARG(":sentinel", REC_SENTINEL_V(&s->rec)),
        ARG(":log", netproc_log(server_log, s)),
        ARG(":tls-parameters", tls),
    };
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &s->server));
    CHECK_STR_EQ(netproc_process_status(s->server), "listen");
    s->port = contact_int(s->server, ":service");
    CHECK(s->port > 0);
}

/* The usual server: server.pem and its key, plus what `more` adds. */
static void server_params(struct tls_params *tp) {
    tp_init(tp);
    tp_keylist(tp, "server.key", "server.pem");
}

/* Connection `i` was announced as Emacs's server_accept_connection does, after its handshake:
 * the log call "accept from 127.0.0.1\n", then the connection's sentinel "open from
 * 127.0.0.1\n", then its data; and it says it speaks `protocol`. */
static netproc_process *check_accepted(struct tls_server *s, size_t i, const char *protocol) {
    CHECK(s->naccepted > i);
    netproc_process *conn = s->accepted[i];
    long logged = -1, opened = -1, data = -1;
    for (size_t k = 0, seen = 0; k < s->rec.count; k++)
        if (s->rec.events[k].kind == REC_LOG && seen++ == i) logged = (long)k;
    opened = rec_find(&s->rec, 0, REC_SENTINEL, conn, "open from 127.0.0.1\n");
    data = rec_find(&s->rec, 0, REC_FILTER, conn, NULL);
    CHECK(logged >= 0);
    CHECK_STR_EQ(s->rec.events[logged].data, "accept from 127.0.0.1\n");
    CHECK(s->rec.events[logged].client == conn);
    CHECK(opened > logged);
    CHECK(data < 0 || data > opened);
    CHECK_STR_EQ(netproc_process_status(conn), "open");
    char text[64];
    CHECK_STR_EQ(contact_text(conn, ":tls-protocol", text, sizeof text), protocol);
    return conn;
}

/* Waits until connection `i`'s filter has received exactly `line`. */
static void expect_line(netproc_context *ctx, struct tls_server *s, size_t i, const char *line) {
    CHECK(PUMP_UNTIL(ctx, s->naccepted > i, TLS_WAIT_MS));
    char got[4096];
    CHECK(PUMP_UNTIL(ctx, rec_output(&s->rec, s->accepted[i], got, sizeof got) >= strlen(line), TLS_WAIT_MS));
    pump_for(ctx, 20);
    rec_output(&s->rec, s->accepted[i], got, sizeof got);
    CHECK_STR_EQ(got, line);
}

static void send_text(netproc_context *ctx, netproc_process *p, const char *text) {
    CHECK_OK(ctx, netproc_process_send(p, (const uint8_t *)text, strlen(text)));
}

/* Deletes the server and its connections, stops the peer, checks nothing is left. */
static void finish_server(netproc_context *ctx, struct tls_server *s, struct peer_proc *peer, int fds) {
    if (peer != NULL) peer_stop(peer);
    for (size_t i = 0; i < s->naccepted; i++) {
        CHECK_OK(ctx, netproc_delete_process(s->accepted[i]));
        netproc_process_free(s->accepted[i]);
    }
    CHECK_OK(ctx, netproc_delete_process(s->server));
    netproc_process_free(s->server);
    CHECK_NO_LEAK(ctx, fds);
    rec_free(&s->rec);
}

/* ---- the clients ------------------------------------------------------------------------ */

/* openssl s_client to the server, checking its certificate against ca.pem and the name
 * localhost (-verify_return_error: a failed check ends the handshake), -quiet: it sends
 * its stdin and prints only what it receives; `extra` options NULL-terminated. */
static void start_s_client(struct peer_proc *p, long long port, const char *const *extra) {
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%lld", port);
    char *argv[32];
    size_t n = 0;
    argv[n++] = (char *)need_tool("openssl", "openssl");
    argv[n++] = (char *)"s_client";
    argv[n++] = (char *)"-connect";
    argv[n++] = target;
    argv[n++] = (char *)"-CAfile";
    argv[n++] = (char *)tls_cert("ca.pem");
    argv[n++] = (char *)"-verify_return_error";
    argv[n++] = (char *)"-verify_hostname";
    argv[n++] = (char *)"localhost";
    argv[n++] = (char *)"-servername";
    argv[n++] = (char *)"localhost";
    argv[n++] = (char *)"-quiet";
    for (; extra != NULL && *extra != NULL && n < 31; extra++) argv[n++] = (char *)*extra;
    argv[n] = NULL;
    peer_start(p, argv);
}

/* A python3 ssl client: ssl.create_default_context(cafile=ca.pem), server_hostname
 * "localhost". Modes: "line" sends a line and prints the reply; "alpn PROTO" offers PROTO
 * first and prints what was agreed; "bulk N SEED" sends N random bytes while the server
 * sends N of its own, and prints the SHA-256 of what went each way. */
static const char python_client[] =
    "import hashlib, random, socket, ssl, sys\n"
    "port, cafile, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]\n"
    "ctx = ssl.create_default_context(cafile=cafile)\n"
    "if mode == 'alpn':\n"
    "    ctx.set_alpn_protocols([sys.argv[4]])\n"
    "raw = socket.create_connection(('127.0.0.1', port), timeout=60)\n"
    "s = ctx.wrap_socket(raw, server_hostname='localhost')\n"
    "print('version', s.version(), flush=True)\n"
    "if mode == 'alpn':\n"
    "    print('alpn', s.selected_alpn_protocol(), flush=True)\n"
    "if mode in ('line', 'alpn'):\n"
    "    s.sendall(b'hello from python\\n')\n"
    "    data = b''\n"
    "    while not data.endswith(b'\\n'):\n"
    "        chunk = s.recv(4096)\n"
    "        if not chunk:\n"
    "            break\n"
    "        data += chunk\n"
    "    print('reply:', data.decode(), end='', flush=True)\n"
    "elif mode == 'bulk':\n"
    "    n, rng = int(sys.argv[4]), random.Random(int(sys.argv[5]))\n"
    "    sent, left = hashlib.sha256(), n\n"
    "    while left:\n"
    "        block = rng.randbytes(min(left, 1 << 20))\n"
    "        sent.update(block)\n"
    "        s.sendall(block)\n"
    "        left -= len(block)\n"
    "    print('sent', n, sent.hexdigest(), flush=True)\n"
    "    got, count = hashlib.sha256(), 0\n"
    "    while count < n:\n"
    "        chunk = s.recv(1 << 20)\n"
    "        if not chunk:\n"
    "            break\n"
    "        got.update(chunk)\n"
    "        count += len(chunk)\n"
    "    print('received', count, got.hexdigest(), flush=True)\n"
    "s.close()\n"
    "print('done', flush=True)\n";

static void start_python(struct peer_proc *p, long long port, const char *mode, const char *arg1, const char *arg2) {
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%lld", port);
    char *argv[] = {(char *)need_tool("python3", "python3"), (char *)"-c", (char *)python_client, port_text,
                    (char *)tls_cert("ca.pem"), (char *)mode, (char *)arg1, (char *)arg2, NULL};
    peer_start(p, argv);
}

/* ---- 5. real clients -------------------------------------------------------------------- */

/* openssl s_client sends a line: the server's connection is announced after its handshake,
 * its filter gets the line, and its reply reaches the client. */
static void s_client_talks_to_server(void) {
    int fds = fd_baseline();
    netproc_context *ctx = new_context();
    struct tls_server s;
    struct tls_params tp;
    server_params(&tp);
    start_tls_server(ctx, &s, tp_value(&tp), NULL);
    struct peer_proc cli;
    start_s_client(&cli, s.port, NULL);
    peer_write(&cli, "hello from s_client\n");
    expect_line(ctx, &s, 0, "hello from s_client\n");
    netproc_process *conn = check_accepted(&s, 0, "TLS1.3");
    send_text(ctx, conn, "reply from netproc\n");
    PEER_EXPECT(ctx, &cli, "reply from netproc\n", TLS_WAIT_MS);
    CHECK_EQ(s.naccepted, 1);
    finish_server(ctx, &s, &cli, fds);
}

/* The same with s_client -tls1_2: the connection says TLS1.2. */
static void s_client_tls12(void) {
    int fds = fd_baseline();
    netproc_context *ctx = new_context();
    struct tls_server s;
    struct tls_params tp;
    server_params(&tp);
    start_tls_server(ctx, &s, tp_value(&tp), NULL);
    struct peer_proc cli;
    start_s_client(&cli, s.port, (const char *const[]){"-tls1_2", NULL});
    peer_write(&cli, "twelve\n");
    expect_line(ctx, &s, 0, "twelve\n");
    netproc_process *conn = check_accepted(&s, 0, "TLS1.2");
    send_text(ctx, conn, "reply over 1.2\n");
    PEER_EXPECT(ctx, &cli, "reply over 1.2\n", TLS_WAIT_MS);
    finish_server(ctx, &s, &cli, fds);
}

/* python3's ssl module: a line each way; it reports TLSv1.3 and exits cleanly; the
 * connection then ends with "connection broken by remote peer\n" after its data. The
 * server's identity is given as :cert-pem/:key-pem text here. */
static void python_talks_to_server(void) {
    int fds = fd_baseline();
    netproc_context *ctx = new_context();
    struct tls_server s;
    struct tls_params tp;
    tp_init(&tp);
    tp_pem_identity(&tp, "server.key", "server.pem");
    start_tls_server(ctx, &s, tp_value(&tp), NULL);
    tp_free(&tp);
    struct peer_proc cli;
    start_python(&cli, s.port, "line", NULL, NULL);
    expect_line(ctx, &s, 0, "hello from python\n");
    netproc_process *conn = check_accepted(&s, 0, "TLS1.3");
    send_text(ctx, conn, "reply from netproc\n");
    PEER_EXPECT(ctx, &cli, "reply: reply from netproc\n", TLS_WAIT_MS);
    PEER_EXPECT(ctx, &cli, "done\n", TLS_WAIT_MS);
    PEER_CHECK(&cli, strstr(cli.buf, "version TLSv1.3\n") != NULL);
    PEER_CHECK(&cli, peer_wait_exit(ctx, &cli, TLS_WAIT_MS) && WIFEXITED(cli.status) && WEXITSTATUS(cli.status) == 0);
    CHECK(PUMP_UNTIL(ctx, !netproc_process_live_p(conn), TLS_WAIT_MS));
    pump_for(ctx, 30);
    char seen[256];
    CHECK_STR_EQ(sentinels_of(&s.rec, conn, seen, sizeof seen),
                 "open from 127.0.0.1\n|connection broken by remote peer\n");
    CHECK_STR_EQ(netproc_process_status(conn), "closed");
    finish_server(ctx, &s, &cli, fds);
}

/* gnutls-cli checking ca.pem and the name localhost: a line each way. */
static void gnutls_cli_talks_to_server(void) {
    int fds = fd_baseline();
    netproc_context *ctx = new_context();
    struct tls_server s;
    struct tls_params tp;
    server_params(&tp);
    start_tls_server(ctx, &s, tp_value(&tp), NULL);
    char port[16];
    snprintf(port, sizeof port, "%lld", s.port);
    char *argv[] = {(char *)need_tool("gnutls-cli", "gnutls-bin"), (char *)"--x509cafile", (char *)tls_cert("ca.pem"),
                    (char *)"--verify-hostname", (char *)"localhost", (char *)"-p", port, (char *)"127.0.0.1", NULL};
    struct peer_proc cli;
    peer_start(&cli, argv);
    PEER_EXPECT(ctx, &cli, "Handshake was completed", TLS_WAIT_MS);
    PEER_CHECK(&cli, strstr(cli.buf, "The certificate is trusted") != NULL);
    peer_write(&cli, "hello from gnutls-cli\n");
    expect_line(ctx, &s, 0, "hello from gnutls-cli\n");
    netproc_process *conn = check_accepted(&s, 0, "TLS1.3");
    send_text(ctx, conn, "reply from netproc\n");
    PEER_EXPECT(ctx, &cli, "reply from netproc\n", TLS_WAIT_MS);
    finish_server(ctx, &s, &cli, fds);
}

/* :alpn ("h2" "http/1.1") on the server: s_client -alpn h2 gets "h2" in the connection's
 * contact; python offering only http/1.1 gets "http/1.1", and says so itself. */
static void server_alpn(void) {
    int fds = fd_baseline();
    netproc_context *ctx = new_context();
    struct tls_server s;
    struct tls_params tp;
    server_params(&tp);
    tp_alpn(&tp, "h2", "http/1.1");
    start_tls_server(ctx, &s, tp_value(&tp), NULL);
    struct peer_proc cli;
    start_s_client(&cli, s.port, (const char *const[]){"-alpn", "h2", NULL});
    peer_write(&cli, "alpn\n");
    expect_line(ctx, &s, 0, "alpn\n");
    char text[64];
    CHECK_STR_EQ(contact_text(check_accepted(&s, 0, "TLS1.3"), ":alpn", text, sizeof text), "h2");
    peer_stop(&cli);

    start_python(&cli, s.port, "alpn", "http/1.1", NULL);
    expect_line(ctx, &s, 1, "hello from python\n");
    netproc_process *conn = check_accepted(&s, 1, "TLS1.3");
    CHECK_STR_EQ(contact_text(conn, ":alpn", text, sizeof text), "http/1.1");
    send_text(ctx, conn, "ok\n");
    PEER_EXPECT(ctx, &cli, "reply: ok\n", TLS_WAIT_MS);
    PEER_CHECK(&cli, strstr(cli.buf, "alpn http/1.1\n") != NULL);
    finish_server(ctx, &s, &cli, fds);
}

/* A server with :trustfiles requires client certificates signed by them. s_client without
 * one is refused (it exits) and the host hears nothing of it (no log, no sentinel, no
 * filter, nothing listed); s_client with client.pem is accepted and talks. */
static void server_requires_client_certificate(void) {
    int fds = fd_baseline();
    netproc_context *ctx = new_context();
    struct tls_server s;
    struct tls_params tp;
    server_params(&tp);
    tp_trust(&tp, "ca.pem");
    start_tls_server(ctx, &s, tp_value(&tp), NULL);
    struct peer_proc cli;
    start_s_client(&cli, s.port, NULL);
    peer_write(&cli, "without a certificate\n");
    PEER_CHECK(&cli, peer_wait_exit(ctx, &cli, TLS_WAIT_MS));
    PEER_CHECK(&cli, strstr(cli.buf, "without a certificate") == NULL);
    pump_for(ctx, 100);
    CHECK_EQ(s.rec.count, 0);
    CHECK_EQ(listed_processes(ctx), 1);
    peer_stop(&cli);

    start_s_client(&cli, s.port,
                   (const char *const[]){"-cert", tls_cert("client.pem"), "-key", tls_cert("client.key"), NULL});
    peer_write(&cli, "with a certificate\n");
    expect_line(ctx, &s, 0, "with a certificate\n");
    netproc_process *conn = check_accepted(&s, 0, "TLS1.3");
    send_text(ctx, conn, "welcome\n");
    PEER_EXPECT(ctx, &cli, "welcome\n", TLS_WAIT_MS);
    CHECK_EQ(s.naccepted, 1);
    finish_server(ctx, &s, &cli, fds);
}

/* The refused client is told why: the server sends the fatal alert rustls prepared
 * (certificate_required in TLS 1.3) before it closes, as RFC 8446 section 6.2 says it
 * should, rather than closing silently (the client would report only an unexpected EOF). */
static void refused_client_hears_the_alert(void) {
    int fds = fd_baseline();
    netproc_context *ctx = new_context();
    struct tls_server s;
    struct tls_params tp;
    server_params(&tp);
    tp_trust(&tp, "ca.pem");
    start_tls_server(ctx, &s, tp_value(&tp), NULL);
    struct peer_proc cli;
    start_s_client(&cli, s.port, NULL);
    peer_write(&cli, "without a certificate\n");
    PEER_CHECK(&cli, peer_wait_exit(ctx, &cli, TLS_WAIT_MS));
    PEER_CHECK(&cli, strstr(cli.buf, "alert certificate required") != NULL);
    CHECK_EQ(s.rec.count, 0);
    finish_server(ctx, &s, &cli, fds);
}

/* A client that speaks plain text to the TLS server: its connection is closed, the host
 * hears nothing of it, and the server goes on serving (s_client next). */
static void plaintext_client_goes_quietly(void) {
    int fds = fd_baseline();
    signal(SIGPIPE, SIG_DFL);
    netproc_context *ctx = new_context();
    struct tls_server s;
    struct tls_params tp;
    server_params(&tp);
    start_tls_server(ctx, &s, tp_value(&tp), NULL);
    int raw = raw_connect(AF_INET, s.port);
    CHECK_EQ(fcntl(raw, F_SETFL, O_NONBLOCK), 0);
    raw_send(raw, "GET / HTTP/1.0\r\n\r\n");
    uint8_t sink[4096];
    size_t got = 0;
    bool eof = false;
    uint64_t deadline = monotonic_ms() + TLS_WAIT_MS;
    while (!eof && monotonic_ms() < deadline) {
        ssize_t n = recv(raw, sink, sizeof sink, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) eof = true;
        else if (n > 0) got += (size_t)n;
        else CHECK(netproc_poll(ctx, 5) >= 0);
    }
    CHECK(eof);
    close(raw);
    pump_for(ctx, 50);
    CHECK_EQ(s.rec.count, 0);
    CHECK_EQ(listed_processes(ctx), 1);

    struct peer_proc cli;
    start_s_client(&cli, s.port, NULL);
    peer_write(&cli, "still serving\n");
    expect_line(ctx, &s, 0, "still serving\n");
    check_accepted(&s, 0, "TLS1.3");
    finish_server(ctx, &s, &cli, fds);
}

/* A client that connects and never starts its handshake holds nothing up: it is not
 * listed or announced, and s_client connecting after it is served. */
static void silent_client_does_not_block_others(void) {
    int fds = fd_baseline();
    netproc_context *ctx = new_context();
    struct tls_server s;
    struct tls_params tp;
    server_params(&tp);
    start_tls_server(ctx, &s, tp_value(&tp), NULL);
    int silent = raw_connect(AF_INET, s.port);
    pump_for(ctx, 100);
    struct peer_proc cli;
    start_s_client(&cli, s.port, NULL);
    peer_write(&cli, "not held up\n");
    expect_line(ctx, &s, 0, "not held up\n");
    netproc_process *conn = check_accepted(&s, 0, "TLS1.3");
    send_text(ctx, conn, "served\n");
    PEER_EXPECT(ctx, &cli, "served\n", TLS_WAIT_MS);
    CHECK_EQ(s.naccepted, 1);
    CHECK_EQ(rec_count(&s.rec, REC_LOG, NULL), 1);
    CHECK_EQ(listed_processes(ctx), 2);
    close(silent);
    pump_for(ctx, 50);
    CHECK_EQ(rec_count(&s.rec, REC_LOG, NULL), 1);
    finish_server(ctx, &s, &cli, fds);
}

/* ---- 6. 64 MiB each way ------------------------------------------------------------------ */

#define BULK_BYTES (64ull << 20)

struct bulk {
    struct sha256 received;
    uint64_t received_bytes;
    netproc_process *conn;
};

static void bulk_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct bulk *b = (struct bulk *)ud;
    CHECK(b->conn == NULL || b->conn == p);
    sha256_update(&b->received, data, len);
    b->received_bytes += len;
}

/* python3 sends 64 MiB of random bytes while the server sends 64 MiB of its own (at most
 * 4 MiB queued at a time); each side hashes what it sent and what it received, and the
 * digests must agree crosswise. */
static void bulk_64mib_python(void) {
    int fds = fd_baseline();
    netproc_context *ctx = new_context();
    struct tls_server s;
    struct bulk b;
    memset(&b, 0, sizeof b);
    sha256_init(&b.received);
    netproc_value filter = netproc_filter(bulk_filter, &b);
    struct tls_params tp;
    server_params(&tp);
    start_tls_server(ctx, &s, tp_value(&tp), &filter);
    char bytes_text[32];
    snprintf(bytes_text, sizeof bytes_text, "%llu", BULK_BYTES);
    struct peer_proc cli;
    start_python(&cli, s.port, "bulk", bytes_text, "20260613");
    CHECK(PUMP_UNTIL(ctx, s.naccepted == 1, TLS_WAIT_MS));
    b.conn = check_accepted(&s, 0, "TLS1.3");

    struct sha256 sent;
    sha256_init(&sent);
    uint64_t sent_bytes = 0;
    size_t chunk_size = 1u << 20;
    uint8_t *chunk = (uint8_t *)malloc(chunk_size);
    CHECK_NOT_NULL(chunk);
    uint64_t start = monotonic_ms(), deadline = start + scaled_ms(60000);
    for (unsigned i = 0; i < 10000000 && monotonic_ms() < deadline; i++) {
        while (sent_bytes < BULK_BYTES && netproc_process_output_pending(b.conn) < (4u << 20)) {
            fill_pattern(chunk, chunk_size, 13, sent_bytes);
            sha256_update(&sent, chunk, chunk_size);
            CHECK_OK(ctx, netproc_process_send(b.conn, chunk, chunk_size));
            sent_bytes += chunk_size;
        }
        peer_drain(&cli);
        if (sent_bytes == BULK_BYTES && b.received_bytes >= BULK_BYTES && strstr(cli.buf, "\ndone\n") != NULL) break;
        /* Python may have exited with its last bytes still in our socket: those come before
         * the connection's close, so wait for the close. */
        if (cli.exited && cli.out < 0 && !netproc_process_live_p(b.conn)) break;
        CHECK(netproc_poll(ctx, 5) >= 0);
    }
    uint64_t elapsed = monotonic_ms() - start;
    free(chunk);
    PEER_CHECK(&cli, strstr(cli.buf, "\ndone\n") != NULL);
    CHECK_EQ(sent_bytes, BULK_BYTES);
    CHECK_EQ(b.received_bytes, BULK_BYTES);
    char sent_hex[65], received_hex[65], want[160];
    sha256_hex(&sent, sent_hex);
    sha256_hex(&b.received, received_hex);
    snprintf(want, sizeof want, "sent %llu %s\n", BULK_BYTES, received_hex);
    PEER_CHECK(&cli, strstr(cli.buf, want) != NULL);
    snprintf(want, sizeof want, "received %llu %s\n", BULK_BYTES, sent_hex);
    PEER_CHECK(&cli, strstr(cli.buf, want) != NULL);
    CHECK_EQ(netproc_process_output_lost(b.conn), 0);
    printf("# 64 MiB each way through TLS in %llu ms\n", (unsigned long long)elapsed);
    finish_server(ctx, &s, &cli, fds);
}

int main(void) {
    static const struct test_case cases[] = {
        {"s_client_talks_to_server", s_client_talks_to_server, 15},
        {"s_client_tls12", s_client_tls12, 15},
        {"python_talks_to_server", python_talks_to_server, 15},
        {"gnutls_cli_talks_to_server", gnutls_cli_talks_to_server, 15},
        {"server_alpn", server_alpn, 15},
        {"server_requires_client_certificate", server_requires_client_certificate, 15},
        {"refused_client_hears_the_alert", refused_client_hears_the_alert, 15},
        {"plaintext_client_goes_quietly", plaintext_client_goes_quietly, 15},
        {"silent_client_does_not_block_others", silent_client_does_not_block_others, 15},
        {"bulk_64mib_python", bulk_64mib_python, 90},
    };
    tls_certs_setup();
    int failed = run_tests(cases, sizeof cases / sizeof cases[0]);
    tls_certs_teardown();
    return failed;
}
