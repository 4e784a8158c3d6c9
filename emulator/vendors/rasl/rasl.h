/* rasl.h -- private to the RASL vendor: handler prototypes, the envelope, storage and list
 * helpers shared by the resources.
 *
 * Tables (keys are "<tenant>/<id:010>", so key order is id order, the vendor's database order):
 *   rasl.contacts  ContactResource fields in the vendor's order
 *   rasl.groups    {id, name, created_at, updated_at}
 *   rasl.statuses  {id, name, color, description, created_at, updated_at}
 *   rasl.sources   {id, name, description, created_at, updated_at}
 *   rasl.account   "<tenant>/account": the account, its plan (limits, features) and usage
 *   rasl.templates TemplateResource fields in the vendor's order
 *   rasl.messages  the messages sent through the API, as GET /messages/{id} shows them, and
 *                  RASL_OPENS_CHAT on the first message of each conversation
 *
 * rasl.contacts and rasl.messages keep one index each, "by" (written with the row, store.h),
 * whose groups are, in id order unless said:
 *   "<tenant>/"                 every row: the default list order, the count, a page by offset
 *   "<tenant>/<member>/<value>" the members lists filter on by equality (contacts: type,
 *                               status_id, source_id, assigned_id and each id of group_id;
 *                               messages: type, status, direction, interaction_id)
 *   "<tenant>/phone", "<tenant>/email"  (contacts) sorted by the value lower-cased: the
 *                               uniqueness checks and lookups, which check the rows they find
 *   "<tenant>/odd"              a row some member of which the groups cannot stand for
 *                               exactly (an id past the keys' order, a long or mistyped
 *                               value): lists of that tenant then read the table
 *   "<tenant>/opener"           (messages) a message that opened a conversation
 * The smaller tables (statuses, sources, groups, templates) are read whole: they grow only by
 * hand. */
#ifndef EMU_RASL_H
#define EMU_RASL_H

#include <stddef.h>

#include <jansson.h>

#include "field.h"

struct req;
struct req_file;
struct res;
struct store_txn;

#define RASL_CONTACTS  "rasl.contacts"
#define RASL_GROUPS    "rasl.groups"
#define RASL_STATUSES  "rasl.statuses"
#define RASL_SOURCES   "rasl.sources"
#define RASL_ACCOUNT   "rasl.account"
#define RASL_TEMPLATES "rasl.templates"
#define RASL_MESSAGES  "rasl.messages"
#define RASL_LISTENERS "rasl.listeners"
#define RASL_OTP       "rasl.otp"

/* The longest text value a "field" group stands for (a longer one makes its row odd), the ids
 * the keys keep in numeric order ("%010lld"), and the integers a double holds exactly. */
#define RASL_VALUE_MAX 96
#define RASL_ID_MAX    9999999999LL
#define RASL_INT_MAX   9007199254740991LL

#define RASL_INDEX "by"
/* The message member that marks the first message of a conversation (no answer shows it). */
#define RASL_OPENS_CHAT "opens_chat"

/* ---- rasl.c: the envelope ---- */

/* A new success body {success:true, data?, message?, meta{request_id, timestamp}}. Steals data
 * (NULL: no data member); message may be NULL. */
json_t *rasl_envelope(struct req *req, json_t *data, const char *message);
/* Answers status with rasl_envelope's body. */
int rasl_reply(struct req *req, struct res *res, int status, json_t *data, const char *message);
/* Fails with the catalogue entry code (e.g. "NOT_FOUND"); message NULL uses the entry's own;
 * details (stolen, may be NULL) becomes error.details. Returns EMU_VENDOR. */
int rasl_fail(struct res *res, const char *code, const char *message, json_t *details);
/* Renders the failure rasl_fail recorded as the answer now and returns EMU_OK, so the
 * request's writes are committed with it (a counted OTP attempt). */
int rasl_answer_error(struct req *req, struct res *res);
/* Adds message to details[field] (an array), creating it. */
void rasl_field_error(json_t *details, const char *field, const char *message);
/* The request's clock as "2025-01-15T10:30:00+00:00" in buf[32]. */
void rasl_now(const struct req *req, char buf[32]);
/* The request's Host header for the URLs the vendor builds ("localhost" without one), at most
 * len - 1 bytes, with every byte that is not printable ASCII percent-encoded: answers stay
 * valid JSON whatever a client sends. */
