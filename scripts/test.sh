#!/usr/bin/env bash
# The one command that runs every test of doi178:
#   formatting, clippy (warnings are errors), unit tests and the black-box suite on SQLite,
#   then the black-box suite again on a throwaway PostgreSQL cluster started here.
# then the dashboard in Debian's headless Chromium (Playwright) against the real server binary.
# Needs the Rust toolchain (rustup) and a C compiler; installs PostgreSQL, Chromium and Node.js from Debian's packages
# when they are missing (as root, or through sudo), and the browser tests' npm packages from
# tests/browser/package-lock.json. CI runs exactly this (.ci/run).
#
# Environment:
#   CARGO_TARGET_DIR         build directory (default: $HOME/.cache/doi178/target, kept between runs)
#   DOI178_SKIP_POSTGRES=1   skip the PostgreSQL pass (local quick runs only; CI never sets it)
#   DOI178_SKIP_BROWSER=1    skip the browser tests (local quick runs only; CI never sets it)
#   DOI178_BENCH=1           browser tests also record timings (see BENCHMARKS.md)
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/root}/.cache/doi178/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Every test prints its failures; a backtrace helps when the harness itself panics.
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"
# The test servers get a known secret from the harness; nothing from the caller's shell may leak in.
unset DOI178_CONFIG DOI178_DATABASE_URL DOI178_DATA_DIR DOI178_JWT_SECRET DOI178_PORT DOI178_DEMO \
    DOI178_TEST_DATABASE_URL || true

SCRIPT_START=$SECONDS

# Installs Debian packages (as root, or through sudo); the package index is refreshed once.
APT_UPDATED=0
apt_install() {
    local sudo=""
    if [[ "$(id -u)" != "0" ]]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo="sudo"
        else
            echo "error: $* missing and this is not root (no sudo either): apt-get install $*" >&2
            return 1
        fi
    fi
    if [[ "$APT_UPDATED" == "0" ]]; then
        $sudo apt-get update
        APT_UPDATED=1
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}
# Each section's duration is kept, and the slowest are listed at the end (step_times).
SECTION_NAME=""
SECTION_AT=$SECONDS
STEP_TIMES=()
section() {
    if [[ -n "$SECTION_NAME" ]]; then
        STEP_TIMES+=("$((SECONDS - SECTION_AT))"$'\t'"$SECTION_NAME")
    fi
    SECTION_NAME="$*"
    SECTION_AT=$SECONDS
    printf '\n==== %s  [%ds]\n' "$*" "$((SECONDS - SCRIPT_START))"
}
step_times() {
    echo "slowest steps (seconds):"
    printf '%s\n' "${STEP_TIMES[@]}" | sort -rn | head -n 12 | sed 's/^/  /'
}

section "toolchain"
cargo --version
rustc --version
echo "CARGO_TARGET_DIR=$CARGO_TARGET_DIR"

section "system packages for the field app's Tauri shell"
# The workspace includes the Tauri shell (field-app/src-tauri), whose -sys crates link Debian's
# WebKitGTK 4.1 (libwebkit2gtk-4.1-dev pulls GTK 3, libsoup 3 and JavaScriptCore); clippy and the
# tests build it, so it is installed first. Its smoke test later also needs xvfb and WebKitWebDriver.
FIELD_PACKAGES=(pkg-config libwebkit2gtk-4.1-dev xvfb webkit2gtk-driver)
missing_pkgs=()
for p in "${FIELD_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing_pkgs+=("$p")
done
if [[ "${#missing_pkgs[@]}" -gt 0 ]]; then
    echo "installing Debian's ${missing_pkgs[*]}"
    apt_install "${missing_pkgs[@]}"
else
    echo "present: ${FIELD_PACKAGES[*]}"
fi

section "field app UI: npm ci and build (the Tauri shell embeds field-app/ui/dist)"
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
(cd field-app/ui && npm ci --no-audit --no-fund --loglevel=error && npm run build)

section "layer order of the server's modules (scripts/check-layers.sh)"
bash scripts/check-layers.sh

section "cargo fmt --check"
cargo fmt --all -- --check

section "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings
# The field app's development bridge is behind a feature (it is not part of the app).
cargo clippy -p doi178-field --features bridge --all-targets -- -D warnings

