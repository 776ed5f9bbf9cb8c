#!/usr/bin/env bash
# Photo pipeline benchmark (issue 4, item 6): our pipeline against libvips' vipsthumbnail on the
# same deterministic 12-megapixel JPEGs, in the same run. Prints a Markdown table.
#   scripts/bench-photos.sh [--images N] [--runs R] [--dir DIR]
# Runs twice: with every core (both tools' defaults), then with one thread each.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/doi178/target}"

if ! command -v vipsthumbnail >/dev/null; then
  echo "installing libvips-tools (vipsthumbnail)…" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libvips-tools >/dev/null
fi

cargo build --release -q -p doi178-field --bin photo-bench
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
echo "## All cores (both tools' defaults)"
"$CARGO_TARGET_DIR/release/photo-bench" "$@"
echo
echo "## One thread each (RAYON_NUM_THREADS=1, VIPS_CONCURRENCY=1)"
RAYON_NUM_THREADS=1 VIPS_CONCURRENCY=1 "$CARGO_TARGET_DIR/release/photo-bench" "$@"
