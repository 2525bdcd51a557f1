/*
 * Callbacks, no network:
 *  - the seed's JSON echo transport (request body in, {"body": ...} out), streamed response
 *    bodies from a read callback, WSGI-style options (raise or 500, script_name,
 *    remote_addr), mounts choosing transports by routing key;
 *  - event hooks run in registration order (redirects included), can edit and abort;
 *  - the seed's three custom auth flows: header token, resend on 401, refresh-and-resend
 *    with httpx_auth_flow_send; flow errors and the step cap;
 *  - sending on the same client from inside a callback is HTTPX_E_RECURSIVE_CALL;
 *  - free_fn runs exactly once for each userdata, when its last user is gone.
 */
#include "test_util.h"

/* Every userdata below is a `struct ud` with a free counter. */
struct ud {
    const char *name;
    int frees;
    int calls;
    char log[512];
    httpx_client *client; /* for the recursion check */
};

static void ud_free(void *p) { ((struct ud *)p)->frees++; }

static void log_add(struct ud *u, const char *what) {
    size_t used = strlen(u->log);
    snprintf(u->log + used, sizeof u->log - used, "%s%s", used ? " " : "", what);
}

static httpx_client *client_with(httpx_client_config *cfg) {
    httpx_client *c = NULL;
    httpx_error *err = NULL;
    if (httpx_client_new(cfg, &c, &err) != HTTPX_OK) t_show_error("client_new", &err);
    return c;
}

/* ---------------------------------------------------------------- JSON echo transport */

static httpx_code json_echo(void *userdata, const httpx_request *req, httpx_response_builder *out) {
    struct ud *u = userdata;
    (void)req;
    u->calls++;
    const uint8_t *body = NULL;
    uintptr_t len = 0;
    httpx_code rc = httpx_response_builder_request_body(out, &body, &len);
    if (rc != HTTPX_OK) return rc;
    char json[1024];
    int n = snprintf(json, sizeof json, "{\"body\": \"%.*s\"}", (int)(len < 900 ? len : 900), (const char *)body);
    httpx_response_builder_add_header(out, "Content-Type", "application/json");
    return httpx_response_builder_set_body(out, (const uint8_t *)json, (uintptr_t)n);
}

struct counter_src {
    int remaining; /* "chunk," repetitions still to produce */
    int frees;
    int offset; /* position inside the current "chunk," */
};
/* Produces "chunk," x remaining, honouring any `cap` (the library may ask for a few bytes). */
static httpx_code counter_read(void *ud, uint8_t *buf, uintptr_t cap, uintptr_t *n_out) {
    struct counter_src *s = ud;
    uintptr_t n = 0;
    while (n < cap && s->remaining > 0) {
        buf[n++] = (uint8_t)"chunk,"[s->offset++];
        if (s->offset == 6) {
            s->offset = 0;
            s->remaining--;
        }
    }
    *n_out = n;
    return HTTPX_OK;
}
static void counter_free(void *ud) { ((struct counter_src *)ud)->frees++; }

static struct counter_src response_src = {3, 0, 0};

static httpx_code streaming_app(void *userdata, const httpx_request *req, httpx_response_builder *out) {
    (void)req;
    ((struct ud *)userdata)->calls++;
    return httpx_response_builder_set_body_reader(out, counter_read, &response_src, counter_free);
}

