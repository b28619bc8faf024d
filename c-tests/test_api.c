/*
 * test_api: the C boundary itself. NULL in every pointer position, malformed
 * netproc_value input, status codes and netproc_last_error, the panic guard,
 * values handed out (contacts, format-network-address) and the status getters.
 */
#include "check.h"
#include "pump.h"
#include "netproc_testing.h"

/* ---- helpers ------------------------------------------------------------- */

/* A TCP server on 127.0.0.1 with a kernel-chosen port and no callbacks. */
static netproc_process *plain_server(netproc_context *ctx, const char *name) {
    netproc_arg args[] = {ARG(":name", STR(name)), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));
    CHECK_NOT_NULL(p);
    return p;
}

/* A blocking TCP client to 127.0.0.1:port with no callbacks. */
static netproc_process *plain_client(netproc_context *ctx, const char *name, long long port) {
    netproc_arg args[] = {ARG(":name", STR(name)), ARG(":service", INT(port))};
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));
    CHECK_NOT_NULL(p);
    return p;
}

/* How many processes the context lists. */
static size_t process_count(netproc_context *ctx) {
    size_t count = 99;
    CHECK_OK(ctx, netproc_process_list(ctx, NULL, 0, &count));
    return count;
}

/* Creating a server with one extra argument `extra` must fail with NETPROC_E_INVALID
 * (an unreadable value) and create nothing. */
static void check_extra_arg_invalid(netproc_context *ctx, const char *key, netproc_value extra) {
    netproc_arg args[] = {
        ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t()), ARG(key, extra),
    };
    netproc_process *p = (netproc_process *)&args; /* outs are written only on success */
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p), NETPROC_E_INVALID, "error", NULL);
    CHECK_EQ(process_count(ctx), 0);
    CHECK(p == (netproc_process *)&args);
}

static void dummy_filter(void *ud, netproc_process *p, const uint8_t *d, size_t n) {
    (void)ud, (void)p, (void)d, (void)n;
}

static void dummy_sentinel(void *ud, netproc_process *p, const char *m, size_t n) {
    (void)ud, (void)p, (void)m, (void)n;
}

/* ---- NULL pointers --------------------------------------------------------- */

/* Every function taking a context refuses NULL with NETPROC_E_NULL, recorded as this
 * thread's last error (symbol `error`, message naming the function). */
