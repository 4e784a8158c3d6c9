/* req_file.h -- a file uploaded in a request's multipart/form-data body.
 *
 * The multipart parser (multipart.h) makes them and struct req (req.h) holds them, so the type
 * lives apart from both. */
#ifndef EMU_REQ_FILE_H
#define EMU_REQ_FILE_H

#include <stddef.h>

/* Every string is NUL-terminated and lives as long as the request (owned by it, freed by
 * req_clear). */
struct req_file {
    const char *field;        /* the form field's name ("media_file") */
    const char *filename;     /* the file name the client gave; "" when none */
    const char *content_type; /* the part's Content-Type; "" when none */
    const char *data;         /* the file's bytes (not NUL-terminated) */
    size_t len;
};

#endif
