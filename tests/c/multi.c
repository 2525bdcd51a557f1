/*
 * The multi interface from C (issue #18), under valgrind like the other C tests.
 *  - NULL for every pointer of every httpx_multi_* / httpx_completion_* export.
 *  - 40 GETs (plain and HTTPS) driven by poll() on httpx_multi_fd with
 *    httpx_multi_timeout; every completion 200 with its body read; tags all seen once.
 *  - A failing transfer (nothing listens): its code and borrowed error; take_response
 *    refused; a second take_response refused.
 *  - httpx_multi_cancel of one transfer among several slow ones: HTTPX_E_CANCELLED at
 *    once; the others finish.
 *  - A multi freed with transfers in flight: nothing leaks (valgrind), the client still
 *    works and its pool has no connection left of them.
 *  - From inside a transfer's callback (a request hook), every call on that same multi
 *    is HTTPX_E_RECURSIVE_CALL (add, perform, next, cancel, timeout; fd is -1; free
 *    does nothing), and the transfer still completes.
 * Env: HTTPX_TEST_HTTP, HTTPX_TEST_HTTPS, HTTPX_TEST_CA.
 */
#include "test_util.h"

#include <poll.h>

static const char *http_base, *https_base, *ca;

static httpx_client *make_client(void) {
    httpx_client_config *cfg = NULL;
    httpx_client *c = NULL;
    httpx_error *err = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_ca_file(cfg, ca);
    httpx_client_config_set_timeouts(cfg, 20.0, 20.0, 20.0, 20.0);
    if (httpx_client_new(cfg, &c, &err) != HTTPX_OK) t_show_error("client_new", &err);
    httpx_client_config_free(cfg);
    return c;
}

static void add_get(httpx_multi *m, httpx_client *c, const char *base, const char *path, uint64_t tag) {
    char url[512];
    httpx_request *req = NULL;
    httpx_error *err = NULL;
    url_join(url, sizeof url, base, path);
    if (httpx_request_build(c, "GET", url, &req, &err) != HTTPX_OK) t_show_error("build", &err);
    if (httpx_multi_add(m, req, tag, &err) != HTTPX_OK) t_show_error("add", &err);
    httpx_request_free(req); /* the multi has its own copy */
}

/* Wait on the fd (poll) for at most httpx_multi_timeout, then perform. */
static uint32_t step(httpx_multi *m) {
    double t = -1;
    uint32_t running = 0;
    httpx_multi_timeout(m, &t);
    int ms = t < 0 ? 1000 : (int)(t * 1000.0) + 1;
    if (ms > 1000) ms = 1000;
    struct pollfd p = {httpx_multi_fd(m), POLLIN, 0};
    poll(&p, 1, ms);
    httpx_multi_perform(m, 0, &running);
    return running;
}

static void nulls(void) {
    httpx_multi *m = NULL;
    httpx_completion *c = NULL;
    httpx_response *r = NULL;
    double t = 0;
    uint32_t running = 7;
    CHECK_CODE(httpx_multi_new(NULL, &m), HTTPX_E_INVALID_ARGUMENT);
    CHECK(m == NULL, "multi_new(NULL) leaves *out");
    httpx_client *cl = make_client();
    CHECK_CODE(httpx_multi_new(cl, NULL), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_multi_add(NULL, NULL, 1, NULL), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_multi_perform(NULL, 0, &running), HTTPX_E_INVALID_ARGUMENT);
    CHECK(httpx_multi_fd(NULL) == -1, "fd(NULL) == -1");
    CHECK_CODE(httpx_multi_timeout(NULL, &t), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_multi_next(NULL, &c), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_multi_cancel(NULL, 1), HTTPX_E_INVALID_ARGUMENT);
    CHECK(httpx_completion_tag(NULL) == 0, "completion_tag(NULL) == 0");
    CHECK_CODE(httpx_completion_code(NULL), HTTPX_E_INVALID_ARGUMENT);
    CHECK(httpx_completion_error(NULL) == NULL, "completion_error(NULL) == NULL");
    CHECK_CODE(httpx_completion_take_response(NULL, &r), HTTPX_E_INVALID_ARGUMENT);
    httpx_completion_free(NULL);
    httpx_multi_free(NULL);
    CHECK_CODE(httpx_multi_new(cl, &m), HTTPX_OK);
    CHECK(httpx_multi_fd(m) >= 0, "fd is a descriptor");
    CHECK_CODE(httpx_multi_add(m, NULL, 1, NULL), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_multi_timeout(m, NULL), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_multi_timeout(m, &t), HTTPX_OK);
    CHECK(t == -1.0, "no transfer: no timer (%g)", t);
    CHECK_CODE(httpx_multi_next(m, NULL), HTTPX_E_INVALID_ARGUMENT);
    c = (httpx_completion *)1;
    CHECK_CODE(httpx_multi_next(m, &c), HTTPX_OK);
    CHECK(c == NULL, "nothing finished: *out = NULL");
    CHECK_CODE(httpx_multi_perform(m, 0.0 / 0.0, &running), HTTPX_E_INVALID_ARGUMENT);
    CHECK_CODE(httpx_multi_perform(m, 0, NULL), HTTPX_OK);
    CHECK_CODE(httpx_multi_perform(m, 0, &running), HTTPX_OK);
    CHECK(running == 0, "running 0");
    CHECK_CODE(httpx_multi_cancel(m, 42), HTTPX_OK);
    httpx_multi_free(m);
    httpx_client_free(cl);
}

