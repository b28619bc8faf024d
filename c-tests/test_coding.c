/* test_coding: coding systems over real sockets through the C API (issue 4; Emacs's
 * send_process, set_network_socket_coding_system, read_process_output,
 * Fset_process_coding_system, Fset_process_filter_multibyte; docs/DIFFERENCES.md): every
 * system against Emacs's bytes, every split
 * position of multibyte samples, CR LF under -dos, invalid bytes, encoding on send, unibyte
 * and multibyte filters, process-coding-system forms, the default and inherited systems, and
 * random splits. Byte sequences marked "Emacs" were produced or checked by Emacs 28.2
 * (`emacs --batch -Q`, C.UTF-8) with real network processes on 127.0.0.1. */
#include "check.h"
#include "pump.h"

/* Bounded waits; scaled like the case timeouts, so valgrind runs get the same slack. */
#define WAIT_MS (3000u * check_timeout_scale_())

#define BROKEN "connection broken by remote peer\n"

/* ---- a filter that also records what kind of text each call carried ------------- */

/* Whether s[0..n) is whole, valid UTF-8 characters: no sequence cut short, no overlong form
 * (so no raw-byte pair C0/C1 xx), no surrogate, nothing above U+10FFFF. */
static bool utf8_whole(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        size_t len;
        uint32_t cp, min;
        if (b < 0x80) {
            i++;
            continue;
        }
        if ((b & 0xE0) == 0xC0) len = 2, cp = b & 0x1Fu, min = 0x80;
        else if ((b & 0xF0) == 0xE0) len = 3, cp = b & 0x0Fu, min = 0x800;
        else if ((b & 0xF8) == 0xF0) len = 4, cp = b & 0x07u, min = 0x10000;
        else return false;
        if (i + len > n) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

/* Characters in a UTF-8 string: the bytes that do not continue a sequence. */
static size_t utf8_chars(const char *text) {
    size_t n = 0;
    for (const unsigned char *s = (const unsigned char *)text; *s; s++)
        if ((*s & 0xC0) != 0x80) n++;
    return n;
}

struct sink {
    struct recorder rec;   /* filter data, sentinels and log calls, in order */
    size_t multibyte_calls; /* filter calls for which netproc_process_filter_multibyte_p was true */
    size_t unibyte_calls;
    size_t cut_calls;       /* multibyte calls whose data was not whole valid UTF-8 characters */
};

static void sink_filter(void *ud, netproc_process *p, const uint8_t *data, size_t len) {
    struct sink *s = (struct sink *)ud;
    if (netproc_process_filter_multibyte_p(p)) {
        s->multibyte_calls++;
        if (!utf8_whole(data, len)) s->cut_calls++;
    } else {
        s->unibyte_calls++;
    }
    rec_filter(&s->rec, p, data, len);
}

static void sink_sentinel(void *ud, netproc_process *p, const char *msg, size_t len) {
    rec_sentinel(&((struct sink *)ud)->rec, p, msg, len);
}

static void sink_log(void *ud, netproc_process *server, netproc_process *client, const char *msg, size_t len) {
    rec_log(&((struct sink *)ud)->rec, server, client, msg, len);
}

static void sink_free(struct sink *s) {
    rec_free(&s->rec);
    memset(s, 0, sizeof *s);
}

/* Everything the filter got for `p`, into buf (NUL-terminated); fails if it does not fit. */
static size_t sink_output(const struct sink *s, netproc_process *p, char *buf, size_t cap) {
    size_t n = rec_output(&s->rec, p, buf, cap);
    CHECK(n + 1 < cap);
    return n;
}

/* The filter output of `p` so far must be exactly `want` (`want_len` bytes). */
#define CHECK_OUTPUT(s, p, want, want_len)                                       \
    do {                                                                         \
        char out_[1024];                                                         \
        size_t out_len_ = sink_output((s), (p), out_, sizeof out_);              \
        CHECK_MEM_EQ(out_, out_len_, (want), (want_len));                        \
    } while (0)

/* process-coding-system of `p` must print as `want`, e.g. "(utf-8 . utf-8-unix)". */
#define CHECK_CODING(p, want)                                                    \
    do {                                                                         \
        char pair_[300];                                                         \
        CHECK_STR_EQ(coding_system_text((p), pair_, sizeof pair_), (want));      \
    } while (0)

/* ---- a netproc client with a raw peer -------------------------------------------- */

struct link {
    netproc_process *client;
    int peer; /* the plain socket at the other end; -1 once closed */
};

/* A client of `listener` (port `port`) recording into `s`, with `extra` arguments (:coding,
 * :filter-multibyte, …), and the raw socket accepted for it. */
static struct link open_link_args(netproc_context *ctx, int listener, long long port, const netproc_arg *extra,
                                  size_t nextra, struct sink *s) {
    netproc_arg args[8] = {
        ARG(":name", STR("coded")),
        ARG(":service", INT(port)),
        ARG(":filter", netproc_filter(sink_filter, s)),
        ARG(":sentinel", netproc_sentinel(sink_sentinel, s)),
    };
    size_t n = 4;
    CHECK(nextra <= NARGS(args) - n);
    for (size_t i = 0; i < nextra; i++) args[n++] = extra[i];
    struct link link = {NULL, -1};
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, n, &link.client));
    CHECK_NOT_NULL(link.client);
    /* The connect has completed (a blocking client), so accept does not wait. */
    link.peer = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    CHECK(link.peer >= 0);
    return link;
}

/* A client with `:coding` the symbol `coding` (NULL: no :coding). */
static struct link open_link(netproc_context *ctx, int listener, long long port, const char *coding,
                             struct sink *s) {
    netproc_arg extra[] = {ARG(":coding", SYM(coding ? coding : "nil"))};
    return open_link_args(ctx, listener, port, extra, coding ? 1 : 0, s);
}

static void close_link(struct link *link) {
    if (link->peer >= 0) CHECK_EQ(close(link->peer), 0);
    link->peer = -1;
    CHECK_EQ(netproc_delete_process(link->client), NETPROC_OK);
    netproc_process_free(link->client);
    link->client = NULL;
}

/* The peer closes; wait for the client's "connection broken" sentinel and check that no
 * filter call came after it. */
static void peer_closes(netproc_context *ctx, struct link *link, struct sink *s) {
    CHECK_EQ(close(link->peer), 0);
    link->peer = -1;
    CHECK(PUMP_UNTIL(ctx, rec_find(&s->rec, 0, REC_SENTINEL, link->client, BROKEN) >= 0, WAIT_MS));
    long at = rec_find(&s->rec, 0, REC_SENTINEL, link->client, BROKEN);
    CHECK(rec_find(&s->rec, (size_t)at, REC_FILTER, link->client, NULL) < 0);
}

/* Delete the client (its queued output is flushed first) and read everything the peer gets
 * up to EOF into buf; returns how many bytes. Frees the client and closes the peer. */
static size_t drain_to_peer(netproc_context *ctx, struct link *link, uint8_t *buf, size_t cap) {
    CHECK_EQ(netproc_delete_process(link->client), NETPROC_OK);
    size_t got = 0;
    CHECK(peer_read(ctx, link->peer, buf, cap, &got, 0, true, WAIT_MS));
    netproc_process_free(link->client);
    link->client = NULL;
    CHECK_EQ(close(link->peer), 0);
    link->peer = -1;
    return got;
}

/* ---- every coding system against Emacs --------------------------------------------- */

/* For each system: a text it can represent, and the bytes Emacs 28.2's encode-coding-string
 * makes of it (Emacs decodes them back to the text). Every text ends in LF, where an
 * ISO-2022 encoder is back in ASCII, as a process-send-string would leave it too. */
struct system_sample {
    const char *coding;
    const char *text;
    const char *encoded;
    size_t encoded_len;
};

