/* guayaba.h -- private to the Guayaba vendor: handler prototypes and shared helpers.
 *
 * Tables (keys start with "<tenant>/"):
 *   guayaba.statuses   "<displayOrder:06>.<name>" -> the status object, in the vendor's key order
 *   guayaba.campaigns  "<id>" -> {id, name, status, appointmentScheduling, createdAt}
 *   guayaba.splitters  "<id>" -> {id, name, adminId, campaignIds[], next}
 *   guayaba.contacts   "<id>" -> the stored contact (see contacts.c)
 *   guayaba.phones     "<phoneNumber>" -> {"id"}: derived index, rebuilt after seeding */
#ifndef EMU_GUAYABA_H
#define EMU_GUAYABA_H

#include <stddef.h>

#include <jansson.h>

struct req;
struct res;
struct store_txn;

#define GUA_STATUSES  "guayaba.statuses"
#define GUA_CAMPAIGNS "guayaba.campaigns"
#define GUA_SPLITTERS "guayaba.splitters"
#define GUA_CONTACTS  "guayaba.contacts"
#define GUA_PHONES    "guayaba.phones"

/* statuses.c */
int gua_statuses_list(struct req *req, struct res *res);
/* 1 when the tenant has a status called name (case-sensitive, as the vendor's filters are). */
int gua_status_known(struct req *req, const char *name);
/* Writes the tenant's status names, comma-separated, into buf (for error messages). */
void gua_status_names(struct req *req, char *buf, size_t len);
int gua_status_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                       const char **field, char *msg, size_t msglen);

/* contacts.c */
int gua_contacts_list(struct req *req, struct res *res);
int gua_contacts_create(struct req *req, struct res *res);
int gua_contacts_update_by_phone(struct req *req, struct res *res);
int gua_contacts_update_by_id(struct req *req, struct res *res);
int gua_contacts_fulfill(struct req *req, struct res *res);
int gua_contact_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                        const char **field, char *msg, size_t msglen);
int gua_contacts_index(struct store_txn *txn, const char *tenant);

/* campaigns.c */
int gua_campaigns_list(struct req *req, struct res *res);
/* *out is a new reference to the tenant's campaign with that id; EMU_NOT_FOUND when it has
 * none. */
int gua_campaign_get(struct req *req, const char *id, json_t **out);
/* Picks the next campaign of splitter id (round robin, saved in the splitter row, so it needs
 * a write transaction). Copies the campaign id into out and the splitter's adminId into admin.
 * EMU_NOT_FOUND when the tenant has no such splitter. */
int gua_splitter_pick(struct req *req, const char *id, char out[37], char admin[37]);
int gua_campaign_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                         const char **field, char *msg, size_t msglen);
int gua_splitter_row_key(const json_t *row, size_t index, char *key, size_t keylen,
                         const char **field, char *msg, size_t msglen);

/* guayaba.c: request helpers shared by the resources */
/* Reads ?page= and ?limit= (defaults 1 and default_limit; limit at most 100). */
int gua_paging(struct req *req, struct res *res, int default_limit, int *page, int *limit);
/* 1 when s is an E.164 number: '+', then 8 to 15 digits, the first not 0. */
int gua_is_e164(const char *s);
/* 1 when tz looks like an IANA zone name ("America/New_York", "UTC"). */
int gua_timezone_valid(const char *tz);
/* The zone a phone number's country and area code suggest (static string). */
const char *gua_timezone_for_phone(const char *e164);
/* The request's clock as "2026-01-15T10:30:00.000Z" in buf[32]. */
void gua_now(const struct req *req, char buf[32]);

#endif
