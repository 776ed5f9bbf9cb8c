//! Reports over coverage and the work of the teams: the monthly series toward the annual target,
//! the establishments never inspected in the programme period, overdue follow-ups, and the
//! totals of a reporting window (visits, violations and proposed fines, follow-ups, tips). Also
//! the per-province target overrides stored with a programme.
//!
//! Coverage facts come from `inspection_days` (see `db::coverage`); only the window report reads
//! visits, and then through indexed filters (`visits_started`, `visits_follow_up`,
//! `visits_establishment`).

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text, Timestamp};
use doi178_shared::error::{DomainError, DomainResult};
use doi178_shared::establishment::EstablishmentType;
use doi178_shared::programme::ShareBp;
use doi178_shared::tip::TipStatus;
use doi178_shared::unit::{CodeVersion, UnitId, UnitLevel};
use serde::{Deserialize, Serialize};

use super::coverage::Area;
use super::programmes::ProgrammeRow;
use super::AnyConnection;

// ---------------------------------------------------------------------------------------------
// Per-province overrides
// ---------------------------------------------------------------------------------------------

/// A province's own targets, replacing the programme's (`programmes.province_overrides` is a JSON
/// object `{"2025:46": {"annual_min_share_bp": 3000, "end_share_bp": 10000}}`). A missing share
/// keeps the programme's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvinceOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annual_min_share_bp: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_share_bp: Option<u32>,
}

/// Province unit id → its override.
pub type ProvinceOverrides = BTreeMap<String, ProvinceOverride>;

/// The stored overrides; an unreadable value is treated as none (it was validated on the way in).
pub fn parse_overrides(json: &str) -> ProvinceOverrides {
    serde_json::from_str(json).unwrap_or_default()
}

/// Checks overrides as given by an administrator: keys are unit ids of the current code list
/// (`2025:NN`), shares are 0..=10000 basis points, and each override sets at least one share.
/// Errors name `province_overrides.<id>[.<share>]`. Whether each key is a province is checked
/// against the database by the caller ([`unknown_provinces`]).
pub fn validate_overrides(overrides: &ProvinceOverrides) -> DomainResult<()> {
    for (id, o) in overrides {
        let field = format!("province_overrides.{id}");
        let parsed = UnitId::parse(id).map_err(|e| {
            DomainError::invalid(
                &field,
                format!("not a unit id such as 2025:46: {}", e.message),
            )
        })?;
        if parsed.version() != CodeVersion::V2025
            || parsed.code().level_hint() != UnitLevel::Province
        {
            return Err(DomainError::invalid(
                &field,
                "must be a province id of the 2025 code list, such as 2025:46",
            ));
        }
        if o.annual_min_share_bp.is_none() && o.end_share_bp.is_none() {
            return Err(DomainError::required(format!(
                "{field}.annual_min_share_bp"
            )));
        }
        for (name, bp) in [
            ("annual_min_share_bp", o.annual_min_share_bp),
            ("end_share_bp", o.end_share_bp),
        ] {
            if let Some(bp) = bp {
                ShareBp::new(bp).map_err(|e| e.with_field(format!("{field}.{name}")))?;
            }
        }
    }
    Ok(())
}

/// The keys of `overrides` that are not provinces in `admin_units`.
pub fn unknown_provinces(
    conn: &mut AnyConnection,
    overrides: &ProvinceOverrides,
) -> QueryResult<Vec<String>> {
    use super::schema::admin_units;
    let keys: Vec<&String> = overrides.keys().collect();
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<String> = admin_units::table
        .filter(admin_units::id.eq_any(keys.iter().map(|k| k.as_str())))
        .filter(admin_units::level.eq("province"))
        .select(admin_units::id)
        .load(conn)?;
    Ok(keys
        .into_iter()
        .filter(|k| !found.contains(k))
        .cloned()
        .collect())
}