static const struct system_sample system_samples[] = {
    {"utf-8", "h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x98\x80 \xe3\x81\x82\nline\x09zwei\n", "\x68\xc3\xa9\x6c\x6c\x6f\x20\x77\xc3\xb6\x72\x6c\x64\x20\xe2\x82\xac\x20\xf0\x9f\x98\x80\x20\xe3\x81\x82\x0a\x6c\x69\x6e\x65\x09\x7a\x77\x65\x69\x0a", 37},
    {"utf-8-with-signature", "inner \xc3\xa9 \xf0\x9f\x98\x80\n", "\xef\xbb\xbf\x69\x6e\x6e\x65\x72\x20\xc3\xa9\x20\xf0\x9f\x98\x80\x0a", 17},
    {"utf-16le", "h\xc3\xa9llo \xf0\x9f\x98\x80 \xe3\x81\x82\nx\n", "\x68\x00\xe9\x00\x6c\x00\x6c\x00\x6f\x00\x20\x00\x3d\xd8\x00\xde\x20\x00\x42\x30\x0a\x00\x78\x00\x0a\x00", 26},
    {"utf-16be", "h\xc3\xa9llo \xf0\x9f\x98\x80 \xe3\x81\x82\nx\n", "\x00\x68\x00\xe9\x00\x6c\x00\x6c\x00\x6f\x00\x20\xd8\x3d\xde\x00\x00\x20\x30\x42\x00\x0a\x00\x78\x00\x0a", 26},
    {"utf-16", "h\xc3\xa9llo \xf0\x9f\x98\x80 \xe3\x81\x82\nx\n", "\xfe\xff\x00\x68\x00\xe9\x00\x6c\x00\x6c\x00\x6f\x00\x20\xd8\x3d\xde\x00\x00\x20\x30\x42\x00\x0a\x00\x78\x00\x0a", 28},
    {"utf-16-le", "h\xc3\xa9llo \xf0\x9f\x98\x80 \xe3\x81\x82\nx\n", "\xff\xfe\x68\x00\xe9\x00\x6c\x00\x6c\x00\x6f\x00\x20\x00\x3d\xd8\x00\xde\x20\x00\x42\x30\x0a\x00\x78\x00\x0a\x00", 28},
    {"utf-16-be", "h\xc3\xa9llo \xf0\x9f\x98\x80 \xe3\x81\x82\nx\n", "\xfe\xff\x00\x68\x00\xe9\x00\x6c\x00\x6c\x00\x6f\x00\x20\xd8\x3d\xde\x00\x00\x20\x30\x42\x00\x0a\x00\x78\x00\x0a", 28},
    {"us-ascii", "plain ascii ~\n", "\x70\x6c\x61\x69\x6e\x20\x61\x73\x63\x69\x69\x20\x7e\x0a", 14},
    {"shift_jis", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88 \xef\xbd\xb1\xef\xbd\xb2\xef\xbd\xb3 \xe3\x80\x9c\n", "\x93\xfa\x96\x7b\x8c\xea\x82\xcc\x83\x65\x83\x4c\x83\x58\x83\x67\x20\xb1\xb2\xb3\x20\x81\x60\x0a", 24},
    {"euc-jp", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88 \xef\xbd\xb1\xef\xbd\xb2\xef\xbd\xb3 \xe4\xb8\x82 \xc2\xa1\n", "\xc6\xfc\xcb\xdc\xb8\xec\xa4\xce\xa5\xc6\xa5\xad\xa5\xb9\xa5\xc8\x20\x8e\xb1\x8e\xb2\x8e\xb3\x20\x8f\xb0\xa1\x20\x8f\xa2\xc2\x0a", 32},
    {"iso-2022-jp", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e text\n\xe3\x81\xa7\xe3\x81\x99\n", "\x1b\x24\x42\x46\x7c\x4b\x5c\x38\x6c\x1b\x28\x42\x20\x74\x65\x78\x74\x0a\x1b\x24\x42\x24\x47\x24\x39\x1b\x28\x42\x0a", 29},
    {"iso-2022-7bit", "a\xc3\xa9\xe4\xb8\xad\xea\xb0\x80\xef\xbd\xb1 \xe3\x81\x82\nb\n", "\x61\x1b\x2c\x41\x69\x1b\x24\x41\x56\x50\x1b\x24\x28\x43\x30\x21\x1b\x28\x49\x31\x1b\x28\x42\x20\x1b\x24\x41\x24\x22\x1b\x28\x42\x0a\x62\x0a", 35},
    {"gbk", "\xe4\xb8\xad\xe6\x96\x87\xe7\xae\x80\xe4\xbd\x93 \xe7\xb9\x81\xe9\xab\x94\n", "\xd6\xd0\xce\xc4\xbc\xf2\xcc\xe5\x20\xb7\xb1\xf3\x77\x0a", 14},
    {"gb18030", "\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 \xe1\xb8\xbf \xe2\x82\xac\n", "\xd6\xd0\xce\xc4\x20\x94\x39\xfc\x36\x20\xa8\xbc\x20\xa2\xe3\x0a", 16},
    {"big5", "\xe4\xb8\xad\xe6\x96\x87\xe7\xb9\x81\xe9\xab\x94\xe5\xad\x97\n", "\xa4\xa4\xa4\xe5\xc1\x63\xc5\xe9\xa6\x72\x0a", 11},
    {"euc-kr", "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4 \xed\x85\x8d\xec\x8a\xa4\xed\x8a\xb8\n", "\xc7\xd1\xb1\xb9\xbe\xee\x20\xc5\xd8\xbd\xba\xc6\xae\x0a", 14},
    {"latin-1", "caf\xc3\xa9 \xc3\xbf\xc2\xbf\xc3\x97\n", "\x63\x61\x66\xe9\x20\xff\xbf\xd7\x0a", 9},
    {"iso-8859-2", "\xc5\x81\xc3\xb3" "d\xc5\xba \xc5\xbc\xc3\xb3\xc5\x82\xc4\x87\n", "\xa3\xf3\x64\xbc\x20\xbf\xf3\xb3\xe6\x0a", 10},
    {"iso-8859-3", "\xc4\xa6\xc4\x9d \xc5\xad\n", "\xa1\xf8\x20\xfd\x0a", 5},
    {"iso-8859-4", "\xc4\x80\xc4\xb8\xc5\x96\n", "\xc0\xa2\xa3\x0a", 4},
    {"iso-8859-5", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\n", "\xbf\xe0\xd8\xd2\xd5\xe2\x0a", 7},
    {"iso-8859-6", "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7\n", "\xe5\xd1\xcd\xc8\xc7\x0a", 6},
    {"iso-8859-7", "\xce\x9a\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xad\xcf\x81\xce\xb1\n", "\xca\xe1\xeb\xe7\xec\xdd\xf1\xe1\x0a", 9},
    {"iso-8859-8", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d\n", "\xf9\xec\xe5\xed\x0a", 5},
    {"iso-8859-9", "\xc4\xb0stanbul \xc4\x9f\xc5\x9f\n", "\xdd\x73\x74\x61\x6e\x62\x75\x6c\x20\xf0\xfe\x0a", 12},
    {"iso-8859-10", "\xc5\x8a\xc5\xa6 \xc3\xb0\n", "\xaf\xab\x20\xf0\x0a", 5},
    {"iso-8859-11", "\xe0\xb8\xaa\xe0\xb8\xa7\xe0\xb8\xb1\xe0\xb8\xaa\xe0\xb8\x94\xe0\xb8\xb5\n", "\xca\xc7\xd1\xca\xb4\xd5\x0a", 7},
    {"iso-8859-13", "\xc4\x84\xc4\x8d\xc4\x99 \xc5\xb3\n", "\xc0\xe8\xe6\x20\xf8\x0a", 6},
    {"iso-8859-14", "\xc5\xb4\xc5\xb7 \xe1\xb8\x83\n", "\xd0\xfe\x20\xa2\x0a", 5},
    {"iso-8859-15", "\xe2\x82\xac \xc5\x93\xc5\xb8\n", "\xa4\x20\xbd\xbe\x0a", 5},
    {"iso-8859-16", "\xc8\x98\xc8\x9a \xc8\x99\n", "\xaa\xde\x20\xba\x0a", 5},
    {"windows-1250", "\xe2\x80\x9e\xc5\x81\xc3\xb3" "d\xc5\xba\xe2\x80\x9c\n", "\x84\xa3\xf3\x64\x9f\x93\x0a", 7},
    {"windows-1251", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xe2\x80\x9e\xd1\x91\xe2\x80\x9c\n", "\xcf\xf0\xe8\xe2\xe5\xf2\x20\x84\xb8\x93\x0a", 11},
    {"windows-1252", "\xe2\x80\x9c" "caf\xc3\xa9\xe2\x80\x9d \xe2\x82\xac\n", "\x93\x63\x61\x66\xe9\x94\x20\x80\x0a", 9},
    {"windows-1253", "\xce\x9a\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xad\xcf\x81\xce\xb1 \xe2\x82\xac\n", "\xca\xe1\xeb\xe7\xec\xdd\xf1\xe1\x20\x80\x0a", 11},
    {"windows-1254", "\xc4\xb0\xc4\x9f \xe2\x82\xac\n", "\xdd\xf0\x20\x80\x0a", 5},
    {"windows-1255", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xe2\x82\xaa\n", "\xf9\xec\xe5\xed\x20\xa4\x0a", 7},
    {"windows-1256", "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 \xe2\x82\xac\n", "\xe3\xd1\xcd\xc8\xc7\x20\x80\x0a", 8},
    {"windows-1257", "\xc4\x84\xc4\x8d \xe2\x82\xac\n", "\xc0\xe8\x20\x80\x0a", 5},
    {"windows-1258", "\xe2\x82\xac \xc4\x90\xc4\x91 \xc6\xa1\n", "\x80\x20\xd0\xf0\x20\xf5\x0a", 7},
    {"koi8-r", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\n", "\xf0\xd2\xc9\xd7\xc5\xd4\x0a", 7},
};

/* Issue 4: every coding system round-trips a sample text — here over a socket and against
 * Emacs: the peer's Emacs bytes reach the filter as exactly the text (multibyte), and
 * netproc_process_send_text() of the text puts exactly Emacs's bytes on the wire. */
static void every_coding_system_matches_emacs_both_ways(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    for (size_t i = 0; i < NARGS(system_samples); i++) {
        const struct system_sample *sm = &system_samples[i];
        size_t text_len = strlen(sm->text);
        struct sink s = {0};
        struct link link = open_link(ctx, listener, port, sm->coding, &s);
        raw_send_bytes(link.peer, sm->encoded, sm->encoded_len);
        bool arrived = PUMP_UNTIL(ctx, s.rec.filter_bytes >= text_len, WAIT_MS);
        if (!arrived) fprintf(stderr, "  %s: decoding\n", sm->coding);
        CHECK(arrived);
        char out[1024];
        size_t n = sink_output(&s, link.client, out, sizeof out);
        if (n != text_len || memcmp(out, sm->text, n) != 0) fprintf(stderr, "  %s: decoding\n", sm->coding);
        CHECK_MEM_EQ(out, n, sm->text, text_len);
        CHECK_EQ(s.unibyte_calls, 0);
        CHECK(s.multibyte_calls > 0);

        CHECK_OK(ctx, netproc_process_send_text(link.client, (const uint8_t *)sm->text, text_len));
        uint8_t wire[1024];
        size_t got = drain_to_peer(ctx, &link, wire, sizeof wire);
        if (got != sm->encoded_len || memcmp(wire, sm->encoded, got) != 0)
            fprintf(stderr, "  %s: encoding\n", sm->coding);
        CHECK_MEM_EQ(wire, got, sm->encoded, sm->encoded_len);
        sink_free(&s);
    }
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- every split position (issue 4) ------------------------------------------------ */

struct split_sample {
    const char *coding;
    const char *encoded; /* Emacs's encode-coding-string of text */
    size_t encoded_len;
    const char *text;
};

/* ASCII mixed with characters of 2, 3 and 4 bytes (in UTF-8), surrogate pairs (UTF-16), a
 * BOM (`utf-16`), one-byte katakana and a 0x5C trail byte (Shift_JIS), escape sequences
 * (ISO-2022-JP). */
static const struct split_sample split_samples[] = {
    {"utf-8", "\x41\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7a\x20\xce\xa9\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\x0a", 24,
     "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z \xce\xa9\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\n"}, /* Aé€😀z Ω日本語 */
    {"shift_jis", "\x41\xb1\xb2\x93\xfa\x96\x7b\x8c\xea\x83\x5c\x20\x7a\x0a", 14,
     "A\xef\xbd\xb1\xef\xbd\xb2\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x82\xbd z\n"}, /* Aｱｲ日本語ソ z */
    {"utf-16be", "\x00\x41\x00\xe9\x20\xac\xd8\x3d\xde\x00\x00\x7a\x00\x0a", 14,
     "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z\n"}, /* Aé€😀z */
    {"utf-16", "\xfe\xff\x00\x41\x00\xe9\x20\xac\xd8\x3d\xde\x00\x00\x7a\x00\x0a", 16,
     "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z\n"}, /* BOM FE FF, then as utf-16be */
    {"iso-2022-jp",
     "\x61\x62\x1b\x24\x42\x46\x7c\x4b\x5c\x38\x6c\x1b\x28\x42\x63\x64\x0a\x1b\x24\x42\x25\x3d\x21\x3c\x1b\x28\x42\x20\x78",
     29, "ab\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" "cd\n\xe3\x82\xbd\xe3\x83\xbc x"}, /* ab日本語cd\nソー x */
};

/* For read_max = 1 … len(encoded): a fresh client whose reads are read_max bytes each gets
 * the whole encoding at once, so the first read ends at byte read_max (every split position
 * is covered) and the others cut it further. The text must arrive exactly, as multibyte
 * calls of whole characters; with one-byte reads, each character comes as soon as its last
 * byte is read (one call per character: nothing held longer). */
static void split_positions(const struct split_sample *sm) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    size_t text_len = strlen(sm->text);
    for (size_t read_max = 1; read_max <= sm->encoded_len; read_max++) {
        CHECK_OK(ctx, netproc_context_set_read_max(ctx, read_max));
        struct sink s = {0};
        struct link link = open_link(ctx, listener, port, sm->coding, &s);
        raw_send_bytes(link.peer, sm->encoded, sm->encoded_len);
        peer_closes(ctx, &link, &s);
        char out[256];
        size_t n = sink_output(&s, link.client, out, sizeof out);
        if (n != text_len || memcmp(out, sm->text, n) != 0 || s.cut_calls != 0 || s.unibyte_calls != 0)
            fprintf(stderr, "  %s with read_max %zu\n", sm->coding, read_max);
        CHECK_MEM_EQ(out, n, sm->text, text_len);
        CHECK_EQ(s.unibyte_calls, 0);
        CHECK_EQ(s.cut_calls, 0);
        CHECK(s.multibyte_calls > 0);
        if (read_max == 1) CHECK_EQ(rec_count(&s.rec, REC_FILTER, link.client), utf8_chars(sm->text));
        close_link(&link);
        sink_free(&s);
    }
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

static void split_positions_utf_8(void) { split_positions(&split_samples[0]); }
static void split_positions_shift_jis(void) { split_positions(&split_samples[1]); }
static void split_positions_utf_16be(void) { split_positions(&split_samples[2]); }
static void split_positions_utf_16_bom(void) { split_positions(&split_samples[3]); }
static void split_positions_iso_2022_jp(void) { split_positions(&split_samples[4]); }

/* ---- end-of-lines (read_process_output) -------------------------------------------- */

/* utf-8-dos with one-byte reads: every CR LF is split, and still becomes LF; a CR at the end
 * of the data is held (it may start a CR LF) until the peer closes, then arrives as a CR
 * before the "connection broken" sentinel (Emacs: "a\r" + close gives "a", then "\r"). */
static void crlf_dos_one_byte_reads(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    CHECK_OK(ctx, netproc_context_set_read_max(ctx, 1));
    struct sink s = {0};
    struct link link = open_link(ctx, listener, port, "utf-8-dos", &s);
    raw_send(link.peer, "a\r\nb\r\nc\r");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 5, WAIT_MS));
    pump_for(ctx, 100);
    CHECK_OUTPUT(&s, link.client, "a\nb\nc", 5);
    peer_closes(ctx, &link, &s);
    CHECK_OUTPUT(&s, link.client, "a\nb\nc\r", 6);
    long sentinel = rec_find(&s.rec, 0, REC_SENTINEL, link.client, BROKEN);
    long cr = rec_find(&s.rec, 0, REC_FILTER, link.client, "\r");
    CHECK(cr >= 0 && cr < sentinel);
    CHECK_EQ(s.unibyte_calls, 0);
    close_link(&link);
    sink_free(&s);
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* utf-8-dos at every read size: CR LF → LF, a lone CR stays, CR CR LF → CR LF (Emacs gives
 * "a\nb\r\nc\rd\n" for this stream). */
static void crlf_dos_every_read_size(void) {
    static const char stream[] = "a\r\nb\r\r\nc\rd\r\n";
    static const char want[] = "a\nb\r\nc\rd\n";
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    for (size_t read_max = 1; read_max <= sizeof stream - 1; read_max++) {
        CHECK_OK(ctx, netproc_context_set_read_max(ctx, read_max));
        struct sink s = {0};
        struct link link = open_link(ctx, listener, port, "utf-8-dos", &s);
        raw_send(link.peer, stream);
        peer_closes(ctx, &link, &s);
        char out[64];
        size_t n = sink_output(&s, link.client, out, sizeof out);
        if (n != sizeof want - 1 || memcmp(out, want, n) != 0) fprintf(stderr, "  read_max %zu\n", read_max);
        CHECK_MEM_EQ(out, n, want, sizeof want - 1);
        close_link(&link);
        sink_free(&s);
    }
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* -mac turns every CR into LF (LF stays: Emacs gives "a\nb\n\nc"); -unix keeps CR, and a CR
 * at the end of a read is not held. One-byte reads. */
static void crlf_mac_and_unix(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    CHECK_OK(ctx, netproc_context_set_read_max(ctx, 1));

    struct sink s = {0};
    struct link link = open_link(ctx, listener, port, "utf-8-mac", &s);
    raw_send(link.peer, "a\rb\r\nc\r");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 7, WAIT_MS));
    CHECK_OUTPUT(&s, link.client, "a\nb\n\nc\n", 7);
    close_link(&link);
    sink_free(&s);

    link = open_link(ctx, listener, port, "utf-8-unix", &s);
    raw_send(link.peer, "a\r\nb\r");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 5, WAIT_MS));
    CHECK_OUTPUT(&s, link.client, "a\r\nb\r", 5);
    CHECK_CODING(link.client, "(utf-8-unix . utf-8-unix)");
    close_link(&link);
    sink_free(&s);

    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- invalid bytes ---------------------------------------------------------------- */

/* utf-8 decoding of "a\xff\xc3b" gives "a", the raw-byte pairs of 0xFF (C1 BF) and 0xC3
 * (C1 83), "b" (Emacs: "a\377\303b", multibyte), whether read whole or a byte at a time;
 * netproc_process_send_text() of that text through utf-8 puts the original bytes back on the
 * wire (Emacs: 61 FF C3 62). */
static void invalid_bytes_kept_as_raw_pairs_and_sent_back(void) {
    static const char raw[] = "a\xff\xc3" "b";
    static const char text[] = "a\xc1\xbf\xc1\x83" "b";
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    static const size_t read_sizes[] = {1, 65536};
    for (size_t i = 0; i < NARGS(read_sizes); i++) {
        CHECK_OK(ctx, netproc_context_set_read_max(ctx, read_sizes[i]));
        struct sink s = {0};
        struct link link = open_link(ctx, listener, port, "utf-8", &s);
        raw_send(link.peer, raw);
        CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= sizeof text - 1, WAIT_MS));
        char out[64];
        size_t n = sink_output(&s, link.client, out, sizeof out);
        CHECK_MEM_EQ(out, n, text, sizeof text - 1);
        CHECK_EQ(s.unibyte_calls, 0);

        CHECK_OK(ctx, netproc_process_send_text(link.client, (const uint8_t *)out, n));
        uint8_t wire[64];
        size_t got = drain_to_peer(ctx, &link, wire, sizeof wire);
        CHECK_MEM_EQ(wire, got, raw, sizeof raw - 1);
        sink_free(&s);
    }
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* A character cut short by the close ("x\xe3\x81") reaches the filter as raw-byte pairs
 * (C1 A3 C0 81), multibyte, before the closing sentinel; until then it is held. Emacs: "x",
 * then "\343\201" (multibyte), then "connection broken by remote peer\n". */
static void partial_character_at_eof_arrives_as_raw_bytes(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    struct sink s = {0};
    struct link link = open_link(ctx, listener, port, "utf-8", &s);
    raw_send(link.peer, "x\xe3\x81");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 1, WAIT_MS));
    pump_for(ctx, 100);
    CHECK_OUTPUT(&s, link.client, "x", 1);
    peer_closes(ctx, &link, &s);
    CHECK_OUTPUT(&s, link.client, "x\xc1\xa3\xc0\x81", 5);
    long sentinel = rec_find(&s.rec, 0, REC_SENTINEL, link.client, BROKEN);
    long pairs = rec_find(&s.rec, 0, REC_FILTER, link.client, "\xc1\xa3\xc0\x81");
    CHECK(pairs >= 0 && pairs < sentinel);
    CHECK_EQ(s.unibyte_calls, 0);
    CHECK_EQ(s.multibyte_calls, 2);
    close_link(&link);
    sink_free(&s);
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- encoding on send (send_process) ----------------------------------------------- */

struct send_sample {
    const char *coding;
    bool text;              /* netproc_process_send_text (multibyte) or netproc_process_send */
    const char *data[2];    /* sent one after the other (NULL: not sent) */
    size_t data_len[2];
    const char *wire;       /* what the peer must read, all of it (Emacs) */
    size_t wire_len;
};

static const struct send_sample send_samples[] = {
    /* Unencodable characters become a space. */
    {"latin-1", true, {"\xc3\xa9\xe2\x82\xac", NULL}, {5, 0}, "\xe9\x20", 2},
    {"utf-16be", true, {"\xc3\xa9\xe2\x82\xac", NULL}, {5, 0}, "\x00\xe9\x20\xac", 4},
    {"utf-16le", true, {"\xc3\xa9\xe2\x82\xac", NULL}, {5, 0}, "\xe9\x00\xac\x20", 4},
    /* utf-16 writes a BOM (big-endian) once, before the first text. */
    {"utf-16", true, {"\xc3\xa9", "\xe2\x82\xac"}, {2, 3}, "\xfe\xff\x00\xe9\x20\xac", 6},
    {"shift_jis", true, {"a\xe3\x81\x82\xc3\xa9\xe2\x82\xac\xef\xbd\xb1", NULL}, {12, 0},
     "\x61\x82\xa0\x20\x20\xb1", 6}, /* aあé€ｱ */
    {"iso-2022-jp", true, {"a\xe6\x97\xa5\xe6\x9c\xac" "b", NULL}, {8, 0},
     "\x61\x1b\x24\x42\x46\x7c\x4b\x5c\x1b\x28\x42\x62", 12}, /* a日本b */
    /* The ISO-2022 state carries over from one send to the next. */
    {"iso-2022-jp", true, {"a\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x9c\xac" "b"}, {7, 4},
     "\x61\x1b\x24\x42\x46\x7c\x4b\x5c\x4b\x5c\x1b\x28\x42\x62", 14}, /* a日本, 本b */
    {"utf-8-dos", true, {"x\ny", NULL}, {3, 0}, "x\r\ny", 4},
    /* Unibyte data gets the end-of-line conversion only. */
    {"utf-8-dos", false, {"u\nv", NULL}, {3, 0}, "u\r\nv", 4},
    {"binary", false, {"a\r\n\xff", NULL}, {4, 0}, "a\r\n\xff", 4},
    /* binary: text goes out in its internal form, a raw-byte pair as its byte. */
    {"binary", true, {"a\xc1\xbf\xc3\xa9", NULL}, {5, 0}, "a\xff\xc3\xa9", 4},
    /* Empty text writes nothing. */
    {"utf-8", true, {"", "z"}, {0, 1}, "z", 1},
    {"latin-1", true, {"", NULL}, {0, 0}, "", 0},
};

static void encode_on_send(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    for (size_t i = 0; i < NARGS(send_samples); i++) {
        const struct send_sample *sm = &send_samples[i];
        struct sink s = {0};
        struct link link = open_link(ctx, listener, port, sm->coding, &s);
        for (size_t k = 0; k < 2 && sm->data[k] != NULL; k++) {
            const uint8_t *data = (const uint8_t *)sm->data[k];
            if (sm->text) CHECK_OK(ctx, netproc_process_send_text(link.client, data, sm->data_len[k]));
            else CHECK_OK(ctx, netproc_process_send(link.client, data, sm->data_len[k]));
        }
        uint8_t wire[64];
        size_t got = drain_to_peer(ctx, &link, wire, sizeof wire);
        if (got != sm->wire_len || memcmp(wire, sm->wire, got) != 0)
            fprintf(stderr, "  sample %zu (%s, %s)\n", i, sm->coding, sm->text ? "text" : "bytes");
        CHECK_MEM_EQ(wire, got, sm->wire, sm->wire_len);
        sink_free(&s);
    }
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- unibyte and multibyte filters (read_process_output, Fset_process_filter_multibyte) ---- */

/* binary and raw-text decode to unibyte: netproc_process_filter_multibyte_p is false inside
 * the filter and the bytes are unchanged, except that raw-text-dos (and raw-text, which
 * detects -dos here) still turn CR LF into LF. Emacs: "a\r\n\377" gives the same bytes
 * (binary) or "a\n\377" (raw-text, raw-text-dos), unibyte; raw-text shows (raw-text-dos .
 * raw-text) afterwards. */
static void binary_and_raw_text_filters_get_unibyte(void) {
    static const struct {
        const char *coding, *want, *pair;
        size_t want_len;
    } cases[] = {
        {"binary", "a\r\n\xff\xc3", "(binary . binary)", 5},
        {"no-conversion", "a\r\n\xff\xc3", "(no-conversion . no-conversion)", 5},
        {"raw-text-dos", "a\n\xff\xc3", "(raw-text-dos . raw-text-dos)", 4},
        {"raw-text", "a\n\xff\xc3", "(raw-text-dos . raw-text)", 4},
        {"raw-text-unix", "a\r\n\xff\xc3", "(raw-text-unix . raw-text-unix)", 5},
    };
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    for (size_t i = 0; i < NARGS(cases); i++) {
        struct sink s = {0};
        struct link link = open_link(ctx, listener, port, cases[i].coding, &s);
        CHECK(!netproc_process_filter_multibyte_p(link.client));
        raw_send(link.peer, "a\r\n\xff\xc3");
        CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= cases[i].want_len, WAIT_MS));
        if (s.multibyte_calls != 0) fprintf(stderr, "  %s\n", cases[i].coding);
        CHECK_OUTPUT(&s, link.client, cases[i].want, cases[i].want_len);
        CHECK_EQ(s.multibyte_calls, 0);
        CHECK_CODING(link.client, cases[i].pair);
        close_link(&link);
        sink_free(&s);
    }
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* docs/DIFFERENCES.md (Emacs 28.2 ignores the keyword): `:filter-multibyte nil` with `:coding
 * utf-8` gives the filter the bytes undecoded, unibyte; the decoding shows as raw-text. */
static void filter_multibyte_nil_keyword_gives_unibyte(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    struct sink s = {0};
    netproc_arg extra[] = {ARG(":coding", SYM("utf-8")), ARG(":filter-multibyte", netproc_nil())};
    struct link link = open_link_args(ctx, listener, port, extra, NARGS(extra), &s);
    CHECK(!netproc_process_filter_multibyte_p(link.client));
    CHECK_CODING(link.client, "(raw-text . utf-8)");
    raw_send(link.peer, "\xc3\xa9\xff");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 3, WAIT_MS));
    CHECK_OUTPUT(&s, link.client, "\xc3\xa9\xff", 3);
    CHECK_EQ(s.multibyte_calls, 0);
    close_link(&link);
    sink_free(&s);

    /* A non-nil value (or none) means multibyte. */
    netproc_arg multi[] = {ARG(":coding", SYM("utf-8")), ARG(":filter-multibyte", netproc_t())};
    link = open_link_args(ctx, listener, port, multi, NARGS(multi), &s);
    CHECK(netproc_process_filter_multibyte_p(link.client));
    raw_send(link.peer, "\xc3\xa9\xff");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 4, WAIT_MS));
    CHECK_OUTPUT(&s, link.client, "\xc3\xa9\xc1\xbf", 4);
    CHECK_EQ(s.unibyte_calls, 0);
    close_link(&link);
    sink_free(&s);
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* set_process_filter_multibyte(p, false) makes the decoding raw-text (Emacs: (raw-text .
 * utf-8)) and the filter unibyte; true brings utf-8 back (docs/DIFFERENCES.md; Emacs 28.2 stays
 * raw-text). "é\xff" arrives as C3 A9 FF, then as é + C1 BF. */
static void set_filter_multibyte_false_then_true_restores(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    struct sink s = {0};
    struct link link = open_link(ctx, listener, port, "utf-8", &s);
    CHECK(netproc_process_filter_multibyte_p(link.client));

    CHECK_OK(ctx, netproc_set_process_filter_multibyte(link.client, false));
    CHECK(!netproc_process_filter_multibyte_p(link.client));
    CHECK_CODING(link.client, "(raw-text . utf-8)");
    raw_send(link.peer, "\xc3\xa9\xff");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 3, WAIT_MS));
    CHECK_OUTPUT(&s, link.client, "\xc3\xa9\xff", 3);
    CHECK_EQ(s.multibyte_calls, 0);
    CHECK_EQ(s.unibyte_calls, 1);

    CHECK_OK(ctx, netproc_set_process_filter_multibyte(link.client, true));
    CHECK(netproc_process_filter_multibyte_p(link.client));
    CHECK_CODING(link.client, "(utf-8 . utf-8)");
    raw_send(link.peer, "\xc3\xa9\xff");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 7, WAIT_MS));
    CHECK_OUTPUT(&s, link.client, "\xc3\xa9\xff\xc3\xa9\xc1\xbf", 7);
    CHECK_EQ(s.multibyte_calls, 1);
    CHECK_EQ(s.unibyte_calls, 1);

    /* Without a socket, process-filter-multibyte-p is nil (Emacs: closed → nil). */
    peer_closes(ctx, &link, &s);
    CHECK(!netproc_process_filter_multibyte_p(link.client));
    close_link(&link);
    sink_free(&s);
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- process-coding-system and its setters (Fset_process_coding_system) ------------ */

