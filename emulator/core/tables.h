/* tables.h -- the names of the core's own store tables.
 *
 * TENANTS_TABLE holds a row per tenant ({"id", "settings", and for a copy "from" and
 * "credentials"}); CREDENTIALS_TABLE maps "<vendor>/<secret>" to the credential row and its
 * "tenant". The store layer names the tables it owns itself: META_TABLE (store.h),
 * OUTBOX_TABLE (outbox.h), SNAPSHOT_TABLE (snapshot.h); each vendor names its own tables in
 * its private header. */
#ifndef EMU_TABLES_H
#define EMU_TABLES_H

#define TENANTS_TABLE     "core.tenants"
#define CREDENTIALS_TABLE "core.credentials"

#endif
