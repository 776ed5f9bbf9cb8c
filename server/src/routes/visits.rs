//! Visits (cuộc kiểm tra). `PUT /visits/{id}` is idempotent on the phone-generated id: the same
//! body again returns what is stored, a different body is a conflict. Once stored a visit never
//! changes in place: corrections are new revisions and every revision's body is kept.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::http::header::ContentType;
use actix_web::{web, HttpResponse};
use chrono::{NaiveDateTime, Utc};
use doi178_shared::visit::{VisitInput, VisitRecord};
use doi178_shared::Role;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::audit::Who;
use crate::auth::Actor;
use crate::db::{
    self,
    visits::{RevisionRow, ViolationRow, VisitRow},
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::routes::{now, page_of, parse_id, parse_time_cursor, time_cursor};
use crate::state::AppState;

/// Beyond this distance between the phone's fix and the establishment, the visit is flagged.
pub const GPS_WARNING_RADIUS_M: f64 = 300.0;

/// A visit as the API returns it: the submitted fields of the current revision plus what the
/// server knows (receive time, review, digests, whether photos are still missing).
pub fn view(c: &mut db::AnyConnection, row: &VisitRow) -> ApiResult<Value> {
    let photos = db::visits::photo_status(c, &row.id)?;
    Ok(view_of(row, &photos))
}

/// [`view`] as JSON text, built by [`view_json`].
fn view_text_read(c: &mut db::AnyConnection, row: &VisitRow) -> ApiResult<String> {
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
fn view_text(
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
    review_status: &'a str,
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
            review_status: &row.review_status,
            review_comment: &row.review_comment,
            digest: &row.digest,
            original_digest: &row.original_digest,
            evidence_pending: !pending.is_empty(),
            pending_photo_ids: pending,
            version: row.seq,
        }
    }
}

/// Recomputes the establishment's counted inspection days (coverage) in the caller's
/// transaction, with the outcomes the current programme counts.
fn refresh_coverage(c: &mut db::AnyConnection, establishment_id: &str) -> ApiResult<()> {
    let today = doi178_shared::time::vietnam_date(Utc::now());
    let counted = db::coverage::current_counted(c, today)?;
    db::coverage::refresh_establishment(c, establishment_id, &counted)?;
    Ok(())
}

struct Prepared {
    row: VisitRow,
    violations: Vec<ViolationRow>,
    photo_ids: Vec<String>,
}

/// What the database says about a visit's references, checked by [`check`].
struct Checked {
    team_id: String,
    est: db::establishments::EstablishmentRow,
    template: db::templates::TemplateRow,
}

/// Checks a validated visit against the database (team, members, establishment, template,
/// assignment) and builds the rows to store.
fn prepare(
    c: &mut db::AnyConnection,
    actor: &Actor,
    id: &str,
    record: &VisitRecord,
    revision: i32,
    original_digest: Option<&str>,
    seq: i64,
) -> ApiResult<Prepared> {
    let checked = check(c, actor, record)?;
    build(actor, id, record, &checked, revision, original_digest, seq)
}

/// The checks of [`prepare`]: reads only, so a new visit runs them before its write.
fn check(c: &mut db::AnyConnection, actor: &Actor, record: &VisitRecord) -> ApiResult<Checked> {
    let input = record.input();
    // The team's area comes with the actor (loaded with its memberships).
    let team_units = actor.team_units(input.team_id).ok_or_else(|| {
        ApiError::forbidden("you can record visits only for your own team").field("team_id")
    })?;
    let team_id = input.team_id.to_string();
    let est = db::establishments::get_unscoped(c, &input.establishment_id.to_string())?
        .filter(|e| team_units.contains(&e.unit_id))
        .ok_or_else(|| {
            ApiError::unprocessable(
                "unknown_establishment",
                "establishment_id",
                "establishment does not exist or is outside the team's jurisdiction",
            )
        })?;
    let members = db::teams::member_ids(c, &team_id)?;
    for (i, m) in input.members_present.iter().enumerate() {
        if !members.contains(&m.to_string()) {
            return Err(ApiError::unprocessable(
                "not_a_member",
                &format!("members_present[{i}]"),
                "this person is not a member of the team",
            ));
        }
    }
    let template = db::templates::get(c, &input.template_id.to_string())?.ok_or_else(|| {
        ApiError::unprocessable(
            "unknown_template",
            "template_id",
            "checklist template not found",
        )
    })?;
    if i64::from(template.version) != i64::from(input.template_version) {
        return Err(ApiError::unprocessable(
            "invalid",
            "template_version",
            "template_version does not match the template",
        ));
    }
    if template.establishment_type != est.establishment_type {
        return Err(ApiError::unprocessable(
            "invalid",
            "template_id",
            "the template is for another establishment type",
        ));
    }
    check_answers(record, &template)?;
    if let Some(a) = input.assignment_id {
        let assignment = db::assignments::get(c, actor, a)?
            .filter(|r| r.team_id == team_id && (r.status == "released" || r.status == "done"))
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "unknown_assignment",
                    "assignment_id",
                    "no released assignment of your team with this id",
                )
            })?;
        let listed = db::assignments::establishment_ids(c, &assignment.id)?;
        if !listed.contains(&est.id) {
            return Err(ApiError::unprocessable(
                "invalid",
                "assignment_id",
                "the establishment is not part of this assignment",
            ));
        }
    }
    Ok(Checked {
        team_id,
        est,
        template,
    })
}

