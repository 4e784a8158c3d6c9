/* vendors.h -- the vendor interface: what one emulated vendor hands to the core, and the registry
 * of them all (the kit vendors build on is vendor_kit.h).
 *
 * A vendor is a directory under vendors/ that exports one const struct vendor. The core knows
 * vendors only through this descriptor: their path space, route table, store tables and how
 * their fixtures map to keys, how they authenticate, and how their error bodies look. A vendor
 * knows the core only through the kit below: its error catalogue as a table, the credential
 * lookup, the rate limit on a credential, the tenant's settings and the store-full sentence. */
#ifndef EMU_VENDORS_H
#define EMU_VENDORS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct req;
struct res;
struct route;
struct store_index;
struct store_txn;

/* ---- the descriptor ---- */

/* A store table a vendor owns, and how its fixture rows become documents. */
struct table_def {
    const char *name;    /* store table, "guayaba.contacts" */
    const char *fixture; /* file under fixtures/<vendor>/, "contacts.json"; NULL: not seeded */
    /* Checks one fixture row (the index-th of its tenant's array) and writes its key, without
     * the tenant prefix, into key. On a bad row returns EMU_INVALID with a sentence in msg and,
     * in *field, the row's member at fault (NULL for the row itself). NULL when the table is not
     * seeded from fixtures. */
    int (*row_key)(const json_t *row, size_t index, char *key, size_t keylen, const char **field,
                   char *msg, size_t msglen);
};

/* How a vendor's framework reads a request body into req->json (routes with ROUTE_JSON). */
enum vendor_body {
    VENDOR_BODY_JSON = 0, /* JSON whatever the Content-Type; bad JSON is an error (the admin API) */
    VENDOR_BODY_EXPRESS,  /* Express's JSON parser: a JSON Content-Type only, a BOM skipped */
    VENDOR_BODY_LARAVEL,  /* JSON, urlencoded and multipart forms; undecodable JSON is no input */
    VENDOR_BODY_PARAMS,   /* flat parameters of the query, a form or JSON: the vendor reads them */
};

/* A per-tenant setting a vendor reads (PUT /__admin/tenants/{id} changes it at run time). */
struct setting_def {
    const char *name; /* "webhook_secret" */
    json_type type;   /* JSON_STRING, JSON_INTEGER or JSON_TRUE (a boolean) */
    int nullable;     /* 1: null is allowed (the setting is unset) */
};

struct vendor {
    const char *name;               /* "guayaba": in logs, fixtures/<name>/, /__admin */
    const char *const *prefixes;    /* path prefixes it owns, NULL-ended; "" = all other paths */
    const struct route *routes;     /* ends with {0} */
    const struct table_def *tables; /* ends with {0} */
    /* Secondary indexes on those tables (store.h), NULL-ended; NULL: none. */
    const struct store_index *const *indexes;
    const char *credential_field; /* the secret's member in a credential row: "api_key" */
    /* Checks one credential row of fixtures/tenants.json; like table_def.row_key's contract. */
    int (*check_credential)(const json_t *cred, const char **field, char *msg, size_t msglen);
    /* Finds the tenant behind the request's credential, applies rate limits; sets req->tenant,
     * req->credential and any headers. Returns EMU_OK or the error to render. */
    int (*authenticate)(struct req *req, struct res *res);
    /* Shapes the error body for err (EMU_VENDOR: res->vendor_error names a catalogue entry),
     * keeping any headers already set. */
    void (*reply_error)(struct req *req, struct res *res, int err);
    /* 1 when name is an entry of the vendor's error catalogue (what scenarios may inject). */
    int (*has_error)(const char *name);
    /* The credentials a tenant made at run time gets when none are given: a new array of
     * credential rows named after the tenant (wm_t1_full, cv_t1_token, gua_t1_key, ...). */
    json_t *(*default_credentials)(const char *tenant);
    enum vendor_body body; /* how request bodies are read */
    /* Optional: the settings the vendor reads, NULL-ended; others are refused when set. */
    const struct setting_def *settings;
    /* Optional: rebuilds derived data (indexes) of one tenant after its fixtures were seeded. */
    int (*after_seed)(struct store_txn *txn, const char *tenant);
};

/* The registry: the vendors the core serves, set once by main before any thread starts (the list
 * itself is vendor_list.c's). The core names no vendor: it reaches each through this list. */

/* Registers list (NULL-ended, static) and, among them, the emulator's own API (own: not
 * journaled, never answered by a scenario, and the shape of errors on paths no one owns). */
void vendors_register(const struct vendor *const *list, const struct vendor *own);
/* Every registered vendor, NULL-ended: the emulated ones and the emulator's own API. */
const struct vendor *const *vendors_all(void);
/* The emulator's own API, as registered. */
const struct vendor *vendors_own_api(void);
/* Returns the vendor called name, or NULL. */
const struct vendor *vendor_find(const char *name);

/* Every store table: the core's (tenants, credentials, outbox, snapshots) and every registered
 * vendor's, NULL-ended; listed again by each vendors_register. */
const char *const *vendors_store_tables(void);
/* Every registered vendor's store indexes, NULL-ended; listed again by each vendors_register. */
const struct store_index *const *vendors_store_indexes(void);

#endif
