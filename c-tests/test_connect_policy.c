/* test_connect_policy: netproc's connect policy (issue 15, item 1; README "Beyond Emacs"):
 * :connect-timeout, Happy Eyeballs (RFC 8305) with :attempt-delay and
 * netproc_context_set_connect_attempt_delay(), and delete-process closing the attempts in
 * flight (docs/DIFFERENCES.md: Emacs tries addresses one after the other, each for as long
 * as the kernel's connect takes).
 *
 * Loopback alone cannot lose a SYN on purpose, so the program runs in a private network
 * and mount namespace of its own (made in main(), before the cases fork): lo up, a veth
 * pair whose far end drops everything (static neighbours to a MAC nobody has), and a
 * private /etc/hosts bind-mounted over the real one, where
 *   dual.netproc.test  is 2001:db8:77::2 (blackholed) and 127.0.0.1 (a live listener),
 *   hole.netproc.test  is 2001:db8:77::2 and 10.77.0.2 (both blackholed).
 * A blackholed connect would wait for the kernel's SYN retries (minutes); the bounds below
 * are far from both that and the expected times (250 ms for the IPv4 fallback, 500 ms for
 * a deadline). Making the namespace needs root (or CAP_SYS_ADMIN and CAP_NET_ADMIN) and
 * ip(8): without them every case fails and says why; none is skipped. */
#include "check.h"
#include "pump.h"

#include <netdb.h>
#include <sched.h>
#include <sys/mount.h>

#define HOSTS_TEXT                                                                      \
    "127.0.0.1 localhost\n::1 localhost\n"                                              \
    "2001:db8:77::2 dual.netproc.test\n127.0.0.1 dual.netproc.test\n"                   \
    "2001:db8:77::2 hole.netproc.test\n10.77.0.2 hole.netproc.test\n"

/* The network: lo, and veth0 whose neighbours 10.77.0.2 and 2001:db8:77::2 are a MAC that
 * veth1 drops (packets for another host), so their SYNs vanish without an answer. */
#define NETWORK_SETUP                                                                   \
    "set -e; export PATH=\"$PATH:/usr/sbin:/sbin\"; "                                    \
    "ip link set lo up; "                                                               \
    "ip link add veth0 type veth peer name veth1; "                                     \
    "ip link set veth0 up; ip link set veth1 up; "                                      \
    "ip addr add 10.77.0.1/24 dev veth0; "                                              \
    "ip -6 addr add 2001:db8:77::1/64 dev veth0 nodad; "                                \
    "ip neigh replace 10.77.0.2 lladdr 02:00:00:00:77:02 dev veth0 nud permanent; "     \
    "ip -6 neigh replace 2001:db8:77::2 lladdr 02:00:00:00:77:02 dev veth0 nud permanent"

/* Why the namespace could not be made, or "" once it is. */
static char setup_failure[512] = "not set up";

static void set_failure(const char *what) {
    snprintf(setup_failure, sizeof setup_failure, "%s: %s", what, strerror(errno));
}

/* Enter a private network and mount namespace and build the network described above. */
static void enter_private_network(void) {
    if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
        set_failure("unshare(CLONE_NEWNET | CLONE_NEWNS) (needs root)");
        return;
    }
    /* Keep the bind mount below out of the parent's mount namespace. */
    if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0) {
        set_failure("mount --make-rprivate /");
        return;
    }
    int status = system(NETWORK_SETUP " >&2");
    if (status != 0) {
        snprintf(setup_failure, sizeof setup_failure,
                 "building the test network with ip(8) failed (status %d): needs ip and veth", status);
        return;
    }
    char hosts[] = "/tmp/netproc-hosts-XXXXXX";
    int fd = mkstemp(hosts);
    if (fd < 0) {
        set_failure("mkstemp");
        return;
    }
    bool written = write(fd, HOSTS_TEXT, strlen(HOSTS_TEXT)) == (ssize_t)strlen(HOSTS_TEXT);
    close(fd);
    if (!written || mount(hosts, "/etc/hosts", "none", MS_BIND, NULL) != 0) {
        set_failure("bind-mounting a private /etc/hosts");
        unlink(hosts);
        return;
    }
    /* The mount holds the file; its name is not needed any more. */
    unlink(hosts);
    setup_failure[0] = '\0';
}

/* Every case starts here: in the private network, or failing with the reason. */
static void require_private_network(void) {
    if (setup_failure[0] != '\0') check_fail_(__FILE__, __LINE__, "no private network namespace: %s", setup_failure);
}

/* The first address family getaddrinfo gives for `name` (what Happy Eyeballs starts with). */
static int first_family(const char *name) {
    struct addrinfo hints, *list = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    CHECK_EQ(getaddrinfo(name, "80", &hints, &list), 0);
    int family = list->ai_family;
    freeaddrinfo(list);
    return family;
}

