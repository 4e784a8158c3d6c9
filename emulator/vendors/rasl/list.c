/* list.c -- RASL's paginated lists and their query language (QueryBuilderService).
 *
 * page and per_page (15, at most 100); filter[field]=v and filter[field][op]=v on whitelisted
 * fields (others are ignored, as the vendor ignores them), with the operators gte/>=, lte/<=,
 * gt/>, lt/<, ne/!=, like, in, not_in, between and null, an unknown operator meaning equality;
 * sort=a,-b; search= or q= across the searchable fields; fields=a,b to choose members. Two
 * envelopes: most lists put pagination first in meta; contacts put it last.
 *
 * Any query is answered: page and per_page are read as Laravel's paginator reads them (a bad
 * value is the default, never an error or an overflow), each filter's value is parsed once
 * (an in-list of any length is sorted once and searched per row), and filtering builds the
 * kept rows in one pass. */
#include "rasl.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
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

/* The page asked for: Laravel's paginator takes a whole number of at least 1 (up to 2^63 - 1,
 * an empty page past the end) and reads anything else (a fraction, a negative, text, a number
 * past 2^63) as page 1. */
static long page_of(const json_t *q)
{
    const char *text = jsonx_string(q, "page");
    long long v;
    char *end;

    if (text == NULL || !isdigit((unsigned char)text[0]))
        return 1;
    errno = 0;
    v = strtoll(text, &end, 10);
    return *end == '\0' && errno == 0 && v >= 1 && v <= LONG_MAX ? (long)v : 1;
}

/* The page size asked for: the vendor takes min(per_page, 100), so any number above 100
 * (1e30 included) is 100; 0, a negative, a fraction or text falls back to 15. */
static long per_page_of(const json_t *q)
{
    const char *text = jsonx_string(q, "per_page");
    double v;
    char *end;

    if (text == NULL || *text == '\0')
        return PER_PAGE_DEFAULT;
    v = strtod(text, &end);
    if (*end != '\0' || isnan(v) || v < 1)
        return PER_PAGE_DEFAULT;
    if (v >= PER_PAGE_MAX)
        return PER_PAGE_MAX;
    return v == floor(v) ? (long)v : PER_PAGE_DEFAULT;
}

/* A filter's wanted value, read once: its text and, when the whole text is one, its number. */
struct want {
    const char *text;
    int is_number;
    double number;
};

static void want_of(struct want *w, const char *text)
{
    char *end;

    w->text = text;
    w->number = strtod(text, &end);
    w->is_number = *text != '\0' && *end == '\0' && isfinite(w->number);
}

static int sign(int c)
{
    return c < 0 ? -1 : c > 0;
}

/* -1, 0 or 1: numbers compare as numbers, everything else as text; -2 when v (null or
 * absent, or a number against text) compares with nothing. */
static int compare_value(const json_t *v, const struct want *w)
{
    if (json_is_number(v) && w->is_number) {
        double x = json_number_value(v);

        return x < w->number ? -1 : x > w->number;
    }
    if (json_is_boolean(v))
        return sign(
            strcmp(json_is_true(v) ? "1" : "0", strcmp(w->text, "true") == 0 ? "1" : w->text));
    if (json_is_string(v))
        return sign(strcmp(json_string_value(v), w->text));
    return -2;
}

static int equals(const json_t *v, const struct want *w)
{
    if (json_is_array(v)) { /* an id list, like group_id: contains */
        size_t i;
        json_t *item;

        json_array_foreach(v, i, item) if (compare_value(item, w) == 0) return 1;
        return 0;
    }
    return compare_value(v, w) == 0;
}

/* The values of an in / not_in filter (a comma list of any length), sorted once so that each
 * row is a binary search: the texts, and the numbers among them. */
struct want_list {
    char *copy; /* the list, its commas made NULs; owned */
    const char **texts;
    double *numbers;
    size_t ntexts, nnumbers;
};

