#!/usr/bin/env bash
# `make bench-lint`: `braid lint` over a generated PostgreSQL history of
# 10,000 revisions (the statements teams write: indexes, constraints,
# defaults, type changes, renames, drops, backfills), side by side with
# squawk on the same files. squawk is installed from PyPI into a throwaway
# virtualenv (.venv-squawk/). Both read the files alone: braid is given a
# PostgreSQL URL that refuses connections (and `[lint] server_version`),
# squawk `--pg-version`. Medians of RUNS runs; both must report findings.
set -euo pipefail
cd "$(dirname "$0")/.."
revisions=${REVISIONS:-10000}
runs=${RUNS:-5}
braid=$(realpath "${BRAID:-target/release/braid}")
venv=.venv-squawk
if [ ! -x "$venv/bin/squawk" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q squawk-cli
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/migrations"
cat > "$work/braid.toml" <<TOML
[database]
url = "postgres://nobody@127.0.0.1:1/none"
[lint]
server_version = "16"
TOML
python3 - "$work/migrations" "$revisions" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
stmts = [
    "CREATE INDEX ix_{i} ON users (email);",
    "CREATE INDEX CONCURRENTLY ix_c{i} ON users (org);",
    "ALTER TABLE users ADD CONSTRAINT fk_{i} FOREIGN KEY (org) REFERENCES orgs (id) NOT VALID;",
    "ALTER TABLE users ADD CONSTRAINT ck_{i} CHECK (id > 0);",
    "ALTER TABLE users ALTER COLUMN org SET NOT NULL;",
    "ALTER TABLE users ADD COLUMN c_{i} uuid DEFAULT gen_random_uuid();",
    "ALTER TABLE users ADD COLUMN d_{i} boolean NOT NULL DEFAULT false;",
    "ALTER TABLE users ALTER COLUMN org TYPE bigint;",
    "ALTER TABLE users RENAME COLUMN a_{i} TO b_{i};",
    "UPDATE users SET org = 1 WHERE id < {i};",
    "CREATE TABLE t_{i} (id bigint PRIMARY KEY, note text);\nCREATE INDEX ix_t_{i} ON t_{i} (note);",
    "DROP INDEX ix_{i};",
]
for i in range(n):
    s = stmts[i % len(stmts)].format(i=i)
    hdr = '-- revision = "r%05d"\n-- down_revisions = [%s]\n' % (i, "" if i == 0 else '"r%05d"' % (i - 1))
    if "CONCURRENTLY" in s:
        hdr += "-- transactional = false\n"
    open("%s/%05d.sql" % (d, i), "w").write(hdr + "\n-- braid:up\n" + s + "\n")
PY
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_ms() { # command…; prints milliseconds
  local s e
  s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
  echo $(( (e - s) / 1000000 ))
}
# Each must find what is there (neither may pass silently).
# Both exit 1 when they find something: the counts below are the check.
braid_findings=$(cd "$work" && { "$braid" lint --format json 2>/dev/null || true; } | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["findings"]))')
squawk_findings=$({ "$venv/bin/squawk" --pg-version=16 --assume-in-transaction --reporter json "$work"/migrations/*.sql 2>/dev/null || true; } | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$braid_findings" -gt 0 ] && [ "$squawk_findings" -gt 0 ] || { echo "no findings: braid $braid_findings, squawk $squawk_findings" >&2; exit 1; }
b=$(for _ in $(seq "$runs"); do (cd "$work" && time_ms "$braid" lint); done | median)
s=$(for _ in $(seq "$runs"); do time_ms "$venv/bin/squawk" --pg-version=16 --assume-in-transaction "$work"/migrations/*.sql; done | median)
echo "lint of $revisions PostgreSQL revisions (medians of $runs):"
echo "  braid lint   ${b} ms  ($braid_findings findings)"
echo "  squawk       ${s} ms  ($squawk_findings findings, its style rules included)"
awk -v b="$b" -v s="$s" 'BEGIN { printf "  squawk / braid: %.1fx\n", s / b }'
