/* scenario.c -- the scenario registry, rule matching, counters and actions. */
#include "scenario.h"

#include <dirent.h>
#include <float.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "clock.h"
#include "embedded.h"
#include "err.h"
#include "hash.h"
#include "jsonx.h"
#include "metrics.h"
#include "path.h"
#include "req.h"
#include "rng.h"
#include "vendors.h"

#define SCENARIO_SEED_SALT 0x5343454eULL /* "SCEN": probability draws */

struct scenarios {
    pthread_mutex_t lock;
    uint64_t seed;
    json_t *known;      /* name -> scenario document */
    json_t *active;     /* array of {"name", "tenant" (null: every tenant)}, in activation order */
    atomic_int nactive; /* the size of active, read without the lock on every request */
    json_t *counters;   /* "<name>#<rule>/<tenant>" -> {"seen", "fired"} */
};

int scenarios_new(struct scenarios **out, uint64_t seed)
{
    struct scenarios *s = calloc(1, sizeof(*s));

    *out = s;
    if (s == NULL)
        return EMU_NOMEM;
    pthread_mutex_init(&s->lock, NULL);
    s->seed = seed;
    s->known = json_object();
    s->active = json_array();
    s->counters = json_object();
    return s->known && s->active && s->counters ? EMU_OK : EMU_NOMEM;
}

