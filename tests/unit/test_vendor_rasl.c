/* test_vendor_rasl.c -- RASL's named resources and group membership called directly with a
 * request struct: the envelope of a list, a status created and refused (a taken name, a bad
 * colour), a 404 in the vendor's words, a status in use refused on delete, and contacts added
 * to a group (contact 2 of the fixtures is in group 1 already). Then the indexed contact list
 * against a full scan of the table on random contacts (each filter, search, sorts, pages; then
 * again with an odd row that sends lists to the table), every page of many contacts, phone and
 * email uniqueness after updates and deletes, a group's deletion leaving its contacts, the
 * message log's order and filters, and the indexes checked against their tables. */
#include "vendor_world.h"

#include <strings.h>

#include "vendors/rasl/rasl.h"

static json_t *run(struct world *w, route_fn *handler, const char *method, const char *pattern,
                   const char *path, const char *json, int *status)
{
    struct call c = {&vendor_rasl, handler, method, pattern, path, .json = json};
    struct res res;
    json_t *body;

    world_call(w, &c, &res, &body);
    *status = res.status;
    res_clear(&res);
    return body;
}

static void test_list_envelope(void **state)
{
    int status;
    json_t *body = run(*state, rasl_statuses_list, NULL, "/api/v2/statuses", NULL, NULL, &status);

    assert_int_equal(status, 200);
    assert_true(json_is_true(json_object_get(body, "success")));
    assert_int_equal(json_array_size(json_object_get(body, "data")), 8);
    assert_non_null(world_text(body, "meta.request_id"));
    assert_string_equal(world_text(body, "meta.timestamp"), "2026-01-01T00:00:00+00:00");
    json_decref(body);
}

static void test_create_and_refusals(void **state)
{
    int status;
    json_t *body = run(*state, rasl_statuses_create, "POST", "/api/v2/statuses", NULL,
                       "{\"name\": \"Hot\", \"color\": \"#FF0000\"}", &status);

    assert_int_equal(status, 201);
    assert_string_equal(world_text(body, "message"), "Status created successfully");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(body, "data"), "id")), 9);
    json_decref(body);
    body = run(*state, rasl_statuses_create, "POST", "/api/v2/statuses", NULL,
               "{\"name\": \"hot\", \"color\": \"red\"}", &status);
    assert_int_equal(status, 422);
    assert_string_equal(world_text(body, "error.code"), "VALIDATION_ERROR");
    assert_string_equal(
        json_string_value(json_array_get(
            json_object_get(json_object_get(json_object_get(body, "error"), "details"), "name"),
            0)),
        "A status with this name already exists.");
    assert_non_null(
        json_object_get(json_object_get(json_object_get(body, "error"), "details"), "color"));
    json_decref(body);
}

static void test_not_found_and_in_use(void **state)
{
    int status;
    json_t *body = run(*state, rasl_sources_get, NULL, "/api/v2/sources/{id}",
                       "/api/v2/sources/999", NULL, &status);

    assert_int_equal(status, 404);
    assert_string_equal(world_text(body, "error.code"), "NOT_FOUND");
    assert_string_equal(world_text(body, "error.message"), "Source not found.");
    json_decref(body);
    body = run(*state, rasl_statuses_delete, "DELETE", "/api/v2/statuses/{id}",
               "/api/v2/statuses/1", NULL, &status);
    assert_int_equal(status, 409);
    assert_string_equal(world_text(body, "error.code"), "RESOURCE_CONFLICT");
    json_decref(body);
}

static void test_group_membership(void **state)
{
    int status;
    json_t *body = run(*state, rasl_groups_add_contacts, "POST", "/api/v2/groups/{id}/contacts",
                       "/api/v2/groups/1/contacts", "{\"contact_ids\": [1, \"3\"]}", &status);

    assert_int_equal(status, 200);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(body, "data"), "contacts_added")), 2);
    json_decref(body);
    body = run(*state, rasl_groups_add_contacts, "POST", "/api/v2/groups/{id}/contacts",
               "/api/v2/groups/1/contacts", "{\"contact_ids\": [1]}", &status);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(body, "data"), "contacts_added")),
        0); /* already a member */
    json_decref(body);
    body = run(*state, rasl_groups_add_contacts, "POST", "/api/v2/groups/{id}/contacts",
               "/api/v2/groups/1/contacts", "{\"contact_ids\": []}", &status);
    assert_int_equal(status, 422);
    json_decref(body);
}

/* ---- the indexed list against a full scan ---- */

