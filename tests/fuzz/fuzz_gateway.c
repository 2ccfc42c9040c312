/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the FIX parser on arbitrary bytes, as a stream (resynchronising like the session does),
 * and a round trip of every message it accepts through the writer. */
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
            /* Re-encode the fields; the result must parse to the same fields. */
            ht_fix_writer w;
            ht_fix_writer_begin(&w, out, sizeof out, msg.msg_type);
            for (uint32_t i = 1; i < msg.n_fields; i++)
                if (msg.fields[i].tag != HT_TAG_RAW_DATA && msg.fields[i].tag != HT_TAG_SIGNATURE)
                    ht_fix_put_bytes(&w, msg.fields[i].tag, msg.buf + msg.fields[i].off, msg.fields[i].len);
            size_t len;
            const char *again = ht_fix_writer_finish(&w, &len);
            if (again) {
                static ht_fix_msg back;
                size_t used2;
                if (ht_fix_parse(again, len, HT_FIX_HARD_MAX_MSG, &back, &used2, &err) == HT_FIX_PARSE_OK &&
                    strcmp(back.msg_type, msg.msg_type) != 0)
                    __builtin_trap();
            }
            char redacted[512];
            ht_fix_redact(msg.buf, msg.len, redacted, sizeof redacted);
        }
        off += used;
    }
    return 0;
}
