// Dates as dd/mm/yyyy (Vietnam time for instants), distances and money the Vietnamese way.
import { getLang } from "./i18n";

const TZ = "Asia/Ho_Chi_Minh";

function parts(d: Date): Record<string, string> {
  try {
    const f = new Intl.DateTimeFormat("en-GB", { timeZone: TZ, day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    return Object.fromEntries(f.formatToParts(d).map((p) => [p.type, p.value]));
  } catch {
    const p = (n: number) => String(n).padStart(2, "0");
    return { day: p(d.getDate()), month: p(d.getMonth() + 1), year: String(d.getFullYear()), hour: p(d.getHours()), minute: p(d.getMinutes()) };
  }
}

/** `2026-11-25` (a calendar date) or an instant → `25/11/2026`. */
export function dmy(s: string | null | undefined): string {
  if (!s) return "";
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (m) return `${m[3]}/${m[2]}/${m[1]}`;
  const d = new Date(s);
  if (isNaN(d.getTime())) return s;
  const p = parts(d);
  return `${p.day}/${p.month}/${p.year}`;
}

/** An instant → `25/11/2026 14:05` (Vietnam time). */
export function dmyhm(s: string | null | undefined): string {
  if (!s) return "";
  const d = new Date(s);
  if (isNaN(d.getTime())) return s;
  const p = parts(d);
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
}

/** Today in Vietnam as `2026-11-25`. */
export function todayIso(): string {
  const p = parts(new Date());
  return `${p.year}-${p.month}-${p.day}`;
}

/** `25/11/2026` (or `25-11-2026`, `25.11.2026`) → `2026-11-25`; null when not a real date. */
export function parseDmy(s: string): string | null {
  const m = /^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$/.exec(s);
  if (!m) return null;
  const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return `${y}-${String(mo).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

export function distance(m: number | null | undefined): string {
  if (m === null || m === undefined) return "";
  const vi = getLang() === "vi";
  if (m < 1000) return `${Math.round(m)} m`;
  const km = (m / 1000).toFixed(m < 10000 ? 1 : 0);
  return `${vi ? km.replace(".", ",") : km} km`;
}

export function vnd(n: number): string {
  const s = Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, getLang() === "vi" ? "." : ",");
  return `${s} đ`;
}
