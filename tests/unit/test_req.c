/* test_req.c -- query and form values read whole, PHP's bracket names, and request bodies read
 * as each vendor's framework reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "form.h"
#include "req.h"
#include "vendor_list.h"
#include "vendors.h"

static void set_request(struct req *req, const char *method, const char *type, const char *body,
                        size_t len)
{
    memset(req, 0, sizeof(*req));
    req->method = method;
    req->body = body;
    req->body_len = len;
    if (type != NULL) {
        req->headers[0].name = "Content-Type";
        req->headers[0].value = type;
        req->nheaders = 1;
    }
}

static json_t *parse_json(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);

    assert_non_null(v);
    return v;
}

static void assert_json(const json_t *got, const char *want_text)
{
    json_t *want = parse_json(want_text);

    if (!json_equal(got, want)) {
        char *dump = json_dumps(got, JSON_SORT_KEYS);

        fail_msg("got %s, want %s", dump ? dump : "(null)", want_text);
    }
    json_decref(want);
}

static void test_decode(void **state)
{
    char *out = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(form_decode("a+b%41%2b%zz%4", 14, &out, &n), EMU_OK);
    assert_string_equal(out, "a bA+%zz%4"); /* a '%' without two hex digits stays */
    assert_int_equal(n, 10);
    free(out);
    assert_int_equal(form_decode("%C3%A9", 6, &out, NULL), EMU_OK);
    assert_string_equal(out, "\xc3\xa9");
    free(out);
    assert_int_equal(form_decode("a%00b", 5, &out, NULL), EMU_BAD_REQUEST);
    assert_null(out);
    assert_int_equal(form_decode("%C3%28", 6, &out, NULL), EMU_BAD_REQUEST);
    assert_int_equal(form_decode("%ED%A0%80", 9, &out, NULL), EMU_BAD_REQUEST); /* surrogate */
    assert_int_equal(form_decode("%C0%AF", 6, &out, NULL), EMU_BAD_REQUEST);    /* overlong */
    assert_int_equal(form_decode("", 0, &out, NULL), EMU_OK);
    assert_string_equal(out, "");
    free(out);
}

/* A query of n ids, "filter%5Bid%5D%5Bin%5D=1,2,...", and its decoded value. */
static char *long_query(int n, char **value)
{
    size_t cap = (size_t)n * 8 + 64, used, vused = 0;
    char *q = malloc(cap), *v = malloc(cap);

    assert_non_null(q);
    assert_non_null(v);
    used = (size_t)snprintf(q, cap, "page=1&filter%%5Bid%%5D%%5Bin%%5D=");
    for (int i = 1; i <= n; i++) {
        used += (size_t)snprintf(q + used, cap - used, i > 1 ? "%%2C%d" : "%d", i);
        vused += (size_t)snprintf(v + vused, cap - vused, i > 1 ? ",%d" : "%d", i);
    }
    snprintf(q + used, cap - used, "&page=2");
    *value = v;
    return q;
}

static void test_query_whole(void **state)
{
    char *want, *query = long_query(3000, &want), small[16], *big;
    const char *got = NULL;
    json_t *all = NULL;
    struct req req;

    (void)state;
    set_request(&req, "GET", NULL, "", 0);
    req.query = query;
    assert_true(strlen(want) > 10000);
    /* the *_all reader: literal names, the whole value, the last of a repeated name */
    assert_int_equal(req_query_all(&req, &all), EMU_OK);
    assert_string_equal(json_string_value(json_object_get(all, "filter[id][in]")), want);
    assert_string_equal(json_string_value(json_object_get(all, "page")), "2");
    json_decref(all);
    /* one value: the first, borrowed until req_clear */
    assert_int_equal(req_query_value(&req, "filter[id][in]", &got), EMU_OK);
    assert_string_equal(got, want);
    assert_int_equal(req_query_value(&req, "page", &got), EMU_OK);
    assert_string_equal(got, "1");
    assert_int_equal(req_query_value(&req, "Page", &got), EMU_NOT_FOUND); /* exact names */
    assert_int_equal(req_query_value(&req, "filter", &got), EMU_NOT_FOUND);
    /* into a buffer: whole when it fits, refused when not */
    big = malloc(strlen(want) + 1);
    assert_int_equal(req_query(&req, "filter[id][in]", big, strlen(want) + 1), EMU_OK);
    assert_string_equal(big, want);
    assert_int_equal(req_query(&req, "filter[id][in]", small, sizeof(small)), EMU_BAD_REQUEST);
    assert_int_equal(req_query(&req, "nope", small, sizeof(small)), EMU_NOT_FOUND);
    req.query = NULL;
    assert_int_equal(req_query(&req, "page", small, sizeof(small)), EMU_NOT_FOUND);
    req_clear(&req); /* frees what req_query_value lent */
    assert_null(req.kept);
    free(big);
    free(query);
    free(want);
}

