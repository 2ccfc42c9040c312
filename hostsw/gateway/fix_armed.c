/* SPDX-License-Identifier: MIT */
/* The trigger label (DeribitLabel 100010) and NewOrderSingles armed ahead of their trigger: encoded once with
 * fixed-width patch points, finished at firing by writing the header fields of the moment and patching the tail
 * (docs/gateway.md "Trigger on the wire", "Armed orders"). */
#include <string.h>

#include "hedgetrig/fix.h"

static const uint64_t k_pow10[10] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};

/* Writes v right-aligned in exactly n (>= its digits) characters at out, zero padded. */
static void padded_u64(char *out, uint64_t v, size_t n)
{
    char digits[24];
    size_t k = ht_fix_format_u64(digits, v);
    memset(out, '0', n - k);
    memcpy(out + n - k, digits, k);
}

void ht_fix_format_trigger_label(char *out, uint16_t channel, uint64_t seq)
{
    out[0] = 't';
    padded_u64(out + 1, channel, 5);
    out[6] = '.';
    padded_u64(out + 7, seq, 20);
}

/* Reads 1..max_digits decimal digits of value[*at..len) up to stop (or the end when stop is 0) into *out; false when
 * there are none, too many, another byte, or the number exceeds limit. */
static bool read_digits(const char *value, size_t len, size_t *at, size_t max_digits, char stop, uint64_t limit,
                        uint64_t *out)
{
    size_t i = *at, n = 0;
    uint64_t v = 0;
    for (; i < len && value[i] != stop; i++, n++) {
        unsigned d = (unsigned)(unsigned char)value[i] - '0';
        if (d > 9 || n == max_digits || v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (n == 0)
        return false;
    *at = i;
    *out = v;
    return true;
}

bool ht_fix_parse_trigger_label(const char *value, size_t len, uint16_t *channel, uint64_t *seq)
{
    if (!value || len < 4 || value[0] != 't')
        return false;
    size_t at = 1;
    uint64_t ch, sq;
    if (!read_digits(value, len, &at, 5, '.', UINT16_MAX, &ch) || at >= len || value[at] != '.')
        return false;
    at++;
    if (!read_digits(value, len, &at, 20, '\0', UINT64_MAX, &sq) || at != len || sq == 0)
        return false;
    *channel = (uint16_t)ch;
    *seq = sq;
    return true;
}

/* The offset of the first occurrence of needle (n bytes) in hay[from..len), or -1. */
static long find_bytes(const char *hay, size_t len, size_t from, const char *needle, size_t n)
{
    for (size_t i = from; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return (long)i;
    return -1;
}

int ht_fix_armed_qty(const ht_fix_armed_nos *armed, double qty, char *out)
{
    unsigned dec = armed->qty_decimals;
    double scaled_d = qty * (double)k_pow10[dec];
    if (!(scaled_d > 0) || !(scaled_d < 9e18))
        return -1;
    uint64_t scaled = (uint64_t)(scaled_d + 0.5);
    uint64_t whole = scaled / k_pow10[dec];
    uint64_t frac = scaled - whole * k_pow10[dec];
    size_t k = ht_fix_format_u64(out, whole);
    if ((size_t)armed->qty_width < k + 2)
        return -1; /* no room for the point and one digit after it */
    size_t room = armed->qty_width - k - 1;
    if (dec > room) { /* the digits beyond the room must be zeros */
        uint64_t drop = k_pow10[dec - room];
        if (frac % drop != 0)
            return -1;
        frac /= drop;
        dec = (unsigned)room;
    }
    out[k] = '.';
    if (dec)
        padded_u64(out + k + 1, frac, dec);
    memset(out + k + 1 + dec, '0', room - dec);
    return (int)armed->qty_width;
}

int ht_fix_arm_nos(ht_fix_nos_encoder *enc, ht_fix_armed_nos *armed, const char *symbol, size_t symbol_len, char side,
                   double qty, double price)
{
    memset(armed, 0, sizeof *armed);
    char buf[HT_FIX_NOS_BUFFER_BYTES];
    size_t len;
    /* Encoded as an order of the moment would be (every check of the encoder), with a trigger so the label's place
     * is known; then the tail is cut out of it. */
    const char *m = ht_fix_encode_nos_trigger(enc, buf, 1, 0, 1, symbol, symbol_len, side, qty, price, 0, 1, &len);
    if (!m)
        return -1;
    enc->cached_sec = UINT64_MAX; /* the time above was the epoch's: the next order formats its own date */
    long start = find_bytes(m, len, 0, "\00155=", 4);
    long label = find_bytes(m, len, 0, "\001100010=", 8);
    long qty_at = start < 0 ? -1 : find_bytes(m, len, (size_t)start, "\00138=", 4);
    if (start < 0 || label < 0 || qty_at < 0)
        return -1;
    size_t from = (size_t)start + 1, qty_val = (size_t)qty_at + 4;
    const char *qty_end = memchr(m + qty_val, HT_FIX_SOH, len - qty_val);
    if (!qty_end)
        return -1;
    armed->qty_decimals = enc->qty_decimals;
    /* The armed width: the whole digits, the point and max(qty_decimals, 1) digits. */
    double on_wire = ht_fix_decimal_on_wire(qty, enc->qty_decimals);
    char digits[24];
    armed->qty_width = (uint16_t)(ht_fix_format_u64(digits, (uint64_t)on_wire) + 1 +
                                  (enc->qty_decimals ? enc->qty_decimals : 1));
    char qty_text[HT_FIX_ARMED_QTY_BYTES];
    int width = ht_fix_armed_qty(armed, on_wire, qty_text);
    size_t before = qty_val - from, after = (size_t)(qty_end - m);
    size_t rest = (size_t)label + 1 - after; /* the qty's SOH .. the SOH after TransactTime */
    size_t label_field = 7 + HT_FIX_TRIGGER_LABEL_CHARS + 1;
    if (width < 0 || before + armed->qty_width + rest + label_field > sizeof armed->tail)
        return -1;
    char *t = armed->tail;
    memcpy(t, m + from, before);
    memcpy(t + before, qty_text, armed->qty_width);
    memcpy(t + before + armed->qty_width, m + after, rest + label_field);
    armed->qty_off = (uint16_t)before;
    armed->tail_len = (uint16_t)(before + armed->qty_width + rest);
    armed->label_len = (uint16_t)label_field;
    armed->label_off = (uint16_t)(armed->tail_len + 7);
    long time_at = find_bytes(t, armed->tail_len, 0, "\00160=", 4);
    if (time_at < 0)
        return -1;
    armed->time_off = (uint16_t)(time_at + 4);
    return 0;
}

const char *ht_fix_fire_nos(ht_fix_nos_encoder *enc, const ht_fix_armed_nos *armed, char *buf, uint64_t seq,
                            uint64_t wall_ns, uint64_t clordid, const char *qty_text, uint16_t trigger_channel,
                            uint64_t trigger_seq, size_t *len)
{
    char *body = buf + HT_FIX_HEADER_ROOM;
    char *p = body;
    memcpy(p, enc->head, enc->head_len);
    p += enc->head_len;
    p += ht_fix_format_u64(p, seq);
    memcpy(p, "\00152=", 4);
    char *time = p + 4;
    ht_fix_nos_time(enc, time, wall_ns);
    p = time + 21;
    memcpy(p, "\00111=", 4);
    p += 4;
    memcpy(p, enc->clordid_prefix, enc->clordid_prefix_len);
    p += enc->clordid_prefix_len;
    p += ht_fix_format_u64(p, clordid);
    *p++ = HT_FIX_SOH;
    size_t n = armed->tail_len + (trigger_seq ? armed->label_len : 0u);
    memcpy(p, armed->tail, n);
    memcpy(p + armed->time_off, time, 21);
    if (qty_text)
        memcpy(p + armed->qty_off, qty_text, armed->qty_width);
    if (trigger_seq)
        ht_fix_format_trigger_label(p + armed->label_off, trigger_channel, trigger_seq);
    p += n;
    size_t body_len = (size_t)(p - body);
    char digits[8];
    size_t nd = ht_fix_format_u64(digits, body_len);
    char *start = body - (13 + nd); /* "8=FIX.4.4<SOH>9=" digits <SOH> */
    memcpy(start, "8=FIX.4.4\0019=", 12);
    memcpy(start + 12, digits, nd);
    start[12 + nd] = HT_FIX_SOH;
    unsigned sum = ht_fix_checksum(start, (size_t)(p - start)); /* PSADBW, 16 bytes a step */
    p[0] = '1';
    p[1] = '0';
    p[2] = '=';
    p[3] = (char)('0' + sum / 100);
    p[4] = (char)('0' + sum / 10 % 10);
    p[5] = (char)('0' + sum % 10);
    p[6] = HT_FIX_SOH;
    *len = (size_t)(p + HT_FIX_TRAILER_BYTES - start);
    return start;
}
