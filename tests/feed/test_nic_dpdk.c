/* SPDX-License-Identifier: MIT */
/* The DPDK receive path (EAL with the net_pcap vdev replaying the real capture, no hugepages, no NIC) delivers
 * the same datagrams, frame numbers and capture timestamps as the libpcap file path, so the decode is the same
 * line for line. EAL starts once per process: this program holds one test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/feed.h"
#include "hedgetrig/nic.h"
#include "hedgetrig/sbe.h"

#define CAPTURE HT_DERIBIT_DIR "/deribit_sample_v1_6.pcap"

/* Every CSV line of a source, in order, with the datagram's timestamp. */
typedef struct decoded {
    char **lines;
    uint64_t *ts_ns;
    unsigned n, cap;
} decoded;

/* Appends one line. */
static void add_line(decoded *d, const char *line, uint64_t ts_ns)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8192;
        d->lines = realloc(d->lines, d->cap * sizeof *d->lines);
        d->ts_ns = realloc(d->ts_ns, d->cap * sizeof *d->ts_ns);
    }
    d->lines[d->n] = strdup(line);
    d->ts_ns[d->n++] = ts_ns;
}

/* Decodes a whole source into d and a feed; returns the datagrams received. */
static uint64_t decode_source(const ht_nic_config *cfg, decoded *d, ht_feed *feed)
{
    ht_error err;
    ht_nic *nic = ht_nic_open(cfg, &err);
    if (!nic)
        print_error("%s\n", err.msg);
    assert_non_null(nic);
    ht_nic_packet pkts[HT_NIC_BURST];
    static char line[65536];
    int n;
    while ((n = ht_nic_rx_burst(nic, pkts, HT_NIC_BURST)) != HT_NIC_EOF) {
        assert_true(n >= 0);
        for (int i = 0; i < n; i++) {
            ht_feed_on_packet(feed, pkts[i].payload, pkts[i].len, pkts[i].rx_tsc);
            ht_sbe_iter it;
            assert_int_equal(ht_sbe_iter_init(&it, pkts[i].payload, pkts[i].len), HT_SBE_OK);
            ht_sbe_msg msg;
            while (ht_sbe_iter_next(&it, &msg)) {
                ht_sbe_status st;
                assert_true(ht_sbe_format_csv(line, sizeof line, pkts[i].frame, &it.frame, &msg, &st) > 0);
                add_line(d, line, pkts[i].ts_ns);
            }
        }
    }
    uint64_t got = ht_nic_stats_get(nic)->packets;
    ht_nic_close(nic);
    return got;
}

static void dpdk_net_pcap_decodes_like_the_file(void **state)
{
    (void)state;
    static decoded file, dpdk;
    ht_error err;
    ht_feed *ff = ht_feed_create(NULL, &err), *fd = ht_feed_create(NULL, &err);
    ht_nic_config cfg;
    ht_nic_config_default(&cfg);
    cfg.path = CAPTURE;
    assert_int_equal(decode_source(&cfg, &file, ff), 5066);
    ht_nic_config_default(&cfg);
    cfg.kind = HT_NIC_DPDK;
    cfg.eal_args = "--no-huge --no-pci --no-shconf -m 128 --log-level=*:error --vdev=net_pcap0,rx_pcap=" CAPTURE;
    cfg.idle_eof_ms = 300;
    assert_int_equal(decode_source(&cfg, &dpdk, fd), 5066);
    assert_int_equal(dpdk.n, 6780);
    assert_int_equal(dpdk.n, file.n);
    unsigned differ = 0;
    for (unsigned i = 0; i < file.n; i++) {
        if (strcmp(file.lines[i], dpdk.lines[i]) != 0 || file.ts_ns[i] != dpdk.ts_ns[i]) {
            if (differ++ < 5)
                print_error("line %u: file '%s' ts %llu, dpdk '%s' ts %llu\n", i + 2, file.lines[i],
                            (unsigned long long)file.ts_ns[i], dpdk.lines[i], (unsigned long long)dpdk.ts_ns[i]);
        }
    }
    assert_int_equal(differ, 0);
    assert_int_equal(ht_feed_stats_get(fd)->messages, ht_feed_stats_get(ff)->messages);
    assert_int_equal(ht_feed_instrument_count(fd), 84);
    /* EAL cannot restart with other arguments in the same process, and says so. */
    ht_nic_config_default(&cfg);
    cfg.kind = HT_NIC_DPDK;
    cfg.eal_args = "--no-huge";
    assert_null(ht_nic_open(&cfg, &err));
    assert_non_null(strstr(err.msg, "already started"));
    /* The vdev's port was closed with its replay: opening it again says no port is left. */
    cfg.eal_args = "--no-huge --no-pci --no-shconf -m 128 --log-level=*:error --vdev=net_pcap0,rx_pcap=" CAPTURE;
    assert_null(ht_nic_open(&cfg, &err));
    assert_non_null(strstr(err.msg, "no port came up"));
    for (unsigned i = 0; i < file.n; i++) {
        free(file.lines[i]);
        free(dpdk.lines[i]);
    }
    free(file.lines);
    free(file.ts_ns);
    free(dpdk.lines);
    free(dpdk.ts_ns);
    ht_feed_destroy(ff);
    ht_feed_destroy(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dpdk_net_pcap_decodes_like_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
