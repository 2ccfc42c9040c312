/* SPDX-License-Identifier: MIT */
/* Pre-trade risk checks with fixed-size windows: nothing allocates after ht_risk_create. */
#include "hedgetrig/risk.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ring sizes: the notional window remembers this many orders, the duplicate guard this many. */
#define NOTIONAL_RING 8192
#define DUP_RING 64

/* What the risk state knows of a symbol: its mark and its contract. */
typedef struct mark_entry {
    char symbol[HT_RISK_SYMBOL_BYTES];
    double mark;
    ht_contract contract; /* a linear contract of one coin until ht_risk_set_contract */
} mark_entry;

typedef struct notional_entry {
    uint64_t t_ns;
    double notional;
} notional_entry;

typedef struct dup_entry {
    uint64_t t_ns;
    char symbol[HT_RISK_SYMBOL_BYTES];
    int side;
    double qty;
    double price;
} dup_entry;

struct ht_risk {
    ht_risk_limits limits;
    mark_entry marks[HT_RISK_MAX_SYMBOLS];
    size_t n_marks;
    uint64_t *rate_ring; /* send times of the last max_orders_per_sec orders */
    size_t rate_head;
    size_t rate_count;
    notional_entry notional[NOTIONAL_RING];
    size_t notional_head; /* oldest entry */
    size_t notional_count;
    double notional_sum; /* sum over the ring */
    dup_entry dups[DUP_RING];
    size_t dup_next;
    bool killed;
    char kill_reason[160];
};

static const char *const k_rule_names[HT_RISK_RULE_COUNT] = {
    "ok", "bad_order", "max_order_qty", "max_notional", "max_position", "no_mark", "price_collar",
    "max_orders_per_sec", "duplicate_order", "kill_switch",
};

const char *ht_risk_rule_name(ht_risk_rule rule)
{
    return (unsigned)rule < HT_RISK_RULE_COUNT ? k_rule_names[rule] : "unknown";
}

void ht_risk_limits_default(ht_risk_limits *limits)
{
    limits->max_order_qty = 1000000;
    limits->max_notional = 50000000;
    limits->notional_interval_ms = 60000;
    limits->max_position = 5000000;
    limits->collar_bps = 500;
    limits->require_mark = false;
    limits->max_orders_per_sec = 200;
    limits->duplicate_window_ms = 0;
}

ht_risk *ht_risk_create(const ht_risk_limits *limits, ht_error *err)
{
    const ht_risk_limits *l = limits;
    if (!(l->max_order_qty >= 0) || !(l->max_notional >= 0) || !(l->max_position >= 0) || !(l->collar_bps >= 0) ||
        !isfinite(l->max_order_qty) || !isfinite(l->max_notional) || !isfinite(l->max_position) ||
        !isfinite(l->collar_bps)) {
        ht_error_set(err, "risk limits must be finite and >= 0 (max_order_qty %g, max_notional %g, max_position %g, "
                          "collar_bps %g)", l->max_order_qty, l->max_notional, l->max_position, l->collar_bps);
        return NULL;
    }
    if (l->max_notional > 0 && (l->notional_interval_ms == 0 || l->notional_interval_ms > 86400000u)) {
        ht_error_set(err, "risk notional_interval_ms must be 1..86400000, got %u", l->notional_interval_ms);
        return NULL;
    }
    if (l->max_orders_per_sec > HT_RISK_MAX_RATE) {
        ht_error_set(err, "risk max_orders_per_sec must be 0..%d, got %u", HT_RISK_MAX_RATE, l->max_orders_per_sec);
        return NULL;
    }
    if (l->duplicate_window_ms > 3600000u) {
        ht_error_set(err, "risk duplicate_window_ms must be 0..3600000, got %u", l->duplicate_window_ms);
        return NULL;
    }
    ht_risk *r = calloc(1, sizeof *r);
    if (!r) {
        ht_error_set(err, "out of memory for the risk state");
        return NULL;
    }
    r->limits = *l;
    if (l->max_orders_per_sec) {
        r->rate_ring = calloc(l->max_orders_per_sec, sizeof *r->rate_ring);
        if (!r->rate_ring) {
            free(r);
            ht_error_set(err, "out of memory for the order-rate window");
            return NULL;
        }
    }
    return r;
}

void ht_risk_destroy(ht_risk *risk)
{
    if (!risk)
        return;
    free(risk->rate_ring);
    free(risk);
}

