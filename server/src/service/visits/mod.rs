//! Visits (cuộc kiểm tra): the checks a submitted visit passes, the rows it is stored as, its
//! corrections and reviews — shared by the API (`routes::visits`), the leader's pages and the
//! phone's sync. A visit is idempotent on the phone-generated id: the same body again returns
//! what is stored, a different body is a conflict. Once stored a visit never changes in place:
//! corrections are new revisions and every revision's body is kept.

mod view;

use doi178_shared::ProblemCode;
use std::sync::Arc;

use doi178_shared::visit::{ReviewStatus, VisitRecord};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

pub use view::{view, views};
use view::{view_text, view_text_read};

use crate::auth::Actor;
use crate::clock::now;
use crate::db::audit_chain::Who;
use crate::db::{
    self,
    visits::{RevisionRow, ViolationRow, VisitRow},
};
use crate::error::{ApiError, ApiResult};

/// Recomputes the establishment's counted inspection days (coverage) in the caller's
/// transaction, with the outcomes the current programme counts.
fn refresh_coverage(c: &mut db::AnyConnection, establishment_id: &str) -> ApiResult<()> {
    let today = crate::clock::today();
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
                ProblemCode::UnknownEstablishment,
                "establishment_id",
                "establishment does not exist or is outside the team's jurisdiction",
            )
        })?;
    let members = db::teams::member_ids(c, &team_id)?;
    for (i, m) in input.members_present.iter().enumerate() {
        if !members.contains(&m.to_string()) {
            return Err(ApiError::unprocessable(
                ProblemCode::NotAMember,
                &format!("members_present[{i}]"),
                "this person is not a member of the team",
            ));
        }
    }
    let template = db::templates::get(c, &input.template_id.to_string())?.ok_or_else(|| {
        ApiError::unprocessable(
            ProblemCode::UnknownTemplate,
            "template_id",
            "checklist template not found",
        )
    })?;
    if i64::from(template.version) != i64::from(input.template_version) {
        return Err(ApiError::unprocessable(
            ProblemCode::Invalid,
            "template_version",
            "template_version does not match the template",
        ));
    }
    if template.establishment_type != est.establishment_type {
        return Err(ApiError::unprocessable(
            ProblemCode::Invalid,
            "template_id",
            "the template is for another establishment type",
        ));
    }
    check_answers(record, &template)?;
    if let Some(a) = input.assignment_id {
        let assignment = db::assignments::get(c, actor, a)?
            .filter(|r| r.team_id == team_id && r.status.visible_to_inspectors())
            .ok_or_else(|| {
                ApiError::unprocessable(
                    ProblemCode::UnknownAssignment,
                    "assignment_id",
                    "no released assignment of your team with this id",
                )
            })?;
        let listed = db::assignments::establishment_ids(c, &assignment.id)?;
        if !listed.contains(&est.id) {
            return Err(ApiError::unprocessable(
                ProblemCode::Invalid,
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
            ProblemCode::PhotoInUse,
            "another visit lists this photo; a photo is the evidence of one visit only, list it in that visit",
        )
        .field(format!("photo_ids[{i}]"))),
        Some((i, AttachRefusal::NotYours)) => Err(ApiError::unprocessable(
            ProblemCode::NotYourPhoto,
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
            ProblemCode::UnknownItem,
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
    let (distance_m, gps_warning) = doi178_shared::geo::gps_distance_and_warning(
        input.gps.as_ref().map(|g| (g.lat, g.lon)),
        est.lat.zip(est.lon),
        input.gps_warning.as_deref(),
    );
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
        outcome: input.outcome,
        minutes_no: input.minutes_no.clone(),
        follow_up_on: input.follow_up_on,
        violation_count: violations.len() as i32,
        total_fine_vnd: violations.iter().map(|v| v.proposed_fine_vnd).sum(),
        review_status: ReviewStatus::Submitted,
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
pub enum PutOutcome {
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
    let mut err = ApiError::conflict(ProblemCode::Conflict, "a different visit is already stored under this id; generate a new id for a new visit, or submit a correction as a revision").field("id");
    if visible {
        err.stored_digest = Some(existing.original_digest);
    }
    Err(err)
}

/// A visit being submitted, shared by its reads and its write.
pub struct Submission {
    pub actor: Actor,
    pub id: String,
    pub record: VisitRecord,
    pub digest: String,
}

/// Stores a new visit, or answers a resubmission from what is stored. Awaited on the request's
/// own task: the reads run there (on SQLite) and the write waits for the group commit without
/// holding a thread.
pub async fn store_new(db: &db::Db, sub: Arc<Submission>) -> ApiResult<PutOutcome> {
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
            let today = crate::clock::today();
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

/// Corrects a visit `actor` may correct (its author or the team's leaders): stores revision
/// `base_revision + 1` with `reason`, in the caller's write transaction; the earlier revisions
/// stay unchanged. Errors about the corrected visit name `visit.<field>`.
pub fn revise(
    c: &mut db::AnyConnection,
    actor: &Actor,
    id: Uuid,
    base_revision: i32,
    reason: String,
    record: &VisitRecord,
) -> ApiResult<Value> {
    let existing = db::visits::get(c, actor, id)?.ok_or_else(|| ApiError::not_found("visit"))?;
    let team = Uuid::parse_str(&existing.team_id).map_err(|_| ApiError::internal())?;
    if existing.submitted_by != actor.user_id.to_string() && !actor.leads(team) {
        return Err(ApiError::forbidden(
            "only the inspector who submitted the visit or the team's leaders may correct it",
        ));
    }
    if base_revision != existing.revision {
        return Err(ApiError::conflict(
            ProblemCode::StaleRevision,
            format!(
                "the visit is at revision {}; reload it and correct that",
                existing.revision
            ),
        )
        .field("base_revision"));
    }
    if record.input().establishment_id.to_string() != existing.establishment_id
        || record.input().team_id.to_string() != existing.team_id
    {
        return Err(ApiError::unprocessable(
            ProblemCode::Invalid,
            "visit.establishment_id",
            "a correction cannot move a visit to another establishment or team",
        ));
    }
    let seq = db::next_seq(c)?;
    let p = prepare(
        c,
        actor,
        &existing.id,
        record,
        existing.revision + 1,
        Some(&existing.original_digest),
        seq,
    )
    .and_then(|p| check_photos(c, &p).map(|()| p))
    .map_err(|e| e.within("visit"))?;
    let revision = RevisionRow {
        visit_id: existing.id.clone(),
        revision: p.row.revision,
        body: p.row.body.clone(),
        digest: p.row.digest.clone(),
        submitted_by: p.row.submitted_by.clone(),
        received_at: p.row.received_at,
        reason: Some(reason),
    };
    db::visits::store(
        c,
        &Who::of(actor),
        &p.row,
        &revision,
        &p.violations,
        &p.photo_ids,
        false,
    )?;
    refresh_coverage(c, &p.row.establishment_id)?;
    view(c, &p.row)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// `accepted`, `correction_requested` or `rejected`.
    pub decision: String,
    /// Shown to the inspector on the phone.
    pub comment: Option<String>,
}

/// A checked review decision: a comment is required unless the visit is accepted.
#[derive(Debug, Clone)]
pub struct Review {
    pub decision: ReviewStatus,
    pub comment: Option<String>,
}

impl Review {
    pub fn parse(input: ReviewInput) -> ApiResult<Review> {
        let decision = match ReviewStatus::parse(&input.decision) {
            Ok(ReviewStatus::Submitted) | Err(_) => {
                return Err(ApiError::unprocessable(
                    ProblemCode::Invalid,
                    "decision",
                    "decision must be accepted, correction_requested or rejected",
                ))
            }
            Ok(decision) => decision,
        };
        let comment =
            doi178_shared::text::clean_optional_text("comment", input.comment.as_deref(), 2000)?;
        if decision != ReviewStatus::Accepted && comment.is_none() {
            return Err(ApiError::unprocessable(
                ProblemCode::Required,
                "comment",
                "say what must be corrected",
            ));
        }
        Ok(Review { decision, comment })
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
        review.decision,
        review.comment.as_deref(),
        seq,
        now(),
    )?;
    refresh_coverage(c, &existing.establishment_id)?;
    let row = db::visits::get_unscoped(c, &existing.id)?.ok_or_else(ApiError::internal)?;
    view(c, &row)
}
