/* vendor_kit.c -- the pieces every vendor's scaffolding shares (vendor_kit.h). */
#include "vendor_kit.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "ratelimit.h"
#include "req.h"
#include "store.h"
#include "tables.h"
#include "vendors.h"

/* ---- error catalogues ---- */

const struct vendor_error *vendor_error_find(const struct vendor_error *catalogue, const char *name)
{
    if (name == NULL)
        return NULL;
    for (const struct vendor_error *e = catalogue; e->name != NULL; e++)
        if (strcmp(e->name, name) == 0 || (e->code != NULL && strcmp(e->code, name) == 0))
            return e;
    return NULL;
}

const struct vendor_error *vendor_error_for(const struct vendor_error *catalogue, int err,
                                            const struct res *res)
{
    const struct vendor_error *e = NULL;

    if (err == EMU_VENDOR)
        e = vendor_error_find(catalogue, res->vendor_error);
    for (const struct vendor_error *c = catalogue; e == NULL && c->name != NULL; c++)
        if (err <= 0 && err > -31 && (c->answers & VENDOR_ANSWERS(err)) != 0)
            e = c;
    for (const struct vendor_error *c = catalogue; e == NULL && c->name != NULL; c++)
        if (c->answers & VENDOR_OTHERWISE)
            e = c;
    return e;
}

void vendor_store_full(char *out, size_t len, const char *lead, const char *end)
{
    int n = snprintf(out, len, "%sthe emulator's store is full (--map-size); reads still work%s",
                     lead, end);

    if (lead[0] == '\0' && n > 0 && len > 0)
        out[0] = (char)toupper((unsigned char)out[0]);
}

/* ---- credentials, tenants, rate limits ---- */

int vendor_credential_find(struct req *req, const struct vendor *v, const char *secret)
{
    char key[600];
    json_t *cred = NULL;
    int rc;

    if ((size_t)snprintf(key, sizeof(key), "%s/%s", v->name, secret) >= sizeof(key))
        return EMU_UNAUTHORIZED; /* longer than any credential can be */
    rc = store_get(req->txn, CREDENTIALS_TABLE, key, &cred);
    if (rc == EMU_NOT_FOUND)
        return EMU_UNAUTHORIZED;
    if (rc != EMU_OK)
        return rc;
    json_decref(req->credential);
    req->credential = cred;
    return EMU_OK;
}

void vendor_tenant_take(struct req *req)
{
    const char *tenant = jsonx_string(req->credential, "tenant");

    snprintf(req->tenant, sizeof(req->tenant), "%s", tenant ? tenant : "");
}

int vendor_rate_limit(struct req *req, struct res *res, const struct vendor *v, const char *bucket,
                      int64_t window_ms, int limit, unsigned headers)
{
    const char *secret = jsonx_string(req->credential, v->credential_field);
    char key[800];

    snprintf(key, sizeof(key), "%s/%s/%s%s%s", req->tenant, v->name, secret ? secret : "",
             bucket ? "/" : "", bucket ? bucket : "");
    return ratelimit_answer(req, res, key, window_ms, limit, headers);
}

int vendor_settings(struct req *req, const struct vendor *v, json_t **out)
{
    json_t *tenant = NULL, *settings;
    int rc = store_get(req->txn, TENANTS_TABLE, req->tenant, &tenant);

    *out = NULL;
    if (rc != EMU_OK && rc != EMU_NOT_FOUND)
        return rc;
    settings = json_object_get(json_object_get(tenant, "settings"), v->name);
    *out = json_is_object(settings) ? json_incref(settings) : json_object();
    json_decref(tenant);
    return *out ? EMU_OK : EMU_NOMEM;
}

int vendor_seq_restart(struct store_txn *txn, const char *name, uint64_t max)
{
    char key[300];

    snprintf(key, sizeof(key), "seq/%s", name); /* where store_seq_* keep a sequence */
    if (store_del(txn, META_TABLE, key) == EMU_STORE)
        return EMU_STORE;
    return store_seq_raise(txn, name, max);
}
