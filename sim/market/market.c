/* SPDX-License-Identifier: MIT */
/* Market simulator: the instruments, the index path and vol surface, and the steps that publish them (see
 * market_sim.h); the packets themselves are written by market_packets.c, the config read by market_config.c. */
#include "hedgetrig/market_sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hedgetrig/black76.h"
#include "market_priv.h"

static const char *const k_months[12] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                         "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};

/* A standard normal draw (Box-Muller, the second value kept for the next call). */
static double normal(ht_mkt *m)
{
    if (m->have_spare) {
        m->have_spare = false;
        return m->spare_normal;
    }
    double u1 = ht_rng_uniform(&m->rng, 0.0, 1.0), u2 = ht_rng_uniform(&m->rng, 0.0, 1.0);
    if (u1 < 1e-300)
        u1 = 1e-300;
    double r = sqrt(-2.0 * log(u1));
    m->spare_normal = r * sin(2.0 * M_PI * u2);
    m->have_spare = true;
    return r * cos(2.0 * M_PI * u2);
}

/* Deribit's date code of a UTC time: "5JAN24". */
static void date_code(uint64_t ms, char *buf, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, n, "%d%s%02d", tm.tm_mday, k_months[tm.tm_mon], tm.tm_year % 100);
}

/* The index / channel slot of a channel id (0, 1, 2, 101, 102). */
static unsigned channel_slot(uint16_t id)
{
    switch (id) {
    case INDEX_CHANNEL:
        return 0;
    case OPTION_CHANNEL:
        return 1;
    case FUTURE_CHANNEL:
        return 2;
    case SNAPSHOT_CHANNEL_OFFSET + OPTION_CHANNEL:
        return 3;
    default:
        return 4;
    }
}

/* Adds an instrument to the universe. */
static inst_state *add_instrument(ht_mkt *m, uint32_t id, uint8_t kind, uint16_t channel)
{
    inst_state *s = &m->inst[m->n_inst++];
    memset(s, 0, sizeof *s);
    s->pub.id = id;
    s->pub.kind = kind;
    s->pub.strike_usd = NAN;
    s->pub.mark = NAN;
    s->pub.iv = NAN;
    s->channel = channel_slot(channel);
    s->snap_channel = channel_slot((uint16_t)(channel + SNAPSHOT_CHANNEL_OFFSET));
    s->last_price = NAN;
    return s;
}

/* Builds the universe: BTC-PERPETUAL, the dated future, and calls and puts per expiry around the spot. */
static void build_universe(ht_mkt *m)
{
    const ht_mkt_config *c = &m->cfg;
    inst_state *p = add_instrument(m, 1, HT_SBE_KIND_FUTURE, FUTURE_CHANNEL);
    snprintf(p->pub.name, sizeof p->pub.name, "BTC-PERPETUAL");
    p->pub.expiry_ms = YEAR_3000_MS;
    p->inverse = true;
    p->contract_size = 10.0;
    p->tick_size = 0.5;
    p->min_trade = 10.0;
    p->maker = 0.0;
    p->taker = 0.0005;
    m->perp = 0;
    m->future = SIZE_MAX;
    if (c->future_days > 0) {
        inst_state *f = add_instrument(m, 2, HT_SBE_KIND_FUTURE, FUTURE_CHANNEL);
        f->pub.expiry_ms = c->start_ms + (uint64_t)c->future_days * MS_PER_DAY;
        char d[16];
        date_code(f->pub.expiry_ms, d, sizeof d);
        snprintf(f->pub.name, sizeof f->pub.name, "BTC-%s", d);
        f->inverse = true;
        f->contract_size = 10.0;
        f->tick_size = 2.5;
        f->min_trade = 10.0;
        f->maker = -0.0001;
        f->taker = 0.0005;
        m->future = 1;
    }
    const double atm = round(c->spot_usd / c->strike_step_usd) * c->strike_step_usd;
    uint32_t id = 100;
    for (unsigned e = 0; e < c->n_expiries; e++) {
        uint64_t expiry = c->start_ms + (uint64_t)c->expiry_days[e] * MS_PER_DAY;
        char d[16];
        date_code(expiry, d, sizeof d);
        for (int k = -(int)c->strikes_per_side; k <= (int)c->strikes_per_side; k++) {
            double strike = atm + k * c->strike_step_usd;
            if (!(strike > 0.0))
                continue;
            for (int type = HT_SBE_OPTION_CALL; type <= HT_SBE_OPTION_PUT; type++) {
                inst_state *o = add_instrument(m, id++, HT_SBE_KIND_OPTION, OPTION_CHANNEL);
                o->pub.option_type = (uint8_t)type;
                o->pub.strike_usd = strike;
                o->pub.expiry_ms = expiry;
                snprintf(o->pub.name, sizeof o->pub.name, "BTC-%s-%.0f-%c", d, strike,
                         type == HT_SBE_OPTION_CALL ? 'C' : 'P');
                o->inverse = true;
                o->contract_size = 1.0;
                o->tick_size = OPTION_TICK_LOW;
                o->min_trade = 0.1;
                o->maker = 0.0003;
                o->taker = 0.0003;
            }
        }
    }
}

