/*
 * test_security: what a server exposes and what netproc touches (issue 7, item 6).
 *
 * - Addresses. A server given :host accepts only on that address: 127.0.0.2 (a second loopback
 *   address) refuses nothing there and everything on 127.0.0.1, and in a private network
 *   namespace with a veth pair (10.213.7.1/24 and .2/24) a server on .1 is not reachable
 *   through 127.0.0.1 or .2. A server without :host listens on loopback only, as Emacs 28.2
 *   does (Fmake_network_process defaults :host to loopback): checked here with `emacs --batch
 *   -Q`, (make-network-process :name "s" :server t :service t) has :local [127 0 0 1 PORT]
 *   (/proc/net/tcp shows it listening on 0100007F), with :family ipv6 [0 0 0 0 0 0 0 1 PORT],
 *   and a client to the host's eth0 address gets (file-error "make client process failed"
 *   "Connection refused"). So here a client connecting to any non-loopback local address (the
 *   host's own, and the veth addresses in the namespace) is refused, TCP, and a datagram sent
 *   there never reaches the filter.
 * - Unix socket files. They get the mode the umask gives (bind's 0777 & ~umask; Emacs does
 *   the same), and a symlink planted at the path by another user is not followed: the bind
 *   fails as Emacs's does, (file-error "Cannot bind server socket" "Address already in
 *   use"), and neither the symlink nor its target changes (Emacs 28.2 checked the same way).
 * - Descriptors. Every descriptor netproc opens is close-on-exec: the context's epoll and
 *   waker, servers, clients, accepted connections, datagram and unix sockets, after the
 *   resolver threads have run. Checked with fcntl() and by exec'ing this very program,
 *   which probes every descriptor number from 3 up and must find none.
 * - Host buffers. Every function that takes a buffer is given one that ends exactly at a
 *   PROT_NONE guard page: strings with explicit lengths and no NUL, NUL-terminated names
 *   whose NUL is the last readable byte, value arrays, argument arrays, out-parameters of
 *   exactly their size, a process-list array smaller than the list, and a buffer_name hook
 *   whose answer has no NUL. A read or write past any of them is a SIGSEGV.
 * - Datagram replies. A datagram server's filter answers the sender of the datagram it is
 *   given, even when datagrams from several senders were read in one turn (a reply sent
 *   to the previous sender would hand one client's data to another).
 */
#include "check.h"
#include "pump.h"

#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/un.h>

/* Where this program lives, for the close-on-exec case to exec it again. */
static char self_exe[4096];

/* Descriptors this program was started with (a test runner may pass some on): they are not
 * netproc's, so the close-on-exec case leaves them out. */
static bool inherited_at_start[1024];

static void note_inherited_fds(void) {
    for (int fd = 3; fd < 1024; fd++) inherited_at_start[fd] = fcntl(fd, F_GETFD) != -1;
}

static bool was_inherited(int fd) {
    return fd >= 0 && fd < 1024 && inherited_at_start[fd];
}

#define SKIP_ERRNO(what)                                                                  \
    do {                                                                                  \
        static char skip_reason_[160];                                                    \
        snprintf(skip_reason_, sizeof skip_reason_, "%s: %s", (what), strerror(errno));   \
        SKIP_TEST(skip_reason_);                                                          \
    } while (0)

/* ---- addresses -------------------------------------------------------------------------- */

/* Fill `ss` with `text` (an IPv4 or IPv6 literal) and `port`; returns the length. */
static socklen_t make_sockaddr(struct sockaddr_storage *ss, const char *text, long long port) {
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        return sizeof *in;
    }
    CHECK_EQ(inet_pton(AF_INET6, text, &in6->sin6_addr), 1);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    return sizeof *in6;
}

/* A plain TCP connect to text:port, bounded by a 5 s timeout: 0, or the errno. */
static int tcp_connect_errno(const char *text, long long port, int *fd_out) {
    struct sockaddr_storage ss;
    socklen_t len = make_sockaddr(&ss, text, port);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    struct timeval tv = {5, 0};
    CHECK(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0);
    int rc = connect(fd, (const struct sockaddr *)&ss, len);
    int err = rc == 0 ? 0 : errno;
    if (rc == 0 && fd_out != NULL) {
        *fd_out = fd;
    } else {
        close(fd);
    }
    return err;
}

/* connect() to text:port must be refused. */
#define CHECK_REFUSED(text, port)                                                          \
    do {                                                                                   \
        int check_err_ = tcp_connect_errno((text), (port), NULL);                          \
        if (check_err_ != ECONNREFUSED)                                                    \
            check_fail_(__FILE__, __LINE__, "connect to %s:%lld: want ECONNREFUSED, got %s", \
                        (text), (long long)(port), check_err_ ? strerror(check_err_) : "connected"); \
    } while (0)

/* connect() to text:port must work, and the netproc server must log the connection. */
static void check_accepted(netproc_context *ctx, struct recorder *rec, netproc_process *server, const char *text,
                           long long port) {
    size_t before = rec_count(rec, REC_LOG, server);
    int fd = -1;
    int err = tcp_connect_errno(text, port, &fd);
    if (err != 0) check_fail_(__FILE__, __LINE__, "connect to %s:%lld: %s", text, port, strerror(err));
    CHECK(PUMP_UNTIL(ctx, rec_count(rec, REC_LOG, server) == before + 1, scaled_ms(5000)));
    close(fd);
}

/* Whether the contact key holds exactly the address vector `want` (n integers). */
static bool contact_is(netproc_process *p, const char *key, const long long *want, size_t n) {
    netproc_value v;
    CHECK_EQ(netproc_process_contact(p, key, false, &v), NETPROC_OK);
    bool ok = value_is_int_vector(&v, want, n);
    netproc_value_free(&v);
    return ok;
}

