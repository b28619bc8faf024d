/*
 * stress_datagram: datagrams through a netproc echo server, every one checked (issue 7,
 * item 4).
 *
 *   stress_datagram [CLIENTS [PER_CLIENT]]      default 50 clients x 2000 datagrams
 *
 * The parent runs a netproc datagram server on 127.0.0.1 whose filter checks each datagram
 * and sends it back (to the last sender, as in Emacs). A forked child drives CLIENTS plain
 * UDP sockets from one poll loop. Every datagram carries a 16-byte header (magic, client
 * number, the client's own port, sequence number, length) and then a payload from a
 * stream seeded by (client, sequence); lengths vary from 16 bytes to 65,507 (the largest
 * IPv4 payload, which netproc delivers whole).
 *
 * The server checks the header, the length, every payload byte, and that
 * netproc_process_datagram_address() inside the filter is the sender of *this* datagram
 * (the address its echo will go to). The client checks that each echo is one it has
 * outstanding, byte for byte. Each side keeps an order-independent digest per client (the
 * sum of the datagrams' FNV-1a digests), and they must agree with the digest of what the
 * client sent. UDP may drop when buffers overflow, so the child keeps the bytes in flight
 * (all clients together) under a budget well below the default socket buffers; with that,
 * the run requires zero losses: a datagram not echoed within 5 s fails the run.
 */
#include "check.h"
#include "pump.h"
#include "stress_common.h"

#include <sys/mman.h>

#define MAGIC 0x4d474450u /* "PDGM" */
#define HEADER 16u
#define MAX_DATAGRAM 65507u
#define BUDGET (96u * 1024u)   /* bytes in flight, all clients together */
#define OVERHEAD 1024u         /* counted per datagram in flight, for the kernel's bookkeeping */
#define WINDOW 4u              /* datagrams in flight per client */
#define WATCHDOG_S 240u

static uint64_t datagram_seed(uint32_t client, uint32_t seq) {
    return 0xd47a000000000000ull ^ ((uint64_t)client << 32) ^ seq;
}

/* Most datagrams are small; some are medium; every 500th is as large as IPv4 allows. */
static uint32_t datagram_length(uint32_t client, uint32_t seq) {
    uint64_t h = stress_word(0x1e9 + client, seq);
    if (seq % 500 == 499) return MAX_DATAGRAM;
    if (seq % 37 == 5) return HEADER + (uint32_t)(h % 16384);
    return HEADER + (uint32_t)(h % 1400);
}

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The whole datagram `seq` of `client`, whose socket has port `port`, into buf. */
static void make_datagram(uint8_t *buf, uint32_t client, uint16_t port, uint32_t seq, uint32_t len) {
    put32(buf, MAGIC);
    put32(buf + 4, client | (uint32_t)port << 16);
    put32(buf + 8, seq);
    put32(buf + 12, len);
    stress_fill(buf + HEADER, len - HEADER, datagram_seed(client, seq), 0);
}

struct client_result {
    uint64_t sent_sum, echoed_sum, server_sum; /* sums of per-datagram digests */
    uint32_t sent, echoed, server_got;
    uint64_t echoed_bytes, server_bytes;
};

struct shared_results {
    uint32_t clients, per_client;
    uint32_t lost;
    char client_error[256];
    struct client_result r[];
};

static struct shared_results *results;

/* ---- the server (netproc, in the parent) ----------------------------------------------- */

struct server_totals {
    uint64_t datagrams, bytes_checked, errors;
    uint32_t largest;
    char first_error[256];
};

static void server_fail(struct server_totals *t, const char *what, uint32_t client, uint32_t seq) {
    t->errors++;
    if (t->first_error[0] == '\0')
        snprintf(t->first_error, sizeof t->first_error, "server: %s (client %u, datagram %u)", what, client, seq);
}

/* The port of the process's datagram address (the last element of its address vector), -1
 * if it has none. */
static long long datagram_address_port(netproc_process *p) {
    netproc_value v;
    CHECK_EQ(netproc_process_datagram_address(p, &v), NETPROC_OK);
    long long port = -1;
    if (v.kind == NETPROC_VALUE_VECTOR && v.count == 5 && v.items[4].kind == NETPROC_VALUE_INTEGER)
        port = v.items[4].integer;
    netproc_value_free(&v);
    return port;
}

static void echo_check(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct server_totals *t = ud;
    if (len < HEADER || get32(data) != MAGIC) {
        server_fail(t, "bad header", 0, 0);
        return;
    }
    uint32_t who = get32(data + 4), seq = get32(data + 8), declared = get32(data + 12);
    uint32_t client = who & 0xffffu, port = who >> 16;
    if (client >= results->clients || seq >= results->per_client) {
        server_fail(t, "bad client or sequence number", client, seq);
        return;
    }
    if (declared != len || declared != datagram_length(client, seq)) {
        server_fail(t, "length differs from what was sent", client, seq);
        return;
    }
    if (stress_mismatch(data + HEADER, len - HEADER, datagram_seed(client, seq), 0) != len - HEADER) {
        server_fail(t, "payload byte differs", client, seq);
        return;
    }
    /* Inside the filter, the datagram address is this datagram's sender: the echo goes there. */
    if (datagram_address_port(p) != (long long)port) server_fail(t, "datagram address is not the sender", client, seq);
    struct client_result *r = &results->r[client];
    r->server_sum += stress_digest(STRESS_DIGEST_INIT, data, len);
    r->server_got++;
    r->server_bytes += len;
    t->datagrams++;
    t->bytes_checked += len;
    if (len > t->largest) t->largest = (uint32_t)len;
    if (netproc_process_send(p, data, len) != NETPROC_OK) server_fail(t, "netproc_process_send failed", client, seq);
}