/* The IPv6 address must come first, or the IPv4 fallback is not what is being tested. */
static void require_ipv6_first(const char *name) {
    if (first_family(name) != AF_INET6)
        check_fail_(__FILE__, __LINE__, "getaddrinfo(%s) puts IPv4 first here: nothing to fall back from", name);
}

/* (TICKS . HZ), Emacs's time value, for a fraction of a second; the cons points into
 * `pair`, which must outlive it. */
static netproc_value seconds_fraction(netproc_value pair[2], int64_t ticks, int64_t hz) {
    pair[0] = INT(ticks);
    pair[1] = INT(hz);
    return netproc_cons(pair);
}

static netproc_process *nowait_to(netproc_context *ctx, const char *host, long long port, struct recorder *rec,
                                  const netproc_arg *extra, size_t nextra) {
    netproc_arg args[8] = {
        ARG(":name", STR("c")),           ARG(":host", STR(host)),
        ARG(":service", INT(port)),       ARG(":nowait", netproc_t()),
        ARG(":sentinel", REC_SENTINEL_V(rec)),
    };
    size_t n = 5;
    for (size_t i = 0; i < nextra && n < NARGS(args); i++) args[n++] = extra[i];
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, n, &client));
    CHECK_NOT_NULL(client);
    return client;
}

static void check_remote_is_ipv4_loopback(netproc_process *p, long long port) {
    netproc_value v;
    const long long expected[] = {127, 0, 0, 1, port};
    CHECK_OK(NULL, netproc_process_contact(p, ":remote", false, &v));
    bool ok = value_is_int_vector(&v, expected, 5);
    netproc_value_free(&v);
    CHECK(ok);
}

/* ---- Happy Eyeballs ------------------------------------------------------------ */

/* A :nowait client of a dual-stack name whose IPv6 address blackholes: the IPv4 attempt
 * starts after the default 250 ms and wins; the IPv6 attempt is closed. */
static void nowait_dual_stack_falls_back_to_ipv4(void) {
    require_private_network();
    require_ipv6_first("dual.netproc.test");
    long long port = 0;
    int listener = raw_listen(&port);
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    uint64_t start = monotonic_ms();
    netproc_process *client = nowait_to(ctx, "dual.netproc.test", port, &rec, NULL, 0);
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_SENTINEL, client) > 0, scaled_ms(5000)));
    uint64_t took = monotonic_ms() - start;
    fprintf(stderr, "# open over IPv4 after %llu ms (the IPv6 address blackholes)\n", (unsigned long long)took);
    CHECK_STR_EQ(rec.events[0].data, "open\n");
    CHECK_STR_EQ(netproc_process_status(client), "open");
    CHECK(took < scaled_ms(1000));
    CHECK(took >= 100); /* the IPv6 attempt went first and had its 250 ms */
    check_remote_is_ipv4_loopback(client, port);
    int peer = accept(listener, NULL, NULL);
    CHECK(peer >= 0);
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"hi", 2));
    char got[2];
    CHECK_EQ(recv(peer, got, 2, MSG_WAITALL), 2);
    close(peer);
    close(listener);
    netproc_process_free(client);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* The same without :nowait: the create call itself returns connected over IPv4. */
static void blocking_dual_stack_falls_back_to_ipv4(void) {
    require_private_network();
    require_ipv6_first("dual.netproc.test");
    long long port = 0;
    int listener = raw_listen(&port);
    netproc_context *ctx = new_context();
    netproc_arg args[] = {ARG(":name", STR("c")), ARG(":host", STR("dual.netproc.test")), ARG(":service", INT(port))};
    netproc_process *client = NULL;
    uint64_t start = monotonic_ms();
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));
    uint64_t took = monotonic_ms() - start;
    fprintf(stderr, "# blocking create open over IPv4 after %llu ms\n", (unsigned long long)took);
    CHECK_STR_EQ(netproc_process_status(client), "open");
    CHECK(took < scaled_ms(1000));
    CHECK(took >= 100);
    check_remote_is_ipv4_loopback(client, port);
    close(listener);
    netproc_process_free(client);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* The delay is the host's: with the context's set to 3 s the IPv4 attempt has not started
 * after 1 s; `:attempt-delay` (1 . 20), 50 ms, overrides it for one process. */
