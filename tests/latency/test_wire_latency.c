/* SPDX-License-Identifier: MIT */
/* Tick to wire from a capture (hedgetrig latency): synthetic captures written here byte by byte (pcap and pcapng
 * with nanosecond stamps; Ethernet, VLAN and Linux cooked SLL2 frames; market-data UDP frames and FIX orders on TCP:
 * split across segments, retransmitted, out of order, without a trigger, with a trigger never captured or
 * captured after the order), checked for exact counts and exact percentiles against a brute-force reference;
 * hostile captures; and the binary's report and exit status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "hedgetrig/wire_latency.h"

#define TMP HT_TEST_TMPDIR
#define CLIENT_PORT 40000
#define FIX_PORT 9881
#define MD_PORT 6100
#define T0_NS 1700000000000000000ull

/* A capture being written: the records, in memory until saved. */
typedef struct cap {
    int linktype;
    int vlan_tags;
    uint8_t bytes[1 << 21];
    size_t len;
    unsigned frames;
} cap;

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}
static void put_be16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}
static void put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, v >> 16), put_be16(p + 2, v & 0xFFFF);
}

/* Starts a pcap file with nanosecond stamps (magic a1b23c4d, libpcap's file format). */
static void cap_begin(cap *c, int linktype, int vlan_tags)
{
    memset(c, 0, offsetof(cap, bytes));
    c->linktype = linktype;
    c->vlan_tags = vlan_tags;
    put_le32(c->bytes, 0xA1B23C4Du);
    c->bytes[4] = 2, c->bytes[6] = 4; /* version 2.4 */
    put_le32(c->bytes + 16, 65535);
    put_le32(c->bytes + 20, (uint32_t)linktype);
    c->len = 24;
    c->frames = 0;
}

/* Adds one frame whose IPv4 datagram is ip[0..ip_len) (caplen bytes of it kept when smaller). */
static void cap_frame(cap *c, uint64_t ts_ns, const uint8_t *ip, size_t ip_len, size_t keep)
{
    uint8_t link[64] = {0};
    size_t link_len;
    if (c->linktype == DLT_LINUX_SLL2) {
        put_be16(link, 0x0800); /* protocol type */
        link_len = 20;
    } else {
        link_len = 12;
        for (int t = 0; t < c->vlan_tags; t++, link_len += 4)
            put_be16(link + link_len, 0x8100);
        put_be16(link + link_len, 0x0800);
        link_len += 2;
    }
    size_t frame_len = link_len + (keep < ip_len ? keep : ip_len);
    uint8_t *r = c->bytes + c->len;
    put_le32(r, (uint32_t)(ts_ns / 1000000000ull));
    put_le32(r + 4, (uint32_t)(ts_ns % 1000000000ull));
    put_le32(r + 8, (uint32_t)frame_len);
    put_le32(r + 12, (uint32_t)(link_len + ip_len));
    memcpy(r + 16, link, link_len);
    memcpy(r + 16 + link_len, ip, frame_len - link_len);
    c->len += 16 + frame_len;
    c->frames++;
}

/* Writes an IPv4 header for proto and l4_len bytes after it; returns its length (20). */
static size_t ip_header(uint8_t *ip, uint8_t proto, uint32_t src, uint32_t dst, size_t l4_len, unsigned frag)
{
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put_be16(ip + 2, (unsigned)(20 + l4_len));
    put_be16(ip + 6, frag);
    ip[8] = 64;
    ip[9] = proto;
    put_be32(ip + 12, src);
    put_be32(ip + 16, dst);
    return 20;
}

/* A market-data datagram: a Deribit frame header (packetLength 0, channel, seq; little endian) to the group. */
static void cap_md(cap *c, uint64_t ts_ns, uint16_t channel, uint32_t seq)
{
    uint8_t ip[64];
    size_t o = ip_header(ip, 17, 0x0A000005u, 0xEF6F6F01u, 16, 0);
    put_be16(ip + o, 50000), put_be16(ip + o + 2, MD_PORT), put_be16(ip + o + 4, 16);
    uint8_t *fr = ip + o + 8;
    fr[0] = 0, fr[1] = 0, fr[2] = (uint8_t)channel, fr[3] = (uint8_t)(channel >> 8);
    put_le32(fr + 4, seq);
    cap_frame(c, ts_ns, ip, o + 16, SIZE_MAX);
}

