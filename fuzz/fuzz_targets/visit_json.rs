//! A visit body as `PUT /api/v1/visits/{id}` reads it: the JSON guard and typed parse
//! (`extract::parse_json`), then every domain rule (`VisitRecord::parse`) and the digest.
#![no_main]

use chrono::{TimeZone, Utc};
use doi178_fuzz::json_guard::parse_checked;
use doi178_shared::establishment::{EstablishmentDraft, EstablishmentInput};
use doi178_shared::tip::{TipDraft, TipInput};
use doi178_shared::visit::{VisitInput, VisitRecord};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = Utc
        .with_ymd_and_hms(2026, 6, 1, 12, 0, 0)
        .single()
        .expect("a valid fixed time");
    if let Ok(input) = parse_checked::<VisitInput>(data) {
        if let Ok(record) = VisitRecord::parse(input, now) {
            let _ = record.digest();
        }
    }
    // The other free-text bodies go through the same guard.
    if let Ok(input) = parse_checked::<EstablishmentInput>(data) {
        let _ = EstablishmentDraft::parse(input);
    }
    if let Ok(input) = parse_checked::<TipInput>(data) {
        let _ = TipDraft::parse(input, now);
    }
});
