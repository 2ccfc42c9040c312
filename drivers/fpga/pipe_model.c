/* SPDX-License-Identifier: MIT */
/* The aggregation fold of the C model: the whole table folded into A, B, C, V, exactly as the RTL engine. */
#include <string.h>

#include "pipe_model.h"

void ht_model_fold(const ht_fx_entry *table, uint32_t count, const int64_t s0[HT_PIPE_UNDERLYINGS],
                   ht_model_book *out)
{
    ht_fx_wide acc_a[HT_PIPE_UNDERLYINGS] = {0}, acc_b[HT_PIPE_UNDERLYINGS] = {0};
    ht_fx_wide acc_c[HT_PIPE_UNDERLYINGS] = {0}, acc_v[HT_PIPE_UNDERLYINGS] = {0};
    uint32_t flags = 0;
    for (uint32_t i = 0; i < count; i++) {
        const ht_fx_entry *e = &table[i];
        if (e->underlying >= HT_PIPE_UNDERLYINGS)
            continue;
        int64_t delta0, gamma0;
        ht_model_recentre(e, s0[e->underlying], &delta0, &gamma0, &flags);
        acc_a[e->underlying] += delta0;
        acc_b[e->underlying] += gamma0;
        acc_c[e->underlying] += e->speed;
        acc_v[e->underlying] += e->vanna;
    }
    bool sat = false;
    for (unsigned u = 0; u < HT_PIPE_UNDERLYINGS; u++) {
        out->a[u] = ht_fx_saturate(acc_a[u], &sat);
        out->b[u] = ht_fx_saturate(acc_b[u], &sat);
        out->c[u] = ht_fx_saturate(acc_c[u], &sat);
        out->v[u] = ht_fx_saturate(acc_v[u], &sat);
        out->s0[u] = s0[u];
    }
    out->flags = flags | (sat ? HT_PIPE_FLAG_FOLD_SUM : 0u);
}
