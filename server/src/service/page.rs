//! Pages of a list: one row more than the page is read; the answer carries an opaque cursor
//! (the last row's sort key and id) when there is more.

use crate::error::ApiError;
use doi178_shared::ProblemCode;

/// A page of a list read with one row more than `limit`: the rows to answer and, when that
/// extra row was there, the cursor of the last row answered (`cursor`).
pub fn page_of<T>(
    mut rows: Vec<T>,
    limit: usize,
    cursor: impl Fn(&T) -> Option<String>,
) -> (Vec<T>, Option<String>) {
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more {
        rows.last().and_then(cursor)
    } else {
        None
    };
    (rows, next)
}

/// The cursor of a page ordered by a text key (a name), then by id.
pub fn key_cursor(key: &str, id: &str) -> Option<String> {
    uuid::Uuid::parse_str(id)
        .ok()
        .map(|id| doi178_shared::pagination::PageCursor::encode(key, id))
}

/// The cursor of a page ordered by a time, newest first, then by id: the last item's time and id.
pub fn time_cursor(at: chrono::NaiveDateTime, id: &str) -> Option<String> {
    key_cursor(&at.format("%Y-%m-%dT%H:%M:%S%.f").to_string(), id)
}

/// Reads a [`time_cursor`]; a damaged one is a 400 naming `cursor`.
pub fn parse_time_cursor(cursor: &str) -> Result<(chrono::NaiveDateTime, String), ApiError> {
    let (at, id) = doi178_shared::pagination::PageCursor::decode(cursor)?;
    let at = chrono::NaiveDateTime::parse_from_str(&at, "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| {
        ApiError::bad_request(
            ProblemCode::Invalid,
            "cursor",
            "cursor is not valid; start again without it",
        )
    })?;
    Ok((at, id.to_string()))
}