void rasl_host(const struct req *req, char *out, size_t len);
/* A client's text (an upload's name, a path segment) as a new JSON string: as it is when it
 * is UTF-8, else with every byte outside ASCII read as '?'. NULL gives null. */
json_t *rasl_client_text(const char *s);
/* Reads path parameter {id} as a positive integer; 0 when it is not one. */
json_int_t rasl_path_id(const struct req *req);

/* The tenant's RASL settings (whatsapp_configured, default_status_id, default_source_id,
 * business_phone, webhook_url, webhook_secret): *out is a new object, empty when none. */
int rasl_settings(struct req *req, json_t **out);
/* 1 when the tenant's WhatsApp connection is configured. */
int rasl_whatsapp_configured(struct req *req);

/* ---- rasl.c: storage ---- */

/* *out is a new reference to the tenant's row id of table; EMU_NOT_FOUND when absent. */
int rasl_get(struct req *req, const char *table, json_int_t id, json_t **out);
/* Stores doc (borrowed) under its "id". */
int rasl_put(struct req *req, const char *table, const json_t *doc);
int rasl_del(struct req *req, const char *table, json_int_t id);
/* *out is the number of the tenant's rows in table (no row is parsed; O(log N) for the indexed
 * tables). */
int rasl_count(struct req *req, const char *table, long *out);
/* 1 when table keeps the "by" index. */
int rasl_indexed(const char *table);
/* The "field" group "<tenant>/<member>/<value>" into buf. */
void rasl_group(const char *tenant, const char *member, const char *value, char *buf, size_t len);
/* *out is the number of rows in group of table's "by" index. */
int rasl_group_count(struct req *req, const char *table, const char *group, long *out);
/* The first of the tenant's contacts, in id order, other than except_id, whose member (phone or
 * email, a string) equals value: exactly (exact) or ignoring ASCII case. *out (may be NULL) is a
 * new reference to it. EMU_NOT_FOUND when there is none. O(log N) and the rows checked. */
int rasl_contact_with(struct req *req, const char *member, const char *value, int exact,
                      json_int_t except_id, json_t **out);
/* The tenant's next id for table (never reused). */
int rasl_next_id(struct req *req, const char *table, json_int_t *out);
/* *out is a new array of every row of the tenant in table, in id order: for the small tables. */
int rasl_all(struct req *req, const char *table, json_t **out);

/* ---- list.c: paginated lists with the vendor's query language ---- */

struct rasl_list_spec {
    const char *table;           /* the tenant's rows of this table are listed */
    const char *const *filters;  /* fields filter[...] may name, NULL-ended */
    const char *const *sorts;    /* fields sort may name */
    const char *const *searches; /* fields search/q looks in */
    /* filters whose equality the table's "by" index serves; NULL: the table is not indexed */
    const char *const *indexed;
    int contacts_shape; /* 1: meta{request_id, timestamp, pagination} (contacts) */
    int newest_first;   /* 1: the default order is id descending */
    /* Optional: the rows the list shows at all (1 keeps row); only on small tables. */
    int (*keep)(const json_t *row);
};

/* The most sort entries one pass over a table keeps: a sort no index serves reads the table
 * once per RASL_SORT_PASS rows before the page (bounded memory, exact answers). */
#ifndef RASL_SORT_PASS
#define RASL_SORT_PASS 5000
#endif

/* Answers the vendor's paginated list of spec's table, filtered, searched and sorted as the
 * query asks. render (may be NULL) turns each row of the page into what is shown, with the
 * request's query parameters (names to values) at hand: it returns a new reference. */
int rasl_list(struct req *req, struct res *res, const struct rasl_list_spec *spec,
              json_t *(*render)(struct req *req, const json_t *query, const json_t *row));

/* ---- named_shared.c: what statuses, sources and groups share ---- */

