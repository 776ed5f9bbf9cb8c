//! Hostile input against the real server, on SQLite and PostgreSQL: decompression bombs and
//! polyglot photos, huge / deep / non-UTF-8 JSON, invalid bytes in query strings and headers,
//! injection-looking text in every free-text field, and malformed import files. Each is a clear
//! 4xx problem (or, where it is legitimate text, stored verbatim and shown escaped), nothing is
//! half-stored (rows are counted before and after), and the server stays up.
//!
//! Policy decided here, per field: names, addresses, owners, tip contents, reporter contacts,
//! visit notes and violation texts are free text in Vietnamese, so `' OR 1=1 --`, `<script>`
//! and `../../etc/passwd` are legitimate characters there: stored byte for byte, returned as JSON
//! strings, and HTML-escaped on the dashboard. Control characters (NUL above all) are never text:
//! 422 naming the field. Photos are re-encoded, so whatever rides along in a polyglot is dropped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, Utc};
use doi178_tests::{
    content_digest, gradient_jpeg, jpeg_declaring, jpeg_with_comment, Browser, TestServer,
    DEMO_PASSWORD,
};
use reqwest::Method;
use serde_json::json;

// ---------------------------------------------------------------------------------------------
// Helpers

fn count(s: &TestServer, table: &str) -> i64 {
    doi178_tests::Raw::open(s.database_url())
        .int(&format!("SELECT CAST(COUNT(*) AS TEXT) AS v FROM {table}"))
}

fn counts(s: &TestServer) -> Vec<(&'static str, i64)> {
    [
        "establishments",
        "tips",
        "visits",
        "visit_revisions",
        "visit_violations",
        "photos",
        "visit_photos",
    ]
    .into_iter()
    .map(|t| (t, count(s, t)))
    .collect()
}

/// Sends raw bytes (`a`, `b`, `c` concatenated) and returns the status and the whole answer.
fn raw(s: &TestServer, a: &[u8], b: &[u8], c: &[u8]) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut request = a.to_vec();
    request.extend_from_slice(b);
    request.extend_from_slice(c);
    stream.write_all(&request).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    assert_ne!(status, 500, "{text}");
    (status, text)
}

