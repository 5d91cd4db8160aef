#!/usr/bin/env bash
# `make bench-embed`: start-up cost of an application with 1,000 embedded
# revisions already at head (SQLite, measured from outside: process start
# included, median of 21), and the binary size the migrations add (the
# same application with one revision). The applications are crates made
# under target/bench-embed, depending on braid by path.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
n=${REVISIONS:-1000}
work=$root/target/bench-embed
export CARGO_TARGET_DIR=$root/target/bench-embed/target
cargo build -q --release --example generate_history
rm -rf "$work/many" "$work/one"
mkdir -p "$work/many/src" "$work/one/src" "$work/one/migrations"
target/release/examples/generate_history "$n" "$work/many/migrations" >/dev/null 2>&1
printf -- '-- revision = "only"\n-- down_revisions = []\n-- braid:up\nSELECT 1;\n' > "$work/one/migrations/only.sql"
for app in many one; do
  cat > "$work/$app/Cargo.toml" <<TOML
[package]
name = "embed_$app"
version = "0.1.0"
edition = "2024"

[dependencies]
braid = { path = "$root" }
tokio = { version = "1", features = ["rt", "macros"] }

[profile.release]
strip = true

# Not a member of braid's workspace, which holds target/.
[workspace]
TOML
  cat > "$work/$app/src/main.rs" <<'RS'
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
  (cd "$work/$app" && cargo build -q --release)
done
many=$CARGO_TARGET_DIR/release/embed_many
one=$CARGO_TARGET_DIR/release/embed_one
db="sqlite://$work/many.db?mode=rwc"
rm -f "$work/many.db"
"$many" "$db" >/dev/null
median_ms=$(for _ in $(seq 1 21); do
  start=$(date +%s%N); "$many" "$db" >/dev/null; end=$(date +%s%N)
  echo $(( (end - start) / 1000 ))
done | sort -n | awk '{a[NR] = $1} END {printf "%.1f", a[11] / 1000}')
size_many=$(stat -c %s "$many")
size_one=$(stat -c %s "$one")
printf '| %d embedded revisions | figure |\n| --- | ---: |\n' "$n"
printf '| start-up at head, SQLite (median of 21, process included) | %s ms |\n' "$median_ms"
printf '| binary with %d revisions / with 1 | %.2f MB / %.2f MB |\n' "$n" "$(echo "$size_many / 1048576" | bc -l)" "$(echo "$size_one / 1048576" | bc -l)"
printf '| added by the migrations | %.2f MB |\n' "$(echo "($size_many - $size_one) / 1048576" | bc -l)"
