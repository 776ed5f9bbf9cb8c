//! Dashboard area `reports` (see `dashboard/mod.rs`): the 6-monthly and yearly report as a
//! printable page and as XLSX, and exports of establishments and visits (XLSX, CSV).
//!
//! - `GET /reports?unit=&period=h1|year&year=`: the form and the report (A4 when printed).
//! - `GET /reports/report.xlsx?…`: the same report, sheets Tổng hợp, Vi phạm, Theo xã.
//! - `GET /reports/export/{establishments|visits}.{xlsx|csv}?unit=&type=&year=`: list exports.
//!
//! Figures come from the API's own functions (see `model`); scoping is the API's: a unit outside
//! the jurisdiction is 404, inspectors may not open reports (403).

pub mod lists;
pub mod model;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{Datelike, NaiveDate, Utc};
use doi178_shared::establishment::EstablishmentType;
use doi178_shared::Role;
use serde::Deserialize;

use crate::access::{get, roles, RouteSpec, STAFF_AND_LEADERS};
use crate::auth::Actor;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::service::coverage::{MIN_YEAR, NATIONAL};
use crate::service::export::{self, file_slug, Table};
use crate::state::AppState;

use super::page::{render_status, Ctx, DashResult, Lang};
use super::Web;
use model::{Indicator, Period, Report, Request};

