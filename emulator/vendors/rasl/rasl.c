/* rasl.c -- RASL's WhatsApp CRM API v2 under /api/v2: routes with their scopes, bearer tokens,
 * per-token rate limits, the response envelope and the error catalogue.
 *
 * The middleware order is the vendor's: the token is checked first (a refused token is not
 * counted and gets no rate headers), then the rate limit, then the route's scope (a missing
 * scope is counted and carries the rate headers). Every answer, error or not, has
 * meta{request_id, timestamp}: the id is a UUIDv4 drawn from --seed and the answer's number,
 * the timestamp the emulator clock with a +00:00 offset. Resources live in the sibling files. */
#include "rasl.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "clock.h"
#include "err.h"
#include "jsonx.h"
#include "ratelimit.h"
#include "req.h"
#include "rng.h"
#include "router.h"
#include "store.h"
#include "vendor_kit.h"
#include "vendors.h"

#define RASL_SEED_SALT 0x5241534cULL /* "RASL": the request ids' own stream */

/* The vendor's error catalogue; the name is the body's error.code. */
/* clang-format off */
static const struct vendor_error rasl_errors[] = {
    /* name                      http  code  default message                                renders */
    {"AUTHENTICATION_REQUIRED",  401, NULL, "Authentication is required to access this resource.", 0},
    {"UNAUTHORIZED",             401, NULL, "Invalid or missing API token", VENDOR_ANSWERS(EMU_UNAUTHORIZED)},
    {"INVALID_TOKEN",            401, NULL, "The provided API token is invalid.", 0},
    {"TOKEN_EXPIRED",            401, NULL, "The API token has expired.", 0},
    {"TOKEN_REVOKED",            401, NULL, "The API token has been revoked.", 0},
    {"INSUFFICIENT_SCOPE",       403, NULL, "Your API token does not have the required permissions for this action.", VENDOR_ANSWERS(EMU_FORBIDDEN)},
    {"IP_NOT_WHITELISTED",       403, NULL, "Your IP address is not whitelisted for this API token.", 0},
    {"FEATURE_LIMIT_EXCEEDED",   403, NULL, "Feature limit exceeded for your current plan.", 0},
    {"CONTACT_OPTED_OUT",        403, NULL, "The contact has opted out of receiving messages.", 0},
    {"NOT_FOUND",                404, NULL, "The requested resource was not found.",
     VENDOR_ANSWERS(EMU_NOT_FOUND) | VENDOR_ANSWERS(EMU_NO_ROUTE) | VENDOR_ANSWERS(EMU_NO_METHOD)},
    {"RESOURCE_NOT_FOUND",       404, NULL, "The requested resource was not found.", 0},
    {"TEMPLATE_NOT_FOUND",       404, NULL, "The specified template was not found.", 0},
    {"RESOURCE_CONFLICT",        409, NULL, "The request conflicts with the current state of the resource.", VENDOR_ANSWERS(EMU_CONFLICT)},
    {"DUPLICATE_RESOURCE",       409, NULL, "A resource with the same identifier already exists.", 0},
    {"VALIDATION_ERROR",         422, NULL, "The given data was invalid.",
     VENDOR_ANSWERS(EMU_BAD_REQUEST) | VENDOR_ANSWERS(EMU_BAD_JSON) | VENDOR_ANSWERS(EMU_UNPROCESSABLE)},
    {"MISSING_REQUIRED_FIELD",   422, NULL, "A required field is missing from the request.", 0},
    {"WHATSAPP_NOT_CONFIGURED",  422, NULL, "WhatsApp connection is not configured for this account.", 0},
    {"INVALID_PHONE_NUMBER",     422, NULL, "The phone number is invalid or not registered with WhatsApp.", 0},
    /* a body too large is INVALID_REQUEST answered with 413 (rasl_reply_error) */
    {"INVALID_REQUEST",          400, NULL, "The request is invalid or malformed.", VENDOR_ANSWERS(EMU_TOO_LARGE)},
    {"INVALID_PARAMETER",        400, NULL, "One or more parameters are invalid.", 0},
    {"RATE_LIMIT_EXCEEDED",      429, NULL, "Too many requests. Please try again later.", VENDOR_ANSWERS(EMU_RATE_LIMITED)},
    {"INTERNAL_ERROR",           500, NULL, "An internal server error occurred.", VENDOR_OTHERWISE},
    {"DATABASE_ERROR",           500, NULL, "A database error occurred.", 0},
    {"WHATSAPP_API_ERROR",       500, NULL, "An error occurred while communicating with WhatsApp API.", 0},
    {"MESSAGE_SEND_FAILED",      500, NULL, "Failed to send the message.", 0},
    {"SERVICE_UNAVAILABLE",      503, NULL, "The service is temporarily unavailable.",
     VENDOR_ANSWERS(EMU_UNAVAILABLE) | VENDOR_ANSWERS(EMU_STORE_FULL)},
    {0},
};
/* clang-format on */

