//! Visit capture: drafts (start, update, GPS), photos (captured, processed, added) and the
//! submission into the outbox.

use std::collections::HashSet;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use doi178_shared::geo::{GpsFix, GpsInput};
use doi178_shared::photo::{Sha256Digest, MAX_PHOTOS_PER_VISIT, MAX_PHOTO_BYTES};
use doi178_shared::visit::{VisitInput, VisitRecord};
use doi178_shared::DomainError;
use uuid::Uuid;

use super::queries::summary;
use crate::core::{bad, now_s, FieldCore, PHOTO_DIR};
use crate::error::{code, FieldError, FieldResult};
use crate::outbox::{VisitEvent, VisitStatus};
use crate::store::photos::NewPhoto;
use crate::store::{self, establishments, photos, visits};
use crate::types::*;

/// A photo already processed by the photo pipeline (integration point for `crate::photo`): the
/// bytes to upload, the SHA-256 of the original camera file and of these bytes.
#[derive(Debug, Clone)]
pub struct ProcessedPhoto {
    pub id: Option<Uuid>,
    pub bytes: Vec<u8>,
    pub original_sha256: String,
    pub sha256: String,
    pub taken_at: Option<DateTime<Utc>>,
    pub mime: Option<String>,
}

impl FieldCore {
    /// Members present must be on the team's roster (when the phone has one: before the first
    /// sync that carried it, the server checks alone).
    fn check_members(&self, team: Uuid, members: &[Uuid]) -> FieldResult<()> {
        let known: HashSet<String> = self.db(|c| {
            Ok(store::roster::user_ids_of(c, &team.to_string())?
                .into_iter()
                .collect())
        })?;
        if known.is_empty() {
            return Ok(());
        }
        for (i, m) in members.iter().enumerate() {
            if !known.contains(&m.to_string()) {
                return Err(bad(
                    &format!("members_present[{i}]"),
                    "this person is not a member of the team",
                ));
            }
        }
        Ok(())
    }

    fn load_draft(&self, id: Uuid) -> FieldResult<VisitDraft> {
        let raw = self
            .db(|c| visits::draft(c, &id.to_string()))?
            .ok_or_else(|| FieldError::not_found("visit"))?;
        Ok(serde_json::from_str(&raw)?)
    }

    fn editable(&self, id: Uuid) -> FieldResult<VisitDraft> {
        let d = self.load_draft(id)?;
        if d.status != VisitStatus::Draft {
            return Err(FieldError::new(
                code::NOT_EDITABLE,
                "the visit was submitted and can no longer be changed on the phone",
            ));
        }
        Ok(d)
    }

    /// Starts recording a visit (a draft, stored at once).
    pub fn visit_start(&self, start: VisitStart) -> FieldResult<VisitDraft> {
        let sess = self.require_user()?;
        let user = sess.user()?;
        let est = start.establishment_id.to_string();
        let exists = self.db(|c| establishments::exists(c, &est))?;
        if !exists {
            return Err(FieldError::not_found("establishment").with_field("establishment_id"));
        }
        let mut team = start.team_id;
        if let Some(a) = start.assignment_id {
            let body = self
                .db(|c| store::assignments::body(c, &a.to_string()))?
                .ok_or_else(|| FieldError::not_found("assignment").with_field("assignment_id"))?;
            let a: AssignmentView = serde_json::from_str(&body)?;
            let listed = a.establishment_ids.contains(&est);
            if !listed {
                return Err(bad(
                    "assignment_id",
                    "the establishment is not part of this assignment",
                ));
            }
            if team.is_none() {
                team = Uuid::parse_str(&a.team_id).ok();
            }
        }
        let team = team
            .or_else(|| user.teams.first().map(|t| t.team_id))
            .ok_or_else(|| bad("team_id", "you are not a member of any team"))?;
        if !user.teams.iter().any(|t| t.team_id == team) {
            return Err(bad("team_id", "you are not a member of this team"));
        }
        let checklist = self.checklist(start.establishment_id)?;
        let id = start.id.unwrap_or_else(Uuid::now_v7);
        if let Ok(existing) = self.load_draft(id) {
            if existing.establishment_id == start.establishment_id {
                return Ok(existing);
            }
            return Err(bad("id", "another visit already has this id"));
        }
        let draft = VisitDraft {
            id,
            establishment_id: start.establishment_id,
            team_id: team,
            assignment_id: start.assignment_id,
            members_present: vec![user.id],
            started_at: start.started_at.unwrap_or_else(Utc::now),
            ended_at: None,
            gps: None,
            distance_m: None,
            gps_warning: None,
            template_id: checklist.template_id,
            template_version: checklist.version,
            answers: vec![],
            outcome: None,
            violations: vec![],
            minutes_no: None,
            follow_up_on: None,
            photo_ids: vec![],
            notes: None,
            status: VisitStatus::Draft,
        };
        self.tx(|c| visits::insert_draft(c, &draft, &sess.user_id, &now_s()))?;
        Ok(draft)
    }

