/*
 * Issue 6 from C: a network transport over a Unix domain socket, mounted for one
 * routing key beside a callback transport, with trace events.
 *
 * Env: HTTPX_TEST_UDS (nginx's unix socket path), HTTPX_TEST_HTTP.
 */
#include "test_util.h"

static httpx_code answer(void *ud, const httpx_request *req, httpx_response_builder *out) {
    (void)ud;
    (void)req;
    const char *body = "from the callback";
    httpx_response_builder_set_body(out, (const uint8_t *)body, strlen(body));
    return HTTPX_OK;
}

static void on_trace(void *ud, uint32_t event, double elapsed, const char *detail) {
    (void)elapsed;
    (void)detail;
    unsigned *mask = ud;
    *mask |= 1u << event;
}

int main(void) {
    const char *uds = need_env("HTTPX_TEST_UDS");
    httpx_transport *unix_t = NULL, *cb_t = NULL;
    CHECK_CODE(httpx_transport_http(&unix_t), HTTPX_OK);
    CHECK_CODE(httpx_transport_http_set_uds(unix_t, uds), HTTPX_OK);
    CHECK_CODE(httpx_transport_callback(answer, NULL, NULL, &cb_t), HTTPX_OK);

    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    unsigned events = 0;
    CHECK_CODE(httpx_client_config_mount(cfg, "http://nginx.sock", unix_t), HTTPX_OK);
    CHECK_CODE(httpx_client_config_mount(cfg, "all://", cb_t), HTTPX_OK);
    CHECK_CODE(httpx_client_config_set_trace(cfg, on_trace, &events, NULL), HTTPX_OK);
    /* Options can't change once a transport is in use. */
    CHECK_CODE(httpx_transport_http_set_retries(unix_t, 2), HTTPX_E_INVALID_ARGUMENT);
    httpx_transport_free(unix_t); /* the config keeps its reference */
    httpx_transport_free(cb_t);

    httpx_client *c = NULL;
    httpx_error *err = NULL;
    CHECK_CODE(httpx_client_new(cfg, &c, &err), HTTPX_OK);
    t_show_error("client_new", &err);
    httpx_client_config_free(cfg);

    httpx_response *r = NULL;
    CHECK_CODE(httpx_client_get(c, "http://nginx.sock/", &r, &err), HTTPX_OK);
    t_show_error("get over uds", &err);
    CHECK(r && httpx_response_status(r) == 200 && body_is(r, "Hello, world!"), "GET over the unix socket reaches nginx");
    httpx_response_free(r);
    r = NULL;
    CHECK((events & (1u << HTTPX_TRACE_CONNECTED)) && (events & (1u << HTTPX_TRACE_HEADERS_RECEIVED)),
          "trace saw connected and headers-received (mask %#x)", events);

    CHECK_CODE(httpx_client_get(c, "http://elsewhere.test/x", &r, &err), HTTPX_OK);
    CHECK(r && body_is(r, "from the callback"), "other URLs go to the callback transport");
    httpx_response_free(r);

    size_t total = 99, idle = 99;
    httpx_client_pool_stats(c, &total, &idle);
    CHECK(total == 0, "the client's own pool never opened a connection (total %zu)", total);
    httpx_client_free(c);
    return test_done();
}
