/* SPDX-License-Identifier: MIT */
/* FIX 4.4 codec: framing checks (BeginString, BodyLength, CheckSum), field tokenising, allocation-free writer. */
#include "hedgetrig/fix.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static const char k_begin[] = "8=FIX.4.4\001"; /* 10 bytes */
#define BEGIN_LEN (sizeof k_begin - 1)

/* Number of bytes to drop so that the buffer starts at the next possible "8=FIX" (at least one byte). */
static size_t resync_length(const char *buf, size_t len)
{
    for (size_t i = 1; i < len; i++) {
        size_t n = len - i < 5 ? len - i : 5;
        if (memcmp(buf + i, "8=FIX", n) == 0)
            return i;
    }
    return len ? len : 1;
}

/* Shows up to 12 bytes at p as printable text (SOH as '|') for error messages. */
static const char *printable(const char *p, size_t n, char out[16])
{
    if (n > 12)
        n = 12;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        out[i] = c == 1 ? '|' : (c >= 32 && c < 127 ? (char)c : '?');
    }
    out[n] = '\0';
    return out;
}

#if defined(__SSE2__)
/* Sixteen zero bytes then sixteen 0xFF: read from offset r (1..15), the mask keeps the last r bytes of a block. */
static const unsigned char k_tail_mask[32] = {0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
                                              0,    0,    0,    0,    0,    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                              0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
#endif

unsigned ht_fix_checksum(const char *data, size_t len)
{
#if defined(__SSE2__)
    /* Sixteen bytes at a time: PSADBW against zero sums each 8-byte half into a 64-bit lane. */
    __m128i acc = _mm_setzero_si128();
    const __m128i zero = _mm_setzero_si128();
    size_t j = 0;
    for (; j + 16 <= len; j += 16)
        acc = _mm_add_epi64(acc, _mm_sad_epu8(_mm_loadu_si128((const __m128i *)(const void *)(data + j)), zero));
    if (j < len && len >= 16) {
        /* The last 1..15 bytes: the final sixteen of the data, with the ones already summed masked off. */
        __m128i last = _mm_loadu_si128((const __m128i *)(const void *)(data + len - 16));
        __m128i keep = _mm_loadu_si128((const __m128i *)(const void *)(k_tail_mask + (len - j)));
        acc = _mm_add_epi64(acc, _mm_sad_epu8(_mm_and_si128(last, keep), zero));
        j = len;
    }
    unsigned total = (unsigned)(_mm_cvtsi128_si64(acc) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(acc, acc)));
    for (; j < len; j++)
        total += (unsigned char)data[j];
    return total & 0xffu;
#else
    /* Eight bytes at a time: even and odd bytes accumulate in four 16-bit lanes each (no lane can overflow
     * within 255 words), then the lanes are added up. */
    const uint64_t lanes = 0x00FF00FF00FF00FFull;
    unsigned sum = 0;
    size_t i = 0;
    while (len - i >= 8) {
        uint64_t acc = 0;
        size_t words = (len - i) / 8;
        if (words > 255)
            words = 255;
        for (size_t k = 0; k < words; k++, i += 8) {
            uint64_t w;
            memcpy(&w, data + i, 8);
            acc += (w & lanes) + ((w >> 8) & lanes);
        }
        acc = (acc & 0x0000FFFF0000FFFFull) + ((acc >> 16) & 0x0000FFFF0000FFFFull);
        acc = (acc & 0xFFFFFFFFull) + (acc >> 32);
        sum += (unsigned)acc;
    }
    for (; i < len; i++)
        sum += (unsigned char)data[i];
    return sum & 0xffu;
#endif
}

/* Length of a data field's value as announced by the length field just before it, or -1 if none applies. */
static long data_field_length(const ht_fix_msg *msg, uint32_t tag, const char *buf)
{
    uint32_t len_tag = tag == HT_TAG_RAW_DATA ? HT_TAG_RAW_DATA_LENGTH : tag == HT_TAG_SIGNATURE ? HT_TAG_SIGNATURE_LENGTH : 0;
    if (!len_tag || msg->n_fields == 0 || msg->fields[msg->n_fields - 1].tag != len_tag)
        return -1;
    const ht_fix_field *f = &msg->fields[msg->n_fields - 1];
    long v = 0;
    for (uint32_t i = 0; i < f->len; i++) {
        char c = buf[f->off + i];
        if (c < '0' || c > '9' || v > 1000000)
            return -1;
        v = v * 10 + (c - '0');
    }
    return v;
}

/* Checks the frame of the first message of buf[0..len): BeginString, BodyLength, the CheckSum field where BodyLength
 * says and its value. On HT_FIX_PARSE_OK, *body_start and *body_len locate the body and *consumed is the message's
 * length; on HT_FIX_PARSE_BAD, *consumed is what to drop (see ht_fix_parse). */
