/* SPDX-License-Identifier: MIT */
/* Co-simulation of the wire ingest: the same Ethernet frames, beat for beat, through the C model (sw) and the
 * RTL in Verilator (fpga/rtl/ht_wire_top.sv), which must hand the pipeline the same ticks in the same cycles,
 * give the same events and the same counters. The capture's index prices must equal what hostsw/feed's decoder
 * reads from the same frames; hostile frames must land in the drop counter their construction names.
 *
 * HT_WIRE_SEED=N replays one random run (the seed a failure prints); HT_WIRE_FRAMES=N sets the number of random
 * frames (default 1,000,000). */
#include <math.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hedgetrig/fixed.h"
#include "hedgetrig/pipe.h"
#include "hedgetrig/sbe.h"
#include "wire_model.h"

#define CAPTURE HT_DERIBIT_DIR "/deribit_sample_v1_6.pcap"
#define MAX_FRAMES 6000

/* ---- The capture -------------------------------------------------------------------------------------------- */

typedef struct frame {
    uint8_t *data;
    uint32_t len;
    double ts;
} frame;

static frame g_frames[MAX_FRAMES];
static size_t g_nframes;

static void load_capture(void)
{
    if (g_nframes)
        return;
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(CAPTURE, errbuf);
    if (!pc)
        fail_msg("cannot open %s: %s", CAPTURE, errbuf);
    struct pcap_pkthdr *h;
    const uint8_t *pkt;
    while (pcap_next_ex(pc, &h, &pkt) == 1 && g_nframes < MAX_FRAMES) {
        frame *f = &g_frames[g_nframes++];
        f->data = malloc(h->caplen);
        assert_non_null(f->data);
        memcpy(f->data, pkt, h->caplen);
        f->len = h->caplen;
        f->ts = (double)h->ts.tv_sec + h->ts.tv_usec * 1e-6;
    }
    pcap_close(pc);
    assert_true(g_nframes > 5000);
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* The UDP payload of a plain capture frame (Ethernet II, IPv4, UDP), or NULL. */
static const uint8_t *payload_of(const uint8_t *f, uint32_t len, uint32_t *plen, uint32_t *dst, uint16_t *port)
{
    if (len < 42 || be16(f + 12) != 0x0800 || f[23] != 17)
        return NULL;
    unsigned ihl = (f[14] & 15u) * 4u;
    *dst = (uint32_t)be16(f + 30) << 16 | be16(f + 32);
    *port = be16(f + 14 + ihl + 2);
    *plen = len - 14 - ihl - 8;
    return f + 14 + ihl + 8;
}

/* ---- The configuration: the index channel first, then the capture's busiest groups; its index names ------- */

typedef struct setup {
    ht_pipe_wire_config cfg;
    char names[HT_PIPE_UNDERLYINGS][17];
    double first_price[HT_PIPE_UNDERLYINGS];
    unsigned nnames;
} setup;

static int name_index(const setup *s, const char *name)
{
    for (unsigned u = 0; u < s->nnames; u++)
        if (strcmp(s->names[u], name) == 0)
            return (int)u;
    return -1;
}

static void make_setup(setup *s)
{
    memset(s, 0, sizeof *s);
    unsigned nf = 0, nc = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < g_nframes; i++) {
            uint32_t plen, dst;
            uint16_t port;
            const uint8_t *p = payload_of(g_frames[i].data, g_frames[i].len, &plen, &dst, &port);
            if (!p || plen < 8)
                continue;
            uint16_t ch = le16(p + 2);
            if ((pass == 0) != (ch == 0))
                continue;
            bool have = false;
            for (unsigned k = 0; k < nf; k++)
                have |= s->cfg.filter_addr[k] == dst && s->cfg.filter_port[k] == port;
            if (!have && nf < HT_PIPE_WIRE_FILTERS) {
                s->cfg.filter_addr[nf] = dst;
                s->cfg.filter_port[nf++] = port;
            }
            have = false;
            for (unsigned k = 0; k < nc; k++)
                have |= s->cfg.channel[k] == ch;
            if (!have && nc < HT_PIPE_WIRE_CHANNELS) {
                s->cfg.channel[nc] = ch;
                s->cfg.channel_on[nc++] = true;
            }
            if (ch != 0)
                continue;
            ht_sbe_iter it;
            ht_sbe_msg m;
            if (ht_sbe_iter_init(&it, p, plen) != HT_SBE_OK)
                continue;
            while (ht_sbe_iter_next(&it, &m)) {
                ht_sbe_price_index pi;
                if (m.hdr.template_id == HT_SBE_PRICE_INDEX && ht_sbe_decode_price_index(&m, &pi) == HT_SBE_OK &&
                    name_index(s, pi.index_name) < 0 && s->nnames < HT_PIPE_UNDERLYINGS) {
                    snprintf(s->names[s->nnames], 17, "%s", pi.index_name);
                    s->first_price[s->nnames++] = pi.price;
                }
            }
        }
    }
    for (unsigned u = 0; u < s->nnames; u++)
        s->cfg.index_name[u] = s->names[u];
    assert_int_equal(s->cfg.channel[0], 0);
    assert_true(s->nnames >= 5);
}

