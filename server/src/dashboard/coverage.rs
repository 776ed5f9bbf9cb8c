//! Dashboard area `coverage`: tables per unit (country → provinces → communes → establishments
//! of a commune, drill-down by links) with the annual and cumulative measures, and a chart of the
//! monthly progress against the target line. The numbers are those of `GET /api/v1/coverage` and
//! `GET /api/v1/coverage/series` by construction: this page calls the same functions
//! ([`coverage::compute`], [`reports::compute_series`]).
//!
//! Also the pieces the map shares: the filters (unit, year, type) and their defaults, the
//! breadcrumbs, the share formatting and colour buckets, and the per-establishment status.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Datelike, NaiveDate, Utc};
use doi178_shared::coverage::{Lifetime, Projection};
use doi178_shared::establishment::EstablishmentType;

use super::page::{render, Ctx, DashResult, Lang};
use super::session::Web;
use crate::access::{get, RouteSpec, SIGNED_IN};
use crate::auth::Actor;
use crate::db::{self, coverage_status::StatusRow, AnyConnection};
use crate::error::{ApiError, ApiResult};
use crate::service::coverage::{self as api, Coverage, CoverageQuery, Measure, Params, NATIONAL};
use crate::service::reports::{self as api_reports, Series};
use crate::state::AppState;

pub fn routes() -> Vec<RouteSpec> {
    vec![get("/coverage", SIGNED_IN, page)]
}

// ---------------------------------------------------------------------------------------------
// Filters shared with the map
// ---------------------------------------------------------------------------------------------

/// The query of a coverage page (`/coverage`, `/map` and the map's JSON routes). Read leniently:
/// unknown keys are ignored, the last value of a repeated key wins.
#[derive(Debug, Clone, Default)]
pub struct PageQuery {
    pub unit: Option<String>,
    pub year: Option<String>,
    pub establishment_type: Option<String>,
    /// `annual` (default) or `cumulative` (the map's colouring).
    pub measure: Option<String>,
    /// Order of the coverage table: by name (default), or by `annual` / `cumulative` share,
    /// lowest first.
    pub sort: Option<String>,
}

impl PageQuery {
    pub fn from_request(req: &HttpRequest) -> PageQuery {
        let mut q = PageQuery::default();
        for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
            let v = Some(v.into_owned());
            match k.as_ref() {
                "unit" => q.unit = v,
                "year" => q.year = v,
                "type" => q.establishment_type = v,
                "measure" => q.measure = v,
                "sort" => q.sort = v,
                _ => {}
            }
        }
        q
    }
}

pub fn today() -> NaiveDate {
    doi178_shared::time::vietnam_date(Utc::now())
}

/// Where a user's coverage pages open: the whole country for administrators, else the user's own
/// unit, else the unit of their first team.
pub fn default_unit(actor: &Actor) -> ApiResult<String> {
    if actor.is_admin() {
        return Ok(NATIONAL.to_string());
    }
    actor
        .unit_id
        .clone()
        .or_else(|| actor.teams.first().map(|m| m.unit_id.clone()))
        .ok_or_else(|| {
            ApiError::new(
                actix_web::http::StatusCode::NOT_FOUND,
                "no_unit",
                "your account has no unit or team yet; ask your administrator to assign one",
            )
            .field("unit")
        })
}

/// The checked parameters of a page query, with the user's default unit: the same checks and
/// defaults as `GET /api/v1/coverage` (a bad year or type is a 4xx naming the field).
pub fn params_of(actor: &Actor, q: &PageQuery) -> ApiResult<Params> {
    let unit = match q.unit.as_deref().map(str::trim) {
        None | Some("") => default_unit(actor)?,
        Some(u) => u.to_string(),
    };
    api::parse_params(
        CoverageQuery {
            unit: Some(unit),
            year: q.year.clone(),
            establishment_type: q.establishment_type.clone(),
            as_of: None,
        },
        today(),
    )
}

/// The query string of a unit's page under the same filters: `unit=…&year=…[&type=…]`.
pub fn query_for(unit: &str, p: &Params) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("unit", unit);
    s.append_pair("year", &p.year.to_string());
    if let Some(t) = p.establishment_type {
        s.append_pair("type", t.as_str());
    }
    s.finish()
}

