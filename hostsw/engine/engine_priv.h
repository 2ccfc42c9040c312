/* SPDX-License-Identifier: MIT */
/* The engine's insides: the messages between its fast and slow halves, and the state of each half. */
#ifndef HEDGETRIG_ENGINE_PRIV_H
#define HEDGETRIG_ENGINE_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hedgetrig/engine.h"
#include "hedgetrig/feed.h"
#include "hedgetrig/nic.h"
#include "hedgetrig/pipe.h"
#include "hedgetrig/positions.h"
#include "hedgetrig/spsc.h"
#include "hedgetrig/units.h"
#include "hedgetrig/venue.h"

#define ENGINE_MAX_INDEX_SLOTS 128 /* the feed's index table (ht_feed_config.max_indices) */
#define ENGINE_BOOK_LEVELS 32      /* levels of a hedge instrument's book passed to the slow half */
#define ENGINE_MAX_PENDING 64      /* orders in flight */
#define ENGINE_MAX_UNDERLYINGS HT_PIPE_UNDERLYINGS
#define ENGINE_NOT_CHECKED (-2)    /* index slot not yet compared with the reference names */

/* ---- Fast half -> slow half ------------------------------------------------------------------------------- */

typedef enum msg_type {
    MSG_INSTRUMENT = 1, /* an instrument record (msg_instrument) */
    MSG_INDEX,          /* an index price; a pipeline tick when underlying >= 0 (msg_index) */
    MSG_TICKER,         /* a ticker's mark (msg_ticker) */
    MSG_VENUE_BOOK,     /* a hedge instrument's book changed (msg_venue_book) */
    MSG_BREACH,         /* a pipeline event (msg_breach) */
    MSG_GAP,            /* the feed lost packets on a channel (msg_gap) */
    MSG_LOAD_DONE,      /* a table load finished (msg_load_done) */
    MSG_ERROR,          /* the fast half failed (msg_error) */
    MSG_TRUST,          /* which hedge instruments the feed trusts changed (msg_trust) */
    MSG_WIRE_REARM,     /* wire mode: the ingest went stale on a gap the feed did not see (msg_wire_rearm) */
    MSG_END,            /* the source ended: the slow half shuts down */
} msg_type;

typedef struct msg_instrument {
    uint32_t type;
    ht_instrument in;
} msg_instrument;

typedef struct msg_index {
    uint32_t type;
    int32_t underlying; /* pipeline underlying of a tick, -1 for another index */
    char name[17];
    bool trusted;
    bool breached;      /* the tick raised a pipeline event (a msg_breach follows) */
    bool rejected;      /* the pipeline refused the tick (price out of range) */
    double price;
    uint64_t ts_ms;     /* exchange time */
    uint64_t seq;
} msg_index;

typedef struct msg_ticker {
    uint32_t type;
    uint32_t id;
    bool trusted;
    double mark, index;
    uint64_t ts_ms;
} msg_ticker;

typedef struct msg_venue_book {
    uint32_t type;
    uint32_t id;
    uint64_t ts_ms;
    double mark;
    uint32_t n_bids, n_asks;
    ht_book_level bids[ENGINE_BOOK_LEVELS], asks[ENGINE_BOOK_LEVELS];
} msg_venue_book;

/* Untrusted data, as bits: the index a tick came with, and hedge instrument v (bit 1 + v). */
#define UNTRUSTED_INDEX 1u
#define UNTRUSTED_VENUE(v) (2u << (v))

typedef struct msg_breach {
    uint32_t type;
    uint32_t untrusted;    /* UNTRUSTED_* bits when the tick arrived (a flag test per venue on the fast half) */
    ht_pipe_event ev;
    ht_stamps st;          /* rx, decoded, pipe_in, event_out */
    uint64_t model_shift_tsc; /* verilator: simulation time to take off the later stamps */
    uint64_t ts_ms;
    uint16_t channel;      /* the market-data frame's channel (its sequence number is ev.seq) */
    unsigned n_venues;
    ht_opt_quote quotes[HT_ENGINE_MAX_VENUES]; /* the hedge instruments' books when the tick arrived (the message
                                                  is cut after the n_venues used) */
} msg_breach;

