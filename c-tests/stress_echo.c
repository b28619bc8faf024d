/*
 * stress_echo: load with integrity through a netproc echo server (issue 7, item 4).
 *
 *   stress_echo tcp|unix [CLIENTS [BYTES]]      default 1000 clients x 1 MiB
 *
 * The parent runs a netproc echo server (TCP on loopback, or a unix socket in a private
 * directory) with a listen backlog of 1024. A forked child opens CLIENTS plain non-blocking
 * sockets at once and drives them all from one epoll loop: each sends an 8-byte header
 * (magic and client number) and then BYTES of its own seeded stream, keeping at most
 * WINDOW bytes unanswered, and closes once everything has come back.
 *
 * Both sides check content, byte for byte: the server's filter compares every byte it
 * receives with the sender's stream before echoing it, and the client compares every byte
 * echoed back. Each side keeps a digest per client; at the end the digest of what the
 * client sent, what the server received, what came back, and the stream computed on its
 * own must all agree, for every client. Then: every accepted connection closed with
 * "connection broken by remote peer\n" and left the process list, deleting the server
 * empties it, and after netproc_context_free() the open descriptors are those we started
 * with. Figures go to stdout as "# ..." lines; exit 0 means all of it held.
 */
#include "check.h"
#include "pump.h"
#include "stress_common.h"

#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/un.h>

#define MAGIC 0x5453504eu /* "NPST" little-endian */
#define HEADER 8u
#define WINDOW (128u * 1024u)
#define CHUNK (64u * 1024u)
#define WATCHDOG_S 300u

static uint64_t run_salt;

static uint64_t client_seed(uint32_t id) {
    return run_salt ^ (0x5eed000000000000ull + (uint64_t)id * 0x100000001b3ull);
}

/* Byte i of what client `id` sends: the header, then its stream. */
static void wire_bytes(uint8_t *buf, size_t n, uint32_t id, uint64_t offset) {
    size_t i = 0;
    for (; i < n && offset + i < HEADER; i++) {
        uint64_t at = offset + i;
        uint32_t word = at < 4 ? MAGIC : id;
        buf[i] = (uint8_t)(word >> (8 * (at % 4)));
    }
    if (i < n) stress_fill(buf + i, n - i, client_seed(id), offset + i - HEADER);
}

/* ---- what both sides report, in memory shared across the fork ------------------ */

struct client_result {
    uint64_t sent_digest;      /* client: digest of the stream bytes it sent */
    uint64_t echoed_digest;    /* client: digest of the stream bytes that came back */
    uint64_t echoed_bytes;     /* client: stream bytes that came back and matched */
    uint64_t server_digest;    /* server: digest of the stream bytes it received */
    uint64_t server_bytes;     /* server: stream bytes it received and that matched */
    int client_ok, server_ok;  /* each side: 1 once all bytes were in and correct */
};

struct shared_results {
    uint32_t clients;
    uint64_t payload;
    char client_error[256];
    struct client_result r[];
};

static struct shared_results *results;

/* ---- the server (netproc, in the parent) ---------------------------------------- */

struct conn {
    uint8_t header[HEADER];
    uint64_t got; /* wire bytes received, header included */
    uint32_t id;
    uint64_t digest;
    bool bad;
};

struct server_totals {
    size_t accepted, opened, closed, closed_unfinished, peak_listed;
    uint64_t bytes_checked;
    size_t mismatches;
    char first_error[256];
    netproc_context *ctx;
};

static void server_fail(struct server_totals *t, struct conn *c, const char *what, uint64_t at) {
    t->mismatches++;
    if (c != NULL) c->bad = true;
    if (t->first_error[0] == '\0')
        snprintf(t->first_error, sizeof t->first_error, "server: %s (client %u, wire offset %llu)", what,
                 c ? c->id : 0u, (unsigned long long)at);
}

