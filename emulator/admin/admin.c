/* admin.c -- the emulator's own API under /__admin: health, readiness, reset, routes, clock.
 *
 * It is a vendor like the others (a route table and an error shape), so the dispatcher treats
 * it the same way. With --admin-token every call but health and ready needs
 * "Authorization: Bearer <token>". Errors are {"error":{"code","message"}}. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "err.h"
#include "field.h"
#include "fixtures.h"
#include "journal.h"
#include "jsonx.h"
#include "metrics.h"
#include "outbox.h"
#include "ratelimit.h"
#include "reqlog.h"
#include "req.h"
#include "router.h"
#include "scenario.h"
#include "snapshot.h"
#include "store.h"
#include "tables.h"
#include "tenants.h"
#include "vendors.h"
#include "webhooks.h"

static int admin_health(struct req *req, struct res *res)
{
    (void)req;
    return res_json(res, 200, json_pack("{s:s}", "status", "ok"));
}

static int admin_ready(struct req *req, struct res *res)
{
    int ready = atomic_load(&req->app->ready);

    return res_json(res, ready ? 200 : 503, json_pack("{s:b}", "ready", ready));
}

/* The URL-decoded value of query parameter name, read whole: *out is a new string, or NULL
 * when the query has no such parameter. EMU_BAD_REQUEST when the value cannot be decoded (an
 * encoded NUL, text that is not UTF-8). */
static int query_text(const struct req *req, const char *name, char **out)
{
    size_t len = req->query ? strlen(req->query) + 1 : 0;
    int rc;

    *out = NULL;
    if (len == 0)
        return EMU_OK;
    *out = malloc(len); /* a decoded value is never longer than the query it came from */
    if (*out == NULL)
        return EMU_NOMEM;
    rc = req_query(req, name, *out, len);
    if (rc != EMU_OK) {
        free(*out);
        *out = NULL;
    }
    return rc == EMU_NOT_FOUND ? EMU_OK : rc;
}

/* Tenant ids are at most 32 characters (see tenants_copy); the buffers that hold one
 * have room to spare. */
#define ADMIN_TENANT_MAX 64

/* Answers the 404 for a ?tenant= that names no tenant; long values are not echoed whole. */
static int no_tenant(struct res *res, const char *value)
{
    if (value != NULL && strlen(value) <= ADMIN_TENANT_MAX)
        return res_fail(res, EMU_NOT_FOUND, "no tenant '%s'", value);
    return res_fail(res, EMU_NOT_FOUND, "?tenant= names no tenant");
}

/* Reads ?tenant=. *tenant is NULL when the query has none, or buf holding the id of a tenant
 * that exists in the store (with in_fixtures: any well-formed id, which the caller looks up in
 * the store and the fixtures itself). Any other value -- empty, too long, undecodable,
 * unknown -- answers 404, so a call meant for one tenant never falls back to all of them.
 * Needs req->txn. */
static int query_tenant(struct req *req, struct res *res, int in_fixtures,
                        char buf[ADMIN_TENANT_MAX + 1], const char **tenant)
{
    char *value;
    json_t *row = NULL;
    int rc = query_text(req, "tenant", &value);

    *tenant = NULL;
    if (rc == EMU_NOMEM || (rc == EMU_OK && value == NULL))
        return rc;
    if (rc == EMU_OK && value[0] != '\0' && strlen(value) <= ADMIN_TENANT_MAX) {
        rc = in_fixtures ? EMU_OK : store_get(req->txn, TENANTS_TABLE, value, &row);
        json_decref(row);
        if (rc == EMU_OK) {
            snprintf(buf, ADMIN_TENANT_MAX + 1, "%s", value);
            *tenant = buf;
        }
    } else {
        rc = EMU_NOT_FOUND;
    }
    if (rc == EMU_NOT_FOUND)
        rc = no_tenant(res, value);
    free(value);
    return rc;
}

/* POST /__admin/reset[?tenant=]: data back to the fixtures, rate windows cleared; a whole
 * reset also puts the clock back to what --clock said. A tenant of the fixture set that was
 * deleted can be reset: it comes back. */
static int admin_reset(struct req *req, struct res *res)
{
    char buf[ADMIN_TENANT_MAX + 1], prefix[ADMIN_TENANT_MAX + 2];
    const char *tenant;
    int rc = query_tenant(req, res, 1, buf, &tenant), has_tenant;

    if (rc != EMU_OK)
        return rc;
    has_tenant = tenant != NULL;
    rc = tenants_seed(req->app->fixtures, req->txn, tenant);
    if (rc == EMU_NOT_FOUND)
        return res_fail(res, EMU_NOT_FOUND, "no tenant '%s' in the fixtures", tenant);
    if (rc != EMU_OK)
        return rc;
    snprintf(prefix, sizeof(prefix), "%s/", has_tenant ? tenant : "");
    ratelimit_clear(req->app->limits, has_tenant ? prefix : "");
    scenarios_reset_counters(req->app->scenarios, has_tenant ? tenant : NULL);
    if (!has_tenant) {
        clock_restore_initial(&req->app->clock);
        atomic_store(&req->app->answers, 0);
        journal_clear(req->app->journal);
        metrics_reset(req->app->metrics);
    }
    return res_json(res, 200,
                    json_pack("{s:b,s:s?}", "reset", 1, "tenant", has_tenant ? tenant : NULL));
}

