#!/usr/bin/env bash
# A shaped link for the field app's sync benchmarks: the real doi178-server on the host, a
# command inside a network namespace, and between them a link with a rate limit, delay and
# random loss (default: 1 Mbit/s, 150 ms each way = 300 ms RTT, 2 % loss each way).
#
#   scripts/netem.sh [options] -- COMMAND [ARGS...]   run COMMAND inside the namespace
#   scripts/netem.sh [options] --bench-upload 3,10    time PUTs of 3 MB and 10 MB with curl
#                      [--parallel 4]                  (4 concurrent PUTs of each size)
#
# The command gets DOI178_URL (the server as seen from the namespace) and DOI178_TOKEN (an
# access token of the demo inspector kiemtra.hue). Everything is torn down on exit.
#
# The link: a veth pair with `tc qdisc … netem` on both ends when the kernel has netem
# (CONFIG_NET_SCH_NETEM); otherwise the same model in user space: two TUN devices joined by a
# small Python forwarder that applies, per direction and per packet, random loss, a serialising
# rate limit with a drop-tail queue, and a fixed delay — what netem does with
# `delay D rate R loss L limit N`. --mode netem|tun forces one.
#
# Options:
#   --rate 1mbit        link rate each way (kbit, mbit or bit suffix)
#   --delay 150ms       one-way delay (RTT = 2 × delay)
#   --loss 2            random loss in percent, each way
#   --limit 1000        queue limit in packets (netem's default)
#   --seed 178          loss RNG seed (user-space link only)
#   --cc ALGO           TCP congestion control inside the namespace (the sender of uploads),
#                       e.g. cubic (Android's default) or bbr; default: the kernel's
#   --mode auto|netem|tun
#   --server-bin PATH   default: $CARGO_TARGET_DIR (or ./target)/debug/doi178-server
#   --no-server         do not start a server (DOI178_URL/DOI178_TOKEN are not set)
#   --keep-output DIR   keep the server log and link statistics there
# Needs root (network namespaces), iproute2 (installed with apt-get when missing), curl and
# python3.
set -euo pipefail

RATE=1mbit
DELAY=150ms
LOSS=2
LIMIT=1000
SEED=178
MODE=auto
SERVER_BIN=""
START_SERVER=1
BENCH=""
KEEP=""
CC=""
PARALLEL=1
here="$(cd "$(dirname "$0")/.." && pwd)"

usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --rate) RATE="$2"; shift 2 ;;
        --delay) DELAY="$2"; shift 2 ;;
        --loss) LOSS="$2"; shift 2 ;;
        --limit) LIMIT="$2"; shift 2 ;;
        --seed) SEED="$2"; shift 2 ;;
        --cc) CC="$2"; shift 2 ;;
        --mode) MODE="$2"; shift 2 ;;
        --server-bin) SERVER_BIN="$2"; shift 2 ;;
        --no-server) START_SERVER=0; shift ;;
        --bench-upload) BENCH="$2"; shift 2 ;;
        --parallel) PARALLEL="$2"; shift 2 ;;
        --keep-output) KEEP="$2"; shift 2 ;;
        -h|--help) usage 0 ;;
        --) shift; break ;;
        *) echo "netem.sh: unknown option $1" >&2; usage 2 ;;
    esac
done
if [ -z "$BENCH" ] && [ $# -eq 0 ]; then
    echo "netem.sh: give a command after --, or --bench-upload SIZES_MB" >&2
    exit 2
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "netem.sh: must run as root (it creates a network namespace, links and qdiscs); try: sudo $0 $*" >&2
    exit 1
fi
if ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
    echo "netem.sh: installing iproute2" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null
fi
for tool in curl python3; do
    command -v "$tool" >/dev/null || { echo "netem.sh: $tool is required" >&2; exit 1; }
done

# Units: rate in bit/s, delay in seconds (for the user-space link).
rate_bps() {
    local r="${1,,}"
    case "$r" in
        *gbit) echo $(( ${r%gbit} * 1000000000 )) ;;
        *mbit) echo $(( ${r%mbit} * 1000000 )) ;;
        *kbit) echo $(( ${r%kbit} * 1000 )) ;;
        *bit) echo "${r%bit}" ;;
        *) echo "netem.sh: rate like 1mbit or 512kbit, not $1" >&2; exit 2 ;;
    esac
}
delay_ms() {
    case "$1" in
        *ms) echo "${1%ms}" ;;
        *s) echo $(( ${1%s} * 1000 )) ;;
        *) echo "$1" ;;
    esac
}
RATE_BPS="$(rate_bps "$RATE")"
DELAY_MS="$(delay_ms "$DELAY")"

