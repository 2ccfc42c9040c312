/* SPDX-License-Identifier: MIT */
/* The end-to-end engine that replay, demo, run and bench share: packets -> feed -> pipeline -> optimizer ->
 * venue (hedgetrig/venue.h), with the greeks refresh on the slow path and fills back into the hedge inventory.
 * The app wires in the venue (the FIX gateway, to a real venue or to the exchange simulator it starts
 * in-process) and the packet source (an ht_nic, or the market simulator): hedgetrig/engine_setup.h. */
#ifndef HEDGETRIG_ENGINE_H
#define HEDGETRIG_ENGINE_H

/*
 * Two halves that talk only by messages (docs/deployment.md draws them):
 *
 *   fast half (the hot core): packet -> ht_feed -> index tick of a book's reference index -> ht_pipe push and
 *       poll; posts what the slow half needs (index and ticker updates, instrument records, the books of the
 *       hedge instruments, and each breach with its timestamps and the hedge instruments' order books);
 *       applies the slow half's pipeline commands (table, band, inventory, vol move) between packets.
 *   slow half: the book file, ht_greeks (IVs, greeks, refresh policy), ht_opt (decisions), the venue (orders,
 *       fills, kill switch: hedgetrig/venue.h), the statistics, the event log and the status output.
 *
 * Replay (threads = 0): both halves run in the caller's thread and every message is handled at once, in
 * order; each decision's orders are resolved (filled, cancelled or rejected) before the next packet, and
 * every clock the decisions use (rate limits, timers, refresh intervals, the venue's risk windows) is the
 * exchange time carried by the packets. The same packets therefore give the same breaches, decisions,
 * orders and fills, whatever the machine's speed and whichever pipeline backend runs.
 * Live (threads = 1): the fast half runs in the caller's thread, the slow half on a thread of its own;
 * messages cross in two lock-free single-producer single-consumer rings; nothing on the fast half blocks.
 *
 * Start-up: the book is loaded once the feed has announced every instrument it names (instrument records,
 * 1000/1010), and hedging starts (the engine is "armed") once every position in it has usable greeks (its
 * own IV, or a fallback vol: hedgetrig/greeks.h) and its underlying a reference index. After arm_timeout_ms
 * of exchange time an underlying without an index is left inactive, but a position without usable greeks
 * still holds hedging back unless [engine] allow_unpriced names it (it is then left out and reported).
 *
 * Trust: a breach on an index price the feed does not trust, or any decision while one of the underlying's
 * hedge instruments has a ticker or book the feed does not trust (a sequence gap since its last full update),
 * sends nothing: it is counted (decisions_suppressed), logged ("suppressed"), and the underlying decides
 * again once the data is trusted. The fast half only tests flags (docs/deployment.md, "Trust").
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hedgetrig/common.h"
#include "hedgetrig/gateway.h"
#include "hedgetrig/greeks.h"
#include "hedgetrig/margin.h"
#include "hedgetrig/nic.h"
#include "hedgetrig/optimizer.h"
#include "hedgetrig/pipe.h"
#include "hedgetrig/profile.h"
#include "hedgetrig/venue.h"

#define HT_ENGINE_PATH_MAX 256
#define HT_ENGINE_MAX_VENUES 4
#define HT_ENGINE_MAX_ALLOW_UNPRICED 32

/* Where the packets come from (the app wires the source in: the engine runs an ht_nic or a source function). */
typedef enum ht_engine_source_kind {
    HT_ENGINE_SOURCE_NIC = 0, /* an ht_nic: pcap file, DPDK port or UDP socket ([source] section) */
    HT_ENGINE_SOURCE_MARKET,  /* the market simulator in-process ([market] section) */
} ht_engine_source_kind;

/* Where the orders go (the app makes the venue and attaches it: ht_engine_attach_venue). */
typedef enum ht_engine_venue_kind {
    HT_ENGINE_VENUE_SIM = 0, /* the exchange simulator in-process on loopback, its books driven by the feed */
    HT_ENGINE_VENUE_FIX,     /* a FIX 4.4 acceptor at [gateway] host:port (a real venue, or exchange-sim) */
} ht_engine_venue_kind;

/* What the engine does when the venue's positions differ from its book at a snapshot ([book] reconcile). */
typedef enum ht_engine_reconcile {
    HT_ENGINE_RECONCILE_ADOPT = 0, /* the venue's quantity becomes the book's (default) */
    HT_ENGINE_RECONCILE_HALT,      /* no more orders: the engine halts with the difference as its reason */
} ht_engine_reconcile;

