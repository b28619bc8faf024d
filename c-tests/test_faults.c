/*
 * test_faults: faults (issue 7, item 3). Peers that reset mid-stream, half-close, send and
 * vanish, refuse, or accept and never read; running out of descriptors; callbacks that
 * delete their own process, their server or everything, also while the context is being
 * freed; a host that frees the context with live processes, queued output and connects in
 * flight. Each case asserts the sentinel messages and statuses that result, and ends with
 * no process listed and every descriptor closed. "No busy loop" is asserted by counting
 * (log calls and callbacks per poll turn), never by timing.
 */
#include "check.h"
#include "pump.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/un.h>

#define BROKEN "connection broken by remote peer\n"

/* ---- helpers ------------------------------------------------------------------ */

static void drop(netproc_process *p) {
    CHECK_EQ(netproc_delete_process(p), NETPROC_OK);
    netproc_process_free(p);
}

static void delete_all(netproc_context *ctx) {
    netproc_process *list[64];
    size_t count = 0;
    CHECK_OK(ctx, netproc_process_list(ctx, list, 64, &count));
    CHECK(count <= 64);
    for (size_t i = 0; i < count; i++) list[i] = netproc_process_ref(list[i]);
    for (size_t i = 0; i < count; i++) drop(list[i]);
}

static long long exit_status_int(netproc_process *p) {
    netproc_value v;
    CHECK_EQ(netproc_process_exit_status(p, &v), NETPROC_OK);
    long long n = v.kind == NETPROC_VALUE_INTEGER ? v.integer : -1;
    netproc_value_free(&v);
    return n;
}

/* A netproc client, recording into `rec`, connected to a raw listener; *peer is the
 * accepted raw socket (non-blocking). */
static netproc_process *client_to_raw_peer(netproc_context *ctx, struct recorder *rec, int *peer, int rcvbuf) {
    long long port = 0;
    int listener = raw_tcp_listener(&port, rcvbuf);
    netproc_process *client = start_client(ctx, "cli", port, rec);
    *peer = raw_accept(ctx, listener, scaled_ms(3000));
    close(listener);
    return client;
}

/* ---- peers that misbehave ------------------------------------------------------ */

/* The peer sends, then resets (SO_LINGER 0) while more data is in flight: what arrived
 * before the reset reaches the filter, then "connection broken by remote peer\n" exactly
 * once, status closed, exit status 256, out of the process list; sending then fails with
 * "Process cli not running". */
static void peer_resets_mid_stream(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    int peer;
    netproc_process *client = client_to_raw_peer(ctx, &rec, &peer, 0);
    raw_send(peer, "first part;");
    char got[4096];
    CHECK(PUMP_UNTIL(ctx, rec_output(&rec, client, got, sizeof got) == 11, scaled_ms(3000)));
    static char more[2048];
    memset(more, 'm', sizeof more);
    CHECK_EQ(send(peer, more, sizeof more, MSG_NOSIGNAL), (long long)sizeof more);
    raw_reset(peer);
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, client, BROKEN) >= 0, scaled_ms(3000)));
    pump_for(ctx, 50);
    size_t n = rec_output(&rec, client, got, sizeof got);
    CHECK(n >= 11 && n <= 11 + sizeof more); /* a prefix of what was sent, the first part in full */
    CHECK(strncmp(got, "first part;", 11) == 0);
    char s[256];
    CHECK_STR_EQ(sentinels_of(&rec, client, s, sizeof s), BROKEN);
    CHECK_STR_EQ(netproc_process_status(client), "closed");
    CHECK_EQ(exit_status_int(client), 256);
    CHECK(!in_process_list(ctx, client));
    CHECK_ERROR(ctx, netproc_process_send(client, (const uint8_t *)"x", 1), NETPROC_E_ERROR, "error",
                "Process cli not running");
    netproc_process_free(client);
    rec_free(&rec);
    CHECK_NO_LEAK(ctx, baseline);
}

/* The peer half-closes (shutdown SHUT_WR) and keeps reading. As in Emacs
 * (read_process_output), reading EOF ends the connection for the host: the data first, then
 * "connection broken by remote peer\n", status closed, exit 256. Emacs's sends complete
 * before they return, so everything it accepted reached the peer; netproc's queue does the
 * same: the socket stays open for writing until what was queued is written (within the
 * drain time), and only then does the peer read EOF. Nothing is lost. */
