/* outbox.c -- the outbox table: append, read back in order, clear. */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "store.h"

int outbox_add(struct store_txn *txn, const char *tenant, const char *list, const json_t *entry)
{
    char key[128];

    return outbox_add_keyed(txn, tenant, list, entry, key);
}

int outbox_add_keyed(struct store_txn *txn, const char *tenant, const char *list,
                     const json_t *entry, char key[128])
{
    json_t *row = json_deep_copy(entry);
    uint64_t seq;
    int rc;

    if (row == NULL)
        return EMU_NOMEM;
    rc = store_seq_next(txn, "outbox", &seq);
    if (rc == EMU_OK) {
        json_object_set_new(row, "seq", json_integer((json_int_t)seq));
        json_object_set_new(row, "list", json_string(list));
        snprintf(key, 128, "%s/%020llu", tenant, (unsigned long long)seq);
        rc = store_put(txn, OUTBOX_TABLE, key, row);
    }
    json_decref(row);
    return rc;
}

struct reading {
    const struct outbox_query *q;
    size_t limit;
    json_t *rows;  /* matching entries, at most 2 * limit before a trim */
    int more;      /* entries past the limit were seen */
    int raw_phone; /* 1: the phone is written as it is in stored JSON (nothing to escape) */
};

static int by_seq(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "seq"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "seq"));

    return x < y ? -1 : x > y;
}

/* Sorts rows by seq and keeps the first limit; *more is set when any were dropped. */
static int keep_oldest(json_t *rows, size_t limit, int *more)
{
    size_t n = json_array_size(rows);
    json_t **items;

    if (n == 0)
        return EMU_OK;
    items = malloc(sizeof(*items) * n);
    if (items == NULL)
        return EMU_NOMEM;
    for (size_t i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(rows, i));
    qsort(items, n, sizeof(*items), by_seq);
    json_array_clear(rows);
    for (size_t i = 0; i < n; i++) {
        if (i < limit)
            json_array_append(rows, items[i]);
        json_decref(items[i]);
    }
    if (n > limit)
        *more = 1;
    free(items);
    return EMU_OK;
}

/* Keys are "<tenant>/<seq:020>": within a tenant, the scan meets entries oldest first. */
static int collect(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    struct reading *r = arg;
    const char *phone = r->q->phone;
    unsigned long long seq = klen > 20 ? strtoull(key + klen - 20, NULL, 10) : 0;
    json_t *doc;

    if (seq <= r->q->after)
        return 0;
    if (phone != NULL && r->raw_phone && memmem(val, vlen, phone, strlen(phone)) == NULL)
        return 0; /* cannot be to this phone: not parsed */
    doc = json_loadb(val, vlen, 0, NULL);
    if (doc == NULL)
        return EMU_STORE;
    if (phone != NULL &&
        (jsonx_string(doc, "phone") == NULL || strcmp(jsonx_string(doc, "phone"), phone) != 0)) {
        json_decref(doc);
        return 0;
    }
    if (r->q->tenant != NULL && json_array_size(r->rows) == r->limit) {
        json_decref(doc); /* one tenant's entries come in order: the page is full */
        r->more = 1;
        return 1;
    }
    if (json_array_append_new(r->rows, doc) != 0)
        return EMU_NOMEM;
    /* every tenant: tenants come one after another, so keep the oldest limit as it goes */
    return json_array_size(r->rows) >= 2 * r->limit ? keep_oldest(r->rows, r->limit, &r->more) : 0;
}

int outbox_read(struct store_txn *txn, const struct outbox_query *q, json_t **out)
{
    struct reading r = {q, q->limit == 0 || q->limit > OUTBOX_READ_MAX ? OUTBOX_READ_MAX : q->limit,
                        json_array(), 0};
    json_t *messages = json_array(), *webhooks = json_array(), *row;
    char prefix[80];
    size_t i;
    int rc;

    r.raw_phone = q->phone != NULL && strpbrk(q->phone, "\"\\") == NULL &&
                  jsonx_utf8_valid(q->phone, strlen(q->phone));
    for (const char *p = q->phone; r.raw_phone && *p; p++)
        r.raw_phone = (unsigned char)*p >= 0x20;
    snprintf(prefix, sizeof(prefix), "%s%s", q->tenant ? q->tenant : "", q->tenant ? "/" : "");
    rc = r.rows && messages && webhooks ? store_scan_raw(txn, OUTBOX_TABLE, prefix, collect, &r)
                                        : EMU_NOMEM;
    if (rc == EMU_OK)
        rc = keep_oldest(r.rows, r.limit, &r.more);
    json_array_foreach(r.rows, i, row)
    {
        int webhook = strcmp(jsonx_string(row, "list"), "webhooks") == 0;

        if (rc != EMU_OK)
            break;
        json_object_del(row, "list");
        json_array_append(webhook ? webhooks : messages, row);
    }
    json_decref(r.rows);
    if (rc != EMU_OK) {
        json_decref(messages);
        json_decref(webhooks);
        return rc;
    }
    *out = json_pack("{s:o,s:o}", "messages", messages, "webhooks", webhooks);
    if (*out != NULL && r.more)
        json_object_set_new(*out, "truncated", json_true());
    return *out ? EMU_OK : EMU_NOMEM;
}

int outbox_clear(struct store_txn *txn, const char *tenant)
{
    char prefix[80];

    snprintf(prefix, sizeof(prefix), "%s%s", tenant ? tenant : "", tenant ? "/" : "");
    return store_del_prefix(txn, OUTBOX_TABLE, prefix);
}
