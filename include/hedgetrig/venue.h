/* SPDX-License-Identifier: MIT */
/* A venue as the engine sees it: one small table of operations (send an order, cancel, poll events, positions,
 * logon state) over one state per venue. The Deribit FIX gateway is the first implementation (venue_fix.h). */
#ifndef HEDGETRIG_VENUE_H
#define HEDGETRIG_VENUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/common.h"
#include "hedgetrig/units.h"

/*
 * Threading: a venue belongs to one thread (the engine's slow half). send and poll never block; wait is the only
 * operation that sleeps. Every quantity is in contracts, as on the wire (docs/units.md); prices in the
 * instrument's quote currency.
 */

#define HT_VENUE_TEXT_BYTES 256
#define HT_VENUE_NAME_BYTES 64  /* an instrument's name on the venue, NUL included */

/* The session, as far as the engine cares. */
typedef enum ht_venue_state {
    HT_VENUE_CONNECTING = 0, /* not logged on (yet, or again: a reconnect is under way) */
    HT_VENUE_ACTIVE,         /* logged on: orders may be sent */
    HT_VENUE_CLOSING,        /* a logout is under way */
    HT_VENUE_STOPPED,        /* logged out, refused or gave up: no more orders, no reconnect */
} ht_venue_state;

/* A hedge order: a limit, immediate-or-cancel. */
typedef struct ht_venue_order {
    const char *instrument; /* the venue's name for it */
    int side;               /* +1 buy, -1 sell */
    double contracts;       /* > 0 */
    double limit_px;        /* > 0 */
    /* The market-data frame that triggered it, carried on the wire so that a capture of the wire matches the
     * order to its tick (Deribit: the order's label; docs/gateway.md "Trigger on the wire"): the frame's channel
     * and sequence number. trigger_seq 0: none (a timer's or a refresh's decision). */
    uint16_t trigger_channel;
    uint64_t trigger_seq;
} ht_venue_order;

/* Room for an implementation's armed order (the encoded message and its patch points). */
#define HT_VENUE_ARMED_BYTES 1024

/* An order armed ahead of its trigger (docs/gateway.md "Armed orders"): checked by every rule that does not depend
 * on the moment it goes out, and encoded, so that firing it only patches the fields of the moment (sequence number,
 * sending time, ClOrdID, trigger, a quantity adjusted within its width, checksum), passes the final gate (kill
 * switch, session, rate limits, notional window, collar against the mark of that moment) and writes it. Made by
 * ops->arm, used by ops->fire; opaque to the engine. */
typedef struct ht_venue_armed {
    bool armed;                      /* false: never armed, refused (reason), spent by a fire, or gone stale */
    ht_venue_order order;            /* what was armed (order.instrument points into name) */
    char name[HT_VENUE_NAME_BYTES];
    char reason[HT_VENUE_TEXT_BYTES]; /* why arming was refused */
    _Alignas(8) unsigned char impl[HT_VENUE_ARMED_BYTES]; /* the implementation's state */
} ht_venue_armed;

/* What became of a send. */
typedef struct ht_venue_send_result {
    bool in_flight;       /* the venue may hold the order: its events will say what became of it (also when the
                             session failed after some of it was written) */
    uint64_t order_id;    /* ours, for cancel and the events (0: none was assigned) */
    uint64_t ready_tsc;   /* ht_tsc_now() when the encoded order was ready (0: never) */
    uint64_t written_tsc; /* ht_tsc_now() after it was handed to the socket */
    bool rate_limited;    /* refused only because the venue's rate limits have no room for it now: the caller may
                             try again later (ht_venue_ops.limits says when) */
    char reason[HT_VENUE_TEXT_BYTES]; /* why it was refused (a risk rule, not logged on, ...), "" when sent */
} ht_venue_send_result;

/* The end of an order's life, as an event reports it. */
typedef enum ht_venue_order_end {
    HT_VENUE_ORDER_OPEN = 0,   /* more events may follow */
    HT_VENUE_ORDER_FILLED,     /* done: filled in full */
    HT_VENUE_ORDER_CANCELLED,  /* done: the rest cancelled (IOC), or cancelled on request */
    HT_VENUE_ORDER_REJECTED,   /* done: refused by the venue */
} ht_venue_order_end;

