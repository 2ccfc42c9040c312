/* SPDX-License-Identifier: MIT */
/* Pre-trade risk: size, notional per interval, position, price collar, order rate, duplicates, kill switch. */
#ifndef HEDGETRIG_RISK_H
#define HEDGETRIG_RISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hedgetrig/common.h"
#include "hedgetrig/units.h"

/* The rule an order broke (HT_RISK_OK when it passed). */
typedef enum ht_risk_rule {
    HT_RISK_OK = 0,
    HT_RISK_BAD_ORDER,       /* quantity or price not positive and finite, or an unknown side */
    HT_RISK_MAX_ORDER_QTY,   /* qty above max_order_qty */
    HT_RISK_MAX_NOTIONAL,    /* USD notional over the last notional_interval_ms would reach max_notional */
    HT_RISK_MAX_POSITION,    /* |position + open orders on that side + this order| would exceed max_position */
    HT_RISK_NO_MARK,         /* the collar is on, require_mark is set and no mark is known for the symbol */
    HT_RISK_PRICE_COLLAR,    /* |price - mark| / mark above collar_bps */
    HT_RISK_MAX_ORDER_RATE,  /* more than max_orders_per_sec in the last second */
    HT_RISK_DUPLICATE,       /* same symbol, side, qty and price within duplicate_window_ms */
    HT_RISK_KILL_SWITCH,     /* the kill switch is engaged */
    HT_RISK_RULE_COUNT
} ht_risk_rule;

/* Limits, all from the config ([risk] section, see docs/gateway.md). A limit of 0 switches that rule off. */
typedef struct ht_risk_limits {
    double max_order_qty;           /* contracts per order, >= 0 */
    double max_notional;            /* USD of notional per interval (ht_risk_set_contract), >= 0: an order that
                                     * would bring the window's sum to the limit or above is refused */
    uint32_t notional_interval_ms;  /* the notional window, 1..86400000 (used when max_notional > 0) */
    double max_position;            /* absolute position per instrument, contracts, >= 0 */
    double collar_bps;              /* allowed distance from the mark in basis points, >= 0; applies whenever the
                                     * symbol's mark is known */
    bool require_mark;              /* with collar_bps > 0: refuse (no_mark) an order whose symbol has no mark */
    uint32_t max_orders_per_sec;    /* orders accepted in any 1 s window, 0..HT_RISK_MAX_RATE */
    uint32_t duplicate_window_ms;   /* identical orders within this time are refused, 0..3600000 */
} ht_risk_limits;

#define HT_RISK_MAX_RATE 100000
#define HT_RISK_MAX_SYMBOLS 64
#define HT_RISK_SYMBOL_BYTES 32

/* The order being checked. */
typedef struct ht_risk_order {
    const char *symbol;   /* instrument, at most HT_RISK_SYMBOL_BYTES-1 characters */
    int side;             /* +1 buy, -1 sell */
    double qty;           /* contracts, > 0 */
    double price;         /* limit price, > 0 */
} ht_risk_order;

typedef struct ht_risk ht_risk;

/* Sensible defaults: every rule on; the collar (500 bps) applies whenever a mark is known, and an order without
 * a mark passes it (require_mark off) - see docs/gateway.md. */
void ht_risk_limits_default(ht_risk_limits *limits);

/* Checks the limits and creates the risk state (windows and marks; no allocation after this).
 * Returns NULL with err set when a limit is out of range. */
ht_risk *ht_risk_create(const ht_risk_limits *limits, ht_error *err);

/* Sets the mark price the collar is measured from (price > 0; 0 forgets the mark). Returns -1 when the
 * symbol table (HT_RISK_MAX_SYMBOLS) is full or the symbol too long. */
int ht_risk_set_mark(ht_risk *risk, const char *symbol, double mark);

/* Sets the contract of a symbol (hedgetrig/units.h), which the max_notional rule converts order quantities
 * (contracts) to USD with: inverse qty x size, linear qty x size x price. A symbol never set counts qty x price,
 * a contract of one coin (more than any Deribit future's, so the rule errs on the side of refusing).
 * 0, or -1 with err (bad contract, symbol too long, table full). */
int ht_risk_set_contract(ht_risk *risk, const char *symbol, const ht_contract *contract, ht_error *err);

/* Checks one order at time now_ns (any monotonic clock, the same for every call) given the instrument's
 * current position and the quantity of its open orders on the order's side (signed like the side).
 * Writes a one-line reason naming the rule, the order and the limit into why (capacity why_cap, may be 0).
 * Nothing is recorded: call ht_risk_commit when the order is actually sent. */
ht_risk_rule ht_risk_check(const ht_risk *risk, const ht_risk_order *order, double position, double open_qty_same_side,
                           uint64_t now_ns, char *why, size_t why_cap);

/* ht_risk_check in its two halves (docs/gateway.md "Armed orders"): the rules that do not depend on the moment
 * (bad_order, max_order_qty), checked when an order is armed, and those that do (kill switch, max_position against
 * the position and open orders of the moment, no_mark and the collar against the mark of the moment, the order
 * rate, notional and duplicate windows), the final gate when it fires. ht_risk_check is the kill switch, then
 * ht_risk_check_static, then ht_risk_check_moment: the same rules in the same order. */
ht_risk_rule ht_risk_check_static(const ht_risk *risk, const ht_risk_order *order, char *why, size_t why_cap);
/* symbol_index: ht_risk_symbol_index of the order's symbol (-1: none known yet, as a symbol without mark or
 * contract). */
ht_risk_rule ht_risk_check_moment(const ht_risk *risk, const ht_risk_order *order, int symbol_index, double position,
                                  double open_qty_same_side, uint64_t now_ns, char *why, size_t why_cap);
/* The index of the symbol's mark and contract entry, or -1 when the symbol has none yet. An entry, once made, keeps
 * its index for the life of the risk state. */
int ht_risk_symbol_index(const ht_risk *risk, const char *symbol);

/* Records a sent order in the rate, notional and duplicate windows. */
void ht_risk_commit(ht_risk *risk, const ht_risk_order *order, uint64_t now_ns);

/* Engages the kill switch (every later check fails with HT_RISK_KILL_SWITCH). reason is copied. */
void ht_risk_kill(ht_risk *risk, const char *reason);
/* True when the kill switch is engaged; *reason (may be NULL) points at its reason. */
bool ht_risk_killed(const ht_risk *risk, const char **reason);
/* Releases the kill switch (an operator decision; the gateway never does it by itself). */
void ht_risk_rearm(ht_risk *risk);

/* Short stable name of a rule ("max_order_qty", ...), as used in logs and docs. */
const char *ht_risk_rule_name(ht_risk_rule rule);

void ht_risk_destroy(ht_risk *risk);

#endif