typedef struct msg_gap {
    uint32_t type;
    uint16_t channel;
    uint32_t missed;
    uint64_t ts_ms;
} msg_gap;

typedef struct msg_wire_rearm {
    uint32_t type;
    uint16_t channel;
} msg_wire_rearm;

typedef struct msg_trust {
    uint32_t type;
    uint32_t venues_untrusted; /* UNTRUSTED_VENUE(v) bits: v's ticker or book is not trusted now */
} msg_trust;

typedef struct msg_load_done {
    uint32_t type;
    uint32_t buffer;
    bool ok;
} msg_load_done;

typedef struct msg_error {
    uint32_t type;
    char text[256];
} msg_error;

/* ---- Slow half -> fast half ------------------------------------------------------------------------------- */

typedef enum cmd_type {
    CMD_SET_REF = 1,   /* underlying u ticks on index `name` */
    CMD_SET_VENUES,    /* the hedge instruments whose books the fast half forwards and quotes in breaches */
    CMD_LOAD,          /* load table buffer `buffer` (rows entries), S0 and inventories */
    CMD_SET_BAND,      /* u's band [a, b] (re-arms) */
    CMD_SET_INVENTORY, /* u's inventory a (re-arms) */
    CMD_SET_VOL_MOVE,  /* u's vol move a */
} cmd_type;

typedef struct engine_cmd {
    uint32_t type;
    uint32_t u;
    double a, b;
    char name[48];
    uint32_t ids[HT_ENGINE_MAX_VENUES];
    uint32_t n;
    uint32_t buffer, rows;
    unsigned n_underlyings;
    double s0[ENGINE_MAX_UNDERLYINGS];
    double h[ENGINE_MAX_UNDERLYINGS];
} engine_cmd;

/* ---- The fast half ---------------------------------------------------------------------------------------- */

/* ---- Wire mode ([engine] wire, fast_wire.c): the pipeline's ingest reads the frames and makes the ticks ----- */

#define ENGINE_WIRE_TICKS 64 /* ticks of one frame matched to the feed's index messages (more are counted, lost) */
#define ENGINE_WIRE_KEYS 64  /* (group, port, channel) keys of the source remembered as carrying an index or not */

/* A tick the ingest handed to the pipeline (its wire tap), and the cycle it entered. */
typedef struct wire_tick {
    ht_fx_tick tick;
    uint64_t cycle;
} wire_tick;

/* What the engine counts about the ingest beside its own counters (the JSON's "wire" object). */
typedef struct wire_stats {
    uint64_t frames_pushed;   /* frames handed to the ingest (with or without a datagram the feed saw) */
    uint64_t rearms;          /* channels re-armed (after the ingest turned them stale, or on a gap of the feed's) */
    uint64_t rearms_feed_gap; /* of which: the feed saw a gap on the same channel in the same packet */
    uint64_t rearms_unseen;   /* of which: a gap the feed did not see (the ingest dropped a frame the feed took) */
    uint64_t rearms_feed_only; /* of which: a gap or reset of the feed's the ingest did not take for one (it drops a
                                  sequence that went back as old): re-armed to follow the feed */
    uint64_t reconfigures;    /* filter/channel/name tables written (a new index channel, a new name) */
    uint64_t untracked;       /* index-carrying (group, port, channel) keys with no room left in the tables */
    uint64_t missing_ticks;   /* index messages of a mapped underlying the feed decoded but the ingest made no tick
                                 for (a dropped frame, a price out of range) */
    uint64_t unmatched_ticks; /* ingest ticks no decoded index message took (the feed refused the packet) */
    uint64_t lost_ticks;      /* ticks (or their events) beyond ENGINE_WIRE_TICKS in one frame */
} wire_stats;