static int admin_routes(struct req *req, struct res *res)
{
    const struct vendor *const *vendors = vendors_all();
    json_t *list = json_array();

    (void)req;
    for (int i = 0; list != NULL && vendors[i] != NULL; i++)
        for (const struct route *r = vendors[i]->routes; r->method != NULL; r++)
            json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "vendor", vendors[i]->name,
                                                  "method", r->method, "path", r->path));
    return res_json(res, 200, json_pack("{s:o*}", "routes", list));
}

static int clock_answer(struct req *req, struct res *res)
{
    char now[32];

    clock_format_iso_ms(clock_now_ms(&req->app->clock), now, sizeof(now));
    return res_json(
        res, 200, json_pack("{s:s,s:b}", "now", now, "frozen", clock_is_frozen(&req->app->clock)));
}

static int admin_clock_get(struct req *req, struct res *res)
{
    return clock_answer(req, res);
}

/* How far one advance may move the clock: far enough for any token expiry or rate window a
 * test needs, and small enough that no sum of advances leaves the years the clock can show. */
#define CLOCK_ADVANCE_MAX_S (100.0 * 365.25 * 86400.0)

/* POST /__admin/clock: {"freeze": RFC3339} | {"advance_s": n} | {"real": true}. A value the
 * clock cannot take is a 400 and the clock is left as it was. */
static int admin_clock_set(struct req *req, struct res *res)
{
    const char *freeze = NULL;
    double advance = 0;
    int real = 0, rc;
    enum field_state fs = field_string(req->json, "freeze", &freeze);
    enum field_state as = field_number(req->json, "advance_s", 0, &advance);
    enum field_state rs = field_boolean(req->json, "real", 0, &real);
    int64_t at;

    if ((fs != FIELD_ABSENT) + (as != FIELD_ABSENT) + (rs != FIELD_ABSENT) != 1)
        return res_fail(res, EMU_BAD_REQUEST,
                        "send exactly one of \"freeze\", \"advance_s\" or \"real\"");
    if (fs != FIELD_ABSENT) {
        if (fs != FIELD_OK || clock_parse_rfc3339(freeze, &at) != EMU_OK)
            return res_fail(res, EMU_BAD_REQUEST, "\"freeze\" must be an RFC 3339 instant");
        if (at < 0 || at > CLOCK_MAX_MS)
            return res_fail(res, EMU_BAD_REQUEST,
                            "\"freeze\" must be an instant from 1970 to 9999 (UTC)");
        clock_freeze(&req->app->clock, at);
    } else if (as != FIELD_ABSENT) {
        /* field_number gives only finite numbers; the bound keeps the product in range. */
        if (as != FIELD_OK || advance < 0)
            return res_fail(res, EMU_BAD_REQUEST, "\"advance_s\" must be a number >= 0");
        if (advance > CLOCK_ADVANCE_MAX_S)
            return res_fail(res, EMU_BAD_REQUEST,
                            "\"advance_s\" must be at most 100 years (3155760000 seconds)");
        rc = clock_advance(&req->app->clock, (int64_t)(advance * 1000.0 + 0.5));
        if (rc != EMU_OK)
            return res_fail(res, EMU_BAD_REQUEST,
                            "\"advance_s\" would move the clock past the year 9999");
    } else {
        if (rs != FIELD_OK || !real)
            return res_fail(res, EMU_BAD_REQUEST, "\"real\" must be true");
        clock_real(&req->app->clock);
    }
    return clock_answer(req, res);
}

/* Reads ?name= as a whole number into *out (left alone when absent); EMU_BAD_REQUEST when it
 * is not one. */
static int query_count(struct req *req, const char *name, uint64_t *out)
{
    char *text = NULL, *end;
    int rc = query_text(req, name, &text);

    if (rc == EMU_OK && text != NULL && text[0] != '\0') {
        errno = 0;
        *out = strtoull(text, &end, 10);
        if (*end != '\0' || errno != 0 || text[0] == '-' || text[0] == '+')
            rc = EMU_BAD_REQUEST;
    }
    free(text);
    return rc;
}

/* GET /__admin/outbox[?tenant=&phone=&after=&limit=]: what would have been sent, oldest
 * first, at most OUTBOX_READ_MAX entries a read. */