typedef enum ht_venue_event_type {
    HT_VENUE_EV_OTHER = 0,   /* something the engine does not act on (the implementation's own log has it) */
    HT_VENUE_EV_LOGON,       /* the session is up (text: how) */
    HT_VENUE_EV_DOWN,        /* the session went down or logged out (text: why); a reconnect may follow */
    HT_VENUE_EV_GIVE_UP,     /* reconnecting failed for good: the venue is STOPPED */
    HT_VENUE_EV_ORDER,       /* a report on one of our orders: a fill, a reject and/or its end */
    HT_VENUE_EV_ORDER_VOID,  /* an order of ours never reached the venue (it is done, nothing filled) */
    HT_VENUE_EV_KILL,        /* the kill switch engaged: no more orders (text: why) */
    HT_VENUE_EV_POSITION,    /* the venue's position in one instrument (instrument, position_contracts, px: its mark,
                                0 when not given). snapshot: part of the answer to a (re)subscription; snapshot_end:
                                the snapshot is complete (instrument "" when the account holds nothing). Outside a
                                snapshot: an update after a change. */
    HT_VENUE_EV_TRADE,       /* a trade on the account that is not a fill of one of our orders (instrument,
                                trade_contracts signed, px, source, trade_id) */
    HT_VENUE_EV_ACCOUNT,     /* the account's figures as the venue reports them (account) */
} ht_venue_event_type;

/* Who made a trade that is not ours (HT_VENUE_EV_TRADE). */
typedef enum ht_venue_trade_source {
    HT_VENUE_SRC_OTHER = 0,    /* another session of the account: a trader's screen, another system, a block trade */
    HT_VENUE_SRC_LIQUIDATION,  /* the venue's liquidation engine */
    HT_VENUE_SRC_SETTLEMENT,   /* settlement or delivery at expiry (px: the delivery price) */
} ht_venue_trade_source;

/* The account's figures (HT_VENUE_EV_ACCOUNT), in the account currency (coin for an inverse account, USDC for a
 * linear one): Deribit's User Response (BF). NAN where the venue did not say. */
typedef struct ht_venue_account {
    char currency[16];
    double equity, balance, initial_margin, maintenance_margin;
    uint64_t wall_ms;         /* when it arrived (the venue's clock when it says, else ours) */
} ht_venue_account;

typedef struct ht_venue_event {
    ht_venue_event_type type;
    uint64_t order_id;       /* ORDER, ORDER_VOID: the order (0 when the report is not about one of ours) */
    double fill_contracts;   /* ORDER: contracts filled by this report (0: none) */
    double fill_px;          /* ORDER: the fill's price */
    bool rejected;           /* ORDER: the venue refused the order (text: its reason) */
    ht_venue_order_end end;  /* ORDER: whether the order is done */
    char instrument[HT_VENUE_NAME_BYTES]; /* POSITION, TRADE (and ORDER when known): the venue's name */
    double position_contracts;            /* POSITION: signed, positive long */
    double trade_contracts;               /* TRADE: signed, positive when the account bought */
    double px;                            /* POSITION: mark (0: not given); TRADE: the trade's price */
    bool snapshot, snapshot_end;          /* POSITION: see HT_VENUE_EV_POSITION */
    ht_venue_trade_source source;         /* TRADE */
    char trade_id[48];                    /* TRADE: the venue's id of the trade ("" when none) */
    ht_venue_account account;             /* ACCOUNT */
    char text[HT_VENUE_TEXT_BYTES];
} ht_venue_event;

/* The venue's request limits as the implementation mirrors them (Deribit: a matching-engine budget for orders and
 * cancels, a credit pool for other requests; docs/gateway.md). */
typedef struct ht_venue_limits {
    bool known;                  /* false: the implementation mirrors no limit (every field below is 0) */
    double orders_available;     /* matching-engine requests that may be sent now (fractional: the bucket refills
                                    continuously) */
    double orders_burst;         /* the bucket's size */
    double credits_available;    /* the other requests' credit pool now, and its size */
    double credits_max;
    uint64_t next_order_ns;      /* ns until one more order fits (0: one fits now) */
    uint64_t held;               /* requests held back so far because they did not fit */
    uint64_t me_changes;         /* order-to-volume: matching-engine changes counted (a cancelled IOC counts 2) */
    double volume_contracts;     /* order-to-volume: contracts traded by our orders */
} ht_venue_limits;

