/* multipart.c -- multipart/form-data bodies parsed from memory (see multipart.h). */
#include "multipart.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "form.h"

/* An upload found while parsing, before all of them are packed into one block. */
struct upload {
    char *field, *filename, *content_type; /* malloc'd */
    const char *data;                      /* into the body */
    size_t len;
};

struct parser {
    const char *body, *end;
    char delim[MULTIPART_MAX_BOUNDARY + 3]; /* "--" boundary */
    size_t delim_len;
    unsigned flags;
    json_t *fields;
    struct upload *uploads;
    int nuploads, cap, vars;
    int want_files;
    char *why;
    size_t whylen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct parser *ps, const char *fmt, ...)
{
    va_list ap;

    if (ps->why != NULL && ps->whylen > 0) {
        va_start(ap, fmt);
        vsnprintf(ps->why, ps->whylen, fmt, ap);
        va_end(ap);
    }
    return EMU_BAD_REQUEST;
}

/* Reads one parameter value at *p (a quoted string, where only \" is an escape, as PHP reads
 * it, or a bare token up to ';'), into new malloc'd text; moves *p past it. NULL: malformed
 * (an unclosed quote) or no memory (*nomem set). */
static char *param_value(const char **p, const char *end, int *nomem)
{
    const char *s = *p;
    char *out = malloc((size_t)(end - s) + 1);
    size_t n = 0;

    if (out == NULL) {
        *nomem = 1;
        return NULL;
    }
    if (s < end && *s == '"') {
        for (s++; s < end && *s != '"'; s++) {
            if (*s == '\\' && s + 1 < end && s[1] == '"')
                s++;
            out[n++] = *s;
        }
        if (s == end) { /* no closing quote */
            free(out);
            return NULL;
        }
        s++;
    } else {
        while (s < end && *s != ';')
            out[n++] = *s++;
        while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
            n--;
    }
    out[n] = '\0';
    *p = s;
    return out;
}

/* Finds the parameters called name1 and name2 (either may be NULL) of a header value
 * "type; a=1; b="2"", storing new malloc'd values in *v1 and *v2 (NULL when absent). The
 * value's first word (the type) is skipped. EMU_OK, EMU_BAD_REQUEST (malformed), EMU_NOMEM. */
static int header_params(const char *value, const char *end, const char *name1, char **v1,
                         const char *name2, char **v2)
{
    const char *p = memchr(value, ';', (size_t)(end - value));

    *v1 = NULL;
    if (v2 != NULL)
        *v2 = NULL;
    while (p != NULL && p < end) {
        const char *name, *eq;
        char **slot = NULL, *v;
        int nomem = 0;
        size_t nlen;

        p++; /* past ';' */
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        name = p;
        while (p < end && *p != '=' && *p != ';')
            p++;
        if (p == end || *p == ';') /* a parameter without a value: ignored */
            continue;
        eq = p;
        nlen = (size_t)(eq - name);
        while (nlen > 0 && (name[nlen - 1] == ' ' || name[nlen - 1] == '\t'))
            nlen--;
        p = eq + 1;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        v = param_value(&p, end, &nomem);
        if (v == NULL) {
            free(*v1);
            *v1 = NULL;
            if (v2 != NULL) {
                free(*v2);
                *v2 = NULL;
            }
            return nomem ? EMU_NOMEM : EMU_BAD_REQUEST;
        }
        if (name1 && strlen(name1) == nlen && strncasecmp(name, name1, nlen) == 0)
            slot = v1;
        else if (name2 && strlen(name2) == nlen && strncasecmp(name, name2, nlen) == 0)
            slot = v2;
        if (slot != NULL && *slot == NULL)
            *slot = v; /* the first of a repeated parameter counts */
        else
            free(v);
        while (p < end && *p != ';')
            p++;
    }
    return EMU_OK;
}

/* 1 when "--boundary" at s is a delimiter: at the body's start or after a line break, and
 * followed by "--" (the last one) or optional blanks and a line break. *last says which; *next
 * is where the next part's headers start. */
