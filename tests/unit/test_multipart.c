/* test_multipart.c -- multipart/form-data bodies: what clients send, what PHP makes of it, and
 * hostile input (truncated, malformed, oversized, random), which must end in a clean error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "form.h"
#include "multipart.h"

#define CT "multipart/form-data; boundary=XyZ"

struct parsed {
    int rc;
    json_t *fields;
    struct req_file *files;
    int nfiles;
    char why[256];
};

static void parse(struct parsed *p, const char *type, const char *body, size_t len, unsigned flags)
{
    memset(p, 0, sizeof(*p));
    p->nfiles = -1;
    p->rc = multipart_parse(type, body, len, flags, &p->fields, &p->files, &p->nfiles, p->why,
                            sizeof(p->why));
    if (p->rc != EMU_OK) { /* nothing is handed out on failure */
        assert_null(p->fields);
        assert_null(p->files);
        assert_int_equal(p->nfiles, 0);
        assert_true(p->rc == EMU_BAD_REQUEST || p->rc == EMU_UNPROCESSABLE || p->rc == EMU_NOMEM);
        assert_true(p->rc == EMU_NOMEM || p->why[0] != '\0');
    } else {
        assert_non_null(p->fields);
        assert_true(p->nfiles >= 0);
        assert_true((p->nfiles == 0) == (p->files == NULL));
    }
}

static void done(struct parsed *p)
{
    json_decref(p->fields);
    free(p->files);
}

static const char *field(const struct parsed *p, const char *name)
{
    return json_string_value(json_object_get(p->fields, name));
}

static void test_fields_and_file(void **state)
{
    /* the file's bytes hold a NUL, a CRLF and something that looks like a boundary */
    static const char body[] = "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"phone\"\r\n"
                               "\r\n"
                               "+15550001111\r\n"
                               "--XyZ\r\n"
                               "content-disposition: form-data; name=\"media_file\"; "
                               "filename=\"photo.png\"\r\n"
                               "Content-Type: image/png\r\n"
                               "\r\n"
                               "\x89PNG\0\r\n--XyZa\r\n--Xy\r\n"
                               "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"caption\"\r\n"
                               "\r\n"
                               "two\r\nlines\r\n"
                               "--XyZ--\r\n";
    static const char data[] = "\x89PNG\0\r\n--XyZa\r\n--Xy";
    struct parsed p;

    (void)state;
    parse(&p, CT, body, sizeof(body) - 1, 0);
    assert_int_equal(p.rc, EMU_OK);
    assert_int_equal(json_object_size(p.fields), 2);
    assert_string_equal(field(&p, "phone"), "+15550001111");
    assert_string_equal(field(&p, "caption"), "two\r\nlines");
    assert_int_equal(p.nfiles, 1);
    assert_string_equal(p.files[0].field, "media_file");
    assert_string_equal(p.files[0].filename, "photo.png");
    assert_string_equal(p.files[0].content_type, "image/png");
    assert_int_equal(p.files[0].len, sizeof(data) - 1);
    assert_memory_equal(p.files[0].data, data, sizeof(data) - 1);
    assert_true(p.files[0].data >= body && p.files[0].data < body + sizeof(body)); /* borrowed */
    done(&p);
}

static void test_boundary_forms(void **state)
{
    static const char body[] = "--a b:c\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n"
                               "--a b:c--";
    static const char bare[] =
        "--XyZ\r\nContent-Disposition: form-data; name=x\r\n\r\n2\r\n--XyZ--";
    static const char *types[] = {
        "multipart/form-data; boundary=\"a b:c\"",
        "Multipart/Form-Data;charset=utf-8;BOUNDARY=\"a b:c\"",
        "  multipart/form-data ; boundary=\"a b:c\" ; other=1",
    };
    struct parsed p;

    (void)state;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        parse(&p, types[i], body, sizeof(body) - 1, 0);
        assert_int_equal(p.rc, EMU_OK);
        assert_string_equal(field(&p, "x"), "1");
        done(&p);
    }
    /* a bare boundary ends at ';' */
    parse(&p, "multipart/form-data; boundary=XyZ; charset=utf-8", bare, strlen(bare), 0);
    assert_int_equal(p.rc, EMU_OK);
    assert_string_equal(field(&p, "x"), "2");
    done(&p);
}

