/*
 * test_boundary: the C boundary under misuse (issue "Never lose a byte, never outgrow
 * memory", items 3 and 4).
 *
 *   - Strings netproc hands the host (filter data, sentinel and log messages, the buffer
 *     hooks' names, process names, contact values, error messages) have exactly the length
 *     stated and, where the header promises it, a NUL after them, NUL bytes inside included.
 *     Each check copies length + 1 bytes, so under `make test-asan` a string shorter than
 *     stated is a reported over-read, and in the plain build a wrong byte.
 *   - Handles that are stale (used after the last free, freed twice, from a freed context)
 *     or forged (any integer) are refused with NETPROC_E_BAD_HANDLE without netproc reading
 *     the memory they point at, so these cases run under ASan and valgrind too.
 *   - Lengths and counts beyond PTRDIFF_MAX (and more pairs than any call needs) are
 *     NETPROC_E_INVALID, and the context works on.
 *   - Calls from a thread that does not own the context fail at once with
 *     NETPROC_E_WRONG_THREAD, even while the owner waits in netproc_poll().
 *   - Userdata destructors follow the callbacks' reentrancy rules, and netproc_context_free
 *     also deletes the processes its own sentinels make.
 */
#include "check.h"
#include "pump.h"

#include <netdb.h>

/* ---- byte strings with their lengths ------------------------------------------------- */

#define BYTES(literal) (literal), (sizeof(literal) - 1)

struct bytes {
    char data[192];
    size_t length;
};

/* Copies `length` bytes and the NUL the header promises after them: length + 1 bytes are
 * read, so a shorter string is an over-read ASan reports. */
static void keep_terminated(struct bytes *b, const void *data, size_t length) {
    CHECK(length < sizeof b->data);
    memcpy(b->data, data, length + 1);
    b->length = length;
    CHECK_EQ(b->data[length], '\0');
}

/* Copies `length` bytes (filter data carries no NUL after it). */
static void keep(struct bytes *b, const void *data, size_t length) {
    CHECK(length < sizeof b->data);
    if (length) memcpy(b->data, data, length);
    b->length = length;
}

/* A process's name as netproc_process_name gives it, checked for its NUL. */
static struct bytes name_of(netproc_process *p) {
    struct bytes b;
    size_t length = 0;
    const char *name = netproc_process_name(p, &length);
    CHECK_NOT_NULL(name);
    keep_terminated(&b, name, length);
    return b;
}

#define CHECK_BYTES(b, literal) CHECK_MEM_EQ((b).data, (b).length, literal, sizeof(literal) - 1)

/* ---- a recorder that keeps NUL bytes ------------------------------------------------- */

struct event {
    char kind; /* 'f' filter, 's' sentinel, 'l' log */
    netproc_process *process, *client;
    struct bytes name; /* the process's name, read inside the callback */
    struct bytes data;
};

struct events {
    struct event list[64];
    size_t count;
};

static struct event *push(struct events *ev, char kind, netproc_process *p) {
    CHECK(ev->count < sizeof ev->list / sizeof ev->list[0]);
    struct event *e = &ev->list[ev->count++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->process = p;
    e->name = name_of(p);
    return e;
}

static void ev_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    keep(&push((struct events *)ud, 'f', p)->data, data, len);
}

static void ev_sentinel(void *ud, netproc_process *p, const char *msg, size_t len) {
    keep_terminated(&push((struct events *)ud, 's', p)->data, msg, len);
}

static void ev_log(void *ud, netproc_process *server, netproc_process *client, const char *msg, size_t len) {
    struct event *e = push((struct events *)ud, 'l', server);
    e->client = client;
    keep_terminated(&e->data, msg, len);
}

/* The first event of `kind` for `p` (NULL: any) at or after `from`, or -1. */
static long find(const struct events *ev, size_t from, char kind, netproc_process *p) {
    for (size_t i = from; i < ev->count; i++)
        if (ev->list[i].kind == kind && (p == NULL || ev->list[i].process == p)) return (long)i;
    return -1;
}

