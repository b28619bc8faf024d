/*
 * test_address: address values (Emacs's conv_sockaddr_to_lisp) as they go into
 * make-network-process and come back through process-contact; format-network-address,
 * network-interface-list, network-interface-info and network-lookup-address-info
 * (Fformat_network_address, Fnetwork_interface_list, Fnetwork_interface_info,
 * Fnetwork_lookup_address_info) checked against values this test computes itself (snprintf,
 * getifaddrs, ioctl, getaddrinfo); and (featurep 'make-network-process …) with the subfeature
 * list (syms_of_process).
 *
 * Every expected form was checked against `emacs --batch -Q` 28.2 here, e.g.
 * (network-interface-info "lo") => ([127 0 0 1 0] [0 0 0 0 0] [255 0 0 0 0]
 * (772 . [0 0 0 0 0 0]) (running loopback up)). netproc differs on purpose in two places
 * tested here: IPv6 client ids are printed in network byte order (docs/DIFFERENCES.md), and a
 * unix address longer than sun_path is an error instead of being cut short.
 *
 * Values are compared as text in Lisp syntax (value_text), so a failure shows both forms.
 */
#include "check.h"
#include "pump.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/ioctl.h>

/* ---- values as Lisp text ----------------------------------------------------- */

struct text {
    char buf[32768];
    size_t len;
};

__attribute__((format(printf, 2, 3)))
static void text_add(struct text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, sizeof t->buf - t->len, fmt, ap);
    va_end(ap);
    CHECK(n >= 0 && (size_t)n < sizeof t->buf - t->len);
    t->len += (size_t)n;
}

static void text_value(struct text *t, const netproc_value *v) {
    switch (v->kind) {
    case NETPROC_VALUE_NIL: text_add(t, "nil"); break;
    case NETPROC_VALUE_T: text_add(t, "t"); break;
    case NETPROC_VALUE_INTEGER: text_add(t, "%lld", (long long)v->integer); break;
    case NETPROC_VALUE_SYMBOL: text_add(t, "%.*s", (int)v->length, (const char *)v->bytes); break;
    case NETPROC_VALUE_STRING:
        text_add(t, "\"");
        for (size_t i = 0; i < v->length; i++) {
            unsigned char c = v->bytes[i];
            if (c == '"' || c == '\\') text_add(t, "\\%c", c);
            else if (c >= 0x20 && c < 0x7f) text_add(t, "%c", c);
            else text_add(t, "\\%o", c);
        }
        text_add(t, "\"");
        break;
    case NETPROC_VALUE_VECTOR:
    case NETPROC_VALUE_LIST:
        text_add(t, v->kind == NETPROC_VALUE_VECTOR ? "[" : "(");
        for (size_t i = 0; i < v->count; i++) {
            if (i) text_add(t, " ");
            text_value(t, &v->items[i]);
        }
        text_add(t, v->kind == NETPROC_VALUE_VECTOR ? "]" : ")");
        break;
    case NETPROC_VALUE_CONS:
        text_add(t, "(");
        text_value(t, &v->items[0]);
        text_add(t, " . ");
        text_value(t, &v->items[1]);
        text_add(t, ")");
        break;
    default: text_add(t, "#<kind %u>", (unsigned)v->kind); break;
    }
}

/* The Lisp text of a value netproc wrote, which is then freed. */
static const char *take_text(struct text *t, netproc_value *v) {
    t->len = 0;
    t->buf[0] = '\0';
    text_value(t, v);
    netproc_value_free(v);
    return t->buf;
}

/* A contact key's value as text. */
static const char *contact_text(struct text *t, netproc_process *p, const char *key) {
    netproc_value v;
    CHECK_EQ(netproc_process_contact(p, key, false, &v), NETPROC_OK);
    return take_text(t, &v);
}

/* An address vector over `items` from `n` integers. */
static netproc_value int_vector(netproc_value *items, const long long *ints, size_t n) {
    for (size_t i = 0; i < n; i++) items[i] = INT(ints[i]);
    return netproc_vector(items, n);
}

/* A list of two symbols, e.g. (:family ipv6). */
static netproc_value pair_list(netproc_value items[2], const char *a, const char *b) {
    items[0] = SYM(a);
    items[1] = SYM(b);
    return netproc_list(items, 2);
}

/* The accepted connection `log` recorded for `server`, with a reference of our own. */
static netproc_process *accepted(netproc_context *ctx, struct recorder *rec, netproc_process *server) {
    long at = -1;
    CHECK(PUMP_UNTIL(ctx, (at = rec_find(rec, 0, REC_LOG, server, NULL)) >= 0, 3000));
    return netproc_process_ref(rec->events[at].client);
}

/* ---- address forms through process-contact -------------------------------------- */

/* :remote [127 0 0 1 PORT] connects there; the contact keeps that vector, (HOST SERVICE) is
 * (nil nil) as nothing else was given, and the accepted side's :remote is the client's
 * :local. */
static void ipv4_vector_round_trip(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct text t, u;
    netproc_process *server = start_server(ctx, "srv", &rec);
    long long port = contact_int(server, ":service");
    netproc_value items[5];
    long long target[5] = {127, 0, 0, 1, port};
    netproc_arg args[] = {ARG(":name", STR("c")), ARG(":remote", int_vector(items, target, 5))};
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));
    CHECK_STR_EQ(netproc_process_status(client), "open");
    char want[64];
    snprintf(want, sizeof want, "[127 0 0 1 %lld]", port);
    CHECK_STR_EQ(contact_text(&t, client, ":remote"), want);
    CHECK_STR_EQ(contact_text(&t, client, NULL), "(nil nil)");
    netproc_process *conn = accepted(ctx, &rec, server);
    CHECK_STR_EQ(contact_text(&t, conn, ":remote"), contact_text(&u, client, ":local"));
    CHECK_STR_EQ(contact_text(&t, conn, ":local"), want);
    netproc_process_free(conn);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* An IPv6 server shows :local [0 0 0 0 0 0 0 1 PORT]; :remote [0 0 0 0 0 0 0 1 PORT]
 * reaches it and stays in the contact; the accepted connection is named with the groups
 * in network byte order, "srv <[0:0:0:0:0:0:0:1]:PORT>" (docs/DIFFERENCES.md). */