/// The programme's (annual, end) shares in basis points for a unit of `province` (None: the
/// whole country, no override).
pub fn effective_shares_bp(row: &ProgrammeRow, province: Option<&str>) -> (i32, i32) {
    let o = province
        .and_then(|p| parse_overrides(&row.province_overrides).get(p).copied())
        .unwrap_or_default();
    let bp =
        |v: Option<u32>, default: i32| v.and_then(|v| i32::try_from(v).ok()).unwrap_or(default);
    (
        bp(o.annual_min_share_bp, row.annual_min_share_bp),
        bp(o.end_share_bp, row.end_share_bp),
    )
}

// ---------------------------------------------------------------------------------------------
// Raw SQL plumbing
// ---------------------------------------------------------------------------------------------

/// One bound value of a raw query. Placeholders are written `$1, $2, …` in order of first use:
/// PostgreSQL numbers them, SQLite treats them as named parameters numbered in that same order.
pub(super) enum Arg {
    Text(String),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
}

pub(super) fn load<T>(conn: &mut AnyConnection, sql: &str, args: Vec<Arg>) -> QueryResult<Vec<T>>
where
    T: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static,
{
    macro_rules! run {
        ($c:expr, $db:ty) => {{
            let mut q = diesel::sql_query(sql).into_boxed::<$db>();
            for a in args {
                q = match a {
                    Arg::Text(v) => q.bind::<Text, _>(v),
                    Arg::Date(v) => q.bind::<Date, _>(v),
                    Arg::Timestamp(v) => q.bind::<Timestamp, _>(v),
                };
            }
            q.load::<T>($c)
        }};
    }
    match conn {
        AnyConnection::Sqlite(c) => run!(c, diesel::sqlite::Sqlite),
        AnyConnection::Postgresql(c) => run!(c, diesel::pg::Pg),
    }
}

/// `IN (…)` list of type codes: a closed list of identifiers, never user input.
pub(super) fn type_list(types: &[EstablishmentType]) -> String {
    let mut codes: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    codes
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The establishments filter of `area` over `e` joined to its commune `u`, using placeholder `$n`
/// when it needs a value (pushed onto `args`).
pub(super) fn area_filter(area: &Area, args: &mut Vec<Arg>) -> String {
    let n = args.len() + 1;
    match area {
        Area::National => String::new(),
        Area::Province(id) => {
            args.push(Arg::Text(id.clone()));
            format!(" AND u.parent_id = ${n}")
        }
        Area::Commune(id) => {
            args.push(Arg::Text(id.clone()));
            format!(" AND e.unit_id = ${n}")
        }
    }
}

/// The first UTC instant of a Vietnamese calendar day (UTC+7, no daylight saving).
pub fn vietnam_day_start_utc(day: NaiveDate) -> NaiveDateTime {
    day.and_time(chrono::NaiveTime::MIN) - TimeDelta::hours(7)
}

// ---------------------------------------------------------------------------------------------
// Monthly series
// ---------------------------------------------------------------------------------------------

/// One in-scope establishment that operated in a window, and its first counted inspection there.
#[derive(Debug, Clone, QueryableByName)]
pub struct YearHistory {
    #[diesel(sql_type = Nullable<Date>)]
    pub opened_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    pub closed_on: Option<NaiveDate>,
    /// `MIN(day)` of `inspection_days` within `[from, to]`.
    #[diesel(sql_type = Nullable<Date>)]
    pub first_inspected: Option<NaiveDate>,
}

/// Establishments of `types` in `area` that may have operated in `[from, to]` (the caller applies
/// the exact [`doi178_shared::coverage::Lifetime`] rule per month), each with its first counted
/// inspection day in the window: one pass over the establishments with a `MIN(day)` probe on the
/// `inspection_days` primary key.
pub fn year_histories(
    conn: &mut AnyConnection,
    area: &Area,
    types: &[EstablishmentType],
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<YearHistory>> {
    if types.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = vec![Arg::Date(from), Arg::Date(to)];
    let area_sql = area_filter(area, &mut args);
    let sql = format!(
        "SELECT e.opened_on AS opened_on, e.closed_on AS closed_on, \
         (SELECT MIN(d.day) FROM inspection_days d WHERE d.establishment_id = e.id \
         AND d.day >= $1 AND d.day <= $2) AS first_inspected \
         FROM establishments e JOIN admin_units u ON u.id = e.unit_id \
         WHERE e.establishment_type IN ({types}) \
         AND (e.opened_on IS NULL OR e.opened_on <= $2) \
         AND (e.closed_on IS NULL OR e.closed_on > $1){area_sql}",
        types = type_list(types)
    );
    load(conn, &sql, args)
}

// ---------------------------------------------------------------------------------------------
// Never inspected
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, QueryableByName)]
pub struct NeverInspectedRow {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub establishment_type: String,
    #[diesel(sql_type = Text)]
    pub unit_id: String,
    #[diesel(sql_type = Text)]
    pub address: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Date>)]
    pub opened_on: Option<NaiveDate>,
    /// Last counted inspection ever (before the period, since nothing counts inside it).
    #[diesel(sql_type = Nullable<Date>)]
    pub last_inspected_on: Option<NaiveDate>,
}

