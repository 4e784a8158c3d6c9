/* dispatch.c -- the request pipeline: from a struct req to the struct res that answers it. */
#include "dispatch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "err.h"
#include "path.h"
#include "req.h"
#include "router.h"
#include "scenario.h"
#include "store.h"
#include "vendors.h"
#include "webhooks.h"

/* Answers OPTIONS on a known path: 204 with Allow naming the path's methods, HEAD where GET
 * is, and OPTIONS itself (what Express answers for OPTIONS without a handler of its own). */
static int answer_options(struct req *req, struct res *res)
{
    char allow[160] = "";
    size_t used = 0, len = path_routed_length(req->path);
    int has_get = 0;

    for (const struct route *r = req->vendor->routes; r->method != NULL; r++) {
        char token[16];

        if (!path_match_len(r->path, req->path, len, NULL, NULL))
            continue;
        snprintf(token, sizeof(token), "%s,", r->method);
        if (strstr(allow, token) != NULL || strlen(allow) + strlen(token) + 1 >= sizeof(allow))
            continue;
        used += (size_t)snprintf(allow + used, sizeof(allow) - used, "%s", token);
        has_get |= strcmp(r->method, "GET") == 0;
    }
    if (has_get)
        used += (size_t)snprintf(allow + used, sizeof(allow) - used, "HEAD,");
    snprintf(allow + used, sizeof(allow) - used, "OPTIONS");
    res->status = 204;
    return res_header(res, "Allow", "%s", allow);
}

/* Reads the body into req->json (and a multipart body's uploads into req->files) as the owning
 * vendor's framework reads it: JSON only for Express, JSON and forms for Laravel (req.h). */
static int parse_json_body(struct req *req, struct res *res)
{
    return req_read_body(req, res, req->vendor->body);
}

/* Waits out a scenario's delay. Called with no transaction open: a delayed request keeps
 * neither the store's writer nor a reader slot while it waits. */
static void wait_ms(int ms)
{
    struct timespec left = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (ms > 0 && nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

/* Authentication (which also counts the rate limits) and the scenario decision read the store
 * only, so they run in a read transaction; the write transaction, which LMDB serialises, is
 * opened afterwards and only for routes that write, so no request waits for the writer on
 * behalf of a client that is refused, throttled, answered by a scenario or delayed. */
static int run_route(struct app *app, struct req *req, struct res *res)
{
    const struct route *r = req->route;
    int writable = (r->flags & ROUTE_WRITE) != 0;
    int delay_ms = 0;
    int rc = store_txn_begin(app->store, 0, &req->txn);

    if (rc != EMU_OK)
        return rc;
    if (r->flags & ROUTE_AUTH)
        rc = req->vendor->authenticate(req, res);
    /* Scenarios decide here, once the tenant is known and before the vendor's own logic runs,
     * whether to answer instead (an injected error, delay or fault). */
    if (rc == EMU_OK && app->scenarios != NULL)
        rc = scenario_apply(app->scenarios, req, res, &delay_ms);
    if (rc != EMU_OK || res->answered || writable || delay_ms > 0) {
        store_txn_abort(req->txn);
        req->txn = NULL;
    }
    if (!app->skip_delays)
        wait_ms(delay_ms);
    if (rc != EMU_OK || res->answered)
        return rc;
    if (r->flags & ROUTE_JSON)
        rc = parse_json_body(req, res); /* before the writer is taken: parsing can be long */
    if (rc == EMU_OK && req->txn == NULL)
        rc = store_txn_begin(app->store, writable, &req->txn);
    if (rc == EMU_OK)
        rc = r->handler(req, res);
    if (rc == EMU_OK && writable)
        rc = store_txn_commit(req->txn); /* frees the txn in all cases */
    else
        store_txn_abort(req->txn);
    req->txn = NULL;
    if (rc == EMU_OK && req->deferred != NULL) /* only what was kept is announced */
        webhooks_enqueue(app->webhooks, req->deferred);
    return rc;
}

void dispatch_request(struct app *app, struct req *req, struct res *res)
{
    const char *method = req->method;
    int rc;

    /* HEAD runs the GET route (the transport leaves the body out); every handler, rate limit
     * and scenario sees a GET. */
    if (strcmp(method, "HEAD") == 0)
        req->method = "GET";
    rc = router_match(vendors_all(), req);
    if (rc == EMU_NO_METHOD && strcmp(method, "OPTIONS") == 0) {
        rc = answer_options(req, res);
        if (rc == EMU_OK) {
            req->method = method;
            return;
        }
    }
    if (rc == EMU_OK && req->body_too_large) {
        res->close = 1; /* the unread body is still on the wire */
        rc = res_fail(res, EMU_TOO_LARGE, "Request body exceeds the limit of %zu bytes",
                      app->cfg.max_body);
    }
    if (rc == EMU_OK)
        rc = run_route(app, req, res);
    if (rc != EMU_OK) {
        res_drop_body(res);
        res->status = 0; /* the error's own status: a handler's partial answer does not count */
        (req->vendor ? req->vendor : vendors_own_api())->reply_error(req, res, rc);
        scenario_finish(res); /* an injected error's status, headers and body overrides */
    }
    req->method = method;
}