static ht_fix_parse_status parse_frame(const char *buf, size_t len, size_t max_msg, size_t *body_start,
                                       size_t *body_len, size_t *consumed, ht_error *err)
{
    char shown[16];
    size_t n = len < BEGIN_LEN ? len : BEGIN_LEN;
    if (memcmp(buf, k_begin, n) != 0) {
        *consumed = resync_length(buf, len);
        ht_error_set(err, "offset 0: expected BeginString '8=FIX.4.4|', found '%s' (%zu bytes skipped)",
                     printable(buf, len, shown), *consumed);
        return HT_FIX_PARSE_BAD;
    }
    if (len < BEGIN_LEN + 2)
        return HT_FIX_PARSE_INCOMPLETE;
    if (buf[BEGIN_LEN] != '9' || buf[BEGIN_LEN + 1] != '=') {
        *consumed = resync_length(buf, len);
        return ht_error_set(err, "offset %zu: expected BodyLength (9) as the second field, found '%s'", BEGIN_LEN,
                            printable(buf + BEGIN_LEN, len - BEGIN_LEN, shown)),
               HT_FIX_PARSE_BAD;
    }
    size_t p = BEGIN_LEN + 2;
    size_t digits = 0;
    *body_len = 0;
    while (p < len && buf[p] >= '0' && buf[p] <= '9' && digits < 8) {
        *body_len = *body_len * 10 + (size_t)(buf[p] - '0');
        p++;
        digits++;
    }
    if (p == len)
        return HT_FIX_PARSE_INCOMPLETE;
    if (digits == 0 || digits >= 8 || buf[p] != HT_FIX_SOH) {
        *consumed = resync_length(buf, len);
        return ht_error_set(err, "offset %zu: BodyLength (9) is not a number of at most 7 digits: '%s'",
                            BEGIN_LEN + 2, printable(buf + BEGIN_LEN + 2, len - BEGIN_LEN - 2, shown)),
               HT_FIX_PARSE_BAD;
    }
    *body_start = p + 1;
    size_t total = *body_start + *body_len + HT_FIX_TRAILER_BYTES;
    if (total > max_msg) {
        *consumed = resync_length(buf, len);
        return ht_error_set(err, "BodyLength %zu makes a %zu-byte message, over the %zu-byte limit", *body_len,
                            total, max_msg),
               HT_FIX_PARSE_BAD;
    }
    if (len < total)
        return HT_FIX_PARSE_INCOMPLETE;
    const char *trailer = buf + *body_start + *body_len;
    if (*body_len == 0 || trailer[-1] != HT_FIX_SOH || memcmp(trailer, "10=", 3) != 0 || trailer[6] != HT_FIX_SOH ||
        trailer[3] < '0' || trailer[3] > '9' || trailer[4] < '0' || trailer[4] > '9' || trailer[5] < '0' ||
        trailer[5] > '9') {
        *consumed = resync_length(buf, len);
        return ht_error_set(err, "BodyLength %zu does not end at the CheckSum field: offset %zu holds '%s'",
                            *body_len, *body_start + *body_len, printable(trailer - 1, 8, shown)),
               HT_FIX_PARSE_BAD;
    }
    unsigned want = (unsigned)((trailer[3] - '0') * 100 + (trailer[4] - '0') * 10 + (trailer[5] - '0'));
    unsigned got = ht_fix_checksum(buf, *body_start + *body_len);
    *consumed = total;
    if (want != got)
        return ht_error_set(err, "CheckSum (10) is %03u, the bytes sum to %03u", want, got), HT_FIX_PARSE_BAD;
    return HT_FIX_PARSE_OK;
}

/* Splits the body buf[p..end) into msg's fields: "tag=value<SOH>" each, data fields sized by their length fields,
 * MsgType first. HT_FIX_PARSE_OK, or HT_FIX_PARSE_BAD with err. */