/* ---- buffer hooks that keep NUL bytes ------------------------------------------------ */

struct buffers {
    int server_buffer;      /* the host object given as the server's :buffer */
    int made[8];            /* buffers get_buffer_create returned */
    struct bytes asked[8];  /* the names it was asked for */
    size_t count;
    size_t name_calls;
};

/* The server buffer's name has two NUL bytes in it. */
static const char server_buffer_name[] = "b\0u\0f";

static const char *hook_buffer_name(void *ud, void *buffer, size_t *length) {
    struct buffers *b = (struct buffers *)ud;
    b->name_calls++;
    if (buffer != &b->server_buffer) return NULL;
    *length = sizeof server_buffer_name - 1;
    return server_buffer_name;
}

static void *hook_get_buffer_create(void *ud, const char *name, size_t length) {
    struct buffers *b = (struct buffers *)ud;
    CHECK(b->count < 8);
    keep_terminated(&b->asked[b->count], name, length);
    return &b->made[b->count++];
}

/* ---- 1. strings with NUL bytes in every callback and hook ------------------------------ */

/* A server named "s\0r\0v" whose buffer is named "b\0u\0f" accepts a connection: the
 * get-buffer-create hook is asked for "b\0u\0f <127.0.0.1:PORT>" (Emacs's
 * server_accept_connection names the buffer after the server's buffer), the accepted
 * process is "s\0r\0v <127.0.0.1:PORT>", and the log function, the sentinels and the
 * filters (the default one included) see every byte, NULs too, with the exact length. */