/* `:coding SYM` gives (SYM . SYM); a cons gives that pair, and is used that way round:
 * utf-8 decodes, latin-1 encodes (Emacs: "é" goes out as E9). */
static void coding_argument_forms(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    struct sink s = {0};
    struct link link = open_link(ctx, listener, port, "utf-8", &s);
    CHECK_CODING(link.client, "(utf-8 . utf-8)");
    close_link(&link);

    netproc_value pair[] = {SYM("utf-8"), SYM("latin-1")};
    netproc_arg extra[] = {ARG(":coding", netproc_cons(pair))};
    link = open_link_args(ctx, listener, port, extra, NARGS(extra), &s);
    CHECK_CODING(link.client, "(utf-8 . latin-1)");
    raw_send(link.peer, "\xc3\xa9");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 2, WAIT_MS));
    CHECK_OUTPUT(&s, link.client, "\xc3\xa9", 2);
    CHECK_EQ(s.unibyte_calls, 0);
    CHECK_OK(ctx, netproc_process_send_text(link.client, (const uint8_t *)"\xc3\xa9", 2));
    uint8_t wire[16];
    size_t got = drain_to_peer(ctx, &link, wire, sizeof wire);
    CHECK_MEM_EQ(wire, got, "\xe9", 1);
    sink_free(&s);
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* set-process-coding-system fills in the encoding's end-of-line: (utf-8, utf-8) gives
 * (utf-8 . utf-8-unix), (nil, nil) and (NULL, NULL) give (nil . raw-text-unix), (utf-8-dos,
 * latin-1) gives (utf-8-dos . iso-latin-1-unix) (Emacs's Fset_process_coding_system);
 * the new decoding applies to what is read next. */
static void set_process_coding_system_forms(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    struct sink s = {0};
    struct link link = open_link(ctx, listener, port, "binary", &s);
    netproc_value utf8 = SYM("utf-8"), nil = netproc_nil();
    CHECK_OK(ctx, netproc_set_process_coding_system(link.client, &utf8, &utf8));
    CHECK_CODING(link.client, "(utf-8 . utf-8-unix)");
    raw_send(link.peer, "\xc3\xa9\xff");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 4, WAIT_MS));
    CHECK_OUTPUT(&s, link.client, "\xc3\xa9\xc1\xbf", 4);
    CHECK_EQ(s.unibyte_calls, 0);

    CHECK_OK(ctx, netproc_set_process_coding_system(link.client, &nil, &nil));
    CHECK_CODING(link.client, "(nil . raw-text-unix)");
    CHECK_OK(ctx, netproc_set_process_coding_system(link.client, &utf8, &utf8));
    CHECK_OK(ctx, netproc_set_process_coding_system(link.client, NULL, NULL));
    CHECK_CODING(link.client, "(nil . raw-text-unix)");

    netproc_value dos = SYM("utf-8-dos"), latin = SYM("latin-1");
    CHECK_OK(ctx, netproc_set_process_coding_system(link.client, &dos, &latin));
    CHECK_CODING(link.client, "(utf-8-dos . iso-latin-1-unix)");
    close_link(&link);
    sink_free(&s);
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* An unknown name is (coding-system-error NAME), "Invalid coding system: NAME" (Emacs), at
 * creation (as the symbol or inside the cons; no process is made), in
 * set_process_coding_system (which then changes nothing), in the context default, and in
 * netproc_check_coding_system, which accepts known names, aliases and -unix/-dos/-mac. */
