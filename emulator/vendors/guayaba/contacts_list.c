/* contacts_list.c -- GET /contacts, and the indexes of guayaba.contacts that serve it and the
 * lookups by phone number.
 *
 * The store keeps two indexes of guayaba.contacts (store.h), written with each contact:
 *
 *   index  group                   sort                    holds
 *   list   <t>/c+  and  <t>/c-     createdAt; reversed     the live contacts with a createdAt
 *          <t>/c0                  none (by id)            the live contacts without one
 *          <t>/f+  <t>/f-  <t>/f0  the same for fulfilledAt
 *          <t>/r+  <t>/r-  <t>/r0  the same for reAddedAt
 *          <t>/status/<status>     createdAt reversed      the live contacts with that status
 *          <t>/campaign/<id>       createdAt reversed      the live contacts of that campaign
 *   phone  <t>/<phoneNumber>       none                    every contact, deleted or not
 *
 * A list is sorted by one field, nulls last in either direction, then by id. The store orders a
 * group by sort, then by document key ("<t>/<id>"), so the ascending order is the field's "+"
 * group and the descending one its "-" group, whose sort is the value reversed (each byte
 * complemented, then 0xFF, so that a value comes after the longer ones it starts): both read
 * forwards, ids ascending among equal values as the vendor orders them. The null group follows.
 * (Only a sort's first 98 bytes count; an instant is far shorter.) Deleted contacts are in no
 * list group, so a group's count is the total of the list it gives.
 *
 * A page costs a seek, a step over each index entry before it and a read of each contact it
 * shows. What no group serves on its own -- a search, several statuses or campaigns, a filter
 * with a sort other than the default, both filters at once -- walks the smallest group that
 * holds the answer in its order and tests each contact on its stored text, parsing only what it
 * shows (or what it cannot read without parsing: a member with escapes), and stops at the end
 * of the page. Its total is a sum of counts when one filter of several values is left (status=
 * a,b); otherwise (a search, both filters together) one pass over the table in key order, with
 * no seek per contact, tests every contact of the tenant to count them. */
#include "guayaba.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "field.h"
#include "jsonx.h"
#include "req.h"
#include "store.h"

/* The longest search text, and the longest status list (the tenant's statuses once over
 * fit in far less); longer values are refused, never cut. campaignId takes any number of ids. */
#define SEARCH_MAX_BYTES      255
#define STATUS_LIST_MAX_BYTES 2047

/* What a sort keeps of a value: the store keeps a sort's first 100 bytes, and a reversed one
 * ends in 0xFF. */
#define SORT_KEEP 98
/* Sorts after every reversed value: where a filter group puts contacts without a createdAt. */
#define SORT_LAST "\xff\xff"
/* What testing a contact a walk meets costs, against one a pass over the table reads. */
#define WALK_COST 4
/* Room for a group: what the store keeps, and more (a longer one is never used). */
#define GROUP_SIZE (STORE_INDEX_PART + 64)

/* ---- index entries ---- */

/* value's sort in a descending group, in out (SORT_KEEP + 2 bytes). */
static void reversed(const char *value, char *out)
{
    size_t n = 0;

    for (; value[n] != '\0' && n < SORT_KEEP; n++)
        out[n] = (char)(0xFF - (unsigned char)value[n]);
    out[n++] = (char)0xFF;
    out[n] = '\0';
}

/* Emits a contact's entries in field's groups ("<t>/<letter>+", "-" and "0"). */
static void emit_sorted(struct store_emit *e, int tlen, const char *key, char letter,
                        const char *value)
{
    char group[GROUP_SIZE], sort[SORT_KEEP + 2];

    if (value == NULL) {
        snprintf(group, sizeof(group), "%.*s%c0", tlen, key, letter);
        store_emit(e, group, NULL);
        return;
    }
    snprintf(group, sizeof(group), "%.*s%c+", tlen, key, letter);
    store_emit(e, group, value);
    snprintf(group, sizeof(group), "%.*s%c-", tlen, key, letter);
    reversed(value, sort);
    store_emit(e, group, sort);
}

