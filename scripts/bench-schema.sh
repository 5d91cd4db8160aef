#!/usr/bin/env bash
# `make bench-schema`: `braid schema` against `pg_dump --schema-only` on
# the same PostgreSQL schema of 500 tables (10 columns, 2 indexes and 1
# foreign key each), both timed in one run: medians of 5, and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
tables=${TABLES:-500}
runs=${RUNS:-5}
braid=${BRAID:-target/release/braid}
db=braid_bench_schema
server=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
psql_() { psql "$server/$1" -qAtX -v ON_ERROR_STOP=1 "${@:2}"; }
psql_ postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'psql_ postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
{
  echo "CREATE SCHEMA bench; SET search_path TO bench;"
  for i in $(seq 1 "$tables"); do
    parent=$(( i > 1 ? i - 1 : 1 ))
    echo "CREATE TABLE t$i (id bigint PRIMARY KEY, parent_id bigint REFERENCES t$parent (id) ON DELETE CASCADE,
      name varchar(100) NOT NULL, email text, amount numeric(12,2) DEFAULT 0, flag boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(), note text, score integer CHECK (score >= 0), payload jsonb);"
    echo "CREATE INDEX ix_t${i}_name ON t$i (name); CREATE UNIQUE INDEX ix_t${i}_email ON t$i (lower(email)) WHERE email IS NOT NULL;"
  done
} | psql_ "$db" >/dev/null
url="$server/$db"
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
time_of() {
  for _ in $(seq 1 "$runs"); do
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
  done | median
}
braid_s=$(time_of env DATABASE_URL="$url" DATABASE_SCHEMA=bench "$braid" --config /dev/null schema)
dump_s=$(time_of pg_dump --schema-only --schema=bench "$url")
braid_json=$(time_of env DATABASE_URL="$url" DATABASE_SCHEMA=bench "$braid" --config /dev/null schema --format json)
made=$(env DATABASE_URL="$url" DATABASE_SCHEMA=bench "$braid" --config /dev/null schema | grep -c '^CREATE TABLE')
[ "$made" -eq "$tables" ] || { echo "braid schema printed $made tables, expected $tables" >&2; exit 1; }
printf '| measurement (%d tables, median of %d) | seconds |\n| --- | ---: |\n' "$tables" "$runs"
printf '| braid schema (SQL) | %.3f |\n| braid schema --format json | %.3f |\n| pg_dump --schema-only | %.3f |\n' "$braid_s" "$braid_json" "$dump_s"
printf '| braid / pg_dump | %.2fx |\n' "$(echo "$braid_s / $dump_s" | bc -l)"
