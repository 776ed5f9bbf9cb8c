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
    assert(title.includes("Đội 178"), `page title is ${JSON.stringify(title)}`);
  });

  await check("the username, password and server URL inputs and the sign-in button exist", async () => {
    const byName = {};
    for (const name of ["username", "password", "server_url"]) {
      byName[name] = await find(`form.signin input[name="${name}"]`);
    }
    assert((await attribute(byName.password, "type")) === "password", "the password input is not type=password");
    assert(await visible(byName.username), "the username input is not visible");
    assert(await visible(byName.password), "the password input is not visible");
    const button = await find('form.signin button[type="submit"]');
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

  // The shell maps every core command 1:1: ask the real core (opened in the app's data directory)
  // through window.__TAURI__.core.invoke, as the UI does.
  const invoke = (name, args) =>
    wd("POST", s("/execute/async"), {
      script:
        "const done = arguments[arguments.length - 1];" +
        " window.__TAURI__.core.invoke(arguments[0], arguments[1])" +
        ".then((v) => done({ ok: v }), (e) => done({ err: e }));",
      args: [name, args],
    });

  await check("app_info answers through window.__TAURI__.core.invoke", async () => {
    const r = await invoke("app_info", {});
    assert(r.ok && r.ok.version === APP_VERSION, `app_info answered ${JSON.stringify(r)}`);
  });

  await check("the core's commands answer through the shell: settings and status", async () => {
    const settings = await invoke("settings_get", { args: {} });
    assert(settings.ok, `settings_get failed: ${JSON.stringify(settings)}`);
    assert(settings.ok.photo_long_edge === 1600 && settings.ok.photo_quality === 80,
      `unexpected default settings ${JSON.stringify(settings.ok)}`);
    const status = await invoke("status", {});
    assert(status.ok && status.ok.signed_in === false, `status answered ${JSON.stringify(status)}`);
    const bad = await invoke("visit_get", { args: { id: "not-a-uuid" } });
    assert(bad.err && typeof bad.err.code === "string", `a bad id must be a coded error: ${JSON.stringify(bad)}`);
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