static void null_context_handle(void) {
    int timeout = 7;
    CHECK_ERROR_PREFIX(NULL, netproc_poll(NULL, 0), NETPROC_E_NULL, "error", "netproc_poll: ");
    CHECK(strstr(last_error_message(NULL), "NULL") != NULL);
    CHECK_ERROR_PREFIX(NULL, netproc_backend_fd(NULL), NETPROC_E_NULL, "error", "netproc_backend_fd: ");
    CHECK_ERROR_PREFIX(NULL, netproc_next_timeout(NULL, &timeout), NETPROC_E_NULL, "error", "netproc_next_timeout: ");
    CHECK_EQ(timeout, 7); /* out-parameters are written only on success */
    CHECK_ERROR_PREFIX(NULL, netproc_wakeup(NULL), NETPROC_E_NULL, "error", "netproc_wakeup: ");
    CHECK_ERROR_PREFIX(NULL, netproc_context_set_default_filter(NULL, dummy_filter, NULL), NETPROC_E_NULL, "error",
                       "netproc_context_set_default_filter: ");
    CHECK_ERROR_PREFIX(NULL, netproc_context_set_default_sentinel(NULL, dummy_sentinel, NULL), NETPROC_E_NULL,
                       "error", "netproc_context_set_default_sentinel: ");
    CHECK_ERROR_PREFIX(NULL, netproc_context_set_buffer_hooks(NULL, NULL), NETPROC_E_NULL, "error",
                       "netproc_context_set_buffer_hooks: ");
    CHECK_ERROR_PREFIX(NULL, netproc_context_set_read_max(NULL, 10), NETPROC_E_NULL, "error",
                       "netproc_context_set_read_max: ");
    CHECK_ERROR_PREFIX(NULL, netproc_debug_panic(NULL), NETPROC_E_NULL, "error", "netproc_debug_panic: ");

    netproc_arg args[] = {ARG(":name", STR("x")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    netproc_process *p = NULL;
    CHECK_ERROR_PREFIX(NULL, netproc_make_network_process(NULL, args, NARGS(args), &p), NETPROC_E_NULL, "error",
                       "netproc_make_network_process: ");
    CHECK_NULL(p);
    netproc_process *list[4];
    size_t count = 5;
    CHECK_ERROR_PREFIX(NULL, netproc_process_list(NULL, list, 4, &count), NETPROC_E_NULL, "error",
                       "netproc_process_list: ");
    CHECK_EQ(count, 5);
    CHECK_ERROR_PREFIX(NULL, netproc_get_process(NULL, "x", &p), NETPROC_E_NULL, "error", "netproc_get_process: ");

    /* Freeing NULL is a no-op, like free(NULL); last_error(NULL) tolerates NULL outs. */
    CHECK_EQ(netproc_context_free(NULL), NETPROC_OK);
    CHECK_EQ(netproc_last_error(NULL, NULL, NULL, NULL), NETPROC_E_NULL);
}

/* Every function taking a process refuses NULL: a status for fallible ones, and NULL,
 * false or 0 for those returning a pointer, bool or count. */
static void null_process_handle(void) {
    netproc_value v = netproc_nil(), out = netproc_integer(3);
    bool applied = true;
#define NULL_PROCESS(call, fn) CHECK_ERROR_PREFIX(NULL, call, NETPROC_E_NULL, "error", fn ": ")
    NULL_PROCESS(netproc_delete_process(NULL), "netproc_delete_process");
    NULL_PROCESS(netproc_process_exit_status(NULL, &out), "netproc_process_exit_status");
    NULL_PROCESS(netproc_process_buffer(NULL, &out), "netproc_process_buffer");
    NULL_PROCESS(netproc_process_filter(NULL, &out), "netproc_process_filter");
    NULL_PROCESS(netproc_process_sentinel(NULL, &out), "netproc_process_sentinel");
    NULL_PROCESS(netproc_process_plist(NULL, &out), "netproc_process_plist");
    NULL_PROCESS(netproc_set_process_buffer(NULL, &v), "netproc_set_process_buffer");
    NULL_PROCESS(netproc_set_process_filter(NULL, &v), "netproc_set_process_filter");
    NULL_PROCESS(netproc_set_process_sentinel(NULL, &v), "netproc_set_process_sentinel");
    NULL_PROCESS(netproc_set_process_plist(NULL, &v), "netproc_set_process_plist");
    NULL_PROCESS(netproc_process_contact(NULL, NULL, false, &out), "netproc_process_contact");
    NULL_PROCESS(netproc_process_send(NULL, (const uint8_t *)"x", 1), "netproc_process_send");
    NULL_PROCESS(netproc_process_send_eof(NULL), "netproc_process_send_eof");
    NULL_PROCESS(netproc_stop_process(NULL), "netproc_stop_process");
    NULL_PROCESS(netproc_continue_process(NULL), "netproc_continue_process");
    NULL_PROCESS(netproc_set_process_query_on_exit_flag(NULL, true), "netproc_set_process_query_on_exit_flag");
    NULL_PROCESS(netproc_set_network_process_option(NULL, ":keepalive", &v, false, &applied),
                 "netproc_set_network_process_option");
    NULL_PROCESS(netproc_process_set_userdata(NULL, &v, NULL), "netproc_process_set_userdata");
#undef NULL_PROCESS
    /* Failed calls leave their out-parameters alone. */
    CHECK_EQ(out.kind, NETPROC_VALUE_INTEGER);
    CHECK_EQ(out.integer, 3);
    CHECK(applied);

    size_t length = 42;
    CHECK_NULL(netproc_process_ref(NULL));
    CHECK_NULL(netproc_process_status(NULL));
    CHECK_NULL(netproc_process_name(NULL, &length));
    CHECK_EQ(length, 42);
    CHECK_NULL(netproc_process_userdata(NULL));
    CHECK(!netproc_process_live_p(NULL));
    CHECK(!netproc_process_query_on_exit_flag(NULL));
    CHECK_EQ(netproc_process_output_pending(NULL), 0);
    CHECK_EQ(netproc_process_output_lost(NULL), 0);
    netproc_process_free(NULL); /* accepted, does nothing */
}

/* NULL out-parameters are refused with NETPROC_E_NULL, and a refused
 * make_network_process creates nothing. Errors on a context's process are that context's
 * last error. */
static void null_out_params(void) {
    CHECK_ERROR_PREFIX(NULL, netproc_context_new(NULL), NETPROC_E_NULL, "error", "netproc_context_new: ");

    netproc_context *ctx = new_context();
    CHECK_ERROR_PREFIX(ctx, netproc_next_timeout(ctx, NULL), NETPROC_E_NULL, "error", "netproc_next_timeout: ");

    netproc_arg args[] = {ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    CHECK_ERROR_PREFIX(ctx, netproc_make_network_process(ctx, args, NARGS(args), NULL), NETPROC_E_NULL, "error",
                       "netproc_make_network_process: ");
    CHECK_EQ(process_count(ctx), 0);

    netproc_process *server = plain_server(ctx, "srv");
    CHECK_ERROR_PREFIX(ctx, netproc_process_exit_status(server, NULL), NETPROC_E_NULL, "error",
                       "netproc_process_exit_status: ");
    CHECK_ERROR_PREFIX(ctx, netproc_process_contact(server, ":service", false, NULL), NETPROC_E_NULL, "error",
                       "netproc_process_contact: ");
    CHECK_ERROR_PREFIX(ctx, netproc_process_buffer(server, NULL), NETPROC_E_NULL, "error", "netproc_process_buffer: ");
    CHECK_ERROR_PREFIX(ctx, netproc_process_filter(server, NULL), NETPROC_E_NULL, "error", "netproc_process_filter: ");
    CHECK_ERROR_PREFIX(ctx, netproc_process_sentinel(server, NULL), NETPROC_E_NULL, "error",
                       "netproc_process_sentinel: ");
    CHECK_ERROR_PREFIX(ctx, netproc_process_plist(server, NULL), NETPROC_E_NULL, "error", "netproc_process_plist: ");

    size_t count = 0;
    CHECK_ERROR_PREFIX(ctx, netproc_process_list(ctx, NULL, 0, NULL), NETPROC_E_NULL, "error",
                       "netproc_process_list: ");
    /* out may be NULL only with capacity 0. */
    CHECK_ERROR_PREFIX(ctx, netproc_process_list(ctx, NULL, 4, &count), NETPROC_E_NULL, "error",
                       "netproc_process_list: ");
    CHECK_OK(ctx, netproc_process_list(ctx, NULL, 0, &count));
    CHECK_EQ(count, 1);
    CHECK_ERROR_PREFIX(ctx, netproc_get_process(ctx, "srv", NULL), NETPROC_E_NULL, "error", "netproc_get_process: ");

    netproc_value address = STR("/x");
    CHECK_ERROR_PREFIX(NULL, netproc_format_network_address(&address, false, NULL), NETPROC_E_NULL, "error",
                       "netproc_format_network_address: ");

    /* Optional outs: a NULL length or applied flag is fine. */
    CHECK_NOT_NULL(netproc_process_name(server, NULL));
    netproc_value on = netproc_t();
    CHECK_OK(ctx, netproc_set_network_process_option(server, ":keepalive", &on, false, NULL));

    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* NULL input pointers: the argument array with nargs > 0, an argument's key, value
 * pointers of setters, the option name, data with length > 0, a name, an address. */
static void null_input_pointers(void) {
    netproc_context *ctx = new_context();
    netproc_process *p = (netproc_process *)ctx;

    CHECK_ERROR(ctx, netproc_make_network_process(ctx, NULL, 2, &p), NETPROC_E_NULL, "error",
                "netproc_make_network_process: args is NULL");
    CHECK(p == (netproc_process *)ctx); /* outs are written only on success */
    netproc_arg args[] = {ARG(":name", STR("srv")), ARG(NULL, netproc_t()), ARG(":service", netproc_t())};
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p), NETPROC_E_NULL, "error",
                "netproc_make_network_process: args[1].key is NULL");
    CHECK_EQ(process_count(ctx), 0);

    netproc_process *server = plain_server(ctx, "srv");
    netproc_process *client = plain_client(ctx, "cli", contact_int(server, ":service"));
    CHECK_ERROR_PREFIX(ctx, netproc_set_process_buffer(client, NULL), NETPROC_E_NULL, "error",
                       "netproc_set_process_buffer: ");
    CHECK_ERROR_PREFIX(ctx, netproc_set_process_filter(client, NULL), NETPROC_E_NULL, "error",
                       "netproc_set_process_filter: ");
    CHECK_ERROR_PREFIX(ctx, netproc_set_process_sentinel(client, NULL), NETPROC_E_NULL, "error",
                       "netproc_set_process_sentinel: ");
    CHECK_ERROR_PREFIX(ctx, netproc_set_process_plist(client, NULL), NETPROC_E_NULL, "error",
                       "netproc_set_process_plist: ");

    netproc_value on = netproc_t();
    bool applied = true;
    CHECK_ERROR(ctx, netproc_set_network_process_option(client, NULL, &on, false, &applied), NETPROC_E_NULL,
                "error", "netproc_set_network_process_option: option is NULL");
    CHECK_ERROR(ctx, netproc_set_network_process_option(client, ":keepalive", NULL, false, &applied),
                NETPROC_E_NULL, "error", "netproc_set_network_process_option: value is NULL");
    CHECK(applied);

    CHECK_ERROR(ctx, netproc_process_send(client, NULL, 5), NETPROC_E_NULL, "error",
                "netproc_process_send: data is NULL");
    CHECK_EQ(netproc_process_output_pending(client), 0);
    /* No bytes: NULL data is fine. */
    CHECK_OK(ctx, netproc_process_send(client, NULL, 0));

    CHECK_ERROR(ctx, netproc_get_process(ctx, NULL, &p), NETPROC_E_NULL, "error", "netproc_get_process: name is NULL");
    netproc_value out = netproc_nil();
    CHECK_ERROR_PREFIX(NULL, netproc_format_network_address(NULL, false, &out), NETPROC_E_NULL, "error",
                       "netproc_format_network_address: ");

    /* netproc_string/netproc_symbol over NULL give empty, valid values. */
    netproc_value empty = netproc_string(NULL);
    CHECK_EQ(empty.kind, NETPROC_VALUE_STRING);
    CHECK_EQ(empty.length, 0);
    CHECK_OK(ctx, netproc_format_network_address(&empty, false, &out));
    CHECK(value_is_string(&out, ""));
    netproc_value_free(&out);
    CHECK_EQ(netproc_symbol(NULL).length, 0);

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* The datagram-address pair and the context-free utilities (interfaces, lookup,
 * features) refuse NULL where a pointer is required and accept it where documented. */
static void null_pointers_datagram_and_utilities(void) {
    netproc_value out = netproc_integer(3), nil = netproc_nil();
    bool flag = true;
    CHECK_ERROR_PREFIX(NULL, netproc_process_datagram_address(NULL, &out), NETPROC_E_NULL, "error",
                       "netproc_process_datagram_address: ");
    CHECK_ERROR_PREFIX(NULL, netproc_set_process_datagram_address(NULL, &nil, &flag), NETPROC_E_NULL, "error",
                       "netproc_set_process_datagram_address: ");

    netproc_context *ctx = new_context();
    netproc_process *server = plain_server(ctx, "srv");
    CHECK_ERROR_PREFIX(ctx, netproc_process_datagram_address(server, NULL), NETPROC_E_NULL, "error",
                       "netproc_process_datagram_address: ");
    CHECK_ERROR_PREFIX(ctx, netproc_set_process_datagram_address(server, NULL, &flag), NETPROC_E_NULL, "error",
                       "netproc_set_process_datagram_address: ");
    CHECK(flag);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);

    CHECK_ERROR_PREFIX(NULL, netproc_network_interface_list(false, NULL, NULL), NETPROC_E_NULL, "error",
                       "netproc_network_interface_list: ");
    CHECK_ERROR_PREFIX(NULL, netproc_network_interface_info(NULL, &out), NETPROC_E_NULL, "error",
                       "netproc_network_interface_info: ");
    CHECK_ERROR_PREFIX(NULL, netproc_network_interface_info("lo", NULL), NETPROC_E_NULL, "error",
                       "netproc_network_interface_info: ");
    CHECK_ERROR_PREFIX(NULL, netproc_network_lookup_address_info(NULL, NULL, &out, NULL), NETPROC_E_NULL, "error",
                       "netproc_network_lookup_address_info: ");
    CHECK_ERROR_PREFIX(NULL, netproc_network_lookup_address_info("127.0.0.1", NULL, NULL, NULL), NETPROC_E_NULL,
                       "error", "netproc_network_lookup_address_info: ");
    CHECK_ERROR_PREFIX(NULL, netproc_network_features(NULL), NETPROC_E_NULL, "error", "netproc_network_features: ");
    CHECK_ERROR_PREFIX(NULL, netproc_network_featurep(NULL, NULL), NETPROC_E_NULL, "error",
                       "netproc_network_featurep: ");
    CHECK_EQ(out.kind, NETPROC_VALUE_INTEGER); /* untouched by the failures */

    /* Where NULL is documented as "none": the family, the message, the subfeature. */
    CHECK_OK(NULL, netproc_network_interface_list(false, NULL, &out));
    netproc_value_free(&out);
    CHECK_OK(NULL, netproc_network_lookup_address_info("127.0.0.1", NULL, &out, NULL));
    CHECK_EQ(out.kind, NETPROC_VALUE_LIST);
    netproc_value_free(&out);
    flag = false;
    CHECK_OK(NULL, netproc_network_featurep(NULL, &flag));
    CHECK(flag);

    /* And a malformed value is refused there too. */
    netproc_value bogus = netproc_nil();
    bogus.kind = 99;
    CHECK_ERROR(NULL, netproc_network_featurep(&bogus, &flag), NETPROC_E_INVALID, "error", NULL);
}

/* ---- malformed values ------------------------------------------------------ */

static void value_unknown_kind_invalid(void) {
    netproc_context *ctx = new_context();
    netproc_value bogus = netproc_nil();
    bogus.kind = 99;
    check_extra_arg_invalid(ctx, ":foo", bogus);
    CHECK(strstr(last_error_message(ctx), "99") != NULL);
    bogus.kind = 0xffffffffu;
    check_extra_arg_invalid(ctx, ":foo", bogus);

    /* The same check guards every entry point that reads a value. */
    netproc_value out = netproc_nil();
    bogus.kind = 12; /* one past NETPROC_VALUE_LOG */
    CHECK_ERROR(NULL, netproc_format_network_address(&bogus, false, &out), NETPROC_E_INVALID, "error", NULL);
    netproc_process *server = plain_server(ctx, "srv");
    CHECK_ERROR(ctx, netproc_set_process_plist(server, &bogus), NETPROC_E_INVALID, "error", NULL);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

static void value_string_null_bytes_invalid(void) {
    netproc_context *ctx = new_context();
    check_extra_arg_invalid(ctx, ":foo", netproc_string_n(NULL, 3));
    netproc_value symbol = netproc_symbol("x");
    symbol.bytes = NULL;
    check_extra_arg_invalid(ctx, ":foo", symbol);
    /* Inside a list, too. */
    netproc_value items[2] = {INT(1), netproc_string_n(NULL, 1)};
    check_extra_arg_invalid(ctx, ":plist", netproc_list(items, 2));
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

static void value_sequence_null_items_invalid(void) {
    netproc_context *ctx = new_context();
    check_extra_arg_invalid(ctx, ":plist", netproc_list(NULL, 2));
    check_extra_arg_invalid(ctx, ":local", netproc_vector(NULL, 5));
    check_extra_arg_invalid(ctx, ":coding", netproc_cons(NULL));
    /* An empty list may have NULL items: that is nil. */
    netproc_arg args[] = {
        ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
        ARG(":plist", netproc_list(NULL, 0)),
    };
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));
    netproc_process_free(p);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

static void value_cons_needs_two_items(void) {
    netproc_context *ctx = new_context();
    netproc_value three[3] = {INT(1), INT(2), INT(3)};
    netproc_value cons = netproc_cons(three);
    cons.count = 3;
    check_extra_arg_invalid(ctx, ":foo", cons);
    cons.count = 1;
    check_extra_arg_invalid(ctx, ":foo", cons);
    cons.count = 0;
    check_extra_arg_invalid(ctx, ":foo", cons);
    /* count 2 is fine. */
    cons.count = 2;
    netproc_arg args[] = {
        ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t()), ARG(":foo", cons),
    };
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));
    netproc_process_free(p);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* A value inside 64 containers is read; inside 65 it is refused, so a hostile value
 * cannot exhaust the stack. */
static void value_nesting_limit(void) {
    enum { LIMIT = 64 };
    netproc_value chain[LIMIT + 2];
    netproc_context *ctx = new_context();

    /* chain[0] holds chain[1] holds ... chain[depth - 1] holds an INTEGER at chain[depth]. */
    for (int depth = LIMIT; depth <= LIMIT + 1; depth++) {
        chain[depth] = INT(7);
        for (int i = depth - 1; i >= 0; i--) chain[i] = netproc_list(&chain[i + 1], 1);
        netproc_arg args[] = {
            ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
            ARG(":foo", chain[0]),
        };
        netproc_process *p = NULL;
        if (depth == LIMIT) {
            CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));
            /* The value comes back whole. */
            netproc_value got;
            CHECK_OK(ctx, netproc_process_contact(p, ":foo", false, &got));
            const netproc_value *at = &got;
            for (int i = 0; i < LIMIT; i++) {
                CHECK_EQ(at->kind, NETPROC_VALUE_LIST);
                CHECK_EQ(at->count, 1);
                at = &at->items[0];
            }
            CHECK_EQ(at->kind, NETPROC_VALUE_INTEGER);
            CHECK_EQ(at->integer, 7);
            netproc_value_free(&got);
            CHECK_OK(ctx, netproc_delete_process(p));
            netproc_process_free(p);
        } else {
            CHECK_ERROR(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p), NETPROC_E_INVALID, "error",
                        NULL);
            CHECK_NULL(p);
        }
    }
    CHECK_EQ(process_count(ctx), 0);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* A FILTER, SENTINEL or LOG value without its function pointer is unreadable. */
