/* convoso.c -- Convoso's lead status API under /v1: routes, the auth_token parameter, per-token
 * rate limits, and the vendor's error body {"success":false,"code":N,"error":"text"}.
 *
 * Convoso takes every parameter from the query string or a form body, and clients also send a
 * flat JSON object; all three are read, the body winning over the query string. Business
 * errors answer HTTP 200, as the vendor does; a bad token is 401. Every error the vendor can
 * give is a row of the catalogue below, found by its code or its text, so an injected error
 * renders exactly as a real one. The status resource lives in status.c. */
#include "convoso.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "err.h"
#include "form.h"
#include "jsonx.h"
#include "multipart.h"
#include "ratelimit.h"
#include "req.h"
#include "router.h"
#include "store.h"
#include "vendors.h"

/* A token's own limit stays within an int. */
#define PER_SECOND_MAX 1000000000

struct cv_error {
    const char *code; /* "6069", or NULL for the general errors, which carry no code */
    int http;
    const char *text;        /* on insert, and everywhere else */
    const char *update_text; /* on /status/update, when it differs */
};

/* clang-format off */
static const struct cv_error cv_errors[] = {
    /* code   http  text                                                               update text */
    {"6060", 200, "Missing Status Description", NULL},
    {"6061", 200, "Missing or Invalid Status Abbreviation (alphanumeric, 2-6 chars)", NULL},
    {"6062", 200, "Missing or Invalid Final option", NULL},
    {"6063", 200, "Missing or Invalid Reached option", NULL},
    {"6064", 200, "Missing or Invalid Success option", NULL},
    {"6065", 200, "Missing or Invalid DNC option", NULL},
    {"6066", 200, "Missing or Invalid Callback option", NULL},
    {"6067", 200, "Missing or Invalid Contact option", NULL},
    {"6068", 200, "Missing or Invalid Voicemail option", NULL},
    {"6069", 200, "Missing or Invalid Status Abbreviation. Only custom statuses can be modified", NULL},
    {"6071", 200, "Final option cannot be set to empty", NULL},
    {"6072", 200, "Reached option cannot be set to empty", NULL},
    {"6073", 200, "Success option cannot be set to empty", NULL},
    {"6074", 200, "DNC option cannot be set to empty", NULL},
    {"6075", 200, "Callback option cannot be set to empty", NULL},
    {"6076", 200, "Contact option cannot be set to empty", NULL},
    {"6077", 200, "Voicemail option cannot be set to empty", NULL},
    {"6078", 200, "HEX color defined is invalid (do not include #)", "HEX color defined is invalid"},
    {"429",  429, "Too many requests", NULL},
    {NULL,   401, "Invalid authentication token", NULL},
    {NULL,   200, "Status not found", NULL},
    {NULL,   200, "Status code already exists", NULL},
    {NULL,   404, "Not found", NULL},
    {NULL,   413, "Request body too large", NULL},
    {NULL,   500, "Failed to process data", NULL},
    {NULL,   0,   NULL, NULL},
};
/* clang-format on */

static const struct cv_error *cv_error_find(const char *entry)
{
    for (const struct cv_error *e = cv_errors; e->text != NULL; e++)
        if ((e->code && strcmp(e->code, entry) == 0) || strcasecmp(e->text, entry) == 0)
            return e;
    return NULL;
}

static int cv_has_error(const char *name)
{
    return cv_error_find(name) != NULL;
}

int cv_fail(struct res *res, const char *entry)
{
    return res_vendor_fail(res, entry);
}

static void cv_reply_error(struct req *req, struct res *res, int err)
{
    const char *entry = "Failed to process data", *text;
    const struct cv_error *e;
    json_t *body;

    switch (err) {
    case EMU_VENDOR:
        entry = res->vendor_error;
        break;
    case EMU_UNAUTHORIZED:
    case EMU_FORBIDDEN:
        entry = "Invalid authentication token";
        break;
    case EMU_RATE_LIMITED:
        entry = "429";
        break;
    case EMU_NO_ROUTE:
    case EMU_NO_METHOD:
        entry = "Not found";
        break;
    case EMU_TOO_LARGE:
        entry = "Request body too large";
        break;
    case EMU_BAD_REQUEST:
    case EMU_BAD_JSON: /* a general error in the vendor's words, with our sentence */
        res_json(res, 200,
                 json_pack("{s:b,s:s}", "success", 0, "error",
                           res->detail[0] ? res->detail : "Invalid request"));
        return;
    default:
        break;
    }
    e = cv_error_find(entry);
    if (e == NULL)
        e = cv_error_find("Failed to process data");
    text = e->update_text && req->route && req->route->handler == cv_status_update ? e->update_text
                                                                                   : e->text;
    if (err == EMU_STORE_FULL)
        text = "Failed to process data: the emulator's store is full (--map-size); reads still "
               "work";
    if (e->code != NULL)
        body = json_pack("{s:b,s:i,s:s}", "success", 0, "code", atoi(e->code), "error", text);
    else
        body = json_pack("{s:b,s:s}", "success", 0, "error", text);
    res_json(res, e->http, body);
}