static netproc_process *tcp_server_on(netproc_context *ctx, const char *host, const char *family,
                                      struct recorder *rec) {
    netproc_arg args[8];
    size_t n = 0;
    args[n++] = ARG(":name", STR("srv"));
    args[n++] = ARG(":server", netproc_t());
    args[n++] = ARG(":service", netproc_t());
    args[n++] = ARG(":filter", REC_FILTER_V(rec));
    args[n++] = ARG(":log", REC_LOG_V(rec));
    if (host) args[n++] = ARG(":host", STR(host));
    if (family) args[n++] = ARG(":family", SYM(family));
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, n, &server));
    return server;
}

static netproc_process *udp_server_on(netproc_context *ctx, const char *host, struct recorder *rec) {
    netproc_arg args[6];
    size_t n = 0;
    args[n++] = ARG(":name", STR("udp"));
    args[n++] = ARG(":server", netproc_t());
    args[n++] = ARG(":service", netproc_t());
    args[n++] = ARG(":type", SYM("datagram"));
    args[n++] = ARG(":filter", REC_FILTER_V(rec));
    if (host) args[n++] = ARG(":host", STR(host));
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, n, &server));
    return server;
}

/* Send `text` as one datagram to addr:port from a fresh socket. */
static void udp_send_to(const char *addr, long long port, const char *text) {
    struct sockaddr_storage ss;
    socklen_t len = make_sockaddr(&ss, addr, port);
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    CHECK_EQ(sendto(fd, text, strlen(text), 0, (const struct sockaddr *)&ss, len), (long long)strlen(text));
    close(fd);
}

/* A datagram to addr:port must not reach the server's filter; one to 127.0.0.1 (or `good`)
 * sent afterwards must, so the first had its chance to arrive. */
static void check_datagram_not_delivered(netproc_context *ctx, struct recorder *rec, const char *addr,
                                         const char *good, long long port) {
    size_t before = rec_count(rec, REC_FILTER, NULL);
    udp_send_to(addr, port, "stray");
    udp_send_to(good, port, "control");
    CHECK(PUMP_UNTIL(ctx, rec_find(rec, 0, REC_FILTER, NULL, "control") >= 0, scaled_ms(5000)));
    pump_for(ctx, 100);
    CHECK_EQ(rec_count(rec, REC_FILTER, NULL), before + 1);
    CHECK_EQ(rec_find(rec, 0, REC_FILTER, NULL, "stray"), -1);
}

/* Move this (forked, still single-threaded) case into a new network namespace holding lo
 * and a veth pair, 10.213.7.1/24 on one end and 10.213.7.2/24 on the other: two local
 * addresses that are not loopback. Skips when namespaces or `ip` are unavailable. */
static void enter_netns_with_veth(void) {
    if (unshare(CLONE_NEWNET) != 0) SKIP_ERRNO("unshare(CLONE_NEWNET)");
    int rc = system("exec >/dev/null 2>&1; ip link set lo up && "
                    "ip link add np-sec0 type veth peer name np-sec1 && "
                    "ip addr add 10.213.7.1/24 dev np-sec0 && ip addr add 10.213.7.2/24 dev np-sec1 && "
                    "ip link set np-sec0 up && ip link set np-sec1 up");
    if (rc != 0) SKIP_TEST("cannot make a veth pair in a network namespace (ip link add ... type veth)");
    /* Both addresses must be bindable before anything relies on them. */
    const char *addrs[] = {"10.213.7.1", "10.213.7.2", "127.0.0.1"};
    for (size_t i = 0; i < 3; i++) {
        struct sockaddr_storage ss;
        socklen_t len = make_sockaddr(&ss, addrs[i], 0);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0);
        if (bind(fd, (const struct sockaddr *)&ss, len) != 0) SKIP_ERRNO("binding an address in the namespace");
        close(fd);
    }
}