ID="$$"
NS="doi178net$ID"
HOST_DEV="d178h$ID"
NS_DEV="d178n$ID"
HOST_IP=10.178.0.1
NS_IP=10.178.0.2
WORK="$(mktemp -d /tmp/doi178-netem.XXXXXX)"
SERVER_PID=""
LINK_PID=""
ALLOWED_BEFORE=""
CMD_PID=""

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    [ -n "$CMD_PID" ] && kill "$CMD_PID" 2>/dev/null
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    if [ -n "$LINK_PID" ]; then
        kill "$LINK_PID" 2>/dev/null && wait "$LINK_PID" 2>/dev/null
        [ -s "$WORK/link.log" ] && sed 's/^/netem.sh: link: /' "$WORK/link.log" >&2
    fi
    ip netns del "$NS" 2>/dev/null || true
    ip link del "$HOST_DEV" 2>/dev/null || true
    if [ -n "$ALLOWED_BEFORE" ]; then
        echo "$ALLOWED_BEFORE" >/proc/sys/net/ipv4/tcp_allowed_congestion_control
    fi
    if [ -n "$KEEP" ]; then
        mkdir -p "$KEEP" && cp -r "$WORK"/. "$KEEP"/
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS"
ip -n "$NS" link set lo up
if [ -n "$CC" ]; then
    # A namespace may only pick an algorithm the host allows: allow it until the end.
    allowed=/proc/sys/net/ipv4/tcp_allowed_congestion_control
    if ! grep -qw "$CC" "$allowed"; then
        ALLOWED_BEFORE="$(cat "$allowed")"
        echo "$ALLOWED_BEFORE $CC" >"$allowed"
    fi
    ip netns exec "$NS" sh -c "echo $CC > /proc/sys/net/ipv4/tcp_congestion_control"
fi
NS_CC="$(ip netns exec "$NS" cat /proc/sys/net/ipv4/tcp_congestion_control)"

netem_link() {
    ip link add "$HOST_DEV" type veth peer name "$NS_DEV" || return 1
    ip link set "$NS_DEV" netns "$NS"
    ip addr add "$HOST_IP/30" dev "$HOST_DEV"
    ip link set "$HOST_DEV" up
    ip -n "$NS" addr add "$NS_IP/30" dev "$NS_DEV"
    ip -n "$NS" link set "$NS_DEV" up
    # Both directions: host → namespace on the host end, namespace → host on the other.
    tc qdisc add dev "$HOST_DEV" root netem delay "${DELAY_MS}ms" rate "$RATE" loss "${LOSS}%" limit "$LIMIT" &&
        ip netns exec "$NS" tc qdisc add dev "$NS_DEV" root netem delay "${DELAY_MS}ms" rate "$RATE" loss "${LOSS}%" limit "$LIMIT"
}

