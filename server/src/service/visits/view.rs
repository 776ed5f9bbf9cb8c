//! The JSON a visit is answered with: the submitted fields of its current revision (the stored
//! body's top level, kept as stored text) with the server's fields appended.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use doi178_shared::visit::ReviewStatus;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::db::{self, visits::VisitRow};
use crate::error::{ApiError, ApiResult};

/// A visit as the API returns it: the submitted fields of the current revision plus what the
/// server knows (receive time, review, digests, whether photos are still missing).
pub fn view(c: &mut db::AnyConnection, row: &VisitRow) -> ApiResult<Value> {
    let photos = db::visits::photo_status(c, &row.id)?;
    Ok(view_of(row, &photos))
}

/// [`view`] as JSON text, built by [`view_json`].
pub(super) fn view_text_read(c: &mut db::AnyConnection, row: &VisitRow) -> ApiResult<String> {
    let photos = db::visits::photo_status(c, &row.id)?;
    view_json(row, &photos).map(json_text)
}

/// [`view`] of many visits (a page, or a phone's sync) as JSON: their photos are read in one
/// query, and each view is built by [`view_json`].
pub fn views(c: &mut db::AnyConnection, rows: &[VisitRow]) -> ApiResult<Vec<Box<RawValue>>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let photos = db::visits::photo_status_many(c, &ids)?;
    rows.iter()
        .map(|r| view_json(r, photos.get(&r.id).map(Vec::as_slice).unwrap_or(&[])))
        .collect()
}

/// [`view`] with the visit's photos (id, received) already read.
fn view_of(row: &VisitRow, photos: &[(String, bool)]) -> Value {
    let mut out: Map<String, Value> = match serde_json::from_str(&row.body) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let server = ServerFields::of(row, photos, Some(&row.gps_warning));
    if let Ok(Value::Object(s)) = serde_json::to_value(server) {
        out.extend(s);
    }
    Value::Object(out)
}

/// The names [`ServerFields`] writes (a test holds the list to the struct). A stored body's own
/// field of one of these names is left out of a view: the server's stands.
const SERVER_FIELDS: [&str; 15] = [
    "id",
    "revision",
    "submitted_by",
    "received_at",
    "distance_m",
    "gps_warning",
    "violation_count",
    "total_fine_vnd",
    "review_status",
    "review_comment",
    "digest",
    "original_digest",
    "evidence_pending",
    "pending_photo_ids",
    "version",
];

/// [`view_of`] as JSON, without building a map of the body: the stored body is split at its top
/// level only (each value stays the stored text as it is), the server's names are dropped from
/// it and the server's fields follow. Sync pages and visit lists are made of these. A body that
/// cannot be split that way (a name written with escapes) is viewed through [`view_of`].
fn view_json(row: &VisitRow, photos: &[(String, bool)]) -> ApiResult<Box<RawValue>> {
    #[derive(Serialize)]
    struct Out<'a> {
        #[serde(flatten)]
        body: BTreeMap<&'a str, &'a RawValue>,
        #[serde(flatten)]
        server: ServerFields<'a>,
    }
    let text = match serde_json::from_str::<BTreeMap<&str, &RawValue>>(&row.body) {
        Ok(mut body) => {
            body.retain(|name, _| !SERVER_FIELDS.contains(name));
            let server = ServerFields::of(row, photos, Some(&row.gps_warning));
            serde_json::to_string(&Out { body, server })
        }
        Err(_) => serde_json::to_string(&view_of(row, photos)),
    };
    text.ok()
        .and_then(|t| RawValue::from_string(t).ok())
        .ok_or_else(ApiError::internal)
}

/// A view's JSON as a response body.
fn json_text(v: Box<RawValue>) -> String {
    String::from(Box::<str>::from(v))
}

/// [`view_of`] as JSON text, for a visit whose body was just submitted: when the body's own
/// `gps_warning` is the server's (no warning of the server's replaces the phone's), the stored
/// body is the answer's first part as it is, without parsing it again.
pub(super) fn view_text(
    row: &VisitRow,
    photos: &[(String, bool)],
    body_gps_warning: &Option<String>,
) -> ApiResult<String> {
    let server = ServerFields::of(row, photos, None);
    match (
        &row.gps_warning == body_gps_warning,
        row.body.strip_suffix('}'),
        serde_json::to_string(&server),
    ) {
        (true, Some(fields), Ok(added)) if fields.len() > 1 && added.len() > 2 => {
            let mut text = String::with_capacity(fields.len() + added.len());
            text.push_str(fields);
            text.push(',');
            text.push_str(&added[1..]);
            Ok(text)
        }
        _ => view_json(row, photos).map(json_text),
    }
}

