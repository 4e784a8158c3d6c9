/* embedded.h -- files compiled into the binary: the default fixture set and the scenario
 * library, generated at build time by cmake/embed.cmake. */
#ifndef EMU_EMBEDDED_H
#define EMU_EMBEDDED_H

#include <stddef.h>

/* One compiled-in file; arrays of them end with a {NULL} row. */
struct embedded_file {
    const char *name; /* "guayaba/contacts.json" */
    const char *data;
    size_t len;
};

extern const struct embedded_file embedded_fixtures[];  /* fixtures/ */
extern const struct embedded_file embedded_scenarios[]; /* scenarios/ */

#endif