/* A TCP segment of the client (to_server) or the server with seq and data. */
static void cap_tcp(cap *c, uint64_t ts_ns, bool to_server, uint32_t seq, uint8_t flags, const char *data,
                    size_t len)
{
    static uint8_t ip[70000];
    uint32_t client = 0x0A000001u, server = 0x0A000002u;
    size_t o = ip_header(ip, 6, to_server ? client : server, to_server ? server : client, 20 + len, 0);
    uint8_t *tcp = ip + o;
    memset(tcp, 0, 20);
    put_be16(tcp, to_server ? CLIENT_PORT : FIX_PORT);
    put_be16(tcp + 2, to_server ? FIX_PORT : CLIENT_PORT);
    put_be32(tcp + 4, seq);
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    memcpy(tcp + 20, data, len);
    cap_frame(c, ts_ns, ip, o + 20 + len, SIZE_MAX);
}

/* A FIX 4.4 message of type and body fields ("tag=value|" with | for SOH), with its BodyLength and CheckSum
 * computed here. Returns its length in out. */
static size_t fix_message(char *out, const char *type, const char *fields)
{
    char body[512];
    int n = snprintf(body, sizeof body, "35=%s|49=HEDGETRIG|56=DERIBITSERVER|34=2|%s", type, fields);
    for (int i = 0; i < n; i++)
        if (body[i] == '|')
            body[i] = '\001';
    int len = snprintf(out, 600, "8=FIX.4.4\0019=%d\001%s", n, body);
    unsigned sum = 0;
    for (int i = 0; i < len; i++)
        sum += (unsigned char)out[i];
    len += snprintf(out + len, 600 - (size_t)len, "10=%03u\001", sum % 256);
    return (size_t)len;
}

/* A NewOrderSingle with the label (NULL: none). */
static size_t order_message(char *out, const char *label)
{
    char fields[256];
    snprintf(fields, sizeof fields, "11=o1|55=BTC-PERPETUAL|54=1|38=10|40=2|44=30000|59=3|%s%s%s",
             label ? "100010=" : "", label ? label : "", label ? "|" : "");
    return fix_message(out, "D", fields);
}

static bool save(const cap *c, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(c->bytes, 1, c->len, f) == c->len;
    return fclose(f) == 0 && ok;
}

/* The reference percentile: the smallest gap g with at least ceil(q * n) gaps <= g, by counting (not sorting). */
static uint64_t reference_rank(const uint64_t *gaps, size_t n, double q)
{
    size_t need = 0;
    while ((double)need < q * (double)n - 1e-9)
        need++;
    if (need == 0)
        need = 1;
    uint64_t best = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t at_or_below = 0;
        for (size_t j = 0; j < n; j++)
            at_or_below += gaps[j] <= gaps[i];
        if (at_or_below >= need && gaps[i] < best)
            best = gaps[i];
    }
    return best;
}

#define N_PLAIN 997u

/* What the scenario expects. */
typedef struct scenario {
    uint64_t gaps[N_PLAIN + 8];
    size_t n_gaps;
} scenario;

