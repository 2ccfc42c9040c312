/* SPDX-License-Identifier: MIT */
/* Deribit multicast SBE decoder: frame header, bounds-checked message walk, one decoder per template. */
#include "hedgetrig/sbe.h"


static const char *const g_status_text[HT_SBE_STATUS_COUNT] = {
    [HT_SBE_OK] = "ok",
    [HT_SBE_ERR_SHORT_FRAME] = "shorter than the 8-byte frame header",
    [HT_SBE_ERR_FRAME_LENGTH] = "packetLength is larger than the bytes after the frame header",
    [HT_SBE_ERR_SHORT_HEADER] = "fewer than 12 bytes left for a message header",
    [HT_SBE_ERR_BLOCK_OVERRUN] = "blockLength runs past the end of the packet",
    [HT_SBE_ERR_GROUP_HEADER] = "a group header runs past the end of the packet",
    [HT_SBE_ERR_GROUP_OVERRUN] = "a group's entries run past the end of the packet",
    [HT_SBE_ERR_VAR_OVERRUN] = "a var-data field runs past the end of the packet",
    [HT_SBE_ERR_NESTING] = "groups nested too deep",
    [HT_SBE_ERR_BLOCK_TOO_SHORT] = "blockLength is shorter than the template's fields",
    [HT_SBE_ERR_ENTRY_TOO_SHORT] = "a group entry's blockLength is shorter than its fields",
    [HT_SBE_ERR_MISSING_GROUP] = "numGroups is 0 but the template needs a group",
    [HT_SBE_ERR_MISSING_VAR_DATA] = "numVarDataFields is 0 but the template needs var data",
};

static const char *const g_template_names[HT_SBE_TEMPLATE_COUNT] = {
    "instrument", "book", "trades", "ticker", "snapshot", "snapshot_start",
    "snapshot_end", "combo_legs", "price_index", "rfq", "instrument_v2",
};

const char *ht_sbe_status_str(ht_sbe_status status)
{
    if ((unsigned)status >= HT_SBE_STATUS_COUNT)
        return "unknown status";
    return g_status_text[status];
}

const char *ht_sbe_template_name(uint16_t template_id)
{
    if (!ht_sbe_template_known(template_id))
        return "unknown";
    return g_template_names[template_id - HT_SBE_TEMPLATE_FIRST];
}

ht_sbe_status ht_sbe_iter_frame_fault(ht_sbe_iter *it, ht_sbe_status status)
{
    it->pos = it->end = it->start;
    it->trailing_bytes = 0;
    it->fault_offset = 0;
    it->fault_template = 0;
    it->status = status;
    return status;
}

static ht_sbe_status skip_groups_and_vars(const uint8_t **pp, const uint8_t *end, unsigned num_groups,
                                          unsigned num_vars, unsigned depth, const uint8_t **var_start);

/* Skips one group (header and every entry with its nested parts) starting at *pp. */
static ht_sbe_status skip_group(const uint8_t **pp, const uint8_t *end, unsigned depth)
{
    const uint8_t *p = *pp;
    if (HT_UNLIKELY((size_t)(end - p) < HT_SBE_GROUP_HEADER_LEN))
        return HT_SBE_ERR_GROUP_HEADER;
    uint16_t block_len = ht_sbe_u16(p);
    uint16_t count = ht_sbe_u16(p + 2);
    uint16_t nested_groups = ht_sbe_u16(p + 4);
    uint16_t nested_vars = ht_sbe_u16(p + 6);
    p += HT_SBE_GROUP_HEADER_LEN;
    if (HT_LIKELY(nested_groups == 0 && nested_vars == 0)) {
        size_t bytes = (size_t)block_len * count;
        if (HT_UNLIKELY((size_t)(end - p) < bytes))
            return HT_SBE_ERR_GROUP_OVERRUN;
        *pp = p + bytes;
        return HT_SBE_OK;
    }
    if (HT_UNLIKELY(depth >= HT_SBE_MAX_NESTING))
        return HT_SBE_ERR_NESTING;
    for (unsigned i = 0; i < count; i++) {
        if (HT_UNLIKELY((size_t)(end - p) < block_len))
            return HT_SBE_ERR_GROUP_OVERRUN;
        p += block_len;
        ht_sbe_status st = skip_groups_and_vars(&p, end, nested_groups, nested_vars, depth + 1, NULL);
        if (HT_UNLIKELY(st != HT_SBE_OK))
            return st;
    }
    *pp = p;
    return HT_SBE_OK;
}

/* Skips num_groups groups then num_vars var-data fields from *pp; *var_start (if not NULL) gets where the
 * var data begins. */
