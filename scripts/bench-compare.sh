#!/usr/bin/env bash
# `make bench-compare`: braid against Alembic on the same generated
# histories, side by side in one run, with the baselines (reading the
# files; each engine's own client running the same SQL), then the fleet
# benchmark (scripts/bench-fleet.sh).
#
# Alembic is installed into a throwaway virtualenv (.venv-bench/).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-bench
if [ ! -x "$venv/bin/alembic" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q alembic psycopg2-binary
fi
cargo build -q --release --example generate_history
cargo build -q --release
bash scripts/services.sh
"$venv/bin/python" scripts/bench_compare.py "$@"
# Fleets: 1,000 tenant schemas against the Alembic recipe and a shell loop.
ALEMBIC="$venv/bin/alembic" bash scripts/bench-fleet.sh
