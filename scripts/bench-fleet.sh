#!/usr/bin/env bash
# `make bench-fleet`: 1,000 PostgreSQL tenant schemas × 20 revisions (with
# branches and merges), fresh: `braid fleet upgrade heads --jobs 8`
# against a shell loop of `braid upgrade heads` per schema (fresh, on a
# second database); then the no-op rerun and `fleet status`; peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
tenants=${TENANTS:-1000}
revisions=${REVISIONS:-20}
braid=$(realpath "${BRAID:-target/release/braid}")
server=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
cargo build -q --release --example generate_history
work=$(mktemp -d)
psql_() { psql "$server/$1" -qAtX -v ON_ERROR_STOP=1 "${@:2}"; }
cleanup() {
  for d in braid_fleet_a braid_fleet_b; do psql_ postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
target/release/examples/generate_history "$revisions" "$work/migrations" >/dev/null 2>&1
for d in braid_fleet_a braid_fleet_b; do
  psql_ postgres -c "DROP DATABASE IF EXISTS $d" -c "CREATE DATABASE $d" >/dev/null 2>&1
  for i in $(seq -w 1 "$tenants"); do echo "CREATE SCHEMA tenant_$i;"; done | psql_ "$d" >/dev/null
done
printf '[migrations]\ndirectories = ["migrations"]\n[database]\nurl = "%s/braid_fleet_a"\n[fleet]\nschemas_like = "tenant\\\\_%%"\n' "$server" > "$work/braid.toml"
timed() { # timed LABEL CMD…: seconds and peak RSS
  local label=$1 start end
  shift
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/rss" "$@" >/dev/null 2>&1 || true
  end=$(date +%s.%N)
  printf '| %s | %.2f s | %d MiB |\n' "$label" "$(echo "$end - $start" | bc -l)" "$(( $(tail -1 "$work/rss") / 1024 ))"
}
cd "$work"
printf '| %d schemas × %d revisions | time | peak memory |\n| --- | ---: | ---: |\n' "$tenants" "$revisions"
timed "braid fleet upgrade heads --jobs 8 (fresh)" "$braid" fleet upgrade heads --jobs 8 -q
timed "braid fleet upgrade heads --jobs 8 (nothing to do)" "$braid" fleet upgrade heads --jobs 8 -q
timed "braid fleet status" "$braid" fleet status -q
start=$(date +%s.%N)
for i in $(seq -w 1 "$tenants"); do
  DATABASE_URL="$server/braid_fleet_b" DATABASE_SCHEMA="tenant_$i" "$braid" upgrade heads -q
done
printf '| shell loop of braid upgrade heads per schema (fresh) | %.2f s | |\n' "$(echo "$(date +%s.%N) - $start" | bc -l)"
