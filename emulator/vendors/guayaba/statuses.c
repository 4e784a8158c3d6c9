/* statuses.c -- GET /contacts/statuses: the team's contact statuses, a bare JSON array.
 *
 * Statuses are keyed by display order, so the list is the table's key order and goes out as
 * the stored bytes joined with commas: no parsing on the hot path, and the vendor's own key
 * order in each object is kept exactly as the fixtures give it. */
#include "guayaba.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "req.h"
#include "store.h"

struct join {
    char *buf;
    size_t len, cap;
};

static int append(struct join *j, const char *data, size_t len)
{
    if (j->len + len + 2 > j->cap) {
        size_t cap = (j->len + len + 2) * 2;
        char *grown = realloc(j->buf, cap);

        if (grown == NULL)
            return EMU_NOMEM;
        j->buf = grown;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, data, len);
    j->len += len;
    return EMU_OK;
}

static int join_row(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    struct join *j = arg;
    int rc = j->len > 1 ? append(j, ",", 1) : EMU_OK;

    (void)key;
    (void)klen;
    return rc == EMU_OK ? append(j, val, vlen) : rc;
}

int guayaba_statuses_list(struct req *req, struct res *res)
{
    struct join j = {NULL, 0, 0};
    char prefix[80];
    int rc;

    snprintf(prefix, sizeof(prefix), "%s/", req->tenant);
    rc = append(&j, "[", 1);
    if (rc == EMU_OK)
        rc = store_scan_raw(req->txn, GUAYABA_STATUSES, prefix, join_row, &j);
    if (rc == EMU_OK)
        rc = append(&j, "]", 1);
    if (rc != EMU_OK) {
        free(j.buf);
        return rc;
    }
    res_text(res, 200, "application/json; charset=utf-8", j.buf, j.len);
    return EMU_OK;
}

struct name_search {
    const char *name;
    int found;
    char *list; /* when not NULL, collects every name */
    size_t len, used;
};

static int visit_status(const char *key, json_t *doc, void *arg)
{
    struct name_search *s = arg;
    const char *name = jsonx_string(doc, "name");

    (void)key;
    if (name == NULL)
        return 0;
    if (s->list != NULL && s->used < s->len)
        s->used += (size_t)snprintf(s->list + s->used, s->len - s->used, "%s%s",
                                    s->used ? ", " : "", name);
    if (s->name != NULL && strcmp(name, s->name) == 0) {
        s->found = 1;
        return s->list ? 0 : 1;
    }
    return 0;
}

/* 1 when the tenant has a status called name (case-sensitive, as the vendor's filters are). */
static int known(struct req *req, const char *name)
{
    struct name_search s = {name, 0, NULL, 0, 0};
    char prefix[80];

    snprintf(prefix, sizeof(prefix), "%s/", req->tenant);
    return store_scan(req->txn, GUAYABA_STATUSES, prefix, visit_status, &s) == EMU_OK && s.found;
}

int guayaba_statuses_known_or_fail(struct req *req, struct res *res, const char *name)
{
    struct name_search s = {NULL, 0, NULL, 0, 0};
    char prefix[80], names[512], clip[GUAYABA_CLIP_SIZE];

    if (known(req, name))
        return EMU_OK;
    names[0] = '\0';
    s.list = names;
    s.len = sizeof(names);
    snprintf(prefix, sizeof(prefix), "%s/", req->tenant);
    store_scan(req->txn, GUAYABA_STATUSES, prefix, visit_status, &s);
    return res_fail(res, EMU_BAD_REQUEST, "Invalid status '%s'. Valid statuses: %s",
                    guayaba_clip(name, clip), names);
}

int guayaba_status_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                           const char **field, char *msg, size_t msglen)
{
    (void)index; /* keys come from the row itself */
    static const char *const strings[] = {"id", "name", "label", "color"};
    static const char *const flags[] = {"isTerminal", "isSystem", "excludeFromStats"};
    json_t *order = json_object_get(row, "displayOrder");
    json_t *desc = json_object_get(row, "description");

    for (int i = 0; i < 4; i++) {
        if (jsonx_string(row, strings[i]) == NULL) {
            *field = strings[i];
            snprintf(msg, msglen, "\"%s\" must be a string", strings[i]);
            return EMU_INVALID;
        }
    }
    for (int i = 0; i < 3; i++) {
        if (!json_is_boolean(json_object_get(row, flags[i]))) {
            *field = flags[i];
            snprintf(msg, msglen, "\"%s\" must be true or false", flags[i]);
            return EMU_INVALID;
        }
    }
    if (!json_is_null(desc) && !json_is_string(desc)) {
        *field = "description";
        snprintf(msg, msglen, "\"description\" must be a string or null");
        return EMU_INVALID;
    }
    if (!json_is_integer(order) || json_integer_value(order) < 0 ||
        json_integer_value(order) > 999999) {
        *field = "displayOrder";
        snprintf(msg, msglen, "\"displayOrder\" must be a whole number from 0 to 999999");
        return EMU_INVALID;
    }
    snprintf(key, keylen, "%06d.%s", (int)json_integer_value(order), jsonx_string(row, "name"));
    return EMU_OK;
}
