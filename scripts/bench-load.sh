#!/usr/bin/env bash
# The load benchmark of BENCHMARKS.md ("Load: 500 phones syncing"): release builds of the server
# and of loadgen, then 500 phones for 2 minutes on SQLite and, when a PostgreSQL admin URL is
# given, on PostgreSQL; each run also measures the raw insert rate of the same visit rows.
# Reports go to stdout and, as JSON, to $OUT (default ./load-<backend>.json).
#
#   bash scripts/bench-load.sh                                   # SQLite only
#   DOI178_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres bash scripts/bench-load.sh
#   extra loadgen flags after the script name, e.g. --phones 1000 --duration 60s
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/root}/.cache/doi178/target}"
OUT="${OUT:-.}"
cargo build --release -p doi178-server --bin doi178-server -p doi178-loadgen --bin loadgen
BIN="$CARGO_TARGET_DIR/release"
echo "== SQLite"
"$BIN/loadgen" run --server-bin "$BIN/doi178-server" --json "$OUT/load-sqlite.json" "$@"
if [[ -n "${DOI178_BENCH_PG_URL:-}" ]]; then
    echo "== PostgreSQL"
    "$BIN/loadgen" run --server-bin "$BIN/doi178-server" --postgres "$DOI178_BENCH_PG_URL" \
        --json "$OUT/load-postgres.json" "$@"
fi