/* ---- the clients (plain UDP sockets, in a forked child) --------------------------------- */

enum { NOT_SENT, IN_FLIGHT, ECHOED };

struct dclient {
    int fd;
    uint16_t port;
    uint32_t next_seq, in_flight, echoed;
    uint8_t *state; /* per sequence number */
};

static void client_fail(const char *what, uint32_t client, uint32_t seq) {
    snprintf(results->client_error, sizeof results->client_error, "%s (client %u, datagram %u)", what, client, seq);
    fprintf(stderr, "stress_datagram client: %s\n", results->client_error);
    _exit(1); /* in the forked child */
}

static int run_clients(long long server_port) {
    uint32_t n = results->clients, per = results->per_client;
    struct dclient *cl = calloc(n, sizeof *cl);
    struct pollfd *pfd = calloc(n, sizeof *pfd);
    uint8_t *out = malloc(MAX_DATAGRAM + 1), *in = malloc(MAX_DATAGRAM + 1), *expect = malloc(MAX_DATAGRAM + 1);
    CHECK(cl && pfd && out && in && expect);
    struct sockaddr_in to;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons((uint16_t)server_port);
    for (uint32_t i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0);
        int rcvbuf = 1 << 20;
        CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) == 0);
        struct sockaddr_in me;
        memset(&me, 0, sizeof me);
        me.sin_family = AF_INET;
        me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        CHECK(bind(fd, (const struct sockaddr *)&me, sizeof me) == 0);
        socklen_t len = sizeof me;
        CHECK(getsockname(fd, (struct sockaddr *)&me, &len) == 0);
        cl[i].fd = fd;
        cl[i].port = ntohs(me.sin_port);
        cl[i].state = calloc(per, 1);
        CHECK_NOT_NULL(cl[i].state);
        pfd[i].fd = fd;
        pfd[i].events = POLLIN;
    }
    uint64_t in_flight_bytes = 0, finished = 0;
    uint64_t last_progress = monotonic_ms();
    while (finished < n) {
        /* Send what the windows and the budget allow. */
        for (uint32_t i = 0; i < n; i++) {
            struct dclient *c = &cl[i];
            while (c->next_seq < per && c->in_flight < WINDOW) {
                uint32_t seq = c->next_seq, len = datagram_length(i, seq);
                if (in_flight_bytes > 0 && in_flight_bytes + len + OVERHEAD > BUDGET) break;
                make_datagram(out, i, c->port, seq, len);
                ssize_t w = sendto(c->fd, out, len, 0, (const struct sockaddr *)&to, sizeof to);
                if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) break;
                if (w != (ssize_t)len) client_fail("sendto failed", i, seq);
                results->r[i].sent_sum += stress_digest(STRESS_DIGEST_INIT, out, len);
                results->r[i].sent++;
                c->state[seq] = IN_FLIGHT;
                c->next_seq++;
                c->in_flight++;
                in_flight_bytes += len + OVERHEAD;
            }
        }
        int ready = poll(pfd, n, 20);
        if (ready < 0 && errno != EINTR) client_fail("poll failed", 0, 0);
        for (uint32_t i = 0; ready > 0 && i < n; i++) {
            if (!(pfd[i].revents & POLLIN)) continue;
            struct dclient *c = &cl[i];
            for (;;) {
                ssize_t r = recv(c->fd, in, MAX_DATAGRAM + 1, MSG_DONTWAIT);
                if (r < 0) {
                    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
                    client_fail("recv failed", i, 0);
                }
                if (r < (ssize_t)HEADER || get32(in) != MAGIC) client_fail("echo with a bad header", i, 0);
                uint32_t who = get32(in + 4), seq = get32(in + 8);
                if ((who & 0xffffu) != i || (who >> 16) != c->port) client_fail("echo of another client's datagram", i, seq);
                if (seq >= c->next_seq || c->state[seq] != IN_FLIGHT) client_fail("echo of a datagram not in flight", i, seq);
                uint32_t len = datagram_length(i, seq);
                if ((size_t)r != len) client_fail("echo has the wrong length", i, seq);
                make_datagram(expect, i, c->port, seq, len);
                if (memcmp(expect, in, len) != 0) client_fail("echoed byte differs", i, seq);
                results->r[i].echoed_sum += stress_digest(STRESS_DIGEST_INIT, in, len);
                results->r[i].echoed++;
                results->r[i].echoed_bytes += len;
                c->state[seq] = ECHOED;
                c->in_flight--;
                c->echoed++;
                in_flight_bytes -= len + OVERHEAD;
                last_progress = monotonic_ms();
                if (c->echoed == per) finished++;
            }
        }
        if (monotonic_ms() - last_progress > 5000) {
            uint32_t lost = 0;
            for (uint32_t i = 0; i < n; i++) lost += cl[i].in_flight;
            results->lost = lost;
            client_fail("no echo for 5 s: datagrams lost", lost, 0);
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        close(cl[i].fd);
        free(cl[i].state);
    }
    free(cl);
    free(pfd);
    free(out);
    free(in);
    free(expect);
    return 0;
}

