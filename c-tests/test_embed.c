/*
 * test_embed: netproc inside a host's own event loop. The host waits in plain poll(2) on
 * netproc_backend_fd() (POLLIN) for at most netproc_next_timeout(), next to a descriptor
 * of its own, and calls netproc_poll(ctx, 0) only when the backend fd is readable or that
 * timeout expired. No case here calls netproc_poll with a non-zero timeout: all waiting
 * happens in the host's poll(). Model: libuv's test/test-embed.c (uv_backend_fd +
 * uv_backend_timeout); README, API conventions, "Embedding".
 */
#include "check.h"
#include "pump.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/time.h>

/* ---- the host's loop ------------------------------------------------------ */

struct host {
    netproc_context *ctx;
    int backend;                 /* netproc_backend_fd(ctx) */
    int pipe_rd, pipe_wr;        /* the host's own descriptor */
    void (*step)(void *data);    /* the host's own work, run once per byte on the pipe */
    void *data;
    unsigned waits;              /* poll(2) calls that returned */
    unsigned netproc_polls;      /* netproc_poll(ctx, 0) calls */
    unsigned fd_wakes;           /* ... made because the backend fd was readable */
    unsigned timeout_wakes;      /* ... made because netproc's next timeout expired */
    unsigned steps;              /* bytes read from the pipe */
    long callbacks;              /* sum of what netproc_poll returned */
};

static void host_init(struct host *h, netproc_context *ctx) {
    int fds[2];
    memset(h, 0, sizeof *h);
    h->ctx = ctx;
    h->backend = netproc_backend_fd(ctx);
    CHECK(h->backend >= 0);
    CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    h->pipe_rd = fds[0];
    h->pipe_wr = fds[1];
}

static void host_close(struct host *h) {
    CHECK(close(h->pipe_rd) == 0);
    CHECK(close(h->pipe_wr) == 0);
}

/* Ask the host loop (from anywhere, e.g. a netproc callback) to run its step once. */
static void host_kick(struct host *h) {
    CHECK(write(h->pipe_wr, "k", 1) == 1);
}

static int next_timeout(netproc_context *ctx) {
    int ms = -2;
    CHECK_OK(ctx, netproc_next_timeout(ctx, &ms));
    CHECK(ms >= -1);
    return ms;
}

/* The host loop's netproc_poll: always with timeout 0. */
static int host_netproc_poll(struct host *h) {
    int rc = netproc_poll(h->ctx, 0);
    CHECK(rc >= 0);
    h->netproc_polls++;
    h->callbacks += rc;
    return rc;
}

/*
 * One turn of the host's loop: poll(2) on the backend fd and the pipe for netproc's next
 * timeout (capped by the case's deadline), then serve what is ready. Returns false when
 * the wait ran into the deadline: with next_timeout -1 only the backend fd may end the
 * wait, so a wait that reaches the deadline means netproc had work it did not announce.
 */
static bool host_turn(struct host *h, uint64_t deadline) {
    int next = next_timeout(h->ctx);
    uint64_t now = monotonic_ms();
    if (now >= deadline) return false;
    int left = deadline - now > 60000 ? 60000 : (int)(deadline - now);
    bool netproc_bound = next >= 0 && next <= left;
    struct pollfd fds[2] = {{h->backend, POLLIN, 0}, {h->pipe_rd, POLLIN, 0}};
    int n = poll(fds, 2, netproc_bound ? next : left);
    if (n < 0) {
        CHECK(errno == EINTR);
        return true;
    }
    h->waits++;
    if (n == 0 && !netproc_bound) return false;
    CHECK((fds[0].revents & (POLLERR | POLLNVAL)) == 0);
    if (fds[1].revents & POLLIN) {
        char bytes[64];
        ssize_t got = read(h->pipe_rd, bytes, sizeof bytes);
        CHECK(got > 0);
        for (ssize_t i = 0; i < got; i++) {
            h->steps++;
            if (h->step) h->step(h->data);
        }
    }
    if (fds[0].revents & POLLIN) {
        h->fd_wakes++;
        host_netproc_poll(h);
    } else if (n == 0) {
        h->timeout_wakes++;
        host_netproc_poll(h);
    }
    return true;
}

