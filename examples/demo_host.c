/*
 * demo_host — a small C host using only <netproc.h>.
 *
 * It starts an echo server on 127.0.0.1 (random port), connects three clients, has each
 * send a few lines, and prints every filter, sentinel and log event as it happens. The
 * server's filter echoes each line back in upper case. When every client has had all its
 * echoes, the clients are deleted one by one, the server last, and the demo exits 0.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netproc.h"

#define CLIENTS 3
#define LINES_PER_CLIENT 3

static size_t echoes_received;

static void print_event(const char *what, netproc_process *p, const char *text, size_t len) {
    printf("%-9s %-28s ", what, netproc_process_name(p, NULL));
    putchar('"');
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') fputs("\\n", stdout);
        else putchar(text[i]);
    }
    puts("\"");
}

/* Server side: every accepted connection inherits this filter and echoes in upper case. */
static void echo_filter(void *userdata, netproc_process *p, const uint8_t *data, size_t len) {
    (void)userdata;
    print_event("filter", p, (const char *)data, len);
    char upper[4096];
    size_t n = len < sizeof upper ? len : sizeof upper;
    for (size_t i = 0; i < n; i++) upper[i] = (char)toupper(data[i]);
    if (netproc_process_send(p, (const uint8_t *)upper, n) < 0) fprintf(stderr, "echo failed\n");
}

/* Client side: count the lines that came back. */
static void client_filter(void *userdata, netproc_process *p, const uint8_t *data, size_t len) {
    (void)userdata;
    print_event("filter", p, (const char *)data, len);
    for (size_t i = 0; i < len; i++)
        if (data[i] == '\n') echoes_received++;
}

static void sentinel(void *userdata, netproc_process *p, const char *message, size_t len) {
    (void)userdata;
    print_event("sentinel", p, message, len);
}

static void log_accept(void *userdata, netproc_process *server, netproc_process *client, const char *message,
                       size_t len) {
    (void)userdata;
    (void)client;
    print_event("log", server, message, len);
}

static int fail(netproc_context *ctx, const char *what) {
    const char *symbol = "", *message = "";
    netproc_last_error(ctx, &symbol, &message, NULL);
    fprintf(stderr, "demo_host: %s: (%s) %s\n", what, symbol, message);
    return 1;
}

int main(void) {
    netproc_context *ctx = NULL;
    if (netproc_context_new(&ctx) < 0) return fail(NULL, "netproc_context_new");
    printf("netproc %s\n", netproc_version_string());

    netproc_arg server_args[] = {
        {":name", netproc_string("echo")},
        {":server", netproc_t()},
        {":service", netproc_t()}, /* a random free port */
        {":filter", netproc_filter(echo_filter, NULL)},
        {":sentinel", netproc_sentinel(sentinel, NULL)},
        {":log", netproc_log(log_accept, NULL)},
    };
    netproc_process *server = NULL;
    if (netproc_make_network_process(ctx, server_args, 6, &server) < 0) return fail(ctx, "server");
    netproc_value port;
    netproc_process_contact(server, ":service", false, &port);
    printf("server %s listening on 127.0.0.1:%lld\n", netproc_process_name(server, NULL), (long long)port.integer);

    netproc_process *clients[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        netproc_arg args[] = {
            {":name", netproc_string("client")}, /* made unique: client, client<1>, ... */
            {":service", port},
            {":filter", netproc_filter(client_filter, NULL)},
            {":sentinel", netproc_sentinel(sentinel, NULL)},
        };
        if (netproc_make_network_process(ctx, args, 4, &clients[i]) < 0) return fail(ctx, "client");
        for (int line = 0; line < LINES_PER_CLIENT; line++) {
            char text[64];
            int n = snprintf(text, sizeof text, "line %d from %s\n", line, netproc_process_name(clients[i], NULL));
            if (netproc_process_send(clients[i], (const uint8_t *)text, (size_t)n) < 0) return fail(ctx, "send");
        }
    }
    netproc_value_free(&port);

    /* Pump until every line has come back; bounded so a broken build cannot hang. */
    for (int turn = 0; turn < 500 && echoes_received < CLIENTS * LINES_PER_CLIENT; turn++)
        if (netproc_poll(ctx, 10) < 0) return fail(ctx, "poll");
    if (echoes_received < CLIENTS * LINES_PER_CLIENT) {
        fprintf(stderr, "demo_host: only %zu of %d echoes arrived\n", echoes_received, CLIENTS * LINES_PER_CLIENT);
        return 1;
    }

    /* Deleting a client runs its "deleted" sentinel at once; the server side sees the close
     * on the next polls as "connection broken by remote peer". */
    for (int i = 0; i < CLIENTS; i++) {
        netproc_delete_process(clients[i]);
        netproc_process_free(clients[i]);
    }
    for (int turn = 0; turn < 20; turn++) netproc_poll(ctx, 10);
    netproc_delete_process(server);
    netproc_process_free(server);
    netproc_context_free(ctx);
    puts("done");
    return 0;
}
