/* fuzz_rasl_list.c -- libFuzzer target: RASL's list query language (page, per_page, filter[...],
 * sort, search/q, fields) through the list routes, on the fixture data.
 *
 * The input's first byte picks a RASL list route; the rest is the raw query string. Lists only
 * read, so the store is not reseeded between inputs. Every answer passes fuzz_check_answer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz_app.h"

static const char *const lists[] = {
    "/api/v2/contacts", "/api/v2/groups",    "/api/v2/sources",        "/api/v2/statuses",
    "/api/v2/messages", "/api/v2/templates", "/api/v2/auth/templates",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct app *app;
    struct fuzz_request r = {.method = "GET", .body = "", .nheaders = 2};
    char *query;

    if (app == NULL)
        app = fuzz_app();
    if (size == 0)
        return 0;
    r.path = lists[data[0] % (sizeof(lists) / sizeof(lists[0]))];
    query = fuzz_strndup((const char *)data + 1, size - 1);
    r.query = query;
    r.header_names[0] = "Authorization";
    r.header_values[0] = "Bearer wm_demo_unlimited";
    r.header_names[1] = "Host";
    r.header_values[1] = "127.0.0.1:8080";
    fuzz_dispatch(app, &r);
    free(query);
    return 0;
}