/* Run the host loop until `cond` holds, at most `max_ms` (scaled like the harness
 * timeout) and 100000 turns. Evaluates to whether the condition held. */
#define HOST_UNTIL(h, cond, max_ms)                                                       \
    __extension__({                                                                       \
        uint64_t host_deadline_ = monotonic_ms() + scaled_ms(max_ms);                     \
        unsigned host_iters_ = 0;                                                         \
        bool host_ok_ = (cond);                                                           \
        while (!host_ok_ && host_iters_++ < 100000 && host_turn((h), host_deadline_))     \
            host_ok_ = (cond);                                                            \
        host_ok_;                                                                         \
    })

/* Whether the backend fd is readable within `ms` (poll(2) on it alone). */
static bool backend_readable(struct host *h, int ms) {
    struct pollfd fd = {h->backend, POLLIN, 0};
    int n;
    do n = poll(&fd, 1, ms);
    while (n < 0 && errno == EINTR);
    CHECK(n >= 0);
    return n == 1 && (fd.revents & POLLIN);
}

/* ---- small helpers ------------------------------------------------------------ */

/* A plain listening socket on 127.0.0.1 (blocking), its port in *port. */
static int listen_loopback(long long *port) {
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    CHECK(listen(fd, 8) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&addr, &len) == 0);
    *port = ntohs(addr.sin_port);
    return fd;
}

/* A blocking netproc client to 127.0.0.1:port with the given filter. */
static netproc_process *client_to(netproc_context *ctx, long long port, netproc_value filter,
                                  struct recorder *rec) {
    netproc_arg args[] = {
        ARG(":name", STR("client")),      ARG(":host", STR("127.0.0.1")),
        ARG(":service", INT(port)),       ARG(":filter", filter),
        ARG(":sentinel", REC_SENTINEL_V(rec)),
    };
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));
    CHECK_NOT_NULL(p);
    return p;
}

static void send_str(netproc_process *p, const char *text) {
    CHECK_EQ(netproc_process_send(p, (const uint8_t *)text, strlen(text)), NETPROC_OK);
}

/* ---- a full exchange through the host's loop -------------------------------- */

#define LINES 5

struct exchange {
    struct host host;
    struct recorder rec;
    netproc_process *client;
    int sent, echoed;
    int reentrant_rc;        /* what netproc_poll said from inside a filter */
    bool try_reentry;
};

/* The server side: record, then echo. */
static void echo_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct exchange *x = (struct exchange *)ud;
    rec_filter(&x->rec, p, data, len);
    CHECK_EQ(netproc_process_send(p, data, len), NETPROC_OK);
}

/* The client side: record, and for every echoed line ask the host for the next one. */
static void client_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct exchange *x = (struct exchange *)ud;
    rec_filter(&x->rec, p, data, len);
    if (x->try_reentry) {
        x->reentrant_rc = netproc_poll(x->host.ctx, 0);
        x->try_reentry = false;
    }
    for (size_t i = 0; i < len; i++)
        if (data[i] == '\n') {
            x->echoed++;
            host_kick(&x->host);
        }
}

/* The host's own step: send the next line, if any is left. */
static void send_next_line(void *data) {
    struct exchange *x = (struct exchange *)data;
    char line[32];
    if (x->sent >= LINES) return;
    snprintf(line, sizeof line, "line %d\n", ++x->sent);
    send_str(x->client, line);
}

