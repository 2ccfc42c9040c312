#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A scripted day on the shared capture: the live book follows the venue (issue 13's acceptance test).

Replays the capture through the in-process exchange simulator with an account script (another session's sale, a
liquidation, a disconnect, a settlement) and checks, with exit codes:
  - the replay exits 0; --json's positions equal venue_positions, and both equal an independent reconstruction
    (the book file, the script file's events and the fills of the event log), instrument by instrument;
  - every change is attributed: one other_session, one liquidation, one settlement, as many hedge changes as fill
    rows, no unexplained change, no reconciliation difference; each script event reaches the event log once, with
    its instrument, quantity and price, within 0.5 s of capture time after its time_s;
  - the disconnect: the session went down and came back, and the venue's snapshot was taken twice (logon and
    reconnect);
  - the net delta at every breach equals an independent recompute from the venue's positions at that time: the
    reconstructed positions priced by `hedgetrig greeks --at-time` at the last refresh before the breach (the same
    moment of the capture the engine priced its table at), carried to the breach's spot and vol move by the Taylor
    expansion the pipeline evaluates (delta + gamma dS + speed dS^2 / 2 + vanna dvol, plus the hedges), within
    TOLERANCE_COIN.
Usage: scripted_day.py HEDGETRIG CAPTURE BOOK SCRIPT WORK_DIR
"""
import csv
import json
import os
import re
import subprocess
import sys

TOLERANCE_COIN = 1e-5  # the pipeline's fixed point and the marks of the hedge conversion stay far below this
LATE_S = 0.5           # a script event reaches the engine within this much capture time (replay polls every 0.1 s)


def fail(msg):
    print(f"scripted_day: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def run(args, what):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{what} exited {r.returncode}: {r.stderr.strip()[-600:]}")
    return r.stdout


def read_book(path):
    book = {}
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("instrument"):
            continue
        name, qty = [f.strip() for f in line.split(",")[:2]]
        book[name] = book.get(name, 0.0) + float(qty)
    return book


def read_script(path):
    events = []
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("time_s"):
            continue
        t, kind, inst, qty, px = [f.strip() for f in line.split(",")]
        events.append({"t": float(t), "kind": kind, "instrument": inst, "qty": float(qty) if qty else None,
                       "px": float(px) if px else None})
    return events


def read_tables(path):
    """The table log's loads, in order: (time_s, {instrument: row}); a load ends where an instrument repeats."""
    loads = []
    for r in csv.DictReader(open(path)):
        t = float(r["time_s"])
        if not loads or r["instrument"] in loads[-1][1] or abs(loads[-1][0] - t) > 5e-4:
            loads.append((t, {}))
        loads[-1][1][r["instrument"]] = {k: (float(v) if k not in ("instrument",) else v) for k, v in r.items()}
    return loads


def check_table(table, pos, t):
    """The table loaded at t holds exactly the venue's positions (every non-zero one, at its quantity)."""
    held = {k: r["qty_contracts"] for k, r in table.items() if r["qty_contracts"] != 0}
    venue = {k: v for k, v in pos.items() if v != 0}
    if set(held) != set(venue) or any(abs(held[k] - venue[k]) > 1e-9 for k in held):
        diff = {k: (held.get(k), venue.get(k)) for k in set(held) | set(venue) if held.get(k) != venue.get(k)}
        fail(f"the table loaded at {t:.3f} holds other quantities than the venue's positions: {diff}")
    for k, r in table.items():
        if r["qty_contracts"] != 0 and not r["in_table"] and r["hedge_coin"] == 0:
            fail(f"{k} is held but neither in the table nor a hedge at {t:.3f}")


def linear(name):
    return "_USDC-" in name or "_USDT-" in name  # Deribit's linear instruments: BTC_USDC-PERPETUAL, ...


