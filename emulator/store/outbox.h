/* outbox.h -- what the emulator would have sent: messages, OTP codes and webhook deliveries.
 *
 * Nothing understudy emulates reaches a real network; what a vendor would have sent is kept
 * here instead, in table core.outbox (keys "<tenant>/<seq:020>", seq counting across tenants
 * so the outbox reads oldest first), and tests read it back through GET /__admin/outbox.
 *
 * An entry is the vendor's own object, shown as it was recorded plus its "seq". A message that
 * carried an uploaded file (a RASL media_file or header_<kind>_file) also has "file_name" (the
 * name the client gave), "file_type" (the part's Content-Type, or null when it had none) and
 * "file_size" (bytes). */
#ifndef EMU_OUTBOX_H
#define EMU_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct store_txn;

#define OUTBOX_TABLE "core.outbox"

/* Records entry (borrowed) in list ("messages" or "webhooks") for tenant, in the caller's
 * transaction: it is kept exactly when the request that sent it is. */
int outbox_add(struct store_txn *txn, const char *tenant, const char *list, const json_t *entry);
/* Like outbox_add, and copies the entry's store key into key[128] for later updates. */
int outbox_add_keyed(struct store_txn *txn, const char *tenant, const char *list,
                     const json_t *entry, char key[128]);

/* The most entries one read answers: a bigger outbox is read a page at a time (after). */
#define OUTBOX_READ_MAX 10000

/* Which entries outbox_read answers. */
struct outbox_query {
    const char *tenant; /* NULL: every tenant */
    const char *phone;  /* NULL: every entry; else only entries to this phone */
    uint64_t after;     /* only entries with a greater seq */
    size_t limit;       /* at most this many (0 or more than OUTBOX_READ_MAX: OUTBOX_READ_MAX) */
};

/* *out is a new {"messages": [...], "webhooks": [...]}, oldest first, of the entries q names;
 * with "truncated": true added when more of them follow the last one answered. Memory is
 * bounded by the limit, not by the outbox. */
int outbox_read(struct store_txn *txn, const struct outbox_query *q, json_t **out);

/* Empties the outbox of tenant (NULL: all). */
int outbox_clear(struct store_txn *txn, const char *tenant);

#endif
