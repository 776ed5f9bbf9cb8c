//! Push: the outbox's visits, then the photos of the acknowledged ones, then the visits whose
//! evidence is complete.

use std::collections::HashSet;
use std::sync::Mutex;

use doi178_shared::photo::Sha256Digest;
use reqwest::Method;

use super::plan::{acknowledged_only, plan, PlanPhoto, PlanVisit, PushOp};
use crate::core::{lock, now_s, FieldCore, PHOTO_DIR};
use crate::error::{FieldError, FieldResult};
use crate::outbox::{PhotoStatus, VisitEvent, VisitStatus};
use crate::store::photos::PhotoRow;
use crate::store::visits::VisitRow;
use crate::store::{photos, visits};
use crate::types::*;

impl FieldCore {
    fn set_visit(
        &self,
        id: &str,
        status: VisitStatus,
        server_status: Option<i32>,
        error: Option<String>,
        attempt: bool,
    ) -> FieldResult<()> {
        self.tx(|c| visits::record(c, id, status, server_status, error, attempt, &now_s()))
    }

    fn set_photo(
        &self,
        id: &str,
        status: PhotoStatus,
        server_status: Option<i32>,
        error: Option<String>,
        attempt: bool,
    ) -> FieldResult<()> {
        self.tx(|c| photos::record(c, id, status, server_status, error, attempt))
    }

    /// Pushes the outbox: the visits first, then the photos of every acknowledged visit, each
    /// step with up to `upload_concurrency` requests at a time. Every answer is committed on its
    /// own before that worker takes the next item, so a failure of one upload never undoes or
    /// repeats another. What to send is decided by [`plan`] from a snapshot of the outbox; the
    /// photos and finishing steps run for the visits acknowledged once the visits are sent.
    pub(super) fn push(&self, report: &mut SyncReport) -> FieldResult<()> {
        let me = self.require_user()?.user_id;
        let workers = self.settings_get()?.upload_concurrency.clamp(1, 8) as usize;
        let (rows, photo_rows) = self.db(|c| {
            let rows = visits::of_user_in(
                c,
                &me,
                &[
                    VisitStatus::Queued,
                    VisitStatus::Sending,
                    VisitStatus::EvidencePending,
                ],
            )?;
            let mut photo_rows = Vec::new();
            for v in &rows {
                photo_rows.extend(photos::of_visit(c, &v.id)?);
            }
            Ok((rows, photo_rows))
        })?;
        let outbox: Vec<PlanVisit> = rows
            .iter()
            .map(|v| PlanVisit {
                id: v.id.clone(),
                owner_user_id: v.owner_user_id.clone(),
                status: VisitStatus::parse(&v.status),
                submitted_at: v.submitted_at.clone(),
                photos: photo_rows
                    .iter()
                    .filter(|p| p.visit_id == v.id)
                    .map(|p| PlanPhoto {
                        id: p.id.clone(),
                        seq: p.seq,
                        status: PhotoStatus::parse(&p.status),
                    })
                    .collect(),
            })
            .collect();
        let ops = plan(&me, &outbox);
        if ops.is_empty() {
            return Ok(());
        }
        // A usable token before any worker starts (signed out: nothing is attempted; expired:
        // refreshed once here rather than by the first workers together).
        self.access_token()?;
        let shared = Mutex::new(std::mem::take(report));
        let to_put: Vec<&VisitRow> = ops
            .iter()
            .filter_map(|op| match op {
                PushOp::PutVisit(id) => rows.iter().find(|r| &r.id == id),
                _ => None,
            })
            .collect();
        let sent = Self::parallel(&to_put, workers, |item| {
            self.put_visit(item, &shared).map(|_| ())
        });
        // Photos of every visit the server has, including those acknowledged just now.
        let acknowledged: HashSet<String> = self
            .db(|c| visits::of_user_in(c, &me, &[VisitStatus::EvidencePending]))?
            .into_iter()
            .map(|v| v.id)
            .collect();
        let next = acknowledged_only(&ops, &acknowledged);
        let photos: Vec<&PhotoRow> = next
            .iter()
            .filter_map(|op| match op {
                PushOp::PutPhoto { photo, .. } => photo_rows.iter().find(|p| &p.id == photo),
                _ => None,
            })
            .collect();
        // After a failed visit PUT the link (or the session) is down: stop, as one request would.
        let uploads = match &sent {
            Err(_) => Ok(()),
            Ok(()) => Self::parallel(&photos, workers, |p| self.put_photo(p, &shared)),
        };
        for op in &next {
            if let PushOp::FinishVisit(id) = op {
                self.finish_visit(id)?;
            }
        }
        *report = shared.into_inner().unwrap_or_else(|e| e.into_inner());
        sent.and(uploads)
    }

