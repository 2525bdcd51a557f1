/*
 * Pooling: 1,000 sequential GETs through one client reuse exactly one TCP connection.
 * Checked three ways here (pool stats, trace events, distinct nginx connection serials in
 * the access log) and once more by the runner (nginx's accepted-connections counter of a
 * private nginx, before/after this program).
 * Env: HTTPX_TEST_HTTP, HTTPX_TEST_ACCESS_LOG.
 */
#include "test_util.h"

#define N_REQUESTS 1000

static int connects = 0, reuses = 0, trace_frees = 0;

static void on_trace(void *ud, uint32_t event, double elapsed, const char *detail) {
    (void)ud;
    (void)elapsed;
    (void)detail;
    if (event == HTTPX_TRACE_CONNECT_START) connects++;
    if (event == HTTPX_TRACE_CONNECTION_REUSED) reuses++;
}

static void free_trace(void *ud) { (*(int *)ud)++; }

int main(void) {
    const char *base = need_env("HTTPX_TEST_HTTP");
    const char *access_log = need_env("HTTPX_TEST_ACCESS_LOG");
    const char *tag = unique_tag("seq");
    char url[512];
    snprintf(url, sizeof url, "%s/?t=%s", base, tag);

    httpx_client_config *cfg = NULL;
    httpx_client *client = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_trace(cfg, on_trace, &trace_frees, free_trace);
    /* Generous timeouts: under valgrind everything is slower. */
    httpx_client_config_set_timeouts(cfg, 30.0, 30.0, 30.0, 30.0);
    httpx_client_config_set_limits(cfg, 10, 10, 60.0);
    httpx_error *err = NULL;
    CHECK(httpx_client_new(cfg, &client, &err) == HTTPX_OK, "client created");
    t_show_error("client_new", &err);
    httpx_client_config_free(cfg);
    if (!client) return test_done();

    int ok = 0, max_total = 0;
    httpx_code first_error = HTTPX_OK;
    double t0 = now_s();
    for (int i = 0; i < N_REQUESTS; i++) {
        httpx_response *resp = NULL;
        httpx_code rc = httpx_client_get(client, url, &resp, &err);
        if (rc == HTTPX_OK && httpx_response_status(resp) == 200 && body_is(resp, "Hello, world!")) {
            ok++;
        } else if (first_error == HTTPX_OK) {
            first_error = rc ? rc : HTTPX_E_INTERNAL;
            printf("     request %d: %s status %u\n", i, httpx_code_str(rc), httpx_response_status(resp));
            t_show_error("get", &err);
        }
        httpx_error_free(err);
        err = NULL;
        httpx_response_free(resp);
        uintptr_t total = 0;
        httpx_client_pool_stats(client, &total, NULL);
        if ((int)total > max_total) max_total = (int)total;
    }
    double took = now_s() - t0;
    CHECK(ok == N_REQUESTS, "%d/%d sequential GETs succeeded (%.2f s, %.0f req/s)", ok, N_REQUESTS, took,
          N_REQUESTS / (took > 0 ? took : 1));
    CHECK(max_total == 1, "pool never held more than 1 connection (max %d)", max_total);

    uintptr_t total = 0, idle = 0;
    CHECK(httpx_client_pool_stats(client, &total, &idle) == HTTPX_OK && total == 1 && idle == 1,
          "pool_stats: 1 connection, idle (total %lu, idle %lu)", (unsigned long)total, (unsigned long)idle);
    CHECK(connects == 1, "trace: exactly 1 connect (got %d)", connects);
    CHECK(reuses == N_REQUESTS - 1, "trace: %d connection reuses (got %d)", N_REQUESTS - 1, reuses);

    long distinct = -1;
    long lines = log_wait_count(access_log, tag, N_REQUESTS, 10000, &distinct);
    CHECK(lines == N_REQUESTS, "access log: %d requests tagged %s (got %ld)", N_REQUESTS, tag, lines);
    CHECK(distinct == 1, "access log: all on 1 nginx connection (got %ld distinct)", distinct);

    httpx_client_free(client);
    CHECK(trace_frees == 1, "trace free_fn called exactly once (got %d)", trace_frees);
    return test_done();
}