/* What the engine does after a liquidation or an unexplained change of a position ([book] on_liquidation). */
typedef enum ht_engine_on_liquidation {
    HT_ENGINE_LIQUIDATION_HEDGE = 0, /* keep hedging on the new book (default) */
    HT_ENGINE_LIQUIDATION_HALT,      /* no more orders */
} ht_engine_on_liquidation;

/* Who changed a position (the live book's attribution). */
typedef enum ht_engine_change_source {
    HT_ENGINE_CHANGE_HEDGE = 0,    /* a fill of one of our hedge orders */
    HT_ENGINE_CHANGE_OTHER,        /* a trade of another session of the account */
    HT_ENGINE_CHANGE_LIQUIDATION,  /* the venue's liquidation engine */
    HT_ENGINE_CHANGE_SETTLEMENT,   /* settlement or delivery at expiry */
    HT_ENGINE_CHANGE_UNEXPLAINED,  /* a position update nothing the engine saw explains (adopted, alerted) */
    HT_ENGINE_CHANGE_SOURCES
} ht_engine_change_source;

/* "hedge", "other_session", "liquidation", "settlement", "unexplained" ("?" for anything else). */
const char *ht_engine_change_source_name(ht_engine_change_source src);

/* The defaults of ht_engine_config_default that the command line's help repeats. */
#define HT_ENGINE_DEFAULT_STRATEGY "fixed:0.25"
#define HT_ENGINE_DEFAULT_MIN_HALF_WIDTH_COIN 0.01
#define HT_ENGINE_DEFAULT_MIN_HALF_WIDTH_TEXT "0.01"

