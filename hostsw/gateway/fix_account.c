/* SPDX-License-Identifier: MIT */
/* Deribit's FIX account messages (hedgetrig/fix_account.h): AN/AP, BE/BF, AD/AQ/AE, encoded and parsed with every
 * value checked. */
#include "hedgetrig/fix_account.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- names for messages ---- */

static const struct {
    uint32_t tag;
    const char *name;
} k_names[] = {
    {HT_TAG_CURRENCY, "Currency"}, {HT_TAG_LAST_PX, "LastPx"}, {HT_TAG_LAST_QTY, "LastQty"},
    {HT_TAG_ORDER_ID, "OrderID"}, {HT_TAG_SIDE, "Side"}, {HT_TAG_SYMBOL, "Symbol"}, {HT_TAG_TEXT, "Text"},
    {HT_TAG_CONTRACT_MULTIPLIER, "ContractMultiplier"}, {HT_TAG_SUBSCRIPTION_REQUEST_TYPE, "SubscriptionRequestType"},
    {HT_TAG_USERNAME, "Username"}, {HT_TAG_NO_SIDES, "NoSides"}, {HT_TAG_TRADE_REQUEST_ID, "TradeRequestID"},
    {HT_TAG_TRADE_REQUEST_TYPE, "TradeRequestType"}, {HT_TAG_PREVIOUSLY_REPORTED, "PreviouslyReported"},
    {HT_TAG_TRADE_REPORT_ID, "TradeReportID"}, {HT_TAG_NO_POSITIONS, "NoPositions"}, {HT_TAG_POS_TYPE, "PosType"},
    {HT_TAG_LONG_QTY, "LongQty"}, {HT_TAG_SHORT_QTY, "ShortQty"}, {HT_TAG_POS_REQ_ID, "PosReqID"},
    {HT_TAG_POS_MAINT_RPT_ID, "PosMaintRptID"}, {HT_TAG_POS_REQ_TYPE, "PosReqType"},
    {HT_TAG_TOTAL_NUM_POS_REPORTS, "TotalNumPosReports"}, {HT_TAG_POS_REQ_RESULT, "PosReqResult"},
    {HT_TAG_SETTL_PRICE, "SettlPrice"}, {HT_TAG_TRADE_REQUEST_RESULT, "TradeRequestResult"},
    {HT_TAG_TRADE_REQUEST_STATUS, "TradeRequestStatus"}, {HT_TAG_TRD_TYPE, "TrdType"},
    {HT_TAG_QTY_TYPE, "QtyType"}, {HT_TAG_UNDERLYING_END_PRICE, "UnderlyingEndPrice"},
    {HT_TAG_USER_REQUEST_ID, "UserRequestID"}, {HT_TAG_USER_REQUEST_TYPE, "UserRequestType"},
    {HT_TAG_USER_STATUS, "UserStatus"}, {HT_TAG_USER_STATUS_TEXT, "UserStatusText"}, {HT_TAG_TRADE_ID, "TradeID"},
    {HT_TAG_SECONDARY_TRADE_ID, "SecondaryTradeID"}, {HT_TAG_DERIBIT_USER_EQUITY, "DeribitUserEquity"},
    {HT_TAG_DERIBIT_USER_BALANCE, "DeribitUserBalance"}, {HT_TAG_DERIBIT_USER_INITIAL_MARGIN, "DeribitUserInitialMargin"},
    {HT_TAG_DERIBIT_USER_MAINTENANCE_MARGIN, "DeribitUserMaintenanceMargin"},
};

static const char *tag_name(uint32_t tag)
{
    for (size_t i = 0; i < HT_ARRAY_LEN(k_names); i++)
        if (k_names[i].tag == tag)
            return k_names[i].name;
    return "field";
}

/* What a parser or an encoder is working on, for its messages: "PositionReport (AP)", and the entry of a group. */
typedef struct ctx {
    const char *what;
    int entry; /* 1-based entry of a group, 0 outside one */
    ht_error *err;
} ctx;

/* "<what>: <Name> (<tag>)[ of entry N]" into out. */
static const char *field_label(const ctx *c, uint32_t tag, char *out, size_t cap)
{
    if (c->entry > 0)
        snprintf(out, cap, "%s: %s (%u) of entry %d", c->what, tag_name(tag), tag, c->entry);
    else
        snprintf(out, cap, "%s: %s (%u)", c->what, tag_name(tag), tag);
    return out;
}

static int missing(const ctx *c, uint32_t tag)
{
    char label[128];
    return ht_error_set(c->err, "%s is missing", field_label(c, tag, label, sizeof label));
}

/* ---- reading one value ---- */

/* A string of a grammar, 1..cap-1 bytes (ids, symbols, currencies), copied to out. */
static int val_str(const ctx *c, uint32_t tag, const char *v, size_t len, ht_fix_grammar g, char *out, size_t cap)
{
    char label[128];
    if (ht_fix_check_value(field_label(c, tag, label, sizeof label), v, len, g, 1, cap - 1, c->err) != 0)
        return -1;
    memcpy(out, v, len);
    out[len] = '\0';
    return 0;
}

/* A currency: A-Z 0-9, 1..15. */
static int val_currency(const ctx *c, uint32_t tag, const char *v, size_t len, char *out, size_t cap)
{
    for (size_t i = 0; i < len; i++)
        if (v[i] == '_' || v[i] == '-') {
            char label[128], shown[32];
            return ht_error_set(c->err, "%s '%s': a currency is A-Z and 0-9", field_label(c, tag, label, sizeof label),
                                ht_fix_printable(v, len, shown, sizeof shown));
        }
    return val_str(c, tag, v, len, HT_FIX_GRAMMAR_INSTRUMENT, out, cap);
}

