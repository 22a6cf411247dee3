#!/usr/bin/env bash
# The TSBS race of record: the Time Series Benchmark Suite's own generator,
# loaders and query runners (github.com/timescale/tsbs, none of them ours)
# against Strata, InfluxDB 1.6.7 and VictoriaMetrics 1.79.5 from Debian's
# packages, one system at a time, each timing taken on an idle machine.
# cpu-only, scale 100, seed 123, one day at 10 s (864,000 rows, 8.64 M values),
# 100 queries per type, the warm second run reported. Strata's answers are
# checked against InfluxDB's, query by query (compare.py).
#
# TSBS is not on the Go module proxy: bring its source in (the `fetch` tool, or
# a git clone of github.com/timescale/tsbs), then build the six programs once:
#   cd TSBS_SRC && GOFLAGS=-mod=mod go build -o TSBS_BIN/ ./cmd/tsbs_generate_data \
#     ./cmd/tsbs_generate_queries ./cmd/tsbs_load_influx ./cmd/tsbs_load_victoriametrics \
#     ./cmd/tsbs_run_queries_influx ./cmd/tsbs_run_queries_victoriametrics
#
# Usage: TSBS_BIN=dir [STRATA=path] [OUT=dir] [QUERIES=100] [SYSTEMS=strata,influxd,vm]
#        [TYPES=a,b] [IDLE=0.9] bench/tsbs/race.sh
# Writes OUT/table.md (the table of docs/performance.md), OUT/<system>/... raw
# TSBS outputs and result JSON.
set -euo pipefail
: "${TSBS_BIN:?directory of the built TSBS programs (see the header)}"
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$repo/bench/tsbs"
out=${OUT:-$(mktemp -d /tmp/strata-tsbs.XXXXXX)}; mkdir -p "$out"
queries=${QUERIES:-100}
systems=${SYSTEMS:-strata,influxd,vm}
idle=${IDLE:-0.9}  # fraction of both cores idle over 2 s before a timing starts
start=2016-01-01T00:00:00Z; end=2016-01-02T00:00:00Z
types=${TYPES:-single-groupby-1-1-1,single-groupby-1-1-12,single-groupby-1-8-1,single-groupby-5-1-1,single-groupby-5-1-12,single-groupby-5-8-1,cpu-max-all-1,cpu-max-all-8,double-groupby-1,double-groupby-5,double-groupby-all,high-cpu-1,high-cpu-all,lastpoint,groupby-orderby-limit}
# VictoriaMetrics' TSBS query generator has no high-cpu, lastpoint or
# groupby-orderby-limit (PromQL cannot express them): those are skipped for vm.
vm_types="single-groupby-1-1-1 single-groupby-1-1-12 single-groupby-1-8-1 single-groupby-5-1-1 single-groupby-5-1-12 single-groupby-5-8-1 cpu-max-all-1 cpu-max-all-8 double-groupby-1 double-groupby-5 double-groupby-all"

