/* list.c -- RASL's paginated lists and their query language (QueryBuilderService).
 *
 * page and per_page (15, at most 100); filter[field]=v and filter[field][op]=v on whitelisted
 * fields (others are ignored, as the vendor ignores them), with the operators gte/>=, lte/<=,
 * gt/>, lt/<, ne/!=, like, in, not_in, between and null, an unknown operator meaning equality;
 * sort=a,-b; search= or q= across the searchable fields; fields=a,b to choose members. Two
 * envelopes: most lists put pagination first in meta; contacts put it last.
 *
 * Any query is answered: page and per_page are read as Laravel's paginator reads them (a bad
 * value is the default, never an error or an overflow), and each filter's value is parsed once
 * (an in-list of any length is sorted once and searched per row).
 *
 * No list holds its table. On an indexed table (rasl.h) the default page, a sort on id and a page
 * of equality filters the "field" index serves are read by offset in an index group, with the
 * total its count: O(log N + offset + page), and only the page is parsed. Anything else reads
 * rows one at a time, keeping the page: the rows of the smallest served group when it is small
 * (each parsed and tested), or else the table's text, whose top-level members the query names
 * are found without parsing the row (a string is searched where it lies; a filtered value is
 * parsed alone), about a microsecond a row. A sort no index serves keeps a bounded heap of at
 * most RASL_SORT_PASS rows' sort values: a page past that many rows takes one more reading per
 * RASL_SORT_PASS rows before it, each starting after the last row of the one before, so memory
 * stays bounded and the answer exact. Ties keep the default order, as the vendor's stable sort
 * does. */
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
#include "store.h"

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
    char field[64];
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

/* ---- the query, read once ---- */

struct sort_key {
    int member; /* in query.members */
    int descending;
};

struct query {
    const struct rasl_list_spec *spec;
    struct req *req;
    json_t *q;
    struct filter *filters;
    size_t nfilters;
    const char *term; /* search or q; NULL: none */
    struct sort_key sorts[8];
    int nsorts;
    long page, per_page;
    /* the members a row is tested or sorted on, each once; filters and sorts point here */
    const char *members[32];
    int nmembers;
    int searched[16]; /* the members search looks in */
    int nsearched;
    int member_of[64]; /* filter i's member (filters past 64 are read from the parsed row) */
};

/* The member's place in q->members, added when new; -1 when the list is full. */
static int member_index(struct query *q, const char *name)
{
    for (int i = 0; i < q->nmembers; i++)
        if (strcmp(q->members[i], name) == 0)
            return i;
    if (q->nmembers == (int)(sizeof(q->members) / sizeof(q->members[0])))
        return -1;
    q->members[q->nmembers] = name;
    return q->nmembers++;
}

/* The name in names equal to name (len bytes): a whitelist's own string. */
static const char *listed_name(const char *const *names, const char *name, size_t len)
{
    for (int i = 0; names && names[i]; i++)
        if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
            return names[i];
    return NULL;
}

static void filter_clear(struct filter *f)
{
    want_list_clear(&f->list);
    free(f->low_text);
}

/* Reads one query member "filter[field]" or "filter[field][op]" into f: 1 when it applies,
 * 0 when it names no whitelisted field (ignored, as the vendor ignores it), or an error. An
 * operator of any other name or length means equality. */
