/* test_tls_session: the life of an open netproc TLS client (`:tls-parameters`, issue 13)
 * through the C API, against real servers nobody here wrote (openssl s_server, a python3
 * ssl server): the end of the session both ways (close_notify on process-send-eof and on
 * delete-process, a server's close_notify answered), stop/continue and a filter of t
 * holding decrypted input, and 64 MiB each way with a python ssl server, checked by
 * SHA-256 on both sides. Opening and failing are test_tls.c and test_tls_faults.c. */
#include "check.h"
#include "pump.h"
#include "tls_peers.h"

/* ---- a python3 ssl server ---------------------------------------------------------------- */

/* ssl.create_default_context(Purpose.CLIENT_AUTH) with server.pem, on 127.0.0.1 with a port
 * the kernel picks (it prints "port N"), for one connection. Modes: "close" answers one
 * line with "bye: LINE", then ends the session with close_notify (unwrap, which waits for
 * the client's close_notify in turn) and prints "unwrapped"; "bulk N SEED" sends N random
 * bytes while the client sends N, and prints the SHA-256 of what went each way. */
static const char python_server[] =
    "import hashlib, random, socket, ssl, sys\n"
    "cert, key, mode = sys.argv[1], sys.argv[2], sys.argv[3]\n"
    "ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)\n"
    "ctx.load_cert_chain(cert, key)\n"
    "ls = socket.socket()\n"
    "ls.bind(('127.0.0.1', 0))\n"
    "ls.listen(1)\n"
    "print('port', ls.getsockname()[1], flush=True)\n"
    "conn, _ = ls.accept()\n"
    "ls.close()\n"
    "conn.settimeout(60)\n"
    "s = ctx.wrap_socket(conn, server_side=True)\n"
    "print('version', s.version(), flush=True)\n"
    "if mode == 'close':\n"
    "    data = b''\n"
    "    while not data.endswith(b'\\n'):\n"
    "        chunk = s.recv(4096)\n"
    "        if not chunk:\n"
    "            break\n"
    "        data += chunk\n"
    "    s.sendall(b'bye: ' + data)\n"
    "    raw = s.unwrap()\n"
    "    print('unwrapped', flush=True)\n"
    "    raw.close()\n"
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
    "    s.close()\n"
    "print('done', flush=True)\n";

/* Starts the python server; returns its port. */
static long long start_python_server(struct peer_proc *p, const char *mode, const char *arg1, const char *arg2) {
    char *argv[] = {(char *)need_tool("python3", "python3"), (char *)"-c", (char *)python_server,
                    (char *)tls_cert("server.pem"), (char *)tls_cert("server.key"), (char *)mode, (char *)arg1,
                    (char *)arg2, NULL};
    peer_start(p, argv);
    PEER_EXPECT(NULL, p, "port ", TLS_WAIT_MS);
    const char *at = strstr(p->buf, "port ");
    for (unsigned i = 0; i < 1000 && strchr(at, '\n') == NULL; i++) {
        peer_step_(NULL, p);
        peer_drain(p);
        at = strstr(p->buf, "port ");
    }
    long long port = strtoll(at + 5, NULL, 10);
    PEER_CHECK(p, port > 0 && port < 65536);
    return port;
}

/* ---- helpers ------------------------------------------------------------------------------ */

/* A :nowait client trusting ca.pem, checking "localhost", open (one "open\n"). */
static netproc_process *open_client(netproc_context *ctx, long long port, struct recorder *rec) {
    struct tls_params tp;
    tp_trusting(&tp, "ca.pem");
    netproc_process *c = NULL;
    CHECK_OK(ctx, tls_client(ctx, "tls", port, true, tp_value(&tp), rec, &c));
    CHECK(PUMP_UNTIL(ctx, rec_count(rec, REC_SENTINEL, c) > 0, TLS_WAIT_MS));
    char seen[256];
    CHECK_STR_EQ(sentinels_of(rec, c, seen, sizeof seen), "open\n");
    return c;
}

/* Waits until the client's filter has received exactly `text` in all. */
static void expect_output(netproc_context *ctx, netproc_process *c, struct recorder *rec, const char *text) {
    char got[4096];
    CHECK(PUMP_UNTIL(ctx, rec_output(rec, c, got, sizeof got) >= strlen(text), TLS_WAIT_MS));
    pump_for(ctx, 20);
    rec_output(rec, c, got, sizeof got);
    CHECK_STR_EQ(got, text);
}

/* The client is closed by its peer: "open\n", then "connection broken by remote peer\n"
 * after all its input; status closed, exit status 256. */
