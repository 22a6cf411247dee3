#!/usr/bin/env bash
# Heap allocation and garbage collections per query of a running Strata, by
# TSBS query type: go_memstats_* and go_gc_duration_seconds_count from its
# /metrics around one tsbs_run_queries_influx pass of each type's file.
# Usage: TSBS_BIN=dir GEN=dir-of-<type>.influx.gz URL=http://127.0.0.1:P [TYPES=a,b] bench/tsbs/allocs.sh
set -euo pipefail
: "${TSBS_BIN:?}" "${GEN:?}" "${URL:?}"
types=${TYPES:-single-groupby-1-1-1,single-groupby-1-1-12,single-groupby-1-8-1,single-groupby-5-1-1,single-groupby-5-1-12,single-groupby-5-8-1}
snap() { curl -s "$URL/metrics" | awk '/^go_memstats_alloc_bytes_total /{b=$2} /^go_memstats_mallocs_total /{m=$2} /^go_gc_duration_seconds_count /{g=$2} END{printf "%.0f %.0f %.0f\n", b, m, g}'; }
printf '%-24s %10s %10s %8s\n' type "KB/query" "allocs/q" "GCs/100q"
IFS=, read -r -a tl <<<"$types"
for t in "${tl[@]}"; do
  zcat "$GEN/$t.influx.gz" | "$TSBS_BIN/tsbs_run_queries_influx" --urls="$URL" --db-name=benchmark --workers=1 --print-interval=0 > /dev/null 2>&1
  read -r b0 m0 g0 < <(snap)
  n=$(zcat "$GEN/$t.influx.gz" | "$TSBS_BIN/tsbs_run_queries_influx" --urls="$URL" --db-name=benchmark --workers=1 --print-interval=0 2>&1 | sed -n 's/^Run complete after \([0-9]*\) queries.*/\1/p')
  read -r b1 m1 g1 < <(snap)
  awk -v t="$t" -v n="$n" -v b=$((b1-b0)) -v m=$((m1-m0)) -v g=$((g1-g0)) 'BEGIN{printf "%-24s %10.1f %10.0f %8d\n", t, b/n/1024, m/n, g*100/n}'
done