static ht_fix_parse_status parse_fields(const char *buf, size_t p, size_t end, ht_fix_msg *msg, ht_error *err)
{
    char shown[16];
    while (p < end) {
        size_t tag_at = p;
        uint32_t tag = 0;
        while (p < end && buf[p] >= '0' && buf[p] <= '9' && tag < 100000000u) {
            tag = tag * 10 + (uint32_t)(buf[p] - '0');
            p++;
        }
        if (p == tag_at || p >= end || buf[p] != '=' || buf[tag_at] == '0')
            return ht_error_set(err, "offset %zu: expected a field 'tag=value', found '%s'", tag_at,
                                printable(buf + tag_at, end - tag_at, shown)),
                   HT_FIX_PARSE_BAD;
        p++;
        size_t value_at = p;
        long data_len = data_field_length(msg, tag, buf);
        if (data_len >= 0) {
            if (value_at + (size_t)data_len >= end || buf[value_at + (size_t)data_len] != HT_FIX_SOH)
                return ht_error_set(err, "offset %zu: tag %u holds %ld bytes by its length field, not followed by SOH",
                                    value_at, tag, data_len),
                       HT_FIX_PARSE_BAD;
            p = value_at + (size_t)data_len;
        } else {
            const char *soh = memchr(buf + p, HT_FIX_SOH, end - p);
            p = (size_t)(soh - buf); /* the body ends with SOH (checked above), so soh is found */
        }
        if (p == value_at)
            return ht_error_set(err, "offset %zu: tag %u has an empty value", tag_at, tag), HT_FIX_PARSE_BAD;
        if (msg->n_fields == HT_FIX_MAX_FIELDS)
            return ht_error_set(err, "offset %zu: more than %d fields", tag_at, HT_FIX_MAX_FIELDS), HT_FIX_PARSE_BAD;
        if (msg->n_fields == 0 && tag != HT_TAG_MSG_TYPE)
            return ht_error_set(err, "offset %zu: the first body field must be MsgType (35), found tag %u", tag_at, tag),
                   HT_FIX_PARSE_BAD;
        msg->fields[msg->n_fields++] = (ht_fix_field){tag, (uint32_t)value_at, (uint32_t)(p - value_at)};
        p++;
    }
    return HT_FIX_PARSE_OK;
}

ht_fix_parse_status ht_fix_parse(const char *buf, size_t len, size_t max_msg, ht_fix_msg *msg, size_t *consumed,
                                 ht_error *err)
{
    *consumed = 0;
    if (max_msg == 0)
        max_msg = HT_FIX_DEFAULT_MAX_MSG;
    if (max_msg > HT_FIX_HARD_MAX_MSG)
        max_msg = HT_FIX_HARD_MAX_MSG;
    if (len == 0)
        return HT_FIX_PARSE_INCOMPLETE;
    size_t body_start = 0, body_len = 0;
    ht_fix_parse_status st = parse_frame(buf, len, max_msg, &body_start, &body_len, consumed, err);
    if (st != HT_FIX_PARSE_OK)
        return st;
    msg->buf = buf;
    msg->len = *consumed;
    msg->n_fields = 0;
    msg->msg_type[0] = '\0';
    if (parse_fields(buf, body_start, body_start + body_len, msg, err) != HT_FIX_PARSE_OK)
        return HT_FIX_PARSE_BAD;
    const ht_fix_field *type = &msg->fields[0];
    if (type->len > 2)
        return ht_error_set(err, "offset %u: MsgType (35) '%.*s' is longer than 2 characters", type->off,
                            (int)(type->len > 12 ? 12 : type->len), buf + type->off),
               HT_FIX_PARSE_BAD;
    memcpy(msg->msg_type, buf + type->off, type->len);
    msg->msg_type[type->len] = '\0';
    return HT_FIX_PARSE_OK;
}

const ht_fix_field *ht_fix_find(const ht_fix_msg *msg, uint32_t tag)
{
    for (uint32_t i = 0; i < msg->n_fields; i++)
        if (msg->fields[i].tag == tag)
            return &msg->fields[i];
    return NULL;
}

const char *ht_fix_get(const ht_fix_msg *msg, uint32_t tag, size_t *len)
{
    const ht_fix_field *f = ht_fix_find(msg, tag);
    *len = f ? f->len : 0;
    return f ? msg->buf + f->off : NULL;
}

char *ht_fix_printable(const char *src, size_t len, char *out, size_t cap)
{
    if (len >= cap)
        len = cap - 1;
    for (size_t i = 0; i < len; i++)
        out[i] = (unsigned char)src[i] >= 0x20 && (unsigned char)src[i] <= 0x7E ? src[i] : '?';
    out[len] = '\0';
    return out;
}

/* Copies a field's value into out (NUL-terminated, truncated), as is or shown printable. False when absent. */
static bool copy_field(const ht_fix_msg *msg, uint32_t tag, char *out, size_t cap, bool printable)
{
    size_t len;
    const char *v = ht_fix_get(msg, tag, &len);
    if (cap)
        out[0] = '\0';
    if (!v || cap == 0)
        return false;
    if (printable)
        return ht_fix_printable(v, len, out, cap), true;
    if (len >= cap)
        len = cap - 1;
    memcpy(out, v, len);
    out[len] = '\0';
    return true;
}

bool ht_fix_get_str(const ht_fix_msg *msg, uint32_t tag, char *out, size_t cap)
{
    return copy_field(msg, tag, out, cap, false);
}

bool ht_fix_get_printable(const ht_fix_msg *msg, uint32_t tag, char *out, size_t cap)
{
    return copy_field(msg, tag, out, cap, true);
}

