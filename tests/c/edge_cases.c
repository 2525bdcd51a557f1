/*
 * Edge cases of the C API: zero-capacity reads, closing a client with a response still
 * streaming, cookie jar round trips and buffer sizes, request clones, recursion from hooks
 * and auth flows, hooks reading the body, a callback transport on many threads, progress
 * cancelling, builder validation, form / JSON / multipart bodies (httpbin), redirect loops,
 * decompression limits, URL credentials, stale pooled connections, keep-alive expiry.
 * Env: HTTPX_TEST_HTTP, HTTPX_TEST_HTTPBIN, HTTPX_TEST_FAULT_CLOSE_AFTER_RESPONSE.
 */
#include "test_util.h"

#include <pthread.h>
#include <stdatomic.h>

static const char *base, *bin;
static char ubuf[512];
#define U(path) url_join(ubuf, sizeof ubuf, base, path)

static httpx_client *simple_client(void) {
    httpx_client *c = NULL;
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_timeout(cfg, 30.0);
    httpx_client_new(cfg, &c, NULL);
    httpx_client_config_free(cfg);
    return c;
}

static void zero_capacity_read_and_close(void) {
    httpx_client *c = simple_client();
    httpx_request *req = NULL;
    httpx_response *resp = NULL;
    httpx_request_new("GET", U("/files/64k.bin"), &req, NULL);
    CHECK(httpx_client_send_stream(c, req, &resp, NULL) == HTTPX_OK, "send_stream /files/64k.bin");
    uint8_t buf[4096];
    uintptr_t n = 77;
    CHECK(httpx_response_read(resp, buf, 0, &n, NULL) == HTTPX_OK && n == 0, "read with cap 0 -> 0 bytes");
    uintptr_t total = 0, idle = 0;
    httpx_client_pool_stats(c, &total, &idle);
    CHECK(total == 1 && idle == 0, "a cap-0 read does not end the body (connection still in use: total %lu idle %lu)",
          (unsigned long)total, (unsigned long)idle);

    /* Close the client while the body streams: reading goes on, new sends fail. */
    CHECK(httpx_client_close(c) == HTTPX_OK, "client_close with a response in flight");
    CHECK(httpx_client_close(c) == HTTPX_OK, "client_close is idempotent");
    size_t got = 0;
    httpx_code rc = HTTPX_OK;
    for (int i = 0; i < 10000; i++) {
        rc = httpx_response_read(resp, buf, sizeof buf, &n, NULL);
        if (rc != HTTPX_OK || n == 0) break;
        got += n;
    }
    CHECK(rc == HTTPX_OK && got == 65536, "the response still reads to the end after close (%lu bytes, %s)",
          (unsigned long)got, httpx_code_str(rc));
    httpx_response *r2 = NULL;
    rc = httpx_client_send(c, req, &r2, NULL);
    CHECK(rc == HTTPX_E_CLIENT_CLOSED && r2 == NULL, "send after close -> CLIENT_CLOSED (got %s)", httpx_code_str(rc));
    httpx_response_free(resp);
    httpx_request_free(req);
    httpx_client_free(c);

    /* Free the client (not just close it) while a response streams: the response keeps
     * what it needs (valgrind would flag a use-after-free). */
    c = simple_client();
    req = NULL;
    resp = NULL;
    httpx_request_new("GET", U("/files/64k.bin"), &req, NULL);
    rc = httpx_client_send_stream(c, req, &resp, NULL);
    httpx_request_free(req);
    httpx_client_free(c);
    got = 0;
    for (int i = 0; rc == HTTPX_OK && i < 10000; i++) {
        rc = httpx_response_read(resp, buf, sizeof buf, &n, NULL);
        if (rc != HTTPX_OK || n == 0) break;
        got += n;
    }
    CHECK(rc == HTTPX_OK && got == 65536, "a response outlives its freed client and reads to the end (%lu bytes, %s)",
          (unsigned long)got, httpx_code_str(rc));
    httpx_response_free(resp);
}

