/* test_rasl_uploads.c -- RASL's file uploads, with the request's files filled by hand: a media
 * send takes media_file in place of media_url under the vendor's extension and size rules, a
 * template send takes header_<kind>_file under Laravel's size rule and the same extension
 * rules, and the outbox records each uploaded file's name, type and size.
 *
 * The handlers run as the dispatcher would run them: in a write transaction of a store seeded
 * from the built-in fixtures, for tenant demo, on a fixed clock. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outbox.h"
#include "vendor_world.h"
#include "vendors/rasl/rasl.h"

#define NOW_S 1767225600LL /* 2026-01-01T00:00:00Z */

/* One uploaded file for a request: the array is malloc'd, as req_clear frees it. */
static struct req_file *one_file(const char *field, const char *filename, const char *type,
                                 const char *data, size_t len)
{
    struct req_file *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->field = field;
    f->filename = filename;
    f->content_type = type;
    f->data = data;
    f->len = len;
    return f;
}

/* Runs handler for tenant demo with body (JSON text) and file (owned by the request; may be
 * NULL). Returns the handler's code; res holds the answer or the recorded failure. The
 * transaction commits when the handler succeeds, as the dispatcher's would. */
static int run(struct world *w, int (*handler)(struct req *, struct res *), const char *body,
               struct req_file *file, struct res *res)
{
    struct req req;
    int rc;

    memset(&req, 0, sizeof(req));
    memset(res, 0, sizeof(*res));
    req.app = &w->app;
    req.method = "POST";
    req.path = "/api/v2/messages/media";
    snprintf(req.tenant, sizeof(req.tenant), "demo");
    req.json = json_loads(body, 0, NULL);
    assert_non_null(req.json);
    req.now_ms = clock_now_ms(&w->app.clock);
    req.files = file;
    req.nfiles = file != NULL;
    assert_int_equal(store_txn_begin(w->app.store, 1, &req.txn), EMU_OK);
    rc = handler(&req, res);
    if (rc == EMU_OK)
        assert_int_equal(store_txn_commit(req.txn), EMU_OK);
    else
        store_txn_abort(req.txn);
    req.txn = NULL;
    req_clear(&req);
    return rc;
}

/* A new reference to the answer's body, parsed. */
static json_t *answer(const struct res *res)
{
    json_t *body = json_loadb(res->body, res->body_len, 0, NULL);

    assert_non_null(body);
    return body;
}

/* A new reference to the newest outbox message of phone in tenant demo. */
static json_t *last_message(struct world *w, const char *phone)
{
    struct store_txn *txn;
    json_t *outbox, *messages, *last;

    assert_int_equal(store_txn_begin(w->app.store, 0, &txn), EMU_OK);
    assert_int_equal(
        outbox_read(txn, &(struct outbox_query){.tenant = "demo", .phone = phone}, &outbox),
        EMU_OK);
    store_txn_abort(txn);
    messages = json_object_get(outbox, "messages");
    assert_true(json_array_size(messages) > 0);
    last = json_incref(json_array_get(messages, json_array_size(messages) - 1));
    json_decref(outbox);
    return last;
}

static void test_media_upload_sends_like_a_url(void **state)
{
    struct world *w = *state;
    struct res res;
    json_t *body, *entry;
    char want[200];

    assert_int_equal(run(w, rasl_messages_media,
                         "{\"phone\":\"+15551001002\",\"media_type\":\"image\",\"caption\":\"Hi\"}",
                         one_file("media_file", "My Photo-v2.PNG", "image/png", "PNGDATA", 7),
                         &res),
                     EMU_OK);
    assert_int_equal(res.status, 200);
    body = answer(&res);
    snprintf(want, sizeof(want),
             "http://localhost/storage/whatsapp-attachments/%lld_my_photov2.png", NOW_S);
    assert_string_equal(jsonx_string(json_object_get(body, "data"), "media_url"), want);
    assert_string_equal(jsonx_string(json_object_get(body, "data"), "media_type"), "image");
    json_decref(body);
    res_clear(&res);

    entry = last_message(w, "+15551001002");
    assert_string_equal(jsonx_string(entry, "kind"), "media");
    assert_string_equal(jsonx_string(entry, "file_name"), "My Photo-v2.PNG");
    assert_string_equal(jsonx_string(entry, "file_type"), "image/png");
    assert_int_equal(json_integer_value(json_object_get(entry, "file_size")), 7);
    json_decref(entry);
}

