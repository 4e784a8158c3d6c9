/* multipart.h -- multipart/form-data bodies (RFC 7578), parsed from a body already in memory.
 *
 * The server reads every body whole before dispatching (the journal and replay keep it raw), so
 * this parser works on that buffer, not on the connection. It is strict where a mistake could
 * mislead (a body without its closing boundary, a malformed part header, text fields that are
 * not UTF-8 are errors) and lenient where clients differ (a bare LF for CRLF, a quoted or bare
 * boundary, a preamble and an epilogue, parts without a name, which are skipped). Every count
 * and size is bounded; any input gives EMU_OK or a clean error. */
#ifndef EMU_MULTIPART_H
#define EMU_MULTIPART_H

#include <stddef.h>

#include <jansson.h>

#include "req_file.h"

#define MULTIPART_MAX_PARTS    1000 /* parts in one body; more is an error */
#define MULTIPART_MAX_HEADERS  8192 /* bytes of one part's header block */
#define MULTIPART_MAX_BOUNDARY 200  /* RFC 2046 says 70; clients are given some room */
/* PHP's max_file_uploads: with FORM_PHP, files past it are dropped, as PHP drops them. */
#define MULTIPART_PHP_MAX_FILES 20

/* Parses len bytes of body sent with the Content-Type value content_type, which must be
 * multipart/form-data with a boundary parameter.
 *
 * flags (enum form_flags): with FORM_PHP, field names nest as PHP reads them (form.h), at most
 * FORM_PHP_MAX_VARS fields and MULTIPART_PHP_MAX_FILES files are kept, a file part with an empty
 * file name is no upload (PHP's UPLOAD_ERR_NO_FILE) and a file name loses any directory part.
 * Without it, names are literal and the last of a repeated field wins.
 *
 * On EMU_OK: *fields is a new object of the text fields (string values). When files is not
 * NULL, *files is one malloc'd block (free it with free()) holding the array of *nfiles uploads
 * and their NUL-terminated names, or NULL with *nfiles 0 when there is none; each upload's data
 * points into body, which must outlive the block. With files (or nfiles) NULL, uploads are
 * skipped.
 * On failure nothing is allocated: *fields and *files are NULL and *nfiles is 0. The errors:
 * EMU_BAD_REQUEST, a body that is not multipart/form-data as it says; EMU_UNPROCESSABLE, a
 * well-formed body with a text field, name or file name that is not UTF-8 without NUL bytes;
 * both with a sentence in why (which may be NULL); EMU_NOMEM. */
int multipart_parse(const char *content_type, const char *body, size_t len, unsigned flags,
                    json_t **fields, struct req_file **files, int *nfiles, char *why,
                    size_t whylen);

#endif