tun_link() {
    cat >"$WORK/link.py" <<'PY'
# User-space netem: forwards IP packets between two TUN devices, per direction: random loss,
# a rate limit (packets are serialised one after another at `rate` bit/s; a drop-tail queue of
# `limit` packets), then a fixed delay.
import fcntl, heapq, os, random, select, signal, struct, sys, time
host, peer, rate, delay, loss, limit, seed = sys.argv[1:8]
rate, delay, loss, limit = float(rate), float(delay), float(loss) / 100.0, int(limit)
rng = random.Random(int(seed))
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000
def tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd
a, b = tun(host), tun(peer)
stats = {a: [0, 0, 0, 0], b: [0, 0, 0, 0]}  # packets in, lost, queue drops, bytes delivered
busy = {a: 0.0, b: 0.0}
queued = {a: [], b: []}  # departure times of packets not yet serialised
other = {a: b, b: a}
pending, seq = [], 0
def report(*_):
    for fd, name in ((a, "host->namespace"), (b, "namespace->host")):
        n, lost, dropped, sent = stats[fd]
        print(f"{name}: {n} packets, {lost} lost at random, {dropped} queue drops, {sent} bytes delivered", file=sys.stderr)
    sys.exit(0)
signal.signal(signal.SIGTERM, report)
signal.signal(signal.SIGINT, report)
print("ready", flush=True)
while True:
    now = time.monotonic()
    timeout = max(0.0, pending[0][0] - now) if pending else 1.0
    ready, _, _ = select.select([a, b], [], [], timeout)
    now = time.monotonic()
    for fd in ready:
        pkt = os.read(fd, 65536)
        st = stats[fd]
        st[0] += 1
        if loss > 0 and rng.random() < loss:
            st[1] += 1
            continue
        q = queued[fd]
        while q and q[0] <= now:
            q.pop(0)
        if len(q) >= limit:
            st[2] += 1
            continue
        depart = max(now, busy[fd]) + len(pkt) * 8 / rate
        busy[fd] = depart
        q.append(depart)
        seq += 1
        heapq.heappush(pending, (depart + delay, seq, fd, pkt))
    while pending and pending[0][0] <= now:
        _, _, fd, pkt = heapq.heappop(pending)
        try:
            os.write(other[fd], pkt)
            stats[fd][3] += len(pkt)
        except OSError:
            pass  # the other device is not up yet (early IPv6 chatter): lost

PY
    # The forwarder creates both devices in the host's namespace; the second then moves into the
    # test namespace (an open TUN device keeps working across namespaces).
    python3 -u "$WORK/link.py" "$HOST_DEV" "$NS_DEV" "$RATE_BPS" "$(python3 -c "print($DELAY_MS/1000)")" \
        "$LOSS" "$LIMIT" "$SEED" >"$WORK/link.out" 2>"$WORK/link.log" &
    LINK_PID=$!
    for _ in $(seq 100); do
        grep -q ready "$WORK/link.out" 2>/dev/null && break
        kill -0 "$LINK_PID" 2>/dev/null || { cat "$WORK/link.log" >&2; return 1; }
        sleep 0.05
    done
    grep -q ready "$WORK/link.out" || { echo "netem.sh: the user-space link did not start" >&2; return 1; }
    ip link set "$NS_DEV" netns "$NS"
    ip addr add "$HOST_IP" peer "$NS_IP" dev "$HOST_DEV"
    ip link set "$HOST_DEV" up
    ip -n "$NS" addr add "$NS_IP" peer "$HOST_IP" dev "$NS_DEV"
    ip -n "$NS" link set "$NS_DEV" up
}

case "$MODE" in
    netem) netem_link ;;
    tun) tun_link ;;
    auto)
        if ! netem_link 2>"$WORK/netem.err"; then
            echo "netem.sh: kernel netem unavailable ($(tr '\n' ' ' <"$WORK/netem.err")); using the user-space link" >&2
            ip link del "$HOST_DEV" 2>/dev/null || true
            MODE=tun
            tun_link
        else
            MODE=netem
        fi
        ;;
    *) echo "netem.sh: --mode auto, netem or tun" >&2; exit 2 ;;
esac
echo "netem.sh: link ($MODE): $RATE each way, ${DELAY_MS} ms each way (RTT $((2 * DELAY_MS)) ms), ${LOSS} % loss each way, queue $LIMIT packets; TCP congestion control in the namespace: $NS_CC" >&2
if ! ip netns exec "$NS" ping -c 1 -W 5 "$HOST_IP" >/dev/null 2>&1; then
    if command -v ping >/dev/null; then
        # One ping may be lost at random; try a few before giving up.
        ip netns exec "$NS" ping -c 5 -W 5 "$HOST_IP" >/dev/null 2>&1 ||
            { echo "netem.sh: the namespace cannot reach $HOST_IP" >&2; exit 1; }
    fi
fi

