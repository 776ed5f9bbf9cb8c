//! Dashboard area `tips`: intake of tips and complaints (tố giác, tin báo), the list with
//! deadlines and status (overdue highlighted), the step-by-step status changes, and a tip-driven
//! draft assignment made from a tip. Every write is the API's own function
//! (`service::tips::create_tip`, `set_tip_status`, `service::assignments::create_draft`); every
//! read is scoped by `db::tips` exactly as `GET /api/v1/tips`.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use doi178_shared::assignment::{AssignmentDraft, AssignmentInput, AssignmentKind};
use doi178_shared::tip::{TipChannel, TipDraft, TipInput, TipStatus, DEFAULT_TIP_DAYS};
use doi178_shared::Role;
use serde::Deserialize;
use uuid::Uuid;

use super::leader::{
    date_field, field, form_error, form_pairs, html_escape, hx_redirect, hx_refresh, kind_label,
    parse_date, parse_path_id, status_label, type_label, uuid_field, vn_datetime,
};
use super::page::{render, Ctx, DashResult, Lang};
use super::Web;
use crate::access::{get, post, roles, RouteSpec, STAFF_AND_LEADERS};
use crate::db::{self, tips::TipRow, AnyConnection};
use crate::error::{ApiError, ApiResult};
use crate::service::tips::{create_tip, set_tip_status, TipView};
use crate::state::AppState;

pub fn routes() -> Vec<RouteSpec> {
    let handlers = roles(STAFF_AND_LEADERS);
    vec![
        get("/tips", handlers, list),
        post("/tips", handlers, create),
        get("/tips/establishments", handlers, pick_establishment),
        get("/tips/{id}", handlers.scoped(), detail),
        post("/tips/{id}/status", handlers.scoped(), change_status),
        post("/tips/{id}/assignment", handlers.scoped(), make_assignment),
    ]
}

/// Tips are for provincial staff, administrators and team leaders (as in the API).
fn require_handler(web: &Web) -> Result<(), super::DashError> {
    if matches!(
        web.actor.role,
        Role::Admin | Role::ProvincialStaff | Role::TeamLeader
    ) {
        Ok(())
    } else {
        Err(ApiError::forbidden(web.t(
            "Tin báo do đội trưởng và cán bộ tỉnh xử lý; tài khoản của bạn không mở được trang này.",
            "Tips are handled by team leaders and provincial staff; your account cannot open this page.",
        ))
        .into())
    }
}

/// The one step forward from `status`, with the button's words.
fn next_step(status: &str) -> Option<(TipStatus, &'static str, &'static str)> {
    match status {
        "received" => Some((TipStatus::Verifying, "Bắt đầu xác minh", "Start verifying")),
        "verifying" => Some((TipStatus::Classified, "Đã phân loại", "Mark classified")),
        "classified" => Some((TipStatus::Handled, "Đã xử lý xong", "Mark handled")),
        _ => None,
    }
}

fn tip_status_label(l: Lang, raw: &str) -> String {
    TipStatus::parse(raw)
        .map(|s| l.t(s.label_vi(), s.label_en()).to_string())
        .unwrap_or_else(|_| raw.to_string())
}

fn channel_label(l: Lang, raw: &str) -> String {
    TipChannel::parse(raw)
        .map(|s| l.t(s.label_vi(), s.label_en()).to_string())
        .unwrap_or_else(|_| raw.to_string())
}

pub struct TipLine {
    pub id: String,
    pub received: String,
    pub channel: String,
    pub content: String,
    pub place: String,
    pub establishment_id: String,
    pub deadline: String,
    pub due: String,
    pub overdue: bool,
    pub status: String,
    pub status_code: String,
    pub assignment_id: String,
    pub next_label: String,
    pub next_code: String,
    pub on_time: Option<bool>,
}

fn due_text(l: Lang, v: &TipView) -> String {
    let today = doi178_shared::time::vietnam_date(Utc::now());
    if v.status == "handled" {
        return match v.handled_on_time {
            Some(true) => l.t("Xử lý đúng hạn", "Handled on time").to_string(),
            Some(false) => l.t("Xử lý quá hạn", "Handled late").to_string(),
            None => String::new(),
        };
    }
    let days = (v.deadline - today).num_days();
    if days < 0 {
        format!(
            "{} {} {}",
            l.t("Quá hạn", "Overdue by"),
            -days,
            l.t("ngày", "days")
        )
    } else if days == 0 {
        l.t("Hết hạn hôm nay", "Due today").to_string()
    } else {
        format!("{} {} {}", l.t("Còn", ""), days, l.t("ngày", "days left"))
            .trim()
            .to_string()
    }
}

