/* account.c -- RASL's account: information, usage and plan limits.
 *
 * Each tenant has one account row (fixtures/rasl/account.json): the account, its subscription,
 * its plan's limits and features, and the usage the API cannot change (conversations this
 * month, campaigns, staff). Contact usage is counted from the tenant's real contacts, and the
 * API rate is the calling token's own. A limit of -1 means unlimited. */
#include "rasl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "jsonx.h"
#include "req.h"
#include "store.h"

static const struct {
    const char *feature;
    const char *label;
} plan_features[] = {
    {"contacts", "Total Contacts"},
    {"conversations", "Conversations per Month"},
    {"campaigns", "Active Campaigns"},
    {"staff", "Team Members"},
};

int rasl_account_row(struct req *req, json_t **out)
{
    char key[96];
    int rc;

    snprintf(key, sizeof(key), "%s/account", req->tenant);
    rc = store_get(req->txn, RASL_ACCOUNT, key, out);
    return rc;
}

static int account_or_fail(struct req *req, struct res *res, json_t **out)
{
    int rc = rasl_account_row(req, out);

    return rc == EMU_NOT_FOUND ? rasl_fail(res, "NOT_FOUND", "Account not found.", NULL) : rc;
}

int rasl_account_get(struct req *req, struct res *res)
{
    json_t *account, *data;
    int rc = account_or_fail(req, res, &account);

    if (rc != EMU_OK)
        return rc;
    data = json_pack("{s:O,s:O,s:O,s:O,s:O,s:O}", "id", json_object_get(account, "id"), "name",
                     json_object_get(account, "name"), "subdomain",
                     json_object_get(account, "subdomain"), "status",
                     json_object_get(account, "status"), "created_at",
                     json_object_get(account, "created_at"), "subscription",
                     json_object_get(account, "subscription"));
    json_decref(account);
    return rasl_reply(req, res, 200, data, "Account information retrieved successfully");
}

/* The tenant's current use of feature: contacts are counted, the rest come from the account. */
static int current_use(struct req *req, const json_t *account, const char *feature, long *out)
{
    *out = 0;
    if (strcmp(feature, "contacts") == 0)
        return rasl_count(req, RASL_CONTACTS, out);
    *out = (long)json_integer_value(json_object_get(json_object_get(account, "usage"), feature));
    return EMU_OK;
}

int rasl_account_usage(struct req *req, struct res *res)
{
    json_t *account, *data = json_object();
    int rc = account_or_fail(req, res, &account);

    for (size_t i = 0; rc == EMU_OK && i < sizeof(plan_features) / sizeof(plan_features[0]); i++) {
        long current, limit;

        rc = current_use(req, account, plan_features[i].feature, &current);
        limit = (long)json_integer_value(
            json_object_get(json_object_get(account, "limits"), plan_features[i].feature));
        if (rc == EMU_OK)
            json_object_set_new(
                data, plan_features[i].feature,
                json_pack(
                    "{s:i,s:i,s:i,s:f,s:b}", "current", (int)current, "limit", (int)limit,
                    "remaining", limit < 0 ? -1 : (int)(limit > current ? limit - current : 0),
                    "percentage_used", limit <= 0 ? 0.0 : round(current * 10000.0 / limit) / 100.0,
                    "is_unlimited", limit < 0));
    }
    json_decref(account);
    if (rc != EMU_OK) {
        json_decref(data);
        return rc;
    }
    return rasl_reply(req, res, 200, data, "Usage statistics retrieved successfully");
}

int rasl_account_limits(struct req *req, struct res *res)
{
    json_t *account, *limits = json_object(), *per, *data;
    int rc = account_or_fail(req, res, &account);
    json_int_t api;

    if (rc != EMU_OK) {
        json_decref(limits);
        return rc;
    }
    for (size_t i = 0; i < sizeof(plan_features) / sizeof(plan_features[0]); i++) {
        json_int_t limit = json_integer_value(
            json_object_get(json_object_get(account, "limits"), plan_features[i].feature));

        json_object_set_new(limits, plan_features[i].feature,
                            json_pack("{s:I,s:s,s:b}", "limit", limit, "feature_name",
                                      plan_features[i].label, "is_unlimited", limit < 0));
    }
    per = json_object_get(req->credential, "rate_limit_per_minute");
    api = json_is_integer(per) ? json_integer_value(per) : -1;
    json_object_set_new(limits, "api_calls_per_minute",
                        json_pack("{s:I,s:s,s:b}", "limit", api, "feature_name",
                                  "API Calls per Minute", "is_unlimited", api < 0));
    data =
        json_pack("{s:o,s:O}", "limits", limits, "features", json_object_get(account, "features"));
    json_decref(account);
    return rasl_reply(req, res, 200, data, "Plan limits retrieved successfully");
}

int rasl_account_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                         const char **field, char *msg, size_t msglen)
{
    static const char *const objects[] = {"subscription", "limits", "features", "usage"};
    int64_t at;

    if (index > 0) {
        *field = NULL;
        snprintf(msg, msglen, "a tenant has one account: a second row");
        return EMU_INVALID;
    }
    if (!json_is_integer(json_object_get(row, "id"))) {
        *field = "id";
        snprintf(msg, msglen, "\"id\" must be a whole number");
        return EMU_INVALID;
    }
    if (clock_parse_rfc3339(jsonx_string(row, "created_at"), &at) != EMU_OK) {
        *field = "created_at";
        snprintf(msg, msglen, "\"created_at\" must be an RFC 3339 instant");
        return EMU_INVALID;
    }
    for (size_t i = 0; i < 4; i++) {
        if (!json_is_object(json_object_get(row, objects[i]))) {
            *field = objects[i];
            snprintf(msg, msglen, "\"%s\" must be an object", objects[i]);
            return EMU_INVALID;
        }
    }
    snprintf(key, keylen, "account");
    return EMU_OK;
}
