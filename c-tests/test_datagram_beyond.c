/* test_datagram_beyond: netproc's own datagram features (README, "Beyond Emacs"): the
 * sender of each datagram during its filter call (netproc_datagram_sender), multicast join
 * and leave over IPv4 and IPv6, :reuseport, :v6only, and :rcvbuf/:sndbuf with the 4 MiB
 * datagram receive buffer as the default :rcvbuf replaces.
 *
 * Multicast needs an interface that carries it: the program moves itself into a network
 * namespace of its own (unshare(CLONE_NEWNET), as root, which CI is) with a veth pair,
 * v0 (10.9.0.1, fd00::1) and v1, and a 224.0.0.0/4 route on v0. Nothing outside changes;
 * without the privilege it fails saying so. */
#include "check.h"
#include "pump.h"

#include <sched.h>
#include <net/if.h>

#define WAIT_MS (3000u * check_timeout_scale_())

static int run(const char *command) {
    int rc = system(command);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

/* A namespace of our own with a veth pair; false (and why on stderr) if it cannot be made. */
static bool enter_private_network(void) {
    if (unshare(CLONE_NEWNET) != 0) {
        fprintf(stderr, "# unshare(CLONE_NEWNET): %s (this test needs root, as CI runs it)\n", strerror(errno));
        return false;
    }
    static const char *const setup[] = {
        "ip link set lo up",
        "ip link add v0 type veth peer name v1",
        "ip link set v0 up",
        "ip link set v1 up",
        "ip addr add 10.9.0.1/24 dev v0",
        "ip -6 addr add fd00::1/64 dev v0 nodad",
        "ip route add 224.0.0.0/4 dev v0",
    };
    for (size_t i = 0; i < NARGS(setup); i++)
        if (run(setup[i]) != 0) {
            fprintf(stderr, "# network namespace set-up failed at: %s (is iproute2 installed?)\n", setup[i]);
            return false;
        }
    return true;
}

/* Each datagram's sender as netproc_datagram_sender gave it inside the filter. */
struct senders {
    int count;
    netproc_value sender[8];
    char data[8][32];
};

static void record_sender(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct senders *s = ud;
    if (s->count >= 8) return;
    int i = s->count++;
    snprintf(s->data[i], sizeof s->data[i], "%.*s", (int)len, (const char *)data);
    /* The filter sends its replies elsewhere first: the sender of this datagram stays
     * what it was, where process-datagram-address now says otherwise. */
    netproc_value items[] = {INT(127), INT(0), INT(0), INT(9), INT(9)};
    netproc_value elsewhere = netproc_vector(items, 5);
    bool applied = false;
    CHECK_EQ(netproc_set_process_datagram_address(p, &elsewhere, &applied), NETPROC_OK);
    CHECK_EQ(netproc_datagram_sender(p, &s->sender[i]), NETPROC_OK);
}

static void senders_free(struct senders *s) {
    for (int i = 0; i < s->count; i++) netproc_value_free(&s->sender[i]);
}

static netproc_process *dgram(netproc_context *ctx, const char *name, netproc_arg *extra, size_t n_extra,
                              struct senders *senders, bool ipv6) {
    netproc_arg args[12] = {
        ARG(":name", STR(name)), ARG(":server", netproc_t()), ARG(":type", SYM("datagram")),
        ARG(":service", netproc_t()), ARG(":family", SYM(ipv6 ? "ipv6" : "ipv4")),
        ARG(":filter", netproc_filter(record_sender, senders)),
    };
    size_t n = 6;
    for (size_t i = 0; i < n_extra && n < NARGS(args); i++) args[n++] = extra[i];
    netproc_process *p = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, n, &p));
    return p;
}

static int udp_socket_from(int family, long long *port) {
    int fd = socket(family, SOCK_DGRAM, 0);
    CHECK(fd >= 0);
    if (family == AF_INET) {
        struct sockaddr_in a = {.sin_family = AF_INET};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        CHECK_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
        socklen_t len = sizeof a;
        CHECK_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
        *port = ntohs(a.sin_port);
    } else {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        CHECK_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
        socklen_t len = sizeof a;
        CHECK_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
        *port = ntohs(a.sin6_port);
    }
    return fd;
}

static void send_to(int fd, int family, const char *address, long long port, const char *text) {
    if (family == AF_INET) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        CHECK_EQ(inet_pton(AF_INET, address, &a.sin_addr), 1);
        CHECK_EQ(sendto(fd, text, strlen(text), 0, (struct sockaddr *)&a, sizeof a), (long long)strlen(text));
    } else {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
        CHECK_EQ(inet_pton(AF_INET6, address, &a.sin6_addr), 1);
        CHECK_EQ(sendto(fd, text, strlen(text), 0, (struct sockaddr *)&a, sizeof a), (long long)strlen(text));
    }
}

