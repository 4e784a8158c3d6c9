/* fixtures.c -- reading fixture sets (built in or from a directory), and checking them with
 * positions. Writing them into the store is tenants.c's. */
#include "fixtures.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "embedded.h"
#include "err.h"
#include "field.h"
#include "jsonx.h"
#include "vendors.h"

struct fixture_file {
    char *name;   /* "tenants.json", "guayaba/contacts.json" */
    char *origin; /* what error messages call it: a path, or "built-in:<name>" */
    char *text;
    size_t len;
    json_t *doc;
    const struct vendor *vendor;   /* NULL for tenants.json */
    const struct table_def *table; /* NULL for tenants.json */
};

struct fixtures {
    struct fixture_file *files;
    int nfiles;
    json_t *tenants; /* borrowed from the tenants.json file's doc */
    char fingerprint[33];
    char *dir;    /* NULL for the built-in set */
    int complete; /* 0: only tenants.json is loaded (fixtures_open) */
};

/* Reports a problem at a path inside a file: "origin:line:col: sentence". */
static int fail_at(const struct fixture_file *f, const struct jsonx_step *path, size_t nsteps,
                   char *err, size_t errlen, const char *sentence)
{
    return jsonx_fail_at(f->origin, f->text, f->len, path, nsteps, err, errlen, sentence);
}

int fixtures_tenant_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;

    if (n == 0 || n > 32 || !(islower((unsigned char)id[0]) || isdigit((unsigned char)id[0])))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)id[i]) && !isdigit((unsigned char)id[i]) && id[i] != '-' &&
            id[i] != '_')
            return 0;
    return 1;
}

int fixtures_credential_numbers_ok(const json_t *cred, const char **bad)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)cred, key, v)
    {
        json_int_t n;

        if (json_is_number(v) && (field_integer_of(v, 0, &n) != FIELD_OK || n < 0 || n > INT_MAX)) {
            *bad = key;
            return 0;
        }
    }
    return 1;
}

/* A tenant's "credentials" (at path[0..2)): for each vendor that takes them, an array of
 * credentials that vendor accepts. */
static int check_credentials(const struct fixture_file *f, struct jsonx_step *path, json_t *creds,
                             char *err, size_t errlen)
{
    const char *vname;
    json_t *list;
    char msg[300];

    json_object_foreach(creds, vname, list)
    {
        const struct vendor *v = vendor_find(vname);
        size_t j;
        json_t *cred;

        path[2].key = vname;
        if (v == NULL || v->check_credential == NULL) {
            snprintf(msg, sizeof(msg), "no vendor \"%s\" takes credentials", vname);
            return fail_at(f, path, 3, err, errlen, msg);
        }
        if (!json_is_array(list))
            return fail_at(f, path, 3, err, errlen, "credentials must be an array");
        json_array_foreach(list, j, cred)
        {
            const char *field = NULL;

            path[3].key = NULL;
            path[3].index = j;
            if (!json_is_object(cred))
                return fail_at(f, path, 4, err, errlen, "a credential must be an object");
            if (v->check_credential(cred, &field, msg, sizeof(msg)) != EMU_OK) {
                path[4].key = field;
                return fail_at(f, path, field ? 5 : 4, err, errlen, msg);
            }
            if (!fixtures_credential_numbers_ok(cred, &field)) {
                path[4].key = field;
                snprintf(msg, sizeof(msg), "\"%s\" must be a whole number from 0 to 2147483647",
                         field);
                return fail_at(f, path, 5, err, errlen, msg);
            }
        }
    }
    return EMU_OK;
}

