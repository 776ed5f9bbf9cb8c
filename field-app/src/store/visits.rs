//! The `visits` table: the visits recorded on this phone (drafts and the outbox), with the
//! outbox state of each (see [`crate::outbox`]).

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::schema::visits::dsl as v;
use crate::error::FieldResult;
use crate::outbox::VisitStatus;
use crate::types::VisitDraft;

#[derive(Queryable, Debug, Clone)]
pub(crate) struct VisitRow {
    pub id: String,
    pub owner_user_id: String,
    pub establishment_id: String,
    pub status: String,
    _draft: String,
    pub input: Option<String>,
    _digest: Option<String>,
    pub distance_m: Option<f64>,
    pub created_at: String,
    pub submitted_at: Option<String>,
    pub acknowledged_at: Option<String>,
    pub server_status: Option<i32>,
    pub attempts: i32,
    pub last_error: Option<String>,
}

fn names(statuses: &[VisitStatus]) -> Vec<&'static str> {
    statuses.iter().map(|s| s.as_str()).collect()
}

/// A request in flight when the app died is sent again (idempotent PUTs): `sending` becomes
/// `queued`.
pub(crate) fn requeue_sending(c: &mut SqliteConnection) -> FieldResult<()> {
    diesel::update(v::visits.filter(v::status.eq(VisitStatus::Sending.as_str())))
        .set(v::status.eq(VisitStatus::Queued.as_str()))
        .execute(c)?;
    Ok(())
}

/// Visits of `user` still to be sent (queued, sending, evidence pending).
pub(crate) fn pending_of(c: &mut SqliteConnection, user: &str) -> FieldResult<u32> {
    let n: i64 = v::visits
        .filter(v::owner_user_id.eq(user))
        .filter(v::status.eq_any(names(&[
            VisitStatus::Queued,
            VisitStatus::Sending,
            VisitStatus::EvidencePending,
        ])))
        .count()
        .get_result(c)?;
    Ok(n as u32)
}

/// Visits recorded by other accounts than `user` that are not done.
pub(crate) fn unfinished_of_others(c: &mut SqliteConnection, user: &str) -> FieldResult<u32> {
    let n: i64 = v::visits
        .filter(v::owner_user_id.ne(user))
        .filter(v::status.ne(VisitStatus::Done.as_str()))
        .count()
        .get_result(c)?;
    Ok(n as u32)
}

/// (owner, status) of every visit.
pub(crate) fn owners_and_statuses(c: &mut SqliteConnection) -> FieldResult<Vec<(String, String)>> {
    Ok(v::visits.select((v::owner_user_id, v::status)).load(c)?)
}

/// Every submitted visit (all accounts), oldest first.
pub(crate) fn submitted(c: &mut SqliteConnection) -> FieldResult<Vec<VisitRow>> {
    Ok(v::visits
        .filter(v::status.ne(VisitStatus::Draft.as_str()))
        .order((v::submitted_at, v::id))
        .load(c)?)
}

/// The visits of `user` in one of `statuses`, oldest submission first.
pub(crate) fn of_user_in(
    c: &mut SqliteConnection,
    user: &str,
    statuses: &[VisitStatus],
) -> FieldResult<Vec<VisitRow>> {
    Ok(v::visits
        .filter(v::owner_user_id.eq(user))
        .filter(v::status.eq_any(names(statuses)))
        .order((v::submitted_at, v::id))
        .load(c)?)
}

/// The visits of one establishment recorded on this phone, newest first.
pub(crate) fn of_establishment(
    c: &mut SqliteConnection,
    establishment_id: &str,
) -> FieldResult<Vec<VisitRow>> {
    Ok(v::visits
        .filter(v::establishment_id.eq(establishment_id))
        .order(v::created_at.desc())
        .load(c)?)
}

/// One visit (an error when there is none).
pub(crate) fn get(c: &mut SqliteConnection, id: &str) -> FieldResult<VisitRow> {
    Ok(v::visits.find(id).first(c)?)
}

/// The draft (JSON) of every visit.
pub(crate) fn drafts(c: &mut SqliteConnection) -> FieldResult<Vec<String>> {
    Ok(v::visits.select(v::draft).load(c)?)
}

/// The draft (JSON) of one visit.
pub(crate) fn draft(c: &mut SqliteConnection, id: &str) -> FieldResult<Option<String>> {
    Ok(v::visits.find(id).select(v::draft).first(c).optional()?)
}

/// A new draft of `owner`.
pub(crate) fn insert_draft(
    c: &mut SqliteConnection,
    d: &VisitDraft,
    owner: &str,
    created_at: &str,
) -> FieldResult<()> {
    diesel::insert_into(v::visits)
        .values((
            v::id.eq(d.id.to_string()),
            v::owner_user_id.eq(owner),
            v::establishment_id.eq(d.establishment_id.to_string()),
            v::status.eq(VisitStatus::Draft.as_str()),
            v::draft.eq(serde_json::to_string(d)?),
            v::created_at.eq(created_at),
        ))
        .execute(c)?;
    Ok(())
}

/// Stores the changed draft (and its distance to the establishment).
pub(crate) fn save_draft(c: &mut SqliteConnection, d: &VisitDraft) -> FieldResult<()> {
    diesel::update(v::visits.find(d.id.to_string()))
        .set((
            v::draft.eq(serde_json::to_string(d)?),
            v::distance_m.eq(d.distance_m),
        ))
        .execute(c)?;
    Ok(())
}

/// Puts the draft in the outbox: its new status, the validated input to send and its digest.
pub(crate) fn submit(
    c: &mut SqliteConnection,
    d: &VisitDraft,
    input: &str,
    digest: &str,
    submitted_at: &str,
) -> FieldResult<()> {
    diesel::update(v::visits.find(d.id.to_string()))
        .set((
            v::status.eq(d.status.as_str()),
            v::draft.eq(serde_json::to_string(d)?),
            v::input.eq(input),
            v::digest.eq(digest),
            v::submitted_at.eq(submitted_at),
        ))
        .execute(c)?;
    Ok(())
}

/// Records a step of the push: the new status and last error, one more attempt when `attempt`,
/// and the server's answer with the time of acknowledgement when `server_status` is given.
pub(crate) fn record(
    c: &mut SqliteConnection,
    id: &str,
    status: VisitStatus,
    server_status: Option<i32>,
    error: Option<String>,
    attempt: bool,
    now: &str,
) -> FieldResult<()> {
    diesel::update(v::visits.find(id))
        .set((v::status.eq(status.as_str()), v::last_error.eq(error)))
        .execute(c)?;
    if attempt {
        diesel::update(v::visits.find(id))
            .set(v::attempts.eq(v::attempts + 1))
            .execute(c)?;
    }
    if let Some(code) = server_status {
        diesel::update(v::visits.find(id))
            .set((v::server_status.eq(code), v::acknowledged_at.eq(now)))
            .execute(c)?;
    }
    Ok(())
}

/// Sets the status and clears the last error.
pub(crate) fn set_status(
    c: &mut SqliteConnection,
    id: &str,
    status: VisitStatus,
) -> FieldResult<()> {
    diesel::update(v::visits.find(id))
        .set((
            v::status.eq(status.as_str()),
            v::last_error.eq(None::<String>),
        ))
        .execute(c)?;
    Ok(())
}

pub(crate) fn set_last_error(c: &mut SqliteConnection, id: &str, error: &str) -> FieldResult<()> {
    diesel::update(v::visits.find(id))
        .set(v::last_error.eq(error))
        .execute(c)?;
    Ok(())
}
