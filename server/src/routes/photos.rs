//! Photos: idempotent upload by the phone-generated id with an RFC 9530 `Content-Digest`, and
//! download only for the uploader and users who may see the visit that owns the photo (see
//! `db::photos::owning_visits`).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use doi178_shared::photo::{parse_content_digest, Sha256Digest, MAX_PHOTO_BYTES};
use doi178_shared::ProblemCode;
use doi178_shared::Role;
use serde::Serialize;

use crate::auth::Actor;
use crate::clock::now;
use crate::db::audit_chain::Who;
use crate::db::{self, photos::PhotoRow};
use crate::error::{ApiError, ApiResult};
use crate::extract::parse_id;
use crate::extract::read_limited;
use crate::photos::{process, PhotoError};
use crate::service::photos::{read_photo, store_unavailable};
use crate::state::AppState;
use crate::storage::Variant;

#[derive(Serialize, utoipa::ToSchema)]
pub struct PhotoView {
    pub id: String,
    /// SHA-256 (hex) of the bytes uploaded.
    pub upload_sha256: String,
    /// SHA-256 (hex) of the stored, re-encoded JPEG.
    pub sha256: String,
    pub size_bytes: i64,
    pub width: i32,
    pub height: i32,
    pub taken_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl From<PhotoRow> for PhotoView {
    fn from(p: PhotoRow) -> Self {
        PhotoView {
            id: p.id,
            upload_sha256: p.upload_sha256,
            sha256: p.sha256,
            size_bytes: p.size_bytes,
            width: p.width,
            height: p.height,
            taken_at: p.taken_at,
            created_at: p.created_at,
        }
    }
}

/// Uploads a photo (JPEG or PNG bytes) under the id the phone generated. Requires
/// `Content-Digest: sha-256=:<base64>:`. The same bytes again: 200; other bytes: 409.
#[utoipa::path(put, path = "/api/v1/photos/{id}", tag = "photos", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Content-Digest" = String, Header, description = "RFC 9530, e.g. sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"),
           ("X-Taken-At" = Option<String>, Header, description = "RFC 3339 time the photo was taken")),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 201, body = PhotoView), (status = 200, body = PhotoView), (status = 409, body = crate::error::Problem),
              (status = 413, body = crate::error::Problem), (status = 415, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn put(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "photo")?;
    actor.require(&[Role::Inspector, Role::TeamLeader], "upload photos")?;
    let mime = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "image/jpeg" && mime != "image/png" {
        return Err(ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemCode::UnsupportedMediaType,
            "send the photo as image/jpeg or image/png",
        )
        .field("Content-Type"));
    }
    let digest_header = req
        .headers()
        .get("content-digest")
        .ok_or_else(|| {
            ApiError::bad_request(
                ProblemCode::Required,
                "Content-Digest",
                "send Content-Digest: sha-256=:<base64 of the SHA-256 of the body>:",
            )
        })?
        .to_str()
        .map_err(|_| {
            ApiError::bad_request(
                ProblemCode::Invalid,
                "Content-Digest",
                "Content-Digest is not valid text",
            )
        })?;
    let claimed = parse_content_digest(digest_header)
        .map_err(|e| ApiError::bad_request(e.code, "Content-Digest", e.message))?;
    let taken_at = match req.headers().get("x-taken-at") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|d| d.with_timezone(&Utc).naive_utc())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        ProblemCode::Invalid,
                        "X-Taken-At",
                        "X-Taken-At must be an RFC 3339 time",
                    )
                })?,
        ),
        None => None,
    };
    let mut payload = payload.into_inner();
    let body = read_limited(&mut payload, MAX_PHOTO_BYTES).await?;
    let actual = Sha256Digest::of(&body);
    if actual != claimed {
        return Err(ApiError::bad_request(
            ProblemCode::DigestMismatch,
            "Content-Digest",
            "the body does not match Content-Digest; the upload was damaged, send it again",
        ));
    }
    let upload_hex = actual.to_hex();

    let me = actor.user_id.to_string();

    // Already stored? Decided before any image work (a replay costs one read).
    let id_s = id.to_string();
    let lookup = id_s.clone();
    let stored = state
        .db
        .read_async(move |c| db::photos::get(c, &lookup).map_err(ApiError::from))
        .await?;
    let result = match stored {
        Some(row) => Stored::Already(row),
        None => {
            // Decode and re-encode, then the files, on a blocking thread; then the row, in the
            // next group commit.
            let store = state.photos.clone();
            let uploader = me.clone();
            let row = web::block(move || -> ApiResult<PhotoRow> {
                let processed = process(&body).map_err(photo_error)?;
                let row = PhotoRow {
                    id: id_s,
                    upload_sha256: upload_hex,
                    sha256: Sha256Digest::of(&processed.jpeg).to_hex(),
                    size_bytes: processed.jpeg.len() as i64,
                    width: processed.width as i32,
                    height: processed.height as i32,
                    thumb_width: processed.thumb_width as i32,
                    thumb_height: processed.thumb_height as i32,
                    taken_at,
                    uploaded_by: uploader,
                    created_at: now(),
                };
                // Files first (fsync'd), then the row: the row is the commit point, so a crash
                // leaves at worst an unreferenced file, never a row without its bytes.
                // Either failure: nothing is recorded, the phone keeps the photo and retries.
                store
                    .put(id, Variant::Full, &processed.jpeg)
                    .and_then(|()| {
                        if processed.thumb_is_full {
                            store.put_same(id, Variant::Full, Variant::Thumbnail, &processed.thumb)
                        } else {
                            store.put(id, Variant::Thumbnail, &processed.thumb)
                        }
                    })
                    .map_err(|e| {
                        tracing::error!(error = %e, "photo store");
                        store_unavailable(
                            "photo storage is not available; nothing was stored, try again",
                        )
                    })?;
                Ok(row)
            })
            .await??;
            let who = Who::of(&actor);
            state
                .db
                .write_grouped(move |c| -> ApiResult<Stored> {
                    if let Some(existing) = db::photos::get(c, &row.id)? {
                        // A concurrent upload of the same id won the race.
                        return Ok(Stored::Raced(existing));
                    }
                    // A visit the uploader does not belong to lists this id: the photo would be
                    // someone else's evidence (and readable by their jurisdiction).
                    if db::photos::upload_refused(c, &row.id, &row.uploaded_by)? {
                        return Err(ApiError::conflict(
                            ProblemCode::PhotoInUse,
                            "a visit of another team lists this photo id; take the photo again (the phone gives it a new id)",
                        )
                        .field("id"));
                    }
                    db::photos::insert(c, &who, &row)?;
                    Ok(Stored::Created(row.clone()))
                })
                .await?
        }
    };
    let conflict = || {
        ApiError::conflict(
            ProblemCode::Conflict,
            "another photo is already stored under this id",
        )
        .field("id")
    };
    match result {
        Stored::Created(row) => {
            state
                .metrics
                .photos_stored
                .with_label_values(&["created"])
                .inc();
            Ok(HttpResponse::Created().json(PhotoView::from(row)))
        }
        Stored::Already(row) if row.upload_sha256 == claimed.to_hex() && row.uploaded_by == me => {
            state
                .metrics
                .photos_stored
                .with_label_values(&["replayed"])
                .inc();
            Ok(HttpResponse::Ok().json(PhotoView::from(row)))
        }
        Stored::Raced(row) if row.upload_sha256 == claimed.to_hex() => {
            Ok(HttpResponse::Ok().json(PhotoView::from(row)))
        }
        Stored::Already(_) | Stored::Raced(_) => Err(conflict()),
    }
}