static void cookies(void) {
    httpx_client *c = simple_client();
    httpx_response *resp = NULL;
    CHECK(httpx_client_get(c, U("/set-cookie"), &resp, NULL) == HTTPX_OK, "GET /set-cookie");
    httpx_response_free(resp);
    resp = NULL;
    CHECK(httpx_client_get(c, U("/cookies"), &resp, NULL) == HTTPX_OK && body_is(resp, "a=1; b=2"),
          "the jar sends a=1; b=2 back");
    httpx_response_free(resp);

    httpx_cookie_list *list = NULL;
    CHECK(httpx_client_cookies(c, &list) == HTTPX_OK && httpx_cookie_list_count(list) == 2, "jar snapshot has 2 cookies");
    const char *name = NULL, *value = NULL, *domain = NULL, *path = NULL;
    int32_t secure = 9;
    int64_t expires = 0;
    CHECK(httpx_cookie_list_at(list, 0, &name, &value, &domain, &path, &secure, &expires) == HTTPX_OK &&
              strcmp(name, "a") == 0 && strcmp(value, "1") == 0 && strcmp(path, "/") == 0 && secure == 0 && expires == -1,
          "cookie 0: a=1 path / not secure, session (domain %s)", domain ? domain : "(null)");

    char buf[8];
    uintptr_t len = 0;
    int32_t found = 0;
    /* "1" needs 2 bytes with the NUL: a 1-byte buffer is too small. */
    CHECK(httpx_client_cookie_get(c, "a", NULL, NULL, buf, 1, &len, &found) == HTTPX_E_INVALID_ARGUMENT && len == 1,
          "cookie_get with cap == length (no room for NUL) -> INVALID_ARGUMENT, len_out = 1");
    CHECK(httpx_client_cookie_get(c, "a", NULL, NULL, buf, 2, &len, &found) == HTTPX_OK && found == 1 && strcmp(buf, "1") == 0,
          "cookie_get with cap == length + 1 works");

    uintptr_t removed = 0;
    CHECK(httpx_client_cookie_delete(c, "a", NULL, NULL, &removed) == HTTPX_OK && removed == 1, "delete a (1 removed)");
    CHECK(httpx_cookie_list_count(list) == 2, "the earlier snapshot is unaffected");
    httpx_cookie_list_free(list);
    CHECK(httpx_client_cookie_set(c, "c", "3", NULL, NULL) == HTTPX_OK, "cookie_set c=3");
    CHECK(httpx_client_cookie_set(c, "bad", "x;y", NULL, NULL) == HTTPX_E_INVALID_ARGUMENT, "cookie value with ';' refused");
    resp = NULL;
    char *sent = NULL;
    if (httpx_client_get(c, U("/cookies"), &resp, NULL) == HTTPX_OK) sent = body_dup(resp);
    CHECK(sent && strstr(sent, "b=2") && strstr(sent, "c=3") && !strstr(sent, "a=1"), "jar now sends b=2 and c=3 (%s)",
          sent ? sent : "(null)");
    free(sent);
    httpx_response_free(resp);
    CHECK(httpx_client_cookie_clear(c) == HTTPX_OK, "cookie_clear");
    resp = NULL;
    CHECK(httpx_client_get(c, U("/cookies"), &resp, NULL) == HTTPX_OK && body_is(resp, ""), "no cookies after clear");
    httpx_response_free(resp);
    httpx_client_free(c);
}

static void clones(void) {
    httpx_request *a = NULL, *b = NULL;
    httpx_request_new("POST", U("/echo"), &a, NULL);
    httpx_request_set_header(a, "X-One", "1");
    httpx_request_set_body(a, (const uint8_t *)"body-a", 6, "text/plain");
    CHECK(httpx_request_clone(a, &b) == HTTPX_OK, "request_clone");
    httpx_request_set_header(b, "X-One", "changed");
    httpx_request_set_body(b, (const uint8_t *)"body-b", 6, NULL);
    const uint8_t *d = NULL;
    uintptr_t l = 0;
    CHECK(strcmp(httpx_request_header_get(a, "X-One"), "1") == 0, "editing the clone leaves the original's headers");
    CHECK(httpx_request_body(a, &d, &l) == HTTPX_OK && l == 6 && memcmp(d, "body-a", 6) == 0,
          "... and its body");
    httpx_request_free(a); /* the clone is independent */
    httpx_client *c = simple_client();
    httpx_response *resp = NULL;
    CHECK(httpx_client_send(c, b, &resp, NULL) == HTTPX_OK && body_is(resp, "body-b"), "the clone sends its own body");
    httpx_response_free(resp);
    httpx_request_free(b);
    httpx_client_free(c);
}

