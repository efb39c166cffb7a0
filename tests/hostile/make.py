#!/usr/bin/env python3
"""Writes the hostile-input corpus of tests/hostile (run from that directory)."""
import random

def ev(serial, sec=1700000000, ms=250, name='"created.txt"', cwd='"/tmp/h"', eoe=False,
       nl=b"\n", extra_path=None):
    t = f"{sec}.{ms:03d}:{serial}"
    recs = [
        f"type=SYSCALL msg=audit({t}): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55dac2e568d0 a2=241 a3=1b6 items=2 ppid=10 pid=11 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=3 comm=\"bash\" exe=\"/usr/bin/bash\" key=\"hostile\"",
        f"type=CWD msg=audit({t}): cwd={cwd}",
        f"type=PATH msg=audit({t}): item=0 name=\"/tmp/h\" inode=100 dev=fe:00 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0",
        f"type=PATH msg=audit({t}): item=1 name={name} inode={serial + 1000} dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0",
        f"type=PROCTITLE msg=audit({t}): proctitle=62617368002D63006563686F",
    ]
    if eoe:
        recs.append(f"type=EOE msg=audit({t}): ")
    return [r.encode() + nl for r in recs]

def single(serial, sec=1700000000, ms=0):
    return (f"type=DAEMON_START msg=audit({sec}.{ms:03d}:{serial}): op=start ver=3.0.9 format=raw "
            f"kernel=6.1.0 auid=4294967295 pid=100 uid=0 ses=4294967295 res=success\n").encode()

def write(name, parts):
    with open(name, "wb") as f:
        f.write(b"".join(parts))

def flat(*evs):
    out = []
    for e in evs:
        out.extend(e if isinstance(e, list) else [e])
    return out

rnd = random.Random(6)

# Records cut short: mid-header, mid-field, mid-quote; then whole events.
e2 = ev(2)
write("truncated-records.log", flat(
    ev(1), b"type=SYSCALL msg=audit(1700000000.250:9", b"\n",
    e2[0][:120] + b"\n", e2[1:], b"type=PATH msg=audit(1700000000.300:3): item=0 name=\"/tmp/h/unterminated\n",
    ev(4), b"type=CWD msg=audit(1700000000.400:5): cwd=\"/tmp/h"))

# One record line of 1 MiB (a huge hex name), between whole events.
big = b"type=PATH msg=audit(1700000001.000:11): item=0 name=" + b"41" * 524000 + b" inode=5 nametype=NORMAL"
big += b"B" * (1024 * 1024 - 1 - len(big)) + b"\n"
assert len(big) == 1024 * 1024
write("long-line-1mib.log", flat(ev(10), big, ev(12, sec=1700000001)))

# NUL bytes: inside a record, alone on a line, between records.
n = ev(21)
write("nul-bytes.log", flat(ev(20), b"\x00\x00\x00\n", n[0][:60] + b"\x00" + n[0][60:], n[1:],
      b"type=CWD msg=audit(1700000000.250:22): cwd=\"/tmp/\x00h\"\n", single(23), b"\x00"))

# Binary noise between whole events (no msg=audit( in the noise by chance).
noise = bytes(rnd.randrange(256) for _ in range(3000))
write("binary-noise.log", flat(ev(30), noise, b"\n", ev(31), noise[:777], b"\n", single(32)))

# Timestamps of 0, and far in the future (year 2200, 9999, beyond chrono).
write("timestamp-zero.log", flat(ev(40, sec=0, ms=0), single(41, sec=0), ev(42, sec=1)))
write("timestamp-far-future.log", flat(ev(50, sec=7258118400), single(51, sec=253402300799, ms=999),
      ev(52, sec=99999999999999), single(53, sec=18446744073709551615)))

# Serials near u32 and u64 wrap-around, then restarting at 0 and 1.
write("serial-rollover.log", flat(ev(4294967295), single(4294967296), ev(18446744073709551615, sec=1700000001),
      single(0, sec=1700000002), ev(1, sec=1700000002)))

# The same record twice, and the same whole event twice.
d = ev(60)
write("duplicated-records.log", flat(d[0], d[0], d[1:], d[3], ev(61), ev(61), single(62)))

# Records of two events interleaved, and time going backwards.
a, b = ev(70, sec=1700000010), ev(71, sec=1700000010, ms=300)
inter = [a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4]]
write("out-of-order.log", flat(inter, ev(72, sec=1700000005), single(73, sec=1700000001), ev(69, sec=1700000020)))

# An EOE whose event never came, an EOE for an event already ended, EOE first.
write("eoe-without-event.log", flat(b"type=EOE msg=audit(1700000000.100:80): \n", ev(81, eoe=True),
      b"type=EOE msg=audit(1700000000.250:81): \n", b"type=EOE msg=audit(1700000000.500:999): \n", single(82)))

# msg=audit( followed by garbage.
write("msg-audit-garbage.log", flat(ev(90), [
    b"type=SYSCALL msg=audit(\n", b"msg=audit(\n", b"type=PATH msg=audit(abc.def:ghi): x=y\n",
    b"type=CWD msg=audit(1700000000.250:): cwd=\"/\"\n", b"type=CWD msg=audit(:91): cwd=\"/\"\n",
    b"type=CWD msg=audit(1700000000.250:91 cwd=\"/\"\n", b"type=CWD msg=audit(-1.-1:-1): cwd=\"/\"\n",
    b"type=CWD msg=audit(1e9.5:1e3): cwd=\"/\"\n", b"msg=audit(msg=audit(msg=audit(\n",
    b"type=msg=audit(1700000000.250:92): type=\n", b"type=SYSCALL msg=audit(99999999999999999999999.0:1): a=b\n",
    b"type=SYSCALL msg=audit(1700000000.250:99999999999999999999999): a=b\n",
    ], ev(93)))

