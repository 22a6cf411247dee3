#!/usr/bin/env python3
"""Summarise a race directory written by bench/race/run.sh.

Reads <out>/<target>-r<round>/{bench.json,meta.json} and prints markdown: per-target
medians over the rounds, Strata/peer ratios (with the per-round ratios, since the
machine is noisy and alternating rounds pair up runs made close in time), latency
per query type, and the issue's four targets as met / not met.

Usage: summarise.py OUT_DIR
"""

import json
import os
import re
import statistics
import sys

TARGETS = ["strata", "vm", "influxd"]
NAMES = {"strata": "Strata", "vm": "VictoriaMetrics", "influxd": "InfluxDB"}
NUM_FIELDS = 10  # values per TSBS cpu line


def load(out):
    runs = {}  # target -> {round: run}
    for entry in sorted(os.listdir(out)):
        m = re.fullmatch(r"(strata|vm|influxd)-r(\d+)", entry)
        if not m:
            continue
        d = os.path.join(out, entry)
        try:
            with open(os.path.join(d, "bench.json")) as f:
                bench = json.load(f)
            with open(os.path.join(d, "meta.json")) as f:
                meta = json.load(f)
        except (OSError, ValueError) as e:
            print(f"warning: skipping {entry}: {e}", file=sys.stderr)
            continue
        values = bench["load"]["lines_accepted"] * NUM_FIELDS
        disk = meta["disk"]
        # VictoriaMetrics persists regenerable lookup caches under cache/; the
        # "engine files" figures leave them out so only stored data count.
        cache = disk["by_entry"].get("cache", {}) if m.group(1) == "vm" else {}
        run = {
            "values_per_s": bench.get("values_per_second", 0.0),
            "load_s": bench["load"]["seconds"],
            "values": values,
            "values_sent": bench.get("values", 0),
            "failed": bench["load"]["failed_requests"],
            "requests": bench["load"]["requests"],
            "first_error": bench["load"].get("first_error", ""),
            "bpv": disk["apparent_bytes"] / values if values else None,
            "bpv_du": disk["allocated_bytes"] / values if values else None,
            "bpv_engine": (disk["apparent_bytes"] - cache.get("apparent_bytes", 0)) / values if values else None,
            "bpv_engine_du": (disk["allocated_bytes"] - cache.get("allocated_bytes", 0)) / values if values else None,
            "disk": disk,
            "rss": bench.get("peak_rss_bytes", 0),
            "rss_shutdown": meta.get("peak_rss_incl_shutdown_bytes", 0),
            "queries": {q["type"]: q for q in bench.get("queries") or []},
            "meta": meta,
        }
        runs.setdefault(m.group(1), {})[int(m.group(2))] = run
    return runs


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec):
    return "n/a" if x is None else format(x, spec)


def ratio(a, b):
    return a / b if a is not None and b else None


