// The field app's screens: sign in, home (today's assignments, nearby establishments), the
// establishment card, the inspection form, review and submit, the outbox, settings. Routing by
// location.hash; every change goes through the core's commands (api.ts).
import { call, CommandError } from "./api";
import { clear, h } from "./dom";
import { distance, dmy, dmyhm, parseDmy, todayIso, vnd } from "./format";
import { getLang, label, setLang, t, type Key } from "./i18n";
import { drawMap, type MapPoint } from "./map";
import type {
  AnswerResult, AssignmentCard, Checklist, ChecklistItem, EstablishmentCard, EstablishmentSummary, GpsResult, OutboxItem,
  Outcome, PhotoItem, RosterMember, Settings, SignInResult, SignOutResult, Status, SyncReport, VisitDraft, ViolationInput,
} from "./types";

const app = document.getElementById("app") as HTMLElement;
const net = document.getElementById("net") as HTMLElement;
const outboxLink = document.getElementById("outbox-link") as HTMLAnchorElement;
const langButton = document.getElementById("lang") as HTMLButtonElement;

/** What a checklist item asks, in the interface's language (Vietnamese when not translated). */
function itemLabel(item: ChecklistItem): string {
  return getLang() === "en" && item.text_en ? item.text_en : item.text;
}

let status: Status | null = null;
let syncing = false;
let lastReport: SyncReport | null = null;
let here: { lat: number; lon: number; accuracy: number } | null = null;
/** Increases on every render: an answer for an older screen is dropped. */
let renderSeq = 0;
let shownKey = "";
/** Shown once on the sign-in screen after signing out. */
let signedOutNote: "signed_out" | "signed_out_offline" | null = null;

// ------------------------------------------------------------------------------------------------
// Status, connectivity indicator, sync
// ------------------------------------------------------------------------------------------------

function connectivity(): "online" | "offline" | "syncing" {
  if (syncing) return "syncing";
  if (!navigator.onLine) return "offline";
  if (status?.last_sync_error?.code === "offline") return "offline";
  return "online";
}

function updateBar(): void {
  const state = connectivity();
  net.dataset.state = state;
  net.textContent = t(state === "online" ? "net_online" : state === "offline" ? "net_offline" : "net_syncing");
  const pending = status?.pending ?? 0;
  outboxLink.textContent = pending > 0 ? `${t("outbox")} (${pending})` : t("outbox");
  outboxLink.hidden = !status?.signed_in;
  langButton.textContent = t("lang_switch");
  langButton.setAttribute("aria-label", t("lang_switch_label"));
  document.title = t("app_title");
}

async function refreshStatus(): Promise<Status | null> {
  try {
    status = await call<Status>("status");
  } catch {
    // Keep the last known status.
  }
  updateBar();
  return status;
}

/** Runs a sync (once at a time); refreshes the indicator and the outbox screen around it. */
async function syncNow(): Promise<SyncReport | null> {
  if (syncing) return null;
  syncing = true;
  updateBar();
  try {
    lastReport = await call<SyncReport>("sync_now");
  } catch (e) {
    const err = e as CommandError;
    lastReport = { ok: false, needs_sign_in: err.code === "needs_sign_in", error: { code: err.code, message: err.message }, visits_created: 0, visits_replayed: 0, photos_created: 0, photos_replayed: 0, conflicts: 0, failed: 0, pulled_assignments: 0, pulled_establishments: 0 };
  } finally {
    syncing = false;
  }
  await refreshStatus();
  if (route().name === "outbox") void render();
  return lastReport;
}

function errorText(e: unknown): string {
  if (e instanceof CommandError) {
    const key = `err_${e.code}` as Key;
    let text: string;
    try { text = t(key); } catch { text = e.message; }
    if (!text) text = e.message;
    if (e.code === "invalid" || e.code === "bad_command" || e.code === "server") text = e.message;
    return e.field ? `${text} (${t("error_field")}: ${e.field})` : text;
  }
  return e instanceof Error ? e.message : String(e);
}

function errorBox(e: unknown): HTMLElement {
  const field = e instanceof CommandError ? e.field ?? "" : "";
  return h("p", { class: "error", role: "alert", "data-field": field || null }, errorText(e));
}

// ------------------------------------------------------------------------------------------------
// Routing
// ------------------------------------------------------------------------------------------------

interface Route { name: string; id?: string }

function route(): Route {
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  return { name: parts[0] || "home", id: parts[1] };
}

function go(hash: string): void {
  if (location.hash === hash) void render();
  else location.hash = hash;
}

