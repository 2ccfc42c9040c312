/* SPDX-License-Identifier: MIT */
/* The wire ingest's C model (see wire_model.h): each function names the RTL block of fpga/rtl/ht_wire.sv it
 * mirrors. Every decision of a cycle reads the state as it was before the cycle's edge. */
#include "wire_model.h"

#include <string.h>

/* Bytes each walk item needs before it is read. */
static const uint8_t g_item_len[HT_WIRE_ITEM_DONE + 1] = {14, 4, 20, 8, 8, 12, 24, 8, 1, 0};

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const uint8_t *p) { return le16(p) | le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

bool ht_wire_price_to_fx(uint64_t bits, int64_t *out)
{
    unsigned exp = (unsigned)(bits >> 52) & 0x7FFu;
    uint64_t mant = bits & ((UINT64_C(1) << 52) - 1);
    *out = 0;
    /* Positive, not zero, below 2^31 (which also leaves out infinities and NaNs, exponent 0x7FF). */
    if ((bits >> 63) != 0 || exp >= 1023u + 31u || (exp == 0 && mant == 0))
        return false;
    uint64_t m = exp != 0 ? mant | UINT64_C(1) << 52 : mant;
    int shift = (int)(exp != 0 ? exp : 1u) - 1043; /* value * 2^32 = m * 2^shift */
    if (shift >= 0) {
        *out = (int64_t)(m << shift); /* shift <= 10: below 2^63 */
    } else {
        int s = -shift;
        *out = s >= 64 ? 0 : (int64_t)((m + (UINT64_C(1) << (s - 1))) >> s); /* nearest, ties up */
    }
    return true;
}

void ht_wire_model_reset(ht_wire_model *m)
{
    memset(m, 0, sizeof *m);
    m->rx_half = 1; /* the first frame goes to half 0, where the walk starts */
}

static void rearm_channel(ht_wire_model *m, unsigned k)
{
    m->chan_stale[k] = false;
    m->chan_synced[k] = false;
    m->chan_next[k] = 0;
}

/* ---- rx: the beat into the frame buffer, the header checksum --------------------------------------------- */

static void rx_beat(ht_wire_model *m, const ht_wire_beat *b)
{
    if (!m->in_frame) {
        m->rx_half ^= 1u;
        ht_wire_rx *n = &m->rx[m->rx_half];
        n->started = true;
        n->ended = false;
        n->mac_error = false;
        n->enabled = m->enable;
        n->len = 0;
        n->vlan = false;
        n->ihl = 0;
        n->csum = 0;
    }
    ht_wire_rx *r = &m->rx[m->rx_half];
    unsigned run = 0; /* bytes: the run of ones from TKEEP bit 0 */
    while (run < 8 && (b->keep >> run & 1u))
        run++;
    bool keep_ok = (b->keep >> run) == 0 && (b->last || run == 8);
    uint32_t off = r->len;
    if (off < HT_PIPE_WIRE_FRAME_MAX)
        memcpy(r->buf + off, b->data, 8);
    /* The IPv4 header's words: the EtherType decides where it starts (14, or 18 after a tag), its first byte
     * how long it is; both are taken from this beat when it carries them. */
    bool vlan = r->vlan;
    unsigned ihl = r->ihl;
    if (off == 8) {
        vlan = be16(b->data + 4) == 0x8100u;
        if (!vlan)
            ihl = b->data[6] & 0xFu;
    } else if (off == 16 && vlan) {
        ihl = b->data[2] & 0xFu;
    }
    uint32_t ip = vlan ? 18u : 14u;
    for (unsigned j = 0; j < 4; j++) {
        uint32_t o = off + 2 * j;
        if (o >= ip && o < ip + 4 * ihl)
            r->csum += be16(b->data + 2 * j);
    }
    r->vlan = vlan;
    r->ihl = (uint8_t)ihl;
    uint32_t add = b->last ? run : 8u;
    r->len = r->len + add > 0xFFFFu ? 0xFFFFu : r->len + add;
    if (!keep_ok || (b->last && b->user))
        r->mac_error = true;
    if (b->last)
        r->ended = true;
    m->in_frame = !b->last;
}

/* ---- walk: one item per cycle ------------------------------------------------------------------------------ */

static void walk_stop(ht_wire_model *m, unsigned reason)
{
    m->reason = reason;
    m->item = HT_WIRE_ITEM_DONE;
}

static void go_msg(ht_wire_model *m, uint64_t at)
{
    if (at == m->pkt_end)
        m->item = HT_WIRE_ITEM_DONE;
    else if (at + 12 > m->pkt_end)
        walk_stop(m, HT_PIPE_WIRE_CNT_SBE);
    else {
        m->item = HT_WIRE_ITEM_MSG;
        m->cur = (uint32_t)at;
    }
}

/* After a message's block, or a group, or a var-data field: its next group, var data, or the next message. */
static void go_after(ht_wire_model *m, uint64_t at)
{
    if (m->groups_left != 0) {
        if (at + 8 > m->pkt_end)
            return walk_stop(m, HT_PIPE_WIRE_CNT_SBE);
        m->item = HT_WIRE_ITEM_GROUP;
        m->cur = (uint32_t)at;
    } else if (m->vars_left != 0) {
        if (at + 1 > m->pkt_end)
            return walk_stop(m, HT_PIPE_WIRE_CNT_SBE);
        m->item = HT_WIRE_ITEM_VAR;
        m->cur = (uint32_t)at;
    } else {
        go_msg(m, at);
    }
}

static void item_udp(ht_wire_model *m, const ht_wire_rx *r, const uint8_t *p)
{
    uint32_t sum = r->csum;
    sum = (sum & 0xFFFFu) + (sum >> 16);
    sum = (sum & 0xFFFFu) + (sum >> 16);
    if (sum != 0xFFFFu)
        return walk_stop(m, HT_PIPE_WIRE_CNT_IP_CHECKSUM);
    if ((m->ip_frag & 0x3FFFu) != 0)
        return walk_stop(m, HT_PIPE_WIRE_CNT_FRAGMENT);
    if (m->ip_proto != 17)
        return walk_stop(m, HT_PIPE_WIRE_CNT_NOT_UDP);
    uint32_t port = be16(p + 2);
    bool pass = false;
    for (unsigned i = 0; i < HT_PIPE_WIRE_FILTERS; i++)
        pass |= m->filter_port[i] != 0 && m->filter_port[i] == port && m->filter_addr[i] == m->ip_dst;
    if (!pass)
        return walk_stop(m, HT_PIPE_WIRE_CNT_FILTER);
    m->udp_len = (uint16_t)be16(p + 4);
    uint32_t hdr = 4u * m->ihl;
    if (m->ip_total < hdr + 8 || m->udp_len < 16 || m->udp_len > m->ip_total - hdr)
        return walk_stop(m, HT_PIPE_WIRE_CNT_LENGTH);
    m->item = HT_WIRE_ITEM_FRAME;
    m->cur += 8;
}

static void item_frame(ht_wire_model *m, const uint8_t *p)
{
    uint32_t plen = le16(p);
    m->channel = (uint16_t)le16(p + 2);
    m->seq = le32(p + 4);
    if (8 + plen > (uint32_t)m->udp_len - 8)
        return walk_stop(m, HT_PIPE_WIRE_CNT_LENGTH);
    m->pkt_end = m->cur + 8 + plen;
    unsigned k = HT_PIPE_WIRE_CHANNELS;
    for (unsigned i = HT_PIPE_WIRE_CHANNELS; i-- > 0;)
        if ((m->chan_enable >> i & 1u) && m->chan_id[i] == m->channel)
            k = i;
    if (k == HT_PIPE_WIRE_CHANNELS)
        return walk_stop(m, HT_PIPE_WIRE_CNT_CHANNEL);
    m->chan_slot = k;
    if (m->chan_stale[k])
        return walk_stop(m, HT_PIPE_WIRE_CNT_STALE);
    if (m->chan_synced[k] && m->seq != m->chan_next[k]) {
        uint32_t d = m->seq - m->chan_next[k];
        if (m->seq == 0 || d < UINT32_C(0x80000000)) {
            m->gap = true;
            return walk_stop(m, HT_PIPE_WIRE_CNT_STALE);
        }
        return walk_stop(m, HT_PIPE_WIRE_CNT_OLD_SEQ);
    }
    go_msg(m, (uint64_t)m->cur + 8);
}

static void item_msg(ht_wire_model *m, const uint8_t *p)
{
    uint32_t bl = le16(p), tid = le16(p + 2), sid = le16(p + 4), ver = le16(p + 6);
    uint64_t body = (uint64_t)m->cur + 12;
    if (body + bl > m->pkt_end)
        return walk_stop(m, HT_PIPE_WIRE_CNT_SBE);
    m->groups_left = (uint16_t)le16(p + 8);
    m->vars_left = (uint16_t)le16(p + 10);
    m->frame_counts[HT_PIPE_WIRE_CNT_MESSAGES]++;
    bool schema = sid == 1 && ver >= 1 && ver <= 3;
    if (!schema)
        m->frame_counts[HT_PIPE_WIRE_CNT_UNKNOWN_SCHEMA]++;
    else if (tid < 1000 || tid > 1010)
        m->frame_counts[HT_PIPE_WIRE_CNT_UNKNOWN_TEMPLATE]++;
    if (schema && tid == 1008) {
        if (bl < 32)
            return walk_stop(m, HT_PIPE_WIRE_CNT_SBE);
        m->frame_counts[HT_PIPE_WIRE_CNT_INDEX]++;
        m->msg_block = (uint16_t)bl;
        m->msg_body = (uint32_t)body;
        m->item = HT_WIRE_ITEM_INDEX;
        m->cur = (uint32_t)body;
        return;
    }
    go_after(m, body + bl);
}

static void item_index(ht_wire_model *m, const uint8_t *p, uint32_t rd)
{
    unsigned u = HT_PIPE_UNDERLYINGS;
    for (unsigned i = HT_PIPE_UNDERLYINGS; i-- > 0;)
        if ((m->name_enable >> i & 1u) && memcmp(m->name[i], p, HT_PIPE_WIRE_NAME_BYTES) == 0)
            u = i;
    int64_t fx;
    bool price_ok = ht_wire_price_to_fx(le64(p + 16), &fx);
    if (u == HT_PIPE_UNDERLYINGS)
        m->frame_counts[HT_PIPE_WIRE_CNT_UNMAPPED]++;
    else if (!price_ok)
        m->frame_counts[HT_PIPE_WIRE_CNT_BAD_PRICE]++;
    else if (m->wr - rd >= HT_PIPE_WIRE_TICK_FIFO)
        m->frame_counts[HT_PIPE_WIRE_CNT_TICK_OVERFLOW]++;
    else {
        ht_wire_tick *t = &m->fifo[m->wr % HT_PIPE_WIRE_TICK_FIFO];
        t->underlying = (uint8_t)u;
        t->seq = (uint64_t)m->channel << 32 | m->seq;
        t->price = fx;
        m->wr++;
    }
    go_after(m, (uint64_t)m->msg_body + m->msg_block);
}

static void item_group(ht_wire_model *m, const uint8_t *p)
{
    uint64_t end = (uint64_t)m->cur + 8 + (uint64_t)le16(p) * le16(p + 2);
    if (le16(p + 4) != 0 || le16(p + 6) != 0 || end > m->pkt_end)
        return walk_stop(m, HT_PIPE_WIRE_CNT_SBE);
    m->groups_left--;
    go_after(m, end);
}

static void item_var(ht_wire_model *m, const uint8_t *p)
{
    uint64_t end = (uint64_t)m->cur + 1 + p[0];
    if (end > m->pkt_end)
        return walk_stop(m, HT_PIPE_WIRE_CNT_SBE);
    m->vars_left--;
    go_after(m, end);
}

/* Reads the item at m->cur (its bytes are in) and moves to the next. */
static void walk_item(ht_wire_model *m, const ht_wire_rx *r, uint32_t rd)
{
    const uint8_t *p = r->buf + m->cur;
    switch (m->item) {
    case HT_WIRE_ITEM_ETH:
    case HT_WIRE_ITEM_VLAN: {
        uint32_t et = be16(p + (m->item == HT_WIRE_ITEM_ETH ? 12 : 2));
        uint32_t next = m->cur + g_item_len[m->item];
        if (m->item == HT_WIRE_ITEM_ETH && et == 0x8100u) {
            m->item = HT_WIRE_ITEM_VLAN;
            m->cur = next;
        } else if (et == 0x0800u) {
            m->item = HT_WIRE_ITEM_IP;
            m->ip = m->cur = next;
        } else {
            walk_stop(m, HT_PIPE_WIRE_CNT_NOT_IPV4);
        }
        break;
    }
    case HT_WIRE_ITEM_IP:
        if ((p[0] >> 4) != 4 || (p[0] & 0xFu) < 5)
            return walk_stop(m, HT_PIPE_WIRE_CNT_IP_HEADER);
        m->ihl = p[0] & 0xFu;
        m->ip_total = (uint16_t)be16(p + 2);
        m->ip_frag = (uint16_t)be16(p + 6);
        m->ip_proto = p[9];
        m->ip_dst = be16(p + 16) << 16 | be16(p + 18);
        m->item = HT_WIRE_ITEM_UDP;
        m->cur += 4u * m->ihl;
        break;
    case HT_WIRE_ITEM_UDP: item_udp(m, r, p); break;
    case HT_WIRE_ITEM_FRAME: item_frame(m, p); break;
    case HT_WIRE_ITEM_MSG: item_msg(m, p); break;
    case HT_WIRE_ITEM_INDEX: item_index(m, p, rd); break;
    case HT_WIRE_ITEM_GROUP: item_group(m, p); break;
    case HT_WIRE_ITEM_VAR: item_var(m, p); break;
    default: break;
    }
}

/* The frame's fate: counted once, its ticks committed or taken back, the walk on to the other half. */
static void decide(ht_wire_model *m, unsigned reason)
{
    m->counters[HT_PIPE_WIRE_CNT_FRAMES]++;
    if (reason == 0) {
        m->counters[HT_PIPE_WIRE_CNT_FRAMES_OK]++;
        for (unsigned c = HT_PIPE_WIRE_CNT_MESSAGES; c < HT_PIPE_WIRE_COUNTERS; c++)
            m->counters[c] += m->frame_counts[c];
        m->commit = m->wr;
        m->chan_synced[m->chan_slot] = true;
        m->chan_next[m->chan_slot] = m->seq + 1;
    } else {
        m->counters[reason]++;
        m->wr = m->commit;
        if (reason == HT_PIPE_WIRE_CNT_STALE && m->gap) {
            m->chan_stale[m->chan_slot] = true;
            m->counters[HT_PIPE_WIRE_CNT_GAPS]++;
        }
    }
    m->rx[m->walk_half].started = false;
    m->rx[m->walk_half].ended = false;
    m->walk_half ^= 1u;
    m->item = HT_WIRE_ITEM_ETH;
    m->cur = 0;
    m->reason = 0;
    m->gap = false;
    memset(m->frame_counts, 0, sizeof m->frame_counts);
}

/* True when the walk's item has all its bytes in the buffer. */
static bool item_fits(const ht_wire_model *m)
{
    const ht_wire_rx *r = &m->rx[m->walk_half];
    uint32_t avail = r->len < HT_PIPE_WIRE_FRAME_MAX ? r->len : HT_PIPE_WIRE_FRAME_MAX;
    return m->item != HT_WIRE_ITEM_DONE && (uint64_t)m->cur + g_item_len[m->item] <= avail;
}

static void walk_cycle(ht_wire_model *m, uint32_t rd)
{
    const ht_wire_rx *r = &m->rx[m->walk_half];
    if (!r->started)
        return;
    if (item_fits(m)) {
        walk_item(m, r, rd);
        return;
    }
    if (!r->ended)
        return; /* waiting for the item's bytes */
    /* The frame has ended and the walk is over or cannot go on. */
    unsigned reason;
    if (!r->enabled)
        reason = HT_PIPE_WIRE_CNT_DISABLED;
    else if (r->mac_error)
        reason = HT_PIPE_WIRE_CNT_MAC_ERROR;
    else if (r->len > HT_PIPE_WIRE_FRAME_MAX)
        reason = HT_PIPE_WIRE_CNT_TOO_LONG;
    else if (m->item != HT_WIRE_ITEM_DONE)
        reason = HT_PIPE_WIRE_CNT_SHORT;
    else if (m->reason != 0)
        reason = m->reason;
    else if (m->ip + (uint32_t)m->ip_total > r->len)
        reason = HT_PIPE_WIRE_CNT_SHORT;
    else
        reason = 0;
    decide(m, reason);
}

bool ht_wire_model_cycle(ht_wire_model *m, const ht_wire_beat *beat, ht_wire_tick *tick)
{
    /* Everything below reads the state before the edge: rd and commit as they were. */
    uint32_t rd = m->rd, commit = m->commit;
    bool out = false;
    if (rd != commit) {
        *tick = m->fifo[rd % HT_PIPE_WIRE_TICK_FIFO];
        m->rd = rd + 1;
        m->counters[HT_PIPE_WIRE_CNT_TICKS]++;
        out = true;
    }
    bool overrun = beat != NULL && !m->in_frame && m->rx[m->rx_half ^ 1u].started;
    if (overrun)
        decide(m, HT_PIPE_WIRE_CNT_OVERRUN);
    else
        walk_cycle(m, rd);
    if (beat != NULL)
        rx_beat(m, beat);
    return out;
}

bool ht_wire_model_busy(const ht_wire_model *m)
{
    return m->in_frame || m->rx[0].started || m->rx[1].started || m->rd != m->commit;
}

bool ht_wire_model_active(const ht_wire_model *m)
{
    const ht_wire_rx *r = &m->rx[m->walk_half];
    return (r->started && (item_fits(m) || r->ended)) || m->rd != m->commit;
}

void ht_wire_model_write(ht_wire_model *m, uint32_t addr, uint32_t value)
{
    if (addr == HT_PIPE_WIRE_REG_CTRL) {
        m->enable = (value & 1u) != 0;
    } else if (addr == HT_PIPE_WIRE_REG_CHAN_REARM) {
        for (unsigned k = 0; k < HT_PIPE_WIRE_CHANNELS; k++)
            if (value >> k & 1u)
                rearm_channel(m, k);
    } else if (addr == HT_PIPE_WIRE_REG_CHAN_ENABLE) {
        m->chan_enable = value & ((1u << HT_PIPE_WIRE_CHANNELS) - 1);
        for (unsigned k = 0; k < HT_PIPE_WIRE_CHANNELS; k++)
            rearm_channel(m, k);
    } else if (addr == HT_PIPE_WIRE_REG_NAME_ENABLE) {
        m->name_enable = value & 0xFFFFu;
    } else if (addr >= HT_PIPE_WIRE_REG_CHAN_ID && addr < HT_PIPE_WIRE_REG_CHAN_ID + 4 * HT_PIPE_WIRE_CHANNELS &&
               addr % 4 == 0) {
        unsigned k = (addr - HT_PIPE_WIRE_REG_CHAN_ID) / 4;
        m->chan_id[k] = (uint16_t)value;
        rearm_channel(m, k);
    } else if (addr >= HT_PIPE_WIRE_REG_FILTER && addr < HT_PIPE_WIRE_REG_FILTER + 8 * HT_PIPE_WIRE_FILTERS &&
               addr % 4 == 0) {
        unsigned i = (addr - HT_PIPE_WIRE_REG_FILTER) / 8;
        if (addr % 8 == 0)
            m->filter_addr[i] = value;
        else
            m->filter_port[i] = (uint16_t)value;
    } else if (addr >= HT_PIPE_WIRE_REG_NAME &&
               addr < HT_PIPE_WIRE_REG_NAME + HT_PIPE_WIRE_NAME_BYTES * HT_PIPE_UNDERLYINGS && addr % 4 == 0) {
        unsigned u = (addr - HT_PIPE_WIRE_REG_NAME) / HT_PIPE_WIRE_NAME_BYTES;
        unsigned j = (addr - HT_PIPE_WIRE_REG_NAME) % HT_PIPE_WIRE_NAME_BYTES;
        for (unsigned b = 0; b < 4; b++)
            m->name[u][j + b] = (uint8_t)(value >> (8 * b));
    }
}

uint32_t ht_wire_model_read(const ht_wire_model *m, uint32_t addr)
{
    if (addr % 4 != 0)
        return 0;
    switch (addr) {
    case HT_PIPE_WIRE_REG_ID: return HT_PIPE_WIRE_ID_MAGIC;
    case HT_PIPE_WIRE_REG_VERSION: return HT_PIPE_WIRE_VERSION;
    case HT_PIPE_WIRE_REG_CTRL: return m->enable ? 1u : 0u;
    case HT_PIPE_WIRE_REG_CHAN_ENABLE: return m->chan_enable;
    case HT_PIPE_WIRE_REG_NAME_ENABLE: return m->name_enable;
    case HT_PIPE_WIRE_REG_BUSY: return ht_wire_model_busy(m) ? 1u : 0u;
    case HT_PIPE_WIRE_REG_CHAN_STALE: {
        uint32_t v = 0;
        for (unsigned k = 0; k < HT_PIPE_WIRE_CHANNELS; k++)
            v |= (m->chan_stale[k] ? 1u : 0u) << k;
        return v;
    }
    default: break;
    }
    if (addr >= HT_PIPE_WIRE_REG_CHAN_ID && addr < HT_PIPE_WIRE_REG_CHAN_ID + 4 * HT_PIPE_WIRE_CHANNELS)
        return m->chan_id[(addr - HT_PIPE_WIRE_REG_CHAN_ID) / 4];
    if (addr >= HT_PIPE_WIRE_REG_CHAN_NEXT && addr < HT_PIPE_WIRE_REG_CHAN_NEXT + 4 * HT_PIPE_WIRE_CHANNELS)
        return m->chan_next[(addr - HT_PIPE_WIRE_REG_CHAN_NEXT) / 4];
    if (addr >= HT_PIPE_WIRE_REG_FILTER && addr < HT_PIPE_WIRE_REG_FILTER + 8 * HT_PIPE_WIRE_FILTERS) {
        unsigned i = (addr - HT_PIPE_WIRE_REG_FILTER) / 8;
        return addr % 8 == 0 ? m->filter_addr[i] : m->filter_port[i];
    }
    if (addr >= HT_PIPE_WIRE_REG_NAME && addr < HT_PIPE_WIRE_REG_NAME + HT_PIPE_WIRE_NAME_BYTES * HT_PIPE_UNDERLYINGS) {
        unsigned u = (addr - HT_PIPE_WIRE_REG_NAME) / HT_PIPE_WIRE_NAME_BYTES;
        unsigned j = (addr - HT_PIPE_WIRE_REG_NAME) % HT_PIPE_WIRE_NAME_BYTES;
        return le32(m->name[u] + j);
    }
    if (addr >= HT_PIPE_WIRE_REG_COUNTER && addr < HT_PIPE_WIRE_REG_COUNTER + 4 * HT_PIPE_WIRE_COUNTERS)
        return m->counters[(addr - HT_PIPE_WIRE_REG_COUNTER) / 4];
    return 0;
}