static int check_tenants(const struct fixture_file *f, char *err, size_t errlen)
{
    struct jsonx_step path[5] = {{0}};
    char msg[300];
    size_t i;
    json_t *t, *seen = json_object();
    int rc = EMU_OK;

    if (seen == NULL)
        return EMU_NOMEM;
    if (!json_is_array(f->doc)) {
        rc = fail_at(f, path, 0, err, errlen, "tenants.json must be an array of tenants");
        goto out;
    }
    json_array_foreach(f->doc, i, t)
    {
        const char *id = jsonx_string(t, "id");
        json_t *creds = json_object_get(t, "credentials");

        path[0].index = i;
        if (!json_is_object(t)) {
            rc = fail_at(f, path, 1, err, errlen, "a tenant must be an object");
            goto out;
        }
        path[1].key = "id";
        if (!fixtures_tenant_id_valid(id)) {
            rc = fail_at(f, path, 2, err, errlen,
                         "\"id\" must be 1-32 lowercase letters, digits, '-' or '_'");
            goto out;
        }
        if (json_object_get(seen, id) != NULL) {
            snprintf(msg, sizeof(msg), "tenant \"%s\" is defined twice", id);
            rc = fail_at(f, path, 2, err, errlen, msg);
            goto out;
        }
        json_object_set_new(seen, id, json_true());
        path[1].key = "settings";
        if (json_object_get(t, "settings") != NULL &&
            !json_is_object(json_object_get(t, "settings"))) {
            rc = fail_at(f, path, 2, err, errlen, "\"settings\" must be an object");
            goto out;
        }
        path[1].key = "credentials";
        if (creds != NULL && !json_is_object(creds)) {
            rc = fail_at(f, path, 2, err, errlen, "\"credentials\" must be an object of vendors");
            goto out;
        }
        if ((rc = check_credentials(f, path, creds, err, errlen)) != EMU_OK)
            goto out;
    }
out:
    json_decref(seen);
    return rc;
}

static int check_table(const struct fixture_file *f, char *err, size_t errlen)
{
    struct jsonx_step path[3] = {{0}};
    const char *tenant;
    json_t *rows;
    char msg[300], key[512];

    if (!json_is_object(f->doc))
        return fail_at(f, path, 0, err, errlen,
                       "a fixture file must be an object from tenant id to an array of rows");
    json_object_foreach(f->doc, tenant, rows)
    {
        json_t *row, *keys = json_object();
        size_t i;

        if (keys == NULL)
            return EMU_NOMEM;
        path[0].key = tenant;
        if (!fixtures_tenant_id_valid(tenant) || !json_is_array(rows)) {
            json_decref(keys);
            return fail_at(f, path, 1, err, errlen,
                           "each member must be a tenant id holding an array of rows");
        }
        json_array_foreach(rows, i, row)
        {
            const char *field = NULL;

            path[1].index = i;
            if (!json_is_object(row)) {
                json_decref(keys);
                return fail_at(f, path, 2, err, errlen, "a row must be an object");
            }
            if (f->table->row_key(row, i, key, sizeof(key), &field, msg, sizeof(msg)) != EMU_OK) {
                json_decref(keys);
                path[2].key = field;
                return fail_at(f, path, field ? 3 : 2, err, errlen, msg);
            }
            if (json_object_get(keys, key) != NULL) {
                json_decref(keys);
                snprintf(msg, sizeof(msg), "a second row with the key \"%.200s\"", key);
                return fail_at(f, path, 2, err, errlen, msg);
            }
            json_object_set_new(keys, key, json_true());
        }
        json_decref(keys);
    }
    return EMU_OK;
}

/* Parses f->text and checks its shape. */
static int check_file(struct fixture_file *f, char *err, size_t errlen)
{
    json_error_t jerr;

    f->doc = json_loadb(f->text, f->len, 0, &jerr);
    if (f->doc == NULL)
        return jsonx_parse_failed(f->origin, &jerr, err, errlen);
    return f->table ? check_table(f, err, errlen) : check_tenants(f, err, errlen);
}