/// The filter form: the years some programme covers (up to this year) and the types in scope.
pub struct Filters {
    pub unit: String,
    pub year: i32,
    pub type_code: String,
    pub years: Vec<i32>,
    pub types: Vec<(&'static str, &'static str)>,
}

pub fn filters(
    c: &mut AnyConnection,
    l: Lang,
    p: &Params,
    in_scope: &[EstablishmentType],
) -> ApiResult<Filters> {
    let this_year = today().year();
    let mut years: Vec<i32> = db::programmes::list(c)?
        .iter()
        .flat_map(|pr| pr.period_start.year()..=pr.period_end.year().min(this_year))
        .collect();
    years.push(p.year);
    years.sort_unstable_by(|a, b| b.cmp(a));
    years.dedup();
    let mut types: Vec<(&'static str, &'static str)> = EstablishmentType::ALL
        .iter()
        .filter(|t| in_scope.contains(t))
        .map(|t| (t.as_str(), l.label(t)))
        .collect();
    types.sort_by_key(|(_, label)| *label);
    Ok(Filters {
        unit: p.unit.clone(),
        year: p.year,
        type_code: p
            .establishment_type
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        years,
        types,
    })
}

/// One step of the path from the user's top unit down to the page's unit.
pub struct Crumb {
    pub unit: String,
    pub name: String,
    /// The same page for that unit, under the same filters.
    pub href: String,
}