/* The list index: a live contact in its sort groups and its status and campaign groups. */
static void list_entries(const char *key, const json_t *doc, struct store_emit *e)
{
    const char *slash = strchr(key, '/'), *created = jsonx_string(doc, "createdAt");
    const char *status = jsonx_string(doc, "status"), *campaign = jsonx_string(doc, "campaignId");
    int tlen = slash ? (int)(slash - key) + 1 : 0;
    char group[GROUP_SIZE], sort[SORT_KEEP + 2];

    if (guayaba_contact_deleted(doc))
        return;
    emit_sorted(e, tlen, key, 'c', created);
    emit_sorted(e, tlen, key, 'f', jsonx_string(doc, "fulfilledAt"));
    emit_sorted(e, tlen, key, 'r', jsonx_string(doc, "reAddedAt"));
    if (created != NULL)
        reversed(created, sort);
    else
        snprintf(sort, sizeof(sort), "%s", SORT_LAST);
    if (status != NULL) {
        snprintf(group, sizeof(group), "%.*sstatus/%s", tlen, key, status);
        store_emit(e, group, sort);
    }
    if (campaign != NULL) {
        snprintf(group, sizeof(group), "%.*scampaign/%s", tlen, key, campaign);
        store_emit(e, group, sort);
    }
}

/* The phone index: every contact under its number. */
static void phone_entries(const char *key, const json_t *doc, struct store_emit *e)
{
    const char *slash = strchr(key, '/'), *phone = jsonx_string(doc, "phoneNumber");
    char group[GROUP_SIZE];

    if (phone == NULL)
        return;
    snprintf(group, sizeof(group), "%.*s%s", slash ? (int)(slash - key) + 1 : 0, key, phone);
    store_emit(e, group, NULL);
}

static const struct store_index list_index = {GUAYABA_CONTACTS, GUAYABA_LIST_INDEX, list_entries};
static const struct store_index phone_index = {GUAYABA_CONTACTS, GUAYABA_PHONE_INDEX,
                                               phone_entries};

const struct store_index *const guayaba_indexes[] = {&list_index, &phone_index, NULL};

/* ---- the query ---- */

struct contact_query {
    json_t *statuses;   /* names to keep, or NULL for all */
    json_t *campaigns;  /* campaign ids to keep, or NULL for all */
    const char *search; /* NULL or "" for all; borrowed from the query object */
    int by_name, by_phone;
    const char *sort_by;
    int descending;
};

/* Splits a comma-separated list into a new array of its non-empty trimmed items. */
static json_t *split_list(const char *text)
{
    json_t *items = json_array();
    const char *p = text;

    while (items != NULL && *p != '\0') {
        size_t n = strcspn(p, ",");
        size_t start = 0, end = n;

        while (start < end && p[start] == ' ')
            start++;
        while (end > start && p[end - 1] == ' ')
            end--;
        if (end > start)
            json_array_append_new(items, json_stringn(p + start, end - start));
        p += n;
        if (*p == ',')
            p++;
    }
    return items;
}

/* Reads an optional enum parameter: *out is NULL when absent or empty, else one of words
 * (NULL-terminated); anything else is the 400 "<name> must be one of: <words>". */
static int query_word(struct res *res, const json_t *query, const char *name,
                      const char *const *words, const char **out)
{
    char list[128] = "";
    int rc = guayaba_query_string(res, query, name, out);

    if (rc != EMU_OK || *out == NULL || (*out)[0] == '\0') {
        *out = NULL;
        return rc;
    }
    for (size_t i = 0; words[i] != NULL; i++) {
        if (strcmp(*out, words[i]) == 0) {
            *out = words[i];
            return EMU_OK;
        }
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "", words[i]);
    }
    return res_fail(res, EMU_BAD_REQUEST, "%s must be one of: %s", name, list);
}

