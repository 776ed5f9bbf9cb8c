#!/usr/bin/env bash
# Regenerates the boundary files in this folder from the reference shelf (see LICENSE.md).
# Run by hand only; nothing in the build or the tests runs it. The output is committed.
#
#   bash server/assets/geo/build.sh [SOURCE_DIR]
#
# SOURCE_DIR holds vn_provinces_2025_34.geojson and communes/vn_communes_<code>_<slug>.geojson,
# one file per province (default: /work/shared/data). Needs Node.js; mapshaper is fetched by npx
# into npm's cache, never into the repository.
set -euo pipefail

SRC="${1:-/work/shared/data}"
OUT="$(cd "$(dirname "$0")" && pwd)"
MAPSHAPER=(npx --yes mapshaper@0.7.70)

# $1 source file, $2 output file, $3 Douglas-Peucker tolerance in metres.
# - properties reduced to {unit_id: "2025:<official code>", name: <full Vietnamese name>};
# - -explode before -simplify so that keep-shapes protects every island / exclave part, not
#   only the largest ring of each unit; -dissolve unit_id puts the parts back together;
# - simplification works on mapshaper's shared-arc topology, so neighbours keep one common border;
# - RFC 7946 ring winding (outer rings counter-clockwise); coordinates rounded to 1e-4 degrees
#   (about 11 m).
build() {
  "${MAPSHAPER[@]}" -i "$SRC/$1" \
    -each 'unit_id="2025:"+code, name=fullName' \
    -filter-fields unit_id,name \
    -explode \
    -simplify dp interval="$3" keep-shapes \
    -dissolve unit_id copy-fields=name \
    -filter-fields unit_id,name \
    -o "$OUT/$2" format=geojson rfc7946 precision=0.0001
}

# Every province's communes (34 files), then the provinces.
for file in "$SRC"/communes/vn_communes_*.geojson; do
  name="$(basename "$file")"
  code="${name#vn_communes_}"
  code="${code%%_*}"
  build "communes/$name" "communes-$code.geojson" 50
done
build vn_provinces_2025_34.geojson provinces.geojson 300
