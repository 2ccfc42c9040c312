/* SPDX-License-Identifier: MIT */
/* The exchange simulator's orders: the books (standalone, set through the API or from a capture), the ClOrdIDs
 * seen, IOC matching with fees, ExecutionReports, and the record file of every order. */
#include <stdlib.h>
#include <string.h>

#include "hedgetrig/tsc.h"
#include "xsim_priv.h"

/* ---- books ---- */

/* The book of a symbol (created empty when create is set), or NULL. Caller holds the lock (xsim_priv.h). */
book *xsim_find_book(ht_xsim *x, const char *symbol, bool create)
{
    for (size_t i = 0; i < x->n_books; i++)
        if (strcmp(x->books[i].symbol, symbol) == 0)
            return &x->books[i];
    if (!create || x->n_books == HT_XSIM_MAX_SYMBOLS || strlen(symbol) >= sizeof x->books[0].symbol)
        return NULL;
    book *b = &x->books[x->n_books++];
    memset(b, 0, sizeof *b);
    strcpy(b->symbol, symbol);
    return b;
}

int ht_xsim_set_depth(ht_xsim *x, const char *symbol, bool is_bid, const ht_xsim_level *levels, size_t n)
{
    if (n > HT_XSIM_MAX_LEVELS)
        return -1;
    pthread_mutex_lock(&x->lock);
    book *b = xsim_find_book(x, symbol, true);
    if (b) {
        b->external = true;
        size_t kept = 0;
        ht_xsim_level *dst = is_bid ? b->bids : b->asks;
        for (size_t i = 0; i < n; i++)
            if (levels[i].qty > 0 && levels[i].price > 0)
                dst[kept++] = levels[i];
        if (is_bid)
            b->n_bids = kept;
        else
            b->n_asks = kept;
    }
    pthread_mutex_unlock(&x->lock);
    return b ? 0 : -1;
}

int ht_xsim_set_top(ht_xsim *x, const char *symbol, double bid_px, double bid_qty, double ask_px, double ask_qty)
{
    ht_xsim_level bid = {bid_px, bid_qty}, ask = {ask_px, ask_qty};
    if (ht_xsim_set_depth(x, symbol, true, &bid, 1) != 0)
        return -1;
    return ht_xsim_set_depth(x, symbol, false, &ask, 1);
}

int ht_xsim_set_contract(ht_xsim *x, const char *symbol, const ht_contract *contract, ht_error *err)
{
    ht_contract checked;
    if (ht_contract_set(&checked, contract->kind, contract->size, err) != 0)
        return ht_error_set(err, "exchange-sim: %s: contract size must be finite and > 0, got %g", symbol,
                            contract->size);
    pthread_mutex_lock(&x->lock);
    book *b = xsim_find_book(x, symbol, true);
    if (b) {
        b->have_contract = true;
        b->contract = checked;
    }
    pthread_mutex_unlock(&x->lock);
    return b ? 0 : ht_error_set(err, "exchange-sim: %s: no room for another symbol (%d) or the name is too long",
                                symbol, HT_XSIM_MAX_SYMBOLS);
}

/* Fills a book with the standalone levels around default_mid. */
static void standalone_book(const ht_xsim_config *c, book *b)
{
    b->n_bids = b->n_asks = c->default_levels;
    for (uint32_t i = 0; i < c->default_levels; i++) {
        b->bids[i] = (ht_xsim_level){c->default_mid - c->default_spread / 2 - i * c->default_spread, c->default_level_qty};
        b->asks[i] = (ht_xsim_level){c->default_mid + c->default_spread / 2 + i * c->default_spread, c->default_level_qty};
    }
}

/* ---- orders ---- */

/* FNV-1a hash of a ClOrdID. */
static uint64_t clordid_hash(const char *id)
{
    uint64_t h = 1469598103934665603ull;
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 1099511628211ull;
    return h;
}

/* Slot of id in an open-addressing table of cap (a power of two) entries: its own, or the empty one it would
 * take. */
