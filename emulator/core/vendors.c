/* vendors.c -- the registry of vendors the core serves, and the store tables they own. */
#include "vendors.h"

#include <string.h>

#include "outbox.h"
#include "snapshot.h"
#include "tables.h"

static const struct vendor *const no_vendors[] = {NULL};
static const struct vendor *const *registered = no_vendors;
static const struct vendor *own_api;

void vendors_register(const struct vendor *const *list, const struct vendor *own)
{
    registered = list;
    own_api = own;
}

const struct vendor *const *vendors_all(void)
{
    return registered;
}

const struct vendor *vendors_own_api(void)
{
    return own_api;
}

const struct vendor *vendor_find(const char *name)
{
    for (int i = 0; registered[i] != NULL; i++)
        if (strcmp(registered[i]->name, name) == 0)
            return registered[i];
    return NULL;
}

const char *const *vendors_store_tables(void)
{
    static const char *tables[64];

    if (tables[0] == NULL) {
        int n = 0;

        tables[n++] = TENANTS_TABLE;
        tables[n++] = CREDENTIALS_TABLE;
        tables[n++] = OUTBOX_TABLE;
        tables[n++] = SNAPSHOT_TABLE;
        for (int i = 0; registered[i] != NULL; i++)
            for (const struct table_def *t = registered[i]->tables; t && t->name && n < 63; t++)
                tables[n++] = t->name;
        tables[n] = NULL;
    }
    return tables;
}