static int admin_outbox_get(struct req *req, struct res *res)
{
    char buf[ADMIN_TENANT_MAX + 1];
    struct outbox_query q = {0};
    uint64_t limit = 0;
    char *phone = NULL;
    json_t *outbox;
    int rc = query_tenant(req, res, 0, buf, &q.tenant);

    if (rc == EMU_OK)
        rc = query_text(req, "phone", &phone);
    if (rc == EMU_BAD_REQUEST)
        return res_fail(res, EMU_BAD_REQUEST, "?phone= is not valid text");
    if (rc == EMU_OK && query_count(req, "after", &q.after) != EMU_OK)
        return res_fail(res, EMU_BAD_REQUEST, "?after= must be a whole number (a seq)");
    if (rc == EMU_OK && (query_count(req, "limit", &limit) != EMU_OK || limit > OUTBOX_READ_MAX))
        return res_fail(res, EMU_BAD_REQUEST, "?limit= must be a whole number up to 10000");
    q.limit = (size_t)limit;
    q.phone = phone && phone[0] ? phone : NULL;
    if (rc == EMU_OK)
        rc = outbox_read(req->txn, &q, &outbox);
    free(phone);
    return rc == EMU_OK ? res_json(res, 200, outbox) : rc;
}

static int admin_outbox_delete(struct req *req, struct res *res)
{
    char buf[ADMIN_TENANT_MAX + 1];
    const char *tenant;
    int rc = query_tenant(req, res, 0, buf, &tenant);

    if (rc == EMU_OK)
        rc = outbox_clear(req->txn, tenant);
    return rc == EMU_OK ? res_json(res, 200, json_pack("{s:b}", "cleared", 1)) : rc;
}

static int collect_tenant(const char *key, json_t *doc, void *arg)
{
    (void)key;
    return json_array_append(arg, doc) == 0 ? 0 : EMU_NOMEM;
}

/* GET /__admin/tenants: every tenant and its settings. */
static int admin_tenants_list(struct req *req, struct res *res)
{
    json_t *list = json_array();
    int rc = list ? store_scan(req->txn, TENANTS_TABLE, "", collect_tenant, list) : EMU_NOMEM;

    if (rc != EMU_OK) {
        json_decref(list);
        return rc;
    }
    return res_json(res, 200, json_pack("{s:o}", "tenants", list));
}

/* Checks given credentials ({"<vendor>": [rows]}) and fills in the vendors left out with
 * their default ones. *out is new. */
static int tenant_credentials(struct req *req, struct res *res, const char *id, const json_t *given,
                              json_t **out)
{
    const char *name;
    json_t *list;
    char msg[300], key[600];

    *out = json_object();
    if (given != NULL && !json_is_object(given))
        return res_fail(res, EMU_BAD_REQUEST, "\"credentials\" must be an object of vendors");
    json_object_foreach((json_t *)given, name, list)
    {
        const struct vendor *v = vendor_find(name);
        size_t i;
        json_t *cred, *taken;

        if (v == NULL || v->check_credential == NULL || !json_is_array(list))
            return res_fail(res, EMU_BAD_REQUEST,
                            "\"%s\" is not a vendor with credentials (an array is expected)", name);
        json_array_foreach(list, i, cred)
        {
            const char *field = NULL;

            if (!json_is_object(cred) ||
                v->check_credential(cred, &field, msg, sizeof(msg)) != EMU_OK)
                return res_fail(res, EMU_BAD_REQUEST, "credentials.%s[%zu]: %s", name, i,
                                json_is_object(cred) ? msg : "must be an object");
            if (!fixtures_credential_numbers_ok(cred, &field))
                return res_fail(res, EMU_BAD_REQUEST,
                                "credentials.%s[%zu]: \"%s\" must be a whole number from 0 to "
                                "2147483647",
                                name, i, field);
            snprintf(key, sizeof(key), "%s/%s", v->name, jsonx_string(cred, v->credential_field));
            if (store_get(req->txn, CREDENTIALS_TABLE, key, &taken) == EMU_OK) {
                json_decref(taken);
                return res_fail(res, EMU_CONFLICT,
                                "credentials.%s[%zu] is in use by another tenant", name, i);
            }
        }
        json_object_set(*out, name, list);
    }
    for (const struct vendor *const *v = vendors_all(); *v != NULL; v++)
        if ((*v)->default_credentials != NULL && json_object_get(*out, (*v)->name) == NULL)
            json_object_set_new(*out, (*v)->name, (*v)->default_credentials(id));
    return EMU_OK;
}

/* POST /__admin/tenants: {"id", "from" (demo), "credentials"?}: a new tenant with a copy of
 * from's fixture data; answers 201 with its credentials. */
