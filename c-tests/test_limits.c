/* test_limits: the differences from Emacs 28.2 (docs/DIFFERENCES.md) that concern limits and
 * closing: no FD_SETSIZE ceiling, a paused (not busy) accept loop when descriptors run out, and
 * :linger t (queued data is sent) against :linger 0 (an abortive close). */
#include "check.h"
#include "pump.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>

/* Emacs refuses descriptors of 1024 and more (FD_SETSIZE); netproc is limited only by the
 * open-file limit. Hold 1,500 connections (3,000 descriptors) and echo on the last one. */
static void no_fd_setsize_ceiling(void) {
    enum { CLIENTS = 1500 };
    struct rlimit limit;
    CHECK(getrlimit(RLIMIT_NOFILE, &limit) == 0);
    rlim_t want = 2 * CLIENTS + 256;
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < want) SKIP_TEST("hard open-file limit too low");
    if (limit.rlim_cur < want) {
        limit.rlim_cur = want;
        CHECK(setrlimit(RLIMIT_NOFILE, &limit) == 0);
    }
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "many", &rec);
    long long port = contact_int(server, ":service");
    netproc_process **clients = calloc(CLIENTS, sizeof *clients);
    CHECK_NOT_NULL(clients);
    for (int i = 0; i < CLIENTS; i++) {
        netproc_arg args[] = {ARG(":name", STR("c")), ARG(":service", INT(port)),
                              ARG(":filter", REC_FILTER_V(&rec))};
        CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &clients[i]));
        /* Accept as we go so the listen backlog never fills. */
        if (i % 4 == 3) CHECK(netproc_poll(ctx, 0) >= 0);
    }
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_LOG, server) == CLIENTS, scaled_ms(20000)));
    CHECK(count_open_fds() > 2 * CLIENTS);
    netproc_process *last = clients[CLIENTS - 1];
    CHECK_OK(ctx, netproc_process_send(last, (const uint8_t *)"far\n", 4));
    /* The accepted side of the last client echoes nothing (the recorder only records),
     * so check the server side got it: it lives on a descriptor far above 1024. */
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_FILTER, NULL, "far\n") >= 0, scaled_ms(5000)));
    CHECK_STR_EQ(netproc_process_status(last), "open");
    for (int i = 0; i < CLIENTS; i++) netproc_process_free(clients[i]);
    free(clients);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* When accept() fails for lack of descriptors, Emacs logs "accept failed with code24\n" on
 * every pump iteration, thousands of times a second. netproc pauses accepting for a short
 * back-off and logs once per pause, then accepts the waiting connections once descriptors
 * are free again. */
/* How many of this process's descriptors are below 1024, and how many at or above. */
static void count_descriptors(int *low, int *high) {
    *low = *high = 0;
    DIR *dir = opendir("/proc/self/fd");
    CHECK(dir != NULL);
    int own = dirfd(dir);
    for (struct dirent *entry; (entry = readdir(dir)) != NULL;) {
        if (entry->d_name[0] == '.') continue;
        int fd = atoi(entry->d_name);
        if (fd == own) continue;
        if (fd < 1024) (*low)++;
        else (*high)++;
    }
    closedir(dir);
}

/* With a descriptor floor (what the Emacs module sets, so that Emacs's select keeps the
 * numbers below FD_SETSIZE), a server, a client and the accepted connection take no
 * descriptor below 1024; without it they do. */
