/* SPDX-License-Identifier: MIT */
/* The pipeline's hardware contract: sizes, cycle budget, AXI4-Lite register map, stream and table layouts. */
#ifndef HEDGETRIG_PIPE_REGS_H
#define HEDGETRIG_PIPE_REGS_H

/*
 * Every HT_PIPE_* constant here is mirrored as a localparam of the same name in fpga/rtl/ht_pkg.sv, and
 * tests/pipe/test_fixed.c fails if the two disagree. The C model (drivers/fpga/pipe_sw.c) implements this
 * contract cycle for cycle; fpga/README.md draws the pipeline and explains each register.
 */

/* ---- Sizes ---------------------------------------------------------------------------------------------- */
#define HT_PIPE_UNDERLYINGS 16      /* underlyings served (tick and table entries carry an index 0..15) */
#define HT_PIPE_TABLE_DEPTH 65536   /* positions in the greek table, shared by all underlyings (>= 4096 each) */
#define HT_PIPE_TABLE_ADDR_BITS 16  /* log2(HT_PIPE_TABLE_DEPTH) */

/* ---- Cycle budget (one clock of the RTL) ----------------------------------------------------------------- */
/* A tick accepted on s_axis in cycle c leaves as an event on m_axis in cycle c + HT_PIPE_LATENCY_CYCLES,
 * whatever the book size; one tick is accepted every cycle. */
#define HT_PIPE_LATENCY_CYCLES 10
/* The tick reads its underlying's active book (A, B, C, V, S0) and parameters (band, inventory, vol move)
 * in cycle c + HT_PIPE_BOOK_READ_CYCLE. */
#define HT_PIPE_BOOK_READ_CYCLE 1
/* A COMMIT written in cycle w folds table entries 0..count-1, one per cycle; the new book is visible to
 * ticks from cycle w + count + HT_PIPE_FOLD_EXTRA_CYCLES on, and STATUS.busy is set in cycles
 * w+1 .. w + count + HT_PIPE_FOLD_EXTRA_CYCLES - 1. */
#define HT_PIPE_FOLD_EXTRA_CYCLES 10
/* One AXI4-Lite write or read, as the Verilator shim drives it: address/data in one cycle, response in the
 * next. The register changes at the end of the first cycle. */
#define HT_PIPE_AXIL_CYCLES 2

/* ---- AXI4-Lite register map (32-bit data, byte addresses) ------------------------------------------------ */
/* 64-bit registers are two words. Write: LO then HI; the HI write commits both halves at once (until then
 * the register keeps its old value). Read: LO then HI; reading any LO word snapshots its HI word, and
 * reading a HI word returns the last snapshot, so a 64-bit counter is read consistently. */
#define HT_PIPE_REG_ID 0x000u             /* RO: HT_PIPE_ID_MAGIC */
#define HT_PIPE_REG_VERSION 0x004u        /* RO: HT_PIPE_VERSION */
#define HT_PIPE_REG_CAPS 0x008u           /* RO: [7:0] underlyings, [15:8] latency cycles, [23:16] table addr bits */
#define HT_PIPE_REG_CONTROL 0x00Cu        /* WO: bit 0 COMMIT (fold the table, then swap the book) */
#define HT_PIPE_REG_STATUS 0x010u         /* RO: bit 0 fold busy */
#define HT_PIPE_REG_TABLE_COUNT 0x014u    /* RW: entries the next COMMIT folds, 0..HT_PIPE_TABLE_DEPTH */
#define HT_PIPE_REG_REARM 0x018u          /* WO: bit u re-arms underlying u (clears its mute) */
#define HT_PIPE_REG_MUTED 0x01Cu          /* RO: bit u set while underlying u is muted after a breach */
#define HT_PIPE_REG_FLAGS 0x020u          /* RW1C: sticky overflow / error flags (HT_PIPE_FLAG_*) */
#define HT_PIPE_REG_IIR_ENABLE 0x024u     /* RO: bit u set while underlying u's IIR low-pass is on */
#define HT_PIPE_REG_CYCLES 0x030u         /* RO 64: free-running cycle counter */
#define HT_PIPE_REG_TICKS 0x038u          /* RO 64: ticks accepted */
#define HT_PIPE_REG_EVENTS 0x040u         /* RO 64: events emitted */
#define HT_PIPE_REG_MUTED_TICKS 0x048u    /* RO 64: breaches suppressed because the underlying was muted */
#define HT_PIPE_REG_BAD_TICKS 0x050u      /* RO 64: ticks dropped because their underlying index was >= 16 */
#define HT_PIPE_REG_GENERATION 0x058u     /* RO 64: books activated since reset */

