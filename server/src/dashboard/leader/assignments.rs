//! `/leader/assignments`: the leader's assignments by status, one assignment with its
//! establishments, and the actions its status allows (release, cancel, mark done) — the API's
//! `change_status`, with the API's visibility (`db::assignments`).

use actix_web::{web, HttpResponse};
use askama::Template;
use doi178_shared::assignment::{AssignmentKind, AssignmentStatus};
use serde::Deserialize;
use uuid::Uuid;

use super::{form_error, hx_refresh, parse_path_id, require_leader, vn_datetime};
use crate::dashboard::page::{render, Ctx, DashResult};
use crate::dashboard::Web;
use crate::db::{self, AnyConnection};
use crate::error::{ApiError, ApiResult};
use crate::service::assignments::{change_status, view, AssignmentView};
use crate::state::AppState;

/// How many assignments the leader sees in each status.
#[derive(Default, Clone)]
pub struct Counts {
    pub draft: usize,
    pub released: usize,
    pub done: usize,
    pub cancelled: usize,
}

pub fn counts(
    c: &mut AnyConnection,
    actor: &crate::auth::Actor,
    team: Option<String>,
) -> ApiResult<Counts> {
    let mut out = Counts::default();
    for s in AssignmentStatus::ALL {
        let n = db::assignments::count(
            c,
            actor,
            &db::assignments::Filter {
                team_id: team.clone(),
                status: Some(*s),
                ..Default::default()
            },
        )?;
        match s {
            AssignmentStatus::Draft => out.draft = n,
            AssignmentStatus::Released => out.released = n,
            AssignmentStatus::Done => out.done = n,
            AssignmentStatus::Cancelled => out.cancelled = n,
        }
    }
    Ok(out)
}

/// The actions an assignment in `status` allows, as (path segment, Vietnamese, English, danger).
pub fn actions_for(
    status: AssignmentStatus,
) -> Vec<(&'static str, &'static str, &'static str, bool)> {
    match status {
        AssignmentStatus::Draft => vec![
            ("release", "Giao cho đội", "Release to the team", false),
            ("cancel", "Hủy", "Cancel", true),
        ],
        AssignmentStatus::Released => vec![
            ("complete", "Đánh dấu hoàn thành", "Mark done", false),
            ("cancel", "Hủy", "Cancel", true),
        ],
        AssignmentStatus::Done | AssignmentStatus::Cancelled => Vec::new(),
    }
}

pub struct Action {
    pub path: &'static str,
    pub label: String,
    pub confirm: String,
    pub danger: bool,
    pub primary: bool,
}

pub struct Item {
    pub id: String,
    pub kind: String,
    pub kind_code: AssignmentKind,
    pub status: String,
    pub status_code: AssignmentStatus,
    pub window: String,
    pub count: usize,
    pub note: String,
    pub team: String,
    pub created: String,
    pub actions: Vec<Action>,
}

fn actions(web: &Web, a: &AssignmentView) -> Vec<Action> {
    let l = web.lang;
    let leads = Uuid::parse_str(&a.team_id).is_ok_and(|t| web.actor.leads(t));
    if !leads {
        return Vec::new();
    }
    actions_for(a.status)
        .into_iter()
        .map(|(path, vi, en, danger)| Action {
            path,
            label: l.t(vi, en).to_string(),
            confirm: match path {
                "release" => l.t(
                    "Giao phân công này cho đội? Các thành viên sẽ thấy trên điện thoại.",
                    "Release this assignment? The team's members will see it on their phones.",
                ),
                "cancel" => l.t(
                    "Hủy phân công này? Điện thoại của đội sẽ bỏ nó ở lần đồng bộ sau.",
                    "Cancel this assignment? The team's phones drop it at their next sync.",
                ),
                _ => l.t("Đánh dấu đã hoàn thành?", "Mark it done?"),
            }
            .to_string(),
            danger,
            primary: path == "release",
        })
        .collect()
}

fn item(web: &Web, a: &AssignmentView, team: String) -> Item {
    let l = web.lang;
    Item {
        id: a.id.clone(),
        kind: l.label(&a.kind).to_string(),
        kind_code: a.kind,
        status: l.label(&a.status).to_string(),
        status_code: a.status,
        window: format!("{} – {}", l.date(&a.window_start), l.date(&a.window_end)),
        count: a.establishment_ids.len(),
        note: a.note.clone().unwrap_or_default(),
        team,
        created: vn_datetime(&a.created_at),
        actions: actions(web, a),
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    /// The page after this cursor (`next_url`).
    cursor: Option<String>,
}

/// Assignments on one page of a tab.
const PER_PAGE: i64 = 100;

pub struct Tab {
    pub code: &'static str,
    pub label: String,
    pub count: usize,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "leader/assignments.html")]
struct ListPage {
    ctx: Ctx,
    tabs: Vec<Tab>,
    status: String,
    items: Vec<Item>,
    counts: Counts,
    next_url: Option<String>,
    first_url: Option<String>,
}