/// The visit may list its photos (in the writing transaction): none is another visit's, and every
/// one already uploaded belongs to its author or team (`db::photos::attach_refused`).
fn check_photos(c: &mut db::AnyConnection, p: &Prepared) -> ApiResult<()> {
    use db::photos::AttachRefusal;
    let refused = db::photos::attach_refused(
        c,
        &p.row.id,
        &p.row.team_id,
        &p.row.submitted_by,
        &p.photo_ids,
    )?;
    match refused {
        None => Ok(()),
        Some((i, AttachRefusal::InOtherVisit)) => Err(ApiError::conflict(
            "photo_in_use",
            "another visit lists this photo; a photo is the evidence of one visit only, list it in that visit",
        )
        .field(format!("photo_ids[{i}]"))),
        Some((i, AttachRefusal::NotYours)) => Err(ApiError::unprocessable(
            "not_your_photo",
            &format!("photo_ids[{i}]"),
            "this photo was taken by someone outside the visit's team; list only photos you or your team took",
        )),
    }
}

/// Every answer names an item of the template version the visit answered.
fn check_answers(record: &VisitRecord, template: &db::templates::TemplateRow) -> ApiResult<()> {
    if record.input().answers.is_empty() {
        return Ok(());
    }
    let items: Vec<ChecklistItemCode> = serde_json::from_str(&template.items).map_err(|e| {
        tracing::error!(template = %template.id, error = %e, "stored checklist items do not parse");
        ApiError::internal()
    })?;
    match record.answer_off_checklist(|code| items.iter().any(|i| i.code == code)) {
        None => Ok(()),
        Some((i, code)) => Err(ApiError::unprocessable(
            "unknown_item",
            &format!("answers[{i}].item"),
            format!(
                "item {code} is not on checklist {} version {}; answer only the items of that checklist",
                template.title, template.version
            ),
        )),
    }
}

/// The code of a stored checklist item (the rest of the item is not needed to check answers).
#[derive(Deserialize)]
struct ChecklistItemCode {
    code: String,
}

/// The rows of a checked visit.
fn build(
    actor: &Actor,
    id: &str,
    record: &VisitRecord,
    checked: &Checked,
    revision: i32,
    original_digest: Option<&str>,
    seq: i64,
) -> ApiResult<Prepared> {
    let input = record.input();
    let Checked {
        team_id,
        est,
        template,
    } = checked;
    let (distance_m, mut gps_warning) = match (input.gps.as_ref(), est.lat, est.lon) {
        (Some(gps), Some(lat), Some(lon)) => {
            let d = doi178_shared::geo::haversine_m(gps.lat, gps.lon, lat, lon);
            let warn = (d > GPS_WARNING_RADIUS_M).then(|| format!("recorded {d:.0} m from the establishment (more than {GPS_WARNING_RADIUS_M:.0} m)"));
            (Some(d), warn)
        }
        _ => (None, None),
    };
    if gps_warning.is_none() {
        gps_warning = input.gps_warning.clone();
    }
    let violations: Vec<ViolationRow> = input
        .violations
        .iter()
        .enumerate()
        .map(|(i, v)| ViolationRow {
            visit_id: id.to_string(),
            idx: i as i32,
            code: v.code.clone(),
            description: v.description.clone(),
            legal_basis: v.legal_basis.clone(),
            proposed_fine_vnd: v.proposed_fine_vnd,
        })
        .collect();
    let body = record.canonical_json().to_string();
    let digest = record.digest();
    let row = VisitRow {
        id: id.to_string(),
        revision,
        establishment_id: est.id.clone(),
        team_id: team_id.clone(),
        assignment_id: input.assignment_id.map(|a| a.to_string()),
        submitted_by: actor.user_id.to_string(),
        started_at: input.started_at.naive_utc(),
        ended_at: input.ended_at.naive_utc(),
        received_at: now(),
        lat: input.gps.as_ref().map(|g| g.lat),
        lon: input.gps.as_ref().map(|g| g.lon),
        accuracy_m: input.gps.as_ref().map(|g| g.accuracy_m),
        distance_m,
        gps_warning,
        template_id: template.id.clone(),
        template_version: template.version,
        outcome: input.outcome.as_str().to_string(),
        minutes_no: input.minutes_no.clone(),
        follow_up_on: input.follow_up_on,
        violation_count: violations.len() as i32,
        total_fine_vnd: violations.iter().map(|v| v.proposed_fine_vnd).sum(),
        review_status: "submitted".to_string(),
        review_comment: None,
        body,
        original_digest: original_digest
            .map(str::to_string)
            .unwrap_or_else(|| digest.clone()),
        digest,
        updated_at: now(),
        seq,
    };
    let photo_ids = input.photo_ids.iter().map(|p| p.to_string()).collect();
    Ok(Prepared {
        row,
        violations,
        photo_ids,
    })
}

