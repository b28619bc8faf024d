/*
 * netproc_testing.h — symbols libnetproc exports for its own tests, outside the public API.
 *
 * Not installed and not part of include/netproc.h: the library exports these so that the
 * C tests exercise the very library `make install` ships, but no host should call them.
 * Their definitions are in src/ffi (cbindgen leaves them out of the header: cbindgen.toml,
 * [export] exclude).
 */
#ifndef NETPROC_TESTING_H
#define NETPROC_TESTING_H

#include "netproc.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Testing aid for the panic boundary (src/ffi/context.rs): panics inside netproc, which must
 * come back as NETPROC_E_PANIC with the context marked unusable (later calls fail the same
 * way). NULL gives NETPROC_E_NULL.
 *
 * Thread: context thread only, else refused with NETPROC_E_WRONG_THREAD.
 */
enum netproc_status netproc_debug_panic(struct netproc_context *ctx);

#ifdef __cplusplus
}
#endif

#endif /* NETPROC_TESTING_H */
