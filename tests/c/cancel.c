/*
 * Cancel tokens and the total timeout over HTTP/1.1, from C.
 *  - NULLs everywhere; fire idempotent; is_fired.
 *  - A token fired before the send: nothing is sent (the counting server sees no
 *    connection).
 *  - Fired from another thread while the send waits for a silent server: CANCELLED
 *    soon after the fire; the connection is closed, not pooled.
 *  - One token shared by 4 threads blocked on 4 requests: all CANCELLED.
 *  - A token freed (by its creator) while a request still holds it and a send using it
 *    runs: no invalid access (valgrind), the send ends by its total timeout.
 *  - Total timeout (client and request level) against a silent server with long
 *    per-phase timeouts -> TOTAL_TIMEOUT (a timeout code), also during a streamed body.
 *  - Cancel during httpx_response_read of a stalled body; cancel of a pool wait.
 * Env: HTTPX_TEST_FAULT_SILENT, HTTPX_TEST_FAULT_STALL_BODY, HTTPX_TEST_FAULT_COUNT.
 */
#include "test_util.h"

#include <pthread.h>

static const char *silent, *stall, *count_url;

/* Latency allowance: a fire must stop a send within 100 ms; valgrind slows everything
 * ~20x, and the machine is shared, so the check is generous and the numbers printed. */
static double slack(void) { return under_valgrind() ? 2.0 : 0.5; }

static httpx_client *make_client(double total, long max_conn) {
    httpx_client_config *cfg = NULL;
    httpx_client *c = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_timeouts(cfg, 10.0, 10.0, 10.0, 10.0);
    if (total >= 0) httpx_client_config_set_total_timeout(cfg, total);
    if (max_conn > 0) httpx_client_config_set_limits(cfg, max_conn, max_conn, 30.0);
    httpx_error *err = NULL;
    if (httpx_client_new(cfg, &c, &err) != HTTPX_OK) t_show_error("client_new", &err);
    httpx_client_config_free(cfg);
    return c;
}

struct firer {
    httpx_cancel *tok;
    long delay_ms;
    double fired_at;
};

static void *fire_later(void *arg) {
    struct firer *f = arg;
    sleep_ms(f->delay_ms);
    f->fired_at = now_s();
    httpx_cancel_fire(f->tok);
    return NULL;
}

static void nulls(void) {
    httpx_cancel *tok = NULL;
    CHECK_CODE(httpx_cancel_new(NULL), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_cancel_fire(NULL), HTTPX_E_INVALID_ARGUMENT);
    CHECK(httpx_cancel_is_fired(NULL) == 0, "is_fired(NULL) == 0");
    httpx_cancel_free(NULL);
    CHECK_CODE(httpx_request_set_cancel(NULL, NULL), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_request_set_total_timeout(NULL, 1.0), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_client_config_set_total_timeout(NULL, 1.0), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_cancel_new(&tok), HTTPX_OK);
    CHECK(tok && httpx_cancel_is_fired(tok) == 0, "new token not fired");
    CHECK_CODE(httpx_cancel_fire(tok), HTTPX_OK);
    CHECK_CODE(httpx_cancel_fire(tok), HTTPX_OK);
    CHECK(httpx_cancel_is_fired(tok) == 1, "fired token reports 1 (fire is idempotent)");
    httpx_request *req = NULL;
    httpx_request_new("GET", "http://127.0.0.1:1/", &req, NULL);
    CHECK_CODE(httpx_request_set_cancel(req, tok), HTTPX_OK);
    CHECK_CODE(httpx_request_set_cancel(req, NULL), HTTPX_OK);
    httpx_request_free(req);
    httpx_cancel_free(tok);
    CHECK(httpx_code_is_timeout(HTTPX_E_TOTAL_TIMEOUT) == 1, "TOTAL_TIMEOUT is a timeout");
    CHECK(httpx_code_is_timeout(HTTPX_E_CANCELLED) == 0, "CANCELLED is not a timeout");
    CHECK(strcmp(httpx_code_str(HTTPX_E_CANCELLED), "CANCELLED") == 0, "code_str(44)");
    CHECK(strcmp(httpx_code_str(HTTPX_E_TOTAL_TIMEOUT), "TOTAL_TIMEOUT") == 0, "code_str(14)");
}

