/* campaigns.c -- GET /campaigns, campaign lookups, and splitters choosing a campaign.
 *
 * A campaign is stored as {id, name, status, appointmentScheduling, createdAt}; the API shows
 * {id, name, status}. Lists are newest first. A splitter spreads contacts over its campaigns in
 * turn; where it is in the turn is part of its stored row, so it survives restarts and resets
 * with the rest of the data. */
#include "guayaba.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "err.h"
#include "jsonx.h"
#include "req.h"
#include "store.h"

/* The longest search text; a longer one is refused, never cut. */
#define SEARCH_MAX_BYTES 255

struct campaign_filter {
    const char *status; /* NULL for any; borrowed from the query */
    const char *search; /* NULL for any; borrowed from the query */
    json_t *hits;       /* the matching campaigns, as stored */
};

static int collect_campaign(const char *key, json_t *doc, void *arg)
{
    struct campaign_filter *f = arg;
    const char *name = jsonx_string(doc, "name"), *status = jsonx_string(doc, "status");

    (void)key;
    if (f->status && (status == NULL || strcmp(f->status, status) != 0))
        return 0;
    if (f->search && (name == NULL || strcasestr(name, f->search) == NULL))
        return 0;
    return json_array_append(f->hits, doc) == 0 ? 0 : EMU_NOMEM;
}

/* Newest first; the id breaks ties so the order never depends on the store's. */
static int newest_first(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c = strcmp(jsonx_string(y, "createdAt"), jsonx_string(x, "createdAt"));

    return c ? c : strcmp(jsonx_string(x, "id"), jsonx_string(y, "id"));
}

static int read_filter(struct res *res, const json_t *query, struct campaign_filter *f)
{
    int rc = guayaba_query_string(res, query, "status", &f->status);

    if (rc == EMU_OK && f->status != NULL && f->status[0] == '\0')
        f->status = NULL; /* "?status=" filters nothing */
    if (rc == EMU_OK && f->status != NULL && strcmp(f->status, "active") != 0 &&
        strcmp(f->status, "paused") != 0)
        rc = res_fail(res, EMU_BAD_REQUEST, "status must be one of: active, paused");
    if (rc == EMU_OK)
        rc = guayaba_query_string(res, query, "search", &f->search);
    if (rc == EMU_OK && f->search != NULL && strlen(f->search) > SEARCH_MAX_BYTES)
        rc = res_fail(res, EMU_BAD_REQUEST, "search is too long");
    if (rc == EMU_OK && f->search != NULL && f->search[0] == '\0')
        f->search = NULL;
    return rc;
}

int guayaba_campaigns_list(struct req *req, struct res *res)
{
    struct campaign_filter f = {NULL, NULL, json_array()};
    char prefix[80];
    int limit = 10, rc;
    json_int_t page = 1;
    uint64_t first;
    size_t total;
    json_t **items = NULL, *data = NULL, *query = NULL;

    rc = f.hits != NULL ? guayaba_query(req, res, &query) : EMU_NOMEM;
    if (rc == EMU_OK)
        rc = guayaba_paging(res, query, 10, &page, &limit);
    if (rc == EMU_OK)
        rc = read_filter(res, query, &f);
    snprintf(prefix, sizeof(prefix), "%s/", req->tenant);
    if (rc == EMU_OK)
        rc = store_scan(req->txn, GUAYABA_CAMPAIGNS, prefix, collect_campaign, &f);
    total = json_array_size(f.hits);
    if (rc == EMU_OK && (data = json_array()) == NULL)
        rc = EMU_NOMEM;
    if (rc == EMU_OK && total > 0) {
        items = malloc(sizeof(*items) * total);
        if (items == NULL)
            rc = EMU_NOMEM;
        for (size_t i = 0; items != NULL && i < total; i++)
            items[i] = json_array_get(f.hits, i);
        if (items != NULL)
            qsort(items, total, sizeof(*items), newest_first);
    }
    /* page is at most 2^53 and limit 100, so the product fits in 64 bits */
    first = (uint64_t)(page - 1) * (uint64_t)limit;
    for (uint64_t n = first; rc == EMU_OK && n < total && n < first + (uint64_t)limit; n++)
        json_array_append_new(data,
                              json_pack("{s:O,s:O,s:O}", "id", json_object_get(items[n], "id"),
                                        "name", json_object_get(items[n], "name"), "status",
                                        json_object_get(items[n], "status")));
    free(items);
    json_decref(f.hits);
    json_decref(query); /* f's strings were borrowed from it */
    if (rc != EMU_OK) {
        json_decref(data);
        return rc;
    }
    return res_json(res, 200,
                    json_pack("{s:o,s:{s:I,s:I,s:I,s:i}}", "data", data, "pagination", "total",
                              (json_int_t)total, "totalPages",
                              (json_int_t)((total + (size_t)limit - 1) / (size_t)limit),
                              "currentPage", page, "limit", limit));
}