async function render(): Promise<void> {
  const seq = ++renderSeq;
  const r = route();
  if (!status) await refreshStatus();
  if (seq !== renderSeq) return;
  const needsSignIn = !status?.signed_in;
  const name = needsSignIn && r.name !== "settings" ? "signin" : r.name;
  let view: HTMLElement;
  try {
    switch (name) {
      case "signin": view = await signInView(); break;
      case "est": view = await establishmentView(r.id ?? ""); break;
      case "visit": view = await visitView(r.id ?? ""); break;
      case "review": view = await reviewView(r.id ?? ""); break;
      case "outbox": view = await outboxView(); break;
      case "settings": view = await settingsView(); break;
      case "map": view = await mapView(seq); break;
      default: view = await homeView(seq);
    }
  } catch (e) {
    view = h("section", { class: "screen" }, errorBox(e), h("a", { class: "button", href: "#/home" }, t("home")));
  }
  if (seq !== renderSeq) return;
  clear(app);
  app.append(view);
  app.dataset.screen = name;
  // A new screen starts at its top; the same screen drawn again keeps its place.
  const key = `${name}/${r.id ?? ""}`;
  if (key !== shownKey) window.scrollTo(0, 0);
  shownKey = key;
  updateBar();
}

// ------------------------------------------------------------------------------------------------
// Sign in and settings
// ------------------------------------------------------------------------------------------------

async function signInView(): Promise<HTMLElement> {
  const settings = await call<Settings>("settings_get");
  const msg = h("div", { class: "messages" });
  if (signedOutNote) {
    msg.append(h("p", { class: signedOutNote === "signed_out" ? "ok signed-out" : "warning signed-out" }, t(signedOutNote)));
    signedOutNote = null;
  } else if (status?.needs_sign_in) msg.append(h("p", { class: "warning" }, t("needs_sign_in")));
  const url = h("input", { name: "server_url", type: "url", inputmode: "url", autocomplete: "url", value: settings.server_url, placeholder: "https://…", required: true });
  const user = h("input", { name: "username", autocomplete: "username", autocapitalize: "none", required: true, value: status?.user?.username ?? "" });
  const pass = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const button = h("button", { type: "submit", class: "primary" }, t("sign_in"));
  const form = h("form", { class: "signin" },
    h("label", {}, t("username"), user),
    h("label", {}, t("password"), pass),
    h("details", { open: !settings.server_url || null }, h("summary", {}, t("server_settings")), h("label", {}, t("server_url"), url)),
    button,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    msg.querySelector(".error")?.remove();
    button.disabled = true;
    button.textContent = t("signing_in");
    try {
      const wanted = url.value.trim().replace(/\/+$/, "");
      if (wanted !== settings.server_url) await call<Settings>("settings_set", { server_url: wanted });
      await call<SignInResult>("sign_in", { username: user.value.trim(), password: pass.value });
      await refreshStatus();
      await syncNow();
      go("#/home");
    } catch (e) {
      msg.append(errorBox(e));
      button.disabled = false;
      button.textContent = t("sign_in");
    }
  });
  return h("section", { class: "screen" }, h("h1", {}, t("sign_in")), msg, form);
}

async function settingsView(): Promise<HTMLElement> {
  const s = await call<Settings>("settings_get");
  const url = h("input", { name: "server_url", type: "url", value: s.server_url });
  const radius = h("input", { name: "gps_warning_radius_m", type: "number", inputmode: "numeric", min: 10, max: 5000, value: s.gps_warning_radius_m });
  const tiles = h("input", { name: "map_tiles_url", type: "url", inputmode: "url", placeholder: "https://…/{z}/{x}/{y}.png", value: s.map_tiles_url ?? "" });
  const msg = h("div", { class: "messages" });
  const form = h("form", {},
    h("label", {}, t("server_url"), url),
    h("label", {}, t("gps_radius"), radius),
    h("label", {}, t("map_tiles_url"), tiles),
    h("button", { type: "submit", class: "primary" }, t("save")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clear(msg);
    try {
      await call<Settings>("settings_set", {
        server_url: url.value.trim().replace(/\/+$/, ""), gps_warning_radius_m: Number(radius.value), map_tiles_url: tiles.value.trim(),
      });
      msg.append(h("p", { class: "ok" }, t("saved")));
      await refreshStatus();
    } catch (e) {
      msg.append(errorBox(e));
    }
  });
  const who = status?.user ? h("p", { class: "muted" }, `${t("signed_in_as")} ${status.user.display_name} (${status.user.username})`) : null;
  return h("section", { class: "screen" }, h("h1", {}, t("settings")), who, msg, form, status?.signed_in ? signOutBox() : null);
}

/** Sign out: when visits still wait in the outbox, a warning and a second tap first. The core
 * never deletes the outbox; it goes after the same user signs in again. */
