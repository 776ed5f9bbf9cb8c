// Team leader workspace and inspector home: the planner's proposals → a draft → released to the
// team (checked through the API as the inspector, before and after), review with a comment the
// inspector's phone receives, and role / jurisdiction rules by URL.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, newPage, signIn, assertNoProblems, screenshot, apiToken, apiGet, PHONE, LAPTOP } from "./harness.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

/** Accepts hx-confirm dialogs (Playwright dismisses them by default). */
function acceptDialogs(page) { page.on("dialog", (d) => d.accept()); }

/** Reads the sync feed to its end; resolves to the last cursor. */
async function syncToEnd(token, cursor = "0") {
  for (let i = 0; i < 400; i++) {
    const r = await apiGet(server, token, `/api/v1/sync?cursor=${cursor}`);
    cursor = r.cursor;
    if (!r.has_more) return { cursor, last: r };
  }
  throw new Error("sync did not end in 400 pages");
}

test("an inspector cannot open the leader's workspace, and lands on a read-only home", async () => {
  const page = await newPage(browser, server, PHONE);
  await signIn(page, "kiemtra.hue");
  assert.equal(new URL(page.url()).pathname, "/inspector");
  assert.equal(await page.locator("h1").textContent(), "Việc của tôi");
  // No draft among the work shown, and no form to record anything.
  const statuses = await page.locator('[data-testid="work"]').evaluateAll((els) => els.map((e) => e.dataset.status));
  assert.ok(statuses.length > 0, "the demo team has released work");
  assert.ok(statuses.every((s) => s === "released" || s === "done"), `statuses: ${statuses}`);
  assert.equal(await page.locator("main form").count(), 0);
  for (const path of ["/leader", "/leader/assignments", "/leader/reviews", "/tips"]) {
    const r = await page.goto(path);
    assert.equal(r.status(), 403, path);
  }
  assertNoProblems(page, assert);
});

