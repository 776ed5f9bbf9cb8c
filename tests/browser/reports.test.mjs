// Reports: the printable 6-monthly / yearly report, its XLSX, and the list exports (XLSX, CSV),
// checked against the coverage API for the same unit and window.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import ExcelJS from "exceljs";
import {
  startServer, launchBrowser, newPage, signIn, assertNoProblems, screenshot, apiToken, apiGet, PHONE,
} from "./harness.mjs";

let server, browser, token;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  token = await apiToken(server, "tinh.hue");
});
after(async () => { await browser?.close(); await server?.stop(); });

const HUE = "2025:46";
const QUANG_TRI = "2025:44";

/** The indicator values on the page, by key (numbers; shares as fractions; null when blank). */
async function indicators(page) {
  const rows = await page.locator("[data-testid=indicators] tr[data-k]").evaluateAll((trs) =>
    trs.map((tr) => [tr.dataset.k, tr.dataset.v]));
  return Object.fromEntries(rows.map(([k, v]) => [k, v === "" ? null : Number(v)]));
}

/** What the page must show, from the API, for the window the page states. */
async function expected(unit, year, from, to) {
  const cov = await apiGet(server, token, `/api/v1/coverage?unit=${unit}&year=${year}&as_of=${to}`);
  const sum = await apiGet(server, token, `/api/v1/coverage/summary?unit=${unit}&from=${from}&to=${to}`);
  const a = cov.total.annual, cu = cov.total.cumulative;
  return {
    cov, sum,
    values: {
      in_scope: a.in_scope, inspected: a.inspected, share: a.share, needed: a.needed,
      cumulative_inspected: cu.inspected, cumulative_share: cu.share,
      visits: sum.visits.visits, counted_inspections: sum.visits.counted_inspections,
      establishments_inspected: sum.visits.establishments_inspected, with_violations: sum.visits.with_violations,
      violations: sum.violations.count, fines: sum.violations.proposed_fines_vnd,
      follow_ups_due: sum.follow_ups.due, follow_ups_done: sum.follow_ups.done, follow_ups_not_done: sum.follow_ups.not_done,
      tips_received: sum.tips.received, tips_handled: sum.tips.handled, tips_handled_on_time: sum.tips.handled_on_time,
      tips_handled_late: sum.tips.handled_late, tips_overdue: sum.tips.overdue, tips_pending: sum.tips.pending,
      tips_on_time_share: sum.tips.on_time_share,
    },
  };
}