/* Free text, printable ASCII, truncated to fit. */
static int val_text(const ctx *c, uint32_t tag, const char *v, size_t len, char *out, size_t cap)
{
    char label[128];
    if (ht_fix_check_value(field_label(c, tag, label, sizeof label), v, len, HT_FIX_GRAMMAR_TEXT, 1, 4096, c->err) != 0)
        return -1;
    ht_fix_printable(v, len, out, cap);
    return 0;
}

/* Decimals kept for quantities, prices and amounts on the wire, and the magnitude every number stays below (what
 * ht_fix_put_decimal can write at those decimals, with room). A number read is one that can be written again. */
#define NUM_DECIMALS 8
#define NUM_LIMIT 1e10
#define NUM_RESOLUTION 1e-8

/* A decimal number below NUM_LIMIT in magnitude; nonneg: >= 0 (quantities); positive: at least NUM_RESOLUTION. */
static int val_num(const ctx *c, uint32_t tag, const char *v, size_t len, double *out, bool nonneg, bool positive)
{
    char label[128], shown[48];
    double x;
    if (!ht_fix_value_double(v, len, &x) || !isfinite(x))
        return ht_error_set(c->err, "%s '%s' is not a decimal number", field_label(c, tag, label, sizeof label),
                            ht_fix_printable(v, len, shown, sizeof shown));
    if (fabs(x) >= NUM_LIMIT)
        return ht_error_set(c->err, "%s '%s' is out of range (|x| < 1e10)", field_label(c, tag, label, sizeof label),
                            ht_fix_printable(v, len, shown, sizeof shown));
    if ((nonneg || positive) && (x < 0 || (positive && x < NUM_RESOLUTION)))
        return ht_error_set(c->err, "%s '%s' must be %s", field_label(c, tag, label, sizeof label),
                            ht_fix_printable(v, len, shown, sizeof shown), positive ? "> 0" : ">= 0");
    *out = x;
    return 0;
}

/* A non-negative integer of at most max. */
static int val_int(const ctx *c, uint32_t tag, const char *v, size_t len, uint64_t max, int64_t *out)
{
    char label[128], shown[48];
    uint64_t x;
    if (!ht_fix_value_u64(v, len, &x) || x > max)
        return ht_error_set(c->err, "%s '%s' is not an integer 0..%llu", field_label(c, tag, label, sizeof label),
                            ht_fix_printable(v, len, shown, sizeof shown), (unsigned long long)max);
    *out = (int64_t)x;
    return 0;
}