/* Per-underlying block u at HT_PIPE_REG_UND_BASE + u * HT_PIPE_REG_UND_STRIDE; offsets below, all 64-bit. */
#define HT_PIPE_REG_UND_BASE 0x100u
#define HT_PIPE_REG_UND_STRIDE 0x100u
#define HT_PIPE_UREG_BAND_LO 0x00u   /* RW delta: lower net-delta bound; writing it re-arms */
#define HT_PIPE_UREG_BAND_HI 0x08u   /* RW delta: upper net-delta bound; writing it re-arms */
#define HT_PIPE_UREG_GBAND_LO 0x10u  /* RW gamma: lower net-gamma bound; writing it re-arms */
#define HT_PIPE_UREG_GBAND_HI 0x18u  /* RW gamma: upper net-gamma bound; writing it re-arms */
#define HT_PIPE_UREG_INVENTORY 0x20u /* RW delta: hedge inventory H; writing it re-arms */
#define HT_PIPE_UREG_VOL_MOVE 0x28u  /* RW vol: reference vol move d-sigma */
#define HT_PIPE_UREG_S0_NEXT 0x30u   /* RW price: reference spot S0 for the next COMMIT */
#define HT_PIPE_UREG_IIR_B0 0x38u    /* RW iir_coef: staged coefficients (b0 b1 b2 a1 a2) */
#define HT_PIPE_UREG_IIR_B1 0x40u
#define HT_PIPE_UREG_IIR_B2 0x48u
#define HT_PIPE_UREG_IIR_A1 0x50u
#define HT_PIPE_UREG_IIR_A2 0x58u
#define HT_PIPE_UREG_IIR_CTRL 0x60u  /* WO 32: bit 0 enable. Writing it loads the staged coefficients and
                                        restarts the filter (its first tick primes the state) */
#define HT_PIPE_UREG_A 0x68u         /* RO delta: active A (book delta at S0) */
#define HT_PIPE_UREG_B 0x70u         /* RO gamma: active B (book gamma at S0) */
#define HT_PIPE_UREG_C 0x78u         /* RO speed: active C (book speed) */
#define HT_PIPE_UREG_V 0x80u         /* RO vanna: active V (book vanna) */
#define HT_PIPE_UREG_S0 0x88u        /* RO price: active reference spot S0 */
#define HT_PIPE_REG_SPACE 0x1100u    /* bytes of register space */

#define HT_PIPE_ID_MAGIC 0x4854504Cu /* "HTPL" */
#define HT_PIPE_VERSION 0x00010000u  /* 1.0: this map */

/* ---- The Vitis kernel (fpga/rtl/ht_pipe_kernel.sv): its s_axi_control holds the map above below 0x2000 and
 * these registers (32-bit words; 64-bit ones as LO, HI) from 0x2000. The xrt backend drives the card
 * through them. */
#define HT_PIPE_KREG_BASE 0x2000u
#define HT_PIPE_KREG_CONTROL 0x2000u      /* WO: bit 0 soft-resets the pipeline (16 cycles) */
#define HT_PIPE_KREG_MODE 0x2004u         /* RW: bit 0 events to m_axis_event (else the event window);
                                             bit 1 ticks from s_axis_tick too (else the tick window only) */
#define HT_PIPE_KREG_TICK_SEQ 0x2008u     /* RW 64: feed sequence of the next window tick */
#define HT_PIPE_KREG_TICK_PRICE 0x2010u   /* RW 64: price (price format) of the next window tick */
#define HT_PIPE_KREG_TICK_PUSH 0x2018u    /* WO: [7:0] underlying; pushes the window tick (one cycle) */
#define HT_PIPE_KREG_EVENT_STATUS 0x201Cu /* RO: bit 0 an event waits in the event window */
#define HT_PIPE_KREG_EVENT_WORDS 0x2040u  /* RO: the waiting event, 14 words in the stream layout; reading
                                             the last word (0x2074) pops it */
