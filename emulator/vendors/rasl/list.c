/* list.c -- RASL's paginated lists and their query language (QueryBuilderService).
 *
 * page and per_page (15, at most 100); filter[field]=v and filter[field][op]=v on whitelisted
 * fields (others are ignored, as the vendor ignores them), with the operators gte/>=, lte/<=,
 * gt/>, lt/<, ne/!=, like, in, not_in, between and null, an unknown operator meaning equality;
 * sort=a,-b; search= or q= across the searchable fields; fields=a,b to choose members. Two
 * envelopes: most lists put pagination first in meta; contacts put it last. */
#include "rasl.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "jsonx.h"
#include "req.h"

#define PER_PAGE_DEFAULT 15
#define PER_PAGE_MAX     100

static int listed(const char *const *names, const char *name, size_t len)
{
    for (int i = 0; names && names[i]; i++)
        if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
            return 1;
    return 0;
}

/* Reads a positive whole number, or returns fallback. */
static long positive(const json_t *q, const char *name, long fallback)
{
    const char *text = jsonx_string(q, name);
    char *end;
    long v;

    if (text == NULL || !isdigit((unsigned char)text[0]))
        return fallback;
    v = strtol(text, &end, 10);
    return *end == '\0' && v > 0 ? v : fallback;
}

/* -1, 0 or 1: numbers compare as numbers, everything else as text. */
static int compare_value(const json_t *v, const char *want)
{
    char *end;
    double w = strtod(want, &end);

    if (json_is_number(v) && *want != '\0' && *end == '\0') {
        double x = json_number_value(v);

        return x < w ? -1 : x > w;
    }
    if (json_is_boolean(v))
        return strcmp(json_is_true(v) ? "1" : "0", strcmp(want, "true") == 0 ? "1" : want);
    if (json_is_string(v)) {
        int c = strcmp(json_string_value(v), want);

        return c < 0 ? -1 : c > 0;
    }
    return -2; /* null or absent: equal to nothing, comparable to nothing */
}

static int equals(const json_t *v, const char *want)
{
    if (json_is_array(v)) { /* an id list, like group_id: contains */
        size_t i;
        json_t *item;

        json_array_foreach(v, i, item) if (compare_value(item, want) == 0) return 1;
        return 0;
    }
    return compare_value(v, want) == 0;
}

static int in_list(const json_t *v, const char *csv)
{
    char item[256];

    while (*csv) {
        size_t n = strcspn(csv, ",");

        snprintf(item, sizeof(item), "%.*s", (int)n, csv);
        if (equals(v, item))
            return 1;
        csv += n;
        if (*csv == ',')
            csv++;
    }
    return 0;
}

static int matches(const json_t *v, const char *op, const char *want)
{
    int c;

    if (op == NULL || *op == '\0' || strcmp(op, "eq") == 0 || strcmp(op, "=") == 0)
        return equals(v, want);
    if (strcmp(op, "ne") == 0 || strcmp(op, "!=") == 0)
        return !equals(v, want);
    if (strcmp(op, "like") == 0)
        return json_is_string(v) && strcasestr(json_string_value(v), want) != NULL;
    if (strcmp(op, "in") == 0)
        return in_list(v, want);
    if (strcmp(op, "not_in") == 0)
        return !in_list(v, want);
    if (strcmp(op, "null") == 0) {
        int is_null = v == NULL || json_is_null(v);

        return strcmp(want, "false") == 0 ? !is_null : is_null;
    }
    if (strcmp(op, "between") == 0) {
        char low[256];
        const char *comma = strchr(want, ',');

        if (comma == NULL)
            return 0;
        snprintf(low, sizeof(low), "%.*s", (int)(comma - want), want);
        c = compare_value(v, low);
        return c != -2 && c >= 0 && compare_value(v, comma + 1) <= 0 &&
               compare_value(v, comma + 1) != -2;
    }
    c = compare_value(v, want);
    if (c == -2)
        return 0;
    if (strcmp(op, "gte") == 0 || strcmp(op, ">=") == 0)
        return c >= 0;
    if (strcmp(op, "lte") == 0 || strcmp(op, "<=") == 0)
        return c <= 0;
    if (strcmp(op, "gt") == 0 || strcmp(op, ">") == 0)
        return c > 0;
    if (strcmp(op, "lt") == 0 || strcmp(op, "<") == 0)
        return c < 0;
    return c == 0; /* an operator the vendor does not know means equality */
}