ht_mkt *ht_mkt_create(const ht_mkt_config *cfg, ht_error *err)
{
    ht_mkt_config defaults;
    if (!cfg) {
        ht_mkt_config_default(&defaults);
        cfg = &defaults;
    }
    if (ht_mkt_config_check(cfg, err) != 0)
        return NULL;
    ht_mkt *m = calloc(1, sizeof *m);
    if (!m) {
        ht_error_set(err, "market sim: out of memory");
        return NULL;
    }
    m->cfg = *cfg;
    m->rng.state = cfg->seed;
    m->loss_rng.state = cfg->seed ^ 0x6c6f73735f726e67ull; /* "loss_rng": a stream of its own */
    size_t max_inst = 2 + (size_t)cfg->n_expiries * (2 * cfg->strikes_per_side + 1) * 2;
    m->inst = calloc(max_inst, sizeof *m->inst);
    /* Every message fits one packet, so a step makes at most as many packets as messages: a snapshot cycle
     * (5 per instrument plus starts and ends), a ticker, a book change and a trade per instrument, the index. */
    m->queue_cap = 8 * max_inst + 16;
    m->queue = calloc(m->queue_cap, sizeof *m->queue);
    m->arena_cap = m->queue_cap * cfg->mtu_bytes;
    m->arena = malloc(m->arena_cap);
    bool ok = m->inst && m->queue && m->arena;
    static const uint16_t ids[N_CHANNELS] = {INDEX_CHANNEL, OPTION_CHANNEL, FUTURE_CHANNEL,
                                             SNAPSHOT_CHANNEL_OFFSET + OPTION_CHANNEL,
                                             SNAPSHOT_CHANNEL_OFFSET + FUTURE_CHANNEL};
    for (unsigned i = 0; ok && i < N_CHANNELS; i++) {
        m->ch[i].id = ids[i];
        m->ch[i].next_seq = 1;
        m->ch[i].buf = malloc(cfg->mtu_bytes);
        ok = m->ch[i].buf != NULL;
    }
    if (!ok) {
        ht_mkt_destroy(m);
        ht_error_set(err, "market sim: out of memory");
        return NULL;
    }
    build_universe(m);
    m->spot = cfg->spot_usd;
    m->atm_iv = cfg->atm_iv;
    m->now_ms = cfg->start_ms;
    return m;
}

void ht_mkt_destroy(ht_mkt *m)
{
    if (!m)
        return;
    for (unsigned i = 0; i < N_CHANNELS; i++)
        free(m->ch[i].buf);
    free(m->inst);
    free(m->queue);
    free(m->arena);
    free(m);
}

/* ---- Prices ---------------------------------------------------------------------------------------------- */

double ht_mkt_surface_iv(const ht_mkt *m, double strike_usd, double forward_usd)
{
    double x = log(strike_usd / forward_usd);
    double iv = m->atm_iv + m->cfg.skew * x + m->cfg.smile * x * x;
    return iv < 0.05 ? 0.05 : iv;
}

/* The perpetual's mark (also the options' forward). */
static double perp_mark(const ht_mkt *m)
{
    return clean(m->spot * (1.0 + m->cfg.perp_premium));
}

