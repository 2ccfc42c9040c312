/* SPDX-License-Identifier: MIT */
/* Quantity units: checks of a contract's description; the conversions themselves are inline in units.h. */
#include "hedgetrig/units.h"

#include <math.h>

#include "hedgetrig/feed.h"

int ht_contract_set(ht_contract *c, ht_contract_kind kind, double size, ht_error *err)
{
    if (kind != HT_CONTRACT_LINEAR && kind != HT_CONTRACT_INVERSE)
        return ht_error_set(err, "contract kind must be linear or inverse, got %d", (int)kind);
    if (!(size > 0) || !isfinite(size))
        return ht_error_set(err, "contract size must be finite and > 0, got %g", size);
    c->kind = kind;
    c->size = size;
    return 0;
}

const char *ht_contract_kind_name(ht_contract_kind kind)
{
    return kind == HT_CONTRACT_INVERSE ? "inverse" : "linear";
}

int ht_contract_from_instrument(const ht_instrument *in, ht_contract *c, ht_error *err)
{
    /* An inverse (coin-settled) option is still sized in coins: only futures and perpetuals are sized in USD. */
    bool usd_sized = in->inverse && in->kind != HT_INST_OPTION && in->kind != HT_INST_OPTION_COMBO;
    if (ht_contract_set(c, usd_sized ? HT_CONTRACT_INVERSE : HT_CONTRACT_LINEAR, in->contract_size, err) != 0)
        return ht_error_set(err, "instrument %s: contract size must be finite and > 0, got %g", in->name,
                            in->contract_size);
    return 0;
}
