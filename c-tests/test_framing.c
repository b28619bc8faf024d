/*
 * test_framing.c — `:framing` (issue 15, item 4; a netproc extension, docs/DIFFERENCES.md):
 * a python3 server sends LSP-framed messages (headers in every order, Content-Type, a log
 * line before the first header, pieces from 1 byte to 64 KiB, a 3.5 MB message) and the
 * filter gets each whole, once, in order; a message over :framing-max fails the process
 * with its sentinel and the peer sees the close; the keyword through
 * netproc_set_network_process_option and netproc_network_featurep.
 */
#include "check.h"
#include "pump.h"
#include "tls_peers.h"

/* How many small messages the peer sends before the big one, and the big one's size. */
#define SMALL_MESSAGES 2000
#define BIG_MESSAGE 3670016 /* 3.5 MiB */

/* A python3 LSP server on 127.0.0.1: prints "port N", accepts one client, sends the
 * messages of MODE, prints "sent", then reads until the client closes and prints "closed".
 * MODE "lsp": a log line, SMALL_MESSAGES bodies `{"jsonrpc":"2.0","id":I,"params":"éxxx"}`
 * (I*7919 % 400 x's), then one of BIG_MESSAGE bytes, in pieces of random sizes (seeded).
 * MODE "huge": an 8-byte message, one of 101 bytes, then one of 2. */
static const char python_server[] =
    "import random, socket, sys\n"
    "mode, small, big = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])\n"
    "srv = socket.socket()\n"
    "srv.bind(('127.0.0.1', 0))\n"
    "srv.listen(1)\n"
    "print('port', srv.getsockname()[1], flush=True)\n"
    "srv.settimeout(60)\n"
    "c, _ = srv.accept()\n"
    "c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)\n"
    "def frame(i, body):\n"
    "    k = i % 3\n"
    "    if k == 0:\n"
    "        h = b'Content-Length: %d\\r\\n\\r\\n' % len(body)\n"
    "    elif k == 1:\n"
    "        h = b'Content-Type: application/vscode-jsonrpc; charset=utf-8\\r\\nContent-Length: %d\\r\\n\\r\\n' % len(body)\n"
    "    else:\n"
    "        h = b'content-length:%d\\r\\nContent-Type: application/json\\r\\n\\r\\n' % len(body)\n"
    "    return h + body\n"
    "if mode == 'lsp':\n"
    "    out = bytearray(b'Server starting...\\n')\n"
    "    for i in range(small):\n"
    "        pad = 'x' * (i * 7919 % 400)\n"
    "        out += frame(i, ('{\"jsonrpc\":\"2.0\",\"id\":%d,\"params\":\"\\u00e9%s\"}' % (i, pad)).encode())\n"
    "    out += frame(small, b'{\"big\":\"' + b'y' * (big - 10) + b'\"}')\n"
    "    rng, at = random.Random(15), 0\n"
    "    while at < len(out):\n"
    "        n = rng.choice((1, 2, 3, 7, 64, 1500, 65536))\n"
    "        c.sendall(out[at:at + n])\n"
    "        at += n\n"
    "else:\n"
    "    c.sendall(frame(0, b'{\"ok\":1}') + frame(1, b'x' * 101) + frame(2, b'{}'))\n"
    "print('sent', flush=True)\n"
    "try:\n"
    "    while c.recv(65536):\n"
    "        pass\n"
    "except OSError:\n"
    "    pass\n"
    "print('closed', flush=True)\n";

static void start_python(struct peer_proc *peer, const char *mode) {
    char small[16], big[16];
    snprintf(small, sizeof small, "%d", SMALL_MESSAGES);
    snprintf(big, sizeof big, "%d", BIG_MESSAGE);
    char *argv[] = {(char *)need_tool("python3", "python3"), (char *)"-c", (char *)python_server, (char *)mode,
                    small, big, NULL};
    peer_start(peer, argv);
}

/* The port the python server printed. */
static long long python_port(struct peer_proc *peer) {
    PEER_EXPECT(NULL, peer, "\n", scaled_ms(10000));
    const char *line = strstr(peer->buf, "port ");
    CHECK_NOT_NULL(line);
    return strtoll(line + 5, NULL, 10);
}

static netproc_process *framed_client(netproc_context *ctx, struct recorder *rec, long long port, long long max) {
    netproc_arg args[] = {
        ARG(":name", STR("lsp")),
        ARG(":service", INT(port)),
        ARG(":coding", SYM("utf-8")),
        ARG(":framing", SYM("content-length")),
        ARG(":framing-max", max >= 0 ? INT(max) : netproc_nil()),
        ARG(":filter", REC_FILTER_V(rec)),
        ARG(":sentinel", REC_SENTINEL_V(rec)),
    };
    netproc_process *client = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, NARGS(args), &client));
    return client;
}

/* Every message whole, once, in order, the 3.5 MB one in one filter call; the log line
 * before the first header is skipped. */