/* The counting server answers with the number of connections it accepted so far. */
static long accepted(httpx_client *c) {
    httpx_response *resp = NULL;
    if (httpx_client_get(c, count_url, &resp, NULL) != HTTPX_OK) return -1;
    char *s = body_dup(resp);
    long n = s ? strtol(s, NULL, 10) : -1;
    free(s);
    httpx_response_free(resp);
    return n;
}

static void fired_before_send(void) {
    httpx_client *c = make_client(-1, 0);
    httpx_cancel *tok = NULL;
    httpx_cancel_new(&tok);
    long before = accepted(c);
    httpx_client_free(c);
    c = make_client(-1, 0); /* fresh pool: a send would need a new connection */
    httpx_cancel_fire(tok);
    httpx_request *req = NULL;
    httpx_request_build(c, "POST", count_url, &req, NULL);
    httpx_request_set_body(req, (const uint8_t *)"x", 1, NULL);
    httpx_request_set_cancel(req, tok);
    httpx_response *resp = NULL;
    httpx_error *err = NULL;
    httpx_code rc = httpx_client_send(c, req, &resp, &err);
    CHECK(rc == HTTPX_E_CANCELLED, "send with a fired token -> CANCELLED (got %s)", httpx_code_str(rc));
    CHECK(resp == NULL, "no response");
    CHECK(err && httpx_error_code(err) == HTTPX_E_CANCELLED, "error: %s", err ? httpx_error_message(err) : "-");
    httpx_error_free(err);
    long after = accepted(c);
    CHECK(before >= 0 && after == before + 1, "nothing was sent: server accepted %ld then %ld (only the check)",
          before, after);
    httpx_request_free(req);
    httpx_cancel_free(tok);
    httpx_client_free(c);
}

static void cancel_silent(void) {
    httpx_client *c = make_client(-1, 0);
    httpx_cancel *tok = NULL;
    httpx_cancel_new(&tok);
    httpx_request *req = NULL;
    httpx_request_build(c, "GET", silent, &req, NULL);
    httpx_request_set_cancel(req, tok);
    struct firer f = {tok, 300, 0};
    pthread_t th;
    pthread_create(&th, NULL, fire_later, &f);
    httpx_response *resp = NULL;
    httpx_code rc = httpx_client_send(c, req, &resp, NULL);
    double done = now_s();
    pthread_join(th, NULL);
    double lat = done - f.fired_at;
    CHECK(rc == HTTPX_E_CANCELLED, "silent server, fired after 300 ms -> CANCELLED (got %s)", httpx_code_str(rc));
    CHECK(lat < slack(), "returned %.1f ms after the fire", lat * 1000);
    size_t total = 9, idle = 9;
    httpx_client_pool_stats(c, &total, &idle);
    CHECK(total == 0 && idle == 0, "the cancelled connection is closed, not pooled (%zu, %zu)", total, idle);
    /* The same request, token still fired: fails at once. */
    rc = httpx_client_send(c, req, &resp, NULL);
    CHECK(rc == HTTPX_E_CANCELLED, "resend with the fired token -> CANCELLED");
    httpx_request_free(req);
    httpx_cancel_free(tok);
    httpx_client_free(c);
}

struct worker {
    httpx_client *c;
    httpx_cancel *tok;
    httpx_code rc;
    double done;
};

static void *send_silent(void *arg) {
    struct worker *w = arg;
    httpx_request *req = NULL;
    httpx_request_build(w->c, "GET", silent, &req, NULL);
    httpx_request_set_cancel(req, w->tok);
    httpx_response *resp = NULL;
    w->rc = httpx_client_send(w->c, req, &resp, NULL);
    w->done = now_s();
    httpx_response_free(resp);
    httpx_request_free(req);
    return NULL;
}