/* An integer that must be one of allowed[0..n). */
static int val_enum(const ctx *c, uint32_t tag, const char *v, size_t len, const int *allowed, size_t n, int *out)
{
    int64_t x;
    if (val_int(c, tag, v, len, 100000, &x) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (allowed[i] == x)
            return *out = (int)x, 0;
    char label[128];
    return ht_error_set(c->err, "%s %lld is not a value this message takes", field_label(c, tag, label, sizeof label),
                        (long long)x);
}

/* Side (54): '1' or '2'. */
static int val_side(const ctx *c, uint32_t tag, const char *v, size_t len, char *out)
{
    if (len == 1 && (v[0] == '1' || v[0] == '2'))
        return *out = v[0], 0;
    char label[128], shown[16];
    return ht_error_set(c->err, "%s '%s' is not 1 (buy) or 2 (sell)", field_label(c, tag, label, sizeof label),
                        ht_fix_printable(v, len, shown, sizeof shown));
}

/* ---- reading fields of a message (first occurrence) ---- */

static int get_str(const ctx *c, const ht_fix_msg *m, uint32_t tag, bool required, ht_fix_grammar g, char *out,
                   size_t cap)
{
    size_t len;
    const char *v = ht_fix_get(m, tag, &len);
    out[0] = '\0';
    if (!v)
        return required ? missing(c, tag) : 0;
    return val_str(c, tag, v, len, g, out, cap);
}

static int get_currency(const ctx *c, const ht_fix_msg *m, char *out, size_t cap)
{
    size_t len;
    const char *v = ht_fix_get(m, HT_TAG_CURRENCY, &len);
    out[0] = '\0';
    return v ? val_currency(c, HT_TAG_CURRENCY, v, len, out, cap) : 0;
}

static int get_text(const ctx *c, const ht_fix_msg *m, uint32_t tag, char *out, size_t cap)
{
    size_t len;
    const char *v = ht_fix_get(m, tag, &len);
    out[0] = '\0';
    return v ? val_text(c, tag, v, len, out, cap) : 0;
}

/* A number; NAN when absent and not required. */
static int get_num(const ctx *c, const ht_fix_msg *m, uint32_t tag, bool required, bool nonneg, double *out)
{
    size_t len;
    const char *v = ht_fix_get(m, tag, &len);
    *out = NAN;
    if (!v)
        return required ? missing(c, tag) : 0;
    return val_num(c, tag, v, len, out, nonneg, false);
}

/* An enumerated integer; dflt when absent and not required. */
static int get_enum(const ctx *c, const ht_fix_msg *m, uint32_t tag, bool required, const int *allowed, size_t n,
                    int dflt, int *out)
{
    size_t len;
    const char *v = ht_fix_get(m, tag, &len);
    *out = dflt;
    if (!v)
        return required ? missing(c, tag) : 0;
    return val_enum(c, tag, v, len, allowed, n, out);
}

static const int k_subscription[] = {HT_FIX_SUB_SNAPSHOT, HT_FIX_SUB_SUBSCRIBE, HT_FIX_SUB_UNSUBSCRIBE};
static const int k_zero[] = {0};

/* ---- writing ---- */

/* Checks a string before it is written: 1..cap-1 bytes of the grammar (required) or "" (optional). */
static int check_str(const ctx *c, uint32_t tag, const char *s, size_t cap, ht_fix_grammar g, bool required)
{
    size_t len = strnlen(s, cap);
    if (len == 0 && !required)
        return 0;
    if (len == cap) {
        char label[128];
        return ht_error_set(c->err, "%s is not terminated within %zu bytes", field_label(c, tag, label, sizeof label),
                            cap);
    }
    char tmp[HT_FIX_ACCT_USER_BYTES];
    if (g == HT_FIX_GRAMMAR_TEXT) {
        char label[128];
        return ht_fix_check_value(field_label(c, tag, label, sizeof label), s, len, g, required, cap - 1, c->err);
    }
    return val_str(c, tag, s, len, g, tmp, cap < sizeof tmp ? cap : sizeof tmp);
}

static int check_currency(const ctx *c, const char *s)
{
    size_t len = strnlen(s, HT_FIX_ACCT_CURRENCY_BYTES);
    char tmp[HT_FIX_ACCT_CURRENCY_BYTES];
    return len == 0 ? 0 : val_currency(c, HT_TAG_CURRENCY, s, len, tmp, sizeof tmp);
}

/* Checks a number before it is written: finite (or NAN when optional), >= 0 for quantities. */
static int check_num(const ctx *c, uint32_t tag, double x, bool optional, bool nonneg)
{
    char label[128];
    if (optional && isnan(x))
        return 0;
    if (!isfinite(x) || fabs(x) >= NUM_LIMIT || (nonneg && x < 0))
        return ht_error_set(c->err, "%s %g cannot be written%s", field_label(c, tag, label, sizeof label), x,
                            nonneg ? " (a number 0 <= x < 1e10)" : " (a number |x| < 1e10)");
    return 0;
}

static int check_subscription(const ctx *c, int sub)
{
    if (sub == -1 || sub == HT_FIX_SUB_SNAPSHOT || sub == HT_FIX_SUB_SUBSCRIBE || sub == HT_FIX_SUB_UNSUBSCRIBE)
        return 0;
    char label[128];
    return ht_error_set(c->err, "%s %d is not 0, 1 or 2", field_label(c, HT_TAG_SUBSCRIPTION_REQUEST_TYPE, label,
                                                                      sizeof label), sub);
}


static void put_opt_str(ht_fix_writer *w, uint32_t tag, const char *s)
{
    if (s[0])
        ht_fix_put_str(w, tag, s);
}

static void put_opt_num(ht_fix_writer *w, uint32_t tag, double x, unsigned decimals)
{
    if (!isnan(x))
        ht_fix_put_decimal(w, tag, x, decimals);
}

/* 0, or -1 naming the field the writer refused or "no room". */
static int writer_ok(const ctx *c, const ht_fix_writer *w)
{
    if (w->refused)
        return ht_error_set(c->err, "%s: the writer refused tag %u", c->what, w->refused_tag);
    if (w->overflow)
        return ht_error_set(c->err, "%s: the message does not fit its buffer (%zu bytes)", c->what, w->cap);
    return 0;
}

/* ---- AN ---- */

int ht_fix_put_pos_request(ht_fix_writer *w, const ht_fix_pos_request *r, ht_error *err)
{
    ctx c = {"RequestForPositions (AN)", 0, err};
    if (check_str(&c, HT_TAG_POS_REQ_ID, r->pos_req_id, sizeof r->pos_req_id, HT_FIX_GRAMMAR_ID, true) != 0 ||
        check_subscription(&c, r->subscription) != 0 || check_currency(&c, r->currency) != 0)
        return -1;
    ht_fix_put_str(w, HT_TAG_POS_REQ_ID, r->pos_req_id);
    ht_fix_put_u64(w, HT_TAG_POS_REQ_TYPE, 0);
    if (r->subscription >= 0)
        ht_fix_put_u64(w, HT_TAG_SUBSCRIPTION_REQUEST_TYPE, (uint64_t)r->subscription);
    put_opt_str(w, HT_TAG_CURRENCY, r->currency);
    return writer_ok(&c, w);
}

int ht_fix_parse_pos_request(const ht_fix_msg *m, ht_fix_pos_request *out, ht_error *err)
{
    ctx c = {"RequestForPositions (AN)", 0, err};
    int type;
    memset(out, 0, sizeof *out);
    if (get_str(&c, m, HT_TAG_POS_REQ_ID, true, HT_FIX_GRAMMAR_ID, out->pos_req_id, sizeof out->pos_req_id) != 0 ||
        get_enum(&c, m, HT_TAG_POS_REQ_TYPE, true, k_zero, 1, 0, &type) != 0 ||
        get_enum(&c, m, HT_TAG_SUBSCRIPTION_REQUEST_TYPE, false, k_subscription, 3, -1, &out->subscription) != 0 ||
        get_currency(&c, m, out->currency, sizeof out->currency) != 0)
        return -1;
    return 0;
}

/* ---- AP ---- */

/* Tags of the PositionQty group as Deribit documents it (RawData 96 and its length 95 included). */
static bool position_group_tag(uint32_t tag)
{
    switch (tag) {
    case HT_TAG_POS_TYPE: case HT_TAG_LONG_QTY: case HT_TAG_SHORT_QTY: case HT_TAG_SYMBOL: case HT_TAG_QTY_TYPE:
    case HT_TAG_CONTRACT_MULTIPLIER: case HT_TAG_UNDERLYING_END_PRICE: case HT_TAG_SIDE: case HT_TAG_SETTL_PRICE:
    case HT_TAG_RAW_DATA_LENGTH: case HT_TAG_RAW_DATA: case HT_TAG_DERIBIT_LIQUIDATION_PRICE:
    case HT_TAG_DERIBIT_SIZE_IN_CURRENCY:
        return true;
    default:
        return false;
    }
}

/* Reads one field of a position entry into p. */
static int position_field(const ctx *c, uint32_t tag, const char *v, size_t len, ht_fix_position *p)
{
    static const int k_contracts[] = {1};
    int qty_type;
    switch (tag) {
    case HT_TAG_POS_TYPE:
        if (len == 2 && memcmp(v, "TQ", 2) == 0)
            return 0;
        return ht_error_set(c->err, "%s: PosType (703) of entry %d is not TQ (transaction quantity)", c->what,
                            c->entry);
    case HT_TAG_LONG_QTY: return val_num(c, tag, v, len, &p->long_qty, true, false);
    case HT_TAG_SHORT_QTY: return val_num(c, tag, v, len, &p->short_qty, true, false);
    case HT_TAG_SYMBOL: return val_str(c, tag, v, len, HT_FIX_GRAMMAR_INSTRUMENT, p->symbol, sizeof p->symbol);
    case HT_TAG_QTY_TYPE: return val_enum(c, tag, v, len, k_contracts, 1, &qty_type);
    case HT_TAG_CONTRACT_MULTIPLIER: return val_num(c, tag, v, len, &p->contract_multiplier, false, true);
    case HT_TAG_UNDERLYING_END_PRICE: return val_num(c, tag, v, len, &p->mark_px, false, false);
    case HT_TAG_SETTL_PRICE: return val_num(c, tag, v, len, &p->avg_px, false, false);
    case HT_TAG_SIDE: return val_side(c, tag, v, len, &p->side);
    default: return 0; /* RawData, liquidation price, size in currency: not used */
    }
}

/* Checks what one entry holds as a whole: a symbol, and one side at most. */
static int position_entry_done(const ctx *c, const ht_fix_position *p)
{
    if (!p->symbol[0])
        return missing(c, HT_TAG_SYMBOL);
    if (p->long_qty > 0 && p->short_qty > 0)
        return ht_error_set(c->err, "%s: entry %d (%s) is long %g and short %g at once", c->what, c->entry, p->symbol,
                            p->long_qty, p->short_qty);
    return 0;
}

/* Reads the NoPositions group that starts at field index *i (the 702 field). Entries start with the tag that
 * follows 702 (PosType 703 in Deribit's table) and end where a field outside the group starts. */
static int parse_position_group(ctx *c, const ht_fix_msg *m, uint32_t *i, ht_fix_position_report *out)
{
    const ht_fix_field *f = &m->fields[*i];
    int64_t n;
    if (val_int(c, HT_TAG_NO_POSITIONS, m->buf + f->off, f->len, HT_FIX_MAX_POSITIONS, &n) != 0)
        return -1;
    uint32_t k = *i + 1;
    uint32_t delim = k < m->n_fields ? m->fields[k].tag : 0;
    int seen = 0;
    uint32_t seen_tags[16];
    int n_seen = 0;
    for (; k < m->n_fields && position_group_tag(m->fields[k].tag); k++) {
        const ht_fix_field *g = &m->fields[k];
        if (g->tag == delim) {
            if (seen > 0 && position_entry_done(c, &out->pos[seen - 1]) != 0)
                return -1;
            if (seen == n)
                return ht_error_set(c->err, "%s: NoPositions (702) is %lld but more entries follow", c->what,
                                    (long long)n);
            out->pos[seen] = (ht_fix_position){.mark_px = NAN, .avg_px = NAN, .contract_multiplier = NAN};
            c->entry = ++seen;
            n_seen = 0;
        }
        for (int s = 0; s < n_seen; s++)
            if (seen_tags[s] == g->tag)
                return ht_error_set(c->err, "%s: %s (%u) appears twice in entry %d", c->what, tag_name(g->tag), g->tag,
                                    seen);
        if (n_seen < (int)HT_ARRAY_LEN(seen_tags))
            seen_tags[n_seen++] = g->tag;
        if (position_field(c, g->tag, m->buf + g->off, g->len, &out->pos[seen - 1]) != 0)
            return -1;
    }
    if (seen > 0 && position_entry_done(c, &out->pos[seen - 1]) != 0)
        return -1;
    c->entry = 0;
    if (seen != n)
        return ht_error_set(c->err, "%s: NoPositions (702) is %lld, %d entries follow", c->what, (long long)n, seen);
    out->n = (unsigned)n;
    *i = k;
    return 0;
}

int ht_fix_parse_position_report(const ht_fix_msg *m, ht_fix_position_report *out, ht_error *err)
{
    static const int k_results[] = {0, 1, 2, 3, 4, 99};
    ctx c = {"PositionReport (AP)", 0, err};
    int type;
    size_t len;
    const char *v;
    out->n = 0;
    out->total_num_pos_reports = -1;
    if (get_str(&c, m, HT_TAG_POS_MAINT_RPT_ID, true, HT_FIX_GRAMMAR_ID, out->pos_maint_rpt_id,
                sizeof out->pos_maint_rpt_id) != 0 ||
        get_str(&c, m, HT_TAG_POS_REQ_ID, false, HT_FIX_GRAMMAR_ID, out->pos_req_id, sizeof out->pos_req_id) != 0 ||
        get_enum(&c, m, HT_TAG_POS_REQ_TYPE, false, k_zero, 1, 0, &type) != 0 ||
        get_enum(&c, m, HT_TAG_POS_REQ_RESULT, false, k_results, HT_ARRAY_LEN(k_results), 0, &out->pos_req_result) != 0 ||
        get_text(&c, m, HT_TAG_TEXT, out->text, sizeof out->text) != 0)
        return -1;
    if ((v = ht_fix_get(m, HT_TAG_TOTAL_NUM_POS_REPORTS, &len)) &&
        val_int(&c, HT_TAG_TOTAL_NUM_POS_REPORTS, v, len, 1000000, &out->total_num_pos_reports) != 0)
        return -1;
    bool group = false;
    for (uint32_t i = 0; i < m->n_fields;) {
        uint32_t tag = m->fields[i].tag;
        if (tag == HT_TAG_NO_POSITIONS) {
            if (group)
                return ht_error_set(err, "%s: NoPositions (702) appears twice", c.what);
            group = true;
            if (parse_position_group(&c, m, &i, out) != 0)
                return -1;
            continue;
        }
        if (tag == HT_TAG_SYMBOL || tag == HT_TAG_LONG_QTY || tag == HT_TAG_SHORT_QTY)
            return ht_error_set(err, "%s: %s (%u) outside the NoPositions (702) group", c.what, tag_name(tag), tag);
        i++;
    }
    return 0;
}

static int check_position(const ctx *c, const ht_fix_position *p)
{
    if (check_str(c, HT_TAG_SYMBOL, p->symbol, sizeof p->symbol, HT_FIX_GRAMMAR_INSTRUMENT, true) != 0 ||
        check_num(c, HT_TAG_LONG_QTY, p->long_qty, false, true) != 0 ||
        check_num(c, HT_TAG_SHORT_QTY, p->short_qty, false, true) != 0 ||
        check_num(c, HT_TAG_UNDERLYING_END_PRICE, p->mark_px, true, false) != 0 ||
        check_num(c, HT_TAG_SETTL_PRICE, p->avg_px, true, false) != 0 ||
        check_num(c, HT_TAG_CONTRACT_MULTIPLIER, p->contract_multiplier, true, true) != 0)
        return -1;
    if (p->long_qty > 0 && p->short_qty > 0)
        return ht_error_set(c->err, "%s: entry %d is long and short at once", c->what, c->entry);
    if (p->contract_multiplier < NUM_RESOLUTION) /* false for NAN: absent */
        return ht_error_set(c->err, "%s: ContractMultiplier (231) of entry %d must be > 0", c->what, c->entry);
    return 0;
}

int ht_fix_put_position_report(ht_fix_writer *w, const ht_fix_position_report *r, ht_error *err)
{
    ctx c = {"PositionReport (AP)", 0, err};
    if (check_str(&c, HT_TAG_POS_MAINT_RPT_ID, r->pos_maint_rpt_id, sizeof r->pos_maint_rpt_id, HT_FIX_GRAMMAR_ID,
                  true) != 0 ||
        check_str(&c, HT_TAG_POS_REQ_ID, r->pos_req_id, sizeof r->pos_req_id, HT_FIX_GRAMMAR_ID, false) != 0 ||
        check_str(&c, HT_TAG_TEXT, r->text, sizeof r->text, HT_FIX_GRAMMAR_TEXT, false) != 0)
        return -1;
    if (r->n > HT_FIX_MAX_POSITIONS || r->pos_req_result < 0 || r->pos_req_result > 99)
        return ht_error_set(err, "%s: %u entries (at most %d), PosReqResult %d", c.what, r->n, HT_FIX_MAX_POSITIONS,
                            r->pos_req_result);
    for (unsigned i = 0; i < r->n; i++) {
        c.entry = (int)i + 1;
        if (check_position(&c, &r->pos[i]) != 0)
            return -1;
    }
    ht_fix_put_str(w, HT_TAG_POS_MAINT_RPT_ID, r->pos_maint_rpt_id);
    put_opt_str(w, HT_TAG_POS_REQ_ID, r->pos_req_id);
    ht_fix_put_u64(w, HT_TAG_POS_REQ_TYPE, 0);
    ht_fix_put_u64(w, HT_TAG_POS_REQ_RESULT, (uint64_t)r->pos_req_result);
    if (r->total_num_pos_reports >= 0)
        ht_fix_put_u64(w, HT_TAG_TOTAL_NUM_POS_REPORTS, (uint64_t)r->total_num_pos_reports);
    put_opt_str(w, HT_TAG_TEXT, r->text);
    if (r->n > 0)
        ht_fix_put_u64(w, HT_TAG_NO_POSITIONS, r->n);
    for (unsigned i = 0; i < r->n; i++) {
        const ht_fix_position *p = &r->pos[i];
        ht_fix_put_str(w, HT_TAG_POS_TYPE, "TQ");
        ht_fix_put_decimal(w, HT_TAG_LONG_QTY, p->long_qty, NUM_DECIMALS);
        ht_fix_put_decimal(w, HT_TAG_SHORT_QTY, p->short_qty, NUM_DECIMALS);
        ht_fix_put_str(w, HT_TAG_SYMBOL, p->symbol);
        ht_fix_put_u64(w, HT_TAG_QTY_TYPE, 1);
        put_opt_num(w, HT_TAG_CONTRACT_MULTIPLIER, p->contract_multiplier, NUM_DECIMALS);
        put_opt_num(w, HT_TAG_UNDERLYING_END_PRICE, p->mark_px, NUM_DECIMALS);
        if (p->long_qty > 0 || p->short_qty > 0)
            ht_fix_put_char(w, HT_TAG_SIDE, p->long_qty > 0 ? '1' : '2');
        put_opt_num(w, HT_TAG_SETTL_PRICE, p->avg_px, NUM_DECIMALS);
    }
    return writer_ok(&c, w);
}

/* ---- BE / BF ---- */

int ht_fix_put_user_request(ht_fix_writer *w, const ht_fix_user_request *r, ht_error *err)
{
    ctx c = {"UserRequest (BE)", 0, err};
    if (check_str(&c, HT_TAG_USER_REQUEST_ID, r->user_request_id, sizeof r->user_request_id, HT_FIX_GRAMMAR_ID,
                  true) != 0 ||
        check_str(&c, HT_TAG_USERNAME, r->username, sizeof r->username, HT_FIX_GRAMMAR_ID, true) != 0 ||
        check_currency(&c, r->currency) != 0)
        return -1;
    ht_fix_put_str(w, HT_TAG_USER_REQUEST_ID, r->user_request_id);
    ht_fix_put_u64(w, HT_TAG_USER_REQUEST_TYPE, 4);
    ht_fix_put_str(w, HT_TAG_USERNAME, r->username);
    put_opt_str(w, HT_TAG_CURRENCY, r->currency);
    return writer_ok(&c, w);
}

int ht_fix_parse_user_request(const ht_fix_msg *m, ht_fix_user_request *out, ht_error *err)
{
    static const int k_four[] = {4};
    ctx c = {"UserRequest (BE)", 0, err};
    int type;
    if (get_str(&c, m, HT_TAG_USER_REQUEST_ID, true, HT_FIX_GRAMMAR_ID, out->user_request_id,
                sizeof out->user_request_id) != 0 ||
        get_enum(&c, m, HT_TAG_USER_REQUEST_TYPE, true, k_four, 1, 0, &type) != 0 ||
        get_str(&c, m, HT_TAG_USERNAME, true, HT_FIX_GRAMMAR_ID, out->username, sizeof out->username) != 0 ||
        get_currency(&c, m, out->currency, sizeof out->currency) != 0)
        return -1;
    return 0;
}

int ht_fix_put_user_response(ht_fix_writer *w, const ht_fix_user_response *r, ht_error *err)
{
    ctx c = {"UserResponse (BF)", 0, err};
    if (check_str(&c, HT_TAG_USER_REQUEST_ID, r->user_request_id, sizeof r->user_request_id, HT_FIX_GRAMMAR_ID,
                  true) != 0 ||
        check_str(&c, HT_TAG_USERNAME, r->username, sizeof r->username, HT_FIX_GRAMMAR_ID, true) != 0 ||
        check_str(&c, HT_TAG_USER_STATUS_TEXT, r->user_status_text, sizeof r->user_status_text, HT_FIX_GRAMMAR_TEXT,
                  false) != 0 ||
        check_currency(&c, r->currency) != 0 || check_num(&c, HT_TAG_DERIBIT_USER_EQUITY, r->equity, true, false) != 0 ||
        check_num(&c, HT_TAG_DERIBIT_USER_BALANCE, r->balance, true, false) != 0 ||
        check_num(&c, HT_TAG_DERIBIT_USER_INITIAL_MARGIN, r->initial_margin, true, true) != 0 ||
        check_num(&c, HT_TAG_DERIBIT_USER_MAINTENANCE_MARGIN, r->maintenance_margin, true, true) != 0)
        return -1;
    if (r->user_status < -1 || r->user_status > 6)
        return ht_error_set(err, "%s: UserStatus (926) %d is not 1..6", c.what, r->user_status);
    ht_fix_put_str(w, HT_TAG_USER_REQUEST_ID, r->user_request_id);
    ht_fix_put_str(w, HT_TAG_USERNAME, r->username);
    if (r->user_status >= 0)
        ht_fix_put_u64(w, HT_TAG_USER_STATUS, (uint64_t)r->user_status);
    put_opt_str(w, HT_TAG_USER_STATUS_TEXT, r->user_status_text);
    put_opt_str(w, HT_TAG_CURRENCY, r->currency);
    put_opt_num(w, HT_TAG_DERIBIT_USER_EQUITY, r->equity, NUM_DECIMALS);
    put_opt_num(w, HT_TAG_DERIBIT_USER_BALANCE, r->balance, NUM_DECIMALS);
    put_opt_num(w, HT_TAG_DERIBIT_USER_INITIAL_MARGIN, r->initial_margin, NUM_DECIMALS);
    put_opt_num(w, HT_TAG_DERIBIT_USER_MAINTENANCE_MARGIN, r->maintenance_margin, NUM_DECIMALS);
    return writer_ok(&c, w);
}

int ht_fix_parse_user_response(const ht_fix_msg *m, ht_fix_user_response *out, ht_error *err)
{
    static const int k_status[] = {1, 2, 3, 4, 5, 6};
    ctx c = {"UserResponse (BF)", 0, err};
    if (get_str(&c, m, HT_TAG_USER_REQUEST_ID, true, HT_FIX_GRAMMAR_ID, out->user_request_id,
                sizeof out->user_request_id) != 0 ||
        get_str(&c, m, HT_TAG_USERNAME, true, HT_FIX_GRAMMAR_ID, out->username, sizeof out->username) != 0 ||
        get_enum(&c, m, HT_TAG_USER_STATUS, false, k_status, HT_ARRAY_LEN(k_status), -1, &out->user_status) != 0 ||
        get_text(&c, m, HT_TAG_USER_STATUS_TEXT, out->user_status_text, sizeof out->user_status_text) != 0 ||
        get_currency(&c, m, out->currency, sizeof out->currency) != 0 ||
        get_num(&c, m, HT_TAG_DERIBIT_USER_EQUITY, false, false, &out->equity) != 0 ||
        get_num(&c, m, HT_TAG_DERIBIT_USER_BALANCE, false, false, &out->balance) != 0 ||
        get_num(&c, m, HT_TAG_DERIBIT_USER_INITIAL_MARGIN, false, true, &out->initial_margin) != 0 ||
        get_num(&c, m, HT_TAG_DERIBIT_USER_MAINTENANCE_MARGIN, false, true, &out->maintenance_margin) != 0)
        return -1;
    return 0;
}

/* ---- AD / AQ ---- */

int ht_fix_put_trade_request(ht_fix_writer *w, const ht_fix_trade_request *r, ht_error *err)
{
    ctx c = {"TradeCaptureReportRequest (AD)", 0, err};
    if (check_str(&c, HT_TAG_TRADE_REQUEST_ID, r->trade_request_id, sizeof r->trade_request_id, HT_FIX_GRAMMAR_ID,
                  true) != 0 ||
        check_subscription(&c, r->subscription) != 0)
        return -1;
    ht_fix_put_str(w, HT_TAG_TRADE_REQUEST_ID, r->trade_request_id);
    ht_fix_put_u64(w, HT_TAG_TRADE_REQUEST_TYPE, 0);
    if (r->subscription >= 0)
        ht_fix_put_u64(w, HT_TAG_SUBSCRIPTION_REQUEST_TYPE, (uint64_t)r->subscription);
    return writer_ok(&c, w);
}

int ht_fix_parse_trade_request(const ht_fix_msg *m, ht_fix_trade_request *out, ht_error *err)
{
    ctx c = {"TradeCaptureReportRequest (AD)", 0, err};
    int type;
    if (get_str(&c, m, HT_TAG_TRADE_REQUEST_ID, true, HT_FIX_GRAMMAR_ID, out->trade_request_id,
                sizeof out->trade_request_id) != 0 ||
        get_enum(&c, m, HT_TAG_TRADE_REQUEST_TYPE, true, k_zero, 1, 0, &type) != 0 ||
        get_enum(&c, m, HT_TAG_SUBSCRIPTION_REQUEST_TYPE, false, k_subscription, 3, -1, &out->subscription) != 0)
        return -1;
    return 0;
}

/* TradeRequestResult values (FIX 4.4; Deribit documents 0 and 2). */
static const int k_trade_results[] = {0, 1, 2, 3, 4, 5, 8, 9, 99};

int ht_fix_put_trade_request_ack(ht_fix_writer *w, const ht_fix_trade_request_ack *r, ht_error *err)
{
    ctx c = {"TradeCaptureReportRequestAck (AQ)", 0, err};
    int ok;
    if (check_str(&c, HT_TAG_TRADE_REQUEST_ID, r->trade_request_id, sizeof r->trade_request_id, HT_FIX_GRAMMAR_ID,
                  true) != 0 ||
        check_str(&c, HT_TAG_TEXT, r->text, sizeof r->text, HT_FIX_GRAMMAR_TEXT, false) != 0)
        return -1;
    char v[12];
    int n = snprintf(v, sizeof v, "%d", r->result);
    if (r->result < 0 || val_enum(&c, HT_TAG_TRADE_REQUEST_RESULT, v, (size_t)n, k_trade_results,
                                  HT_ARRAY_LEN(k_trade_results), &ok) != 0)
        return ht_error_set(err, "%s: TradeRequestResult (749) %d is not a FIX 4.4 value", c.what, r->result);
    if (r->status < -1 || r->status > 2)
        return ht_error_set(err, "%s: TradeRequestStatus (750) %d is not 0..2", c.what, r->status);
    ht_fix_put_str(w, HT_TAG_TRADE_REQUEST_ID, r->trade_request_id);
    ht_fix_put_u64(w, HT_TAG_TRADE_REQUEST_TYPE, 0);
    ht_fix_put_u64(w, HT_TAG_TRADE_REQUEST_RESULT, (uint64_t)r->result);
    ht_fix_put_u64(w, HT_TAG_TRADE_REPORT_ID, (uint64_t)r->result); /* Deribit's tag for the result */
    if (r->status >= 0)
        ht_fix_put_u64(w, HT_TAG_TRADE_REQUEST_STATUS, (uint64_t)r->status);
    put_opt_str(w, HT_TAG_TEXT, r->text);
    return writer_ok(&c, w);
}

int ht_fix_parse_trade_request_ack(const ht_fix_msg *m, ht_fix_trade_request_ack *out, ht_error *err)
{
    static const int k_req_status[] = {0, 1, 2};
    ctx c = {"TradeCaptureReportRequestAck (AQ)", 0, err};
    uint32_t result_tag = ht_fix_find(m, HT_TAG_TRADE_REQUEST_RESULT) ? HT_TAG_TRADE_REQUEST_RESULT
                                                                        : HT_TAG_TRADE_REPORT_ID;
    if (get_str(&c, m, HT_TAG_TRADE_REQUEST_ID, true, HT_FIX_GRAMMAR_ID, out->trade_request_id,
                sizeof out->trade_request_id) != 0 ||
        get_enum(&c, m, result_tag, true, k_trade_results, HT_ARRAY_LEN(k_trade_results), 0, &out->result) != 0 ||
        get_enum(&c, m, HT_TAG_TRADE_REQUEST_STATUS, false, k_req_status, 3, -1, &out->status) != 0 ||
        get_text(&c, m, HT_TAG_TEXT, out->text, sizeof out->text) != 0)
        return -1;
    return 0;
}

/* ---- AE ---- */

int ht_fix_trade_report_source(const ht_fix_trade_report *r)
{
    return r->trd_type == HT_FIX_TRD_LIQUIDATION ? 1 : r->trd_type == HT_FIX_TRD_SETTLEMENT ? 2 : 0;
}

static const int k_trd_types[] = {HT_FIX_TRD_REGULAR, HT_FIX_TRD_BLOCK, HT_FIX_TRD_TRANSFER, HT_FIX_TRD_LIQUIDATION,
                                  HT_FIX_TRD_SETTLEMENT};

/* Reads the side group (NoSides 552 = 1: Side 54, OrderID 37) or, without one, a Side (54) outside a group. */
static int parse_trade_side(ctx *c, const ht_fix_msg *m, ht_fix_trade_report *out)
{
    const ht_fix_field *ns = ht_fix_find(m, HT_TAG_NO_SIDES);
    size_t len;
    const char *v;
    out->order_id[0] = '\0';
    if (!ns) {
        if (!(v = ht_fix_get(m, HT_TAG_SIDE, &len)))
            return missing(c, HT_TAG_SIDE);
        return val_side(c, HT_TAG_SIDE, v, len, &out->side);
    }
    int64_t n;
    if (val_int(c, HT_TAG_NO_SIDES, m->buf + ns->off, ns->len, 2, &n) != 0)
        return -1;
    if (n != 1)
        return ht_error_set(c->err, "%s: NoSides (552) is %lld, expected 1 (the account's side)", c->what,
                            (long long)n);
    uint32_t k = (uint32_t)(ns - m->fields) + 1;
    if (k >= m->n_fields || m->fields[k].tag != HT_TAG_SIDE)
        return ht_error_set(c->err, "%s: the NoSides (552) entry does not start with Side (54)", c->what);
    c->entry = 1;
    if (val_side(c, HT_TAG_SIDE, m->buf + m->fields[k].off, m->fields[k].len, &out->side) != 0)
        return -1;
    if (k + 1 < m->n_fields && m->fields[k + 1].tag == HT_TAG_ORDER_ID &&
        val_str(c, HT_TAG_ORDER_ID, m->buf + m->fields[k + 1].off, m->fields[k + 1].len, HT_FIX_GRAMMAR_ID,
                out->order_id, sizeof out->order_id) != 0)
        return -1;
    c->entry = 0;
    return 0;
}

int ht_fix_parse_trade_report(const ht_fix_msg *m, ht_fix_trade_report *out, ht_error *err)
{
    ctx c = {"TradeCaptureReport (AE)", 0, err};
    size_t len;
    const char *v = ht_fix_get(m, HT_TAG_PREVIOUSLY_REPORTED, &len);
    if (!v)
        return missing(&c, HT_TAG_PREVIOUSLY_REPORTED);
    if (len != 1 || (v[0] != 'Y' && v[0] != 'N'))
        return ht_error_set(err, "%s: PreviouslyReported (570) is not Y or N", c.what);
    out->previously_reported = v[0] == 'Y';
    if (get_str(&c, m, HT_TAG_TRADE_REQUEST_ID, false, HT_FIX_GRAMMAR_ID, out->trade_request_id,
                sizeof out->trade_request_id) != 0 ||
        get_str(&c, m, HT_TAG_TRADE_REPORT_ID, false, HT_FIX_GRAMMAR_ID, out->trade_report_id,
                sizeof out->trade_report_id) != 0 ||
        get_str(&c, m, HT_TAG_TRADE_ID, true, HT_FIX_GRAMMAR_ID, out->trade_id, sizeof out->trade_id) != 0 ||
        get_str(&c, m, HT_TAG_SYMBOL, true, HT_FIX_GRAMMAR_INSTRUMENT, out->symbol, sizeof out->symbol) != 0 ||
        get_num(&c, m, HT_TAG_LAST_PX, true, false, &out->last_px) != 0 ||
        get_enum(&c, m, HT_TAG_TRD_TYPE, false, k_trd_types, HT_ARRAY_LEN(k_trd_types), 0, &out->trd_type) != 0)
        return -1;
    if (!(v = ht_fix_get(m, HT_TAG_LAST_QTY, &len)))
        return missing(&c, HT_TAG_LAST_QTY);
    if (val_num(&c, HT_TAG_LAST_QTY, v, len, &out->last_qty, true, true) != 0)
        return -1;
    return parse_trade_side(&c, m, out);
}

int ht_fix_put_trade_report(ht_fix_writer *w, const ht_fix_trade_report *r, ht_error *err)
{
    ctx c = {"TradeCaptureReport (AE)", 0, err};
    if (check_str(&c, HT_TAG_TRADE_REQUEST_ID, r->trade_request_id, sizeof r->trade_request_id, HT_FIX_GRAMMAR_ID,
                  false) != 0 ||
        check_str(&c, HT_TAG_TRADE_REPORT_ID, r->trade_report_id, sizeof r->trade_report_id, HT_FIX_GRAMMAR_ID,
                  false) != 0 ||
        check_str(&c, HT_TAG_TRADE_ID, r->trade_id, sizeof r->trade_id, HT_FIX_GRAMMAR_ID, true) != 0 ||
        check_str(&c, HT_TAG_SYMBOL, r->symbol, sizeof r->symbol, HT_FIX_GRAMMAR_INSTRUMENT, true) != 0 ||
        check_str(&c, HT_TAG_ORDER_ID, r->order_id, sizeof r->order_id, HT_FIX_GRAMMAR_ID, false) != 0 ||
        check_num(&c, HT_TAG_LAST_PX, r->last_px, false, false) != 0)
        return -1;
    if (!(r->last_qty >= NUM_RESOLUTION && r->last_qty < NUM_LIMIT))
        return ht_error_set(err, "%s: LastQty (32) %g must be a number 1e-8 <= x < 1e10", c.what, r->last_qty);
    if (r->side != '1' && r->side != '2')
        return ht_error_set(err, "%s: Side (54) must be '1' or '2'", c.what);
    bool known = false;
    for (size_t i = 0; i < HT_ARRAY_LEN(k_trd_types); i++)
        known |= k_trd_types[i] == r->trd_type;
    if (!known)
        return ht_error_set(err, "%s: TrdType (828) %d is not one we write", c.what, r->trd_type);
    put_opt_str(w, HT_TAG_TRADE_REQUEST_ID, r->trade_request_id);
    put_opt_str(w, HT_TAG_TRADE_REPORT_ID, r->trade_report_id);
    ht_fix_put_char(w, HT_TAG_PREVIOUSLY_REPORTED, r->previously_reported ? 'Y' : 'N');
    ht_fix_put_str(w, HT_TAG_SYMBOL, r->symbol);
    ht_fix_put_decimal(w, HT_TAG_LAST_QTY, r->last_qty, NUM_DECIMALS);
    ht_fix_put_decimal(w, HT_TAG_LAST_PX, r->last_px, NUM_DECIMALS);
    ht_fix_put_str(w, HT_TAG_TRADE_ID, r->trade_id);
    if (r->trd_type != HT_FIX_TRD_REGULAR)
        ht_fix_put_u64(w, HT_TAG_TRD_TYPE, (uint64_t)r->trd_type);
    ht_fix_put_u64(w, HT_TAG_NO_SIDES, 1);
    ht_fix_put_char(w, HT_TAG_SIDE, r->side);
    put_opt_str(w, HT_TAG_ORDER_ID, r->order_id);
    return writer_ok(&c, w);
}