static void ipv6_vector_round_trip(void) {
    if (!can_ipv6()) SKIP_TEST("no IPv6 loopback");
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct text t, u;
    netproc_arg sargs[] = {
        ARG(":name", STR("srv")),          ARG(":server", netproc_t()), ARG(":service", netproc_t()),
        ARG(":family", SYM("ipv6")),       ARG(":log", REC_LOG_V(&rec)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, sargs, NARGS(sargs), &server));
    long long port = contact_int(server, ":service");
    char want[64];
    snprintf(want, sizeof want, "[0 0 0 0 0 0 0 1 %lld]", port);
    CHECK_STR_EQ(contact_text(&t, server, ":local"), want);

    netproc_value items[9];
    long long target[9] = {0, 0, 0, 0, 0, 0, 0, 1, port};
    netproc_arg cargs[] = {ARG(":name", STR("c6")), ARG(":remote", int_vector(items, target, 9))};
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, cargs, NARGS(cargs), &client));
    CHECK_STR_EQ(contact_text(&t, client, ":remote"), want);
    long long cport = contact_port(client, ":local");
    char local[64], name[96];
    snprintf(local, sizeof local, "[0 0 0 0 0 0 0 1 %lld]", cport);
    CHECK_STR_EQ(contact_text(&t, client, ":local"), local);

    netproc_process *conn = accepted(ctx, &rec, server);
    snprintf(name, sizeof name, "srv <[0:0:0:0:0:0:0:1]:%lld>", cport);
    CHECK_STR_EQ(netproc_process_name(conn, NULL), name);
    CHECK_STR_EQ(contact_text(&t, conn, ":remote"), contact_text(&u, client, ":local"));
    netproc_process_free(conn);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* A path string as :remote is a unix address, even without :family local: the client
 * connects, its contact has :remote PATH and :local "", and the server's :local is PATH. */
static void unix_path_round_trip(void) {
    char dir[64], path[128], want[160];
    CHECK_NOT_NULL(make_temp_dir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/sock", dir);
    snprintf(want, sizeof want, "\"%s\"", path);
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct text t;
    netproc_arg sargs[] = {
        ARG(":name", STR("us")), ARG(":server", netproc_t()), ARG(":family", SYM("local")),
        ARG(":service", STR(path)), ARG(":log", REC_LOG_V(&rec)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, sargs, NARGS(sargs), &server));
    CHECK_STR_EQ(contact_text(&t, server, ":local"), want);
    netproc_arg cargs[] = {ARG(":name", STR("uc")), ARG(":remote", STR(path))};
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, cargs, NARGS(cargs), &client));
    CHECK_STR_EQ(netproc_process_status(client), "open");
    CHECK_STR_EQ(contact_text(&t, client, ":remote"), want);
    CHECK_STR_EQ(contact_text(&t, client, ":local"), "\"\"");
    netproc_process *conn = accepted(ctx, &rec, server);
    CHECK_STR_EQ(contact_text(&t, conn, ":remote"), "\"\"");
    netproc_process_free(conn);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    CHECK_EQ(remove_temp_dir(dir), 0);
}

/* The (FAMILY . [BYTES…]) form: a fresh datagram server's peer is (0 . [0 × 14]) in its
 * contact, which format-network-address shows as "<Family 0>". */