static void expect_peer_closed(netproc_context *ctx, netproc_process *c, struct recorder *rec) {
    CHECK(PUMP_UNTIL(ctx, rec_count(rec, REC_SENTINEL, c) >= 2, TLS_WAIT_MS));
    pump_for(ctx, 50);
    char seen[256], status[32];
    CHECK_STR_EQ(sentinels_of(rec, c, seen, sizeof seen), "open\n|connection broken by remote peer\n");
    long closed = rec_find(rec, 0, REC_SENTINEL, c, "connection broken by remote peer\n");
    for (size_t i = (size_t)closed; i < rec->count; i++) CHECK(rec->events[i].kind != REC_FILTER);
    CHECK_STR_EQ(netproc_process_status(c), "closed");
    CHECK_STR_EQ(exit_status_text(c, status, sizeof status), "256");
}

/* ---- the end of a session ------------------------------------------------------------------ */

/* process-send-eof ends the session with close_notify after the output queued before it:
 * s_server -rev answers the line, then reads a clean end ("CONNECTION CLOSED", no
 * "unexpected eof") and closes, which the client hears after the answer. */
static void send_eof_sends_close_notify(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port = start_s_server(&srv, "server.pem", "server.key", (const char *const[]){"-rev", NULL});
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *c = open_client(ctx, port, &rec);
    CHECK_OK(ctx, netproc_process_send(c, (const uint8_t *)"last line\n", 10));
    CHECK_OK(ctx, netproc_process_send_eof(c));
    expect_output(ctx, c, &rec, "enil tsal\n");
    PEER_EXPECT(ctx, &srv, "CONNECTION CLOSED", TLS_WAIT_MS);
    expect_peer_closed(ctx, c, &rec);
    PEER_CHECK(&srv, strstr(srv.buf, "unexpected eof") == NULL);
    finish_client(ctx, c, &rec, &srv, fds);
}

/* delete-process on an open TLS client sends close_notify before the socket closes: the
 * server reads a clean end, not a truncation. */
static void delete_sends_close_notify(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port = start_s_server(&srv, "server.pem", "server.key", (const char *const[]){"-rev", NULL});
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *c = open_client(ctx, port, &rec);
    CHECK_OK(ctx, netproc_process_send(c, (const uint8_t *)"ping\n", 5));
    expect_output(ctx, c, &rec, "gnip\n");
    CHECK_OK(ctx, netproc_delete_process(c));
    PEER_EXPECT(ctx, &srv, "CONNECTION CLOSED", TLS_WAIT_MS);
    PEER_CHECK(&srv, strstr(srv.buf, "unexpected eof") == NULL);
    finish_client(ctx, c, &rec, &srv, fds);
}

/* A server that ends the session with close_notify (python's unwrap): the client gets the
 * data sent before it, then "connection broken by remote peer\n", and answers with its own
 * close_notify, which unwrap waits for. */
static void server_close_notify_is_answered(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port = start_python_server(&srv, "close", NULL, NULL);
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *c = open_client(ctx, port, &rec);
    CHECK_OK(ctx, netproc_process_send(c, (const uint8_t *)"hi\n", 3));
    expect_output(ctx, c, &rec, "bye: hi\n");
    expect_peer_closed(ctx, c, &rec);
    PEER_EXPECT(ctx, &srv, "unwrapped\n", TLS_WAIT_MS);
    PEER_EXPECT(ctx, &srv, "done\n", TLS_WAIT_MS);
    PEER_CHECK(&srv, strstr(srv.buf, "version TLSv1.3\n") != NULL);
    finish_client(ctx, c, &rec, &srv, fds);
}

/* ---- held input ------------------------------------------------------------------------------ */

/* stop-process holds what arrives (sending still works); continue-process delivers it. The
 * same with a filter of t, then a real filter again. */
static void stop_and_filter_t_hold_decrypted_input(void) {
    int fds = fd_baseline();
    struct peer_proc srv;
    long long port = start_s_server(&srv, "server.pem", "server.key", (const char *const[]){"-rev", NULL});
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *c = open_client(ctx, port, &rec);

    CHECK_OK(ctx, netproc_stop_process(c));
    CHECK_STR_EQ(netproc_process_status(c), "stop");
    CHECK_OK(ctx, netproc_process_send(c, (const uint8_t *)"held\n", 5));
    pump_for(ctx, 300);
    CHECK_EQ(rec_count(&rec, REC_FILTER, c), 0);
    CHECK_OK(ctx, netproc_continue_process(c));
    expect_output(ctx, c, &rec, "dleh\n");

    netproc_value t = netproc_t();
    CHECK_OK(ctx, netproc_set_process_filter(c, &t));
    CHECK_OK(ctx, netproc_process_send(c, (const uint8_t *)"again\n", 6));
    pump_for(ctx, 300);
    CHECK_EQ(rec_count(&rec, REC_FILTER, c), 1);
    netproc_value filter = REC_FILTER_V(&rec);
    CHECK_OK(ctx, netproc_set_process_filter(c, &filter));
    expect_output(ctx, c, &rec, "dleh\nniaga\n");
    CHECK_STR_EQ(netproc_process_status(c), "open");
    finish_client(ctx, c, &rec, &srv, fds);
}