static void value_function_null_pointer(void) {
    netproc_context *ctx = new_context();
    check_extra_arg_invalid(ctx, ":filter", netproc_filter(NULL, NULL));
    check_extra_arg_invalid(ctx, ":sentinel", netproc_sentinel(NULL, NULL));
    check_extra_arg_invalid(ctx, ":log", netproc_log(NULL, NULL));

    netproc_process *server = plain_server(ctx, "srv");
    netproc_value filter = netproc_filter(NULL, ctx);
    CHECK_ERROR(ctx, netproc_set_process_filter(server, &filter), NETPROC_E_INVALID, "error", NULL);
    netproc_value got;
    CHECK_OK(ctx, netproc_process_filter(server, &got));
    CHECK(value_is_symbol(&got, "internal-default-process-filter"));
    netproc_value_free(&got);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* :filter, :sentinel and :log take only their own kind of function (or nil/t where
 * Emacs allows): anything else is (wrong-type-argument functionp VALUE). */
static void function_slot_wrong_type(void) {
    netproc_context *ctx = new_context();
    struct {
        const char *key;
        netproc_value value;
        const char *message;
    } cases[] = {
        {":filter", netproc_sentinel(dummy_sentinel, NULL), NULL},
        {":filter", INT(5), "Wrong type argument: functionp, 5"},
        {":sentinel", netproc_filter(dummy_filter, NULL), NULL},
        {":sentinel", STR("f"), "Wrong type argument: functionp, \"f\""},
        {":log", INT(1), "Wrong type argument: functionp, 1"},
    };
    for (size_t i = 0; i < NARGS(cases); i++) {
        netproc_arg args[] = {
            ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
            ARG(cases[i].key, cases[i].value),
        };
        netproc_process *p = NULL;
        CHECK_ERROR_PREFIX(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p), NETPROC_E_WRONG_TYPE,
                           "wrong-type-argument",
                           cases[i].message ? cases[i].message : "Wrong type argument: functionp, ");
        if (cases[i].message) CHECK_STR_EQ(last_error_message(ctx), cases[i].message);
        CHECK_NULL(p);
    }
    CHECK_EQ(process_count(ctx), 0);

    /* The setters check the same way. */
    netproc_process *server = plain_server(ctx, "srv");
    netproc_value sentinel = netproc_sentinel(dummy_sentinel, NULL);
    netproc_value filter = netproc_filter(dummy_filter, NULL);
    CHECK_ERROR_PREFIX(ctx, netproc_set_process_filter(server, &sentinel), NETPROC_E_WRONG_TYPE,
                       "wrong-type-argument", "Wrong type argument: functionp, ");
    CHECK_ERROR_PREFIX(ctx, netproc_set_process_sentinel(server, &filter), NETPROC_E_WRONG_TYPE,
                       "wrong-type-argument", "Wrong type argument: functionp, ");
    CHECK_OK(ctx, netproc_set_process_filter(server, &filter));
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- status codes and last error ------------------------------------------- */

static void status_names_and_strings(void) {
#define CODE(c) {c, #c}
    static const struct {
        int code;
        const char *name;
    } codes[] = {
        CODE(NETPROC_OK),           CODE(NETPROC_E_NULL),      CODE(NETPROC_E_INVALID), CODE(NETPROC_E_WRONG_TYPE),
        CODE(NETPROC_E_ERROR),      CODE(NETPROC_E_FILE),      CODE(NETPROC_E_CODING),  CODE(NETPROC_E_REENTRANT),
        CODE(NETPROC_E_CLOSED),     CODE(NETPROC_E_PANIC),     CODE(NETPROC_E_BAD_HANDLE),
        CODE(NETPROC_E_WRONG_THREAD), CODE(NETPROC_HIGH_WATER),
    };
#undef CODE
    for (size_t i = 0; i < NARGS(codes); i++) {
        /* `if (rc < 0)` catches every error; NETPROC_HIGH_WATER is a success. */
        CHECK(codes[i].code <= 0 || codes[i].code == NETPROC_HIGH_WATER);
        CHECK_STR_EQ(netproc_status_name(codes[i].code), codes[i].name);
        const char *text = netproc_status_str(codes[i].code);
        CHECK_NOT_NULL(text);
        CHECK(text[0] != '\0');
        CHECK(strcmp(text, "unknown status") != 0);
        CHECK(netproc_status_str(codes[i].code) == text); /* static storage */
        for (size_t j = 0; j < i; j++) CHECK(strcmp(netproc_status_str(codes[j].code), text) != 0);
    }
    CHECK_STR_EQ(netproc_status_str(NETPROC_OK), "success");
    CHECK_STR_EQ(netproc_status_str(NETPROC_E_INVALID), "invalid argument");

    static const int unknown[] = {2, 3, -12, -100, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < NARGS(unknown); i++) {
        CHECK_STR_EQ(netproc_status_name(unknown[i]), "NETPROC_E_UNKNOWN");
        CHECK_STR_EQ(netproc_status_str(unknown[i]), "unknown status");
    }
}

/* netproc_last_error returns the status of the last failed call on that context; a fresh
 * context has none; successes do not clear it; contexts do not share it. */
static void last_error_tracks_failed_status(void) {
    netproc_context *ctx = new_context();
    netproc_context *other = new_context();
    const char *symbol = "unset", *message = "unset";
    int err = -1;
    CHECK_EQ(netproc_last_error(ctx, &symbol, &message, &err), NETPROC_OK);
    CHECK_NOT_NULL(symbol);
    CHECK_NOT_NULL(message);
    CHECK_EQ(err, 0);

    CHECK_EQ(netproc_next_timeout(ctx, NULL), NETPROC_E_NULL);
    CHECK_EQ(netproc_last_error(ctx, NULL, NULL, NULL), NETPROC_E_NULL);

    netproc_arg bad_name[] = {ARG(":name", INT(5)), ARG(":service", INT(1))};
    netproc_process *p = NULL;
    CHECK_EQ(netproc_make_network_process(ctx, bad_name, NARGS(bad_name), &p), NETPROC_E_WRONG_TYPE);
    CHECK_EQ(netproc_last_error(ctx, &symbol, &message, &err), NETPROC_E_WRONG_TYPE);
    CHECK_STR_EQ(symbol, "wrong-type-argument");
    CHECK_STR_EQ(message, "Wrong type argument: stringp, 5");
    CHECK_EQ(err, 0);

    /* Successful calls leave it alone. */
    netproc_process *server = plain_server(ctx, "srv");
    CHECK(netproc_poll(ctx, 0) >= 0);
    CHECK_EQ(netproc_last_error(ctx, NULL, NULL, NULL), NETPROC_E_WRONG_TYPE);

    /* The other context saw none of this. */
    CHECK_EQ(netproc_last_error(other, NULL, NULL, NULL), NETPROC_OK);
    CHECK_EQ(netproc_make_network_process(other, NULL, 1, &p), NETPROC_E_NULL);
    CHECK_EQ(netproc_last_error(other, NULL, NULL, NULL), NETPROC_E_NULL);
    CHECK_EQ(netproc_last_error(ctx, NULL, NULL, NULL), NETPROC_E_WRONG_TYPE);

    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(other), NETPROC_OK);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* The strings stay valid, unchanged, across successful calls, until the next failure
 * replaces them. (Under ASan or valgrind a dangling pointer would be reported.) */
static void last_error_strings_live_until_next_failure(void) {
    netproc_context *ctx = new_context();
    netproc_arg bad_type[] = {ARG(":name", STR("x")), ARG(":type", SYM("bogus"))};
    netproc_process *p = NULL;
    CHECK_EQ(netproc_make_network_process(ctx, bad_type, NARGS(bad_type), &p), NETPROC_E_ERROR);
    const char *symbol = NULL, *message = NULL;
    CHECK_EQ(netproc_last_error(ctx, &symbol, &message, NULL), NETPROC_E_ERROR);
    CHECK_STR_EQ(symbol, "error");
    CHECK_STR_EQ(message, "Unsupported connection type");

    netproc_process *server = plain_server(ctx, "srv");
    netproc_process *client = plain_client(ctx, "cli", contact_int(server, ":service"));
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"hi", 2));
    for (int i = 0; i < 5; i++) CHECK(netproc_poll(ctx, 0) >= 0);
    netproc_value v;
    CHECK_OK(ctx, netproc_process_contact(client, NULL, false, &v));
    netproc_value_free(&v);
    CHECK_STR_EQ(symbol, "error");
    CHECK_STR_EQ(message, "Unsupported connection type");

    /* The next failure replaces them. */
    netproc_value bad = INT(1);
    CHECK_EQ(netproc_set_process_filter(client, &bad), NETPROC_E_WRONG_TYPE);
    const char *symbol2 = NULL, *message2 = NULL;
    CHECK_EQ(netproc_last_error(ctx, &symbol2, &message2, NULL), NETPROC_E_WRONG_TYPE);
    CHECK_STR_EQ(symbol2, "wrong-type-argument");
    CHECK_STR_EQ(message2, "Wrong type argument: functionp, 1");

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- the panic boundary ------------------------------------------------------ */

