/*
 * HTTPS against nginx with the generated test PKI: trusting the CA (file, PEM bytes, a
 * mounted network transport) works and reuses the TLS connection; every verification
 * failure is HTTPX_E_TLS (default roots, wrong host, expired, self-signed); verify off
 * accepts any certificate; bad CA files fail at httpx_client_new.
 * Env: HTTPX_TEST_HTTPS, HTTPX_TEST_HTTPS_WRONG_HOST, HTTPX_TEST_HTTPS_EXPIRED,
 *      HTTPX_TEST_HTTPS_SELF_SIGNED, HTTPX_TEST_CA.
 */
#include "test_util.h"

static const char *ca;
static int tls_done = 0;

static void on_trace(void *ud, uint32_t event, double elapsed, const char *detail) {
    (void)ud;
    (void)elapsed;
    (void)detail;
    if (event == HTTPX_TRACE_TLS_DONE) tls_done++;
}

/* A client; trust: "file" (CA file), "pem" (CA bytes), "none" (default roots), "off". */
static httpx_client *make(const char *trust, httpx_code *rc_out) {
    httpx_client_config *cfg = NULL;
    httpx_client *c = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_trust_env(cfg, 0);
    httpx_client_config_set_timeout(cfg, 30.0);
    httpx_client_config_set_trace(cfg, on_trace, NULL, NULL);
    unsigned char *pem = NULL;
    if (strcmp(trust, "file") == 0) {
        httpx_client_config_set_ca_file(cfg, ca);
    } else if (strcmp(trust, "pem") == 0) {
        size_t len = 0;
        pem = read_whole_file(ca, &len);
        httpx_client_config_set_ca_pem(cfg, pem, pem ? len : 0);
    } else if (strcmp(trust, "off") == 0) {
        httpx_client_config_set_verify(cfg, 0);
    }
    httpx_error *err = NULL;
    httpx_code rc = httpx_client_new(cfg, &c, &err);
    if (rc != HTTPX_OK) t_show_error("client_new", &err);
    free(pem); /* the config copied the bytes */
    httpx_client_config_free(cfg);
    if (rc_out) *rc_out = rc;
    return c;
}

static void expect_ok(httpx_client *c, const char *url, const char *what) {
    httpx_response *resp = NULL;
    httpx_error *err = NULL;
    httpx_code rc = httpx_client_get(c, url, &resp, &err);
    CHECK(rc == HTTPX_OK && httpx_response_status(resp) == 200 && body_is(resp, "Hello, world!"), "%s: GET %s -> 200 (%s)",
          what, url, httpx_code_str(rc));
    t_show_error("get", &err);
    httpx_response_free(resp);
}

static void expect_tls_error(httpx_client *c, const char *url, const char *what) {
    httpx_response *resp = NULL;
    httpx_error *err = NULL;
    httpx_code rc = httpx_client_get(c, url, &resp, &err);
    CHECK(rc == HTTPX_E_TLS && resp == NULL, "%s: GET %s -> TLS (got %s)", what, url, httpx_code_str(rc));
    CHECK(err && httpx_error_code(err) == rc && strlen(httpx_error_message(err)) > 0, "  message: %s",
          err ? httpx_error_message(err) : "(none)");
    httpx_error_free(err);
    httpx_response_free(resp);
}

