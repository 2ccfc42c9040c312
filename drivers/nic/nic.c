/* SPDX-License-Identifier: MIT */
/* The receive interface: configuration, Ethernet/IPv4/UDP parsing, the group/port filter and dispatch. */
#include "nic_impl.h"

#include "hedgetrig/parse.h"
#include "hedgetrig/tsc.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const g_kind_names[HT_NIC_KIND_COUNT] = {"pcap", "socket", "dpdk"};

void ht_nic_config_default(ht_nic_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = HT_NIC_PCAP;
    cfg->mbufs = 8191;
}

const char *ht_nic_kind_name(ht_nic_kind kind)
{
    return (unsigned)kind < HT_NIC_KIND_COUNT ? g_kind_names[kind] : "unknown";
}

int ht_nic_kind_parse(const char *text, ht_nic_kind *kind)
{
    if (!text)
        return -1;
    if (strcmp(text, "file") == 0) {
        *kind = HT_NIC_PCAP;
        return 0;
    }
    for (unsigned i = 0; i < HT_NIC_KIND_COUNT; i++) {
        if (strcmp(text, g_kind_names[i]) == 0) {
            *kind = (ht_nic_kind)i;
            return 0;
        }
    }
    return -1;
}

bool ht_nic_kind_available(ht_nic_kind kind)
{
    switch (kind) {
    case HT_NIC_PCAP:
    case HT_NIC_SOCKET:
        return true;
    case HT_NIC_DPDK:
#ifdef HT_HAVE_DPDK
        return true;
#else
        return false;
#endif
    default:
        return false;
    }
}

/* Adds one address to the group list unless it is there already. */
static int add_group_addr(ht_nic_filter *f, uint32_t addr, const char *text, ht_error *err)
{
    for (unsigned i = 0; i < f->n_groups; i++)
        if (f->groups[i] == addr)
            return 0;
    if (f->n_groups >= HT_NIC_MAX_GROUPS)
        return ht_error_set(err, "group '%s': more than %u groups", text, HT_NIC_MAX_GROUPS);
    f->groups[f->n_groups++] = addr;
    return 0;
}

int ht_nic_filter_add_group(ht_nic_filter *f, const char *text, ht_error *err)
{
    char buf[64];
    if (!text || strlen(text) >= sizeof buf)
        return ht_error_set(err, "group '%s': expected A.B.C.D or A.B.C.D/N", text ? text : "");
    strcpy(buf, text);
    unsigned prefix = 32;
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash = '\0';
        char *end = NULL;
        unsigned long p = strtoul(slash + 1, &end, 10);
        if (end == slash + 1 || *end != '\0' || p > 32)
            return ht_error_set(err, "group '%s': prefix length must be 0..32", text);
        prefix = (unsigned)p;
    }
    struct in_addr a;
    if (inet_pton(AF_INET, buf, &a) != 1)
        return ht_error_set(err, "group '%s': expected A.B.C.D or A.B.C.D/N", text);
    uint32_t addr = ntohl(a.s_addr);
    uint64_t count = 1ull << (32 - prefix);
    if (count > HT_NIC_MAX_GROUPS)
        return ht_error_set(err, "group '%s': /%u holds %llu addresses, at most %u allowed", text, prefix,
                            (unsigned long long)count, HT_NIC_MAX_GROUPS);
    uint32_t mask = prefix == 0 ? 0 : 0xFFFFFFFFu << (32 - prefix);
    uint32_t first = addr & mask;
    for (uint64_t i = 0; i < count; i++)
        if (add_group_addr(f, first + (uint32_t)i, text, err) != 0)
            return -1;
    return 0;
}

int ht_nic_filter_add_port(ht_nic_filter *f, const char *text, ht_error *err)
{
    uint64_t port;
    if (ht_parse_u64(text, 1, 65535, 0, &port) != HT_PARSE_OK)
        return ht_error_set(err, "port '%s': expected 1..65535", text ? text : "");
    for (unsigned i = 0; i < f->n_ports; i++)
        if (f->ports[i] == port)
            return 0;
    if (f->n_ports >= HT_NIC_MAX_PORTS)
        return ht_error_set(err, "port '%s': more than %u ports", text, HT_NIC_MAX_PORTS);
    f->ports[f->n_ports++] = (uint16_t)port;
    return 0;
}

void ht_nic_filter_deribit(ht_nic_filter *f)
{
    memset(f, 0, sizeof *f);
    for (uint32_t i = 0; i <= 26; i++)
        f->groups[f->n_groups++] = (239u << 24) | (111u << 16) | (111u << 8) | i;
    f->ports[f->n_ports++] = 6100;
    f->ports[f->n_ports++] = 6101;
}