/// `GET /leader/assignments?status=draft|released|done|cancelled`.
pub async fn list(
    web: Web,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> DashResult<HttpResponse> {
    require_leader(&web)?;
    let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => s.parse::<AssignmentStatus>().map_err(ApiError::from)?,
        None => AssignmentStatus::Draft,
    };
    let cursor = query.cursor.clone().filter(|c| !c.is_empty());
    let before = cursor
        .as_deref()
        .map(crate::service::page::parse_time_cursor)
        .transpose()?;
    let actor = web.actor.clone();
    let db = state.db.clone();
    let (rows, next_cursor, teams, counts) = web::block(move || {
        db.read(|c| -> ApiResult<_> {
            let rows = db::assignments::list(
                c,
                &actor,
                &db::assignments::Filter {
                    status: Some(status),
                    before,
                    limit: PER_PAGE + 1,
                    ..Default::default()
                },
            )?;
            let (rows, next_cursor) = crate::service::page::page_of(rows, PER_PAGE as usize, |r| {
                crate::service::page::time_cursor(r.created_at, &r.id)
            });
            let rows = rows
                .into_iter()
                .map(|r| view(c, r))
                .collect::<ApiResult<Vec<_>>>()?;
            let teams = db::teams::list(c, &actor)?;
            Ok((rows, next_cursor, teams, counts(c, &actor, None)?))
        })
    })
    .await??;
    let tab_url = |cursor: Option<&str>| {
        let mut url = format!("/leader/assignments?status={}", status.as_str());
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        url
    };
    let next_url = next_cursor.as_deref().map(|c| tab_url(Some(c)));
    let first_url = cursor.as_deref().map(|_| tab_url(None));
    let l = web.lang;
    let team_name = |id: &str| {
        teams
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.name.clone())
            .unwrap_or_default()
    };
    let items = rows
        .iter()
        .map(|a| item(&web, a, team_name(&a.team_id)))
        .collect();
    let tabs = AssignmentStatus::ALL
        .iter()
        .map(|s| Tab {
            code: s.as_str(),
            label: l.t(s.label_vi(), s.label_en()).to_string(),
            count: match s {
                AssignmentStatus::Draft => counts.draft,
                AssignmentStatus::Released => counts.released,
                AssignmentStatus::Done => counts.done,
                AssignmentStatus::Cancelled => counts.cancelled,
            },
            active: *s == status,
        })
        .collect();
    render(&ListPage {
        ctx: web.ctx(l.t("Phân công", "Assignments"), "/leader"),
        tabs,
        status: status.as_str().to_string(),
        items,
        counts,
        next_url,
        first_url,
    })
}

pub struct EstRow {
    pub id: String,
    pub name: String,
    pub type_label: String,
    pub address: String,
}

#[derive(Template)]
#[template(path = "leader/assignment.html")]
struct DetailPage {
    ctx: Ctx,
    a: Item,
    establishments: Vec<EstRow>,
    hidden: usize,
    tip_id: String,
    follow_up_of: String,
    released: String,
    closed: String,
    counts: Counts,
}

/// `GET /leader/assignments/{id}`: 404 for an assignment the leader may not see (another
/// province's, or unknown), exactly like the API.
pub async fn detail(
    web: Web,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> DashResult<HttpResponse> {
    require_leader(&web)?;
    let id = parse_path_id(&path, "assignment")?;
    let actor = web.actor.clone();
    let db = state.db.clone();
    let (a, team, ests, hidden, counts) = web::block(move || {
        db.read(|c| -> ApiResult<_> {
            let row = db::assignments::get(c, &actor, id)?
                .ok_or_else(|| ApiError::not_found("assignment"))?;
            let a = view(c, row)?;
            let team = db::teams::get_unscoped(c, &a.team_id)?
                .map(|t| t.name)
                .unwrap_or_default();
            let mut ests = Vec::new();
            let mut hidden = 0;
            for e in &a.establishment_ids {
                match Uuid::parse_str(e)
                    .ok()
                    .map(|u| db::establishments::get(c, &actor, u))
                    .transpose()?
                    .flatten()
                {
                    Some(r) => ests.push(r),
                    None => hidden += 1,
                }
            }
            ests.sort_by(|x, y| x.name.cmp(&y.name));
            Ok((a, team, ests, hidden, counts(c, &actor, None)?))
        })
    })
    .await??;
    let l = web.lang;
    render(&DetailPage {
        ctx: web.ctx(l.t("Phân công", "Assignment"), "/leader"),
        establishments: ests
            .into_iter()
            .map(|e| EstRow {
                type_label: l.label(&e.establishment_type).to_string(),
                id: e.id,
                name: e.name,
                address: e.address,
            })
            .collect(),
        hidden,
        tip_id: a.tip_id.clone().unwrap_or_default(),
        follow_up_of: a.follow_up_of.clone().unwrap_or_default(),
        released: a.released_at.as_ref().map(vn_datetime).unwrap_or_default(),
        closed: a.closed_at.as_ref().map(vn_datetime).unwrap_or_default(),
        a: item(&web, &a, team),
        counts,
    })
}

/// `POST /leader/assignments/{id}/{release|cancel|complete}` (htmx).
pub async fn act(
    web: Web,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> DashResult<HttpResponse> {
    require_leader(&web)?;
    let (raw, action) = path.into_inner();
    let id = parse_path_id(&raw, "assignment")?;
    let next = match action.as_str() {
        "release" => AssignmentStatus::Released,
        "cancel" => AssignmentStatus::Cancelled,
        "complete" => AssignmentStatus::Done,
        _ => return Err(ApiError::not_found("action").into()),
    };
    let actor = web.actor.clone();
    let db = state.db.clone();
    match web::block(move || db.write(|c| change_status(c, &actor, id, next))).await? {
        Ok(_) => Ok(hx_refresh()),
        Err(e) => form_error(web.lang, e),
    }
}
