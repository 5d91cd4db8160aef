#!/usr/bin/env bash
# `make bench-fleet` (also run by `make bench-compare`): 1,000 PostgreSQL
# tenant schemas × 20 revisions (with branches and merges), fresh:
# `braid fleet upgrade heads --jobs 8` against the Alembic recipe (`xargs
# -P8` running `alembic -x tenant=SCHEMA upgrade heads`, an env.py setting
# the search_path and version_table_schema) and against a shell loop of
# `braid upgrade heads` per schema, each on a database of its own; then
# the no-op reruns and `fleet status`; peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
tenants=${TENANTS:-1000}
revisions=${REVISIONS:-20}
braid=$(realpath "${BRAID:-target/release/braid}")
alembic=$(realpath "${ALEMBIC:-.venv-bench/bin/alembic}")
server=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
cargo build -q --release --example generate_history
work=$(mktemp -d)
psql_() { psql "$server/$1" -qAtX -v ON_ERROR_STOP=1 "${@:2}"; }
cleanup() {
  for d in braid_fleet_a braid_fleet_b braid_fleet_c; do psql_ postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
target/release/examples/generate_history "$revisions" "$work/migrations" "$work/alembic/versions" >/dev/null 2>&1
# The recipe Alembic users write for tenant schemas.
cat > "$work/alembic/env.py" <<'PY'
from alembic import context
from sqlalchemy import engine_from_config, pool
config = context.config
tenant = context.get_x_argument(as_dictionary=True)["tenant"]
engine = engine_from_config(config.get_section(config.config_ini_section), prefix="sqlalchemy.", poolclass=pool.NullPool)
with engine.connect() as connection:
    connection.exec_driver_sql('SET search_path TO "%s"' % tenant)
    connection.commit()
    context.configure(connection=connection, version_table_schema=tenant, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
PY
printf '[alembic]\nscript_location = %%(here)s/alembic\nsqlalchemy.url = %s/braid_fleet_c\n' "${server/postgres:/postgresql+psycopg2:}" > "$work/alembic.ini"
for d in braid_fleet_a braid_fleet_b braid_fleet_c; do
  psql_ postgres -c "DROP DATABASE IF EXISTS $d" -c "CREATE DATABASE $d" >/dev/null 2>&1
  for i in $(seq -w 1 "$tenants"); do echo "CREATE SCHEMA tenant_$i;"; done | psql_ "$d" >/dev/null
done
printf '[migrations]\ndirectories = ["migrations"]\n[database]\nurl = "%s/braid_fleet_a"\n[fleet]\nschemas_like = "tenant\\\\_%%"\n' "$server" > "$work/braid.toml"
timed() { # timed LABEL CMD…: seconds and peak RSS
  local label=$1 start end
  shift
  start=$(date +%s.%N)
  # A failed run is no figure: its output is shown and the bench stops.
  /usr/bin/time -f "%M" -o "$work/rss" "$@" >"$work/out" 2>&1 \
    || { echo "$label failed:" >&2; tail -20 "$work/out" >&2; exit 1; }
  end=$(date +%s.%N)
  printf '| %s | %.2f s | %d MiB |\n' "$label" "$(echo "$end - $start" | bc -l)" "$(( $(tail -1 "$work/rss") / 1024 ))"
}
cd "$work"
printf '| %d schemas × %d revisions | time | peak memory |\n| --- | ---: | ---: |\n' "$tenants" "$revisions"
timed "braid fleet upgrade heads --jobs 8 (fresh)" "$braid" fleet upgrade heads --jobs 8 -q
# Every tenant at the head, as braid's own tables record it.
head=$("$braid" heads | awk '{print $1}')
at_head() { # at_head DATABASE: how many tenant schemas record the head
  psql_ "$1" -c "SELECT count(*) FROM pg_namespace n WHERE n.nspname LIKE 'tenant\_%' AND to_regclass(quote_ident(n.nspname) || '.braid_version') IS NOT NULL" >/dev/null
  local n=0 s
  for s in $(psql_ "$1" -c "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\_%'"); do
    [ "$(psql_ "$1" -c "SELECT string_agg(version_num, ',') FROM \"$s\".braid_version")" = "$head" ] && n=$((n + 1))
  done
  echo "$n"
}
done_a=$(at_head braid_fleet_a)
[ "$done_a" = "$((10#$tenants))" ] || { echo "braid fleet left $((10#$tenants - done_a)) of $tenants schemas short of $head" >&2; exit 1; }
timed "braid fleet upgrade heads --jobs 8 (nothing to do)" "$braid" fleet upgrade heads --jobs 8 -q
timed "braid fleet status" "$braid" fleet status -q
start=$(date +%s.%N)
for i in $(seq -w 1 "$tenants"); do
  DATABASE_URL="$server/braid_fleet_b" DATABASE_SCHEMA="tenant_$i" "$braid" upgrade heads -q
done
printf '| shell loop of braid upgrade heads per schema (fresh) | %.2f s | |\n' "$(echo "$(date +%s.%N) - $start" | bc -l)"
done_b=$(at_head braid_fleet_b)
[ "$done_b" = "$((10#$tenants))" ] || { echo "the shell loop left $((10#$tenants - done_b)) of $tenants schemas short of $head" >&2; exit 1; }
alembic_recipe() {
  seq -w 1 "$tenants" | sed 's/^/tenant_/' \
    | xargs -P8 -I{} "$alembic" -x tenant={} upgrade heads >/dev/null 2>"$work/alembic.err" \
    || { tail -5 "$work/alembic.err"; exit 1; }
}
start=$(date +%s.%N)
alembic_recipe
printf '| Alembic recipe: xargs -P8 alembic -x tenant=… upgrade heads (fresh) | %.2f s | |\n' "$(echo "$(date +%s.%N) - $start" | bc -l)"
start=$(date +%s.%N)
alembic_recipe
printf '| Alembic recipe (nothing to do) | %.2f s | |\n' "$(echo "$(date +%s.%N) - $start" | bc -l)"
applied=$(psql_ braid_fleet_c -c "SELECT count(*) FROM pg_tables WHERE tablename = 'alembic_version'")
[ "$applied" = "$((10#$tenants))" ] || { echo "Alembic migrated $applied of $tenants schemas" >&2; exit 1; }
