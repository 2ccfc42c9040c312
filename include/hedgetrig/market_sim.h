/* SPDX-License-Identifier: MIT */
/* Market simulator: a BTC index path with jumps and a moving vol surface, published as the Deribit multicast
 * SBE packets the feed decodes (instruments, tickers, index, books, trades, snapshots). */
#ifndef HEDGETRIG_MARKET_SIM_H
#define HEDGETRIG_MARKET_SIM_H

/*
 * Life cycle (liquid-dsp style):
 *     ht_mkt_config cfg;  ht_mkt_config_default(&cfg);  cfg.steps = 3600;
 *     ht_mkt *m = ht_mkt_create(&cfg, &err);
 *     ht_nic_packet p;
 *     while (ht_mkt_next(m, &p) == 1) ... p.payload, p.len, p.ts_ns, p.dst_addr, p.dst_port ...
 *     ht_mkt_destroy(m);
 *
 * What it publishes, one step every step_ms of exchange time (the same seed gives the same bytes):
 *   - step 0 starts with a snapshot cycle on the snapshot channels: 1005, then for every instrument 1000,
 *     1010, 1003 and its book (1004), then 1006; the cycle repeats every snapshot_every steps;
 *   - every step: the index (1008, "<base>_usd", channel 0); every future_every steps the perpetual's and the
 *     future's tickers (1003) and book changes (1001, a ladder of book_levels levels a side re-centred on the
 *     mark); a trade on the perpetual with probability trade_prob (1002);
 *   - every option's ticker (1003: mark from Black-76 on the forward at the surface's vol, best bid/ask on the
 *     tick grid) every option_ticker_every steps, round robin, and a one-level book change (1001) with it.
 * The index follows geometric Brownian motion with Merton jumps; the ATM vol follows a mean-reverting random
 * walk; the surface is iv(K) = atm + skew x + smile x^2 with x = ln(K / F). Inverse options are priced as Deribit
 * does: the Black-76 USD price divided by the forward, in BTC. The perpetual's mark is index x (1 +
 * perp_premium), the options' forward the perpetual's mark (what a feed consumer infers from the perpetual's
 * basis), the future's mark index x exp(future_carry x T).
 *
 * Packets: at most mtu_bytes of UDP payload, per-channel sequence numbers from 1 (a dropped packet, with
 * loss_prob, leaves a gap; losses are drawn from a random stream of their own, so the market published -
 * path, vols, trades - is the same with and without loss), exchange timestamps from start_ms, capture timestamps (ts_ns) spread over the
 * step. Channel c < 100 goes to 239.111.111.c port 6100, snapshot channel 100 + c to 239.111.111.c port 6101
 * (Deribit's production layout, so ht_nic_filter_deribit keeps them).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/common.h"
#include "hedgetrig/nic.h"

#define HT_MKT_MAX_EXPIRIES 8
#define HT_MKT_MAX_STRIKES_PER_SIDE 16
#define HT_MKT_MAX_LEVELS 32

typedef struct ht_mkt_config {
    uint64_t seed;               /* the random stream (same seed, same packets); default 1 */
    uint64_t start_ms;           /* exchange time of step 0, UTC ms; default 2024-01-05 08:00:00 (a Friday) */
    uint32_t step_ms;            /* exchange time between steps, 1..3600000 (default 1000: Deribit's index cadence) */
    uint64_t steps;              /* steps to publish; 0 = no end (default 3600) */
    double spot_usd;             /* index at step 0, > 0 (default 44000) */
    double vol;                  /* annual volatility of the index's diffusion, >= 0 (default 0.6) */
    double jumps_per_day;        /* Merton jump intensity, >= 0 (default 2) */
    double jump_stdev;           /* standard deviation of a jump's log size, >= 0 (default 0.004) */
    double atm_iv;               /* ATM implied vol at step 0, 0.05..5 (default 0.55) */
    double iv_reversion;         /* mean reversion of the ATM vol to atm_iv, per year, >= 0 (default 200) */
    double iv_vol_of_vol;        /* volatility of the ATM vol (absolute, per sqrt year), >= 0 (default 0.8) */
    double skew;                 /* iv slope in ln(K/F) (default -0.1) */
    double smile;                /* iv curvature in ln(K/F)^2, >= 0 (default 1.5) */
    double perp_premium;         /* perpetual mark / index - 1, |x| < 0.05 (default 0.0002) */
    double future_carry;         /* annual carry of the dated future, |x| < 1 (default 0.08) */
    unsigned n_expiries;         /* option expiries, 0..HT_MKT_MAX_EXPIRIES (default 3) */
    uint32_t expiry_days[HT_MKT_MAX_EXPIRIES]; /* days after start_ms, each > 0, increasing (default 1, 7, 21);
                                                  options expire at 08:00 UTC like Deribit's */
    uint32_t future_days;        /* the dated future's expiry, days after start (0: none; default 84) */
    unsigned strikes_per_side;   /* strikes on each side of the one nearest the spot, 0..16 (default 4) */
    double strike_step_usd;      /* > 0 (default 1000) */
    unsigned option_ticker_every; /* every option gets a ticker every N steps, >= 1 (default 5) */
    unsigned future_every;       /* the perpetual's and the future's tickers and books every N steps, >= 1
                                    (default 1; large values leave a stream of index ticks, for throughput) */
    unsigned snapshot_every;     /* a snapshot cycle every N steps (0: only at step 0; default 300) */
    unsigned book_levels;        /* perpetual and future levels per side, 1..HT_MKT_MAX_LEVELS (default 10) */
    double level_amount_usd;     /* amount of the best level (USD); level i holds (1 + i/2) times it (default 20000) */
    double level_step_usd;       /* price distance between levels (default 2.5) */
    double half_spread_usd;      /* best bid/ask distance from the perpetual's mark (default 0.25) */
    double trade_prob;           /* probability of a perpetual trade per step, 0..1 (default 0.3) */
    double loss_prob;            /* probability a packet is dropped (a sequence gap), 0..0.5 (default 0); its own
                                    random stream (from seed), so it never changes the market's path */
    uint32_t mtu_bytes;          /* largest UDP payload, 256..65000 (default 1400) */
    /* A crash on top of the random path (off while crash_fall is 0, the default; the random stream is the same):
     * from crash_start_s after step 0, over crash_duration_s, the index falls by crash_fall (a fraction, 0..0.9)
     * at a constant log rate, and the ATM vol rises by crash_iv_rise (absolute, 0..2) linearly, its mean reversion
     * level raised with it (the vol stays up after the crash). */
    double crash_start_s, crash_duration_s, crash_fall, crash_iv_rise;
} ht_mkt_config;

