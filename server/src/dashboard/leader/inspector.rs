//! `/inspector`: an inspector's released work (never drafts) and the recent visits of their teams
//! with the leaders' review and comments. Read only: visits are recorded on the phone.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use uuid::Uuid;

use doi178_shared::assignment::{AssignmentKind, AssignmentStatus};
use doi178_shared::visit::ReviewStatus;

use super::vn_datetime;
use crate::dashboard::page::{render, Ctx, DashResult};
use crate::dashboard::Web;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub struct Work {
    pub kind: String,
    pub kind_code: AssignmentKind,
    pub status: String,
    pub status_code: AssignmentStatus,
    pub window: String,
    pub note: String,
    pub establishments: Vec<(String, String)>,
}

pub struct VisitLine {
    pub establishment: String,
    pub started: String,
    pub outcome: String,
    pub review: String,
    pub review_code: ReviewStatus,
    pub review_class: &'static str,
    pub comment: String,
    pub mine: bool,
    pub by: String,
}

#[derive(Template)]
#[template(path = "inspector/home.html")]
struct Home {
    ctx: Ctx,
    work: Vec<Work>,
    visits: Vec<VisitLine>,
    to_correct: usize,
}

/// Shown assignment statuses: what the team works on now, then what it finished.
const SHOWN: [AssignmentStatus; 2] = [AssignmentStatus::Released, AssignmentStatus::Done];

pub async fn page(web: Web, state: web::Data<AppState>) -> DashResult<HttpResponse> {
    if web.actor.teams.is_empty() {
        return Err(ApiError::forbidden(web.t(
            "Trang này dành cho thành viên đội kiểm tra.",
            "This page is for members of an inspection team.",
        ))
        .into());
    }
    let actor = web.actor.clone();
    let db = state.db.clone();
    let l = web.lang;
    let (work, visits) = web::block(move || {
        db.read(|c| -> ApiResult<_> {
            let mut work = Vec::new();
            for status in SHOWN {
                let rows = db::assignments::list(
                    c,
                    &actor,
                    &db::assignments::Filter {
                        status: Some(status),
                        // All the work released to the team; of the finished, the most recent few.
                        limit: if status == AssignmentStatus::Done {
                            8
                        } else {
                            i64::MAX
                        },
                        ..Default::default()
                    },
                )?;
                for r in rows {
                    let mut ests = Vec::new();
                    for e in db::assignments::establishment_ids(c, &r.id)? {
                        if let Some(row) = Uuid::parse_str(&e)
                            .ok()
                            .map(|u| db::establishments::get(c, &actor, u))
                            .transpose()?
                            .flatten()
                        {
                            ests.push((row.name, row.address));
                        }
                    }
                    ests.sort();
                    work.push(Work {
                        kind: l.label(&r.kind).to_string(),
                        kind_code: r.kind,
                        status: l.label(&r.status).to_string(),
                        status_code: r.status,
                        window: format!("{} – {}", l.date(&r.window_start), l.date(&r.window_end)),
                        note: r.note.unwrap_or_default(),
                        establishments: ests,
                    });
                }
            }
            // What the leaders sent back, then the most recent others.
            let mut rows = db::visits::in_review_status(
                c,
                &actor,
                &actor.team_ids(),
                ReviewStatus::CorrectionRequested,
                i64::MAX,
            )?;
            let recent = db::visits::list(
                c,
                &actor,
                &db::visits::Filter {
                    limit: 30,
                    ..Default::default()
                },
            )?;
            rows.extend(
                recent
                    .into_iter()
                    .filter(|v| v.review_status != ReviewStatus::CorrectionRequested),
            );
            let me = actor.user_id.to_string();
            let mut names: HashMap<String, String> = HashMap::new();
            let mut visits = Vec::new();
            for v in rows {
                if !names.contains_key(&v.submitted_by) {
                    let n = Uuid::parse_str(&v.submitted_by)
                        .ok()
                        .map(|u| db::users::find_by_id(c, u))
                        .transpose()?
                        .flatten()
                        .map(|u| u.display_name)
                        .unwrap_or_default();
                    names.insert(v.submitted_by.clone(), n);
                }
                visits.push(VisitLine {
                    establishment: db::establishments::get_unscoped(c, &v.establishment_id)?
                        .map(|e| e.name)
                        .unwrap_or_default(),
                    started: vn_datetime(&v.started_at),
                    outcome: l.label(&v.outcome).to_string(),
                    review: l.label(&v.review_status).to_string(),
                    review_class: crate::dashboard::badge::review(v.review_status),
                    review_code: v.review_status,
                    comment: v.review_comment.clone().unwrap_or_default(),
                    mine: v.submitted_by == me,
                    by: names.get(&v.submitted_by).cloned().unwrap_or_default(),
                });
            }
            Ok((work, visits))
        })
    })
    .await??;
    let to_correct = visits
        .iter()
        .filter(|v| v.review_code == ReviewStatus::CorrectionRequested)
        .count();
    render(&Home {
        ctx: web.ctx(l.t("Việc của tôi", "My work"), "/inspector"),
        work,
        visits,
        to_correct,
    })
}
