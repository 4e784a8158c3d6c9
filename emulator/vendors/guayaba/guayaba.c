/* guayaba.c -- Guayaba AI's contact API: routes, X-API-Key authentication, per-key rate
 * limits, and the vendor's error body {"error","message"}.
 *
 * The API lives at the root of the host (/contacts..., /campaigns), so Guayaba owns every path
 * no other vendor claims, and answers unknown ones with its own 404. Resources live in the
 * sibling files. */
#include "guayaba.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "err.h"
#include "field.h"
#include "jsonx.h"
#include "ratelimit.h"
#include "req.h"
#include "router.h"
#include "vendors.h"

#define READS_PER_MINUTE  100
#define WRITES_PER_MINUTE 30
/* A tenant's own limits stay within an int; a key is at most what authentication reads. */
#define LIMIT_MAX         1000000000
#define API_KEY_MAX_BYTES 400

/* The vendor's error catalogue: what each documented failure looks like on the wire; the name is
 * also the body's "error". */
/* clang-format off */
static const struct vendor_error guayaba_errors[] = {
    /* name                    http  code  default message                                          renders */
    {"Bad Request",            400, NULL, "The request is invalid",
     VENDOR_ANSWERS(EMU_BAD_REQUEST) | VENDOR_ANSWERS(EMU_BAD_JSON) |
     VENDOR_ANSWERS(EMU_UNPROCESSABLE) | VENDOR_ANSWERS(EMU_CONFLICT)},
    {"Unauthorized",           401, NULL, "Invalid or missing API key",
     VENDOR_ANSWERS(EMU_UNAUTHORIZED) | VENDOR_ANSWERS(EMU_FORBIDDEN)},
    {"Not Found",              404, NULL, "The requested resource was not found",
     VENDOR_ANSWERS(EMU_NOT_FOUND) | VENDOR_ANSWERS(EMU_NO_ROUTE) | VENDOR_ANSWERS(EMU_NO_METHOD)},
    {"Payload Too Large",      413, NULL, "The request body is too large",
     VENDOR_ANSWERS(EMU_TOO_LARGE)},
    {"Too many requests",      429, NULL, "Rate limit exceeded. Try again in %d seconds.",
     VENDOR_ANSWERS(EMU_RATE_LIMITED)},
    {"Internal Server Error",  500, NULL, "An unexpected error occurred", VENDOR_OTHERWISE},
    {"Service Unavailable",    503, NULL, "The service is temporarily unavailable. Retry after a short wait.",
     VENDOR_ANSWERS(EMU_UNAVAILABLE) | VENDOR_ANSWERS(EMU_STORE_FULL)},
    {0},
};
/* clang-format on */

static void utf8_repair(char *text);

static int guayaba_has_error(const char *name)
{
    return vendor_error_find(guayaba_errors, name) != NULL;
}

static void guayaba_reply_error(struct req *req, struct res *res, int err)
{
    const struct vendor_error *e = vendor_error_for(guayaba_errors, err, res);
    const char *name = e->name;
    char message[600];
    json_t *body;

    /* A status the transport already chose (411, 431, 505 for a request it could not take)
     * is named by its own reason phrase, as Node names it. */
    if (res->status >= 400 && res->status != e->http)
        name = emu_reason_phrase(res->status);
    if (err == EMU_NO_ROUTE || err == EMU_NO_METHOD)
        snprintf(message, sizeof(message), "Cannot %s %s", req->method, req->path);
    else if (err == EMU_BAD_JSON)
        snprintf(message, sizeof(message), "Invalid JSON in request body: %s", res->detail);
    else if (err == EMU_STORE_FULL)
        vendor_store_full(message, sizeof(message), "", "");
    else if (e->http == 429)
        snprintf(message, sizeof(message), e->message, res->retry_after);
    else
        snprintf(message, sizeof(message), "%s", res->detail[0] ? res->detail : e->message);
    utf8_repair(message);
    if (e->http == 429)
        body = json_pack("{s:s,s:s,s:i}", "error", name, "message", message, "retryAfter",
                         res->retry_after);
    else
        body = json_pack("{s:s,s:s}", "error", name, "message", message);
    res_json(res, e->http, body);
}

/* X-API-Key names a credential of some tenant; unless it is unlimited, GETs count against
 * 100 reads and everything else against 30 writes per minute, on the emulator clock. */
