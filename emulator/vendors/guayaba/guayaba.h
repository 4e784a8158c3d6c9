/* guayaba.h -- private to the Guayaba vendor: handler prototypes and shared helpers.
 *
 * Tables (keys start with "<tenant>/"):
 *   guayaba.statuses   "<displayOrder:06>.<name>" -> the status object, in the vendor's key order
 *   guayaba.campaigns  "<id>" -> {id, name, status, appointmentScheduling, createdAt}
 *   guayaba.splitters  "<id>" -> {id, name, adminId, campaignIds[], next}
 *   guayaba.contacts   "<id>" -> the stored contact (see contacts.c), with the store indexes
 *                      "list" and "phone" (see contacts_list.c)
 *   guayaba.phones     no longer written (the phone index replaced it); still opened, so that a
 *                      data directory or snapshot that holds it opens and restores */
#ifndef EMU_GUAYABA_H
#define EMU_GUAYABA_H

#include <stddef.h>

#include <jansson.h>

struct req;
struct res;
struct store_index;
struct store_txn;

#define GUAYABA_STATUSES  "guayaba.statuses"
#define GUAYABA_CAMPAIGNS "guayaba.campaigns"
#define GUAYABA_SPLITTERS "guayaba.splitters"
#define GUAYABA_CONTACTS  "guayaba.contacts"
#define GUAYABA_PHONES    "guayaba.phones"

/* The indexes of guayaba.contacts (contacts_list.c describes their groups). */
#define GUAYABA_LIST_INDEX  "list"
#define GUAYABA_PHONE_INDEX "phone"

/* statuses.c */
int guayaba_statuses_list(struct req *req, struct res *res);
/* EMU_OK when the tenant has a status called name (case-sensitive, as the vendor's filters
 * are); otherwise the 400 that lists the statuses it has. */
int guayaba_statuses_known_or_fail(struct req *req, struct res *res, const char *name);
int guayaba_status_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                           const char **field, char *msg, size_t msglen);

/* contacts.c */
int guayaba_contacts_create(struct req *req, struct res *res);
int guayaba_contacts_update_by_phone(struct req *req, struct res *res);
int guayaba_contacts_update_by_id(struct req *req, struct res *res);
int guayaba_contacts_fulfill(struct req *req, struct res *res);
int guayaba_contact_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                            const char **field, char *msg, size_t msglen);
/* 1 when a stored contact was deleted (deletedAt set): no call but POST /contacts sees it. */
int guayaba_contact_deleted(const json_t *contact);

/* contacts_list.c */
int guayaba_contacts_list(struct req *req, struct res *res);
/* The store indexes of guayaba.contacts, NULL-ended. */
extern const struct store_index *const guayaba_indexes[];

/* campaigns.c */
int guayaba_campaigns_list(struct req *req, struct res *res);
/* *out is a new reference to the tenant's campaign with that id; EMU_NOT_FOUND when it has
 * none. */
int guayaba_campaigns_find(struct req *req, const char *id, json_t **out);
/* Picks the next campaign of splitter id (round robin, saved in the splitter row, so it needs
 * a write transaction). Copies the campaign id into out and the splitter's adminId into admin.
 * EMU_NOT_FOUND when the tenant has no such splitter. */
int guayaba_splitters_pick(struct req *req, const char *id, char out[37], char admin[37]);
int guayaba_campaign_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                             const char **field, char *msg, size_t msglen);
int guayaba_splitter_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                             const char **field, char *msg, size_t msglen);

/* query.c: how the vendor reads a request */
/* Reads the whole query string as Express does: *out is a new object mapping each name to its
 * decoded value, a string; a name given twice, or with brackets ("status[]", "status[a]"),
 * maps to an array or an object, so it fails any check for a string instead of being read as
 * one of its values. A value with an encoded NUL is a 400 (recorded in res). */
int guayaba_query(struct req *req, struct res *res, json_t **out);
/* A query string parameter that must be a string: *out is borrowed from query, NULL when the
 * parameter is absent. Anything else is the 400 "<name> must be a string". */
int guayaba_query_string(struct res *res, const json_t *query, const char *name, const char **out);
/* Reads page and limit from query (defaults 1 and default_limit; limit at most 100; page any
 * whole number from 1 to 2^53). */
int guayaba_paging(struct res *res, const json_t *query, int default_limit, json_int_t *page,
                   int *limit);
/* Copies text into buf (GUAYABA_CLIP_SIZE bytes) for a message that quotes a client's value: a
 * value longer than fits is cut at a character boundary and ends in "...", so the message
 * around it stays whole. Returns buf. */
#define GUAYABA_CLIP_SIZE 72
const char *guayaba_clip(const char *text, char buf[GUAYABA_CLIP_SIZE]);

/* timezones.c */
/* 1 when s is an E.164 number: '+', then 8 to 15 digits, the first not 0. */
int guayaba_phone_is_e164(const char *s);
/* 1 when tz looks like an IANA zone name ("America/New_York", "UTC"). */
int guayaba_timezone_valid(const char *tz);
/* The zone a phone number's country and area code suggest (static string). */
const char *guayaba_timezone_for_phone(const char *e164);

/* guayaba.c */
/* The request's clock as "2026-01-15T10:30:00.000Z" in buf[32]. */
void guayaba_now(const struct req *req, char buf[32]);

/* The vendor's own descriptor (guayaba.c), which its kit calls name. */
extern const struct vendor vendor_guayaba;

#endif
