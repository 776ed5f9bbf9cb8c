//! Coverage toward the programme target (độ bao phủ): the `inspection_days` table and the counts
//! over it.
//!
//! `inspection_days` holds one row per establishment and Vietnamese calendar day on which it had
//! at least one counted inspection (a visit not rejected in review whose outcome the programme
//! counts). Every visit write recomputes its establishment's rows in the same transaction
//! ([`refresh_establishment`]); the demo generator fills the table in one statement
//! ([`rebuild_all`]). The coverage counts ([`tallies`]) are then one GROUP BY over the
//! establishments with an indexed EXISTS probe each, exact for any date and any period start.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text};
use doi178_shared::coverage::{is_counted, Tally, DEFAULT_COUNTED_OUTCOMES};
use doi178_shared::establishment::EstablishmentType;
use doi178_shared::visit::{Outcome, ReviewStatus};

use super::schema::{
    coverage_rollup, coverage_rollup_since, establishment_visit_summary, establishments,
    inspection_days, programmes, visits,
};
use super::AnyConnection;

/// The counted outcomes stored with a programme (`programmes.counted_outcomes`, a JSON list of
/// outcome codes). Unknown codes are ignored; an empty or unreadable list means the default.
pub fn parse_counted(json: &str) -> Vec<Outcome> {
    let codes: Vec<String> = serde_json::from_str(json).unwrap_or_default();
    let mut out: Vec<Outcome> = codes
        .iter()
        .filter_map(|c| Outcome::parse(c).ok())
        .collect();
    out.sort();
    out.dedup();
    if out.is_empty() {
        DEFAULT_COUNTED_OUTCOMES.to_vec()
    } else {
        out
    }
}

/// The outcomes counted by the programme whose period contains `today` (the default when none).
pub fn current_counted(conn: &mut AnyConnection, today: NaiveDate) -> QueryResult<Vec<Outcome>> {
    crate::on_conn!(conn, |c| {
        let stored: Option<String> = programmes::table
            .filter(programmes::period_start.le(today))
            .filter(programmes::period_end.ge(today))
            .order(programmes::period_start.desc())
            .select(programmes::counted_outcomes)
            .first(c)
            .optional()?;
        Ok(stored
            .map(|s| parse_counted(&s))
            .unwrap_or_else(|| DEFAULT_COUNTED_OUTCOMES.to_vec()))
    })
}

/// The Vietnamese calendar day of a stored UTC timestamp.
pub fn vietnam_day(at: NaiveDateTime) -> NaiveDate {
    doi178_shared::time::vietnam_date(Utc.from_utc_datetime(&at))
}

/// Recomputes the `inspection_days` rows of one establishment from its visits. Call in the
/// transaction that writes the visit.
pub fn refresh_establishment(
    conn: &mut AnyConnection,
    establishment_id: &str,
    counted: &[Outcome],
) -> QueryResult<()> {
    let rows: Vec<(NaiveDateTime, Outcome, ReviewStatus, i32)> = visits::table
        .filter(visits::establishment_id.eq(establishment_id))
        .select((
            visits::started_at,
            visits::outcome,
            visits::review_status,
            visits::violation_count,
        ))
        .load(conn)?;
    let mut days: BTreeMap<NaiveDate, i32> = BTreeMap::new();
    // Violations recorded in visits not rejected in review (what the planner weighs).
    let mut prior_violations: i64 = 0;
    for (started_at, outcome, review, violations) in rows {
        if review != ReviewStatus::Rejected && violations > 0 {
            prior_violations += i64::from(violations);
        }
        if is_counted(outcome, review, counted) {
            *days.entry(vietnam_day(started_at)).or_default() += 1;
        }
    }
    diesel::delete(
        inspection_days::table.filter(inspection_days::establishment_id.eq(establishment_id)),
    )
    .execute(conn)?;
    for (&day, &n) in &days {
        diesel::insert_into(inspection_days::table)
            .values((
                inspection_days::establishment_id.eq(establishment_id),
                inspection_days::day.eq(day),
                inspection_days::visits.eq(n),
            ))
            .execute(conn)?;
    }
    let last_inspected_on = days.keys().next_back().copied();
    diesel::delete(
        establishment_visit_summary::table
            .filter(establishment_visit_summary::establishment_id.eq(establishment_id)),
    )
    .execute(conn)?;
    if last_inspected_on.is_some() || prior_violations > 0 {
        diesel::insert_into(establishment_visit_summary::table)
            .values((
                establishment_visit_summary::establishment_id.eq(establishment_id),
                establishment_visit_summary::last_inspected_on.eq(last_inspected_on),
                establishment_visit_summary::prior_violations.eq(prior_violations),
            ))
            .execute(conn)?;
    }
    if let Some(group) = group_of(conn, establishment_id)? {
        refresh_rollup_groups(conn, &BTreeSet::from([group]))?;
    }
    Ok(())
}