static void unsupported_family_form(void) {
    netproc_context *ctx = new_context();
    struct text t;
    netproc_arg args[] = {
        ARG(":name", STR("ds")), ARG(":server", netproc_t()), ARG(":type", SYM("datagram")), ARG(":service", netproc_t()),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    netproc_value remote, formatted;
    CHECK_OK(ctx, netproc_process_contact(server, ":remote", false, &remote));
    CHECK_OK(ctx, netproc_format_network_address(&remote, false, &formatted));
    CHECK_STR_EQ(take_text(&t, &remote), "(0 . [0 0 0 0 0 0 0 0 0 0 0 0 0 0])");
    CHECK_STR_EQ(take_text(&t, &formatted), "\"<Family 0>\"");
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* A server's :local decides where it binds — :host and :service are then not used (an
 * unresolvable host does no harm) — and port 0 there picks a port, which the contact
 * :service and :local then show; a plain connect to it is accepted. */
static void server_local_case(bool ipv6) {
    if (ipv6 && !can_ipv6()) SKIP_TEST("no IPv6 loopback");
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct text t;
    netproc_value items[9];
    static const long long v4[5] = {127, 0, 0, 1, 0};
    static const long long v6[9] = {0, 0, 0, 0, 0, 0, 0, 1, 0};
    netproc_arg args[] = {
        ARG(":name", STR("srv")),
        ARG(":server", netproc_t()),
        ARG(":local", ipv6 ? int_vector(items, v6, 9) : int_vector(items, v4, 5)),
        ARG(":host", STR("nonexistent.invalid")),
        ARG(":service", INT(1)),
        ARG(":log", REC_LOG_V(&rec)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    CHECK_STR_EQ(netproc_process_status(server), "listen");
    long long port = contact_int(server, ":service");
    CHECK(port > 1);
    char want[64];
    snprintf(want, sizeof want, ipv6 ? "[0 0 0 0 0 0 0 1 %lld]" : "[127 0 0 1 %lld]", port);
    CHECK_STR_EQ(contact_text(&t, server, ":local"), want);
    CHECK_STR_EQ(contact_text(&t, server, ":host"), "\"nonexistent.invalid\"");
    int fd = raw_connect(ipv6 ? AF_INET6 : AF_INET, port);
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_LOG, server) == 1, 3000));
    close(fd);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

static void server_local_ipv4_binds_there(void) { server_local_case(false); }
static void server_local_ipv6_binds_there(void) { server_local_case(true); }

/* A unix address that does not fit sun_path (108 bytes or more) is refused with a clear
 * error before anything is made — for a client's :remote and a server's :local alike —
 * where Emacs would silently cut it short. 107 bytes fit: a missing path then fails to
 * connect with file-missing. */
static void unix_address_too_long(void) {
    netproc_context *ctx = new_context();
    char path[256];
    memcpy(path, "/tmp/", 5);
    memset(path + 5, 'x', sizeof path - 6);
    static const size_t lengths[] = {108, 200};
    for (size_t i = 0; i < NARGS(lengths); i++) {
        path[lengths[i]] = '\0';
        netproc_process *p = NULL;
        netproc_arg client[] = {ARG(":name", STR("c")), ARG(":remote", STR(path))};
        CHECK_ERROR(ctx, netproc_make_network_process(ctx, client, NARGS(client), &p), NETPROC_E_ERROR, "error",
                    "Unix socket path too long");
        CHECK_NULL(p);
        netproc_arg server[] = {ARG(":name", STR("s")), ARG(":server", netproc_t()), ARG(":local", STR(path))};
        CHECK_ERROR(ctx, netproc_make_network_process(ctx, server, NARGS(server), &p), NETPROC_E_ERROR, "error",
                    "Unix socket path too long");
        CHECK_NULL(p);
        path[lengths[i]] = 'x';
    }
    path[107] = '\0';
    netproc_process *p = NULL;
    netproc_arg fits[] = {ARG(":name", STR("c")), ARG(":remote", STR(path))};
    CHECK_ERROR_PREFIX(ctx, netproc_make_network_process(ctx, fits, NARGS(fits), &p), NETPROC_E_FILE, "file-missing",
                       "make client process failed: No such file or directory");
    CHECK_NULL(p);
    size_t count = 9;
    CHECK_OK(ctx, netproc_process_list(ctx, NULL, 0, &count));
    CHECK_EQ(count, 0);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- ports out of range, paths with a NUL ------------------------------------------- */

/* Text that getaddrinfo reads as a number (strtoul: leading white space, a sign, digits)
 * wraps modulo 65536 in Emacs 28.2: "+65616", "\t+70000" and "+4294967376" bind port 80,
 * " 65536" a random port. netproc refuses each, for every kind of process, and a text
 * that would wrap onto a port in use reaches nobody. A negative text is getaddrinfo's own
 * error in Emacs ("-1"), and stays one even where glibc would wrap it onto a port. */
static void textual_ports_out_of_range(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    char wrapped[4][40];
    snprintf(wrapped[0], sizeof wrapped[0], "+%lld", port + 65536);
    snprintf(wrapped[1], sizeof wrapped[1], "\t+%lld", port + 65536);
    snprintf(wrapped[2], sizeof wrapped[2], "+%lld", port + 4294967296LL);
    snprintf(wrapped[3], sizeof wrapped[3], " %lld", port + 65536);
    const char *texts[] = {"+65616", "\t+70000", "+4294967376", " 65536", "\n\v\f\r 99999",
                           wrapped[0], wrapped[1], wrapped[2], wrapped[3]};
    static const char *kinds[][2] = {{":stop", NULL}, {":server", "t"}, {":nowait", "t"}, {":type", "datagram"}};
    for (size_t k = 0; k < NARGS(kinds); k++) {
        netproc_value extra = kinds[k][1] == NULL ? netproc_nil() : SYM(kinds[k][1]);
        for (size_t i = 0; i < NARGS(texts); i++) {
            netproc_arg args[] = {ARG(":name", STR("p")), ARG(":service", STR(texts[i])), ARG(kinds[k][0], extra)};
            netproc_process *p = NULL;
            char want[128];
            snprintf(want, sizeof want, "127.0.0.1/%s Port number out of range", texts[i]);
            CHECK_ERROR(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p), NETPROC_E_ERROR, "error", want);
            CHECK_NULL(p);
        }
    }
    char negative[40], want[128];
    snprintf(negative, sizeof negative, "-%lld", 4294967296LL - port);
    netproc_arg args[] = {ARG(":name", STR("p")), ARG(":service", STR(negative))};
    netproc_process *p = NULL;
    snprintf(want, sizeof want, "127.0.0.1/%s %s", negative, gai_strerror(EAI_SERVICE));
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p), NETPROC_E_ERROR, "error", want);
    struct pollfd pending = {listener, POLLIN, 0};
    CHECK_EQ(poll(&pending, 1, 0), 0); /* nothing reached the listener */
    /* In range, a sign and white space mean what getaddrinfo takes them for. */
    char in_range[40];
    snprintf(in_range, sizeof in_range, " +%lld", port);
    netproc_arg ok[] = {ARG(":name", STR("ok")), ARG(":service", STR(in_range))};
    CHECK_OK(ctx, netproc_make_network_process(ctx, ok, NARGS(ok), &p));
    CHECK_EQ(contact_port(p, ":remote"), port);
    netproc_delete_process(p);
    netproc_process_free(p);
    close(listener);
    CHECK_NO_LEAK(ctx, baseline);
}

/* Emacs masks an address vector's port to 16 bits: [127 0 0 1 -1] is port 65535 and
 * [127 0 0 1 P+65536] port P. netproc refuses a port outside 0–65535 as Emacs refuses an
 * integer out of its range: (args-out-of-range PORT 0 65535), as :remote, :local or a
 * datagram address, IPv4 or IPv6. */
