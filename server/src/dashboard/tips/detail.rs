//! One tip: its page, the next status step and a draft assignment made from it.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::TimeDelta;
use doi178_shared::assignment::AssignmentKind;
use doi178_shared::tip::TipStatus;
use doi178_shared::ProblemCode;
use doi178_shared::Role;
use uuid::Uuid;

use super::list::line;
use super::{require_handler, Choice, TipLine};
use crate::dashboard::leader::{
    date_field, field, form_error, form_pairs, hx_redirect, hx_refresh, parse_path_id, uuid_field,
    vn_datetime,
};
use crate::dashboard::page::{render, Ctx, DashResult};
use crate::dashboard::Web;
use crate::db::{self};
use crate::error::{ApiError, ApiResult};
use crate::service::tips::{assignment_for_tip, set_tip_status, TipAssignment};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "tips/detail.html")]
struct DetailPage {
    ctx: Ctx,
    t: TipLine,
    full_content: String,
    unit: String,
    establishment: Option<(String, String, String)>,
    reporter_contact: String,
    handled: String,
    steps: Vec<(String, bool, bool)>,
    assignment: Option<(String, String, String)>,
    is_leader: bool,
    teams: Vec<Choice>,
    start: String,
    end: String,
}

/// `GET /tips/{id}`: 404 for a tip outside the user's jurisdiction, like the API.
pub async fn detail(
    web: Web,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> DashResult<HttpResponse> {
    require_handler(&web)?;
    let id = parse_path_id(&path, "tip")?;
    let actor = web.actor.clone();
    let db = state.db.clone();
    let l = web.lang;
    let (tip, unit, est, assignment, teams) = web::block(move || {
        db.read(|c| -> ApiResult<_> {
            let tip = db::tips::get(c, &actor, id)?.ok_or_else(|| ApiError::not_found("tip"))?;
            let unit = db::units::get(c, &actor, &tip.unit_id)?
                .map(|u| u.full_name)
                .unwrap_or_else(|| tip.unit_id.clone());
            let est = match tip
                .establishment_id
                .as_deref()
                .and_then(|e| Uuid::parse_str(e).ok())
            {
                Some(e) => db::establishments::get(c, &actor, e)?,
                None => None,
            };
            let assignment = match tip
                .assignment_id
                .as_deref()
                .and_then(|a| Uuid::parse_str(a).ok())
            {
                Some(a) => db::assignments::get(c, &actor, a)?,
                None => None,
            };
            let teams: Vec<(String, String)> = db::teams::list(c, &actor)?
                .into_iter()
                .filter(|t| actor.led_team_ids().contains(&t.id))
                .map(|t| (t.id, t.name))
                .collect();
            Ok((tip, unit, est, assignment, teams))
        })
    })
    .await??;
    let is_leader = web.actor.role == Role::TeamLeader && !teams.is_empty();
    let current = Some(tip.status);
    let steps = TipStatus::ALL
        .iter()
        .map(|s| {
            let done = current.is_some_and(|c| {
                TipStatus::ALL.iter().position(|x| x == s)
                    <= TipStatus::ALL.iter().position(|x| *x == c)
            });
            (
                l.t(s.label_vi(), s.label_en()).to_string(),
                done,
                Some(*s) == current,
            )
        })
        .collect();
    let today = crate::clock::today();
    let full_content = tip.content.clone();
    let reporter_contact = tip.reporter_contact.clone().unwrap_or_default();
    let handled = tip.handled_at.as_ref().map(vn_datetime).unwrap_or_default();
    let place = est
        .as_ref()
        .map(|e| e.name.clone())
        .unwrap_or_else(|| unit.clone());
    render(&DetailPage {
        ctx: web.ctx(l.t("Tin báo", "Tip"), "/tips"),
        t: line(l, tip, place),
        full_content,
        unit,
        establishment: est.map(|e| (e.id, e.name, e.address)),
        reporter_contact,
        handled,
        steps,
        assignment: assignment.map(|a| {
            (
                a.id,
                format!(
                    "{} · {} – {}",
                    l.label(&a.kind),
                    l.date(&a.window_start),
                    l.date(&a.window_end)
                ),
                l.label(&a.status).to_string(),
            )
        }),
        is_leader,
        teams: teams
            .into_iter()
            .enumerate()
            .map(|(i, (value, label))| Choice {
                value,
                label,
                selected: i == 0,
            })
            .collect(),
        start: (today + TimeDelta::days(1)).format("%d/%m/%Y").to_string(),
        end: (today + TimeDelta::days(7)).format("%d/%m/%Y").to_string(),
    })
}

/// `POST /tips/{id}/status` (htmx): `status` = the next step.
pub async fn change_status(
    web: Web,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> DashResult<HttpResponse> {
    require_handler(&web)?;
    let id = parse_path_id(&path, "tip")?;
    let l = web.lang;
    let pairs = form_pairs(&body);
    let next = match TipStatus::parse(field(&pairs, "status").unwrap_or("")) {
        Ok(s) => s,
        Err(e) => return form_error(l, e.into()),
    };
    let actor = web.actor.clone();
    let db = state.db.clone();
    match web::block(move || db.write(|c| set_tip_status(c, &actor, id, next, None))).await? {
        Ok(_) => Ok(hx_refresh()),
        Err(e) => form_error(l, e),
    }
}

/// `POST /tips/{id}/assignment` (htmx): a tip-driven (or unannounced) draft for the tip's
/// establishment, linked to the tip; then the draft's page.
pub async fn make_assignment(
    web: Web,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> DashResult<HttpResponse> {
    require_handler(&web)?;
    let id = parse_path_id(&path, "tip")?;
    let l = web.lang;
    let pairs = form_pairs(&body);
    let parsed = (|| -> Result<_, ApiError> {
        let team_id = uuid_field(&pairs, "team_id")?.ok_or_else(|| {
            ApiError::unprocessable(ProblemCode::Required, "team_id", "choose the team")
        })?;
        let kind = AssignmentKind::parse(field(&pairs, "kind").unwrap_or("tip"))?;
        let today = crate::clock::today();
        let start = date_field(&pairs, "window_start")?.unwrap_or(today);
        let end = date_field(&pairs, "window_end")?.unwrap_or(start + TimeDelta::days(7));
        Ok((
            team_id,
            kind,
            start,
            end,
            field(&pairs, "note").map(str::to_string),
        ))
    })();
    let (team_id, kind, window_start, window_end, note) = match parsed {
        Ok(v) => v,
        Err(e) => return form_error(l, e),
    };
    let actor = web.actor.clone();
    let db = state.db.clone();
    let res = web::block(move || {
        db.write(|c| {
            assignment_for_tip(
                c,
                &actor,
                id,
                TipAssignment {
                    team_id,
                    kind,
                    window_start,
                    window_end,
                    note,
                },
            )
        })
    })
    .await?;
    match res {
        Ok(a) => Ok(hx_redirect(&format!("/leader/assignments/{}", a.id))),
        Err(e) => form_error(l, e),
    }
}