/// The units above `unit` the user may see (the country for administrators), top first, ending
/// with `unit` itself; each links to `path` (`/coverage` or `/map`) under the filters of `p`.
pub fn crumbs(
    c: &mut AnyConnection,
    actor: &Actor,
    unit: &db::units::UnitRow,
    path: &str,
    p: &Params,
) -> Vec<Crumb> {
    let mut chain = vec![(unit.id.clone(), unit.name.clone())];
    let mut parent = unit.parent_id.clone();
    while let Some(id) = parent {
        match db::units::get(c, actor, &id) {
            Ok(Some(u)) => {
                parent = u.parent_id.clone();
                chain.push((u.id, u.name));
            }
            _ => break,
        }
    }
    if actor.is_admin() && unit.id != NATIONAL {
        chain.push((NATIONAL.to_string(), "Việt Nam".to_string()));
    }
    chain.reverse();
    chain
        .into_iter()
        .map(|(unit, name)| Crumb {
            href: format!("{path}?{}", query_for(&unit, p)),
            unit,
            name,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Formatting shared with the map
// ---------------------------------------------------------------------------------------------

/// A share as a percentage with one decimal (`23,4 %`), `—` when nothing is in scope.
pub fn pct(l: Lang, share: Option<f64>) -> String {
    match share {
        Some(s) => l.pct_bp((s * 10_000.0).round() as i64),
        None => "—".to_string(),
    }
}

pub fn num(l: Lang, n: u64) -> String {
    l.num(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The projection in words.
pub fn projection_text(l: Lang, p: &Projection) -> String {
    match p {
        Projection::Met => l.t("Đã đạt chỉ tiêu", "Target met").to_string(),
        Projection::OnPace { date } => format!(
            "{} {}",
            l.t("Dự kiến đạt ngày", "On pace to meet it on"),
            l.date(date)
        ),
        Projection::NotInTime => l
            .t(
                "Không kịp hạn với tốc độ hiện tại",
                "Not in time at the current pace",
            )
            .to_string(),
        Projection::NoActivity => l
            .t("Chưa có kiểm tra nào", "No inspections yet")
            .to_string(),
    }
}

/// Colour class of a share against its target, on a scale that breaks at the target: below it
/// `u0`–`u3` (quarters of the target, `u3` closest), at or above it `m0`–`m3` (quarters of the way
/// from the target to 100 %, `m3` best; a target of 100 % met is `m3`), `none` when nothing is in
/// scope. `map.js` applies the same rule.
pub fn bucket(share: Option<f64>, target: f64) -> &'static str {
    const UNDER: [&str; 4] = ["u0", "u1", "u2", "u3"];
    const MET: [&str; 4] = ["m0", "m1", "m2", "m3"];
    let Some(share) = share else { return "none" };
    let quarter = |x: f64| ((x + 1e-9).floor().clamp(0.0, 3.0)) as usize;
    if share + 1e-9 >= target {
        if target >= 1.0 {
            "m3"
        } else {
            MET[quarter((share - target) / ((1.0 - target) / 4.0))]
        }
    } else {
        UNDER[quarter(share / target * 4.0)]
    }
}

/// One line of the colour legend.
pub struct LegendItem {
    pub class: &'static str,
    pub label: String,
}

/// The legend of the colour scale for `target` (a fraction): the classes that meet it (best
/// first), the classes below it, and "no establishments in scope".
pub struct Legend {
    pub met: Vec<LegendItem>,
    pub under: Vec<LegendItem>,
    pub none: String,
}

pub fn legend(l: Lang, target: f64) -> Legend {
    let p = |f: f64| pct(l, Some(f));
    let met = if target >= 1.0 {
        vec![LegendItem {
            class: "m3",
            label: p(1.0),
        }]
    } else {
        let step = (1.0 - target) / 4.0;
        let at = |k: f64| target + step * k;
        vec![
            LegendItem {
                class: "m3",
                label: format!("≥ {}", p(at(3.0))),
            },
            LegendItem {
                class: "m2",
                label: format!("{} – {}", p(at(2.0)), p(at(3.0))),
            },
            LegendItem {
                class: "m1",
                label: format!("{} – {}", p(at(1.0)), p(at(2.0))),
            },
            LegendItem {
                class: "m0",
                label: format!("{} – {}", p(target), p(at(1.0))),
            },
        ]
    };
    let q = |k: f64| p(target * k / 4.0);
    let under = vec![
        LegendItem {
            class: "u3",
            label: format!("{} – {}", q(3.0), q(4.0)),
        },
        LegendItem {
            class: "u2",
            label: format!("{} – {}", q(2.0), q(3.0)),
        },
        LegendItem {
            class: "u1",
            label: format!("{} – {}", q(1.0), q(2.0)),
        },
        LegendItem {
            class: "u0",
            label: format!("< {}", q(1.0)),
        },
    ];
    Legend {
        met,
        under,
        none: l
            .t("Không có cơ sở trong diện", "No establishments in scope")
            .to_string(),
    }
}

/// A measure as the tables show it.
pub struct MeasureView {
    pub in_scope: String,
    pub inspected: String,
    pub share: String,
    pub needed: String,
    pub projection: String,
    pub bucket: &'static str,
}

pub fn measure_view(l: Lang, m: &Measure, target: f64) -> MeasureView {
    MeasureView {
        in_scope: num(l, m.in_scope),
        inspected: num(l, m.inspected),
        share: pct(l, m.share),
        needed: num(l, m.needed),
        projection: projection_text(l, &m.projection),
        bucket: bucket(m.share, target),
    }
}

// ---------------------------------------------------------------------------------------------
// Establishments: status and coverage of each
// ---------------------------------------------------------------------------------------------

/// How an establishment stands, for the map's markers and the commune table, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EstStatus {
    /// A follow-up check was due and has not been made.
    FollowUp,
    /// The last visit found violations.
    Violation,
    /// Inspected (counted) in the year.
    Inspected,
    /// Not inspected in the year, but earlier in the programme period.
    NotThisYear,
    /// No counted inspection in the programme period.
    Never,
}

impl EstStatus {
    pub const ALL: [EstStatus; 5] = [
        EstStatus::Never,
        EstStatus::NotThisYear,
        EstStatus::Inspected,
        EstStatus::Violation,
        EstStatus::FollowUp,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EstStatus::FollowUp => "follow_up",
            EstStatus::Violation => "violation",
            EstStatus::Inspected => "inspected",
            EstStatus::NotThisYear => "not_this_year",
            EstStatus::Never => "never",
        }
    }

    pub fn label(self, l: Lang) -> &'static str {
        match self {
            EstStatus::FollowUp => l.t("Đến hạn kiểm tra lại", "Follow-up due"),
            EstStatus::Violation => l.t("Lần gần nhất có vi phạm", "Violations at last visit"),
            EstStatus::Inspected => l.t("Đã kiểm tra trong năm", "Inspected this year"),
            EstStatus::NotThisYear => l.t("Chưa kiểm tra trong năm", "Not yet this year"),
            EstStatus::Never => l.t("Chưa kiểm tra trong kỳ", "Never inspected in the period"),
        }
    }

    /// The badge class in tables.
    pub fn badge(self) -> &'static str {
        match self {
            EstStatus::FollowUp | EstStatus::Violation => "bad",
            EstStatus::Inspected => "ok",
            EstStatus::NotThisYear | EstStatus::Never => "warn",
        }
    }
}