static void vector_ports_out_of_range(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    const long long ports[] = {-1, 65536, 70000, port + 65536, port - 65536, INT64_MIN, INT64_MAX};
    for (size_t i = 0; i < NARGS(ports); i++) {
        char want[96];
        snprintf(want, sizeof want, "Args out of range: %lld, 0, 65535", ports[i]);
        netproc_value v4[5] = {INT(127), INT(0), INT(0), INT(1), INT(ports[i])};
        netproc_value v6[9] = {INT(0), INT(0), INT(0), INT(0), INT(0), INT(0), INT(0), INT(1), INT(ports[i])};
        netproc_value forms[] = {netproc_vector(v4, 5), netproc_vector(v6, 9)};
        for (size_t f = 0; f < NARGS(forms); f++) {
            netproc_process *p = NULL;
            netproc_arg client[] = {ARG(":name", STR("c")), ARG(":remote", forms[f])};
            CHECK_ERROR(ctx, netproc_make_network_process(ctx, client, NARGS(client), &p), NETPROC_E_ERROR,
                        "args-out-of-range", want);
            CHECK_NULL(p);
            netproc_arg server[] = {ARG(":name", STR("s")), ARG(":server", netproc_t()), ARG(":local", forms[f])};
            CHECK_ERROR(ctx, netproc_make_network_process(ctx, server, NARGS(server), &p), NETPROC_E_ERROR,
                        "args-out-of-range", want);
            CHECK_NULL(p);
        }
    }
    struct pollfd pending = {listener, POLLIN, 0};
    CHECK_EQ(poll(&pending, 1, 0), 0);
    /* A datagram process does not take such an address as its peer. */
    netproc_arg dargs[] = {ARG(":name", STR("d")), ARG(":type", SYM("datagram")), ARG(":service", INT(port))};
    netproc_process *d = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, dargs, NARGS(dargs), &d));
    netproc_value bad[5] = {INT(127), INT(0), INT(0), INT(1), INT(-1)};
    netproc_value address = netproc_vector(bad, 5);
    bool applied = true;
    CHECK_OK(ctx, netproc_set_process_datagram_address(d, &address, &applied));
    CHECK(!applied);
    CHECK_EQ(contact_port(d, ":remote"), port);
    netproc_delete_process(d);
    netproc_process_free(d);
    close(listener);
    CHECK_NO_LEAK(ctx, baseline);
}

/* Emacs copies a unix path as a C string, so "DIR/a\0b" binds or connects to DIR/a.
 * netproc refuses a path with a NUL inside, as :service with :family local, as :local or
 * as :remote, with the error Emacs's file primitives give such a name:
 * (wrong-type-argument filenamep PATH) (C messages leave the NUL out). Nothing is made,
 * no file appears. An abstract name, which starts with a NUL, may hold more. */
static void unix_path_with_nul(void) {
    int baseline = fd_baseline();
    char dir[64], path[128], shown[160], want[200];
    CHECK_NOT_NULL(make_temp_dir(dir, sizeof dir));
    int n = snprintf(path, sizeof path, "%s/a", dir);
    memcpy(path + n, "\0b", 3);
    netproc_value nul_path = netproc_string_n((const uint8_t *)path, (size_t)n + 2);
    snprintf(shown, sizeof shown, "%s/ab", dir);
    snprintf(want, sizeof want, "Wrong type argument: filenamep, \"%s\"", shown);
    netproc_context *ctx = new_context();
    netproc_arg forms[][4] = {
        {ARG(":name", STR("s")), ARG(":server", netproc_t()), ARG(":family", SYM("local")), ARG(":service", nul_path)},
        {ARG(":name", STR("c")), ARG(":family", SYM("local")), ARG(":service", nul_path), ARG(":nowait", netproc_t())},
        {ARG(":name", STR("s")), ARG(":server", netproc_t()), ARG(":local", nul_path), ARG(":stop", netproc_nil())},
        {ARG(":name", STR("c")), ARG(":remote", nul_path), ARG(":stop", netproc_nil()), ARG(":stop", netproc_nil())},
    };
    for (size_t i = 0; i < NARGS(forms); i++) {
        netproc_process *p = NULL;
        CHECK_ERROR(ctx, netproc_make_network_process(ctx, forms[i], 4, &p), NETPROC_E_WRONG_TYPE,
                    "wrong-type-argument", want);
        CHECK_NULL(p);
    }
    struct stat st;
    path[n] = '\0';
    CHECK(stat(path, &st) != 0 && errno == ENOENT);
    /* An abstract name with NULs inside still works. */
    static const uint8_t abstract[] = "\0netproc-test-abstract\0name";
    netproc_arg sargs[] = {ARG(":name", STR("abs")), ARG(":server", netproc_t()), ARG(":family", SYM("local")),
                           ARG(":service", netproc_string_n(abstract, sizeof abstract - 1))};
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, sargs, NARGS(sargs), &server));
    netproc_delete_process(server);
    netproc_process_free(server);
    CHECK_NO_LEAK(ctx, baseline);
    CHECK_EQ(remove_temp_dir(dir), 0);
}

/* ---- format-network-address ------------------------------------------------------ */

static const char *format_text(struct text *t, const netproc_value *address, bool omit_port) {
    netproc_value out;
    CHECK_EQ(netproc_format_network_address(address, omit_port, &out), NETPROC_OK);
    return take_text(t, &out);
}

/* Fformat_network_address's forms, as Emacs answered each. */
static void format_fixed_forms(void) {
    struct text t;
    netproc_value items[9];
    static const struct {
        long long ints[9];
        size_t n;
        const char *with_port, *omit_port;
    } cases[] = {
        {{127, 0, 0, 1}, 4, "\"127.0.0.1\"", "\"127.0.0.1\""},
        {{127, 0, 0, 1, 80}, 5, "\"127.0.0.1:80\"", "\"127.0.0.1\""},
        {{0, 0, 0, 0, 0, 0, 0, 1}, 8, "\"0:0:0:0:0:0:0:1\"", "\"0:0:0:0:0:0:0:1\""},
        {{0, 0, 0, 0, 0, 0, 0, 1, 80}, 9, "\"[0:0:0:0:0:0:0:1]:80\"", "\"0:0:0:0:0:0:0:1\""},
        {{65535, 10, 0, 255, 4096, 0, 0, 1, 443}, 9, "\"[ffff:a:0:ff:1000:0:0:1]:443\"", "\"ffff:a:0:ff:1000:0:0:1\""},
        {{1, 2, 3, 4, 70000}, 5, "nil", "\"1.2.3.4\""},
        {{256, 0, 0, 1, 80}, 5, "nil", "nil"},
        {{-1, 0, 0, 0, 1}, 5, "nil", "nil"},
        {{65536, 0, 0, 0, 0, 0, 0, 1, 80}, 9, "nil", "nil"},
        {{1, 2, 3}, 3, "nil", "nil"},
        {{1, 2, 3, 4, 5, 6}, 6, "nil", "nil"},
    };
    for (size_t i = 0; i < NARGS(cases); i++) {
        netproc_value v = int_vector(items, cases[i].ints, cases[i].n);
        CHECK_STR_EQ(format_text(&t, &v, false), cases[i].with_port);
        CHECK_STR_EQ(format_text(&t, &v, true), cases[i].omit_port);
    }
    /* Strings come back as they are; (INTEGER . ANY) is "<Family N>"; nil and numbers nil. */
    netproc_value s = STR("/tmp/sock"), empty = STR("");
    CHECK_STR_EQ(format_text(&t, &s, true), "\"/tmp/sock\"");
    CHECK_STR_EQ(format_text(&t, &empty, false), "\"\"");
    netproc_value three[3] = {INT(1), INT(2), INT(3)}, pair[2] = {INT(1), netproc_vector(three, 3)};
    netproc_value family = netproc_cons(pair);
    CHECK_STR_EQ(format_text(&t, &family, false), "\"<Family 1>\"");
    netproc_value nil = netproc_nil(), five = INT(5);
    CHECK_STR_EQ(format_text(&t, &nil, false), "nil");
    CHECK_STR_EQ(format_text(&t, &five, false), "nil");
    /* ("a" . 5) is an error, not nil. */
    netproc_value bad_pair[2] = {STR("a"), INT(5)};
    netproc_value bad = netproc_cons(bad_pair), out;
    CHECK_ERROR(NULL, netproc_format_network_address(&bad, false, &out), NETPROC_E_ERROR, "error",
                "Format specifier doesn\xe2\x80\x99t match argument type");
}

