//! Tips and complaints (tố giác, tin báo), scoped by the unit they concern.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::tips;
use super::AnyConnection;
use crate::audit::{self, Kind, Who};
use crate::auth::Actor;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize)]
#[diesel(table_name = tips)]
#[diesel(treat_none_as_null = true)]
pub struct TipRow {
    pub id: String,
    pub channel: String,
    pub received_at: NaiveDateTime,
    pub content: String,
    pub unit_id: String,
    pub establishment_id: Option<String>,
    pub reporter_contact: Option<String>,
    pub deadline: NaiveDate,
    pub status: String,
    pub handled_at: Option<NaiveDateTime>,
    pub assignment_id: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Tips are for staff and team leaders; inspectors learn of them only through assignments.
pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    status: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<TipRow>> {
    if actor.role == doi178_shared::Role::Inspector {
        return Ok(Vec::new());
    }
    let mut query = tips::table
        .select(TipRow::as_select())
        .order((tips::received_at.desc(), tips::id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some(units) = actor.unit_ids() {
        query = query.filter(tips::unit_id.eq_any(units));
    }
    if let Some(s) = status {
        query = query.filter(tips::status.eq(s.to_string()));
    }
    query.load(conn)
}

pub fn get(conn: &mut AnyConnection, actor: &Actor, id: Uuid) -> QueryResult<Option<TipRow>> {
    if actor.role == doi178_shared::Role::Inspector {
        return Ok(None);
    }
    let row: Option<TipRow> = tips::table
        .filter(tips::id.eq(id.to_string()))
        .select(TipRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.filter(|t| actor.sees_unit(&t.unit_id)))
}

pub fn insert(conn: &mut AnyConnection, who: &Who, row: &TipRow) -> QueryResult<()> {
    let change = audit::begin_create(conn, Kind::Tip, &row.id)?;
    diesel::insert_into(tips::table).values(row).execute(conn)?;
    change.commit(conn, who)?;
    Ok(())
}

pub fn update(conn: &mut AnyConnection, who: &Who, row: &TipRow) -> QueryResult<()> {
    let change = audit::begin(conn, Kind::Tip, &row.id)?;
    diesel::update(tips::table.filter(tips::id.eq(&row.id)))
        .set(row)
        .execute(conn)?;
    change.commit(conn, who)?;
    Ok(())
}
