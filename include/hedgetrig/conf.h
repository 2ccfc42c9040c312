/* SPDX-License-Identifier: MIT */
/* The config file: its sections and keys as every hedgetrig command knows them, and the one reader of it. */
#ifndef HEDGETRIG_CONF_H
#define HEDGETRIG_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HT_CONF_MAX_FILE_BYTES ((size_t)1 << 20) /* a config file's size */
#define HT_CONF_MAX_LINE 1024                    /* bytes per line, line end excluded */

/* One section of the config file and every key it may hold. */
typedef struct ht_conf_section {
    const char *name;        /* "risk" */
    const char *const *keys; /* NULL-terminated */
    const char *doc;         /* where the keys are documented: "docs/gateway.md" */
} ht_conf_section;

/* Every section some hedgetrig command reads ({NULL} last). ht_conf_read refuses, in every command, a
 * section not listed here and a key not listed under its section, so that a misspelt [Risk] or a key under
 * the wrong header stops the program instead of switching its limits off. A command that does not use a
 * listed section (kill and [hedge], say) checks its keys' names but not their values. A key added to an
 * apply function must be added here and to its doc (tests/config checks all three agree). */
extern const ht_conf_section ht_conf_sections[];

/* The listed section called name, or NULL. */
const ht_conf_section *ht_conf_section_find(const char *name);

/* The config reader every command shares (rules: docs/deployment.md, "Config file rules"). Reads the regular
 * file at path (at most HT_CONF_MAX_FILE_BYTES), checks every line against ht_conf_sections (unknown sections and
 * keys, keys outside a section, repeats, bytes that are not text are errors) and calls apply for every key of the
 * listed sections (NULL-terminated list); apply returns false with *expected describing a bad value (and sets
 * *known false for a key it does not handle, which is a bug once listed).
 * Returns 0 or -1 with err naming the file, the line and what was expected. */
typedef bool (*ht_conf_apply_fn)(void *user, const char *section, const char *key, const char *value, bool *known,
                                 const char **expected);
int ht_conf_read(const char *path, const char *const *sections, ht_conf_apply_fn apply, void *user, ht_error *err);

/* Value parsers for apply functions (numbers through hedgetrig/parse.h): an unsigned decimal integer in
 * [min, max]; a plain decimal finite number >= 0; yes/true/on/1 or no/false/off/0; a string of at most cap-1
 * bytes, non-empty unless allow_empty. False, and nothing written, when the value is not one. */
bool ht_conf_u32(const char *value, uint32_t min, uint32_t max, uint32_t *out);
bool ht_conf_nonneg(const char *value, double *out);
bool ht_conf_bool(const char *value, bool *out);
bool ht_conf_str(char *dst, size_t cap, const char *value, bool allow_empty);

#ifdef __cplusplus
}
#endif

#endif
