/* SPDX-License-Identifier: MIT */
/* Writes the fuzz_wire seed corpus from a capture: a configuration header (the first frame's IPv4 destination,
 * UDP port and Deribit channel, as fuzz_wire reads them), then runs of 8 consecutive Ethernet frames, each a
 * little-endian u16 length and its bytes. Usage: fuzz_wire_seeds CAPTURE OUT_DIR */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fuzz_wire_seeds CAPTURE OUT_DIR\n");
        return 2;
    }
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(argv[1], errbuf);
    if (!pc) {
        fprintf(stderr, "fuzz_wire_seeds: %s: %s\n", argv[1], errbuf);
        return 1;
    }
    struct pcap_pkthdr *h;
    const uint8_t *pkt;
    unsigned count = 0, files = 0;
    FILE *out = NULL;
    while (pcap_next_ex(pc, &h, &pkt) == 1 && files < 200) {
        if (count % 8 == 0) {
            if (out)
                fclose(out);
            char path[4096];
            snprintf(path, sizeof path, "%s/capture_%04u.bin", argv[2], files++);
            out = fopen(path, "wb");
            if (!out) {
                fprintf(stderr, "fuzz_wire_seeds: cannot write %s\n", path);
                return 1;
            }
            /* config: IPv4 destination (4, network order), UDP port (2, network order), channel (2, LE) */
            uint8_t cfg[8] = {0};
            if (h->caplen >= 50) {
                unsigned ihl = (pkt[14] & 15u) * 4u;
                for (int i = 0; i < 4; i++)
                    cfg[i] = pkt[30 + i];
                if (h->caplen >= 14 + ihl + 8 + 4) {
                    cfg[4] = pkt[14 + ihl + 2];
                    cfg[5] = pkt[14 + ihl + 3];
                    cfg[6] = pkt[14 + ihl + 8 + 2];
                    cfg[7] = pkt[14 + ihl + 8 + 3];
                }
            }
            fwrite(cfg, 1, sizeof cfg, out);
        }
        uint8_t len[2] = {(uint8_t)h->caplen, (uint8_t)(h->caplen >> 8)};
        fwrite(len, 1, 2, out);
        fwrite(pkt, 1, h->caplen, out);
        count++;
    }
    if (out)
        fclose(out);
    pcap_close(pc);
    return 0;
}