/* The scenario: N_PLAIN plain orders with pseudo-random gaps, then each special case. */
static void build_scenario(cap *c, scenario *s)
{
    char msg[600];
    uint32_t cseq = 1000, sseq = 7000;
    uint64_t t = T0_NS, lcg = 12345;
    memset(s, 0, sizeof *s);
    cap_tcp(c, t, true, cseq++, 0x02, "", 0);   /* SYN: data starts at 1001 */
    cap_tcp(c, t + 10, false, sseq++, 0x12, "", 0);
    for (uint32_t k = 1; k <= N_PLAIN; k++) {
        t += 100000;
        cap_md(c, t, 3, k);
        lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t gap = 2000 + (lcg >> 40) % 50000;
        char label[40];
        snprintf(label, sizeof label, k % 2 ? "t3.%u" : "t00003.%020u", k);
        size_t n = order_message(msg, label);
        cap_tcp(c, t + gap, true, cseq, 0x18, msg, n);
        cseq += (uint32_t)n;
        s->gaps[s->n_gaps++] = gap;
        /* The venue's answer on the other direction: FIX, not an order. */
        n = fix_message(msg, "8", "37=1|11=o1|17=e1|150=F|39=2|55=BTC-PERPETUAL|54=1|151=0|14=10|6=30000|");
        cap_tcp(c, t + gap + 500, false, sseq, 0x18, msg, n);
        sseq += (uint32_t)n;
    }
    /* 1. Split across two segments: stamped with the second. */
    t += 100000;
    cap_md(c, t, 3, 5000);
    size_t n = order_message(msg, "t3.5000");
    cap_tcp(c, t + 1000, true, cseq, 0x18, msg, 30);
    cap_tcp(c, t + 7777, true, cseq + 30, 0x18, msg + 30, n - 30);
    s->gaps[s->n_gaps++] = 7777;
    /* 2. The same order retransmitted whole later: counted, used once. */
    cap_tcp(c, t + 90000, true, cseq, 0x18, msg, n);
    cseq += (uint32_t)n;
    /* 3. No trigger tag. 4. A trigger never captured. 5. A bad trigger. */
    t += 100000;
    n = order_message(msg, NULL);
    cap_tcp(c, t, true, cseq, 0x18, msg, n);
    cseq += (uint32_t)n;
    n = order_message(msg, "t3.999999");
    cap_tcp(c, t + 10, true, cseq, 0x18, msg, n);
    cseq += (uint32_t)n;
    n = order_message(msg, "x3.5000");
    cap_tcp(c, t + 20, true, cseq, 0x18, msg, n);
    cseq += (uint32_t)n;
    /* 6. Trigger captured after the order. */
    n = order_message(msg, "t4.1");
    cap_tcp(c, t + 30, true, cseq, 0x18, msg, n);
    cseq += (uint32_t)n;
    cap_md(c, t + 40, 4, 1);
    /* 7. Two orders out of order: the second's segment is captured first and waits for the first's. */
    t += 100000;
    cap_md(c, t, 5, 1);
    cap_md(c, t + 5, 5, 2);
    char first[600], second[600];
    size_t n1 = order_message(first, "t5.1"), n2 = order_message(second, "t5.2");
    cap_tcp(c, t + 3000, true, cseq + (uint32_t)n1, 0x18, second, n2);
    cap_tcp(c, t + 4000, true, cseq, 0x18, first, n1);
    cseq += (uint32_t)(n1 + n2);
    s->gaps[s->n_gaps++] = 4000;
    s->gaps[s->n_gaps++] = 3000 - 5;
    /* 8. The frame (3, 5000) captured again: the first capture counts. */
    cap_md(c, t + 6000, 3, 5000);
    /* 9. Frames skipped: a fragment, a truncated datagram, a non-UDP/TCP protocol. */
    uint8_t ip[64];
    size_t o = ip_header(ip, 17, 1, 2, 16, 0x2000);
    cap_frame(c, t + 7000, ip, o + 16, SIZE_MAX);
    o = ip_header(ip, 17, 1, 2, 16, 0);
    cap_frame(c, t + 7001, ip, o + 16, 25);
    o = ip_header(ip, 1, 1, 2, 8, 0);
    cap_frame(c, t + 7002, ip, o + 8, SIZE_MAX);
}

/* The report every link type of the scenario gives. */
static void check_scenario_report(const ht_wire_report *r, const scenario *s)
{
    assert_int_equal(r->orders, N_PLAIN + 7);
    assert_int_equal(r->matched, s->n_gaps);
    assert_int_equal(r->no_trigger, 1);
    assert_int_equal(r->bad_trigger, 1);
    assert_int_equal(r->trigger_not_seen, 1);
    assert_int_equal(r->trigger_after_order, 1);
    assert_int_equal(r->tcp_retransmitted, 1);
    assert_int_equal(r->tcp_holes, 0);
    assert_int_equal(r->md_repeats, 1);
    assert_int_equal(r->md_frames, N_PLAIN + 5);
    assert_int_equal(r->fix_messages, 2 * N_PLAIN + 7);
    assert_int_equal(r->fix_bad, 0);
    assert_int_equal(r->fragments, 1);
    assert_int_equal(r->truncated, 1);
    assert_int_equal(r->other, 1);
    assert_int_equal(r->tcp_flows, 2);
    const double qs[] = {0.5, 0.9, 0.99, 0.999};
    const uint64_t got[] = {r->p50_ns, r->p90_ns, r->p99_ns, r->p999_ns};
    for (int i = 0; i < 4; i++)
        assert_int_equal(got[i], reference_rank(s->gaps, s->n_gaps, qs[i]));
    assert_int_equal(r->min_ns, reference_rank(s->gaps, s->n_gaps, 0));
    assert_int_equal(r->max_ns, reference_rank(s->gaps, s->n_gaps, 1));
}