static unsigned long long lcg_state = 42;

static unsigned lcg(unsigned n)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((lcg_state >> 33) % n);
}

/* Writes contacts 31..30+n of demo with random members (the fixtures hold 1..30). */
static void add_random_contacts(struct world *w, int n)
{
    static const char *const first[] = {"Sara", "ali", "Amal", "Omar", "Zed"};
    static const char *const types[] = {"lead", "customer", "guest"};
    struct store_txn *txn;

    assert_int_equal(store_txn_begin(w->app.store, 1, &txn), EMU_OK);
    for (int i = 31; i <= 30 + n; i++) {
        char key[32], phone[32], email[48], at[32];
        json_t *groups = json_array(), *doc;

        snprintf(key, sizeof(key), "demo/%010d", i);
        snprintf(phone, sizeof(phone), "+1666%07d", i);
        snprintf(email, sizeof(email), "Mail%d@Example.com", i);
        snprintf(at, sizeof(at), "2025-07-%02uT08:00:00+00:00", 1 + lcg(4));
        for (int g = 1; g <= 4; g++)
            if (lcg(3) == 0)
                json_array_append_new(groups, json_integer(g));
        doc = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:o,s:o,s:b,s:s,s:s}", "id", i,
                        "firstname", first[lcg(5)], "lastname", "L", "type", types[lcg(3)], "email",
                        email, "phone", phone, "status_id", (int)(1 + lcg(4)), "source_id",
                        lcg(20) == 0 ? 4 : (int)(1 + lcg(3)), "assigned_id",
                        lcg(2) ? json_integer(1 + lcg(3)) : json_null(), "group_id", groups,
                        "is_opted_out", 0, "created_at", at, "updated_at", at);
        assert_int_equal(store_put(txn, RASL_CONTACTS, key, doc), EMU_OK);
        json_decref(doc);
    }
    assert_int_equal(store_txn_commit(txn), EMU_OK);
}

/* What a reference query asks: an equality on one member, a search, a sort on one member. */
struct ref_query {
    const char *field, *value; /* NULL: no filter */
    const char *term;          /* NULL: no search */
    const char *sort;          /* NULL, "firstname", "-created_at", "-id" */
    int page, per_page;
};

static int ref_matches(const json_t *row, const struct ref_query *r)
{
    json_t *v;
    size_t i;

    if (r->field != NULL) {
        v = json_object_get(row, r->field);
        if (json_is_array(v)) {
            json_t *item;
            int hit = 0;

            json_array_foreach(v, i, item) hit |=
                json_is_integer(item) && json_integer_value(item) == atoll(r->value);
            if (!hit)
                return 0;
        } else if (json_is_integer(v)
                       ? json_integer_value(v) != atoll(r->value)
                       : !json_is_string(v) || strcmp(json_string_value(v), r->value) != 0) {
            return 0;
        }
    }
    if (r->term != NULL) {
        static const char *const searched[] = {"firstname", "lastname", "email", "phone",
                                               "company"};
        int hit = 0;

        for (i = 0; i < 5; i++) {
            const char *s = jsonx_string(row, searched[i]);

            hit |= s != NULL && strcasestr(s, r->term) != NULL;
        }
        return hit;
    }
    return 1;
}

static int ref_compare(const json_t *a, const json_t *b, const char *sort)
{
    int desc = sort != NULL && sort[0] == '-';
    const char *field = sort ? sort + desc : "id";
    json_t *x = json_object_get(a, field), *y = json_object_get(b, field);
    int c = json_is_string(x) ? strcmp(json_string_value(x), json_string_value(y))
                              : (json_integer_value(x) > json_integer_value(y)) -
                                    (json_integer_value(x) < json_integer_value(y));

    if (c != 0)
        return desc ? -c : c;
    return (json_integer_value(json_object_get(a, "id")) >
            json_integer_value(json_object_get(b, "id"))) -
           (json_integer_value(json_object_get(a, "id")) <
            json_integer_value(json_object_get(b, "id")));
}

static int collect(const char *key, json_t *doc, void *arg)
{
    (void)key;
    json_array_append(arg, doc);
    return 0;
}

