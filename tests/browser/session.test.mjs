// Sign-in, roles' homes, language switch, sign-out and anti-forgery protection.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, newPage, signIn, assertNoProblems, screenshot, PHONE } from "./harness.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

test("the sign-in form is in Vietnamese and a wrong password is refused with a clear message", async () => {
  const page = await newPage(browser, server);
  await page.goto("/");
  assert.equal(await page.locator("h1").textContent(), "Đăng nhập");
  await screenshot(page, "01-sign-in");
  await page.fill('input[name="username"]', "tinh.hue");
  await page.fill('input[name="password"]', "wrong-password");
  await page.click('button[type="submit"]');
  await page.waitForSelector("p.error");
  assert.match(await page.locator("p.error").textContent(), /Sai tên đăng nhập hoặc mật khẩu/);
  assert.equal(await page.inputValue('input[name="username"]'), "tinh.hue");
  assertNoProblems(page, assert);
});

for (const [username, home] of [["admin", "/map"], ["tinh.hue", "/map"], ["doitruong.hue", "/leader"], ["kiemtra.hue", "/inspector"]]) {
  test(`${username} lands on ${home}`, async () => {
    const page = await newPage(browser, server);
    await signIn(page, username);
    assert.equal(new URL(page.url()).pathname, home);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === "doi178_session");
    assert.ok(session, "a session cookie is set");
    assert.equal(session.httpOnly, true, "the session cookie is HttpOnly");
    assert.equal(session.sameSite, "Lax");
  });
}

test("a page asked for before signing in is shown after signing in", async () => {
  const page = await newPage(browser, server);
  await page.goto("/establishments?q=karaoke");
  assert.equal(new URL(page.url()).pathname, "/");
  await page.fill('input[name="username"]', "tinh.hue");
  await page.fill('input[name="password"]', "doi178-demo");
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  const u = new URL(page.url());
  assert.equal(u.pathname + u.search, "/establishments?q=karaoke");
});

test("the language switch turns the interface into English and back", async () => {
  const page = await newPage(browser, server, PHONE);
  await page.goto("/");
  await page.click("a.lang");
  assert.equal(await page.locator("h1").textContent(), "Sign in");
  assert.equal(await page.getAttribute("html", "lang"), "en");
  await page.click("a.lang");
  assert.equal(await page.locator("h1").textContent(), "Đăng nhập");
});

test("signing out ends the session: the old cookie no longer opens pages", async () => {
  const page = await newPage(browser, server);
  await signIn(page, "tinh.hue");
  const before = (await page.context().cookies()).find((c) => c.name === "doi178_session");
  await Promise.all([page.waitForNavigation(), page.click('[data-testid="logout"]')]);
  assert.equal(new URL(page.url()).pathname, "/");
  // Replaying the old cookie must not work either: the session was revoked on the server.
  const replay = await fetch(`${server.url}/map`, { headers: { cookie: `doi178_session=${before.value}` }, redirect: "manual" });
  assert.equal(replay.status, 303);
  assert.match(replay.headers.get("location"), /^\/\?next=/);
});

test("a change without the page's anti-forgery token is refused", async () => {
  const page = await newPage(browser, server);
  await signIn(page, "tinh.hue");
  const cookie = (await page.context().cookies()).find((c) => c.name === "doi178_session");
  const r = await fetch(`${server.url}/logout`, { method: "POST", headers: { cookie: `doi178_session=${cookie.value}` }, redirect: "manual" });
  assert.equal(r.status, 403);
  // And the session is still alive.
  const still = await fetch(`${server.url}/`, { headers: { cookie: `doi178_session=${cookie.value}` }, redirect: "manual" });
  assert.equal(still.status, 303);
  assert.equal(still.headers.get("location"), "/map");
});

test("an unknown page is a 404 page, not an empty response", async () => {
  const page = await newPage(browser, server);
  const r = await page.goto("/no-such-page");
  assert.equal(r.status(), 404);
  assert.match(await page.locator("h1").textContent(), /Không tìm thấy/);
});