/* Finds which vendor table a file name ("guayaba/contacts.json") seeds. */
static int identify(struct fixture_file *f)
{
    const char *slash = strchr(f->name, '/');

    if (strcmp(f->name, "tenants.json") == 0)
        return EMU_OK;
    if (slash == NULL)
        return EMU_NOT_FOUND;
    for (const struct vendor *const *all = vendors_all(); *all != NULL; all++) {
        const struct vendor *v = *all;
        size_t n = strlen(v->name);

        if ((size_t)(slash - f->name) != n || strncmp(f->name, v->name, n) != 0)
            continue;
        for (const struct table_def *t = v->tables; t && t->name; t++) {
            if (t->fixture && strcmp(slash + 1, t->fixture) == 0) {
                f->vendor = v;
                f->table = t;
                return EMU_OK;
            }
        }
    }
    return EMU_NOT_FOUND;
}

static int add_file(struct fixtures *fx, const char *name, const char *origin, char *text,
                    size_t len)
{
    struct fixture_file *grown = realloc(fx->files, sizeof(*grown) * (size_t)(fx->nfiles + 1));
    struct fixture_file *f;

    if (grown == NULL) {
        free(text);
        return EMU_NOMEM;
    }
    fx->files = grown;
    f = &fx->files[fx->nfiles++];
    memset(f, 0, sizeof(*f));
    f->name = strdup(name);
    f->origin = strdup(origin);
    f->text = text;
    f->len = len;
    return f->name && f->origin ? identify(f) : EMU_NOMEM;
}

void fixtures_free(struct fixtures *fx)
{
    if (fx == NULL)
        return;
    for (int i = 0; i < fx->nfiles; i++) {
        free(fx->files[i].name);
        free(fx->files[i].origin);
        free(fx->files[i].text);
        json_decref(fx->files[i].doc);
    }
    free(fx->files);
    free(fx->dir);
    free(fx);
}

/* Reads dir/name into the set; a missing file is an error only when required. */
static int collect_one(struct fixtures *fx, const char *dir, const char *name, int required,
                       char *err, size_t errlen)
{
    char path[4096], *text;
    size_t len;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    rc = jsonx_read_file(path, &text, &len);
    if (rc == EMU_NOT_FOUND && !required)
        return EMU_OK; /* a vendor table without fixtures starts empty */
    if (rc != EMU_OK) {
        snprintf(err, errlen, "%s: %s", path,
                 rc == EMU_NOT_FOUND ? "missing (every fixture set has tenants.json)"
                                     : "cannot be read");
        return EMU_INVALID;
    }
    return add_file(fx, name, path, text, len);
}

/* Every file a set may hold: tenants.json and each vendor table's fixture file. */
static int collect_dir(struct fixtures *fx, const char *dir, char *err, size_t errlen)
{
    char name[256];
    int rc = collect_one(fx, dir, "tenants.json", 1, err, errlen);

    for (const struct vendor *const *v = vendors_all(); rc == EMU_OK && *v != NULL; v++) {
        for (const struct table_def *t = (*v)->tables; rc == EMU_OK && t && t->name; t++) {
            if (t->fixture == NULL)
                continue;
            snprintf(name, sizeof(name), "%s/%s", (*v)->name, t->fixture);
            rc = collect_one(fx, dir, name, 0, err, errlen);
        }
    }
    return rc;
}

static int collect_builtin(struct fixtures *fx)
{
    char origin[300];

    for (const struct embedded_file *e = embedded_fixtures; e->name != NULL; e++) {
        char *text = malloc(e->len + 1);
        int rc;

        if (text == NULL)
            return EMU_NOMEM;
        memcpy(text, e->data, e->len);
        text[e->len] = '\0';
        snprintf(origin, sizeof(origin), "built-in fixtures/%s", e->name);
        rc = add_file(fx, e->name, origin, text, e->len);
        if (rc == EMU_NOT_FOUND)
            continue; /* not a fixture of a vendor this build has */
        if (rc != EMU_OK)
            return rc;
    }
    return EMU_OK;
}