static void peer_half_closes(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    int peer;
    netproc_process *client = client_to_raw_peer(ctx, &rec, &peer, 64 * 1024);
    /* Fill the path to the peer so some output stays queued in netproc. */
    const size_t total = 8u << 20;
    uint8_t *data = malloc(total);
    CHECK_NOT_NULL(data);
    fill_pattern(data, total, 5, 0);
    CHECK_OK(ctx, netproc_process_send(client, data, total));
    pump_for(ctx, 50);
    size_t pending = netproc_process_output_pending(client);
    CHECK(pending > 0);

    raw_send(peer, "last words");
    CHECK_EQ(shutdown(peer, SHUT_WR), 0);
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, client, BROKEN) >= 0, scaled_ms(3000)));
    char got[64];
    CHECK_EQ(rec_output(&rec, client, got, sizeof got), 10);
    CHECK_STR_EQ(got, "last words");
    CHECK(rec_find(&rec, 0, REC_FILTER, client, NULL) < rec_find(&rec, 0, REC_SENTINEL, client, BROKEN));
    CHECK_STR_EQ(netproc_process_status(client), "closed");
    CHECK_EQ(exit_status_int(client), 256);
    CHECK_ERROR(ctx, netproc_process_send(client, (const uint8_t *)"x", 1), NETPROC_E_ERROR, "error",
                "Process cli not running");
    /* The peer drains everything that was accepted, in order, and then sees the end. */
    uint8_t *sink = malloc(total);
    CHECK_NOT_NULL(sink);
    size_t read_bytes = 0;
    bool eof = peer_read(ctx, peer, sink, total, &read_bytes, total, true, scaled_ms(5000));
    CHECK(eof);
    CHECK_EQ(read_bytes, total);
    CHECK(memcmp(sink, data, read_bytes) == 0);
    CHECK_EQ(netproc_process_output_pending(client), 0);
    CHECK_EQ(netproc_process_output_lost(client), 0);
    pump_for(ctx, 30);
    char s[256];
    CHECK_STR_EQ(sentinels_of(&rec, client, s, sizeof s), BROKEN);
    close(peer);
    free(sink);
    free(data);
    netproc_process_free(client);
    rec_free(&rec);
    CHECK_NO_LEAK(ctx, baseline);
}

/* A peer connects, sends 256 KiB and closes before the server has even accepted it: the server
 * logs "accept from 127.0.0.1\n", the connection gets "open from 127.0.0.1\n", every byte, then
 * "connection broken by remote peer\n" (data before close, as Emacs's read_process_output). */
static void peer_sends_and_vanishes(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    const size_t total = 256 * 1024;
    uint8_t *data = malloc(total);
    CHECK_NOT_NULL(data);
    fill_pattern(data, total, 9, 0);
    int peer = raw_connect(AF_INET, contact_int(server, ":service"));
    for (size_t off = 0; off < total;) {
        ssize_t n = send(peer, data + off, total - off, MSG_NOSIGNAL);
        CHECK(n > 0);
        off += (size_t)n;
    }
    close(peer);
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, NULL, BROKEN) >= 0, scaled_ms(5000)));
    long at_log = rec_find(&rec, 0, REC_LOG, server, "accept from 127.0.0.1\n");
    CHECK(at_log >= 0);
    netproc_process *acc = rec.events[at_log].client;
    long at_open = rec_find(&rec, 0, REC_SENTINEL, acc, "open from 127.0.0.1\n");
    long at_data = rec_find(&rec, 0, REC_FILTER, acc, NULL);
    long at_end = rec_find(&rec, 0, REC_SENTINEL, acc, BROKEN);
    CHECK(at_log < at_open && at_open < at_data && at_data < at_end);
    CHECK_EQ(rec.filter_bytes, total);
    for (size_t i = (size_t)at_end + 1; i < rec.count; i++) CHECK(rec.events[i].kind != REC_FILTER);
    char *got = malloc(total + 1);
    CHECK_NOT_NULL(got);
    CHECK_EQ(rec_output(&rec, acc, got, total + 1), total);
    CHECK(memcmp(got, data, total) == 0);
    char s[256];
    CHECK_STR_EQ(sentinels_of(&rec, acc, s, sizeof s), "open from 127.0.0.1\n|" BROKEN);
    CHECK_EQ(listed_processes(ctx), 1); /* the accepted connection is gone from the list */
    CHECK_STR_EQ(netproc_process_status(server), "listen");
    free(got);
    free(data);
    drop(server);
    rec_free(&rec);
    CHECK_NO_LEAK(ctx, baseline);
}

