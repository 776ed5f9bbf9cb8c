//! Per-establishment coverage facts: for each establishment in scope of a coverage count, its last
//! counted inspection in the annual and in the cumulative window, whether its last visit found
//! violations and whether a follow-up check is overdue. The dashboard's map markers and the
//! coverage drill-down (establishments of a commune) read these; the windows and the counted
//! inspections are those of `GET /api/v1/coverage` (`inspection_days`), so summing the rows gives
//! the API's tallies.
//!
//! Scoped twice: by `area` (resolved through the actor by the caller) and by the actor's
//! jurisdiction here, so no caller can list establishments outside it.

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Double, Nullable, Text};
use doi178_shared::establishment::EstablishmentType;

use super::coverage::Area;
use super::reports::{area_filter, load, type_list, vietnam_day_start_utc, Arg};
use super::AnyConnection;
use crate::actor::Actor;

#[derive(Debug, Clone, QueryableByName)]
pub struct StatusRow {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub establishment_type: EstablishmentType,
    #[diesel(sql_type = Text)]
    pub unit_id: String,
    #[diesel(sql_type = Text)]
    pub address: String,
    #[diesel(sql_type = Nullable<Double>)]
    pub lat: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub lon: Option<f64>,
    #[diesel(sql_type = Nullable<Date>)]
    pub opened_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    pub closed_on: Option<NaiveDate>,
    /// Last counted inspection day inside the annual window.
    #[diesel(sql_type = Nullable<Date>)]
    pub annual_last: Option<NaiveDate>,
    /// Last counted inspection day inside the cumulative window.
    #[diesel(sql_type = Nullable<Date>)]
    pub period_last: Option<NaiveDate>,
    /// Violations recorded by the latest visit (not rejected) started on or before `as_of`; null
    /// when there is none.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub last_violations: Option<i64>,
    /// 1 when a follow-up check was due on or before `as_of` and no later visit (not rejected)
    /// followed (the rule of `GET /api/v1/coverage/follow-ups`).
    #[diesel(sql_type = BigInt)]
    pub follow_up_due: i64,
}

/// What to list: establishments of `types` in `area` that may have operated in
/// `[operating_from, operating_to]` (the caller applies the exact lifetime rule per window).
#[derive(Debug, Clone)]
pub struct StatusQuery<'a> {
    pub area: &'a Area,
    pub types: &'a [EstablishmentType],
    pub operating_from: NaiveDate,
    pub operating_to: NaiveDate,
    pub annual: (NaiveDate, NaiveDate),
    pub cumulative: (NaiveDate, NaiveDate),
    pub as_of: NaiveDate,
}

/// The facts of every establishment the query selects and the actor may see, by name.
pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    q: &StatusQuery<'_>,
) -> QueryResult<Vec<StatusRow>> {
    if q.types.is_empty() {
        return Ok(Vec::new());
    }
    let next_day = q.as_of + Duration::days(1);
    let mut args = vec![
        Arg::Date(q.annual.0),
        Arg::Date(q.annual.1),
        Arg::Date(q.cumulative.0),
        Arg::Date(q.cumulative.1),
        Arg::Timestamp(vietnam_day_start_utc(next_day)),
        Arg::Date(q.as_of),
        Arg::Date(q.operating_to),
        Arg::Date(q.operating_from),
    ];
    // Bind-parameter filters of the area and of the actor's jurisdiction, as the reports use.
    let mut filter = area_filter(q.area, &mut args);
    if let Some(units) = actor.unit_ids() {
        if units.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = units
            .into_iter()
            .map(|u| {
                args.push(Arg::Text(u));
                format!("${}", args.len())
            })
            .collect();
        filter.push_str(&format!(" AND e.unit_id IN ({})", marks.join(", ")));
    }
    let types = type_list(q.types);
    let sql = format!(
        "SELECT e.id AS id, e.name AS name, e.establishment_type AS establishment_type, \
         e.unit_id AS unit_id, e.address AS address, e.lat AS lat, e.lon AS lon, \
         e.opened_on AS opened_on, e.closed_on AS closed_on, \
         (SELECT MAX(d.day) FROM inspection_days d WHERE d.establishment_id = e.id \
         AND d.day >= $1 AND d.day <= $2) AS annual_last, \
         (SELECT MAX(d.day) FROM inspection_days d WHERE d.establishment_id = e.id \
         AND d.day >= $3 AND d.day <= $4) AS period_last, \
         (SELECT CAST(v.violation_count AS BIGINT) FROM visits v \
         WHERE v.establishment_id = e.id AND v.review_status <> 'rejected' \
         AND v.started_at < $5 ORDER BY v.started_at DESC, v.id DESC LIMIT 1) AS last_violations, \
         CAST(CASE WHEN EXISTS (SELECT 1 FROM visits v WHERE v.establishment_id = e.id \
         AND v.follow_up_on IS NOT NULL AND v.follow_up_on <= $6 \
         AND v.review_status <> 'rejected' \
         AND NOT EXISTS (SELECT 1 FROM visits w WHERE w.establishment_id = v.establishment_id \
         AND w.started_at > v.started_at AND w.review_status <> 'rejected')) \
         THEN 1 ELSE 0 END AS BIGINT) AS follow_up_due \
         FROM establishments e JOIN admin_units u ON u.id = e.unit_id \
         WHERE e.establishment_type IN ({types}) \
         AND (e.opened_on IS NULL OR e.opened_on <= $7) \
         AND (e.closed_on IS NULL OR e.closed_on > $8){filter} \
         ORDER BY e.name, e.id"
    );
    load(conn, &sql, args)
}
