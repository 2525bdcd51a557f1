/*
 * NULL safety of every exported function that takes a pointer: a NULL handle or a NULL
 * required argument is HTTPX_E_INVALID_ARGUMENT (or the documented NULL / 0 / "" return),
 * never a crash; optional pointers documented "may be NULL" are accepted; every *_free
 * accepts NULL; out-pointers are left untouched on error; userdata is not taken (free_fn
 * not called) when a registration fails. No server: responses come from a callback
 * transport.
 */
#include "test_util.h"

#define IA(expr) CHECK_CODE(expr, HTTPX_E_INVALID_ARGUMENT)
#define OK(expr) CHECK_CODE(expr, HTTPX_OK)

/* Sentinels for out-pointers: must be unchanged after an error. */
static char sentinel_storage[8];
#define SENTINEL ((void *)sentinel_storage)

/* free_fn counters: userdata points at one of these ints. */
static int free_count[32];
static void count_free(void *ud) { (*(int *)ud)++; }

static httpx_code dummy_hook_req(void *ud, httpx_request *req) {
    (void)ud;
    (void)req;
    return HTTPX_OK;
}
static httpx_code dummy_hook_resp(void *ud, httpx_response *resp) {
    (void)ud;
    (void)resp;
    return HTTPX_OK;
}
static int32_t dummy_progress(void *ud, uint64_t a, int64_t b, uint64_t c, int64_t d) {
    (void)ud;
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    return 0;
}
static void dummy_trace(void *ud, uint32_t ev, double el, const char *detail) {
    (void)ud;
    (void)ev;
    (void)el;
    (void)detail;
}
static httpx_code dummy_read(void *ud, uint8_t *buf, uintptr_t cap, uintptr_t *n_out) {
    (void)ud;
    (void)buf;
    (void)cap;
    *n_out = 0;
    return HTTPX_OK;
}

/* ---- checks that need a live httpx_response_builder (inside a transport callback) ---- */
static int builder_checks_ran = 0;
static httpx_code answer(void *ud, const httpx_request *req, httpx_response_builder *b) {
    (void)ud;
    (void)req;
    if (!builder_checks_ran) {
        builder_checks_ran = 1;
        const uint8_t *d = SENTINEL;
        uintptr_t l = 77;
        IA(httpx_response_builder_set_status(NULL, 200));
        IA(httpx_response_builder_add_header(NULL, "X-A", "1"));
        IA(httpx_response_builder_add_header(b, NULL, "1"));
        IA(httpx_response_builder_add_header(b, "X-A", NULL));
        IA(httpx_response_builder_set_body(NULL, (const uint8_t *)"x", 1));
        IA(httpx_response_builder_set_body(b, NULL, 5));
        IA(httpx_response_builder_set_body_reader(NULL, dummy_read, &free_count[20], count_free));
        IA(httpx_response_builder_set_body_reader(b, NULL, &free_count[20], count_free));
        CHECK(free_count[20] == 0, "builder_set_body_reader errors did not call free_fn");
        IA(httpx_response_builder_request_body(NULL, &d, &l));
        IA(httpx_response_builder_request_body(b, NULL, &l));
        IA(httpx_response_builder_request_body(b, &d, NULL));
        CHECK(d == SENTINEL && l == 77, "builder_request_body outs untouched on error");
        CHECK(httpx_response_builder_script_name(NULL) != NULL, "builder_script_name(NULL) does not crash, non-NULL");
        CHECK(httpx_response_builder_path_info(NULL) != NULL, "builder_path_info(NULL) does not crash, non-NULL");
        CHECK(httpx_response_builder_remote_addr(NULL) != NULL, "builder_remote_addr(NULL) does not crash, non-NULL");
        OK(httpx_response_builder_set_body(b, NULL, 0)); /* NULL with length 0 = empty */
    }
    httpx_response_builder_add_header(b, "X-Test", "yes");
    httpx_response_builder_set_body(b, (const uint8_t *)"hello", 5);
    return HTTPX_OK;
}