bool ht_fix_get_u64(const ht_fix_msg *msg, uint32_t tag, uint64_t *out)
{
    size_t len;
    const char *v = ht_fix_get(msg, tag, &len);
    return v && ht_fix_value_u64(v, len, out);
}

bool ht_fix_value_u64(const char *v, size_t len, uint64_t *out)
{
    if (len == 0 || len > 19)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return true;
}

bool ht_fix_get_double(const ht_fix_msg *msg, uint32_t tag, double *out)
{
    size_t len;
    const char *v = ht_fix_get(msg, tag, &len);
    return v && ht_fix_value_double(v, len, out);
}

bool ht_fix_value_double(const char *v, size_t len, double *out)
{
    if (len == 0 || len > 40)
        return false;
    char text[48];
    size_t i = 0, digits = 0;
    if (v[0] == '-')
        i++;
    while (i < len && v[i] >= '0' && v[i] <= '9')
        i++, digits++;
    if (i < len && v[i] == '.') {
        i++;
        while (i < len && v[i] >= '0' && v[i] <= '9')
            i++, digits++;
    }
    if (i != len || digits == 0)
        return false;
    memcpy(text, v, len);
    text[len] = '\0';
    *out = strtod(text, NULL);
    return true;
}

char ht_fix_get_char(const ht_fix_msg *msg, uint32_t tag)
{
    const ht_fix_field *f = ht_fix_find(msg, tag);
    return f ? msg->buf[f->off] : '\0';
}

bool ht_fix_field_is(const ht_fix_msg *msg, uint32_t tag, const char *text)
{
    size_t len;
    const char *v = ht_fix_get(msg, tag, &len);
    return v && strlen(text) == len && memcmp(v, text, len) == 0;
}

/* ---- formatting ---- */

static const char k_digit_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                       "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                       "8081828384858687888990919293949596979899";

/* 10^0 .. 10^19: digit counting for ht_fix_format_u64. */
static const uint64_t k_pow10_u64[20] = {1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
                                         100000000ull, 1000000000ull, 10000000000ull, 100000000000ull,
                                         1000000000000ull, 10000000000000ull, 100000000000000ull,
                                         1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
                                         1000000000000000000ull, 10000000000000000000ull};

/* Number of decimal digits of v < 10^8, by a comparison tree (three comparisons). */
static inline size_t digits_below_1e8(uint32_t v)
{
    if (v < 10000u)
        return v < 100u ? (v < 10u ? 1 : 2) : (v < 1000u ? 3 : 4);
    return v < 1000000u ? (v < 100000u ? 5 : 6) : (v < 10000000u ? 7 : 8);
}

/* Writes the n digits of v (32-bit arithmetic: the divisions by 100 become a multiply and a shift) ending at
 * out + n, two at a time from the right. */
static inline void write_digits_u32(char *out, uint32_t v, size_t n)
{
    char *p = out + n;
    while (v >= 100u) {
        uint32_t q = v / 100u;
        uint32_t pair = v - q * 100u;
        v = q;
        p -= 2;
        memcpy(p, k_digit_pairs + 2 * pair, 2);
    }
    if (v >= 10u)
        memcpy(p - 2, k_digit_pairs + 2 * v, 2);
    else
        p[-1] = (char)('0' + v);
}

/* Writes exactly d digits of v < 10^d at out, leading zeros included (a fraction's digits). */
static inline void write_fixed_digits(char *out, uint32_t v, size_t d)
{
    char *p = out + d;
    for (; d >= 2; d -= 2) {
        uint32_t q = v / 100u;
        uint32_t pair = v - q * 100u;
        v = q;
        p -= 2;
        memcpy(p, k_digit_pairs + 2 * pair, 2);
    }
    if (d)
        p[-1] = (char)('0' + v);
}

size_t ht_fix_format_u64(char *out, uint64_t value)
{
    if (value < 100000000u) { /* sequence numbers, order ids, prices' whole parts, body lengths */
        size_t n = digits_below_1e8((uint32_t)value);
        write_digits_u32(out, (uint32_t)value, n);
        return n;
    }
    /* Count the digits, then write two at a time from the right: no temporary, no library call. */
    size_t n = 9;
    while (n < 20 && value >= k_pow10_u64[n])
        n++;
    char *p = out + n;
    while (value >= 100) {
        unsigned pair = (unsigned)(value % 100);
        value /= 100;
        p -= 2;
        p[0] = k_digit_pairs[2 * pair];
        p[1] = k_digit_pairs[2 * pair + 1];
    }
    if (value >= 10) {
        p[-2] = k_digit_pairs[2 * value];
        p[-1] = k_digit_pairs[2 * value + 1];
    } else {
        p[-1] = (char)('0' + value);
    }
    return n;
}

static const uint64_t k_pow10[10] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};