static void test_long_names_and_bad_text(void **state)
{
    char query[1200];
    json_t *all = NULL;
    struct req req;

    (void)state;
    memset(query, 'n', 600);
    strcpy(query + 600, "=v&x=%ff");
    set_request(&req, "GET", NULL, "", 0);
    req.query = query;
    assert_int_equal(req_query_all(&req, &all), EMU_BAD_REQUEST); /* x is not text */
    assert_null(all);
    query[600 + 3] = '\0'; /* "nnn...=v" */
    assert_int_equal(req_query_all(&req, &all), EMU_OK);
    assert_int_equal(json_object_size(all), 1);
    query[600] = '\0'; /* the name alone */
    assert_string_equal(json_string_value(json_object_get(all, query)), "v");
    json_decref(all);
}

static void test_form_body(void **state)
{
    static const char body[] = "auth_token=tok&name=A+B&flag&empty=&name=C";
    const char *got = NULL;
    char buf[8];
    struct req req;

    (void)state;
    set_request(&req, "POST", "application/x-www-form-urlencoded", body, sizeof(body) - 1);
    assert_int_equal(req_form_value(&req, "name", &got), EMU_OK);
    assert_string_equal(got, "A B");
    assert_int_equal(req_form_value(&req, "flag", &got), EMU_OK);
    assert_string_equal(got, "");
    assert_int_equal(req_form(&req, "auth_token", buf, sizeof(buf)), EMU_OK);
    assert_string_equal(buf, "tok");
    assert_int_equal(req_form(&req, "missing", buf, sizeof(buf)), EMU_NOT_FOUND);
    req_clear(&req);
}

static void php(const char *text, const char *want)
{
    json_t *got = NULL;

    assert_int_equal(form_parse(text, strlen(text), FORM_PHP, &got), EMU_OK);
    assert_json(got, want);
    json_decref(got);
}

static void test_php_names(void **state)
{
    (void)state;
    php("a[]=1&a[]=2", "{\"a\":[\"1\",\"2\"]}");
    php("a[b]=c&a[d][e]=f", "{\"a\":{\"b\":\"c\",\"d\":{\"e\":\"f\"}}}");
    php("a%5B%5D=1&a%5B%5D=2", "{\"a\":[\"1\",\"2\"]}"); /* brackets may come encoded */
    php("a[0]=x&a[1]=y", "{\"a\":[\"x\",\"y\"]}");
    php("a[1]=x", "{\"a\":{\"1\":\"x\"}}");
    php("a[x]=1&a[]=2", "{\"a\":{\"x\":\"1\",\"0\":\"2\"}}");
    php("a[5]=1&a[]=2", "{\"a\":{\"5\":\"1\",\"6\":\"2\"}}");
    php("a=1&a[]=2", "{\"a\":[\"2\"]}");
    php("a[]=1&a=2", "{\"a\":\"2\"}");
    php("a b.c=1", "{\"a_b_c\":\"1\"}");
    php("+a=1", "{\"a\":\"1\"}"); /* leading spaces go */
    php("a[b=1", "{\"a_b\":\"1\"}");
    php("a[b.c=1", "{\"a_b_c\":\"1\"}");
    php("a[b]c=1", "{\"a\":{\"b\":\"1\"}}");
    php("a[b][c=1", "{\"a\":{\"b\":\"1\"}}");
    php("a[ ]=1&a[ b]=2", "{\"a\":{\"0\":\"1\",\" b\":\"2\"}}");
    php("[a]=1&=2&&x", "{\"x\":\"\"}");
    php("a[b.c]=1", "{\"a\":{\"b.c\":\"1\"}}");  /* only the base name changes */
    php("0=a&1=b", "{\"0\":\"a\",\"1\":\"b\"}"); /* the top level stays an object */
    php("a[][]=1&a[][]=2", "{\"a\":[[\"1\"],[\"2\"]]}");
}