/* ---- Two backends in lock step ------------------------------------------------------------------------------- */

typedef struct tap_log {
    uint64_t *cycle;
    ht_fx_tick *tick;
    size_t n, cap;
} tap_log;

static void tap(void *ctx, uint64_t cycle, const ht_fx_tick *t)
{
    tap_log *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 4096;
        l->cycle = realloc(l->cycle, l->cap * sizeof *l->cycle);
        l->tick = realloc(l->tick, l->cap * sizeof *l->tick);
        assert_true(l->cycle && l->tick);
    }
    l->cycle[l->n] = cycle;
    l->tick[l->n++] = *t;
}

typedef struct duo {
    ht_pipe *p[2]; /* sw, verilator */
    tap_log log[2];
    size_t checked; /* tap entries compared so far */
    uint64_t seed;
    const char *what;
    size_t step;
} duo;

#define DUO_FAIL(d, ...)                                                                                        \
    do {                                                                                                        \
        char what_[1024];                                                                                        \
        snprintf(what_, sizeof what_, __VA_ARGS__);                                                             \
        fail_msg("%s, seed %llu (replay: HT_WIRE_SEED=%llu), frame %zu: %s", (d)->what,                          \
                 (unsigned long long)(d)->seed, (unsigned long long)(d)->seed, (d)->step, what_);              \
    } while (0)

static void duo_open(duo *d, const setup *s, const char *what)
{
    memset(d, 0, sizeof *d);
    d->what = what;
    ht_pipe_backend be[2] = {HT_PIPE_BACKEND_SW, HT_PIPE_BACKEND_VERILATOR};
    for (int i = 0; i < 2; i++) {
        ht_pipe_config c;
        ht_pipe_config_default(&c);
        c.backend = be[i];
        ht_error err;
        d->p[i] = ht_pipe_create(&c, &err);
        if (!d->p[i])
            fail_msg("%s", err.msg);
        assert_int_equal(ht_pipe_set_wire_tap(d->p[i], tap, &d->log[i]), 0);
        /* A book per index: delta 0.5 and gamma 1e-4 at its first price, a band of +-5e-4 around it. */
        ht_pipe_position pos[HT_PIPE_UNDERLYINGS];
        double s0[HT_PIPE_UNDERLYINGS] = {0};
        for (unsigned u = 0; u < s->nnames; u++) {
            pos[u] = (ht_pipe_position){.underlying = u, .qty_x_mult = 1.0, .delta = 0.5, .gamma = 1e-4,
                                        .ref_spot_usd = s->first_price[u]};
            s0[u] = s->first_price[u];
        }
        if (ht_pipe_load_book(d->p[i], pos, s->nnames, s0, &err) != 0 || ht_pipe_sync(d->p[i], &err) != 0)
            fail_msg("%s", err.msg);
        for (unsigned u = 0; u < s->nnames; u++)
            if (ht_pipe_set_band(d->p[i], u, 0.5 - 5e-4, 0.5 + 5e-4, &err) != 0)
                fail_msg("%s", err.msg);
        if (ht_pipe_wire_configure(d->p[i], &s->cfg, &err) != 0)
            fail_msg("%s", err.msg);
    }
}

static void duo_close(duo *d)
{
    for (int i = 0; i < 2; i++) {
        ht_pipe_destroy(d->p[i]);
        free(d->log[i].cycle);
        free(d->log[i].tick);
    }
}

static void duo_frame(duo *d, const uint8_t *f, size_t len, bool mac_error)
{
    for (int i = 0; i < 2; i++)
        assert_int_equal(ht_pipe_push_frame(d->p[i], f, len, mac_error), 0);
}

static void duo_idle(duo *d, uint64_t cycles)
{
    for (int i = 0; i < 2; i++)
        ht_pipe_idle(d->p[i], cycles);
}