/* Every tenant a table file names must be defined in tenants.json. */
static int check_cross(struct fixtures *fx, char *err, size_t errlen)
{
    for (int i = 0; i < fx->nfiles; i++) {
        const struct fixture_file *f = &fx->files[i];
        const char *tenant;
        json_t *rows;

        if (f->table == NULL)
            continue;
        json_object_foreach(f->doc, tenant, rows)
        {
            int known = 0;
            size_t j;
            json_t *t;

            json_array_foreach(fx->tenants, j, t) known |=
                strcmp(jsonx_string(t, "id"), tenant) == 0;
            if (!known) {
                struct jsonx_step step = {tenant, 0};
                char msg[200];

                snprintf(msg, sizeof(msg), "tenant \"%s\" is not in tenants.json", tenant);
                (void)rows;
                return fail_at(f, &step, 1, err, errlen, msg);
            }
        }
    }
    return EMU_OK;
}

/* Eight bytes of p, little end first, whatever the alignment. */
static uint64_t word_at(const unsigned char *p)
{
    uint64_t w = 0;

    for (int i = 7; i >= 0; i--)
        w = w << 8 | p[i];
    return w;
}

static void mix(uint64_t h[2], const void *data, size_t len)
{
    const unsigned char *p = data;
    unsigned char tail[8] = {0};
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t w = word_at(p + i);

        h[0] = (h[0] ^ w) * 0x9e3779b97f4a7c15u;
        h[0] ^= h[0] >> 31;
        h[1] = (h[1] ^ w) * 0xc2b2ae3d27d4eb4fu;
        h[1] ^= h[1] >> 29;
    }
    memcpy(tail, p + i, len - i);
    h[0] = (h[0] ^ word_at(tail) ^ len) * 0x9e3779b97f4a7c15u;
    h[1] = (h[1] ^ word_at(tail) ^ len) * 0xc2b2ae3d27d4eb4fu;
}

#define FINGERPRINT_CHUNK (1u << 20)

static const uint64_t fingerprint_start[2] = {0x243f6a8885a308d3u, 0x13198a2e03707344u};

/* Mixes a file's name and text into h, a chunk at a time (so that a file read by chunks gives
 * the same digest). */
static void mix_file(uint64_t h[2], const char *name, const char *text, size_t len)
{
    mix(h, name, strlen(name) + 1);
    for (size_t off = 0; off < len; off += FINGERPRINT_CHUNK)
        mix(h, text + off, len - off < FINGERPRINT_CHUNK ? len - off : FINGERPRINT_CHUNK);
}

static void fingerprint_text(struct fixtures *fx, const uint64_t h[2])
{
    snprintf(fx->fingerprint, sizeof(fx->fingerprint), "%016llx%016llx", (unsigned long long)h[0],
             (unsigned long long)h[1]);
}

/* A digest of every file's name and bytes: the same set gives the same text, another set
 * (almost surely) another. */
static void fingerprint(struct fixtures *fx)
{
    uint64_t h[2] = {fingerprint_start[0], fingerprint_start[1]};

    for (int i = 0; i < fx->nfiles; i++)
        mix_file(h, fx->files[i].name, fx->files[i].text, fx->files[i].len);
    fingerprint_text(fx, h);
}

int fixtures_load(struct fixtures **out, const char *dir, char *err, size_t errlen)
{
    struct fixtures *fx = calloc(1, sizeof(*fx));
    int rc;

    *out = NULL;
    if (fx == NULL)
        return EMU_NOMEM;
    rc = dir ? collect_dir(fx, dir, err, errlen) : collect_builtin(fx);
    for (int i = 0; rc == EMU_OK && i < fx->nfiles; i++) {
        rc = check_file(&fx->files[i], err, errlen);
        if (rc == EMU_OK && fx->files[i].table == NULL)
            fx->tenants = fx->files[i].doc;
    }
    if (rc == EMU_OK && fx->tenants == NULL) {
        snprintf(err, errlen, "the fixture set has no tenants.json");
        rc = EMU_INVALID;
    }
    if (rc == EMU_OK)
        rc = check_cross(fx, err, errlen);
    if (rc == EMU_OK)
        fingerprint(fx);
    if (rc == EMU_OK && dir != NULL && (fx->dir = strdup(dir)) == NULL)
        rc = EMU_NOMEM;
    fx->complete = 1;
    if (rc != EMU_OK) {
        if (rc == EMU_NOMEM)
            snprintf(err, errlen, "out of memory while loading fixtures");
        fixtures_free(fx);
        return rc;
    }
    *out = fx;
    return EMU_OK;
}