static int rasl_has_error(const char *code)
{
    return vendor_error_find(rasl_errors, code) != NULL;
}

void rasl_now(const struct req *req, char buf[32])
{
    clock_format_iso_offset(req->now_ms, buf, 32);
}

/* A new meta object: {request_id, timestamp}. */
static json_t *rasl_meta(struct req *req)
{
    char id[37], now[32];
    unsigned long long n = atomic_fetch_add(&req->app->answers, 1) + 1;

    rng_uuid(req->app->cfg.seed ^ RASL_SEED_SALT, n, id);
    rasl_now(req, now);
    return json_pack("{s:s,s:s}", "request_id", id, "timestamp", now);
}

json_t *rasl_envelope(struct req *req, json_t *data, const char *message)
{
    json_t *body = json_pack("{s:b}", "success", 1);

    if (body == NULL) {
        json_decref(data);
        return NULL;
    }
    if (data != NULL)
        json_object_set_new(body, "data", data);
    if (message != NULL)
        json_object_set_new(body, "message", json_string(message));
    json_object_set_new(body, "meta", rasl_meta(req));
    return body;
}

int rasl_reply(struct req *req, struct res *res, int status, json_t *data, const char *message)
{
    json_t *body = rasl_envelope(req, data, message);

    return body ? res_json(res, status, body) : EMU_NOMEM;
}

int rasl_fail(struct res *res, const char *code, const char *message, json_t *details)
{
    snprintf(res->detail, sizeof(res->detail), "%s", message ? message : "");
    json_decref(res->error_details);
    res->error_details = details;
    return res_vendor_fail(res, code);
}

void rasl_field_error(json_t *details, const char *field, const char *message)
{
    json_t *list = json_object_get(details, field);

    if (list == NULL) {
        list = json_array();
        json_object_set_new(details, field, list);
    }
    json_array_append_new(list, json_string(message));
}

static void rasl_reply_error(struct req *req, struct res *res, int err)
{
    const struct vendor_error *e = vendor_error_for(rasl_errors, err, res);
    char message[600];
    json_t *error, *meta, *details = res->error_details;
    int http;

    http = err == EMU_TOO_LARGE ? 413 : e->http;
    if (err == EMU_BAD_JSON) { /* the parser's sentence goes in details, as validation does */
        details = json_pack("{s:[s]}", "body", res->detail);
        snprintf(message, sizeof(message), "%s", e->message);
    } else if (err == EMU_RATE_LIMITED) {
        snprintf(message, sizeof(message), "Too many requests. Please try again in %d seconds.",
                 res->retry_after);
    } else if (err == EMU_STORE_FULL) {
        vendor_store_full(message, sizeof(message), "", ".");
    } else {
        snprintf(message, sizeof(message), "%s", res->detail[0] ? res->detail : e->message);
    }
    if (details == res->error_details)
        res->error_details = NULL; /* moves into the body */
    /* a sentence cut to its buffer may end inside a UTF-8 sequence: it still renders */
    error = json_pack("{s:s,s:o}", "code", e->name, "message", rasl_client_text(message));
    if (details != NULL)
        json_object_set_new(error, "details", details);
    meta = rasl_meta(req);
    if (err == EMU_RATE_LIMITED)
        json_object_set_new(meta, "retry_after", json_integer(res->retry_after));
    res_json(res, http, json_pack("{s:b,s:o,s:o}", "success", 0, "error", error, "meta", meta));
}

int rasl_answer_error(struct req *req, struct res *res)
{
    rasl_reply_error(req, res, EMU_VENDOR);
    return EMU_OK;
}

/* ---- authentication, rate limit, scope ---- */

