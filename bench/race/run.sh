#!/usr/bin/env bash
# Side-by-side race: Strata vs VictoriaMetrics 1.79.5 vs InfluxDB 1.6.7 on the
# TSBS cpu-only workload of `strata bench`, each server in its own process, run
# alternately (strata, vm, influxd, strata, vm, influxd, ...) so that a noisy
# shared machine slows every target alike. See README.md next to this file.
#
# Usage: bench/race/run.sh [--quick] [--rounds N] [--targets strata,vm,influxd]
#        [--hosts N] [--duration D] [--workers W] [--batch B] [--query-runs R]
#        [--rev REV | --worktree] [--out DIR] [--strata-flags "FLAGS"]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$repo/bench/race"

rounds=2
targets="strata,vm,influxd"
hosts=100        # the issue's default: TSBS scale 100
duration=24h     # one day of 10 s points: 864,000 lines, 8.64 M values
workers=4        # the issue's default writer count
batch=5000       # the issue's default lines per request
query_runs=20    # queries per query type, as strata bench defaults
rev=HEAD
worktree=0
out=""

usage() { sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) hosts=10; duration=2h; shift ;;
    --rounds) rounds=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --hosts) hosts=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --query-runs) query_runs=$2; shift 2 ;;
    --rev) rev=$2; shift 2 ;;
    --worktree) worktree=1; shift ;;
    --out) out=$2; shift 2 ;;
    --strata-flags) strata_flags=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --rounds must be a positive integer" >&2; exit 2; }
IFS=, read -r -a target_list <<<"$targets"
for t in "${target_list[@]}"; do
  case "$t" in strata|vm|influxd) ;; *) echo "run.sh: unknown target $t (strata, vm, influxd)" >&2; exit 2 ;; esac
done