static void unknown_coding_system_is_coding_system_error(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    netproc_process *p = NULL;
    netproc_arg args[] = {ARG(":name", STR("bad")), ARG(":service", INT(port)), ARG(":coding", SYM("no-such"))};
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, args, NARGS(args), &p), NETPROC_E_CODING,
                "coding-system-error", "Invalid coding system: no-such");
    CHECK_NULL(p);
    netproc_value pair[] = {SYM("utf-8"), SYM("no-such-either")};
    netproc_arg cons_args[] = {ARG(":name", STR("bad")), ARG(":service", INT(port)),
                               ARG(":coding", netproc_cons(pair))};
    CHECK_ERROR(ctx, netproc_make_network_process(ctx, cons_args, NARGS(cons_args), &p), NETPROC_E_CODING,
                "coding-system-error", "Invalid coding system: no-such-either");
    CHECK_NULL(p);
    size_t count = 99;
    CHECK_OK(ctx, netproc_process_list(ctx, NULL, 0, &count));
    CHECK_EQ(count, 0);

    struct sink s = {0};
    struct link link = open_link(ctx, listener, port, "latin-1", &s);
    netproc_value bad = SYM("no-such"), utf8 = SYM("utf-8");
    CHECK_ERROR(ctx, netproc_set_process_coding_system(link.client, &bad, &utf8), NETPROC_E_CODING,
                "coding-system-error", "Invalid coding system: no-such");
    CHECK_ERROR(ctx, netproc_set_process_coding_system(link.client, &utf8, &bad), NETPROC_E_CODING,
                "coding-system-error", "Invalid coding system: no-such");
    CHECK_CODING(link.client, "(latin-1 . latin-1)");
    CHECK_ERROR(ctx, netproc_context_set_default_coding_system(ctx, &bad, &bad), NETPROC_E_CODING,
                "coding-system-error", "Invalid coding system: no-such");
    close_link(&link);
    sink_free(&s);

    CHECK_ERROR(NULL, netproc_check_coding_system("no-such"), NETPROC_E_CODING, "coding-system-error",
                "Invalid coding system: no-such");
    /* Symbols are case-sensitive: (coding-system-p 'UTF-8) is nil in Emacs 28.2. */
    CHECK_ERROR(NULL, netproc_check_coding_system("UTF-8"), NETPROC_E_CODING, "coding-system-error",
                "Invalid coding system: UTF-8");
    static const char *const known[] = {"utf-8", "utf-8-dos", "shift_jis", "shift_jis-unix", "utf-16le",
                                        "iso-2022-jp-mac", "binary", "raw-text-dos", "undecided", "latin-1"};
    for (size_t i = 0; i < NARGS(known); i++) CHECK_EQ(netproc_check_coding_system(known[i]), NETPROC_OK);
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* `undecided` detects from the data and process-coding-system shows it (Emacs's
 * read_process_output): "é\r\n" gives (utf-8-dos . undecided), and with (undecided . nil) the
 * nil encoding is set to match, (utf-8-dos . utf-8-dos), so "x\ny" goes out as "x\r\ny"; ASCII
 * "ab\r\n" gives (undecided-dos . undecided); utf-8 after "é\n" shows (utf-8-unix . utf-8). */
