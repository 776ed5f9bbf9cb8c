//! Exports of the establishments and visits in the user's jurisdiction (XLSX and CSV), read page
//! by page through the db layer's actor-scoped queries (keyset pagination: linear in the rows).

use std::collections::HashMap;

use chrono::NaiveDate;
use doi178_shared::establishment::EstablishmentType;

use crate::auth::Actor;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::service::export::{Cell, Column, Kind, Table};

/// Rows read per query.
const PAGE: i64 = 1000;

/// What to export: the checked filters.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// A unit the caller can see (its whole subtree), or every unit in the jurisdiction.
    pub unit: Option<String>,
    pub establishment_type: Option<EstablishmentType>,
    /// Visits only: the Vietnamese calendar year of the visit.
    pub year: Option<i32>,
}

/// The units of `filter.unit`'s subtree, or `None` for the whole jurisdiction; a unit the caller
/// cannot see is 404, as in `GET /api/v1/establishments?unit=`.
fn unit_ids(
    c: &mut db::AnyConnection,
    actor: &Actor,
    filter: &ListFilter,
) -> ApiResult<Option<Vec<String>>> {
    match &filter.unit {
        Some(unit) => {
            let unit = &db::units::canonical_id(c, unit)?;
            if !actor.sees_unit(unit) {
                return Err(ApiError::not_found("unit").field("unit"));
            }
            Ok(Some(
                db::units::subtree_ids(c, std::slice::from_ref(unit))?
                    .into_iter()
                    .collect(),
            ))
        }
        None => Ok(None),
    }
}

/// Unit names, looked up once each.
struct UnitNames(HashMap<String, String>);

impl UnitNames {
    fn name(&mut self, c: &mut db::AnyConnection, actor: &Actor, id: &str) -> ApiResult<String> {
        if let Some(n) = self.0.get(id) {
            return Ok(n.clone());
        }
        let name = db::units::get(c, actor, id)?
            .map(|u| u.name)
            .unwrap_or_else(|| id.to_string());
        self.0.insert(id.to_string(), name.clone());
        Ok(name)
    }
}

pub fn establishment_columns() -> Vec<Column> {
    vec![
        Column::new("Tên cơ sở", Kind::Text, 34.0),
        Column::new("Loại hình", Kind::Text, 18.0),
        Column::new("Xã, phường", Kind::Text, 22.0),
        Column::new("Địa chỉ", Kind::Text, 40.0),
        Column::new("Chủ cơ sở", Kind::Text, 22.0),
        Column::new("Điện thoại", Kind::Text, 14.0),
        Column::new("Số ĐKKD", Kind::Text, 16.0),
        Column::new("Số giấy phép", Kind::Text, 16.0),
        Column::new("Ngày cấp phép", Kind::Date, 13.0),
        Column::new("Ngày hết hạn", Kind::Date, 13.0),
        Column::new("Số GCN ANTT", Kind::Text, 16.0),
        Column::new("Tình trạng", Kind::Text, 18.0),
        Column::new("Mức nguy cơ", Kind::Text, 12.0),
        Column::new("Ngày bắt đầu hoạt động", Kind::Date, 13.0),
        Column::new("Ngày ngừng hoạt động", Kind::Date, 13.0),
        Column::new("Đã ký cam kết", Kind::Text, 10.0),
        Column::new("Ngày ký cam kết", Kind::Date, 13.0),
        Column::new("Mã cơ sở", Kind::Text, 38.0),
    ]
}

