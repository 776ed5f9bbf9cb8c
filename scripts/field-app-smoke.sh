#!/usr/bin/env bash
# Smoke test of the field app's Tauri shell (field-app/src-tauri) on Linux: builds the desktop
# binary, opens it in a real WebKitGTK window under Xvfb, drives it over WebDriver (tauri-driver in
# front of Debian's WebKitWebDriver) and checks the sign-in screen; the screenshot lands in
# $CARGO_TARGET_DIR/browser-screenshots/field-app-signin.png.
#
# Installs what is missing: Debian's WebKitGTK/GTK development packages (to build), xvfb and
# webkit2gtk-driver (to run), Node.js (the WebDriver client is tests/tauri-smoke/smoke.mjs, plain
# fetch(), no npm packages), and tauri-driver from crates.io into $DOI178_TOOLS_DIR (default
# $HOME/.cache/doi178/tools, kept between runs). Everything started here is stopped on exit.
# Closes with "test result: tauri-smoke. N passed; M failed"; exits non-zero on any failure.
#
# Environment:
#   CARGO_TARGET_DIR   build directory (default: $HOME/.cache/doi178/target, as scripts/test.sh)
#   DOI178_TOOLS_DIR   where tauri-driver is installed (default: $HOME/.cache/doi178/tools)
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/root}/.cache/doi178/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
TOOLS_DIR="${DOI178_TOOLS_DIR:-${HOME:-/root}/.cache/doi178/tools}"
TAURI_DRIVER_VERSION="^2"
START=$SECONDS

section() {
    printf '\n==== field-app smoke: %s  [%ds]\n' "$*" "$((SECONDS - START))"
}
fail() {
    echo "error: $*" >&2
    echo "test result: tauri-smoke. 0 passed; 1 failed"
    exit 1
}

# ---- Debian packages ------------------------------------------------------------------------
# Build: the -sys crates of tauri/wry/tao link WebKitGTK 4.1, GTK 3, libsoup 3 and JavaScriptCore
# (libwebkit2gtk-4.1-dev pulls the others, and libdbus-1-dev/libx11-dev through GTK's).
# Run: Xvfb for the display, WebKitWebDriver (webkit2gtk-driver) behind tauri-driver.
PACKAGES=(build-essential pkg-config libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev
    libjavascriptcoregtk-4.1-dev xvfb webkit2gtk-driver)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs)
if [[ "${#missing[@]}" -gt 0 ]]; then
    section "installing Debian's ${missing[*]}"
    sudo=""
    if [[ "$(id -u)" != "0" ]]; then
        command -v sudo >/dev/null 2>&1 || fail "missing ${missing[*]} and not root (no sudo either)"
        sudo="sudo"
    fi
    $sudo apt-get update
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
        || fail "apt-get install ${missing[*]} failed"
fi

# ---- tauri-driver ---------------------------------------------------------------------------
TAURI_DRIVER="$TOOLS_DIR/bin/tauri-driver"
if [[ ! -x "$TAURI_DRIVER" ]]; then
    section "installing tauri-driver $TAURI_DRIVER_VERSION into $TOOLS_DIR"
    build_dir="$(mktemp -d /tmp/doi178-tauri-driver.XXXXXX)"
    cargo install tauri-driver --version "$TAURI_DRIVER_VERSION" --locked --root "$TOOLS_DIR" \
        --target-dir "$build_dir" || { rm -rf "$build_dir"; fail "cargo install tauri-driver failed"; }
    rm -rf "$build_dir"
fi

# ---- the app --------------------------------------------------------------------------------
# The shell embeds the built UI (tauri.conf.json: frontendDist ../ui/dist).
if [[ ! -f field-app/ui/dist/index.html ]]; then
    section "build the UI (field-app/ui: npm ci, npm run build)"
    (cd field-app/ui && npm ci --no-audit --no-fund --loglevel=error && npm run build) \
        || fail "the UI did not build"
fi

