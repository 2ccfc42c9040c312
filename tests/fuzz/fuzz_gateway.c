/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the FIX parser on arbitrary bytes, as a stream (resynchronising like the session does),
 * and a round trip of every message it accepts through the writer, compared field by field (tag, value, order). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hedgetrig/fix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
        }
        off += used;
    }
    return 0;
}