/* Splits a value scaled by 10^decimals into its whole part and its fraction (< 10^decimals), with a constant
 * divisor per case so that no hardware division is left. */
static inline uint64_t split_scaled(uint64_t scaled, unsigned decimals, uint32_t *frac)
{
#define SPLIT_CASE(d, p10)                                                                                           \
    case d: {                                                                                                        \
        uint64_t whole = scaled / (p10);                                                                             \
        *frac = (uint32_t)(scaled - whole * (p10));                                                                  \
        return whole;                                                                                                \
    }
    switch (decimals) {
    SPLIT_CASE(1, 10u)
    SPLIT_CASE(2, 100u)
    SPLIT_CASE(3, 1000u)
    SPLIT_CASE(4, 10000u)
    SPLIT_CASE(5, 100000u)
    SPLIT_CASE(6, 1000000u)
    SPLIT_CASE(7, 10000000u)
    SPLIT_CASE(8, 100000000u)
    SPLIT_CASE(9, 1000000000u)
    default: *frac = 0; return scaled;
    }
#undef SPLIT_CASE
}

/* Below this, |value| x 10^decimals + 0.5 converts to uint64_t exactly enough (and without overflow). */
#define DECIMAL_SCALED_LIMIT 9e18

double ht_fix_decimal_on_wire(double value, unsigned max_decimals)
{
    if (max_decimals > 9)
        max_decimals = 9;
    double mag = value < 0 ? -value : value;
    double scaled = mag * (double)k_pow10[max_decimals];
    if (!(scaled < DECIMAL_SCALED_LIMIT))
        return NAN; /* also NaN and infinities */
    double whole = (double)(uint64_t)(scaled + 0.5) / (double)k_pow10[max_decimals];
    return value < 0 ? -whole : whole;
}

size_t ht_fix_format_decimal(char *out, double value, unsigned max_decimals)
{
    if (max_decimals > 9)
        max_decimals = 9;
    size_t n = 0;
    double mag = value < 0 ? -value : value;
    uint64_t scaled = (uint64_t)(mag * (double)k_pow10[max_decimals] + 0.5);
    if (value < 0 && scaled)
        out[n++] = '-';
    uint32_t frac;
    uint64_t int_part = split_scaled(scaled, max_decimals, &frac);
    n += ht_fix_format_u64(out + n, int_part);
    if (frac) {
        /* Drop the trailing zeros (frac < 10^9 has at most 8): by fours, then a two and a one. */
        size_t d = max_decimals;
        while (frac % 10000u == 0) {
            frac /= 10000u;
            d -= 4;
        }
        if (frac % 100u == 0) {
            frac /= 100u;
            d -= 2;
        }
        if (frac % 10u == 0) {
            frac /= 10u;
            d -= 1;
        }
        out[n++] = '.';
        write_fixed_digits(out + n, frac, d);
        n += d;
    }
    return n;
}

/* Civil date (proleptic Gregorian) of a day count since 1970-01-01 (Hinnant's days-to-civil formula). */
static void civil_from_days(int64_t z, int *year, unsigned *month, unsigned *day)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(y + (*month <= 2));
}

/* Writes the timestamp, reusing cached ("YYYYMMDD-HH:MM:SS" of second *cached_sec) when the second is the same. */
static void format_time_cached(char *out, uint64_t wall_ns, uint64_t *cached_sec, char cached[17])
{
    uint64_t sec = wall_ns / 1000000000u;
    if (sec != *cached_sec) {
        int year;
        unsigned month, day;
        civil_from_days((int64_t)(sec / 86400u), &year, &month, &day);
        unsigned sod = (unsigned)(sec % 86400u);
        unsigned y = (unsigned)year;
        memcpy(cached, k_digit_pairs + 2 * (y / 100 % 100), 2);
        memcpy(cached + 2, k_digit_pairs + 2 * (y % 100), 2);
        memcpy(cached + 4, k_digit_pairs + 2 * month, 2);
        memcpy(cached + 6, k_digit_pairs + 2 * day, 2);
        cached[8] = '-';
        memcpy(cached + 9, k_digit_pairs + 2 * (sod / 3600), 2);
        cached[11] = ':';
        memcpy(cached + 12, k_digit_pairs + 2 * (sod / 60 % 60), 2);
        cached[14] = ':';
        memcpy(cached + 15, k_digit_pairs + 2 * (sod % 60), 2);
        *cached_sec = sec;
    }
    memcpy(out, cached, 17);
    unsigned ms = (unsigned)(wall_ns / 1000000u % 1000u);
    out[17] = '.';
    out[18] = (char)('0' + ms / 100);
    memcpy(out + 19, k_digit_pairs + 2 * (ms % 100), 2);
}