/* Refusal in every form: a TCP port nobody listens on and a unix socket file whose server
 * is gone, each blocking (file-error "make client process failed" "Connection refused" …,
 * nothing created) and :nowait (created in "connect", then exactly one sentinel "failed
 * with code 111\n", status failed, exit status 111, listed until deleted, then "deleted\n"). */
static void peer_refuses(void) {
    int baseline = fd_baseline();
    char dir[64], path[128], want[256];
    CHECK_NOT_NULL(make_temp_dir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/gone.sock", dir);
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    {
        netproc_arg s[] = {ARG(":name", STR("us")), ARG(":family", SYM("local")), ARG(":server", netproc_t()),
                           ARG(":service", STR(path))};
        netproc_process *gone = NULL;
        CHECK_OK(ctx, netproc_make_network_process(ctx, s, NARGS(s), &gone));
        drop(gone); /* the socket file stays, as in Emacs */
    }
    long long port = closed_port();
    for (int local = 0; local <= 1; local++) {
        netproc_arg blocking[] = {ARG(":name", STR("r")), local ? ARG(":family", SYM("local")) : ARG(":host", STR("127.0.0.1")),
                                  local ? ARG(":service", STR(path)) : ARG(":service", INT(port))};
        if (local)
            snprintf(want, sizeof want, "make client process failed: Connection refused, :name, r, :family, local, :service, %s", path);
        else
            snprintf(want, sizeof want, "make client process failed: Connection refused, :name, r, :host, 127.0.0.1, :service, %lld", port);
        netproc_process *p = NULL;
        CHECK_ERROR(ctx, netproc_make_network_process(ctx, blocking, NARGS(blocking), &p), NETPROC_E_FILE, "file-error", want);
        CHECK_NULL(p);
        CHECK_EQ(last_error_errno(ctx), ECONNREFUSED);
        CHECK_EQ(listed_processes(ctx), 0);

        netproc_arg nowait[] = {blocking[0], blocking[1], blocking[2], ARG(":nowait", netproc_t()),
                                ARG(":sentinel", REC_SENTINEL_V(&rec))};
        p = NULL;
        CHECK_OK(ctx, netproc_make_network_process(ctx, nowait, NARGS(nowait), &p));
        CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, p, NULL) >= 0, scaled_ms(3000)));
        pump_for(ctx, 30);
        char s[256];
        CHECK_STR_EQ(sentinels_of(&rec, p, s, sizeof s), "failed with code 111\n");
        CHECK_STR_EQ(netproc_process_status(p), "failed");
        CHECK(!netproc_process_live_p(p));
        CHECK_EQ(exit_status_int(p), 111);
        CHECK(in_process_list(ctx, p));
        CHECK_ERROR(ctx, netproc_process_send(p, (const uint8_t *)"x", 1), NETPROC_E_ERROR, "error", "Process r not running");
        CHECK_EQ(netproc_delete_process(p), NETPROC_OK);
        CHECK_STR_EQ(sentinels_of(&rec, p, s, sizeof s), "failed with code 111\n|deleted\n");
        CHECK_STR_EQ(netproc_process_status(p), "closed");
        netproc_process_free(p);
    }
    rec_free(&rec);
    CHECK_NO_LEAK(ctx, baseline);
    CHECK_EQ(remove_temp_dir(dir), 0);
}

/* A peer that accepts and never reads. Sends keep returning at once; once the kernel's
 * buffers are full every further byte stays queued, so output_pending grows by exactly what
 * is sent; the idle context asks for no wake-up (next timeout -1) and polls run no
 * callback (no busy loop), while another connection in the same context still echoes
 * within a bounded number of poll turns. Deleting keeps flushing in the background; the
 * peer closing without reading ends it with every unsent byte counted as lost. */
