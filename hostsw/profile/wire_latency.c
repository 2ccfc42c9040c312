/* SPDX-License-Identifier: MIT */
/* Tick to wire from a capture: market-data frames and FIX orders matched by the trigger each order carries. */
#include "hedgetrig/wire_latency.h"

#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hedgetrig/fix.h"
#include "hedgetrig/sbe.h"

/* Segments held ahead of a hole, per direction, before the hole is declared lost. */
#define MAX_AHEAD 32u
/* Bytes a direction may hold unparsed: far more than one FIX message may be (ht_fix_parse's default limit). */
#define MAX_PENDING_BYTES (4u * HT_FIX_DEFAULT_MAX_MSG + 65536u)

/* A segment captured ahead of a hole in its stream. */
typedef struct ahead_seg {
    uint32_t seq;
    uint32_t len;
    uint64_t ts_ns, frame;
    uint8_t *bytes;
} ahead_seg;

/* One direction of a TCP connection. */
typedef struct tcp_flow {
    uint32_t src_addr, dst_addr;
    uint16_t src_port, dst_port;
    bool synced;        /* next_seq is known (a SYN or the first data segment) */
    uint32_t next_seq;  /* the sequence number of the next byte the stream needs */
    char *pending;      /* bytes after the last whole FIX message */
    size_t n_pending, cap_pending;
    ahead_seg ahead[MAX_AHEAD];
    unsigned n_ahead;
} tcp_flow;

/* The first capture of a market-data frame (channel, seq). frame 0: an empty slot. */
typedef struct md_slot {
    uint64_t key; /* channel << 32 | seq */
    uint64_t ts_ns, frame;
} md_slot;

/* An order found in the order flow. */
typedef struct wire_order {
    uint64_t ts_ns, frame, seq;
    uint16_t channel;
} wire_order;

struct ht_wire {
    ht_wire_config cfg;
    ht_wire_report rep;
    tcp_flow flows[HT_WIRE_MAX_FLOWS];
    unsigned n_flows;
    md_slot *md;
    size_t md_cap, md_used;
    wire_order *orders;
    size_t n_orders, cap_orders;
    ht_fix_msg msg;
};

/* Big-endian loads for the TCP header. */
static uint16_t load_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static uint32_t load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Records the first problem of the capture (later ones are only counted). */
static void note_problem(ht_wire *w, const char *fmt, ...) HT_PRINTF(2, 3);
static void note_problem(ht_wire *w, const char *fmt, ...)
{
    if (w->rep.first_problem[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->rep.first_problem, sizeof w->rep.first_problem, fmt, ap);
    va_end(ap);
}

void ht_wire_config_default(ht_wire_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->trigger_tag = HT_WIRE_TRIGGER_TAG;
}

ht_wire *ht_wire_create(const ht_wire_config *cfg, ht_error *err)
{
    if (cfg->trigger_tag == 0)
        return ht_error_set(err, "wire latency: the trigger tag must be a positive FIX tag"), NULL;
    ht_wire *w = calloc(1, sizeof *w);
    if (!w)
        return ht_error_set(err, "wire latency: out of memory"), NULL;
    w->cfg = *cfg;
    return w;
}

/* Grows the frame table when it is half full. False when out of memory. */
static bool md_reserve(ht_wire *w)
{
    if (w->md_used * 2 < w->md_cap)
        return true;
    size_t cap = w->md_cap ? w->md_cap * 2 : 4096;
    md_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < w->md_cap; i++) {
        if (!w->md[i].frame)
            continue;
        size_t j = (size_t)(w->md[i].key * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);
        while (slots[j].frame)
            j = (j + 1) & (cap - 1);
        slots[j] = w->md[i];
    }
    free(w->md);
    w->md = slots;
    w->md_cap = cap;
    return true;
}

/* The slot of a frame key: its own, or the empty one where it goes. */
static md_slot *md_slot_of(const ht_wire *w, uint64_t key)
{
    size_t j = (size_t)(key * 0x9E3779B97F4A7C15ull >> 20) & (w->md_cap - 1);
    while (w->md[j].frame && w->md[j].key != key)
        j = (j + 1) & (w->md_cap - 1);
    return &w->md[j];
}

