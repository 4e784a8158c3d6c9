/* req.c -- request accessors, request bodies read as each vendor's framework reads them, and
 * response building. */
#include "req.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "err.h"
#include "form.h"
#include "hash.h"
#include "jsonx.h"
#include "multipart.h"
#include "rng.h"
#include "store.h"
#include "vendors.h"

const char *req_header(const struct req *req, const char *name)
{
    for (int i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

const char *req_param(const struct req *req, const char *name)
{
    size_t len = strlen(name);

    for (int i = 0; i < req->nparams; i++) /* names end at the pattern's '}' */
        if (strncmp(req->params[i].name, name, len) == 0 && req->params[i].name[len] == '}')
            return req->params[i].value;
    return NULL;
}

/* Copies value (malloc'd, freed here) into buf when it fits. */
static int copy_out(char *value, char *buf, size_t len)
{
    size_t n = strlen(value);
    int rc = n < len ? EMU_OK : EMU_BAD_REQUEST;

    if (rc == EMU_OK)
        memcpy(buf, value, n + 1);
    free(value);
    return rc;
}

/* Keeps value (malloc'd, taken over) alive until req_clear and lends it out in *out. */
static int keep(struct req *req, char *value, const char **out)
{
    json_t *s;

    if (req->kept == NULL && (req->kept = json_array()) == NULL) {
        free(value);
        return EMU_NOMEM;
    }
    s = json_string_nocheck(value); /* form_find checked it is text */
    free(value);
    if (s == NULL || json_array_append_new(req->kept, s) != 0)
        return EMU_NOMEM;
    *out = json_string_value(s);
    return EMU_OK;
}

int req_query(const struct req *req, const char *name, char *buf, size_t len)
{
    char *value;
    int rc;

    if (req->query == NULL)
        return EMU_NOT_FOUND;
    rc = form_find(req->query, strlen(req->query), name, &value);
    return rc == EMU_OK ? copy_out(value, buf, len) : rc;
}

int req_query_value(struct req *req, const char *name, const char **out)
{
    char *value;
    int rc;

    if (req->query == NULL)
        return EMU_NOT_FOUND;
    rc = form_find(req->query, strlen(req->query), name, &value);
    return rc == EMU_OK ? keep(req, value, out) : rc;
}

int req_query_all(const struct req *req, json_t **out)
{
    const char *q = req->query ? req->query : "";

    return form_parse(q, strlen(q), 0, out);
}

int req_form_all(const struct req *req, json_t **out)
{
    return form_parse(req->body, req->body_len, 0, out);
}

int req_form(const struct req *req, const char *name, char *buf, size_t len)
{
    char *value;
    int rc;

    if (req->body_len == 0)
        return EMU_NOT_FOUND;
    rc = form_find(req->body, req->body_len, name, &value);
    return rc == EMU_OK ? copy_out(value, buf, len) : rc;
}

int req_form_value(struct req *req, const char *name, const char **out)
{
    char *value;
    int rc;

    if (req->body_len == 0)
        return EMU_NOT_FOUND;
    rc = form_find(req->body, req->body_len, name, &value);
    return rc == EMU_OK ? keep(req, value, out) : rc;
}

static int no_input(struct req *req)
{
    req->json = json_object();
    return req->json ? EMU_OK : EMU_NOMEM;
}

/* The body (text, len bytes) as a JSON object into req->json; an empty body is {}. */
static int read_json(struct req *req, struct res *res, const char *text, size_t len)
{
    json_error_t jerr;

    if (len == 0)
        return no_input(req);
    if (jsonx_too_deep(text, len, REQ_MAX_JSON_DEPTH))
        return res_fail(res, EMU_BAD_JSON, "nesting deeper than %d levels", REQ_MAX_JSON_DEPTH);
    req->json = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
    if (req->json == NULL)
        return res_fail(res, EMU_BAD_JSON, "%s at line %d, column %d", jerr.text, jerr.line,
                        jerr.column);
    if (!json_is_object(req->json))
        return res_fail(res, EMU_BAD_REQUEST, "Request body must be a JSON object");
    return EMU_OK;
}

/* Express's JSON parser takes application/json and any "type/subtype+json". */
static int express_json_type(const char *type)
{
    const char *p = type, *end, *slash;

    if (type == NULL)
        return 0;
    if (form_media_is(type, "application/json"))
        return 1;
    while (*p == ' ' || *p == '\t')
        p++;
    end = p + strcspn(p, ";");
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    slash = memchr(p, '/', (size_t)(end - p));
    return slash != NULL && slash > p && end - slash > 6 && strncasecmp(end - 5, "+json", 5) == 0 &&
           memchr(p, ' ', (size_t)(end - p)) == NULL;
}

/* Laravel's Request::isJson(): the Content-Type mentions "/json" or "+json". */
static int laravel_json_type(const char *type)
{
    return type != NULL && (strcasestr(type, "/json") != NULL || strcasestr(type, "+json") != NULL);
}

static int read_laravel(struct req *req, struct res *res, const char *type)
{
    char why[256];
    int rc;

    if (laravel_json_type(type)) {
        /* json_decode() that fails, or gives no array, is no input */
        if (req->body_len > 0 && !jsonx_too_deep(req->body, req->body_len, REQ_MAX_JSON_DEPTH))
            req->json = json_loadb(req->body, req->body_len, 0, NULL);
        if (json_is_object(req->json))
            return EMU_OK;
        json_decref(req->json);
        req->json = NULL;
        return no_input(req);
    }
    if (form_media_is(type, "application/x-www-form-urlencoded")) {
        rc = form_parse(req->body, req->body_len, FORM_PHP, &req->json);
        if (rc == EMU_BAD_REQUEST)
            return res_fail(res, rc, "Form field names and values must be UTF-8 text");
        return rc;
    }
    /* PHP parses multipart bodies of POST requests only */
    if (form_media_is(type, "multipart/form-data") && req->method != NULL &&
        strcmp(req->method, "POST") == 0) {
        free(req->files);
        req->files = NULL;
        req->nfiles = 0;
        rc = multipart_parse(type, req->body, req->body_len, FORM_PHP, &req->json, &req->files,
                             &req->nfiles, why, sizeof(why));
        if (rc == EMU_UNPROCESSABLE) /* text we cannot hold, as for an urlencoded body */
            return res_fail(res, EMU_BAD_REQUEST, "%s", why);
        if (rc == EMU_BAD_REQUEST) /* PHP drops a body it cannot parse */
            return no_input(req);
        return rc;
    }
    return no_input(req);
}

int req_read_body(struct req *req, struct res *res, int kind)
{
    const char *type = req_header(req, "Content-Type");
    const char *text = req->body;
    size_t len = req->body_len;

    json_decref(req->json);
    req->json = NULL;
    switch (kind) {
    case VENDOR_BODY_EXPRESS:
        if (!express_json_type(type))
            return no_input(req);
        if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) { /* a byte order mark */
            text += 3;
            len -= 3;
        }
        return read_json(req, res, text, len);
    case VENDOR_BODY_LARAVEL:
        return read_laravel(req, res, type);
    default:
        return read_json(req, res, text, len);
    }
}

const struct req_file *req_file(const struct req *req, const char *name)
{
    for (int i = 0; i < req->nfiles; i++)
        if (strcmp(req->files[i].field, name) == 0)
            return &req->files[i];
    return NULL;
}

int req_new_uuid(struct req *req, char out[37])
{
    char name[96];
    uint64_t n, tenant_key = hash_fnv1a64(req->tenant);
    int rc;

    snprintf(name, sizeof(name), "ids/%s", req->tenant);
    rc = store_seq_next(req->txn, name, &n);
    if (rc == EMU_OK)
        rng_uuid(req->app->cfg.seed ^ tenant_key, n, out);
    return rc;
}

void req_clear(struct req *req)
{
    json_decref(req->json);
    req->json = NULL;
    json_decref(req->credential);
    req->credential = NULL;
    json_decref(req->deferred);
    req->deferred = NULL;
    free(req->files);
    req->files = NULL;
    req->nfiles = 0;
    json_decref(req->kept);
    req->kept = NULL;
}

void res_text(struct res *res, int status, const char *content_type, char *text, size_t len)
{
    free(res->body);
    res->status = status;
    res->content_type = content_type;
    res->body = text;
    res->body_len = len;
}

int res_json(struct res *res, int status, json_t *body)
{
    size_t len = 0;
    char *text = body ? jsonx_dump(body, &len) : NULL;

    json_decref(body);
    if (text == NULL)
        return EMU_NOMEM;
    res_text(res, status, "application/json; charset=utf-8", text, len);
    return EMU_OK;
}

int res_header(struct res *res, const char *name, const char *fmt, ...)
{
    char value[512];
    size_t need;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    need = res->headers_len + strlen(name) + strlen(value) + 5;
    if (need > res->headers_cap) {
        size_t cap = need < 256 ? 256 : need * 2;
        char *grown = realloc(res->headers, cap);

        if (grown == NULL)
            return EMU_NOMEM;
        res->headers = grown;
        res->headers_cap = cap;
    }
    res->headers_len += (size_t)sprintf(res->headers + res->headers_len, "%s: %s\r\n", name, value);
    return EMU_OK;
}

/* Cuts text (len bytes, a NUL at len) back to its last whole UTF-8 character: a sentence cut
 * by a fixed buffer must not end mid-character, or the JSON that carries it is not valid. */
static void trim_partial_utf8(char *text, size_t len)
{
    size_t start = len, need;

    while (start > 0 && len - start < 4 && ((unsigned char)text[start - 1] & 0xC0) == 0x80)
        start--; /* back over continuation bytes to the lead byte */
    if (start == 0)
        return;
    start--;
    if (((unsigned char)text[start] & 0x80) == 0)
        return; /* ends with ASCII: whole */
    need = ((unsigned char)text[start] & 0xE0) == 0xC0   ? 2
           : ((unsigned char)text[start] & 0xF0) == 0xE0 ? 3
                                                         : 4;
    if (len - start < need)
        text[start] = '\0';
}

int res_fail(struct res *res, int err, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof(res->detail))
        trim_partial_utf8(res->detail, sizeof(res->detail) - 1);
    /* a client's bytes quoted in the sentence must not keep the JSON body from rendering */
    jsonx_utf8_repair(res->detail);
    return err;
}

int res_vendor_fail(struct res *res, const char *name)
{
    res->vendor_error = name;
    return EMU_VENDOR;
}

void res_drop_body(struct res *res)
{
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
}

void res_clear(struct res *res)
{
    json_decref(res->error_details);
    json_decref(res->inject);
    free(res->headers);
    free(res->body);
    memset(res, 0, sizeof(*res));
}