static int has_scope(const json_t *cred, const char *scope)
{
    size_t i;
    json_t *s;

    json_array_foreach(json_object_get(cred, "scopes"), i, s)
    {
        const char *name = json_string_value(s);

        if (name && (strcmp(name, "*") == 0 || strcmp(name, scope) == 0))
            return 1;
    }
    return 0;
}

static int ip_listed(const json_t *cred, const char *ip)
{
    size_t i;
    json_t *s;

    json_array_foreach(json_object_get(cred, "ip_whitelist"), i, s)
    {
        if (json_string_value(s) && ip && strcmp(json_string_value(s), ip) == 0)
            return 1;
    }
    return 0;
}

static void unlimited_headers(struct res *res)
{
    res_header(res, "X-RateLimit-Limit", "unlimited");
    res_header(res, "X-RateLimit-Remaining", "unlimited");
}

static int rasl_rate_limit(struct req *req, struct res *res)
{
    json_t *per = json_object_get(req->credential, "rate_limit_per_minute");

    if (ip_listed(req->credential, req->remote_addr)) { /* whitelisted addresses skip it */
        unlimited_headers(res);
        res_header(res, "X-RateLimit-Whitelisted", "true");
        return EMU_OK;
    }
    if (!json_is_integer(per)) {
        unlimited_headers(res);
        return EMU_OK;
    }
    return vendor_rate_limit(req, res, &vendor_rasl, NULL, 60000, (int)json_integer_value(per),
                             RATELIMIT_HEADERS | RATELIMIT_WINDOW);
}

static int rasl_authenticate(struct req *req, struct res *res)
{
    const char *auth = req_header(req, "Authorization"), *expires;
    char message[200];
    json_t *cred;
    int64_t expires_ms;
    int rc;

    /* Laravel's bearerToken() finds the scheme in any case ("bearer", "BEARER"); the token
     * itself is compared exactly. */
    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0 || auth[7] == '\0' ||
        strlen(auth) > 300)
        return rasl_fail(res, "UNAUTHORIZED", NULL, NULL);
    rc = vendor_credential_find(req, &vendor_rasl, auth + 7);
    if (rc == EMU_UNAUTHORIZED)
        return rasl_fail(res, "UNAUTHORIZED", NULL, NULL);
    if (rc != EMU_OK)
        return rc;
    cred = req->credential;
    if (json_is_false(json_object_get(cred, "is_active")))
        return rasl_fail(res, "TOKEN_REVOKED", NULL, NULL);
    expires = jsonx_string(cred, "expires_at");
    if (expires != NULL && clock_parse_rfc3339(expires, &expires_ms) == EMU_OK &&
        expires_ms <= req->now_ms)
        return rasl_fail(res, "TOKEN_EXPIRED", NULL, NULL);
    if (json_array_size(json_object_get(cred, "ip_whitelist")) > 0 &&
        !ip_listed(cred, req->remote_addr)) {
        snprintf(message, sizeof(message),
                 "Your IP address (%s) is not whitelisted for this API token.", req->remote_addr);
        return rasl_fail(res, "IP_NOT_WHITELISTED", message, NULL);
    }
    vendor_tenant_take(req);
    rc = rasl_rate_limit(req, res);
    if (rc != EMU_OK)
        return rc;
    if (req->route->scope != NULL && !has_scope(cred, req->route->scope)) {
        snprintf(message, sizeof(message),
                 "Your API token does not have the required permissions for this action. "
                 "Required scope: %s",
                 req->route->scope);
        return rasl_fail(res, "INSUFFICIENT_SCOPE", message, NULL);
    }
    return EMU_OK;
}

static int rasl_check_credential(const json_t *cred, const char **field, char *msg, size_t msglen)
{
    const char *token = jsonx_string(cred, "token"), *expires = jsonx_string(cred, "expires_at");
    json_t *per = json_object_get(cred, "rate_limit_per_minute");
    int64_t at;

    if (token == NULL || *token == '\0' || strlen(token) > 200) {
        *field = "token";
        snprintf(msg, msglen, "\"token\" must be a non-empty string");
    } else if (!json_is_array(json_object_get(cred, "scopes"))) {
        *field = "scopes";
        snprintf(msg, msglen, "\"scopes\" must be an array of scope names");
    } else if (per != NULL && !json_is_null(per) &&
               (!json_is_integer(per) || json_integer_value(per) < 1)) {
        *field = "rate_limit_per_minute";
        snprintf(msg, msglen, "\"rate_limit_per_minute\" must be null or a whole number >= 1");
    } else if (expires != NULL && clock_parse_rfc3339(expires, &at) != EMU_OK) {
        *field = "expires_at";
        snprintf(msg, msglen, "\"expires_at\" must be an RFC 3339 instant or null");
    } else {
        return EMU_OK;
    }
    return EMU_INVALID;
}

