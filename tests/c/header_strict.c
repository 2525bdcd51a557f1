/*
 * Compile-only check (tests/c_api.rs, header_compiles_strictly): httpx.h is self-contained,
 * guarded against double inclusion, and clean under strict warnings in C99..C2x and C++
 * (this file is also compiled as C++ with -x c++).
 */
#include "httpx.h"
#include "httpx.h" /* include guard */

#ifdef __cplusplus
extern "C" {
#endif
int httpx_header_strict_check(void);
#ifdef __cplusplus
}
#endif

int httpx_header_strict_check(void) {
    httpx_code codes[] = {HTTPX_OK, HTTPX_E_INVALID_ARGUMENT, HTTPX_E_READ_TIMEOUT, HTTPX_E_INTERNAL};
    httpx_auth_fn auth_fn = NULL;
    httpx_transport_fn transport_fn = NULL;
    httpx_read_fn read_fn = NULL;
    httpx_free_fn free_fn = NULL;
    (void)auth_fn;
    (void)transport_fn;
    (void)read_fn;
    (void)free_fn;
    return httpx_version() != NULL && codes[0] == 0 && HTTPX_AUTH_DONE != HTTPX_AUTH_SEND ? 0 : 1;
}