static int guayaba_authenticate(struct req *req, struct res *res)
{
    const char *key = req_header(req, "X-API-Key");
    json_t *per;
    int is_read = strcmp(req->method, "GET") == 0;
    int limit, rc;

    if (key == NULL || *key == '\0' || strlen(key) > API_KEY_MAX_BYTES)
        return EMU_UNAUTHORIZED;
    rc = vendor_credential_find(req, &vendor_guayaba, key);
    if (rc != EMU_OK)
        return rc;
    vendor_tenant_take(req);
    if (json_is_true(json_object_get(req->credential, "unlimited")))
        return EMU_OK;

    per = json_object_get(req->credential, is_read ? "reads_per_minute" : "writes_per_minute");
    limit = json_is_integer(per) ? (int)json_integer_value(per)
                                 : (is_read ? READS_PER_MINUTE : WRITES_PER_MINUTE);
    return vendor_rate_limit(req, res, &vendor_guayaba, is_read ? "read" : "write", 60000, limit,
                             RATELIMIT_HEADERS);
}

static int guayaba_check_credential(const json_t *cred, const char **field, char *msg,
                                    size_t msglen)
{
    const char *key = jsonx_string(cred, "api_key");
    const char *limits[] = {"reads_per_minute", "writes_per_minute"};
    json_t *unlimited = json_object_get(cred, "unlimited");

    if (key == NULL || *key == '\0' || strlen(key) > API_KEY_MAX_BYTES) {
        *field = "api_key";
        snprintf(msg, msglen, "\"api_key\" must be a non-empty string of at most %d bytes",
                 API_KEY_MAX_BYTES);
        return EMU_INVALID;
    }
    if (unlimited != NULL && !json_is_boolean(unlimited)) {
        *field = "unlimited";
        snprintf(msg, msglen, "\"unlimited\" must be true or false");
        return EMU_INVALID;
    }
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(cred, limits[i]);

        if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 1 ||
                          json_integer_value(v) > LIMIT_MAX)) {
            *field = limits[i];
            snprintf(msg, msglen, "\"%s\" must be a whole number from 1 to %d", limits[i],
                     LIMIT_MAX);
            return EMU_INVALID;
        }
    }
    return EMU_OK;
}

/* ---- text: UTF-8 and the query string ---- */

/* The length of the well-formed UTF-8 character at s (at most avail bytes): 1 to 4, or 0 when
 * the bytes there are not one (a stray continuation byte, a cut sequence, an overlong form, a
 * surrogate or a code point past U+10FFFF). */