/* Emacs 28.2: a server without :host is bound to 127.0.0.1, as :local shows. */
static void no_host_server_binds_loopback(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = tcp_server_on(ctx, NULL, NULL, &rec);
    long long port = contact_int(server, ":service");
    long long want[5] = {127, 0, 0, 1, port};
    CHECK(contact_is(server, ":local", want, 5));
    check_accepted(ctx, &rec, server, "127.0.0.1", port);
    /* 127.0.0.1 only: not the rest of 127/8 either. */
    CHECK_REFUSED("127.0.0.2", port);
    if (can_ipv6()) CHECK_REFUSED("::1", port);
    netproc_process *udp = udp_server_on(ctx, NULL, &rec);
    long long uport = contact_int(udp, ":service");
    long long uwant[5] = {127, 0, 0, 1, uport};
    CHECK(contact_is(udp, ":local", uwant, 5));
    check_datagram_not_delivered(ctx, &rec, "127.0.0.2", "127.0.0.1", uport);
    netproc_process_free(udp);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* With :family ipv6 and no :host, Emacs binds ::1. */
static void no_host_ipv6_server_binds_loopback(void) {
    if (!can_ipv6()) SKIP_TEST("no IPv6 loopback");
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = tcp_server_on(ctx, NULL, "ipv6", &rec);
    long long port = contact_int(server, ":service");
    long long want[9] = {0, 0, 0, 0, 0, 0, 0, 1, port};
    CHECK(contact_is(server, ":local", want, 9));
    check_accepted(ctx, &rec, server, "::1", port);
    CHECK_REFUSED("127.0.0.1", port);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* Every non-loopback address this host has (eth0's here) is refused by a server without
 * :host. */
static void no_host_server_refuses_host_addresses(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = tcp_server_on(ctx, NULL, NULL, &rec);
    netproc_process *server6 = can_ipv6() ? tcp_server_on(ctx, NULL, "ipv6", &rec) : NULL;
    long long port = contact_int(server, ":service");
    long long port6 = server6 ? contact_int(server6, ":service") : 0;
    struct ifaddrs *list = NULL;
    CHECK_EQ(getifaddrs(&list), 0);
    int tried = 0;
    for (struct ifaddrs *ifa = list; ifa != NULL; ifa = ifa->ifa_next) {
        if (ifa->ifa_addr == NULL || (ifa->ifa_flags & IFF_LOOPBACK) || !(ifa->ifa_flags & IFF_UP)) continue;
        char text[INET6_ADDRSTRLEN];
        if (ifa->ifa_addr->sa_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)ifa->ifa_addr)->sin_addr, text, sizeof text);
            CHECK_REFUSED(text, port);
            tried++;
        } else if (ifa->ifa_addr->sa_family == AF_INET6 && server6 != NULL) {
            const struct in6_addr *a6 = &((struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr;
            if (IN6_IS_ADDR_LINKLOCAL(a6)) continue; /* needs a scope id; not an address to reach */
            inet_ntop(AF_INET6, a6, text, sizeof text);
            CHECK_REFUSED(text, port6);
            tried++;
        }
    }
    freeifaddrs(list);
    if (tried == 0) SKIP_TEST("this host has no non-loopback address (see the netns case)");
    check_accepted(ctx, &rec, server, "127.0.0.1", port);
    netproc_process_free(server6);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* In a namespace that surely has non-loopback addresses: a server without :host cannot be
 * reached through them, by TCP or by datagram. */
static void no_host_server_refuses_other_addresses_netns(void) {
    enter_netns_with_veth();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = tcp_server_on(ctx, NULL, NULL, &rec);
    long long port = contact_int(server, ":service");
    CHECK_REFUSED("10.213.7.1", port);
    CHECK_REFUSED("10.213.7.2", port);
    check_accepted(ctx, &rec, server, "127.0.0.1", port);
    netproc_process *udp = udp_server_on(ctx, NULL, &rec);
    long long uport = contact_int(udp, ":service");
    check_datagram_not_delivered(ctx, &rec, "10.213.7.1", "127.0.0.1", uport);
    check_datagram_not_delivered(ctx, &rec, "10.213.7.2", "127.0.0.1", uport);
    netproc_process_free(udp);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* :host 127.0.0.2: connections there are accepted, connections to 127.0.0.1 refused; and
 * the reverse for :host 127.0.0.1. Datagrams likewise. */
static void host_server_accepts_only_there(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *two = tcp_server_on(ctx, "127.0.0.2", NULL, &rec);
    long long port = contact_int(two, ":service");
    long long want[5] = {127, 0, 0, 2, port};
    CHECK(contact_is(two, ":local", want, 5));
    check_accepted(ctx, &rec, two, "127.0.0.2", port);
    CHECK_REFUSED("127.0.0.1", port);

    netproc_process *one = tcp_server_on(ctx, "127.0.0.1", NULL, &rec);
    long long port1 = contact_int(one, ":service");
    check_accepted(ctx, &rec, one, "127.0.0.1", port1);
    CHECK_REFUSED("127.0.0.2", port1);

    netproc_process *udp = udp_server_on(ctx, "127.0.0.2", &rec);
    long long uport = contact_int(udp, ":service");
    check_datagram_not_delivered(ctx, &rec, "127.0.0.1", "127.0.0.2", uport);
    netproc_process_free(udp);
    netproc_process_free(one);
    netproc_process_free(two);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* In the namespace: :host 10.213.7.1 is reachable there only. */
static void host_server_accepts_only_there_netns(void) {
    enter_netns_with_veth();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = tcp_server_on(ctx, "10.213.7.1", NULL, &rec);
    long long port = contact_int(server, ":service");
    long long want[5] = {10, 213, 7, 1, port};
    CHECK(contact_is(server, ":local", want, 5));
    check_accepted(ctx, &rec, server, "10.213.7.1", port);
    CHECK_REFUSED("127.0.0.1", port);
    CHECK_REFUSED("10.213.7.2", port);
    netproc_process *udp = udp_server_on(ctx, "10.213.7.1", &rec);
    long long uport = contact_int(udp, ":service");
    check_datagram_not_delivered(ctx, &rec, "127.0.0.1", "10.213.7.1", uport);
    check_datagram_not_delivered(ctx, &rec, "10.213.7.2", "10.213.7.1", uport);
    netproc_process_free(udp);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

/* ---- unix socket files ---------------------------------------------------------------- */

static netproc_status unix_server_at(netproc_context *ctx, const char *path, netproc_process **out) {
    netproc_arg args[] = {
        ARG(":name", STR("usrv")),   ARG(":family", SYM("local")),
        ARG(":service", STR(path)),  ARG(":server", netproc_t()),
    };
    *out = NULL;
    return netproc_make_network_process(ctx, args, NARGS(args), out);
}

/* The socket file's permission bits are 0777 & ~umask, for two umasks. */
static void unix_socket_mode_follows_umask(void) {
    char dir[64], path[128];
    CHECK_NOT_NULL(make_temp_dir(dir, sizeof dir));
    netproc_context *ctx = new_context();
    const mode_t masks[] = {022, 077, 0};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/s%zu", dir, i);
        mode_t old = umask(masks[i]);
        netproc_process *server = NULL;
        CHECK_OK(ctx, unix_server_at(ctx, path, &server));
        umask(old);
        struct stat st;
        CHECK_EQ(lstat(path, &st), 0);
        CHECK(S_ISSOCK(st.st_mode));
        CHECK_EQ(st.st_mode & 07777, 0777 & ~masks[i]);
        CHECK_EQ(st.st_uid, getuid());
        CHECK_OK(ctx, netproc_delete_process(server));
        netproc_process_free(server);
    }
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    CHECK_EQ(remove_temp_dir(dir), 0);
}

/* Another user (nobody) plants a symlink at the socket path in a sticky, world-writable
 * directory, as in /tmp. The bind must not go through it: it fails as in Emacs, and the
 * symlink, a dangling target and an existing target are all left as they were. */
static void unix_bind_does_not_follow_planted_symlink(void) {
    char dir[64], link_path[128], dangling[128], existing[128], link2[128];
    CHECK_NOT_NULL(make_temp_dir(dir, sizeof dir));
    CHECK_EQ(chmod(dir, 01777), 0);
    snprintf(link_path, sizeof link_path, "%s/srv.sock", dir);
    snprintf(dangling, sizeof dangling, "%s/victim-new", dir);
    snprintf(existing, sizeof existing, "%s/victim-file", dir);
    snprintf(link2, sizeof link2, "%s/srv2.sock", dir);
    FILE *f = fopen(existing, "w");
    CHECK_NOT_NULL(f);
    fputs("precious\n", f);
    CHECK_EQ(fclose(f), 0);
    CHECK_EQ(chmod(existing, 0600), 0);
    CHECK_EQ(symlink(dangling, link_path), 0);
    CHECK_EQ(symlink(existing, link2), 0);
    /* Owned by another user, as an attacker's would be (we are root here; skip if not). */
    if (lchown(link_path, 65534, 65534) != 0 || lchown(link2, 65534, 65534) != 0) SKIP_ERRNO("lchown to nobody");

    netproc_context *ctx = new_context();
    const char *links[] = {link_path, link2};
    for (size_t i = 0; i < 2; i++) {
        netproc_process *server = NULL;
        netproc_status rc = unix_server_at(ctx, links[i], &server);
        CHECK_ERROR(ctx, rc, NETPROC_E_FILE, "file-error", "Cannot bind server socket: Address already in use");
        CHECK_EQ(last_error_errno(ctx), EADDRINUSE);
        CHECK_NULL(server);
        struct stat st;
        CHECK_EQ(lstat(links[i], &st), 0);
        CHECK(S_ISLNK(st.st_mode));
        CHECK_EQ(st.st_uid, 65534);
    }
    char target[256];
    ssize_t n = readlink(link_path, target, sizeof target - 1);
    CHECK(n > 0);
    target[n] = '\0';
    CHECK_STR_EQ(target, dangling);
    struct stat st;
    CHECK_EQ(lstat(dangling, &st), -1);
    CHECK_EQ(errno, ENOENT);
    CHECK_EQ(lstat(existing, &st), 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK_EQ(st.st_mode & 07777, 0600);
    CHECK_EQ(st.st_size, 9);
    char content[32] = "";
    f = fopen(existing, "r");
    CHECK_NOT_NULL(f);
    CHECK_NOT_NULL(fgets(content, sizeof content, f));
    fclose(f);
    CHECK_STR_EQ(content, "precious\n");
    /* Nothing else appeared in the directory either. */
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    CHECK_EQ(remove_temp_dir(dir), 0);
}

/* ---- close-on-exec -------------------------------------------------------------------- */

/* Run as `test_security --list-inherited-fds`: print every open descriptor from 3 up,
 * found with fcntl() so that listing opens nothing itself. */
static int list_inherited_fds(void) {
    struct rlimit limit;
    rlim_t top = 65536;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < top)
        top = limit.rlim_cur;
    for (int fd = 3; fd < (int)top; fd++)
        if (fcntl(fd, F_GETFD) != -1) printf("%d\n", fd);
    return 0;
}

static void echo_back(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    rec_filter(ud, p, data, len);
    CHECK_EQ(netproc_process_send(p, data, len), NETPROC_OK);
}

static void every_descriptor_is_close_on_exec(void) {
    char dir[64], path[128];
    CHECK_NOT_NULL(make_temp_dir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/u.sock", dir);
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    /* TCP: server, client, accepted connection. */
    netproc_process *server = start_server(ctx, "tcp", &rec);
    netproc_process *client = start_client(ctx, "tcp-c", contact_int(server, ":service"), &rec);
    /* Datagrams: a server and a client that has talked to it. */
    netproc_arg uargs[] = {ARG(":name", STR("udp")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
                           ARG(":type", SYM("datagram")), ARG(":filter", netproc_filter(echo_back, &rec))};
    netproc_process *udp = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, uargs, NARGS(uargs), &udp));
    netproc_arg ucargs[] = {ARG(":name", STR("udp-c")), ARG(":type", SYM("datagram")), ARG(":host", STR("127.0.0.1")),
                            ARG(":service", INT(contact_int(udp, ":service"))), ARG(":filter", REC_FILTER_V(&rec))};
    netproc_process *udp_client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, ucargs, NARGS(ucargs), &udp_client));
    CHECK_OK(ctx, netproc_process_send(udp_client, (const uint8_t *)"ping", 4));
    /* Unix: server, client, accepted connection. */
    netproc_arg xargs[] = {ARG(":name", STR("unix")), ARG(":family", SYM("local")), ARG(":service", STR(path)),
                           ARG(":server", netproc_t()), ARG(":log", REC_LOG_V(&rec))};
    netproc_process *userver = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, xargs, NARGS(xargs), &userver));
    netproc_arg xcargs[] = {ARG(":name", STR("unix-c")), ARG(":family", SYM("local")), ARG(":service", STR(path))};
    netproc_process *uclient = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, xcargs, NARGS(xcargs), &uclient));
    /* A :nowait client puts the resolver threads to work. */
    netproc_arg nargs[] = {ARG(":name", STR("nowait")), ARG(":host", STR("localhost")),
                           ARG(":service", INT(contact_int(server, ":service"))), ARG(":nowait", netproc_t()),
                           ARG(":family", SYM("ipv4")), ARG(":sentinel", REC_SENTINEL_V(&rec))};
    netproc_process *nowait = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, nargs, NARGS(nargs), &nowait));
    CHECK(PUMP_UNTIL(ctx,
                     rec_count(&rec, REC_LOG, NULL) >= 3 && rec_find(&rec, 0, REC_FILTER, udp_client, "ping") >= 0
                         && rec_find(&rec, 0, REC_SENTINEL, nowait, "open\n") >= 0,
                     scaled_ms(5000)));
    netproc_value ifaces;
    CHECK_OK(ctx, netproc_network_interface_list(true, NULL, &ifaces));
    netproc_value_free(&ifaces);
    CHECK(netproc_backend_fd(ctx) >= 0);

    /* Every descriptor but 0, 1 and 2 is netproc's here, and each must be close-on-exec.
     * (Under valgrind, its own descriptors sit above the soft limit it reports.) */
    struct rlimit limit;
    CHECK(getrlimit(RLIMIT_NOFILE, &limit) == 0);
    int open_now = 0;
    for (int fd = 3; fd < (int)limit.rlim_cur && fd < 65536; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags == -1 || was_inherited(fd)) continue;
        open_now++;
        if (!(flags & FD_CLOEXEC)) {
            char link[64], target[256] = "?";
            snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
            ssize_t n = readlink(link, target, sizeof target - 1);
            if (n > 0) target[n] = '\0';
            check_fail_(__FILE__, __LINE__, "descriptor %d (%s) is not close-on-exec", fd, target);
        }
    }
    /* epoll + waker + 3 TCP + 2 UDP + 3 unix + the :nowait client and its accepted side. */
    CHECK(open_now >= 12);

    /* And a child that execs really inherits none of them. */
    int pipefd[2];
    CHECK_EQ(pipe2(pipefd, O_CLOEXEC), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (dup2(pipefd[1], 1) < 0) _exit(126);
        execl(self_exe, self_exe, "--list-inherited-fds", (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    char out[4096];
    size_t got = 0;
    uint64_t deadline = monotonic_ms() + scaled_ms(10000);
    while (got < sizeof out - 1 && monotonic_ms() < deadline) {
        ssize_t r = read(pipefd[0], out + got, sizeof out - 1 - got);
        if (r > 0) got += (size_t)r;
        else if (r == 0 || errno != EINTR) break;
    }
    out[got] = '\0';
    close(pipefd[0]);
    int status = 0;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* One number a line; only those this program was itself started with may appear. */
    for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        int fd = atoi(line);
        if (!was_inherited(fd)) check_fail_(__FILE__, __LINE__, "the exec'd child inherited descriptor %d", fd);
    }

    netproc_process *all[] = {nowait, uclient, userver, udp_client, udp, client, server};
    for (size_t i = 0; i < NARGS(all); i++) netproc_process_free(all[i]);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    CHECK_EQ(remove_temp_dir(dir), 0);
}

/* ---- host buffers at a guard page ------------------------------------------------------ */

struct guard_pool {
    void *maps[256];
    size_t sizes[256];
    size_t n;
};

static struct guard_pool pool;

/* `n` bytes (copied from src, or 0xAB filler) ending exactly where a PROT_NONE page begins. */
static void *guarded(const void *src, size_t n) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t data_pages = n == 0 ? 1 : (n + page - 1) / page;
    size_t total = (data_pages + 1) * page;
    uint8_t *base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(base != MAP_FAILED);
    CHECK_EQ(mprotect(base + data_pages * page, page, PROT_NONE), 0);
    CHECK(pool.n < 256);
    pool.maps[pool.n] = base;
    pool.sizes[pool.n++] = total;
    uint8_t *p = base + data_pages * page - n;
    if (src) memcpy(p, src, n);
    else memset(p, 0xab, n);
    return p;
}