static cap g_cap;
static scenario g_scenario;

static void scenario_exact_counts_and_percentiles(void **state)
{
    (void)state;
    const struct {
        int linktype, vlan_tags;
    } kinds[] = {{DLT_EN10MB, 0}, {DLT_EN10MB, 1}, {DLT_LINUX_SLL2, 0}};
    for (unsigned k = 0; k < 3; k++) {
        cap_begin(&g_cap, kinds[k].linktype, kinds[k].vlan_tags);
        build_scenario(&g_cap, &g_scenario);
        char path[512];
        snprintf(path, sizeof path, TMP "/scenario%u.pcap", k);
        assert_true(save(&g_cap, path));
        ht_wire_config cfg;
        ht_wire_config_default(&cfg);
        ht_wire_report r;
        ht_error err;
        assert_int_equal(ht_wire_analyse_file(path, &cfg, &r, &err), 0);
        assert_int_equal(r.frames, g_cap.frames);
        check_scenario_report(&r, &g_scenario);
        assert_non_null(strstr(r.first_problem, "is 'x3.5000', not t<channel>.<seq>"));
    }
}

/* Appends a pcapng block of type with body[0..len) (padded to 4 bytes) to f. */
static void pcapng_block(FILE *f, uint32_t type, const uint8_t *body, size_t len)
{
    uint8_t word[4];
    uint32_t total = (uint32_t)(12 + (len + 3) / 4 * 4);
    put_le32(word, type);
    fwrite(word, 1, 4, f);
    put_le32(word, total);
    fwrite(word, 1, 4, f);
    fwrite(body, 1, len, f);
    static const uint8_t pad[4] = {0};
    fwrite(pad, 1, (4 - len % 4) % 4, f);
    put_le32(word, total);
    fwrite(word, 1, 4, f);
}

/* Writes the capture c (pcap records) again as pcapng: a section, one interface with nanosecond stamps
 * (if_tsresol 9), one enhanced packet block per record. */
static bool save_pcapng(const cap *c, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    uint8_t shb[16] = {0};
    put_le32(shb, 0x1A2B3C4Du);
    shb[4] = 1;                  /* version 1.0 */
    memset(shb + 8, 0xFF, 8);    /* section length unknown */
    pcapng_block(f, 0x0A0D0D0Au, shb, sizeof shb);
    uint8_t idb[20] = {0};
    idb[0] = (uint8_t)c->linktype, idb[1] = (uint8_t)(c->linktype >> 8);
    put_le32(idb + 4, 65535);
    idb[8] = 9, idb[10] = 1, idb[12] = 9; /* if_tsresol = 10^-9, then opt_endofopt */
    pcapng_block(f, 1, idb, sizeof idb);
    static uint8_t epb[70000];
    for (size_t off = 24; off < c->len;) {
        const uint8_t *r = c->bytes + off;
        uint32_t sec = (uint32_t)r[0] | (uint32_t)r[1] << 8 | (uint32_t)r[2] << 16 | (uint32_t)r[3] << 24;
        uint32_t nsec = (uint32_t)r[4] | (uint32_t)r[5] << 8 | (uint32_t)r[6] << 16 | (uint32_t)r[7] << 24;
        uint32_t caplen = (uint32_t)r[8] | (uint32_t)r[9] << 8 | (uint32_t)r[10] << 16 | (uint32_t)r[11] << 24;
        uint64_t ts = (uint64_t)sec * 1000000000ull + nsec;
        memset(epb, 0, 20);
        put_le32(epb + 4, (uint32_t)(ts >> 32));
        put_le32(epb + 8, (uint32_t)ts);
        memcpy(epb + 12, r + 8, 8); /* captured and original lengths */
        memcpy(epb + 20, r + 16, caplen);
        pcapng_block(f, 6, epb, 20 + caplen);
        off += 16 + caplen;
    }
    return fclose(f) == 0;
}