static size_t utf8_char(const unsigned char *s, size_t avail)
{
    size_t n;
    unsigned int cp;

    if (avail == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        n = 2, cp = s[0] & 0x1Fu;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        n = 3, cp = s[0] & 0x0Fu;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        n = 4, cp = s[0] & 0x07u;
    else
        return 0;
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return n;
}

/* Rewrites text in place so that it is well-formed UTF-8: each byte that starts no character
 * becomes '?'. An error message can quote a client's bytes, or be cut by a fixed buffer in
 * the middle of a character; either way the JSON body must still be built. */
static void utf8_repair(char *text)
{
    size_t len = strlen(text);

    for (size_t i = 0; i < len;) {
        size_t n = utf8_char((const unsigned char *)text + i, len - i);

        if (n == 0) {
            text[i] = '?';
            n = 1;
        }
        i += n;
    }
}

const char *guayaba_clip(const char *text, char buf[GUAYABA_CLIP_SIZE])
{
    size_t len = strlen(text), keep = GUAYABA_CLIP_SIZE - 4; /* room for "..." and the NUL */

    if (len < GUAYABA_CLIP_SIZE) {
        memcpy(buf, text, len + 1);
        return buf;
    }
    while (keep > 0 && ((unsigned char)text[keep] & 0xC0) == 0x80)
        keep--; /* never cut a character in two */
    memcpy(buf, text, keep);
    memcpy(buf + keep, "...", 4);
    return buf;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes one name or value of a query string as Express's query parser does: '+' is a space,
 * and %XX escapes are decoded, unless the result is malformed (a bad escape, or bytes that are
 * not UTF-8): then the text is kept as written (decodeURIComponent fails, and the parser keeps
 * its input). Bytes the client sent unescaped that are not UTF-8 become U+FFFD, as Node reads
 * them. Returns new malloc'd text (caller frees), or NULL when out of memory; *nul is set when
 * an escape decoded to a NUL byte, which no C string can carry. */
static char *query_decode(const char *src, size_t len, int *nul)
{
    char *out = malloc(len * 3 + 1), *text = malloc(len + 1);
    size_t n = 0, o = 0;
    int decoded = 1;

    *nul = 0;
    if (out == NULL || text == NULL) {
        free(out);
        free(text);
        return NULL;
    }
    for (size_t i = 0; decoded && i < len; i++) {
        int hi = src[i] == '%' && i + 2 < len ? hex_digit(src[i + 1]) : -1;
        int lo = hi >= 0 ? hex_digit(src[i + 2]) : -1;

        if (src[i] != '%') {
            text[n++] = src[i] == '+' ? ' ' : src[i];
        } else if (lo < 0) {
            decoded = 0;
        } else {
            text[n++] = (char)(hi * 16 + lo);
            i += 2;
        }
    }
    for (size_t i = 0, c; decoded && i < n; i += c)
        if ((c = utf8_char((const unsigned char *)text + i, n - i)) == 0)
            decoded = 0;
    if (decoded && memchr(text, '\0', n) != NULL)
        *nul = 1;
    if (!decoded) /* the text as written, with '+' read as a space */
        for (n = 0; n < len; n++)
            text[n] = src[n] == '+' ? ' ' : src[n];
    for (size_t i = 0, c; i < n; i += c) {
        c = utf8_char((const unsigned char *)text + i, n - i);
        if (c == 0) { /* only where the client sent raw bytes that are not UTF-8 */
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            c = 1;
        } else {
            memcpy(out + o, text + i, c);
            o += c;
        }
    }
    out[o] = '\0';
    free(text);
    return out;
}

/* Adds name=value to the query object as Express's parser does: the first plain occurrence is
 * a string; a repeated name, "name[]" or "name[0]" makes an array; "name[key]" an object. Takes
 * the decoded name (modified in place). */
static int query_add(json_t *all, char *name, const char *value)
{
    char *open = strchr(name, '[');
    size_t len = strlen(name);
    int bracket = open != NULL && open != name && name[len - 1] == ']';
    json_t *v = json_string(value), *cur, *list;
    const char *key = NULL;

    if (v == NULL)
        return EMU_NOMEM;
    if (bracket) {
        name[len - 1] = '\0';
        *open = '\0';
        key = open + 1;
        if (key[strspn(key, "0123456789")] == '\0') /* "[]" and "[3]": an array item */
            key = NULL;
    }
    cur = json_object_get(all, name);
    if (cur == NULL && !bracket)
        return json_object_set_new(all, name, v) == 0 ? EMU_OK : EMU_NOMEM;
    if (cur == NULL && key != NULL) {
        cur = json_object();
        if (cur == NULL || json_object_set_new(all, name, cur) != 0) {
            json_decref(v);
            return EMU_NOMEM;
        }
    }
    if (json_is_object(cur))
        return json_object_set_new(cur, key ? key : "", v) == 0 ? EMU_OK : EMU_NOMEM;
    if (json_is_array(cur))
        return json_array_append_new(cur, v) == 0 ? EMU_OK : EMU_NOMEM;
    list = cur != NULL ? json_pack("[O]", cur) : json_array(); /* a string: now one of many */
    if (list == NULL || json_array_append_new(list, v) != 0 ||
        json_object_set_new(all, name, list) != 0)
        return EMU_NOMEM;
    return EMU_OK;
}

int guayaba_query(struct req *req, struct res *res, json_t **out)
{
    const char *p = req->query ? req->query : "";
    json_t *all = json_object();
    int rc = all ? EMU_OK : EMU_NOMEM;

    while (rc == EMU_OK && *p != '\0') {
        size_t len = strcspn(p, "&"), name_len;
        const char *eq = memchr(p, '=', len);
        char *name, *value, clip[GUAYABA_CLIP_SIZE];
        int nul_name, nul_value;

        name_len = eq ? (size_t)(eq - p) : len;
        name = query_decode(p, name_len, &nul_name);
        value = eq ? query_decode(eq + 1, len - name_len - 1, &nul_value) : strdup("");
        if (!eq)
            nul_value = 0;
        if (name == NULL || value == NULL)
            rc = EMU_NOMEM;
        else if (nul_name || nul_value)
            rc = res_fail(res, EMU_BAD_REQUEST, "%s must not contain NUL characters",
                          nul_name ? "A query parameter name" : guayaba_clip(name, clip));
        else if (name[0] != '\0') /* "&&" and "=x" name nothing */
            rc = query_add(all, name, value);
        free(name);
        free(value);
        p += len + (p[len] == '&');
    }
    if (rc != EMU_OK) {
        json_decref(all);
        all = NULL;
    }
    *out = all;
    return rc;
}

int guayaba_query_string(struct res *res, const json_t *query, const char *name, const char **out)
{
    enum field_state s = field_string(query, name, out);

    if (s == FIELD_OK)
        return EMU_OK;
    *out = NULL;
    return s == FIELD_ABSENT ? EMU_OK : res_fail(res, EMU_BAD_REQUEST, "%s must be a string", name);
}

/* The largest page: any whole number up to 2^53 (what field_integer reads), so the first item
 * of a page, (page - 1) * 100, never overflows 64 bits. */
int guayaba_paging(struct res *res, const json_t *query, int default_limit, json_int_t *page,
                   int *limit)
{
    json_int_t n;
    enum field_state s;

    *page = 1;
    *limit = default_limit;
    s = field_integer(query, "page", FIELD_LENIENT, &n);
    if (s == FIELD_OK && n >= 1)
        *page = n;
    else if (s != FIELD_ABSENT)
        return res_fail(res, EMU_BAD_REQUEST, "page must be a positive integer");
    s = field_integer(query, "limit", FIELD_LENIENT, &n);
    if (s == FIELD_OK && n >= 1 && n <= 100)
        *limit = (int)n;
    else if (s != FIELD_ABSENT)
        return res_fail(res, EMU_BAD_REQUEST, "limit must be an integer between 1 and 100");
    return EMU_OK;
}

int guayaba_is_e164(const char *s)
{
    size_t n;

    if (s == NULL || s[0] != '+' || s[1] < '1' || s[1] > '9')
        return 0;
    n = strlen(s + 1);
    if (n < 8 || n > 15)
        return 0;
    for (size_t i = 1; i <= n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

int guayaba_timezone_valid(const char *tz)
{
    static const char *const areas[] = {"Africa", "America",  "Antarctica", "Arctic",
                                        "Asia",   "Atlantic", "Australia",  "Europe",
                                        "Indian", "Pacific",  "Etc",        NULL};
    const char *slash;

    if (tz == NULL)
        return 0;
    if (strcmp(tz, "UTC") == 0 || strcmp(tz, "GMT") == 0)
        return 1;
    slash = strchr(tz, '/');
    if (slash == NULL || slash[1] == '\0' || strlen(tz) > 64)
        return 0;
    for (int i = 0; areas[i] != NULL; i++) {
        if (strlen(areas[i]) == (size_t)(slash - tz) &&
            strncmp(tz, areas[i], (size_t)(slash - tz)) == 0) {
            for (const char *p = slash + 1; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("_-+/", *p))
                    return 0;
            return slash[1] != '/' && tz[strlen(tz) - 1] != '/';
        }
    }
    return 0;
}

void guayaba_now(const struct req *req, char buf[32])
{
    clock_format_iso_ms(req->now_ms, buf, 32);
}

static json_t *guayaba_default_credentials(const char *tenant)
{
    char key[128];

    snprintf(key, sizeof(key), "gua_%s_key", tenant);
    return json_pack("[{s:s,s:b}]", "api_key", key, "unlimited", 0);
}

static const char *const guayaba_prefixes[] = {"", NULL};

/* clang-format off */
static const struct route guayaba_routes[] = {
    /* method  path                  handler                        flags */
    {"GET",  "/contacts/statuses", guayaba_statuses_list,            ROUTE_AUTH},
    {"GET",  "/contacts",          guayaba_contacts_list,            ROUTE_AUTH},
    {"POST", "/contacts",          guayaba_contacts_create,          ROUTE_AUTH | ROUTE_JSON | ROUTE_WRITE},
    {"POST", "/contacts/update",   guayaba_contacts_update_by_phone, ROUTE_AUTH | ROUTE_JSON | ROUTE_WRITE},
    {"POST", "/contacts/fulfill",  guayaba_contacts_fulfill,         ROUTE_AUTH | ROUTE_JSON | ROUTE_WRITE},
    {"PUT",  "/contacts/{id}",     guayaba_contacts_update_by_id,    ROUTE_AUTH | ROUTE_JSON | ROUTE_WRITE},
    {"GET",  "/campaigns",         guayaba_campaigns_list,           ROUTE_AUTH},
    {0},
};

static const struct table_def guayaba_tables[] = {
    /* store table     fixture file       row key */
    {GUAYABA_STATUSES,  "statuses.json",  guayaba_status_row_key},
    {GUAYABA_CAMPAIGNS, "campaigns.json", guayaba_campaign_row_key},
    {GUAYABA_SPLITTERS, "splitters.json", guayaba_splitter_row_key},
    {GUAYABA_CONTACTS,  "contacts.json",  guayaba_contact_row_key},
    {GUAYABA_PHONES,    NULL,             NULL},
    {0},
};
/* clang-format on */

const struct vendor vendor_guayaba = {
    .name = "guayaba",
    .prefixes = guayaba_prefixes,
    .routes = guayaba_routes,
    .tables = guayaba_tables,
    .credential_field = "api_key",
    .check_credential = guayaba_check_credential,
    .default_credentials = guayaba_default_credentials,
    .has_error = guayaba_has_error,
    .authenticate = guayaba_authenticate,
    .reply_error = guayaba_reply_error,
    .body = VENDOR_BODY_EXPRESS,
    .after_seed = guayaba_contacts_index,
};
