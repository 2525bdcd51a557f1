/*
 * mock_transport_test: unit-test your own HTTP-using code without a network.
 *
 * `fetch_user_name` below is "application code": it takes a client, calls an API and
 * parses the answer. In production the client talks to the real server; in the test, the
 * client gets a callback transport (HTTPX's MockTransport) that checks what was sent and
 * answers with canned responses. No socket is ever opened.
 */
#include <stdio.h>
#include <string.h>

#include "httpx.h"

/* ------------------------------------------------------------ code under test */

/* GET /users/{id} (relative to the client's base_url) and copy the "name" field of the
 * JSON answer into `out`. Returns 0 on success, -1 on any failure. */
static int fetch_user_name(const httpx_client *client, int id, char *out, size_t cap) {
    char path[64];
    snprintf(path, sizeof path, "/users/%d", id);
    httpx_response *resp = NULL;
    if (httpx_client_get(client, path, &resp, NULL) != HTTPX_OK) return -1;
    int result = -1;
    const char *text;
    size_t len;
    if (httpx_response_raise_for_status(resp, NULL) == HTTPX_OK && httpx_response_text(resp, &text, &len, NULL) == HTTPX_OK) {
        const char *key = "\"name\": \"";
        const char *start = strstr(text, key);
        const char *end = start ? strchr(start + strlen(key), '"') : NULL;
        if (start && end) {
            start += strlen(key);
            snprintf(out, cap, "%.*s", (int)(end - start), start);
            result = 0;
        }
    }
    httpx_response_free(resp);
    return result;
}

/* ------------------------------------------------------------ the mock server */

struct mock {
    int calls;
    char last_method[16];
    char last_path[128];
    char last_accept[64];
};

static httpx_code mock_api(void *userdata, const httpx_request *req, httpx_response_builder *out) {
    struct mock *m = userdata;
    m->calls++;
    const char *accept = httpx_request_header_get(req, "Accept");
    snprintf(m->last_method, sizeof m->last_method, "%s", httpx_request_method(req));
    snprintf(m->last_path, sizeof m->last_path, "%s", httpx_response_builder_path_info(out));
    snprintf(m->last_accept, sizeof m->last_accept, "%s", accept ? accept : "");

    if (strcmp(m->last_path, "/v1/users/1") == 0) {
        const char *json = "{\"id\": 1, \"name\": \"Ada Lovelace\"}";
        httpx_response_builder_add_header(out, "Content-Type", "application/json");
        return httpx_response_builder_set_body(out, (const uint8_t *)json, strlen(json));
    }
    if (strcmp(m->last_path, "/v1/users/2") == 0) {
        const char *json = "{\"id\": 2}"; /* no name */
        return httpx_response_builder_set_body(out, (const uint8_t *)json, strlen(json));
    }
    httpx_response_builder_set_status(out, 404);
    return httpx_response_builder_set_body(out, (const uint8_t *)"{\"error\": \"not found\"}", 22);
}

/* ------------------------------------------------------------ the tests */

static int failures = 0;
#define EXPECT(cond, what)                                    \
    do {                                                      \
        int ok_ = (cond);                                     \
        printf("%s %s\n", ok_ ? "PASS" : "FAIL", what);       \
        if (!ok_) failures++;                                 \
    } while (0)

int main(void) {
    struct mock m = {0};
    httpx_transport *transport = NULL;
    httpx_transport_callback(mock_api, &m, NULL, &transport);

    /* The client the application would get, with the mock instead of the network. */
    httpx_client_config *cfg = NULL;
    httpx_client *client = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_base_url(cfg, "https://api.example.com/v1");
    httpx_client_config_add_header(cfg, "Accept", "application/json");
    httpx_client_config_set_transport(cfg, transport);
    if (httpx_client_new(cfg, &client, NULL) != HTTPX_OK) return 1;
    httpx_client_config_free(cfg);
    httpx_transport_free(transport);

    char name[64] = "";
    EXPECT(fetch_user_name(client, 1, name, sizeof name) == 0, "user 1 is found");
    EXPECT(strcmp(name, "Ada Lovelace") == 0, "user 1 is Ada Lovelace");
    EXPECT(strcmp(m.last_method, "GET") == 0, "it used GET");
    EXPECT(strcmp(m.last_path, "/v1/users/1") == 0, "it called /v1/users/1 (base_url path kept)");
    EXPECT(strcmp(m.last_accept, "application/json") == 0, "it sent Accept: application/json");

    EXPECT(fetch_user_name(client, 2, name, sizeof name) == -1, "a user without a name is an error");
    EXPECT(fetch_user_name(client, 99, name, sizeof name) == -1, "a 404 is an error");
    EXPECT(m.calls == 3, "three requests reached the mock");

    size_t total = 1;
    httpx_client_pool_stats(client, &total, NULL);
    EXPECT(total == 0, "no network connection was opened");

    httpx_client_free(client);
    printf("%s (%d failure%s)\n", failures ? "FAILED" : "OK", failures, failures == 1 ? "" : "s");
    return failures ? 1 : 0;
}
