/*
 * test_bounds.c — nothing grows without bound (issue 11): the send queue has a limit and
 * costs memory in proportion to its bytes; a deleted process with output queued to a peer
 * that never reads closes after the drain time; a server that cannot accept logs once per
 * pause however many clients arrive.
 */
#include "check.h"
#include "pump.h"

#include <pthread.h>
#include <sys/resource.h>

/* Resident memory of this process, in KiB. */
static long rss_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    CHECK_NOT_NULL(f);
    long pages = 0, resident = 0;
    CHECK_EQ(fscanf(f, "%ld %ld", &pages, &resident), 2);
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* A netproc client connected to a raw peer that never reads, with 16 MiB already sent:
 * more than the kernel's buffers take, so netproc queues what follows. */
static netproc_process *client_to_sleeping_peer(netproc_context *ctx, struct recorder *rec, int *peer,
                                                int *listener) {
    long long port;
    *listener = raw_tcp_listener(&port, 4096);
    netproc_process *client = start_client(ctx, "cli", port, rec);
    *peer = raw_accept(ctx, *listener, scaled_ms(2000));
    const size_t fill = 16u << 20;
    uint8_t *data = calloc(fill, 1);
    CHECK_NOT_NULL(data);
    CHECK_OK(ctx, netproc_process_send(client, data, fill));
    free(data);
    CHECK(netproc_process_output_pending(client) > 0);
    return client;
}

/* Sends past the per-process limit fail whole, with a status code and an Emacs error, and
 * queue nothing; the process and the host go on, and a send that fits still works. */
