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
#include <pthread.h>
#include <stdatomic.h>

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

    /* An error message about that name is a well-formed C string: netproc_last_error has no
     * length to give, so the NULs are left out (as docs/DIFFERENCES.md documents for :host). */
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

/* A :host with a NUL inside is refused (docs/DIFFERENCES.md: Emacs cuts it at the NUL): the
 * error message stays a well-formed C string. With :nowait the refusal comes as the failure
 * sentinel, whose message keeps the host's bytes, NUL included, as do the exit status and the
 * contact. */
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

/* ---- 2. handles ------------------------------------------------------------------------ */

static void count_release(void *flag) {
    (*(int *)flag)++;
}

/* Calls that take a handle must refuse `h` with NETPROC_E_BAD_HANDLE and the message
 * "FUNCTION: not a live process handle", or give NULL/false/0. */
static void check_refused(netproc_process *h) {
    CHECK_ERROR(NULL, netproc_process_send(h, (const uint8_t *)"x", 1), NETPROC_E_BAD_HANDLE, "error",
                "netproc_process_send: not a live process handle");
    CHECK_ERROR(NULL, netproc_delete_process(h), NETPROC_E_BAD_HANDLE, "error",
                "netproc_delete_process: not a live process handle");
    CHECK_ERROR(NULL, netproc_process_set_userdata(h, NULL, NULL), NETPROC_E_BAD_HANDLE, "error",
                "netproc_process_set_userdata: not a live process handle");
    netproc_value v = netproc_integer(3);
    CHECK_ERROR(NULL, netproc_process_contact(h, "t", false, &v), NETPROC_E_BAD_HANDLE, "error",
                "netproc_process_contact: not a live process handle");
    CHECK_EQ(v.integer, 3);
    CHECK_NULL(netproc_process_status(h));
    CHECK_NULL(netproc_process_name(h, NULL));
    CHECK(!netproc_process_live_p(h));
    CHECK_NULL(netproc_process_userdata(h));
    CHECK_NULL(netproc_process_ref(h));
    CHECK_ERROR(NULL, NETPROC_E_BAD_HANDLE, NETPROC_E_BAD_HANDLE, "error",
                "netproc_process_ref: not a live process handle");
    netproc_process_free(h);
    CHECK_ERROR(NULL, NETPROC_E_BAD_HANDLE, NETPROC_E_BAD_HANDLE, "error",
                "netproc_process_free: not a live process handle");
}

/* The handle a callback gets is the one make, netproc_process_ref, netproc_process_list and
 * netproc_get_process give for that process: hosts use handles as keys. */
static void one_handle_per_process(void) {
    netproc_context *ctx = new_context();
    struct events ev = {0};
    netproc_arg args[] = {ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
                          ARG(":log", netproc_log(ev_log, &ev)), ARG(":sentinel", netproc_sentinel(ev_sentinel, &ev))};
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    netproc_arg cli_args[] = {ARG(":name", STR("cli")), ARG(":service", INT(contact_int(server, ":service"))),
                              ARG(":sentinel", netproc_sentinel(ev_sentinel, &ev))};
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, cli_args, NARGS(cli_args), &client));
    long at = -1;
    CHECK(PUMP_UNTIL(ctx, (at = find(&ev, 0, 'l', NULL)) >= 0, scaled_ms(3000)));
    CHECK(ev.list[at].process == server);
    netproc_process *acc = ev.list[at].client;
    CHECK(find(&ev, 0, 's', acc) > at);
    netproc_process *list[4] = {NULL};
    size_t count = 0;
    CHECK_OK(ctx, netproc_process_list(ctx, list, 4, &count));
    CHECK_EQ(count, 3);
    CHECK(list[0] == acc && list[1] == client && list[2] == server);
    netproc_process *found = NULL;
    CHECK_OK(ctx, netproc_get_process(ctx, "cli", &found));
    CHECK(found == client);
    netproc_process *ref = netproc_process_ref(acc);
    CHECK(ref == acc);
    CHECK(server != client && client != acc && server != acc);
    size_t mark = ev.count;
    CHECK_OK(ctx, netproc_delete_process(acc));
    CHECK(ev.list[mark].process == acc);
    netproc_process_free(ref);
    CHECK_OK(ctx, netproc_delete_process(client));
    CHECK(ev.list[mark + 1].process == client);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_OK(ctx, netproc_context_free(ctx));
}