/* Addresses spread over the whole range, formatted by this test with snprintf: decimal
 * IPv4, lowercase unpadded hex IPv6 groups without "::" compression, decimal ports. */
static void format_computed_addresses(void) {
    struct text t;
    netproc_value items[9];
    for (uint64_t seed = 1; seed <= 200; seed++) {
        uint8_t r[32];
        fill_pattern(r, sizeof r, seed, 0);
        long long v4[5], v6[9];
        for (int i = 0; i < 4; i++) v4[i] = r[i];
        for (int i = 0; i < 8; i++) v6[i] = (r[4 + 2 * i] << 8 | r[5 + 2 * i]) >> (r[20] % 16); /* small and large */
        long long port = (r[21] << 8 | r[22]) % 65536;
        v4[4] = v6[8] = port;
        char want[128], host[96];
        snprintf(host, sizeof host, "%lld.%lld.%lld.%lld", v4[0], v4[1], v4[2], v4[3]);
        netproc_value v = int_vector(items, v4, 5);
        snprintf(want, sizeof want, "\"%s:%lld\"", host, port);
        CHECK_STR_EQ(format_text(&t, &v, false), want);
        snprintf(want, sizeof want, "\"%s\"", host);
        CHECK_STR_EQ(format_text(&t, &v, true), want);

        snprintf(host, sizeof host, "%llx:%llx:%llx:%llx:%llx:%llx:%llx:%llx", v6[0], v6[1], v6[2], v6[3], v6[4],
                 v6[5], v6[6], v6[7]);
        v = int_vector(items, v6, 9);
        snprintf(want, sizeof want, "\"[%s]:%lld\"", host, port);
        CHECK_STR_EQ(format_text(&t, &v, false), want);
        snprintf(want, sizeof want, "\"%s\"", host);
        CHECK_STR_EQ(format_text(&t, &v, true), want);
    }
}

/* ---- network-interface-list ---------------------------------------------------------- */

static void text_ipv4(struct text *t, const struct sockaddr_in *a) {
    const uint8_t *b = (const uint8_t *)&a->sin_addr;
    text_add(t, "[%u %u %u %u 0]", b[0], b[1], b[2], b[3]);
}

static void text_ipv6(struct text *t, const struct sockaddr_in6 *a) {
    const uint8_t *b = a->sin6_addr.s6_addr;
    text_add(t, "[");
    for (int i = 0; i < 8; i++) text_add(t, "%u ", (unsigned)(b[2 * i] << 8 | b[2 * i + 1]));
    text_add(t, "0]");
}

/* ADDRESS | ~NETMASK, as Emacs computes the broadcast address. */
static void text_broadcast(struct text *t, const struct sockaddr *addr, const struct sockaddr *mask) {
    if (addr->sa_family == AF_INET) {
        struct sockaddr_in b = *(const struct sockaddr_in *)addr;
        b.sin_addr.s_addr |= ~((const struct sockaddr_in *)mask)->sin_addr.s_addr;
        text_ipv4(t, &b);
    } else {
        struct sockaddr_in6 b = *(const struct sockaddr_in6 *)addr;
        for (int i = 0; i < 16; i++) b.sin6_addr.s6_addr[i] |= (uint8_t)~((const struct sockaddr_in6 *)mask)->sin6_addr.s6_addr[i];
        text_ipv6(t, &b);
    }
}

/* What network-interface-list must say, from this test's own getifaddrs(): IPv4 and IPv6
 * entries only (one family if `only` is not AF_UNSPEC), in the reverse of its order. */
static void expected_interface_list(struct text *t, bool full, int only) {
    struct ifaddrs *list = NULL;
    CHECK_EQ(getifaddrs(&list), 0);
    struct ifaddrs *entries[256];
    size_t n = 0;
    for (struct ifaddrs *e = list; e != NULL; e = e->ifa_next) {
        if (e->ifa_addr == NULL) continue;
        int family = e->ifa_addr->sa_family;
        if (family != AF_INET && family != AF_INET6) continue;
        if (only != AF_UNSPEC && family != only) continue;
        CHECK(n < NARGS(entries));
        entries[n++] = e;
    }
    t->len = 0;
    t->buf[0] = '\0';
    if (n == 0) text_add(t, "nil");
    else text_add(t, "(");
    for (size_t i = n; i-- > 0;) {
        struct ifaddrs *e = entries[i];
        const struct sockaddr *a = e->ifa_addr;
        text_add(t, full ? "(\"%s\" " : "(\"%s\" . ", e->ifa_name);
        if (a->sa_family == AF_INET) text_ipv4(t, (const struct sockaddr_in *)a);
        else text_ipv6(t, (const struct sockaddr_in6 *)a);
        if (full) {
            if (e->ifa_netmask == NULL) {
                text_add(t, " nil nil");
            } else {
                text_add(t, " ");
                text_broadcast(t, a, e->ifa_netmask);
                text_add(t, " ");
                if (a->sa_family == AF_INET) text_ipv4(t, (const struct sockaddr_in *)e->ifa_netmask);
                else text_ipv6(t, (const struct sockaddr_in6 *)e->ifa_netmask);
            }
        }
        text_add(t, i ? ") " : ")");
    }
    if (n) text_add(t, ")");
    freeifaddrs(list);
}