/// What an upload found or did.
enum Stored {
    /// Stored before this upload began (a replay, or another photo under the same id).
    Already(PhotoRow),
    /// Stored by this upload.
    Created(PhotoRow),
    /// Stored by a concurrent upload of the same id while this one was being processed.
    Raced(PhotoRow),
}

/// The image could not be used: 415 when it is not one, 422 when it is too large or damaged.
fn photo_error(e: PhotoError) -> ApiError {
    match e {
        PhotoError::NotAnImage => ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemCode::NotAnImage,
            e.to_string(),
        )
        .field("body"),
        PhotoError::TooLarge(..) => {
            ApiError::unprocessable(ProblemCode::TooLarge, "body", e.to_string())
        }
        PhotoError::Corrupt(_) => {
            ApiError::unprocessable(ProblemCode::CorruptImage, "body", e.to_string())
        }
    }
}

async fn serve(
    state: web::Data<AppState>,
    actor: Actor,
    id: String,
    variant: Variant,
) -> ApiResult<HttpResponse> {
    let id = parse_id(&id, "photo")?;
    let db = state.db.clone();
    let store = state.photos.clone();
    let bytes = web::block(move || read_photo(&db, store.as_ref(), &actor, id, variant)).await??;
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
        .body(bytes))
}

/// The stored photo (JPEG, metadata stripped).
#[utoipa::path(get, path = "/api/v1/photos/{id}", tag = "photos", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "image/jpeg", body = Vec<u8>), (status = 404, body = crate::error::Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    serve(state, actor, id.into_inner(), Variant::Full).await
}

/// A thumbnail (320 px on the long edge).
#[utoipa::path(get, path = "/api/v1/photos/{id}/thumbnail", tag = "photos", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "image/jpeg", body = Vec<u8>), (status = 404, body = crate::error::Problem)))]
pub async fn thumbnail(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    serve(state, actor, id.into_inner(), Variant::Thumbnail).await
}