/* ---- checks that need a live httpx_auth_flow (inside a custom auth callback) ---- */
static int flow_checks_ran = 0;
static uint32_t flow(void *ud, httpx_auth_flow *f) {
    (void)ud;
    if (!flow_checks_ran) {
        flow_checks_ran = 1;
        IA(httpx_auth_flow_send(NULL, httpx_auth_flow_request(f)));
        IA(httpx_auth_flow_send(f, NULL));
        CHECK(httpx_auth_flow_request(NULL) == NULL, "auth_flow_request(NULL) == NULL");
        CHECK(httpx_auth_flow_response(NULL) == NULL, "auth_flow_response(NULL) == NULL");
        CHECK(httpx_auth_flow_step(NULL) == 0, "auth_flow_step(NULL) == 0");
        CHECK(httpx_auth_flow_request(f) != NULL, "auth_flow_request(flow) != NULL");
    }
    /* Send once, then done. */
    return httpx_auth_flow_response(f) ? HTTPX_AUTH_DONE : HTTPX_AUTH_SEND;
}

static void config_checks(void) {
    httpx_client_config *cfg = NULL;
    IA(httpx_client_config_new(NULL));
    OK(httpx_client_config_new(&cfg));
    httpx_client_config_free(NULL);
    CHECK(1, "httpx_client_config_free(NULL) is a no-op");

    IA(httpx_client_config_set_base_url(NULL, "http://127.0.0.1/"));
    OK(httpx_client_config_set_base_url(cfg, NULL)); /* NULL clears */
    IA(httpx_client_config_add_header(NULL, "X-A", "1"));
    IA(httpx_client_config_add_header(cfg, NULL, "1"));
    IA(httpx_client_config_add_header(cfg, "X-A", NULL));
    IA(httpx_client_config_add_param(NULL, "a", "1"));
    IA(httpx_client_config_add_param(cfg, NULL, "1"));
    IA(httpx_client_config_add_param(cfg, "a", NULL));
    IA(httpx_client_config_add_cookie(NULL, "a", "1", NULL, NULL));
    IA(httpx_client_config_add_cookie(cfg, NULL, "1", NULL, NULL));
    IA(httpx_client_config_add_cookie(cfg, "a", NULL, NULL, NULL));
    OK(httpx_client_config_add_cookie(cfg, "a", "1", NULL, NULL)); /* domain, path optional */

    httpx_auth *auth = NULL;
    OK(httpx_auth_basic("u", "p", &auth));
    IA(httpx_client_config_set_auth(NULL, auth));
    OK(httpx_client_config_set_auth(cfg, NULL)); /* NULL clears */
    httpx_auth_free(auth);

    IA(httpx_client_config_set_timeout(NULL, 1.0));
    IA(httpx_client_config_set_timeouts(NULL, 1.0, 1.0, 1.0, 1.0));
    IA(httpx_client_config_set_limits(NULL, 10, 10, 5.0));
    IA(httpx_client_config_set_trust_env(NULL, 1));
    IA(httpx_client_config_set_verify(NULL, 1));
    IA(httpx_client_config_set_ca_file(NULL, "/nonexistent.pem"));
    IA(httpx_client_config_set_ca_file(cfg, NULL));
    IA(httpx_client_config_set_ca_pem(NULL, (const uint8_t *)"x", 1));
    IA(httpx_client_config_set_ca_pem(cfg, NULL, 10));
    IA(httpx_client_config_set_client_cert(NULL, "c.pem", "k.pem"));
    IA(httpx_client_config_set_client_cert(cfg, NULL, "k.pem"));
    IA(httpx_client_config_set_client_cert(cfg, "c.pem", NULL));
    IA(httpx_client_config_set_client_cert_pem(NULL, (const uint8_t *)"c", 1, (const uint8_t *)"k", 1));
    IA(httpx_client_config_set_client_cert_pem(cfg, NULL, 1, (const uint8_t *)"k", 1));
    IA(httpx_client_config_set_client_cert_pem(cfg, (const uint8_t *)"c", 1, NULL, 1));
    IA(httpx_client_config_set_min_tls_version(NULL, HTTPX_TLS_1_2));
    IA(httpx_client_config_add_proxy(NULL, "all://", "http://127.0.0.1:9", HTTPX_PROXY_DEFAULT));
    IA(httpx_client_config_add_proxy(cfg, NULL, "http://127.0.0.1:9", HTTPX_PROXY_DEFAULT));
    IA(httpx_client_config_set_follow_redirects(NULL, 1));
    IA(httpx_client_config_set_max_redirects(NULL, 3));
    IA(httpx_client_config_set_http2(NULL, 0));

    httpx_transport *t = NULL;
    OK(httpx_transport_http(&t));
    IA(httpx_client_config_set_transport(NULL, t));
    OK(httpx_client_config_set_transport(cfg, NULL)); /* NULL = default transport */
    IA(httpx_client_config_mount(NULL, "all://", t));
    IA(httpx_client_config_mount(cfg, NULL, t));
    OK(httpx_client_config_mount(cfg, "all://example.invalid", NULL)); /* NULL = default for key */
    httpx_transport_free(t);

    IA(httpx_client_config_add_request_hook(NULL, dummy_hook_req, &free_count[0], count_free));
    IA(httpx_client_config_add_request_hook(cfg, NULL, &free_count[0], count_free));
    IA(httpx_client_config_add_response_hook(NULL, dummy_hook_resp, &free_count[0], count_free));
    IA(httpx_client_config_add_response_hook(cfg, NULL, &free_count[0], count_free));
    IA(httpx_client_config_set_max_header(NULL, 4096, 10));
    IA(httpx_client_config_set_max_decoded_size(NULL, 1000));
    IA(httpx_client_config_set_max_body_size(NULL, 1000));
    IA(httpx_client_config_set_default_encoding(NULL, "utf-8"));
    OK(httpx_client_config_set_default_encoding(cfg, NULL)); /* NULL restores the default */
    IA(httpx_client_config_set_progress(NULL, dummy_progress, &free_count[0], count_free));
    IA(httpx_client_config_set_trace(NULL, dummy_trace, &free_count[0], count_free));
    OK(httpx_client_config_set_progress(cfg, NULL, NULL, NULL)); /* NULL removes */
    OK(httpx_client_config_set_trace(cfg, NULL, NULL, NULL));
    CHECK(free_count[0] == 0, "failed hook/progress/trace registrations did not call free_fn");

    /* client_new */
    httpx_client *client = SENTINEL;
    httpx_error *err = NULL;
    IA(httpx_client_new(cfg, NULL, &err));
    CHECK(err != NULL && httpx_error_code(err) == HTTPX_E_INVALID_ARGUMENT, "client_new(client_out NULL) sets err");
    httpx_error_free(err);
    err = NULL;
    /* A config that fails at client_new leaves client_out untouched. */
    OK(httpx_client_config_set_ca_file(cfg, "/nonexistent/ca.pem"));
    httpx_code rc = httpx_client_new(cfg, &client, &err);
    CHECK(rc == HTTPX_E_IO, "client_new with a missing CA file -> IO (got %s)", httpx_code_str(rc));
    CHECK(client == SENTINEL, "client_out untouched on error");
    httpx_error_free(err);
    httpx_client_config_free(cfg);

    client = NULL;
    OK(httpx_client_new(NULL, &client, NULL)); /* NULL config = defaults */
    httpx_client_free(client);
    httpx_client_free(NULL);
    CHECK(1, "httpx_client_free(NULL) is a no-op");
}