/* 1 when the body is JSON: by its Content-Type, or, when it has none, by its first character. */
static int body_is_json(const struct req *req)
{
    const char *type = req_header(req, "Content-Type");
    const char *p = req->body;

    if (type != NULL)
        return strcasestr(type, "json") != NULL;
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
        p++;
    return *p == '{';
}

/* Parses a JSON body into req->json. Convoso takes flat parameters only ("We do not support
 * nested parameters or multilevel arrays"), so nested values are refused. */
static int load_json_body(struct req *req, struct res *res)
{
    json_error_t jerr;
    const char *key;
    json_t *value;

    if (jsonx_too_deep(req->body, req->body_len, 8))
        return res_fail(res, EMU_BAD_REQUEST, "Nested parameters are not supported");
    req->json = json_loadb(req->body, req->body_len, 0, &jerr);
    if (req->json == NULL)
        return res_fail(res, EMU_BAD_JSON, "Invalid JSON body: %s at line %d, column %d", jerr.text,
                        jerr.line, jerr.column);
    if (!json_is_object(req->json))
        return res_fail(res, EMU_BAD_REQUEST, "The JSON body must be an object of parameters");
    json_object_foreach(req->json, key, value)
    {
        if (json_is_object(value) || json_is_array(value))
            return res_fail(res, EMU_BAD_REQUEST, "Nested parameters are not supported");
    }
    return EMU_OK;
}

/* The body's parameters, once, into req->json: a JSON body was read by authentication; a
 * multipart/form-data body gives its text fields (uploads are ignored), any other body is read
 * as application/x-www-form-urlencoded. Names are literal, as the vendor takes flat parameters
 * only. A body that does not parse gives no parameters, as PHP gives none. */
static void load_form_params(struct req *req)
{
    const char *type = req_header(req, "Content-Type");
    json_t *fields = NULL;

    if (form_media_is(type, "multipart/form-data"))
        multipart_parse(type, req->body, req->body_len, 0, &fields, NULL, NULL, NULL, 0);
    else
        form_parse(req->body, req->body_len, 0, &fields);
    req->json = fields ? fields : json_object();
}

/* The parameter name, whole: from the body (JSON, form or multipart) when it has it, else from
 * the query string; a repeated name gives its last value. New malloc'd text, or NULL when
 * absent. */
/* Writes d as PHP's (string) cast does (precision 14): "1.5", "100", "0.0001", "1.0E+15",
 * "1.0E-5" -- the text a PHP endpoint compares when a JSON body carries a number. */
static void php_float_text(double d, char out[CV_NUMBER_TEXT])
{
    static const char zeros[] = "00000000000000"; /* padding: at most 14 (fixed), 3 (fraction) */
    char sci[40], digits[16];
    const char *sign = d < 0 ? "-" : "";
    int exp, decpt, n = 0;

    if (d == 0) {
        snprintf(out, CV_NUMBER_TEXT, "%s0", signbit(d) ? "-" : "");
        return;
    }
    snprintf(sci, sizeof(sci), "%.13e", fabs(d)); /* "d.ddddddddddddde+XX": 14 digits */
    for (const char *p = sci; *p != 'e'; p++)
        if (*p != '.')
            digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    exp = atoi(strchr(sci, 'e') + 1);
    decpt = exp + 1;
    if (decpt < -3 || decpt > 14) /* PHP's zend_gcvt switches to an exponent here */
        snprintf(out, CV_NUMBER_TEXT, "%s%c.%sE%c%d", sign, digits[0], n > 1 ? digits + 1 : "0",
                 exp < 0 ? '-' : '+', abs(exp));
    else if (decpt <= 0)
        snprintf(out, CV_NUMBER_TEXT, "%s0.%.*s%s", sign, -decpt, zeros, digits);
    else if (n <= decpt)
        snprintf(out, CV_NUMBER_TEXT, "%s%s%.*s", sign, digits, decpt - n, zeros);
    else
        snprintf(out, CV_NUMBER_TEXT, "%s%.*s.%s", sign, decpt, digits, digits + decpt);
}

/* Writes a JSON scalar other than a string as PHP's (string) cast does: integers as digits,
 * reals by php_float_text, true as "1", false and null as "". 0 for arrays and objects. */
