//! What the planner needs to know of each candidate establishment: its last counted inspection,
//! prior violations and open tips, read with one grouped query each over the team's units.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::dsl::{count_star, max, sum};
use diesel::prelude::*;

use super::establishments::EstablishmentRow;
use super::schema::{
    assignment_establishments, assignments, establishments, inspection_days, tips, visits,
};
use super::AnyConnection;

/// One establishment the team could inspect, with the facts the score is made of.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub establishment: EstablishmentRow,
    /// Day of the last counted inspection, if any.
    pub last_inspected_on: Option<NaiveDate>,
    /// Violations recorded in visits that were not rejected in review.
    pub prior_violations: i64,
    /// Tips about it that are not handled yet.
    pub open_tips: i64,
}

/// Operating establishments of the given types in `units`, except those already in an open
/// (draft or released) assignment of `team_id`.
pub fn candidates(
    conn: &mut AnyConnection,
    units: &[String],
    types: &[String],
    team_id: &str,
) -> QueryResult<Vec<Candidate>> {
    let planned = assignment_establishments::table
        .inner_join(assignments::table)
        .filter(assignments::team_id.eq(team_id.to_string()))
        .filter(assignments::status.eq_any(["draft", "released"]))
        .select(assignment_establishments::establishment_id);
    let rows: Vec<EstablishmentRow> = establishments::table
        .filter(establishments::unit_id.eq_any(units))
        .filter(establishments::establishment_type.eq_any(types))
        .filter(establishments::status.eq("operating"))
        .filter(establishments::id.ne_all(planned))
        .order((establishments::name.asc(), establishments::id.asc()))
        .select(EstablishmentRow::as_select())
        .load(conn)?;

    let last: HashMap<String, NaiveDate> = inspection_days::table
        .inner_join(establishments::table)
        .filter(establishments::unit_id.eq_any(units))
        .group_by(inspection_days::establishment_id)
        .select((inspection_days::establishment_id, max(inspection_days::day)))
        .load::<(String, Option<NaiveDate>)>(conn)?
        .into_iter()
        .filter_map(|(id, day)| day.map(|d| (id, d)))
        .collect();
    let violations: HashMap<String, i64> = visits::table
        .inner_join(establishments::table)
        .filter(establishments::unit_id.eq_any(units))
        .filter(visits::review_status.ne("rejected"))
        .filter(visits::violation_count.gt(0))
        .group_by(visits::establishment_id)
        .select((visits::establishment_id, sum(visits::violation_count)))
        .load::<(String, Option<i64>)>(conn)?
        .into_iter()
        .map(|(id, n)| (id, n.unwrap_or(0)))
        .collect();
    let open_tips: HashMap<String, i64> = tips::table
        .filter(tips::unit_id.eq_any(units))
        .filter(tips::status.ne("handled"))
        .filter(tips::establishment_id.is_not_null())
        .group_by(tips::establishment_id)
        .select((tips::establishment_id, count_star()))
        .load::<(Option<String>, i64)>(conn)?
        .into_iter()
        .filter_map(|(id, n)| id.map(|id| (id, n)))
        .collect();

    Ok(rows
        .into_iter()
        .map(|e| Candidate {
            last_inspected_on: last.get(&e.id).copied(),
            prior_violations: violations.get(&e.id).copied().unwrap_or(0),
            open_tips: open_tips.get(&e.id).copied().unwrap_or(0),
            establishment: e,
        })
        .collect())
}
