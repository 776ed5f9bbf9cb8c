//! `/leader/reviews`: visits of the leader's teams waiting for review; `/leader/visits/{id}`:
//! one visit (checklist answers, violations, minutes, GPS, members present, photos) with the
//! review form (the API's `apply_review`: the comment reaches the phone with the visit).

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use doi178_shared::checklist::ChecklistItem;
use doi178_shared::visit::{AnswerResult, ReviewStatus, VisitInput};
use uuid::Uuid;

use super::{
    field, form_error, form_pairs, hx_refresh, parse_path_id, require_leader, vn_datetime,
    MIN_MEMBERS_PRESENT,
};
use crate::dashboard::page::{render, Ctx, DashResult, Lang};
use crate::dashboard::Web;
use crate::db::{self, visits::VisitRow, AnyConnection};
use crate::error::{ApiError, ApiResult};
use crate::service::visits::{apply_review, Review, ReviewInput};
use crate::state::AppState;

pub struct Pending {
    pub id: String,
    pub establishment: String,
    pub started: String,
    pub received: String,
    pub by: String,
    pub outcome: String,
    pub violations: i32,
    pub members: usize,
    pub few_members: bool,
    pub gps_warning: bool,
    pub revision: i32,
}

fn members_present(row: &VisitRow) -> Option<VisitInput> {
    serde_json::from_str::<VisitInput>(&row.body).ok()
}

fn display_name(
    c: &mut AnyConnection,
    id: &str,
    cache: &mut HashMap<String, String>,
) -> ApiResult<String> {
    if let Some(n) = cache.get(id) {
        return Ok(n.clone());
    }
    let name = match Uuid::parse_str(id).ok() {
        Some(u) => db::users::find_by_id(c, u)?
            .map(|u| u.display_name)
            .unwrap_or_default(),
        None => String::new(),
    };
    cache.insert(id.to_string(), name.clone());
    Ok(name)
}

#[derive(Template)]
#[template(path = "leader/reviews.html")]
struct ListPage {
    ctx: Ctx,
    items: Vec<Pending>,
    counts: super::assignments::Counts,
}

/// `GET /leader/reviews`.
pub async fn list(web: Web, state: web::Data<AppState>) -> DashResult<HttpResponse> {
    require_leader(&web)?;
    let actor = web.actor.clone();
    let db = state.db.clone();
    let l = web.lang;
    let (items, counts) = web::block(move || {
        db.read(|c| -> ApiResult<_> {
            let rows = db::visits::in_review_status(
                c,
                &actor,
                &actor.led_team_ids(),
                ReviewStatus::Submitted,
                i64::MAX,
            )?;
            let mut names = HashMap::new();
            let mut items = Vec::new();
            for r in rows {
                let body = members_present(&r);
                let members = body.as_ref().map_or(0, |b| b.members_present.len());
                items.push(Pending {
                    establishment: db::establishments::get_unscoped(c, &r.establishment_id)?
                        .map(|e| e.name)
                        .unwrap_or_default(),
                    started: vn_datetime(&r.started_at),
                    received: vn_datetime(&r.received_at),
                    by: display_name(c, &r.submitted_by, &mut names)?,
                    outcome: l.label(&r.outcome).to_string(),
                    violations: r.violation_count,
                    members,
                    few_members: members < MIN_MEMBERS_PRESENT,
                    gps_warning: r.gps_warning.is_some(),
                    revision: r.revision,
                    id: r.id,
                });
            }
            Ok((items, super::assignments::counts(c, &actor, None)?))
        })
    })
    .await??;
    render(&ListPage {
        ctx: web.ctx(l.t("Duyệt kết quả kiểm tra", "Review visits"), "/leader"),
        items,
        counts,
    })
}

pub struct AnswerView {
    pub text: String,
    pub result: String,
    pub class: &'static str,
    pub note: String,
}

pub struct ViolationView {
    pub code: String,
    pub description: String,
    pub legal_basis: String,
    pub fine: String,
}

pub struct PhotoView {
    pub id: String,
    pub arrived: bool,
}

#[derive(Template)]
#[template(path = "leader/visit.html")]
struct DetailPage {
    ctx: Ctx,
    id: String,
    establishment_id: String,
    establishment: String,
    establishment_type: String,
    address: String,
    team: String,
    by: String,
    started: String,
    ended: String,
    received: String,
    outcome: String,
    minutes_no: String,
    follow_up_on: String,
    distance: String,
    gps_warning: String,
    members: Vec<String>,
    few_members: bool,
    answers: Vec<AnswerView>,
    violations: Vec<ViolationView>,
    total_fine: String,
    photos: Vec<PhotoView>,
    notes: String,
    review_status: String,
    review_status_code: ReviewStatus,
    review_class: &'static str,
    review_comment: String,
    revision: i32,
    revisions: Vec<(i32, String, String)>,
    can_review: bool,
    counts: super::assignments::Counts,
}