/* ---- recursion from hooks and flows; hooks reading the body ---- */

struct rec {
    httpx_client *client;
    httpx_code inner;
    int body_len_in_hook;
};
static httpx_code recursive_hook(void *ud, httpx_request *req) {
    struct rec *r = ud;
    httpx_response *resp = NULL;
    r->inner = httpx_client_send(r->client, req, &resp, NULL);
    httpx_response_free(resp);
    return HTTPX_OK;
}
static httpx_code body_reading_hook(void *ud, httpx_response *resp) {
    struct rec *r = ud;
    const uint8_t *d = NULL;
    uintptr_t l = 0;
    if (httpx_response_body(resp, &d, &l, NULL) == HTTPX_OK) r->body_len_in_hook = (int)l;
    return HTTPX_OK;
}
static uint32_t recursive_flow(void *ud, httpx_auth_flow *flow) {
    struct rec *r = ud;
    if (httpx_auth_flow_response(flow)) return HTTPX_AUTH_DONE;
    httpx_response *resp = NULL;
    r->inner = httpx_client_send(r->client, httpx_auth_flow_request(flow), &resp, NULL);
    httpx_response_free(resp);
    return HTTPX_AUTH_SEND;
}

static void recursion_and_hooks(void) {
    struct rec hook_rec = {0}, body_rec = {0}, flow_rec = {0};
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_add_request_hook(cfg, recursive_hook, &hook_rec, NULL);
    httpx_client_config_add_response_hook(cfg, body_reading_hook, &body_rec, NULL);
    httpx_client *c = NULL;
    httpx_client_new(cfg, &c, NULL);
    httpx_client_config_free(cfg);
    hook_rec.client = c;
    hook_rec.inner = HTTPX_OK;
    httpx_response *resp = NULL;
    httpx_code rc = httpx_client_get(c, U("/"), &resp, NULL);
    CHECK(rc == HTTPX_OK, "outer send with a recursive request hook completes (%s)", httpx_code_str(rc));
    CHECK(hook_rec.inner == HTTPX_E_RECURSIVE_CALL, "send from a request hook on the same client -> RECURSIVE_CALL (got %s)",
          httpx_code_str(hook_rec.inner));
    CHECK(body_rec.body_len_in_hook == 13, "a response hook can read the body (%d bytes)", body_rec.body_len_in_hook);
    CHECK(resp && body_is(resp, "Hello, world!"), "the final response still has the body the hook read");
    httpx_response_free(resp);

    /* Sending on a *different* client from a hook is fine. */
    httpx_client *other = simple_client();
    hook_rec.client = other;
    resp = NULL;
    rc = httpx_client_get(c, U("/"), &resp, NULL);
    CHECK(rc == HTTPX_OK && hook_rec.inner == HTTPX_OK, "send on another client from a hook works (%s)",
          httpx_code_str(hook_rec.inner));
    httpx_response_free(resp);
    httpx_client_free(c);

    httpx_auth *auth = NULL;
    httpx_auth_custom(recursive_flow, 0, &flow_rec, NULL, &auth);
    httpx_client_config_new(&cfg);
    httpx_client_config_set_auth(cfg, auth);
    httpx_auth_free(auth);
    c = NULL;
    httpx_client_new(cfg, &c, NULL);
    httpx_client_config_free(cfg);
    flow_rec.client = c;
    resp = NULL;
    rc = httpx_client_get(c, U("/"), &resp, NULL);
    CHECK(rc == HTTPX_OK && flow_rec.inner == HTTPX_E_RECURSIVE_CALL,
          "send from an auth flow on the same client -> RECURSIVE_CALL (outer %s, inner %s)", httpx_code_str(rc),
          httpx_code_str(flow_rec.inner));
    httpx_response_free(resp);
    httpx_client_free(c);
    httpx_client_free(other);
}

