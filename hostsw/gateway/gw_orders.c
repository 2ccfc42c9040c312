/* SPDX-License-Identifier: MIT */
/* The gateway's order side: instruments and positions, open orders, the venue's ExecutionReports and rejects,
 * NewOrderSingle after the risk checks, cancels. */
#include <errno.h>
#include <string.h>

#include "gw_priv.h"
#include "hedgetrig/tsc.h"

/* Index of an instrument, creating it when create is set; -1 when unknown or the table is full. */
int gw_find_instrument(ht_gw *gw, const char *symbol, size_t len, bool create)
{
    for (int i = 0; i < gw->n_inst; i++)
        if (gw->inst[i].symbol_len == len && memcmp(gw->inst[i].symbol, symbol, len) == 0)
            return i;
    if (!create || gw->n_inst == HT_GW_MAX_INSTRUMENTS || len == 0 || len >= HT_GW_SYMBOL_BYTES)
        return -1;
    instrument *in = &gw->inst[gw->n_inst];
    memset(in, 0, sizeof *in);
    memcpy(in->symbol, symbol, len);
    in->symbol_len = len;
    return gw->n_inst++;
}

/* The open order with this ClOrdID number, or NULL. */
open_order *gw_find_order(ht_gw *gw, uint64_t clordid)
{
    if (!clordid)
        return NULL;
    for (size_t i = 0; i < HT_GW_MAX_OPEN_ORDERS; i++)
        if (gw->orders[i].clordid == clordid)
            return &gw->orders[i];
    return NULL;
}

/* Records a new open order and its quantity on the instrument's side. */
void gw_add_order(ht_gw *gw, uint64_t clordid, uint64_t seq, int inst, int side, double qty, double price)
{
    for (size_t i = 0; i < HT_GW_MAX_OPEN_ORDERS; i++) {
        open_order *o = &gw->orders[i];
        if (o->clordid == 0) {
            *o = (open_order){clordid, seq, inst, (int8_t)side, qty, price, 0};
            if (side > 0)
                gw->inst[inst].open_buy += qty;
            else
                gw->inst[inst].open_sell += qty;
            gw->n_open++;
            return;
        }
    }
}

/* Forgets an open order and releases what is left of its quantity. */
void gw_remove_order(ht_gw *gw, open_order *o)
{
    double left = o->qty - o->cum_qty;
    if (left < 0)
        left = 0;
    instrument *in = &gw->inst[o->inst];
    if (o->side > 0)
        in->open_buy = in->open_buy > left ? in->open_buy - left : 0;
    else
        in->open_sell = in->open_sell > left ? in->open_sell - left : 0;
    o->clordid = 0;
    gw->n_open--;
}

/* Parses our ClOrdID text (head + number); 0 when it is not one of ours. */
static uint64_t parse_clordid(const ht_gw *gw, const char *text, size_t len)
{
    size_t plen = gw->clordid_head_len;
    if (len <= plen || memcmp(text, gw->clordid_head, plen) != 0 || len - plen > 19)
        return 0;
    uint64_t v = 0;
    for (size_t i = plen; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(text[i] - '0');
    }
    return v;
}

/* Applies an inbound execution to positions and open orders (live and on replay). Returns the instrument. */
int gw_apply_exec(ht_gw *gw, const jrec_in *r)
{
    size_t sym_len = strnlen(r->symbol, sizeof r->symbol);
    open_order *o = gw_find_order(gw, r->clordid);
    int inst = o ? o->inst : gw_find_instrument(gw, r->symbol, sym_len, true);
    if (inst < 0)
        return -1;
    int side = r->side ? r->side : (o ? o->side : 0);
    if (r->exec_type == 'F' && r->last_qty > 0 && side) {
        gw->inst[inst].position += side * r->last_qty;
        if (o) {
            double before = o->cum_qty;
            o->cum_qty = r->cum_qty > before ? r->cum_qty : before + r->last_qty;
            double filled = o->cum_qty - before;
            if (o->side > 0)
                gw->inst[inst].open_buy = gw->inst[inst].open_buy > filled ? gw->inst[inst].open_buy - filled : 0;
            else
                gw->inst[inst].open_sell = gw->inst[inst].open_sell > filled ? gw->inst[inst].open_sell - filled : 0;
        }
    }
    bool terminal = r->ord_status == '2' || r->ord_status == '4' || r->ord_status == '8' || r->ord_status == 'C' ||
                    r->ord_status == '3';
    if (o && terminal)
        gw_remove_order(gw, o);
    return inst;
}

