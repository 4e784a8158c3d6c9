/* guayaba.c -- Guayaba AI's contact API: routes, X-API-Key authentication, per-key rate
 * limits, and the vendor's error body {"error","message"}. How the vendor's Express reads a
 * query string is in query.c.
 *
 * The API lives at the root of the host (/contacts..., /campaigns), so Guayaba owns every path
 * no other vendor claims, and answers unknown ones with its own 404. Resources live in the
 * sibling files. */
#include "guayaba.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "err.h"
#include "jsonx.h"
#include "ratelimit.h"
#include "req.h"
#include "router.h"
#include "vendor_kit.h"
#include "vendors.h"

#define READS_PER_MINUTE  100
#define WRITES_PER_MINUTE 30
/* A tenant's own limits stay within an int; a key is at most what authentication reads. */
#define LIMIT_MAX         1000000000
#define API_KEY_MAX_BYTES 400

/* The vendor's error catalogue: what each documented failure looks like on the wire; the name is
 * also the body's "error". */
/* clang-format off */
static const struct vendor_error guayaba_errors[] = {
    /* name                    http  code  default message                                          renders */
    {"Bad Request",            400, NULL, "The request is invalid",
     VENDOR_ANSWERS(EMU_BAD_REQUEST) | VENDOR_ANSWERS(EMU_BAD_JSON) |
     VENDOR_ANSWERS(EMU_UNPROCESSABLE) | VENDOR_ANSWERS(EMU_CONFLICT)},
    {"Unauthorized",           401, NULL, "Invalid or missing API key",
     VENDOR_ANSWERS(EMU_UNAUTHORIZED) | VENDOR_ANSWERS(EMU_FORBIDDEN)},
    {"Not Found",              404, NULL, "The requested resource was not found",
     VENDOR_ANSWERS(EMU_NOT_FOUND) | VENDOR_ANSWERS(EMU_NO_ROUTE) | VENDOR_ANSWERS(EMU_NO_METHOD)},
    {"Payload Too Large",      413, NULL, "The request body is too large",
     VENDOR_ANSWERS(EMU_TOO_LARGE)},
    {"Too many requests",      429, NULL, "Rate limit exceeded. Try again in %d seconds.",
     VENDOR_ANSWERS(EMU_RATE_LIMITED)},
    {"Internal Server Error",  500, NULL, "An unexpected error occurred", VENDOR_OTHERWISE},
    {"Service Unavailable",    503, NULL, "The service is temporarily unavailable. Retry after a short wait.",
     VENDOR_ANSWERS(EMU_UNAVAILABLE) | VENDOR_ANSWERS(EMU_STORE_FULL)},
    {0},
};
/* clang-format on */

static int guayaba_has_error(const char *name)
{
    return vendor_error_find(guayaba_errors, name) != NULL;
}

static void guayaba_reply_error(struct req *req, struct res *res, int err)
{
    const struct vendor_error *e = vendor_error_for(guayaba_errors, err, res);
    const char *name = e->name;
    char message[600];
    json_t *body;

    /* A status the transport already chose (411, 431, 505 for a request it could not take)
     * is named by its own reason phrase, as Node names it. */
    if (res->status >= 400 && res->status != e->http)
        name = emu_reason_phrase(res->status);
    if (err == EMU_NO_ROUTE || err == EMU_NO_METHOD)
        snprintf(message, sizeof(message), "Cannot %s %s", req->method, req->path);
    else if (err == EMU_BAD_JSON)
        snprintf(message, sizeof(message), "Invalid JSON in request body: %s", res->detail);
    else if (err == EMU_STORE_FULL)
        vendor_store_full(message, sizeof(message), "", "");
    else if (e->http == 429)
        snprintf(message, sizeof(message), e->message, res->retry_after);
    else
        snprintf(message, sizeof(message), "%s", res->detail[0] ? res->detail : e->message);
    jsonx_utf8_repair(message);
    if (e->http == 429)
        body = json_pack("{s:s,s:s,s:i}", "error", name, "message", message, "retryAfter",
                         res->retry_after);
    else
        body = json_pack("{s:s,s:s}", "error", name, "message", message);
    res_json(res, e->http, body);
}

/* X-API-Key names a credential of some tenant; unless it is unlimited, GETs count against
 * 100 reads and everything else against 30 writes per minute, on the emulator clock. */
