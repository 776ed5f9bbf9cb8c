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

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text};
use doi178_shared::coverage::{is_counted, Tally, DEFAULT_COUNTED_OUTCOMES};
use doi178_shared::establishment::EstablishmentType;
use doi178_shared::visit::{Outcome, ReviewStatus};

use super::schema::{inspection_days, programmes, visits};
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
    let stored: Option<String> = programmes::table
        .filter(programmes::period_start.le(today))
        .filter(programmes::period_end.ge(today))
        .order(programmes::period_start.desc())
        .select(programmes::counted_outcomes)
        .first(conn)
        .optional()?;
    Ok(stored
        .map(|s| parse_counted(&s))
        .unwrap_or_else(|| DEFAULT_COUNTED_OUTCOMES.to_vec()))
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
    let rows: Vec<(NaiveDateTime, String, String)> = visits::table
        .filter(visits::establishment_id.eq(establishment_id))
        .select((visits::started_at, visits::outcome, visits::review_status))
        .load(conn)?;
    let mut days: BTreeMap<NaiveDate, i32> = BTreeMap::new();
    for (started_at, outcome, review) in rows {
        let (Ok(outcome), Ok(review)) = (Outcome::parse(&outcome), ReviewStatus::parse(&review))
        else {
            continue;
        };
        if is_counted(outcome, review, counted) {
            *days.entry(vietnam_day(started_at)).or_default() += 1;
        }
    }
    diesel::delete(
        inspection_days::table.filter(inspection_days::establishment_id.eq(establishment_id)),
    )
    .execute(conn)?;
    for (day, n) in days {
        diesel::insert_into(inspection_days::table)
            .values((
                inspection_days::establishment_id.eq(establishment_id),
                inspection_days::day.eq(day),
                inspection_days::visits.eq(n),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Rebuilds the whole table from the visits in one statement per backend (bulk loads).
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
    match conn {
        AnyConnection::Sqlite(c) => {
            diesel::sql_query(sql("date(datetime(started_at, '+7 hours'))")).execute(c)
        }
        AnyConnection::Postgresql(c) => {
            diesel::sql_query(sql("CAST(started_at + INTERVAL '7 hours' AS DATE)")).execute(c)
        }
    }
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
    row: &super::programmes::ProgrammeRow,
) -> QueryResult<usize> {
    diesel::update(programmes::table.filter(programmes::id.eq(&row.id)))
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
        .execute(conn)
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

/// One GROUP BY over the establishments of `area` (joined to their commune), counting those in
/// scope and, with an EXISTS probe on `inspection_days` (primary key `(establishment_id, day)`),
/// those inspected.
pub fn tallies(
    conn: &mut AnyConnection,
    area: &Area,
    types: &[EstablishmentType],
    window: &Window,
) -> QueryResult<CommuneTallies> {
    let types: BTreeSet<&str> = types.iter().map(|t| t.as_str()).collect();
    if types.is_empty() {
        return Ok(CommuneTallies::default());
    }
    // Type codes come from a closed list of identifiers, never from user input.
    let types = types
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let (area_filter, area_id) = match area {
        Area::National => ("", None),
        Area::Province(id) => ("AND u.parent_id = ? ", Some(id.as_str())),
        Area::Commune(id) => ("AND e.unit_id = ? ", Some(id.as_str())),
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
         {area_filter}GROUP BY u.id, u.parent_id"
    );
    macro_rules! run {
        ($c:expr, $sql:expr) => {{
            let q = diesel::sql_query($sql)
                .bind::<Date, _>(window.inspected_from)
                .bind::<Date, _>(window.inspected_to)
                .bind::<Date, _>(window.operating_to)
                .bind::<Date, _>(window.operating_from);
            match area_id {
                Some(id) => q.bind::<Text, _>(id).load::<CommuneCount>($c),
                None => q.load::<CommuneCount>($c),
            }
        }};
    }
    let rows = match conn {
        AnyConnection::Sqlite(c) => run!(c, sql),
        AnyConnection::Postgresql(c) => run!(c, numbered_placeholders(&sql)),
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
