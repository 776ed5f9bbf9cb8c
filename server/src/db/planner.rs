//! What the planner needs to know of each candidate establishment: its last counted inspection
//! and prior violations (from `establishment_visit_summary`, kept with every visit write) and
//! open tips, read with one query each over the team's units.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::establishments::EstablishmentRow;
use super::schema::{
    assignment_establishments, assignments, establishment_visit_summary, establishments, tips,
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
    // The team's open assignments are few: read them once and leave them out here (a
    // `NOT IN (subquery)` is a nested loop per candidate on PostgreSQL).
    let planned: HashSet<String> = assignment_establishments::table
        .inner_join(assignments::table)
        .filter(assignments::team_id.eq(team_id.to_string()))
        .filter(assignments::status.eq_any(["draft", "released"]))
        .select(assignment_establishments::establishment_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let rows: Vec<EstablishmentRow> = establishments::table
        .filter(establishments::unit_id.eq_any(units))
        .filter(establishments::establishment_type.eq_any(types))
        .filter(establishments::status.eq("operating"))
        .order((establishments::name.asc(), establishments::id.asc()))
        .select(EstablishmentRow::as_select())
        .load::<EstablishmentRow>(conn)?
        .into_iter()
        .filter(|e| !planned.contains(&e.id))
        .collect();

    // Last counted inspection and prior violations, kept per establishment with every visit
    // write (`establishment_visit_summary`): no pass over the visits.
    let facts: HashMap<String, (Option<NaiveDate>, i64)> = establishment_visit_summary::table
        .inner_join(establishments::table)
        .filter(establishments::unit_id.eq_any(units))
        .select((
            establishment_visit_summary::establishment_id,
            establishment_visit_summary::last_inspected_on,
            establishment_visit_summary::prior_violations,
        ))
        .load::<(String, Option<NaiveDate>, i64)>(conn)?
        .into_iter()
        .map(|(id, last, n)| (id, (last, n)))
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
            last_inspected_on: facts.get(&e.id).and_then(|f| f.0),
            prior_violations: facts.get(&e.id).map_or(0, |f| f.1),
            open_tips: open_tips.get(&e.id).copied().unwrap_or(0),
            establishment: e,
        })
        .collect())
}
