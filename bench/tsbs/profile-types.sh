#!/usr/bin/env bash
# Where each TSBS query type's server time goes. One Strata (--pprof-enabled,
# the result cache off unless CACHE=bytes: the race's warm pass is a key's
# second sight, which the engine answers, so repeating a file with the cache
# on would profile hits instead) serves a copy of a loaded data directory.
# Per type: two warm passes of the type's query file, then TSBS's runner sends
# the file again and again while a CPU profile of PROFILE_SECONDS is taken,
# and breakdown.py splits the samples by stage. Prints a markdown table: per
# type the runner's median latency, the server's CPU per query (from /proc
# over the profiled passes), and the share of the process's samples in each
# stage (breakdown.py's "% all", GC included). Each type's profile and stage
# list stay in KEEP.
#
# Usage: TSBS_BIN=dir DATA=loaded-data-dir GEN=dir-of-<type>.influx.gz STRATA=bin \
#        [TYPES=a,b] [CACHE=0] [PROFILE_SECONDS=10] [PORT=24391] [KEEP=dir-for-profiles] bench/tsbs/profile-types.sh
set -euo pipefail
: "${TSBS_BIN:?}" "${DATA:?}" "${GEN:?}" "${STRATA:?}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
types=${TYPES:-single-groupby-1-1-1,single-groupby-1-1-12,single-groupby-1-8-1,single-groupby-5-1-1,single-groupby-5-1-12,single-groupby-5-8-1,cpu-max-all-1,cpu-max-all-8,double-groupby-1,double-groupby-5,double-groupby-all,high-cpu-1,high-cpu-all,lastpoint,groupby-orderby-limit}
seconds=${PROFILE_SECONDS:-10}  # (not SECONDS: bash counts its own run time in it)
port=${PORT:-24391}
work=$(mktemp -d /tmp/strata-tsbsprof.XXXXXX)
keep=${KEEP:-$work/profiles}; mkdir -p "$keep"
pid=""
trap '[[ -n $pid ]] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
cp -a "$DATA" "$work/data"
"$STRATA" serve --data-dir "$work/data" --http-addr 127.0.0.1:$port --log-level warn --pprof-enabled --query-cache-size ${CACHE:-0} & pid=$!
for _ in $(seq 1 100); do curl -s -o /dev/null 127.0.0.1:$port/ping && break; sleep 0.1; done
url=http://127.0.0.1:$port
ticks() { awk '{print $14+$15}' /proc/$pid/stat; }
pass() { zcat "$GEN/$1.influx.gz" | "$TSBS_BIN/tsbs_run_queries_influx" --urls=$url --db-name=benchmark --workers=1 --print-interval=0 2>&1; }
stages="parse plan index+series+fields cursor+seek decode aggregate windows+fill+rows encode http alloc gc scheduler other"
printf '| type | median ms | server CPU ms/query |'; for s in $stages; do printf ' %s %% |' "$s"; done; printf '\n|---|---:|---:|'
for _ in $stages; do printf -- '---:|'; done; printf '\n'
IFS=, read -r -a tl <<<"$types"
for t in "${tl[@]}"; do
  pass "$t" > /dev/null; pass "$t" > /dev/null  # warm: blocks, caches, the result cache's second sight
  curl -s -o "$keep/$t.pprof" "$url/debug/pprof/profile?seconds=$seconds" & prof=$!
  c0=$(ticks); n=0; meds=()
  while kill -0 $prof 2>/dev/null; do
    out=$(pass "$t")
    n=$(( n + $(sed -n 's/^Run complete after \([0-9]*\) queries.*/\1/p' <<<"$out") ))
    meds+=("$(grep -A1 '^all queries' <<<"$out" | sed -n 's/.*med: *\([0-9.]*\)ms.*/\1/p')")
  done
  wait $prof
  cpu_ms=$(awk -v d=$(( $(ticks) - c0 )) -v n=$n -v hz=$(getconf CLK_TCK) 'BEGIN{printf "%.2f", d*1000/hz/n}')
  med=$(printf '%s\n' "${meds[@]}" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  go tool pprof -traces "$STRATA" "$keep/$t.pprof" 2>/dev/null | python3 "$here/breakdown.py" > "$keep/$t.stages"
  printf '| %s | %s | %s |' "$t" "$med" "$cpu_ms"
  for s in $stages; do
    printf ' %s |' "$(awk -v s="$s" '$1==s {print $2}' "$keep/$t.stages")"
  done
  printf '\n'
done
