#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The crash scenario of issue 16 (docs/margin.md, "A crash"): the demo's short-gamma book (examples/demo_book.csv)
# on the market simulator's path with a crash on top (the index 15 % down over ten minutes, the ATM vol 30 points
# up), hedged twice on the same path: with the demo's band as it is, and with the margin-aware band. Prints, per
# run, the margin ratio at the start, its peak and at the end, whether the account would have been liquidated
# (the estimated maintenance margin reaching the equity), the hedging cost and the orders; writes both margin
# series and a chart (gnuplot, as `hedgetrig demo` draws its own) into OUT.
# Usage: crash.py HEDGETRIG OUT [--equity COIN] [--model standard|portfolio] [--json]
import csv
import json
import os
import shutil
import subprocess
import sys

MARKET = {"steps": 2400, "crash_start_s": 1200, "crash_duration_s": 600, "crash_fall": 0.15, "crash_iv_rise": 0.3}
RUNS = (
    ("fixed", "the demo's band (ww:0.25)", ""),
    ("margin", "margin-aware band (from 0.5 to 0.8, down to 0.25)",
     "band_narrow_from = 0.5\nband_narrow_to = 0.8\nband_min_fraction = 0.25\n"),
)


def run(hedgetrig, out, name, margin_keys, equity, model):
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    conf = os.path.join(folder, "crash.conf")
    series = os.path.join(folder, "margin.csv")
    with open(conf, "w") as f:
        f.write(f"[margin]\nmodel = {model}\nvenue_equity = no\nequity_coin = {equity}\nseries = {series}\n{margin_keys}")
    market = [a for k, v in MARKET.items() for a in ("--" + k.replace("_", "-"), str(v))]
    p = subprocess.run([hedgetrig, "demo", "--out", folder, "--config", conf, "--equity", str(equity), "--json",
                        *market], capture_output=True, text=True, timeout=1200)
    if p.returncode != 0:
        sys.exit(f"crash.py: {name}: hedgetrig demo exited {p.returncode}: {p.stderr[-600:]}")
    report = json.loads(p.stdout)
    with open(series) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"crash.py: {name}: no margin series (is [margin] on?)")
    ratios = [float(r["margin_ratio"]) for r in rows]
    t0 = float(rows[0]["time_s"])
    peak = max(range(len(rows)), key=lambda i: ratios[i])
    liquidated = next((float(r["time_s"]) - t0 for r in rows if float(r["margin_ratio"]) >= 1.0), None)
    return {
        "run": name, "series": series, "t0": t0,
        "ratio_start": ratios[0], "ratio_peak": ratios[peak], "ratio_peak_s": float(rows[peak]["time_s"]) - t0,
        "ratio_end": ratios[-1], "liquidated": liquidated is not None, "liquidated_at_s": liquidated,
        "equity_end_coin": float(rows[-1]["equity_coin"]), "maintenance_end_coin": float(rows[-1]["maintenance_coin"]),
        "spot_start": float(rows[0]["spot"]), "spot_end": float(rows[-1]["spot"]),
        "cost_usd": report["cost"], "orders": report["orders"], "traded_coin": report["traded_coin"],
    }


def chart(out, results):
    if not shutil.which("gnuplot"):
        print("gnuplot is not installed: no chart (apt-get install gnuplot-nox)")
        return
    png = os.path.join(out, "margin-crash.png")
    fixed, margin = results
    script = f"""set terminal pngcairo size 1400,900 font 'sans,10'
set output '{png}'
set datafile separator ','
set key autotitle columnhead
set multiplot layout 2,1
set title 'Crash: BTC index 15 % down over ten minutes, ATM vol +30 points (demo book, equity tight)'
set ylabel 'index (USD)'
set xlabel 'seconds'
plot '{fixed["series"]}' using ($1-{fixed["t0"]}):3 with lines lw 2 title 'index'
set title 'maintenance margin / equity (hedgetrig estimate at every tick; 1 = liquidation)'
set ylabel 'margin ratio'
plot '{fixed["series"]}' using ($1-{fixed["t0"]}):7 with lines lw 2 title 'fixed band', \\
     '{margin["series"]}' using ($1-{margin["t0"]}):7 with lines lw 2 title 'margin-aware band', \\
     1 with lines dt 2 lc rgb 'red' title 'liquidation'
unset multiplot
"""
    p = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    print(f"chart: {png}" if p.returncode == 0 else f"gnuplot failed: {p.stderr[-300:]}")


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit("usage: crash.py HEDGETRIG OUT [--equity COIN] [--model standard|portfolio] [--json]")
    hedgetrig, out = args[0], args[1]
    equity = float(args[args.index("--equity") + 1]) if "--equity" in args else 40.0
    os.makedirs(out, exist_ok=True)
    model = args[args.index("--model") + 1] if "--model" in args else "standard"
    results = [run(hedgetrig, out, name, keys, equity, model) for name, _, keys in RUNS]
    if "--json" in args:
        print(json.dumps({"model": model, "equity_coin": equity, "market": MARKET, "runs": results}, indent=1))
        return
    print(f"{model} margin, equity {equity} BTC; market {MARKET}")
    print("| run | ratio start | peak (s) | end | liquidated | hedging cost USD | orders | traded BTC |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for (name, label, _), r in zip(RUNS, results):
        liq = f"yes, at {r['liquidated_at_s']:.0f} s" if r["liquidated"] else "no"
        print(f"| {label} | {r['ratio_start']:.3f} | {r['ratio_peak']:.3f} ({r['ratio_peak_s']:.0f}) | "
              f"{r['ratio_end']:.3f} | {liq} | {r['cost_usd']:.2f} | {r['orders']} | {r['traded_coin']:.3f} |")
    chart(out, results)


if __name__ == "__main__":
    main()
