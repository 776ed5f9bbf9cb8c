#!/usr/bin/env bash
# schemathesis (PyPI, pinned below) against the real server's /api/openapi.json, signed in as an
# administrator and as an inspector of the demo data: every generated request must get an answer
# that is not a 5xx and that conforms to the document (status code, content type, body schema).
#
# Starts the server binary ($CARGO_TARGET_DIR/debug/doi178-server, built when missing) on a fresh
# SQLite demo data directory; installs schemathesis into a venv under
# $HOME/.cache/doi178/tools/venv-schemathesis (Debian's python3-venv when missing).
# Prints `test result: schemathesis. N passed; M failed`, N counting the requests whose every check
# passed and M those with a failing check (or a run error), and exits non-zero on any failure.
#
# Environment:
#   DOI178_SCHEMATHESIS_EXAMPLES  test cases per operation and phase (default 25; CI's 2 runs over
#                                 51 operations and 4 phases make well over 2,000 requests)
#   DOI178_SCHEMATHESIS_LONG=1    a longer run (200 per operation)
#   DOI178_SCHEMATHESIS_SEED      fixed seed (default: a random one, printed to replay a failure)
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/root}/.cache/doi178/target}"
TOOLS="${HOME:-/root}/.cache/doi178/tools"
VENV="$TOOLS/venv-schemathesis"
SCHEMATHESIS_VERSION="4.32.5"
START=$SECONDS

apt_install() {
    local sudo=""
    if [[ "$(id -u)" != "0" ]]; then
        command -v sudo >/dev/null 2>&1 || { echo "error: need root or sudo to install $*" >&2; return 1; }
        sudo="sudo"
    fi
    $sudo apt-get update
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

if [[ ! -x "$VENV/bin/schemathesis" ]] || [[ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" != *"$SCHEMATHESIS_VERSION"* ]]; then
    command -v python3 >/dev/null 2>&1 || apt_install python3
    if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        apt_install python3-venv
    fi
    mkdir -p "$TOOLS"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
echo "$("$VENV/bin/schemathesis" --version)"

BIN="$CARGO_TARGET_DIR/debug/doi178-server"
if [[ ! -x "$BIN" ]]; then
    cargo build -p doi178-server --bin doi178-server
fi

WORK="$(mktemp -d /tmp/doi178-schemathesis.XXXXXX)"
SERVER_PID=""
cleanup() {
    local rc=$?
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
unset DOI178_CONFIG DOI178_DATABASE_URL DOI178_PORT || true
DOI178_JWT_SECRET="schemathesis-$(date +%s%N)-secret-for-this-run-only" DOI178_LOG=warn \
    "$BIN" --data-dir "$WORK/data" serve --demo --port "$PORT" --workers 2 \
    >"$WORK/server.log" 2>&1 </dev/null &
SERVER_PID=$!
# No curl on a bare Debian: python3's urllib does the few plain requests.
http_ok() {
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' "$1" >/dev/null 2>&1
}
for _ in $(seq 1 300); do
    http_ok "$BASE/healthz" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server died:"; cat "$WORK/server.log"; exit 1; }
    sleep 0.2
done
http_ok "$BASE/healthz" || { echo "server did not come up:"; cat "$WORK/server.log"; exit 1; }

login() {
    python3 - "$BASE" "$1" <<'PY'
import json, sys, urllib.request
base, user = sys.argv[1], sys.argv[2]
req = urllib.request.Request(
    base + "/api/v1/auth/login",
    data=json.dumps({"username": user, "password": "doi178-demo"}).encode(),
    headers={"Content-Type": "application/json"},
)
print(json.load(urllib.request.urlopen(req, timeout=30))["access_token"])
PY
}

EXAMPLES="${DOI178_SCHEMATHESIS_EXAMPLES:-25}"
[[ "${DOI178_SCHEMATHESIS_LONG:-}" == "1" ]] && EXAMPLES=200
SEED="${DOI178_SCHEMATHESIS_SEED:-$RANDOM$RANDOM}"
CHECKS="not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance"
PASSED=0
FAILED=0
RC=0
# Sign-out is left out: it would revoke the very session the run signs in with (its own tests cover it).
for account in admin kiemtra.hue; do
    token="$(login "$account")"
    echo "---- schemathesis as $account: $EXAMPLES examples per operation, seed $SEED"
    report="$WORK/report-$account.ndjson"
    set +e
    # Run from the temporary directory: schemathesis keeps a cache (.schemathesis/) in the cwd.
    (cd "$WORK" && exec "$VENV/bin/schemathesis" run "$BASE/api/openapi.json" \
        --header "Authorization: Bearer $token" \
        --checks "$CHECKS" \
        --exclude-path /api/v1/auth/logout \
        --max-examples "$EXAMPLES" \
        --seed "$SEED" \
        --workers 2 \
        --request-timeout 30 \
        --generation-database none \
        --suppress-health-check all \
        --no-color \
        --report ndjson --report-ndjson-path "$report") \
        </dev/null >"$WORK/run-$account.txt" 2>&1
    rc=$?
    set -e
    counts="$(python3 "$ROOT/scripts/ci/schemathesis_count.py" "$report")"
    read -r p f <<<"$counts"
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
    echo "$account: $p requests passed every check, $f failed (exit $rc)"
    if [[ "$rc" != "0" || "$f" != "0" ]]; then
        RC=1
        # The summary and each failure with its curl reproduction.
        sed -n '/^=* FAILURES\|^=* ERRORS/,$p' "$WORK/run-$account.txt" | head -400
        [[ "$f" == "0" && "$rc" != "0" ]] && { FAILED=$((FAILED + 1)); tail -40 "$WORK/run-$account.txt"; }
    else
        sed -n '/^=* SUMMARY/,$p' "$WORK/run-$account.txt" | head -60
    fi
done

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "the server died during the run:"
    tail -50 "$WORK/server.log"
    FAILED=$((FAILED + 1))
    RC=1
fi
if grep -q "panicked" "$WORK/server.log"; then
    echo "the server panicked:"
    grep -B2 -A10 "panicked" "$WORK/server.log" | head -60
    RC=1
fi
echo "schemathesis step took $((SECONDS - START)) s"
echo "test result: schemathesis. $PASSED passed; $FAILED failed"
exit "$RC"
