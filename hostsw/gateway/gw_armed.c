/* SPDX-License-Identifier: MIT */
/* Orders armed ahead of their trigger (docs/gateway.md "Armed orders"): arming runs the static rules and encodes the
 * order once; firing runs the final gate (the rules of the moment, the same code as ht_gw_send_order), patches the
 * fields of the moment in and sends it with the bookkeeping of any order (gw_order_out). */
#include <string.h>

#include "gw_priv.h"
#include "hedgetrig/tsc.h"

void gw_armed_invalidate(ht_gw *gw)
{
    gw->arm_serial++;
}

/* Refuses with rule and a reason (logged); returns HT_GW_ERR_RISK. */
static int refuse(ht_gw *gw, ht_gw_send_result *res, ht_risk_rule rule)
{
    res->rule = rule;
    gw_log(gw, "ORDER REFUSED: %s", res->reason);
    return HT_GW_ERR_RISK;
}

int ht_gw_arm_order(ht_gw *gw, const ht_gw_order *order, ht_gw_armed *out, ht_gw_send_result *res)
{
    out->armed = false;
    memset(res, 0, sizeof *res);
    size_t sym_len = order->symbol ? strnlen(order->symbol, HT_GW_SYMBOL_BYTES) : 0;
    int side = order->side == HT_GW_BUY ? 1 : order->side == HT_GW_SELL ? -1 : 0;
    ht_error bad;
    if (ht_fix_check_value("Symbol (55)", order->symbol ? order->symbol : "", sym_len, HT_FIX_GRAMMAR_INSTRUMENT, 1,
                           HT_GW_SYMBOL_BYTES - 1, &bad) != 0 || sym_len >= HT_GW_SYMBOL_BYTES) {
        snprintf(res->reason, sizeof res->reason, "risk rule bad_order: %.230s",
                 sym_len >= HT_GW_SYMBOL_BYTES ? "Symbol (55) longer than 31 characters" : bad.msg);
        return refuse(gw, res, HT_RISK_BAD_ORDER);
    }
    ht_risk_order ro = {order->symbol, side, ht_fix_decimal_on_wire(order->qty, gw->cfg.qty_decimals),
                        ht_fix_decimal_on_wire(order->price, gw->cfg.price_decimals)};
    ht_risk_rule rule = ht_risk_check_static(gw->risk, &ro, res->reason, sizeof res->reason);
    if (rule != HT_RISK_OK)
        return refuse(gw, res, rule);
    int inst = gw_find_instrument(gw, order->symbol, sym_len, true);
    if (inst < 0) {
        snprintf(res->reason, sizeof res->reason, "risk rule bad_order: the instrument table (%d) is full",
                 HT_GW_MAX_INSTRUMENTS);
        return refuse(gw, res, HT_RISK_BAD_ORDER);
    }
    if (ht_fix_arm_nos(&gw->nos, &out->nos, order->symbol, sym_len, side > 0 ? '1' : '2', ro.qty, ro.price) != 0) {
        snprintf(res->reason, sizeof res->reason, "risk rule bad_order: the order encoder refused the order");
        return refuse(gw, res, HT_RISK_BAD_ORDER);
    }
    out->gw = gw;
    out->serial = gw->arm_serial;
    out->inst = inst;
    out->risk_index = ht_risk_symbol_index(gw->risk, order->symbol);
    out->side = side;
    out->qty = ro.qty;
    out->price = ro.price;
    memcpy(out->symbol, order->symbol, sym_len);
    out->symbol[sym_len] = '\0';
    out->armed = true;
    return HT_GW_SENT;
}

/* A quantity other than the armed one: the static quantity rules again, and the armed width. 0 with the patch in
 * qty_text, or HT_GW_ERR_RISK. */
static int adjust_qty(ht_gw *gw, const ht_gw_armed *a, ht_risk_order *ro, char *qty_text, ht_gw_send_result *res)
{
    ht_risk_rule rule = ht_risk_check_static(gw->risk, ro, res->reason, sizeof res->reason);
    if (rule != HT_RISK_OK)
        return refuse(gw, res, rule);
    if (ht_fix_armed_qty(&a->nos, ro->qty, qty_text) < 0) {
        snprintf(res->reason, sizeof res->reason, "risk rule bad_order: qty %.10g does not fit the armed OrderQty "
                 "width of %u characters (armed %.10g): arm it again", ro->qty, a->nos.qty_width, a->qty);
        return refuse(gw, res, HT_RISK_BAD_ORDER);
    }
    return 0;
}

int ht_gw_fire_armed(ht_gw *gw, ht_gw_armed *a, double qty, uint16_t trigger_channel, uint64_t trigger_seq,
                     ht_gw_send_result *res)
{
    gw_result_reset(res);
    if (HT_UNLIKELY(!a->armed || a->gw != gw || a->serial != gw->arm_serial)) {
        snprintf(res->reason, sizeof res->reason, "%s", !a->armed ? "not armed" : "stale: arm again");
        a->armed = false;
        return HT_GW_ERR_STALE;
    }
    ht_risk_order ro = {a->symbol, a->side, a->qty, a->price};
    char qty_text[HT_FIX_ARMED_QTY_BYTES];
    const char *patch = NULL;
    if (HT_UNLIKELY(qty != a->qty)) {
        ro.qty = ht_fix_decimal_on_wire(qty, gw->cfg.qty_decimals);
        if (ro.qty != a->qty) {
            if (adjust_qty(gw, a, &ro, qty_text, res) != 0)
                return HT_GW_ERR_RISK;
            patch = qty_text;
        }
    }
    /* The final gate: the rules of the moment (ht_risk_check_moment, as ht_gw_send_order's ht_risk_check), then the
     * session's (gw_order_gate, the same function). */
    double position, open_same;
    uint64_t now;
    gw_risk_inputs(gw, a->inst, a->side, &position, &open_same, &now);
    int index = a->risk_index >= 0 ? a->risk_index : ht_risk_symbol_index(gw->risk, a->symbol);
    ht_risk_rule rule = ht_risk_check_moment(gw->risk, &ro, index, position, open_same, now, res->reason,
                                             sizeof res->reason);
    if (HT_UNLIKELY(rule != HT_RISK_OK))
        return refuse(gw, res, rule);
    int gate = gw_order_gate(gw, res);
    if (HT_UNLIKELY(gate != HT_GW_SENT))
        return gate;
    uint64_t id = gw->next_clordid++;
    uint64_t seq = gw->next_out;
    size_t len;
    const char *bytes = ht_fix_fire_nos(&gw->nos, &a->nos, gw->nos_buf, seq, ht_wall_ns(), id, patch,
                                        trigger_channel, trigger_seq, &len);
    a->armed = false; /* spent: it goes out now (or is journaled and voided or resent after a failure) */
    return gw_order_out(gw, seq, id, a->inst, &ro, now, bytes, len, res);
}
