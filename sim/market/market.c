/* SPDX-License-Identifier: MIT */
/* Market simulator: index path, vol surface, Deribit instruments, and their SBE packets (see market_sim.h). */
#include "hedgetrig/market_sim.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hedgetrig/black76.h"
#include "hedgetrig/pipe_synth.h"
#include "hedgetrig/sbe.h"
#include "hedgetrig/textfile.h"

#define MS_PER_YEAR (365.0 * 86400000.0)
#define MS_PER_DAY 86400000ull
#define YEAR_3000_MS 32503680000000ull
#define SNAPSHOT_CHANNEL_OFFSET 100u
#define OPTION_CHANNEL 1u
#define FUTURE_CHANNEL 2u
#define INDEX_CHANNEL 0u
#define N_CHANNELS 5u /* 0, 1, 2, 101, 102 */
#define OPTION_TICK_LOW 0.0001
#define OPTION_TICK_HIGH 0.0005
#define OPTION_TICK_ABOVE 0.005
#define OPTION_LEVEL_AMOUNT 10.0
#define DEFAULT_START_MS 1704441600000ull /* 2024-01-05 08:00:00 UTC */

/* One instrument with its static data and book ladder. */
typedef struct inst_state {
    ht_mkt_instrument pub;
    unsigned channel;      /* index into m->ch of its incremental channel */
    unsigned snap_channel; /* index into m->ch of its snapshot channel */
    bool inverse;
    double contract_size, tick_size, min_trade, maker, taker;
    uint64_t change_id;
    ht_sbe_level bids[HT_MKT_MAX_LEVELS], asks[HT_MKT_MAX_LEVELS];
    unsigned n_bids, n_asks;
    double last_price;
    uint64_t trade_seq;
    bool expired_published;
} inst_state;

/* One multicast channel: its id, sequence and the packet being filled. */
typedef struct channel_state {
    uint16_t id;
    uint32_t next_seq;
    ht_sbe_writer w;
    uint8_t *buf;
    bool open;
} channel_state;

/* A finished packet waiting in the queue. */
typedef struct queued_packet {
    size_t off;
    uint32_t len;
    uint16_t channel_id;
} queued_packet;

struct ht_mkt {
    ht_mkt_config cfg;
    ht_rng rng;          /* the market: path, jumps, vols, trades */
    ht_rng loss_rng;     /* packet loss only, so the market's path is the same with and without loss */
    bool have_spare;
    double spare_normal;
    inst_state *inst;
    size_t n_inst;
    size_t perp, future; /* indices into inst (future == n_inst when none) */
    channel_state ch[N_CHANNELS];
    /* step state */
    uint64_t step;       /* the step whose packets are queued */
    bool started;
    double spot, atm_iv;
    uint64_t now_ms;
    /* packet queue of the current step */
    uint8_t *arena;
    size_t arena_cap, arena_len;
    queued_packet *queue;
    size_t queue_cap, queue_len, queue_pos;
    uint64_t trade_id;
    uint64_t delivered; /* packets returned by ht_mkt_next */
    ht_mkt_stats stats;
};

static const char *const k_months[12] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                         "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};

void ht_mkt_config_default(ht_mkt_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = 1;
    cfg->start_ms = DEFAULT_START_MS;
    cfg->step_ms = 1000;
    cfg->steps = 3600;
    cfg->spot_usd = 44000.0;
    cfg->vol = 0.6;
    cfg->jumps_per_day = 2.0;
    cfg->jump_stdev = 0.004;
    cfg->atm_iv = 0.55;
    cfg->iv_reversion = 200.0;
    cfg->iv_vol_of_vol = 0.8;
    cfg->skew = -0.1;
    cfg->smile = 1.5;
    cfg->perp_premium = 0.0002;
    cfg->future_carry = 0.08;
    cfg->n_expiries = 3;
    cfg->expiry_days[0] = 1;
    cfg->expiry_days[1] = 7;
    cfg->expiry_days[2] = 21;
    cfg->future_days = 84;
    cfg->strikes_per_side = 4;
    cfg->strike_step_usd = 1000.0;
    cfg->option_ticker_every = 5;
    cfg->future_every = 1;
    cfg->snapshot_every = 300;
    cfg->book_levels = 10;
    cfg->level_amount_usd = 20000.0;
    cfg->level_step_usd = 2.5;
    cfg->half_spread_usd = 0.25;
    cfg->trade_prob = 0.3;
    cfg->loss_prob = 0.0;
    cfg->mtu_bytes = 1400;
}

