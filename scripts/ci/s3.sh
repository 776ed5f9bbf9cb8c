#!/usr/bin/env bash
# S3-compatible photo storage: installs the S3 server the tests start on loopback (s3s-fs from
# crates.io, kept in ~/.cache/doi178/tools between runs) and runs tests/tests/s3.rs against the
# real server binary: on SQLite, and on PostgreSQL too when DOI178_TEST_DATABASE_URL is set.
# Prints `test result: s3. N passed; M failed` per backend and exits non-zero on a failure.
# The black-box suites run the same test whenever s3s-fs is installed (skipped with a message
# otherwise); here it is required (DOI178_S3_REQUIRED=1).
set -uo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/root}/.cache/doi178/target}"
TOOLS="${HOME:-/root}/.cache/doi178/tools"
S3S_VERSION=0.14.1
S3S_FS="$TOOLS/bin/s3s-fs"

if [[ "$("$S3S_FS" --version 2>/dev/null)" != "s3s-fs $S3S_VERSION" ]]; then
    echo "installing s3s-fs $S3S_VERSION from crates.io into $TOOLS"
    cargo install s3s-fs --version "$S3S_VERSION" --features binary --locked --root "$TOOLS" \
        </dev/null || { echo "test result: s3. 0 passed; 1 failed"; exit 1; }
fi
echo "using $("$S3S_FS" --version)"
export DOI178_S3S_FS="$S3S_FS" DOI178_S3_REQUIRED=1

run() {
    local name="$1"
    shift
    local log rc
    log="$(mktemp /tmp/doi178-s3.XXXXXX)"
    env "$@" cargo test -p doi178-tests --test s3 </dev/null >"$log" 2>&1
    rc=$?
    # The runner's own summary line, renamed so the total counts it once as this step.
    sed -E "s/^test result: (ok|FAILED)\./test result: s3 ($name)./" "$log"
    if ! grep -q '^test result:' "$log"; then
        echo "test result: s3 ($name). 0 passed; 1 failed"
        rc=1
    fi
    rm -f "$log"
    return "$rc"
}

FAILED=0
run sqlite DOI178_TEST_DATABASE_URL= || FAILED=1
if [[ -n "${DOI178_TEST_DATABASE_URL:-}" ]]; then
    run postgres DOI178_TEST_DATABASE_URL="$DOI178_TEST_DATABASE_URL" || FAILED=1
fi
exit "$FAILED"