static int php_scalar_text(const json_t *v, char number[CV_NUMBER_TEXT])
{
    number[0] = '\0';
    switch (json_typeof(v)) {
    case JSON_INTEGER:
        snprintf(number, CV_NUMBER_TEXT, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return 1;
    case JSON_REAL:
        php_float_text(json_real_value(v), number);
        return 1;
    case JSON_TRUE:
        snprintf(number, CV_NUMBER_TEXT, "1");
        return 1;
    case JSON_FALSE: /* PHP's false, like null, is the empty string */
    case JSON_NULL:
        return 1;
    default:
        return 0;
    }
}

char *cv_param(struct req *req, const char *name)
{
    const char *query_value;
    json_t *v, *query = NULL;
    char number[CV_NUMBER_TEXT], *out;

    if (req->json == NULL && req->body_len > 0)
        load_form_params(req);
    v = json_object_get(req->json, name);
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (v != NULL) /* a JSON scalar reads as PHP's text of it; arrays and objects as nothing */
        return strdup(php_scalar_text(v, number) ? number : "");
    /* the query string as PHP reads it: the last of a repeated name wins */
    if (req->query == NULL || req_query_all(req, &query) != EMU_OK)
        return NULL;
    query_value = json_string_value(json_object_get(query, name));
    out = query_value ? strdup(query_value) : NULL;
    json_decref(query);
    return out;
}

int cv_text(struct req *req, struct res *res, const char *name, char **out)
{
    json_t *v = req->json ? json_object_get(req->json, name) : NULL;
    char number[CV_NUMBER_TEXT];

    *out = NULL;
    if (v == NULL) { /* not in a JSON body: the form or the query string */
        *out = cv_param(req, name);
        return EMU_OK;
    }
    if (json_is_string(v))
        *out = strdup(json_string_value(v));
    else if (php_scalar_text(v, number))
        *out = strdup(number);
    else /* arrays and objects never get this far (load_json_body); refused all the same */
        return res_fail(res, EMU_BAD_REQUEST, "Nested parameters are not supported");
    return *out ? EMU_OK : EMU_NOMEM;
}

/* auth_token names a credential of some tenant; a token with per_second gets that many
 * requests in each second of the emulator clock. */
static int cv_authenticate(struct req *req, struct res *res)
{
    char store_key[300], limit_key[400], *token;
    json_t *cred = NULL, *per;
    int rc;

    if (req->body_len > 0 && body_is_json(req)) {
        rc = load_json_body(req, res);
        if (rc != EMU_OK)
            return rc;
    }
    token = cv_param(req, "auth_token");
    if (token == NULL || token[0] == '\0' || strlen(token) > 200) {
        free(token);
        return EMU_UNAUTHORIZED;
    }
    snprintf(store_key, sizeof(store_key), "convoso/%s", token);
    snprintf(limit_key, sizeof(limit_key), "%s", token);
    free(token);
    rc = store_get(req->txn, "core.credentials", store_key, &cred);
    if (rc == EMU_NOT_FOUND)
        return EMU_UNAUTHORIZED;
    if (rc != EMU_OK)
        return rc;
    req->credential = cred;
    snprintf(req->tenant, sizeof(req->tenant), "%s", jsonx_string(cred, "tenant"));
    per = json_object_get(cred, "per_second");
    if (!json_is_integer(per))
        return EMU_OK;
    snprintf(store_key, sizeof(store_key), "%s/convoso/%s", req->tenant, limit_key);
    return ratelimit_answer(req, res, store_key, 1000, (int)json_integer_value(per), 0);
}

static int cv_check_credential(const json_t *cred, const char **field, char *msg, size_t msglen)
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

static json_t *cv_default_credentials(const char *tenant)
{
    char token[128];

    snprintf(token, sizeof(token), "cv_%s_token", tenant);
    return json_pack("[{s:s,s:n}]", "auth_token", token, "per_second");
}

static const char *const cv_prefixes[] = {"/v1", NULL};

/* clang-format off */
static const struct route cv_routes[] = {
    /* method  path                 handler           flags */
    {"GET",  "/v1/status/search", cv_status_search, ROUTE_AUTH},
    {"POST", "/v1/status/search", cv_status_search, ROUTE_AUTH},
    {"GET",  "/v1/status/insert", cv_status_insert, ROUTE_AUTH | ROUTE_WRITE},
    {"POST", "/v1/status/insert", cv_status_insert, ROUTE_AUTH | ROUTE_WRITE},
    {"GET",  "/v1/status/update", cv_status_update, ROUTE_AUTH | ROUTE_WRITE},
    {"POST", "/v1/status/update", cv_status_update, ROUTE_AUTH | ROUTE_WRITE},
    {0},
};

static const struct table_def cv_tables[] = {
    /* store table  fixture file     row key */
    {CV_STATUSES, "statuses.json", cv_status_row_key},
    {0},
};
/* clang-format on */

const struct vendor vendor_convoso = {
    .name = "convoso",
    .prefixes = cv_prefixes,
    .routes = cv_routes,
    .tables = cv_tables,
    .credential_field = "auth_token",
    .check_credential = cv_check_credential,
    .default_credentials = cv_default_credentials,
    .has_error = cv_has_error,
    .authenticate = cv_authenticate,
    .reply_error = cv_reply_error,
    .body = VENDOR_BODY_PARAMS,
};
