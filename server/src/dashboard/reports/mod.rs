//! Dashboard area `reports` (see `dashboard/mod.rs`): the 6-monthly and yearly report as a
//! printable page and as XLSX, and exports of establishments and visits (XLSX, CSV).
//!
//! - `GET /reports?unit=&period=h1|year&year=`: the form and the report (A4 when printed).
//! - `GET /reports/report.xlsx?…`: the same report, sheets Tổng hợp, Vi phạm, Theo xã.
//! - `GET /reports/export/{establishments|visits}.{xlsx|csv}?unit=&type=&year=`: list exports.
//!
//! Figures come from the API's own functions (see `service::plan_report`); scoping is the API's: a unit outside
//! the jurisdiction is 404, inspectors may not open reports (403).

mod form;
pub mod lists;
mod view;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Datelike;
use doi178_shared::establishment::EstablishmentType;
use doi178_shared::Role;
use serde::Deserialize;

use crate::access::{get, roles, RouteSpec, STAFF_AND_LEADERS};
use crate::clock::today;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::service::coverage::MIN_YEAR;
use crate::service::export::{self, file_slug, Table};
use crate::state::AppState;

use super::page::{render_status, Ctx, DashResult, Lang};
use super::Web;
use crate::service::plan_report::{self as model, Period, Report};

use self::form::{
    default_unit, filled, parse_request, parse_year, unit_options, ReportQuery, UnitOption,
};
use self::view::{report_view, ReportView};