/// `GET /leader/visits/{id}`: 404 for a visit the leader may not see, like the API.
pub async fn detail(
    web: Web,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> DashResult<HttpResponse> {
    require_leader(&web)?;
    let id = parse_path_id(&path, "visit")?;
    let actor = web.actor.clone();
    let db = state.db.clone();
    let l = web.lang;
    let page = web::block(move || {
        db.read(|c| -> ApiResult<_> {
            let row =
                db::visits::get(c, &actor, id)?.ok_or_else(|| ApiError::not_found("visit"))?;
            let body = members_present(&row);
            let est = db::establishments::get_unscoped(c, &row.establishment_id)?;
            let team_members = db::teams::members(c, &row.team_id)?;
            let team = db::teams::get_unscoped(c, &row.team_id)?
                .map(|t| t.name)
                .unwrap_or_default();
            let items: Vec<ChecklistItem> = db::templates::get(c, &row.template_id)?
                .and_then(|t| serde_json::from_str(&t.items).ok())
                .unwrap_or_default();
            let mut names = HashMap::new();
            let by = display_name(c, &row.submitted_by, &mut names)?;
            let members: Vec<String> = body
                .as_ref()
                .map(|b| {
                    b.members_present
                        .iter()
                        .map(|m| {
                            team_members
                                .iter()
                                .find(|t| t.0 == m.to_string())
                                .map(|t| t.2.clone())
                                .unwrap_or_else(|| m.to_string())
                        })
                        .collect()
                })
                .unwrap_or_default();
            let answers = body
                .as_ref()
                .map(|b| {
                    b.answers
                        .iter()
                        .map(|a| AnswerView {
                            text: items
                                .iter()
                                .find(|i| i.code == a.item)
                                .map(|i| {
                                    // The English page shows the item's translation when the
                                    // template has one.
                                    let text = match (l, &i.text_en) {
                                        (Lang::En, Some(en)) => en,
                                        _ => &i.text,
                                    };
                                    format!("{} · {}", i.code, text)
                                })
                                .unwrap_or_else(|| a.item.clone()),
                            result: l.t(a.result.label_vi(), a.result.label_en()).to_string(),
                            class: match a.result {
                                AnswerResult::Pass => "ok",
                                AnswerResult::Fail => "bad",
                                AnswerResult::NotApplicable => "",
                            },
                            note: a.note.clone().unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let violations = db::visits::violations(c, &row.id)?
                .into_iter()
                .map(|v| ViolationView {
                    code: v.code,
                    description: v.description,
                    legal_basis: v.legal_basis,
                    fine: l.vnd(v.proposed_fine_vnd),
                })
                .collect();
            let photos = db::visits::photo_status(c, &row.id)?
                .into_iter()
                .map(|(id, arrived)| PhotoView { id, arrived })
                .collect();
            let mut revisions = Vec::new();
            for r in db::visits::revisions(c, &row.id)? {
                let who = display_name(c, &r.submitted_by, &mut names)?;
                revisions.push((
                    r.revision,
                    format!("{} · {}", vn_datetime(&r.received_at), who),
                    r.reason.unwrap_or_default(),
                ));
            }
            let team_uuid = Uuid::parse_str(&row.team_id).ok();
            let counts = super::assignments::counts(c, &actor, None)?;
            Ok(DetailPage {
                ctx: crate::dashboard::page::Ctx {
                    l,
                    title: String::new(),
                    user: None,
                    csrf: String::new(),
                    nav: Vec::new(),
                    here: String::new(),
                },
                id: row.id.clone(),
                establishment_id: row.establishment_id.clone(),
                establishment: est.as_ref().map(|e| e.name.clone()).unwrap_or_default(),
                establishment_type: est
                    .as_ref()
                    .map(|e| l.label(&e.establishment_type).to_string())
                    .unwrap_or_default(),
                address: est.as_ref().map(|e| e.address.clone()).unwrap_or_default(),
                team,
                by,
                started: vn_datetime(&row.started_at),
                ended: vn_datetime(&row.ended_at),
                received: vn_datetime(&row.received_at),
                outcome: l.label(&row.outcome).to_string(),
                minutes_no: row.minutes_no.clone().unwrap_or_default(),
                follow_up_on: row.follow_up_on.map(|d| l.date(&d)).unwrap_or_default(),
                distance: row
                    .distance_m
                    .map(|d| format!("{} m", l.num(d.round() as i64)))
                    .unwrap_or_default(),
                gps_warning: row.gps_warning.clone().unwrap_or_default(),
                few_members: members.len() < MIN_MEMBERS_PRESENT,
                members,
                answers,
                violations,
                total_fine: l.vnd(row.total_fine_vnd),
                photos,
                notes: body.and_then(|b| b.notes).unwrap_or_default(),
                review_status: l.label(&row.review_status).to_string(),
                review_status_code: row.review_status,
                review_class: crate::dashboard::badge::review(row.review_status),
                review_comment: row.review_comment.clone().unwrap_or_default(),
                revision: row.revision,
                revisions,
                can_review: team_uuid.is_some_and(|t| actor.leads(t)),
                counts,
            })
        })
    })
    .await??;
    let ctx = web.ctx(l.t("Kết quả kiểm tra", "Visit"), "/leader");
    render(&DetailPage { ctx, ..page })
}

/// `POST /leader/visits/{id}/review` (htmx): `decision` and `comment`.
pub async fn submit(
    web: Web,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> DashResult<HttpResponse> {
    require_leader(&web)?;
    let id = parse_path_id(&path, "visit")?;
    let pairs = form_pairs(&body);
    let input = ReviewInput {
        decision: field(&pairs, "decision").unwrap_or_default().to_string(),
        comment: field(&pairs, "comment").map(str::to_string),
    };
    let review = match Review::parse(input) {
        Ok(r) => r,
        Err(e) => return form_error(web.lang, e),
    };
    let actor = web.actor.clone();
    let db = state.db.clone();
    match web::block(move || db.write(|c| apply_review(c, &actor, id, &review))).await? {
        Ok(_) => Ok(hx_refresh()),
        Err(e) => form_error(web.lang, e),
    }
}