fn line(l: Lang, t: TipRow, place: String) -> TipLine {
    let v = TipView::from(t);
    let next = next_step(&v.status);
    let mut content: String = v.content.chars().take(160).collect();
    if v.content.chars().count() > 160 {
        content.push('…');
    }
    TipLine {
        received: vn_datetime(&v.received_at),
        channel: channel_label(l, &v.channel),
        content,
        place,
        establishment_id: v.establishment_id.clone().unwrap_or_default(),
        deadline: l.date(&v.deadline),
        due: due_text(l, &v),
        overdue: v.overdue,
        status: tip_status_label(l, &v.status),
        status_code: v.status.clone(),
        assignment_id: v.assignment_id.clone().unwrap_or_default(),
        next_label: next.map(|n| l.t(n.1, n.2).to_string()).unwrap_or_default(),
        next_code: next.map(|n| n.0.as_str().to_string()).unwrap_or_default(),
        on_time: v.handled_on_time,
        id: v.id,
    }
}

/// Where a tip is: its establishment's name, else its unit's name (cached per request).
fn place_of(
    c: &mut AnyConnection,
    actor: &crate::auth::Actor,
    t: &TipRow,
    units: &mut HashMap<String, String>,
) -> ApiResult<String> {
    if let Some(e) = t
        .establishment_id
        .as_deref()
        .and_then(|e| Uuid::parse_str(e).ok())
    {
        if let Some(row) = db::establishments::get(c, actor, e)? {
            return Ok(row.name);
        }
    }
    if let Some(n) = units.get(&t.unit_id) {
        return Ok(n.clone());
    }
    let name = db::units::get(c, actor, &t.unit_id)?
        .map(|u| u.name)
        .unwrap_or_else(|| t.unit_id.clone());
    units.insert(t.unit_id.clone(), name.clone());
    Ok(name)
}

#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    show: Option<String>,
    establishment: Option<String>,
    /// The page after this cursor (`next_url`).
    cursor: Option<String>,
}

/// Tips on one page of the list.
const TIPS_PER_PAGE: i64 = 100;

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "tips/list.html")]
struct ListPage {
    ctx: Ctx,
    items: Vec<TipLine>,
    statuses: Vec<Choice>,
    show: String,
    channels: Vec<Choice>,
    units: Vec<Choice>,
    now_local: String,
    default_days: i64,
    preset_establishment: Option<(String, String)>,
    /// Tips matching the filter, all pages.
    total: i64,
    open_count: i64,
    overdue_count: i64,
    next_url: Option<String>,
    first_url: Option<String>,
}

