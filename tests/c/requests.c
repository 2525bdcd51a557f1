/*
 * Requests against httpbin:
 *  - HTTPX's explicit request flow (the seed): client headers X-Api-Key + X-Client-ID,
 *    httpx_request_build, read X-Client-ID, remove X-Api-Key for this request only, send.
 *  - Merging (the seed): client params/headers/cookies combined with the request's; the
 *    request wins for auth; base_url keeps its path; same-key params/headers replace.
 * Env: HTTPX_TEST_HTTPBIN.
 */
#include "test_util.h"

static const char *bin;

static httpx_client *new_client(httpx_client_config *cfg) {
    httpx_client *c = NULL;
    httpx_error *err = NULL;
    if (httpx_client_new(cfg, &c, &err) != HTTPX_OK) t_show_error("client_new", &err);
    return c;
}

static void explicit_request_flow(void) {
    char url[512];
    snprintf(url, sizeof url, "%s/headers", bin);

    /* headers = {"X-Api-Key": "...", "X-Client-ID": "ABC123"}; Client(headers=headers) */
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_add_header(cfg, "X-Api-Key", "secret-key-123");
    httpx_client_config_add_header(cfg, "X-Client-ID", "ABC123");
    httpx_client *client = new_client(cfg);
    httpx_client_config_free(cfg); /* the client keeps its own copy */
    CHECK(client != NULL, "client with X-Api-Key and X-Client-ID headers");
    if (!client) return;

    /* request = client.build_request("GET", url) */
    httpx_request *req = NULL;
    CHECK(httpx_request_build(client, "GET", url, &req, NULL) == HTTPX_OK, "build_request GET /headers");
    const char *cid = httpx_request_header_get(req, "X-Client-ID");
    CHECK(cid && strcmp(cid, "ABC123") == 0, "request.headers[\"X-Client-ID\"] == \"ABC123\"");
    CHECK(httpx_request_header_get(req, "x-api-key") != NULL, "the built request has X-Api-Key");
    CHECK(strcmp(httpx_request_url(req), url) == 0, "request url %s", httpx_request_url(req));

    /* del request.headers["X-Api-Key"] */
    CHECK(httpx_request_remove_header(req, "X-Api-Key") == HTTPX_OK, "remove X-Api-Key");
    CHECK(httpx_request_header_get(req, "X-Api-Key") == NULL, "X-Api-Key gone from the request");
    CHECK(httpx_request_remove_header(req, "X-Not-There") == HTTPX_OK, "removing an absent header is OK");

    /* response = client.send(request) */
    httpx_response *resp = NULL;
    httpx_error *err = NULL;
    httpx_code rc = httpx_client_send(client, req, &resp, &err);
    CHECK(rc == HTTPX_OK && httpx_response_status(resp) == 200, "client.send(request) -> 200 (%s)", httpx_code_str(rc));
    t_show_error("send", &err);
    CHECK(resp && body_has(resp, "\"X-Client-Id\": \"ABC123\""), "httpbin saw X-Client-ID: ABC123");
    CHECK(resp && !body_has(resp, "X-Api-Key") && !body_has(resp, "secret-key-123"), "httpbin did not see X-Api-Key");
    const httpx_request *sent = httpx_response_request(resp);
    CHECK(sent && httpx_request_header_get(sent, "X-Api-Key") == NULL && httpx_request_header_get(sent, "X-Client-ID"),
          "response.request has X-Client-ID and no X-Api-Key");
    httpx_response_free(resp);

    /* The request is not consumed: send it again. The client itself is unchanged. */
    resp = NULL;
    CHECK(httpx_client_send(client, req, &resp, NULL) == HTTPX_OK && body_has(resp, "ABC123") &&
              !body_has(resp, "X-Api-Key"),
          "the same request sent again");
    httpx_response_free(resp);
    resp = NULL;
    CHECK(httpx_client_get(client, url, &resp, NULL) == HTTPX_OK && body_has(resp, "\"X-Api-Key\": \"secret-key-123\""),
          "other requests of the client still send X-Api-Key");
    httpx_response_free(resp);
    httpx_request_free(req);

    /* httpx.Request(...) + client.send(request): a standalone request is sent as built. */
    req = NULL;
    resp = NULL;
    httpx_request_new("GET", url, &req, NULL);
    httpx_request_set_header(req, "X-Standalone", "yes");
    rc = httpx_client_send(client, req, &resp, NULL);
    CHECK(rc == HTTPX_OK && body_has(resp, "\"X-Standalone\": \"yes\""), "standalone request sent with its own header");
    CHECK(resp && !body_has(resp, "X-Client-Id") && !body_has(resp, "X-Api-Key"),
          "client.send(Request(...)) does not merge the client's headers (only build_request does)");
    httpx_response_free(resp);
    httpx_request_free(req);
    httpx_client_free(client);
}