/* ---- a callback transport used from several threads ---- */

static atomic_int app_calls;
static httpx_code counting_app(void *ud, const httpx_request *req, httpx_response_builder *out) {
    (void)ud;
    atomic_fetch_add(&app_calls, 1);
    const char *v = httpx_request_header_get(req, "X-Thread");
    return httpx_response_builder_set_body(out, (const uint8_t *)v, v ? strlen(v) : 0);
}
struct tctx {
    httpx_client *c;
    int index, ok;
};
static void *thread_main(void *arg) {
    struct tctx *t = arg;
    char v[16];
    snprintf(v, sizeof v, "t%d", t->index);
    for (int i = 0; i < 50; i++) {
        httpx_request *req = NULL;
        httpx_response *resp = NULL;
        httpx_request_new("GET", "http://mock.test/", &req, NULL);
        httpx_request_set_header(req, "X-Thread", v);
        if (httpx_client_send(t->c, req, &resp, NULL) == HTTPX_OK && body_is(resp, v)) t->ok++;
        httpx_response_free(resp);
        httpx_request_free(req);
    }
    return NULL;
}

static void threaded_callbacks(void) {
    atomic_init(&app_calls, 0);
    httpx_transport *t = NULL;
    httpx_transport_callback(counting_app, NULL, NULL, &t);
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_transport(cfg, t);
    httpx_transport_free(t);
    httpx_client *c = NULL;
    httpx_client_new(cfg, &c, NULL);
    httpx_client_config_free(cfg);
    pthread_t tids[4];
    struct tctx ctx[4];
    int started = 0;
    for (int i = 0; i < 4; i++) {
        ctx[i] = (struct tctx){c, i, 0};
        if (pthread_create(&tids[i], NULL, thread_main, &ctx[i]) != 0) break;
        started++;
    }
    int ok = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(tids[i], NULL);
        ok += ctx[i].ok;
    }
    CHECK(started == 4 && ok == 200 && atomic_load(&app_calls) == 200,
          "4 threads x 50 sends through one callback transport: %d ok, %d callback calls", ok, atomic_load(&app_calls));
    httpx_client_free(c);
}

/* ---- progress cancel, builder validation ---- */

static int32_t cancel_after_64k(void *ud, uint64_t sent, int64_t st, uint64_t received, int64_t rt) {
    (void)sent;
    (void)st;
    (void)rt;
    *(int64_t *)ud = rt;
    return received >= 65536 ? 1 : 0;
}

static httpx_code validating_app(void *ud, const httpx_request *req, httpx_response_builder *out) {
    (void)req;
    int *results = ud;
    results[0] = httpx_response_builder_set_status(out, 99) == HTTPX_E_INVALID_ARGUMENT;
    results[1] = httpx_response_builder_set_status(out, 1000) == HTTPX_E_INVALID_ARGUMENT;
    results[2] = httpx_response_builder_add_header(out, "X-Bad", "a\r\nInjected: 1") == HTTPX_E_INVALID_ARGUMENT;
    results[3] = httpx_response_builder_add_header(out, "Bad Name", "1") == HTTPX_E_INVALID_ARGUMENT;
    results[4] = httpx_response_builder_set_status(out, 299) == HTTPX_OK;
    return httpx_response_builder_set_body(out, (const uint8_t *)"v", 1);
}