void scenarios_free(struct scenarios *s)
{
    if (s == NULL)
        return;
    json_decref(s->known);
    json_decref(s->active);
    json_decref(s->counters);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* ---- checking ----
 *
 * A scenario file's shape is written down as tables below: each object (the file, a rule, its
 * "match", its "respond") is a schema listing the members it may hold, in the order they are
 * checked. check_object walks a schema; a member's kind says what JSON it must be, and the few
 * members that need more (a vendor's name, an error catalogue entry, header text) name a checker.
 * The first problem found is reported as file:line:col with the member's message. */

struct where {
    const char *origin, *text;
    size_t len;
    char *err;
    size_t errlen;
};

/* What checking carries from member to member: the file, and the vendor "match.vendor" named
 * (respond.error is looked up in that vendor's catalogue). */
struct walk {
    const struct where *w;
    const struct vendor *vendor;
};

enum kind {
    ANY,        /* any JSON; a checker, if any, does the work */
    STRING,     /* a string */
    INTEGER,    /* a whole number from lo to hi */
    NUMBER,     /* any number from lo to hi */
    ONE_OF,     /* a string among values */
    STRINGS,    /* an object whose values are strings */
    OBJECT_ANY, /* an object whose values may be anything */
    SECTION,    /* an object checked against its own schema */
};

enum {
    REQUIRED = 1, /* absent is an error (msg) */
    NULLABLE = 2, /* null is the same as absent */
};

struct field;

typedef int (*checker)(struct walk *c, const struct field *f, struct jsonx_step *path, size_t n,
                       const json_t *v);

struct schema {
    const char *what; /* for "unknown member ... in <what>" */
    const struct field *fields;
};

struct field {
    const char *key;
    enum kind kind;
    int flags;
    double lo, hi;                /* INTEGER, NUMBER */
    const char *const *values;    /* ONE_OF, NULL-ended */
    const char *msg;              /* when the value is not what kind asks, or is missing */
    checker check;                /* run after kind's test passes */
    const struct schema *section; /* SECTION */
};

static int fail(const struct where *w, const struct jsonx_step *path, size_t n, const char *msg)
{
    return jsonx_fail_at(w->origin, w->text, w->len, path, n, w->err, w->errlen, msg);
}

static const struct field *field_of(const struct schema *s, const char *key)
{
    for (const struct field *f = s->fields; f->key != NULL; f++)
        if (strcmp(f->key, key) == 0)
            return f;
    return NULL;
}

/* Every member of obj must be one of the schema's. */
static int only(const struct where *w, struct jsonx_step *path, size_t n, const json_t *obj,
                const struct schema *s)
{
    const char *key;
    json_t *v;
    char msg[200];

    json_object_foreach((json_t *)obj, key, v)
    {
        if (field_of(s, key) == NULL) {
            path[n].key = key;
            snprintf(msg, sizeof(msg), "unknown member \"%s\" in %s", key, s->what);
            return fail(w, path, n + 1, msg);
        }
    }
    return EMU_OK;
}

/* obj must be an object; with strings set, its values must be strings too. */
static int object_of(const struct where *w, struct jsonx_step *path, size_t n, const json_t *obj,
                     const char *what, int strings)
{
    const char *key;
    json_t *v;
    char msg[200];

    if (!json_is_object(obj)) {
        snprintf(msg, sizeof(msg), "\"%s\" must be an object", what);
        return fail(w, path, n, msg);
    }
    json_object_foreach((json_t *)obj, key, v)
    {
        if (strings && !json_is_string(v)) {
            path[n].key = key;
            snprintf(msg, sizeof(msg), "\"%s\" values must be strings", what);
            return fail(w, path, n + 1, msg);
        }
    }
    return EMU_OK;
}

static int in_range(const struct field *f, double x)
{
    return x >= f->lo && x <= f->hi;
}

static int one_of(const char *const *values, const char *s)
{
    for (; *values != NULL; values++)
        if (strcmp(*values, s) == 0)
            return 1;
    return 0;
}

static int check_object(struct walk *c, const struct schema *s, struct jsonx_step *path, size_t n,
                        const json_t *obj);

/* v is the value of f, found at path[0..n). */
static int check_value(struct walk *c, const struct field *f, struct jsonx_step *path, size_t n,
                       const json_t *v)
{
    int ok = 1, rc;

    switch (f->kind) {
    case ANY:
        break;
    case STRING:
        ok = json_is_string(v);
        break;
    case INTEGER:
        ok = json_is_integer(v) && in_range(f, (double)json_integer_value(v));
        break;
    case NUMBER:
        ok = json_is_number(v) && in_range(f, json_number_value(v));
        break;
    case ONE_OF:
        ok = json_is_string(v) && one_of(f->values, json_string_value(v));
        break;
    case STRINGS:
    case OBJECT_ANY:
        if ((rc = object_of(c->w, path, n, v, f->key, f->kind == STRINGS)) != EMU_OK)
            return rc;
        break;
    case SECTION:
        ok = json_is_object(v);
        if (ok && (rc = check_object(c, f->section, path, n, v)) != EMU_OK)
            return rc;
        break;
    }
    if (!ok)
        return fail(c->w, path, n, f->msg);
    return f->check != NULL ? f->check(c, f, path, n, v) : EMU_OK;
}

/* obj (an object, found at path[0..n)) against schema s, member by member in the schema's order. */
static int check_object(struct walk *c, const struct schema *s, struct jsonx_step *path, size_t n,
                        const json_t *obj)
{
    int rc;

    if ((rc = only(c->w, path, n, obj, s)) != EMU_OK)
        return rc;
    for (const struct field *f = s->fields; f->key != NULL; f++) {
        json_t *v = json_object_get(obj, f->key);

        path[n].key = f->key;
        if (v == NULL && (f->flags & REQUIRED))
            return fail(c->w, path, n + 1, f->msg);
        if (v == NULL || (json_is_null(v) && (f->flags & NULLABLE)))
            continue;
        if ((rc = check_value(c, f, path, n + 1, v)) != EMU_OK)
            return rc;
    }
    return EMU_OK;
}

/* ---- the checkers ---- */

static int check_name(struct walk *c, const struct field *f, struct jsonx_step *path, size_t n,
                      const json_t *v)
{
    const char *name = json_string_value(v);

    if (name == NULL || *name == '\0' || strlen(name) > 64 || strpbrk(name, "/,? ") != NULL)
        return fail(c->w, path, n, f->msg);
    return EMU_OK;
}

/* match.vendor: one of the emulated vendors (not the emulator's own API); remembered for
 * respond.error. */
static int check_vendor(struct walk *c, const struct field *f, struct jsonx_step *path, size_t n,
                        const json_t *v)
{
    const struct vendor *vendor = vendor_find(json_is_string(v) ? json_string_value(v) : "");

    if (vendor == NULL || vendor == vendors_own_api())
        return fail(c->w, path, n, f->msg);
    c->vendor = vendor;
    return EMU_OK;
}

static int check_error(struct walk *c, const struct field *f, struct jsonx_step *path, size_t n,
                       const json_t *v)
{
    const struct vendor *vendor = c->vendor;
    char msg[300];

    (void)f;
    if (vendor == NULL)
        return fail(c->w, path, n,
                    "\"error\" needs \"match.vendor\": it names that vendor's entry");
    if (vendor->has_error == NULL || !vendor->has_error(json_string_value(v))) {
        snprintf(msg, sizeof(msg), "\"%s\" is not in %s's error catalogue", json_string_value(v),
                 vendor->name);
        return fail(c->w, path, n, msg);
    }
    return EMU_OK;
}

/* RFC 9110 5.1: a field name is a token, one or more of these characters. */
static int is_token(const char *s)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";

    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr(extra, *s) != NULL))
            return 0;
    return 1;
}