int main(void) {
    const char *https = need_env("HTTPX_TEST_HTTPS");
    const char *wrong_host = need_env("HTTPX_TEST_HTTPS_WRONG_HOST");
    const char *expired = need_env("HTTPX_TEST_HTTPS_EXPIRED");
    const char *self_signed = need_env("HTTPX_TEST_HTTPS_SELF_SIGNED");
    ca = need_env("HTTPX_TEST_CA");
    char url[512];
    snprintf(url, sizeof url, "%s/", https);

    /* Trusting the generated CA (file). Two requests: one TLS handshake. */
    httpx_code rc;
    httpx_client *c = make("file", &rc);
    CHECK(c != NULL, "client with httpx_client_config_set_ca_file(%s) (%s)", ca, httpx_code_str(rc));
    if (c) {
        tls_done = 0;
        expect_ok(c, url, "CA file");
        expect_ok(c, url, "CA file, again");
        CHECK(tls_done == 1, "one TLS handshake for two requests (pooled; got %d)", tls_done);
        httpx_response *resp = NULL;
        httpx_client_get(c, url, &resp, NULL);
        CHECK(resp && strncmp(httpx_response_url(resp), "https://", 8) == 0, "response url is https: %s",
              resp ? httpx_response_url(resp) : "");
        httpx_response_free(resp);

        /* The certificate also has IP:127.0.0.1. */
        const char *port = strrchr(https, ':');
        char ip_url[256];
        snprintf(ip_url, sizeof ip_url, "https://127.0.0.1%s/", port ? port : "");
        expect_ok(c, ip_url, "CA file, by IP");

        /* Same CA, bad certificates. */
        snprintf(url, sizeof url, "%s/", wrong_host);
        expect_tls_error(c, url, "wrong host name");
        snprintf(url, sizeof url, "%s/", expired);
        expect_tls_error(c, url, "expired certificate");
        snprintf(url, sizeof url, "%s/", self_signed);
        expect_tls_error(c, url, "self-signed certificate");
        httpx_client_free(c);
    }

    /* CA as PEM bytes. */
    snprintf(url, sizeof url, "%s/", https);
    c = make("pem", &rc);
    CHECK(c != NULL, "client with httpx_client_config_set_ca_pem (%s)", httpx_code_str(rc));
    if (c) {
        expect_ok(c, url, "CA PEM bytes");
        httpx_client_free(c);
    }

    /* Default roots (webpki) do not know the test CA. */
    c = make("none", &rc);
    if (c) {
        expect_tls_error(c, url, "default roots");
        httpx_client_free(c);
    }

    /* verify off: any certificate. */
    c = make("off", &rc);
    if (c) {
        snprintf(url, sizeof url, "%s/", self_signed);
        expect_ok(c, url, "verify off, self-signed");
        snprintf(url, sizeof url, "%s/", expired);
        expect_ok(c, url, "verify off, expired");
        httpx_client_free(c);
    }

    /* A network transport with its own CA, mounted for the HTTPS origin only. */
    httpx_transport *t = NULL;
    httpx_client_config *cfg = NULL;
    httpx_transport_http(&t);
    CHECK(httpx_transport_http_set_ca_file(t, ca) == HTTPX_OK, "transport_http_set_ca_file");
    httpx_client_config_new(&cfg);
    httpx_client_config_set_trust_env(cfg, 0);
    CHECK(httpx_client_config_mount(cfg, "https://localhost", t) == HTTPX_OK, "mount https://localhost");
    httpx_transport_free(t);
    c = NULL;
    rc = httpx_client_new(cfg, &c, NULL);
    httpx_client_config_free(cfg);
    snprintf(url, sizeof url, "%s/", https);
    if (c) {
        expect_ok(c, url, "mounted transport with the CA");
        httpx_client_free(c);
    } else {
        CHECK(0, "client with a mounted transport (%s)", httpx_code_str(rc));
    }

    /* Bad CA files are reported by httpx_client_new. */
    httpx_client_config_new(&cfg);
    httpx_client_config_set_ca_file(cfg, "/nonexistent/ca.pem");
    c = NULL;
    rc = httpx_client_new(cfg, &c, NULL);
    CHECK(rc == HTTPX_E_IO && c == NULL, "missing CA file -> IO at client_new (got %s)", httpx_code_str(rc));
    httpx_client_config_free(cfg);
    FILE *f = fopen("not-a-ca.pem", "w");
    if (f) {
        fputs("this is not a certificate\n", f);
        fclose(f);
    }
    httpx_client_config_new(&cfg);
    httpx_client_config_set_ca_file(cfg, "not-a-ca.pem");
    rc = httpx_client_new(cfg, &c, NULL);
    CHECK((rc == HTTPX_E_TLS || rc == HTTPX_E_IO) && c == NULL, "a CA file with no certificate -> TLS/IO (got %s)",
          httpx_code_str(rc));
    httpx_client_config_free(cfg);
    remove("not-a-ca.pem");

    /* TLS 1.3 minimum (nginx offers 1.2 and 1.3). */
    httpx_client_config_new(&cfg);
    httpx_client_config_set_ca_file(cfg, ca);
    CHECK(httpx_client_config_set_min_tls_version(cfg, HTTPX_TLS_1_3) == HTTPX_OK, "min TLS 1.3");
    CHECK(httpx_client_config_set_min_tls_version(cfg, 11) == HTTPX_E_INVALID_ARGUMENT, "TLS 1.1 is refused");
    c = NULL;
    httpx_client_new(cfg, &c, NULL);
    httpx_client_config_free(cfg);
    if (c) {
        expect_ok(c, url, "TLS 1.3");
        httpx_client_free(c);
    }

    /* Top-level httpx_get: default roots, so the test CA is not trusted. */
    httpx_response *resp = NULL;
    rc = httpx_get(url, &resp, NULL);
    CHECK(rc == HTTPX_E_TLS && resp == NULL, "httpx_get of the test server with default roots -> TLS (got %s)",
          httpx_code_str(rc));
    return test_done();
}