bool ht_nic_filter_match(const ht_nic_filter *f, uint32_t dst_addr, uint16_t dst_port)
{
    if (f->n_ports) {
        unsigned i = 0;
        while (i < f->n_ports && f->ports[i] != dst_port)
            i++;
        if (i == f->n_ports)
            return false;
    }
    if (f->n_groups) {
        unsigned i = 0;
        while (i < f->n_groups && f->groups[i] != dst_addr)
            i++;
        if (i == f->n_groups)
            return false;
    }
    return true;
}

/* Big-endian loads for the network headers. */
static inline uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int ht_nic_parse_ipv4_header(const uint8_t *ip, size_t len, ht_nic_ipv4 *out)
{
    if (len < 20)
        return HT_NIC_PARSE_TRUNCATED;
    if ((ip[0] >> 4) != 4)
        return HT_NIC_PARSE_NOT_UDP;
    size_t ihl = (size_t)(ip[0] & 0x0F) * 4;
    size_t total = be16(ip + 2);
    if (ihl < 20 || total < ihl)
        return HT_NIC_PARSE_NOT_UDP;
    /* More-fragments flag or a fragment offset: not a whole datagram. */
    if ((be16(ip + 6) & 0x3FFF) != 0)
        return HT_NIC_PARSE_FRAGMENT;
    if (len < total)
        return HT_NIC_PARSE_TRUNCATED;
    out->protocol = ip[9];
    out->src_addr = be32(ip + 12);
    out->dst_addr = be32(ip + 16);
    out->l4 = ip + ihl;
    out->l4_len = total - ihl;
    return HT_NIC_PARSE_OK;
}

int ht_nic_parse_ipv4(const uint8_t *ip, size_t len, ht_nic_packet *out)
{
    ht_nic_ipv4 v4;
    int rc = ht_nic_parse_ipv4_header(ip, len, &v4);
    /* Whatever is not UDP counts as not UDP before a cut or a fragment is looked at. */
    if (rc == HT_NIC_PARSE_FRAGMENT || (rc == HT_NIC_PARSE_TRUNCATED && len >= 20 && ip[9] != 17))
        return HT_NIC_PARSE_NOT_UDP;
    if (rc != HT_NIC_PARSE_OK)
        return rc;
    if (v4.protocol != 17)
        return HT_NIC_PARSE_NOT_UDP;
    if (v4.l4_len < 8)
        return HT_NIC_PARSE_TRUNCATED;
    const uint8_t *udp = v4.l4;
    size_t udp_len = be16(udp + 4);
    if (udp_len < 8 || udp_len > v4.l4_len)
        return HT_NIC_PARSE_TRUNCATED;
    out->src_addr = v4.src_addr;
    out->dst_addr = v4.dst_addr;
    out->src_port = be16(udp);
    out->dst_port = be16(udp + 2);
    out->payload = udp + 8;
    out->len = (uint32_t)(udp_len - 8);
    return HT_NIC_PARSE_OK;
}

int ht_nic_ether_ipv4(const uint8_t *frame, size_t len, size_t *ip_offset)
{
    if (len < 14)
        return HT_NIC_PARSE_TRUNCATED;
    size_t off = 12;
    uint16_t type = be16(frame + off);
    /* Up to two VLAN tags (802.1Q 0x8100, 802.1ad 0x88A8). */
    for (int tags = 0; (type == 0x8100 || type == 0x88A8) && tags < 2; tags++) {
        off += 4;
        if (len < off + 2)
            return HT_NIC_PARSE_TRUNCATED;
        type = be16(frame + off);
    }
    if (type != 0x0800)
        return HT_NIC_PARSE_NOT_UDP;
    *ip_offset = off + 2;
    return HT_NIC_PARSE_OK;
}

int ht_nic_parse_ether(const uint8_t *frame, size_t len, ht_nic_packet *out)
{
    size_t off;
    int rc = ht_nic_ether_ipv4(frame, len, &off);
    return rc != HT_NIC_PARSE_OK ? rc : ht_nic_parse_ipv4(frame + off, len - off, out);
}

int ht_nic_fail(ht_nic *nic, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(nic->last_error, sizeof nic->last_error, fmt, ap);
    va_end(ap);
    return -1;
}

#ifndef HT_HAVE_DPDK
int ht_nic_dpdk_init(const char *eal_args, ht_error *err)
{
    (void)eal_args;
    return ht_error_set(err, "dpdk: this build has no DPDK (apt-get install libdpdk-dev and reconfigure)");
}
#endif

