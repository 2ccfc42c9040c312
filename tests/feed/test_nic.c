/* SPDX-License-Identifier: MIT */
/* Tests of the receive paths without DPDK: Ethernet/IPv4/UDP parsing of odd frames, the group/port filter,
 * pcap files of several link types and a truncated one, paced replay, and the kernel socket path (multicast
 * on loopback) delivering exactly the capture's datagrams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "hedgetrig/feed.h"
#include "hedgetrig/nic.h"
#include "hedgetrig/tsc.h"

#define CAPTURE HT_DERIBIT_DIR "/deribit_sample_v1_6.pcap"

/* Builds Ethernet (+ optional VLAN tags) + IPv4 (ihl words) + UDP + payload into f; returns the length. */
static size_t build_frame(uint8_t *f, int vlan_tags, unsigned ihl, uint8_t proto, uint16_t frag, const char *payload)
{
    size_t plen = strlen(payload), o = 12;
    memset(f, 0, 256);
    for (int t = 0; t < vlan_tags; t++) {
        f[o] = t == 0 && vlan_tags == 2 ? 0x88 : 0x81;
        f[o + 1] = t == 0 && vlan_tags == 2 ? 0xA8 : 0x00;
        o += 4;
    }
    f[o] = 0x08;
    f[o + 1] = 0x00;
    o += 2;
    uint8_t *ip = f + o;
    size_t total = ihl * 4 + 8 + plen;
    ip[0] = (uint8_t)(0x40 | ihl);
    ip[2] = (uint8_t)(total >> 8);
    ip[3] = (uint8_t)total;
    ip[6] = (uint8_t)(frag >> 8);
    ip[7] = (uint8_t)frag;
    ip[9] = proto;
    const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {239, 111, 111, 5};
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    uint8_t *udp = ip + ihl * 4;
    udp[0] = 0x9C;
    udp[1] = 0x40; /* 40000 */
    udp[2] = 0x17;
    udp[3] = 0xD4; /* 6100 */
    udp[4] = (uint8_t)((8 + plen) >> 8);
    udp[5] = (uint8_t)(8 + plen);
    memcpy(udp + 8, payload, plen);
    return o + total;
}

static void parses_ethernet_ipv4_udp_and_rejects_the_rest(void **state)
{
    (void)state;
    uint8_t f[256];
    ht_nic_packet p;
    for (int tags = 0; tags <= 2; tags++) {
        size_t len = build_frame(f, tags, 5, 17, 0x4000 /* DF */, "hello");
        assert_int_equal(ht_nic_parse_ether(f, len, &p), HT_NIC_PARSE_OK);
        assert_int_equal(p.len, 5);
        assert_memory_equal(p.payload, "hello", 5);
        assert_int_equal(p.dst_addr, 0xEF6F6F05u);
        assert_int_equal(p.src_addr, 0x0A000001u);
        assert_int_equal(p.dst_port, 6100);
        assert_int_equal(p.src_port, 40000);
        /* Ethernet padding after the datagram is not payload. */
        assert_int_equal(ht_nic_parse_ether(f, len + 20, &p), HT_NIC_PARSE_OK);
        assert_int_equal(p.len, 5);
        /* Cut anywhere: truncated or not UDP, never a read past len (ASan). */
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *copy = malloc(cut ? cut : 1);
            memcpy(copy, f, cut);
            assert_int_not_equal(ht_nic_parse_ether(copy, cut, &p), HT_NIC_PARSE_OK);
            free(copy);
        }
    }
    /* IP options move the UDP header. */
    size_t len = build_frame(f, 0, 7, 17, 0, "abc");
    assert_int_equal(ht_nic_parse_ether(f, len, &p), HT_NIC_PARSE_OK);
    assert_memory_equal(p.payload, "abc", 3);
    /* TCP, fragments, IPv6 and ARP are not UDP datagrams. */
    len = build_frame(f, 0, 5, 6, 0, "abc");
    assert_int_equal(ht_nic_parse_ether(f, len, &p), HT_NIC_PARSE_NOT_UDP);
    len = build_frame(f, 0, 5, 17, 0x2000 /* MF */, "abc");
    assert_int_equal(ht_nic_parse_ether(f, len, &p), HT_NIC_PARSE_NOT_UDP);
    len = build_frame(f, 0, 5, 17, 0x0010 /* offset */, "abc");
    assert_int_equal(ht_nic_parse_ether(f, len, &p), HT_NIC_PARSE_NOT_UDP);
    len = build_frame(f, 0, 5, 17, 0, "abc");
    f[12] = 0x86;
    f[13] = 0xDD;
    assert_int_equal(ht_nic_parse_ether(f, len, &p), HT_NIC_PARSE_NOT_UDP);
    f[12] = 0x08;
    f[13] = 0x06;
    assert_int_equal(ht_nic_parse_ether(f, len, &p), HT_NIC_PARSE_NOT_UDP);
    /* A UDP length longer than the IP datagram lies. */
    len = build_frame(f, 0, 5, 17, 0, "abc");
    f[14 + 20 + 5] = 200;
    assert_int_equal(ht_nic_parse_ether(f, len, &p), HT_NIC_PARSE_TRUNCATED);
    /* An IP total length past the frame. */
    len = build_frame(f, 0, 5, 17, 0, "abc");
    assert_int_equal(ht_nic_parse_ether(f, len - 1, &p), HT_NIC_PARSE_TRUNCATED);
}

