// Tips: intake → list with deadlines (overdue highlighted) → one step forward → a tip-driven draft
// made from the tip and linked to it; checked through the API. Jurisdiction by URL.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, newPage, signIn, assertNoProblems, screenshot, apiToken, apiGet, PHONE, LAPTOP } from "./harness.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

/** Every tip row of the list at `url`, following its "next page" links to the end. */
async function allTipRows(page, url) {
  const rows = [];
  await page.goto(url);
  for (let pages = 1; ; pages++) {
    assert.ok(pages < 100, `${url}: the pages do not end`);
    rows.push(...await page.locator('[data-testid="tip"]').evaluateAll((els) => els.map((e) => ({ id: e.dataset.id, overdue: e.classList.contains("overdue"), status: e.dataset.status }))));
    const next = page.locator('[data-testid="tips-next"]');
    if (await next.count() === 0) return rows;
    await page.goto(await next.getAttribute("href"));
    assert.equal(await page.locator('[data-testid="tips-first"]').count(), 1, "a later page links back to the first");
  }
}

test("the list highlights exactly the tips the API says are overdue, page after page", async () => {
  const page = await newPage(browser, server, LAPTOP);
  await signIn(page, "doitruong.hue");
  const token = await apiToken(server, "doitruong.hue");
  const api = (await apiGet(server, token, "/api/v1/tips?limit=1000")).items;
  const rows = await allTipRows(page, "/tips?show=all");
  assert.deepEqual(rows.map((r) => r.id), api.map((t) => t.id), "every tip the API lists, once, newest first");
  await page.goto("/tips?show=all");
  assert.match(await page.locator('[data-testid="tip-counts"]').textContent(), new RegExp(`^${api.length} tin báo`));
  const byId = new Map(api.map((t) => [t.id, t]));
  for (const r of rows) {
    assert.equal(r.overdue, byId.get(r.id).overdue, `tip ${r.id}`);
    assert.equal(r.status, byId.get(r.id).status);
  }
  assert.ok(rows.some((r) => r.overdue), "the demo has an overdue tip");
  const overdue = await allTipRows(page, "/tips?show=overdue");
  assert.deepEqual(overdue.map((r) => r.id), api.filter((t) => t.overdue).map((t) => t.id));
  await page.goto("/tips?show=overdue");
  await screenshot(page, "tips-list");
  assertNoProblems(page, assert);
});