/// Every establishment the filter selects, by name.
pub fn establishments(
    c: &mut db::AnyConnection,
    actor: &Actor,
    filter: &ListFilter,
) -> ApiResult<Table> {
    let mut table = Table::new("Cơ sở", establishment_columns());
    let mut f = db::establishments::Filter {
        unit_ids: unit_ids(c, actor, filter)?,
        establishment_type: filter.establishment_type,
        limit: PAGE,
        ..Default::default()
    };
    let mut names = UnitNames(HashMap::new());
    loop {
        let rows = db::establishments::list(c, actor, &f)?;
        let done = rows.len() < PAGE as usize;
        f.after = rows.last().map(|r| (r.name.clone(), r.id.clone()));
        for r in rows {
            let unit = names.name(c, actor, &r.unit_id)?;
            table.rows.push(vec![
                Cell::text(r.name),
                Cell::text(r.establishment_type.label_vi()),
                Cell::text(unit),
                Cell::text(r.address),
                Cell::opt_text(r.owner_name.as_deref()),
                Cell::opt_text(r.phone.as_deref()),
                Cell::opt_text(r.business_reg_no.as_deref()),
                Cell::opt_text(r.licence_no.as_deref()),
                Cell::opt_date(r.licence_issued_on),
                Cell::opt_date(r.licence_expires_on),
                Cell::opt_text(r.antt_cert_no.as_deref()),
                Cell::text(r.status.label_vi()),
                Cell::text(r.risk.label_vi()),
                Cell::opt_date(r.opened_on),
                Cell::opt_date(r.closed_on),
                Cell::text(if r.commitment_signed { "Có" } else { "Không" }),
                Cell::opt_date(r.commitment_signed_on),
                Cell::text(r.id),
            ]);
        }
        if done {
            break;
        }
    }
    Ok(table)
}

pub fn visit_columns() -> Vec<Column> {
    vec![
        Column::new("Ngày kiểm tra", Kind::Date, 13.0),
        Column::new("Giờ bắt đầu", Kind::Text, 10.0),
        Column::new("Tên cơ sở", Kind::Text, 34.0),
        Column::new("Loại hình", Kind::Text, 18.0),
        Column::new("Xã, phường", Kind::Text, 22.0),
        Column::new("Địa chỉ", Kind::Text, 40.0),
        Column::new("Đội kiểm tra", Kind::Text, 30.0),
        Column::new("Kết quả", Kind::Text, 24.0),
        Column::new("Số biên bản", Kind::Text, 16.0),
        Column::new("Số vi phạm", Kind::Count, 10.0),
        Column::new("Tiền phạt đề xuất (đồng)", Kind::Vnd, 20.0),
        Column::new("Hẹn hậu kiểm", Kind::Date, 13.0),
        Column::new("Trạng thái duyệt", Kind::Text, 18.0),
        Column::new("Mã cuộc kiểm tra", Kind::Text, 38.0),
    ]
}

/// Every visit the filter selects (all review states, as `GET /api/v1/visits`), oldest first.
pub fn visits(c: &mut db::AnyConnection, actor: &Actor, filter: &ListFilter) -> ApiResult<Table> {
    let mut table = Table::new("Cuộc kiểm tra", visit_columns());
    let started = filter.year.map(|y| {
        let start = |y| NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or(NaiveDate::MIN);
        (
            db::reports::vietnam_day_start_utc(start(y)),
            db::reports::vietnam_day_start_utc(start(y + 1)),
        )
    });
    let mut f = db::visits::ExportFilter {
        unit_ids: unit_ids(c, actor, filter)?,
        establishment_type: filter.establishment_type,
        started,
        after: None,
        limit: PAGE,
    };
    let teams: HashMap<String, String> = db::teams::list(c, actor)?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let mut names = UnitNames(HashMap::new());
    loop {
        let rows = db::visits::export_page(c, actor, &f)?;
        let done = rows.len() < PAGE as usize;
        f.after = rows.last().map(|r| (r.started_at, r.id.clone()));
        for r in rows {
            let unit = names.name(c, actor, &r.unit_id)?;
            let local = r.started_at + chrono::TimeDelta::hours(7);
            table.rows.push(vec![
                Cell::Date(local.date()),
                Cell::text(local.format("%H:%M").to_string()),
                Cell::text(r.establishment_name),
                Cell::text(r.establishment_type.label_vi()),
                Cell::text(unit),
                Cell::text(r.address),
                Cell::text(teams.get(&r.team_id).cloned().unwrap_or(r.team_id)),
                Cell::text(r.outcome.label_vi()),
                Cell::opt_text(r.minutes_no.as_deref()),
                Cell::int(r.violation_count),
                Cell::Vnd(r.total_fine_vnd),
                Cell::opt_date(r.follow_up_on),
                Cell::text(r.review_status.label_vi()),
                Cell::text(r.id),
            ]);
        }
        if done {
            break;
        }
    }
    Ok(table)
}
