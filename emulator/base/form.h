/* form.h -- the fields of HTML form submissions: URL-decoding, application/x-www-form-urlencoded
 * text (query strings and form bodies), and the bracket names PHP gives structure to.
 *
 * Values are read whole, whatever their length: every decoded name and value is allocated. Two
 * ways of naming exist. Plain names are taken literally ("filter[id][in]" is one name, the last
 * of a repeated name wins): what the core and the query readers use. With FORM_PHP, names are
 * read as PHP reads them for a Laravel application (see form_add), so "a[]=1&a[]=2" is a list
 * and "a[b]=c" an object. Decoded text must be UTF-8 without NUL bytes (a JSON string can hold
 * anything else); anything else is EMU_BAD_REQUEST. */
#ifndef EMU_FORM_H
#define EMU_FORM_H

#include <stddef.h>

#include <jansson.h>

enum form_flags {
    FORM_PHP = 1 << 0, /* names with brackets nest, as PHP's request parsing makes them */
};

/* PHP's defaults: max_input_vars (fields past it are dropped) and max_input_nesting_level (a
 * field nested deeper is dropped). */
#define FORM_PHP_MAX_VARS  1000
#define FORM_PHP_MAX_DEPTH 64

/* 1 when the media type of a Content-Type value (before any ';', without surrounding spaces)
 * is media, compared without regard to case; content_type may be NULL (0). */
int form_media_is(const char *content_type, const char *media);

/* 1 when len bytes of s are valid UTF-8 without NUL bytes. */
int form_text_ok(const char *s, size_t len);

/* The value of hex digit c (0 to 15), or -1 when c is none. */
int form_hex_value(char c);

/* URL-decodes len bytes of src, form style ('+' is a space; a '%' not followed by two hex digits
 * stays as written), into *out: new malloc'd NUL-terminated text (caller frees) of *out_len
 * bytes (out_len may be NULL). EMU_BAD_REQUEST when the result is not text (see above), with
 * *out NULL; EMU_NOMEM. */
int form_decode(const char *src, size_t len, char **out, size_t *out_len);

/* Adds one field called name (name_len bytes, valid text) to the object fields. value is a new
 * reference, stolen also on failure. Plain: fields[name] = value, unless name is empty (the field
 * is dropped). With FORM_PHP, as PHP does: leading spaces are dropped, ' ' and '.' in the base
 * name become '_', "base[k1][k2]" sets fields.base.k1.k2 (objects are made, or replace what is
 * not one), "[]" appends at the next integer key, a '[' without its ']' is a '_' and the rest of
 * the name is literal, text after a ']' that does not open another '[' is ignored, and a name
 * nested deeper than FORM_PHP_MAX_DEPTH or with an empty base is dropped. Call form_php_lists
 * once all fields are in. EMU_OK or EMU_NOMEM. */
int form_add(json_t *fields, const char *name, size_t name_len, json_t *value, unsigned flags);

/* Turns every object nested in fields whose keys are "0", "1", ... in order into an array, as
 * PHP shows such arrays in JSON (fields itself stays an object). */
int form_php_lists(json_t *fields);

/* Parses len bytes of "a=1&b=2" (a field without '=' has the value "") into *out, a new object
 * of string values named as flags say. EMU_BAD_REQUEST (a name or value that is not text, with
 * *out NULL) or EMU_NOMEM. */
int form_parse(const char *text, size_t len, unsigned flags, json_t **out);

/* Finds the first field of len bytes of "a=1&b=2" whose decoded name is exactly name and stores
 * its decoded value, whole, in *out (malloc'd; caller frees). EMU_NOT_FOUND, EMU_BAD_REQUEST
 * (that value is not text) or EMU_NOMEM; *out is NULL then. */
int form_find(const char *text, size_t len, const char *name, char **out);

#endif