static void test_php_bounds(void **state)
{
    size_t cap = 16 * (FORM_PHP_MAX_VARS + 10), n = 0;
    char *text = malloc(cap);
    json_t *got = NULL;

    (void)state;
    assert_non_null(text);
    /* 64 levels are kept, 65 dropped */
    for (int depth = FORM_PHP_MAX_DEPTH; depth <= FORM_PHP_MAX_DEPTH + 1; depth++) {
        n = (size_t)snprintf(text, cap, "d");
        for (int i = 0; i < depth; i++)
            n += (size_t)snprintf(text + n, cap - n, "[k]");
        snprintf(text + n, cap - n, "=1&x=2");
        assert_int_equal(form_parse(text, strlen(text), FORM_PHP, &got), EMU_OK);
        assert_int_equal(json_object_size(got), depth <= FORM_PHP_MAX_DEPTH ? 2 : 1);
        json_decref(got);
    }
    /* at most 1000 fields */
    n = 0;
    for (int i = 0; i < FORM_PHP_MAX_VARS + 5; i++)
        n += (size_t)snprintf(text + n, cap - n, "f%d=1&", i);
    assert_int_equal(form_parse(text, n, FORM_PHP, &got), EMU_OK);
    assert_int_equal(json_object_size(got), FORM_PHP_MAX_VARS);
    json_decref(got);
    assert_int_equal(form_parse(text, n, 0, &got), EMU_OK); /* plain names: no such limit */
    assert_int_equal(json_object_size(got), FORM_PHP_MAX_VARS + 5);
    json_decref(got);
    free(text);
}

struct body_case {
    int kind;
    const char *method, *type, *body;
    int rc;           /* what req_read_body returns */
    const char *json; /* req->json after it, when rc is EMU_OK */
};