/* The instrument an ExecutionReport is about, into symbol[HT_GW_SYMBOL_BYTES]: our order's own when the report is
 * about one of ours (a different echo is logged), else the report's Symbol (55), which must be an instrument name
 * that fits (never truncated onto another instrument). 0, or -1 (reported) when it is not. */
static int exec_symbol(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, const open_order *o, char *symbol,
                       ht_gw_event *ev, int max, int *n)
{
    size_t len = 0;
    const char *echo = ht_fix_get(m, HT_TAG_SYMBOL, &len);
    if (o) {
        const instrument *in = &gw->inst[o->inst];
        memcpy(symbol, in->symbol, in->symbol_len);
        symbol[in->symbol_len] = '\0';
        if (len != in->symbol_len || memcmp(echo, in->symbol, len) != 0) {
            char shown[40];
            gw_log(gw, "ExecutionReport seq %llu for %s%llu names Symbol '%s', the order was for %s: kept %s",
                   (unsigned long long)seq, gw->cfg.clordid_prefix, (unsigned long long)o->clordid,
                   ht_fix_printable(echo, len, shown, sizeof shown), symbol, symbol);
        }
        return 0;
    }
    ht_error bad;
    if (ht_fix_check_value("ExecutionReport Symbol (55)", echo, len, HT_FIX_GRAMMAR_INSTRUMENT, 1,
                           HT_GW_SYMBOL_BYTES - 1, &bad) != 0) {
        char why[256];
        snprintf(why, sizeof why, "seq %llu: %.220s", (unsigned long long)seq, bad.msg);
        gw_report_bad(gw, ev, max, n, seq, why);
        return -1;
    }
    memcpy(symbol, echo, len);
    symbol[len] = '\0';
    return 0;
}

/* Fills an event from an ExecutionReport and applies it; journals it. */
/* What a report on one of our orders (of ordered contracts) does to the order-to-volume counts and the account
 * requests: a fill adds volume and asks for the account's figures; an end cancelled short of the quantity counts
 * one more change (Deribit counts a cancelled IOC twice). */
static void count_exec(ht_gw *gw, const jrec_in *r, double ordered)
{
    if (r->exec_type == 'F' && r->last_qty > 0) {
        gw_rate_order_done(gw, false, r->last_qty);
        gw_account_after_fill(gw);
    }
    bool cancelled = r->ord_status == '4' || r->ord_status == 'C' || r->exec_type == '4' || r->exec_type == 'C';
    if (cancelled && r->cum_qty < ordered * (1 - 1e-9))
        gw_rate_order_done(gw, true, 0);
}

