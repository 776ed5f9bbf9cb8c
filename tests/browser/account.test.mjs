// Every user changes their own password from the header's account link; an account whose
// password was reset to a temporary one is sent to the password form before anything else.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, newPage, signIn, assertNoProblems, screenshot, apiToken, LAPTOP, PASSWORD } from "./harness.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

async function api(method, path, token, body) {
  const r = await fetch(`${server.url}${path}`, {
    method, headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: r.status === 204 ? null : await r.json() };
}

async function submit(page) {
  await page.click('[data-testid="change-password"]');
}

test("an inspector changes their password: mistakes are explained in Vietnamese, then it works", async () => {
  const page = await newPage(browser, server, LAPTOP);
  await signIn(page, "kiemtra.hue");
  await Promise.all([page.waitForNavigation(), page.click('[data-testid="account"]')]);
  assert.equal(new URL(page.url()).pathname, "/account/password");
  assert.equal(await page.locator("h1").textContent(), "Đổi mật khẩu");
  assert.equal(await page.locator('[data-testid="must-change"]').count(), 0);

  const fresh = "chuồn chuồn bay thấp thì mưa";
  await page.fill('[data-testid="current-password"]', PASSWORD);
  await page.fill('[data-testid="new-password"]', fresh);
  await page.fill('[data-testid="repeat-password"]', fresh + " to");
  await submit(page);
  const mismatch = page.locator('#password-result p.error[data-field="repeat_password"]');
  await mismatch.waitFor();
  assert.equal(await mismatch.textContent(), "Hai lần nhập mật khẩu mới không khớp nhau.");

  await page.fill('[data-testid="current-password"]', "không phải mật khẩu này");
  await page.fill('[data-testid="repeat-password"]', fresh);
  await submit(page);
  const wrong = page.locator('#password-result p.error[data-field="current_password"]');
  await wrong.waitFor();
  assert.match(await wrong.textContent(), /^Mật khẩu hiện tại không đúng/);

  await page.fill('[data-testid="current-password"]', PASSWORD);
  await page.fill('[data-testid="new-password"]', "kiemtra.hue 2026 mới");
  await page.fill('[data-testid="repeat-password"]', "kiemtra.hue 2026 mới");
  await submit(page);
  const weak = page.locator('#password-result p.error[data-field="new_password"]');
  await weak.waitFor();
  assert.equal(await weak.textContent(), "Mật khẩu mới không được chứa tên đăng nhập.");

  await page.fill('[data-testid="new-password"]', fresh);
  await page.fill('[data-testid="repeat-password"]', fresh);
  await submit(page);
  await page.locator('[data-testid="password-changed"]').waitFor();
  assert.match(await page.locator('[data-testid="password-changed"]').textContent(), /^Đã đổi mật khẩu/);
  await screenshot(page, "account-password");
  // The new password signs in; the old one no longer does.
  await apiToken(server, "kiemtra.hue", fresh);
  await assert.rejects(apiToken(server, "kiemtra.hue", PASSWORD));
  // This browser session goes on.
  await page.goto("/inspector");
  assert.equal(new URL(page.url()).pathname, "/inspector");
  assertNoProblems(page, assert);
});

test("a temporary password leads to the password form first, then the pages open again", async () => {
  const staff = await apiToken(server, "tinh.hue");
  const users = await api("GET", "/api/v1/users?q=doitruong.phuxuan", staff);
  const leader = users.body.items.find((u) => u.username === "doitruong.phuxuan");
  const reset = await api("POST", `/api/v1/users/${leader.id}/password-reset`, staff, { reason: "quên mật khẩu" });
  assert.equal(reset.status, 200);
  const temporary = reset.body.temporary_password;

  const page = await newPage(browser, server, LAPTOP);
  await signIn(page, "doitruong.phuxuan", temporary);
  assert.equal(new URL(page.url()).pathname, "/account/password", "sent to the password form");
  assert.match(await page.locator('[data-testid="must-change"]').textContent(), /mật khẩu tạm/);
  await page.goto("/leader");
  assert.equal(new URL(page.url()).pathname, "/account/password", "every page leads back to it");

  const own = "phố cổ đêm rằm đèn lồng";
  await page.fill('[data-testid="current-password"]', temporary);
  await page.fill('[data-testid="new-password"]', own);
  await page.fill('[data-testid="repeat-password"]', own);
  await submit(page);
  await page.locator('[data-testid="password-changed"]').waitFor();
  await page.goto("/leader");
  assert.equal(new URL(page.url()).pathname, "/leader");
  const token = await apiToken(server, "doitruong.phuxuan", own);
  assert.equal((await api("GET", "/api/v1/me", token)).body.must_change_password, false);
  assertNoProblems(page, assert);
});
