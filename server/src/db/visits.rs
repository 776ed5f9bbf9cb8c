//! Visits (cuộc kiểm tra): the current state of each, every revision's body (immutable), the
//! violations of the current revision, and the photos each visit lists.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use doi178_shared::establishment::EstablishmentType;
use doi178_shared::visit::{Outcome, ReviewStatus};
use doi178_shared::Role;
use uuid::Uuid;

use super::schema::{
    establishments, photos, visit_photos, visit_revisions, visit_violations, visits,
};
use super::AnyConnection;
use crate::actor::Actor;
use crate::db::audit_chain::{self as audit, Kind, Who};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize)]
#[diesel(table_name = visits)]
#[diesel(treat_none_as_null = true)]
// `None` is bound as NULL (every column's default) rather than left out, so the INSERT is the
// same statement every time and SQLite's prepared statement is reused.
#[diesel(treat_none_as_default_value = false)]
pub struct VisitRow {
    pub id: String,
    pub revision: i32,
    pub establishment_id: String,
    pub team_id: String,
    pub assignment_id: Option<String>,
    pub submitted_by: String,
    pub started_at: NaiveDateTime,
    pub ended_at: NaiveDateTime,
    pub received_at: NaiveDateTime,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub accuracy_m: Option<f64>,
    pub distance_m: Option<f64>,
    pub gps_warning: Option<String>,
    pub template_id: String,
    pub template_version: i32,
    pub outcome: Outcome,
    pub minutes_no: Option<String>,
    pub follow_up_on: Option<NaiveDate>,
    pub violation_count: i32,
    pub total_fine_vnd: i64,
    pub review_status: ReviewStatus,
    pub review_comment: Option<String>,
    pub body: String,
    pub digest: String,
    pub original_digest: String,
    pub updated_at: NaiveDateTime,
    pub seq: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = visit_revisions)]
#[diesel(treat_none_as_default_value = false)]
pub struct RevisionRow {
    pub visit_id: String,
    pub revision: i32,
    pub body: String,
    pub digest: String,
    pub submitted_by: String,
    pub received_at: NaiveDateTime,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = visit_violations)]
pub struct ViolationRow {
    pub visit_id: String,
    pub idx: i32,
    pub code: String,
    pub description: String,
    pub legal_basis: String,
    pub proposed_fine_vnd: i64,
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub establishment_id: Option<String>,
    pub team_id: Option<String>,
    /// Keyset position: (started_at, id) of the last item of the previous page (newest first).
    pub before: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// Visibility: inspectors see their own teams' visits; everyone else the visits of
/// establishments in their jurisdiction.
pub fn visible(actor: &Actor, row: &VisitRow, establishment_unit: &str) -> bool {
    match actor.role {
        Role::Inspector => Uuid::parse_str(&row.team_id).is_ok_and(|t| actor.member_of(t)),
        _ => actor.sees_unit(establishment_unit),
    }
}

pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    filter: &Filter,
) -> QueryResult<Vec<VisitRow>> {
    let mut query = visits::table
        .inner_join(establishments::table)
        .select(VisitRow::as_select())
        .order((visits::started_at.desc(), visits::id.desc()))
        .limit(filter.limit)
        .into_boxed();
    match actor.role {
        Role::Inspector => query = query.filter(visits::team_id.eq_any(actor.team_ids())),
        _ => {
            if let Some(units) = actor.unit_ids() {
                query = query.filter(establishments::unit_id.eq_any(units));
            }
        }
    }
    if let Some(e) = &filter.establishment_id {
        query = query.filter(visits::establishment_id.eq(e.clone()));
    }
    if let Some(t) = &filter.team_id {
        query = query.filter(visits::team_id.eq(t.clone()));
    }
    if let Some((at, id)) = &filter.before {
        query = query.filter(
            visits::started_at
                .lt(*at)
                .or(visits::started_at.eq(*at).and(visits::id.lt(id.clone()))),
        );
    }
    query.load(conn)
}