/* The ids of the page r asks for, and the total, by a full scan of the table. */
static json_t *ref_page(struct world *w, const struct ref_query *r, long *total)
{
    struct store_txn *txn;
    json_t *all = json_array(), *kept = json_array(), *page = json_array(), *row;
    size_t i, n;

    assert_int_equal(store_txn_begin(w->app.store, 0, &txn), EMU_OK);
    assert_int_equal(store_scan(txn, RASL_CONTACTS, "demo/", collect, all), EMU_OK);
    store_txn_abort(txn);
    json_array_foreach(all, i, row) if (ref_matches(row, r)) json_array_append(kept, row);
    n = json_array_size(kept);
    for (i = 1; i < n; i++) /* insertion sort: stable, and the lists are short */
        for (size_t j = i; j > 0 && ref_compare(json_array_get(kept, j - 1),
                                                json_array_get(kept, j), r->sort) > 0;
             j--) {
            json_t *t = json_incref(json_array_get(kept, j));

            json_array_set(kept, j, json_array_get(kept, j - 1));
            json_array_set_new(kept, j - 1, t);
        }
    for (i = (size_t)(r->page - 1) * (size_t)r->per_page;
         i < n && i < (size_t)r->page * (size_t)r->per_page; i++)
        json_array_append(page, json_object_get(json_array_get(kept, i), "id"));
    *total = (long)n;
    json_decref(all);
    json_decref(kept);
    return page;
}

/* The ids of the page the handler answers r with, and its total. */
static json_t *list_page(struct world *w, const struct ref_query *r, long *total)
{
    char query[256];
    int n = snprintf(query, sizeof(query), "page=%d&per_page=%d", r->page, r->per_page);
    struct call c = {&vendor_rasl, rasl_contacts_list, NULL, "/api/v2/contacts", .query = query};
    json_t *body, *page = json_array(), *item;
    struct res res;
    size_t i;

    if (r->field != NULL)
        n += snprintf(query + n, sizeof(query) - (size_t)n, "&filter[%s]=%s", r->field, r->value);
    if (r->term != NULL)
        n += snprintf(query + n, sizeof(query) - (size_t)n, "&search=%s", r->term);
    if (r->sort != NULL)
        snprintf(query + n, sizeof(query) - (size_t)n, "&sort=%s", r->sort);
    assert_int_equal(world_call(w, &c, &res, &body), EMU_OK);
    json_array_foreach(json_object_get(body, "data"), i, item)
        json_array_append(page, json_object_get(item, "id"));
    *total = (long)json_integer_value(
        json_object_get(json_object_get(json_object_get(body, "meta"), "pagination"), "total"));
    json_decref(body);
    res_clear(&res);
    return page;
}

/* Opens the world's store again: a full seed empties core.meta, where the store notes which
 * indexes it built, so the first opening after one rebuilds them, and store_check then checks
 * what the writes since did to them. */
static void reopen(struct world *w)
{
    store_close(w->app.store);
    assert_int_equal(store_open(&w->app.store, w->dir, w->app.cfg.map_size, vendors_store_tables(),
                                vendors_store_indexes()),
                     EMU_OK);
}

static void check_indexes(struct world *w, char *report, size_t len)
{
    if (store_check(w->app.store, report, len) != EMU_OK)
        fail_msg("the indexes disagree with their tables:\n%s", report);
}

static void compare_random_queries(struct world *w, int count)
{
    static const char *const fields[] = {"type",        "status_id", "source_id",
                                         "assigned_id", "group_id",  NULL};
    static const char *const values[][4] = {
        {"lead", "customer", "guest", "nobody"},
        {"1", "2", "4", "9"},
        {"1", "4", "3", "7"}, /* 4: a few rows, read through the index */
        {"1", "2", "3", "x"},
        {"1", "2", "4", "5"}};
    static const char *const terms[] = {"sa", "MAIL1", "6660000", "zz", NULL};
    static const char *const sorts[] = {"firstname", "-created_at", "-id", "id", NULL};

    for (int i = 0; i < count; i++) {
        int f = (int)lcg(6);
        struct ref_query r = {
            .field = fields[f < 5 ? f : 5],
            .value = f < 5 ? values[f][lcg(4)] : NULL,
            .term = lcg(3) == 0 ? terms[lcg(5)] : NULL,
            .sort = lcg(2) == 0 ? sorts[lcg(5)] : NULL,
            .page = 1 + (int)lcg(12),
            .per_page = lcg(2) ? 15 : 1 + (int)lcg(100),
        };
        long want_total, got_total;
        json_t *want = ref_page(w, &r, &want_total), *got = list_page(w, &r, &got_total);

        if (!json_equal(want, got) || want_total != got_total)
            fail_msg("query %d: field %s=%s term %s sort %s page %d/%d: %ld rows, %ld expected", i,
                     r.field ? r.field : "-", r.value ? r.value : "-", r.term ? r.term : "-",
                     r.sort ? r.sort : "-", r.page, r.per_page, got_total, want_total);
        json_decref(want);
        json_decref(got);
    }
}