/// A submission's answer (JSON text).
enum PutOutcome {
    Created(String),
    Replayed(String),
}

/// What the writer did with a new visit: stored it (with its photos' status), or found it stored.
enum Written {
    Stored(Box<VisitRow>, Vec<(String, bool)>),
    Found(PutOutcome),
}

/// A visit id that is already stored: the same body again is answered with what is stored (only
/// to whoever may see it), anything else is a conflict.
fn resubmitted(
    c: &mut db::AnyConnection,
    actor: &Actor,
    existing: VisitRow,
    digest: &str,
) -> ApiResult<PutOutcome> {
    let visible = Uuid::parse_str(&existing.id)
        .ok()
        .map(|u| db::visits::get(c, actor, u))
        .transpose()?
        .flatten()
        .is_some();
    if visible && existing.original_digest == digest {
        return Ok(PutOutcome::Replayed(view_text_read(c, &existing)?));
    }
    let mut err = ApiError::conflict("conflict", "a different visit is already stored under this id; generate a new id for a new visit, or submit a correction as a revision").field("id");
    if visible {
        err.stored_digest = Some(existing.original_digest);
    }
    Err(err)
}

/// A visit being submitted, shared by its reads and its write.
struct Submission {
    actor: Actor,
    id: String,
    record: VisitRecord,
    digest: String,
}

/// Stores a new visit, or answers a resubmission from what is stored. Awaited on the request's
/// own task: the reads run there (on SQLite) and the write waits for the group commit without
/// holding a thread.
async fn store_new(db: &db::Db, sub: Arc<Submission>) -> ApiResult<PutOutcome> {
    // The reads first, on a pooled connection beside the writer: a resubmission is answered
    // from what is stored, and a new visit's references are checked before it queues for the
    // write. (What a concurrent change to a team or template does in between is the same as
    // the visit arriving a moment earlier.)
    let s = Arc::clone(&sub);
    let checked = db
        .read_async(move |c| -> ApiResult<Result<Checked, PutOutcome>> {
            match db::visits::get_unscoped(c, &s.id)? {
                Some(existing) => resubmitted(c, &s.actor, existing, &s.digest).map(Err),
                None => check(c, &s.actor, &s.record).map(Ok),
            }
        })
        .await?;
    let checked = match checked {
        Ok(checked) => checked,
        Err(replayed) => return Ok(replayed),
    };
    let s = Arc::clone(&sub);
    let written = db
        .write_grouped(move |c| -> ApiResult<Written> {
            // The same id submitted twice at once: the second finds the first here.
            if let Some(existing) = db::visits::get_unscoped(c, &s.id)? {
                return resubmitted(c, &s.actor, existing, &s.digest).map(Written::Found);
            }
            let seq = db::next_seq(c)?;
            let p = build(&s.actor, &s.id, &s.record, &checked, 1, None, seq)?;
            check_photos(c, &p)?;
            let revision = RevisionRow {
                visit_id: s.id.clone(),
                revision: 1,
                body: p.row.body.clone(),
                digest: p.row.digest.clone(),
                submitted_by: p.row.submitted_by.clone(),
                received_at: p.row.received_at,
                reason: None,
            };
            db::visits::store(
                c,
                &Who::of(&s.actor),
                &p.row,
                &revision,
                &p.violations,
                &p.photo_ids,
                true,
            )?;
            let today = doi178_shared::time::vietnam_date(Utc::now());
            let counted = db::coverage::current_counted(c, today)?;
            db::coverage::add_new_visit(c, &p.row, &counted)?;
            let photos = db::visits::photo_status(c, &p.row.id)?;
            Ok(Written::Stored(Box::new(p.row), photos))
        })
        .await?;
    // The answer is built off the writer's thread.
    Ok(match written {
        Written::Found(outcome) => outcome,
        Written::Stored(row, photos) => {
            PutOutcome::Created(view_text(&row, &photos, &sub.record.input().gps_warning)?)
        }
    })
}