/* RFC 9110 5.5: a field value holds no CR, LF, NUL or other control character (a tab is
 * allowed); len counts every byte, so a NUL inside the JSON string is seen too. */
static int is_field_value(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

/* respond.headers go out on the wire as they are: each name must be a token and each value
 * plain text, or one scenario could split an answer in two. */
static int check_headers(struct walk *c, const struct field *f, struct jsonx_step *path, size_t n,
                         const json_t *headers)
{
    const char *name;
    json_t *value;

    (void)f;
    json_object_foreach((json_t *)headers, name, value)
    {
        path[n].key = name;
        if (!is_token(name))
            return fail(c->w, path, n + 1,
                        "header names must be HTTP tokens (letters, digits and !#$%&'*+-.^_`|~)");
        if (!is_field_value(json_string_value(value), json_string_length(value)))
            return fail(c->w, path, n + 1,
                        "header values must not hold CR, LF, NUL or other control characters");
    }
    return EMU_OK;
}

static int check_rules(struct walk *c, const struct field *f, struct jsonx_step *path, size_t n,
                       const json_t *rules);

/* ---- the schemas ---- */

static const char *const faults[] = {"reset", "empty", "truncate", NULL};

static const struct field match_fields[] = {
    {"method", STRING, 0, 0, 0, NULL, "\"method\" must be a string", NULL, NULL},
    {"path", STRING, 0, 0, 0, NULL, "\"path\" must be a string", NULL, NULL},
    {"tenant", STRING, 0, 0, 0, NULL, "\"tenant\" must be a string", NULL, NULL},
    {"vendor", ANY, 0, 0, 0, NULL, "\"vendor\" must be convoso, rasl or guayaba", check_vendor,
     NULL},
    {"query", STRINGS, 0, 0, 0, NULL, NULL, NULL, NULL},
    {"headers", STRINGS, 0, 0, 0, NULL, NULL, NULL, NULL},
    {"body", OBJECT_ANY, 0, 0, 0, NULL, NULL, NULL, NULL},
    {NULL, ANY, 0, 0, 0, NULL, NULL, NULL, NULL},
};

static const struct schema match_schema = {"\"match\"", match_fields};

static const struct field respond_fields[] = {
    {"error", STRING, NULLABLE, 0, 0, NULL, "\"error\" must be a catalogue entry's name",
     check_error, NULL},
    {"status", INTEGER, NULLABLE, 100, 599, NULL,
     "\"status\" must be an HTTP status from 100 to 599", NULL, NULL},
    {"headers", STRINGS, NULLABLE, 0, 0, NULL, NULL, check_headers, NULL},
    {"delay_ms", INTEGER, NULLABLE, 0, 60000, NULL,
     "\"delay_ms\" must be a whole number from 0 to 60000", NULL, NULL},
    {"fault", ONE_OF, NULLABLE, 0, 0, faults, "\"fault\" must be reset, empty or truncate", NULL,
     NULL},
    {"body", ANY, 0, 0, 0, NULL, NULL, NULL, NULL},
    {NULL, ANY, 0, 0, 0, NULL, NULL, NULL, NULL},
};

static const struct schema respond_schema = {"\"respond\"", respond_fields};

static const struct field rule_fields[] = {
    {"match", SECTION, 0, 0, 0, NULL, "\"match\" must be an object", NULL, &match_schema},
    {"after", INTEGER, 0, 0, DBL_MAX, NULL, "\"after\" must be a whole number >= 0", NULL, NULL},
    {"times", INTEGER, NULLABLE, 1, DBL_MAX, NULL, "\"times\" must be a whole number >= 1", NULL,
     NULL},
    {"probability", NUMBER, 0, 0, 1, NULL, "\"probability\" must be a number from 0 to 1", NULL,
     NULL},
    {"respond", SECTION, REQUIRED, 0, 0, NULL, "a rule needs \"respond\", an object", NULL,
     &respond_schema},
    {"description", ANY, 0, 0, 0, NULL, NULL, NULL, NULL},
    {NULL, ANY, 0, 0, 0, NULL, NULL, NULL, NULL},
};

static const struct schema rule_schema = {"a rule", rule_fields};

static const struct field scenario_fields[] = {
    {"name", ANY, REQUIRED, 0, 0, NULL,
     "\"name\" must be 1-64 characters without '/', ',', '?' or spaces", check_name, NULL},
    {"description", STRING, 0, 0, 0, NULL, "\"description\" must be a string", NULL, NULL},
    {"rules", ANY, REQUIRED, 0, 0, NULL, "\"rules\" must be a non-empty array", check_rules, NULL},
    {NULL, ANY, 0, 0, 0, NULL, NULL, NULL, NULL},
};

static const struct schema scenario_schema = {"a scenario", scenario_fields};

/* "rules": a non-empty array of objects, each a rule; a rule's "match.vendor" holds only for
 * its own "respond". */
static int check_rules(struct walk *c, const struct field *f, struct jsonx_step *path, size_t n,
                       const json_t *rules)
{
    json_t *rule;
    size_t i;
    int rc;

    if (!json_is_array(rules) || json_array_size(rules) == 0)
        return fail(c->w, path, n, f->msg);
    json_array_foreach(rules, i, rule)
    {
        path[n].key = NULL;
        path[n].index = i;
        c->vendor = NULL;
        if (!json_is_object(rule))
            return fail(c->w, path, n + 1, "a rule must be an object");
        if ((rc = check_object(c, &rule_schema, path, n + 1, rule)) != EMU_OK)
            return rc;
    }
    return EMU_OK;
}

int scenario_check(const char *origin, const char *text, size_t len, const json_t *doc, char *err,
                   size_t errlen)
{
    struct where w = {origin, text, len, err, errlen};
    struct walk c = {&w, NULL};
    struct jsonx_step path[6] = {{NULL, 0}};

    if (!json_is_object(doc))
        return fail(&w, path, 0, "a scenario must be an object");
    return check_object(&c, &scenario_schema, path, 0, doc);
}

/* Parses and checks one file; *doc is new on success. */
static int load_file(const char *path, json_t **doc, char *err, size_t errlen)
{
    json_error_t jerr;
    char *text;
    size_t len;
    int rc = jsonx_read_file(path, &text, &len);

    *doc = NULL;
    if (rc != EMU_OK) {
        snprintf(err, errlen, "%s: cannot be read", path);
        return EMU_INVALID;
    }
    *doc = json_loadb(text, len, 0, &jerr);
    if (*doc == NULL) {
        rc = jsonx_parse_failed(path, &jerr, err, errlen);
    } else {
        rc = scenario_check(path, text, len, *doc, err, errlen);
    }
    free(text);
    if (rc != EMU_OK) {
        json_decref(*doc);
        *doc = NULL;
    }
    return rc;
}

/* Calls fn for path, or for each *.json in it when it is a directory (in name order). */
static int each_file(const char *path, int (*fn)(const char *file, void *arg), void *arg)
{
    struct dirent **names;
    struct stat st;
    int n, rc = EMU_OK;

    if (stat(path, &st) != 0)
        return EMU_NOT_FOUND;
    if (!S_ISDIR(st.st_mode))
        return fn(path, arg);
    n = scandir(path, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]->d_name);
        char file[4096];

        if (rc == EMU_OK && len > 5 && strcmp(names[i]->d_name + len - 5, ".json") == 0) {
            snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name);
            rc = fn(file, arg);
        }
        free(names[i]);
    }
    free(names);
    return n < 0 ? EMU_IO : rc;
}

