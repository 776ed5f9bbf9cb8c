// The core's command surface as JSON (field-app/src/types.rs and doi178-shared).

export interface FieldErrorBody {
  code: string;
  message: string;
  field?: string;
  detail?: string;
}

export interface Settings {
  server_url: string;
  gps_warning_radius_m: number;
  photo_long_edge: number;
  photo_quality: number;
  upload_concurrency: number;
  map_tiles_url: string | null;
}

/** A member of one of the user's teams (the pull sync's roster). */
export interface RosterMember {
  team_id: string;
  user_id: string;
  username: string;
  display_name: string;
  role: string;
  agency_id: string | null;
  agency_name: string | null;
}

export interface SignOutResult { revoked_on_server: boolean; outbox_kept: number; message: string | null }

export interface TeamInfo { team_id: string; role: string; unit_id: string }
export interface UserInfo { id: string; username: string; display_name: string; role: string; teams: TeamInfo[] }
export interface SignInResult { user: UserInfo; other_users_outbox: number; warning: string | null }

export interface Status {
  server_url: string;
  signed_in: boolean;
  needs_sign_in: boolean;
  user: UserInfo | null;
  cursor: string | null;
  last_sync_at: string | null;
  last_sync_error: FieldErrorBody | null;
  pending: number;
  by_status: Record<string, number>;
  other_users_outbox: number;
  message: string | null;
}

export interface SyncReport {
  ok: boolean;
  needs_sign_in: boolean;
  error: FieldErrorBody | null;
  visits_created: number;
  visits_replayed: number;
  photos_created: number;
  photos_replayed: number;
  conflicts: number;
  failed: number;
  pulled_assignments: number;
  pulled_establishments: number;
}

export interface EstablishmentSummary {
  id: string;
  name: string;
  address: string;
  establishment_type: string;
  status: string;
  risk: string;
  lat: number | null;
  lon: number | null;
  distance_m: number | null;
}

export interface AssignmentCard {
  id: string;
  team_id: string;
  kind: string;
  status: string;
  window_start: string;
  window_end: string;
  note: string | null;
  establishments: EstablishmentSummary[];
  visited: string[];
}

export interface ChecklistItem {
  code: string;
  text: string;
  /** The English translation, when the template has one. */
  text_en?: string | null;
  legal_basis?: string | null;
  sanction_ref?: string | null;
  violation_code?: string | null;
}

export interface Checklist {
  template_id: string;
  version: number;
  establishment_type: string;
  title: string;
  valid_from: string;
  items: ChecklistItem[];
}

export interface TeamVisit {
  id: string;
  establishment_id: string;
  review_status: string;
  review_comment: string | null;
  evidence_pending: boolean;
  started_at: string | null;
  outcome: string | null;
}

export type VisitStatus = "draft" | "queued" | "sending" | "evidence_pending" | "done" | "conflict" | "failed";
export type PhotoStatus = "queued" | "sending" | "done" | "failed" | string;

export interface PhotoItem {
  id: string;
  status: PhotoStatus;
  sha256: string;
  original_sha256: string;
  size_bytes: number;
  server_status: number | null;
  attempts: number;
  last_error: string | null;
}

export interface OutboxItem {
  visit_id: string;
  establishment_id: string;
  establishment_name: string | null;
  status: VisitStatus;
  owner_user_id: string;
  created_at: string;
  submitted_at: string | null;
  acknowledged_at: string | null;
  server_status: number | null;
  attempts: number;
  last_error: string | null;
  distance_m: number | null;
  photos: PhotoItem[];
}

export interface EstablishmentCard {
  establishment: Record<string, unknown> & { id: string; name: string; address?: string; establishment_type?: string; risk?: string; status?: string; owner_name?: string };
  assignments: string[];
  team_visits: TeamVisit[];
  local_visits: OutboxItem[];
  checklist: Checklist | null;
}

export type AnswerResult = "pass" | "fail" | "not_applicable";
export type Outcome = "no_violation" | "violations_found" | "not_operating" | "refused";

export interface AnswerInput { item: string; result: AnswerResult; note?: string | null }
export interface ViolationInput { code: string; description: string; legal_basis: string; proposed_fine_vnd: number }
export interface GpsInput { lat: number; lon: number; accuracy_m: number }

export interface VisitDraft {
  id: string;
  establishment_id: string;
  team_id: string;
  assignment_id: string | null;
  members_present: string[];
  started_at: string;
  ended_at: string | null;
  gps: GpsInput | null;
  distance_m: number | null;
  gps_warning: string | null;
  template_id: string;
  template_version: number;
  answers: AnswerInput[];
  outcome: Outcome | null;
  violations: ViolationInput[];
  minutes_no: string | null;
  follow_up_on: string | null;
  photo_ids: string[];
  notes: string | null;
  status: VisitStatus;
}

export interface GpsResult { distance_m: number | null; radius_m: number; warning: string | null }