/// What the server adds to a visit's submitted fields. None of these names is a field of
/// [`VisitInput`] except `gps_warning`, which replaces the phone's (a test holds this).
#[derive(Serialize)]
struct ServerFields<'a> {
    id: &'a str,
    revision: i32,
    submitted_by: &'a str,
    received_at: NaiveDateTime,
    distance_m: Option<f64>,
    /// `None`: left out (the body's own stands).
    #[serde(skip_serializing_if = "Option::is_none")]
    gps_warning: Option<&'a Option<String>>,
    violation_count: i32,
    total_fine_vnd: i64,
    review_status: ReviewStatus,
    review_comment: &'a Option<String>,
    digest: &'a str,
    original_digest: &'a str,
    evidence_pending: bool,
    pending_photo_ids: Vec<&'a str>,
    version: i64,
}

impl<'a> ServerFields<'a> {
    fn of(
        row: &'a VisitRow,
        photos: &'a [(String, bool)],
        gps_warning: Option<&'a Option<String>>,
    ) -> Self {
        let pending: Vec<&str> = photos
            .iter()
            .filter(|(_, got)| !got)
            .map(|(p, _)| p.as_str())
            .collect();
        ServerFields {
            id: &row.id,
            revision: row.revision,
            submitted_by: &row.submitted_by,
            received_at: row.received_at,
            distance_m: row.distance_m,
            gps_warning,
            violation_count: row.violation_count,
            total_fine_vnd: row.total_fine_vnd,
            review_status: row.review_status,
            review_comment: &row.review_comment,
            digest: &row.digest,
            original_digest: &row.original_digest,
            evidence_pending: !pending.is_empty(),
            pending_photo_ids: pending,
            version: row.seq,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use doi178_shared::visit::{Outcome, VisitInput, VisitRecord};
    use serde_json::json;
    use uuid::Uuid;

    fn record(gps_warning: Option<&str>) -> VisitRecord {
        let input: VisitInput = serde_json::from_value(json!({
            "establishment_id": Uuid::from_u128(1),
            "team_id": Uuid::from_u128(2),
            "members_present": [Uuid::from_u128(3)],
            "started_at": "2026-11-20T01:00:00Z",
            "ended_at": "2026-11-20T02:00:00Z",
            "gps": {"lat": 16.46, "lon": 107.59, "accuracy_m": 12.0},
            "gps_warning": gps_warning,
            "template_id": Uuid::from_u128(6),
            "template_version": 1,
            "answers": [{"item": "GP_KD", "result": "fail", "note": "Hết hạn \"2025\""}],
            "outcome": "violations_found",
            "violations": [{"code": "ND282_D23_K2", "description": "Không có danh sách",
                "legal_basis": "Khoản 2 Điều 23", "proposed_fine_vnd": 5_000_000}],
            "minutes_no": "BB-1",
            "photo_ids": [Uuid::from_u128(7), Uuid::from_u128(8)],
            "notes": "ghi chú"
        }))
        .unwrap();
        VisitRecord::parse(input, "2026-11-21T00:00:00Z".parse().unwrap()).unwrap()
    }

    fn row(record: &VisitRecord, gps_warning: Option<&str>) -> VisitRow {
        let at = NaiveDateTime::parse_from_str("2026-11-20T03:04:05.123", "%Y-%m-%dT%H:%M:%S%.f")
            .unwrap();
        VisitRow {
            id: Uuid::from_u128(9).to_string(),
            revision: 1,
            establishment_id: Uuid::from_u128(1).to_string(),
            team_id: Uuid::from_u128(2).to_string(),
            assignment_id: None,
            submitted_by: Uuid::from_u128(3).to_string(),
            started_at: at,
            ended_at: at,
            received_at: at,
            lat: Some(16.46),
            lon: Some(107.59),
            accuracy_m: Some(12.0),
            distance_m: Some(412.25),
            gps_warning: gps_warning.map(str::to_string),
            template_id: Uuid::from_u128(6).to_string(),
            template_version: 1,
            outcome: Outcome::ViolationsFound,
            minutes_no: Some("BB-1".into()),
            follow_up_on: None,
            violation_count: 1,
            total_fine_vnd: 5_000_000,
            review_status: ReviewStatus::Submitted,
            review_comment: None,
            body: record.canonical_json().to_string(),
            digest: record.digest(),
            original_digest: record.digest(),
            updated_at: at,
            seq: 42,
        }
    }

    /// The answer to a new visit, built from the stored body's text, is the same JSON as the
    /// visit read back ([`view_of`]), whether the server's GPS warning is the phone's or its own.
    #[test]
    fn new_visit_answer_is_the_stored_view() {
        let photos = vec![
            (Uuid::from_u128(7).to_string(), true),
            (Uuid::from_u128(8).to_string(), false),
        ];
        for (phone, server) in [
            (None, None),
            (Some("không có GPS"), Some("không có GPS")),
            (None, Some("recorded 412 m from the establishment")),
            (
                Some("không có GPS"),
                Some("recorded 412 m from the establishment"),
            ),
        ] {
            let rec = record(phone);
            let row = row(&rec, server);
            let text = view_text(&row, &photos, &rec.input().gps_warning).unwrap();
            let answer: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(answer, view_of(&row, &photos), "{phone:?} / {server:?}");
            assert_eq!(answer["gps_warning"], json!(server));
            assert_eq!(answer["pending_photo_ids"], json!([Uuid::from_u128(8)]));
            assert_eq!(answer["notes"], "ghi chú");
            assert_eq!(text.matches("\"gps_warning\":").count(), 1, "{text}");
            // Built from the body's text (its own order) when it could be; otherwise re-read.
            assert_eq!(
                text.starts_with("{\"establishment_id\":"),
                phone == server,
                "{text}"
            );
        }
    }

    /// The server's names never collide with a submitted field but `gps_warning` (which the fast
    /// answer leaves out of the server's part, so no name appears twice).
    #[test]
    fn server_fields_do_not_shadow_submitted_ones() {
        let rec = record(None);
        let row = row(&rec, None);
        let body: Map<String, Value> = serde_json::from_str(rec.canonical_json()).unwrap();
        let server = serde_json::to_value(ServerFields::of(&row, &[], Some(&None))).unwrap();
        let shared: Vec<&String> = server
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| body.contains_key(*k))
            .collect();
        assert_eq!(shared, ["gps_warning"]);
    }

    /// A view built from the body's top level ([`view_json`], sync pages and lists) is the same
    /// JSON as the one built from the parsed body ([`view_of`]): for bodies as stored, for a body
    /// whose names are written with escapes (read the slow way), and for an old body carrying a
    /// name the server sets (the server's stands, the name once).
    #[test]
    fn view_json_is_view_of() {
        let photos = vec![(Uuid::from_u128(8).to_string(), false)];
        let rec = record(Some("không có GPS"));
        let escaped = rec
            .canonical_json()
            .replacen("\"notes\"", "\"not\\u0065s\"", 1);
        assert_ne!(escaped, rec.canonical_json());
        let mut clashing: Map<String, Value> = serde_json::from_str(rec.canonical_json()).unwrap();
        clashing.insert("digest".into(), json!("sửa tay"));
        clashing.insert("version".into(), json!(1));
        let clashing = Value::Object(clashing).to_string();
        for (body, server_warning) in [
            (rec.canonical_json().to_string(), None),
            (
                rec.canonical_json().to_string(),
                Some("recorded 412 m away"),
            ),
            (escaped, None),
            (clashing, Some("không có GPS")),
        ] {
            let mut row = row(&rec, server_warning);
            row.body = body;
            let text = view_json(&row, &photos).unwrap();
            let answer: Value = serde_json::from_str(text.get()).unwrap();
            assert_eq!(answer, view_of(&row, &photos), "{}", row.body);
            assert_eq!(answer["notes"], "ghi chú");
            assert_eq!(answer["gps_warning"], json!(server_warning));
            assert_eq!(answer["digest"], json!(row.digest));
            for name in SERVER_FIELDS {
                let quoted = format!("\"{name}\":");
                let count = text.get().matches(&quoted).count();
                assert_eq!(count, 1, "{name} in {}", text.get());
            }
        }
    }

    /// [`SERVER_FIELDS`] names exactly what [`ServerFields`] writes.
    #[test]
    fn server_field_names_are_listed() {
        let rec = record(None);
        let row = row(&rec, Some("x"));
        let server = serde_json::to_value(ServerFields::of(&row, &[], Some(&None))).unwrap();
        let mut written: Vec<&str> = server
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut listed = SERVER_FIELDS.to_vec();
        written.sort_unstable();
        listed.sort_unstable();
        assert_eq!(written, listed);
    }

    /// The wire type the phones and the API document use ([`doi178_shared::wire::VisitView`])
    /// reads every field of a view and writes the same JSON back: nothing the server sends is
    /// lost or renamed on the way.
    #[test]
    fn a_view_is_the_wire_type_field_for_field() {
        let photos = vec![(Uuid::from_u128(8).to_string(), false)];
        for (phone, server) in [(None, None), (Some("không có GPS"), Some("xa cơ sở 412 m"))] {
            let rec = record(phone);
            let mut row = row(&rec, server);
            row.review_status = ReviewStatus::CorrectionRequested;
            row.review_comment = Some("Bổ sung ảnh biển hiệu".into());
            let answer = view_of(&row, &photos);
            let wire: doi178_shared::wire::VisitView =
                serde_json::from_value(answer.clone()).unwrap();
            assert_eq!(serde_json::to_value(&wire).unwrap(), answer);
            assert_eq!(wire.review_status, ReviewStatus::CorrectionRequested);
            assert!(wire.evidence_pending);
            assert_eq!(wire.gps_warning.as_deref(), server);
        }
    }
}