function signOutBox(): HTMLElement {
  const box = h("div", { class: "sign-out-box" });
  const doSignOut = async () => {
    clear(box);
    try {
      const r = await call<SignOutResult>("sign_out");
      await refreshStatus();
      signedOutNote = r.revoked_on_server ? "signed_out" : "signed_out_offline";
      go("#/signin");
    } catch (e) {
      box.append(errorBox(e));
    }
  };
  const first = h("button", { type: "button", class: "secondary sign-out" }, t("sign_out"));
  first.addEventListener("click", async () => {
    await refreshStatus();
    const waiting = status?.pending ?? 0;
    if (waiting === 0) { await doSignOut(); return; }
    clear(box);
    const confirm = h("button", { type: "button", class: "primary sign-out-confirm" }, t("sign_out_anyway"));
    confirm.addEventListener("click", () => void doSignOut());
    const cancel = h("button", { type: "button", class: "secondary sign-out-cancel" }, t("cancel"));
    cancel.addEventListener("click", () => void render());
    const sync = h("a", { class: "button secondary", href: "#/outbox" }, t("sync_now"));
    box.append(
      h("p", { class: "warning sign-out-warning", role: "alert" }, `${waiting} ${t("sign_out_warning")}`),
      confirm, h("div", { class: "row2" }, cancel, sync));
  });
  box.append(first);
  return box;
}

// ------------------------------------------------------------------------------------------------
// Home
// ------------------------------------------------------------------------------------------------

function estRow(e: EstablishmentSummary, visited = false): HTMLElement {
  return h("li", {},
    h("a", { class: "est", href: `#/est/${e.id}`, "data-id": e.id },
      h("span", { class: "est-name" }, e.name),
      h("span", { class: "est-address" }, e.address),
      h("span", { class: "est-meta" },
        label("type.", e.establishment_type),
        e.risk ? ` · ${t("risk")}: ${label("risk.", e.risk)}` : "",
        e.distance_m !== null && e.distance_m !== undefined ? h("span", { class: "distance" }, distance(e.distance_m)) : null,
        visited ? h("span", { class: "chip done" }, t("visited")) : null,
      ),
    ));
}

/** The device's position; `maximumAge` 0 asks for a fresh fix (what a visit records). */
function locate(maximumAge = 30000): Promise<GeolocationPosition> {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) { reject(new Error("no geolocation")); return; }
    navigator.geolocation.getCurrentPosition(resolve, reject, { enableHighAccuracy: true, timeout: 20000, maximumAge });
  });
}

async function homeView(seq: number): Promise<HTMLElement> {
  const search = h("input", { name: "q", type: "search", class: "search", placeholder: t("search"), "aria-label": t("search"), autocomplete: "off" });
  const nearbyList = h("ul", { class: "list nearby" });
  const note = h("p", { class: "muted location-note" });
  const assignments = await call<AssignmentCard[]>("assignments_today", {});
  const assignmentBox = h("div", { class: "assignments" });
  if (assignments.length === 0) assignmentBox.append(h("p", { class: "muted" }, t("no_assignments")));
  for (const a of assignments) {
    assignmentBox.append(h("article", { class: "card assignment", "data-id": a.id },
      h("h3", {}, label("kind.", a.kind)),
      a.note ? h("p", {}, a.note) : null,
      h("p", { class: "muted" }, `${t("window")}: ${dmy(a.window_start)} – ${dmy(a.window_end)}`),
      h("ul", { class: "list" }, a.establishments.map((e) => estRow(e, a.visited.includes(e.id)))),
    ));
  }
  let timer = 0;
  const load = async () => {
    try {
      const found = await call<EstablishmentSummary[]>("establishments_nearby", {
        query: search.value.trim() || null, lat: here?.lat ?? null, lon: here?.lon ?? null, limit: 30,
      });
      clear(nearbyList);
      if (found.length === 0) nearbyList.append(h("li", { class: "muted" }, t("no_results")));
      for (const e of found) nearbyList.append(estRow(e));
      note.textContent = here ? "" : t("no_location");
    } catch (e) {
      clear(nearbyList);
      nearbyList.append(h("li", {}, errorBox(e)));
    }
  };
  search.addEventListener("input", () => { window.clearTimeout(timer); timer = window.setTimeout(load, 250); });
  await load();
  if (!here) {
    locate().then((p) => {
      here = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy };
      if (seq === renderSeq) void load();
    }).catch(() => { /* no permission or no fix: the list stays unsorted by distance */ });
  }
  return h("section", { class: "screen home" },
    h("h1", {}, `${t("today")} ${dmy(todayIso())}`),
    h("h2", {}, t("assignments_today")), assignmentBox,
    h("h2", {}, t("nearby")), h("a", { class: "button secondary map-link", href: "#/map" }, t("map")), search, note, nearbyList,
    h("p", {}, h("a", { class: "button secondary", href: "#/settings" }, t("settings"))),
  );
}

// ------------------------------------------------------------------------------------------------
// Map
// ------------------------------------------------------------------------------------------------

