#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The engine's margin between refreshes and its levels on the shared capture (hedgetrig replay, the exchange
# simulator's account at 40 BTC, the book's standard margin ratio about 0.58):
# - the estimate at the last tick against hedgetrig margin's revaluation (the same book, equity and moment): the
#   ratio, the spot fall and the vol rise that liquidate (a quadratic fit cannot be exact: within the tolerance
#   docs/margin.md states); the same figures in the counters and the Prometheus file;
# - levels set above the ratio change nothing: the event log is byte-identical with the run without them;
# - the margin-aware band: its fraction follows the documented rule from the logged ratio;
# - flatten_ratio below the ratio: the flatten row, the band collapsed on its centre (0) in every later decision,
#   and no order after it takes |net delta| up; with Zakamouline's rule (a centre off 0) the orders that would
#   have are refused, each saying so;
# - kill_ratio below the ratio: the kill row, the kill switch in the report, no order after it;
# - the keys' cross-checks name what is wrong.
# Usage: engine_margin_levels_check.py HEDGETRIG PCAP BOOK SCRATCH_DIR
import csv
import json
import math
import os
import subprocess
import sys

hedgetrig, pcap, book, scratch = sys.argv[1:5]
os.makedirs(scratch, exist_ok=True)
EQUITY = 40


def replay(name, margin_section, *extra):
    conf = os.path.join(scratch, name + ".conf")
    prom = os.path.join(scratch, name + ".prom")
    counters = os.path.join(scratch, name + ".counters")
    events = os.path.join(scratch, name + ".events.csv")
    with open(conf, "w") as f:
        f.write(f"[status]\nprometheus_file = {prom}\ncounters_file = {counters}\n\n[margin]\n{margin_section}\n")
    p = subprocess.run([hedgetrig, "replay", "--pcap", pcap, "--book", book, "--config", conf, "--json",
                        "--equity", str(EQUITY), "--event-log", events, *extra], capture_output=True, text=True,
                       timeout=240)
    if p.returncode != 0:
        sys.exit(f"{name}: replay exited {p.returncode}: {p.stderr[-400:]}")
    with open(events) as f:
        rows = list(csv.DictReader(f))
    return json.loads(p.stdout), open(prom).read(), open(counters).read(), open(events).read(), rows


def counter(text, key):
    for line in text.splitlines():
        if line.startswith(key + " = "):
            return float(line.split(" = ")[1])
    sys.exit(f"counters file has no {key}")


def prom_value(text, name):
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + '{underlying="BTC"} '):
            return float(line.split()[-1])
    sys.exit(f"Prometheus file has no {name}")


def close(a, b, tol, what):
    if not (isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) <= tol):
        sys.exit(f"{what}: {a} vs {b} (tolerance {tol})")


# ---- the estimate against the revaluation ----
base, prom, counters, base_log, _ = replay("base", "model = standard")
m = base["margin"][0]
assert m["live_updates"] > 100, m
close(m["live_margin_ratio"], m["live_maintenance_margin_coin"] / m["live_equity_coin"], 1e-9, "live ratio arithmetic")
close(m["live_margin_ratio"], m["margin_ratio"], 0.01 * m["margin_ratio"], "live ratio near the last computation's")
cli = subprocess.run([hedgetrig, "margin", "--pcap", pcap, "--book", book, "--at", "79",  # the capture's last second
                      "--equity", str(m["live_equity_coin"]), "--json"], capture_output=True, text=True, timeout=120)
assert cli.returncode == 0, cli.stderr[-400:]
exact = json.loads(cli.stdout)["underlyings"][0]["equity"]
close(m["live_margin_ratio"], exact["margin_ratio"], 0.03 * exact["margin_ratio"], "live ratio vs hedgetrig margin")
close(m["liquidation_spot_down"], exact["liquidation_spot_down"], 0.04, "spot fall that liquidates")
close(m["liquidation_vol_up"], exact["liquidation_vol_up"], 0.1 * exact["liquidation_vol_up"], "vol rise that liquidates")
assert 0 < m["liquidation_spot_up"] <= exact["liquidation_spot_up"], (m, exact)  # the fit is the nearer (documented)
for key, name in (("margin_live_ratio", "hedgetrig_margin_live_ratio"),
                  ("liquidation_spot_down", "hedgetrig_liquidation_spot_down_ratio"),
                  ("liquidation_vol_up", "hedgetrig_liquidation_vol_up")):
    close(counter(counters, key), prom_value(prom, name), 1e-6 * abs(counter(counters, key)), key)