static void many(void) {
    httpx_client *c = make_client();
    httpx_multi *m = NULL;
    CHECK_CODE(httpx_multi_new(c, &m), HTTPX_OK);
    enum { N = 40 };
    int seen[N] = {0};
    for (uint64_t i = 0; i < N; i++)
        add_get(m, c, i % 2 ? https_base : http_base, i % 4 == 3 ? "/files/small.txt" : "/status/200", i);
    double t = -1;
    httpx_multi_timeout(m, &t);
    CHECK(t == 0.0, "work pending: timeout 0 (%g)", t);
    int done = 0, good = 0;
    double start = now_s();
    while (done < N && now_s() - start < 60) {
        step(m);
        httpx_completion *comp = NULL;
        while (httpx_multi_next(m, &comp) == HTTPX_OK && comp) {
            uint64_t tag = httpx_completion_tag(comp);
            httpx_response *r = NULL;
            if (tag < N) seen[tag]++;
            if (httpx_completion_code(comp) == HTTPX_OK && httpx_completion_error(comp) == NULL &&
                httpx_completion_take_response(comp, &r) == HTTPX_OK) {
                const char *want = tag % 4 == 3 ? "Hello, world!" : "status 200";
                if (httpx_response_status(r) == 200 && body_is(r, want)) good++;
                httpx_response_free(r);
                CHECK_CODE(httpx_completion_take_response(comp, &r), HTTPX_E_INVALID_ARGUMENT);
            } else {
                printf("     tag %llu: %s\n", (unsigned long long)tag,
                       httpx_error_message(httpx_completion_error(comp)));
            }
            httpx_completion_free(comp);
            done++;
        }
    }
    int once = 1;
    for (int i = 0; i < N; i++) once &= seen[i] == 1;
    CHECK(done == N && good == N, "%d GETs through one multi: %d done, %d good", N, done, good);
    CHECK(once, "every tag completed exactly once");
    httpx_multi_free(m);
    httpx_client_free(c);
}

static void failing_and_cancel(void) {
    httpx_client *c = make_client();
    httpx_multi *m = NULL;
    httpx_multi_new(c, &m);
    add_get(m, c, "http://127.0.0.1:1", "/", 1); /* nothing listens on port 1 */
    for (uint64_t i = 10; i < 14; i++) add_get(m, c, http_base, "/slow-head", i);
    add_get(m, c, http_base, "/status/200", 20);
    int got_fail = 0, got_ok = 0, got_cancel = 0, slow_ok = 0;
    double start = now_s();
    uint32_t running = 1;
    int cancelled = 0;
    while (running > 0 && now_s() - start < 60) {
        running = step(m);
        if (!cancelled && now_s() - start > 0.3) {
            double t0 = now_s();
            CHECK_CODE(httpx_multi_cancel(m, 12), HTTPX_OK);
            cancelled = 1;
            httpx_completion *comp = NULL;
            httpx_multi_next(m, &comp);
            /* the cancelled one may come after earlier completions */
            while (comp && httpx_completion_tag(comp) != 12) {
                if (httpx_completion_tag(comp) == 1) got_fail++;
                if (httpx_completion_tag(comp) == 20) got_ok++;
                httpx_completion_free(comp);
                comp = NULL;
                httpx_multi_next(m, &comp);
            }
            CHECK(comp != NULL && httpx_completion_code(comp) == HTTPX_E_CANCELLED,
                  "cancelled transfer completes with HTTPX_E_CANCELLED at once (%.1f ms)", (now_s() - t0) * 1e3);
            if (comp) {
                const httpx_error *e = httpx_completion_error(comp);
                CHECK(e != NULL && httpx_error_code(e) == HTTPX_E_CANCELLED, "its error says so: %s",
                      httpx_error_message(e));
                got_cancel++;
            }
            httpx_completion_free(comp);
        }
        httpx_completion *comp = NULL;
        while (httpx_multi_next(m, &comp) == HTTPX_OK && comp) {
            uint64_t tag = httpx_completion_tag(comp);
            httpx_response *r = NULL;
            if (tag == 1) {
                got_fail++;
                CHECK_CODE(httpx_completion_code(comp), HTTPX_E_CONNECT);
                CHECK(httpx_completion_error(comp) != NULL, "failed transfer has an error: %s",
                      httpx_error_message(httpx_completion_error(comp)));
                CHECK_CODE(httpx_completion_take_response(comp, &r), HTTPX_E_INVALID_ARGUMENT);
                CHECK(r == NULL, "no response taken");
            } else if (tag == 20) {
                got_ok++;
            } else if (tag == 12) {
                got_cancel++;
            } else if (httpx_completion_code(comp) == HTTPX_OK) {
                slow_ok++;
            }
            httpx_completion_free(comp);
        }
    }
    CHECK(got_fail == 1 && got_ok == 1 && got_cancel == 1 && slow_ok == 3,
          "fail %d ok %d cancelled %d slow ok %d", got_fail, got_ok, got_cancel, slow_ok);
    httpx_multi_free(m);
    httpx_client_free(c);
}

