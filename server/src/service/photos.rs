//! Photos: who may read one, and reading it from the photo store (the API's photo routes and the
//! dashboard's both serve through [`read_photo`]).

use uuid::Uuid;

use crate::auth::Actor;
use crate::db::{self, photos::PhotoRow};
use crate::error::{ApiError, ApiResult};
use crate::storage::Variant;

/// 503 with `Retry-After`: the photo store (a directory or an object store) did not answer.
pub fn store_unavailable(detail: &str) -> ApiError {
    let mut e = ApiError::unavailable(detail);
    e.retry_after = Some(5);
    e
}

/// Whether the actor may see the photo: the uploader, or anyone who may see a visit that owns it
/// (a visit of the uploader's team or that the uploader recorded: `db::photos::owning_visits`;
/// another visit listing the id makes nothing readable).
fn may_see(c: &mut db::AnyConnection, actor: &Actor, row: &PhotoRow) -> ApiResult<bool> {
    if row.uploaded_by == actor.user_id.to_string() {
        return Ok(true);
    }
    for visit in db::photos::owning_visits(c, row)? {
        if let Ok(v) = Uuid::parse_str(&visit) {
            if db::visits::get(c, actor, v)?.is_some() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// The bytes of a stored photo (`variant`) if `actor` may see it (the uploader, or anyone who may
/// see a visit that owns it); otherwise "not found", the same as an unknown id. Blocking: call it
/// from `web::block`. The API's photo routes and the dashboard's both serve through this check.
pub fn read_photo(
    db: &db::Db,
    store: &dyn crate::storage::PhotoStore,
    actor: &Actor,
    id: Uuid,
    variant: Variant,
) -> ApiResult<Vec<u8>> {
    let allowed = db.read(|c| -> ApiResult<bool> {
        match db::photos::get(c, &id.to_string())? {
            Some(row) => may_see(c, actor, &row),
            None => Ok(false),
        }
    })?;
    if !allowed {
        return Err(ApiError::not_found("photo"));
    }
    store
        .get(id, variant)
        .map_err(|e| {
            tracing::error!(error = %e, "photo store");
            store_unavailable("photo storage is not available; try again")
        })?
        .ok_or_else(|| ApiError::not_found("photo"))
}
