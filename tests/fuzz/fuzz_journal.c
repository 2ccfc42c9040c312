/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the gateway's restart path on arbitrary journals. The input becomes records framed with
 * valid CRCs (so the replay's parsing of every record type is reached, not only the CRC check) followed by an
 * arbitrary raw tail, in either layout (write: the file ends there; mmap: written through the mapping and zeros
 * padded after it, as a pre-extended journal of a killed process leaves it); ht_gw_create then opens and replays the
 * journal in either mode, and must resume or refuse it with a message, never crash or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hedgetrig/gateway.h"
#include "hedgetrig/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The session the journal claims to belong to (the config below uses the same ids). */
static const char k_header[] = "HEDGETRIG\0DERIBITSERVER";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[96];
    if (!path[0])
        snprintf(path, sizeof path, "%s/ht_fuzz_journal_%d", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
                 (int)getpid());
    unlink(path);
    ht_error err;
    /* First byte: bit 0 truncates a bad tail instead of refusing it, bit 1 starts with a matching header, bit 2 writes
     * through an mmap journal, bit 3 pads zeros after the raw tail (up to 4 KiB), bit 4 opens in mmap mode. */
    size_t off = 0;
    uint8_t mode = size ? data[off++] : 0;
    ht_journal_options opt = {HT_JOURNAL_FSYNC_NEVER, 0, HT_JOURNAL_TAIL_REFUSE,
                              (mode & 4) ? HT_JOURNAL_MODE_MMAP : HT_JOURNAL_MODE_WRITE};
    ht_journal *j = ht_journal_open_with(path, &opt, NULL, NULL, NULL, &err);
    if (!j)
        return 0;
    if (mode & 2)
        ht_journal_append(j, 1, k_header, sizeof k_header, NULL, 0, &err);
    /* Records: type (0..7; 7 ends the records and the rest is a raw tail), u16 length, payload. */
    while (off + 3 <= size) {
        uint8_t type = data[off] % 8;
        size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
        off += 3;
        if (type == 7)
            break;
        if (len > size - off)
            len = size - off;
        if (ht_journal_append(j, type, data + off, len, NULL, 0, &err) < 0)
            break;
        off += len;
    }
    ht_journal_close(j);
    FILE *f = fopen(path, "ab");
    if (f) {
        if (off < size)
            fwrite(data + off, 1, size - off, f);
        static const uint8_t zeros[4096];
        if (mode & 8)
            fwrite(zeros, 1, sizeof zeros - (size - off) % sizeof zeros, f);
        fclose(f);
    }
    ht_gw_config c;
    ht_gw_config_default(&c);
    snprintf(c.host, sizeof c.host, "127.0.0.1");
    c.port = 9;
    snprintf(c.sender_comp_id, sizeof c.sender_comp_id, "HEDGETRIG");
    snprintf(c.target_comp_id, sizeof c.target_comp_id, "DERIBITSERVER");
    snprintf(c.journal_path, sizeof c.journal_path, "%s", path);
    snprintf(c.log_path, sizeof c.log_path, "/dev/null");
    c.journal_tail = (mode & 1) ? HT_JOURNAL_TAIL_TRUNCATE : HT_JOURNAL_TAIL_REFUSE;
    c.journal_mode = (mode & 16) ? HT_JOURNAL_MODE_MMAP : HT_JOURNAL_MODE_WRITE;
    ht_gw *gw = ht_gw_create(&c, &err);
    if (gw) {
        /* Whatever was resumed must be self-consistent enough to answer the read-only queries. */
        (void)ht_gw_open_orders(gw);
        (void)ht_gw_orders_journaled(gw);
        (void)ht_gw_position(gw, "BTC-PERPETUAL");
        ht_gw_destroy(gw);
    }
    unlink(path);
    return 0;
}
