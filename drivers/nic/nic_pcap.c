/* SPDX-License-Identifier: MIT */
/* Offline replay from a pcap or pcapng file (libpcap), at full speed or paced by the capture's timestamps. */
#include "nic_impl.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hedgetrig/tsc.h"

/* Largest UDP payload kept (bigger ones cannot exist in IPv4). */
#define SLOT_BYTES 65536u

typedef struct pcap_state {
    pcap_t *pcap;
    int linktype;
    uint8_t *arena;                        /* (HT_NIC_BURST + 1) slots of SLOT_BYTES */
    uint8_t *slots[HT_NIC_BURST + 1];      /* slot i holds the payload of output packet i */
    bool have_pending;                     /* a packet read but not yet due (paced replay) */
    ht_nic_packet pending;                 /* its description; its bytes sit in slots[pending_slot] */
    unsigned pending_slot;
    bool eof;
    bool failed;                           /* a read error, reported after the packets read before it */
    bool pace_started;
    uint64_t pace_capture_ns;              /* capture time of the first packet */
    uint64_t pace_mono_ns;                 /* monotonic time when it was returned */
    uint64_t pace_last_ns;                 /* capture time of the last packet returned */
} pcap_state;

/* Opens the capture file and the payload slots. */
static int pcap_open_file(ht_nic *nic, ht_error *err)
{
    if (!nic->cfg.path || !nic->cfg.path[0])
        return ht_error_set(err, "pcap: no file given");
    if (nic->cfg.speed < 0)
        return ht_error_set(err, "pcap: speed must be 0 (full speed) or positive, got %g", nic->cfg.speed);
    pcap_state *s = calloc(1, sizeof *s);
    if (!s)
        return ht_error_set(err, "pcap: out of memory");
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    s->pcap = pcap_open_offline_with_tstamp_precision(nic->cfg.path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!s->pcap) {
        free(s);
        return ht_error_set(err, "%s: cannot read as pcap/pcapng: %s", nic->cfg.path, errbuf);
    }
    s->linktype = pcap_datalink(s->pcap);
    if (!ht_nic_linktype_supported(s->linktype)) {
        const char *lt = pcap_datalink_val_to_name(s->linktype);
        ht_error_set(err, "%s: link type %d (%s) is not supported (Ethernet, raw IPv4, Linux cooked and loopback are)",
                     nic->cfg.path, s->linktype, lt ? lt : "unnamed");
        pcap_close(s->pcap);
        free(s);
        return -1;
    }
    s->arena = malloc((size_t)(HT_NIC_BURST + 1) * SLOT_BYTES);
    if (!s->arena) {
        pcap_close(s->pcap);
        free(s);
        return ht_error_set(err, "pcap: out of memory");
    }
    for (unsigned i = 0; i <= HT_NIC_BURST; i++)
        s->slots[i] = s->arena + (size_t)i * SLOT_BYTES;
    nic->impl = s;
    return 0;
}

bool ht_nic_linktype_supported(int linktype)
{
    switch (linktype) {
    case DLT_EN10MB:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_NULL:
        return true;
    default:
        return false;
    }
}

/* Where the IPv4 header of a captured frame of this link type starts: HT_NIC_PARSE_OK with *off, or
 * HT_NIC_PARSE_NOT_UDP (another protocol or link type) / HT_NIC_PARSE_TRUNCATED. */
static int link_ipv4_offset(int linktype, const uint8_t *data, size_t len, size_t *off)
{
    switch (linktype) {
    case DLT_EN10MB:
        return ht_nic_ether_ipv4(data, len, off);
    case DLT_RAW:
    case DLT_IPV4:
        *off = 0;
        return HT_NIC_PARSE_OK;
    case DLT_LINUX_SLL:
        if (len < 16)
            return HT_NIC_PARSE_TRUNCATED;
        *off = 16;
        return data[14] == 0x08 && data[15] == 0x00 ? HT_NIC_PARSE_OK : HT_NIC_PARSE_NOT_UDP;
    case DLT_LINUX_SLL2:
        if (len < 20)
            return HT_NIC_PARSE_TRUNCATED;
        *off = 20;
        return data[0] == 0x08 && data[1] == 0x00 ? HT_NIC_PARSE_OK : HT_NIC_PARSE_NOT_UDP;
    case DLT_NULL: {
        if (len < 4)
            return HT_NIC_PARSE_TRUNCATED;
        uint32_t family;
        memcpy(&family, data, 4);
        *off = 4;
        /* AF_INET in either byte order */
        return family == 2 || family == 0x02000000u ? HT_NIC_PARSE_OK : HT_NIC_PARSE_NOT_UDP;
    }
    default:
        return HT_NIC_PARSE_NOT_UDP;
    }
}