typedef struct wire_state {
    bool on;
    ht_pipe_wire_config cfg;  /* the tables as written (index_name points into names) */
    char names[HT_PIPE_UNDERLYINGS][17];
    unsigned n_filters, n_channels;
    struct {
        uint32_t addr;
        uint16_t port, channel;
        bool index;           /* carried template 1008 when first seen */
    } keys[ENGINE_WIRE_KEYS];
    unsigned n_keys, last_key;
    /* the frame being handled: its ticks (in order), its events, and which have been taken */
    wire_tick ticks[ENGINE_WIRE_TICKS];
    unsigned n_ticks, next_tick;
    ht_pipe_event events[ENGINE_WIRE_TICKS];
    unsigned n_events;
    uint64_t in_tsc, out_tsc, shift_tsc; /* the frame's push, its events out, and the model's time shift */
    uint32_t rearmed_mask;    /* channel entries re-armed for this frame (a feed gap in it then matches) */
    wire_stats st;
} wire_state;

/* The fast half's spans, in TSC ticks: rx->decoded, decoded->pipe_in, pipe, tick->pipe_out. */
#define ENGINE_FAST_SPANS 4

typedef struct fast_half {
    ht_engine *e;
    ht_feed *feed;
    ht_pipe *pipe;
    ht_profile *prof;
    ht_hist *tsc_hist;       /* ENGINE_FAST_SPANS histograms in TSC ticks, recorded per tick */
    bool model_clock;        /* verilator: pipeline time from cycles at the configured clock */
    double ns_per_cycle;
    double tsc_per_ns;
    int8_t index_u[ENGINE_MAX_INDEX_SLOTS]; /* feed index slot -> underlying, -1 none */
    char ref_names[ENGINE_MAX_UNDERLYINGS][17];
    unsigned n_refs;
    uint32_t venue_ids[HT_ENGINE_MAX_VENUES];
    const ht_instrument *venue_in[HT_ENGINE_MAX_VENUES]; /* the feed's records (stable: allocated at create) */
    uint32_t venues_untrusted; /* UNTRUSTED_VENUE bits last posted to the slow half */
    uint64_t max_age_ms;     /* [greeks] max_quote_age_ms: an older index or ticker is not trusted (0: no limit) */
    unsigned n_venues;
    ht_opt_quote venue_quote[HT_ENGINE_MAX_VENUES]; /* each hedge instrument's quote, rebuilt as its book or mark
                                                       changes, so that a breach only copies it */
    uint64_t cur_rx_tsc;     /* the packet being decoded */
    uint64_t ticks, posts_dropped;
    uint64_t busy_tsc;       /* time inside packet processing */
    uint64_t slow_tsc;       /* replay: the part of it spent in the slow half */
    uint64_t packets, malformed;
    wire_state wire;         /* [engine] wire */
} fast_half;

/* ---- The slow half ---------------------------------------------------------------------------------------- */

/* An order sent and not yet resolved. */
typedef struct pending_order {
    bool used;
    uint64_t clordid;
    unsigned u, venue;
    int side;
    double contracts, filled_contracts;
    double ref_px;           /* the venue's mark at the decision (slippage is measured from it) */
    double delta_px;         /* the price the optimizer's coin delta was computed at (ht_opt_order.ref_px) */
    double expected_cost_usd;
    uint64_t sent_wall_ns;
} pending_order;

/* A hedge instrument. */
typedef struct venue_state {
    char name[48];
    uint32_t id;
    bool known;              /* its instrument record arrived */
    ht_contract contract;    /* kind and ContractMultiplier: every quantity converts through it (docs/units.md) */
    double taker_fee;
    size_t book_index;       /* its line in the book */
    unsigned u;              /* its underlying */
    int opt_index;           /* its index in the optimizer's venues of u */
    double position_contracts; /* signed */
    double mark;
    ht_opt_quote quote;      /* its latest book */
} venue_state;

/* The hedge a breach on one side would send, decided and armed ahead of it (slow_armed.c). */
typedef struct armed_hedge {
    bool valid;              /* every order armed, and nothing it was decided from changed since */
    double nd_coin;          /* the net delta the decision assumed (just beyond the edge of the band in force) */
    double spot;             /* the spot it assumed */
    /* the rule's band at the breach's spot, to first order: centre + dcentre (S - spot), half_width + dhalf (S -
     * spot); the decision's target is centre + side x fraction x half_width */
    double centre, dcentre_per_usd, half_width, dhalf_per_usd, fraction;
    double err_coin, err_per_usd; /* the error allowed the band's first-order estimate: err + err_per_usd |S - spot| */
    ht_opt_decision decision; /* its orders (decision.n_orders, 1..HT_ENGINE_MAX_VENUES) and band */
    unsigned venue[HT_ENGINE_MAX_VENUES];        /* each order's slot in slow_half.venues */
    double max_contracts[HT_ENGINE_MAX_VENUES];  /* the most each order's limit can take on the book it was armed on */
    double min_contracts[HT_ENGINE_MAX_VENUES];  /* what the levels before its limit's level hold: a size at or
                                                    below it would get a nearer limit */
    ht_opt_quote quote[HT_ENGINE_MAX_VENUES];    /* each order's hedge book as the decision read it */
    ht_venue_armed va[HT_ENGINE_MAX_VENUES];
} armed_hedge;

