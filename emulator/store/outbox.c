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
    const char *phone;
    json_t *rows;
};

static int collect(const char *key, json_t *doc, void *arg)
{
    struct reading *r = arg;
    const char *phone = jsonx_string(doc, "phone");

    (void)key;
    if (r->phone != NULL && (phone == NULL || strcmp(phone, r->phone) != 0))
        return 0;
    return json_array_append(r->rows, doc) == 0 ? 0 : EMU_NOMEM;
}

static int by_seq(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "seq"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "seq"));

    return x < y ? -1 : x > y;
}

int outbox_read(struct store_txn *txn, const char *tenant, const char *phone, json_t **out)
{
    struct reading r = {phone, json_array()};
    json_t **items, *messages = json_array(), *webhooks = json_array();
    char prefix[80];
    size_t n;
    int rc;

    snprintf(prefix, sizeof(prefix), "%s%s", tenant ? tenant : "", tenant ? "/" : "");
    rc = r.rows && messages && webhooks ? store_scan(txn, OUTBOX_TABLE, prefix, collect, &r)
                                        : EMU_NOMEM;
    n = json_array_size(r.rows);
    items = rc == EMU_OK && n > 0 ? malloc(sizeof(*items) * n) : NULL;
    if (rc == EMU_OK && n > 0 && items == NULL)
        rc = EMU_NOMEM;
    if (rc == EMU_OK && n > 0) { /* keys sort by tenant first: put the tenants' rows in seq order */
        for (size_t i = 0; i < n; i++)
            items[i] = json_array_get(r.rows, i);
        qsort(items, n, sizeof(*items), by_seq);
        for (size_t i = 0; i < n; i++) {
            json_t *row = json_deep_copy(items[i]);
            int webhook = strcmp(jsonx_string(row, "list"), "webhooks") == 0;

            json_object_del(row, "list");
            json_array_append_new(webhook ? webhooks : messages, row);
        }
    }
    free(items);
    json_decref(r.rows);
    if (rc != EMU_OK) {
        json_decref(messages);
        json_decref(webhooks);
        return rc;
    }
    *out = json_pack("{s:o,s:o}", "messages", messages, "webhooks", webhooks);
    return *out ? EMU_OK : EMU_NOMEM;
}

int outbox_clear(struct store_txn *txn, const char *tenant)
{
    char prefix[80];

    snprintf(prefix, sizeof(prefix), "%s%s", tenant ? tenant : "", tenant ? "/" : "");
    return store_del_prefix(txn, OUTBOX_TABLE, prefix);
}