/// Establishments of `types` in `area` operating on `on` (the coverage rule: `opened_on ≤ on <
/// closed_on`, unknown ends open) with no counted inspection in `[since, on]`, ordered by
/// `(name, id)`, after the keyset position `after`, at most `limit`.
pub fn never_inspected(
    conn: &mut AnyConnection,
    area: &Area,
    types: &[EstablishmentType],
    since: NaiveDate,
    on: NaiveDate,
    after: Option<(String, String)>,
    limit: i64,
) -> QueryResult<Vec<NeverInspectedRow>> {
    if types.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = vec![Arg::Date(on), Arg::Date(since)];
    let area_sql = area_filter(area, &mut args);
    let after_sql = match after {
        Some((name, id)) => {
            let n = args.len() + 1;
            args.push(Arg::Text(name));
            args.push(Arg::Text(id));
            format!(
                " AND (e.name > ${n} OR (e.name = ${n} AND e.id > ${m}))",
                m = n + 1
            )
        }
        None => String::new(),
    };
    let sql = format!(
        "SELECT e.id AS id, e.name AS name, e.establishment_type AS establishment_type, \
         e.unit_id AS unit_id, e.address AS address, e.status AS status, \
         e.opened_on AS opened_on, \
         (SELECT MAX(l.day) FROM inspection_days l WHERE l.establishment_id = e.id) \
         AS last_inspected_on \
         FROM establishments e JOIN admin_units u ON u.id = e.unit_id \
         WHERE e.establishment_type IN ({types}) \
         AND (e.opened_on IS NULL OR e.opened_on <= $1) \
         AND (e.closed_on IS NULL OR e.closed_on > $1) \
         AND NOT EXISTS (SELECT 1 FROM inspection_days d WHERE d.establishment_id = e.id \
         AND d.day >= $2 AND d.day <= $1){area_sql}{after_sql} \
         ORDER BY e.name, e.id LIMIT {limit}",
        types = type_list(types),
        limit = limit.max(0)
    );
    load(conn, &sql, args)
}

// ---------------------------------------------------------------------------------------------
// Follow-ups
// ---------------------------------------------------------------------------------------------

/// "No later visit": no visit of the same establishment, not rejected in review, started after
/// `v`. Needs `visits_establishment (establishment_id, started_at)`.
const NO_LATER_VISIT: &str = "NOT EXISTS (SELECT 1 FROM visits w \
     WHERE w.establishment_id = v.establishment_id AND w.started_at > v.started_at \
     AND w.review_status <> 'rejected')";