static void progress_and_builder(void) {
    int64_t total_seen = 0;
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_progress(cfg, cancel_after_64k, &total_seen, NULL);
    httpx_client *c = NULL;
    httpx_client_new(cfg, &c, NULL);
    httpx_client_config_free(cfg);
    httpx_response *resp = NULL;
    httpx_code rc = httpx_client_get(c, U("/files/1m.bin"), &resp, NULL);
    CHECK(rc == HTTPX_E_CALLBACK && resp == NULL, "progress callback returning non-zero cancels the download (got %s)",
          httpx_code_str(rc));
    CHECK(total_seen == 1048576, "progress saw the download total 1048576 (got %lld)", (long long)total_seen);
    resp = NULL;
    rc = httpx_client_get(c, U("/"), &resp, NULL);
    CHECK(rc == HTTPX_OK, "the client works after a cancelled transfer (%s)", httpx_code_str(rc));
    httpx_response_free(resp);
    httpx_client_free(c);

    int results[5] = {0};
    httpx_transport *t = NULL;
    httpx_transport_callback(validating_app, results, NULL, &t);
    httpx_client_config_new(&cfg);
    httpx_client_config_set_transport(cfg, t);
    httpx_transport_free(t);
    c = NULL;
    httpx_client_new(cfg, &c, NULL);
    httpx_client_config_free(cfg);
    resp = NULL;
    rc = httpx_client_get(c, "http://mock.test/", &resp, NULL);
    CHECK(results[0] && results[1], "builder_set_status(99) and (1000) -> INVALID_ARGUMENT");
    CHECK(results[2] && results[3], "builder_add_header with CR/LF or a bad name -> INVALID_ARGUMENT");
    CHECK(rc == HTTPX_OK && httpx_response_status(resp) == 299 && results[4], "custom status 299 accepted");
    CHECK(resp && httpx_response_header_get(resp, "Injected") == NULL, "nothing injected");
    httpx_response_free(resp);
    httpx_client_free(c);
}

/* ---- request bodies: form, JSON, multipart (httpbin) ---- */

static void bodies(void) {
    httpx_client *c = simple_client();
    char url[512];
    snprintf(url, sizeof url, "%s/post", bin);

    httpx_request *req = NULL;
    httpx_request_new("POST", url, &req, NULL);
    const char *names[] = {"a", "b c", "amp"};
    const char *values[] = {"1", "x y", "&=?"};
    CHECK(httpx_request_set_form(req, names, values, 3) == HTTPX_OK, "set_form with 3 fields");
    const uint8_t *d = NULL;
    uintptr_t l = 0;
    httpx_request_body(req, &d, &l);
    CHECK(l > 0 && (strncmp((const char *)d, "a=1&b+c=x+y&amp=%26%3D%3F", l) == 0 ||
                    strncmp((const char *)d, "a=1&b%20c=x%20y&amp=%26%3D%3F", l) == 0),
          "form body urlencoded: %.*s", (int)l, (const char *)d);
    const char *ct = httpx_request_header_get(req, "Content-Type");
    CHECK(ct && strcmp(ct, "application/x-www-form-urlencoded") == 0, "form Content-Type");
    httpx_response *resp = NULL;
    CHECK(httpx_client_send(c, req, &resp, NULL) == HTTPX_OK && body_has(resp, "\"b c\": \"x y\"") &&
              body_has(resp, "\"amp\": \"&=?\""),
          "httpbin decoded the form");
    httpx_response_free(resp);

    httpx_request_free(req);

    /* (Replacing a body replaces its automatic Content-Type: see regressions.c.) */
    req = NULL;
    httpx_request_new("POST", url, &req, NULL);
    CHECK(httpx_request_set_json(req, "{\"k\": [1, 2, \"\\u00e9\"]}") == HTTPX_OK, "set_json");
    ct = httpx_request_header_get(req, "Content-Type");
    CHECK(ct && strcmp(ct, "application/json") == 0, "JSON Content-Type");
    resp = NULL;
    CHECK(httpx_client_send(c, req, &resp, NULL) == HTTPX_OK && body_has(resp, "\"json\": {") &&
              body_has(resp, "\"k\": ["),
          "httpbin parsed the JSON");
    httpx_response_free(resp);
    httpx_request_free(req);

    /* Multipart: a field, in-memory bytes with and without a filename, a file from disk. */
    FILE *f = fopen("report.csv", "w");
    if (f) {
        fputs("a,b\n1,2\n", f);
        fclose(f);
    }
    req = NULL;
    httpx_request_new("POST", url, &req, NULL);
    CHECK(httpx_request_add_multipart_field(req, "title", "quarterly") == HTTPX_OK &&
              httpx_request_add_multipart_bytes(req, "upload-file", NULL, (const uint8_t *)"text content", 12, "text/plain") ==
                  HTTPX_OK &&
              httpx_request_add_multipart_bytes(req, "blob", "blob.bin", (const uint8_t *)"\x01\x02", 2, NULL) == HTTPX_OK &&
              httpx_request_add_multipart_file(req, "report", NULL, "report.csv", NULL) == HTTPX_OK,
          "multipart: field, bytes without filename, bytes with filename, file");
    CHECK(httpx_request_add_multipart_file(req, "missing", NULL, "does-not-exist.txt", NULL) == HTTPX_E_IO,
          "multipart file that does not exist -> IO");
    ct = httpx_request_header_get(req, "Content-Type");
    CHECK(ct && strncmp(ct, "multipart/form-data; boundary=", 30) == 0, "multipart Content-Type with a boundary");
    resp = NULL;
    httpx_code rc = httpx_client_send(c, req, &resp, NULL);
    CHECK(rc == HTTPX_OK && httpx_response_status(resp) == 200, "multipart POST to httpbin (%s)", httpx_code_str(rc));
    CHECK(resp && body_has(resp, "\"title\": \"quarterly\""), "httpbin form: title");
    CHECK(resp && body_has(resp, "\"upload-file\": \"text content\""), "(None, data) is a form field, as in HTTPX");
    CHECK(resp && body_has(resp, "\"report\": \"a,b\\n1,2\\n\""), "httpbin files: report.csv streamed from disk");
    CHECK(resp && body_has(resp, "\"blob\": "), "httpbin files: blob");
    httpx_response_free(resp);
    httpx_request_free(req);
    remove("report.csv");
    httpx_client_free(c);
}