static size_t clordid_slot(char *const *table, size_t cap, const char *id)
{
    size_t i = (size_t)clordid_hash(id) & (cap - 1);
    while (table[i] && strcmp(table[i], id) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

/* True when this counterparty has sent the ClOrdID before; otherwise remembers it (a hash set kept at most half
 * full; beyond MAX_CLORDIDS ids new ones are no longer remembered). */
static bool seen_clordid(session_store *s, const char *id)
{
    if (s->cap_clordids && s->clordids[clordid_slot(s->clordids, s->cap_clordids, id)])
        return true;
    if (2 * (s->n_clordids + 1) > s->cap_clordids) {
        size_t cap = s->cap_clordids ? s->cap_clordids * 2 : 1024;
        if (cap > 2 * (size_t)MAX_CLORDIDS)
            return false;
        char **grown = calloc(cap, sizeof *grown);
        if (!grown)
            return false;
        for (size_t i = 0; i < s->cap_clordids; i++)
            if (s->clordids[i])
                grown[clordid_slot(grown, cap, s->clordids[i])] = s->clordids[i];
        free(s->clordids);
        s->clordids = grown;
        s->cap_clordids = cap;
    }
    char *copy = strdup(id);
    if (!copy)
        return false;
    s->clordids[clordid_slot(s->clordids, s->cap_clordids, id)] = copy;
    s->n_clordids++;
    return false;
}

/* Fields every ExecutionReport of one order shares. */
typedef struct order_ctx {
    char clordid[64];
    char symbol[32];
    char side;
    double qty, price;     /* qty in contracts, whatever QtyType the order came with */
    double cash_qty;       /* the USD amount of a QtyType 0 (Units) order on an inverse contract, else 0 */
    uint64_t order_id;
    double cum, notional;
    char label[65];        /* DeribitLabel (100010) as sent, "" when none: echoed in the reports, recorded */
} order_ctx;

/* Sends one ExecutionReport for the order. */
static void send_exec(ht_xsim *x, conn *c, const order_ctx *o, char exec_type, char ord_status, double last_qty,
                      double last_px, double commission, int rej_reason, const char *text)
{
    ht_fix_writer w;
    xsim_begin_out(x, c, &w, HT_FIX_MSG_EXECUTION_REPORT, c->store->next_out);
    char id[32];
    snprintf(id, sizeof id, "X%llu", (unsigned long long)o->order_id);
    ht_fix_put_str(&w, HT_TAG_ORDER_ID, id);
    snprintf(id, sizeof id, "E%llu", (unsigned long long)++x->exec_id);
    ht_fix_put_str(&w, HT_TAG_EXEC_ID, id);
    ht_fix_put_str(&w, HT_TAG_CL_ORD_ID, o->clordid);
    if (o->label[0]) /* Deribit's reports carry the order's label */
        ht_fix_put_str(&w, HT_TAG_DERIBIT_LABEL, o->label);
    ht_fix_put_char(&w, HT_TAG_EXEC_TYPE, exec_type);
    ht_fix_put_char(&w, HT_TAG_ORD_STATUS, ord_status);
    ht_fix_put_str(&w, HT_TAG_SYMBOL, o->symbol);
    ht_fix_put_char(&w, HT_TAG_SIDE, o->side);
    ht_fix_put_decimal(&w, HT_TAG_ORDER_QTY, o->qty, 8); /* contracts, as Deribit reports */
    if (o->cash_qty > 0)
        ht_fix_put_decimal(&w, HT_TAG_CASH_ORDER_QTY, o->cash_qty, 8);
    ht_fix_put_char(&w, HT_TAG_ORD_TYPE, '2');
    ht_fix_put_decimal(&w, HT_TAG_PRICE, o->price, 8);
    ht_fix_put_char(&w, HT_TAG_TIME_IN_FORCE, '3');
    if (exec_type == 'F') {
        ht_fix_put_decimal(&w, HT_TAG_LAST_QTY, last_qty, 8);
        ht_fix_put_decimal(&w, HT_TAG_LAST_PX, last_px, 8);
        if (commission >= 0) { /* absolute, in the settlement currency (docs/units.md); absent when unknown */
            ht_fix_put_decimal(&w, HT_TAG_COMMISSION, commission, 9);
            ht_fix_put_char(&w, HT_TAG_COMM_TYPE, '3');
        }
    }
    ht_fix_put_decimal(&w, HT_TAG_CUM_QTY, o->cum, 8);
    ht_fix_put_decimal(&w, HT_TAG_LEAVES_QTY, exec_type == '0' || ord_status == '1' ? o->qty - o->cum : 0, 8);
    ht_fix_put_decimal(&w, HT_TAG_AVG_PX, o->cum > 0 ? o->notional / o->cum : 0, 8);
    if (rej_reason >= 0)
        ht_fix_put_u64(&w, HT_TAG_ORD_REJ_REASON, (uint64_t)rej_reason);
    if (text)
        ht_fix_put_str(&w, HT_TAG_TEXT, text);
    ht_fix_put_time(&w, HT_TAG_TRANSACT_TIME, ht_wall_ns());
    bool withhold = atomic_exchange(&x->drop_next_report, 0) != 0;
    xsim_send_out(x, c, &w, true, withhold);
}

/* Appends the order's line to the record: what was received and what became of it. */
static void record_order(ht_xsim *x, const conn *c, uint64_t seq, const order_ctx *o, const char *status)
{
    if (!x->record)
        return;
    fprintf(x->record, "%s,%llu,%s,%s,%c,%.10g,%.10g,%s\n", c->store->client_comp_id, (unsigned long long)seq,
            o->clordid, o->symbol, o->side ? o->side : '?', o->qty, o->price, status);
    fflush(x->record);
}

/* Matches an IOC limit order against the book, records the outcome (filled, partial: the rest canceled,
 * canceled: nothing matched, rejected: unknown symbol) before any report leaves, and reports New, Trade(s) and
 * the cancel of any rest. */
static void match_order(ht_xsim *x, conn *c, order_ctx *o, uint64_t seq)
{
    struct { double px, qty; } fills[HT_XSIM_MAX_LEVELS * 4];
    size_t n_fills = 0;
    pthread_mutex_lock(&x->lock);
    book *b = xsim_find_book(x, o->symbol, x->cfg.default_mid > 0);
    if (b && !b->external && !(x->cfg.default_mid > 0))
        b = NULL; /* only a contract was set: no book to trade against */
    bool known = b != NULL;
    ht_contract contract = b && b->have_contract ? b->contract : (ht_contract){HT_CONTRACT_LINEAR, 0.0};
    if (b && !b->external)
        standalone_book(&x->cfg, b);
    if (b) {
        bool buy = o->side == '1';
        ht_xsim_level *lv = buy ? b->asks : b->bids;
        size_t *n = buy ? &b->n_asks : &b->n_bids;
        double left = o->qty;
        size_t i = 0;
        while (i < *n && left > 1e-12 && (buy ? lv[i].price <= o->price : lv[i].price >= o->price)) {
            double take = left < lv[i].qty ? left : lv[i].qty;
            left -= take;
            lv[i].qty -= take;
            while (take > 1e-12 && n_fills < HT_ARRAY_LEN(fills)) {
                double piece = x->cfg.max_fill_qty > 0 && take > x->cfg.max_fill_qty ? x->cfg.max_fill_qty : take;
                fills[n_fills].px = lv[i].price;
                fills[n_fills].qty = piece;
                n_fills++;
                take -= piece;
            }
            if (lv[i].qty <= 1e-12)
                i++;
        }
        /* Remove emptied levels from an external (depleting) book. */
        if (b->external && i) {
            memmove(lv, lv + i, (*n - i) * sizeof *lv);
            *n -= i;
        }
    }
    x->stats.orders++;
    if (!known)
        x->stats.rejects++;
    pthread_mutex_unlock(&x->lock);
    o->order_id = ++x->order_id;
    double will_fill = 0;
    for (size_t i = 0; i < n_fills; i++)
        will_fill += fills[i].qty;
    record_order(x, c, seq, o, !known ? "rejected" : will_fill >= o->qty - 1e-9 ? "filled"
                                                   : will_fill > 0 ? "partial" : "canceled");
    if (!known) {
        send_exec(x, c, o, '8', '8', 0, 0, 0, 1, "unknown symbol");
        return;
    }
    send_exec(x, c, o, '0', '0', 0, 0, 0, -1, NULL);
    double fees[HT_ARRAY_LEN(fills)];
    for (size_t i = 0; i < n_fills; i++) {
        o->cum += fills[i].qty;
        o->notional += fills[i].qty * fills[i].px;
        fees[i] = contract.size > 0
                      ? ht_units_fee_settlement(&contract, fills[i].qty, fills[i].px, x->cfg.fee_bps / 1e4)
                      : -1.0;
        bool done = o->cum >= o->qty - 1e-9;
        send_exec(x, c, o, 'F', done ? '2' : '1', fills[i].qty, fills[i].px, fees[i], -1, NULL);
    }
    bool rest_cancelled = o->cum < o->qty - 1e-9;
    if (rest_cancelled)
        send_exec(x, c, o, '4', '4', 0, 0, 0, -1, o->cum > 0 ? "IOC remainder canceled" : "IOC: nothing to match");
    /* The account: booked after the reports, so a position update (xsim_account_flush) follows its cause. */
    pthread_mutex_lock(&x->lock);
    for (size_t i = 0; i < n_fills; i++)
        xsim_ledger_trade(x, o->symbol, o->side == '1' ? fills[i].qty : -fills[i].qty, fills[i].px, fees[i],
                          XSIM_TRADE_ORDER, c->store->client_comp_id, 0);
    x->stats.executions += n_fills;
    x->stats.filled_qty += o->cum;
    x->stats.me_changes += rest_cancelled ? 2 : 1; /* an IOC cancelled in part or whole: insert and cancel */
    x->stats.volume_contracts += o->cum;
    pthread_mutex_unlock(&x->lock);
}

/* Turns the order's OrderQty into contracts as Deribit does with QtyType (854): absent or 1 (Contracts), OrderQty
 * is contracts of the ContractMultiplier; 0 (Units), it is USD for inverse futures and perpetuals, coins for
 * linear ones and options, converted to contracts (docs/units.md). Returns NULL, or why the order is rejected. */
static const char *qty_to_contracts(ht_xsim *x, const ht_fix_msg *m, order_ctx *o)
{
    size_t len;
    const char *qty_type = ht_fix_get(m, HT_TAG_QTY_TYPE, &len);
    if (!qty_type || (len == 1 && qty_type[0] == '1'))
        return NULL;
    if (len != 1 || qty_type[0] != '0')
        return "QtyType (854) must be 0 (Units) or 1 (Contracts)";
    pthread_mutex_lock(&x->lock);
    const book *b = xsim_find_book(x, o->symbol, false);
    ht_contract c = b && b->have_contract ? b->contract : (ht_contract){HT_CONTRACT_LINEAR, 0.0};
    pthread_mutex_unlock(&x->lock);
    if (!(c.size > 0))
        return "QtyType 0 (Units) needs the instrument's contract size, which the simulator does not know";
    if (c.kind == HT_CONTRACT_INVERSE)
        o->cash_qty = o->qty;
    o->qty = ht_units_amount_to_contracts(&c, o->qty);
    return NULL;
}

/* The first tag that appears twice in a message (a NewOrderSingle has no repeating group), or 0. */
static uint32_t repeated_tag(const ht_fix_msg *m)
{
    for (uint32_t i = 1; i < m->n_fields; i++)
        for (uint32_t k = 0; k < i; k++)
            if (m->fields[k].tag == m->fields[i].tag)
                return m->fields[i].tag;
    return 0;
}

/* Handles a NewOrderSingle: required tags, each tag once, ClOrdID and Symbol grammars, a duplicate ClOrdID, the
 * order's terms (limit, IOC, positive quantity and price); then matched. */
void xsim_on_new_order(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq, bool poss_dup)
{
    static const uint32_t required[] = {HT_TAG_CL_ORD_ID, HT_TAG_SYMBOL, HT_TAG_SIDE, HT_TAG_ORDER_QTY, HT_TAG_ORD_TYPE};
    for (size_t i = 0; i < HT_ARRAY_LEN(required); i++)
        if (!ht_fix_find(m, required[i])) {
            char why[80];
            snprintf(why, sizeof why, "required tag %u missing", required[i]);
            xsim_send_session_reject(x, c, seq, required[i], HT_FIX_MSG_NEW_ORDER_SINGLE, 1, why);
            return;
        }
    /* "38=1|...|38=999" is two orders to two readers (the first value here, the last elsewhere): none is taken. */
    uint32_t twice = repeated_tag(m);
    if (twice) {
        char why[80];
        snprintf(why, sizeof why, "tag %u appears more than once", twice);
        xsim_log(x, "seq %llu rejected: %s", (unsigned long long)seq, why);
        xsim_send_session_reject(x, c, seq, twice, HT_FIX_MSG_NEW_ORDER_SINGLE, 13, why);
        return;
    }
    order_ctx o;
    memset(&o, 0, sizeof o);
    if (!xsim_inbound_value(x, c, m, seq, HT_FIX_MSG_NEW_ORDER_SINGLE, HT_TAG_CL_ORD_ID, "ClOrdID (11)",
                            HT_FIX_GRAMMAR_ID, o.clordid,
                       sizeof o.clordid) ||
        !xsim_inbound_value(x, c, m, seq, HT_FIX_MSG_NEW_ORDER_SINGLE, HT_TAG_SYMBOL, "Symbol (55)",
                            HT_FIX_GRAMMAR_INSTRUMENT, o.symbol,
                       sizeof o.symbol) ||
        !xsim_inbound_value(x, c, m, seq, HT_FIX_MSG_NEW_ORDER_SINGLE, HT_TAG_DERIBIT_LABEL, "DeribitLabel (100010)",
                            HT_FIX_GRAMMAR_TEXT, o.label, sizeof o.label)) /* Deribit: at most 64 characters */
        return;
    if (o.label[0]) /* the log names each labelled order's label (the record's columns stay as they are) */
        xsim_log(x, "seq %llu ClOrdID %s DeribitLabel %s", (unsigned long long)seq, o.clordid, o.label);
    o.side = ht_fix_get_char(m, HT_TAG_SIDE);
    bool qty_ok = ht_fix_get_double(m, HT_TAG_ORDER_QTY, &o.qty) && o.qty > 0;
    const char *bad_qty_type = qty_ok ? qty_to_contracts(x, m, &o) : NULL;
    bool px_ok = ht_fix_get_double(m, HT_TAG_PRICE, &o.price) && o.price > 0;
    char tif = ht_fix_get_char(m, HT_TAG_TIME_IN_FORCE);
    bool dup = seen_clordid(c->store, o.clordid);
    if (dup) {
        record_order(x, c, seq, &o, poss_dup ? "possdup" : "duplicate");
        if (poss_dup)
            return; /* a resend of an order already handled */
        pthread_mutex_lock(&x->lock);
        x->stats.orders++;
        x->stats.rejects++;
        pthread_mutex_unlock(&x->lock);
        send_exec(x, c, &o, '8', '8', 0, 0, 0, 6, "duplicate ClOrdID");
        return;
    }
    const char *bad = NULL;
    if (o.side != '1' && o.side != '2')
        bad = "Side must be 1 (buy) or 2 (sell)";
    else if (!qty_ok)
        bad = "OrderQty must be a positive number";
    else if (bad_qty_type)
        bad = bad_qty_type;
    else if (ht_fix_get_char(m, HT_TAG_ORD_TYPE) != '2' || !px_ok)
        bad = "only limit orders (40=2) with a positive Price are accepted";
    else if (tif != '3')
        bad = "only immediate-or-cancel orders (59=3) are accepted";
    if (bad) {
        pthread_mutex_lock(&x->lock);
        x->stats.orders++;
        x->stats.rejects++;
        pthread_mutex_unlock(&x->lock);
        o.order_id = ++x->order_id;
        record_order(x, c, seq, &o, "rejected");
        send_exec(x, c, &o, '8', '8', 0, 0, 0, 99, bad);
        return;
    }
    match_order(x, c, &o, seq);
}

/* Answers an OrderCancelRequest with an OrderCancelReject: every order is immediate-or-cancel, so by the time a
 * cancel arrives it is done. */
void xsim_on_cancel_request(ht_xsim *x, conn *c, const ht_fix_msg *m, uint64_t seq)
{
    char id[64], orig[64];
    if (!xsim_inbound_value(x, c, m, seq, HT_FIX_MSG_ORDER_CANCEL_REQUEST, HT_TAG_CL_ORD_ID, "ClOrdID (11)",
                            HT_FIX_GRAMMAR_ID, id, sizeof id) ||
        !xsim_inbound_value(x, c, m, seq, HT_FIX_MSG_ORDER_CANCEL_REQUEST, HT_TAG_ORIG_CL_ORD_ID, "OrigClOrdID (41)",
                            HT_FIX_GRAMMAR_ID, orig, sizeof orig))
        return;
    if (!id[0] || !orig[0]) {
        xsim_send_session_reject(x, c, seq, id[0] ? HT_TAG_ORIG_CL_ORD_ID : HT_TAG_CL_ORD_ID,
                                 HT_FIX_MSG_ORDER_CANCEL_REQUEST, 1, "required tag missing");
        return;
    }
    ht_fix_writer w;
    xsim_begin_out(x, c, &w, HT_FIX_MSG_ORDER_CANCEL_REJECT, c->store->next_out);
    ht_fix_put_str(&w, HT_TAG_ORDER_ID, "NONE");
    ht_fix_put_str(&w, HT_TAG_CL_ORD_ID, id);
    ht_fix_put_str(&w, HT_TAG_ORIG_CL_ORD_ID, orig);
    ht_fix_put_char(&w, HT_TAG_ORD_STATUS, '4');
    ht_fix_put_char(&w, HT_TAG_CXL_REJ_RESPONSE_TO, '1');
    ht_fix_put_u64(&w, HT_TAG_CXL_REJ_REASON, 0);
    ht_fix_put_str(&w, HT_TAG_TEXT, "too late to cancel: IOC orders are done on arrival");
    xsim_send_out(x, c, &w, true, false);
}