/// Adds one newly stored visit (revision 1, not yet reviewed) to its establishment's coverage
/// rows, in the caller's transaction, instead of recomputing them ([`refresh_establishment`],
/// which corrections and reviews still use): the counted day gains a visit, the summary its day
/// and violations, and the rollup rows of the establishment's group change only when that day is
/// its new latest one. The same rows as a recomputation (tested against one).
pub fn add_new_visit(
    conn: &mut AnyConnection,
    visit: &super::visits::VisitRow,
    counted: &[Outcome],
) -> QueryResult<()> {
    let review = visit.review_status;
    let is_counted_day = is_counted(visit.outcome, review, counted);
    let violations = if review != ReviewStatus::Rejected && visit.violation_count > 0 {
        i64::from(visit.violation_count)
    } else {
        0
    };
    if !is_counted_day && violations == 0 {
        return Ok(());
    }
    let est = visit.establishment_id.as_str();
    let day = vietnam_day(visit.started_at);
    let previous_last: Option<NaiveDate> = crate::on_conn!(&mut *conn, |c| {
        inspection_days::table
            .filter(inspection_days::establishment_id.eq(est))
            .select(diesel::dsl::max(inspection_days::day))
            .first(c)
    })?;
    if is_counted_day {
        let bumped: Option<i32> = crate::on_conn!(&mut *conn, |c| crate::cached!(diesel::update(
            inspection_days::table
                .filter(inspection_days::establishment_id.eq(est))
                .filter(inspection_days::day.eq(day)),
        )
        .set(inspection_days::visits.eq(inspection_days::visits + 1))
        .returning(inspection_days::visits))
        .get_result(c)
        .optional())?;
        if bumped.is_none() {
            crate::on_conn!(&mut *conn, |c| diesel::insert_into(inspection_days::table)
                .values((
                    inspection_days::establishment_id.eq(est),
                    inspection_days::day.eq(day),
                    inspection_days::visits.eq(1),
                ))
                .execute(c))?;
        }
    }
    let last = match (previous_last, is_counted_day) {
        (Some(p), true) => Some(p.max(day)),
        (None, true) => Some(day),
        (p, false) => p,
    };
    let summary = establishment_visit_summary::table
        .filter(establishment_visit_summary::establishment_id.eq(est));
    let updated: Option<i64> =
        crate::on_conn!(&mut *conn, |c| crate::cached!(diesel::update(summary)
            .set((
                establishment_visit_summary::last_inspected_on.eq(last),
                establishment_visit_summary::prior_violations
                    .eq(establishment_visit_summary::prior_violations + violations),
            ))
            .returning(establishment_visit_summary::prior_violations))
        .get_result(c)
        .optional())?;
    if updated.is_none() {
        crate::on_conn!(&mut *conn, |c| diesel::insert_into(
            establishment_visit_summary::table
        )
        .values((
            establishment_visit_summary::establishment_id.eq(est),
            establishment_visit_summary::last_inspected_on.eq(last),
            establishment_visit_summary::prior_violations.eq(violations),
        ))
        .execute(c))?;
    }
    match (previous_last, last) {
        (_, None) => Ok(()),
        (Some(p), Some(l)) if l <= p => Ok(()),
        (previous, Some(l)) => raise_last_day(conn, est, previous, l),
    }
}