    fn put_visit(&self, item: &VisitRow, report: &Mutex<SyncReport>) -> FieldResult<VisitStatus> {
        let sending = VisitStatus::Sending;
        self.set_visit(&item.id, sending, None, item.last_error.clone(), true)?;
        let body = item
            .input
            .clone()
            .ok_or_else(|| FieldError::store("a queued visit without its input"))?;
        lock(report).uploads += 1;
        let r = match self.authed(
            Method::PUT,
            &format!("/api/v1/visits/{}", item.id),
            vec![("content-type", "application/json".into())],
            Some(body.into_bytes()),
        ) {
            Ok(r) => r,
            Err(e) => {
                let next = sending
                    .next(VisitEvent::Transient)
                    .unwrap_or(VisitStatus::Queued);
                self.set_visit(&item.id, next, None, Some(e.message.clone()), false)?;
                return Err(e);
            }
        };
        let (event, error) = match r.status {
            200 | 201 => {
                let left = self.db(|c| {
                    Ok(photos::of_visit(c, &item.id)?
                        .iter()
                        .any(|p| p.status != PhotoStatus::Done.as_str()))
                })?;
                let mut rep = lock(report);
                if r.status == 201 {
                    rep.visits_created += 1;
                } else {
                    rep.visits_replayed += 1;
                }
                (VisitEvent::Acknowledged { photos_left: left }, None)
            }
            409 => {
                lock(report).conflicts += 1;
                (VisitEvent::Conflict, Some(r.reason()))
            }
            _ => {
                lock(report).failed += 1;
                (VisitEvent::Rejected, Some(r.reason()))
            }
        };
        let next = sending.next(event).unwrap_or(VisitStatus::Failed);
        let server = matches!(r.status, 200 | 201).then_some(i32::from(r.status));
        self.set_visit(&item.id, next, server, error, false)?;
        Ok(next)
    }

    /// Uploads one photo. `Err` only when the sync must stop (offline, signed out, store); a
    /// refusal is recorded on the photo and the sync goes on.
    fn put_photo(&self, p: &PhotoRow, report: &Mutex<SyncReport>) -> FieldResult<()> {
        self.set_photo(
            &p.id,
            PhotoStatus::Sending,
            None,
            p.last_error.clone(),
            true,
        )?;
        let bytes = match std::fs::read(self.dir.join(PHOTO_DIR).join(&p.file_name)) {
            Ok(b) => b,
            Err(e) => {
                let msg = format!("the photo file is gone: {e}");
                self.set_photo(&p.id, PhotoStatus::Failed, None, Some(msg), false)?;
                return Ok(());
            }
        };
        let digest = Sha256Digest::of(&bytes);
        let mut headers = vec![
            ("content-type", p.mime.clone()),
            ("content-digest", digest.content_digest_header()),
        ];
        if let Some(t) = &p.taken_at {
            headers.push(("x-taken-at", t.clone()));
        }
        lock(report).uploads += 1;
        let r = match self.authed(
            Method::PUT,
            &format!("/api/v1/photos/{}", p.id),
            headers,
            Some(bytes),
        ) {
            Ok(r) => r,
            Err(e) => {
                self.set_photo(
                    &p.id,
                    PhotoStatus::Queued,
                    None,
                    Some(e.message.clone()),
                    false,
                )?;
                return Err(e);
            }
        };
        match r.status {
            200 | 201 => {
                {
                    let mut rep = lock(report);
                    if r.status == 201 {
                        rep.photos_created += 1;
                    } else {
                        rep.photos_replayed += 1;
                    }
                }
                self.set_photo(
                    &p.id,
                    PhotoStatus::Done,
                    Some(i32::from(r.status)),
                    None,
                    false,
                )?;
            }
            409 => {
                lock(report).conflicts += 1;
                self.set_photo(&p.id, PhotoStatus::Conflict, None, Some(r.reason()), false)?;
            }
            _ => {
                lock(report).failed += 1;
                self.set_photo(&p.id, PhotoStatus::Failed, None, Some(r.reason()), false)?;
            }
        }
        Ok(())
    }

    /// An acknowledged visit whose photos are all stored becomes `done`; otherwise the photos'
    /// problems (conflict, refused, file gone) are kept as the visit's last error.
    fn finish_visit(&self, visit: &str) -> FieldResult<()> {
        let photos = self.db(|c| photos::of_visit(c, visit))?;
        if photos
            .iter()
            .all(|p| p.status == PhotoStatus::Done.as_str())
        {
            let next = VisitStatus::EvidencePending
                .next(VisitEvent::PhotosComplete)
                .unwrap_or(VisitStatus::Done);
            return self.tx(|c| visits::set_status(c, visit, next));
        }
        let problems: Vec<String> = photos
            .iter()
            .filter(|p| {
                matches!(
                    PhotoStatus::parse(&p.status),
                    Some(PhotoStatus::Conflict | PhotoStatus::Failed) | None
                )
            })
            .map(|p| {
                format!(
                    "photo {}: {}: {}",
                    p.id,
                    p.status,
                    p.last_error.as_deref().unwrap_or("")
                )
            })
            .collect();
        if !problems.is_empty() {
            let msg = problems.join("; ");
            self.tx(|c| visits::set_last_error(c, visit, &msg))?;
        }
        Ok(())
    }
}