static int filter_of(struct filter *f, const struct rasl_list_spec *spec, const char *name,
                     const char *value)
{
    const char *field = name + 7, *close = strchr(field, ']');

    memset(f, 0, sizeof(*f));
    if (close == NULL || (size_t)(close - field) >= sizeof(f->field) ||
        !listed(spec->filters, field, (size_t)(close - field)))
        return 0;
    snprintf(f->field, sizeof(f->field), "%.*s", (int)(close - field), field);
    if (close[1] == '[') {
        const char *end = strchr(close + 2, ']');

        if (end != NULL && (size_t)(end - close - 2) < sizeof(f->op))
            snprintf(f->op, sizeof(f->op), "%.*s", (int)(end - close - 2), close + 2);
    }
    want_of(&f->want, value);
    if ((strcmp(f->op, "in") == 0 || strcmp(f->op, "not_in") == 0) &&
        want_list_of(&f->list, value) != EMU_OK) {
        filter_clear(f);
        return EMU_NOMEM;
    }
    if (strcmp(f->op, "between") == 0 && strchr(value, ',') != NULL) {
        const char *comma = strchr(value, ',');

        f->low_text = strndup(value, (size_t)(comma - value));
        if (f->low_text == NULL) {
            filter_clear(f);
            return EMU_NOMEM;
        }
        want_of(&f->low, f->low_text);
        want_of(&f->high, comma + 1);
        f->has_range = 1;
    }
    return 1;
}

static void query_clear(struct query *q)
{
    for (size_t i = 0; i < q->nfilters; i++)
        filter_clear(&q->filters[i]);
    free(q->filters);
    json_decref(q->q);
}

/* Reads sort=a,-b: the whitelisted fields, at most 8. */
static void sorts_of(struct query *q, const char *csv)
{
    while (csv != NULL && *csv && q->nsorts < 8) {
        size_t len = strcspn(csv, ",");
        int desc = *csv == '-';
        const char *name = listed_name(q->spec->sorts, csv + desc, len - (size_t)desc);
        int m = name ? member_index(q, name) : -1;

        if (m >= 0) {
            q->sorts[q->nsorts].member = m;
            q->sorts[q->nsorts++].descending = desc;
        }
        csv += len;
        if (*csv == ',')
            csv++;
    }
}

static int query_read(struct query *q, struct req *req, const struct rasl_list_spec *spec)
{
    const char *name;
    json_t *value;
    int rc;

    memset(q, 0, sizeof(*q));
    q->spec = spec;
    q->req = req;
    rc = req_query_all(req, &q->q);
    if (rc != EMU_OK)
        return rc;
    json_object_foreach(q->q, name, value)
    {
        struct filter f;

        if (strncmp(name, "filter[", 7) != 0 || !json_is_string(value))
            continue;
        rc = filter_of(&f, spec, name, json_string_value(value));
        if (rc < 0)
            return rc;
        if (rc == 0)
            continue;
        if ((q->nfilters & (q->nfilters + 1)) == 0 || q->nfilters == 0) { /* 1, 2, 4, ... */
            struct filter *grown = realloc(q->filters, sizeof(*grown) * (q->nfilters * 2 + 1));

            if (grown == NULL) {
                filter_clear(&f);
                return EMU_NOMEM;
            }
            q->filters = grown;
        }
        q->filters[q->nfilters++] = f;
    }
    for (size_t i = 0; i < q->nfilters && i < 64; i++)
        q->member_of[i] = member_index(
            q, listed_name(spec->filters, q->filters[i].field, strlen(q->filters[i].field)));
    q->term = jsonx_string(q->q, "search");
    if (q->term == NULL || *q->term == '\0')
        q->term = jsonx_string(q->q, "q");
    if (q->term != NULL && *q->term == '\0')
        q->term = NULL;
    for (int i = 0; q->term && spec->searches[i] && q->nsearched < 16; i++) {
        int m = member_index(q, spec->searches[i]);

        if (m >= 0)
            q->searched[q->nsearched++] = m;
    }
    sorts_of(q, jsonx_string(q->q, "sort"));
    q->page = page_of(q->q);
    q->per_page = per_page_of(q->q);
    return EMU_OK;
}

/* The first row of the page once the total is known: a page far past the end is empty, and
 * dividing first keeps huge page numbers in range. */
static long first_of(const struct query *q, long total)
{
    return q->page - 1 > total / q->per_page ? total : (q->page - 1) * q->per_page;
}