static void descriptor_floor_keeps_low_numbers_free(void) {
    struct rlimit limit;
    CHECK(getrlimit(RLIMIT_NOFILE, &limit) == 0);
    if (limit.rlim_cur < 4096) {
        CHECK(limit.rlim_max == RLIM_INFINITY || limit.rlim_max >= 4096);
        limit.rlim_cur = 4096;
        CHECK(setrlimit(RLIMIT_NOFILE, &limit) == 0);
    }
    netproc_context *ctx = new_context();
    CHECK_EQ(netproc_descriptor_floor(), 0);
    CHECK_EQ(netproc_set_descriptor_floor(1024), NETPROC_OK);
    CHECK_EQ(netproc_descriptor_floor(), 1024);
    int low_before, high_before;
    count_descriptors(&low_before, &high_before);
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    long long port = contact_int(server, ":service");
    netproc_process *client = start_client(ctx, "cli", port, &rec);
    pump_for(ctx, 100);
    int low, high;
    count_descriptors(&low, &high);
    CHECK_EQ(low, low_before);
    CHECK_EQ(high, high_before + 3);
    CHECK_EQ(netproc_set_descriptor_floor(0), NETPROC_OK);
    netproc_process *again = start_client(ctx, "low", port, &rec);
    pump_for(ctx, 100);
    count_descriptors(&low, &high);
    CHECK_EQ(low, low_before + 2);
    netproc_delete_process(again);
    netproc_delete_process(client);
    netproc_delete_process(server);
    netproc_process_free(again);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

static void accept_failure_pauses_instead_of_spinning(void) {
    /* valgrind polices descriptors itself: when accept() returns one over its own limit it
     * closes it and reports EMFILE, so the kernel has already dropped the connection. */
    const char *preload = getenv("LD_PRELOAD");
    if (preload && strstr(preload, "vgpreload")) SKIP_TEST("valgrind's accept() wrapper drops connections on EMFILE");
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "full", &rec);
    long long port = contact_int(server, ":service");
    int peers[3];
    for (int i = 0; i < 3; i++) peers[i] = raw_connect(AF_INET, port);

    /* Use up every descriptor: a low soft limit, then dup until EMFILE. */
    struct rlimit limit;
    CHECK(getrlimit(RLIMIT_NOFILE, &limit) == 0);
    struct rlimit low = {(rlim_t)count_open_fds() + 16, limit.rlim_max};
    CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    int fillers[64];
    int filled = 0;
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(null_fd >= 0);
    while (filled < 64) {
        int fd = fcntl(null_fd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) {
            CHECK_EQ(errno, EMFILE);
            break;
        }
        fillers[filled++] = fd;
    }
    CHECK(filled < 64);

    uint64_t start = monotonic_ms();
    pump_for(ctx, 500);
    uint64_t elapsed = monotonic_ms() - start;
    size_t failures = rec_count(&rec, REC_LOG, server);
    CHECK(failures >= 1);
    CHECK(rec_find(&rec, 0, REC_LOG, server, "accept failed with code24\n") == 0);
    /* One log per 100 ms pause at most (plus the first): far from a busy loop. */
    CHECK(failures <= elapsed / 100 + 2);
    CHECK_NULL(rec.events[0].client);

    for (int i = 0; i < filled; i++) close(fillers[i]);
    close(null_fd);
    CHECK(setrlimit(RLIMIT_NOFILE, &limit) == 0);
    size_t before = rec.count;
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_SENTINEL, NULL) == 3, scaled_ms(3000)));
    CHECK_EQ(rec_find(&rec, before, REC_LOG, server, "accept from 127.0.0.1\n") >= 0, 1);
    for (int i = 0; i < 3; i++) close(peers[i]);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

enum { QUEUED = 8 << 20 };

/* A client with `linger` sends QUEUED bytes to a raw peer that does not read yet, and is
 * deleted with most of them still queued. */
static netproc_process *client_with_queued_output(netproc_context *ctx, netproc_value linger, int *peer,
                                                  uint8_t *payload) {
    long long port = 0;
    int listener = raw_tcp_listener(&port, 4096);
    netproc_arg args[] = {ARG(":name", STR("lingerer")), ARG(":service", INT(port)), ARG(":linger", linger)};
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));
    *peer = raw_accept(ctx, listener, scaled_ms(3000));
    close(listener);
    fill_pattern(payload, QUEUED, 7, 0);
    CHECK_OK(ctx, netproc_process_send(p, payload, QUEUED));
    CHECK(netproc_process_output_pending(p) > 0);
    CHECK_OK(ctx, netproc_delete_process(p));
    return p;
}

