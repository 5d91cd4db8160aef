#!/usr/bin/env bash
# Makes sure the local PostgreSQL (127.0.0.1:5432) and MariaDB (127.0.0.1:3306)
# servers that the database tests use are installed, running, and have the
# `test` database, and that Graphviz is installed. Safe to run again: it only starts what is down.
set -euo pipefail

log() { printf 'services: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  log "installing $*"
  as_root apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
my_up() { mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1; }

wait_for() {
  local what=$1 check=$2
  for _ in $(seq 1 60); do
    if $check; then return 0; fi
    sleep 0.5
  done
  log "$what did not come up"; return 1
}

# PostgreSQL
if ! command -v pg_ctlcluster >/dev/null 2>&1; then apt_install postgresql; fi
if ! pg_up; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for PostgreSQL pg_up
fi
psql_admin() { as_root runuser -u postgres -- psql -qtAX "$@" 2>/dev/null || psql -h 127.0.0.1 -U postgres -qtAX "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]; then
  log "creating PostgreSQL database test"
  psql_admin -c "CREATE DATABASE test"
fi

# MariaDB
if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then apt_install mariadb-server; fi
if ! my_up; then
  log "starting MariaDB"
  as_root mkdir -p /run/mysqld && as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for MariaDB my_up
fi
mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -uroot -e "CREATE DATABASE IF NOT EXISTS test" >/dev/null

# TLS for MariaDB, which the TLS tests use (PostgreSQL serves TLS already,
# with Debian's snakeoil certificate): a private CA and a server
# certificate for localhost / 127.0.0.1 signed by it, and a restart when the
# server does not run with them yet.
tls=/etc/mysql/braid-tls-v2
cnf=/etc/mysql/my.cnf
restart=
if [ ! -f "$tls/server.pem" ]; then
  log "creating a CA and a TLS certificate for MariaDB"
  as_root mkdir -p "$tls"
  as_root openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=braid test CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" >/dev/null 2>&1
  as_root openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$tls/server.key" -out "$tls/server.csr" >/dev/null 2>&1
  printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' | as_root tee "$tls/ext.cnf" >/dev/null
  as_root openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
    -CAcreateserial -days 3650 -extfile "$tls/ext.cnf" -out "$tls/server.pem" >/dev/null 2>&1
  as_root chown -R mysql:mysql "$tls"
  as_root chmod a+r "$tls/ca.pem"
fi
if ! grep -q "braid-tls-v2" "$cnf"; then
  as_root sed -i '/\/etc\/mysql\/braid-tls\//d' "$cnf"
  printf '\n[mysqld]\nssl_cert = %s/server.pem\nssl_key = %s/server.key\nssl_ca = %s/ca.pem\n' "$tls" "$tls" "$tls" | as_root tee -a "$cnf" >/dev/null
  restart=1
fi
have_ssl=$(mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -uroot -N -e "SHOW VARIABLES LIKE 'have_ssl'" | awk '{print $2}')
if [ -n "$restart" ] || [ "$have_ssl" != YES ]; then
  log "restarting MariaDB with TLS"
  mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -uroot shutdown
  for _ in $(seq 1 120); do pgrep -x mariadbd >/dev/null || break; sleep 0.5; done
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for MariaDB my_up
fi

# Graphviz renders `braid graph --output FILE.svg`, which the tests check.
command -v dot >/dev/null 2>&1 || apt_install graphviz
# man renders the generated braid.1 in the packaging test.
command -v man >/dev/null 2>&1 || apt_install man-db groff-base
log "PostgreSQL and MariaDB are up"
