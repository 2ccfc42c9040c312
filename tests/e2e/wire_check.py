#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Wire mode against the host path on the shared capture (issue 15): `replay --backend B --wire` hands the raw
Ethernet frames to the pipeline's ingest, which makes its own ticks; the decisions must be the host path's.

Checks, with exit codes:
  - same: `replay --backend B --wire` gives byte for byte the event log and the series of `replay --backend sw`
    (no --wire), and as many pipeline ticks; its JSON "wire" object: every frame of the capture decided (the
    count read here from the file), frames_ok plus the drop counters add up to frames, the ingest's ticks equal
    the host path's pipeline ticks, no index message without its tick and no tick without its message;
  - hostile: the capture with five more frames after index frames (a copy cut short, a copy with a bad IPv4
    checksum, one with a non-IPv4 EtherType, an IP fragment, an exact duplicate): the same event log and series
    as the host path on the original capture, and each frame in its own ingest counter (short, ip_checksum,
    not_ipv4, fragment, old_seq: one each);
  - unseen gap: one index frame of a mapped index (btc_usd) given a bad IPv4 checksum in place: the host path
    (which does not check IPv4 checksums) takes it, the ingest drops it and would stay stale on the next frame;
    the engine re-arms the channel (rearms_unseen 1, a wire_rearm line in the event log), the frame's tick is
    counted missing and every later tick still flows (pipeline ticks + missing ticks = the host path's ticks);
  - feed reset: one btc_usd index frame's sequence set 1000 back: the feed takes it as a reset (a gap), the
    ingest drops it as old; the engine re-arms the channel on the feed's gap at once (rearms_feed_only), so that
    the next frame starts the ingest's sequence (no stale frame: without that re-arm it would be dropped as a gap
    and re-armed after), the frame's tick is missing and every later tick flows.
Usage: wire_check.py HEDGETRIG CAPTURE BOOK WORK_DIR BACKEND [file|dpdk]  (how the wire runs read the capture)
"""
import json
import os
import struct
import subprocess
import sys


def fail(msg):
    print(f"wire_check: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic != 0xA1B2C3D4:
        fail(f"{path}: not a little-endian microsecond pcap (magic {magic:#x})")
    header, frames, off = data[:24], [], 24
    while off + 16 <= len(data):
        ts_s, ts_us, caplen, origlen = struct.unpack("<IIII", data[off:off + 16])
        frames.append([ts_s, ts_us, data[off + 16:off + 16 + caplen], origlen])
        off += 16 + caplen
    return header, frames


def write_pcap(path, header, frames):
    with open(path, "wb") as f:
        f.write(header)
        for ts_s, ts_us, frame, origlen in frames:
            f.write(struct.pack("<IIII", ts_s, ts_us, len(frame), max(origlen, len(frame))))
            f.write(frame)


def ip_checksum(header):
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def with_checksum(frame):
    """The frame with its IPv4 header checksum recomputed (plain Ethernet II)."""
    ihl = (frame[14] & 15) * 4
    ip = bytearray(frame[14:14 + ihl])
    ip[10:12] = b"\0\0"
    ip[10:12] = struct.pack("!H", ip_checksum(bytes(ip)))
    return frame[:14] + bytes(ip) + frame[14 + ihl:]


def channel_of(frame):
    """The Deribit channelId of a plain Ethernet II / IPv4 / UDP frame, or None."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return None
    udp = 14 + (frame[14] & 15) * 4
    return struct.unpack("<H", frame[udp + 10:udp + 12])[0] if len(frame) >= udp + 12 else None


VIA = []  # ["--via", "dpdk"]: the wire runs read the capture through DPDK's net_pcap vdev


def replay(hedgetrig, capture, book, out, backend, wire):
    args = [hedgetrig, "replay", "--pcap", capture, "--book", book, "--backend", backend, "--json",
            "--event-log", out + ".log", "--series", out + ".csv"]
    if wire:
        args += ["--wire"] + VIA
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{' '.join(args[1:])} exited {r.returncode}: {r.stderr.strip()[-600:]}")
    try:
        report = json.loads(r.stdout)
    except ValueError as e:
        fail(f"{out}: the JSON does not parse: {e}")
    with open(out + ".log") as f:
        log = f.read()
    with open(out + ".csv") as f:
        series = f.read()
    return report, log, series