static void test_bad_content_types(void **state)
{
    static const char body[] =
        "--XyZ\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--XyZ--";
    char longer[400];
    struct parsed p;
    const char *types[] = {
        NULL,
        "",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"",
        "multipart/form-data; boundary=\"XyZ",
        "multipart/mixed; boundary=XyZ",
        "application/x-www-form-urlencoded",
        longer,
    };

    (void)state;
    snprintf(longer, sizeof(longer), "multipart/form-data; boundary=%0*d", 201, 0);
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        parse(&p, types[i], body, sizeof(body) - 1, 0);
        assert_int_equal(p.rc, EMU_BAD_REQUEST);
    }
}

static void test_lf_preamble_epilogue(void **state)
{
    static const char body[] = "This is a preamble.\n--XyZ\n"
                               "Content-Disposition: form-data; name=\"a\"\n\nalpha\n"
                               "--XyZ  \t\r\n"
                               "Content-Disposition: form-data; name=\"b\"\r\n\r\n\r\n"
                               "--XyZ--\r\nan epilogue\r\n--XyZ\r\nignored";
    struct parsed p;

    (void)state;
    parse(&p, CT, body, sizeof(body) - 1, 0);
    assert_int_equal(p.rc, EMU_OK);
    assert_string_equal(field(&p, "a"), "alpha");
    assert_string_equal(field(&p, "b"), ""); /* an empty value */
    assert_int_equal(json_object_size(p.fields), 2);
    done(&p);
}

static void test_skipped_parts(void **state)
{
    static const char body[] = "--XyZ\r\nContent-Disposition: form-data\r\n\r\nno name\r\n"
                               "--XyZ\r\nContent-Disposition: attachment; name=\"att\"\r\n\r\n1\r\n"
                               "--XyZ\r\nContent-Type: text/plain\r\n\r\nno disposition\r\n"
                               "--XyZ\r\n\r\nno headers\r\n"
                               "--XyZ\r\nContent-Disposition: form-data; name=\"kept\"; x; y=\r\n"
                               "\r\nyes\r\n"
                               "--XyZ\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n"
                               "--XyZ--";
    struct parsed p;

    (void)state;
    parse(&p, CT, body, sizeof(body) - 1, 0);
    assert_int_equal(p.rc, EMU_OK);
    assert_int_equal(json_object_size(p.fields), 2);
    assert_string_equal(field(&p, "kept"), "yes");
    assert_string_equal(field(&p, "e"), ""); /* no line break before the delimiter */
    done(&p);
}

static void test_names_and_repeats(void **state)
{
    static const char body[] =
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\\\"b\"\r\n\r\nq\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"r\"\r\n\r\n1\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"r\"\r\n\r\n2\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; "
        "filename=\"C:\\dir\\a.txt\"\r\n\r\nx\r\n"
        "--XyZ--";
    struct parsed p;

    (void)state;
    parse(&p, CT, body, sizeof(body) - 1, 0);
    assert_int_equal(p.rc, EMU_OK);
    assert_string_equal(field(&p, "a\"b"), "q");
    assert_string_equal(field(&p, "r"), "2"); /* the last wins */
    assert_int_equal(p.nfiles, 1);
    assert_string_equal(p.files[0].filename, "C:\\dir\\a.txt"); /* as given */
    assert_string_equal(p.files[0].content_type, "");
    done(&p);
    /* files NULL: uploads are skipped, fields still read */
    {
        json_t *fields = NULL;

        assert_int_equal(
            multipart_parse(CT, body, sizeof(body) - 1, 0, &fields, NULL, NULL, NULL, 0), EMU_OK);
        assert_int_equal(json_object_size(fields), 2);
        json_decref(fields);
    }
}