/* Parses one captured frame by the file's link type. */
static int parse_frame(int linktype, const uint8_t *data, size_t len, ht_nic_packet *out)
{
    size_t off = 0;
    int rc = link_ipv4_offset(linktype, data, len, &off);
    return rc != HT_NIC_PARSE_OK ? rc : ht_nic_parse_ipv4(data + off, len - off, out);
}

int ht_nic_parse_frame_ipv4(int linktype, const uint8_t *frame, size_t len, ht_nic_ipv4 *out)
{
    size_t off = 0;
    int rc = link_ipv4_offset(linktype, frame, len, &off);
    return rc != HT_NIC_PARSE_OK ? rc : ht_nic_parse_ipv4_header(frame + off, len - off, out);
}

/* Records a read error of the file after `frames` good frames (a file cut mid-frame, say); returns -1. */
static int read_error(ht_nic *nic, pcap_t *pcap, uint64_t frames)
{
    return ht_nic_fail(nic, "%s: read error after frame %llu: %s", nic->cfg.path, (unsigned long long)frames,
                       pcap_geterr(pcap));
}

int ht_nic_pcap_count_frames(ht_nic *nic, uint64_t *frames)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pcap = pcap_open_offline(nic->cfg.path, errbuf);
    if (!pcap)
        return ht_nic_fail(nic, "%s: cannot read as pcap/pcapng: %s", nic->cfg.path, errbuf);
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int rc;
    *frames = 0;
    while ((rc = pcap_next_ex(pcap, &hdr, &data)) == 1)
        ++*frames;
    rc = rc == PCAP_ERROR_BREAK ? 0 : read_error(nic, pcap, *frames);
    pcap_close(pcap);
    return rc;
}

/* Reads frames until one passes the filter; stores it as the pending packet in slots[slot].
 * Returns 1, 0 at the end of the file, or -1 on a read error. */
static int read_next(ht_nic *nic, pcap_state *s, unsigned slot)
{
    for (;;) {
        struct pcap_pkthdr *hdr;
        const u_char *data;
        int rc = pcap_next_ex(s->pcap, &hdr, &data);
        if (rc == PCAP_ERROR_BREAK)
            return 0;
        if (rc != 1)
            return read_error(nic, s->pcap, nic->stats.frames);
        nic->stats.frames++;
        ht_nic_packet p;
        int pr = parse_frame(s->linktype, data, hdr->caplen, &p);
        /* Delivering frames: the whole frame goes into the slot (the payload points inside it). */
        bool whole = nic->frames && hdr->caplen <= SLOT_BYTES;
        if (!ht_nic_keep_frame(nic, pr, &p, whole ? s->slots[slot] : NULL, whole ? hdr->caplen : 0))
            continue;
        if (whole) {
            memcpy(s->slots[slot], data, hdr->caplen);
            if (p.payload)
                p.payload = s->slots[slot] + (p.payload - data);
        } else if (p.payload) {
            memcpy(s->slots[slot], p.payload, p.len);
            p.payload = s->slots[slot];
        }
        p.ts_ns = (uint64_t)hdr->ts.tv_sec * 1000000000ull + (uint64_t)hdr->ts.tv_usec;
        p.frame = nic->stats.frames;
        s->pending = p;
        s->pending_slot = slot;
        s->have_pending = true;
        return 1;
    }
}