# Hex-encoded fields that are not valid hex.
write("invalid-hex.log", flat(ev(100, name="ZZ12"), ev(101, name="414"), ev(102, name="4G4G"),
      ev(103, name="00"), [b"type=PROCTITLE msg=audit(1700000001.000:104): proctitle=XYZ\n"],
      [b"type=EXECVE msg=audit(1700000001.000:105): argc=2 a0=7 a1=6G6F\n"],
      [b"type=USER_CMD msg=audit(1700000001.000:106): pid=1 uid=0 auid=0 ses=1 msg='cwd=\"/\" cmd=F res=success'\n"]))

# The last record has no newline.
last = ev(111)
write("no-final-newline.log", flat(ev(110), last[:-1], last[-1].rstrip(b"\n")))

# CRLF line ends throughout.
write("crlf.log", flat(ev(120, nl=b"\r\n"), single(121).replace(b"\n", b"\r\n"), ev(122, nl=b"\r\n")))

# Names that try to forge or break output lines: ESC [ sequences, newlines,
# CR, C1 CSI, backspace, invalid UTF-8, a very long name, quotes and commas.
def hexname(b):
    return b.hex().upper()
names = [
    b"\x1b[2J\x1b[31mred\x1b[0m.txt", b"new\nline.txt", b"forged\ncreated-file                  : /etc/passwd",
    b"cr\rreturn", "c1\u009b2Jcsi".encode(), b"bs\x08\x08\x08", b"caf\xe9.txt", b"tab\there",
    b"x" * 4000, b"quote\"comma,semi;json\\\"}", b"\x7fdel", "bidi\u202eevil".encode(),
]
parts = []
for i, nm in enumerate(names):
    parts += ev(130 + i, name=hexname(nm), cwd=hexname(b"/tmp/\x1b[1mcwd\n"))
write("escape-sequences-in-names.log", parts)

# The plugin stream form (EOE records) with a name holding a newline,
# delivered in the middle of noise.
write("stream-with-noise.stream", flat(ev(150, eoe=True, name=hexname(b"a\nb")), noise[:200], b"\n",
      ev(151, eoe=True), b"type=EOE msg=audit(1700000000.250:151): \n", single(152)))

# Values the kernel did not have: unquoted (null) in SYSCALL, CWD, PATH
# (a name of (null) and a real file named "(null)"), PROCTITLE and a user
# message; JSON writes null for them, not the string.
write("null-values.log", [
    b'type=SYSCALL msg=audit(1653911717.020:1001): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55d5c8a0b6f0 a2=241 a3=1b6 items=2 ppid=2000 pid=2001 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=(null) exe=(null) subj=(null) key=(null)\n',
    b'type=CWD msg=audit(1653911717.020:1001): cwd=(null)\n',
    b'type=PATH msg=audit(1653911717.020:1001): item=0 name=(null) inode=1 dev=fd:01 mode=040755 ouid=0 ogid=0 rdev=00:00 obj=(null) nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0\n',
    b'type=PATH msg=audit(1653911717.020:1001): item=1 name="(null)" inode=2 dev=fd:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0\n',
    b'type=PROCTITLE msg=audit(1653911717.020:1001): proctitle=(null)\n',
    b"type=USER_LOGIN msg=audit(1653911718.020:1002): pid=1 uid=0 auid=4294967295 ses=4294967295 subj=(null) msg='op=login acct=(null) exe=(null) hostname=(null) addr=(null) terminal=(null) res=failed'\n",
])

# A PROCTITLE value that starts with (null) and goes on: libauparse 3.0.9's
# interpretation of it is an unterminated buffer (found by fuzzing under
# AddressSanitizer); ours is the raw value. .ci/valgrind runs every
# subcommand on this file.
write("proctitle-null-prefix.log", [
    b"type=PROCTITLE msg=audit(1653911717.020:1101): proctitle=(null)syscall=2\n",
    b"type=PROCTITLE msg=audit(1653911718.020:1102): proctitle=(null)xxxxxxxxxxxxxxxxxxxxxxxxx\n",
    b"type=PROCTITLE msg=audit(1653911719.020:1103): proctitle=(null)\n",
])

# PROCTITLE values on both sides of libauparse 3.0.9's over-reads (see
# interp_rule::libauparse_overreads): the first seven make `valgrind
# ausearch -i` report reads of uninitialised memory, the other eight do not.
# .ci/valgrind runs every subcommand on this file: none may read them.
write("proctitle-overreads.log", [
    f"type=PROCTITLE msg=audit(1700000000.000:{1201 + i}): proctitle={v}\n".encode()
    for i, v in enumerate([
        "(null)xxxxxxxx", "(null)syscall=2", "(x)xxxxx", "(nu:l)xxxxxxxxxxxxxxx",
        "00000.250:61):", "00(x)xxxxxxx", "0041414141zzzzzzzzzzzzzzzz",
        "(null)", "(null)xxxxxxx", "(x)xxxx", "(no_close_paren_at_all",
        "6C73002D6C", "6C73zzzzzzzzzzzzzzzzzzzz", "00414141", "004zzzzzzzzzzzzz",
    ])
])