section "build the server binary for the black-box tests"
# --workspace: the same feature set as `cargo test --workspace`, so nothing is built twice.
cargo build --workspace --bin doi178-server
# The bridge that serves the field app's core and UI to the browser tests.
cargo build -p doi178-field --features bridge --bin field-bridge

# Both test passes run even when the first fails, so one CI run reports every failure.
FAILED=()
# Every test binary's "test result:" line is kept so the script can close with one total.
TEST_LOG="$(mktemp /tmp/doi178-test-log.XXXXXX)"
trap 'rm -f "$TEST_LOG"' EXIT
run_tests() {
    "$@" 2>&1 | tee -a "$TEST_LOG"
}
summary() {
    awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
         END { printf "tests: %d passed, %d failed\n", p, f }' "$TEST_LOG"
}

section "cargo test: unit tests + black-box suite on SQLite"
run_tests cargo test --workspace --no-fail-fast || FAILED+=("unit tests / black-box suite on SQLite")

# The dashboard in a real browser: Debian's Chromium driven by playwright-core (node:test), against
# the server binary built above, serving the demo data on SQLite.
browser_tests() {
    local need=()
    [[ -x /usr/bin/chromium ]] || need+=(chromium)
    command -v node >/dev/null 2>&1 || need+=(nodejs)
    command -v npm >/dev/null 2>&1 || need+=(npm)
    if [[ "${#need[@]}" -gt 0 ]]; then
        echo "installing Debian's ${need[*]}"
        apt_install "${need[@]}" || return 1
    fi
    echo "$(/usr/bin/chromium --version 2>/dev/null || echo chromium), node $(node --version)"
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error) || return 1
    local tap
    tap="$(mktemp /tmp/doi178-browser.XXXXXX)"
    local rc=0
    # Node >= 20.11 takes a concurrency and a per-test time limit; Debian 12's own Node 18 knows
    # neither (it runs the files one at a time), so the whole run also has an overall limit.
    local flags=(--test --test-reporter=tap)
    if node -e 'const [a, b] = process.versions.node.split(".").map(Number);
                process.exit(a > 20 || (a === 20 && b >= 11) ? 0 : 1)'; then
        flags+=(--test-concurrency=2 --test-timeout=300000)
    fi
    (cd tests/browser && DOI178_SERVER_BIN="$CARGO_TARGET_DIR/debug/doi178-server" \
        timeout 2400 node "${flags[@]}") >"$tap" 2>&1 || rc=$?
    # Failures in full, passes as one line each.
    grep -E '^(not )?ok |^# (tests|pass|fail)' "$tap" || true
    if [[ "$rc" != "0" ]]; then
        echo "---- browser test output ----"
        cat "$tap"
    fi
    awk '/^# pass / { p = $3 } /^# fail / { f = $3 } END { printf "test result: browser. %d passed; %d failed\n", p, f }' "$tap" | tee -a "$TEST_LOG"
    rm -f "$tap"
    return "$rc"
}

if [[ "${DOI178_SKIP_BROWSER:-}" == "1" && "${CI:-}" != "true" ]]; then
    section "browser tests skipped (DOI178_SKIP_BROWSER=1)"
else
    section "browser tests: the dashboard and the field app's UI in headless Chromium"
    browser_tests || FAILED+=("browser tests")
    section "field app: the built Tauri binary under Xvfb (tauri-driver + WebKitWebDriver)"
    run_tests bash scripts/field-app-smoke.sh || FAILED+=("field app smoke test")
fi

section "hostile input: schemathesis against the server's OpenAPI document (SQLite demo data)"
run_tests bash scripts/ci/schemathesis.sh || FAILED+=("schemathesis")

section "hostile input: cargo fuzz targets (visit JSON, photo decode, CSV and XLSX import)"
run_tests bash scripts/ci/fuzz.sh || FAILED+=("cargo fuzz")

if [[ "${DOI178_SKIP_POSTGRES:-}" == "1" && "${CI:-}" != "true" ]]; then
    section "PostgreSQL pass skipped (DOI178_SKIP_POSTGRES=1)"
    if [[ "${#FAILED[@]}" -gt 0 ]]; then
        printf 'FAILED: %s\n' "${FAILED[@]}" >&2
        step_times
        summary
        exit 1
    fi
    step_times
    summary
    exit 0