int fixtures_check_path(const char *path, char *err, size_t errlen)
{
    struct fixtures *fx;
    struct stat st;
    const char *base, *slash;
    char name[300], parent[128] = "";
    char *text;
    size_t len;
    int rc;

    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: no such file or directory", path);
        return EMU_INVALID;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = fixtures_load(&fx, path, err, errlen);
        fixtures_free(fx);
        return rc;
    }
    /* A single file: its name and its directory's name say what it is. */
    base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (base > path + 1) {
        const char *end = base - 1, *start = end;

        while (start > path && start[-1] != '/')
            start--;
        if ((size_t)(end - start) < sizeof(parent)) {
            memcpy(parent, start, (size_t)(end - start));
            parent[end - start] = '\0';
        }
    }
    if (strcmp(base, "tenants.json") == 0)
        snprintf(name, sizeof(name), "tenants.json");
    else
        snprintf(name, sizeof(name), "%s/%s", parent, base);
    fx = calloc(1, sizeof(*fx));
    if (fx == NULL)
        return EMU_NOMEM;
    rc = jsonx_read_file(path, &text, &len);
    if (rc != EMU_OK) {
        snprintf(err, errlen, "%s: cannot be read", path);
        fixtures_free(fx);
        return EMU_INVALID;
    }
    rc = add_file(fx, name, path, text, len);
    slash = strchr(name, '/');
    if (rc == EMU_NOT_FOUND)
        snprintf(err, errlen,
                 "%s: not a fixture file (expected tenants.json or <vendor>/<table>.json, "
                 "and \"%s\" is not one)",
                 path, slash ? name : base);
    else if (rc == EMU_OK)
        rc = check_file(&fx->files[0], err, errlen);
    fixtures_free(fx);
    return rc == EMU_OK ? EMU_OK : EMU_INVALID;
}

const json_t *fixtures_tenant(const struct fixtures *fx, const char *id)
{
    size_t i;
    json_t *t;

    json_array_foreach(fx->tenants, i, t) if (strcmp(jsonx_string(t, "id"), id) == 0) return t;
    return NULL;
}

const char *fixtures_fingerprint(const struct fixtures *fx)
{
    return fx->fingerprint;
}

const json_t *fixtures_tenants(const struct fixtures *fx)
{
    return fx->tenants;
}

int fixtures_rows(struct fixtures *fx, const char *tenant, fixtures_row_fn *fn, void *arg)
{
    char rowkey[512], msg[64], err[1024];
    int rc = fixtures_complete(fx, err, sizeof(err));

    if (rc != EMU_OK) {
        fprintf(stderr, "understudy: %s\n", err);
        return rc;
    }

    for (int i = 0; rc == EMU_OK && i < fx->nfiles; i++) {
        const struct fixture_file *f = &fx->files[i];
        json_t *rows, *row;
        size_t j;

        if (f->table == NULL || (rows = json_object_get(f->doc, tenant)) == NULL)
            continue;
        json_array_foreach(rows, j, row)
        {
            const char *field;

            f->table->row_key(row, j, rowkey, sizeof(rowkey), &field, msg, sizeof(msg));
            rc = fn(f->table->name, rowkey, row, arg);
            if (rc != EMU_OK)
                return rc;
        }
    }
    return rc;
}

/* Mixes dir/name into h as mix_file does, reading it a chunk at a time; a missing file is
 * left out, as collect_one leaves it out. */
static int mix_path(uint64_t h[2], const char *dir, const char *name, char *buf)
{
    char path[4096];
    FILE *fp;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "rb");
    if (fp == NULL)
        return errno == ENOENT ? EMU_OK : EMU_IO;
    mix(h, name, strlen(name) + 1);
    while ((n = fread(buf, 1, FINGERPRINT_CHUNK, fp)) > 0)
        mix(h, buf, n);
    n = (size_t)ferror(fp);
    fclose(fp);
    return n ? EMU_IO : EMU_OK;
}

