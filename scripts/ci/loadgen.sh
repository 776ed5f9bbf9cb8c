#!/usr/bin/env bash
# CI steps of the load generator (tests/loadgen), against the debug server binary that
# scripts/test.sh built, on SQLite and (when DOI178_CI_PG_URL or PG_PORT names a PostgreSQL
# cluster) on PostgreSQL:
#
#   loadgen.sh load    issue 6, item 6: a short run of simulated phones; each run must finish with
#                      zero errors. The full benchmark (500 phones, 2 minutes, release build) is
#                      scripts/bench-load.sh.
#   loadgen.sh crash   issue 6, item 5: 50 clients submit 5,000 visits (one in ten with a photo);
#                      the server gets kill -9 when 40 % are acknowledged, is restarted on the same
#                      data, the clients retry what was not acknowledged, and loadgen verifies every
#                      visit and photo (database and API).
#
# Environment:
#   CARGO_TARGET_DIR    where scripts/test.sh built the server (default $HOME/.cache/doi178/target)
#   DOI178_CI_PG_URL    PostgreSQL admin URL (default: postgres://postgres@127.0.0.1:$PG_PORT/postgres)
#   DOI178_LONG=1       the long variants: 500 phones for 2 minutes; 200 clients, 50,000 visits
set -uo pipefail
cd "$(dirname "$0")/../.."
MODE="${1:-}"
case "$MODE" in
    load)
        COMMAND=(run --assert-zero-errors)
        WHAT="load"
        if [[ "${DOI178_LONG:-}" == "1" ]]; then
            ARGS=(--phones 500 --duration 2m)
        else
            # About 20 s of load: 100 phones on 20 accounts (a debug build's password hashing is
            # slow) in teams of 5, pulling every 5 s, a photo on one visit in 4.
            ARGS=(--phones 100 --users 20 --duration 20s --pull-every 5s --demo-establishments 300
                  --demo-visits 400 --raw-rows 2000)
        fi
        ;;
    crash)
        COMMAND=(crash)
        WHAT="crash safety"
        if [[ "${DOI178_LONG:-}" == "1" ]]; then
            ARGS=(--clients 200 --visits 50000 --photo-every 10 --kill-at 0.5)
        else
            ARGS=(--clients 50 --visits 5000 --photo-every 10 --kill-at 0.4
                  --demo-establishments 300 --demo-visits 400)
        fi
        ;;
    *)
        echo "usage: $0 load|crash" >&2
        exit 2
        ;;
esac

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/root}/.cache/doi178/target}"
SERVER_BIN="$CARGO_TARGET_DIR/debug/doi178-server"
[[ -x "$SERVER_BIN" ]] || cargo build -p doi178-server --bin doi178-server || exit 1
cargo build -p doi178-loadgen --bin loadgen || exit 1
LOADGEN="$CARGO_TARGET_DIR/debug/loadgen"

PG_URL="${DOI178_CI_PG_URL:-}"
if [[ -z "$PG_URL" && -n "${PG_PORT:-}" ]]; then
    PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
fi

passed=0
failed=0
run() {
    local name="$1"
    shift
    echo "---- $MODE: $name"
    if "$LOADGEN" "${COMMAND[@]}" --server-bin "$SERVER_BIN" "${ARGS[@]}" "$@"; then
        passed=$((passed + 1))
    else
        echo "FAILED: $WHAT on $name"
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
echo "test result: $MODE. $passed passed; $failed failed"
[[ "$failed" == "0" ]]