/* Finds a symbol's mark slot, or NULL. */
static const mark_entry *find_mark(const ht_risk *r, const char *symbol)
{
    for (size_t i = 0; i < r->n_marks; i++)
        if (strcmp(r->marks[i].symbol, symbol) == 0)
            return &r->marks[i];
    return NULL;
}

/* Finds a symbol's slot or adds one (no mark, notional = qty x price); NULL when the table is full or the
 * symbol too long. */
static mark_entry *symbol_slot(ht_risk *risk, const char *symbol)
{
    if (strlen(symbol) >= HT_RISK_SYMBOL_BYTES)
        return NULL;
    mark_entry *m = (mark_entry *)find_mark(risk, symbol);
    if (!m) {
        if (risk->n_marks == HT_RISK_MAX_SYMBOLS)
            return NULL;
        m = &risk->marks[risk->n_marks++];
        strcpy(m->symbol, symbol);
        m->mark = 0;
        m->contract = (ht_contract){HT_CONTRACT_LINEAR, 1.0};
    }
    return m;
}

int ht_risk_set_mark(ht_risk *risk, const char *symbol, double mark)
{
    mark_entry *m = symbol_slot(risk, symbol);
    if (!m)
        return -1;
    m->mark = mark > 0 && isfinite(mark) ? mark : 0;
    return 0;
}

int ht_risk_set_contract(ht_risk *risk, const char *symbol, const ht_contract *contract, ht_error *err)
{
    ht_contract checked;
    if (ht_contract_set(&checked, contract->kind, contract->size, err) != 0)
        return ht_error_set(err, "risk: %s: contract size must be finite and > 0 and its kind linear or inverse "
                                 "(got %g, kind %d)", symbol, contract->size, (int)contract->kind);
    mark_entry *m = symbol_slot(risk, symbol);
    if (!m)
        return strlen(symbol) >= HT_RISK_SYMBOL_BYTES
                   ? ht_error_set(err, "risk: %s: symbol longer than %d characters", symbol, HT_RISK_SYMBOL_BYTES - 1)
                   : ht_error_set(err, "risk: %s: symbol table full (%d symbols)", symbol, HT_RISK_MAX_SYMBOLS);
    m->contract = checked;
    return 0;
}

/* The USD notional of an order (docs/units.md). m is the order's symbol entry, or NULL: a contract of one coin. */
static double order_notional(const mark_entry *m, const ht_risk_order *o)
{
    static const ht_contract one_coin = {HT_CONTRACT_LINEAR, 1.0};
    return ht_units_contracts_to_usd(m ? &m->contract : &one_coin, o->qty, o->price);
}

/* True when sent + add reaches the limit: exactly at it counts (to rounding of a few ulps), so a limit of
 * 1000 USD refuses an order of 100 contracts of 10 USD and passes 99. */
static bool reaches_limit(double sent, double add, double limit)
{
    return sent + add >= limit * (1.0 - 1e-12);
}

/* Sum of the notional sent within the interval ending at now_ns. */
static double notional_in_window(const ht_risk *r, uint64_t now_ns)
{
    uint64_t span = (uint64_t)r->limits.notional_interval_ms * 1000000u;
    double sum = r->notional_sum;
    /* Entries are in time order: only the expired ones at the head need subtracting. */
    for (size_t i = 0; i < r->notional_count; i++) {
        const notional_entry *e = &r->notional[(r->notional_head + i) % NOTIONAL_RING];
        if (now_ns - e->t_ns < span)
            break;
        sum -= e->notional;
    }
    return sum > 0 ? sum : 0;
}

/* Formats the order for a reason line. */
static int order_text(char *out, size_t cap, const ht_risk_order *o)
{
    return snprintf(out, cap, "%s %s qty %.10g @ %.10g", o->side > 0 ? "buy" : "sell", o->symbol, o->qty, o->price);
}

/* Fills why with "rule: <order>: <detail>" and returns the rule. */
static ht_risk_rule breach(ht_risk_rule rule, const ht_risk_order *o, char *why, size_t cap, const char *fmt, ...)
    HT_PRINTF(5, 6);
