/* form.c -- URL-decoding, urlencoded fields and PHP's bracket names (see form.h). */
#include "form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"

int form_media_is(const char *content_type, const char *media)
{
    const char *p = content_type, *end;
    size_t n = strlen(media);

    if (p == NULL)
        return 0;
    while (*p == ' ' || *p == '\t')
        p++;
    end = p + strcspn(p, ";");
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    return (size_t)(end - p) == n && strncasecmp(p, media, n) == 0;
}

int form_text_ok(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    while (p < end) {
        unsigned c = *p++;
        size_t more;
        unsigned min;
        unsigned long cp;

        if (c == 0)
            return 0;
        if (c < 0x80)
            continue;
        if (c >= 0xC2 && c <= 0xDF) {
            more = 1, min = 0x80, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            more = 2, min = 0x800, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            more = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return 0;
        }
        if ((size_t)(end - p) < more)
            return 0;
        for (size_t i = 0; i < more; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        /* overlong forms, UTF-16 surrogates and code points past U+10FFFF are not text */
        if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return 0;
        p += more;
    }
    return 1;
}

int form_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int form_decode(const char *src, size_t len, char **out, size_t *out_len)
{
    char *dst = malloc(len + 1); /* decoding never makes text longer */
    size_t n = 0;

    *out = NULL;
    if (dst == NULL)
        return EMU_NOMEM;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;

        if (src[i] == '%' && i + 2 < len && (hi = form_hex_value(src[i + 1])) >= 0 &&
            (lo = form_hex_value(src[i + 2])) >= 0) {
            dst[n++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            dst[n++] = src[i] == '+' ? ' ' : src[i];
        }
    }
    dst[n] = '\0';
    if (!form_text_ok(dst, n)) {
        free(dst);
        return EMU_BAD_REQUEST;
    }
    *out = dst;
    if (out_len != NULL)
        *out_len = n;
    return EMU_OK;
}

/* 1 when key (len bytes) is how PHP writes an integer array key: "0" or [1-9][0-9]*, and
 * small enough to count with; its value in *n. */
static int integer_key(const char *key, size_t len, long long *n)
{
    long long v = 0;

    if (len == 0 || len > 15 || (key[0] == '0' && len > 1))
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (key[i] < '0' || key[i] > '9')
            return 0;
        v = v * 10 + (key[i] - '0');
    }
    *n = v;
    return 1;
}

/* PHP's "[]": the key after the largest integer key, or 0. */
static int append_value(json_t *obj, json_t *value)
{
    long long next = 0, n;
    const char *key;
    json_t *v;
    char name[24];

    json_object_foreach(obj, key, v)
    {
        if (integer_key(key, strlen(key), &n) && n + 1 > next)
            next = n + 1;
    }
    if (next > 999999999999999LL) { /* no room for another integer key: dropped */
        json_decref(value);
        return EMU_OK;
    }
    snprintf(name, sizeof(name), "%lld", next);
    return json_object_set_new(obj, name, value) == 0 ? EMU_OK : EMU_NOMEM;
}

/* One step of a bracket name: a key (len bytes at s) or, s NULL, "[]". */
struct form_key {
    const char *s;
    size_t len;
};

/* Sets keys[0..nkeys) under fields to value (stolen), making objects on the way. */
static int set_path(json_t *fields, const struct form_key *keys, int nkeys, json_t *value)
{
    json_t *cur = fields;

    for (int i = 0; i < nkeys - 1; i++) {
        json_t *child = keys[i].s ? json_object_getn(cur, keys[i].s, keys[i].len) : NULL;

        if (!json_is_object(child)) {
            json_t *made = json_object();
            int rc;

            if (made == NULL) {
                json_decref(value);
                return EMU_NOMEM;
            }
            json_incref(made);
            rc = keys[i].s
                     ? (json_object_setn_new(cur, keys[i].s, keys[i].len, made) == 0 ? EMU_OK
                                                                                     : EMU_NOMEM)
                     : append_value(cur, made);
            if (rc != EMU_OK) {
                json_decref(made);
                json_decref(value);
                return rc;
            }
            json_decref(made); /* cur holds it now */
            child = made;
        }
        cur = child;
    }
    if (keys[nkeys - 1].s == NULL)
        return append_value(cur, value);
    return json_object_setn_new(cur, keys[nkeys - 1].s, keys[nkeys - 1].len, value) == 0
               ? EMU_OK
               : EMU_NOMEM;
}

