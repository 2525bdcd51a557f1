/*
 * auth_token: HTTPX's simplest custom auth flow, in C.
 *
 *     class MyCustomAuth(httpx.Auth):
 *         def __init__(self, token):
 *             self.token = token
 *         def auth_flow(self, request):
 *             request.headers['X-Authentication'] = self.token
 *             yield request
 *
 * The flow is a callback called first with no response (edit the request, return
 * HTTPX_AUTH_SEND), then once per response (return HTTPX_AUTH_DONE to finish).
 * The "server" is a callback transport, so this runs without a network.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpx.h"

/* The auth's state: owned by the library once httpx_auth_custom succeeds. */
struct token_auth {
    char token[64];
};

static uint32_t token_flow(void *userdata, httpx_auth_flow *flow) {
    struct token_auth *auth = userdata;
    if (httpx_auth_flow_response(flow) != NULL) return HTTPX_AUTH_DONE; /* got the response */
    httpx_request *req = httpx_auth_flow_request(flow);
    if (httpx_request_set_header(req, "X-Authentication", auth->token) != HTTPX_OK) return 1; /* abort */
    return HTTPX_AUTH_SEND; /* yield request */
}

/* A fake API: 200 with the right token, 401 without. */
static httpx_code fake_api(void *userdata, const httpx_request *req, httpx_response_builder *out) {
    (void)userdata;
    const char *token = httpx_request_header_get(req, "X-Authentication");
    if (token == NULL || strcmp(token, "s3cr3t") != 0) {
        httpx_response_builder_set_status(out, 401);
        return httpx_response_builder_set_body(out, (const uint8_t *)"who are you?", 12);
    }
    return httpx_response_builder_set_body(out, (const uint8_t *)"{\"user\": \"ada\"}", 15);
}

int main(void) {
    /* MyCustomAuth("s3cr3t"): the library calls free() on the state when done with it. */
    struct token_auth *state = malloc(sizeof *state);
    if (!state) return 1;
    snprintf(state->token, sizeof state->token, "%s", "s3cr3t");
    httpx_auth *auth = NULL;
    if (httpx_auth_custom(token_flow, 0, state, free, &auth) != HTTPX_OK) {
        free(state); /* on error nothing was taken */
        return 1;
    }

    httpx_transport *api = NULL;
    httpx_transport_callback(fake_api, NULL, NULL, &api);

    /* Client(auth=MyCustomAuth("s3cr3t"), transport=...) */
    httpx_client_config *cfg = NULL;
    httpx_client *client = NULL;
    httpx_client_config_new(&cfg);
    httpx_client_config_set_auth(cfg, auth);
    httpx_client_config_set_transport(cfg, api);
    httpx_code rc = httpx_client_new(cfg, &client, NULL);
    /* The config and client keep their own references: release ours now. */
    httpx_client_config_free(cfg);
    httpx_auth_free(auth);
    httpx_transport_free(api);
    if (rc != HTTPX_OK) return 1;

    httpx_response *resp = NULL;
    httpx_error *err = NULL;
    rc = httpx_client_get(client, "https://api.example.com/me", &resp, &err);
    int ok = 0;
    if (rc != HTTPX_OK) {
        fprintf(stderr, "%s: %s\n", httpx_code_str(rc), httpx_error_message(err));
        httpx_error_free(err);
    } else {
        const uint8_t *body;
        size_t len;
        httpx_response_body(resp, &body, &len, NULL);
        const httpx_request *sent = httpx_response_request(resp);
        printf("sent X-Authentication: %s\n", httpx_request_header_get(sent, "X-Authentication"));
        printf("%u %s: %.*s\n", httpx_response_status(resp), httpx_response_reason(resp), (int)len, (const char *)body);
        ok = httpx_response_status(resp) == 200;
    }
    httpx_response_free(resp);
    httpx_client_free(client); /* last user of the auth: free(state) runs now */
    return ok ? 0 : 1;
}