static void json_echo_transport(void) {
    struct ud tu = {.name = "json-echo"};
    httpx_transport *t = NULL;
    httpx_client_config *cfg = NULL;
    CHECK(httpx_transport_callback(json_echo, &tu, ud_free, &t) == HTTPX_OK, "JSON echo transport created");
    httpx_client_config_new(&cfg);
    CHECK(httpx_client_config_set_transport(cfg, t) == HTTPX_OK, "Client(transport=JSONEchoTransport())");
    httpx_client *client = client_with(cfg);
    httpx_client_config_free(cfg);
    httpx_transport_free(t); /* the client keeps it alive */
    CHECK(tu.frees == 0, "transport userdata held while the client lives");

    /* client.post("https://httpbin.org/post", data="Hello, world!") -> {'body': 'Hello, world!'} */
    httpx_response *resp = NULL;
    httpx_code rc = httpx_client_post(client, "https://httpbin.org/post", (const uint8_t *)"Hello, world!", 13, NULL, &resp,
                                      NULL);
    CHECK(rc == HTTPX_OK && httpx_response_status(resp) == 200, "POST through the callback transport -> 200 (%s)",
          httpx_code_str(rc));
    CHECK(resp && body_is(resp, "{\"body\": \"Hello, world!\"}"), "response.json() == {\"body\": \"Hello, world!\"}");
    const char *ct = resp ? httpx_response_header_get(resp, "content-type") : NULL;
    CHECK(ct && strcmp(ct, "application/json") == 0, "Content-Type application/json");
    httpx_response_free(resp);
    uintptr_t total = 9, idle = 9;
    httpx_client_pool_stats(client, &total, &idle);
    CHECK(total == 0 && idle == 0, "no connection was opened (pool 0/0)");

    /* A streamed request body reaches the callback whole. */
    httpx_request *req = NULL;
    httpx_request_new("POST", "http://testserver/", &req, NULL);
    struct counter_src src = {2, 0, 0};
    httpx_request_set_body_reader(req, counter_read, &src, counter_free, -1);
    resp = NULL;
    rc = httpx_client_send(client, req, &resp, NULL);
    char *echoed = resp ? body_dup(resp) : NULL;
    CHECK(rc == HTTPX_OK && echoed && strcmp(echoed, "{\"body\": \"chunk,chunk,\"}") == 0,
          "streamed request body reaches the callback (%s: %s)", httpx_code_str(rc), echoed ? echoed : "(null)");
    free(echoed);
    httpx_response_free(resp);
    httpx_request_free(req);
    CHECK(src.frees == 1, "request body reader free_fn once (got %d)", src.frees);
    CHECK(tu.calls == 2, "transport called twice (got %d)", tu.calls);
    httpx_client_free(client);
    CHECK(tu.frees == 1, "transport free_fn exactly once after the client is freed (got %d)", tu.frees);

    /* Response body from a read callback, streamed to the caller. */
    struct ud su = {.name = "streaming-app"};
    t = NULL;
    httpx_transport_callback(streaming_app, &su, ud_free, &t);
    httpx_client_config_new(&cfg);
    httpx_client_config_set_transport(cfg, t);
    httpx_transport_free(t);
    client = client_with(cfg);
    httpx_client_config_free(cfg);
    req = NULL;
    resp = NULL;
    httpx_request_new("GET", "http://testserver/stream", &req, NULL);
    rc = httpx_client_send_stream(client, req, &resp, NULL);
    char got[64] = "";
    uintptr_t used = 0, n = 0;
    for (int i = 0; rc == HTTPX_OK && i < 100; i++) {
        rc = httpx_response_read(resp, (uint8_t *)got + used, sizeof got - 1 - used, &n, NULL);
        if (rc != HTTPX_OK || n == 0) break;
        used += n;
    }
    got[used] = 0;
    CHECK(rc == HTTPX_OK && strcmp(got, "chunk,chunk,chunk,") == 0, "response body streamed from a read callback: \"%s\"",
          got);
    httpx_response_free(resp);
    CHECK(response_src.frees == 1, "response body reader free_fn once (got %d)", response_src.frees);
    httpx_request_free(req);
    httpx_client_free(client);
    CHECK(su.frees == 1, "streaming transport free_fn once (got %d)", su.frees);
}

/* ---------------------------------------------------------------- WSGI options, mounts */