static uint64_t md_key(uint16_t channel, uint64_t seq)
{
    return (uint64_t)channel << 32 | seq;
}

/* A UDP datagram in the md filter: records the first capture of its frame. */
static int on_md(ht_wire *w, const uint8_t *payload, size_t len, uint64_t ts_ns, uint64_t frame)
{
    ht_sbe_iter it;
    ht_sbe_status st = ht_sbe_iter_init(&it, payload, len);
    if (st != HT_SBE_OK) {
        w->rep.md_bad++;
        note_problem(w, "frame %llu: UDP datagram of %zu bytes without a sound Deribit frame header (%s)",
                     (unsigned long long)frame, len,
                     st == HT_SBE_ERR_SHORT_FRAME ? "shorter than 8 bytes" : "packetLength beyond the datagram");
        return 0;
    }
    if (!md_reserve(w))
        return -1;
    md_slot *slot = md_slot_of(w, md_key(it.frame.channel_id, it.frame.seq));
    w->rep.md_frames++;
    if (slot->frame) {
        w->rep.md_repeats++;
        return 0;
    }
    slot->key = md_key(it.frame.channel_id, it.frame.seq);
    slot->ts_ns = ts_ns;
    slot->frame = frame;
    w->md_used++;
    return 0;
}

/* A decimal of 1 to max_digits digits (leading zeros allowed) that is at most max. */
static bool parse_trigger_number(const char *text, size_t len, size_t max_digits, uint64_t max, uint64_t *out)
{
    if (len == 0 || len > max_digits)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        unsigned digit = (unsigned)(text[i] - '0');
        if (x > (max - digit) / 10)
            return false;
        x = x * 10 + digit;
    }
    *out = x;
    return true;
}

bool ht_wire_trigger_parse(const char *text, size_t len, uint16_t *channel, uint64_t *seq)
{
    if (len < 4 || text[0] != 't')
        return false;
    const char *dot = memchr(text, '.', len);
    if (!dot)
        return false;
    size_t ch_len = (size_t)(dot - text) - 1, sq_len = len - ch_len - 2;
    uint64_t ch_value;
    if (!parse_trigger_number(text + 1, ch_len, 5, 65535, &ch_value) ||
        !parse_trigger_number(dot + 1, sq_len, 20, UINT64_MAX, seq))
        return false;
    *channel = (uint16_t)ch_value;
    return true;
}

/* A whole FIX message, its last byte captured at ts_ns in frame: a NewOrderSingle is kept with its trigger. */
static int on_fix_message(ht_wire *w, const ht_fix_msg *msg, uint64_t ts_ns, uint64_t frame)
{
    w->rep.fix_messages++;
    if (strcmp(msg->msg_type, HT_FIX_MSG_NEW_ORDER_SINGLE) != 0)
        return 0;
    if (ht_fix_field_is(msg, 43, "Y")) {
        w->rep.poss_dup++;
        return 0;
    }
    w->rep.orders++;
    size_t len;
    const char *v = ht_fix_get(msg, w->cfg.trigger_tag, &len);
    wire_order o = {.ts_ns = ts_ns, .frame = frame};
    if (!v) {
        w->rep.no_trigger++;
        return 0;
    }
    if (!ht_wire_trigger_parse(v, len, &o.channel, &o.seq)) {
        char shown[80];
        w->rep.bad_trigger++;
        note_problem(w, "frame %llu: order's tag %u is '%s', not t<channel>.<seq>", (unsigned long long)frame,
                     w->cfg.trigger_tag, ht_fix_printable(v, len, shown, sizeof shown));
        return 0;
    }
    if (o.seq == 0) {
        w->rep.no_trigger++;
        return 0;
    }
    if (w->n_orders == w->cap_orders) {
        size_t cap = w->cap_orders ? w->cap_orders * 2 : 256;
        wire_order *grown = realloc(w->orders, cap * sizeof *grown);
        if (!grown)
            return -1;
        w->orders = grown;
        w->cap_orders = cap;
    }
    w->orders[w->n_orders++] = o;
    return 0;
}

/* Cuts the whole FIX messages off the front of a direction's pending bytes; ts_ns and frame are those of the
 * segment just added, which holds the last byte of every message completed now. */
