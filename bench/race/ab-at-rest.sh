#!/usr/bin/env bash
# A/B of two Strata binaries on the TSBS day at rest: BEFORE loads the data once
# (strata bench --data-dir, which flushes and merges on close), each binary then
# serves its own copy, and abquery sends both the same queries alternately,
# reporting median latency and server CPU per query for each type. Unlike
# ab.sh (queries right after a load, head and blocks in whatever state the
# flushes left), both servers read identical blocks.
#
# Usage: BEFORE=/path/strata-before AFTER=/path/strata-after [RUNS=80] [TYPES=a,b] bench/race/ab-at-rest.sh
set -eu
: "${BEFORE:?path of the binary before}" "${AFTER:?path of the binary after}"
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/strata-abrest.XXXXXX)
trap 'kill $pa $pb 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
"$BEFORE" bench --data-dir "$work/data" --queries=false > "$work/load.txt" 2>&1
cp -a "$work/data" "$work/a"; mv "$work/data" "$work/b"
porta=$((19600 + RANDOM % 150)); portb=$((19750 + RANDOM % 150))
"$BEFORE" serve --data-dir "$work/a" --http-addr 127.0.0.1:$porta --log-level warn & pa=$!
"$AFTER" serve --data-dir "$work/b" --http-addr 127.0.0.1:$portb --log-level warn & pb=$!
for p in $porta $portb; do
  for _ in $(seq 1 100); do curl -s -o /dev/null 127.0.0.1:$p/ping && break; sleep 0.1; done
done
(cd "$here/abquery" && go run . -a http://127.0.0.1:$porta -pa $pa -b http://127.0.0.1:$portb -pb $pb \
  -runs "${RUNS:-80}" -types "${TYPES:-}")