/// `GET /tips?status=…&show=open|overdue|all`: newest first; open ones by default.
pub async fn list(
    web: Web,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> DashResult<HttpResponse> {
    require_handler(&web)?;
    let q = query.into_inner();
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(s.parse::<TipStatus>().map_err(ApiError::from)?),
        None => None,
    };
    let show = match q.show.as_deref().unwrap_or("open") {
        "open" | "" => "open",
        "overdue" => "overdue",
        "all" => "all",
        _ => {
            return Err(ApiError::bad_request(
                "invalid",
                "show",
                "show must be open, overdue or all",
            )
            .into())
        }
    };
    let preset = q
        .establishment
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| Uuid::parse_str(s).ok());
    let actor = web.actor.clone();
    let db = state.db.clone();
    let l = web.lang;
    let before = q
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(crate::service::page::parse_time_cursor)
        .transpose()?;
    let today = doi178_shared::time::vietnam_date(Utc::now());
    let filter = db::tips::Filter {
        status: status.map(|s| s.as_str().to_string()),
        open: show == "open",
        overdue_on: (show == "overdue").then_some(today),
        before,
        limit: Some(TIPS_PER_PAGE + 1),
    };
    let (rows, next_cursor, counts, units, preset) = web::block(move || {
        db.read(|c| -> ApiResult<_> {
            let (rows, next_cursor) = crate::service::page::page_of(
                db::tips::list(c, &actor, &filter)?,
                TIPS_PER_PAGE as usize,
                |t| crate::service::page::time_cursor(t.received_at, &t.id),
            );
            let total = db::tips::count(c, &actor, &filter)?;
            let open = db::tips::Filter {
                open: true,
                ..filter.clone()
            };
            let overdue = db::tips::Filter {
                overdue_on: Some(today),
                ..filter.clone()
            };
            let counts = (
                total,
                db::tips::count(c, &actor, &open)?,
                db::tips::count(c, &actor, &overdue)?,
            );
            let mut names = HashMap::new();
            let mut out = Vec::new();
            for t in rows {
                let place = place_of(c, &actor, &t, &mut names)?;
                out.push((t, place));
            }
            // Units for the intake form: the user's top units and the communes under them.
            let mut units = Vec::new();
            for root in db::units::children(c, &actor, None)? {
                let kids = db::units::children(c, &actor, Some(&root.id))?;
                units.push((root.id.clone(), root.name.clone()));
                units.extend(kids.into_iter().map(|u| (u.id, format!("— {}", u.name))));
            }
            let preset = match preset {
                Some(e) => db::establishments::get(c, &actor, e)?.map(|e| (e.id, e.name)),
                None => None,
            };
            Ok((out, next_cursor, counts, units, preset))
        })
    })
    .await??;
    let items: Vec<TipLine> = rows.into_iter().map(|(t, p)| line(l, t, p)).collect();
    let (total, open_count, overdue_count) = counts;
    let page_url = |cursor: Option<&str>| {
        let mut url = format!("/tips?show={show}");
        if let Some(s) = status {
            url.push_str(&format!("&status={}", s.as_str()));
        }
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        url
    };
    let next_url = next_cursor.as_deref().map(|c| page_url(Some(c)));
    let first_url = q
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|_| page_url(None));
    let now_local = (Utc::now() + TimeDelta::hours(7))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    render(&ListPage {
        ctx: web.ctx(l.t("Tin báo, tố giác", "Tips and complaints"), "/tips"),
        items,
        statuses: TipStatus::ALL
            .iter()
            .map(|s| Choice {
                value: s.as_str().to_string(),
                label: l.t(s.label_vi(), s.label_en()).to_string(),
                selected: status == Some(*s),
            })
            .collect(),
        show: show.to_string(),
        channels: TipChannel::ALL
            .iter()
            .map(|c| Choice {
                value: c.as_str().to_string(),
                label: l.t(c.label_vi(), c.label_en()).to_string(),
                selected: false,
            })
            .collect(),
        units: units
            .into_iter()
            .map(|(value, label)| Choice {
                value,
                label,
                selected: false,
            })
            .collect(),
        now_local,
        default_days: DEFAULT_TIP_DAYS,
        preset_establishment: preset,
        total,
        open_count,
        overdue_count,
        next_url,
        first_url,
    })
}

#[derive(Deserialize)]
pub struct PickQuery {
    q: Option<String>,
}