static void test_list_matches_full_scan(void **state)
{
    struct world *w = *state;
    struct store_txn *txn;
    json_t *odd;
    char report[512];

    reopen(w);
    add_random_contacts(w, 300);
    compare_random_queries(w, 100);
    /* a contact whose assigned_id is text: the index cannot stand for it, lists read the table */
    odd = json_pack("{s:i,s:s,s:s,s:s,s:n,s:s,s:i,s:i,s:s,s:[],s:b,s:s,s:s}", "id", 900,
                    "firstname", "Odd", "lastname", "L", "type", "lead", "email", "phone",
                    "+17770000900", "status_id", 1, "source_id", 1, "assigned_id", "2", "group_id",
                    "is_opted_out", 0, "created_at", "2025-07-01T08:00:00+00:00", "updated_at",
                    "2025-07-01T08:00:00+00:00");
    assert_int_equal(store_txn_begin(w->app.store, 1, &txn), EMU_OK);
    assert_int_equal(store_put(txn, RASL_CONTACTS, "demo/0000000900", odd), EMU_OK);
    assert_int_equal(store_txn_commit(txn), EMU_OK);
    json_decref(odd);
    compare_random_queries(w, 100);
    check_indexes(w, report, sizeof(report));
}

static void test_paging_many_contacts(void **state)
{
    struct world *w = *state;
    long total, seen = 0;

    add_random_contacts(w, 1000);
    for (int page = 1; page <= 11; page++) {
        struct ref_query r = {.page = page, .per_page = 100};
        json_t *ids = list_page(w, &r, &total);
        size_t i;
        json_t *id;

        assert_int_equal(total, 1030);
        assert_int_equal(json_array_size(ids), page < 11 ? 100 : 30);
        json_array_foreach(ids, i, id) assert_int_equal(json_integer_value(id), ++seen);
        json_decref(ids);
    }
    {
        struct ref_query r = {.sort = "-id", .page = 103, .per_page = 10};
        json_t *ids = list_page(w, &r, &total);

        assert_int_equal(json_array_size(ids), 10);
        assert_int_equal(json_integer_value(json_array_get(ids, 0)), 10);
        assert_int_equal(json_integer_value(json_array_get(ids, 9)), 1);
        json_decref(ids);
    }
}

/* The status of a contact create with this phone and email (NULL: none). */
static int create_contact(struct world *w, const char *phone, const char *email)
{
    char body[256];
    int status;
    json_t *answer;

    snprintf(body, sizeof(body),
             "{\"firstname\": \"U\", \"lastname\": \"V\", \"phone\": \"%s\", \"type\": \"lead\", "
             "\"source_id\": 1, \"status_id\": 1%s%s%s}",
             phone, email ? ", \"email\": \"" : "", email ? email : "", email ? "\"" : "");
    answer = run(w, rasl_contacts_create, "POST", "/api/v2/contacts", NULL, body, &status);
    json_decref(answer);
    return status;
}

static void test_uniqueness_after_updates_and_deletes(void **state)
{
    struct world *w = *state;
    char report[512];
    int status;
    json_t *body;

    reopen(w);
    assert_int_equal(create_contact(w, "+19990000001", "Pat@Example.com"), 201); /* id 31 */
    assert_int_equal(create_contact(w, "+19990000001", NULL), 422);
    assert_int_equal(create_contact(w, "+19990000002", "pat@example.COM"), 422);
    body = run(w, rasl_contacts_update, "PATCH", "/api/v2/contacts/{id}", "/api/v2/contacts/31",
               "{\"phone\": \"+19990000003\", \"email\": \"other@example.com\"}", &status);
    assert_int_equal(status, 200);
    json_decref(body);
    /* its own values again are fine; the old ones are free */
    body = run(w, rasl_contacts_update, "PATCH", "/api/v2/contacts/{id}", "/api/v2/contacts/31",
               "{\"phone\": \"+19990000003\"}", &status);
    assert_int_equal(status, 200);
    json_decref(body);
    assert_int_equal(create_contact(w, "+19990000001", "pat@example.com"), 201); /* id 32 */
    assert_int_equal(create_contact(w, "+19990000003", NULL), 422);
    body = run(w, rasl_contacts_delete, "DELETE", "/api/v2/contacts/{id}", "/api/v2/contacts/31",
               NULL, &status);
    assert_int_equal(status, 200);
    json_decref(body);
    assert_int_equal(create_contact(w, "+19990000003", "OTHER@example.com"), 201);
    /* a batch sees the contacts it created */
    body = run(w, rasl_contacts_batch_create, "POST", "/api/v2/contacts/batch", NULL,
               "{\"contacts\": [{\"firstname\": \"A\", \"lastname\": \"B\", \"phone\": "
               "\"+19990000009\", \"type\": \"lead\", \"source_id\": 1, \"status_id\": 1}, "
               "{\"firstname\": \"A\", \"lastname\": \"B\", \"phone\": \"+19990000009\", "
               "\"type\": \"lead\", \"source_id\": 1, \"status_id\": 1}]}",
               &status);
    assert_int_equal(status, 200);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(body, "data"), "summary"), "created")),
                     1);
    json_decref(body);
    assert_int_equal(create_contact(w, "+19990000009", NULL), 422);
    check_indexes(w, report, sizeof(report));
}