static void pcapng_gives_the_same_report(void **state)
{
    (void)state;
    cap_begin(&g_cap, DLT_EN10MB, 0);
    build_scenario(&g_cap, &g_scenario);
    assert_true(save_pcapng(&g_cap, TMP "/scenario.pcapng"));
    ht_wire_config cfg;
    ht_wire_config_default(&cfg);
    ht_wire_report r;
    ht_error err;
    assert_int_equal(ht_wire_analyse_file(TMP "/scenario.pcapng", &cfg, &r, &err), 0);
    assert_int_equal(r.frames, g_cap.frames);
    check_scenario_report(&r, &g_scenario);
}

static void filters_select_market_data_and_order_flow(void **state)
{
    (void)state;
    ht_wire_config cfg;
    ht_wire_config_default(&cfg);
    ht_error err;
    assert_int_equal(ht_nic_filter_add_port(&cfg.md, "6101", &err), 0);
    ht_wire_report r;
    assert_int_equal(ht_wire_analyse_file(TMP "/scenario0.pcap", &cfg, &r, &err), 0);
    assert_int_equal(r.md_frames, 0);
    assert_int_equal(r.matched, 0);
    assert_int_equal(r.trigger_not_seen, N_PLAIN + 5);
    assert_int_equal(r.p50_ns, 0);
    ht_wire_config_default(&cfg);
    cfg.fix_ports[cfg.n_fix_ports++] = 9999;
    assert_int_equal(ht_wire_analyse_file(TMP "/scenario0.pcap", &cfg, &r, &err), 0);
    assert_int_equal(r.orders, 0);
    assert_int_equal(r.tcp_segments, 0);
}

static void trigger_grammar(void **state)
{
    (void)state;
    uint16_t ch;
    uint64_t seq;
    assert_true(ht_wire_trigger_parse("t00003.00000000000000004711", 27, &ch, &seq));
    assert_int_equal(ch, 3);
    assert_int_equal(seq, 4711);
    assert_true(ht_wire_trigger_parse("t65535.18446744073709551615", 27, &ch, &seq));
    assert_int_equal(ch, 65535);
    assert_true(seq == UINT64_MAX);
    const char *bad[] = {"t65536.1", "t1.18446744073709551616", "t000001.1", "t1.000000000000000000001", "t.1",
                         "t1.", "t1", "3.1", "t1.2.3", "t1.-2", "t-1.2", "T1.2", "t1 .2", "t1.2 "};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(ht_wire_trigger_parse(bad[i], strlen(bad[i]), &ch, &seq));
}