static void shared_by_four(void) {
    httpx_client *c = make_client(-1, 0);
    httpx_cancel *tok = NULL;
    httpx_cancel_new(&tok);
    struct worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){c, tok, -1, 0};
        pthread_create(&th[i], NULL, send_silent, &w[i]);
    }
    sleep_ms(under_valgrind() ? 1500 : 400);
    double fired = now_s();
    httpx_cancel_fire(tok);
    int all = 1;
    double worst = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        if (w[i].rc != HTTPX_E_CANCELLED) all = 0;
        if (w[i].done - fired > worst) worst = w[i].done - fired;
    }
    CHECK(all, "4 threads sharing one token: all CANCELLED");
    CHECK(worst < slack(), "slowest returned %.1f ms after the fire", worst * 1000);
    httpx_cancel_free(tok);
    httpx_client_free(c);
}

static void *free_later(void *arg) {
    sleep_ms(200);
    httpx_cancel_free(arg);
    return NULL;
}

static void freed_while_held(void) {
    httpx_client *c = make_client(-1, 0);
    httpx_cancel *tok = NULL;
    httpx_cancel_new(&tok);
    httpx_request *req = NULL;
    httpx_request_build(c, "GET", silent, &req, NULL);
    httpx_request_set_cancel(req, tok);
    httpx_request_set_total_timeout(req, under_valgrind() ? 3.0 : 1.0);
    httpx_cancel_free(tok); /* the request keeps its own reference */
    httpx_request *copy = NULL;
    CHECK_CODE(httpx_request_clone(req, &copy), HTTPX_OK);
    httpx_response *resp = NULL;
    httpx_code rc = httpx_client_send(c, req, &resp, NULL);
    CHECK(rc == HTTPX_E_TOTAL_TIMEOUT, "token freed before the send: send runs, ends by total timeout (got %s)",
          httpx_code_str(rc));

    /* Freed during the send, on another thread. */
    httpx_cancel *tok2 = NULL;
    httpx_cancel_new(&tok2);
    httpx_request_set_cancel(copy, tok2);
    pthread_t th;
    /* free from a thread while main sends */
    pthread_create(&th, NULL, free_later, tok2);
    rc = httpx_client_send(c, copy, &resp, NULL);
    pthread_join(th, NULL);
    CHECK(rc == HTTPX_E_TOTAL_TIMEOUT, "token freed during the send -> still TOTAL_TIMEOUT (got %s)",
          httpx_code_str(rc));
    httpx_request_free(copy);
    httpx_request_free(req);
    httpx_client_free(c);
}

static void total_timeouts(void) {
    double t = under_valgrind() ? 1.5 : 0.5;
    httpx_client *c = make_client(t, 0);
    httpx_response *resp = NULL;
    httpx_error *err = NULL;
    double t0 = now_s();
    httpx_code rc = httpx_client_get(c, silent, &resp, &err);
    double took = now_s() - t0;
    CHECK(rc == HTTPX_E_TOTAL_TIMEOUT, "client total timeout %.1f s, read timeout 10 s -> TOTAL_TIMEOUT (got %s)", t,
          httpx_code_str(rc));
    CHECK(httpx_code_is_timeout(rc), "is a timeout");
    CHECK(took >= t - 0.05 && took < t + slack(), "took %.3f s (overshoot %.1f ms)", took, (took - t) * 1000);
    CHECK(err && strstr(httpx_error_message(err), "total"), "message: %s", err ? httpx_error_message(err) : "-");
    httpx_error_free(err);
    err = NULL;

    /* A request may lift it (negative = none for this request) or shorten it. */
    httpx_request *req = NULL;
    httpx_request_build(c, "GET", silent, &req, NULL);
    httpx_request_set_total_timeout(req, t / 2);
    t0 = now_s();
    rc = httpx_client_send(c, req, &resp, NULL);
    took = now_s() - t0;
    CHECK(rc == HTTPX_E_TOTAL_TIMEOUT && took < t / 2 + slack(), "request total %.2f s -> TOTAL_TIMEOUT in %.3f s",
          t / 2, took);
    httpx_request_set_total_timeout(req, -1);
    httpx_request_set_timeouts(req, 5.0, t, 5.0, 5.0);
    rc = httpx_client_send(c, req, &resp, NULL);
    CHECK(rc == HTTPX_E_READ_TIMEOUT, "request total -1 (none): the read timeout fires instead (got %s)",
          httpx_code_str(rc));
    httpx_request_free(req);

    /* During a streamed body: the head arrives, the body stalls. */
    req = NULL;
    httpx_request_build(c, "GET", stall, &req, NULL);
    t0 = now_s();
    rc = httpx_client_send_stream(c, req, &resp, NULL);
    CHECK(rc == HTTPX_OK, "stalled body: head arrives (%s)", httpx_code_str(rc));
    if (rc == HTTPX_OK) {
        uint8_t buf[256];
        size_t n = 0;
        httpx_code r = HTTPX_OK;
        for (int i = 0; i < 10 && r == HTTPX_OK; i++) {
            r = httpx_response_read(resp, buf, sizeof buf, &n, NULL);
            if (r == HTTPX_OK && n == 0) break;
        }
        took = now_s() - t0;
        CHECK(r == HTTPX_E_TOTAL_TIMEOUT, "httpx_response_read -> TOTAL_TIMEOUT (got %s)", httpx_code_str(r));
        CHECK(took < t + slack(), "after %.3f s", took);
        httpx_response_free(resp);
    }
    httpx_request_free(req);
    httpx_client_free(c);
}