static httpx_code app(void *userdata, const httpx_request *req, httpx_response_builder *out) {
    struct ud *u = userdata;
    (void)req;
    u->calls++;
    const char *path = httpx_response_builder_path_info(out);
    if (strcmp(path, "/fail") == 0) return 7; /* an application error */
    char body[256];
    int n = snprintf(body, sizeof body, "%s script=%s path=%s addr=%s", u->name, httpx_response_builder_script_name(out),
                     path, httpx_response_builder_remote_addr(out));
    return httpx_response_builder_set_body(out, (const uint8_t *)body, (uintptr_t)n);
}

static void wsgi_and_mounts(void) {
    struct ud a = {.name = "A"}, b = {.name = "B"};
    httpx_transport *ta = NULL, *tb = NULL;
    httpx_transport_callback(app, &a, ud_free, &ta);
    httpx_transport_callback(app, &b, ud_free, &tb);
    CHECK(httpx_transport_callback_set_script_name(ta, "/app") == HTTPX_OK, "script_name /app");
    CHECK(httpx_transport_callback_set_remote_addr(ta, "1.2.3.4") == HTTPX_OK, "remote_addr 1.2.3.4");
    CHECK(httpx_transport_callback_set_raise_errors(tb, 0) == HTTPX_OK, "B: raise_app_exceptions=False");

    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    CHECK(httpx_client_config_mount(cfg, "all://a.test", ta) == HTTPX_OK, "mount all://a.test -> A");
    CHECK(httpx_client_config_mount(cfg, "http://b.test", tb) == HTTPX_OK, "mount http://b.test -> B");
    CHECK(httpx_transport_callback_set_remote_addr(ta, "5.6.7.8") == HTTPX_E_INVALID_ARGUMENT,
          "options are frozen once the transport is mounted");
    httpx_client *client = client_with(cfg);
    /* A second client sharing transport A. */
    httpx_client *client2 = client_with(cfg);
    httpx_client_config_free(cfg);
    httpx_transport_free(ta);
    httpx_transport_free(tb);

    httpx_response *resp = NULL;
    CHECK(httpx_client_get(client, "http://a.test/app/users/1", &resp, NULL) == HTTPX_OK &&
              body_is(resp, "A script=/app path=/users/1 addr=1.2.3.4"),
          "A sees script_name, path_info and remote_addr");
    httpx_response_free(resp);
    resp = NULL;
    CHECK(httpx_client_get(client, "http://b.test/x", &resp, NULL) == HTTPX_OK &&
              body_is(resp, "B script= path=/x addr=127.0.0.1"),
          "http://b.test is routed to B (default remote_addr 127.0.0.1)");
    httpx_response_free(resp);

    /* raise_app_exceptions: A raises (CALLBACK), B answers 500. */
    resp = NULL;
    httpx_code rc = httpx_client_get(client, "https://a.test/app/fail", &resp, NULL);
    CHECK(rc == HTTPX_E_CALLBACK && resp == NULL, "A: application error -> CALLBACK (got %s)", httpx_code_str(rc));
    rc = httpx_client_get(client, "http://b.test/fail", &resp, NULL);
    CHECK(rc == HTTPX_OK && httpx_response_status(resp) == 500, "B: application error -> 500 response (%s, %u)",
          httpx_code_str(rc), httpx_response_status(resp));
    httpx_response_free(resp);

    resp = NULL;
    CHECK(httpx_client_get(client2, "http://a.test/app/", &resp, NULL) == HTTPX_OK && httpx_response_status(resp) == 200,
          "second client uses the same transport A");
    httpx_response_free(resp);

    httpx_client_free(client);
    CHECK(a.frees == 0, "A still used by the second client: free_fn not yet called");
    httpx_client_free(client2);
    CHECK(a.frees == 1 && b.frees == 1, "A and B free_fn exactly once after the last client (A %d, B %d)", a.frees,
          b.frees);
}

/* ---------------------------------------------------------------- hooks */

static struct ud hooklog = {.name = "hooks"};
static struct ud h_req1 = {.name = "req1"}, h_req2 = {.name = "req2"}, h_resp1 = {.name = "resp1"},
                 h_resp2 = {.name = "resp2"};