def recompute(table, pos_at_load, pos, spot, dvol):
    """The net delta the pipeline evaluates at spot and dvol, from the venue's positions: each option's greeks per
    contract (the table's, scaled to one contract) times the venue's quantity, the inverse hedges' gamma and speed
    row from the venue's inverse hedges at the load, and the hedges' coin delta from the venue's positions now."""
    a = b = c = v = h = h_inv = 0.0
    s0 = None
    for k, r in table.items():
        s0 = r["s0"]
        q_load = r["qty_contracts"]
        if q_load == 0:
            continue
        if r["in_table"]:
            m = r["qty_x_mult"] / q_load * pos.get(k, 0.0)
            a += m * r["delta"]
            b += m * r["gamma"]
            c += m * r["speed"]
            v += m * r["vanna"]
        elif r["hedge_coin"] != 0:
            per = r["hedge_coin"] / q_load
            h += per * pos.get(k, 0.0)
            if not linear(k):
                h_inv += per * pos_at_load.get(k, 0.0)
    if h_inv != 0:
        b += -h_inv / s0
        c += 2.0 * h_inv / (s0 * s0)
    ds = spot - s0
    return a + (b + 0.5 * c * ds) * ds + v * dvol + h


def apply_script_event(r, pending, pos, t, t0):
    """A trade or settlement the event log reports: the next script event, with its instrument, quantity and
    price, on time; the venue's positions move by the script's numbers (not the log's)."""
    if not pending:
        fail(f"the event log reports a trade the script did not make: {r}")
    e = pending.pop(0)
    want = {"fill": "other_session", "liquidation": "liquidation", "settle": "settlement"}[e["kind"]]
    src = r["detail"].split(" ")[0]
    side_q = float(r["qty"]) * (1 if r["order_side"] == "buy" else -1)
    q = e["qty"] if e["qty"] is not None else -pos.get(e["instrument"], 0.0)
    if src != want or r["instrument"] != e["instrument"] or abs(side_q - q) > 1e-9:
        fail(f"script event {e} reached the log as {src} {r['instrument']} {side_q}")
    if e["kind"] != "settle" and abs(float(r["price"]) - e["px"]) > 1e-9 * e["px"]:
        fail(f"script event {e} reached the log at price {r['price']}")
    if not (t0 + e["t"] - 0.05 <= t <= t0 + e["t"] + LATE_S):
        fail(f"script event {e} (due at {t0 + e['t']:.3f}) reached the log at {t:.3f}")
    pos[e["instrument"]] = 0.0 if e["kind"] == "settle" else pos.get(e["instrument"], 0.0) + e["qty"]


