/* SPDX-License-Identifier: MIT */
/* The market simulator's state, shared by its files: market.c (universe, path, steps), market_packets.c (the SBE
 * messages and packets of a step) and market_config.c (defaults, checks, keys from text). */
#ifndef HEDGETRIG_SIM_MARKET_PRIV_H
#define HEDGETRIG_SIM_MARKET_PRIV_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/market_sim.h"
#include "hedgetrig/pipe_synth.h"
#include "hedgetrig/sbe.h"

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

/* Rounds x down / up to a multiple of tick. */
static inline double floor_tick(double x, double tick)
{
    return floor(x / tick + 1e-9) * tick;
}
static inline double ceil_tick(double x, double tick)
{
    return ceil(x / tick - 1e-9) * tick;
}

/* Rounds a price to the 1e-8 grid the SBE doubles carry without noise. */
static inline double clean(double x)
{
    return round(x * 1e8) / 1e8;
}

/* ---- market_packets.c: what a step publishes ---- */

/* Closes a channel's open packet and queues it (or drops it, with loss_prob: its sequence number is spent). */
void mkt_flush_channel(ht_mkt *m, channel_state *c);
/* Publishes the index price on channel 0 and sends its packet at once, alone, as Deribit's channel 0 does. */
void mkt_publish_index(ht_mkt *m);
/* The new ladder of an instrument at the current market (options: one level a side from the mark). */
void mkt_target_ladder(const ht_mkt *m, const inst_state *s, ht_sbe_level *bids, unsigned *nb, ht_sbe_level *asks,
                       unsigned *na);
/* Publishes a 1001 that moves an instrument's book to its target ladder. */
void mkt_publish_book_change(ht_mkt *m, inst_state *s);
/* Publishes an instrument's ticker on its incremental channel. */
void mkt_publish_ticker(ht_mkt *m, inst_state *s);
/* Publishes a snapshot cycle on both snapshot channels. */
void mkt_publish_snapshot_cycle(ht_mkt *m);
/* Publishes one trade on the perpetual at its best bid or ask. */
void mkt_publish_trade(ht_mkt *m, inst_state *s);

#endif