    pub fn visit_get(&self, id: Uuid) -> FieldResult<VisitDraft> {
        self.load_draft(id)
    }

    /// Changes a draft (only the fields given; `clear` empties optional ones).
    pub fn visit_update(&self, u: VisitUpdate) -> FieldResult<VisitDraft> {
        let mut d = self.editable(u.id)?;
        if let Some(x) = u.answers {
            d.answers = x;
        }
        if let Some(x) = u.violations {
            d.violations = x;
        }
        if let Some(x) = u.members_present {
            self.check_members(d.team_id, &x)?;
            d.members_present = x;
        }
        if u.minutes_no.is_some() {
            d.minutes_no = u.minutes_no;
        }
        if u.outcome.is_some() {
            d.outcome = u.outcome;
        }
        if u.notes.is_some() {
            d.notes = u.notes;
        }
        if u.follow_up_on.is_some() {
            d.follow_up_on = u.follow_up_on;
        }
        if u.ended_at.is_some() {
            d.ended_at = u.ended_at;
        }
        if u.gps_warning.is_some() {
            d.gps_warning = u.gps_warning;
        }
        for f in &u.clear {
            match f.as_str() {
                "minutes_no" => d.minutes_no = None,
                "follow_up_on" => d.follow_up_on = None,
                "notes" => d.notes = None,
                "outcome" => d.outcome = None,
                "ended_at" => d.ended_at = None,
                "gps_warning" => d.gps_warning = None,
                other => return Err(bad("clear", format!("{other} cannot be cleared"))),
            }
        }
        self.tx(|c| visits::save_draft(c, &d))?;
        Ok(d)
    }

    /// Records a GPS fix: distance to the establishment, and a warning kept with the visit when
    /// it is beyond the configured radius.
    pub fn visit_gps(&self, g: VisitGps) -> FieldResult<GpsResult> {
        let mut d = self.editable(g.id)?;
        let input = GpsInput {
            lat: g.lat,
            lon: g.lon,
            accuracy_m: g.accuracy_m,
        };
        GpsFix::try_from(input).map_err(|e: DomainError| e.with_prefix("gps"))?;
        let radius = self.settings_get()?.gps_warning_radius_m;
        let body = self.db(|c| establishments::body_of(c, &d.establishment_id.to_string()))?;
        let est = summary(&body, Some((g.lat, g.lon)))?;
        let warning = match est.distance_m {
            Some(m) if m > radius => Some(format!(
                "recorded {m:.0} m from the establishment (more than {radius:.0} m)"
            )),
            Some(_) => None,
            None => Some("the establishment has no known location to compare with".to_string()),
        };
        d.gps = Some(input);
        d.distance_m = est.distance_m;
        d.gps_warning = warning.clone();
        self.tx(|c| visits::save_draft(c, &d))?;
        Ok(GpsResult {
            distance_m: est.distance_m,
            radius_m: radius,
            warning,
        })
    }

    /// Attaches a processed photo: the bytes are written (fsync'd) under the data directory and
    /// the photo is recorded with the visit before this returns.
    /// `photo_capture`: runs the photo pipeline on a captured file with the settings' long edge and
    /// quality (the original's hash is taken first), then keeps the result like
    /// [`FieldCore::add_processed_photo`].
    pub fn photo_capture(&self, args: PhotoCapture) -> FieldResult<PhotoItem> {
        use base64::Engine as _;
        let raw = args.data_base64.trim();
        let raw = raw.split_once(";base64,").map_or(raw, |(_, b)| b);
        let original = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .map_err(|_| {
                FieldError::new(code::INVALID, "the photo is not valid base64")
                    .with_field("data_base64")
            })?;
        let settings = self.settings_get()?;
        let opts = crate::photo::PhotoOptions {
            long_edge: settings.photo_long_edge,
            quality: settings.photo_quality,
            ..crate::photo::PhotoOptions::default()
        };
        let processed = crate::photo::process(&original, &opts).map_err(|e| {
            let mut err = FieldError::new(code::INVALID, format!("{} ({e})", e.message_vi()))
                .with_field("data_base64");
            err.detail = Some(e.code().to_string());
            err
        })?;
        self.add_processed_photo(
            args.visit_id,
            ProcessedPhoto {
                id: args.id,
                original_sha256: processed.sha256_original.to_hex(),
                sha256: processed.sha256.to_hex(),
                bytes: processed.jpeg,
                taken_at: args.taken_at,
                mime: Some("image/jpeg".into()),
            },
        )
    }