def same_decisions(what, ref, got):
    _, ref_log, ref_series = ref
    _, log, series = got
    if log != ref_log:
        a, b = ref_log.splitlines(), log.splitlines()
        first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        fail(f"{what}: the event log differs from the host path's ({len(b)} against {len(a)} lines), first at "
             f"line {first + 1}: {b[first] if first < len(b) else '<end>'!r} against "
             f"{a[first] if first < len(a) else '<end>'!r}")
    if series != ref_series:
        fail(f"{what}: the series differs from the host path's")
    if ref_log.count("\n") < 50 or "breach" not in ref_log:
        fail(f"{what}: the host path's event log holds no breach: nothing was compared")


def wire_of(what, report):
    w = report.get("wire")
    if not w or not w.get("counters_read"):
        fail(f"{what}: no \"wire\" object with the ingest's counters in the JSON")
    c = w["ingest"]
    drops = ["disabled", "mac_error", "too_long", "overrun", "short", "not_ipv4", "ip_header", "ip_checksum",
             "fragment", "not_udp", "filter", "length", "channel", "old_seq", "stale", "sbe"]
    if c["frames_ok"] + sum(c[k] for k in drops) != c["frames"]:
        fail(f"{what}: frames_ok and the drop counters do not add up to frames: {c}")
    return w, c


def check_same(hedgetrig, capture, book, work, backend, ref, n_frames):
    got = replay(hedgetrig, capture, book, os.path.join(work, f"{backend}_wire"), backend, True)
    same_decisions(f"{backend} --wire", ref, got)
    w, c = wire_of(f"{backend} --wire", got[0])
    if c["frames"] != n_frames or w["frames_pushed"] != n_frames:
        fail(f"{backend} --wire: the ingest decided {c['frames']} frames, pushed {w['frames_pushed']}; the capture "
             f"holds {n_frames}")
    if c["ticks"] != ref[0]["pipeline_ticks"] or got[0]["pipeline_ticks"] != ref[0]["pipeline_ticks"]:
        fail(f"{backend} --wire: {c['ticks']} ingest ticks, {got[0]['pipeline_ticks']} pipeline ticks; the host path "
             f"pushed {ref[0]['pipeline_ticks']}")
    if w["missing_ticks"] or w["unmatched_ticks"] or w["lost_ticks"] or w["rearms"]:
        fail(f"{backend} --wire: ticks and index messages do not pair up: {w}")
    return c


def hostile_frames(frames):
    """The capture with five bad frames, each after one index frame (channel 0); their expected counters."""
    index_at = [i for i, fr in enumerate(frames) if channel_of(fr[2]) == 0]
    if len(index_at) < 100:
        fail(f"the capture has {len(index_at)} index frames")
    picks = index_at[40:45]
    base = [bytes(frames[i][2]) for i in picks]
    cut = base[0][:46]                                          # ends inside the Deribit frame header
    bad_sum = bytearray(base[1]); bad_sum[24] ^= 0x5A           # the IPv4 header checksum
    arp = bytearray(base[2]); arp[12:14] = b"\x08\x06"          # EtherType ARP
    frag = bytearray(base[3]); frag[20] |= 0x20                 # more fragments
    frag = with_checksum(bytes(frag))
    dup = base[4]                                               # the same sequence again
    extra = {picks[0]: (cut, "short"), picks[1]: (bytes(bad_sum), "ip_checksum"), picks[2]: (bytes(arp), "not_ipv4"),
             picks[3]: (frag, "fragment"), picks[4]: (dup, "old_seq")}
    out = []
    for i, fr in enumerate(frames):
        out.append(fr)
        if i in extra:
            out.append([fr[0], fr[1], extra[i][0], len(fr[2])])
    return out, [v[1] for v in extra.values()]


def check_hostile(hedgetrig, header, frames, book, work, backend, ref, clean):
    hostile, counters = hostile_frames(frames)
    path = os.path.join(work, "hostile.pcap")
    write_pcap(path, header, hostile)
    got = replay(hedgetrig, path, book, os.path.join(work, f"{backend}_hostile"), backend, True)
    same_decisions(f"{backend} --wire on the hostile capture", ref, got)
    _, c = wire_of(f"{backend} --wire on the hostile capture", got[0])
    if c["frames"] != len(hostile):
        fail(f"hostile: the ingest decided {c['frames']} of {len(hostile)} frames")
    for k in counters:
        if c[k] != clean[k] + 1:
            fail(f"hostile: counter {k} is {c[k]}, expected {clean[k] + 1} (one bad frame more than the clean run)")
    if c["frames_ok"] != clean["frames_ok"] or c["ticks"] != clean["ticks"]:
        fail(f"hostile: frames_ok {c['frames_ok']} and ticks {c['ticks']} differ from the clean run's "
             f"{clean['frames_ok']} and {clean['ticks']}")