static httpx_code on_request(void *userdata, httpx_request *req) {
    struct ud *u = userdata;
    u->calls++;
    log_add(&hooklog, u->name);
    if (httpx_request_header_get(req, "X-Abort-In-Hook")) return 1;
    char v[64];
    snprintf(v, sizeof v, "%s", u->name);
    return httpx_request_add_header(req, "X-Hooked", v);
}

static httpx_code on_response(void *userdata, httpx_response *resp) {
    struct ud *u = userdata;
    u->calls++;
    char e[64];
    snprintf(e, sizeof e, "%s:%u", u->name, httpx_response_status(resp));
    log_add(&hooklog, e);
    return HTTPX_OK;
}

static httpx_code redirecting_app(void *userdata, const httpx_request *req, httpx_response_builder *out) {
    (void)userdata;
    const char *path = httpx_response_builder_path_info(out);
    if (strcmp(path, "/old") == 0) {
        httpx_response_builder_set_status(out, 302);
        return httpx_response_builder_add_header(out, "Location", "/new");
    }
    /* Echo the X-Hooked values the hooks added. */
    char body[256] = "";
    uintptr_t n = httpx_request_header_count(req);
    for (uintptr_t i = 0; i < n; i++) {
        const char *name = NULL, *value = NULL;
        if (httpx_request_header_at(req, i, &name, &value) == HTTPX_OK && strcmp(name, "X-Hooked") == 0) {
            size_t used = strlen(body);
            snprintf(body + used, sizeof body - used, "%s%s", used ? "," : "", value);
        }
    }
    return httpx_response_builder_set_body(out, (const uint8_t *)body, strlen(body));
}

static void hooks(void) {
    struct ud tu = {.name = "redirecting"};
    httpx_transport *t = NULL;
    httpx_transport_callback(redirecting_app, &tu, ud_free, &t);
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_transport(cfg, t);
    httpx_transport_free(t);
    CHECK(httpx_client_config_add_request_hook(cfg, on_request, &h_req1, ud_free) == HTTPX_OK &&
              httpx_client_config_add_request_hook(cfg, on_request, &h_req2, ud_free) == HTTPX_OK &&
              httpx_client_config_add_response_hook(cfg, on_response, &h_resp1, ud_free) == HTTPX_OK &&
              httpx_client_config_add_response_hook(cfg, on_response, &h_resp2, ud_free) == HTTPX_OK,
          "two request hooks and two response hooks registered");
    httpx_client_config_set_follow_redirects(cfg, 1);
    httpx_client *client = client_with(cfg);
    httpx_client_config_free(cfg);
    CHECK(h_req1.frees == 0, "hook userdata held while the client lives (config freed)");

    httpx_response *resp = NULL;
    httpx_code rc = httpx_client_get(client, "http://hooks.test/new", &resp, NULL);
    CHECK(rc == HTTPX_OK && body_is(resp, "req1,req2"), "request hooks edited the request in order (body \"req1,req2\")");
    CHECK(strcmp(hooklog.log, "req1 req2 resp1:200 resp2:200") == 0, "order: %s", hooklog.log);
    httpx_response_free(resp);

    hooklog.log[0] = 0;
    resp = NULL;
    rc = httpx_client_get(client, "http://hooks.test/old", &resp, NULL);
    CHECK(rc == HTTPX_OK && httpx_response_status(resp) == 200 && httpx_response_history_count(resp) == 1,
          "redirect followed (%s)", httpx_code_str(rc));
    CHECK(strcmp(hooklog.log, "req1 req2 resp1:302 resp2:302 req1 req2 resp1:200 resp2:200") == 0,
          "hooks ran for the redirect too, in order: %s", hooklog.log);
    httpx_response_free(resp);

    /* A hook that fails aborts the send. */
    hooklog.log[0] = 0;
    httpx_request *req = NULL;
    httpx_request_new("GET", "http://hooks.test/new", &req, NULL);
    httpx_request_set_header(req, "X-Abort-In-Hook", "1");
    resp = NULL;
    rc = httpx_client_send(client, req, &resp, NULL);
    CHECK(rc == HTTPX_E_CALLBACK && resp == NULL, "request hook returning non-OK -> CALLBACK (got %s)", httpx_code_str(rc));
    CHECK(strcmp(hooklog.log, "req1") == 0, "later hooks did not run: %s", hooklog.log);
    httpx_request_free(req);

    httpx_client_free(client);
    CHECK(h_req1.frees == 1 && h_req2.frees == 1 && h_resp1.frees == 1 && h_resp2.frees == 1 && tu.frees == 1,
          "each hook's free_fn exactly once after the client is freed (%d %d %d %d, transport %d)", h_req1.frees,
          h_req2.frees, h_resp1.frees, h_resp2.frees, tu.frees);
}