/* :linger t (the docstring's meaning): everything queued reaches the peer, then EOF. */
static void linger_t_sends_queued_data_before_closing(void) {
    netproc_context *ctx = new_context();
    uint8_t *payload = malloc(QUEUED), *sink = malloc(QUEUED);
    CHECK(payload && sink);
    int peer;
    netproc_process *p = client_with_queued_output(ctx, netproc_t(), &peer, payload);
    size_t got = 0;
    CHECK(peer_read(ctx, peer, sink, QUEUED, &got, QUEUED, true, scaled_ms(20000)));
    CHECK_EQ(got, QUEUED);
    CHECK(memcmp(sink, payload, QUEUED) == 0);
    CHECK_EQ(netproc_process_output_lost(p), 0);
    close(peer);
    netproc_process_free(p);
    free(payload);
    free(sink);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* :linger 0: an abortive close. The peer gets a reset before all the data, and netproc
 * reports the bytes it never wrote instead of dropping them silently. */
static void linger_zero_is_abortive_and_reported(void) {
    netproc_context *ctx = new_context();
    uint8_t *payload = malloc(QUEUED), *sink = malloc(QUEUED);
    CHECK(payload && sink);
    int peer;
    netproc_process *p = client_with_queued_output(ctx, netproc_integer(0), &peer, payload);
    CHECK(netproc_process_output_lost(p) > 0);
    size_t got = 0;
    bool reset = false;
    uint64_t deadline = monotonic_ms() + scaled_ms(5000);
    while (!reset && monotonic_ms() < deadline) {
        ssize_t n = recv(peer, sink + got, QUEUED - got, MSG_DONTWAIT);
        if (n > 0) got += (size_t)n;
        else if (n == 0) break;
        else if (errno == ECONNRESET) reset = true;
        else CHECK(netproc_poll(ctx, 1) >= 0);
    }
    CHECK(reset);
    CHECK(got < QUEUED);
    CHECK_EQ(got + netproc_process_output_lost(p) <= QUEUED, 1);
    close(peer);
    netproc_process_free(p);
    free(payload);
    free(sink);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* Options that need privileges give a clear file-error when refused: run as an
 * unprivileged user (this case is a forked child, so dropping root affects nothing else),
 * where SO_PRIORITY above 6 needs CAP_NET_ADMIN. */
static void privileged_option_refused_is_file_error(void) {
    if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) SKIP_TEST("cannot drop root");
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_tcp_listener(&port, 0);
    netproc_arg args[] = {ARG(":name", STR("prio")), ARG(":service", INT(port)), ARG(":priority", INT(7))};
    netproc_process *p = NULL;
    int rc = netproc_make_network_process(ctx, args, NARGS(args), &p);
    if (rc == NETPROC_OK) SKIP_TEST("this kernel lets unprivileged users set SO_PRIORITY 7");
    CHECK_EQ(rc, NETPROC_E_FILE);
    CHECK_NULL(p);
    CHECK_STR_EQ(last_error_symbol(ctx), "file-error");
    CHECK_EQ(last_error_errno(ctx), EPERM);
    CHECK_STR_EQ(last_error_message(ctx), "Cannot set network option: Operation not permitted, :priority, 7");
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

int main(void) {
    static const struct test_case cases[] = {
        {"no_fd_setsize_ceiling", no_fd_setsize_ceiling, 60},
        {"accept_failure_pauses_instead_of_spinning", accept_failure_pauses_instead_of_spinning, 20},
        {"descriptor_floor_keeps_low_numbers_free", descriptor_floor_keeps_low_numbers_free, 20},
        {"linger_t_sends_queued_data_before_closing", linger_t_sends_queued_data_before_closing, 30},
        {"linger_zero_is_abortive_and_reported", linger_zero_is_abortive_and_reported, 20},
        {"privileged_option_refused_is_file_error", privileged_option_refused_is_file_error, 10},
    };
    return run_tests(cases, NARGS(cases));
}
