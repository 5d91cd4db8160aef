#!/usr/bin/env bash
# `make db-up`: a local PostgreSQL for the settings in DATABASE_* (and .env):
# the machine's cluster through pg_ctlcluster when there is one, else a
# private cluster initialised into .pgdata/; then the role, the database and
# the schema the settings name.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .env ]; then set -a; . ./.env; set +a; fi

host=${DATABASE_HOST:-127.0.0.1}
port=${DATABASE_PORT:-5432}
user=${DATABASE_USER:-postgres}
name=${DATABASE_NAME:-$user}
schema=${DATABASE_SCHEMA:-}
log() { printf 'db-up: %s\n' "$*" >&2; }
ready() { pg_isready -h "$host" -p "$port" -q 2>/dev/null; }

if ! ready; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    log "starting the machine's PostgreSQL $version cluster"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
  else
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$bindir" ] || { log "PostgreSQL is not installed (apt-get install postgresql)"; exit 1; }
    if [ ! -f .pgdata/PG_VERSION ]; then
      log "initialising a private cluster in .pgdata/"
      "$bindir/initdb" -D .pgdata -U postgres --auth=trust >/dev/null
    fi
    "$bindir/pg_ctl" -D .pgdata -o "-p $port -k /tmp" -l .pgdata/server.log start >/dev/null
  fi
  for _ in $(seq 1 60); do ready && break; sleep 0.5; done
  ready || { log "PostgreSQL did not come up on $host:$port"; exit 1; }
fi

# An administrator connection: the postgres OS user where we can switch to
# it, else the postgres role over TCP (trust auth on a development machine).
export PGOPTIONS="-c client_min_messages=warning"
admin() {
  if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
    runuser -u postgres -- psql -p "$port" -qtAX -v ON_ERROR_STOP=1 "$@"
  else
    psql -h "$host" -p "$port" -U postgres -qtAX -v ON_ERROR_STOP=1 "$@"
  fi
}

ident() { printf '"%s"' "${1//\"/\"\"}"; }
literal() { printf "'%s'" "${1//\'/\'\'}"; }

if [ "$(admin -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname = $(literal "$user")")" != 1 ]; then
  log "creating role $user"
  if [ -n "${DATABASE_PASSWORD:-}" ]; then
    admin -d postgres -c "CREATE ROLE $(ident "$user") LOGIN PASSWORD $(literal "$DATABASE_PASSWORD")"
  else
    admin -d postgres -c "CREATE ROLE $(ident "$user") LOGIN"
  fi
fi
# braid verify, check --drift and diff build schemas in scratch databases
# the role creates and drops.
admin -d postgres -c "ALTER ROLE $(ident "$user") CREATEDB"
if [ "$(admin -d postgres -c "SELECT 1 FROM pg_database WHERE datname = $(literal "$name")")" != 1 ]; then
  log "creating database $name"
  admin -d postgres -c "CREATE DATABASE $(ident "$name") OWNER $(ident "$user")"
fi
if [ -n "$schema" ]; then
  admin -d "$name" -c "CREATE SCHEMA IF NOT EXISTS $(ident "$schema") AUTHORIZATION $(ident "$user")"
fi
log "PostgreSQL is up: database $name on $host:$port${schema:+, schema $schema}, role $user"