static void panic_poisons_context(void) {
    netproc_context *ctx = new_context();
    netproc_process *server = plain_server(ctx, "srv");

    CHECK_EQ(netproc_debug_panic(ctx), NETPROC_E_PANIC);
    const char *symbol = NULL, *message = NULL;
    CHECK_EQ(netproc_last_error(ctx, &symbol, &message, NULL), NETPROC_E_PANIC);
    CHECK_STR_EQ(symbol, "netproc-panic");
    CHECK_NOT_NULL(message);
    CHECK(message[0] != '\0');

    /* Everything that needs the context's machinery now fails the same way. */
    CHECK_ERROR(ctx, netproc_poll(ctx, 0), NETPROC_E_PANIC, "netproc-panic", NULL);
    netproc_arg args[] = {ARG(":name", STR("srv2")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    netproc_process *p = NULL;
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p), NETPROC_E_PANIC, "netproc-panic",
                NULL);
    CHECK_NULL(p);
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, NULL, 0, &p), NETPROC_E_PANIC, "netproc-panic", NULL);
    CHECK_ERROR(ctx, netproc_stop_process(server), NETPROC_E_PANIC, "netproc-panic", NULL);
    CHECK_ERROR(ctx, netproc_debug_panic(ctx), NETPROC_E_PANIC, "netproc-panic", NULL);

    /* It can still be freed, with its processes. */
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