static int admin_tenants_create(struct req *req, struct res *res)
{
    const char *id = NULL, *from = "demo";
    json_t *credentials = NULL;
    enum field_state fs;
    int rc;

    if (field_string(req->json, "id", &id) != FIELD_OK)
        return res_fail(res, EMU_BAD_REQUEST, "\"id\" is required, a string");
    fs = field_string(req->json, "from", &from);
    if (fs != FIELD_OK && fs != FIELD_ABSENT)
        return res_fail(res, EMU_BAD_REQUEST, "\"from\" must be the id of a fixture tenant");
    fs = field_object(req->json, "credentials", &credentials);
    if (fs != FIELD_OK && fs != FIELD_ABSENT)
        return res_fail(res, EMU_BAD_REQUEST, "\"credentials\" must be an object of vendors");
    rc = tenant_credentials(req, res, id, credentials, &credentials);
    if (rc != EMU_OK) {
        json_decref(credentials);
        return rc;
    }
    rc = tenants_copy(req->app->fixtures, req->txn, id, from, credentials);
    if (rc == EMU_INVALID)
        rc = res_fail(res, EMU_BAD_REQUEST,
                      "\"id\" must be 1-32 lowercase letters, digits, '-' or '_'");
    else if (rc == EMU_NOT_FOUND)
        rc = res_fail(res, EMU_NOT_FOUND, "no tenant '%s' in the fixtures to copy", from);
    else if (rc == EMU_CONFLICT)
        rc = res_fail(res, EMU_CONFLICT, "tenant '%s' exists already", id);
    if (rc == EMU_OK)
        rc = res_json(
            res, 201,
            json_pack("{s:s,s:s,s:O}", "id", id, "from", from, "credentials", credentials));
    json_decref(credentials);
    return rc;
}

/* DELETE /__admin/tenants/{id}: the tenant and all its data. */
static int admin_tenants_delete(struct req *req, struct res *res)
{
    const char *id = req_param(req, "id");
    char prefix[80];
    int rc = tenants_delete(req->txn, id);

    if (rc == EMU_NOT_FOUND)
        return res_fail(res, EMU_NOT_FOUND, "no tenant '%s'", id);
    if (rc != EMU_OK)
        return rc;
    snprintf(prefix, sizeof(prefix), "%s/", id);
    ratelimit_clear(req->app->limits, prefix);
    scenarios_reset_counters(req->app->scenarios, id);
    return res_json(res, 200, json_pack("{s:s}", "deleted", id));
}

static int admin_tenants_get(struct req *req, struct res *res)
{
    json_t *tenant;
    int rc = store_get(req->txn, TENANTS_TABLE, req_param(req, "id"), &tenant);

    if (rc == EMU_NOT_FOUND)
        return res_fail(res, EMU_NOT_FOUND, "no tenant '%s'", req_param(req, "id"));
    return rc == EMU_OK ? res_json(res, 200, tenant) : rc;
}

/* Refuses a setting no vendor could use: a webhook URL the worker could not post to safely,
 * or a number that is fractional or too large to be read exactly. */
static int check_setting(struct res *res, const struct vendor *owner, const char *key,
                         const json_t *v)
{
    const char *vendor = owner->name;
    const struct setting_def *def = owner->settings;
    json_int_t n;

    while (def != NULL && def->name != NULL && strcmp(def->name, key) != 0)
        def++;
    if (def != NULL && def->name == NULL)
        return res_fail(res, EMU_BAD_REQUEST, "%s.%s is not a setting of %s", vendor, key, vendor);
    if (def != NULL && json_is_null(v) && !def->nullable)
        return res_fail(res, EMU_BAD_REQUEST, "%s.%s may not be null", vendor, key);
    if (def != NULL && !json_is_null(v) &&
        !(def->type == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == def->type))
        return res_fail(res, EMU_BAD_REQUEST, "%s.%s must be %s%s", vendor, key,
                        def->type == JSON_STRING    ? "a string"
                        : def->type == JSON_INTEGER ? "a whole number"
                                                    : "true or false",
                        def->nullable ? " or null" : "");

    if (strcmp(key, "webhook_url") == 0 && !json_is_null(v) &&
        (!json_is_string(v) || !webhooks_url_valid(json_string_value(v))))
        return res_fail(res, EMU_BAD_REQUEST,
                        "%s.webhook_url must be null or an absolute http:// or https:// URL with "
                        "a host and no spaces or control characters",
                        vendor);
    if (json_is_number(v) && field_integer_of(v, 0, &n) != FIELD_OK)
        return res_fail(res, EMU_BAD_REQUEST, "%s.%s must be a whole number from -2^53 to 2^53",
                        vendor, key);
    return EMU_OK;
}

/* PUT /__admin/tenants/{id}: {"<vendor>": {settings}}; only the keys sent change, and nothing
 * does when one of them is refused. */
