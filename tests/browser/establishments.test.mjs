// Establishments: search (with and without diacritics, the API's own search), filters, the detail
// page (visits, violations, photos behind the session), jurisdiction, and the import with preview.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, newPage, signIn, assertNoProblems, screenshot, apiToken, apiGet, PHONE, LAPTOP } from "./harness.mjs";

let server, browser, hue, quangtri;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  hue = await apiToken(server, "tinh.hue");
  quangtri = await apiToken(server, "tinh.quangtri");
});
after(async () => { await browser?.close(); await server?.stop(); });

/** "Nhà nghỉ Hoa" → "nha nghi hoa". */
const fold = (s) => s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();

const resultIds = (page) => page.$$eval('[data-testid="est-results"] td.est-name a', (as) => as.map((a) => a.getAttribute("href").split("/").pop()));

/** Types into the live search and waits for the results htmx swaps in. */
async function search(page, text) {
  const t0 = Date.now();
  const done = page.waitForResponse((r) => r.url().includes("/establishments?") && r.request().headers()["hx-request"] === "true");
  await page.fill('[data-testid="est-search"]', text);
  await done;
  await page.waitForTimeout(50);
  if (process.env.EST_DEBUG) console.log("search", text, Date.now() - t0);
}

/** A Huế visit with violations and an uploaded photo, and its establishment. */
async function visitWithPhoto() {
  const visits = await apiGet(server, hue, "/api/v1/visits?limit=500");
  const v = visits.items.find((x) => x.violation_count > 0 && x.minutes_no && x.photo_ids?.length && !x.evidence_pending);
  assert.ok(v, "the demo has a visit with violations and a photo");
  const est = await apiGet(server, hue, `/api/v1/establishments/${v.establishment_id}`);
  return { v, est };
}

test("search ignores diacritics and case, live, and keeps the query in the URL", async () => {
  const page = await newPage(browser, server, LAPTOP);
  await signIn(page, "tinh.hue");
  // An establishment whose name has diacritics.
  const list = await apiGet(server, hue, "/api/v1/establishments?q=" + encodeURIComponent("Nhà nghỉ") + "&limit=50");
  const target = list.items.find((e) => fold(e.name) !== e.name.toLowerCase());
  assert.ok(target, "a name with diacritics");
  await page.goto("/establishments");
  await screenshot(page, "est-list-laptop");

  await search(page, fold(target.name));
  const plain = await resultIds(page);
  assert.ok(plain.includes(target.id), `"${fold(target.name)}" finds ${target.name}`);
  assert.equal(new URL(page.url()).searchParams.get("q"), fold(target.name), "the URL keeps the query");

  await search(page, target.name.toUpperCase());
  const accented = await resultIds(page);
  assert.deepEqual(accented, plain, "with diacritics and in capitals: the same establishments");

  // The same search as the API's.
  const api = await apiGet(server, hue, `/api/v1/establishments?q=${encodeURIComponent(fold(target.name))}&limit=25`);
  assert.deepEqual(plain, api.items.map((e) => e.id));

  // The pushed URL, opened as a full page, shows the same results.
  await page.goto(`/establishments?q=${encodeURIComponent(fold(target.name))}`);
  assert.deepEqual(await resultIds(page), plain);
  assert.equal(await page.inputValue('[data-testid="est-search"]'), fold(target.name));

  await search(page, "zzzz khong co co so nay");
  await page.waitForSelector('[data-testid="est-empty"]');
  assertNoProblems(page, assert);
});