/* True when x is finite and lo <= x <= hi. */
static bool in_range(double x, double lo, double hi)
{
    return isfinite(x) && x >= lo && x <= hi;
}

int ht_mkt_config_check(const ht_mkt_config *c, ht_error *err)
{
    if (c->step_ms < 1 || c->step_ms > 3600000)
        return ht_error_set(err, "market sim: step_ms must be 1..3600000, got %u", c->step_ms);
    if (!in_range(c->spot_usd, 1.0, 1e9))
        return ht_error_set(err, "market sim: spot must be 1..1e9 USD, got %g", c->spot_usd);
    if (!in_range(c->vol, 0.0, 10.0))
        return ht_error_set(err, "market sim: vol must be 0..10, got %g", c->vol);
    if (!in_range(c->jumps_per_day, 0.0, 1e4) || !in_range(c->jump_stdev, 0.0, 0.5))
        return ht_error_set(err, "market sim: jumps_per_day must be 0..1e4 and jump_stdev 0..0.5");
    if (!in_range(c->atm_iv, 0.05, 5.0))
        return ht_error_set(err, "market sim: atm_iv must be 0.05..5, got %g", c->atm_iv);
    if (!in_range(c->iv_reversion, 0.0, 1e6) || !in_range(c->iv_vol_of_vol, 0.0, 100.0))
        return ht_error_set(err, "market sim: iv_reversion must be 0..1e6 and iv_vol_of_vol 0..100");
    if (!in_range(c->skew, -10.0, 10.0) || !in_range(c->smile, 0.0, 100.0))
        return ht_error_set(err, "market sim: skew must be -10..10 and smile 0..100");
    if (!in_range(c->perp_premium, -0.05, 0.05) || !in_range(c->future_carry, -1.0, 1.0))
        return ht_error_set(err, "market sim: perp_premium must be within +-0.05 and future_carry within +-1");
    if (c->n_expiries > HT_MKT_MAX_EXPIRIES)
        return ht_error_set(err, "market sim: at most %d expiries, got %u", HT_MKT_MAX_EXPIRIES, c->n_expiries);
    for (unsigned e = 0; e < c->n_expiries; e++)
        if (c->expiry_days[e] == 0 || c->expiry_days[e] > 3650 || (e > 0 && c->expiry_days[e] <= c->expiry_days[e - 1]))
            return ht_error_set(err, "market sim: expiry_days must be increasing, each 1..3650 (entry %u is %u)", e,
                                c->expiry_days[e]);
    if (c->future_days > 3650)
        return ht_error_set(err, "market sim: future_days must be 0..3650, got %u", c->future_days);
    if (c->strikes_per_side > HT_MKT_MAX_STRIKES_PER_SIDE)
        return ht_error_set(err, "market sim: strikes_per_side must be 0..%d, got %u", HT_MKT_MAX_STRIKES_PER_SIDE,
                            c->strikes_per_side);
    if (!in_range(c->strike_step_usd, 1e-6, 1e9))
        return ht_error_set(err, "market sim: strike_step must be > 0, got %g", c->strike_step_usd);
    if (c->option_ticker_every < 1 || c->future_every < 1)
        return ht_error_set(err, "market sim: option_ticker_every and future_every must be >= 1");
    if (c->book_levels < 1 || c->book_levels > HT_MKT_MAX_LEVELS)
        return ht_error_set(err, "market sim: book_levels must be 1..%d, got %u", HT_MKT_MAX_LEVELS, c->book_levels);
    if (!in_range(c->level_amount_usd, 10.0, 1e12) || !in_range(c->level_step_usd, 1e-6, 1e6) ||
        !in_range(c->half_spread_usd, 0.0, 1e6))
        return ht_error_set(err, "market sim: level_amount must be >= 10 USD, level_step > 0, half_spread >= 0");
    if (!in_range(c->trade_prob, 0.0, 1.0) || !in_range(c->loss_prob, 0.0, 0.5))
        return ht_error_set(err, "market sim: trade_prob must be 0..1 and loss_prob 0..0.5");
    if (c->mtu_bytes < 1200 || c->mtu_bytes > 65000)
        return ht_error_set(err, "market sim: mtu must be 1200..65000 bytes, got %u", c->mtu_bytes);
    return 0;
}

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

