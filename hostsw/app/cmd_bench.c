/* SPDX-License-Identifier: MIT */
/* hedgetrig bench: runs the standard benchmark scenarios and writes a report (text, CSV, PNG latency CDFs). */
#include <stdio.h>
#include <string.h>

#include "bench_e2e.h"
#include "cli.h"
#include "commands.h"

/* Scenarios other modules provide in their own files (weak: absent from a build that lacks them). */
int ht_bench_pipeline(int argc, char **argv) __attribute__((weak));
int ht_bench_wire(int argc, char **argv);

static const char *const g_usage =
    "usage: hedgetrig bench [SCENARIO...] [--out DIR] [--repeat N] [--ticks N] [--backend sw|verilator]\n"
    "                       [--compare-unarmed] [--json]\n"
    "       hedgetrig bench pipeline [ARGS]     (the pipeline's own benchmark, when built: see its --help)\n"
    "       hedgetrig bench wire [ARGS]         (tick to wire from a capture of lo: see its --help)\n"
    "\n"
    "Runs standard scenarios in software mode, in-process, and writes a report into DIR (default ./bench-report):\n"
    "report.txt (the tables printed), latency.csv (every span's percentiles per scenario), cdf_*.dat and\n"
    "latency_cdf.png (CDFs of tick->order and tick->pipe_out, when gnuplot is installed).\n"
    "\n"
    "scenarios (default: capture synthetic throughput peer):\n"
    "  capture      the shared Deribit capture replayed end to end --repeat times (default 20) with a band tight\n"
    "               enough that most index ticks breach; latency per stage, tick->order\n"
    "  synthetic    --ticks index ticks (default 1000000) of the market simulator end to end, every breach hedged\n"
    "               through the gateway to the exchange simulator; latency per stage, tick->order\n"
    "  throughput   --ticks ticks through the fast half (decode + pipeline) on one core with the slow half on\n"
    "               another, and everything on one core; ticks per second, ticks lost\n"
    "  peer         hedgetrig's net-delta update against a full QuantLib reprice of the same book on every tick,\n"
    "               side by side (bench/e2e/bench_peer, built when QuantLib is installed)\n"
    "\n"
    "  --out DIR               report folder (default bench-report)\n"
    "  --repeat N              capture replays (default 20)\n"
    "  --ticks N               ticks of the synthetic and throughput scenarios (default 1000000)\n"
    "  --backend sw|verilator  the pipeline backend (default sw)\n"
    "  --compare-unarmed       capture and synthetic: pre-armed hedges ([engine] prearm) against the full decision\n"
    "                          at every breach, in this process on the same ticks, interleaved (capture: the\n"
    "                          runs alternate; synthetic: each packet to an armed and an unarmed engine in turn)\n"
    "  --json                  one JSON object on stdout: per scenario compared, \"tick_to_order_ns\":\n"
    "                          {\"armed\":{\"count\",\"p50\",\"p99\"},\"unarmed\":{...}}, fired, fallbacks,\n"
    "                          mismatches; the machine and its load average (the text goes to report.txt)\n"
    "\n"
    "Timings are medians and percentiles on this machine; bench/README.md records them with their commands.\n"
    "Exit status: 0 ok, 1 a scenario failed or the report cannot be written (printed), 2 usage error.\n";

int cmd_bench(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "pipeline") == 0) {
        if (!ht_bench_pipeline)
            return ht_cli_fail("bench", "the pipeline scenario is not in this build");
        return ht_bench_pipeline(argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "wire") == 0)
        return ht_bench_wire(argc - 1, argv + 1);
    if (ht_cli_wants_help(argc, argv)) {
        fputs(g_usage, stdout);
        return HT_EXIT_OK;
    }
    ht_bench_opts o;
    ht_bench_opts_default(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t v;
        if (strcmp(a, "--out") == 0 && i + 1 < argc) {
            o.out = argv[++i];
        } else if (strcmp(a, "--repeat") == 0 && i + 1 < argc) {
            if (!ht_cli_parse_u64("bench", a, argv[++i], 1, 100000, &v))
                return HT_EXIT_USAGE;
            o.repeat = (unsigned)v;
        } else if (strcmp(a, "--ticks") == 0 && i + 1 < argc) {
            if (!ht_cli_parse_u64("bench", a, argv[++i], 100, 100000000, &o.ticks))
                return HT_EXIT_USAGE;
        } else if (strcmp(a, "--backend") == 0 && i + 1 < argc) {
            ht_error err;
            if (ht_pipe_backend_parse(argv[++i], &o.backend, &err) != 0)
                return ht_cli_usage_error("bench", "%s", err.msg);
        } else if (strcmp(a, "--compare-unarmed") == 0) {
            o.compare_unarmed = true;
        } else if (strcmp(a, "--json") == 0) {
            o.json = true;
        } else if (ht_bench_scenario_known(a)) {
            if (o.n_scenarios == HT_ARRAY_LEN(o.scenarios))
                return ht_cli_usage_error("bench", "too many scenarios");
            o.scenarios[o.n_scenarios++] = a;
        } else {
            return a[0] == '-' ? ht_cli_unknown("bench", a, g_usage)
                               : ht_cli_usage_error("bench", "unknown scenario '%s'", a);
        }
    }
    return ht_bench_run(&o);
}
