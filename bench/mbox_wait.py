#!/usr/bin/env python3
"""Waits until an mbox file has gained N messages; prints the wall-clock time when it had.

Usage: mbox_wait.py MBOX N TIMEOUT_S READY_FILE
Counts lines that start with "From " in the bytes appended since the start, reading only new bytes. A tail of NUL
bytes (a memory-mapped append that is still being copied) is not consumed until it has been filled in.
Writes READY_FILE once the starting count is known, so the caller starts its load only then.
Prints "<unix time> <count>" on success, "TIMEOUT <count>" otherwise.
"""
import os
import sys
import time

path, goal, timeout, ready = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
offset = os.path.getsize(path) if os.path.exists(path) else 0
count, tail = 0, b"\n"
open(ready, "w").close()
deadline = time.time() + timeout
while True:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read(1 << 24)
    except FileNotFoundError:
        data = b""
    nul = data.find(b"\0")
    if nul >= 0:
        data = data[:nul]
    if data:
        buf = tail + data
        count += buf.count(b"\nFrom ")
        tail = buf[-5:]
        offset += len(data)
    if count >= goal:
        print("%.6f %d" % (time.time(), count))
        break
    if time.time() > deadline:
        print("TIMEOUT %d" % count)
        break
    if not data or nul >= 0:
        time.sleep(0.02)
