/* fuzz_app.c -- the app for in-process fuzz targets: setup as main.c does it, a reset between
 * inputs, one request through the dispatcher, and the checks every answer must pass. */
#include "fuzz_app.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "dispatch.h"
#include "err.h"
#include "fixtures.h"
#include "journal.h"
#include "jsonx.h"
#include "metrics.h"
#include "ratelimit.h"
#include "router.h"
#include "scenario.h"
#include "store.h"
#include "tenants.h"
#include "vendor_list.h"
#include "vendors.h"

/* A scenario's delay_ms sleeps in the request's thread with usleep (up to a minute). In a fuzz
 * target a sleep measures nothing and would only be reported as a timeout, so this definition
 * takes the place of libc's for the emulator's code linked into the target: the delay returns at
 * once. libFuzzer's own timers use nanosleep, which is left alone. */
int usleep(useconds_t usec)
{
    (void)usec;
    return 0;
}

static struct app the_app;
static int built;
/* What the inputs since the last reset may have changed, so a reset redoes only that: putting the
 * store back costs more than most requests. */
static int store_dirty, scenarios_dirty;

static void remove_data_dir(void)
{
    DIR *d = opendir(the_app.data_dir);
    struct dirent *e;
    char path[PATH_MAX + 300];

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", the_app.data_dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(the_app.data_dir);
}

static void die(const char *what)
{
    fprintf(stderr, "fuzz: cannot set up the app: %s\n", what);
    abort();
}

static void load_scenarios(struct app *app)
{
    char err[512];

    if (scenarios_new(&app->scenarios, app->cfg.seed) != EMU_OK ||
        scenarios_load_builtin(app->scenarios, err, sizeof(err)) != EMU_OK)
        die("the built-in scenarios");
}

/* The store's file right after seeding: putting it back is far cheaper than seeding again, and
 * gives every input the very same store, sequences included. */
static char *pristine;
static size_t pristine_len;

static void data_file(char *path, size_t len)
{
    snprintf(path, len, "%s/data.mdb", the_app.data_dir);
}

static void keep_pristine(struct app *app)
{
    char path[PATH_MAX + 16];
    size_t used, map_size;
    FILE *f;

    /* The file is as long as the map (sparse): only its pages in use are kept and written
     * back; LMDB makes the file long again when it opens it. */
    store_usage(app->store, &used, &map_size);
    store_close(app->store); /* flushed and closed: the file is whole */
    data_file(path, sizeof(path));
    free(pristine);
    pristine = malloc(used);
    pristine_len = used;
    f = fopen(path, "rb");
    if (pristine == NULL || f == NULL || fread(pristine, 1, used, f) != used || fclose(f) != 0)
        die("reading the seeded store");
    if (store_open(&app->store, app->data_dir, app->cfg.map_size, vendors_store_tables(),
                   vendors_store_indexes()) != EMU_OK)
        die("reopening the store");
}

static void restore_pristine(struct app *app)
{
    char path[PATH_MAX + 16];
    FILE *f;

    store_close(app->store);
    data_file(path, sizeof(path));
    f = fopen(path, "w");
    if (f == NULL || fwrite(pristine, 1, pristine_len, f) != pristine_len || fclose(f) != 0)
        die("restoring the store");
    if (store_open(&app->store, app->data_dir, app->cfg.map_size, vendors_store_tables(),
                   vendors_store_indexes()) != EMU_OK)
        die("reopening the store");
}

static void seed(struct app *app)
{
    struct store_txn *txn;
    int rc = store_txn_begin(app->store, 1, &txn);

    if (rc == EMU_OK)
        rc = tenants_seed(app->fixtures, txn, NULL);
    if (rc == EMU_OK)
        rc = store_txn_commit(txn);
    else
        store_txn_abort(txn);
    if (rc != EMU_OK)
        die("seeding the store");
}

void fuzz_app_reset(struct app *app)
{
    clock_destroy(&app->clock);
    clock_init(&app->clock, FUZZ_CLOCK);
    ratelimit_clear(app->limits, "");
    if (scenarios_dirty) {
        scenarios_free(app->scenarios);
        load_scenarios(app);
    } else {
        scenarios_deactivate(app->scenarios, NULL, NULL);
        scenarios_reset_counters(app->scenarios, NULL);
    }
    journal_clear(app->journal);
    metrics_reset(app->metrics);
    atomic_store(&app->answers, 0);
    scenarios_dirty = 0;
    if (store_dirty)
        restore_pristine(app);
    store_dirty = 0;
}

struct app *fuzz_app(void)
{
    static char *argv[] = {"--clock", FUZZ_CLOCK, NULL};
    struct app *app = &the_app;
    const char *tmp = getenv("TMPDIR");
    char err[1024];