static const char *interface_list_text(struct text *t, bool full, const netproc_value *family) {
    netproc_value out;
    CHECK_EQ(netproc_network_interface_list(full, family, &out), NETPROC_OK);
    return take_text(t, &out);
}

/* The loopback entries of Fnetwork_interface_list, as Emacs prints them. */
static void interface_list_has_loopback(void) {
    struct text t;
    CHECK_NOT_NULL(strstr(interface_list_text(&t, false, NULL), "(\"lo\" . [127 0 0 1 0])"));
    CHECK_NOT_NULL(strstr(interface_list_text(&t, true, NULL), "(\"lo\" [127 0 0 1 0] [127 255 255 255 0] [255 0 0 0 0])"));
    netproc_value ipv4 = SYM("ipv4");
    CHECK_NOT_NULL(strstr(interface_list_text(&t, false, &ipv4), "(\"lo\" . [127 0 0 1 0])"));
    if (can_ipv6()) {
        netproc_value ipv6 = SYM("ipv6");
        CHECK_NOT_NULL(strstr(interface_list_text(&t, false, &ipv6), "(\"lo\" . [0 0 0 0 0 0 0 1 0])"));
        CHECK_NOT_NULL(strstr(interface_list_text(&t, true, &ipv6),
                              "(\"lo\" [0 0 0 0 0 0 0 1 0] [0 0 0 0 0 0 0 1 0] "
                              "[65535 65535 65535 65535 65535 65535 65535 65535 0])"));
    }
}

/* Every combination of FULL and FAMILY equals what getifaddrs() gives this test: the same
 * entries, in the reverse order. */
static void interface_list_matches_getifaddrs(void) {
    struct text got, want;
    netproc_value nil = netproc_nil(), ipv4 = SYM("ipv4"), ipv6 = SYM("ipv6");
    const netproc_value *families[] = {NULL, &nil, &ipv4, &ipv6};
    static const int family_of[] = {AF_UNSPEC, AF_UNSPEC, AF_INET, AF_INET6};
    for (int full = 0; full <= 1; full++) {
        for (size_t i = 0; i < NARGS(families); i++) {
            expected_interface_list(&want, full, family_of[i]);
            CHECK_STR_EQ(interface_list_text(&got, full, families[i]), want.buf);
        }
    }
}

/* FAMILY other than nil, ipv4 and ipv6 — local included — is (error "Unsupported address
 * family"). */
static void interface_list_bad_family(void) {
    netproc_value bad[] = {SYM("local"), SYM("ipx"), STR("ipv4"), INT(2)};
    for (size_t i = 0; i < NARGS(bad); i++) {
        netproc_value out;
        CHECK_ERROR(NULL, netproc_network_interface_list(false, &bad[i], &out), NETPROC_E_ERROR, "error",
                    "Unsupported address family");
        CHECK_ERROR(NULL, netproc_network_interface_list(true, &bad[i], &out), NETPROC_E_ERROR, "error",
                    "Unsupported address family");
    }
}

/* ---- network-interface-info ---------------------------------------------------------- */

/* One ioctl on an ifreq for `name`; whether it worked. */
static bool if_ioctl(int fd, const char *name, unsigned long request, struct ifreq *ifr) {
    memset(ifr, 0, sizeof *ifr);
    snprintf(ifr->ifr_name, sizeof ifr->ifr_name, "%s", name);
    return ioctl(fd, request, ifr) == 0;
}

/* An ioctl's sockaddr in Emacs's form: a vector for AF_INET, (FAMILY . [BYTES]) else. */
static void text_ifr_address(struct text *t, int fd, const char *name, unsigned long request, bool *any) {
    struct ifreq ifr;
    if (!if_ioctl(fd, name, request, &ifr)) {
        text_add(t, "nil");
        return;
    }
    *any = true;
    const struct sockaddr *sa = &ifr.ifr_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        const uint8_t *b = (const uint8_t *)&in->sin_addr;
        text_add(t, "[%u %u %u %u %u]", b[0], b[1], b[2], b[3], (unsigned)ntohs(in->sin_port));
    } else {
        text_add(t, "(%u . [", (unsigned)sa->sa_family);
        for (size_t i = 0; i < sizeof sa->sa_data; i++) text_add(t, i ? " %u" : "%u", (uint8_t)sa->sa_data[i]);
        text_add(t, "])");
    }
}