static void cancel_body_and_pool(void) {
    httpx_client *c = make_client(-1, 1);
    httpx_cancel *tok = NULL;
    httpx_cancel_new(&tok);
    httpx_request *req = NULL;
    httpx_request_build(c, "GET", stall, &req, NULL);
    httpx_request_set_cancel(req, tok);
    httpx_response *held = NULL;
    httpx_code rc = httpx_client_send_stream(c, req, &held, NULL);
    CHECK(rc == HTTPX_OK, "stalled body: head arrives");

    /* Pool of 1 is taken by `held`: a second send waits for a slot. */
    httpx_cancel *tok2 = NULL;
    httpx_cancel_new(&tok2);
    httpx_request *req2 = NULL;
    httpx_request_build(c, "GET", stall, &req2, NULL);
    httpx_request_set_cancel(req2, tok2);
    struct firer f2 = {tok2, 300, 0};
    pthread_t th2;
    pthread_create(&th2, NULL, fire_later, &f2);
    httpx_response *r2 = NULL;
    rc = httpx_client_send(c, req2, &r2, NULL);
    double done = now_s();
    pthread_join(th2, NULL);
    CHECK(rc == HTTPX_E_CANCELLED, "waiting for a pool slot, fired -> CANCELLED (got %s)", httpx_code_str(rc));
    CHECK(done - f2.fired_at < slack(), "%.1f ms after the fire", (done - f2.fired_at) * 1000);

    if (held) {
        uint8_t buf[256];
        size_t n = 0;
        httpx_code r = httpx_response_read(held, buf, sizeof buf, &n, NULL);
        CHECK(r == HTTPX_OK && n == 3, "first 3 body bytes read");
        struct firer f = {tok, 300, 0};
        pthread_t th;
        pthread_create(&th, NULL, fire_later, &f);
        r = httpx_response_read(held, buf, sizeof buf, &n, NULL);
        done = now_s();
        pthread_join(th, NULL);
        CHECK(r == HTTPX_E_CANCELLED, "httpx_response_read of a stalled body, fired -> CANCELLED (got %s)",
              httpx_code_str(r));
        CHECK(done - f.fired_at < slack(), "%.1f ms after the fire", (done - f.fired_at) * 1000);
        r = httpx_response_read(held, buf, sizeof buf, &n, NULL);
        CHECK(r != HTTPX_OK || n == 0, "no more data after the cancel");
        httpx_response_free(held);
    }
    size_t total = 9, idle = 9;
    httpx_client_pool_stats(c, &total, &idle);
    CHECK(total == 0, "the cancelled connection is closed, not pooled (total %zu)", total);
    httpx_request_free(req);
    httpx_request_free(req2);
    httpx_cancel_free(tok);
    httpx_cancel_free(tok2);
    httpx_client_free(c);
}

int main(void) {
    silent = need_env("HTTPX_TEST_FAULT_SILENT");
    stall = need_env("HTTPX_TEST_FAULT_STALL_BODY");
    count_url = need_env("HTTPX_TEST_FAULT_COUNT");
    nulls();
    fired_before_send();
    cancel_silent();
    shared_by_four();
    freed_while_held();
    total_timeouts();
    cancel_body_and_pool();
    return test_done();
}