static ht_sbe_status skip_groups_and_vars(const uint8_t **pp, const uint8_t *end, unsigned num_groups,
                                          unsigned num_vars, unsigned depth, const uint8_t **var_start)
{
    const uint8_t *p = *pp;
    for (unsigned g = 0; g < num_groups; g++) {
        ht_sbe_status st = skip_group(&p, end, depth);
        if (HT_UNLIKELY(st != HT_SBE_OK))
            return st;
    }
    if (var_start)
        *var_start = p;
    for (unsigned v = 0; v < num_vars; v++) {
        if (HT_UNLIKELY(p >= end))
            return HT_SBE_ERR_VAR_OVERRUN;
        size_t len = p[0];
        p++;
        if (HT_UNLIKELY((size_t)(end - p) < len))
            return HT_SBE_ERR_VAR_OVERRUN;
        p += len;
    }
    *pp = p;
    return HT_SBE_OK;
}

/* Records a lie at offset in message template_id and stops the iteration there. */
static bool iter_fault(ht_sbe_iter *it, ht_sbe_status st, uint32_t offset, uint16_t template_id)
{
    it->status = st;
    it->fault_offset = offset;
    it->fault_template = template_id;
    it->end = it->pos;
    return false;
}

bool ht_sbe_iter_next_slow(ht_sbe_iter *it, ht_sbe_msg *msg)
{
    const uint8_t *p = it->pos;
    const uint8_t *end = it->end;
    if (it->status != HT_SBE_OK || p >= end)
        return false;
    uint32_t offset = (uint32_t)(p - it->start);
    if (HT_UNLIKELY((size_t)(end - p) < HT_SBE_MSG_HEADER_LEN))
        return iter_fault(it, HT_SBE_ERR_SHORT_HEADER, offset, (size_t)(end - p) >= 4 ? ht_sbe_u16(p + 2) : 0);
    msg->hdr.block_len = ht_sbe_u16(p);
    msg->hdr.template_id = ht_sbe_u16(p + 2);
    msg->hdr.schema_id = ht_sbe_u16(p + 4);
    msg->hdr.version = ht_sbe_u16(p + 6);
    msg->hdr.num_groups = ht_sbe_u16(p + 8);
    msg->hdr.num_var_data = ht_sbe_u16(p + 10);
    msg->offset = offset;
    p += HT_SBE_MSG_HEADER_LEN;
    ht_sbe_status st = HT_SBE_OK;
    if (HT_UNLIKELY((size_t)(end - p) < msg->hdr.block_len)) {
        st = HT_SBE_ERR_BLOCK_OVERRUN;
    } else {
        msg->block = p;
        p += msg->hdr.block_len;
        msg->groups = p;
        if (HT_LIKELY(msg->hdr.num_groups == 0 && msg->hdr.num_var_data == 0))
            msg->var_data = p;
        else
            st = skip_groups_and_vars(&p, end, msg->hdr.num_groups, msg->hdr.num_var_data, 0, &msg->var_data);
    }
    if (HT_UNLIKELY(st != HT_SBE_OK))
        return iter_fault(it, st, offset, msg->hdr.template_id);
    msg->end = p;
    it->pos = p;
    return true;
}

int ht_sbe_iter_fault(const ht_sbe_iter *it, ht_error *err)
{
    if (it->fault_template)
        return ht_error_set(err, "offset %u, template %u (%s): %s", it->fault_offset, it->fault_template,
                            ht_sbe_template_name(it->fault_template), ht_sbe_status_str(it->status));
    return ht_error_set(err, "offset %u: %s", it->fault_offset, ht_sbe_status_str(it->status));
}

/* Reads the first group of a message, checking that it exists and its entries have at least entry_len
 * bytes (the walk in ht_sbe_iter_next already proved the entries lie inside the message). */
static ht_sbe_status first_group(const ht_sbe_msg *msg, unsigned entry_len, ht_sbe_group *out)
{
    if (HT_UNLIKELY(msg->hdr.num_groups == 0))
        return HT_SBE_ERR_MISSING_GROUP;
    const uint8_t *p = msg->groups;
    if (HT_UNLIKELY((size_t)(msg->end - p) < HT_SBE_GROUP_HEADER_LEN))
        return HT_SBE_ERR_GROUP_HEADER;
    out->block_len = ht_sbe_u16(p);
    out->count = ht_sbe_u16(p + 2);
    out->entries = p + HT_SBE_GROUP_HEADER_LEN;
    if (HT_UNLIKELY(out->count > 0 && out->block_len < entry_len))
        return HT_SBE_ERR_ENTRY_TOO_SHORT;
    if (HT_UNLIKELY((size_t)(msg->end - out->entries) < (size_t)out->block_len * out->count))
        return HT_SBE_ERR_GROUP_OVERRUN;
    return HT_SBE_OK;
}

