/*
 * bench/peer_sender.c — W1/W6 peer: listen on 127.0.0.1, print "PORT n", accept one
 * connection, write BYTES bytes of valid UTF-8 text (copies of bench_make_block()) in
 * WRITE-byte writes, then close.
 *
 *     peer_sender BYTES [WRITE (default 65536)]
 */
#include "common.h"

#define PROG "peer_sender"

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s BYTES [WRITE]\n", PROG);
        return 2;
    }
    unsigned long long total = strtoull(argv[1], NULL, 10);
    size_t write_size = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 65536;
    if (total == 0 || write_size == 0 || write_size > BENCH_BLOCK || BENCH_BLOCK % write_size != 0) {
        fprintf(stderr, "%s: BYTES > 0 and WRITE dividing 1 MiB\n", PROG);
        return 2;
    }
    alarm(900); /* every run is bounded */
    uint8_t *block = bench_make_block(NULL);
    if (block == NULL) bench_die(PROG, "out of memory");
    int port;
    int listener = bench_listen(PROG, SOCK_STREAM, 16, &port);
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) bench_die(PROG, "accept");
    close(listener);
    unsigned long long sent = 0;
    size_t off = 0;
    while (sent < total) {
        size_t n = write_size;
        if (n > total - sent) n = (size_t)(total - sent);
        if (!bench_write_all(fd, block + off, n)) bench_die(PROG, "send");
        sent += n;
        off = (off + n) % BENCH_BLOCK;
    }
    close(fd);
    free(block);
    return 0;
}
