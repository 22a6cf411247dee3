#!/usr/bin/env python3
"""Where a query's server CPU goes, by stage, from a CPU profile.

Usage: go tool pprof -traces BINARY cpu.pprof | bench/tsbs/breakdown.py [STAGE]
With STAGE, also the frames that put samples in that stage, heaviest first.

Each sample's stack is walked from the leaf up; the first frame that matches
a stage's pattern names the stage (so an allocation made while decoding
counts as allocation, a Pebble seek under the cursor as cursor). Prints the
fraction of all samples and of the samples under the HTTP server per stage.
"""
import re
import sys

# (stage, pattern), tried in order on each frame from the leaf up.
STAGES = [
    ("gc", r"^runtime\.(gcBgMarkWorker|bgsweep|bgscavenge|gcAssistAlloc|gcDrain|markroot|scanobject|gcStart|gcMarkDone|sweepone|deductAssistCredit)"),
    ("alloc", r"^runtime\.(mallocgc|newobject|makeslice|growslice|makemap|mapassign|memclrNoHeapPointers|convT|makeBucketArray)"),
    ("decode", r"storage/block\."),
    ("cursor+seek", r"storage\.\(\*(Cursor|Engine)\)\.(newCursor|Next|Column|decode|Stats|load|seek)|cockroachdb/pebble|storage\.\(\*head|storage\.\(\*Engine\)\.(Cursor|Read)"),
    ("encode", r"httpapi\.\(\*ResponseWriter\)|httpapi\.append|encoding/json"),
    ("aggregate", r"query/partial\.|query\.\(\*windowStates\)|query\.\(\*selectRun\)\.(feed|feed\.func\d+|accumulate|accumulateWithin|partialStates|groupStates|windowOf|nextWindow|newGroupStates)$|query\.\(\*selectRun\)\.accumulateSeries"),
    ("windows+fill+rows", r"query\.\(\*selectRun\)\.(windowStarts|assembleCall|mergeCallRows|buildRow|buildRowInto|finishRows|aggregateRows|dropLead|windowRows|resultStarts|rangeStarts|release)|query\.\(\*callResult\)|query\.alignedTimes|query\.evalExpr|query\.interpolate"),
    ("index+series+fields", r"storage\.\(\*(Index|Catalog|index|catalog)|storage/index|query\.\(\*selectRun\)\.(filterSeries|fieldID|groupSeries|series|resolve)|query\.\(\*Executor\)\.(series|matchSeries)|roaring"),
    ("parse", r"query/influxql\.(Parse|\(\*Parser\)|\(\*Scanner\)|NewParser)"),
    ("plan", r"query\.\(\*Executor\)\.(startPlan|plan|newPlan|executeSelect|executeStatement|Execute)|query\.(newPlan|buildPlan|compile|plan)|query\.\(\*selectRun\)"),
    ("http", r"^net/http\.|httpapi\.\(\*QueryHandler\)|^main\.|^net\.|^bufio\.|^internal/poll|^syscall\."),
    ("scheduler", r"^runtime\.(schedule|findRunnable|mcall|park_m|gosched|goschedImpl|netpoll|wakep|notesleep|stopm|futex|usleep|mstart|startm)"),
]
STAGES = [(n, re.compile(p)) for n, p in STAGES]


def traces(lines):
    val, stack = None, []
    for line in lines:
        if line.startswith("-----------+"):
            if val is not None:
                yield val, stack
            val, stack = None, []
            continue
        m = re.match(r"^\s+(\d+(?:\.\d+)?)(ms|s|us|ns)\s+(\S+)", line)
        if m:
            v = float(m.group(1)) * {"s": 1000, "ms": 1, "us": 1e-3, "ns": 1e-6}[m.group(2)]
            val, stack = v, [m.group(3)]
            continue
        m = re.match(r"^\s+(\S+)", line)
        if m and val is not None:
            stack.append(m.group(1))
    if val is not None:
        yield val, stack


def main():
    want = sys.argv[1] if len(sys.argv) > 1 else None
    total, served, by, byserved, other, hits = 0.0, 0.0, {}, {}, {}, {}
    for v, stack in traces(sys.stdin):
        total += v
        stage, hit = "other", None
        for f in stack:
            for n, p in STAGES:
                if p.search(f):
                    stage, hit = n, f
                    break
            if stage != "other":
                break
        if stage == want:
            key = f"{hit} <- {stack[0]}"
            hits[key] = hits.get(key, 0) + v
        if stage == "other":
            other[stack[0]] = other.get(stack[0], 0) + v
        by[stage] = by.get(stage, 0) + v
        if any(f.startswith("net/http.(*conn).serve") for f in stack):
            served += v
            byserved[stage] = byserved.get(stage, 0) + v
    print(f"total {total:.0f} ms of samples, {served:.0f} ms under net/http.(*conn).serve")
    print(f"{'stage':22} {'% all':>7} {'% served':>9}")
    for n, _ in STAGES + [("other", None)]:
        if n in by:
            print(f"{n:22} {100*by[n]/total:7.1f} {100*byserved.get(n, 0)/max(served, 1e-9):9.1f}")
    if other:
        top = sorted(other.items(), key=lambda kv: -kv[1])[:8]
        print("other, by leaf:", ", ".join(f"{k} {v:.0f}ms" for k, v in top))
    for k, v in sorted(hits.items(), key=lambda kv: -kv[1])[:25]:
        print(f"  {v:6.0f} ms  {k}")


main()