log() { printf '%s tsbs: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# wait_idle waits (up to 10 minutes) until both cores have been at least
# $idle idle over 2 s, so that a shared machine's other work does not land in
# one system's timing.
wait_idle() {
  for _ in $(seq 1 300); do
    read -r _ u n s i w _ < /proc/stat; t1=$((u+n+s+i+w)); i1=$i
    sleep 2
    read -r _ u n s i w _ < /proc/stat; t2=$((u+n+s+i+w)); i2=$i
    if python3 -c "import sys; sys.exit(0 if ($i2-$i1)/max(1,$t2-$t1) >= $idle else 1)"; then return 0; fi
  done
  log "machine never idle ($idle) in 10 minutes: timing anyway, mark this run"
  echo "not idle" >> "$out/warnings.txt"
}

# ---- data and queries, generated once ---------------------------------------
gen=$out/gen; mkdir -p "$gen"
if [[ ! -s $gen/data.influx.gz ]]; then
  log "generating data"
  "$TSBS_BIN/tsbs_generate_data" --use-case=cpu-only --seed=123 --scale=100 \
    --timestamp-start=$start --timestamp-end=$end --log-interval=10s --format=influx | gzip -1 > "$gen/data.influx.gz"
fi
IFS=, read -r -a type_list <<<"$types"
for t in "${type_list[@]}"; do
  for f in influx victoriametrics; do
    [[ $f == victoriametrics && " $vm_types " != *" $t "* ]] && continue
    q=$gen/$t.$f.gz
    [[ -s $q ]] || "$TSBS_BIN/tsbs_generate_queries" --use-case=cpu-only --seed=123 --scale=100 \
      --timestamp-start=$start --timestamp-end=$end --queries="$queries" --query-type="$t" --format=$f | gzip -1 > "$q"
  done
done

# ---- one system at a time ----------------------------------------------------
strata_bin=${STRATA:-}
if [[ -z $strata_bin ]]; then
  strata_bin=$out/strata; (cd "$repo" && go build -o "$strata_bin" ./cmd/strata)
fi
need=()
command -v influxd >/dev/null || need+=(influxdb)
command -v victoria-metrics >/dev/null || need+=(victoria-metrics)
if [[ ${#need[@]} -gt 0 ]]; then
  log "installing ${need[*]} from Debian's packages"
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >&2
fi

server_pid=""
trap '[[ -n $server_pid ]] && kill $server_pid 2>/dev/null' EXIT

run_system() {
  local sys=$1 dir=$out/$1 port url pid loader runner fmt
  rm -rf "$dir"; mkdir -p "$dir/data"
  case $sys in
    strata) port=18186; "$strata_bin" serve --data-dir "$dir/data" --http-addr 127.0.0.1:$port --log-level warn > "$dir/server.log" 2>&1 & pid=$!
            loader=tsbs_load_influx; runner=tsbs_run_queries_influx; fmt=influx ;;
    influxd) port=18086
            # 1.6.7's defaults but private: listeners on 127.0.0.1, directories
            # here, no usage reporting, no _internal monitor writes, no request
            # logs, no continuous queries (as bench/race/run.sh).
            cat > "$dir/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:18088"
[meta]
  dir = "$dir/data/meta"
[data]
  dir = "$dir/data/data"
  wal-dir = "$dir/data/wal"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "10s"
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:$port"
  log-enabled = false
[continuous_queries]
  enabled = false
CONF
            influxd run -config "$dir/influxdb.conf" > "$dir/server.log" 2>&1 & pid=$!
            loader=tsbs_load_influx; runner=tsbs_run_queries_influx; fmt=influx ;;
    vm)     port=18428; victoria-metrics -retentionPeriod=100y -storageDataPath="$dir/data" -httpListenAddr=127.0.0.1:$port -loggerLevel=WARN > "$dir/server.log" 2>&1 & pid=$!
            loader=tsbs_load_victoriametrics; runner=tsbs_run_queries_victoriametrics; fmt=victoriametrics ;;
  esac
  server_pid=$pid
  url=http://127.0.0.1:$port
  for _ in $(seq 1 200); do curl -s -o /dev/null "$url/ping" -w '%{http_code}' | grep -q '^2' && break
    [[ $sys == vm ]] && curl -s -o /dev/null "$url/health" && break; sleep 0.1; done
  wait_idle
  local load_url=$url; [[ $sys == vm ]] && load_url=$url/write
  # TSBS's loader creates the database with a GET, which Strata refuses
  # (mutations need POST): every system gets it by POST instead.
  [[ $sys == vm ]] || curl -sf -XPOST "$url/query" --data-urlencode "q=CREATE DATABASE benchmark" > /dev/null
  log "$sys: loading"
  local c0; c0=$(awk '{print $14+$15}' /proc/$pid/stat)
  zcat "$gen/data.influx.gz" | "$TSBS_BIN/$loader" --urls="$load_url" --db-name=benchmark --do-create-db=false --workers=2 --batch-size=5000 \
    --results-file="$dir/load.json" > "$dir/load.txt" 2>&1
  echo "$(( $(awk '{print $14+$15}' /proc/$pid/stat) - c0 ))" > "$dir/load-cpu-ticks"
  grep -E '^VmHWM' /proc/$pid/status > "$dir/load-hwm" || true
  [[ $sys == vm ]] && curl -s "$url/internal/force_flush" > /dev/null
  sleep 5
  for t in "${type_list[@]}"; do
    [[ $sys == vm && " $vm_types " != *" $t "* ]] && continue
    for pass in cold warm; do
      wait_idle
      log "$sys: $t ($pass)"
      zcat "$gen/$t.$fmt.gz" | "$TSBS_BIN/$runner" --urls="$url" --db-name=benchmark --workers=1 --print-interval=0 \
        --results-file="$dir/$t.$pass.json" > "$dir/$t.$pass.txt" 2>&1
    done
    # The answers, untimed: printing them costs the client a JSON round trip.
    [[ $sys == vm ]] || zcat "$gen/$t.$fmt.gz" | "$TSBS_BIN/$runner" --urls="$url" --db-name=benchmark --workers=1 \
      --print-interval=0 --print-responses > "$dir/$t.answers.txt" 2>&1
  done
  if [[ $sys == influxd ]]; then
    # The 10 s cold-cache snapshot moves the WAL into TSM files before du.
    for _ in $(seq 1 120); do
      [[ $(find "$dir/data/wal" -name '*.wal' -size +0c | wc -l) == 0 ]] && break; sleep 1
    done
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true; server_pid=""
  du -sb "$dir/data" | cut -f1 > "$dir/disk-bytes"
}

IFS=, read -r -a system_list <<<"$systems"
for s in "${system_list[@]}"; do run_system "$s"; done
python3 "$here/table.py" "$out" > "$out/table.md"
[[ -d $out/strata && -d $out/influxd ]] && python3 "$here/compare.py" "$out/strata" "$out/influxd" "${type_list[@]}" | tee "$out/answers.txt"
cat "$out/table.md"