/* Two peers send; each filter call knows its own sender, even after the filter changed
 * the shared reply address; outside a filter call there is none. */
static void each_filter_call_knows_its_sender(void) {
    netproc_context *ctx = new_context();
    struct senders senders = {0};
    netproc_process *server = dgram(ctx, "srv", NULL, 0, &senders, false);
    long long port = contact_port(server, ":local");
    long long port_a = 0, port_b = 0;
    int a = udp_socket_from(AF_INET, &port_a), b = udp_socket_from(AF_INET, &port_b);
    send_to(a, AF_INET, "127.0.0.1", port, "from a");
    send_to(b, AF_INET, "127.0.0.1", port, "from b");
    CHECK(PUMP_UNTIL(ctx, senders.count == 2, WAIT_MS));
    long long want_a[] = {127, 0, 0, 1, port_a}, want_b[] = {127, 0, 0, 1, port_b};
    for (int i = 0; i < 2; i++) {
        bool is_a = strcmp(senders.data[i], "from a") == 0;
        CHECK(value_is_int_vector(&senders.sender[i], is_a ? want_a : want_b, 5));
    }
    netproc_value outside;
    CHECK_OK(ctx, netproc_datagram_sender(server, &outside));
    CHECK_EQ(outside.kind, NETPROC_VALUE_NIL);
    CHECK_ERROR(ctx, netproc_datagram_sender(server, NULL), NETPROC_E_NULL, "error",
                "netproc_datagram_sender: out is NULL");
    senders_free(&senders);
    close(a);
    close(b);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* Join a group (IPv4 or IPv6) on v0: datagrams to it arrive; after leaving, none do. */
static void multicast_case(bool ipv6) {
    netproc_context *ctx = new_context();
    struct senders senders = {0};
    const char *group = ipv6 ? "ff0e::1234" : "239.1.2.3";
    netproc_value join = netproc_cons((netproc_value[]){netproc_string(group), netproc_string("v0")});
    /* Bound to the wildcard address: a group's datagrams are not sent to 127.0.0.1. */
    netproc_arg extra[] = {ARG(":multicast-join", join), ARG(":host", STR(ipv6 ? "::" : "0.0.0.0"))};
    netproc_process *server = dgram(ctx, "mc", extra, 2, &senders, ipv6);
    long long port = contact_port(server, ":local");
    int family = ipv6 ? AF_INET6 : AF_INET;
    int out = socket(family, SOCK_DGRAM, 0);
    CHECK(out >= 0);
    if (ipv6) {
        unsigned index = if_nametoindex("v0");
        CHECK(index != 0);
        CHECK_EQ(setsockopt(out, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index), 0);
    }
    send_to(out, family, group, port, "to the group");
    CHECK(PUMP_UNTIL(ctx, senders.count == 1, WAIT_MS));
    CHECK_STR_EQ(senders.data[0], "to the group");

    bool applied = false;
    CHECK_OK(ctx, netproc_set_network_process_option(server, ":multicast-leave", &join, false, &applied));
    CHECK(applied);
    send_to(out, family, group, port, "after leaving");
    pump_for(ctx, 300);
    CHECK_EQ(senders.count, 1);
    /* Not a group, or an interface that does not exist: refused. */
    netproc_value unicast = netproc_string(ipv6 ? "fd00::1" : "10.9.0.1");
    CHECK_ERROR(ctx, netproc_set_network_process_option(server, ":multicast-join", &unicast, false, &applied),
                NETPROC_E_ERROR, "error", "Bad option value for :multicast-join");
    netproc_value nowhere = netproc_cons((netproc_value[]){netproc_string(group), netproc_string("nosuch0")});
    CHECK_ERROR(ctx, netproc_set_network_process_option(server, ":multicast-join", &nowhere, false, &applied),
                NETPROC_E_ERROR, "error", "Bad option value for :multicast-join");
    senders_free(&senders);
    close(out);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

static void multicast_ipv4_join_and_leave(void) { multicast_case(false); }
static void multicast_ipv6_join_and_leave(void) { multicast_case(true); }

/* :reuseport lets two servers share a port; without it the third bind fails. (:reuseaddr
 * nil throughout: netproc sets SO_REUSEADDR on servers by default, as Emacs does, and for
 * datagram sockets that alone would let them share.) */
static void reuseport_shares_a_port(void) {
    netproc_context *ctx = new_context();
    struct senders s1 = {0}, s2 = {0};
    netproc_arg extra[] = {ARG(":reuseport", netproc_t()), ARG(":reuseaddr", netproc_nil()),
                           ARG(":host", STR("127.0.0.1"))};
    netproc_process *first = dgram(ctx, "one", extra, 3, &s1, false);
    long long port = contact_port(first, ":local");
    netproc_arg same[] = {
        ARG(":name", STR("two")), ARG(":server", netproc_t()), ARG(":type", SYM("datagram")),
        ARG(":host", STR("127.0.0.1")), ARG(":service", INT(port)), ARG(":reuseport", netproc_t()),
        ARG(":filter", netproc_filter(record_sender, &s2)), ARG(":reuseaddr", netproc_nil()),
    };
    netproc_process *second = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, same, NARGS(same), &second));
    same[5] = ARG(":reuseport", netproc_nil());
    netproc_process *third = NULL;
    CHECK_EQ(netproc_make_network_process(ctx, same, NARGS(same), &third), NETPROC_E_FILE);
    CHECK_NULL(third);
    netproc_process_free(first);
    netproc_process_free(second);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* :v6only t: an IPv6 server bound to :: takes no IPv4; nil (Linux's default) does. */
static void v6only_case(bool only, bool want_ipv4) {
    netproc_context *ctx = new_context();
    struct senders senders = {0};
    netproc_arg args[] = {
        ARG(":name", STR("six")), ARG(":server", netproc_t()), ARG(":type", SYM("datagram")),
        ARG(":host", STR("::")), ARG(":service", netproc_t()), ARG(":family", SYM("ipv6")),
        ARG(":v6only", only ? netproc_t() : netproc_nil()), ARG(":filter", netproc_filter(record_sender, &senders)),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &server));
    long long port = contact_port(server, ":local");
    long long from = 0;
    int v4 = udp_socket_from(AF_INET, &from);
    send_to(v4, AF_INET, "127.0.0.1", port, "over ipv4");
    if (want_ipv4) {
        CHECK(PUMP_UNTIL(ctx, senders.count == 1, WAIT_MS));
    } else {
        pump_for(ctx, 300);
        CHECK_EQ(senders.count, 0);
    }
    senders_free(&senders);
    close(v4);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

static void v6only_refuses_ipv4(void) { v6only_case(true, false); }
static void v6only_nil_takes_ipv4(void) { v6only_case(false, true); }

/* The receive buffer: 4 MiB by default for datagrams (Linux reports twice what was set,
 * capped by rmem_max, which root may exceed only with SO_RCVBUFFORCE, so compare with what
 * the kernel grants a plain socket asking the same); :rcvbuf replaces it. */
static void rcvbuf_replaces_the_default(void) {
    netproc_context *ctx = new_context();
    struct senders senders = {0};
    netproc_arg small[] = {ARG(":rcvbuf", INT(65536)), ARG(":sndbuf", INT(65536))};
    netproc_process *server = dgram(ctx, "small", small, 2, &senders, false);
    netproc_value v;
    CHECK_OK(ctx, netproc_process_contact(server, ":rcvbuf", false, &v));
    CHECK(v.kind == NETPROC_VALUE_INTEGER && v.integer == 65536);
    netproc_value_free(&v);
    netproc_value bad = INT(-1);
    bool applied = false;
    CHECK_ERROR(ctx, netproc_set_network_process_option(server, ":rcvbuf", &bad, false, &applied), NETPROC_E_ERROR,
                "error", "Bad option value for :rcvbuf");
    netproc_value bigger = INT(1 << 20);
    CHECK_OK(ctx, netproc_set_network_process_option(server, ":rcvbuf", &bigger, false, &applied));
    CHECK(applied);
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

int main(void) {
    if (!enter_private_network()) {
        printf("not ok 1 - private network namespace: cannot be made (see above)\n");
        return 1;
    }
    static const struct test_case cases[] = {
        {"each_filter_call_knows_its_sender", each_filter_call_knows_its_sender, 10},
        {"multicast_ipv4_join_and_leave", multicast_ipv4_join_and_leave, 10},
        {"multicast_ipv6_join_and_leave", multicast_ipv6_join_and_leave, 10},
        {"reuseport_shares_a_port", reuseport_shares_a_port, 10},
        {"v6only_refuses_ipv4", v6only_refuses_ipv4, 10},
        {"v6only_nil_takes_ipv4", v6only_nil_takes_ipv4, 10},
        {"rcvbuf_replaces_the_default", rcvbuf_replaces_the_default, 10},
    };
    return run_tests(cases, NARGS(cases));
}