static void client_checks(httpx_client *client, httpx_request *req) {
    httpx_response *resp = SENTINEL;
    httpx_error *err = NULL;
    const char *url = "http://mock.test/";

    IA(httpx_client_close(NULL));
    IA(httpx_client_send(NULL, req, &resp, &err));
    CHECK(err != NULL && httpx_error_code(err) == HTTPX_E_INVALID_ARGUMENT, "send(NULL client) sets err");
    httpx_error_free(err);
    err = NULL;
    IA(httpx_client_send(client, NULL, &resp, NULL));
    IA(httpx_client_send(client, req, NULL, NULL));
    IA(httpx_client_send_stream(NULL, req, &resp, NULL));
    IA(httpx_client_send_stream(client, NULL, &resp, NULL));
    IA(httpx_client_send_stream(client, req, NULL, NULL));
    IA(httpx_client_get(NULL, url, &resp, NULL));
    IA(httpx_client_get(client, NULL, &resp, NULL));
    IA(httpx_client_get(client, url, NULL, NULL));
    IA(httpx_client_delete(NULL, url, &resp, NULL));
    IA(httpx_client_delete(client, NULL, &resp, NULL));
    IA(httpx_client_delete(client, url, NULL, NULL));
    IA(httpx_client_head(NULL, url, &resp, NULL));
    IA(httpx_client_head(client, NULL, &resp, NULL));
    IA(httpx_client_head(client, url, NULL, NULL));
    IA(httpx_client_post(NULL, url, (const uint8_t *)"x", 1, NULL, &resp, NULL));
    IA(httpx_client_post(client, NULL, (const uint8_t *)"x", 1, NULL, &resp, NULL));
    IA(httpx_client_post(client, url, NULL, 1, NULL, &resp, NULL));
    IA(httpx_client_post(client, url, (const uint8_t *)"x", 1, NULL, NULL, NULL));
    IA(httpx_client_put(NULL, url, (const uint8_t *)"x", 1, NULL, &resp, NULL));
    IA(httpx_client_put(client, NULL, (const uint8_t *)"x", 1, NULL, &resp, NULL));
    IA(httpx_client_put(client, url, NULL, 1, NULL, &resp, NULL));
    IA(httpx_client_put(client, url, (const uint8_t *)"x", 1, NULL, NULL, NULL));
    IA(httpx_get(NULL, &resp, NULL));
    IA(httpx_get("http://127.0.0.1:9/", NULL, NULL));
    IA(httpx_send(NULL, NULL, &resp, NULL));
    CHECK(resp == SENTINEL, "resp_out untouched by all failed sends");

    /* Optional pointers: NULL data with length 0, NULL content type. */
    resp = NULL;
    err = NULL;
    OK(httpx_client_post(client, url, NULL, 0, NULL, &resp, &err));
    t_show_error("post", &err);
    httpx_response_free(resp);
    resp = NULL;
    OK(httpx_client_put(client, url, NULL, 0, NULL, &resp, NULL));
    httpx_response_free(resp);

    uintptr_t total = 99, idle = 99;
    IA(httpx_client_pool_stats(NULL, &total, &idle));
    CHECK(total == 99 && idle == 99, "pool_stats outs untouched on error");
    OK(httpx_client_pool_stats(client, NULL, NULL));

    /* Cookie jar. */
    IA(httpx_client_cookie_set(NULL, "a", "1", NULL, NULL));
    IA(httpx_client_cookie_set(client, NULL, "1", NULL, NULL));
    IA(httpx_client_cookie_set(client, "a", NULL, NULL, NULL));
    OK(httpx_client_cookie_set(client, "a", "1", NULL, NULL));
    char buf[16] = "untouched";
    uintptr_t len = 777;
    int32_t found = 55;
    IA(httpx_client_cookie_get(NULL, "a", NULL, NULL, buf, sizeof buf, &len, &found));
    IA(httpx_client_cookie_get(client, NULL, NULL, NULL, buf, sizeof buf, &len, &found));
    IA(httpx_client_cookie_get(client, "a", NULL, NULL, buf, sizeof buf, NULL, &found));
    IA(httpx_client_cookie_get(client, "a", NULL, NULL, buf, sizeof buf, &len, NULL));
    CHECK(len == 777 && found == 55 && strcmp(buf, "untouched") == 0, "cookie_get outs untouched on error");
    /* Documented: buffer too small (here NULL) -> INVALID_ARGUMENT with *len_out = needed. */
    IA(httpx_client_cookie_get(client, "a", NULL, NULL, NULL, 0, &len, &found));
    CHECK(len == 1, "cookie_get with NULL buf reports the length needed (got %lu)", (unsigned long)len);
    OK(httpx_client_cookie_get(client, "missing", NULL, NULL, NULL, 0, &len, &found));
    CHECK(found == 0, "cookie_get of a missing cookie with NULL buf: found 0");
    OK(httpx_client_cookie_get(client, "a", NULL, NULL, buf, sizeof buf, &len, &found));
    CHECK(found == 1 && len == 1 && strcmp(buf, "1") == 0, "cookie_get finds a=1");

    httpx_cookie_list *list = SENTINEL;
    IA(httpx_client_cookies(NULL, &list));
    IA(httpx_client_cookies(client, NULL));
    CHECK(list == SENTINEL, "list_out untouched on error");
    list = NULL;
    OK(httpx_client_cookies(client, &list));
    CHECK(httpx_cookie_list_count(NULL) == 0, "cookie_list_count(NULL) == 0");
    CHECK(httpx_cookie_list_count(list) == 1, "cookie_list_count == 1");
    const char *name = SENTINEL;
    IA(httpx_cookie_list_at(NULL, 0, &name, NULL, NULL, NULL, NULL, NULL));
    IA(httpx_cookie_list_at(list, 5, &name, NULL, NULL, NULL, NULL, NULL));
    CHECK(name == SENTINEL, "cookie_list_at outs untouched on error");
    OK(httpx_cookie_list_at(list, 0, NULL, NULL, NULL, NULL, NULL, NULL)); /* all outs optional */
    OK(httpx_cookie_list_at(list, 0, &name, NULL, NULL, NULL, NULL, NULL));
    CHECK(name != SENTINEL && strcmp(name, "a") == 0, "cookie_list_at name == \"a\"");
    httpx_cookie_list_free(list);
    httpx_cookie_list_free(NULL);

    uintptr_t n = 42;
    IA(httpx_client_cookie_delete(NULL, "a", NULL, NULL, &n));
    IA(httpx_client_cookie_delete(client, NULL, NULL, NULL, &n));
    CHECK(n == 42, "cookie_delete n_out untouched on error");
    OK(httpx_client_cookie_delete(client, "a", NULL, NULL, NULL)); /* n_out optional */
    IA(httpx_client_cookie_clear(NULL));
    OK(httpx_client_cookie_clear(client));
}

