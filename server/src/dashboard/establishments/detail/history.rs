//! An establishment's history as its page shows it: visits with their outcome, violations,
//! review and photos, follow-ups, and the linked tips each through the tips' own visibility.

use chrono::{Duration, NaiveDateTime};
use doi178_shared::visit::ReviewStatus;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Actor;
use crate::dashboard::page::Lang;
use crate::dashboard::{assets, badge};
use crate::db::{self, AnyConnection};
use crate::error::{ApiError, ApiResult};

pub struct Violation {
    pub code: String,
    pub description: String,
    pub legal_basis: String,
    pub fine: String,
}

pub struct Visit {
    pub id: String,
    pub date: String,
    pub time: String,
    pub team: String,
    pub members: Vec<String>,
    pub outcome: String,
    pub outcome_class: &'static str,
    pub minutes_no: Option<String>,
    pub review: String,
    pub review_class: &'static str,
    pub review_comment: Option<String>,
    pub violations: Vec<Violation>,
    pub total_fine: Option<String>,
    pub photos: Vec<String>,
    pub pending_photos: usize,
    pub follow_up_on: Option<String>,
    pub notes: Option<String>,
    pub gps_warning: Option<String>,
}

pub struct FollowUp {
    pub due: String,
    pub visit_date: String,
    pub done: bool,
    pub overdue: bool,
}

pub struct Tip {
    pub id: String,
    pub received: String,
    pub channel: String,
    pub status: String,
    pub content: String,
    pub deadline: String,
    pub overdue: bool,
}

/// Label/value pairs of the papers box.
pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

/// The boundary file of the unit's province, when one is shipped.
pub(super) fn geo_url_for(path: &str) -> String {
    let province = path.split('/').find(|s| !s.is_empty()).unwrap_or_default();
    let code = province.rsplit(':').next().unwrap_or_default();
    let file = format!("geo/communes-{code}.geojson");
    if !code.is_empty() && assets::exists(&file) {
        format!("/static/{file}")
    } else {
        String::new()
    }
}

fn vn_time(at: NaiveDateTime) -> NaiveDateTime {
    at + Duration::hours(7)
}

fn display_name(c: &mut AnyConnection, id: &str) -> ApiResult<String> {
    Ok(match Uuid::parse_str(id) {
        Ok(u) => db::users::find_by_id(c, u)?
            .map(|u| u.display_name)
            .unwrap_or_else(|| id.to_string()),
        Err(_) => id.to_string(),
    })
}

pub(super) struct Loaded {
    pub(super) est: db::establishments::EstablishmentRow,
    pub(super) unit: Option<db::units::UnitRow>,
    pub(super) visits: Vec<Visit>,
    pub(super) follow_ups: Vec<FollowUp>,
    pub(super) tips: Vec<Tip>,
}

pub(super) fn load(c: &mut AnyConnection, actor: &Actor, id: Uuid, l: Lang) -> ApiResult<Loaded> {
    let est = db::establishments::get(c, actor, id)?
        .ok_or_else(|| ApiError::not_found("establishment"))?;
    let unit = db::units::get(c, actor, &est.unit_id)?;
    let rows = db::visits::list(
        c,
        actor,
        &db::visits::Filter {
            establishment_id: Some(est.id.clone()),
            // Every visit of the establishment: its whole history is the point of this page.
            limit: i64::MAX,
            ..Default::default()
        },
    )?;
    let today = crate::clock::today();
    let mut visits = Vec::new();
    let mut follow_ups = Vec::new();
    for v in &rows {
        let body: Value = serde_json::from_str(&v.body).unwrap_or(Value::Null);
        let mut members = Vec::new();
        if let Some(ids) = body.get("members_present").and_then(Value::as_array) {
            for m in ids.iter().filter_map(Value::as_str) {
                members.push(display_name(c, m)?);
            }
        }
        let team = db::teams::get_unscoped(c, &v.team_id)?
            .map(|t| t.name)
            .unwrap_or_else(|| v.team_id.clone());
        let violations = db::visits::violations(c, &v.id)?
            .into_iter()
            .map(|x| Violation {
                code: x.code,
                description: x.description,
                legal_basis: x.legal_basis,
                fine: l.vnd(x.proposed_fine_vnd),
            })
            .collect::<Vec<_>>();
        let photos = db::visits::photo_status(c, &v.id)?;
        let at = vn_time(v.started_at);
        if let Some(due) = v.follow_up_on {
            if v.review_status != ReviewStatus::Rejected {
                // The API's rule: done when a later visit (not rejected) followed.
                let done = rows.iter().any(|w| {
                    w.started_at > v.started_at
                        && w.review_status != ReviewStatus::Rejected
                        && w.id != v.id
                });
                follow_ups.push(FollowUp {
                    due: l.date(&due),
                    visit_date: l.date(&at.date()),
                    done,
                    overdue: !done && due <= today,
                });
            }
        }
        visits.push(Visit {
            id: v.id.clone(),
            date: l.date(&at.date()),
            time: at.format("%H:%M").to_string(),
            team,
            members,
            outcome: l.label(&v.outcome).to_string(),
            outcome_class: badge::outcome(v.outcome),
            minutes_no: v.minutes_no.clone(),
            review: l.label(&v.review_status).to_string(),
            review_class: badge::review(v.review_status),
            review_comment: v.review_comment.clone(),
            total_fine: (v.total_fine_vnd > 0).then(|| l.vnd(v.total_fine_vnd)),
            violations,
            pending_photos: photos.iter().filter(|(_, got)| !got).count(),
            photos: photos
                .into_iter()
                .filter(|(_, got)| *got)
                .map(|(p, _)| p)
                .collect(),
            follow_up_on: v.follow_up_on.map(|d| l.date(&d)),
            notes: body
                .get("notes")
                .and_then(Value::as_str)
                .map(str::to_string)
                .filter(|s| !s.trim().is_empty()),
            gps_warning: v.gps_warning.clone(),
        });
    }
    // Tips linked to the establishment, each through the API's own visibility check.
    let tip_ids = db::tips::ids_of_establishment(c, &est.id)?;
    let mut tips = Vec::new();
    for tid in tip_ids {
        let Ok(tid) = Uuid::parse_str(&tid) else {
            continue;
        };
        if let Some(t) = db::tips::get(c, actor, tid)? {
            let content: String = t.content.chars().take(240).collect();
            tips.push(Tip {
                overdue: t.handled_at.is_none() && today > t.deadline,
                id: t.id,
                received: l.date(&vn_time(t.received_at).date()),
                channel: l.label(&t.channel).to_string(),
                status: l.label(&t.status).to_string(),
                content: if t.content.chars().count() > 240 {
                    format!("{content}…")
                } else {
                    content
                },
                deadline: l.date(&t.deadline),
            });
        }
    }
    Ok(Loaded {
        est,
        unit,
        visits,
        follow_ups,
        tips,
    })
}