if [ "$START_SERVER" = 1 ]; then
    if [ -z "$SERVER_BIN" ]; then
        SERVER_BIN="${CARGO_TARGET_DIR:-$here/target}/debug/doi178-server"
    fi
    [ -x "$SERVER_BIN" ] || { echo "netem.sh: no server binary at $SERVER_BIN (cargo build -p doi178-server --bin doi178-server, or --server-bin)" >&2; exit 1; }
    mkdir -p "$WORK/server"
    DB="$WORK/server/doi178.sqlite"
    DOI178_LOG=warn "$SERVER_BIN" --database-url "$DB" --data-dir "$WORK/server" \
        demo --establishments 20 --visits 10 >"$WORK/demo.log" 2>&1 ||
        { cat "$WORK/demo.log" >&2; exit 1; }
    DOI178_LOG=warn DOI178_JWT_SECRET="netem-bench-secret-0123456789abcdef0123" \
        "$SERVER_BIN" --database-url "$DB" --data-dir "$WORK/server" \
        serve --bind "$HOST_IP" --port 0 >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    URL=""
    for _ in $(seq 300); do
        URL="$(sed -n 's/^doi178-server listening on //p' "$WORK/server.log" | head -n1)"
        [ -n "$URL" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
        sleep 0.1
    done
    [ -n "$URL" ] || { echo "netem.sh: the server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }
    # Signing in from the host side: the shaped link is for the command.
    TOKEN="$(curl -sS --fail -H 'Content-Type: application/json' \
        -d '{"username":"kiemtra.hue","password":"doi178-demo"}' "$URL/api/v1/auth/login" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
    export DOI178_URL="$URL" DOI178_TOKEN="$TOKEN"
    echo "netem.sh: server $URL" >&2
fi

bench_upload() {
    local sizes="$1" n="$2" mb i file digest started took total codes pids
    echo "size_MB  uploads  bytes_sent  http  seconds  bytes/link_rate_s  ratio  goodput_kbit/s"
    for mb in ${sizes//,/ }; do
        for i in $(seq "$n"); do
            head -c "$((mb * 1000000))" /dev/urandom >"$WORK/upload-$mb-$i.bin"
        done
        started="$(date +%s.%N)"
        pids=()
        for i in $(seq "$n"); do
            file="$WORK/upload-$mb-$i.bin"
            digest="$(openssl dgst -sha256 -binary "$file" | base64 -w0)"
            # The real photo route: the server reads and hashes the whole body, then answers 415
            # (random bytes are no image) without any image work, so the time is the transfer.
            ip netns exec "$NS" curl -sS -o /dev/null -X PUT \
                -w '%{size_upload} %{http_code} %{time_total}\n' \
                -H "Authorization: Bearer $DOI178_TOKEN" -H 'Content-Type: image/jpeg' \
                -H "Content-Digest: sha-256=:$digest:" --data-binary "@$file" \
                "$DOI178_URL/api/v1/photos/$(cat /proc/sys/kernel/random/uuid)" >"$file.out" &
            pids+=($!)
        done
        # Only the uploads: a bare `wait` would wait for the server and the link too.
        wait "${pids[@]}"
        took="$(python3 -c "import time; print(time.time() - $started)")"
        total="$(cat "$WORK"/upload-"$mb"-*.bin.out | awk '{s += $1} END {print s}')"
        codes="$(cat "$WORK"/upload-"$mb"-*.bin.out | awk '{print $2}' | sort -u | tr '\n' ' ')"
        python3 - "$mb" "$n" "$RATE_BPS" "$total" "$codes" "$took" <<'PY'
import sys
mb, n, rate, size, codes, secs = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5].strip(), float(sys.argv[6])
ideal = size * 8 / rate
print(f"{mb:>7}  {n:>7}  {size:>10}  {codes:>4}  {secs:7.1f}  {ideal:17.1f}  {secs / ideal:5.2f}  {size * 8 / secs / 1000:14.0f}")
PY
        rm -f "$WORK"/upload-"$mb"-*
    done
}

if [ -n "$BENCH" ]; then
    [ "$START_SERVER" = 1 ] || { echo "netem.sh: --bench-upload needs the server" >&2; exit 2; }
    bench_upload "$BENCH" "$PARALLEL"
else
    # In the background (stdin kept) so a signal tears everything down at once.
    ip netns exec "$NS" env DOI178_URL="${DOI178_URL:-}" DOI178_TOKEN="${DOI178_TOKEN:-}" "$@" 0<&0 &
    CMD_PID=$!
    wait "$CMD_PID"
fi