/** Nearby establishments on a map drawn from the phone's store alone (tiles only when set). */
async function mapView(seq: number): Promise<HTMLElement> {
  const settings = await call<Settings>("settings_get");
  const box = h("div", { class: "map-box" });
  const list = h("ol", { class: "list map-list" });
  const note = h("p", { class: "muted map-note" });
  const draw = async () => {
    const found = await call<EstablishmentSummary[]>("establishments_nearby", { lat: here?.lat ?? null, lon: here?.lon ?? null, limit: here ? 15 : 50 });
    const points: MapPoint[] = found.filter((e) => e.lat !== null && e.lon !== null)
      .map((e) => ({ id: e.id, name: e.name, lat: e.lat as number, lon: e.lon as number }))
      .slice(0, 15);
    clear(box);
    clear(list);
    note.textContent = here ? "" : t("map_no_location");
    if (points.length === 0) { box.append(h("p", { class: "muted" }, t("map_none"))); return; }
    const center = here ?? {
      lat: points.reduce((a, p) => a + p.lat, 0) / points.length,
      lon: points.reduce((a, p) => a + p.lon, 0) / points.length,
    };
    box.append(drawMap(center, points, {
      width: 336, height: 400, tilesUrl: settings.map_tiles_url, here, youLabel: t("map_you"), scaleLabel: t("map_scale"),
    }));
    points.forEach((p) => {
      const e = found.find((x) => x.id === p.id);
      if (e) list.append(estRow(e));
    });
  };
  await draw();
  if (!here) {
    locate().then((p) => {
      here = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy };
      if (seq === renderSeq) void draw();
    }).catch(() => { /* no fix: the map stays centred on the establishments */ });
  }
  return h("section", { class: "screen map-screen" },
    h("a", { class: "back", href: "#/home" }, `‹ ${t("back")}`),
    h("h1", {}, t("map_title")), note, box, list);
}

// ------------------------------------------------------------------------------------------------
// Establishment card
// ------------------------------------------------------------------------------------------------

async function establishmentView(id: string): Promise<HTMLElement> {
  const card = await call<EstablishmentCard>("establishment", { id });
  const e = card.establishment;
  const msg = h("div", { class: "messages" });
  const start = h("button", { type: "button", class: "primary start-visit" }, t("start_visit"));
  start.addEventListener("click", async () => {
    start.disabled = true;
    try {
      const draft = await call<VisitDraft>("visit_start", { establishment_id: id, assignment_id: card.assignments[0] ?? null });
      go(`#/visit/${draft.id}`);
    } catch (err) {
      msg.append(errorBox(err));
      start.disabled = false;
    }
  });
  const drafts = card.local_visits;
  return h("section", { class: "screen establishment" },
    h("a", { class: "back", href: "#/home" }, `‹ ${t("back")}`),
    h("h1", {}, e.name),
    h("dl", { class: "facts" },
      h("dt", {}, t("address")), h("dd", {}, String(e.address ?? "")),
      h("dt", {}, t("type")), h("dd", {}, label("type.", String(e.establishment_type ?? ""))),
      h("dt", {}, t("risk")), h("dd", {}, label("risk.", String(e.risk ?? ""))),
      h("dt", {}, t("status")), h("dd", {}, label("est.", String(e.status ?? ""))),
      e.owner_name ? [h("dt", {}, t("owner")), h("dd", {}, String(e.owner_name))] : null,
    ),
    msg, start,
    h("h2", {}, t("team_visits")),
    card.team_visits.length === 0 ? h("p", { class: "muted" }, t("none")) : h("ul", { class: "list" }, card.team_visits.map((v) =>
      h("li", { class: "visit-row" }, `${dmy(v.started_at)} · ${label("", v.outcome as Key | null) || ""} · ${label("review.", v.review_status)}`, v.review_comment ? h("div", { class: "muted" }, v.review_comment) : null))),
    h("h2", {}, t("local_visits")),
    drafts.length === 0 ? h("p", { class: "muted" }, t("none")) : h("ul", { class: "list" }, drafts.map((v) =>
      h("li", {}, h("a", { class: "visit-row", href: v.status === "draft" ? `#/visit/${v.visit_id}` : `#/review/${v.visit_id}` },
        `${dmyhm(v.submitted_at ?? v.created_at)} · `, h("span", { class: `chip ${v.status}` }, label("st_", v.status)))))),
  );
}

// ------------------------------------------------------------------------------------------------
// Inspection form
// ------------------------------------------------------------------------------------------------

/** Mutating commands go one at a time (the core reads and writes the draft per call). */
let chain: Promise<unknown> = Promise.resolve();
function serial<T>(f: () => Promise<T>): Promise<T> {
  const p = chain.then(f, f);
  chain = p.catch(() => undefined);
  return p;
}