/// The rollup rows of an establishment's group after its latest counted day moved from
/// `previous` to `last`: it now counts as inspected since every kept start in `(previous,
/// last]` (see the rollup's definitions below).
fn raise_last_day(
    conn: &mut AnyConnection,
    establishment_id: &str,
    previous: Option<NaiveDate>,
    last: NaiveDate,
) -> QueryResult<()> {
    let found: Option<(
        String,
        EstablishmentType,
        Option<NaiveDate>,
        Option<NaiveDate>,
    )> = crate::on_conn!(&mut *conn, |c| establishments::table
        .filter(establishments::id.eq(establishment_id))
        .select((
            establishments::unit_id,
            establishments::establishment_type,
            establishments::opened_on,
            establishments::closed_on,
        ))
        .first(c)
        .optional())?;
    let Some((unit, kind, opened_on, closed_on)) = found else {
        return Ok(());
    };
    // The rollup leaves out establishments that never operated.
    if let (Some(o), Some(c)) = (opened_on, closed_on) {
        if c <= o {
            return Ok(());
        }
    }
    // $1 last, $2 previous, $3 closed_on, $4 commune, $5 type (SQLite numbers `$n` by first
    // appearance, so each first appears in order).
    const SQL: &str = "UPDATE coverage_rollup SET \
        inspected_since = inspected_since + CASE WHEN since <= $1 \
        AND ($2 IS NULL OR since > $2) AND ($3 IS NULL OR $3 > since) THEN 1 ELSE 0 END, \
        inspected_now = inspected_now + CASE WHEN since <= $1 \
        AND ($2 IS NULL OR since > $2) AND $3 IS NULL THEN 1 ELSE 0 END, \
        last_inspected_on = CASE WHEN last_inspected_on IS NULL OR last_inspected_on < $1 \
        THEN $1 ELSE last_inspected_on END \
        WHERE unit_id = $4 AND establishment_type = $5";
    macro_rules! run {
        ($c:expr) => {
            diesel::sql_query(SQL)
                .bind::<Date, _>(last)
                .bind::<Nullable<Date>, _>(previous)
                .bind::<Nullable<Date>, _>(closed_on)
                .bind::<Text, _>(&unit)
                .bind::<Text, _>(&kind)
                .execute($c)
        };
    }
    match conn {
        AnyConnection::Sqlite(c) => run!(c),
        AnyConnection::Postgresql(c) => run!(c),
    }?;
    Ok(())
}

/// Rebuilds the whole table from the visits in one statement per backend (bulk loads), then the
/// rollup ([`rebuild_rollup`]).
pub fn rebuild_all(conn: &mut AnyConnection, counted: &[Outcome]) -> QueryResult<usize> {
    // The outcome codes come from a closed list of identifiers, never from user input.
    let mut codes: Vec<String> = counted
        .iter()
        .map(|o| format!("'{}'", o.as_str()))
        .collect();
    if codes.is_empty() {
        codes.push("''".to_string());
    }
    let codes = codes.join(", ");
    let rejected = ReviewStatus::Rejected.as_str();
    diesel::delete(inspection_days::table).execute(conn)?;
    let sql = |day: &str| {
        format!(
            "INSERT INTO inspection_days (establishment_id, day, visits) \
             SELECT establishment_id, {day} AS vn_day, COUNT(*) FROM visits \
             WHERE review_status <> '{rejected}' AND outcome IN ({codes}) \
             GROUP BY establishment_id, {day}"
        )
    };
    let n = match conn {
        AnyConnection::Sqlite(c) => {
            diesel::sql_query(sql("date(datetime(started_at, '+7 hours'))")).execute(c)
        }
        AnyConnection::Postgresql(c) => {
            diesel::sql_query(sql("CAST(started_at + INTERVAL '7 hours' AS DATE)")).execute(c)
        }
    }?;
    rebuild_visit_summary(conn)?;
    rebuild_rollup(conn)?;
    Ok(n)
}

/// Rebuilds `establishment_visit_summary` from `inspection_days` and the visits (bulk loads).
pub fn rebuild_visit_summary(conn: &mut AnyConnection) -> QueryResult<()> {
    diesel::delete(establishment_visit_summary::table).execute(conn)?;
    let sql = |null_day: &str| {
        format!(
            "INSERT INTO establishment_visit_summary (establishment_id, last_inspected_on, \
             prior_violations) \
             SELECT x.establishment_id, MAX(x.last_day), CAST(SUM(x.violations) AS BIGINT) \
             FROM (SELECT establishment_id, MAX(day) AS last_day, CAST(0 AS BIGINT) AS violations \
             FROM inspection_days GROUP BY establishment_id \
             UNION ALL \
             SELECT establishment_id, {null_day} AS last_day, \
             CAST(SUM(violation_count) AS BIGINT) AS violations FROM visits \
             WHERE review_status <> 'rejected' AND violation_count > 0 \
             GROUP BY establishment_id) x \
             GROUP BY x.establishment_id"
        )
    };
    match conn {
        AnyConnection::Sqlite(c) => diesel::sql_query(sql("NULL")).execute(c),
        AnyConnection::Postgresql(c) => diesel::sql_query(sql("CAST(NULL AS DATE)")).execute(c),
    }?;
    Ok(())
}

/// One programme by id. (Programme writes live here with the coverage they drive; they belong in
/// `db::programmes` when that module is next touched.)
pub fn programme(
    conn: &mut AnyConnection,
    id: &str,
) -> QueryResult<Option<super::programmes::ProgrammeRow>> {
    programmes::table
        .filter(programmes::id.eq(id))
        .select(super::programmes::ProgrammeRow::as_select())
        .first(conn)
        .optional()
}

