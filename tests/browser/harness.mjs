// Browser-test harness: starts the real `doi178-server` binary on a fresh data directory with the
// demo data, launches Debian's Chromium through playwright-core, and offers small helpers
// (sign in, API tokens, screenshots). Every page fails its test on a JavaScript error or a failed
// request to our own server.
//
// Environment: DOI178_SERVER_BIN (default: $CARGO_TARGET_DIR/debug/doi178-server),
// DOI178_SCREENSHOT_DIR (default: <target dir>/browser-screenshots), CHROMIUM (default
// /usr/bin/chromium), DOI178_BENCH=1 records timings in <screenshot dir>/timings.json.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, existsSync, appendFileSync } from "node:fs";
import { tmpdir, homedir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

export const PASSWORD = "doi178-demo";
const targetDir = process.env.CARGO_TARGET_DIR || join(homedir(), ".cache", "doi178", "target");
export const SERVER_BIN = process.env.DOI178_SERVER_BIN || join(targetDir, "debug", "doi178-server");
export const SHOT_DIR = process.env.DOI178_SCREENSHOT_DIR || join(targetDir, "browser-screenshots");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

function serverEnv() {
  const env = { ...process.env, DOI178_LOG: "warn" };
  for (const k of Object.keys(env)) if (k.startsWith("DOI178_") && k !== "DOI178_LOG") delete env[k];
  return env;
}

/** Starts a server with the demo data on a free port; resolves to { url, stop, log }. */
export async function startServer({ extraArgs = [] } = {}) {
  if (!existsSync(SERVER_BIN)) throw new Error(`server binary ${SERVER_BIN} not found; build it first (cargo build --bin doi178-server)`);
  const dataDir = mkdtempSync(join(tmpdir(), "doi178-browser-"));
  const child = spawn(SERVER_BIN, ["--data-dir", dataDir, "serve", "--demo", "--port", "0", "--workers", "2", ...extraArgs], {
    env: serverEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stderr.on("data", (d) => { log += d; });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 120 s:\n${log}`)), 120_000);
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}):\n${log}`)); });
    createInterface({ input: child.stdout }).on("line", (line) => {
      log += line + "\n";
      const m = line.match(/doi178-server listening on (\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1].replace(/\/$/, "")); }
    });
  });
  child.removeAllListeners("exit");
  return {
    url,
    log: () => log,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => { if (child.exitCode !== null) r(); else child.on("exit", r); });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, without background network chatter (the machine is offline). */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
}

export const PHONE = { viewport: { width: 360, height: 640 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
export const LAPTOP = { viewport: { width: 1366, height: 850 } };

/**
 * A new page in its own browser context; collects JavaScript errors and failed same-origin
 * requests into `page.problems` (check them with `assertNoProblems`).
 */
export async function newPage(browser, server, options = LAPTOP) {
  const context = await browser.newContext({ locale: "vi-VN", ...options, baseURL: server.url, acceptDownloads: true });
  const page = await context.newPage();
  page.problems = [];
  page.on("pageerror", (e) => page.problems.push(`page error: ${e.message}`));
  // A 4xx page the test asked for is logged by Chromium as a failed resource; those are checked by
  // status below instead (any 5xx, and any missing script, style or image of our own).
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) page.problems.push(`console: ${m.text()}`);
  });
  page.on("response", (r) => {
    if (!r.url().startsWith(server.url)) return;
    const type = r.request().resourceType();
    if (r.status() >= 500 || (r.status() >= 400 && ["script", "stylesheet", "image", "font"].includes(type))) {
      page.problems.push(`${r.status()} ${type} ${r.url()}`);
    }
  });
  return page;
}

export function assertNoProblems(page, assert) {
  assert.deepEqual(page.problems, [], "the page had JavaScript errors or server errors");
}

/** Signs in through the form at `/` and waits for the role's home page. */
export async function signIn(page, username, password = PASSWORD) {
  await page.goto("/");
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
}

/** An API access token for `username` (to check through the API what the browser did). */
export async function apiToken(server, username, password = PASSWORD) {
  const r = await fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (!r.ok) throw new Error(`API sign-in as ${username}: ${r.status} ${await r.text()}`);
  return (await r.json()).access_token;
}

/** GET an API path as `token`; resolves to the parsed JSON (throws on a non-2xx). */
export async function apiGet(server, token, path) {
  const r = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

/** Saves a PNG of the page as <SHOT_DIR>/<name>.png. */
export async function screenshot(page, name, { fullPage = false } = {}) {
  mkdirSync(SHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SHOT_DIR, `${name}.png`), fullPage });
}

/** In benchmark mode (DOI178_BENCH=1) appends one timing to <SHOT_DIR>/timings.jsonl. */
export function recordTiming(name, value, unit = "ms") {
  if (process.env.DOI178_BENCH !== "1") return;
  mkdirSync(SHOT_DIR, { recursive: true });
  appendFileSync(join(SHOT_DIR, "timings.jsonl"), JSON.stringify({ name, value, unit, at: new Date().toISOString() }) + "\n");
}
