//! Agencies that second members to teams (police, health, culture…). Reference data.

use diesel::prelude::*;
use doi178_shared::AgencyKind;
use serde::Serialize;

use super::schema::agencies;
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = agencies)]
pub struct AgencyRow {
    pub id: String,
    pub kind: AgencyKind,
    pub name: String,
    pub unit_id: Option<String>,
}

pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<AgencyRow>> {
    agencies::table
        .select(AgencyRow::as_select())
        .order(agencies::name.asc())
        .load(conn)
}

pub fn get(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<AgencyRow>> {
    agencies::table
        .filter(agencies::id.eq(id))
        .select(AgencyRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_all(conn: &mut AnyConnection, rows: &[AgencyRow]) -> QueryResult<usize> {
    crate::insert_rows!(conn, agencies::table, rows)
}