static void undecided_detection_reported(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    struct sink s = {0};

    struct link link = open_link(ctx, listener, port, "undecided", &s);
    CHECK_CODING(link.client, "(undecided . undecided)");
    raw_send(link.peer, "\xc3\xa9\r\n");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 3, WAIT_MS));
    CHECK_OUTPUT(&s, link.client, "\xc3\xa9\n", 3);
    CHECK_EQ(s.unibyte_calls, 0);
    CHECK_CODING(link.client, "(utf-8-dos . undecided)");
    close_link(&link);
    sink_free(&s);

    netproc_value pair[] = {SYM("undecided"), netproc_nil()};
    netproc_arg extra[] = {ARG(":coding", netproc_cons(pair))};
    link = open_link_args(ctx, listener, port, extra, NARGS(extra), &s);
    CHECK_CODING(link.client, "(undecided . nil)");
    raw_send(link.peer, "\xc3\xa9\r\n");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 3, WAIT_MS));
    CHECK_CODING(link.client, "(utf-8-dos . utf-8-dos)");
    CHECK_OK(ctx, netproc_process_send_text(link.client, (const uint8_t *)"x\ny", 3));
    uint8_t wire[16];
    size_t got = drain_to_peer(ctx, &link, wire, sizeof wire);
    CHECK_MEM_EQ(wire, got, "x\r\ny", 4);
    sink_free(&s);

    link = open_link(ctx, listener, port, "undecided", &s);
    raw_send(link.peer, "ab\r\n");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 3, WAIT_MS));
    CHECK_OUTPUT(&s, link.client, "ab\n", 3);
    CHECK_CODING(link.client, "(undecided-dos . undecided)");
    close_link(&link);
    sink_free(&s);

    link = open_link(ctx, listener, port, "utf-8", &s);
    raw_send(link.peer, "\xc3\xa9\n");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 3, WAIT_MS));
    CHECK_CODING(link.client, "(utf-8-unix . utf-8)");
    close_link(&link);
    sink_free(&s);
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* A documented difference (docs/DIFFERENCES.md): with the end-of-line undecided, a CR at the
 * end of a read is held, so a CR LF split between reads is detected as -dos. With one-byte
 * reads, "é\r\nx" gives "é\nx" and (utf-8-dos . undecided); Emacs 28.2 gives "é\n\nx" and
 * (utf-8-mac . undecided). */
