/* vendor_kit.h -- what every vendor's scaffolding shares: the error-catalogue type, the credential
 * lookup, the rate-limit answer, tenant settings, the "store is full" sentence and id sequences.
 *
 * A vendor builds its authentication and error bodies from these, so the three vendors (and a
 * fourth) differ only in what really differs on the wire. */
#ifndef EMU_VENDOR_KIT_H
#define EMU_VENDOR_KIT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct req;
struct res;
struct store_txn;
struct vendor;

#endif