/* What a fired armed hedge became (slow_arm_fire). */
typedef struct armed_fire {
    ht_engine_arm_fallback why; /* when it was not fired */
    ht_opt_decision decision;   /* the decision it was armed from, its orders as fired (sizes adjusted when
                                   adjusted) */
    unsigned venue[HT_ENGINE_MAX_VENUES]; /* each order's slot in slow_half.venues */
    ht_venue_send_result res[HT_ENGINE_MAX_VENUES]; /* what became of each (the first went out) */
    bool adjusted;
    uint64_t fire_tsc;          /* when the fire began (the breach's decision stamp) */
} armed_fire;

/* One underlying. */
typedef struct under_state {
    bool active;
    double spot;
    double band_lo, band_hi;
    bool band_set;
    double h_pipe;           /* the inventory the pipeline holds (coins) */
    double vol_move_sent;
    bool muted;              /* the pipeline muted u after a breach; cleared by a band or inventory write */
    bool index_trusted;      /* the feed trusted u's latest index tick */
    bool rate_held;          /* a hedge was refused for the venue's rate limits: decide again once one fits */
    unsigned rate_holds;     /* hedges held since the last decision that went out */
    uint64_t rate_retry_ms;  /* venue without mirrored limits: not before this exchange time */
    bool deferred;           /* a decision sent nothing on untrusted data: decide again once it is trusted */
    unsigned pending;        /* orders of the current decision not yet resolved */
    ht_opt_decision decision; /* the decision whose orders are pending */
    double decision_fills;   /* delta filled by the current decision's orders */
    double fills_in_load;    /* of those, the part a table load took into H already (the book holds them) */
    double decision_nd;      /* the net delta the current decision saw */
    ht_opt_trigger decision_trigger;
    double fills_since_tick; /* delta filled since the last tick (series) */
    double breach_fills;     /* delta filled by this tick's breach decision (replay check) */
    int64_t next_timer_ns;
    /* statistics */
    bool have_held;
    uint64_t last_ts_ms;
    double held, held_unhedged; /* net delta held since the last tick, hedged and not */
    double sum_sq, sum_sq_u, outside_ms, outside_ms_u, total_ms, max_abs, max_abs_u;
    /* the breach being handled (the tick's message follows it) */
    double breach_nd, breach_lo, breach_hi;
    bool breach_armed;
    ht_opt_book opt_book;    /* the optimizer's view of the book, from the latest recompute */
    /* Pre-armed hedges (slow_armed.c), [0] for a breach below the band, [1] above it. */
    bool arm_dirty;          /* an input of the armed hedges changed: arm again before the next breach */
    armed_hedge arm[2];
} under_state;

/* An instrument of the live book (slow_live.c): the venue's reports and what the engine made of them. */
typedef struct live_pos {
    char name[HT_VENUE_NAME_BYTES];
    double venue_contracts;  /* the venue's latest report */
    bool venue_reported;     /* the venue reported it at least once */
    bool in_snapshot;        /* reported by the snapshot being received */
    bool judge_pending;      /* an update waits until our orders on it are resolved */
    bool judge_snapshot;     /* ... and it came with a snapshot (a difference is a reconciliation) */
    double preload_contracts; /* trades received before the book loaded, applied when it loads */
    double fills_since_report; /* our fills since the venue's latest report of it (a report may predate them) */
    double window_fill_contracts; /* our fills since the logon, until its snapshot is complete (the snapshot may
                                     predate them) */
    double unexplained_contracts; /* adopted as unexplained, not yet explained by a trade (a later one may) */
    double reconciled_contracts;  /* adopted at a snapshot, not yet explained by a trade */
    double mark;             /* the venue's mark in its latest report (0: none) */
    bool unhedged;           /* held, but not in the hedge: unhedged_contracts, unhedged_why */
    double unhedged_contracts;
    char unhedged_why[96];
} live_pos;

