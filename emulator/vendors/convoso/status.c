/* status.c -- Convoso lead status codes: /v1/status/search, /v1/status/insert, /v1/status/update.
 *
 * A status is stored exactly as the API shows it: {status, name, final, reached, success, dnc,
 * callback, contact, voicemail, workflow_disposition_event_option, custom_status, hex_color}.
 * System statuses come from the fixtures (custom_status false) and cannot be changed; inserted
 * ones are custom. Codes are unique per tenant, compared without regard to case. Validation
 * follows the seed: insert checks 6060, 6061, 6062-6068, 6078 in that order and reports the
 * first failure; update checks 6069, the code's existence, 6071-6077, then 6078. */
#include "convoso.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "req.h"
#include "store.h"

/* The seven Y/N flags, in the order the vendor checks them, with their error codes. */
static const struct {
    const char *name;
    const char *insert_code; /* missing or not Y/N on insert */
    const char *update_code; /* present but empty or not Y/N on update */
} flags[] = {
    {"final", "6062", "6071"},     {"reached", "6063", "6072"},  {"success", "6064", "6073"},
    {"dnc", "6065", "6074"},       {"callback", "6066", "6075"}, {"contact", "6067", "6076"},
    {"voicemail", "6068", "6077"},
};

#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

static int is_flag(const char *v)
{
    return strcmp(v, "Y") == 0 || strcmp(v, "N") == 0;
}

/* A new status code: 2 to 6 letters or digits. */
static int valid_code(const char *code)
{
    size_t n = strlen(code);

    if (n < 2 || n > 6)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)code[i]))
            return 0;
    return 1;
}

/* Writes "#RRGGBB" (upper case) into out[8] from "RRGGBB" or "#RRGGBB"; 0 when malformed. */
static int normalize_color(const char *in, char out[8])
{
    const char *hex = in[0] == '#' ? in + 1 : in;

    if (strlen(hex) != 6)
        return 0;
    out[0] = '#';
    for (int i = 0; i < 6; i++) {
        if (!isxdigit((unsigned char)hex[i]))
            return 0;
        out[i + 1] = (char)toupper((unsigned char)hex[i]);
    }
    out[7] = '\0';
    return 1;
}

/* ---- finding statuses ---- */

struct lookup {
    char key[128]; /* its store key, when found */
    json_t *doc;   /* new reference, when found */
};

/* The code index's group for code: "<tenant>/<code in lower case>" (codes match in any case). */
static void code_group(const char *tenant_prefix, size_t tenant_len, const char *code, char *out,
                       size_t len)
{
    size_t n = snprintf(out, len, "%.*s", (int)tenant_len, tenant_prefix);

    for (; *code && n + 1 < len; code++)
        out[n++] = (char)tolower((unsigned char)*code);
    out[n < len ? n : len - 1] = '\0';
}

static void code_entries(const char *key, const json_t *doc, struct store_emit *e)
{
    const char *slash = strchr(key, '/'), *code = jsonx_string(doc, "status");
    char group[STORE_INDEX_PART + 1];

    if (slash == NULL || code == NULL)
        return;
    code_group(key, (size_t)(slash - key) + 1, code, group, sizeof(group));
    store_emit(e, group, "");
}

const struct store_index convoso_status_by_code = {CONVOSO_STATUSES, "code", code_entries};

/* Finds the tenant's status with code (any case). EMU_NOT_FOUND when it has none. */
static int lookup_status(struct req *req, const char *code, struct lookup *l)
{
    char prefix[80], group[STORE_INDEX_PART + 1];
    int rc;

    l->doc = NULL;
    snprintf(prefix, sizeof(prefix), "%s/", req->tenant);
    code_group(prefix, strlen(prefix), code, group, sizeof(group));
    rc = store_index_first(req->txn, CONVOSO_STATUSES, "code", group, l->key, sizeof(l->key));
    if (rc == EMU_OK)
        rc = store_get(req->txn, CONVOSO_STATUSES, l->key, &l->doc);
    return rc;
}

/* Lower case, with '_' read as a space, so NO_ANSWER finds "No Answer"; in place. */
static void fold(char *text)
{
    for (; *text; text++)
        *text = *text == '_' ? ' ' : (char)tolower((unsigned char)*text);
}

struct search {
    char *query; /* folded; "" finds everything */
    json_t *hits;
};