void ht_fix_format_time(char *out, uint64_t wall_ns)
{
    /* The "YYYYMMDD-HH:MM:SS" part changes once a second: keep it per thread. */
    static __thread uint64_t cached_sec = UINT64_MAX;
    static __thread char cached[17];
    format_time_cached(out, wall_ns, &cached_sec, cached);
}

/* ---- string values ---- */

/* What each grammar allows, as said in error messages. */
static const char *const k_grammar_text[] = {
    "an instrument name is A-Z, 0-9, '_' and '-'",
    "an identifier is A-Z, a-z, 0-9, '.', '_' and '-'",
    "text is printable ASCII (0x20..0x7E)",
    "a secret is printable ASCII without space (0x21..0x7E)",
};

bool ht_fix_byte_allowed(ht_fix_grammar grammar, unsigned char c)
{
    bool digit = c >= '0' && c <= '9', upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z';
    switch (grammar) {
    case HT_FIX_GRAMMAR_INSTRUMENT: return upper || digit || c == '_' || c == '-';
    case HT_FIX_GRAMMAR_ID: return upper || lower || digit || c == '.' || c == '_' || c == '-';
    case HT_FIX_GRAMMAR_TEXT: return c >= 0x20 && c <= 0x7E;
    case HT_FIX_GRAMMAR_SECRET: return c >= 0x21 && c <= 0x7E;
    }
    return false;
}

int ht_fix_check_value(const char *field, const char *value, size_t len, ht_fix_grammar grammar, size_t min_len,
                       size_t max_len, ht_error *err)
{
    if ((unsigned)grammar >= HT_ARRAY_LEN(k_grammar_text))
        return ht_error_set(err, "%s: unknown grammar %d", field, (int)grammar);
    bool secret = grammar == HT_FIX_GRAMMAR_SECRET;
    char shown[48];
    size_t n = len < sizeof shown - 5 ? len : sizeof shown - 5;
    for (size_t i = 0; i < n; i++)
        shown[i] = secret ? '*' : ((unsigned char)value[i] >= 0x20 && (unsigned char)value[i] < 0x7F ? value[i] : '?');
    memcpy(shown + n, len > n ? "...'" : "'", len > n ? 5 : 2);
    for (size_t i = 0; i < len; i++)
        if (!ht_fix_byte_allowed(grammar, (unsigned char)value[i]))
            return ht_error_set(err, "%s '%s: byte 0x%02X at offset %zu is not allowed (%s)", field, shown,
                                (unsigned char)value[i], i, k_grammar_text[grammar]);
    if (len < min_len || len > max_len)
        return ht_error_set(err, "%s '%s: %zu characters, expected %zu..%zu", field, shown, len, min_len, max_len);
    return 0;
}

/* ---- writer ---- */

/* Reserves n bytes at the writer's position; NULL (and the overflow flag) when they do not fit with the trailer. */
static char *writer_reserve(ht_fix_writer *w, size_t n)
{
    if (w->overflow || w->pos + n + HT_FIX_TRAILER_BYTES > w->cap) {
        w->overflow = true;
        return NULL;
    }
    char *p = w->buf + w->pos;
    w->pos += n;
    return p;
}

/* Writes "tag=" and returns the position for the value (room for value_room bytes plus SOH is reserved). */
static char *writer_tag(ht_fix_writer *w, uint32_t tag, size_t value_room)
{
    char tag_text[12];
    size_t tag_len = ht_fix_format_u64(tag_text, tag);
    char *p = writer_reserve(w, tag_len + 1 + value_room + 1);
    if (!p)
        return NULL;
    memcpy(p, tag_text, tag_len);
    p[tag_len] = '=';
    return p + tag_len + 1;
}

/* Ends a field whose value took used bytes of the room writer_tag reserved: gives back the rest, adds SOH. */
static void writer_end_field(ht_fix_writer *w, char *value, size_t used, size_t room)
{
    value[used] = HT_FIX_SOH;
    w->pos -= room - used;
}

void ht_fix_writer_begin(ht_fix_writer *w, char *buf, size_t cap, const char *msg_type)
{
    w->buf = buf;
    w->cap = cap;
    w->pos = HT_FIX_HEADER_ROOM;
    w->overflow = cap < HT_FIX_HEADER_ROOM + HT_FIX_TRAILER_BYTES;
    w->refused = false;
    w->refused_tag = 0;
    ht_fix_put_str(w, HT_TAG_MSG_TYPE, msg_type);
}

/* True when every byte of value[0..len) is printable ASCII: what any field value may hold on our wire. */
static bool printable_value(const char *value, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)value[i] < 0x20 || (unsigned char)value[i] > 0x7E)
            return false;
    return true;
}

void ht_fix_put_bytes(ht_fix_writer *w, uint32_t tag, const char *value, size_t len)
{
    if (HT_UNLIKELY(tag == 0 || len == 0 || !printable_value(value, len))) {
        if (!w->refused)
            w->refused_tag = tag;
        w->refused = true;
        return;
    }
    char *p = writer_tag(w, tag, len);
    if (!p)
        return;
    memcpy(p, value, len);
    writer_end_field(w, p, len, len);
}