static void merging(void) {
    char url[512];
    snprintf(url, sizeof url, "%s/get", bin);

    /* Client(headers={'X-Auth': 'from-client'}, params={'client_id': 'client1'}, auth=('tom', 'mot123')) */
    httpx_client_config *cfg = NULL;
    httpx_auth *tom = NULL, *alice = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_add_header(cfg, "X-Auth", "from-client");
    httpx_client_config_add_param(cfg, "client_id", "client1");
    httpx_client_config_add_cookie(cfg, "from_client", "c1", NULL, NULL);
    httpx_auth_basic("tom", "mot123", &tom);
    httpx_auth_basic("alice", "ecila123", &alice);
    httpx_client_config_set_auth(cfg, tom);
    httpx_auth_free(tom); /* the config keeps its own reference */
    httpx_client *client = new_client(cfg);
    httpx_client_config_free(cfg);
    CHECK(client != NULL, "client with headers, params, cookies and auth");
    if (!client) {
        httpx_auth_free(alice);
        return;
    }

    /* client.get(url, headers={'X-Custom': 'from-request'}, params={'request_id': 'request1'}) */
    httpx_request *req = NULL;
    httpx_request_build(client, "GET", url, &req, NULL);
    httpx_request_set_header(req, "X-Custom", "from-request");
    httpx_request_add_param(req, "request_id", "request1");
    httpx_response *resp = NULL;
    httpx_code rc = httpx_client_send(client, req, &resp, NULL);
    CHECK(rc == HTTPX_OK && httpx_response_status(resp) == 200, "GET /get with merged options (%s)", httpx_code_str(rc));
    const httpx_request *sent = httpx_response_request(resp);
    char want[600];
    snprintf(want, sizeof want, "%s?client_id=client1&request_id=request1", url);
    const char *sent_url = sent ? httpx_request_url(sent) : "(null)";
    CHECK(strcmp(sent_url, want) == 0, "r.request.url == %s (got %s)", want, sent_url);
    const char *xa = sent ? httpx_request_header_get(sent, "X-Auth") : NULL;
    const char *xc = sent ? httpx_request_header_get(sent, "X-Custom") : NULL;
    CHECK(xa && strcmp(xa, "from-client") == 0, "r.request.headers['X-Auth'] == 'from-client'");
    CHECK(xc && strcmp(xc, "from-request") == 0, "r.request.headers['X-Custom'] == 'from-request'");
    CHECK(resp && body_has(resp, "\"client_id\": \"client1\"") && body_has(resp, "\"request_id\": \"request1\""),
          "httpbin saw both params");
    const char *authz = sent ? httpx_request_header_get(sent, "Authorization") : NULL;
    CHECK(authz && strcmp(authz, "Basic dG9tOm1vdDEyMw==") == 0, "client auth: Basic tom:mot123 (got %s)",
          authz ? authz : "(null)");
    httpx_response_free(resp);
    httpx_request_free(req);

    /* Request-level auth wins: auth=('alice', 'ecila123'). */
    req = NULL;
    resp = NULL;
    httpx_request_build(client, "GET", url, &req, NULL);
    httpx_request_set_auth(req, alice);
    rc = httpx_client_send(client, req, &resp, NULL);
    sent = httpx_response_request(resp);
    authz = sent ? httpx_request_header_get(sent, "Authorization") : NULL;
    CHECK(rc == HTTPX_OK && authz && strcmp(authz, "Basic YWxpY2U6ZWNpbGExMjM=") == 0,
          "request auth wins: b64decode -> alice:ecila123 (got %s)", authz ? authz : "(null)");
    CHECK(resp && body_has(resp, "\"Authorization\": \"Basic YWxpY2U6ZWNpbGExMjM=\""), "httpbin saw alice's credentials");
    httpx_response_free(resp);

    /* auth=None at request level: no Authorization at all; inherit goes back to tom. */
    resp = NULL;
    httpx_request_set_auth(req, NULL);
    rc = httpx_client_send(client, req, &resp, NULL);
    sent = httpx_response_request(resp);
    CHECK(rc == HTTPX_OK && sent && httpx_request_header_get(sent, "Authorization") == NULL,
          "request auth NULL: no Authorization header");
    httpx_response_free(resp);
    resp = NULL;
    httpx_request_inherit_auth(req);
    rc = httpx_client_send(client, req, &resp, NULL);
    sent = httpx_response_request(resp);
    authz = sent ? httpx_request_header_get(sent, "Authorization") : NULL;
    CHECK(rc == HTTPX_OK && authz && strcmp(authz, "Basic dG9tOm1vdDEyMw==") == 0, "inherit_auth: back to tom");
    httpx_response_free(resp);
    httpx_request_free(req);
    httpx_auth_free(alice);

    /* Same-key request param replaces the client's; same-name header replaces too. */
    req = NULL;
    resp = NULL;
    httpx_request_build(client, "GET", url, &req, NULL);
    httpx_request_add_param(req, "client_id", "override");
    httpx_request_set_header(req, "X-Auth", "from-request");
    rc = httpx_client_send(client, req, &resp, NULL);
    sent = httpx_response_request(resp);
    snprintf(want, sizeof want, "%s?client_id=override", url);
    sent_url = sent ? httpx_request_url(sent) : "(null)";
    CHECK(rc == HTTPX_OK && strcmp(sent_url, want) == 0, "request param replaces the client's: %s", sent_url);
    xa = sent ? httpx_request_header_get(sent, "X-Auth") : NULL;
    CHECK(xa && strcmp(xa, "from-request") == 0 && httpx_response_header_count(resp) > 0,
          "request header replaces the client's (X-Auth: %s)", xa ? xa : "(null)");
    CHECK(resp && body_has(resp, "\"X-Auth\": \"from-request\"") && !body_has(resp, "from-client"),
          "httpbin saw only the request's X-Auth");
    httpx_response_free(resp);
    httpx_request_free(req);

    /* Cookies: the client's jar and the request's cookie are combined. */
    char curl[512];
    snprintf(curl, sizeof curl, "%s/cookies", bin);
    req = NULL;
    resp = NULL;
    httpx_request_build(client, "GET", curl, &req, NULL);
    httpx_request_set_cookie(req, "from_request", "r1");
    rc = httpx_client_send(client, req, &resp, NULL);
    CHECK(rc == HTTPX_OK && body_has(resp, "\"from_client\": \"c1\"") && body_has(resp, "\"from_request\": \"r1\""),
          "cookies combined: from_client=c1 and from_request=r1");
    httpx_response_free(resp);
    httpx_request_free(req);
    httpx_client_free(client);
}

