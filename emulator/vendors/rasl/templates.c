/* templates.c -- RASL's WhatsApp templates: list, get by Meta's template_id, sync, and the
 * authentication templates the OTP calls use.
 *
 * Templates are stored as the vendor's TemplateResource and keyed by their internal id;
 * GET /templates/{id} matches the Meta template_id string, as the vendor does. A sync cannot
 * reach Meta, so it reports the templates the fixtures hold, after refusing a tenant whose
 * WhatsApp connection is not configured. */
#include "rasl.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "jsonx.h"
#include "req.h"
#include "store.h"

static const char *const template_filters[] = {"status", "category", "language", NULL};
static const char *const template_sorts[] = {"template_name", "created_at", "updated_at", NULL};
static const char *const template_searches[] = {"template_name", "category", NULL};
static const struct rasl_list_spec template_list = {
    .table = RASL_TEMPLATES,
    .filters = template_filters,
    .sorts = template_sorts,
    .searches = template_searches,
};
static const char *const auth_filters[] = {"language", "template_name", NULL};
static const char *const auth_sorts[] = {"template_name", "created_at", "language", NULL};
static const char *const auth_searches[] = {"template_name", "body_data", NULL};

/* The templates GET /auth/templates lists: approved authentication ones. */
static int auth_template(const json_t *t)
{
    return strcmp(jsonx_string(t, "category"), "AUTHENTICATION") == 0 &&
           strcmp(jsonx_string(t, "status"), "APPROVED") == 0;
}

static const struct rasl_list_spec auth_list = {
    .table = RASL_TEMPLATES,
    .filters = auth_filters,
    .sorts = auth_sorts,
    .searches = auth_searches,
    .keep = auth_template,
};

int rasl_templates_list(struct req *req, struct res *res)
{
    return rasl_list(req, res, &template_list, NULL);
}

int rasl_templates_find(struct req *req, const char *name, const char *language, json_t **out)
{
    json_t *rows, *row;
    size_t i;
    int rc = rasl_all(req, RASL_TEMPLATES, &rows);

    *out = NULL;
    if (rc != EMU_OK)
        return rc;
    json_array_foreach(rows, i, row)
    {
        if (name == NULL || language == NULL) /* a listener may name no language */
            break;
        if (strcmp(jsonx_string(row, "template_name"), name) == 0 &&
            strcmp(jsonx_string(row, "language"), language) == 0 &&
            strcmp(jsonx_string(row, "status"), "APPROVED") == 0) {
            *out = json_incref(row);
            break;
        }
    }
    json_decref(rows);
    return *out ? EMU_OK : EMU_NOT_FOUND;
}

int rasl_templates_get(struct req *req, struct res *res)
{
    const char *wanted = req_param(req, "id");
    json_t *rows, *row, *hit = NULL;
    size_t i;
    int rc = rasl_all(req, RASL_TEMPLATES, &rows);

    if (rc != EMU_OK)
        return rc;
    json_array_foreach(rows, i, row)
    {
        if (strcmp(jsonx_string(row, "template_id"), wanted) == 0) {
            hit = json_incref(row);
            break;
        }
    }
    json_decref(rows);
    if (hit == NULL)
        return rasl_fail(res, "NOT_FOUND", "Template not found.", NULL);
    return rasl_reply(req, res, 200, hit, NULL);
}

int rasl_templates_sync(struct req *req, struct res *res)
{
    json_t *rows;
    int rc;

    if (!rasl_whatsapp_configured(req))
        return rasl_fail(res, "WHATSAPP_NOT_CONFIGURED",
                         "WhatsApp Business API is not configured for this account", NULL);
    rc = rasl_all(req, RASL_TEMPLATES, &rows);
    if (rc != EMU_OK)
        return rc;
    return rasl_reply(
        req, res, 200,
        json_pack("{s:i,s:o}", "synced_count", (int)json_array_size(rows), "templates", rows),
        "Templates synchronized successfully from WhatsApp");
}

/* An authentication template as GET /auth/templates lists it. */
static json_t *auth_item(struct req *req, const json_t *query, const json_t *t)
{
    (void)req;
    (void)query;
    return json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O}", "id", json_object_get(t, "id"),
                     "template_name", json_object_get(t, "template_name"), "language",
                     json_object_get(t, "language"), "body_text", json_object_get(t, "body_data"),
                     "body_params_count", json_object_get(t, "body_params_count"), "header_format",
                     json_object_get(t, "header_data_format"), "header_text",
                     json_object_get(t, "header_data_text"), "footer_text",
                     json_object_get(t, "footer_data"), "status", json_object_get(t, "status"),
                     "created_at", json_object_get(t, "created_at"));
}

int rasl_templates_auth_list(struct req *req, struct res *res)
{
    return rasl_list(req, res, &auth_list, auth_item);
}

int rasl_template_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                          const char **field, char *msg, size_t msglen)
{
    static const char *const strings[] = {"template_id", "template_name", "name",     "language",
                                          "category",    "status",        "body_data"};
    static const char *const counts[] = {"header_params_count", "body_params_count",
                                         "footer_params_count"};
    int64_t at;

    (void)index; /* keys come from the row's id */
    if (!json_is_integer(json_object_get(row, "id"))) {
        *field = "id";
        snprintf(msg, msglen, "\"id\" must be a whole number");
        return EMU_INVALID;
    }
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        if (jsonx_string(row, strings[i]) == NULL) {
            *field = strings[i];
            snprintf(msg, msglen, "\"%s\" must be a string", strings[i]);
            return EMU_INVALID;
        }
    }
    for (size_t i = 0; i < 3; i++) {
        if (!json_is_integer(json_object_get(row, counts[i]))) {
            *field = counts[i];
            snprintf(msg, msglen, "\"%s\" must be a whole number", counts[i]);
            return EMU_INVALID;
        }
    }
    if (clock_parse_rfc3339(jsonx_string(row, "created_at"), &at) != EMU_OK) {
        *field = "created_at";
        snprintf(msg, msglen, "\"created_at\" must be an RFC 3339 instant");
        return EMU_INVALID;
    }
    snprintf(key, keylen, "%010lld", (long long)json_integer_value(json_object_get(row, "id")));
    return EMU_OK;
}
