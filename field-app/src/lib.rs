//! Core of the doi178 field app (`doi178-field`): the phone's local store (SQLite, WAL, durable
//! before a call returns), sign-in with refresh tokens that survive days offline, pull sync by
//! cursor, visit capture validated with the server's own rules, and an outbox pushed with
//! idempotent PUTs, bounded retries and backoff with full jitter. No Tauri here: the Tauri shell
//! and the development bridge call [`commands`] (or the [`FieldCore`] methods) 1:1.
//!
//! Photo pipeline integration point: the `photo` module (written separately) hands processed
//! photos to [`FieldCore::add_processed_photo`] as bytes with the SHA-256 of the original and of
//! the processed bytes; `visit_add_photo` takes the same by path or base64.

pub use doi178_shared as shared;

// INTEGRATION POINT (photo pipeline): the `photo` module lives in src/photo/ on another branch;
// add `pub mod photo;` here when it is merged. It hands each processed photo to
// `FieldCore::add_processed_photo(visit_id, ProcessedPhoto { bytes, original_sha256, sha256, .. })`
// (or the UI calls the `visit_add_photo` command with a path or base64), and reads its long edge
// and JPEG quality from `FieldCore::settings_get()` (`photo_long_edge`, `photo_quality`).
pub mod commands;
mod core;
pub mod error;
pub mod http;
pub mod outbox;
pub mod retry;
pub mod store;
pub mod types;

pub use crate::core::{FieldCore, Options, ProcessedPhoto};
pub use crate::error::{FieldError, FieldResult};
pub use crate::outbox::{PhotoStatus, VisitStatus};
pub use crate::retry::RetryPolicy;
pub use crate::types::*;
