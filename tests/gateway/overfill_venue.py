#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A scripted FIX 4.4 venue that misbehaves on purpose: it answers a Logon, then fills every NewOrderSingle
with 1000 contracts whatever was ordered (an overfill), and answers a Logout. It prints its port on the first
line and exits after one connection or 20 s. Used by overfill_check.sh; written from the FIX 4.4 message layout
(BeginString, BodyLength, MsgType first; CheckSum = sum of the bytes mod 256), not from any FIX library."""
import socket
import sys
import time

SOH = "\x01"


def encode(msg_type, seq, fields):
    """One message from (tag, value) pairs, with the standard header and trailer."""
    stamp = time.strftime("%Y%m%d-%H:%M:%S.000", time.gmtime())
    header = [(35, msg_type), (49, "DERIBITSERVER"), (56, "HT"), (34, seq), (52, stamp)]
    body = "".join(f"{tag}={value}{SOH}" for tag, value in header + fields)
    text = f"8=FIX.4.4{SOH}9={len(body)}{SOH}{body}"
    return (text + f"10={sum(text.encode()) % 256:03d}{SOH}").encode()


def main():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(20)
    print(listener.getsockname()[1], flush=True)
    conn, _ = listener.accept()
    conn.settimeout(1)
    seq, pending, deadline = 1, b"", time.time() + 20
    while time.time() < deadline:
        try:
            data = conn.recv(65536)
        except socket.timeout:
            continue
        if not data:
            return 0
        pending += data
        while b"\x0110=" in pending:
            end = pending.index(b"\x0110=") + 8
            message, pending = pending[:end].decode(), pending[end:]
            fields = dict(item.split("=", 1) for item in message.split(SOH) if "=" in item)
            kind = fields.get("35")
            if kind == "A":
                reply = encode("A", seq, [(98, 0), (108, fields.get("108", "30"))])
            elif kind == "D":
                px = fields["44"]
                reply = encode("8", seq, [(37, "OVERFILL1"), (11, fields["11"]), (17, "EXEC1"), (150, "F"),
                                          (39, "2"), (55, fields["55"]), (54, fields["54"]), (38, fields["38"]),
                                          (32, 1000), (31, px), (151, 0), (14, 1000), (6, px)])
            elif kind == "5":
                reply = encode("5", seq, [])
            else:
                continue
            conn.sendall(reply)
            seq += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
