//! Serde types of the command surface (what the UI sends and receives).

use chrono::{DateTime, NaiveDate, Utc};
use doi178_shared::assignment::{AssignmentKind, AssignmentStatus};
use doi178_shared::checklist::ChecklistItem;
use doi178_shared::establishment::{EstablishmentStatus, EstablishmentType, RiskLevel};
use doi178_shared::geo::GpsInput;
use doi178_shared::visit::{AnswerInput, Outcome, ReviewStatus, ViolationInput};
/// The server's records as the phone stores and reads them (the wire contract).
pub use doi178_shared::wire::{
    AssignmentView, EstablishmentView, TemplateView, TokenResponse, VisitView,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::FieldError;
use crate::outbox::{PhotoStatus, VisitStatus};

/// Settings kept in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Base URL of the server, e.g. `https://doi178.example.vn` (no `/api/v1`).
    pub server_url: String,
    /// Beyond this distance from the establishment a GPS fix is recorded with a warning.
    pub gps_warning_radius_m: f64,
    /// Photos are downscaled to this long edge (pixels) before upload.
    pub photo_long_edge: u32,
    /// JPEG quality of processed photos (1–100).
    pub photo_quality: u8,
    /// Photos uploaded at the same time during a sync (1–8). Several connections share a lossy
    /// link better than one (one TCP connection backs off after every loss).
    #[serde(default = "default_upload_concurrency")]
    pub upload_concurrency: u32,
    /// Optional map tiles (`https://…/{z}/{x}/{y}.png`) for the establishment map; without it
    /// the map is drawn offline from the establishments' coordinates alone.
    #[serde(default)]
    pub map_tiles_url: Option<String>,
}

fn default_upload_concurrency() -> u32 {
    4
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server_url: String::new(),
            gps_warning_radius_m: 100.0,
            photo_long_edge: 1600,
            photo_quality: 80,
            upload_concurrency: default_upload_concurrency(),
            map_tiles_url: None,
        }
    }
}