static void nul_bytes_reach_every_callback_and_hook(void) {
    netproc_context *ctx = new_context();
    struct events ev = {0}, defaults = {0};
    struct buffers bufs = {0};
    netproc_buffer_hooks hooks = {&bufs, hook_get_buffer_create, hook_buffer_name};
    CHECK_OK(ctx, netproc_context_set_buffer_hooks(ctx, &hooks));
    CHECK_OK(ctx, netproc_context_set_default_filter(ctx, ev_filter, &defaults));

    netproc_arg srv_args[] = {
        ARG(":name", netproc_string_n((const uint8_t *)"s\0r\0v", 5)), ARG(":server", netproc_t()),
        ARG(":service", netproc_t()), ARG(":buffer", netproc_pointer(&bufs.server_buffer)),
        ARG(":log", netproc_log(ev_log, &ev)), ARG(":sentinel", netproc_sentinel(ev_sentinel, &ev)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, srv_args, NARGS(srv_args), &server));
    struct bytes name = name_of(server);
    CHECK_BYTES(name, "s\0r\0v");

    /* netproc_process_contact gives the name as a STRING with its NULs. */
    netproc_value v;
    CHECK_OK(ctx, netproc_process_contact(server, ":name", false, &v));
    CHECK_EQ(v.kind, NETPROC_VALUE_STRING);
    struct bytes contact;
    keep_terminated(&contact, v.bytes, v.length);
    CHECK_BYTES(contact, "s\0r\0v");
    netproc_value_free(&v);

    netproc_arg cli_args[] = {
        ARG(":name", STR("c")), ARG(":service", INT(contact_int(server, ":service"))),
        ARG(":filter", netproc_filter(ev_filter, &ev)), ARG(":sentinel", netproc_sentinel(ev_sentinel, &ev)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, cli_args, NARGS(cli_args), &client));
    long at = -1;
    CHECK(PUMP_UNTIL(ctx, (at = find(&ev, 0, 'l', server)) >= 0, scaled_ms(3000)));
    netproc_process *acc = netproc_process_ref(ev.list[at].client);
    CHECK_NOT_NULL(acc);

    char want[96];
    int n = snprintf(want, sizeof want, "b_u_f <127.0.0.1:%lld>", contact_port(client, ":local"));
    want[1] = want[3] = '\0';
    CHECK_EQ(bufs.count, 1);
    CHECK_MEM_EQ(bufs.asked[0].data, bufs.asked[0].length, want, (size_t)n);
    CHECK_EQ(bufs.name_calls, 1);
    CHECK_OK(ctx, netproc_process_buffer(acc, &v));
    CHECK_EQ(v.kind, NETPROC_VALUE_POINTER);
    CHECK(v.pointer == &bufs.made[0]);
    netproc_value_free(&v);

    /* The log call: the server's name as it is, the message with its NUL after it. */
    CHECK_BYTES(ev.list[at].name, "s\0r\0v");
    CHECK_BYTES(ev.list[at].data, "accept from 127.0.0.1\n");
    n = snprintf(want, sizeof want, "s_r_v <127.0.0.1:%lld>", contact_port(client, ":local"));
    want[1] = want[3] = '\0';
    name = name_of(acc);
    CHECK_MEM_EQ(name.data, name.length, want, (size_t)n);
    long opened = find(&ev, 0, 's', acc);
    CHECK(opened > at);
    CHECK_MEM_EQ(ev.list[opened].name.data, ev.list[opened].name.length, want, (size_t)n);
    CHECK_BYTES(ev.list[opened].data, "open from 127.0.0.1\n");

    /* Data with NULs both ways; the accepted process has no filter of its own. */
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"x\0y\0\0z", 6));
    CHECK(PUMP_UNTIL(ctx, defaults.count > 0, scaled_ms(3000)));
    CHECK(defaults.list[0].process == acc);
    CHECK_MEM_EQ(defaults.list[0].name.data, defaults.list[0].name.length, want, (size_t)n);
    CHECK_BYTES(defaults.list[0].data, "x\0y\0\0z");
    CHECK_OK(ctx, netproc_process_send(acc, (const uint8_t *)"\0p\0", 3));
    CHECK(PUMP_UNTIL(ctx, (at = find(&ev, 0, 'f', client)) >= 0, scaled_ms(3000)));
    CHECK_BYTES(ev.list[at].data, "\0p\0");

    /* A :buffer given by name: get-buffer-create gets the name's bytes as they are. */
    netproc_arg named[] = {ARG(":name", STR("named")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
                           ARG(":buffer", netproc_string_n((const uint8_t *)"n\0\0m", 4))};
    netproc_process *named_server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, named, NARGS(named), &named_server));
    CHECK_EQ(bufs.count, 2);
    CHECK_BYTES(bufs.asked[1], "n\0\0m");

    /* Deleting: "deleted\n" to a sentinel that reads the name with its NULs. */
    size_t mark = ev.count;
    CHECK_OK(ctx, netproc_delete_process(server));
    CHECK_EQ(ev.count, mark + 1);
    CHECK(ev.list[mark].process == server);
    CHECK_BYTES(ev.list[mark].name, "s\0r\0v");
    CHECK_BYTES(ev.list[mark].data, "deleted\n");

    /* An error message about that name is a well-formed C string: netproc_last_error has
     * no length to give, so the NULs are left out (as the README documents for :host). */
    CHECK_ERROR(ctx, netproc_process_send(server, (const uint8_t *)"x", 1), NETPROC_E_ERROR, "error",
                "Process srv not running");

    netproc_process *all[] = {named_server, acc, client};
    for (size_t i = 0; i < NARGS(all); i++) {
        CHECK_OK(ctx, netproc_delete_process(all[i]));
        netproc_process_free(all[i]);
    }
    netproc_process_free(server);
    CHECK_OK(ctx, netproc_context_free(ctx));
}

/* A :host with a NUL inside is refused (the README's difference from Emacs, which cuts it
 * at the NUL): the error message stays a well-formed C string. With :nowait the refusal
 * comes as the failure sentinel, whose message keeps the host's bytes, NUL included, as do
 * the exit status and the contact. */