static void test_php_names_and_files(void **state)
{
    char body[8192];
    size_t n = 0;
    struct parsed p;

    (void)state;
#define PART(name, extra, value)                                                                   \
    n += (size_t)snprintf(body + n, sizeof(body) - n,                                              \
                          "--XyZ\r\nContent-Disposition: form-data; name=\"%s\"%s\r\n\r\n%s\r\n",  \
                          name, extra, value)
    PART("ids[]", "", "1");
    PART("ids[]", "", "2");
    PART("header[type]", "", "image");
    PART("a.b c", "", "v");
    PART("empty", "; filename=\"\"", "");
    PART("media_file", "; filename=\"C:\\Users\\me\\cat.jpg\"", "JPEG");
    for (int i = 0; i < MULTIPART_PHP_MAX_FILES; i++)
        PART("more", "; filename=\"m.txt\"", "m");
#undef PART
    n += (size_t)snprintf(body + n, sizeof(body) - n, "--XyZ--\r\n");
    parse(&p, CT, body, n, FORM_PHP);
    assert_int_equal(p.rc, EMU_OK);
    {
        json_t *want = json_loads("{\"ids\":[\"1\",\"2\"],\"header\":{\"type\":\"image\"},"
                                  "\"a_b_c\":\"v\"}",
                                  0, NULL);

        assert_true(json_equal(p.fields, want));
        json_decref(want);
    }
    /* no file name: no upload; a path is cut to its last part; at most 20 files */
    assert_int_equal(p.nfiles, MULTIPART_PHP_MAX_FILES);
    assert_string_equal(p.files[0].field, "media_file");
    assert_string_equal(p.files[0].filename, "cat.jpg");
    assert_int_equal(p.files[0].len, 4);
    done(&p);
}

static void test_malformed(void **state)
{
    static const char *bodies[] = {
        "",
        "no boundary at all",
        "--XyZ",                                                    /* nothing after it */
        "--XyZ\r\n",                                                /* no headers end */
        "--XyZ\r\nContent-Disposition: form-data; name=x\r\n",      /* ends in headers */
        "--XyZ\r\nContent-Disposition: form-data; name=x\r\n\r\n1", /* no closing boundary */
        "--XyZ\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--XyZ",     /* no line end */
        "--XyZ\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--XyZx",    /* not it */
        "--XyZ\r\nContent-Disposition: form-data; name=\"x\r\n\r\n1\r\n--XyZ--", /* quote */
        "--XyZ\r\nno colon here\r\n\r\n1\r\n--XyZ--",
    };
    /* well-formed, but with text that is not UTF-8 */
    static const char *not_text[] = {
        "--XyZ\r\nContent-Disposition: form-data; name=x\r\n\r\n\xff\xfe\r\n--XyZ--",
        "--XyZ\r\nContent-Disposition: form-data; name=\"\xc3\"\r\n\r\n1\r\n--XyZ--",
        "--XyZ\r\nContent-Disposition: form-data; name=f; filename=\"\xc3\"\r\n\r\n1\r\n"
        "--XyZ--",
    };
    /* "--XyZx" is no delimiter: all before the closing one is a preamble, and no part is left */
    static const char only_preamble[] =
        "--XyZx\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--XyZ--";
    static const char nul[] = "--XyZ\r\nContent-Disposition: form-data; name=x\r\n\r\na\0b\r\n"
                              "--XyZ--";
    struct parsed p;

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        parse(&p, CT, bodies[i], strlen(bodies[i]), 0);
        if (p.rc != EMU_BAD_REQUEST)
            fail_msg("body %zu: expected an error, got %d", i, p.rc);
    }
    for (size_t i = 0; i < sizeof(not_text) / sizeof(not_text[0]); i++) {
        parse(&p, CT, not_text[i], strlen(not_text[i]), 0);
        if (p.rc != EMU_UNPROCESSABLE)
            fail_msg("text %zu: expected EMU_UNPROCESSABLE, got %d", i, p.rc);
    }
    parse(&p, CT, only_preamble, sizeof(only_preamble) - 1, 0);
    assert_int_equal(p.rc, EMU_OK);
    assert_int_equal(json_object_size(p.fields), 0);
    done(&p);
    parse(&p, CT, nul, sizeof(nul) - 1, 0); /* a NUL in a text field */
    assert_int_equal(p.rc, EMU_UNPROCESSABLE);
    assert_non_null(strstr(p.why, "UTF-8"));
}

