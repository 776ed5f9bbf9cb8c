// The establishment map: an SVG drawn from the establishments' coordinates alone (works offline,
// no tiles, no library), in Web Mercator so that optional tiles (a `{z}/{x}/{y}` URL from the
// settings) line up under the markers. Markers are links to the establishment card.

export interface MapPoint { id: string; name: string; lat: number; lon: number }
export interface MapView { z: number; x0: number; y0: number; width: number; height: number }

const TILE = 256;
const SVG = "http://www.w3.org/2000/svg";

/** Web Mercator pixel coordinates at zoom `z`. */
export function project(lat: number, lon: number, z: number): [number, number] {
  const scale = TILE * 2 ** z;
  const clamped = Math.max(-85.05112878, Math.min(85.05112878, lat));
  const s = Math.sin((clamped * Math.PI) / 180);
  const x = ((lon + 180) / 360) * scale;
  const y = (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * scale;
  return [x, y];
}

/** Metres per pixel at latitude `lat` and zoom `z`. */
export function metresPerPixel(lat: number, z: number): number {
  return (40075016.686 * Math.cos((lat * Math.PI) / 180)) / (TILE * 2 ** z);
}

/**
 * The view: centred on `center`, at the highest zoom (≤ 18) where every point is inside the
 * `width`×`height` box with `pad` pixels to spare.
 */
export function fitView(center: { lat: number; lon: number }, points: MapPoint[], width: number, height: number, pad = 28): MapView {
  let z = 18;
  for (; z > 2; z--) {
    const [cx, cy] = project(center.lat, center.lon, z);
    const fits = points.every((p) => {
      const [x, y] = project(p.lat, p.lon, z);
      return Math.abs(x - cx) <= width / 2 - pad && Math.abs(y - cy) <= height / 2 - pad;
    });
    if (fits) break;
  }
  const [cx, cy] = project(center.lat, center.lon, z);
  return { z, x0: cx - width / 2, y0: cy - height / 2, width, height };
}

/** A round scale-bar length (m) at most `maxPx` pixels long, and its length in pixels. */
export function scaleBar(lat: number, z: number, maxPx = 110): { metres: number; px: number } {
  const mpp = metresPerPixel(lat, z);
  const steps = [5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
  let metres = steps[0];
  for (const s of steps) if (s / mpp <= maxPx) metres = s;
  return { metres, px: metres / mpp };
}

type Attrs = Record<string, string | number>;
function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string)[]): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c);
  return e;
}

export interface DrawOptions {
  width: number;
  height: number;
  /** `https://…/{z}/{x}/{y}.png`; nothing is fetched without it. */
  tilesUrl?: string | null;
  /** The phone's position, drawn as "you are here". */
  here?: { lat: number; lon: number; accuracy: number } | null;
  youLabel: string;
  scaleLabel: string;
}

/** The map of `points` (numbered 1…n in their order) around `center`. */
export function drawMap(center: { lat: number; lon: number }, points: MapPoint[], o: DrawOptions): SVGSVGElement {
  const v = fitView(center, points, o.width, o.height);
  const svg = el("svg", { viewBox: `0 0 ${o.width} ${o.height}`, class: "map", role: "img", "data-zoom": v.z });
  svg.append(el("rect", { x: 0, y: 0, width: o.width, height: o.height, class: "map-bg" }));
  if (o.tilesUrl) {
    const n = 2 ** v.z;
    for (let ty = Math.floor(v.y0 / TILE); ty <= Math.floor((v.y0 + o.height) / TILE); ty++) {
      if (ty < 0 || ty >= n) continue;
      for (let tx = Math.floor(v.x0 / TILE); tx <= Math.floor((v.x0 + o.width) / TILE); tx++) {
        const wrapped = ((tx % n) + n) % n;
        const href = o.tilesUrl.replace("{z}", String(v.z)).replace("{x}", String(wrapped)).replace("{y}", String(ty));
        svg.append(el("image", { href, x: tx * TILE - v.x0, y: ty * TILE - v.y0, width: TILE, height: TILE, class: "tile" }));
      }
    }
  } else {
    // A light grid every 64 px keeps a sense of distance without any background.
    for (let gx = 64 - (v.x0 % 64); gx < o.width; gx += 64) svg.append(el("line", { x1: gx, y1: 0, x2: gx, y2: o.height, class: "grid" }));
    for (let gy = 64 - (v.y0 % 64); gy < o.height; gy += 64) svg.append(el("line", { x1: 0, y1: gy, x2: o.width, y2: gy, class: "grid" }));
  }
  const at = (lat: number, lon: number): [number, number] => {
    const [x, y] = project(lat, lon, v.z);
    return [x - v.x0, y - v.y0];
  };
  // Farthest first, so that the nearest markers are drawn on top.
  points.map((p, i) => ({ p, i })).reverse().forEach(({ p, i }) => {
    const [x, y] = at(p.lat, p.lon);
    const link = el("a", { href: `#/est/${p.id}`, class: "marker", "data-id": p.id, "aria-label": `${i + 1}. ${p.name}` },
      el("title", {}, `${i + 1}. ${p.name}`),
      // A 48 px touch target around the visible pin.
      el("circle", { cx: x, cy: y, r: 24, class: "marker-hit" }),
      el("circle", { cx: x, cy: y, r: 12, class: "marker-pin" }),
      el("text", { x, y: y + 4.5, "text-anchor": "middle", class: "marker-label" }, String(i + 1)));
    link.setAttributeNS("http://www.w3.org/1999/xlink", "xlink:href", `#/est/${p.id}`);
    svg.append(link);
  });
  // On top of the markers (it lets taps through to them).
  if (o.here) {
    const [x, y] = at(o.here.lat, o.here.lon);
    const r = Math.min(o.width, o.here.accuracy / metresPerPixel(o.here.lat, v.z));
    svg.append(el("g", { class: "you", "pointer-events": "none" },
      el("title", {}, o.youLabel),
      el("circle", { cx: x, cy: y, r: Math.max(r, 0), class: "you-accuracy" }),
      el("circle", { cx: x, cy: y, r: 8, class: "you-dot" })));
  }
  const bar = scaleBar(center.lat, v.z);
  const bx = 12;
  const by = o.height - 14;
  svg.append(el("g", { class: "scale", "aria-label": o.scaleLabel },
    el("line", { x1: bx, y1: by, x2: bx + bar.px, y2: by }),
    el("text", { x: bx, y: by - 6 }, bar.metres >= 1000 ? `${bar.metres / 1000} km` : `${bar.metres} m`)));
  return svg;
}