/* What one named resource is: the files below each describe theirs. */
struct rasl_named {
    const char *table;
    const char *event_type;    /* "status", "source"; NULL: the vendor fires no events (groups) */
    const char *title;         /* "Status": the start of its messages */
    const char *lower;         /* "status" */
    int has_color;             /* 1: a "color" member, "#RRGGBB" or null */
    int has_description;       /* 1: a "description" member, text or null */
    const char *contact_field; /* the contact member that points here, or NULL (groups) */
};

int rasl_named_list(struct req *req, struct res *res, const struct rasl_named *kind);
int rasl_named_create(struct req *req, struct res *res, const struct rasl_named *kind);
int rasl_named_get(struct req *req, struct res *res, const struct rasl_named *kind);
int rasl_named_update(struct req *req, struct res *res, const struct rasl_named *kind);
int rasl_named_delete(struct req *req, struct res *res, const struct rasl_named *kind);
/* Fails with the vendor's 404 "<Title> not found." */
int rasl_named_not_found(struct res *res, const struct rasl_named *kind);
int rasl_named_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                       const char **field, char *msg, size_t msglen);

/* ---- statuses.c ---- */
int rasl_statuses_list(struct req *req, struct res *res);
int rasl_statuses_create(struct req *req, struct res *res);
int rasl_statuses_get(struct req *req, struct res *res);
int rasl_statuses_update(struct req *req, struct res *res);
int rasl_statuses_delete(struct req *req, struct res *res);

/* ---- sources.c ---- */
int rasl_sources_list(struct req *req, struct res *res);
int rasl_sources_create(struct req *req, struct res *res);
int rasl_sources_get(struct req *req, struct res *res);
int rasl_sources_update(struct req *req, struct res *res);
int rasl_sources_delete(struct req *req, struct res *res);

/* ---- groups.c ---- */
int rasl_groups_list(struct req *req, struct res *res);
int rasl_groups_create(struct req *req, struct res *res);
int rasl_groups_get(struct req *req, struct res *res);
int rasl_groups_update(struct req *req, struct res *res);
int rasl_groups_delete(struct req *req, struct res *res);
int rasl_groups_add_contacts(struct req *req, struct res *res);
int rasl_groups_remove_contacts(struct req *req, struct res *res);

/* ---- contacts.c ---- */
int rasl_contacts_list(struct req *req, struct res *res);
int rasl_contacts_create(struct req *req, struct res *res);
int rasl_contacts_get(struct req *req, struct res *res);
int rasl_contacts_update(struct req *req, struct res *res);
int rasl_contacts_delete(struct req *req, struct res *res);
int rasl_contacts_batch_create(struct req *req, struct res *res);
int rasl_contacts_batch_delete(struct req *req, struct res *res);
/* Laravel's email rule, as far as the vendor's clients meet it. */
int rasl_contacts_valid_email(const char *s);
int rasl_contact_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                         const char **field, char *msg, size_t msglen);

/* ---- templates.c ---- */
int rasl_templates_list(struct req *req, struct res *res);
int rasl_templates_get(struct req *req, struct res *res);
int rasl_templates_sync(struct req *req, struct res *res);
int rasl_templates_auth_list(struct req *req, struct res *res);
/* *out is a new reference to the tenant's APPROVED template name in language; EMU_NOT_FOUND when
 * there is none, or name or language is NULL. */
int rasl_templates_find(struct req *req, const char *name, const char *language, json_t **out);
int rasl_template_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                          const char **field, char *msg, size_t msglen);

/* ---- messages.c: Laravel's rules on request members ---- */

/* Laravel's name for a member in its default sentences: "source_id" reads "source id",
 * "buttons.1.title" stays as it is. */
void rasl_spoken(const char *member, char *out, size_t len);
/* Adds "The <field, spoken> field <tail>" to details[field]. */
void rasl_rule_error(json_t *details, const char *field, const char *tail);
/* Laravel's type rules on member of obj, reported under field (NULL: member) with Laravel's
 * sentence when the value is of the wrong type. Each returns what field.h found; *out (may be
 * NULL) gets the value when FIELD_OK, else a zero value. The integer and boolean rules read as
 * Laravel does: "12" is an integer, "1"/"0"/"true"/"false" booleans. */
