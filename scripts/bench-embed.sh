#!/usr/bin/env bash
# `make bench-embed`: start-up cost of an application with 1,000 embedded
# revisions already at head against the same application with one
# revision creating the same 1,000 tables (SQLite, measured from outside
# side by side: process start included, median of 21 each, interleaved),
# and against the same one-revision application on a database of one
# table (what an application with little history and a small schema
# costs), the binary size the
# migrations add, and the weight of embedding (braid with only `embed` and
# `sqlite`) against an application that uses sqlx alone: crates in
# Cargo.lock and stripped binary size. The applications are crates made
# under target/bench-embed, depending on braid by path.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
n=${REVISIONS:-1000}
work=$root/target/bench-embed
export CARGO_TARGET_DIR=$root/target/bench-embed/target
cargo build -q --release --example generate_history
rm -rf "$work"/embed_* "$work/sqlx_only"
mkdir -p "$work"/embed_{many,one,tiny}/src "$work"/embed_{one,tiny}/migrations "$work/sqlx_only/src"
"$CARGO_TARGET_DIR/release/examples/generate_history" "$n" "$work/embed_many/migrations" >/dev/null 2>&1
# The one revision creates as many tables as the 1,000 do: SQLite reads
# the whole schema when a connection first asks anything, so both
# databases have the same schema and the difference is braid's own.
{
  printf -- '-- revision = "only"\n-- down_revisions = []\n-- braid:up\n'
  for i in $(seq 1 "$n"); do printf 'CREATE TABLE t_%d (id integer PRIMARY KEY);\n' "$i"; done
} > "$work/embed_one/migrations/only.sql"
printf -- '-- revision = "only"\n-- down_revisions = []\n-- braid:up\nSELECT 1;\n' > "$work/embed_tiny/migrations/only.sql"
# manifest APP DEPENDENCIES: an application crate's Cargo.toml, stripped
# in release and not a member of braid's workspace (which holds target/).
manifest() {
  cat > "$work/$1/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.1.0"
edition = "2024"

[dependencies]
$2
tokio = { version = "1", features = ["rt", "macros"] }

[profile.release]
strip = true

[workspace]
TOML
}
for app in many one tiny; do
  manifest "embed_$app" "braid = { path = \"$root\", default-features = false, features = [\"embed\", \"sqlite\"] }"
  cat > "$work/embed_$app/src/main.rs" <<'RS'
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = std::env::args().nth(1).expect("a database URL");
    let report = braid::Migrator::new(braid::embed!("migrations"))
        .upgrade(&url, "heads")
        .await
        .expect("migrated");
    println!("{}", report.steps.len());
}
RS
  (cd "$work/embed_$app" && cargo build -q --release)
done
manifest sqlx_only 'sqlx = { version = "0.8", default-features = false, features = ["runtime-tokio", "sqlite"] }'
cat > "$work/sqlx_only/src/main.rs" <<'RS'
use sqlx::Connection;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = std::env::args().nth(1).expect("a database URL");
    let mut c = sqlx::SqliteConnection::connect(&url).await.expect("connected");
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS t (id integer)").execute(&mut c).await.expect("ran");
    println!("0");
}
RS
(cd "$work/sqlx_only" && cargo build -q --release)
bin() { echo "$CARGO_TARGET_DIR/release/$1"; }
db() { echo "sqlite://$work/$1.db?mode=rwc"; }
for app in many one tiny; do
  rm -f "$work/$app.db"
  "$(bin "embed_$app")" "$(db "$app")" >/dev/null
done
# Interleaved, so that a noisy moment weighs on all three.
for _ in $(seq 1 21); do
  for app in many one tiny; do
    start=$(date +%s%N); "$(bin "embed_$app")" "$(db "$app")" >/dev/null; end=$(date +%s%N)
    echo "$app $(( (end - start) / 1000 ))"
  done
done > "$work/times"
median() { grep "^$1 " "$work/times" | cut -d' ' -f2 | sort -n | awk '{a[NR] = $1} END {printf "%.1f", a[11] / 1000}'; }
many_ms=$(median many)
one_ms=$(median one)
tiny_ms=$(median tiny)
mb() { echo "($1) / 1048576" | bc -l; }
size_many=$(stat -c %s "$(bin embed_many)")
size_tiny=$(stat -c %s "$(bin embed_tiny)")
size_sqlx=$(stat -c %s "$(bin sqlx_only)")
# Crates in Cargo.lock, and what a build compiles for this machine (build
# scripts and proc macros included), where Cargo.lock also lists other
# platforms' crates.
locked() { grep -c '^name = ' "$work/$1/Cargo.lock"; }
built() { (cd "$work/$1" && cargo tree -q -e normal,build --prefix none | sed 's/ (.*//' | sort -u | wc -l); }
locked_braid=$(locked embed_tiny); locked_sqlx=$(locked sqlx_only)
built_braid=$(built embed_tiny); built_sqlx=$(built sqlx_only)
printf '| %d embedded revisions | figure |\n| --- | ---: |\n' "$n"
printf '| start-up at head, SQLite (median of 21, process included), same %d tables: %d revisions / 1 | %s ms / %s ms (%.2fx) |\n' "$n" "$n" "$many_ms" "$one_ms" "$(echo "$many_ms / $one_ms" | bc -l)"
printf '| start-up at head, the same %d revisions / 1 revision on a one-table database | %s ms / %s ms (%.2fx) |\n' "$n" "$many_ms" "$tiny_ms" "$(echo "$many_ms / $tiny_ms" | bc -l)"
printf '| binary with %d revisions / with 1 | %.2f MB / %.2f MB |\n' "$n" "$(mb "$size_many")" "$(mb "$size_tiny")"
printf '| added by the migrations | %.2f MB |\n' "$(mb "$size_many - $size_tiny")"
printf '| braid embed+sqlite (1 revision) / sqlx alone: stripped binary | %.2f MB / %.2f MB (+%.2f MB) |\n' "$(mb "$size_tiny")" "$(mb "$size_sqlx")" "$(mb "$size_tiny - $size_sqlx")"
printf '| braid embed+sqlite / sqlx alone: crates in Cargo.lock | %d / %d (+%d) |\n' "$locked_braid" "$locked_sqlx" "$((locked_braid - locked_sqlx))"
printf '| braid embed+sqlite / sqlx alone: crates compiled | %d / %d (+%d) |\n' "$built_braid" "$built_sqlx" "$((built_braid - built_sqlx))"