/// `GET /tips/establishments?q=…` (htmx): establishments to link, found ignoring diacritics.
pub async fn pick_establishment(
    web: Web,
    state: web::Data<AppState>,
    query: web::Query<PickQuery>,
) -> DashResult<HttpResponse> {
    require_handler(&web)?;
    let q = query.into_inner().q.unwrap_or_default();
    let q = q.trim().to_string();
    let l = web.lang;
    if q.chars().count() < 2 {
        return Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(format!(
                "<p class=\"muted\">{}</p>",
                l.t(
                    "Gõ ít nhất 2 ký tự của tên cơ sở.",
                    "Type at least 2 letters of the name."
                )
            )));
    }
    let actor = web.actor.clone();
    let db = state.db.clone();
    let rows = web::block(move || {
        db.read(|c| {
            db::establishments::list(
                c,
                &actor,
                &db::establishments::Filter {
                    q: Some(q),
                    limit: 8,
                    ..Default::default()
                },
            )
            .map_err(ApiError::from)
        })
    })
    .await??;
    let mut html = String::new();
    if rows.is_empty() {
        html.push_str(&format!(
            "<p class=\"muted\">{}</p>",
            l.t(
                "Không tìm thấy cơ sở nào trong địa bàn.",
                "No establishment found in your area."
            )
        ));
    }
    for e in rows {
        html.push_str(&format!(
            "<label class=\"pick\"><input type=\"radio\" name=\"establishment_id\" value=\"{}\"> <span><strong>{}</strong> <span class=\"muted\">· {} · {}</span></span></label>",
            html_escape(&e.id),
            html_escape(&e.name),
            html_escape(&type_label(l, &e.establishment_type)),
            html_escape(&e.address)
        ));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// `received_at` from a `datetime-local` (Vietnam's time) or a date (then 08:00).
fn received_at(raw: Option<&str>) -> Result<chrono::DateTime<Utc>, ApiError> {
    let Some(raw) = raw else {
        return Ok(Utc::now());
    };
    let local = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .or_else(|| {
            parse_date(raw).map(|d: NaiveDate| {
                d.and_time(NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default())
            })
        })
        .ok_or_else(|| ApiError::unprocessable("invalid", "received_at", "not a date and time"))?;
    Ok(Utc.from_utc_datetime(&(local - TimeDelta::hours(7))))
}

/// `POST /tips` (htmx): records a tip; then its page.
pub async fn create(
    web: Web,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> DashResult<HttpResponse> {
    require_handler(&web)?;
    let l = web.lang;
    let pairs = form_pairs(&body);
    let parsed = (|| -> Result<(TipInput, Option<Uuid>), ApiError> {
        let establishment_id = uuid_field(&pairs, "establishment_id")?;
        let channel = TipChannel::parse(field(&pairs, "channel").unwrap_or(""))?;
        Ok((
            TipInput {
                channel,
                received_at: received_at(field(&pairs, "received_at"))?,
                content: field(&pairs, "content").unwrap_or_default().to_string(),
                unit: field(&pairs, "unit").unwrap_or_default().to_string(),
                establishment_id,
                reporter_contact: field(&pairs, "reporter_contact").map(str::to_string),
                deadline: date_field(&pairs, "deadline")?,
            },
            establishment_id,
        ))
    })();
    let (mut input, est) = match parsed {
        Ok(v) => v,
        Err(e) => return form_error(l, e),
    };
    let actor = web.actor.clone();
    let db = state.db.clone();
    let res = web::block(move || {
        db.write(|c| -> ApiResult<TipRow> {
            // Fields in the form's order: what the tip says comes before where it is.
            doi178_shared::text::clean_text("content", &input.content, 5000)?;
            // The establishment's commune when no area was chosen.
            if input.unit.is_empty() {
                if let Some(e) = est {
                    if let Some(row) = db::establishments::get(c, &actor, e)? {
                        input.unit = row.unit_id;
                    }
                }
            }
            if input.unit.is_empty() {
                return Err(ApiError::unprocessable(
                    "required",
                    "unit",
                    "choose the area or the establishment the tip is about",
                ));
            }
            let draft = TipDraft::parse(input, Utc::now())?;
            create_tip(c, &actor, &draft)
        })
    })
    .await?;
    match res {
        Ok(t) => Ok(hx_redirect(&format!("/tips/{}", t.id))),
        Err(e) => form_error(l, e),
    }
}

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
    let current = TipStatus::parse(&tip.status).ok();
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
    let today = doi178_shared::time::vietnam_date(Utc::now());
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
                    kind_label(l, &a.kind),
                    l.date(&a.window_start),
                    l.date(&a.window_end)
                ),
                status_label(l, &a.status),
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
        start: (today + TimeDelta::days(1)).format("%Y-%m-%d").to_string(),
        end: (today + TimeDelta::days(7)).format("%Y-%m-%d").to_string(),
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
        let team_id = uuid_field(&pairs, "team_id")?
            .ok_or_else(|| ApiError::unprocessable("required", "team_id", "choose the team"))?;
        let kind = AssignmentKind::parse(field(&pairs, "kind").unwrap_or("tip"))?;
        let today = doi178_shared::time::vietnam_date(Utc::now());
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
        db.write(|c| -> ApiResult<_> {
            let tip = db::tips::get(c, &actor, id)?.ok_or_else(|| ApiError::not_found("tip"))?;
            let est = tip
                .establishment_id
                .as_deref()
                .and_then(|e| Uuid::parse_str(e).ok())
                .ok_or_else(|| {
                    ApiError::unprocessable(
                        "required",
                        "establishment_ids",
                        "the tip names no establishment; choose them in the planner",
                    )
                })?;
            let draft = AssignmentDraft::parse(AssignmentInput {
                team_id,
                kind,
                window_start,
                window_end,
                establishment_ids: vec![est],
                note,
                tip_id: Some(id),
                follow_up_of: None,
            })?;
            crate::service::assignments::create_draft(c, &actor, &draft)
        })
    })
    .await?;
    match res {
        Ok(a) => Ok(hx_redirect(&format!("/leader/assignments/{}", a.id))),
        Err(e) => form_error(l, e),
    }
}