    if (built)
        return app;
    vendor_list_register(); /* as main does, before anything reads fixtures, tables or routes */
    if (config_parse(&app->cfg, 2, argv, err, sizeof(err)) != EMU_OK)
        die(err);
    app->cfg.map_size = (size_t)256 << 20; /* the fixtures take a few hundred kB */
    app->cfg.max_body = 65536;
    app->cfg.journal_entries = 64;
    app->skip_delays = 1; /* a scenario's delay_ms is checked and applied, not slept */
    app->cfg.journal_bytes = (size_t)1 << 20;
    if (clock_init(&app->clock, app->cfg.clock) != EMU_OK)
        die("the clock");
    if (fixtures_load(&app->fixtures, NULL, err, sizeof(err)) != EMU_OK)
        die(err);
    snprintf(app->data_dir, sizeof(app->data_dir), "%s/understudy-fuzz-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(app->data_dir) == NULL)
        die("a temporary directory");
    app->data_dir_is_temp = 1;
    atexit(remove_data_dir);
    if (ratelimit_new(&app->limits) != EMU_OK ||
        journal_new(&app->journal, app->cfg.journal_entries, app->cfg.journal_bytes) != EMU_OK ||
        metrics_new(&app->metrics) != 0)
        die("out of memory");
    load_scenarios(app);
    if (store_open(&app->store, app->data_dir, app->cfg.map_size, vendors_store_tables(),
                   vendors_store_indexes()) != EMU_OK)
        die("the store");
    app->webhooks = NULL; /* deliveries are recorded in the outbox and never sent */
    atomic_store(&app->ready, 1);
    seed(app);
    keep_pristine(app);
    built = 1;
    return app;
}

char *fuzz_strndup(const char *data, size_t len)
{
    char *s = malloc(len + 1);

    if (s == NULL)
        abort();
    memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

static void breach(const struct req *req, const struct res *res, const char *what)
{
    fprintf(stderr, "fuzz: %s %s%s%s answered %d: %s\n", req->method, req->path,
            req->query ? "?" : "", req->query ? req->query : "", res->status, what);
    /* One line triage.py groups by: who answered, on which route, and the error's sentence. */
    fprintf(stderr, "fuzz: where: %s %s; detail: %s\n", req->vendor ? req->vendor->name : "-",
            req->route ? req->route->path : "(no route)", res->detail);
    if (res->body != NULL)
        fprintf(stderr, "fuzz: body: %.*s\n", (int)(res->body_len < 400 ? res->body_len : 400),
                res->body);
    if (res->body != NULL && getenv("UNDERSTUDY_FUZZ_BODY_FILE") != NULL) { /* the whole body */
        FILE *f = fopen(getenv("UNDERSTUDY_FUZZ_BODY_FILE"), "w");

        if (f != NULL) {
            fwrite(res->body, 1, res->body_len, f);
            fclose(f);
        }
    }
    abort();
}

void fuzz_check_answer(const struct req *req, const struct res *res)
{
    static int allow_5xx = -1;

    if (allow_5xx < 0) /* to look past 5xx findings already known, for memory errors */
        allow_5xx = getenv("UNDERSTUDY_FUZZ_ALLOW_5XX") != NULL;
    const char *p = res->headers, *end = p != NULL ? p + res->headers_len : NULL;

    if (res->status < 100 || res->status > 599)
        breach(req, res, "a status outside 100-599");
    if (res->status >= 500 && res->scenario[0] == '\0' && !allow_5xx)
        breach(req, res, "a 5xx that no scenario injected");
    while (p != NULL && p < end) { /* "Name: value\r\n" lines, nothing else */
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *colon;

        if (eol == NULL || eol == p || eol[-1] != '\r')
            breach(req, res, "a header line not ended by CRLF");
        colon = memchr(p, ':', (size_t)(eol - p));
        if (colon == NULL || colon == p)
            breach(req, res, "a header line without a name");
        for (const char *c = p; c < colon; c++) /* RFC 9110 token characters */
            if (!isalnum((unsigned char)*c) && strchr("!#$%&'*+-.^_`|~", *c) == NULL)
                breach(req, res, "a header name that is not a token");
        for (const char *c = p; c < eol - 1; c++)
            if ((unsigned char)*c < 0x20 && *c != '\t')
                breach(req, res, "a control character inside a header");
        p = eol + 1;
    }
    if (res->content_type != NULL && strstr(res->content_type, "json") != NULL &&
        res->body_len > 0) {
        /* \u0000 is valid JSON (an echoed body may hold NUL bytes); jansson wants it allowed. */
        json_t *doc = json_loadb(res->body, res->body_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

        if (doc == NULL)
            breach(req, res, "a JSON content type on a body that is not JSON");
        json_decref(doc);
    }
}

/* 1 when name is an HTTP token (RFC 9110's tchar) and value holds no CR, LF or NUL: what a
 * header a scenario adds to answers must be, or it splits the answer it is written into. */
static int header_is_safe(const char *name, const char *value, size_t value_len)
{
    if (*name == '\0')
        return 0;
    for (const char *p = name; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("!#$%&'*+-.^_`|~", *p) != NULL))
            return 0;
    for (size_t i = 0; i < value_len; i++)
        if (value[i] == '\r' || value[i] == '\n' || value[i] == '\0')
            return 0;
    return 1;
}

void fuzz_check_scenario_headers(const json_t *doc)
{
    const json_t *rule;
    size_t i;

    json_array_foreach(json_object_get(doc, "rules"), i, rule)
    {
        const char *name;
        json_t *value;

        json_object_foreach(json_object_get(json_object_get(rule, "respond"), "headers"), name,
                            value)
        {
            if (json_is_string(value) &&
                !header_is_safe(name, json_string_value(value), json_string_length(value))) {
                fprintf(stderr,
                        "fuzz: the checker accepted respond.headers \"%s\" of rule %zu, "
                        "which is not a token with a value free of CR, LF and NUL\n",
                        name, i);
                abort();
            }
        }
    }
}

/* Journals the exchange the way http_server.c does, so GET /__admin/requests has entries of every
 * shape to render. */
static void journal(struct app *app, const struct req *req, const struct res *res)
{
    struct journal_record r = {0};
    char request_headers[8192], response_headers[1024];
    size_t used = 0;
    int n;

    r.tenant = req->tenant[0] ? req->tenant : "-";
    r.vendor = req->vendor ? req->vendor->name : "-";
    metrics_count(app->metrics, r.vendor, req->method, req->route ? req->route->path : "-",
                  res->status, r.tenant);
    if (req->vendor == &vendor_admin)
        return;
    for (int i = 0; i < req->nheaders; i++) {
        size_t nl = strlen(req->headers[i].name), vl = strlen(req->headers[i].value);

        if (used + nl + vl + 4 > sizeof(request_headers))
            break;
        used += (size_t)sprintf(request_headers + used, "%s: %s\r\n", req->headers[i].name,
                                req->headers[i].value);
    }
    n = snprintf(response_headers, sizeof(response_headers),
                 "Content-Type: %s\r\nContent-Length: %zu\r\n%.*s",
                 res->content_type ? res->content_type : "application/json", res->body_len,
                 (int)(res->headers_len < 512 ? res->headers_len : 0),
                 res->headers ? res->headers : "");
    r.time_ms = req->now_ms;
    r.duration_us = 1;
    r.method = req->method;
    r.path = req->path;
    r.query = req->query;
    r.scenario = res->scenario[0] ? res->scenario : NULL;
    r.request_headers = request_headers;
    r.request_headers_len = used;
    r.request_body = req->body;
    r.request_body_len = req->body_len;
    r.response_headers = response_headers;
    r.response_headers_len =
        n < (int)sizeof(response_headers) ? (size_t)n : sizeof(response_headers) - 1;
    r.response_body = res->body ? res->body : "";
    r.response_body_len = res->body_len;
    r.status = res->status;
    journal_add(app->journal, &r);
}

int fuzz_dispatch(struct app *app, const struct fuzz_request *r)
{
    struct req req = {0};
    struct res res = {0};
    int status;

    req.app = app;
    req.method = r->method;
    req.path = r->path;
    req.query = r->query;
    req.remote_addr = "127.0.0.1";
    req.now_ms = clock_now_ms(&app->clock);
    for (int i = 0; i < r->nheaders && i < REQ_MAX_HEADERS; i++) {
        req.headers[i].name = r->header_names[i];
        req.headers[i].value = r->header_values[i];
        req.nheaders = i + 1;
    }
    req.body = r->body_too_large ? "" : r->body;
    req.body_len = r->body_too_large ? 0 : r->body_len;
    req.body_too_large = r->body_too_large;
    dispatch_request(app, &req, &res);
    if (req.route != NULL && req.vendor == &vendor_admin && strcmp(req.method, "PUT") == 0 &&
        strncmp(req.route->path, "/__admin/scenarios/", 19) == 0 && res.status < 300)
        fuzz_check_scenario_headers(req.json); /* what the admin API accepted */
    if (req.route != NULL && (req.route->flags & ROUTE_WRITE))
        store_dirty = 1;
    if (req.vendor == &vendor_admin && strncmp(req.path, "/__admin/scenarios", 18) == 0 &&
        strcmp(req.method, "GET") != 0)
        scenarios_dirty = 1;
    if (res.status == 0)
        res.status = 500; /* what http_server.c sends for an answer nobody set */
    fuzz_check_answer(&req, &res);
    journal(app, &req, &res);
    status = res.status;
    req_clear(&req);
    res_clear(&res);
    return status;
}
