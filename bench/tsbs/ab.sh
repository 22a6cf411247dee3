#!/usr/bin/env bash
# A/B of two Strata binaries with TSBS's own query runner on the TSBS day at
# rest: each binary serves its own copy of one loaded data directory, and
# tsbs_run_queries_influx sends each the same query file in turn, alternating
# which goes first, ROUNDS times per type. Prints per type the median of the
# rounds' median latencies and the server CPU per query (user+system from
# /proc) for each binary, and B/A. The result cache is off on both
# (--query-cache-size 0) unless CACHE is set: the engine's work is measured,
# not the cache's. CACHE_A and CACHE_B set each side's alone (default CACHE):
# BEFORE=AFTER=one binary with CACHE_B=67108864 measures what the cache costs.
# Every round sends the same query file, so from the second on a cache serves
# them all; COLD=1 restarts each server before each of its runs (the cache
# starts empty at every start), so that the runs measure misses, as a single
# pass of TSBS's random ranges does.
#
# Usage: TSBS_BIN=dir DATA=loaded-data-dir GEN=dir-of-<type>.influx.gz \
#        BEFORE=strata-a AFTER=strata-b [ROUNDS=7] [TYPES=a,b] [PORTS=24301,24302] \
#        [CACHE=bytes | CACHE_A=bytes CACHE_B=bytes] [COLD=1] bench/tsbs/ab.sh
# DATA: a data directory into which tsbs_load_influx loaded the day (see
# race.sh for the generator's and loader's flags), its server stopped.
set -euo pipefail
: "${TSBS_BIN:?}" "${DATA:?}" "${GEN:?}" "${BEFORE:?}" "${AFTER:?}"
rounds=${ROUNDS:-7}
types=${TYPES:-single-groupby-1-1-1,single-groupby-1-1-12,single-groupby-1-8-1,single-groupby-5-1-1,single-groupby-5-1-12,single-groupby-5-8-1}
IFS=, read -r porta portb <<<"${PORTS:-24301,24302}"
cache_a=${CACHE_A:-${CACHE:-0}}
cache_b=${CACHE_B:-${CACHE:-0}}
work=$(mktemp -d /tmp/strata-tsbsab.XXXXXX)
pa=""; pb=""
trap '[[ -n $pa ]] && kill $pa 2>/dev/null; [[ -n $pb ]] && kill $pb 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
cp -a "$DATA" "$work/a"; cp -a "$DATA" "$work/b"
cold=${COLD:-0}
waitup() { for _ in $(seq 1 100); do curl -s -o /dev/null 127.0.0.1:$1/ping && return; sleep 0.1; done; }
# start_a, start_b: (re)start a side's server; its pid in pa or pb.
start_a() {
  [[ -n $pa ]] && { kill $pa; wait $pa 2>/dev/null || true; }
  "$BEFORE" serve --data-dir "$work/a" --http-addr 127.0.0.1:$porta --log-level warn --query-cache-size $cache_a & pa=$!
  waitup $porta
}
start_b() {
  [[ -n $pb ]] && { kill $pb; wait $pb 2>/dev/null || true; }
  "$AFTER" serve --data-dir "$work/b" --http-addr 127.0.0.1:$portb --log-level warn --query-cache-size $cache_b & pb=$!
  waitup $portb
}
start_a; start_b
ticks() { awk '{print $14+$15}' /proc/$1/stat; }
# run PORT PID TYPE: prints "median_ms cpu_ticks queries"
run() {
  local c0 out; c0=$(ticks $2)
  out=$(zcat "$GEN/$3.influx.gz" | "$TSBS_BIN/tsbs_run_queries_influx" --urls=http://127.0.0.1:$1 \
    --db-name=benchmark --workers=1 --print-interval=0 2>&1)
  echo "$(grep -A1 '^all queries' <<<"$out" | sed -n 's/.*med: *\([0-9.]*\)ms.*count: *\([0-9]*\).*/\1/p') $(( $(ticks $2) - c0 )) $(grep -A1 '^all queries' <<<"$out" | sed -n 's/.*count: *\([0-9]*\).*/\1/p')"
}
printf '%-24s %9s %9s %6s   %9s %9s %6s\n' type "A med ms" "B med ms" B/A "A cpu ms" "B cpu ms" B/A
IFS=, read -r -a tl <<<"$types"
for t in "${tl[@]}"; do
  run $porta $pa $t > /dev/null; run $portb $pb $t > /dev/null  # warm both alike
  : > "$work/$t.a"; : > "$work/$t.b"
  for r in $(seq 1 $rounds); do
    if (( cold )); then start_a; start_b; fi
    if (( r % 2 )); then run $porta $pa $t >> "$work/$t.a"; run $portb $pb $t >> "$work/$t.b"
    else run $portb $pb $t >> "$work/$t.b"; run $porta $pa $t >> "$work/$t.a"; fi
  done
  python3 - "$t" "$work/$t.a" "$work/$t.b" <<'PY'
import statistics, sys
def read(f):
    rows = [l.split() for l in open(f) if l.strip()]
    med = statistics.median(float(r[0]) for r in rows)
    cpu = sum(int(r[1]) for r in rows) * 10 / sum(int(r[2]) for r in rows)  # ticks are 10 ms
    return med, cpu
(ma, ca), (mb, cb) = read(sys.argv[2]), read(sys.argv[3])
print(f"{sys.argv[1]:24} {ma:9.3f} {mb:9.3f} {mb/ma:6.2f}   {ca:9.3f} {cb:9.3f} {cb/max(ca,1e-9):6.2f}")
PY
done