/* PHP's php_register_variable_ex, over name[0..len). */
static int add_php(json_t *fields, const char *name, size_t len, json_t *value)
{
    struct form_key keys[FORM_PHP_MAX_DEPTH + 1];
    const char *end = name + len, *p, *open;
    char *base;
    size_t base_len;
    int nkeys = 1, rc;

    while (name < end && *name == ' ')
        name++;
    open = memchr(name, '[', (size_t)(end - name));
    base_len = (size_t)((open ? open : end) - name);
    if (base_len == 0) {
        json_decref(value);
        return EMU_OK;
    }
    /* The base name, and a first '[' without its ']' with all after it, become one name. */
    if (open != NULL && memchr(open, ']', (size_t)(end - open)) == NULL)
        base_len = (size_t)(end - name);
    base = malloc(base_len + 1);
    if (base == NULL) {
        json_decref(value);
        return EMU_NOMEM;
    }
    memcpy(base, name, base_len);
    base[base_len] = '\0';
    for (size_t i = 0; i < base_len; i++)
        if (base[i] == ' ' || base[i] == '.' ||
            (open != NULL && name + i >= open && base[i] == '['))
            base[i] = '_';
    keys[0].s = base;
    keys[0].len = base_len;
    p = name + base_len;
    while (p < end && *p == '[') {
        const char *index = p + 1, *close = memchr(index, ']', (size_t)(end - index));

        if (close == NULL) /* the rest is no key: the value goes at the keys so far */
            break;
        if (nkeys > FORM_PHP_MAX_DEPTH) { /* PHP drops a variable nested this deep */
            free(base);
            json_decref(value);
            return EMU_OK;
        }
        /* "[]" and "[ ]" append; any other text between the brackets is the key, as written */
        if (close == index || (close == index + 1 && *index == ' '))
            keys[nkeys].s = NULL, keys[nkeys].len = 0;
        else
            keys[nkeys].s = index, keys[nkeys].len = (size_t)(close - index);
        nkeys++;
        p = close + 1;
    }
    rc = set_path(fields, keys, nkeys, value);
    free(base);
    return rc;
}

int form_add(json_t *fields, const char *name, size_t name_len, json_t *value, unsigned flags)
{
    if (value == NULL)
        return EMU_NOMEM;
    if (flags & FORM_PHP)
        return add_php(fields, name, name_len, value);
    if (name_len == 0) {
        json_decref(value);
        return EMU_OK;
    }
    return json_object_setn_new(fields, name, name_len, value) == 0 ? EMU_OK : EMU_NOMEM;
}

/* The lists under obj, depth levels at most (bounded by the names' own nesting). */
static int php_lists(json_t *obj, int depth)
{
    const char *key;
    json_t *v;

    if (depth > FORM_PHP_MAX_DEPTH + 1)
        return EMU_OK;
    json_object_foreach(obj, key, v)
    {
        size_t i = 0, n = json_object_size(v);
        const char *k;
        json_t *item, *list;
        char want[24];
        int is_list = 1, rc;

        if (!json_is_object(v))
            continue;
        rc = php_lists(v, depth + 1);
        if (rc != EMU_OK)
            return rc;
        json_object_foreach(v, k, item)
        {
            snprintf(want, sizeof(want), "%zu", i++);
            if (strcmp(k, want) != 0) {
                is_list = 0;
                break;
            }
        }
        if (!is_list || n == 0)
            continue;
        list = json_array();
        if (list == NULL)
            return EMU_NOMEM;
        json_object_foreach(v, k, item)
        {
            if (json_array_append(list, item) != 0) {
                json_decref(list);
                return EMU_NOMEM;
            }
        }
        /* Replacing the value of an existing key keeps the iteration valid. */
        if (json_object_set_new(obj, key, list) != 0)
            return EMU_NOMEM;
    }
    return EMU_OK;
}

int form_php_lists(json_t *fields)
{
    return php_lists(fields, 0);
}

int form_parse(const char *text, size_t len, unsigned flags, json_t **out)
{
    const char *p = text, *end = text + len;
    json_t *all = json_object();
    int vars = 0, rc = EMU_OK;

    *out = NULL;
    if (all == NULL)
        return EMU_NOMEM;
    while (p < end && rc == EMU_OK) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *eq;
        size_t seg = (size_t)((amp ? amp : end) - p), name_len;
        char *name = NULL, *value = NULL;
        size_t nlen = 0, vlen = 0;

        eq = memchr(p, '=', seg);
        name_len = eq ? (size_t)(eq - p) : seg;
        if (seg > 0 && !((flags & FORM_PHP) && vars >= FORM_PHP_MAX_VARS)) {
            rc = form_decode(p, name_len, &name, &nlen);
            if (rc == EMU_OK)
                rc = eq ? form_decode(eq + 1, seg - name_len - 1, &value, &vlen)
                        : form_decode("", 0, &value, &vlen);
            if (rc == EMU_OK)
                rc = form_add(all, name, nlen, json_stringn_nocheck(value, vlen), flags);
            vars++;
        }
        free(name);
        free(value);
        p += seg + (amp != NULL);
    }
    if (rc == EMU_OK && (flags & FORM_PHP))
        rc = form_php_lists(all);
    if (rc != EMU_OK) {
        json_decref(all);
        return rc;
    }
    *out = all;
    return EMU_OK;
}

int form_find(const char *text, size_t len, const char *name, char **out)
{
    const char *p = text, *end = text + len;
    size_t want = strlen(name);

    *out = NULL;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *eq;
        size_t seg = (size_t)((amp ? amp : end) - p), name_len;
        char *decoded = NULL;
        size_t dlen = 0;
        int rc, same;

        eq = memchr(p, '=', seg);
        name_len = eq ? (size_t)(eq - p) : seg;
        /* a name's encoding is never shorter than the name */
        if (name_len >= want && seg > 0) {
            rc = form_decode(p, name_len, &decoded, &dlen);
            if (rc == EMU_NOMEM)
                return rc;
            same = rc == EMU_OK && dlen == want && memcmp(decoded, name, want) == 0;
            free(decoded);
            if (same)
                return eq ? form_decode(eq + 1, seg - name_len - 1, out, NULL)
                          : form_decode("", 0, out, NULL);
        }
        p += seg + (amp != NULL);
    }
    return EMU_NOT_FOUND;
}