static int admin_tenants_update(struct req *req, struct res *res)
{
    const char *id = req_param(req, "id"), *vendor, *key;
    json_t *tenant, *settings, *changes, *value;
    int rc = store_get(req->txn, TENANTS_TABLE, id, &tenant);

    if (rc == EMU_NOT_FOUND)
        return res_fail(res, EMU_NOT_FOUND, "no tenant '%s'", id);
    if (rc != EMU_OK)
        return rc;
    settings = json_object_get(tenant, "settings");
    json_object_foreach(req->json, vendor, changes)
    {
        const struct vendor *v = vendor_find(vendor);

        if (v == NULL || v == vendors_own_api() || !json_is_object(changes)) {
            json_decref(tenant);
            return res_fail(res, EMU_BAD_REQUEST,
                            "\"%s\" is not a vendor with settings (an object is expected)", vendor);
        }
        json_object_foreach(changes, key, value)
        {
            if ((rc = check_setting(res, v, key, value)) != EMU_OK) {
                json_decref(tenant);
                return rc;
            }
        }
        if (json_object_get(settings, vendor) == NULL)
            json_object_set_new(settings, vendor, json_object());
        json_object_update(json_object_get(settings, vendor), changes);
    }
    rc = store_put(req->txn, TENANTS_TABLE, id, tenant);
    if (rc == EMU_OK)
        rc = res_json(res, 200, json_incref(tenant));
    json_decref(tenant);
    return rc;
}

/* The journal filter a request asks for, from the query string or from a JSON body. The
 * strings are read whole and live in text[] (freed by filter_free). An empty value filters
 * nothing. A filter is a filter, not a tenant selector: a tenant that no longer exists can
 * still be looked for in the journal. */
struct filter_text {
    char *text[5];
};

static void filter_free(struct filter_text *t)
{
    for (size_t i = 0; i < 5; i++)
        free(t->text[i]);
}

/* A whole number from min to max read from a query value or a JSON member (v, borrowed);
 * numeric strings count. */
static int whole_number(const json_t *v, json_int_t min, json_int_t max, json_int_t *out)
{
    return field_integer_of(v, FIELD_LENIENT, out) == FIELD_OK && *out >= min && *out <= max;
}

static int read_filter(struct req *req, struct res *res, const json_t *body, struct filter_text *t,
                       struct journal_filter *f)
{
    static const char *const names[] = {"tenant", "vendor", "method", "path", "status"};
    const char **targets[] = {&f->tenant, &f->vendor, &f->method, &f->path};
    json_t *status = NULL;
    json_int_t n;
    int rc = EMU_OK;

    memset(f, 0, sizeof(*f));
    memset(t, 0, sizeof(*t));
    for (size_t i = 0; rc == EMU_OK && i < 5; i++) {
        const char *str = NULL;
        enum field_state st;

        if (body == NULL) {
            rc = query_text(req, names[i], &t->text[i]);
            if (rc == EMU_BAD_REQUEST)
                rc = res_fail(res, EMU_BAD_REQUEST, "?%s= is not valid text", names[i]);
        } else if (i == 4) {
            status = json_incref(json_object_get(body, names[i])); /* checked below */
        } else if ((st = field_string(body, names[i], &str)) == FIELD_OK) {
            t->text[i] = strdup(str);
            rc = t->text[i] ? EMU_OK : EMU_NOMEM;
        } else if (st == FIELD_WRONG_TYPE) {
            rc = res_fail(res, EMU_BAD_REQUEST, "\"%s\" must be a string", names[i]);
        }
        if (rc == EMU_OK && t->text[i] != NULL && t->text[i][0] == '\0') {
            free(t->text[i]); /* empty: no filter */
            t->text[i] = NULL;
        }
        if (rc == EMU_OK && t->text[i] != NULL && i < 4)
            *targets[i] = t->text[i];
    }
    if (rc == EMU_OK && body == NULL && t->text[4] != NULL &&
        (status = json_string(t->text[4])) == NULL)
        rc = EMU_NOMEM;
    if (rc == EMU_OK && !field_is_empty(status)) { /* a number, or a numeric string */
        if (!whole_number(status, 100, 599, &n))
            rc =
                res_fail(res, EMU_BAD_REQUEST, "\"status\" must be an HTTP status from 100 to 599");
        else
            f->status = (int)n;
    }
    json_decref(status);
    if (rc != EMU_OK)
        filter_free(t);
    return rc;
}

/* GET /__admin/requests: the journal, oldest first; ?format=ndjson for replay files; ?limit=n
 * for the newest n. A read renders at most the journal's read budget (see journal.h). */