test("a leader records a tip, moves it forward and drafts the assignment that answers it", async () => {
  const page = await newPage(browser, server, LAPTOP);
  page.on("dialog", (d) => d.accept());
  await signIn(page, "doitruong.hue");
  await page.goto("/tips");
  await page.click('[data-testid="intake-toggle"]');
  // Empty content: refused, the form names the field.
  await page.click('[data-testid="tip-save"]', { noWaitAfter: true }).catch(() => {});
  // (the browser's own `required` check stops an empty form; remove it to reach the server)
  await page.evaluate(() => document.querySelector('[data-testid="tip-content"]').removeAttribute("required"));
  await page.click('[data-testid="tip-save"]');
  await page.waitForSelector('#tip-result p.error[data-field="content"]');

  const content = "Người dân báo quán karaoke hoạt động sau 0 giờ, có dấu hiệu môi giới mại dâm";
  await page.fill('[data-testid="tip-content"]', content);
  await page.selectOption('select[name="channel"]', "hotline");
  // Find the establishment without diacritics.
  await page.fill('[data-testid="tip-est-search"]', "karaoke");
  await page.waitForSelector('#est-options input[name="establishment_id"]');
  const estId = await page.locator('#est-options input[name="establishment_id"]').first().getAttribute("value");
  await page.locator('#est-options input[name="establishment_id"]').first().check();
  await screenshot(page, "tips-intake");
  await Promise.all([page.waitForURL(/\/tips\/[0-9a-f-]{36}$/), page.click('[data-testid="tip-save"]')]);
  const tipId = page.url().split("/").pop();

  const token = await apiToken(server, "doitruong.hue");
  let tip = await apiGet(server, token, `/api/v1/tips/${tipId}`);
  assert.equal(tip.content, content);
  assert.equal(tip.channel, "hotline");
  assert.equal(tip.establishment_id, estId);
  assert.equal(tip.status, "received");
  const est = await apiGet(server, token, `/api/v1/establishments/${estId}`);
  assert.equal(tip.unit_id, est.unit_id, "the area defaults to the establishment's commune");
  const received = new Date(tip.received_at + "Z");
  const day = new Date(received.getTime() + 7 * 3600 * 1000); // Vietnam's calendar day
  const due = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() + 20)).toISOString().slice(0, 10);
  assert.equal(tip.deadline, due, "20 days by default");
  assert.equal(await page.locator('[data-testid="tip-establishment"]').getAttribute("href"), `/establishments/${estId}`);

  await page.click('[data-testid="tip-next"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="tip-detail"]')?.dataset.status === "verifying");
  tip = await apiGet(server, token, `/api/v1/tips/${tipId}`);
  assert.equal(tip.status, "verifying");
  await screenshot(page, "tips-detail");

  // The tip-driven draft, made from the tip.
  await Promise.all([page.waitForURL(/\/leader\/assignments\/[0-9a-f-]{36}$/), page.click('[data-testid="tip-make-assignment"]')]);
  const assignmentId = page.url().split("/").pop();
  const a = await apiGet(server, token, `/api/v1/assignments/${assignmentId}`);
  assert.equal(a.kind, "tip");
  assert.equal(a.status, "draft");
  assert.equal(a.tip_id, tipId);
  assert.deepEqual(a.establishment_ids, [estId]);
  tip = await apiGet(server, token, `/api/v1/tips/${tipId}`);
  assert.equal(tip.assignment_id, assignmentId, "the tip links the resulting assignment");
  await page.goto(`/tips/${tipId}`);
  assert.equal(await page.locator('[data-testid="tip-assignment"]').getAttribute("href"), `/leader/assignments/${assignmentId}`);
  // The assignment links back to the tip.
  await page.goto(`/leader/assignments/${assignmentId}`);
  assert.equal(await page.locator(`a[href="/tips/${tipId}"]`).count(), 1);

  // Steps forward from the list, one at a time, until handled.
  await page.goto("/tips?show=all");
  const row = page.locator(`[data-testid="tip"][data-id="${tipId}"]`);
  await row.locator('[data-testid="tip-next"]').click();
  await page.waitForFunction((id) => document.querySelector(`[data-testid="tip"][data-id="${id}"]`)?.dataset.status === "classified", tipId);
  await page.locator(`[data-testid="tip"][data-id="${tipId}"] [data-testid="tip-next"]`).click();
  await page.waitForFunction((id) => document.querySelector(`[data-testid="tip"][data-id="${id}"]`)?.dataset.status === "handled", tipId);
  tip = await apiGet(server, token, `/api/v1/tips/${tipId}`);
  assert.equal(tip.status, "handled");
  assert.equal(tip.handled_on_time, true);
  assert.equal(await page.locator(`[data-testid="tip"][data-id="${tipId}"] [data-testid="tip-next"]`).count(), 0);
  assertNoProblems(page, assert);
});

test("provincial staff record tips too; the phone layout fits", async () => {
  const page = await newPage(browser, server, PHONE);
  await signIn(page, "tinh.hue");
  const r = await page.goto("/tips");
  assert.equal(r.status(), 200);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth) <= 1);
  await page.click('[data-testid="intake-toggle"]');
  await page.fill('[data-testid="tip-content"]', "Đơn thư phản ánh nhà nghỉ cho thuê phòng theo giờ");
  await page.selectOption('select[name="channel"]', "letter");
  const unit = await page.locator('select[name="unit"] option').nth(2).getAttribute("value");
  await page.selectOption('select[name="unit"]', unit);
  await Promise.all([page.waitForURL(/\/tips\/[0-9a-f-]{36}$/), page.click('[data-testid="tip-save"]')]);
  const tipId = page.url().split("/").pop();
  const tip = await apiGet(server, await apiToken(server, "tinh.hue"), `/api/v1/tips/${tipId}`);
  assert.equal(tip.unit_id, unit);
  assert.equal(tip.establishment_id, null);
  // Staff do not draft assignments: no form, no link to the leader's pages.
  assert.equal(await page.locator('[data-testid="tip-make-assignment"]').count(), 0);
  await screenshot(page, "tips-detail-phone", { fullPage: true });
  assertNoProblems(page, assert);
});

