#!/usr/bin/env python3
"""Compares two systems' TSBS answers query by query (race.sh's
<type>.answers.txt, printed by tsbs_run_queries_influx --print-responses):
same statement, same series, columns and values (floats to 1e-9 relative).
1.6.7's spurious "partial": true is ignored. Exit status 1 if any differ."""
import json
import math
import os
import re
import sys

ID = re.compile(r"^ID \d+: ", re.M)


def answers(path):
    with open(path) as f:
        text = f.read()
    out = []
    for chunk in text.split("\n\n"):
        chunk = ID.sub("", chunk).strip()
        if chunk.startswith("{"):
            out.append(json.loads(chunk))
    return out


def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k != "partial"}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


def same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            return False
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def main(a_dir, b_dir, types):
    bad = 0
    for t in types:
        try:
            a, b = answers(os.path.join(a_dir, f"{t}.answers.txt")), answers(os.path.join(b_dir, f"{t}.answers.txt"))
        except OSError as e:
            print(f"{t}: missing ({e})")
            bad += 1
            continue
        diff = sum(1 for x, y in zip(a, b) if not same(strip(x["response"]), strip(y["response"])))
        diff += abs(len(a) - len(b))
        print(f"{t}: {len(a)} answers, {diff} differ")
        bad += diff > 0
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