section "cargo build -p doi178-field-app"
cargo build -p doi178-field-app || fail "the app did not build"
APP_BIN="$CARGO_TARGET_DIR/debug/doi178-field-app"
[[ -x "$APP_BIN" ]] || fail "no binary at $APP_BIN"
APP_VERSION="$(cargo metadata --format-version 1 --no-deps \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const p=JSON.parse(s).packages.find(p=>p.name==="doi178-field-app");process.stdout.write(p.version)})')"
[[ -n "$APP_VERSION" ]] || fail "could not read the app's version"

# ---- Xvfb and tauri-driver, stopped on exit -------------------------------------------------
RUN_DIR="$(mktemp -d /tmp/doi178-tauri-smoke.XXXXXX)"
XVFB_PID=""
DRIVER_PID=""
cleanup() {
    local rc=$?
    # tauri-driver runs in its own process group (setsid) with WebKitWebDriver and the app in it.
    if [[ -n "$DRIVER_PID" ]]; then
        kill -TERM -- "-$DRIVER_PID" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 -- "-$DRIVER_PID" 2>/dev/null || break
            sleep 0.3
        done
        kill -KILL -- "-$DRIVER_PID" 2>/dev/null || true
    fi
    if [[ -n "$XVFB_PID" ]]; then
        kill -TERM "$XVFB_PID" 2>/dev/null || true
        wait "$XVFB_PID" 2>/dev/null || true
    fi
    rm -rf "$RUN_DIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

section "Xvfb"
# -displayfd: Xvfb picks a free display number itself and writes it once it accepts clients.
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$RUN_DIR/display" >"$RUN_DIR/xvfb.log" 2>&1 &
XVFB_PID=$!
for _ in $(seq 1 100); do
    [[ -s "$RUN_DIR/display" ]] && break
    kill -0 "$XVFB_PID" 2>/dev/null || { cat "$RUN_DIR/xvfb.log" >&2; fail "Xvfb exited"; }
    sleep 0.1
done
[[ -s "$RUN_DIR/display" ]] || fail "Xvfb did not start"
export DISPLAY=":$(tr -d '[:space:]' <"$RUN_DIR/display")"
# Only X11: a Wayland or other session of the caller must not leak in.
unset WAYLAND_DISPLAY
export GDK_BACKEND=x11
echo "DISPLAY=$DISPLAY"

port_is_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        if port_is_free "$p"; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

section "tauri-driver"
DRIVER_PORT="$(free_port)" || fail "no free port"
NATIVE_PORT="$(free_port)" || fail "no free port"
[[ "$DRIVER_PORT" != "$NATIVE_PORT" ]] || NATIVE_PORT=$((DRIVER_PORT + 1))
setsid "$TAURI_DRIVER" --port "$DRIVER_PORT" --native-port "$NATIVE_PORT" \
    --native-driver "$(command -v WebKitWebDriver)" >"$RUN_DIR/tauri-driver.log" 2>&1 &
DRIVER_PID=$!
DRIVER_URL="http://127.0.0.1:$DRIVER_PORT"
for _ in $(seq 1 100); do
    if ! port_is_free "$DRIVER_PORT" && ! port_is_free "$NATIVE_PORT"; then
        break
    fi
    kill -0 "$DRIVER_PID" 2>/dev/null || { cat "$RUN_DIR/tauri-driver.log" >&2; fail "tauri-driver exited"; }
    sleep 0.1
done
echo "tauri-driver on $DRIVER_URL (WebKitWebDriver on port $NATIVE_PORT)"

section "smoke test: the sign-in screen"
SCREENSHOT="$CARGO_TARGET_DIR/browser-screenshots/field-app-signin.png"
rc=0
TAURI_DRIVER_URL="$DRIVER_URL" DOI178_APP_BIN="$APP_BIN" DOI178_APP_VERSION="$APP_VERSION" \
    DOI178_SCREENSHOT="$SCREENSHOT" node tests/tauri-smoke/smoke.mjs || rc=$?
if [[ "$rc" != "0" ]]; then
    echo "---- tauri-driver / WebKitWebDriver output ----"
    cat "$RUN_DIR/tauri-driver.log"
fi
section "done"
exit "$rc"