static void request_checks(httpx_client *client) {
    httpx_request *req = SENTINEL;
    httpx_error *err = NULL;
    IA(httpx_request_new(NULL, "http://mock.test/", &req, &err));
    CHECK(err != NULL, "request_new(NULL method) sets err");
    httpx_error_free(err);
    IA(httpx_request_new("GET", NULL, &req, NULL));
    IA(httpx_request_new("GET", "http://mock.test/", NULL, NULL));
    IA(httpx_request_build(NULL, "GET", "/", &req, NULL));
    IA(httpx_request_build(client, NULL, "/", &req, NULL));
    IA(httpx_request_build(client, "GET", NULL, &req, NULL));
    IA(httpx_request_build(client, "GET", "/", NULL, NULL));
    CHECK(req == SENTINEL, "req_out untouched on error");
    httpx_request_free(NULL);
    CHECK(1, "httpx_request_free(NULL) is a no-op");

    req = NULL;
    OK(httpx_request_build(client, "POST", "http://mock.test/x", &req, NULL));
    IA(httpx_request_set_header(NULL, "X-A", "1"));
    IA(httpx_request_set_header(req, NULL, "1"));
    IA(httpx_request_set_header(req, "X-A", NULL));
    IA(httpx_request_add_header(NULL, "X-A", "1"));
    IA(httpx_request_add_header(req, NULL, "1"));
    IA(httpx_request_add_header(req, "X-A", NULL));
    IA(httpx_request_remove_header(NULL, "X-A"));
    IA(httpx_request_remove_header(req, NULL));
    IA(httpx_request_add_param(NULL, "a", "1"));
    IA(httpx_request_add_param(req, NULL, "1"));
    IA(httpx_request_add_param(req, "a", NULL));
    IA(httpx_request_set_cookie(NULL, "a", "1"));
    IA(httpx_request_set_cookie(req, NULL, "1"));
    IA(httpx_request_set_cookie(req, "a", NULL));
    IA(httpx_request_set_body(NULL, (const uint8_t *)"x", 1, NULL));
    IA(httpx_request_set_body(req, NULL, 3, NULL));
    OK(httpx_request_set_body(req, NULL, 0, NULL)); /* empty body, no content type */
    IA(httpx_request_set_body_reader(NULL, dummy_read, &free_count[1], count_free, -1));
    IA(httpx_request_set_body_reader(req, NULL, &free_count[1], count_free, -1));
    CHECK(free_count[1] == 0, "failed set_body_reader did not call free_fn");
    const char *names[] = {"a", NULL};
    const char *values[] = {"1", "2"};
    IA(httpx_request_set_form(NULL, names, values, 1));
    IA(httpx_request_set_form(req, NULL, values, 1));
    IA(httpx_request_set_form(req, names, NULL, 1));
    IA(httpx_request_set_form(req, names, values, 2)); /* names[1] is NULL */
    IA(httpx_request_set_json(NULL, "{}"));
    IA(httpx_request_set_json(req, NULL));
    IA(httpx_request_add_multipart_field(NULL, "a", "1"));
    IA(httpx_request_add_multipart_field(req, NULL, "1"));
    IA(httpx_request_add_multipart_field(req, "a", NULL));

    FILE *f = fopen("null_safety_upload.txt", "w");
    if (f) {
        fputs("upload", f);
        fclose(f);
    }
    IA(httpx_request_add_multipart_file(NULL, "f", NULL, "null_safety_upload.txt", NULL));
    IA(httpx_request_add_multipart_file(req, NULL, NULL, "null_safety_upload.txt", NULL));
    IA(httpx_request_add_multipart_file(req, "f", NULL, NULL, NULL));
    OK(httpx_request_add_multipart_file(req, "f", NULL, "null_safety_upload.txt", NULL)); /* optional */
    IA(httpx_request_add_multipart_bytes(NULL, "b", NULL, (const uint8_t *)"x", 1, NULL));
    IA(httpx_request_add_multipart_bytes(req, NULL, NULL, (const uint8_t *)"x", 1, NULL));
    IA(httpx_request_add_multipart_bytes(req, "b", NULL, NULL, 1, NULL));
    OK(httpx_request_add_multipart_bytes(req, "b", NULL, (const uint8_t *)"x", 1, NULL));

    httpx_auth *auth = NULL;
    OK(httpx_auth_basic("u", "p", &auth));
    IA(httpx_request_set_auth(NULL, auth));
    OK(httpx_request_set_auth(req, NULL)); /* NULL = explicitly no auth */
    httpx_auth_free(auth);
    IA(httpx_request_inherit_auth(NULL));
    IA(httpx_request_set_timeouts(NULL, 1, 1, 1, 1));
    IA(httpx_request_set_timeout(NULL, 1));
    IA(httpx_request_set_follow_redirects(NULL, 1));

    CHECK(httpx_request_method(NULL) == NULL, "request_method(NULL) == NULL");
    CHECK(httpx_request_url(NULL) == NULL, "request_url(NULL) == NULL");
    CHECK(httpx_request_header_count(NULL) == 0, "request_header_count(NULL) == 0");
    const char *hn = SENTINEL, *hv = SENTINEL;
    IA(httpx_request_header_at(NULL, 0, &hn, &hv));
    IA(httpx_request_header_at(req, 0, NULL, &hv));
    IA(httpx_request_header_at(req, 0, &hn, NULL));
    IA(httpx_request_header_at(req, 100000, &hn, &hv));
    CHECK(hn == SENTINEL && hv == SENTINEL, "request_header_at outs untouched on error");
    CHECK(httpx_request_header_get(NULL, "Host") == NULL, "request_header_get(NULL, name) == NULL");
    CHECK(httpx_request_header_get(req, NULL) == NULL, "request_header_get(req, NULL) == NULL");

    const uint8_t *data = SENTINEL;
    uintptr_t len = 5;
    IA(httpx_request_body(NULL, &data, &len));
    IA(httpx_request_body(req, NULL, &len));
    IA(httpx_request_body(req, &data, NULL));
    CHECK(data == SENTINEL && len == 5, "request_body outs untouched on error");
    httpx_request *copy = SENTINEL;
    IA(httpx_request_clone(NULL, &copy));
    IA(httpx_request_clone(req, NULL));
    CHECK(copy == SENTINEL, "request_clone out untouched on error");
    httpx_request_free(req);
    remove("null_safety_upload.txt");
}