pub fn routes() -> Vec<RouteSpec> {
    let readers = roles(STAFF_AND_LEADERS);
    vec![
        get("/reports", readers, page),
        get("/reports/report.xlsx", readers, report_xlsx),
        get("/reports/export/{file}", readers, export_list),
    ]
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Reports are for provincial staff, administrators and team leaders (as the navigation shows).
fn require_reader(w: &Web) -> ApiResult<()> {
    w.actor.require(
        &[Role::Admin, Role::ProvincialStaff, Role::TeamLeader],
        "open reports",
    )
}

/// A type in the export form.
pub struct TypeOption {
    pub code: &'static str,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "reports/report.html")]
struct ReportPage {
    ctx: Ctx,
    units: Vec<UnitOption>,
    years: Vec<(i32, bool)>,
    period: &'static str,
    types: Vec<TypeOption>,
    report: Option<ReportView>,
    error: Option<String>,
}

async fn page(
    w: Web,
    state: web::Data<AppState>,
    q: web::Query<ReportQuery>,
) -> DashResult<HttpResponse> {
    require_reader(&w)?;
    let today = today();
    let l = w.lang;
    let parsed = parse_request(&q, &w.actor, today, l);
    let selected = parsed
        .as_ref()
        .map(|r| r.unit.clone())
        .unwrap_or_else(|_| default_unit(&w.actor));
    let (year, period) = parsed
        .as_ref()
        .map_or((today.year(), Period::default_for(today).code()), |r| {
            (r.year, r.period.code())
        });
    let actor = w.actor.clone();
    let db = state.db.clone();
    let (units, first_year, outcome) = web::block(move || {
        db.read(
            |c| -> ApiResult<(Vec<UnitOption>, i32, ApiResult<Report>)> {
                let units = unit_options(c, &actor, &selected, l)?;
                // Years some programme covers, up to this one.
                let first_year = db::programmes::list(c)?
                    .iter()
                    .map(|p| p.period_start.year())
                    .min()
                    .unwrap_or(today.year())
                    .clamp(MIN_YEAR, today.year());
                let report = match parsed {
                    Ok(req) => {
                        // A year no programme covers: say so in the user's language.
                        let (_, end) = req.period.window(req.year);
                        match crate::service::coverage::programme_for(
                            db::programmes::list(c)?,
                            req.year,
                            end.min(today),
                            "year",
                        ) {
                            Ok(_) => model::build(c, &actor, &req, today),
                            Err(e) => Err(ApiError {
                                detail: format!(
                                "{} {}.",
                                l.t(
                                    "chưa có chương trình phòng, chống mại dâm nào áp dụng cho năm",
                                    "no prostitution-prevention programme covers"
                                ),
                                req.year
                            ),
                                ..e
                            }),
                        }
                    }
                    Err(e) => Err(e),
                };
                Ok((units, first_year, report))
            },
        )
    })
    .await??;
    let (report, error, status) = match outcome {
        Ok(r) => (Some(report_view(&r, l)), None, StatusCode::OK),
        // Not in the jurisdiction, exactly as the API: 404.
        Err(e) if e.status == StatusCode::NOT_FOUND || e.status.is_server_error() => {
            return Err(e.into())
        }
        Err(e) => (None, Some(field_message(&e, l)), e.status),
    };
    let title = match &report {
        Some(r) => format!(
            "{} {} {} — {}",
            l.t("Báo cáo", "Report"),
            r.period_label.to_lowercase(),
            r.year,
            r.unit_name
        ),
        None => l.t("Báo cáo", "Reports").to_string(),
    };
    render_status(
        status,
        &ReportPage {
            ctx: w.ctx(&title, "/reports"),
            units,
            years: (first_year..=today.year())
                .rev()
                .map(|y| (y, y == year))
                .collect(),
            period,
            types: EstablishmentType::ALL
                .iter()
                .map(|t| TypeOption {
                    code: t.as_str(),
                    label: l.label(t),
                })
                .collect(),
            report,
            error,
        },
    )
}

/// A 4xx error as one line naming the field.
fn field_message(e: &ApiError, l: Lang) -> String {
    let field = match e.field.as_deref() {
        Some("year") => l.t("Năm", "Year"),
        Some("period") => l.t("Kỳ báo cáo", "Period"),
        Some("unit") => l.t("Đơn vị", "Unit"),
        Some("type") => l.t("Loại hình", "Type"),
        Some("as_of") => l.t("Ngày chốt số liệu", "Cut-off date"),
        _ => "",
    };
    if field.is_empty() {
        e.detail.clone()
    } else {
        format!("{field}: {}", e.detail)
    }
}

fn attachment(content_type: &str, file: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(body)
}

fn xlsx_bytes(tables: &[Table]) -> ApiResult<Vec<u8>> {
    export::xlsx(tables).map_err(|e| {
        tracing::error!(error = %e, "writing an XLSX failed");
        ApiError::internal()
    })
}

/// `GET /reports/report.xlsx`: the report as a workbook, named `bao-cao-2025-46-2026-H1.xlsx`.
async fn report_xlsx(
    w: Web,
    state: web::Data<AppState>,
    q: web::Query<ReportQuery>,
) -> DashResult<HttpResponse> {
    require_reader(&w)?;
    let today = today();
    let req = parse_request(&q, &w.actor, today, w.lang)?;
    let file = format!(
        "bao-cao-{}-{}-{}.xlsx",
        file_slug(&req.unit),
        req.year,
        req.period.file_part()
    );
    let actor = w.actor.clone();
    let db = state.db.clone();
    let bytes = web::block(move || {
        let report = db.read(|c| model::build(c, &actor, &req, today))?;
        xlsx_bytes(&model::tables(&report))
    })
    .await??;
    Ok(attachment(XLSX, &file, bytes))
}

#[derive(Deserialize, Default)]
pub struct ExportQuery {
    unit: Option<String>,
    #[serde(rename = "type")]
    establishment_type: Option<String>,
    year: Option<String>,
}

/// `GET /reports/export/{establishments|visits}.{xlsx|csv}`.
async fn export_list(
    w: Web,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<ExportQuery>,
) -> DashResult<HttpResponse> {
    require_reader(&w)?;
    let l = w.lang;
    let file = path.into_inner();
    let (what, format) = file.rsplit_once('.').unwrap_or((file.as_str(), ""));
    let visits = match what {
        "establishments" => false,
        "visits" => true,
        _ => {
            return Err(ApiError::not_found("export").into());
        }
    };
    let csv = match format {
        "csv" => true,
        "xlsx" => false,
        _ => return Err(ApiError::not_found("export").into()),
    };
    let establishment_type = filled(&q.establishment_type)
        .map(EstablishmentType::parse)
        .transpose()
        .map_err(|e| ApiError::from(e).field("type"))?;
    let year = if visits {
        parse_year(filled(&q.year), today(), l)?
    } else {
        None
    };
    let filter = lists::ListFilter {
        unit: filled(&q.unit).map(str::to_string),
        establishment_type,
        year,
    };
    let mut name = vec![if visits { "cuoc-kiem-tra" } else { "co-so" }.to_string()];
    name.push(file_slug(filter.unit.as_deref().unwrap_or("tat-ca")));
    if let Some(t) = establishment_type {
        name.push(file_slug(t.as_str()));
    }
    if let Some(y) = year {
        name.push(y.to_string());
    }
    let file = format!("{}.{}", name.join("-"), if csv { "csv" } else { "xlsx" });
    let actor = w.actor.clone();
    let db = state.db.clone();
    let bytes = web::block(move || -> ApiResult<Vec<u8>> {
        let table = db.read(|c| {
            if visits {
                lists::visits(c, &actor, &filter)
            } else {
                lists::establishments(c, &actor, &filter)
            }
        })?;
        if csv {
            export::csv(&table).map_err(|e| {
                tracing::error!(error = %e, "writing a CSV failed");
                ApiError::internal()
            })
        } else {
            xlsx_bytes(std::slice::from_ref(&table))
        }
    })
    .await??;
    let content_type = if csv { "text/csv; charset=utf-8" } else { XLSX };
    Ok(attachment(content_type, &file, bytes))
}
