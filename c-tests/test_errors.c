/*
 * test_errors: the errors Emacs 28.2 signals, as netproc reports them — symbol, exact
 * message, errno and status. Argument errors of make-network-process (in Emacs's check
 * order), system errors from socket calls, and errors while using a process.
 * Every expected text below was checked against `emacs --batch -Q` 28.2.
 */
#include "check.h"
#include "pump.h"

/* ---- helpers ------------------------------------------------------------- */

static netproc_process *plain_server(netproc_context *ctx, const char *name) {
    netproc_arg args[] = {ARG(":name", STR(name)), ARG(":server", netproc_t()), ARG(":service", netproc_t())};
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));
    CHECK_NOT_NULL(p);
    return p;
}

static netproc_process *plain_client(netproc_context *ctx, const char *name, long long port) {
    netproc_arg args[] = {ARG(":name", STR(name)), ARG(":service", INT(port))};
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));
    CHECK_NOT_NULL(p);
    return p;
}

static size_t process_count(netproc_context *ctx) {
    size_t count = 99;
    CHECK_OK(ctx, netproc_process_list(ctx, NULL, 0, &count));
    return count;
}

/* make-network-process with `args` must fail with status, symbol and exactly `message`
 * (prefix: only its start), add nothing to the process list, and leave *out NULL. */
#define EXPECT_MAKE_ERROR(ctx, args, status, symbol, message) \
    expect_make_error_(__LINE__, (ctx), (args), NARGS(args), (status), (symbol), (message), false)
#define EXPECT_MAKE_ERROR_PREFIX(ctx, args, status, symbol, message) \
    expect_make_error_(__LINE__, (ctx), (args), NARGS(args), (status), (symbol), (message), true)

static void expect_make_error_(int line, netproc_context *ctx, const netproc_arg *args, size_t nargs, int status,
                               const char *symbol, const char *message, bool prefix) {
    netproc_process *p = NULL;
    size_t before = process_count(ctx);
    int rc = netproc_make_network_process(ctx, args, nargs, &p);
    check_error_(__FILE__, line, "netproc_make_network_process", ctx, rc, status, symbol, message, prefix);
    if (p != NULL) check_fail_(__FILE__, line, "failed make_network_process wrote a process");
    /* A failed call leaves nothing in the process list. */
    if (process_count(ctx) != before) check_fail_(__FILE__, line, "failed make_network_process listed a process");
}

/* ---- argument handling ------------------------------------------------------ */

/* (make-network-process) returns nil and creates nothing. */
static void empty_args_give_null(void) {
    netproc_context *ctx = new_context();
    netproc_arg unused = ARG(":name", STR("x"));
    netproc_process *p = (netproc_process *)&unused;
    CHECK_OK(ctx, netproc_make_network_process(ctx, &unused, 0, &p));
    CHECK_NULL(p);
    p = (netproc_process *)&unused;
    CHECK_OK(ctx, netproc_make_network_process(ctx, NULL, 0, &p));
    CHECK_NULL(p);
    CHECK_EQ(process_count(ctx), 0);
    CHECK_EQ(netproc_last_error(ctx, NULL, NULL, NULL), NETPROC_OK);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* An unknown keyword is accepted, ignored, and kept in the contact plist. */
static void unknown_keyword_kept_in_contact(void) {
    netproc_context *ctx = new_context();
    netproc_arg args[] = {
        ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t()), ARG(":foo", INT(42)),
    };
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));
    CHECK_EQ(contact_int(p, ":foo"), 42);
    /* Where Emacs puts it: (:name "srv" :server t :service PORT :foo 42 :local [...]). */
    netproc_value all;
    CHECK_OK(ctx, netproc_process_contact(p, "t", false, &all));
    CHECK_EQ(all.kind, NETPROC_VALUE_LIST);
    CHECK_EQ(all.count, 10);
    CHECK(value_is_symbol(&all.items[6], ":foo"));
    CHECK_EQ(all.items[7].integer, 42);
    CHECK(value_is_symbol(&all.items[8], ":local"));
    netproc_value_free(&all);
    netproc_process_free(p);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* With a key given twice the first value wins, and the contact plist keeps both, as
 * (:name "a" :name "b" :server t ...) in Emacs. */