/* Laravel's integer rule on a value in hand (may be NULL: absent): 12, 12.0 and "12" are 12;
 * 1.5, 9e15, true and text are not integers. */
enum field_state rasl_integer_of(const json_t *v, json_int_t *out);
enum field_state rasl_rule_string(const json_t *obj, const char *member, const char *field,
                                  json_t *details, const char **out);
enum field_state rasl_rule_integer(const json_t *obj, const char *member, const char *field,
                                   json_t *details, json_int_t *out);
enum field_state rasl_rule_boolean(const json_t *obj, const char *member, const char *field,
                                   json_t *details, int *out);
enum field_state rasl_rule_array(const json_t *obj, const char *member, const char *field,
                                 json_t *details, json_t **out);

/* ---- messages.c ---- */
/* The send path shared with otp.c. The checks record the vendor's sentences in details. */
void rasl_messages_check_phone(const json_t *body, size_t max, json_t *details);
void rasl_messages_check_text(const json_t *body, const char *member, int required, size_t max,
                              const char *missing, json_t *details);
int rasl_messages_empty_member(const json_t *body, const char *member);
/* Digits of a phone number, without '+', spaces or punctuation. */
void rasl_messages_phone_digits(const char *phone, char *out, size_t len);
/* The contact a send goes to (contact_id's, the phone's, or a new lead; where names the
 * settings page in the missing-defaults message), then opt-out (if asked), the WhatsApp
 * connection and the conversation limit, in the vendor's order. *contact is new. */
int rasl_messages_send_prepare(struct req *req, struct res *res, int check_opt_out,
                               const char *where, char digits[32], json_t **contact);
/* Records a sent message and its outbox entry (kind "otp" with code when code is not NULL;
 * file_name, file_type and file_size when file, an uploaded file, is not NULL). *row is a new
 * reference to the stored message. */
int rasl_messages_send_record(struct req *req, const json_t *contact, const char *type,
                              const char *text, const char *url, const char *template_name,
                              const char *code, const struct req_file *file, json_t **row);
/* EMU_OK when the tenant's plan has WhatsApp templates; otherwise fails the request. */
int rasl_templates_allowed(struct req *req, struct res *res);
/* body with {{n}} replaced by field_n of params; new malloc'd text. */
char *rasl_templates_fill(const char *body, const json_t *params);
int rasl_messages_text(struct req *req, struct res *res);
int rasl_messages_media(struct req *req, struct res *res);
int rasl_messages_template(struct req *req, struct res *res);
int rasl_messages_interactive(struct req *req, struct res *res);
int rasl_messages_list(struct req *req, struct res *res);
int rasl_messages_get(struct req *req, struct res *res);

/* ---- otp.c ---- */
int rasl_otp_send(struct req *req, struct res *res);
int rasl_otp_verify(struct req *req, struct res *res);
int rasl_otp_resend(struct req *req, struct res *res);
int rasl_otp_status(struct req *req, struct res *res);

/* ---- listeners.c ---- */
int rasl_listeners_receive(struct req *req, struct res *res);
int rasl_listeners_status(struct req *req, struct res *res);
int rasl_listener_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                          const char **field, char *msg, size_t msglen);

/* ---- events.c ---- */
/* Fires event ("contact.created") of a row of type ("contact", "status", "source"): when the
 * tenant has a webhook_url, records the delivery in the outbox and defers it to after the
 * commit. previous (borrowed, may be NULL) is the row before an update. */
int rasl_events_emit(struct req *req, const char *event, const char *type, const json_t *doc,
                     const json_t *previous);

/* ---- account.c ---- */
int rasl_account_get(struct req *req, struct res *res);
int rasl_account_usage(struct req *req, struct res *res);
int rasl_account_limits(struct req *req, struct res *res);
/* *out is a new reference to the tenant's account row. */
int rasl_account_row(struct req *req, json_t **out);
int rasl_account_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                         const char **field, char *msg, size_t msglen);

/* The vendor's own descriptor (rasl.c), which its kit calls name. */
extern const struct vendor vendor_rasl;

#endif
