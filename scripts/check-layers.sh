#!/usr/bin/env bash
# The server's layer order (README, "Layer order"): a module may use its own layer and the layers
# below it, never one above; the modules of the edge layer (routes, dashboard, import, demo,
# backup, bench) do not use each other. Every `crate::<module>` path in server/src is
# checked.
#
# Upward uses that exist today are listed in scripts/layers-known.txt, one `file -> module` a
# line. The list may only shrink: a new upward use fails, and so does a listed one that is gone
# (remove its line). Run from anywhere; exits non-zero naming each offence.
set -euo pipefail
cd "$(dirname "$0")/.."

# Lower numbers are lower layers.
declare -A LAYER=(
    # shared (doi178-shared) is a crate of its own, below everything here.
    [clock]=1 [config]=1 [telemetry]=1 [error]=1 [json_guard]=1 [photos]=1 [storage]=1
    [extract]=1
    # Actor data (who is asking).
    [actor]=2
    # The database layer (with the audit chain its writes append to), and the macros it exports
    # at the crate root.
    [db]=3 [on_conn]=3 [insert_rows]=3 [cached]=3
    # Authentication, the declaration of routes with their access rules, the service layer.
    [auth]=4 [access]=4 [service]=4 [state]=4
    [routes]=5 [dashboard]=5 [demo]=5 [backup]=5 [bench]=5
    # Access rules (the route table with both surfaces), the API description, startup, commands.
    [openapi]=6 [startup]=6 [cli]=6 [lib]=6 [main]=6
)
# The edge layer: its modules use the layers below, never each other.
EDGE=5
KNOWN=scripts/layers-known.txt

module_of() {
    local rel="${1#server/src/}"
    case "$rel" in
        */*) echo "${rel%%/*}" ;;
        *) echo "${rel%.rs}" ;;
    esac
}

found="$(mktemp)"
trap 'rm -f "$found"' EXIT
status=0
while IFS= read -r file; do
    mine="$(module_of "$file")"
    if [[ -z "${LAYER[$mine]:-}" ]]; then
        echo "layers: $file belongs to module '$mine', which has no layer: add it to scripts/check-layers.sh and the README" >&2
        status=1
        continue
    fi
    # Comments are not uses.
    for used in $(sed -e 's://.*$::' "$file" | { grep -o 'crate::[a-z_]*' || true; } | sed 's/^crate:://' | sort -u); do
        if [[ -z "${LAYER[$used]:-}" ]]; then
            echo "layers: $file uses crate::$used, which has no layer" >&2
            status=1
        elif ((LAYER[$used] > LAYER[$mine])); then
            echo "$file -> $used" >>"$found"
        elif ((LAYER[$used] == EDGE && LAYER[$mine] == EDGE)) && [[ "$used" != "$mine" ]]; then
            # The edge modules (API, dashboard, importer, demo, exports, backup, bench) do not
            # use one another: what they share belongs in the service layer below them.
            echo "$file -> $used" >>"$found"
        fi
    done
done < <(find server/src -name '*.rs' | sort)

sort -u -o "$found" "$found"
known="$({ grep -v -e '^#' -e '^$' "$KNOWN" || true; } | sort -u)"
new="$(comm -23 "$found" <(printf '%s\n' "$known" | sed '/^$/d'))"
gone="$(comm -13 "$found" <(printf '%s\n' "$known" | sed '/^$/d'))"
if [[ -n "$new" ]]; then
    echo "layers: upward uses (a lower layer must not use a higher one; see README, Layer order):" >&2
    echo "$new" | sed 's/^/  /' >&2
    status=1
fi
if [[ -n "$gone" ]]; then
    echo "layers: these upward uses are gone; remove them from $KNOWN so they cannot come back:" >&2
    echo "$gone" | sed 's/^/  /' >&2
    status=1
fi
if [[ "$status" == 0 ]]; then
    echo "layers: no new upward use ($(wc -l <"$found") known, listed in $KNOWN)"
fi
exit "$status"