test("a Huế user cannot open a Quảng Trị tip by URL, and an inspector has no tips page", async () => {
  const qt = await apiToken(server, "tinh.quangtri");
  const qtTip = (await apiGet(server, qt, "/api/v1/tips?limit=5")).items[0];
  assert.ok(qtTip, "Quảng Trị has tips");
  for (const user of ["doitruong.hue", "tinh.hue"]) {
    const page = await newPage(browser, server, LAPTOP);
    await signIn(page, user);
    assert.equal((await page.goto(`/tips/${qtTip.id}`)).status(), 404, user);
    assert.equal((await page.goto("/tips/00000000-0000-0000-0000-000000000000")).status(), 404);
    await page.goto("/tips");
    const status = await page.evaluate(async (id) => {
      const csrf = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"];
      const r = await fetch(`/tips/${id}/status`, { method: "POST", headers: { "X-CSRF-Token": csrf, "HX-Request": "true", "content-type": "application/x-www-form-urlencoded" }, body: "status=verifying" });
      return r.status;
    }, qtTip.id);
    assert.equal(status, 404);
  }
  assert.equal((await apiGet(server, qt, `/api/v1/tips/${qtTip.id}`)).status, qtTip.status, "nothing changed");
  const ins = await newPage(browser, server, LAPTOP);
  await signIn(ins, "kiemtra.hue");
  assert.equal((await ins.goto("/tips")).status(), 403);
});

test("dates are dd/mm/yyyy in the forms whatever the browser's language", async () => {
  const page = await newPage(browser, server, { ...LAPTOP, locale: "en-US" });
  await signIn(page, "doitruong.hue");
  const token = await apiToken(server, "doitruong.hue");
  const ddmmyyyy = /^\d{2}\/\d{2}\/\d{4}$/;

  // The planner's window and the new assignment's window.
  await page.goto("/leader");
  for (const name of ["from", "to", "window_start", "window_end"]) {
    const input = page.locator(`input[name="${name}"]`).first();
    assert.equal(await input.getAttribute("type"), "text", name);
    assert.match(await input.inputValue(), ddmmyyyy, name);
  }

  // A tip received on a date typed as dd/mm/yyyy hh:mm (Vietnam's time), with a deadline typed
  // as dd/mm/yyyy, is stored as those very days.
  await page.goto("/tips");
  await page.click('[data-testid="intake-toggle"]');
  assert.match(await page.inputValue('input[name="received_at"]'), /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/);
  await page.fill('input[name="received_at"]', "03/02/2026 07:30");
  await page.fill('input[name="deadline"]', "05/03/2026");
  await page.fill('[data-testid="tip-content"]', "Nhà nghỉ nhận khách không đăng ký lưu trú");
  await page.selectOption('select[name="channel"]', "hotline");
  await page.fill('[data-testid="tip-est-search"]', "nha nghi");
  await page.waitForSelector('#est-options input[name="establishment_id"]');
  await page.locator('#est-options input[name="establishment_id"]').first().check();
  await Promise.all([page.waitForURL(/\/tips\/[0-9a-f-]{36}$/), page.click('[data-testid="tip-save"]')]);
  const tip = await apiGet(server, token, `/api/v1/tips/${page.url().split("/").pop()}`);
  assert.equal(tip.received_at, "2026-02-03T00:30:00", "07:30 in Vietnam is 00:30 UTC");
  assert.equal(tip.deadline, "2026-03-05");

  // The tip page's assignment window.
  for (const name of ["window_start", "window_end"]) {
    assert.match(await page.inputValue(`#tip-assign-form input[name="${name}"]`), ddmmyyyy, name);
  }
  assertNoProblems(page, assert);
});
