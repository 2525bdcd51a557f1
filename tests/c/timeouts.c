/*
 * Timeouts: a server that accepts and never answers -> HTTPX_E_READ_TIMEOUT within the
 * timeout + 1 s (client-level and per-request timeouts); a body that stalls mid-way ->
 * READ_TIMEOUT from httpx_response_read; a full pool (max_connections 1, a streamed
 * response held open) -> HTTPX_E_POOL_TIMEOUT, and the pool works again once it is freed.
 * Env: HTTPX_TEST_FAULT_SILENT, HTTPX_TEST_FAULT_STALL_BODY, HTTPX_TEST_HTTP.
 */
#include "test_util.h"

static httpx_client *make_client(double connect, double read, double write, double pool, long max_conn) {
    httpx_client_config *cfg = NULL;
    httpx_client *c = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_timeouts(cfg, connect, read, write, pool);
    if (max_conn > 0) httpx_client_config_set_limits(cfg, max_conn, max_conn, 30.0);
    httpx_error *err = NULL;
    if (httpx_client_new(cfg, &c, &err) != HTTPX_OK) t_show_error("client_new", &err);
    httpx_client_config_free(cfg);
    return c;
}

static void read_timeout(const char *silent, const char *base) {
    const double timeout = 1.0;
    httpx_client *c = make_client(5.0, timeout, 5.0, 5.0, 0);
    if (!c) {
        CHECK(0, "client created");
        return;
    }
    /* Warm-up (a real exchange first), so the timed part is the timeout itself and not
     * first-use costs (which valgrind makes large). */
    char warm[512];
    snprintf(warm, sizeof warm, "%s/", base);
    httpx_response *resp = NULL;
    CHECK(httpx_client_get(c, warm, &resp, NULL) == HTTPX_OK, "warm-up GET %s", warm);
    httpx_response_free(resp);
    resp = NULL;
    httpx_error *err = NULL;
    double t0 = now_s();
    httpx_code rc = httpx_client_get(c, silent, &resp, &err);
    double took = now_s() - t0;
    CHECK(rc == HTTPX_E_READ_TIMEOUT, "GET from a silent server -> READ_TIMEOUT (got %s)", httpx_code_str(rc));
    CHECK(httpx_code_is_timeout(rc), "httpx_code_is_timeout(%s)", httpx_code_str(rc));
    CHECK(took >= timeout - 0.1 && took <= timeout + 1.0, "took %.2f s (read timeout %.1f s, allowed +1 s)", took,
          timeout);
    CHECK(resp == NULL, "resp_out untouched");
    CHECK(err && httpx_error_code(err) == rc && strlen(httpx_error_message(err)) > 0, "error: %s",
          err ? httpx_error_message(err) : "(none)");
    httpx_error_free(err);

    /* A per-request timeout overrides the client's. */
    httpx_request *req = NULL;
    httpx_request_build(c, "GET", silent, &req, NULL);
    CHECK(httpx_request_set_timeouts(req, 5.0, 0.5, 5.0, 5.0) == HTTPX_OK, "request read timeout 0.5 s");
    t0 = now_s();
    rc = httpx_client_send(c, req, &resp, NULL);
    took = now_s() - t0;
    CHECK(rc == HTTPX_E_READ_TIMEOUT, "per-request timeout -> READ_TIMEOUT (got %s)", httpx_code_str(rc));
    CHECK(took >= 0.4 && took <= 1.5, "took %.2f s (0.5 s timeout, allowed +1 s)", took);
    httpx_request_free(req);
    httpx_client_free(c);
}

static void stalled_body(const char *stall) {
    httpx_client *c = make_client(5.0, 1.0, 5.0, 5.0, 0);
    if (!c) {
        CHECK(0, "client created");
        return;
    }
    httpx_request *req = NULL;
    httpx_response *resp = NULL;
    httpx_request_new("GET", stall, &req, NULL);
    httpx_code rc = httpx_client_send_stream(c, req, &resp, NULL);
    CHECK(rc == HTTPX_OK && httpx_response_status(resp) == 200, "stalling server: head received (%s)",
          httpx_code_str(rc));
    if (resp) {
        uint8_t buf[256];
        uintptr_t n = 0, got = 0;
        httpx_code last = HTTPX_OK;
        double t0 = now_s();
        for (int i = 0; i < 100; i++) {
            last = httpx_response_read(resp, buf, sizeof buf, &n, NULL);
            if (last != HTTPX_OK || n == 0) break;
            got += n;
        }
        double took = now_s() - t0;
        CHECK(got == 3, "read the 3 bytes sent before the stall (got %lu)", (unsigned long)got);
        CHECK(last == HTTPX_E_READ_TIMEOUT, "then httpx_response_read -> READ_TIMEOUT (got %s)", httpx_code_str(last));
        CHECK(took <= 2.0, "within the 1 s read timeout + 1 s (%.2f s)", took);
        uintptr_t total = 9;
        httpx_client_pool_stats(c, &total, NULL);
        CHECK(total == 0, "the timed-out connection is closed, not pooled (pool total %lu)", (unsigned long)total);
        httpx_response_free(resp);
    }
    httpx_request_free(req);
    httpx_client_free(c);
}