/* Where the page would start were the list long enough (LONG_MAX: nowhere). */
static long first_wanted(const struct query *q)
{
    return q->page - 1 > LONG_MAX / q->per_page - 1 ? LONG_MAX : (q->page - 1) * q->per_page;
}

/* ---- testing a row ---- */

static int search_hits(const struct query *q, const json_t *row)
{
    for (int i = 0; i < q->nsearched; i++) {
        const char *v = jsonx_string(row, q->members[q->searched[i]]);

        if (v != NULL && strcasestr(v, q->term) != NULL)
            return 1;
    }
    return 0;
}

/* Whether a parsed row is in the list: the spec's own test, every filter, the search. */
static int row_passes(const struct query *q, const json_t *row)
{
    if (q->spec->keep != NULL && !q->spec->keep(row))
        return 0;
    for (size_t i = 0; i < q->nfilters; i++)
        if (!matches(json_object_get(row, q->filters[i].field), &q->filters[i]))
            return 0;
    return q->term == NULL || search_hits(q, row);
}

/* A member's value as it stands in a row's JSON text: p and n bytes (p NULL: absent). */
struct span {
    const char *p;
    size_t n;
    int escaped; /* holds a backslash */
};

static size_t skip_space(const char *s, size_t i, size_t n)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* Past the string that starts at s[i] ('"'); 0 when it does not end. */
static size_t skip_string(const char *s, size_t i, size_t n, int *escaped)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\') {
            *escaped = 1;
            i++;
        } else if (s[i] == '"') {
            return i + 1;
        }
    }
    return 0;
}

/* Past the value that starts at s[i]; 0 when it does not end. */
static size_t skip_value(const char *s, size_t i, size_t n, int *escaped)
{
    int depth = 0;

    while (i < n) {
        char c = s[i];

        if (c == '"') {
            i = skip_string(s, i, n, escaped);
            if (i == 0 || depth == 0)
                return i;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return i;
            if (--depth == 0)
                return i + 1;
        } else if (c == ',' && depth == 0) {
            return i;
        }
        i++;
    }
    return 0;
}

/* Finds q's members at the top level of the JSON object text (the last of a name repeated, as
 * the parser keeps it). 0 when the text is not an object this reader follows: parse it. */
static int raw_members(const struct query *q, const char *s, size_t n, struct span *out)
{
    size_t i = skip_space(s, 0, n);

    memset(out, 0, sizeof(*out) * (size_t)q->nmembers);
    if (i == n || s[i] != '{')
        return 0;
    i = skip_space(s, i + 1, n);
    if (i < n && s[i] == '}')
        return 1;
    while (i < n && s[i] == '"') {
        size_t name = i + 1, name_end, start;
        int escaped = 0, m;

        i = skip_string(s, i, n, &escaped);
        if (i == 0 || escaped)
            return 0;
        name_end = i - 1;
        i = skip_space(s, i, n);
        if (i == n || s[i] != ':')
            return 0;
        start = skip_space(s, i + 1, n);
        i = skip_value(s, start, n, &escaped);
        if (i == 0 || i == start)
            return 0;
        for (m = 0; m < q->nmembers; m++) {
            if (strlen(q->members[m]) == name_end - name &&
                memcmp(q->members[m], s + name, name_end - name) == 0) {
                size_t end = i;

                while (end > start && strchr(" \t\n\r", s[end - 1]) != NULL)
                    end--;
                out[m] = (struct span){s + start, end - start, escaped};
            }
        }
        i = skip_space(s, i, n);
        if (i < n && s[i] == '}')
            return 1;
        if (i == n || s[i] != ',')
            return 0;
        i = skip_space(s, i + 1, n);
    }
    return 0;
}

/* A member's value as the parser would give it: *out a new reference, NULL when absent. 0 when
 * the text does not parse. */
