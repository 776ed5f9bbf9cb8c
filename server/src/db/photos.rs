//! Photo metadata; the bytes live in the photo store.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{photos, team_members, visit_photos, visit_revisions, visits};
use super::AnyConnection;
use crate::db::audit_chain::{self as audit, Kind, Who};

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

/// Which visits list each of `photo_ids`: (photo id, visit id, the visit's team id).
pub fn listings(
    conn: &mut AnyConnection,
    photo_ids: &[String],
) -> QueryResult<Vec<(String, String, String)>> {
    if photo_ids.is_empty() {
        return Ok(Vec::new());
    }
    visit_photos::table
        .inner_join(visits::table)
        .filter(visit_photos::photo_id.eq_any(photo_ids))
        .select((
            visit_photos::photo_id,
            visit_photos::visit_id,
            visits::team_id,
        ))
        .order((visit_photos::photo_id.asc(), visit_photos::visit_id.asc()))
        .load(conn)
}

/// Whether a photo from `user` may belong to `visit` of `team`: `user` is a member of the team
/// (whatever their role), or submitted a revision of the visit. A photo belongs to the account
/// and team that took it: nobody else can attach it, and no other team's visit makes it readable.
pub fn may_belong(
    conn: &mut AnyConnection,
    visit: &str,
    team: &str,
    user: &str,
) -> QueryResult<bool> {
    let member = diesel::select(diesel::dsl::exists(
        team_members::table
            .filter(team_members::team_id.eq(team))
            .filter(team_members::user_id.eq(user)),
    ))
    .get_result::<bool>(conn)?;
    if member {
        return Ok(true);
    }
    diesel::select(diesel::dsl::exists(
        visit_revisions::table
            .filter(visit_revisions::visit_id.eq(visit))
            .filter(visit_revisions::submitted_by.eq(user)),
    ))
    .get_result(conn)
}

/// The visits that own `photo`: those listing it that its uploader belongs to ([`may_belong`]).
/// Reading a photo requires its uploader's account or the right to read one of these; a visit
/// that lists someone else's photo (refused since, but possibly stored before) owns nothing.
pub fn owning_visits(conn: &mut AnyConnection, photo: &PhotoRow) -> QueryResult<Vec<String>> {
    let mut out = Vec::new();
    for (_, visit, team) in listings(conn, std::slice::from_ref(&photo.id))? {
        if may_belong(conn, &visit, &team, &photo.uploaded_by)? {
            out.push(visit);
        }
    }
    Ok(out)
}

/// Why a visit may not list a photo id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachRefusal {
    /// Another visit lists it already: a photo is evidence of one visit.
    InOtherVisit,
    /// The photo was uploaded by someone who does not belong to the visit's team.
    NotYours,
}

/// Checks that the visit `visit` of `team`, written by `author`, may list `photo_ids` (in the
/// writing transaction, before the links are stored): the first refused index and why.
/// Ids not yet uploaded may be listed (the phone uploads them after the visit) unless another
/// visit lists them; an upload is then checked against the visit ([`upload_refused`]).
pub fn attach_refused(
    conn: &mut AnyConnection,
    visit: &str,
    team: &str,
    author: &str,
    photo_ids: &[String],
) -> QueryResult<Option<(usize, AttachRefusal)>> {
    if photo_ids.is_empty() {
        return Ok(None);
    }
    let listed = listings(conn, photo_ids)?;
    let stored: Vec<(String, String)> = photos::table
        .filter(photos::id.eq_any(photo_ids))
        .select((photos::id, photos::uploaded_by))
        .load(conn)?;
    for (i, id) in photo_ids.iter().enumerate() {
        let here = listed.iter().filter(|(p, _, _)| p == id);
        if here.clone().any(|(_, v, _)| v != visit) {
            return Ok(Some((i, AttachRefusal::InOtherVisit)));
        }
        let already_listed = here.clone().any(|(_, v, _)| v == visit);
        if let Some((_, uploader)) = stored.iter().find(|(p, _)| p == id) {
            let ok =
                already_listed || uploader == author || may_belong(conn, visit, team, uploader)?;
            if !ok {
                return Ok(Some((i, AttachRefusal::NotYours)));
            }
        }
    }
    Ok(None)
}

/// Whether `uploader` may upload the photo `id`: refused when a visit that `uploader` does not
/// belong to ([`may_belong`]) already lists the id.
pub fn upload_refused(conn: &mut AnyConnection, id: &str, uploader: &str) -> QueryResult<bool> {
    for (_, visit, team) in listings(conn, &[id.to_string()])? {
        if !may_belong(conn, &visit, &team, uploader)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A visit listing a photo that does not belong to it (see [`owning_visits`]), for an operator
/// to review: stored before such links were refused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ForeignLink {
    pub visit_id: String,
    pub visit_team_id: String,
    pub photo_id: String,
    pub uploaded_by: String,
}

/// Every [`ForeignLink`], ordered by visit and photo.
pub fn foreign_links(conn: &mut AnyConnection) -> QueryResult<Vec<ForeignLink>> {
    let rows: Vec<(String, String, String, String)> = visit_photos::table
        .inner_join(visits::table)
        .inner_join(photos::table.on(photos::id.eq(visit_photos::photo_id)))
        .select((
            visit_photos::visit_id,
            visits::team_id,
            visit_photos::photo_id,
            photos::uploaded_by,
        ))
        .order((visit_photos::visit_id.asc(), visit_photos::photo_id.asc()))
        .load(conn)?;
    let mut out = Vec::new();
    for (visit_id, visit_team_id, photo_id, uploaded_by) in rows {
        if !may_belong(conn, &visit_id, &visit_team_id, &uploaded_by)? {
            out.push(ForeignLink {
                visit_id,
                visit_team_id,
                photo_id,
                uploaded_by,
            });
        }
    }
    Ok(out)
}
