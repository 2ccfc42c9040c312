/* SPDX-License-Identifier: MIT */
/* Exchange simulator: a FIX 4.4 acceptor that fills IOC limit orders against a pluggable book. */
#ifndef HEDGETRIG_EXCHANGE_SIM_H
#define HEDGETRIG_EXCHANGE_SIM_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hedgetrig/common.h"
#include "hedgetrig/ratelimit.h"
#include "hedgetrig/units.h"

#define HT_XSIM_MAX_LEVELS 32
#define HT_XSIM_MAX_SYMBOLS 128
#define HT_XSIM_MAX_SESSIONS 8     /* counterparties (SenderCompIDs) remembered */
#define HT_XSIM_MAX_CONNECTIONS 64 /* ceiling of max_connections */

typedef struct ht_xsim_config {
    char bind_host[64];        /* address to listen on (default 127.0.0.1) */
    uint16_t port;             /* TCP port; 0 picks a free one (see ht_xsim_port) */
    char comp_id[32];          /* the simulator's CompID (default DERIBITSERVER); clients must target it */
    char client_id[128];       /* when client_secret is set: the expected Username (553) */
    char client_secret[128];   /* when set, the Deribit logon proof (96/554) is verified */
    uint32_t latency_us;       /* delay before each outbound message, 0..10000000 */
    double fee_bps;            /* taker fee on filled notional, reported in Commission (12) in the settlement
                                  currency when the contract is known (ht_xsim_set_contract), >= 0 */
    double max_fill_qty;       /* split each level's fill into executions of at most this (0 = whole level) */
    double default_mid;        /* standalone book: mid price for any symbol (0 = unknown symbols are rejected) */
    double default_spread;     /* standalone book: ask - bid, > 0 */
    double default_level_qty;  /* standalone book: quantity per level, > 0 */
    uint32_t default_levels;   /* standalone book: levels per side, 1..HT_XSIM_MAX_LEVELS */
    char record_path[256];     /* append one CSV line per order received, with its outcome ("" = none) */
    uint32_t logon_timeout_ms; /* a connection without a Logon is closed after this, 100..600000 (default 5000) */
    uint32_t max_connections;  /* connections at once, 1..HT_XSIM_MAX_CONNECTIONS (default 16); more are refused
                                * and logged */
    uint32_t max_bad_messages; /* malformed messages in a row before a peer is closed, 1..1000 (default 10) */
    double equity_coin;        /* the account's starting equity, in coin (default 10; docs/gateway.md "The account") */
    char script_path[256];     /* the account script ht_xsim_create loads ("" = none; ht_xsim_set_script) */
    char book_path[256];       /* a book file the app seeds the account from (hedgetrig/positions.h format; "" = none:
                                  the in-process venue then seeds it from the engine's book). Not read here. */
    ht_rate_config rate;       /* the rate limits enforced (default off; on: a request without credit gets
                                  too_many_requests 10028 and the session ends) */
    FILE *log;                 /* session log (NULL = none) */
} ht_xsim_config;

/* One price level. */
typedef struct ht_xsim_level {
    double price;
    double qty; /* contracts */
} ht_xsim_level;

typedef struct ht_xsim_stats {
    uint64_t orders;          /* NewOrderSingle messages processed */
    uint64_t executions;      /* trade ExecutionReports sent */
    uint64_t rejects;         /* order rejects (ExecType 8) */
    uint64_t session_rejects; /* Reject (35=3) and BusinessMessageReject (35=j) sent */
    uint64_t resend_requests; /* ResendRequests received */
    uint64_t logons;
    uint64_t refused_connections; /* over max_connections */
    uint64_t closed_peers;        /* closed for no Logon in time or too many malformed messages */
    double filled_qty;
    uint64_t rate_violations;   /* requests refused with too_many_requests (10028); each ended its session */
    uint64_t me_changes;        /* order-to-volume: matching-engine changes (a cancelled IOC counts 2) */
    double volume_contracts;    /* order-to-volume: contracts traded by the sessions' orders */
    uint64_t script_events;     /* script events run */
    uint64_t position_reports;  /* Position Reports (AP) sent */
    uint64_t trade_reports;     /* Trade Capture Reports (AE) sent */
    uint64_t user_responses;    /* User Responses (BF) sent */
} ht_xsim_stats;

typedef struct ht_xsim ht_xsim;

/* Defaults: 127.0.0.1, port 0, DERIBITSERVER, no auth, no latency, fee 5 bps, standalone book mid 50000,
 * spread 1, 10 levels of 10000 contracts; logon timeout 5 s, 16 connections, 10 malformed messages in a row;
 * starting equity 10 coin; rate limits off. */