void ht_fix_put_str(ht_fix_writer *w, uint32_t tag, const char *value)
{
    ht_fix_put_bytes(w, tag, value, strlen(value));
}

void ht_fix_put_u64(ht_fix_writer *w, uint32_t tag, uint64_t value)
{
    char *p = writer_tag(w, tag, 20);
    if (p)
        writer_end_field(w, p, ht_fix_format_u64(p, value), 20);
}

void ht_fix_put_char(ht_fix_writer *w, uint32_t tag, char value)
{
    ht_fix_put_bytes(w, tag, &value, 1);
}

void ht_fix_put_decimal(ht_fix_writer *w, uint32_t tag, double value, unsigned max_decimals)
{
    if (HT_UNLIKELY(isnan(ht_fix_decimal_on_wire(value, max_decimals)))) {
        if (!w->refused)
            w->refused_tag = tag;
        w->refused = true;
        return;
    }
    char *p = writer_tag(w, tag, 32);
    if (p)
        writer_end_field(w, p, ht_fix_format_decimal(p, value, max_decimals), 32);
}

void ht_fix_put_time(ht_fix_writer *w, uint32_t tag, uint64_t wall_ns)
{
    char *p = writer_tag(w, tag, 21);
    if (!p)
        return;
    ht_fix_format_time(p, wall_ns);
    writer_end_field(w, p, 21, 21);
}

const char *ht_fix_writer_finish(ht_fix_writer *w, size_t *len)
{
    *len = 0;
    if (w->overflow || w->refused)
        return NULL;
    size_t body_len = w->pos - HT_FIX_HEADER_ROOM;
    char digits[20];
    bool small = body_len < 100000000u; /* every real message: its digits go straight into place */
    size_t nd = small ? digits_below_1e8((uint32_t)body_len) : ht_fix_format_u64(digits, body_len);
    size_t header_len = sizeof k_begin - 1 + 2 + nd + 1;
    if (header_len > HT_FIX_HEADER_ROOM)
        return NULL;
    char *start = w->buf + HT_FIX_HEADER_ROOM - header_len;
    memcpy(start, k_begin, sizeof k_begin - 1);
    memcpy(start + sizeof k_begin - 1, "9=", 2);
    if (small)
        write_digits_u32(start + sizeof k_begin + 1, (uint32_t)body_len, nd);
    else
        memcpy(start + sizeof k_begin + 1, digits, nd);
    start[header_len - 1] = HT_FIX_SOH;
    unsigned sum = ht_fix_checksum(start, header_len + body_len);
    char *t = w->buf + w->pos;
    t[0] = '1';
    t[1] = '0';
    t[2] = '=';
    t[3] = (char)('0' + sum / 100);
    t[4] = (char)('0' + sum / 10 % 10);
    t[5] = (char)('0' + sum % 10);
    t[6] = HT_FIX_SOH;
    *len = header_len + body_len + HT_FIX_TRAILER_BYTES;
    return start;
}

char *ht_fix_redact(const char *msg, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    size_t i = 0;
    if (cap == 0)
        return out;
    while (i < len && o + 1 < cap) {
        /* At the start of a field: is it one whose value must not be shown? */
        bool secret = (len - i > 4 && memcmp(msg + i, "554=", 4) == 0) || (len - i > 3 && memcmp(msg + i, "96=", 3) == 0);
        if (secret) {
            while (i < len && msg[i] != '=' && o + 1 < cap)
                out[o++] = msg[i++];
            if (i < len && o + 1 < cap)
                out[o++] = msg[i++];
            while (i < len && msg[i] != HT_FIX_SOH)
                i++;
            for (int k = 0; k < 3 && o + 1 < cap; k++)
                out[o++] = '*';
        }
        while (i < len && o + 1 < cap) {
            char c = msg[i++];
            out[o++] = c == HT_FIX_SOH ? '|' : (c >= 32 && c < 127 ? c : '?');
            if (c == HT_FIX_SOH)
                break;
        }
    }
    out[o] = '\0';
    return out;
}

/* ---- NewOrderSingle fast path ---- */

