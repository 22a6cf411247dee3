#!/usr/bin/env bash
# Many-series memory: Strata vs VictoriaMetrics 1.79.5 (Debian's package), RSS per
# series after a restart. For each target: write N series of one point each
# (measurement scale, tags host=h0..h999 and a unique id), stop the server
# gracefully, start it again and time until it answers, read VmRSS ("idle"), then
# write one more point to every series and read VmRSS and VmHWM again ("active":
# every series has been looked up by the write path since the restart).
#
# Usage: bench/series/run.sh [--series N] [--targets strata,vm] [--batch LINES]
#        [--out FILE] [--strata-flags "FLAGS"]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
series=1000000
targets="strata,vm"
batch=50000 # lines per request: 2.5 MB, under Strata's 25 MB body limit
out=""
strata_flags=""

while [[ $# -gt 0 ]]; do
  case "$1" in
    --series) series=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --strata-flags) strata_flags=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ "$series" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --series must be a positive integer" >&2; exit 2; }

log() { printf '%s series: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

if [[ ",$targets," == *",vm,"* ]] && ! command -v victoria-metrics >/dev/null; then
  log "installing victoria-metrics"
  DEBIAN_FRONTEND=noninteractive apt-get install -y victoria-metrics >&2
fi

tmp=$(mktemp -d /tmp/strata-series.XXXXXX)
server_pid=""
cleanup() {
  local rc=$?
  stop_server || true
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_http URL: seconds (with ms) until URL answers 2xx, or fail after 120 s.
wait_http() {
  local start now
  start=$(date +%s.%N)
  for _ in $(seq 1 12000); do
    if curl -fs -o /dev/null "$1"; then
      now=$(date +%s.%N)
      python3 -c "print(f'{$now-$start:.3f}')"
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || { echo "server exited" >&2; return 1; }
    sleep 0.01
  done
  echo "no answer from $1" >&2
  return 1
}

stop_server() {
  [[ -n "$server_pid" ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 1200); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# lines T: N series of line protocol at Unix time T (seconds).
lines() {
  awk -v n="$series" -v t="$1" 'BEGIN { for (i = 0; i < n; i++) printf "scale,host=h%d,id=%d v=1 %d\n", i % 1000, i, t }'
}

# post URL: send stdin in batches of $batch lines, failing on any non-2xx answer.
post() {
  lines "$2" | split -l "$batch" --filter "curl -fsS -o /dev/null --data-binary @- '$1'"
}

port=""
# start TARGET: start the server in the background (server_pid) and write the
# seconds it took to answer into $tmp/ready.
start() {
  case "$1" in
    strata)
      # shellcheck disable=SC2086 # strata_flags is a list of flags
      "$tmp/strata" serve --data-dir "$tmp/strata-data" --http-addr "127.0.0.1:$port" \
        --log-level warn --max-series-per-database -1 $strata_flags >>"$tmp/strata.log" 2>&1 &
      server_pid=$!
      wait_http "http://127.0.0.1:$port/ping" >"$tmp/ready" ;;
    vm)
      victoria-metrics -retentionPeriod=100y -httpListenAddr="127.0.0.1:$port" \
        -storageDataPath="$tmp/vm-data" -loggerLevel=WARN >>"$tmp/vm.log" 2>&1 &
      server_pid=$!
      wait_http "http://127.0.0.1:$port/health" >"$tmp/ready" ;;
  esac
}

if [[ ",$targets," == *",strata,"* ]]; then
  log "building strata from $repo"
  (cd "$repo" && go build -o "$tmp/strata" ./cmd/strata)
fi
vm_version=$(dpkg-query -W -f '${Version}' victoria-metrics 2>/dev/null || echo "?")

t0=1700000000
report=""
IFS=, read -r -a target_list <<<"$targets"
for target in "${target_list[@]}"; do
  port=$(free_port)
  base="http://127.0.0.1:$port"
  start "$target"
  if [[ "$target" == strata ]]; then
    curl -fsS -o /dev/null -XPOST "$base/query" --data-urlencode "q=CREATE DATABASE bench"
  fi
  log "$target: writing $series series"
  w0=$(date +%s.%N)
  post "$base/write?db=bench&precision=s" "$t0"
  w1=$(date +%s.%N)
  [[ "$target" == vm ]] && curl -fsS -o /dev/null "$base/internal/force_flush"
  stop_server
  log "$target: restarting"
  start "$target"
  open=$(cat "$tmp/ready")
  sleep 1 # let the process settle after answering
  idle=$(status_kb "$server_pid" VmRSS)
  log "$target: open ${open}s, idle RSS ${idle} kB; writing every series again"
  post "$base/write?db=bench&precision=s" "$((t0 + 10))"
  sleep 2
  active=$(status_kb "$server_pid" VmRSS)
  hwm=$(status_kb "$server_pid" VmHWM)
  stop_server
  line=$(python3 -c "
n=$series
print(f'$target series={n} write_s={$w1-$w0:.1f} open_s=$open idle_rss_mb={$idle/1024:.1f} idle_b_per_series={$idle*1024/n:.1f} active_rss_mb={$active/1024:.1f} active_b_per_series={$active*1024/n:.1f} hwm_mb={$hwm/1024:.1f} hwm_b_per_series={$hwm*1024/n:.1f}')")
  log "$line"
  report+="$line"$'\n'
done

{
  echo "# bench/series/run.sh --series $series --targets $targets ($(date -u +%FT%TZ), victoria-metrics $vm_version, $(nproc) cores)"
  printf '%s' "$report"
  python3 - "$report" <<'PY'
import sys
rows = {}
for line in sys.argv[1].splitlines():
    f = line.split()
    rows[f[0]] = {k: float(v) for k, v in (x.split("=") for x in f[1:])}
if "strata" in rows and "vm" in rows:
    s, v = rows["strata"], rows["vm"]
    for k in ("open_s", "idle_b_per_series", "active_b_per_series", "hwm_b_per_series"):
        print(f"ratio strata/vm {k}: {s[k] / v[k]:.2f}")
PY
} | tee ${out:+"$out"}