close(counter(counters, "liquidation_spot_down"), m["liquidation_spot_down"], 1e-6, "counters fall")

# ---- levels above the ratio: nothing changes ----
_, _, _, quiet_log, _ = replay("quiet", "flatten_ratio = 5\nkill_ratio = 6\nband_narrow_from = 2\nband_narrow_to = 3")
assert quiet_log == base_log, "levels above the ratio changed the event log"

# ---- the margin-aware band ----
rep, _, counters, _, rows = replay("band", "band_narrow_from = 0.3\nband_narrow_to = 0.8\nband_min_fraction = 0.25")
bands = [r for r in rows if r["event"] == "margin_band"]
assert bands, "no margin_band row"
for r in bands:
    words = r["detail"].split()
    ratio, fraction = float(words[2].rstrip(":")), float(words[6])
    q = min((ratio - 0.3) / 0.5, 1.0)
    q = 1.0 if q >= 1.0 else math.floor(q * 20) / 20
    close(fraction, 1 - 0.75 * q, 1e-9, f"band fraction at ratio {ratio}")
close(rep["margin"][0]["band_fraction"], float(bands[-1]["detail"].split()[6]), 1e-12, "report's fraction")

# ---- flatten ----
rep, _, counters, _, rows = replay("flatten", "flatten_ratio = 0.5")
at = next(i for i, r in enumerate(rows) if r["event"] == "margin_flatten")
assert rep["margin_flattens"] >= 1 and counter(counters, "margin_flattens") >= 1
decisions = [r for r in rows[at:] if r["event"] == "decision"]
assert decisions
for r in decisions:
    lo, hi = float(r["band_lo"]), float(r["band_hi"])
    assert min(abs(lo), abs(hi)) < 1e-6, f"band not collapsed on 0 after flatten: {r}"
traded = 0
for r in decisions:
    nd = float(r["net_delta"])
    trade = float(r["detail"].split("trade ")[1].split()[0])
    assert abs(nd + trade) <= abs(nd) + 1e-9, f"an order raised |net delta| after flatten: {r}"
    traded += trade != 0
assert traded > 0, "no hedge after flatten"

# ---- flatten's refusals: Zakamouline's centre is off 0 (its vanna term), so a hedge towards it can take |net
# delta| up: those orders are refused, each with a reason that says so ----
rep, _, counters, _, rows = replay("refuse", "flatten_ratio = 0.5", "--strategy", "zak:1")
refused = [r for r in rows if r["event"] == "refused" and "flatten_ratio" in r["detail"]]
assert refused and rep["margin_refused"] == len(refused), (rep["margin_refused"], len(refused))
assert rep["orders_refused"] >= len(refused) and counter(counters, "margin_refused") == len(refused)
for r in refused:
    before, after = (float(x) for x in r["detail"].split("from ")[1].split(" coin")[0].split(" to "))
    assert after > before, f"refused an order that lowers |net delta|: {r}"
at = next(i for i, r in enumerate(rows) if r["event"] == "margin_flatten")
last_nd = None
for r in rows[at:]:
    if r["event"] == "decision":
        last_nd = float(r["net_delta"])
    if r["event"] == "order":
        delta = float(r["detail"].split("delta ")[1].split()[0])
        assert abs(last_nd + delta) <= abs(last_nd) + 1e-9, f"an order that raises |net delta| went out: {r}"

# ---- kill ----
rep, prom, counters, _, rows = replay("kill", "kill_ratio = 0.5")
at = next(i for i, r in enumerate(rows) if r["event"] == "margin_kill")
assert rep["margin_killed"] is True and rep["killed"] is True, rep.get("killed")
assert not [r for r in rows[at:] if r["event"] == "order"], "an order after the kill"
assert counter(counters, "margin_killed") == 1 and prom_value(prom, "hedgetrig_margin_killed") == 1

# ---- the keys' cross-checks ----
for section, text in (("band_narrow_from = 1\nband_narrow_to = 0.5", "band_narrow_to 0.5 must be above"),
                      ("flatten_ratio = 0.9\nkill_ratio = 0.8", "kill_ratio 0.8 must not be below flatten_ratio")):
    conf = os.path.join(scratch, "bad.conf")
    with open(conf, "w") as f:
        f.write(f"[margin]\n{section}\n")
    p = subprocess.run([hedgetrig, "replay", "--pcap", pcap, "--book", book, "--config", conf], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 2 and text in p.stderr, (p.returncode, p.stderr[-300:])
print("engine_margin_levels_check: ok")
