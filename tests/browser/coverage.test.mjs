// Coverage tables and chart: the figures of every row equal GET /api/v1/coverage, the chart draws
// GET /api/v1/coverage/series, drill-down province → commune → establishments, and a Huế user
// cannot reach Quảng Trị by URL.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer, launchBrowser, newPage, signIn, assertNoProblems, screenshot, apiToken, apiGet, PHONE,
} from "./harness.mjs";

let server, browser, hueToken, adminToken;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  hueToken = await apiToken(server, "tinh.hue");
  adminToken = await apiToken(server, "admin");
});
after(async () => { await browser?.close(); await server?.stop(); });

const HUE = "2025:46";
const num = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
function pct(share) {
  if (share === null) return "—";
  const bp = Math.round(share * 10000);
  return `${Math.trunc(bp / 100)},${Math.trunc((bp % 100) / 10)} %`;
}

async function rowFigures(page, unit) {
  const row = page.locator(`[data-testid="coverage-table"] tbody tr[data-unit="${unit}"]`);
  const cell = async (c) => (await row.locator(`[data-col="${c}"]`).textContent()).trim();
  return {
    annual: [await cell("annual-in-scope"), await cell("annual-inspected"), await cell("annual-share"), await cell("annual-needed")],
    cumulative: [await cell("cumulative-in-scope"), await cell("cumulative-inspected"), await cell("cumulative-share"), await cell("cumulative-needed")],
  };
}
const expected = (m) => [num(m.in_scope), num(m.inspected), pct(m.share), num(m.needed)];

test("tinh.hue's coverage table: every commune's figures are the API's, and the chart draws the series", async () => {
  const page = await newPage(browser, server);
  await signIn(page, "tinh.hue");
  await page.click('nav.mainnav a[href="/coverage"]');
  await page.waitForSelector('[data-testid="coverage-table"]');
  const api = await apiGet(server, hueToken, `/api/v1/coverage?unit=${HUE}`);
  assert.equal(await page.locator('[data-testid="coverage-table"] tbody tr').count(), api.children.length);
  for (const c of api.children) {
    assert.deepEqual(await rowFigures(page, c.unit_id), { annual: expected(c.annual), cumulative: expected(c.cumulative) }, c.name);
  }
  assert.equal((await page.locator('[data-testid="annual-share"]').textContent()).trim(), pct(api.total.annual.share));
  assert.equal((await page.locator('[data-testid="cumulative-share"]').textContent()).trim(), pct(api.total.cumulative.share));
  const foot = await page.locator('[data-testid="coverage-table"] tfoot tr').textContent();
  assert.ok(foot.includes(num(api.total.annual.in_scope)) && foot.includes(num(api.total.annual.inspected)));
  // The chart: one point per month of the series, the target line, and the monthly figures.
  const series = await apiGet(server, hueToken, `/api/v1/coverage/series?unit=${HUE}`);
  const chart = page.locator('[data-testid="chart"]');
  assert.ok(await chart.isVisible());
  const points = (await chart.locator('[data-testid="chart-actual"]').getAttribute("points")).trim().split(/\s+/);
  assert.equal(points.length, series.months.length);
  const ys = points.map((p) => Number(p.split(",")[1]));
  // Coverage since 1 January only grows: the line never goes down (SVG y grows downwards).
  for (let i = 1; i < ys.length; i++) assert.ok(ys[i] <= ys[i - 1] + 0.05, `month ${i + 1} is not below month ${i}`);
  assert.ok(ys[ys.length - 1] < ys[0], "the line rises through the year");
  assert.equal((await chart.locator('[data-testid="chart-target"]').getAttribute("points")).trim().split(/\s+/).length, 2);
  assert.equal(await chart.locator("circle").count(), series.months.length);
  await page.click("details summary");
  const last = series.months[series.months.length - 1];
  const lastRow = await page.locator(`[data-testid="series-table"] tr[data-month="${last.month}"]`).textContent();
  assert.ok(lastRow.includes(num(last.inspected)) && lastRow.includes(pct(last.share)), lastRow);
  await screenshot(page, "coverage-table", { fullPage: true });
  // Lowest annual share first: the communes to look at.
  await Promise.all([page.waitForNavigation(), page.click('[data-testid="sort"] a[data-sort="annual"]')]);
  const order = await page.$$eval('[data-testid="coverage-table"] tbody tr', (rs) => rs.map((r) => r.dataset.unit));
  const shareOf = (u) => api.children.find((c) => c.unit_id === u).annual.share ?? Infinity;
  for (let i = 1; i < order.length; i++) assert.ok(shareOf(order[i - 1]) <= shareOf(order[i]), `row ${i} is in order`);
  assert.equal(order.length, api.children.length);
  assert.equal(new URL(page.url()).searchParams.get("sort"), "annual");
  assertNoProblems(page, assert);
});