test("filters by type, status and commune give the API's answer", async () => {
  const page = await newPage(browser, server, LAPTOP);
  await signIn(page, "tinh.hue");
  await page.goto("/establishments");
  let done = page.waitForResponse((r) => r.url().includes("type=karaoke"));
  await page.selectOption('[data-testid="est-type"]', "karaoke");
  await done;
  await page.waitForTimeout(50);
  const types = await page.$$eval('[data-testid="est-results"] tbody tr td:nth-child(2)', (tds) => tds.map((t) => t.textContent.trim()));
  assert.ok(types.length > 0);
  assert.ok(types.every((t) => t === "Karaoke"), types.join(","));

  const unit = (await apiGet(server, hue, "/api/v1/establishments?type=karaoke&limit=1")).items[0].unit_id;
  done = page.waitForResponse((r) => r.url().includes("unit="));
  await page.selectOption('[data-testid="est-unit"]', unit);
  await done;
  done = page.waitForResponse((r) => r.url().includes("status=operating"));
  await page.selectOption('[data-testid="est-status"]', "operating");
  await done;
  await page.waitForTimeout(50);
  const ids = await resultIds(page);
  const api = await apiGet(server, hue, `/api/v1/establishments?type=karaoke&status=operating&unit=${encodeURIComponent(unit)}&limit=25`);
  assert.ok(api.items.length > 0);
  assert.deepEqual(ids, api.items.map((e) => e.id));
  const u = new URL(page.url());
  assert.equal(u.searchParams.get("type"), "karaoke");
  assert.equal(u.searchParams.get("unit"), unit);

  // Paging: the second page continues where the first stopped.
  await page.goto("/establishments");
  const first = await resultIds(page);
  assert.equal(first.length, 25);
  await Promise.all([page.waitForResponse((r) => r.url().includes("cursor=")), page.click('[data-testid="est-next"]')]);
  await page.waitForTimeout(50);
  const second = await resultIds(page);
  assert.ok(second.length > 0 && !second.some((id) => first.includes(id)));
  assertNoProblems(page, assert);
});

test("the list works at 360 px without sideways scrolling", async () => {
  const page = await newPage(browser, server, PHONE);
  await signIn(page, "tinh.hue");
  await page.goto("/establishments?q=karaoke");
  await page.waitForSelector('[data-testid="est-results"]');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `page width ${width}`);
  await screenshot(page, "est-list-phone");
  // The detail page too.
  const { est } = await visitWithPhoto();
  await page.goto(`/establishments/${est.id}`);
  const detailWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(detailWidth <= 360, `detail page width ${detailWidth}`);
  await screenshot(page, "est-detail-phone");
  // In English.
  await Promise.all([page.waitForNavigation(), page.click("a.lang")]);
  assert.match(await page.textContent("#h-visits"), /Inspection history/);
  assert.match(await page.textContent(".est-date"), /^\d{2}\/\d{2}\/\d{4}$/);
  assertNoProblems(page, assert);
});

test("the detail page shows visits with violations and minutes, and photos behind the session", async () => {
  const { v, est } = await visitWithPhoto();
  const page = await newPage(browser, server, LAPTOP);
  await signIn(page, "tinh.hue");
  await page.goto(`/establishments/${est.id}`);
  assert.equal((await page.textContent('[data-testid="est-title"]')).trim(), est.name);
  const card = page.locator(`#visit-${v.id}`);
  assert.match(await card.textContent(), new RegExp(v.minutes_no.replace(/[/.]/g, "\\$&")));
  for (const x of v.violations) {
    assert.match(await card.locator('[data-testid="violations"]').textContent(), new RegExp(x.code));
  }
  // dd/mm/yyyy dates.
  assert.match(await card.locator(".est-date").textContent(), /^\d{2}\/\d{2}\/\d{4}$/);
  // The map with the commune boundary.
  await page.waitForSelector('#est-map[data-boundary="shown"]', { timeout: 10_000 });
  await page.waitForSelector("#est-map path.leaflet-interactive, #est-map path");

  // The thumbnail loads; a click opens the full-size photo.
  const thumb = card.locator('[data-testid="photo"] img').first();
  await thumb.scrollIntoViewIfNeeded();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await thumb.elementHandle());
  await screenshot(page, "est-detail", { fullPage: true });
  await card.locator('[data-testid="photo"]').first().click();
  const full = page.locator('[data-testid="photo-full"]');
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await full.elementHandle());
  assert.ok(await full.isVisible(), "the full-size photo is shown");
  await screenshot(page, "est-photo");

  // The photo URL needs the session: with it, the very photo the API serves; without it, nothing.
  const src = await card.locator('[data-testid="photo"]').first().getAttribute("data-full");
  assert.equal(await full.getAttribute("src"), src);
  const withCookie = await page.request.get(src);
  assert.equal(withCookie.status(), 200);
  assert.equal(withCookie.headers()["content-type"], "image/jpeg");
  const photoId = src.split("/").pop();
  assert.ok(v.photo_ids.includes(photoId));
  const viaApi = await fetch(`${server.url}/api/v1/photos/${photoId}`, { headers: { authorization: `Bearer ${hue}` } });
  assert.deepEqual(Buffer.from(await withCookie.body()), Buffer.from(await viaApi.arrayBuffer()));
  const thumbBytes = await page.request.get(src + "/thumbnail");
  const thumbApi = await fetch(`${server.url}/api/v1/photos/${photoId}/thumbnail`, { headers: { authorization: `Bearer ${hue}` } });
  assert.deepEqual(Buffer.from(await thumbBytes.body()), Buffer.from(await thumbApi.arrayBuffer()));
  for (const path of [src, src + "/thumbnail"]) {
    const anon = await fetch(server.url + path, { redirect: "manual" });
    assert.notEqual(anon.status, 200, `${path} without a session`);
    assert.ok(!(anon.headers.get("content-type") || "").startsWith("image/"));
  }
  // Another province's staff cannot see it through the dashboard either.
  const qt = await newPage(browser, server, LAPTOP);
  await signIn(qt, "tinh.quangtri");
  const other = await qt.request.get(src);
  assert.equal(other.status(), 404);
  assertNoProblems(page, assert);
});

