//! Checklist templates (mẫu phiếu kiểm tra): versioned per establishment type; items are JSON.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use doi178_shared::establishment::EstablishmentType;

use super::schema::checklist_templates;
use super::AnyConnection;
use crate::db::audit_chain::{self as audit, Kind, Who};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = checklist_templates)]
pub struct TemplateRow {
    pub id: String,
    pub establishment_type: EstablishmentType,
    pub version: i32,
    pub title: String,
    pub items: String,
    pub valid_from: NaiveDate,
    pub created_at: NaiveDateTime,
    pub seq: i64,
}

/// Templates are reference data, visible to every signed-in user.
pub fn list(
    conn: &mut AnyConnection,
    establishment_type: Option<EstablishmentType>,
) -> QueryResult<Vec<TemplateRow>> {
    let mut query = checklist_templates::table
        .select(TemplateRow::as_select())
        .order((
            checklist_templates::establishment_type.asc(),
            checklist_templates::version.desc(),
        ))
        .into_boxed();
    if let Some(t) = establishment_type {
        query = query.filter(checklist_templates::establishment_type.eq(t));
    }
    query.load(conn)
}

pub fn get(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<TemplateRow>> {
    crate::on_conn!(conn, |c| {
        checklist_templates::table
            .filter(checklist_templates::id.eq(id))
            .select(TemplateRow::as_select())
            .first(c)
            .optional()
    })
}

pub fn latest_version(
    conn: &mut AnyConnection,
    establishment_type: EstablishmentType,
) -> QueryResult<Option<i32>> {
    checklist_templates::table
        .filter(checklist_templates::establishment_type.eq(establishment_type))
        .select(diesel::dsl::max(checklist_templates::version))
        .first(conn)
}

pub fn insert(conn: &mut AnyConnection, who: &Who, row: &TemplateRow) -> QueryResult<()> {
    let change = audit::begin_create(conn, Kind::ChecklistTemplate, &row.id)?;
    diesel::insert_into(checklist_templates::table)
        .values(row)
        .execute(conn)?;
    change.commit(conn, who)?;
    Ok(())
}

pub fn changed_since(
    conn: &mut AnyConnection,
    after: i64,
    up_to: i64,
    limit: i64,
) -> QueryResult<Vec<TemplateRow>> {
    checklist_templates::table
        .filter(checklist_templates::seq.gt(after))
        .filter(checklist_templates::seq.le(up_to))
        .order(checklist_templates::seq.asc())
        .limit(limit)
        .select(TemplateRow::as_select())
        .load(conn)
}
