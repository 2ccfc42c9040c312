#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks `hedgetrig margin --json` on the shared capture against invariants computed here from its own output:
# the keys of the contract; standard margin's totals are the sums of the positions' (coin and USDC apart); the
# total in coin is coin + USDC / index; the margin ratio is maintenance over equity; a long option has no
# standard margin and a short one has initial >= maintenance > 0; the portfolio's maintenance is 0.8 of its
# initial margin, which is the worst loss plus the contingencies; the liquidation moves have the signs they name.
# Usage: margin_json_check.py HEDGETRIG PCAP BOOK
import json
import math
import subprocess
import sys

hedgetrig, pcap, book = sys.argv[1:4]


def run(*args):
    p = subprocess.run([hedgetrig, "margin", "--pcap", pcap, "--book", book, "--json", *args],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        sys.exit(f"margin {' '.join(args)} exited {p.returncode}: {p.stderr[:300]}")
    return json.loads(p.stdout)


def near(a, b, what, tol=1e-9):
    if not math.isclose(a, b, rel_tol=tol, abs_tol=1e-9):
        sys.exit(f"{what}: {a} != {b}")


std = run("--at", "60", "--equity", "40")
assert set(std) == {"at", "model", "excluded_positions", "underlyings"}, std.keys()
assert std["model"] == "standard" and std["excluded_positions"] == 0
u = std["underlyings"][0]
assert set(u) == {"underlying", "index", "positions", "totals", "portfolio", "equity"}, u.keys()
assert u["underlying"] == "BTC" and u["portfolio"] is None and len(u["positions"]) == 78
sums = {"BTC": [0.0, 0.0], "USDC": [0.0, 0.0]}
for p in u["positions"]:
    assert set(p) == {"instrument", "qty", "kind", "currency", "initial_margin", "maintenance_margin"}, p.keys()
    sums[p["currency"]][0] += p["initial_margin"]
    sums[p["currency"]][1] += p["maintenance_margin"]
    if p["kind"] == "option" and p["qty"] > 0:
        assert p["initial_margin"] == 0 and p["maintenance_margin"] == 0, p
    if p["kind"] == "option" and p["qty"] < 0:
        assert p["initial_margin"] >= p["maintenance_margin"] > 0, p
    if p["instrument"].startswith("BTC_USDC"):
        assert p["currency"] == "USDC", p
    else:
        assert p["currency"] == "BTC", p
t = u["totals"]
near(t["coin"]["initial_margin"], sums["BTC"][0], "coin initial = sum of positions")
near(t["coin"]["maintenance_margin"], sums["BTC"][1], "coin maintenance = sum of positions")
near(t["usdc"]["initial_margin"], sums["USDC"][0], "usdc initial = sum of positions")
near(t["usdc"]["maintenance_margin"], sums["USDC"][1], "usdc maintenance = sum of positions")
near(t["total_in_coin"]["maintenance_margin"],
     t["coin"]["maintenance_margin"] + t["usdc"]["maintenance_margin"] / u["index"], "total in coin")
e = u["equity"]
near(e["margin_ratio"], t["total_in_coin"]["maintenance_margin"] / 40.0, "margin ratio")

pm = run("--at", "60", "--equity", "40", "--model", "portfolio")
u = pm["underlyings"][0]
assert pm["model"] == "portfolio"
for side in ("coin", "usdc"):
    d = u["portfolio"][side]
    near(d["maintenance_margin"], 0.8 * d["initial_margin"], f"{side}: maintenance = 0.8 initial")
    near(d["initial_margin"], d["worst_loss"] + d["short_option_contingency"] + d["futures_offset_contingency"],
         f"{side}: initial = worst loss + contingencies")
    near(u["totals"][side]["initial_margin"], d["initial_margin"], f"{side}: totals are the portfolio's")
    assert abs(d["worst_move"]) <= 0.16 + 1e-12 and d["worst_vol"] in ("up", "same", "down"), d
e = u["equity"]
assert e["already_liquidating"] is False and e["liquidation_spot_down"] < 0, e
assert e["liquidation_spot_up"] is None or e["liquidation_spot_up"] > 0, e
# With equity below maintenance the account is liquidating now.
low = run("--at", "60", "--equity", "1")["underlyings"][0]["equity"]
assert low["already_liquidating"] is True and low["margin_ratio"] > 1, low
print("margin_json_check: ok")