static int read_query(struct req *req, struct res *res, const json_t *query,
                      struct contact_query *q)
{
    static const char *const search_by[] = {"name", "phone", NULL};
    static const char *const sort_by[] = {"createdAt", "fulfilledAt", "reAddedAt", NULL};
    static const char *const sort_order[] = {"asc", "desc", NULL};
    const char *text, *word;
    size_t i;
    json_t *item;
    int rc;

    rc = guayaba_query_string(res, query, "status", &text);
    if (rc == EMU_OK && text != NULL && strlen(text) > STATUS_LIST_MAX_BYTES)
        return res_fail(res, EMU_BAD_REQUEST, "status is too long");
    if (rc == EMU_OK && text != NULL && text[0]) {
        q->statuses = split_list(text);
        if (q->statuses == NULL)
            return EMU_NOMEM;
        json_array_foreach(q->statuses, i, item)
        {
            if ((rc = guayaba_statuses_known_or_fail(req, res, json_string_value(item))) != EMU_OK)
                return rc;
        }
    }
    if (rc == EMU_OK)
        rc = guayaba_query_string(res, query, "campaignId", &text);
    if (rc == EMU_OK && text != NULL && text[0]) {
        q->campaigns = split_list(text);
        if (q->campaigns == NULL)
            return EMU_NOMEM;
        json_array_foreach(q->campaigns, i, item)
        {
            if (!jsonx_is_uuid(json_string_value(item)))
                return res_fail(res, EMU_BAD_REQUEST,
                                "campaignId must be a UUID or a comma-separated list of UUIDs");
        }
    }
    if (rc == EMU_OK)
        rc = guayaba_query_string(res, query, "search", &q->search);
    if (rc == EMU_OK && q->search != NULL && strlen(q->search) > SEARCH_MAX_BYTES)
        return res_fail(res, EMU_BAD_REQUEST, "search is too long");
    q->by_name = q->by_phone = 1;
    if (rc == EMU_OK)
        rc = query_word(res, query, "searchBy", search_by, &word);
    if (rc == EMU_OK && word != NULL) {
        q->by_name = strcmp(word, "name") == 0;
        q->by_phone = !q->by_name;
    }
    if (rc == EMU_OK)
        rc = query_word(res, query, "sortBy", sort_by, &word);
    q->sort_by = rc == EMU_OK && word != NULL ? word : "createdAt";
    if (rc == EMU_OK)
        rc = query_word(res, query, "sortOrder", sort_order, &word);
    q->descending = !(rc == EMU_OK && word != NULL && strcmp(word, "asc") == 0);
    return rc;
}

/* ---- testing a contact ---- */

/* What a walk tests each contact against; NULL members are not tested. */
struct contact_filter {
    const json_t *statuses, *campaigns;
    const char *search; /* non-empty */
    int by_name, by_phone;
    int live; /* test deletedAt too: for a pass over the table, which holds deleted contacts */
};

static int in_list(const json_t *list, const char *value)
{
    size_t i;
    json_t *item;

    json_array_foreach(list, i, item)
    {
        if (value && strcmp(json_string_value(item), value) == 0)
            return 1;
    }
    return 0;
}

/* The test on a parsed contact: 1 when f keeps it. */
static int keeps_doc(const struct contact_filter *f, const json_t *doc)
{
    const char *name = jsonx_string(doc, "name"), *phone = jsonx_string(doc, "phoneNumber");

    if (guayaba_contact_deleted(doc))
        return 0;
    if (f->statuses && !in_list(f->statuses, jsonx_string(doc, "status")))
        return 0;
    if (f->campaigns && !in_list(f->campaigns, jsonx_string(doc, "campaignId")))
        return 0;
    if (f->search != NULL)
        return (f->by_name && name && strcasestr(name, f->search)) ||
               (f->by_phone && phone && strstr(phone, f->search));
    return 1;
}

/* The members a filter reads, as raw JSON text in a stored contact (NULL when absent). */
enum { RAW_STATUS, RAW_CAMPAIGN, RAW_NAME, RAW_PHONE, RAW_DELETED, RAW_MEMBERS };
static const char *const raw_names[RAW_MEMBERS] = {"status", "campaignId", "name", "phoneNumber",
                                                   "deletedAt"};