static int is_delimiter(const struct parser *ps, const char *s, int *last, const char **next)
{
    const char *p = s + ps->delim_len;

    if (s != ps->body && s[-1] != '\n')
        return 0;
    if ((size_t)(ps->end - s) < ps->delim_len || memcmp(s, ps->delim, ps->delim_len) != 0)
        return 0;
    if (ps->end - p >= 2 && p[0] == '-' && p[1] == '-') {
        *last = 1;
        *next = ps->end;
        return 1;
    }
    while (p < ps->end && (*p == ' ' || *p == '\t'))
        p++;
    if (p < ps->end && *p == '\r')
        p++;
    if (p < ps->end && *p == '\n') {
        *last = 0;
        *next = p + 1;
        return 1;
    }
    return 0;
}

/* Finds the first delimiter at or after from; NULL when there is none. */
static const char *find_delimiter(const struct parser *ps, const char *from, int *last,
                                  const char **next)
{
    const char *p = from;

    while (p < ps->end && (size_t)(ps->end - p) >= ps->delim_len) {
        const char *hit = memmem(p, (size_t)(ps->end - p), ps->delim, ps->delim_len);

        if (hit == NULL)
            return NULL;
        if (is_delimiter(ps, hit, last, next))
            return hit;
        p = hit + 1;
    }
    return NULL;
}

/* The boundary parameter of content_type into ps->delim, after "--". */
static int read_boundary(struct parser *ps, const char *content_type)
{
    char *boundary = NULL;
    size_t n;
    int rc;

    if (!form_media_is(content_type, "multipart/form-data"))
        return fail(ps, "The Content-Type is not multipart/form-data");
    rc = header_params(content_type, content_type + strlen(content_type), "boundary", &boundary,
                       NULL, NULL);
    if (rc == EMU_NOMEM)
        return rc;
    if (rc != EMU_OK || boundary == NULL || boundary[0] == '\0') {
        free(boundary);
        return fail(ps, "The multipart/form-data Content-Type has no boundary");
    }
    n = strlen(boundary);
    if (n > MULTIPART_MAX_BOUNDARY) {
        free(boundary);
        return fail(ps, "The multipart boundary is longer than %d characters",
                    MULTIPART_MAX_BOUNDARY);
    }
    memcpy(ps->delim, "--", 2);
    memcpy(ps->delim + 2, boundary, n);
    ps->delim_len = n + 2;
    free(boundary);
    return EMU_OK;
}

/* The last path component of a file name ("C:\dir\a.png" and "/tmp/a.png" are "a.png"). */
static void php_basename(char *name)
{
    char *cut = NULL;

    for (char *p = name; *p; p++)
        if (*p == '/' || *p == '\\')
            cut = p + 1;
    if (cut != NULL)
        memmove(name, cut, strlen(cut) + 1);
}

static int keep_upload(struct parser *ps, char *field, char *filename, char *type, const char *data,
                       size_t len)
{
    struct upload *u;

    if (ps->nuploads == ps->cap) {
        int cap = ps->cap ? ps->cap * 2 : 4;
        struct upload *grown = realloc(ps->uploads, (size_t)cap * sizeof(*grown));

        if (grown == NULL)
            return EMU_NOMEM;
        ps->uploads = grown;
        ps->cap = cap;
    }
    u = &ps->uploads[ps->nuploads++];
    u->field = field;
    u->filename = filename;
    u->content_type = type;
    u->data = data;
    u->len = len;
    return EMU_OK;
}

/* What a part's headers say. The strings are new (or NULL). */
struct part_head {
    char *name, *filename, *type;
    int form_data; /* its Content-Disposition is form-data */
};

/* Reads the header block [head, head_end) of a part into ph: the first Content-Disposition
 * and Content-Type count, other headers and folded lines are passed over. */
static int read_part_head(struct parser *ps, const char *head, const char *head_end,
                          struct part_head *ph)
{
    const char *line = head;
    int seen_disposition = 0, rc = EMU_OK;