int rasl_settings(struct req *req, json_t **out)
{
    return vendor_settings(req, &vendor_rasl, out);
}

int rasl_whatsapp_configured(struct req *req)
{
    json_t *settings;
    int configured = 0;

    if (rasl_settings(req, &settings) == EMU_OK)
        configured = json_is_true(json_object_get(settings, "whatsapp_configured"));
    json_decref(settings);
    return configured;
}

/* ---- storage ---- */

static void rasl_key(const struct req *req, json_int_t id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%010lld", req->tenant, (long long)id);
}

void rasl_host(const struct req *req, char *out, size_t len)
{
    const char *host = req_header(req, "Host");
    size_t n = 0;

    if (host == NULL || *host == '\0')
        host = "localhost";
    for (; *host && n + 4 <= len; host++) {
        unsigned char c = (unsigned char)*host;

        if (c > 0x20 && c < 0x7f && c != '%')
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, len - n, "%%%02X", c);
    }
    out[n] = '\0';
}

json_int_t rasl_path_id(const struct req *req)
{
    const char *text = req_param(req, "id");
    char *end;
    long long id;

    if (text == NULL || text[0] < '0' || text[0] > '9')
        return 0;
    id = strtoll(text, &end, 10);
    return *end == '\0' && id > 0 && id < 10000000000LL ? (json_int_t)id : 0;
}

int rasl_get(struct req *req, const char *table, json_int_t id, json_t **out)
{
    char key[128];

    rasl_key(req, id, key, sizeof(key));
    return store_get(req->txn, table, key, out);
}

int rasl_put(struct req *req, const char *table, const json_t *doc)
{
    char key[128];

    rasl_key(req, json_integer_value(json_object_get(doc, "id")), key, sizeof(key));
    return store_put(req->txn, table, key, doc);
}

int rasl_del(struct req *req, const char *table, json_int_t id)
{
    char key[128];

    rasl_key(req, id, key, sizeof(key));
    return store_del(req->txn, table, key);
}

int rasl_next_id(struct req *req, const char *table, json_int_t *out)
{
    char name[128];
    uint64_t n;
    int rc;

    snprintf(name, sizeof(name), "%s/%s", table, req->tenant);
    rc = store_seq_next(req->txn, name, &n);
    *out = (json_int_t)n;
    return rc;
}

/* ---- indexes ---- */

void rasl_group(const char *tenant, const char *member, const char *value, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s/%s", tenant, member, value);
}

/* The tenant of document key ("demo" of "demo/0000000001") into buf. */
static void key_tenant(const char *key, char *buf, size_t len)
{
    const char *slash = strchr(key, '/');
    size_t n = slash ? (size_t)(slash - key) : strlen(key);

    snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), key);
}

static int exact_integer(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) <= RASL_INT_MAX &&
           json_integer_value(v) >= -RASL_INT_MAX;
}

/* Emits "<tenant>/<member>/<n>" for an integer member; 0 when v is not one. */
static int emit_integer(struct store_emit *e, const char *tenant, const char *member,
                        const json_t *v)
{
    char group[STORE_INDEX_PART + 64], text[32];

    if (!exact_integer(v))
        return 0;
    snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
    rasl_group(tenant, member, text, group, sizeof(group));
    store_emit(e, group, "");
    return 1;
}

/* Emits "<tenant>/<member>/<text>" for a short text member; 0 when v is not one. */
static int emit_text(struct store_emit *e, const char *tenant, const char *member, const json_t *v)
{
    char group[STORE_INDEX_PART + 64];

    if (!json_is_string(v) || strlen(json_string_value(v)) > RASL_VALUE_MAX)
        return 0;
    rasl_group(tenant, member, json_string_value(v), group, sizeof(group));
    store_emit(e, group, "");
    return 1;
}