int gw_on_execution_report(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev,
                               int max, int *n)
{
    static const uint32_t required[] = {HT_TAG_ORDER_ID, HT_TAG_EXEC_ID, HT_TAG_EXEC_TYPE, HT_TAG_ORD_STATUS,
                                        HT_TAG_SIDE, HT_TAG_SYMBOL};
    for (size_t i = 0; i < HT_ARRAY_LEN(required); i++) {
        if (!ht_fix_find(m, required[i])) {
            char why[128];
            snprintf(why, sizeof why, "ExecutionReport seq %llu lacks required tag %u", (unsigned long long)seq,
                     required[i]);
            gw_report_bad(gw, ev, max, n, seq, why);
            return gw_send_reject(gw, seq, required[i], HT_FIX_MSG_EXECUTION_REPORT, 1, why);
        }
    }
    jrec_in r;
    memset(&r, 0, sizeof r);
    r.seq = seq;
    r.msg_type[0] = HT_FIX_MSG_EXECUTION_REPORT[0];
    r.exec_type = ht_fix_get_char(m, HT_TAG_EXEC_TYPE);
    r.ord_status = ht_fix_get_char(m, HT_TAG_ORD_STATUS);
    char side = ht_fix_get_char(m, HT_TAG_SIDE);
    r.side = side == '1' ? 1 : side == '2' ? -1 : 0;
    ht_fix_get_double(m, HT_TAG_LAST_QTY, &r.last_qty);
    ht_fix_get_double(m, HT_TAG_LAST_PX, &r.last_px);
    ht_fix_get_double(m, HT_TAG_CUM_QTY, &r.cum_qty);
    size_t idlen;
    const char *id = ht_fix_get(m, HT_TAG_CL_ORD_ID, &idlen);
    r.clordid = id ? parse_clordid(gw, id, idlen) : 0;
    if (!gw_find_order(gw, r.clordid)) {
        /* A report on a cancel request names the order in OrigClOrdID. */
        const char *orig = ht_fix_get(m, HT_TAG_ORIG_CL_ORD_ID, &idlen);
        uint64_t orig_id = orig ? parse_clordid(gw, orig, idlen) : 0;
        if (gw_find_order(gw, orig_id))
            r.clordid = orig_id;
    }
    double leaves_qty = 0; /* a partial fill matters only to the crash test hook */
    bool partial_fill = HT_UNLIKELY(gw->crash_at != HT_GW_CRASH_NONE) && r.exec_type == 'F' &&
                        ht_fix_get_double(m, HT_TAG_LEAVES_QTY, &leaves_qty) && leaves_qty > 0;
    if (partial_fill)
        CRASH_POINT(gw, HT_GW_CRASH_FILL_READ);
    if (exec_symbol(gw, m, seq, gw_find_order(gw, r.clordid), r.symbol, ev, max, n) != 0)
        return gw_send_reject(gw, seq, HT_TAG_SYMBOL, HT_FIX_MSG_EXECUTION_REPORT, 5,
                              "Symbol (55) is not an instrument name of at most 31 characters");
    if (gw_journal_put(gw, JREC_IN, &r, sizeof r, NULL, 0) < 0)
        return -1;
    if (partial_fill)
        CRASH_POINT(gw, HT_GW_CRASH_FILL_JOURNALED);
    /* A fill beyond the order's quantity (a venue fault, or a unit mix-up such as USD read as contracts) leaves a
     * position nobody decided: it is applied as reported, and the kill switch stops further orders. */
    const open_order *ours = gw_find_order(gw, r.clordid);
    double ordered = ours ? ours->qty : 0, filled_after = 0;
    if (ours && r.exec_type == 'F' && r.last_qty > 0)
        filled_after = r.cum_qty > ours->cum_qty ? r.cum_qty : ours->cum_qty + r.last_qty;
    bool overfill = ours && filled_after > ordered * (1 + 1e-9);
    bool is_ours = ours != NULL;
    int inst = gw_apply_exec(gw, &r);
    if (is_ours)
        count_exec(gw, &r, ordered);
    double position = inst >= 0 ? gw->inst[inst].position : 0;
    ht_gw_event *e = gw_push_event(ev, max, n, HT_GW_EV_EXEC);
    if (e) {
        e->recv_tsc = recv_tsc;
        e->seq = seq;
        ht_fix_get_printable(m, HT_TAG_CL_ORD_ID, e->clordid, sizeof e->clordid);
        e->clordid_num = r.clordid;
        ht_fix_get_printable(m, HT_TAG_ORDER_ID, e->order_id, sizeof e->order_id);
        ht_fix_get_printable(m, HT_TAG_EXEC_ID, e->exec_id, sizeof e->exec_id);
        memcpy(e->symbol, r.symbol, sizeof e->symbol);
        e->exec_type = r.exec_type;
        e->ord_status = r.ord_status;
        e->side = r.side < 0 ? HT_GW_SELL : HT_GW_BUY;
        ht_fix_get_double(m, HT_TAG_ORDER_QTY, &e->order_qty);
        e->last_qty = r.last_qty;
        e->last_px = r.last_px;
        e->cum_qty = r.cum_qty;
        ht_fix_get_double(m, HT_TAG_LEAVES_QTY, &e->leaves_qty);
        ht_fix_get_double(m, HT_TAG_AVG_PX, &e->avg_px);
        ht_fix_get_double(m, HT_TAG_COMMISSION, &e->commission);
        e->position_after = position;
        uint64_t code = 0;
        if (ht_fix_get_u64(m, HT_TAG_ORD_REJ_REASON, &code))
            e->reason_code = (int)code;
        ht_fix_get_printable(m, HT_TAG_TEXT, e->text, sizeof e->text);
    }
    if (r.exec_type == 'F' && r.last_qty > 0 && gw->fill_fn && inst >= 0) {
        ht_gw_fill f = {gw->inst[inst].symbol, r.side < 0 ? HT_GW_SELL : HT_GW_BUY, r.last_qty, r.last_px, position,
                        r.clordid, recv_tsc};
        gw->fill_fn(gw->fill_user, &f);
    }
    if (HT_UNLIKELY(overfill)) {
        char why[256];
        snprintf(why, sizeof why, "OVERFILL: ExecutionReport seq %llu fills %.10g of order %s%llu for %.10g %s",
                 (unsigned long long)seq, filled_after, gw->clordid_head, (unsigned long long)r.clordid, ordered,
                 r.symbol);
        ht_gw_kill(gw, why);
        ht_gw_event *k = gw_push_event(ev, max, n, HT_GW_EV_KILL);
        if (k)
            snprintf(k->text, sizeof k->text, "%s", why);
    }
    return 0;
}

