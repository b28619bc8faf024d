/*
 * stress_cycles: connect/accept/close cycles against a netproc server (issue 7, item 4).
 *
 *   stress_cycles [CYCLES [WORKERS]]       default 100000 cycles by 4 forked workers
 *
 * Each worker is a forked child with plain blocking sockets. In one cycle it connects to
 * the netproc server on loopback, sends 8 bytes (the cycle number and a check word), reads
 * the same 8 bytes back and compares them, then closes. On even cycles the client closes
 * first (the server's connection sees EOF: "connection broken by remote peer\n"); on odd
 * cycles the server's filter deletes the connection right after echoing (its sentinel says
 * "deleted\n"), and the client must read those 8 bytes and then EOF.
 *
 * The server checks every cycle's bytes too, and marks each cycle number seen exactly once.
 * At the end: every cycle was accepted, opened, echoed and closed the right way; the process
 * list is back to the server alone, then empty; the descriptors are those we started with.
 */
#include "check.h"
#include "pump.h"
#include "stress_common.h"

#include <sys/mman.h>

#define WATCHDOG_S 240u
#define CHECK_WORD(id) ((uint32_t)((id) * 2654435761u) ^ 0xa5a5a5a5u)

struct conn {
    uint8_t bytes[8];
    size_t got;
    uint32_t id;
    bool complete;
};

struct totals {
    uint32_t cycles;
    size_t accepted, opened, echoed, closed_by_client, deleted_by_server, peak_listed, errors;
    uint64_t bytes_checked;
    uint8_t *seen;
    char first_error[256];
    netproc_context *ctx;
};

static void fail(struct totals *t, const char *what, uint32_t id) {
    t->errors++;
    if (t->first_error[0] == '\0') snprintf(t->first_error, sizeof t->first_error, "server: %s (cycle %u)", what, id);
}

static void cycle_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct totals *t = ud;
    struct conn *c = netproc_process_userdata(p);
    if (c == NULL) {
        c = calloc(1, sizeof *c);
        CHECK_NOT_NULL(c);
        CHECK_EQ(netproc_process_set_userdata(p, c, free), NETPROC_OK);
    }
    if (c->got + len > sizeof c->bytes) {
        fail(t, "more than 8 bytes on one connection", c->id);
        return;
    }
    memcpy(c->bytes + c->got, data, len);
    c->got += len;
    if (c->got < sizeof c->bytes) return;
    uint32_t id, check;
    memcpy(&id, c->bytes, 4);
    memcpy(&check, c->bytes + 4, 4);
    c->id = id;
    if (id >= t->cycles || check != CHECK_WORD(id)) {
        fail(t, "bytes differ from what the client sends", id);
        return;
    }
    if (t->seen[id]++ != 0) fail(t, "cycle seen twice", id);
    t->bytes_checked += 8;
    c->complete = true;
    if (netproc_process_send(p, c->bytes, sizeof c->bytes) != NETPROC_OK) fail(t, "send failed", id);
    t->echoed++;
    /* Odd cycles: the server closes first; the echo is still written before the close. */
    if (id % 2 == 1 && netproc_delete_process(p) != NETPROC_OK) fail(t, "delete failed", id);
}

static void cycle_log(void *ud, netproc_process *server, netproc_process *client, const char *msg, size_t len) {
    struct totals *t = ud;
    (void)server, (void)msg, (void)len;
    if (client == NULL) {
        fail(t, "accept failed", 0);
        return;
    }
    t->accepted++;
    size_t listed = stress_process_count(t->ctx);
    if (listed > t->peak_listed) t->peak_listed = listed;
}

static void cycle_sentinel(void *ud, netproc_process *p, const char *msg, size_t len) {
    struct totals *t = ud;
    struct conn *c = netproc_process_userdata(p);
    if (len >= 10 && memcmp(msg, "open from ", 10) == 0) {
        t->opened++;
        return;
    }
    bool deleted = len == 8 && memcmp(msg, "deleted\n", 8) == 0;
    bool broken = len == 33 && memcmp(msg, "connection broken by remote peer\n", 33) == 0;
    if (c == NULL) {
        if (!deleted) fail(t, "a connection closed before sending anything", 0); /* (or the server) */
        return;
    }
    if (!c->complete) fail(t, "closed before the cycle's 8 bytes", c->id);
    if (deleted && c->id % 2 == 1) t->deleted_by_server++;
    else if (broken && c->id % 2 == 0) t->closed_by_client++;
    else fail(t, "unexpected sentinel message for this cycle", c->id);
}

/* ---- a worker: plain blocking sockets ------------------------------------------- */

static void worker_fail(const char *what, uint32_t id) {
    fprintf(stderr, "stress_cycles worker: %s (cycle %u): %s\n", what, id, strerror(errno));
    _exit(1); /* in the forked child */
}