struct checking {
    char *err;
    size_t errlen;
};

static int check_one(const char *file, void *arg)
{
    struct checking *c = arg;
    json_t *doc;
    int rc = load_file(file, &doc, c->err, c->errlen);

    json_decref(doc);
    return rc;
}

int scenario_check_path(const char *path, char *err, size_t errlen)
{
    struct checking c = {err, errlen};
    int rc = each_file(path, check_one, &c);

    if (rc == EMU_NOT_FOUND)
        snprintf(err, errlen, "%s: no such file or directory", path);
    return rc == EMU_OK ? EMU_OK : EMU_INVALID;
}

int scenario_is_scenario_file(const char *path)
{
    char *text, tenants[4096];
    size_t len;
    json_t *doc;
    struct stat st;
    int yes;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) { /* a fixture set has tenants.json */
        snprintf(tenants, sizeof(tenants), "%s/tenants.json", path);
        return access(tenants, F_OK) != 0;
    }
    if (jsonx_read_file(path, &text, &len) != EMU_OK)
        return 0;
    doc = json_loadb(text, len, 0, NULL);
    /* An unparsable file is judged by its words, so its syntax error is still reported. */
    yes = doc ? json_object_get(doc, "rules") != NULL : strstr(text, "\"rules\"") != NULL;
    json_decref(doc);
    free(text);
    return yes;
}