static int admin_requests_get(struct req *req, struct res *res)
{
    struct filter_text text;
    struct journal_filter f;
    char *format = NULL, *limit = NULL, *out = NULL;
    json_int_t n = 0;
    size_t len;
    int rc = read_filter(req, res, NULL, &text, &f);

    if (rc != EMU_OK)
        return rc;
    rc = query_text(req, "format", &format);
    if (rc == EMU_OK)
        rc = query_text(req, "limit", &limit);
    if (rc == EMU_BAD_REQUEST)
        rc = res_fail(res, EMU_BAD_REQUEST, "?format= and ?limit= must be valid text");
    if (rc == EMU_OK && limit != NULL) {
        json_t *v = json_string(limit);

        if (v == NULL || !whole_number(v, 0, (json_int_t)1 << 53, &n))
            rc = res_fail(res, EMU_BAD_REQUEST, "?limit= must be a whole number >= 0");
        json_decref(v);
    }
    if (rc == EMU_OK)
        rc = journal_render(req->app->journal, &f, (size_t)n,
                            format != NULL && strcmp(format, "ndjson") == 0, &out, &len);
    if (rc == EMU_OK)
        res_text(res, 200,
                 format != NULL && strcmp(format, "ndjson") == 0
                     ? "application/x-ndjson"
                     : "application/json; charset=utf-8",
                 out, len);
    free(format);
    free(limit);
    filter_free(&text);
    return rc;
}

static int admin_requests_delete(struct req *req, struct res *res)
{
    journal_clear(req->app->journal);
    return res_json(res, 200, json_pack("{s:b}", "cleared", 1));
}

/* POST /__admin/requests/count: {filters} -> {count, complete}. */
static int admin_requests_count(struct req *req, struct res *res)
{
    struct filter_text text;
    struct journal_filter f;
    size_t count;
    int complete, rc = read_filter(req, res, req->json, &text, &f);

    if (rc != EMU_OK)
        return rc;
    journal_count(req->app->journal, &f, &count, &complete);
    filter_free(&text);
    return res_json(res, 200,
                    json_pack("{s:I,s:b}", "count", (json_int_t)count, "complete", complete));
}

