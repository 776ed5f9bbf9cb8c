//! `field-bridge`: the development bridge of the field app. It serves the built UI
//! (`field-app/ui/dist`) and the core's command surface over HTTP on 127.0.0.1 only, so the UI
//! can be developed and tested in a browser without the Tauri shell:
//!
//! ```text
//! field-bridge --data-dir DIR [--port 0] [--ui field-app/ui/dist] [--server-url URL] [--test-controls]
//! ```
//!
//! - `POST /cmd/<name>` with a JSON body (`Content-Type: application/json`) runs
//!   [`commands::call`] and answers 200 with the result, or a 4xx (500 for a local store
//!   failure) with the [`FieldError`] as JSON (`{code, message, field?, detail?}`).
//! - `POST /cmd/photo_capture` with `{visit_id, data_base64, taken_at?, id?}`: the file as the
//!   camera or the gallery gave it, through the core's photo pipeline (a command like the others).
//! - `POST /test/offline` and `POST /test/online`, only with `--test-controls`: point the core at
//!   a closed local port (the server cannot be reached) and back, so a browser test can go
//!   offline. With `--test-controls` the core also retries briefly (tests stay quick).
//! - Anything else is a file of the UI directory (`/` is `index.html`).
//!
//! On start it prints `field-bridge listening on http://127.0.0.1:PORT` on stdout.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use doi178_field::error::code;
use doi178_field::{
    commands, FieldCore, FieldError, FieldResult, Options, RetryPolicy, SettingsPatch,
};
use serde_json::{json, Value};
use tiny_http::{Header, Method, Request, Response, Server};

/// Largest request body accepted (a photo of at most 15 MiB, base64-encoded, fits).
const MAX_BODY: u64 = 24 * 1024 * 1024;

struct Args {
    data_dir: PathBuf,
    port: u16,
    ui: Option<PathBuf>,
    server_url: Option<String>,
    test_controls: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: field-bridge --data-dir DIR [--port PORT] [--ui DIST_DIR] [--server-url URL] [--test-controls]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        data_dir: PathBuf::new(),
        port: 0,
        ui: None,
        server_url: None,
        test_controls: false,
    };
    let mut it = std::env::args().skip(1);
    let mut have_dir = false;
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--data-dir" => {
                a.data_dir = PathBuf::from(value());
                have_dir = true;
            }
            "--port" => a.port = value().parse().unwrap_or_else(|_| usage()),
            "--ui" => a.ui = Some(PathBuf::from(value())),
            "--server-url" => a.server_url = Some(value()),
            "--test-controls" => a.test_controls = true,
            _ => usage(),
        }
    }
    if !have_dir {
        usage()
    }
    a
}

/// What `--test-controls` remembers: the real server URL while "offline".
struct TestControls {
    saved_url: Mutex<Option<String>>,
}

impl TestControls {
    fn offline(&self, core: &FieldCore) -> FieldResult<Value> {
        let mut saved = self.saved_url.lock().unwrap_or_else(|e| e.into_inner());
        if saved.is_none() {
            *saved = Some(core.settings_get()?.server_url);
        }
        // A port that was free a moment ago: nothing listens there, connections are refused.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(FieldError::from)?
            .port();
        core.settings_set(SettingsPatch {
            server_url: Some(format!("http://127.0.0.1:{port}")),
            ..Default::default()
        })?;
        Ok(json!({"offline": true}))
    }

    fn online(&self, core: &FieldCore) -> FieldResult<Value> {
        let mut saved = self.saved_url.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(url) = saved.take() {
            core.settings_set(SettingsPatch {
                server_url: Some(url),
                ..Default::default()
            })?;
        }
        Ok(json!({"offline": false}))
    }
}

fn status_of(e: &FieldError) -> u16 {
    match e.code.as_str() {
        code::INVALID_CREDENTIALS | code::NOT_SIGNED_IN | code::NEEDS_SIGN_IN => 401,
        code::NOT_FOUND => 404,
        code::NOT_EDITABLE => 409,
        code::INVALID => 422,
        // The server could not be reached or answered oddly: a failed dependency, not ours.
        code::OFFLINE | code::SERVER => 424,
        code::STORE => 500,
        _ => 400,
    }
}

fn header(name: &str, value: &str) -> Header {
    #[allow(clippy::unwrap_used)] // ASCII names and values written here.
    Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap()
}

fn json_response(status: u16, v: &Value) -> Response<std::io::Cursor<Vec<u8>>> {
    Response::from_data(serde_json::to_vec(v).unwrap_or_default())
        .with_status_code(status)
        .with_header(header("Content-Type", "application/json; charset=utf-8"))
        .with_header(header("Cache-Control", "no-store"))
}

