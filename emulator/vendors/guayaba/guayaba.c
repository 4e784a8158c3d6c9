/* guayaba.c -- Guayaba AI's contact API: routes, X-API-Key authentication, per-key rate
 * limits, and the vendor's error body {"error","message"}.
 *
 * The API lives at the root of the host (/contacts..., /campaigns), so Guayaba owns every path
 * no other vendor claims, and answers unknown ones with its own 404. Resources live in the
 * sibling files. */
#include "guayaba.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "err.h"
#include "jsonx.h"
#include "ratelimit.h"
#include "req.h"
#include "router.h"
#include "store.h"
#include "vendors.h"

#define READS_PER_MINUTE  100
#define WRITES_PER_MINUTE 30

/* The vendor's error catalogue: what each documented failure looks like on the wire. Entries
 * are addressable by name, so an injected error renders exactly as a real one. */
struct gua_error {
    const char *name; /* the catalogue key, also the body's "error" */
    int http;
    const char *message; /* used when the failure carries no sentence of its own */
};

/* clang-format off */
static const struct gua_error gua_errors[] = {
    /* name                     http  default message */
    {"Bad Request",             400, "The request is invalid"},
    {"Unauthorized",            401, "Invalid or missing API key"},
    {"Not Found",               404, "The requested resource was not found"},
    {"Payload Too Large",       413, "The request body is too large"},
    {"Too many requests",       429, "Rate limit exceeded. Try again in %d seconds."},
    {"Internal Server Error",   500, "An unexpected error occurred"},
    {"Service Unavailable",     503, "The service is temporarily unavailable. Retry after a short wait."},
    {NULL, 0, NULL},
};
/* clang-format on */

static const struct gua_error *gua_error_named(const char *name)
{
    for (const struct gua_error *e = gua_errors; e->name != NULL; e++)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

static int gua_has_error(const char *name)
{
    return gua_error_named(name) != NULL;
}

static const char *gua_error_for(int err)
{
    switch (err) {
    case EMU_BAD_REQUEST:
    case EMU_BAD_JSON:
    case EMU_UNPROCESSABLE:
    case EMU_CONFLICT:
        return "Bad Request";
    case EMU_UNAUTHORIZED:
    case EMU_FORBIDDEN:
        return "Unauthorized";
    case EMU_NOT_FOUND:
    case EMU_NO_ROUTE:
    case EMU_NO_METHOD:
        return "Not Found";
    case EMU_TOO_LARGE:
        return "Payload Too Large";
    case EMU_RATE_LIMITED:
        return "Too many requests";
    case EMU_UNAVAILABLE:
    case EMU_STORE_FULL:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

static void gua_reply_error(struct req *req, struct res *res, int err)
{
    const struct gua_error *e = gua_error_named(
        err == EMU_VENDOR && res->vendor_error ? res->vendor_error : gua_error_for(err));
    char message[600];
    json_t *body;

    if (e == NULL)
        e = gua_error_named("Internal Server Error");
    if (err == EMU_NO_ROUTE || err == EMU_NO_METHOD)
        snprintf(message, sizeof(message), "Cannot %s %s", req->method, req->path);
    else if (err == EMU_BAD_JSON)
        snprintf(message, sizeof(message), "Invalid JSON in request body: %s", res->detail);
    else if (err == EMU_STORE_FULL)
        snprintf(message, sizeof(message),
                 "The emulator's store is full (--map-size); reads "
                 "still work");
    else if (e->http == 429)
        snprintf(message, sizeof(message), e->message, res->retry_after);
    else
        snprintf(message, sizeof(message), "%s", res->detail[0] ? res->detail : e->message);
    if (e->http == 429)
        body = json_pack("{s:s,s:s,s:i}", "error", e->name, "message", message, "retryAfter",
                         res->retry_after);
    else
        body = json_pack("{s:s,s:s}", "error", e->name, "message", message);
    res_json(res, e->http, body);
}

/* X-API-Key names a credential of some tenant; unless it is unlimited, GETs count against
 * 100 reads and everything else against 30 writes per minute, on the emulator clock. */
static int gua_authenticate(struct req *req, struct res *res)
{
    const char *key = req_header(req, "X-API-Key"), *tenant;
    char store_key[600], limit_key[700];
    json_t *cred = NULL, *per;
    int is_read = strcmp(req->method, "GET") == 0;
    int limit, rc;

    if (key == NULL || *key == '\0' || strlen(key) > 400)
        return EMU_UNAUTHORIZED;
    snprintf(store_key, sizeof(store_key), "guayaba/%s", key);
    rc = store_get(req->txn, "core.credentials", store_key, &cred);
    if (rc == EMU_NOT_FOUND)
        return EMU_UNAUTHORIZED;
    if (rc != EMU_OK)
        return rc;
    req->credential = cred;
    tenant = jsonx_string(cred, "tenant");
    snprintf(req->tenant, sizeof(req->tenant), "%s", tenant ? tenant : "");
    if (json_is_true(json_object_get(cred, "unlimited")))
        return EMU_OK;

    per = json_object_get(cred, is_read ? "reads_per_minute" : "writes_per_minute");
    limit = json_is_integer(per) ? (int)json_integer_value(per)
                                 : (is_read ? READS_PER_MINUTE : WRITES_PER_MINUTE);
    snprintf(limit_key, sizeof(limit_key), "%s/guayaba/%s/%s", req->tenant, key,
             is_read ? "read" : "write");
    return ratelimit_answer(req, res, limit_key, 60000, limit, RATELIMIT_HEADERS);
}

static int gua_check_credential(const json_t *cred, const char **field, char *msg, size_t msglen)
{
    const char *key = jsonx_string(cred, "api_key");
    const char *limits[] = {"reads_per_minute", "writes_per_minute"};
    json_t *unlimited = json_object_get(cred, "unlimited");

    if (key == NULL || *key == '\0') {
        *field = "api_key";
        snprintf(msg, msglen, "\"api_key\" must be a non-empty string");
        return EMU_INVALID;
    }
    if (unlimited != NULL && !json_is_boolean(unlimited)) {
        *field = "unlimited";
        snprintf(msg, msglen, "\"unlimited\" must be true or false");
        return EMU_INVALID;
    }
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(cred, limits[i]);

        if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 1)) {
            *field = limits[i];
            snprintf(msg, msglen, "\"%s\" must be a whole number of at least 1", limits[i]);
            return EMU_INVALID;
        }
    }
    return EMU_OK;
}