static void echo_check(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct server_totals *t = ud;
    struct conn *c = netproc_process_userdata(p);
    if (c == NULL) {
        c = calloc(1, sizeof *c);
        CHECK_NOT_NULL(c);
        c->digest = STRESS_DIGEST_INIT;
        CHECK_EQ(netproc_process_set_userdata(p, c, free), NETPROC_OK);
    }
    const uint8_t *rest = data;
    size_t left = len;
    while (left > 0 && c->got < HEADER) {
        c->header[c->got++] = *rest++;
        left--;
        if (c->got == HEADER) {
            uint32_t magic = (uint32_t)c->header[0] | (uint32_t)c->header[1] << 8 | (uint32_t)c->header[2] << 16
                | (uint32_t)c->header[3] << 24;
            c->id = (uint32_t)c->header[4] | (uint32_t)c->header[5] << 8 | (uint32_t)c->header[6] << 16
                | (uint32_t)c->header[7] << 24;
            if (magic != MAGIC || c->id >= results->clients) server_fail(t, c, "bad header", 0);
        }
    }
    if (left > 0 && !c->bad) {
        uint64_t offset = c->got - HEADER;
        if (offset + left > results->payload) {
            server_fail(t, c, "more bytes than were sent", c->got);
        } else {
            size_t at = stress_mismatch(rest, left, client_seed(c->id), offset);
            if (at != left) server_fail(t, c, "byte differs from the sender's stream", c->got + at);
            c->digest = stress_digest(c->digest, rest, left);
            t->bytes_checked += left;
        }
    }
    c->got += left;
    if (!c->bad && c->got == HEADER + results->payload) {
        results->r[c->id].server_digest = c->digest;
        results->r[c->id].server_bytes = c->got - HEADER;
        results->r[c->id].server_ok = 1;
    }
    netproc_status rc = netproc_process_send(p, data, len);
    if (rc != NETPROC_OK) server_fail(t, c, "netproc_process_send failed", c->got);
}

static void count_accept(void *ud, netproc_process *server, netproc_process *client, const char *msg, size_t len) {
    struct server_totals *t = ud;
    (void)server, (void)msg, (void)len;
    if (client == NULL) {
        server_fail(t, NULL, "accept failed", 0);
        return;
    }
    t->accepted++;
    size_t listed = stress_process_count(t->ctx);
    if (listed > t->peak_listed) t->peak_listed = listed;
}

static void count_close(void *ud, netproc_process *p, const char *msg, size_t len) {
    struct server_totals *t = ud;
    const char *want = "connection broken by remote peer\n";
    if (len == strlen("deleted\n") && memcmp(msg, "deleted\n", len) == 0) return; /* the server itself */
    if (len >= 10 && memcmp(msg, "open from ", 10) == 0) {
        /* An accepted connection's first sentinel call (Emacs's server_accept_connection). */
        t->opened++;
        return;
    }
    t->closed++;
    struct conn *c = netproc_process_userdata(p);
    if (len != strlen(want) || memcmp(msg, want, len) != 0) server_fail(t, c, "unexpected sentinel message", 0);
    if (c == NULL || c->bad || c->got != HEADER + results->payload) t->closed_unfinished++;
}

/* ---- the clients (plain sockets, in a forked child) ------------------------------ */

struct client {
    int fd;
    uint64_t sent, received; /* wire bytes */
    uint64_t sent_digest, echoed_digest;
    bool connected, done;
};

static int connect_one(int family, const struct sockaddr *addr, socklen_t addrlen, int epfd, uint32_t index) {
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, addr, addrlen) != 0 && errno != EINPROGRESS) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = index};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Fails the child with a message the parent prints. */
static void client_fail(const char *fmt, uint32_t id, unsigned long long at) {
    snprintf(results->client_error, sizeof results->client_error, fmt, id, at);
    fprintf(stderr, "stress_echo client: %s\n", results->client_error);
    _exit(1); /* in the forked child */
}