/* ---------------------------------------------------------------- custom auth flows */

/* The protected API: 200 with X-Authentication == the current token; /refresh issues one. */
static const char *current_token = "token-1";

static httpx_code api(void *userdata, const httpx_request *req, httpx_response_builder *out) {
    struct ud *u = userdata;
    u->calls++;
    const char *path = httpx_response_builder_path_info(out);
    if (strcmp(path, "/refresh") == 0) {
        const char *rt = httpx_request_header_get(req, "X-Refresh-Token");
        if (!rt || strcmp(rt, "refresh-1") != 0) return httpx_response_builder_set_status(out, 403);
        current_token = "token-2";
        return httpx_response_builder_set_body(out, (const uint8_t *)"token-2", 7);
    }
    const char *tok = httpx_request_header_get(req, "X-Authentication");
    if (!tok || strcmp(tok, current_token) != 0) return httpx_response_builder_set_status(out, 401);
    return httpx_response_builder_set_body(out, (const uint8_t *)"secret data", 11);
}

/* 1. MyCustomAuth(token): set the header, yield the request. */
static uint32_t token_flow(void *userdata, httpx_auth_flow *flow) {
    struct ud *u = userdata;
    u->calls++;
    if (httpx_auth_flow_response(flow)) return HTTPX_AUTH_DONE;
    if (httpx_request_set_header(httpx_auth_flow_request(flow), "X-Authentication", "token-1") != HTTPX_OK) return 1;
    return HTTPX_AUTH_SEND;
}

/* 2. response = yield request; if 401: set the header, yield request. */
static uint32_t retry_401_flow(void *userdata, httpx_auth_flow *flow) {
    struct ud *u = userdata;
    u->calls++;
    httpx_response *resp = httpx_auth_flow_response(flow);
    uint32_t step = httpx_auth_flow_step(flow);
    if (step == 0) return HTTPX_AUTH_SEND; /* first try without credentials */
    if (step == 1 && httpx_response_status(resp) == 401) {
        httpx_request_set_header(httpx_auth_flow_request(flow), "X-Authentication", "token-1");
        return HTTPX_AUTH_SEND;
    }
    return HTTPX_AUTH_DONE;
}

/* 3. requires_response_body: on 401, yield a refresh request, read the new token from its
 * response, resend the original request with it. */
struct refresh_state {
    struct ud u;
    char access[64];
};
static uint32_t refresh_flow(void *userdata, httpx_auth_flow *flow) {
    struct refresh_state *s = userdata;
    s->u.calls++;
    httpx_request *req = httpx_auth_flow_request(flow);
    httpx_response *resp = httpx_auth_flow_response(flow);
    switch (httpx_auth_flow_step(flow)) {
    case 0:
        httpx_request_set_header(req, "X-Authentication", s->access);
        return HTTPX_AUTH_SEND;
    case 1: {
        if (httpx_response_status(resp) != 401) return HTTPX_AUTH_DONE;
        httpx_request *refresh = NULL;
        if (httpx_request_new("POST", "http://api.test/refresh", &refresh, NULL) != HTTPX_OK) return 2;
        httpx_request_set_header(refresh, "X-Refresh-Token", "refresh-1");
        httpx_code rc = httpx_auth_flow_send(flow, refresh); /* copied: free ours */
        httpx_request_free(refresh);
        return rc == HTTPX_OK ? HTTPX_AUTH_SEND : 3;
    }
    case 2: {
        /* resp is the refresh response; its body is readable (REQUIRES_RESPONSE_BODY). */
        const uint8_t *body = NULL;
        uintptr_t len = 0;
        if (httpx_response_status(resp) != 200 || httpx_response_body(resp, &body, &len, NULL) != HTTPX_OK ||
            len >= sizeof s->access)
            return 4;
        memcpy(s->access, body, len);
        s->access[len] = 0;
        httpx_request_set_header(req, "X-Authentication", s->access);
        return HTTPX_AUTH_SEND;
    }
    default:
        return HTTPX_AUTH_DONE;
    }
}

