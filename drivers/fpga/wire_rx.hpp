// SPDX-License-Identifier: MIT
// Drives a Verilated top's s_axis_rx inputs with one beat of the MAC's stream (the verilator backend's ht_wire_top
// and the test's Vitis kernel model share it). C++ only because Verilator's models are C++ classes.
#ifndef HEDGETRIG_DRIVERS_FPGA_WIRE_RX_HPP
#define HEDGETRIG_DRIVERS_FPGA_WIRE_RX_HPP

#include <stdint.h>

extern "C" {
#include "hedgetrig/pipe.h"
}

// Sets TVALID, TDATA (byte i of the beat in bits [8i+7:8i]), TKEEP, TLAST and TUSER for the next edge.
template <typename Top> void ht_drive_rx_beat(Top *t, const ht_wire_beat *beat)
{
    uint64_t data = 0;
    for (unsigned i = 0; i < HT_PIPE_WIRE_BEAT_BYTES; i++)
        data |= (uint64_t)beat->data[i] << (8 * i);
    t->s_axis_rx_tvalid = 1;
    t->s_axis_rx_tdata = data;
    t->s_axis_rx_tkeep = beat->keep;
    t->s_axis_rx_tlast = beat->last;
    t->s_axis_rx_tuser = beat->user;
}

#endif