test("drill-down: province → commune → its establishments, which add up to the API's tallies", async () => {
  const page = await newPage(browser, server);
  await signIn(page, "tinh.hue");
  await page.goto("/coverage");
  const api = await apiGet(server, hueToken, `/api/v1/coverage?unit=${HUE}`);
  const c = api.children.find((x) => x.annual.in_scope > 5);
  await Promise.all([page.waitForNavigation(), page.click(`tr[data-unit="${c.unit_id}"] a`)]);
  assert.equal(new URL(page.url()).searchParams.get("unit"), c.unit_id);
  assert.match(await page.locator("h1").textContent(), new RegExp(c.name));
  const rows = page.locator('[data-testid="establishments-table"] tbody tr');
  const annual = await rows.evaluateAll((rs) => rs.map((r) => r.dataset.annual));
  assert.equal(annual.filter((a) => a !== "out").length, c.annual.in_scope, "rows in the annual measure = in scope");
  assert.equal(annual.filter((a) => a === "yes").length, c.annual.inspected, "rows inspected this year = inspected");
  const own = await apiGet(server, hueToken, `/api/v1/coverage?unit=${encodeURIComponent(c.unit_id)}`);
  assert.deepEqual(own.total.annual, c.annual);
  // Each establishment links to its page, and has a status.
  const first = rows.first();
  assert.match(await first.locator("a").getAttribute("href"), /^\/establishments\/[0-9a-f-]{36}$/);
  assert.ok(["never", "not_this_year", "inspected", "violation", "follow_up"].includes(await first.getAttribute("data-status")));
  await screenshot(page, "coverage-commune", { fullPage: true });
  // The chart is there for a commune too, and the breadcrumb leads back to the province.
  assert.ok(await page.locator('[data-testid="chart"]').isVisible());
  await Promise.all([page.waitForNavigation(), page.click('[data-testid="crumbs"] a:has-text("Huế")')]);
  assert.equal(new URL(page.url()).searchParams.get("unit"), HUE);
  await page.waitForSelector('[data-testid="coverage-table"]');
  // The type and year filters give the API's figures for them.
  await page.selectOption('select[name="type"]', "karaoke");
  await page.selectOption('select[name="year"]', "2025");
  await Promise.all([page.waitForNavigation(), page.click('form[data-testid="coverage-filters"] button[type="submit"]')]);
  const k = await apiGet(server, hueToken, `/api/v1/coverage?unit=${HUE}&year=2025&type=karaoke`);
  for (const x of k.children.slice(0, 5)) {
    assert.deepEqual(await rowFigures(page, x.unit_id), { annual: expected(x.annual), cumulative: expected(x.cumulative) }, x.name);
  }
  assertNoProblems(page, assert);
});

test("a Huế user asking for Quảng Trị gets the same 404 as for an unknown unit; bad input is a 4xx naming the field", async () => {
  const page = await newPage(browser, server);
  await signIn(page, "tinh.hue");
  for (const unit of ["2025:44", "2025:99999", "VN", "2025:18859"]) {
    const r = await page.goto(`/coverage?unit=${unit}`);
    assert.equal(r.status(), 404, unit);
    assert.match(await page.locator("h1").textContent(), /Không tìm thấy/);
  }
  const bad = await page.goto("/coverage?year=20x6");
  assert.equal(bad.status(), 400);
  assert.match(await page.locator("main").textContent(), /year/);
  const early = await page.goto("/coverage?year=1999");
  assert.equal(early.status(), 422);
  // Quảng Trị's own staff do see it.
  const qt = await newPage(browser, server);
  await signIn(qt, "tinh.quangtri");
  const ok = await qt.goto("/coverage?unit=2025:44");
  assert.equal(ok.status(), 200);
});

test("admin sees the 34 provinces and drills into Huế", async () => {
  const page = await newPage(browser, server);
  await signIn(page, "admin");
  await page.goto("/coverage");
  const api = await apiGet(server, adminToken, "/api/v1/coverage?unit=VN");
  assert.equal(api.children.length, 34);
  assert.equal(await page.locator('[data-testid="coverage-table"] tbody tr').count(), 34);
  const hue = api.children.find((c) => c.unit_id === HUE);
  assert.deepEqual(await rowFigures(page, HUE), { annual: expected(hue.annual), cumulative: expected(hue.cumulative) });
  await Promise.all([page.waitForNavigation(), page.click(`tr[data-unit="${HUE}"] a`)]);
  assert.equal(new URL(page.url()).searchParams.get("unit"), HUE);
  assert.match(await page.locator('[data-testid="crumbs"]').textContent(), /Việt Nam.*Huế/s);
  assertNoProblems(page, assert);
});

test("on a phone the table scrolls inside its frame, and the English page uses English numbers", async () => {
  const page = await newPage(browser, server, PHONE);
  await signIn(page, "tinh.hue");
  await page.goto("/coverage");
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `no page-wide horizontal scrolling (${width}px)`);
  await screenshot(page, "coverage-phone");
  await page.click("a.lang");
  await page.waitForSelector('[data-testid="coverage-table"]');
  assert.match(await page.locator("h1").textContent(), /Inspection coverage/);
  const api = await apiGet(server, hueToken, `/api/v1/coverage?unit=${HUE}`);
  const en = String(api.total.annual.in_scope).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  assert.ok((await page.locator('[data-testid="coverage-table"] tfoot').textContent()).includes(en));
  assertNoProblems(page, assert);
});
