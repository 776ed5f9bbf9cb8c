//! The server's pure parsing code, compiled from its own files so that the fuzz targets run
//! exactly what the server runs, without building the server crate (actix, diesel, …).
#![allow(dead_code, unused_imports)]

/// JSON bodies: depth guard, UTF-8 and the typed parse (server/src/json_guard.rs).
#[path = "../../server/src/json_guard.rs"]
pub mod json_guard;

/// Photo decode, limits and re-encoding (server/src/photos.rs).
#[path = "../../server/src/photos.rs"]
pub mod photos;

/// Establishment-list import: reading CSV and spreadsheets into cells, the header and the records
/// (server/src/service/import/{table,columns,values,records}.rs; the database side is not fuzzed).
pub mod import;

/// libfuzzer-sys aborts on every panic, even one the server's code catches on purpose (the
/// spreadsheet reader runs under `catch_unwind`: see `import::table::guarded`). Restoring the
/// default hook keeps those caught; a panic that escapes the target still fails the run, because
/// libfuzzer-sys aborts when the target unwinds.
pub fn keep_caught_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = std::panic::take_hook();
    });
}