/* Applies one query member "filter[field]" or "filter[field][op]" to rows, in place. */
static void apply_filter(json_t *rows, const struct rasl_list_spec *spec, const char *name,
                         const char *value)
{
    const char *field = name + 7, *close = strchr(field, ']');
    char op[32] = "", fieldname[64];

    if (close == NULL || !listed(spec->filters, field, (size_t)(close - field)) ||
        (size_t)(close - field) >= sizeof(fieldname))
        return;
    snprintf(fieldname, sizeof(fieldname), "%.*s", (int)(close - field), field);
    if (close[1] == '[') {
        const char *end = strchr(close + 2, ']');

        if (end == NULL || (size_t)(end - close - 2) >= sizeof(op))
            return;
        snprintf(op, sizeof(op), "%.*s", (int)(end - close - 2), close + 2);
    }
    for (size_t i = json_array_size(rows); i-- > 0;)
        if (!matches(json_object_get(json_array_get(rows, i), fieldname), op, value))
            json_array_remove(rows, i);
}

static void apply_search(json_t *rows, const struct rasl_list_spec *spec, const char *term)
{
    for (size_t i = json_array_size(rows); i-- > 0;) {
        const json_t *row = json_array_get(rows, i);
        int hit = 0;

        for (int f = 0; !hit && spec->searches[f]; f++) {
            const char *v = jsonx_string(row, spec->searches[f]);

            hit = v != NULL && strcasestr(v, term) != NULL;
        }
        if (!hit)
            json_array_remove(rows, i);
    }
}

struct sort_key {
    char field[64];
    int descending;
};

struct sort_plan {
    struct sort_key keys[8];
    int n;
};

struct sort_item {
    json_t *row;
    size_t position; /* ties keep the store's order */
};

static int compare_rows(const void *a, const void *b, void *arg)
{
    const struct sort_plan *plan = arg;
    const struct sort_item *x = a, *y = b;

    for (int k = 0; k < plan->n; k++) {
        json_t *vx = json_object_get(x->row, plan->keys[k].field);
        json_t *vy = json_object_get(y->row, plan->keys[k].field);
        int c;

        if (json_is_number(vx) && json_is_number(vy))
            c = json_number_value(vx) < json_number_value(vy)
                    ? -1
                    : json_number_value(vx) > json_number_value(vy);
        else if (json_is_string(vx) && json_is_string(vy))
            c = strcmp(json_string_value(vx), json_string_value(vy));
        else /* nulls first ascending, as in SQL */
            c = (vx != NULL && !json_is_null(vx)) - (vy != NULL && !json_is_null(vy));
        if (c != 0)
            return plan->keys[k].descending ? -c : c;
    }
    return x->position < y->position ? -1 : x->position > y->position;
}

static int apply_sort(json_t *rows, const struct rasl_list_spec *spec, const char *csv)
{
    struct sort_plan plan = {0};
    struct sort_item *items;
    size_t n = json_array_size(rows);

    while (*csv && plan.n < 8) {
        size_t len = strcspn(csv, ",");
        int desc = *csv == '-';
        const char *name = csv + desc;
        size_t name_len = len - (size_t)desc;

        if (listed(spec->sorts, name, name_len)) {
            snprintf(plan.keys[plan.n].field, sizeof(plan.keys[0].field), "%.*s", (int)name_len,
                     name);
            plan.keys[plan.n++].descending = desc;
        }
        csv += len;
        if (*csv == ',')
            csv++;
    }
    if (plan.n == 0 || n < 2)
        return EMU_OK;
    items = malloc(sizeof(*items) * n);
    if (items == NULL)
        return EMU_NOMEM;
    for (size_t i = 0; i < n; i++) {
        items[i].row = json_incref(json_array_get(rows, i));
        items[i].position = i;
    }
    qsort_r(items, n, sizeof(*items), compare_rows, &plan);
    json_array_clear(rows);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, items[i].row);
    free(items);
    return EMU_OK;
}