static void pool_timeout(const char *base) {
    char big[512], small[512];
    snprintf(big, sizeof big, "%s/files/1m.bin", base);
    snprintf(small, sizeof small, "%s/", base);
    const double pool = 0.5;
    httpx_client *c = make_client(5.0, 10.0, 5.0, pool, 1);
    if (!c) {
        CHECK(0, "client created");
        return;
    }
    httpx_request *req = NULL;
    httpx_response *held = NULL;
    httpx_request_new("GET", big, &req, NULL);
    httpx_code rc = httpx_client_send_stream(c, req, &held, NULL);
    CHECK(rc == HTTPX_OK && httpx_response_status(held) == 200, "streamed GET of 1m.bin holds the only connection");
    uintptr_t total = 0, idle = 9;
    httpx_client_pool_stats(c, &total, &idle);
    CHECK(total == 1 && idle == 0, "pool: 1 connection, in use (total %lu, idle %lu)", (unsigned long)total,
          (unsigned long)idle);

    httpx_response *resp = NULL;
    httpx_error *err = NULL;
    double t0 = now_s();
    rc = httpx_client_get(c, small, &resp, &err);
    double took = now_s() - t0;
    CHECK(rc == HTTPX_E_POOL_TIMEOUT, "second GET with a full pool -> POOL_TIMEOUT (got %s)", httpx_code_str(rc));
    CHECK(httpx_code_is_timeout(rc), "POOL_TIMEOUT is a timeout");
    CHECK(took >= pool - 0.1 && took <= pool + 1.0, "took %.2f s (pool timeout %.1f s, allowed +1 s)", took, pool);
    CHECK(resp == NULL, "resp_out untouched");
    t_show_error("pool timeout (expected)", &err);

    /* Read part of the held body, then free it: the half-read connection is closed and the
     * pool has room again. */
    uint8_t buf[4096];
    uintptr_t n = 0;
    CHECK(held && httpx_response_read(held, buf, sizeof buf, &n, NULL) == HTTPX_OK && n > 0, "read %lu bytes of the held body",
          (unsigned long)n);
    httpx_response_free(held);
    httpx_client_pool_stats(c, &total, NULL);
    CHECK(total == 0, "freeing a half-read response closes its connection (pool total %lu)", (unsigned long)total);
    resp = NULL;
    rc = httpx_client_get(c, small, &resp, NULL);
    CHECK(rc == HTTPX_OK && httpx_response_status(resp) == 200, "after the free, a GET succeeds (%s)", httpx_code_str(rc));
    httpx_response_free(resp);

    /* A streamed body read to the end returns its connection to the pool. */
    held = NULL;
    rc = httpx_client_send_stream(c, req, &held, NULL);
    uintptr_t got = 0;
    for (int i = 0; rc == HTTPX_OK && i < 100000; i++) {
        rc = httpx_response_read(held, buf, sizeof buf, &n, NULL);
        if (rc != HTTPX_OK || n == 0) break;
        got += n;
    }
    CHECK(rc == HTTPX_OK && got == 1048576, "streamed 1m.bin to the end (%lu bytes)", (unsigned long)got);
    httpx_client_pool_stats(c, &total, &idle);
    CHECK(total == 1 && idle == 1, "connection back in the pool, idle (total %lu, idle %lu)", (unsigned long)total,
          (unsigned long)idle);
    resp = NULL;
    t0 = now_s();
    rc = httpx_client_get(c, small, &resp, NULL);
    CHECK(rc == HTTPX_OK && now_s() - t0 < pool, "next GET reuses it without waiting (%s)", httpx_code_str(rc));
    httpx_response_free(resp);
    httpx_response_free(held);
    httpx_request_free(req);
    httpx_client_free(c);
}

int main(void) {
    read_timeout(need_env("HTTPX_TEST_FAULT_SILENT"), need_env("HTTPX_TEST_HTTP"));
    stalled_body(need_env("HTTPX_TEST_FAULT_STALL_BODY"));
    pool_timeout(need_env("HTTPX_TEST_HTTP"));
    return test_done();
}