/* Use after free: once the last reference is gone (the userdata destructor says when),
 * every call refuses the handle, however often it is tried. A process made afterwards gets
 * a handle of its own, and the stale one still does not reach it. */
static void use_after_free_is_refused(void) {
    netproc_context *ctx = new_context();
    netproc_arg args[] = {ARG(":name", STR("gone")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    netproc_process *gone = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &gone));
    int released = 0;
    CHECK_OK(ctx, netproc_process_set_userdata(gone, &released, count_release));
    CHECK_OK(ctx, netproc_delete_process(gone));
    netproc_process_free(gone);
    CHECK(PUMP_UNTIL(ctx, released == 1, scaled_ms(3000)));
    check_refused(gone);
    check_refused(gone);
    for (int i = 0; i < 50; i++) {
        netproc_process *next = NULL;
        CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &next));
        CHECK(next != gone);
        CHECK_STR_EQ(netproc_process_status(next), "listen");
        CHECK_NULL(netproc_process_status(gone));
        CHECK_OK(ctx, netproc_delete_process(next));
        netproc_process_free(next);
        pump_for(ctx, 1);
    }
    CHECK_EQ(released, 1);
    CHECK_OK(ctx, netproc_context_free(ctx));
}

/* Freeing a handle once more than it was referenced: while the context still lists the
 * process, the extra free is refused ("no reference held") and the process runs on; after
 * the process is gone, it is a stale handle. */
static void double_free_is_refused(void) {
    netproc_context *ctx = new_context();
    netproc_arg args[] = {ARG(":name", STR("twice")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));
    int released = 0;
    CHECK_OK(ctx, netproc_process_set_userdata(p, &released, count_release));
    netproc_process *extra = netproc_process_ref(p);
    CHECK(extra == p);
    netproc_process_free(extra);
    netproc_process_free(p);
    netproc_process_free(p);
    CHECK_ERROR(NULL, NETPROC_E_BAD_HANDLE, NETPROC_E_BAD_HANDLE, "error",
                "netproc_process_free: the host holds no reference to this process");
    pump_for(ctx, 50);
    CHECK_EQ(released, 0);
    netproc_process *found = NULL;
    CHECK_OK(ctx, netproc_get_process(ctx, "twice", &found));
    CHECK(found == p);
    CHECK_STR_EQ(netproc_process_status(p), "listen");
    CHECK_OK(ctx, netproc_delete_process(p));
    CHECK(PUMP_UNTIL(ctx, released == 1, scaled_ms(3000)));
    check_refused(p);
    CHECK_OK(ctx, netproc_context_free(ctx));
}

/* Forged handles: small integers, random ones, pointers to host memory, and real handles
 * with a bit changed. None reaches a process, none is dereferenced (the host memory stays
 * as it was), and the real process is untouched. */
static void forged_handles_are_refused(void) {
    netproc_context *ctx = new_context();
    netproc_arg args[] = {ARG(":name", STR("real")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    netproc_process *real = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &real));
    uint64_t *zeros = calloc(64, sizeof *zeros);
    CHECK_NOT_NULL(zeros);
    uintptr_t local = 0;
    uintptr_t forged[64] = {1, 2, 3, 0xff, 0x100000001u, (uintptr_t)-1, (uintptr_t)zeros, (uintptr_t)&local,
                            (uintptr_t)real + 1, (uintptr_t)real - 1, (uintptr_t)real ^ ((uintptr_t)1 << 40),
                            (uintptr_t)real ^ ((uintptr_t)1 << 63)};
    srand(12345);
    for (size_t i = 12; i < 64; i++)
        forged[i] = ((uintptr_t)(unsigned)rand() << 33) ^ ((uintptr_t)(unsigned)rand() << 11) ^ (uintptr_t)(unsigned)rand();
    for (size_t i = 0; i < 64; i++) {
        if (forged[i] == (uintptr_t)real) continue;
        check_refused((netproc_process *)forged[i]);
    }
    for (size_t i = 0; i < 64; i++) CHECK_EQ(zeros[i], 0);
    CHECK_EQ(local, 0);
    free(zeros);
    CHECK_STR_EQ(netproc_process_status(real), "listen");
    CHECK_EQ(listed_processes(ctx), 1);
    CHECK_OK(ctx, netproc_delete_process(real));
    netproc_process_free(real);
    CHECK_OK(ctx, netproc_context_free(ctx));
}