static void panic_spares_other_contexts(void) {
    netproc_context *sick = new_context();
    netproc_context *well = new_context();
    CHECK_EQ(netproc_debug_panic(sick), NETPROC_E_PANIC);

    struct recorder rec = {0};
    netproc_process *server = start_server(well, "srv", &rec);
    netproc_process *client = start_client(well, "cli", contact_int(server, ":service"), &rec);
    CHECK_OK(well, netproc_process_send(client, (const uint8_t *)"ping", 4));
    CHECK(PUMP_UNTIL(well, rec_find(&rec, 0, REC_FILTER, NULL, "ping") >= 0, 3000));
    CHECK_EQ(netproc_last_error(well, NULL, NULL, NULL), NETPROC_OK);
    CHECK_EQ(netproc_poll(sick, 0), NETPROC_E_PANIC);

    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(well), NETPROC_OK);
    CHECK_EQ(netproc_context_free(sick), NETPROC_OK);
    rec_free(&rec);
}

/* ---- values out ---------------------------------------------------------------- */

/* (process-contact SERVER) is the 2-element list (HOST SERVICE): (nil PORT) without
 * :host, ("127.0.0.1" PORT) with it. */
static void contact_host_service_list(void) {
    netproc_context *ctx = new_context();
    netproc_process *server = plain_server(ctx, "srv");
    long long port = contact_int(server, ":service");
    CHECK(port > 0 && port < 65536);
    netproc_value v;
    CHECK_OK(ctx, netproc_process_contact(server, NULL, false, &v));
    CHECK_EQ(v.kind, NETPROC_VALUE_LIST);
    CHECK_EQ(v.count, 2);
    CHECK_EQ(v.items[0].kind, NETPROC_VALUE_NIL);
    CHECK_EQ(v.items[1].kind, NETPROC_VALUE_INTEGER);
    CHECK_EQ(v.items[1].integer, port);
    netproc_value_free(&v);
    CHECK_EQ(v.kind, NETPROC_VALUE_NIL); /* reset by netproc_value_free */

    netproc_arg args[] = {
        ARG(":name", STR("srv2")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
        ARG(":host", STR("127.0.0.1")),
    };
    netproc_process *server2 = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server2));
    CHECK_OK(ctx, netproc_process_contact(server2, NULL, false, &v));
    CHECK_EQ(v.kind, NETPROC_VALUE_LIST);
    CHECK_EQ(v.count, 2);
    CHECK(value_is_string(&v.items[0], "127.0.0.1"));
    CHECK_EQ(v.items[0].bytes[v.items[0].length], '\0'); /* strings handed out are NUL-terminated */
    CHECK_EQ(v.items[1].integer, contact_int(server2, ":service"));
    netproc_value_free(&v);

    netproc_process_free(server2);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* (process-contact SERVER t) is the whole plist, keywords as SYMBOLs, in argument order
 * with :service replaced by the port and :local appended (as Emacs prints
 * (:name "srv" :server t :service PORT :local [127 0 0 1 PORT])). */