static uint32_t failing_flow(void *userdata, httpx_auth_flow *flow) {
    (void)flow;
    ((struct ud *)userdata)->calls++;
    return 42; /* neither SEND nor DONE */
}

static uint32_t endless_flow(void *userdata, httpx_auth_flow *flow) {
    (void)flow;
    ((struct ud *)userdata)->calls++;
    return HTTPX_AUTH_SEND;
}

static void auth_flows(void) {
    struct ud api_ud = {.name = "api"};
    httpx_transport *t = NULL;
    httpx_transport_callback(api, &api_ud, ud_free, &t);
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_transport(cfg, t);
    httpx_transport_free(t);
    httpx_client *client = client_with(cfg);
    httpx_client_config_free(cfg);
    const char *url = "http://api.test/data";

    /* Without auth: 401. */
    httpx_response *resp = NULL;
    CHECK(httpx_client_get(client, url, &resp, NULL) == HTTPX_OK && httpx_response_status(resp) == 401,
          "no auth -> 401");
    httpx_response_free(resp);

    struct ud tok = {.name = "token"}, retry = {.name = "retry"}, fail = {.name = "fail"}, endless = {.name = "endless"};
    struct refresh_state rs = {.u = {.name = "refresh"}, .access = "expired-token"};
    httpx_auth *a_tok = NULL, *a_retry = NULL, *a_refresh = NULL, *a_fail = NULL, *a_endless = NULL;
    CHECK(httpx_auth_custom(token_flow, 0, &tok, ud_free, &a_tok) == HTTPX_OK &&
              httpx_auth_custom(retry_401_flow, 0, &retry, ud_free, &a_retry) == HTTPX_OK &&
              httpx_auth_custom(refresh_flow, HTTPX_AUTH_REQUIRES_RESPONSE_BODY, &rs, ud_free, &a_refresh) == HTTPX_OK &&
              httpx_auth_custom(failing_flow, 0, &fail, ud_free, &a_fail) == HTTPX_OK &&
              httpx_auth_custom(endless_flow, 0, &endless, ud_free, &a_endless) == HTTPX_OK,
          "five custom auth flows created");

    httpx_request *req = NULL;
    httpx_request_new("GET", url, &req, NULL);

    /* 1. Header token. */
    httpx_request_set_auth(req, a_tok);
    resp = NULL;
    httpx_code rc = httpx_client_send(client, req, &resp, NULL);
    CHECK(rc == HTTPX_OK && httpx_response_status(resp) == 200 && body_is(resp, "secret data"),
          "token flow: 200 \"secret data\" (%s, %u)", httpx_code_str(rc), httpx_response_status(resp));
    CHECK(httpx_response_history_count(resp) == 0 && tok.calls == 2, "token flow: one request, flow called twice (%d)",
          tok.calls);
    const httpx_request *sent = httpx_response_request(resp);
    const char *hv = sent ? httpx_request_header_get(sent, "X-Authentication") : NULL;
    CHECK(hv && strcmp(hv, "token-1") == 0, "response.request carries X-Authentication");
    CHECK(httpx_request_header_get(req, "X-Authentication") == NULL, "the caller's request is not modified by the flow");
    httpx_response_free(resp);

    /* 2. Resend on 401. */
    httpx_request_set_auth(req, a_retry);
    resp = NULL;
    rc = httpx_client_send(client, req, &resp, NULL);
    CHECK(rc == HTTPX_OK && httpx_response_status(resp) == 200, "retry-on-401 flow: final 200 (%s)", httpx_code_str(rc));
    CHECK(httpx_response_history_count(resp) == 1 &&
              httpx_response_status(httpx_response_history_at(resp, 0)) == 401,
          "retry-on-401 flow: the 401 is in the history");
    CHECK(retry.calls == 3, "retry-on-401 flow called 3 times (got %d)", retry.calls);
    httpx_response_free(resp);

    /* 3. Refresh and resend. */
    httpx_request_set_auth(req, a_refresh);
    resp = NULL;
    rc = httpx_client_send(client, req, &resp, NULL);
    CHECK(rc == HTTPX_OK && httpx_response_status(resp) == 200 && body_is(resp, "secret data"),
          "refresh flow: final 200 (%s, %u)", httpx_code_str(rc), httpx_response_status(resp));
    CHECK(strcmp(rs.access, "token-2") == 0, "refresh flow: new access token from the refresh response (%s)", rs.access);
    uintptr_t hc = httpx_response_history_count(resp);
    httpx_response *h0 = httpx_response_history_at(resp, 0), *h1 = httpx_response_history_at(resp, 1);
    CHECK(hc == 2 && httpx_response_status(h0) == 401 && httpx_response_status(h1) == 200 &&
              strstr(httpx_response_url(h1), "/refresh") != NULL,
          "refresh flow: history = [401, refresh 200] (count %lu)", (unsigned long)hc);
    CHECK(rs.u.calls == 4, "refresh flow called 4 times (got %d)", rs.u.calls);
    httpx_response_free(resp);

    /* Flow errors. */
    httpx_request_set_auth(req, a_fail);
    resp = NULL;
    rc = httpx_client_send(client, req, &resp, NULL);
    CHECK(rc == HTTPX_E_CALLBACK && resp == NULL, "flow returning 42 -> CALLBACK (got %s)", httpx_code_str(rc));
    httpx_request_set_auth(req, a_endless);
    rc = httpx_client_send(client, req, &resp, NULL);
    CHECK(rc == HTTPX_E_CALLBACK && resp == NULL, "flow that never finishes -> CALLBACK at the step cap (got %s)",
          httpx_code_str(rc));
    CHECK(endless.calls >= 16 && endless.calls <= 18, "step cap ~16 (flow called %d times)", endless.calls);

    /* A client-level custom auth applies to client_get. */
    httpx_request_free(req);
    httpx_client_free(client);
    cfg = NULL;
    httpx_client_config_new(&cfg);
    t = NULL;
    struct ud api2 = {.name = "api2"};
    httpx_transport_callback(api, &api2, ud_free, &t);
    httpx_client_config_set_transport(cfg, t);
    httpx_transport_free(t);
    current_token = "token-1";
    httpx_client_config_set_auth(cfg, a_tok);
    client = client_with(cfg);
    httpx_client_config_free(cfg);
    resp = NULL;
    CHECK(httpx_client_get(client, url, &resp, NULL) == HTTPX_OK && httpx_response_status(resp) == 200,
          "client-level custom auth used by client_get");
    httpx_response_free(resp);

    /* Userdata: held while any auth handle, config, request or client uses it. */
    CHECK(tok.frees == 0, "token flow userdata still held (client uses it)");
    httpx_auth_free(a_tok);
    httpx_auth_free(a_retry);
    httpx_auth_free(a_refresh);
    httpx_auth_free(a_fail);
    httpx_auth_free(a_endless);
    CHECK(retry.frees == 1 && rs.u.frees == 1 && fail.frees == 1 && endless.frees == 1,
          "auth free_fn once each when the last handle is freed (%d %d %d %d)", retry.frees, rs.u.frees, fail.frees,
          endless.frees);
    CHECK(tok.frees == 0, "token auth still referenced by the client");
    httpx_client_free(client);
    CHECK(tok.frees == 1, "token auth free_fn once after the client is freed (got %d)", tok.frees);
    CHECK(api_ud.frees == 1 && api2.frees == 1, "API transports freed once each (%d %d)", api_ud.frees, api2.frees);
}