static void attempt_delay_is_settable(void) {
    require_private_network();
    netproc_value fraction[2];
    require_ipv6_first("dual.netproc.test");
    long long port = 0;
    int listener = raw_listen(&port);
    netproc_context *ctx = new_context();
    CHECK_OK(ctx, netproc_context_set_connect_attempt_delay(ctx, 3000));
    struct recorder rec = {0};
    netproc_process *slow = nowait_to(ctx, "dual.netproc.test", port, &rec, NULL, 0);
    pump_for(ctx, 1000);
    CHECK_STR_EQ(netproc_process_status(slow), "connect");
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, slow), 0);

    netproc_arg quick_delay[] = {ARG(":attempt-delay", seconds_fraction(fraction, 1, 20))};
    uint64_t start = monotonic_ms();
    netproc_process *quick = nowait_to(ctx, "dual.netproc.test", port, &rec, quick_delay, 1);
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_SENTINEL, quick) > 0, scaled_ms(5000)));
    uint64_t took = monotonic_ms() - start;
    fprintf(stderr, "# with :attempt-delay 0.05: open after %llu ms\n", (unsigned long long)took);
    CHECK_STR_EQ(netproc_process_status(quick), "open");
    CHECK(took < 2500); /* well before the context's 3 s */
    CHECK_STR_EQ(netproc_process_status(slow), "connect");
    /* The slow one goes over IPv4 too, once its 3 s are up. */
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_SENTINEL, slow) > 0, scaled_ms(8000)));
    CHECK_STR_EQ(netproc_process_status(slow), "open");
    close(listener);
    netproc_process_free(slow);
    netproc_process_free(quick);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* ---- :connect-timeout ------------------------------------------------------------ */

/* A :nowait client of a host that never answers fails at its deadline, with ETIMEDOUT:
 * status failed, the sentinel "failed with code 110\n", process-exit-status 110. */
static void nowait_blackholed_host_fails_at_the_deadline(void) {
    require_private_network();
    netproc_value fraction[2];
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_arg timeout[] = {ARG(":connect-timeout", seconds_fraction(fraction, 1, 2))};
    uint64_t start = monotonic_ms();
    netproc_process *client = nowait_to(ctx, "10.77.0.2", 80, &rec, timeout, 1);
    CHECK_STR_EQ(netproc_process_status(client), "connect");
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_SENTINEL, client) > 0, scaled_ms(5000)));
    uint64_t took = monotonic_ms() - start;
    fprintf(stderr, "# :nowait to a blackholed host failed after %llu ms (deadline 500 ms)\n",
            (unsigned long long)took);
    CHECK_STR_EQ(rec.events[0].data, "failed with code 110\n");
    CHECK_STR_EQ(netproc_process_status(client), "failed");
    netproc_value v;
    CHECK_OK(ctx, netproc_process_exit_status(client, &v));
    CHECK_EQ(v.kind, NETPROC_VALUE_INTEGER);
    CHECK_EQ(v.integer, ETIMEDOUT);
    netproc_value_free(&v);
    CHECK(took >= 400);
    CHECK(took < scaled_ms(5000));
    netproc_process_free(client);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* Every address of the name blackholes: the deadline ends the race, both attempts. */
static void nowait_dual_stack_blackhole_fails_at_the_deadline(void) {
    require_private_network();
    netproc_value fraction[2];
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_arg timeout[] = {ARG(":connect-timeout", seconds_fraction(fraction, 1, 2))};
    int fds_before = count_open_fds();
    uint64_t start = monotonic_ms();
    netproc_process *client = nowait_to(ctx, "hole.netproc.test", 80, &rec, timeout, 1);
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_SENTINEL, client) > 0, scaled_ms(5000)));
    uint64_t took = monotonic_ms() - start;
    CHECK_STR_EQ(rec.events[0].data, "failed with code 110\n");
    CHECK(took >= 400 && took < scaled_ms(5000));
    CHECK_EQ(count_open_fds(), fds_before); /* both attempts closed */
    netproc_process_free(client);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* Without :nowait the create call gives up at the deadline: (file-error "make client
 * process failed" "Connection timed out"), as Emacs signals a failed connect. */
static void blocking_blackholed_host_fails_at_the_deadline(void) {
    require_private_network();
    netproc_value fraction[2];
    netproc_context *ctx = new_context();
    netproc_arg args[] = {
        ARG(":name", STR("c")),
        ARG(":host", STR("hole.netproc.test")),
        ARG(":service", INT(80)),
        ARG(":connect-timeout", seconds_fraction(fraction, 1, 2)),
    };
    netproc_process *client = NULL;
    int fds_before = count_open_fds();
    uint64_t start = monotonic_ms();
    CHECK_ERROR_PREFIX(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client), NETPROC_E_FILE,
                       "file-error", "make client process failed: Connection timed out, :name, c");
    uint64_t took = monotonic_ms() - start;
    fprintf(stderr, "# blocking create to a blackholed host failed after %llu ms (deadline 500 ms)\n",
            (unsigned long long)took);
    CHECK_EQ(last_error_errno(ctx), ETIMEDOUT);
    CHECK_NULL(client);
    CHECK(took >= 400 && took < scaled_ms(5000));
    CHECK_EQ(count_open_fds(), fds_before);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- delete-process ---------------------------------------------------------------- */

/* Deleting a client whose two attempts are in flight closes both at once: its only
 * sentinel is "deleted\n", and no deadline or attempt runs for it afterwards. */
static void delete_closes_the_attempts_in_flight(void) {
    require_private_network();
    require_ipv6_first("hole.netproc.test");
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_arg timeout[] = {ARG(":connect-timeout", INT(1))};
    int fds_before = count_open_fds();
    netproc_process *client = nowait_to(ctx, "hole.netproc.test", 80, &rec, timeout, 1);
    /* Both attempts start: IPv6 at once, IPv4 250 ms later. */
    CHECK(PUMP_UNTIL(ctx, count_open_fds() == fds_before + 2, scaled_ms(3000)));
    CHECK_STR_EQ(netproc_process_status(client), "connect");
    CHECK_OK(ctx, netproc_delete_process(client));
    CHECK_EQ(count_open_fds(), fds_before);
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, client), 1);
    CHECK_STR_EQ(rec.events[0].data, "deleted\n");
    pump_for(ctx, 1500); /* past the deadline it had */
    CHECK_EQ(rec_count(&rec, REC_SENTINEL, client), 1);
    CHECK_STR_EQ(netproc_process_status(client), "closed");
    netproc_process_free(client);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* ---- arguments and features ---------------------------------------------------------- */