function base64Of(buf: ArrayBuffer): string {
  const bytes = new Uint8Array(buf);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function gpsText(d: { gps: VisitDraft["gps"]; distance_m: number | null }, r: GpsResult | null, warning: string | null): HTMLElement {
  const box = h("div", { class: "gps-result" });
  if (!d.gps) { box.append(h("p", { class: "muted" }, t("gps_none"))); return box; }
  box.append(h("p", {}, `${d.gps.lat.toFixed(6)}, ${d.gps.lon.toFixed(6)} · ${t("accuracy")} ±${Math.round(d.gps.accuracy_m)} m`));
  if (d.distance_m !== null) box.append(h("p", { class: "gps-distance" }, `${t("distance")}: ${distance(d.distance_m)}`));
  if (warning) {
    const text = d.distance_m === null ? t("gps_no_est_location") : `${t("gps_far")} ${r ? Math.round(r.radius_m) + " m" : ""}`;
    box.append(h("p", { class: "gps-warning warning", role: "alert" }, text));
  }
  return box;
}

async function visitView(id: string): Promise<HTMLElement> {
  const d = await call<VisitDraft>("visit_get", { id });
  if (d.status !== "draft") { go(`#/review/${id}`); return h("section"); }
  const [checklist, card] = await Promise.all([
    call<Checklist>("checklist", { id: d.establishment_id }),
    call<EstablishmentCard>("establishment", { id: d.establishment_id }),
  ]);
  const saveMsg = h("p", { class: "save-state muted", "aria-live": "polite" });
  let saveTimer = 0;

  const update = (): Record<string, unknown> => {
    const clearList: string[] = [];
    const u: Record<string, unknown> = { id, answers: d.answers, violations: d.violations, members_present: d.members_present };
    for (const k of ["minutes_no", "notes", "follow_up_on", "outcome"] as const) {
      const v = d[k];
      if (v === null || v === "") clearList.push(k); else u[k] = v;
    }
    u.clear = clearList;
    return u;
  };
  const save = (): Promise<void> => serial(async () => {
    window.clearTimeout(saveTimer);
    try {
      await call<VisitDraft>("visit_update", update());
      saveMsg.textContent = t("saved");
      saveMsg.className = "save-state muted";
    } catch (e) {
      saveMsg.textContent = errorText(e);
      saveMsg.className = "save-state error";
      throw e;
    }
  });
  const later = () => { window.clearTimeout(saveTimer); saveTimer = window.setTimeout(() => { void save().catch(() => undefined); }, 400); };

  // Checklist answers.
  const items = h("ol", { class: "checklist" });
  const violationsBox = h("div", { class: "violations" });
  const outcomeSel = h("select", { name: "outcome" },
    h("option", { value: "" }, t("choose")),
    (["no_violation", "violations_found", "not_operating", "refused"] as Outcome[]).map((o) => h("option", { value: o, selected: d.outcome === o || null }, t(o))));
  const addViolation = (v: ViolationInput) => {
    d.violations.push(v);
    if (!d.outcome || d.outcome === "no_violation") { d.outcome = "violations_found"; outcomeSel.value = "violations_found"; }
    drawViolations();
    later();
  };
  for (const item of checklist.items) {
    const current = () => d.answers.find((a) => a.item === item.code)?.result;
    const buttons = (["pass", "fail", "not_applicable"] as AnswerResult[]).map((r) =>
      h("button", { type: "button", class: "answer", "data-result": r, "aria-pressed": String(current() === r) }, t(r)));
    const violationButton = item.violation_code ? h("button", { type: "button", class: "secondary add-item-violation", hidden: current() !== "fail" || null }, `+ ${t("add_violation_for_item")}`) : null;
    violationButton?.addEventListener("click", () => addViolation({
      code: item.violation_code ?? "", description: item.text, legal_basis: item.sanction_ref ?? item.legal_basis ?? "", proposed_fine_vnd: 0,
    }));
    for (const b of buttons) {
      b.addEventListener("click", () => {
        const result = b.dataset.result as AnswerResult;
        const existing = d.answers.find((a) => a.item === item.code);
        if (existing) existing.result = result; else d.answers.push({ item: item.code, result });
        for (const o of buttons) o.setAttribute("aria-pressed", String(o === b));
        if (violationButton) violationButton.hidden = result !== "fail";
        later();
      });
    }
    items.append(h("li", { class: "item", "data-code": item.code },
      h("p", { class: "item-text" }, itemLabel(item)),
      item.legal_basis ? h("p", { class: "muted small" }, `${t("legal_basis")}: ${item.legal_basis}`) : null,
      h("div", { class: "answers", role: "group" }, buttons),
      violationButton));
  }

  // Violations.
  function drawViolations(): void {
    clear(violationsBox);
    d.violations.forEach((v, i) => {
      const field = (key: keyof ViolationInput, labelKey: Key, attrs: Record<string, string | number> = {}) => {
        const input = key === "description"
          ? h("textarea", { name: `violations[${i}].${key}`, rows: 2 })
          : h("input", { name: `violations[${i}].${key}`, ...attrs });
        input.value = String(v[key] ?? "");
        input.addEventListener("input", () => {
          if (key === "proposed_fine_vnd") v.proposed_fine_vnd = Number(input.value.replace(/[^\d]/g, "")) || 0;
          else (v[key] as string) = input.value;
          later();
        });
        return h("label", {}, t(labelKey), input);
      };
      const remove = h("button", { type: "button", class: "secondary" }, t("remove"));
      remove.addEventListener("click", () => { d.violations.splice(i, 1); drawViolations(); later(); });
      violationsBox.append(h("fieldset", { class: "violation" },
        h("legend", {}, `${t("violations")} ${i + 1}`),
        field("code", "violation_code", { autocapitalize: "characters" }),
        field("description", "description"),
        field("legal_basis", "legal_basis"),
        field("proposed_fine_vnd", "proposed_fine", { inputmode: "numeric" }),
        remove));
    });
  }
  drawViolations();
  const addBlank = h("button", { type: "button", class: "secondary add-violation" }, `+ ${t("add_violation")}`);
  addBlank.addEventListener("click", () => addViolation({ code: "", description: "", legal_basis: "", proposed_fine_vnd: 0 }));

  // Members present: the team's roster from the last sync (the signed-in user preselected when
  // the visit started); anybody already on the draft stays listed.
  const me = status?.user;
  const roster = await call<RosterMember[]>("team_roster", { team_id: d.team_id }).catch(() => [] as RosterMember[]);
  const people = new Map<string, { name: string; detail: string }>();
  for (const m of roster) {
    people.set(m.user_id, { name: m.display_name, detail: [label("role.", m.role), m.agency_name].filter(Boolean).join(" · ") });
  }
  if (me && !people.has(me.id)) people.set(me.id, { name: me.display_name, detail: "" });
  for (const mid of d.members_present) if (!people.has(mid)) people.set(mid, { name: mid.slice(0, 8), detail: "" });
  // The signed-in user first, then the roster's order (by name).
  const memberIds = Array.from(people.keys()).sort((a, b) => Number(b === me?.id) - Number(a === me?.id));
  const members = h("div", { class: "members" }, memberIds.map((mid) => {
    const box = h("input", { type: "checkbox", name: "member", value: mid, checked: d.members_present.includes(mid) });
    box.addEventListener("change", () => {
      d.members_present = memberIds.filter((x) => (members.querySelector(`input[value="${x}"]`) as HTMLInputElement).checked);
      later();
    });
    const p = people.get(mid);
    const name = me && mid === me.id ? `${p?.name ?? me.display_name} ${t("you")}` : p?.name ?? mid;
    return h("label", { class: "check", "data-user": mid }, box, h("span", {}, h("span", { class: "member-name" }, name), p?.detail ? h("span", { class: "muted small member-detail" }, p.detail) : null));
  }));
  const rosterNote = roster.length === 0 ? h("p", { class: "muted small" }, t("roster_empty")) : null;

  // Text fields.
  const text = (key: "minutes_no" | "notes", area = false) => {
    const input = area ? h("textarea", { name: key, rows: 3 }) : h("input", { name: key, autocomplete: "off" });
    input.value = d[key] ?? "";
    input.addEventListener("input", () => { d[key] = input.value.trim() || null; later(); });
    return input;
  };
  outcomeSel.addEventListener("change", () => { d.outcome = (outcomeSel.value || null) as Outcome | null; later(); });
  const followUp = h("input", { name: "follow_up_on", inputmode: "numeric", placeholder: "dd/mm/yyyy", value: dmy(d.follow_up_on) });
  const followUpMsg = h("span", { class: "field-error" });
  followUp.addEventListener("input", () => {
    const v = followUp.value.trim();
    const iso = v ? parseDmy(v) : null;
    followUpMsg.textContent = v && !iso ? t("bad_date") : "";
    if (!v || iso) { d.follow_up_on = iso; later(); }
  });

  // GPS.
  let gpsResult: GpsResult | null = null;
  const gpsBox = h("div", {}, gpsText(d, null, d.gps_warning));
  const gpsButton = h("button", { type: "button", class: "secondary gps-capture" }, t("gps_capture"));
  gpsButton.addEventListener("click", async () => {
    gpsButton.disabled = true;
    gpsButton.textContent = t("gps_capturing");
    try {
      const p = await locate(0);
      gpsResult = await serial(() => call<GpsResult>("visit_gps", { id, lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: Math.max(p.coords.accuracy, 0.1) }));
      d.gps = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: p.coords.accuracy };
      d.distance_m = gpsResult.distance_m;
      d.gps_warning = gpsResult.warning;
      clear(gpsBox);
      gpsBox.append(gpsText(d, gpsResult, gpsResult.warning));
    } catch (e) {
      clear(gpsBox);
      gpsBox.append(e instanceof CommandError ? errorBox(e) : h("p", { class: "error" }, t("gps_denied") + (e as GeolocationPositionError).message));
    } finally {
      gpsButton.disabled = false;
      gpsButton.textContent = t("gps_capture");
    }
  });

  // Photos: camera and gallery.
  const photoCount = h("p", { class: "photo-count" }, `${t("photos")}: ${d.photo_ids.length}`);
  const thumbs = h("div", { class: "thumbs" });
  const photoMsg = h("div", { class: "messages" });
  const onFiles = async (input: HTMLInputElement) => {
    const files = Array.from(input.files ?? []);
    input.value = "";
    for (const f of files) {
      clear(photoMsg);
      photoMsg.append(h("p", { class: "muted" }, t("photo_saving")));
      try {
        const data = base64Of(await f.arrayBuffer());
        const item = await serial(() => call<PhotoItem>("photo_capture", { visit_id: id, data_base64: data, taken_at: new Date(Math.min(f.lastModified || Date.now(), Date.now())).toISOString() }));
        d.photo_ids.push(item.id);
        photoCount.textContent = `${t("photos")}: ${d.photo_ids.length}`;
        thumbs.append(h("img", { src: URL.createObjectURL(f), alt: f.name, class: "thumb", "data-id": item.id }));
        clear(photoMsg);
      } catch (e) {
        clear(photoMsg);
        photoMsg.append(errorBox(e));
      }
    }
  };
  const camera = h("input", { type: "file", accept: "image/*", capture: "environment", name: "camera", class: "file" });
  const gallery = h("input", { type: "file", accept: "image/*", multiple: true, name: "gallery", class: "file" });
  camera.addEventListener("change", () => void onFiles(camera));
  gallery.addEventListener("change", () => void onFiles(gallery));

  const review = h("button", { type: "button", class: "primary to-review" }, t("review"));
  const reviewMsg = h("div", { class: "messages" });
  review.addEventListener("click", async () => {
    clear(reviewMsg);
    if (followUpMsg.textContent) { reviewMsg.append(h("p", { class: "error" }, t("bad_date"))); return; }
    try { await save(); go(`#/review/${id}`); } catch (e) { reviewMsg.append(errorBox(e)); }
  });

  return h("section", { class: "screen visit" },
    h("a", { class: "back", href: `#/est/${d.establishment_id}` }, `‹ ${t("back")}`),
    h("h1", {}, card.establishment.name),
    h("p", { class: "muted" }, `${checklist.title} · v${checklist.version} · ${dmyhm(d.started_at)}`),
    h("h2", {}, t("checklist")), items,
    h("h2", {}, t("violations")), violationsBox, addBlank,
    h("h2", {}, t("members_present")), rosterNote, members,
    h("h2", {}, t("gps")), gpsBox, gpsButton,
    h("h2", {}, t("photos")), photoCount, thumbs, photoMsg,
    h("div", { class: "photo-buttons" },
      h("label", { class: "button secondary file-button" }, t("take_photo"), camera),
      h("label", { class: "button secondary file-button" }, t("from_gallery"), gallery)),
    h("label", {}, t("minutes_no"), text("minutes_no")),
    h("label", {}, t("outcome"), outcomeSel),
    h("label", {}, t("notes"), text("notes", true)),
    h("label", {}, t("follow_up_on"), followUp, followUpMsg),
    saveMsg, reviewMsg, review,
  );
}

