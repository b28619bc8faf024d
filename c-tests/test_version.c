/* Version: header macros, Cargo.toml and the runtime library must agree. */
#include "check.h"

#include "netproc.h"

/* The macros must work in #if, where hosts use them for feature checks. */
#if NETPROC_VERSION_NUMBER != \
    NETPROC_VERSION_MAJOR * 10000 + NETPROC_VERSION_MINOR * 100 + NETPROC_VERSION_PATCH
#error "NETPROC_VERSION_NUMBER does not encode MAJOR.MINOR.PATCH"
#endif

static void header_number_encodes_parts(void) {
    CHECK(NETPROC_VERSION_MINOR < 100);
    CHECK(NETPROC_VERSION_PATCH < 100);
    CHECK_EQ(NETPROC_VERSION_NUMBER,
             NETPROC_VERSION_MAJOR * 10000 + NETPROC_VERSION_MINOR * 100 + NETPROC_VERSION_PATCH);
}

static void runtime_number_matches_header(void) {
    CHECK_EQ(netproc_version(), NETPROC_VERSION_NUMBER);
}

static void runtime_string_matches_header(void) {
    char want[48];
    const char *got = netproc_version_string();
    snprintf(want, sizeof want, "%d.%d.%d", (int)NETPROC_VERSION_MAJOR, (int)NETPROC_VERSION_MINOR,
             (int)NETPROC_VERSION_PATCH);
    CHECK_NOT_NULL(got);
    CHECK_STR_EQ(got, want);
    /* Static storage: the same pointer every time. */
    CHECK(netproc_version_string() == got);
}

/* The Makefile passes Cargo.toml's version as NETPROC_CARGO_VERSION. */
static void header_matches_cargo_toml(void) {
#ifdef NETPROC_CARGO_VERSION
    char want[48];
    snprintf(want, sizeof want, "%d.%d.%d", (int)NETPROC_VERSION_MAJOR, (int)NETPROC_VERSION_MINOR,
             (int)NETPROC_VERSION_PATCH);
    CHECK_STR_EQ(NETPROC_CARGO_VERSION, want);
#else
    SKIP_TEST("built without -DNETPROC_CARGO_VERSION");
#endif
}

int main(void) {
    static const struct test_case cases[] = {
        {"header_number_encodes_parts", header_number_encodes_parts, 5},
        {"runtime_number_matches_header", runtime_number_matches_header, 5},
        {"runtime_string_matches_header", runtime_string_matches_header, 5},
        {"header_matches_cargo_toml", header_matches_cargo_toml, 5},
    };
    return run_tests(cases, sizeof cases / sizeof cases[0]);
}