static void url_credentials(void) {
    /* HTTPX: credentials in the URL are sent as Basic auth when no auth is given. */
    const char *hostport = strstr(base, "://");
    char url[512];
    snprintf(url, sizeof url, "http://user:passwd@%s/basic-auth", hostport ? hostport + 3 : base);
    httpx_client *c = simple_client();
    httpx_response *resp = NULL;
    httpx_code rc = httpx_client_get(c, url, &resp, NULL);
    CHECK(rc == HTTPX_OK && httpx_response_status(resp) == 200 && body_is(resp, "authenticated user"),
          "URL user:passwd@ -> Basic auth accepted by nginx (%s, %u)", httpx_code_str(rc), httpx_response_status(resp));
    const httpx_request *sent = httpx_response_request(resp);
    const char *host = sent ? httpx_request_header_get(sent, "Host") : NULL;
    CHECK(host && !strchr(host, '@'), "the Host header has no credentials (%s)", host ? host : "(null)");
    httpx_response_free(resp);
    httpx_client_free(c);
}

static int trace_connects;
static void count_connects(void *ud, uint32_t event, double elapsed, const char *detail) {
    (void)ud;
    (void)elapsed;
    (void)detail;
    if (event == HTTPX_TRACE_CONNECT_START) trace_connects++;
}

