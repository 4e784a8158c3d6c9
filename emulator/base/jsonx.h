/* jsonx.h -- jansson helpers: body parsing, compact dumps, and finding a value's line:col.
 *
 * jansson is the data model everywhere; these helpers add what it lacks for an emulator:
 * dumps that keep key order (vendors' bodies are compared byte for byte), and the position
 * of a value inside the text it was parsed from, so fixture errors can say file:line:col. */
#ifndef EMU_JSONX_H
#define EMU_JSONX_H

#include <stddef.h>

#include <jansson.h>

/* Compact dump of v in its own key order. Returns new malloc'd text (caller frees) and its
 * length in *len, or NULL when out of memory. */
char *jsonx_dump(const json_t *v, size_t *len);

/* One step of a path into a JSON document: an object key, or (key NULL) an array index. */
struct jsonx_step {
    const char *key;
    size_t index;
};

/* Finds where the value at path (nsteps steps) starts in text, which must be valid JSON.
 * Sets *line and *col (1-based). When the path does not resolve fully, gives the position of
 * the deepest value it reached. */
void jsonx_locate(const char *text, size_t len, const struct jsonx_step *path, size_t nsteps,
                  int *line, int *col);

/* Writes "origin:line:col: sentence" into err, the position being where the value at path
 * (nsteps steps, as jsonx_locate finds it) starts in text; returns EMU_INVALID, so a checker
 * can `return jsonx_fail_at(...)`. */
int jsonx_fail_at(const char *origin, const char *text, size_t len, const struct jsonx_step *path,
                  size_t nsteps, char *err, size_t errlen, const char *sentence);
/* Writes jansson's parse error as "origin:line:col: text" into err; returns EMU_INVALID. */
int jsonx_parse_failed(const char *origin, const json_error_t *jerr, char *err, size_t errlen);

/* 1 when arrays and objects in text (any JSON, valid or not) nest deeper than max_depth.
 * jansson parses recursively, so a body is measured before it is parsed: a worker thread's
 * stack is small, and a hostile body of [[[[... must not overflow it. */
int jsonx_too_deep(const char *text, size_t len, int max_depth);

/* Reads the whole file at path into new malloc'd text, NUL-terminated (caller frees), with its
 * length in *len. Returns EMU_OK, EMU_NOT_FOUND when the file does not exist, EMU_NOMEM or
 * EMU_IO; *text is set only on EMU_OK. */
int jsonx_read_file(const char *path, char **text, size_t *len);

/* Returns the string at key of obj, or NULL when absent or not a string (borrowed). */
const char *jsonx_string(const json_t *obj, const char *key);

/* 1 when s is a canonical lowercase or uppercase 8-4-4-4-12 hex UUID. */
int jsonx_is_uuid(const char *s);

/* The length of the well-formed UTF-8 character at s (avail bytes there): 1 to 4, or 0 when
 * the bytes there are not one (overlong forms, surrogates and code points past U+10FFFF
 * included). JSON text is UTF-8: anything echoed into it is checked with these. */
size_t jsonx_utf8_char(const unsigned char *s, size_t avail);
/* 1 when len bytes of s are well-formed UTF-8. */
int jsonx_utf8_valid(const char *s, size_t len);
/* Rewrites text (NUL-terminated) in place so it is well-formed UTF-8: every byte that starts
 * no character becomes '?'. */
void jsonx_utf8_repair(char *text);

#endif