static void guard_free_all(void) {
    for (size_t i = 0; i < pool.n; i++) munmap(pool.maps[i], pool.sizes[i]);
    pool.n = 0;
}

/* The text without its NUL, ending at a guard page. */
static const uint8_t *g_bytes(const char *text) {
    return guarded(text, strlen(text));
}

/* A NUL-terminated C string whose NUL is the last readable byte. */
static const char *g_cstr(const char *text) {
    return guarded(text, strlen(text) + 1);
}

static netproc_value g_string(const char *text) {
    return netproc_string_n(g_bytes(text), strlen(text));
}

static netproc_value g_symbol(const char *name) {
    netproc_value v = netproc_nil();
    v.kind = NETPROC_VALUE_SYMBOL;
    v.bytes = g_bytes(name);
    v.length = strlen(name);
    return v;
}

/* A value struct itself at the guard page (for functions taking const netproc_value *). */
static const netproc_value *g_value(netproc_value v) {
    return guarded(&v, sizeof v);
}

static netproc_value g_vector(const netproc_value *items, size_t n) {
    return netproc_vector(guarded(items, n * sizeof *items), n);
}

static netproc_value g_list(const netproc_value *items, size_t n) {
    return netproc_list(guarded(items, n * sizeof *items), n);
}

/* An out-parameter of exactly `size` bytes at the guard page. */
#define G_OUT(type) ((type *)guarded(NULL, sizeof(type)))

