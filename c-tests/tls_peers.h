/*
 * tls_peers.h — helpers for the C TLS tests (test_tls.c, test_tls_server.c): real TLS
 * peers nobody here wrote (openssl s_server/s_client, gnutls-serv/gnutls-cli, python3's
 * ssl module) run as child processes, the test certificates, `:tls-parameters` values
 * built by hand, and SHA-256. Include after check.h and pump.h.
 *
 * Certificates: examples/test-certs.rs writes them (tests/support/certs.rs); main() calls
 * tls_certs_setup() once, before the cases fork, and tls_certs_teardown() after. The
 * program is found at NETPROC_TEST_CERTS (environment, then the -D the Makefile passes).
 *
 * Peers: a missing tool FAILS the case with a message naming the Debian package (the CI
 * script installs them); it never skips. Every wait is bounded in time and in count.
 */
#ifndef NETPROC_TLS_PEERS_H
#define NETPROC_TLS_PEERS_H

#include <limits.h>
#include <sys/prctl.h>

/* Bounded waits; scaled like the case timeouts, so valgrind runs get the same slack. */
#define TLS_WAIT_MS (5000u * check_timeout_scale_())

/* ---- tools ---------------------------------------------------------------------- */

/* The full path of `tool` on PATH; fails the case (naming the Debian package) if absent. */
static inline const char *need_tool(const char *tool, const char *package) {
    static char found[8][PATH_MAX];
    static size_t next;
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s", path ? path : "/usr/bin:/bin");
    for (char *save = NULL, *dir = strtok_r(dirs, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save)) {
        char *slot = found[next % 8];
        snprintf(slot, PATH_MAX, "%s/%s", *dir ? dir : ".", tool);
        if (access(slot, X_OK) == 0) {
            next++;
            return slot;
        }
    }
    check_fail_(__FILE__, __LINE__, "%s is not installed (not on PATH): this test needs it as a real TLS peer; "
                "install the Debian package %s (.ci/run does)", tool, package);
}

/* ---- certificates --------------------------------------------------------------- */

#ifndef NETPROC_TEST_CERTS
#define NETPROC_TEST_CERTS "target/release/examples/test-certs"
#endif

static char tls_cert_dir_[64];
static char tls_cert_error_[512];

/* Writes the test certificates into a fresh directory (before the cases fork). A failure
 * is kept and reported by every case (tls_cert). */
