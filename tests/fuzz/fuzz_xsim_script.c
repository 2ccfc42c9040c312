/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the exchange simulator's account script parser (sim/exchange/xsim_script.c) on arbitrary
 * bytes. Every refusal carries a message naming the input; every accepted event holds what the grammar allows
 * (a known kind, finite non-decreasing times >= 0, an instrument of the Symbol grammar, prices > 0, quantities
 * non-zero unless a whole settle). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hedgetrig/exchange_sim.h"
#include "hedgetrig/fix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless ev is an event the parser may produce after an event at time prev_s. */
static void check_event(const ht_xsim_event *ev, double prev_s)
{
    if (!isfinite(ev->time_s) || ev->time_s < prev_s || ev->time_s < 0 || ev->line == 0)
        abort();
    if (ev->kind == HT_XSIM_EV_DISCONNECT) {
        if (ev->instrument[0])
            abort();
        return;
    }
    if ((unsigned)ev->kind > HT_XSIM_EV_DISCONNECT || !(ev->price > 0) || !isfinite(ev->price) ||
        ht_fix_check_value("instrument", ev->instrument, strlen(ev->instrument), HT_FIX_GRAMMAR_INSTRUMENT, 1, 31,
                           NULL) != 0)
        abort();
    if (!(ev->kind == HT_XSIM_EV_SETTLE && ev->whole) && (ev->qty_contracts == 0 || !isfinite(ev->qty_contracts)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ht_error err;
    err.msg[0] = '\0';
    ht_xsim_script *s = ht_xsim_script_parse((const char *)data, size, "fuzz", &err);
    if (!s) {
        if (strncmp(err.msg, "fuzz", 4) != 0)
            abort(); /* every refusal names the input */
        return 0;
    }
    double prev_s = 0;
    for (size_t i = 0; i < s->n_events; i++) {
        check_event(&s->events[i], prev_s);
        prev_s = s->events[i].time_s;
    }
    ht_xsim_script_destroy(s);
    return 0;
}