static void test_bounds(void **state)
{
    size_t cap = 64 * (MULTIPART_MAX_PARTS + 2) + MULTIPART_MAX_HEADERS + 256, n;
    char *body = malloc(cap);
    struct parsed p;

    (void)state;
    assert_non_null(body);
    for (int parts = MULTIPART_MAX_PARTS; parts <= MULTIPART_MAX_PARTS + 1; parts++) {
        n = 0;
        for (int i = 0; i < parts; i++)
            n += (size_t)snprintf(body + n, cap - n,
                                  "--XyZ\r\nContent-Disposition: form-data; name=f%d\r\n\r\n"
                                  "v\r\n",
                                  i);
        n += (size_t)snprintf(body + n, cap - n, "--XyZ--");
        parse(&p, CT, body, n, 0);
        assert_int_equal(p.rc, parts <= MULTIPART_MAX_PARTS ? EMU_OK : EMU_BAD_REQUEST);
        if (p.rc == EMU_OK)
            assert_int_equal(json_object_size(p.fields), MULTIPART_MAX_PARTS);
        done(&p);
    }
    /* a header block past the bound */
    n = (size_t)snprintf(body, cap, "--XyZ\r\nContent-Disposition: form-data; name=x\r\n");
    while (n < MULTIPART_MAX_HEADERS + 64)
        n += (size_t)snprintf(body + n, cap - n, "X-Filler: 0123456789\r\n");
    n += (size_t)snprintf(body + n, cap - n, "\r\n1\r\n--XyZ--");
    parse(&p, CT, body, n, 0);
    assert_int_equal(p.rc, EMU_BAD_REQUEST);
    free(body);
}

/* Every prefix of a valid body, and many random corruptions of it, parse or fail cleanly (the
 * sanitizers watch every byte read). A prefix that cuts the closing delimiter always fails. */
static void test_hostile_mutations(void **state)
{
    static const char valid[] =
        "--XyZ\r\nContent-Disposition: form-data; name=\"a[]\"\r\n\r\n1\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.bin\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n\0\1\2\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"b\\\"\"\r\n\r\nb\r\n--XyZ--";
    static const char alphabet[] = "-\r\n\";=\\[]XyZ\0\xff a";
    size_t len = sizeof(valid) - 1;
    unsigned seed = 12345;
    struct parsed p;
    char buf[sizeof(valid)];

    (void)state;
    for (size_t cut = 0; cut < len; cut++) {
        char *copy = malloc(cut ? cut : 1); /* exactly cut bytes: reading past is caught */

        assert_non_null(copy);
        memcpy(copy, valid, cut);
        parse(&p, CT, copy, cut, cut % 2 ? FORM_PHP : 0);
        assert_int_equal(p.rc, EMU_BAD_REQUEST);
        done(&p);
        free(copy);
    }
    for (int round = 0; round < 20000; round++) {
        size_t n = len;
        int edits = 1 + round % 4;

        memcpy(buf, valid, len);
        for (int e = 0; e < edits; e++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % n;

            seed = seed * 1103515245u + 12345u;
            if ((seed >> 16) % 3 == 0 && n > 1) /* cut the rest */
                n = at + 1;
            else
                buf[at] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
        }
        parse(&p, CT, buf, n, round % 2 ? FORM_PHP : 0);
        done(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_and_file),
        cmocka_unit_test(test_boundary_forms),
        cmocka_unit_test(test_bad_content_types),
        cmocka_unit_test(test_lf_preamble_epilogue),
        cmocka_unit_test(test_skipped_parts),
        cmocka_unit_test(test_names_and_repeats),
        cmocka_unit_test(test_php_names_and_files),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_hostile_mutations),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