static void echo_back(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    (void)ud;
    netproc_process_send(p, data, len);
}

static void peer_never_reads(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    int peer;
    netproc_process *stuck = client_to_raw_peer(ctx, &rec, &peer, 16 * 1024);
    static uint8_t chunk[64 * 1024];
    size_t sent = 0;
    for (int i = 0; i < 64; i++) {
        CHECK_OK(ctx, netproc_process_send(stuck, chunk, sizeof chunk));
        sent += sizeof chunk;
        CHECK(netproc_poll(ctx, 0) >= 0);
    }
    /* Wait until the kernel takes no more: pending stays the same over 20 poll turns. */
    size_t pending = 0;
    int stable = 0;
    for (int turn = 0; turn < 2000 && stable < 20; turn++) {
        CHECK(netproc_poll(ctx, 5) >= 0);
        size_t now = netproc_process_output_pending(stuck);
        stable = now == pending ? stable + 1 : 0;
        pending = now;
    }
    CHECK_EQ(stable, 20);
    CHECK(pending > 0 && pending < sent);
    for (int i = 0; i < 16; i++) {
        CHECK_OK(ctx, netproc_process_send(stuck, chunk, sizeof chunk));
        CHECK_EQ(netproc_process_output_pending(stuck), pending + (size_t)(i + 1) * sizeof chunk);
    }
    pending = netproc_process_output_pending(stuck);

    /* Idle while stuck: nothing to do, nothing to wake for. */
    int timeout = 0;
    CHECK_OK(ctx, netproc_next_timeout(ctx, &timeout));
    CHECK_EQ(timeout, -1);
    int callbacks = 0;
    for (int turn = 0; turn < 200; turn++) callbacks += netproc_poll(ctx, 0);
    CHECK_EQ(callbacks, 0);
    CHECK_EQ(netproc_process_output_pending(stuck), pending);

    /* Still responsive: an echo over another connection in at most 200 poll turns. */
    netproc_arg srv_args[] = {ARG(":name", STR("echo")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
                              ARG(":filter", netproc_filter(echo_back, NULL))};
    netproc_process *echo = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, srv_args, NARGS(srv_args), &echo));
    netproc_process *other = start_client(ctx, "other", contact_int(echo, ":service"), &rec);
    CHECK_OK(ctx, netproc_process_send(other, (const uint8_t *)"ping", 4));
    char got[16];
    int turns = 0;
    while (turns < 200 && rec_output(&rec, other, got, sizeof got) < 4) {
        CHECK(netproc_poll(ctx, 50) >= 0);
        turns++;
    }
    CHECK_STR_EQ(got, "ping");
    CHECK_EQ(netproc_process_output_pending(stuck), pending);

    /* Delete: "deleted\n" at once, the queue flushes in the background; the peer leaves
     * without reading, and what never left is reported. */
    CHECK_OK(ctx, netproc_delete_process(stuck));
    char s[128];
    CHECK_STR_EQ(sentinels_of(&rec, stuck, s, sizeof s), "deleted\n");
    CHECK_EQ(netproc_process_output_pending(stuck), pending);
    raw_reset(peer);
    CHECK(PUMP_UNTIL(ctx, netproc_process_output_pending(stuck) == 0, scaled_ms(3000)));
    CHECK(netproc_process_output_lost(stuck) >= pending);
    CHECK(netproc_process_output_lost(stuck) <= sent + 16 * sizeof chunk);
    CHECK_STR_EQ(sentinels_of(&rec, stuck, s, sizeof s), "deleted\n");
    netproc_process_free(stuck);
    netproc_process_free(other);
    netproc_process_free(echo);
    delete_all(ctx);
    rec_free(&rec);
    CHECK_NO_LEAK(ctx, baseline);
}

/* ---- running out of descriptors -------------------------------------------------- */

struct fd_squeeze {
    struct rlimit saved;
    int fillers[256];
    int filled;
};

