// Smoke test of the field app's Tauri shell: the real desktop binary in a real WebKitGTK window,
// driven over the W3C WebDriver HTTP API (tauri-driver in front of WebKitWebDriver). No npm
// dependencies: Node's own fetch() speaks the protocol. Run by scripts/field-app-smoke.sh, which
// builds the app, starts Xvfb and tauri-driver, and passes:
//   TAURI_DRIVER_URL    e.g. http://127.0.0.1:4444
//   DOI178_APP_BIN      path to the doi178-field-app binary
//   DOI178_APP_VERSION  the version app_info must report (the workspace version)
//   DOI178_SCREENSHOT   where to save the sign-in screen as PNG
// Prints one line per check and closes with "test result: tauri-smoke. N passed; M failed".
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

const DRIVER = process.env.TAURI_DRIVER_URL ?? "http://127.0.0.1:4444";
const APP_BIN = process.env.DOI178_APP_BIN;
const APP_VERSION = process.env.DOI178_APP_VERSION;
const SCREENSHOT = process.env.DOI178_SCREENSHOT;
// The W3C element reference key.
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

if (!APP_BIN || !APP_VERSION || !SCREENSHOT) {
  console.error("smoke.mjs: DOI178_APP_BIN, DOI178_APP_VERSION and DOI178_SCREENSHOT must be set");
  process.exit(2);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function wd(method, path, body) {
  const response = await fetch(`${DRIVER}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json; charset=utf-8" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${path}: HTTP ${response.status}, not JSON: ${text.slice(0, 300)}`);
  }
  if (!response.ok || (json.value && json.value.error)) {
    const v = json.value ?? {};
    throw new Error(`${method} ${path}: HTTP ${response.status} ${v.error ?? ""}: ${v.message ?? text.slice(0, 300)}`);
  }
  return json.value;
}

// Polls `probe` until it returns a truthy value; the last error or value explains a time-out.
async function waitFor(what, probe, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = `last value: ${JSON.stringify(value)}`;
    } catch (err) {
      last = err.message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${last})`);
    await sleep(250);
  }
}

let passed = 0;
let failed = 0;
async function check(name, body) {
  try {
    await body();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (err) {
    failed += 1;
    console.log(`not ok - ${name}\n  ${String(err.message ?? err).replaceAll("\n", "\n  ")}`);
  }
}
function assert(condition, message) {
  if (!condition) throw new Error(message);
}

let session;
const s = (path) => `/session/${session}${path}`;
const find = async (css) => (await wd("POST", s("/element"), { using: "css selector", value: css }))[ELEMENT];
const findAll = async (css) =>
  (await wd("POST", s("/elements"), { using: "css selector", value: css })).map((e) => e[ELEMENT]);
const text = (id) => wd("GET", s(`/element/${id}/text`));
const displayed = (id) => wd("GET", s(`/element/${id}/displayed`));
const attribute = (id, name) => wd("GET", s(`/element/${id}/attribute/${name}`));
// WebKitWebDriver calls the content of a closed <details> "displayed" (WebKit hides it with
// content-visibility, keeping its box), so the page's own checkVisibility() is asked too.
const visible = async (id) =>
  (await displayed(id)) &&
  (await wd("POST", s("/execute/sync"), {
    script:
      "const e = arguments[0]; if (e.checkVisibility) return e.checkVisibility();" +
      " const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0;",
    args: [{ [ELEMENT]: id }],
  }));

try {
  await check("a WebDriver session starts the app", async () => {
    const started = await wd("POST", "/session", {
      capabilities: { alwaysMatch: { "tauri:options": { application: APP_BIN } } },
    });
    session = started.sessionId;
    assert(session, `no sessionId in ${JSON.stringify(started)}`);
  });
  if (!session) throw new Error("no session: the other checks cannot run");

  await check('the sign-in screen shows the heading "Đăng nhập"', async () => {
    const heading = await waitFor("the h1 heading", () => find("h1"));
    await waitFor('the heading "Đăng nhập" to be visible', async () =>
      (await text(heading)) === "Đăng nhập" && (await visible(heading)));
    const title = await wd("GET", s("/title"));
    assert(title.includes("Đăng nhập"), `page title is ${JSON.stringify(title)}`);
  });

  await check("the server URL, username and password inputs exist", async () => {
    const inputs = await findAll("#signin-form input");
    const byId = {};
    for (const id of inputs) byId[await attribute(id, "id")] = id;
    for (const name of ["server-url", "username", "password"]) {
      assert(byId[name], `no input #${name} among ${JSON.stringify(Object.keys(byId))}`);
    }
    assert((await attribute(byId.password, "type")) === "password", "the password input is not type=password");
    assert(await visible(byId.username), "the username input is not visible");
    assert(await visible(byId.password), "the password input is not visible");
    const button = await find("#signin-button");
    assert((await text(button)) === "Đăng nhập", `the button says ${JSON.stringify(await text(button))}`);
  });

  await check("the screenshot of the sign-in screen is saved", async () => {
    const png = Buffer.from(await wd("GET", s("/screenshot")), "base64");
    assert(png.subarray(1, 4).toString() === "PNG", "the screenshot is not a PNG");
    assert(png.length > 2000, `the screenshot is only ${png.length} bytes`);
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    writeFileSync(SCREENSHOT, png);
    console.log(`  screenshot: ${SCREENSHOT} (${png.length} bytes)`);
  });

  await check("app_info answers through window.__TAURI__.core.invoke", async () => {
    const footer = await find("#app-info");
    const version = await waitFor("the footer to show app_info's version", () => attribute(footer, "data-version"));
    assert(version === APP_VERSION, `app_info reported version ${JSON.stringify(version)}, expected ${APP_VERSION}`);
    const shown = await text(footer);
    assert(shown === `Đội 178 · phiên bản ${APP_VERSION}`, `the footer says ${JSON.stringify(shown)}`);
  });

  await check("signing in without a server URL opens the server settings", async () => {
    const serverUrl = await find("#server-url");
    assert(!(await visible(serverUrl)), "the server URL input is visible before the settings are opened");
    await wd("POST", s(`/element/${await find("#username")}/value`), { text: "to-truong" });
    await wd("POST", s(`/element/${await find("#password")}/value`), { text: "mat-khau" });
    await wd("POST", s(`/element/${await find("#signin-button")}/click`), {});
    const status = await find("#signin-status");
    await waitFor("the status to ask for the server address", async () =>
      (await text(status)) === "Hãy nhập địa chỉ máy chủ.");
    assert(await visible(serverUrl), "the server URL input is still hidden");
    assert((await attribute(await find("#settings"), "open")) !== null, "the settings section is not open");
  });
} catch (err) {
  failed += 1;
  console.log(`not ok - ${err.message}`);
} finally {
  if (session) {
    try {
      await wd("DELETE", `/session/${session}`);
    } catch (err) {
      console.log(`(closing the session failed: ${err.message})`);
    }
  }
}

console.log(`test result: tauri-smoke. ${passed} passed; ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