/* The sort a lookup of value finds it under: lower-cased, then a byte that ends it, so that a
 * range from and to it holds this value only (and, past what a sort keeps, those that share
 * its start: a lookup checks the rows it finds). */
static void lookup_sort(const char *value, char *buf, size_t len)
{
    size_t n = 0;

    for (; value[n] && n + 2 < len; n++)
        buf[n] = (char)tolower((unsigned char)value[n]);
    buf[n++] = '\x01';
    buf[n] = '\0';
}

/* Emits member's text (lower-cased) into "<tenant>/<member>", for the lookups. */
static void emit_lookup(struct store_emit *e, const char *tenant, const char *member,
                        const json_t *v)
{
    char group[STORE_INDEX_PART], sort[128];

    if (!json_is_string(v))
        return;
    snprintf(group, sizeof(group), "%s/%s", tenant, member);
    lookup_sort(json_string_value(v), sort, sizeof(sort));
    store_emit(e, group, sort);
}

/* Every row of the tenant, in key (id) order. */
static void emit_all(struct store_emit *e, const char *tenant)
{
    char group[STORE_INDEX_PART];

    snprintf(group, sizeof(group), "%s/", tenant);
    store_emit(e, group, "");
}

static int id_in_order(const json_t *doc)
{
    json_t *id = json_object_get(doc, "id");

    return json_is_integer(id) && json_integer_value(id) >= 1 &&
           json_integer_value(id) <= RASL_ID_MAX;
}

static void emit_odd(struct store_emit *e, const char *tenant)
{
    char group[STORE_INDEX_PART];

    snprintf(group, sizeof(group), "%s/odd", tenant);
    store_emit(e, group, "");
}

static void contact_entries(const char *key, const json_t *doc, struct store_emit *e)
{
    char tenant[STORE_INDEX_PART];
    json_t *assigned = json_object_get(doc, "assigned_id"), *groups, *g;
    int plain = id_in_order(doc);
    size_t i;

    key_tenant(key, tenant, sizeof(tenant));
    emit_all(e, tenant);
    plain &= emit_text(e, tenant, "type", json_object_get(doc, "type"));
    plain &= emit_integer(e, tenant, "status_id", json_object_get(doc, "status_id"));
    plain &= emit_integer(e, tenant, "source_id", json_object_get(doc, "source_id"));
    if (assigned != NULL && !json_is_null(assigned))
        plain &= emit_integer(e, tenant, "assigned_id", assigned);
    groups = json_object_get(doc, "group_id");
    plain &= json_is_array(groups);
    json_array_foreach(groups, i, g) plain &= emit_integer(e, tenant, "group_id", g);
    emit_lookup(e, tenant, "phone", json_object_get(doc, "phone"));
    emit_lookup(e, tenant, "email", json_object_get(doc, "email"));
    if (!plain)
        emit_odd(e, tenant);
}

static void message_entries(const char *key, const json_t *doc, struct store_emit *e)
{
    char tenant[STORE_INDEX_PART], group[STORE_INDEX_PART + 16];
    int plain = id_in_order(doc);

    key_tenant(key, tenant, sizeof(tenant));
    emit_all(e, tenant);
    plain &= emit_text(e, tenant, "type", json_object_get(doc, "type"));
    plain &= emit_text(e, tenant, "status", json_object_get(doc, "status"));
    plain &= emit_text(e, tenant, "direction", json_object_get(doc, "direction"));
    plain &= emit_integer(e, tenant, "interaction_id", json_object_get(doc, "interaction_id"));
    if (json_is_true(json_object_get(doc, RASL_OPENS_CHAT))) {
        snprintf(group, sizeof(group), "%s/opener", tenant);
        store_emit(e, group, "");
    }
    if (!plain)
        emit_odd(e, tenant);
}

/* clang-format off */
static const struct store_index contacts_by = {RASL_CONTACTS, RASL_INDEX, contact_entries};
static const struct store_index messages_by = {RASL_MESSAGES, RASL_INDEX, message_entries};
static const struct store_index *const rasl_indexes[] = {&contacts_by, &messages_by, NULL};
/* clang-format on */

int rasl_indexed(const char *table)
{
    return strcmp(table, RASL_CONTACTS) == 0 || strcmp(table, RASL_MESSAGES) == 0;
}