typedef struct ht_engine_config {
    /* [engine] */
    char book_path[HT_ENGINE_PATH_MAX];  /* the book file (instrument,qty_contracts), required */
    double max_book_qty_contracts;       /* a book line with a larger |quantity| is refused, > 0
                                            (default HT_POSITIONS_DEFAULT_MAX_QTY_CONTRACTS, 1e9) */
    char event_log[HT_ENGINE_PATH_MAX];  /* CSV of breaches, decisions, orders and fills ("" = none) */
    char series_path[HT_ENGINE_PATH_MAX]; /* CSV of the net delta and band per tick, for plots ("" = none) */
    char table_log[HT_ENGINE_PATH_MAX];  /* CSV of the table at every load: each book line's quantity and greeks
                                            ("" = none) */
    uint32_t series_every;               /* write every Nth tick to series_path, >= 1 (default 1) */
    uint32_t arm_timeout_ms;             /* exchange ms after the book loads before hedging starts regardless,
                                            1..86400000 (default 30000) */
    uint32_t order_timeout_ms;           /* wall ms an order may stay unresolved before its underlying is re-armed
                                            without it, 10..600000 (default 2000) */
    bool check;                          /* compare every tick's breach with the net delta in double (default on) */
    bool prearm;                         /* keep each underlying's hedge armed for a breach on either side and fire
                                            it at the breach, deciding after the order is out (default on) */
    bool wire;                           /* wire mode: the pipeline's ingest reads the raw Ethernet frames and makes
                                            the ticks, the feed decoder runs beside it for the slow half (default
                                            off; needs a pcap or dpdk source and the sw or verilator backend) */
    unsigned n_allow_unpriced;           /* positions allowed to have no usable greeks when hedging starts */
    char allow_unpriced[HT_ENGINE_MAX_ALLOW_UNPRICED][48]; /* their instrument names (each must be in the book) */
    /* [pipeline] */
    ht_pipe_backend backend;             /* sw (default), verilator, xrt */
    char xclbin[HT_ENGINE_PATH_MAX];     /* xrt: the xclbin */
    unsigned xrt_device;                 /* xrt: device index */
    double clock_mhz;                    /* the pipeline's clock for cycle counts (verilator), 1..2000 (default 250) */
    uint32_t event_capacity;             /* events the pipeline holds, 0 = its default */
    /* [hedge] */
    char strategy[64];                   /* ht_opt_strategy_parse spec (default "fixed:0.25") */
    double min_half_width_coin;          /* the band is never narrower (default 0.01) */
    double max_half_width_coin;          /* nor wider (0 = no limit; default 0) */
    unsigned n_venues;                   /* hedge instruments, 1..HT_ENGINE_MAX_VENUES (default 1) */
    char venues[HT_ENGINE_MAX_VENUES][48]; /* default "BTC-PERPETUAL" */
    double collar_frac;                  /* IOC limit within reference x (1 +- collar_frac), 0..0.5 (default 0.005) */
    ht_opt_config opt;                   /* cost model and rate limits */
    /* [greeks] */
    ht_greeks_config greeks;
    /* [venue] */
    ht_engine_venue_kind venue;          /* sim (default) or fix ([exchange_sim]: hedgetrig/engine_setup.h) */
    ht_gw_config gw;                     /* [gateway] and [risk] */
    char secrets_path[HT_ENGINE_PATH_MAX]; /* client id and secret for a real venue ("" = environment) */
    bool synthetic_book;                 /* the hedge instruments' books are a ladder around their mark instead of
                                            the feed's (for captures whose books are too thin; default off) */
    unsigned synthetic_levels;           /* levels a side, 1..32 (default 10) */
    double synthetic_level_amount;       /* venue units per level (default 100000: USD for inverse contracts) */
    double synthetic_half_spread_bps;    /* best bid/ask distance from the mark (default 1) */
    double synthetic_step_bps;           /* distance between levels (default 1) */
    /* [source] */
    ht_engine_source_kind source;
    ht_nic_config nic;                   /* kind, filter, socket and DPDK settings; path points at nic_path */
    char nic_path[HT_ENGINE_PATH_MAX];
    char eal_args[1024];                 /* ([market], for source = sim: hedgetrig/engine_setup.h) */
    /* [threads] */
    bool threads;                        /* live: the slow half on its own thread (default off) */
    int hot_cpu;                         /* CPU of the fast half (-1: not pinned; default -1) */
    int slow_cpu;                        /* CPU of the slow half (-1: not pinned) */
    uint32_t ring_bytes;                 /* each ring's size, a power of two 2^16..2^30 (default 2^22) */
    uint32_t slow_idle_us;               /* the slow half sleeps this long when idle (0: spins; default 0) */
    /* [status] */
    uint32_t status_interval_s;          /* a status line on stderr every N s of wall time (0: none) */
    char counters_path[HT_ENGINE_PATH_MAX]; /* counters rewritten there every status interval ("" = none) */
    char prometheus_path[HT_ENGINE_PATH_MAX]; /* the counters in Prometheus text format, rewritten atomically on the
                                                 status timer and at exit ("" = none) */
    /* [book] */
    ht_engine_reconcile reconcile;       /* a snapshot that differs from the book: adopt (default) or halt */
    ht_engine_on_liquidation on_liquidation; /* after a liquidation or an unexplained change: hedge (default) or
                                                halt */
    /* [margin] (docs/margin.md): the book's margin after every refresh and fill, and the ratio over the equity */
    bool margin_on;                      /* model = off: none (default standard) */
    ht_margin_model margin_model;        /* standard (default) or portfolio */
    double margin_equity_coin;           /* the equity of the book's first underlying in coin when the venue
                                            reports none in that coin (0: none, the default) */
    /* the margin-aware band: the band's half-width times a fraction that falls linearly from 1 at a margin ratio
     * of band_narrow_from to band_min_fraction at band_narrow_to and beyond (band_narrow_to 0: off, the default) */
    double margin_band_narrow_from, margin_band_narrow_to, margin_band_min_fraction;
    /* [margin] prefer_lower_margin sets opt.prefer_lower_margin (hedgetrig/optimizer.h) */
    double margin_flatten_ratio;         /* at this ratio: flatten the net delta, refuse orders that raise it (0:
                                            off) */
    double margin_kill_ratio;            /* at this ratio: the kill switch, open orders cancelled (0: off) */
    char margin_series_path[HT_ENGINE_PATH_MAX]; /* [margin] series: the estimate at every tick, CSV ("": none) */
    bool margin_venue_equity_off;        /* [margin] venue_equity = no: the equity is equity_coin plus the P&L
                                            estimated from the net delta and vega, never the venue's */
    /* Not a config key: when set and non-zero, ht_engine_attach_venue stops waiting for the logon (a signal
     * during startup ends the wait at once instead of after connect_timeout_ms). */
    volatile sig_atomic_t *stop_waiting;
} ht_engine_config;

/* Fills cfg with the defaults above (and those of every stage). */
void ht_engine_config_default(ht_engine_config *cfg);