void ht_xsim_config_default(ht_xsim_config *cfg);

/* Reads the [exchange_sim] section of a config file over cfg (keys in docs/gateway.md). 0 or -1 with err. */
int ht_xsim_config_load(ht_xsim_config *cfg, const char *path, ht_error *err);

/* True when host is a dotted IPv4 address the simulator can listen on (the host key and --host). */
bool ht_xsim_valid_host(const char *host);

/* Binds and listens (so ht_xsim_port is known at once). NULL with err on a bad config or a busy port. */
ht_xsim *ht_xsim_create(const ht_xsim_config *cfg, ht_error *err);

/* The bound TCP port. */
uint16_t ht_xsim_port(const ht_xsim *x);

/* Runs the acceptor on a thread of its own. 0 or -1 with err. */
int ht_xsim_start(ht_xsim *x, ht_error *err);
/* Runs the acceptor in the calling thread until *stop becomes non-zero (or ht_xsim_stop). */
int ht_xsim_run(ht_xsim *x, volatile sig_atomic_t *stop);
/* Asks the loop to end and joins the thread if ht_xsim_start made one. */
void ht_xsim_stop(ht_xsim *x);

/* Book source interface (thread-safe; call from any thread, e.g. a market-data replay):
 * replaces a symbol's top of book (one level per side; a qty of 0 empties that side). */
int ht_xsim_set_top(ht_xsim *x, const char *symbol, double bid_px, double bid_qty, double ask_px, double ask_qty);
/* Replaces one side's depth (is_bid true for bids). Levels best first, at most HT_XSIM_MAX_LEVELS. */
int ht_xsim_set_depth(ht_xsim *x, const char *symbol, bool is_bid, const ht_xsim_level *levels, size_t n);
/* Once a symbol has been set through this interface its book depletes as orders fill it, until the next set;
 * symbols never set use the standalone book (default_*), fresh for every order. */

/* Sets a symbol's contract (hedgetrig/units.h): with it the simulator accepts QtyType (854) 0 (Units) orders,
 * converted to contracts as Deribit does, and reports Commission (12) in the contract's settlement currency
 * (coin for inverse, USD(C) for linear). Without it only contract quantities (854 absent or 1) are accepted and
 * fills carry no Commission. Every quantity the simulator reports (38, 32, 14, 151) and every book level is in
 * contracts. 0, or -1 with err. */
int ht_xsim_set_contract(ht_xsim *x, const char *symbol, const ht_contract *contract, ht_error *err);

/* Book source from a Deribit multicast capture (pcap/pcapng): replays it through the feed decoder
 * (hostsw/feed) and sets every instrument's contract and final book (the levels the feed holds, at most
 * HT_XSIM_MAX_LEVELS a side, Deribit's amounts converted to contracts) as if by ht_xsim_set_contract and
 * ht_xsim_set_depth. Returns the number of books loaded, or -1 with err
 * naming the file and what failed. */
int ht_xsim_load_capture(ht_xsim *x, const char *pcap_path, ht_error *err);

/* Counters so far (thread-safe). */
void ht_xsim_stats_get(ht_xsim *x, ht_xsim_stats *out);

/* Test hooks: withhold the next outbound ExecutionReport (it takes a sequence number but is not sent, so
 * the client sees a gap); close every client connection now (as a network drop would). */
void ht_xsim_debug_drop_next_report(ht_xsim *x);
void ht_xsim_debug_disconnect(ht_xsim *x);

/* ---- the account script (docs/gateway.md, "Account script") ----
 *
 * One event a line, `time_s,kind,instrument,qty,price`; '#' starts a comment anywhere on a line; blank lines and
 * an optional header line `time_s,kind,instrument,qty,price` (any case) are allowed; spaces and tabs around
 * fields are ignored; CRLF and a UTF-8 byte order mark are accepted. time_s: seconds (a plain decimal, finite,
 * >= 0, never less than the line before) on the script's clock (ht_xsim_set_clock). kind:
 *   fill         another session's trade on the account: instrument, qty (signed contracts, non-zero: positive
 *                when the account bought), price (> 0)
 *   liquidation  a trade of the venue's liquidation engine: the same fields
 *   settle       the instrument leaves the book at its delivery price: instrument, qty (signed contracts of the
 *                position settled; empty: the whole position), price (the delivery price, > 0)
 *   disconnect   every client connection is dropped (they reconnect and re-subscribe): no other field
 * The instrument is 1..31 bytes of A-Z 0-9 _ - (Symbol 55). Refused, with FILE:LINE and what was expected: any
 * other kind, a missing or extra field, a bad instrument or number, a time before the line above, a line longer
 * than HT_XSIM_SCRIPT_MAX_LINE, a NUL or control byte, more than HT_XSIM_SCRIPT_MAX_EVENTS events, a file
 * larger than HT_XSIM_SCRIPT_MAX_FILE_BYTES. An empty script (no event) is allowed. */