static int span_value(const struct span *sp, json_t **out)
{
    *out = NULL;
    if (sp->p == NULL)
        return 1;
    if (sp->p[0] == '"' && !sp->escaped && sp->n >= 2) {
        *out = json_stringn_nocheck(sp->p + 1, sp->n - 2);
    } else if (sp->n == 4 && memcmp(sp->p, "null", 4) == 0) {
        *out = json_null();
    } else if (sp->n == 4 && memcmp(sp->p, "true", 4) == 0) {
        *out = json_true();
    } else if (sp->n == 5 && memcmp(sp->p, "false", 5) == 0) {
        *out = json_false();
    } else if (sp->n <= 18 && strspn(sp->p, "0123456789") >= sp->n && sp->p[0] != '0') {
        json_int_t v = 0;

        for (size_t i = 0; i < sp->n; i++)
            v = v * 10 + (sp->p[i] - '0');
        *out = json_integer(v);
    } else {
        *out = json_loadb(sp->p, sp->n, JSON_DECODE_ANY, NULL);
    }
    return *out != NULL;
}

/* Whether term occurs in the n bytes at s, ignoring ASCII case (as strcasestr in the C locale
 * does). */
static int has_text(const char *s, size_t n, const char *term)
{
    size_t m = strlen(term);
    int first = tolower((unsigned char)term[0]);

    for (size_t i = 0; i + m <= n; i++) {
        size_t j = 0;

        if (tolower((unsigned char)s[i]) != first)
            continue;
        while (j < m && tolower((unsigned char)s[i + j]) == tolower((unsigned char)term[j]))
            j++;
        if (j == m)
            return 1;
    }
    return 0;
}

/* Whether a row's text is in the list: 1 yes, 0 no, -1 when it cannot tell (parse the row). Only
 * the members the query names are read, most without any allocation. */
static int raw_passes(const struct query *q, const char *val, size_t vlen, struct span *spans)
{
    if (q->spec->keep != NULL || q->nfilters > 64 || !raw_members(q, val, vlen, spans))
        return -1;
    for (size_t i = 0; i < q->nfilters; i++) {
        json_t *v;
        int ok;

        if (q->member_of[i] < 0 || !span_value(&spans[q->member_of[i]], &v))
            return -1;
        ok = matches(v, &q->filters[i]);
        json_decref(v);
        if (!ok)
            return 0;
    }
    if (q->term == NULL)
        return 1;
    for (int i = 0; i < q->nsearched; i++) {
        const struct span *sp = &spans[q->searched[i]];
        json_t *v;
        int hit;

        if (sp->p == NULL || sp->p[0] != '"')
            continue; /* not a string: search passes it by */
        if (!sp->escaped && sp->n >= 2) {
            hit = has_text(sp->p + 1, sp->n - 2, q->term);
        } else {
            if (!span_value(sp, &v))
                return -1;
            hit = json_string_value(v) && strcasestr(json_string_value(v), q->term) != NULL;
            json_decref(v);
        }
        if (hit)
            return 1;
    }
    return 0;
}

/* ---- what a list keeps: the page, or the rows a sort holds ---- */

struct sorted {
    json_t *values[8];  /* the sort members' values (NULL: absent) */
    long long position; /* the default order's: ties keep it */
    char *key;
};

static void sorted_clear(struct sorted *s, int n)
{
    for (int k = 0; k < n; k++)
        json_decref(s->values[k]);
    free(s->key);
}

static int compare_sorted(const struct query *q, const struct sorted *x, const struct sorted *y)
{
    for (int k = 0; k < q->nsorts; k++) {
        json_t *vx = x->values[k], *vy = y->values[k];
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
            return q->sorts[k].descending ? -c : c;
    }
    return x->position < y->position ? -1 : x->position > y->position;
}

/* A pass of a sort: the `size` first rows after `after` (NULL: from the start), in a heap with
 * the greatest on top. */