static void response_checks(httpx_client *client, httpx_request *req) {
    httpx_response *resp = NULL;
    OK(httpx_client_send(client, req, &resp, NULL));
    CHECK(httpx_response_status(resp) == 200, "callback transport answered 200");

    CHECK(httpx_response_status(NULL) == 0, "response_status(NULL) == 0");
    CHECK(httpx_response_reason(NULL) == NULL, "response_reason(NULL) == NULL");
    CHECK(httpx_response_http_version(NULL) == NULL, "response_http_version(NULL) == NULL");
    CHECK(httpx_response_url(NULL) == NULL, "response_url(NULL) == NULL");
    CHECK(httpx_response_header_count(NULL) == 0, "response_header_count(NULL) == 0");
    const char *hn = SENTINEL, *hv = SENTINEL;
    IA(httpx_response_header_at(NULL, 0, &hn, &hv));
    IA(httpx_response_header_at(resp, 0, NULL, &hv));
    IA(httpx_response_header_at(resp, 0, &hn, NULL));
    IA(httpx_response_header_at(resp, 100000, &hn, &hv));
    CHECK(hn == SENTINEL && hv == SENTINEL, "response_header_at outs untouched on error");
    CHECK(httpx_response_header_get(NULL, "X-Test") == NULL, "response_header_get(NULL, name) == NULL");
    CHECK(httpx_response_header_get(resp, NULL) == NULL, "response_header_get(resp, NULL) == NULL");
    CHECK(httpx_response_header_get_nth(NULL, "X-Test", 0) == NULL, "response_header_get_nth(NULL, ...) == NULL");
    CHECK(httpx_response_header_get_nth(resp, NULL, 0) == NULL, "response_header_get_nth(resp, NULL, 0) == NULL");
    CHECK(httpx_response_request(NULL) == NULL, "response_request(NULL) == NULL");
    CHECK(httpx_response_header_get_joined(NULL, "X-Test") == NULL, "response_header_get_joined(NULL, name) == NULL");
    CHECK(httpx_response_header_get_joined(resp, NULL) == NULL, "response_header_get_joined(resp, NULL) == NULL");
    CHECK(httpx_response_next_request(NULL) == NULL, "response_next_request(NULL) == NULL");
    CHECK(httpx_response_next_request(resp) == NULL, "response_next_request(non-redirect) == NULL");
    CHECK(httpx_response_history_count(NULL) == 0, "response_history_count(NULL) == 0");
    CHECK(httpx_response_history_at(NULL, 0) == NULL, "response_history_at(NULL, 0) == NULL");
    CHECK(httpx_response_history_at(resp, 3) == NULL, "response_history_at(resp, out of range) == NULL");
    CHECK(httpx_response_elapsed(NULL) == 0.0, "response_elapsed(NULL) == 0");

    const uint8_t *data = SENTINEL;
    uintptr_t len = 5;
    httpx_error *err = NULL;
    IA(httpx_response_body(NULL, &data, &len, &err));
    CHECK(err != NULL, "response_body(NULL) sets err");
    httpx_error_free(err);
    IA(httpx_response_body(resp, NULL, &len, NULL));
    IA(httpx_response_body(resp, &data, NULL, NULL));
    CHECK(data == SENTINEL && len == 5, "response_body outs untouched on error");
    const char *text = SENTINEL;
    IA(httpx_response_text(NULL, &text, &len, NULL));
    IA(httpx_response_text(resp, NULL, &len, NULL));
    IA(httpx_response_text(resp, &text, NULL, NULL));
    CHECK(text == SENTINEL && len == 5, "response_text outs untouched on error");
    uint8_t buf[8];
    uintptr_t n = 9;
    IA(httpx_response_read(NULL, buf, sizeof buf, &n, NULL));
    IA(httpx_response_read(resp, NULL, sizeof buf, &n, NULL));
    IA(httpx_response_read(resp, buf, sizeof buf, NULL, NULL));
    CHECK(n == 9, "response_read n_out untouched on error");
    IA(httpx_response_raise_for_status(NULL, NULL));
    IA(httpx_response_close(NULL));
    CHECK(body_is(resp, "hello"), "the body is intact after all that: \"hello\"");

        const httpx_request *sent = httpx_response_request(resp);
    CHECK(sent != NULL, "response_request(resp) != NULL");
    /* The request as sent is read-only: editing it through a cast is refused. */
    IA(httpx_request_set_header((httpx_request *)sent, "X-A", "1"));
    httpx_response_free(resp);
    httpx_response_free(NULL);
    CHECK(1, "httpx_response_free(NULL) is a no-op");
}

