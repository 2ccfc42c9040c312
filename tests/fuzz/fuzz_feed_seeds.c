/* SPDX-License-Identifier: MIT */
/* Writes the fuzz_feed seed corpus from a capture: runs of 8 consecutive UDP payloads, each as a u16 length
 * and its bytes (fuzz_feed's input format). Usage: fuzz_feed_seeds CAPTURE OUT_DIR */
#include <stdio.h>

#include "hedgetrig/nic.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fuzz_feed_seeds CAPTURE OUT_DIR\n");
        return 2;
    }
    ht_nic_config cfg;
    ht_nic_config_default(&cfg);
    cfg.path = argv[1];
    ht_error err;
    ht_nic *nic = ht_nic_open(&cfg, &err);
    if (!nic) {
        fprintf(stderr, "fuzz_feed_seeds: %s\n", err.msg);
        return 1;
    }
    ht_nic_packet pkts[HT_NIC_BURST];
    unsigned count = 0, files = 0;
    FILE *out = NULL;
    int n;
    while ((n = ht_nic_rx_burst(nic, pkts, HT_NIC_BURST)) != HT_NIC_EOF) {
        if (n < 0) {
            fprintf(stderr, "fuzz_feed_seeds: %s\n", ht_nic_last_error(nic));
            return 1;
        }
        for (int i = 0; i < n; i++, count++) {
            if (count % 8 == 0) {
                if (out)
                    fclose(out);
                char path[4096];
                snprintf(path, sizeof path, "%s/capture_%04u.bin", argv[2], files++);
                out = fopen(path, "wb");
                if (!out) {
                    fprintf(stderr, "fuzz_feed_seeds: cannot write %s\n", path);
                    return 1;
                }
            }
            unsigned char len[2] = {(unsigned char)pkts[i].len, (unsigned char)(pkts[i].len >> 8)};
            fwrite(len, 1, 2, out);
            fwrite(pkts[i].payload, 1, pkts[i].len, out);
        }
    }
    if (out)
        fclose(out);
    ht_nic_close(nic);
    printf("fuzz_feed_seeds: %u packets in %u seeds\n", count, files);
    return 0;
}