struct selection {
    const struct query *q;
    const struct sorted *after;
    struct sorted *heap;
    size_t n, size;
};

static void heap_swap(struct sorted *a, struct sorted *b)
{
    struct sorted t = *a;

    *a = *b;
    *b = t;
}

static void heap_down(struct selection *s, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, top = i;

        if (l < s->n && compare_sorted(s->q, &s->heap[l], &s->heap[top]) > 0)
            top = l;
        if (r < s->n && compare_sorted(s->q, &s->heap[r], &s->heap[top]) > 0)
            top = r;
        if (top == i)
            return;
        heap_swap(&s->heap[i], &s->heap[top]);
        i = top;
    }
}

/* Offers item (taken) to the selection. */
static void select_offer(struct selection *s, struct sorted *item)
{
    if ((s->after != NULL && compare_sorted(s->q, item, s->after) <= 0) ||
        (s->n == s->size && compare_sorted(s->q, item, &s->heap[0]) >= 0)) {
        sorted_clear(item, s->q->nsorts);
        return;
    }
    if (s->n == s->size) {
        sorted_clear(&s->heap[0], s->q->nsorts);
        s->heap[0] = *item;
        heap_down(s, 0);
        return;
    }
    s->heap[s->n] = *item;
    for (size_t i = s->n++; i > 0 && compare_sorted(s->q, &s->heap[(i - 1) / 2], &s->heap[i]) < 0;
         i = (i - 1) / 2)
        heap_swap(&s->heap[i], &s->heap[(i - 1) / 2]);
}

static int by_sorted(const void *a, const void *b, void *arg)
{
    return compare_sorted(arg, a, b);
}

/* Where the rows of one reading go: counted, and the page's kept (in order) or offered to a
 * sort's selection. */
struct reading {
    const struct query *q;
    long total;
    long long ordinal; /* rows passed so far, in the order read */
    int backwards;     /* the default order is the reverse of the reading's */
    long from, upto;   /* without a sort: keep rows from..upto-1 of the reading */
    json_t *rows;      /* kept rows, parsed */
    struct selection *sel;
    struct span spans[32];
    int rc;
};

/* Takes one passing row (parsed row, or NULL with its text in val) into the reading. */
static int reading_take(struct reading *r, const char *key, size_t klen, const json_t *row,
                        const char *val, size_t vlen)
{
    long at = r->total++;

    r->ordinal++;
    if (r->sel == NULL) {
        json_t *doc;

        if (at < r->from || at >= r->upto)
            return 0;
        doc = row ? json_incref((json_t *)row) : json_loadb(val, vlen, JSON_DECODE_ANY, NULL);
        if (doc == NULL || json_array_append_new(r->rows, doc) != 0)
            return EMU_STORE;
        return 0;
    } else {
        struct sorted item = {.position = r->backwards ? -r->ordinal : r->ordinal};
        const struct query *q = r->q;

        for (int k = 0; k < q->nsorts; k++) {
            const char *member = q->members[q->sorts[k].member];

            if (row != NULL)
                item.values[k] = json_incref(json_object_get(row, member));
            else if (!span_value(&r->spans[q->sorts[k].member], &item.values[k])) {
                sorted_clear(&item, k);
                return EMU_STORE;
            }
        }
        item.key = strndup(key, klen);
        if (item.key == NULL) {
            sorted_clear(&item, q->nsorts);
            return EMU_NOMEM;
        }
        select_offer(r->sel, &item);
        return 0;
    }
}

/* store_scan_raw's callback: tests a row on its text, parsing only what it cannot tell. */
static int read_raw(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    struct reading *r = arg;
    int pass = raw_passes(r->q, val, vlen, r->spans), rc;
    json_t *row;

    if (pass == 0)
        return 0;
    if (pass == 1) /* the spans hold what a sort needs */
        return reading_take(r, key, klen, NULL, val, vlen);
    row = json_loadb(val, vlen, JSON_DECODE_ANY, NULL);
    if (row == NULL)
        return EMU_STORE;
    rc = row_passes(r->q, row) ? reading_take(r, key, klen, row, NULL, 0) : 0;
    json_decref(row);
    return rc;
}