static netproc_process *echo_server(netproc_context *ctx, struct exchange *x) {
    netproc_arg args[] = {
        ARG(":name", STR("echo")),          ARG(":server", netproc_t()),
        ARG(":host", STR("127.0.0.1")),     ARG(":service", netproc_t()),
        ARG(":filter", netproc_filter(echo_filter, x)),
        ARG(":sentinel", REC_SENTINEL_V(&x->rec)), ARG(":log", REC_LOG_V(&x->rec)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    CHECK_NOT_NULL(server);
    return server;
}

static void host_loop_full_exchange(void) {
    netproc_context *ctx = new_context();
    struct exchange x;
    memset(&x, 0, sizeof x);
    host_init(&x.host, ctx);
    x.host.step = send_next_line;
    x.host.data = &x;
    netproc_process *server = echo_server(ctx, &x);
    long long port = contact_int(server, ":service");
    CHECK(port > 0);
    x.client = client_to(ctx, port, netproc_filter(client_filter, &x), &x.rec);
    CHECK_STR_EQ(netproc_process_status(x.client), "open");

    /* The first line goes out from the host's own step; each echo asks for the next. */
    host_kick(&x.host);
    CHECK(HOST_UNTIL(&x.host, x.echoed == LINES, 5000));
    CHECK_EQ(x.sent, LINES);
    char got[256];
    rec_output(&x.rec, x.client, got, sizeof got);
    CHECK_STR_EQ(got, "line 1\nline 2\nline 3\nline 4\nline 5\n");

    long accepted = rec_find(&x.rec, 0, REC_LOG, server, "accept from 127.0.0.1\n");
    CHECK(accepted >= 0);
    CHECK_EQ(rec_count(&x.rec, REC_LOG, server), 1);
    netproc_process *conn = x.rec.events[accepted].client;
    CHECK_NOT_NULL(conn);
    CHECK(rec_find(&x.rec, 0, REC_SENTINEL, conn, "open from 127.0.0.1\n") > accepted);
    rec_output(&x.rec, conn, got, sizeof got);
    CHECK_STR_EQ(got, "line 1\nline 2\nline 3\nline 4\nline 5\n");

    /* The peer goes away; the server side hears it through the host loop. */
    CHECK_OK(ctx, netproc_delete_process(x.client));
    CHECK(rec_find(&x.rec, 0, REC_SENTINEL, x.client, "deleted\n") >= 0);
    CHECK(HOST_UNTIL(&x.host, rec_find(&x.rec, 0, REC_SENTINEL, conn, "connection broken by remote peer\n") >= 0,
                     5000));
    CHECK_EQ(rec_count(&x.rec, REC_SENTINEL, conn), 2); /* "open from", then "broken" */
    CHECK_STR_EQ(netproc_process_status(server), "listen");

    /* The work came through the backend fd and the host's own pipe, not a busy loop. */
    printf("# host loop: %u waits, %u netproc_polls (%u fd, %u timeout), %ld callbacks, %u steps\n",
           x.host.waits, x.host.netproc_polls, x.host.fd_wakes, x.host.timeout_wakes, x.host.callbacks,
           x.host.steps);
    CHECK(x.host.fd_wakes > 0);
    CHECK(x.host.steps >= LINES);
    CHECK(x.host.netproc_polls < 1000);

    netproc_process_free(x.client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    host_close(&x.host);
    rec_free(&x.rec);
}

/* A filter running inside the host loop's netproc_poll(ctx, 0) may not pump again. */
static void reentrant_poll_in_host_loop(void) {
    netproc_context *ctx = new_context();
    struct exchange x;
    memset(&x, 0, sizeof x);
    host_init(&x.host, ctx);
    netproc_process *server = echo_server(ctx, &x);
    x.client = client_to(ctx, contact_int(server, ":service"), netproc_filter(client_filter, &x), &x.rec);

    x.reentrant_rc = 12345;
    x.try_reentry = true;
    send_str(x.client, "one\n");
    CHECK(HOST_UNTIL(&x.host, x.echoed == 1, 5000));
    CHECK_EQ(x.reentrant_rc, NETPROC_E_REENTRANT);
    CHECK_EQ(netproc_last_error(ctx, NULL, NULL, NULL), NETPROC_E_REENTRANT);

    /* The refused call changed nothing: the loop goes on. */
    send_str(x.client, "two\n");
    CHECK(HOST_UNTIL(&x.host, x.echoed == 2, 5000));
    char got[64];
    rec_output(&x.rec, x.client, got, sizeof got);
    CHECK_STR_EQ(got, "one\ntwo\n");

    netproc_process_free(x.client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    host_close(&x.host);
    rec_free(&x.rec);
}

/* ---- :nowait through the host loop -------------------------------------------- */

/* A :nowait client of `host` (IPv4 only when `ipv4`). A literal address connects at
 * once; a name goes through a resolver thread first. */
static netproc_process *nowait_client(netproc_context *ctx, const char *host, bool ipv4, long long port,
                                      struct recorder *rec) {
    netproc_arg args[] = {
        ARG(":name", STR("nowait")),      ARG(":host", STR(host)),
        ARG(":service", INT(port)),       ARG(":nowait", netproc_t()),
        ARG(":filter", REC_FILTER_V(rec)), ARG(":sentinel", REC_SENTINEL_V(rec)),
        ARG(":family", ipv4 ? SYM("ipv4") : netproc_nil()),
    };
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));
    CHECK_NOT_NULL(p);
    return p;
}

/* After the connect: data both ways through the host loop, then clean up. */
static void nowait_finish(struct host *h, struct recorder *rec, netproc_process *p, int listener) {
    int peer = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    CHECK(peer >= 0);
    struct timeval limit = {(time_t)(scaled_ms(5000) / 1000), 0};
    CHECK(setsockopt(peer, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) == 0);
    send_str(p, "hello");
    char buf[8];
    CHECK_EQ(recv(peer, buf, 5, MSG_WAITALL), 5);
    CHECK_MEM_EQ(buf, 5, "hello", 5);
    CHECK_EQ(send(peer, "back", 4, 0), 4);
    CHECK(HOST_UNTIL(h, rec_find(rec, 0, REC_FILTER, p, "back") >= 0, 5000));
    CHECK(close(peer) == 0);
    CHECK(HOST_UNTIL(h, rec_find(rec, 0, REC_SENTINEL, p, "connection broken by remote peer\n") >= 0, 5000));
}

/* The background lookup's answer makes the backend fd readable; then "open\n" arrives
 * through the host loop after a handful of netproc_polls. ("localhost" as IPv4: a name,
 * so that the resolver thread looks it up; a literal address needs none.) */
static void nowait_connect_wakes_backend_fd(void) {
    long long port = 0;
    int listener = listen_loopback(&port);
    netproc_context *ctx = new_context();
    struct host h;
    host_init(&h, ctx);
    struct recorder rec = {0};
    netproc_process *p = nowait_client(ctx, "localhost", true, port, &rec);
    CHECK_STR_EQ(netproc_process_status(p), "connect");

    /* Only the resolver thread can make this context's backend fd readable now: the
     * process has no socket until the answer is taken. */
    uint64_t t0 = monotonic_ms();
    CHECK(backend_readable(&h, (int)scaled_ms(5000)));
    CHECK(monotonic_ms() - t0 < scaled_ms(5000));
    CHECK_EQ(next_timeout(ctx), 0); /* and the answer waiting is work */
    CHECK_EQ(rec.count, 0u);

    CHECK(HOST_UNTIL(&h, rec_find(&rec, 0, REC_SENTINEL, p, "open\n") >= 0, 5000));
    CHECK_STR_EQ(netproc_process_status(p), "open");
    CHECK_EQ(rec.count, 1u);
    CHECK(h.netproc_polls <= 10);
    CHECK(h.fd_wakes + h.timeout_wakes == h.netproc_polls);

    nowait_finish(&h, &rec, p, listener);
    netproc_process_free(p);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    host_close(&h);
    rec_free(&rec);
    CHECK(close(listener) == 0);
}

/* A connect that takes a while: the listener's accept queue is full, so the kernel drops
 * the SYN and the connect only finishes after the SYN is sent again (about 1 s after the
 * queue has room). Meanwhile nothing is due (-1) and the backend fd is quiet; the finished
 * connect is what makes it readable. */
static void nowait_slow_connect_wakes_backend_fd(void) {
    long long port = 0;
    int listener = listen_loopback(&port);
    CHECK(listen(listener, 0) == 0); /* room for one queued connection */
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((uint16_t)port);
    int filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(filler >= 0);
    CHECK(connect(filler, (struct sockaddr *)&addr, sizeof addr) == 0);

    netproc_context *ctx = new_context();
    struct host h;
    host_init(&h, ctx);
    struct recorder rec = {0};
    netproc_process *p = nowait_client(ctx, "localhost", true, port, &rec);
    CHECK(backend_readable(&h, (int)scaled_ms(5000))); /* the lookup's answer */
    host_netproc_poll(&h);                            /* takes it and starts connecting */
    CHECK_STR_EQ(netproc_process_status(p), "connect");
    CHECK_EQ(next_timeout(ctx), -1);
    CHECK(!backend_readable(&h, 200));
    CHECK_STR_EQ(netproc_process_status(p), "connect");

    int queued = accept4(listener, NULL, NULL, SOCK_CLOEXEC); /* make room */
    CHECK(queued >= 0);
    CHECK(close(queued) == 0);
    CHECK(close(filler) == 0);
    CHECK(backend_readable(&h, (int)scaled_ms(10000)));
    CHECK_EQ(rec.count, 0u);
    CHECK(HOST_UNTIL(&h, rec_find(&rec, 0, REC_SENTINEL, p, "open\n") >= 0, 5000));
    CHECK(h.netproc_polls <= 10);

    nowait_finish(&h, &rec, p, listener);
    netproc_process_free(p);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    host_close(&h);
    rec_free(&rec);
    CHECK(close(listener) == 0);
}

/* The same with a name the resolver thread really looks up ("localhost" may give ::1
 * first, which refuses, so this also moves on to the next address in the background). */
static void nowait_lookup_localhost_through_host_loop(void) {
    long long port = 0;
    int listener = listen_loopback(&port);
    netproc_context *ctx = new_context();
    struct host h;
    host_init(&h, ctx);
    struct recorder rec = {0};
    netproc_process *p = nowait_client(ctx, "localhost", false, port, &rec);
    CHECK_STR_EQ(netproc_process_status(p), "connect");

    CHECK(HOST_UNTIL(&h, rec.count > 0, 10000));
    if (rec_find(&rec, 0, REC_SENTINEL, p, "open\n") < 0) {
        fprintf(stderr, "  sentinel said: %s", rec.events[0].data);
        CHECK(!"localhost did not connect to 127.0.0.1");
    }
    CHECK(h.netproc_polls <= 20);
    CHECK(h.fd_wakes > 0);

    nowait_finish(&h, &rec, p, listener);
    netproc_process_free(p);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    host_close(&h);
    rec_free(&rec);
    CHECK(close(listener) == 0);
}

/* ---- netproc_next_timeout --------------------------------------------------- */

struct counter {
    size_t bytes;
    unsigned calls;
};

static void count_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct counter *c = (struct counter *)ud;
    (void)p, (void)data;
    c->bytes += len;
    c->calls++;
}

/* A connected blocking client and the raw peer socket accepted for it, settled. */
static netproc_process *client_and_peer(netproc_context *ctx, struct host *h, int listener, long long port,
                                        netproc_value filter, struct recorder *rec, int *peer) {
    netproc_process *p = client_to(ctx, port, filter, rec);
    *peer = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    CHECK(*peer >= 0);
    CHECK(HOST_UNTIL(h, next_timeout(ctx) == -1, 5000));
    return p;
}

/* Input left in the socket after a read turn is work: with an edge-triggered backend a
 * host that believed -1 would never be woken for it. */
static void next_timeout_zero_while_input_left(void) {
    enum { TOTAL = 4096 };
    long long port = 0;
    int listener = listen_loopback(&port), peer = -1;
    netproc_context *ctx = new_context();
    struct host h;
    host_init(&h, ctx);
    struct recorder rec = {0};
    struct counter c = {0, 0};
    netproc_process *p = client_and_peer(ctx, &h, listener, port, netproc_filter(count_filter, &c), &rec, &peer);
    CHECK_OK(ctx, netproc_context_set_read_max(ctx, 1));
    CHECK_EQ(next_timeout(ctx), -1);

    static char block[TOTAL];
    memset(block, 'x', sizeof block);
    CHECK_EQ(send(peer, block, sizeof block, 0), TOTAL);
    CHECK(backend_readable(&h, (int)scaled_ms(5000)));
    host_netproc_poll(&h);
    CHECK(c.bytes > 0);
    CHECK(c.bytes < TOTAL); /* one turn does not read 4096 one-byte chunks */
    CHECK_EQ(next_timeout(ctx), 0);

    /* The host loop alone gets the rest (a -1 with input left would run into the deadline). */
    CHECK(HOST_UNTIL(&h, c.bytes == TOTAL, 10000));
    CHECK_EQ(c.calls, TOTAL); /* read_max 1 */
    CHECK(HOST_UNTIL(&h, next_timeout(ctx) == -1, 5000));
    CHECK(!backend_readable(&h, 0));

    netproc_process_free(p);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    host_close(&h);
    rec_free(&rec);
    CHECK(close(peer) == 0);
    CHECK(close(listener) == 0);
}

/* A stopped process does not read; its input waits in the socket without keeping the
 * backend fd readable. continue-process makes it work again: next_timeout says 0. */
static void next_timeout_zero_after_continue_with_input_waiting(void) {
    long long port = 0;
    int listener = listen_loopback(&port), peer = -1;
    netproc_context *ctx = new_context();
    struct host h;
    host_init(&h, ctx);
    struct recorder rec = {0};
    netproc_process *p = client_and_peer(ctx, &h, listener, port, REC_FILTER_V(&rec), &rec, &peer);

    CHECK_OK(ctx, netproc_stop_process(p));
    CHECK_EQ(send(peer, "held\n", 5, 0), 5);
    CHECK(backend_readable(&h, (int)scaled_ms(5000)));
    host_netproc_poll(&h);
    CHECK_EQ(rec_count(&rec, REC_FILTER, p), 0);
    CHECK_EQ(next_timeout(ctx), -1);
    CHECK(!backend_readable(&h, 200)); /* nothing to do until continue: no spinning */

    CHECK_OK(ctx, netproc_continue_process(p));
    CHECK_EQ(next_timeout(ctx), 0);
    CHECK(HOST_UNTIL(&h, rec_find(&rec, 0, REC_FILTER, p, "held\n") >= 0, 5000));
    CHECK(HOST_UNTIL(&h, next_timeout(ctx) == -1, 5000));

    netproc_process_free(p);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    host_close(&h);
    rec_free(&rec);
    CHECK(close(peer) == 0);
    CHECK(close(listener) == 0);
}

/* A send that finds the peer gone queues "connection broken by remote peer\n": a
 * sentinel is due, so next_timeout says 0 before any netproc_poll ran. */
static void next_timeout_zero_with_queued_sentinel(void) {
    long long port = 0;
    int listener = listen_loopback(&port), peer = -1;
    netproc_context *ctx = new_context();
    struct host h;
    host_init(&h, ctx);
    struct recorder rec = {0};
    netproc_process *p = client_and_peer(ctx, &h, listener, port, REC_FILTER_V(&rec), &rec, &peer);
    size_t before = rec.count;

    struct linger lg = {1, 0};
    CHECK(setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    CHECK(close(peer) == 0); /* a reset */
    CHECK(backend_readable(&h, (int)scaled_ms(5000)));
    /* The first send after a reset may report the reset itself; a later one finds the
     * socket shut and closes the process. */
    for (int i = 0; i < 5 && strcmp(netproc_process_status(p), "open") == 0; i++)
        CHECK(netproc_process_send(p, (const uint8_t *)"x", 1) != NETPROC_OK);
    CHECK_STR_EQ(netproc_process_status(p), "closed");
    CHECK_EQ(rec.count, before); /* queued, not yet run */
    CHECK_EQ(next_timeout(ctx), 0);

    CHECK(host_netproc_poll(&h) >= 1);
    CHECK(rec_find(&rec, before, REC_SENTINEL, p, "connection broken by remote peer\n") >= 0);
    CHECK(HOST_UNTIL(&h, next_timeout(ctx) == -1, 5000));
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, p), 1);

    netproc_process_free(p);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    host_close(&h);
    rec_free(&rec);
    CHECK(close(listener) == 0);
}