#define HT_PIPE_KREG_DMA_ADDR 0x2080u     /* RW 64: device address of the first entry to copy (buffer arg 0) */
#define HT_PIPE_KREG_DMA_FIRST 0x2088u    /* RW: table index it goes to */
#define HT_PIPE_KREG_DMA_COUNT 0x208Cu    /* RW: entries to copy */
#define HT_PIPE_KREG_DMA_START 0x2090u    /* WO: bit 0 starts the copy */
#define HT_PIPE_KREG_DMA_STATUS 0x2094u   /* RO: bit 0 busy, bit 1 an AXI read error (until the next start) */
#define HT_PIPE_KREG_RING_ADDR 0x2098u    /* RW 64: device address of the event ring (buffer arg 1, 64-byte aligned) */
#define HT_PIPE_KREG_RING_LOG2 0x20A0u    /* RW: the ring holds 2^n records (clamped to LOG2_MIN..LOG2_MAX) */
#define HT_PIPE_KREG_RING_RD 0x20A4u      /* RW: records the host has read (it writes this now and then) */
#define HT_PIPE_KREG_RING_WR 0x20A8u      /* RO: records written */
#define HT_PIPE_KREG_RING_DROPS 0x20ACu   /* RO: events not written because 2^n records were unread */
#define HT_PIPE_KREG_RING_STATUS 0x20B0u  /* RO: bit 0 a write still outstanding, bit 1 an AXI write error (sticky) */
#define HT_PIPE_KREG_ARMED_SLOT 0x2100u   /* RW: + 4u, [15:0] the armed-order slot of underlying u (into records) */
#define HT_PIPE_KERNEL_REG_SPACE 0x4000u  /* bytes of the kernel's s_axi_control */
/* A table entry in the buffer object: the HT_PIPE_ENTRY_WORDS words, padded to one 512-bit beat. */
#define HT_PIPE_BUFFER_ENTRY_BYTES 64
/* MODE bits. */
#define HT_PIPE_KMODE_EVENTS_TO_STREAM 0x1u /* events to m_axis_event (else the window or the ring) */
#define HT_PIPE_KMODE_TICKS_FROM_STREAM 0x2u /* ticks from s_axis_tick too */
#define HT_PIPE_KMODE_EVENTS_TO_RING 0x4u /* events into the ring in host memory (over m_axi_ring) */
/* The event ring (fpga/rtl/ht_event_ring.sv): 2^n records of 64 bytes (one 512-bit write each), record i at
 * RING_ADDR + 64 * (i mod 2^n). Words (64-bit, little endian): 0 [7:0] underlying, [11:8] side, [31:16] armed
 * slot, [63:32] record number i + 1; 1 sequence; 2 price; 3 net delta; 4 net gamma; 5 cycle in; 6 cycle out;
 * 7 the cycle the ring took the event (its write is issued in the next cycle). A record whose number is not the
 * one the host expects has not arrived yet. */
#define HT_PIPE_RING_RECORD_BYTES 64
#define HT_PIPE_RING_LOG2_MIN 4
#define HT_PIPE_RING_LOG2_MAX 20

/* ---- Sticky flags (HT_PIPE_REG_FLAGS) ---------------------------------------------------------------------- */
#define HT_PIPE_FLAG_FOLD_GAMMA 0x001u  /* a position's re-centred gamma saturated */
#define HT_PIPE_FLAG_FOLD_DELTA 0x002u  /* a position's re-centred delta saturated */
#define HT_PIPE_FLAG_FOLD_SUM 0x004u    /* A, B, C or V saturated when narrowed to 64 bits */
#define HT_PIPE_FLAG_TICK_DS 0x008u     /* dS = S - S0 saturated */
#define HT_PIPE_FLAG_TICK_GAMMA 0x010u  /* net gamma (or B + C*dS/2) saturated */
#define HT_PIPE_FLAG_TICK_DELTA 0x020u  /* net delta saturated */
#define HT_PIPE_FLAG_IIR 0x040u         /* IIR output saturated */
#define HT_PIPE_FLAG_TABLE_BUSY 0x080u  /* a table write or COMMIT arrived while a fold was running: ignored */
#define HT_PIPE_FLAG_IIR_COEF 0x100u    /* an IIR coefficient outside [-2, 2) was clamped */
#define HT_PIPE_FLAG_EVENT_LOST 0x200u  /* m_axis held back so long that the 16-event output FIFO overflowed */
#define HT_PIPE_FLAG_ALL 0x3FFu
/* The output FIFO holds HT_PIPE_EVENT_FIFO_DEPTH events: one per underlying, so a host that reads events
 * before re-arming never loses one, however long it holds m_axis back. */
#define HT_PIPE_EVENT_FIFO_DEPTH 16

/* ---- Event side bits (which bound was crossed) ------------------------------------------------------------- */
#define HT_PIPE_SIDE_DELTA_LO 0x1u /* net delta < band lo */
#define HT_PIPE_SIDE_DELTA_HI 0x2u /* net delta > band hi */
#define HT_PIPE_SIDE_GAMMA_LO 0x4u /* net gamma < gamma band lo */
#define HT_PIPE_SIDE_GAMMA_HI 0x8u /* net gamma > gamma band hi */

/* ---- AXI4-Stream layouts (little-endian, bit 0 first) ------------------------------------------------------ */
/* Tick in, 192 bits:  [7:0] underlying, [63:8] reserved 0, [127:64] feed sequence, [191:128] price.      */
/* Event out, 448 bits: [7:0] underlying, [11:8] side bits, [63:12] reserved 0, [127:64] feed sequence,
 *                     [191:128] price used (after the IIR), [255:192] net delta, [319:256] net gamma,
 *                     [383:320] cycle in, [447:384] cycle out.                                           */
#define HT_PIPE_TICK_BITS 192
#define HT_PIPE_EVENT_BITS 448

/* ---- Greek table entry (the RTL's memory word and the XRT buffer layout), 6 x 64 bits -------------------- */
/* word 0 delta, 1 gamma, 2 speed, 3 vanna, 4 reference spot S_i (price), 5 [7:0] underlying, rest 0.        */
#define HT_PIPE_ENTRY_WORDS 6

#endif