/* ---- the registry ---- */

static void know(struct scenarios *s, const json_t *doc)
{
    json_object_set_new(s->known, jsonx_string(doc, "name"), json_deep_copy(doc));
}

static void activate(struct scenarios *s, const char *name, const char *tenant)
{
    size_t i;
    json_t *a;

    json_array_foreach(s->active, i, a)
    {
        const char *there = jsonx_string(a, "tenant"); /* NULL: every tenant */

        if (strcmp(jsonx_string(a, "name"), name) == 0 &&
            (there == NULL ? tenant == NULL : tenant != NULL && strcmp(there, tenant) == 0))
            return; /* already active there */
    }
    json_array_append_new(s->active, json_pack("{s:s,s:s?}", "name", name, "tenant", tenant));
    atomic_store(&s->nactive, (int)json_array_size(s->active));
}

int scenarios_load_builtin(struct scenarios *s, char *err, size_t errlen)
{
    char origin[300];

    for (const struct embedded_file *e = embedded_scenarios; e->name != NULL; e++) {
        json_error_t jerr;
        json_t *doc;
        int rc;

        if (strstr(e->name, ".json") == NULL)
            continue;
        snprintf(origin, sizeof(origin), "built-in scenarios/%s", e->name);
        doc = json_loadb(e->data, e->len, 0, &jerr);
        if (doc == NULL) {
            jsonx_parse_failed(origin, &jerr, err, errlen);
            return EMU_INVALID;
        }
        rc = scenario_check(origin, e->data, e->len, doc, err, errlen);
        if (rc == EMU_OK)
            know(s, doc);
        json_decref(doc);
        if (rc != EMU_OK)
            return rc;
    }
    return EMU_OK;
}

struct loading {
    struct scenarios *s;
    char *err;
    size_t errlen;
};

static int load_one(const char *file, void *arg)
{
    struct loading *l = arg;
    json_t *doc;
    int rc = load_file(file, &doc, l->err, l->errlen);

    if (rc == EMU_OK) {
        know(l->s, doc);
        activate(l->s, jsonx_string(doc, "name"), NULL);
    }
    json_decref(doc);
    return rc;
}

int scenarios_load_path(struct scenarios *s, const char *path, char *err, size_t errlen)
{
    struct loading l = {s, err, errlen};
    int rc = each_file(path, load_one, &l);

    if (rc == EMU_NOT_FOUND)
        snprintf(err, errlen, "--scenarios %s: no such file or directory", path);
    return rc == EMU_OK ? EMU_OK : EMU_INVALID;
}

int scenarios_put(struct scenarios *s, const char *name, const json_t *doc, const char *tenant)
{
    json_t *copy = json_deep_copy(doc);

    if (copy == NULL)
        return EMU_NOMEM;
    json_object_set_new(copy, "name", json_string(name));
    pthread_mutex_lock(&s->lock);
    json_object_set_new(s->known, name, copy);
    activate(s, name, tenant);
    pthread_mutex_unlock(&s->lock);
    return EMU_OK;
}

int scenarios_deactivate(struct scenarios *s, const char *name, const char *tenant)
{
    int removed = 0;

    pthread_mutex_lock(&s->lock);
    for (size_t i = json_array_size(s->active); i-- > 0;) {
        json_t *a = json_array_get(s->active, i);

        if ((name == NULL || strcmp(jsonx_string(a, "name"), name) == 0) &&
            (tenant == NULL ||
             (jsonx_string(a, "tenant") && strcmp(jsonx_string(a, "tenant"), tenant) == 0))) {
            json_array_remove(s->active, i);
            removed++;
        }
    }
    atomic_store(&s->nactive, (int)json_array_size(s->active));
    pthread_mutex_unlock(&s->lock);
    return removed || name == NULL ? EMU_OK : EMU_NOT_FOUND;
}