#[derive(Debug, Clone, QueryableByName)]
pub struct FollowUpRow {
    #[diesel(sql_type = Text)]
    pub visit_id: String,
    #[diesel(sql_type = Text)]
    pub establishment_id: String,
    #[diesel(sql_type = Text)]
    pub establishment_name: String,
    #[diesel(sql_type = Text)]
    pub establishment_type: String,
    #[diesel(sql_type = Text)]
    pub unit_id: String,
    #[diesel(sql_type = Text)]
    pub address: String,
    #[diesel(sql_type = Text)]
    pub team_id: String,
    #[diesel(sql_type = Timestamp)]
    pub started_at: NaiveDateTime,
    #[diesel(sql_type = Date)]
    pub follow_up_on: NaiveDate,
    #[diesel(sql_type = BigInt)]
    pub violation_count: i64,
}

/// Visits (not rejected) of establishments in `area` whose follow-up was due on or before
/// `as_of` and that no later visit (not rejected) of the same establishment followed; most
/// overdue first.
pub fn overdue_follow_ups(
    conn: &mut AnyConnection,
    area: &Area,
    as_of: NaiveDate,
) -> QueryResult<Vec<FollowUpRow>> {
    let mut args = vec![Arg::Date(as_of)];
    let area_sql = area_filter(area, &mut args);
    let sql = format!(
        "SELECT v.id AS visit_id, v.establishment_id AS establishment_id, \
         e.name AS establishment_name, e.establishment_type AS establishment_type, \
         e.unit_id AS unit_id, e.address AS address, v.team_id AS team_id, \
         v.started_at AS started_at, v.follow_up_on AS follow_up_on, \
         CAST(v.violation_count AS BIGINT) AS violation_count \
         FROM visits v JOIN establishments e ON e.id = v.establishment_id \
         JOIN admin_units u ON u.id = e.unit_id \
         WHERE v.follow_up_on IS NOT NULL AND v.follow_up_on <= $1 \
         AND v.review_status <> 'rejected' AND {NO_LATER_VISIT}{area_sql} \
         ORDER BY v.follow_up_on, v.started_at, v.id"
    );
    load(conn, &sql, args)
}

// ---------------------------------------------------------------------------------------------
// Window summary
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, QueryableByName)]
pub struct CountedRow {
    /// Counted inspections (visits) in the window, from `inspection_days`.
    #[diesel(sql_type = BigInt)]
    pub counted_visits: i64,
    /// Distinct establishments with a counted inspection in the window.
    #[diesel(sql_type = BigInt)]
    pub establishments: i64,
}

#[derive(Debug, Clone, Default, QueryableByName)]
pub struct VisitTotalsRow {
    /// Visits not rejected in review.
    #[diesel(sql_type = BigInt)]
    pub visits: i64,
    #[diesel(sql_type = BigInt)]
    pub with_violations: i64,
}

#[derive(Debug, Clone, QueryableByName)]
pub struct ViolationCodeRow {
    #[diesel(sql_type = Text)]
    pub code: String,
    /// One of the descriptions recorded with the code (they come from the same reference text).
    #[diesel(sql_type = Text)]
    pub description: String,
    #[diesel(sql_type = Text)]
    pub legal_basis: String,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
    #[diesel(sql_type = BigInt)]
    pub proposed_fines_vnd: i64,
}

#[derive(Debug, Clone, Default, QueryableByName)]
pub struct FollowUpTotalsRow {
    #[diesel(sql_type = BigInt)]
    pub due: i64,
    #[diesel(sql_type = BigInt)]
    pub done: i64,
}

#[derive(Debug, Clone, QueryableByName)]
pub struct TipFactsRow {
    #[diesel(sql_type = Date)]
    pub deadline: NaiveDate,
    #[diesel(sql_type = Text)]
    pub status: TipStatus,
    #[diesel(sql_type = Nullable<Timestamp>)]
    pub handled_at: Option<NaiveDateTime>,
}