/* The ticks both handed to the pipeline since the last check: same cycle, underlying, sequence, price. */
static void duo_check_ticks(duo *d)
{
    if (d->log[0].n != d->log[1].n)
        DUO_FAIL(d, "sw handed %zu ticks to the pipeline, the RTL %zu", d->log[0].n, d->log[1].n);
    for (size_t k = d->checked; k < d->log[0].n; k++) {
        const ht_fx_tick *a = &d->log[0].tick[k], *b = &d->log[1].tick[k];
        if (d->log[0].cycle[k] != d->log[1].cycle[k] || a->underlying != b->underlying || a->seq != b->seq ||
            a->price != b->price)
            DUO_FAIL(d, "tick %zu: sw (cycle %llu, und %u, seq 0x%llx, price %lld) rtl (cycle %llu, und %u, seq "
                        "0x%llx, price %lld)", k, (unsigned long long)d->log[0].cycle[k], a->underlying,
                     (unsigned long long)a->seq, (long long)a->price, (unsigned long long)d->log[1].cycle[k],
                     b->underlying, (unsigned long long)b->seq, (long long)b->price);
    }
    d->checked = d->log[0].n;
}

/* Events, counters (the ingest's and the pipeline's) and the clock. Returns the ingest's counters (sw). */
static void duo_check(duo *d, uint32_t out[HT_PIPE_WIRE_COUNTERS])
{
    ht_pipe_event ev[2];
    for (;;) {
        int got0 = ht_pipe_poll_event(d->p[0], &ev[0]), got1 = ht_pipe_poll_event(d->p[1], &ev[1]);
        if (got0 != got1)
            DUO_FAIL(d, "one backend has an event the other has not (sw %d, rtl %d)", got0, got1);
        if (!got0)
            break;
        if (memcmp(&ev[0], &ev[1], offsetof(ht_pipe_event, spot_usd)) != 0)
            DUO_FAIL(d, "events differ: sw und %u seq 0x%llx cycle %llu, rtl und %u seq 0x%llx cycle %llu",
                     ev[0].underlying, (unsigned long long)ev[0].seq, (unsigned long long)ev[0].cycle_out,
                     ev[1].underlying, (unsigned long long)ev[1].seq, (unsigned long long)ev[1].cycle_out);
        ht_error err;
        for (int i = 0; i < 2; i++)
            assert_int_equal(ht_pipe_rearm(d->p[i], ev[0].underlying, &err), 0);
    }
    duo_check_ticks(d);
    uint32_t c[2][HT_PIPE_WIRE_COUNTERS];
    ht_pipe_counters pc[2];
    ht_error err;
    for (int i = 0; i < 2; i++) {
        if (ht_pipe_wire_read_counters(d->p[i], c[i], &err) != 0 || ht_pipe_read_counters(d->p[i], &pc[i], &err) != 0)
            fail_msg("%s", err.msg);
    }
    for (unsigned r = 0; r < HT_PIPE_WIRE_COUNTERS; r++)
        if (c[0][r] != c[1][r])
            DUO_FAIL(d, "counter %s: sw %u, rtl %u", ht_pipe_wire_counter_name(r), c[0][r], c[1][r]);
    if (pc[0].cycles != pc[1].cycles || pc[0].ticks != pc[1].ticks || pc[0].events != pc[1].events ||
        pc[0].muted_ticks != pc[1].muted_ticks || pc[0].muted_mask != pc[1].muted_mask)
        DUO_FAIL(d, "pipeline counters differ: cycles %llu/%llu ticks %llu/%llu events %llu/%llu",
                 (unsigned long long)pc[0].cycles, (unsigned long long)pc[1].cycles, (unsigned long long)pc[0].ticks,
                 (unsigned long long)pc[1].ticks, (unsigned long long)pc[0].events, (unsigned long long)pc[1].events);
    /* Every frame is counted once: passed or dropped for one reason. */
    uint64_t sum = c[0][HT_PIPE_WIRE_CNT_FRAMES_OK];
    for (unsigned r = HT_PIPE_WIRE_CNT_DROP_FIRST; r <= HT_PIPE_WIRE_CNT_DROP_LAST; r++)
        sum += c[0][r];
    if (sum != c[0][HT_PIPE_WIRE_CNT_FRAMES])
        DUO_FAIL(d, "frames %u, but passed + dropped = %llu", c[0][HT_PIPE_WIRE_CNT_FRAMES], (unsigned long long)sum);
    if (c[0][HT_PIPE_WIRE_CNT_TICKS] != pc[0].ticks)
        DUO_FAIL(d, "the ingest sent %u ticks, the pipeline took %llu", c[0][HT_PIPE_WIRE_CNT_TICKS],
                 (unsigned long long)pc[0].ticks);
    if (out)
        memcpy(out, c[0], sizeof c[0]);
}

/* ---- The capture, against the feed decoder ------------------------------------------------------------------ */