fn assert_alive(s: &TestServer) {
    let r = s.get("/healthz", None);
    assert_eq!(r.status, 200, "the server must stay up: {}", r.text());
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

/// A well-formed, tiny PNG whose header declares `w`×`h` pixels (60000² RGB is 10.8 GB decoded).
fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    // zlib: one empty stored block; the pixels would follow, but nobody should get that far.
    png_chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0, 0, 0, 1],
    );
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A ZIP archive (stored, no compression) with one file.
fn zip_stored(name: &str, data: &[u8]) -> Vec<u8> {
    let crc = crc32(data);
    let mut out = Vec::new();
    let local = |out: &mut Vec<u8>| {
        out.extend_from_slice(&[0x50, 0x4B, 0x03, 0x04, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
    };
    local(&mut out);
    out.extend_from_slice(data);
    let cd_start = out.len() as u32;
    out.extend_from_slice(&[0x50, 0x4B, 0x01, 0x02, 20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&[0; 12]);
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(name.as_bytes());
    let cd_len = out.len() as u32 - cd_start;
    out.extend_from_slice(&[0x50, 0x4B, 0x05, 0x06, 0, 0, 0, 0, 1, 0, 1, 0]);
    out.extend_from_slice(&cd_len.to_le_bytes());
    out.extend_from_slice(&cd_start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A minimal XLSX whose first worksheet's `<sheetData>` is `sheet_data`.
fn xlsx(sheet_data: &str) -> Vec<u8> {
    // Stored entries are enough for calamine; several files make one archive.
    let files = [
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_string()),
        ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_string()),
        ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="DS" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_string()),
        ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_string()),
        ("xl/worksheets/sheet1.xml", format!(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet_data}</sheetData></worksheet>"#)),
    ];
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in &files {
        let data = data.as_bytes();
        let crc = crc32(data);
        let offset = out.len() as u32;
        let header = |sig: &[u8], out: &mut Vec<u8>, central_entry: bool| {
            out.extend_from_slice(sig);
            if central_entry {
                out.extend_from_slice(&[20, 0]);
            }
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&crc.to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            if central_entry {
                out.extend_from_slice(&[0; 8]);
                out.extend_from_slice(&offset.to_le_bytes());
            }
            out.extend_from_slice(name.as_bytes());
        };
        header(&[0x50, 0x4B, 0x03, 0x04], &mut out, false);
        out.extend_from_slice(data);
        header(&[0x50, 0x4B, 0x01, 0x02], &mut central, true);
    }
    let cd_start = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&[0x50, 0x4B, 0x05, 0x06, 0, 0, 0, 0]);
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn sign_in(s: &TestServer, username: &str) -> Browser {
    s.sign_in_browser(username, DEMO_PASSWORD)
}

/// `POST /establishments/import/preview` with `name` and `bytes` as the `file` field.
fn import_preview(s: &TestServer, b: &Browser, name: &str, bytes: &[u8]) -> doi178_tests::Resp {
    let boundary = "doi178-hostile-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    s.request(
        Method::POST,
        "/establishments/import/preview",
        None,
        &[
            ("Cookie", &b.cookie),
            ("X-CSRF-Token", &b.csrf),
            ("Content-Type", &content_type),
            ("HX-Request", "true"),
        ],
        Some(body),
    )
}

const INJECTIONS: [&str; 4] = [
    "' OR 1=1 --",
    "<script>alert('doi178')</script>",
    "../../etc/passwd",
    "Robert'); DROP TABLE establishments;--",
];

// ---------------------------------------------------------------------------------------------
// Photos

#[test]
fn photo_bombs_and_non_images_are_refused_and_polyglots_are_stripped() {
    let s = TestServer::start();
    let inspector = s.login("kiemtra.hue");
    let before = counts(&s);

    // Decompression bombs: a few hundred bytes declaring 60000 × 60000 pixels.
    for (what, bytes, mime) in [
        ("PNG", png_declaring(60_000, 60_000), "image/png"),
        ("JPEG", jpeg_declaring(60_000, 60_000), "image/jpeg"),
        (
            "PNG, one huge side",
            png_declaring(1, 4_000_000),
            "image/png",
        ),
    ] {
        assert!(bytes.len() < 2_000, "{what}: the bomb itself is tiny");
        let id = uuid::Uuid::new_v4().to_string();
        let p = s
            .put_photo(&inspector, &id, mime, &bytes)
            .problem(422, Some("too_large"));
        assert_eq!(p["field"], "body", "{what}: {p}");
    }

    // Not images, whatever the name or the declared type says.
    let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    let html = b"<html><body><script>alert(document.cookie)</script></body></html>";
    for (what, bytes) in [
        ("SVG sent as image/jpeg", svg.to_vec()),
        ("HTML sent as image/jpeg", html.to_vec()),
        ("a ZIP sent as image/jpeg", zip_stored("evil.html", html)),
        (
            "GIF sent as image/jpeg",
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
        ),
    ] {
        let id = uuid::Uuid::new_v4().to_string();
        let r = s.put_photo(&inspector, &id, "image/jpeg", &bytes);
        let p = r.problem(415, Some("not_an_image"));
        assert_eq!(p["field"], "body", "{what}: {p}");
    }
    // A truncated JPEG: damaged, not a 500.
    let mut cut = gradient_jpeg(64, 48);
    cut.truncate(cut.len() / 2);
    let id = uuid::Uuid::new_v4().to_string();
    let r = s.put_photo(&inspector, &id, "image/jpeg", &cut);
    assert!(
        r.status == 422 || r.status == 415,
        "a truncated JPEG is refused: {} {}",
        r.status,
        r.text()
    );
    assert_eq!(counts(&s), before, "nothing stored for refused photos");

    // Polyglots that really are JPEGs (a ZIP appended; HTML in a comment segment) are accepted,
    // and what is stored is the re-encoded image only.
    let mut jpeg_zip = gradient_jpeg(32, 24);
    jpeg_zip.extend_from_slice(&zip_stored("payload.html", html));
    let jpeg_html = jpeg_with_comment(b"<html><script>alert('in a JPEG')</script></html>");
    let mut visit = s.visit_body(&inspector);
    let mut photo_ids = Vec::new();
    for bytes in [&jpeg_zip, &jpeg_html] {
        let id = uuid::Uuid::new_v4().to_string();
        s.put_photo(&inspector, &id, "image/jpeg", bytes)
            .expect(201);
        photo_ids.push(id);
    }
    visit["photo_ids"] = json!(photo_ids);
    let visit_id = uuid::Uuid::new_v4();
    s.put_json(
        &format!("/api/v1/visits/{visit_id}"),
        inspector.token(),
        &visit,
    )
    .expect(201);
    for id in &photo_ids {
        let r = s.get(&format!("/api/v1/photos/{id}"), inspector.token());
        r.expect(200);
        assert!(
            r.content_type().starts_with("image/jpeg"),
            "{}",
            r.content_type()
        );
        assert_eq!(
            r.headers
                .get("x-content-type-options")
                .and_then(|v| v.to_str().ok()),
            Some("nosniff")
        );
        assert_eq!(
            image::guess_format(&r.body).unwrap(),
            image::ImageFormat::Jpeg
        );
        let stored = &r.body;
        for needle in [&b"PK\x03\x04"[..], b"<script", b"<html"] {
            assert!(
                !stored.windows(needle.len()).any(|w| w == needle),
                "the stored photo still carries {:?}",
                String::from_utf8_lossy(needle)
            );
        }
    }
    assert_alive(&s);
}

// ---------------------------------------------------------------------------------------------
// JSON, query strings and headers

/// Anything but whitespace after the JSON value makes the body malformed: a valid visit (or tip)
/// followed by text, a second value, a stray bracket or a NUL byte is refused with 400 and stores
/// nothing; the same body with trailing whitespace only is accepted.
#[test]
fn text_after_the_json_value_is_refused_on_every_json_endpoint() {
    let s = TestServer::start();
    let staff = s.login("tinh.hue");
    let inspector = s.login("kiemtra.hue");
    let before = counts(&s);
    let json_ct = [("Content-Type", "application/json")];
    let visit = serde_json::to_vec(&s.visit_body(&inspector)).unwrap();
    let tip = serde_json::to_vec(&json!({
        "channel": "hotline", "received_at": "2026-01-05T08:00:00Z",
        "content": "Phòng hát mở quá giờ", "unit": "2025:19789"
    }))
    .unwrap();
    let tails: [&[u8]; 6] = [b"xyz", b" {}", b"]", b"\0", b"\n\0", b"}"];
    for tail in tails {
        let id = uuid::Uuid::new_v4();
        let mut body = visit.clone();
        body.extend_from_slice(tail);
        let r = s.request(
            Method::PUT,
            &format!("/api/v1/visits/{id}"),
            inspector.token(),
            &json_ct,
            Some(body),
        );
        let p = r.problem(400, Some("malformed_json"));
        assert_eq!(p["field"], "body", "{tail:?}: {p}");
        s.get(&format!("/api/v1/visits/{id}"), inspector.token())
            .expect(404);
        let mut body = tip.clone();
        body.extend_from_slice(tail);
        s.request(
            Method::POST,
            "/api/v1/tips",
            staff.token(),
            &json_ct,
            Some(body),
        )
        .problem(400, Some("malformed_json"));
    }
    assert_eq!(counts(&s), before, "a refused body stored something");
    // Trailing whitespace is not text after the value.
    let mut body = visit;
    body.extend_from_slice(b" \r\n\t ");
    let id = uuid::Uuid::new_v4();
    s.request(
        Method::PUT,
        &format!("/api/v1/visits/{id}"),
        inspector.token(),
        &json_ct,
        Some(body),
    )
    .expect(201);
}

#[test]
fn huge_deep_and_malformed_bodies_are_clear_client_errors() {
    let s = TestServer::start();
    let staff = s.login("tinh.hue");
    let inspector = s.login("kiemtra.hue");
    let before = counts(&s);
    let json_ct = [("Content-Type", "application/json")];

    // Over the 1 MiB limit: 413 naming the body, whatever the route.
    let huge = format!(
        "{{\"name\":\"{}\",\"establishment_type\":\"bar\"}}",
        "a".repeat(1024 * 1024 + 10)
    );
    for path in ["/api/v1/establishments", "/api/v1/tips"] {
        let r = s.request(
            Method::POST,
            path,
            staff.token(),
            &json_ct,
            Some(huge.clone().into_bytes()),
        );
        let p = r.problem(413, Some("too_large"));
        assert_eq!(p["field"], "body");
    }
    let visit = uuid::Uuid::new_v4();
    let r = s.request(
        Method::PUT,
        &format!("/api/v1/visits/{visit}"),
        inspector.token(),
        &json_ct,
        Some(huge.into_bytes()),
    );
    r.problem(413, Some("too_large"));

    // 10,000 levels of nesting: refused before parsing (no stack overflow), 400.
    for deep in [
        "[".repeat(10_000) + &"]".repeat(10_000),
        "{\"a\":".repeat(10_000) + "1" + &"}".repeat(10_000),
        format!("{{\"name\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000)),
    ] {
        let r = s.request(
            Method::POST,
            "/api/v1/establishments",
            staff.token(),
            &json_ct,
            Some(deep.into_bytes()),
        );
        r.problem(400, Some("too_deep"));
    }

    // Invalid UTF-8 inside a JSON string; a lone surrogate escape; a NUL byte outside strings.
    let mut bad_utf8 = br#"{"name":"Karaoke "#.to_vec();
    bad_utf8.extend_from_slice(&[0xC3, 0x28, 0xFF, 0xFE]);
    bad_utf8.extend_from_slice(br#"","establishment_type":"bar"}"#);
    s.request(
        Method::POST,
        "/api/v1/establishments",
        staff.token(),
        &json_ct,
        Some(bad_utf8),
    )
    .problem(400, Some("invalid_utf8"));
    let surrogate = br#"{"channel":"hotline","received_at":"2026-01-05T08:00:00Z","content":"\ud800","unit":"2025:19789"}"#;
    let r = s.request(
        Method::POST,
        "/api/v1/tips",
        staff.token(),
        &json_ct,
        Some(surrogate.to_vec()),
    );
    assert!(
        (400..500).contains(&r.status),
        "lone surrogate: {} {}",
        r.status,
        r.text()
    );
    s.request(
        Method::POST,
        "/api/v1/tips",
        staff.token(),
        &json_ct,
        Some(b"\0{\"a\":1}".to_vec()),
    )
    .problem(400, Some("malformed_json"));
    // Not JSON at all, and JSON of the wrong shape.
    s.request(
        Method::POST,
        "/api/v1/tips",
        staff.token(),
        &json_ct,
        Some(b"\xff\xfe\x00<".to_vec()),
    )
    .problem(400, None);
    for shape in [
        &b"[1,2,3]"[..],
        b"\"text\"",
        b"null",
        b"{\"channel\":{\"$ne\":null}}",
    ] {
        let r = s.request(
            Method::POST,
            "/api/v1/tips",
            staff.token(),
            &json_ct,
            Some(shape.to_vec()),
        );
        assert!(
            matches!(r.status, 400 | 422),
            "{}: {}",
            String::from_utf8_lossy(shape),
            r.text()
        );
        r.problem(r.status, None);
    }
    // A body that is not declared JSON.
    s.request(
        Method::POST,
        "/api/v1/tips",
        staff.token(),
        &[("Content-Type", "text/html")],
        Some(b"<script>alert(1)</script>".to_vec()),
    )
    .problem(415, Some("unsupported_media_type"));

    // Query strings: invalid percent-encoded UTF-8, NUL, huge numbers, unknown parameters.
    for query in [
        "q=%FF%FE%C3%28",
        "q=%00%00",
        "limit=99999999999999999999",
        "limit=-1",
        "unit=%00",
        "cursor=%FF",
        "evil=1",
    ] {
        let path = format!("/api/v1/establishments?{query}");
        let r = s.get(&path, staff.token());
        assert!(
            r.status == 200 || (400..500).contains(&r.status),
            "{path}: {} {}",
            r.status,
            r.text()
        );
        if r.status != 200 {
            r.problem(r.status, None);
        }
    }
    // Raw bytes that no HTTP client library would send: not-UTF-8 in the query string, and
    // obs-text bytes in Authorization and Content-Digest.
    let (status, text) = raw(
        &s,
        b"GET /api/v1/establishments?q=\xff\xfe%C3%28 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ",
        staff.token().unwrap().as_bytes(),
        b"\r\nConnection: close\r\n\r\n",
    );
    assert!(
        status == 200 || (400..500).contains(&status),
        "raw query: {status} {text}"
    );
    let (status, text) = raw(
        &s,
        b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\x80",
        b"",
        b"\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    let id = uuid::Uuid::new_v4().to_string();
    let body = gradient_jpeg(8, 8);
    let mut head = format!(
        "PUT /api/v1/photos/{id} HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\nAuthorization: Bearer {}\r\nContent-Digest: sha-256=:",
        body.len(),
        inspector.token().unwrap()
    )
    .into_bytes();
    head.extend_from_slice(b"\xe9\xff:");
    let mut tail = b"\r\nConnection: close\r\n\r\n".to_vec();
    tail.extend_from_slice(&body);
    let (status, text) = raw(&s, &head, b"", &tail);
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("\"field\":\"Content-Digest\""), "{text}");
    let digest = content_digest(&body);
    let r = s.request(
        Method::PUT,
        &format!("/api/v1/photos/{id}"),
        inspector.token(),
        &[
            ("Content-Type", "image/jpeg"),
            ("Content-Digest", &digest),
            ("X-Taken-At", "'; DROP TABLE photos; --"),
        ],
        Some(body),
    );
    r.client_error_on("X-Taken-At");
    // Path segments that are not ids.
    for path in [
        "/api/v1/establishments/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/visits/%00",
        "/api/v1/establishments/'%20OR%201=1%20--",
    ] {
        let r = s.get(path, staff.token());
        assert!(
            (400..500).contains(&r.status),
            "{path}: {} {}",
            r.status,
            r.text()
        );
        r.problem(r.status, None);
    }

    assert_eq!(counts(&s), before, "nothing was stored");
    assert_alive(&s);
}

// ---------------------------------------------------------------------------------------------
// Injection-looking text

#[test]
fn injection_looking_text_is_stored_verbatim_and_shown_escaped_and_control_characters_refused() {
    let s = TestServer::start();
    let staff = s.login("tinh.hue");
    let inspector = s.login("kiemtra.hue");

    // Establishments: every free-text field.
    let base = json!({
        "name": "Karaoke Hoa Mai", "establishment_type": "karaoke", "unit": "2025:19789",
        "address": "12 Lê Lợi", "status": "operating", "risk": "medium",
    });
    let mut ids = Vec::new();
    for (i, text) in INJECTIONS.iter().enumerate() {
        let mut body = base.clone();
        body["name"] = json!(format!("{text} #{i}"));
        body["address"] = json!(text);
        body["owner_name"] = json!(text);
        let created = s.post_json("/api/v1/establishments", staff.token(), &body);
        created.expect(201);
        let v = created.json();
        for field in ["address", "owner_name"] {
            assert_eq!(v[field], *text, "{field} stored verbatim: {v}");
        }
        let id = v["id"].as_str().unwrap().to_string();
        let back = s.get_ok(&format!("/api/v1/establishments/{id}"), &staff);
        assert_eq!(back["name"], format!("{text} #{i}"));
        assert_eq!(back["owner_name"], *text);
        ids.push(id);
    }
    // A search for SQL matches text, it does not widen the query.
    let found = s.get_ok(
        &format!(
            "/api/v1/establishments?q={}&limit=100",
            doi178_tests::urlencode("' OR 1=1 --")
        ),
        &staff,
    );
    let names: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(
        !names.is_empty() && names.iter().all(|n| n.contains("OR 1=1")),
        "search for SQL text finds only that text: {names:?}"
    );
    // Shown escaped on the dashboard.
    let browser = sign_in(&s, "tinh.hue");
    let page = s.request(
        Method::GET,
        &format!("/establishments/{}", ids[1]),
        None,
        &[("Cookie", &browser.cookie)],
        None,
    );
    page.expect(200);
    let html = page.text();
    assert!(
        !html.contains("<script>alert('doi178')"),
        "the dashboard must escape stored text"
    );
    assert!(
        html.contains("&lt;script&gt;alert(") || html.contains("&#60;script&#62;alert("),
        "the stored text is shown, escaped"
    );

    // Tips and visits: the same strings are text there too.
    let tip = s.post_json(
        "/api/v1/tips",
        staff.token(),
        &json!({
            "channel": "hotline", "received_at": (Utc::now() - Duration::hours(1)).to_rfc3339(),
            "content": INJECTIONS.join(" | "), "unit": "2025:19789",
            "reporter_contact": "../../etc/passwd",
        }),
    );
    tip.expect(201);
    assert_eq!(tip.json()["content"], INJECTIONS.join(" | "));
    let mut visit = s.visit_body(&inspector);
    visit["notes"] = json!(INJECTIONS.join("\n"));
    visit["minutes_no"] = json!("' OR 1=1 --");
    let visit_id = uuid::Uuid::new_v4();
    let stored = s.put_json(
        &format!("/api/v1/visits/{visit_id}"),
        inspector.token(),
        &visit,
    );
    stored.expect(201);
    let back = s.get_ok(&format!("/api/v1/visits/{visit_id}"), &inspector);
    assert_eq!(back["notes"], INJECTIONS.join("\n"), "{back}");
    assert_eq!(back["minutes_no"], "' OR 1=1 --", "{back}");

    // NUL and other control characters are never text: 422 naming the field, nothing stored.
    // Registration and licence numbers are codes, not text: SQL there is refused.
    let before = counts(&s);
    let mut body = base.clone();
    body["business_reg_no"] = json!("' OR 1=1 --");
    s.post_json("/api/v1/establishments", staff.token(), &body)
        .client_error_on("business_reg_no");
    for (field, value) in [
        ("name", "Karaoke\u{0}Hoa Mai"),
        ("address", "12 Lê Lợi\u{0}"),
        ("owner_name", "\u{0}"),
        ("address", "line\u{1b}[31m"),
    ] {
        let mut body = base.clone();
        body[field] = json!(value);
        s.post_json("/api/v1/establishments", staff.token(), &body)
            .client_error_on(field);
    }
    let r = s.post_json(
        "/api/v1/tips",
        staff.token(),
        &json!({
            "channel": "hotline", "received_at": (Utc::now() - Duration::hours(1)).to_rfc3339(),
            "content": "tin báo\u{0}", "unit": "2025:19789",
        }),
    );
    r.client_error_on("content");
    let mut visit = s.visit_body(&inspector);
    visit["notes"] = json!("ghi chú\u{0}");
    let r = s.put_json(
        &format!("/api/v1/visits/{}", uuid::Uuid::new_v4()),
        inspector.token(),
        &visit,
    );
    r.client_error_on("notes");
    // Strings no domain rule reads reach the database too (PostgreSQL cannot hold a NUL): the
    // JSON guard refuses them, naming the field.
    let r = s.post_json(
        "/api/v1/auth/login",
        None,
        &json!({"username": "admin\u{0}", "password": DEMO_PASSWORD}),
    );
    r.client_error_on("username");
    let r = s.post_json(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": "\u{0}' OR 1=1 --"}),
    );
    r.client_error_on("refresh_token");
    assert_eq!(counts(&s), before, "nothing half-stored");
    assert_alive(&s);
}

// ---------------------------------------------------------------------------------------------
// Import files

#[test]
fn malformed_import_files_are_refused_and_nothing_is_imported() {
    let s = TestServer::start();
    let browser = sign_in(&s, "tinh.hue");
    let before = counts(&s);

    let header = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>Tên cơ sở</t></is></c><c r="B1" t="inlineStr"><is><t>Loại hình</t></is></c><c r="C1" t="inlineStr"><is><t>Mã xã</t></is></c><c r="D1" t="inlineStr"><is><t>Địa chỉ</t></is></c></row>"#;
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        // The dense-grid bomb: two cells, A1 and XFD1048576 (17 billion cells if read naively).
        (
            "XLSX spanning the whole sheet",
            "bomb.xlsx",
            xlsx(&format!(
                r#"{header}<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#
            )),
        ),
        (
            "XLSX with an overflowing cell reference",
            "overflow.xlsx",
            xlsx(&format!(
                r#"{header}<row r="2"><c r="AAAAAAAAAAAAAAAAAAAAA2"><v>1</v></c></row>"#
            )),
        ),
        ("random bytes named .xlsx", "list.xlsx", b"PK\x03\x04 not really a zip".to_vec()),
        ("a JPEG named .xlsx", "list.xlsx", gradient_jpeg(8, 8)),
        ("a ZIP that is not a workbook", "list.xlsx", zip_stored("x.txt", b"hello")),
        (
            "CSV in UTF-16",
            "list.csv",
            "Tên cơ sở,Loại hình,Mã xã,Địa chỉ\nA,bar,2025:19789,x\n"
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes())
                .fold(vec![0xFF, 0xFE], |mut v, b| {
                    v.push(b);
                    v
                }),
        ),
        (
            "CSV in Windows-1258 (not UTF-8)",
            "list.csv",
            b"T\xean c\xf5 s\xf5,Lo\xe1i h\xecnh,M\xe3 x\xe3,\xd0\xeda ch\xec\nA,bar,2025:19789,x\n".to_vec(),
        ),
        ("an executable named .csv", "list.csv", b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec()),
        ("a file of another type", "list.html", b"<script>alert(1)</script>".to_vec()),
    ];
    for (what, name, bytes) in cases {
        let started = std::time::Instant::now();
        let r = import_preview(&s, &browser, name, &bytes);
        assert!(
            (400..500).contains(&r.status),
            "{what}: expected a 4xx, got {} {}",
            r.status,
            r.text()
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{what}: answered in {:?}",
            started.elapsed()
        );
        assert_alive(&s);
    }
    // Over the upload limit (10 MB): 413.
    let big = vec![b'a'; 10 * 1024 * 1024 + 1];
    let r = import_preview(&s, &browser, "big.csv", &big);
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(counts(&s), before, "nothing imported");
    assert_alive(&s);
}