// ------------------------------------------------------------------------------------------------
// Review and submit
// ------------------------------------------------------------------------------------------------

async function reviewView(id: string): Promise<HTMLElement> {
  const d = await call<VisitDraft>("visit_get", { id });
  const [checklist, card] = await Promise.all([
    call<Checklist>("checklist", { id: d.establishment_id }).catch(() => null),
    call<EstablishmentCard>("establishment", { id: d.establishment_id }),
  ]);
  const count = (r: AnswerResult) => d.answers.filter((a) => a.result === r).length;
  const itemText = (code: string) => {
    const item = checklist?.items.find((i) => i.code === code);
    return item ? itemLabel(item) : code;
  };
  const msg = h("div", { class: "messages" });
  const editable = d.status === "draft";
  const submit = h("button", { type: "button", class: "primary submit" }, t("submit"));
  submit.addEventListener("click", async () => {
    submit.disabled = true;
    clear(msg);
    try {
      await call<OutboxItem>("visit_submit", { id });
      await refreshStatus();
      go("#/outbox");
      void syncNow();
    } catch (e) {
      msg.append(errorBox(e));
      submit.disabled = false;
    }
  });
  const row = (k: Key, v: string | Node | null) => [h("dt", {}, t(k)), h("dd", {}, v ?? "—")];
  return h("section", { class: "screen review" },
    h("a", { class: "back", href: editable ? `#/visit/${id}` : "#/outbox" }, `‹ ${editable ? t("edit") : t("back")}`),
    h("h1", {}, t("review_title")),
    h("dl", { class: "facts" },
      row("establishment", card.establishment.name),
      row("answers", `${t("pass")} ${count("pass")} · ${t("fail")} ${count("fail")} · ${t("not_applicable")} ${count("not_applicable")}`),
      row("outcome", d.outcome ? t(d.outcome) : null),
      row("minutes_no", d.minutes_no),
      row("members_present", String(d.members_present.length)),
      row("gps", d.gps ? `±${Math.round(d.gps.accuracy_m)} m${d.distance_m !== null ? ` · ${distance(d.distance_m)}` : ""}` : null),
      row("photos", String(d.photo_ids.length)),
      row("notes", d.notes),
      row("follow_up_short", d.follow_up_on ? dmy(d.follow_up_on) : null),
    ),
    d.gps_warning ? h("p", { class: "warning gps-warning" }, d.distance_m === null ? t("gps_no_est_location") : `${t("gps_far")} (${distance(d.distance_m)})`) : null,
    d.answers.some((a) => a.result === "fail") ? h("ul", { class: "list failed-items" }, d.answers.filter((a) => a.result === "fail").map((a) => h("li", {}, `✗ ${itemText(a.item)}`))) : null,
    d.violations.length ? h("ul", { class: "list violations-summary" }, d.violations.map((v) => h("li", {},
      h("strong", {}, v.code), ` — ${v.description}`, h("div", { class: "muted small" }, `${t("legal_basis")}: ${v.legal_basis}`), h("div", {}, `${t("proposed_fine")}: ${vnd(v.proposed_fine_vnd)}`)))) : null,
    msg,
    editable ? submit : h("p", {}, h("span", { class: `chip ${d.status}` }, label("st_", d.status))),
  );
}