/* Rounds x down / up to a multiple of tick. */
static double floor_tick(double x, double tick)
{
    return floor(x / tick + 1e-9) * tick;
}
static double ceil_tick(double x, double tick)
{
    return ceil(x / tick - 1e-9) * tick;
}

/* Rounds a price to the 1e-8 grid the SBE doubles carry without noise. */
static double clean(double x)
{
    return round(x * 1e8) / 1e8;
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

/* ---- Packets --------------------------------------------------------------------------------------------- */

/* Closes a channel's open packet and queues it (or drops it, with loss_prob: its sequence number is spent). */
static void flush_channel(ht_mkt *m, channel_state *c)
{
    if (!c->open)
        return;
    c->open = false;
    size_t len = ht_sbe_writer_finish(&c->w);
    uint32_t seq = c->next_seq++;
    (void)seq;
    if (len == 0)
        return;
    m->stats.packets++;
    if (m->cfg.loss_prob > 0.0 && ht_rng_uniform(&m->loss_rng, 0.0, 1.0) < m->cfg.loss_prob) {
        m->stats.dropped++;
        return;
    }
    if (m->queue_len == m->queue_cap || m->arena_len + len > m->arena_cap)
        return; /* cannot happen: the queue is sized for the worst step */
    queued_packet *q = &m->queue[m->queue_len++];
    q->off = m->arena_len;
    q->len = (uint32_t)len;
    q->channel_id = c->id;
    memcpy(m->arena + m->arena_len, c->buf, len);
    m->arena_len += len;
    m->stats.bytes += len;
}

/* Opens a packet on the channel when none is open. */
static void open_channel(channel_state *c, size_t mtu)
{
    if (c->open)
        return;
    ht_sbe_writer_init(&c->w, c->buf, mtu, c->id, c->next_seq);
    c->open = true;
}

/* The kinds of message put_message writes. */
typedef enum msg_kind { MSG_INSTRUMENT, MSG_TICKER, MSG_BOOK, MSG_TRADES, MSG_SNAPSHOT, MSG_SNAP_START, MSG_SNAP_END,
                        MSG_INDEX } msg_kind;

/* What put_message writes (one of them, by kind). */
typedef struct msg_args {
    const ht_sbe_instrument *instrument;
    const ht_sbe_tick_step *steps;
    unsigned n_steps;
    const ht_sbe_ticker *ticker;
    const ht_sbe_book *book;
    const ht_sbe_book_change *changes;
    const ht_sbe_trade *trades;
    const ht_sbe_snapshot *snapshot;
    const ht_sbe_level *levels;
    unsigned n;
    uint32_t instrument_id;
    const ht_sbe_price_index *index;
} msg_args;

/* Writes one message of the given kind into the writer; 0 or -1 when it does not fit. */
static int write_message(ht_sbe_writer *w, msg_kind kind, const msg_args *a)
{
    switch (kind) {
    case MSG_INSTRUMENT:
        return ht_sbe_put_instrument(w, a->instrument, a->steps, a->n_steps);
    case MSG_TICKER:
        return ht_sbe_put_ticker(w, a->ticker);
    case MSG_BOOK:
        return ht_sbe_put_book(w, a->book, a->changes, a->n);
    case MSG_TRADES:
        return ht_sbe_put_trades(w, a->instrument_id, a->trades, a->n);
    case MSG_SNAPSHOT:
        return ht_sbe_put_snapshot(w, a->snapshot, a->levels, a->n);
    case MSG_SNAP_START:
        return ht_sbe_put_snapshot_start(w, 0);
    case MSG_SNAP_END:
        return ht_sbe_put_snapshot_end(w);
    case MSG_INDEX:
        return ht_sbe_put_price_index(w, a->index);
    }
    return -1;
}

/* Appends a message to a channel's packet, starting a new packet when it does not fit. */
static void put_message(ht_mkt *m, unsigned ch_slot, msg_kind kind, const msg_args *a, uint16_t template_id)
{
    channel_state *c = &m->ch[ch_slot];
    open_channel(c, m->cfg.mtu_bytes);
    if (write_message(&c->w, kind, a) != 0) {
        c->w.overflow = false;
        flush_channel(m, c);
        open_channel(c, m->cfg.mtu_bytes);
        if (write_message(&c->w, kind, a) != 0) {
            c->w.overflow = false; /* larger than a packet: the config check keeps this from happening */
            return;
        }
    }
    m->stats.messages++;
    if (template_id >= 1000 && template_id <= 1010)
        m->stats.by_template[template_id - 1000]++;
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

/* An option's tick at a price (Deribit's two-step grid). */
static double option_tick(double price)
{
    return price >= OPTION_TICK_ABOVE ? OPTION_TICK_HIGH : OPTION_TICK_LOW;
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

/* Sets a ladder of n levels a side around mid with a half spread, on the instrument's tick grid. */
static void make_ladder(const ht_mkt *m, const inst_state *s, double mid, double half_spread, unsigned n,
                        double amount0, ht_sbe_level *bids, ht_sbe_level *asks)
{
    double step = fmax(ceil_tick(m->cfg.level_step_usd, s->tick_size), s->tick_size);
    double best_bid = floor_tick(mid - half_spread, s->tick_size);
    double best_ask = ceil_tick(mid + half_spread, s->tick_size);
    if (best_ask <= best_bid)
        best_ask = best_bid + s->tick_size;
    for (unsigned i = 0; i < n; i++) {
        double amount = round(amount0 * (1.0 + 0.5 * i) / s->contract_size) * s->contract_size;
        bids[i] = (ht_sbe_level){HT_SBE_SIDE_BID, clean(best_bid - i * step), amount};
        asks[i] = (ht_sbe_level){HT_SBE_SIDE_ASK, clean(best_ask + i * step), amount};
    }
}

/* The new ladder of an instrument at the current market (options: one level a side from the mark). */
static void target_ladder(const ht_mkt *m, const inst_state *s, ht_sbe_level *bids, unsigned *nb, ht_sbe_level *asks,
                          unsigned *na)
{
    if (s->pub.kind == HT_SBE_KIND_OPTION) {
        double mark = s->pub.mark;
        double tick = option_tick(mark);
        double half = fmax(tick, 0.03 * mark);
        double bid = floor_tick(mark - half, tick), ask = ceil_tick(mark + half, tick);
        *nb = 0;
        *na = 0;
        if (bid > 0.0)
            bids[(*nb)++] = (ht_sbe_level){HT_SBE_SIDE_BID, clean(bid), OPTION_LEVEL_AMOUNT};
        asks[(*na)++] = (ht_sbe_level){HT_SBE_SIDE_ASK, clean(fmax(ask, tick)), OPTION_LEVEL_AMOUNT};
        return;
    }
    make_ladder(m, s, s->pub.mark, m->cfg.half_spread_usd, m->cfg.book_levels, m->cfg.level_amount_usd, bids, asks);
    *nb = *na = m->cfg.book_levels;
}

/* Appends the changes that turn one side's old levels into new ones: deletes first, then creations, then
 * amount changes (so a book capped at its depth never overflows). Returns the count written. */
static unsigned diff_side(const ht_sbe_level *old, unsigned n_old, const ht_sbe_level *new_levels, unsigned n_new,
                          uint8_t side, ht_sbe_book_change *out)
{
    unsigned n = 0;
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 0) {
            for (unsigned i = 0; i < n_old; i++) {
                bool kept = false;
                for (unsigned j = 0; j < n_new && !kept; j++)
                    kept = new_levels[j].price == old[i].price;
                if (!kept)
                    out[n++] = (ht_sbe_book_change){side, HT_SBE_CHANGE_DELETED, old[i].price, 0.0};
            }
            continue;
        }
        for (unsigned j = 0; j < n_new; j++) {
            int found = -1;
            for (unsigned i = 0; i < n_old && found < 0; i++)
                if (old[i].price == new_levels[j].price)
                    found = (int)i;
            if (pass == 1 && found < 0)
                out[n++] = (ht_sbe_book_change){side, HT_SBE_CHANGE_CREATED, new_levels[j].price, new_levels[j].amount};
            else if (pass == 2 && found >= 0 && old[found].amount != new_levels[j].amount)
                out[n++] = (ht_sbe_book_change){side, HT_SBE_CHANGE_CHANGED, new_levels[j].price, new_levels[j].amount};
        }
    }
    return n;
}

/* Publishes a 1001 that moves an instrument's book to its target ladder (split into continuation messages when
 * the change list would not fit a packet). */
static void publish_book_change(ht_mkt *m, inst_state *s)
{
    ht_sbe_level bids[HT_MKT_MAX_LEVELS], asks[HT_MKT_MAX_LEVELS];
    unsigned nb, na;
    target_ladder(m, s, bids, &nb, asks, &na);
    ht_sbe_book_change changes[4 * HT_MKT_MAX_LEVELS];
    unsigned n = diff_side(s->bids, s->n_bids, bids, nb, HT_SBE_SIDE_BID, changes);
    n += diff_side(s->asks, s->n_asks, asks, na, HT_SBE_SIDE_ASK, changes + n);
    memcpy(s->bids, bids, nb * sizeof *bids);
    memcpy(s->asks, asks, na * sizeof *asks);
    s->n_bids = nb;
    s->n_asks = na;
    if (n == 0)
        return;
    ht_sbe_book b = {s->pub.id, m->now_ms, s->change_id, s->change_id + 1, 0, {0}};
    s->change_id++;
    unsigned per_msg = (m->cfg.mtu_bytes - HT_SBE_FRAME_HEADER_LEN - HT_SBE_MSG_HEADER_LEN - HT_SBE_BLOCK_BOOK -
                        HT_SBE_GROUP_HEADER_LEN) /
                       HT_SBE_ENTRY_BOOK_CHANGE;
    for (unsigned first = 0; first < n; first += per_msg) {
        unsigned count = n - first < per_msg ? n - first : per_msg;
        b.is_last = first + count == n;
        msg_args a = {.book = &b, .changes = changes + first, .n = count};
        put_message(m, s->channel, MSG_BOOK, &a, HT_SBE_BOOK);
    }
}

/* Fills a ticker with the instrument's current state. */
static void make_ticker(const ht_mkt *m, const inst_state *s, ht_sbe_ticker *t)
{
    memset(t, 0, sizeof *t);
    t->instrument_id = s->pub.id;
    t->state = m->now_ms < s->pub.expiry_ms ? HT_SBE_STATE_OPEN : HT_SBE_STATE_SETTLED;
    t->timestamp_ms = m->now_ms;
    t->open_interest = s->pub.kind == HT_SBE_KIND_OPTION ? 100.0 : 5e8;
    double mark = s->pub.mark;
    t->mark_price = mark;
    t->index_price = clean(m->spot);
    if (s->pub.kind == HT_SBE_KIND_OPTION) {
        t->min_sell_price = 0.0;
        t->max_buy_price = clean(mark + 0.05);
    } else {
        t->min_sell_price = floor_tick(mark * 0.995, s->tick_size);
        t->max_buy_price = ceil_tick(mark * 1.005, s->tick_size);
    }
    t->last_price = s->last_price;
    t->best_bid_price = s->n_bids ? s->bids[0].price : 0.0;
    t->best_bid_amount = s->n_bids ? s->bids[0].amount : 0.0;
    t->best_ask_price = s->n_asks ? s->asks[0].price : 0.0;
    t->best_ask_amount = s->n_asks ? s->asks[0].amount : 0.0;
    bool perp = s->pub.kind == HT_SBE_KIND_FUTURE && s->pub.expiry_ms == YEAR_3000_MS;
    t->current_funding = perp ? m->cfg.perp_premium : NAN;
    t->funding_8h = perp ? m->cfg.perp_premium : NAN;
    t->estimated_delivery_price = clean(m->spot);
    t->delivery_price = NAN;
    t->settlement_price = NAN;
}

/* Publishes an instrument's ticker on its incremental channel. */
static void publish_ticker(ht_mkt *m, inst_state *s)
{
    ht_sbe_ticker t;
    make_ticker(m, s, &t);
    msg_args a = {.ticker = &t};
    put_message(m, s->channel, MSG_TICKER, &a, HT_SBE_TICKER);
}

/* Fills an instrument record (1000 or 1010). */
static void make_instrument(const ht_mkt *m, const inst_state *s, uint16_t template_id, ht_sbe_instrument *r)
{
    memset(r, 0, sizeof *r);
    r->template_id = template_id;
    r->instrument_id = s->pub.id;
    r->state = m->now_ms < s->pub.expiry_ms ? HT_SBE_STATE_OPEN : HT_SBE_STATE_SETTLED;
    r->kind = s->pub.kind;
    r->instrument_type = s->inverse ? HT_SBE_TYPE_REVERSED : HT_SBE_TYPE_LINEAR;
    r->option_type = s->pub.option_type;
    bool perp = s->pub.expiry_ms == YEAR_3000_MS;
    r->settlement_period = perp ? HT_SBE_PERIOD_PERPETUAL : s->pub.kind == HT_SBE_KIND_OPTION ? HT_SBE_PERIOD_DAY
                                                                                            : HT_SBE_PERIOD_MONTH;
    r->settlement_period_count = 1;
    snprintf(r->base_currency, sizeof r->base_currency, "BTC");
    snprintf(r->quote_currency, sizeof r->quote_currency, "%s", s->pub.kind == HT_SBE_KIND_OPTION ? "BTC" : "USD");
    snprintf(r->counter_currency, sizeof r->counter_currency, "USD");
    snprintf(r->settlement_currency, sizeof r->settlement_currency, "BTC");
    snprintf(r->size_currency, sizeof r->size_currency, "%s", s->pub.kind == HT_SBE_KIND_OPTION ? "BTC" : "USD");
    r->creation_timestamp_ms = m->cfg.start_ms - MS_PER_DAY;
    r->expiration_timestamp_ms = s->pub.expiry_ms;
    r->strike_price = s->pub.strike_usd;
    r->contract_size = s->contract_size;
    r->min_trade_amount = s->min_trade;
    r->tick_size = s->tick_size;
    r->maker_commission = s->maker;
    r->taker_commission = s->taker;
    r->block_trade_commission = s->pub.kind == HT_SBE_KIND_OPTION ? 0.0003 : 0.00025;
    r->max_liquidation_commission = s->pub.kind == HT_SBE_KIND_OPTION ? 0.0019 : 0.0075;
    r->max_leverage = s->pub.kind == HT_SBE_KIND_OPTION ? NAN : 50.0;
    r->name = s->pub.name;
    r->name_len = (uint8_t)strlen(s->pub.name);
}

/* Publishes a snapshot cycle on both snapshot channels: 1005, per instrument 1000, 1010, 1003, 1004, then 1006. */
static void publish_snapshot_cycle(ht_mkt *m)
{
    for (unsigned slot = 3; slot < N_CHANNELS; slot++) {
        msg_args none = {0};
        put_message(m, slot, MSG_SNAP_START, &none, HT_SBE_SNAPSHOT_START);
        for (size_t i = 0; i < m->n_inst; i++) {
            inst_state *s = &m->inst[i];
            if (s->snap_channel != slot)
                continue;
            ht_sbe_instrument r;
            for (uint16_t tpl = HT_SBE_INSTRUMENT; tpl <= HT_SBE_INSTRUMENT_V2; tpl += HT_SBE_INSTRUMENT_V2 - HT_SBE_INSTRUMENT) {
                make_instrument(m, s, tpl, &r);
                ht_sbe_tick_step step = {OPTION_TICK_ABOVE, OPTION_TICK_HIGH};
                bool option = s->pub.kind == HT_SBE_KIND_OPTION;
                msg_args a = {.instrument = &r, .steps = &step, .n_steps = option ? 1 : 0};
                put_message(m, slot, MSG_INSTRUMENT, &a, tpl);
            }
            if (!isfinite(s->pub.mark))
                continue;
            ht_sbe_ticker t;
            make_ticker(m, s, &t);
            msg_args at = {.ticker = &t};
            put_message(m, slot, MSG_TICKER, &at, HT_SBE_TICKER);
            ht_sbe_level levels[2 * HT_MKT_MAX_LEVELS];
            unsigned n = 0;
            for (unsigned k = 0; k < s->n_bids || k < s->n_asks; k++) {
                if (k < s->n_bids)
                    levels[n++] = s->bids[k];
                if (k < s->n_asks)
                    levels[n++] = s->asks[k];
            }
            ht_sbe_snapshot snap = {s->pub.id, m->now_ms, s->change_id, 1, 1, {0}};
            msg_args as = {.snapshot = &snap, .levels = levels, .n = n};
            put_message(m, slot, MSG_SNAPSHOT, &as, HT_SBE_SNAPSHOT);
        }
        put_message(m, slot, MSG_SNAP_END, &none, HT_SBE_SNAPSHOT_END);
    }
}

/* Publishes one trade on the perpetual at its best bid or ask. */
static void publish_trade(ht_mkt *m, inst_state *s)
{
    bool buy = ht_rng_next(&m->rng) & 1;
    double amount = 10.0 * (double)(1 + ht_rng_next(&m->rng) % 500);
    double price = buy ? s->asks[0].price : s->bids[0].price;
    ht_sbe_trade t = {0};
    t.direction = buy ? HT_SBE_BUY : HT_SBE_SELL;
    t.price = price;
    t.amount = amount;
    t.timestamp_ms = m->now_ms;
    t.mark_price = s->pub.mark;
    t.index_price = clean(m->spot);
    t.trade_seq = ++s->trade_seq;
    t.trade_id = ++m->trade_id;
    t.tick_direction = isfinite(s->last_price) && price < s->last_price ? HT_SBE_TICK_MINUS : HT_SBE_TICK_PLUS;
    t.liquidation = HT_SBE_LIQ_NONE;
    t.iv = NAN;
    s->last_price = price;
    msg_args a = {.trades = &t, .n = 1, .instrument_id = s->pub.id};
    put_message(m, s->channel, MSG_TRADES, &a, HT_SBE_TRADES);
}

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
    m->spot = clean(m->spot * exp(log_ret));
    m->atm_iv += c->iv_reversion * (c->atm_iv - m->atm_iv) * dt + c->iv_vol_of_vol * sqrt(dt) * normal(m);
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
            target_ladder(m, s, s->bids, &s->n_bids, s->asks, &s->n_asks);
            s->change_id = 1000 + s->pub.id;
        }
    }
    if (snapshot)
        publish_snapshot_cycle(m);
    ht_sbe_price_index ix = {"btc_usd", clean(m->spot), m->now_ms};
    msg_args ai = {.index = &ix};
    put_message(m, 0, MSG_INDEX, &ai, HT_SBE_PRICE_INDEX);
    flush_channel(m, &m->ch[0]); /* the index goes out first, alone, as on Deribit's channel 0 */
    for (size_t i = 0; i < m->n_inst; i++) {
        inst_state *s = &m->inst[i];
        if (s->pub.kind != HT_SBE_KIND_FUTURE || m->now_ms >= s->pub.expiry_ms ||
            (m->step % c->future_every != 0 && !snapshot))
            continue;
        if (m->step > 0)
            publish_book_change(m, s);
        publish_ticker(m, s);
    }
    if (c->trade_prob > 0.0 && ht_rng_uniform(&m->rng, 0.0, 1.0) < c->trade_prob)
        publish_trade(m, perp);
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
                publish_ticker(m, s); /* its last ticker says settled */
            }
            continue;
        }
        publish_book_change(m, s);
        publish_ticker(m, s);
    }
    for (unsigned ch = 0; ch < N_CHANNELS; ch++)
        flush_channel(m, &m->ch[ch]);
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