int fixtures_open(struct fixtures **out, const char *dir, char *err, size_t errlen)
{
    uint64_t h[2] = {fingerprint_start[0], fingerprint_start[1]};
    struct fixtures *fx;
    char name[256], *buf;
    int rc;

    if (dir == NULL) /* the built-in set is small: loaded whole */
        return fixtures_load(out, NULL, err, errlen);
    *out = NULL;
    fx = calloc(1, sizeof(*fx));
    buf = malloc(FINGERPRINT_CHUNK);
    if (fx == NULL || buf == NULL || (fx->dir = strdup(dir)) == NULL) {
        free(buf);
        fixtures_free(fx);
        snprintf(err, errlen, "out of memory while loading fixtures");
        return EMU_NOMEM;
    }
    rc = collect_one(fx, dir, "tenants.json", 1, err, errlen);
    if (rc == EMU_OK)
        rc = check_file(&fx->files[0], err, errlen);
    if (rc == EMU_OK) {
        fx->tenants = fx->files[0].doc;
        mix_file(h, fx->files[0].name, fx->files[0].text, fx->files[0].len);
    }
    for (const struct vendor *const *v = vendors_all(); rc == EMU_OK && *v != NULL; v++) {
        for (const struct table_def *t = (*v)->tables; rc == EMU_OK && t && t->name; t++) {
            if (t->fixture == NULL)
                continue;
            snprintf(name, sizeof(name), "%s/%s", (*v)->name, t->fixture);
            if (mix_path(h, dir, name, buf) != EMU_OK) {
                snprintf(err, errlen, "%s/%s: cannot be read", dir, name);
                rc = EMU_INVALID;
            }
        }
    }
    free(buf);
    if (rc != EMU_OK) {
        fixtures_free(fx);
        return rc;
    }
    fingerprint_text(fx, h);
    *out = fx;
    return EMU_OK;
}

int fixtures_complete(struct fixtures *fx, char *err, size_t errlen)
{
    struct fixture_file *grown;
    struct fixtures *full;
    int rc;

    if (fx->complete)
        return EMU_OK;
    rc = fixtures_load(&full, fx->dir, err, errlen);
    if (rc != EMU_OK)
        return rc;
    if (strcmp(full->fingerprint, fx->fingerprint) != 0) {
        snprintf(err, errlen, "%s: the fixture files changed after start", fx->dir);
        fixtures_free(full);
        return EMU_INVALID;
    }
    /* Same bytes: the table files join the tenants.json already loaded, which stays (callers
     * may be walking its tenants). */
    grown = realloc(fx->files, sizeof(*grown) * (size_t)(fx->nfiles + full->nfiles));
    if (grown == NULL) {
        fixtures_free(full);
        snprintf(err, errlen, "out of memory while loading fixtures");
        return EMU_NOMEM;
    }
    fx->files = grown;
    for (int i = 0; i < full->nfiles; i++) {
        if (full->files[i].table == NULL) { /* tenants.json */
            free(full->files[i].name);
            free(full->files[i].origin);
            free(full->files[i].text);
            json_decref(full->files[i].doc);
        } else {
            fx->files[fx->nfiles++] = full->files[i];
        }
    }
    full->nfiles = 0;
    fixtures_free(full);
    fx->complete = 1;
    return EMU_OK;
}

void fixtures_release_rows(struct fixtures *fx)
{
    int kept = 0;

    if (!fx->complete || fx->dir == NULL)
        return;
    for (int i = 0; i < fx->nfiles; i++) {
        struct fixture_file *f = &fx->files[i];

        if (f->table == NULL) { /* tenants.json, which callers may hold */
            fx->files[kept++] = *f;
            continue;
        }
        free(f->name);
        free(f->origin);
        free(f->text);
        json_decref(f->doc);
    }
    fx->nfiles = kept;
    fx->complete = 0;
#ifdef __GLIBC__
    malloc_trim(0); /* the rows were many small blocks: give the pages back */
#endif
}
