#!/usr/bin/env bash
# A/B of two Strata binaries on the TSBS day: each round starts each binary on a
# fresh data directory in its own process and runs the same client (BEFORE's
# `strata bench --url --pid`) against it, alternating, so a noisy machine hits
# both alike. Reports land in OUT as <name>-<round>.{txt,json}.
#
# Usage: BEFORE=/path/strata-before AFTER=/path/strata-after [OUT=dir] [ROUNDS=2] [RUNS=100] bench/race/ab.sh
set -u
: "${BEFORE:?path of the binary before}" "${AFTER:?path of the binary after}"
out=${OUT:-$(mktemp -d /tmp/strata-ab.XXXXXX)}; mkdir -p "$out"
rounds=${ROUNDS:-2}
for r in $(seq 1 "$rounds"); do
  for name in before after; do
    bin=$BEFORE; [ "$name" = after ] && bin=$AFTER
    d=$(mktemp -d /tmp/strata-ab-data.XXXXXX)
    port=$((19600 + RANDOM % 300))
    "$bin" serve --data-dir "$d" --http-addr 127.0.0.1:$port --log-level warn & pid=$!
    for _ in $(seq 1 100); do curl -s -o /dev/null 127.0.0.1:$port/ping && break; sleep 0.1; done
    "$BEFORE" bench --url http://127.0.0.1:$port --pid $pid --query-runs "${RUNS:-100}" \
      --json "$out/$name-$r.json" > "$out/$name-$r.txt" 2>&1
    kill $pid; wait $pid; rm -rf "$d"
    echo "round $r $name done ($out/$name-$r.txt)"
  done
done