static void filter_parses_groups_ports_and_prefixes(void **state)
{
    (void)state;
    ht_nic_filter f;
    memset(&f, 0, sizeof f);
    ht_error err;
    assert_true(ht_nic_filter_match(&f, 1, 1)); /* empty: anything */
    assert_int_equal(ht_nic_filter_add_group(&f, "239.111.111.0/27", &err), 0);
    assert_int_equal(f.n_groups, 32);
    assert_int_equal(ht_nic_filter_add_group(&f, "239.111.111.3", &err), 0); /* already there */
    assert_int_equal(f.n_groups, 32);
    assert_int_equal(ht_nic_filter_add_group(&f, "10.0.0.0/24", &err), -1);
    assert_non_null(strstr(err.msg, "10.0.0.0/24"));
    assert_int_equal(ht_nic_filter_add_group(&f, "239.111.111.300", &err), -1);
    assert_int_equal(ht_nic_filter_add_group(&f, "239.1.1.1/33", &err), -1);
    assert_int_equal(ht_nic_filter_add_port(&f, "6100", &err), 0);
    assert_int_equal(ht_nic_filter_add_port(&f, "0", &err), -1);
    assert_int_equal(ht_nic_filter_add_port(&f, "65536", &err), -1);
    assert_int_equal(ht_nic_filter_add_port(&f, "61x", &err), -1);
    assert_true(ht_nic_filter_match(&f, 0xEF6F6F1Fu, 6100));
    assert_false(ht_nic_filter_match(&f, 0xEF6F6F20u, 6100));
    assert_false(ht_nic_filter_match(&f, 0xEF6F6F00u, 6101));
    ht_nic_filter_deribit(&f);
    assert_int_equal(f.n_groups, 27);
    assert_int_equal(f.n_ports, 2);
    assert_true(ht_nic_filter_match(&f, 0xEF6F6F1Au, 6101));
    ht_nic_kind k;
    assert_int_equal(ht_nic_kind_parse("file", &k), 0);
    assert_int_equal(k, HT_NIC_PCAP);
    assert_int_equal(ht_nic_kind_parse("dpdk", &k), 0);
    assert_int_equal(k, HT_NIC_DPDK);
    assert_int_equal(ht_nic_kind_parse("carrier-pigeon", &k), -1);
    assert_string_equal(ht_nic_kind_name(HT_NIC_SOCKET), "socket");
}

/* Reads every datagram of a source into a list of (frame, payload copy, ts). */
typedef struct capture_list {
    uint8_t *data[6000];
    uint32_t len[6000];
    uint64_t ts_ns[6000];
    uint64_t frame[6000];
    uint32_t dst_addr[6000];
    uint16_t dst_port[6000];
    unsigned n;
} capture_list;

/* Fills l from nic until EOF; returns the rx_burst error, if any (0 otherwise). */
static int read_all(ht_nic *nic, capture_list *l)
{
    ht_nic_packet pkts[HT_NIC_BURST];
    int n;
    while ((n = ht_nic_rx_burst(nic, pkts, HT_NIC_BURST)) != HT_NIC_EOF) {
        if (n < 0)
            return n;
        for (int i = 0; i < n && l->n < 6000; i++) {
            l->data[l->n] = malloc(pkts[i].len ? pkts[i].len : 1);
            memcpy(l->data[l->n], pkts[i].payload, pkts[i].len);
            l->len[l->n] = pkts[i].len;
            l->ts_ns[l->n] = pkts[i].ts_ns;
            l->frame[l->n] = pkts[i].frame;
            l->dst_addr[l->n] = pkts[i].dst_addr;
            l->dst_port[l->n] = pkts[i].dst_port;
            l->n++;
        }
    }
    return 0;
}

