//! Intake of a tip: the form's establishment picker and the new tip.

use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use doi178_shared::tip::{TipChannel, TipDraft, TipInput};
use doi178_shared::ProblemCode;
use serde::Deserialize;
use uuid::Uuid;

use super::require_handler;
use crate::dashboard::leader::{
    date_field, field, form_error, form_pairs, html_escape, hx_redirect, parse_date, uuid_field,
};
use crate::dashboard::page::DashResult;
use crate::dashboard::Web;
use crate::db::{self, tips::TipRow};
use crate::error::{ApiError, ApiResult};
use crate::service::tips::create_tip;
use crate::state::AppState;

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
            html_escape(l.label(&e.establishment_type)),
            html_escape(&e.address)
        ));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// `received_at` in Vietnam's time: `dd/mm/yyyy hh:mm` as the form writes it (or ISO 8601), or a
/// date alone (then 08:00).
fn received_at(raw: Option<&str>) -> Result<chrono::DateTime<Utc>, ApiError> {
    let Some(raw) = raw else {
        return Ok(Utc::now());
    };
    let raw = raw.trim();
    let local = NaiveDateTime::parse_from_str(raw, "%d/%m/%Y %H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M"))
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .or_else(|| {
            parse_date(raw).map(|d: NaiveDate| {
                d.and_time(NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default())
            })
        })
        .ok_or_else(|| {
            ApiError::unprocessable(
                ProblemCode::Invalid,
                "received_at",
                "not a date and time (dd/mm/yyyy hh:mm)",
            )
        })?;
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
                    ProblemCode::Required,
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
