//! What to push, decided without touching the store or the network: [`plan`] turns a snapshot
//! of the user's outbox into the ordered operations that [`FieldCore::push`] then performs, and
//! [`acknowledged_only`] keeps those that wait for an acknowledged visit once the visits are sent.
//!
//! [`FieldCore::push`]: crate::FieldCore

use std::collections::HashSet;

use crate::outbox::{PhotoStatus, VisitStatus};

/// A visit of the outbox as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlanVisit {
    pub id: String,
    pub owner_user_id: String,
    /// `None` for a status this version does not know (never sent).
    pub status: Option<VisitStatus>,
    pub submitted_at: Option<String>,
    pub photos: Vec<PlanPhoto>,
}

/// A photo of a visit as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlanPhoto {
    pub id: String,
    /// Position in the visit (the order the photos were attached).
    pub seq: i32,
    /// `None` for a status this version does not know (counts as failed: never sent).
    pub status: Option<PhotoStatus>,
}

/// One step of the push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PushOp {
    /// `PUT /api/v1/visits/{id}`.
    PutVisit(String),
    /// `PUT /api/v1/photos/{photo}`, only once `visit` is acknowledged (see
    /// [`acknowledged_only`]).
    PutPhoto { visit: String, photo: String },
    /// The acknowledged visit becomes `done` when every photo is stored, else keeps its photos'
    /// problems as its last error (only once the visit is acknowledged).
    FinishVisit(String),
}

impl PushOp {
    /// The visit the operation belongs to.
    pub fn visit(&self) -> &str {
        match self {
            Self::PutVisit(v) | Self::FinishVisit(v) => v,
            Self::PutPhoto { visit, .. } => visit,
        }
    }
}

/// The push of `user`'s outbox, in order: every visit still to be PUT (`queued`, or `sending`
/// when the app died mid-request), then the photos still to be PUT (`queued` or `sending`; not
/// `done`, nor `conflict` or `failed`, which are never retried) of the visits the server has
/// (`evidence_pending`) or may have after the first step, then those visits' finishing step.
/// Visits are taken by submission time then id, photos in the order they were attached. Other
/// accounts' visits, drafts and visits that are done, in conflict or refused yield nothing.
pub(crate) fn plan(user: &str, outbox: &[PlanVisit]) -> Vec<PushOp> {
    let mut visits: Vec<(&PlanVisit, VisitStatus)> = outbox
        .iter()
        .filter(|v| v.owner_user_id == user)
        .filter_map(|v| v.status.filter(|s| s.is_pending()).map(|s| (v, s)))
        .collect();
    visits.sort_by(|(a, _), (b, _)| (&a.submitted_at, &a.id).cmp(&(&b.submitted_at, &b.id)));
    let mut ops: Vec<PushOp> = visits
        .iter()
        .filter(|(_, s)| s.needs_put())
        .map(|(v, _)| PushOp::PutVisit(v.id.clone()))
        .collect();
    for (v, _) in &visits {
        let mut photos: Vec<&PlanPhoto> = v
            .photos
            .iter()
            .filter(|p| p.status.unwrap_or(PhotoStatus::Failed).needs_put())
            .collect();
        photos.sort_by_key(|p| p.seq);
        ops.extend(photos.into_iter().map(|p| PushOp::PutPhoto {
            visit: v.id.clone(),
            photo: p.id.clone(),
        }));
    }
    ops.extend(
        visits
            .iter()
            .map(|(v, _)| PushOp::FinishVisit(v.id.clone())),
    );
    ops
}

