/*
 * Basics: version string vs HTTPX_VERSION_* macros, names of every code, timeout
 * grouping, detailed errors (code + message) and their NULL handling. No server.
 */
#include "test_util.h"

int main(void) {
    /* httpx_version() matches the macros (which a Rust unit test ties to Cargo.toml). */
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", HTTPX_VERSION_MAJOR, HTTPX_VERSION_MINOR,
             HTTPX_VERSION_PATCH);
    const char *v = httpx_version();
    CHECK(v != NULL, "httpx_version() is not NULL");
    CHECK(v && strcmp(v, expected) == 0, "httpx_version() \"%s\" == macros \"%s\"", v ? v : "(null)",
          expected);
    CHECK(httpx_version() == v, "httpx_version() is static (same pointer twice)");

    /* Every defined code has its own name; names match the constant names. */
    static const struct {
        httpx_code code;
        const char *name;
    } codes[] = {
        {HTTPX_OK, "OK"},
        {HTTPX_E_INVALID_ARGUMENT, "INVALID_ARGUMENT"},
        {HTTPX_E_INVALID_URL, "INVALID_URL"},
        {HTTPX_E_UNSUPPORTED_PROTOCOL, "UNSUPPORTED_PROTOCOL"},
        {HTTPX_E_CONNECT_TIMEOUT, "CONNECT_TIMEOUT"},
        {HTTPX_E_READ_TIMEOUT, "READ_TIMEOUT"},
        {HTTPX_E_WRITE_TIMEOUT, "WRITE_TIMEOUT"},
        {HTTPX_E_POOL_TIMEOUT, "POOL_TIMEOUT"},
        {HTTPX_E_CONNECT, "CONNECT"},
        {HTTPX_E_READ, "READ"},
        {HTTPX_E_WRITE, "WRITE"},
        {HTTPX_E_CLOSE, "CLOSE"},
        {HTTPX_E_PROXY, "PROXY"},
        {HTTPX_E_TLS, "TLS"},
        {HTTPX_E_REMOTE_PROTOCOL, "REMOTE_PROTOCOL"},
        {HTTPX_E_LOCAL_PROTOCOL, "LOCAL_PROTOCOL"},
        {HTTPX_E_DECODING, "DECODING"},
        {HTTPX_E_TOO_MANY_REDIRECTS, "TOO_MANY_REDIRECTS"},
        {HTTPX_E_HTTP_STATUS, "HTTP_STATUS"},
        {HTTPX_E_STREAM_CONSUMED, "STREAM_CONSUMED"},
        {HTTPX_E_CLIENT_CLOSED, "CLIENT_CLOSED"},
        {HTTPX_E_CALLBACK, "CALLBACK"},
        {HTTPX_E_RECURSIVE_CALL, "RECURSIVE_CALL"},
        {HTTPX_E_IO, "IO"},
        {HTTPX_E_INTERNAL, "INTERNAL"},
    };
    size_t ncodes = sizeof codes / sizeof codes[0];
    int all_named = 1, all_distinct = 1, all_match = 1;
    for (size_t i = 0; i < ncodes; i++) {
        const char *s = httpx_code_str(codes[i].code);
        if (!s) {
            all_named = 0;
            printf("     code %u has a NULL name\n", codes[i].code);
            continue;
        }
        if (strcmp(s, codes[i].name) != 0) {
            all_match = 0;
            printf("     code %u is named \"%s\", expected \"%s\"\n", codes[i].code, s, codes[i].name);
        }
        for (size_t j = 0; j < i; j++) {
            if (codes[i].code == codes[j].code) all_distinct = 0;
        }
    }
    CHECK(all_named, "httpx_code_str is non-NULL for all %zu defined codes", ncodes);
    CHECK(all_match, "httpx_code_str names match the HTTPX_E_* constant names");
    CHECK(all_distinct, "code values are distinct");

    /* Any value at all gets a non-NULL static name; unknown ones are "UNKNOWN". */
    int never_null = 1;
    for (uint32_t c = 0; c < 1000; c++) {
        if (httpx_code_str(c) == NULL) never_null = 0;
    }
    CHECK(never_null, "httpx_code_str(0..999) never returns NULL");
    CHECK(strcmp(httpx_code_str(12345), "UNKNOWN") == 0, "httpx_code_str(12345) == \"UNKNOWN\"");
    CHECK(strcmp(httpx_code_str(UINT32_MAX), "UNKNOWN") == 0, "httpx_code_str(UINT32_MAX) == \"UNKNOWN\"");
    CHECK(strcmp(httpx_code_str(7), "UNKNOWN") == 0, "httpx_code_str(7) (a gap) == \"UNKNOWN\"");

    /* Timeouts sit together. */
    CHECK(httpx_code_is_timeout(HTTPX_E_CONNECT_TIMEOUT) == 1 && httpx_code_is_timeout(HTTPX_E_READ_TIMEOUT) == 1 &&
              httpx_code_is_timeout(HTTPX_E_WRITE_TIMEOUT) == 1 && httpx_code_is_timeout(HTTPX_E_POOL_TIMEOUT) == 1,
          "httpx_code_is_timeout is 1 for the four timeouts");
    CHECK(httpx_code_is_timeout(HTTPX_OK) == 0 && httpx_code_is_timeout(HTTPX_E_CONNECT) == 0 &&
              httpx_code_is_timeout(HTTPX_E_READ) == 0 && httpx_code_is_timeout(12345) == 0,
          "httpx_code_is_timeout is 0 for OK, CONNECT, READ and unknown codes");

    /* Detailed errors: NULL handling. */
    CHECK(httpx_error_code(NULL) == HTTPX_E_INVALID_ARGUMENT, "httpx_error_code(NULL) == INVALID_ARGUMENT");
    CHECK(httpx_error_message(NULL) != NULL && httpx_error_message(NULL)[0] == 0, "httpx_error_message(NULL) == \"\"");
    httpx_error_free(NULL);
    CHECK(1, "httpx_error_free(NULL) is a no-op");

    /* A real error: code + message, and err_out written only on failure. */
    httpx_error *err = NULL;
    httpx_request *req = NULL;
    httpx_code rc = httpx_request_new("GET", "not a url", &req, &err);
    CHECK(rc == HTTPX_E_INVALID_URL || rc == HTTPX_E_UNSUPPORTED_PROTOCOL,
          "httpx_request_new(\"not a url\") fails with INVALID_URL/UNSUPPORTED_PROTOCOL (got %s)", httpx_code_str(rc));
    CHECK(req == NULL, "req_out untouched on error");
    CHECK(err != NULL, "err_out written on error");
    CHECK(err && httpx_error_code(err) == rc, "httpx_error_code(err) == the returned code");
    CHECK(err && httpx_error_message(err) && strlen(httpx_error_message(err)) > 0, "error message is non-empty: \"%s\"",
          err ? httpx_error_message(err) : "");
    httpx_error_free(err);

    err = NULL;
    rc = httpx_request_new("GET", "http://127.0.0.1/", &req, &err);
    CHECK(rc == HTTPX_OK && req != NULL, "httpx_request_new(valid) succeeds");
    CHECK(err == NULL, "err_out untouched on success");
    httpx_request_free(req);

    /* err may be NULL. */
    req = NULL;
    rc = httpx_request_new("GET", "ftp://example.com/", &req, NULL);
    CHECK(rc == HTTPX_E_UNSUPPORTED_PROTOCOL, "ftp:// URL -> UNSUPPORTED_PROTOCOL with err NULL (got %s)",
          httpx_code_str(rc));
    CHECK(req == NULL, "req_out untouched");

    return test_done();
}