/// `settings_set`: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    #[serde(default)]
    pub server_url: Option<String>,
    #[serde(default)]
    pub gps_warning_radius_m: Option<f64>,
    #[serde(default)]
    pub photo_long_edge: Option<u32>,
    #[serde(default)]
    pub photo_quality: Option<u8>,
    #[serde(default)]
    pub upload_concurrency: Option<u32>,
    /// `""` removes the tiles URL.
    #[serde(default)]
    pub map_tiles_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamInfo {
    pub team_id: Uuid,
    pub role: String,
    pub unit_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub teams: Vec<TeamInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignInResult {
    pub user: UserInfo,
    /// Outbox items recorded by another account on this phone: kept, but never pushed under this
    /// account (that account must sign in again to send them).
    pub other_users_outbox: u32,
    pub warning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub server_url: String,
    pub signed_in: bool,
    /// The server refused the refresh token: show the sign-in screen; the outbox is kept.
    pub needs_sign_in: bool,
    pub user: Option<UserInfo>,
    pub cursor: Option<String>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_sync_error: Option<FieldError>,
    /// Outbox items of the signed-in user still to send (queued, sending, evidence pending).
    pub pending: u32,
    /// Visit counts by status (drafts included), for the signed-in user.
    pub by_status: std::collections::BTreeMap<String, u32>,
    pub other_users_outbox: u32,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncReport {
    /// Everything went through (push and pull).
    pub ok: bool,
    pub needs_sign_in: bool,
    pub error: Option<FieldError>,
    pub visits_created: u32,
    pub visits_replayed: u32,
    pub photos_created: u32,
    pub photos_replayed: u32,
    pub conflicts: u32,
    pub failed: u32,
    /// HTTP requests made (retries included).
    pub requests: u32,
    /// Visit and photo PUTs made (retries included).
    pub uploads: u32,
    pub pulled_pages: u32,
    pub pulled_assignments: u32,
    pub pulled_establishments: u32,
    pub pulled_templates: u32,
    pub pulled_visits: u32,
    pub revoked_assignments: u32,
    /// Members in the roster of the last page that carried one.
    #[serde(default)]
    pub roster_members: u32,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstablishmentSummary {
    pub id: String,
    pub name: String,
    pub address: String,
    pub establishment_type: EstablishmentType,
    pub status: EstablishmentStatus,
    pub risk: RiskLevel,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// From the point asked about, when both are known.
    pub distance_m: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NearbyQuery {
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
    /// Words to find in the name, address, owner or licence, with or without diacritics.
    #[serde(default)]
    pub query: Option<String>,
    /// 50 when omitted, at most 500.
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignmentCard {
    pub id: String,
    pub team_id: String,
    pub kind: AssignmentKind,
    pub status: AssignmentStatus,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
    pub note: Option<String>,
    pub establishments: Vec<EstablishmentSummary>,
    /// Establishments of this assignment with a visit recorded on this phone.
    pub visited: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamVisit {
    pub id: String,
    pub establishment_id: String,
    pub review_status: ReviewStatus,
    pub review_comment: Option<String>,
    pub evidence_pending: bool,
    pub started_at: DateTime<Utc>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstablishmentCard {
    /// The establishment as the server sent it.
    pub establishment: EstablishmentView,
    pub assignments: Vec<String>,
    pub team_visits: Vec<TeamVisit>,
    pub local_visits: Vec<OutboxItem>,
    pub checklist: Option<Checklist>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checklist {
    pub template_id: Uuid,
    pub version: u32,
    pub establishment_type: EstablishmentType,
    pub title: String,
    pub valid_from: NaiveDate,
    pub items: Vec<ChecklistItem>,
}

/// A visit being recorded (stored as JSON in the draft).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitDraft {
    pub id: Uuid,
    pub establishment_id: Uuid,
    pub team_id: Uuid,
    pub assignment_id: Option<Uuid>,
    pub members_present: Vec<Uuid>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub gps: Option<GpsInput>,
    pub distance_m: Option<f64>,
    pub gps_warning: Option<String>,
    pub template_id: Uuid,
    pub template_version: u32,
    pub answers: Vec<AnswerInput>,
    pub outcome: Option<Outcome>,
    pub violations: Vec<ViolationInput>,
    pub minutes_no: Option<String>,
    pub follow_up_on: Option<NaiveDate>,
    pub photo_ids: Vec<Uuid>,
    pub notes: Option<String>,
    pub status: VisitStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitStart {
    pub establishment_id: Uuid,
    #[serde(default)]
    pub assignment_id: Option<Uuid>,
    /// The team; by default the assignment's, or the user's first team.
    #[serde(default)]
    pub team_id: Option<Uuid>,
    /// A client-generated id (UUID v7 or v4); generated (v7) when omitted.
    #[serde(default)]
    pub id: Option<Uuid>,
    /// Device time the inspection started; now when omitted.
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
}

/// `visit_update`: fields given replace the draft's; `clear` lists optional fields to empty
/// (`minutes_no`, `follow_up_on`, `notes`, `outcome`, `ended_at`, `gps_warning`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitUpdate {
    pub id: Uuid,
    #[serde(default)]
    pub answers: Option<Vec<AnswerInput>>,
    #[serde(default)]
    pub violations: Option<Vec<ViolationInput>>,
    #[serde(default)]
    pub members_present: Option<Vec<Uuid>>,
    #[serde(default)]
    pub minutes_no: Option<String>,
    #[serde(default)]
    pub outcome: Option<Outcome>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub follow_up_on: Option<NaiveDate>,
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub gps_warning: Option<String>,
    #[serde(default)]
    pub clear: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitGps {
    pub id: Uuid,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpsResult {
    pub distance_m: Option<f64>,
    pub radius_m: f64,
    /// Recorded with the visit when the fix is beyond the radius (or the establishment has no
    /// known location).
    pub warning: Option<String>,
}

/// Arguments of `photo_capture`: a photo as the camera or gallery gave it, run through the photo
/// pipeline ([`crate::photo::process`]) before it is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoCapture {
    pub visit_id: Uuid,
    /// The file as the camera or the gallery gave it (JPEG or PNG), base64; a `data:` URL as a
    /// browser's FileReader gives it is accepted too.
    pub data_base64: String,
    #[serde(default)]
    pub taken_at: Option<DateTime<Utc>>,
    /// A client-generated id; generated (v7) when omitted.
    #[serde(default)]
    pub id: Option<Uuid>,
}

/// Arguments of `visit_add_photo`: a photo already processed by the photo pipeline: the bytes to
/// upload and both digests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitAddPhoto {
    pub visit_id: Uuid,
    /// Path of the processed file (copied into the store), or `data_base64`.
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub data_base64: Option<String>,
    /// SHA-256 (hex) of the photo as the camera took it.
    pub original_sha256: String,
    /// SHA-256 (hex) of the processed bytes (what is uploaded); checked.
    pub sha256: String,
    #[serde(default)]
    pub taken_at: Option<DateTime<Utc>>,
    /// `image/jpeg` (default) or `image/png`.
    #[serde(default)]
    pub mime: Option<String>,
    /// A client-generated id; generated (v7) when omitted.
    #[serde(default)]
    pub id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitSubmit {
    pub id: Uuid,
    /// Device time the inspection ended; the draft's, else now.
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoItem {
    pub id: String,
    pub status: PhotoStatus,
    pub sha256: String,
    pub original_sha256: String,
    pub size_bytes: i64,
    pub server_status: Option<i32>,
    pub attempts: i32,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub visit_id: String,
    pub establishment_id: String,
    pub establishment_name: Option<String>,
    pub status: VisitStatus,
    pub owner_user_id: String,
    pub created_at: String,
    pub submitted_at: Option<String>,
    /// When the server acknowledged the visit, and how (201 created, 200 already there).
    pub acknowledged_at: Option<String>,
    pub server_status: Option<i32>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub distance_m: Option<f64>,
    pub photos: Vec<PhotoItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdArg {
    pub id: Uuid,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateArg {
    /// The day (Vietnam time); today when omitted.
    #[serde(default)]
    pub date: Option<NaiveDate>,
}

/// A member of one of the user's teams, as the last sync brought it.
pub use doi178_shared::wire::RosterMember;

/// `team_roster`: the members of one team (default: every team of the signed-in user).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterQuery {
    #[serde(default)]
    pub team_id: Option<Uuid>,
}

/// `sign_out`: what happened.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SignOutResult {
    /// The server revoked the session (false when offline or already refused: the tokens are
    /// dropped on the phone all the same).
    pub revoked_on_server: bool,
    /// Visits still waiting to be sent; they stay on the phone and go after the next sign-in.
    pub outbox_kept: u32,
    pub message: Option<String>,
}
