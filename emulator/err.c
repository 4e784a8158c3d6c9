/* err.c -- tables generated from EMU_ERR_MAP: text, HTTP status and name of every error code. */
#include "err.h"

#include <stddef.h>

struct err_row {
    int code;
    int http;
    const char *name;
    const char *text;
};

static const struct err_row err_rows[] = {
#define X(name, code, http, text) {code, http, #name, text},
    EMU_ERR_MAP(X)
#undef X
};

static const struct err_row *find(int err)
{
    for (size_t i = 0; i < sizeof(err_rows) / sizeof(err_rows[0]); i++)
        if (err_rows[i].code == err)
            return &err_rows[i];
    return NULL;
}

const char *emu_strerror(int err)
{
    const struct err_row *row = find(err);

    return row ? row->text : "unknown error";
}

int emu_http_status(int err)
{
    const struct err_row *row = find(err);

    return row ? row->http : 500;
}

const char *emu_errname(int err)
{
    const struct err_row *row = find(err);

    return row ? row->name : "UNKNOWN";
}
