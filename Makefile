# braid: build, test, run, and the team's migration tasks.
#
# Settings come from the environment and from .env (DATABASE_URL, or
# DATABASE_HOST/PORT/NAME/USER/PASSWORD/SCHEMA), as braid itself reads them.

-include .env
export

CARGO ?= cargo
# The braid binary the tasks run; `make` builds it unless BRAID names another.
BRAID ?= target/release/braid
REVISION ?=
MSG ?=

# Make runs a goal once per invocation, so `make migrate-up migrate-down
# migrate-up` (the round trip that tests both directions) would skip the
# second migrate-up. When a goal repeats, each goal runs in order in its own
# make instead.
REPEATED_GOALS := $(filter-out $(words $(sort $(MAKECMDGOALS))),$(words $(MAKECMDGOALS)))
ifneq ($(and $(filter 0,$(MAKELEVEL)),$(REPEATED_GOALS)),)

.PHONY: $(sort $(MAKECMDGOALS)) goals-in-order
$(sort $(MAKECMDGOALS)): goals-in-order ; @:
goals-in-order:
	@for goal in $(MAKECMDGOALS); do $(MAKE) --no-print-directory $$goal || exit 1; done

else

.PHONY: build install man test alembic-check release-check package-check fuzz soak lint fmt bench bench-compare bench-schema bench-diff bench-import bench-embed bench-fleet bench-lint bench-status bench-backfill run clean services \
	db-up db-test db-connect \
	migrate-status migrate-create migrate-up migrate-down migrate-reset \
	migrate-history migrate-show migrate-stamp migrate-merge migrate-graph \
	migrate-verify migrate-schema migrate-diff migrate-lint migrate-rehearse

## build: the release binary at target/release/braid
build:
	$(CARGO) build --release

# Where `make install` puts things: PREFIX=~/.local for a user install,
# DESTDIR for packaging.
PREFIX ?= /usr/local
DESTDIR ?=

## man: the manual page braid.1, generated from the command definitions
man: braid.1

braid.1: $(BRAID)
	$(BRAID) man > $@

## install: the binary, its bash/zsh/fish completions and braid.1 under PREFIX
install: $(BRAID) braid.1
	install -D -m 755 $(BRAID) $(DESTDIR)$(PREFIX)/bin/braid
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d \
		$(DESTDIR)$(PREFIX)/share/man/man1
	$(BRAID) completions bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/braid
	$(BRAID) completions zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_braid
	$(BRAID) completions fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/braid.fish
	install -m 644 braid.1 $(DESTDIR)$(PREFIX)/share/man/man1/braid.1

ifeq ($(BRAID),target/release/braid)
$(BRAID): $(shell find src -name '*.rs' 2>/dev/null) Cargo.toml
	$(CARGO) build --release
endif

## test: start PostgreSQL and MariaDB if they are down, then every test,
## and the graph fixtures checked against Alembic itself
test: services .venv-bench/bin/alembic
	$(CARGO) test --workspace --all-features
	$(MAKE) --no-print-directory alembic-check
	$(MAKE) --no-print-directory release-check
	$(MAKE) --no-print-directory package-check

## release-check: the binary `make build` gives is stripped and under 20 MB
release-check: build
	bash scripts/release-check.sh target/release/braid

## package-check: every crate of the workspace packages for crates.io
package-check:
	$(CARGO) package --workspace --no-verify --allow-dirty --quiet

## alembic-check: graph-fixtures/ answers compared with Alembic's RevisionMap
alembic-check: .venv-bench/bin/alembic
	.venv-bench/bin/python scripts/alembic_check.py

.venv-bench/bin/alembic:
	python3 -m venv .venv-bench
	.venv-bench/bin/pip install -q alembic psycopg2-binary

## services: make sure the local database servers are up
services:
	bash scripts/services.sh

## lint: formatting and clippy, warnings are errors
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --workspace
	$(CARGO) clippy -p braid --lib --no-default-features --features postgres,embed -- -D warnings
	$(CARGO) clippy -p braid --lib --no-default-features --features sqlite,embed,tracing -- -D warnings
	$(CARGO) clippy -p braid --lib --no-default-features --features mysql,tools -- -D warnings

fmt:
	$(CARGO) fmt --all

## soak: 10,000 revisions up, down and up again on SQLite and PostgreSQL, timed
soak:
	bash scripts/soak.sh

## fuzz: the parser, target grammar and graph fuzz properties, 100,000 cases each
fuzz:
	PROPTEST_CASES=$${PROPTEST_CASES:-100000} $(CARGO) test --release --test fuzz
	PROPTEST_CASES=$${SCHEMA_CASES:-2000} $(CARGO) test --release --test schema_properties

## bench: criterion benchmarks (graph load/validate/heads/plan, offline SQL)
bench:
	$(CARGO) bench --bench graph

## bench-backfill: 1,000,000 PostgreSQL rows backfilled by one UPDATE and by a batch block, a writer timed
bench-backfill: services
	$(CARGO) bench --bench backfill

## bench-schema: braid schema against pg_dump --schema-only on 500 tables
bench-schema: build
	bash scripts/bench-schema.sh

## bench-diff: braid diff against migra on two 500-table schemas, 50 differences
bench-diff: build
	bash scripts/bench-diff.sh

## bench-import: braid import alembic on a generated project of 1,000 revisions
bench-import: build
	bash scripts/bench-import.sh