static int by_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int by_number(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static int want_list_of(struct want_list *l, const char *csv)
{
    size_t n = 1;
    char *p;

    memset(l, 0, sizeof(*l));
    for (const char *c = csv; *c; c++)
        n += *c == ',';
    l->copy = strdup(csv);
    l->texts = malloc(sizeof(*l->texts) * n);
    l->numbers = malloc(sizeof(*l->numbers) * n);
    if (l->copy == NULL || l->texts == NULL || l->numbers == NULL)
        return EMU_NOMEM;
    p = l->copy;
    for (size_t i = 0; i < n; i++) {
        char *comma = strchr(p, ',');
        struct want w;

        if (comma != NULL)
            *comma = '\0';
        want_of(&w, p);
        l->texts[l->ntexts++] = p;
        if (w.is_number)
            l->numbers[l->nnumbers++] = w.number;
        p = comma ? comma + 1 : p + strlen(p);
    }
    qsort(l->texts, l->ntexts, sizeof(*l->texts), by_text);
    qsort(l->numbers, l->nnumbers, sizeof(*l->numbers), by_number);
    return EMU_OK;
}

static void want_list_clear(struct want_list *l)
{
    free(l->copy);
    free(l->texts);
    free(l->numbers);
}

static int listed_text(const struct want_list *l, const char *text)
{
    return bsearch(&text, l->texts, l->ntexts, sizeof(*l->texts), by_text) != NULL;
}

static int in_list(const json_t *v, const struct want_list *l)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *item;

        json_array_foreach(v, i, item) if (in_list(item, l)) return 1;
        return 0;
    }
    if (json_is_number(v)) {
        double x = json_number_value(v);

        return bsearch(&x, l->numbers, l->nnumbers, sizeof(*l->numbers), by_number) != NULL;
    }
    if (json_is_boolean(v))
        return json_is_true(v) ? listed_text(l, "1") || listed_text(l, "true")
                               : listed_text(l, "0");
    return json_is_string(v) && listed_text(l, json_string_value(v));
}

/* One filter, read once: its operator and wanted value(s). */
struct filter {
    char op[16];
    struct want want, low, high;
    struct want_list list;
    char *low_text; /* between: the text before the first comma; owned */
    int has_range;
};

