/* vendor_list.h -- every vendor understudy serves, in one list, registered by main. */
#ifndef EMU_VENDOR_LIST_H
#define EMU_VENDOR_LIST_H

struct vendor;

extern const struct vendor vendor_convoso;
extern const struct vendor vendor_rasl;
extern const struct vendor vendor_guayaba;
extern const struct vendor vendor_admin; /* the emulator's own /__admin API (admin/admin.c) */

/* Every vendor, NULL-ended: the emulated ones first, then the admin API. */
extern const struct vendor *const vendor_list[];

/* Registers vendor_list with the core (vendors_register), the admin API as its own. */
void vendor_list_register(void);

#endif