/// The status of one establishment: an overdue follow-up first, then violations at the last
/// visit, then whether it was inspected in the year, earlier in the period, or never.
pub fn status_of(row: &StatusRow) -> EstStatus {
    if row.follow_up_due > 0 {
        EstStatus::FollowUp
    } else if row.last_violations.is_some_and(|v| v > 0) {
        EstStatus::Violation
    } else if row.annual_last.is_some() {
        EstStatus::Inspected
    } else if row.period_last.is_some() {
        EstStatus::NotThisYear
    } else {
        EstStatus::Never
    }
}

/// One establishment with where it counts: in the annual and cumulative measures of the
/// coverage API (summing these flags over a unit gives its tallies).
pub struct EstablishmentCoverage {
    pub row: StatusRow,
    pub annual_in_scope: bool,
    pub cumulative_in_scope: bool,
    pub status: EstStatus,
}

/// The establishments of the resolved area in scope of the annual or the cumulative measure.
pub fn establishments(
    c: &mut AnyConnection,
    actor: &Actor,
    p: &Params,
    r: &api::Resolved,
) -> ApiResult<Vec<EstablishmentCoverage>> {
    let (a_from, a_to) = r.annual;
    let (_, cum_to) = r.cumulative;
    let rows = db::coverage_status::list(
        c,
        actor,
        &db::coverage_status::StatusQuery {
            area: &r.area,
            types: &r.types,
            operating_from: a_from.min(cum_to),
            operating_to: a_to.max(cum_to),
            annual: r.annual,
            cumulative: r.cumulative,
            as_of: p.as_of,
        },
    )?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let life = Lifetime {
                opened_on: row.opened_on,
                closed_on: row.closed_on,
            };
            let annual_in_scope = life.operating_between(a_from, a_to);
            let cumulative_in_scope = life.operating_on(cum_to);
            (annual_in_scope || cumulative_in_scope).then(|| EstablishmentCoverage {
                status: status_of(&row),
                row,
                annual_in_scope,
                cumulative_in_scope,
            })
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// The chart
// ---------------------------------------------------------------------------------------------

/// The monthly progress chart: coordinates in a 640 × 280 viewBox, computed here so the SVG is
/// plain markup.
pub struct Chart {
    pub actual: String,
    pub target: String,
    pub points: Vec<ChartPoint>,
    pub y_ticks: Vec<(f64, String)>,
    pub x_ticks: Vec<(f64, String)>,
    pub goal_y: f64,
    pub goal_label: String,
    pub months: Vec<MonthRow>,
}

pub struct ChartPoint {
    pub x: f64,
    pub y: f64,
    pub title: String,
    pub on_track: bool,
}

pub struct MonthRow {
    pub month: u32,
    pub through: String,
    pub in_scope: String,
    pub inspected: String,
    pub share: String,
    pub target: String,
    pub target_share: String,
    pub on_track: bool,
}

const CHART_LEFT: f64 = 56.0;
const CHART_RIGHT: f64 = 624.0;
const CHART_TOP: f64 = 16.0;
const CHART_BOTTOM: f64 = 244.0;

/// A round vertical scale for shares up to `max`: the top and the number of steps (at most 8, of
/// 1, 2, 2.5, 5, 10, 20 or 25 %), never above 100 %.
pub fn y_scale(max: f64) -> (f64, u32) {
    for step in [0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25] {
        let fit = (1.0_f64 / step).round() as u32;
        let n = ((max * 1.05 / step - 1e-9).ceil().max(1.0) as u32).min(fit);
        if n <= 8 {
            return (step * f64::from(n), n);
        }
    }
    (1.0, 4)
}

pub fn chart(l: Lang, s: &Series) -> Chart {
    let goal = s.programme.annual_min_share;
    let best = s.months.iter().filter_map(|m| m.share).fold(goal, f64::max);
    let (top, steps) = y_scale(best);
    let x = |month: f64| CHART_LEFT + (CHART_RIGHT - CHART_LEFT) * month / 12.0;
    let y = |share: f64| CHART_BOTTOM - (CHART_BOTTOM - CHART_TOP) * (share / top).min(1.0);
    let mut actual = String::new();
    let mut points = Vec::new();
    for m in &s.months {
        let share = m.share.unwrap_or(0.0);
        let (px, py) = (x(f64::from(m.month)), y(share));
        actual.push_str(&format!(
            "{}{px:.1},{py:.1}",
            if actual.is_empty() { "" } else { " " }
        ));
        points.push(ChartPoint {
            x: px,
            y: py,
            title: format!(
                "{} {}: {} ({}/{}) · {} {}",
                l.t("Tháng", "Month"),
                m.month,
                pct(l, m.share),
                num(l, m.inspected),
                num(l, m.in_scope),
                l.t("mốc", "target"),
                pct(l, Some(m.target_share)),
            ),
            on_track: m.on_track,
        });
    }
    let target = format!("{:.1},{:.1} {:.1},{:.1}", x(0.0), y(0.0), x(12.0), y(goal));
    let y_ticks = (0..=steps)
        .map(|i| {
            let v = top * f64::from(i) / f64::from(steps);
            (y(v), pct(l, Some(v)))
        })
        .collect();
    let x_ticks = (1..=12u32)
        .map(|m| (x(f64::from(m)), format!("{}{m}", l.t("T", "M"))))
        .collect();
    Chart {
        actual,
        target,
        points,
        y_ticks,
        x_ticks,
        goal_y: y(goal),
        goal_label: format!(
            "{} {}",
            l.t("Chỉ tiêu năm", "Annual target"),
            pct(l, Some(goal))
        ),
        months: s
            .months
            .iter()
            .map(|m| MonthRow {
                month: m.month,
                through: l.date(&m.through),
                in_scope: num(l, m.in_scope),
                inspected: num(l, m.inspected),
                share: pct(l, m.share),
                target: l.num(m.target.ceil() as i64),
                target_share: pct(l, Some(m.target_share)),
                on_track: m.on_track,
            })
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------------

pub struct UnitLine {
    pub unit: String,
    pub name: String,
    pub href: String,
    pub annual: MeasureView,
    pub cumulative: MeasureView,
}

pub struct EstLine {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub address: String,
    pub status: EstStatus,
    pub annual_in_scope: bool,
    pub annual_last: String,
    pub cumulative_in_scope: bool,
    pub period_last: String,
}

#[derive(Template)]
#[template(path = "coverage/page.html")]
struct CoveragePage {
    ctx: Ctx,
    f: Filters,
    crumbs: Vec<Crumb>,
    unit_id: String,
    unit_name: String,
    level: String,
    year: i32,
    programme_name: String,
    period: String,
    as_of: String,
    annual_target: String,
    end_target: String,
    total: UnitLine,
    child_label: &'static str,
    children: Vec<UnitLine>,
    establishments: Vec<EstLine>,
    annual_counted: String,
    chart: Chart,
    map_href: String,
    /// `name`, `annual` or `cumulative`.
    sort: &'static str,
    /// This page's query without the order, to build the sort links.
    sort_base: String,
    /// The orders offered: (key, label).
    sorts: Vec<(&'static str, &'static str)>,
}

async fn page(
    req: HttpRequest,
    web_user: Web,
    state: web::Data<AppState>,
) -> DashResult<HttpResponse> {
    let q = PageQuery::from_request(&req);
    let l = web_user.lang;
    let actor = web_user.actor.clone();
    let p = params_of(&actor, &q)?;
    let pp = p.clone();
    let db = state.db.clone();
    let (cov, series, resolved, filters, crumbs, ests) = web::block(move || {
        db.read(|c| -> ApiResult<_> {
            let resolved = api::resolve(c, &actor, &pp)?;
            let cov: Coverage = api::compute_resolved(c, &pp, &resolved)?;
            let series = api_reports::compute_series(c, &actor, &pp)?;
            let filters = filters(c, l, &pp, resolved.programme.types_in_scope())?;
            let crumbs = crumbs(c, &actor, &resolved.unit, "/coverage", &pp);
            let ests = if resolved.unit.level == "commune" {
                establishments(c, &actor, &pp, &resolved)?
            } else {
                Vec::new()
            };
            Ok((cov, series, resolved, filters, crumbs, ests))
        })
    })
    .await??;
    let (at, et) = (cov.programme.annual_min_share, cov.programme.end_share);
    let line = |row: &api::CoverageRow, href: String| UnitLine {
        unit: row.unit_id.clone(),
        name: row.name.clone(),
        href,
        annual: measure_view(l, &row.annual, at),
        cumulative: measure_view(l, &row.cumulative, et),
    };
    let sort: &'static str = match q.sort.as_deref() {
        Some("annual") => "annual",
        Some("cumulative") => "cumulative",
        _ => "name",
    };
    let mut rows: Vec<&api::CoverageRow> = cov.children.iter().collect();
    if sort != "name" {
        // Lowest share first (the units to look at), units with nothing in scope last.
        let key = |r: &api::CoverageRow| {
            let m = if sort == "annual" {
                &r.annual
            } else {
                &r.cumulative
            };
            m.share.unwrap_or(f64::INFINITY)
        };
        rows.sort_by(|a, b| key(a).total_cmp(&key(b)));
    }
    let children: Vec<UnitLine> = rows
        .into_iter()
        .map(|r| line(r, format!("/coverage?{}", query_for(&r.unit_id, &p))))
        .collect();
    let total = line(&cov.total, String::new());
    let level = resolved.unit.level.clone();
    let establishments: Vec<EstLine> = ests
        .iter()
        .map(|e| EstLine {
            id: e.row.id.clone(),
            name: e.row.name.clone(),
            kind: EstablishmentType::parse(&e.row.establishment_type)
                .map(|t| l.label(&t))
                .unwrap_or("—"),
            address: e.row.address.clone(),
            status: e.status,
            annual_in_scope: e.annual_in_scope,
            annual_last: e.row.annual_last.map(|d| l.date(&d)).unwrap_or_default(),
            cumulative_in_scope: e.cumulative_in_scope,
            period_last: e.row.period_last.map(|d| l.date(&d)).unwrap_or_default(),
        })
        .collect();
    let annual_counted = num(
        l,
        ests.iter()
            .filter(|e| e.annual_in_scope && e.row.annual_last.is_some())
            .count() as u64,
    );
    let child_label = match level.as_str() {
        "country" => l.t("Tỉnh, thành phố", "Province"),
        _ => l.t("Xã, phường", "Commune"),
    };
    let title = format!(
        "{} · {}",
        l.t("Tiến độ kiểm tra", "Coverage"),
        cov.total.name
    );
    let tpl = CoveragePage {
        ctx: web_user.ctx(&title, "/coverage"),
        chart: chart(l, &series),
        crumbs,
        unit_id: cov.unit.clone(),
        unit_name: cov.total.name.clone(),
        level,
        year: cov.year,
        programme_name: cov.programme.name.clone(),
        period: format!(
            "{} – {}",
            l.date(&cov.programme.period_start),
            l.date(&cov.programme.period_end)
        ),
        as_of: l.date(&cov.as_of),
        annual_target: pct(l, Some(at)),
        end_target: pct(l, Some(et)),
        total,
        child_label,
        children,
        establishments,
        annual_counted,
        map_href: format!("/map?{}", query_for(&cov.unit, &p)),
        sort,
        sorts: vec![
            ("name", l.t("theo tên", "by name")),
            (
                "annual",
                l.t("tỷ lệ năm thấp trước", "lowest annual share first"),
            ),
            (
                "cumulative",
                l.t("tỷ lệ lũy kế thấp trước", "lowest cumulative share first"),
            ),
        ],
        sort_base: format!("/coverage?{}", query_for(&cov.unit, &p)),
        f: filters,
    };
    render(&tpl)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn buckets_break_at_the_target() {
        assert_eq!(bucket(None, 0.2), "none");
        assert_eq!(bucket(Some(0.0), 0.2), "u0");
        assert_eq!(bucket(Some(0.05), 0.2), "u1");
        assert_eq!(bucket(Some(0.149), 0.2), "u2");
        assert_eq!(bucket(Some(0.15), 0.2), "u3");
        assert_eq!(bucket(Some(0.2), 0.2), "m0");
        assert_eq!(bucket(Some(0.4), 0.2), "m1");
        assert_eq!(bucket(Some(0.59), 0.2), "m1");
        assert_eq!(bucket(Some(0.8), 0.2), "m3");
        assert_eq!(bucket(Some(1.0), 0.2), "m3");
        assert_eq!(bucket(Some(0.6), 1.0), "u2");
        assert_eq!(bucket(Some(1.0), 1.0), "m3");
        assert_eq!(bucket(Some(0.0), 0.0), "m0");
    }

    #[test]
    fn the_legend_names_the_share_ranges_around_the_target() {
        let lg = legend(Lang::Vi, 0.2);
        let labels = |v: &[LegendItem]| v.iter().map(|i| i.label.clone()).collect::<Vec<_>>();
        assert_eq!(
            labels(&lg.met),
            [
                "≥ 80,0 %",
                "60,0 % – 80,0 %",
                "40,0 % – 60,0 %",
                "20,0 % – 40,0 %"
            ]
        );
        assert_eq!(
            labels(&lg.under),
            [
                "15,0 % – 20,0 %",
                "10,0 % – 15,0 %",
                "5,0 % – 10,0 %",
                "< 5,0 %"
            ]
        );
        let full = legend(Lang::En, 1.0);
        assert_eq!(labels(&full.met), ["100.0%"]);
        assert_eq!(full.under[3].label, "< 25.0%");
    }

    fn row(follow: i64, viol: Option<i64>, annual: bool, period: bool) -> StatusRow {
        let d = NaiveDate::from_ymd_opt(2026, 3, 1);
        StatusRow {
            id: "x".into(),
            name: "x".into(),
            establishment_type: "karaoke".into(),
            unit_id: "2025:19753".into(),
            address: String::new(),
            lat: None,
            lon: None,
            opened_on: None,
            closed_on: None,
            annual_last: if annual { d } else { None },
            period_last: if period { d } else { None },
            last_violations: viol,
            follow_up_due: follow,
        }
    }

    #[test]
    fn the_most_urgent_status_wins() {
        assert_eq!(status_of(&row(1, Some(2), true, true)), EstStatus::FollowUp);
        assert_eq!(
            status_of(&row(0, Some(2), true, true)),
            EstStatus::Violation
        );
        assert_eq!(
            status_of(&row(0, Some(0), true, true)),
            EstStatus::Inspected
        );
        assert_eq!(
            status_of(&row(0, None, false, true)),
            EstStatus::NotThisYear
        );
        assert_eq!(status_of(&row(0, None, false, false)), EstStatus::Never);
    }

    #[test]
    fn the_chart_scale_is_round() {
        let close = |(top, n): (f64, u32), want: (f64, u32)| {
            assert!((top - want.0).abs() < 1e-9 && n == want.1, "{top} {n}");
        };
        close(y_scale(0.584), (0.7, 7));
        close(y_scale(0.2), (0.25, 5));
        close(y_scale(0.03), (0.04, 4));
        close(y_scale(1.0), (1.0, 5));
        close(y_scale(0.0), (0.01, 1));
    }

    #[test]
    fn shares_read_as_percentages() {
        assert_eq!(pct(Lang::Vi, Some(0.2345)), "23,4 %");
        assert_eq!(pct(Lang::En, Some(1.0)), "100.0%");
        assert_eq!(pct(Lang::Vi, None), "—");
    }
}