void scenarios_reset_counters(struct scenarios *s, const char *tenant)
{
    const char *key;
    json_t *v;
    void *tmp;
    size_t n = tenant ? strlen(tenant) : 0;

    pthread_mutex_lock(&s->lock);
    json_object_foreach_safe(s->counters, tmp, key, v)
    {
        const char *slash = strrchr(key, '/');

        if (tenant == NULL || (slash && strlen(slash + 1) == n && strcmp(slash + 1, tenant) == 0))
            json_object_del(s->counters, key);
    }
    pthread_mutex_unlock(&s->lock);
}

/* {name, description, active_for, rules[{…, hits}]}: hits sums every tenant's firings. */
static json_t *describe_one(struct scenarios *s, const char *name, const json_t *doc)
{
    json_t *out = json_deep_copy(doc), *active_for = json_array(), *rules, *rule, *a;
    size_t i;

    json_array_foreach(s->active, i, a)
    {
        if (strcmp(jsonx_string(a, "name"), name) == 0)
            json_array_append(active_for, json_object_get(a, "tenant"));
    }
    json_object_set_new(out, "active_for", active_for);
    rules = json_object_get(out, "rules");
    json_array_foreach(rules, i, rule)
    {
        char prefix[128];
        const char *key;
        json_t *c;
        json_int_t hits = 0;
        size_t plen;

        snprintf(prefix, sizeof(prefix), "%s#%zu/", name, i);
        plen = strlen(prefix);
        json_object_foreach(s->counters, key, c) if (strncmp(key, prefix, plen) == 0) hits +=
            json_integer_value(json_object_get(c, "fired"));
        json_object_set_new(rule, "hits", json_integer(hits));
    }
    return out;
}

int scenarios_describe(struct scenarios *s, const char *name, json_t **out)
{
    json_t *list = json_array(), *a, *doc;
    size_t i;
    int rc = EMU_OK;

    pthread_mutex_lock(&s->lock);
    if (name != NULL) {
        doc = json_object_get(s->known, name);
        if (doc != NULL)
            json_array_append_new(list, describe_one(s, name, doc));
        else
            rc = EMU_NOT_FOUND;
    } else {
        json_t *seen = json_object();

        json_array_foreach(s->active, i, a)
        {
            const char *n = jsonx_string(a, "name");

            if (json_object_get(seen, n) || (doc = json_object_get(s->known, n)) == NULL)
                continue;
            json_object_set_new(seen, n, json_true());
            json_array_append_new(list, describe_one(s, n, doc));
        }
        json_decref(seen);
    }
    pthread_mutex_unlock(&s->lock);
    *out = json_pack("{s:o}", "scenarios", list);
    return rc;
}

/* ---- matching ---- */

/* Whether every member of want equals the request's. get returns the request's value (new
 * malloc'd text) or NULL. */
static int subset(const json_t *want, char *(*get)(struct req *req, const char *name),
                  struct req *req)
{
    const char *name;
    json_t *v;

    json_object_foreach((json_t *)want, name, v)
    {
        char *have = get(req, name), number[64];
        const char *expect = json_string_value(v);
        int same;

        if (expect == NULL && json_is_number(v)) {
            snprintf(number, sizeof(number), "%g", json_number_value(v));
            expect = number;
        } else if (expect == NULL && json_is_boolean(v)) {
            expect = json_is_true(v) ? "true" : "false";
        }
        same = have != NULL && expect != NULL && strcmp(have, expect) == 0;
        free(have);
        if (!same)
            return 0;
    }
    return 1;
}

static char *query_value(struct req *req, const char *name)
{
    size_t len = req->query ? strlen(req->query) + 1 : 0;
    char *buf = len ? malloc(len) : NULL;

    if (buf != NULL && req_query(req, name, buf, len) == EMU_OK)
        return buf;
    free(buf);
    return NULL;
}

static char *header_value(struct req *req, const char *name)
{
    const char *v = req_header(req, name);

    return v ? strdup(v) : NULL;
}