static void lsp_messages_arrive_whole(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct peer_proc peer;
    start_python(&peer, "lsp");
    netproc_process *client = framed_client(ctx, &rec, python_port(&peer), -1);
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_FILTER, client) >= SMALL_MESSAGES + 1, scaled_ms(30000)));
    pump_for(ctx, 50);
    CHECK_EQ(rec_count(&rec, REC_FILTER, client), SMALL_MESSAGES + 1);
    char expected[512];
    size_t index = 0;
    for (size_t i = 0; i < rec.count; i++) {
        const struct rec_event *e = &rec.events[i];
        if (e->kind != REC_FILTER) continue;
        if (index < SMALL_MESSAGES) {
            char pad[400];
            size_t pads = (size_t)((index * 7919) % 400);
            memset(pad, 'x', pads);
            int n = snprintf(expected, sizeof expected, "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"params\":\"\xc3\xa9%.*s\"}",
                             index, (int)pads, pad);
            CHECK_MEM_EQ(e->data, e->length, expected, (size_t)n);
        } else {
            CHECK_EQ(e->length, BIG_MESSAGE);
            CHECK(memcmp(e->data, "{\"big\":\"yyy", 11) == 0);
            CHECK(memcmp(e->data + BIG_MESSAGE - 4, "yy\"}", 4) == 0);
            for (size_t k = 8; k < BIG_MESSAGE - 2; k++)
                if (e->data[k] != 'y') check_fail_(__FILE__, __LINE__, "byte %zu of the big message is %d", k, e->data[k]);
        }
        index++;
    }
    CHECK_STR_EQ(netproc_process_status(client), "open");
    CHECK_OK(ctx, netproc_delete_process(client));
    PEER_EXPECT(ctx, &peer, "closed", scaled_ms(10000));
    peer_stop(&peer);
    netproc_process_free(client);
    rec_free(&rec);
    CHECK_NO_LEAK(ctx, baseline);
}

/* A message over :framing-max: the one before it is delivered, then the process fails with
 * its sentinel, nothing after it is delivered, and the peer sees the connection closed. */
static void message_over_maximum_fails_the_process(void) {
    int baseline = fd_baseline();
    netproc_context *ctx = new_context();
    struct recorder rec = {0};
    struct peer_proc peer;
    start_python(&peer, "huge");
    netproc_process *client = framed_client(ctx, &rec, python_port(&peer), 100);
    CHECK(PUMP_UNTIL(ctx, rec_count(&rec, REC_SENTINEL, client) >= 1, scaled_ms(10000)));
    PEER_EXPECT(ctx, &peer, "closed", scaled_ms(10000));
    CHECK_EQ(rec_count(&rec, REC_FILTER, client), 1);
    CHECK_STR_EQ(rec.events[rec_find(&rec, 0, REC_FILTER, client, NULL)].data, "{\"ok\":1}");
    char buf[256];
    CHECK_STR_EQ(sentinels_of(&rec, client, buf, sizeof buf),
                 "failed with code message too large: 101 bytes, :framing-max is 100\n");
    CHECK_STR_EQ(netproc_process_status(client), "failed");
    CHECK_STR_EQ(exit_status_text(client, buf, sizeof buf), "message too large: 101 bytes, :framing-max is 100");
    CHECK_OK(ctx, netproc_delete_process(client));
    peer_stop(&peer);
    netproc_process_free(client);
    rec_free(&rec);
    CHECK_NO_LEAK(ctx, baseline);
}

static bool featurep(netproc_value *subfeature) {
    bool result = false;
    CHECK_EQ(netproc_network_featurep(subfeature, &result), NETPROC_OK);
    return result;
}

/* The keyword through set-network-process-option, its errors, and featurep. */
static void framing_option_and_featurep(void) {
    netproc_context *ctx = new_context();
    netproc_arg server_args[] = {
        ARG(":name", STR("srv")), ARG(":server", netproc_t()), ARG(":service", netproc_t()),
        ARG(":framing", SYM("line")),
    };
    netproc_process *server = NULL;
    CHECK_OK(ctx, netproc_make_network_process(ctx, server_args, NARGS(server_args), &server));
    netproc_value prefix_items[] = {SYM("length-prefix"), INT(2)};
    netproc_value prefix = netproc_list(prefix_items, 2);
    bool applied = false;
    CHECK_OK(ctx, netproc_set_network_process_option(server, ":framing", &prefix, false, &applied));
    CHECK(applied);
    netproc_value bogus = SYM("json");
    CHECK_ERROR(ctx, netproc_set_network_process_option(server, ":framing", &bogus, false, NULL), NETPROC_E_ERROR,
                "error", "Bad option value for :framing: json");
    netproc_value max = INT(-1);
    CHECK_ERROR(ctx, netproc_set_network_process_option(server, ":framing-max", &max, false, NULL),
                NETPROC_E_WRONG_TYPE, "wrong-type-argument", "Wrong type argument: natnump, -1");

    netproc_arg udp_args[] = {
        ARG(":name", STR("udp")), ARG(":type", SYM("datagram")), ARG(":server", netproc_t()),
        ARG(":service", netproc_t()), ARG(":framing", SYM("line")),
    };
    netproc_process *udp = NULL;
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, udp_args, NARGS(udp_args), &udp), NETPROC_E_ERROR, "error",
                "\xe2\x80\x98:framing\xe2\x80\x99 is incompatible with \xe2\x80\x98:type datagram\xe2\x80\x99");
    CHECK_NULL(udp);

    const char *framings[] = {"line", "content-length", "length-prefix"};
    for (size_t i = 0; i < NARGS(framings); i++) {
        netproc_value items[] = {SYM(":framing"), SYM(framings[i])};
        netproc_value feature = netproc_list(items, 2);
        if (!featurep(&feature)) check_fail_(__FILE__, __LINE__, "(:framing %s) is not a feature", framings[i]);
    }
    netproc_value keyword = SYM(":framing-max");
    CHECK(featurep(&keyword));
    netproc_value unknown_items[] = {SYM(":framing"), SYM("json")};
    netproc_value unknown = netproc_list(unknown_items, 2);
    CHECK(!featurep(&unknown));

    CHECK_OK(ctx, netproc_delete_process(server));
    netproc_process_free(server);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

int main(void) {
    static const struct test_case cases[] = {
        {"lsp_messages_arrive_whole", lsp_messages_arrive_whole, 60},
        {"message_over_maximum_fails_the_process", message_over_maximum_fails_the_process, 20},
        {"framing_option_and_featurep", framing_option_and_featurep, 10},
    };
    return run_tests(cases, NARGS(cases));
}
