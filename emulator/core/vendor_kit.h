/* vendor_kit.h -- what every vendor's scaffolding shares: the error-catalogue type, the credential
 * lookup, the rate-limit answer, tenant settings, the "store is full" sentence and id sequences.
 *
 * A vendor builds its authentication and error bodies from these, so the three vendors (and a
 * fourth) differ only in what really differs on the wire. */
#ifndef EMU_VENDOR_KIT_H
#define EMU_VENDOR_KIT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct req;
struct res;
struct store_txn;
struct vendor;

/* One entry of a vendor's error catalogue: what one documented failure looks like on the wire.
 * A catalogue is a const array of these ending with {0}; entries are addressable by name (what
 * res_vendor_fail and injected scenario errors name), so an injected error renders exactly as a
 * real one. */
struct vendor_error {
    const char *name;    /* the catalogue key: "NOT_FOUND", "Bad Request", "Status not found" */
    int http;            /* the HTTP status of the answer */
    const char *code;    /* the vendor's code in the body when it is not the name ("6069"), or
                          * NULL; an entry is also found by its code */
    const char *message; /* the default sentence, for failures that carry none of their own */
    unsigned answers;    /* the core's codes this entry renders: VENDOR_ANSWERS(EMU_...) | ...;
                          * VENDOR_OTHERWISE marks the entry for any other code */
};

#define VENDOR_ANSWERS(err) (1u << -(err)) /* err: an EMU_* code, 0 to -19 */
#define VENDOR_OTHERWISE    (1u << 31)

/* The entry of catalogue whose name or code is name exactly, or NULL. */
const struct vendor_error *vendor_error_find(const struct vendor_error *catalogue,
                                             const char *name);
/* The entry that renders err: with EMU_VENDOR, the one res->vendor_error names; otherwise the
 * first entry whose answers list err; failing both, the VENDOR_OTHERWISE entry (NULL only when
 * the catalogue has none). */
const struct vendor_error *vendor_error_for(const struct vendor_error *catalogue, int err,
                                            const struct res *res);

/* Writes the sentence every vendor gives when a write finds the store full into out: after
 * lead (the vendor's own opening, "" for none: the sentence then starts with a capital) and
 * followed by end ("" or "."). */
void vendor_store_full(char *out, size_t len, const char *lead, const char *end);

/* Finds the credential of vendor v whose secret (its credential_field) is secret. EMU_OK with
 * req->credential set (a new reference the request owns), EMU_UNAUTHORIZED when no tenant has
 * it, or the store's error. The tenant is not taken yet: see vendor_tenant_take. */
int vendor_credential_find(struct req *req, const struct vendor *v, const char *secret);
/* Makes the tenant of req->credential the request's tenant (req->tenant). */
void vendor_tenant_take(struct req *req);
/* Counts the request against its credential's window (a credential of vendor v), keyed by
 * tenant, vendor, the credential's secret and bucket (NULL for one window per credential;
 * "read" and "write" keep two), and answers as ratelimit_answer does (headers: enum
 * ratelimit_headers). */
int vendor_rate_limit(struct req *req, struct res *res, const struct vendor *v, const char *bucket,
                      int64_t window_ms, int limit, unsigned headers);
/* The request tenant's settings for vendor v (tenant row "settings"."<vendor>"): *out is a new
 * object, empty when there are none. */
int vendor_settings(struct req *req, const struct vendor *v, json_t **out);
/* Makes the named id sequence of tenant's data start again, so the next id is max + 1 (a
 * reseeded tenant numbers from its fixtures again, as a fresh one would). For after_seed. */
int vendor_seq_restart(struct store_txn *txn, const char *name, uint64_t max);

#endif