/// Replaces a programme's fields (all but `id` and `created_at`).
pub fn update_programme(
    conn: &mut AnyConnection,
    who: &crate::db::audit_chain::Who,
    row: &super::programmes::ProgrammeRow,
) -> QueryResult<usize> {
    let change =
        crate::db::audit_chain::begin(conn, crate::db::audit_chain::Kind::Programme, &row.id)?;
    let n = diesel::update(programmes::table.filter(programmes::id.eq(&row.id)))
        .set((
            programmes::name.eq(&row.name),
            programmes::period_start.eq(row.period_start),
            programmes::period_end.eq(row.period_end),
            programmes::annual_min_share_bp.eq(row.annual_min_share_bp),
            programmes::end_share_bp.eq(row.end_share_bp),
            programmes::types_in_scope.eq(&row.types_in_scope),
            programmes::counted_outcomes.eq(&row.counted_outcomes),
            programmes::province_overrides.eq(&row.province_overrides),
            programmes::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    change.commit(conn, who)?;
    Ok(n)
}

/// Which establishments a coverage count looks at, grouped per commune.
#[derive(Debug, Clone)]
pub enum Area {
    /// The whole country.
    National,
    /// Communes whose parent is this province.
    Province(String),
    /// This commune only.
    Commune(String),
}

/// One count: establishments of `types` operating on at least one day of `[operating_from,
/// operating_to]`, and of those, the ones with a counted inspection in `[inspected_from,
/// inspected_to]`. Operating follows `doi178_shared::coverage::Lifetime`: from `opened_on`
/// (included) to `closed_on` (excluded: the first day without trading); unknown ends are open.
#[derive(Debug, Clone)]
pub struct Window {
    pub operating_from: NaiveDate,
    pub operating_to: NaiveDate,
    pub inspected_from: NaiveDate,
    pub inspected_to: NaiveDate,
}

/// Counts per commune: `commune id → (province id, tally)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommuneTallies(pub BTreeMap<String, (Option<String>, Tally)>);

#[derive(QueryableByName)]
struct CommuneCount {
    #[diesel(sql_type = Text)]
    commune_id: String,
    #[diesel(sql_type = Nullable<Text>)]
    province_id: Option<String>,
    #[diesel(sql_type = BigInt)]
    in_scope: i64,
    #[diesel(sql_type = BigInt)]
    inspected: i64,
}

/// The coverage counts of `area` per commune, exact for every window: from the rollup
/// ([`rollup_tallies`]) for the communes whose rollup rows hold on the window, with
/// [`exact_tallies`] for the others (or for all, when the window is not one the rollup keeps).
pub fn tallies(
    conn: &mut AnyConnection,
    area: &Area,
    types: &[EstablishmentType],
    window: &Window,
) -> QueryResult<CommuneTallies> {
    if types.is_empty() {
        return Ok(CommuneTallies::default());
    }
    match rollup_tallies(conn, area, types, window)? {
        Some((mut fast, unsettled)) => {
            if !unsettled.is_empty() {
                let rest = exact_tallies(conn, area, types, window, Some(&unsettled))?;
                fast.0.extend(rest.0);
            }
            Ok(fast)
        }
        None => exact_tallies(conn, area, types, window, None),
    }
}

/// Type codes as an SQL list. They come from a closed list of identifiers, never from user
/// input.
fn type_list(types: &[EstablishmentType]) -> String {
    let types: BTreeSet<&str> = types.iter().map(|t| t.as_str()).collect();
    types
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The exact count: one GROUP BY over the establishments of `area` (joined to their commune),
/// counting those in scope and, with an EXISTS probe on `inspection_days` (primary key
/// `(establishment_id, day)`), those inspected. `only_units` restricts it to these communes.
pub fn exact_tallies(
    conn: &mut AnyConnection,
    area: &Area,
    types: &[EstablishmentType],
    window: &Window,
    only_units: Option<&[String]>,
) -> QueryResult<CommuneTallies> {
    if types.is_empty() || only_units.is_some_and(|u| u.is_empty()) {
        return Ok(CommuneTallies::default());
    }
    let types = type_list(types);
    let (area_filter, area_id) = match area {
        Area::National => ("", None),
        Area::Province(id) => ("AND u.parent_id = ? ", Some(id.clone())),
        Area::Commune(id) => ("AND e.unit_id = ? ", Some(id.clone())),
    };
    let units: Vec<String> = only_units.map(<[String]>::to_vec).unwrap_or_default();
    let units_filter = if units.is_empty() {
        String::new()
    } else {
        format!("AND e.unit_id IN ({}) ", vec!["?"; units.len()].join(", "))
    };
    let sql = format!(
        "SELECT u.id AS commune_id, u.parent_id AS province_id, COUNT(*) AS in_scope, \
         SUM(CASE WHEN EXISTS (SELECT 1 FROM inspection_days d WHERE d.establishment_id = e.id \
         AND d.day >= ? AND d.day <= ?) THEN 1 ELSE 0 END) AS inspected \
         FROM establishments e JOIN admin_units u ON u.id = e.unit_id \
         WHERE e.establishment_type IN ({types}) \
         AND (e.opened_on IS NULL OR e.opened_on <= ?) \
         AND (e.closed_on IS NULL OR e.closed_on > ?) \
         AND NOT (e.opened_on IS NOT NULL AND e.closed_on IS NOT NULL \
         AND e.closed_on <= e.opened_on) \
         {area_filter}{units_filter}GROUP BY u.id, u.parent_id"
    );
    macro_rules! run {
        ($c:expr, $sql:expr, $db:ty) => {{
            let mut q = diesel::sql_query($sql)
                .into_boxed::<$db>()
                .bind::<Date, _>(window.inspected_from)
                .bind::<Date, _>(window.inspected_to)
                .bind::<Date, _>(window.operating_to)
                .bind::<Date, _>(window.operating_from);
            if let Some(id) = area_id.clone() {
                q = q.bind::<Text, _>(id);
            }
            for u in units.iter().cloned() {
                q = q.bind::<Text, _>(u);
            }
            q.load::<CommuneCount>($c)
        }};
    }
    let rows = match conn {
        AnyConnection::Sqlite(c) => run!(c, sql, diesel::sqlite::Sqlite),
        AnyConnection::Postgresql(c) => {
            run!(c, numbered_placeholders(&sql), diesel::pg::Pg)
        }
    }?;
    Ok(CommuneTallies(
        rows.into_iter()
            .map(|r| {
                (
                    r.commune_id,
                    (
                        r.province_id,
                        Tally {
                            in_scope: u64::try_from(r.in_scope).unwrap_or(0),
                            inspected: u64::try_from(r.inspected).unwrap_or(0),
                        },
                    ),
                )
            })
            .collect(),
    ))
}

// ---------------------------------------------------------------------------------------------
// The rollup
// ---------------------------------------------------------------------------------------------
//
// `coverage_rollup` holds, per commune, establishment type and window start `since` (one of
// `coverage_rollup_since`), over the establishments that ever operated (`closed_on` after
// `opened_on` when both are known) and with `last` their last counted inspection day:
//
// - `open_since`      = #{closed_on unknown or after since}
// - `inspected_since` = #{closed_on unknown or after since, and last ≥ since}
// - `open_now`        = #{closed_on unknown}
// - `inspected_now`   = #{closed_on unknown, and last ≥ since}
// - `last_opened_on`, `last_closed_on`, `last_inspected_on`: the latest of each.
//
// For a window ending on `T` on or after every `last_*` date of the group that matters, the
// exact definitions reduce to those columns:
//
// - annual (operating and inspected in `[since, T]`): operating ⇔ opened_on ≤ T (true: every
//   opened_on ≤ last_opened_on ≤ T) and closed_on > since; inspected ⇔ a counted day in
//   `[since, T]` ⇔ last ≥ since (every day ≤ last_inspected_on ≤ T).
// - cumulative (operating on `T`, inspected in `[since, T]`): operating ⇔ opened_on ≤ T (true)
//   and closed_on > T ⇔ closed_on unknown (every closed_on ≤ last_closed_on ≤ T).
//
// A commune with a later date (a visit dated after `as_of`, an establishment opening or closing
// later) is counted exactly instead; so is any window whose start is not kept.

/// Which rollup columns answer a window, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RollupKind {
    /// Operating and inspected in the same window `[since, T]`.
    Annual,
    /// Operating on `T`, inspected in `[since, T]`.
    Current,
}

fn rollup_kind(window: &Window) -> Option<RollupKind> {
    if window.operating_to != window.inspected_to || window.inspected_from > window.inspected_to {
        return None;
    }
    if window.operating_from == window.inspected_from {
        Some(RollupKind::Annual)
    } else if window.operating_from == window.operating_to {
        Some(RollupKind::Current)
    } else {
        None
    }
}

#[derive(QueryableByName)]
struct RollupCount {
    #[diesel(sql_type = Text)]
    commune_id: String,
    #[diesel(sql_type = Nullable<Text>)]
    province_id: Option<String>,
    #[diesel(sql_type = BigInt)]
    in_scope: i64,
    #[diesel(sql_type = BigInt)]
    inspected: i64,
    #[diesel(sql_type = Nullable<Date>)]
    last_opened_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    last_closed_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    last_inspected_on: Option<NaiveDate>,
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The counts of `area` from the rollup: the communes whose rows hold on the window, and the
/// communes that must be counted exactly. `None` when the rollup does not keep the window.
pub fn rollup_tallies(
    conn: &mut AnyConnection,
    area: &Area,
    types: &[EstablishmentType],
    window: &Window,
) -> QueryResult<Option<(CommuneTallies, Vec<String>)>> {
    let Some(kind) = rollup_kind(window) else {
        return Ok(None);
    };
    if types.is_empty() {
        return Ok(Some((CommuneTallies::default(), Vec::new())));
    }
    let since = window.inspected_from;
    let kept_sql = "SELECT COUNT(*) AS n FROM coverage_rollup_since WHERE since = ?";
    let kept = match conn {
        AnyConnection::Sqlite(c) => diesel::sql_query(kept_sql)
            .bind::<Date, _>(since)
            .get_result::<Counted>(c),
        AnyConnection::Postgresql(c) => diesel::sql_query(numbered_placeholders(kept_sql))
            .bind::<Date, _>(since)
            .get_result::<Counted>(c),
    }?;
    if kept.n == 0 {
        return Ok(None);
    }
    let (in_col, inspected_col) = match kind {
        RollupKind::Annual => ("open_since", "inspected_since"),
        RollupKind::Current => ("open_now", "inspected_now"),
    };
    let types = type_list(types);
    let (area_filter, area_id) = match area {
        Area::National => ("", None),
        Area::Province(id) => ("AND u.parent_id = ? ", Some(id.as_str())),
        Area::Commune(id) => ("AND r.unit_id = ? ", Some(id.as_str())),
    };
    let sql = format!(
        "SELECT r.unit_id AS commune_id, u.parent_id AS province_id, \
         CAST(SUM(r.{in_col}) AS BIGINT) AS in_scope, \
         CAST(SUM(r.{inspected_col}) AS BIGINT) AS inspected, \
         MAX(r.last_opened_on) AS last_opened_on, MAX(r.last_closed_on) AS last_closed_on, \
         MAX(r.last_inspected_on) AS last_inspected_on \
         FROM coverage_rollup r JOIN admin_units u ON u.id = r.unit_id \
         WHERE r.since = ? AND r.establishment_type IN ({types}) \
         {area_filter}GROUP BY r.unit_id, u.parent_id"
    );
    macro_rules! run {
        ($c:expr, $sql:expr) => {{
            let q = diesel::sql_query($sql).bind::<Date, _>(since);
            match area_id {
                Some(id) => q.bind::<Text, _>(id).load::<RollupCount>($c),
                None => q.load::<RollupCount>($c),
            }
        }};
    }
    let rows = match conn {
        AnyConnection::Sqlite(c) => run!(c, sql),
        AnyConnection::Postgresql(c) => run!(c, numbered_placeholders(&sql)),
    }?;
    let to = window.inspected_to;
    let by = |d: Option<NaiveDate>| d.is_none_or(|d| d <= to);
    let mut out = CommuneTallies::default();
    let mut unsettled = Vec::new();
    for r in rows {
        let settled = by(r.last_opened_on)
            && by(r.last_inspected_on)
            && (kind == RollupKind::Annual || by(r.last_closed_on));
        if !settled {
            unsettled.push(r.commune_id);
        } else if r.in_scope > 0 {
            out.0.insert(
                r.commune_id,
                (
                    r.province_id,
                    Tally {
                        in_scope: u64::try_from(r.in_scope).unwrap_or(0),
                        inspected: u64::try_from(r.inspected).unwrap_or(0),
                    },
                ),
            );
        }
    }
    Ok(Some((out, unsettled)))
}

/// Recomputes the rollup rows of (commune, type) groups from the establishments and
/// `inspection_days`; `filter` selects the establishments (`e`).
const ROLLUP_INSERT: &str = "INSERT INTO coverage_rollup (since, unit_id, establishment_type, \
     open_since, inspected_since, open_now, inspected_now, last_opened_on, last_closed_on, \
     last_inspected_on) \
     SELECT s.since, x.unit_id, x.establishment_type, \
     SUM(CASE WHEN x.closed_on IS NULL OR x.closed_on > s.since THEN 1 ELSE 0 END), \
     SUM(CASE WHEN (x.closed_on IS NULL OR x.closed_on > s.since) AND x.last_day >= s.since \
     THEN 1 ELSE 0 END), \
     SUM(CASE WHEN x.closed_on IS NULL THEN 1 ELSE 0 END), \
     SUM(CASE WHEN x.closed_on IS NULL AND x.last_day >= s.since THEN 1 ELSE 0 END), \
     MAX(x.opened_on), MAX(x.closed_on), MAX(x.last_day) \
     FROM (SELECT e.unit_id AS unit_id, e.establishment_type AS establishment_type, \
     e.opened_on AS opened_on, e.closed_on AS closed_on, \
     (SELECT MAX(d.day) FROM inspection_days d WHERE d.establishment_id = e.id) AS last_day \
     FROM establishments e \
     WHERE (e.opened_on IS NULL OR e.closed_on IS NULL OR e.closed_on > e.opened_on) {filter}) x \
     CROSS JOIN coverage_rollup_since s \
     GROUP BY s.since, x.unit_id, x.establishment_type";

/// The window starts the rollup keeps for programmes with these periods: each period_start, and
/// January 1 of every later year of the period (the starts of the annual and cumulative windows
/// the coverage API asks for).
pub fn rollup_starts(periods: &[(NaiveDate, NaiveDate)]) -> BTreeSet<NaiveDate> {
    let mut out = BTreeSet::new();
    for &(start, end) in periods {
        out.insert(start);
        for year in start.year() + 1..=end.year() {
            if let Some(d) = NaiveDate::from_ymd_opt(year, 1, 1) {
                out.insert(d);
            }
        }
    }
    out
}

/// Rebuilds the whole rollup (after bulk loads and programme edits), in the caller's
/// transaction.
pub fn rebuild_rollup(conn: &mut AnyConnection) -> QueryResult<()> {
    let periods: Vec<(NaiveDate, NaiveDate)> = programmes::table
        .select((programmes::period_start, programmes::period_end))
        .load(conn)?;
    diesel::delete(coverage_rollup::table).execute(conn)?;
    diesel::delete(coverage_rollup_since::table).execute(conn)?;
    for since in rollup_starts(&periods) {
        diesel::insert_into(coverage_rollup_since::table)
            .values(coverage_rollup_since::since.eq(since))
            .execute(conn)?;
    }
    let sql = ROLLUP_INSERT.replace("{filter}", "");
    match conn {
        AnyConnection::Sqlite(c) => diesel::sql_query(sql).execute(c),
        AnyConnection::Postgresql(c) => diesel::sql_query(sql).execute(c),
    }?;
    Ok(())
}

/// Groups touched by more than this many rows are rebuilt all at once.
const GROUPS_FOR_FULL_REBUILD: usize = 2000;

/// Recomputes the rollup rows of these (commune, establishment type) groups, in the caller's
/// transaction. Call after any write that changes an establishment's commune, type, opening or
/// closing date, or its counted inspection days — with the group it left as well as the one it
/// is in.
pub fn refresh_rollup_groups(
    conn: &mut AnyConnection,
    groups: &BTreeSet<Group>,
) -> QueryResult<()> {
    if groups.len() > GROUPS_FOR_FULL_REBUILD {
        return rebuild_rollup(conn);
    }
    let sql = ROLLUP_INSERT.replace("{filter}", "AND e.unit_id = ? AND e.establishment_type = ?");
    for (unit, kind) in groups {
        diesel::delete(
            coverage_rollup::table
                .filter(coverage_rollup::unit_id.eq(unit))
                .filter(coverage_rollup::establishment_type.eq(kind)),
        )
        .execute(conn)?;
        match conn {
            AnyConnection::Sqlite(c) => diesel::sql_query(&sql)
                .bind::<Text, _>(unit)
                .bind::<Text, _>(kind)
                .execute(c),
            AnyConnection::Postgresql(c) => diesel::sql_query(numbered_placeholders(&sql))
                .bind::<Text, _>(unit)
                .bind::<Text, _>(kind)
                .execute(c),
        }?;
    }
    Ok(())
}

/// A rollup group: a commune and an establishment type.
pub type Group = (String, EstablishmentType);

/// The rollup group (commune, type) of an establishment, if it exists.
pub fn group_of(conn: &mut AnyConnection, establishment_id: &str) -> QueryResult<Option<Group>> {
    establishments::table
        .filter(establishments::id.eq(establishment_id))
        .select((establishments::unit_id, establishments::establishment_type))
        .first(conn)
        .optional()
}

/// `?` placeholders as PostgreSQL's `$1, $2, …` (the SQL here has no `?` in literals).
fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(ch);
        }
    }
    out
}