#define HT_XSIM_SCRIPT_MAX_LINE 256
#define HT_XSIM_SCRIPT_MAX_EVENTS 100000
#define HT_XSIM_SCRIPT_MAX_FILE_BYTES ((size_t)8 << 20)

typedef enum ht_xsim_event_kind {
    HT_XSIM_EV_FILL = 0,
    HT_XSIM_EV_LIQUIDATION,
    HT_XSIM_EV_SETTLE,
    HT_XSIM_EV_DISCONNECT,
} ht_xsim_event_kind;

typedef struct ht_xsim_event {
    double time_s;
    ht_xsim_event_kind kind;
    char instrument[32];  /* "" for disconnect */
    double qty_contracts; /* signed; settle: 0 with whole set */
    bool whole;           /* settle: the whole position */
    double price;         /* fill, liquidation: the trade's price; settle: the delivery price; else 0 */
    uint32_t line;        /* 1-based line in the script */
} ht_xsim_event;

typedef struct ht_xsim_script {
    ht_xsim_event *events;
    size_t n_events;
} ht_xsim_script;

/* Parses a script held in memory (len bytes; name is used in messages). NULL with err "NAME:LINE: what". */
ht_xsim_script *ht_xsim_script_parse(const char *text, size_t len, const char *name, ht_error *err);
/* Reads and parses a script file (a regular file of at most HT_XSIM_SCRIPT_MAX_FILE_BYTES). NULL with err. */
ht_xsim_script *ht_xsim_script_load(const char *path, ht_error *err);
/* The name of a kind ("fill", ...). */
const char *ht_xsim_event_kind_name(ht_xsim_event_kind kind);
void ht_xsim_script_destroy(ht_xsim_script *s);

/* Gives the simulator a script (copied; replaces any before, from its first event). 0 or -1 with err. */
int ht_xsim_set_script(ht_xsim *x, const ht_xsim_script *s, ht_error *err);

/* The script's clock. Until this is called it is the monotonic time since the first logon (the standalone
 * simulator sees no market clock; the first logon is the first moment a client can see anything, so every event
 * reaches a subscribed session). Once called, it is this clock (ns, e.g. the exchange time of a replayed capture)
 * for good, counted from its first value: time_s 0 is the first now_ns given. Thread-safe; due events run in the
 * simulator's loop, and when the loop runs on its own thread (ht_xsim_start) this call returns once the events it
 * made due have been booked and their reports written (at most 2 s), so a replay's account is the same at the
 * same exchange time whatever its speed. */
void ht_xsim_set_clock(ht_xsim *x, uint64_t now_ns);

/* ---- the account (docs/gateway.md, "The account") ----
 * One account, shared by every session (as the API keys of one Deribit sub-account share its positions). */

/* Sets the account's position in symbol to contracts (signed), as a venue's record of it: no trade, no report
 * (a subscribed session gets a Position Report update). Thread-safe. 0, or -1 with err (bad symbol, not finite,
 * no room). */
int ht_xsim_set_position(ht_xsim *x, const char *symbol, double contracts, ht_error *err);
/* The account's position in symbol (0 when none). Thread-safe. */
double ht_xsim_position(ht_xsim *x, const char *symbol);
/* Sets a symbol's mark price (the account's mark-to-market and margins; otherwise the book's mid, else the last
 * trade). Thread-safe. */
void ht_xsim_set_mark(ht_xsim *x, const char *symbol, double mark);

/* The account's figures (the simulator's own model, not Deribit's formulas: docs/gateway.md), in coin. */
typedef struct ht_xsim_account {
    double equity_coin;             /* balance + unrealised P&L */
    double balance_coin;            /* starting equity + realised P&L - fees */
    double initial_margin_coin;
    double maintenance_margin_coin;
    double realised_pnl_coin, unrealised_pnl_coin, fees_coin;
    size_t positions;               /* instruments with a non-zero position */
} ht_xsim_account;
void ht_xsim_account_get(ht_xsim *x, ht_xsim_account *out);

/* Stops, closes every socket and frees. NULL is ignored. */
void ht_xsim_destroy(ht_xsim *x);

#endif