/* A body field: from a JSON object body, or else a form body. */
static char *body_value(struct req *req, const char *name)
{
    json_t *doc = NULL, *v;
    char *out = NULL;

    if (req->body_len > 0 && !jsonx_too_deep(req->body, req->body_len, 64))
        doc = json_loadb(req->body, req->body_len, 0, NULL);
    if (json_is_object(doc)) {
        v = json_object_get(doc, name);
        if (json_is_string(v)) {
            out = strdup(json_string_value(v));
        } else if (v != NULL && !json_is_object(v) && !json_is_array(v)) {
            out = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        }
    } else if (req->body_len > 0) {
        out = malloc(req->body_len + 1);
        if (out != NULL && req_form(req, name, out, req->body_len + 1) != EMU_OK) {
            free(out);
            out = NULL;
        }
    }
    json_decref(doc);
    return out;
}

static int rule_matches(struct req *req, const json_t *match)
{
    const char *v;

    if (match == NULL)
        return 1;
    if ((v = jsonx_string(match, "vendor")) && (!req->vendor || strcmp(v, req->vendor->name) != 0))
        return 0;
    if ((v = jsonx_string(match, "method")) && strcasecmp(v, req->method) != 0)
        return 0;
    if ((v = jsonx_string(match, "path")) && !path_match(v, req->path))
        return 0;
    if ((v = jsonx_string(match, "tenant")) && strcmp(v, req->tenant) != 0)
        return 0;
    return subset(json_object_get(match, "query"), query_value, req) &&
           subset(json_object_get(match, "headers"), header_value, req) &&
           subset(json_object_get(match, "body"), body_value, req);
}

/* Counts a match of rule index of name for the tenant and says whether the rule fires. Must
 * hold s->lock. */
static int counts_and_fires(struct scenarios *s, const char *name, size_t index, const json_t *rule,
                            const char *tenant)
{
    char key[256];
    json_t *c, *times = json_object_get(rule, "times"), *p = json_object_get(rule, "probability");
    json_int_t seen, fired, after = json_integer_value(json_object_get(rule, "after"));

    snprintf(key, sizeof(key), "%s#%zu/%s", name, index, tenant);
    c = json_object_get(s->counters, key);
    if (c == NULL) {
        c = json_pack("{s:I,s:I}", "seen", (json_int_t)0, "fired", (json_int_t)0);
        json_object_set_new(s->counters, key, c);
    }
    seen = json_integer_value(json_object_get(c, "seen")) + 1;
    fired = json_integer_value(json_object_get(c, "fired"));
    json_object_set_new(c, "seen", json_integer(seen));
    if (seen <= after)
        return 0; /* let the first `after` through */
    if (json_is_integer(times) && fired >= json_integer_value(times))
        return 0;
    if (json_is_number(p)) {
        uint64_t h = hash_fnv1a64(key);

        if ((double)(rng_draw(s->seed ^ SCENARIO_SEED_SALT ^ h, (uint64_t)seen) >> 11) /
                9007199254740992.0 >=
            json_number_value(p))
            return 0;
    }
    json_object_set_new(c, "fired", json_integer(fired + 1));
    return 1;
}

/* Finds the first rule that fires among the scenarios named in the request's header, then the
 * active ones. *respond is a new reference to its "respond"; rule gets "<name>#<index>". */