static void send_queue_limit_is_an_error(void) {
    netproc_context *ctx = new_context();
    CHECK_OK(ctx, netproc_context_set_send_queue_max(ctx, 20u << 20));
    struct recorder rec = {0};
    int peer, listener;
    netproc_process *client = client_to_sleeping_peer(ctx, &rec, &peer, &listener);
    static uint8_t chunk[64 * 1024];
    int rc = NETPROC_OK;
    int sends = 0;
    while (rc == NETPROC_OK && sends < 1000) {
        rc = netproc_process_send(client, chunk, sizeof chunk);
        sends++;
    }
    CHECK_EQ(rc, NETPROC_E_ERROR);
    CHECK_STR_EQ(last_error_symbol(ctx), "error");
    CHECK(strstr(last_error_message(ctx), "Output queue of process cli is full") != NULL);
    size_t queued = netproc_process_output_pending(client);
    CHECK(queued <= (20u << 20));
    CHECK(queued > (20u << 20) - sizeof chunk);
    /* Nothing of the refused send was queued; a send that fits still goes in. */
    size_t room = (20u << 20) - queued;
    if (room > 0) CHECK_OK(ctx, netproc_process_send(client, chunk, room));
    CHECK_STR_EQ(netproc_process_status(client), "open");
    close(peer);
    close(listener);
    netproc_delete_process(client);
    netproc_process_free(client);
    rec_free(&rec);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* A million one-byte sends to a peer that never reads cost memory in proportion to their
 * bytes (about a megabyte), not a heap allocation each (tens of megabytes). */
static void tiny_sends_cost_their_bytes(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    int peer, listener;
    netproc_process *client = client_to_sleeping_peer(ctx, &rec, &peer, &listener);
    size_t pending_before = netproc_process_output_pending(client);
    long before = rss_kib();
    for (int i = 0; i < 1000000; i++) {
        uint8_t byte = (uint8_t)i;
        CHECK_EQ(netproc_process_send(client, &byte, 1), NETPROC_OK);
    }
    long grown = rss_kib() - before;
    CHECK_EQ(netproc_process_output_pending(client), pending_before + 1000000);
    if (grown > 8 * 1024) fprintf(stderr, "  resident memory grew by %ld KiB\n", grown);
    CHECK(grown <= 8 * 1024);
    close(peer);
    close(listener);
    netproc_delete_process(client);
    netproc_process_free(client);
    rec_free(&rec);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* delete-process with output queued to a peer that never reads: the socket closes after
 * the drain time, the unsent bytes count as lost, and no descriptor outlives it. Setting
 * :linger after the delete is an error, not a silent no-op. */
static void delete_drains_within_the_deadline(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    CHECK_OK(ctx, netproc_context_set_drain_timeout(ctx, 300));
    struct recorder rec = {0};
    int peer, listener;
    netproc_process *client = client_to_sleeping_peer(ctx, &rec, &peer, &listener);
    size_t queued = netproc_process_output_pending(client);
    CHECK(queued > 0);
    int fds_open = count_open_fds();
    CHECK_OK(ctx, netproc_delete_process(client));
    netproc_value zero = INT(0);
    CHECK_ERROR(ctx, netproc_set_network_process_option(client, ":linger", &zero, false, NULL), NETPROC_E_ERROR,
                "error", "Process is not running");
    pump_for(ctx, 100);
    CHECK_EQ(count_open_fds(), fds_open); /* still draining */
    CHECK(PUMP_UNTIL(ctx, count_open_fds() == fds_open - 1, scaled_ms(2000)));
    CHECK_EQ(netproc_process_output_pending(client), 0);
    uint64_t lost = netproc_process_output_lost(client);
    CHECK(lost > 0 && lost <= queued);
    close(peer);
    close(listener);
    netproc_process_free(client);
    rec_free(&rec);
    CHECK_NO_LEAK(ctx, baseline);
}

static size_t accept_failures(const struct recorder *rec) {
    size_t n = 0;
    for (size_t i = 0; i < rec->count; i++)
        if (rec->events[i].kind == REC_LOG && strncmp(rec->events[i].data, "accept failed with code", 23) == 0) n++;
    return n;
}

struct fast_reader {
    int fd;
    volatile bool stop;
    size_t total;
};

static void *read_everything(void *arg) {
    struct fast_reader *r = (struct fast_reader *)arg;
    static uint8_t buf[1 << 20];
    while (!r->stop) {
        ssize_t n = recv(r->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) r->total += (size_t)n;
        else if (n == 0) break;
    }
    return NULL;
}

/* Flushing has a per-turn budget, as reading does: with 64 MiB queued for a peer that
 * reads as fast as it can, one poll writes a few MiB at most and leaves the rest for the
 * next turns, so one poll never runs for seconds; every byte still arrives. */
static void one_poll_writes_within_its_budget(void) {
    netproc_context *ctx = new_context();
    long long port;
    int listener = raw_tcp_listener(&port, 0);
    struct recorder rec = {0};
    netproc_process *client = start_client(ctx, "cli", port, &rec);
    int peer = raw_accept(ctx, listener, scaled_ms(2000));
    const size_t total = 64u << 20;
    uint8_t *data = calloc(total, 1);
    CHECK_NOT_NULL(data);
    /* Queue it all while nobody reads: the first send fills the kernel, the rest waits. */
    CHECK_OK(ctx, netproc_process_send(client, data, total));
    free(data);
    size_t before = netproc_process_output_pending(client);
    CHECK(before > total / 2);
    struct fast_reader r = {.fd = peer};
    pthread_t reader;
    CHECK_EQ(pthread_create(&reader, NULL, read_everything, &r), 0);
    sleep_ms(50); /* the reader empties the kernel's buffers: the socket is writable */
    size_t most = 0;
    for (int turn = 0; turn < 5; turn++) {
        size_t pending = netproc_process_output_pending(client);
        CHECK(netproc_poll(ctx, 100) >= 0);
        size_t written = pending - netproc_process_output_pending(client);
        if (written > most) most = written;
    }
    if (most > (8u << 20)) fprintf(stderr, "  one poll wrote %zu bytes\n", most);
    CHECK(most <= (8u << 20));
    CHECK(PUMP_UNTIL(ctx, netproc_process_output_pending(client) == 0, scaled_ms(10000)));
    uint64_t deadline = monotonic_ms() + scaled_ms(5000);
    while (r.total < total && monotonic_ms() < deadline) sleep_ms(5);
    r.stop = true;
    CHECK_EQ(pthread_join(reader, NULL), 0);
    CHECK_EQ(r.total, total);
    close(peer);
    close(listener);
    netproc_delete_process(client);
    netproc_process_free(client);
    rec_free(&rec);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* A server that cannot accept (no descriptors left) pauses: one log call per pause (100
 * ms), however many clients keep arriving meanwhile. Clients connect from a child process,
 * which has descriptors of its own. */
static void accept_failure_logs_once_per_pause(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_arg args[] = {
        ARG(":name", STR("srv")), ARG(":server", INT(64)), ARG(":service", netproc_t()),
        ARG(":host", STR("127.0.0.1")), ARG(":log", REC_LOG_V(&rec)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    long long port = contact_int(server, ":service");
    int open_now = count_open_fds() - 1; /* count_open_fds counted its own directory */
    /* No descriptor left for accept. */
    struct rlimit limit;
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
    limit.rlim_cur = (rlim_t)open_now;
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        struct rlimit plenty = {256, 256};
        setrlimit(RLIMIT_NOFILE, &plenty);
        int fds[40];
        for (int i = 0; i < 40; i++) {
            fds[i] = raw_connect(AF_INET, port);
            usleep(2000);
        }
        usleep(300000);
        for (int i = 0; i < 40; i++) close(fds[i]);
        _exit(0);
    }
    /* 40 clients arrive over ~80 ms; from the first failure on, 80 ms lie within one
     * pause: one log call, however many arrive meanwhile. */
    CHECK(PUMP_UNTIL(ctx, accept_failures(&rec) >= 1, scaled_ms(2000)));
    uint64_t first = monotonic_ms();
    while (monotonic_ms() - first < 80) CHECK(netproc_poll(ctx, 5) >= 0);
    size_t in_first_pause = accept_failures(&rec);
    CHECK_EQ(in_first_pause, 1);
    int status = 0;
    CHECK_EQ(waitpid(child, &status, 0), child);
    netproc_delete_process(server);
    netproc_process_free(server);
    rec_free(&rec);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

int main(void) {
    static const struct test_case cases[] = {
        {"send_queue_limit_is_an_error", send_queue_limit_is_an_error, 10},
        {"tiny_sends_cost_their_bytes", tiny_sends_cost_their_bytes, 20},
        {"delete_drains_within_the_deadline", delete_drains_within_the_deadline, 10},
        {"accept_failure_logs_once_per_pause", accept_failure_logs_once_per_pause, 10},
        {"one_poll_writes_within_its_budget", one_poll_writes_within_its_budget, 20},
    };
    return run_tests(cases, sizeof cases / sizeof cases[0]);
}