static void undecided_crlf_split_across_reads_is_dos(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    CHECK_OK(ctx, netproc_context_set_read_max(ctx, 1));
    struct sink s = {0};
    struct link link = open_link(ctx, listener, port, "undecided", &s);
    raw_send(link.peer, "\xc3\xa9\r\nx");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 4, WAIT_MS));
    pump_for(ctx, 50);
    CHECK_OUTPUT(&s, link.client, "\xc3\xa9\nx", 4);
    CHECK_CODING(link.client, "(utf-8-dos . undecided)");
    close_link(&link);
    sink_free(&s);
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- default and inherited coding systems (set_network_socket_coding_system) ------- */

/* Without :coding, a process gets the context default, binary both ways: (binary . binary),
 * bytes unchanged and unibyte; text goes out in its internal form, a raw-byte pair as its
 * byte (Emacs: (encode-coding-string "a\377é" 'binary) is 61 FF C3 A9). */
/* A nil decoding system decodes like undecided, as Emacs's setup_coding_system makes it
 * (checked with a real Emacs 28.2 process: multibyte strings, and the detected system shown
 * afterwards), not passed through unconverted. */
static void nil_decoding_decodes_like_undecided(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    struct sink s = {0};
    struct link link = open_link(ctx, listener, port, NULL, &s);
    netproc_value nil = netproc_nil();
    CHECK_OK(ctx, netproc_set_process_coding_system(link.client, &nil, &nil));
    CHECK_CODING(link.client, "(nil . raw-text-unix)");
    raw_send(link.peer, "\xc3\xa9\n");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 3, WAIT_MS));
    CHECK_OUTPUT(&s, link.client, "\xc3\xa9\n", 3);
    CHECK(s.multibyte_calls > 0);
    char pair[64];
    coding_system_text(link.client, pair, sizeof pair);
    CHECK(strncmp(pair, "(utf-8", 6) == 0);
    close_link(&link);
    sink_free(&s);
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

static void default_is_binary(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    struct sink s = {0};
    struct link link = open_link(ctx, listener, port, NULL, &s);
    CHECK_CODING(link.client, "(binary . binary)");
    CHECK(!netproc_process_filter_multibyte_p(link.client));
    raw_send(link.peer, "a\r\n\xff\xc3");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 5, WAIT_MS));
    CHECK_OUTPUT(&s, link.client, "a\r\n\xff\xc3", 5);
    CHECK_EQ(s.multibyte_calls, 0);
    CHECK_OK(ctx, netproc_process_send(link.client, (const uint8_t *)"u\nv\xff", 4));
    CHECK_OK(ctx, netproc_process_send_text(link.client, (const uint8_t *)"\xc3\xa9\xc1\xbf\n", 5));
    uint8_t wire[16];
    size_t got = drain_to_peer(ctx, &link, wire, sizeof wire);
    CHECK_MEM_EQ(wire, got, "u\nv\xff\xc3\xa9\xff\n", 8);
    sink_free(&s);
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* netproc_context_set_default_coding_system applies to processes made later without :coding
 * (Emacs: default-process-coding-system (utf-8 . utf-8) gives (utf-8 . utf-8)); processes made
 * before keep theirs, and :coding still wins. */
static void context_default_applies_to_new_processes(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    struct sink before_sink = {0}, after_sink = {0}, given_sink = {0};
    struct link before = open_link(ctx, listener, port, NULL, &before_sink);
    netproc_value utf8 = SYM("utf-8");
    CHECK_OK(ctx, netproc_context_set_default_coding_system(ctx, &utf8, &utf8));
    struct link after = open_link(ctx, listener, port, NULL, &after_sink);
    struct link given = open_link(ctx, listener, port, "latin-1", &given_sink);
    CHECK_CODING(before.client, "(binary . binary)");
    CHECK_CODING(after.client, "(utf-8 . utf-8)");
    CHECK_CODING(given.client, "(latin-1 . latin-1)");

    raw_send(before.peer, "\xc3\xa9\xff");
    raw_send(after.peer, "\xc3\xa9\xff");
    CHECK(PUMP_UNTIL(ctx, before_sink.rec.filter_bytes >= 3 && after_sink.rec.filter_bytes >= 4, WAIT_MS));
    CHECK_OUTPUT(&before_sink, before.client, "\xc3\xa9\xff", 3);
    CHECK_EQ(before_sink.multibyte_calls, 0);
    CHECK_OUTPUT(&after_sink, after.client, "\xc3\xa9\xc1\xbf", 4);
    CHECK_EQ(after_sink.unibyte_calls, 0);

    close_link(&before);
    close_link(&after);
    close_link(&given);
    sink_free(&before_sink);
    sink_free(&after_sink);
    sink_free(&given_sink);
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* The accepted connection of a netproc server made with :coding/with extra arguments;
 * `raw` gets the plain client socket. */
static netproc_process *accept_from_server(netproc_context *ctx, const netproc_arg *extra, size_t nextra,
                                           struct sink *s, netproc_process **server, int *raw) {
    netproc_arg args[8] = {
        ARG(":name", STR("srv")),
        ARG(":server", netproc_t()),
        ARG(":service", netproc_t()),
        ARG(":filter", netproc_filter(sink_filter, s)),
        ARG(":sentinel", netproc_sentinel(sink_sentinel, s)),
        ARG(":log", netproc_log(sink_log, s)),
    };
    size_t n = 6;
    CHECK(nextra <= NARGS(args) - n);
    for (size_t i = 0; i < nextra; i++) args[n++] = extra[i];
    CHECK_OK(ctx, netproc_make_network_process(ctx, args, n, server));
    *raw = raw_connect(AF_INET, contact_int(*server, ":service"));
    CHECK(PUMP_UNTIL(ctx, rec_find(&s->rec, 0, REC_LOG, *server, NULL) >= 0, WAIT_MS));
    netproc_process *conn = s->rec.events[rec_find(&s->rec, 0, REC_LOG, *server, NULL)].client;
    CHECK_NOT_NULL(conn);
    return conn;
}

/* Accepted connections copy the server's coding systems (Emacs: a utf-8-dos server's
 * connection shows (utf-8-dos . utf-8-dos) and decodes "x\r\ny" to "x\ny"), encoding included;
 * a server without :coding hands on the context default it got. */
static void server_coding_inherited_by_connections(void) {
    netproc_context *ctx = new_context();
    struct sink s = {0};
    netproc_process *server = NULL;
    int raw = -1;
    netproc_arg extra[] = {ARG(":coding", SYM("utf-8-dos"))};
    netproc_process *conn = accept_from_server(ctx, extra, NARGS(extra), &s, &server, &raw);
    CHECK_CODING(server, "(utf-8-dos . utf-8-dos)");
    CHECK_CODING(conn, "(utf-8-dos . utf-8-dos)");
    raw_send(raw, "x\r\n\xc3\xa9\r\n");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 5, WAIT_MS));
    CHECK_OUTPUT(&s, conn, "x\n\xc3\xa9\n", 5);
    CHECK_EQ(s.unibyte_calls, 0);
    CHECK_OK(ctx, netproc_process_send_text(conn, (const uint8_t *)"p\nq", 3));
    CHECK_OK(ctx, netproc_delete_process(conn));
    uint8_t wire[16];
    size_t got = 0;
    CHECK(peer_read(ctx, raw, wire, sizeof wire, &got, 0, true, WAIT_MS));
    CHECK_MEM_EQ(wire, got, "p\r\nq", 4);
    close(raw);
    CHECK_OK(ctx, netproc_delete_process(server));
    netproc_process_free(server);
    sink_free(&s);

    netproc_value utf8 = SYM("utf-8");
    CHECK_OK(ctx, netproc_context_set_default_coding_system(ctx, &utf8, &utf8));
    conn = accept_from_server(ctx, NULL, 0, &s, &server, &raw);
    CHECK_CODING(server, "(utf-8 . utf-8)");
    CHECK_CODING(conn, "(utf-8 . utf-8)");
    close(raw);
    CHECK_OK(ctx, netproc_delete_process(server));
    netproc_process_free(server);
    /* The connection's "deleted\n" sentinel runs here, into s. */
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    sink_free(&s);
}