/** Counts every item of a paged API list. */
async function countAll(path) {
  let n = 0, cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await apiGet(server, token, `${path}${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    n += page.items.length;
    cursor = page.next_cursor;
  } while (cursor);
  return n;
}

test("tinh.hue chooses Huế, the half-year and a year: the report's figures are the coverage API's", async () => {
  const page = await newPage(browser, server);
  await signIn(page, "tinh.hue");
  await page.goto("/reports");
  assert.equal(await page.locator('nav.mainnav a[href="/reports"]').getAttribute("aria-current"), "page");
  await page.waitForSelector("[data-testid=report-form]");
  const year = String(new Date().getFullYear());
  await page.selectOption("[data-testid=report-unit]", HUE);
  await page.selectOption("[data-testid=report-period]", "h1");
  await page.selectOption("[data-testid=report-year]", year);
  await Promise.all([page.waitForNavigation(), page.click("[data-testid=report-form] button[type=submit]")]);
  const u = new URL(page.url());
  assert.equal(u.searchParams.get("unit"), HUE);
  assert.equal(u.searchParams.get("period"), "h1");

  const report = page.locator("[data-testid=report]");
  const from = await report.getAttribute("data-from");
  const to = await report.getAttribute("data-to");
  assert.equal(from, `${year}-01-01`);
  assert.equal(to, `${year}-05-31`, "the half-year closes on 31/05, before the 10/06 deadline");
  assert.match(await page.locator("[data-testid=report-window]").textContent(), new RegExp(`01/01/${year}.*31/05/${year}`));
  assert.match(await page.locator("h1.report-title").textContent(), /6 tháng đầu năm/);
  assert.match(await page.locator("[data-testid=issued-line]").textContent(), /^Huế, ngày \d\d tháng \d\d năm \d{4}$/);

  const { cov, sum, values } = await expected(HUE, year, from, to);
  assert.ok(values.in_scope > 0 && values.visits > 0, "the demo has work to report in the window");
  assert.deepEqual(await indicators(page), values);

  // Per commune: every child of the coverage answer, with its numbers.
  const children = await page.locator("[data-testid=children] tbody tr").evaluateAll((trs) =>
    trs.map((tr) => [tr.dataset.unit, Number(tr.dataset.inScope), Number(tr.dataset.inspected)]));
  assert.deepEqual(children, cov.children.map((c) => [c.unit_id, c.annual.in_scope, c.annual.inspected]));
  assert.equal(children.length, 40, "Huế has 40 communes");
  const foot = page.locator("[data-testid=children] tfoot tr");
  assert.equal(Number(await foot.getAttribute("data-in-scope")), values.in_scope);

  // Violations by kind: code, Vietnamese description and legal basis, count and fines.
  const byCode = await page.locator("[data-testid=violations] tbody tr").evaluateAll((trs) =>
    trs.map((tr) => [tr.dataset.code, Number(tr.dataset.count), Number(tr.dataset.fines)]));
  assert.deepEqual(byCode, sum.violations.by_code.map((v) => [v.code, v.count, v.proposed_fines_vnd]));
  const first = sum.violations.by_code[0];
  assert.ok(first.description.length > 0 && first.legal_basis.includes("Nghị định"), "the API names the violation and its legal basis");
  const firstRow = page.locator(`[data-testid=violations] tr[data-code="${first.code}"]`);
  assert.match(await firstRow.textContent(), new RegExp(first.legal_basis.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));

  // Shown in Vietnamese conventions.
  const inScopeText = await page.locator("tr[data-k=in_scope] td.num").first().textContent();
  assert.equal(inScopeText, values.in_scope.toLocaleString("de-DE"));
  assert.match(await page.locator("tr[data-k=fines] td.num").first().textContent(), /^[\d.]+ ₫$/);
  assert.match(await page.locator("tr[data-k=share] td.num").nth(1).textContent(), /^\d+,\d %$/);

  await screenshot(page, "reports-01-report-laptop");
  await screenshot(page, "reports-01-report-laptop-full", { fullPage: true });
  await page.emulateMedia({ media: "print" });
  assert.equal(await page.locator("header.top").isVisible(), false, "no navigation on paper");
  assert.equal(await page.locator("[data-testid=report-form]").isVisible(), false, "no form on paper");
  assert.equal(await report.isVisible(), true);
  await screenshot(page, "reports-02-report-print", { fullPage: true });
  const pdf = await page.pdf({ format: "A4", printBackground: true });
  assert.ok(pdf.length > 10_000, "the report prints to A4");
  await page.emulateMedia({ media: "screen" });
  assertNoProblems(page, assert);
});

test("the yearly report runs to 30/11 (or today) and downloads as an XLSX with the API's totals", async () => {
  const page = await newPage(browser, server);
  await signIn(page, "tinh.hue");
  const year = new Date().getFullYear();
  await page.goto(`/reports?unit=${encodeURIComponent(HUE)}&period=year&year=${year}`);
  const report = page.locator("[data-testid=report]");
  const from = await report.getAttribute("data-from");
  const to = await report.getAttribute("data-to");
  const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10);
  assert.equal(to, [`${year}-11-30`, today].sort()[0]);
  const { cov, sum, values } = await expected(HUE, year, from, to);
  assert.deepEqual(await indicators(page), values);

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=report-xlsx]")]);
  assert.equal(download.suggestedFilename(), `bao-cao-2025-46-${year}-nam.xlsx`);
  const path = await download.path();
  const bytes = readFileSync(path);
  assert.equal(bytes.subarray(0, 2).toString(), "PK", "an XLSX is a zip file");
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes);
  assert.deepEqual(wb.worksheets.map((w) => w.name), ["Tổng hợp", "Vi phạm", "Theo xã"]);

  const ws = wb.getWorksheet("Tổng hợp");
  const find = (label) => {
    let value;
    ws.eachRow((row) => { if (row.getCell(2).value === label) value = row.getCell(3).value; });
    assert.notEqual(value, undefined, `row ${label}`);
    return value;
  };
  assert.equal(find("Cơ sở kinh doanh dịch vụ thuộc diện kiểm tra"), values.in_scope);
  assert.equal(find("Cơ sở đã được kiểm tra trong năm"), values.inspected);
  assert.equal(find("Số cơ sở còn phải kiểm tra để đạt chỉ tiêu năm"), values.needed);
  assert.ok(Math.abs(find("Tỷ lệ cơ sở đã kiểm tra so với chỉ tiêu năm") - values.share) < 1e-9);
  assert.equal(find("Số hành vi vi phạm"), values.violations);
  assert.equal(find("Tiền phạt đề xuất"), values.fines);
  assert.equal(find("Tin báo tiếp nhận"), values.tips_received);
  assert.equal(find("Xử lý đúng hạn"), values.tips_handled_on_time);
  // The header row is frozen and the preamble names the unit.
  const header = ws.views[0];
  assert.equal(header.state, "frozen");
  let unitLine;
  ws.eachRow((row) => { if (row.getCell(1).value === "Đơn vị") unitLine = row.getCell(2).value; });
  assert.equal(unitLine, `${sum.name} (${HUE})`);

  const v = wb.getWorksheet("Vi phạm");
  assert.equal(v.getRow(1).getCell(1).value, "Mã vi phạm");
  assert.equal(v.getRow(1).getCell(3).value, "Căn cứ pháp lý");
  const last = v.getRow(v.rowCount);
  assert.equal(last.getCell(1).value, "Tổng cộng");
  assert.equal(last.getCell(4).value, sum.violations.count);
  assert.equal(last.getCell(5).value, sum.violations.proposed_fines_vnd);
  assert.equal(v.rowCount, sum.violations.by_code.length + 2);
  assert.match(v.getRow(2).getCell(5).numFmt, /#,##0/);

  const c = wb.getWorksheet("Theo xã");
  assert.equal(c.rowCount, cov.children.length + 2, "header, one row per commune, total");
  let sumInScope = 0;
  for (let r = 2; r <= cov.children.length + 1; r++) sumInScope += c.getRow(r).getCell(2).value;
  assert.equal(sumInScope, values.in_scope, "communes add up to the province");
  assert.equal(c.getRow(c.rowCount).getCell(2).value, values.in_scope);
  assertNoProblems(page, assert);
});

test("list exports: the CSV has the BOM and as many rows as the API's list for the same filter", async () => {
  const page = await newPage(browser, server);
  await signIn(page, "tinh.hue");
  await page.goto("/reports");
  const exports = page.locator("[data-testid=exports]");
  await exports.locator('select[name="unit"]').selectOption(HUE);
  await exports.locator('select[name="type"]').selectOption("karaoke");
  const [csv] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=export-establishments-csv]")]);
  assert.equal(csv.suggestedFilename(), "co-so-2025-46-karaoke.csv");
  const bytes = readFileSync(await csv.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], "UTF-8 byte order mark for Excel");
  const text = bytes.subarray(3).toString("utf8");
  const lines = text.split("\r\n").filter((l) => l.length > 0);
  assert.match(lines[0], /^Tên cơ sở,Loại hình,"Xã, phường",Địa chỉ/);
  const apiCount = await countAll(`/api/v1/establishments?unit=${encodeURIComponent(HUE)}&type=karaoke`);
  assert.ok(apiCount > 0);
  assert.equal(lines.length - 1, apiCount);
  assert.ok(lines.slice(1).every((l) => l.includes(",Karaoke,")), "only karaoke venues");

  // The same list as XLSX.
  const [xlsx] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=export-establishments-xlsx]")]);
  assert.equal(xlsx.suggestedFilename(), "co-so-2025-46-karaoke.xlsx");
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(readFileSync(await xlsx.path()));
  assert.equal(wb.worksheets[0].rowCount, apiCount + 1);

  // Visits of the whole jurisdiction, every year: the API's visit list.
  await exports.locator('select[name="unit"]').selectOption("");
  await exports.locator('select[name="type"]').selectOption("");
  const [visits] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=export-visits-csv]")]);
  assert.equal(visits.suggestedFilename(), "cuoc-kiem-tra-tat-ca.csv");
  const vtext = readFileSync(await visits.path()).subarray(3).toString("utf8");
  const vlines = vtext.split("\r\n").filter((l) => l.length > 0);
  assert.equal(vlines.length - 1, await countAll("/api/v1/visits"));
  assert.match(vlines[0], /^Ngày kiểm tra,Giờ bắt đầu,Tên cơ sở/);
  assert.match(vlines[1], /^\d\d\/\d\d\/\d{4},\d\d:\d\d,/);
  assertNoProblems(page, assert);
});

test("tinh.hue asking for a Quảng Trị report or export gets 404, as for an unknown unit", async () => {
  const page = await newPage(browser, server);
  await signIn(page, "tinh.hue");
  const r = await page.goto(`/reports?unit=${encodeURIComponent(QUANG_TRI)}`);
  assert.equal(r.status(), 404);
  const unknown = await page.goto("/reports?unit=2025:99");
  assert.equal(unknown.status(), 404);
  for (const path of [
    `/reports/report.xlsx?unit=${encodeURIComponent(QUANG_TRI)}&period=h1&year=2026`,
    `/reports/export/establishments.csv?unit=${encodeURIComponent(QUANG_TRI)}`,
    `/reports/export/visits.xlsx?unit=${encodeURIComponent(QUANG_TRI)}`,
  ]) {
    const res = await page.request.get(path);
    assert.equal(res.status(), 404, path);
  }
  // The unit list offers Huế and its communes only.
  await page.goto("/reports");
  const units = await page.locator("[data-testid=report-unit] option").evaluateAll((os) => os.map((o) => o.value));
  assert.ok(units.includes(HUE));
  assert.ok(!units.includes(QUANG_TRI));
  assert.equal(units.length, 41);
});

test("bad input is answered with the form and a message naming the field", async () => {
  const page = await newPage(browser, server);
  await signIn(page, "tinh.hue");
  const r = await page.goto(`/reports?unit=${encodeURIComponent(HUE)}&period=h1&year=20x6`);
  assert.equal(r.status(), 422);
  assert.match(await page.locator("[data-testid=report-error]").textContent(), /^Năm: /);
  const future = await page.goto(`/reports?unit=${encodeURIComponent(HUE)}&period=h1&year=2099`);
  assert.equal(future.status(), 422);
  assert.match(await page.locator("[data-testid=report-error]").textContent(), /^Năm: /);
  const early = await page.goto(`/reports?unit=${encodeURIComponent(HUE)}&period=year&year=2005`);
  assert.equal(early.status(), 422);
  assert.match(await page.locator("[data-testid=report-error]").textContent(), /^Năm: chưa có chương trình .* 2005\.$/);
  const years = await page.locator("[data-testid=report-year] option").evaluateAll((os) => os.map((o) => Number(o.value)));
  assert.equal(Math.min(...years), 2021, "years start with the 2021–2025 programme");
  const period = await page.goto(`/reports?unit=${encodeURIComponent(HUE)}&period=q3`);
  assert.equal(period.status(), 422);
  assert.match(await page.locator("[data-testid=report-error]").textContent(), /^Kỳ báo cáo: /);
  const bad = await page.request.get("/reports/export/establishments.csv?type=casino");
  assert.equal(bad.status(), 422);
});

test("a commune team's leader gets the commune's report, without a breakdown by area", async () => {
  const page = await newPage(browser, server);
  await signIn(page, "doitruong.phuxuan");
  await page.goto("/reports");
  const report = page.locator("[data-testid=report]");
  const unit = await report.getAttribute("data-unit");
  const units = await page.locator("[data-testid=report-unit] option").evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(units, [unit], "only the team's commune");
  const leader = await apiToken(server, "doitruong.phuxuan");
  const from = await report.getAttribute("data-from");
  const to = await report.getAttribute("data-to");
  const year = await report.getAttribute("data-year");
  const cov = await apiGet(server, leader, `/api/v1/coverage?unit=${unit}&year=${year}&as_of=${to}`);
  const sum = await apiGet(server, leader, `/api/v1/coverage/summary?unit=${unit}&from=${from}&to=${to}`);
  const got = await indicators(page);
  assert.equal(got.in_scope, cov.total.annual.in_scope);
  assert.equal(got.visits, sum.visits.visits);
  assert.equal(got.tips_received, sum.tips.received);
  assert.equal(await page.locator("[data-testid=children]").count(), 0);
  assertNoProblems(page, assert);
});

test("an inspector has no reports: absent from the navigation and 403 by URL", async () => {
  const page = await newPage(browser, server);
  await signIn(page, "kiemtra.hue");
  assert.equal(await page.locator('nav.mainnav a[href="/reports"]').count(), 0);
  const r = await page.goto("/reports");
  assert.equal(r.status(), 403);
  for (const path of ["/reports/report.xlsx", "/reports/export/visits.csv"]) {
    assert.equal((await page.request.get(path)).status(), 403, path);
  }
});

test("on a phone the report and the export buttons fit the screen; English works", async () => {
  const page = await newPage(browser, server, PHONE);
  await signIn(page, "tinh.hue");
  await page.goto(`/lang/en?next=${encodeURIComponent(`/reports?unit=${HUE}&period=h1`)}`);
  assert.match(await page.locator("h1.report-title").textContent(), /First half-year/);
  assert.match(await page.locator("tr[data-k=fines] td.num").first().textContent(), /^[\d,]+ ₫$/);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `no sideways scrolling of the page (${overflow}px)`);
  const button = await page.locator("[data-testid=export-visits-csv]").boundingBox();
  assert.ok(button.height >= 44, "touch-sized buttons");
  await screenshot(page, "reports-03-report-phone", { fullPage: false });
  assertNoProblems(page, assert);
});