struct raw_contact {
    const char *text[RAW_MEMBERS];
    size_t len[RAW_MEMBERS];
};

static size_t skip_space(const char *s, size_t i, size_t len)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* The end of the JSON string that opens at s[i] (just past its closing quote), or 0. */
static size_t skip_string(const char *s, size_t i, size_t len)
{
    for (i++; i < len; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return 0;
}

/* The end of the JSON value that starts at s[i], or 0 when it is cut short. */
static size_t skip_value(const char *s, size_t i, size_t len)
{
    size_t depth = 0;

    if (i >= len)
        return 0;
    if (s[i] == '"')
        return skip_string(s, i, len);
    if (s[i] != '{' && s[i] != '[') { /* a number or a literal */
        while (i < len && strchr(",}] \t\n\r", s[i]) == NULL)
            i++;
        return i;
    }
    for (; i < len; i++) {
        if (s[i] == '"') {
            if ((i = skip_string(s, i, len)) == 0)
                return 0;
            i--;
        } else if (s[i] == '{' || s[i] == '[') {
            depth++;
        } else if ((s[i] == '}' || s[i] == ']') && --depth == 0) {
            return i + 1;
        }
    }
    return 0;
}

/* Finds the members of r that wanted (a bit per member) names in the stored contact s (len
 * bytes), reading no further than the last of them: EMU_OK, or EMU_INVALID when the text is
 * not an object this reader follows (then the contact is parsed instead). */
static int raw_read(const char *s, size_t len, unsigned wanted, struct raw_contact *r)
{
    size_t i = skip_space(s, 0, len);

    memset(r, 0, sizeof(*r));
    if (i >= len || s[i] != '{')
        return EMU_INVALID;
    i = skip_space(s, i + 1, len);
    if (i < len && s[i] == '}')
        return EMU_OK;
    while (i < len) {
        size_t key = i + 1, key_end = s[i] == '"' ? skip_string(s, i, len) : 0, end;

        if (key_end == 0 || memchr(s + key, '\\', key_end - 1 - key) != NULL)
            return EMU_INVALID; /* a key with an escape might spell a member's name */
        i = skip_space(s, key_end, len);
        if (i >= len || s[i] != ':')
            return EMU_INVALID;
        i = skip_space(s, i + 1, len);
        if ((end = skip_value(s, i, len)) == 0)
            return EMU_INVALID;
        for (int m = 0; m < RAW_MEMBERS; m++) {
            if (key_end - 1 - key == strlen(raw_names[m]) &&
                memcmp(s + key, raw_names[m], key_end - 1 - key) == 0) {
                r->text[m] = s + i;
                r->len[m] = end - i;
                wanted &= ~(1u << m);
            }
        }
        if (wanted == 0)
            return EMU_OK; /* stored by jansson, a contact names each member once */
        i = skip_space(s, end, len);
        if (i < len && s[i] == '}')
            return EMU_OK;
        if (i >= len || s[i] != ',')
            return EMU_INVALID;
        i = skip_space(s, i + 1, len);
    }
    return EMU_INVALID;
}

/* Member m of r as a string: 1 with *text and *len its characters, 0 when it is not a string,
 * -1 when it is one with escapes (only a parse reads it). */
static int raw_string(const struct raw_contact *r, int m, const char **text, size_t *len)
{
    if (r->text[m] == NULL || r->text[m][0] != '"')
        return 0;
    *text = r->text[m] + 1;
    *len = r->len[m] - 2;
    return memchr(*text, '\\', *len) != NULL ? -1 : 1;
}

/* 1 when list holds the len bytes at text. */
static int in_list_raw(const json_t *list, const char *text, size_t len)
{
    size_t i;
    json_t *item;

    json_array_foreach(list, i, item)
    {
        if (json_string_length(item) == len && memcmp(json_string_value(item), text, len) == 0)
            return 1;
    }
    return 0;
}

/* 1 when the len bytes at text hold the search text (ignoring ASCII case when nocase), as
 * strcasestr and strstr find it; -1 when out of memory. */
static int holds(const char *text, size_t len, const char *search, int nocase)
{
    char buf[512], *copy = len < sizeof(buf) ? buf : malloc(len + 1);
    int hit;

    if (copy == NULL)
        return -1;
    memcpy(copy, text, len);
    copy[len] = '\0';
    hit = (nocase ? strcasestr(copy, search) : strstr(copy, search)) != NULL;
    if (copy != buf)
        free(copy);
    return hit;
}

/* The test on a stored contact's text: 1 when f keeps it, 0 when not, -1 when only a parse can
 * tell (a member it reads has escapes, or the text is not what this reader follows). Deleted
 * contacts are in no group a walk reads. */
static int keeps_raw(const struct contact_filter *f, const char *val, size_t vlen)
{
    struct raw_contact r;
    const char *text;
    size_t len;
    unsigned wanted =
        (f->statuses ? 1u << RAW_STATUS : 0) | (f->campaigns ? 1u << RAW_CAMPAIGN : 0) |
        (f->search && f->by_name ? 1u << RAW_NAME : 0) |
        (f->search && f->by_phone ? 1u << RAW_PHONE : 0) | (f->live ? 1u << RAW_DELETED : 0);
    int s;

    if (raw_read(val, vlen, wanted, &r) != EMU_OK)
        return -1;
    if (f->live && r.text[RAW_DELETED] != NULL &&
        (r.len[RAW_DELETED] != 4 || memcmp(r.text[RAW_DELETED], "null", 4) != 0))
        return 0;
    if (f->statuses != NULL) {
        if ((s = raw_string(&r, RAW_STATUS, &text, &len)) <= 0)
            return s;
        if (!in_list_raw(f->statuses, text, len))
            return 0;
    }
    if (f->campaigns != NULL) {
        if ((s = raw_string(&r, RAW_CAMPAIGN, &text, &len)) <= 0)
            return s;
        if (!in_list_raw(f->campaigns, text, len))
            return 0;
    }
    if (f->search == NULL)
        return 1;
    if (f->by_name && (s = raw_string(&r, RAW_NAME, &text, &len)) != 0) {
        if (s < 0 || (s = holds(text, len, f->search, 1)) != 0)
            return s;
    }
    if (f->by_phone && (s = raw_string(&r, RAW_PHONE, &text, &len)) != 0)
        return s < 0 ? s : holds(text, len, f->search, 0);
    return 0;
}

/* ---- walking a group ---- */

/* Where a list reads its contacts: one group, or a sort's group and its null group after it. */
struct source {
    char group[2][GROUP_SIZE];
    uint64_t count[2];
    int ngroups;
    int by_status, by_campaign; /* the group holds only contacts the filter keeps */
};

/* What a walk gathers: a page of contacts that pass filter (every one when NULL), after skip of
 * them. */
struct page {
    struct req *req;
    const struct contact_filter *filter;
    uint64_t skip;
    int room;         /* contacts the page still takes */
    uint64_t total;   /* contacts the walk can meet: it ends at the last */
    int count_all;    /* the total is not known: walk to the end, counting */
    uint64_t met;     /* contacts that passed */
    json_t *contacts; /* the page's contacts, as stored */
    const char *key;  /* the contact being read */
    int done;
};

/* Takes the contact the walk is at, parsed from its stored text, when the page has room. */
static int take(struct page *p, const char *val, size_t vlen, json_t *parsed)
{
    json_t *doc = parsed ? json_incref(parsed) : json_loadb(val, vlen, JSON_DECODE_ANY, NULL);

    if (doc == NULL)
        return EMU_STORE;
    if (json_array_append_new(p->contacts, doc) != 0)
        return EMU_NOMEM;
    p->room--;
    return EMU_OK;
}

/* Tests the stored contact under p->key (the scan's first entry, when its key is p->key). */
static int test_stored(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    struct page *p = arg;
    json_t *doc = NULL;
    int keep, rc = EMU_OK;

    if (klen != strlen(p->key) || memcmp(key, p->key, klen) != 0)
        return EMU_STORE; /* an index entry without its contact */
    keep = p->filter ? keeps_raw(p->filter, val, vlen) : 1;
    if (keep < 0) {
        doc = json_loadb(val, vlen, JSON_DECODE_ANY, NULL);
        if (doc == NULL)
            return EMU_STORE;
        keep = keeps_doc(p->filter, doc);
    }
    if (keep) {
        p->met++;
        if (p->skip > 0)
            p->skip--;
        else if (p->room > 0)
            rc = take(p, val, vlen, doc);
        if (!p->count_all && (p->room == 0 || p->met == p->total))
            p->done = 1;
    }
    json_decref(doc);
    return rc != EMU_OK ? rc : 1;
}

static int visit(const char *key, void *arg)
{
    struct page *p = arg;
    int rc;

    p->key = key;
    rc = store_scan_raw(p->req->txn, GUAYABA_CONTACTS, key, test_stored, p);
    if (rc != EMU_OK)
        return rc;
    return p->done;
}

/* Walks src's groups in order from its offset-th entry (0 when p has a filter), into p. */
static int walk(struct req *req, const struct source *src, uint64_t offset, struct page *p)
{
    for (int i = 0; i < src->ngroups && !p->done; i++) {
        struct store_range r = {.group = src->group[i], .offset = offset};
        int rc;

        if (offset >= src->count[i]) {
            offset -= src->count[i];
            continue;
        }
        rc = store_index_scan(req->txn, GUAYABA_CONTACTS, GUAYABA_LIST_INDEX, &r, visit, p);
        if (rc != EMU_OK)
            return rc;
        offset = 0;
    }
    return EMU_OK;
}

/* Counts the contacts of the table that pass a filter, in the table's order: a read without a
 * seek per contact, for a total no count gives. */
struct tally {
    const struct contact_filter *filter;
    uint64_t n;
};

static int count_stored(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    struct tally *t = arg;
    int keep = keeps_raw(t->filter, val, vlen);

    (void)key;
    (void)klen;
    if (keep < 0) {
        json_t *doc = json_loadb(val, vlen, JSON_DECODE_ANY, NULL);

        if (doc == NULL)
            return EMU_STORE;
        keep = keeps_doc(t->filter, doc);
        json_decref(doc);
    }
    t->n += (uint64_t)keep;
    return 0;
}

/* ---- choosing the group ---- */

/* 1 when group is kept whole by the store (bytes below 0x20 take two). */
static int group_fits(const char *group)
{
    size_t n = 0;

    for (const char *p = group; *p; p++)
        n += (unsigned char)*p < 0x20 ? 2 : 1;
    return n <= STORE_INDEX_PART;
}

static int source_count(struct req *req, struct source *src)
{
    int rc = EMU_OK;

    for (int i = 0; rc == EMU_OK && i < src->ngroups; i++)
        rc = store_count(req->txn, GUAYABA_CONTACTS, GUAYABA_LIST_INDEX, src->group[i],
                         &src->count[i]);
    return rc;
}

static uint64_t source_total(const struct source *src)
{
    return src->ngroups == 2 ? src->count[0] + src->count[1] : src->count[0];
}

/* The list's sort order over the whole tenant. */
static int source_sorted(struct req *req, const struct contact_query *q, struct source *src)
{
    memset(src, 0, sizeof(*src));
    src->ngroups = 2;
    snprintf(src->group[0], GROUP_SIZE, "%s/%c%c", req->tenant, q->sort_by[0],
             q->descending ? '-' : '+');
    snprintf(src->group[1], GROUP_SIZE, "%s/%c0", req->tenant, q->sort_by[0]);
    return source_count(req, src);
}

/* The one value every item of list holds, or NULL when they differ (or there are none). */
static const char *only_value(const json_t *list)
{
    const char *first = json_string_value(json_array_get(list, 0));
    size_t i;
    json_t *item;

    json_array_foreach(list, i, item)
    {
        if (strcmp(json_string_value(item), first) != 0)
            return NULL;
    }
    return first;
}

/* The filter group of kind ("status", "campaign") for value, in group; 0 when it does not fit. */
static int filter_group(struct req *req, const char *kind, const char *value, char *group)
{
    return snprintf(group, GROUP_SIZE, "%s/%s/%s", req->tenant, kind, value) < GROUP_SIZE &&
           group_fits(group);
}

/* Replaces *src by the group of kind for list's one value when that group is smaller. Only for
 * the default order (createdAt, newest first), which filter groups keep. */
static int source_narrower(struct req *req, const char *kind, const json_t *list,
                           struct source *src)
{
    const char *value = list ? only_value(list) : NULL;
    struct source cand = {.ngroups = 1};
    int rc;

    if (value == NULL || !filter_group(req, kind, value, cand.group[0]))
        return EMU_OK;
    rc = source_count(req, &cand);
    if (rc != EMU_OK || cand.count[0] > source_total(src))
        return rc;
    cand.by_status = strcmp(kind, "status") == 0;
    cand.by_campaign = !cand.by_status;
    *src = cand;
    return EMU_OK;
}

/* The number of live contacts whose kind is one of list's values, counted from their groups;
 * 0 with *known unset when a group is too long to count. */
static int count_union(struct req *req, const char *kind, const json_t *list, uint64_t *total,
                       int *known)
{
    char group[GROUP_SIZE];
    size_t i, j;
    json_t *item;
    int rc = EMU_OK;

    *total = 0;
    *known = 1;
    json_array_foreach(list, i, item)
    {
        const char *value = json_string_value(item);
        uint64_t n;
        int seen = 0;

        for (j = 0; j < i && !seen; j++)
            seen = strcmp(json_string_value(json_array_get(list, j)), value) == 0;
        if (seen)
            continue;
        if (!filter_group(req, kind, value, group)) {
            *known = 0;
            return EMU_OK;
        }
        if ((rc = store_count(req->txn, GUAYABA_CONTACTS, GUAYABA_LIST_INDEX, group, &n)) != EMU_OK)
            return rc;
        *total += n;
    }
    return rc;
}

/* Fills p with the page that starts at first (up to limit contacts) and sets *total. */
static int read_page(struct req *req, const struct contact_query *q, uint64_t first, struct page *p,
                     uint64_t *total)
{
    struct contact_filter f = {q->statuses, q->campaigns, NULL, q->by_name, q->by_phone, 0};
    struct contact_filter all;
    struct tally tally = {&all, 0};
    struct source src;
    char prefix[80];
    uint64_t contacts;
    int known = 0, rc;

    *total = 0;
    if ((q->statuses && json_array_size(q->statuses) == 0) ||
        (q->campaigns && json_array_size(q->campaigns) == 0))
        return EMU_OK; /* "status=," keeps no contact */
    if (q->search != NULL && q->search[0] != '\0')
        f.search = q->search;
    all = f;
    all.live = 1;
    rc = source_sorted(req, q, &src);
    contacts = source_total(&src);
    if (rc == EMU_OK && strcmp(q->sort_by, "createdAt") == 0 && q->descending) {
        rc = source_narrower(req, "status", q->statuses, &src);
        if (rc == EMU_OK)
            rc = source_narrower(req, "campaign", q->campaigns, &src);
    }
    if (rc != EMU_OK)
        return rc;
    if (src.by_status)
        f.statuses = NULL;
    if (src.by_campaign)
        f.campaigns = NULL;
    if (f.statuses == NULL && f.campaigns == NULL && f.search == NULL) {
        *total = p->total = source_total(&src);
        return first < *total ? walk(req, &src, first, p) : EMU_OK;
    }
    /* One filter over the sort order: its total is its groups' counts. Otherwise a pass over
     * the table counts, unless the group is small enough that walking it to the end costs less
     * (a walk seeks each contact; the pass reads the tenant's in a row). */
    if (f.search == NULL && (f.statuses == NULL) != (f.campaigns == NULL) && src.ngroups == 2)
        rc = f.statuses ? count_union(req, "status", f.statuses, total, &known)
                        : count_union(req, "campaign", f.campaigns, total, &known);
    if (rc == EMU_OK && !known && source_total(&src) * WALK_COST >= contacts) {
        snprintf(prefix, sizeof(prefix), "%s/", req->tenant);
        rc = store_scan_raw(req->txn, GUAYABA_CONTACTS, prefix, count_stored, &tally);
        *total = tally.n;
        known = 1;
    }
    if (rc != EMU_OK || (known && first >= *total))
        return rc;
    p->filter = &f;
    p->skip = first;
    p->total = *total;
    p->count_all = !known;
    rc = walk(req, &src, 0, p);
    p->filter = NULL;
    if (!known)
        *total = p->met;
    return rc;
}

/* ---- GET /contacts ---- */

static json_t *member(const json_t *doc, const char *key)
{
    json_t *v = json_object_get(doc, key);

    return v ? v : json_null();
}

/* {id, name} of a contact's campaign, looked up once per campaign per request. */
static json_t *campaign_ref(struct req *req, json_t *cache, const char *id)
{
    json_t *hit = json_object_get(cache, id), *campaign;

    if (hit == NULL) {
        if (guayaba_campaigns_find(req, id, &campaign) == EMU_OK) {
            hit = json_pack("{s:s,s:O}", "id", id, "name", member(campaign, "name"));
            json_decref(campaign);
        } else {
            hit = json_null();
        }
        json_object_set_new(cache, id, hit);
    }
    return hit;
}

/* A contact as the list shows it. New. */
static json_t *list_item(struct req *req, json_t *cache, const json_t *c)
{
    json_t *ref = campaign_ref(req, cache, jsonx_string(c, "campaignId"));
    json_t *campaigns = json_is_null(ref) ? json_array() : json_pack("[O]", ref);

    return json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:o*}", "id", member(c, "id"), "name",
                     member(c, "name"), "phoneNumber", member(c, "phoneNumber"), "timezone",
                     member(c, "timezone"), "status", member(c, "status"), "customVariables",
                     member(c, "customVariables"), "createdAt", member(c, "createdAt"),
                     "fulfilledAt", member(c, "fulfilledAt"), "reAddedAt", member(c, "reAddedAt"),
                     "campaigns", campaigns);
}