/* A server's `:filter-multibyte nil` reaches its connections too (unibyte, raw-text), and
 * set_process_filter_multibyte(conn, true) brings the server's utf-8 back for that connection
 * (docs/DIFFERENCES.md; netproc extensions). */
static void server_filter_multibyte_nil_inherited_and_restorable(void) {
    netproc_context *ctx = new_context();
    struct sink s = {0};
    netproc_process *server = NULL;
    int raw = -1;
    netproc_arg extra[] = {ARG(":coding", SYM("utf-8")), ARG(":filter-multibyte", netproc_nil())};
    netproc_process *conn = accept_from_server(ctx, extra, NARGS(extra), &s, &server, &raw);
    CHECK_CODING(conn, "(raw-text . utf-8)");
    raw_send(raw, "\xff");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 1, WAIT_MS));
    CHECK_OUTPUT(&s, conn, "\xff", 1);
    CHECK_EQ(s.multibyte_calls, 0);
    CHECK_OK(ctx, netproc_set_process_filter_multibyte(conn, true));
    CHECK_CODING(conn, "(utf-8 . utf-8)");
    raw_send(raw, "\xff");
    CHECK(PUMP_UNTIL(ctx, s.rec.filter_bytes >= 3, WAIT_MS));
    CHECK_OUTPUT(&s, conn, "\xff\xc1\xbf", 3);
    CHECK_EQ(s.multibyte_calls, 1);
    close(raw);
    CHECK_OK(ctx, netproc_delete_process(server));
    netproc_process_free(server);
    /* The connection's "deleted\n" sentinel runs here, into s. */
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
    sink_free(&s);
}

/* ---- random splits ------------------------------------------------------------------ */

static uint64_t xorshift64(uint64_t *state) {
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static size_t rnd(uint64_t *state, size_t n) { return (size_t)(xorshift64(state) % n); }

/* Characters the random texts are made of, with their Shift_JIS bytes and JIS X 0208 code
 * (checked with Emacs's encode-coding-string); NULL / 0 where the system lacks one. */
struct token {
    const char *utf8;
    uint32_t cp;
    const char *sjis;
    uint16_t jis;
};

static const struct token tokens[] = {
    {"a", 'a', "a", 0},
    {"Z", 'Z', "Z", 0},
    {"5", '5', "5", 0},
    {" ", ' ', " ", 0},
    {"\\", '\\', "\\", 0},
    {"~", '~', "~", 0},
    {"\x1b", 0x1b, NULL, 0}, /* ESC in the text: not in ISO-2022-JP (it would be a designation) */
    {"\xc3\xa9", 0xE9, NULL, 0},                    /* é */
    {"\xe2\x82\xac", 0x20AC, NULL, 0},              /* € */
    {"\xf0\x9f\x98\x80", 0x1F600, NULL, 0},         /* 😀 */
    {"\xce\xa9", 0x3A9, "\x83\xb6", 0x2638},        /* Ω */
    {"\xe3\x81\x82", 0x3042, "\x82\xa0", 0x2422},   /* あ */
    {"\xe6\x97\xa5", 0x65E5, "\x93\xfa", 0x467C},   /* 日 */
    {"\xe6\x9c\xac", 0x672C, "\x96\x7b", 0x4B5C},   /* 本 */
    {"\xe8\xaa\x9e", 0x8A9E, "\x8c\xea", 0x386C},   /* 語 */
    {"\xe3\x82\xbd", 0x30BD, "\x83\x5c", 0x253D},   /* ソ */
    {"\xe3\x83\xbc", 0x30FC, "\x81\x5b", 0x213C},   /* ー */
    {"\xef\xbd\xb1", 0xFF71, "\xb1", 0},            /* ｱ (no JIS X 0208 code) */
};

enum fuzz_system { F_UTF8_DOS, F_SHIFT_JIS, F_UTF16LE, F_ISO2022JP, F_SYSTEMS };
static const char *const fuzz_names[F_SYSTEMS] = {"utf-8-dos", "shift_jis", "utf-16le", "iso-2022-jp"};

static bool token_fits(const struct token *t, enum fuzz_system sys) {
    bool ascii = t->cp < 0x80;
    switch (sys) {
    case F_UTF8_DOS:
    case F_UTF16LE: return true;
    case F_SHIFT_JIS: return ascii || t->sjis != NULL;
    default: return (ascii && t->cp != 0x1b) || t->jis != 0;
    }
}

struct buf {
    uint8_t bytes[1024];
    size_t len;
};

static void put(struct buf *b, const void *data, size_t n) {
    CHECK(b->len + n <= sizeof b->bytes);
    memcpy(b->bytes + b->len, data, n);
    b->len += n;
}

static void put_utf16le(struct buf *b, uint32_t cp) {
    uint8_t u[4];
    if (cp < 0x10000) {
        u[0] = (uint8_t)cp, u[1] = (uint8_t)(cp >> 8);
        put(b, u, 2);
    } else {
        uint32_t v = cp - 0x10000, hi = 0xD800 + (v >> 10), lo = 0xDC00 + (v & 0x3FF);
        u[0] = (uint8_t)hi, u[1] = (uint8_t)(hi >> 8), u[2] = (uint8_t)lo, u[3] = (uint8_t)(lo >> 8);
        put(b, u, 4);
    }
}

/* One round's text: its UTF-8 form, its encoding in `sys`, and what the filter must get. */
struct round_text {
    struct buf text, encoded, expected;
};

/* Random tokens and end-of-lines. utf-8-dos mixes CR, LF and CR LF freely (CR LF → LF, the
 * rest kept, a final CR included). The others decide their end-of-line from the data, so a
 * round uses one kind only (LF kept; CR LF → LF; CR → LF) and ends in a character, which
 * makes the result independent of where reads split. */
static void make_round_text(uint64_t *rng, enum fuzz_system sys, struct round_text *rt) {
    static const char *const eols[] = {"\n", "\r\n", "\r"};
    memset(rt, 0, sizeof *rt);
    size_t count = rnd(rng, 41);
    int eol_kind = (int)rnd(rng, 3);
    bool in_jis = false;
    for (size_t i = 0; i <= count; i++) {
        const struct token *t;
        const char *eol = NULL;
        bool last = i == count;
        if (last && sys == F_UTF8_DOS) break;
        if (!last && rnd(rng, 5) == 0) {
            eol = sys == F_UTF8_DOS ? eols[rnd(rng, 3)] : eols[eol_kind];
        }
        if (eol != NULL) {
            size_t n = strlen(eol);
            put(&rt->text, eol, n);
            if (sys == F_UTF16LE)
                for (size_t k = 0; k < n; k++) put_utf16le(&rt->encoded, (uint8_t)eol[k]);
            else {
                if (in_jis) put(&rt->encoded, "\x1b(B", 3), in_jis = false;
                put(&rt->encoded, eol, n);
            }
            continue;
        }
        do t = &tokens[rnd(rng, NARGS(tokens))];
        while (!token_fits(t, sys));
        size_t n = strlen(t->utf8);
        put(&rt->text, t->utf8, n);
        switch (sys) {
        case F_UTF8_DOS: put(&rt->encoded, t->utf8, n); break;
        case F_UTF16LE: put_utf16le(&rt->encoded, t->cp); break;
        case F_SHIFT_JIS: put(&rt->encoded, t->sjis ? t->sjis : t->utf8, strlen(t->sjis ? t->sjis : t->utf8)); break;
        default:
            if (t->jis != 0 && !in_jis) put(&rt->encoded, "\x1b$B", 3), in_jis = true;
            if (t->jis == 0 && in_jis) put(&rt->encoded, "\x1b(B", 3), in_jis = false;
            if (t->jis != 0) {
                uint8_t code[2] = {(uint8_t)(t->jis >> 8), (uint8_t)t->jis};
                put(&rt->encoded, code, 2);
            } else {
                put(&rt->encoded, t->utf8, n);
            }
        }
    }
    if (in_jis) put(&rt->encoded, "\x1b(B", 3);
    /* CR LF → LF (-dos, or detected -dos), CR → LF (detected -mac), or nothing (-unix). */
    bool cr_to_lf = sys != F_UTF8_DOS && eol_kind == 2;
    for (size_t i = 0; i < rt->text.len; i++) {
        uint8_t b = rt->text.bytes[i];
        if (b == '\r' && i + 1 < rt->text.len && rt->text.bytes[i + 1] == '\n') continue;
        put(&rt->expected, b == '\r' && cr_to_lf ? "\n" : (const char *)&rt->text.bytes[i], 1);
    }
}

static size_t random_read_max(uint64_t *rng) {
    static const size_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 13, 64, 65536};
    return sizes[rnd(rng, NARGS(sizes))];
}

