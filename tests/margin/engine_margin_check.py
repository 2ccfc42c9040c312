#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The engine's margin on the shared capture (hedgetrig replay, the exchange simulator reporting the account): the
# JSON report's "margin" keys and their arithmetic (ratio = maintenance / the venue's equity, the difference with
# the venue's maintenance margin), the same figures in the counters file and the Prometheus file, the venue's
# equity taking precedence over [margin] equity_coin, the portfolio model below the standard one for this
# offsetting book, and model = off leaving every margin output out.
# Usage: engine_margin_check.py HEDGETRIG PCAP BOOK SCRATCH_DIR
import json
import math
import os
import subprocess
import sys

hedgetrig, pcap, book, scratch = sys.argv[1:5]
os.makedirs(scratch, exist_ok=True)


def replay(margin_section, *extra):
    conf = os.path.join(scratch, "margin.conf")
    prom = os.path.join(scratch, "hedgetrig.prom")
    counters = os.path.join(scratch, "counters.txt")
    for path in (prom, counters):
        if os.path.exists(path):
            os.remove(path)
    with open(conf, "w") as f:
        f.write(f"[status]\nprometheus_file = {prom}\ncounters_file = {counters}\n\n[margin]\n{margin_section}\n")
    p = subprocess.run([hedgetrig, "replay", "--pcap", pcap, "--book", book, "--config", conf, "--json", *extra],
                       capture_output=True, text=True, timeout=240)
    if p.returncode != 0:
        sys.exit(f"replay exited {p.returncode}: {p.stderr[-400:]}")
    report = json.loads(p.stdout)
    prom_text = open(prom).read() if os.path.exists(prom) else ""
    counters_text = open(counters).read() if os.path.exists(counters) else ""
    return report, prom_text, counters_text


def near(a, b, what, rel=1e-9):
    if not (isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)):
        sys.exit(f"{what}: {a} != {b}")


def prom_value(text, name):
    for line in text.splitlines():
        if line.startswith(name + '{underlying="BTC"} '):
            return float(line.split()[-1])
    sys.exit(f"Prometheus file has no {name}{{underlying=\"BTC\"}}:\n{text[:2000]}")


def counter(text, key):
    for line in text.splitlines():
        if line.startswith(key + " = "):
            return float(line.split(" = ")[1])
    sys.exit(f"counters file has no {key}")


rep, prom, counters = replay("model = standard")
acct = rep["account"]
assert acct and acct["currency"] == "BTC", acct
m = rep["margin"]
assert isinstance(m, list) and len(m) == 1, m
m = m[0]
assert set(m) == {"underlying", "initial_margin_coin", "maintenance_margin_coin", "equity_coin", "margin_ratio",
                  "venue_difference_coin", "positions", "excluded", "live_maintenance_margin_coin", "live_equity_coin",
                  "live_margin_ratio", "live_margin_ratio_max", "live_venue_difference_coin", "liquidation_spot_up",
                  "liquidation_spot_down",
                  "liquidation_vol_up", "band_fraction", "live_updates"}, m.keys()
assert m["underlying"] == "BTC" and m["positions"] + m["excluded"] == 78, m
assert m["initial_margin_coin"] > m["maintenance_margin_coin"] > 0, m
near(m["equity_coin"], acct["equity"], "equity is the venue's")
near(m["margin_ratio"], m["maintenance_margin_coin"] / m["equity_coin"], "ratio = maintenance / equity")
near(m["venue_difference_coin"], m["maintenance_margin_coin"] - acct["maintenance_margin"], "difference with the venue")
assert rep["margin_computes"] >= 1, rep["margin_computes"]
near(prom_value(prom, "hedgetrig_margin_ratio"), m["margin_ratio"], "Prometheus ratio", 1e-6)
near(prom_value(prom, "hedgetrig_margin_maintenance_coin"), m["maintenance_margin_coin"], "Prometheus MM", 1e-6)
near(counter(counters, "margin_ratio"), m["margin_ratio"], "counters ratio", 1e-6)
standard_mm = m["maintenance_margin_coin"]

# The portfolio model on the same run: the book's options offset each other, its margin is below the sum.
rep, prom, _ = replay("model = portfolio")
pm = rep["margin"][0]
assert 0 < pm["maintenance_margin_coin"] < standard_mm, (pm, standard_mm)
near(pm["initial_margin_coin"] * 0.8, pm["maintenance_margin_coin"], "portfolio MM = 0.8 IM", 1e-6)

# The venue reports its equity in BTC: it takes precedence over [margin] equity_coin.
rep, _, _ = replay("equity_coin = 123")
near(rep["margin"][0]["equity_coin"], rep["account"]["equity"], "the venue's equity first")

# Off: no margin anywhere.
rep, prom, counters = replay("model = off")
assert rep["margin"] is None and rep["margin_computes"] == 0, rep["margin"]
assert "hedgetrig_margin" not in prom and "margin_ratio" not in counters
print("engine_margin_check: ok")
