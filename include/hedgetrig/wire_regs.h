/* SPDX-License-Identifier: MIT */
/* The wire ingest's hardware contract: the MAC stream, the parse, the drop reasons, the register map. */
#ifndef HEDGETRIG_WIRE_REGS_H
#define HEDGETRIG_WIRE_REGS_H

/*
 * The ingest (fpga/rtl/ht_wire.sv, its C model drivers/fpga/wire_model.c) reads Ethernet frames from the MAC's
 * AXI4-Stream, one 64-bit beat per cycle, and turns Deribit's price-index messages (SBE template 1008) into
 * ticks of the pipeline. Every HT_PIPE_WIRE_* constant is mirrored in fpga/rtl/ht_pkg.sv (tests/pipe/test_fixed
 * compares them); fpga/README.md ("On the wire") draws the ingest and its cycle budget.
 *
 * The stream (the user side of AMD's 10G/25G Ethernet subsystem): TDATA 64 bits, byte i of the beat in bits
 * [8i+7:8i], the frame's first byte in byte 0 of its first beat; TKEEP one bit per byte: all ones except on the
 * last beat, where it is a run of ones from bit 0; TLAST on the frame's last beat; TUSER (one bit, on the last
 * beat) the MAC's bad-frame flag (FCS error, runt). The FCS itself is not in the stream. TREADY does not exist:
 * the ingest takes a beat in every cycle TVALID is high and never stalls the MAC. A beat whose TKEEP breaks the
 * rule above marks its frame as a MAC error.
 *
 * Parse, in order (network headers big endian, SBE little endian):
 *   Ethernet II (one 802.1Q tag allowed) -> IPv4 (version 4, IHL >= 5, options skipped; header checksum, then
 *   fragments, then protocol 17) -> UDP (destination address and port in the filter table; lengths consistent)
 *   -> Deribit frame header (packetLength, channelId in the channel table, sequence) -> each SBE message
 *   (blockLength, templateId, schemaId, version, numGroups, numVarDataFields), walked through its groups (no
 *   nesting) and var data by their lengths. A 1008 message of schema 1, version 1..3 whose 16-byte index name
 *   is in the name table and whose price is a double in (0, 2^31) becomes a tick (price rounded to the price
 *   format exactly as ht_fx_from_double does); its sequence field carries the frame's channel (bits [47:32])
 *   and sequence (bits [31:0]).
 *
 * Every frame ends in exactly one counter: HT_PIPE_WIRE_CNT_FRAMES_OK or one drop reason, so the drop counters
 * and FRAMES_OK add up to FRAMES. A frame's ticks go to the pipeline only when the whole frame has arrived and
 * passed (a MAC error on the last beat drops them), one per cycle, the first in the cycle after the frame is
 * decided: HT_PIPE_WIRE_DECIDE_CYCLES after its last beat when the walk has kept up.
 *
 * Sequencing: per channel of the channel table. The first frame after the channel is enabled or re-armed sets
 * the expected sequence; a later frame must carry it (then the next is expected). A frame with a lower sequence
 * (modulo 2^32, within 2^31) is dropped as old; a higher one, or 0 where something else was expected (the
 * producer's reset), is a gap: the frame is dropped, the channel turns stale and every later frame of it is
 * dropped (stale) until the host re-arms it. Only frames that pass every other check move the sequence.
 */

/* ---- Sizes and timing ------------------------------------------------------------------------------------- */
#define HT_PIPE_WIRE_BEAT_BYTES 8         /* TDATA: 64 bits */
#define HT_PIPE_WIRE_FRAME_MAX 2048       /* bytes of one frame the ingest keeps; longer frames are dropped */
#define HT_PIPE_WIRE_TICK_FIFO 32         /* ticks waiting for the pipeline; more in flight are dropped, counted */
#define HT_PIPE_WIRE_CHANNELS 4           /* channel table entries */
#define HT_PIPE_WIRE_FILTERS 4            /* (group, port) filter entries */
#define HT_PIPE_WIRE_NAME_BYTES 16        /* the index name field of template 1008 */
#define HT_PIPE_WIRE_DECIDE_CYCLES 1      /* last beat in cycle T: frame decided in T + 1, first tick in T + 2 */

/* ---- Registers (32-bit words, in the wire top's AXI4-Lite space next to the pipeline's map) --------------- */
#define HT_PIPE_WIRE_REG_BASE 0x1800u
#define HT_PIPE_WIRE_REG_ID 0x1800u          /* RO: HT_PIPE_WIRE_ID_MAGIC */
#define HT_PIPE_WIRE_REG_VERSION 0x1804u     /* RO: HT_PIPE_WIRE_VERSION */
#define HT_PIPE_WIRE_REG_CTRL 0x1808u        /* RW: bit 0 enable (frames that start while it is 0 are dropped) */
#define HT_PIPE_WIRE_REG_CHAN_REARM 0x180Cu  /* WO: bit k re-arms channel k (clears stale, re-learns the sequence) */
#define HT_PIPE_WIRE_REG_CHAN_STALE 0x1810u  /* RO: bit k set while channel k is stale after a gap */
#define HT_PIPE_WIRE_REG_CHAN_ENABLE 0x1814u /* RW: bit k enables channel table entry k (writing re-arms it) */
#define HT_PIPE_WIRE_REG_NAME_ENABLE 0x1818u /* RW: bit u enables name table entry u (underlying u) */
#define HT_PIPE_WIRE_REG_BUSY 0x181Cu        /* RO: bit 0 a frame is in the ingest or a tick waits for the pipeline */
#define HT_PIPE_WIRE_REG_CHAN_ID 0x1820u     /* RW: + 4k, channel table entry k: [15:0] Deribit channelId */
#define HT_PIPE_WIRE_REG_CHAN_NEXT 0x1830u   /* RO: + 4k, the sequence channel k expects next */
#define HT_PIPE_WIRE_REG_FILTER 0x1840u      /* RW: + 8i, filter entry i: IPv4 destination (host order), then at
                                                + 8i + 4 the UDP destination port [15:0] (0: entry off) */