int guayaba_campaigns_find(struct req *req, const char *id, json_t **out)
{
    char key[128];

    snprintf(key, sizeof(key), "%s/%s", req->tenant, id);
    return store_get(req->txn, GUAYABA_CAMPAIGNS, key, out);
}

int guayaba_splitters_pick(struct req *req, const char *id, char out[37], char admin[37])
{
    char key[128];
    json_t *splitter, *campaigns;
    size_t n, next;
    int rc;

    snprintf(key, sizeof(key), "%s/%s", req->tenant, id);
    rc = store_get(req->txn, GUAYABA_SPLITTERS, key, &splitter);
    if (rc != EMU_OK)
        return rc;
    campaigns = json_object_get(splitter, "campaignIds");
    n = json_array_size(campaigns);
    next = (size_t)json_integer_value(json_object_get(splitter, "next"));
    if (n == 0) {
        json_decref(splitter);
        return EMU_NOT_FOUND;
    }
    snprintf(out, 37, "%s", json_string_value(json_array_get(campaigns, next % n)));
    snprintf(admin, 37, "%s", jsonx_string(splitter, "adminId"));
    json_object_set_new(splitter, "next", json_integer((json_int_t)((next + 1) % n)));
    rc = store_put(req->txn, GUAYABA_SPLITTERS, key, splitter);
    json_decref(splitter);
    return rc;
}

static int need_uuid(const json_t *row, const char *name, const char **field, char *msg,
                     size_t msglen)
{
    if (jsonx_is_uuid(jsonx_string(row, name)))
        return EMU_OK;
    *field = name;
    snprintf(msg, msglen, "\"%s\" must be a UUID", name);
    return EMU_INVALID;
}

int guayaba_campaign_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                             const char **field, char *msg, size_t msglen)
{
    (void)index; /* keys come from the row itself */
    const char *status = jsonx_string(row, "status");
    json_t *appt = json_object_get(row, "appointmentScheduling");
    int64_t at;

    if (need_uuid(row, "id", field, msg, msglen) != EMU_OK)
        return EMU_INVALID;
    if (jsonx_string(row, "name") == NULL) {
        *field = "name";
        snprintf(msg, msglen, "\"name\" must be a string");
        return EMU_INVALID;
    }
    if (status == NULL || (strcmp(status, "active") != 0 && strcmp(status, "paused") != 0)) {
        *field = "status";
        snprintf(msg, msglen, "\"status\" must be \"active\" or \"paused\"");
        return EMU_INVALID;
    }
    if (appt != NULL && !json_is_boolean(appt)) {
        *field = "appointmentScheduling";
        snprintf(msg, msglen, "\"appointmentScheduling\" must be true or false");
        return EMU_INVALID;
    }
    if (clock_parse_rfc3339(jsonx_string(row, "createdAt"), &at) != EMU_OK) {
        *field = "createdAt";
        snprintf(msg, msglen, "\"createdAt\" must be an RFC 3339 instant");
        return EMU_INVALID;
    }
    snprintf(key, keylen, "%s", jsonx_string(row, "id"));
    return EMU_OK;
}

int guayaba_splitter_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                             const char **field, char *msg, size_t msglen)
{
    (void)index; /* keys come from the row itself */
    json_t *ids = json_object_get(row, "campaignIds"), *id;
    size_t i;

    if (need_uuid(row, "id", field, msg, msglen) != EMU_OK ||
        need_uuid(row, "adminId", field, msg, msglen) != EMU_OK)
        return EMU_INVALID;
    if (!json_is_array(ids) || json_array_size(ids) == 0) {
        *field = "campaignIds";
        snprintf(msg, msglen, "\"campaignIds\" must be a non-empty array of campaign ids");
        return EMU_INVALID;
    }
    json_array_foreach(ids, i, id)
    {
        if (!jsonx_is_uuid(json_string_value(id))) {
            *field = "campaignIds";
            snprintf(msg, msglen, "\"campaignIds\" must hold UUIDs only");
            return EMU_INVALID;
        }
    }
    snprintf(key, keylen, "%s", jsonx_string(row, "id"));
    return EMU_OK;
}
