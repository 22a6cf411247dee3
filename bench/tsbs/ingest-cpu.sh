#!/usr/bin/env bash
# Server CPU and peak RSS of one TSBS load (issue 15), the race's load step
# alone: the same data, loader and flags as race.sh (tsbs_load_influx, 2
# workers, 5,000-line batches, gzip as TSBS's loader sends it;
# tsbs_load_victoriametrics, plain, for VictoriaMetrics), a fresh server and
# data directory per load, systems alternating round by round so a shared
# machine's drift lands on all of them alike.
#
# Per load it prints the server's CPU (utime+stime from /proc/PID/stat, read
# before and after the loader runs, in seconds), its VmHWM and the loader's
# wall time. Strata acknowledges each batch only after its WAL is fsynced, as
# in production.
#
# Usage: TSBS_BIN=dir [DATA=file.gz] [ROUNDS=3] [WORKERS=2] [PORT=24280]
#        bench/tsbs/ingest-cpu.sh NAME=STRATA_BINARY... [vm]
# e.g.   bench/tsbs/ingest-cpu.sh old=/tmp/strata-old new=/tmp/strata-new vm
# DATA defaults to a generated cpu-only day (scale 100, seed 123, as race.sh).
set -euo pipefail
: "${TSBS_BIN:?directory of the built TSBS programs (see race.sh)}"
rounds=${ROUNDS:-3}; workers=${WORKERS:-2}; port=${PORT:-24280}
data=${DATA:-}
if [[ -z $data ]]; then
  data=$(mktemp /tmp/strata-ingest-cpu.XXXXXX.gz)
  "$TSBS_BIN/tsbs_generate_data" --use-case=cpu-only --seed=123 --scale=100 \
    --timestamp-start=2016-01-01T00:00:00Z --timestamp-end=2016-01-02T00:00:00Z \
    --log-interval=10s --format=influx | gzip -1 > "$data"
fi
pid=""; dir=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; [[ -n $dir ]] && rm -rf "$dir"; return 0; }
trap cleanup EXIT

load() { # name binary-or-vm
  local name=$1 bin=$2 url=http://127.0.0.1:$port load_url loader
  dir=$(mktemp -d /tmp/strata-ingest-cpu.XXXXXX)
  if [[ $bin == vm ]]; then
    victoria-metrics -retentionPeriod=100y -storageDataPath="$dir/data" -httpListenAddr=127.0.0.1:$port \
      -loggerLevel=WARN > "$dir/server.log" 2>&1 & pid=$!
    for _ in $(seq 1 200); do curl -s -o /dev/null "$url/health" && break; sleep 0.1; done
    load_url=$url/write; loader=tsbs_load_victoriametrics
  else
    "$bin" serve --data-dir "$dir/data" --http-addr 127.0.0.1:$port --log-level warn > "$dir/server.log" 2>&1 & pid=$!
    for _ in $(seq 1 200); do curl -s -o /dev/null "$url/ping" -w '%{http_code}' | grep -q '^2' && break; sleep 0.1; done
    curl -sf -XPOST "$url/query" --data-urlencode "q=CREATE DATABASE benchmark" > /dev/null
    load_url=$url; loader=tsbs_load_influx
  fi
  local c0 c1 t0 t1 hwm
  c0=$(awk '{print $14+$15}' /proc/$pid/stat); t0=$(date +%s.%N)
  zcat "$data" | "$TSBS_BIN/$loader" --urls="$load_url" --db-name=benchmark --do-create-db=false \
    --workers="$workers" --batch-size=5000 > "$dir/load.txt" 2>&1
  t1=$(date +%s.%N); c1=$(awk '{print $14+$15}' /proc/$pid/stat)
  hwm=$(awk '/^VmHWM/{print $2}' /proc/$pid/status)
  printf '%s\tcpu_s=%s\thwm_mib=%d\twall_s=%.1f\n' "$name" "$(echo "scale=2; ($c1-$c0)/$(getconf CLK_TCK)" | bc)" \
    $((hwm / 1024)) "$(echo "$t1-$t0" | bc)"
  cleanup; pid=""; dir=""
}

for r in $(seq 1 "$rounds"); do
  for arg in "$@"; do
    if [[ $arg == vm ]]; then load vm vm; else load "${arg%%=*}" "${arg#*=}"; fi
  done
done