test("doitruong.hue plans, drafts and releases an assignment; kiemtra.hue sees it only once released", async () => {
  const page = await newPage(browser, server, LAPTOP);
  acceptDialogs(page);
  await signIn(page, "doitruong.hue");
  assert.equal(new URL(page.url()).pathname, "/leader");
  const teamId = await page.inputValue('#plan-form input[name="team_id"]');
  // The form writes dates as dd/mm/yyyy; the API speaks ISO 8601.
  const iso = (d) => d.split("/").reverse().join("-");
  const from = iso(await page.inputValue('input[name="window_start"]'));
  const to = iso(await page.inputValue('input[name="window_end"]'));

  // The page shows the API's proposals, in the API's order, with the API's scores and gap.
  const leaderToken = await apiToken(server, "doitruong.hue");
  const plan = await apiGet(server, leaderToken, `/api/v1/planner?team=${teamId}&from=${from}&to=${to}`);
  const apiIds = plan.groups.flatMap((g) => g.establishments.map((e) => e.id));
  const pageIds = await page.locator('input[name="establishment_ids"]').evaluateAll((els) => els.map((e) => e.value));
  assert.deepEqual(pageIds, apiIds);
  assert.equal(await page.locator('[data-testid="outing"]').count(), plan.groups.length);
  const firstScore = await page.locator('[data-testid="score"]').first().textContent();
  assert.equal(firstScore.replace(/\./g, ""), String(Math.round(plan.groups[0].establishments[0].score.total)));
  const needed = await page.locator('[data-testid="needed"]').first().textContent().catch(() => null);
  if (plan.gap && plan.gap.annual.needed > 0) assert.equal(needed.replace(/\./g, ""), String(plan.gap.annual.needed));
  await screenshot(page, "leader-plan-laptop");

  // Nothing selected: the form says so, next to the button, and nothing is created.
  const before = await apiGet(server, leaderToken, "/api/v1/assignments?status=draft");
  await page.click('[data-testid="create-draft"]');
  await page.waitForSelector('#create-result p.error[data-field="establishment_ids"]');
  assert.match(await page.locator("#create-result").textContent(), /Chọn ít nhất một cơ sở/);
  assert.equal((await apiGet(server, leaderToken, "/api/v1/assignments?status=draft")).items.length, before.items.length);

  // Select the whole first outing and one proposal of another.
  const gi = plan.groups.findIndex((g) => g.establishments.length > 1);
  assert.ok(gi >= 0, "the planner grouped nearby establishments into an outing");
  assert.equal(await page.locator('[data-testid="outing"]').first().locator(".outing-all").count(), plan.groups[0].establishments.length > 1 ? 1 : 0);
  await page.locator('[data-testid="outing"]').nth(gi).locator(".outing-all").check();
  const chosen = plan.groups[gi].establishments.map((e) => e.id);
  const extra = apiIds.find((id) => !chosen.includes(id));
  await page.check(`input[name="establishment_ids"][value="${extra}"]`);
  chosen.push(extra);
  assert.match(await page.locator("#selected-count").textContent(), new RegExp(`^${chosen.length} đã chọn`));
  await page.selectOption("#kind", "planned");
  await page.fill('textarea[name="note"]', "Đợt kiểm tra thử nghiệm từ trình duyệt");
  await Promise.all([page.waitForURL(/\/leader\/assignments\/[0-9a-f-]{36}$/), page.click('[data-testid="create-draft"]')]);
  const id = page.url().split("/").pop();
  assert.equal(await page.locator('[data-testid="status"]').textContent(), "Bản nháp");
  assert.equal(await page.locator('[data-testid="assignment-establishment"]').count(), chosen.length);

  const draft = await apiGet(server, leaderToken, `/api/v1/assignments/${id}`);
  assert.equal(draft.status, "draft");
  assert.equal(draft.kind, "planned");
  assert.equal(draft.team_id, teamId);
  assert.equal(draft.note, "Đợt kiểm tra thử nghiệm từ trình duyệt");
  assert.deepEqual([...draft.establishment_ids].sort(), [...chosen].sort());
  assert.equal(draft.window_start, from);
  assert.equal(draft.window_end, to);

  // Before release the inspector does not see it, neither listed nor by id nor by sync.
  const inspectorToken = await apiToken(server, "kiemtra.hue");
  const { cursor } = await syncToEnd(inspectorToken);
  let mine = await apiGet(server, inspectorToken, "/api/v1/assignments");
  assert.ok(!mine.items.some((a) => a.id === id), "a draft is not shown to the inspector");
  const hidden = await fetch(`${server.url}/api/v1/assignments/${id}`, { headers: { authorization: `Bearer ${inspectorToken}` } });
  assert.equal(hidden.status, 404);

  await page.click('[data-testid="action-release"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.textContent === "Đã giao");
  assert.equal(await page.locator('[data-testid="action-release"]').count(), 0, "a released assignment cannot be released again");
  await screenshot(page, "leader-assignment-released");

  mine = await apiGet(server, inspectorToken, "/api/v1/assignments");
  const seen = mine.items.find((a) => a.id === id);
  assert.ok(seen, "the released assignment is shown to the inspector");
  assert.equal(seen.status, "released");
  assert.deepEqual([...seen.establishment_ids].sort(), [...chosen].sort());
  const pulled = await apiGet(server, inspectorToken, `/api/v1/sync?cursor=${cursor}`);
  assert.ok(pulled.assignments.some((a) => a.id === id), "the phone receives it at its next sync");

  // The assignments list has it under "released", with the actions that status allows.
  await page.goto("/leader/assignments?status=released");
  const card = page.locator(`[data-testid="assignment"][data-id="${id}"]`);
  assert.equal(await card.count(), 1);
  assert.equal(await card.locator('[data-testid="action-complete"]').count(), 1);
  assert.equal(await card.locator('[data-testid="action-cancel"]').count(), 1);
  await page.goto("/leader/assignments?status=draft");
  assert.equal(await page.locator(`[data-testid="assignment"][data-id="${id}"]`).count(), 0);
  await screenshot(page, "leader-assignments");

  // The inspector's home shows it too.
  const ins = await newPage(browser, server, PHONE);
  await signIn(ins, "kiemtra.hue");
  assert.match(await ins.locator("main").textContent(), /Đợt kiểm tra thử nghiệm từ trình duyệt/);
  await screenshot(ins, "inspector-home-phone", { fullPage: false });
  assertNoProblems(page, assert);
  assertNoProblems(ins, assert);
});

test("the leader's workspace fits a phone screen", async () => {
  const page = await newPage(browser, server, PHONE);
  await signIn(page, "doitruong.hue");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px`);
  const box = await page.locator('label.proposal').first().boundingBox();
  assert.ok(box.height >= 44, "a proposal is a large touch target");
  await screenshot(page, "leader-plan-phone");
  await page.goto("/leader/assignments?status=draft");
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth) <= 1);
  await screenshot(page, "leader-assignments-phone");
  assertNoProblems(page, assert);
});

test("the leader requests a correction with a comment, and the inspector receives it through the API", async () => {
  const page = await newPage(browser, server, LAPTOP);
  await signIn(page, "doitruong.hue");
  await page.goto("/leader/reviews");
  const rows = page.locator('[data-testid="pending-visit"]');
  const n = await rows.count();
  assert.ok(n > 0, "the demo has visits awaiting review");
  await screenshot(page, "leader-reviews");

  // The fewer-than-three-members flag agrees with what the visit records, row by row.
  const leaderToken = await apiToken(server, "doitruong.hue");
  for (let i = 0; i < Math.min(n, 8); i++) {
    const vid = await rows.nth(i).getAttribute("data-id");
    const v = await apiGet(server, leaderToken, `/api/v1/visits/${vid}`);
    assert.equal(v.review_status, "submitted");
    const flagged = await rows.nth(i).locator('[data-testid="few-members"]').count();
    assert.equal(flagged, v.members_present.length < 3 ? 1 : 0, `visit ${vid} with ${v.members_present.length} members`);
  }

  // A visit of kiemtra.hue's team.
  const inspectorToken = await apiToken(server, "kiemtra.hue");
  const teamVisits = new Set((await apiGet(server, inspectorToken, "/api/v1/visits?limit=200")).items.map((v) => v.id));
  const ids = await rows.evaluateAll((els) => els.map((e) => e.dataset.id));
  const vid = ids.find((id) => teamVisits.has(id));
  assert.ok(vid, "a visit of the inspector's team awaits review");
  const { cursor } = await syncToEnd(inspectorToken);

  await page.goto(`/leader/visits/${vid}`);
  const v = await apiGet(server, leaderToken, `/api/v1/visits/${vid}`);
  const minutes = (await page.locator('[data-testid="minutes"]').textContent()).trim();
  assert.equal(minutes, v.minutes_no ?? "Không có");
  // No comment: refused, the form says what to write.
  await page.click('[data-testid="request-correction"]');
  await page.waitForSelector('#review-result p.error[data-field="comment"]');
  const comment = "Bổ sung ảnh biển hiệu và số biên bản; ghi rõ giờ kết thúc.";
  await page.fill('[data-testid="review-comment-input"]', comment);
  await page.click('[data-testid="request-correction"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="review-status"]')?.textContent === "Yêu cầu bổ sung");
  assert.equal((await page.locator('[data-testid="review-comment"]').textContent()).includes(comment), true);
  await screenshot(page, "leader-review", { fullPage: true });

  // The checklist reads in the page's language: Vietnamese, and the template's English in English.
  const template = await apiGet(server, leaderToken, `/api/v1/checklist-templates/${v.template_id}`);
  const expected = (lang) => v.answers.map((a) => {
    const item = template.items.find((i) => i.code === a.item);
    return `${a.item} · ${lang === "en" ? item.text_en : item.text}`;
  });
  const checklistRows = () => page.locator('[data-testid="checklist"] tbody tr td:first-child').evaluateAll((tds) => tds.map((td) => td.textContent.trim()));
  if (v.answers.length > 0) {
    assert.deepEqual((await checklistRows()).slice(0, v.answers.length), expected("vi"));
    await page.goto(`/lang/en?next=${encodeURIComponent(`/leader/visits/${vid}`)}`);
    assert.deepEqual((await checklistRows()).slice(0, v.answers.length), expected("en"));
    assert.ok(expected("en").every((t, i) => t !== expected("vi")[i]), "every item has its translation");
    await page.goto(`/lang/vi?next=${encodeURIComponent(`/leader/visits/${vid}`)}`);
  }

  const got = await apiGet(server, inspectorToken, `/api/v1/visits/${vid}`);
  assert.equal(got.review_status, "correction_requested");
  assert.equal(got.review_comment, comment);
  const pulled = await apiGet(server, inspectorToken, `/api/v1/sync?cursor=${cursor}`);
  const synced = pulled.visits.find((x) => x.id === vid);
  assert.ok(synced, "the phone's next sync carries the reviewed visit");
  assert.equal(synced.review_comment, comment);
  assert.equal(synced.review_status, "correction_requested");

  // It left the queue; the inspector's home shows the comment first.
  await page.goto("/leader/reviews");
  assert.equal(await page.locator(`[data-testid="pending-visit"][data-id="${vid}"]`).count(), 0);
  const ins = await newPage(browser, server, PHONE);
  await signIn(ins, "kiemtra.hue");
  assert.equal(await ins.locator('[data-testid="my-visit"] [data-testid="comment"]').first().textContent(), comment);
  await screenshot(ins, "inspector-comment-phone", { fullPage: true });
  assertNoProblems(page, assert);
  assertNoProblems(ins, assert);
});

test("a Huế leader cannot open Quảng Trị's assignments, visits or planner by URL", async () => {
  const qt = await apiToken(server, "doitruong.quangtri");
  const qtAssignments = (await apiGet(server, qt, "/api/v1/assignments")).items;
  const qtVisits = (await apiGet(server, qt, "/api/v1/visits?limit=5")).items;
  assert.ok(qtAssignments.length > 0 && qtVisits.length > 0);
  const page = await newPage(browser, server, LAPTOP);
  await signIn(page, "doitruong.hue");
  for (const path of [`/leader/assignments/${qtAssignments[0].id}`, `/leader/visits/${qtVisits[0].id}`,
    `/leader?team=${qtAssignments[0].team_id}`, "/leader/assignments/00000000-0000-0000-0000-000000000000", "/leader/visits/not-an-id"]) {
    const r = await page.goto(path);
    assert.equal(r.status(), 404, path);
  }
  // Nor act on them.
  await page.goto("/leader");
  const status = await page.evaluate(async (id) => {
    const csrf = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"];
    const r = await fetch(`/leader/assignments/${id}/cancel`, { method: "POST", headers: { "X-CSRF-Token": csrf, "HX-Request": "true" } });
    return r.status;
  }, qtAssignments[0].id);
  assert.equal(status, 404);
  assert.notEqual((await apiGet(server, qt, `/api/v1/assignments/${qtAssignments[0].id}`)).status, "cancelled");
});

test("the English switch translates the workspace", async () => {
  const page = await newPage(browser, server, LAPTOP);
  await signIn(page, "doitruong.hue");
  await page.click("a.lang");
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.match(await page.locator("h1").textContent(), /Inspection planning/);
  assert.match(await page.locator('[data-testid="create-draft"]').textContent(), /Create draft/);
  assertNoProblems(page, assert);
});