/* An argument array whose keys, values and the array itself all end at guard pages. */
static netproc_process *g_make(netproc_context *ctx, const netproc_arg *args, size_t n) {
    netproc_arg copy[16];
    CHECK(n <= 16);
    for (size_t i = 0; i < n; i++) {
        copy[i] = args[i];
        copy[i].key = g_cstr(args[i].key);
    }
    netproc_process **out = G_OUT(netproc_process *);
    CHECK_OK(ctx, netproc_make_network_process(ctx, guarded(copy, n * sizeof *copy), n, out));
    CHECK_NOT_NULL(*out);
    return *out;
}

/* A read one byte past a guarded buffer really faults: the cases below mean something. */
static void guard_page_faults(void) {
    const uint8_t *p = g_bytes("abc");
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* The fault is the point: keep ASan's or valgrind's report of it out of the log. */
        int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (devnull >= 0) dup2(devnull, 2);
        volatile uint8_t past = p[3];
        (void)past;
        _exit(0);
    }
    int status = 0;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 0));
    guard_free_all();
}

/* Every function that reads a host buffer, given buffers that end at a guard page. */
static void input_buffers_end_at_guard_page(void) {
    netproc_context **ctxp = G_OUT(netproc_context *);
    CHECK_EQ(netproc_context_new(ctxp), NETPROC_OK);
    netproc_context *ctx = *ctxp;
    struct recorder rec = {0};

    /* A server: name, host, family, coding and plist all guarded. */
    netproc_value plist_items[] = {g_symbol(":k"), g_string("v")};
    netproc_arg sargs[] = {
        ARG(":name", g_string("guard-srv")),   ARG(":server", netproc_t()),
        ARG(":service", netproc_t()),          ARG(":host", g_string("127.0.0.1")),
        ARG(":family", g_symbol("ipv4")),      ARG(":coding", g_symbol("binary")),
        ARG(":plist", g_list(plist_items, 2)), ARG(":filter", REC_FILTER_V(&rec)),
        ARG(":log", REC_LOG_V(&rec)),
    };
    netproc_process *server = g_make(ctx, sargs, NARGS(sargs));
    long long port = contact_int(server, ":service");

    /* A client: the service as a guarded string, a guarded :local vector, a guarded buffer
     * name, and an empty list whose items pointer is the guard page itself. */
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%lld", port);
    netproc_value local_items[] = {INT(127), INT(0), INT(0), INT(1), INT(0)};
    netproc_value empty = netproc_list((const netproc_value *)g_bytes(""), 0);
    netproc_arg cargs[] = {
        ARG(":name", g_string("guard-cli")), ARG(":host", g_string("127.0.0.1")),
        ARG(":service", g_string(port_text)), ARG(":local", g_vector(local_items, 5)),
        ARG(":buffer", g_string("guard-buffer")), ARG(":plist", empty),
        ARG(":coding", g_symbol("utf-8")),     ARG(":sentinel", REC_SENTINEL_V(&rec)),
    };
    netproc_process *client = g_make(ctx, cargs, NARGS(cargs));
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_LOG, server) == 1, scaled_ms(5000)));

    /* Sends: bytes with no NUL after them, a zero-length send whose pointer is the guard
     * page, and multibyte text. */
    uint8_t payload[3000];
    fill_pattern(payload, sizeof payload, 7, 0);
    CHECK_OK(ctx, netproc_process_send(client, guarded(payload, sizeof payload), sizeof payload));
    CHECK_OK(ctx, netproc_process_send(client, g_bytes(""), 0));
    CHECK_OK(ctx, netproc_process_send_text(client, g_bytes("h\xc3\xa9!"), 4));
    CHECK(PUMP_UNTIL(ctx, rec.filter_bytes == sizeof payload + 4, scaled_ms(5000)));
    char got[sizeof payload + 16];
    CHECK_EQ(rec_output(&rec, NULL, got, sizeof got), sizeof payload + 4);
    CHECK_MEM_EQ(got, sizeof payload, payload, sizeof payload);
    CHECK_MEM_EQ(got + sizeof payload, 4, "h\xc3\xa9!", 4); /* the client encodes utf-8 */

    /* Setters taking values, each value struct and its bytes guarded. */
    CHECK_OK(ctx, netproc_set_process_coding_system(client, g_value(g_symbol("utf-8")), g_value(g_symbol("latin-1"))));
    CHECK_OK(ctx, netproc_context_set_default_coding_system(ctx, g_value(g_symbol("utf-8-unix")), g_value(g_symbol("binary"))));
    CHECK_OK(ctx, netproc_check_coding_system(g_cstr("utf-8-dos")));
    netproc_value plist2[] = {g_symbol(":a"), INT(1), g_symbol(":b"), g_string("two")};
    CHECK_OK(ctx, netproc_set_process_plist(client, g_value(g_list(plist2, 4))));
    CHECK_OK(ctx, netproc_set_process_buffer(client, g_value(g_string("another-buffer"))));
    bool *applied = G_OUT(bool);
    CHECK_OK(ctx, netproc_set_network_process_option(client, g_cstr(":keepalive"), g_value(netproc_t()), false, applied));
    CHECK(*applied);
    /* :bindtodevice reads a guarded name; whether the system allows it does not matter here. */
    netproc_status rc = netproc_set_network_process_option(client, g_cstr(":bindtodevice"), g_value(g_string("lo")),
                                                            true, applied);
    CHECK(rc == NETPROC_OK || rc == NETPROC_E_FILE);

    /* Lookups by name. */
    netproc_value out;
    CHECK_OK(ctx, netproc_process_contact(server, g_cstr(":service"), false, &out));
    CHECK_EQ(out.integer, port);
    netproc_value_free(&out);
    CHECK_OK(ctx, netproc_process_contact(server, g_cstr("t"), false, &out));
    netproc_value_free(&out);
    netproc_process **found = G_OUT(netproc_process *);
    CHECK_OK(ctx, netproc_get_process(ctx, g_cstr("guard-srv"), found));
    CHECK(*found == server);

    /* Address and interface functions. */
    netproc_value addr_items[] = {INT(127), INT(0), INT(0), INT(1), INT(80)};
    CHECK_OK(ctx, netproc_format_network_address(g_value(g_vector(addr_items, 5)), false, &out));
    CHECK(value_is_string(&out, "127.0.0.1:80"));
    netproc_value_free(&out);
    CHECK_OK(ctx, netproc_format_network_address(g_value(g_string("a string")), false, &out));
    CHECK(value_is_string(&out, "a string"));
    netproc_value_free(&out);
    netproc_value message;
    CHECK_OK(ctx, netproc_network_lookup_address_info(g_cstr("127.0.0.1"), g_value(g_symbol("ipv4")), &out, &message));
    CHECK_EQ(out.kind, NETPROC_VALUE_LIST);
    netproc_value_free(&out);
    netproc_value_free(&message);
    CHECK_OK(ctx, netproc_network_interface_info(g_cstr("lo"), &out));
    netproc_value_free(&out);
    CHECK_OK(ctx, netproc_network_interface_list(true, g_value(g_symbol("ipv4")), &out));
    netproc_value_free(&out);
    bool *yes = G_OUT(bool);
    CHECK_OK(ctx, netproc_network_featurep(g_value(g_symbol(":keepalive")), yes));
    CHECK(*yes);
    netproc_value feature[] = {g_symbol(":family"), g_symbol("local")};
    CHECK_OK(ctx, netproc_network_featurep(g_value(g_list(feature, 2)), yes));
    CHECK(*yes);

    /* Value constructors over NUL-terminated text stop at the NUL. */
    netproc_value s = netproc_string(g_cstr("abc"));
    CHECK_EQ(s.length, 3);
    netproc_value y = netproc_symbol(g_cstr("ipv6"));
    CHECK_EQ(y.length, 4);

    /* A datagram client redirected with a guarded address vector. */
    netproc_arg dargs[] = {ARG(":name", g_string("guard-udp")), ARG(":type", g_symbol("datagram")),
                           ARG(":host", g_string("127.0.0.1")), ARG(":service", g_string(port_text))};
    netproc_process *udp = g_make(ctx, dargs, NARGS(dargs));
    netproc_value to_items[] = {INT(127), INT(0), INT(0), INT(1), INT(port)};
    CHECK_OK(ctx, netproc_set_process_datagram_address(udp, g_value(g_vector(to_items, 5)), applied));
    CHECK(*applied);

    /* A unix server and client at a path of the longest allowed length (107 bytes), given
     * with no NUL after it. */
    char dir[64], path[128];
    CHECK_NOT_NULL(make_temp_dir(dir, sizeof dir));
    int used = snprintf(path, sizeof path, "%s/", dir);
    memset(path + used, 'p', 107 - (size_t)used);
    path[107] = '\0';
    netproc_arg uargs[] = {ARG(":name", g_string("guard-unix")), ARG(":family", g_symbol("local")),
                           ARG(":service", g_string(path)), ARG(":server", netproc_t()),
                           ARG(":log", REC_LOG_V(&rec))};
    netproc_process *userver = g_make(ctx, uargs, NARGS(uargs));
    netproc_arg ucargs[] = {ARG(":name", g_string("guard-unix-c")), ARG(":family", g_symbol("local")),
                            ARG(":service", g_string(path))};
    netproc_process *uclient = g_make(ctx, ucargs, NARGS(ucargs));
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_LOG, userver) == 1, scaled_ms(5000)));
    struct stat st;
    CHECK_EQ(lstat(path, &st), 0);
    CHECK(S_ISSOCK(st.st_mode));

    netproc_process *all[] = {uclient, userver, udp, client, server};
    for (size_t i = 0; i < NARGS(all); i++) netproc_process_free(all[i]);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    CHECK_EQ(remove_temp_dir(dir), 0);
    guard_free_all();
}