/* Nothing to do: -1, for an empty context and for a settled server with an idle client. */
static void next_timeout_minus_one_when_idle(void) {
    netproc_context *ctx = new_context();
    CHECK_EQ(next_timeout(ctx), -1);
    CHECK_EQ(netproc_poll(ctx, 0), 0);
    CHECK_EQ(next_timeout(ctx), -1);

    struct host h;
    host_init(&h, ctx);
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    netproc_process *client = client_to(ctx, contact_int(server, ":service"), REC_FILTER_V(&rec), &rec);
    CHECK(HOST_UNTIL(&h, rec_find(&rec, 0, REC_SENTINEL, NULL, "open from 127.0.0.1\n") >= 0, 5000));
    CHECK(HOST_UNTIL(&h, next_timeout(ctx) == -1, 5000));
    CHECK(!backend_readable(&h, 100));
    CHECK_EQ(next_timeout(ctx), -1);

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    host_close(&h);
    rec_free(&rec);
}

/* ---- idle: the host's poll(2) really sleeps ---------------------------------- */

static void host_poll_blocks_when_idle(void) {
    netproc_context *ctx = new_context();
    struct host h;
    host_init(&h, ctx);
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    netproc_process *client = client_to(ctx, contact_int(server, ":service"), REC_FILTER_V(&rec), &rec);
    send_str(client, "ping");
    CHECK(HOST_UNTIL(&h, rec_find(&rec, 0, REC_FILTER, NULL, "ping") >= 0, 5000));
    CHECK(HOST_UNTIL(&h, next_timeout(ctx) == -1, 5000));

    uint64_t wall0 = monotonic_ms(), cpu0 = process_cpu_us();
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(next_timeout(ctx), -1);
        uint64_t t0 = monotonic_ms();
        struct pollfd fds[2] = {{h.backend, POLLIN, 0}, {h.pipe_rd, POLLIN, 0}};
        CHECK_EQ(poll(fds, 2, 300), 0);
        CHECK(monotonic_ms() - t0 >= 250);
    }
    uint64_t wall_ms = monotonic_ms() - wall0, cpu = process_cpu_us() - cpu0;
    printf("# idle host poll: %llu ms wall, %llu us cpu\n", (unsigned long long)wall_ms,
           (unsigned long long)cpu);
    CHECK(cpu < wall_ms * 1000 / 10);

    /* Still alive: a new message ends the next wait. */
    CHECK_EQ(netproc_process_send(client, (const uint8_t *)"pong", 4), NETPROC_OK);
    CHECK(HOST_UNTIL(&h, rec_find(&rec, 0, REC_FILTER, NULL, "pong") >= 0, 5000));

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    host_close(&h);
    rec_free(&rec);
}