## bench-embed: start-up of an application with 1,000 embedded revisions
bench-embed: build
	bash scripts/bench-embed.sh

## bench-fleet: fleet upgrade of 1,000 PostgreSQL schemas against a shell loop
bench-fleet: build .venv-bench/bin/alembic
	bash scripts/bench-fleet.sh

## bench-lint: braid lint over 10,000 PostgreSQL revisions against squawk
bench-lint: build
	bash scripts/bench-lint.sh

## bench-status: braid status and log at 10,000 applied PostgreSQL revisions
bench-status: build
	bash scripts/bench-status.sh

## bench-compare: braid against Alembic on the same generated histories
bench-compare: $(BRAID)
	bash scripts/bench-compare.sh

## run: apply the example history to the embedded default (braid.db) and show it
run: $(BRAID)
	$(BRAID) upgrade heads
	$(BRAID) history --indicate-current

clean:
	$(CARGO) clean
	rm -f braid.db

# ---------------------------------------------------------------- database

PGDATA_DIR := $(CURDIR)/.pgdata

## db-up: a local PostgreSQL with the role, database and schema of the settings
db-up:
	bash scripts/db-up.sh

## db-test: can braid reach the database?
db-test: $(BRAID)
	$(BRAID) current >/dev/null && echo "database reachable"

## db-connect: psql in the configured schema
db-connect:
	PGOPTIONS="-c search_path=$${DATABASE_SCHEMA:-public},public" \
	psql "$${DATABASE_URL:-postgres://$${DATABASE_USER:-postgres}@$${DATABASE_HOST:-127.0.0.1}:$${DATABASE_PORT:-5432}/$${DATABASE_NAME:-postgres}}"

# --------------------------------------------------------------- migrations

## migrate-status: every revision's state (applied when, how long, by whom; pending)
migrate-status: $(BRAID)
	@$(BRAID) status

## migrate-create MSG=...: a new migration on the current head, autogenerated
## from the desired schema ([schema] desired) when one is configured
migrate-create: $(BRAID)
	@test -n "$(MSG)" || { echo 'pass a message: make migrate-create MSG="add users table"' >&2; exit 2; }
	$(BRAID) revision -m "$(MSG)" --autogenerate-if-configured

## migrate-diff: fail unless the migrations reach the desired schema
migrate-diff: $(BRAID)
	$(BRAID) diff migrations schema --exit-code

## migrate-up [REVISION=heads] [BACKUP=FILE]: with BACKUP, the database is
## backed up to FILE first (and nothing runs if that fails)
migrate-up: $(BRAID)
	$(BRAID) upgrade $(or $(REVISION),heads) $(if $(BACKUP),--backup "$(BACKUP)")

## migrate-lint: what the pending revisions do to large, busy tables (exit 1 on errors)
migrate-lint: $(BRAID)
	$(BRAID) lint

## migrate-rehearse [REVISION=heads] [DATA=1]: the pending revisions on a copy of
## the database (its rows too with DATA=1): each statement's time, locks and
## rewrites, then the rollback tested; the database itself only read
migrate-rehearse: $(BRAID)
	$(BRAID) rehearse $(or $(REVISION),heads) $(if $(filter 1,$(DATA)),--with-data)

## migrate-verify: every revision up, down and up on a scratch database, schemas compared
migrate-verify: $(BRAID)
	$(BRAID) verify

## migrate-schema: the database's schema as SQL
migrate-schema: $(BRAID)
	$(BRAID) schema

## migrate-down [REVISION=-1]
migrate-down: $(BRAID)
	$(BRAID) downgrade $(or $(REVISION),-1)

## migrate-reset [FORCE=1]: down to base, after asking
migrate-reset: $(BRAID)
	@if [ "$(FORCE)" != 1 ]; then \
		printf 'This reverts every migration (downgrade base). Type yes to go on: '; \
		read answer; [ "$$answer" = yes ] || { echo "not reset"; exit 1; }; \
	fi
	$(BRAID) downgrade base

## migrate-history
migrate-history: $(BRAID)
	$(BRAID) history --indicate-current

## migrate-show REVISION=...
migrate-show: $(BRAID)
	@test -n "$(REVISION)" || { echo 'pass a revision: make migrate-show REVISION=head (or an id, a prefix, LABEL@head)' >&2; exit 2; }
	$(BRAID) show $(REVISION)

## migrate-stamp REVISION=...
migrate-stamp: $(BRAID)
	@test -n "$(REVISION)" || { echo 'pass a revision: make migrate-stamp REVISION=heads (or an id, base)' >&2; exit 2; }
	$(BRAID) stamp $(REVISION)

## migrate-merge MSG=...: join every head with a merge revision
migrate-merge: $(BRAID)
	@test -n "$(MSG)" || { echo 'pass a message: make migrate-merge MSG="merge auth and billing"' >&2; exit 2; }
	$(BRAID) merge -m "$(MSG)" heads

## migrate-graph: migrations.dot, and migrations.svg when Graphviz is installed
migrate-graph: $(BRAID)
	$(BRAID) graph --output migrations.dot
	@if command -v dot >/dev/null 2>&1; then $(BRAID) graph --output migrations.svg; \
	else echo "Graphviz not installed: only migrations.dot written (apt-get install graphviz for SVG)"; fi

endif