/* Copies a fixed-length char field of n bytes into a NUL-terminated string (stops at the first NUL). */
static void copy_fixed_string(char *dst, const uint8_t *src, size_t n)
{
    size_t i = 0;
    for (; i < n && src[i] != '\0'; i++)
        dst[i] = (char)src[i];
    dst[i] = '\0';
}

ht_sbe_status ht_sbe_decode_instrument(const ht_sbe_msg *msg, ht_sbe_instrument *out)
{
    bool v2 = msg->hdr.template_id == HT_SBE_INSTRUMENT_V2;
    unsigned need = v2 ? HT_SBE_BLOCK_INSTRUMENT_V2 : HT_SBE_BLOCK_INSTRUMENT;
    if (HT_UNLIKELY(msg->hdr.block_len < need))
        return HT_SBE_ERR_BLOCK_TOO_SHORT;
    if (HT_UNLIKELY(msg->hdr.num_var_data == 0))
        return HT_SBE_ERR_MISSING_VAR_DATA;
    const uint8_t *p = msg->block;
    out->template_id = msg->hdr.template_id;
    out->instrument_id = ht_sbe_u32(p);
    out->state = p[4];
    out->kind = p[5];
    out->instrument_type = p[6];
    out->option_type = p[7];
    /* 1010 drops the rfq byte: every later field sits one byte earlier. */
    unsigned o = 8;
    if (v2) {
        out->rfq = 0;
    } else {
        out->rfq = p[8];
        o = 9;
    }
    out->settlement_period = p[o];
    out->settlement_period_count = ht_sbe_u16(p + o + 1);
    o += 3;
    copy_fixed_string(out->base_currency, p + o, 8);
    copy_fixed_string(out->quote_currency, p + o + 8, 8);
    copy_fixed_string(out->counter_currency, p + o + 16, 8);
    copy_fixed_string(out->settlement_currency, p + o + 24, 8);
    copy_fixed_string(out->size_currency, p + o + 32, 8);
    o += 40;
    out->creation_timestamp_ms = ht_sbe_u64(p + o);
    out->expiration_timestamp_ms = ht_sbe_u64(p + o + 8);
    out->strike_price = ht_sbe_f64(p + o + 16);
    out->contract_size = ht_sbe_f64(p + o + 24);
    out->min_trade_amount = ht_sbe_f64(p + o + 32);
    out->tick_size = ht_sbe_f64(p + o + 40);
    out->maker_commission = ht_sbe_f64(p + o + 48);
    out->taker_commission = ht_sbe_f64(p + o + 56);
    out->block_trade_commission = ht_sbe_f64(p + o + 64);
    out->max_liquidation_commission = ht_sbe_f64(p + o + 72);
    out->max_leverage = ht_sbe_f64(p + o + 80);
    memset(&out->tick_steps, 0, sizeof out->tick_steps);
    out->tick_steps.entries = msg->groups;
    if (v2) {
        ht_sbe_status st = first_group(msg, HT_SBE_ENTRY_TICK_STEP, &out->tick_steps);
        if (HT_UNLIKELY(st != HT_SBE_OK))
            return st;
    }
    /* The walk proved the var-data field lies inside the message. */
    out->name_len = msg->var_data[0];
    out->name = (const char *)msg->var_data + 1;
    return HT_SBE_OK;
}

ht_sbe_status ht_sbe_decode_book(const ht_sbe_msg *msg, ht_sbe_book *out)
{
    if (HT_UNLIKELY(msg->hdr.block_len < HT_SBE_BLOCK_BOOK))
        return HT_SBE_ERR_BLOCK_TOO_SHORT;
    const uint8_t *p = msg->block;
    out->instrument_id = ht_sbe_u32(p);
    out->timestamp_ms = ht_sbe_u64(p + 4);
    out->prev_change_id = ht_sbe_u64(p + 12);
    out->change_id = ht_sbe_u64(p + 20);
    out->is_last = p[28];
    return first_group(msg, HT_SBE_ENTRY_BOOK_CHANGE, &out->changes);
}

ht_sbe_status ht_sbe_decode_trades(const ht_sbe_msg *msg, ht_sbe_trades *out)
{
    if (HT_UNLIKELY(msg->hdr.block_len < HT_SBE_BLOCK_TRADES))
        return HT_SBE_ERR_BLOCK_TOO_SHORT;
    out->instrument_id = ht_sbe_u32(msg->block);
    return first_group(msg, HT_SBE_ENTRY_TRADE, &out->trades);
}

