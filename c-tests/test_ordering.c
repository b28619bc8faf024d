/*
 * test_ordering.c — one ordered stream per process (issue 11): what a peer sends before
 * it closes reaches the filter while the process is still open; stopping a process holds
 * the rest of its stream, the close included; a coding change applies to the next bytes
 * delivered; each held datagram keeps its own sender; a deleted :nowait connect never
 * connects.
 */
#include "check.h"
#include "pump.h"

#include <fcntl.h>
#include <sys/select.h>
#include <sys/un.h>

static const char *const BROKEN = "connection broken by remote peer\n";

/* ---- a server whose filter answers every request, noting the status it saw ---------- */

struct answering {
    int calls;
    int sends_ok;
    char status_seen[32];
    struct recorder rec;
};

static void answer_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct answering *a = (struct answering *)ud;
    a->calls++;
    const char *status = netproc_process_status(p);
    snprintf(a->status_seen, sizeof a->status_seen, "%s", status ? status : "?");
    char reply[256];
    int n = snprintf(reply, sizeof reply, "reply to %.*s", (int)(len > 200 ? 200 : len), (const char *)data);
    if (netproc_process_send(p, (const uint8_t *)reply, (size_t)n) == NETPROC_OK) a->sends_ok++;
}

static netproc_process *answering_server(netproc_context *ctx, struct answering *a, const char *unix_path) {
    netproc_arg tcp[] = {
        ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
        ARG(":filter", netproc_filter(answer_filter, a)), ARG(":sentinel", REC_SENTINEL_V(&a->rec)),
    };
    netproc_arg local[] = {
        ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":family", SYM("local")),
        ARG(":service", STR(unix_path ? unix_path : "")),
        ARG(":filter", netproc_filter(answer_filter, a)), ARG(":sentinel", REC_SENTINEL_V(&a->rec)),
    };
    netproc_process *server = NULL;
    if (unix_path)
        CHECK_OK(ctx, netproc_make_network_process(ctx, local, NARGS(local), &server));
    else
        CHECK_OK(ctx, netproc_make_network_process(ctx, tcp, NARGS(tcp), &server));
    return server;
}