    pub fn add_processed_photo(&self, visit_id: Uuid, p: ProcessedPhoto) -> FieldResult<PhotoItem> {
        let mut d = self.editable(visit_id)?;
        let digest = Sha256Digest::of(&p.bytes).to_hex();
        let claimed = Sha256Digest::from_hex(&p.sha256)?.to_hex();
        if digest != claimed {
            return Err(bad("sha256", "the photo bytes do not match sha256"));
        }
        let original = Sha256Digest::from_hex(&p.original_sha256)
            .map_err(|e| e.with_prefix("original"))?
            .to_hex();
        if p.bytes.is_empty() || p.bytes.len() > MAX_PHOTO_BYTES {
            return Err(bad(
                "data",
                format!("a photo is 1 to {MAX_PHOTO_BYTES} bytes"),
            ));
        }
        let mime = p.mime.unwrap_or_else(|| "image/jpeg".into());
        let ext = match mime.as_str() {
            "image/jpeg" => "jpg",
            "image/png" => "png",
            _ => return Err(bad("mime", "image/jpeg or image/png")),
        };
        if d.photo_ids.len() >= MAX_PHOTOS_PER_VISIT {
            return Err(bad(
                "photo_ids",
                format!("at most {MAX_PHOTOS_PER_VISIT} photos per visit"),
            ));
        }
        let id = p.id.unwrap_or_else(Uuid::now_v7);
        if d.photo_ids.contains(&id) {
            return Err(bad("id", "this photo is already attached"));
        }
        let file_name = format!("{id}.{ext}");
        store::write_durably(&self.dir.join(PHOTO_DIR).join(&file_name), &p.bytes)?;
        d.photo_ids.push(id);
        let new = NewPhoto {
            id: id.to_string(),
            visit_id: visit_id.to_string(),
            seq: d.photo_ids.len() as i32,
            file_name,
            mime,
            original_sha256: original,
            sha256: digest,
            size_bytes: p.bytes.len() as i64,
            taken_at: p.taken_at.map(|t| t.to_rfc3339()),
        };
        let row = self.tx(|c| {
            photos::insert(c, &new)?;
            visits::save_draft(c, &d)?;
            photos::get(c, &new.id)
        })?;
        Ok(row.item())
    }

    /// `visit_add_photo` command: the processed photo by path or base64.
    pub fn visit_add_photo(&self, a: VisitAddPhoto) -> FieldResult<PhotoItem> {
        let bytes = match (&a.path, &a.data_base64) {
            (Some(p), None) => {
                std::fs::read(p).map_err(|e| bad("path", format!("cannot read the photo: {e}")))?
            }
            (None, Some(b)) => base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .map_err(|_| bad("data_base64", "not valid base64"))?,
            _ => return Err(bad("path", "give exactly one of path and data_base64")),
        };
        self.add_processed_photo(
            a.visit_id,
            ProcessedPhoto {
                id: a.id,
                bytes,
                original_sha256: a.original_sha256,
                sha256: a.sha256,
                taken_at: a.taken_at,
                mime: a.mime,
            },
        )
    }

    /// Validates the visit with the server's rules and puts it in the outbox (durably).
    pub fn visit_submit(&self, sub: VisitSubmit) -> FieldResult<OutboxItem> {
        let mut d = self.editable(sub.id)?;
        let ended = sub.ended_at.or(d.ended_at).unwrap_or_else(Utc::now);
        let outcome = d.outcome.ok_or_else(|| DomainError::required("outcome"))?;
        let input = VisitInput {
            establishment_id: d.establishment_id,
            team_id: d.team_id,
            assignment_id: d.assignment_id,
            members_present: d.members_present.clone(),
            started_at: d.started_at,
            ended_at: ended,
            gps: d.gps,
            gps_warning: d.gps_warning.clone(),
            template_id: d.template_id,
            template_version: d.template_version,
            answers: d.answers.clone(),
            outcome,
            violations: d.violations.clone(),
            minutes_no: d.minutes_no.clone(),
            follow_up_on: d.follow_up_on,
            photo_ids: d.photo_ids.clone(),
            notes: d.notes.clone(),
        };
        let record = VisitRecord::parse(input, Utc::now())?;
        d.ended_at = Some(ended);
        d.status = d
            .status
            .next(VisitEvent::Submit)
            .ok_or_else(|| FieldError::new(code::NOT_EDITABLE, "already submitted"))?;
        let body = serde_json::to_string(record.input())?;
        self.tx(|c| {
            visits::submit(c, &d, &body, &record.digest(), &now_s())?;
            let row = visits::get(c, &d.id.to_string())?;
            self.outbox_item(c, &row)
        })
    }
}