/* Out-parameters of exactly their size, and a process-list array shorter than the list. */
static void output_buffers_of_exact_size(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_process *server = start_server(ctx, "out-srv", &rec);
    long long port = contact_int(server, ":service");
    netproc_process *clients[3];
    for (int i = 0; i < 3; i++) clients[i] = start_client(ctx, "out-cli", port, &rec);
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_LOG, server) == 3, scaled_ms(5000)));

    /* 7 processes (server, 3 clients, 3 accepted), room for 2; and room for none with the
     * array pointer at the guard page itself. */
    netproc_process **two = guarded(NULL, 2 * sizeof *two);
    size_t *count = G_OUT(size_t);
    CHECK_OK(ctx, netproc_process_list(ctx, two, 2, count));
    CHECK_EQ(*count, 7);
    CHECK(two[0] != NULL && two[1] != NULL);
    CHECK_OK(ctx, netproc_process_list(ctx, guarded(NULL, 0), 0, count));
    CHECK_EQ(*count, 7);

    /* Every value out-parameter. */
    netproc_process *c = clients[0];
    netproc_value *v = G_OUT(netproc_value);
    CHECK_OK(ctx, netproc_process_contact(c, "t", false, v));
    netproc_value_free(v);
    CHECK_OK(ctx, netproc_process_exit_status(c, G_OUT(netproc_value)));
    CHECK_OK(ctx, netproc_process_coding_system(c, v));
    netproc_value_free(v);
    CHECK_OK(ctx, netproc_process_buffer(c, v));
    netproc_value_free(v);
    CHECK_OK(ctx, netproc_process_filter(c, v));
    netproc_value_free(v);
    CHECK_OK(ctx, netproc_process_sentinel(c, v));
    netproc_value_free(v);
    CHECK_OK(ctx, netproc_process_plist(c, v));
    netproc_value_free(v);
    CHECK_OK(ctx, netproc_process_datagram_address(c, v));
    netproc_value_free(v);
    CHECK_OK(ctx, netproc_network_features(v));
    netproc_value_free(v);
    netproc_value *message = G_OUT(netproc_value);
    CHECK_OK(ctx, netproc_network_lookup_address_info("nonexistent.invalid", NULL, v, message));
    netproc_value_free(v);
    netproc_value_free(message);
    CHECK_OK(ctx, netproc_format_network_address(g_value(netproc_integer(1)), true, v));
    netproc_value_free(v);

    /* Scalars and pointers. */
    size_t *length = G_OUT(size_t);
    CHECK_NOT_NULL(netproc_process_name(c, length));
    CHECK_EQ(*length, strlen(netproc_process_name(c, NULL)));
    int *timeout = G_OUT(int);
    CHECK_OK(ctx, netproc_next_timeout(ctx, timeout));
    CHECK_EQ(netproc_process_send(NULL, (const uint8_t *)"x", 1), NETPROC_E_NULL);
    const char **symbol = G_OUT(const char *), **text = G_OUT(const char *);
    int *err = G_OUT(int);
    netproc_arg bad[] = {ARG(":name", STR("bad")), ARG(":service", INT(closed_port()))};
    netproc_process *none = NULL;
    CHECK(netproc_make_network_process(ctx, bad, NARGS(bad), &none) < 0);
    CHECK(netproc_last_error(ctx, symbol, text, err) < 0);
    CHECK_STR_EQ(*symbol, "file-error");
    CHECK_EQ(*err, ECONNREFUSED);
    netproc_process **found = G_OUT(netproc_process *);
    CHECK_OK(ctx, netproc_get_process(ctx, "out-srv", found));
    CHECK(*found == server);

    for (int i = 0; i < 3; i++) netproc_process_free(clients[i]);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    guard_free_all();
}

