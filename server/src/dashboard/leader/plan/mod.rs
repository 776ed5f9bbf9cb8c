//! `/leader`: the planner's proposals for one of the leader's teams (exactly the API's
//! `GET /api/v1/planner`), selected with checkboxes into a draft assignment
//! (`POST /leader/assignments`, the API's `create_draft`).

mod view;

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::TimeDelta;
use doi178_shared::assignment::{AssignmentDraft, AssignmentInput, AssignmentKind};
use doi178_shared::establishment::EstablishmentType;
use doi178_shared::ProblemCode;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    date_field, field, form_error, form_pairs, hx_redirect, parse_date, require_leader, uuid_field,
};
use crate::dashboard::page::{render, Ctx, DashResult};
use crate::dashboard::Web;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::service::planner::{plan, PlannerQuery};
use crate::state::AppState;

use self::view::{views, Choice, Gap, OutingView};

#[derive(Deserialize)]
pub struct PlanQuery {
    team: Option<String>,
    from: Option<String>,
    to: Option<String>,
    #[serde(rename = "type")]
    establishment_type: Option<String>,
    tip: Option<String>,
}

#[derive(Template)]
#[template(path = "leader/plan.html")]
struct PlanPage {
    ctx: Ctx,
    teams: Vec<Choice>,
    team_id: String,
    team_name: String,
    from: String,
    to: String,
    types: Vec<Choice>,
    kinds: Vec<Choice>,
    tips: Vec<Choice>,
    follow_ups: Vec<Choice>,
    programme: String,
    considered: String,
    gaps: Vec<Gap>,
    outings: Vec<OutingView>,
    counts: super::assignments::Counts,
}

/// `GET /leader`: proposals, gap, and the form that drafts an assignment.
pub async fn page(
    web: Web,
    state: web::Data<AppState>,
    query: web::Query<PlanQuery>,
) -> DashResult<HttpResponse> {
    require_leader(&web)?;
    let q = query.into_inner();
    let led = web.actor.led_team_ids();
    let team_id = match q.team.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => Uuid::parse_str(t).map_err(|_| ApiError::not_found("team"))?,
        None => led
            .first()
            .and_then(|t| Uuid::parse_str(t).ok())
            .ok_or_else(|| ApiError::not_found("team"))?,
    };
    let bad_date =
        |f: &str| ApiError::unprocessable(ProblemCode::Invalid, f, "not a date (dd/mm/yyyy)");
    let opt = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let from = match opt(&q.from) {
        Some(s) => Some(parse_date(&s).ok_or_else(|| bad_date("from"))?),
        None => None,
    };
    let to = match opt(&q.to) {
        Some(s) => Some(parse_date(&s).ok_or_else(|| bad_date("to"))?),
        None => None,
    };
    let only_type = opt(&q.establishment_type);
    let tip_pre = opt(&q.tip);
    let planner_q = PlannerQuery {
        team: team_id,
        from,
        to,
        establishment_type: only_type.clone(),
        limit: None,
        radius_m: None,
        group_size: None,
    };
    let actor = web.actor.clone();
    let db = state.db.clone();
    let (res, teams, tips, follow_ups, counts) = web::block(move || {
        db.read(|c| -> ApiResult<_> {
            let res = plan(c, &actor, &planner_q)?;
            let teams: Vec<(String, String)> = db::teams::list(c, &actor)?
                .into_iter()
                .filter(|t| actor.led_team_ids().contains(&t.id))
                .map(|t| (t.id, t.name))
                .collect();
            // Open tips of the area (a tip-driven draft answers one).
            let open = db::tips::Filter {
                open: true,
                ..Default::default()
            };
            let tips: Vec<(String, String)> = db::tips::list(c, &actor, &open)?
                .into_iter()
                .map(|t| {
                    let mut text: String = t.content.chars().take(70).collect();
                    if t.content.chars().count() > 70 {
                        text.push('…');
                    }
                    (
                        t.id,
                        format!("{} · {}", t.received_at.format("%d/%m/%Y"), text),
                    )
                })
                .collect();
            // Recent visits of the team with violations (a follow-up checks them).
            let visits = db::visits::list(
                c,
                &actor,
                &db::visits::Filter {
                    team_id: Some(team_id.to_string()),
                    limit: 200,
                    ..Default::default()
                },
            )?;
            let mut follow_ups = Vec::new();
            for v in visits
                .into_iter()
                .filter(|v| v.violation_count > 0)
                .take(40)
            {
                let name = db::establishments::get_unscoped(c, &v.establishment_id)?
                    .map(|e| e.name)
                    .unwrap_or_default();
                follow_ups.push((
                    v.id,
                    format!("{} · {}", v.started_at.format("%d/%m/%Y"), name),
                ));
            }
            let counts = super::assignments::counts(c, &actor, Some(team_id.to_string()))?;
            Ok((res, teams, tips, follow_ups, counts))
        })
    })
    .await??;
    let l = web.lang;
    let (outings, gaps) = views(&web, &res);
    let team_name = teams
        .iter()
        .find(|(id, _)| *id == team_id.to_string())
        .map(|(_, n)| n.clone())
        .unwrap_or_default();
    let kind_pre = if tip_pre.is_some() { "tip" } else { "planned" };
    let ctx = web.ctx(l.t("Kế hoạch kiểm tra", "Inspection planning"), "/leader");
    render(&PlanPage {
        teams: teams
            .iter()
            .map(|(id, name)| Choice {
                value: id.clone(),
                label: name.clone(),
                selected: *id == team_id.to_string(),
            })
            .collect(),
        team_id: team_id.to_string(),
        team_name,
        from: res.from.format("%d/%m/%Y").to_string(),
        to: res.to.format("%d/%m/%Y").to_string(),
        types: EstablishmentType::ALL
            .iter()
            .map(|t| Choice {
                value: t.as_str().to_string(),
                label: l.label(t).to_string(),
                selected: only_type.as_deref() == Some(t.as_str()),
            })
            .collect(),
        kinds: AssignmentKind::ALL
            .iter()
            .map(|k| Choice {
                value: k.as_str().to_string(),
                label: l.t(k.label_vi(), k.label_en()).to_string(),
                selected: k.as_str() == kind_pre,
            })
            .collect(),
        tips: tips
            .into_iter()
            .map(|(id, label)| Choice {
                selected: tip_pre.as_deref() == Some(id.as_str()),
                value: id,
                label,
            })
            .collect(),
        follow_ups: follow_ups
            .into_iter()
            .map(|(value, label)| Choice {
                value,
                label,
                selected: false,
            })
            .collect(),
        programme: res.programme.name.clone(),
        considered: l.num(res.candidates_considered as i64),
        gaps,
        outings,
        counts,
        ctx,
    })
}