int guayaba_contacts_list(struct req *req, struct res *res)
{
    struct contact_query q = {0};
    struct page p = {0};
    json_t *contacts = json_array(), *cache = json_object(), *query = NULL, *c;
    int limit = 25, rc;
    json_int_t page = 1;
    uint64_t total = 0;
    size_t i;

    p.contacts = json_array();
    rc = p.contacts && contacts && cache ? guayaba_query(req, res, &query) : EMU_NOMEM;
    if (rc == EMU_OK)
        rc = guayaba_paging(res, query, 25, &page, &limit);
    if (rc == EMU_OK)
        rc = read_query(req, res, query, &q);
    p.req = req;
    p.room = limit;
    /* page is at most 2^53 and limit 100, so the product fits in 64 bits */
    if (rc == EMU_OK)
        rc = read_page(req, &q, (uint64_t)(page - 1) * (uint64_t)limit, &p, &total);
    json_array_foreach(p.contacts, i, c)
    {
        if (rc == EMU_OK && json_array_append_new(contacts, list_item(req, cache, c)) != 0)
            rc = EMU_NOMEM;
    }
    json_decref(p.contacts);
    json_decref(q.statuses);
    json_decref(q.campaigns);
    json_decref(cache);
    json_decref(query); /* q.search was borrowed from it */
    if (rc != EMU_OK) {
        json_decref(contacts);
        return rc;
    }
    return res_json(res, 200,
                    json_pack("{s:o,s:{s:I,s:I,s:i}}", "contacts", contacts, "pagination", "total",
                              (json_int_t)total, "page", page, "limit", limit));
}