static void arguments_are_checked(void) {
    require_private_network();
    netproc_value fraction[2];
    netproc_context *ctx = new_context();
    netproc_process *client = NULL;
    netproc_arg zero[] = {ARG(":name", STR("c")), ARG(":connect-timeout", INT(0))};
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, zero, NARGS(zero), &client), NETPROC_E_ERROR, "error",
                ":connect-timeout must be more than 0 seconds");
    netproc_arg text[] = {ARG(":name", STR("c")), ARG(":attempt-delay", STR("fast"))};
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, text, NARGS(text), &client), NETPROC_E_WRONG_TYPE,
                "wrong-type-argument", "Wrong type argument: numberp, \"fast\"");
    netproc_arg negative[] = {ARG(":name", STR("c")), ARG(":attempt-delay", INT(-1))};
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, negative, NARGS(negative), &client), NETPROC_E_ERROR,
                "error", ":attempt-delay must not be negative");
    /* Known to the strict keyword mode, and to featurep. */
    CHECK_OK(ctx, netproc_context_set_strict_keywords(ctx, true));
    long long port = 0;
    int listener = raw_listen(&port);
    netproc_arg both[] = {
        ARG(":name", STR("c")),
        ARG(":service", INT(port)),
        ARG(":connect-timeout", INT(5)),
        ARG(":attempt-delay", seconds_fraction(fraction, 1, 10)),
    };
    CHECK_OK(ctx, netproc_make_network_process(ctx, both, NARGS(both), &client));
    CHECK_STR_EQ(netproc_process_status(client), "open");
    const char *keywords[] = {":connect-timeout", ":attempt-delay"};
    for (size_t i = 0; i < NARGS(keywords); i++) {
        netproc_value feature = SYM(keywords[i]);
        bool has = false;
        CHECK_OK(NULL, netproc_network_featurep(&feature, &has));
        CHECK(has);
    }
    close(listener);
    netproc_process_free(client);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

int main(void) {
    enter_private_network();
    if (setup_failure[0] != '\0') fprintf(stderr, "# no private network namespace: %s\n", setup_failure);
    static const struct test_case cases[] = {
        {"nowait_dual_stack_falls_back_to_ipv4", nowait_dual_stack_falls_back_to_ipv4, 10},
        {"blocking_dual_stack_falls_back_to_ipv4", blocking_dual_stack_falls_back_to_ipv4, 10},
        {"attempt_delay_is_settable", attempt_delay_is_settable, 20},
        {"nowait_blackholed_host_fails_at_the_deadline", nowait_blackholed_host_fails_at_the_deadline, 10},
        {"nowait_dual_stack_blackhole_fails_at_the_deadline", nowait_dual_stack_blackhole_fails_at_the_deadline, 10},
        {"blocking_blackholed_host_fails_at_the_deadline", blocking_blackholed_host_fails_at_the_deadline, 10},
        {"delete_closes_the_attempts_in_flight", delete_closes_the_attempts_in_flight, 10},
        {"arguments_are_checked", arguments_are_checked, 10},
    };
    return run_tests(cases, sizeof cases / sizeof cases[0]);
}