/* buffer_name answers with a name that has no NUL and ends at a guard page: the accepted
 * connection's buffer is still named from exactly those bytes. */
struct guard_hooks {
    int creates;
    char created[128];
    int server_buffer;
};

static void *guard_get_buffer_create(void *ud, const char *name, size_t length) {
    struct guard_hooks *h = ud;
    h->creates++;
    snprintf(h->created, sizeof h->created, "%.*s", (int)length, name);
    return &h->creates; /* any non-NULL host object */
}

static const char *guard_buffer_name(void *ud, void *buffer, size_t *length) {
    struct guard_hooks *h = ud;
    if (buffer != &h->server_buffer) return NULL;
    *length = strlen("SRVBUF");
    return (const char *)g_bytes("SRVBUF");
}

static void buffer_name_hook_without_nul(void) {
    netproc_context *ctx = new_context();
    struct guard_hooks h = {0};
    netproc_buffer_hooks hooks = {&h, guard_get_buffer_create, guard_buffer_name};
    CHECK_OK(ctx, netproc_context_set_buffer_hooks(ctx, guarded(&hooks, sizeof hooks)));
    struct recorder rec = {0};
    netproc_arg args[] = {ARG(":name", STR("hsrv")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
                          ARG(":buffer", netproc_pointer(&h.server_buffer)), ARG(":log", REC_LOG_V(&rec))};
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    netproc_process *client = start_client(ctx, "hcli", contact_int(server, ":service"), &rec);
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_LOG, server) == 1, scaled_ms(5000)));
    CHECK_EQ(h.creates, 1);
    CHECK(strncmp(h.created, "SRVBUF <127.0.0.1:", 18) == 0);
    netproc_process_free(client);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
    guard_free_all();
}