static void holes_and_garbage_are_counted_and_skipped(void **state)
{
    (void)state;
    char msg[600];
    cap_begin(&g_cap, DLT_EN10MB, 0);
    cap_md(&g_cap, T0_NS, 1, 1);
    cap_md(&g_cap, T0_NS + 1, 1, 2);
    uint32_t seq = 100;
    size_t n = order_message(msg, "t1.1");
    cap_tcp(&g_cap, T0_NS + 100, true, seq, 0x18, msg, n);
    seq += (uint32_t)n;
    /* Half an order never captured: the rest is dropped, the stream resumes at the next whole order. */
    n = order_message(msg, "t1.1");
    seq += (uint32_t)(n / 2);
    cap_tcp(&g_cap, T0_NS + 200, true, seq, 0x18, msg + n / 2, n - n / 2);
    seq += (uint32_t)(n - n / 2);
    /* Bytes that are not FIX, then a whole order in the same segment. */
    char mixed[700] = "GARBAGE\001";
    size_t g = strlen(mixed);
    n = order_message(mixed + g, "t1.2");
    cap_tcp(&g_cap, T0_NS + 300, true, seq, 0x18, mixed, g + n);
    /* Short UDP payload; a TCP header whose data offset lies. */
    uint8_t ip[64];
    size_t o = ip_header(ip, 17, 1, 0xEF6F6F01u, 8 + 3, 0);
    put_be16(ip + o + 4, 11);
    cap_frame(&g_cap, T0_NS + 400, ip, o + 11, SIZE_MAX);
    o = ip_header(ip, 6, 1, 2, 20, 0);
    memset(ip + o, 0, 20);
    ip[o + 12] = 15 << 4;
    cap_frame(&g_cap, T0_NS + 500, ip, o + 20, SIZE_MAX);
    assert_true(save(&g_cap, TMP "/holes.pcap"));
    ht_wire_config cfg;
    ht_wire_config_default(&cfg);
    ht_wire_report r;
    ht_error err;
    assert_int_equal(ht_wire_analyse_file(TMP "/holes.pcap", &cfg, &r, &err), 0);
    assert_int_equal(r.tcp_holes, 1);
    assert_int_equal(r.orders, 2);
    assert_int_equal(r.matched, 2);
    assert_int_equal(r.min_ns, 100);
    assert_int_equal(r.max_ns, 299);
    assert_true(r.fix_bad >= 1);
    assert_int_equal(r.md_bad, 1);
    assert_int_equal(r.truncated, 1);
    /* A file cut mid-record: the frames before the cut are analysed, the error names the frame. */
    cap_begin(&g_cap, DLT_EN10MB, 0);
    cap_md(&g_cap, T0_NS, 1, 1);
    cap_tcp(&g_cap, T0_NS + 100, true, 1, 0x18, msg, order_message(msg, "t1.1"));
    g_cap.len -= 10;
    assert_true(save(&g_cap, TMP "/cut.pcap"));
    assert_int_equal(ht_wire_analyse_file(TMP "/cut.pcap", &cfg, &r, &err), -1);
    assert_non_null(strstr(err.msg, "after frame 1"));
    assert_int_equal(r.md_frames, 1);
    /* Not a capture at all. */
    FILE *f = fopen(TMP "/garbage.pcap", "wb");
    assert_non_null(f);
    fputs("this is not a capture\n", f);
    fclose(f);
    assert_int_equal(ht_wire_analyse_file(TMP "/garbage.pcap", &cfg, &r, &err), -1);
    assert_non_null(strstr(err.msg, "garbage.pcap"));
}

/* Runs the binary; returns its exit status and its stdout in out. */
static int run_binary(const char *args, char *out, size_t out_cap)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s/hedgetrig' latency %s 2>/dev/null", HT_BINARY_DIR, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, out_cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void the_binary_reports_the_same(void **state)
{
    (void)state;
    static char out[8192];
    char expect[256];
    assert_int_equal(run_binary("--pcap " TMP "/scenario0.pcap --json", out, sizeof out), 0);
    snprintf(expect, sizeof expect, "\"orders\":%u,\"matched\":%zu,", N_PLAIN + 7, g_scenario.n_gaps);
    assert_non_null(strstr(out, expect));
    snprintf(expect, sizeof expect, "\"tick_to_wire_ns\":{\"min\":%llu,\"p50\":%llu,",
             (unsigned long long)reference_rank(g_scenario.gaps, g_scenario.n_gaps, 0),
             (unsigned long long)reference_rank(g_scenario.gaps, g_scenario.n_gaps, 0.5));
    assert_non_null(strstr(out, expect));
    assert_non_null(strstr(out, "\"unmatched\":{\"no_trigger\":1,\"bad_trigger\":1,\"trigger_not_seen\":1,"
                                "\"trigger_after_order\":1}"));
    assert_int_equal(run_binary("--pcap " TMP "/scenario0.pcap --fix-port 9881 --md-port 6100", out, sizeof out), 0);
    snprintf(expect, sizeof expect, "orders: %u  matched: %zu  unmatched: 4 ", N_PLAIN + 7, g_scenario.n_gaps);
    assert_non_null(strstr(out, expect));
    assert_int_equal(run_binary("--pcap " TMP "/cut.pcap --json", out, sizeof out), 1);
    assert_non_null(strstr(out, "read error after frame 1"));
    assert_int_equal(run_binary("--pcap " TMP "/garbage.pcap", out, sizeof out), 1);
    assert_int_equal(run_binary("--pcap " TMP "/scenario0.pcap --fix-port 0", out, sizeof out), 2);
    assert_int_equal(run_binary("--json", out, sizeof out), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scenario_exact_counts_and_percentiles),
        cmocka_unit_test(pcapng_gives_the_same_report),
        cmocka_unit_test(filters_select_market_data_and_order_flow),
        cmocka_unit_test(trigger_grammar),
        cmocka_unit_test(holes_and_garbage_are_counted_and_skipped),
        cmocka_unit_test(the_binary_reports_the_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
