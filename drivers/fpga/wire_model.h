/* SPDX-License-Identifier: MIT */
/* The wire ingest's C model, cycle for cycle and bit for bit the RTL of fpga/rtl/ht_wire.sv. */
#ifndef HEDGETRIG_DRIVERS_FPGA_WIRE_MODEL_H
#define HEDGETRIG_DRIVERS_FPGA_WIRE_MODEL_H

/*
 * One call of ht_wire_model_cycle is one clock edge of the RTL: what every register holds after the edge is
 * computed from what they held before it (the beat of this cycle is written at the edge and seen by the walk
 * from the next cycle on). The contract is include/hedgetrig/wire_regs.h; the structure follows the RTL:
 *
 *   rx      writes the beat into the frame's half of the frame buffer (two frames: the one being received and
 *           the one before it), counts its bytes, notes TUSER/TKEEP errors and sums the IPv4 header's words;
 *   walk    reads one item (a header, a message header, a group header, a var-data length or a 1008 block)
 *           per cycle, once its bytes are in, and decides the frame when it has ended;
 *   ticks   a FIFO with a commit point: a 1008 block adds a tick, a passed frame commits them, a dropped one
 *           takes them back; one committed tick leaves for the pipeline per cycle.
 */

#include <stdbool.h>
#include <stdint.h>

#include "hedgetrig/pipe.h"
#include "hedgetrig/wire_regs.h"

/* ht_wire_beat, one beat of the MAC's stream, is in hedgetrig/pipe.h. */

/* A tick as it leaves the ingest for the pipeline's s_axis. */
typedef struct ht_wire_tick {
    uint8_t underlying;
    uint64_t seq;  /* [47:32] channelId, [31:0] frame sequence */
    int64_t price; /* price format */
} ht_wire_tick;

/* Walk items. */
enum {
    HT_WIRE_ITEM_ETH = 0,   /* 14 bytes: EtherType at 12 */
    HT_WIRE_ITEM_VLAN = 1,  /* 4 bytes: the inner EtherType at 2 */
    HT_WIRE_ITEM_IP = 2,    /* 20 bytes: the fixed IPv4 header */
    HT_WIRE_ITEM_UDP = 3,   /* 8 bytes */
    HT_WIRE_ITEM_FRAME = 4, /* 8 bytes: Deribit's frame header */
    HT_WIRE_ITEM_MSG = 5,   /* 12 bytes: SBE message header */
    HT_WIRE_ITEM_INDEX = 6, /* 24 bytes: 1008's index name and price */
    HT_WIRE_ITEM_GROUP = 7, /* 8 bytes: group header */
    HT_WIRE_ITEM_VAR = 8,   /* 1 byte: var-data length */
    HT_WIRE_ITEM_DONE = 9,  /* the walk is over (passed, or a reason was found) */
};

/* The receive side of one half of the frame buffer. */
typedef struct ht_wire_rx {
    bool started, ended;
    bool mac_error;
    bool enabled;     /* CTRL.enable when the frame started */
    uint32_t len;     /* bytes received (saturates at 0xFFFF) */
    /* The IPv4 header checksum, summed as the beats arrive. */
    bool vlan;        /* bytes 12..13 were 0x8100 */
    uint8_t ihl;      /* from the first IP byte, once received */
    uint32_t csum;    /* plain sum of the header's 16-bit words so far */
    uint8_t buf[HT_PIPE_WIRE_FRAME_MAX];
} ht_wire_rx;

typedef struct ht_wire_model {
    /* registers */
    bool enable;
    uint32_t chan_enable, name_enable;
    uint16_t chan_id[HT_PIPE_WIRE_CHANNELS];
    uint32_t filter_addr[HT_PIPE_WIRE_FILTERS];
    uint16_t filter_port[HT_PIPE_WIRE_FILTERS];
    uint8_t name[HT_PIPE_UNDERLYINGS][HT_PIPE_WIRE_NAME_BYTES];
    uint32_t counters[HT_PIPE_WIRE_COUNTERS];
    /* sequencing */
    bool chan_synced[HT_PIPE_WIRE_CHANNELS], chan_stale[HT_PIPE_WIRE_CHANNELS];
    uint32_t chan_next[HT_PIPE_WIRE_CHANNELS];
    /* rx */
    ht_wire_rx rx[2];
    unsigned rx_half;  /* the half the current (or last) frame went to */
    bool in_frame;     /* a frame has started and its last beat has not come */
    /* walk */
    unsigned walk_half;
    unsigned item;
    uint32_t cur;      /* byte offset of the item */
    unsigned reason;   /* 0, or the HT_PIPE_WIRE_CNT_* drop reason found */
    bool gap;          /* the reason is a new gap */
    uint32_t ip;       /* offset of the IP header */
    uint8_t ihl;
    uint16_t ip_total, ip_frag, udp_len;
    uint8_t ip_proto;
    uint32_t ip_dst;
    uint32_t pkt_end;  /* offset one past the SBE messages */
    uint16_t channel;
    unsigned chan_slot;
    uint32_t seq;
    uint16_t msg_block;     /* blockLength of the current message */
    uint16_t groups_left, vars_left;
    uint32_t msg_body;      /* offset of the current message's block */
    uint32_t frame_counts[HT_PIPE_WIRE_COUNTERS]; /* message counters of the frame being walked */
    /* ticks */
    ht_wire_tick fifo[HT_PIPE_WIRE_TICK_FIFO];
    uint32_t rd, commit, wr;
} ht_wire_model;

/* Reset: everything 0 (disabled, empty tables), both halves empty. */
void ht_wire_model_reset(ht_wire_model *m);

/* One clock cycle with a beat (beat != NULL) or without. Returns true with *tick set when a tick leaves for
 * the pipeline in this cycle. */
bool ht_wire_model_cycle(ht_wire_model *m, const ht_wire_beat *beat, ht_wire_tick *tick);

/* True while a frame is inside (being received or walked) or a tick waits. */
bool ht_wire_model_busy(const ht_wire_model *m);

/* True when the model can move without a beat: the walk has an item whose bytes are in, a frame that has
 * ended, or a tick waits (RTL: active_o). Cycles without beats change nothing once this is false. */
bool ht_wire_model_active(const ht_wire_model *m);

/* The AXI4-Lite side (addresses HT_PIPE_WIRE_REG_BASE .. HT_PIPE_WIRE_REG_END; others read 0 and ignore writes). */
void ht_wire_model_write(ht_wire_model *m, uint32_t addr, uint32_t value);
uint32_t ht_wire_model_read(const ht_wire_model *m, uint32_t addr);

/* The price format value of a 1008 price's bits, as the RTL converts it; false when the price is not a
 * number in (0, 2^31) (the tick is then dropped and counted as a bad price). */
bool ht_wire_price_to_fx(uint64_t bits, int64_t *out);

#endif
