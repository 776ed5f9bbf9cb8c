// The field app's UI on a phone screen, against the real server and the real core through the
// development bridge (field-bridge): sign in, go offline, record a visit (checklist answer,
// violation, members, minutes number, GPS, a photo), submit into the outbox, come back online,
// sync, and check through the API that the server holds the visit once, with its photo.
//
// Environment: FIELD_BRIDGE_BIN (default: $CARGO_TARGET_DIR/debug/field-bridge, built with
// `cargo build -p doi178-field --features bridge --bin field-bridge` when missing); the UI is
// built (`npm ci && npm run build` in field-app/ui) when field-app/ui/dist is missing or older
// than its sources.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir, homedir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { startServer, launchBrowser, newPage, assertNoProblems, screenshot, apiToken, apiGet, PHONE, PASSWORD } from "./harness.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const UI_DIR = join(ROOT, "field-app", "ui");
const DIST = join(UI_DIR, "dist");
const targetDir = process.env.CARGO_TARGET_DIR || join(homedir(), ".cache", "doi178", "target");
const BRIDGE_BIN = process.env.FIELD_BRIDGE_BIN || join(targetDir, "debug", "field-bridge");

let server, browser, bridge, leaderToken, inspectorToken, est, assignmentId;

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: ["ignore", "inherit", "inherit"], env: process.env });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status ?? r.signal})`);
}

/** Starts field-bridge on a fresh data directory; resolves to { url, stop, control(name) }. */
async function startBridge(serverUrl, { testControls = true } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "doi178-field-"));
  const args = ["--data-dir", dataDir, "--port", "0", "--ui", DIST, "--server-url", serverUrl];
  if (testControls) args.push("--test-controls");
  const child = spawn(BRIDGE_BIN, args, {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stderr.on("data", (d) => { log += d; });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`field-bridge did not start in 30 s:\n${log}`)), 30_000);
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`field-bridge exited (${code}):\n${log}`)); });
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = line.match(/field-bridge listening on (\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
  });
  child.removeAllListeners("exit");
  return {
    url,
    async control(name) {
      const r = await fetch(`${url}/test/${name}`, { method: "POST" });
      assert.equal(r.status, 200, `POST /test/${name}`);
      return r.json();
    },
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => { if (child.exitCode !== null || child.signalCode !== null) r(); else child.on("exit", r); });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function api(method, path, token, body) {
  const r = await fetch(`${server.url}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

