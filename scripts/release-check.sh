#!/usr/bin/env bash
# The binary users install: `make build` (and `cargo install --path .`) must
# give a stripped release binary under 20 MB. Prints its size; exits 1 when
# it carries debug info or symbols, or is too large.
set -euo pipefail
bin=${1:-target/release/braid}
limit=$((20 * 1024 * 1024))
size=$(stat -c %s "$bin")
sections=$(readelf -S --wide "$bin")
status=0
if grep -Eq '\.debug_info|\.symtab' <<<"$sections"; then
  echo "FAIL  $bin carries debug info or a symbol table (the release profile must strip)" >&2
  status=1
fi
if [ "$size" -ge "$limit" ]; then
  echo "FAIL  $bin is $size bytes, over the 20 MB limit" >&2
  status=1
fi
awk -v s="$size" 'BEGIN { printf "release binary: %.1f MB (%d bytes)\n", s / 1048576, s }'
"$bin" --version >/dev/null
exit "$status"
