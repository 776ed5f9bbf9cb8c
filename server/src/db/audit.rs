//! SQL of the audit log: the chain lock, the chain head, appends, the ordered walk, and the live
//! rows whose digests the entries record. The rules (what is hashed, how) are in `crate::db::audit_chain`.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use super::schema::{
    assignment_establishments, assignments, audit_log, checklist_templates, establishments, photos,
    programmes, team_members, teams, tips, users, visits,
};
use super::AnyConnection;
use crate::db::audit_chain::Kind;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
#[diesel(treat_none_as_default_value = false)]
pub struct AuditRow {
    pub seq: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub actor_username: String,
    pub action: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub before_digest: Option<String>,
    pub after_digest: Option<String>,
    pub summary: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// Serialises appends so the chain stays linear. PostgreSQL: the row lock on the change counter,
/// held to commit; it is the same lock `next_seq` takes, so a transaction that writes rows and
/// takes change numbers never waits for it while holding something another one needs first.
/// SQLite: writers are already one at a time (`Db::write`'s lock and SQLite's write lock).
pub fn lock_chain(conn: &mut AnyConnection) -> QueryResult<()> {
    if let AnyConnection::Postgresql(c) = conn {
        use super::schema::sync_counter::dsl::*;
        // A typed SELECT: diesel keeps its prepared statement (raw SQL is prepared every time).
        sync_counter
            .filter(id.eq(1))
            .select(value)
            .for_update()
            .get_result::<i64>(c)?;
    }
    Ok(())
}

/// Sequence number and hash of the last entry, if any. Call with the chain locked.
pub fn head(conn: &mut AnyConnection) -> QueryResult<Option<(i64, String)>> {
    crate::on_conn!(conn, |c| {
        audit_log::table
            .select((audit_log::seq, audit_log::hash))
            .order(audit_log::seq.desc())
            .first(c)
            .optional()
    })
}

pub fn insert(conn: &mut AnyConnection, row: &AuditRow) -> QueryResult<()> {
    crate::on_conn!(conn, |c| diesel::insert_into(audit_log::table)
        .values(row)
        .execute(c))?;
    Ok(())
}

/// Up to `limit` entries after `after`, in sequence order.
pub fn page(conn: &mut AnyConnection, after: i64, limit: i64) -> QueryResult<Vec<AuditRow>> {
    audit_log::table
        .filter(audit_log::seq.gt(after))
        .order(audit_log::seq.asc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)
}

fn json<T: serde::Serialize>(row: &T) -> QueryResult<Value> {
    serde_json::to_value(row).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
}

fn keyed<T: serde::Serialize>(
    rows: Vec<T>,
    id: impl Fn(&T) -> String,
) -> QueryResult<BTreeMap<String, Value>> {
    rows.into_iter().map(|r| Ok((id(&r), json(&r)?))).collect()
}

/// One live row as [`entities`] gives it. Visits and photos, the rows written most often, are
/// read by primary key (a statement SQLite keeps prepared; `eq_any` is compiled every time).
pub fn entity(conn: &mut AnyConnection, kind: Kind, id: &str) -> QueryResult<Option<Value>> {
    match kind {
        Kind::Visit => super::visits::get_unscoped(conn, id)?
            .map(|r| json(&r))
            .transpose(),
        Kind::Photo => super::photos::get(conn, id)?.map(|r| json(&r)).transpose(),
        _ => Ok(entities(conn, kind, &[id.to_string()])?.remove(id)),
    }
}

/// The live rows of `ids` (of one kind) as JSON, by id; ids without a row are absent. An
/// assignment's JSON also lists its establishments (`establishment_ids`); a team member's id is
/// `team_id/user_id`.
pub fn entities(
    conn: &mut AnyConnection,
    kind: Kind,
    ids: &[String],
) -> QueryResult<BTreeMap<String, Value>> {
    use super::assignments::AssignmentRow;
    use super::establishments::EstablishmentRow;
    use super::photos::PhotoRow;
    use super::programmes::ProgrammeRow;
    use super::teams::{MemberRow, TeamRow};
    use super::templates::TemplateRow;
    use super::tips::TipRow;
    use super::users::UserRow;
    use super::visits::VisitRow;
    let ids = ids.to_vec();
    match kind {
        Kind::Visit => keyed(
            visits::table
                .filter(visits::id.eq_any(ids))
                .select(VisitRow::as_select())
                .load(conn)?,
            |r| r.id.clone(),
        ),
        Kind::Photo => keyed(
            photos::table
                .filter(photos::id.eq_any(ids))
                .select(PhotoRow::as_select())
                .load(conn)?,
            |r| r.id.clone(),
        ),
        Kind::Establishment => keyed(
            establishments::table
                .filter(establishments::id.eq_any(ids))
                .select(EstablishmentRow::as_select())
                .load(conn)?,
            |r| r.id.clone(),
        ),
        Kind::Tip => keyed(
            tips::table
                .filter(tips::id.eq_any(ids))
                .select(TipRow::as_select())
                .load(conn)?,
            |r| r.id.clone(),
        ),
        Kind::Team => keyed(
            teams::table
                .filter(teams::id.eq_any(ids))
                .select(TeamRow::as_select())
                .load(conn)?,
            |r| r.id.clone(),
        ),
        Kind::User => keyed(
            users::table
                .filter(users::id.eq_any(ids))
                .select(UserRow::as_select())
                .load(conn)?,
            |r| r.id.clone(),
        ),
        Kind::Programme => keyed(
            programmes::table
                .filter(programmes::id.eq_any(ids))
                .select(ProgrammeRow::as_select())
                .load(conn)?,
            |r| r.id.clone(),
        ),
        Kind::ChecklistTemplate => keyed(
            checklist_templates::table
                .filter(checklist_templates::id.eq_any(ids))
                .select(TemplateRow::as_select())
                .load(conn)?,
            |r| r.id.clone(),
        ),
        Kind::TeamMember => {
            let mut out = BTreeMap::new();
            for id in ids {
                let Some((team, user)) = id.split_once('/') else {
                    continue;
                };
                let row: Option<MemberRow> = team_members::table
                    .filter(team_members::team_id.eq(team))
                    .filter(team_members::user_id.eq(user))
                    .select(MemberRow::as_select())
                    .first(conn)
                    .optional()?;
                if let Some(row) = row {
                    out.insert(id, json(&row)?);
                }
            }
            Ok(out)
        }
        Kind::Assignment => {
            let rows: Vec<AssignmentRow> = assignments::table
                .filter(assignments::id.eq_any(ids.clone()))
                .select(AssignmentRow::as_select())
                .load(conn)?;
            let links: Vec<(String, String)> = assignment_establishments::table
                .filter(assignment_establishments::assignment_id.eq_any(ids))
                .select((
                    assignment_establishments::assignment_id,
                    assignment_establishments::establishment_id,
                ))
                .load(conn)?;
            let mut linked: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (a, e) in links {
                linked.entry(a).or_default().push(e);
            }
            let mut out = BTreeMap::new();
            for row in rows {
                let mut v = json(&row)?;
                let mut est = linked.remove(&row.id).unwrap_or_default();
                est.sort();
                if let Value::Object(map) = &mut v {
                    map.insert("establishment_ids".into(), Value::from(est));
                }
                out.insert(row.id, v);
            }
            Ok(out)
        }
    }
}