/* Reports a reject-like message (35=3, 9, j) as an event; journals its sequence number. */
int gw_on_reject(ht_gw *gw, const ht_fix_msg *m, uint64_t seq, uint64_t recv_tsc, ht_gw_event *ev, int max, int *n)
{
    (void)recv_tsc;
    ht_gw_event_type type = strcmp(m->msg_type, HT_FIX_MSG_REJECT) == 0 ? HT_GW_EV_SESSION_REJECT
                            : strcmp(m->msg_type, HT_FIX_MSG_ORDER_CANCEL_REJECT) == 0 ? HT_GW_EV_CANCEL_REJECT
                                                                                      : HT_GW_EV_BUSINESS_REJECT;
    ht_gw_event *e = gw_push_event(ev, max, n, type);
    char text[256] = "";
    ht_fix_get_printable(m, HT_TAG_TEXT, text, sizeof text);
    uint64_t ref = 0, code = 0;
    ht_fix_get_u64(m, HT_TAG_REF_SEQ_NUM, &ref);
    if (type == HT_GW_EV_SESSION_REJECT)
        ht_fix_get_u64(m, HT_TAG_SESSION_REJECT_REASON, &code);
    else if (type == HT_GW_EV_BUSINESS_REJECT)
        ht_fix_get_u64(m, HT_TAG_BUSINESS_REJECT_REASON, &code);
    else
        ht_fix_get_u64(m, HT_TAG_CXL_REJ_REASON, &code);
    gw_log(gw, "%s from the venue: seq %llu, ref seq %llu, reason %llu: %s",
           type == HT_GW_EV_SESSION_REJECT ? "Reject" : type == HT_GW_EV_BUSINESS_REJECT ? "BusinessMessageReject"
                                                                                         : "OrderCancelReject",
           (unsigned long long)seq, (unsigned long long)ref, (unsigned long long)code, text);
    if (e) {
        e->seq = seq;
        e->ref_seq = ref;
        e->reason_code = (int)code;
        memcpy(e->text, text, sizeof e->text);
        ht_fix_get_printable(m, HT_TAG_CL_ORD_ID, e->clordid, sizeof e->clordid);
    }
    if (type != HT_GW_EV_CANCEL_REJECT)
        gw_account_on_reject(gw, ref, text, ev, max, n);
    return gw_journal_in_seq(gw, m, seq);
}

/* Journals the next block of ClOrdID numbers when the reserved ones are used up, so that none is reused after a
 * crash. 0, or -1 when the journal failed. */
static int reserve_clordids(ht_gw *gw)
{
    if (HT_UNLIKELY(gw->next_clordid >= gw->reserved_clordid)) {
        uint64_t reserve = gw->next_clordid + CLORDID_BLOCK;
        if (gw_journal_put(gw, JREC_RESERVE, &reserve, sizeof reserve, NULL, 0) < 0)
            return -1;
        gw->reserved_clordid = reserve;
    }
    return 0;
}