/* Whether text, folded, holds the folded query. */
static int holds(const char *text, const char *query)
{
    char *folded = strdup(text ? text : "");
    int hit;

    if (folded == NULL)
        return 0;
    fold(folded);
    hit = strstr(folded, query) != NULL;
    free(folded);
    return hit;
}

static int match_status(const char *key, json_t *doc, void *arg)
{
    struct search *s = arg;

    (void)key;
    if (s->query[0] && !holds(jsonx_string(doc, "status"), s->query) &&
        !holds(jsonx_string(doc, "name"), s->query))
        return 0;
    return json_array_append(s->hits, doc) == 0 ? 0 : EMU_NOMEM;
}

/* ---- the endpoints ---- */

int convoso_status_search(struct req *req, struct res *res)
{
    struct search s = {NULL, json_array()};
    char prefix[80];
    int rc = convoso_text(req, res, "query", &s.query);

    if (rc != EMU_OK) {
        json_decref(s.hits);
        return rc;
    }
    if (s.query == NULL)
        s.query = strdup("");
    if (s.hits == NULL || s.query == NULL)
        rc = EMU_NOMEM;
    if (rc == EMU_OK) {
        fold(s.query);
        snprintf(prefix, sizeof(prefix), "%s/", req->tenant);
        rc = store_scan(req->txn, CONVOSO_STATUSES, prefix, match_status, &s);
    }
    free(s.query);
    if (rc != EMU_OK) {
        json_decref(s.hits);
        return rc;
    }
    return res_json(res, 200,
                    json_pack("{s:b,s:i,s:o}", "success", 1, "code", 200, "data", s.hits));
}

/* The colour guide of the seed, for a status inserted without hex_color: success green,
 * failed red, callback (action needed) blue, anything else pending yellow. */
static const char *default_color(char *const values[NFLAGS])
{
    if (strcmp(values[2], "Y") == 0)
        return "#00AA00";
    if (strcmp(values[0], "Y") == 0)
        return "#FF0000";
    if (strcmp(values[4], "Y") == 0)
        return "#0000FF";
    return "#FFAA00";
}

/* The parameters a call may send, read once and freed together. Each is read with convoso_text, so
 * a JSON number or boolean reads as the text PHP makes of it and then meets the parameter's
 * own check (an abbreviation of 7 is "7": 6061). */
struct params {
    char *name, *code, *hex, *flags[NFLAGS];
};

static void free_params(struct params *p)
{
    free(p->name);
    free(p->code);
    free(p->hex);
    for (size_t i = 0; i < NFLAGS; i++)
        free(p->flags[i]);
}

static int read_params(struct req *req, struct res *res, struct params *p)
{
    int rc;

    memset(p, 0, sizeof(*p));
    rc = convoso_text(req, res, "name", &p->name);
    if (rc == EMU_OK)
        rc = convoso_text(req, res, "status", &p->code);
    if (rc == EMU_OK)
        rc = convoso_text(req, res, "hex_color", &p->hex);
    for (size_t i = 0; rc == EMU_OK && i < NFLAGS; i++)
        rc = convoso_text(req, res, flags[i].name, &p->flags[i]);
    return rc;
}

static int insert(struct req *req, struct res *res, struct params *p)
{
    char color[8], key[128];
    struct lookup existing;
    uint64_t seq;
    json_t *status;
    int rc;

    if (p->name == NULL || p->name[0] == '\0')
        return convoso_fail(res, "6060");
    if (p->code == NULL || !valid_code(p->code))
        return convoso_fail(res, "6061");
    for (size_t i = 0; i < NFLAGS; i++)
        if (p->flags[i] == NULL || !is_flag(p->flags[i]))
            return convoso_fail(res, flags[i].insert_code);
    if (p->hex != NULL && !normalize_color(p->hex, color))
        return convoso_fail(res, "6078");

    rc = lookup_status(req, p->code, &existing);
    json_decref(existing.doc);
    if (rc == EMU_OK)
        return convoso_fail(res, "Status code already exists");
    if (rc != EMU_NOT_FOUND)
        return rc;
    rc = store_seq_next(req->txn, CONVOSO_STATUSES, &seq);
    if (rc != EMU_OK)
        return rc;
    status =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s}", "status", p->code, "name",
                  p->name, "final", p->flags[0], "reached", p->flags[1], "success", p->flags[2],
                  "dnc", p->flags[3], "callback", p->flags[4], "contact", p->flags[5], "voicemail",
                  p->flags[6], "workflow_disposition_event_option", "none", "custom_status", 1,
                  "hex_color", p->hex ? color : default_color(p->flags));
    if (status == NULL)
        return EMU_NOMEM;
    snprintf(key, sizeof(key), "%s/i%010llu", req->tenant, (unsigned long long)seq);
    rc = store_put(req->txn, CONVOSO_STATUSES, key, status);
    json_decref(status);
    if (rc != EMU_OK)
        return rc;
    return res_json(res, 200,
                    json_pack("{s:b,s:i,s:{s:s,s:s}}", "success", 1, "code", 200, "data", "new",
                              "1", "status", p->code));
}

