/* test_smoke: the shortest path through the C API — a server, a client, one echo. */
#include "check.h"
#include "pump.h"

static void echo_round_trip(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    long long port = contact_int(server, ":service");
    CHECK(port > 0);
    netproc_process *client = start_client(ctx, "cli", port, &rec);
    CHECK_STR_EQ(netproc_process_status(client), "open");

    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"ping", 4));
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_FILTER, NULL, "ping") >= 0, 3000));
    long accepted = rec_find(&rec, 0, REC_LOG, server, "accept from 127.0.0.1\n");
    CHECK(accepted >= 0);
    netproc_process *conn = rec.events[accepted].client;
    CHECK(rec_find(&rec, 0, REC_SENTINEL, conn, "open from 127.0.0.1\n") > accepted);

    CHECK_OK(ctx, netproc_process_send(conn, (const uint8_t *)"pong", 4));
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_FILTER, client, "pong") >= 0, 3000));

    CHECK_OK(ctx, netproc_delete_process(client));
    CHECK(rec_find(&rec, 0, REC_SENTINEL, client, "deleted\n") >= 0);
    CHECK(PUMP_UNTIL(ctx, rec_find(&rec, 0, REC_SENTINEL, conn, "connection broken by remote peer\n") >= 0, 3000));

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

int main(void) {
    static const struct test_case cases[] = {
        {"echo_round_trip", echo_round_trip, 10},
    };
    return run_tests(cases, NARGS(cases));
}