ht_sbe_status ht_sbe_decode_snapshot(const ht_sbe_msg *msg, ht_sbe_snapshot *out)
{
    if (HT_UNLIKELY(msg->hdr.block_len < HT_SBE_BLOCK_SNAPSHOT))
        return HT_SBE_ERR_BLOCK_TOO_SHORT;
    const uint8_t *p = msg->block;
    out->instrument_id = ht_sbe_u32(p);
    out->timestamp_ms = ht_sbe_u64(p + 4);
    out->change_id = ht_sbe_u64(p + 12);
    out->is_book_complete = p[20];
    out->is_last_in_book = p[21];
    return first_group(msg, HT_SBE_ENTRY_LEVEL, &out->levels);
}

ht_sbe_status ht_sbe_decode_snapshot_start(const ht_sbe_msg *msg, ht_sbe_snapshot_start *out)
{
    if (HT_UNLIKELY(msg->hdr.block_len < HT_SBE_BLOCK_SNAPSHOT_START))
        return HT_SBE_ERR_BLOCK_TOO_SHORT;
    out->snapshot_delay_ms = ht_sbe_u32(msg->block);
    return HT_SBE_OK;
}

ht_sbe_status ht_sbe_decode_combo_legs(const ht_sbe_msg *msg, ht_sbe_combo_legs *out)
{
    if (HT_UNLIKELY(msg->hdr.block_len < HT_SBE_BLOCK_COMBO_LEGS))
        return HT_SBE_ERR_BLOCK_TOO_SHORT;
    out->instrument_id = ht_sbe_u32(msg->block);
    return first_group(msg, HT_SBE_ENTRY_LEG, &out->legs);
}

ht_sbe_status ht_sbe_decode_price_index(const ht_sbe_msg *msg, ht_sbe_price_index *out)
{
    if (HT_UNLIKELY(msg->hdr.block_len < HT_SBE_BLOCK_PRICE_INDEX))
        return HT_SBE_ERR_BLOCK_TOO_SHORT;
    const uint8_t *p = msg->block;
    copy_fixed_string(out->index_name, p, 16);
    out->price = ht_sbe_f64(p + 16);
    out->timestamp_ms = ht_sbe_u64(p + 24);
    return HT_SBE_OK;
}

ht_sbe_status ht_sbe_decode_rfq(const ht_sbe_msg *msg, ht_sbe_rfq *out)
{
    if (HT_UNLIKELY(msg->hdr.block_len < HT_SBE_BLOCK_RFQ))
        return HT_SBE_ERR_BLOCK_TOO_SHORT;
    const uint8_t *p = msg->block;
    out->instrument_id = ht_sbe_u32(p);
    out->state = p[4];
    out->side = p[5];
    out->amount = ht_sbe_f64(p + 6);
    out->timestamp_ms = ht_sbe_u64(p + 14);
    return HT_SBE_OK;
}

ht_sbe_status ht_sbe_decode(const ht_sbe_msg *msg, ht_sbe_decoded *out)
{
    out->template_id = msg->hdr.template_id;
    out->known = ht_sbe_template_known(msg->hdr.template_id) && ht_sbe_schema_known(&msg->hdr);
    if (!out->known)
        return HT_SBE_OK;
    switch (msg->hdr.template_id) {
    case HT_SBE_INSTRUMENT:
    case HT_SBE_INSTRUMENT_V2:
        return ht_sbe_decode_instrument(msg, &out->u.instrument);
    case HT_SBE_BOOK:
        return ht_sbe_decode_book(msg, &out->u.book);
    case HT_SBE_TRADES:
        return ht_sbe_decode_trades(msg, &out->u.trades);
    case HT_SBE_TICKER:
        return ht_sbe_decode_ticker(msg, &out->u.ticker);
    case HT_SBE_SNAPSHOT:
        return ht_sbe_decode_snapshot(msg, &out->u.snapshot);
    case HT_SBE_SNAPSHOT_START:
        return ht_sbe_decode_snapshot_start(msg, &out->u.snapshot_start);
    case HT_SBE_SNAPSHOT_END:
        return HT_SBE_OK;
    case HT_SBE_COMBO_LEGS:
        return ht_sbe_decode_combo_legs(msg, &out->u.combo_legs);
    case HT_SBE_PRICE_INDEX:
        return ht_sbe_decode_price_index(msg, &out->u.price_index);
    case HT_SBE_RFQ:
        return ht_sbe_decode_rfq(msg, &out->u.rfq);
    default:
        return HT_SBE_OK;
    }
}
