/* query.c -- how Guayaba's Express reads a request: the query string (names, brackets, repeated
 * names, escapes) and paging. */
#include "guayaba.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "form.h"
#include "field.h"
#include "jsonx.h"
#include "req.h"

const char *guayaba_clip(const char *text, char buf[GUAYABA_CLIP_SIZE])
{
    size_t len = strlen(text), keep = GUAYABA_CLIP_SIZE - 4; /* room for "..." and the NUL */

    if (len < GUAYABA_CLIP_SIZE) {
        memcpy(buf, text, len + 1);
        return buf;
    }
    while (keep > 0 && ((unsigned char)text[keep] & 0xC0) == 0x80)
        keep--; /* never cut a character in two */
    memcpy(buf, text, keep);
    memcpy(buf + keep, "...", 4);
    return buf;
}

/* Decodes one name or value of a query string as Express's query parser does: '+' is a space,
 * and %XX escapes are decoded, unless the result is malformed (a bad escape, or bytes that are
 * not UTF-8): then the text is kept as written (decodeURIComponent fails, and the parser keeps
 * its input). Bytes the client sent unescaped that are not UTF-8 become U+FFFD, as Node reads
 * them. Returns new malloc'd text (caller frees), or NULL when out of memory; *nul is set when
 * an escape decoded to a NUL byte, which no C string can carry. */
static char *query_decode(const char *src, size_t len, int *nul)
{
    char *out = malloc(len * 3 + 1), *text = malloc(len + 1);
    size_t n = 0, o = 0;
    int decoded = 1;

    *nul = 0;
    if (out == NULL || text == NULL) {
        free(out);
        free(text);
        return NULL;
    }
    for (size_t i = 0; decoded && i < len; i++) {
        int hi = src[i] == '%' && i + 2 < len ? form_hex_value(src[i + 1]) : -1;
        int lo = hi >= 0 ? form_hex_value(src[i + 2]) : -1;

        if (src[i] != '%') {
            text[n++] = src[i] == '+' ? ' ' : src[i];
        } else if (lo < 0) {
            decoded = 0;
        } else {
            text[n++] = (char)(hi * 16 + lo);
            i += 2;
        }
    }
    for (size_t i = 0, c; decoded && i < n; i += c)
        if ((c = jsonx_utf8_char((const unsigned char *)text + i, n - i)) == 0)
            decoded = 0;
    if (decoded && memchr(text, '\0', n) != NULL)
        *nul = 1;
    if (!decoded) /* the text as written, with '+' read as a space */
        for (n = 0; n < len; n++)
            text[n] = src[n] == '+' ? ' ' : src[n];
    for (size_t i = 0, c; i < n; i += c) {
        c = jsonx_utf8_char((const unsigned char *)text + i, n - i);
        if (c == 0) { /* only where the client sent raw bytes that are not UTF-8 */
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            c = 1;
        } else {
            memcpy(out + o, text + i, c);
            o += c;
        }
    }
    out[o] = '\0';
    free(text);
    return out;
}

/* Adds name=value to the query object as Express's parser does: the first plain occurrence is
 * a string; a repeated name, "name[]" or "name[0]" makes an array; "name[key]" an object. Takes
 * the decoded name (modified in place). */
static int query_add(json_t *all, char *name, const char *value)
{
    char *open = strchr(name, '[');
    size_t len = strlen(name);
    int bracket = open != NULL && open != name && name[len - 1] == ']';
    json_t *v = json_string(value), *cur, *list;
    const char *key = NULL;

    if (v == NULL)
        return EMU_NOMEM;
    if (bracket) {
        name[len - 1] = '\0';
        *open = '\0';
        key = open + 1;
        if (key[strspn(key, "0123456789")] == '\0') /* "[]" and "[3]": an array item */
            key = NULL;
    }
    cur = json_object_get(all, name);
    if (cur == NULL && !bracket)
        return json_object_set_new(all, name, v) == 0 ? EMU_OK : EMU_NOMEM;
    if (cur == NULL && key != NULL) {
        cur = json_object();
        if (cur == NULL || json_object_set_new(all, name, cur) != 0) {
            json_decref(v);
            return EMU_NOMEM;
        }
    }
    if (json_is_object(cur))
        return json_object_set_new(cur, key ? key : "", v) == 0 ? EMU_OK : EMU_NOMEM;
    if (json_is_array(cur))
        return json_array_append_new(cur, v) == 0 ? EMU_OK : EMU_NOMEM;
    list = cur != NULL ? json_pack("[O]", cur) : json_array(); /* a string: now one of many */
    if (list == NULL || json_array_append_new(list, v) != 0 ||
        json_object_set_new(all, name, list) != 0)
        return EMU_NOMEM;
    return EMU_OK;
}

int guayaba_query(struct req *req, struct res *res, json_t **out)
{
    const char *p = req->query ? req->query : "";
    json_t *all = json_object();
    int rc = all ? EMU_OK : EMU_NOMEM;

    while (rc == EMU_OK && *p != '\0') {
        size_t len = strcspn(p, "&"), name_len;
        const char *eq = memchr(p, '=', len);
        char *name, *value, clip[GUAYABA_CLIP_SIZE];
        int nul_name, nul_value;

        name_len = eq ? (size_t)(eq - p) : len;
        name = query_decode(p, name_len, &nul_name);
        value = eq ? query_decode(eq + 1, len - name_len - 1, &nul_value) : strdup("");
        if (!eq)
            nul_value = 0;
        if (name == NULL || value == NULL)
            rc = EMU_NOMEM;
        else if (nul_name || nul_value)
            rc = res_fail(res, EMU_BAD_REQUEST, "%s must not contain NUL characters",
                          nul_name ? "A query parameter name" : guayaba_clip(name, clip));
        else if (name[0] != '\0') /* "&&" and "=x" name nothing */
            rc = query_add(all, name, value);
        free(name);
        free(value);
        p += len + (p[len] == '&');
    }
    if (rc != EMU_OK) {
        json_decref(all);
        all = NULL;
    }
    *out = all;
    return rc;
}

int guayaba_query_string(struct res *res, const json_t *query, const char *name, const char **out)
{
    enum field_state s = field_string(query, name, out);

    if (s == FIELD_OK)
        return EMU_OK;
    *out = NULL;
    return s == FIELD_ABSENT ? EMU_OK : res_fail(res, EMU_BAD_REQUEST, "%s must be a string", name);
}

/* The largest page: any whole number up to 2^53 (what field_integer reads), so the first item
 * of a page, (page - 1) * 100, never overflows 64 bits. */
int guayaba_paging(struct res *res, const json_t *query, int default_limit, json_int_t *page,
                   int *limit)
{
    json_int_t n;
    enum field_state s;

    *page = 1;
    *limit = default_limit;
    s = field_integer(query, "page", FIELD_LENIENT, &n);
    if (s == FIELD_OK && n >= 1)
        *page = n;
    else if (s != FIELD_ABSENT)
        return res_fail(res, EMU_BAD_REQUEST, "page must be a positive integer");
    s = field_integer(query, "limit", FIELD_LENIENT, &n);
    if (s == FIELD_OK && n >= 1 && n <= 100)
        *limit = (int)n;
    else if (s != FIELD_ABSENT)
        return res_fail(res, EMU_BAD_REQUEST, "limit must be an integer between 1 and 100");
    return EMU_OK;
}