def per_round_ratios(runs, key, a, b):
    out = []
    for r in sorted(set(runs.get(a, {})) & set(runs.get(b, {}))):
        x, y = key(runs[a][r]), key(runs[b][r])
        if x is not None and y:
            out.append(x / y)
    return out


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out = sys.argv[1]
    runs = load(out)
    present = [t for t in TARGETS if t in runs]
    if not present:
        print(f"no runs under {out}", file=sys.stderr)
        sys.exit(1)
    env = ""
    try:
        with open(os.path.join(out, "env.txt")) as f:
            env = f.read()
    except OSError:
        pass
    if env:
        print("```\n" + env.strip() + "\n```\n")

    metrics = [
        ("values/s", lambda r: r["values_per_s"], ",.0f", "higher is better"),
        ("load seconds", lambda r: r["load_s"], ".1f", ""),
        ("bytes/value (file sizes)", lambda r: r["bpv"], ".3f", "lower is better"),
        ("bytes/value (du, allocated)", lambda r: r["bpv_du"], ".3f", "lower is better"),
        ("bytes/value (file sizes, excl. VM cache/)", lambda r: r["bpv_engine"], ".3f", ""),
        ("bytes/value (du, excl. VM cache/)", lambda r: r["bpv_engine_du"], ".3f", ""),
        ("peak RSS MB (end of bench)", lambda r: r["rss"] / 1e6 if r["rss"] else None, ".1f", "lower is better"),
        ("peak RSS MB (incl. shutdown)", lambda r: r["rss_shutdown"] / 1e6 if r["rss_shutdown"] else None, ".1f", ""),
    ]
    peers = [p for p in ("vm", "influxd") if p in runs and "strata" in runs]
    hdr = ["metric (median of rounds)"] + [NAMES[t] for t in present]
    hdr += [f"Strata/{NAMES[p]} (per round)" for p in peers]
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    for name, key, spec, _ in metrics:
        row = [name]
        meds = {t: med(key(r) for r in runs[t].values()) for t in present}
        row += [fmt(meds[t], spec) for t in present]
        for p in peers:
            rr = per_round_ratios(runs, key, "strata", p)
            row.append(f"{fmt(ratio(meds['strata'], meds[p]), '.2f')} ({', '.join(format(x, '.2f') for x in rr)})")
        print("| " + " | ".join(row) + " |")
    row = ["failed write requests"] + [
        ", ".join(f"{r['failed']}/{r['requests']}" for _, r in sorted(runs[t].items())) for t in present
    ]
    print("| " + " | ".join(row + [""] * len(peers)) + " |")
    row = ["values accepted"] + [
        ", ".join(f"{r['values']:,}" for _, r in sorted(runs[t].items())) for t in present
    ]
    print("| " + " | ".join(row + [""] * len(peers)) + " |")
    print()

    qtypes = []
    for t in present:
        for r in runs[t].values():
            for q in r["queries"]:
                if q not in qtypes:
                    qtypes.append(q)
    qtargets = [t for t in present if any(r["queries"] for r in runs[t].values())]
    qstat = {}
    if qtypes and qtargets:
        print("Query latency in ms: median over rounds of each run's median and p99; "
              "ok/wrong/failed summed over rounds.\n")
        hdr = ["query type"]
        for t in qtargets:
            hdr += [f"{NAMES[t]} median", f"{NAMES[t]} p99", f"{NAMES[t]} ok/wrong/failed"]
        if "strata" in qtargets and "influxd" in qtargets:
            hdr += ["InfluxDB/Strata median (per round)", "InfluxDB/Strata p99"]
        print("| " + " | ".join(hdr) + " |")
        print("|" + "---|" * len(hdr))
        for q in qtypes:
            row = [q]
            for t in qtargets:
                qs = [r["queries"][q] for r in runs[t].values() if q in r["queries"]]
                m = med(x["median_ms"] for x in qs if x["ok"] + x["wrong"] > 0)
                p = med(x["p99_ms"] for x in qs if x["ok"] + x["wrong"] > 0)
                ok = sum(x["ok"] for x in qs)
                wrong = sum(x["wrong"] for x in qs)
                failed = sum(x["failed"] for x in qs)
                qstat[(t, q)] = (m, p, ok, wrong, failed)
                row += [fmt(m, ".2f"), fmt(p, ".2f"), f"{ok}/{wrong}/{failed}"]
            if "strata" in qtargets and "influxd" in qtargets:
                sm, sp = qstat[("strata", q)][:2]
                im, ip = qstat[("influxd", q)][:2]

                def qkey(qn):
                    return lambda r: r["queries"][qn]["median_ms"] if qn in r["queries"] else None

                rr = per_round_ratios(runs, qkey(q), "influxd", "strata")
                row += [f"{fmt(ratio(im, sm), '.2f')} ({', '.join(format(x, '.2f') for x in rr)})",
                        fmt(ratio(ip, sp), ".2f")]
            print("| " + " | ".join(row) + " |")
        print()

    # The issue's targets.
    print("Targets (issue 4):\n")

    def m(t, key):
        return med(key(r) for r in runs[t].values()) if t in runs else None

    verdict = lambda ok: "MET" if ok else "NOT MET"
    if "strata" in runs and "vm" in runs:
        rv = ratio(m("strata", lambda r: r["values_per_s"]), m("vm", lambda r: r["values_per_s"]))
        print(f"- ingest >= 1.5x VictoriaMetrics values/s: {verdict(rv is not None and rv >= 1.5)} "
              f"(Strata/VM = {fmt(rv, '.2f')}x)")
        sb, vb = m("strata", lambda r: r["bpv"]), m("vm", lambda r: r["bpv"])
        within = sb is not None and abs(sb - 0.95) <= 0.095
        print(f"- bytes/value <= VictoriaMetrics: {verdict(sb is not None and vb is not None and sb <= vb)} "
              f"(Strata {fmt(sb, '.3f')} vs VM {fmt(vb, '.3f')}); within 10% of 0.95 "
              f"(0.855..1.045): {verdict(within)}")
        se, ve = m("strata", lambda r: r["bpv_engine"]), m("vm", lambda r: r["bpv_engine"])
        sd, vd = m("strata", lambda r: r["bpv_du"]), m("vm", lambda r: r["bpv_du"])
        print(f"  - same without VM's cache/ dir: {verdict(se is not None and ve is not None and se <= ve)} "
              f"(Strata {fmt(se, '.3f')} vs VM {fmt(ve, '.3f')}); by du (allocated blocks): "
              f"{verdict(sd is not None and vd is not None and sd <= vd)} (Strata {fmt(sd, '.3f')} vs VM {fmt(vd, '.3f')})")
        sr, vr = m("strata", lambda r: r["rss"]), m("vm", lambda r: r["rss"])
        print(f"- peak RSS <= VictoriaMetrics: {verdict(sr and vr and sr <= vr)} "
              f"(Strata {fmt(sr and sr / 1e6, '.1f')} MB vs VM {fmt(vr and vr / 1e6, '.1f')} MB)")
    if ("strata", qtypes[0] if qtypes else None) in qstat and "influxd" in qtargets:
        slow, wrong = [], []
        for q in qtypes:
            sm, _, ok, w, f = qstat[("strata", q)]
            im = qstat.get(("influxd", q), (None,))[0]
            r = ratio(im, sm)
            if r is None or r < 2:
                slow.append(f"{q} {fmt(r, '.2f')}x")
            if w or f or ok == 0:
                wrong.append(f"{q} ({w} wrong, {f} failed)")
        allok = not slow and not wrong
        print(f"- every query type >= 2x faster than InfluxDB with correct answers: {verdict(allok)}"
              + (f"; below 2x: {', '.join(slow)}" if slow else "")
              + (f"; incorrect: {', '.join(wrong)}" if wrong else ""))
    for t in present:
        for rnd, r in sorted(runs[t].items()):
            if r["failed"] or r["meta"].get("bench_exit"):
                print(f"- note: {NAMES[t]} round {rnd}: {r['failed']} failed requests, bench exit "
                      f"{r['meta'].get('bench_exit')}: {r['first_error'][:200]}")


if __name__ == "__main__":
    main()