/* ---- Configuration from text ----------------------------------------------------------------------------- */

const char *const ht_mkt_config_keys[] = {
    "seed", "start_ms", "step_ms", "steps", "spot_usd", "vol", "jumps_per_day", "jump_stdev", "atm_iv",
    "iv_reversion", "iv_vol_of_vol", "skew", "smile", "perp_premium", "future_carry", "expiry_days", "future_days",
    "strikes_per_side", "strike_step_usd", "option_ticker_every", "future_every", "snapshot_every", "book_levels",
    "level_amount_usd", "level_step_usd", "half_spread_usd", "trade_prob", "loss_prob", "mtu_bytes", NULL};

/* Parses a whole unsigned decimal number. */
static bool parse_u64(const char *v, uint64_t *out)
{
    char *end;
    if (!isdigit((unsigned char)v[0]))
        return false;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || errno == ERANGE)
        return false;
    *out = x;
    return true;
}

/* Parses a whole finite number, written in decimal (no blanks, no hexadecimal). */
static bool parse_double(const char *v, double *out)
{
    char *end;
    if (!ht_text_is_decimal(v, strlen(v)))
        return false; /* strtod would also take hex, "inf" and leading blanks */
    double x = strtod(v, &end);
    if (*end || !isfinite(x))
        return false;
    *out = x;
    return true;
}