static void test_media_upload_without_type_records_null(void **state)
{
    struct world *w = *state;
    struct res res;
    json_t *entry;

    assert_int_equal(run(w, rasl_messages_media,
                         "{\"phone\":\"+15551001003\",\"media_type\":\"document\","
                         "\"media_url\":\"https://example.com/ignored.pdf\"}",
                         one_file("media_file", "invoice.pdf", "", "%PDF", 4), &res),
                     EMU_OK);
    assert_int_equal(res.status, 200);
    res_clear(&res);
    entry = last_message(w, "+15551001003");
    assert_string_equal(jsonx_string(entry, "file_name"), "invoice.pdf");
    assert_true(json_is_null(json_object_get(entry, "file_type")));
    assert_int_equal(json_integer_value(json_object_get(entry, "file_size")), 4);
    json_decref(entry);
}

static void test_media_upload_name_not_utf8(void **state)
{
    struct world *w = *state;
    struct res res;
    json_t *entry;

    /* a multipart file name is bytes: what is not UTF-8 is recorded as '?' */
    assert_int_equal(run(w, rasl_messages_media,
                         "{\"phone\":\"+15551001005\",\"media_type\":\"image\"}",
                         one_file("media_file", "caf\xe9.png", "image/\xffpng", "x", 1), &res),
                     EMU_OK);
    assert_int_equal(res.status, 200);
    res_clear(&res);
    entry = last_message(w, "+15551001005");
    assert_string_equal(jsonx_string(entry, "file_name"), "caf?.png");
    assert_string_equal(jsonx_string(entry, "file_type"), "image/?png");
    json_decref(entry);
}

static void test_media_upload_bad_extension(void **state)
{
    struct world *w = *state;
    struct res res;
    json_t *body;

    /* the vendor's image extensions are jpeg and png: jpg is refused, and so is no extension */
    assert_int_equal(run(w, rasl_messages_media,
                         "{\"phone\":\"+15551001002\",\"media_type\":\"image\"}",
                         one_file("media_file", "photo.jpg", "image/jpeg", "x", 1), &res),
                     EMU_OK);
    assert_int_equal(res.status, 422);
    body = answer(&res);
    assert_string_equal(jsonx_string(body, "status"), "error");
    assert_string_equal(jsonx_string(body, "message"),
                        "Invalid file extension for image. Allowed: jpeg, png");
    assert_int_equal(json_object_size(body), 2);
    json_decref(body);
    res_clear(&res);

    assert_int_equal(run(w, rasl_messages_media,
                         "{\"phone\":\"+15551001002\",\"media_type\":\"audio\"}",
                         one_file("media_file", "voice", "audio/ogg", "x", 1), &res),
                     EMU_OK);
    assert_int_equal(res.status, 422);
    body = answer(&res);
    assert_string_equal(jsonx_string(body, "message"),
                        "Invalid file extension for audio. Allowed: aac, amr, mp3, m4a, ogg");
    json_decref(body);
    res_clear(&res);
}

static void test_media_upload_too_big(void **state)
{
    struct world *w = *state;
    size_t len = 16 * 1024 * 1024 + 1;
    char *data = calloc(1, len);
    struct res res;
    json_t *body;

    assert_non_null(data);
    assert_int_equal(run(w, rasl_messages_media,
                         "{\"phone\":\"+15551001002\",\"media_type\":\"video\"}",
                         one_file("media_file", "clip.mp4", "video/mp4", data, len), &res),
                     EMU_OK);
    assert_int_equal(res.status, 422);
    body = answer(&res);
    assert_string_equal(jsonx_string(body, "message"),
                        "File size exceeds limit for video. Max allowed is 16 MB");
    json_decref(body);
    res_clear(&res);

    /* exactly 16 MB is allowed */
    assert_int_equal(run(w, rasl_messages_media,
                         "{\"phone\":\"+15551001002\",\"media_type\":\"video\"}",
                         one_file("media_file", "clip.3GP", "video/3gpp", data, len - 1), &res),
                     EMU_OK);
    assert_int_equal(res.status, 200);
    res_clear(&res);
    free(data);
}