/* Reads a config file over cfg: [engine], [pipeline], [hedge], [greeks], [venue], [source], [threads],
 * [status], [book], [margin], and the gateway's [gateway] and [risk] (the simulators' [market] and [exchange_sim]:
 * ht_setup_config_load). An unknown key or a bad value is an error naming the file, the line and what was
 * expected. Keys: docs/deployment.md. */
int ht_engine_config_load(ht_engine_config *cfg, const char *path, ht_error *err);

/* The engine's own sections ({NULL} last) and their key reader (an ht_conf_apply_fn over an ht_engine_config),
 * for a loader that reads more sections in the same pass (ht_setup_config_load). */
extern const char *const ht_engine_config_sections[];
bool ht_engine_config_apply(void *cfg, const char *section, const char *key, const char *value, bool *known,
                            const char **expected);

/* Checks the whole configuration; 0 or -1 with err naming the key. */
int ht_engine_config_check(const ht_engine_config *cfg, ht_error *err);

typedef struct ht_engine ht_engine;

/* Creates every stage (feed, pipeline, optimizer, the book file, the outputs). NULL with err on any failure.
 * Nothing runs before a venue is attached. */
ht_engine *ht_engine_create(const ht_engine_config *cfg, ht_error *err);

/* Hands the engine its venue (the engine owns it from here, also when this fails: ht_engine_destroy destroys it)
 * and waits for the venue's logon, up to venue->logon_timeout_ms, polling it through the slow half (its events
 * go to the event log) and giving up early when cfg->stop_waiting is set. 0, or -1 with err. */
int ht_engine_attach_venue(ht_engine *e, ht_venue *venue, ht_error *err);

/* A packet source other than an ht_nic (the app wires the market simulator in through one): writes up to max
 * packets into buf (their payloads stay valid until the next call) and returns how many, HT_NIC_EOF at its end,
 * or -1 with err. */
typedef int (*ht_engine_source_fn)(void *user, ht_nic_packet *buf, int max, ht_error *err);

/* Runs packets from a source until its end or until *stop becomes non-zero (NULL: never), then shuts down
 * cleanly: waits for orders in flight, cancels what is still open, logs out and flushes the journal.
 * Returns 0, or -1 with err (no venue attached, a source error, a pipeline error, a lost venue). */
int ht_engine_run_nic(ht_engine *e, ht_nic *nic, volatile sig_atomic_t *stop, ht_error *err);
int ht_engine_run_source(ht_engine *e, ht_engine_source_fn next, void *user, volatile sig_atomic_t *stop,
                         ht_error *err);

/* Processes one packet (replay only: threads off; a venue attached). rx_tsc: its receive TSC; ts_ns its capture
 * time. */
int ht_engine_on_packet(ht_engine *e, const uint8_t *payload, size_t len, uint64_t rx_tsc, uint64_t ts_ns);

/* Finishes a run driven by ht_engine_on_packet: the same clean shutdown as the run functions. */
int ht_engine_finish(ht_engine *e, ht_error *err);

/* Net-delta statistics of one path (hedged, or the book with no hedge traded). */
typedef struct ht_engine_delta_stats {
    double max_abs_coin;      /* largest |net delta| at any tick (before that tick's hedge) */
    double rms_coin;          /* time-weighted RMS of the net delta held between ticks */
    double time_outside_s;    /* exchange seconds the held net delta spent outside the band in force */
    double time_total_s;      /* exchange seconds covered */
} ht_engine_delta_stats;

/* What a run did. */
/* Why a breach took the full decision instead of its armed hedge (ht_engine_report.armed_fallback_by_reason). */
typedef enum ht_engine_arm_fallback {
    HT_ENGINE_ARM_FALLBACK_NOT_ARMED = 0, /* none armed: an input changed since, the decision at the edge sends
                                             nothing, or it is not one the engine sizes alone (docs/deployment.md) */
    HT_ENGINE_ARM_FALLBACK_QUOTES,        /* the hedge instrument's book at the breach is not the one it was armed on
                                             (a level, or a mark that moves the collar across a level) */
    HT_ENGINE_ARM_FALLBACK_BEYOND,        /* the breach lies further beyond the band than the armed limit can take */
    HT_ENGINE_ARM_FALLBACK_RATE,          /* the optimizer's rate limits hold the hedge back now */
    HT_ENGINE_ARM_FALLBACK_REFUSED,       /* the venue's final gate refused it */
    HT_ENGINE_ARM_FALLBACK_SPOT,          /* the spot moved too far since it was armed */
    HT_ENGINE_ARM_FALLBACK_EDGE,          /* the breach lies too near a point where the decision changes (the rule's
                                             edge at the breach's spot, the minimum trade, a rounding step of the
                                             size): only the decision can say which side it falls */
} ht_engine_arm_fallback;