/* Issue 4's property test: random texts (ASCII, multibyte characters, CR, LF, CR LF) in
 * utf-8-dos, shift_jis, utf-16le and iso-2022-jp, sent by the peer in random chunks with
 * short pumps between them while netproc's read size changes at random; the filter must get
 * exactly the expected text, in multibyte calls of whole characters. Fixed seed; fewer
 * rounds under CHECK_TIMEOUT_SCALE (valgrind). */
static void random_splits_decode_exactly(void) {
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    unsigned rounds = 3000 / check_timeout_scale_();
    if (rounds < 40) rounds = 40;
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    for (unsigned round = 0; round < rounds; round++) {
        enum fuzz_system sys = (enum fuzz_system)(round % F_SYSTEMS);
        struct round_text rt;
        make_round_text(&rng, sys, &rt);
        CHECK_OK(ctx, netproc_context_set_read_max(ctx, random_read_max(&rng)));
        struct sink s = {0};
        struct link link = open_link(ctx, listener, port, fuzz_names[sys], &s);
        for (size_t at = 0; at < rt.encoded.len;) {
            size_t chunk = 1 + rnd(&rng, rnd(&rng, 4) == 0 ? 64 : 8);
            if (chunk > rt.encoded.len - at) chunk = rt.encoded.len - at;
            raw_send_bytes(link.peer, rt.encoded.bytes + at, chunk);
            at += chunk;
            for (size_t polls = rnd(&rng, 3); polls > 0; polls--) CHECK(netproc_poll(ctx, 0) >= 0);
            if (rnd(&rng, 4) == 0) CHECK_OK(ctx, netproc_context_set_read_max(ctx, random_read_max(&rng)));
        }
        peer_closes(ctx, &link, &s);
        char out[2048];
        size_t n = sink_output(&s, link.client, out, sizeof out);
        if (n != rt.expected.len || memcmp(out, rt.expected.bytes, n) != 0 || s.cut_calls || s.unibyte_calls) {
            fprintf(stderr, "  round %u, %s, %zu bytes on the wire\n", round, fuzz_names[sys], rt.encoded.len);
            check_print_bytes_("text", rt.text.bytes, rt.text.len);
            check_print_bytes_("encoded", rt.encoded.bytes, rt.encoded.len);
        }
        CHECK_MEM_EQ(out, n, rt.expected.bytes, rt.expected.len);
        CHECK_EQ(s.unibyte_calls, 0);
        CHECK_EQ(s.cut_calls, 0);
        close_link(&link);
        sink_free(&s);
    }
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* ---- differences from Emacs 28.2 (docs/DIFFERENCES.md) --------------------------------- */

/* An unknown :coding with :nowait: Emacs 28.2 creates the process and signals
 * (coding-system-error NAME) later, from a pump; netproc signals it from the call itself,
 * and makes no process. */
static void unknown_coding_with_nowait_fails_at_once(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    netproc_arg args[] = {
        ARG(":name", STR("later")), ARG(":service", INT(port)), ARG(":nowait", netproc_t()),
        ARG(":coding", SYM("no-such-coding")),
    };
    netproc_process *p = NULL;
    CHECK_EQ(netproc_make_network_process(ctx, args, NARGS(args), &p), NETPROC_E_CODING);
    CHECK_NULL(p);
    CHECK_STR_EQ(last_error_symbol(ctx), "coding-system-error");
    size_t count = 1;
    CHECK_OK(ctx, netproc_process_list(ctx, NULL, 0, &count));
    CHECK_EQ(count, 0);
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* process-send-eof through iso-2022-jp: netproc returns the encoder to ASCII (ESC ( B)
 * before the EOF, so the stream ends valid; Emacs 28.2 writes nothing there. */
static void send_eof_returns_iso_2022_to_ascii(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    struct sink s = {0};
    struct link link = open_link(ctx, listener, port, "iso-2022-jp", &s);
    CHECK_OK(ctx, netproc_process_send_text(link.client, (const uint8_t *)"a\xe3\x81\x82", 4));
    CHECK_OK(ctx, netproc_process_send_eof(link.client));
    uint8_t wire[32];
    size_t got = 0;
    CHECK(peer_read(ctx, link.peer, wire, sizeof wire, &got, 0, true, WAIT_MS));
    CHECK_MEM_EQ(wire, got, "a\x1b$B$\"\x1b(B", 9);
    close_link(&link);
    sink_free(&s);
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

/* An empty multibyte string through utf-16: Emacs 28.2 writes a lone byte-order mark; netproc
 * sends nothing for empty data whatever the coding system (docs/DIFFERENCES.md), so the mark
 * comes with the first real text. */
static void empty_text_sends_nothing_even_through_utf_16(void) {
    netproc_context *ctx = new_context();
    long long port = 0;
    int listener = raw_listen(&port);
    struct sink s = {0};
    struct link link = open_link(ctx, listener, port, "utf-16", &s);
    CHECK_OK(ctx, netproc_process_send_text(link.client, (const uint8_t *)"", 0));
    CHECK_EQ(netproc_process_output_pending(link.client), 0);
    pump_for(ctx, 50);
    uint8_t probe[4];
    CHECK_EQ(recv(link.peer, probe, sizeof probe, MSG_DONTWAIT), -1);
    CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
    CHECK_OK(ctx, netproc_process_send_text(link.client, (const uint8_t *)"a", 1));
    uint8_t wire[16];
    size_t got = drain_to_peer(ctx, &link, wire, sizeof wire);
    CHECK_MEM_EQ(wire, got, "\xfe\xff\x00" "a", 4);
    sink_free(&s);
    close(listener);
    CHECK_EQ(netproc_context_free(ctx), NETPROC_OK);
}

int main(void) {
    static const struct test_case cases[] = {
        {"every_coding_system_matches_emacs_both_ways", every_coding_system_matches_emacs_both_ways, 20},
        {"split_positions_utf_8", split_positions_utf_8, 20},
        {"split_positions_shift_jis", split_positions_shift_jis, 20},
        {"split_positions_utf_16be", split_positions_utf_16be, 20},
        {"split_positions_utf_16_bom", split_positions_utf_16_bom, 20},
        {"split_positions_iso_2022_jp", split_positions_iso_2022_jp, 20},
        {"crlf_dos_one_byte_reads", crlf_dos_one_byte_reads, 10},
        {"crlf_dos_every_read_size", crlf_dos_every_read_size, 10},
        {"crlf_mac_and_unix", crlf_mac_and_unix, 10},
        {"invalid_bytes_kept_as_raw_pairs_and_sent_back", invalid_bytes_kept_as_raw_pairs_and_sent_back, 10},
        {"partial_character_at_eof_arrives_as_raw_bytes", partial_character_at_eof_arrives_as_raw_bytes, 10},
        {"encode_on_send", encode_on_send, 10},
        {"binary_and_raw_text_filters_get_unibyte", binary_and_raw_text_filters_get_unibyte, 10},
        {"filter_multibyte_nil_keyword_gives_unibyte", filter_multibyte_nil_keyword_gives_unibyte, 10},
        {"set_filter_multibyte_false_then_true_restores", set_filter_multibyte_false_then_true_restores, 10},
        {"coding_argument_forms", coding_argument_forms, 10},
        {"set_process_coding_system_forms", set_process_coding_system_forms, 10},
        {"unknown_coding_system_is_coding_system_error", unknown_coding_system_is_coding_system_error, 10},
        {"undecided_detection_reported", undecided_detection_reported, 10},
        {"undecided_crlf_split_across_reads_is_dos", undecided_crlf_split_across_reads_is_dos, 10},
        {"unknown_coding_with_nowait_fails_at_once", unknown_coding_with_nowait_fails_at_once, 10},
        {"send_eof_returns_iso_2022_to_ascii", send_eof_returns_iso_2022_to_ascii, 10},
        {"empty_text_sends_nothing_even_through_utf_16", empty_text_sends_nothing_even_through_utf_16, 10},
        {"nil_decoding_decodes_like_undecided", nil_decoding_decodes_like_undecided, 10},
        {"default_is_binary", default_is_binary, 10},
        {"context_default_applies_to_new_processes", context_default_applies_to_new_processes, 10},
        {"server_coding_inherited_by_connections", server_coding_inherited_by_connections, 10},
        {"server_filter_multibyte_nil_inherited_and_restorable", server_filter_multibyte_nil_inherited_and_restorable, 10},
        {"random_splits_decode_exactly", random_splits_decode_exactly, 30},
    };
    return run_tests(cases, NARGS(cases));
}
