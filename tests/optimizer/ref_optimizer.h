/* SPDX-License-Identifier: MIT */
/* Reference optimizer (tests only): the straightforward decision the library's fast path must reproduce. */
#ifndef HEDGETRIG_TESTS_REF_OPTIMIZER_H
#define HEDGETRIG_TESTS_REF_OPTIMIZER_H

#include "hedgetrig/optimizer.h"

/* Same contracts as ht_opt_create / _set_strategy / _add_venue / _decide / _reset / _destroy / ht_opt_split
 * (include/hedgetrig/optimizer.h); the decision ignores the prepared sums of a quote and walks its book. */
typedef struct ref_opt ref_opt;
ref_opt *ref_opt_create(const ht_opt_config *cfg, ht_error *err);
int ref_opt_set_strategy(ref_opt *opt, uint32_t underlying, const ht_opt_strategy *s, ht_error *err);
int ref_opt_add_venue(ref_opt *opt, uint32_t underlying, const ht_opt_venue *v, ht_error *err);
int ref_opt_decide(ref_opt *opt, const ht_opt_event *ev, const ht_opt_book *book, const ht_opt_quote *quotes,
                   ht_opt_decision *out, ht_error *err);
void ref_opt_reset(ref_opt *opt);
void ref_opt_destroy(ref_opt *opt);
double ref_opt_split(const ht_opt_venue_cost *venues, size_t n, double target_coin, double *q_coin);

#endif