/* When the pending packet is due on the monotonic clock (paced replay). */
static uint64_t due_mono_ns(const ht_nic *nic, const pcap_state *s)
{
    uint64_t since = s->pending.ts_ns > s->pace_capture_ns ? s->pending.ts_ns - s->pace_capture_ns : 0;
    return s->pace_mono_ns + (uint64_t)((double)since / nic->cfg.speed);
}

/* Returns the next packets that are due (all of them at full speed). */
static int pcap_rx_burst(ht_nic *nic, ht_nic_packet *pkts, unsigned max)
{
    pcap_state *s = nic->impl;
    unsigned n = 0;
    /* A packet kept from the last call sits in some slot: move it to slot 0. */
    if (s->have_pending && s->pending_slot != 0) {
        uint8_t *t = s->slots[0];
        s->slots[0] = s->slots[s->pending_slot];
        s->slots[s->pending_slot] = t;
        s->pending_slot = 0;
    }
    if (s->failed)
        return -1;
    while (n < max) {
        if (!s->have_pending) {
            if (s->eof)
                break;
            int rc = read_next(nic, s, n);
            if (rc < 0 && n == 0)
                return -1;
            if (rc < 0) {
                s->failed = true; /* the packets before the error first, as DPDK's net_pcap delivers them */
                break;
            }
            if (rc == 0) {
                s->eof = true;
                break;
            }
        }
        if (nic->cfg.speed > 0) {
            /* A jump forward of more than HT_NIC_PACE_MAX_GAP_NS in capture time (a corrupt timestamp, a
             * capture paused for hours) is not waited out: pacing restarts at this packet, counted. */
            bool jump = s->pace_started && s->pending.ts_ns > s->pace_last_ns &&
                        s->pending.ts_ns - s->pace_last_ns > HT_NIC_PACE_MAX_GAP_NS;
            if (!s->pace_started || jump) {
                s->pace_started = true;
                s->pace_capture_ns = s->pending.ts_ns;
                s->pace_mono_ns = ht_mono_ns();
                nic->stats.pace_jumps += jump;
            }
            uint64_t due = due_mono_ns(nic, s);
            uint64_t now = ht_mono_ns();
            if (now < due) {
                if (n > 0)
                    break;
                /* Nothing to return yet: sleep towards the due time (at most 10 ms per call). */
                uint64_t wait = due - now < 10000000ull ? due - now : 10000000ull;
                struct timespec ts = {(time_t)(wait / 1000000000ull), (long)(wait % 1000000000ull)};
                nanosleep(&ts, NULL);
                if (ht_mono_ns() < due)
                    break;
            }
        }
        if (s->pending.ts_ns > s->pace_last_ns)
            s->pace_last_ns = s->pending.ts_ns;
        pkts[n] = s->pending;
        pkts[n].rx_tsc = ht_tsc_now();
        s->have_pending = false;
        n++;
    }
    if (n == 0 && s->eof && !s->have_pending)
        return HT_NIC_EOF;
    for (unsigned i = 0; i < n; i++) {
        nic->stats.bytes += pkts[i].len;
        nic->stats.packets += pkts[i].payload != NULL; /* a skipped frame handed on is no datagram */
    }
    return (int)n;
}

/* Closes the file and frees the slots. */
static void pcap_close_file(ht_nic *nic)
{
    pcap_state *s = nic->impl;
    if (!s)
        return;
    pcap_close(s->pcap);
    free(s->arena);
    free(s);
    nic->impl = NULL;
}

/* Frames can be handed on whole when the file holds Ethernet frames. */
static int pcap_frames(ht_nic *nic, ht_error *err)
{
    const pcap_state *s = nic->impl;
    if (s->linktype != DLT_EN10MB) {
        const char *lt = pcap_datalink_val_to_name(s->linktype);
        return ht_error_set(err, "%s: link type %s holds no Ethernet frames", nic->cfg.path, lt ? lt : "unnamed");
    }
    return 0;
}

const ht_nic_ops ht_nic_pcap_ops = {pcap_open_file, pcap_rx_burst, pcap_close_file, pcap_frames};
