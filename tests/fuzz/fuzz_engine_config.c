/* SPDX-License-Identifier: MIT */
/* Fuzz target: the engine's config file (every section: [engine] ... [market], [gateway], [risk], [exchange_sim]).
 * Any input must load or be refused with a message; a loaded config must pass or fail its check cleanly. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hedgetrig/engine_setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/fuzz_engine_config_%d.conf", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    ht_setup_config cfg;
    ht_setup_config_default(&cfg);
    ht_error err;
    err.msg[0] = '\0';
    if (ht_setup_config_load(&cfg, path, &err) != 0) {
        if (!err.msg[0])
            __builtin_trap(); /* a refusal must say why */
        return 0;
    }
    if (ht_setup_config_check(&cfg, &err) != 0 && !err.msg[0])
        __builtin_trap();
    return 0;
}