static void test_read_body(void **state)
{
    static const char multipart[] =
        "--b\r\nContent-Disposition: form-data; name=\"phone\"\r\n\r\n+1555\r\n"
        "--b\r\nContent-Disposition: form-data; name=\"media_file\"; filename=\"a.pdf\"\r\n"
        "Content-Type: application/pdf\r\n\r\n%PDF\r\n--b--\r\n";
    static const struct body_case cases[] = {
        /* Express: JSON content types only; a byte order mark skipped */
        {VENDOR_BODY_EXPRESS, "POST", "application/json", "{\"a\":1}", EMU_OK, "{\"a\":1}"},
        {VENDOR_BODY_EXPRESS, "POST", "Application/JSON; charset=utf-8", "\xEF\xBB\xBF{\"a\":1}",
         EMU_OK, "{\"a\":1}"},
        {VENDOR_BODY_EXPRESS, "POST", "application/vnd.api+json", "{\"a\":1}", EMU_OK, "{\"a\":1}"},
        {VENDOR_BODY_EXPRESS, "POST", "text/plain", "{\"a\":1}", EMU_OK, "{}"},
        {VENDOR_BODY_EXPRESS, "POST", NULL, "{\"a\":1}", EMU_OK, "{}"},
        {VENDOR_BODY_EXPRESS, "POST", "application/jsonx", "{\"a\":1}", EMU_OK, "{}"},
        {VENDOR_BODY_EXPRESS, "POST", "application/x-www-form-urlencoded", "a=1", EMU_OK, "{}"},
        {VENDOR_BODY_EXPRESS, "POST", "application/json", "{\"a\":", EMU_BAD_JSON, NULL},
        {VENDOR_BODY_EXPRESS, "POST", "application/json", "[1]", EMU_BAD_REQUEST, NULL},
        {VENDOR_BODY_EXPRESS, "POST", "application/json", "", EMU_OK, "{}"},
        /* Laravel: JSON and forms; JSON it cannot decode is no input */
        {VENDOR_BODY_LARAVEL, "POST", "application/json", "{\"a\":1}", EMU_OK, "{\"a\":1}"},
        {VENDOR_BODY_LARAVEL, "POST", "application/json", "\xEF\xBB\xBF{\"a\":1}", EMU_OK, "{}"},
        {VENDOR_BODY_LARAVEL, "POST", "application/json", "{\"a\":", EMU_OK, "{}"},
        {VENDOR_BODY_LARAVEL, "POST", "application/json", "[1,2]", EMU_OK, "{}"},
        {VENDOR_BODY_LARAVEL, "PATCH", "text/json", "{\"a\":1}", EMU_OK, "{\"a\":1}"},
        {VENDOR_BODY_LARAVEL, "PUT", "application/x-www-form-urlencoded; charset=UTF-8",
         "ids[]=1&ids[]=2&name=A", EMU_OK, "{\"ids\":[\"1\",\"2\"],\"name\":\"A\"}"},
        {VENDOR_BODY_LARAVEL, "POST", "application/x-www-form-urlencoded", "a=%ff", EMU_BAD_REQUEST,
         NULL},
        {VENDOR_BODY_LARAVEL, "POST", "multipart/form-data; boundary=b", multipart, EMU_OK,
         "{\"phone\":\"+1555\"}"},
        {VENDOR_BODY_LARAVEL, "PATCH", "multipart/form-data; boundary=b", multipart, EMU_OK, "{}"},
        {VENDOR_BODY_LARAVEL, "POST", "multipart/form-data; boundary=other", multipart, EMU_OK,
         "{}"},
        {VENDOR_BODY_LARAVEL, "POST", "text/plain", "a=1", EMU_OK, "{}"},
        {VENDOR_BODY_LARAVEL, "POST", NULL, "{\"a\":1}", EMU_OK, "{}"},
        /* the admin API: JSON whatever the type */
        {VENDOR_BODY_JSON, "POST", NULL, "{\"a\":1}", EMU_OK, "{\"a\":1}"},
        {VENDOR_BODY_JSON, "POST", "text/plain", "{\"a\":1}", EMU_OK, "{\"a\":1}"},
        {VENDOR_BODY_JSON, "POST", "application/json", "{oops", EMU_BAD_JSON, NULL},
        {VENDOR_BODY_JSON, "POST", "application/json", "\"s\"", EMU_BAD_REQUEST, NULL},
        {VENDOR_BODY_JSON, "POST", NULL, "", EMU_OK, "{}"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct body_case *c = &cases[i];
        struct req req;
        struct res res = {0};
        int rc;

        set_request(&req, c->method, c->type, c->body, strlen(c->body));
        rc = req_read_body(&req, &res, c->kind);
        if (rc != c->rc)
            fail_msg("case %zu: rc %d, want %d (%s)", i, rc, c->rc, res.detail);
        if (rc == EMU_OK)
            assert_json(req.json, c->json);
        else
            assert_true(res.detail[0] != '\0');
        if (c->body == multipart && strcmp(c->method, "POST") == 0 && rc == EMU_OK &&
            json_object_size(req.json) > 0) {
            const struct req_file *f = req_file(&req, "media_file");

            assert_int_equal(req.nfiles, 1);
            assert_non_null(f);
            assert_string_equal(f->filename, "a.pdf");
            assert_string_equal(f->content_type, "application/pdf");
            assert_int_equal(f->len, 4);
            assert_memory_equal(f->data, "%PDF", 4);
            assert_null(req_file(&req, "phone"));
        } else {
            assert_int_equal(req.nfiles, 0);
        }
        req_clear(&req);
        res_clear(&res);
    }
}

/* A sentence longer than res->detail is cut at a character boundary, never mid-character. */
static void test_fail_cuts_whole_characters(void **state)
{
    struct res res = {0};
    char value[1200];

    (void)state;
    for (size_t i = 0; i + 2 < sizeof(value); i += 2)
        memcpy(value + i, "\xc3\xa9", 2); /* é, two bytes each */
    value[sizeof(value) - 2] = '\0';
    assert_int_equal(res_fail(&res, EMU_BAD_REQUEST, "x%s", value), EMU_BAD_REQUEST);
    /* "x" then whole two-byte characters: an odd length */
    assert_int_equal(strlen(res.detail) % 2, 1);
    assert_true(strlen(res.detail) >= sizeof(res.detail) - 3);
    res_fail(&res, EMU_BAD_REQUEST, "%s", value);
    assert_int_equal(strlen(res.detail) % 2, 0);
    res_clear(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_query_whole),
        cmocka_unit_test(test_long_names_and_bad_text),
        cmocka_unit_test(test_form_body),
        cmocka_unit_test(test_php_names),
        cmocka_unit_test(test_php_bounds),
        cmocka_unit_test(test_read_body),
        cmocka_unit_test(test_fail_cuts_whole_characters),
    };

    vendor_list_register(); /* as main does: the vendors the core serves */

    return cmocka_run_group_tests(tests, NULL, NULL);
}
