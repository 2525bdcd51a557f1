/*
 * Tiny shared helpers for the C ABI tests in tests/c/ (driven by tests/c_api.rs).
 *
 * Each test program prints one line per check ("ok  ..." / "FAIL ...") and ends with
 * `return test_done();`, which exits non-zero if any check failed. Server URLs come from
 * environment variables set by the runner (see tests/c_api.rs):
 *   HTTPX_TEST_HTTP      http://127.0.0.1:PORT         (nginx, plain HTTP)
 *   HTTPX_TEST_HTTPS     https://localhost:PORT        (nginx, cert signed by HTTPX_TEST_CA)
 *   HTTPX_TEST_CA        path of the test CA (PEM)
 *   HTTPX_TEST_HTTPBIN   http://127.0.0.1:PORT         (httpbin under gunicorn)
 *   HTTPX_TEST_ACCESS_LOG, HTTPX_TEST_FILES_DIR, HTTPX_TEST_FAULT_*, ...
 *   HTTPX_TEST_VALGRIND  "1" when running under valgrind (tests may scale down loops)
 *
 * Include this header first: it sets _POSIX_C_SOURCE for clock_gettime/nanosleep.
 */
#ifndef HTTPX_TEST_UTIL_H
#define HTTPX_TEST_UTIL_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpx.h"

static int t_checks = 0;
static int t_failures = 0;

/* CHECK(cond, printf-format, ...): one output line per check; `cond` is evaluated once. */
#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        int t_ok_ = (cond) ? 1 : 0; /* evaluated exactly once */                \
        t_checks++;                                                             \
        if (!t_ok_) t_failures++;                                               \
        printf("%s", t_ok_ ? "ok   " : "FAIL ");                                \
        printf(__VA_ARGS__);                                                    \
        if (!t_ok_) printf("   [%s:%d: %s]", __FILE__, __LINE__, #cond);        \
        printf("\n");                                                           \
        fflush(stdout);                                                         \
    } while (0)

/* CHECK_CODE(expr, expected): an httpx_code, printed by name on failure. */
#define CHECK_CODE(expr, expected)                                              \
    do {                                                                        \
        httpx_code t_rc_ = (expr);                                              \
        httpx_code t_ex_ = (expected);                                          \
        CHECK(t_rc_ == t_ex_, "%s == %s (got %s)", #expr, httpx_code_str(t_ex_), \
              httpx_code_str(t_rc_));                                           \
    } while (0)

/* Print an error (if any) with context and free it; sets *err to NULL. */
static inline void t_show_error(const char *what, httpx_error **err) {
    if (err && *err) {
        printf("     %s: %s: %s\n", what, httpx_code_str(httpx_error_code(*err)),
               httpx_error_message(*err));
        httpx_error_free(*err);
        *err = NULL;
    }
}

static inline int test_done(void) {
    printf("%s: %d checks, %d failed\n", t_failures ? "FAILED" : "PASSED", t_checks, t_failures);
    fflush(stdout);
    return t_failures ? 1 : 0;
}

/* A required environment variable; exits 2 (with a message) when it is missing. */
static inline const char *need_env(const char *name) {
    const char *v = getenv(name);
    if (!v || !*v) {
        printf("FAIL environment variable %s is not set (run through tests/c_api.rs)\n", name);
        exit(2);
    }
    return v;
}

static inline int under_valgrind(void) {
    const char *v = getenv("HTTPX_TEST_VALGRIND");
    return v && strcmp(v, "1") == 0;
}

/* Integer from the environment, or `dflt`. */
static inline long env_long(const char *name, long dflt) {
    const char *v = getenv(name);
    if (!v || !*v) return dflt;
    return strtol(v, NULL, 10);
}

static inline double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

/* snprintf into a fixed buffer: base + path. */
static inline const char *url_join(char *buf, size_t cap, const char *base, const char *path) {
    snprintf(buf, cap, "%s%s", base, path);
    return buf;
}

/* Whole file into a malloc'd buffer (caller frees); NULL on error. */
static inline unsigned char *read_whole_file(const char *path, size_t *len_out) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    for (int i = 0; buf && i < 100000; i++) {
        if (len == cap) {
            unsigned char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        if (n == 0) break;
        len += n;
    }
    fclose(f);
    if (buf) *len_out = len;
    return buf;
}

/* The body of a response as a NUL-terminated copy (caller frees); NULL on error. */
static inline char *body_dup(httpx_response *resp) {
    const uint8_t *data = NULL;
    size_t len = 0;
    httpx_error *err = NULL;
    if (httpx_response_body(resp, &data, &len, &err) != HTTPX_OK) {
        t_show_error("httpx_response_body", &err);
        return NULL;
    }
    char *s = malloc(len + 1);
    if (!s) return NULL;
    memcpy(s, data, len);
    s[len] = 0;
    return s;
}

/* True if the response body equals `expected` exactly. */
static inline int body_is(httpx_response *resp, const char *expected) {
    const uint8_t *data = NULL;
    size_t len = 0;
    if (httpx_response_body(resp, &data, &len, NULL) != HTTPX_OK) return 0;
    return len == strlen(expected) && memcmp(data, expected, len) == 0;
}

/* True if the response body contains `needle`. */
static inline int body_has(httpx_response *resp, const char *needle) {
    char *s = body_dup(resp);
    int r = s && strstr(s, needle) != NULL;
    free(s);
    return r;
}

/*
 * nginx access log (format `httpx` of tests/support/nginx.conf.template): tab-separated,
 * field 1 = connection serial, field 4 = request URI. Counts lines whose URI contains
 * `needle`, and (if distinct_out) the number of distinct connections that carried them.
 */
static inline long log_count(const char *log_path, const char *needle, long *distinct_out) {
    FILE *f = fopen(log_path, "r");
    if (!f) return -1;
    char line[8192];
    long count = 0, ndistinct = 0;
    static unsigned long long seen[4096];
    for (long i = 0; i < 10000000 && fgets(line, sizeof line, f); i++) {
        char *conn = line;
        char *tab1 = strchr(conn, '\t');
        if (!tab1) continue;
        char *tab2 = strchr(tab1 + 1, '\t');
        if (!tab2) continue;
        char *tab3 = strchr(tab2 + 1, '\t');
        if (!tab3) continue;
        char *uri = tab3 + 1;
        char *tab4 = strchr(uri, '\t');
        if (!tab4) continue;
        *tab4 = 0;
        if (!strstr(uri, needle)) continue;
        count++;
        unsigned long long c = strtoull(conn, NULL, 10);
        int found = 0;
        for (long j = 0; j < ndistinct; j++) {
            if (seen[j] == c) {
                found = 1;
                break;
            }
        }
        if (!found && ndistinct < 4096) seen[ndistinct++] = c;
    }
    fclose(f);
    if (distinct_out) *distinct_out = ndistinct;
    return count;
}

/* Polls the access log (<= timeout_ms) until at least `want` lines contain `needle`. */
static inline long log_wait_count(const char *log_path, const char *needle, long want, long timeout_ms,
                           long *distinct_out) {
    long n = -1;
    for (long waited = 0; waited <= timeout_ms; waited += 20) {
        n = log_count(log_path, needle, distinct_out);
        if (n >= want) break;
        sleep_ms(20);
    }
    return n;
}

/* A tag unique to this process, for URLs whose log lines the test counts. */
static inline const char *unique_tag(const char *prefix) {
    static char tag[96];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(tag, sizeof tag, "%s-%ld-%ld", prefix, (long)ts.tv_sec, (long)ts.tv_nsec);
    return tag;
}

#endif /* HTTPX_TEST_UTIL_H */