static int parse_pending(ht_wire *w, tcp_flow *f, uint64_t ts_ns, uint64_t frame)
{
    size_t used = 0;
    while (used < f->n_pending) {
        size_t consumed = 0;
        ht_error err = {0};
        ht_fix_parse_status st = ht_fix_parse(f->pending + used, f->n_pending - used, 0, &w->msg, &consumed, &err);
        if (st == HT_FIX_PARSE_INCOMPLETE)
            break;
        if (consumed == 0)
            consumed = f->n_pending - used; /* never stall on a parser that gave nothing back */
        if (st == HT_FIX_PARSE_BAD) {
            w->rep.fix_bad++;
            note_problem(w, "frame %llu: TCP %u->%u: %zu bytes that are not FIX skipped: %s",
                         (unsigned long long)frame, f->src_port, f->dst_port, consumed, err.msg);
        } else if (on_fix_message(w, &w->msg, ts_ns, frame) != 0) {
            return -1;
        }
        used += consumed;
    }
    memmove(f->pending, f->pending + used, f->n_pending - used);
    f->n_pending -= used;
    return 0;
}

/* Adds in-order stream bytes to a direction and parses what they complete. */
static int stream_append(ht_wire *w, tcp_flow *f, const uint8_t *bytes, size_t len, uint64_t ts_ns,
                         uint64_t frame)
{
    f->next_seq += (uint32_t)len;
    if (f->n_pending + len > MAX_PENDING_BYTES) {
        w->rep.fix_bad++;
        note_problem(w, "frame %llu: TCP %u->%u: %zu bytes without a whole FIX message dropped",
                     (unsigned long long)frame, f->src_port, f->dst_port, f->n_pending);
        f->n_pending = 0;
    }
    if (f->n_pending + len > f->cap_pending) {
        size_t cap = f->cap_pending ? f->cap_pending : 4096;
        while (cap < f->n_pending + len)
            cap *= 2;
        char *grown = realloc(f->pending, cap);
        if (!grown)
            return -1;
        f->pending = grown;
        f->cap_pending = cap;
    }
    memcpy(f->pending + f->n_pending, bytes, len);
    f->n_pending += len;
    return parse_pending(w, f, ts_ns, frame);
}

/* Signed distance from b to a in sequence space (RFC 793 arithmetic). */
static int32_t seq_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

/* Appends the held segments that now continue the stream, in order; drops those wholly behind it. */
static int drain_ahead(ht_wire *w, tcp_flow *f)
{
    bool progress = true;
    while (progress) {
        progress = false;
        for (unsigned i = 0; i < f->n_ahead; i++) {
            ahead_seg s = f->ahead[i];
            if (seq_diff(s.seq, f->next_seq) > 0)
                continue;
            f->ahead[i] = f->ahead[--f->n_ahead];
            progress = true;
            int32_t skip = seq_diff(f->next_seq, s.seq);
            int rc = 0;
            if ((uint32_t)skip < s.len)
                rc = stream_append(w, f, s.bytes + skip, s.len - (uint32_t)skip, s.ts_ns, s.frame);
            free(s.bytes);
            if (rc != 0)
                return rc;
            break;
        }
    }
    return 0;
}

/* A hole that will not be filled: the stream resumes at the earliest held segment; the bytes pending (a
 * message missing its middle) are dropped. */
static int skip_hole(ht_wire *w, tcp_flow *f)
{
    unsigned first = 0;
    for (unsigned i = 1; i < f->n_ahead; i++)
        if (seq_diff(f->ahead[i].seq, f->ahead[first].seq) < 0)
            first = i;
    w->rep.tcp_holes++;
    note_problem(w, "frame %llu: TCP %u->%u: %u bytes never captured before it; the stream resumes there",
                 (unsigned long long)f->ahead[first].frame, f->src_port, f->dst_port,
                 (unsigned)seq_diff(f->ahead[first].seq, f->next_seq));
    f->next_seq = f->ahead[first].seq;
    f->n_pending = 0;
    return drain_ahead(w, f);
}

static int place_segment(ht_wire *w, tcp_flow *f, uint32_t seq, const uint8_t *bytes, size_t len, uint64_t ts_ns,
                         uint64_t frame);