static void test_media_file_that_is_not_a_file(void **state)
{
    struct world *w = *state;
    struct res res;

    /* a form field named media_file that carries text is Laravel's file rule failing */
    assert_int_equal(run(w, rasl_messages_media,
                         "{\"phone\":\"+15551001002\",\"media_type\":\"image\","
                         "\"media_file\":\"photo.png\"}",
                         NULL, &res),
                     EMU_VENDOR);
    assert_string_equal(res.vendor_error, "VALIDATION_ERROR");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(res.error_details, "media_file"), 0)),
        "The media file field must be a file.");
    assert_int_equal(json_object_size(res.error_details), 1);
    res_clear(&res);
}

static const char *const banner_body =
    "{\"phone\":\"+15551001004\",\"template_name\":\"summer_sale\",\"language\":\"en\","
    "\"field_1\":\"Amal\",\"field_2\":\"20%\"}";

static void test_template_header_upload(void **state)
{
    struct world *w = *state;
    struct res res;
    json_t *entry;

    assert_int_equal(run(w, rasl_messages_template, banner_body,
                         one_file("header_image_file", "banner.jpeg", "image/jpeg", "JPEG", 4),
                         &res),
                     EMU_OK);
    assert_int_equal(res.status, 200);
    res_clear(&res);
    entry = last_message(w, "+15551001004");
    assert_string_equal(jsonx_string(entry, "kind"), "template");
    assert_string_equal(jsonx_string(entry, "file_name"), "banner.jpeg");
    assert_string_equal(jsonx_string(entry, "file_type"), "image/jpeg");
    assert_int_equal(json_integer_value(json_object_get(entry, "file_size")), 4);
    json_decref(entry);
}

static void test_template_header_upload_refused(void **state)
{
    struct world *w = *state;
    size_t len = 5120 * 1024 + 1;
    char *data = calloc(1, len);
    struct res res;

    assert_non_null(data);
    /* over Laravel's max:5120 (kilobytes) for header_image_file */
    assert_int_equal(run(w, rasl_messages_template, banner_body,
                         one_file("header_image_file", "banner.png", "image/png", data, len), &res),
                     EMU_VENDOR);
    assert_string_equal(res.vendor_error, "VALIDATION_ERROR");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(res.error_details, "header_image_file"), 0)),
                        "The header image file field must not be greater than 5120 kilobytes.");
    res_clear(&res);
    free(data);

    /* an extension the vendor does not send for an IMAGE header */
    assert_int_equal(run(w, rasl_messages_template, banner_body,
                         one_file("header_image_file", "banner.gif", "image/gif", "GIF", 3), &res),
                     EMU_VENDOR);
    assert_string_equal(res.vendor_error, "VALIDATION_ERROR");
    assert_string_equal(res.detail, "Invalid file extension for image");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(res.error_details, "header_media"), 0)),
        "Allowed: jpeg, png");
    res_clear(&res);
}

static void test_template_header_upload_fills_the_requirement(void **state)
{
    struct world *w = *state;
    struct res res;

    /* without the upload the IMAGE header needs a URL */
    assert_int_equal(run(w, rasl_messages_template, banner_body, NULL, &res), EMU_VENDOR);
    assert_non_null(json_object_get(res.error_details, "template_fields"));
    res_clear(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_upload_sends_like_a_url),
        cmocka_unit_test(test_media_upload_without_type_records_null),
        cmocka_unit_test(test_media_upload_name_not_utf8),
        cmocka_unit_test(test_media_upload_bad_extension),
        cmocka_unit_test(test_media_upload_too_big),
        cmocka_unit_test(test_media_file_that_is_not_a_file),
        cmocka_unit_test(test_template_header_upload),
        cmocka_unit_test(test_template_header_upload_refused),
        cmocka_unit_test(test_template_header_upload_fills_the_requirement),
    };

    return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
