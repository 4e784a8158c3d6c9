/* convoso.c -- Convoso's lead status API under /v1: routes, the auth_token parameter, per-token
 * rate limits, and the vendor's error body {"success":false,"code":N,"error":"text"}.
 *
 * Convoso takes every parameter from the query string or a form body, and clients also send a
 * flat JSON object; all three are read, the body winning over the query string. Business
 * errors answer HTTP 200, as the vendor does; a bad token is 401. Every error the vendor can
 * give is a row of the catalogue below, found by its code or its text, so an injected error
 * renders exactly as a real one. The status resource lives in status.c, how parameters are
 * read in params.c. */
#include "convoso.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "err.h"
#include "jsonx.h"
#include "req.h"
#include "router.h"
#include "vendor_kit.h"
#include "vendors.h"

/* A token's own limit stays within an int. */
#define PER_SECOND_MAX 1000000000

/* clang-format off */
#define ANY_AUTH  (VENDOR_ANSWERS(EMU_UNAUTHORIZED) | VENDOR_ANSWERS(EMU_FORBIDDEN))
#define ANY_ROUTE (VENDOR_ANSWERS(EMU_NO_ROUTE) | VENDOR_ANSWERS(EMU_NO_METHOD))
/* Entries are named by their text (found in any case) or by their code. */
static const struct vendor_error convoso_errors[] = {
    /* name (the body's error)                                               http  code    message  renders */
    {"Missing Status Description",                                          200, "6060", NULL, 0},
    {"Missing or Invalid Status Abbreviation (alphanumeric, 2-6 chars)",    200, "6061", NULL, 0},
    {"Missing or Invalid Final option",                                     200, "6062", NULL, 0},
    {"Missing or Invalid Reached option",                                   200, "6063", NULL, 0},
    {"Missing or Invalid Success option",                                   200, "6064", NULL, 0},
    {"Missing or Invalid DNC option",                                       200, "6065", NULL, 0},
    {"Missing or Invalid Callback option",                                  200, "6066", NULL, 0},
    {"Missing or Invalid Contact option",                                   200, "6067", NULL, 0},
    {"Missing or Invalid Voicemail option",                                 200, "6068", NULL, 0},
    {"Missing or Invalid Status Abbreviation. Only custom statuses can be modified", 200, "6069", NULL, 0},
    {"Final option cannot be set to empty",                                 200, "6071", NULL, 0},
    {"Reached option cannot be set to empty",                               200, "6072", NULL, 0},
    {"Success option cannot be set to empty",                               200, "6073", NULL, 0},
    {"DNC option cannot be set to empty",                                   200, "6074", NULL, 0},
    {"Callback option cannot be set to empty",                              200, "6075", NULL, 0},
    {"Contact option cannot be set to empty",                               200, "6076", NULL, 0},
    {"Voicemail option cannot be set to empty",                             200, "6077", NULL, 0},
    {"HEX color defined is invalid (do not include #)",                     200, "6078", NULL, 0},
    {"Too many requests",                                                   429, "429",  NULL, VENDOR_ANSWERS(EMU_RATE_LIMITED)},
    {"Invalid authentication token",                                        401, NULL,   NULL, ANY_AUTH},
    {"Status not found",                                                    200, NULL,   NULL, 0},
    {"Status code already exists",                                          200, NULL,   NULL, 0},
    {"Not found",                                                           404, NULL,   NULL, ANY_ROUTE},
    {"Request body too large",                                              413, NULL,   NULL, VENDOR_ANSWERS(EMU_TOO_LARGE)},
    {"Failed to process data",                                              500, NULL,   NULL, VENDOR_OTHERWISE},
    {0},
};
#undef ANY_AUTH
#undef ANY_ROUTE

/* Where /status/update words an entry its own way. */
static const struct {
    const char *code, *text;
} update_texts[] = {
    {"6078", "HEX color defined is invalid"},
};
/* clang-format on */

/* The catalogue entry named name (its code, or its text in any case), or NULL. */
static const struct vendor_error *convoso_error_find(const char *name)
{
    const struct vendor_error *e = vendor_error_find(convoso_errors, name);

    for (const struct vendor_error *c = convoso_errors; e == NULL && name && c->name; c++)
        if (strcasecmp(c->name, name) == 0)
            e = c;
    return e;
}

static int convoso_has_error(const char *name)
{
    return convoso_error_find(name) != NULL;
}

int convoso_fail(struct res *res, const char *entry)
{
    return res_vendor_fail(res, entry);
}

/* The entry's text, in /status/update's own words where they differ. */
static const char *convoso_error_text(const struct req *req, const struct vendor_error *e)
{
    int updating = req->route && req->route->handler == convoso_status_update;

    for (size_t i = 0; updating && e->code && i < sizeof(update_texts) / sizeof(*update_texts); i++)
        if (strcmp(update_texts[i].code, e->code) == 0)
            return update_texts[i].text;
    return e->name;
}

