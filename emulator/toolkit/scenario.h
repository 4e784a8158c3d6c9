/* scenario.h -- injected behaviour: named lists of rules that answer instead of a vendor.
 *
 * A scenario file is {"name", "description", "rules": [{"match", "after", "times",
 * "probability", "respond"}]} (the README describes each member). Scenarios are known from the
 * built-in library (scenarios/, compiled in), from --scenarios at start (which also activates them
 * for every tenant) and from PUT /__admin/scenarios/{name}; a request can name known ones in
 * X-Understudy-Scenario, or ask for a single catalogue error with X-Understudy-Error. The
 * dispatcher asks scenario_apply once the tenant is known and before the vendor's own logic
 * runs; the first matching rule wins. Counters ("after", "times") are kept per rule and per
 * tenant under one lock, so they stay exact whatever the concurrency, and probabilities are
 * drawn from --seed, so runs repeat. */
#ifndef EMU_SCENARIO_H
#define EMU_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct scenarios;
struct req;
struct res;

int scenarios_new(struct scenarios **out, uint64_t seed);
void scenarios_free(struct scenarios *s);

/* Checks one scenario document; on a problem writes "origin:line:col: sentence" into err
 * (text is the document's source, for positions) and returns EMU_INVALID. */
int scenario_check(const char *origin, const char *text, size_t len, const json_t *doc, char *err,
                   size_t errlen);
/* Checks a scenario file, or every *.json of a directory, as `understudy check` does. */
int scenario_check_path(const char *path, char *err, size_t errlen);
/* 1 when path looks like a scenario file rather than a fixture file (it has "rules"). */
int scenario_is_scenario_file(const char *path);

/* Loads the built-in library: known, not active. */
int scenarios_load_builtin(struct scenarios *s, char *err, size_t errlen);
/* Loads a scenario file or a directory of them, and activates them for every tenant. */
int scenarios_load_path(struct scenarios *s, const char *path, char *err, size_t errlen);

/* Makes doc (borrowed; already checked) known as name and active for tenant (NULL: all). */
int scenarios_put(struct scenarios *s, const char *name, const json_t *doc, const char *tenant);
/* Deactivates name (NULL: all) for tenant (NULL: every activation). EMU_NOT_FOUND when
 * nothing was active. */
int scenarios_deactivate(struct scenarios *s, const char *name, const char *tenant);
/* *out is a new {"scenarios": [{name, description, active_for, rules:[{…, hits}]}]} of the
 * active ones, or the one called name (known or active). EMU_NOT_FOUND for an unknown name. */
int scenarios_describe(struct scenarios *s, const char *name, json_t **out);
/* Forgets the counters of tenant (NULL: all). */
void scenarios_reset_counters(struct scenarios *s, const char *tenant);

/* Decides whether a rule answers req instead of its vendor. Returns EMU_OK to go on
 * (res->answered set when the answer is already in res) or EMU_VENDOR with res->vendor_error
 * naming the catalogue entry to render; res->inject keeps the rule's overrides for
 * scenario_finish. *delay_ms is the rule's delay (0: none): the caller waits it out before
 * answering or going on, with no transaction open, so a delayed request holds nothing another
 * request needs. Never sleeps itself. */
int scenario_apply(struct scenarios *s, struct req *req, struct res *res, int *delay_ms);
/* Applies a rule's status, headers and body overrides to a rendered answer. */
void scenario_finish(struct res *res);

#endif