/* Holds a segment that arrived ahead of a hole (a copy: the capture's buffer is reused). */
static int hold_ahead(ht_wire *w, tcp_flow *f, uint32_t seq, const uint8_t *bytes, size_t len, uint64_t ts_ns,
                      uint64_t frame)
{
    for (unsigned i = 0; i < f->n_ahead; i++) {
        if (f->ahead[i].seq == seq && f->ahead[i].len >= len) {
            w->rep.tcp_retransmitted++;
            return 0;
        }
    }
    if (f->n_ahead == MAX_AHEAD) {
        /* Too much held: the hole is lost. The stream resumes past it, and this segment takes its place there. */
        int rc = skip_hole(w, f);
        return rc != 0 ? rc : place_segment(w, f, seq, bytes, len, ts_ns, frame);
    }
    uint8_t *copy = malloc(len);
    if (!copy)
        return -1;
    memcpy(copy, bytes, len);
    f->ahead[f->n_ahead++] = (ahead_seg){.seq = seq, .len = (uint32_t)len, .ts_ns = ts_ns, .frame = frame,
                                         .bytes = copy};
    return 0;
}

/* Puts one TCP segment's data (seq, bytes) in its place in a direction's stream: appended, held ahead of a
 * hole, or (the part already seen) dropped as retransmitted. */
static int place_segment(ht_wire *w, tcp_flow *f, uint32_t seq, const uint8_t *bytes, size_t len, uint64_t ts_ns,
                         uint64_t frame)
{
    int32_t ahead = seq_diff(seq, f->next_seq);
    if (ahead > 0)
        return hold_ahead(w, f, seq, bytes, len, ts_ns, frame);
    if (ahead < 0) {
        uint32_t seen = f->next_seq - seq;
        w->rep.tcp_retransmitted++;
        if (seen >= len)
            return 0;
        bytes += seen;
        len -= seen;
    }
    int rc = stream_append(w, f, bytes, len, ts_ns, frame);
    return rc != 0 ? rc : drain_ahead(w, f);
}

/* The direction of a segment, made on first sight; NULL when HT_WIRE_MAX_FLOWS are followed already. */
static tcp_flow *flow_of(ht_wire *w, const ht_nic_ipv4 *ip, uint16_t src_port, uint16_t dst_port)
{
    for (unsigned i = 0; i < w->n_flows; i++) {
        tcp_flow *f = &w->flows[i];
        if (f->src_addr == ip->src_addr && f->dst_addr == ip->dst_addr && f->src_port == src_port &&
            f->dst_port == dst_port)
            return f;
    }
    if (w->n_flows == HT_WIRE_MAX_FLOWS)
        return NULL;
    tcp_flow *f = &w->flows[w->n_flows++];
    w->rep.tcp_flows++;
    f->src_addr = ip->src_addr;
    f->dst_addr = ip->dst_addr;
    f->src_port = src_port;
    f->dst_port = dst_port;
    return f;
}

/* Forgets a direction's stream: its held segments and pending bytes. */
static void flow_restart(tcp_flow *f)
{
    for (unsigned j = 0; j < f->n_ahead; j++)
        free(f->ahead[j].bytes);
    f->n_ahead = 0;
    f->n_pending = 0;
}

/* True when a TCP port pair is order flow by the config. */
static bool is_fix_port(const ht_wire_config *cfg, uint16_t a, uint16_t b)
{
    if (cfg->n_fix_ports == 0)
        return true;
    for (unsigned i = 0; i < cfg->n_fix_ports; i++)
        if (cfg->fix_ports[i] == a || cfg->fix_ports[i] == b)
            return true;
    return false;
}