/* Keeps only the members fields names (and always id). */
static void select_fields(json_t *item, const char *csv)
{
    const char *key;
    json_t *value;
    void *tmp;

    json_object_foreach_safe(item, tmp, key, value)
    {
        size_t len = strlen(key);
        const char *p = csv;
        int keep = strcmp(key, "id") == 0;

        while (!keep && *p) {
            size_t n = strcspn(p, ",");

            keep = n == len && strncmp(p, key, len) == 0;
            p += n;
            if (*p == ',')
                p++;
        }
        if (!keep)
            json_object_del(item, key);
        (void)value;
    }
}

static json_t *page_link(const struct req *req, long page)
{
    const char *host = req_header(req, "Host");
    char url[1024];

    snprintf(url, sizeof(url), "http://%s%s?page=%ld", host ? host : "localhost", req->path, page);
    return json_string(url);
}

int rasl_list(struct req *req, struct res *res, json_t *rows, const struct rasl_list_spec *spec,
              json_t *(*render)(struct req *req, const json_t *row))
{
    json_t *q = NULL, *value, *data, *pagination, *links, *body, *meta;
    const char *name, *term, *fields;
    long page, per_page, total, pages, first;
    int rc = req_query_all(req, &q);

    if (rc != EMU_OK) {
        json_decref(rows);
        return rc;
    }
    json_object_foreach(q, name, value)
    {
        if (strncmp(name, "filter[", 7) == 0)
            apply_filter(rows, spec, name, json_string_value(value));
    }
    term = jsonx_string(q, "search");
    if (term == NULL || *term == '\0')
        term = jsonx_string(q, "q");
    if (term != NULL && *term != '\0')
        apply_search(rows, spec, term);
    if (jsonx_string(q, "sort") != NULL)
        rc = apply_sort(rows, spec, jsonx_string(q, "sort"));
    if (rc != EMU_OK) {
        json_decref(q);
        json_decref(rows);
        return rc;
    }
    page = positive(q, "page", 1);
    per_page = positive(q, "per_page", PER_PAGE_DEFAULT);
    if (per_page > PER_PAGE_MAX)
        per_page = PER_PAGE_MAX;
    total = (long)json_array_size(rows);
    pages = total == 0 ? 1 : (total + per_page - 1) / per_page;
    fields = jsonx_string(q, "fields");
    data = json_array();
    /* A page far past the end is empty; dividing first keeps huge page numbers in range. */
    first = page - 1 > total / per_page ? total : (page - 1) * per_page;
    for (long i = first; i < total && i < first + per_page; i++) {
        json_t *row = json_array_get(rows, (size_t)i);
        json_t *item = render ? render(req, row) : json_deep_copy(row);

        if (item != NULL && fields != NULL && *fields != '\0')
            select_fields(item, fields);
        json_array_append_new(data, item);
    }
    pagination = json_pack("{s:I,s:I,s:I,s:I,s:I,s:b}", "total", (json_int_t)total, "count",
                           (json_int_t)json_array_size(data), "per_page", (json_int_t)per_page,
                           "current_page", (json_int_t)page, "total_pages", (json_int_t)pages,
                           "has_more", page < pages);
    links = json_pack("{s:o,s:o,s:o,s:o,s:o}", "self", page_link(req, page), "first",
                      page_link(req, 1), "last", page_link(req, pages), "prev",
                      page > 1 ? page_link(req, page - 1) : json_null(), "next",
                      page < pages ? page_link(req, page + 1) : json_null());
    json_decref(q);
    json_decref(rows);
    body = rasl_envelope(req, data, NULL);
    meta = json_object_get(body, "meta");
    if (body == NULL || meta == NULL || pagination == NULL || links == NULL) {
        json_decref(body);
        json_decref(pagination);
        json_decref(links);
        return EMU_NOMEM;
    }
    if (spec->contacts_shape) { /* contacts: {request_id, timestamp, pagination} */
        json_object_set_new(meta, "pagination", pagination);
    } else { /* the others: {pagination, request_id, timestamp} */
        json_t *ordered = json_pack("{s:o,s:O,s:O}", "pagination", pagination, "request_id",
                                    json_object_get(meta, "request_id"), "timestamp",
                                    json_object_get(meta, "timestamp"));

        json_object_set_new(body, "meta", ordered);
    }
    json_object_set_new(body, "links", links);
    return res_json(res, 200, body);
}