/// The photo uploads and finishing steps of `ops` whose visit is `acknowledged` (the visits that
/// are `evidence_pending` once the visits were sent), in their order; the visit PUTs are left
/// out.
pub(crate) fn acknowledged_only(ops: &[PushOp], acknowledged: &HashSet<String>) -> Vec<PushOp> {
    ops.iter()
        .filter(|op| !matches!(op, PushOp::PutVisit(_)))
        .filter(|op| acknowledged.contains(op.visit()))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "me";

    fn visit(id: &str, status: VisitStatus, submitted: &str, photos: Vec<PlanPhoto>) -> PlanVisit {
        PlanVisit {
            id: id.into(),
            owner_user_id: ME.into(),
            status: Some(status),
            submitted_at: Some(submitted.into()),
            photos,
        }
    }

    fn photo(id: &str, seq: i32, status: PhotoStatus) -> PlanPhoto {
        PlanPhoto {
            id: id.into(),
            seq,
            status: Some(status),
        }
    }

    fn put(v: &str) -> PushOp {
        PushOp::PutVisit(v.into())
    }

    fn put_photo(v: &str, p: &str) -> PushOp {
        PushOp::PutPhoto {
            visit: v.into(),
            photo: p.into(),
        }
    }

    fn finish(v: &str) -> PushOp {
        PushOp::FinishVisit(v.into())
    }

    #[test]
    fn an_empty_outbox_needs_nothing() {
        assert_eq!(plan(ME, &[]), vec![]);
    }

    #[test]
    fn visits_go_before_their_photos_and_finishing_comes_last() {
        let outbox = vec![
            visit(
                "a",
                VisitStatus::Queued,
                "2026-01-01T08:00:00Z",
                vec![
                    photo("a1", 1, PhotoStatus::Queued),
                    photo("a2", 2, PhotoStatus::Queued),
                ],
            ),
            visit(
                "b",
                VisitStatus::Queued,
                "2026-01-01T09:00:00Z",
                vec![photo("b1", 1, PhotoStatus::Queued)],
            ),
        ];
        assert_eq!(
            plan(ME, &outbox),
            vec![
                put("a"),
                put("b"),
                put_photo("a", "a1"),
                put_photo("a", "a2"),
                put_photo("b", "b1"),
                finish("a"),
                finish("b"),
            ]
        );
    }

    #[test]
    fn an_acknowledged_visit_is_not_put_again_only_its_photos() {
        let outbox = vec![visit(
            "a",
            VisitStatus::EvidencePending,
            "2026-01-01T08:00:00Z",
            vec![
                photo("a1", 1, PhotoStatus::Done),
                photo("a2", 2, PhotoStatus::Queued),
            ],
        )];
        assert_eq!(plan(ME, &outbox), vec![put_photo("a", "a2"), finish("a")]);
        // Every photo stored: only the finishing step is left.
        let done = vec![visit(
            "a",
            VisitStatus::EvidencePending,
            "2026-01-01T08:00:00Z",
            vec![photo("a1", 1, PhotoStatus::Done)],
        )];
        assert_eq!(plan(ME, &done), vec![finish("a")]);
    }

    #[test]
    fn settled_visits_drafts_and_other_accounts_yield_nothing() {
        let queued_photo = || vec![photo("p", 1, PhotoStatus::Queued)];
        let mut other = visit(
            "o",
            VisitStatus::Queued,
            "2026-01-01T08:00:00Z",
            queued_photo(),
        );
        other.owner_user_id = "someone else".into();
        let mut unknown = visit(
            "u",
            VisitStatus::Queued,
            "2026-01-01T08:00:00Z",
            queued_photo(),
        );
        unknown.status = None;
        let outbox = vec![
            visit(
                "d",
                VisitStatus::Draft,
                "2026-01-01T08:00:00Z",
                queued_photo(),
            ),
            visit(
                "x",
                VisitStatus::Done,
                "2026-01-01T08:00:00Z",
                queued_photo(),
            ),
            visit(
                "c",
                VisitStatus::Conflict,
                "2026-01-01T08:00:00Z",
                queued_photo(),
            ),
            visit(
                "f",
                VisitStatus::Failed,
                "2026-01-01T08:00:00Z",
                queued_photo(),
            ),
            other,
            unknown,
        ];
        assert_eq!(plan(ME, &outbox), vec![]);
    }

    #[test]
    fn interrupted_requests_are_sent_again_refused_photos_are_not() {
        let outbox = vec![
            // The app died while this visit's PUT was in flight.
            visit("s", VisitStatus::Sending, "2026-01-01T08:00:00Z", vec![]),
            visit(
                "e",
                VisitStatus::EvidencePending,
                "2026-01-01T09:00:00Z",
                vec![
                    photo("e1", 1, PhotoStatus::Done),
                    photo("e2", 2, PhotoStatus::Sending),
                    photo("e3", 3, PhotoStatus::Conflict),
                    photo("e4", 4, PhotoStatus::Failed),
                    PlanPhoto {
                        id: "e5".into(),
                        seq: 5,
                        status: None,
                    },
                    photo("e6", 6, PhotoStatus::Queued),
                ],
            ),
        ];
        assert_eq!(
            plan(ME, &outbox),
            vec![
                put("s"),
                put_photo("e", "e2"),
                put_photo("e", "e6"),
                finish("s"),
                finish("e"),
            ]
        );
    }

    #[test]
    fn order_is_submission_time_then_id_and_photos_by_position() {
        let mut unsubmitted = visit("z", VisitStatus::Queued, "", vec![]);
        unsubmitted.submitted_at = None;
        let outbox = vec![
            visit(
                "c",
                VisitStatus::Queued,
                "2026-01-01T10:00:00Z",
                vec![
                    photo("c3", 3, PhotoStatus::Queued),
                    photo("c1", 1, PhotoStatus::Queued),
                    photo("c2", 2, PhotoStatus::Queued),
                ],
            ),
            visit("b", VisitStatus::Queued, "2026-01-01T08:00:00Z", vec![]),
            visit("a", VisitStatus::Queued, "2026-01-01T08:00:00Z", vec![]),
            unsubmitted,
        ];
        assert_eq!(
            plan(ME, &outbox),
            vec![
                // No submission time sorts first, as in SQLite.
                put("z"),
                put("a"),
                put("b"),
                put("c"),
                put_photo("c", "c1"),
                put_photo("c", "c2"),
                put_photo("c", "c3"),
                finish("z"),
                finish("a"),
                finish("b"),
                finish("c"),
            ]
        );
    }

    #[test]
    fn photos_wait_for_an_acknowledged_visit() {
        let outbox = vec![
            visit(
                "acked",
                VisitStatus::Queued,
                "2026-01-01T08:00:00Z",
                vec![photo("a1", 1, PhotoStatus::Queued)],
            ),
            visit(
                "refused",
                VisitStatus::Queued,
                "2026-01-01T09:00:00Z",
                vec![photo("r1", 1, PhotoStatus::Queued)],
            ),
            visit(
                "earlier",
                VisitStatus::EvidencePending,
                "2026-01-01T07:00:00Z",
                vec![photo("e1", 1, PhotoStatus::Queued)],
            ),
        ];
        let ops = plan(ME, &outbox);
        let acknowledged: HashSet<String> = ["earlier".to_string(), "acked".to_string()].into();
        assert_eq!(
            acknowledged_only(&ops, &acknowledged),
            vec![
                put_photo("earlier", "e1"),
                put_photo("acked", "a1"),
                finish("earlier"),
                finish("acked"),
            ]
        );
        // Nothing acknowledged (the visit PUTs failed): nothing after them.
        assert_eq!(acknowledged_only(&ops, &HashSet::new()), vec![]);
    }
}
