// The accounts page (/admin/users) of provincial staff: the province's accounts with search and
// filters, creating one (a temporary password shown once), editing, deactivating and
// reactivating, a password reset, unlocking; nothing of another province; not for inspectors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, newPage, signIn, assertNoProblems, screenshot, apiToken, apiGet, LAPTOP } from "./harness.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

async function login(username, password) {
  const r = await fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }),
  });
  return r.status;
}

const fold = (s) => s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();

test("staff list, search and filter their province's accounts, and only theirs", async () => {
  const page = await newPage(browser, server, LAPTOP);
  await signIn(page, "tinh.hue");
  await Promise.all([page.waitForNavigation(), page.click('nav.mainnav a[href="/admin/users"]')]);
  assert.equal(await page.locator("h1").textContent(), "Tài khoản");
  const token = await apiToken(server, "tinh.hue");
  const api = (await apiGet(server, token, "/api/v1/users")).items;
  const shown = await page.locator('[data-testid="user"]').evaluateAll((rows) => rows.map((r) => r.dataset.username));
  assert.deepEqual(shown, api.map((u) => u.username), "the page lists what the API lists, in order");
  assert.ok(!shown.includes("tinh.quangtri") && !shown.includes("doitruong.quangtri"), "nothing of Quảng Trị");

  // Search without diacritics, in capitals, finds a name written with them.
  const inspector = api.find((u) => u.role === "inspector");
  await page.fill('[data-testid="user-search"]', fold(inspector.display_name).toUpperCase());
  await Promise.all([page.waitForNavigation(), page.click('[data-testid="user-filters"] button[type="submit"]')]);
  const found = await page.locator('[data-testid="user"]').evaluateAll((rows) => rows.map((r) => r.dataset.username));
  assert.ok(found.includes(inspector.username), `${inspector.display_name}: ${found}`);
  await page.goto("/admin/users?role=team_leader");
  const leaders = await page.locator('[data-testid="user"]').evaluateAll((rows) => rows.map((r) => r.dataset.username));
  assert.deepEqual(leaders, api.filter((u) => u.role === "team_leader").map((u) => u.username));

  // Another province's account answers as if it did not exist.
  const admin = await apiToken(server, "admin");
  const qt = (await apiGet(server, admin, "/api/v1/users?q=doitruong.quangtri")).items[0];
  const r = await page.goto(`/admin/users/${qt.id}`);
  assert.equal(r.status(), 404);
  assertNoProblems(page, assert);
});

test("staff create an account, edit it, deactivate and reactivate it, reset its password and unlock it", async () => {
  const page = await newPage(browser, server, LAPTOP);
  await signIn(page, "tinh.hue");
  await page.goto("/admin/users");
  await page.click('[data-testid="create-user"] summary');
  await page.fill('[data-testid="new-username"]', "kiemtra.moi");
  await page.fill('[data-testid="new-display-name"]', "Nguyễn Thị Mới");
  await page.selectOption('[data-testid="new-role"]', "inspector");
  const commune = await page.locator('[data-testid="new-unit"] option').nth(2).getAttribute("value");
  await page.selectOption('[data-testid="new-unit"]', commune);
  await page.click('[data-testid="create"]');
  await page.locator('[data-testid="temporary-password"]').waitFor();
  const temporary = (await page.locator('[data-testid="temporary-value"]').textContent()).trim();
  assert.match(temporary, /^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/);
  await screenshot(page, "admin-user-created");
  assert.equal(await login("kiemtra.moi", temporary), 200);
  const accountPage = await page.locator('[data-testid="temporary-password"] a').getAttribute("href");

  // The same username again is refused naming the field, in Vietnamese.
  await page.click('[data-testid="create"]');
  await page.locator('#create-result p.error[data-field="username"]').waitFor();
  assert.match(await page.locator('#create-result p.error').textContent(), /^Tên đăng nhập/);

  await page.goto(accountPage);
  assert.equal(await page.locator('[data-testid="must-change"]').count(), 1);
  await page.fill('[data-testid="edit-display-name"]', "Nguyễn Thị Đã Sửa");
  await Promise.all([page.waitForNavigation(), page.click('[data-testid="save"]')]);
  assert.match(await page.locator("h1").textContent(), /^Nguyễn Thị Đã Sửa/);

  // Deactivating needs a reason; then the account cannot sign in, until reactivated.
  await page.click('[data-testid="deactivate"]');
  await page.locator('#action-result p.error[data-field="reason"]').waitFor();
  assert.equal(await page.locator('#action-result p.error').textContent(), "Ghi lý do (được lưu vào nhật ký kiểm toán).");
  await page.fill('[data-testid="reason"]', "nghỉ phép dài hạn");
  await Promise.all([page.waitForNavigation(), page.click('[data-testid="deactivate"]')]);
  assert.equal(await page.locator('[data-testid="status"]').textContent(), "Đã khóa");
  assert.equal(await login("kiemtra.moi", temporary), 401);
  await page.fill('[data-testid="reason"]', "đi làm lại");
  await Promise.all([page.waitForNavigation(), page.click('[data-testid="reactivate"]')]);
  assert.equal(await page.locator('[data-testid="status"]').textContent(), "Đang hoạt động");
  assert.equal(await login("kiemtra.moi", temporary), 200);

  // Locked by failed sign-ins, then unlocked from the page.
  for (let i = 0; i < 5; i++) assert.equal(await login("kiemtra.moi", "sai mật khẩu nhiều lần"), 401);
  assert.equal(await login("kiemtra.moi", temporary), 429);
  await page.reload();
  assert.equal(await page.locator('[data-testid="locked"]').count(), 1);
  await Promise.all([page.waitForNavigation(), page.click('[data-testid="unlock"]')]);
  assert.equal(await page.locator('[data-testid="locked"]').count(), 0);
  assert.equal(await login("kiemtra.moi", temporary), 200);

  // A password reset gives a new temporary password; the old one stops working.
  await page.fill('[data-testid="reason"]', "người dùng quên mật khẩu");
  await page.click('[data-testid="reset-password"]');
  await page.locator('[data-testid="temporary-password"]').waitFor();
  const second = (await page.locator('[data-testid="temporary-value"]').textContent()).trim();
  assert.notEqual(second, temporary);
  assert.equal(await login("kiemtra.moi", temporary), 401);
  assert.equal(await login("kiemtra.moi", second), 200);
  assertNoProblems(page, assert);
});

test("inspectors and team leaders have no accounts page", async () => {
  const page = await newPage(browser, server, LAPTOP);
  await signIn(page, "kiemtra.hue");
  assert.equal(await page.locator('nav.mainnav a[href="/admin/users"]').count(), 0);
  const r = await page.goto("/admin/users");
  assert.equal(r.status(), 403);
});