static void base_url(void) {
    char base[512], want[600];
    snprintf(base, sizeof base, "%s/anything/api", bin);
    httpx_client_config *cfg = NULL;
    httpx_client_config_new(&cfg);
    CHECK(httpx_client_config_set_base_url(cfg, base) == HTTPX_OK, "base_url %s", base);
    httpx_client *client = new_client(cfg);
    httpx_client_config_free(cfg);
    if (!client) {
        CHECK(0, "client with base_url");
        return;
    }
    httpx_response *resp = NULL;
    httpx_code rc = httpx_client_get(client, "/users", &resp, NULL);
    snprintf(want, sizeof want, "%s/users", base);
    const httpx_request *sent = httpx_response_request(resp);
    const char *u = sent ? httpx_request_url(sent) : "(null)";
    CHECK(rc == HTTPX_OK && strcmp(u, want) == 0, "base_url path kept: get(\"/users\") -> %s", u);
    snprintf(want, sizeof want, "\"url\": \"%s/users\"", base);
    CHECK(resp && body_has(resp, want), "httpbin saw %s/users", base);
    httpx_response_free(resp);
    httpx_client_free(client);
}

int main(void) {
    bin = need_env("HTTPX_TEST_HTTPBIN");
    explicit_request_flow();
    merging();
    base_url();
    return test_done();
}
