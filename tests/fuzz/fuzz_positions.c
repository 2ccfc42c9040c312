/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the book file parser (hostsw/greeks/positions.c) on arbitrary bytes. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hedgetrig/positions.h"

/* A registry that knows every name starting with "BTC-" (id: a hash of the name) and refuses "BTC-X*" with a
 * reason, so that unknown, refused, duplicate and accepted lines are all reachable. */
static int lookup(void *ctx, const char *name, size_t len, ht_instrument_spec *out, ht_error *why)
{
    (void)ctx;
    if (len < 4 || memcmp(name, "BTC-", 4) != 0)
        return -1;
    if (len > 4 && name[4] == 'X')
        return ht_error_set(why, "refused");
    memset(out, 0, sizeof *out);
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)name[i]) * 16777619u;
    out->id = h;
    memcpy(out->name, name, len < HT_POS_NAME_MAX ? len : HT_POS_NAME_MAX);
    out->kind = (ht_pos_kind)(h % 4);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ht_error err;
    ht_positions *book =
        ht_positions_parse((const char *)data, size, "fuzz", HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS, lookup, NULL, &err);
    if (!book) {
        if (err.msg[0] == '\0')
            abort(); /* every refusal carries a message */
        return 0;
    }
    for (size_t i = 0; i < ht_positions_count(book); i++) {
        const ht_position *p = ht_positions_at(book, i);
        if (!isfinite(p->qty_contracts) || ht_positions_find(book, p->spec.id) != p)
            abort();
    }
    ht_positions_destroy(book);
    return 0;
}
