/*
 * auth_retry_401: a custom auth flow that only sends credentials when challenged.
 *
 *     class MyCustomAuth(httpx.Auth):
 *         def auth_flow(self, request):
 *             response = yield request
 *             if response.status_code == 401:
 *                 # If the server issues a 401 response then resend the request,
 *                 # with a custom `X-Authentication` header.
 *                 request.headers['X-Authentication'] = self.token
 *                 yield request
 *
 * httpx_auth_flow_step tells where the generator is: 0 = before the first send, then one
 * call per response. The 401 ends up in the final response's history.
 */
#include <stdio.h>
#include <string.h>

#include "httpx.h"

static const char *TOKEN = "s3cr3t";

static uint32_t retry_on_401(void *userdata, httpx_auth_flow *flow) {
    const char *token = userdata;
    httpx_response *resp = httpx_auth_flow_response(flow);
    switch (httpx_auth_flow_step(flow)) {
    case 0:
        return HTTPX_AUTH_SEND; /* response = yield request */
    case 1:
        if (httpx_response_status(resp) == 401) {
            httpx_request_set_header(httpx_auth_flow_request(flow), "X-Authentication", token);
            return HTTPX_AUTH_SEND; /* yield request (again, with credentials) */
        }
        return HTTPX_AUTH_DONE; /* not challenged */
    default:
        return HTTPX_AUTH_DONE;
    }
}

/* A fake API that challenges requests without the token. */
static httpx_code fake_api(void *userdata, const httpx_request *req, httpx_response_builder *out) {
    int *requests_seen = userdata;
    (*requests_seen)++;
    const char *token = httpx_request_header_get(req, "X-Authentication");
    if (token == NULL || strcmp(token, TOKEN) != 0) {
        httpx_response_builder_set_status(out, 401);
        return httpx_response_builder_add_header(out, "WWW-Authenticate", "Token");
    }
    return httpx_response_builder_set_body(out, (const uint8_t *)"welcome", 7);
}

int main(void) {
    int requests_seen = 0;
    httpx_auth *auth = NULL;
    httpx_transport *api = NULL;
    httpx_auth_custom(retry_on_401, 0, (void *)TOKEN, NULL, &auth); /* static userdata: no free_fn */
    httpx_transport_callback(fake_api, &requests_seen, NULL, &api);

    httpx_client_config *cfg = NULL;
    httpx_client *client = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_transport(cfg, api);
    httpx_client_new(cfg, &client, NULL);
    httpx_client_config_free(cfg);
    httpx_transport_free(api);

    /* Auth for one request only (HTTPX `client.get(url, auth=...)`). */
    httpx_request *req = NULL;
    httpx_response *resp = NULL;
    httpx_error *err = NULL;
    httpx_request_build(client, "GET", "https://api.example.com/inbox", &req, NULL);
    httpx_request_set_auth(req, auth);
    httpx_auth_free(auth); /* the request keeps its own reference */

    httpx_code rc = httpx_client_send(client, req, &resp, &err);
    int ok = 0;
    if (rc != HTTPX_OK) {
        fprintf(stderr, "%s: %s\n", httpx_code_str(rc), httpx_error_message(err));
        httpx_error_free(err);
    } else {
        for (size_t i = 0; i < httpx_response_history_count(resp); i++)
            printf("history[%zu]: %u\n", i, httpx_response_status(httpx_response_history_at(resp, i)));
        const uint8_t *body;
        size_t len;
        httpx_response_body(resp, &body, &len, NULL);
        printf("final: %u %.*s (%d requests reached the server)\n", httpx_response_status(resp), (int)len,
               (const char *)body, requests_seen);
        ok = httpx_response_status(resp) == 200 && httpx_response_history_count(resp) == 1 && requests_seen == 2;
    }
    httpx_response_free(resp);
    httpx_request_free(req);
    httpx_client_free(client);
    return ok ? 0 : 1;
}