/* ---- 64 MiB each way -------------------------------------------------------------------------- */

#define BULK_BYTES (64ull << 20)

struct bulk {
    struct sha256 received;
    uint64_t received_bytes;
};

static void bulk_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    (void)p;
    struct bulk *b = (struct bulk *)ud;
    sha256_update(&b->received, data, len);
    b->received_bytes += len;
}

/* A netproc client and a python ssl server send each other 64 MiB at once (the client at
 * most 4 MiB queued at a time); each side hashes what it sent and received, and the
 * digests must agree crosswise. */
static void bulk_64mib_to_python_server(void) {
    int fds = fd_baseline();
    char bytes_text[32];
    snprintf(bytes_text, sizeof bytes_text, "%llu", BULK_BYTES);
    struct peer_proc srv;
    long long port = start_python_server(&srv, "bulk", bytes_text, "19");
    netproc_context *ctx = new_context();
    struct bulk b;
    memset(&b, 0, sizeof b);
    sha256_init(&b.received);
    struct tls_params tp;
    tp_trusting(&tp, "ca.pem");
    netproc_arg args[] = {
        ARG(":name", STR("bulk")),
        ARG(":host", STR("127.0.0.1")),
        ARG(":service", INT(port)),
        ARG(":nowait", netproc_t()),
        ARG(":filter", netproc_filter(bulk_filter, &b)),
        ARG(":tls-parameters", tp_value(&tp)),
    };
    netproc_process *c = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &c));

    struct sha256 sent;
    sha256_init(&sent);
    uint64_t sent_bytes = 0;
    size_t chunk_size = 1u << 20;
    uint8_t *chunk = (uint8_t *)malloc(chunk_size);
    CHECK_NOT_NULL(chunk);
    uint64_t start = monotonic_ms(), deadline = start + scaled_ms(60000);
    for (unsigned i = 0; i < 10000000 && monotonic_ms() < deadline; i++) {
        while (sent_bytes < BULK_BYTES && netproc_process_output_pending(c) < (4u << 20)) {
            fill_pattern(chunk, chunk_size, 29, sent_bytes);
            sha256_update(&sent, chunk, chunk_size);
            CHECK_OK(ctx, netproc_process_send(c, chunk, chunk_size));
            sent_bytes += chunk_size;
        }
        peer_drain(&srv);
        if (sent_bytes == BULK_BYTES && b.received_bytes >= BULK_BYTES && strstr(srv.buf, "\ndone\n") != NULL) break;
        /* The server may have exited with its last bytes still in our socket: those come
         * before the connection's close, so wait for the close. */
        if (srv.exited && srv.out < 0 && !netproc_process_live_p(c)) break;
        CHECK(netproc_poll(ctx, 5) >= 0);
    }
    uint64_t elapsed = monotonic_ms() - start;
    free(chunk);
    PEER_CHECK(&srv, strstr(srv.buf, "\ndone\n") != NULL);
    CHECK_EQ(sent_bytes, BULK_BYTES);
    CHECK_EQ(b.received_bytes, BULK_BYTES);
    char sent_hex[65], received_hex[65], want[160];
    sha256_hex(&sent, sent_hex);
    sha256_hex(&b.received, received_hex);
    snprintf(want, sizeof want, "sent %llu %s\n", BULK_BYTES, received_hex);
    PEER_CHECK(&srv, strstr(srv.buf, want) != NULL);
    snprintf(want, sizeof want, "received %llu %s\n", BULK_BYTES, sent_hex);
    PEER_CHECK(&srv, strstr(srv.buf, want) != NULL);
    CHECK_EQ(netproc_process_output_lost(c), 0);
    printf("# 64 MiB each way through TLS in %llu ms\n", (unsigned long long)elapsed);
    peer_stop(&srv);
    CHECK_OK(ctx, netproc_delete_process(c));
    netproc_process_free(c);
    CHECK_NO_LEAK(ctx, fds);
}

int main(void) {
    static const struct test_case cases[] = {
        {"send_eof_sends_close_notify", send_eof_sends_close_notify, 15},
        {"delete_sends_close_notify", delete_sends_close_notify, 15},
        {"server_close_notify_is_answered", server_close_notify_is_answered, 15},
        {"stop_and_filter_t_hold_decrypted_input", stop_and_filter_t_hold_decrypted_input, 15},
        {"bulk_64mib_to_python_server", bulk_64mib_to_python_server, 90},
    };
    tls_certs_setup();
    int failed = run_tests(cases, sizeof cases / sizeof cases[0]);
    tls_certs_teardown();
    return failed;
}
