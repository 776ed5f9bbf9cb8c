#!/usr/bin/env bash
# CI step of the crash-safety check (issue 6, item 5): 50 clients submit 5,000 visits (one in ten
# with a photo) to the debug server binary that scripts/test.sh built; the server gets kill -9
# when 40 % are acknowledged, is restarted on the same data, the clients retry what was not
# acknowledged, and loadgen verifies every visit and photo (database and API) — on SQLite and on
# PostgreSQL (DOI178_CI_PG_URL, or the cluster of scripts/test.sh on $PG_PORT).
#
# Environment:
#   CARGO_TARGET_DIR    where scripts/test.sh built the server (default $HOME/.cache/doi178/target)
#   DOI178_CI_PG_URL    PostgreSQL admin URL (default: postgres://postgres@127.0.0.1:$PG_PORT/postgres)
#   DOI178_LONG=1       the long variant: 200 clients, 50,000 visits
set -uo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/root}/.cache/doi178/target}"
SERVER_BIN="$CARGO_TARGET_DIR/debug/doi178-server"
[[ -x "$SERVER_BIN" ]] || cargo build -p doi178-server --bin doi178-server || exit 1
cargo build -p doi178-loadgen --bin loadgen || exit 1
LOADGEN="$CARGO_TARGET_DIR/debug/loadgen"

PG_URL="${DOI178_CI_PG_URL:-}"
if [[ -z "$PG_URL" && -n "${PG_PORT:-}" ]]; then
    PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
fi

ARGS=(--clients 50 --visits 5000 --photo-every 10 --kill-at 0.4 --demo-establishments 300 --demo-visits 400)
if [[ "${DOI178_LONG:-}" == "1" ]]; then
    ARGS=(--clients 200 --visits 50000 --photo-every 10 --kill-at 0.5)
fi

passed=0
failed=0
run() {
    local name="$1"
    shift
    echo "---- crash: $name"
    if "$LOADGEN" crash --server-bin "$SERVER_BIN" "${ARGS[@]}" "$@"; then
        passed=$((passed + 1))
    else
        echo "FAILED: crash safety on $name"
        failed=$((failed + 1))
    fi
}
run sqlite
if [[ -n "$PG_URL" ]]; then
    run postgres --postgres "$PG_URL"
else
    echo "no PostgreSQL given (PG_PORT / DOI178_CI_PG_URL): the PostgreSQL run is skipped"
    [[ "${CI:-}" == "true" ]] && failed=$((failed + 1))
fi
echo "test result: crash. $passed passed; $failed failed"
[[ "$failed" == "0" ]]