static void pool_lifecycle(const char *stale_url) {
    /* A server that closes an idle keep-alive connection: the next request must not fail
     * on the dead pooled connection. */
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_timeout(cfg, 10.0);
    httpx_client_config_set_trace(cfg, count_connects, NULL, NULL);
    httpx_client *c = NULL;
    httpx_client_new(cfg, &c, NULL);
    httpx_client_config_free(cfg);
    int ok = 0;
    httpx_code last = HTTPX_OK;
    for (int i = 0; i < 3; i++) {
        httpx_response *resp = NULL;
        last = httpx_client_get(c, stale_url, &resp, NULL);
        if (last == HTTPX_OK && body_is(resp, "fresh")) ok++;
        httpx_response_free(resp);
        sleep_ms(300); /* the server closes the idle connection meanwhile */
    }
    CHECK(ok == 3, "3 GETs, each after the server silently closed the pooled connection: %d ok (last %s)", ok,
          httpx_code_str(last));
    httpx_client_free(c);

    /* keepalive_expiry: an idle connection older than the expiry is not reused. */
    httpx_client_config_new(&cfg);
    httpx_client_config_set_limits(cfg, 10, 10, 0.2);
    httpx_client_config_set_trace(cfg, count_connects, NULL, NULL);
    c = NULL;
    httpx_client_new(cfg, &c, NULL);
    httpx_client_config_free(cfg);
    trace_connects = 0;
    httpx_response *resp = NULL;
    httpx_client_get(c, U("/"), &resp, NULL);
    httpx_response_free(resp);
    resp = NULL;
    httpx_client_get(c, U("/"), &resp, NULL);
    httpx_response_free(resp);
    CHECK(trace_connects == 1, "two quick GETs share a connection (connects %d)", trace_connects);
    sleep_ms(600);
    resp = NULL;
    httpx_code rc = httpx_client_get(c, U("/"), &resp, NULL);
    httpx_response_free(resp);
    CHECK(rc == HTTPX_OK && trace_connects == 2, "after the 0.2 s keep-alive expiry a new connection is made (connects %d)",
          trace_connects);
    httpx_client_free(c);

    /* max_keepalive_connections 0: nothing is kept. */
    httpx_client_config_new(&cfg);
    httpx_client_config_set_limits(cfg, 10, 0, 5.0);
    c = NULL;
    httpx_client_new(cfg, &c, NULL);
    httpx_client_config_free(cfg);
    resp = NULL;
    rc = httpx_client_get(c, U("/"), &resp, NULL);
    httpx_response_free(resp);
    uintptr_t total = 9;
    httpx_client_pool_stats(c, &total, NULL);
    CHECK(rc == HTTPX_OK && total == 0, "max_keepalive 0: no idle connection kept (pool total %lu)", (unsigned long)total);
    httpx_client_free(c);
}

static void redirects_and_decoding(void) {
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_follow_redirects(cfg, 1);
    httpx_client_config_set_max_redirects(cfg, 5);
    httpx_client *c = NULL;
    httpx_client_new(cfg, &c, NULL);
    httpx_client_config_free(cfg);
    httpx_response *resp = NULL;
    httpx_error *err = NULL;
    httpx_code rc = httpx_client_get(c, U("/redirect-loop"), &resp, &err);
    CHECK(rc == HTTPX_E_TOO_MANY_REDIRECTS && resp == NULL, "redirect loop -> TOO_MANY_REDIRECTS (got %s)",
          httpx_code_str(rc));
    httpx_error_free(err);
    resp = NULL;
    rc = httpx_client_get(c, U("/redirect/303"), &resp, NULL);
    CHECK(rc == HTTPX_OK && body_is(resp, "GET"), "303 followed with GET");
    httpx_response_free(resp);
    httpx_request *req = NULL;
    httpx_request_new("POST", U("/redirect/307"), &req, NULL);
    httpx_request_set_body(req, (const uint8_t *)"x", 1, NULL);
    resp = NULL;
    rc = httpx_client_send(c, req, &resp, NULL);
    CHECK(rc == HTTPX_OK && body_is(resp, "POST"), "307 keeps the method (POST)");
    httpx_response_free(resp);
    httpx_request_free(req);
    httpx_client_free(c);

    /* Decompression bomb guard. */
    httpx_client_config_new(&cfg);
    httpx_client_config_set_max_decoded_size(cfg, 100);
    c = NULL;
    httpx_client_new(cfg, &c, NULL);
    httpx_client_config_free(cfg);
    req = NULL;
    httpx_request_new("GET", U("/gzip-static-always/hello.txt"), &req, NULL);
    resp = NULL;
    rc = httpx_client_send(c, req, &resp, NULL);
    CHECK(rc == HTTPX_E_DECODING && resp == NULL, "decoded body over max_decoded_size -> DECODING (got %s)",
          httpx_code_str(rc));
    httpx_response_free(resp);
    httpx_request_free(req);
    httpx_client_free(c);
}

int main(void) {
    base = need_env("HTTPX_TEST_HTTP");
    bin = need_env("HTTPX_TEST_HTTPBIN");
    zero_capacity_read_and_close();
    cookies();
    clones();
    recursion_and_hooks();
    threaded_callbacks();
    progress_and_builder();
    bodies();
    url_credentials();
    pool_lifecycle(need_env("HTTPX_TEST_FAULT_CLOSE_AFTER_RESPONSE"));
    redirects_and_decoding();
    return test_done();
}