/// `POST /leader/assignments` (htmx): drafts an assignment from the selected proposals.
pub async fn create(
    web: Web,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> DashResult<HttpResponse> {
    require_leader(&web)?;
    let l = web.lang;
    let pairs = form_pairs(&body);
    let input = match input_of(&pairs) {
        Ok(i) => i,
        Err(e) => return form_error(l, e),
    };
    let draft = match AssignmentDraft::parse(input) {
        Ok(d) => d,
        Err(e) => return form_error(l, e.into()),
    };
    let actor = web.actor.clone();
    let db = state.db.clone();
    let res = web::block(move || {
        db.write(|c| crate::service::assignments::create_draft(c, &actor, &draft))
    })
    .await?;
    match res {
        Ok(a) => Ok(hx_redirect(&format!("/leader/assignments/{}", a.id))),
        Err(e) => form_error(l, e),
    }
}

/// The API's input from the form's fields (the same validation follows).
fn input_of(pairs: &[(String, String)]) -> Result<AssignmentInput, ApiError> {
    let team_id = uuid_field(pairs, "team_id")?.ok_or_else(|| {
        ApiError::unprocessable(ProblemCode::Required, "team_id", "choose the team")
    })?;
    let kind = AssignmentKind::parse(field(pairs, "kind").unwrap_or("planned"))?;
    let today = crate::clock::today();
    let window_start = date_field(pairs, "window_start")?.unwrap_or(today);
    let window_end = date_field(pairs, "window_end")?.unwrap_or(window_start + TimeDelta::days(14));
    let mut establishment_ids = Vec::new();
    for (i, (_, v)) in pairs
        .iter()
        .filter(|(k, _)| k == "establishment_ids")
        .enumerate()
    {
        establishment_ids.push(Uuid::parse_str(v.trim()).map_err(|_| {
            ApiError::unprocessable(
                ProblemCode::Invalid,
                &format!("establishment_ids[{i}]"),
                "not a valid id",
            )
        })?);
    }
    // Only the field that belongs to the chosen kind is sent on.
    let tip_id = match kind {
        AssignmentKind::Tip | AssignmentKind::Unannounced => uuid_field(pairs, "tip_id")?,
        _ => None,
    };
    let follow_up_of = match kind {
        AssignmentKind::FollowUp => uuid_field(pairs, "follow_up_of")?,
        _ => None,
    };
    Ok(AssignmentInput {
        team_id,
        kind,
        window_start,
        window_end,
        establishment_ids,
        note: field(pairs, "note").map(str::to_string),
        tip_id,
        follow_up_of,
    })
}