/* Sends a cancel for one open order (kill switch and ht_gw_cancel). */
int gw_send_cancel(ht_gw *gw, const open_order *o)
{
    if (!gw_rate_take(gw, true)) {
        gw->rate.held++;
        gw_log(gw, "cancel of %s%llu held back: the venue's matching-engine budget has no room now (an IOC order "
                   "ends by itself)", gw->clordid_head, (unsigned long long)o->clordid);
        return -1;
    }
    gw->rate.me_changes++;
    if (reserve_clordids(gw) != 0)
        return -1;
    uint64_t id = gw->next_clordid++;
    char text[HT_GW_CLORDID_BYTES];
    ht_fix_writer w;
    gw_begin_msg(gw, &w, HT_FIX_MSG_ORDER_CANCEL_REQUEST, gw->next_out);
    snprintf(text, sizeof text, "%s%llu", gw->clordid_head, (unsigned long long)o->clordid);
    ht_fix_put_str(&w, HT_TAG_ORIG_CL_ORD_ID, text);
    snprintf(text, sizeof text, "%s%llu", gw->clordid_head, (unsigned long long)id);
    ht_fix_put_str(&w, HT_TAG_CL_ORD_ID, text);
    ht_fix_put_bytes(&w, HT_TAG_SYMBOL, gw->inst[o->inst].symbol, gw->inst[o->inst].symbol_len);
    ht_fix_put_char(&w, HT_TAG_SIDE, o->side > 0 ? '1' : '2');
    ht_fix_put_decimal(&w, HT_TAG_ORDER_QTY, o->qty, gw->cfg.qty_decimals);
    ht_fix_put_time(&w, HT_TAG_TRANSACT_TIME, ht_wall_ns());
    gw->rate.paid = true;
    return gw_finish_and_send(gw, &w, 'F', id);
}

/* True when symbol[0..len) is 1..31 bytes of an instrument name and len is its whole length (the order path's check;
 * the encoder checks again). */
static inline bool symbol_ok(const char *symbol, size_t len)
{
    if (!symbol || len == 0 || len >= HT_GW_SYMBOL_BYTES)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!ht_fix_byte_allowed(HT_FIX_GRAMMAR_INSTRUMENT, (unsigned char)symbol[i]))
            return false;
    return true;
}

void gw_risk_inputs(const ht_gw *gw, int inst, int side, double *position, double *open_same, uint64_t *now)
{
    *position = inst >= 0 ? gw->inst[inst].position : 0;
    *open_same = inst < 0 ? 0 : side > 0 ? gw->inst[inst].open_buy : -gw->inst[inst].open_sell;
    *now = gw->risk_clock_ns ? gw->risk_clock_ns : ht_mono_ns();
}

/* Refuses an order the rules do not allow, with res->rule and res->reason: a Symbol that is not an instrument name,
 * a quantity or price that is not a number > 0 once written, a risk rule (ht_risk_check), or no room for the
 * instrument. Fills *ro with what is checked and sent, *inst with the instrument and *now with the risk clock.
 * HT_GW_SENT (0) when the order may go, else HT_GW_ERR_RISK. */
static int check_order(ht_gw *gw, const ht_gw_order *order, size_t sym_len, ht_risk_order *ro, int *inst,
                       uint64_t *now, ht_gw_send_result *res)
{
    if (HT_UNLIKELY(!symbol_ok(order->symbol, sym_len))) {
        /* What becomes Symbol (55) must be an instrument name: a byte like SOH would start another field. */
        ht_error bad;
        ht_fix_check_value("Symbol (55)", ro->symbol, strnlen(ro->symbol, 64), HT_FIX_GRAMMAR_INSTRUMENT, 1,
                           HT_GW_SYMBOL_BYTES - 1, &bad);
        res->rule = HT_RISK_BAD_ORDER;
        snprintf(res->reason, sizeof res->reason, "risk rule bad_order: %.230s", bad.msg);
        gw_log(gw, "ORDER REFUSED: %s", res->reason);
        return HT_GW_ERR_RISK;
    }
    /* The risk rules check the quantity and price as they will be written (rounded to the configured decimals):
     * 1e-9 must not pass as "positive" and go out as OrderQty 0, nor 1e15 overflow the encoder. */
    ro->qty = ht_fix_decimal_on_wire(order->qty, gw->cfg.qty_decimals);
    ro->price = ht_fix_decimal_on_wire(order->price, gw->cfg.price_decimals);
    if (HT_UNLIKELY(!(ro->qty > 0) || !(ro->price > 0)) && order->qty > 0 && order->price > 0) {
        res->rule = HT_RISK_BAD_ORDER;
        snprintf(res->reason, sizeof res->reason, "risk rule bad_order: qty %.10g @ %.10g cannot be written with "
                 "qty_decimals %u / price_decimals %u as a number > 0 (below 9e18 once scaled)", order->qty,
                 order->price, gw->cfg.qty_decimals, gw->cfg.price_decimals);
        gw_log(gw, "ORDER REFUSED: %s", res->reason);
        return HT_GW_ERR_RISK;
    }
    *inst = gw_find_instrument(gw, order->symbol, sym_len, true);
    double position, open_same;
    gw_risk_inputs(gw, *inst, ro->side, &position, &open_same, now);
    res->rule = ht_risk_check(gw->risk, ro, position, open_same, *now, res->reason, sizeof res->reason);
    if (res->rule == HT_RISK_OK && *inst < 0) {
        res->rule = HT_RISK_BAD_ORDER;
        snprintf(res->reason, sizeof res->reason, "risk rule bad_order: symbol '%.40s' is too long or the instrument "
                 "table (%d) is full", ro->symbol, HT_GW_MAX_INSTRUMENTS);
    }
    if (HT_UNLIKELY(res->rule != HT_RISK_OK)) {
        gw_log(gw, "ORDER REFUSED: %s", res->reason);
        return HT_GW_ERR_RISK;
    }
    return HT_GW_SENT;
}