bool ht_mkt_config_set(ht_mkt_config *c, const char *key, const char *value, bool *known, const char **expected)
{
    *known = true;
    static const struct {
        const char *key;
        size_t off;
    } doubles[] = {
        {"spot_usd", offsetof(ht_mkt_config, spot_usd)}, {"vol", offsetof(ht_mkt_config, vol)},
        {"jumps_per_day", offsetof(ht_mkt_config, jumps_per_day)}, {"jump_stdev", offsetof(ht_mkt_config, jump_stdev)},
        {"atm_iv", offsetof(ht_mkt_config, atm_iv)}, {"iv_reversion", offsetof(ht_mkt_config, iv_reversion)},
        {"iv_vol_of_vol", offsetof(ht_mkt_config, iv_vol_of_vol)}, {"skew", offsetof(ht_mkt_config, skew)},
        {"smile", offsetof(ht_mkt_config, smile)}, {"perp_premium", offsetof(ht_mkt_config, perp_premium)},
        {"future_carry", offsetof(ht_mkt_config, future_carry)},
        {"strike_step_usd", offsetof(ht_mkt_config, strike_step_usd)},
        {"level_amount_usd", offsetof(ht_mkt_config, level_amount_usd)},
        {"level_step_usd", offsetof(ht_mkt_config, level_step_usd)},
        {"half_spread_usd", offsetof(ht_mkt_config, half_spread_usd)},
        {"trade_prob", offsetof(ht_mkt_config, trade_prob)}, {"loss_prob", offsetof(ht_mkt_config, loss_prob)},
    };
    for (size_t i = 0; i < sizeof doubles / sizeof doubles[0]; i++)
        if (strcmp(key, doubles[i].key) == 0) {
            *expected = "a number";
            return parse_double(value, (double *)((char *)c + doubles[i].off));
        }
    uint64_t u;
    if (strcmp(key, "seed") == 0 || strcmp(key, "start_ms") == 0 || strcmp(key, "steps") == 0) {
        *expected = "a whole number >= 0";
        if (!parse_u64(value, &u))
            return false;
        *(strcmp(key, "seed") == 0 ? &c->seed : strcmp(key, "steps") == 0 ? &c->steps : &c->start_ms) = u;
        return true;
    }
    static const struct {
        const char *key;
        size_t off;
        bool is_u32;
    } uints[] = {
        {"step_ms", offsetof(ht_mkt_config, step_ms), true},
        {"future_days", offsetof(ht_mkt_config, future_days), true},
        {"mtu_bytes", offsetof(ht_mkt_config, mtu_bytes), true},
        {"strikes_per_side", offsetof(ht_mkt_config, strikes_per_side), false},
        {"option_ticker_every", offsetof(ht_mkt_config, option_ticker_every), false},
        {"future_every", offsetof(ht_mkt_config, future_every), false},
        {"snapshot_every", offsetof(ht_mkt_config, snapshot_every), false},
        {"book_levels", offsetof(ht_mkt_config, book_levels), false},
    };
    for (size_t i = 0; i < sizeof uints / sizeof uints[0]; i++)
        if (strcmp(key, uints[i].key) == 0) {
            *expected = "a whole number 0..4294967295";
            if (!parse_u64(value, &u) || u > UINT32_MAX)
                return false;
            if (uints[i].is_u32)
                *(uint32_t *)((char *)c + uints[i].off) = (uint32_t)u;
            else
                *(unsigned *)((char *)c + uints[i].off) = (unsigned)u;
            return true;
        }
    if (strcmp(key, "expiry_days") == 0) {
        *expected = "a comma-separated list of at most 8 whole numbers of days (empty: no options)";
        char buf[256];
        if (strlen(value) >= sizeof buf)
            return false;
        snprintf(buf, sizeof buf, "%s", value);
        unsigned n = 0;
        for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
            if (n == HT_MKT_MAX_EXPIRIES || !parse_u64(tok, &u) || u > UINT32_MAX)
                return false;
            c->expiry_days[n++] = (uint32_t)u;
        }
        c->n_expiries = n;
        return true;
    }
    *known = false;
    return false;
}
