/* test_values: values a host hands netproc and gets back. Accepted connections share
 * their server's plist instead of copying it; converting a value has a size budget, so a
 * value with shared structure that doubles at each level, or one that contains itself,
 * is refused instead of exhausting time, memory or the stack (README: API conventions,
 * "Values"). */
#include "check.h"
#include "pump.h"

/* Resident set size of this process, in bytes (0 without /proc). */
static size_t resident_bytes(void) {
    FILE *statm = fopen("/proc/self/statm", "r");
    if (statm == NULL) return 0;
    unsigned long size = 0, resident = 0;
    int got = fscanf(statm, "%lu %lu", &size, &resident);
    fclose(statm);
    return got == 2 ? (size_t)resident * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

/* Emacs's server_accept_connection gives each connection a copy of the server's plist's
 * spine (Fcopy_sequence) and shares the elements. A server whose plist holds 8 MiB accepts
 * 64 connections, each of which is then given its own filter (which writes into its
 * contact plist) and asked for its whole contact: the resident size grows by far less
 * than one copy per connection (512 MiB). */
static void accepted_connections_share_the_server_plist(void) {
    enum { CONNECTIONS = 64, BIG = 8 << 20 };
    if (resident_bytes() == 0) SKIP_TEST("/proc/self/statm is not available");
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    char *big = malloc(BIG);
    CHECK_NOT_NULL(big);
    memset(big, 'p', BIG);
    netproc_value plist_items[] = {SYM(":big"), netproc_string_n((const uint8_t *)big, BIG)};
    netproc_arg args[] = {
        ARG(":name", STR("srv")),           ARG(":server", netproc_t()),
        ARG(":service", netproc_t()),       ARG(":log", REC_LOG_V(&rec)),
        ARG(":plist", netproc_list(plist_items, 2)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    long long port = contact_int(server, ":service");
    size_t before = resident_bytes();
    int peers[CONNECTIONS];
    for (int i = 0; i < CONNECTIONS; i++) {
        peers[i] = raw_connect(AF_INET, port);
        CHECK(netproc_poll(ctx, 0) >= 0);
    }
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_LOG, server) == CONNECTIONS, scaled_ms(10000)));
    for (size_t i = 0; i < rec.count; i++) {
        netproc_process *client = rec.events[i].client;
        if (rec.events[i].kind != REC_LOG || client == NULL) continue;
        netproc_value filter = REC_FILTER_V(&rec);
        CHECK_OK(ctx, netproc_set_process_filter(client, &filter));
        netproc_value contact;
        CHECK_OK(ctx, netproc_process_contact(client, ":name", false, &contact));
        CHECK(value_is_string(&contact, "srv"));
        netproc_value_free(&contact);
    }
    size_t grown = resident_bytes() - before;
    if (grown >= 64u << 20) check_fail_(__FILE__, __LINE__, "resident size grew by %zu MiB", grown >> 20);
    /* And the plist a connection reports is the server's. */
    netproc_process *first = rec.events[rec_find(&rec, 0, REC_LOG, server, NULL)].client;
    netproc_value plist;
    CHECK_OK(ctx, netproc_process_plist(first, &plist));
    CHECK_EQ(plist.kind, NETPROC_VALUE_LIST);
    CHECK_EQ(plist.count, 2);
    CHECK(value_is_symbol(&plist.items[0], ":big"));
    CHECK_MEM_EQ(plist.items[1].bytes, plist.items[1].length, big, BIG);
    netproc_value_free(&plist);
    for (int i = 0; i < CONNECTIONS; i++) close(peers[i]);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    free(big);
}

/* Make a process with `plist` as its :plist: NETPROC_E_INVALID with `message` after the
 * function and key, and nothing left in the process list. */
static void expect_refused_plist(netproc_value plist, const char *why) {
    netproc_context *ctx = new_context();
    netproc_arg args[] = {ARG(":name", STR("v")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
                          ARG(":plist", plist)};
    netproc_process *p = NULL;
    char want[256];
    snprintf(want, sizeof want, "netproc_make_network_process: :plist: Value too large or circular: %s", why);
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p), NETPROC_E_INVALID, "error", want);
    CHECK_NULL(p);
    CHECK_EQ(listed_processes(ctx), 0);
    /* The same through a setter. */
    netproc_arg ok[] = {ARG(":name", STR("v")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    CHECK_OK(ctx, netproc_make_network_process(ctx, ok, NARGS(ok), &p));
    snprintf(want, sizeof want, "netproc_set_process_plist: value: Value too large or circular: %s", why);
    CHECK_ERROR(ctx, netproc_set_process_plist(p, &plist), NETPROC_E_INVALID, "error", want);
    netproc_value now;
    CHECK_OK(ctx, netproc_process_plist(p, &now));
    CHECK_EQ(now.kind, NETPROC_VALUE_NIL);
    netproc_delete_process(p);
    netproc_process_free(p);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* 64 levels, each a LIST whose two items are the level below: 64 levels deep, which is
 * allowed, but 2^65 nodes as a tree. Refused once the element budget is spent, at once
 * rather than after ages. */
static void doubling_dag_is_refused(void) {
    enum { LEVELS = 64 };
    static netproc_value pairs[LEVELS][2];
    netproc_value level = STR("leaf");
    for (int i = 0; i < LEVELS; i++) {
        pairs[i][0] = level;
        pairs[i][1] = level;
        level = netproc_list(pairs[i], 2);
    }
    uint64_t start = monotonic_ms();
    expect_refused_plist(level, "more than 1048576 elements");
    CHECK(monotonic_ms() - start < scaled_ms(5000));
}

/* A LIST whose items are the list itself, once or twice (a doubling cycle): reading goes
 * down the first item first, so the nesting gives out before the element budget. */
static void self_referencing_list_is_refused(void) {
    static netproc_value one[1], two[2];
    netproc_value self = netproc_list(one, 1);
    one[0] = self;
    expect_refused_plist(self, "nested more than 64 levels");
    netproc_value twice = netproc_list(two, 2);
    two[0] = twice;
    two[1] = twice;
    expect_refused_plist(twice, "nested more than 64 levels");
}

/* A thousand items that all point at one 1 MiB string would be 1 GiB once read: refused
 * once the string bytes pass 256 MiB. */
static void shared_big_string_is_refused(void) {
    enum { ITEMS = 1000, BIG = 1 << 20 };
    char *big = malloc(BIG);
    netproc_value *items = calloc(ITEMS, sizeof *items);
    CHECK_NOT_NULL(big);
    CHECK_NOT_NULL(items);
    memset(big, 'b', BIG);
    for (int i = 0; i < ITEMS; i++) items[i] = netproc_string_n((const uint8_t *)big, BIG);
    expect_refused_plist(netproc_list(items, ITEMS), "more than 268435456 bytes of strings");
    free(items);
    free(big);
}

int main(void) {
    static const struct test_case cases[] = {
        {"accepted_connections_share_the_server_plist", accepted_connections_share_the_server_plist, 60},
        {"doubling_dag_is_refused", doubling_dag_is_refused, 20},
        {"self_referencing_list_is_refused", self_referencing_list_is_refused, 20},
        {"shared_big_string_is_refused", shared_big_string_is_refused, 20},
    };
    return run_tests(cases, NARGS(cases));
}