/* The live book: the venue's positions, the attribution counters and the account (slow_live.c). */
typedef struct live_book {
    live_pos *pos;
    size_t n, cap;
    bool snapshot_open;      /* a snapshot is being received */
    bool have_snapshot;      /* one was complete */
    bool awaiting_snapshot;  /* logged on, its snapshot not complete yet */
    bool dirty;              /* the book changed: recompute and reload once no order is in flight */
    bool halted;
    char halt_reason[256];
    uint64_t gaps, missed;   /* feed gaps the fast half reported, and the packets they missed */
} live_book;

typedef struct slow_half {
    ht_engine *e;
    /* registry mirror (instrument records and their latest tickers) */
    ht_instrument *reg;
    bool *reg_trusted;       /* the feed trusted the latest ticker of reg[i] */
    uint32_t n_reg, cap_reg;
    /* latest index prices */
    struct {
        char name[17];
        double price;
        uint64_t ts_ms;
        bool trusted;
    } idx[ENGINE_MAX_INDEX_SLOTS];
    unsigned n_idx;
    /* the book and the stages */
    char *book_text;
    size_t book_len;
    ht_positions *book;
    ht_greeks *greeks;
    ht_positions *base_book; /* the unhedged baseline: the book as loaded, never traded */
    ht_greeks *base_greeks;
    ht_opt *opt;
    ht_opt_strategy strategy;
    ht_venue *venue;         /* where the orders go (owned: ht_engine_destroy destroys it) */
    venue_state venues[HT_ENGINE_MAX_VENUES];
    unsigned n_venues;
    uint32_t venues_untrusted; /* UNTRUSTED_VENUE bits from the fast half (msg_trust) */
    under_state under[ENGINE_MAX_UNDERLYINGS];
    unsigned n_under;
    pending_order pending[ENGINE_MAX_PENDING];
    /* one thread: the armed hedge the fast half fired (or not) at a breach, until slow_decide takes it */
    struct {
        bool valid, fired;
        unsigned u;
        uint64_t seq;
        armed_fire fire;
    } early;
    uint32_t *pos_flags;     /* per book position: its greeks state at the latest recompute (note_greeks) */
    bool book_loaded, armed, killed;
    uint64_t book_loaded_ms;
    char arm_blocker[320];   /* why hedging has not started yet */
    uint64_t now_ms;         /* exchange clock: the latest time seen */
    uint64_t first_seen_ms;  /* the first exchange time seen */
    uint64_t first_tick_ms, last_tick_ms, arm_time_ms;
    /* table loads */
    ht_pipe_position *load_buf[2];
    size_t load_cap;
    int load_in_flight;      /* buffer awaiting MSG_LOAD_DONE, or -1 */
    unsigned load_next;
    /* outputs */
    FILE *event_log;
    FILE *series;
    FILE *table_log;
    FILE *margin_series;     /* [margin] series */
    uint64_t series_ticks;
    ht_profile *prof;
    ht_engine_report rep;
    ht_margin_position *margin_pos; /* the positions the margin is computed on (slow_margin.c) */
    size_t margin_cap;
    /* per underlying, what the per-tick estimate moves from (slow_margin.c) */
    struct margin_live {
        bool have;               /* a computation gave a maintenance margin */
        double s0;               /* the spot at the computation */
        double mm0, mm_slope, mm_curve; /* maintenance and its first and second derivative in the relative move */
        double mm_per_vol, pnl_per_vol; /* the same and the book's P&L per unit of parallel vol rise */
        double equity_base;      /* the equity when it was last known (the venue's report, or the config's) */
        double pnl_coin;         /* the P&L of the net delta since then, integrated tick by tick */
        double last_spot, last_nd_per_usd; /* the previous tick: spot and net delta / spot */
        double vol_move0, last_vol_move; /* the greeks' vol move (d sigma) at the computation and the last tick */
        bool have_last;
        bool flattening;         /* the ratio is at or above flatten_ratio */
    } mlive[ENGINE_MAX_UNDERLYINGS];
    live_book live;
    unsigned venue_poll_depth; /* > 0 while the venue's events are handled (slow_poll_venue) */
    char last_order_problem[200]; /* why the last order was refused or rejected (a run where all were fails) */
    uint64_t last_status_ns;
} slow_half;