static void nul_in_host(void) {
    netproc_context *ctx = new_context();
    netproc_arg blocking[] = {ARG(":name", STR("h")), ARG(":host", netproc_string_n((const uint8_t *)"127.0.0.1\0x", 11)),
                              ARG(":service", INT(80))};
    netproc_process *p = NULL;
    int rc = netproc_make_network_process(ctx, blocking, NARGS(blocking), &p);
    char want[128];
    snprintf(want, sizeof want, "127.0.0.1x/80 %s", gai_strerror(EAI_NONAME));
    CHECK_ERROR(ctx, rc, NETPROC_E_ERROR, "error", want);
    CHECK_NULL(p);

    struct events ev = {0};
    netproc_arg nowait[] = {ARG(":name", netproc_string_n((const uint8_t *)"n\0w", 3)),
                            ARG(":host", netproc_string_n((const uint8_t *)"127.0.0.1\0x", 11)),
                            ARG(":service", INT(80)), ARG(":nowait", netproc_t()),
                            ARG(":sentinel", netproc_sentinel(ev_sentinel, &ev))};
    CHECK_OK(ctx, netproc_make_network_process(ctx, nowait, NARGS(nowait), &p));
    CHECK(PUMP_UNTIL(ctx, ev.count > 0, scaled_ms(10000)));
    CHECK_EQ(ev.count, 1);
    CHECK_BYTES(ev.list[0].name, "n\0w");
    CHECK_BYTES(ev.list[0].data, "failed with code Name lookup of 127.0.0.1\0x failed\n");
    netproc_value v;
    struct bytes got;
    CHECK_OK(ctx, netproc_process_exit_status(p, &v));
    CHECK_EQ(v.kind, NETPROC_VALUE_STRING);
    keep_terminated(&got, v.bytes, v.length);
    CHECK_BYTES(got, "Name lookup of 127.0.0.1\0x failed");
    netproc_value_free(&v);
    CHECK_OK(ctx, netproc_process_contact(p, ":host", false, &v));
    CHECK_EQ(v.kind, NETPROC_VALUE_STRING);
    keep_terminated(&got, v.bytes, v.length);
    CHECK_BYTES(got, "127.0.0.1\0x");
    netproc_value_free(&v);
    CHECK_OK(ctx, netproc_delete_process(p));
    CHECK_BYTES(ev.list[1].data, "deleted\n");
    netproc_process_free(p);
    CHECK_OK(ctx, netproc_context_free(ctx));
}

/* ---- 3. absurd lengths and counts -------------------------------------------------------- */

/* Every size_t from C beyond PTRDIFF_MAX, and more than 1 << 20 keyword pairs, is
 * NETPROC_E_INVALID with a message naming it; nothing is read, nothing is made, and the
 * context goes on working (no panic marked it unusable). */
