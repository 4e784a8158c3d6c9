/* vendors.c -- every emulated vendor, in one list. Adding a vendor: a directory under
 * vendors/, one line here, its fixtures and its test cases. */
#include "vendors.h"

#include <string.h>

const struct vendor *const vendors[] = {
    &vendor_convoso,
    &vendor_rasl,
    &vendor_guayaba,
    &vendor_admin, /* the emulator's own /__admin API */
    NULL,
};

const struct vendor *vendor_find(const char *name)
{
    for (int i = 0; vendors[i] != NULL; i++)
        if (strcmp(vendors[i]->name, name) == 0)
            return vendors[i];
    return NULL;
}
