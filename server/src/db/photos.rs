//! Photo metadata; the bytes live in the photo store.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::photos;
use super::AnyConnection;
use crate::audit::{self, Kind, Who};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = photos)]
#[diesel(treat_none_as_default_value = false)]
pub struct PhotoRow {
    pub id: String,
    /// SHA-256 of the bytes the phone sent (the idempotency check).
    pub upload_sha256: String,
    /// SHA-256 of the stored, re-encoded image.
    pub sha256: String,
    pub size_bytes: i64,
    pub width: i32,
    pub height: i32,
    pub thumb_width: i32,
    pub thumb_height: i32,
    pub taken_at: Option<NaiveDateTime>,
    pub uploaded_by: String,
    pub created_at: NaiveDateTime,
}

pub fn get(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<PhotoRow>> {
    crate::on_conn!(conn, |c| {
        photos::table
            .filter(photos::id.eq(id))
            .select(PhotoRow::as_select())
            .first(c)
            .optional()
    })
}

pub fn insert(conn: &mut AnyConnection, who: &Who, row: &PhotoRow) -> QueryResult<()> {
    let change = audit::begin_create(conn, Kind::Photo, &row.id)?;
    crate::on_conn!(&mut *conn, |c| diesel::insert_into(photos::table)
        .values(row)
        .execute(c))?;
    change.commit(conn, who)?;
    Ok(())
}