/* What network-interface-info must say for `name`, from this test's own ioctls. */
static void expected_interface_info(struct text *t, const char *name) {
    static const struct {
        int bit;
        const char *name;
    } flag_table[] = {
        {IFF_UP, "up"},           {IFF_BROADCAST, "broadcast"}, {IFF_DEBUG, "debug"},
        {IFF_LOOPBACK, "loopback"}, {IFF_POINTOPOINT, "pointopoint"}, {IFF_RUNNING, "running"},
        {IFF_NOARP, "noarp"},     {IFF_PROMISC, "promisc"},     {IFF_NOTRAILERS, "notrailers"},
        {IFF_ALLMULTI, "allmulti"}, {IFF_MASTER, "master"},     {IFF_SLAVE, "slave"},
        {IFF_MULTICAST, "multicast"}, {IFF_PORTSEL, "portsel"}, {IFF_AUTOMEDIA, "automedia"},
        {IFF_DYNAMIC, "dynamic"},
    };
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    bool any = false;
    struct ifreq ifr;
    t->len = 0;
    t->buf[0] = '\0';
    text_add(t, "(");
    text_ifr_address(t, fd, name, SIOCGIFADDR, &any);
    text_add(t, " ");
    text_ifr_address(t, fd, name, SIOCGIFBRDADDR, &any);
    text_add(t, " ");
    text_ifr_address(t, fd, name, SIOCGIFNETMASK, &any);
    text_add(t, " ");
    if (if_ioctl(fd, name, SIOCGIFHWADDR, &ifr)) {
        any = true;
        const uint8_t *hw = (const uint8_t *)ifr.ifr_hwaddr.sa_data;
        text_add(t, "(%u . [%u %u %u %u %u %u])", (unsigned)ifr.ifr_hwaddr.sa_family, hw[0], hw[1], hw[2], hw[3],
                 hw[4], hw[5]);
    } else {
        text_add(t, "nil");
    }
    text_add(t, " ");
    if (if_ioctl(fd, name, SIOCGIFFLAGS, &ifr)) {
        any = true;
        unsigned flags = (unsigned short)ifr.ifr_flags;
        const char *words[48];
        char numbers[32][4];
        size_t n = 0;
        for (size_t i = 0; i < NARGS(flag_table); i++)
            if (flags & (unsigned)flag_table[i].bit) {
                words[n++] = flag_table[i].name;
                flags &= ~(unsigned)flag_table[i].bit;
            }
        for (unsigned bit = 0; bit < 32; bit++)
            if (flags & (1u << bit)) {
                snprintf(numbers[bit], sizeof numbers[bit], "%u", bit);
                words[n++] = numbers[bit];
            }
        if (n == 0) text_add(t, "nil");
        else text_add(t, "(");
        for (size_t i = n; i-- > 0;) text_add(t, i ? "%s " : "%s)", words[i]);
    } else {
        text_add(t, "nil");
    }
    text_add(t, ")");
    close(fd);
    if (!any) {
        t->len = 0;
        text_add(t, "nil");
    }
}

static const char *interface_info_text(struct text *t, const char *name) {
    netproc_value out;
    CHECK_EQ(netproc_network_interface_info(name, &out), NETPROC_OK);
    return take_text(t, &out);
}

/* Loopback as Emacs shows it, and every interface the system has (including ones that are
 * down or have no IPv4 address, whose missing parts are nil) equal to this test's ioctls. */
static void interface_info_matches_ioctl(void) {
    struct text got, want;
    expected_interface_info(&want, "lo");
    CHECK_STR_EQ(interface_info_text(&got, "lo"), want.buf);
    CHECK_STR_EQ(got.buf, "([127 0 0 1 0] [0 0 0 0 0] [255 0 0 0 0] (772 . [0 0 0 0 0 0]) (running loopback up))");
    struct if_nameindex *names = if_nameindex();
    CHECK_NOT_NULL(names);
    size_t checked = 0;
    for (struct if_nameindex *i = names; i->if_name != NULL; i++, checked++) {
        expected_interface_info(&want, i->if_name);
        CHECK_STR_EQ(interface_info_text(&got, i->if_name), want.buf);
    }
    if_freenameindex(names);
    CHECK(checked >= 1);
}

/* An unknown interface is nil (15 bytes is still a possible name); 16 bytes or more is
 * (error "interface name too long"). */
static void interface_info_unknown_and_long_names(void) {
    struct text t;
    CHECK_STR_EQ(interface_info_text(&t, "nosuchif0"), "nil");
    CHECK_STR_EQ(interface_info_text(&t, "abcdefghijklmno"), "nil");
    CHECK_EQ(strlen("abcdefghijklmno"), IFNAMSIZ - 1);
    netproc_value out;
    CHECK_ERROR(NULL, netproc_network_interface_info("abcdefghijklmnop", &out), NETPROC_E_ERROR, "error",
                "interface name too long");
    CHECK_ERROR(NULL, netproc_network_interface_info("lo_with_a_much_longer_name", &out), NETPROC_E_ERROR, "error",
                "interface name too long");
}

/* ---- network-lookup-address-info ------------------------------------------------------ */

/* Returns the result's text; *message gets the message's text ("nil" when none). */
static const char *lookup_text(struct text *t, struct text *message, const char *name, const netproc_value *family) {
    netproc_value out, said;
    CHECK_EQ(netproc_network_lookup_address_info(name, family, &out, &said), NETPROC_OK);
    take_text(message, &said);
    return take_text(t, &out);
}

/* ([127 0 0 1 0]) for ipv4 and nil; with ipv6 nil and the message "127.0.0.1/0 …"; an
 * unknown name nil with "nonexistent.invalid/0 …"; a bad family is an error. */
static void lookup_address_info(void) {
    struct text t, m;
    netproc_value ipv4 = SYM("ipv4"), ipv6 = SYM("ipv6"), nil = netproc_nil();
    CHECK_STR_EQ(lookup_text(&t, &m, "127.0.0.1", &ipv4), "([127 0 0 1 0])");
    CHECK_STR_EQ(m.buf, "nil");
    CHECK_STR_EQ(lookup_text(&t, &m, "127.0.0.1", &nil), "([127 0 0 1 0])");
    CHECK_STR_EQ(lookup_text(&t, &m, "127.0.0.1", NULL), "([127 0 0 1 0])");
    CHECK_STR_EQ(lookup_text(&t, &m, "127.0.0.1", &ipv6), "nil");
    CHECK(strncmp(m.buf, "\"127.0.0.1/0 ", 13) == 0 && strlen(m.buf) > 14);
    CHECK_STR_EQ(lookup_text(&t, &m, "nonexistent.invalid", NULL), "nil");
    CHECK(strncmp(m.buf, "\"nonexistent.invalid/0 ", 23) == 0 && strlen(m.buf) > 24);
    if (can_ipv6()) {
        CHECK_STR_EQ(lookup_text(&t, &m, "::1", NULL), "([0 0 0 0 0 0 0 1 0])");
        CHECK_STR_EQ(lookup_text(&t, &m, "::1", &ipv4), "nil");
        CHECK(strncmp(m.buf, "\"::1/0 ", 7) == 0);
    }
    netproc_value bad[] = {SYM("foo"), SYM("local"), STR("ipv4")};
    for (size_t i = 0; i < NARGS(bad); i++) {
        netproc_value out;
        CHECK_ERROR(NULL, netproc_network_lookup_address_info("127.0.0.1", &bad[i], &out, NULL), NETPROC_E_ERROR,
                    "error", "Unsupported lookup type");
    }
}

