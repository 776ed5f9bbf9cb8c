#!/usr/bin/env bash
# The field app's "day" benchmark (issue 4, item 6): 20 visits with 100 photos (12-megapixel
# camera JPEGs run through the photo pipeline) recorded offline on the core, then synced in one go
# to the real doi178-server over scripts/netem.sh's shaped link (default 1 Mbit/s, 300 ms RTT,
# 2 % loss each way). Prints bytes sent, time, bytes ÷ link rate and their ratio; goals: bytes
# sent ≤ 30 MB, time ≤ 1.2 × bytes ÷ rate.
#
#   sudo -E scripts/bench-field-day.sh [--concurrency 4] [--cc cubic] [--visits 20] [--photos 100]
#                                      [--rate 1mbit] [--delay 150ms] [--loss 2] [--quick]
#                                      [--server-profile release|debug]
#
# --quick: 4 visits / 12 photos on a 4 Mbit/s link (a smoke run of the whole chain, ~1 minute).
# Builds the bench in release (it processes 100 12-MP photos once; they are cached in
# $HOME/.cache/doi178/field-day-photos) and the server in release, as it runs in production: the
# server decodes and re-encodes every photo, which takes a debug build about 4–5 s per photo on
# this machine and would make the server, not the link, the bottleneck (--server-profile debug to
# see that).
# Needs root (network namespace), like netem.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
CONCURRENCY=4
CC=cubic
VISITS=20
PHOTOS=100
RATE=1mbit
DELAY=150ms
LOSS=2
PROFILE=release
while [ $# -gt 0 ]; do
    case "$1" in
        --concurrency) CONCURRENCY="$2"; shift 2 ;;
        --cc) CC="$2"; shift 2 ;;
        --visits) VISITS="$2"; shift 2 ;;
        --photos) PHOTOS="$2"; shift 2 ;;
        --rate) RATE="$2"; shift 2 ;;
        --delay) DELAY="$2"; shift 2 ;;
        --loss) LOSS="$2"; shift 2 ;;
        --quick) VISITS=4; PHOTOS=12; RATE=4mbit; shift ;;
        --server-profile) PROFILE="$2"; shift 2 ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-field-day.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
TARGET="${CARGO_TARGET_DIR:-$here/target}"
cargo build -q --release -p doi178-field --bin field-day-bench
if [ "$PROFILE" = release ]; then
    cargo build -q --release -p doi178-server --bin doi178-server
else
    cargo build -q -p doi178-server --bin doi178-server
fi
BENCH="$TARGET/release/field-day-bench"
PHOTOS_DIR="${DOI178_FIELD_DAY_PHOTOS:-$HOME/.cache/doi178/field-day-photos}"
# The photos are made outside the link (recording is not what is measured).
"$BENCH" prepare --photos-dir "$PHOTOS_DIR" --photos "$PHOTOS"
case "${RATE,,}" in
    *mbit) RATE_BPS=$(( ${RATE%mbit} * 1000000 )) ;;
    *kbit) RATE_BPS=$(( ${RATE%kbit} * 1000 )) ;;
    *bit) RATE_BPS="${RATE%bit}" ;;
    *) echo "bench-field-day.sh: --rate like 1mbit" >&2; exit 2 ;;
esac
echo "link: $RATE, ${DELAY} each way, ${LOSS} % loss, TCP $CC; $VISITS visits, $PHOTOS photos, $CONCURRENCY uploads at a time; server: $PROFILE build"
scripts/netem.sh --cc "$CC" --rate "$RATE" --delay "$DELAY" --loss "$LOSS" \
    --server-bin "$TARGET/$PROFILE/doi178-server" -- \
    "$BENCH" run --photos-dir "$PHOTOS_DIR" --visits "$VISITS" --photos "$PHOTOS" \
    --concurrency "$CONCURRENCY" --rate-bps "$RATE_BPS"
