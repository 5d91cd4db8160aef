#!/usr/bin/env bash
# `make bench-diff`: `braid diff` against migra on two PostgreSQL schemas of
# 500 tables that differ in 50 places, side by side in one run. migra is
# installed from PyPI into a throwaway virtualenv (.venv-migra/) and gets
# the two schemas loaded into two databases beforehand; braid is timed on
# the same two databases (its proof rebuilds the part of the old one the
# change touches), and from the two .sql files (building its own scratch
# databases), proving its script both ways each time. Each output is then applied to a fresh
# copy of the old schema, and checked to reach the new one.
set -euo pipefail
cd "$(dirname "$0")/.."
tables=${TABLES:-500}
runs=${RUNS:-5}
braid=$(realpath "${BRAID:-target/release/braid}")
server=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
venv=.venv-migra
if [ ! -x "$venv/bin/migra" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q migra psycopg2-binary "psycopg[binary]"
fi
work=$(mktemp -d)
dbs="braid_bench_old braid_bench_new braid_bench_apply"
psql_() { psql "$server/$1" -qAtX -v ON_ERROR_STOP=1 "${@:2}"; }
cleanup() {
  for d in $dbs; do psql_ postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

table() { # table N CHANGED
  local i=$1 parent=$(( $1 > 1 ? $1 - 1 : 1 )) extra="" name="varchar(100)" note="    note text,"
  if [ "$2" = new ]; then
    if [ "$i" -le 10 ]; then extra=",
    extra text"; fi
    if [ "$i" -gt 10 ] && [ "$i" -le 20 ]; then note=""; fi
    if [ "$i" -gt 20 ] && [ "$i" -le 30 ]; then name="varchar(200)"; fi
  fi
  cat <<SQL
CREATE TABLE t$i (
    id bigint PRIMARY KEY,
    parent_id bigint REFERENCES t$parent (id) ON DELETE CASCADE,
    name $name NOT NULL,
    email text,
    amount numeric(12,2) DEFAULT 0,
    flag boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
$note
    score integer CHECK (score >= 0),
    payload jsonb$extra
);
CREATE INDEX ix_t${i}_name ON t$i (name);
CREATE UNIQUE INDEX ix_t${i}_email ON t$i (lower(email)) WHERE email IS NOT NULL;
SQL
  if [ "$2" = new ] && [ "$i" -gt 30 ] && [ "$i" -le 40 ]; then echo "CREATE INDEX ix_t${i}_score ON t$i (score);"; fi
  if [ "$2" = new ] && [ "$i" -gt 40 ] && [ "$i" -le 50 ]; then echo "ALTER TABLE t$i ADD CONSTRAINT ck_t${i}_amount CHECK (amount >= 0);"; fi
}
for side in old new; do
  for i in $(seq 1 "$tables"); do table "$i" "$side"; done > "$work/$side.sql"
done
load() { # load DB FILE
  psql_ postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
  psql_ "$1" -c "CREATE SCHEMA bench" >/dev/null
  PGOPTIONS="-c search_path=bench" psql_ "$1" -f "$2" >/dev/null
}
start=$(date +%s.%N)
load braid_bench_old "$work/old.sql"
load braid_bench_new "$work/new.sql"
load_s=$(echo "$(date +%s.%N) - $start" | bc -l)
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
time_of() { # time_of OK_CODES CMD…: median seconds; an exit code not in OK_CODES ("0" or "0 2") stops the bench
  local ok=$1
  shift
  for _ in $(seq 1 "$runs"); do
    local start end code=0
    start=$(date +%s.%N)
    "$@" >/dev/null 2>"$work/time_of.err" || code=$?
    end=$(date +%s.%N)
    if ! [[ " $ok " == *" $code "* ]]; then
      { echo "$* exited $code:"; tail -5 "$work/time_of.err"; } >&2
      return 1
    fi
    echo "$end - $start" | bc -l
  done | median
}
export DATABASE_URL="$server/postgres" DATABASE_SCHEMA=bench
(cd "$work" && "$braid" --config /dev/null diff old.sql new.sql > braid.sql)
# migra exits 2 when it found differences (there are 50), 0 when none.
code=0
"$venv/bin/migra" --unsafe --schema bench "${server/postgres:/postgresql:}/braid_bench_old" "${server/postgres:/postgresql:}/braid_bench_new" > "$work/migra.sql" || code=$?
[ "$code" = 2 ] || { echo "migra exited $code, expected 2 (differences found)" >&2; exit 1; }
(cd "$work" && "$braid" --config /dev/null diff "$server/braid_bench_old" "$server/braid_bench_new" > braid_db.sql)
braid_s=$(cd "$work" && time_of 0 "$braid" --config /dev/null diff old.sql new.sql)
braid_db_s=$(cd "$work" && time_of 0 "$braid" --config /dev/null diff "$server/braid_bench_old" "$server/braid_bench_new")
migra_s=$(time_of 2 "$venv/bin/migra" --unsafe --schema bench "${server/postgres:/postgresql:}/braid_bench_old" "${server/postgres:/postgresql:}/braid_bench_new")
# Does each output, applied to the old schema, give the new one?
reaches() {
  load braid_bench_apply "$work/old.sql"
  if ! PGOPTIONS="-c search_path=bench" psql_ braid_bench_apply -f "$1" >/dev/null 2>"$work/apply.err"; then
    echo "no (fails: $(head -c 120 "$work/apply.err" | tr '\n' ' '))"
    return
  fi
  if (cd "$work" && DATABASE_URL="$server/braid_bench_apply" "$braid" --config /dev/null diff database new.sql --exit-code >/dev/null 2>&1); then
    echo yes
  else
    echo "no ($(cd "$work" && DATABASE_URL="$server/braid_bench_apply" "$braid" --config /dev/null diff database new.sql 2>/dev/null | grep -c ';') statements still differ)"
  fi
}
braid_ok=$(reaches "$work/braid.sql")
braid_db_ok=$(reaches "$work/braid_db.sql")
migra_ok=$(reaches "$work/migra.sql")
printf '| %d tables, 50 differences (median of %d) | seconds | statements | applied to the old schema, reaches the new one |\n| --- | ---: | ---: | --- |\n' "$tables" "$runs"
printf '| braid diff old.sql new.sql (builds both scratch databases, proves both ways) | %.3f | %d | %s |\n' "$braid_s" "$(grep -c ';$' "$work/braid.sql")" "$braid_ok"
printf '| braid diff URL URL (both databases loaded beforehand; proves both ways on the part of the old one the change touches) | %.3f | %d | %s |\n' "$braid_db_s" "$(grep -c ';$' "$work/braid_db.sql")" "$braid_db_ok"
printf '| migra (both databases loaded beforehand) | %.3f | %d | %s |\n' "$migra_s" "$(grep -c ';$' "$work/migra.sql")" "$migra_ok"
printf '| migra with its two databases loaded by psql first (%.3f s) | %.3f | | |\n' "$load_s" "$(echo "$migra_s + $load_s" | bc -l)"
printf '| migra / braid, both databases preloaded | %.2fx | | |\n' "$(echo "$migra_s / $braid_db_s" | bc -l)"
printf '| migra preloaded / braid from the .sql files | %.2fx | | |\n' "$(echo "$migra_s / $braid_s" | bc -l)"
printf '| migra / braid, loading included | %.2fx | | |\n' "$(echo "($migra_s + $load_s) / $braid_s" | bc -l)"
