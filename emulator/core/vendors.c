/* vendors.c -- the registry of vendors the core serves, and the store tables they own. */
#include "vendors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbox.h"
#include "snapshot.h"
#include "tables.h"

static const struct vendor *const no_vendors[] = {NULL};
static const struct vendor *const *registered = no_vendors;
static const struct vendor *own_api;
static const char *store_tables[64]; /* the core's tables, then each vendor's; NULL-ended */
static const struct store_index *store_indexes[32]; /* each vendor's, NULL-ended */

/* Lists the core's tables and every registered vendor's in store_tables, and their indexes in
 * store_indexes. More tables than it
 * holds is a mistake in the vendor list, caught by the first test run: it aborts. */
static void list_store_tables(void)
{
    const size_t max = sizeof(store_tables) / sizeof(store_tables[0]) - 1;
    size_t n = 0;

    store_tables[n++] = TENANTS_TABLE;
    store_tables[n++] = CREDENTIALS_TABLE;
    store_tables[n++] = OUTBOX_TABLE;
    store_tables[n++] = SNAPSHOT_TABLE;
    for (int i = 0; registered[i] != NULL; i++)
        for (const struct table_def *t = registered[i]->tables; t && t->name; t++) {
            if (n == max) {
                fprintf(stderr, "understudy: more than %zu store tables\n", max);
                abort();
            }
            store_tables[n++] = t->name;
        }
    store_tables[n] = NULL;
    n = 0;
    for (int i = 0; registered[i] != NULL; i++)
        for (int j = 0; registered[i]->indexes && registered[i]->indexes[j]; j++) {
            if (n == sizeof(store_indexes) / sizeof(store_indexes[0]) - 1) {
                fprintf(stderr, "understudy: more than %zu store indexes\n", n);
                abort();
            }
            store_indexes[n++] = registered[i]->indexes[j];
        }
    store_indexes[n] = NULL;
}

void vendors_register(const struct vendor *const *list, const struct vendor *own)
{
    registered = list;
    own_api = own;
    list_store_tables();
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
    if (store_tables[0] == NULL)
        list_store_tables();
    return store_tables;
}

const struct store_index *const *vendors_store_indexes(void)
{
    if (store_tables[0] == NULL)
        list_store_tables();
    return store_indexes;
}
