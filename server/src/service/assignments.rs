//! Assignments (phân công): drafting one for a team, moving it through its life cycle, and its
//! view — for the API, the leader's pages and the tips page.

use doi178_shared::assignment::{AssignmentDraft, AssignmentStatus};
pub use doi178_shared::wire::AssignmentView;
use doi178_shared::ProblemCode;
use uuid::Uuid;

use crate::auth::Actor;
use crate::clock::now;
use crate::db::audit_chain::Who;
use crate::db::{self, assignments::AssignmentRow};
use crate::error::{ApiError, ApiResult};

pub fn view(c: &mut db::AnyConnection, r: AssignmentRow) -> ApiResult<AssignmentView> {
    let establishment_ids = db::assignments::establishment_ids(c, &r.id)?;
    Ok(AssignmentView {
        id: r.id,
        team_id: r.team_id,
        kind: r.kind,
        status: r.status,
        window_start: r.window_start,
        window_end: r.window_end,
        note: r.note,
        tip_id: r.tip_id,
        follow_up_of: r.follow_up_of,
        establishment_ids,
        created_by: r.created_by,
        created_at: r.created_at,
        released_at: r.released_at,
        closed_at: r.closed_at,
        version: r.seq,
    })
}

/// Moves an assignment of a team `actor` leads to `next` if its life cycle allows (release,
/// cancel, complete): shared by the API and the leader's page, in a write transaction.
pub fn change_status(
    c: &mut db::AnyConnection,
    actor: &Actor,
    id: Uuid,
    next: AssignmentStatus,
) -> ApiResult<AssignmentView> {
    let mut row =
        db::assignments::get(c, actor, id)?.ok_or_else(|| ApiError::not_found("assignment"))?;
    let team = Uuid::parse_str(&row.team_id).map_err(|_| ApiError::internal())?;
    if !actor.leads(team) {
        return Err(ApiError::forbidden(
            "only the leader or a deputy of the team may change its assignments",
        ));
    }
    let next = row.status.transition(next).map_err(|e| {
        ApiError::conflict(
            ProblemCode::InvalidTransition,
            format!("{}: {}", e.field, e.message),
        )
        .field("status")
    })?;
    row.status = next;
    match next {
        AssignmentStatus::Released => row.released_at = Some(now()),
        AssignmentStatus::Done | AssignmentStatus::Cancelled => row.closed_at = Some(now()),
        AssignmentStatus::Draft => {}
    }
    row.updated_at = now();
    row.seq = db::next_seq(c)?;
    db::assignments::update(c, &Who::of(actor), &row)?;
    view(c, row)
}

/// Stores a validated draft for a team `actor` leads (the API handler and the leader's page both
/// call it, in a write transaction). A tip-driven draft is linked to its tip when the tip has no
/// assignment yet, so the tip shows the assignment that resulted from it.
pub fn create_draft(
    c: &mut db::AnyConnection,
    actor: &Actor,
    draft: &AssignmentDraft,
) -> ApiResult<AssignmentView> {
    if !actor.leads(draft.team_id()) {
        return Err(ApiError::forbidden(
            "only the leader or a deputy of the team may plan its assignments",
        )
        .field("team_id"));
    }
    let team = db::teams::get_unscoped(c, &draft.team_id().to_string())?
        .ok_or_else(|| ApiError::not_found("team"))?;
    let team_units = db::units::subtree_ids(c, std::slice::from_ref(&team.unit_id))?;
    let mut ids = Vec::new();
    for (i, e) in draft.establishment_ids().iter().enumerate() {
        let row = db::establishments::get_unscoped(c, &e.to_string())?;
        match row {
            Some(r) if team_units.contains(&r.unit_id) => ids.push(r.id),
            _ => {
                return Err(ApiError::unprocessable(
                    ProblemCode::UnknownEstablishment,
                    &format!("establishment_ids[{i}]"),
                    "establishment does not exist or is outside the team's jurisdiction",
                ))
            }
        }
    }
    let tip = match draft.tip_id() {
        Some(tip) => Some(db::tips::get(c, actor, tip)?.ok_or_else(|| {
            ApiError::unprocessable(ProblemCode::UnknownTip, "tip_id", "tip not found")
        })?),
        None => None,
    };
    if let Some(v) = draft.follow_up_of() {
        db::visits::get(c, actor, v)?.ok_or_else(|| {
            ApiError::unprocessable(ProblemCode::UnknownVisit, "follow_up_of", "visit not found")
        })?;
    }
    let seq = db::next_seq(c)?;
    let row = AssignmentRow {
        id: Uuid::new_v4().to_string(),
        team_id: team.id,
        kind: draft.kind(),
        status: AssignmentStatus::Draft,
        window_start: draft.window_start(),
        window_end: draft.window_end(),
        note: draft.note().map(str::to_string),
        tip_id: draft.tip_id().map(|t| t.to_string()),
        follow_up_of: draft.follow_up_of().map(|v| v.to_string()),
        created_by: actor.user_id.to_string(),
        created_at: now(),
        released_at: None,
        closed_at: None,
        updated_at: now(),
        seq,
    };
    db::assignments::insert(c, &Who::of(actor), &row, &ids)?;
    if let Some(mut tip) = tip.filter(|t| t.assignment_id.is_none()) {
        tip.assignment_id = Some(row.id.clone());
        tip.updated_at = now();
        db::tips::update(c, &Who::of(actor), &tip)?;
    }
    view(c, row)
}