/// Filter of [`export_page`]: the visits of a list export.
#[derive(Debug, Default, Clone)]
pub struct ExportFilter {
    /// Establishments in these units only (a checked unit's subtree).
    pub unit_ids: Option<Vec<String>>,
    pub establishment_type: Option<EstablishmentType>,
    /// `started_at` in `[from, to)` (UTC instants).
    pub started: Option<(NaiveDateTime, NaiveDateTime)>,
    /// Keyset position: (started_at, id) of the last row of the previous page (oldest first).
    pub after: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// One visit of an export, with its establishment.
#[derive(Debug, Clone, Queryable)]
pub struct ExportRow {
    pub id: String,
    pub started_at: NaiveDateTime,
    pub team_id: String,
    pub outcome: Outcome,
    pub minutes_no: Option<String>,
    pub follow_up_on: Option<NaiveDate>,
    pub violation_count: i32,
    pub total_fine_vnd: i64,
    pub review_status: ReviewStatus,
    pub establishment_id: String,
    pub establishment_name: String,
    pub establishment_type: EstablishmentType,
    pub unit_id: String,
    pub address: String,
}

/// A page of visits the caller may see (the same scoping as [`list`]), oldest first.
pub fn export_page(
    conn: &mut AnyConnection,
    actor: &Actor,
    filter: &ExportFilter,
) -> QueryResult<Vec<ExportRow>> {
    let mut query = visits::table
        .inner_join(establishments::table)
        .select((
            visits::id,
            visits::started_at,
            visits::team_id,
            visits::outcome,
            visits::minutes_no,
            visits::follow_up_on,
            visits::violation_count,
            visits::total_fine_vnd,
            visits::review_status,
            establishments::id,
            establishments::name,
            establishments::establishment_type,
            establishments::unit_id,
            establishments::address,
        ))
        .order((visits::started_at.asc(), visits::id.asc()))
        .limit(filter.limit)
        .into_boxed();
    match actor.role {
        Role::Inspector => query = query.filter(visits::team_id.eq_any(actor.team_ids())),
        _ => {
            if let Some(units) = actor.unit_ids() {
                query = query.filter(establishments::unit_id.eq_any(units));
            }
        }
    }
    if let Some(units) = &filter.unit_ids {
        query = query.filter(establishments::unit_id.eq_any(units.clone()));
    }
    if let Some(t) = &filter.establishment_type {
        query = query.filter(establishments::establishment_type.eq(*t));
    }
    if let Some((from, to)) = filter.started {
        query = query.filter(visits::started_at.ge(from).and(visits::started_at.lt(to)));
    }
    if let Some((at, id)) = &filter.after {
        query = query.filter(
            visits::started_at
                .gt(*at)
                .or(visits::started_at.eq(*at).and(visits::id.gt(id.clone()))),
        );
    }
    query.load(conn)
}

pub fn get(conn: &mut AnyConnection, actor: &Actor, id: Uuid) -> QueryResult<Option<VisitRow>> {
    let row: Option<(VisitRow, String)> = visits::table
        .inner_join(establishments::table)
        .filter(visits::id.eq(id.to_string()))
        .select((VisitRow::as_select(), establishments::unit_id))
        .first(conn)
        .optional()?;
    Ok(row
        .filter(|(v, unit)| visible(actor, v, unit))
        .map(|(v, _)| v))
}

pub fn get_unscoped(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<VisitRow>> {
    crate::on_conn!(conn, |c| {
        visits::table
            .filter(visits::id.eq(id))
            .select(VisitRow::as_select())
            .first(c)
            .optional()
    })
}

pub fn revisions(conn: &mut AnyConnection, id: &str) -> QueryResult<Vec<RevisionRow>> {
    visit_revisions::table
        .filter(visit_revisions::visit_id.eq(id))
        .order(visit_revisions::revision.asc())
        .select(RevisionRow::as_select())
        .load(conn)
}

pub fn violations(conn: &mut AnyConnection, id: &str) -> QueryResult<Vec<ViolationRow>> {
    visit_violations::table
        .filter(visit_violations::visit_id.eq(id))
        .order(visit_violations::idx.asc())
        .select(ViolationRow::as_select())
        .load(conn)
}

/// Stores a new visit or a new revision of one: current state, the revision body, its
/// violations and photo links, all in the caller's transaction.
pub fn store(
    conn: &mut AnyConnection,
    who: &Who,
    row: &VisitRow,
    revision: &RevisionRow,
    violations: &[ViolationRow],
    photo_ids: &[String],
    is_new: bool,
) -> QueryResult<()> {
    let change = if is_new {
        audit::begin_create(conn, Kind::Visit, &row.id)?
    } else {
        audit::begin(conn, Kind::Visit, &row.id)?
    };
    if is_new {
        crate::on_conn!(&mut *conn, |c| diesel::insert_into(visits::table)
            .values(row)
            .execute(c))?;
    } else {
        diesel::update(visits::table.filter(visits::id.eq(&row.id)))
            .set(row)
            .execute(conn)?;
        diesel::delete(visit_violations::table.filter(visit_violations::visit_id.eq(&row.id)))
            .execute(conn)?;
        diesel::delete(visit_photos::table.filter(visit_photos::visit_id.eq(&row.id)))
            .execute(conn)?;
    }
    crate::on_conn!(&mut *conn, |c| diesel::insert_into(visit_revisions::table)
        .values(revision)
        .execute(c))?;
    if !violations.is_empty() {
        crate::insert_rows!(conn, visit_violations::table, violations)?;
    }
    let links: Vec<_> = photo_ids
        .iter()
        .map(|p| {
            (
                visit_photos::visit_id.eq(row.id.clone()),
                visit_photos::photo_id.eq(p.clone()),
            )
        })
        .collect();
    if !links.is_empty() {
        crate::insert_rows!(conn, visit_photos::table, &links)?;
    }
    change.commit(conn, who)?;
    Ok(())
}

pub fn set_review(
    conn: &mut AnyConnection,
    who: &Who,
    id: &str,
    status: ReviewStatus,
    comment: Option<&str>,
    seq: i64,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let change = audit::begin(conn, Kind::Visit, id)?;
    diesel::update(visits::table.filter(visits::id.eq(id)))
        .set((
            visits::review_status.eq(status),
            visits::review_comment.eq(comment),
            visits::seq.eq(seq),
            visits::updated_at.eq(now),
        ))
        .execute(conn)?;
    change.commit(conn, who)?;
    Ok(())
}

/// Photo ids a visit lists, each with whether it has arrived.
pub fn photo_status(conn: &mut AnyConnection, id: &str) -> QueryResult<Vec<(String, bool)>> {
    crate::on_conn!(conn, |c| {
        let rows: Vec<(String, Option<String>)> = visit_photos::table
            .left_join(photos::table.on(photos::id.eq(visit_photos::photo_id)))
            .filter(visit_photos::visit_id.eq(id))
            .select((visit_photos::photo_id, photos::id.nullable()))
            .order(visit_photos::photo_id.asc())
            .load(c)?;
        Ok(rows
            .into_iter()
            .map(|(p, got)| (p, got.is_some()))
            .collect())
    })
}

/// [`photo_status`] of many visits at once (a sync page), by visit id; a visit listing no
/// photo has no entry.
pub fn photo_status_many(
    conn: &mut AnyConnection,
    ids: &[&str],
) -> QueryResult<std::collections::HashMap<String, Vec<(String, bool)>>> {
    let mut out: std::collections::HashMap<String, Vec<(String, bool)>> =
        std::collections::HashMap::new();
    // Bounded IN lists (SQLite's default limit on bound parameters is generous, but a page of
    // 500 ids is one statement either way).
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String, Option<String>)> = visit_photos::table
            .left_join(photos::table.on(photos::id.eq(visit_photos::photo_id)))
            .filter(visit_photos::visit_id.eq_any(chunk))
            .select((
                visit_photos::visit_id,
                visit_photos::photo_id,
                photos::id.nullable(),
            ))
            .order((visit_photos::visit_id.asc(), visit_photos::photo_id.asc()))
            .load(conn)?;
        for (visit, photo, got) in rows {
            out.entry(visit).or_default().push((photo, got.is_some()));
        }
    }
    Ok(out)
}

