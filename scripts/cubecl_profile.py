"""Sums cubecl's per-kernel profile (CUBECL_DEBUG_OPTION=profile, CUBECL_DEBUG_LOG=FILE) by kernel
name and prints the kernels that took the most time, so one short GPU run says where it goes.
    python3 scripts/cubecl_profile.py FILE [TOP]"""
import re, sys
from collections import defaultdict

UNITS = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}
line_re = re.compile(r"^\|\s*([0-9.]+)(ns|µs|us|ms|s)\s*\|\s*(.+)$")
total, count = defaultdict(float), defaultdict(int)
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = line_re.match(line.strip())
    if m:
        name = m.group(3).strip()[:140]
        total[name] += float(m.group(1)) * UNITS[m.group(2)]
        count[name] += 1
top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
grand = sum(total.values())
print("kernel time %.1f ms in %d launches of %d kernels" % (grand * 1e3, sum(count.values()), len(total)))
for name in sorted(total, key=total.get, reverse=True)[:top]:
    print("%9.2f ms %6d x  %s" % (total[name] * 1e3, count[name], name))