/* The ticks hostsw/feed's decoder reads from the capture's index channel, in order: the reference. */
static size_t expected_ticks(const setup *s, ht_fx_tick *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < g_nframes; i++) {
        uint32_t plen, dst;
        uint16_t port;
        const uint8_t *p = payload_of(g_frames[i].data, g_frames[i].len, &plen, &dst, &port);
        ht_sbe_iter it;
        ht_sbe_msg m;
        if (!p || ht_sbe_iter_init(&it, p, plen) != HT_SBE_OK || it.frame.channel_id != 0)
            continue;
        while (ht_sbe_iter_next(&it, &m)) {
            ht_sbe_price_index pi;
            if (m.hdr.template_id != HT_SBE_PRICE_INDEX || ht_sbe_decode_price_index(&m, &pi) != HT_SBE_OK)
                continue;
            int u = name_index(s, pi.index_name);
            assert_true(u >= 0 && n < max);
            out[n].underlying = (uint8_t)u;
            out[n].seq = it.frame.seq;
            assert_int_equal(ht_fx_from_double(pi.price, HT_FX_PRICE_FRAC, &out[n].price), HT_FX_OK);
            n++;
        }
    }
    return n;
}

static void check_against_feed(duo *d, const setup *s)
{
    static ht_fx_tick want[4096];
    size_t n = expected_ticks(s, want, HT_ARRAY_LEN(want));
    assert_true(n >= 400);
    if (d->log[0].n != n)
        fail_msg("%s: the ingest made %zu ticks, the feed decoder reads %zu index prices", d->what, d->log[0].n, n);
    for (size_t k = 0; k < n; k++) {
        const ht_fx_tick *t = &d->log[0].tick[k];
        if (t->underlying != want[k].underlying || t->seq != want[k].seq || t->price != want[k].price)
            fail_msg("%s: tick %zu: ingest (und %u, seq %llu, price %lld), feed (und %u, seq %llu, price %lld)",
                     d->what, k, t->underlying, (unsigned long long)t->seq, (long long)t->price, want[k].underlying,
                     (unsigned long long)want[k].seq, (long long)want[k].price);
    }
}

static void capture_back_to_back(void **state)
{
    (void)state;
    load_capture();
    setup s;
    make_setup(&s);
    duo d;
    duo_open(&d, &s, "capture back to back");
    for (size_t i = 0; i < g_nframes; i++) {
        d.step = i;
        duo_frame(&d, g_frames[i].data, g_frames[i].len, false);
        if (i % 500 == 499)
            duo_check_ticks(&d);
    }
    uint32_t c[HT_PIPE_WIRE_COUNTERS];
    duo_check(&d, c);
    check_against_feed(&d, &s);
    assert_int_equal(c[HT_PIPE_WIRE_CNT_FRAMES], g_nframes);
    assert_int_equal(c[HT_PIPE_WIRE_CNT_GAPS], 0);
    assert_int_equal(c[HT_PIPE_WIRE_CNT_OVERRUN], 0);
    print_message("capture back to back: %u frames, %u passed, %u ticks, %u filtered, %u other channels\n",
                  c[HT_PIPE_WIRE_CNT_FRAMES], c[HT_PIPE_WIRE_CNT_FRAMES_OK], c[HT_PIPE_WIRE_CNT_TICKS],
                  c[HT_PIPE_WIRE_CNT_FILTER], c[HT_PIPE_WIRE_CNT_CHANNEL]);
    duo_close(&d);
}

/* The capture's own gaps (one cycle per microsecond at most 4000), events polled and re-armed after each frame. */
static void capture_with_gaps(void **state)
{
    (void)state;
    load_capture();
    setup s;
    make_setup(&s);
    duo d;
    duo_open(&d, &s, "capture with its gaps");
    for (size_t i = 0; i < g_nframes; i++) {
        d.step = i;
        if (i > 0) {
            double us = (g_frames[i].ts - g_frames[i - 1].ts) * 1e6;
            duo_idle(&d, us <= 0 ? 0 : us > 4000 ? 4000 : (uint64_t)us);
        }
        duo_frame(&d, g_frames[i].data, g_frames[i].len, false);
        if (i % 50 == 0)
            duo_check(&d, NULL);
    }
    duo_check(&d, NULL);
    check_against_feed(&d, &s);
    duo_close(&d);
}

/* ---- Hostile frames ----------------------------------------------------------------------------------------- */

/* The RFC 791 header checksum of an IPv4 header at h (IHL from its first byte), written into it. */
static void ip_fix(uint8_t *h)
{
    unsigned n = (h[0] & 15u) * 4u;
    h[10] = h[11] = 0;
    uint32_t sum = 0;
    for (unsigned i = 0; i + 1 < n; i += 2)
        sum += be16(h + i);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    h[10] = (uint8_t)(~sum >> 8);
    h[11] = (uint8_t)~sum;
}