fn error_response(e: &FieldError) -> Response<std::io::Cursor<Vec<u8>>> {
    json_response(
        status_of(e),
        &serde_json::to_value(e).unwrap_or_else(|_| json!({"code": e.code})),
    )
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "map" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn serve_file(ui: Option<&Path>, url_path: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    let not_found = || {
        Response::from_string("not found")
            .with_status_code(404)
            .with_header(header("Content-Type", "text/plain; charset=utf-8"))
    };
    let Some(root) = ui else {
        return not_found();
    };
    let rel = url_path.split(['?', '#']).next().unwrap_or("");
    let rel = rel.trim_start_matches('/');
    let rel = if rel.is_empty() { "index.html" } else { rel };
    // Plain names only: no `..`, no hidden files, no backslashes.
    if rel
        .split('/')
        .any(|s| s.is_empty() || s.starts_with('.') || s.contains('\\'))
    {
        return not_found();
    }
    let path = root.join(rel);
    match std::fs::read(&path) {
        Ok(bytes) => Response::from_data(bytes)
            .with_header(header("Content-Type", content_type(&path)))
            .with_header(header("Cache-Control", "no-cache")),
        Err(_) => not_found(),
    }
}

fn read_json(req: &mut Request) -> Result<Value, FieldError> {
    let json_type = req
        .headers()
        .iter()
        .any(|h| h.field.equiv("Content-Type") && h.value.as_str().starts_with("application/json"));
    // Cross-site pages cannot send this content type without a preflight we never answer.
    if !json_type {
        return Err(FieldError::new(
            code::BAD_COMMAND,
            "send the arguments as Content-Type: application/json",
        ));
    }
    let mut body = Vec::new();
    req.as_reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .map_err(|e| FieldError::new(code::BAD_COMMAND, format!("reading the body: {e}")))?;
    if body.len() as u64 > MAX_BODY {
        return Err(FieldError::new(
            code::BAD_COMMAND,
            format!("the body is larger than {MAX_BODY} bytes"),
        ));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&body)
        .map_err(|e| FieldError::new(code::BAD_COMMAND, format!("the body is not JSON: {e}")))
}

struct App {
    core: FieldCore,
    ui: Option<PathBuf>,
    controls: Option<TestControls>,
}

fn handle(app: &App, mut req: Request) {
    let url = req.url().to_string();
    let path = url.split('?').next().unwrap_or("").to_string();
    let response = if let Some(name) = path.strip_prefix("/cmd/") {
        if *req.method() != Method::Post {
            error_response(&FieldError::new(code::BAD_COMMAND, "commands are POSTed"))
        } else {
            match read_json(&mut req) {
                Err(e) => error_response(&e),
                Ok(args) => {
                    let result = commands::call(&app.core, name, args);
                    match result {
                        Ok(v) => json_response(200, &v),
                        Err(e) => error_response(&e),
                    }
                }
            }
        }
    } else if let (Some(c), true) = (&app.controls, path.starts_with("/test/")) {
        let r = match (req.method(), path.as_str()) {
            (Method::Post, "/test/offline") => c.offline(&app.core),
            (Method::Post, "/test/online") => c.online(&app.core),
            _ => Err(FieldError::not_found("test control")),
        };
        match r {
            Ok(v) => json_response(200, &v),
            Err(e) => error_response(&e),
        }
    } else if matches!(req.method(), Method::Get | Method::Head) {
        serve_file(app.ui.as_deref(), &path)
    } else {
        error_response(&FieldError::new(code::BAD_COMMAND, "not found"))
    };
    // The client may have gone away; nothing to do about it.
    let _ = req.respond(response);
}

fn main() {
    let args = parse_args();
    let options = if args.test_controls {
        Options {
            retry: RetryPolicy {
                max_attempts: 2,
                base_ms: 50,
                cap_ms: 200,
            },
            timeout: Duration::from_secs(20),
        }
    } else {
        Options::default()
    };
    let core = match FieldCore::open_with(&args.data_dir, None, options) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("field-bridge: cannot open {}: {e}", args.data_dir.display());
            std::process::exit(1)
        }
    };
    if let Some(url) = args.server_url {
        if let Err(e) = core.settings_set(SettingsPatch {
            server_url: Some(url),
            ..Default::default()
        }) {
            eprintln!("field-bridge: --server-url: {e}");
            std::process::exit(2)
        }
    }
    if let Some(ui) = &args.ui {
        if !ui.join("index.html").is_file() {
            eprintln!(
                "field-bridge: {} has no index.html (build the UI: cd field-app/ui && npm ci && npm run build)",
                ui.display()
            );
            std::process::exit(2)
        }
    }
    let server = match Server::http(("127.0.0.1", args.port)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "field-bridge: cannot listen on 127.0.0.1:{}: {e}",
                args.port
            );
            std::process::exit(1)
        }
    };
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .unwrap_or(args.port);
    println!("field-bridge listening on http://127.0.0.1:{port}");
    let app = Arc::new(App {
        core,
        ui: args.ui,
        controls: args.test_controls.then(|| TestControls {
            saved_url: Mutex::new(None),
        }),
    });
    for req in server.incoming_requests() {
        let app = Arc::clone(&app);
        // One thread per request: a long sync does not hold up the status the UI polls.
        std::thread::spawn(move || handle(&app, req));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_files_of_the_ui_directory_are_served() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<!doctype html>").unwrap();
        std::fs::write(dir.path().join("app.js"), "1").unwrap();
        std::fs::write(dir.path().join(".secret"), "x").unwrap();
        let ui = Some(dir.path());
        assert_eq!(serve_file(ui, "/").status_code().0, 200);
        assert_eq!(serve_file(ui, "/app.js?v=1").status_code().0, 200);
        for bad in [
            "/../etc/passwd",
            "/.secret",
            "//etc/passwd",
            "/a/../app.js",
            "/missing.js",
        ] {
            assert_eq!(serve_file(ui, bad).status_code().0, 404, "{bad}");
        }
        assert_eq!(serve_file(None, "/").status_code().0, 404);
        assert_eq!(
            content_type(Path::new("x/app.js")),
            "text/javascript; charset=utf-8"
        );
    }

    #[test]
    fn errors_map_to_client_statuses_and_a_store_failure_to_500() {
        for (c, s) in [
            (code::INVALID, 422),
            (code::INVALID_CREDENTIALS, 401),
            (code::NEEDS_SIGN_IN, 401),
            (code::NOT_FOUND, 404),
            (code::NOT_EDITABLE, 409),
            (code::OFFLINE, 424),
            (code::BAD_COMMAND, 400),
            (code::STORE, 500),
        ] {
            assert_eq!(status_of(&FieldError::new(c, "x")), s, "{c}");
        }
    }
}
