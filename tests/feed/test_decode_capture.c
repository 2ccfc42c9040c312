/* SPDX-License-Identifier: MIT */
/* The real capture decoded through the libpcap receive path and the CSV formatter must match the vendor
 * dissector's decode (deribit_sample_v1_6.expected.csv) line for line: numbers within 1e-9 relative, NaN
 * equal to NaN. Also checks that the comparison itself catches differences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "csvcmp.h"
#include "hedgetrig/nic.h"
#include "hedgetrig/sbe.h"

#define CAPTURE HT_DERIBIT_DIR "/deribit_sample_v1_6.pcap"
#define EXPECTED HT_DERIBIT_DIR "/deribit_sample_v1_6.expected.csv"

/* Decodes the capture through the given source into a CSV file; returns the number of messages. */
static long decode_to_csv(const ht_nic_config *cfg, const char *out_path)
{
    ht_error err;
    ht_nic *nic = ht_nic_open(cfg, &err);
    if (!nic)
        print_error("open: %s\n", err.msg);
    assert_non_null(nic);
    FILE *out = fopen(out_path, "w");
    assert_non_null(out);
    fprintf(out, "%s\n", HT_SBE_CSV_HEADER);
    ht_nic_packet pkts[HT_NIC_BURST];
    long messages = 0;
    int n;
    static char line[65536];
    while ((n = ht_nic_rx_burst(nic, pkts, HT_NIC_BURST)) != HT_NIC_EOF) {
        assert_true(n >= 0);
        for (int i = 0; i < n; i++) {
            ht_sbe_iter it;
            assert_int_equal(ht_sbe_iter_init(&it, pkts[i].payload, pkts[i].len), HT_SBE_OK);
            ht_sbe_msg msg;
            while (ht_sbe_iter_next(&it, &msg)) {
                ht_sbe_status st;
                int len = ht_sbe_format_csv(line, sizeof line, pkts[i].frame, &it.frame, &msg, &st);
                assert_true(len > 0);
                fprintf(out, "%s\n", line);
                messages++;
            }
            assert_int_equal(it.status, HT_SBE_OK);
        }
    }
    const ht_nic_stats *st = ht_nic_stats_get(nic);
    assert_int_equal(st->frames, 5066);
    assert_int_equal(st->packets, 5066);
    ht_nic_close(nic);
    fclose(out);
    return messages;
}

static void capture_matches_vendor_decode(void **state)
{
    (void)state;
    ht_nic_config cfg;
    ht_nic_config_default(&cfg);
    cfg.path = CAPTURE;
    const char *out = HT_TEST_TMPDIR "/capture.csv";
    assert_int_equal(decode_to_csv(&cfg, out), 6780);
    long diffs = csvcmp_files(out, EXPECTED, 1e-9, stderr, 5);
    assert_int_equal(diffs, 0);
}

/* Only the production ports pass the Deribit filter; a filter on one group keeps only its channel. */
static void filter_keeps_only_matching_datagrams(void **state)
{
    (void)state;
    ht_nic_config cfg;
    ht_nic_config_default(&cfg);
    cfg.path = CAPTURE;
    ht_nic_filter_deribit(&cfg.filter);
    ht_error err;
    ht_nic *nic = ht_nic_open(&cfg, &err);
    assert_non_null(nic);
    ht_nic_packet pkts[HT_NIC_BURST];
    int n;
    while ((n = ht_nic_rx_burst(nic, pkts, HT_NIC_BURST)) != HT_NIC_EOF)
        assert_true(n >= 0);
    assert_int_equal(ht_nic_stats_get(nic)->packets, 5066);
    ht_nic_close(nic);

    ht_nic_config_default(&cfg);
    cfg.path = CAPTURE;
    assert_int_equal(ht_nic_filter_add_group(&cfg.filter, "239.111.111.0", &err), 0);
    assert_int_equal(ht_nic_filter_add_port(&cfg.filter, "6100", &err), 0);
    nic = ht_nic_open(&cfg, &err);
    assert_non_null(nic);
    uint64_t kept = 0;
    while ((n = ht_nic_rx_burst(nic, pkts, HT_NIC_BURST)) != HT_NIC_EOF) {
        for (int i = 0; i < n; i++) {
            assert_int_equal(pkts[i].dst_addr, 0xEF6F6F00u);
            assert_int_equal(pkts[i].dst_port, 6100);
            assert_int_equal(pkts[i].payload[2] | pkts[i].payload[3] << 8, 0); /* channel 0 */
            kept++;
        }
    }
    /* The vendor decode lists 468 messages on channel 0, one price index per packet. */
    assert_int_equal(kept, 468);
    assert_int_equal(ht_nic_stats_get(nic)->filtered, 5066 - 468);
    ht_nic_close(nic);
}

static void comparison_catches_differences(void **state)
{
    (void)state;
    assert_true(csvcmp_line_equal("1,3,6474,1003,1,25448.57|25448.57|0|0", "1,3,6474,1003,1,25448.57|25448.57|0|0",
                                  1e-9));
    assert_true(csvcmp_line_equal("1,3,6474,1003,1,25448.570000000001|-nan|0|0",
                                  "1,3,6474,1003,1,25448.57|nan|0|0", 1e-9));
    assert_false(csvcmp_line_equal("1,3,6474,1003,1,25448.58|25448.57|0|0", "1,3,6474,1003,1,25448.57|25448.57|0|0",
                                   1e-9));
    assert_false(csvcmp_line_equal("1,3,6474,1003,1,25448.57|25448.57|0", "1,3,6474,1003,1,25448.57|25448.57|0|0",
                                   1e-9));
    assert_false(csvcmp_line_equal("1,3,6475,1003,1,0|0|0|0", "1,3,6474,1003,1,0|0|0|0", 1e-9));
    assert_false(csvcmp_line_equal("805,111,1233,1000,16,BTC_USDC-16JUN23-25800-P|1|1|25800",
                                   "805,111,1233,1000,16,BTC_USDC-16JUN23-25800-C|1|1|25800", 1e-9));
    assert_false(csvcmp_line_equal("6,0,21729,1008,,btc_usd|nan", "6,0,21729,1008,,btc_usd|25448.57", 1e-9));
    /* A file with one value changed and one line missing gives two differences. */
    const char *a = HT_TEST_TMPDIR "/a.csv", *b = HT_TEST_TMPDIR "/b.csv";
    FILE *f = fopen(a, "w");
    fputs("h\n1,0,1,1008,,btc_usd|1\n2,0,2,1008,,btc_usd|2\n3,0,3,1008,,btc_usd|3\n", f);
    fclose(f);
    f = fopen(b, "w");
    fputs("h\n1,0,1,1008,,btc_usd|1\n2,0,2,1008,,btc_usd|2.5\n", f);
    fclose(f);
    assert_int_equal(csvcmp_files(a, b, 1e-9, NULL, 0), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(capture_matches_vendor_decode),
        cmocka_unit_test(filter_keeps_only_matching_datagrams),
        cmocka_unit_test(comparison_catches_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