static int raw_unix_connect(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    CHECK_EQ(connect(fd, (const struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* A client sends a request and shuts down its writing side at once (as `nc -N` or an
 * HTTP/1.0 client does). The server's filter runs while the connection is `open`, its
 * reply is written, and only then does the close follow: the client reads the reply and
 * then EOF. `busy_first`: the host polls only after the request and the EOF have both
 * arrived, so they are read in one turn. */
static void half_close_gets_reply(bool use_unix, bool busy_first) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct answering a = {0};
    char dir[64], path[128] = "";
    if (use_unix) {
        CHECK_NOT_NULL(make_temp_dir(dir, sizeof dir));
        snprintf(path, sizeof path, "%s/s", dir);
    }
    netproc_process *server = answering_server(ctx, &a, use_unix ? path : NULL);
    int fd = use_unix ? raw_unix_connect(path) : raw_connect(AF_INET, contact_int(server, ":service"));
    raw_send(fd, "GET /\n");
    CHECK_EQ(shutdown(fd, SHUT_WR), 0);
    if (busy_first) sleep_ms(50);
    uint8_t got[256];
    size_t n = 0;
    bool eof = peer_read(ctx, fd, got, sizeof got - 1, &n, sizeof got - 1, true, scaled_ms(3000));
    got[n] = 0;
    CHECK(eof);
    CHECK_STR_EQ((const char *)got, "reply to GET /\n");
    CHECK_EQ(a.calls, 1);
    CHECK_EQ(a.sends_ok, 1);
    CHECK_STR_EQ(a.status_seen, "open");
    CHECK(PUMP_UNTIL(ctx, rec_find(&a.rec, 0, REC_SENTINEL, NULL, BROKEN) >= 0, scaled_ms(2000)));
    close(fd);
    netproc_delete_process(server);
    netproc_process_free(server);
    rec_free(&a.rec);
    if (use_unix) remove_temp_dir(dir);
    CHECK_NO_LEAK(ctx, baseline);
}

static void half_close_tcp(void) { half_close_gets_reply(false, false); }
static void half_close_tcp_busy_host(void) { half_close_gets_reply(false, true); }
static void half_close_unix(void) { half_close_gets_reply(true, false); }
static void half_close_unix_busy_host(void) { half_close_gets_reply(true, true); }

/* A real client nobody here wrote: `nc -N` sends its input, shuts down its writing side at
 * EOF of stdin, and prints what comes back. */
static void half_close_nc(void) {
    if (system("command -v nc >/dev/null 2>&1") != 0) CHECK(!"nc is not installed (Debian: netcat-openbsd)");
    netproc_context *ctx = new_context();
    struct answering a = {0};
    netproc_process *server = answering_server(ctx, &a, NULL);
    char command[128];
    snprintf(command, sizeof command, "printf 'HELLO\\n' | nc -N 127.0.0.1 %lld", contact_int(server, ":service"));
    FILE *nc = popen(command, "r");
    CHECK_NOT_NULL(nc);
    int fd = fileno(nc);
    uint8_t got[256];
    size_t n = 0;
    /* nc's stdout is a pipe; peer_read reads any descriptor with recv, so read it here. */
    uint64_t deadline = monotonic_ms() + scaled_ms(5000);
    for (;;) {
        CHECK(monotonic_ms() < deadline);
        CHECK(netproc_poll(ctx, 10) >= 0);
        fd_set set;
        FD_ZERO(&set);
        FD_SET(fd, &set);
        struct timeval tv = {0, 1000};
        if (select(fd + 1, &set, NULL, NULL, &tv) > 0) {
            ssize_t r = read(fd, got + n, sizeof got - 1 - n);
            if (r <= 0) break;
            n += (size_t)r;
        }
    }
    got[n] = 0;
    CHECK_EQ(pclose(nc), 0);
    CHECK_STR_EQ((const char *)got, "reply to HELLO\n");
    CHECK_STR_EQ(a.status_seen, "open");
    netproc_delete_process(server);
    netproc_process_free(server);
    rec_free(&a.rec);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- a filter that stops its own process ------------------------------------------ */

struct stopper {
    struct recorder rec;
    bool use_filter_t;
    bool stopped_once;
};

static void stopping_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct stopper *s = (struct stopper *)ud;
    rec_filter(&s->rec, p, data, len);
    if (!s->stopped_once) {
        s->stopped_once = true;
        if (s->use_filter_t) {
            netproc_value t = netproc_t();
            CHECK_EQ(netproc_set_process_filter(p, &t), NETPROC_OK);
        } else {
            CHECK_EQ(netproc_stop_process(p), NETPROC_OK);
        }
    }
}

/* The peer sends everything and closes before the host polls. The filter stops its own
 * process on its first call; whatever was read after that waits, the close included
 * (status stays `stop`, no sentinel). After continue-process (or a real filter again)
 * every remaining byte arrives, in order, and then the closing sentinel. */
static void stop_holds_the_rest(size_t read_max, size_t total, bool use_filter_t) {
    netproc_context *ctx = new_context();
    if (read_max) CHECK_OK(ctx, netproc_context_set_read_max(ctx, read_max));
    struct stopper s = {.use_filter_t = use_filter_t};
    long long port;
    int listener = raw_listen(&port);
    netproc_arg args[] = {
        ARG(":name", STR("cli")), ARG(":service", INT(port)),
        ARG(":filter", netproc_filter(stopping_filter, &s)), ARG(":sentinel", REC_SENTINEL_V(&s.rec)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));
    int peer = raw_accept(ctx, listener, scaled_ms(2000));
    uint8_t *data = malloc(total);
    CHECK_NOT_NULL(data);
    fill_pattern(data, total, 11, 0);
    raw_send_bytes(peer, data, total);
    close(peer);
    sleep_ms(30);
    CHECK(PUMP_UNTIL(ctx, s.stopped_once, scaled_ms(2000)));
    pump_for(ctx, 100);
    CHECK_EQ(rec_count(&s.rec, REC_FILTER, client), 1);
    CHECK_EQ(rec_count(&s.rec, REC_SENTINEL, client), 0);
    CHECK_STR_EQ(netproc_process_status(client), use_filter_t ? "open" : "stop");
    if (use_filter_t) {
        netproc_value f = netproc_filter(rec_filter, &s.rec);
        CHECK_OK(ctx, netproc_set_process_filter(client, &f));
    } else {
        CHECK_OK(ctx, netproc_continue_process(client));
    }
    CHECK(PUMP_UNTIL(ctx, rec_count(&s.rec, REC_SENTINEL, client) > 0, scaled_ms(3000)));
    CHECK_EQ(s.rec.filter_bytes, total);
    /* Every byte, in order, then exactly one sentinel, last. */
    char *got = malloc(total + 1);
    CHECK_NOT_NULL(got);
    CHECK_EQ(rec_output(&s.rec, client, got, total + 1), total);
    CHECK(memcmp(got, data, total) == 0);
    CHECK_EQ(rec_count(&s.rec, REC_SENTINEL, client), 1);
    CHECK_EQ(s.rec.events[s.rec.count - 1].kind, REC_SENTINEL);
    CHECK_STR_EQ(s.rec.events[s.rec.count - 1].data, BROKEN);
    CHECK_STR_EQ(netproc_process_status(client), "closed");
    free(got);
    free(data);
    close(listener);
    netproc_process_free(client);
    rec_free(&s.rec);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

static void stop_holds_rest_reads_of_1(void) { stop_holds_the_rest(1, 5000, false); }
static void stop_holds_rest_reads_of_4k(void) { stop_holds_the_rest(4096, 300000, false); }
static void stop_holds_rest_default_reads(void) { stop_holds_the_rest(0, 300000, false); }
static void filter_t_holds_rest_reads_of_1(void) { stop_holds_the_rest(1, 5000, true); }
static void filter_t_holds_rest_default_reads(void) { stop_holds_the_rest(0, 300000, true); }

/* ---- a coding change inside a filter -------------------------------------------------- */

static void switch_to_latin1(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct recorder *rec = (struct recorder *)ud;
    rec_filter(rec, p, data, len);
    if (len >= 6 && memcmp(data, "switch", 6) == 0) {
        netproc_value latin1 = SYM("latin-1");
        CHECK_EQ(netproc_set_process_coding_system(p, &latin1, &latin1), NETPROC_OK);
    }
}

/* "switch\n" and then two Latin-1 bytes arrive in one read batch (7-byte reads, read
 * before the first filter call). The filter switches the decoding from utf-8 to latin-1
 * on its first call: the next bytes are decoded as latin-1 ("éé"), not as broken utf-8. */
static void coding_change_applies_to_the_next_bytes(void) {
    netproc_context *ctx = new_context();
    CHECK_OK(ctx, netproc_context_set_read_max(ctx, 7));
    struct recorder rec = {0};
    long long port;
    int listener = raw_listen(&port);
    netproc_arg args[] = {
        ARG(":name", STR("cli")), ARG(":service", INT(port)), ARG(":coding", SYM("utf-8")),
        ARG(":filter", netproc_filter(switch_to_latin1, &rec)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));
    int peer = raw_accept(ctx, listener, scaled_ms(2000));
    raw_send_bytes(peer, "switch\n\xe9\xe9", 9);
    sleep_ms(30);
    CHECK(PUMP_UNTIL(ctx, rec.filter_bytes >= 11, scaled_ms(2000)));
    char out[64];
    size_t n = rec_output(&rec, client, out, sizeof out);
    CHECK_MEM_EQ(out, n, "switch\n\xc3\xa9\xc3\xa9", (size_t)11);
    close(peer);
    close(listener);
    netproc_delete_process(client);
    netproc_process_free(client);
    rec_free(&rec);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- a stopped datagram server ----------------------------------------------------- */

struct udp_server {
    int calls;
    bool stop_on_first;
    char senders_ok;
    int mismatches;
};

static int udp_client(long long port) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    CHECK_EQ(connect(fd, (const struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static long long local_port(int fd) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    CHECK_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin_port);
}

static long long expected_ports[3];

/* Each datagram says which client sent it ("0", "1", "2"); the datagram address during
 * its filter call must be that client's, and the reply goes back to it. */
static void udp_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct udp_server *u = (struct udp_server *)ud;
    u->calls++;
    CHECK_EQ(len, 1);
    int which = data[0] - '0';
    netproc_value address;
    CHECK_EQ(netproc_process_datagram_address(p, &address), NETPROC_OK);
    long long expected[5] = {127, 0, 0, 1, expected_ports[which]};
    if (!value_is_int_vector(&address, expected, 5)) u->mismatches++;
    netproc_value_free(&address);
    char reply[8];
    int n = snprintf(reply, sizeof reply, "ack%c", data[0]);
    CHECK_EQ(netproc_process_send(p, (const uint8_t *)reply, (size_t)n), NETPROC_OK);
    if (u->stop_on_first && u->calls == 1) CHECK_EQ(netproc_stop_process(p), NETPROC_OK);
}

static void stopped_datagram_server_keeps_each_sender(void) {
    netproc_context *ctx = new_context();
    struct udp_server u = {.stop_on_first = true};
    netproc_arg args[] = {
        ARG(":name", STR("udp")), ARG(":server", netproc_t()), ARG(":type", SYM("datagram")),
        ARG(":host", STR("127.0.0.1")), ARG(":service", netproc_t()),
        ARG(":filter", netproc_filter(udp_filter, &u)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    long long port = contact_int(server, ":service");
    int clients[3];
    for (int i = 0; i < 3; i++) {
        clients[i] = udp_client(port);
        expected_ports[i] = local_port(clients[i]);
    }
    /* All three wait in the socket before the first poll, so one batch reads them. */
    for (int i = 0; i < 3; i++) {
        char which = (char)('0' + i);
        CHECK_EQ(send(clients[i], &which, 1, 0), 1);
    }
    sleep_ms(20);
    CHECK(PUMP_UNTIL(ctx, u.calls >= 1, scaled_ms(2000)));
    pump_for(ctx, 50);
    CHECK_EQ(u.calls, 1);
    CHECK_STR_EQ(netproc_process_status(server), "stop");
    CHECK_OK(ctx, netproc_continue_process(server));
    CHECK(PUMP_UNTIL(ctx, u.calls >= 3, scaled_ms(2000)));
    CHECK_EQ(u.mismatches, 0);
    for (int i = 0; i < 3; i++) {
        char reply[8] = {0};
        uint64_t deadline = monotonic_ms() + scaled_ms(2000);
        ssize_t r = -1;
        while (monotonic_ms() < deadline && (r = recv(clients[i], reply, sizeof reply - 1, MSG_DONTWAIT)) < 0)
            CHECK(netproc_poll(ctx, 5) >= 0);
        CHECK_EQ(r, 4);
        char expected[8];
        snprintf(expected, sizeof expected, "ack%d", i);
        CHECK_STR_EQ(reply, expected);
        close(clients[i]);
    }
    netproc_delete_process(server);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- delete during a :nowait connect ----------------------------------------------- */

/* A :nowait client queues "secret" and is deleted while its connect is in flight: it
 * never becomes open, and the peer never receives a byte of what was queued (which counts
 * as lost). The connect is kept in flight by a listener whose accept queue is full (the
 * kernel drops the SYN and the client retries after a second); once room is made, a
 * connect that was still alive would complete and deliver the queued bytes. */
static void deleted_nowait_connect_never_connects(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    long long port;
    int listener = raw_listen(&port);
    CHECK_EQ(listen(listener, 0), 0);
    CHECK_EQ(fcntl(listener, F_SETFL, O_NONBLOCK), 0);
    int fillers[4];
    for (int i = 0; i < 4; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int rc = connect(fillers[i], (const struct sockaddr *)&a, sizeof a);
        CHECK(rc == 0 || errno == EINPROGRESS);
    }
    sleep_ms(50);
    netproc_arg args[] = {
        ARG(":name", STR("nw")), ARG(":host", STR("127.0.0.1")), ARG(":service", INT(port)),
        ARG(":nowait", netproc_t()), ARG(":sentinel", REC_SENTINEL_V(&rec)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));
    /* Wait until the connect has started (its :remote is known). */
    netproc_value remote = netproc_nil();
    CHECK(PUMP_UNTIL(ctx, (netproc_value_free(&remote),
                           netproc_process_contact(client, ":remote", false, &remote) == NETPROC_OK &&
                               remote.kind != NETPROC_VALUE_NIL),
                     scaled_ms(2000)));
    netproc_value_free(&remote);
    CHECK_STR_EQ(netproc_process_status(client), "connect");
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"secret", 6));
    CHECK_OK(ctx, netproc_delete_process(client));
    char s[128];
    CHECK_STR_EQ(sentinels_of(&rec, client, s, sizeof s), "deleted\n");
    CHECK_EQ(netproc_process_output_lost(client), 6);
    for (int i = 0; i < 4; i++) close(fillers[i]);
    /* Make room, then watch the listener past the client's SYN retry (1 s, then 3 s). */
    size_t secret_bytes = 0;
    uint64_t deadline = monotonic_ms() + 3500;
    while (monotonic_ms() < deadline) {
        CHECK(netproc_poll(ctx, 20) >= 0);
        int peer;
        while ((peer = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
            uint8_t buf[16];
            size_t n = 0;
            peer_read(ctx, peer, buf, sizeof buf, &n, sizeof buf, true, 300);
            secret_bytes += n;
            close(peer);
        }
    }
    CHECK_EQ(secret_bytes, 0);
    CHECK_STR_EQ(sentinels_of(&rec, client, s, sizeof s), "deleted\n");
    CHECK_STR_EQ(netproc_process_status(client), "closed");
    close(listener);
    netproc_process_free(client);
    rec_free(&rec);
    CHECK_NO_LEAK(ctx, baseline);
}

/* delete-process ends with Emacs's notify pass (Fdelete_process calls status_notify): a
 * status change already known for another process, here a :nowait connect that failed
 * inside its create call, gets its sentinel before the delete returns, not at the next
 * poll. The Emacs module did this; C hosts now get the same from the core. */
static void delete_runs_the_notify_pass(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    char dir[64], path[128];
    CHECK_NOT_NULL(make_temp_dir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/missing", dir);
    netproc_arg args[] = {
        ARG(":name", STR("nw")), ARG(":family", SYM("local")), ARG(":service", STR(path)),
        ARG(":nowait", netproc_t()), ARG(":sentinel", REC_SENTINEL_V(&rec)),
    };
    netproc_process *failing = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &failing));
    CHECK_STR_EQ(netproc_process_status(failing), "failed");
    CHECK_EQ(rec.count, 0);
    netproc_arg other_args[] = {
        ARG(":name", STR("other")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
        ARG(":host", STR("127.0.0.1")), ARG(":sentinel", REC_SENTINEL_V(&rec)),
    };
    netproc_process *other = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, other_args, NARGS(other_args), &other));
    /* A client holding input: stopped by its first filter call, the rest (and the close)
     * held. continue-process gives it back to the queue, but the notify pass runs no
     * filter: that input waits for the next poll. */
    struct stopper st = {0};
    long long port;
    int listener = raw_listen(&port);
    netproc_arg held_args[] = {
        ARG(":name", STR("held")), ARG(":service", INT(port)),
        ARG(":filter", netproc_filter(stopping_filter, &st)),
    };
    netproc_process *held = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, held_args, NARGS(held_args), &held));
    int peer = raw_accept(ctx, listener, scaled_ms(2000));
    /* 3-byte reads: "one" and "two" are read in one turn, so "two" is held. */
    CHECK_OK(ctx, netproc_context_set_read_max(ctx, 3));
    raw_send_bytes(peer, "onetwo", 6);
    close(peer);
    sleep_ms(30);
    CHECK(PUMP_UNTIL(ctx, st.stopped_once, scaled_ms(2000)));
    pump_for(ctx, 50);
    CHECK_OK(ctx, netproc_continue_process(held));
    size_t filter_calls = rec_count(&st.rec, REC_FILTER, held);
    CHECK_EQ(filter_calls, 1);

    CHECK_OK(ctx, netproc_delete_process(other));
    char s[128];
    CHECK_STR_EQ(sentinels_of(&rec, other, s, sizeof s), "deleted\n");
    CHECK_STR_EQ(sentinels_of(&rec, failing, s, sizeof s), "failed with code 2\n");
    CHECK_EQ(rec_count(&st.rec, REC_FILTER, held), filter_calls);
    CHECK(PUMP_UNTIL(ctx, st.rec.filter_bytes == 6, scaled_ms(2000)));
    netproc_delete_process(held);
    netproc_process_free(held);
    rec_free(&st.rec);
    close(listener);
    netproc_delete_process(failing);
    netproc_process_free(failing);
    netproc_process_free(other);
    rec_free(&rec);
    remove_temp_dir(dir);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

int main(void) {
    static const struct test_case cases[] = {
        {"half_close_tcp", half_close_tcp, 10},
        {"half_close_tcp_busy_host", half_close_tcp_busy_host, 10},
        {"half_close_unix", half_close_unix, 10},
        {"half_close_unix_busy_host", half_close_unix_busy_host, 10},
        {"half_close_nc", half_close_nc, 10},
        {"stop_holds_rest_reads_of_1", stop_holds_rest_reads_of_1, 20},
        {"stop_holds_rest_reads_of_4k", stop_holds_rest_reads_of_4k, 10},
        {"stop_holds_rest_default_reads", stop_holds_rest_default_reads, 10},
        {"filter_t_holds_rest_default_reads", filter_t_holds_rest_default_reads, 10},
        {"filter_t_holds_rest_reads_of_1", filter_t_holds_rest_reads_of_1, 20},
        {"coding_change_applies_to_the_next_bytes", coding_change_applies_to_the_next_bytes, 10},
        {"stopped_datagram_server_keeps_each_sender", stopped_datagram_server_keeps_each_sender, 10},
        {"deleted_nowait_connect_never_connects", deleted_nowait_connect_never_connects, 10},
        {"delete_runs_the_notify_pass", delete_runs_the_notify_pass, 10},
    };
    return run_tests(cases, sizeof cases / sizeof cases[0]);
}