static int update(struct req *req, struct res *res, struct params *p)
{
    char color[8];
    struct lookup l;
    int rc;

    if (p->code == NULL || !valid_code(p->code))
        return convoso_fail(res, "6069");
    rc = lookup_status(req, p->code, &l);
    if (rc == EMU_NOT_FOUND)
        return convoso_fail(res, "Status not found");
    if (rc != EMU_OK)
        return rc;
    if (!json_is_true(json_object_get(l.doc, "custom_status")))
        rc = convoso_fail(res, "6069");
    for (size_t i = 0; rc == EMU_OK && i < NFLAGS; i++) {
        if (p->flags[i] == NULL)
            continue; /* absent: left as it was */
        if (!is_flag(p->flags[i]))
            rc = convoso_fail(res, flags[i].update_code);
        else
            json_object_set_new(l.doc, flags[i].name, json_string(p->flags[i]));
    }
    if (rc == EMU_OK && p->hex != NULL) {
        if (normalize_color(p->hex, color))
            json_object_set_new(l.doc, "hex_color", json_string(color));
        else
            rc = convoso_fail(res, "6078");
    }
    if (rc == EMU_OK && p->name != NULL && p->name[0] != '\0') /* empty: name unchanged */
        json_object_set_new(l.doc, "name", json_string(p->name));
    if (rc == EMU_OK)
        rc = store_put(req->txn, CONVOSO_STATUSES, l.key, l.doc);
    if (rc == EMU_OK)
        rc = res_json(res, 200,
                      json_pack("{s:b,s:{s:O}}", "success", 1, "data", "status",
                                json_object_get(l.doc, "status")));
    json_decref(l.doc);
    return rc;
}

int convoso_status_insert(struct req *req, struct res *res)
{
    struct params p;
    int rc = read_params(req, res, &p);

    if (rc == EMU_OK)
        rc = insert(req, res, &p);
    free_params(&p);
    return rc;
}

int convoso_status_update(struct req *req, struct res *res)
{
    struct params p;
    int rc = read_params(req, res, &p);

    if (rc == EMU_OK)
        rc = update(req, res, &p);
    free_params(&p);
    return rc;
}

/* ---- fixtures ---- */

int convoso_status_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                           const char **field, char *msg, size_t msglen)
{
    static const char *const strings[] = {"status", "name", "workflow_disposition_event_option"};
    char color[8];

    for (size_t i = 0; i < 3; i++) {
        const char *v = jsonx_string(row, strings[i]);

        if (v == NULL || *v == '\0' || strlen(v) >= 64) {
            *field = strings[i];
            snprintf(msg, msglen, "\"%s\" must be a non-empty string", strings[i]);
            return EMU_INVALID;
        }
    }
    for (size_t i = 0; i < NFLAGS; i++) {
        const char *v = jsonx_string(row, flags[i].name);

        if (v == NULL || !is_flag(v)) {
            *field = flags[i].name;
            snprintf(msg, msglen, "\"%s\" must be \"Y\" or \"N\"", flags[i].name);
            return EMU_INVALID;
        }
    }
    if (!json_is_boolean(json_object_get(row, "custom_status"))) {
        *field = "custom_status";
        snprintf(msg, msglen, "\"custom_status\" must be true or false");
        return EMU_INVALID;
    }
    if (jsonx_string(row, "hex_color") == NULL || jsonx_string(row, "hex_color")[0] != '#' ||
        !normalize_color(jsonx_string(row, "hex_color"), color)) {
        *field = "hex_color";
        snprintf(msg, msglen, "\"hex_color\" must be \"#RRGGBB\"");
        return EMU_INVALID;
    }
    snprintf(key, keylen, "f%06zu", index);
    return EMU_OK;
}