int rasl_group_count(struct req *req, const char *table, const char *group, long *out)
{
    uint64_t n = 0;
    int rc = store_count(req->txn, table, RASL_INDEX, group, &n);

    *out = (long)n;
    return rc;
}

static int count_row(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    (void)key;
    (void)klen;
    (void)val;
    (void)vlen;
    (*(long *)arg)++;
    return 0;
}

int rasl_count(struct req *req, const char *table, long *out)
{
    char prefix[80];
    uint64_t n = 0;
    int rc;

    *out = 0;
    snprintf(prefix, sizeof(prefix), "%s/", req->tenant);
    if (!rasl_indexed(table))
        return store_scan_raw(req->txn, table, prefix, count_row, out);
    rc = store_count(req->txn, table, RASL_INDEX, prefix, &n);
    *out = (long)n;
    return rc;
}

struct contact_lookup {
    struct req *req;
    const char *member, *value;
    int exact;
    json_int_t except_id;
    json_t *found;
    int rc;
};

static int check_candidate(const char *key, void *arg)
{
    struct contact_lookup *l = arg;
    json_t *doc;
    const char *v;

    l->rc = store_get(l->req->txn, RASL_CONTACTS, key, &doc);
    if (l->rc == EMU_NOT_FOUND)
        return 0;
    if (l->rc != EMU_OK)
        return l->rc;
    v = jsonx_string(doc, l->member);
    if (v != NULL && json_integer_value(json_object_get(doc, "id")) != l->except_id &&
        (l->exact ? strcmp(v, l->value) : strcasecmp(v, l->value)) == 0) {
        l->found = doc;
        return 1;
    }
    json_decref(doc);
    return 0;
}

int rasl_contact_with(struct req *req, const char *member, const char *value, int exact,
                      json_int_t except_id, json_t **out)
{
    struct contact_lookup l = {req, member, value, exact, except_id, NULL, EMU_OK};
    char group[STORE_INDEX_PART], sort[128];
    int rc;

    snprintf(group, sizeof(group), "%s/%s", req->tenant, member);
    lookup_sort(value, sort, sizeof(sort));
    rc = store_index_scan(req->txn, RASL_CONTACTS, RASL_INDEX,
                          &(struct store_range){.group = group, .from = sort, .to = sort},
                          check_candidate, &l);
    if (out != NULL)
        *out = l.found;
    else
        json_decref(l.found);
    if (rc != EMU_OK)
        return rc;
    return l.found ? EMU_OK : EMU_NOT_FOUND;
}

/* The id a row key ends with ("demo/0000000042": 42); the key's suffix is the id "%010lld". */
static int highest_id(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    const char *slash = memchr(key, '/', klen);
    long long id = 0;

    (void)val;
    (void)vlen;
    for (const char *p = slash ? slash + 1 : key + klen; p < key + klen; p++) {
        if (*p < '0' || *p > '9' || id > (LLONG_MAX - 9) / 10)
            return 0; /* not an id key */
        id = id * 10 + (*p - '0');
    }
    if (id > *(long long *)arg)
        *(long long *)arg = id;
    return 0;
}

static int append_row(const char *key, json_t *doc, void *arg)
{
    (void)key;
    return json_array_append(arg, doc) == 0 ? 0 : EMU_NOMEM;
}

