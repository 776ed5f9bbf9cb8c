//! Core of the doi178 field app (`doi178-field`): the phone's local store (SQLite, WAL, durable
//! before a call returns), sign-in with refresh tokens that survive days offline, pull sync by
//! cursor, visit capture validated with the server's own rules, and an outbox pushed with
//! idempotent PUTs, bounded retries and backoff with full jitter. No Tauri here: the Tauri shell
//! and the development bridge call [`commands`] (or the [`FieldCore`] methods) 1:1.
//!
//! Photos: [`photo::process`] turns a captured original into the JPEG that is uploaded (hashing the
//! original first); [`FieldCore::add_processed_photo`] keeps it with both hashes in the outbox;
//! `visit_add_photo` takes the same by path or base64.

//!
//! Sync in short: `sync_now` pushes first (the visits `PUT /api/v1/visits/{id}`, then the photos
//! of the acknowledged ones `PUT /api/v1/photos/{id}` with `Content-Digest`, up to
//! `upload_concurrency` requests at a time), then pulls `GET /api/v1/sync` while `has_more`, one
//! transaction per page with its cursor (the page's team roster replaces the stored one). Every step's outcome is committed before
//! the next request, so an acknowledged visit or a stored photo is never sent again, and a step
//! cut at any byte is only retried (the PUTs are idempotent: 201 first, 200 after).
//!
//! Known limits (server behaviour, not changed here):
//! - A refresh answer lost in transit (the server rotated the token, the phone never stored the
//!   new one) makes the next refresh present the old token, which the server treats as reuse and
//!   revokes the session: the phone then reports `needs_sign_in`; the outbox is kept.
//! - The server flags visits recorded beyond its own fixed 300 m; below that it keeps the phone's
//!   warning (the phone's radius is a setting, 100 m by default).
//! - "Acknowledged" is not a stored status of its own: an acknowledged visit is
//!   `evidence_pending` (photos still to upload; the server shows `evidence_pending: true` and
//!   `pending_photo_ids` on `GET /api/v1/visits/{id}`) or `done`, with `acknowledged_at` and the
//!   server's answer (`server_status` 201 or 200) kept on the item.

pub use doi178_shared as shared;

pub mod commands;
mod core;
pub mod error;
pub mod http;
pub mod outbox;
/// The photo pipeline: original hash, EXIF orientation, downscale, metadata-free JPEG, hash.
pub mod photo;
pub mod retry;
pub mod store;
pub mod types;

pub use crate::core::{FieldCore, Options, ProcessedPhoto};
pub use crate::error::{FieldError, FieldResult};
pub use crate::outbox::{PhotoStatus, VisitStatus};
pub use crate::retry::RetryPolicy;
pub use crate::types::*;
