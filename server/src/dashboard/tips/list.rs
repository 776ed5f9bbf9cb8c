//! The tip list: deadlines and status, overdue first, paged and counted.

use doi178_shared::ProblemCode;
use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{TimeDelta, Utc};
use doi178_shared::tip::{TipChannel, TipStatus, DEFAULT_TIP_DAYS};
use serde::Deserialize;
use uuid::Uuid;

use super::{next_step, require_handler};
use crate::dashboard::leader::vn_datetime;
use crate::dashboard::page::{render, Ctx, DashResult, Lang};
use crate::dashboard::Web;
use crate::db::{self, tips::TipRow, AnyConnection};
use crate::error::{ApiError, ApiResult};
use crate::service::tips::TipView;
use crate::state::AppState;

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
    let today = crate::clock::today();
    if v.status == TipStatus::Handled {
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

pub(super) fn line(l: Lang, t: TipRow, place: String) -> TipLine {
    let v = TipView::from(t);
    let next = next_step(v.status);
    let mut content: String = v.content.chars().take(160).collect();
    if v.content.chars().count() > 160 {
        content.push('…');
    }
    TipLine {
        received: vn_datetime(&v.received_at),
        channel: l.label(&v.channel).to_string(),
        content,
        place,
        establishment_id: v.establishment_id.clone().unwrap_or_default(),
        deadline: l.date(&v.deadline),
        due: due_text(l, &v),
        overdue: v.overdue,
        status: l.label(&v.status).to_string(),
        status_code: v.status.as_str().to_string(),
        assignment_id: v.assignment_id.clone().unwrap_or_default(),
        next_label: next.map(|n| l.t(n.1, n.2).to_string()).unwrap_or_default(),
        next_code: next.map(|n| n.0.as_str().to_string()).unwrap_or_default(),
        on_time: v.handled_on_time,
        id: v.id,
    }
}

/// Where a tip is: its establishment's name, else its unit's name (cached per request).
pub(super) fn place_of(
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
                ProblemCode::Invalid,
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
    let today = crate::clock::today();
    let filter = db::tips::Filter {
        status,
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
        .format("%d/%m/%Y %H:%M")
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
