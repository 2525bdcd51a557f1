/*
 * auth_refresh: a custom auth flow that refreshes an expired access token and resends.
 *
 *     class MyCustomAuth(httpx.Auth):
 *         requires_response_body = True
 *         def auth_flow(self, request):
 *             request.headers["X-Authentication"] = self.access_token
 *             response = yield request
 *             if response.status_code == 401:
 *                 refresh_response = yield self.build_refresh_request()
 *                 self.update_tokens(refresh_response)
 *                 request.headers["X-Authentication"] = self.access_token
 *                 yield request
 *
 * "yield another request" is httpx_auth_flow_send(flow, refresh) + HTTPX_AUTH_SEND; its
 * response comes to the next call. HTTPX_AUTH_REQUIRES_RESPONSE_BODY makes the refresh
 * response's body readable inside the flow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpx.h"

struct tokens {
    char access[64];
    char refresh[64];
    const char *refresh_url;
};

/* update_tokens: the body is {"access_token": "..."}; keep the parsing trivial. */
static int update_tokens(struct tokens *t, httpx_response *resp) {
    const uint8_t *body;
    size_t len;
    char text[256];
    if (httpx_response_status(resp) != 200 || httpx_response_body(resp, &body, &len, NULL) != HTTPX_OK ||
        len >= sizeof text)
        return -1;
    memcpy(text, body, len);
    text[len] = 0;
    const char *key = "\"access_token\": \"";
    char *start = strstr(text, key);
    char *end = start ? strchr(start + strlen(key), '"') : NULL;
    if (!start || !end || (size_t)(end - start) >= sizeof t->access + strlen(key)) return -1;
    start += strlen(key);
    snprintf(t->access, sizeof t->access, "%.*s", (int)(end - start), start);
    return 0;
}

static uint32_t refreshing_flow(void *userdata, httpx_auth_flow *flow) {
    struct tokens *t = userdata;
    httpx_request *req = httpx_auth_flow_request(flow);
    httpx_response *resp = httpx_auth_flow_response(flow);
    switch (httpx_auth_flow_step(flow)) {
    case 0:
        httpx_request_set_header(req, "X-Authentication", t->access);
        return HTTPX_AUTH_SEND; /* response = yield request */
    case 1: {
        if (httpx_response_status(resp) != 401) return HTTPX_AUTH_DONE;
        httpx_request *refresh = NULL; /* build_refresh_request() */
        if (httpx_request_new("POST", t->refresh_url, &refresh, NULL) != HTTPX_OK) return 1;
        httpx_request_set_header(refresh, "X-Refresh-Token", t->refresh);
        httpx_code rc = httpx_auth_flow_send(flow, refresh); /* copied */
        httpx_request_free(refresh);
        return rc == HTTPX_OK ? HTTPX_AUTH_SEND : 1; /* refresh_response = yield ... */
    }
    case 2:
        if (update_tokens(t, resp) != 0) return 1; /* abort: HTTPX_E_CALLBACK */
        httpx_request_set_header(req, "X-Authentication", t->access);
        return HTTPX_AUTH_SEND; /* yield request */
    default:
        return HTTPX_AUTH_DONE;
    }
}

/* A fake API: /token trades the refresh token for "fresh-token"; the rest wants it. */
static httpx_code fake_api(void *userdata, const httpx_request *req, httpx_response_builder *out) {
    (void)userdata;
    const char *path = httpx_response_builder_path_info(out);
    if (strcmp(path, "/token") == 0) {
        const char *rt = httpx_request_header_get(req, "X-Refresh-Token");
        if (!rt || strcmp(rt, "refresh-me") != 0) return httpx_response_builder_set_status(out, 403);
        const char *json = "{\"access_token\": \"fresh-token\"}";
        httpx_response_builder_add_header(out, "Content-Type", "application/json");
        return httpx_response_builder_set_body(out, (const uint8_t *)json, strlen(json));
    }
    const char *token = httpx_request_header_get(req, "X-Authentication");
    if (!token || strcmp(token, "fresh-token") != 0) return httpx_response_builder_set_status(out, 401);
    return httpx_response_builder_set_body(out, (const uint8_t *)"your data", 9);
}

int main(void) {
    struct tokens *t = calloc(1, sizeof *t);
    if (!t) return 1;
    snprintf(t->access, sizeof t->access, "expired-token");
    snprintf(t->refresh, sizeof t->refresh, "refresh-me");
    t->refresh_url = "https://api.example.com/token";

    httpx_auth *auth = NULL;
    if (httpx_auth_custom(refreshing_flow, HTTPX_AUTH_REQUIRES_RESPONSE_BODY, t, free, &auth) != HTTPX_OK) {
        free(t);
        return 1;
    }
    httpx_transport *api = NULL;
    httpx_transport_callback(fake_api, NULL, NULL, &api);
    httpx_client_config *cfg = NULL;
    httpx_client *client = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_transport(cfg, api);
    httpx_client_config_set_auth(cfg, auth);
    httpx_client_new(cfg, &client, NULL);
    httpx_client_config_free(cfg);
    httpx_transport_free(api);

    httpx_response *resp = NULL;
    httpx_error *err = NULL;
    httpx_code rc = httpx_client_get(client, "https://api.example.com/data", &resp, &err);
    int ok = 0;
    if (rc != HTTPX_OK) {
        fprintf(stderr, "%s: %s\n", httpx_code_str(rc), httpx_error_message(err));
        httpx_error_free(err);
    } else {
        for (size_t i = 0; i < httpx_response_history_count(resp); i++) {
            httpx_response *h = httpx_response_history_at(resp, i);
            printf("history[%zu]: %u %s\n", i, httpx_response_status(h), httpx_response_url(h));
        }
        const uint8_t *body;
        size_t len;
        httpx_response_body(resp, &body, &len, NULL);
        printf("final: %u %.*s, access token now \"%s\"\n", httpx_response_status(resp), (int)len,
               (const char *)body, t->access);
        ok = httpx_response_status(resp) == 200 && strcmp(t->access, "fresh-token") == 0;
    }
    httpx_response_free(resp);
    httpx_auth_free(auth);
    httpx_client_free(client); /* frees the tokens (free_fn = free) */
    return ok ? 0 : 1;
}