static void absurd_lengths_are_invalid(void) {
    netproc_context *ctx = new_context();
    struct events got = {0};
    CHECK_OK(ctx, netproc_context_set_default_filter(ctx, ev_filter, &got));
    netproc_arg ok_args[] = {ARG(":name", STR("ok")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    netproc_process *p = NULL;
    const size_t huge[] = {SIZE_MAX, (size_t)PTRDIFF_MAX + 1};
    char want[200];
    for (size_t i = 0; i < NARGS(huge); i++) {
        size_t n = huge[i];
        snprintf(want, sizeof want, "netproc_make_network_process: nargs %zu is more than 1048576", n);
        CHECK_ERROR(ctx, netproc_make_network_process(ctx, ok_args, n, &p), NETPROC_E_INVALID, "error", want);
        CHECK_NULL(p);

        netproc_arg name[] = {ARG(":name", netproc_string_n((const uint8_t *)"x", n)), ARG(":server", netproc_t()),
                              ARG(":service", netproc_t())};
        snprintf(want, sizeof want, "netproc_make_network_process: :name: string length %zu is out of range", n);
        CHECK_ERROR(ctx, netproc_make_network_process(ctx, name, NARGS(name), &p), NETPROC_E_INVALID, "error", want);
        netproc_value family = netproc_symbol("ipv4");
        family.length = n;
        netproc_arg sym[] = {ARG(":name", STR("s")), ARG(":family", family)};
        snprintf(want, sizeof want, "netproc_make_network_process: :family: symbol length %zu is out of range", n);
        CHECK_ERROR(ctx, netproc_make_network_process(ctx, sym, NARGS(sym), &p), NETPROC_E_INVALID, "error", want);

        netproc_value items[2] = {INT(1), INT(2)};
        netproc_arg vec[] = {ARG(":name", STR("v")), ARG(":local", netproc_vector(items, n))};
        snprintf(want, sizeof want, "netproc_make_network_process: :local: sequence count %zu is out of range", n);
        CHECK_ERROR(ctx, netproc_make_network_process(ctx, vec, NARGS(vec), &p), NETPROC_E_INVALID, "error", want);
        netproc_arg list[] = {ARG(":name", STR("l")), ARG(":plist", netproc_list(items, n))};
        snprintf(want, sizeof want, "netproc_make_network_process: :plist: sequence count %zu is out of range", n);
        CHECK_ERROR(ctx, netproc_make_network_process(ctx, list, NARGS(list), &p), NETPROC_E_INVALID, "error", want);
        CHECK_NULL(p);

        netproc_value address = netproc_vector(items, n), out = netproc_integer(3);
        snprintf(want, sizeof want, "netproc_format_network_address: address: sequence count %zu is out of range", n);
        CHECK_ERROR(NULL, netproc_format_network_address(&address, false, &out), NETPROC_E_INVALID, "error", want);
        CHECK_EQ(out.integer, 3);
    }
    snprintf(want, sizeof want, "netproc_make_network_process: nargs %zu is more than 1048576", (size_t)(1 << 20) + 1);
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, ok_args, (1 << 20) + 1, &p), NETPROC_E_INVALID, "error", want);

    CHECK_OK(ctx, netproc_make_network_process(ctx, ok_args, NARGS(ok_args), &p));
    netproc_arg cli_args[] = {ARG(":name", STR("cli")), ARG(":service", INT(contact_int(p, ":service")))};
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, cli_args, NARGS(cli_args), &client));
    for (size_t i = 0; i < NARGS(huge); i++) {
        snprintf(want, sizeof want, "netproc_process_send: data length %zu is out of range", huge[i]);
        CHECK_ERROR(ctx, netproc_process_send(client, (const uint8_t *)"x", huge[i]), NETPROC_E_INVALID, "error", want);
        snprintf(want, sizeof want, "netproc_process_send_text: text length %zu is out of range", huge[i]);
        CHECK_ERROR(ctx, netproc_process_send_text(client, (const uint8_t *)"x", huge[i]), NETPROC_E_INVALID, "error",
                    want);
        netproc_process *few[2];
        size_t count = 0;
        snprintf(want, sizeof want, "netproc_process_list: capacity %zu is out of range", huge[i]);
        CHECK_ERROR(ctx, netproc_process_list(ctx, few, huge[i], &count), NETPROC_E_INVALID, "error", want);
    }
    CHECK_EQ(netproc_process_output_pending(client), 0);
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"fine", 4));
    CHECK(PUMP_UNTIL(ctx, got.count > 0, scaled_ms(3000)));
    CHECK_BYTES(got.list[0].data, "fine");
    netproc_process *list[8];
    size_t count = 0;
    CHECK_OK(ctx, netproc_process_list(ctx, list, 8, &count));
    for (size_t i = 0; i < count; i++) CHECK_OK(ctx, netproc_delete_process(list[i]));
    netproc_process_free(client);
    netproc_process_free(p);
    CHECK_OK(ctx, netproc_context_free(ctx));
}

int main(void) {
    static const struct test_case cases[] = {
        {"nul_bytes_reach_every_callback_and_hook", nul_bytes_reach_every_callback_and_hook, 10},
        {"nul_in_host", nul_in_host, 20},
        {"absurd_lengths_are_invalid", absurd_lengths_are_invalid, 10},
    };
    return run_tests(cases, sizeof cases / sizeof cases[0]);
}