/* After netproc_context_free: a handle the host holds answers until freed (as the header
 * says), then is stale; a borrowed one (from netproc_process_list) is stale at once. */
static void handles_from_a_freed_context(void) {
    netproc_context *ctx = new_context();
    netproc_arg a_args[] = {ARG(":name", STR("held")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    netproc_arg b_args[] = {ARG(":name", STR("borrowed")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    netproc_process *held = NULL, *mine = NULL, *borrowed = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, a_args, NARGS(a_args), &held));
    CHECK_OK(ctx, netproc_make_network_process(ctx, b_args, NARGS(b_args), &mine));
    CHECK_OK(ctx, netproc_get_process(ctx, "borrowed", &borrowed));
    CHECK(borrowed == mine);
    netproc_process_free(mine); /* the host keeps only the borrowed pointer */
    CHECK_OK(NULL, netproc_context_free(ctx));
    CHECK_STR_EQ(netproc_process_status(held), "closed");
    check_refused(borrowed);
    netproc_process_free(held);
    check_refused(held);
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

/* ---- 4. the owning thread ----------------------------------------------------------------- */

/* What a second thread saw: for each call, its status and how long it took. */
struct intruder {
    pthread_t thread;
    netproc_context *ctx;
    netproc_process *client;
    atomic_bool owner_polling;
    atomic_bool done;
    int rc[12];
    const char *status_text;
    uint64_t slowest_ms;
    char message[200];
    char symbol[40];
};

#define TIMED(in, slot, call)                                 \
    do {                                                      \
        uint64_t t0_ = monotonic_ms();                        \
        (in)->rc[(slot)] = (int)(call);                       \
        uint64_t took_ = monotonic_ms() - t0_;                \
        if (took_ > (in)->slowest_ms) (in)->slowest_ms = took_; \
    } while (0)

static void *intruder_main(void *arg) {
    struct intruder *in = (struct intruder *)arg;
    while (!atomic_load(&in->owner_polling)) sleep_ms(1);
    sleep_ms(100); /* let the owner get into its wait */
    netproc_arg args[] = {ARG(":name", STR("intruder")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    netproc_process *made = (netproc_process *)in;
    netproc_process *found = (netproc_process *)in;
    netproc_process *list[4];
    size_t count = 99;
    int timeout = 7;
    TIMED(in, 0, netproc_process_send(in->client, (const uint8_t *)"x", 1));
    TIMED(in, 1, netproc_make_network_process(in->ctx, args, NARGS(args), &made));
    TIMED(in, 2, netproc_poll(in->ctx, 0));
    TIMED(in, 3, netproc_poll(in->ctx, 1000));
    TIMED(in, 4, netproc_next_timeout(in->ctx, &timeout));
    TIMED(in, 5, netproc_backend_fd(in->ctx));
    TIMED(in, 6, netproc_process_list(in->ctx, list, 4, &count));
    TIMED(in, 7, netproc_get_process(in->ctx, "srv", &found));
    TIMED(in, 8, netproc_delete_process(in->client));
    TIMED(in, 9, netproc_context_free(in->ctx));
    TIMED(in, 10, netproc_process_set_userdata(in->client, NULL, NULL));
    const char *symbol = NULL, *message = NULL;
    TIMED(in, 11, netproc_last_error(in->ctx, &symbol, &message, NULL));
    uint64_t t0 = monotonic_ms();
    in->status_text = netproc_process_status(in->client);
    if (monotonic_ms() - t0 > in->slowest_ms) in->slowest_ms = monotonic_ms() - t0;
    /* Refusals are recorded for the calling thread only. */
    netproc_last_error(NULL, &symbol, &message, NULL);
    snprintf(in->message, sizeof in->message, "%s", message ? message : "?");
    snprintf(in->symbol, sizeof in->symbol, "%s", symbol ? symbol : "?");
    if (made != (netproc_process *)in || found != (netproc_process *)in || count != 99 || timeout != 7)
        in->rc[0] = 1; /* an out-parameter was written */
    atomic_store(&in->done, true);
    CHECK_EQ(netproc_wakeup(in->ctx), NETPROC_OK); /* the one call any thread may make */
    return NULL;
}

/* While the owner waits in netproc_poll (up to 5 s), a second thread's calls on the context
 * and its processes fail at once with NETPROC_E_WRONG_THREAD (none waits for the owner's
 * poll, none takes effect), and the owner's work goes on as before. */
static void other_thread_is_refused_while_owner_polls(void) {
    netproc_context *ctx = new_context();
    struct events ev = {0};
    netproc_arg args[] = {ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
                          ARG(":log", netproc_log(ev_log, &ev))};
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    netproc_arg cli_args[] = {ARG(":name", STR("cli")), ARG(":service", INT(contact_int(server, ":service"))),
                              ARG(":filter", netproc_filter(ev_filter, &ev))};
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, cli_args, NARGS(cli_args), &client));
    long at = -1;
    CHECK(PUMP_UNTIL(ctx, (at = find(&ev, 0, 'l', server)) >= 0, scaled_ms(3000)));
    netproc_process *acc = ev.list[at].client;
    /* Settle, so that the waits below are real waits. */
    int timeout = 0;
    for (int i = 0; i < 100 && netproc_next_timeout(ctx, &timeout) == NETPROC_OK && timeout != -1; i++)
        CHECK(netproc_poll(ctx, 0) >= 0);
    CHECK(netproc_poll(ctx, 0) >= 0);

    struct intruder in;
    memset(&in, 0, sizeof in);
    in.ctx = ctx;
    in.client = client;
    atomic_init(&in.owner_polling, false);
    atomic_init(&in.done, false);
    CHECK_EQ(pthread_create(&in.thread, NULL, intruder_main, &in), 0);
    atomic_store(&in.owner_polling, true);
    uint64_t t0 = monotonic_ms();
    for (int i = 0; i < 10 && !atomic_load(&in.done); i++) CHECK(netproc_poll(ctx, 5000) >= 0);
    uint64_t waited = monotonic_ms() - t0;
    CHECK_EQ(pthread_join(in.thread, NULL), 0);
    CHECK(atomic_load(&in.done));
    CHECK(waited < 4500); /* the intruder's wakeup ended the wait, not the timeout */
    CHECK(in.slowest_ms < 2000);
    for (int i = 0; i < 12; i++) {
        if (in.rc[i] != NETPROC_E_WRONG_THREAD) check_fail_(__FILE__, __LINE__, "call %d gave %d", i, in.rc[i]);
    }
    CHECK_NULL(in.status_text);
    CHECK_STR_EQ(in.symbol, "error");
    CHECK_STR_EQ(in.message, "netproc_process_status: called from a thread that does not own the context");
    CHECK_EQ(netproc_last_error(ctx, NULL, NULL, NULL), NETPROC_OK); /* the owner's record is untouched */

    /* Nothing the intruder tried happened; the owner carries on. */
    CHECK_EQ(listed_processes(ctx), 3);
    CHECK_STR_EQ(netproc_process_status(client), "open");
    CHECK_EQ(netproc_process_output_pending(client), 0);
    CHECK_OK(ctx, netproc_process_send(acc, (const uint8_t *)"still here", 10));
    CHECK(PUMP_UNTIL(ctx, find(&ev, 0, 'f', client) >= 0, scaled_ms(3000)));
    CHECK_BYTES(ev.list[find(&ev, 0, 'f', client)].data, "still here");
    CHECK_OK(ctx, netproc_delete_process(client));
    CHECK_OK(ctx, netproc_delete_process(acc));
    CHECK_OK(ctx, netproc_delete_process(server));
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_OK(ctx, netproc_context_free(ctx));
}

/* A context handed to another thread with netproc_context_set_owner_thread: refused while the
 * owner is inside a call (here, waiting in netproc_poll), accepted once it is not. */
struct handover {
    pthread_t thread;
    netproc_context *ctx;
    atomic_int step;
    atomic_bool stop;
    int rc_take, rc_make, rc_poll;
    netproc_process *server;
};

static void *new_owner_main(void *arg) {
    struct handover *h = (struct handover *)arg;
    h->rc_take = netproc_context_set_owner_thread(h->ctx);
    netproc_arg args[] = {ARG(":name", STR("thread-srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    h->rc_make = netproc_make_network_process(h->ctx, args, NARGS(args), &h->server);
    /* The new server's first readiness ends one poll early: take it before waiting. */
    int timeout = 0;
    for (int i = 0; i < 100 && netproc_next_timeout(h->ctx, &timeout) == NETPROC_OK && timeout != -1; i++)
        netproc_poll(h->ctx, 0);
    netproc_poll(h->ctx, 0);
    atomic_store(&h->step, 1);
    /* Waits until the old owner's wakeup (a few spurious returns allowed). */
    for (int i = 0; i < 10 && !atomic_load(&h->stop); i++) {
        h->rc_poll = netproc_poll(h->ctx, 5000);
        if (h->rc_poll < 0) break;
    }
    atomic_store(&h->step, 2);
    return NULL;
}

static void context_handed_to_another_thread(void) {
    netproc_context *ctx = new_context();
    struct handover h;
    memset(&h, 0, sizeof h);
    h.ctx = ctx;
    atomic_init(&h.step, 0);
    atomic_init(&h.stop, false);
    CHECK_EQ(pthread_create(&h.thread, NULL, new_owner_main, &h), 0);
    uint64_t deadline = monotonic_ms() + scaled_ms(3000);
    while (atomic_load(&h.step) < 1 && monotonic_ms() < deadline) sleep_ms(1);
    CHECK_EQ(atomic_load(&h.step), 1);
    CHECK_EQ(h.rc_take, NETPROC_OK);
    CHECK_EQ(h.rc_make, NETPROC_OK);
    sleep_ms(100);
    /* The new owner is in netproc_poll: this thread may neither use nor take back the context. */
    CHECK_ERROR(NULL, netproc_poll(ctx, 0), NETPROC_E_WRONG_THREAD, "error",
                "netproc_poll: called from a thread that does not own the context");
    CHECK_ERROR(NULL, netproc_context_set_owner_thread(ctx), NETPROC_E_WRONG_THREAD, "error",
                "netproc_context_set_owner_thread: the owning thread is inside a netproc call");
    CHECK_EQ(atomic_load(&h.step), 1);
    atomic_store(&h.stop, true);
    CHECK_EQ(netproc_wakeup(ctx), NETPROC_OK);
    CHECK_EQ(pthread_join(h.thread, NULL), 0);
    CHECK(h.rc_poll >= 0);
    /* The new owner has ended without handing it back: take it over. */
    CHECK_OK(NULL, netproc_context_set_owner_thread(ctx));
    CHECK_OK(ctx, netproc_context_set_owner_thread(ctx)); /* already ours: no change */
    CHECK_STR_EQ(netproc_process_status(h.server), "listen");
    CHECK_OK(ctx, netproc_delete_process(h.server));
    netproc_process_free(h.server);
    CHECK_OK(ctx, netproc_context_free(ctx));
}

/* netproc_process_ref and netproc_process_free work from any thread. A reference released
 * on another thread is let go by the owner (at its next netproc_poll), so the userdata
 * destructor runs on the owning thread, never concurrently with the owner's work. */
struct releaser {
    pthread_t thread;
    netproc_process *p;
    netproc_process *ref;
};

static pthread_t owner_thread;
static pthread_t destroyed_on;
static int destroyed;

static void note_destroyed(void *ud) {
    (void)ud;
    destroyed_on = pthread_self();
    destroyed++;
}

static void *releaser_main(void *arg) {
    struct releaser *r = (struct releaser *)arg;
    r->ref = netproc_process_ref(r->p);
    netproc_process_free(r->ref);
    netproc_process_free(r->p);
    return NULL;
}

static void references_released_on_other_threads(void) {
    netproc_context *ctx = new_context();
    owner_thread = pthread_self();
    netproc_arg args[] = {ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    struct releaser r = {0};
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &r.p));
    CHECK_OK(ctx, netproc_process_set_userdata(r.p, NULL, note_destroyed));
    CHECK_OK(ctx, netproc_delete_process(r.p));
    CHECK(netproc_poll(ctx, 0) >= 0);
    CHECK_EQ(destroyed, 0); /* the host still holds it */
    CHECK_EQ(pthread_create(&r.thread, NULL, releaser_main, &r), 0);
    CHECK_EQ(pthread_join(r.thread, NULL), 0);
    CHECK(r.ref == r.p);
    CHECK_EQ(destroyed, 0);
    CHECK(netproc_poll(ctx, 1000) >= 0);
    CHECK_EQ(destroyed, 1);
    CHECK(pthread_equal(destroyed_on, owner_thread));
    CHECK_NULL(netproc_process_status(r.p));
    CHECK_OK(ctx, netproc_context_free(ctx));
}

/* ---- 5. destructors and netproc_context_free ------------------------------------------------ */

/* A userdata destructor is host code run by netproc, like a callback: netproc_poll and
 * netproc_context_free from inside it are refused with NETPROC_E_REENTRANT, wherever it
 * runs — replaced by set_userdata, released inside netproc_poll, or by
 * netproc_context_free — while other calls work. */
struct reentry {
    netproc_context *ctx;
    int runs;
    int poll_rc, free_rc, list_rc;
};

static void reenter_destructor(void *ud) {
    struct reentry *r = (struct reentry *)ud;
    size_t count = 0;
    r->runs++;
    r->poll_rc = netproc_poll(r->ctx, 0);
    r->free_rc = netproc_context_free(r->ctx);
    r->list_rc = netproc_process_list(r->ctx, NULL, 0, &count);
}

static void expect_refused(const struct reentry *r) {
    CHECK_EQ(r->runs, 1);
    CHECK_EQ(r->poll_rc, NETPROC_E_REENTRANT);
    CHECK_EQ(r->free_rc, NETPROC_E_REENTRANT);
    CHECK_EQ(r->list_rc, NETPROC_OK);
}

static void destructors_follow_callback_rules(void) {
    netproc_context *ctx = new_context();
    netproc_arg args[] = {ARG(":name", STR("d")), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));

    struct reentry replaced = {ctx, 0, 1, 1, 1};
    CHECK_OK(ctx, netproc_process_set_userdata(p, &replaced, reenter_destructor));
    CHECK_OK(ctx, netproc_process_set_userdata(p, NULL, NULL));
    expect_refused(&replaced);

    /* Released inside netproc_poll: the context lets go of a deleted process there. */
    struct reentry in_poll = {ctx, 0, 1, 1, 1};
    CHECK_OK(ctx, netproc_process_set_userdata(p, &in_poll, reenter_destructor));
    netproc_process_free(p);
    CHECK_OK(ctx, netproc_delete_process(p));
    CHECK(PUMP_UNTIL(ctx, in_poll.runs > 0, scaled_ms(3000)));
    expect_refused(&in_poll);

    /* Released by netproc_context_free. */
    struct reentry in_free = {ctx, 0, 1, 1, 1};
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));
    CHECK_OK(ctx, netproc_process_set_userdata(p, &in_free, reenter_destructor));
    netproc_process_free(p);
    CHECK_OK(ctx, netproc_context_free(ctx));
    expect_refused(&in_free);
}

/* A sentinel that makes a new process when it hears "deleted\n" (a reconnect): during
 * netproc_context_free, the processes it makes are deleted too, each with its own
 * "deleted\n", so none is left open. */
struct remaker {
    netproc_context *ctx;
    int limit; /* how many to make at most */
    int made, refused;
    netproc_process *last;
    int deleted;
};

static void remake_sentinel(void *ud, netproc_process *p, const char *msg, size_t len) {
    struct remaker *r = (struct remaker *)ud;
    (void)p;
    if (len != 8 || memcmp(msg, "deleted\n", 8) != 0) return;
    r->deleted++;
    if (r->made >= r->limit) return;
    netproc_arg args[] = {ARG(":name", STR("again")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
                          ARG(":sentinel", netproc_sentinel(remake_sentinel, r))};
    netproc_process *made = NULL;
    int rc = netproc_make_network_process(r->ctx, args, NARGS(args), &made);
    if (rc != NETPROC_OK) {
        CHECK_ERROR(r->ctx, rc, NETPROC_E_CLOSED, "error", "netproc_make_network_process: the context is being freed");
        r->refused++;
        return;
    }
    r->made++;
    if (r->last) netproc_process_free(r->last);
    r->last = made;
}

static void context_free_deletes_processes_its_sentinels_make(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct remaker r = {ctx, 3, 0, 0, NULL, 0};
    netproc_arg args[] = {ARG(":name", STR("first")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
                          ARG(":sentinel", netproc_sentinel(remake_sentinel, &r))};
    netproc_process *first = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &first));
    CHECK_OK(ctx, netproc_context_free(ctx));
    CHECK_EQ(r.made, 3);
    CHECK_EQ(r.refused, 0);
    CHECK_EQ(r.deleted, 4); /* the first process and each one made after it */
    CHECK_NOT_NULL(r.last);
    CHECK_STR_EQ(netproc_process_status(r.last), "closed");
    CHECK_STR_EQ(netproc_process_status(first), "closed");
    netproc_process_free(r.last);
    netproc_process_free(first);
    CHECK_NO_LEAK(NULL, baseline);
}

/* A sentinel that always makes another: after 16 rounds (the header's bound) making one is
 * refused with NETPROC_E_CLOSED, so the free ends, and every process it made is closed. */
static void context_free_ends_despite_a_sentinel_that_always_remakes(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct remaker r = {ctx, 1000, 0, 0, NULL, 0};
    netproc_arg args[] = {ARG(":name", STR("first")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
                          ARG(":sentinel", netproc_sentinel(remake_sentinel, &r))};
    netproc_process *first = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &first));
    CHECK_OK(ctx, netproc_context_free(ctx));
    CHECK_EQ(r.made, 16);
    CHECK_EQ(r.refused, 1);
    CHECK_EQ(r.deleted, 17);
    CHECK_STR_EQ(netproc_process_status(r.last), "closed");
    netproc_process_free(r.last);
    netproc_process_free(first);
    CHECK_NO_LEAK(NULL, baseline);
}

int main(void) {
    static const struct test_case cases[] = {
        {"nul_bytes_reach_every_callback_and_hook", nul_bytes_reach_every_callback_and_hook, 10},
        {"nul_in_host", nul_in_host, 20},
        {"one_handle_per_process", one_handle_per_process, 10},
        {"use_after_free_is_refused", use_after_free_is_refused, 20},
        {"double_free_is_refused", double_free_is_refused, 10},
        {"forged_handles_are_refused", forged_handles_are_refused, 10},
        {"handles_from_a_freed_context", handles_from_a_freed_context, 10},
        {"absurd_lengths_are_invalid", absurd_lengths_are_invalid, 10},
        {"other_thread_is_refused_while_owner_polls", other_thread_is_refused_while_owner_polls, 15},
        {"context_handed_to_another_thread", context_handed_to_another_thread, 15},
        {"references_released_on_other_threads", references_released_on_other_threads, 10},
        {"destructors_follow_callback_rules", destructors_follow_callback_rules, 10},
        {"context_free_deletes_processes_its_sentinels_make", context_free_deletes_processes_its_sentinels_make, 10},
        {"context_free_ends_despite_a_sentinel_that_always_remakes",
         context_free_ends_despite_a_sentinel_that_always_remakes, 10},
    };
    return run_tests(cases, sizeof cases / sizeof cases[0]);
}