def main():
    if len(sys.argv) != 6:
        fail("usage: scripted_day.py HEDGETRIG CAPTURE BOOK SCRIPT WORK_DIR")
    binary, capture, book_path, script_path, work = (os.path.abspath(a) for a in sys.argv[1:])
    os.makedirs(work, exist_ok=True)
    os.chdir(work)
    events_csv = os.path.join(work, "events.csv")
    table_csv = os.path.join(work, "table.csv")
    out = run([binary, "replay", "--pcap", capture, "--book", book_path, "--sim-exchange", "--venue-script",
               script_path, "--json", "--event-log", events_csv, "--table-log", table_csv], "replay")
    rep = json.loads(out)
    book = read_book(book_path)
    script = read_script(script_path)
    kinds = [e["kind"] for e in script]
    for k in ("fill", "liquidation", "disconnect", "settle"):
        if k not in kinds:
            fail(f"the script {script_path} has no '{k}' event: the day would not test it")

    def greeks_at(moment, positions):
        book_csv = os.path.join(work, "venue_book.csv")
        with open(book_csv, "w") as f:
            f.write("".join(f"{k},{v:.12g}\n" for k, v in sorted(positions.items()) if v != 0))
        return json.loads(run([binary, "greeks", "--pcap", capture, "--book", book_csv] + moment + ["--json"],
                              f"greeks {' '.join(moment)}"))

    # The capture's first exchange time: the script's clock starts there.
    t0 = greeks_at(["--at", "0"], book)["at"]["exchange_time_ms"] / 1000.0
    rows = list(csv.DictReader(open(events_csv)))
    tables = read_tables(table_csv)
    pos = dict(book)
    pending = list(e for e in script if e["kind"] != "disconnect")
    table = None
    n_tables = 0
    pos_at_load = {}
    checked = fills = 0
    worst = 0.0
    for r in rows:
        ev = r["event"]
        t = float(r["time_s"]) if r["time_s"] else None
        if ev == "fill":
            fills += 1
            q = float(r["qty"]) * (1 if r["order_side"] == "buy" else -1)
            pos[r["instrument"]] = pos.get(r["instrument"], 0.0) + q
        elif ev in ("trade", "settle") and r["detail"].split(" ")[0] in ("other_session", "liquidation", "settlement"):
            apply_script_event(r, pending, pos, t, t0)
        elif ev == "refresh":
            if n_tables >= len(tables):
                fail(f"a refresh at {t:.3f} with no table in the table log")
            tt, table = tables[n_tables]
            n_tables += 1
            if abs(tt - t) > 5e-4:
                fail(f"the refresh at {t:.3f} and the table log's load at {tt:.3f} are not the same load")
            check_table(table, pos, t)
            pos_at_load = dict(pos)
        elif ev == "breach" and r["reason"] == "":
            if table is None:
                fail(f"a breach before any table: {r}")
            dvol = float(re.search(r"dvol (\S+)", r["detail"]).group(1))
            nd = recompute(table, pos_at_load, pos, float(r["spot"]), dvol)
            diff = float(r["net_delta"]) - nd
            worst = max(worst, abs(diff))
            print(f"breach {t:.3f}: net delta {float(r['net_delta']):.9f}, recomputed from the venue's positions "
                  f"{nd:.9f} (dvol {dvol:g}): diff {diff:+.2e}")
            if abs(diff) > TOLERANCE_COIN:
                fail(f"the breach at {t:.3f} held net delta {r['net_delta']}, the venue's positions give {nd:.9f}")
            checked += 1
    if n_tables != len(tables):
        fail(f"{len(tables)} tables logged, {n_tables} refreshes in the event log")
    if pending:
        fail(f"script events never reached the event log: {pending}")
    if checked < 10:
        fail(f"only {checked} breaches checked: the day did not exercise the hedge")

    positions, venue = rep["positions"], rep["venue_positions"]
    if positions != venue:
        diff = {k: (positions.get(k), venue.get(k)) for k in set(positions) | set(venue)
                if positions.get(k) != venue.get(k)}
        fail(f"positions and venue_positions differ: {diff}")
    mine = {k: v for k, v in pos.items() if abs(v) > 1e-12}
    theirs = {k: v for k, v in venue.items() if v != 0}
    if set(mine) != set(theirs) or any(abs(mine[k] - theirs[k]) > 1e-9 for k in mine):
        diff = {k: (mine.get(k), theirs.get(k)) for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k)}
        fail(f"venue_positions differ from the book + script + fills: {diff}")
    pc = rep["position_changes"]
    want = {"hedge": fills, "other_session": kinds.count("fill"), "liquidation": kinds.count("liquidation"),
            "settlement": kinds.count("settle"), "unexplained": 0}
    if pc != want:
        fail(f"position_changes {pc}, expected {want}")
    for key, value in (("reconciliation_differences", 0), ("unexplained_alerts", 0),
                       ("liquidation_alerts", kinds.count("liquidation")), ("halted", False),
                       ("check_mismatches", 0), ("snapshots", 1 + kinds.count("disconnect"))):
        if rep[key] != value:
            fail(f"{key} is {rep[key]}, expected {value}")
    downs = [r for r in rows if r["event"] == "venue_down" and "closed" in r["detail"]]
    ups = [r for r in rows if r["event"] == "venue_up"]
    if len(downs) != kinds.count("disconnect") or len(ups) != 1 + kinds.count("disconnect"):
        fail(f"{len(downs)} drops and {len(ups)} logons for {kinds.count('disconnect')} scripted disconnects")
    print(f"scripted_day: ok: {checked} breaches recomputed (worst {worst:.2e} coin), {len(mine)} positions equal "
          f"the venue's, changes {pc}")


if __name__ == "__main__":
    main()