/* ---- the contract of the two entry points ------------------------------------ */

static void backend_fd_and_next_timeout_arguments(void) {
    int ms = 7;
    CHECK_EQ(netproc_backend_fd(NULL), NETPROC_E_NULL);
    CHECK_EQ(netproc_next_timeout(NULL, &ms), NETPROC_E_NULL);
    CHECK_EQ(ms, 7);

    netproc_context *ctx = new_context();
    int fd = netproc_backend_fd(ctx);
    CHECK(fd >= 0);
    CHECK_EQ(netproc_backend_fd(ctx), fd); /* one descriptor for the context's life */
    CHECK(fcntl(fd, F_GETFD) >= 0);
    CHECK_EQ(netproc_next_timeout(ctx, NULL), NETPROC_E_NULL);
    CHECK_EQ(netproc_poll(ctx, 0), 0);
    CHECK_EQ(netproc_backend_fd(ctx), fd);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

int main(void) {
    static const struct test_case cases[] = {
        {"host_loop_full_exchange", host_loop_full_exchange, 15},
        {"reentrant_poll_in_host_loop", reentrant_poll_in_host_loop, 15},
        {"nowait_connect_wakes_backend_fd", nowait_connect_wakes_backend_fd, 15},
        {"nowait_slow_connect_wakes_backend_fd", nowait_slow_connect_wakes_backend_fd, 20},
        {"nowait_lookup_localhost_through_host_loop", nowait_lookup_localhost_through_host_loop, 20},
        {"next_timeout_zero_while_input_left", next_timeout_zero_while_input_left, 20},
        {"next_timeout_zero_after_continue_with_input_waiting", next_timeout_zero_after_continue_with_input_waiting, 15},
        {"next_timeout_zero_with_queued_sentinel", next_timeout_zero_with_queued_sentinel, 15},
        {"next_timeout_minus_one_when_idle", next_timeout_minus_one_when_idle, 15},
        {"host_poll_blocks_when_idle", host_poll_blocks_when_idle, 15},
        {"backend_fd_and_next_timeout_arguments", backend_fd_and_next_timeout_arguments, 10},
    };
    return run_tests(cases, NARGS(cases));
}