/* The first index frame of the capture, with a fresh sequence number. */
static size_t base_frame(uint8_t *out, uint32_t seq)
{
    for (size_t i = 0; i < g_nframes; i++) {
        uint32_t plen, dst;
        uint16_t port;
        const uint8_t *p = payload_of(g_frames[i].data, g_frames[i].len, &plen, &dst, &port);
        if (p && plen >= 8 && le16(p + 2) == 0 && le16(p + 8 + 2) == 1008) {
            memcpy(out, g_frames[i].data, g_frames[i].len);
            uint8_t *q = out + (p - g_frames[i].data);
            q[4] = (uint8_t)seq;
            q[5] = (uint8_t)(seq >> 8);
            q[6] = (uint8_t)(seq >> 16);
            q[7] = (uint8_t)(seq >> 24);
            return g_frames[i].len;
        }
    }
    fail_msg("no index frame in the capture");
    return 0;
}

/* Inserts n bytes at `at` (frame buffer of 4096). */
static size_t insert(uint8_t *f, size_t len, size_t at, const uint8_t *bytes, size_t n)
{
    memmove(f + at + n, f + at, len - at);
    memcpy(f + at, bytes, n);
    return len + n;
}

typedef struct hostile {
    const char *name;
    unsigned reason; /* the counter the frame must land in */
} hostile;

enum { H_IP = 14, H_UDP = 34, H_PAY = 42, H_MSG = 50, H_BLOCK = 62 };

/* Builds hostile case k into f; returns its length and sets *h, *mac; 0 when k is past the last case. */
static size_t make_hostile(unsigned k, uint8_t *f, hostile *h, bool *mac)
{
    static const uint8_t vlan[4] = {0x81, 0x00, 0x00, 0x64};
    static const uint8_t opt[4] = {0x01, 0x01, 0x01, 0x00}; /* NOP NOP NOP EOL */
    size_t len = base_frame(f, 100 + k);
    *mac = false;
    h->reason = HT_PIPE_WIRE_CNT_FRAMES_OK;
    switch (k) {
    case 0: h->name = "the base frame"; break;
    case 1: h->name = "bad IPv4 checksum"; f[H_IP + 10] ^= 0x01; h->reason = HT_PIPE_WIRE_CNT_IP_CHECKSUM; break;
    case 2: h->name = "more fragments"; f[H_IP + 6] |= 0x20; ip_fix(f + H_IP); h->reason = HT_PIPE_WIRE_CNT_FRAGMENT; break;
    case 3: h->name = "fragment offset"; f[H_IP + 7] = 1; ip_fix(f + H_IP); h->reason = HT_PIPE_WIRE_CNT_FRAGMENT; break;
    case 4: h->name = "TCP"; f[H_IP + 9] = 6; ip_fix(f + H_IP); h->reason = HT_PIPE_WIRE_CNT_NOT_UDP; break;
    case 5: h->name = "other port"; f[H_UDP + 3] ^= 1; h->reason = HT_PIPE_WIRE_CNT_FILTER; break;
    case 6: h->name = "other group"; f[H_IP + 16] ^= 0x40; ip_fix(f + H_IP); h->reason = HT_PIPE_WIRE_CNT_FILTER; break;
    case 7: h->name = "IPv6 EtherType"; f[12] = 0x86; f[13] = 0xDD; h->reason = HT_PIPE_WIRE_CNT_NOT_IPV4; break;
    case 8: h->name = "one VLAN tag"; len = insert(f, len, 12, vlan, 4); break;
    case 9:
        h->name = "two VLAN tags";
        len = insert(f, len, 12, vlan, 4);
        len = insert(f, len, 12, vlan, 4);
        h->reason = HT_PIPE_WIRE_CNT_NOT_IPV4;
        break;
    case 10:
        h->name = "IP options";
        len = insert(f, len, H_IP + 20, opt, 4);
        f[H_IP] = 0x46;
        f[H_IP + 3] += 4; /* total length (no carry for the capture's short frames) */
        ip_fix(f + H_IP);
        break;
    case 11: h->name = "IHL 4"; f[H_IP] = 0x44; ip_fix(f + H_IP); h->reason = HT_PIPE_WIRE_CNT_IP_HEADER; break;
    case 12: h->name = "IP version 6"; f[H_IP] = 0x65; ip_fix(f + H_IP); h->reason = HT_PIPE_WIRE_CNT_IP_HEADER; break;
    case 13: h->name = "UDP length past IP"; f[H_UDP + 5] += 1; h->reason = HT_PIPE_WIRE_CNT_LENGTH; break;
    case 14: h->name = "packetLength past UDP"; f[H_PAY] += 1; h->reason = HT_PIPE_WIRE_CNT_LENGTH; break;
    case 15: h->name = "unknown channel"; f[H_PAY + 2] = 77; h->reason = HT_PIPE_WIRE_CNT_CHANNEL; break;
    case 16: h->name = "blockLength lies"; f[H_MSG + 1] = 0x40; h->reason = HT_PIPE_WIRE_CNT_SBE; break;
    case 17: h->name = "1008 block too short"; f[H_MSG] = 20; h->reason = HT_PIPE_WIRE_CNT_SBE; break;
    case 18: h->name = "unknown template"; f[H_MSG + 2] = 0xD0; f[H_MSG + 3] = 0x07; break;
    case 19: h->name = "unknown schema"; f[H_MSG + 4] = 2; break;
    case 20: h->name = "MAC error"; *mac = true; h->reason = HT_PIPE_WIRE_CNT_MAC_ERROR; break;
    case 21:
        h->name = "frame over 2048 bytes";
        memset(f + len, 0, 2100 - len);
        len = 2100;
        h->reason = HT_PIPE_WIRE_CNT_TOO_LONG;
        break;
    case 22: h->name = "group header past packetLength"; f[H_MSG + 8] = 1; h->reason = HT_PIPE_WIRE_CNT_SBE; break;
    case 23: h->name = "NaN price"; memset(f + H_BLOCK + 16, 0xFF, 8); break;
    case 24: h->name = "negative price"; f[H_BLOCK + 23] |= 0x80; break;
    case 25: h->name = "unknown index name"; f[H_BLOCK] ^= 0x20; break;
    case 26: h->name = "truncated IP header"; len = 30; h->reason = HT_PIPE_WIRE_CNT_SHORT; break;
    case 27: h->name = "truncated message"; len -= 9; h->reason = HT_PIPE_WIRE_CNT_SHORT; break;
    case 28: h->name = "truncated to nothing"; len = 0; h->reason = HT_PIPE_WIRE_CNT_SHORT; break;
    default: return (size_t)-1;
    }
    return len;
}