/* Send what the window allows, read what has come back; returns whether anything moved. */
static bool client_io(struct client *c, uint32_t id, uint8_t *buf) {
    uint64_t total = HEADER + results->payload;
    bool moved = false;
    for (;;) {
        bool progress = false;
        while (c->sent < total && c->sent - c->received < WINDOW) {
            uint64_t n = total - c->sent;
            uint64_t room = WINDOW - (c->sent - c->received);
            if (n > room) n = room;
            if (n > CHUNK) n = CHUNK;
            wire_bytes(buf, (size_t)n, id, c->sent);
            ssize_t w = send(c->fd, buf, (size_t)n, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
                client_fail("client %u: send failed at %llu", id, c->sent);
            }
            /* Digest only the stream part of what the kernel took. */
            uint64_t from = c->sent, to = c->sent + (uint64_t)w;
            if (to > HEADER) {
                uint64_t start = from > HEADER ? from : HEADER;
                c->sent_digest = stress_digest(c->sent_digest, buf + (start - from), (size_t)(to - start));
            }
            c->sent = to;
            progress = true;
        }
        for (;;) {
            ssize_t r = recv(c->fd, buf, CHUNK, 0);
            if (r < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
                client_fail("client %u: recv failed at %llu", id, c->received);
            }
            if (r == 0) client_fail("client %u: server closed early, at %llu", id, c->received);
            if (c->received + (uint64_t)r > c->sent) client_fail("client %u: more came back than was sent, at %llu", id, c->received);
            uint8_t expect[CHUNK];
            wire_bytes(expect, (size_t)r, id, c->received);
            if (memcmp(expect, buf, (size_t)r) != 0) {
                size_t at = 0;
                while (expect[at] == buf[at]) at++;
                client_fail("client %u: echoed byte differs at wire offset %llu", id, c->received + at);
            }
            uint64_t from = c->received, to = c->received + (uint64_t)r;
            if (to > HEADER) {
                uint64_t start = from > HEADER ? from : HEADER;
                c->echoed_digest = stress_digest(c->echoed_digest, buf + (start - from), (size_t)(to - start));
            }
            c->received = to;
            progress = true;
        }
        if (!progress) break;
        moved = true;
    }
    return moved;
}

static int run_clients(int family, const struct sockaddr *addr, socklen_t addrlen) {
    uint32_t n = results->clients;
    uint64_t total = HEADER + results->payload;
    struct client *clients = calloc(n, sizeof *clients);
    uint8_t *buf = malloc(CHUNK);
    CHECK(clients != NULL && buf != NULL);
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    CHECK(epfd >= 0);
    for (uint32_t i = 0; i < n; i++) {
        clients[i].fd = -1;
        clients[i].sent_digest = clients[i].echoed_digest = STRESS_DIGEST_INIT;
    }
    uint32_t opened = 0, done = 0;
    struct epoll_event events[256];
    uint64_t deadline = monotonic_ms() + (WATCHDOG_S - 20) * 1000u;
    while (done < n) {
        if (monotonic_ms() > deadline) client_fail("client %u: deadline passed with %llu clients done", done, done);
        /* Open all connections at once; a unix listener whose backlog is full says EAGAIN,
         * then try again on the next round. */
        for (uint32_t i = 0; i < n; i++) {
            if (clients[i].fd >= 0 || clients[i].done) continue;
            clients[i].fd = connect_one(family, addr, addrlen, epfd, i);
            if (clients[i].fd < 0) {
                if (errno != EAGAIN) client_fail("client %u: connect failed (errno %llu)", i, (unsigned long long)errno);
                break;
            }
            opened++;
        }
        int ready = epoll_wait(epfd, events, 256, 50);
        if (ready < 0 && errno != EINTR) client_fail("epoll_wait failed %u %llu", 0, 0);
        for (int k = 0; k < ready; k++) {
            uint32_t i = events[k].data.u32;
            struct client *c = &clients[i];
            if (c->done) continue;
            if (!c->connected) {
                int err = 0;
                socklen_t elen = sizeof err;
                CHECK(getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0);
                if (err != 0) client_fail("client %u: connect failed (errno %llu)", i, (unsigned long long)err);
                if (!(events[k].events & (EPOLLOUT | EPOLLIN))) continue;
                c->connected = true;
            }
            if ((events[k].events & (EPOLLERR | EPOLLHUP)) && c->received < total)
                client_fail("client %u: connection error at %llu", i, c->received);
            client_io(c, i, buf);
            if (c->received == total) {
                CHECK(close(c->fd) == 0);
                c->fd = -1;
                c->done = true;
                done++;
                struct client_result *r = &results->r[i];
                r->sent_digest = c->sent_digest;
                r->echoed_digest = c->echoed_digest;
                r->echoed_bytes = c->received - HEADER;
                r->client_ok = 1;
            }
        }
    }
    close(epfd);
    free(buf);
    free(clients);
    (void)opened;
    return 0;
}

