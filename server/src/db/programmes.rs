//! Programmes and their targets (chương trình): data, never constants.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::programmes;
use super::AnyConnection;
use crate::db::audit_chain::{self as audit, Kind, Who};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize)]
#[diesel(table_name = programmes)]
pub struct ProgrammeRow {
    pub id: String,
    pub name: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub annual_min_share_bp: i32,
    pub end_share_bp: i32,
    pub types_in_scope: String,
    pub counted_outcomes: String,
    pub province_overrides: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<ProgrammeRow>> {
    programmes::table
        .select(ProgrammeRow::as_select())
        .order(programmes::period_start.asc())
        .load(conn)
}

pub fn insert(conn: &mut AnyConnection, who: &Who, row: &ProgrammeRow) -> QueryResult<()> {
    let change = audit::begin_create(conn, Kind::Programme, &row.id)?;
    diesel::insert_into(programmes::table)
        .values(row)
        .execute(conn)?;
    change.commit(conn, who)?;
    Ok(())
}