static void auth_checks(void) {
    httpx_auth *a = SENTINEL;
    IA(httpx_auth_basic(NULL, "p", &a));
    IA(httpx_auth_basic("u", NULL, &a));
    IA(httpx_auth_basic("u", "p", NULL));
    IA(httpx_auth_digest(NULL, "p", &a));
    IA(httpx_auth_digest("u", NULL, &a));
    IA(httpx_auth_digest("u", "p", NULL));
    FILE *f = fopen("null_safety_netrc", "w");
    if (f) {
        fputs("machine mock.test login u password p\n", f);
        fclose(f);
    }
    IA(httpx_auth_netrc("null_safety_netrc", NULL, NULL));
    remove("null_safety_netrc");
    IA(httpx_auth_custom(NULL, 0, &free_count[2], count_free, &a));
    IA(httpx_auth_custom(flow, 0, &free_count[2], count_free, NULL));
    IA(httpx_auth_custom(flow, 0x80, &free_count[2], count_free, &a)); /* unknown flag */
    CHECK(a == SENTINEL, "auth_out untouched on error");
    CHECK(free_count[2] == 0, "failed httpx_auth_custom did not call free_fn");
    httpx_auth_free(NULL);
    CHECK(1, "httpx_auth_free(NULL) is a no-op");
}

