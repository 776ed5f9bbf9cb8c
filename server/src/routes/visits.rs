//! Visits (cuộc kiểm tra). `PUT /visits/{id}` is idempotent on the phone-generated id: the same
//! body again returns what is stored, a different body is a conflict. Once stored a visit never
//! changes in place: corrections are new revisions and every revision's body is kept.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use chrono::{NaiveDateTime, Utc};
use doi178_shared::visit::{VisitInput, VisitRecord};
use doi178_shared::Role;
use serde::{Deserialize, Serialize};
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
use crate::routes::{now, parse_id};
use crate::state::AppState;

/// Beyond this distance between the phone's fix and the establishment, the visit is flagged.
pub const GPS_WARNING_RADIUS_M: f64 = 300.0;

/// A visit as the API returns it: the submitted fields of the current revision plus what the
/// server knows (receive time, review, digests, whether photos are still missing).
pub fn view(c: &mut db::AnyConnection, row: &VisitRow) -> ApiResult<Value> {
    let photos = db::visits::photo_status(c, &row.id)?;
    Ok(view_of(row, &photos))
}

/// [`view`] of many visits (a page): their photos are read in one query.
pub fn views(c: &mut db::AnyConnection, rows: &[VisitRow]) -> ApiResult<Vec<Value>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let photos = db::visits::photo_status_many(c, &ids)?;
    Ok(rows
        .iter()
        .map(|r| view_of(r, photos.get(&r.id).map(Vec::as_slice).unwrap_or(&[])))
        .collect())
}

/// [`view`] with the visit's photos (id, received) already read.
fn view_of(row: &VisitRow, photos: &[(String, bool)]) -> Value {
    let mut out: Map<String, Value> = match serde_json::from_str(&row.body) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let pending: Vec<&String> = photos
        .iter()
        .filter(|(_, got)| !got)
        .map(|(p, _)| p)
        .collect();
    let server = json!({
        "id": row.id,
        "revision": row.revision,
        "submitted_by": row.submitted_by,
        "received_at": row.received_at,
        "distance_m": row.distance_m,
        "gps_warning": row.gps_warning,
        "violation_count": row.violation_count,
        "total_fine_vnd": row.total_fine_vnd,
        "review_status": row.review_status,
        "review_comment": row.review_comment,
        "digest": row.digest,
        "original_digest": row.original_digest,
        "evidence_pending": !pending.is_empty(),
        "pending_photo_ids": pending,
        "version": row.seq,
    });
    if let Value::Object(s) = server {
        out.extend(s);
    }
    Value::Object(out)
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
    build(actor, id, record, checked, revision, original_digest, seq)
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

/// The rows of a checked visit.
fn build(
    actor: &Actor,
    id: &str,
    record: &VisitRecord,
    checked: Checked,
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
    let body = serde_json::to_string(input).map_err(|_| ApiError::internal())?;
    let digest = record.digest();
    let row = VisitRow {
        id: id.to_string(),
        revision,
        establishment_id: est.id,
        team_id,
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
        template_id: template.id,
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

enum PutOutcome {
    Created(Value),
    Replayed(Value),
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
        return Ok(PutOutcome::Replayed(view(c, &existing)?));
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
    let s = sub;
    let written = db
        .write_grouped_async(move |c| -> ApiResult<Written> {
            // The same id submitted twice at once: the second finds the first here.
            if let Some(existing) = db::visits::get_unscoped(c, &s.id)? {
                return resubmitted(c, &s.actor, existing, &s.digest).map(Written::Found);
            }
            let seq = db::next_seq(c)?;
            let p = build(&s.actor, &s.id, &s.record, checked, 1, None, seq)?;
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
        Written::Stored(row, photos) => PutOutcome::Created(view_of(&row, &photos)),
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
            Ok(HttpResponse::Created().json(v))
        }
        Ok(PutOutcome::Replayed(v)) => {
            metrics.visits_stored.with_label_values(&["replayed"]).inc();
            Ok(HttpResponse::Ok().json(v))
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
    pub items: Vec<Value>,
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
    let before = match q.cursor.as_deref() {
        Some(c) => {
            let (at, id) = doi178_shared::pagination::PageCursor::decode(c)?;
            let at = NaiveDateTime::parse_from_str(&at, "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| {
                ApiError::bad_request(
                    "invalid",
                    "cursor",
                    "cursor is not valid; start again without it",
                )
            })?;
            Some((at, id.to_string()))
        }
        None => None,
    };
    let db = state.db.clone();
    let page = web::block(move || {
        db.read(|c| -> ApiResult<VisitPage> {
            let filter = db::visits::Filter {
                establishment_id: q.establishment.map(|e| e.to_string()),
                team_id: q.team.map(|t| t.to_string()),
                before,
                limit: i64::from(limit.get()) + 1,
            };
            let mut rows = db::visits::list(c, &actor, &filter)?;
            let more = rows.len() > limit.get() as usize;
            rows.truncate(limit.get() as usize);
            let next_cursor = if more {
                rows.last().and_then(|r| {
                    Uuid::parse_str(&r.id).ok().map(|id| {
                        doi178_shared::pagination::PageCursor::encode(
                            &r.started_at.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
                            id,
                        )
                    })
                })
            } else {
                None
            };
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
    request_body = RevisionInput, responses((status = 200, body = Object), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
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
    let record = VisitRecord::parse(input.visit, Utc::now())?;
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
            let p = prepare(c, &actor, &existing.id, &record, existing.revision + 1, Some(&existing.original_digest), seq)?;
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