/* A TCP segment: its data goes into its direction's stream. */
static int on_tcp(ht_wire *w, const ht_nic_ipv4 *ip, uint64_t ts_ns, uint64_t frame)
{
    if (ip->l4_len < 20 || (size_t)(ip->l4[12] >> 4) * 4 < 20 || (size_t)(ip->l4[12] >> 4) * 4 > ip->l4_len) {
        w->rep.truncated++;
        note_problem(w, "frame %llu: TCP header cut short or its data offset lies", (unsigned long long)frame);
        return 0;
    }
    uint16_t src_port = load_be16(ip->l4), dst_port = load_be16(ip->l4 + 2);
    if (!is_fix_port(&w->cfg, src_port, dst_port)) {
        w->rep.other++;
        return 0;
    }
    uint32_t seq = load_be32(ip->l4 + 4);
    size_t hdr = (size_t)(ip->l4[12] >> 4) * 4;
    const uint8_t flags = ip->l4[13];
    tcp_flow *f = flow_of(w, ip, src_port, dst_port);
    if (!f) {
        w->rep.tcp_flows_dropped++;
        return 0;
    }
    if (flags & 0x02) { /* SYN: the stream starts after it (a new connection on the same ports starts over) */
        if (!f->synced || f->next_seq != seq + 1)
            flow_restart(f);
        f->synced = true;
        f->next_seq = seq + 1;
        seq++;
    }
    if (ip->l4_len == hdr)
        return 0;
    w->rep.tcp_segments++;
    if (!f->synced) { /* the capture started after the handshake */
        f->synced = true;
        f->next_seq = seq;
    }
    return place_segment(w, f, seq, ip->l4 + hdr, ip->l4_len - hdr, ts_ns, frame);
}

int ht_wire_on_frame(ht_wire *w, int linktype, uint64_t ts_ns, uint64_t frame, const uint8_t *data, size_t caplen)
{
    w->rep.frames++;
    ht_nic_ipv4 ip;
    switch (ht_nic_parse_frame_ipv4(linktype, data, caplen, &ip)) {
    case HT_NIC_PARSE_OK:
        break;
    case HT_NIC_PARSE_FRAGMENT:
        w->rep.fragments++;
        note_problem(w, "frame %llu: an IPv4 fragment (not reassembled)", (unsigned long long)frame);
        return 0;
    case HT_NIC_PARSE_TRUNCATED:
        w->rep.truncated++;
        note_problem(w, "frame %llu: %zu bytes captured, fewer than its headers say", (unsigned long long)frame,
                     caplen);
        return 0;
    default:
        w->rep.not_ip++;
        return 0;
    }
    if (ip.protocol == 6)
        return on_tcp(w, &ip, ts_ns, frame);
    if (ip.protocol != 17) {
        w->rep.other++;
        return 0;
    }
    uint16_t udp_len = ip.l4_len >= 8 ? load_be16(ip.l4 + 4) : 0;
    if (udp_len < 8 || udp_len > ip.l4_len) {
        w->rep.truncated++;
        note_problem(w, "frame %llu: UDP length %u does not fit its IP datagram", (unsigned long long)frame,
                     udp_len);
        return 0;
    }
    if (!ht_nic_filter_match(&w->cfg.md, ip.dst_addr, load_be16(ip.l4 + 2))) {
        w->rep.other++;
        return 0;
    }
    return on_md(w, ip.l4 + 8, (size_t)udp_len - 8, ts_ns, frame);
}

/* Orders gaps for the percentiles. */
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least ceil(permille * n / 1000) values at or below it. */
static uint64_t nearest_rank(const uint64_t *sorted, size_t n, unsigned permille)
{
    size_t rank = (size_t)(((uint64_t)permille * n + 999) / 1000);
    return sorted[rank ? rank - 1 : 0];
}

/* Matches each order to the first capture of its trigger and fills the percentiles. */
static void match_orders(ht_wire *w)
{
    uint64_t *gaps = w->n_orders ? malloc(w->n_orders * sizeof *gaps) : NULL;
    size_t n = 0;
    for (size_t i = 0; i < w->n_orders; i++) {
        const wire_order *o = &w->orders[i];
        const md_slot *md = w->md_cap && o->seq <= UINT32_MAX ? md_slot_of(w, md_key(o->channel, o->seq)) : NULL;
        if (!md || !md->frame) {
            w->rep.trigger_not_seen++;
        } else if (md->frame > o->frame || md->ts_ns > o->ts_ns) {
            w->rep.trigger_after_order++;
        } else {
            w->rep.matched++;
            if (gaps)
                gaps[n++] = o->ts_ns - md->ts_ns;
        }
    }
    if (n == 0) {
        free(gaps);
        return;
    }
    qsort(gaps, n, sizeof *gaps, cmp_u64);
    w->rep.min_ns = gaps[0];
    w->rep.p50_ns = nearest_rank(gaps, n, 500);
    w->rep.p90_ns = nearest_rank(gaps, n, 900);
    w->rep.p99_ns = nearest_rank(gaps, n, 990);
    w->rep.p999_ns = nearest_rank(gaps, n, 999);
    w->rep.max_ns = gaps[n - 1];
    free(gaps);
}

