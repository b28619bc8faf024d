/*
 * sanitizer_canary.c — does one bad thing on purpose, named by argv[1], so that
 * c-tests/sanitizer_canary.sh can prove a checker really checks: built with the
 * harness's ASan+UBSan flags and link line (Makefile: c-tests/bin-asan/%), or plain
 * under valgrind. "none" does nothing wrong: the control.
 *
 *   heap      write one byte past a malloc'd block   (ASan, valgrind)
 *   ub        signed integer overflow                (UBSan)
 *   leak      lose the only pointer to a block       (LSan, valgrind)
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netproc.h>

/* volatile: the compiler must not see (and fold, or warn about) what we do. */
static volatile size_t index_past_end = 16;
static volatile int big = INT_MAX;
static void *volatile keep;

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "none";
    /* Linked like the tests: the library's constructor and symbols are in the process. */
    printf("canary %s, linked with netproc %s\n", mode, netproc_version_string());
    if (strcmp(mode, "heap") == 0) {
        char *block = malloc(16);
        if (block == NULL)
            return 2;
        memset(block, 'a', 16);
        block[index_past_end] = 'x';
        printf("wrote past the end of %.1s\n", block);
        free(block);
    } else if (strcmp(mode, "ub") == 0) {
        int sum = big + 1;
        printf("INT_MAX + 1 = %d\n", sum);
    } else if (strcmp(mode, "leak") == 0) {
        keep = malloc(64);
        keep = NULL;
    } else if (strcmp(mode, "none") != 0) {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
