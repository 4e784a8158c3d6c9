/* fuzz_pipeline.c -- libFuzzer target: whole requests through the dispatcher, every route of
 * every vendor, the admin API included.
 *
 * An input is up to FUZZ_MAX_REQUESTS requests run in order on a freshly seeded store (so a
 * create can be read back, a scenario PUT can fire). Each request is
 *   byte  route: index into every route of every vendor's table, in table order, modulo their
 *         number (with flag 0x20: the method, an index into other_methods)
 *   byte  flags: 0x01 add a valid credential of the route's vendor, 0x02 Content-Type JSON,
 *         0x04 Content-Type form, 0x08 body over --max-body, 0x10 trailing slash, 0x20 raw: the
 *         params field is the whole path (an input that does not depend on the route tables),
 *         0xc0 method: 0 the route's own, 1 HEAD, 2 OPTIONS, 3 other_methods[route byte % 8]
 *   then four fields, each a little-endian 16-bit length and that many bytes (cut at the input's
 *   end): params (one line per {name} of the pattern), query (NULL when empty), headers
 *   ("Name: value" lines) and body.
 * tests/fuzz/make_corpus.py writes the tests' own requests in this format, and triage.py --show
 * prints an input's requests. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_app.h"
#include "router.h"
#include "vendor_list.h"
#include "vendors.h"

#define FUZZ_MAX_REQUESTS 4
#define MAX_ROUTES        256

struct route_ref {
    const struct vendor *vendor;
    const struct route *route;
};

static struct route_ref routes[MAX_ROUTES];
static size_t nroutes;

static const char *const other_methods[] = {"GET",    "POST", "PUT",     "PATCH",
                                            "DELETE", "HEAD", "OPTIONS", "TRACE"};

static void list_routes(void)
{
    const struct vendor *const *vendors = vendors_all();

    for (int i = 0; vendors[i] != NULL; i++)
        for (const struct route *r = vendors[i]->routes; r->method && nroutes < MAX_ROUTES; r++)
            routes[nroutes++] = (struct route_ref){vendors[i], r};
}

/* Reads one length-prefixed field; returns a new NUL-terminated copy and its length. */
static char *field(const uint8_t **p, const uint8_t *end, size_t *len)
{
    size_t n = 0;

    if (end - *p >= 2) {
        n = (size_t)(*p)[0] | (size_t)(*p)[1] << 8;
        *p += 2;
    } else {
        *p = end;
    }
    if (n > (size_t)(end - *p))
        n = (size_t)(end - *p);
    *len = n;
    *p += n;
    return fuzz_strndup((const char *)*p - n, n);
}

/* Writes pattern with each {name} (and a trailing *) replaced by the next line of params. */
static void build_path(const char *pattern, const char *params, char *out, size_t outlen)
{
    size_t used = 0;

    out[0] = '\0';
    for (const char *p = pattern; *p && used + 1 < outlen; p++) {
        const char *value = "1";
        size_t vlen = 1;

        if (*p != '{' && *p != '*') {
            out[used++] = *p;
            continue;
        }
        if (*params) {
            value = params;
            vlen = strcspn(params, "\n");
            params += vlen + (params[vlen] == '\n');
        }
        if (vlen > outlen - 1 - used)
            vlen = outlen - 1 - used;
        memcpy(out + used, value, vlen);
        used += vlen;
        if (*p == '{')
            while (*p && *p != '}')
                p++;
    }
    out[used] = '\0';
}

static const char *vendor_credential(const struct vendor *v, const char **name)
{
    if (v == &vendor_rasl) {
        *name = "Authorization";
        return "Bearer wm_demo_unlimited";
    }
    if (v == &vendor_guayaba) {
        *name = "X-API-Key";
        return "gua_demo0001_key";
    }
    return NULL; /* Convoso takes auth_token in the query; the admin API is open */
}

static void run_one(struct app *app, const uint8_t **p, const uint8_t *end)
{
    struct fuzz_request r = {0};
    const struct route_ref *ref = NULL;
    unsigned pick = (*p)[0], flags = end - *p > 1 ? (*p)[1] : 0, method_bits = flags >> 6;
    size_t params_len, query_len, headers_len, body_len;
    char path[2048], query[4096], *params, *q, *headers, *body, *line, *save;

    *p += end - *p > 1 ? 2 : 1;
    params = field(p, end, &params_len);
    q = field(p, end, &query_len);
    headers = field(p, end, &headers_len);
    body = field(p, end, &body_len);

    if (!(flags & 0x20)) {
        ref = &routes[pick % nroutes];
        build_path(ref->route->path, params, path, sizeof(path));
        r.method = ref->route->method;
    } else {
        snprintf(path, sizeof(path), "%s%s", params[0] == '/' ? "" : "/", params);
        r.method = other_methods[pick % 8];
    }
    if (method_bits > 0)
        r.method = method_bits == 1   ? "HEAD"
                   : method_bits == 2 ? "OPTIONS"
                                      : other_methods[pick % 8];
    if ((flags & 0x10) && strlen(path) + 1 < sizeof(path))
        strcat(path, "/");
    r.path = path;

    if (ref != NULL && ref->vendor == &vendor_convoso && (flags & 0x01))
        snprintf(query, sizeof(query), "auth_token=cv_demo_token%s%s", query_len ? "&" : "", q);
    else
        snprintf(query, sizeof(query), "%s", q);
    r.query = query[0] ? query : NULL;

    if (ref != NULL && (flags & 0x01)) {
        const char *name, *value = vendor_credential(ref->vendor, &name);

        if (value != NULL) {
            r.header_names[r.nheaders] = name;
            r.header_values[r.nheaders++] = value;
        }
    }
    if (flags & 0x02) {
        r.header_names[r.nheaders] = "Content-Type";
        r.header_values[r.nheaders++] = "application/json";
    }
    if (flags & 0x04) {
        r.header_names[r.nheaders] = "Content-Type";
        r.header_values[r.nheaders++] = "application/x-www-form-urlencoded";
    }
    for (line = strtok_r(headers, "\n", &save); line && r.nheaders < REQ_MAX_HEADERS;
         line = strtok_r(NULL, "\n", &save)) {
        char *colon = strchr(line, ':');

        if (colon == NULL || colon == line)
            continue;
        *colon++ = '\0';
        while (*colon == ' ')
            colon++;
        r.header_names[r.nheaders] = line;
        r.header_values[r.nheaders++] = colon;
    }
    r.body = body;
    r.body_len = body_len;
    r.body_too_large = (flags & 0x08) != 0;

    fuzz_dispatch(app, &r);
    free(params);
    free(q);
    free(headers);
    free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct app *app;
    const uint8_t *p = data, *end = data + size;

    if (app == NULL) {
        app = fuzz_app();
        list_routes();
    } else {
        fuzz_app_reset(app);
    }
    for (int i = 0; i < FUZZ_MAX_REQUESTS && p < end; i++)
        run_one(app, &p, end);
    return 0;
}
