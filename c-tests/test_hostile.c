/*
 * test_hostile: hostile arguments (issue 7, item 2). NULL in every pointer position of every
 * function (checked against the header's own list), handles that are not live (a pointer to
 * zeros, a freed handle, a handle whose context was freed), every value type for every
 * keyword of make-network-process and every setter, duplicated and unknown keywords, ports
 * and backlogs out of range, names that are empty, huge or not UTF-8, unix paths that cannot
 * work, hosts that do not resolve, :bindtodevice on a missing interface.
 *
 * Each case asserts the Emacs error symbol and exact message (Emacs 28.2's, checked with
 * `emacs --batch -Q`, or docs/DIFFERENCES.md), that a failed call creates
 * nothing, and ends with CHECK_NO_LEAK: no process listed, every descriptor closed. Memory
 * leaks are for `make test-asan` (LeakSanitizer) and `make test-valgrind`.
 */
#include "check.h"
#include "pump.h"
#include "netproc_testing.h"

#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <fcntl.h>
#include <sys/un.h>

/* ---- helpers ------------------------------------------------------------------ */

static void dummy_filter(void *ud, netproc_process *p, const uint8_t *d, size_t n) {
    (void)ud, (void)p, (void)d, (void)n;
}
static void dummy_sentinel(void *ud, netproc_process *p, const char *m, size_t n) {
    (void)ud, (void)p, (void)m, (void)n;
}
static void dummy_log(void *ud, netproc_process *s, netproc_process *c, const char *m, size_t n) {
    (void)ud, (void)s, (void)c, (void)m, (void)n;
}

static netproc_process *make_ok(netproc_context *ctx, const netproc_arg *args, size_t nargs) {
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, nargs, &p));
    CHECK_NOT_NULL(p);
    return p;
}