int ht_fix_nos_init(ht_fix_nos_encoder *enc, const char *sender, const char *target, const char *clordid_prefix,
                    unsigned qty_decimals, unsigned price_decimals, ht_error *err)
{
    if (ht_fix_check_value("SenderCompID (49)", sender, strlen(sender), HT_FIX_GRAMMAR_ID, 1, 31, err) != 0 ||
        ht_fix_check_value("TargetCompID (56)", target, strlen(target), HT_FIX_GRAMMAR_ID, 1, 31, err) != 0 ||
        ht_fix_check_value("ClOrdID prefix (11)", clordid_prefix, strlen(clordid_prefix), HT_FIX_GRAMMAR_ID, 0,
                           sizeof enc->clordid_prefix - 1, err) != 0)
        return -1;
    if (qty_decimals > 9 || price_decimals > 9)
        return ht_error_set(err, "qty/price decimals must be 0..9, got %u/%u", qty_decimals, price_decimals);
    int n = snprintf(enc->head, sizeof enc->head, "35=D\00149=%s\00156=%s\00134=", sender, target);
    enc->head_len = (size_t)n;
    snprintf(enc->clordid_prefix, sizeof enc->clordid_prefix, "%s", clordid_prefix);
    enc->clordid_prefix_len = strlen(clordid_prefix);
    enc->qty_decimals = qty_decimals;
    enc->price_decimals = price_decimals;
    enc->cached_sec = UINT64_MAX;
    return 0;
}

/* Appends a constant string literal at p (macro so the length is a compile-time constant). */
#define PUT_LIT(p, lit)                     \
    do {                                    \
        memcpy((p), (lit), sizeof(lit) - 1); \
        (p) += sizeof(lit) - 1;             \
    } while (0)

void ht_fix_nos_time(ht_fix_nos_encoder *enc, char *out, uint64_t wall_ns)
{
    format_time_cached(out, wall_ns, &enc->cached_sec, enc->cached_time);
}

const char *ht_fix_encode_nos(ht_fix_nos_encoder *enc, char *buf, uint64_t seq, uint64_t wall_ns,
                              uint64_t clordid, const char *symbol, size_t symbol_len, char side, double qty,
                              double price, size_t *len)
{
    return ht_fix_encode_nos_trigger(enc, buf, seq, wall_ns, clordid, symbol, symbol_len, side, qty, price, 0, 0,
                                     len);
}

const char *ht_fix_encode_nos_trigger(ht_fix_nos_encoder *enc, char *buf, uint64_t seq, uint64_t wall_ns,
                                      uint64_t clordid, const char *symbol, size_t symbol_len, char side, double qty,
                                      double price, uint16_t trigger_channel, uint64_t trigger_seq, size_t *len)
{
    *len = 0;
    if (HT_UNLIKELY(symbol_len == 0 || symbol_len > 31 || (side != '1' && side != '2') ||
                    !(ht_fix_decimal_on_wire(qty, enc->qty_decimals) > 0) ||
                    !(ht_fix_decimal_on_wire(price, enc->price_decimals) > 0)))
        return NULL;
    for (size_t i = 0; i < symbol_len; i++)
        if (HT_UNLIKELY(!ht_fix_byte_allowed(HT_FIX_GRAMMAR_INSTRUMENT, (unsigned char)symbol[i])))
            return NULL;
    char *body = buf + HT_FIX_HEADER_ROOM;
    char *p = body;
    for (size_t o = 0; o < enc->head_len; o += 16) /* whole blocks inside head[96]; the tail is overwritten */
        memcpy(p + o, enc->head + o, 16);
    p += enc->head_len;
    p += ht_fix_format_u64(p, seq);
    PUT_LIT(p, "\00152=");
    char *sending_time = p;
    format_time_cached(p, wall_ns, &enc->cached_sec, enc->cached_time);
    p += 21;
    PUT_LIT(p, "\00111=");
    memcpy(p, enc->clordid_prefix, sizeof enc->clordid_prefix); /* the whole array; the tail is overwritten */
    p += enc->clordid_prefix_len;
    p += ht_fix_format_u64(p, clordid);
    PUT_LIT(p, "\00155=");
    memcpy(p, symbol, symbol_len);
    p += symbol_len;
    PUT_LIT(p, "\00154=");
    *p++ = side;
    PUT_LIT(p, "\00138=");
    p += ht_fix_format_decimal(p, qty, enc->qty_decimals);
    PUT_LIT(p, "\001854=1\00140=2\00144="); /* QtyType 1: OrderQty is contracts (docs/units.md) */
    p += ht_fix_format_decimal(p, price, enc->price_decimals);
    PUT_LIT(p, "\00159=3\00160=");
    memcpy(p, sending_time, 21);
    p += 21;
    *p++ = HT_FIX_SOH;
    if (trigger_seq) { /* DeribitLabel: the frame that triggered the order, the body's last field */
        PUT_LIT(p, "100010=");
        ht_fix_format_trigger_label(p, trigger_channel, trigger_seq);
        p += HT_FIX_TRIGGER_LABEL_CHARS;
        *p++ = HT_FIX_SOH;
    }
    ht_fix_writer w = {buf, HT_FIX_NOS_BUFFER_BYTES, (size_t)(p - buf), false, 0, false};
    return ht_fix_writer_finish(&w, len);
}