/* Lower the soft limit to a little above what is open and take every descriptor left. */
static void squeeze_descriptors(struct fd_squeeze *sq) {
    CHECK(getrlimit(RLIMIT_NOFILE, &sq->saved) == 0);
    struct rlimit low = {(rlim_t)count_open_fds() + 16, sq->saved.rlim_max};
    CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    sq->filled = 0;
    for (;;) {
        int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) {
            CHECK_EQ(errno, EMFILE);
            break;
        }
        CHECK(sq->filled < 256);
        sq->fillers[sq->filled++] = fd;
    }
}

static void release_descriptors(struct fd_squeeze *sq) {
    for (int i = 0; i < sq->filled; i++) close(sq->fillers[i]);
    sq->filled = 0;
    CHECK(setrlimit(RLIMIT_NOFILE, &sq->saved) == 0);
}

/* Out of descriptors with connections waiting: the log function gets "accept failed with
 * code24\n" (no space, as Emacs) with no client, but not once per poll turn as in Emacs's
 * busy loop: over 300 non-waiting poll turns at most one failure per ten turns is logged,
 * and the context asks to be woken later (a pause), not at once. Once descriptors are free
 * the waiting connections are accepted ("accept from", "open from") and carry data, and a
 * new client is served too. */
static void descriptors_run_out_then_accept_resumes(void) {
    const char *preload = getenv("LD_PRELOAD");
    if (preload && strstr(preload, "vgpreload")) SKIP_TEST("valgrind's accept() wrapper drops connections on EMFILE");
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "full", &rec);
    long long port = contact_int(server, ":service");
    int peers[3];
    for (int i = 0; i < 3; i++) peers[i] = raw_connect(AF_INET, port);

    struct fd_squeeze sq;
    squeeze_descriptors(&sq);
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_LOG, server) >= 1, scaled_ms(3000)));
    CHECK_EQ(rec.events[0].kind, REC_LOG);
    CHECK_STR_EQ(rec.events[0].data, "accept failed with code24\n");
    CHECK_NULL(rec.events[0].client);
    int timeout = -7;
    CHECK_OK(ctx, netproc_next_timeout(ctx, &timeout));
    CHECK(timeout > 0); /* paused: a timer, neither "now" nor "never" */
    size_t before = rec_count(&rec, REC_LOG, server);
    const int turns = 300;
    int callbacks = 0;
    for (int i = 0; i < turns; i++) callbacks += netproc_poll(ctx, 0);
    size_t logged = rec_count(&rec, REC_LOG, server) - before;
    CHECK_EQ((size_t)callbacks, logged);
    CHECK(logged <= (size_t)turns / 10);
    for (size_t i = 0; i < rec.count; i++) {
        CHECK_EQ(rec.events[i].kind, REC_LOG);
        CHECK_STR_EQ(rec.events[i].data, "accept failed with code24\n");
    }
    CHECK_EQ(listed_processes(ctx), 1);

    release_descriptors(&sq);
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_SENTINEL, NULL) == 3, scaled_ms(3000)));
    long first = rec_find(&rec, 0, REC_LOG, server, "accept from 127.0.0.1\n");
    CHECK(first >= 0);
    CHECK(rec_find(&rec, (size_t)first, REC_SENTINEL, rec.events[first].client, "open from 127.0.0.1\n") > first);
    raw_send(peers[0], "after");
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_FILTER, NULL, "after") >= 0, scaled_ms(3000)));
    netproc_process *late = start_client(ctx, "late", port, &rec);
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_SENTINEL, NULL) == 4, scaled_ms(3000)));
    drop(late);
    for (int i = 0; i < 3; i++) close(peers[i]);
    netproc_process_free(server);
    delete_all(ctx);
    rec_free(&rec);
    CHECK_NO_LEAK(ctx, baseline);
}

/* Out of descriptors, creating fails cleanly with Emacs's file-errors and errno 24:
 * "make client process failed: Too many open files, …" and "make server process failed:
 * Too many open files, …" with the contact plist; nothing is listed, nothing leaks, and
 * the same calls work once descriptors are free. */
