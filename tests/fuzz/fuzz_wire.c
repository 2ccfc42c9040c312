/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the wire ingest's C model (bit-exact with the RTL, so what it survives the RTL does too): the
 * input is 8 bytes of configuration (IPv4 destination and UDP port of filter entry 0, channel of entry 0, network
 * and little-endian order as on the wire), then frames, each a little-endian u16 length (bit 15: the MAC flags the
 * frame bad; bit 14: push two idle cycles first) and that many bytes. Every frame goes in beat by beat; the model is
 * run to rest at the end. Checked: every frame decided ends in exactly one counter (passed + dropped = frames), the
 * ingest never hands the pipeline more ticks than index messages passed, and it comes to rest in bounded time. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ht_wire_model m;
    if (size < 8)
        return 0;
    ht_wire_model_reset(&m);
    uint32_t addr = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
    ht_wire_model_write(&m, HT_PIPE_WIRE_REG_FILTER, addr);
    ht_wire_model_write(&m, HT_PIPE_WIRE_REG_FILTER + 4, (uint32_t)data[4] << 8 | data[5] | 1u);
    ht_wire_model_write(&m, HT_PIPE_WIRE_REG_FILTER + 12, (uint32_t)data[4] << 8 | data[5]);
    ht_wire_model_write(&m, HT_PIPE_WIRE_REG_FILTER + 8, addr);
    ht_wire_model_write(&m, HT_PIPE_WIRE_REG_CHAN_ID, (uint32_t)data[6] | (uint32_t)data[7] << 8);
    ht_wire_model_write(&m, HT_PIPE_WIRE_REG_CHAN_ENABLE, 1);
    static const char *const names[3] = {"btc_usd", "eth_usd", "btc_usdc"};
    for (unsigned u = 0; u < 3; u++) {
        uint8_t n[HT_PIPE_WIRE_NAME_BYTES] = {0};
        memcpy(n, names[u], strlen(names[u]));
        for (unsigned j = 0; j < HT_PIPE_WIRE_NAME_BYTES; j += 4)
            ht_wire_model_write(&m, HT_PIPE_WIRE_REG_NAME + 16 * u + j,
                                (uint32_t)n[j] | (uint32_t)n[j + 1] << 8 | (uint32_t)n[j + 2] << 16 |
                                    (uint32_t)n[j + 3] << 24);
    }
    ht_wire_model_write(&m, HT_PIPE_WIRE_REG_NAME_ENABLE, 7);
    ht_wire_model_write(&m, HT_PIPE_WIRE_REG_CTRL, 1);
    size_t pos = 8;
    uint64_t frames = 0, ticks = 0;
    ht_wire_tick t;
    while (pos + 2 <= size) {
        unsigned word = data[pos] | (unsigned)data[pos + 1] << 8;
        pos += 2;
        size_t len = word & 0x3FFFu;
        if (len > size - pos)
            len = size - pos;
        if (word & 0x4000u)
            for (int i = 0; i < 2; i++)
                ticks += ht_wire_model_cycle(&m, NULL, &t);
        size_t off = 0;
        do {
            ht_wire_beat b = {{0}, 0, false, false};
            size_t n = len - off < 8 ? len - off : 8;
            memcpy(b.data, data + pos + off, n);
            b.keep = (uint8_t)((1u << n) - 1u);
            off += n;
            b.last = off == len;
            b.user = b.last && (word & 0x8000u);
            ticks += ht_wire_model_cycle(&m, &b, &t);
        } while (off < len);
        frames++;
        pos += len;
    }
    /* To rest: a frame of HT_PIPE_WIRE_FRAME_MAX bytes has fewer items than bytes, and 32 ticks leave one a cycle. */
    for (unsigned i = 0; ht_wire_model_active(&m); i++) {
        if (i > 4 * HT_PIPE_WIRE_FRAME_MAX)
            abort(); /* it never comes to rest */
        ticks += ht_wire_model_cycle(&m, NULL, &t);
    }
    uint64_t sum = m.counters[HT_PIPE_WIRE_CNT_FRAMES_OK];
    for (unsigned r = HT_PIPE_WIRE_CNT_DROP_FIRST; r <= HT_PIPE_WIRE_CNT_DROP_LAST; r++)
        sum += m.counters[r];
    if (sum != m.counters[HT_PIPE_WIRE_CNT_FRAMES] || m.counters[HT_PIPE_WIRE_CNT_FRAMES] != frames ||
        ticks != m.counters[HT_PIPE_WIRE_CNT_TICKS] || ticks > m.counters[HT_PIPE_WIRE_CNT_INDEX])
        abort();
    return 0;
}