/* "localhost" gives exactly what this test's getaddrinfo() with SOCK_DGRAM gives, in its
 * order, with port 0. */
static void lookup_matches_getaddrinfo(void) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_DGRAM;
    CHECK_EQ(getaddrinfo("localhost", NULL, &hints, &res), 0);
    struct text want, got, m;
    want.len = 0;
    text_add(&want, "(");
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        if (a->ai_family == AF_INET) text_ipv4(&want, (const struct sockaddr_in *)a->ai_addr);
        else if (a->ai_family == AF_INET6) text_ipv6(&want, (const struct sockaddr_in6 *)a->ai_addr);
        else continue;
        text_add(&want, a->ai_next ? " " : "");
    }
    text_add(&want, ")");
    freeaddrinfo(res);
    CHECK_STR_EQ(lookup_text(&got, &m, "localhost", NULL), want.buf);
    CHECK_STR_EQ(m.buf, "nil");
}

/* ---- featurep -------------------------------------------------------------------------- */

static bool featurep(const netproc_value *subfeature) {
    bool result = false;
    CHECK_EQ(netproc_network_featurep(subfeature, &result), NETPROC_OK);
    return result;
}

/* t for every capability pair and option keyword Emacs lists, and for no subfeature; nil
 * for (:nowait nil), :nodelay and other things not in the list. */
static void featurep_queries(void) {
    netproc_value items[2], v;
    static const char *const pairs[][2] = {
        {":server", "t"},       {":service", "t"},      {":family", "ipv6"},  {":family", "ipv4"},
        {":family", "local"},   {":type", "seqpacket"}, {":type", "datagram"}, {":nowait", "t"},
    };
    for (size_t i = 0; i < NARGS(pairs); i++) {
        v = pair_list(items, pairs[i][0], pairs[i][1]);
        if (!featurep(&v)) check_fail_(__FILE__, __LINE__, "(%s %s) is not a feature", pairs[i][0], pairs[i][1]);
    }
    static const char *const options[] = {":bindtodevice", ":broadcast", ":dontroute", ":keepalive",
                                          ":linger",       ":nodelay",   ":oobinline", ":priority",
                                          ":reuseaddr",    ":reuseport", ":v6only",    ":rcvbuf",
                                          ":sndbuf",       ":multicast-join", ":multicast-leave"};
    for (size_t i = 0; i < NARGS(options); i++) {
        v = SYM(options[i]);
        if (!featurep(&v)) check_fail_(__FILE__, __LINE__, "%s is not a feature", options[i]);
    }
    CHECK(featurep(NULL));
    v = netproc_nil();
    CHECK(featurep(&v));
    static const char *const absent[][2] = {{":nowait", "nil"}, {":type", "stream"}, {":family", "ipx"}, {":server", "nil"}};
    for (size_t i = 0; i < NARGS(absent); i++) {
        v = pair_list(items, absent[i][0], absent[i][1]);
        if (featurep(&v)) check_fail_(__FILE__, __LINE__, "(%s %s) is a feature", absent[i][0], absent[i][1]);
    }
    v = SYM(":no-such-option");
    CHECK(!featurep(&v));
    v = SYM(":nowait");
    CHECK(!featurep(&v));
    v = STR(":keepalive");
    CHECK(!featurep(&v));
}

/* (get 'make-network-process 'subfeatures) of Emacs 28.2, with netproc's own options
   among Emacs's (README, "Beyond Emacs"), then netproc's `:framing` (README, "Whole
   messages"). */
static void features_list_equals_emacs(void) {
    struct text t;
    netproc_value out;
    CHECK_EQ(netproc_network_features(&out), NETPROC_OK);
    CHECK_STR_EQ(take_text(&t, &out),
                 "(:high-water :framing-max :framing :drain :connect-timeout :attempt-delay :v6only "
                 ":sndbuf :reuseport :reuseaddr :rcvbuf :priority :oobinline "
                 ":nodelay :multicast-leave :multicast-join :linger :keepalive :dontroute :broadcast "
                 ":bindtodevice "
                 "(:server t) (:service t) (:family ipv6) (:family ipv4) (:family local) "
                 "(:type seqpacket) (:type datagram) (:nowait t) "
                 "(:framing line) (:framing content-length) (:framing length-prefix))");
}

int main(void) {
    static const struct test_case cases[] = {
        {"ipv4_vector_round_trip", ipv4_vector_round_trip, 10},
        {"ipv6_vector_round_trip", ipv6_vector_round_trip, 10},
        {"unix_path_round_trip", unix_path_round_trip, 10},
        {"unsupported_family_form", unsupported_family_form, 10},
        {"server_local_ipv4_binds_there", server_local_ipv4_binds_there, 10},
        {"server_local_ipv6_binds_there", server_local_ipv6_binds_there, 10},
        {"unix_address_too_long", unix_address_too_long, 10},
        {"textual_ports_out_of_range", textual_ports_out_of_range, 10},
        {"vector_ports_out_of_range", vector_ports_out_of_range, 10},
        {"unix_path_with_nul", unix_path_with_nul, 10},
        {"format_fixed_forms", format_fixed_forms, 10},
        {"format_computed_addresses", format_computed_addresses, 10},
        {"interface_list_has_loopback", interface_list_has_loopback, 10},
        {"interface_list_matches_getifaddrs", interface_list_matches_getifaddrs, 10},
        {"interface_list_bad_family", interface_list_bad_family, 10},
        {"interface_info_matches_ioctl", interface_info_matches_ioctl, 10},
        {"interface_info_unknown_and_long_names", interface_info_unknown_and_long_names, 10},
        {"lookup_address_info", lookup_address_info, 20},
        {"lookup_matches_getaddrinfo", lookup_matches_getaddrinfo, 20},
        {"featurep_queries", featurep_queries, 10},
        {"features_list_equals_emacs", features_list_equals_emacs, 10},
    };
    return run_tests(cases, NARGS(cases));
}