    while (line < head_end && rc == EMU_OK) {
        const char *eol = memchr(line, '\n', (size_t)(head_end - line));
        const char *stop = eol ? eol : head_end, *next = eol ? eol + 1 : head_end, *colon, *v;
        size_t hlen, vlen;

        if (stop > line && stop[-1] == '\r')
            stop--;
        if (line < stop && (*line == ' ' || *line == '\t')) { /* an obsolete folded line */
            line = next;
            continue;
        }
        colon = memchr(line, ':', (size_t)(stop - line));
        if (colon == NULL)
            return fail(ps, "A multipart part has a header line without a colon");
        hlen = (size_t)(colon - line);
        v = colon + 1;
        while (v < stop && (*v == ' ' || *v == '\t'))
            v++;
        vlen = (size_t)(stop - v);
        while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        if (hlen == 19 && strncasecmp(line, "Content-Disposition", 19) == 0 && !seen_disposition) {
            seen_disposition = 1;
            ph->form_data = vlen >= 9 && strncasecmp(v, "form-data", 9) == 0 &&
                            (vlen == 9 || v[9] == ';' || v[9] == ' ' || v[9] == '\t');
            rc = header_params(v, v + vlen, "name", &ph->name, "filename", &ph->filename);
            if (rc == EMU_BAD_REQUEST)
                rc = fail(ps, "A multipart part has a malformed Content-Disposition header");
        } else if (hlen == 12 && strncasecmp(line, "Content-Type", 12) == 0 && ph->type == NULL) {
            ph->type = strndup(v, vlen);
            if (ph->type == NULL)
                rc = EMU_NOMEM;
        }
        line = next;
    }
    return rc;
}

/* One part: its header block is [head, head_end), its content data_len bytes at data. A part
 * that is not form-data or has no name is skipped, as PHP and browsers' own parsers do. */
static int take_part(struct parser *ps, const char *head, const char *head_end, const char *data,
                     size_t data_len)
{
    struct part_head ph = {NULL, NULL, NULL, 0};
    int rc = read_part_head(ps, head, head_end, &ph);
    char *name = ph.name, *filename = ph.filename, *type = ph.type;

    if (rc == EMU_OK && ((name && !form_text_ok(name, strlen(name))) ||
                         (filename && !form_text_ok(filename, strlen(filename))) ||
                         (type && !form_text_ok(type, strlen(type))))) {
        fail(ps, "A multipart part's name, file name or type is not UTF-8 text");
        rc = EMU_UNPROCESSABLE;
    }
    if (rc != EMU_OK || !ph.form_data || name == NULL)
        goto skip;
    if (filename != NULL) { /* an upload */
        if (!ps->want_files)
            goto skip;
        if (ps->flags & FORM_PHP) {
            if (filename[0] == '\0' || ps->nuploads >= MULTIPART_PHP_MAX_FILES)
                goto skip;
            php_basename(filename);
        }
        if (type == NULL && (type = strdup("")) == NULL) {
            rc = EMU_NOMEM;
            goto skip;
        }
        rc = keep_upload(ps, name, filename, type, data, data_len);
        if (rc != EMU_OK)
            goto skip;
        return EMU_OK; /* the upload owns the three strings */
    }
    if (!form_text_ok(data, data_len)) {
        fail(ps, "The multipart field \"%s\" is not UTF-8 text", name);
        rc = EMU_UNPROCESSABLE;
    } else if (!(ps->flags & FORM_PHP) || ps->vars < FORM_PHP_MAX_VARS) {
        ps->vars++;
        rc = form_add(ps->fields, name, strlen(name), json_stringn_nocheck(data, data_len),
                      ps->flags);
    }
skip:
    free(name);
    free(filename);
    free(type);
    return rc;
}