/* ---- datagram replies -------------------------------------------------------------------- */

/* Two senders' datagrams wait in the server's socket before one poll reads them both; the
 * filter's reply to each must go to its own sender, never to the other. */
static void datagram_reply_goes_to_its_sender(void) {
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    netproc_arg args[] = {ARG(":name", STR("udp")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
                          ARG(":type", SYM("datagram")), ARG(":filter", netproc_filter(echo_back, &rec))};
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    long long port = contact_int(server, ":service");
    struct sockaddr_storage ss;
    socklen_t len = make_sockaddr(&ss, "127.0.0.1", port);
    int fds[3];
    const char *secrets[3] = {"alice's secret", "bob's secret", "carol's secret"};
    for (int i = 0; i < 3; i++) {
        fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        CHECK(fds[i] >= 0);
        CHECK_EQ(sendto(fds[i], secrets[i], strlen(secrets[i]), 0, (const struct sockaddr *)&ss, len),
                 (long long)strlen(secrets[i]));
    }
    sleep_ms(50); /* all three are queued before netproc reads any */
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_FILTER, server) == 3, scaled_ms(5000)));
    pump_for(ctx, 50);
    for (int i = 0; i < 3; i++) {
        char buf[64];
        ssize_t n = recv(fds[i], buf, sizeof buf, MSG_DONTWAIT);
        CHECK(n >= 0);
        CHECK_MEM_EQ(buf, n, secrets[i], strlen(secrets[i]));
        CHECK_EQ(recv(fds[i], buf, sizeof buf, MSG_DONTWAIT), -1);
        close(fds[i]);
    }
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    rec_free(&rec);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--list-inherited-fds") == 0) return list_inherited_fds();
    note_inherited_fds();
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0) snprintf(self_exe, sizeof self_exe, "%s", argv[0]);
    static const struct test_case cases[] = {
        {"no_host_server_binds_loopback", no_host_server_binds_loopback, 10},
        {"no_host_ipv6_server_binds_loopback", no_host_ipv6_server_binds_loopback, 10},
        {"no_host_server_refuses_host_addresses", no_host_server_refuses_host_addresses, 20},
        {"no_host_server_refuses_other_addresses_netns", no_host_server_refuses_other_addresses_netns, 20},
        {"host_server_accepts_only_there", host_server_accepts_only_there, 10},
        {"host_server_accepts_only_there_netns", host_server_accepts_only_there_netns, 20},
        {"unix_socket_mode_follows_umask", unix_socket_mode_follows_umask, 10},
        {"unix_bind_does_not_follow_planted_symlink", unix_bind_does_not_follow_planted_symlink, 10},
        {"every_descriptor_is_close_on_exec", every_descriptor_is_close_on_exec, 20},
        {"guard_page_faults", guard_page_faults, 10},
        {"input_buffers_end_at_guard_page", input_buffers_end_at_guard_page, 20},
        {"output_buffers_of_exact_size", output_buffers_of_exact_size, 10},
        {"buffer_name_hook_without_nul", buffer_name_hook_without_nul, 10},
        {"datagram_reply_goes_to_its_sender", datagram_reply_goes_to_its_sender, 10},
    };
    return run_tests(cases, sizeof cases / sizeof cases[0]);
}