/* Journals the encoded order bytes[0..len) as outbound seq with ClOrdID number id, then hands it to the socket (the
 * crash test hook's two points around the send). Returns the journal offset, or -1 when the journal failed; *sent_rc
 * is the socket's answer. */
static int64_t journal_and_send(ht_gw *gw, uint64_t seq, uint64_t id, const char *bytes, size_t len, int *sent_rc,
                                ht_gw_send_result *res)
{
    uint8_t head[JREC_OUT_HEAD_BYTES];
    memcpy(head, &seq, 8);
    memcpy(head + 8, &id, 8);
    head[16] = 'D';
    int64_t at = gw_journal_put(gw, JREC_OUT, head, sizeof head, bytes, len);
    if (HT_UNLIKELY(at < 0))
        return -1;
    res->journaled_tsc = ht_tsc_now();
    gw->next_out++;
    gw->orders_journaled++;
    CRASH_POINT(gw, HT_GW_CRASH_ORDER_JOURNALED);
    *sent_rc = 0;
    if (HT_UNLIKELY(gw->debug_skip_out)) {
        gw->debug_skip_out = false;
        gw_log(gw, "test hook: order seq %llu journaled but not transmitted", (unsigned long long)seq);
    } else {
        *sent_rc = gw_send_bytes(gw, bytes, len);
    }
    CRASH_POINT(gw, HT_GW_CRASH_ORDER_SENT);
    return at;
}

int gw_order_gate(ht_gw *gw, ht_gw_send_result *res)
{
    if (HT_UNLIKELY(gw->state != HT_GW_ACTIVE)) {
        snprintf(res->reason, sizeof res->reason, "session is %s, not active", ht_gw_state_name(gw->state));
        return HT_GW_ERR_NOT_READY;
    }
    if (HT_UNLIKELY(gw->n_open >= HT_GW_MAX_OPEN_ORDERS)) {
        snprintf(res->reason, sizeof res->reason, "%d orders are open", HT_GW_MAX_OPEN_ORDERS);
        return HT_GW_ERR_FULL;
    }
    if (HT_UNLIKELY(!gw_rate_take(gw, true))) {
        gw->rate.held++;
        snprintf(res->reason, sizeof res->reason,
                 "rate limit: the venue's matching-engine budget ([rate] %g requests/s, burst %g, reserve %g) has no "
                 "room for another order now", gw->cfg.rate.me_rate_per_s, gw->cfg.rate.me_burst, gw->cfg.rate.reserve);
        return HT_GW_ERR_RATE;
    }
    gw->rate.me_changes++;
    if (HT_UNLIKELY(reserve_clordids(gw) != 0)) {
        snprintf(res->reason, sizeof res->reason, "journal write failed (see the log)");
        return HT_GW_ERR_IO;
    }
    return HT_GW_SENT;
}