/* store_index_scan's callback: tests the row under key. */
static int read_key(const char *key, void *arg)
{
    struct reading *r = arg;
    json_t *row;
    int rc = store_get(r->q->req->txn, r->q->spec->table, key, &row);

    if (rc != EMU_OK)
        return rc == EMU_NOT_FOUND ? 0 : rc;
    rc = row_passes(r->q, row) ? reading_take(r, key, strlen(key), row, NULL, 0) : 0;
    json_decref(row);
    return rc;
}

/* Where a list's rows are read from: the whole table, or one group of an index. */
struct source {
    const char *index; /* NULL: the table, in key order */
    char group[STORE_INDEX_PART + 64];
    int descending;
};

static int read_source(const struct query *q, const struct source *src, struct reading *r)
{
    char prefix[80];

    if (src->index == NULL) {
        snprintf(prefix, sizeof(prefix), "%s/", q->req->tenant);
        return store_scan_raw(q->req->txn, q->spec->table, prefix, read_raw, r);
    }
    return store_index_scan(
        q->req->txn, q->spec->table, src->index,
        &(struct store_range){.group = src->group, .descending = src->descending}, read_key, r);
}

/* The page of an unsorted list read from src, whose order is the default one or (backwards)
 * its reverse; *total counts every row in the list. */
static int page_unsorted(const struct query *q, const struct source *src, int backwards,
                         json_t *rows, long *total)
{
    struct reading r = {.q = q, .rows = rows, .upto = 0};
    long first;
    int rc;

    if (!backwards) {
        r.from = first_wanted(q);
        r.upto = r.from > LONG_MAX - q->per_page ? LONG_MAX : r.from + q->per_page;
        rc = read_source(q, src, &r);
        *total = r.total;
        return rc;
    }
    rc = read_source(q, src, &r); /* a count first: the page is counted from the end */
    if (rc != EMU_OK)
        return rc;
    *total = r.total;
    first = first_of(q, r.total);
    r.upto = r.total - first;
    r.from = r.upto - q->per_page < 0 ? 0 : r.upto - q->per_page;
    r.total = 0;
    rc = read_source(q, src, &r);
    for (size_t i = 0, j = json_array_size(rows); rc == EMU_OK && i + 1 < j; i++, j--) {
        json_t *a = json_incref(json_array_get(rows, i)), *b = json_array_get(rows, j - 1);

        json_array_set(rows, i, b);
        json_array_set_new(rows, j - 1, a);
    }
    return rc;
}

static long min_long(long a, long b)
{
    return a < b ? a : b;
}

/* The page of a sorted list read from src (read in the default order, or backwards its
 * reverse). A pass over src keeps at most RASL_SORT_PASS rows: a page further down takes one
 * pass per RASL_SORT_PASS rows before it, each starting after the last row of the one before. */