void ht_wire_finish(ht_wire *w, ht_wire_report *rep)
{
    for (unsigned i = 0; i < w->n_flows; i++)
        while (w->flows[i].n_ahead > 0)
            if (skip_hole(w, &w->flows[i]) != 0)
                break;
    match_orders(w);
    *rep = w->rep;
}

void ht_wire_destroy(ht_wire *w)
{
    if (!w)
        return;
    for (unsigned i = 0; i < w->n_flows; i++) {
        flow_restart(&w->flows[i]);
        free(w->flows[i].pending);
    }
    free(w->md);
    free(w->orders);
    free(w);
}

void ht_wire_report_json(FILE *out, const ht_wire_report *r)
{
    fprintf(out,
            "\"orders\":%" PRIu64 ",\"matched\":%" PRIu64 ",\"unmatched\":{\"no_trigger\":%" PRIu64
            ",\"bad_trigger\":%" PRIu64 ",\"trigger_not_seen\":%" PRIu64 ",\"trigger_after_order\":%" PRIu64 "}",
            r->orders, r->matched, r->no_trigger, r->bad_trigger, r->trigger_not_seen, r->trigger_after_order);
    if (r->matched)
        fprintf(out,
                ",\"tick_to_wire_ns\":{\"min\":%" PRIu64 ",\"p50\":%" PRIu64 ",\"p90\":%" PRIu64 ",\"p99\":%" PRIu64
                ",\"p999\":%" PRIu64 ",\"max\":%" PRIu64 "}",
                r->min_ns, r->p50_ns, r->p90_ns, r->p99_ns, r->p999_ns, r->max_ns);
    else
        fputs(",\"tick_to_wire_ns\":null", out);
}

/* Reads every frame of an open capture into w. 0, or -1 with err. */
static int read_frames(ht_wire *w, pcap_t *pcap, int linktype, const char *path, ht_error *err)
{
    struct pcap_pkthdr *hdr;
    const u_char *data;
    uint64_t frame = 0;
    int rc;
    while ((rc = pcap_next_ex(pcap, &hdr, &data)) == 1) {
        uint64_t ts_ns = (uint64_t)hdr->ts.tv_sec * 1000000000ull + (uint64_t)hdr->ts.tv_usec;
        if (ht_wire_on_frame(w, linktype, ts_ns, ++frame, data, hdr->caplen) != 0)
            return ht_error_set(err, "%s: out of memory at frame %llu", path, (unsigned long long)frame);
    }
    if (rc != PCAP_ERROR_BREAK)
        return ht_error_set(err, "%s: read error after frame %llu: %s", path, (unsigned long long)frame,
                            pcap_geterr(pcap));
    return 0;
}

int ht_wire_analyse_file(const char *path, const ht_wire_config *cfg, ht_wire_report *rep, ht_error *err)
{
    memset(rep, 0, sizeof *rep);
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pcap = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!pcap)
        return ht_error_set(err, "%s: cannot read as pcap/pcapng: %s", path, errbuf);
    int linktype = pcap_datalink(pcap);
    if (!ht_nic_linktype_supported(linktype)) {
        const char *name = pcap_datalink_val_to_name(linktype);
        ht_error_set(err, "%s: link type %d (%s) is not supported (Ethernet, raw IPv4, Linux cooked and loopback are)",
                     path, linktype, name ? name : "unnamed");
        pcap_close(pcap);
        return -1;
    }
    ht_wire *w = ht_wire_create(cfg, err);
    if (!w) {
        pcap_close(pcap);
        return -1;
    }
    int rc = read_frames(w, pcap, linktype, path, err);
    ht_wire_finish(w, rep);
    ht_wire_destroy(w);
    pcap_close(pcap);
    return rc;
}
