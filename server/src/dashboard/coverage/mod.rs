//! Dashboard area `coverage`: tables per unit (country → provinces → communes → establishments
//! of a commune, drill-down by links) with the annual and cumulative measures, and a chart of the
//! monthly progress against the target line. The numbers are those of `GET /api/v1/coverage` and
//! `GET /api/v1/coverage/series` by construction: this page calls the same functions
//! ([`coverage::compute`], [`reports::compute_series`]).
//!
//! Also the pieces the map shares: the filters (unit, year, type) and their defaults, the
//! breadcrumbs, the share formatting and colour buckets, and the per-establishment status.

mod chart;
mod filters;
mod format;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use doi178_shared::unit::UnitLevel;

use super::page::{render, Ctx, DashResult, Lang};
use super::session::Web;
use crate::access::{get, RouteSpec, SIGNED_IN};
use crate::error::ApiResult;
use crate::service::coverage::{self as api, Coverage};
use crate::service::reports as api_reports;
use crate::state::AppState;

pub use self::chart::{chart, Chart};
pub use self::filters::{
    crumbs, default_unit, filters, params_of, query_for, Crumb, Filters, PageQuery,
};
pub use self::format::{
    bucket, legend, measure_view, num, pct, projection_text, Legend, MeasureView,
};
pub use crate::service::coverage::status::{
    establishments, status_of, EstStatus, EstablishmentCoverage,
};

impl EstStatus {
    pub fn label(self, l: Lang) -> &'static str {
        match self {
            EstStatus::FollowUp => l.t("Đến hạn kiểm tra lại", "Follow-up due"),
            EstStatus::Violation => l.t("Lần gần nhất có vi phạm", "Violations at last visit"),
            EstStatus::Inspected => l.t("Đã kiểm tra trong năm", "Inspected this year"),
            EstStatus::NotThisYear => l.t("Chưa kiểm tra trong năm", "Not yet this year"),
            EstStatus::Never => l.t("Chưa kiểm tra trong kỳ", "Never inspected in the period"),
        }
    }
}

pub fn routes() -> Vec<RouteSpec> {
    vec![get("/coverage", SIGNED_IN, page)]
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
    level: UnitLevel,
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
            let ests = if resolved.unit.level == UnitLevel::Commune {
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
    let level = resolved.unit.level;
    let establishments: Vec<EstLine> = ests
        .iter()
        .map(|e| EstLine {
            id: e.row.id.clone(),
            name: e.row.name.clone(),
            kind: l.label(&e.row.establishment_type),
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
    let child_label = match level {
        UnitLevel::Country => l.t("Tỉnh, thành phố", "Province"),
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
