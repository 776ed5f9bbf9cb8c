#!/usr/bin/env bash
# cargo fuzz (libFuzzer) over the server's hostile-input paths, each target for a fixed time:
#   visit_json    a visit / establishment / tip body: JSON guard, typed parse, domain validation
#   photo_decode  an uploaded photo: sniffing, limits, decode, orientation, re-encode, thumbnail
#   import_csv    an establishment list as CSV bytes
#   import_xlsx   an establishment list as an XLSX workbook
# The targets (fuzz/, its own workspace) compile the server's pure parsing files through #[path],
# not the server crate, so the build stays small.
#
# Toolchain: the stable toolchain with RUSTC_BOOTSTRAP=1 (cargo fuzz passes -Z flags) and no
# sanitizer (`-s none`: the code is safe Rust, `unsafe_code = "forbid"`; what the fuzzer looks for
# is panics, overflows (debug assertions are on), hangs and runaway memory). cargo-fuzz is installed
# from crates.io into $HOME/.cache/doi178/tools; builds go to $HOME/.cache/doi178/fuzz-target and the
# growing corpora to $HOME/.cache/doi178/fuzz-corpus (the seeds are fuzz/corpus/<target>).
# Prints `test result: fuzz. N passed; M failed` (one per target) and exits non-zero on a crash.
#
# Environment:
#   DOI178_FUZZ_SECONDS   seconds per target (default 60)
#   DOI178_FUZZ_LONG=1    600 s per target
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT="$PWD"
CACHE="${HOME:-/root}/.cache/doi178"
TOOLS="$CACHE/tools"
CARGO_FUZZ_VERSION="0.13.2"
SECONDS_PER_TARGET="${DOI178_FUZZ_SECONDS:-60}"
[[ "${DOI178_FUZZ_LONG:-}" == "1" ]] && SECONDS_PER_TARGET=600
TARGETS=(visit_json photo_decode import_csv import_xlsx)
START=$SECONDS

export PATH="$TOOLS/bin:$PATH"
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    cargo install --root "$TOOLS" --locked --version "$CARGO_FUZZ_VERSION" cargo-fuzz
fi
cargo fuzz --version

# libfuzzer-sys compiles libFuzzer (C++).
if ! command -v c++ >/dev/null 2>&1; then
    sudo=""
    [[ "$(id -u)" != "0" ]] && sudo="sudo"
    $sudo apt-get update
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends g++
fi

export RUSTC_BOOTSTRAP=1
FUZZ_TARGET_DIR="$CACHE/fuzz-target"
BUILD_START=$SECONDS
(cd fuzz && cargo +stable fuzz build -s none --target-dir "$FUZZ_TARGET_DIR")
echo "fuzz build took $((SECONDS - BUILD_START)) s"

PASSED=0
FAILED=0
for target in "${TARGETS[@]}"; do
    corpus="$CACHE/fuzz-corpus/$target"
    artifacts="$CACHE/fuzz-artifacts/$target/"
    mkdir -p "$corpus" "$artifacts"
    max_len=4096
    case "$target" in photo_decode | import_xlsx) max_len=65536 ;; esac
    echo "---- $target: ${SECONDS_PER_TARGET} s"
    log="$(mktemp /tmp/doi178-fuzz-$target.XXXXXX)"
    set +e
    (cd fuzz && cargo +stable fuzz run -s none --target-dir "$FUZZ_TARGET_DIR" "$target" \
        "$corpus" "corpus/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=30 -rss_limit_mb=2048 -max_len="$max_len" \
        -artifact_prefix="$artifacts" -print_final_stats=1) </dev/null >"$log" 2>&1
    rc=$?
    set -e
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+ +DONE" "$log" || true
    if [[ "$rc" == "0" ]]; then
        PASSED=$((PASSED + 1))
        echo "$target: no crash"
    else
        FAILED=$((FAILED + 1))
        echo "$target: FAILED (exit $rc)"
        grep -E -A30 "panicked|ERROR: libFuzzer|deadly signal|Test unit written|Base64" "$log" | head -80
    fi
    rm -f "$log"
done
echo "fuzz step took $((SECONDS - START)) s"
echo "test result: fuzz. $PASSED passed; $FAILED failed"
[[ "$FAILED" == "0" ]]