/* ---- main ------------------------------------------------------------------------ */

int main(int argc, char **argv) {
    if (argc < 2 || (strcmp(argv[1], "tcp") != 0 && strcmp(argv[1], "unix") != 0)) {
        fprintf(stderr, "usage: %s tcp|unix [CLIENTS [BYTES]]\n", argv[0]);
        return 2;
    }
    bool unix_family = strcmp(argv[1], "unix") == 0;
    uint32_t nclients = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 1000u;
    uint64_t payload = argc > 3 ? strtoull(argv[3], NULL, 10) : 1024u * 1024u;
    CHECK(nclients >= 1 && nclients <= 5000);
    char name[64];
    snprintf(name, sizeof name, "stress_echo %s", argv[1]);
    run_salt = unix_family ? 0x756e6978ull : 0x746370ull;

    /* Both ends of every connection plus headroom; the child inherits the limit. */
    stress_raise_nofile(2u * nclients + 512u);
    struct stress_baseline base = stress_begin(name, WATCHDOG_S);

    size_t shared_size = sizeof *results + nclients * sizeof results->r[0];
    results = mmap(NULL, shared_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(results != MAP_FAILED);
    results->clients = nclients;
    results->payload = payload;

    netproc_context *ctx = new_context();
    struct server_totals totals = {.ctx = ctx};
    size_t listed_before = stress_process_count(ctx);
    char dir[64] = "", path[96] = "";
    netproc_process *server = NULL;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    memset(&addr, 0, sizeof addr);
    if (unix_family) {
        CHECK_NOT_NULL(make_temp_dir(dir, sizeof dir));
        snprintf(path, sizeof path, "%s/echo.sock", dir);
        netproc_arg args[] = {
            ARG(":name", STR("echo")),           ARG(":family", SYM("local")),
            ARG(":service", STR(path)),          ARG(":server", INT(1024)),
            ARG(":filter", netproc_filter(echo_check, &totals)),
            ARG(":sentinel", netproc_sentinel(count_close, &totals)),
            ARG(":log", netproc_log(count_accept, &totals)),
        };
        CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
        struct sockaddr_un *un = (struct sockaddr_un *)&addr;
        un->sun_family = AF_UNIX;
        snprintf(un->sun_path, sizeof un->sun_path, "%s", path);
        addrlen = sizeof *un;
    } else {
        netproc_arg args[] = {
            ARG(":name", STR("echo")),           ARG(":service", netproc_t()),
            ARG(":server", INT(1024)),
            ARG(":filter", netproc_filter(echo_check, &totals)),
            ARG(":sentinel", netproc_sentinel(count_close, &totals)),
            ARG(":log", netproc_log(count_accept, &totals)),
        };
        CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
        struct sockaddr_in *in = (struct sockaddr_in *)&addr;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        in->sin_port = htons((uint16_t)contact_int(server, ":service"));
        addrlen = sizeof *in;
    }
    int fds_with_server = count_open_fds();

    fflush(stdout);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        alarm(WATCHDOG_S - 10);
        int code = run_clients(unix_family ? AF_UNIX : AF_INET, (const struct sockaddr *)&addr, addrlen);
        fflush(NULL);
        _exit(code); /* a forked copy of the parent: its heap is the parent's to check */
    }

    /* Serve until the clients are done and every connection has closed. */
    int child_code = -1;
    bool child_done = false;
    uint64_t deadline = monotonic_ms() + (WATCHDOG_S - 15) * 1000u;
    while (monotonic_ms() < deadline) {
        CHECK(netproc_poll(ctx, 20) >= 0);
        if (!child_done) child_done = stress_child_done(child, &child_code);
        if (child_done && (child_code != 0 || totals.closed >= nclients)) break;
    }
    if (!child_done) child_code = stress_wait_child(child, 1000);
    size_t listed_after = stress_process_count(ctx);
    int fds_after_clients = count_open_fds();
    CHECK_OK(ctx, netproc_delete_process(server));
    size_t listed_end = stress_process_count(ctx);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);

    /* The digests: what each client sent, what the server saw, what came back, and the
     * stream computed here on its own. */
    size_t digests_matched = 0, incomplete = 0;
    uint64_t echoed_checked = 0;
    for (uint32_t i = 0; i < nclients; i++) {
        struct client_result *r = &results->r[i];
        echoed_checked += r->echoed_bytes;
        if (!r->client_ok || !r->server_ok) {
            incomplete++;
            continue;
        }
        uint64_t expect = stress_stream_digest(client_seed(i), payload);
        if (r->sent_digest == expect && r->server_digest == expect && r->echoed_digest == expect
            && r->server_bytes == payload && r->echoed_bytes == payload)
            digests_matched++;
    }

    int failures = 0;
    printf("# %s: %u clients x %llu bytes, window %u bytes, listen backlog 1024\n", name, nclients,
           (unsigned long long)payload, WINDOW);
    printf("# %s: connections accepted %zu, opened %zu, closed %zu (unfinished %zu), client process exit %d\n",
           name, totals.accepted, totals.opened, totals.closed, totals.closed_unfinished, child_code);
    printf("# %s: bytes checked by the server %llu, by the clients %llu (expected %llu each)\n", name,
           (unsigned long long)totals.bytes_checked, (unsigned long long)echoed_checked,
           (unsigned long long)(payload * nclients));
    printf("# %s: digests matched %zu/%u (sent = received by server = echoed = expected)\n", name,
           digests_matched, nclients);
    printf("# %s: process list before %zu, peak %zu, after clients %zu, after deleting the server %zu\n", name,
           listed_before, totals.peak_listed, listed_after, listed_end);
    printf("# %s: descriptors with the server alone %d, after the clients closed %d\n", name, fds_with_server,
           fds_after_clients);
    if (totals.first_error[0]) printf("# %s: %s (%zu errors)\n", name, totals.first_error, totals.mismatches);
    if (results->client_error[0]) printf("# %s: client: %s\n", name, results->client_error);

    if (child_code != 0 || totals.mismatches != 0 || incomplete != 0 || digests_matched != nclients
        || totals.accepted != nclients || totals.opened != nclients || totals.closed != nclients || totals.closed_unfinished != 0
        || totals.bytes_checked != payload * nclients || echoed_checked != payload * nclients || listed_before != 0
        || listed_after != 1 || listed_end != 0 || fds_after_clients != fds_with_server)
        failures++;
    if (unix_family) CHECK_EQ(remove_temp_dir(dir), 0);
    munmap(results, shared_size);
    failures += stress_end(name, &base);
    printf("%s - %s\n", failures ? "not ok" : "ok", name);
    return failures ? 1 : 0;
}