static void contact_t_whole_plist(void) {
    netproc_context *ctx = new_context();
    netproc_process *server = plain_server(ctx, "srv");
    long long port = contact_int(server, ":service");
    netproc_value v;
    CHECK_OK(ctx, netproc_process_contact(server, "t", false, &v));
    CHECK_EQ(v.kind, NETPROC_VALUE_LIST);
    CHECK_EQ(v.count, 8);
    CHECK(value_is_symbol(&v.items[0], ":name"));
    CHECK(value_is_string(&v.items[1], "srv"));
    CHECK(value_is_symbol(&v.items[2], ":server"));
    CHECK_EQ(v.items[3].kind, NETPROC_VALUE_T);
    CHECK(value_is_symbol(&v.items[4], ":service"));
    CHECK_EQ(v.items[5].kind, NETPROC_VALUE_INTEGER);
    CHECK_EQ(v.items[5].integer, port);
    CHECK(value_is_symbol(&v.items[6], ":local"));
    long long local[] = {127, 0, 0, 1, port};
    CHECK(value_is_int_vector(&v.items[7], local, 5));
    netproc_value_free(&v);

    /* A key that is not there gives NIL. */
    CHECK_OK(ctx, netproc_process_contact(server, ":remote", false, &v));
    CHECK_EQ(v.kind, NETPROC_VALUE_NIL);
    netproc_value_free(&v);

    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

static void contact_local_of_server_is_vector(void) {
    netproc_context *ctx = new_context();
    netproc_process *server = plain_server(ctx, "srv");
    long long port = contact_int(server, ":service");
    netproc_value v;
    CHECK_OK(ctx, netproc_process_contact(server, ":local", false, &v));
    long long want[] = {127, 0, 0, 1, port};
    CHECK(value_is_int_vector(&v, want, 5));
    netproc_value_free(&v);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* format-network-address on a value: the STRING it gives (NULL: NIL). */
static void check_format(const netproc_value *address, bool omit_port, const char *want) {
    netproc_value out = netproc_integer(-1);
    CHECK_OK(NULL, netproc_format_network_address(address, omit_port, &out));
    if (want == NULL) {
        if (out.kind != NETPROC_VALUE_NIL)
            check_fail_(__FILE__, __LINE__, "format-network-address: want nil, got kind %u", (unsigned)out.kind);
    } else {
        if (!value_is_string(&out, want))
            check_fail_(__FILE__, __LINE__, "format-network-address: want \"%s\", got kind %u \"%.*s\"", want,
                        (unsigned)out.kind, out.kind == NETPROC_VALUE_STRING ? (int)out.length : 0,
                        out.kind == NETPROC_VALUE_STRING ? (const char *)out.bytes : "");
        CHECK_EQ(out.bytes[out.length], '\0');
    }
    netproc_value_free(&out);
}

/* An INTEGER vector over `n` numbers (items stored in `buf`). */
static netproc_value int_vector(netproc_value *buf, const long long *ints, size_t n) {
    for (size_t i = 0; i < n; i++) buf[i] = INT(ints[i]);
    return netproc_vector(buf, n);
}

/* Every form of Emacs's Fformat_network_address, both with and without OMIT-PORT
 * (verified against Emacs 28.2). */
static void format_network_address_table(void) {
    static const struct {
        long long ints[9];
        size_t n;
        const char *plain, *omit;
    } rows[] = {
        {{127, 0, 0, 1}, 4, "127.0.0.1", "127.0.0.1"},
        {{127, 0, 0, 1, 80}, 5, "127.0.0.1:80", "127.0.0.1"},
        {{0, 0, 0, 0, 0, 0, 0, 1}, 8, "0:0:0:0:0:0:0:1", "0:0:0:0:0:0:0:1"},
        {{0, 0, 0, 0, 0, 0, 0, 1, 80}, 9, "[0:0:0:0:0:0:0:1]:80", "0:0:0:0:0:0:0:1"},
        {{65535, 10, 0, 255, 4096, 0, 0, 1, 443}, 9, "[ffff:a:0:ff:1000:0:0:1]:443", "ffff:a:0:ff:1000:0:0:1"},
        {{1, 2, 3, 4, 70000}, 5, NULL, "1.2.3.4"},
        {{0, 0, 0, 0, 0, 0, 0, 1, 70000}, 9, NULL, "0:0:0:0:0:0:0:1"},
        {{1, 2, 3, 4, -1}, 5, NULL, "1.2.3.4"},
        {{256, 0, 0, 1, 80}, 5, NULL, NULL},
        {{-1, 0, 0, 0, 1}, 5, NULL, NULL},
        {{65536, 0, 0, 0, 0, 0, 0, 1}, 8, NULL, NULL},
        {{1, 2, 3}, 3, NULL, NULL},
        {{1, 2, 3, 4, 5, 6}, 6, NULL, NULL},
        {{0}, 0, NULL, NULL},
    };
    netproc_value buf[9];
    for (size_t i = 0; i < NARGS(rows); i++) {
        netproc_value v = int_vector(buf, rows[i].ints, rows[i].n);
        check_format(&v, false, rows[i].plain);
        check_format(&v, true, rows[i].omit);
    }

    /* Vectors with non-integer elements: ["1" 2 3 4] and [a b c d]. */
    netproc_value mixed[4] = {STR("1"), INT(2), INT(3), INT(4)};
    netproc_value v = netproc_vector(mixed, 4);
    check_format(&v, false, NULL);
    check_format(&v, true, NULL);
    netproc_value symbols[4] = {SYM("a"), SYM("b"), SYM("c"), SYM("d")};
    v = netproc_vector(symbols, 4);
    check_format(&v, false, NULL);
    check_format(&v, true, NULL);

    /* Any string comes back as it is. */
    v = STR("");
    check_format(&v, false, "");
    v = STR("/tmp/sock");
    check_format(&v, true, "/tmp/sock");

    /* (INTEGER . ANY): "<Family N>", for a cons and for a list. */
    netproc_value three[3] = {INT(1), INT(2), INT(3)};
    netproc_value pair[2] = {INT(1), netproc_vector(three, 3)};
    v = netproc_cons(pair);
    check_format(&v, false, "<Family 1>");
    check_format(&v, true, "<Family 1>");
    netproc_value list[2] = {INT(1), INT(2)};
    v = netproc_list(list, 2);
    check_format(&v, false, "<Family 1>");

    /* nil, a number, t: nil. */
    v = netproc_nil();
    check_format(&v, false, NULL);
    v = INT(5);
    check_format(&v, true, NULL);
    v = netproc_t();
    check_format(&v, false, NULL);
}

/* ("a" . 5) signals, as in Emacs: (error "Format specifier doesn’t match argument type"). */
static void format_network_address_non_integer_family(void) {
    netproc_value pair[2] = {STR("a"), INT(5)};
    netproc_value v = netproc_cons(pair);
    netproc_value out = netproc_integer(9);
    for (int omit = 0; omit <= 1; omit++) {
        CHECK_ERROR(NULL, netproc_format_network_address(&v, omit, &out), NETPROC_E_ERROR, "error",
                    "Format specifier doesn\xe2\x80\x99t match argument type");
        CHECK_EQ(out.kind, NETPROC_VALUE_INTEGER);
    }
}

static void value_free_null_and_nil(void) {
    netproc_value_free(NULL);
    netproc_value nil = netproc_nil();
    netproc_value_free(&nil);
    CHECK_EQ(nil.kind, NETPROC_VALUE_NIL);
    /* Freeing a value netproc wrote twice is harmless: the first free resets it to NIL. */
    netproc_value pair[2] = {INT(1), netproc_vector(NULL, 0)};
    netproc_value in = netproc_cons(pair), out;
    CHECK_OK(NULL, netproc_format_network_address(&in, false, &out));
    CHECK(value_is_string(&out, "<Family 1>"));
    netproc_value_free(&out);
    CHECK_EQ(out.kind, NETPROC_VALUE_NIL);
    CHECK_NULL(out.bytes);
    netproc_value_free(&out);
}

/* ---- status getters ------------------------------------------------------------ */

static void check_state(netproc_process *p, const char *status, bool live) {
    CHECK_STR_EQ(netproc_process_status(p), status);
    CHECK_EQ(netproc_process_live_p(p), live);
    netproc_value exit_status = netproc_nil();
    CHECK_OK(NULL, netproc_process_exit_status(p, &exit_status));
    CHECK_EQ(exit_status.kind, NETPROC_VALUE_INTEGER);
    CHECK_EQ(exit_status.integer, 0);
    netproc_value_free(&exit_status);
}

/* As Emacs: listen/open are live with exit status 0; deleted is "closed", not live, exit
 * status 0. */
static void status_live_exit_open_listen_deleted(void) {
    netproc_context *ctx = new_context();
    netproc_process *server = plain_server(ctx, "srv");
    netproc_process *client = plain_client(ctx, "cli", contact_int(server, ":service"));
    check_state(server, "listen", true);
    check_state(client, "open", true);
    CHECK_OK(ctx, netproc_delete_process(client));
    check_state(client, "closed", false);
    check_state(server, "listen", true);
    CHECK_OK(ctx, netproc_delete_process(server));
    check_state(server, "closed", false);
    CHECK_OK(ctx, netproc_delete_process(server)); /* deleting again does nothing */
    check_state(server, "closed", false);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* A handle that outlives its context: status "closed", and calls that need the context
 * fail with NETPROC_E_CLOSED rather than touching freed memory. */
static void process_outliving_context_is_closed(void) {
    netproc_context *ctx = new_context();
    netproc_process *server = plain_server(ctx, "srv");
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    CHECK_STR_EQ(netproc_process_status(server), "closed");
    CHECK(!netproc_process_live_p(server));
    CHECK_ERROR_PREFIX(NULL, netproc_process_send(server, (const uint8_t *)"x", 1), NETPROC_E_CLOSED, "error",
                       "netproc_process_send: ");
    CHECK_ERROR_PREFIX(NULL, netproc_stop_process(server), NETPROC_E_CLOSED, "error", "netproc_stop_process: ");
    netproc_process_free(server);
}

int main(void) {
    static const struct test_case cases[] = {
        {"null_context_handle", null_context_handle, 5},
        {"null_process_handle", null_process_handle, 5},
        {"null_out_params", null_out_params, 5},
        {"null_input_pointers", null_input_pointers, 5},
        {"null_pointers_datagram_and_utilities", null_pointers_datagram_and_utilities, 5},
        {"value_unknown_kind_invalid", value_unknown_kind_invalid, 5},
        {"value_string_null_bytes_invalid", value_string_null_bytes_invalid, 5},
        {"value_sequence_null_items_invalid", value_sequence_null_items_invalid, 5},
        {"value_cons_needs_two_items", value_cons_needs_two_items, 5},
        {"value_nesting_limit", value_nesting_limit, 5},
        {"value_function_null_pointer", value_function_null_pointer, 5},
        {"function_slot_wrong_type", function_slot_wrong_type, 5},
        {"status_names_and_strings", status_names_and_strings, 5},
        {"last_error_tracks_failed_status", last_error_tracks_failed_status, 5},
        {"last_error_strings_live_until_next_failure", last_error_strings_live_until_next_failure, 5},
        {"panic_poisons_context", panic_poisons_context, 5},
        {"panic_spares_other_contexts", panic_spares_other_contexts, 10},
        {"contact_host_service_list", contact_host_service_list, 5},
        {"contact_t_whole_plist", contact_t_whole_plist, 5},
        {"contact_local_of_server_is_vector", contact_local_of_server_is_vector, 5},
        {"format_network_address_table", format_network_address_table, 5},
        {"format_network_address_non_integer_family", format_network_address_non_integer_family, 5},
        {"value_free_null_and_nil", value_free_null_and_nil, 5},
        {"status_live_exit_open_listen_deleted", status_live_exit_open_listen_deleted, 5},
        {"process_outliving_context_is_closed", process_outliving_context_is_closed, 5},
    };
    return run_tests(cases, NARGS(cases));
}