test("a Huế user opening a Quảng Trị establishment gets 404, like an unknown id", async () => {
  const qtEst = (await apiGet(server, quangtri, "/api/v1/establishments?limit=1")).items[0];
  const page = await newPage(browser, server, LAPTOP);
  await signIn(page, "tinh.hue");
  const r = await page.goto(`/establishments/${qtEst.id}`);
  assert.equal(r.status(), 404);
  assert.doesNotMatch(await page.content(), new RegExp(qtEst.name));
  const unknown = await page.goto("/establishments/00000000-0000-4000-8000-000000000000");
  assert.equal(unknown.status(), 404);
});

for (const username of ["kiemtra.hue", "doitruong.hue"]) {
  test(`${username} cannot open the import page`, async () => {
    const page = await newPage(browser, server, LAPTOP);
    await signIn(page, username);
    const r = await page.goto("/establishments/import");
    assert.equal(r.status(), 403);
    await page.goto("/establishments");
    assert.equal(await page.locator('[data-testid="import-link"]').count(), 0);
  });
}

test("import: the preview flags a bad row and a duplicate; confirming imports the good rows", async () => {
  const { est } = await visitWithPhoto();
  const commune = est.unit_id.split(":")[1];
  const tag = Date.now().toString(36).toUpperCase();
  const csv = [
    "Tên cơ sở,Loại hình,Mã xã,Địa chỉ,Số giấy phép,Ngày cấp",
    `Karaoke Ánh Trăng ${tag},Karaoke,${commune},"25 Lê Lợi",GP-${tag}-1,01/02/2024`,
    `Nhà nghỉ Sao Mai ${tag},Nhà nghỉ,${commune},"7 Trần Phú",GP-${tag}-2,15/03/2024`,
    `Cơ sở lỗi ${tag},Tiệm vàng,${commune},"1 Nguyễn Huệ",,31/02/2024`,
    `${fold(est.name).toUpperCase()},${est.establishment_type},${commune},"${fold(est.address)}",,`,
  ].join("\n") + "\n";
  const before = await apiGet(server, hue, `/api/v1/establishments?q=${encodeURIComponent(fold(est.name))}&limit=500`);

  const page = await newPage(browser, server, LAPTOP);
  await signIn(page, "tinh.hue");
  await page.goto("/establishments");
  await Promise.all([page.waitForNavigation(), page.click('[data-testid="import-link"]')]);
  await page.setInputFiles('[data-testid="import-file"]', { name: "dkkd.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.click('[data-testid="import-check"]');
  await page.waitForSelector('[data-testid="import-preview"]');
  const row = (n) => page.locator(`tr[data-row="${n}"]`);
  assert.equal(await page.locator('[data-testid="preview-table"] tbody tr').count(), 4, "every row is shown");
  assert.equal((await row(2).locator('[data-testid="row-state"]').textContent()).trim(), "Thêm mới");
  assert.equal((await row(4).locator('[data-testid="row-state"]').textContent()).trim(), "Lỗi");
  const errors = await row(4).locator('[data-testid="row-error"]').allTextContents();
  assert.ok(errors.some((e) => e.includes("Loại hình")), errors.join(" | "));
  assert.ok(errors.some((e) => e.includes("Ngày cấp")), errors.join(" | "));
  assert.equal((await row(5).locator('[data-testid="row-state"]').textContent()).trim(), "Có thể trùng");
  assert.equal(await row(5).locator(`[data-testid="row-dup"] a[href="/establishments/${est.id}"]`).count(), 1, "the duplicate links the registered establishment");
  assert.match(await row(2).textContent(), /01\/02\/2024/);
  await screenshot(page, "est-import-preview", { fullPage: true });
  // Nothing saved by the preview.
  assert.equal((await apiGet(server, hue, `/api/v1/establishments?q=${tag}`)).items.length, 0);

  await page.click('[data-testid="import-confirm"]');
  await page.waitForSelector('[data-testid="import-result"]');
  assert.equal((await page.textContent('[data-testid="res-created"]')).trim(), "2");
  assert.equal((await page.textContent('[data-testid="res-skipped"]')).trim(), "2");
  await screenshot(page, "est-import-result");

  const imported = await apiGet(server, hue, `/api/v1/establishments?q=${tag}`);
  assert.deepEqual(imported.items.map((e) => e.name).sort(), [`Karaoke Ánh Trăng ${tag}`, `Nhà nghỉ Sao Mai ${tag}`]);
  assert.ok(imported.items.every((e) => e.unit_id === est.unit_id));
  assert.equal(imported.items.find((e) => e.name.startsWith("Karaoke")).licence_issued_on, "2024-02-01");
  const after = await apiGet(server, hue, `/api/v1/establishments?q=${encodeURIComponent(fold(est.name))}&limit=500`);
  assert.equal(after.items.length, before.items.length, "the duplicate was not imported");

  // The same preview cannot be imported twice.
  const again = await page.evaluate(async () => {
    const csrf = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"];
    const r = await fetch("/establishments/import/confirm", { method: "POST", headers: { "X-CSRF-Token": csrf, "content-type": "application/x-www-form-urlencoded" }, body: "token=x" });
    return r.status;
  });
  assert.equal(again, 410);
  assertNoProblems(page, assert);
});

test("import: a commune outside the user's province is a row error; an unusable file is explained", async () => {
  const qtEst = (await apiGet(server, quangtri, "/api/v1/establishments?limit=1")).items[0];
  const page = await newPage(browser, server, PHONE);
  await signIn(page, "tinh.hue");
  await page.goto("/establishments/import");
  const csv = `Tên cơ sở,Loại hình,Mã xã,Địa chỉ\nKaraoke Ngoài Tỉnh,Karaoke,${qtEst.unit_id.split(":")[1]},1 Lê Duẩn\n`;
  await page.setInputFiles('[data-testid="import-file"]', { name: "x.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.click('[data-testid="import-check"]');
  await page.waitForSelector('[data-testid="import-preview"]');
  const err = await page.locator('tr[data-row="2"] [data-testid="row-error"]').textContent();
  assert.match(err, /Mã xã/);
  assert.match(err, /outside your jurisdiction/);
  assert.equal(await page.locator('[data-testid="import-confirm"]').count(), 0);

  await page.setInputFiles('[data-testid="import-file"]', { name: "x.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.4") });
  await page.click('[data-testid="import-check"]');
  await page.waitForSelector('[data-testid="import-problem"]');
  assert.match(await page.textContent('[data-testid="import-problem"]'), /\.pdf/);
});