/// Submits a visit under the id the phone generated. First time: 201. The same body again: 200
/// with what is stored. A different body under the same id: 409 with the stored digest.
#[utoipa::path(put, path = "/api/v1/visits/{id}", tag = "visits", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "UUID generated by the phone (idempotency key)")), request_body = Object,
    responses((status = 201, body = Object), (status = 200, body = Object), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn put(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: ApiJson<VisitInput>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "visit")?.to_string();
    actor.require(&[Role::Inspector, Role::TeamLeader], "submit visits")?;
    let record = VisitRecord::parse(body.0, Utc::now())?;
    let digest = record.digest();
    let metrics = state.metrics.clone();
    let outcome = store_new(
        &state.db,
        Arc::new(Submission {
            actor,
            id,
            record,
            digest,
        }),
    )
    .await;
    match outcome {
        Ok(PutOutcome::Created(v)) => {
            metrics.visits_stored.with_label_values(&["created"]).inc();
            Ok(HttpResponse::Created()
                .content_type(ContentType::json())
                .body(v))
        }
        Ok(PutOutcome::Replayed(v)) => {
            metrics.visits_stored.with_label_values(&["replayed"]).inc();
            Ok(HttpResponse::Ok().content_type(ContentType::json()).body(v))
        }
        Err(e) => {
            metrics.visits_stored.with_label_values(&["rejected"]).inc();
            Err(e)
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VisitPage {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Box<RawValue>>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VisitQuery {
    pub establishment: Option<Uuid>,
    pub team: Option<Uuid>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// Visits the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/visits", tag = "visits", params(VisitQuery), security(("bearer" = [])),
    responses((status = 200, body = VisitPage), (status = 400, body = crate::error::Problem)))]
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<VisitQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let limit = doi178_shared::pagination::PageLimit::parse(q.limit)?;
    let before = q.cursor.as_deref().map(parse_time_cursor).transpose()?;
    let db = state.db.clone();
    let page = web::block(move || {
        db.read(|c| -> ApiResult<VisitPage> {
            let filter = db::visits::Filter {
                establishment_id: q.establishment.map(|e| e.to_string()),
                team_id: q.team.map(|t| t.to_string()),
                before,
                limit: i64::from(limit.get()) + 1,
            };
            let (rows, next_cursor) = page_of(
                db::visits::list(c, &actor, &filter)?,
                limit.get() as usize,
                |r| time_cursor(r.started_at, &r.id),
            );
            let items = views(c, &rows)?;
            Ok(VisitPage { items, next_cursor })
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(page))
}

/// One visit, with its revision history.
#[utoipa::path(get, path = "/api/v1/visits/{id}", tag = "visits", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::error::Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "visit")?;
    let db = state.db.clone();
    let v = web::block(move || {
        db.read(|c| -> ApiResult<Value> {
            let row = db::visits::get(c, &actor, id)?.ok_or_else(|| ApiError::not_found("visit"))?;
            let mut v = view(c, &row)?;
            let revisions: Vec<Value> = db::visits::revisions(c, &row.id)?
                .into_iter()
                .map(|r| json!({"revision": r.revision, "digest": r.digest, "submitted_by": r.submitted_by, "received_at": r.received_at, "reason": r.reason}))
                .collect();
            if let Value::Object(m) = &mut v {
                m.insert("revisions".into(), Value::Array(revisions));
            }
            Ok(v)
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevisionInput {
    /// Why the record is corrected (kept with the revision).
    pub reason: String,
    /// The revision this correction is based on; must be the current one.
    pub base_revision: i32,
    #[schema(value_type = Object)]
    pub visit: VisitInput,
}

/// Corrects a visit: stores a new revision; the earlier ones stay unchanged.
#[utoipa::path(post, path = "/api/v1/visits/{id}/revisions", tag = "visits", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = RevisionInput, responses((status = 200, body = Object), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn revise(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: ApiJson<RevisionInput>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "visit")?;
    actor.require(&[Role::Inspector, Role::TeamLeader], "correct visits")?;
    let input = body.0;
    let reason = doi178_shared::text::clean_text("reason", &input.reason, 1000)?;
    let record = VisitRecord::parse(input.visit, Utc::now()).map_err(|e| e.with_prefix("visit"))?;
    let db = state.db.clone();
    let v = web::block(move || {
        db.write(|c| -> ApiResult<Value> {
            let existing = db::visits::get(c, &actor, id)?.ok_or_else(|| ApiError::not_found("visit"))?;
            let team = Uuid::parse_str(&existing.team_id).map_err(|_| ApiError::internal())?;
            if existing.submitted_by != actor.user_id.to_string() && !actor.leads(team) {
                return Err(ApiError::forbidden("only the inspector who submitted the visit or the team's leaders may correct it"));
            }
            if input.base_revision != existing.revision {
                return Err(ApiError::conflict("stale_revision", format!("the visit is at revision {}; reload it and correct that", existing.revision)).field("base_revision"));
            }
            if record.input().establishment_id.to_string() != existing.establishment_id || record.input().team_id.to_string() != existing.team_id {
                return Err(ApiError::unprocessable("invalid", "visit.establishment_id", "a correction cannot move a visit to another establishment or team"));
            }
            let seq = db::next_seq(c)?;
            let p = prepare(c, &actor, &existing.id, &record, existing.revision + 1, Some(&existing.original_digest), seq)
                .and_then(|p| check_photos(c, &p).map(|()| p))
                .map_err(|e| e.within("visit"))?;
            let revision = RevisionRow { visit_id: existing.id.clone(), revision: p.row.revision, body: p.row.body.clone(), digest: p.row.digest.clone(), submitted_by: p.row.submitted_by.clone(), received_at: p.row.received_at, reason: Some(reason) };
            db::visits::store(c, &Who::of(&actor), &p.row, &revision, &p.violations, &p.photo_ids, false)?;
            refresh_coverage(c, &p.row.establishment_id)?;
            view(c, &p.row)
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// `accepted`, `correction_requested` or `rejected`.
    pub decision: String,
    /// Shown to the inspector on the phone.
    pub comment: Option<String>,
}

/// A team leader reviews a submitted visit.
#[utoipa::path(post, path = "/api/v1/visits/{id}/review", tag = "visits", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = ReviewInput, responses((status = 200, body = Object), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn review(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: ApiJson<ReviewInput>,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "visit")?;
    let review = Review::parse(body.0)?;
    let db = state.db.clone();
    let v = web::block(move || db.write(|c| apply_review(c, &actor, id, &review))).await??;
    Ok(HttpResponse::Ok().json(v))
}

/// A checked review decision: a comment is required unless the visit is accepted.
#[derive(Debug, Clone)]
pub struct Review {
    pub decision: String,
    pub comment: Option<String>,
}

impl Review {
    pub fn parse(input: ReviewInput) -> ApiResult<Review> {
        if !["accepted", "correction_requested", "rejected"].contains(&input.decision.as_str()) {
            return Err(ApiError::unprocessable(
                "invalid",
                "decision",
                "decision must be accepted, correction_requested or rejected",
            ));
        }
        let comment =
            doi178_shared::text::clean_optional_text("comment", input.comment.as_deref(), 2000)?;
        if input.decision != "accepted" && comment.is_none() {
            return Err(ApiError::unprocessable(
                "required",
                "comment",
                "say what must be corrected",
            ));
        }
        Ok(Review {
            decision: input.decision,
            comment,
        })
    }
}

/// Records a team leader's review of a visit (the API handler and the leader's page both call
/// it, in a write transaction); the comment reaches the phone through the visit and sync.
pub fn apply_review(
    c: &mut db::AnyConnection,
    actor: &Actor,
    id: Uuid,
    review: &Review,
) -> ApiResult<Value> {
    let existing = db::visits::get(c, actor, id)?.ok_or_else(|| ApiError::not_found("visit"))?;
    let team = Uuid::parse_str(&existing.team_id).map_err(|_| ApiError::internal())?;
    if !actor.leads(team) {
        return Err(ApiError::forbidden(
            "only the team's leaders review its visits",
        ));
    }
    let seq = db::next_seq(c)?;
    db::visits::set_review(
        c,
        &Who::of(actor),
        &existing.id,
        &review.decision,
        review.comment.as_deref(),
        seq,
        now(),
    )?;
    refresh_coverage(c, &existing.establishment_id)?;
    let row = db::visits::get_unscoped(c, &existing.id)?.ok_or_else(ApiError::internal)?;
    view(c, &row)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

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
            outcome: "violations_found".into(),
            minutes_no: Some("BB-1".into()),
            follow_up_on: None,
            violation_count: 1,
            total_fine_vnd: 5_000_000,
            review_status: "submitted".into(),
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
}