static void hostile_frames_agree(void **state)
{
    (void)state;
    load_capture();
    setup s;
    make_setup(&s);
    duo d;
    duo_open(&d, &s, "hostile frames");
    uint32_t before[HT_PIPE_WIRE_COUNTERS], after[HT_PIPE_WIRE_COUNTERS];
    duo_check(&d, before);
    static uint8_t f[4096];
    hostile h;
    bool mac;
    ht_error err;
    for (unsigned k = 0;; k++) {
        size_t len = make_hostile(k, f, &h, &mac);
        if (len == (size_t)-1)
            break;
        d.step = k;
        d.what = h.name;
        size_t ticks = d.log[0].n;
        duo_frame(&d, f, len, mac);
        duo_check(&d, after);
        if (after[h.reason] != before[h.reason] + 1 || after[HT_PIPE_WIRE_CNT_FRAMES] != before[HT_PIPE_WIRE_CNT_FRAMES] + 1)
            fail_msg("%s: expected one more %s, got %u -> %u", h.name, ht_pipe_wire_counter_name(h.reason),
                     before[h.reason], after[h.reason]);
        bool ok = h.reason == HT_PIPE_WIRE_CNT_FRAMES_OK;
        bool tick_expected = ok && k != 18 && k != 19 && k != 23 && k != 24 && k != 25;
        if ((d.log[0].n == ticks + 1) != tick_expected)
            fail_msg("%s: %zu ticks, expected %d", h.name, d.log[0].n - ticks, tick_expected);
        if (k == 18 && after[HT_PIPE_WIRE_CNT_UNKNOWN_TEMPLATE] != before[HT_PIPE_WIRE_CNT_UNKNOWN_TEMPLATE] + 1)
            fail_msg("unknown template not counted");
        if (k == 19 && after[HT_PIPE_WIRE_CNT_UNKNOWN_SCHEMA] != before[HT_PIPE_WIRE_CNT_UNKNOWN_SCHEMA] + 1)
            fail_msg("unknown schema not counted");
        if ((k == 23 || k == 24) && after[HT_PIPE_WIRE_CNT_BAD_PRICE] != before[HT_PIPE_WIRE_CNT_BAD_PRICE] + 1)
            fail_msg("%s: bad price not counted", h.name);
        if (k == 25 && after[HT_PIPE_WIRE_CNT_UNMAPPED] != before[HT_PIPE_WIRE_CNT_UNMAPPED] + 1)
            fail_msg("unknown index name not counted");
        /* Each case starts a fresh sequence. */
        for (int i = 0; i < 2; i++)
            assert_int_equal(ht_pipe_wire_rearm(d.p[i], 0xF, &err), 0);
        memcpy(before, after, sizeof after);
    }
    /* Sequencing: a repeat is old, a skip is a gap that makes the channel stale until re-armed. */
    size_t len = base_frame(f, 500);
    duo_frame(&d, f, len, false);
    duo_frame(&d, f, len, false);
    base_frame(f, 502);
    duo_frame(&d, f, len, false);
    base_frame(f, 503);
    duo_frame(&d, f, len, false);
    duo_check(&d, after);
    assert_int_equal(after[HT_PIPE_WIRE_CNT_OLD_SEQ], before[HT_PIPE_WIRE_CNT_OLD_SEQ] + 1);
    assert_int_equal(after[HT_PIPE_WIRE_CNT_GAPS], before[HT_PIPE_WIRE_CNT_GAPS] + 1);
    assert_int_equal(after[HT_PIPE_WIRE_CNT_STALE], before[HT_PIPE_WIRE_CNT_STALE] + 2);
    uint32_t stale[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(ht_pipe_wire_stale(d.p[i], &stale[i], &err), 0);
    assert_int_equal(stale[0], 1u);
    assert_int_equal(stale[1], 1u);
    /* A TKEEP with a hole, in the middle of a frame: a MAC error. */
    len = base_frame(f, 600);
    for (int i = 0; i < 2; i++)
        assert_int_equal(ht_pipe_wire_rearm(d.p[i], 0xF, &err), 0);
    memcpy(before, after, sizeof after);
    for (size_t off = 0; off < len; off += 8) {
        ht_wire_beat b = {.keep = off == 8 ? 0xF7 : 0xFF, .last = off + 8 >= len};
        memcpy(b.data, f + off, len - off < 8 ? len - off : 8);
        if (b.last)
            b.keep = (uint8_t)((1u << (len - off)) - 1u);
        for (int i = 0; i < 2; i++)
            assert_int_equal(ht_pipe_push_beat(d.p[i], &b), 0);
    }
    duo_check(&d, after);
    assert_int_equal(after[HT_PIPE_WIRE_CNT_MAC_ERROR], before[HT_PIPE_WIRE_CNT_MAC_ERROR] + 1);
    /* Truncated at every byte: never a tick, never a hang, both agree. */
    for (size_t cut = 0; cut < len; cut++) {
        d.step = cut;
        d.what = "truncated at every byte";
        for (int i = 0; i < 2; i++)
            assert_int_equal(ht_pipe_wire_rearm(d.p[i], 0xF, &err), 0);
        size_t ticks = d.log[0].n;
        base_frame(f, 700 + (uint32_t)cut);
        duo_frame(&d, f, cut, false);
        duo_check(&d, after);
        if (d.log[0].n != ticks)
            fail_msg("a frame cut to %zu bytes made a tick", cut);
    }
    /* Overrun: a frame of 300 empty var-data fields (one walk item per byte), then two short frames at once. */
    len = base_frame(f, 900);
    f[H_MSG + 10] = 0x2C; /* 300 var-data fields after the 1008 block */
    f[H_MSG + 11] = 0x01;
    memset(f + len, 0, 300);
    uint16_t pl = (uint16_t)(le16(f + H_PAY) + 300);
    f[H_PAY] = (uint8_t)pl;
    f[H_PAY + 1] = (uint8_t)(pl >> 8);
    uint16_t udp = (uint16_t)(be16(f + H_UDP + 4) + 300), tot = (uint16_t)(be16(f + H_IP + 2) + 300);
    f[H_UDP + 4] = (uint8_t)(udp >> 8);
    f[H_UDP + 5] = (uint8_t)udp;
    f[H_IP + 2] = (uint8_t)(tot >> 8);
    f[H_IP + 3] = (uint8_t)tot;
    ip_fix(f + H_IP);
    for (int i = 0; i < 2; i++)
        assert_int_equal(ht_pipe_wire_rearm(d.p[i], 0xF, &err), 0);
    memcpy(before, after, sizeof after);
    duo_frame(&d, f, len + 300, false);
    static uint8_t g[4096];
    size_t glen = base_frame(g, 901);
    duo_frame(&d, g, glen, false);
    duo_frame(&d, g, glen, false);
    duo_check(&d, after);
    assert_int_equal(after[HT_PIPE_WIRE_CNT_OVERRUN], before[HT_PIPE_WIRE_CNT_OVERRUN] + 1);
    duo_close(&d);
}

/* ---- Random frames ------------------------------------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* A capture frame, a hostile case or garbage, mutated at random. */
static size_t random_frame(uint64_t *rng, uint8_t *f, bool *mac)
{
    uint64_t r = rng_next(rng);
    size_t len;
    hostile h;
    if (r % 4 == 0) {
        len = make_hostile((unsigned)(r >> 8) % 29, f, &h, mac);
    } else {
        const frame *src = &g_frames[(r >> 8) % g_nframes];
        len = src->len;
        memcpy(f, src->data, len);
        *mac = (r >> 40) % 64 == 0;
    }
    unsigned flips = (unsigned)(rng_next(rng) % 4);
    for (unsigned i = 0; i < flips && len > 0; i++) {
        uint64_t x = rng_next(rng);
        f[(x % (len < 96 ? len : 96))] ^= (uint8_t)(1u << ((x >> 16) % 8));
    }
    uint64_t y = rng_next(rng);
    if (y % 3 == 0 && len >= H_IP + 20)
        ip_fix(f + H_IP); /* half the damage past the checksum */
    if ((y >> 8) % 16 == 0 && len > 0)
        len = (size_t)((y >> 16) % len);
    return len;
}

static void random_frames_agree(void **state)
{
    (void)state;
    load_capture();
    setup s;
    make_setup(&s);
    const char *replay = getenv("HT_WIRE_SEED");
    const char *total_env = getenv("HT_WIRE_FRAMES");
    uint64_t total = total_env ? strtoull(total_env, NULL, 10) : 1000000;
    uint64_t seed = replay ? strtoull(replay, NULL, 10) : 0x5EEDu;
    duo d;
    duo_open(&d, &s, "random frames");
    d.seed = seed;
    uint64_t rng = seed;
    static uint8_t f[4096];
    ht_error err;
    for (uint64_t i = 0; i < total; i++) {
        d.step = (size_t)i;
        bool mac;
        size_t len = random_frame(&rng, f, &mac);
        uint64_t g = rng_next(&rng);
        if (g % 4 == 0)
            duo_idle(&d, g >> 60);
        duo_frame(&d, f, len, mac);
        if (i % 5000 == 4999)
            duo_check(&d, NULL);
        if (i % 16 == 15) /* random frames break the sequence: re-arm often so that frames pass too */
            for (int k = 0; k < 2; k++)
                assert_int_equal(ht_pipe_wire_rearm(d.p[k], 0xF, &err), 0);
    }
    uint32_t c[HT_PIPE_WIRE_COUNTERS];
    duo_check(&d, c);
    print_message("random frames (seed %llu): %llu frames, %u passed, %u ticks; dropped:",
                  (unsigned long long)seed, (unsigned long long)total, c[HT_PIPE_WIRE_CNT_FRAMES_OK],
                  c[HT_PIPE_WIRE_CNT_TICKS]);
    for (unsigned r = HT_PIPE_WIRE_CNT_DROP_FIRST; r <= HT_PIPE_WIRE_CNT_DROP_LAST; r++)
        print_message(" %s %u", ht_pipe_wire_counter_name(r), c[r]);
    print_message("\n");
    assert_int_equal(c[HT_PIPE_WIRE_CNT_FRAMES], total);
    duo_close(&d);
}

/* ---- The price conversion against ht_fx_from_double ---------------------------------------------------------- */

static void price_conversion_matches_host(void **state)
{
    (void)state;
    /* Through the sw model's conversion (the RTL's is compared with it by every tick above). */
    uint64_t rng = 42;
    for (int i = 0; i < 2000000; i++) {
        uint64_t bits = rng_next(&rng);
        if (i % 2)
            bits = (bits & 0x800FFFFFFFFFFFFFu) | (uint64_t)(1023 - 40 + (int)((bits >> 52) % 80)) << 52;
        double x;
        memcpy(&x, &bits, sizeof x);
        int64_t want = 0, got = 0;
        bool valid = x > 0.0 && x < 2147483648.0;
        if (valid)
            assert_int_equal(ht_fx_from_double(x, HT_FX_PRICE_FRAC, &want), HT_FX_OK);
        bool ok = ht_wire_price_to_fx(bits, &got);
        if (ok != valid || (valid && got != want))
            fail_msg("price bits 0x%016llx (%.17g): ingest %d %lld, host %d %lld", (unsigned long long)bits, x, ok,
                     (long long)got, valid, (long long)want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(price_conversion_matches_host),
        cmocka_unit_test(capture_back_to_back),
        cmocka_unit_test(capture_with_gaps),
        cmocka_unit_test(hostile_frames_agree),
        cmocka_unit_test(random_frames_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
