/* vendor_list.c -- every vendor understudy serves, in one list. Adding a vendor: a directory
 * under vendors/, one line here (and its extern in vendor_list.h), its fixtures and its test
 * cases; nothing in the core. */
#include "vendor_list.h"

#include <stddef.h>

#include "vendors.h"

const struct vendor *const vendor_list[] = {
    &vendor_convoso,
    &vendor_rasl,
    &vendor_guayaba,
    &vendor_admin, /* the emulator's own /__admin API */
    NULL,
};

void vendor_list_register(void)
{
    vendors_register(vendor_list, &vendor_admin);
}