/* A level of an instrument's book, for a simulated venue that trades against the market data's book. */
typedef struct ht_venue_level {
    double price;
    double contracts;
} ht_venue_level;

typedef struct ht_venue_ops {
    /* Checks and sends one order. 0 when it went out (result->in_flight), -1 when it was refused (result->reason;
     * result->in_flight may still be set when the session failed while writing it). Never blocks. */
    int (*send)(void *ctx, const ht_venue_order *order, ht_venue_send_result *result);
    /* Asks the venue to cancel an order of ours. 0, or -1 with err. */
    int (*cancel)(void *ctx, uint64_t order_id, ht_error *err);
    /* Drives the session and writes up to max events; returns how many. Never blocks. */
    int (*poll)(void *ctx, ht_venue_event *events, int max);
    /* Sleeps until there may be something to poll, at most timeout_ms. */
    void (*wait)(void *ctx, int timeout_ms);
    /* The signed position of an instrument in contracts (0 when unknown). */
    double (*position)(void *ctx, const char *instrument);
    /* The session's state, and the implementation's name for its finer state (status lines, counters). */
    ht_venue_state (*state)(void *ctx);
    const char *(*state_name)(void *ctx);
    /* Why the session last went down or was refused ("" when it never was). */
    const char *(*last_problem)(void *ctx);
    /* Logs out (text: the reason given to the venue); the state reaches STOPPED when the venue answers. */
    void (*logout)(void *ctx, const char *text);
    /* What the venue's own checks need: an instrument's contract (notional limits) and mark (price collar), and
     * the clock its risk windows read (ns; replay passes exchange time, 0 returns to the monotonic clock). */
    int (*set_contract)(void *ctx, const char *instrument, const ht_contract *contract, ht_error *err);
    void (*set_mark)(void *ctx, const char *instrument, double mark);
    void (*set_clock)(void *ctx, uint64_t now_ns);
    /* The rate limits as mirrored now (NULL: none mirrored). */
    void (*limits)(void *ctx, ht_venue_limits *out);
    /* Optional (NULL: the venue cannot arm, and the engine sends as usual). Arms order into *out: the rules that do
     * not depend on the moment (instrument, side, quantity and notional per order, price sanity, the contract
     * known) and the encoding. 0 (out->armed), or -1 with out->reason. No syscall, no allocation. */
    int (*arm)(void *ctx, const ht_venue_order *order, ht_venue_armed *out);
    /* Optional with arm. Fires an armed order: contracts (> 0; when it differs from the armed quantity the
     * quantity's rules are checked again and it is patched in, or refused when it does not fit the armed width)
     * and the trigger patched in, the final gate applied, the order journaled and written; the result as send's
     * (0 when it went out, -1 when refused: result->reason, result->rate_limited). A refused armed order stays
     * armed; one that went out is spent (armed false). One the venue can no longer vouch for (its contract or
     * limits changed since arming, the session restarted) is refused with armed set false: arm it again. */
    int (*fire)(void *ctx, ht_venue_armed *armed, double contracts, uint16_t trigger_channel, uint64_t trigger_seq,
                ht_venue_send_result *result);
    /* Optional (NULL for a real venue): a simulated venue's book, taken from the market data, best first. */
    void (*set_book)(void *ctx, const char *instrument, const ht_venue_level *bids, unsigned n_bids,
                     const ht_venue_level *asks, unsigned n_asks);
    /* Optional (NULL: the engine stops sending and cancels its own orders): engages the venue's kill switch, which
     * cancels every open order and refuses new ones (text: why). */
    void (*kill)(void *ctx, const char *text);
    /* Releases everything (the session is not logged out: logout first). */
    void (*destroy)(void *ctx);
} ht_venue_ops;

/* One venue: its operations, its state, and how to name it in messages. */
typedef struct ht_venue {
    const ht_venue_ops *ops;
    void *ctx;
    char address[160];           /* where it is ("127.0.0.1:9881") */
    char session_log[264];       /* where its session is logged ("stderr" when nowhere else) */
    uint32_t logon_timeout_ms;   /* how long a logon may take */
} ht_venue;

/* Destroys a venue made by any implementation's constructor (NULL: nothing). */
static inline void ht_venue_destroy(ht_venue *v)
{
    if (v)
        v->ops->destroy(v->ctx);
}

#endif