impl CommuneTallies {
    /// Sums per child of the area: the commune itself under a province or commune, the
    /// province for the whole country.
    pub fn by_child(&self, area: &Area) -> BTreeMap<String, Tally> {
        let mut out: BTreeMap<String, Tally> = BTreeMap::new();
        for (commune, (province, t)) in &self.0 {
            let key = match area {
                Area::National => match province {
                    Some(p) => p.clone(),
                    None => continue,
                },
                Area::Province(_) | Area::Commune(_) => commune.clone(),
            };
            let e = out.entry(key).or_insert(Tally {
                in_scope: 0,
                inspected: 0,
            });
            e.in_scope += t.in_scope;
            e.inspected += t.inspected;
        }
        out
    }

    pub fn total(&self) -> Tally {
        let mut total = Tally {
            in_scope: 0,
            inspected: 0,
        };
        for (_, t) in self.0.values() {
            total.in_scope += t.in_scope;
            total.inspected += t.inspected;
        }
        total
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn counted_outcomes_parse_codes_and_fall_back_to_the_default() {
        assert_eq!(
            parse_counted(r#"["violations_found","no_violation","no_violation"]"#),
            vec![Outcome::NoViolation, Outcome::ViolationsFound]
        );
        assert_eq!(parse_counted(r#"["refused"]"#), vec![Outcome::Refused]);
        assert_eq!(parse_counted("[]"), DEFAULT_COUNTED_OUTCOMES.to_vec());
        assert_eq!(
            parse_counted(r#"["compliant","violations"]"#),
            DEFAULT_COUNTED_OUTCOMES.to_vec()
        );
        assert_eq!(parse_counted("not json"), DEFAULT_COUNTED_OUTCOMES.to_vec());
    }

    #[test]
    fn postgres_placeholders_are_numbered_in_order() {
        assert_eq!(
            numbered_placeholders("a = ? AND b <= ? OR c = ?"),
            "a = $1 AND b <= $2 OR c = $3"
        );
    }

    #[test]
    fn vietnam_day_is_utc_plus_seven() {
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(
            vietnam_day(at("2025-12-31 16:59:59")),
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()
        );
        assert_eq!(
            vietnam_day(at("2025-12-31 17:00:00")),
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
        );
    }

    #[test]
    fn the_rollup_keeps_each_programme_start_and_every_later_january_first() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let starts = rollup_starts(&[
            (d(2025, 7, 1), d(2027, 6, 30)),
            (d(2026, 1, 1), d(2026, 12, 31)),
        ]);
        assert_eq!(
            starts.into_iter().collect::<Vec<_>>(),
            vec![d(2025, 7, 1), d(2026, 1, 1), d(2027, 1, 1)]
        );
    }

    #[test]
    fn only_annual_and_cumulative_windows_use_the_rollup() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let w = |of, ot, inf, it| Window {
            operating_from: of,
            operating_to: ot,
            inspected_from: inf,
            inspected_to: it,
        };
        assert_eq!(
            rollup_kind(&w(d(1, 1), d(6, 1), d(1, 1), d(6, 1))),
            Some(RollupKind::Annual)
        );
        assert_eq!(
            rollup_kind(&w(d(6, 1), d(6, 1), d(1, 1), d(6, 1))),
            Some(RollupKind::Current)
        );
        assert_eq!(rollup_kind(&w(d(2, 1), d(6, 1), d(1, 1), d(6, 1))), None);
        assert_eq!(rollup_kind(&w(d(1, 1), d(6, 1), d(1, 1), d(5, 1))), None);
        assert_eq!(rollup_kind(&w(d(7, 1), d(6, 1), d(7, 1), d(6, 1))), None);
    }

    #[test]
    fn children_are_communes_or_provinces() {
        let t = |a, b| Tally {
            in_scope: a,
            inspected: b,
        };
        let mut m = BTreeMap::new();
        m.insert("c1".to_string(), (Some("p1".to_string()), t(3, 1)));
        m.insert("c2".to_string(), (Some("p1".to_string()), t(2, 2)));
        m.insert("c3".to_string(), (Some("p2".to_string()), t(5, 0)));
        let all = CommuneTallies(m);
        let national = all.by_child(&Area::National);
        assert_eq!(national["p1"], t(5, 3));
        assert_eq!(national["p2"], t(5, 0));
        let province = all.by_child(&Area::Province("p1".into()));
        assert_eq!(province.len(), 3);
        assert_eq!(province["c2"], t(2, 2));
        assert_eq!(all.total(), t(10, 3));
    }
}
