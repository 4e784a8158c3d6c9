/* req.c -- request accessors and response building. */
#include "req.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "err.h"
#include "http.h"
#include "jsonx.h"
#include "store.h"

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

int req_query(const struct req *req, const char *name, char *buf, size_t len)
{
    if (req->query == NULL)
        return EMU_NOT_FOUND;
    return http_form_get(req->query, strlen(req->query), name, buf, len);
}

/* Parses "a=1&b=2" (len bytes) into a new object of URL-decoded names and values. */
static int parse_form(const char *p, size_t total, json_t **out)
{
    const char *end = p + total;
    json_t *all = json_object();

    *out = NULL;
    if (all == NULL)
        return EMU_NOMEM;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *eq;
        size_t len = amp ? (size_t)(amp - p) : (size_t)(end - p), name_len;
        char name[256], value[2048];

        eq = memchr(p, '=', len);
        name_len = eq ? (size_t)(eq - p) : len;
        if (name_len > 0 && name_len < sizeof(name) &&
            http_url_decode(p, name_len, name, sizeof(name)) == EMU_OK) {
            value[0] = '\0';
            if (eq != NULL)
                http_url_decode(eq + 1, len - name_len - 1, value, sizeof(value));
            json_object_set_new(all, name, json_string(value));
        }
        p += len + (amp != NULL);
    }
    *out = all;
    return EMU_OK;
}

int req_query_all(const struct req *req, json_t **out)
{
    const char *q = req->query ? req->query : "";

    return parse_form(q, strlen(q), out);
}

int req_form_all(const struct req *req, json_t **out)
{
    return parse_form(req->body, req->body_len, out);
}

int req_form(const struct req *req, const char *name, char *buf, size_t len)
{
    if (req->body_len == 0)
        return EMU_NOT_FOUND;
    return http_form_get(req->body, req->body_len, name, buf, len);
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
    uint64_t n, tenant_key = 1469598103934665603ULL; /* FNV-1a of the tenant id */
    int rc;

    for (const char *p = req->tenant; *p; p++)
        tenant_key = (tenant_key ^ (unsigned char)*p) * 1099511628211ULL;
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

int res_fail(struct res *res, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
    va_end(ap);
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