/* ---- main ---------------------------------------------------------------------------- */

int main(int argc, char **argv) {
    uint32_t nclients = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 50u;
    uint32_t per = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 2000u;
    CHECK(nclients >= 1 && nclients <= 1000 && per >= 1 && per <= 1000000);
    const char *name = "stress_datagram";
    struct stress_baseline base = stress_begin(name, WATCHDOG_S);

    size_t shared_size = sizeof *results + nclients * sizeof results->r[0];
    results = mmap(NULL, shared_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(results != MAP_FAILED);
    results->clients = nclients;
    results->per_client = per;

    netproc_context *ctx = new_context();
    struct server_totals t = {0};
    size_t listed_before = stress_process_count(ctx);
    netproc_arg args[] = {
        ARG(":name", STR("udp-echo")),    ARG(":server", netproc_t()),
        ARG(":type", SYM("datagram")),    ARG(":service", netproc_t()),
        ARG(":filter", netproc_filter(echo_check, &t)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    long long port = contact_int(server, ":service");
    int fds_with_server = count_open_fds();

    fflush(stdout);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        alarm(WATCHDOG_S - 10);
        int code = run_clients(port);
        fflush(NULL);
        _exit(code); /* a forked copy of the parent: its heap is the parent's to check */
    }
    int child_code = -1;
    bool child_done = false;
    uint64_t deadline = monotonic_ms() + (WATCHDOG_S - 15) * 1000u;
    while (monotonic_ms() < deadline && !child_done) {
        CHECK(netproc_poll(ctx, 20) >= 0);
        child_done = stress_child_done(child, &child_code);
    }
    if (!child_done) child_code = stress_wait_child(child, 1000);
    size_t listed_after = stress_process_count(ctx);
    int fds_after = count_open_fds();
    CHECK_EQ(netproc_process_output_lost(server), 0);
    CHECK_OK(ctx, netproc_delete_process(server));
    size_t listed_end = stress_process_count(ctx);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);

    uint64_t total = (uint64_t)nclients * per, sent = 0, echoed = 0, echoed_bytes = 0;
    size_t digests_matched = 0;
    for (uint32_t i = 0; i < nclients; i++) {
        struct client_result *r = &results->r[i];
        sent += r->sent;
        echoed += r->echoed;
        echoed_bytes += r->echoed_bytes;
        if (r->sent == per && r->echoed == per && r->server_got == per && r->sent_sum == r->server_sum
            && r->sent_sum == r->echoed_sum && r->server_bytes == r->echoed_bytes)
            digests_matched++;
    }
    printf("# %s: %u clients x %u datagrams, 16 to %u bytes, at most %u per client and %u bytes in flight\n",
           name, nclients, per, MAX_DATAGRAM, WINDOW, BUDGET);
    printf("# %s: datagrams sent %llu, checked by the server %llu, echoed and checked by the clients %llu, lost %u\n",
           name, (unsigned long long)sent, (unsigned long long)t.datagrams, (unsigned long long)echoed,
           results->lost);
    printf("# %s: bytes checked by the server %llu, by the clients %llu; largest datagram %u bytes\n", name,
           (unsigned long long)t.bytes_checked, (unsigned long long)echoed_bytes, t.largest);
    printf("# %s: digests matched %zu/%u (sent = received by server = echoed)\n", name, digests_matched, nclients);
    printf("# %s: process list before %zu, during %zu, after deleting the server %zu; descriptors with the "
           "server %d, after %d; client process exit %d\n",
           name, listed_before, listed_after, listed_end, fds_with_server, fds_after, child_code);
    if (t.first_error[0]) printf("# %s: %s (%llu errors)\n", name, t.first_error, (unsigned long long)t.errors);
    if (results->client_error[0]) printf("# %s: client: %s\n", name, results->client_error);

    int failures = 0;
    if (child_code != 0 || t.errors != 0 || sent != total || t.datagrams != total || echoed != total
        || results->lost != 0 || digests_matched != nclients || t.bytes_checked != echoed_bytes
        || listed_before != 0 || listed_after != 1 || listed_end != 0 || fds_after != fds_with_server)
        failures++;
    munmap(results, shared_size);
    failures += stress_end(name, &base);
    printf("%s - %s\n", failures ? "not ok" : "ok", name);
    return failures ? 1 : 0;
}