static int guayaba_authenticate(struct req *req, struct res *res)
{
    const char *key = req_header(req, "X-API-Key");
    json_t *per;
    int is_read = strcmp(req->method, "GET") == 0;
    int limit, rc;

    if (key == NULL || *key == '\0' || strlen(key) > API_KEY_MAX_BYTES)
        return EMU_UNAUTHORIZED;
    rc = vendor_credential_find(req, &vendor_guayaba, key);
    if (rc != EMU_OK)
        return rc;
    vendor_tenant_take(req);
    if (json_is_true(json_object_get(req->credential, "unlimited")))
        return EMU_OK;

    per = json_object_get(req->credential, is_read ? "reads_per_minute" : "writes_per_minute");
    limit = json_is_integer(per) ? (int)json_integer_value(per)
                                 : (is_read ? READS_PER_MINUTE : WRITES_PER_MINUTE);
    return vendor_rate_limit(req, res, &vendor_guayaba, is_read ? "read" : "write", 60000, limit,
                             RATELIMIT_HEADERS);
}

static int guayaba_check_credential(const json_t *cred, const char **field, char *msg,
                                    size_t msglen)
{
    const char *key = jsonx_string(cred, "api_key");
    const char *limits[] = {"reads_per_minute", "writes_per_minute"};
    json_t *unlimited = json_object_get(cred, "unlimited");

    if (key == NULL || *key == '\0' || strlen(key) > API_KEY_MAX_BYTES) {
        *field = "api_key";
        snprintf(msg, msglen, "\"api_key\" must be a non-empty string of at most %d bytes",
                 API_KEY_MAX_BYTES);
        return EMU_INVALID;
    }
    if (unlimited != NULL && !json_is_boolean(unlimited)) {
        *field = "unlimited";
        snprintf(msg, msglen, "\"unlimited\" must be true or false");
        return EMU_INVALID;
    }
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(cred, limits[i]);

        if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 1 ||
                          json_integer_value(v) > LIMIT_MAX)) {
            *field = limits[i];
            snprintf(msg, msglen, "\"%s\" must be a whole number from 1 to %d", limits[i],
                     LIMIT_MAX);
            return EMU_INVALID;
        }
    }
    return EMU_OK;
}

void guayaba_now(const struct req *req, char buf[32])
{
    clock_format_iso_ms(req->now_ms, buf, 32);
}

static json_t *guayaba_default_credentials(const char *tenant)
{
    char key[128];

    snprintf(key, sizeof(key), "gua_%s_key", tenant);
    return json_pack("[{s:s,s:b}]", "api_key", key, "unlimited", 0);
}

static const char *const guayaba_prefixes[] = {"", NULL};

/* clang-format off */
static const struct route guayaba_routes[] = {
    /* method  path                  handler                        flags */
    {"GET",  "/contacts/statuses", guayaba_statuses_list,            ROUTE_AUTH},
    {"GET",  "/contacts",          guayaba_contacts_list,            ROUTE_AUTH},
    {"POST", "/contacts",          guayaba_contacts_create,          ROUTE_AUTH | ROUTE_JSON | ROUTE_WRITE},
    {"POST", "/contacts/update",   guayaba_contacts_update_by_phone, ROUTE_AUTH | ROUTE_JSON | ROUTE_WRITE},
    {"POST", "/contacts/fulfill",  guayaba_contacts_fulfill,         ROUTE_AUTH | ROUTE_JSON | ROUTE_WRITE},
    {"PUT",  "/contacts/{id}",     guayaba_contacts_update_by_id,    ROUTE_AUTH | ROUTE_JSON | ROUTE_WRITE},
    {"GET",  "/campaigns",         guayaba_campaigns_list,           ROUTE_AUTH},
    {0},
};

static const struct table_def guayaba_tables[] = {
    /* store table     fixture file       row key */
    {GUAYABA_STATUSES,  "statuses.json",  guayaba_status_row_key},
    {GUAYABA_CAMPAIGNS, "campaigns.json", guayaba_campaign_row_key},
    {GUAYABA_SPLITTERS, "splitters.json", guayaba_splitter_row_key},
    {GUAYABA_CONTACTS,  "contacts.json",  guayaba_contact_row_key},
    {GUAYABA_PHONES,    NULL,             NULL},
    {0},
};
/* clang-format on */

const struct vendor vendor_guayaba = {
    .name = "guayaba",
    .prefixes = guayaba_prefixes,
    .routes = guayaba_routes,
    .tables = guayaba_tables,
    .indexes = guayaba_indexes,
    .credential_field = "api_key",
    .check_credential = guayaba_check_credential,
    .default_credentials = guayaba_default_credentials,
    .has_error = guayaba_has_error,
    .authenticate = guayaba_authenticate,
    .reply_error = guayaba_reply_error,
    .body = VENDOR_BODY_EXPRESS,
};