def check_unseen_gap(hedgetrig, header, frames, book, work, backend, ref):
    index_at = [i for i, fr in enumerate(frames) if channel_of(fr[2]) == 0 and b"btc_usd" in fr[2]]
    if len(index_at) < 20:
        fail(f"the capture has {len(index_at)} btc_usd index frames")
    victim = index_at[-10]
    bad = [list(fr) for fr in frames]
    frame = bytearray(bad[victim][2]); frame[24] ^= 0x5A
    bad[victim][2] = bytes(frame)
    path = os.path.join(work, "unseen_gap.pcap")
    write_pcap(path, header, bad)
    report, log, _ = replay(hedgetrig, path, book, os.path.join(work, f"{backend}_unseen_gap"), backend, True)
    w, c = wire_of(f"{backend} --wire with an unseen gap", report)
    if w["rearms_unseen"] != 1 or w["rearms"] != 1 or c["ip_checksum"] != 1 or c["gaps"] != 1 or c["stale"] != 1:
        fail(f"unseen gap: expected one re-arm the feed did not see after one bad checksum: {w}")
    if log.count(",wire_rearm,") != 1:
        fail("unseen gap: no wire_rearm line in the event log")
    if w["missing_ticks"] != 1 or report["pipeline_ticks"] + 1 != ref[0]["pipeline_ticks"]:
        fail(f"unseen gap: {report['pipeline_ticks']} pipeline ticks and {w['missing_ticks']} missing; the host path "
             f"pushed {ref[0]['pipeline_ticks']}")


def check_feed_reset(hedgetrig, header, frames, book, work, backend, ref):
    index_at = [i for i, fr in enumerate(frames) if channel_of(fr[2]) == 0 and b"btc_usd" in fr[2]]
    victim = index_at[-12]
    bad = [list(fr) for fr in frames]
    frame = bytearray(bad[victim][2])
    udp = 14 + (frame[14] & 15) * 4
    seq = struct.unpack("<I", frame[udp + 12:udp + 16])[0]
    if seq < 2000:
        fail(f"feed reset: the victim frame's sequence is {seq}")
    frame[udp + 12:udp + 16] = struct.pack("<I", seq - 1000)
    bad[victim][2] = bytes(frame)
    path = os.path.join(work, "feed_reset.pcap")
    write_pcap(path, header, bad)
    report, _, _ = replay(hedgetrig, path, book, os.path.join(work, f"{backend}_feed_reset"), backend, True)
    w, c = wire_of(f"{backend} --wire with a feed reset", report)
    if c["old_seq"] != 1 or w["rearms_feed_only"] < 1 or w["rearms_unseen"] != 0 or c["stale"] != 0:
        fail(f"feed reset: expected one old frame and a re-arm on the feed's gap: {w}")
    if w["missing_ticks"] != 1 or report["pipeline_ticks"] + 1 != ref[0]["pipeline_ticks"]:
        fail(f"feed reset: {report['pipeline_ticks']} pipeline ticks and {w['missing_ticks']} missing; the host path "
             f"pushed {ref[0]['pipeline_ticks']}")


def main():
    if len(sys.argv) not in (6, 7):
        fail("usage: wire_check.py HEDGETRIG CAPTURE BOOK WORK_DIR BACKEND [file|dpdk]")
    hedgetrig, capture, book, work, backend = sys.argv[1:6]
    if len(sys.argv) == 7:
        VIA[:] = ["--via", sys.argv[6]]
    os.makedirs(work, exist_ok=True)
    header, frames = read_pcap(capture)
    ref = replay(hedgetrig, capture, book, os.path.join(work, "sw_host"), "sw", False)
    clean = check_same(hedgetrig, capture, book, work, backend, ref, len(frames))
    check_hostile(hedgetrig, header, frames, book, work, backend, ref, clean)
    check_unseen_gap(hedgetrig, header, frames, book, work, backend, ref)
    check_feed_reset(hedgetrig, header, frames, book, work, backend, ref)
    print(f"wire_check: ok: {backend} --wire {' '.join(VIA)}: {ref[0]['pipeline_ticks']} ticks, {ref[0]['breaches']} breaches, "
          f"{ref[1].count(chr(10))} event log lines identical; hostile frames counted; unseen gap and feed reset re-armed")


if __name__ == "__main__":
    main()