static int page_sorted(const struct query *q, const struct source *src, int backwards, json_t *rows,
                       long *total)
{
    struct sorted after = {0};
    long first = -1, base = 0;
    int rc = EMU_OK, have_after = 0, last = 0;

    while (!last) {
        struct reading r = {.q = q, .backwards = backwards};
        struct selection sel = {.q = q, .after = have_after ? &after : NULL};
        long goal = first < 0 ? first_wanted(q) : first;
        int holds_page = goal - base <= RASL_SORT_PASS - q->per_page;

        sel.size = (size_t)(holds_page ? goal - base + q->per_page
                                       : min_long(goal - base, RASL_SORT_PASS));
        sel.heap = malloc(sizeof(*sel.heap) * sel.size);
        if (sel.heap == NULL)
            return EMU_NOMEM;
        r.sel = &sel;
        rc = read_source(q, src, &r);
        if (first < 0) {
            *total = r.total;
            first = first_of(q, r.total);
        }
        qsort_r(sel.heap, sel.n, sizeof(*sel.heap), by_sorted, (void *)q);
        last = rc != EMU_OK || first >= *total || holds_page || sel.n == 0;
        for (size_t i = (size_t)(first - base);
             rc == EMU_OK && holds_page && first < *total && i < sel.n &&
             i < (size_t)(first - base + q->per_page);
             i++) {
            json_t *row;

            rc = store_get(q->req->txn, q->spec->table, sel.heap[i].key, &row);
            if (rc == EMU_OK)
                rc = json_array_append_new(rows, row) == 0 ? EMU_OK : EMU_NOMEM;
        }
        if (have_after)
            sorted_clear(&after, q->nsorts);
        have_after = 0;
        if (!last) { /* the next pass starts after this one's last row */
            after = sel.heap[--sel.n];
            have_after = 1;
            base += (long)sel.n + 1;
        }
        for (size_t i = 0; i < sel.n; i++)
            sorted_clear(&sel.heap[i], q->nsorts);
        free(sel.heap);
    }
    if (have_after)
        sorted_clear(&after, q->nsorts);
    return rc;
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

/* ---- choosing where to read ---- */

/* Whether the "field" index serves filter f (an equality on an indexed member): 1 with its
 * group in src->group, *none set when no row can match (a number no integer equals, a text
 * longer than a group keeps). Members named *_id hold integers; the others text. */
static int indexed_group(const struct query *q, const struct filter *f, struct source *src,
                         int *none)
{
    const char *op = f->op;
    size_t len = strlen(f->field);
    char text[40];

    *none = 0;
    if (!listed(q->spec->indexed, f->field, len) ||
        !(*op == '\0' || strcmp(op, "eq") == 0 || strcmp(op, "=") == 0))
        return 0;
    if (len > 3 && strcmp(f->field + len - 3, "_id") == 0) {
        double x = f->want.number;

        if (!f->want.is_number || x != floor(x) || fabs(x) > RASL_INT_MAX) {
            *none = 1;
            return 1;
        }
        snprintf(text, sizeof(text), "%lld", (long long)x);
        rasl_group(q->req->tenant, f->field, text, src->group, sizeof(src->group));
        return 1;
    }
    *none = strlen(f->want.text) > RASL_VALUE_MAX;
    rasl_group(q->req->tenant, f->field, f->want.text, src->group, sizeof(src->group));
    return 1;
}

struct page_keys {
    const struct query *q;
    json_t *rows;
    int rc;
};

static int take_page_row(const char *key, void *arg)
{
    struct page_keys *p = arg;
    json_t *row;

    p->rc = store_get(p->q->req->txn, p->q->spec->table, key, &row);
    if (p->rc != EMU_OK)
        return p->rc;
    if (json_array_append_new(p->rows, row) != 0)
        return EMU_NOMEM;
    return json_array_size(p->rows) >= (size_t)p->q->per_page;
}

/* The page straight from an index group of total rows: its offset, then per_page rows. */
static int page_of_group(const struct query *q, const struct source *src, json_t *rows, long total)
{
    struct page_keys p = {q, rows, EMU_OK};
    long first = first_of(q, total);

    if (first >= total)
        return EMU_OK;
    return store_index_scan(q->req->txn, q->spec->table, src->index,
                            &(struct store_range){.group = src->group,
                                                  .descending = src->descending,
                                                  .offset = (uint64_t)first},
                            take_page_row, &p);
}

/* The best filter the "field" index serves (the smallest group) into src; *count its rows, -1
 * when none is served. */
static int best_group(const struct query *q, struct source *src, long *count, size_t *served)
{
    *count = -1;
    for (size_t i = 0; i < q->nfilters; i++) {
        struct source candidate = {.index = RASL_INDEX};
        long n = 0;
        int none, rc = EMU_OK;

        if (!indexed_group(q, &q->filters[i], &candidate, &none))
            continue;
        if (!none)
            rc = rasl_group_count(q->req, q->spec->table, candidate.group, &n);
        if (rc != EMU_OK)
            return rc;
        if (*count < 0 || n < *count) {
            *count = n;
            *served = i;
            *src = candidate;
        }
    }
    return EMU_OK;
}

/* The page of rows the query asks for, and the total. The default page and a page of an
 * equality filter the index serves are read by offset (O(log N + offset + page)); another
 * filter, a search or a sort reads the rows of the smallest served group, or the table's text,
 * testing each and keeping only the page (or what a sort's pass holds). */
static int list_rows(const struct query *q, json_t *rows, long *total)
{
    struct source src = {0};
    int sorted = q->nsorts > 0, backwards = q->spec->newest_first, rc;
    long odd = 1, all = 0, best = -1;
    size_t served = 0;
    char group[STORE_INDEX_PART + 64];

    *total = 0;
    if (q->spec->indexed != NULL) {
        snprintf(group, sizeof(group), "%s/odd", q->req->tenant);
        rc = rasl_group_count(q->req, q->spec->table, group, &odd);
        if (rc == EMU_OK && odd == 0)
            rc = rasl_count(q->req, q->spec->table, &all);
        if (rc != EMU_OK)
            return rc;
    }
    if (q->spec->indexed != NULL && odd == 0) {
        if (sorted && strcmp(q->members[q->sorts[0].member], "id") == 0) {
            sorted = 0; /* ids are unique: the key order, or its reverse */
            backwards = q->sorts[0].descending;
        }
        rc = best_group(q, &src, &best, &served);
        if (rc != EMU_OK || best == 0)
            return rc;
        if (q->nfilters == (best >= 0) && q->term == NULL && !sorted) {
            if (best < 0) {
                src.index = RASL_INDEX;
                snprintf(src.group, sizeof(src.group), "%s/", q->req->tenant);
            }
            src.descending = backwards;
            *total = best >= 0 ? best : all;
            return page_of_group(q, &src, rows, *total);
        }
        if (best >= 0 && best <= all / 8) { /* a few rows: parse them */
            src.descending = sorted ? q->spec->newest_first : backwards;
            return sorted ? page_sorted(q, &src, 0, rows, total)
                          : page_unsorted(q, &src, 0, rows, total);
        }
    }
    memset(&src, 0, sizeof(src)); /* the table's text, in key order */
    if (sorted)
        return page_sorted(q, &src, q->spec->newest_first, rows, total);
    return page_unsorted(q, &src, backwards, rows, total);
}

int rasl_list(struct req *req, struct res *res, const struct rasl_list_spec *spec,
              json_t *(*render)(struct req *req, const json_t *query, const json_t *row))
{
    struct query q;
    json_t *rows = json_array(), *data = json_array(), *row;
    const char *fields;
    long total = 0;
    size_t i;
    int rc;

    memset(&q, 0, sizeof(q));
    rc = rows && data ? query_read(&q, req, spec) : EMU_NOMEM;

    if (rc == EMU_OK)
        rc = list_rows(&q, rows, &total);
    fields = rc == EMU_OK ? jsonx_string(q.q, "fields") : NULL;
    json_array_foreach(rows, i, row)
    {
        json_t *item;

        if (rc != EMU_OK)
            break;
        item = render ? render(req, q.q, row) : json_deep_copy(row);
        if (item != NULL && fields != NULL && *fields != '\0')
            select_fields(item, fields);
        json_array_append_new(data, item);
    }
    json_decref(rows);
    if (rc == EMU_OK)
        rc = answer_page(req, res, spec, data, q.page, q.per_page, total);
    else
        json_decref(data);
    query_clear(&q);
    return rc;
}
