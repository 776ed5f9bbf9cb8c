//! The `photos` table: the photos attached to visits on this phone (the files live under the
//! data directory), with the outbox state of each.

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::schema::photos::dsl as p;
use crate::error::FieldResult;
use crate::outbox::PhotoStatus;
use crate::types::PhotoItem;

#[derive(Queryable, Debug, Clone)]
pub(crate) struct PhotoRow {
    pub id: String,
    pub visit_id: String,
    pub seq: i32,
    pub file_name: String,
    pub mime: String,
    pub original_sha256: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub taken_at: Option<String>,
    pub status: String,
    pub server_status: Option<i32>,
    pub attempts: i32,
    pub last_error: Option<String>,
}

impl PhotoRow {
    pub fn item(&self) -> PhotoItem {
        PhotoItem {
            id: self.id.clone(),
            status: PhotoStatus::parse(&self.status).unwrap_or(PhotoStatus::Failed),
            sha256: self.sha256.clone(),
            original_sha256: self.original_sha256.clone(),
            size_bytes: self.size_bytes,
            server_status: self.server_status,
            attempts: self.attempts,
            last_error: self.last_error.clone(),
        }
    }
}

/// A photo to attach.
#[derive(Debug, Clone)]
pub(crate) struct NewPhoto {
    pub id: String,
    pub visit_id: String,
    pub seq: i32,
    pub file_name: String,
    pub mime: String,
    pub original_sha256: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub taken_at: Option<String>,
}

/// An upload in flight when the app died is sent again: `sending` becomes `queued`.
pub(crate) fn requeue_sending(c: &mut SqliteConnection) -> FieldResult<()> {
    diesel::update(p::photos.filter(p::status.eq(PhotoStatus::Sending.as_str())))
        .set(p::status.eq(PhotoStatus::Queued.as_str()))
        .execute(c)?;
    Ok(())
}

/// The photos of one visit, in the order they were attached.
pub(crate) fn of_visit(c: &mut SqliteConnection, visit: &str) -> FieldResult<Vec<PhotoRow>> {
    Ok(p::photos
        .filter(p::visit_id.eq(visit))
        .order(p::seq)
        .load::<PhotoRow>(c)?)
}

/// Records a new photo, queued, and returns it as stored.
pub(crate) fn insert(c: &mut SqliteConnection, n: &NewPhoto) -> FieldResult<PhotoRow> {
    diesel::insert_into(p::photos)
        .values((
            p::id.eq(&n.id),
            p::visit_id.eq(&n.visit_id),
            p::seq.eq(n.seq),
            p::file_name.eq(&n.file_name),
            p::mime.eq(&n.mime),
            p::original_sha256.eq(&n.original_sha256),
            p::sha256.eq(&n.sha256),
            p::size_bytes.eq(n.size_bytes),
            p::taken_at.eq(&n.taken_at),
            p::status.eq(PhotoStatus::Queued.as_str()),
        ))
        .execute(c)?;
    get(c, &n.id)
}

/// One photo (an error when there is none).
pub(crate) fn get(c: &mut SqliteConnection, id: &str) -> FieldResult<PhotoRow> {
    Ok(p::photos.find(id).first::<PhotoRow>(c)?)
}

/// Records a step of the upload: the new status, last error and server answer, one more attempt
/// when `attempt`.
pub(crate) fn record(
    c: &mut SqliteConnection,
    id: &str,
    status: PhotoStatus,
    server_status: Option<i32>,
    error: Option<String>,
    attempt: bool,
) -> FieldResult<()> {
    diesel::update(p::photos.find(id))
        .set((
            p::status.eq(status.as_str()),
            p::last_error.eq(error),
            p::server_status.eq(server_status),
        ))
        .execute(c)?;
    if attempt {
        diesel::update(p::photos.find(id))
            .set(p::attempts.eq(p::attempts + 1))
            .execute(c)?;
    }
    Ok(())
}
