//! The wire contract: what the server answers and the phone reads, one type each. The server
//! builds these to write its answers and the field app decodes its sync pages into them, so a
//! renamed or retyped field breaks the build of both ends instead of a phone in the field. With
//! the `openapi` feature they describe themselves to the API document.
//!
//! Readers tolerate fields they do not know (a newer server may add some); ids the server
//! generated are strings as stored.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::assignment::{AssignmentKind, AssignmentStatus};
use crate::checklist::ChecklistItem;
use crate::establishment::{EstablishmentStatus, EstablishmentType, RiskLevel};
use crate::geo::GpsInput;
use crate::problem::ProblemCode;
use crate::role::MemberRole;
use crate::tip::{TipChannel, TipStatus};
use crate::visit::{AnswerInput, Outcome, ReviewStatus, ViolationInput};

/// An error answer (RFC 9457 `application/problem+json`): what went wrong, its stable code and
/// the input field at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// URI reference naming the problem kind: `/problems/<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `invalid`, `not_found`, `conflict`: one of
    /// [`ProblemCode`], which lists them all.
    pub code: ProblemCode,
    /// The input field at fault, as a path (`violations[0].legal_basis`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For conflicts on an idempotency key: the digest of what is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored_digest: Option<String>,
}

/// The answer to a sign-in or a token refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: i64,
}

/// A released (or finished) piece of work: which team inspects which establishments when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignmentView {
    pub id: String,
    pub team_id: String,
    pub kind: AssignmentKind,
    pub status: AssignmentStatus,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub tip_id: Option<String>,
    #[serde(default)]
    pub follow_up_of: Option<String>,
    pub establishment_ids: Vec<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    #[serde(default)]
    pub released_at: Option<NaiveDateTime>,
    #[serde(default)]
    pub closed_at: Option<NaiveDateTime>,
    /// Change number: increases whenever the record changes.
    pub version: i64,
}

/// A point in WGS 84 degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
}

/// An establishment (cơ sở) with its papers and status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EstablishmentView {
    pub id: String,
    pub name: String,
    pub establishment_type: EstablishmentType,
    pub unit_id: String,
    pub address: String,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub business_reg_no: Option<String>,
    #[serde(default)]
    pub licence_no: Option<String>,
    #[serde(default)]
    pub licence_issued_on: Option<NaiveDate>,
    #[serde(default)]
    pub licence_expires_on: Option<NaiveDate>,
    #[serde(default)]
    pub antt_cert_no: Option<String>,
    #[serde(default)]
    pub owner_name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    pub status: EstablishmentStatus,
    #[serde(default)]
    pub opened_on: Option<NaiveDate>,
    #[serde(default)]
    pub closed_on: Option<NaiveDate>,
    pub risk: RiskLevel,
    pub commitment_signed: bool,
    #[serde(default)]
    pub commitment_signed_on: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Change number: increases whenever the record changes.
    pub version: i64,
}

/// One version of the checklist of an establishment type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateView {
    pub id: String,
    pub establishment_type: EstablishmentType,
    pub version: i32,
    pub title: String,
    pub items: Vec<ChecklistItem>,
    pub valid_from: NaiveDate,
    pub created_at: NaiveDateTime,
}

/// A tip (tin báo, tố giác) with its deadline and handling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TipView {
    pub id: String,
    pub channel: TipChannel,
    pub received_at: NaiveDateTime,
    pub content: String,
    pub unit_id: String,
    #[serde(default)]
    pub establishment_id: Option<String>,
    #[serde(default)]
    pub reporter_contact: Option<String>,
    pub deadline: NaiveDate,
    pub status: TipStatus,
    #[serde(default)]
    pub handled_at: Option<NaiveDateTime>,
    /// Handled by the deadline (null while open).
    #[serde(default)]
    pub handled_on_time: Option<bool>,
    pub overdue: bool,
    #[serde(default)]
    pub assignment_id: Option<String>,
}

/// A member of one of the caller's teams: who may be recorded as present at a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RosterMember {
    pub team_id: String,
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub role: MemberRole,
    #[serde(default)]
    pub agency_id: Option<String>,
    #[serde(default)]
    pub agency_name: Option<String>,
}

/// A visit as the server answers it: the submitted fields of its current revision and what the
/// server knows (receive time, review, digests, whether photos are still missing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitView {
    pub id: String,
    pub revision: i32,
    pub establishment_id: Uuid,
    pub team_id: Uuid,
    #[serde(default)]
    pub assignment_id: Option<Uuid>,
    pub members_present: Vec<Uuid>,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    #[serde(default)]
    pub gps: Option<GpsInput>,
    /// The server's warning when the fix is far from the establishment (else the phone's).
    #[serde(default)]
    pub gps_warning: Option<String>,
    pub template_id: Uuid,
    pub template_version: u32,
    #[serde(default)]
    pub answers: Vec<AnswerInput>,
    pub outcome: Outcome,
    #[serde(default)]
    pub violations: Vec<ViolationInput>,
    #[serde(default)]
    pub minutes_no: Option<String>,
    #[serde(default)]
    pub follow_up_on: Option<NaiveDate>,
    #[serde(default)]
    pub photo_ids: Vec<Uuid>,
    #[serde(default)]
    pub notes: Option<String>,
    pub submitted_by: String,
    pub received_at: NaiveDateTime,
    /// Metres from the establishment's registered location, when both are known.
    #[serde(default)]
    pub distance_m: Option<f64>,
    pub violation_count: i32,
    pub total_fine_vnd: i64,
    pub review_status: ReviewStatus,
    /// The leader's comment, shown to the inspector.
    #[serde(default)]
    pub review_comment: Option<String>,
    pub digest: String,
    pub original_digest: String,
    /// Photos the visit lists that have not arrived yet.
    pub evidence_pending: bool,
    #[serde(default)]
    pub pending_photo_ids: Vec<String>,
    /// Change number: increases whenever the record changes.
    pub version: i64,
}

/// One page of `GET /api/v1/sync`: everything of the caller's teams and jurisdiction that changed
/// after the cursor. `V` is how visits are carried: [`VisitView`] for a reader; the server writes
/// each as the JSON text it already has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(bound = ""))]
pub struct SyncPage<V = VisitView> {
    /// Pass back as `cursor` next time.
    pub cursor: String,
    /// More changes are waiting: ask again now with `cursor`.
    pub has_more: bool,
    /// Released (or finished) assignments of the caller's teams.
    #[serde(default)]
    pub assignments: Vec<AssignmentView>,
    /// Ids of assignments the phone must drop (cancelled, or no longer visible).
    #[serde(default)]
    pub revoked_assignments: Vec<String>,
    #[serde(default)]
    pub establishments: Vec<EstablishmentView>,
    #[serde(default)]
    pub templates: Vec<TemplateView>,
    /// The caller's team's visits that changed (e.g. reviewed with a comment).
    #[serde(default = "Vec::new")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<VisitView>))]
    pub visits: Vec<V>,
    /// The whole roster of the caller's own teams, on every page (small; it replaces the
    /// phone's copy). `None` from a server that does not send it: keep the copy.
    #[serde(default)]
    pub roster: Option<Vec<RosterMember>>,
}
