/* SPDX-License-Identifier: MIT */
/* What an order armed ahead of its breach needs of the optimizer (the engine's pre-armed hedges, docs/deployment.md
 * "Pre-armed hedges"): the decision previewed without its effects, the time-dependent part of it checked at the
 * moment it fires, and the pieces of the decision that size a breach's trade on one venue without deciding. Each
 * mirrors the step of optimizer.c it names; test_prearm compares the two paths breach by breach. */
#include <math.h>

#include "hedgetrig/units.h"
#include "opt_priv.h"

int ht_opt_decide_preview(ht_opt *opt, const ht_opt_event *ev, const ht_opt_book *book, const ht_opt_quote *quotes,
                          ht_opt_decision *out, ht_error *err)
{
    if (!opt || !ev || ev->underlying >= HT_OPT_MAX_UNDERLYINGS)
        return ht_opt_decide(opt, ev, book, quotes, out, err);
    const ht_opt_underlying saved = opt->ul[ev->underlying];
    int rc = ht_opt_decide(opt, ev, book, quotes, out, err);
    opt->ul[ev->underlying] = saved;
    return rc;
}

bool ht_opt_rate_allows(const ht_opt *opt, uint32_t u, int64_t now_ns, uint32_t n_orders)
{
    if (!opt || u >= HT_OPT_MAX_UNDERLYINGS)
        return false;
    const ht_opt_config *cfg = &opt->cfg;
    const ht_opt_underlying *ul = &opt->ul[u];
    if (cfg->min_interval_ns > 0 && ul->hedged_once && now_ns - ul->last_hedge_ns < cfg->min_interval_ns)
        return false;
    if (cfg->max_orders_per_s > 0.0) {
        double tokens = ul->tokens;
        if (ul->tokens_valid && now_ns > ul->tokens_ns)
            tokens = min_d(cfg->burst_orders, tokens + (double)(now_ns - ul->tokens_ns) * 1e-9 * cfg->max_orders_per_s);
        else if (!ul->tokens_valid)
            tokens = cfg->burst_orders;
        return tokens >= (double)n_orders;
    }
    return true;
}

double ht_opt_target_fraction(const ht_opt *opt, uint32_t u)
{
    if (!opt || u >= HT_OPT_MAX_UNDERLYINGS || !opt->ul[u].has_strategy)
        return NAN;
    const ht_opt_strategy *s = &opt->ul[u].strategy;
    if (ht_opt_rule_traits_of(s->rule)->timed || s->rule == HT_OPT_RULE_MOVE)
        return NAN;
    ht_opt_target kind = s->target;
    if (kind == HT_OPT_TARGET_AUTO) /* as decide_target */
        kind = opt->cfg.fixed_cost_usd > 0.0 ? HT_OPT_TARGET_CENTRE : HT_OPT_TARGET_EDGE;
    return kind == HT_OPT_TARGET_EDGE ? 1.0 : kind == HT_OPT_TARGET_INNER ? s->inner_fraction : 0.0;
}