// ------------------------------------------------------------------------------------------------
// Outbox
// ------------------------------------------------------------------------------------------------

async function outboxView(): Promise<HTMLElement> {
  const items = await call<OutboxItem[]>("outbox");
  const mine = status?.user ? items.filter((i) => i.owner_user_id === status?.user?.id) : items;
  const button = h("button", { type: "button", class: "primary sync", disabled: syncing || null }, syncing ? t("net_syncing") : t("sync_now"));
  button.addEventListener("click", () => { void syncNow(); void render(); });
  const report = lastReport
    ? lastReport.ok
      ? h("p", { class: "ok sync-report" }, t("sync_ok"))
      : h("p", { class: "error sync-report" }, t("sync_failed") + (lastReport.error ? errorText(new CommandError(lastReport.error)) : ""))
    : null;
  const list = h("ul", { class: "list outbox" }, mine.map((i) => {
    const up = i.photos.filter((p) => p.status === "done").length;
    return h("li", { class: "outbox-item", "data-id": i.visit_id, "data-status": i.status },
      h("a", { href: `#/review/${i.visit_id}` }, h("span", { class: "est-name" }, i.establishment_name ?? i.establishment_id)),
      h("span", { class: `chip status ${i.status}` }, label("st_", i.status)),
      h("span", { class: "muted small" }, `${t("submitted_at")}: ${dmyhm(i.submitted_at)}`),
      i.acknowledged_at ? h("span", { class: "muted small" }, `${t("acknowledged_at")}: ${dmyhm(i.acknowledged_at)}`) : null,
      i.photos.length ? h("span", { class: "small photos-progress" }, `${up}/${i.photos.length} ${t("photos_uploaded")}`) : null,
      i.last_error ? h("span", { class: "error small" }, i.last_error) : null,
    );
  }));
  return h("section", { class: "screen outbox-screen" },
    h("h1", {}, t("outbox")),
    h("p", { class: "muted" }, `${t("last_sync")}: ${status?.last_sync_at ? dmyhm(status.last_sync_at) : t("never")}`),
    report, button,
    mine.length ? list : h("p", { class: "muted" }, t("outbox_empty")),
  );
}

// ------------------------------------------------------------------------------------------------
// Start
// ------------------------------------------------------------------------------------------------

langButton.addEventListener("click", () => {
  setLang(getLang() === "vi" ? "en" : "vi");
  updateBar();
  void render();
});
window.addEventListener("hashchange", () => void render());
window.addEventListener("online", () => { updateBar(); if ((status?.pending ?? 0) > 0) void syncNow(); });
window.addEventListener("offline", updateBar);
// Status every 15 s; a background sync every 2 minutes while something waits to be sent.
let lastAutoSync = Date.now();
window.setInterval(async () => {
  if (syncing) return;
  await refreshStatus();
  if (status?.signed_in && status.pending > 0 && navigator.onLine && Date.now() - lastAutoSync > 120_000) {
    lastAutoSync = Date.now();
    void syncNow();
  }
}, 15000);
setLang(getLang());
updateBar();
void render();