/* The operations of a kind, or NULL when this build lacks it. */
static const ht_nic_ops *ops_for(ht_nic_kind kind)
{
    switch (kind) {
    case HT_NIC_PCAP:
        return &ht_nic_pcap_ops;
    case HT_NIC_SOCKET:
        return &ht_nic_socket_ops;
#ifdef HT_HAVE_DPDK
    case HT_NIC_DPDK:
        return &ht_nic_dpdk_ops;
#endif
    default:
        return NULL;
    }
}

ht_nic *ht_nic_open(const ht_nic_config *cfg, ht_error *err)
{
    if (!cfg) {
        ht_error_set(err, "nic: no configuration");
        return NULL;
    }
    const ht_nic_ops *ops = ops_for(cfg->kind);
    if (!ops) {
        ht_error_set(err, "nic: the %s receive path is not in this build%s", ht_nic_kind_name(cfg->kind),
                     cfg->kind == HT_NIC_DPDK ? " (DPDK was not found at configure time: apt-get install libdpdk-dev)"
                                              : "");
        return NULL;
    }
    ht_nic *nic = calloc(1, sizeof *nic);
    if (!nic) {
        ht_error_set(err, "nic: out of memory");
        return NULL;
    }
    nic->cfg = *cfg;
    if (cfg->path) {
        snprintf(nic->path, sizeof nic->path, "%s", cfg->path);
        nic->cfg.path = nic->path;
    }
    if (cfg->eal_args) {
        snprintf(nic->eal_args, sizeof nic->eal_args, "%s", cfg->eal_args);
        nic->cfg.eal_args = nic->eal_args;
    }
    if (nic->cfg.mbufs == 0)
        nic->cfg.mbufs = 8191;
    nic->ops = ops;
    if (ops->open(nic, err) != 0) {
        free(nic);
        return NULL;
    }
    return nic;
}

/* The source has ended: HT_NIC_EOF, or -1 when what it delivered is not the whole capture (a replaying vdev
 * that stopped at a frame cut short, or dropped frames) or holds no complete datagram at all. */
static int source_end(ht_nic *nic)
{
    const ht_nic_stats *st = &nic->stats;
    if (nic->cfg.kind == HT_NIC_DPDK && nic->cfg.path && nic->cfg.path[0]) {
        uint64_t frames;
        if (ht_nic_pcap_count_frames(nic, &frames) != 0)
            return -1;
        if (frames != st->frames)
            return ht_nic_fail(nic, "%s: the DPDK port delivered %llu of its %llu frames", nic->cfg.path,
                               (unsigned long long)st->frames, (unsigned long long)frames);
    }
    if (nic->cfg.kind != HT_NIC_SOCKET && st->packets == 0 && st->truncated > 0)
        return ht_nic_fail(nic, "%s: no complete datagram: %llu of its %llu frames are truncated (captured shorter "
                                "than their IP/UDP length, as with a snap length), the first is frame %llu",
                           nic->cfg.path ? nic->cfg.path : "the source", (unsigned long long)st->truncated,
                           (unsigned long long)st->frames, (unsigned long long)st->first_truncated_frame);
    return HT_NIC_EOF;
}

int ht_nic_rx_burst(ht_nic *nic, ht_nic_packet *pkts, unsigned max)
{
    if (max > HT_NIC_BURST)
        max = HT_NIC_BURST;
    if (nic->end)
        return nic->end;
    int n = nic->ops->rx_burst(nic, pkts, max);
    if (n == HT_NIC_EOF)
        return nic->end = source_end(nic);
    if (n > 0) {
        nic->stats.bursts++;
        nic->idle_since_ns = 0;
    } else if (n == 0) {
        nic->stats.empty_polls++;
        /* A live source that has gone quiet for idle_eof_ms has ended (a replaying vdev, a test sender). */
        if (nic->cfg.idle_eof_ms) {
            uint64_t now = ht_mono_ns();
            if (nic->idle_since_ns == 0)
                nic->idle_since_ns = now;
            else if (now - nic->idle_since_ns > (uint64_t)nic->cfg.idle_eof_ms * 1000000ull)
                return nic->end = source_end(nic);
        }
    }
    return n;
}

int ht_nic_deliver_frames(ht_nic *nic, ht_error *err)
{
    if (!nic->ops->frames)
        return ht_error_set(err, "the %s source gives UDP payloads, not Ethernet frames", ht_nic_kind_name(nic->cfg.kind));
    if (nic->ops->frames(nic, err) != 0)
        return -1;
    nic->frames = true;
    return 0;
}

const char *ht_nic_last_error(const ht_nic *nic)
{
    return nic->last_error;
}

const ht_nic_stats *ht_nic_stats_get(const ht_nic *nic)
{
    return &nic->stats;
}

void ht_nic_close(ht_nic *nic)
{
    if (!nic)
        return;
    nic->ops->close(nic);
    free(nic);
}