static void convoso_reply_error(struct req *req, struct res *res, int err)
{
    const struct vendor_error *e;
    const char *text;
    char full[200];
    json_t *body;

    if (err == EMU_BAD_REQUEST || err == EMU_BAD_JSON) {
        /* a general error in the vendor's words, with our sentence */
        res_json(res, 200,
                 json_pack("{s:b,s:s}", "success", 0, "error",
                           res->detail[0] ? res->detail : "Invalid request"));
        return;
    }
    e = err == EMU_VENDOR ? convoso_error_find(res->vendor_error) : NULL;
    if (e == NULL)
        e = vendor_error_for(convoso_errors, err == EMU_VENDOR ? EMU_INTERNAL : err, res);
    text = convoso_error_text(req, e);
    if (err == EMU_STORE_FULL) {
        vendor_store_full(full, sizeof(full), "Failed to process data: ", "");
        text = full;
    }
    if (e->code != NULL)
        body = json_pack("{s:b,s:i,s:s}", "success", 0, "code", atoi(e->code), "error", text);
    else
        body = json_pack("{s:b,s:s}", "success", 0, "error", text);
    res_json(res, e->http, body);
}

/* auth_token names a credential of some tenant; a token with per_second gets that many
 * requests in each second of the emulator clock. */
static int convoso_authenticate(struct req *req, struct res *res)
{
    json_t *per;
    char *token;
    int rc;

    rc = convoso_json_body(req, res);
    if (rc != EMU_OK)
        return rc;
    token = convoso_param(req, "auth_token");
    if (token == NULL || token[0] == '\0' || strlen(token) > 200) {
        free(token);
        return EMU_UNAUTHORIZED;
    }
    rc = vendor_credential_find(req, &vendor_convoso, token);
    free(token);
    if (rc != EMU_OK)
        return rc;
    vendor_tenant_take(req);
    per = json_object_get(req->credential, "per_second");
    if (!json_is_integer(per))
        return EMU_OK;
    return vendor_rate_limit(req, res, &vendor_convoso, NULL, 1000, (int)json_integer_value(per),
                             0);
}

static int convoso_check_credential(const json_t *cred, const char **field, char *msg,
                                    size_t msglen)
{
    const char *token = jsonx_string(cred, "auth_token");
    json_t *per = json_object_get(cred, "per_second");

    if (token == NULL || *token == '\0' || strlen(token) > 200) {
        *field = "auth_token";
        snprintf(msg, msglen, "\"auth_token\" must be a non-empty string of at most 200 bytes");
        return EMU_INVALID;
    }
    if (per != NULL && !json_is_null(per) &&
        (!json_is_integer(per) || json_integer_value(per) < 1 ||
         json_integer_value(per) > PER_SECOND_MAX)) {
        *field = "per_second";
        snprintf(msg, msglen, "\"per_second\" must be null or a whole number from 1 to %d",
                 PER_SECOND_MAX);
        return EMU_INVALID;
    }
    return EMU_OK;
}

static json_t *convoso_default_credentials(const char *tenant)
{
    char token[128];

    snprintf(token, sizeof(token), "cv_%s_token", tenant);
    return json_pack("[{s:s,s:n}]", "auth_token", token, "per_second");
}

static const char *const convoso_prefixes[] = {"/v1", NULL};

/* clang-format off */
static const struct route convoso_routes[] = {
    /* method  path                 handler           flags */
    {"GET",  "/v1/status/search", convoso_status_search, ROUTE_AUTH},
    {"POST", "/v1/status/search", convoso_status_search, ROUTE_AUTH},
    {"GET",  "/v1/status/insert", convoso_status_insert, ROUTE_AUTH | ROUTE_WRITE},
    {"POST", "/v1/status/insert", convoso_status_insert, ROUTE_AUTH | ROUTE_WRITE},
    {"GET",  "/v1/status/update", convoso_status_update, ROUTE_AUTH | ROUTE_WRITE},
    {"POST", "/v1/status/update", convoso_status_update, ROUTE_AUTH | ROUTE_WRITE},
    {0},
};

static const struct table_def convoso_tables[] = {
    /* store table  fixture file     row key */
    {CONVOSO_STATUSES, "statuses.json", convoso_status_row_key},
    {0},
};
/* clang-format on */

static const struct store_index *const convoso_indexes[] = {&convoso_status_by_code, NULL};

const struct vendor vendor_convoso = {
    .name = "convoso",
    .prefixes = convoso_prefixes,
    .routes = convoso_routes,
    .tables = convoso_tables,
    .indexes = convoso_indexes,
    .credential_field = "auth_token",
    .check_credential = convoso_check_credential,
    .default_credentials = convoso_default_credentials,
    .has_error = convoso_has_error,
    .authenticate = convoso_authenticate,
    .reply_error = convoso_reply_error,
    .body = VENDOR_BODY_PARAMS,
};