static void descriptors_run_out_when_creating(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    netproc_arg fixture[] = {ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, fixture, NARGS(fixture), &server));
    long long port = contact_int(server, ":service");
    char want[256];
    struct fd_squeeze sq;
    squeeze_descriptors(&sq);
    netproc_arg client[] = {ARG(":name", STR("c")), ARG(":service", INT(port))};
    snprintf(want, sizeof want, "make client process failed: Too many open files, :name, c, :service, %lld", port);
    netproc_process *p = NULL;
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, client, NARGS(client), &p), NETPROC_E_FILE, "file-error", want);
    CHECK_EQ(last_error_errno(ctx), EMFILE);
    netproc_arg srv[] = {ARG(":name", STR("s")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, srv, NARGS(srv), &p), NETPROC_E_FILE, "file-error",
                "make server process failed: Too many open files, :name, s, :server, t, :service, t");
    netproc_arg udp[] = {ARG(":name", STR("d")), ARG(":type", SYM("datagram")), ARG(":service", INT(port))};
    snprintf(want, sizeof want, "make client process failed: Too many open files, :name, d, :type, datagram, :service, %lld", port);
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, udp, NARGS(udp), &p), NETPROC_E_FILE, "file-error", want);
    CHECK_NULL(p);
    CHECK_EQ(listed_processes(ctx), 1);
    release_descriptors(&sq);
    p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, client, NARGS(client), &p));
    CHECK_STR_EQ(netproc_process_status(p), "open");
    drop(p);
    drop(server);
    delete_all(ctx);
    CHECK_NO_LEAK(ctx, baseline);
}

/* ---- callbacks that delete ---------------------------------------------------------- */

struct server_killer {
    struct recorder *rec;
    netproc_process *server;
    int rc;
};

static void kill_server_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct server_killer *st = (struct server_killer *)ud;
    rec_filter(st->rec, p, data, len);
    st->rc = netproc_delete_process(st->server);
    netproc_process_send(p, (const uint8_t *)"bye", 3);
}

/* An accepted connection's filter deletes its own server: the server gets "deleted\n"
 * inside that call, the connection keeps working both ways, new connects are refused. */
static void callback_deletes_its_server(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct server_killer st = {&rec, NULL, -1};
    netproc_arg args[] = {ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
                          ARG(":filter", netproc_filter(kill_server_filter, &st)), ARG(":sentinel", REC_SENTINEL_V(&rec))};
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &st.server));
    long long port = contact_int(st.server, ":service");
    netproc_process *client = start_client(ctx, "cli", port, &rec);
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"hi", 2));
    char got[16];
    CHECK(PUMP_UNTIL(ctx, rec_output(&rec, client, got, sizeof got) == 3, scaled_ms(3000)));
    CHECK_STR_EQ(got, "bye");
    CHECK_EQ(st.rc, NETPROC_OK);
    char s[128];
    CHECK_STR_EQ(sentinels_of(&rec, st.server, s, sizeof s), "deleted\n");
    CHECK_STR_EQ(netproc_process_status(st.server), "closed");
    CHECK_EQ(listed_processes(ctx), 2); /* the client and the accepted connection */
    netproc_arg late[] = {ARG(":name", STR("late")), ARG(":service", INT(port))};
    netproc_process *p = NULL;
    CHECK_EQ(netproc_make_network_process(ctx, late, NARGS(late), &p), NETPROC_E_FILE);
    CHECK_EQ(last_error_errno(ctx), ECONNREFUSED);
    netproc_process_free(st.server);
    drop(client);
    delete_all(ctx);
    rec_free(&rec);
    CHECK_NO_LEAK(ctx, baseline);
}

struct teardown {
    struct recorder *rec;
    netproc_context *ctx;
    int calls, free_rc, make_rc, delete_failures;
    size_t listed_inside;
};

/* The first "deleted\n" during netproc_context_free deletes every process still listed,
 * tries to create a new one and to free the context again. */