static int decide(struct scenarios *s, struct req *req, json_t **respond, char *rule, size_t len)
{
    const char *header = req_header(req, "X-Understudy-Scenario");
    json_t *order, *a, *doc, *r;
    size_t i, j;
    int fired = 0;

    if (header == NULL && atomic_load(&s->nactive) == 0)
        return 0; /* the usual request: nothing in play, no lock taken */
    order = json_array();
    if (header != NULL) {
        char names[512], *save, *tok;

        snprintf(names, sizeof(names), "%s", header);
        for (tok = strtok_r(names, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
            json_array_append_new(order, json_string(tok));
    }
    pthread_mutex_lock(&s->lock);
    json_array_foreach(s->active, i, a)
    {
        const char *t = jsonx_string(a, "tenant");
        int listed = 0;

        json_array_foreach(order, j, r) listed |= json_equal(r, json_object_get(a, "name"));
        if (!listed && (t == NULL || strcmp(t, req->tenant) == 0)) /* each scenario once */
            json_array_append(order, json_object_get(a, "name"));
    }
    json_array_foreach(order, i, a)
    {
        const char *name = json_string_value(a);

        doc = json_object_get(s->known, name);
        json_array_foreach(json_object_get(doc, "rules"), j, r)
        {
            if (!rule_matches(req, json_object_get(r, "match")))
                continue;
            if (!counts_and_fires(s, name, j, r, req->tenant[0] ? req->tenant : "-"))
                continue;
            *respond = json_incref(json_object_get(r, "respond"));
            snprintf(rule, len, "%s#%zu", name, j);
            fired = 1;
            break;
        }
        if (fired)
            break;
    }
    pthread_mutex_unlock(&s->lock);
    json_decref(order);
    return fired;
}

int scenario_apply(struct scenarios *s, struct req *req, struct res *res, int *delay_ms)
{
    const char *one_off = req_header(req, "X-Understudy-Error");
    json_t *respond = NULL, *delay, *error, *fault;
    char rule[160];

    *delay_ms = 0;
    if (req->vendor == vendors_own_api())
        return EMU_OK; /* the emulator's own API is never the one failing */
    if (one_off != NULL && req->vendor && req->vendor->has_error &&
        req->vendor->has_error(one_off)) {
        snprintf(res->scenario, sizeof(res->scenario), "X-Understudy-Error");
        metrics_fault(req->app->metrics, "X-Understudy-Error");
        res->retry_after = 60;
        return res_vendor_fail(res, one_off);
    }
    if (!decide(s, req, &respond, rule, sizeof(rule)))
        return EMU_OK;
    snprintf(res->scenario, sizeof(res->scenario), "%s", rule);
    metrics_fault(req->app->metrics, rule);
    delay = json_object_get(respond, "delay_ms");
    if (json_is_integer(delay) && json_integer_value(delay) > 0) /* checked: at most 60000 */
        *delay_ms = (int)json_integer_value(delay);
    error = json_object_get(respond, "error");
    fault = json_object_get(respond, "fault");
    if (json_is_string(fault))
        snprintf(res->fault, sizeof(res->fault), "%s", json_string_value(fault));
    if (json_is_string(error)) {
        const char *wait = jsonx_string(json_object_get(respond, "headers"), "Retry-After");

        res->retry_after = wait && atoi(wait) > 0 ? atoi(wait) : 60; /* for throttling errors */
        res->inject = respond; /* overrides come after the vendor has rendered its error */
        /* The catalogue name borrows from the rule, which lives as long as res->inject. */
        return res_vendor_fail(res, json_string_value(error));
    }
    if (json_is_string(fault) && strcmp(json_string_value(fault), "truncate") == 0 &&
        !json_object_get(respond, "status") && !json_object_get(respond, "body") &&
        !json_object_get(respond, "headers")) {
        json_decref(respond); /* the vendor answers, and its answer is cut */
        return EMU_OK;
    }
    if (json_object_get(respond, "status") || json_object_get(respond, "body") ||
        json_object_get(respond, "headers") || json_is_string(fault)) {
        res->inject = respond;
        res->answered = 1;
        res->status = json_is_integer(json_object_get(respond, "status"))
                          ? (int)json_integer_value(json_object_get(respond, "status"))
                          : 200;
        res_text(res, res->status, "application/json; charset=utf-8", strdup(""), 0);
        scenario_finish(res);
        return EMU_OK;
    }
    json_decref(respond); /* only a delay: the request goes on */
    return EMU_OK;
}

/* An injected throttling answer carries Retry-After, as the vendors' own 429s do. */
static void retry_after(struct res *res)
{
    if (res->scenario[0] && res->status == 429 &&
        (res->headers == NULL || strcasestr(res->headers, "Retry-After:") == NULL))
        res_header(res, "Retry-After", "%d", res->retry_after > 0 ? res->retry_after : 60);
}

void scenario_finish(struct res *res)
{
    json_t *respond = res->inject, *status, *headers, *body, *value;
    const char *name;

    if (respond == NULL) {
        retry_after(res);
        return;
    }
    status = json_object_get(respond, "status");
    if (json_is_integer(status))
        res->status = (int)json_integer_value(status);
    headers = json_object_get(respond, "headers");
    json_object_foreach(headers, name, value) res_header(res, name, "%s", json_string_value(value));
    body = json_object_get(respond, "body");
    if (json_is_string(body)) {
        res_text(res, res->status, "text/plain; charset=utf-8", strdup(json_string_value(body)),
                 json_string_length(body));
    } else if (body != NULL && !json_is_null(body)) {
        res_json(res, res->status, json_incref(body));
    }
    retry_after(res);
}
