#!/usr/bin/env python3
"""Writes the seed inputs of each fuzz target into fuzz/corpus/TARGET/
(derived from tests/fixtures/live and tests/hostile, so nothing large is
checked in). Existing files are kept."""
import os, re, sys, hashlib, glob

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = os.path.join(root, "fuzz", "corpus")

def put(target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    p = os.path.join(d, name)
    if not os.path.exists(p):
        with open(p, "wb") as f:
            f.write(data)

logs = sorted(glob.glob(os.path.join(root, "tests/fixtures/live/*.log"))
              + glob.glob(os.path.join(root, "tests/fixtures/live/*.stream")))
enriched = sorted(glob.glob(os.path.join(root, "tests/fixtures/enriched/*.log")))
hostile = sorted(glob.glob(os.path.join(root, "tests/hostile/*")))
for p in logs + hostile:
    data = open(p, "rb").read()
    if len(data) > 64 * 1024:
        continue
    # flags, four chunk sizes
    for head in (b"\x00\xff\xff\xff\xff", b"\x05\x01\x25\x80\x07",
                 b"\x01\xff\xff\xff\xff", b"\x32\x10\x00\x40\x03"):
        put("feeder_formats", head + data)
    # grouping: timeout, four chunk sizes
    for head in (b"\x01\xff\xff\xff\xff", b"\x02\x01\x25\x80\x07"):
        put("grouping", head + data)

TYPES = {"SYSCALL": 0, "CWD": 1, "PATH": 3, "PROCTITLE": 5, "EOE": 6}
rec = re.compile(rb"type=(\w+) msg=audit\((\d+)\.\d+:(\d+)\): ?(.*)")
for p in logs:
    out_lines = []
    last = None
    for line in open(p, "rb").read().splitlines():
        m = rec.search(line)
        if not m or m.group(1).decode() not in TYPES:
            continue
        sel = TYPES[m.group(1).decode()]
        sec, serial = int(m.group(2)), int(m.group(3))
        if last is not None:
            if serial != last[1]:
                sel |= 8
            if sec != last[0]:
                sel |= 16 | (min(sec - last[0], 7) << 5)
        if sel == 10:
            sel = 11
        last = (sec, serial)
        out_lines.append(bytes([sel]) + m.group(4))
    if out_lines:
        put("fschange", b"\x02" + b"\n".join(out_lines) + b"\n")

for s in [b"", b"plain", b"new\nline", b"\x1b[31mred\x1b[0m", b"caf\xe9",
          b"\xc2\x9b2J", b"\xc2\x85", b"back\\slash", b"quote\"", b"\x00nul",
          b"\x7f", "\u2028\u202e".encode(), b"\xed\xa0\x80", b"\\101"]:
    put("escape", s)

# shortcuts: flags (escape mode, grouping) + a log, the ENRICHED fixtures too.
for p in logs + enriched + hostile:
    data = open(p, "rb").read()
    if len(data) > 64 * 1024:
        data = data[:64 * 1024]
    for flags in (0, 1, 2, 3, 4, 7):
        put("shortcuts", bytes([flags]) + data)