static void teardown_sentinel(void *ud, netproc_process *p, const char *msg, size_t len) {
    struct teardown *st = (struct teardown *)ud;
    rec_sentinel(st->rec, p, msg, len);
    if (st->calls++ != 0) return;
    netproc_process *all[16];
    size_t count = 0;
    if (netproc_process_list(st->ctx, all, 16, &count) != NETPROC_OK || count > 16) {
        st->delete_failures++;
        return;
    }
    st->listed_inside = count;
    for (size_t i = 0; i < count; i++) all[i] = netproc_process_ref(all[i]);
    for (size_t i = 0; i < count; i++) {
        if (netproc_delete_process(all[i]) != NETPROC_OK) st->delete_failures++;
        netproc_process_free(all[i]);
    }
    netproc_arg args[] = {ARG(":name", STR("reborn")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    netproc_process *reborn = NULL;
    st->make_rc = netproc_make_network_process(st->ctx, args, NARGS(args), &reborn);
    if (reborn != NULL) netproc_process_free(reborn);
    st->free_rc = netproc_context_free(st->ctx);
}

/* A host frees the context and the first final sentinel deletes every other process,
 * creates a new one and calls netproc_context_free again: every process hears exactly one
 * "deleted\n", the nested free is refused with NETPROC_E_REENTRANT, whatever was created
 * inside is torn down too, and no descriptor is left. */
static void sentinel_deletes_everything_during_context_free(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct teardown st = {&rec, ctx, 1, -1, -1, 0, 0}; /* armed just before the free */
    netproc_value sentinel = netproc_sentinel(teardown_sentinel, &st);
    netproc_arg sargs[] = {ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
                           ARG(":sentinel", sentinel), ARG(":log", REC_LOG_V(&rec))};
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, sargs, NARGS(sargs), &server));
    long long port = contact_int(server, ":service");
    netproc_process *clients[3];
    for (int i = 0; i < 3; i++) {
        netproc_arg cargs[] = {ARG(":name", STR("c")), ARG(":service", INT(port)), ARG(":sentinel", sentinel)};
        CHECK_OK(ctx, netproc_make_network_process(ctx, cargs, NARGS(cargs), &clients[i]));
    }
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_LOG, server) == 3, scaled_ms(3000)));
    pump_for(ctx, 30);
    size_t listed = listed_processes(ctx);
    CHECK_EQ(listed, 7);
    size_t mark = rec.count;
    st.calls = 0;
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    CHECK_EQ(st.free_rc, NETPROC_E_REENTRANT);
    CHECK_EQ(st.delete_failures, 0);
    CHECK_EQ(st.listed_inside + 1, listed);
    /* Seven processes, seven "deleted\n", one each (plus the one made inside, if allowed). */
    size_t deleted = 0;
    for (size_t i = mark; i < rec.count; i++) {
        CHECK_EQ(rec.events[i].kind, REC_SENTINEL);
        CHECK_STR_EQ(rec.events[i].data, "deleted\n");
        for (size_t j = mark; j < i; j++) CHECK(rec.events[j].process != rec.events[i].process);
        deleted++;
    }
    CHECK_EQ(deleted, listed);
    CHECK_STR_EQ(netproc_process_status(server), "closed");
    for (int i = 0; i < 3; i++) {
        CHECK_STR_EQ(netproc_process_status(clients[i]), "closed");
        netproc_process_free(clients[i]);
    }
    netproc_process_free(server);
    rec_free(&rec);
    CHECK_NO_LEAK(NULL, baseline);
}

/* ---- a host that frees the context with everything in flight ---------------------------- */

/* netproc_context_free with a listening server, an accepted connection, a stopped client,
 * a client with megabytes queued to a peer that does not read, a :nowait connect still in
 * progress to a listener that never accepts, and a :nowait lookup still pending: each gets
 * exactly one "deleted\n", newest first; the handles then say "closed"; the queued bytes
 * that were dropped are counted as lost; every descriptor is closed. */