int gw_order_out(ht_gw *gw, uint64_t seq, uint64_t id, int inst, const ht_risk_order *ro, uint64_t now,
                 const char *bytes, size_t len, ht_gw_send_result *res)
{
    res->ready_tsc = ht_tsc_now();
    res->clordid = id;
    res->seq = seq;
    int rc = 0;
    int64_t at = journal_and_send(gw, seq, id, bytes, len, &rc, res);
    if (HT_UNLIKELY(at < 0)) {
        snprintf(res->reason, sizeof res->reason, "journal write failed (see the log)");
        return HT_GW_ERR_IO;
    }
    res->sent_tsc = ht_tsc_now();
    gw_index_out(gw, seq, id, 'D', (uint64_t)at, (uint32_t)len);
    gw_add_order(gw, id, seq, inst, ro->side, ro->qty, ro->price);
    ht_risk_commit(gw->risk, ro, now);
    memcpy(res->clordid_text, gw->clordid_head, gw->clordid_head_len);
    res->clordid_text[gw->clordid_head_len + ht_fix_format_u64(res->clordid_text + gw->clordid_head_len, id)] = '\0';
    if (HT_UNLIKELY(rc != 0)) {
        /* Journaled: the venue will ask for it (gap) after the reconnect, or it is voided then. */
        snprintf(res->reason, sizeof res->reason, "socket send failed: %s", strerror(errno));
        gw_close_socket(gw);
        gw_set_state(gw, HT_GW_DISCONNECTED);
        gw->reconnect_at_ns = ht_mono_ns() + (uint64_t)gw->cfg.reconnect_min_ms * 1000000u;
        return HT_GW_ERR_IO;
    }
    return HT_GW_SENT;
}

int ht_gw_send_order(ht_gw *gw, const ht_gw_order *order, ht_gw_send_result *res)
{
    gw_result_reset(res);
    size_t sym_len = order->symbol ? strnlen(order->symbol, HT_GW_SYMBOL_BYTES) : 0;
    int side = order->side == HT_GW_BUY ? 1 : order->side == HT_GW_SELL ? -1 : 0;
    ht_risk_order ro = {order->symbol ? order->symbol : "", side, order->qty, order->price};
    int inst = -1;
    uint64_t now = 0;
    if (check_order(gw, order, sym_len, &ro, &inst, &now, res) != HT_GW_SENT)
        return HT_GW_ERR_RISK;
    int gate = gw_order_gate(gw, res);
    if (HT_UNLIKELY(gate != HT_GW_SENT))
        return gate;
    uint64_t id = gw->next_clordid++;
    uint64_t seq = gw->next_out;
    size_t len;
    const char *bytes = ht_fix_encode_nos_trigger(&gw->nos, gw->nos_buf, seq, ht_wall_ns(), id, order->symbol,
                                                  sym_len, side > 0 ? '1' : '2', ro.qty, ro.price,
                                                  order->trigger_channel, order->trigger_seq, &len);
    if (HT_UNLIKELY(!bytes)) { /* unreachable after the checks above; the encoder refuses on its own */
        res->rule = HT_RISK_BAD_ORDER;
        snprintf(res->reason, sizeof res->reason, "risk rule bad_order: the order encoder refused the order");
        return HT_GW_ERR_RISK;
    }
    return gw_order_out(gw, seq, id, inst, &ro, now, bytes, len, res);
}

int ht_gw_cancel(ht_gw *gw, uint64_t clordid_num, ht_error *err)
{
    open_order *o = gw_find_order(gw, clordid_num);
    if (!o)
        return ht_error_set(err, "no open order %s%llu", gw->clordid_head, (unsigned long long)clordid_num);
    if (gw->state != HT_GW_ACTIVE)
        return ht_error_set(err, "session is %s, not active", ht_gw_state_name(gw->state));
    if (gw_send_cancel(gw, o) != 0)
        return ht_error_set(err, "sending the cancel failed (see the log)");
    return 0;
}

void ht_gw_set_risk_clock(ht_gw *gw, uint64_t now_ns)
{
    gw->risk_clock_ns = now_ns;
}

int ht_gw_set_mark(ht_gw *gw, const char *symbol, double mark)
{
    if (!symbol_ok(symbol, symbol ? strnlen(symbol, HT_GW_SYMBOL_BYTES) : 0))
        return -1; /* no order for it could be sent: a mark for it would only hide a typo */
    return ht_risk_set_mark(gw->risk, symbol, mark);
}

int ht_gw_set_contract(ht_gw *gw, const char *symbol, const ht_contract *contract, ht_error *err)
{
    if (ht_gw_check_symbol("ht_gw_set_contract: Symbol (55)", symbol ? symbol : "", err) != 0)
        return -1;
    gw_armed_invalidate(gw); /* the notional rule of an armed order read the old contract */
    return ht_risk_set_contract(gw->risk, symbol, contract, err);
}

double ht_gw_position(const ht_gw *gw, const char *symbol)
{
    size_t len = strlen(symbol);
    for (int i = 0; i < gw->n_inst; i++)
        if (gw->inst[i].symbol_len == len && memcmp(gw->inst[i].symbol, symbol, len) == 0)
            return gw->inst[i].position;
    return 0;
}