static void transport_checks(void) {
    httpx_transport *t = SENTINEL;
    IA(httpx_transport_callback(NULL, &free_count[3], count_free, &t));
    IA(httpx_transport_callback(answer, &free_count[3], count_free, NULL));
    CHECK(t == SENTINEL, "transport_out untouched on error");
    CHECK(free_count[3] == 0, "failed httpx_transport_callback did not call free_fn");
    IA(httpx_transport_http(NULL));

    t = NULL;
    OK(httpx_transport_callback(answer, NULL, NULL, &t));
    IA(httpx_transport_callback_set_raise_errors(NULL, 1));
    IA(httpx_transport_callback_set_script_name(NULL, "/app"));
    IA(httpx_transport_callback_set_script_name(t, NULL));
    IA(httpx_transport_callback_set_remote_addr(NULL, "1.2.3.4"));
    IA(httpx_transport_callback_set_remote_addr(t, NULL));
    httpx_transport_free(t);

    t = NULL;
    OK(httpx_transport_http(&t));
    IA(httpx_transport_http_set_limits(NULL, 1, 1, 1.0));
    IA(httpx_transport_http_set_retries(NULL, 1));
    IA(httpx_transport_http_set_local_address(NULL, "127.0.0.1"));
    IA(httpx_transport_http_set_local_address(t, NULL));
    IA(httpx_transport_http_set_uds(NULL, "/tmp/x.sock"));
    IA(httpx_transport_http_set_uds(t, NULL));
    IA(httpx_transport_http_set_verify(NULL, 1));
    IA(httpx_transport_http_set_ca_file(NULL, "/x.pem"));
    IA(httpx_transport_http_set_ca_file(t, NULL));
    IA(httpx_transport_http_set_client_cert(NULL, "c", "k"));
    IA(httpx_transport_http_set_client_cert(t, NULL, "k"));
    IA(httpx_transport_http_set_client_cert(t, "c", NULL));
    IA(httpx_transport_http_set_proxy(NULL, "http://127.0.0.1:9", HTTPX_PROXY_DEFAULT));
    IA(httpx_transport_http_set_proxy(t, NULL, HTTPX_PROXY_DEFAULT));
    httpx_transport_free(t);
    httpx_transport_free(NULL);
    CHECK(1, "httpx_transport_free(NULL) is a no-op");
}