int rasl_all(struct req *req, const char *table, json_t **out)
{
    char prefix[80];
    int rc;

    *out = json_array();
    if (*out == NULL)
        return EMU_NOMEM;
    snprintf(prefix, sizeof(prefix), "%s/", req->tenant);
    rc = store_scan(req->txn, table, prefix, append_row, *out);
    if (rc != EMU_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

/* After seeding, each table's id sequence starts past the highest fixture id (read from the
 * keys: no row is parsed). */
static int rasl_after_seed(struct store_txn *txn, const char *tenant)
{
    static const char *const tables[] = {RASL_CONTACTS, RASL_GROUPS, RASL_STATUSES, RASL_SOURCES,
                                         RASL_MESSAGES};
    char prefix[80], name[128];
    int rc = EMU_OK;

    snprintf(prefix, sizeof(prefix), "%s/", tenant);
    for (size_t i = 0; rc == EMU_OK && i < sizeof(tables) / sizeof(tables[0]); i++) {
        long long max = 0;

        rc = store_scan_raw(txn, tables[i], prefix, highest_id, &max);
        snprintf(name, sizeof(name), "%s/%s", tables[i], tenant);
        if (rc == EMU_OK)
            rc = vendor_seq_restart(txn, name, (uint64_t)max);
    }
    return rc;
}

static json_t *rasl_default_credentials(const char *tenant)
{
    char full[128], unlimited[128], readonly[128];

    snprintf(full, sizeof(full), "wm_%s_full", tenant);
    snprintf(unlimited, sizeof(unlimited), "wm_%s_unlimited", tenant);
    snprintf(readonly, sizeof(readonly), "wm_%s_readonly", tenant);
    return json_pack("[{s:s,s:[s],s:i},{s:s,s:[s],s:n},{s:s,s:[s,s,s,s,s,s,s],s:i}]", "token", full,
                     "scopes", "*", "rate_limit_per_minute", 60, "token", unlimited, "scopes", "*",
                     "rate_limit_per_minute", "token", readonly, "scopes", "contacts:read",
                     "messages:read", "groups:read", "templates:read", "sources:read",
                     "statuses:read", "account:read", "rate_limit_per_minute", 60);
}

static const char *const rasl_prefixes[] = {"/api/v2", "/api/webhooks", NULL};

/* clang-format off */
#define J (ROUTE_AUTH | ROUTE_JSON | ROUTE_WRITE)
#define W (ROUTE_AUTH | ROUTE_WRITE)
#define R ROUTE_AUTH
static const struct route rasl_routes[] = {
    /* method    path                              handler                      flags scope */
    {"GET",    "/api/v2/contacts",               rasl_contacts_list,           R, "contacts:read"},
    {"POST",   "/api/v2/contacts",               rasl_contacts_create,         J, "contacts:write"},
    {"POST",   "/api/v2/contacts/batch",         rasl_contacts_batch_create,   J, "contacts:write"},
    {"DELETE", "/api/v2/contacts/batch",         rasl_contacts_batch_delete,   J, "contacts:delete"},
    {"GET",    "/api/v2/contacts/{id}",          rasl_contacts_get,            R, "contacts:read"},
    {"PATCH",  "/api/v2/contacts/{id}",          rasl_contacts_update,         J, "contacts:write"},
    {"DELETE", "/api/v2/contacts/{id}",          rasl_contacts_delete,         W, "contacts:delete"},
    {"GET",    "/api/v2/groups",                 rasl_groups_list,             R, "groups:read"},
    {"POST",   "/api/v2/groups",                 rasl_groups_create,           J, "groups:write"},
    {"GET",    "/api/v2/groups/{id}",            rasl_groups_get,              R, "groups:read"},
    {"PATCH",  "/api/v2/groups/{id}",            rasl_groups_update,           J, "groups:write"},
    {"DELETE", "/api/v2/groups/{id}",            rasl_groups_delete,           W, "groups:delete"},
    {"POST",   "/api/v2/groups/{id}/contacts",   rasl_groups_add_contacts,     J, "groups:write"},
    {"DELETE", "/api/v2/groups/{id}/contacts",   rasl_groups_remove_contacts,  J, "groups:write"},
    {"GET",    "/api/v2/sources",                rasl_sources_list,            R, "sources:read"},
    {"POST",   "/api/v2/sources",                rasl_sources_create,          J, "sources:write"},
    {"GET",    "/api/v2/sources/{id}",           rasl_sources_get,             R, "sources:read"},
    {"PATCH",  "/api/v2/sources/{id}",           rasl_sources_update,          J, "sources:write"},
    {"DELETE", "/api/v2/sources/{id}",           rasl_sources_delete,          W, "sources:delete"},
    {"GET",    "/api/v2/statuses",               rasl_statuses_list,           R, "statuses:read"},
    {"POST",   "/api/v2/statuses",               rasl_statuses_create,         J, "statuses:write"},
    {"GET",    "/api/v2/statuses/{id}",          rasl_statuses_get,            R, "statuses:read"},
    {"PATCH",  "/api/v2/statuses/{id}",          rasl_statuses_update,         J, "statuses:write"},
    {"DELETE", "/api/v2/statuses/{id}",          rasl_statuses_delete,         W, "statuses:delete"},
    {"POST",   "/api/v2/messages/text",          rasl_messages_text,           J, "messages:send"},
    {"POST",   "/api/v2/messages/media",         rasl_messages_media,          J, "messages:send"},
    {"POST",   "/api/v2/messages/template",      rasl_messages_template,       J, "messages:send"},
    {"POST",   "/api/v2/messages/interactive",   rasl_messages_interactive,    J, "messages:send"},
    {"GET",    "/api/v2/messages",               rasl_messages_list,           R, "messages:read"},
    {"GET",    "/api/v2/messages/messages",      rasl_messages_list,           R, "messages:read"},
    {"GET",    "/api/v2/messages/{id}",          rasl_messages_get,            R, "messages:read"},
    {"GET",    "/api/v2/templates",              rasl_templates_list,          R, "templates:read"},
    {"POST",   "/api/v2/templates/sync",         rasl_templates_sync,          W, "templates:sync"},
    {"GET",    "/api/v2/templates/{id}",         rasl_templates_get,           R, "templates:read"},
    {"GET",    "/api/v2/auth/templates",         rasl_templates_auth_list,     R, "templates:read"},
    {"POST",   "/api/v2/auth/send-otp",          rasl_otp_send,                J, "messages:send"},
    {"POST",   "/api/v2/auth/verify",            rasl_otp_verify,              J, "messages:send"},
    {"POST",   "/api/v2/auth/resend",            rasl_otp_resend,              J, "messages:send"},
    {"POST",   "/api/v2/auth/status",            rasl_otp_status,              J, "messages:send"},
    {"GET",    "/api/v2/account",                rasl_account_get,             R, "account:read"},
    {"GET",    "/api/webhooks/{uuid}/status",    rasl_listeners_status,        0, NULL},
    {"GET",    "/api/webhooks/{uuid}",           rasl_listeners_receive,       ROUTE_WRITE, NULL},
    {"POST",   "/api/webhooks/{uuid}",           rasl_listeners_receive,       ROUTE_WRITE, NULL},
    {"PUT",    "/api/webhooks/{uuid}",           rasl_listeners_receive,       ROUTE_WRITE, NULL},
    {"PATCH",  "/api/webhooks/{uuid}",           rasl_listeners_receive,       ROUTE_WRITE, NULL},
    {"DELETE", "/api/webhooks/{uuid}",           rasl_listeners_receive,       ROUTE_WRITE, NULL},
    {"GET",    "/api/v2/account/usage",          rasl_account_usage,           R, "account:read"},
    {"GET",    "/api/v2/account/limits",         rasl_account_limits,          R, "account:read"},
    {0},
};
#undef J
#undef W
#undef R

static const struct table_def rasl_tables[] = {
    /* store table    fixture file      row key */
    {RASL_STATUSES, "statuses.json",  rasl_named_row_key},
    {RASL_SOURCES,  "sources.json",   rasl_named_row_key},
    {RASL_GROUPS,   "groups.json",    rasl_named_row_key},
    {RASL_CONTACTS, "contacts.json",  rasl_contact_row_key},
    {RASL_ACCOUNT,  "account.json",   rasl_account_row_key},
    {RASL_TEMPLATES, "templates.json", rasl_template_row_key},
    {RASL_MESSAGES, NULL,             NULL},
    {RASL_OTP,      NULL,             NULL},
    {RASL_LISTENERS, "listeners.json", rasl_listener_row_key},
    {0},
};
/* clang-format on */

static const struct setting_def rasl_settings_defs[] = {
    {"whatsapp_configured", JSON_TRUE, 0},
    {"default_status_id", JSON_INTEGER, 1},
    {"default_source_id", JSON_INTEGER, 1},
    {"business_phone", JSON_STRING, 1},
    {"webhook_url", JSON_STRING, 1},
    {"webhook_secret", JSON_STRING, 1},
    {NULL, 0, 0},
};

const struct vendor vendor_rasl = {
    .name = "rasl",
    .prefixes = rasl_prefixes,
    .routes = rasl_routes,
    .tables = rasl_tables,
    .indexes = rasl_indexes,
    .credential_field = "token",
    .check_credential = rasl_check_credential,
    .default_credentials = rasl_default_credentials,
    .has_error = rasl_has_error,
    .authenticate = rasl_authenticate,
    .reply_error = rasl_reply_error,
    .body = VENDOR_BODY_LARAVEL,
    .settings = rasl_settings_defs,
    .after_seed = rasl_after_seed,
};