/* ---------------------------------------------------------------- recursion */

static httpx_code recursive_app(void *userdata, const httpx_request *req, httpx_response_builder *out) {
    struct ud *u = userdata;
    u->calls++;
    httpx_response *inner = NULL;
    httpx_code rc = httpx_client_send(u->client, req, &inner, NULL);
    httpx_response_free(inner);
    char body[64];
    int n = snprintf(body, sizeof body, "inner=%s", httpx_code_str(rc));
    return httpx_response_builder_set_body(out, (const uint8_t *)body, (uintptr_t)n);
}

static void recursion(void) {
    struct ud u = {.name = "recursive"};
    httpx_transport *t = NULL;
    httpx_transport_callback(recursive_app, &u, ud_free, &t);
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_transport(cfg, t);
    httpx_transport_free(t);
    u.client = client_with(cfg);
    httpx_client_config_free(cfg);
    httpx_response *resp = NULL;
    httpx_code rc = httpx_client_get(u.client, "http://recursive.test/", &resp, NULL);
    CHECK(rc == HTTPX_OK && body_is(resp, "inner=RECURSIVE_CALL"),
          "httpx_client_send from the client's own callback -> RECURSIVE_CALL");
    CHECK(u.calls == 1, "the callback ran once (got %d)", u.calls);
    httpx_response_free(resp);
    httpx_client_free(u.client);
    CHECK(u.frees == 1, "free_fn once (got %d)", u.frees);
}