static void test_group_delete_sweeps_members(void **state)
{
    struct world *w = *state;
    char report[512];
    int status;
    json_t *body;
    long total;
    struct ref_query r = {.field = "group_id", .value = "1", .page = 1, .per_page = 100};

    reopen(w);
    add_random_contacts(w, 300);
    json_decref(list_page(w, &r, &total));
    assert_true(total > 50);
    body = run(w, rasl_groups_delete, "DELETE", "/api/v2/groups/{id}", "/api/v2/groups/1", NULL,
               &status);
    assert_int_equal(status, 200);
    json_decref(body);
    json_decref(list_page(w, &r, &total));
    assert_int_equal(total, 0);
    check_indexes(w, report, sizeof(report));
}

/* The ids of a message list page, and its total. */
static json_t *message_page(struct world *w, const char *query, long *total)
{
    struct call c = {&vendor_rasl, rasl_messages_list, NULL, "/api/v2/messages", .query = query};
    json_t *body, *ids = json_array(), *item;
    struct res res;
    size_t i;

    assert_int_equal(world_call(w, &c, &res, &body), EMU_OK);
    json_array_foreach(json_object_get(body, "data"), i, item)
        json_array_append(ids, json_object_get(item, "id"));
    *total = (long)json_integer_value(
        json_object_get(json_object_get(json_object_get(body, "meta"), "pagination"), "total"));
    json_decref(body);
    res_clear(&res);
    return ids;
}

static void test_message_log_order_and_filters(void **state)
{
    struct world *w = *state;
    long total, to_first = 0, hello = 0;
    char body[128], report[512];
    json_t *ids;
    int status;

    reopen(w);
    for (int i = 1; i <= 60; i++) {
        int contact = 1 + (int)lcg(4);

        snprintf(body, sizeof(body), "{\"phone\": \"+155510010%02d\", \"message\": \"%s %d\"}",
                 contact, i % 3 ? "hello" : "bye", i);
        json_decref(
            run(w, rasl_messages_text, "POST", "/api/v2/messages/text", NULL, body, &status));
        assert_int_equal(status, 200);
        to_first += contact == 1;
        hello += i % 3 != 0;
    }
    ids = message_page(w, "per_page=7&page=3", &total); /* newest first */
    assert_int_equal(total, 60);
    assert_int_equal(json_array_size(ids), 7);
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(json_integer_value(json_array_get(ids, i)), 60 - 14 - (long)i);
    json_decref(ids);
    json_decref(message_page(w, "filter[interaction_id]=1", &total));
    assert_int_equal(total, to_first);
    ids = message_page(w, "q=HELLO&per_page=100&sort=created_at", &total);
    assert_int_equal(total, hello);
    /* one instant: the sort keeps the default order, newest first */
    assert_true(json_integer_value(json_array_get(ids, 0)) >
                json_integer_value(json_array_get(ids, 1)));
    json_decref(ids);
    json_decref(message_page(w, "filter[direction]=outbound&filter[type]=text&page=2", &total));
    assert_int_equal(total, 60);
    check_indexes(w, report, sizeof(report));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_envelope, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_create_and_refusals, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_not_found_and_in_use, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_group_membership, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_list_matches_full_scan, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_paging_many_contacts, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(test_uniqueness_after_updates_and_deletes, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(test_group_delete_sweeps_members, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(test_message_log_order_and_filters, world_setup,
                                        world_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