struct ht_engine {
    ht_engine_config cfg;
    fast_half fast;
    slow_half slow;
    ht_spsc *to_slow, *to_fast;
    bool posts_staged;       /* fast half: messages written to to_slow but not yet published */
    _Atomic uint64_t packets_seen; /* the fast half's packet count, published per burst for the status line */
    pthread_t slow_thread;
    atomic_int stop;         /* ht_engine_request_stop */
    atomic_int slow_done;
    bool finished;
    uint64_t replay_poll_ms;      /* replay: the exchange time of the last poll of the venue */
    bool replay_waited_drop;      /* replay: the wait for a dropped venue's reconnect was made (until it is up again) */
    ht_profile *report_prof; /* merged view for the report */
    uint64_t wall_start_ns, wall_end_ns;
    char error[256];
    pthread_mutex_t error_lock;
};

/* Both halves. */
int engine_fast_init(ht_engine *e, ht_error *err);
void engine_fast_destroy(fast_half *f);
void engine_fast_packet(fast_half *f, const uint8_t *payload, size_t len, uint64_t rx_tsc);
void engine_fast_apply(fast_half *f, const engine_cmd *c);
void engine_fast_drain_commands(fast_half *f);

/* Wire mode (fast_wire.c). init: checks the backend takes frames and enables the ingest with empty tables (0 or
 * -1 with err); set_names: the name table from the reference names (after CMD_SET_REF); frame: one frame from
 * the source (with the datagram the feed decodes, or none); take: the ingest's tick for an index message the
 * feed decoded (true, with *got set when it raised an event), or false when the ingest made none. */
int engine_wire_init(fast_half *f, ht_error *err);
void engine_wire_set_names(fast_half *f);
void engine_fast_frame(fast_half *f, const ht_nic_packet *p, uint64_t rx_tsc);
bool engine_wire_take(fast_half *f, const ht_feed_event *ev, int u, ht_pipe_event *pev, bool *got);
/* The feed saw a gap on channel: a re-arm of the same channel for this frame was that gap. */
void engine_wire_gap(fast_half *f, uint16_t channel);
/* The "wire" JSON object (with a trailing comma) and the text report's line, in wire mode only. */
void engine_wire_write_json(fast_half *f, FILE *out);
void engine_wire_print(fast_half *f, FILE *out);

int engine_slow_init(ht_engine *e, ht_error *err);
void engine_slow_destroy(slow_half *s);
void engine_slow_handle(slow_half *s, const void *msg, size_t len);
void engine_slow_poll(slow_half *s);
void engine_slow_shutdown(slow_half *s);
void engine_slow_status(slow_half *s, bool force);
void engine_slow_finish_stats(slow_half *s);

/* The synthetic book of a hedge instrument around its mark (cfg->synthetic_levels a side); returns that count,
 * or 0 without a usable mark. */
unsigned engine_synthetic_ladder(const ht_engine_config *cfg, double mark, double tick, ht_book_level *bids,
                                 ht_book_level *asks);
/* An optimizer quote from book levels (best first; at most HT_OPT_BOOK_LEVELS a side kept). */
void engine_quote_from_levels(const ht_book_level *bids, unsigned nb, const ht_book_level *asks, unsigned na,
                              double mark, ht_opt_quote *q);

/* Fast -> slow: handled at once (replay) or queued (threads). */
void engine_post(ht_engine *e, const void *msg, size_t len);
/* Slow -> fast: applied at once (replay) or queued (threads). */
void engine_command(ht_engine *e, const engine_cmd *c);
/* Records the first error (any thread). */
void engine_fail(ht_engine *e, const char *fmt, ...) HT_PRINTF(2, 3);

#endif