static netproc_process *plain_server(netproc_context *ctx, const char *name) {
    netproc_arg args[] = {ARG(":name", STR(name)), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    return make_ok(ctx, args, NARGS(args));
}

static netproc_process *plain_client(netproc_context *ctx, const char *name, long long port) {
    netproc_arg args[] = {ARG(":name", STR(name)), ARG(":service", INT(port))};
    return make_ok(ctx, args, NARGS(args));
}

/* Delete and release a process the case made. */
static void drop(netproc_process *p) {
    CHECK_EQ(netproc_delete_process(p), NETPROC_OK);
    netproc_process_free(p);
}

/* make-network-process must fail with `status`, `symbol` and exactly `message`, writing no
 * process and listing none. */
#define EXPECT_MAKE_ERROR(ctx, args, nargs, status, symbol, message) \
    expect_make_error_(__LINE__, (ctx), (args), (nargs), (status), (symbol), (message))

static void expect_make_error_(int line, netproc_context *ctx, const netproc_arg *args, size_t nargs, int status,
                               const char *symbol, const char *message) {
    netproc_process *p = NULL;
    size_t before = listed_processes(ctx);
    int rc = netproc_make_network_process(ctx, args, nargs, &p);
    check_error_(__FILE__, line, "netproc_make_network_process", ctx, rc, status, symbol, message, false);
    if (p != NULL) check_fail_(__FILE__, line, "a failed make_network_process wrote a process");
    if (listed_processes(ctx) != before) check_fail_(__FILE__, line, "a failed make_network_process listed a process");
}

/* ---- one table of every function that takes a process handle ---------------------- */

enum ret_kind { RK_STATUS, RK_POINTER, RK_BOOL, RK_SIZE, RK_VOID };
/* After netproc_context_free, a status call either still works or needs the context. */
enum after_ctx { AC_OK, AC_CLOSED, AC_SKIP };

struct fixture {
    netproc_context *ctx;
    netproc_process *server, *client;
    netproc_value out, nil, t;
    netproc_event event;
    bool flag;
    size_t length, count;
    int flag_int;
    const char *str;
    netproc_process *made, *list[4];
    netproc_arg args[3], null_key_args[3];
};

#define OUT_SENTINEL 3

static void reset_out(struct fixture *fx) {
    fx->out = netproc_integer(OUT_SENTINEL);
    fx->flag = true;
    fx->length = 42;
}

/* The status of a call that wrote fx->out, releasing what it wrote. */
static long long read_out(struct fixture *fx, int rc) {
    if (rc == NETPROC_OK) netproc_value_free(&fx->out);
    return rc;
}

static long long ref_and_release(netproc_process *h) {
    netproc_process *r = netproc_process_ref(h);
    if (r != NULL) netproc_process_free(r);
    return (long long)(intptr_t)r;
}

/* X(name, return kind, after-context-free outcome, call using handle `h` and fixture `fx`) */
#define PROCESS_CALLS(X)                                                                                        \
    X("netproc_process_send_text", RK_STATUS, AC_CLOSED, netproc_process_send_text(h, (const uint8_t *)"x", 1)) \
    X("netproc_process_coding_system", RK_STATUS, AC_OK, netproc_process_coding_system(h, &fx->out))            \
    X("netproc_set_process_coding_system", RK_STATUS, AC_CLOSED,                                                \
      netproc_set_process_coding_system(h, &fx->nil, &fx->nil))                                                 \
    X("netproc_process_filter_multibyte_p", RK_BOOL, AC_SKIP, netproc_process_filter_multibyte_p(h))            \
    X("netproc_set_process_filter_multibyte", RK_STATUS, AC_CLOSED, netproc_set_process_filter_multibyte(h, true)) \
    X("netproc_process_datagram_address", RK_STATUS, AC_OK, netproc_process_datagram_address(h, &fx->out))      \
    X("netproc_set_process_datagram_address", RK_STATUS, AC_OK,                                                 \
      netproc_set_process_datagram_address(h, &fx->nil, &fx->flag))                                             \
    X("netproc_process_ref", RK_POINTER, AC_SKIP, ref_and_release(h))                                          \
    X("netproc_process_free", RK_VOID, AC_SKIP, (netproc_process_free(h), 0))                                  \
    X("netproc_delete_process", RK_STATUS, AC_OK, netproc_delete_process(h))                                   \
    X("netproc_process_status", RK_POINTER, AC_SKIP, (intptr_t)netproc_process_status(h))                      \
    X("netproc_process_live_p", RK_BOOL, AC_SKIP, netproc_process_live_p(h))                                   \
    X("netproc_process_exit_status", RK_STATUS, AC_OK, netproc_process_exit_status(h, &fx->out))                \
    X("netproc_process_name", RK_POINTER, AC_SKIP, (intptr_t)netproc_process_name(h, &fx->length))             \
    X("netproc_process_buffer", RK_STATUS, AC_OK, netproc_process_buffer(h, &fx->out))                          \
    X("netproc_process_filter", RK_STATUS, AC_OK, netproc_process_filter(h, &fx->out))                          \
    X("netproc_process_sentinel", RK_STATUS, AC_OK, netproc_process_sentinel(h, &fx->out))                      \
    X("netproc_process_plist", RK_STATUS, AC_OK, netproc_process_plist(h, &fx->out))                            \
    X("netproc_set_process_buffer", RK_STATUS, AC_CLOSED, netproc_set_process_buffer(h, &fx->nil))              \
    X("netproc_set_process_filter", RK_STATUS, AC_CLOSED, netproc_set_process_filter(h, &fx->nil))              \
    X("netproc_set_process_sentinel", RK_STATUS, AC_CLOSED, netproc_set_process_sentinel(h, &fx->nil))          \
    X("netproc_set_process_plist", RK_STATUS, AC_CLOSED, netproc_set_process_plist(h, &fx->nil))                \
    X("netproc_process_contact", RK_STATUS, AC_OK, netproc_process_contact(h, "t", false, &fx->out))            \
    X("netproc_process_send", RK_STATUS, AC_CLOSED, netproc_process_send(h, (const uint8_t *)"x", 1))           \
    X("netproc_process_send_eof", RK_STATUS, AC_CLOSED, netproc_process_send_eof(h))                           \
    X("netproc_process_output_pending", RK_SIZE, AC_SKIP, netproc_process_output_pending(h))                   \
    X("netproc_process_output_lost", RK_SIZE, AC_SKIP, netproc_process_output_lost(h))                         \
    X("netproc_stop_process", RK_STATUS, AC_CLOSED, netproc_stop_process(h))                                   \
    X("netproc_continue_process", RK_STATUS, AC_CLOSED, netproc_continue_process(h))                           \
    X("netproc_process_query_on_exit_flag", RK_BOOL, AC_SKIP, netproc_process_query_on_exit_flag(h))           \
    X("netproc_set_process_query_on_exit_flag", RK_STATUS, AC_OK, netproc_set_process_query_on_exit_flag(h, false)) \
    X("netproc_set_network_process_option", RK_STATUS, AC_CLOSED,                                               \
      netproc_set_network_process_option(h, ":keepalive", &fx->t, false, &fx->flag))                            \
    X("netproc_process_set_userdata", RK_STATUS, AC_OK, netproc_process_set_userdata(h, NULL, NULL))           \
    X("netproc_process_userdata", RK_POINTER, AC_SKIP, (intptr_t)netproc_process_userdata(h))            \
    X("netproc_gnutls_negotiate", RK_STATUS, AC_CLOSED, netproc_gnutls_negotiate(h, &fx->nil))              \
    X("netproc_gnutls_peer_status", RK_STATUS, AC_OK, netproc_gnutls_peer_status(h, &fx->out))             \
    X("netproc_process_state_of", RK_SIZE, AC_SKIP, netproc_process_state_of(h))                             \
    X("netproc_sentinel_event", RK_STATUS, AC_SKIP, netproc_sentinel_event(h, &fx->event))                   \
    X("netproc_process_context", RK_POINTER, AC_SKIP, (intptr_t)netproc_process_context(h))                  \
    X("netproc_process_peer_address", RK_STATUS, AC_OK, netproc_process_peer_address(h, &fx->out))        \
    X("netproc_datagram_sender", RK_STATUS, AC_OK, netproc_datagram_sender(h, &fx->out))

struct process_call {
    const char *function;
    enum ret_kind kind;
    enum after_ctx after_ctx;
    long long (*call)(netproc_process *h, struct fixture *fx);
};

/* Row `index` of PROCESS_CALLS on handle `h`. */
static long long process_call_dispatch(size_t index, netproc_process *h, struct fixture *fx) {
    size_t i = 0;
#define PC_CASE(name, kind, after, expr) \
    if (i++ == index) return (long long)(expr);
    (void)h, (void)fx;
    PROCESS_CALLS(PC_CASE)
#undef PC_CASE
    check_fail_(__FILE__, __LINE__, "no process call %zu", index);
}

static const struct {
    const char *function;
    enum ret_kind kind;
    enum after_ctx after_ctx;
} process_calls[] = {
#define PC_ROW(name, kind, after, expr) {name, kind, after},
    PROCESS_CALLS(PC_ROW)
#undef PC_ROW
};

/* Runs every process call on handle `h`, expecting each status call to fail with `status`
 * and the message "FUNCTION: `what`", and the others to return NULL, false or 0. Out-values
 * must stay untouched. */
static void every_process_call_refuses(struct fixture *fx, netproc_process *h, int status, const char *what) {
    for (size_t i = 0; i < NARGS(process_calls); i++) {
        reset_out(fx);
        long long got = process_call_dispatch(i, h, fx);
        char want[160];
        snprintf(want, sizeof want, "%s: %s", process_calls[i].function, what);
        switch (process_calls[i].kind) {
        case RK_STATUS:
            check_error_(__FILE__, __LINE__, process_calls[i].function, NULL, got, status, "error", want, false);
            break;
        case RK_POINTER:
        case RK_BOOL:
        case RK_SIZE:
            if (got != 0) check_fail_(__FILE__, __LINE__, "%s gave %lld, not 0/NULL/false", process_calls[i].function, got);
            break;
        case RK_VOID:
            break;
        }
        if (fx->out.kind != NETPROC_VALUE_INTEGER || fx->out.integer != OUT_SENTINEL || !fx->flag || fx->length != 42)
            check_fail_(__FILE__, __LINE__, "%s wrote an out-parameter", process_calls[i].function);
    }
}

static struct fixture fixture_open(void) {
    struct fixture fx;
    memset(&fx, 0, sizeof fx);
    fx.ctx = new_context();
    fx.server = plain_server(fx.ctx, "srv");
    fx.client = plain_client(fx.ctx, "cli", contact_int(fx.server, ":service"));
    fx.nil = netproc_nil();
    fx.t = netproc_t();
    fx.args[0] = ARG(":name", STR("made"));
    fx.args[1] = ARG(":server", netproc_t());
    fx.args[2] = ARG(":service", netproc_t());
    memcpy(fx.null_key_args, fx.args, sizeof fx.args);
    fx.null_key_args[1].key = NULL;
    reset_out(&fx);
    return fx;
}

/* Delete every listed process (e.g. connections a server accepted while the case pumped). */
static void delete_all(netproc_context *ctx) {
    netproc_process *list[64];
    size_t count = 0;
    CHECK_OK(ctx, netproc_process_list(ctx, list, 64, &count));
    CHECK(count <= 64);
    for (size_t i = 0; i < count; i++) list[i] = netproc_process_ref(list[i]);
    for (size_t i = 0; i < count; i++) drop(list[i]);
}

static void fixture_close(struct fixture *fx, int baseline) {
    drop(fx->client);
    drop(fx->server);
    delete_all(fx->ctx);
    CHECK_NO_LEAK(fx->ctx, baseline);
}

/* ---- NULL in every pointer position ------------------------------------------------ */

enum null_expect {
    NE_STATUS,  /* a status, symbol `error`, exact message */
    NE_OK,      /* documented: NULL means "none" */
    NE_ZERO,    /* a NULL, false or 0 result */
    NE_NOCRASH, /* void, or a result that depends on earlier calls */
};

struct null_row {
    const char *function, *param; /* as the header names them */
    enum null_expect expect;
    int status;
    const char *message;
};

/* The value a constructor built from NULL, as netproc reads it: the status of
 * format-network-address on it (the out value is released). */
static long long read_value(struct fixture *fx, netproc_value v) {
    int rc = netproc_format_network_address(&v, false, &fx->out);
    if (rc == NETPROC_OK) netproc_value_free(&fx->out);
    return rc;
}

static const netproc_buffer_hooks no_hooks = {NULL, NULL, NULL};

/* X(function, header parameter, expectation, status, message, call) */
#define NULL_CALLS(X)                                                                                               \
    X("netproc_process_send_text", "text", NE_STATUS, NETPROC_E_NULL, "netproc_process_send_text: text is NULL",   \
      netproc_process_send_text(fx->client, NULL, 1))                                                               \
    X("netproc_process_coding_system", "out", NE_STATUS, NETPROC_E_NULL,                                            \
      "netproc_process_coding_system: out is NULL", netproc_process_coding_system(fx->client, NULL))               \
    X("netproc_set_process_coding_system", "decoding", NE_OK, 0, NULL,                                              \
      netproc_set_process_coding_system(fx->client, NULL, &fx->nil))                                                \
    X("netproc_set_process_coding_system", "encoding", NE_OK, 0, NULL,                                              \
      netproc_set_process_coding_system(fx->client, &fx->nil, NULL))                                                \
    X("netproc_context_set_default_coding_system", "ctx", NE_STATUS, NETPROC_E_NULL,                                \
      "netproc_context_set_default_coding_system: ctx is NULL",                                                     \
      netproc_context_set_default_coding_system(NULL, &fx->nil, &fx->nil))                                          \
    X("netproc_context_set_default_coding_system", "decoding", NE_OK, 0, NULL,                                      \
      netproc_context_set_default_coding_system(fx->ctx, NULL, &fx->nil))                                           \
    X("netproc_context_set_default_coding_system", "encoding", NE_OK, 0, NULL,                                      \
      netproc_context_set_default_coding_system(fx->ctx, &fx->nil, NULL))                                           \
    X("netproc_check_coding_system", "name", NE_STATUS, NETPROC_E_NULL, "netproc_check_coding_system: name is NULL", \
      netproc_check_coding_system(NULL))                                                                            \
    X("netproc_context_new", "out", NE_STATUS, NETPROC_E_NULL, "netproc_context_new: out is NULL",                  \
      netproc_context_new(NULL))                                                                                    \
    X("netproc_context_free", "ctx", NE_OK, 0, NULL, netproc_context_free(NULL))                                    \
    X("netproc_poll", "ctx", NE_STATUS, NETPROC_E_NULL, "netproc_poll: ctx is NULL", netproc_poll(NULL, 0))         \
    X("netproc_backend_fd", "ctx", NE_STATUS, NETPROC_E_NULL, "netproc_backend_fd: ctx is NULL",                    \
      netproc_backend_fd(NULL))                                                                                     \
    X("netproc_next_timeout", "ctx", NE_STATUS, NETPROC_E_NULL, "netproc_next_timeout: ctx is NULL",                \
      netproc_next_timeout(NULL, &fx->flag_int))                                                                    \
    X("netproc_next_timeout", "timeout_ms", NE_STATUS, NETPROC_E_NULL, "netproc_next_timeout: timeout_ms is NULL",         \
      netproc_next_timeout(fx->ctx, NULL))                                                                          \
    X("netproc_wakeup", "ctx", NE_STATUS, NETPROC_E_NULL, "netproc_wakeup: ctx is NULL", netproc_wakeup(NULL))      \
    X("netproc_context_set_owner_thread", "ctx", NE_STATUS, NETPROC_E_NULL,                                         \
      "netproc_context_set_owner_thread: ctx is NULL", netproc_context_set_owner_thread(NULL))                      \
    X("netproc_last_error", "ctx", NE_NOCRASH, 0, NULL, netproc_last_error(NULL, NULL, NULL, NULL))                 \
    X("netproc_last_error", "symbol", NE_NOCRASH, 0, NULL, netproc_last_error(fx->ctx, NULL, &fx->str, &fx->flag_int)) \
    X("netproc_last_error", "message", NE_NOCRASH, 0, NULL, netproc_last_error(fx->ctx, &fx->str, NULL, &fx->flag_int)) \
    X("netproc_last_error", "errno_out", NE_NOCRASH, 0, NULL, netproc_last_error(fx->ctx, &fx->str, &fx->str, NULL)) \
    X("netproc_context_set_default_filter", "ctx", NE_STATUS, NETPROC_E_NULL,                                       \
      "netproc_context_set_default_filter: ctx is NULL", netproc_context_set_default_filter(NULL, dummy_filter, NULL)) \
    X("netproc_context_set_default_filter", "filter", NE_OK, 0, NULL,                                               \
      netproc_context_set_default_filter(fx->ctx, NULL, fx))                                                        \
    X("netproc_context_set_default_filter", "userdata", NE_OK, 0, NULL,                                             \
      netproc_context_set_default_filter(fx->ctx, dummy_filter, NULL))                                              \
    X("netproc_context_set_default_sentinel", "ctx", NE_STATUS, NETPROC_E_NULL,                                     \
      "netproc_context_set_default_sentinel: ctx is NULL",                                                          \
      netproc_context_set_default_sentinel(NULL, dummy_sentinel, NULL))                                             \
    X("netproc_context_set_default_sentinel", "sentinel", NE_OK, 0, NULL,                                           \
      netproc_context_set_default_sentinel(fx->ctx, NULL, fx))                                                      \
    X("netproc_context_set_default_sentinel", "userdata", NE_OK, 0, NULL,                                           \
      netproc_context_set_default_sentinel(fx->ctx, dummy_sentinel, NULL))                                          \
    X("netproc_context_set_buffer_hooks", "ctx", NE_STATUS, NETPROC_E_NULL,                                         \
      "netproc_context_set_buffer_hooks: ctx is NULL", netproc_context_set_buffer_hooks(NULL, &no_hooks))           \
    X("netproc_context_set_buffer_hooks", "hooks", NE_OK, 0, NULL, netproc_context_set_buffer_hooks(fx->ctx, NULL)) \
    X("netproc_context_set_read_max", "ctx", NE_STATUS, NETPROC_E_NULL, "netproc_context_set_read_max: ctx is NULL", \
      netproc_context_set_read_max(NULL, 10))                                                                       \
    X("netproc_context_set_send_queue_max", "ctx", NE_STATUS, NETPROC_E_NULL,                                        \
      "netproc_context_set_send_queue_max: ctx is NULL", netproc_context_set_send_queue_max(NULL, 10))             \
    X("netproc_context_set_drain_timeout", "ctx", NE_STATUS, NETPROC_E_NULL,                                         \
      "netproc_context_set_drain_timeout: ctx is NULL", netproc_context_set_drain_timeout(NULL, 10))               \
    X("netproc_context_set_strict_keywords", "ctx", NE_STATUS, NETPROC_E_NULL,                                       \
      "netproc_context_set_strict_keywords: ctx is NULL", netproc_context_set_strict_keywords(NULL, true))         \
    X("netproc_sentinel_event", "out", NE_STATUS, NETPROC_E_NULL, "netproc_sentinel_event: out is NULL",            \
      netproc_sentinel_event(fx->client, NULL))                                                                      \
    X("netproc_datagram_sender", "out", NE_STATUS, NETPROC_E_NULL, "netproc_datagram_sender: out is NULL",          \
      netproc_datagram_sender(fx->client, NULL))                                                                     \
    X("netproc_process_peer_address", "out", NE_STATUS, NETPROC_E_NULL,                                             \
      "netproc_process_peer_address: out is NULL", netproc_process_peer_address(fx->client, NULL))                 \
    X("netproc_context_set_tls_handshake_timeout", "ctx", NE_STATUS, NETPROC_E_NULL,                                 \
      "netproc_context_set_tls_handshake_timeout: ctx is NULL", netproc_context_set_tls_handshake_timeout(NULL, 10)) \
    X("netproc_context_set_connect_attempt_delay", "ctx", NE_STATUS, NETPROC_E_NULL,                                 \
      "netproc_context_set_connect_attempt_delay: ctx is NULL", netproc_context_set_connect_attempt_delay(NULL, 10)) \
    X("netproc_gnutls_negotiate", "params", NE_STATUS, NETPROC_E_NULL, "netproc_gnutls_negotiate: params is NULL",  \
      netproc_gnutls_negotiate(fx->client, NULL))                                                                    \
    X("netproc_gnutls_peer_status", "out", NE_STATUS, NETPROC_E_NULL, "netproc_gnutls_peer_status: out is NULL",    \
      netproc_gnutls_peer_status(fx->client, NULL))                                                                  \
    X("netproc_gnutls_available_p", "out", NE_STATUS, NETPROC_E_NULL, "netproc_gnutls_available_p: out is NULL",    \
      netproc_gnutls_available_p(NULL))                                                                              \
    X("netproc_debug_panic", "ctx", NE_STATUS, NETPROC_E_NULL, "netproc_debug_panic: ctx is NULL",                  \
      netproc_debug_panic(NULL))                                                                                    \
    X("netproc_process_datagram_address", "out", NE_STATUS, NETPROC_E_NULL,                                         \
      "netproc_process_datagram_address: out is NULL", netproc_process_datagram_address(fx->client, NULL))         \
    X("netproc_set_process_datagram_address", "address", NE_STATUS, NETPROC_E_NULL,                                 \
      "netproc_set_process_datagram_address: address is NULL",                                                      \
      netproc_set_process_datagram_address(fx->client, NULL, &fx->flag))                                            \
    X("netproc_set_process_datagram_address", "applied", NE_OK, 0, NULL,                                            \
      netproc_set_process_datagram_address(fx->client, &fx->nil, NULL))                                              \
    X("netproc_network_interface_list", "family", NE_OK, 0, NULL,                                                   \
      read_out(fx, netproc_network_interface_list(false, NULL, &fx->out)))                                          \
    X("netproc_network_interface_list", "out", NE_STATUS, NETPROC_E_NULL,                                           \
      "netproc_network_interface_list: out is NULL", netproc_network_interface_list(false, &fx->nil, NULL))         \
    X("netproc_network_interface_info", "name", NE_STATUS, NETPROC_E_NULL,                                          \
      "netproc_network_interface_info: name is NULL", netproc_network_interface_info(NULL, &fx->out))               \
    X("netproc_network_interface_info", "out", NE_STATUS, NETPROC_E_NULL,                                           \
      "netproc_network_interface_info: out is NULL", netproc_network_interface_info("lo", NULL))                    \
    X("netproc_network_lookup_address_info", "name", NE_STATUS, NETPROC_E_NULL,                                     \
      "netproc_network_lookup_address_info: name is NULL",                                                          \
      netproc_network_lookup_address_info(NULL, NULL, &fx->out, NULL))                                              \
    X("netproc_network_lookup_address_info", "family", NE_OK, 0, NULL,                                              \
      read_out(fx, netproc_network_lookup_address_info("127.0.0.1", NULL, &fx->out, NULL)))                         \
    X("netproc_network_lookup_address_info", "out", NE_STATUS, NETPROC_E_NULL,                                      \
      "netproc_network_lookup_address_info: out is NULL",                                                           \
      netproc_network_lookup_address_info("127.0.0.1", NULL, NULL, NULL))                                           \
    X("netproc_network_lookup_address_info", "message", NE_OK, 0, NULL,                                             \
      read_out(fx, netproc_network_lookup_address_info("127.0.0.1", &fx->nil, &fx->out, NULL)))                     \
    X("netproc_network_features", "out", NE_STATUS, NETPROC_E_NULL, "netproc_network_features: out is NULL",        \
      netproc_network_features(NULL))                                                                              \
    X("netproc_network_featurep", "subfeature", NE_OK, 0, NULL, netproc_network_featurep(NULL, &fx->flag))          \
    X("netproc_network_featurep", "result", NE_STATUS, NETPROC_E_NULL, "netproc_network_featurep: out is NULL",  \
      netproc_network_featurep(&fx->nil, NULL))                                                                     \
    X("netproc_make_network_process", "ctx", NE_STATUS, NETPROC_E_NULL, "netproc_make_network_process: ctx is NULL", \
      netproc_make_network_process(NULL, fx->args, 3, &fx->made))                                                   \
    X("netproc_make_network_process", "args", NE_STATUS, NETPROC_E_NULL,                                            \
      "netproc_make_network_process: args is NULL", netproc_make_network_process(fx->ctx, NULL, 3, &fx->made))      \
    X("netproc_make_network_process", "args", NE_STATUS, NETPROC_E_NULL,                                            \
      "netproc_make_network_process: args[1].key is NULL",                                                          \
      netproc_make_network_process(fx->ctx, fx->null_key_args, 3, &fx->made))                                      \
    X("netproc_make_network_process", "args", NE_OK, 0, NULL, netproc_make_network_process(fx->ctx, NULL, 0, &fx->made)) \
    X("netproc_make_network_process", "out", NE_STATUS, NETPROC_E_NULL, "netproc_make_network_process: out is NULL", \
      netproc_make_network_process(fx->ctx, fx->args, 3, NULL))                                                     \
    X("netproc_process_name", "length", NE_OK, 0, NULL, netproc_process_name(fx->client, NULL) == NULL)             \
    X("netproc_process_exit_status", "out", NE_STATUS, NETPROC_E_NULL, "netproc_process_exit_status: out is NULL",  \
      netproc_process_exit_status(fx->client, NULL))                                                                \
    X("netproc_process_buffer", "out", NE_STATUS, NETPROC_E_NULL, "netproc_process_buffer: out is NULL",            \
      netproc_process_buffer(fx->client, NULL))                                                                     \
    X("netproc_process_filter", "out", NE_STATUS, NETPROC_E_NULL, "netproc_process_filter: out is NULL",            \
      netproc_process_filter(fx->client, NULL))                                                                     \
    X("netproc_process_sentinel", "out", NE_STATUS, NETPROC_E_NULL, "netproc_process_sentinel: out is NULL",        \
      netproc_process_sentinel(fx->client, NULL))                                                                   \
    X("netproc_process_plist", "out", NE_STATUS, NETPROC_E_NULL, "netproc_process_plist: out is NULL",              \
      netproc_process_plist(fx->client, NULL))                                                                      \
    X("netproc_set_process_buffer", "buffer", NE_STATUS, NETPROC_E_NULL, "netproc_set_process_buffer: value is NULL", \
      netproc_set_process_buffer(fx->client, NULL))                                                                 \
    X("netproc_set_process_filter", "filter", NE_STATUS, NETPROC_E_NULL, "netproc_set_process_filter: value is NULL", \
      netproc_set_process_filter(fx->client, NULL))                                                                 \
    X("netproc_set_process_sentinel", "sentinel", NE_STATUS, NETPROC_E_NULL,                                        \
      "netproc_set_process_sentinel: value is NULL", netproc_set_process_sentinel(fx->client, NULL))             \
    X("netproc_set_process_plist", "plist", NE_STATUS, NETPROC_E_NULL, "netproc_set_process_plist: value is NULL",  \
      netproc_set_process_plist(fx->client, NULL))                                                                  \
    X("netproc_process_contact", "key", NE_OK, 0, NULL, read_out(fx, netproc_process_contact(fx->client, NULL, false, &fx->out))) \
    X("netproc_process_contact", "out", NE_STATUS, NETPROC_E_NULL, "netproc_process_contact: out is NULL",          \
      netproc_process_contact(fx->client, "t", false, NULL))                                                        \
    X("netproc_process_send", "data", NE_STATUS, NETPROC_E_NULL, "netproc_process_send: data is NULL",              \
      netproc_process_send(fx->client, NULL, 1))                                                                    \
    X("netproc_process_send", "data", NE_OK, 0, NULL, netproc_process_send(fx->client, NULL, 0))                    \
    X("netproc_set_network_process_option", "option", NE_STATUS, NETPROC_E_NULL,                                    \
      "netproc_set_network_process_option: option is NULL",                                                         \
      netproc_set_network_process_option(fx->client, NULL, &fx->t, false, &fx->flag))                              \
    X("netproc_set_network_process_option", "value", NE_STATUS, NETPROC_E_NULL,                                     \
      "netproc_set_network_process_option: value is NULL",                                                          \
      netproc_set_network_process_option(fx->client, ":keepalive", NULL, false, &fx->flag))                         \
    X("netproc_set_network_process_option", "applied", NE_OK, 0, NULL,                                             \
      netproc_set_network_process_option(fx->client, ":keepalive", &fx->t, false, NULL))                            \
    X("netproc_process_set_userdata", "userdata", NE_OK, 0, NULL, netproc_process_set_userdata(fx->client, NULL, free)) \
    X("netproc_process_set_userdata", "destructor", NE_OK, 0, NULL, netproc_process_set_userdata(fx->client, fx, NULL)) \
    X("netproc_process_list", "ctx", NE_STATUS, NETPROC_E_NULL, "netproc_process_list: ctx is NULL",                \
      netproc_process_list(NULL, fx->list, 4, &fx->length))                                                        \
    X("netproc_process_list", "out", NE_STATUS, NETPROC_E_NULL, "netproc_process_list: out is NULL",                \
      netproc_process_list(fx->ctx, NULL, 4, &fx->length))                                                          \
    X("netproc_process_list", "out", NE_OK, 0, NULL, netproc_process_list(fx->ctx, NULL, 0, &fx->count))            \
    X("netproc_process_list", "count", NE_STATUS, NETPROC_E_NULL, "netproc_process_list: out is NULL",              \
      netproc_process_list(fx->ctx, fx->list, 4, NULL))                                                             \
    X("netproc_get_process", "ctx", NE_STATUS, NETPROC_E_NULL, "netproc_get_process: ctx is NULL",                  \
      netproc_get_process(NULL, "srv", &fx->made))                                                                  \
    X("netproc_get_process", "name", NE_STATUS, NETPROC_E_NULL, "netproc_get_process: name is NULL",                \
      netproc_get_process(fx->ctx, NULL, &fx->made))                                                                \
    X("netproc_get_process", "out", NE_STATUS, NETPROC_E_NULL, "netproc_get_process: out is NULL",                  \
      netproc_get_process(fx->ctx, "srv", NULL))                                                                    \
    X("netproc_format_network_address", "address", NE_STATUS, NETPROC_E_NULL,                                       \
      "netproc_format_network_address: address is NULL", netproc_format_network_address(NULL, false, &fx->out))     \
    X("netproc_format_network_address", "out", NE_STATUS, NETPROC_E_NULL,                                           \
      "netproc_format_network_address: out is NULL", netproc_format_network_address(&fx->nil, false, NULL))         \
    X("netproc_value_free", "value", NE_NOCRASH, 0, NULL, (netproc_value_free(NULL), 0))                            \
    X("netproc_string", "text", NE_OK, 0, NULL, read_value(fx, netproc_string(NULL)))                               \
    X("netproc_string_n", "bytes", NE_OK, 0, NULL, read_value(fx, netproc_string_n(NULL, 0)))                       \
    X("netproc_string_n", "bytes", NE_STATUS, NETPROC_E_INVALID,                                                    \
      "netproc_format_network_address: address: string value with NULL bytes",                                          \
      read_value(fx, netproc_string_n(NULL, 3)))                                                                    \
    X("netproc_symbol", "name", NE_OK, 0, NULL, read_value(fx, netproc_symbol(NULL)))                               \
    X("netproc_pointer", "pointer", NE_OK, 0, NULL, read_value(fx, netproc_pointer(NULL)))                          \
    X("netproc_vector", "items", NE_OK, 0, NULL, read_value(fx, netproc_vector(NULL, 0)))                           \
    X("netproc_vector", "items", NE_STATUS, NETPROC_E_INVALID,                                                      \
      "netproc_format_network_address: address: sequence value with NULL items", read_value(fx, netproc_vector(NULL, 2))) \
    X("netproc_list", "items", NE_OK, 0, NULL, read_value(fx, netproc_list(NULL, 0)))                               \
    X("netproc_list", "items", NE_STATUS, NETPROC_E_INVALID,                                                        \
      "netproc_format_network_address: address: sequence value with NULL items", read_value(fx, netproc_list(NULL, 2)))     \
    X("netproc_cons", "pair", NE_STATUS, NETPROC_E_INVALID,                                                         \
      "netproc_format_network_address: address: sequence value with NULL items", read_value(fx, netproc_cons(NULL)))        \
    X("netproc_filter", "filter", NE_STATUS, NETPROC_E_INVALID,                                                     \
      "netproc_format_network_address: address: function value with a NULL function pointer",                                     \
      read_value(fx, netproc_filter(NULL, fx)))                                                                     \
    X("netproc_filter", "userdata", NE_OK, 0, NULL, read_value(fx, netproc_filter(dummy_filter, NULL)))             \
    X("netproc_sentinel", "sentinel", NE_STATUS, NETPROC_E_INVALID,                                                 \
      "netproc_format_network_address: address: function value with a NULL function pointer",                                   \
      read_value(fx, netproc_sentinel(NULL, fx)))                                                                   \
    X("netproc_sentinel", "userdata", NE_OK, 0, NULL, read_value(fx, netproc_sentinel(dummy_sentinel, NULL)))       \
    X("netproc_log", "log", NE_STATUS, NETPROC_E_INVALID,                                                           \
      "netproc_format_network_address: address: function value with a NULL function pointer", read_value(fx, netproc_log(NULL, fx))) \
    X("netproc_log", "userdata", NE_OK, 0, NULL, read_value(fx, netproc_log(dummy_log, NULL)))

static const struct null_row null_rows[] = {
#define NULL_ROW(function, param, expect, status, message, call) {function, param, expect, status, message},
    NULL_CALLS(NULL_ROW)
#undef NULL_ROW
};

static long long null_call_dispatch(size_t index, struct fixture *fx) {
    size_t i = 0;
#define NULL_CASE(function, param, expect, status, message, call) \
    if (i++ == index) return (long long)(call);
    NULL_CALLS(NULL_CASE)
#undef NULL_CASE
    check_fail_(__FILE__, __LINE__, "no NULL row %zu", index);
}

/* Whether the tables above name `function`'s parameter `param` (every process call covers
 * its `process`). */
static bool null_row_covers(const char *function, const char *param) {
    if (strcmp(param, "process") == 0)
        for (size_t i = 0; i < NARGS(process_calls); i++)
            if (strcmp(process_calls[i].function, function) == 0) return true;
    for (size_t i = 0; i < NARGS(null_rows); i++)
        if (strcmp(null_rows[i].function, function) == 0 && strcmp(null_rows[i].param, param) == 0) return true;
    return false;
}

/* Reads a header and counts every pointer parameter (a `*`, or a netproc_*_fn callback) of
 * every function in it, and those the tables do not cover. */
static void count_pointer_params(const char *path, size_t *checked_out, size_t *missing_out) {
    FILE *header = fopen(path, "r");
    if (header == NULL) {
        printf("# %s not found (run from the repository root)\n", path);
        SKIP_TEST("a header is missing");
    }
    static char text[1 << 17];
    size_t n = fread(text, 1, sizeof text - 1, header);
    fclose(header);
    CHECK(n > 0 && n < sizeof text - 1);
    text[n] = '\0';
    size_t checked = 0, missing = 0;
    /* Declarations start at the beginning of a line with a return type and end with ");". */
    for (char *line = text; line != NULL && *line != '\0';) {
        char *next = strchr(line, '\n');
        char *paren = strchr(line, '(');
        bool declaration = (line[0] == 'e' || line[0] == 'b' || line[0] == 'c' || line[0] == 'i' || line[0] == 'v'
                            || line[0] == 's' || line[0] == 'u')
            && strncmp(line, "typedef", 7) != 0 && paren != NULL && (next == NULL || paren < next);
        /* The function's name: the identifier just before the parenthesis. */
        char *open = paren;
        while (declaration && open > line && (open[-1] == '_' || (open[-1] >= 'a' && open[-1] <= 'z'))) open--;
        if (!declaration || strncmp(open, "netproc_", 8) != 0) {
            line = next ? next + 1 : NULL;
            continue;
        }
        char function[96];
        snprintf(function, sizeof function, "%.*s", (int)(paren - open), open);
        char *end = strstr(paren, ");");
        CHECK_NOT_NULL(end);
        /* Split the parameter list at top-level commas. */
        char *param = paren + 1;
        int depth = 0;
        for (char *c = paren + 1; c <= end; c++) {
            if (*c == '(') depth++;
            if (*c == ')' && depth > 0) {
                depth--;
                continue;
            }
            if ((*c == ',' && depth == 0) || c == end) {
                char one[256];
                snprintf(one, sizeof one, "%.*s", (int)(c - param), param);
                param = c + 1;
                bool pointer = strchr(one, '*') != NULL || strstr(one, "_fn ") != NULL;
                if (!pointer) continue;
                /* The name: after "(*" for a function pointer, else the last identifier. */
                char name[64] = "";
                char *fp = strstr(one, "(*");
                const char *start = fp ? fp + 2 : one;
                size_t len = 0;
                if (fp) {
                    while (start[len] == '_' || (start[len] >= 'a' && start[len] <= 'z')) len++;
                } else {
                    size_t L = strlen(one);
                    while (L > 0 && !(one[L - 1] == '_' || (one[L - 1] >= 'a' && one[L - 1] <= 'z'))) L--;
                    size_t b = L;
                    while (b > 0 && (one[b - 1] == '_' || (one[b - 1] >= 'a' && one[b - 1] <= 'z'))) b--;
                    start = one + b;
                    len = L - b;
                }
                snprintf(name, sizeof name, "%.*s", (int)len, start);
                checked++;
                if (!null_row_covers(function, name)) {
                    fprintf(stderr, "  no NULL row for %s(%s)\n", function, name);
                    missing++;
                }
            }
        }
        line = strchr(end, '\n');
        if (line) line++;
    }
    *checked_out += checked;
    *missing_out += missing;
}

/* Fails the case for every pointer parameter of every function in include/netproc.h and
 * c-tests/netproc_testing.h (the exported test hooks) that the tables do not cover: a
 * function added to the API without a NULL row is caught here. Returns how many it checked. */
static size_t check_header_pointer_params_covered(void) {
    size_t checked = 0, missing = 0;
    count_pointer_params("include/netproc.h", &checked, &missing);
    count_pointer_params("c-tests/netproc_testing.h", &checked, &missing);
    CHECK_EQ(missing, 0);
    return checked;
}

/* Every pointer parameter of every function, NULL in turn: a status with symbol `error` and
 * a message naming the function and the parameter, or the documented "none" meaning, or a
 * NULL/false/0 result; never a crash, never a written out-parameter, never a process. The
 * header itself is read to prove every pointer parameter has a row. */
static void null_in_every_pointer_position(void) {
    size_t checked = check_header_pointer_params_covered();
    CHECK(checked > 80);
    int baseline = fd_baseline();
    struct fixture fx = fixture_open();

    every_process_call_refuses(&fx, NULL, NETPROC_E_NULL, "process is NULL");

    for (size_t i = 0; i < NARGS(null_rows); i++) {
        const struct null_row *row = &null_rows[i];
        reset_out(&fx);
        fx.made = (netproc_process *)&fx;
        fx.flag_int = 7;
        long long got = null_call_dispatch(i, &fx);
        char what[160];
        snprintf(what, sizeof what, "%s(%s = NULL)", row->function, row->param);
        switch (row->expect) {
        case NE_STATUS:
            check_error_(__FILE__, __LINE__, what, NULL, got, row->status, "error", row->message, false);
            if (fx.out.kind != NETPROC_VALUE_INTEGER || fx.out.integer != OUT_SENTINEL || !fx.flag
                || fx.made != (netproc_process *)&fx || fx.flag_int != 7)
                check_fail_(__FILE__, __LINE__, "%s wrote an out-parameter", what);
            break;
        case NE_OK:
            if (got != NETPROC_OK) check_fail_(__FILE__, __LINE__, "%s gave %lld, want NETPROC_OK", what, got);
            break;
        case NE_ZERO:
            if (got != 0) check_fail_(__FILE__, __LINE__, "%s gave %lld, want 0", what, got);
            break;
        case NE_NOCRASH:
            break;
        }
        if (fx.made == NULL) fx.made = (netproc_process *)&fx; /* nargs 0 gives NULL, as Emacs gives nil */
        CHECK(fx.made == (netproc_process *)&fx);
        CHECK_EQ(listed_processes(fx.ctx), 2);
    }
    CHECK_OK(fx.ctx, netproc_process_set_userdata(fx.client, NULL, NULL));
    fixture_close(&fx, baseline);
}

/* ---- handles that are not live ----------------------------------------------------- */

/* A pointer to memory that never was a handle (zeros, long enough for any read netproc
 * makes): every process call refuses it with NETPROC_E_BAD_HANDLE, "FUNCTION: not a live
 * process handle", or gives NULL/false/0; freeing it does nothing. */
static void not_a_handle_in_every_process_position(void) {
    static uint64_t zeros[1024];
    int baseline = fd_baseline();
    struct fixture fx = fixture_open();
    every_process_call_refuses(&fx, (netproc_process *)zeros, NETPROC_E_BAD_HANDLE, "not a live process handle");
    for (size_t i = 0; i < NARGS(zeros); i++) CHECK_EQ(zeros[i], 0);
    fixture_close(&fx, baseline);
}

static void mark_released(void *flag) {
    *(bool *)flag = true;
}

/* A handle used after its last reference was released: refused like a pointer to zeros.
 * Handles are keys into netproc's handle table, never dereferenced, so this is no use after
 * free, and the case runs under AddressSanitizer and valgrind as well. */
static void freed_handle_in_every_process_position(void) {
    int baseline = fd_baseline();
    struct fixture fx = fixture_open();
    netproc_process *gone = plain_client(fx.ctx, "gone", contact_int(fx.server, ":service"));
    /* The destructor runs when the last reference goes, the context's included. */
    bool released = false;
    CHECK_OK(fx.ctx, netproc_process_set_userdata(gone, &released, mark_released));
    drop(gone);
    CHECK(PUMP_UNTIL(fx.ctx, released, scaled_ms(3000)));
    every_process_call_refuses(&fx, gone, NETPROC_E_BAD_HANDLE, "not a live process handle");
    fixture_close(&fx, baseline);
}

/* A handle that outlives its context (the header's documented case): the getters still
 * answer (status "closed"), the calls that need the context give NETPROC_E_CLOSED with
 * "FUNCTION: the process's context was freed", and nothing is written on failure. */
static void handle_after_context_free_in_every_position(void) {
    int baseline = fd_baseline();
    struct fixture fx = fixture_open();
    netproc_process *orphan = netproc_process_ref(fx.client);
    CHECK_EQ(netproc_context_free(fx.ctx), NETPROC_OK);
    netproc_process_free(fx.client);
    netproc_process_free(fx.server);
    for (size_t i = 0; i < NARGS(process_calls); i++) {
        if (process_calls[i].after_ctx == AC_SKIP) continue;
        reset_out(&fx);
        long long got = process_call_dispatch(i, orphan, &fx);
        if (process_calls[i].after_ctx == AC_OK) {
            if (got != NETPROC_OK)
                check_fail_(__FILE__, __LINE__, "%s after context free gave %lld (%s)", process_calls[i].function,
                            got, last_error_message(NULL));
            netproc_value_free(&fx.out);
        } else {
            char want[160];
            snprintf(want, sizeof want, "%s: the process's context was freed", process_calls[i].function);
            check_error_(__FILE__, __LINE__, process_calls[i].function, NULL, got, NETPROC_E_CLOSED, "error", want,
                         false);
            CHECK_EQ(fx.out.integer, OUT_SENTINEL);
        }
    }
    CHECK_STR_EQ(netproc_process_status(orphan), "closed");
    CHECK(!netproc_process_live_p(orphan));
    CHECK(!netproc_process_filter_multibyte_p(orphan));
    CHECK(!netproc_process_query_on_exit_flag(orphan)); /* set false by the table above */
    CHECK_EQ(netproc_process_output_pending(orphan), 0);
    CHECK_EQ(netproc_process_output_lost(orphan), 0);
    size_t length = 0;
    CHECK_STR_EQ(netproc_process_name(orphan, &length), "cli");
    CHECK_EQ(length, 3);
    CHECK(netproc_process_ref(orphan) == orphan);
    netproc_process_free(orphan);
    CHECK_NULL(netproc_process_userdata(orphan));
    netproc_process_free(orphan);
    CHECK_NO_LEAK(NULL, baseline);
}

/* ---- every value type for every keyword ----------------------------------------------- */

enum { K_NIL, K_T, K_INT, K_STR, K_SYM, K_VEC, K_LIST, K_CONS, K_PTR, K_FILTER, K_SENTINEL, K_LOG, K_COUNT };
static const char *const kind_names[K_COUNT] = {"NIL",  "T",    "INTEGER", "STRING", "SYMBOL",   "VECTOR",
                                                "LIST", "CONS", "POINTER", "FILTER", "SENTINEL", "LOG"};
static int host_object;
static netproc_value two_ints[2];

/* The value of `kind` for a row (integer and string chosen per keyword), and how Lisp
 * prints it into `printed`. */
static netproc_value kind_value(int kind, long long integer, const char *string, char *printed, size_t cap) {
    two_ints[0] = INT(1);
    two_ints[1] = INT(2);
    switch (kind) {
    case K_NIL: snprintf(printed, cap, "nil"); return netproc_nil();
    case K_T: snprintf(printed, cap, "t"); return netproc_t();
    case K_INT: snprintf(printed, cap, "%lld", integer); return INT(integer);
    case K_STR: snprintf(printed, cap, "\"%s\"", string); return STR(string);
    case K_SYM: snprintf(printed, cap, "foo"); return SYM("foo");
    case K_VEC: snprintf(printed, cap, "[1 2]"); return netproc_vector(two_ints, 2);
    case K_LIST: snprintf(printed, cap, "(1 2)"); return netproc_list(two_ints, 2);
    case K_CONS: snprintf(printed, cap, "(1 . 2)"); return netproc_cons(two_ints);
    case K_PTR: snprintf(printed, cap, "#<pointer 0x%" PRIxPTR ">", (uintptr_t)&host_object); return netproc_pointer(&host_object);
    case K_FILTER:
        snprintf(printed, cap, "#<c-function 0x%" PRIxPTR " 0x0>", (uintptr_t)dummy_filter);
        return netproc_filter(dummy_filter, NULL);
    case K_SENTINEL:
        snprintf(printed, cap, "#<c-function 0x%" PRIxPTR " 0x0>", (uintptr_t)dummy_sentinel);
        return netproc_sentinel(dummy_sentinel, NULL);
    default:
        snprintf(printed, cap, "#<c-function 0x%" PRIxPTR " 0x0>", (uintptr_t)dummy_log);
        return netproc_log(dummy_log, NULL);
    }
}

enum base { B_SERVER, B_CLIENT, B_NO_SERVER };

/* An outcome: "ok STATUS", "W predicate" (wrong-type-argument with the value),
 * "W predicate printed" (with that printed datum), "E message" (plain error), "C" (coding-system-error
 * with the value), "M message" (file-missing), "F message" (file-error). %P in a message is
 * replaced by the fixture server's port, %G by the gai text of EAI_FAMILY. */
struct keyword_row {
    const char *key;
    enum base base;
    long long integer;
    const char *string;
    const char *outcome[K_COUNT];
};

#define OK_ALL(s) {"ok " s, "ok " s, "ok " s, "ok " s, "ok " s, "ok " s, "ok " s, "ok " s, "ok " s, "ok " s, "ok " s, "ok " s}

/* Checked against Emacs 28.2 (`emacs --batch -Q`, the same matrix with Lisp stand-ins: a
 * buffer for POINTER, a lambda for the functions). Where the rows differ from Emacs it is
 * the difference docs/DIFFERENCES.md documents (:filter, :sentinel and :log take only their
 * own kind of C function) or a C value that has no Lisp twin (:plist of a FILTER is not a
 * sequence; a lambda would be a list); :tls-parameters must start with its TLS type,
 * gnutls-x509pki (docs/TLS.md). */
static const struct keyword_row keyword_rows[] = {
    {":name", B_SERVER, 5, "x",
     {"W stringp", "W stringp", "W stringp", "ok listen", "W stringp", "W stringp", "W stringp", "W stringp",
      "W stringp", "W stringp", "W stringp", "W stringp"}},
    {":buffer", B_SERVER, 5, "x",
     {"ok listen", "W stringp", "W stringp", "ok listen", "W stringp", "W stringp", "W stringp", "W stringp",
      "ok listen", "W stringp", "W stringp", "W stringp"}},
    {":host", B_SERVER, 5, "127.0.0.1",
     {"ok listen", "W stringp", "W stringp", "ok listen", "W stringp", "W stringp", "W stringp", "W stringp",
      "W stringp", "W stringp", "W stringp", "W stringp"}},
    {":service", B_SERVER, 0, "0",
     {"W stringp", "ok listen", "ok listen", "ok listen", "W stringp", "W stringp", "W stringp", "W stringp",
      "W stringp", "W stringp", "W stringp", "W stringp"}},
    {":type", B_SERVER, 5, "x",
     {"ok listen", "E Unsupported connection type", "E Unsupported connection type", "E Unsupported connection type",
      "E Unsupported connection type", "E Unsupported connection type", "E Unsupported connection type",
      "E Unsupported connection type", "E Unsupported connection type", "E Unsupported connection type",
      "E Unsupported connection type", "E Unsupported connection type"}},
    {":family", B_SERVER, 5, "x",
     {"ok listen", "E Unknown address family", "E 127.0.0.1/0 %G", "E Unknown address family",
      "E Unknown address family", "E Unknown address family", "E Unknown address family", "E Unknown address family",
      "E Unknown address family", "E Unknown address family", "E Unknown address family",
      "E Unknown address family"}},
    {":local", B_SERVER, 5, "/nonexistent-netproc/x",
     {"ok listen", "E Malformed :address", "E Malformed :address",
      "M Cannot bind server socket: No such file or directory", "E Malformed :address", "E Malformed :address",
      "E Malformed :address", "E Malformed :address", "E Malformed :address", "E Malformed :address",
      "E Malformed :address", "E Malformed :address"}},
    {":remote", B_CLIENT, 5, "/nonexistent-netproc/x",
     {"ok open", "E Malformed :address", "E Malformed :address",
      "M make client process failed: No such file or directory, :name, s, :service, %P, :remote, "
      "/nonexistent-netproc/x",
      "E Malformed :address", "E Malformed :address", "E Malformed :address", "E Malformed :address",
      "E Malformed :address", "E Malformed :address", "E Malformed :address", "E Malformed :address"}},
    {":coding", B_SERVER, 5, "x",
     {"ok listen", "C", "W symbolp", "W symbolp", "C", "W symbolp", "W symbolp 1", "W symbolp 1", "W symbolp",
      "W symbolp", "W symbolp", "W symbolp"}},
    {":nowait", B_CLIENT, 5, "x",
     {"ok open", "ok connect", "ok connect", "ok connect", "ok connect", "ok connect", "ok connect", "ok connect",
      "ok connect", "ok connect", "ok connect", "ok connect"}},
    {":noquery", B_SERVER, 5, "x", OK_ALL("listen")},
    {":stop", B_SERVER, 5, "x",
     {"ok listen", "ok stop", "ok stop", "ok stop", "ok stop", "ok stop", "ok stop", "ok stop", "ok stop", "ok stop",
      "ok stop", "ok stop"}},
    {":filter", B_SERVER, 5, "x",
     {"ok listen", "ok listen", "W functionp", "W functionp", "W functionp", "W functionp", "W functionp",
      "W functionp", "W functionp", "ok listen", "W functionp", "W functionp"}},
    {":filter-multibyte", B_SERVER, 5, "x", OK_ALL("listen")},
    {":sentinel", B_SERVER, 5, "x",
     {"ok listen", "W functionp", "W functionp", "W functionp", "W functionp", "W functionp", "W functionp",
      "W functionp", "W functionp", "W functionp", "ok listen", "W functionp"}},
    {":log", B_SERVER, 5, "x",
     {"ok listen", "W functionp", "W functionp", "W functionp", "W functionp", "W functionp", "W functionp",
      "W functionp", "W functionp", "W functionp", "W functionp", "ok listen"}},
    {":plist", B_SERVER, 5, "x",
     {"ok listen", "W sequencep", "W sequencep", "ok listen", "W sequencep", "ok listen", "ok listen", "W listp 2",
      "W sequencep", "W sequencep", "W sequencep", "W sequencep"}},
    {":server", B_NO_SERVER, 5, "x",
     {"F make client process failed: Connection refused, :name, s, :service, t, :server, nil", "ok listen",
      "ok listen", "ok listen", "ok listen", "ok listen", "ok listen", "ok listen", "ok listen", "ok listen",
      "ok listen", "ok listen"}},
    {":tls-parameters", B_SERVER, 5, "x",
     {"ok listen", "W listp", "W listp", "W listp", "W listp", "W listp",
      "E Unknown TLS credential type: 1", "E Unknown TLS credential type: 1",
      "W listp", "W listp", "W listp", "W listp"}},
    {":use-external-socket", B_SERVER, 5, "x", OK_ALL("listen")},
    {":broadcast", B_SERVER, 5, "x", OK_ALL("listen")},
    {":dontroute", B_SERVER, 5, "x", OK_ALL("listen")},
    {":keepalive", B_SERVER, 5, "x", OK_ALL("listen")},
    {":linger", B_SERVER, 5, "x", OK_ALL("listen")},
    {":oobinline", B_SERVER, 5, "x", OK_ALL("listen")},
    {":priority", B_SERVER, 5, "x",
     {"E Bad option value for :priority", "E Bad option value for :priority", "ok listen",
      "E Bad option value for :priority", "E Bad option value for :priority", "E Bad option value for :priority",
      "E Bad option value for :priority", "E Bad option value for :priority", "E Bad option value for :priority",
      "E Bad option value for :priority", "E Bad option value for :priority", "E Bad option value for :priority"}},
    {":reuseaddr", B_SERVER, 5, "x", OK_ALL("listen")},
    {":bindtodevice", B_SERVER, 5, "nosuchdev0",
     {"ok listen", "E Bad option value for :bindtodevice", "E Bad option value for :bindtodevice",
      "F Cannot set network option: No such device, :bindtodevice, nosuchdev0",
      "E Bad option value for :bindtodevice", "E Bad option value for :bindtodevice",
      "E Bad option value for :bindtodevice", "E Bad option value for :bindtodevice",
      "E Bad option value for :bindtodevice", "E Bad option value for :bindtodevice",
      "E Bad option value for :bindtodevice", "E Bad option value for :bindtodevice"}},
};

/* `pattern` with %P replaced by `port` and %G by the text of EAI_FAMILY. */
static void expand(char *out, size_t cap, const char *pattern, long long port) {
    size_t n = 0;
    for (const char *c = pattern; *c && n + 1 < cap; c++) {
        if (c[0] == '%' && (c[1] == 'P' || c[1] == 'G')) {
            int w = c[1] == 'P' ? snprintf(out + n, cap - n, "%lld", port) : snprintf(out + n, cap - n, "%s", gai_strerror(EAI_FAMILY));
            n += w > 0 ? (size_t)w : 0;
            c++;
        } else {
            out[n++] = *c;
        }
    }
    out[n < cap ? n : cap - 1] = '\0';
}

/* Builds the arguments of one matrix cell: the base (server, client to `port`, or :name and
 * :service t) without the tested key, then the key with the value. */
static size_t cell_args(netproc_arg *args, const char *key, enum base base, long long port, netproc_value value) {
    size_t n = 0;
    if (strcmp(key, ":name") != 0) args[n++] = ARG(":name", STR("s"));
    if (base == B_CLIENT) {
        args[n++] = ARG(":service", INT(port));
    } else {
        if (base == B_SERVER && strcmp(key, ":server") != 0) args[n++] = ARG(":server", netproc_t());
        if (strcmp(key, ":service") != 0) args[n++] = ARG(":service", netproc_t());
    }
    args[n++] = ARG(key, value);
    return n;
}

/* Every keyword of make-network-process with a value of every kind netproc_value has: the
 * process is made (with the expected status) or the call fails with the exact Emacs error,
 * creating nothing. Row by row, then the whole matrix once more under a fresh baseline to
 * show nothing leaked. */
static void every_value_type_for_every_keyword(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    netproc_process *fixture = plain_server(ctx, "fixture");
    long long port = contact_int(fixture, ":service");
    size_t cells = 0;
    for (size_t r = 0; r < NARGS(keyword_rows); r++) {
        const struct keyword_row *row = &keyword_rows[r];
        for (int k = 0; k < K_COUNT; k++) {
            char printed[96], want[512], pattern[256];
            netproc_value value = kind_value(k, row->integer, row->string, printed, sizeof printed);
            netproc_arg args[6];
            size_t n = cell_args(args, row->key, row->base, port, value);
            const char *outcome = row->outcome[k];
            netproc_process *p = NULL;
            int rc = netproc_make_network_process(ctx, args, n, &p);
            char where[96];
            snprintf(where, sizeof where, "%s %s", row->key, kind_names[k]);
            cells++;
            if (strncmp(outcome, "ok ", 3) == 0) {
                if (rc != NETPROC_OK)
                    check_fail_(__FILE__, __LINE__, "%s: want %s, got (%s) %s", where, outcome, last_error_symbol(ctx),
                                last_error_message(ctx));
                if (strcmp(netproc_process_status(p), outcome + 3) != 0)
                    check_fail_(__FILE__, __LINE__, "%s: status %s, want %s", where, netproc_process_status(p),
                                outcome + 3);
                drop(p);
                continue;
            }
            if (p != NULL) check_fail_(__FILE__, __LINE__, "%s: failed call wrote a process", where);
            const char *symbol = "error";
            int status = NETPROC_E_ERROR;
            switch (outcome[0]) {
            case 'W': {
                const char *predicate = outcome + 2, *datum = strchr(predicate, ' ');
                if (datum) snprintf(want, sizeof want, "Wrong type argument: %.*s, %s", (int)(datum - predicate), predicate, datum + 1);
                else snprintf(want, sizeof want, "Wrong type argument: %s, %s", predicate, printed);
                symbol = "wrong-type-argument";
                status = NETPROC_E_WRONG_TYPE;
                break;
            }
            case 'C':
                snprintf(want, sizeof want, "Invalid coding system: %s", printed);
                symbol = "coding-system-error";
                status = NETPROC_E_CODING;
                break;
            default:
                snprintf(pattern, sizeof pattern, "%s", outcome + 2);
                expand(want, sizeof want, pattern, port);
                if (outcome[0] == 'M') symbol = "file-missing", status = NETPROC_E_FILE;
                if (outcome[0] == 'F') symbol = "file-error", status = NETPROC_E_FILE;
                break;
            }
            /* Without the privilege SO_BINDTODEVICE may be refused before the device is looked up. */
            if (outcome[0] == 'F' && last_error_errno(ctx) == EPERM)
                snprintf(want, sizeof want, "Cannot set network option: Operation not permitted, :bindtodevice, %s",
                         row->string);
            check_error_(__FILE__, __LINE__, where, ctx, rc, status, symbol, want, false);
            CHECK_EQ(listed_processes(ctx), 1);
        }
    }
    CHECK_EQ(cells, NARGS(keyword_rows) * K_COUNT);
    drop(fixture);
    delete_all(ctx);
    CHECK_NO_LEAK(ctx, baseline);
}

/* The setters, with every kind: set-process-buffer (NIL, POINTER or, without buffer hooks,
 * a STRING name: a documented C extension; else bufferp), -filter, -sentinel, -plist (a
 * list: LISTP, so a cons too), -coding-system (symbolp, or coding-system-error for t and
 * unknown symbols) and set-network-process-option for the options that check their value.
 * Failures change nothing. Emacs 28.2 verified for the Lisp-expressible kinds. */
static void every_value_type_for_every_setter(void) {
    static const struct {
        const char *setter;
        const char *outcome[K_COUNT];
    } rows[] = {
        {"buffer", {"ok", "W bufferp", "W bufferp", "ok", "W bufferp", "W bufferp", "W bufferp", "W bufferp", "ok",
                    "W bufferp", "W bufferp", "W bufferp"}},
        {"filter", {"ok", "ok", "W functionp", "W functionp", "W functionp", "W functionp", "W functionp",
                    "W functionp", "W functionp", "ok", "W functionp", "W functionp"}},
        {"sentinel", {"ok", "W functionp", "W functionp", "W functionp", "W functionp", "W functionp", "W functionp",
                      "W functionp", "W functionp", "W functionp", "ok", "W functionp"}},
        {"plist", {"ok", "W listp", "W listp", "W listp", "W listp", "W listp", "ok", "ok", "W listp", "W listp",
                   "W listp", "W listp"}},
        {"coding", {"ok", "C", "W symbolp", "W symbolp", "C", "W symbolp", "W symbolp", "W symbolp", "W symbolp",
                    "W symbolp", "W symbolp", "W symbolp"}},
        {":priority", {"E Bad option value for :priority", "E Bad option value for :priority", "ok",
                       "E Bad option value for :priority", "E Bad option value for :priority",
                       "E Bad option value for :priority", "E Bad option value for :priority",
                       "E Bad option value for :priority", "E Bad option value for :priority",
                       "E Bad option value for :priority", "E Bad option value for :priority",
                       "E Bad option value for :priority"}},
        {":bindtodevice", {"ok", "E Bad option value for :bindtodevice", "E Bad option value for :bindtodevice",
                           "F", "E Bad option value for :bindtodevice", "E Bad option value for :bindtodevice",
                           "E Bad option value for :bindtodevice", "E Bad option value for :bindtodevice",
                           "E Bad option value for :bindtodevice", "E Bad option value for :bindtodevice",
                           "E Bad option value for :bindtodevice", "E Bad option value for :bindtodevice"}},
        {":keepalive", {"ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"}},
    };
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    netproc_process *server = plain_server(ctx, "srv");
    netproc_process *client = plain_client(ctx, "cli", contact_int(server, ":service"));
    for (size_t r = 0; r < NARGS(rows); r++) {
        for (int k = 0; k < K_COUNT; k++) {
            char printed[96], want[256], where[64];
            netproc_value value = kind_value(k, 5, "nosuchdev0", printed, sizeof printed);
            const char *s = rows[r].setter, *outcome = rows[r].outcome[k];
            snprintf(where, sizeof where, "set %s %s", s, kind_names[k]);
            int rc;
            if (strcmp(s, "buffer") == 0) rc = netproc_set_process_buffer(client, &value);
            else if (strcmp(s, "filter") == 0) rc = netproc_set_process_filter(client, &value);
            else if (strcmp(s, "sentinel") == 0) rc = netproc_set_process_sentinel(client, &value);
            else if (strcmp(s, "plist") == 0) rc = netproc_set_process_plist(client, &value);
            else if (strcmp(s, "coding") == 0) rc = netproc_set_process_coding_system(client, &value, &value);
            else rc = netproc_set_network_process_option(client, s, &value, false, NULL);
            if (strcmp(outcome, "ok") == 0) {
                if (rc != NETPROC_OK)
                    check_fail_(__FILE__, __LINE__, "%s: got (%s) %s", where, last_error_symbol(ctx), last_error_message(ctx));
                continue;
            }
            const char *symbol = "error";
            int status = NETPROC_E_ERROR;
            if (outcome[0] == 'W') {
                snprintf(want, sizeof want, "Wrong type argument: %s, %s", outcome + 2, printed);
                symbol = "wrong-type-argument", status = NETPROC_E_WRONG_TYPE;
            } else if (outcome[0] == 'C') {
                snprintf(want, sizeof want, "Invalid coding system: %s", printed);
                symbol = "coding-system-error", status = NETPROC_E_CODING;
            } else if (outcome[0] == 'F') {
                snprintf(want, sizeof want, "Cannot set network option: %s, :bindtodevice, nosuchdev0",
                         last_error_errno(ctx) == EPERM ? "Operation not permitted" : "No such device");
                symbol = "file-error", status = NETPROC_E_FILE;
            } else {
                snprintf(want, sizeof want, "%s", outcome + 2);
            }
            check_error_(__FILE__, __LINE__, where, ctx, rc, status, symbol, want, false);
        }
    }
    /* The last successful settings are still in place. */
    netproc_value got;
    CHECK_OK(ctx, netproc_process_filter(client, &got));
    CHECK_EQ(got.kind, NETPROC_VALUE_FILTER);
    netproc_value_free(&got);
    drop(client);
    drop(server);
    CHECK_NO_LEAK(ctx, baseline);
}

/* ---- duplicated and unknown keywords ------------------------------------------------ */

/* For every keyword that can fail: given twice, the first value wins whatever the second
 * (so GOOD then BAD works and BAD then GOOD fails with BAD's error), as Emacs reads the
 * plist. The options are the exception: Emacs applies every option key in list order, so
 * a bad duplicate fails in either position (verified: :priority 1 :priority foo). So do
 * :filter, :sentinel and :log, whose C function values netproc checks as they are read,
 * every occurrence (docs/DIFFERENCES.md: checked at once; Emacs never checks them). */
static void duplicated_keywords_first_wins(void) {
    static const struct {
        const char *key;
        enum base base;
        netproc_value good, bad;
        int status;
        const char *symbol, *message;
        bool both_fail;
    } rows[] = {
        {":name", B_SERVER, {NETPROC_VALUE_STRING, 0, (const uint8_t *)"a", 1, NULL, 0, NULL, NULL, NULL, NULL},
         {NETPROC_VALUE_INTEGER, 5, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL}, NETPROC_E_WRONG_TYPE,
         "wrong-type-argument", "Wrong type argument: stringp, 5", false},
        {":type", B_SERVER, {0}, {NETPROC_VALUE_INTEGER, 5, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL}, NETPROC_E_ERROR,
         "error", "Unsupported connection type", false},
        {":family", B_SERVER, {0}, {NETPROC_VALUE_T, 0, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL}, NETPROC_E_ERROR,
         "error", "Unknown address family", false},
        {":host", B_SERVER, {0}, {NETPROC_VALUE_INTEGER, 7, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL},
         NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: stringp, 7", false},
        {":service", B_SERVER, {NETPROC_VALUE_T, 0, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL}, {0},
         NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: stringp, nil", false},
        {":local", B_SERVER, {0}, {NETPROC_VALUE_INTEGER, 1, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL},
         NETPROC_E_ERROR, "error", "Malformed :address", false},
        {":buffer", B_SERVER, {0}, {NETPROC_VALUE_INTEGER, 1, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL},
         NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: stringp, 1", false},
        {":coding", B_SERVER, {0}, {NETPROC_VALUE_SYMBOL, 0, (const uint8_t *)"nope", 4, NULL, 0, NULL, NULL, NULL, NULL},
         NETPROC_E_CODING, "coding-system-error", "Invalid coding system: nope", false},
        {":filter", B_SERVER, {0}, {NETPROC_VALUE_INTEGER, 1, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL},
         NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: functionp, 1", true},
        {":sentinel", B_SERVER, {0}, {NETPROC_VALUE_INTEGER, 1, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL},
         NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: functionp, 1", true},
        {":log", B_SERVER, {0}, {NETPROC_VALUE_INTEGER, 1, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL},
         NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: functionp, 1", true},
        {":plist", B_SERVER, {0}, {NETPROC_VALUE_INTEGER, 1, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL},
         NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: sequencep, 1", false},
        {":tls-parameters", B_SERVER, {0}, {NETPROC_VALUE_INTEGER, 1, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL},
         NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: listp, 1", false},
        {":priority", B_SERVER, {NETPROC_VALUE_INTEGER, 1, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL},
         {NETPROC_VALUE_SYMBOL, 0, (const uint8_t *)"foo", 3, NULL, 0, NULL, NULL, NULL, NULL}, NETPROC_E_ERROR, "error",
         "Bad option value for :priority", true},
        {":bindtodevice", B_SERVER, {0}, {NETPROC_VALUE_INTEGER, 1, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL},
         NETPROC_E_ERROR, "error", "Bad option value for :bindtodevice", true},
    };
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    for (size_t r = 0; r < NARGS(rows); r++) {
        for (int bad_first = 0; bad_first <= 1; bad_first++) {
            netproc_arg args[7];
            size_t n = cell_args(args, rows[r].key, rows[r].base, 0, bad_first ? rows[r].bad : rows[r].good);
            args[n++] = ARG(rows[r].key, bad_first ? rows[r].good : rows[r].bad);
            if (bad_first || rows[r].both_fail) {
                EXPECT_MAKE_ERROR(ctx, args, n, rows[r].status, rows[r].symbol, rows[r].message);
            } else {
                netproc_process *p = make_ok(ctx, args, n);
                CHECK_STR_EQ(netproc_process_status(p), "listen");
                drop(p);
            }
        }
    }
    CHECK_NO_LEAK(ctx, baseline);
}

/* Keys netproc does not know are kept in the contact plist and otherwise ignored, however
 * odd: no colon, a different case (then :name is missing: (wrong-type-argument stringp
 * nil), as in Emacs), an empty key, a bare colon, a 64 KiB key, bytes that are not UTF-8
 * (the key reads back through the same bytes). */
static void unknown_keywords_kept_and_ignored(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    static char huge[65537];
    memset(huge, 'k', sizeof huge - 1);
    huge[0] = ':';
    const char *keys[] = {"name2", "", ":", ":nAme", huge, ":\xff\xfe", ":service\x01"};
    for (size_t i = 0; i < NARGS(keys); i++) {
        netproc_arg args[] = {ARG(":name", STR("s")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
                              ARG(keys[i], INT((long long)i + 100))};
        netproc_process *p = make_ok(ctx, args, NARGS(args));
        CHECK_EQ(contact_int(p, keys[i]), (long long)i + 100);
        CHECK_STR_EQ(netproc_process_status(p), "listen");
        drop(p);
    }
    netproc_arg wrong_case[] = {ARG(":Name", STR("s")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    EXPECT_MAKE_ERROR(ctx, wrong_case, NARGS(wrong_case), NETPROC_E_WRONG_TYPE, "wrong-type-argument",
                      "Wrong type argument: stringp, nil");
    CHECK_NO_LEAK(ctx, baseline);
}

/* ---- ports and backlogs ------------------------------------------------------------- */

/* A numeric :service outside 0–65535 is "HOST/SERVICE Port number out of range"
 * (docs/DIFFERENCES.md: Emacs's getaddrinfo wraps 70000 to 4464 silently); for every socket
 * kind and family, as an integer or a decimal string, before anything is created. "-1" as a
 * string is getaddrinfo's own error, as Emacs shows it. Address vectors with such a port are
 * refused too. */
static void ports_out_of_range(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    long long raw_port = 0;
    int listener = raw_listen(&raw_port);
    static const struct {
        bool text;
        long long number;
        const char *string, *shown;
    } ports[] = {
        {false, 65536, NULL, "65536"},
        {false, 70000, NULL, "70000"},
        {false, -1, NULL, "-1"},
        {false, INT64_MAX, NULL, "9223372036854775807"},
        {false, INT64_MIN, NULL, "-9223372036854775808"},
        {true, 0, "65536", "65536"},
        {true, 0, "99999", "99999"},
        {true, 0, " 70000", " 70000"},
        {true, 0, "99999999999999999999999", "99999999999999999999999"},
    };
    static const struct {
        const char *label, *host;
        netproc_arg extra;
    } kinds[] = {
        {"stream client", "127.0.0.1", {":stop", {NETPROC_VALUE_NIL, 0, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL}}},
        {"server", "127.0.0.1", {":server", {NETPROC_VALUE_T, 0, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL}}},
        {"nowait client", "127.0.0.1", {":nowait", {NETPROC_VALUE_T, 0, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL}}},
        {"datagram", "127.0.0.1",
         {":type", {NETPROC_VALUE_SYMBOL, 0, (const uint8_t *)"datagram", 8, NULL, 0, NULL, NULL, NULL, NULL}}},
        {"ipv6", "::1", {":family", {NETPROC_VALUE_SYMBOL, 0, (const uint8_t *)"ipv6", 4, NULL, 0, NULL, NULL, NULL, NULL}}},
    };
    for (size_t k = 0; k < NARGS(kinds); k++) {
        for (size_t i = 0; i < NARGS(ports); i++) {
            netproc_arg args[] = {ARG(":name", STR("p")), ARG(":service", ports[i].text ? STR(ports[i].string) : INT(ports[i].number)),
                                  kinds[k].extra};
            char want[128];
            snprintf(want, sizeof want, "%s/%s Port number out of range", kinds[k].host, ports[i].shown);
            EXPECT_MAKE_ERROR(ctx, args, NARGS(args), NETPROC_E_ERROR, "error", want);
        }
    }
    /* 70000 does not reach the port it would wrap to. */
    netproc_arg wrapped[] = {ARG(":name", STR("p")), ARG(":service", INT(raw_port + 65536))};
    char want[128];
    snprintf(want, sizeof want, "127.0.0.1/%lld Port number out of range", raw_port + 65536);
    EXPECT_MAKE_ERROR(ctx, wrapped, NARGS(wrapped), NETPROC_E_ERROR, "error", want);
    struct pollfd pending = {listener, POLLIN, 0};
    CHECK_EQ(poll(&pending, 1, 0), 0); /* no connection waits on the listener */
    /* "-1": getaddrinfo's own error, as Emacs shows it. */
    netproc_arg minus[] = {ARG(":name", STR("p")), ARG(":service", STR("-1"))};
    snprintf(want, sizeof want, "127.0.0.1/-1 %s", gai_strerror(EAI_SERVICE));
    EXPECT_MAKE_ERROR(ctx, minus, NARGS(minus), NETPROC_E_ERROR, "error", want);
    /* An address vector's port no longer wraps as in Emacs ([127 0 0 1 P+65536] would
     * connect to P): it is (args-out-of-range PORT 0 65535) (test_address.c). */
    netproc_value v[5] = {INT(127), INT(0), INT(0), INT(1), INT(raw_port + 65536)};
    netproc_arg remote[] = {ARG(":name", STR("w")), ARG(":remote", netproc_vector(v, 5))};
    snprintf(want, sizeof want, "Args out of range: %lld, 0, 65535", raw_port + 65536);
    EXPECT_MAKE_ERROR(ctx, remote, NARGS(remote), NETPROC_E_ERROR, "args-out-of-range", want);
    CHECK_EQ(poll(&pending, 1, 0), 0);
    close(listener);
    CHECK_NO_LEAK(ctx, baseline);
}

/* :server N is the listen backlog. Negative: (wrong-type-argument natnump N)
 * (docs/DIFFERENCES.md); 0 and anything up to INT64_MAX listen (the kernel caps it at
 * somaxconn; Emacs too listens, with its default of 5 for values beyond an int). */
static void backlogs_negative_or_huge(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    static const long long negative[] = {-1, -5, INT32_MIN, INT64_MIN};
    for (size_t i = 0; i < NARGS(negative); i++) {
        netproc_arg args[] = {ARG(":name", STR("b")), ARG(":server", INT(negative[i])), ARG(":service", netproc_t())};
        char want[96];
        snprintf(want, sizeof want, "Wrong type argument: natnump, %lld", negative[i]);
        EXPECT_MAKE_ERROR(ctx, args, NARGS(args), NETPROC_E_WRONG_TYPE, "wrong-type-argument", want);
    }
    static const long long fine[] = {0, 1, INT32_MAX, (long long)INT32_MAX + 1, INT64_MAX};
    for (size_t i = 0; i < NARGS(fine); i++) {
        netproc_arg args[] = {ARG(":name", STR("b")), ARG(":server", INT(fine[i])), ARG(":service", netproc_t())};
        netproc_process *p = make_ok(ctx, args, NARGS(args));
        CHECK_STR_EQ(netproc_process_status(p), "listen");
        /* It accepts. */
        netproc_process *c = plain_client(ctx, "c", contact_int(p, ":service"));
        drop(c);
        drop(p);
    }
    delete_all(ctx);
    CHECK_NO_LEAK(ctx, baseline);
}

/* ---- names ------------------------------------------------------------------------- */

static void expect_not_running(netproc_context *ctx, netproc_process *p, const char *message) {
    CHECK_ERROR(ctx, netproc_process_send(p, (const uint8_t *)"x", 1), NETPROC_E_ERROR, "error", message);
}

/* Empty, 1 MiB, and not-UTF-8-with-a-NUL names work as Emacs's do: kept byte for byte,
 * made unique with <1>, found by get_process, given to accepted connections as
 * "NAME <127.0.0.1:PORT>". Messages are C strings in UTF-8: a NUL is left out and a byte
 * that is not UTF-8 shows as U+FFFD (Emacs would show the raw byte). */
static void names_empty_huge_or_not_utf8(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    /* Empty (Emacs: "" then "<1>", and "Process  not running"). */
    netproc_arg empty[] = {ARG(":name", STR("")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    netproc_process *e1 = make_ok(ctx, empty, NARGS(empty)), *e2 = make_ok(ctx, empty, NARGS(empty));
    size_t len = 99;
    CHECK_STR_EQ(netproc_process_name(e1, &len), "");
    CHECK_EQ(len, 0);
    CHECK_STR_EQ(netproc_process_name(e2, NULL), "<1>");
    netproc_process *found = NULL;
    CHECK_OK(ctx, netproc_get_process(ctx, "", &found));
    CHECK(found == e1);
    /* Checked after the delete and before the free: a freed handle is not to be used. */
    CHECK_EQ(netproc_delete_process(e1), NETPROC_OK);
    expect_not_running(ctx, e1, "Process  not running");
    netproc_process_free(e1);
    drop(e2);

    /* 1 MiB. */
    const size_t big = 1 << 20;
    char *huge = malloc(big + 1);
    CHECK_NOT_NULL(huge);
    memset(huge, 'n', big);
    huge[big] = '\0';
    netproc_arg large[] = {ARG(":name", STR(huge)), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    netproc_process *h1 = make_ok(ctx, large, NARGS(large)), *h2 = make_ok(ctx, large, NARGS(large));
    CHECK_STR_EQ(netproc_process_name(h1, &len), huge);
    CHECK_EQ(len, big);
    netproc_process_name(h2, &len);
    CHECK_EQ(len, big + 3);
    CHECK(memcmp(netproc_process_name(h2, NULL) + big, "<1>", 4) == 0);
    drop(h2);
    const char *message = NULL;
    CHECK_EQ(netproc_process_send(h2, (const uint8_t *)"x", 1), NETPROC_E_ERROR);
    netproc_last_error(ctx, NULL, &message, NULL);
    CHECK_EQ(strlen(message), strlen("Process  not running") + big + 3);
    CHECK(strncmp(message, "Process nnn", 11) == 0);
    CHECK_STR_EQ(message + strlen(message) - 15, "<1> not running");
    struct recorder rec = {0};
    drop(h1);
    free(huge);

    /* Not UTF-8, with a NUL inside: "\xff\xfe\0z". */
    static const uint8_t odd[] = {0xff, 0xfe, 0x00, 'z'};
    netproc_arg bytes[] = {ARG(":name", netproc_string_n(odd, sizeof odd)), ARG(":server", netproc_t()),
                           ARG(":service", netproc_t()), ARG(":log", REC_LOG_V(&rec))};
    netproc_process *b = make_ok(ctx, bytes, NARGS(bytes));
    const char *name = netproc_process_name(b, &len);
    CHECK_MEM_EQ(name, len, odd, sizeof odd);
    CHECK_EQ(name[len], '\0');
    netproc_value v;
    CHECK_OK(ctx, netproc_process_contact(b, ":name", false, &v));
    CHECK_MEM_EQ(v.bytes, v.length, odd, sizeof odd);
    netproc_value_free(&v);
    long long port = contact_int(b, ":service");
    netproc_process *c = plain_client(ctx, "c", port);
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_LOG, b) == 1, scaled_ms(3000)));
    netproc_process *acc = rec.events[0].client;
    const char *acc_name = netproc_process_name(acc, &len);
    char want[64];
    int w = snprintf(want, sizeof want, "%c%c%c%c <127.0.0.1:%lld>", 0xff, 0xfe, 'X', 'z', contact_port(c, ":local"));
    want[2] = '\0';
    CHECK_MEM_EQ(acc_name, len, want, (size_t)w);
    CHECK_EQ(netproc_delete_process(b), NETPROC_OK);
    expect_not_running(ctx, b, "Process \xef\xbf\xbd\xef\xbf\xbdz not running");
    netproc_process_free(b);
    drop(c);
    delete_all(ctx);
    rec_free(&rec);
    CHECK_NO_LEAK(ctx, baseline);
}

/* ---- unix paths ---------------------------------------------------------------------- */

/* Unix paths that cannot work, for servers and clients: 108 bytes (error "Service name too
 * long"), a missing directory (file-missing), a parent that is a file (ENOTDIR), an
 * unwritable directory (EACCES, checked as an unprivileged user: this case's child drops
 * root), an existing socket file left by a dead server and an existing regular file (bind:
 * EADDRINUSE; connect: ECONNREFUSED), and the empty path. Messages as Emacs 28.2 gives them. */
static void unix_paths_that_cannot_work(void) {
    if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) SKIP_TEST("cannot drop root");
    int baseline = fd_baseline();
    char dir[64], path[256], want[512];
    CHECK_NOT_NULL(make_temp_dir(dir, sizeof dir));
    netproc_context *ctx = new_context();

#define UNIX_SERVER(p) {ARG(":name", STR("us")), ARG(":family", SYM("local")), ARG(":server", netproc_t()), ARG(":service", STR(p))}
#define UNIX_CLIENT(p) {ARG(":name", STR("uc")), ARG(":family", SYM("local")), ARG(":service", STR(p))}
#define CLIENT_FAILED(reason, p) \
    snprintf(want, sizeof want, "make client process failed: " reason ", :name, uc, :family, local, :service, %s", p)

    /* Too long. */
    memset(path, 'p', 108);
    path[0] = '/';
    path[108] = '\0';
    {
        netproc_arg s[] = UNIX_SERVER(path), c[] = UNIX_CLIENT(path);
        EXPECT_MAKE_ERROR(ctx, s, NARGS(s), NETPROC_E_ERROR, "error", "Service name too long");
        EXPECT_MAKE_ERROR(ctx, c, NARGS(c), NETPROC_E_ERROR, "error", "Service name too long");
    }
    /* A missing directory. */
    snprintf(path, sizeof path, "%s/missing/s", dir);
    {
        netproc_arg s[] = UNIX_SERVER(path), c[] = UNIX_CLIENT(path);
        EXPECT_MAKE_ERROR(ctx, s, NARGS(s), NETPROC_E_FILE, "file-missing", "Cannot bind server socket: No such file or directory");
        CLIENT_FAILED("No such file or directory", path);
        EXPECT_MAKE_ERROR(ctx, c, NARGS(c), NETPROC_E_FILE, "file-missing", want);
    }
    /* A parent that is a regular file. */
    char file[128];
    snprintf(file, sizeof file, "%s/file", dir);
    int fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    close(fd);
    snprintf(path, sizeof path, "%s/s", file);
    {
        netproc_arg s[] = UNIX_SERVER(path), c[] = UNIX_CLIENT(path);
        EXPECT_MAKE_ERROR(ctx, s, NARGS(s), NETPROC_E_FILE, "file-error", "Cannot bind server socket: Not a directory");
        CLIENT_FAILED("Not a directory", path);
        EXPECT_MAKE_ERROR(ctx, c, NARGS(c), NETPROC_E_FILE, "file-error", want);
    }
    /* An existing regular file at the path. */
    {
        netproc_arg s[] = UNIX_SERVER(file), c[] = UNIX_CLIENT(file);
        EXPECT_MAKE_ERROR(ctx, s, NARGS(s), NETPROC_E_FILE, "file-error", "Cannot bind server socket: Address already in use");
        CLIENT_FAILED("Connection refused", file);
        EXPECT_MAKE_ERROR(ctx, c, NARGS(c), NETPROC_E_FILE, "file-error", want);
    }
    /* A socket file whose server is gone. */
    snprintf(path, sizeof path, "%s/stale.sock", dir);
    {
        netproc_arg s[] = UNIX_SERVER(path), c[] = UNIX_CLIENT(path);
        netproc_process *server = make_ok(ctx, s, NARGS(s));
        drop(server);
        EXPECT_MAKE_ERROR(ctx, s, NARGS(s), NETPROC_E_FILE, "file-error", "Cannot bind server socket: Address already in use");
        CLIENT_FAILED("Connection refused", path);
        EXPECT_MAKE_ERROR(ctx, c, NARGS(c), NETPROC_E_FILE, "file-error", want);
        CHECK_EQ(last_error_errno(ctx), ECONNREFUSED);
    }
    /* An unwritable directory, and a socket without write permission. */
    char locked[128];
    snprintf(locked, sizeof locked, "%s/locked", dir);
    CHECK_EQ(mkdir(locked, 0700), 0);
    snprintf(path, sizeof path, "%s/s", locked);
    {
        netproc_arg s[] = UNIX_SERVER(path), c[] = UNIX_CLIENT(path);
        netproc_process *server = make_ok(ctx, s, NARGS(s));
        CHECK_EQ(chmod(path, 0), 0);
        CLIENT_FAILED("Permission denied", path);
        EXPECT_MAKE_ERROR(ctx, c, NARGS(c), NETPROC_E_FILE, "file-error", want);
        drop(server);
        CHECK_EQ(unlink(path), 0);
        CHECK_EQ(chmod(locked, 0500), 0);
        EXPECT_MAKE_ERROR(ctx, s, NARGS(s), NETPROC_E_FILE, "file-error", "Cannot bind server socket: Permission denied");
        CHECK_EQ(last_error_errno(ctx), EACCES);
        CHECK_EQ(chmod(locked, 0700), 0);
    }
    /* The empty path (Emacs: "Connection refused"). */
    {
        netproc_arg c[] = UNIX_CLIENT("");
        CLIENT_FAILED("Connection refused", "");
        EXPECT_MAKE_ERROR(ctx, c, NARGS(c), NETPROC_E_FILE, "file-error", want);
    }
#undef UNIX_SERVER
#undef UNIX_CLIENT
#undef CLIENT_FAILED
    CHECK_NO_LEAK(ctx, baseline);
    CHECK_EQ(remove_temp_dir(dir), 0);
}

/* ---- hosts ------------------------------------------------------------------------------ */

/* The text getaddrinfo gives for `host` (as Emacs shows it after "HOST/SERVICE "). */
static const char *gai_text(const char *host, const char *service) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc == 0) freeaddrinfo(res);
    return rc == 0 ? NULL : gai_strerror(rc);
}

/* Hosts that do not resolve: (error "HOST/SERVICE GAI-TEXT") with the resolver's own text; a
 * non-ASCII host: Emacs's puny-encode-domain error; with :nowait the call succeeds and the
 * failure comes as the sentinel "failed with code Name lookup of HOST failed\n"
 * (docs/DIFFERENCES.md), status failed, exit status that string. A host with a NUL inside is
 * refused as unresolvable (Emacs would cut it at the NUL and connect). */
static void hosts_that_do_not_resolve(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    char want[256];
    static const char *const hosts[] = {"nonexistent.invalid", "", "no such host"};
    for (size_t i = 0; i < NARGS(hosts); i++) {
        const char *gai = gai_text(hosts[i], "80");
        if (gai == NULL) continue; /* it resolves here after all */
        netproc_arg args[] = {ARG(":name", STR("h")), ARG(":host", STR(hosts[i])), ARG(":service", INT(80))};
        snprintf(want, sizeof want, "%s/80 %s", hosts[i], gai);
        EXPECT_MAKE_ERROR(ctx, args, NARGS(args), NETPROC_E_ERROR, "error", want);
        netproc_arg server[] = {ARG(":name", STR("h")), ARG(":host", STR(hosts[i])), ARG(":service", netproc_t()),
                                ARG(":server", netproc_t())};
        snprintf(want, sizeof want, "%s/0 %s", hosts[i], gai_text(hosts[i], "0"));
        EXPECT_MAKE_ERROR(ctx, server, NARGS(server), NETPROC_E_ERROR, "error", want);
    }
    netproc_arg nonascii[] = {ARG(":name", STR("h")), ARG(":host", STR("b\xc3\xbc" "cher.example")), ARG(":service", INT(80))};
    EXPECT_MAKE_ERROR(ctx, nonascii, NARGS(nonascii), NETPROC_E_ERROR, "error",
                      "Non-ASCII hostname b\xc3\xbc" "cher.example detected, please use puny-encode-domain");
    netproc_arg nul[] = {ARG(":name", STR("h")), ARG(":host", netproc_string_n((const uint8_t *)"127.0.0.1\0x", 11)),
                         ARG(":service", INT(80))};
    snprintf(want, sizeof want, "127.0.0.1x/80 %s", gai_strerror(EAI_NONAME));
    EXPECT_MAKE_ERROR(ctx, nul, NARGS(nul), NETPROC_E_ERROR, "error", want);

    if (gai_text("nonexistent.invalid", "80") != NULL) {
        struct recorder rec = {0};
        netproc_arg args[] = {ARG(":name", STR("hn")), ARG(":host", STR("nonexistent.invalid")), ARG(":service", INT(80)),
                              ARG(":nowait", netproc_t()), ARG(":sentinel", REC_SENTINEL_V(&rec))};
        netproc_process *p = make_ok(ctx, args, NARGS(args));
        CHECK_STR_EQ(netproc_process_status(p), "connect");
        CHECK(PUMP_UNTIL(ctx, rec.count > 0, scaled_ms(15000)));
        pump_for(ctx, 50);
        CHECK_EQ(rec.count, 1);
        CHECK_STR_EQ(rec.events[0].data, "failed with code Name lookup of nonexistent.invalid failed\n");
        CHECK_STR_EQ(netproc_process_status(p), "failed");
        netproc_value v;
        CHECK_OK(ctx, netproc_process_exit_status(p, &v));
        CHECK(value_is_string(&v, "Name lookup of nonexistent.invalid failed"));
        netproc_value_free(&v);
        CHECK(in_process_list(ctx, p)); /* failed processes stay listed until deleted */
        drop(p);
        CHECK_EQ(rec.count, 2);
        CHECK_STR_EQ(rec.events[1].data, "deleted\n");
        rec_free(&rec);
    }
    CHECK_NO_LEAK(ctx, baseline);
}

/* ---- :bindtodevice ------------------------------------------------------------------------ */

/* A missing interface at creation, for a server and a client: (file-error "Cannot set
 * network option" "No such device" :bindtodevice NAME), with the whole name shown though
 * only its first 15 bytes reach the kernel, as in Emacs; nothing is created. "" unbinds,
 * as in Emacs. Without CAP_NET_RAW the kernel may answer EPERM first. */
static void bindtodevice_missing_interface(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    netproc_process *server = plain_server(ctx, "srv");
    long long port = contact_int(server, ":service");
    static const char *const names[] = {"nosuchdev0", "nosuchdevice-with-a-long-name", "\xff\xfe"};
    for (size_t i = 0; i < NARGS(names); i++) {
        for (int client = 0; client <= 1; client++) {
            netproc_arg args[] = {ARG(":name", STR("b")), client ? ARG(":service", INT(port)) : ARG(":server", netproc_t()),
                                  client ? ARG(":nowait", netproc_nil()) : ARG(":service", netproc_t()),
                                  ARG(":bindtodevice", STR(names[i]))};
            netproc_process *p = NULL;
            int rc = netproc_make_network_process(ctx, args, NARGS(args), &p);
            char want[160];
            snprintf(want, sizeof want, "Cannot set network option: %s, :bindtodevice, %s",
                     last_error_errno(ctx) == EPERM ? "Operation not permitted" : "No such device",
                     i == 2 ? "\xef\xbf\xbd\xef\xbf\xbd" : names[i]);
            CHECK_ERROR(ctx, rc, NETPROC_E_FILE, "file-error", want);
            CHECK_NULL(p);
            CHECK_EQ(listed_processes(ctx), 1);
        }
    }
    netproc_arg unbind[] = {ARG(":name", STR("b")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
                            ARG(":bindtodevice", STR(""))};
    netproc_process *p = make_ok(ctx, unbind, NARGS(unbind));
    CHECK_STR_EQ(netproc_process_status(p), "listen");
    drop(p);
    drop(server);
    CHECK_NO_LEAK(ctx, baseline);
}

int main(void) {
    static const struct test_case cases[] = {
        {"null_in_every_pointer_position", null_in_every_pointer_position, 10},
        {"not_a_handle_in_every_process_position", not_a_handle_in_every_process_position, 10},
        {"freed_handle_in_every_process_position", freed_handle_in_every_process_position, 10},
        {"handle_after_context_free_in_every_position", handle_after_context_free_in_every_position, 10},
        {"every_value_type_for_every_keyword", every_value_type_for_every_keyword, 20},
        {"every_value_type_for_every_setter", every_value_type_for_every_setter, 10},
        {"duplicated_keywords_first_wins", duplicated_keywords_first_wins, 10},
        {"unknown_keywords_kept_and_ignored", unknown_keywords_kept_and_ignored, 10},
        {"ports_out_of_range", ports_out_of_range, 10},
        {"backlogs_negative_or_huge", backlogs_negative_or_huge, 10},
        {"names_empty_huge_or_not_utf8", names_empty_huge_or_not_utf8, 20},
        {"unix_paths_that_cannot_work", unix_paths_that_cannot_work, 10},
        {"hosts_that_do_not_resolve", hosts_that_do_not_resolve, 30},
        {"bindtodevice_missing_interface", bindtodevice_missing_interface, 10},
    };
    return run_tests(cases, NARGS(cases));
}