/* Reprices an option at the current spot and surface; false when it has expired. */
static bool price_option(ht_mkt *m, inst_state *s)
{
    if (m->now_ms >= s->pub.expiry_ms)
        return false;
    double f = perp_mark(m);
    double t = (double)(s->pub.expiry_ms - m->now_ms) / MS_PER_YEAR;
    double iv = ht_mkt_surface_iv(m, s->pub.strike_usd, f);
    ht_b76_type type = s->pub.option_type == HT_SBE_OPTION_CALL ? HT_B76_CALL : HT_B76_PUT;
    double usd = ht_b76_price(type, f, s->pub.strike_usd, t, iv, 0.0);
    s->pub.mark = usd / f;
    s->pub.iv = iv;
    return isfinite(s->pub.mark);
}

/* ---- Steps ----------------------------------------------------------------------------------------------- */

/* Moves the index and the ATM vol one step. */
static void evolve(ht_mkt *m)
{
    const ht_mkt_config *c = &m->cfg;
    double dt = (double)c->step_ms / MS_PER_YEAR;
    double z = normal(m);
    double log_ret = -0.5 * c->vol * c->vol * dt + c->vol * sqrt(dt) * z;
    double lambda_dt = c->jumps_per_day * 365.0 * dt;
    if (lambda_dt > 0.0 && ht_rng_uniform(&m->rng, 0.0, 1.0) < lambda_dt) {
        log_ret += c->jump_stdev * normal(m) - 0.5 * c->jump_stdev * c->jump_stdev;
        m->stats.jumps++;
    }
    /* The crash (crash_fall > 0): this step's share of the fall and of the vol's rise, the reversion level with it. */
    double crash_share = 0.0, iv_level = c->atm_iv;
    if (c->crash_fall > 0.0 || c->crash_iv_rise > 0.0) {
        const double step_s = c->step_ms / 1000.0, t_s = (double)(m->step - 1) * step_s; /* from t_s */
        const double from = c->crash_start_s, to = c->crash_start_s + c->crash_duration_s;
        crash_share = fmax(0.0, fmin(t_s + step_s, to) - fmax(t_s, from)) / c->crash_duration_s;
        iv_level += c->crash_iv_rise * fmin(fmax((t_s + step_s - from) / c->crash_duration_s, 0.0), 1.0);
        log_ret += crash_share * log1p(-c->crash_fall);
    }
    m->spot = clean(m->spot * exp(log_ret));
    m->atm_iv += crash_share * c->crash_iv_rise + c->iv_reversion * (iv_level - m->atm_iv) * dt +
                 c->iv_vol_of_vol * sqrt(dt) * normal(m);
    if (m->atm_iv < 0.05)
        m->atm_iv = 0.05;
    if (m->atm_iv > 5.0)
        m->atm_iv = 5.0;
}

