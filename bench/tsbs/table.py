#!/usr/bin/env python3
"""Writes the TSBS race table (markdown) from race.sh's output directory:
the warm run's median per query type for each system, Strata over
VictoriaMetrics and over InfluxDB, then the load figures."""
import os
import re
import sys

SYSTEMS = [("strata", "Strata"), ("influxd", "InfluxDB 1.6.7"), ("vm", "VictoriaMetrics 1.79.5")]
TYPES = ["single-groupby-1-1-1", "single-groupby-1-1-12", "single-groupby-1-8-1",
         "single-groupby-5-1-1", "single-groupby-5-1-12", "single-groupby-5-8-1",
         "cpu-max-all-1", "cpu-max-all-8", "double-groupby-1", "double-groupby-5",
         "double-groupby-all", "high-cpu-1", "high-cpu-all", "lastpoint", "groupby-orderby-limit"]
ALL = re.compile(r"^all queries\s*:\s*\n\s*min:\s*[\d.]+ms, med:\s*([\d.]+)ms", re.M)
LOADED = re.compile(r"loaded (\d+) metrics in ([\d.]+)sec")


def median(out, system, typ, run="warm"):
    try:
        with open(os.path.join(out, system, f"{typ}.{run}.txt")) as f:
            m = ALL.search(f.read())
    except OSError:
        return None
    return float(m.group(1)) if m else None


def read(out, system, name):
    try:
        with open(os.path.join(out, system, name)) as f:
            return f.read().strip()
    except OSError:
        return ""


def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else ""


def ms(v):
    return "—" if v is None else f"{v:.2f}"


def main(out):
    print("| query type | " + " | ".join(f"{n} ms" for _, n in SYSTEMS) + " | Strata ÷ VM | Strata ÷ InfluxDB |")
    print("|---|" + "---:|" * (len(SYSTEMS) + 2))
    for t in TYPES:
        v = {s: median(out, s, t) for s, _ in SYSTEMS}
        print(f"| {t} | " + " | ".join(ms(v[s]) for s, _ in SYSTEMS)
              + f" | {ratio(v['strata'], v['vm'])} | {ratio(v['strata'], v['influxd'])} |")
    print()
    print("| system | values/s (TSBS loader, 2 workers) | server CPU s per load | peak RSS during load | data dir bytes/value |")
    print("|---|---:|---:|---:|---:|")
    for s, name in SYSTEMS:
        m = LOADED.search(read(out, s, "load.txt"))
        ticks = read(out, s, "load-cpu-ticks")
        hwm = read(out, s, "load-hwm").split()
        disk = read(out, s, "disk-bytes")
        if not m:
            continue
        metrics, secs = int(m.group(1)), float(m.group(2))
        print(f"| {name} | {metrics / secs:,.0f} | {int(ticks) / 100:.1f} | "
              f"{int(hwm[1]) / 1024:.0f} MiB | {int(disk) / metrics:.3f} |" if ticks and len(hwm) > 1 and disk else
              f"| {name} | {metrics / secs:,.0f} | | | |")
    warn = read(out, ".", "warnings.txt")
    if warn:
        print(f"\nWarnings: {warn}")


if __name__ == "__main__":
    main(sys.argv[1])