static int run_worker(long long port, uint32_t cycles, uint32_t first, uint32_t step) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    struct timeval tv = {10, 0};
    for (uint32_t id = first; id < cycles; id += step) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) worker_fail("socket", id);
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) worker_fail("SO_RCVTIMEO", id);
        if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0) worker_fail("SO_SNDTIMEO", id);
        if (connect(fd, (const struct sockaddr *)&a, sizeof a) != 0) worker_fail("connect", id);
        uint8_t out[8], in[9];
        uint32_t check = CHECK_WORD(id);
        memcpy(out, &id, 4);
        memcpy(out + 4, &check, 4);
        if (send(fd, out, sizeof out, MSG_NOSIGNAL) != (ssize_t)sizeof out) worker_fail("send", id);
        size_t got = 0;
        while (got < sizeof out) {
            ssize_t r = recv(fd, in + got, sizeof in - got, 0);
            if (r <= 0) worker_fail(r == 0 ? "EOF before the echo" : "recv", id);
            got += (size_t)r;
        }
        if (got != sizeof out || memcmp(in, out, sizeof out) != 0) worker_fail("echo differs", id);
        if (id % 2 == 1) {
            /* The server closes: nothing more, then EOF. */
            ssize_t r = recv(fd, in, sizeof in, 0);
            if (r != 0) worker_fail(r > 0 ? "bytes after the echo" : "no EOF after the echo", id);
        }
        if (close(fd) != 0) worker_fail("close", id);
    }
    return 0;
}

int main(int argc, char **argv) {
    uint32_t cycles = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 100000u;
    uint32_t workers = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 4u;
    CHECK(cycles >= 1 && cycles <= 10000000u && workers >= 1 && workers <= 64);
    const char *name = "stress_cycles";
    struct stress_baseline base = stress_begin(name, WATCHDOG_S);

    netproc_context *ctx = new_context();
    struct totals t = {.cycles = cycles, .ctx = ctx};
    t.seen = calloc(cycles, 1);
    CHECK_NOT_NULL(t.seen);
    size_t listed_before = stress_process_count(ctx);
    netproc_arg args[] = {
        ARG(":name", STR("cycles")),        ARG(":service", netproc_t()),
        ARG(":server", INT(256)),
        ARG(":filter", netproc_filter(cycle_filter, &t)),
        ARG(":sentinel", netproc_sentinel(cycle_sentinel, &t)),
        ARG(":log", netproc_log(cycle_log, &t)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    long long port = contact_int(server, ":service");
    int fds_with_server = count_open_fds();

    pid_t *pids = calloc(workers, sizeof *pids);
    CHECK_NOT_NULL(pids);
    fflush(stdout);
    for (uint32_t w = 0; w < workers; w++) {
        pids[w] = fork();
        CHECK(pids[w] >= 0);
        if (pids[w] == 0) {
            alarm(WATCHDOG_S - 10);
            int code = run_worker(port, cycles, w, workers);
            fflush(NULL);
            _exit(code); /* a forked copy of the parent: its heap is the parent's to check */
        }
    }

    uint32_t running = workers;
    int worst_code = 0;
    uint64_t deadline = monotonic_ms() + (WATCHDOG_S - 15) * 1000u;
    while (monotonic_ms() < deadline) {
        CHECK(netproc_poll(ctx, 20) >= 0);
        for (uint32_t w = 0; w < workers; w++) {
            int code;
            if (pids[w] > 0 && stress_child_done(pids[w], &code)) {
                pids[w] = 0;
                running--;
                if (code != 0) worst_code = code;
            }
        }
        if (running == 0 && (worst_code != 0 || t.closed_by_client + t.deleted_by_server >= cycles)) break;
    }
    for (uint32_t w = 0; w < workers; w++)
        if (pids[w] > 0) {
            int code = stress_wait_child(pids[w], 1000);
            if (code != 0) worst_code = code;
        }
    size_t listed_after = stress_process_count(ctx);
    int fds_after_cycles = count_open_fds();
    CHECK_OK(ctx, netproc_delete_process(server));
    size_t listed_end = stress_process_count(ctx);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);

    size_t seen_once = 0;
    for (uint32_t i = 0; i < cycles; i++) seen_once += t.seen[i] == 1;
    free(t.seen);
    free(pids);

    printf("# %s: %u cycles by %u workers (connect, 8 bytes each way, close; server closes odd cycles)\n", name,
           cycles, workers);
    printf("# %s: accepted %zu, opened %zu, echoed %zu, closed by client %zu, deleted by server %zu\n", name,
           t.accepted, t.opened, t.echoed, t.closed_by_client, t.deleted_by_server);
    printf("# %s: cycles seen exactly once %zu/%u, bytes checked by the server %llu and by the clients %llu\n",
           name, seen_once, cycles, (unsigned long long)t.bytes_checked,
           (unsigned long long)(worst_code == 0 ? 8ull * cycles : 0ull));
    printf("# %s: process list before %zu, peak %zu, after the cycles %zu, after deleting the server %zu\n",
           name, listed_before, t.peak_listed, listed_after, listed_end);
    printf("# %s: descriptors with the server alone %d, after the cycles %d; worker exit %d\n", name,
           fds_with_server, fds_after_cycles, worst_code);
    if (t.first_error[0]) printf("# %s: %s (%zu errors)\n", name, t.first_error, t.errors);

    int failures = 0;
    if (worst_code != 0 || t.errors != 0 || seen_once != cycles || t.accepted != cycles || t.opened != cycles
        || t.echoed != cycles || t.closed_by_client != cycles / 2 || t.deleted_by_server != cycles - cycles / 2
        || listed_before != 0 || listed_after != 1 || listed_end != 0 || fds_after_cycles != fds_with_server)
        failures++;
    failures += stress_end(name, &base);
    printf("%s - %s\n", failures ? "not ok" : "ok", name);
    return failures ? 1 : 0;
}