int ht_opt_size_alone(const ht_opt *opt, uint32_t u, uint32_t v, const ht_opt_quote *q, double ref_px, int side,
                      double want_coin, double centre_dist_coin, double *amount, double *margin_coin)
{
    *amount = 0.0;
    *margin_coin = 0.0;
    if (!opt || u >= HT_OPT_MAX_UNDERLYINGS || v >= opt->ul[u].n_venues || opt->ul[u].n_venues != 1 || !q ||
        !(ref_px > 0.0 && ref_px < INFINITY) || !(want_coin > 0.0 && want_coin < 1e12) || !(centre_dist_coin >= 0.0))
        return -1;
    const ht_opt_underlying *ul = &opt->ul[u];
    const ht_opt_venue *ven = &ul->venues[v];
    const double lot = ven->lot_amount, first = ul->first_amount[v];
    if (!(lot > 0.0) || !(first >= lot))
        return -1;
    ht_contract contract = {ven->contract == HT_OPT_INVERSE ? HT_CONTRACT_INVERSE : HT_CONTRACT_LINEAR,
                            ven->contract_size};
    const double conv = ht_units_amount_per_coin(&contract, ref_px); /* as view_venue */
    /* decide_size: a trade under the minimum is raised to it when the centre is that far, else none */
    const double min_trade = max_d(first / conv, opt->cfg.min_hedge_coin);
    double trade = want_coin, margin = fabs(want_coin - min_trade);
    if (want_coin < min_trade) {
        if (centre_dist_coin < min_trade)
            return -1;
        trade = min_trade;
        margin = min_d(margin, centre_dist_coin - min_trade);
    }
    /* view_venue's room on the side; the trade and a lot more must fit it (the split then takes all of it) */
    const double pos = q->position_amount > -INFINITY && q->position_amount < INFINITY ? q->position_amount : 0.0;
    double room = INFINITY;
    if (side > 0 && ven->max_long_amount > 0.0)
        room = max_d(ven->max_long_amount - pos, 0.0);
    if (side < 0 && ven->max_short_amount > 0.0)
        room = max_d(ven->max_short_amount + pos, 0.0);
    const double x = trade * conv;
    if (!(x + lot <= room))
        return -1;
    /* round_split with one venue: whole lots below x (none under the minimum), then one more step when it lands
     * closer to x than stopping does; from the first amount on that is x to the nearest lot, half down, and below
     * it the first amount when x is over half of it. The result changes only at those halves: near a whole lot
     * (or the first amount) the floor's tolerance and the step that follows it give the same amount either way. */
    double a, boundary;
    if (x >= first) {
        const double k = floor(x / lot);
        a = (x - k * lot > 0.5 * lot ? k + 1.0 : k) * lot;
        boundary = min_d(fabs(x - (k + 0.5) * lot), fabs(x - (k - 0.5) * lot));
        if (a < first)
            a = first;
    } else {
        a = x > 0.5 * first ? first : 0.0;
        boundary = fabs(x - 0.5 * first);
    }
    /* the split's cap (view_venue: the depth inside the collar, the room) must hold the trade and the last step */
    const double bound = side > 0 ? ref_px * (1.0 + ven->collar_frac) : ref_px * (1.0 - ven->collar_frac);
    const double cap_coin = min_d(depth_in_collar(ven, q, side, bound), room / conv);
    if (!(a > 0.0) || !(max_d(trade, a / conv) <= cap_coin))
        return -1;
    *amount = a;
    *margin_coin = min_d(margin, boundary / conv);
    return 0;
}

/* Whether a level of one side of q lies between two collar bounds (either way round, the farther one included). */
static bool level_between(const ht_opt_quote *q, int side, double b0, double b1)
{
    const double lo = min_d(b0, b1), hi = max_d(b0, b1);
    const double *px = side > 0 ? q->ask_px : q->bid_px;
    unsigned n = side > 0 ? q->n_ask : q->n_bid;
    if (n > HT_OPT_BOOK_LEVELS)
        n = HT_OPT_BOOK_LEVELS;
    for (unsigned l = 0; l < n; l++)
        if (side > 0 ? px[l] > lo && px[l] <= hi : px[l] >= lo && px[l] < hi)
            return true;
    return false;
}

bool ht_opt_ref_keeps_view(const ht_opt *opt, uint32_t u, uint32_t v, const ht_opt_quote *q, double ref0, double ref1,
                           double spot)
{
    if (!opt || u >= HT_OPT_MAX_UNDERLYINGS || v >= opt->ul[u].n_venues || !q || !(ref0 > 0.0) || !(ref1 > 0.0))
        return false;
    if (ref0 == ref1)
        return true;
    if (q->unlimited_depth || !(ref1 >= 0.5 * spot && ref1 <= 2.0 * spot)) /* read_top's sanity test */
        return false;
    const double c = opt->ul[u].venues[v].collar_frac;
    return !level_between(q, 1, ref0 * (1.0 + c), ref1 * (1.0 + c)) &&
           !level_between(q, -1, ref0 * (1.0 - c), ref1 * (1.0 - c));
}