/* GET /__admin/metrics: the counters, and the journal's and the store's sizes read now. */
static int admin_metrics(struct req *req, struct res *res)
{
    size_t len, entries, bytes, used, map;
    uint64_t dropped;
    char *text;

    journal_stats(req->app->journal, &entries, &bytes, &dropped);
    store_usage(req->app->store, &used, &map);
    const struct metrics_gauge gauges[] = {
        {"understudy_journal_entries", "Requests held in the journal.", 0, entries},
        {"understudy_journal_bytes", "Bytes held in the journal.", 0, bytes},
        {"understudy_journal_dropped_total", "Journal entries dropped to stay in bounds.", 1,
         dropped},
        {"understudy_log_dropped_total", "Request log lines dropped while its writer fell behind.",
         1, req->app->reqlog ? reqlog_dropped(req->app->reqlog) : 0},
        {"understudy_store_bytes", "Bytes of the store in use.", 0, used},
        {"understudy_store_map_bytes", "The most the store can hold (--map-size).", 0, map},
    };
    text = metrics_render(req->app->metrics, gauges, sizeof(gauges) / sizeof(gauges[0]), &len);

    if (text == NULL)
        return EMU_NOMEM;
    res_text(res, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    return EMU_OK;
}

/* GET /__admin/scenarios[/{name}]: the active scenarios (or one known one) with each rule's
 * hits. */
static int admin_scenarios_get(struct req *req, struct res *res)
{
    const char *name = req_param(req, "name");
    json_t *out;
    int rc = scenarios_describe(req->app->scenarios, name, &out);

    if (rc == EMU_NOT_FOUND) {
        json_decref(out);
        return res_fail(res, EMU_NOT_FOUND, "no scenario '%s'", name);
    }
    if (rc != EMU_OK) {
        json_decref(out);
        return rc;
    }
    if (name != NULL) { /* one scenario: the object itself */
        json_t *one = json_incref(json_array_get(json_object_get(out, "scenarios"), 0));

        json_decref(out);
        out = one;
    }
    return res_json(res, 200, out);
}

/* PUT /__admin/scenarios/{name}[?tenant=]: the body is the scenario; it becomes active. */
static int admin_scenarios_put(struct req *req, struct res *res)
{
    const char *name = req_param(req, "name"), *tenant;
    char buf[ADMIN_TENANT_MAX + 1], err[600];
    json_t *doc;
    char *text;
    size_t len;
    int rc = query_tenant(req, res, 0, buf, &tenant);

    if (rc != EMU_OK)
        return rc;
    doc = json_deep_copy(req->json);
    if (doc == NULL)
        return EMU_NOMEM;
    json_object_set_new(doc, "name", json_string(name));
    text = jsonx_dump(doc, &len);
    rc = text ? scenario_check("body", text, len, doc, err, sizeof(err)) : EMU_NOMEM;
    free(text);
    if (rc == EMU_INVALID) {
        json_decref(doc);
        return res_fail(res, EMU_BAD_REQUEST, "%s", err);
    }
    if (rc == EMU_OK)
        rc = scenarios_put(req->app->scenarios, name, doc, tenant);
    json_decref(doc);
    if (rc != EMU_OK)
        return rc;
    return admin_scenarios_get(req, res);
}

/* DELETE /__admin/scenarios[/{name}][?tenant=]: deactivates; the scenario stays known. */
static int admin_scenarios_delete(struct req *req, struct res *res)
{
    const char *name = req_param(req, "name"), *tenant;
    char buf[ADMIN_TENANT_MAX + 1];
    int rc = query_tenant(req, res, 0, buf, &tenant);

    if (rc != EMU_OK)
        return rc;
    rc = scenarios_deactivate(req->app->scenarios, name, tenant);
    if (rc == EMU_NOT_FOUND)
        return res_fail(res, EMU_NOT_FOUND, "scenario '%s' is not active", name);
    return rc == EMU_OK ? res_json(res, 200, json_pack("{s:s?}", "deactivated", name)) : rc;
}

static int snapshot_name(struct req *req, struct res *res, const char **name)
{
    *name = req_param(req, "name");
    if (!snapshot_name_valid(*name))
        return res_fail(res, EMU_BAD_REQUEST,
                        "a snapshot name is 1-64 letters, digits, '.', '-' or '_'");
    return EMU_OK;
}

/* POST /__admin/snapshots/{name}: saves the whole store as name. */
static int admin_snapshot_save(struct req *req, struct res *res)
{
    const char *name;
    int rc = snapshot_name(req, res, &name);

    if (rc == EMU_OK)
        rc = snapshot_save(req->txn, name);
    return rc == EMU_OK ? res_json(res, 201, json_pack("{s:s}", "saved", name)) : rc;
}

/* POST /__admin/snapshots/{name}/restore: the store as it was; rate windows start afresh. */
static int admin_snapshot_restore(struct req *req, struct res *res)
{
    const char *name;
    int rc = snapshot_name(req, res, &name);

    if (rc == EMU_OK)
        rc = snapshot_restore(req->txn, name);
    if (rc == EMU_NOT_FOUND)
        return res_fail(res, EMU_NOT_FOUND, "no snapshot '%s'", name);
    if (rc != EMU_OK)
        return rc;
    ratelimit_clear(req->app->limits, "");
    return res_json(res, 200, json_pack("{s:s}", "restored", name));
}

static int admin_snapshot_delete(struct req *req, struct res *res)
{
    const char *name;
    int rc = snapshot_name(req, res, &name);

    if (rc == EMU_OK)
        rc = snapshot_delete(req->txn, name);
    if (rc == EMU_NOT_FOUND)
        return res_fail(res, EMU_NOT_FOUND, "no snapshot '%s'", name);
    return rc == EMU_OK ? res_json(res, 200, json_pack("{s:s}", "deleted", name)) : rc;
}

static int admin_snapshot_list(struct req *req, struct res *res)
{
    json_t *names;
    int rc = snapshot_list(req->txn, &names);

    if (rc != EMU_OK) {
        json_decref(names);
        return rc;
    }
    return res_json(res, 200, json_pack("{s:o}", "snapshots", names));
}

/* Splits "host[:port]" (len bytes) into host and port, with default_port when none is given. */
static int host_port(const char *s, size_t len, int default_port, char *host, size_t hostlen,
                     long *port)
{
    const char *colon = NULL;

    for (size_t i = len; i-- > 0 && s[i] != ']';) /* the last ':' outside an IPv6 literal */
        if (s[i] == ':') {
            colon = s + i;
            break;
        }
    *port = default_port;
    if (colon != NULL) {
        char *end;

        *port = strtol(colon + 1, &end, 10);
        if (end != s + len || colon + 1 == end)
            return 0;
        len = (size_t)(colon - s);
    }
    if (len == 0 || len >= hostlen)
        return 0;
    memcpy(host, s, len);
    host[len] = '\0';
    return 1;
}

/* A state-changing call that carries an Origin must come from the server's own origin:
 * browsers send Origin on cross-site requests, so a web page the user happens to visit cannot
 * drive the admin API, while curl and test code (no Origin) are unaffected. */
static int same_origin(const struct req *req)
{
    const char *origin = req_header(req, "Origin"), *host = req_header(req, "Host"), *rest;
    char ohost[256], hhost[256];
    long oport, hport;
    int https, dport;

    if (origin == NULL || strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)
        return 1;
    https = strncasecmp(origin, "https://", 8) == 0;
    if (!https && strncasecmp(origin, "http://", 7) != 0)
        return 0; /* "null" and other schemes are never this server */
    rest = origin + (https ? 8 : 7);
    dport = https ? 443 : 80;
    return host != NULL && host_port(rest, strlen(rest), dport, ohost, sizeof(ohost), &oport) &&
           host_port(host, strlen(host), dport, hhost, sizeof(hhost), &hport) &&
           strcasecmp(ohost, hhost) == 0 && oport == hport;
}

static int admin_authenticate(struct req *req, struct res *res)
{
    const char *want = req->app->cfg.admin_token;
    const char *auth = req_header(req, "Authorization");

    if (!same_origin(req))
        return res_fail(res, EMU_FORBIDDEN,
                        "admin calls that change state are not taken from another origin");
    if (want == NULL)
        return EMU_OK;
    if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0 || strcmp(auth + 7, want) != 0)
        return res_fail(res, EMU_UNAUTHORIZED, "admin calls need Authorization: Bearer <token>");
    return EMU_OK;
}