pub fn changed_since(
    conn: &mut AnyConnection,
    actor: &Actor,
    after: i64,
    up_to: i64,
    limit: i64,
) -> QueryResult<Vec<VisitRow>> {
    visits::table
        .filter(visits::team_id.eq_any(actor.team_ids()))
        .filter(visits::seq.gt(after))
        .filter(visits::seq.le(up_to))
        .order(visits::seq.asc())
        .limit(limit)
        .select(VisitRow::as_select())
        .load(conn)
}

/// Visits of `teams` in review status `status` (`submitted`: waiting for the leaders' review;
/// `correction_requested`: sent back to the inspectors), oldest received first, within what
/// `actor` may see (the same scope as `list`).
pub fn in_review_status(
    conn: &mut AnyConnection,
    actor: &Actor,
    teams: &[String],
    status: ReviewStatus,
    limit: i64,
) -> QueryResult<Vec<VisitRow>> {
    let mut query = visits::table
        .inner_join(establishments::table)
        .select(VisitRow::as_select())
        .filter(visits::review_status.eq(status))
        .filter(visits::team_id.eq_any(teams.to_vec()))
        .order((visits::received_at.asc(), visits::id.asc()))
        .limit(limit)
        .into_boxed();
    match actor.role {
        Role::Inspector => query = query.filter(visits::team_id.eq_any(actor.team_ids())),
        _ => {
            if let Some(units) = actor.unit_ids() {
                query = query.filter(establishments::unit_id.eq_any(units));
            }
        }
    }
    query.load(conn)
}