static ht_risk_rule breach(ht_risk_rule rule, const ht_risk_order *o, char *why, size_t cap, const char *fmt, ...)
{
    if (cap == 0)
        return rule;
    int n = snprintf(why, cap, "risk rule %s: ", ht_risk_rule_name(rule));
    if (n > 0 && (size_t)n < cap)
        n += order_text(why + n, cap - (size_t)n, o);
    if (n > 0 && (size_t)n + 2 < cap) {
        why[n++] = ':';
        why[n++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why + n, cap - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return rule;
}

int ht_risk_symbol_index(const ht_risk *risk, const char *symbol)
{
    const mark_entry *m = find_mark(risk, symbol);
    return m ? (int)(m - risk->marks) : -1;
}

ht_risk_rule ht_risk_check_static(const ht_risk *risk, const ht_risk_order *o, char *why, size_t why_cap)
{
    const ht_risk_limits *l = &risk->limits;
    if ((o->side != 1 && o->side != -1) || !(o->qty > 0) || !isfinite(o->qty) || !(o->price > 0) ||
        !isfinite(o->price) || !o->symbol || !o->symbol[0] || strlen(o->symbol) >= HT_RISK_SYMBOL_BYTES)
        return breach(HT_RISK_BAD_ORDER, o, why, why_cap, "side must be buy or sell, qty and price positive and finite, "
                                                          "symbol 1..%d characters", HT_RISK_SYMBOL_BYTES - 1);
    if (l->max_order_qty > 0 && o->qty > l->max_order_qty)
        return breach(HT_RISK_MAX_ORDER_QTY, o, why, why_cap, "qty %.10g > max_order_qty %.10g", o->qty, l->max_order_qty);
    return HT_RISK_OK;
}

/* The collar against the mark of the moment (m: the symbol's entry, or NULL). */
static ht_risk_rule check_collar(const ht_risk *risk, const ht_risk_order *o, const mark_entry *m, char *why,
                                 size_t why_cap)
{
    const ht_risk_limits *l = &risk->limits;
    if (l->collar_bps > 0 && (!m || m->mark <= 0) && l->require_mark)
        return breach(HT_RISK_NO_MARK, o, why, why_cap, "no mark for %s, collar_bps is %.10g and require_mark is on",
                      o->symbol, l->collar_bps);
    if (l->collar_bps > 0 && m && m->mark > 0) {
        double off_bps = fabs(o->price - m->mark) / m->mark * 1e4;
        if (off_bps > l->collar_bps)
            return breach(HT_RISK_PRICE_COLLAR, o, why, why_cap, "price is %.1f bps from mark %.10g, collar %.10g bps",
                          off_bps, m->mark, l->collar_bps);
    }
    return HT_RISK_OK;
}

/* The windows of the moment: order rate, notional per interval, duplicates. */
static ht_risk_rule check_windows(const ht_risk *risk, const ht_risk_order *o, const mark_entry *m, uint64_t now_ns,
                                  char *why, size_t why_cap)
{
    const ht_risk_limits *l = &risk->limits;
    if (l->max_orders_per_sec > 0 && risk->rate_count == l->max_orders_per_sec) {
        uint64_t oldest = risk->rate_ring[risk->rate_head];
        if (now_ns - oldest < 1000000000u)
            return breach(HT_RISK_MAX_ORDER_RATE, o, why, why_cap, "%u orders already sent in the last second",
                          l->max_orders_per_sec);
    }
    if (l->max_notional > 0) {
        double sent = notional_in_window(risk, now_ns);
        double add = order_notional(m, o);
        if (reaches_limit(sent, add, l->max_notional))
            return breach(HT_RISK_MAX_NOTIONAL, o, why, why_cap,
                          "%.10g USD sent in the last %u ms + %.10g USD reaches max_notional %.10g USD", sent,
                          l->notional_interval_ms, add, l->max_notional);
        if (risk->notional_count == NOTIONAL_RING &&
            now_ns - risk->notional[risk->notional_head].t_ns < (uint64_t)l->notional_interval_ms * 1000000u)
            return breach(HT_RISK_MAX_NOTIONAL, o, why, why_cap, "more than %d orders in the last %u ms: the notional "
                          "window is full", NOTIONAL_RING, l->notional_interval_ms);
    }
    if (l->duplicate_window_ms > 0) {
        uint64_t span = (uint64_t)l->duplicate_window_ms * 1000000u;
        for (size_t i = 0; i < DUP_RING; i++) {
            const dup_entry *d = &risk->dups[i];
            if (d->t_ns && now_ns - d->t_ns < span && d->side == o->side && d->qty == o->qty && d->price == o->price &&
                strcmp(d->symbol, o->symbol) == 0)
                return breach(HT_RISK_DUPLICATE, o, why, why_cap, "the same order was sent %.3f ms ago (window %u ms)",
                              (double)(now_ns - d->t_ns) / 1e6, l->duplicate_window_ms);
        }
    }
    return HT_RISK_OK;
}

ht_risk_rule ht_risk_check_moment(const ht_risk *risk, const ht_risk_order *o, int symbol_index, double position,
                                  double open_qty_same_side, uint64_t now_ns, char *why, size_t why_cap)
{
    const ht_risk_limits *l = &risk->limits;
    if (HT_UNLIKELY(risk->killed))
        return breach(HT_RISK_KILL_SWITCH, o, why, why_cap, "kill switch engaged (%s); no new orders", risk->kill_reason);
    const mark_entry *m = symbol_index >= 0 && (size_t)symbol_index < risk->n_marks ? &risk->marks[symbol_index]
                                                                                   : NULL;
    if (l->max_position > 0) {
        double projected = position + open_qty_same_side + o->side * o->qty;
        if (fabs(projected) > l->max_position)
            return breach(HT_RISK_MAX_POSITION, o, why, why_cap,
                          "position %.10g + open %.10g + order would be %.10g, |.| > max_position %.10g", position,
                          open_qty_same_side, projected, l->max_position);
    }
    ht_risk_rule rule = check_collar(risk, o, m, why, why_cap);
    return rule != HT_RISK_OK ? rule : check_windows(risk, o, m, now_ns, why, why_cap);
}

ht_risk_rule ht_risk_check(const ht_risk *risk, const ht_risk_order *o, double position, double open_qty_same_side,
                           uint64_t now_ns, char *why, size_t why_cap)
{
    if (why_cap)
        why[0] = '\0';
    if (risk->killed) /* first, as the kill switch refuses every order, a malformed one included */
        return breach(HT_RISK_KILL_SWITCH, o, why, why_cap, "kill switch engaged (%s); no new orders", risk->kill_reason);
    ht_risk_rule rule = ht_risk_check_static(risk, o, why, why_cap);
    if (rule != HT_RISK_OK)
        return rule;
    return ht_risk_check_moment(risk, o, ht_risk_symbol_index(risk, o->symbol), position, open_qty_same_side, now_ns,
                                why, why_cap);
}

void ht_risk_commit(ht_risk *risk, const ht_risk_order *o, uint64_t now_ns)
{
    const ht_risk_limits *l = &risk->limits;
    if (l->max_orders_per_sec > 0) {
        if (risk->rate_count < l->max_orders_per_sec) {
            risk->rate_ring[(risk->rate_head + risk->rate_count) % l->max_orders_per_sec] = now_ns;
            risk->rate_count++;
        } else {
            risk->rate_ring[risk->rate_head] = now_ns;
            risk->rate_head = (risk->rate_head + 1) % l->max_orders_per_sec;
        }
    }
    if (l->max_notional > 0) {
        uint64_t span = (uint64_t)l->notional_interval_ms * 1000000u;
        while (risk->notional_count && now_ns - risk->notional[risk->notional_head].t_ns >= span) {
            risk->notional_sum -= risk->notional[risk->notional_head].notional;
            risk->notional_head = (risk->notional_head + 1) % NOTIONAL_RING;
            risk->notional_count--;
        }
        if (risk->notional_count == NOTIONAL_RING) {
            risk->notional_sum -= risk->notional[risk->notional_head].notional;
            risk->notional_head = (risk->notional_head + 1) % NOTIONAL_RING;
            risk->notional_count--;
        }
        double notional = order_notional(find_mark(risk, o->symbol), o);
        risk->notional[(risk->notional_head + risk->notional_count) % NOTIONAL_RING] =
            (notional_entry){now_ns ? now_ns : 1, notional};
        risk->notional_count++;
        risk->notional_sum += notional;
        if (risk->notional_count == 1)
            risk->notional_sum = notional; /* drop accumulated rounding when the window restarts */
    }
    dup_entry *d = &risk->dups[risk->dup_next];
    risk->dup_next = (risk->dup_next + 1) % DUP_RING;
    d->t_ns = now_ns ? now_ns : 1;
    snprintf(d->symbol, sizeof d->symbol, "%s", o->symbol);
    d->side = o->side;
    d->qty = o->qty;
    d->price = o->price;
}

void ht_risk_kill(ht_risk *risk, const char *reason)
{
    risk->killed = true;
    snprintf(risk->kill_reason, sizeof risk->kill_reason, "%s", reason && reason[0] ? reason : "no reason given");
}

bool ht_risk_killed(const ht_risk *risk, const char **reason)
{
    if (reason)
        *reason = risk->kill_reason;
    return risk->killed;
}

void ht_risk_rearm(ht_risk *risk)
{
    risk->killed = false;
    risk->kill_reason[0] = '\0';
}