/* Generates every packet of the current step into the queue. */
static void generate_step(ht_mkt *m)
{
    const ht_mkt_config *c = &m->cfg;
    m->queue_len = m->queue_pos = 0;
    m->arena_len = 0;
    if (m->step > 0)
        evolve(m);
    m->now_ms = c->start_ms + m->step * c->step_ms;
    /* Marks of the futures. */
    inst_state *perp = &m->inst[m->perp];
    perp->pub.mark = perp_mark(m);
    if (m->future != SIZE_MAX) {
        inst_state *f = &m->inst[m->future];
        double t = m->now_ms < f->pub.expiry_ms ? (double)(f->pub.expiry_ms - m->now_ms) / MS_PER_YEAR : 0.0;
        f->pub.mark = clean(m->spot * exp(c->future_carry * t));
    }
    bool snapshot = m->step == 0 || (c->snapshot_every > 0 && m->step % c->snapshot_every == 0);
    if (m->step == 0) {
        /* Every option priced and every book built before the first snapshot. */
        for (size_t i = 0; i < m->n_inst; i++) {
            inst_state *s = &m->inst[i];
            if (s->pub.kind == HT_SBE_KIND_OPTION && !price_option(m, s))
                continue;
            mkt_target_ladder(m, s, s->bids, &s->n_bids, s->asks, &s->n_asks);
            s->change_id = 1000 + s->pub.id;
        }
    }
    if (snapshot)
        mkt_publish_snapshot_cycle(m);
    mkt_publish_index(m);
    for (size_t i = 0; i < m->n_inst; i++) {
        inst_state *s = &m->inst[i];
        if (s->pub.kind != HT_SBE_KIND_FUTURE || m->now_ms >= s->pub.expiry_ms ||
            (m->step % c->future_every != 0 && !snapshot))
            continue;
        if (m->step > 0)
            mkt_publish_book_change(m, s);
        mkt_publish_ticker(m, s);
    }
    if (c->trade_prob > 0.0 && ht_rng_uniform(&m->rng, 0.0, 1.0) < c->trade_prob)
        mkt_publish_trade(m, perp);
    size_t k = 0;
    for (size_t i = 0; i < m->n_inst; i++) {
        inst_state *s = &m->inst[i];
        if (s->pub.kind != HT_SBE_KIND_OPTION)
            continue;
        if ((k++ + m->step) % c->option_ticker_every != 0 || m->step == 0)
            continue;
        if (!price_option(m, s)) {
            if (!s->expired_published) {
                s->expired_published = true;
                mkt_publish_ticker(m, s); /* its last ticker says settled */
            }
            continue;
        }
        mkt_publish_book_change(m, s);
        mkt_publish_ticker(m, s);
    }
    for (unsigned ch = 0; ch < N_CHANNELS; ch++)
        mkt_flush_channel(m, &m->ch[ch]);
}

int ht_mkt_next(ht_mkt *m, ht_nic_packet *out)
{
    while (!m->started || m->queue_pos == m->queue_len) {
        if (m->started)
            m->step++;
        if (m->cfg.steps > 0 && m->step >= m->cfg.steps)
            return 0;
        m->started = true;
        generate_step(m);
    }
    size_t k = m->queue_pos++;
    const queued_packet *q = &m->queue[k];
    memset(out, 0, sizeof *out);
    out->payload = m->arena + q->off;
    out->len = q->len;
    /* Packets of a step spread 1 us apart from the step's time (and never past the next step). */
    uint64_t spread_ns = (uint64_t)k * 1000u;
    uint64_t step_ns = (uint64_t)m->cfg.step_ms * 1000000u;
    if (spread_ns >= step_ns)
        spread_ns = step_ns - 1;
    out->ts_ns = m->now_ms * 1000000u + spread_ns;
    uint16_t ch = q->channel_id;
    uint32_t octet = ch >= SNAPSHOT_CHANNEL_OFFSET ? ch - SNAPSHOT_CHANNEL_OFFSET : ch;
    out->dst_addr = (239u << 24) | (111u << 16) | (111u << 8) | octet;
    out->dst_port = ch >= SNAPSHOT_CHANNEL_OFFSET ? 6101 : 6100;
    out->src_addr = (10u << 24) | 1u;
    out->src_port = 5000;
    out->frame = ++m->delivered;
    return 1;
}

/* ---- Queries --------------------------------------------------------------------------------------------- */

size_t ht_mkt_instrument_count(const ht_mkt *m)
{
    return m->n_inst;
}

const ht_mkt_instrument *ht_mkt_instrument_at(const ht_mkt *m, size_t i)
{
    return i < m->n_inst ? &m->inst[i].pub : NULL;
}

const ht_mkt_instrument *ht_mkt_instrument_find(const ht_mkt *m, const char *name)
{
    for (size_t i = 0; i < m->n_inst; i++)
        if (strcmp(m->inst[i].pub.name, name) == 0)
            return &m->inst[i].pub;
    return NULL;
}

double ht_mkt_spot(const ht_mkt *m)
{
    return m->spot;
}

double ht_mkt_atm_iv(const ht_mkt *m)
{
    return m->atm_iv;
}

uint64_t ht_mkt_now_ms(const ht_mkt *m)
{
    return m->now_ms;
}

uint64_t ht_mkt_step(const ht_mkt *m)
{
    return m->step;
}

const ht_mkt_stats *ht_mkt_stats_get(const ht_mkt *m)
{
    return &m->stats;
}