pub fn routes() -> Vec<RouteSpec> {
    let readers = roles(STAFF_AND_LEADERS);
    vec![
        get("/reports", readers, page),
        get("/reports/report.xlsx", readers, report_xlsx),
        get("/reports/export/{file}", readers, export_list),
    ]
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn today() -> NaiveDate {
    doi178_shared::time::vietnam_date(Utc::now())
}

/// Reports are for provincial staff, administrators and team leaders (as the navigation shows).
fn require_reader(w: &Web) -> ApiResult<()> {
    w.actor.require(
        &[Role::Admin, Role::ProvincialStaff, Role::TeamLeader],
        "open reports",
    )
}

/// The unit a report starts on: the whole country for administrators, else the user's own unit
/// (a team leader's team unit, a provincial user's province).
fn default_unit(actor: &Actor) -> String {
    if actor.is_admin() {
        return NATIONAL.to_string();
    }
    actor
        .unit_id
        .clone()
        .or_else(|| actor.teams.first().map(|m| m.unit_id.clone()))
        .or_else(|| actor.unit_ids().and_then(|u| u.into_iter().next()))
        .unwrap_or_else(|| NATIONAL.to_string())
}

#[derive(Deserialize, Default)]
pub struct ReportQuery {
    unit: Option<String>,
    period: Option<String>,
    year: Option<String>,
}

fn filled(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parse_year(raw: Option<&str>, today: NaiveDate, l: Lang) -> ApiResult<Option<i32>> {
    let Some(s) = raw else { return Ok(None) };
    let year: i32 = s.parse().map_err(|_| {
        ApiError::unprocessable(
            "invalid",
            "year",
            l.t(
                "Năm phải là một số, ví dụ 2026.",
                "The year must be a number such as 2026.",
            ),
        )
    })?;
    if year < MIN_YEAR || year > today.year() {
        return Err(ApiError::unprocessable(
            "invalid",
            "year",
            format!(
                "{} {MIN_YEAR}–{}.",
                l.t("Chọn năm trong khoảng", "Choose a year in"),
                today.year()
            ),
        ));
    }
    Ok(Some(year))
}

fn parse_request(q: &ReportQuery, actor: &Actor, today: NaiveDate, l: Lang) -> ApiResult<Request> {
    let year = parse_year(filled(&q.year), today, l)?.unwrap_or(today.year());
    let period = match filled(&q.period) {
        None => Period::default_for(today),
        Some(p) => Period::parse(p).ok_or_else(|| {
            ApiError::unprocessable(
                "invalid",
                "period",
                l.t(
                    "Kỳ báo cáo phải là 6 tháng hoặc cả năm.",
                    "The period must be the half-year or the full year.",
                ),
            )
        })?,
    };
    Ok(Request {
        unit: filled(&q.unit).map_or_else(|| default_unit(actor), str::to_string),
        year,
        period,
    })
}

/// One choice in the unit list.
pub struct UnitOption {
    pub id: String,
    pub name: String,
    pub child: bool,
    pub selected: bool,
}

/// The units a report can be made for: the user's top units and, under a province, its communes
/// (for administrators the communes of the chosen province only, the country has 3,321).
fn unit_options(
    c: &mut db::AnyConnection,
    actor: &Actor,
    selected: &str,
    l: Lang,
) -> ApiResult<Vec<UnitOption>> {
    let mut out = Vec::new();
    if actor.is_admin() {
        out.push(UnitOption {
            id: NATIONAL.to_string(),
            name: l.t("Toàn quốc", "Whole country").to_string(),
            child: false,
            selected: selected == NATIONAL,
        });
    }
    let selected_province = db::units::get(c, actor, selected)?
        .and_then(|u| crate::service::reports::province_of(&u).map(str::to_string));
    let roots: Vec<_> = db::units::children(c, actor, None)?
        .into_iter()
        .filter(|u| u.valid_to.is_none())
        .collect();
    let expand_all = !actor.is_admin();
    for root in roots {
        let expand = root.level == "province"
            && (expand_all || selected_province.as_deref() == Some(root.id.as_str()));
        out.push(UnitOption {
            selected: root.id == selected,
            id: root.id.clone(),
            name: root.name.clone(),
            child: false,
        });
        if expand {
            for u in db::units::children(c, actor, Some(&root.id))?
                .into_iter()
                .filter(|u| u.valid_to.is_none())
            {
                out.push(UnitOption {
                    selected: u.id == selected,
                    id: u.id,
                    name: u.name,
                    child: true,
                });
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------------

/// An indicator as the page shows it.
pub struct IndicatorView {
    pub key: &'static str,
    pub group: &'static str,
    /// First line of its group (the group heading is shown above it).
    pub starts_group: bool,
    pub label: &'static str,
    pub value: String,
    pub raw: String,
    pub target: String,
    /// `ok`, `bad` or empty.
    pub status: &'static str,
}

pub struct ViolationView {
    pub code: String,
    pub description: String,
    pub legal_basis: String,
    pub count: String,
    pub raw_count: i64,
    pub fines: String,
    pub raw_fines: i64,
}

pub struct ChildView {
    pub unit_id: String,
    pub name: String,
    pub in_scope: String,
    pub raw_in_scope: u64,
    pub inspected: String,
    pub raw_inspected: u64,
    pub share: String,
    pub needed: String,
    pub visits: String,
    pub violations: String,
    pub fines: String,
    pub follow_ups: String,
    pub tips: String,
}

pub struct ReportView {
    pub unit: String,
    pub unit_name: String,
    pub level_child: &'static str,
    pub period_label: &'static str,
    pub year: i32,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub period_end: NaiveDate,
    pub deadline: NaiveDate,
    pub issued_on: NaiveDate,
    /// `Huế, ngày 25 tháng 11 năm 2026` (place and date of an official document).
    pub issued_line: String,
    pub in_progress: bool,
    pub programme: String,
    pub indicators: Vec<IndicatorView>,
    pub violations: Vec<ViolationView>,
    pub violations_total: String,
    pub fines_total: String,
    pub children: Vec<ChildView>,
    pub total: Option<ChildView>,
    pub xlsx_href: String,
}

fn count(l: Lang, n: u64) -> String {
    l.num(i64::try_from(n).unwrap_or(i64::MAX))
}

fn share(l: Lang, s: Option<f64>) -> String {
    model::Value::Share(s).show(l)
}

fn child_view(
    l: Lang,
    c: &crate::service::coverage::CoverageRow,
    s: &crate::service::reports::Summary,
) -> ChildView {
    ChildView {
        unit_id: c.unit_id.clone(),
        name: c.name.clone(),
        in_scope: count(l, c.annual.in_scope),
        raw_in_scope: c.annual.in_scope,
        inspected: count(l, c.annual.inspected),
        raw_inspected: c.annual.inspected,
        share: share(l, c.annual.share),
        needed: count(l, c.annual.needed),
        visits: l.num(s.visits.visits),
        violations: l.num(s.violations.count),
        fines: l.vnd(s.violations.proposed_fines_vnd),
        follow_ups: format!("{}/{}", l.num(s.follow_ups.done), l.num(s.follow_ups.due)),
        tips: s.tips.as_ref().map_or_else(String::new, |t| {
            format!("{}/{}", count(l, t.handled_on_time), count(l, t.received))
        }),
    }
}

fn query_string(req: &Request) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("unit", &req.unit)
        .append_pair("period", req.period.code())
        .append_pair("year", &req.year.to_string())
        .finish()
}

fn report_view(r: &Report, l: Lang) -> ReportView {
    let mut last_group = "";
    let indicators = model::indicators(r, l)
        .into_iter()
        .map(|i: Indicator| {
            let starts_group = i.group != last_group;
            last_group = i.group;
            IndicatorView {
                key: i.key,
                group: i.group,
                starts_group,
                label: i.label,
                value: i.value.show(l),
                raw: i.value.raw(),
                target: i.target.map(|t| t.show(l)).unwrap_or_default(),
                status: match i.met {
                    Some(true) => "ok",
                    Some(false) => "bad",
                    None => "",
                },
            }
        })
        .collect();
    let v = &r.summary.violations;
    let national = r.request.unit == NATIONAL;
    ReportView {
        unit: r.request.unit.clone(),
        unit_name: r.unit_name.clone(),
        level_child: if national {
            l.t("Tỉnh, thành phố", "Province")
        } else {
            l.t("Xã, phường", "Commune")
        },
        period_label: r.request.period.label(l),
        year: r.request.year,
        from: r.from,
        to: r.to,
        period_end: r.period_end,
        deadline: r.deadline,
        issued_on: r.issued_on,
        issued_line: match l {
            Lang::Vi => format!(
                "{}, ngày {:02} tháng {:02} năm {}",
                r.unit_name,
                r.issued_on.day(),
                r.issued_on.month(),
                r.issued_on.year()
            ),
            Lang::En => format!("{}, {}", r.unit_name, l.date(&r.issued_on)),
        },
        in_progress: r.in_progress(),
        programme: r.coverage.programme.name.clone(),
        indicators,
        violations: v
            .by_code
            .iter()
            .map(|x| ViolationView {
                code: x.code.clone(),
                description: x.description.clone(),
                legal_basis: x.legal_basis.clone(),
                count: l.num(x.count),
                raw_count: x.count,
                fines: l.vnd(x.proposed_fines_vnd),
                raw_fines: x.proposed_fines_vnd,
            })
            .collect(),
        violations_total: l.num(v.count),
        fines_total: l.vnd(v.proposed_fines_vnd),
        children: r
            .children
            .iter()
            .map(|c| child_view(l, &c.coverage, &c.summary))
            .collect(),
        total: (!r.children.is_empty()).then(|| child_view(l, &r.coverage.total, &r.summary)),
        xlsx_href: format!("/reports/report.xlsx?{}", query_string(&r.request)),
    }
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
