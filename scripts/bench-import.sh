#!/usr/bin/env bash
# `make bench-import`: `braid import alembic` (the header step, no Python)
# on a generated Alembic project of 1,000 revisions with branches, merges,
# labels and depends_on; median of 7, beside reading the same files.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${REVISIONS:-1000}
braid=$(realpath "${BRAID:-target/release/braid}")
cargo build -q --release --example generate_history
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target/release/examples/generate_history "$n" "$work/braid" "$work/alembic" >/dev/null
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
time_of() {
  for _ in $(seq 1 7); do
    rm -rf "$work/out" "$work/braid.toml"
    local start end
    start=$(date +%s.%N)
    (cd "$work" && "$@" >/dev/null 2>&1)
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
  done | median
}
import_s=$(time_of "$braid" import alembic alembic --out out -q)
written=$(find "$work/out" -name '*.sql' | wc -l)
cat_s=$(time_of sh -c 'cat alembic/*.py > /dev/null')
printf '| %d Alembic revisions (median of 7) | seconds |\n| --- | ---: |\n' "$n"
printf '| braid import alembic (headers, graph check, %d files written) | %.3f |\n' "$written" "$import_s"
printf '| cat of the same files | %.3f |\n' "$cat_s"
printf '| braid / cat | %.1fx |\n' "$(echo "$import_s / $cat_s" | bc -l)"
