/* params.c -- how Convoso's PHP reads a request's parameters: a flat JSON body, a form or a
 * multipart body, else the query string, and JSON numbers read as PHP writes them. */
#include "convoso.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "form.h"
#include "jsonx.h"
#include "multipart.h"
#include "req.h"

/* 1 when the body is JSON: by its Content-Type, or, when it has none, by its first character. */
static int body_is_json(const struct req *req)
{
    const char *type = req_header(req, "Content-Type");
    const char *p = req->body;

    if (type != NULL)
        return strcasestr(type, "json") != NULL;
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
        p++;
    return *p == '{';
}

/* Parses a JSON body into req->json. Convoso takes flat parameters only ("We do not support
 * nested parameters or multilevel arrays"), so nested values are refused. */
static int load_json_body(struct req *req, struct res *res)
{
    json_error_t jerr;
    const char *key;
    json_t *value;

    if (jsonx_too_deep(req->body, req->body_len, 8))
        return res_fail(res, EMU_BAD_REQUEST, "Nested parameters are not supported");
    req->json = json_loadb(req->body, req->body_len, 0, &jerr);
    if (req->json == NULL)
        return res_fail(res, EMU_BAD_JSON, "Invalid JSON body: %s at line %d, column %d", jerr.text,
                        jerr.line, jerr.column);
    if (!json_is_object(req->json))
        return res_fail(res, EMU_BAD_REQUEST, "The JSON body must be an object of parameters");
    json_object_foreach(req->json, key, value)
    {
        if (json_is_object(value) || json_is_array(value))
            return res_fail(res, EMU_BAD_REQUEST, "Nested parameters are not supported");
    }
    return EMU_OK;
}

/* The body's parameters, once, into req->json: a JSON body was read by authentication; a
 * multipart/form-data body gives its text fields (uploads are ignored), any other body is read
 * as application/x-www-form-urlencoded. Names are literal, as the vendor takes flat parameters
 * only. A body that does not parse gives no parameters, as PHP gives none. */
static void load_form_params(struct req *req)
{
    const char *type = req_header(req, "Content-Type");
    json_t *fields = NULL;

    if (form_media_is(type, "multipart/form-data"))
        multipart_parse(type, req->body, req->body_len, 0, &fields, NULL, NULL, NULL, 0);
    else
        form_parse(req->body, req->body_len, 0, &fields);
    req->json = fields ? fields : json_object();
}

/* Writes d as PHP's (string) cast does (precision 14): "1.5", "100", "0.0001", "1.0E+15",
 * "1.0E-5" -- the text a PHP endpoint compares when a JSON body carries a number. */
static void php_float_text(double d, char out[CONVOSO_NUMBER_TEXT])
{
    static const char zeros[] = "00000000000000"; /* padding: at most 14 (fixed), 3 (fraction) */
    char sci[40], digits[16];
    const char *sign = d < 0 ? "-" : "";
    int exp, decpt, n = 0;

    if (d == 0) {
        snprintf(out, CONVOSO_NUMBER_TEXT, "%s0", signbit(d) ? "-" : "");
        return;
    }
    snprintf(sci, sizeof(sci), "%.13e", fabs(d)); /* "d.ddddddddddddde+XX": 14 digits */
    for (const char *p = sci; *p != 'e'; p++)
        if (*p != '.')
            digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    exp = atoi(strchr(sci, 'e') + 1);
    decpt = exp + 1;
    if (decpt < -3 || decpt > 14) /* PHP's zend_gcvt switches to an exponent here */
        snprintf(out, CONVOSO_NUMBER_TEXT, "%s%c.%sE%c%d", sign, digits[0],
                 n > 1 ? digits + 1 : "0", exp < 0 ? '-' : '+', abs(exp));
    else if (decpt <= 0)
        snprintf(out, CONVOSO_NUMBER_TEXT, "%s0.%.*s%s", sign, -decpt, zeros, digits);
    else if (n <= decpt)
        snprintf(out, CONVOSO_NUMBER_TEXT, "%s%s%.*s", sign, digits, decpt - n, zeros);
    else
        snprintf(out, CONVOSO_NUMBER_TEXT, "%s%.*s.%s", sign, decpt, digits, digits + decpt);
}

/* Writes a JSON scalar other than a string as PHP's (string) cast does: integers as digits,
 * reals by php_float_text, true as "1", false and null as "". 0 for arrays and objects. */
static int php_scalar_text(const json_t *v, char number[CONVOSO_NUMBER_TEXT])
{
    number[0] = '\0';
    switch (json_typeof(v)) {
    case JSON_INTEGER:
        snprintf(number, CONVOSO_NUMBER_TEXT, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return 1;
    case JSON_REAL:
        php_float_text(json_real_value(v), number);
        return 1;
    case JSON_TRUE:
        snprintf(number, CONVOSO_NUMBER_TEXT, "1");
        return 1;
    case JSON_FALSE: /* PHP's false, like null, is the empty string */
    case JSON_NULL:
        return 1;
    default:
        return 0;
    }
}

char *convoso_param(struct req *req, const char *name)
{
    const char *query_value;
    json_t *v, *query = NULL;
    char number[CONVOSO_NUMBER_TEXT], *out;

    if (req->json == NULL && req->body_len > 0)
        load_form_params(req);
    v = json_object_get(req->json, name);
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (v != NULL) /* a JSON scalar reads as PHP's text of it; arrays and objects as nothing */
        return strdup(php_scalar_text(v, number) ? number : "");
    /* the query string as PHP reads it: the last of a repeated name wins */
    if (req->query == NULL || req_query_all(req, &query) != EMU_OK)
        return NULL;
    query_value = json_string_value(json_object_get(query, name));
    out = query_value ? strdup(query_value) : NULL;
    json_decref(query);
    return out;
}

int convoso_text(struct req *req, struct res *res, const char *name, char **out)
{
    json_t *v = req->json ? json_object_get(req->json, name) : NULL;
    char number[CONVOSO_NUMBER_TEXT];

    *out = NULL;
    if (v == NULL) { /* not in a JSON body: the form or the query string */
        *out = convoso_param(req, name);
        return EMU_OK;
    }
    if (json_is_string(v))
        *out = strdup(json_string_value(v));
    else if (php_scalar_text(v, number))
        *out = strdup(number);
    else /* arrays and objects never get this far (load_json_body); refused all the same */
        return res_fail(res, EMU_BAD_REQUEST, "Nested parameters are not supported");
    return *out ? EMU_OK : EMU_NOMEM;
}

int convoso_json_body(struct req *req, struct res *res)
{
    return req->body_len > 0 && body_is_json(req) ? load_json_body(req, res) : EMU_OK;
}
