#!/usr/bin/env bash
# `make soak`: 10,000 revisions upgraded to heads, downgraded to base and
# upgraded again, on SQLite and on PostgreSQL, with the wall time and the
# peak memory of each run. SOAK_N changes the count.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${SOAK_N:-10000}
cargo build -q --release --example generate_history
cargo build -q --release
bash scripts/services.sh
work=$(mktemp -d)
trap 'rm -rf "$work"; psql -q "postgres://postgres@127.0.0.1:5432/test" -c "DROP SCHEMA IF EXISTS braid_soak CASCADE" >/dev/null 2>&1 || true' EXIT
target/release/examples/generate_history "$n" "$work/migrations" 2>/dev/null
braid=$PWD/target/release/braid
run() {
  local label=$1; shift
  /usr/bin/time -f "$label: %e s, peak %M KB" "$braid" --quiet "$@" 2>&1 | tail -n 1
}
cd "$work"
printf '[migrations]\ndirectories = ["migrations"]\n[database]\nurl = "sqlite://%s/soak.db"\n' "$work" > braid.toml
for engine in sqlite postgres; do
  if [ "$engine" = postgres ]; then
    printf '[migrations]\ndirectories = ["migrations"]\n[database]\nurl = "postgres://postgres@127.0.0.1:5432/test"\nschema = "braid_soak"\n' > braid.toml
  fi
  echo "== $engine, $(ls migrations | wc -l) revisions"
  run "upgrade heads" upgrade heads
  run "downgrade base" downgrade base
  run "upgrade heads again" upgrade heads
  "$braid" current
done