/// Everything the window report counts, for establishments (and tips) of `area`, Vietnamese days
/// `from..=to`.
#[derive(Debug, Clone, Default)]
pub struct WindowFacts {
    pub counted: CountedRow,
    pub visits: VisitTotalsRow,
    pub violations: Vec<ViolationCodeRow>,
    pub follow_ups: FollowUpTotalsRow,
    pub tips: Vec<TipFactsRow>,
}

pub fn window_facts(
    conn: &mut AnyConnection,
    area: &Area,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<WindowFacts> {
    let start = vietnam_day_start_utc(from);
    let end = vietnam_day_start_utc(to + TimeDelta::days(1));

    let mut args = vec![Arg::Date(from), Arg::Date(to)];
    let area_sql = area_filter(area, &mut args);
    let counted = load::<CountedRow>(
        conn,
        &format!(
            "SELECT CAST(COALESCE(SUM(d.visits), 0) AS BIGINT) AS counted_visits, \
             COUNT(DISTINCT d.establishment_id) AS establishments \
             FROM inspection_days d JOIN establishments e ON e.id = d.establishment_id \
             JOIN admin_units u ON u.id = e.unit_id \
             WHERE d.day >= $1 AND d.day <= $2{area_sql}"
        ),
        args,
    )?
    .pop()
    .unwrap_or_default();

    // Visits in the window: `visits_started (started_at, id)` bounds the scan.
    let window_args = || vec![Arg::Timestamp(start), Arg::Timestamp(end)];
    let mut args = window_args();
    let area_sql = area_filter(area, &mut args);
    let visits = load::<VisitTotalsRow>(
        conn,
        &format!(
            "SELECT COUNT(*) AS visits, \
             CAST(COALESCE(SUM(CASE WHEN v.violation_count > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) \
             AS with_violations \
             FROM visits v JOIN establishments e ON e.id = v.establishment_id \
             JOIN admin_units u ON u.id = e.unit_id \
             WHERE v.started_at >= $1 AND v.started_at < $2 \
             AND v.review_status <> 'rejected'{area_sql}"
        ),
        args,
    )?
    .pop()
    .unwrap_or_default();

    let mut args = window_args();
    let area_sql = area_filter(area, &mut args);
    let violations = load::<ViolationCodeRow>(
        conn,
        &format!(
            "SELECT x.code AS code, COUNT(*) AS count, \
             COALESCE(MIN(x.description), '') AS description, \
             COALESCE(MIN(x.legal_basis), '') AS legal_basis, \
             CAST(COALESCE(SUM(x.proposed_fine_vnd), 0) AS BIGINT) AS proposed_fines_vnd \
             FROM visit_violations x JOIN visits v ON v.id = x.visit_id \
             JOIN establishments e ON e.id = v.establishment_id \
             JOIN admin_units u ON u.id = e.unit_id \
             WHERE v.started_at >= $1 AND v.started_at < $2 \
             AND v.review_status <> 'rejected'{area_sql} \
             GROUP BY x.code ORDER BY x.code"
        ),
        args,
    )?;

    // Follow-ups due in the window: `visits_follow_up (follow_up_on)`.
    let mut args = vec![Arg::Date(from), Arg::Date(to)];
    let area_sql = area_filter(area, &mut args);
    let follow_ups = load::<FollowUpTotalsRow>(
        conn,
        &format!(
            "SELECT COUNT(*) AS due, \
             CAST(COALESCE(SUM(CASE WHEN {NO_LATER_VISIT} THEN 0 ELSE 1 END), 0) AS BIGINT) \
             AS done \
             FROM visits v JOIN establishments e ON e.id = v.establishment_id \
             JOIN admin_units u ON u.id = e.unit_id \
             WHERE v.follow_up_on >= $1 AND v.follow_up_on <= $2 \
             AND v.review_status <> 'rejected'{area_sql}"
        ),
        args,
    )?
    .pop()
    .unwrap_or_default();

    // Tips concern a commune or a province: `tips_unit (unit_id, received_at)`.
    let mut args = vec![Arg::Timestamp(start), Arg::Timestamp(end)];
    let unit_sql = match area {
        Area::National => String::new(),
        Area::Province(id) => {
            args.push(Arg::Text(id.clone()));
            " AND (t.unit_id = $3 OR t.unit_id IN \
             (SELECT c.id FROM admin_units c WHERE c.parent_id = $3))"
                .to_string()
        }
        Area::Commune(id) => {
            args.push(Arg::Text(id.clone()));
            " AND t.unit_id = $3".to_string()
        }
    };
    let tips = load::<TipFactsRow>(
        conn,
        &format!(
            "SELECT t.deadline AS deadline, t.status AS status, t.handled_at AS handled_at \
             FROM tips t WHERE t.received_at >= $1 AND t.received_at < $2{unit_sql}"
        ),
        args,
    )?;

    Ok(WindowFacts {
        counted,
        visits,
        violations,
        follow_ups,
        tips,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn overrides(json: &str) -> ProvinceOverrides {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn overrides_are_validated_with_the_field_named() {
        assert!(validate_overrides(&overrides(
            r#"{"2025:46": {"annual_min_share_bp": 3000, "end_share_bp": 10000}}"#
        ))
        .is_ok());
        assert!(validate_overrides(&overrides(r#"{"2025:01": {"end_share_bp": 0}}"#)).is_ok());
        let field = |json: &str| validate_overrides(&overrides(json)).unwrap_err().field;
        assert_eq!(
            field(r#"{"2025:46": {"annual_min_share_bp": 10001}}"#),
            "province_overrides.2025:46.annual_min_share_bp"
        );
        assert_eq!(
            field(r#"{"2025:46": {"end_share_bp": 20000}}"#),
            "province_overrides.2025:46.end_share_bp"
        );
        assert_eq!(
            field(r#"{"hue": {"end_share_bp": 1}}"#),
            "province_overrides.hue"
        );
        assert_eq!(
            field(r#"{"2025:19753": {"end_share_bp": 1}}"#),
            "province_overrides.2025:19753"
        );
        assert_eq!(
            field(r#"{"2025:46": {}}"#),
            "province_overrides.2025:46.annual_min_share_bp"
        );
        assert!(serde_json::from_str::<ProvinceOverrides>(r#"{"2025:46": {"share": 1}}"#).is_err());
    }

    #[test]
    fn effective_shares_follow_the_province() {
        let now = chrono::NaiveDateTime::default();
        let row = ProgrammeRow {
            id: "p".into(),
            name: "p".into(),
            period_start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            period_end: NaiveDate::from_ymd_opt(2035, 12, 31).unwrap(),
            annual_min_share_bp: 2000,
            end_share_bp: 10_000,
            types_in_scope: "[]".into(),
            counted_outcomes: "[]".into(),
            province_overrides: r#"{"2025:46": {"annual_min_share_bp": 3000}}"#.into(),
            created_at: now,
            updated_at: now,
        };
        assert_eq!(effective_shares_bp(&row, Some("2025:46")), (3000, 10_000));
        assert_eq!(effective_shares_bp(&row, Some("2025:44")), (2000, 10_000));
        assert_eq!(effective_shares_bp(&row, None), (2000, 10_000));
        let broken = ProgrammeRow {
            province_overrides: "not json".into(),
            ..row
        };
        assert_eq!(
            effective_shares_bp(&broken, Some("2025:46")),
            (2000, 10_000)
        );
    }

    #[test]
    fn vietnamese_days_start_at_17_utc_the_day_before() {
        assert_eq!(
            vietnam_day_start_utc(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).to_string(),
            "2025-12-31 17:00:00"
        );
    }
}