static void admin_reply_error(struct req *req, struct res *res, int err)
{
    const char *message = res->detail[0] ? res->detail : emu_strerror(err);

    if (err == EMU_NO_ROUTE || err == EMU_NO_METHOD) {
        res_fail(res, err, "no admin route %s %s", req->method, req->path);
        message = res->detail;
    }
    res_json(res, emu_http_status(err),
             json_pack("{s:{s:s,s:s}}", "error", "code", emu_errname(err), "message", message));
}

static const char *const admin_prefixes[] = {"/__admin", NULL};

/* clang-format off */
static const struct route admin_routes_table[] = {
    /* method  path                 handler            flags */
    {"GET",  "/__admin/health", admin_health,    0},
    {"GET",  "/__admin/ready",  admin_ready,     0},
    {"POST", "/__admin/reset",  admin_reset,     ROUTE_AUTH | ROUTE_WRITE},
    {"GET",  "/__admin/routes", admin_routes,    ROUTE_AUTH},
    {"GET",  "/__admin/clock",  admin_clock_get, ROUTE_AUTH},
    {"POST", "/__admin/clock",  admin_clock_set, ROUTE_AUTH | ROUTE_JSON},
    {"GET",    "/__admin/outbox",       admin_outbox_get,     ROUTE_AUTH},
    {"DELETE", "/__admin/outbox",       admin_outbox_delete,  ROUTE_AUTH | ROUTE_WRITE},
    {"GET",    "/__admin/tenants",      admin_tenants_list,   ROUTE_AUTH},
    {"POST",   "/__admin/tenants",      admin_tenants_create, ROUTE_AUTH | ROUTE_JSON | ROUTE_WRITE},
    {"GET",    "/__admin/tenants/{id}", admin_tenants_get,    ROUTE_AUTH},
    {"PUT",    "/__admin/tenants/{id}", admin_tenants_update, ROUTE_AUTH | ROUTE_JSON | ROUTE_WRITE},
    {"DELETE", "/__admin/tenants/{id}", admin_tenants_delete, ROUTE_AUTH | ROUTE_WRITE},
    {"GET",    "/__admin/snapshots",    admin_snapshot_list,  ROUTE_AUTH},
    {"GET",    "/__admin/scenarios",        admin_scenarios_get,    ROUTE_AUTH},
    {"DELETE", "/__admin/scenarios",        admin_scenarios_delete, ROUTE_AUTH},
    {"GET",    "/__admin/scenarios/{name}", admin_scenarios_get,    ROUTE_AUTH},
    {"PUT",    "/__admin/scenarios/{name}", admin_scenarios_put,    ROUTE_AUTH | ROUTE_JSON},
    {"DELETE", "/__admin/scenarios/{name}", admin_scenarios_delete, ROUTE_AUTH},
    {"GET",    "/__admin/requests",       admin_requests_get,    ROUTE_AUTH},
    {"DELETE", "/__admin/requests",       admin_requests_delete, ROUTE_AUTH},
    {"POST",   "/__admin/requests/count", admin_requests_count,  ROUTE_AUTH | ROUTE_JSON},
    {"GET",    "/__admin/metrics",        admin_metrics,         ROUTE_AUTH},
    {"POST",   "/__admin/snapshots/{name}", admin_snapshot_save, ROUTE_AUTH | ROUTE_WRITE},
    {"POST",   "/__admin/snapshots/{name}/restore", admin_snapshot_restore, ROUTE_AUTH | ROUTE_WRITE},
    {"DELETE", "/__admin/snapshots/{name}", admin_snapshot_delete, ROUTE_AUTH | ROUTE_WRITE},
    {0},
};
/* clang-format on */

const struct vendor vendor_admin = {
    .name = "admin",
    .prefixes = admin_prefixes,
    .routes = admin_routes_table,
    .authenticate = admin_authenticate,
    .reply_error = admin_reply_error,
};