function vietnamToday() {
  const p = Object.fromEntries(new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Ho_Chi_Minh", year: "numeric", month: "2-digit", day: "2-digit" })
    .formatToParts(new Date()).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
}

/** Strips Vietnamese diacritics (đ too): what an inspector types on a keyboard without them. */
function plain(s) {
  return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D");
}

/** dist/ is missing, or older than a source file. */
function uiStale() {
  const built = join(DIST, "app.js");
  if (!existsSync(join(DIST, "index.html")) || !existsSync(built)) return true;
  const at = statSync(built).mtimeMs;
  const src = join(UI_DIR, "src");
  return readdirSync(src).some((f) => statSync(join(src, f)).mtimeMs > at);
}

before(async () => {
  if (!existsSync(join(UI_DIR, "node_modules", ".bin", "esbuild"))) run("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], UI_DIR);
  if (uiStale()) run("npm", ["run", "build"], UI_DIR);
  if (!existsSync(BRIDGE_BIN)) run("cargo", ["build", "-p", "doi178-field", "--features", "bridge", "--bin", "field-bridge"], ROOT);
  server = await startServer();
  inspectorToken = await apiToken(server, "kiemtra.hue");
  leaderToken = await apiToken(server, "doitruong.hue");
  // An operating establishment with a known location and a checklist, in the inspector's feed.
  const types = new Set();
  const establishments = [];
  let cursor = "0";
  for (let i = 0; i < 200; i++) {
    const page = await apiGet(server, inspectorToken, `/api/v1/sync?cursor=${cursor}`);
    for (const t of page.templates) types.add(t.establishment_type);
    establishments.push(...page.establishments);
    cursor = page.cursor;
    if (!page.has_more) break;
  }
  est = establishments.find((e) => e.location && e.status === "operating" && types.has(e.establishment_type) && /[^\x00-\x7f]/.test(e.name));
  assert.ok(est, "the demo data has an operating establishment with a location and a checklist");
  // The leader releases an assignment for today with it.
  const me = await apiGet(server, inspectorToken, "/api/v1/me");
  const today = vietnamToday();
  const a = await api("POST", "/api/v1/assignments", leaderToken, {
    team_id: me.teams[0].team_id, kind: "unannounced", window_start: today, window_end: today,
    establishment_ids: [est.id], note: "Kiểm tra đột xuất (thử nghiệm ứng dụng)",
  });
  assignmentId = a.id;
  await api("POST", `/api/v1/assignments/${assignmentId}/release`, leaderToken);
  bridge = await startBridge(server.url);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await bridge?.stop();
  await server?.stop();
});

/** A real JPEG, drawn and encoded by the browser itself. */
async function makeJpeg(page) {
  const b64 = await page.evaluate(() => {
    const c = document.createElement("canvas");
    c.width = 640; c.height = 480;
    const g = c.getContext("2d");
    g.fillStyle = "#4a6"; g.fillRect(0, 0, 640, 480);
    g.fillStyle = "#fff"; g.font = "48px sans-serif"; g.fillText("Biển hiệu cơ sở", 40, 240);
    return c.toDataURL("image/jpeg", 0.85).split(",")[1];
  });
  const buf = Buffer.from(b64, "base64");
  assert.equal(buf[0], 0xff);
  assert.equal(buf[1], 0xd8);
  return buf;
}

test("an inspector records a visit offline on a phone, and it reaches the server once, with its photo, after a sync", async () => {
  // Standing about 20 m from the establishment.
  const geolocation = { latitude: est.location.lat + 0.00018, longitude: est.location.lon, accuracy: 12 };
  const page = await newPage(browser, { url: bridge.url }, { ...PHONE, geolocation, permissions: ["geolocation"] });
  const net = page.locator("#net");

  // Sign in (the server address is already in the settings, shown under "server settings").
  await page.goto("/");
  await page.waitForSelector('[data-screen="signin"]');
  assert.equal(await page.locator("h1").textContent(), "Đăng nhập");
  assert.equal(await page.getAttribute("html", "lang"), "vi");
  await screenshot(page, "field-01-sign-in");
  // A wrong password is refused with a clear message.
  await page.fill('input[name="username"]', "kiemtra.hue");
  await page.fill('input[name="password"]', "wrong-password");
  await page.click('button[type="submit"]');
  await page.waitForSelector("p.error");
  assert.match(await page.locator("p.error").textContent(), /Sai tên đăng nhập hoặc mật khẩu/);
  await page.fill('input[name="password"]', PASSWORD);
  await page.click('button[type="submit"]');
  await page.waitForSelector('[data-screen="home"]', { timeout: 60_000 });
  assert.equal(await net.getAttribute("data-state"), "online");
  assert.equal(await net.textContent(), "Trực tuyến");

  // Home: today's assignment lists the establishment; nearby ones carry a distance.
  const assignment = page.locator(`.assignment[data-id="${assignmentId}"]`);
  await assignment.waitFor();
  assert.match(await assignment.textContent(), new RegExp(`Thời hạn: \\d{2}/\\d{2}/\\d{4}`));
  assert.equal(await assignment.locator(`a.est[data-id="${est.id}"]`).count(), 1);
  await page.locator(".nearby a.est .distance").first().waitFor();
  await screenshot(page, "field-02-home");
  // Search without diacritics finds the establishment by its Vietnamese name.
  const folded = plain(est.name);
  assert.notEqual(folded, est.name);
  await page.fill('input[name="q"]', folded);
  await page.waitForFunction(([id]) => {
    const first = document.querySelector(".nearby a.est");
    return first && first.getAttribute("data-id") === id;
  }, [est.id]);
  await screenshot(page, "field-03-search");
  // Touch targets: every button and link in the list is at least 48 px high.
  const small = await page.evaluate(() => Array.from(document.querySelectorAll("main button, main a.est, main input, header button"))
    .filter((e) => e.getBoundingClientRect().height > 0 && e.getBoundingClientRect().height < 48)
    .map((e) => `${e.tagName}.${e.className}`));
  assert.deepEqual(small, [], "touch targets under 48 px");

  // The server goes out of reach.
  await bridge.control("offline");

  // Establishment card, then the inspection form.
  await page.click(`.nearby a.est[data-id="${est.id}"]`);
  await page.waitForSelector('[data-screen="est"]');
  assert.equal(await page.locator("h1").textContent(), est.name);
  await screenshot(page, "field-04-establishment");
  await page.click("button.start-visit");
  await page.waitForSelector('[data-screen="visit"]');
  const visitId = page.url().split("#/visit/")[1];
  assert.match(visitId, /^[0-9a-f-]{36}$/);

  // One checklist answer: the first item fails.
  const firstItem = page.locator(".checklist .item").first();
  await firstItem.locator('button[data-result="fail"]').click();
  assert.equal(await firstItem.locator('button[data-result="fail"]').getAttribute("aria-pressed"), "true");
  // A violation with its legal basis and the proposed fine.
  await page.click("button.add-violation");
  await page.fill('input[name="violations[0].code"]', "ND282_D23_K2_A");
  await page.fill('textarea[name="violations[0].description"]', "Không niêm yết giá dịch vụ karaoke");
  await page.fill('input[name="violations[0].legal_basis"]', "Điểm a khoản 2 Điều 23 Nghị định 282/2025/NĐ-CP");
  await page.fill('input[name="violations[0].proposed_fine_vnd"]', "5000000");
  assert.equal(await page.inputValue('select[name="outcome"]'), "violations_found", "a violation sets the outcome");
  // Members present: the inspector, checked by default.
  assert.equal(await page.locator('.members input[type="checkbox"]').first().isChecked(), true);
  await page.fill('input[name="minutes_no"]', "BB-17/2026");
  await page.fill('textarea[name="notes"]', "Chủ cơ sở có mặt, ký biên bản.");
  // A follow-up date in dd/mm/yyyy: a wrong one is refused on the spot.
  await page.fill('input[name="follow_up_on"]', "31/02/2026");
  assert.match(await page.locator(".field-error").textContent(), /dd\/mm\/yyyy/);
  const [y, m, d] = vietnamToday().split("-");
  await page.fill('input[name="follow_up_on"]', `${d}/${m}/${y}`);
  assert.equal(await page.locator(".field-error").textContent(), "");
  // GPS: a fix about 1.1 km away is recorded with the distance warning…
  await page.context().setGeolocation({ ...geolocation, latitude: est.location.lat + 0.01 });
  await page.click("button.gps-capture");
  await page.waitForSelector(".gps-warning");
  assert.match(await page.locator(".gps-warning").textContent(), /Cảnh báo: vị trí cách cơ sở xa hơn 100 m/);
  assert.match(await page.locator(".gps-distance").textContent(), /1,1 km/);
  // …and a fix on site (about 20 m) replaces it, with its accuracy, and no warning.
  await page.context().setGeolocation(geolocation);
  await page.click("button.gps-capture");
  await page.waitForFunction(() => !document.querySelector(".gps-warning"));
  await page.waitForSelector(".gps-distance");
  assert.match(await page.locator(".gps-result").textContent(), /±12 m/);
  const dist = Number((await page.locator(".gps-distance").textContent()).match(/(\d+) m/)[1]);
  assert.ok(dist >= 10 && dist <= 30, `distance ${dist} m`);
  assert.equal(await page.locator(".gps-warning").count(), 0);
  // One photo from the camera input.
  const jpeg = await makeJpeg(page);
  await page.setInputFiles('input[name="camera"]', { name: "bien-hieu.jpg", mimeType: "image/jpeg", buffer: jpeg });
  await page.waitForFunction(() => document.querySelector(".photo-count")?.textContent === "Ảnh: 1");
  assert.equal(await page.locator('input[name="camera"]').getAttribute("capture"), "environment");
  assert.equal(await page.locator('input[name="gallery"]').getAttribute("accept"), "image/*");
  await screenshot(page, "field-05-visit-form", { fullPage: true });

  // Review and submit.
  await page.click("button.to-review");
  await page.waitForSelector('[data-screen="review"]');
  const review = await page.locator("main").textContent();
  assert.match(review, /BB-17\/2026/);
  assert.match(review, /5\.000\.000 đ/);
  assert.match(review, /Điều 23 Nghị định 282\/2025/);
  assert.match(review, new RegExp(`${d}/${m}/${y}`));
  await screenshot(page, "field-06-review", { fullPage: true });
  await page.click("button.submit");
  await page.waitForSelector('[data-screen="outbox"]');
  // The automatic sync after submitting cannot reach the server: queued, and "offline" shown.
  await page.waitForFunction(() => document.querySelector("#net")?.dataset.state === "offline", null, { timeout: 30_000 });
  assert.equal(await net.textContent(), "Ngoại tuyến");
  // The list is drawn again once the attempt is over: queued again (it was "sending" meanwhile).
  const item = page.locator(`.outbox-item[data-id="${visitId}"][data-status="queued"]`);
  await item.waitFor();
  assert.match(await item.textContent(), /Chờ gửi/);
  assert.match(await item.textContent(), /0\/1 ảnh đã gửi/);
  await screenshot(page, "field-07-outbox-offline");
  // Nothing reached the server meanwhile.
  const missing = await fetch(`${server.url}/api/v1/visits/${visitId}`, { headers: { authorization: `Bearer ${inspectorToken}` } });
  assert.equal(missing.status, 404);

  // Back online: sync from the outbox.
  await bridge.control("online");
  await page.click("button.sync");
  await page.waitForSelector(`.outbox-item[data-id="${visitId}"][data-status="done"]`, { timeout: 60_000 });
  await page.waitForFunction(() => document.querySelector("#net")?.dataset.state === "online");
  const done = await page.locator(`.outbox-item[data-id="${visitId}"]`).textContent();
  assert.match(done, /Đã gửi xong/);
  assert.match(done, /1\/1 ảnh đã gửi/);
  assert.match(await page.locator(".sync-report").textContent(), /Đồng bộ xong/);
  await screenshot(page, "field-08-outbox-done");

  // The server has the visit exactly once, with its photo stored.
  const token = await apiToken(server, "kiemtra.hue");
  const visit = await apiGet(server, token, `/api/v1/visits/${visitId}`);
  assert.equal(visit.establishment_id, est.id);
  assert.equal(visit.minutes_no, "BB-17/2026");
  assert.equal(visit.outcome, "violations_found");
  assert.equal(visit.violations.length, 1);
  assert.equal(visit.violations[0].proposed_fine_vnd, 5_000_000);
  assert.equal(visit.answers.length, 1);
  assert.equal(visit.answers[0].result, "fail");
  assert.equal(visit.photo_ids.length, 1);
  assert.equal(visit.evidence_pending, false);
  assert.deepEqual(visit.pending_photo_ids, []);
  assert.ok(visit.gps && Math.abs(visit.gps.lat - geolocation.latitude) < 1e-9, "the GPS fix is on the visit");
  const list = await apiGet(server, token, `/api/v1/visits?establishment=${est.id}&limit=100`);
  assert.equal(list.items.filter((v) => v.id === visitId || v.minutes_no === "BB-17/2026").length, 1, "one visit on the server");

  // The English switch.
  await page.click("#lang");
  await page.waitForFunction(() => document.querySelector("h1")?.textContent === "Outbox");
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.equal(await net.textContent(), "Online");
  await screenshot(page, "field-09-outbox-english");
  assertNoProblems(page, assert);
});

test("the bridge listens on 127.0.0.1 only, takes JSON commands only, and has no test controls unless asked", async () => {
  const plainBridge = await startBridge(server.url, { testControls: false });
  try {
    assert.match(plainBridge.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    for (const name of ["offline", "online"]) {
      const r = await fetch(`${plainBridge.url}/test/${name}`, { method: "POST" });
      assert.equal(r.status, 400, `/test/${name} without --test-controls`);
    }
    // A form post (what a cross-site page could send without a preflight) is refused.
    const form = await fetch(`${plainBridge.url}/cmd/status`, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" });
    assert.equal(form.status, 400);
    assert.equal((await form.json()).code, "bad_command");
    const ok = await fetch(`${plainBridge.url}/cmd/status`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).server_url, server.url);
    const invalid = await fetch(`${plainBridge.url}/cmd/settings_set`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ photo_quality: 5 }) });
    assert.equal(invalid.status, 422);
    assert.equal((await invalid.json()).field, "photo_quality");
    assert.equal((await fetch(`${plainBridge.url}/../Cargo.toml`)).status, 404);
    const index = await fetch(`${plainBridge.url}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get("content-type"), /text\/html/);
  } finally {
    await plainBridge.stop();
  }
});

test("offline on a phone: the map of nearby establishments opens the card, members present come from the team roster, and signing out warns first and keeps the outbox", async () => {
  const own = await startBridge(server.url);
  const geolocation = { latitude: est.location.lat + 0.00018, longitude: est.location.lon, accuracy: 15 };
  const page = await newPage(browser, { url: own.url }, { ...PHONE, geolocation, permissions: ["geolocation"] });
  try {
    await page.goto("/");
    await page.waitForSelector('[data-screen="signin"]');
    await page.fill('input[name="username"]', "kiemtra.hue");
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForSelector('[data-screen="home"]', { timeout: 60_000 });
    // The team as the server knows it.
    const token = await apiToken(server, "kiemtra.hue");
    const me = await apiGet(server, token, "/api/v1/me");
    const team = await apiGet(server, token, `/api/v1/teams/${me.teams[0].team_id}`);
    assert.ok(team.members.length >= 3, "the demo team has several members");

    // No network from here on: the map works from the phone's store alone.
    await own.control("offline");
    await page.click("a.map-link");
    await page.waitForSelector('[data-screen="map"] svg.map .marker');
    assert.equal(await page.locator("h1").textContent(), "Bản đồ cơ sở gần đây");
    await page.waitForSelector("svg.map .you-dot");
    const markers = page.locator("svg.map a.marker");
    assert.ok(await markers.count() >= 2, "several establishments on the map");
    // The establishment 20 m away is number 1, and the list under the map matches the markers.
    assert.equal(await page.locator(".map-list a.est").first().getAttribute("data-id"), est.id);
    assert.equal(await page.locator(`svg.map a.marker[data-id="${est.id}"] .marker-label`).textContent(), "1");
    assert.equal(await page.locator(".map-list a.est").count(), await markers.count());
    // No tile is asked for without a tiles URL; markers are large touch targets inside the map.
    assert.equal(await page.locator("svg.map image.tile").count(), 0);
    const box = await page.locator(`svg.map a.marker[data-id="${est.id}"]`).boundingBox();
    assert.ok(box && box.width >= 44 && box.height >= 44, `marker ${JSON.stringify(box)}`);
    const svgBox = await page.locator("svg.map").boundingBox();
    assert.ok(svgBox.width <= 360 && box.x >= svgBox.x && box.x + box.width <= svgBox.x + svgBox.width + 1, "the marker is inside the map");
    await screenshot(page, "field-10-map");
    await page.locator(`svg.map a.marker[data-id="${est.id}"] .marker-hit`).click();
    await page.waitForSelector('[data-screen="est"]');
    assert.equal(await page.locator("h1").textContent(), est.name);

    // A visit: the team's members are offered, the inspector is preselected.
    await page.click("button.start-visit");
    await page.waitForSelector('[data-screen="visit"]');
    const visitId = page.url().split("#/visit/")[1];
    await page.waitForSelector(".members label.check");
    const offered = await page.locator(".members label.check").evaluateAll((ls) => ls.map((l) => l.dataset.user));
    assert.deepEqual([...offered].sort(), team.members.map((m) => m.user_id).sort(), "the roster of the inspector's team");
    assert.equal(await page.locator(`.members label[data-user="${me.id}"] input`).isChecked(), true);
    assert.match(await page.locator(`.members label[data-user="${me.id}"]`).textContent(), /\(bạn\)/);
    const other = team.members.find((m) => m.user_id !== me.id);
    const otherRow = page.locator(`.members label[data-user="${other.user_id}"]`);
    assert.equal(await otherRow.locator("input").isChecked(), false);
    assert.match(await otherRow.textContent(), new RegExp(other.display_name));
    await otherRow.locator("input").check();
    await page.selectOption('select[name="outcome"]', "no_violation");
    await screenshot(page, "field-11-members", { fullPage: true });
    await page.click("button.to-review");
    await page.waitForSelector('[data-screen="review"]');
    await page.click("button.submit");
    await page.waitForSelector(`.outbox-item[data-id="${visitId}"]`);
    await page.waitForFunction(() => document.querySelector("#net")?.dataset.state === "offline", null, { timeout: 30_000 });

    // Sign out with a visit waiting: a warning first; "cancel" keeps the session.
    await own.control("online");
    await page.goto("/#/settings");
    await page.waitForSelector('[data-screen="settings"]');
    await page.click("button.sign-out");
    await page.waitForSelector(".sign-out-warning");
    assert.match(await page.locator(".sign-out-warning").textContent(), /^1 biên bản chưa gửi/);
    await screenshot(page, "field-12-sign-out-warning");
    await page.click("button.sign-out-cancel");
    await page.waitForSelector("button.sign-out");
    assert.equal(await page.locator(".sign-out-warning").count(), 0);
    assert.equal((await (await fetch(`${own.url}/cmd/status`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).json()).signed_in, true);
    await page.click("button.sign-out");
    await page.click("button.sign-out-confirm");
    await page.waitForSelector('[data-screen="signin"] .signed-out');
    assert.match(await page.locator(".signed-out").textContent(), /Đã đăng xuất/);
    // Revoked on the server, and the outbox is still on the phone.
    const cmd = async (name) => (await fetch(`${own.url}/cmd/${name}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).json();
    const st = await cmd("status");
    assert.equal(st.signed_in, false);
    assert.equal(st.pending, 1);
    const outbox = await cmd("outbox");
    assert.deepEqual(outbox.map((i) => [i.visit_id, i.status]), [[visitId, "queued"]]);

    // Signing in again sends it, with both members present.
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForSelector('[data-screen="home"]', { timeout: 60_000 });
    const deadline = Date.now() + 60_000;
    let visit = null;
    while (Date.now() < deadline) {
      const r = await fetch(`${server.url}/api/v1/visits/${visitId}`, { headers: { authorization: `Bearer ${token}` } });
      if (r.status === 200) { visit = await r.json(); break; }
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(visit, "the visit reached the server after signing in again");
    assert.deepEqual([...visit.members_present].sort(), [me.id, other.user_id].sort());
    assertNoProblems(page, assert);
  } finally {
    await page.context().close();
    await own.stop();
  }
});
