#!/usr/bin/env bash
# `make bench-status`: `braid status` and `braid log` on a PostgreSQL
# database with 10,000 applied revisions (SPEC §14; the goal is status
# under 50 ms), and `braid heads` on the same files: medians of RUNS runs,
# process start included. The first status writes the header cache
# (.braid_cache/) once the files are two seconds old; the runs measured
# read through it. The scratch database and project are removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
revisions=${REVISIONS:-10000}
runs=${RUNS:-21}
braid=$(realpath "${BRAID:-target/release/braid}")
host=${PGHOST:-127.0.0.1}
db="braid_bench_status_$$"
work=$(mktemp -d)
cleanup() {
  psql -h "$host" -U postgres -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
cargo build -q --release --example generate_history
target/release/examples/generate_history "$revisions" "$work/migrations" >/dev/null 2>&1
psql -h "$host" -U postgres -qc "CREATE DATABASE $db"
printf '[migrations]\ndirectories = ["migrations"]\n[database]\nurl = "postgres://postgres@%s:5432/%s"\n' \
  "$host" "$db" > "$work/braid.toml"
cd "$work"
"$braid" -q upgrade heads >/dev/null
# Files written less than two seconds ago are never cached.
sleep 2
"$braid" status >/dev/null
median() {
  for _ in $(seq 1 "$runs"); do
    start=$(date +%s%N); "$braid" "$@" >/dev/null; end=$(date +%s%N)
    echo $(( (end - start) / 1000 ))
  done | sort -n | awk '{a[NR] = $1} END {printf "%.1f", a[int((NR + 1) / 2)] / 1000}'
}
printf '| %d applied revisions, PostgreSQL (median of %d, process included) | ms |\n| --- | ---: |\n' "$revisions" "$runs"
printf '| braid status | %s |\n' "$(median status)"
printf '| braid log | %s |\n' "$(median log)"
printf '| braid heads (every file read, no cache) | %s |\n' "$(median heads)"