static void duplicate_key_first_wins(void) {
    netproc_context *ctx = new_context();
    netproc_arg args[] = {
        ARG(":name", STR("a")), ARG(":name", STR("b")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
    };
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p));
    CHECK_STR_EQ(netproc_process_name(p, NULL), "a");
    netproc_value v;
    CHECK_OK(ctx, netproc_process_contact(p, ":name", false, &v));
    CHECK(value_is_string(&v, "a"));
    netproc_value_free(&v);
    CHECK_OK(ctx, netproc_process_contact(p, "t", false, &v));
    CHECK_EQ(v.kind, NETPROC_VALUE_LIST);
    CHECK(v.count >= 4);
    CHECK(value_is_symbol(&v.items[0], ":name"));
    CHECK(value_is_string(&v.items[1], "a"));
    CHECK(value_is_symbol(&v.items[2], ":name"));
    CHECK(value_is_string(&v.items[3], "b"));
    netproc_value_free(&v);
    netproc_process_free(p);

    /* The first wins for every key: :service t then a bad one still binds port 0's pick. */
    netproc_arg services[] = {
        ARG(":name", STR("s")), ARG(":server", netproc_t()), ARG(":service", netproc_t()), ARG(":service", SYM("x")),
    };
    CHECK_OK(ctx, netproc_make_network_process(ctx, services, NARGS(services), &p));
    CHECK(contact_int(p, ":service") > 0);
    netproc_process_free(p);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- argument errors ----------------------------------------------------------- */