/* Fills cfg with the defaults above. */
void ht_mkt_config_default(ht_mkt_config *cfg);

/* Checks every field; returns 0, or -1 with err naming the field and its allowed range. */
int ht_mkt_config_check(const ht_mkt_config *cfg, ht_error *err);

/* Sets one field from text, by its name in this struct ("vol", "steps", "expiry_days" as a comma-separated
 * list, ...); the config file's [market] section and the command lines use it. Returns true when set; false
 * with *known false for an unknown key, or *known true and *expected describing the value wanted. Ranges are
 * checked later by ht_mkt_config_check. */
bool ht_mkt_config_set(ht_mkt_config *cfg, const char *key, const char *value, bool *known, const char **expected);

/* The keys ht_mkt_config_set knows, NULL-terminated. */
extern const char *const ht_mkt_config_keys[];

typedef struct ht_mkt ht_mkt;

/* Builds the instrument universe and the first step. Returns NULL with err on a bad config or no memory. */
ht_mkt *ht_mkt_create(const ht_mkt_config *cfg, ht_error *err);

/* Frees everything (NULL is a no-op). */
void ht_mkt_destroy(ht_mkt *m);

/* The next packet: payload and len (valid until the next call), ts_ns (capture time, ns since the epoch),
 * dst_addr/dst_port, src (10.0.0.1:5000), frame (1-based count of the packets returned).
 * Returns 1, or 0 when the configured steps are done. Allocates nothing. */
int ht_mkt_next(ht_mkt *m, ht_nic_packet *out);

/* Writes the remaining packets (at most max_packets; 0 = all, which needs steps > 0) to a pcap file as
 * Ethernet/IPv4/UDP frames with nanosecond timestamps. Returns the number written, or -1 with err. */
long ht_mkt_write_pcap(ht_mkt *m, const char *path, uint64_t max_packets, ht_error *err);

/* ---- State (what the last packet returned reflects) ------------------------------------------------------ */

/* One instrument of the universe. */
typedef struct ht_mkt_instrument {
    uint32_t id;
    char name[40];       /* "BTC-PERPETUAL", "BTC-29MAR24", "BTC-12JAN24-44000-C" */
    uint8_t kind;        /* ht_sbe_kind */
    uint8_t option_type; /* ht_sbe_option_type */
    double strike_usd;   /* options; NaN otherwise */
    uint64_t expiry_ms;  /* UTC ms (perpetual: year 3000) */
    double mark;         /* latest mark published (options in BTC, futures in USD); NaN before the first */
    double iv;           /* options: the vol the mark was priced at; NaN otherwise */
} ht_mkt_instrument;

size_t ht_mkt_instrument_count(const ht_mkt *m);
const ht_mkt_instrument *ht_mkt_instrument_at(const ht_mkt *m, size_t i);
/* By name; NULL when unknown. */
const ht_mkt_instrument *ht_mkt_instrument_find(const ht_mkt *m, const char *name);

/* The index and ATM vol of the step being published, its exchange time, and the step number. */
double ht_mkt_spot(const ht_mkt *m);
double ht_mkt_atm_iv(const ht_mkt *m);
uint64_t ht_mkt_now_ms(const ht_mkt *m);
uint64_t ht_mkt_step(const ht_mkt *m);

/* Counters: packets published and dropped, messages by template (index id - 1000). */
typedef struct ht_mkt_stats {
    uint64_t packets, dropped, bytes, messages;
    uint64_t by_template[11];
    uint64_t jumps;
} ht_mkt_stats;
const ht_mkt_stats *ht_mkt_stats_get(const ht_mkt *m);

/* The implied vol the surface gives a strike at forward f (what the marks are priced at, for tests). */
double ht_mkt_surface_iv(const ht_mkt *m, double strike_usd, double forward_usd);

#endif
