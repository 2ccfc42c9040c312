/* SPDX-License-Identifier: MIT */
/* The config file's sections and keys, as every hedgetrig command knows them. */
#ifndef HEDGETRIG_CONF_H
#define HEDGETRIG_CONF_H

#include <stddef.h>

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

#ifdef __cplusplus
}
#endif

#endif
