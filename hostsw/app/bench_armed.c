/* SPDX-License-Identifier: MIT */
/* `hedgetrig bench capture synthetic --compare-unarmed`: pre-armed hedges ([engine] prearm) against the full
 * decision at every breach, in the same process on the same ticks, interleaved, so that the machine's load falls on
 * both alike (docs/deployment.md "Pre-armed hedges", bench/README.md). */
#include "bench_e2e.h"

#include <string.h>

#include "hedgetrig/engine_setup.h"
#include "hedgetrig/market_sim.h"
#include "hedgetrig/nic.h"
#include "hedgetrig/tsc.h"

#ifndef HT_DERIBIT_DIR
#define HT_DERIBIT_DIR "../shared/data/deribit"
#endif
#define CAPTURE HT_DERIBIT_DIR "/deribit_sample_v1_6.pcap"

void ht_bench_armed_result_free(ht_bench_armed_result *r)
{
    for (int m = 0; m < 2; m++) {
        ht_profile_destroy(r->prof[m]);
        r->prof[m] = NULL;
    }
}

static int result_init(ht_bench_armed_result *r, ht_error *err)
{
    memset(r, 0, sizeof *r);
    r->prof[0] = ht_profile_create();
    r->prof[1] = ht_profile_create();
    if (!r->prof[0] || !r->prof[1]) {
        ht_bench_armed_result_free(r);
        return ht_error_set(err, "bench: out of memory");
    }
    return 0;
}

/* Adds a finished engine's profile and counters into mode m. */
static void collect(ht_bench_armed_result *r, int m, const ht_engine *e)
{
    const ht_profile *p = ht_engine_profile(e);
    for (unsigned s = 0; s < HT_SPAN_COUNT; s++)
        ht_hist_merge(&r->prof[m]->span[s], &p->span[s]);
    ht_engine_report rep;
    ht_engine_get_report(e, &rep);
    ht_engine_report *sum = &r->rep[m];
    sum->ticks += rep.ticks;
    sum->breaches += rep.breaches;
    sum->decisions += rep.decisions;
    sum->orders += rep.orders;
    sum->fills += rep.fills;
    sum->check_mismatches += rep.check_mismatches;
    sum->arms += rep.arms;
    sum->armed_fired += rep.armed_fired;
    sum->armed_adjusted += rep.armed_adjusted;
    sum->armed_fallbacks += rep.armed_fallbacks;
    sum->armed_mismatches += rep.armed_mismatches;
    for (unsigned k = 0; k < HT_ARRAY_LEN(rep.armed_fallback_by_reason); k++)
        sum->armed_fallback_by_reason[k] += rep.armed_fallback_by_reason[k];
}

int ht_bench_armed_capture(const ht_bench_opts *o, ht_bench_armed_result *out, ht_error *err)
{
    if (result_init(out, err) != 0)
        return -1;
    for (unsigned k = 0; k < o->repeat; k++) {
        for (int i = 0; i < 2; i++) {
            const int m = (int)((k + (unsigned)i) % 2); /* armed first in even runs, unarmed first in odd ones */
            ht_engine_config cfg;
            ht_bench_capture_config(o, &cfg);
            cfg.prearm = m == 1;
            ht_nic_config nc;
            ht_nic_config_default(&nc);
            nc.path = CAPTURE;
            ht_nic *nic = ht_nic_open(&nc, err);
            ht_engine *e = nic ? ht_setup_engine_create(&cfg, NULL, err) : NULL;
            int rc = e ? ht_engine_run_nic(e, nic, NULL, err) : -1;
            if (rc == 0)
                collect(out, m, e);
            ht_engine_destroy(e);
            ht_nic_close(nic);
            if (rc != 0)
                return -1;
        }
        out->runs++;
    }
    return 0;
}

int ht_bench_armed_synthetic(const ht_bench_opts *o, ht_bench_armed_result *out, ht_error *err)
{
    if (result_init(out, err) != 0)
        return -1;
    ht_mkt_config mc;
    ht_bench_synthetic_market(&mc, o->ticks);
    ht_engine *e[2] = {NULL, NULL};
    ht_mkt *m = ht_mkt_create(&mc, err);
    int rc = m ? 0 : -1;
    for (int k = 0; k < 2 && rc == 0; k++) {
        ht_engine_config cfg;
        ht_bench_synthetic_config(o, &cfg);
        cfg.prearm = k == 1;
        e[k] = ht_setup_engine_create(&cfg, NULL, err);
        rc = e[k] ? 0 : -1;
    }
    ht_nic_packet p;
    for (uint64_t n = 0; rc == 0 && ht_mkt_next(m, &p) == 1; n++)
        for (int i = 0; i < 2 && rc == 0; i++) {
            ht_engine *x = e[(n + (uint64_t)i) % 2]; /* which goes first alternates packet by packet */
            if (ht_engine_on_packet(x, p.payload, p.len, ht_tsc_now(), p.ts_ns) != 0)
                rc = ht_error_set(err, "synthetic: %s", ht_engine_last_error(x));
        }
    for (int k = 0; k < 2; k++) {
        if (e[k] && ht_engine_finish(e[k], rc == 0 ? err : &(ht_error){{0}}) != 0)
            rc = -1;
        if (e[k] && rc == 0)
            collect(out, k, e[k]);
        ht_engine_destroy(e[k]);
    }
    ht_mkt_destroy(m);
    out->runs = 1;
    return rc;
}
