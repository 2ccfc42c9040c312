#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The crash scenario (docs/margin.md, "A crash"): the market simulator's crash keys move the index by exactly
# crash_fall over the window on the same random path (before it, the same index to the last digit; after it, 0.85
# times it), and scripts/crash.py runs both bands on one path: the same index in both margin series, the same
# ratio at the start (the documented 0.679 with 10 BTC, standard), liquidation reported where and only where the
# ratio reaches 1, a margin-aware band that narrowed.
# Usage: crash_scenario_check.py HEDGETRIG CRASH_PY SCRATCH_DIR
import csv
import json
import os
import subprocess
import sys

hedgetrig, crash_py, scratch = sys.argv[1:4]
os.makedirs(scratch, exist_ok=True)


def spots(name, *market):
    folder, conf, series = (os.path.join(scratch, name, leaf) for leaf in ("", "m.conf", "margin.csv"))
    os.makedirs(folder, exist_ok=True)
    with open(conf, "w") as f:  # the estimate's series: the index at every tick
        print(f"[margin]\nseries = {series}", file=f)
    p = subprocess.run([hedgetrig, "demo", "--out", folder, "--config", conf, "--steps", "300", "--json", *market],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-400:]
    with open(series) as f:
        rows = list(csv.DictReader(f))
    t0 = 1704441600.0  # the simulator's default start, 2024-01-05 08:00 UTC
    return {round(float(r["time_s"]) - t0): float(r["spot"]) for r in rows}


calm = spots("calm")
crash = spots("crash", "--crash-start-s", "100", "--crash-duration-s", "100", "--crash-fall", "0.15",
              "--crash-iv-rise", "0.3")
common = sorted(set(calm) & set(crash))
before = [t for t in common if t <= 100]
after = [t for t in common if t >= 200]
assert len(before) > 50 and len(after) > 50, (len(before), len(after))
for t in before:
    assert crash[t] == calm[t], (t, crash[t], calm[t])
for t in after:
    assert abs(crash[t] / calm[t] - 0.85) < 1e-6, (t, crash[t] / calm[t])
mid = [t for t in common if 140 <= t <= 160]
for t in mid:  # halfway: a constant log rate, sqrt(0.85) at 150 s
    assert abs(crash[t] / calm[t] - 0.85 ** ((t - 100) / 100)) < 1e-6, (t, crash[t] / calm[t])

p = subprocess.run([sys.executable, crash_py, hedgetrig, os.path.join(scratch, "crash"), "--equity", "10", "--json"],
                   capture_output=True, text=True, timeout=1200)
assert p.returncode == 0, p.stderr[-600:]
runs = json.loads(p.stdout)["runs"]
assert [r["run"] for r in runs] == ["fixed", "margin"], runs
series = []
for r in runs:
    with open(r["series"]) as f:
        series.append(list(csv.DictReader(f)))
    assert r["liquidated"] == (r["ratio_peak"] >= 1.0), r
    assert abs(r["ratio_start"] - 0.679) < 0.005, r
    assert abs(r["spot_end"] / r["spot_start"] - 0.85) < 0.03, r
assert [x["spot"] for x in series[0]] == [x["spot"] for x in series[1]], "the two runs saw different paths"
assert min(float(x["band_fraction"]) for x in series[1]) < 1.0, "the margin-aware band never narrowed"
assert min(float(x["band_fraction"]) for x in series[0]) == 1.0, "the fixed band narrowed"
print("crash_scenario_check: ok")