log() { printf '%s race: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# ---- peers from Debian's packages ------------------------------------------
need=()
command -v influxd >/dev/null || need+=(influxdb)
command -v victoria-metrics >/dev/null || need+=(victoria-metrics)
if [[ ${#need[@]} -gt 0 ]]; then
  log "installing ${need[*]}"
  # policy-rc.d in containers keeps the packages' services from starting; we
  # start our own instances on private ports and data dirs either way.
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >&2
fi
influx_version=$(influxd version 2>/dev/null | head -1)
vm_version=$(victoria-metrics -version 2>/dev/null | head -1)
vm_version=${vm_version:-$(dpkg-query -W -f '${Version}' victoria-metrics 2>/dev/null || true)}

# ---- temp dir, cleanup -------------------------------------------------------
tmp=$(mktemp -d /tmp/strata-race.XXXXXX)
server_pid=""
cleanup() {
  local rc=$?
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -z "$out" ]]; then
  out="$here/results/$(date -u +%Y%m%dT%H%M%SZ)"
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

# ---- build strata ------------------------------------------------------------
# By default the measured binary is a clean export of --rev, so the numbers belong
# to one commit hash; --worktree builds the working tree (uncommitted work included).
cd "$repo"
if [[ $worktree == 1 ]]; then
  commit="$(git rev-parse HEAD)"
  dirty=$(git status --porcelain --untracked-files=no -- . ':!bench/race' ':!docs/performance.md' | wc -l)
  [[ $dirty -gt 0 ]] && commit="$commit+worktree($dirty modified files)"
  log "building strata from the working tree ($commit)"
  go build -o "$tmp/strata" ./cmd/strata
else
  commit=$(git rev-parse --verify "$rev^{commit}")
  log "building strata at $commit"
  mkdir "$tmp/src"
  git archive "$commit" | tar -x -C "$tmp/src"
  (cd "$tmp/src" && go build -o "$tmp/strata" ./cmd/strata)
  rm -rf "$tmp/src"
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_http URL SECONDS: poll until URL answers 2xx, bounded.
wait_http() {
  local url=$1 secs=$2 i
  for ((i = 0; i < secs * 10; i++)); do
    if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then return 0; fi
    kill -0 "$server_pid" 2>/dev/null || { log "server exited while starting"; return 1; }
    sleep 0.1
  done
  log "$url not ready after ${secs}s"
  return 1
}

hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || true; }

# stop_server SECONDS: SIGTERM, then follow VmHWM until the process is gone, so a
# peak during the shutdown flush is seen; SIGKILL after SECONDS. Sets stop_hwm_kb,
# stop_seconds and stop_clean.
stop_server() {
  local secs=$1 i h t0
  stop_hwm_kb=$(hwm_kb "$server_pid"); stop_hwm_kb=${stop_hwm_kb:-0}
  stop_clean=true
  t0=$(date +%s.%N)
  kill -TERM "$server_pid"
  for ((i = 0; i < secs * 20; i++)); do
    h=$(hwm_kb "$server_pid")
    [[ -n "$h" && "$h" -gt "$stop_hwm_kb" ]] && stop_hwm_kb=$h
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    log "server $server_pid still running after ${secs}s: SIGKILL"
    kill -KILL "$server_pid" 2>/dev/null || true
    stop_clean=false
  fi
  wait "$server_pid" 2>/dev/null || true
  stop_seconds=$(python3 -c "import time; print(round(time.time()-$t0, 2))")
  server_pid=""
}

# disk_json DIR: allocated (du) and apparent bytes of DIR and of each top-level entry.
disk_json() {
  python3 - "$1" <<'EOF'
import json, os, sys
root = sys.argv[1]
tot = {"allocated_bytes": 0, "apparent_bytes": 0, "by_entry": {}}
for dp, dns, fns in os.walk(root):
    for fn in fns:
        p = os.path.join(dp, fn)
        st = os.lstat(p)
        top = os.path.relpath(p, root).split(os.sep)[0]
        a = st.st_blocks * 512
        tot["allocated_bytes"] += a
        tot["apparent_bytes"] += st.st_size
        e = tot["by_entry"].setdefault(top, {"allocated_bytes": 0, "apparent_bytes": 0, "files": 0})
        e["allocated_bytes"] += a
        e["apparent_bytes"] += st.st_size
        e["files"] += 1
print(json.dumps(tot))
EOF
}

# ---- targets -------------------------------------------------------------------
# Each start_* sets server_pid, url and data (the directory measured afterwards).

start_strata() {
  local port; port=$(free_port)
  data="$tmp/strata-data"
  url="http://127.0.0.1:$port"
  # shellcheck disable=SC2086 # strata_flags is a list of flags
  "$tmp/strata" serve --data-dir "$data" --http-addr "127.0.0.1:$port" --log-level warn ${strata_flags:-} \
    >"$run_dir/server.log" 2>&1 &
  server_pid=$!
  wait_http "$url/ping" 60
}

start_vm() {
  local port; port=$(free_port)
  data="$tmp/vm"
  url="http://127.0.0.1:$port"
  # Only the HTTP listener is on; graphite/opentsdb/influx TCP listeners are off by
  # default. -retentionPeriod=100y keeps the 2016 timestamps of the data set.
  victoria-metrics -retentionPeriod=100y -httpListenAddr="127.0.0.1:$port" \
    -storageDataPath="$data" -loggerLevel=WARN >"$run_dir/server.log" 2>&1 &
  server_pid=$!
  wait_http "$url/health" 60
}

start_influxd() {
  local port rpc; port=$(free_port); rpc=$(free_port)
  data="$tmp/influxd"
  url="http://127.0.0.1:$port"
  mkdir -p "$data"
  # Defaults of 1.6.7 except: every listener on 127.0.0.1 (HTTP on a free port,
  # the RPC/backup listener too), directories under the temp dir, no usage
  # reporting (Debian renamed the key to reporting-enabled), no _internal monitor
  # database (it would write its own points during the run), no per-request HTTP
  # and query logs (Strata runs with --log-level warn), and a 10 s cold-cache
  # snapshot instead of 10 m so the data reach TSM files before the disk is measured.
  cat >"$tmp/influxdb.conf" <<EOF
reporting-enabled = false
reporting-disabled = true
bind-address = "127.0.0.1:$rpc"
[meta]
  dir = "$data/meta"
[data]
  dir = "$data/data"
  wal-dir = "$data/wal"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "10s"
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:$port"
  log-enabled = false
[continuous_queries]
  enabled = false
EOF
  cp "$tmp/influxdb.conf" "$run_dir/influxdb.conf"
  influxd run -config "$tmp/influxdb.conf" >"$run_dir/server.log" 2>&1 &
  server_pid=$!
  wait_http "$url/ping" 60
}

# flush_* make the server's data durable in its data files before du, and set
# flush_note for the report.

flush_strata() {
  # Strata's graceful shutdown flushes the head to column blocks: stop first.
  stop_server 300
  flush_note="SIGTERM (shutdown flushes), exit clean=$stop_clean after ${stop_seconds}s"
}

flush_vm() {
  local i merges
  curl -fsS -o /dev/null --max-time 120 "$url/internal/force_flush"
  # Let background merges of the freshly flushed parts finish (bounded).
  for ((i = 0; i < 120; i++)); do
    merges=$(curl -fsS --max-time 5 "$url/metrics" | awk '/^vm_active_merges/ {s += $2} END {print s + 0}')
    [[ "$merges" == 0 ]] && break
    sleep 1
  done
  curl -fsS --max-time 5 "$url/metrics" | grep -E '^vm_rows_(inserted_total\{type="influx"\}|ignored_total)|^vm_rows\{' \
    >"$run_dir/vm-metrics.txt" || true
  flush_note="GET /internal/force_flush, then ${i}s waiting for vm_active_merges=0 (remaining: $merges)"
}

flush_influxd() {
  local i w
  # Wait for the cold-cache snapshot to move the WAL into TSM files (bounded).
  for ((i = 0; i < 180; i++)); do
    w=$(find "$data/wal" -name '*.wal' -size +0c 2>/dev/null | wc -l)
    [[ $w == 0 && $i -ge 12 ]] && break
    sleep 1
  done
  stop_server 120
  flush_note="waited ${i}s for the cache snapshot (non-empty WAL segments left: $w), then SIGTERM (clean=$stop_clean)"
}

run_one() {
  local target=$1 round=$2 queries=true
  [[ $target == vm ]] && queries=false  # VictoriaMetrics has no InfluxQL /query
  run_dir="$out/$target-r$round"
  mkdir -p "$run_dir"
  log "round $round: $target"
  "start_$target"
  local pid=$server_pid bench_rc=0
  "$tmp/strata" bench --url "$url" --pid "$pid" --json "$run_dir/bench.json" \
    --hosts "$hosts" --duration "$duration" --workers "$workers" --batch "$batch" \
    --queries="$queries" --query-runs "$query_runs" \
    >"$run_dir/bench.txt" 2>"$run_dir/bench.err" || bench_rc=$?
  [[ $bench_rc != 0 ]] && log "$target: strata bench exited $bench_rc (see $run_dir/bench.err)"
  "flush_$target"
  [[ -n "$server_pid" ]] && stop_server 120
  disk_json "$data" >"$run_dir/disk.json"
  python3 - "$run_dir/meta.json" <<EOF
import json, sys
meta = {
    "target": "$target", "round": $round, "server_pid": $pid,
    "bench_exit": $bench_rc, "flush": """$flush_note""",
    "peak_rss_incl_shutdown_bytes": $stop_hwm_kb * 1024,
    "stop_clean": "$stop_clean" == "true", "stop_seconds": $stop_seconds,
    "disk": json.load(open("$run_dir/disk.json")),
    "strata_commit": "$commit", "influxd_version": "$influx_version", "vm_version": "$vm_version",
}
json.dump(meta, open(sys.argv[1], "w"), indent=2)
EOF
  rm -rf "$data"
}

{
  echo "strata_commit=$commit"
  echo "influxd=$influx_version"
  echo "victoria-metrics=$vm_version"
  echo "args: rounds=$rounds targets=$targets hosts=$hosts duration=$duration workers=$workers batch=$batch query_runs=$query_runs"
  echo "started=$(date -u +%FT%TZ)"
  echo "nproc=$(nproc)"
  grep -E '^(MemTotal)' /proc/meminfo
  grep -m1 'model name' /proc/cpuinfo
  df -h "$tmp" | tail -1
  uname -srm
} >"$out/env.txt"

for ((r = 1; r <= rounds; r++)); do
  for t in "${target_list[@]}"; do
    run_one "$t" "$r"
  done
done
echo "finished=$(date -u +%FT%TZ)" >>"$out/env.txt"

python3 "$here/summarise.py" "$out" | tee "$out/summary.md"
log "results in $out"
