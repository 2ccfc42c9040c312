/* SPDX-License-Identifier: MIT */
/* What margin.c shares with margin_pm.c: a position's contract, and its inputs moved by a shift. */
#ifndef HT_MARGIN_PRIV_H
#define HT_MARGIN_PRIV_H

#include "hedgetrig/margin.h"
#include "hedgetrig/units.h"

/* The contract of a book position: coin-sized (linear, options) or USD-sized (inverse futures, perpetuals). */
ht_contract margin_contract(const ht_instrument_spec *spec);

/* An option's mark moved by the model's change under the move (the mark itself when there is none). */
double margin_option_mark(const ht_margin_position *pos, double spot_move_rel, double vol_shift, double min_vol);

/* A position's inputs moved by shift (NULL: unmoved): marks, underlying, index and vol. */
ht_margin_position margin_shifted(const ht_margin_position *pos, const ht_margin_shift *shift, double min_vol);

#endif