fi

section "PostgreSQL: find or install the server"
find_pg_bin() {
    local d
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        d="$(dirname "$(readlink -f "$(command -v initdb)")")"
        if [[ -x "$d/postgres" && -x "$d/pg_ctl" ]]; then
            echo "$d"
            return 0
        fi
    fi
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]]; then
        echo "$d"
        return 0
    fi
    return 1
}

if ! PG_BIN="$(find_pg_bin)"; then
    echo "PostgreSQL is not installed: installing Debian's package"
    apt_install postgresql
    PG_BIN="$(find_pg_bin)" || { echo "error: PostgreSQL binaries not found after installing" >&2; exit 1; }
fi
echo "using $PG_BIN ($("$PG_BIN/postgres" --version))"

# initdb and postgres refuse to run as root: run them as the postgres user then.
AS_PG=()
if [[ "$(id -u)" == "0" ]]; then
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
    fi
    if command -v runuser >/dev/null 2>&1; then
        AS_PG=(runuser -u postgres --)
    else
        AS_PG=(sudo -u postgres)
    fi
fi

PG_TMP="$(mktemp -d /tmp/doi178-pg.XXXXXX)"
PG_STARTED=0
cleanup_pg() {
    local rc=$?
    if [[ "$PG_STARTED" == "1" ]]; then
        "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_TMP" "$TEST_LOG"
    exit "$rc"
}
trap cleanup_pg EXIT
trap 'exit 130' INT TERM
chmod 700 "$PG_TMP"
if [[ "${#AS_PG[@]}" -gt 0 ]]; then
    chown postgres: "$PG_TMP"
fi

section "PostgreSQL: throwaway cluster in $PG_TMP"
"${AS_PG[@]}" "$PG_BIN/initdb" -D "$PG_TMP/data" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >"$PG_TMP/initdb.log" 2>&1 \
    || "${AS_PG[@]}" "$PG_BIN/initdb" -D "$PG_TMP/data" -U postgres --auth=trust \
        --encoding=UTF8 --no-locale >"$PG_TMP/initdb.log" 2>&1 \
    || { cat "$PG_TMP/initdb.log" >&2; exit 1; }

port_is_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

PG_PORT=""
for _attempt in 1 2 3 4 5 6 7 8; do
    candidate=$((20000 + RANDOM % 40000))
    port_is_free "$candidate" || continue
    # Speed over durability: the cluster is thrown away at the end.
    if "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 \
        -o "-p $candidate -k $PG_TMP -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null; then
        PG_PORT="$candidate"
        PG_STARTED=1
        break
    fi
    echo "port $candidate did not work; trying another"
done
if [[ -z "$PG_PORT" ]]; then
    echo "error: could not start PostgreSQL; its log:" >&2
    cat "$PG_TMP/server.log" >&2 || true
    exit 1
fi
echo "PostgreSQL listening on 127.0.0.1:$PG_PORT"

section "black-box suite on PostgreSQL"
DOI178_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres" \
    run_tests cargo test -p doi178-tests --no-fail-fast || FAILED+=("black-box suite on PostgreSQL")

section "S3-compatible photo store (s3s-fs on loopback), on SQLite and PostgreSQL"
DOI178_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres" \
    run_tests bash scripts/ci/s3.sh || FAILED+=("S3 photo store tests")
section "load generator: 100 phones for 20 s on SQLite and PostgreSQL (zero errors)"
DOI178_CI_PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres" \
    run_tests bash scripts/ci/loadgen.sh load || FAILED+=("load generator")
section "crash safety: kill -9 during 5,000 submissions, on SQLite and PostgreSQL"
DOI178_CI_PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres" \
    run_tests bash scripts/ci/loadgen.sh crash || FAILED+=("crash safety")

if [[ "${#FAILED[@]}" -gt 0 ]]; then
    section "FAILED after $((SECONDS - SCRIPT_START)) s"
    printf '  - %s\n' "${FAILED[@]}" >&2
    step_times
    summary
    exit 1
fi
section "all tests passed in $((SECONDS - SCRIPT_START)) s"
step_times
# The last line: the total over both passes, as CI reads it.
summary