/* Frees the copies. */
static void free_list(capture_list *l)
{
    for (unsigned i = 0; i < l->n; i++)
        free(l->data[i]);
    l->n = 0;
}

/* Opens the shared capture with the pcap path (and optional speed). */
static ht_nic *open_file(const char *path, double speed)
{
    ht_nic_config cfg;
    ht_nic_config_default(&cfg);
    cfg.path = path;
    cfg.speed = speed;
    ht_error err;
    ht_nic *nic = ht_nic_open(&cfg, &err);
    if (!nic)
        print_error("%s\n", err.msg);
    assert_non_null(nic);
    return nic;
}

static capture_list g_ref, g_other;

/* write_linktype stamps packet i at second i, plus this many seconds from packet g_jump_from on (0: none). */
static long g_jump_s;
static unsigned g_jump_from;

/* Writes the first `count` datagrams of g_ref into a pcap file of the given link type. */
static void write_linktype(const char *path, int linktype, unsigned count, bool add_arp)
{
    pcap_t *dead = pcap_open_dead(linktype, 65535);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    assert_non_null(d);
    uint8_t frame[2048];
    for (unsigned i = 0; i < count; i++) {
        size_t hdr = linktype == DLT_EN10MB ? 14 : linktype == DLT_LINUX_SLL ? 16 : 0;
        memset(frame, 0, hdr);
        if (linktype == DLT_EN10MB) {
            frame[12] = 0x08;
        } else if (linktype == DLT_LINUX_SLL) {
            frame[14] = 0x08;
        }
        uint8_t *ip = frame + hdr;
        size_t total = 28 + g_ref.len[i];
        memset(ip, 0, 28);
        ip[0] = 0x45;
        ip[2] = (uint8_t)(total >> 8);
        ip[3] = (uint8_t)total;
        ip[9] = 17;
        ip[16] = 239;
        ip[17] = 111;
        ip[18] = 111;
        ip[19] = 1;
        ip[22] = 0x17;
        ip[23] = 0xD4;
        ip[24] = (uint8_t)((8 + g_ref.len[i]) >> 8);
        ip[25] = (uint8_t)(8 + g_ref.len[i]);
        memcpy(ip + 28, g_ref.data[i], g_ref.len[i]);
        long jump = g_jump_s && i >= g_jump_from ? g_jump_s : 0;
        struct pcap_pkthdr h = {{1686858149 + (long)i + jump, 0}, (bpf_u_int32)(hdr + total),
                                (bpf_u_int32)(hdr + total)};
        pcap_dump((u_char *)d, &h, frame);
        if (add_arp && linktype == DLT_EN10MB) {
            uint8_t arp[60] = {0};
            arp[12] = 0x08;
            arp[13] = 0x06;
            struct pcap_pkthdr ha = {{1686858149 + (long)i, 1}, 60, 60};
            pcap_dump((u_char *)d, &ha, arp);
        }
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

static void file_reads_link_types_and_counts_other_frames(void **state)
{
    (void)state;
    ht_nic *nic = open_file(CAPTURE, 0);
    assert_int_equal(read_all(nic, &g_ref), 0);
    assert_int_equal(g_ref.n, 5066);
    assert_int_equal(g_ref.frame[0], 1);
    assert_int_equal(g_ref.frame[5065], 5066);
    assert_int_equal(g_ref.ts_ns[0], 1686858149957011000ull); /* capinfos: first packet 19:42:29.957011 */
    assert_int_equal(ht_nic_rx_burst(nic, NULL, 0), HT_NIC_EOF); /* stays at the end */
    ht_nic_close(nic);
    const int types[] = {DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL};
    for (unsigned t = 0; t < 3; t++) {
        const char *path = HT_TEST_TMPDIR "/linktype.pcap";
        write_linktype(path, types[t], 200, true);
        nic = open_file(path, 0);
        assert_int_equal(read_all(nic, &g_other), 0);
        assert_int_equal(g_other.n, 200);
        for (unsigned i = 0; i < 200; i++) {
            assert_int_equal(g_other.len[i], g_ref.len[i]);
            assert_memory_equal(g_other.data[i], g_ref.data[i], g_ref.len[i]);
        }
        const ht_nic_stats *st = ht_nic_stats_get(nic);
        assert_int_equal(st->not_udp, types[t] == DLT_EN10MB ? 200 : 0);
        assert_int_equal(st->frames, types[t] == DLT_EN10MB ? 400 : 200);
        if (types[t] == DLT_EN10MB)
            assert_int_equal(g_other.frame[1], 3); /* frame numbers count the ARP frames */
        ht_nic_close(nic);
        free_list(&g_other);
    }
}

/* ht_nic_deliver_frames: every frame of an Ethernet capture is handed on whole, byte for byte as libpcap reads the
 * file (the reference), the ARP frames the parse skips included (payload NULL), each datagram's payload inside its
 * frame after the 42 header bytes; the stats still count only datagrams as packets. A raw-IP capture refuses. */
static void file_delivers_frames_whole(void **state)
{
    (void)state;
    const char *path = HT_TEST_TMPDIR "/frames.pcap";
    write_linktype(path, DLT_EN10MB, 200, true);
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *ref = pcap_open_offline(path, errbuf);
    assert_non_null(ref);
    ht_nic *nic = open_file(path, 0);
    ht_error err;
    assert_int_equal(ht_nic_deliver_frames(nic, &err), 0);
    ht_nic_packet pkts[HT_NIC_BURST];
    unsigned frames = 0, datagrams = 0;
    int n;
    while ((n = ht_nic_rx_burst(nic, pkts, HT_NIC_BURST)) != HT_NIC_EOF) {
        assert_true(n >= 0);
        for (int i = 0; i < n; i++) {
            struct pcap_pkthdr *h;
            const u_char *bytes;
            assert_int_equal(pcap_next_ex(ref, &h, &bytes), 1);
            frames++;
            assert_non_null(pkts[i].l2);
            assert_int_equal(pkts[i].l2_len, h->caplen);
            assert_memory_equal(pkts[i].l2, bytes, h->caplen);
            assert_int_equal(pkts[i].frame, frames);
            bool arp = bytes[12] == 0x08 && bytes[13] == 0x06;
            if (arp) {
                assert_null(pkts[i].payload);
                assert_int_equal(pkts[i].len, 0);
            } else {
                datagrams++;
                assert_ptr_equal(pkts[i].payload, pkts[i].l2 + 42);
                assert_int_equal(pkts[i].len, h->caplen - 42);
            }
        }
    }
    struct pcap_pkthdr *h;
    const u_char *bytes;
    assert_int_not_equal(pcap_next_ex(ref, &h, &bytes), 1); /* every frame of the file was handed on */
    pcap_close(ref);
    assert_int_equal(frames, 400);
    assert_int_equal(datagrams, 200);
    assert_int_equal(ht_nic_stats_get(nic)->packets, 200);
    assert_int_equal(ht_nic_stats_get(nic)->not_udp, 200);
    ht_nic_close(nic);

    write_linktype(path, DLT_RAW, 10, false);
    nic = open_file(path, 0);
    assert_int_equal(ht_nic_deliver_frames(nic, &err), -1);
    assert_non_null(strstr(err.msg, "no Ethernet frames"));
    ht_nic_close(nic);
}

/* Appends a pcapng block of the given type with body[0..len) (padded to 4 bytes) to f. */
static void pcapng_block(FILE *f, uint32_t type, const void *body, uint32_t len)
{
    uint32_t padded = (len + 3u) & ~3u;
    uint32_t total = 12 + padded;
    static const uint8_t zeros[4] = {0};
    fwrite(&type, 4, 1, f);
    fwrite(&total, 4, 1, f);
    fwrite(body, 1, len, f);
    fwrite(zeros, 1, padded - len, f);
    fwrite(&total, 4, 1, f);
}

/* A pcapng file (section header, one Ethernet interface, enhanced packet blocks with microsecond times)
 * written by hand from the capture's first frames reads back the same datagrams and timestamps. */
static void file_reads_pcapng(void **state)
{
    (void)state;
    const char *path = HT_TEST_TMPDIR "/capture.pcapng";
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    const uint8_t shb[16] = {0x4D, 0x3C, 0x2B, 0x1A, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    pcapng_block(f, 0x0A0D0D0A, shb, sizeof shb);
    const uint8_t idb[8] = {1, 0, 0, 0, 0, 0, 4, 0}; /* LINKTYPE_ETHERNET, snaplen 262144 */
    pcapng_block(f, 1, idb, sizeof idb);
    static uint8_t body[4096];
    for (unsigned i = 0; i < 100; i++) {
        uint32_t caplen = 42 + g_ref.len[i];
        uint64_t us = g_ref.ts_ns[i] / 1000;
        uint32_t hdr[5] = {0, (uint32_t)(us >> 32), (uint32_t)us, caplen, caplen};
        memcpy(body, hdr, sizeof hdr);
        uint8_t *fr = body + sizeof hdr;
        memset(fr, 0, 42);
        fr[12] = 0x08;
        fr[14] = 0x45;
        fr[16] = (uint8_t)((28 + g_ref.len[i]) >> 8);
        fr[17] = (uint8_t)(28 + g_ref.len[i]);
        fr[23] = 17;
        fr[30] = 239;
        fr[31] = 111;
        fr[32] = 111;
        fr[38] = (uint8_t)((8 + g_ref.len[i]) >> 8);
        fr[39] = (uint8_t)(8 + g_ref.len[i]);
        memcpy(fr + 42, g_ref.data[i], g_ref.len[i]);
        pcapng_block(f, 6, body, (uint32_t)sizeof hdr + caplen);
    }
    fclose(f);
    ht_nic *nic = open_file(path, 0);
    assert_int_equal(read_all(nic, &g_other), 0);
    assert_int_equal(g_other.n, 100);
    for (unsigned i = 0; i < 100; i++) {
        assert_int_equal(g_other.len[i], g_ref.len[i]);
        assert_memory_equal(g_other.data[i], g_ref.data[i], g_ref.len[i]);
        assert_int_equal(g_other.ts_ns[i], g_ref.ts_ns[i]);
    }
    ht_nic_close(nic);
    free_list(&g_other);
}

static void bad_files_give_clear_errors(void **state)
{
    (void)state;
    ht_nic_config cfg;
    ht_nic_config_default(&cfg);
    ht_error err;
    cfg.path = HT_TEST_TMPDIR "/does-not-exist.pcap";
    assert_null(ht_nic_open(&cfg, &err));
    assert_non_null(strstr(err.msg, "does-not-exist.pcap"));
    /* Not a capture at all. */
    const char *junk = HT_TEST_TMPDIR "/junk.pcap";
    FILE *f = fopen(junk, "w");
    fputs("this is not a capture file\n", f);
    fclose(f);
    cfg.path = junk;
    assert_null(ht_nic_open(&cfg, &err));
    assert_non_null(strstr(err.msg, "junk.pcap"));
    /* A link type we do not read. */
    const char *wifi = HT_TEST_TMPDIR "/wifi.pcap";
    pcap_t *dead = pcap_open_dead(DLT_IEEE802_11, 65535);
    pcap_dumper_t *d = pcap_dump_open(dead, wifi);
    pcap_dump_close(d);
    pcap_close(dead);
    cfg.path = wifi;
    assert_null(ht_nic_open(&cfg, &err));
    assert_non_null(strstr(err.msg, "link type 105"));
    /* The capture cut in the middle of a record: the packets before come out, then an error naming the file. */
    FILE *in = fopen(CAPTURE, "rb");
    const char *cut = HT_TEST_TMPDIR "/cut.pcap";
    FILE *out = fopen(cut, "wb");
    static uint8_t buf[100000];
    size_t n = fread(buf, 1, sizeof buf, in);
    assert_int_equal(n, sizeof buf);
    fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
    cfg.path = cut;
    ht_nic *nic = ht_nic_open(&cfg, &err);
    assert_non_null(nic);
    assert_int_equal(read_all(nic, &g_other), -1);
    assert_true(g_other.n > 300 && g_other.n < 5066);
    assert_non_null(strstr(ht_nic_last_error(nic), "cut.pcap"));
    assert_non_null(strstr(ht_nic_last_error(nic), "after frame"));
    for (unsigned i = 0; i < g_other.n; i++)
        assert_memory_equal(g_other.data[i], g_ref.data[i], g_ref.len[i]);
    ht_nic_close(nic);
    free_list(&g_other);
    cfg.speed = -1;
    cfg.path = CAPTURE;
    assert_null(ht_nic_open(&cfg, &err));
    assert_non_null(strstr(err.msg, "speed"));
}

/* At N times the capture's pace the replay cannot finish sooner than the capture's span / N, and the
 * packets arrive in order with their own timestamps. */
static void paced_replay_follows_capture_time(void **state)
{
    (void)state;
    /* write_linktype stamps packet i at second i: 4 packets over 3 s, replayed at 10x, take 0.3 s. */
    const char *path = HT_TEST_TMPDIR "/first.pcap";
    write_linktype(path, DLT_EN10MB, 4, false);
    ht_nic *nic = open_file(path, 10.0);
    ht_nic_packet pkts[HT_NIC_BURST];
    uint64_t t0 = ht_mono_ns();
    unsigned got = 0;
    uint64_t arrival[8];
    int n;
    while (got < 4 && (n = ht_nic_rx_burst(nic, pkts, HT_NIC_BURST)) != HT_NIC_EOF) {
        assert_true(n >= 0);
        for (int i = 0; i < n && got < 4; i++) {
            assert_int_equal(pkts[i].ts_ns, (1686858149ull + got) * 1000000000ull);
            arrival[got++] = ht_mono_ns() - t0;
        }
    }
    assert_int_equal(got, 4);
    for (unsigned i = 1; i < 4; i++)
        assert_true(arrival[i] >= (uint64_t)(i * 100000000ull * 0.95));
    ht_nic_close(nic);
}

/* A packet stamped 10^6 s after the one before it (a corrupt timestamp) is not waited out at --speed 1000
 * (it would take 1000 s): pacing restarts there, the jump is counted, the packets keep their own timestamps,
 * and the pace before and after the jump is still the capture's. */
static void paced_replay_does_not_wait_out_a_jump(void **state)
{
    (void)state;
    const char *path = HT_TEST_TMPDIR "/jump.pcap";
    g_jump_s = 1000000;
    g_jump_from = 2;
    write_linktype(path, DLT_EN10MB, 4, false);
    g_jump_s = 0;
    ht_nic *nic = open_file(path, 10.0);
    ht_nic_packet pkts[HT_NIC_BURST];
    uint64_t t0 = ht_mono_ns(), deadline = t0 + 30000000000ull;
    uint64_t arrival[4];
    unsigned got = 0;
    int n;
    while (got < 4 && ht_mono_ns() < deadline && (n = ht_nic_rx_burst(nic, pkts, HT_NIC_BURST)) != HT_NIC_EOF) {
        assert_true(n >= 0);
        for (int i = 0; i < n && got < 4; i++) {
            uint64_t want_s = 1686858149ull + got + (got >= 2 ? 1000000ull : 0);
            assert_int_equal(pkts[i].ts_ns, want_s * 1000000000ull);
            arrival[got++] = ht_mono_ns() - t0;
        }
    }
    assert_int_equal(got, 4);
    assert_int_equal(ht_nic_stats_get(nic)->pace_jumps, 1);
    /* 1 s of capture between packets 0-1 and 2-3 at 10x: 0.1 s each; the jump itself costs nothing. */
    assert_true(arrival[1] - arrival[0] >= 95000000ull);
    assert_true(arrival[3] - arrival[2] >= 95000000ull);
    ht_nic_close(nic);
}

/* The capture's datagrams sent to their multicast groups on loopback come out of the socket path unchanged:
 * each exactly once, with the group as destination and a kernel timestamp; the feed built from them equals
 * the one built from the file. */
static void socket_receives_multicast_on_loopback(void **state)
{
    (void)state;
    uint16_t base = (uint16_t)(20000 + (getpid() % 20000) * 2);
    ht_nic_config cfg;
    ht_nic_config_default(&cfg);
    cfg.kind = HT_NIC_SOCKET;
    cfg.iface_addr = 0x7F000001u;
    cfg.rcvbuf_bytes = 4 << 20;
    ht_error err;
    assert_int_equal(ht_nic_filter_add_group(&cfg.filter, "239.111.111.0/27", &err), 0);
    char port[16];
    snprintf(port, sizeof port, "%u", base);
    assert_int_equal(ht_nic_filter_add_port(&cfg.filter, port, &err), 0);
    snprintf(port, sizeof port, "%u", base + 1);
    assert_int_equal(ht_nic_filter_add_port(&cfg.filter, port, &err), 0);
    ht_nic *rx = ht_nic_open(&cfg, &err);
    if (!rx)
        print_error("%s\n", err.msg);
    assert_non_null(rx);
    ht_udp_tx *tx = ht_udp_tx_open(0x7F000001u, 1, true, &err);
    assert_non_null(tx);
    /* The file again, for the destinations. */
    ht_nic *file = open_file(CAPTURE, 0);
    ht_feed *from_socket = ht_feed_create(NULL, &err), *from_file = ht_feed_create(NULL, &err);
    static uint8_t seen[5066];
    memset(seen, 0, sizeof seen);
    ht_nic_packet out[HT_NIC_BURST], in[HT_NIC_BURST];
    unsigned sent = 0, received = 0;
    int n;
    while ((n = ht_nic_rx_burst(file, out, HT_NIC_BURST)) != HT_NIC_EOF) {
        for (int i = 0; i < n; i++) {
            out[i].dst_port = (uint16_t)(base + (out[i].dst_port == 6101));
            ht_feed_on_packet(from_file, out[i].payload, out[i].len, 0);
        }
        int s = ht_udp_tx_send(tx, out, (unsigned)n, &err);
        assert_int_equal(s, n);
        sent += (unsigned)s;
        /* Loopback delivers during sendmmsg: drain what arrived. */
        for (int tries = 0; received < sent && tries < 1000; tries++) {
            int r = ht_nic_rx_burst(rx, in, HT_NIC_BURST);
            assert_true(r >= 0);
            for (int k = 0; k < r; k++) {
                assert_true(in[k].ts_ns > 0);
                assert_int_equal(in[k].dst_addr >> 8, 0xEF6F6Fu);
                ht_feed_on_packet(from_socket, in[k].payload, in[k].len, in[k].rx_tsc);
                /* Payloads are unique (channel and sequence are in them): find this one. */
                for (unsigned j = 0; j < 5066; j++) {
                    if (!seen[j] && g_ref.len[j] == in[k].len &&
                        memcmp(g_ref.data[j], in[k].payload, in[k].len) == 0) {
                        seen[j] = 1;
                        break;
                    }
                }
            }
            received += (unsigned)r;
        }
    }
    assert_int_equal(sent, 5066);
    assert_int_equal(received, 5066);
    for (unsigned j = 0; j < 5066; j++)
        assert_int_equal(seen[j], 1);
    const ht_feed_stats *a = ht_feed_stats_get(from_socket), *b = ht_feed_stats_get(from_file);
    assert_int_equal(a->messages, b->messages);
    assert_int_equal(ht_feed_instrument_count(from_socket), ht_feed_instrument_count(from_file));
    assert_memory_equal(a->by_template, b->by_template, sizeof a->by_template);
    assert_int_equal(ht_nic_stats_get(rx)->packets, 5066);
    ht_feed_destroy(from_socket);
    ht_feed_destroy(from_file);
    ht_nic_close(file);
    ht_udp_tx_close(tx);
    ht_nic_close(rx);
    /* Bad socket configurations are refused with a reason. */
    ht_nic_config_default(&cfg);
    cfg.kind = HT_NIC_SOCKET;
    assert_null(ht_nic_open(&cfg, &err));
    assert_non_null(strstr(err.msg, "no UDP port"));
    assert_int_equal(ht_nic_filter_add_port(&cfg.filter, "6100", &err), 0);
    assert_null(ht_nic_open(&cfg, &err));
    assert_non_null(strstr(err.msg, "no multicast group"));
    assert_int_equal(ht_nic_filter_add_group(&cfg.filter, "10.1.2.3", &err), 0);
    assert_null(ht_nic_open(&cfg, &err));
    assert_non_null(strstr(err.msg, "cannot join group 10.1.2.3"));
    free_list(&g_ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_ethernet_ipv4_udp_and_rejects_the_rest),
        cmocka_unit_test(filter_parses_groups_ports_and_prefixes),
        cmocka_unit_test(file_reads_link_types_and_counts_other_frames),
        cmocka_unit_test(file_reads_pcapng),
        cmocka_unit_test(file_delivers_frames_whole),
        cmocka_unit_test(bad_files_give_clear_errors),
        cmocka_unit_test(paced_replay_follows_capture_time),
        cmocka_unit_test(paced_replay_does_not_wait_out_a_jump),
        cmocka_unit_test(socket_receives_multicast_on_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