#define HT_PIPE_WIRE_REG_NAME 0x1900u        /* RW: + 16u + 4j, name of underlying u, bytes 4j..4j+3 (byte 4j in
                                                bits [7:0]), NUL-padded as on the wire */
#define HT_PIPE_WIRE_REG_COUNTER 0x1A00u     /* RO: + 4r, counter r below (32 bits, wrapping) */
#define HT_PIPE_WIRE_REG_END 0x1A80u         /* one past the last wire register */
#define HT_PIPE_WIRE_ID_MAGIC 0x48545749u    /* "HTWI" */
#define HT_PIPE_WIRE_VERSION 0x00010000u     /* 1.0: this map */

/* ---- Counters (HT_PIPE_WIRE_REG_COUNTER + 4r) ----------------------------------------------------------------- */
#define HT_PIPE_WIRE_CNT_FRAMES 0            /* frames decided */
#define HT_PIPE_WIRE_CNT_FRAMES_OK 1         /* frames that passed every check */
#define HT_PIPE_WIRE_CNT_TICKS 2             /* ticks handed to the pipeline */
#define HT_PIPE_WIRE_CNT_DROP_FIRST 3        /* the drop reasons, one per dropped frame: */
#define HT_PIPE_WIRE_CNT_DISABLED 3          /*   CTRL.enable was 0 when the frame started */
#define HT_PIPE_WIRE_CNT_MAC_ERROR 4         /*   TUSER on the last beat, or a TKEEP that breaks the stream rule */
#define HT_PIPE_WIRE_CNT_TOO_LONG 5          /*   longer than HT_PIPE_WIRE_FRAME_MAX bytes */
#define HT_PIPE_WIRE_CNT_OVERRUN 6           /*   the walk fell two frames behind the stream */
#define HT_PIPE_WIRE_CNT_SHORT 7             /*   the frame ends before a header or message it announces */
#define HT_PIPE_WIRE_CNT_NOT_IPV4 8          /*   EtherType (after at most one VLAN tag) is not IPv4 */
#define HT_PIPE_WIRE_CNT_IP_HEADER 9         /*   IP version is not 4 or IHL < 5 */
#define HT_PIPE_WIRE_CNT_IP_CHECKSUM 10      /*   the IPv4 header checksum does not add up */
#define HT_PIPE_WIRE_CNT_FRAGMENT 11         /*   more-fragments set or a fragment offset */
#define HT_PIPE_WIRE_CNT_NOT_UDP 12          /*   IP protocol is not UDP */
#define HT_PIPE_WIRE_CNT_FILTER 13           /*   destination address and port not in the filter table */
#define HT_PIPE_WIRE_CNT_LENGTH 14           /*   IP total length, UDP length and packetLength disagree */
#define HT_PIPE_WIRE_CNT_CHANNEL 15          /*   channelId not in the channel table */
#define HT_PIPE_WIRE_CNT_OLD_SEQ 16          /*   sequence already seen (duplicate or late) */
#define HT_PIPE_WIRE_CNT_STALE 17            /*   a gap, or the channel is stale since one */
#define HT_PIPE_WIRE_CNT_SBE 18              /*   an SBE message's lengths run past packetLength, a group nests, or
                                                  a 1008 block is shorter than 32 bytes */
#define HT_PIPE_WIRE_CNT_DROP_LAST 18
#define HT_PIPE_WIRE_CNT_GAPS 19             /* gaps seen (each also drops its frame as stale) */
#define HT_PIPE_WIRE_CNT_MESSAGES 20         /* SBE messages in frames that passed */
#define HT_PIPE_WIRE_CNT_UNKNOWN_TEMPLATE 21 /*   of which templateId is not 1000..1010 (skipped by length) */
#define HT_PIPE_WIRE_CNT_UNKNOWN_SCHEMA 22   /*   of which schemaId is not 1 or version not 1..3 (skipped) */
#define HT_PIPE_WIRE_CNT_INDEX 23            /*   of which template 1008 of the known schema */
#define HT_PIPE_WIRE_CNT_UNMAPPED 24         /*   of those, the index name is not in the name table */
#define HT_PIPE_WIRE_CNT_BAD_PRICE 25        /*   of those, the price is not in (0, 2^31) or not a number */
#define HT_PIPE_WIRE_CNT_TICK_OVERFLOW 26    /*   of those, the tick FIFO was full */
#define HT_PIPE_WIRE_COUNTERS 27

#endif