static inline void tls_certs_setup(void) {
    const char *program = getenv("NETPROC_TEST_CERTS");
    if (program == NULL || *program == '\0') program = NETPROC_TEST_CERTS;
    if (access(program, X_OK) != 0) {
        snprintf(tls_cert_error_, sizeof tls_cert_error_,
                 "%s: %s (build it with `cargo build --release --example test-certs`; make c-tests does)",
                 program, strerror(errno));
        return;
    }
    if (make_temp_dir(tls_cert_dir_, sizeof tls_cert_dir_) == NULL) {
        snprintf(tls_cert_error_, sizeof tls_cert_error_, "mkdtemp: %s", strerror(errno));
        return;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        execl(program, program, tls_cert_dir_, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        snprintf(tls_cert_error_, sizeof tls_cert_error_, "%s %s failed (wait status %d)", program, tls_cert_dir_,
                 status);
}

static inline void tls_certs_teardown(void) {
    if (tls_cert_dir_[0] != '\0') remove_temp_dir(tls_cert_dir_);
}

/* The path of certificate file `name` ("ca.pem", "server.key", …). Fails the case if the
 * certificates could not be made. Each call returns a new slot of a small ring. */
static inline const char *tls_cert(const char *name) {
    static char paths[16][PATH_MAX];
    static size_t next;
    if (tls_cert_error_[0] != '\0') check_fail_(__FILE__, __LINE__, "no test certificates: %s", tls_cert_error_);
    char *slot = paths[next++ % 16];
    snprintf(slot, PATH_MAX, "%s/%s", tls_cert_dir_, name);
    return slot;
}

/* The whole of a certificate file, malloc'ed and NUL-terminated. */
static inline char *tls_cert_text(const char *name) {
    FILE *f = fopen(tls_cert(name), "rb");
    CHECK_NOT_NULL(f);
    char *text = (char *)malloc(65536);
    CHECK_NOT_NULL(text);
    size_t n = fread(text, 1, 65535, f);
    CHECK(n > 0 && n < 65535);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* ---- :tls-parameters values ----------------------------------------------------- */

/* (gnutls-x509pki KEY VALUE ...), built in place: the value points into the struct, so keep
 * it where it is until the create call has returned. */
struct tls_params {
    netproc_value items[32];
    size_t n;
    netproc_value lists[8][8];
    size_t nlists;
    char *owned[4];
    size_t nowned;
};

static inline void tp_init(struct tls_params *tp) {
    memset(tp, 0, sizeof *tp);
    tp->items[tp->n++] = SYM("gnutls-x509pki");
}

static inline void tp_put(struct tls_params *tp, const char *key, netproc_value value) {
    CHECK(tp->n + 2 <= sizeof tp->items / sizeof tp->items[0]);
    tp->items[tp->n++] = SYM(key);
    tp->items[tp->n++] = value;
}

static inline netproc_value *tp_list_(struct tls_params *tp) {
    CHECK(tp->nlists < 8);
    return tp->lists[tp->nlists++];
}

/* :trustfiles (DIR/NAME) */
static inline void tp_trust(struct tls_params *tp, const char *name) {
    netproc_value *list = tp_list_(tp);
    list[0] = STR(tls_cert(name));
    tp_put(tp, ":trustfiles", netproc_list(list, 1));
}

/* :keylist ((DIR/KEY DIR/CERT)) */
static inline void tp_keylist(struct tls_params *tp, const char *key, const char *cert) {
    netproc_value *pair = tp_list_(tp), *outer = tp_list_(tp);
    pair[0] = STR(tls_cert(key));
    pair[1] = STR(tls_cert(cert));
    outer[0] = netproc_list(pair, 2);
    tp_put(tp, ":keylist", netproc_list(outer, 1));
}

/* :key-pem TEXT :cert-pem TEXT, the files' contents. */
static inline void tp_pem_identity(struct tls_params *tp, const char *key, const char *cert) {
    CHECK(tp->nowned + 2 <= 4);
    char *key_text = tls_cert_text(key), *cert_text = tls_cert_text(cert);
    tp->owned[tp->nowned++] = key_text;
    tp->owned[tp->nowned++] = cert_text;
    tp_put(tp, ":key-pem", STR(key_text));
    tp_put(tp, ":cert-pem", STR(cert_text));
}

/* :alpn ("h2" "http/1.1") and the like. */
static inline void tp_alpn(struct tls_params *tp, const char *first, const char *second) {
    netproc_value *list = tp_list_(tp);
    size_t n = 0;
    list[n++] = STR(first);
    if (second) list[n++] = STR(second);
    tp_put(tp, ":alpn", netproc_list(list, n));
}

static inline netproc_value tp_value(struct tls_params *tp) {
    return netproc_list(tp->items, tp->n);
}

static inline void tp_free(struct tls_params *tp) {
    for (size_t i = 0; i < tp->nowned; i++) free(tp->owned[i]);
    tp->nowned = 0;
}

/* ---- contacts -------------------------------------------------------------------- */

/* The STRING value of contact key `key` (e.g. ":tls-protocol") into buf; "<absent>" when
 * it is NIL, "<not a string>" otherwise. Returns buf. */
static inline const char *contact_text(netproc_process *p, const char *key, char *buf, size_t cap) {
    netproc_value v;
    CHECK_EQ(netproc_process_contact(p, key, false, &v), NETPROC_OK);
    if (v.kind == NETPROC_VALUE_STRING) snprintf(buf, cap, "%.*s", (int)v.length, (const char *)v.bytes);
    else snprintf(buf, cap, "%s", v.kind == NETPROC_VALUE_NIL ? "<absent>" : "<not a string>");
    netproc_value_free(&v);
    return buf;
}

/* process-exit-status as text: a STRING's bytes, an INTEGER's digits. */
static inline const char *exit_status_text(netproc_process *p, char *buf, size_t cap) {
    netproc_value v;
    CHECK_EQ(netproc_process_exit_status(p, &v), NETPROC_OK);
    if (v.kind == NETPROC_VALUE_STRING) snprintf(buf, cap, "%.*s", (int)v.length, (const char *)v.bytes);
    else if (v.kind == NETPROC_VALUE_INTEGER) snprintf(buf, cap, "%lld", (long long)v.integer);
    else snprintf(buf, cap, "<kind %u>", (unsigned)v.kind);
    netproc_value_free(&v);
    return buf;
}

/* ---- peers: child processes ------------------------------------------------------ */

/* A peer program: its stdin (a pipe we write), its stdout and stderr (one pipe we read,
 * kept in `out`, NUL-terminated, at most 1 MiB). */
struct peer_proc {
    pid_t pid;
    int in, out;
    char *buf;
    size_t len, cap;
    bool exited;
    int status;
    const char *what; /* argv[0]'s name, for messages */
};

/* Starts argv (argv[0] a full path) with pipes for stdin and for stdout+stderr. The child
 * dies with the case (PR_SET_PDEATHSIG), so a failed CHECK or a timeout leaves no peer. */
static inline void peer_start(struct peer_proc *p, char *const argv[]) {
    int in[2], out[2];
    memset(p, 0, sizeof *p);
    p->what = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    CHECK_EQ(pipe2(in, O_CLOEXEC), 0);
    CHECK_EQ(pipe2(out, O_CLOEXEC), 0);
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    p->pid = fork();
    CHECK(p->pid >= 0);
    if (p->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(126);
        signal(SIGPIPE, SIG_DFL);
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(out[1], 2);
        execv(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    p->in = in[1];
    p->out = out[0];
    CHECK_EQ(fcntl(p->out, F_SETFL, O_NONBLOCK), 0);
    p->cap = 4096;
    p->buf = (char *)calloc(p->cap, 1);
    CHECK_NOT_NULL(p->buf);
}

/* Reads what the peer printed so far; notes its exit. Returns whether it printed anything. */
static inline bool peer_drain(struct peer_proc *p) {
    bool got = false;
    for (int rounds = 0; p->out >= 0 && rounds < 64; rounds++) {
        char chunk[4096];
        ssize_t n = read(p->out, chunk, sizeof chunk);
        if (n <= 0) {
            if (n == 0) {
                close(p->out);
                p->out = -1;
            }
            break;
        }
        got = true;
        if (p->len + (size_t)n + 1 > p->cap && p->cap < (1u << 20)) {
            size_t cap = p->cap;
            while (cap < p->len + (size_t)n + 1 && cap < (1u << 20)) cap *= 2;
            p->buf = (char *)realloc(p->buf, cap);
            CHECK_NOT_NULL(p->buf);
            p->cap = cap;
        }
        size_t room = p->cap - 1 - p->len;
        size_t take = (size_t)n < room ? (size_t)n : room;
        /* NULs would hide what follows from strstr: show them as '.'. */
        for (size_t i = 0; i < take; i++) p->buf[p->len + i] = chunk[i] ? chunk[i] : '.';
        p->len += take;
        p->buf[p->len] = '\0';
    }
    if (!p->exited && p->pid > 0 && waitpid(p->pid, &p->status, WNOHANG) == p->pid) p->exited = true;
    return got;
}

/* One step of waiting: netproc_poll(ctx) if there is a context, else a short sleep. */
static inline void peer_step_(netproc_context *ctx, struct peer_proc *p) {
    if (ctx != NULL) {
        CHECK(netproc_poll(ctx, 5) >= 0);
    } else {
        struct pollfd pfd = {p->out, POLLIN, 0};
        poll(&pfd, p->out >= 0 ? 1 : 0, 5);
    }
}

__attribute__((noreturn)) static inline void peer_fail_(const char *file, int line, const struct peer_proc *p,
                                                         const char *why) {
    fprintf(stderr, "%s:%d: %s; %s printed (%zu bytes):\n-----\n%s\n-----\n", file, line, why, p->what, p->len,
            p->buf ? p->buf : "");
    check_fail_(file, line, "%s", why);
}

/* Waits (pumping ctx, which may be NULL) until the peer's output contains `text`; fails the
 * case, showing the output, after max_ms or if the peer exits without printing it. */
#define PEER_EXPECT(ctx, p, text, max_ms) peer_expect_(__FILE__, __LINE__, (ctx), (p), (text), (max_ms))

static inline void peer_expect_(const char *file, int line, netproc_context *ctx, struct peer_proc *p,
                                const char *text, uint64_t max_ms) {
    uint64_t deadline = monotonic_ms() + max_ms;
    char why[256];
    for (unsigned i = 0; i < 100000; i++) {
        peer_drain(p);
        if (strstr(p->buf, text) != NULL) return;
        if (p->exited && p->out < 0) break;
        if (monotonic_ms() >= deadline) break;
        peer_step_(ctx, p);
    }
    snprintf(why, sizeof why, "%s did not print \"%s\" within %llu ms%s", p->what, text,
             (unsigned long long)max_ms, p->exited ? " (it exited)" : "");
    peer_fail_(file, line, p, why);
}

/* Waits (pumping ctx) until the peer exits; returns whether it did within max_ms. */
static inline bool peer_wait_exit(netproc_context *ctx, struct peer_proc *p, uint64_t max_ms) {
    uint64_t deadline = monotonic_ms() + max_ms;
    for (unsigned i = 0; i < 100000 && !p->exited && monotonic_ms() < deadline; i++) {
        peer_drain(p);
        if (!p->exited) peer_step_(ctx, p);
    }
    peer_drain(p);
    return p->exited;
}

/* Writes all of `text` to the peer's stdin. */
static inline void peer_write(struct peer_proc *p, const char *text) {
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t n = write(p->in, text + done, len - done);
        CHECK(n > 0);
        done += (size_t)n;
    }
}

/* Ends the peer: SIGTERM, a bounded wait, then SIGKILL; closes the pipes. */
static inline void peer_stop(struct peer_proc *p) {
    if (p->pid <= 0) return;
    if (p->in >= 0) close(p->in);
    p->in = -1;
    if (!p->exited) {
        kill(p->pid, SIGTERM);
        uint64_t deadline = monotonic_ms() + 2000;
        while (waitpid(p->pid, &p->status, WNOHANG) != p->pid) {
            if (monotonic_ms() > deadline) {
                kill(p->pid, SIGKILL);
                waitpid(p->pid, &p->status, 0);
                break;
            }
            sleep_ms(2);
        }
        p->exited = true;
    }
    if (p->out >= 0) close(p->out);
    p->out = -1;
    free(p->buf);
    p->buf = NULL;
    p->pid = 0;
}

/* Fails the case, showing the peer's output, unless `cond` holds. */
#define PEER_CHECK(p, cond)                                                                  \
    do {                                                                                     \
        if (!(cond)) peer_fail_(__FILE__, __LINE__, (p), "PEER_CHECK(" #cond ") failed");    \
    } while (0)

/* ---- openssl s_server ------------------------------------------------------------------ */

/* openssl s_server on 127.0.0.1 with a port the kernel picks (it prints "ACCEPT
 * 127.0.0.1:PORT"), serving DIR/cert and DIR/key, plus `extra` options (NULL-terminated).
 * Returns the port. */
static inline long long start_s_server(struct peer_proc *p, const char *cert, const char *key,
                                       const char *const *extra) {
    char *argv[32];
    size_t n = 0;
    argv[n++] = (char *)need_tool("openssl", "openssl");
    argv[n++] = (char *)"s_server";
    argv[n++] = (char *)"-accept";
    argv[n++] = (char *)"127.0.0.1:0";
    argv[n++] = (char *)"-cert";
    argv[n++] = (char *)tls_cert(cert);
    argv[n++] = (char *)"-key";
    argv[n++] = (char *)tls_cert(key);
    for (; extra != NULL && *extra != NULL && n < 31; extra++) argv[n++] = (char *)*extra;
    argv[n] = NULL;
    peer_start(p, argv);
    PEER_EXPECT(NULL, p, "ACCEPT 127.0.0.1:", TLS_WAIT_MS);
    /* The whole line, so that the port is complete. */
    const char *at = strstr(p->buf, "ACCEPT 127.0.0.1:");
    for (unsigned i = 0; i < 1000 && strchr(at, '\n') == NULL; i++) {
        peer_step_(NULL, p);
        peer_drain(p);
        at = strstr(p->buf, "ACCEPT 127.0.0.1:");
    }
    long long port = strtoll(at + strlen("ACCEPT 127.0.0.1:"), NULL, 10);
    PEER_CHECK(p, port > 0 && port < 65536);
    return port;
}

/* ---- ports -------------------------------------------------------------------------- */

/* A port nothing listens on now, on 127.0.0.1 and (if there is IPv6) on ::1, for servers
 * that cannot tell which port the kernel gave them (gnutls-serv). */
static inline long long free_port(void) {
    for (int attempt = 0; attempt < 32; attempt++) {
        long long port = closed_port();
        if (!can_ipv6()) return port;
        int fd = socket(AF_INET6, SOCK_STREAM, 0);
        CHECK(fd >= 0);
        struct sockaddr_in6 a;
        memset(&a, 0, sizeof a);
        a.sin6_family = AF_INET6;
        a.sin6_port = htons((uint16_t)port);
        int one = 1;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        bool free6 = bind(fd, (const struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (free6) return port;
    }
    check_fail_(__FILE__, __LINE__, "no port free on both 127.0.0.1 and ::");
}

/* ---- clients -------------------------------------------------------------------------- */

/* make-network-process to 127.0.0.1:port with `tls` as :tls-parameters, recording into
 * rec; returns the create call's status (*out is the process or NULL). */
static inline int tls_client(netproc_context *ctx, const char *name, long long port, bool nowait, netproc_value tls,
                             struct recorder *rec, netproc_process **out) {
    netproc_arg args[] = {
        ARG(":name", STR(name)),
        ARG(":host", STR("127.0.0.1")),
        ARG(":service", INT(port)),
        ARG(":nowait", nowait ? netproc_t() : netproc_nil()),
        ARG(":filter", REC_FILTER_V(rec)),
        ARG(":sentinel", REC_SENTINEL_V(rec)),
        ARG(":tls-parameters", tls),
    };
    *out = NULL;
    return netproc_make_network_process(ctx, args, NARGS(args), out);
}

/* The usual parameters: trust ca.pem, check the name "localhost". */
static inline void tp_trusting(struct tls_params *tp, const char *ca) {
    tp_init(tp);
    tp_trust(tp, ca);
    tp_put(tp, ":hostname", STR("localhost"));
}

/* EXPECT_FAILED(ctx, c, rec, message, prefix): the client's sentinels are exactly one
 * "failed with code MESSAGE\n"; its status is failed, its exit status the message, and no
 * filter ran. With `prefix`, only the message's start is compared. */
#define EXPECT_FAILED(ctx, c, rec, message, prefix) \
    expect_failed_(__FILE__, __LINE__, (ctx), (c), (rec), (message), (prefix))

static inline void expect_failed_(const char *file, int line, netproc_context *ctx, netproc_process *c,
                                  struct recorder *rec, const char *message, bool prefix) {
    if (!PUMP_UNTIL(ctx, rec_count(rec, REC_SENTINEL, c) > 0, TLS_WAIT_MS))
        check_fail_(file, line, "EXPECT_FAILED: no sentinel within %u ms (status %s)", TLS_WAIT_MS,
                    netproc_process_status(c));
    pump_for(ctx, 100);
    char seen[1024], want[1024], status[1024];
    sentinels_of(rec, c, seen, sizeof seen);
    snprintf(want, sizeof want, "failed with code %s%s", message, prefix ? "" : "\n");
    bool one = rec_count(rec, REC_SENTINEL, c) == 1;
    if (!one || (prefix ? strncmp(seen, want, strlen(want)) != 0 : strcmp(seen, want) != 0))
        check_fail_(file, line, "EXPECT_FAILED: sentinels \"%s\", want one %s\"%s\"", seen,
                    prefix ? "starting with " : "", want);
    const char *st = netproc_process_status(c);
    if (st == NULL || strcmp(st, "failed") != 0 || netproc_process_live_p(c))
        check_fail_(file, line, "EXPECT_FAILED: status %s, want failed", st ? st : "NULL");
    exit_status_text(c, status, sizeof status);
    if (prefix ? strncmp(status, message, strlen(message)) != 0 : strcmp(status, message) != 0)
        check_fail_(file, line, "EXPECT_FAILED: exit status \"%s\", want %s\"%s\"", status,
                    prefix ? "one starting with " : "", message);
    if (rec_count(rec, REC_FILTER, c) != 0) check_fail_(file, line, "EXPECT_FAILED: a filter ran");
}


/* Deletes the client (a listed one, failed ones included, gets "deleted\n", as Emacs's
 * delete-process gives every network process), frees everything and checks that no
 * descriptor and no listed process is left. */
static inline void finish_client(netproc_context *ctx, netproc_process *c, struct recorder *rec,
                                 struct peer_proc *peer, int fds) {
    if (c != NULL) {
        bool listed = in_process_list(ctx, c);
        size_t before = rec_count(rec, REC_SENTINEL, c);
        CHECK_OK(ctx, netproc_delete_process(c));
        CHECK_EQ(rec_count(rec, REC_SENTINEL, c), before + (listed ? 1 : 0));
        if (listed) CHECK_STR_EQ(rec->events[rec->count - 1].data, "deleted\n");
        netproc_process_free(c);
    }
    if (peer != NULL) peer_stop(peer);
    CHECK_NO_LEAK(ctx, fds);
    if (rec != NULL) rec_free(rec);
}

/* ---- SHA-256 (FIPS 180-4), for the bulk transfers ------------------------------------ */

struct sha256 {
    uint32_t h[8];
    uint8_t block[64];
    size_t fill;
    uint64_t bytes;
};

static inline void sha256_init(struct sha256 *s) {
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->fill = 0;
    s->bytes = 0;
}

#define SHA256_ROR_(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

#if defined(__GNUC__) && !defined(__clang__)
/* The C tests build without optimisation; 128 MiB hashed at -O0 would dominate the case. */
__attribute__((optimize("O2")))
#endif
static inline void sha256_block_(uint32_t h[8], const uint8_t *p) {
    static const uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
    uint32_t w[64], a, b, c, d, e, f, g, hh;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = SHA256_ROR_(w[i - 15], 7) ^ SHA256_ROR_(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = SHA256_ROR_(w[i - 2], 17) ^ SHA256_ROR_(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (SHA256_ROR_(e, 6) ^ SHA256_ROR_(e, 11) ^ SHA256_ROR_(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
        uint32_t t2 = (SHA256_ROR_(a, 2) ^ SHA256_ROR_(a, 13) ^ SHA256_ROR_(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

static inline void sha256_update(struct sha256 *s, const void *data, size_t n) {
    const uint8_t *p = (const uint8_t *)data;
    s->bytes += n;
    if (s->fill > 0) {
        size_t take = 64 - s->fill < n ? 64 - s->fill : n;
        memcpy(s->block + s->fill, p, take);
        s->fill += take, p += take, n -= take;
        if (s->fill < 64) return;
        sha256_block_(s->h, s->block);
        s->fill = 0;
    }
    for (; n >= 64; p += 64, n -= 64) sha256_block_(s->h, p);
    memcpy(s->block, p, n);
    s->fill = n;
}

/* The digest as 64 lowercase hex digits into hex[65]. */
static inline void sha256_hex(struct sha256 *s, char hex[65]) {
    uint64_t bits = s->bytes * 8;
    uint8_t pad[72] = {0x80};
    size_t padlen = (s->fill < 56 ? 56 : 120) - s->fill;
    for (int i = 0; i < 8; i++) pad[padlen + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
    uint64_t keep = s->bytes;
    sha256_update(s, pad, padlen + 8);
    s->bytes = keep;
    for (int i = 0; i < 8; i++) snprintf(hex + 8 * i, 9, "%08x", s->h[i]);
}

#endif /* NETPROC_TLS_PEERS_H */
