/* jsonx.c -- compact dumps, value positions in JSON text, small typed getters, whole-file reads. */
#include "jsonx.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

char *jsonx_dump(const json_t *v, size_t *len)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));

    if (text != NULL && len != NULL)
        *len = strlen(text);
    return text;
}

int jsonx_read_file(const char *path, char **text, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long size;

    if (fp == NULL)
        return errno == ENOENT ? EMU_NOT_FOUND : EMU_IO;
    if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        fclose(fp);
        return EMU_IO;
    }
    buf = malloc((size_t)size + 1);
    if (buf == NULL) {
        fclose(fp);
        return EMU_NOMEM;
    }
    if (fread(buf, 1, (size_t)size, fp) != (size_t)size) {
        free(buf);
        fclose(fp);
        return EMU_IO;
    }
    fclose(fp);
    buf[size] = '\0';
    *text = buf;
    *len = (size_t)size;
    return EMU_OK;
}

/* A cursor over JSON text already known to be valid: the walker below only needs to skip
 * values and read object keys, so it is not a parser and never reports errors. */
struct walk {
    const char *p, *end;
};

static void skip_ws(struct walk *w)
{
    while (w->p < w->end && (*w->p == ' ' || *w->p == '\t' || *w->p == '\n' || *w->p == '\r'))
        w->p++;
}

static void skip_string(struct walk *w)
{
    w->p++; /* opening quote */
    while (w->p < w->end && *w->p != '"') {
        if (*w->p == '\\')
            w->p++;
        w->p++;
    }
    if (w->p < w->end)
        w->p++;
}

static void skip_value(struct walk *w)
{
    int depth = 0;

    skip_ws(w);
    do {
        if (w->p >= w->end)
            return;
        if (*w->p == '"') {
            skip_string(w);
            continue;
        }
        if (*w->p == '{' || *w->p == '[')
            depth++;
        else if (*w->p == '}' || *w->p == ']')
            depth--;
        else if (depth == 0) { /* a scalar: up to the next delimiter */
            while (w->p < w->end && !strchr(",}] \t\r\n", *w->p))
                w->p++;
            return;
        }
        w->p++;
    } while (depth > 0);
}

/* Compares the JSON string at w->p (no escapes expected in keys we look for) with key. */
static int key_equals(const struct walk *w, const char *key)
{
    size_t n = strlen(key);

    return w->p + n + 2 <= w->end && w->p[0] == '"' && strncmp(w->p + 1, key, n) == 0 &&
           w->p[n + 1] == '"';
}

/* Moves w to the start of the member value or array element named by step; 0 if absent. */
static int enter(struct walk *w, const struct jsonx_step *step)
{
    skip_ws(w);
    if (w->p >= w->end)
        return 0;
    if (step->key != NULL && *w->p == '{') {
        w->p++;
        for (;;) {
            int match;

            skip_ws(w);
            if (w->p >= w->end || *w->p != '"')
                return 0;
            match = key_equals(w, step->key);
            skip_string(w);
            skip_ws(w);
            if (w->p < w->end && *w->p == ':')
                w->p++;
            skip_ws(w);
            if (match)
                return 1;
            skip_value(w);
            skip_ws(w);
            if (w->p >= w->end || *w->p != ',')
                return 0;
            w->p++;
        }
    }
    if (step->key == NULL && *w->p == '[') {
        w->p++;
        for (size_t i = 0;; i++) {
            skip_ws(w);
            if (w->p >= w->end || *w->p == ']')
                return 0;
            if (i == step->index)
                return 1;
            skip_value(w);
            skip_ws(w);
            if (w->p >= w->end || *w->p != ',')
                return 0;
            w->p++;
        }
    }
    return 0;
}

void jsonx_locate(const char *text, size_t len, const struct jsonx_step *path, size_t nsteps,
                  int *line, int *col)
{
    struct walk w = {text, text + len};
    const char *at;

    skip_ws(&w);
    at = w.p;
    for (size_t i = 0; i < nsteps; i++) {
        struct walk probe = w;

        if (!enter(&probe, &path[i]))
            break;
        w = probe;
        at = w.p;
    }
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

int jsonx_fail_at(const char *origin, const char *text, size_t len, const struct jsonx_step *path,
                  size_t nsteps, char *err, size_t errlen, const char *sentence)
{
    int line, col;

    jsonx_locate(text, len, path, nsteps, &line, &col);
    snprintf(err, errlen, "%s:%d:%d: %s", origin, line, col, sentence);
    return EMU_INVALID;
}

int jsonx_parse_failed(const char *origin, const json_error_t *jerr, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s:%d:%d: %s", origin, jerr->line, jerr->column, jerr->text);
    return EMU_INVALID;
}

int jsonx_too_deep(const char *text, size_t len, int max_depth)
{
    int depth = 0, in_string = 0;

    for (size_t i = 0; i < len; i++) {
        char c = text[i];

        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return 1;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 0;
}

const char *jsonx_string(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

int jsonx_is_uuid(const char *s)
{
    static const int dash_at[] = {8, 13, 18, 23};

    if (s == NULL || strlen(s) != 36)
        return 0;
    for (int i = 0, d = 0; i < 36; i++) {
        if (d < 4 && i == dash_at[d]) {
            if (s[i] != '-')
                return 0;
            d++;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

size_t jsonx_utf8_char(const unsigned char *s, size_t avail)
{
    size_t n;
    unsigned int cp;

    if (avail == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        n = 2, cp = s[0] & 0x1Fu;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        n = 3, cp = s[0] & 0x0Fu;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        n = 4, cp = s[0] & 0x07u;
    else
        return 0;
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return n;
}

int jsonx_utf8_valid(const char *s, size_t len)
{
    for (size_t i = 0, n; i < len; i += n)
        if ((n = jsonx_utf8_char((const unsigned char *)s + i, len - i)) == 0)
            return 0;
    return 1;
}

void jsonx_utf8_repair(char *text)
{
    size_t len = strlen(text);

    for (size_t i = 0, n; i < len; i += n) {
        n = jsonx_utf8_char((const unsigned char *)text + i, len - i);
        if (n == 0) {
            text[i] = '?';
            n = 1;
        }
    }
}