static void type_unsupported(void) {
    netproc_context *ctx = new_context();
    netproc_arg symbol[] = {ARG(":name", STR("a")), ARG(":type", SYM("foo")), ARG(":service", INT(80))};
    EXPECT_MAKE_ERROR(ctx, symbol, NETPROC_E_ERROR, "error", "Unsupported connection type");
    netproc_arg string[] = {ARG(":name", STR("a")), ARG(":type", STR("datagram")), ARG(":service", INT(80))};
    EXPECT_MAKE_ERROR(ctx, string, NETPROC_E_ERROR, "error", "Unsupported connection type");
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* Emacs formats this with format-message: grave quotes in the C locale (as here), curved
 * ones under a UTF-8 locale. netproc, having no locale, uses the plain ASCII form. */
static void server_with_nowait(void) {
    netproc_context *ctx = new_context();
    netproc_arg args[] = {
        ARG(":name", STR("a")), ARG(":server", netproc_t()), ARG(":nowait", netproc_t()), ARG(":service", netproc_t()),
    };
    EXPECT_MAKE_ERROR(ctx, args, NETPROC_E_ERROR, "error", "‘:server’ is incompatible with ‘:nowait’");
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

static void name_missing_or_not_string(void) {
    netproc_context *ctx = new_context();
    netproc_arg missing[] = {ARG(":service", INT(80))};
    EXPECT_MAKE_ERROR(ctx, missing, NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: stringp, nil");
    netproc_arg number[] = {ARG(":name", INT(5)), ARG(":service", INT(80))};
    EXPECT_MAKE_ERROR(ctx, number, NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: stringp, 5");
    netproc_arg symbol[] = {ARG(":name", SYM("foo")), ARG(":service", INT(80))};
    EXPECT_MAKE_ERROR(ctx, symbol, NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: stringp, foo");
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* A :remote (clients) or :local (servers) that is not an address. */
static void malformed_address(void) {
    netproc_context *ctx = new_context();
    netproc_value three[3] = {INT(1), INT(2), INT(3)};
    netproc_value two[2] = {INT(1), INT(2)};
    netproc_value shapes[] = {INT(5), netproc_vector(three, 3), netproc_list(two, 2), netproc_t()};
    for (size_t i = 0; i < NARGS(shapes); i++) {
        netproc_arg client[] = {ARG(":name", STR("a")), ARG(":remote", shapes[i])};
        EXPECT_MAKE_ERROR(ctx, client, NETPROC_E_ERROR, "error", "Malformed :address");
        netproc_arg server[] = {ARG(":name", STR("a")), ARG(":server", netproc_t()), ARG(":local", shapes[i])};
        EXPECT_MAKE_ERROR(ctx, server, NETPROC_E_ERROR, "error", "Malformed :address");
    }
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

static void family_unknown(void) {
    netproc_context *ctx = new_context();
    netproc_arg symbol[] = {ARG(":name", STR("a")), ARG(":family", SYM("ipx")), ARG(":service", INT(80))};
    EXPECT_MAKE_ERROR(ctx, symbol, NETPROC_E_ERROR, "error", "Unknown address family");
    netproc_arg string[] = {ARG(":name", STR("a")), ARG(":family", STR("ipv4")), ARG(":service", INT(80))};
    EXPECT_MAKE_ERROR(ctx, string, NETPROC_E_ERROR, "error", "Unknown address family");
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

static void host_wrong_type(void) {
    netproc_context *ctx = new_context();
    netproc_arg number[] = {ARG(":name", STR("a")), ARG(":host", INT(5)), ARG(":service", INT(80))};
    EXPECT_MAKE_ERROR(ctx, number, NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: stringp, 5");
    netproc_arg symbol[] = {ARG(":name", STR("a")), ARG(":host", SYM("foo")), ARG(":service", INT(80))};
    EXPECT_MAKE_ERROR(ctx, symbol, NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: stringp, foo");
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

static void service_missing_or_wrong_type(void) {
    netproc_context *ctx = new_context();
    netproc_arg missing[] = {ARG(":name", STR("a")), ARG(":host", STR("127.0.0.1"))};
    EXPECT_MAKE_ERROR(ctx, missing, NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: stringp, nil");
    netproc_arg symbol[] = {ARG(":name", STR("a")), ARG(":service", SYM("foo"))};
    EXPECT_MAKE_ERROR(ctx, symbol, NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: stringp, foo");
    /* A unix socket's :service is its path: only a string will do. */
    netproc_arg local_int[] = {ARG(":name", STR("a")), ARG(":family", SYM("local")), ARG(":service", INT(5))};
    EXPECT_MAKE_ERROR(ctx, local_int, NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: stringp, 5");
    netproc_arg local_t[] = {
        ARG(":name", STR("a")), ARG(":server", netproc_t()), ARG(":family", SYM("local")), ARG(":service", netproc_t()),
    };
    EXPECT_MAKE_ERROR(ctx, local_t, NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: stringp, t");
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* A unix path of 107 bytes fits sockaddr_un (with its NUL); 108 is refused with
 * (error "Service name too long"). */
static void local_path_length_limit(void) {
    char dir[64], path[128];
    CHECK_NOT_NULL(make_temp_dir(dir, sizeof dir));
    size_t base = strlen(dir) + 1;
    CHECK(base < 107);
    snprintf(path, sizeof path, "%s/", dir);
    memset(path + base, 's', 107 - base);
    path[107] = '\0';
    CHECK_EQ(strlen(path), 107);

    netproc_context *ctx = new_context();
    netproc_arg server_args[] = {
        ARG(":name", STR("u")), ARG(":server", netproc_t()), ARG(":family", SYM("local")), ARG(":service", STR(path)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, server_args, NARGS(server_args), &server));
    CHECK_STR_EQ(netproc_process_status(server), "listen");
    netproc_arg client_args[] = {ARG(":name", STR("uc")), ARG(":family", SYM("local")), ARG(":service", STR(path))};
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, client_args, NARGS(client_args), &client));
    CHECK_STR_EQ(netproc_process_status(client), "open");
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);

    ctx = new_context();
    char longer[128];
    memcpy(longer, path, 107);
    longer[107] = 'x';
    longer[108] = '\0';
    CHECK_EQ(strlen(longer), 108);
    netproc_arg too_long_server[] = {
        ARG(":name", STR("u")), ARG(":server", netproc_t()), ARG(":family", SYM("local")), ARG(":service", STR(longer)),
    };
    EXPECT_MAKE_ERROR(ctx, too_long_server, NETPROC_E_ERROR, "error", "Service name too long");
    netproc_arg too_long_client[] = {ARG(":name", STR("u")), ARG(":family", SYM("local")), ARG(":service", STR(longer))};
    EXPECT_MAKE_ERROR(ctx, too_long_client, NETPROC_E_ERROR, "error", "Service name too long");
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    CHECK_EQ(remove_temp_dir(dir), 0);
}

static void plist_not_sequence(void) {
    netproc_context *ctx = new_context();
    netproc_arg args[] = {
        ARG(":name", STR("a")), ARG(":server", netproc_t()), ARG(":service", netproc_t()), ARG(":plist", INT(5)),
    };
    EXPECT_MAKE_ERROR(ctx, args, NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: sequencep, 5");
    netproc_arg symbol[] = {
        ARG(":name", STR("a")), ARG(":server", netproc_t()), ARG(":service", netproc_t()), ARG(":plist", SYM("x")),
    };
    EXPECT_MAKE_ERROR(ctx, symbol, NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: sequencep, x");
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

static void buffer_wrong_type(void) {
    netproc_context *ctx = new_context();
    netproc_arg args[] = {
        ARG(":name", STR("a")), ARG(":server", netproc_t()), ARG(":service", netproc_t()), ARG(":buffer", INT(5)),
    };
    EXPECT_MAKE_ERROR(ctx, args, NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: stringp, 5");
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* Emacs checks the argument first: (wrong-type-argument listp 5). */
static void tls_parameters_not_list(void) {
    netproc_context *ctx = new_context();
    netproc_arg args[] = {
        ARG(":name", STR("a")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
        ARG(":tls-parameters", INT(5)),
    };
    EXPECT_MAKE_ERROR(ctx, args, NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: listp, 5");
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* A client that asks for TLS never talks in the clear (docs/TLS.md): whether the
 * parameters are a list or a cons of the type and the plist, the first byte the server
 * gets is a TLS handshake record (22), and the client is `connect` until a handshake that
 * this silent server never answers. nil stays plain, as open-network-stream :type plain
 * passes it. */
static void tls_parameters_never_plaintext(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    netproc_value boot_items[] = {SYM(":hostname"), STR("localhost")};
    netproc_value boot[2] = {SYM("gnutls-x509pki"), netproc_list(boot_items, 2)};
    netproc_value forms[] = {netproc_cons(boot), netproc_list(boot, 1)};
    for (size_t i = 0; i < NARGS(forms); i++) {
        netproc_arg nowait[] = {ARG(":name", STR("tls")), ARG(":service", INT(port)), ARG(":nowait", netproc_t()),
                                ARG(":tls-parameters", forms[i])};
        netproc_process *tls = NULL;
        CHECK_OK(ctx, netproc_make_network_process(ctx, nowait, NARGS(nowait), &tls));
        pump_for(ctx, 100);
        CHECK_STR_EQ(netproc_process_status(tls), "connect");
        struct pollfd pending = {listener, POLLIN, 0};
        CHECK_EQ(poll(&pending, 1, 2000), 1);
        int peer = accept(listener, NULL, NULL);
        CHECK(peer >= 0);
        struct pollfd hello = {peer, POLLIN, 0};
        CHECK_EQ(poll(&hello, 1, 2000), 1);
        unsigned char first = 0;
        CHECK_EQ(read(peer, &first, 1), 1);
        CHECK_EQ(first, 22);
        close(peer);
        netproc_delete_process(tls);
        netproc_process_free(tls);
    }
    netproc_arg plain[] = {ARG(":name", STR("plain")), ARG(":service", INT(port)), ARG(":tls-parameters", netproc_nil())};
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, plain, NARGS(plain), &p));
    CHECK_STR_EQ(netproc_process_status(p), "open");
    netproc_delete_process(p);
    netproc_process_free(p);
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* Ports outside 0–65535 are refused before any connect. Emacs hands them to getaddrinfo,
 * which wraps 70000 and 99999 modulo 65536 and rejects -1; netproc rejects all three
 * (a documented difference), with the HOST/SERVICE prefix of Emacs's resolution errors. */
static void port_out_of_range(void) {
    netproc_context *ctx = new_context();
    netproc_arg big[] = {ARG(":name", STR("a")), ARG(":service", INT(70000))};
    EXPECT_MAKE_ERROR_PREFIX(ctx, big, NETPROC_E_ERROR, "error", "127.0.0.1/70000 ");
    netproc_arg negative[] = {ARG(":name", STR("a")), ARG(":service", INT(-1))};
    EXPECT_MAKE_ERROR_PREFIX(ctx, negative, NETPROC_E_ERROR, "error", "127.0.0.1/-1 ");
    netproc_arg text[] = {ARG(":name", STR("a")), ARG(":service", STR("99999"))};
    EXPECT_MAKE_ERROR_PREFIX(ctx, text, NETPROC_E_ERROR, "error", "127.0.0.1/99999 ");
    netproc_arg server[] = {ARG(":name", STR("a")), ARG(":server", netproc_t()), ARG(":service", INT(65536))};
    EXPECT_MAKE_ERROR_PREFIX(ctx, server, NETPROC_E_ERROR, "error", "127.0.0.1/65536 ");
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* A negative :server backlog: (wrong-type-argument natnump -1) in netproc. */
static void negative_backlog(void) {
    netproc_context *ctx = new_context();
    netproc_arg args[] = {ARG(":name", STR("a")), ARG(":server", INT(-1)), ARG(":service", netproc_t())};
    EXPECT_MAKE_ERROR(ctx, args, NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: natnump, -1");
    /* 0 is a natural number. */
    netproc_arg zero[] = {ARG(":name", STR("a")), ARG(":server", INT(0)), ARG(":service", netproc_t())};
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, zero, NARGS(zero), &p));
    CHECK_STR_EQ(netproc_process_status(p), "listen");
    netproc_process_free(p);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* With several bad arguments the first failing check in Emacs's order decides; each step
 * fixes one and reveals the next. */
static void checks_run_in_emacs_order(void) {
    netproc_context *ctx = new_context();
    netproc_arg args[] = {
        ARG(":type", SYM("bogus")), ARG(":server", netproc_t()), ARG(":nowait", netproc_t()),
        ARG(":name", INT(5)),       ARG(":remote", INT(5)),      ARG(":family", SYM("ipx")),
        ARG(":host", INT(7)),       ARG(":service", SYM("foo")), ARG(":plist", INT(9)),
    };
    struct {
        size_t fix; /* index of the argument to neutralise before the next step */
        int status;
        const char *symbol, *message;
    } steps[] = {
        {0, NETPROC_E_ERROR, "error", "Unsupported connection type"},
        {1, NETPROC_E_ERROR, "error", "‘:server’ is incompatible with ‘:nowait’"},
        {3, NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: stringp, 5"},
        {4, NETPROC_E_ERROR, "error", "Malformed :address"},
        {5, NETPROC_E_ERROR, "error", "Unknown address family"},
        {6, NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: stringp, 7"},
        {7, NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: stringp, foo"},
    };
    for (size_t i = 0; i < NARGS(steps); i++) {
        expect_make_error_(__LINE__, ctx, args, NARGS(args), steps[i].status, steps[i].symbol, steps[i].message,
                           false);
        /* Neutralise: an unknown keyword is ignored; :name gets a string. */
        if (steps[i].fix == 3) args[3].value = STR("a");
        else args[steps[i].fix].key = ":ignored";
    }
    /* Last, as a server with :service t and without :nowait, only the :plist error
     * remains; it is found before any socket is made. */
    args[1].key = ":server";
    args[2].key = ":ignored";
    args[7].key = ":service";
    args[7].value = netproc_t();
    expect_make_error_(__LINE__, ctx, args, NARGS(args), NETPROC_E_WRONG_TYPE, "wrong-type-argument",
                       "Wrong type argument: sequencep, 9", false);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- system errors -------------------------------------------------------------- */

/* (file-error "make client process failed" "Connection refused" . CONTACT), errno 111. */
static void connect_refused(void) {
    netproc_context *ctx = new_context();
    long long port = closed_port();
    netproc_arg args[] = {ARG(":name", STR("c")), ARG(":service", INT(port))};
    char want[128];
    snprintf(want, sizeof want, "make client process failed: Connection refused, :name, c, :service, %lld", port);
    EXPECT_MAKE_ERROR(ctx, args, NETPROC_E_FILE, "file-error", want);
    CHECK_EQ(last_error_errno(ctx), ECONNREFUSED);
    CHECK_EQ(ECONNREFUSED, 111);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* A second server on a port that is listened on: (file-error "Cannot bind server socket"
 * "Address already in use"), errno 98 — whether the holder is another netproc server
 * (both with SO_REUSEADDR, as two Emacs servers are) or a plain socket without it. */
static void bind_address_in_use(void) {
    netproc_context *ctx = new_context();
    netproc_process *first = plain_server(ctx, "srv");
    long long port = contact_int(first, ":service");
    netproc_arg args[] = {ARG(":name", STR("srv2")), ARG(":server", netproc_t()), ARG(":service", INT(port))};
    netproc_process *p = NULL;
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p), NETPROC_E_FILE, "file-error",
                "Cannot bind server socket: Address already in use");
    CHECK_EQ(last_error_errno(ctx), EADDRINUSE);
    CHECK_NULL(p);
    CHECK_EQ(process_count(ctx), 1);

    long long raw_port = 0;
    int holder = raw_listen(&raw_port);
    args[2].value = INT(raw_port);
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p), NETPROC_E_FILE, "file-error",
                "Cannot bind server socket: Address already in use");
    CHECK_EQ(last_error_errno(ctx), EADDRINUSE);
    CHECK_NULL(p);
    close(holder);

    netproc_process_free(first);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ENOENT makes the error file-missing: (file-missing "make client process failed"
 * "No such file or directory" . CONTACT). */
static void unix_client_missing_path(void) {
    char dir[64], path[96], want[256];
    CHECK_NOT_NULL(make_temp_dir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/missing", dir);
    netproc_context *ctx = new_context();
    netproc_arg args[] = {ARG(":name", STR("u")), ARG(":family", SYM("local")), ARG(":service", STR(path))};
    snprintf(want, sizeof want,
             "make client process failed: No such file or directory, :name, u, :family, local, :service, %s", path);
    EXPECT_MAKE_ERROR(ctx, args, NETPROC_E_FILE, "file-missing", want);
    CHECK_EQ(last_error_errno(ctx), ENOENT);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    CHECK_EQ(remove_temp_dir(dir), 0);
}

/* A failed lookup is plain `error` with "HOST/SERVICE GAI-MESSAGE" (Emacs here says
 * "nonexistent.invalid/80 Name or service not known"; the gai text depends on the
 * resolver, so only the prefix is checked). */
static void unresolvable_host(void) {
    netproc_context *ctx = new_context();
    netproc_arg args[] = {ARG(":name", STR("c")), ARG(":host", STR("nonexistent.invalid")), ARG(":service", INT(80))};
    EXPECT_MAKE_ERROR_PREFIX(ctx, args, NETPROC_E_ERROR, "error", "nonexistent.invalid/80 ");
    CHECK(strlen(last_error_message(ctx)) > strlen("nonexistent.invalid/80 "));
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- errors while using a process ------------------------------------------------ */

/* The message names the process by its unique name, e.g. "cli<1>". */
static void send_to_deleted_process(void) {
    netproc_context *ctx = new_context();
    netproc_process *server = plain_server(ctx, "srv");
    long long port = contact_int(server, ":service");
    netproc_process *first = plain_client(ctx, "cli", port);
    netproc_process *second = plain_client(ctx, "cli", port);
    CHECK_OK(ctx, netproc_delete_process(first));
    CHECK_OK(ctx, netproc_delete_process(second));
    CHECK_ERROR(ctx, netproc_process_send(first, (const uint8_t *)"x", 1), NETPROC_E_ERROR, "error",
                "Process cli not running");
    CHECK_ERROR(ctx, netproc_process_send(second, (const uint8_t *)"x", 1), NETPROC_E_ERROR, "error",
                "Process cli<1> not running");
    CHECK_ERROR(ctx, netproc_process_send_eof(first), NETPROC_E_ERROR, "error", "Process cli not running");
    netproc_process_free(first);
    netproc_process_free(second);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

static void send_to_server(void) {
    netproc_context *ctx = new_context();
    netproc_process *server = plain_server(ctx, "srv");
    CHECK_ERROR(ctx, netproc_process_send(server, (const uint8_t *)"x", 1), NETPROC_E_ERROR, "error",
                "Process srv not running");
    CHECK_STR_EQ(netproc_process_status(server), "listen"); /* nothing changed */
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* After process-send-eof, Emacs 28.2 drops further output silently; netproc refuses it
 * (docs/DIFFERENCES.md) so nothing is lost unseen. */
static void send_after_eof(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "srv", &rec);
    netproc_process *client = plain_client(ctx, "cli", contact_int(server, ":service"));
    CHECK_OK(ctx, netproc_process_send(client, (const uint8_t *)"before", 6));
    CHECK_OK(ctx, netproc_process_send_eof(client));
    CHECK_ERROR(ctx, netproc_process_send(client, (const uint8_t *)"after", 5), NETPROC_E_ERROR, "error",
                "Output file descriptor of cli is closed");
    /* The bytes sent before the EOF arrive, the refused ones never do. */
    char got[64];
    CHECK(PUMP_UNTIL(ctx, rec_output(&rec, NULL, got, sizeof got) == 6, 3000));
    CHECK_STR_EQ(got, "before");
    CHECK_STR_EQ(netproc_process_status(client), "open"); /* reading goes on */
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* A second process-send-eof on an open process is harmless, as in Emacs (which returns
 * the process); sends stay refused. */
static void second_send_eof_is_harmless(void) {
    netproc_context *ctx = new_context();
    netproc_process *server = plain_server(ctx, "srv");
    netproc_process *client = plain_client(ctx, "cli", contact_int(server, ":service"));
    CHECK_OK(ctx, netproc_process_send_eof(client));
    CHECK_OK(ctx, netproc_process_send_eof(client));
    CHECK_STR_EQ(netproc_process_status(client), "open");
    CHECK_ERROR(ctx, netproc_process_send(client, (const uint8_t *)"x", 1), NETPROC_E_ERROR, "error",
                "Output file descriptor of cli is closed");
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* A known option is applied (applied = true) and recorded in the contact. */
static void option_known_is_applied(void) {
    netproc_context *ctx = new_context();
    netproc_process *server = plain_server(ctx, "srv");
    netproc_process *client = plain_client(ctx, "cli", contact_int(server, ":service"));
    netproc_value on = netproc_t();
    bool applied = false;
    CHECK_OK(ctx, netproc_set_network_process_option(client, ":keepalive", &on, false, &applied));
    CHECK(applied);
    netproc_value v;
    CHECK_OK(ctx, netproc_process_contact(client, ":keepalive", false, &v));
    CHECK_EQ(v.kind, NETPROC_VALUE_T);
    netproc_value_free(&v);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* (error "Unknown or unsupported option"), or with NO-ERROR success and applied = false;
 * keys like :name count as unknown, and nothing is recorded. */
static void option_unknown(void) {
    netproc_context *ctx = new_context();
    netproc_process *server = plain_server(ctx, "srv");
    netproc_process *client = plain_client(ctx, "cli", contact_int(server, ":service"));
    netproc_value one = INT(1);
    bool applied = true;
    CHECK_ERROR(ctx, netproc_set_network_process_option(client, ":foo", &one, false, &applied), NETPROC_E_ERROR,
                "error", "Unknown or unsupported option");
    CHECK_ERROR(ctx, netproc_set_network_process_option(client, ":tcp-nodelay", &one, false, &applied), NETPROC_E_ERROR,
                "error", "Unknown or unsupported option");
    CHECK_ERROR(ctx, netproc_set_network_process_option(server, ":name", &one, false, &applied), NETPROC_E_ERROR,
                "error", "Unknown or unsupported option");
    CHECK_OK(ctx, netproc_set_network_process_option(client, ":foo", &one, true, &applied));
    CHECK(!applied);
    netproc_value v;
    CHECK_OK(ctx, netproc_process_contact(client, ":foo", false, &v));
    CHECK_EQ(v.kind, NETPROC_VALUE_NIL);
    netproc_value_free(&v);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* Without a socket, (error "Process is not running") — even for an unknown option with
 * NO-ERROR, as in Emacs. */
static void option_on_deleted_process(void) {
    netproc_context *ctx = new_context();
    netproc_process *server = plain_server(ctx, "srv");
    netproc_process *client = plain_client(ctx, "cli", contact_int(server, ":service"));
    CHECK_OK(ctx, netproc_delete_process(client));
    CHECK_OK(ctx, netproc_delete_process(server));
    netproc_value on = netproc_t();
    bool applied = true;
    CHECK_ERROR(ctx, netproc_set_network_process_option(client, ":keepalive", &on, false, &applied),
                NETPROC_E_ERROR, "error", "Process is not running");
    CHECK_ERROR(ctx, netproc_set_network_process_option(client, ":foo", &on, true, &applied), NETPROC_E_ERROR,
                "error", "Process is not running");
    CHECK_ERROR(ctx, netproc_set_network_process_option(server, ":reuseaddr", &on, false, &applied),
                NETPROC_E_ERROR, "error", "Process is not running");
    CHECK(applied);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

static void option_priority_bad_value(void) {
    netproc_context *ctx = new_context();
    netproc_process *server = plain_server(ctx, "srv");
    netproc_process *client = plain_client(ctx, "cli", contact_int(server, ":service"));
    netproc_value bad[] = {SYM("x"), STR("1"), netproc_t(), INT(1LL << 40)};
    for (size_t i = 0; i < NARGS(bad); i++)
        CHECK_ERROR(ctx, netproc_set_network_process_option(client, ":priority", &bad[i], false, NULL),
                    NETPROC_E_ERROR, "error", "Bad option value for :priority");
    netproc_value good = INT(1);
    CHECK_OK(ctx, netproc_set_network_process_option(client, ":priority", &good, false, NULL));
    /* At creation the same check applies. */
    netproc_arg args[] = {ARG(":name", STR("c2")), ARG(":service", INT(contact_int(server, ":service"))),
                          ARG(":priority", SYM("x"))};
    EXPECT_MAKE_ERROR(ctx, args, NETPROC_E_ERROR, "error", "Bad option value for :priority");
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* (file-error "Cannot set network option" "No such device" :bindtodevice "nosuchdev0");
 * without the privilege the kernel may say EPERM instead, still a file-error. */
static void option_bindtodevice_missing_interface(void) {
    netproc_context *ctx = new_context();
    netproc_process *server = plain_server(ctx, "srv");
    netproc_process *client = plain_client(ctx, "cli", contact_int(server, ":service"));
    netproc_value dev = STR("nosuchdev0");
    CHECK_ERROR_PREFIX(ctx, netproc_set_network_process_option(client, ":bindtodevice", &dev, false, NULL),
                       NETPROC_E_FILE, "file-error", "Cannot set network option: ");
    if (last_error_errno(ctx) == ENODEV)
        CHECK_STR_EQ(last_error_message(ctx), "Cannot set network option: No such device, :bindtodevice, nosuchdev0");
    else
        CHECK(last_error_errno(ctx) == EPERM || last_error_errno(ctx) == EACCES);
    /* A value of the wrong type is (error "Bad option value for :bindtodevice"). */
    netproc_value number = INT(1);
    CHECK_ERROR(ctx, netproc_set_network_process_option(client, ":bindtodevice", &number, false, NULL),
                NETPROC_E_ERROR, "error", "Bad option value for :bindtodevice");
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

int main(void) {
    static const struct test_case cases[] = {
        {"empty_args_give_null", empty_args_give_null, 5},
        {"unknown_keyword_kept_in_contact", unknown_keyword_kept_in_contact, 5},
        {"duplicate_key_first_wins", duplicate_key_first_wins, 5},
        {"type_unsupported", type_unsupported, 5},
        {"server_with_nowait", server_with_nowait, 5},
        {"name_missing_or_not_string", name_missing_or_not_string, 5},
        {"malformed_address", malformed_address, 5},
        {"family_unknown", family_unknown, 5},
        {"host_wrong_type", host_wrong_type, 5},
        {"service_missing_or_wrong_type", service_missing_or_wrong_type, 5},
        {"local_path_length_limit", local_path_length_limit, 5},
        {"plist_not_sequence", plist_not_sequence, 5},
        {"buffer_wrong_type", buffer_wrong_type, 5},
        {"tls_parameters_not_list", tls_parameters_not_list, 5},
        {"tls_parameters_never_plaintext", tls_parameters_never_plaintext, 10},
        {"port_out_of_range", port_out_of_range, 5},
        {"negative_backlog", negative_backlog, 5},
        {"checks_run_in_emacs_order", checks_run_in_emacs_order, 5},
        {"connect_refused", connect_refused, 5},
        {"bind_address_in_use", bind_address_in_use, 5},
        {"unix_client_missing_path", unix_client_missing_path, 5},
        {"unresolvable_host", unresolvable_host, 20},
        {"send_to_deleted_process", send_to_deleted_process, 5},
        {"send_to_server", send_to_server, 5},
        {"send_after_eof", send_after_eof, 10},
        {"second_send_eof_is_harmless", second_send_eof_is_harmless, 5},
        {"option_known_is_applied", option_known_is_applied, 5},
        {"option_unknown", option_unknown, 5},
        {"option_on_deleted_process", option_on_deleted_process, 5},
        {"option_priority_bad_value", option_priority_bad_value, 5},
        {"option_bindtodevice_missing_interface", option_bindtodevice_missing_interface, 5},
    };
    return run_tests(cases, NARGS(cases));
}