/* The name of a fallback reason ("not_armed", ...). */
const char *ht_engine_arm_fallback_name(ht_engine_arm_fallback r);

/* The book's margin for one underlying as hedgetrig computes it ([margin], docs/margin.md), in its coin (the USDC
 * side converted at the index). */
typedef struct ht_engine_margin {
    char base[9];                 /* "BTC" */
    double initial_coin, maintenance_coin;
    double equity_coin;           /* the equity the ratio is over: the venue's in this coin, else [margin]
                                     equity_coin (first underlying); NaN when neither */
    double ratio;                 /* maintenance_coin / equity_coin; NaN without an equity */
    double venue_difference_coin; /* maintenance_coin minus the venue's maintenance margin when the venue reports
                                     in this coin; NaN otherwise */
    uint64_t positions, excluded; /* margined, and left out (no usable price at the latest recompute) */
    /* Between computations, per tick (docs/margin.md, "Between refreshes"): the maintenance margin moved by its
     * slope and curvature in the spot found at the latest computation, the equity moved by the P&L the net delta
     * made since it was known, their ratio, and where maintenance would reach equity: the relative spot moves up
     * (> 0) and down (< 0) and the parallel vol rise, from the net delta and gamma now (NaN: none found) */
    double live_maintenance_coin, live_equity_coin, live_ratio;
    double live_venue_difference_coin; /* live_maintenance_coin minus the venue's latest maintenance margin */
    double liquidation_spot_up, liquidation_spot_down, liquidation_vol_up;
    double live_ratio_max;        /* the highest live_ratio of the run */
    double band_fraction;         /* the margin-aware band's fraction now (1: not narrowed) */
    uint64_t live_updates;        /* ticks that moved the estimate */
} ht_engine_margin;

