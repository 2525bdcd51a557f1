/*
 * HTTP/2 from C: a client with httpx_client_config_set_http2 talks h2 to nginx's
 * h2 listener and HTTP/1.1 to a listener without it.
 *
 * Env: HTTPX_TEST_HTTPS_H2, HTTPX_TEST_HTTPS, HTTPX_TEST_CA.
 */
#include "test_util.h"

int main(void) {
    const char *h2 = need_env("HTTPX_TEST_HTTPS_H2");
    const char *h1 = need_env("HTTPX_TEST_HTTPS");
    const char *ca = need_env("HTTPX_TEST_CA");
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    CHECK_CODE(httpx_client_config_set_http2(cfg, 1), HTTPX_OK);
    CHECK_CODE(httpx_client_config_set_ca_file(cfg, ca), HTTPX_OK);
    httpx_client *c = NULL;
    httpx_error *err = NULL;
    CHECK_CODE(httpx_client_new(cfg, &c, &err), HTTPX_OK);
    t_show_error("client_new", &err);
    httpx_client_config_free(cfg);

    for (int i = 0; i < 3; i++) {
        httpx_response *r = NULL;
        CHECK_CODE(httpx_client_get(c, h2, &r, &err), HTTPX_OK);
        t_show_error("h2 get", &err);
        CHECK(r && strcmp(httpx_response_http_version(r), "HTTP/2") == 0, "h2 listener answers over HTTP/2 (%s)",
              r ? httpx_response_http_version(r) : "-");
        CHECK(r && body_is(r, "Hello, world!"), "body over HTTP/2");
        httpx_response_free(r);
    }
    httpx_response *r = NULL;
    CHECK_CODE(httpx_client_get(c, h1, &r, &err), HTTPX_OK);
    t_show_error("h1 get", &err);
    CHECK(r && strcmp(httpx_response_http_version(r), "HTTP/1.1") == 0, "a server without h2 gets HTTP/1.1");
    httpx_response_free(r);
    httpx_client_free(c);
    return test_done();
}