static int matches(const json_t *v, const struct filter *f)
{
    const char *op = f->op;
    int c;

    if (*op == '\0' || strcmp(op, "eq") == 0 || strcmp(op, "=") == 0)
        return equals(v, &f->want);
    if (strcmp(op, "ne") == 0 || strcmp(op, "!=") == 0)
        return !equals(v, &f->want);
    if (strcmp(op, "like") == 0)
        return json_is_string(v) && strcasestr(json_string_value(v), f->want.text) != NULL;
    if (strcmp(op, "in") == 0)
        return in_list(v, &f->list);
    if (strcmp(op, "not_in") == 0)
        return !in_list(v, &f->list);
    if (strcmp(op, "null") == 0) {
        int is_null = v == NULL || json_is_null(v);

        return strcmp(f->want.text, "false") == 0 ? !is_null : is_null;
    }
    if (strcmp(op, "between") == 0) {
        int lo, hi;

        if (!f->has_range)
            return 0;
        lo = compare_value(v, &f->low);
        hi = compare_value(v, &f->high);
        return lo != -2 && lo >= 0 && hi != -2 && hi <= 0;
    }
    c = compare_value(v, &f->want);
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

/* Keeps the rows for which keep(row, arg) holds, in order: a new array built in one pass. */
static int keep_rows(json_t **rows, int (*keep)(const json_t *row, const void *arg),
                     const void *arg)
{
    json_t *kept = json_array(), *row;
    size_t i;

    if (kept == NULL)
        return EMU_NOMEM;
    json_array_foreach(*rows, i, row)
    {
        if (keep(row, arg) && json_array_append(kept, row) != 0) {
            json_decref(kept);
            return EMU_NOMEM;
        }
    }
    json_decref(*rows);
    *rows = kept;
    return EMU_OK;
}

struct filtering {
    const char *field;
    const struct filter *filter;
};

static int filter_keeps(const json_t *row, const void *arg)
{
    const struct filtering *f = arg;

    return matches(json_object_get(row, f->field), f->filter);
}

/* Applies one query member "filter[field]" or "filter[field][op]" to rows. Members that name
 * no whitelisted field are ignored; an operator of any other name or length means equality. */
static int apply_filter(json_t **rows, const struct rasl_list_spec *spec, const char *name,
                        const char *value)
{
    const char *field = name + 7, *close = strchr(field, ']');
    char fieldname[64];
    struct filter f;
    struct filtering how = {fieldname, &f};
    int rc = EMU_OK;

    if (close == NULL || (size_t)(close - field) >= sizeof(fieldname) ||
        !listed(spec->filters, field, (size_t)(close - field)))
        return EMU_OK;
    snprintf(fieldname, sizeof(fieldname), "%.*s", (int)(close - field), field);
    memset(&f, 0, sizeof(f));
    if (close[1] == '[') {
        const char *end = strchr(close + 2, ']');

        if (end != NULL && (size_t)(end - close - 2) < sizeof(f.op))
            snprintf(f.op, sizeof(f.op), "%.*s", (int)(end - close - 2), close + 2);
    }
    want_of(&f.want, value);
    if (strcmp(f.op, "in") == 0 || strcmp(f.op, "not_in") == 0)
        rc = want_list_of(&f.list, value);
    if (strcmp(f.op, "between") == 0 && strchr(value, ',') != NULL) {
        const char *comma = strchr(value, ',');

        f.low_text = strndup(value, (size_t)(comma - value));
        if (f.low_text == NULL)
            rc = EMU_NOMEM;
        else {
            want_of(&f.low, f.low_text);
            want_of(&f.high, comma + 1);
            f.has_range = 1;
        }
    }
    if (rc == EMU_OK)
        rc = keep_rows(rows, filter_keeps, &how);
    want_list_clear(&f.list);
    free(f.low_text);
    return rc;
}

struct searching {
    const struct rasl_list_spec *spec;
    const char *term;
};

static int search_keeps(const json_t *row, const void *arg)
{
    const struct searching *s = arg;

    for (int f = 0; s->spec->searches[f]; f++) {
        const char *v = jsonx_string(row, s->spec->searches[f]);

        if (v != NULL && strcasestr(v, s->term) != NULL)
            return 1;
    }
    return 0;
}

static int apply_search(json_t **rows, const struct rasl_list_spec *spec, const char *term)
{
    struct searching how = {spec, term};

    return keep_rows(rows, search_keeps, &how);
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
    char url[1024], host[256];

    rasl_host(req, host, sizeof(host));
    snprintf(url, sizeof(url), "http://%s%s?page=%ld", host, req->path, page);
    return json_string(url);
}

/* Applies the query's filter[...], search (or q) and sort to *rows, in that order. */
static int narrow(json_t **rows, const struct rasl_list_spec *spec, const json_t *q)
{
    const char *name, *term;
    json_t *value;
    int rc = EMU_OK;

    json_object_foreach((json_t *)q, name, value)
    {
        if (rc == EMU_OK && strncmp(name, "filter[", 7) == 0 && json_is_string(value))
            rc = apply_filter(rows, spec, name, json_string_value(value));
    }
    term = jsonx_string(q, "search");
    if (term == NULL || *term == '\0')
        term = jsonx_string(q, "q");
    if (rc == EMU_OK && term != NULL && *term != '\0')
        rc = apply_search(rows, spec, term);
    if (rc == EMU_OK && jsonx_string(q, "sort") != NULL)
        rc = apply_sort(*rows, spec, jsonx_string(q, "sort"));
    return rc;
}

/* Answers data, page of a list of total rows per_page at a time, in spec's envelope. */
static int answer_page(struct req *req, struct res *res, const struct rasl_list_spec *spec,
                       json_t *data, long page, long per_page, long total)
{
    long pages = total == 0 ? 1 : (total + per_page - 1) / per_page;
    json_t *pagination, *links, *body, *meta;

    pagination = json_pack("{s:I,s:I,s:I,s:I,s:I,s:b}", "total", (json_int_t)total, "count",
                           (json_int_t)json_array_size(data), "per_page", (json_int_t)per_page,
                           "current_page", (json_int_t)page, "total_pages", (json_int_t)pages,
                           "has_more", page < pages);
    links = json_pack("{s:o,s:o,s:o,s:o,s:o}", "self", page_link(req, page), "first",
                      page_link(req, 1), "last", page_link(req, pages), "prev",
                      page > 1 ? page_link(req, page - 1) : json_null(), "next",
                      page < pages ? page_link(req, page + 1) : json_null());
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

int rasl_list(struct req *req, struct res *res, json_t *rows, const struct rasl_list_spec *spec,
              json_t *(*render)(struct req *req, const json_t *query, const json_t *row))
{
    json_t *q = NULL, *data;
    const char *fields;
    long page, per_page, total, first;
    int rc = req_query_all(req, &q);

    if (rc != EMU_OK) {
        json_decref(rows);
        return rc;
    }
    rc = narrow(&rows, spec, q);
    if (rc != EMU_OK) {
        json_decref(q);
        json_decref(rows);
        return rc;
    }
    page = page_of(q);
    per_page = per_page_of(q);
    total = (long)json_array_size(rows);
    fields = jsonx_string(q, "fields");
    data = json_array();
    /* A page far past the end is empty; dividing first keeps huge page numbers in range. */
    first = page - 1 > total / per_page ? total : (page - 1) * per_page;
    for (long i = first; i < total && i < first + per_page; i++) {
        json_t *row = json_array_get(rows, (size_t)i);
        json_t *item = render ? render(req, q, row) : json_deep_copy(row);

        if (item != NULL && fields != NULL && *fields != '\0')
            select_fields(item, fields);
        json_array_append_new(data, item);
    }
    json_decref(q);
    json_decref(rows);
    return answer_page(req, res, spec, data, page, per_page, total);
}