/* ---------------------------------------------------------------- progress / trace userdata */

static int32_t progress(void *ud, uint64_t sent, int64_t st, uint64_t recv, int64_t rt) {
    (void)sent;
    (void)st;
    (void)recv;
    (void)rt;
    ((struct ud *)ud)->calls++;
    return 0;
}
static void trace(void *ud, uint32_t ev, double el, const char *detail) {
    (void)ev;
    (void)el;
    (void)detail;
    ((struct ud *)ud)->calls++;
}

static void observers(void) {
    struct ud p = {.name = "progress"}, tr = {.name = "trace"}, p_old = {.name = "replaced"}, tu = {.name = "echo"};
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_progress(cfg, progress, &p_old, ud_free);
    httpx_client_config_set_progress(cfg, progress, &p, ud_free); /* replaces: p_old released */
    httpx_client_config_set_trace(cfg, trace, &tr, ud_free);
    httpx_transport *t = NULL;
    httpx_transport_callback(json_echo, &tu, ud_free, &t);
    httpx_client_config_set_transport(cfg, t);
    httpx_transport_free(t);
    httpx_client *c1 = client_with(cfg);
    httpx_client *c2 = client_with(cfg);
    httpx_client_config_free(cfg);
    CHECK(p_old.frees == 1, "replaced progress userdata freed once (got %d)", p_old.frees);
    httpx_response *resp = NULL;
    httpx_client_post(c1, "http://echo.test/", (const uint8_t *)"x", 1, NULL, &resp, NULL);
    httpx_response_free(resp);
    httpx_client_free(c1);
    CHECK(p.frees == 0 && tr.frees == 0, "progress/trace userdata held while the second client lives");
    httpx_client_free(c2);
    CHECK(p.frees == 1 && tr.frees == 1 && tu.frees == 1, "progress, trace, transport free_fn once each (%d %d %d)",
          p.frees, tr.frees, tu.frees);
}

int main(void) {
    json_echo_transport();
    wsgi_and_mounts();
    hooks();
    auth_flows();
    recursion();
    observers();
    return test_done();
}