static int parse_positive(const char *text, long max, int *out)
{
    char *end;
    long v;

    if (!isdigit((unsigned char)text[0]))
        return 0;
    v = strtol(text, &end, 10);
    if (*end != '\0' || v < 1 || v > max)
        return 0;
    *out = (int)v;
    return 1;
}

int gua_paging(struct req *req, struct res *res, int default_limit, int *page, int *limit)
{
    char buf[32];
    int rc;

    *page = 1;
    *limit = default_limit;
    rc = req_query(req, "page", buf, sizeof(buf));
    if ((rc == EMU_OK && !parse_positive(buf, 1000000000L, page)) || rc == EMU_BAD_REQUEST)
        return res_fail(res, EMU_BAD_REQUEST, "page must be a positive integer");
    rc = req_query(req, "limit", buf, sizeof(buf));
    if ((rc == EMU_OK && !parse_positive(buf, 100, limit)) || rc == EMU_BAD_REQUEST)
        return res_fail(res, EMU_BAD_REQUEST, "limit must be an integer between 1 and 100");
    return EMU_OK;
}

int gua_is_e164(const char *s)
{
    size_t n;

    if (s == NULL || s[0] != '+' || s[1] < '1' || s[1] > '9')
        return 0;
    n = strlen(s + 1);
    if (n < 8 || n > 15)
        return 0;
    for (size_t i = 1; i <= n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

int gua_timezone_valid(const char *tz)
{
    static const char *const areas[] = {"Africa", "America",  "Antarctica", "Arctic",
                                        "Asia",   "Atlantic", "Australia",  "Europe",
                                        "Indian", "Pacific",  "Etc",        NULL};
    const char *slash;

    if (tz == NULL)
        return 0;
    if (strcmp(tz, "UTC") == 0 || strcmp(tz, "GMT") == 0)
        return 1;
    slash = strchr(tz, '/');
    if (slash == NULL || slash[1] == '\0' || strlen(tz) > 64)
        return 0;
    for (int i = 0; areas[i] != NULL; i++) {
        if (strlen(areas[i]) == (size_t)(slash - tz) &&
            strncmp(tz, areas[i], (size_t)(slash - tz)) == 0) {
            for (const char *p = slash + 1; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("_-+/", *p))
                    return 0;
            return slash[1] != '/' && tz[strlen(tz) - 1] != '/';
        }
    }
    return 0;
}

void gua_now(const struct req *req, char buf[32])
{
    clock_format_iso_ms(req->now_ms, buf, 32);
}

static json_t *gua_default_credentials(const char *tenant)
{
    char key[128];

    snprintf(key, sizeof(key), "gua_%s_key", tenant);
    return json_pack("[{s:s,s:b}]", "api_key", key, "unlimited", 0);
}

static const char *const gua_prefixes[] = {"", NULL};

/* clang-format off */
static const struct route gua_routes[] = {
    /* method  path                  handler                        flags */
    {"GET",  "/contacts/statuses", gua_statuses_list,            ROUTE_AUTH},
    {"GET",  "/contacts",          gua_contacts_list,            ROUTE_AUTH},
    {"POST", "/contacts",          gua_contacts_create,          ROUTE_AUTH | ROUTE_JSON | ROUTE_WRITE},
    {"POST", "/contacts/update",   gua_contacts_update_by_phone, ROUTE_AUTH | ROUTE_JSON | ROUTE_WRITE},
    {"POST", "/contacts/fulfill",  gua_contacts_fulfill,         ROUTE_AUTH | ROUTE_JSON | ROUTE_WRITE},
    {"PUT",  "/contacts/{id}",     gua_contacts_update_by_id,    ROUTE_AUTH | ROUTE_JSON | ROUTE_WRITE},
    {"GET",  "/campaigns",         gua_campaigns_list,           ROUTE_AUTH},
    {0},
};

static const struct table_def gua_tables[] = {
    /* store table     fixture file       row key */
    {GUA_STATUSES,  "statuses.json",  gua_status_row_key},
    {GUA_CAMPAIGNS, "campaigns.json", gua_campaign_row_key},
    {GUA_SPLITTERS, "splitters.json", gua_splitter_row_key},
    {GUA_CONTACTS,  "contacts.json",  gua_contact_row_key},
    {GUA_PHONES,    NULL,             NULL},
    {0},
};
/* clang-format on */

const struct vendor vendor_guayaba = {
    .name = "guayaba",
    .prefixes = gua_prefixes,
    .routes = gua_routes,
    .tables = gua_tables,
    .credential_field = "api_key",
    .check_credential = gua_check_credential,
    .default_credentials = gua_default_credentials,
    .has_error = gua_has_error,
    .authenticate = gua_authenticate,
    .reply_error = gua_reply_error,
    .body = VENDOR_BODY_EXPRESS,
    .after_seed = gua_contacts_index,
};
