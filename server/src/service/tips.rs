//! Tips and complaints (tố giác, tin báo): recording one and moving it forward, for the API and
//! the tips page.

use chrono::{NaiveDate, Utc};
use doi178_shared::assignment::{AssignmentDraft, AssignmentInput, AssignmentKind};
use doi178_shared::tip::{TipDraft, TipStatus};
use doi178_shared::ProblemCode;
use doi178_shared::Role;
use uuid::Uuid;

use crate::auth::Actor;
use crate::clock::now;
use crate::db::audit_chain::Who;
use crate::db::{self, tips::TipRow};
use crate::error::{ApiError, ApiResult};
use crate::service::assignments::AssignmentView;

/// Who handles tips.
pub const HANDLERS: &[Role] = &[Role::Admin, Role::ProvincialStaff, Role::TeamLeader];

pub use doi178_shared::wire::TipView;

impl From<TipRow> for TipView {
    fn from(t: TipRow) -> Self {
        // Deadlines are Vietnamese calendar days.
        let vn = doi178_shared::time::vietnam_date;
        let today = vn(Utc::now());
        TipView {
            handled_on_time: t.handled_at.map(|h| vn(h.and_utc()) <= t.deadline),
            overdue: t.handled_at.is_none() && today > t.deadline,
            id: t.id,
            channel: t.channel,
            received_at: t.received_at,
            content: t.content,
            unit_id: t.unit_id,
            establishment_id: t.establishment_id,
            reporter_contact: t.reporter_contact,
            deadline: t.deadline,
            status: t.status,
            handled_at: t.handled_at,
            assignment_id: t.assignment_id,
        }
    }
}

/// Records a validated tip (the API handler and the tips page both call it).
pub fn create_tip(c: &mut db::AnyConnection, actor: &Actor, draft: &TipDraft) -> ApiResult<TipRow> {
    actor.require(HANDLERS, "record tips")?;
    let unit = draft.unit().to_string();
    if db::units::get(c, actor, &unit)?.is_none() {
        return Err(ApiError::unprocessable(
            ProblemCode::UnknownUnit,
            "unit",
            "unit does not exist or is outside your jurisdiction",
        ));
    }
    if let Some(e) = draft.establishment_id() {
        if db::establishments::get(c, actor, e)?.is_none() {
            return Err(ApiError::unprocessable(
                ProblemCode::UnknownEstablishment,
                "establishment_id",
                "establishment does not exist or is outside your jurisdiction",
            ));
        }
    }
    let row = TipRow {
        id: Uuid::new_v4().to_string(),
        channel: draft.channel(),
        received_at: draft.received_at().naive_utc(),
        content: draft.content().to_string(),
        unit_id: unit,
        establishment_id: draft.establishment_id().map(|e| e.to_string()),
        reporter_contact: draft.reporter_contact().map(str::to_string),
        deadline: draft.deadline(),
        status: TipStatus::Received,
        handled_at: None,
        assignment_id: None,
        created_by: actor.user_id.to_string(),
        created_at: now(),
        updated_at: now(),
    };
    db::tips::insert(c, &Who::of(actor), &row)?;
    Ok(row)
}

/// Moves a tip one step forward, optionally linking an assignment (API and tips page).
pub fn set_tip_status(
    c: &mut db::AnyConnection,
    actor: &Actor,
    id: Uuid,
    next: TipStatus,
    assignment_id: Option<Uuid>,
) -> ApiResult<TipRow> {
    actor.require(HANDLERS, "handle tips")?;
    let mut row = db::tips::get(c, actor, id)?.ok_or_else(|| ApiError::not_found("tip"))?;
    let next = row.status.transition(next)?;
    if let Some(a) = assignment_id {
        db::assignments::get(c, actor, a)?.ok_or_else(|| {
            ApiError::unprocessable(
                ProblemCode::UnknownAssignment,
                "assignment_id",
                "assignment not found",
            )
        })?;
        row.assignment_id = Some(a.to_string());
    }
    row.status = next;
    if next == TipStatus::Handled {
        row.handled_at = Some(now());
    }
    row.updated_at = now();
    db::tips::update(c, &Who::of(actor), &row)?;
    Ok(row)
}

/// The team, kind, window and note of a draft assignment made from a tip.
pub struct TipAssignment {
    pub team_id: Uuid,
    pub kind: AssignmentKind,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
    pub note: Option<String>,
}

/// A draft assignment for the establishment a tip names, linked to the tip (the tip must be
/// visible to `actor` and name an establishment; the draft is checked as any other).
pub fn assignment_for_tip(
    c: &mut db::AnyConnection,
    actor: &Actor,
    tip_id: Uuid,
    a: TipAssignment,
) -> ApiResult<AssignmentView> {
    let tip = db::tips::get(c, actor, tip_id)?.ok_or_else(|| ApiError::not_found("tip"))?;
    let est = tip
        .establishment_id
        .as_deref()
        .and_then(|e| Uuid::parse_str(e).ok())
        .ok_or_else(|| {
            ApiError::unprocessable(
                ProblemCode::Required,
                "establishment_ids",
                "the tip names no establishment; choose them in the planner",
            )
        })?;
    let draft = AssignmentDraft::parse(AssignmentInput {
        team_id: a.team_id,
        kind: a.kind,
        window_start: a.window_start,
        window_end: a.window_end,
        establishment_ids: vec![est],
        note: a.note,
        tip_id: Some(tip_id),
        follow_up_of: None,
    })?;
    crate::service::assignments::create_draft(c, actor, &draft)
}