typedef struct ht_engine_report {
    uint64_t packets, messages, malformed, gaps;
    uint64_t ticks;            /* index ticks pushed into the pipeline while armed (as the slow half saw them) */
    uint64_t pipeline_ticks;   /* ticks the fast half pushed (live: equal to ticks unless messages were lost) */
    uint64_t messages_dropped; /* live: fast-to-slow messages dropped because the ring was full (never breaches) */
    uint64_t breaches;         /* pipeline events */
    uint64_t decisions;        /* optimizer decisions (breaches, timers, refreshes) */
    uint64_t decisions_by_reason[8]; /* ht_opt_reason */
    uint64_t orders;           /* orders sent */
    uint64_t orders_refused;   /* refused by the venue's own checks (risk rule, not logged on) */
    uint64_t orders_rejected;  /* rejected by the venue */
    uint64_t fills;            /* executions */
    double filled_contracts;   /* contracts filled, as the venue reports them (docs/units.md) */
    double traded_coin;        /* sum of |delta| filled, coins */
    double fees_usd;           /* taker fees at the instrument's rate */
    double slippage_usd;       /* fill price against the reference (mark) at the decision */
    double cost_usd;           /* fees + slippage */
    double expected_cost_usd;  /* the optimizer's estimate for the same orders */
    uint64_t refreshes;        /* greeks recomputes loaded into the pipeline */
    uint64_t check_mismatches; /* ticks where the pipeline and the double evaluation disagreed */
    uint64_t positions_in_table, positions_excluded; /* at the latest greeks recompute */
    uint64_t positions_fallback;   /* of those in the table, priced at a fallback vol (latest recompute) */
    uint64_t fallback_entries;     /* times a position went onto a fallback vol or out of the table (logged) */
    uint64_t decisions_suppressed; /* decisions that sent nothing because the data was not trusted */
    /* Pre-armed hedges ([engine] prearm): arms made, breaches answered by firing one, breaches that took the full
     * decision instead (by reason: HT_ENGINE_ARM_FALLBACK_*), fired orders the decision taken right after differed
     * from (venue, side, contracts or limit), and fired orders whose size was adjusted by the slope. */
    uint64_t arms, armed_fired, armed_fallbacks, armed_mismatches, armed_adjusted;
    uint64_t armed_fallback_by_reason[7];
    uint64_t suppressed_index;     /* of which: the breach's index price was not trusted */
    uint64_t suppressed_venue;     /* of which: a hedge instrument's ticker or book was not trusted */
    bool armed;
    bool killed;
    uint64_t arm_time_ms, first_tick_ms, last_tick_ms;
    double final_spot, final_net_delta, band_lo, band_hi;
    double hedge_position_contracts; /* the first venue's position at the end, contracts */
    ht_engine_delta_stats hedged, unhedged;
    /* The live book (docs/deployment.md, "The live book"). */
    uint64_t position_changes[HT_ENGINE_CHANGE_SOURCES]; /* changes of a position, by who made them */
    uint64_t reconciliation_differences; /* instruments whose quantity differed from the venue's at a snapshot */
    uint64_t snapshots;                  /* position snapshots received (logon and every reconnect) */
    uint64_t liquidation_alerts, unexplained_alerts; /* alerts raised */
    uint64_t unhedged_positions;         /* positions held now that the engine cannot hedge (unknown instrument or
                                            underlying) */
    uint64_t new_instruments;            /* instruments that joined the book while it ran (a greek row each) */
    uint64_t hedges_held_for_rate;       /* hedges refused for the venue's rate limits and held */
    uint64_t hedges_merged;              /* held hedges merged into a later decision on the then-current delta */
    bool halted;                         /* no more orders: [book] reconcile or on_liquidation said halt */
    bool have_account;                   /* account figures arrived */
    ht_venue_account account;            /* the latest */
    uint64_t margin_computes;            /* the book's margin computed (after refreshes and fills) */
    uint64_t margin_flattens;            /* [margin] flatten_ratio reached (each crossing from below) */
    uint64_t margin_refused;             /* orders refused at or above flatten_ratio: they would have raised it */
    bool margin_killed;                  /* [margin] kill_ratio reached: the kill switch engaged */
    unsigned margin_underlyings;         /* entries of margin[] in use (0 before the first computation) */
    ht_engine_margin margin[HT_GREEKS_MAX_UNDERLYINGS];
    double wall_s;             /* wall time of the run */
    double ticks_per_s;        /* ticks over the time spent processing packets (replay: both halves) */
    double fast_ticks_per_s;   /* ticks over the fast half's own share of it (replay: the slow half's time taken
                                  out; live: the same as ticks_per_s) */
} ht_engine_report;

/* One position of the live book: the engine's quantity and the venue's latest report. */
typedef struct ht_engine_position {
    char instrument[HT_VENUE_NAME_BYTES];
    double contracts;        /* the engine's book, signed */
    double venue_contracts;  /* the venue's latest report (0 when it never reported it) */
    bool in_book;            /* in the engine's book (else: only the venue reported it) */
    bool venue_reported;     /* the venue reported it at least once */
    bool hedged;             /* its delta is in the hedge (false: unknown instrument or underlying) */
} ht_engine_position;

/* Writes up to max positions (the book's, then those only the venue reported) and returns how many there are.
 * Same thread rules as ht_engine_get_report. */
size_t ht_engine_positions(const ht_engine *e, ht_engine_position *out, size_t max);

/* The net delta the engine uses now for underlying u (coin): the pipeline's formula in double at the latest
 * index, inventory included; NaN before hedging starts. Replay only (the caller's thread runs the engine). */
double ht_engine_net_delta(const ht_engine *e, unsigned u);

/* Why the engine halted ("" when it did not). */
const char *ht_engine_halt_reason(const ht_engine *e);

/* Fills *out (valid after a run or at any time from the thread that runs the engine). */
void ht_engine_get_report(const ht_engine *e, ht_engine_report *out);

/* The latency profile: the fast half's spans for every tick, the slow half's for each order. */
const ht_profile *ht_engine_profile(const ht_engine *e);

/* Prints the summary and the latency table (text), or one JSON object with at least ticks, breaches, orders,
 * fills, cost, max_abs_net_delta, rms_net_delta and latency (per-span percentiles in ns). */
void ht_engine_print_report(const ht_engine *e, FILE *out);
void ht_engine_write_json(const ht_engine *e, FILE *out);

/* The last error the engine hit (empty when none). */
const char *ht_engine_last_error(const ht_engine *e);

/* Stops the run from a signal handler or another thread (the same as setting *stop). */
void ht_engine_request_stop(ht_engine *e);

void ht_engine_destroy(ht_engine *e);

#endif
