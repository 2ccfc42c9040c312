/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the FIX parser on arbitrary bytes, as a stream (resynchronising like the session does),
 * and a round trip of every message it accepts through the writer, compared field by field (tag, value, order);
 * every message it accepts also goes through the account parsers (hedgetrig/fix_account.h), and a Position Report
 * or a Trade Capture Report they accept is encoded again and must parse back to the same values. The trigger label
 * reader (DeribitLabel 100010) on the whole input and on every label of an accepted message: what it accepts is
 * written again at the fixed width and reads back to the same channel and sequence. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hedgetrig/fix.h"
#include "hedgetrig/fix_account.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses msg's bytes again after encoding them (header "A"/"B", sequence 1) into back. */
static void reparse(ht_fix_writer *w, ht_fix_msg *back)
{
    size_t len, used;
    ht_error err;
    const char *m = ht_fix_writer_finish(w, &len);
    if (!m || ht_fix_parse(m, len, HT_FIX_HARD_MAX_MSG, back, &used, &err) != HT_FIX_PARSE_OK)
        __builtin_trap(); /* a value the parser accepted must be writable and parse again */
}

/* The account parsers on any message; what they accept round-trips. */
static void account_parsers(const ht_fix_msg *msg)
{
    static ht_fix_position_report rep, rep2;
    static char out[HT_FIX_HARD_MAX_MSG];
    static ht_fix_msg back;
    ht_error err;
    ht_fix_writer w;
    ht_fix_pos_request pr;
    ht_fix_user_request ur;
    ht_fix_user_response us;
    ht_fix_trade_request tr;
    ht_fix_trade_request_ack ta;
    ht_fix_trade_report te, te2;
    (void)ht_fix_parse_pos_request(msg, &pr, &err);
    (void)ht_fix_parse_user_request(msg, &ur, &err);
    (void)ht_fix_parse_user_response(msg, &us, &err);
    (void)ht_fix_parse_trade_request(msg, &tr, &err);
    (void)ht_fix_parse_trade_request_ack(msg, &ta, &err);
    if (ht_fix_parse_position_report(msg, &rep, &err) == 0) {
        ht_fix_begin_session_msg(&w, out, sizeof out, "AP", "A", "B", 1, 0);
        if (ht_fix_put_position_report(&w, &rep, &err) != 0)
            __builtin_trap();
        reparse(&w, &back);
        if (ht_fix_parse_position_report(&back, &rep2, &err) != 0 || rep2.n != rep.n)
            __builtin_trap();
        for (unsigned i = 0; i < rep.n; i++)
            if (strcmp(rep.pos[i].symbol, rep2.pos[i].symbol) != 0 ||
                __builtin_fabs(ht_fix_position_contracts(&rep.pos[i]) - ht_fix_position_contracts(&rep2.pos[i])) >
                    1e-6 * (1 + __builtin_fabs(ht_fix_position_contracts(&rep.pos[i]))))
                __builtin_trap();
    }
    if (ht_fix_parse_trade_report(msg, &te, &err) == 0) {
        ht_fix_begin_session_msg(&w, out, sizeof out, "AE", "A", "B", 1, 0);
        if (ht_fix_put_trade_report(&w, &te, &err) != 0)
            __builtin_trap();
        reparse(&w, &back);
        if (ht_fix_parse_trade_report(&back, &te2, &err) != 0 || te2.side != te.side ||
            strcmp(te2.trade_id, te.trade_id) != 0 || te2.trd_type != te.trd_type)
            __builtin_trap();
    }
}

/* The trigger label reader on value[0..len): an accepted label round-trips through the fixed-width writer. */
static void trigger_label(const char *value, size_t len)
{
    uint16_t ch, ch2;
    uint64_t seq, seq2;
    if (!ht_fix_parse_trigger_label(value, len, &ch, &seq))
        return;
    char out[HT_FIX_TRIGGER_LABEL_CHARS];
    ht_fix_format_trigger_label(out, ch, seq);
    if (seq == 0 || !ht_fix_parse_trigger_label(out, sizeof out, &ch2, &seq2) || ch2 != ch || seq2 != seq)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    trigger_label((const char *)data, size);
    static ht_fix_msg msg;
    static char out[HT_FIX_HARD_MAX_MSG + 256];
    const char *buf = (const char *)data;
    size_t off = 0;
    while (off < size) {
        size_t used = 0;
        ht_error err;
        ht_fix_parse_status st = ht_fix_parse(buf + off, size - off, 4096, &msg, &used, &err);
        if (st == HT_FIX_PARSE_INCOMPLETE)
            break;
        if (used == 0 || used > size - off)
            __builtin_trap(); /* the parser must always make progress inside the buffer */
        if (st == HT_FIX_PARSE_OK) {
            size_t label_len;
            const char *label = ht_fix_get(&msg, HT_TAG_DERIBIT_LABEL, &label_len);
            if (label)
                trigger_label(label, label_len);
            /* Re-encode the fields; the result must parse to the same fields, in the same order, byte for byte.
             * The writer may only refuse a value it must not emit (a byte outside printable ASCII). */
            ht_fix_writer w;
            ht_fix_writer_begin(&w, out, sizeof out, msg.msg_type);
            bool unprintable = false;
            for (uint32_t i = 0; i < msg.n_fields; i++) {
                const ht_fix_field *f = &msg.fields[i];
                if (f->tag == HT_TAG_RAW_DATA || f->tag == HT_TAG_SIGNATURE)
                    continue;
                for (uint32_t k = 0; k < f->len; k++)
                    unprintable |= (unsigned char)msg.buf[f->off + k] < 0x20 || (unsigned char)msg.buf[f->off + k] > 0x7E;
                if (i > 0)
                    ht_fix_put_bytes(&w, f->tag, msg.buf + f->off, f->len);
            }
            size_t len;
            const char *again = ht_fix_writer_finish(&w, &len);
            if (!again && !unprintable)
                __builtin_trap(); /* refused a message it could have written */
            if (again && unprintable)
                __builtin_trap(); /* wrote a byte outside printable ASCII */
            if (again) {
                static ht_fix_msg back;
                size_t used2;
                if (ht_fix_parse(again, len, HT_FIX_HARD_MAX_MSG, &back, &used2, &err) != HT_FIX_PARSE_OK ||
                    used2 != len || strcmp(back.msg_type, msg.msg_type) != 0)
                    __builtin_trap();
                uint32_t k = 0;
                for (uint32_t i = 0; i < msg.n_fields; i++) {
                    const ht_fix_field *f = &msg.fields[i];
                    if (f->tag == HT_TAG_RAW_DATA || f->tag == HT_TAG_SIGNATURE)
                        continue;
                    if (k >= back.n_fields || back.fields[k].tag != f->tag || back.fields[k].len != f->len ||
                        memcmp(back.buf + back.fields[k].off, msg.buf + f->off, f->len) != 0)
                        __builtin_trap(); /* a field changed, vanished or appeared */
                    k++;
                }
                if (k != back.n_fields)
                    __builtin_trap(); /* an extra field appeared */
            }
            char redacted[512];
            ht_fix_redact(msg.buf, msg.len, redacted, sizeof redacted);
            account_parsers(&msg);
        }
        off += used;
    }
    return 0;
}