static void free_in_flight(void) {
    httpx_client *c = make_client();
    httpx_multi *m = NULL;
    httpx_multi_new(c, &m);
    for (uint64_t i = 0; i < 6; i++) add_get(m, c, i % 2 ? https_base : http_base, "/slow-head", i);
    size_t total = 0, idle = 0;
    double start = now_s();
    while (now_s() - start < 20) {
        step(m);
        httpx_client_pool_stats(c, &total, &idle);
        if (total == 6) break;
    }
    CHECK(total == 6, "6 connections open (%zu)", total);
    httpx_multi_free(m);
    httpx_client_pool_stats(c, &total, &idle);
    CHECK(total == 0 && idle == 0, "freed multi: its connections closed, not pooled (%zu/%zu)", total, idle);
    /* The client still works. */
    httpx_response *r = NULL;
    char url[512];
    url_join(url, sizeof url, http_base, "/status/200");
    CHECK_CODE(httpx_client_get(c, url, &r, NULL), HTTPX_OK);
    httpx_response_free(r);
    httpx_client_free(c);
}

struct reentry {
    httpx_multi *m;
    httpx_request *req;
    int calls;
    httpx_code add, perform, next, cancel, timeout;
    int fd;
};

static httpx_code reenter_hook(void *ud, httpx_request *req) {
    struct reentry *r = ud;
    (void)req;
    httpx_completion *c = NULL;
    double t = 0;
    uint32_t running = 0;
    httpx_error *err = NULL;
    r->calls++;
    r->add = httpx_multi_add(r->m, r->req, 99, &err);
    httpx_error_free(err);
    r->perform = httpx_multi_perform(r->m, 0, &running);
    r->next = httpx_multi_next(r->m, &c);
    r->cancel = httpx_multi_cancel(r->m, 1);
    r->timeout = httpx_multi_timeout(r->m, &t);
    r->fd = httpx_multi_fd(r->m);
    httpx_multi_free(r->m); /* refused: the multi is in use */
    return HTTPX_OK;
}

static void reentrancy(void) {
    struct reentry r = {0};
    httpx_client_config *cfg = NULL;
    httpx_client *c = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_add_request_hook(cfg, reenter_hook, &r, NULL);
    httpx_client_new(cfg, &c, NULL);
    httpx_client_config_free(cfg);
    httpx_multi_new(c, &r.m);
    char url[512];
    url_join(url, sizeof url, http_base, "/status/200");
    httpx_request_build(c, "GET", url, &r.req, NULL);
    httpx_multi_add(r.m, r.req, 1, NULL);
    double start = now_s();
    int done = 0;
    while (!done && now_s() - start < 20) {
        step(r.m);
        httpx_completion *comp = NULL;
        while (httpx_multi_next(r.m, &comp) == HTTPX_OK && comp) {
            CHECK_CODE(httpx_completion_code(comp), HTTPX_OK);
            httpx_completion_free(comp);
            done = 1;
        }
    }
    CHECK(done && r.calls == 1, "the transfer completed (hook ran %d time)", r.calls);
    CHECK(r.add == HTTPX_E_RECURSIVE_CALL && r.perform == HTTPX_E_RECURSIVE_CALL && r.next == HTTPX_E_RECURSIVE_CALL &&
              r.cancel == HTTPX_E_RECURSIVE_CALL && r.timeout == HTTPX_E_RECURSIVE_CALL && r.fd == -1,
          "calls on the multi from its own callback are refused (add %s, perform %s, next %s, cancel %s, timeout %s, fd %d)",
          httpx_code_str(r.add), httpx_code_str(r.perform), httpx_code_str(r.next), httpx_code_str(r.cancel),
          httpx_code_str(r.timeout), r.fd);
    httpx_request_free(r.req);
    httpx_multi_free(r.m);
    httpx_client_free(c);
}

int main(void) {
    http_base = need_env("HTTPX_TEST_HTTP");
    https_base = need_env("HTTPX_TEST_HTTPS");
    ca = need_env("HTTPX_TEST_CA");
    nulls();
    many();
    failing_and_cancel();
    free_in_flight();
    reentrancy();
    return test_done();
}