static void context_free_with_everything_in_flight(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    long long port = contact_int(server, ":service");
    netproc_arg stopped_args[] = {ARG(":name", STR("stopped")), ARG(":service", INT(port)), ARG(":stop", netproc_t()),
                                  ARG(":sentinel", REC_SENTINEL_V(&rec))};
    netproc_process *stopped = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, stopped_args, NARGS(stopped_args), &stopped));
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_LOG, server) == 1, scaled_ms(3000)));
    netproc_process *accepted = netproc_process_ref(rec.events[rec_find(&rec, 0, REC_LOG, server, NULL)].client);
    int peer;
    netproc_process *queued = client_to_raw_peer(ctx, &rec, &peer, 16 * 1024);
    const size_t total = 4u << 20;
    uint8_t *data = calloc(1, total);
    CHECK_NOT_NULL(data);
    CHECK_OK(ctx, netproc_process_send(queued, data, total));
    CHECK(netproc_process_output_pending(queued) > 0);
    long long silent_port = 0;
    int silent = raw_tcp_listener(&silent_port, 0); /* never accepts: the kernel completes the connect */
    netproc_arg connecting_args[] = {ARG(":name", STR("connecting")), ARG(":service", INT(silent_port)),
                                     ARG(":nowait", netproc_t()), ARG(":sentinel", REC_SENTINEL_V(&rec))};
    netproc_process *connecting = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, connecting_args, NARGS(connecting_args), &connecting));
    netproc_arg lookup_args[] = {ARG(":name", STR("resolving")), ARG(":host", STR("localhost")), ARG(":service", INT(port)),
                                 ARG(":nowait", netproc_t()), ARG(":sentinel", REC_SENTINEL_V(&rec))};
    netproc_process *resolving = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, lookup_args, NARGS(lookup_args), &resolving));

    netproc_process *order[8];
    size_t count = 0;
    CHECK_OK(ctx, netproc_process_list(ctx, order, 8, &count));
    CHECK(count == 6 || count == 7); /* the lookup may already have connected and been accepted */
    for (size_t i = 0; i < count; i++) order[i] = netproc_process_ref(order[i]);
    size_t mark = rec.count;
    uint64_t pending = netproc_process_output_pending(queued);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);

    CHECK_EQ(rec.count - mark, count);
    for (size_t i = 0; i < count; i++) {
        CHECK_EQ(rec.events[mark + i].kind, REC_SENTINEL);
        CHECK(rec.events[mark + i].process == order[i]); /* newest first, as listed */
        CHECK_STR_EQ(rec.events[mark + i].data, "deleted\n");
        CHECK_STR_EQ(netproc_process_status(order[i]), "closed");
        netproc_process_free(order[i]);
    }
    CHECK_EQ(netproc_process_output_pending(queued), 0);
    CHECK(netproc_process_output_lost(queued) >= pending);
    CHECK(netproc_process_output_lost(queued) <= total);
    /* The peer sees the end of the stream. */
    uint8_t *sink = malloc(total);
    CHECK_NOT_NULL(sink);
    size_t got = 0;
    uint64_t deadline = monotonic_ms() + scaled_ms(5000);
    bool ended = false;
    while (!ended && monotonic_ms() < deadline) {
        ssize_t n = recv(peer, sink + got, total - got, MSG_DONTWAIT);
        if (n > 0) got += (size_t)n;
        else if (n == 0 || errno == ECONNRESET) ended = true;
        else sleep_ms(1);
    }
    CHECK(ended);
    CHECK(got + netproc_process_output_lost(queued) <= total);
    free(sink);
    free(data);
    close(peer);
    close(silent);
    netproc_process_free(resolving);
    netproc_process_free(connecting);
    netproc_process_free(queued);
    netproc_process_free(accepted);
    netproc_process_free(stopped);
    netproc_process_free(server);
    rec_free(&rec);
    CHECK_NO_LEAK(NULL, baseline);
}

int main(void) {
    static const struct test_case cases[] = {
        {"peer_resets_mid_stream", peer_resets_mid_stream, 10},
        {"peer_half_closes", peer_half_closes, 20},
        {"peer_sends_and_vanishes", peer_sends_and_vanishes, 10},
        {"peer_refuses", peer_refuses, 10},
        {"peer_never_reads", peer_never_reads, 20},
        {"descriptors_run_out_then_accept_resumes", descriptors_run_out_then_accept_resumes, 10},
        {"descriptors_run_out_when_creating", descriptors_run_out_when_creating, 10},
        {"callback_deletes_its_server", callback_deletes_its_server, 10},
        {"sentinel_deletes_everything_during_context_free", sentinel_deletes_everything_during_context_free, 10},
        {"context_free_with_everything_in_flight", context_free_with_everything_in_flight, 20},
    };
    return run_tests(cases, NARGS(cases));
}