/* Packs the uploads into one block: the array, then each one's three strings. */
static int pack_uploads(struct parser *ps, struct req_file **files, int *nfiles)
{
    size_t total = (size_t)ps->nuploads * sizeof(struct req_file);
    struct req_file *block;
    char *s;

    if (ps->nuploads == 0)
        return EMU_OK;
    for (int i = 0; i < ps->nuploads; i++)
        total += strlen(ps->uploads[i].field) + strlen(ps->uploads[i].filename) +
                 strlen(ps->uploads[i].content_type) + 3;
    block = malloc(total);
    if (block == NULL)
        return EMU_NOMEM;
    s = (char *)(block + ps->nuploads);
    for (int i = 0; i < ps->nuploads; i++) {
        const struct upload *u = &ps->uploads[i];
        size_t a = strlen(u->field) + 1, b = strlen(u->filename) + 1,
               c = strlen(u->content_type) + 1;

        block[i].field = memcpy(s, u->field, a);
        block[i].filename = memcpy(s + a, u->filename, b);
        block[i].content_type = memcpy(s + a + b, u->content_type, c);
        block[i].data = u->data;
        block[i].len = u->len;
        s += a + b + c;
    }
    *files = block;
    *nfiles = ps->nuploads;
    return EMU_OK;
}

/* The parts after the first delimiter, which ends at next. */
static int read_parts(struct parser *ps, const char *next, int last)
{
    int parts = 0, rc = EMU_OK;

    while (!last && rc == EMU_OK) {
        const char *head = next, *p = head, *data = NULL, *head_end = NULL, *hit;

        if (++parts > MULTIPART_MAX_PARTS)
            return fail(ps, "A multipart body may hold at most %d parts", MULTIPART_MAX_PARTS);
        while (data == NULL) {
            const char *eol = memchr(p, '\n', (size_t)(ps->end - p));

            if (eol == NULL)
                return fail(ps, "The multipart body ends inside a part's headers");
            if (eol == p || (eol == p + 1 && *p == '\r')) {
                head_end = p;
                data = eol + 1;
            }
            p = eol + 1;
            if (p - head > MULTIPART_MAX_HEADERS)
                return fail(ps, "A multipart part's headers are longer than %d bytes",
                            MULTIPART_MAX_HEADERS);
        }
        hit = find_delimiter(ps, data, &last, &next);
        if (hit == NULL)
            return fail(ps, "The multipart body ends without its closing boundary");
        /* the line break before the delimiter belongs to it, not to the content */
        if (hit == data) {
            rc = take_part(ps, head, head_end, data, 0);
        } else {
            const char *data_end = hit - 1;

            if (data_end > data && data_end[-1] == '\r')
                data_end--;
            rc = take_part(ps, head, head_end, data, (size_t)(data_end - data));
        }
    }
    return rc;
}

int multipart_parse(const char *content_type, const char *body, size_t len, unsigned flags,
                    json_t **fields, struct req_file **files, int *nfiles, char *why, size_t whylen)
{
    struct parser ps = {0};
    const char *next = NULL;
    int last = 0, rc;

    *fields = NULL;
    if (files != NULL)
        *files = NULL;
    if (nfiles != NULL)
        *nfiles = 0;
    if (why != NULL && whylen > 0)
        why[0] = '\0';
    ps.body = body;
    ps.end = body + len;
    ps.flags = flags;
    ps.want_files = files != NULL && nfiles != NULL;
    ps.why = why;
    ps.whylen = whylen;
    rc = read_boundary(&ps, content_type ? content_type : "");
    if (rc == EMU_OK && (ps.fields = json_object()) == NULL)
        rc = EMU_NOMEM;
    if (rc == EMU_OK && find_delimiter(&ps, body, &last, &next) == NULL)
        rc = fail(&ps, "The multipart body has no boundary line");
    if (rc == EMU_OK)
        rc = read_parts(&ps, next, last);
    if (rc == EMU_OK && (flags & FORM_PHP))
        rc = form_php_lists(ps.fields);
    if (rc == EMU_OK && ps.want_files)
        rc = pack_uploads(&ps, files, nfiles);
    for (int i = 0; i < ps.nuploads; i++) {
        free(ps.uploads[i].field);
        free(ps.uploads[i].filename);
        free(ps.uploads[i].content_type);
    }
    free(ps.uploads);
    if (rc != EMU_OK) {
        json_decref(ps.fields);
        return rc;
    }
    *fields = ps.fields;
    return EMU_OK;
}