int main(void) {
    config_checks();
    auth_checks();
    transport_checks();

    /* A client answered by a callback transport (no network), with a custom auth flow so
     * the flow checks run too. */
    httpx_transport *t = NULL;
    httpx_client_config *cfg = NULL;
    httpx_client *client = NULL;
    httpx_auth *auth = NULL;
    OK(httpx_transport_callback(answer, &free_count[10], count_free, &t));
    OK(httpx_auth_custom(flow, 0, &free_count[11], count_free, &auth));
    OK(httpx_client_config_new(&cfg));
    OK(httpx_client_config_set_transport(cfg, t));
    OK(httpx_client_config_set_auth(cfg, auth));
    OK(httpx_client_new(cfg, &client, NULL));
    httpx_client_config_free(cfg);
    httpx_transport_free(t);
    httpx_auth_free(auth);

    httpx_request *req = NULL;
    OK(httpx_request_new("GET", "http://mock.test/", &req, NULL));
    client_checks(client, req);
    request_checks(client);
    response_checks(client, req);
    CHECK(builder_checks_ran, "response builder checks ran inside the transport callback");
    CHECK(flow_checks_ran, "auth flow checks ran inside the auth callback");
    httpx_request_free(req);

    CHECK(free_count[10] == 0 && free_count[11] == 0, "userdata still held while the client lives");
    httpx_client_free(client);
    CHECK(free_count[10] == 1, "transport free_fn called exactly once after the last user (got %d)", free_count[10]);
    CHECK(free_count[11] == 1, "auth free_fn called exactly once after the last user (got %d)", free_count[11]);
    return test_done();
}
